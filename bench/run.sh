#!/bin/bash
# bocker benchmarks, side by side with podman, runc, crun and the unshare+chroot floor.
#
#   bench/run.sh [FAMILY ...]     (make bench [BENCH=FAMILY])
#   families: run steps ps density commit exec registry build services network   (default: all of them)
#             density1000 = density with 1000 containers (or BENCH_DENSITY_N=1000)
#
# Everything lives in one temp dir (bocker store, podman storage and config, OCI bundle, runc/crun
# state) and is removed at exit, even on failure or Ctrl-C: bocker's store, bridge bkbench0, chains
# and cgroup parent, podman's containers, storage, bridge bkpod0 and netns, the registry process.
# Network: only loopback, bocker's bridge bkbench0 (10.240.0.0/16) and podman's bkpod0 (10.241.0.0/24);
# the network family: a bocker user network (10.228.240.0/24) and a podman one with DNS (10.228.241.0/24).
# Output: a Markdown table on stdout and bench/results/<date>.json.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
PY=/usr/bin/python3
ALL_FAMILIES="run steps ps density commit exec registry build services network"

log() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "bench: must run as root (namespaces, mounts, cgroups)" >&2; exit 1; }

families=()
for f in "$@"; do
    case "$f" in
        all) families+=($ALL_FAMILIES) ;;
        density1000) families+=(density); export BENCH_DENSITY_N=${BENCH_DENSITY_N:-1000} ;;
        run|steps|ps|density|commit|exec|registry|build|services network) families+=("$f") ;;
        *) echo "bench: unknown family '$f' (one of: $ALL_FAMILIES density1000)" >&2; exit 2 ;;
    esac
done
[ ${#families[@]} -gt 0 ] || families=($ALL_FAMILIES)

# --- tools (apt, only what is missing) --------------------------------------------------------
need=()
for p in podman buildah runc crun hyperfine skopeo docker-registry jq; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- private everything -----------------------------------------------------------------------
TMP=$(mktemp -d /tmp/bocker-bench.XXXXXX)
export BENCH_TMP=$TMP
export BOCKER_ROOT=$TMP/store
export BOCKER_BRIDGE=bkbench0
export BOCKER_SUBNET=10.240.0.0/16
export BOCKER_CGROUP_PARENT=bocker-bench
export BOCKER_STORE_SIZE=${BOCKER_STORE_SIZE:-10G}
unset BOCKER_TIMINGS
export BENCH_PODMAN_BRIDGE=bkpod0 BENCH_PODMAN_NET=bkbenchnet BENCH_PODMAN_SUBNET=10.241.0.0/24
export BENCH_REPO=$REPO BOCKER="$REPO/bocker.py"

# host state before, for the leak check and to know what the bench created
ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort > "$TMP/links.before"
ip netns list 2>/dev/null | awk '{print $1}' | sort > "$TMP/netns.before"
"$PY" "$HERE/cleanup_iptables.py" snapshot "$TMP/chains.before"
find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d 2>/dev/null | sort > "$TMP/cgroups.before"
# host paths that podman, netavark, runc and crun create whatever their configuration says
NEW_PATHS="/var/lib/containers /run/containers /run/runc /run/crun /run/libpod"
for p in $NEW_PATHS; do [ -e "$p" ] || echo "$p"; done > "$TMP/paths.absent"

# podman: storage, run dirs, networks and events under $TMP; never /etc/containers
P=$TMP/podman
mkdir -p "$P/graph" "$P/run" "$P/tmp" "$P/networks" "$P/volumes"
cat > "$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/graph"
runroot = "$P/run"
EOF
cat > "$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[network]
network_backend = "netavark"
network_config_dir = "$P/networks"
default_network = "$BENCH_PODMAN_NET"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
volume_path = "$P/volumes"
static_dir = "$P/graph/libpod"
EOF
# no search registries: a short name never leaves the host
cat > "$P/registries.conf" <<EOF
unqualified-search-registries = []
EOF
export CONTAINERS_STORAGE_CONF=$P/storage.conf CONTAINERS_CONF=$P/containers.conf
export CONTAINERS_REGISTRIES_CONF=$P/registries.conf

# is some other podman user on the host (a container, a build, a copy)? then shared state stays
others_active() {
    local p c
    for p in /proc/[0-9]*; do
        read -r c < "$p/comm" 2>/dev/null || continue
        case "$c" in conmon|podman|buildah|skopeo|netavark|aardvark-dns) return 0 ;; esac
    done
    return 1
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    log "cleaning up $TMP"
    cd /
    # registry started by the driver
    [ -f "$TMP/registry.pid" ] && kill "$(cat "$TMP/registry.pid")" 2>/dev/null
    # runc / crun leftovers (state only in our dirs)
    for c in $(runc --root "$TMP/runc" list -q 2>/dev/null); do runc --root "$TMP/runc" delete -f "$c"; done
    for c in $(crun --root "$TMP/crun" list -q 2>/dev/null); do
        unshare -m --propagation private sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; crun --root '$TMP/crun' delete -f '$c'"
    done
    # podman: containers, our network, then all its storage
    if command -v podman >/dev/null; then
        timeout 300 podman rm -a -f -t 0 >/dev/null 2>&1
        timeout 60 podman network rm -f "$BENCH_PODMAN_NET" >/dev/null 2>&1
        timeout 120 podman system reset -f >/dev/null 2>&1
    fi
    # bocker: containers, bridge, chains, cgroup parent, store
    if mountpoint -q "$BOCKER_ROOT" 2>/dev/null; then
        ids=$("$BOCKER" ps -aq --no-trunc 2>/dev/null)
        [ -n "$ids" ] && echo "$ids" | xargs -r -n 200 "$BOCKER" rm -f >/dev/null 2>&1
    fi
    "$BOCKER" teardown --store >/dev/null 2>&1 || log "bocker teardown --store failed"
    # kernel-path floor leftovers (bench/kernel-path.sh)
    ip netns del bkkp 2>/dev/null
    for c in /sys/fs/cgroup/*/bocker-bench-kp /sys/fs/cgroup/*/bocker-bench; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # network devices the bench made: veths on our bridges, then the bridges (never anything else)
    for br in "$BENCH_PODMAN_BRIDGE" "$BOCKER_BRIDGE"; do
        grep -qx "$br" "$TMP/links.before" && continue
        for dev in $(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
            grep -qx "$dev" "$TMP/links.before" || ip link del "$dev"
        done
        ip link show "$br" >/dev/null 2>&1 && ip link del "$br"
    done
    ip link show bkkp0 >/dev/null 2>&1 && ! grep -qx bkkp0 "$TMP/links.before" && ip link del bkkp0
    # Shared podman state (netavark's generic chains, /run/containers/networks/ipam.db, the
    # libpod_parent cgroups, blob-info cache) is removed only when it appeared during the bench and
    # no other podman user is active on the host: netavark and podman recreate it when needed.
    shared=yes
    if others_active; then
        shared=no
        log "note: another podman/conmon/skopeo is running on the host: shared podman state is left alone"
    fi
    # netns podman made (netns-<uuid>) that are still there
    [ $shared = yes ] && for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^netns-'); do
        grep -qx "$ns" "$TMP/netns.before" || ip netns del "$ns"
    done
    # iptables chains that appeared during the bench and belong to netavark or to our bridge
    "$PY" "$HERE/cleanup_iptables.py" clean "$TMP/chains.before" "$BOCKER_BRIDGE" $shared
    # cgroups podman/runc/crun created (libpod_parent, bkbench-*), only if new and empty
    find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d 2>/dev/null | sort > "$TMP/cgroups.after"
    pat='bkbench-[a-z]+|bocker-bench[a-z-]*'
    [ $shared = yes ] && pat="libpod_parent|$pat"
    comm -13 "$TMP/cgroups.before" "$TMP/cgroups.after" | grep -E "/($pat)\$" |
        while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    # paths the tools made outside our dirs (containers/image's blob-info cache in
    # /var/lib/containers/cache, netavark's /run/containers/networks/ipam.db, empty runc/crun state
    # dirs): removed only if the bench made them and they hold nothing else
    [ $shared = yes ] && while read -r p; do
        [ -d "$p" ] || continue
        left=$(find "$p" -mindepth 1 ! -type d ! -name blob-info-cache-v1.boltdb ! -name ipam.db | head -1)
        if [ -z "$left" ]; then rm -rf "$p"
        else log "note: $p appeared during the bench and holds $left: not removed"; fi
    done < "$TMP/paths.absent"
    # anything still mounted under $TMP (podman's overlay home, the store), deepest first
    awk -v t="$TMP" '$2 == t || index($2, t "/") == 1 {print $2}' /proc/mounts | sort -r |
        while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
    # leak check: anything of the bench's still there?
    leaks=$( { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^(bkbench0|bkpod0|bkkp0)$'
               ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^bkkp$' 
               ip netns list 2>/dev/null | awk '{print $1}' | grep '^netns-' | grep -vxFf "$TMP/netns.before" 2>/dev/null
               iptables-save 2>/dev/null | grep -E "^:(NETAVARK|BOCKER[A-Z-]*-$BOCKER_BRIDGE)" 
               grep -F "$TMP" /proc/mounts
               find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d \( -name bocker-bench\* -o -name bkbench-\* \) 2>/dev/null
             } | sort -u)
    if awk -v t="$TMP" '$2 == t || index($2, t "/") == 1 {f=1} END {exit !f}' /proc/mounts; then
        log "still mounted under $TMP: leaving it for inspection"
    else
        rm -rf "$TMP"   # the store loop file is $TMP/store.btrfs
    fi
    [ -z "$leaks" ] || { log "LEAK CHECK: still present after cleanup:"; echo "$leaks" | sed 's/^/  /' >&2; }
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- bocker's private host setup ------------------------------------------------------------
log "bocker setup (store $BOCKER_ROOT, bridge $BOCKER_BRIDGE)"
"$BOCKER" setup >/dev/null

mkdir -p "$HERE/results"
"$PY" "$HERE/bench.py" "${families[@]}"

# Shared by every bats file: `load helpers`.
#
# Each file gets a private store: a btrfs loop file under its own temp dir, its own bridge,
# subnet and cgroup parent, made in setup_file by `bk_store_setup TAG OCTET` and removed in
# teardown_file by `bk_store_teardown`, which also works after a failed or half-done setup.
# Nothing here touches anything the tests did not create.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BOCKER="$REPO/bocker.py"
V1_CONTROLLERS="memory cpu pids freezer devices cpuset cpuacct blkio"
# An image that is in no store: `run` would pull a missing image, so its name points at a
# registry on loopback where nothing listens (no test traffic leaves the host).
BK_NO_IMAGE=127.0.0.1:9/bocker-test-nosuch:1

bocker() {
    "$BOCKER" "$@"
}

# bk_store_vars PREFIX TAG OCTET: set PREFIX_ROOT, _BRIDGE, _SUBNET, _NET (a.b.c), _PARENT, _TMP
# for a store in 10.OCTET.R.0/24 (R random, so two runs of the suite on one host rarely meet).
bk_store_vars() {
    local prefix=$1 tag=$2 octet=$3 rand third tmp
    rand=$(printf '%04x' $((RANDOM % 65536)))
    third=$((RANDOM % 250 + 1))
    tmp=$(mktemp -d "/tmp/bocker-bats-$tag.XXXXXX")
    printf -v "${prefix}_TMP" '%s' "$tmp"
    printf -v "${prefix}_ROOT" '%s' "$tmp/root"
    printf -v "${prefix}_BRIDGE" '%s' "bkt${tag:0:6}$rand"
    printf -v "${prefix}_NET" '%s' "10.$octet.$third"
    printf -v "${prefix}_SUBNET" '%s' "10.$octet.$third.0/24"
    printf -v "${prefix}_PARENT" '%s' "bocker-test-$tag-$rand"
}

# bk_store_setup TAG OCTET: make the file's store, export its environment, run `bocker setup`.
bk_store_setup() {
    bk_store_vars BK "$1" "$2"
    export BOCKER_ROOT=$BK_ROOT BOCKER_BRIDGE=$BK_BRIDGE BOCKER_SUBNET=$BK_SUBNET
    export BOCKER_CGROUP_PARENT=$BK_PARENT BOCKER_STORE_SIZE=${BOCKER_STORE_SIZE:-1G}
    export BK_TMP BK_NET BK_GATEWAY=$BK_NET.1
    unset BOCKER_CGROUP_ROOT BOCKER_TIMINGS
    ip netns list 2>/dev/null | awk '{print $1}' | sort > "$BK_TMP/netns.before"
    bocker setup
}

# bk_store_teardown [ROOT BRIDGE PARENT TMP]: remove everything a store made, even half-made.
bk_store_teardown() {
    local root=${1:-${BK_ROOT:-}} bridge=${2:-${BK_BRIDGE:-}} parent=${3:-${BK_PARENT:-}}
    local tmp=${4:-${BK_TMP:-}} pid ids
    [ -n "$root" ] && [ -n "$bridge" ] && [ -n "$parent" ] && [ -n "$tmp" ] || return 0
    # background `bocker run`s this file started (their pids only)
    if [ -f "$tmp/bg.pids" ]; then
        while read -r pid; do
            kill "$pid" 2>/dev/null
        done < "$tmp/bg.pids"
    fi
    (
        export BOCKER_ROOT=$root BOCKER_BRIDGE=$bridge BOCKER_CGROUP_PARENT=$parent
        if mountpoint -q "$root"; then
            ids=$("$BOCKER" ps -aq --no-trunc 2>/dev/null)
            [ -z "$ids" ] || "$BOCKER" rm -f $ids >/dev/null 2>&1
        fi
        "$BOCKER" teardown --store >/dev/null 2>&1
    )
    # safety nets, each only for this store's own objects
    bk_remove_user_networks "$root"
    if [ -f "$tmp/bg.pids" ]; then
        while read -r pid; do
            kill -9 "$pid" 2>/dev/null
        done < "$tmp/bg.pids"
    fi
    bk_remove_chains "$bridge"
    if ip link show "$bridge" >/dev/null 2>&1; then
        ip link del "$bridge"
    fi
    bk_remove_cgroups "$parent"
    if mountpoint -q "$root"; then
        umount "$root" 2>/dev/null || umount -l "$root"
    fi
    if ! mountpoint -q "$root"; then
        rm -rf "$tmp"
    fi
    return 0
}

# The user networks of a store (their records name them): dnsmasq by its pid file, chains, bridge.
bk_remove_user_networks() {
    local root=$1 rec bridge pid dir
    for rec in "$root"/networks/*.json; do
        [ -f "$rec" ] && bridge=$(jq -r '.Options["com.docker.network.bridge.name"] // empty' "$rec") || continue
        [ -n "$bridge" ] || continue
        dir=${rec%.json}.d
        pid=$(cat "$dir/dnsmasq.pid" 2>/dev/null)
        if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--pid-file=$dir/dnsmasq.pid"; then
            kill "$pid"
        fi
        bk_remove_chains "$bridge"
        if ip link show "$bridge" >/dev/null 2>&1; then
            ip link del "$bridge"
        fi
    done
    return 0
}

# The jumps to this bridge's chains and the chains themselves (never a built-in chain's rules).
bk_remove_chains() {
    local bridge=$1 table line chain
    local -a words
    for table in nat filter; do
        iptables-save -t "$table" 2>/dev/null |
            grep -E -- "^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD) .*-j BOCKER-(POST-|FWD-)?$bridge\$" |
            while read -r -a words; do
                iptables -w -t "$table" -D "${words[@]:1}"
            done
        for chain in "BOCKER-$bridge" "BOCKER-POST-$bridge" "BOCKER-FWD-$bridge"; do
            if iptables -w -t "$table" -n -L "$chain" >/dev/null 2>&1; then
                iptables -w -t "$table" -F "$chain"
                iptables -w -t "$table" -X "$chain"
            fi
        done
    done
}

# Kill what is left in this store's cgroups (our containers), then remove the directories.
bk_remove_cgroups() {
    local parent=$1 dir pid
    for dir in $(bk_cgroup_parents "$parent"); do
        [ -d "$dir" ] || continue
        for pid in $(cat "$dir"/*/cgroup.procs 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null
        done
        find "$dir" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null
        rmdir "$dir" 2>/dev/null
    done
    return 0
}

# Per-test teardown: remove every container of this store (running ones too), so that a
# failed test does not leave a container that makes the next tests fail.
bk_rm_all() {
    local ids
    ids=$("$BOCKER" ps -aq --no-trunc 2>/dev/null) || return 0
    [ -z "$ids" ] || "$BOCKER" rm -f $ids >/dev/null 2>&1
    return 0
}

# The limits tests read cgroup v1 files (this project's CI host is v1 hybrid); v2 is in pytest.
bk_require_cgroup_v1() {
    [ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "cgroup v2 host: v1 files checked here"
}

# Per-test teardown for files that make volumes: remove every volume of this store.
bk_rm_all_volumes() {
    local v
    for v in $("$BOCKER" volume ls -q 2>/dev/null); do
        "$BOCKER" volume rm -f "$v" >/dev/null 2>&1 || true
    done
    return 0
}

# wait_for CMD...: poll a command for 10 s at most
wait_for() {
    local i
    for i in $(seq 200); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# wait_until CMD...: poll a command for 30 s at most (restarts and health checks take a while on
# a loaded host)
wait_until() {
    local i
    for i in $(seq 300); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# inspect FILTER NAME: one value of a container's record
inspect() {
    bocker inspect --format "$1" "$2"
}

# free_port [udp]: a host port nothing uses (tcp, or udp), on every address
free_port() {
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("0.0.0.0", 0))
print(s.getsockname()[1])' "${1:-tcp}"
}

# bk_fetch NETWORK NAME: GET / from port 8000 of NAME, from a new container on NETWORK: the page's
# last line (nc, not busybox wget: this busybox's wget crashes, even on an address)
bk_fetch() {
    bocker run --rm --network "$1" busybox sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $2 8000 | tail -n 1"
}

bk_fetch_is() {
    [ "$(bk_fetch "$1" "$2")" = "$3" ]
}

# bk_web NAME RUN-ARGS...: a detached web server answering on port 8000 with hello-NAME
bk_web() {
    bk_bg "$1" "${@:2}" busybox sh -c "mkdir /w && echo hello-$1 > /w/index.html && httpd -f -p 8000 -h /w"
}

# --- assertions about what a container left behind -------------------------------------

# nothing was created: no container in the store
assert_nothing_created() {
    run bocker ps -aq
    assert_success
    assert_output ''
}

# Container cgroups under this store's parent (one line per directory; empty when clean).
bk_cgroup_dirs() {
    local dir
    for dir in $(bk_cgroup_parents "$BOCKER_CGROUP_PARENT"); do
        [ -d "$dir" ] && find "$dir" -mindepth 1 -type d
    done
    return 0
}

# The parent cgroup directories of a store: one per v1 controller, or the one v2 directory.
bk_cgroup_parents() {
    local c
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        echo "/sys/fs/cgroup/$1"
    else
        for c in $V1_CONTROLLERS; do
            echo "/sys/fs/cgroup/$c/$1"
        done
    fi
}

# Interfaces enslaved to this store's bridge (the host ends of veth pairs).
bk_bridge_ports() {
    ip -o link show master "$BOCKER_BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
}

# Addresses leased in this store's IPAM file.
bk_leases() {
    local d=$BOCKER_ROOT/networks/$BOCKER_BRIDGE.d/leases
    [ -d "$d" ] && ls "$d"
    return 0
}

# No cgroup, veth, lease or named netns left by containers that have exited.
bk_assert_clean() {
    run bk_cgroup_dirs
    assert_output ''
    run bk_bridge_ports
    assert_output ''
    run bk_leases
    assert_output ''
    # named netns that appeared since setup_file (podman's netns-<uuid>, made by whoever runs
    # podman on this host meanwhile, are not ours: bocker never names its namespaces)
    run bash -c "ip netns list | awk '{print \$1}' | sort | comm -13 '$BK_TMP/netns.before' - |
                 grep -Ev '^netns-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\$'"
    assert_output ''
}

# --- background containers ---------------------------------------------------------------

# bk_bg NAME RUN-ARGS...: `bocker run --name NAME RUN-ARGS...` in the background (output in
# $BK_TMP/NAME.out, exit code in $BK_TMP/NAME.rc); returns when the container is running.
bk_bg() {
    local name=$1
    shift
    (
        rc=0  # (bats runs tests with set -e)
        "$BOCKER" run --name "$name" "$@" > "$BK_TMP/$name.out" 2>&1 || rc=$?
        echo $rc > "$BK_TMP/$name.rc"
    ) >/dev/null 2>&1 3>&- &
    echo $! >> "$BK_TMP/bg.pids"
    bk_wait_status "$name" running
}

# bk_wait_status NAME STATUS: poll `inspect` (10 s at most).
bk_wait_status() {
    local i
    for i in $(seq 200); do
        [ "$("$BOCKER" inspect --format '.[0].State.Status' "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.05
    done
    echo "container $1 did not become $2" >&2
    return 1
}

# bk_bg_wait NAME: wait (10 s at most) for a background run to end; prints its exit code.
bk_bg_wait() {
    local i
    for i in $(seq 200); do
        if [ -f "$BK_TMP/$1.rc" ]; then
            cat "$BK_TMP/$1.rc"
            return 0
        fi
        sleep 0.05
    done
    echo "background run $1 did not end" >&2
    return 1
}

# Full id of a container.
bk_id() {
    bocker inspect --format '.[0].Id' "$1"
}

# stderr of a bocker error: one line "bocker: ...", never a traceback. Usage after
# `run --separate-stderr`: bk_assert_error_line [REGEX]. (A failed pull of a missing image
# is preceded by docker's "Unable to find image 'X' locally": bk_assert_pull_error.)
bk_assert_error_line() {
    local first
    first=$(printf '%s\n' "$stderr" | head -n 1)
    [[ "$first" == "bocker: "* ]] || fail "stderr does not start with 'bocker: ': $stderr"
    [[ "$stderr" != *Traceback* ]] || fail "a traceback on stderr: $stderr"
    [[ "$stderr" != *"internal error"* ]] || fail "an internal error (a bug), not a user error: $stderr"
    if [ -n "${1:-}" ]; then
        [[ "$first" =~ $1 ]] || fail "stderr '$first' does not match /$1/"
    fi
}

# A run of a missing image: docker's "Unable to find image" line, then one "bocker: " line.
bk_assert_pull_error() {
    [[ "${stderr_lines[0]}" == "Unable to find image '$BK_NO_IMAGE' locally" ]] ||
        fail "no 'Unable to find image' line: $stderr"
    [ "${#stderr_lines[@]}" = 2 ] || fail "more than one error line: $stderr"
    [[ "${stderr_lines[1]}" == "bocker: "* ]] || fail "no 'bocker: ' line: $stderr"
    [[ "$stderr" != *Traceback* ]] || fail "a traceback: $stderr"
}

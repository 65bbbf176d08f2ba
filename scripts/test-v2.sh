#!/bin/bash
# `make test-v2`: bats families on a real cgroup v2 kernel, in a TCG guest (this host is v1 hybrid).
#
#   scripts/test-v2.sh [BATS-FILE...]      # default: $V2_BATS, else the v2-relevant set below
#   V2_TAGS=smoke scripts/test-v2.sh       # only the tests tagged smoke (bats --filter-tags)
#
# 1. Cache (never in the repo): $V2_CACHE, default ${XDG_CACHE_HOME:-/var/cache}/bocker-test-v2.
#    Debian's kernel package (apt-get download; not installed) is unpacked there with dpkg -x,
#    depmod'ed, and a small busybox initramfs gets the modules needed to reach the root
#    (virtio_pci, 9p, 9pnet_virtio, overlay and their dependencies, per modprobe --show-depends).
# 2. Boot: qemu-system-x86_64 -accel tcg (a guest kernel hangs under this machine kind's KVM),
#    -nic none, cgroup_no_v1=all. The initramfs mounts the host's / read-only (virtfs) under an
#    overlay with a tmpfs upper, binds the cached modules at /lib/modules/VERSION and
#    switch_root's into tests/v2/guest-run.sh, which mounts a pure cgroup2 tree, loads the rest
#    (loop, btrfs, veth, bridge, nf_tables...) and runs the bats files (stores on loop files in the
#    guest's own /tmp). The guest powers itself off.
# 3. Result: the guest's last console line "BOCKER-V2-RESULT <rc>"; this script exits with rc
#    (1 if the line is missing: a crash, or the guest was killed after $V2_TIMEOUT seconds).
#    The console is also kept in $V2_CACHE/last-run.log. Nothing else is left on the host.
set -u
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${V2_CACHE:-${XDG_CACHE_HOME:-/var/cache}/bocker-test-v2}
timeout_s=${V2_TIMEOUT:-1800}
mem=${V2_MEM:-2G}
smp=${V2_SMP:-2}
default_bats="tests/bats/cgroupv2.bats"

die() { echo "test-v2: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the guest runs the bats suite as root; the cache is shared)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (make test-v2 installs qemu-system-x86)"
[ -x /bin/busybox ] || die "/bin/busybox (busybox-static) missing"

if [ $# -gt 0 ]; then
    bats_files=("$@")
else
    read -r -a bats_files <<< "${V2_BATS:-$default_bats}"
fi
for f in "${bats_files[@]}"; do
    [ -e "$repo/$f" ] || die "no such bats file in $repo: $f"
done
case "$repo" in *" "* | *,*) die "the checkout's path has a space or comma: $repo";; esac
case "${V2_TAGS:-}" in *" "*) die "V2_TAGS is one bats tag list (a,b), without spaces";; esac

# --- the kernel, its modules and the initramfs (cached per kernel package) ---------------------
kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=${V2_KERNEL_PKG:-$(kernel_pkg)}
if [ -z "$pkg" ]; then  # a machine whose package lists were never fetched
    apt-get update -qq 2>/dev/null
    pkg=$(kernel_pkg)
fi
[ -n "$pkg" ] || die "no linux-image-*-amd64 package known to apt (apt-get update failed?)"
kver=${pkg#linux-image-}
kdir=$cache/$kver
mkdir -p "$cache"
exec 9> "$cache/.lock"
flock 9 || die "cannot lock $cache"
build_t0=$(date +%s)
if [ ! -f "$kdir/.done" ]; then
    echo "test-v2: preparing $pkg in $kdir (once)"
    rm -rf "$kdir"
    mkdir -p "$kdir/dl" "$kdir/root"
    (cd "$kdir/dl" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
        die "apt-get download $pkg failed"
    dpkg -x "$kdir"/dl/*.deb "$kdir/root" || die "dpkg -x failed"
    rm -rf "$kdir/dl"
    depmod -b "$kdir/root" "$kver" || die "depmod failed"
    [ -f "$kdir/root/boot/vmlinuz-$kver" ] || die "no vmlinuz in $pkg"
    touch "$kdir/.done"
fi
initrd=$kdir/initrd-$(sha1sum "$repo/tests/v2/guest-init.sh" | cut -c1-12).cpio.gz
if [ ! -f "$initrd" ]; then
    rm -f "$kdir"/initrd-*.cpio.gz
    ird=$(mktemp -d "$kdir/initrd.XXXXXX")
    mkdir -p "$ird"/{bin,dev,proc,sys,newroot,modules}
    cp /bin/busybox "$ird/bin/busybox"
    cp "$repo/tests/v2/guest-init.sh" "$ird/init"
    chmod 755 "$ird/init"
    : > "$ird/modules/order"
    for m in virtio_pci virtio_blk 9pnet_virtio 9p overlay; do
        modprobe -d "$kdir/root" -S "$kver" --show-depends "$m" || die "module $m not in $pkg"
    done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
        name=$(basename "$ko")
        case "$name" in
            *.xz) xz -dc "$ko" > "$ird/modules/${name%.xz}"; name=${name%.xz};;
            *.zst) zstd -qdc "$ko" > "$ird/modules/${name%.zst}"; name=${name%.zst};;
            *) cp "$ko" "$ird/modules/$name";;
        esac
        echo "$name" >> "$ird/modules/order"
    done
    (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp" && mv "$initrd.tmp" "$initrd"
    rm -rf "$ird"
fi
exec 9>&-
echo "test-v2: kernel $kver ready ($(( $(date +%s) - build_t0 ))s)"

# --- boot ---------------------------------------------------------------------------------------
log=$cache/last-run.log
list=$(IFS=,; echo "${bats_files[*]}")
cmdline="console=ttyS0 panic=-1 quiet loglevel=${V2_LOGLEVEL:-4} cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
cmdline+=" v2repo=$repo v2kver=$kver v2bats=$list v2modules=$kdir/root/lib/modules/$kver"
[ -z "${V2_TAGS:-}" ] || cmdline+=" v2tags=$V2_TAGS"
[ -z "${V2_SHELL:-}" ] || cmdline+=" v2shell=1"
[ -z "${V2_SCRIPT:-}" ] || cmdline+=" v2script=$(realpath "$V2_SCRIPT")"
qemu_pid=
cleanup() {
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid" 2>/dev/null
        sleep 1
        kill -9 "$qemu_pid" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "test-v2: booting ($mem, $smp vcpus, TCG), bats: ${bats_files[*]}${V2_TAGS:+ (tags $V2_TAGS)}; console in $log"
t0=$(date +%s)
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp "$smp" -nographic -nic none -no-reboot
      -kernel "$kdir/root/boot/vmlinuz-$kver" -initrd "$initrd" -append "$cmdline"
      -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap")
if [ -n "${V2_SHELL:-}" ]; then
    "${qemu[@]}"  # interactive: a shell in the guest instead of the run
    exit $?
fi
"${qemu[@]}" < /dev/null > "$log" 2>&1 &
qemu_pid=$!
# follow the console while it runs (without the kernel's CRs)
tail -n +1 -f --pid="$qemu_pid" "$log" | sed -u 's/\r$//' &
tail_pid=$!
deadline=$(( t0 + timeout_s ))
while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "test-v2: the guest did not power off within ${timeout_s}s: killing qemu ($qemu_pid)" >&2
        cleanup
        break
    fi
    sleep 1
done
wait "$qemu_pid" 2>/dev/null
qemu_pid=
wait "$tail_pid" 2>/dev/null
elapsed=$(( $(date +%s) - t0 ))
rc=$(tr -d '\r' < "$log" | grep -ao 'BOCKER-V2-RESULT [0-9]*' | awk 'END { print $2 }')
boot=$(tr -d '\r' < "$log" | grep -ao 'BOCKER-V2-BOOTED [0-9.]*' | awk '{ print $2; exit }')
if [ -z "$rc" ]; then
    echo "test-v2: FAILED: no result from the guest (crashed or killed), ${elapsed}s; see $log" >&2
    exit 1
fi
echo "test-v2: guest exit code $rc: $([ "$rc" = 0 ] && echo passed || echo FAILED)" \
     "(guest up and chrooted in ${boot:-?}s, whole run ${elapsed}s)"
exit "$rc"

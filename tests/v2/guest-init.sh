#!/bin/busybox sh
# /init of the test-v2 initramfs (busybox): reach the host's / and switch_root into
# tests/v2/guest-run.sh. The kernel passes v2repo, v2kver, v2bats, v2modules (the cached,
# depmod'ed modules tree, seen through the host's /) as environment variables.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() {
    echo "guest-init: $*"
    echo "BOCKER-V2-RESULT 125"
    echo o > /proc/sysrq-trigger
    sleep 10
}
for m in $(cat /modules/order); do
    insmod "/modules/$m" || fail "insmod $m"
done
mkdir -p /lower /rw
# the host's root, read-only; cache=loose is safe for a tree nothing writes to meanwhile
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /lower ||
    fail "mount 9p hostroot"
mount -t tmpfs -o size=1200m,mode=755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
    fail "mount overlay"
mkdir -p "/newroot/lib/modules/$v2kver"
mount --bind "/newroot$v2modules" "/newroot/lib/modules/$v2kver" || fail "bind the modules"
for d in proc sys dev; do
    mount --move "/$d" "/newroot/$d"
done
if [ -n "${v2shell:-}" ]; then
    exec switch_root /newroot /bin/bash -c "cd $v2repo; v2shell=1 exec tests/v2/guest-run.sh"
fi
exec switch_root /newroot /bin/bash "$v2repo/tests/v2/guest-run.sh"

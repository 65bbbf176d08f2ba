#!/bin/bash
# pid 1 of the test-v2 guest, in the host's userland (9p, read-only, under a tmpfs overlay):
# a pure cgroup v2 tree, the modules bocker needs, then the bats files in $v2bats inside the
# leak check. Its last console line is "BOCKER-V2-RESULT <rc>"; then it powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
booted=$(cut -d' ' -f1 /proc/uptime)
rc=125
finish() {
    echo
    echo "BOCKER-V2-RESULT $rc"
    sync
    echo o > /proc/sysrq-trigger
    sleep 30
}
trap finish EXIT
set -u

mount -t tmpfs -o mode=1777,size=1200m tmp /tmp
mount -t tmpfs -o mode=755 run /run
mkdir -p /dev/pts /dev/shm /dev/mqueue
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
ln -sfn pts/ptmx /dev/ptmx
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
hostname bocker-v2-guest
ip link set lo up
for m in loop btrfs veth bridge br_netfilter nf_tables nft_compat nft_chain_nat nf_nat nf_conntrack \
         xt_MASQUERADE xt_conntrack xt_addrtype xt_nat xt_comment xt_tcpudp xt_mark xt_multiport \
         iptable_nat iptable_filter ip6table_filter overlay; do
    modprobe -q "$m" || echo "guest-run: modprobe $m failed"
done
echo
echo "BOCKER-V2-BOOTED $(cut -d" " -f1 /proc/uptime) (pid 1 at ${booted}s, then mounts and modules)"
echo "guest: $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

cd "$v2repo" || exit
if [ -n "${v2shell:-}" ]; then
    trap - EXIT
    bash -i
    rc=$?
    finish
fi
if [ -n "${v2script:-}" ]; then  # V2_SCRIPT: a host file run instead of the bats files (debugging)
    bash -x "$v2script"
    rc=$?
    exit
fi
IFS=, read -r -a files <<< "$v2bats"
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
snap=/tmp/v2-leakcheck.state
tests/leakcheck.sh snapshot "$snap"
t0=$(cut -d' ' -f1 /proc/uptime)
bats --tap --timing ${v2tags:+--filter-tags "$v2tags"} "${files[@]}"
bats_rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
leak_rc=0
tests/leakcheck.sh compare "$snap" || leak_rc=$?
echo "guest: bats ${files[*]}: rc $bats_rc in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s; leak check rc $leak_rc"
rc=$(( bats_rc != 0 ? bats_rc : leak_rc ))
exit $rc

#!/bin/sh
# The kernel path of a bridge `run --rm IMAGE true`, by hand: the floor under bocker's own driver.
#   kernel-path.sh IMAGE_ROOTFS
# snapshot -> netns + veth (made directly inside it) on $BOCKER_BRIDGE -> /etc files -> cgroup ->
# unshare (pid, mount, uts, ipc) with a tiny Python init (chroot + exec) -> teardown.
# Uses a fixed name (bkkp) and address (.255.250 of BOCKER_SUBNET /16): one run at a time.
set -eu
img=$1
dir=$BOCKER_ROOT/bench-kp
root=$dir/rootfs
ns=bkkp
cg=bocker-bench-kp
net=${BOCKER_SUBNET%.*.*}        # 10.240
mkdir -p "$dir"

btrfs -q subvolume snapshot "$img" "$root" >/dev/null
ip netns add $ns
ip -batch - <<EOF
link add bkkp0 type veth peer name eth0 netns $ns
link set bkkp0 master $BOCKER_BRIDGE up
EOF
ip -n $ns -batch - <<EOF
addr add $net.255.250/16 dev eth0
link set eth0 up
link set lo up
route add default via $net.0.1
EOF
echo bkkp > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n%s\tbkkp\n' "$net.255.250" > "$root/etc/hosts"
for c in cpu memory pids; do mkdir -p /sys/fs/cgroup/$c/$cg; done
status=0
sh -c 'for c in cpu memory pids; do echo $$ > /sys/fs/cgroup/$c/'$cg'/cgroup.procs; done
       exec nsenter --net=/run/netns/'$ns' unshare -fpmui --mount-proc /usr/bin/python3 -I -S -c "
import os, socket
os.chroot(\"'"$root"'\"); os.chdir(\"/\"); socket.sethostname(\"bkkp\")
os.execv(\"/bin/true\", [\"true\"])"' || status=$?

ip netns del $ns
for c in cpu memory pids; do rmdir /sys/fs/cgroup/$c/$cg; done
btrfs -q subvolume delete "$root" >/dev/null
exit $status

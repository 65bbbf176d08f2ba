#!/bin/sh
# Undo scripts/setup-host.sh: bocker's chains, its bridge, and (with --store) the store's mount.
# Only bocker's own chains are flushed and deleted; the host's rules are left as they are.
set -u
root=${BOCKER_ROOT:-/var/bocker}
bridge=${BOCKER_BRIDGE:-bocker0}
what=${1:-}

unjump() {  # remove every jump from a built-in chain to one of bocker's chains
    table=$1 builtin=$2; shift 2
    while iptables -w -t "$table" -C "$builtin" "$@" 2>/dev/null; do
        iptables -w -t "$table" -D "$builtin" "$@"
    done
}
unjump nat POSTROUTING -j "BOCKER-POST-$bridge"
unjump nat PREROUTING -m addrtype --dst-type LOCAL -j "BOCKER-$bridge"
unjump nat OUTPUT -m addrtype --dst-type LOCAL -j "BOCKER-$bridge"
unjump filter FORWARD -j "BOCKER-FWD-$bridge"
for spec in "nat BOCKER-POST-$bridge" "nat BOCKER-$bridge" "filter BOCKER-FWD-$bridge"; do
    set -- $spec
    if iptables -w -t "$1" -n -L "$2" >/dev/null 2>&1; then
        iptables -w -t "$1" -F "$2"
        iptables -w -t "$1" -X "$2"
    fi
done

[ -e "/sys/class/net/$bridge" ] && ip link del "$bridge" type bridge

if [ "$what" = --store ] && mountpoint -q "$root" && [ -e "$root.btrfs" ]; then
    umount "$root"   # the loop device goes with it (mount -o loop sets autoclear)
fi
echo "bocker host state removed (bridge $bridge)"

#!/bin/sh
# Prepare a host for bocker by hand, step by step: what `bocker setup` does.
# Uses the same settings as bocker: BOCKER_ROOT, BOCKER_BRIDGE, BOCKER_SUBNET, BOCKER_STORE_SIZE.
set -eu
root=${BOCKER_ROOT:-/var/bocker}
bridge=${BOCKER_BRIDGE:-bocker0}
subnet=${BOCKER_SUBNET:-10.201.0.0/16}
size=${BOCKER_STORE_SIZE:-10G}
prefix=${subnet#*/}
# the gateway is the subnet's first address: network address + 1
gateway=${subnet%/*}; gateway=${gateway%.*}.$(( ${gateway##*.} + 1 ))

# 1. the store: a btrfs filesystem (in a sparse loop file unless BOCKER_ROOT already is btrfs)
mkdir -p "$root"
if [ "$(stat -f -c %T "$root")" != btrfs ]; then
    [ -e "$root.btrfs" ] || { truncate -s "$size" "$root.btrfs"; mkfs.btrfs -q "$root.btrfs" >/dev/null; }
    mount -o loop,nodev,nosuid "$root.btrfs" "$root"   # device nodes and setuid files inert here
fi
for d in images layers containers volumes networks names; do mkdir -p "$root/$d"; done

# 2. the bridge the containers' veth pairs plug into; its address is their default gateway
if [ ! -e "/sys/class/net/$bridge" ]; then
    ip link add "$bridge" type bridge
    ip addr add "$gateway/$prefix" dev "$bridge"
    ip link set "$bridge" up
fi

# 3. routing between the bridge and the world
sysctl -q -w net.ipv4.ip_forward=1

# 4. bocker's own iptables chains (never the host's): NAT out, port publishing in, forwarding
if ! iptables -w -t nat -n -L "BOCKER-POST-$bridge" >/dev/null 2>&1; then
    iptables -w -t nat -N "BOCKER-POST-$bridge"
    iptables -w -t nat -A "BOCKER-POST-$bridge" -s "$subnet" ! -o "$bridge" -j MASQUERADE
    iptables -w -t nat -I POSTROUTING -j "BOCKER-POST-$bridge"
    iptables -w -t nat -N "BOCKER-$bridge"
    iptables -w -t nat -I PREROUTING -m addrtype --dst-type LOCAL -j "BOCKER-$bridge"
    iptables -w -t nat -I OUTPUT -m addrtype --dst-type LOCAL -j "BOCKER-$bridge"
    iptables -w -t filter -N "BOCKER-FWD-$bridge"
    iptables -w -t filter -A "BOCKER-FWD-$bridge" -i "$bridge" -j ACCEPT
    iptables -w -t filter -A "BOCKER-FWD-$bridge" -o "$bridge" -j ACCEPT
    iptables -w -t filter -I FORWARD -j "BOCKER-FWD-$bridge"
fi
echo "bocker host ready: store $root, bridge $bridge ($gateway/$prefix)"

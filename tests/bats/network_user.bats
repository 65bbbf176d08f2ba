#!/usr/bin/env bats
# User-defined networks: network create, ls, inspect, rm, prune; their bridges, chains and DNS server.
# Subnets 10.243.x.0/24 (the store) and 10.244.x.0/24 (its networks); bridges named bkt*.
# Traffic only to the store's own bridge addresses and its containers.

load helpers

setup_file() {
    BK_NPREFIX=bkt$(printf '%04x' $((RANDOM % 65536)))u
    BK_POOL_THIRD=$((RANDOM % 200 + 1))
    export BOCKER_NETWORK_PREFIX=$BK_NPREFIX BK_NPREFIX
    # a pool of a few /24s of 10.244: the free one is picked from there
    export BOCKER_NETWORK_POOL=10.244.$BK_POOL_THIRD.0/22 BK_POOL_THIRD
    bk_store_setup netu 243
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    for n in $(bocker network ls -q --filter name=t- 2>/dev/null); do
        bocker network rm "$n" >/dev/null 2>&1 || true
    done
}

# the bridge of a network, from its record
net_bridge() {
    bocker network inspect --format '.[0].Options["com.docker.network.bridge.name"]' "$1"
}

@test "network ls lists bridge, host and none before any user network" {
    run bocker network ls --format '.Name'
    assert_success
    assert_output "$(printf 'bridge\nhost\nnone')"
    run bocker network ls
    assert_line --index 0 --regexp '^NETWORK ID +NAME +DRIVER +SCOPE$'
}

@test "network create picks a free /24 of the pool, makes its bridge with the gateway and chains" {
    run bocker network create --label team=a t-back
    assert_success
    assert_output --regexp '^[0-9a-f]{64}$'
    id=$output
    subnet=$(bocker network inspect --format '.[0].IPAM.Config[0].Subnet' t-back)
    [[ "$subnet" =~ ^10\.244\.[0-9]+\.0/24$ ]]
    br=$(net_bridge t-back)
    [[ "$br" == "$BK_NPREFIX"* ]]
    gw=$(bocker network inspect --format '.[0].IPAM.Config[0].Gateway' t-back)
    run ip -o -4 addr show dev "$br"
    assert_output --partial "inet $gw/24"
    run iptables -w -t nat -S "BOCKER-POST-$br"
    assert_output --partial "-A BOCKER-POST-$br -s $subnet ! -o $br -j MASQUERADE"
    run iptables -w -t filter -S "BOCKER-FWD-$br"
    assert_output --partial "-m devgroup --dst-group 0xb0c -j DROP"
    run bocker network inspect --format '.[0] | "\(.Name) \(.Id) \(.Driver) \(.Internal) \(.Labels.team)"' t-back
    assert_output "t-back $id bridge false a"
    run bocker network ls --format '.Name'
    assert_output "$(printf 'bridge\nhost\nnone\nt-back')"
    run bocker network ls -q --filter label=team=a
    assert_output "${id:0:12}"
    run bocker network ls -q --filter label=team=b
    assert_output ''
    run bocker network ls --filter name=back --format '.Name'
    assert_output t-back
}

@test "a second network gets another free /24; --subnet and --gateway are taken as given" {
    bocker network create t-one
    bocker network create t-two
    s1=$(bocker network inspect --format '.[0].IPAM.Config[0].Subnet' t-one)
    s2=$(bocker network inspect --format '.[0].IPAM.Config[0].Subnet' t-two)
    [ "$s1" != "$s2" ]
    sub=10.244.$((BK_POOL_THIRD + 3)).0/24
    bocker network rm t-two
    run bocker network create --subnet "$sub" --gateway "10.244.$((BK_POOL_THIRD + 3)).9" t-three
    assert_success
    run bocker network inspect --format '.[0].IPAM.Config[0] | "\(.Subnet) \(.Gateway)"' t-three
    assert_output "$sub 10.244.$((BK_POOL_THIRD + 3)).9"
    run ip -o -4 addr show dev "$(net_bridge t-three)"
    assert_output --partial "inet 10.244.$((BK_POOL_THIRD + 3)).9/24"
}

@test "network create refuses a taken name, an overlapping subnet, a bad gateway, a reserved name (exit 1)" {
    bocker network create t-dup
    run --separate-stderr bocker network create t-dup
    assert_failure 1
    bk_assert_error_line 'already exists'
    sub=$(bocker network inspect --format '.[0].IPAM.Config[0].Subnet' t-dup)
    run --separate-stderr bocker network create --subnet "$sub" t-over
    assert_failure 1
    bk_assert_error_line 'overlaps'
    run --separate-stderr bocker network create --subnet "$BK_NET.0/24" t-over
    assert_failure 1
    bk_assert_error_line 'overlaps'
    run --separate-stderr bocker network create --subnet 10.244.$((BK_POOL_THIRD + 3)).0/24 --gateway 10.9.9.9 t-over
    assert_failure 1
    bk_assert_error_line 'gateway'
    for name in bridge host none "bad/name"; do
        run --separate-stderr bocker network create "$name"
        assert_failure 1
    done
    run bocker network ls -q --filter name=t-over
    assert_output ''
}

@test "network rm removes the bridge, chains, DNS server and record; unknown or built-in: errors" {
    bocker network create t-gone
    br=$(net_bridge t-gone)
    pid=$(cat "$BOCKER_ROOT/networks/t-gone.d/dnsmasq.pid")
    [ -d "/proc/$pid" ]
    run bocker network rm t-gone
    assert_success
    assert_output t-gone
    run ip link show "$br"
    assert_failure
    [ "$(iptables-save | grep -c -- "$br")" = 0 ]
    [ ! -d "/proc/$pid" ]
    [ ! -e "$BOCKER_ROOT/networks/t-gone.json" ]
    [ ! -e "$BOCKER_ROOT/networks/t-gone.d" ]
    run --separate-stderr bocker network rm t-gone
    assert_failure 1
    bk_assert_error_line 'not found'
    run --separate-stderr bocker network rm bridge
    assert_failure 1
    bk_assert_error_line 'pre-defined'
}

@test "network inspect of the built-in networks, and of an unknown one (exit 1)" {
    run bocker network inspect --format '.[] | "\(.Name) \(.Driver)"' bridge host none
    assert_output "$(printf 'bridge bridge\nhost host\nnone null')"
    run bocker network inspect --format '.[0].IPAM.Config[0].Subnet' bridge
    assert_output "$BK_NET.0/24"
    run --separate-stderr bocker network inspect t-nosuch
    assert_failure 1
}

@test "network prune removes the unused user networks" {
    bocker network create t-p1
    bocker network create t-p2
    br=$(net_bridge t-p1)
    # it asks (Docker's words); n or the end of stdin keeps them
    run bocker network prune <<< n
    assert_success
    assert_output --partial 'WARNING! This will remove all custom networks not used by at least one container.'
    assert_output --partial 'Are you sure you want to continue? [y/N]'
    run bocker network prune </dev/null
    assert_success
    assert_equal "$(bocker network ls -q --filter name=t-p | wc -l)" 2
    run bocker network prune -f
    assert_success
    assert_output "$(printf 'Deleted Networks:\nt-p1\nt-p2')"
    run bocker network ls --format '.Name'
    assert_output "$(printf 'bridge\nhost\nnone')"
    run ip link show "$br"
    assert_failure
}

@test "teardown takes user networks down; their records stay" {
    bocker network create t-td
    br=$(net_bridge t-td)
    run bocker teardown
    assert_success
    run ip link show "$br"
    assert_failure
    [ "$(iptables-save | grep -c -- "$br")" = 0 ]
    run bocker network ls --format '.Name'
    assert_line t-td
    bocker network rm t-td
}

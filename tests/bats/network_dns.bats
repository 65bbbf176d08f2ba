#!/usr/bin/env bats
# Containers on user networks: addresses (--ip), names and aliases through the network's dnsmasq,
# isolation between networks, --internal. Subnets 10.245.x.0/24 (store) and 10.246.x.0/24
# (its networks), bridges bkt*. Only container names are ever looked up; no traffic leaves the host.

load helpers

setup_file() {
    export BOCKER_NETWORK_PREFIX=bkt$(printf '%04x' $((RANDOM % 65536)))d
    export BK_THIRD=$((RANDOM % 200 + 1))
    export BOCKER_NETWORK_POOL=10.246.$BK_THIRD.0/22
    bk_store_setup netd 245
    bocker network create --subnet 10.246.$BK_THIRD.0/24 t-a >/dev/null
    bocker network create --subnet 10.246.$((BK_THIRD + 1)).0/24 t-b >/dev/null
    export A_GW=10.246.$BK_THIRD.1 B_NET=10.246.$((BK_THIRD + 1))
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

net_bridge() {
    bocker network inspect --format '.[0].Options["com.docker.network.bridge.name"]' "$1"
}

@test "a container on a user network: an address of it, the gateway as resolver and default route" {
    run bocker run --rm --network t-a busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; ip route | grep default; cat /etc/resolv.conf'
    assert_success
    assert_line --index 0 "10.246.$BK_THIRD.2/24"
    assert_line --index 1 --regexp "^default via ${A_GW//./\\.} dev eth0"
    assert_line "nameserver $A_GW"
    [ "$(grep -c '^nameserver' <<< "$output")" = 1 ]
}

@test "containers find each other by name, alias and short id (nc, nslookup on the gateway)" {
    bk_web db --network t-a --network-alias database
    id=$(bk_id db)
    ip=$(bocker inspect --format '.[0].NetworkSettings.Networks["t-a"].IPAddress' db)
    run bocker inspect --format '.[0].NetworkSettings.Networks["t-a"].Aliases[0]' db
    assert_output database
    wait_for bk_fetch_is t-a db hello-db
    run bk_fetch t-a db
    assert_output hello-db
    run bk_fetch t-a database
    assert_output hello-db
    run bocker run --rm --network t-a busybox nslookup database "$A_GW"
    assert_success
    assert_output --partial "$ip"
    run bocker run --rm --network t-a busybox nslookup "${id:0:12}" "$A_GW"
    assert_output --partial "$ip"
    # gone from DNS when it stops
    bocker rm -f db
    run bocker run --rm --network t-a busybox nslookup database "$A_GW"
    refute_output --partial "Address: $ip"
}

@test "one dnsmasq per network, answering on the gateway only; none for the default bridge" {
    for n in t-a t-b; do
        pid=$(cat "$BOCKER_ROOT/networks/$n.d/dnsmasq.pid")
        [ -d "/proc/$pid" ]
        run pgrep -fc -- "--pid-file=$BOCKER_ROOT/networks/$n.d/dnsmasq.pid"
        assert_output 1
        run tr '\0' ' ' < "/proc/$pid/cmdline"
        assert_output --partial "--listen-address=10.246."
        refute_output --partial "--server"
    done
    run bocker run --rm busybox cat /etc/resolv.conf
    refute_output --partial "nameserver $A_GW"
}

@test "--ip takes that address; taken, outside the subnet or on the default bridge: 125" {
    bk_bg fixed --network t-a --ip 10.246.$BK_THIRD.50 busybox sleep 30
    run bocker inspect --format '.[0].NetworkSettings.IPAddress' fixed
    assert_output 10.246.$BK_THIRD.50
    run --separate-stderr bocker run --rm --network t-a --ip 10.246.$BK_THIRD.50 busybox true
    assert_failure 125
    bk_assert_error_line 'already in use'
    run --separate-stderr bocker run --rm --network t-a --ip 10.9.9.9 busybox true
    assert_failure 125
    run --separate-stderr bocker run --rm --ip "$BK_NET.9" busybox true
    assert_failure 125
    bk_assert_error_line 'user defined networks'
}

@test "two networks are isolated from each other; the gateway of one's own is reachable" {
    bk_bg other --network t-b busybox sleep 30
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' other)
    [[ "$ip" == "$B_NET".* ]]
    run bocker run --rm --network t-b busybox ping -c 1 -W 2 "$ip"
    assert_success
    run bocker run --rm --network t-a busybox ping -c 1 -W 1 "$ip"
    assert_failure
    run bocker run --rm busybox ping -c 1 -W 1 "$ip"
    assert_failure
    run bocker run --rm --network t-a busybox ping -c 1 -W 2 "$A_GW"
    assert_success
    # a name on the other network is not known here
    run bocker run --rm --network t-a busybox nslookup other "$A_GW"
    refute_output --partial "Address: $ip"
}

@test "network rm is refused while a container is attached, works once it is gone" {
    bk_bg busy --network t-b busybox sleep 30
    run --separate-stderr bocker network rm t-b
    assert_failure 1
    bk_assert_error_line 'active endpoints'
    bocker rm -f busy
    run bocker network inspect --format '.[0].Containers | length' t-b
    assert_output 0
}

@test "--internal: no MASQUERADE, nothing forwarded off the bridge; containers still talk by name" {
    bocker network create --internal --subnet 10.246.$((BK_THIRD + 2)).0/24 t-int
    br=$(net_bridge t-int)
    run iptables -w -t nat -S "BOCKER-POST-$br"
    refute_output --partial "10.246.$((BK_THIRD + 2)).0/24 ! -o $br -j MASQUERADE"
    run iptables -w -S "BOCKER-FWD-$br"
    assert_line "-A BOCKER-FWD-$br -i $br ! -o $br -j DROP"
    assert_line "-A BOCKER-FWD-$br ! -i $br -o $br -j DROP"
    bk_web sec --network t-int
    wait_for bk_fetch_is t-int sec hello-sec
    run bk_fetch t-int sec
    assert_output hello-sec
    # the default bridge's gateway is another bocker bridge: not reachable through forwarding
    bk_bg lone busybox sleep 30
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' lone)
    run bocker run --rm --network t-int busybox ping -c 1 -W 1 "$ip"
    assert_failure
    bocker rm -f sec lone
    bocker network rm t-int
}

@test "after teardown, the next container on a user network brings bridge and DNS back" {
    run bocker teardown
    assert_success
    [ ! -e "/sys/class/net/$(net_bridge t-a)" ]
    bk_web back --network t-a
    wait_for bk_fetch_is t-a back hello-back
    run bk_fetch t-a back
    assert_output hello-back
}

@test "nothing is left by containers on user networks" {
    run bocker run --rm --network t-a busybox true
    run bocker network inspect --format '.[0].Containers | length' t-a
    assert_output 0
    run ls "$BOCKER_ROOT/networks/t-a.d/leases"
    assert_output ''
    bk_assert_clean
}

@test "eth0's MAC comes from its address: a replaced service at the same address answers at once" {
    ip=10.246.$BK_THIRD.60
    bk_web pa --network t-a --ip "$ip"
    run bocker exec pa cat /sys/class/net/eth0/address
    assert_output "$(printf '02:42:%02x:%02x:%02x:%02x' 10 246 "$BK_THIRD" 60)"
    wait_for curl -fsS -m 2 "http://$ip:8000/"
    run curl -fsS -m 2 "http://$ip:8000/"
    assert_output hello-pa
    bocker rm -f pa
    bk_web pb --network t-a --ip "$ip"
    wait_for curl -fsS -m 1 "http://$ip:8000/"
    run curl -fsS -m 3 "http://$ip:8000/"
    assert_output hello-pb
}

@test "--dns, --dns-search, --dns-option and --add-host (host-gateway too) in resolv.conf and hosts; bad ones: 125" {
    run bocker run --rm --network t-a --dns 10.246.$BK_THIRD.53 --dns-search corp.example \
        --dns-option ndots:3 --dns-option timeout:1 --add-host db2:10.246.$BK_THIRD.9 --add-host gw:host-gateway busybox sh -c 'cat /etc/resolv.conf /etc/hosts'
    assert_success
    assert_line "nameserver 10.246.$BK_THIRD.53"
    refute_line "nameserver $A_GW"
    assert_line "search corp.example"
    assert_line "options ndots:3 timeout:1"
    assert_line --regexp "^10\.246\.$BK_THIRD\.9[[:space:]]+db2\$"
    assert_line --regexp "^${A_GW//./\\.}[[:space:]]+gw\$"
    run bocker run --rm --add-host gw:host-gateway busybox cat /etc/hosts
    assert_line --regexp "^${BK_GATEWAY//./\\.}[[:space:]]+gw\$"
    for bad in "--dns nonsense" "--add-host nocolon" "--add-host x:1.2.3"; do
        run --separate-stderr bocker run --rm $bad busybox true
        assert_failure 125
    done
}

@test "teardown is refused while a container runs (exit 1); --force stops it first" {
    bk_bg up --network t-a busybox sleep 30
    run --separate-stderr bocker teardown
    assert_failure 1
    bk_assert_error_line 'running'
    [ -e "/sys/class/net/$(net_bridge t-a)" ]
    run bocker teardown --force
    assert_success
    run bocker inspect --format '.[0].State.Status' up
    assert_output exited
    [ ! -e "/sys/class/net/$(net_bridge t-a)" ]
}

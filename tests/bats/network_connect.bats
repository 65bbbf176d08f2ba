#!/usr/bin/env bats
# network connect / disconnect (live and on a stopped container), names after connect, disconnect
# and restart, --network container:NAME, 50 parallel `run -d` on one /24, and a foreign iptables
# rule that bocker leaves alone. Subnets 10.226.x.0/24 (the store), 10.227.T.0/24 and
# 10.227.T+1.0/24 (its networks, T < 125); bridges bkt*. Only container names are looked up;
# traffic only between this file's own bridges and containers.

load helpers

setup_file() {
    export BOCKER_NETWORK_PREFIX=bkt$(printf '%04x' $((RANDOM % 65536)))c
    export BK_T=$((RANDOM % 120 + 1))
    export BOCKER_NETWORK_POOL=10.227.$BK_T.0/23
    bk_store_setup netc 226
    bocker network create --subnet 10.227.$BK_T.0/24 t-a >/dev/null
    bocker network create --subnet 10.227.$((BK_T + 1)).0/24 t-b >/dev/null
    export A_GW=10.227.$BK_T.1 B_GW=10.227.$((BK_T + 1)).1 A_NET=10.227.$BK_T B_NET=10.227.$((BK_T + 1))
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# the address NAME resolves to on a network, asked to that network's DNS server ($2: gateway)
resolve() {
    bocker run --rm --network "$1" busybox nslookup "$3" "$2" 2>/dev/null | awk '/^Address/ && !/:53$/ {print $2}'
}

# the IPv4 interfaces of a running container: "eth0 10.x.y.z/24" lines
ifaces() {
    bocker exec "$1" ip -4 -o addr | awk '$2 != "lo" {print $2, $4}'
}

@test "network connect on a running container: eth1 with an address, its name and alias in that network's DNS" {
    bk_web api --network t-a
    run bocker network connect --alias backend t-b api
    assert_success
    assert_output ''
    ip=$(bocker inspect --format '.[0].NetworkSettings.Networks["t-b"].IPAddress' api)
    [[ "$ip" == "$B_NET".* ]]
    run ifaces api
    assert_line --index 0 --regexp "^eth0 ${A_NET//./\\.}\.[0-9]+/24\$"
    assert_line --index 1 "eth1 $ip/24"
    run bocker exec api cat /sys/class/net/eth1/address
    assert_output "$(printf '02:42:%02x:%02x:%02x:%02x' ${ip//./ })"
    run bocker inspect --format '.[0].NetworkSettings.Networks["t-b"] | "\(.Aliases[0]) \(.Gateway) \(.IPPrefixLen)"' api
    assert_output "backend $B_GW 24"
    run resolve t-b "$B_GW" backend
    assert_output "$ip"
    run resolve t-b "$B_GW" api
    assert_output "$ip"
    wait_for bk_fetch_is t-b backend hello-api
    run bk_fetch t-b backend
    assert_output hello-api
    # still on t-a as before
    run bk_fetch t-a api
    assert_output hello-api
    run bocker network inspect --format '.[0].Containers | to_entries[0].value.Name' t-b
    assert_output api
}

@test "network disconnect on a running container: the interface, the address and the names go at once" {
    bk_web svc --network t-a
    bocker network connect t-b svc
    ip=$(bocker inspect --format '.[0].NetworkSettings.Networks["t-b"].IPAddress' svc)
    run resolve t-b "$B_GW" svc
    assert_output "$ip"
    run bocker network disconnect t-b svc
    assert_success
    run ifaces svc
    refute_output --partial eth1
    run resolve t-b "$B_GW" svc
    assert_output ''
    run bocker network inspect --format '.[0].Containers | length' t-b
    assert_output 0
    run bocker inspect --format '.[0].NetworkSettings.Networks | keys | join(",")' svc
    assert_output t-a
    [ -z "$(ip -o link show master "$(bocker network inspect --format '.[0].Options["com.docker.network.bridge.name"]' t-b)")" ]
    # twice: not connected (exit 1, one line); -f: no error
    run --separate-stderr bocker network disconnect t-b svc
    assert_failure 1
    bk_assert_error_line 'not connected'
    run bocker network disconnect -f t-b svc
    assert_success
    # and t-a still answers
    run bk_fetch t-a svc
    assert_output hello-svc
    # eth0's network disconnected: the default route (and the top-level address) go to t-b's
    bocker network connect t-b svc
    ip=$(bocker inspect --format '.[0].NetworkSettings.Networks["t-b"].IPAddress' svc)
    bocker network disconnect t-a svc
    run bocker exec svc ip route
    assert_line --regexp "^default via ${B_GW//./\\.} dev eth1"
    assert_equal "$(bocker inspect --format '.[0].NetworkSettings | "\(.IPAddress) \(.Gateway)"' svc)" "$ip $B_GW"
}

@test "connect on a stopped container is recorded: its next start has both interfaces; names survive a restart" {
    bocker create --name later --network t-a busybox sh -c 'mkdir -p /w && echo hello-later > /w/index.html && httpd -f -p 8000 -h /w' >/dev/null
    bocker network connect --alias late t-b later
    run bocker inspect --format '.[0].NetworkSettings.Networks | keys | join(",")' later
    assert_output t-a,t-b
    bocker start later
    bk_wait_status later running
    run ifaces later
    assert_line --index 0 --regexp '^eth0 '
    assert_line --index 1 --regexp "^eth1 ${B_NET//./\\.}\."
    wait_for bk_fetch_is t-b late hello-later
    bocker restart -t 1 later
    bk_wait_status later running
    ip=$(bocker inspect --format '.[0].NetworkSettings.Networks["t-b"].IPAddress' later)
    run resolve t-b "$B_GW" late
    assert_output "$ip"
    wait_for bk_fetch_is t-b late hello-later
    run bk_fetch t-b late
    assert_output hello-later
    # stopped: the addresses are given back on both networks
    bocker stop -t 1 later
    for n in t-a t-b; do
        run bocker network inspect --format '.[0].Containers | length' "$n"
        assert_output 0
    done
    # disconnected while stopped: the next start has eth0 only
    bocker network disconnect t-b later
    bocker start later
    bk_wait_status later running
    run ifaces later
    assert_output --regexp "^eth0 ${A_NET//./\\.}\.[0-9]+/24\$"
}

@test "connect refuses what Docker refuses (exit 1, one line) and leaves nothing" {
    bk_bg c1 --network t-a busybox sleep 30
    for args in "t-a c1" "nosuch c1" "t-b nosuch" "host c1" "--ip 10.9.9.9 t-b c1" "--alias x bridge c1"; do
        run --separate-stderr bocker network connect $args
        assert_failure 1
        bk_assert_error_line
    done
    run bocker inspect --format '.[0].NetworkSettings.Networks | keys | join(",")' c1
    assert_output t-a
    run bocker network inspect --format '.[0].Containers | length' t-b
    assert_output 0
    bk_bg h1 --network host busybox sleep 30
    run --separate-stderr bocker network connect t-b h1
    assert_failure 1
}

@test "connect --ip takes that address; the default bridge can be connected too (no DNS there)" {
    bk_bg c2 --network t-a busybox sleep 30
    bocker network connect --ip "$B_NET.77" t-b c2
    run ifaces c2
    assert_line "eth1 $B_NET.77/24"
    bocker network connect bridge c2
    run ifaces c2
    assert_line --regexp "^eth2 ${BK_NET//./\\.}\.[0-9]+/24\$"
    run bocker run --rm busybox ping -c 1 -W 2 "$(bocker inspect --format '.[0].NetworkSettings.Networks.bridge.IPAddress' c2)"
    assert_success
    bocker rm -f c2
    run bk_leases
    assert_output ''
    bk_assert_clean
}

@test "--network container:NAME shares its interfaces and resolver; it outlives the other; refusals: 125" {
    bk_web box --network t-a
    run bocker run --rm --network container:box busybox sh -c 'ip -4 -o addr | awk "\$2 != \"lo\" {print \$2, \$4}"; grep nameserver /etc/resolv.conf'
    assert_success
    assert_line --index 0 "eth0 $(bocker inspect --format '.[0].NetworkSettings.IPAddress' box)/24"
    assert_line "nameserver $A_GW"
    # the other's server on 127.0.0.1: one network namespace
    run bocker run --rm --network container:box busybox sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 8000 | tail -n 1"
    assert_output hello-box
    id=$(bk_id box)
    run bocker inspect --format '.[0].HostConfig.NetworkMode' "$(bocker create --network container:box busybox true)"
    assert_output "container:$id"
    # the one that joined exits: the other is untouched
    run ifaces box
    assert_line --index 0 --regexp '^eth0 '
    # the other exits first: the joiner keeps running, its veth is gone from the bridge, the address is free
    bk_bg joiner --network container:box busybox sleep 30
    bocker rm -f box
    run bocker inspect --format '.[0].State.Status' joiner
    assert_output running
    run bocker exec joiner sh -c 'ls /sys/class/net'
    assert_output lo
    run bocker network inspect --format '.[0].Containers | length' t-a
    assert_output 0
    for args in "-p 8080:80" "--ip $A_NET.9" "--network-alias x" "--dns 10.1.1.1" "--add-host a:10.1.1.1" "-h x"; do
        run --separate-stderr bocker run --rm --network container:joiner $args busybox true
        assert_failure 125
        bk_assert_error_line 'conflicting options'
    done
    run --separate-stderr bocker run --rm --network container:nosuch busybox true
    assert_failure 125
    bocker rm -f joiner
    bocker create --name idle busybox true >/dev/null
    run --separate-stderr bocker run --rm --network container:idle busybox true
    assert_failure 125
    bk_assert_error_line 'non running container'
}

@test "50 parallel run -d on one /24 (names drawn at once): 50 distinct addresses, all leased, all resolved" {
    local i pids=()
    for i in $(seq 50); do
        bocker run -d --network t-b busybox sleep 120 > "$BK_TMP/par$i.id" 2> "$BK_TMP/par$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || fail "a run -d failed: $(cat "$BK_TMP"/par*.err)"
    done
    run bash -c "'$BOCKER' inspect --format '.[].NetworkSettings.Networks[\"t-b\"].IPAddress' \$(cat '$BK_TMP'/par*.id) | sort -u | wc -l"
    assert_output 50
    run bocker network inspect --format '.[0].Containers | length' t-b
    assert_output 50
    run bash -c "cat '$BOCKER_ROOT'/networks/t-b.d/leases/* | wc -l"
    assert_output 50
    id=$(cat "$BK_TMP/par37.id")
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' "$id")
    run resolve t-b "$B_GW" "${id:0:12}"
    assert_output "$ip"
    name=$(bocker inspect --format '.[0].Name[1:]' "$id")
    run resolve t-b "$B_GW" "$name"
    assert_output "$ip"
    run bash -c "'$BOCKER' ps --format '.Names' | sort -u | wc -l"
    assert_output 50
    bocker rm -f $(cat "$BK_TMP"/par*.id) >/dev/null
    run bocker network inspect --format '.[0].Containers | length' t-b
    assert_output 0
}

@test "a foreign iptables rule (its own chain, a jump to it) is still there after networks and containers come and go" {
    chain=BKTF$(printf '%04x' $((RANDOM % 65536)))
    iptables -w -N "$chain"
    iptables -w -A "$chain" -s "$A_NET.250" -j RETURN
    iptables -w -I FORWARD -s "$A_NET.250" -j "$chain"
    before=$(iptables-save | grep -- "$chain")
    bocker network create --subnet "10.227.$((BK_T + 2)).0/24" t-leak >/dev/null
    br=$(bocker network inspect --format '.[0].Options["com.docker.network.bridge.name"]' t-leak)
    hp=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    bocker run --rm --network t-leak -p "$hp:80" busybox true
    bk_bg leaky --network t-leak busybox sleep 30
    bocker network connect t-a leaky
    bocker rm -f leaky
    bocker network rm t-leak
    after=$(iptables-save | grep -- "$chain")
    iptables -w -D FORWARD -s "$A_NET.250" -j "$chain"
    iptables -w -F "$chain"
    iptables -w -X "$chain"
    [ -n "$before" ]
    [ "$before" = "$after" ]
    # and nothing of the removed network is left
    [ "$(iptables-save | grep -c -- "$br")" = 0 ]
    run ip link show "$br"
    assert_failure
    bk_assert_clean
}

@test "--dry-run of a run on a user network: the script runs, has its address and DNS there, leaves no lease" {
    bk_web named --network t-a
    bocker --dry-run run --rm --network t-a busybox sh -c \
        'ip -4 -o addr show eth0 | awk "{print \$4}"; nslookup named '"$A_GW"' | awk "/^Address/ && !/:53\$/ {print \$2}"' \
        > "$BK_TMP/dry.sh"
    run bocker network inspect --format '.[0].Containers | length' t-a
    assert_output 1
    run timeout 60 sh "$BK_TMP/dry.sh"
    assert_success
    assert_line --index 0 --regexp "^${A_NET//./\\.}\.[0-9]+/24\$"
    assert_line --index 1 "$(bocker inspect --format '.[0].NetworkSettings.IPAddress' named)"
    run bocker network inspect --format '.[0].Containers | length' t-a
    assert_output 1
}

@test "network rm -f of a missing network: exit 0; without -f: exit 1, one line" {
    run bocker network rm -f t-nosuch
    assert_success
    assert_output ''
    run --separate-stderr bocker network rm t-nosuch
    assert_failure 1
    bk_assert_error_line 'not found'
}

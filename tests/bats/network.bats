#!/usr/bin/env bats
# --network bridge|none|host, IPAM, the bridge and bocker's iptables chains.
# Traffic only to the store's own bridge address (the containers' gateway) and loopback.

load helpers

setup_file() {
    bk_store_setup net 212
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

@test "setup made the bridge with the gateway address (the subnet's first address)" {
    run ip -o -4 addr show dev "$BOCKER_BRIDGE"
    assert_success
    assert_output --partial "inet $BK_GATEWAY/24"
    run cat "/sys/class/net/$BOCKER_BRIDGE/operstate"
    refute_output down
}

@test "setup made bocker's own chains and jumps, once each" {
    run iptables -w -t nat -S "BOCKER-POST-$BOCKER_BRIDGE"
    assert_success
    assert_output --partial "-A BOCKER-POST-$BOCKER_BRIDGE -s $BK_NET.0/24 ! -o $BOCKER_BRIDGE -j MASQUERADE"
    run iptables -w -t nat -S "BOCKER-$BOCKER_BRIDGE"
    assert_success
    run iptables -w -t filter -S "BOCKER-FWD-$BOCKER_BRIDGE"
    assert_success
    [ "$(iptables -w -t nat -S POSTROUTING | grep -c -- "-j BOCKER-POST-$BOCKER_BRIDGE\$")" = 1 ]
    [ "$(iptables -w -t nat -S PREROUTING | grep -c -- "-j BOCKER-$BOCKER_BRIDGE\$")" = 1 ]
    [ "$(iptables -w -t nat -S OUTPUT | grep -c -- "-j BOCKER-$BOCKER_BRIDGE\$")" = 1 ]
    [ "$(iptables -w -t filter -S FORWARD | grep -c -- "-j BOCKER-FWD-$BOCKER_BRIDGE\$")" = 1 ]
}

@test "setup is idempotent: a second setup adds no rule and keeps the images" {
    before=$(iptables-save | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$//')
    run bocker setup
    assert_success
    after=$(iptables-save | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$//')
    [ "$before" = "$after" ]
    run bocker images -q
    [ "${#lines[@]}" = 1 ]
}

@test "bridge: eth0 has an address in the subnet and a default route via the gateway" {
    run bocker run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; ip route | grep default'
    assert_success
    assert_line --index 0 --regexp "^${BK_NET//./\\.}\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])/24\$"
    assert_line --index 1 --regexp "^default via ${BK_GATEWAY//./\\.} dev eth0"
}

@test "bridge: the container reaches its gateway (ping)" {
    run bocker run --rm busybox ping -c 1 -W 2 "$BK_GATEWAY"
    assert_success
    assert_output --partial '1 packets received'
}

@test "bridge: the host reaches the container and two containers reach each other" {
    bk_bg srv busybox sleep 30
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' srv)
    [[ "$ip" == "$BK_NET".* ]]
    run busybox ping -c 1 -W 2 "$ip"
    assert_success
    run bocker run --rm busybox ping -c 1 -W 2 "$ip"
    assert_success
    bocker rm -f srv
}

@test "bridge: lowest free address first, and it is given back at exit" {
    run bocker run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"'
    assert_output "$BK_NET.2/24"
    run bocker run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"'
    assert_output "$BK_NET.2/24"
}

@test "bridge: /etc/hosts names the container's address, resolv.conf has no loopback resolver" {
    run bocker run --rm --hostname web busybox sh -c 'cat /etc/hosts; cat /etc/resolv.conf'
    assert_success
    assert_line --regexp "^${BK_NET//./\\.}\.[0-9]+[[:space:]]+web\$"
    assert_line --partial 'localhost'
    refute_line --regexp '^nameserver 127\.'
    assert_line --regexp '^nameserver '
}

@test "bridge: inspect shows the address, gateway and prefix while it runs" {
    bk_bg insp busybox sleep 30
    run bocker inspect --format '.[0].NetworkSettings | "\(.IPAddress) \(.Gateway) \(.IPPrefixLen)"' insp
    assert_output --regexp "^${BK_NET//./\\.}\.[0-9]+ ${BK_GATEWAY//./\\.} 24\$"
    id=$(bk_id insp)
    # the host end of the veth pair is on the store's bridge
    run bk_bridge_ports
    assert_output "vb${id:0:12}"
    bocker rm -f insp
    run bk_bridge_ports
    assert_output ''
}

@test "none: only lo, and lo is up" {
    run bocker run --rm --network none busybox sh -c 'ls /sys/class/net; ip -o link show lo'
    assert_success
    assert_line --index 0 lo
    [ "${#lines[@]}" = 2 ]
    assert_line --index 1 --partial 'UP'
    run bocker run --rm --network none busybox ping -c 1 -W 1 127.0.0.1
    assert_success
    run bocker run --rm --network none busybox ping -c 1 -W 1 "$BK_GATEWAY"
    assert_failure
}

@test "host: the container shares the host's network (sees the store's bridge)" {
    run bocker run --rm --network host busybox ls /sys/class/net
    assert_success
    assert_line "$BOCKER_BRIDGE"
    run bocker run --rm --network host busybox hostname
    assert_output "$(hostname)"
    run bk_leases
    assert_output ''
}

@test "an unknown --network is an error (125)" {
    run --separate-stderr bocker run --rm --network nosuchnet busybox true
    assert_failure 125
    bk_assert_error_line 'nosuchnet'
}

@test "no veth, lease, cgroup or netns is left after containers exit (all three modes)" {
    for mode in bridge none host; do
        run bocker run --rm --network "$mode" busybox true
        assert_success
    done
    run bocker run --network bridge --name kept busybox true
    assert_success
    id=$(bk_id kept)
    run ip -o link show "vb${id:0:12}"
    assert_failure
    bocker rm kept
    run bash -c "ip -o link | grep -c 'vb${id:0:12}'"
    assert_output 0
    bk_assert_clean
}

@test "5 parallel runs all succeed with distinct addresses" {
    pids=()
    for i in 1 2 3 4 5; do
        (rc=0; bocker run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; sleep 0.5' \
            > "$BK_TMP/par$i.out" 2>&1 || rc=$?; echo $rc > "$BK_TMP/par$i.rc") 3>&- &
        pids+=($!)
    done
    # only these: bats' own timeout watcher is a background job of this shell too
    wait "${pids[@]}"
    run cat "$BK_TMP"/par{1,2,3,4,5}.rc
    assert_output "$(printf '0\n0\n0\n0\n0')"
    run bash -c "cat '$BK_TMP'/par{1,2,3,4,5}.out | sort -u | wc -l"
    assert_output 5
    run bash -c "cat '$BK_TMP'/par{1,2,3,4,5}.out | grep -c '^${BK_NET//./\\.}\\.'"
    assert_output 5
    bk_assert_clean
}

@test "teardown without --store removes the bridge and chains; the next run makes them again" {
    run bocker teardown
    assert_success
    run ip link show "$BOCKER_BRIDGE"
    assert_failure
    run iptables -w -t nat -S "BOCKER-POST-$BOCKER_BRIDGE"
    assert_failure
    run iptables -w -t filter -S "BOCKER-FWD-$BOCKER_BRIDGE"
    assert_failure
    run bocker run --rm busybox ping -c 1 -W 2 "$BK_GATEWAY"
    assert_success
    [ "$(iptables -w -t filter -S FORWARD | grep -c -- "-j BOCKER-FWD-$BOCKER_BRIDGE\$")" = 1 ]
}

@test "parallel first runs after a teardown make each chain and jump once (3 rounds)" {
    for round in 1 2 3; do
        run bocker teardown
        assert_success
        pids=()
        for i in 1 2 3 4; do
            (rc=0; bocker run --rm busybox true > "$BK_TMP/first$i.out" 2>&1 || rc=$?; echo $rc > "$BK_TMP/first$i.rc") 3>&- &
            pids+=($!)
        done
        # only these: bats' own timeout watcher is a background job of this shell too
        wait "${pids[@]}"
        run cat "$BK_TMP"/first{1,2,3,4}.rc "$BK_TMP"/first{1,2,3,4}.out
        assert_output "$(printf '0\n0\n0\n0')"
        [ "$(iptables -w -t filter -S FORWARD | grep -c -- "-j BOCKER-FWD-$BOCKER_BRIDGE\$")" = 1 ]
        [ "$(iptables -w -t nat -S POSTROUTING | grep -c -- "-j BOCKER-POST-$BOCKER_BRIDGE\$")" = 1 ]
        [ "$(iptables -w -t filter -S "BOCKER-FWD-$BOCKER_BRIDGE" | grep -c -- '-j ACCEPT')" = 2 ]
        bk_assert_clean
    done
}

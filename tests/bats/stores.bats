#!/usr/bin/env bats
# Two stores side by side (two roots, bridges, subnets, cgroup parents), setup and teardown.

load helpers

setup_file() {
    bk_store_setup sta 219
    # a second store; its variables as B_ROOT, B_BRIDGE, B_SUBNET, B_NET, B_PARENT, B_TMP
    bk_store_vars B stb 220
    export B_ROOT B_BRIDGE B_SUBNET B_NET B_PARENT B_TMP
    in_b bocker setup
}

teardown_file() {
    bk_store_teardown "$B_ROOT" "$B_BRIDGE" "$B_PARENT" "$B_TMP"
    bk_store_teardown
}

teardown() {
    bk_rm_all
    in_b bash -c '"$0" rm -f $("$0" ps -aq) >/dev/null 2>&1 || true' "$BOCKER"
}

# in_b COMMAND...: run with the second store's environment
in_b() {
    BOCKER_ROOT=$B_ROOT BOCKER_BRIDGE=$B_BRIDGE BOCKER_SUBNET=$B_SUBNET \
        BOCKER_CGROUP_PARENT=$B_PARENT "$@"
}

@test "setup of a store that is not on btrfs makes a loop file, formats and mounts it" {
    [ -f "$BOCKER_ROOT.btrfs" ]
    run findmnt -n -o FSTYPE "$BOCKER_ROOT"
    assert_output btrfs
    run findmnt -n -o FSTYPE "$B_ROOT"
    assert_output btrfs
    # sparse: the 1G file uses far less
    used=$(du -k "$BOCKER_ROOT.btrfs" | cut -f1)
    [ "$used" -lt 512000 ]
    for d in images containers networks; do
        [ -d "$BOCKER_ROOT/$d" ]
    done
}

@test "the default image is made from a temp directory that goes away (setup left one per run before)" {
    tmp=$(mktemp -d "$BK_TMP/mkimage.XXXXXX")
    TMPDIR=$tmp run "$REPO/scripts/mkimage-busybox.sh" bkt-mkimage:1
    assert_success
    run ls -A "$tmp"
    assert_output ''
    rmdir "$tmp"
    run bocker run --rm bkt-mkimage:1 cat /etc/hostname
    assert_success
    bocker rmi bkt-mkimage:1 >/dev/null
}

@test "two stores: each has its own bridge, subnet and chains" {
    run ip -o -4 addr show dev "$BOCKER_BRIDGE"
    assert_output --partial "inet $BK_NET.1/24"
    run ip -o -4 addr show dev "$B_BRIDGE"
    assert_output --partial "inet $B_NET.1/24"
    iptables -w -t nat -n -L "BOCKER-POST-$BOCKER_BRIDGE" >/dev/null
    iptables -w -t nat -n -L "BOCKER-POST-$B_BRIDGE" >/dev/null
    iptables -w -t filter -n -L "BOCKER-FWD-$B_BRIDGE" >/dev/null
}

@test "two stores: both run containers, each in its own subnet" {
    run bocker run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"'
    assert_success
    assert_output --regexp "^${BK_NET//./\\.}\.[0-9]+/24\$"
    run in_b bocker run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"'
    assert_success
    assert_output --regexp "^${B_NET//./\\.}\.[0-9]+/24\$"
    run in_b bocker run --rm busybox ping -c 1 -W 2 "$B_NET.1"
    assert_success
}

@test "two stores at once: a container running in each; each store lists only its own" {
    bk_bg inA busybox sleep 30
    (rc=0; in_b bocker run --name inB busybox sleep 30 >/dev/null 2>&1 || rc=$?; echo $rc > "$BK_TMP/inB.rc") \
        >/dev/null 2>&1 3>&- &
    echo $! >> "$BK_TMP/bg.pids"
    for i in $(seq 200); do
        [ "$(in_b bocker inspect -f '.[0].State.Status' inB 2>/dev/null)" = running ] && break
        sleep 0.05
    done
    run bocker ps --format '.Names'
    assert_output inA
    run in_b bocker ps --format '.Names'
    assert_output inB
    ipA=$(bocker inspect -f '.[0].NetworkSettings.IPAddress' inA)
    ipB=$(in_b bocker inspect -f '.[0].NetworkSettings.IPAddress' inB)
    [[ "$ipA" == "$BK_NET".* ]]
    [[ "$ipB" == "$B_NET".* ]]
    # each container's veth is on its own store's bridge
    run bk_bridge_ports
    assert_output "vb$(bk_id inA | cut -c1-12)"
    run in_b bk_bridge_ports
    assert_output "vb$(in_b bocker inspect -f '.[0].Id' inB | cut -c1-12)"
    # each container's cgroup is under its own parent
    [ -d "$(bk_cgroup_parents "$BOCKER_CGROUP_PARENT" | head -n 1)/$(bk_id inA)" ]
    [ -d "$(bk_cgroup_parents "$B_PARENT" | head -n 1)/$(in_b bocker inspect -f '.[0].Id' inB)" ]
    run bocker rm -f inA
    assert_success
    run in_b bocker rm -f inB
    assert_success
}

@test "--root selects a store, like BOCKER_ROOT" {
    in_b bocker run --name onlyB busybox true
    run bocker --root "$B_ROOT" ps -a --format '.Names'
    assert_output onlyB
    run bocker ps -a --format '.Names'
    assert_output ''
}

@test "an image made in one store is not in the other" {
    mkdir -p "$BK_TMP/rootfs/bin"
    cp /bin/busybox "$BK_TMP/rootfs/bin/"
    bocker init "$BK_TMP/rootfs" onlya:1
    run bocker images --format '.Repository'
    assert_line onlya
    run in_b bocker images --format '.Repository'
    refute_line onlya
    run --separate-stderr in_b bocker inspect --type image onlya:1
    assert_failure
    bocker rmi onlya:1
}

@test "a store that is not btrfs is refused (run 125, images 1), naming bocker setup" {
    mkdir -p "$BK_TMP/notbtrfs"
    BOCKER_ROOT=$BK_TMP/notbtrfs run --separate-stderr bocker run --rm busybox true
    assert_failure 125
    bk_assert_error_line 'bocker setup'
    BOCKER_ROOT=$BK_TMP/notbtrfs run --separate-stderr bocker images
    assert_failure 1
    bk_assert_error_line 'not a btrfs store'
}

@test "a btrfs directory that was never set up is refused with 1, naming bocker setup" {
    mkdir -p "$BOCKER_ROOT/volumes/plain"
    run --separate-stderr bocker --root "$BOCKER_ROOT/volumes/plain" ps
    assert_failure 1
    bk_assert_error_line 'bocker setup'
    rmdir "$BOCKER_ROOT/volumes/plain"
}

@test "teardown --store of one store leaves the other working; setup again brings it back" {
    in_b bocker run --name keepme busybox sh -c 'echo kept > /f'
    run in_b bocker teardown --store
    assert_success
    run ip link show "$B_BRIDGE"
    assert_failure
    run iptables -w -t nat -n -L "BOCKER-POST-$B_BRIDGE"
    assert_failure
    run mountpoint -q "$B_ROOT"
    assert_failure
    [ -f "$B_ROOT.btrfs" ]
    for dir in $(bk_cgroup_parents "$B_PARENT"); do
        [ ! -d "$dir" ]
    done
    # the first store does not notice
    run bocker run --rm busybox ping -c 1 -W 2 "$BK_NET.1"
    assert_success
    # the second store is refused while unmounted, then set up again from its loop file
    run --separate-stderr in_b bocker ps -a
    assert_failure 1
    run in_b bocker setup
    assert_success
    run in_b bocker ps -a --format '.Names'
    assert_output keepme
    run in_b bocker run --rm busybox echo back
    assert_output back
}

@test "setup and teardown leave no stray rule: the jumps to each store's chains appear once" {
    for br in "$BOCKER_BRIDGE" "$B_BRIDGE"; do
        [ "$(iptables -w -t nat -S POSTROUTING | grep -c -- "-j BOCKER-POST-$br\$")" = 1 ]
        [ "$(iptables -w -t filter -S FORWARD | grep -c -- "-j BOCKER-FWD-$br\$")" = 1 ]
    done
}

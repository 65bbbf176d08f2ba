#!/usr/bin/env bats
# --trace: every kernel operation as a shell line on stderr.
# --dry-run: the whole sequence printed as a script; nothing changes; the script itself runs.

load helpers

setup_file() {
    bk_store_setup trc 218
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# What a dry run must not change: containers, images, names, links, the IPAM file, cgroups.
store_state() {
    # (json, not the tables: their "CREATED ... ago" column moves with the clock)
    bocker ps -a --format '[.ID, .Status | sub(" [0-9A-Za-z ]+ ago$"; "")]'
    bocker images --format '[.Id, .Repository, .Tag, .Size]'
    ls -A "$BOCKER_ROOT/containers" "$BOCKER_ROOT/names" "$BOCKER_ROOT/images"
    bk_leases
    # links: this store's bridge and what is on it (other links come and go with other users)
    ip -o link show dev "$BOCKER_BRIDGE" | awk -F': ' '{ print $2 }'
    bk_bridge_ports
    bk_cgroup_dirs
    ls "/sys/fs/cgroup/memory" | grep -c "^$BOCKER_CGROUP_PARENT\$"
}

@test "--trace: the command's output is unchanged, the steps go to stderr as '+ ' lines" {
    run --separate-stderr bocker --trace run --rm busybox echo hi
    assert_success
    assert_output hi
    [ -n "$stderr" ]
    # every line is a command (+ ...), a comment (# ...) or part of a heredoc
    run bash -c "grep -c '^+ ' <<< \"\$0\"" "$stderr"
    [ "$output" -ge 8 ]
}

@test "--trace shows the btrfs snapshot, cgroup, unshare, ip and cleanup steps" {
    run --separate-stderr bocker --trace run --rm busybox true
    assert_success
    trace=$stderr
    for pattern in '^\+ btrfs (-q )?subvolume snapshot ' '^\+ cgcreate -g [a-z,]*memory[a-z,]*:' \
                   '^\+ .*unshare .*--pid' '^\+ .*unshare .*--mount' '^\+ .*unshare .*--net' \
                   '^\+ (nsenter .* )?ip ' '^\+ btrfs (-q )?subvolume delete '; do
        grep -Eq -- "$pattern" <<< "$trace" || fail "no trace line matches /$pattern/: $trace"
    done
    # the init's steps are shown too: pivot_root, /proc, capabilities
    grep -q 'pivot_root' <<< "$trace"
    grep -q 'mount -t proc' <<< "$trace"
}

@test "--trace with limits shows them being set (cgset)" {
    bk_require_cgroup_v1
    run --separate-stderr bocker --trace run --rm --memory 64m --cpus 0.5 --pids-limit 30 busybox true
    assert_success
    grep -Eq -- '^\+ cgset .*memory\.limit_in_bytes=67108864' <<< "$stderr"
    grep -Eq -- '^\+ cgset .*cpu\.cfs_quota_us=50000' <<< "$stderr"
    grep -Eq -- '^\+ cgset .*pids\.max=30' <<< "$stderr"
}

@test "--trace of a read-only command prints no '+ ' line that changes anything" {
    run --separate-stderr bocker --trace ps -a
    assert_success
    refute_line --regexp '^\+ '
    run bash -c "grep -Ec '^\\+ (btrfs|ip|cgcreate|iptables|mount|unshare)' <<< \"\$0\"" "$stderr"
    assert_output 0
}

@test "--dry-run prints a /bin/sh script and changes nothing" {
    before=$(store_state)
    run --separate-stderr bocker --dry-run run --rm busybox echo hi
    assert_success
    assert_line --index 0 '#!/bin/sh'
    refute_output --regexp '^hi$'
    after=$(store_state)
    [ "$before" = "$after" ] || fail "the dry run changed the host: $(diff <(echo "$before") <(echo "$after"))"
    bk_assert_clean
}

@test "--dry-run of run without --rm, of rm and of commit changes nothing either" {
    bocker run --name keep busybox true
    before=$(store_state)
    run bocker --dry-run run --name other busybox true
    assert_success
    run bocker --dry-run rm keep
    assert_success
    run bocker --dry-run commit keep dry:1
    assert_success
    after=$(store_state)
    [ "$before" = "$after" ] || fail "the dry run changed the host: $(diff <(echo "$before") <(echo "$after"))"
}

@test "the dry-run script runs: sh run.sh prints hi and leaves nothing behind" {
    bocker --dry-run run --rm busybox echo hi > "$BK_TMP/run.sh"
    before=$(store_state)
    run timeout 30 sh "$BK_TMP/run.sh"
    assert_success
    assert_line hi
    after=$(store_state)
    [ "$before" = "$after" ] || fail "the script left something: $(diff <(echo "$before") <(echo "$after"))"
    bk_assert_clean
}

@test "the dry-run script makes the same container: PID 1, its address, limits, capabilities" {
    bocker --dry-run run --rm --hostname dry --memory 64m busybox sh -c \
        'echo "pid $$"; hostname; ip -4 -o addr show eth0 | awk "{print \$4}"; grep CapEff /proc/self/status' \
        > "$BK_TMP/run2.sh"
    run timeout 30 sh "$BK_TMP/run2.sh"
    assert_success
    assert_line 'pid 1'
    assert_line dry
    assert_line --regexp "^${BK_NET//./\\.}\.[0-9]+/24\$"
    assert_line --regexp '^CapEff:[[:space:]]+00000000a80425fb$'
    grep -q 'memory.limit_in_bytes=67108864' "$BK_TMP/run2.sh"
    bk_assert_clean
}

@test "the dry-run script exits with the container's exit code" {
    bocker --dry-run run --rm busybox sh -c 'exit 3' > "$BK_TMP/run3.sh"
    run timeout 30 sh "$BK_TMP/run3.sh"
    assert_failure 3
    bk_assert_clean
}

@test "--dry-run errors are still errors: unknown image is 125 and prints no script" {
    run --separate-stderr bocker --dry-run run --rm nosuch:1 true
    assert_failure 125
    bk_assert_error_line 'No such image'
}

@test "a dry-run script run while another container runs does not reuse that container's address" {
    bocker --dry-run run --rm busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"' > "$BK_TMP/run4.sh"
    bk_bg holder busybox sleep 30
    held=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' holder)
    run timeout 30 sh "$BK_TMP/run4.sh"
    assert_success
    assert_output --regexp "^${BK_NET//./\\.}\.[0-9]+/24\$"
    refute_output "$held/24"
}

#!/usr/bin/env bats
# Restart policies (--restart): backoff and count, always after a kill from the host,
# unless-stopped after stop, the restarting state in ps, rm -f of a restarting container,
# start --all-restartable after a (simulated) reboot, and update.

load helpers

setup_file() {
    bk_store_setup restart 220
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

status_is() {
    [ "$(inspect '.[0].State.Status' "$1")" = "$2" ]
}

# restarting, with a wait of 1.6 s or more ahead (the fifth restart or later)
long_wait() {
    [ "$(inspect '.[0] | "\(.State.Status) \(.RestartDelay >= 1.6)"' "$1")" = "restarting true" ]
}

# the live processes of a process group (the waiter of a restarting container and its sleep;
# a zombie is dead, waiting for its reaper)
group_pids() {
    ps -o pid=,stat= -g "$1" 2>/dev/null | awk '$2 !~ /^Z/ {print $1}'
}

@test "--restart: a bad policy, or with --rm, is refused with one line and exit 125, nothing made" {
    for bad in foo always:3 on-failure:x; do
        run --separate-stderr bocker run -d --restart "$bad" busybox true
        assert_failure 125
        bk_assert_error_line 'restart policy|retry count'
    done
    run --separate-stderr bocker run --rm --restart always busybox true
    assert_failure 125
    bk_assert_error_line 'Conflicting options: --restart and --rm'
    run --separate-stderr bocker create --restart nope busybox true
    assert_failure 125
    run bocker ps -aq
    assert_output ''
}

@test "on-failure:2: a container that exits 1 three times ends Exited (1) with RestartCount 2, after backoff" {
    bocker run -d --name of --restart on-failure:2 busybox sh -c 'echo ran; exit 1' >/dev/null
    assert_equal "$(inspect '.[0].HostConfig.RestartPolicy | "\(.Name) \(.MaximumRetryCount)"' of)" "on-failure 2"
    wait_until bash -c "[ \"\$('$BOCKER' logs of | wc -l)\" = 3 ] && [ \"\$('$BOCKER' inspect --format '.[0].State.Status' of)\" = exited ]"
    sleep 1  # (no fourth run comes)
    assert_equal "$(inspect '.[0].RestartCount' of)" 2
    assert_equal "$(inspect '.[0].State.ExitCode' of)" 1
    run bocker ps -a --format '{{.Status}}'
    assert_output --regexp '^Exited \(1\) '
    run bocker logs of
    assert_output "$(printf 'ran\nran\nran')"
    # the waits were 0.1 s, then 0.2 s: the last is in the record, the runs are as far apart
    assert_equal "$(inspect '.[0].RestartDelay' of)" 0.2
    first=$(bocker logs -t of | head -1 | cut -d' ' -f1)
    last=$(bocker logs -t of | tail -1 | cut -d' ' -f1)
    gap=$(( $(date -d "$last" +%s%N) - $(date -d "$first" +%s%N) ))
    [ "$gap" -ge 300000000 ] || fail "three runs 0.1 s + 0.2 s apart came ${gap} ns apart"
    bk_assert_clean
}

@test "on-failure: a zero exit is not restarted" {
    bocker run -d --name ok --restart on-failure busybox true >/dev/null
    wait_until status_is ok exited
    sleep 1
    assert_equal "$(inspect '.[0].RestartCount' ok)" 0
    assert_equal "$(inspect '.[0].State.Status' ok)" exited
}

@test "ps shows 'Restarting (1) ... ago' while a container waits between restarts, and lists it without -a" {
    bocker run -d --name rs --restart always busybox sh -c 'exit 1' >/dev/null
    # after a few quick failures the wait is long enough to be seen
    wait_until bash -c "'$BOCKER' ps --format '{{.Names}} {{.Status}}' | grep -Eq '^rs Restarting \(1\) .* ago\$'"
    run inspect '.[0].State | "\(.Status) \(.Restarting) \(.Running) \(.Pid)"' rs
    # (it may have started again meanwhile, or just died: then it is running, or exited until
    # its monitor has recorded the exit)
    assert_output --regexp '^(restarting true true 0|running false true [0-9]+|exited false false 0)$'
    [ "$(inspect '.[0].RestartCount' rs)" -ge 1 ]
}

@test "always: the container is restarted after its process is killed from the host, RestartCount 1" {
    bocker run -d --name al --restart always busybox sleep 300 >/dev/null
    pid=$(inspect '.[0].State.Pid' al)
    kill -9 "$pid"
    wait_until bash -c "[ \"\$('$BOCKER' inspect --format '.[0].RestartCount' al)\" = 1 ] && [ \"\$('$BOCKER' inspect --format '.[0].State.Status' al)\" = running ]"
    new=$(inspect '.[0].State.Pid' al)
    [ "$new" != "$pid" ]
    run bocker exec al echo inside
    assert_output inside
    # ... but not after `kill` through bocker (nor after stop: the next test)
    bocker kill al >/dev/null
    wait_until status_is al exited
    sleep 1
    assert_equal "$(inspect '.[0].State.Status' al)" exited
    assert_equal "$(inspect '.[0].RestartCount' al)" 1
    # a manual start starts the policy afresh
    bocker start al >/dev/null
    assert_equal "$(inspect '.[0].RestartCount' al)" 0
    assert_equal "$(inspect '.[0].HasBeenManuallyStopped' al)" false
}

@test "unless-stopped: stays stopped after stop" {
    bocker run -d --name us --restart unless-stopped busybox sleep 300 >/dev/null
    bocker stop -t 1 us >/dev/null
    sleep 1.5
    assert_equal "$(inspect '.[0].State.Status' us)" exited
    assert_equal "$(inspect '.[0].RestartCount' us)" 0
    assert_equal "$(inspect '.[0].HasBeenManuallyStopped' us)" true
    bk_assert_clean
}

@test "stop and rm -f of a restarting container end its wait: no process, cgroup or address left" {
    bocker run -d --name rr --restart always busybox false >/dev/null
    wait_until status_is rr restarting
    bocker stop rr >/dev/null
    assert_equal "$(inspect '.[0].State.Status' rr)" exited
    sleep 1
    assert_equal "$(inspect '.[0].State.Status' rr)" exited
    bocker start rr >/dev/null
    wait_until long_wait rr
    waiter=$(inspect '.[0].State.MonitorPid' rr)
    run --separate-stderr bocker rm rr
    assert_failure 1
    bk_assert_error_line 'cannot remove a restarting container'
    bocker rm -f rr >/dev/null
    run group_pids "$waiter"
    assert_output ''
    sleep 1  # nothing comes back
    run bocker ps -aq
    assert_output ''
    bk_assert_clean
}

@test "after a crash a restarting container shows Exited; start --all-restartable brings back always and unless-stopped ones" {
    bocker run -d --name al --restart always busybox sleep 300 >/dev/null
    bocker run -d --name us --restart unless-stopped busybox sleep 300 >/dev/null
    bocker run -d --name byhand --restart unless-stopped busybox sleep 300 >/dev/null
    bocker run -d --name of --restart on-failure busybox sleep 300 >/dev/null
    bocker run -d --name rs --restart always busybox false >/dev/null
    bocker stop -t 0 byhand >/dev/null
    # a long wait ahead, so that no restart of rs begins while the crash is being simulated
    wait_until long_wait rs
    # the crash: every monitor, waiter and container process dies at once
    kill -9 -- "-$(inspect '.[0].State.MonitorPid' rs)"
    for c in al us of; do
        kill -9 "$(inspect '.[0].State.MonitorPid' $c)" "$(inspect '.[0].State.Pid' $c)"
    done
    run bocker ps --format '{{.Names}} {{.Status}}'
    assert_output ''
    run bocker ps -a --format '{{.Names}} {{.Status}}'
    assert_line --regexp '^rs Exited \(1\) '
    assert_line --regexp '^al Exited \(255\) '
    run bocker start --all-restartable
    assert_success
    assert_output "$(printf 'al\nus\nrs')"
    for c in al us; do
        assert_equal "$(inspect '.[0].State.Status' $c)" running
    done
    assert_equal "$(inspect '.[0].State.Status' byhand)" exited
    assert_equal "$(inspect '.[0].State.Status' of)" exited
    run bocker start --help
    assert_output --partial --all-restartable
}

@test "a foreground run with a policy returns its first exit code; the restarts go on detached" {
    run bocker run --name fg --restart on-failure:1 busybox sh -c 'echo hi; exit 3'
    assert_failure 3
    assert_output hi
    wait_until bash -c "[ \"\$('$BOCKER' logs fg | wc -l)\" = 2 ] && [ \"\$('$BOCKER' inspect --format '.[0].State.Status' fg)\" = exited ]"
    assert_equal "$(inspect '.[0].RestartCount' fg)" 1
    bk_assert_clean
}

@test "update: --memory, --cpus, --pids-limit rewrite a running container's cgroup files (v1), and the record" {
    bk_require_cgroup_v1
    bocker run -d --name up -m 64m busybox sleep 300 >/dev/null
    id=$(bk_id up)
    dir=/sys/fs/cgroup/memory/$BOCKER_CGROUP_PARENT/$id
    assert_equal "$(cat "$dir/memory.limit_in_bytes")" $((64 * 1024 * 1024))
    run bocker update --memory 128m --cpus 0.5 --pids-limit 50 up
    assert_success
    assert_output up
    assert_equal "$(cat "$dir/memory.limit_in_bytes")" $((128 * 1024 * 1024))
    assert_equal "$(cat /sys/fs/cgroup/cpu/$BOCKER_CGROUP_PARENT/$id/cpu.cfs_quota_us)" 50000
    assert_equal "$(cat /sys/fs/cgroup/pids/$BOCKER_CGROUP_PARENT/$id/pids.max)" 50
    assert_equal "$(inspect '.[0].HostConfig | "\(.Memory) \(.NanoCpus) \(.PidsLimit)"' up)" "134217728 500000000 50"
    bocker update --pids-limit -1 up >/dev/null
    assert_equal "$(cat /sys/fs/cgroup/pids/$BOCKER_CGROUP_PARENT/$id/pids.max)" max
    # a stopped container: the record, used by its next start
    bocker stop -t 0 up >/dev/null
    bocker update -m 48m up >/dev/null
    bocker start up >/dev/null
    assert_equal "$(cat "$dir/memory.limit_in_bytes")" $((48 * 1024 * 1024))
    run --separate-stderr bocker update up
    assert_failure 1
    bk_assert_error_line 'one or more flags'
    run --separate-stderr bocker update -m 1k up
    assert_failure 1
    bk_assert_error_line '6MB'
    run --separate-stderr bocker update -m 64m nosuch
    assert_failure 1
    bk_assert_error_line 'No such container'
}

@test "update --restart: the new policy applies to the running container" {
    bocker run -d --name ur busybox sleep 300 >/dev/null
    bocker update --restart always ur >/dev/null
    assert_equal "$(inspect '.[0].HostConfig.RestartPolicy.Name' ur)" always
    kill -9 "$(inspect '.[0].State.Pid' ur)"
    wait_until bash -c "[ \"\$('$BOCKER' inspect --format '.[0].RestartCount' ur)\" = 1 ] && [ \"\$('$BOCKER' inspect --format '.[0].State.Status' ur)\" = running ]"
    run --separate-stderr bocker update --restart bogus ur
    assert_failure 1
    bk_assert_error_line 'restart policy'
    bocker create --rm --name rmc busybox true >/dev/null
    run --separate-stderr bocker update --restart always rmc
    assert_failure 1
    bk_assert_error_line 'AutoRemove'
}

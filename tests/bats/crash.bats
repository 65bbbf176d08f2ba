#!/usr/bin/env bats
# Crashes: the monitor and/or the container's process killed with SIGKILL, a pid reused.
# ps must tell the truth (Exited, never "Up" forever) and rm must clean up completely.

load helpers

setup_file() {
    bk_store_setup crash 236
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    if [ -n "${DECOY:-}" ]; then
        kill "$DECOY" 2>/dev/null || true
    fi
}

# wait_gone PID: poll until the process is gone (5 s at most)
wait_gone() {
    local i
    for i in $(seq 100); do
        [ -d "/proc/$1" ] || return 0
        sleep 0.05
    done
    return 1
}

# state NAME: the record on disk, as written (not corrected by ps)
state_on_disk() {
    jq -r '.State.Status' "$BOCKER_ROOT/containers/$(bk_id "$1")/config.json"
}

@test "kill -9 of the monitor and of PID 1: ps -a shows Exited; rm cleans up completely" {
    bocker run -d --name c1 busybox sleep 30 >/dev/null
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c1)
    pid=$(bocker inspect --format '.[0].State.Pid' c1)
    [[ "$monitor" =~ ^[0-9]+$ ]] && [ "$monitor" -gt 1 ] || fail "MonitorPid: $monitor"
    [ "$monitor" != "$pid" ]
    kill -9 "$monitor"
    wait_gone "$monitor"
    kill -9 "$pid"
    wait_gone "$pid"
    # nobody recorded the exit: the record still says running, ps must not believe it
    [ "$(state_on_disk c1)" = running ]
    run bocker ps
    refute_output --partial c1
    run bocker ps -a
    assert_output --regexp 'Exited \([0-9]+\) .* c1$'
    refute_output --partial 'Up '
    run bocker inspect --format '.[0].State | [.Status, .Running] | @tsv' c1
    assert_output "$(printf 'exited\tfalse')"
    # what the container held is still there until rm ...
    run bocker rm c1
    assert_success
    # ... and rm (no -f needed) removes all of it
    run ls "$BOCKER_ROOT/containers"
    assert_output ''
    bk_assert_clean
}

@test "kill -9 of the whole container (monitor, launcher, every process of its cgroup): Exited; rm cleans up" {
    id=$(bocker run -d --name c2 busybox sh -c 'sleep 30 & sleep 30 & wait')
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c2)
    kill -9 "$monitor"
    # a host reboot, simulated: every process of the container dies at once
    for p in $(cat /sys/fs/cgroup/pids/$BOCKER_CGROUP_PARENT/$id/tasks); do
        kill -9 "$p" 2>/dev/null || true
    done
    for p in $(cat /sys/fs/cgroup/pids/$BOCKER_CGROUP_PARENT/$id/tasks); do
        wait_gone "$p"
    done
    wait_gone "$monitor"
    run bocker ps -a --format '.Status'
    assert_output --regexp '^Exited \([0-9]+\) '
    run bocker rm c2
    assert_success
    bk_assert_clean
}

@test "kill -9 of PID 1 only: the monitor records 137 and releases everything by itself" {
    id=$(bocker run -d --name c3 busybox sleep 30)
    pid=$(bocker inspect --format '.[0].State.Pid' c3)
    kill -9 "$pid"
    for i in $(seq 200); do
        [ "$(state_on_disk c3)" = exited ] && break
        sleep 0.05
    done
    [ "$(state_on_disk c3)" = exited ] || fail "the monitor did not record the exit"
    run jq -r .State.ExitCode "$BOCKER_ROOT/containers/$id/config.json"
    assert_output 137
    bk_assert_clean
    run bocker ps -a
    assert_output --regexp 'Exited \(137\) .* c3$'
}

@test "kill -9 of the monitor only: the container keeps running (Up); stop records the exit and cleans up" {
    bocker run -d --name c4 busybox sh -c 'trap "exit 5" TERM; while :; do sleep 0.1; done' >/dev/null
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c4)
    kill -9 "$monitor"
    wait_gone "$monitor"
    run bocker ps
    assert_output --regexp 'Up .* c4$'
    run bocker stop -t 5 c4
    assert_success
    run bocker inspect --format '.[0].State.Status' c4
    assert_output exited
    [ "$(state_on_disk c4)" = exited ] || fail "stop did not record the exit"
    bk_assert_clean
    run bocker rm c4
    assert_success
    bk_assert_clean
}

@test "kill -9 of the monitor, then the container exits: wait returns, start works again" {
    bocker run -d --name c5 busybox sh -c 'trap "exit 9" USR1; while :; do sleep 0.1; done' >/dev/null
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c5)
    kill -9 "$monitor"
    wait_gone "$monitor"
    bocker kill -s USR1 c5
    run timeout 10 "$BOCKER" wait c5
    assert_success
    [[ "$output" =~ ^[0-9]+$ ]] || fail "wait printed: $output"
    run bocker start c5
    assert_success
    bk_wait_status c5 running
    run bocker ps
    assert_output --regexp 'Up .* c5$'
    run bk_cgroup_dirs
    [ "${#lines[@]}" -ge 1 ]
}

@test "a reused pid is detected by its start time: the record's pid now belongs to another process" {
    id=$(bocker run -d --name c6 busybox sleep 30)
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c6)
    pid=$(bocker inspect --format '.[0].State.Pid' c6)
    kill -9 "$monitor"
    kill -9 "$pid"
    wait_gone "$pid"
    # a host process that is not the container takes the place of its pid in the record
    sleep 60 &
    DECOY=$!
    f=$BOCKER_ROOT/containers/$id/config.json
    jq --argjson p "$DECOY" '.State.Pid = $p' "$f" > "$f.new" && mv "$f.new" "$f"
    run bocker ps -a
    assert_output --regexp 'Exited \([0-9]+\) .* c6$'
    run bocker rm c6
    assert_success
    [ -d "/proc/$DECOY" ] || fail "rm killed the process that reused the pid"
    bk_assert_clean
}

@test "after a crash, the address and the name can be used again" {
    bocker run -d --name c7 busybox sleep 30 >/dev/null
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' c7)
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c7)
    pid=$(bocker inspect --format '.[0].State.Pid' c7)
    kill -9 "$monitor" "$pid"
    wait_gone "$pid"
    bocker rm c7
    run bocker run -d --name c7 busybox sleep 30
    assert_success
    run bocker inspect --format '.[0].NetworkSettings.IPAddress' c7
    assert_output "$ip"
}

@test "rm -f of a container whose monitor died kills it and cleans up" {
    bocker run -d --name c8 busybox sleep 30 >/dev/null
    monitor=$(bocker inspect --format '.[0].State.MonitorPid' c8)
    pid=$(bocker inspect --format '.[0].State.Pid' c8)
    kill -9 "$monitor"
    wait_gone "$monitor"
    run bocker rm -f c8
    assert_success
    wait_gone "$pid" || fail "PID 1 survived rm -f"
    bk_assert_clean
}

#!/usr/bin/env bats
# Detached containers and their life: run -d, ps, stop, start, restart, kill, wait, create,
# pause/unpause, prune; the monitor releases cgroup, veth and address at exit on its own.

load helpers

setup_file() {
    bk_store_setup life 230
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# now in milliseconds
ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

log_lines() {
    wc -l < "$BOCKER_ROOT/containers/$1/container.log"
}

# log_lines_gt ID N: more than N lines in the container's log
log_lines_gt() {
    [ "$(log_lines "$1")" -gt "$2" ]
}

# A container that counts: one line in its log every 0.1 s; TERM ends it with 0.
COUNTER='trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'

@test "run -d prints the full 64-hex id and returns at once; ps shows Up" {
    t0=$(ms)
    run bocker run -d --name d1 busybox sleep 30
    t1=$(ms)
    assert_success
    id=$output
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "not a 64-hex id: $id"
    [ $((t1 - t0)) -lt 3000 ] || fail "run -d took $((t1 - t0)) ms"
    [ "$(bk_id d1)" = "$id" ]
    run bocker ps
    assert_success
    assert_line --index 1 --regexp "^${id:0:12} +busybox +\"sleep 30\" +.* +Up (Less than a second|[0-9]+ seconds?) +d1\$"
    run bocker inspect --format '.[0].State.Status' d1
    assert_output running
}

@test "a detached container that exits shows 'Exited (N) ... ago' in ps -a, not in ps" {
    id=$(bocker run -d --name d2 busybox sh -c 'exit 4')
    run bocker wait d2
    assert_success
    assert_output 4
    run bocker ps -a
    assert_line --index 1 --regexp "^${id:0:12} +busybox .* Exited \(4\) (Less than a second|[0-9]+ seconds?) ago +d2\$"
    run bocker ps -q
    assert_output ''
    run bocker inspect --format '.[0].State | [.Status, .Running, .ExitCode, .Pid] | @tsv' d2
    assert_output "$(printf 'exited\tfalse\t4\t0')"
    run bocker inspect --format '.[0].State.FinishedAt' d2
    refute_output --regexp '^0001-'
}

@test "a detached container's output goes to its log" {
    bocker run -d --name d3 busybox sh -c 'echo out; echo err >&2' >/dev/null
    bocker wait d3
    run bocker logs d3
    assert_success
    assert_line out
    assert_line err
}

@test "cgroup, veth and address are released when a detached container exits, with no bocker command after" {
    id=$(bocker run -d --name d4 busybox sh -c 'sleep 0.3; exit 6')
    # while it runs: its cgroup, its veth on the bridge, its lease
    run bk_cgroup_dirs
    assert_output --partial "$id"
    run bk_bridge_ports
    refute_output ''
    run bk_leases
    refute_output ''
    # no bocker command from here on until all three are gone
    wait_for test -f "$BOCKER_ROOT/containers/$id/exitcode"
    empty() { [ -z "$("$@")" ]; }
    wait_for empty bk_cgroup_dirs || fail "cgroup left: $(bk_cgroup_dirs)"
    wait_for empty bk_bridge_ports || fail "veth left: $(bk_bridge_ports)"
    wait_for empty bk_leases || fail "lease left: $(bk_leases)"
    # and the record says so (written by the monitor, not corrected by ps)
    run jq -r '.State.Status + " " + (.State.ExitCode|tostring)' "$BOCKER_ROOT/containers/$id/config.json"
    assert_output 'exited 6'
    bk_assert_clean
}

@test "stop of a container ignoring SIGTERM (sleep as PID 1) takes about -t seconds and records 137" {
    bocker run -d --name st1 busybox sleep 30 >/dev/null
    t0=$(ms)
    run bocker stop -t 1 st1
    t1=$(ms)
    assert_success
    assert_output st1
    [ $((t1 - t0)) -ge 900 ] || fail "stop -t 1 returned after $((t1 - t0)) ms: SIGTERM killed sleep?"
    [ $((t1 - t0)) -lt 4000 ] || fail "stop -t 1 took $((t1 - t0)) ms"
    run bocker inspect --format '.[0].State.ExitCode' st1
    assert_output 137
    run bocker ps -a
    assert_output --regexp 'Exited \(137\) .* st1'
    bk_assert_clean
}

@test "stop of a container that handles SIGTERM is quick and records its exit code" {
    bocker run -d --name st2 busybox sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null
    t0=$(ms)
    run bocker stop -t 10 st2
    t1=$(ms)
    assert_success
    [ $((t1 - t0)) -lt 3000 ] || fail "stop took $((t1 - t0)) ms"
    run bocker inspect --format '.[0].State.ExitCode' st2
    assert_output 7
    bk_assert_clean
}

@test "stop -s sends another signal first" {
    bocker run -d --name st3 busybox sh -c 'trap "exit 12" USR1; while :; do sleep 0.1; done' >/dev/null
    run bocker stop -t 5 -s USR1 st3
    assert_success
    run bocker inspect --format '.[0].State.ExitCode' st3
    assert_output 12
}

@test "stop of a stopped container succeeds and changes nothing" {
    bocker run -d --name st4 busybox sh -c 'exit 2' >/dev/null
    bocker wait st4
    run bocker stop st4
    assert_success
    run bocker inspect --format '.[0].State.ExitCode' st4
    assert_output 2
}

@test "start of an exited container runs it again; logs append" {
    id=$(bocker run -d --name s1 busybox sh -c 'echo hello; exit 3')
    run bocker wait s1
    assert_output 3
    started=$(jq -r .State.StartedAt "$BOCKER_ROOT/containers/$id/config.json")
    run bocker start s1
    assert_success
    assert_output s1
    run bocker wait s1
    assert_output 3
    run bocker logs s1
    assert_output "$(printf 'hello\nhello')"
    [ "$(jq -r .State.StartedAt "$BOCKER_ROOT/containers/$id/config.json")" != "$started" ]
    bk_assert_clean
}

@test "start of a stopped long-running container: Up again with a new pid and its address back" {
    bocker run -d --name s2 busybox sleep 30 >/dev/null
    bocker stop -t 0 s2
    run bocker start s2
    assert_success
    bk_wait_status s2 running
    pid=$(bocker inspect --format '.[0].State.Pid' s2)
    [ -d "/proc/$pid" ]
    run bocker inspect --format '.[0].NetworkSettings.IPAddress' s2
    assert_output --regexp "^${BK_NET//./\\.}\.[0-9]+\$"
    run bocker ps
    assert_output --regexp 'Up .* s2'
    run bk_bridge_ports
    refute_output ''
}

@test "start of a running container is a no-op" {
    bocker run -d --name s3 busybox sleep 30 >/dev/null
    pid=$(bocker inspect --format '.[0].State.Pid' s3)
    run bocker start s3
    assert_success
    [ "$(bocker inspect --format '.[0].State.Pid' s3)" = "$pid" ]
}

@test "restart: a new process, logs of both runs, running" {
    bocker run -d --name r1 busybox sh -c "echo started; $COUNTER" >/dev/null
    pid=$(bocker inspect --format '.[0].State.Pid' r1)
    run bocker restart -t 2 r1
    assert_success
    assert_output r1
    bk_wait_status r1 running
    pid2=$(bocker inspect --format '.[0].State.Pid' r1)
    [ "$pid2" != "$pid" ]
    [ ! -d "/proc/$pid" ]
    sleep 0.2
    run bocker logs r1
    [ "$(grep -c '^started$' <<< "$output")" = 2 ] || fail "logs: $output"
}

@test "restart of an exited container starts it" {
    bocker run -d --name r2 busybox sh -c 'echo once' >/dev/null
    bocker wait r2
    run bocker restart r2
    assert_success
    bocker wait r2
    run bocker logs r2
    assert_output "$(printf 'once\nonce')"
}

@test "kill -s HUP reaches the container's trap; wait prints its code" {
    bocker run -d --name k1 busybox sh -c 'trap "echo got-hup; exit 3" HUP; while :; do sleep 0.1; done' >/dev/null
    run bocker kill -s HUP k1
    assert_success
    assert_output k1
    run bocker wait k1
    assert_success
    assert_output 3
    run bocker logs k1
    assert_output got-hup
}

@test "kill (default KILL) ends even sleep as PID 1: 137" {
    bocker run -d --name k2 busybox sleep 30 >/dev/null
    run bocker kill k2
    assert_success
    run bocker wait k2
    assert_output 137
    bk_assert_clean
}

@test "kill with a signal number, and an invalid signal" {
    bocker run -d --name k3 busybox sh -c 'trap "exit 10" USR2; while :; do sleep 0.1; done' >/dev/null
    run --separate-stderr bocker kill -s NOSUCHSIG k3
    assert_failure
    bk_assert_error_line 'invalid signal'
    bk_wait_status k3 running
    run bocker kill -s 12 k3
    assert_success
    run bocker wait k3
    assert_output 10
}

@test "kill of a stopped container fails with one line" {
    bocker run -d --name k4 busybox true >/dev/null
    bocker wait k4
    run --separate-stderr bocker kill k4
    assert_failure 1
    bk_assert_error_line 'is not running'
}

@test "wait blocks until the exit and prints the code; several containers, one line each" {
    bocker run -d --name w1 busybox sh -c 'sleep 3; exit 42' >/dev/null
    bocker run -d --name w2 busybox sh -c 'exit 0' >/dev/null
    t0=$(ms)
    run bocker wait w1 w2
    t1=$(ms)
    assert_success
    assert_output "$(printf '42\n0')"
    # w1 still had most of its 3 s to sleep (unless starting w2 took over 2 s)
    [ $((t1 - t0)) -ge 1000 ] || fail "wait returned after $((t1 - t0)) ms"
}

@test "wait, stop, start, kill, restart of an unknown container: exit 1, one line" {
    for verb in wait stop start kill restart pause unpause; do
        run --separate-stderr bocker $verb nosuch
        assert_failure 1
        bk_assert_error_line 'No such container: nosuch'
    done
}

@test "create makes a Created container; start -a runs it attached with its exit code" {
    run bocker create --name c1 busybox sh -c 'echo hi from c1; exit 3'
    assert_success
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    run bocker ps -a
    assert_output --regexp 'Created +c1$'
    run bocker inspect --format '.[0].State.Status' c1
    assert_output created
    run bk_cgroup_dirs
    assert_output ''
    run bocker start -a c1
    assert_failure 3
    assert_output 'hi from c1'
    run bocker ps -a
    assert_output --regexp 'Exited \(3\) .* c1$'
    bk_assert_clean
}

@test "create then start (detached)" {
    bocker create --name c2 busybox sleep 30 >/dev/null
    run bocker start c2
    assert_success
    bk_wait_status c2 running
    run bocker ps
    assert_output --regexp 'Up .* c2$'
}

@test "pause freezes the processes (the counter stops), ps shows Paused; unpause thaws" {
    id=$(bocker run -d --name p1 busybox sh -c "$COUNTER")
    wait_for log_lines_gt "$id" 1
    run bocker pause p1
    assert_success
    assert_output p1
    run bocker ps
    assert_output --regexp 'Up .* \(Paused\) +p1$'
    run bocker inspect --format '.[0].State | [.Status, .Paused] | @tsv' p1
    assert_output "$(printf 'paused\ttrue')"
    [ "$(cat /sys/fs/cgroup/freezer/$BOCKER_CGROUP_PARENT/$id/freezer.state)" = FROZEN ]
    n1=$(log_lines "$id")
    sleep 0.6
    n2=$(log_lines "$id")
    [ "$n1" = "$n2" ] || fail "counter advanced while paused: $n1 -> $n2"
    # a paused container refuses exec, and pause again
    run --separate-stderr bocker exec p1 true
    assert_failure 1
    bk_assert_error_line 'paused'
    run --separate-stderr bocker pause p1
    assert_failure 1
    bk_assert_error_line 'already paused'
    run bocker unpause p1
    assert_success
    run bocker inspect --format '.[0].State.Status' p1
    assert_output running
    wait_for log_lines_gt "$id" "$n2" || fail "counter did not advance after unpause"
    run bocker ps
    refute_output --partial Paused
}

@test "stop of a paused container works" {
    bocker run -d --name p2 busybox sh -c "$COUNTER" >/dev/null
    bocker pause p2
    t0=$(ms)
    run bocker stop -t 5 p2
    t1=$(ms)
    assert_success
    [ $((t1 - t0)) -lt 4000 ] || fail "stop of a paused container took $((t1 - t0)) ms"
    run bocker inspect --format '.[0].State.Status' p2
    assert_output exited
    bk_assert_clean
}

@test "unpause of a running container fails; pause of a stopped one fails" {
    bocker run -d --name p3 busybox sleep 30 >/dev/null
    run --separate-stderr bocker unpause p3
    assert_failure 1
    bk_assert_error_line 'not paused'
    bocker run -d --name p4 busybox true >/dev/null
    bocker wait p4
    run --separate-stderr bocker pause p4
    assert_failure 1
    bk_assert_error_line 'not running'
}

@test "rm -f of a detached running container removes everything" {
    id=$(bocker run -d --name rm1 busybox sleep 30)
    pid=$(bocker inspect --format '.[0].State.Pid' rm1)
    run bocker rm -f rm1
    assert_success
    [ ! -d "/proc/$pid" ]
    [ ! -e "$BOCKER_ROOT/containers/$id" ]
    bk_assert_clean
}

@test "container prune removes stopped containers and keeps running ones" {
    bocker run -d --name keep busybox sleep 30 >/dev/null
    done1=$(bocker run -d --name gone1 busybox true)
    bocker create --name gone2 busybox true >/dev/null
    bocker wait gone1
    run bocker container prune -f
    assert_success
    assert_line "$done1"
    run bocker ps -a --format '.Names'
    assert_output keep
}

@test "image prune removes dangling images only; busybox stays" {
    bocker run --name base busybox true
    run bocker commit base
    assert_success
    img=${output#sha256:}
    bocker rm base
    run bocker images -q --no-trunc
    assert_output --partial "$img"
    run bocker image prune -f
    assert_success
    assert_output --partial "${img:0:12}"
    run bocker images -q --no-trunc
    refute_output --partial "$img"
    run bocker images --format '.Repository'
    assert_output busybox
}

@test "system prune removes stopped containers; system df counts images, containers and volumes" {
    bocker run -d --name sp1 busybox sleep 30 >/dev/null
    bocker run --name sp2 busybox true
    run bocker system df
    assert_success
    assert_line --index 0 --regexp '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$'
    assert_line --regexp '^Images +1 +1 +'
    assert_line --regexp '^Containers +2 +1 '
    run bocker system prune -f
    assert_success
    run bocker ps -a --format '.Names'
    assert_output sp1
    run bocker images --format '.Repository'
    assert_output busybox
}

@test "logs -f follows a detached container until it exits; --tail N; -f --tail 1" {
    bocker run -d --name lf busybox sh -c 'for i in 1 2 3 4; do echo line$i; sleep 0.2; done' >/dev/null
    t0=$(ms)
    run timeout 10 "$BOCKER" logs -f --tail 1 lf
    t1=$(ms)
    assert_success
    # started while line1 (at most line2) was written: the last line so far, then the rest
    assert_output --regexp "^line[12]"$'\n'"(line2"$'\n'")?line3"$'\n'"line4\$"
    [ $((t1 - t0)) -ge 300 ] || fail "logs -f returned after $((t1 - t0)) ms, before the container's end"
    run bocker logs --tail 2 lf
    assert_output "$(printf 'line3\nline4')"
    run bocker logs -n 10 lf
    assert_output "$(printf 'line1\nline2\nline3\nline4')"
    run --separate-stderr bocker logs --tail abc lf
    assert_failure 1
    bk_assert_error_line 'tail'
}

@test "run -d --rm: the container is removed when it exits on its own" {
    id=$(bocker run -d --rm --name rr1 busybox sh -c 'sleep 0.3')
    wait_for test ! -e "$BOCKER_ROOT/containers/$id" || fail "not removed after its exit"
    run bocker ps -a -q
    assert_output ''
    bk_assert_clean
}

@test "stop of a run -d --rm container succeeds (as docker's) and removes it" {
    bocker run -d --rm --name rr2 busybox sleep 30 >/dev/null
    run --separate-stderr bocker stop -t 0 rr2
    [ "$status" = 0 ] || fail "stop: exit $status: $stderr"
    assert_output rr2
    run bocker ps -a -q
    assert_output ''
    bk_assert_clean
}

@test "wait on a run -d --rm container prints its exit code (as docker's)" {
    bocker run -d --rm --name rr3 busybox sh -c 'sleep 0.5; exit 3' >/dev/null
    run --separate-stderr bocker wait rr3
    [ "$status" = 0 ] || fail "wait: exit $status: $stderr"
    assert_output 3
}

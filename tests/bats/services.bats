#!/usr/bin/env bats
# Containers as services: the lifecycle bugs of issue 14 (tty checks, signals with -t, zombies,
# -di, start -a --rm, exec -t -e TERM, kill's signals, --rm --volumes-from, logs streams,
# parallel stop), then stop signals, rename, restart policies, top, diff, cp, stats.

load helpers

setup_file() {
    bk_store_setup svc 244
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

# now in milliseconds
ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

@test "a container whose PID 1 is a zombie (its waiters stopped) is not Up" {
    bocker run -d --name z busybox sleep 60 >/dev/null
    pid=$(bocker inspect --format '.[0].State.Pid' z)
    waiter=$(awk '{print $4}' /proc/$pid/stat)  # busybox unshare, which reaps PID 1
    kill -9 "$(bocker inspect --format '.[0].State.MonitorPid' z)"  # a crash: no monitor
    kill -STOP "$waiter"
    # SIGSTOP is delivered when the waiter next runs: until it shows T it may still be inside
    # wait(2) and would reap PID 1 before stopping
    wait_for bash -c "[ \"\$(awk '{print \$3}' /proc/$waiter/stat)\" = T ]"
    kill -9 "$pid"
    wait_for bash -c "[ \"\$(awk '{print \$3}' /proc/$pid/stat 2>/dev/null)\" = Z ]"
    status=$(bocker inspect --format '.[0].State.Status' z)
    kill -CONT "$waiter"
    assert_equal "$status" exited
}

@test "run -it and start -ai without a terminal: 'the input device is not a TTY', exit 1, nothing made" {
    run --separate-stderr bash -c "echo 'echo hi' | timeout 10 '$BOCKER' run -it --rm busybox sh"
    assert_failure 1
    assert_equal "$stderr" "bocker: the input device is not a TTY"
    run --separate-stderr timeout 10 "$BOCKER" run -it --rm busybox sh </dev/null
    assert_failure 1
    bk_assert_error_line 'the input device is not a TTY'
    run bocker ps -aq
    assert_output ''
    bocker create -t --name ct busybox sh >/dev/null
    run --separate-stderr timeout 10 "$BOCKER" start -ai ct </dev/null
    assert_failure 1
    bk_assert_error_line 'the input device is not a TTY'
    run bocker inspect --format '.[0].State.Status' ct
    assert_output created
}

@test "run -t --rm killed by timeout: the signal reaches the container, which is removed, nothing left" {
    run timeout 2 "$BOCKER" run -t --rm --name tt busybox sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
    assert_equal "$status" 124
    run bocker ps -aq
    assert_output ''
    bk_assert_clean
}

@test "start -a of a container created with --rm removes it after its run" {
    bocker create --rm --name sr busybox sh -c 'echo ran; exit 6' >/dev/null
    run bocker start -a sr
    assert_failure 6
    assert_output ran
    run bocker ps -aq
    assert_output ''
    bk_assert_clean
}

@test "exec -t -e TERM=foo: the explicit -e wins over -t's TERM=xterm" {
    bocker run -d --name et busybox sleep 30 >/dev/null
    run bocker exec -t -e TERM=foo et sh -c 'echo $TERM'
    assert_success
    assert_output --regexp '^foo'$'\r''?$'
    run bocker exec -t et sh -c 'echo $TERM'
    assert_output --regexp '^xterm'$'\r''?$'
}

@test "kill -s 0, -1, 65, BOGUS are refused: exit 1, one line; the container runs on" {
    bocker run -d --name ks busybox sleep 30 >/dev/null
    for sig in 0 -1 65 BOGUS; do
        run --separate-stderr bocker kill -s "$sig" ks
        assert_failure 1
        bk_assert_error_line "invalid signal: $sig"
        [ "${#stderr_lines[@]}" = 1 ] || fail "more than one line: $stderr"
    done
    run bocker inspect --format '.[0].State.Status' ks
    assert_output running
}

@test "run --rm --volumes-from X: succeeds quietly and leaves X's anonymous volume" {
    bocker run -d --name vx -v /data busybox sleep 30 >/dev/null
    run --separate-stderr bocker run --rm --volumes-from vx busybox sh -c 'echo hi > /data/f'
    assert_success
    assert_equal "$stderr" ''
    run bocker exec vx cat /data/f
    assert_output hi
    run bocker volume ls -q
    assert_equal "${#lines[@]}" 1
}

@test "run -di busybox sh stays Up with its stdin open; what is written to it runs" {
    bocker run -di --name di busybox sh >/dev/null
    sleep 1
    run bocker inspect --format '.[0].State.Status' di
    assert_output running
    echo 'echo from-stdin' > "$BOCKER_ROOT/containers/$(bk_id di)/stdin.fifo"
    wait_for bash -c "'$BOCKER' logs di | grep -qx from-stdin"
    run bocker stop -t 1 di
    assert_success
}

@test "stop -t 2 a b c stops them in parallel: about 2 s, not 6; each name printed" {
    for n in pa pb pc; do bocker run -d --name $n busybox sleep 60 >/dev/null; done
    t0=$(ms)
    run bocker stop -t 2 pa pb pc
    t1=$(ms)
    assert_success
    assert_output $'pa\npb\npc'
    [ $((t1 - t0)) -lt 4500 ] || fail "stop took $((t1 - t0)) ms"
    for n in pa pb pc; do
        run bocker inspect --format '.[0].State.ExitCode' $n
        assert_output 137
    done
    run --separate-stderr bocker stop -t 1 pa nosuch
    assert_failure 1
    assert_output pa
    bk_assert_error_line 'No such container: nosuch'
}

@test "logs keeps stdout and stderr apart (foreground and detached); -t shows nanosecond stamps" {
    bocker run --name lf busybox sh -c 'echo out1; echo err1 >&2; echo out2' >/dev/null 2>&1
    bocker run -d --name ld busybox sh -c 'echo out1; echo err1 >&2; echo out2' >/dev/null
    bocker wait ld >/dev/null
    for c in lf ld; do
        run bash -c "'$BOCKER' logs $c 2>/dev/null"
        assert_output $'out1\nout2'
        run bash -c "'$BOCKER' logs $c 2>&1 >/dev/null"
        assert_output err1
        run --separate-stderr bocker logs -t $c
        assert_equal "${#lines[@]}" 2
        for line in "${lines[@]}" "$stderr"; do
            [[ "$line" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z\ (out|err)[12]$ ]] ||
                fail "not an RFC 3339 nano stamp and the text: $line"
        done
        run bocker logs --since 1h $c
        assert_equal "${#lines[@]}" 3
    done
}

@test "--stop-signal, the image's STOPSIGNAL and --stop-timeout are what stop uses; stop -s still wins" {
    TRAPS='trap "exit 10" USR1; trap "exit 15" TERM; while :; do sleep 0.1; done'
    bocker run -d --name ss --stop-signal USR1 busybox sh -c "$TRAPS" >/dev/null
    run bocker inspect --format '.[0].Config.StopSignal' ss
    assert_output USR1
    bocker stop ss >/dev/null
    run bocker inspect --format '.[0].State.ExitCode' ss
    assert_output 10
    bocker start ss >/dev/null
    bocker stop -s TERM ss >/dev/null
    run bocker inspect --format '.[0].State.ExitCode' ss
    assert_output 15
    bocker commit -c 'STOPSIGNAL SIGUSR1' ss svc-stopsig >/dev/null
    bocker run -d --name si svc-stopsig sh -c "$TRAPS" >/dev/null
    bocker stop si >/dev/null
    run bocker inspect --format '.[0].State.ExitCode' si
    assert_output 10
    bocker run -d --name st --stop-timeout 1 busybox sleep 30 >/dev/null
    t0=$(ms)
    bocker stop st >/dev/null
    [ $(($(ms) - t0)) -lt 3000 ] || fail "stop did not use --stop-timeout 1"
    run --separate-stderr bocker run -d --stop-signal BOGUS busybox true
    assert_failure 125
    bk_assert_error_line 'invalid signal: BOGUS'
    bocker rm -f ss si st >/dev/null
    bocker rmi svc-stopsig >/dev/null
}

@test "rename: the new name resolves, the old one is free; a taken or invalid name is refused with one line" {
    bocker run -d --name old1 busybox sleep 30 >/dev/null
    id=$(bk_id old1)
    bocker run -d --name other busybox sleep 30 >/dev/null
    run bocker rename old1 new1
    assert_success
    assert_equal "$(bk_id new1)" "$id"
    run bocker ps --format '.Names'
    assert_line new1
    refute_line old1
    run --separate-stderr bocker inspect old1
    assert_failure
    run --separate-stderr bocker rename new1 other
    assert_failure 1
    bk_assert_error_line 'already in use'
    run --separate-stderr bocker rename new1 'bad/name'
    assert_failure 1
    bk_assert_error_line 'Invalid container name'
    run bocker rename new1 old1   # the old name is free again
    assert_success
    run bocker exec old1 true
    assert_success
}

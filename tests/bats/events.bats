#!/usr/bin/env bats
# events: the store's append-only events log, read by `bocker events` in another process
# (live, --since/--until, --filter, --format); wait --condition.

load helpers

setup_file() {
    bk_store_setup events 224
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

# events_bg FILE ARGS...: `bocker events ARGS...` in the background, its output in FILE
events_bg() {
    local out=$1
    shift
    "$BOCKER" events "$@" > "$out" 2>&1 3>&- &
    echo $! >> "$BK_TMP/bg.pids"
    EVENTS_PID=$!
    sleep 1  # (it starts following at its start)
}

@test "events in another process sees a container's create, start and die live" {
    events_bg "$BK_TMP/live.out" --filter type=container
    id=$(bocker run -d --name ev1 busybox sh -c 'exit 3')
    bocker wait ev1
    wait_for grep -q " container die " "$BK_TMP/live.out"
    kill "$EVENTS_PID"
    run cat "$BK_TMP/live.out"
    echo "$output"
    assert_line --regexp "^20[0-9-]+T[0-9:]+\.[0-9]{9}Z container create $id \(image=busybox, name=ev1\)$"
    assert_line --regexp "^20[0-9-]+T[0-9:]+\.[0-9]{9}Z container start $id \(image=busybox, name=ev1\)$"
    assert_line --regexp "^20[0-9-]+T[0-9:]+\.[0-9]{9}Z container die $id \(exitCode=3, image=busybox, name=ev1\)$"
    # in that order
    run grep -o 'container [a-z]*' "$BK_TMP/live.out"
    assert_output $'container create\ncontainer start\ncontainer die'
}

@test "events --since --until replays the past and exits; --filter, --format" {
    t0=$(date +%s.%N)
    bocker create --name ev2 -l tier=db busybox true >/dev/null
    bocker start ev2 >/dev/null
    bocker wait ev2 >/dev/null
    bocker rename ev2 ev3
    bocker rm ev3 >/dev/null
    run timeout 10 "$BOCKER" events --since "$t0" --until 0s --filter container=ev2 --filter container=ev3 \
        --format '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.tier}}'
    assert_success
    assert_output $'create ev2 db\nstart ev2 db\ndie ev2 db\nrename ev3 db\ndestroy ev3 db'
    run timeout 10 "$BOCKER" events --since 1m --until 0s --filter event=rename --format '{{json .}}'
    assert_success
    assert_output --regexp '^\{"status":"rename",.*"Type":"container","Action":"rename","Actor":\{"ID":"[0-9a-f]{64}","Attributes":\{.*"oldName":"/ev2".*\},"scope":"local","time":[0-9]+,"timeNano":[0-9]+\}$'
    run timeout 10 "$BOCKER" system events --since 1m --until 0s --filter label=tier=db --filter event=die
    assert_success
    assert_output --partial "container die"
    assert_equal "${#lines[@]}" 1
}

@test "events: stop (kill then die then stop), pause, volume and network events" {
    t0=$(date +%s.%N)
    bocker run -d --name ev4 busybox sleep 60 >/dev/null
    bocker pause ev4 >/dev/null
    bocker unpause ev4 >/dev/null
    bocker stop -t 1 ev4 >/dev/null
    bocker volume create evvol >/dev/null
    bocker volume rm evvol >/dev/null
    run timeout 10 "$BOCKER" events --since "$t0" --until 0s --format '{{.Type}} {{.Action}}'
    assert_success
    assert_output $'container create\nnetwork connect\ncontainer start\ncontainer pause\ncontainer unpause\ncontainer kill\ncontainer die\nnetwork disconnect\ncontainer stop\nvolume create\nvolume destroy'
}

@test "events refuses a bad filter or time with one line, exit 1" {
    run --separate-stderr bocker events --filter bogus=1
    assert_failure 1
    bk_assert_error_line "invalid filter"
    run --separate-stderr bocker events --since yesterday
    assert_failure 1
    bk_assert_error_line "invalid time"
}

@test "wait --condition not-running returns at once for a created container, next-exit waits for its run" {
    bocker create --name w1 busybox sh -c 'exit 4' >/dev/null
    run timeout 5 "$BOCKER" wait w1
    assert_success
    assert_output 0
    ( timeout 20 "$BOCKER" wait --condition next-exit w1 > "$BK_TMP/next.out" 2>&1; echo $? > "$BK_TMP/next.rc" ) 3>&- &
    echo $! >> "$BK_TMP/bg.pids"
    sleep 1
    [ ! -f "$BK_TMP/next.rc" ]  # still waiting: nothing ran yet
    bocker start w1 >/dev/null
    wait_for test -f "$BK_TMP/next.rc"
    assert_equal "$(cat "$BK_TMP/next.rc")" 0
    assert_equal "$(cat "$BK_TMP/next.out")" 4
}

@test "wait --condition next-exit of a running container is its current run's exit" {
    bocker run -d --name w2 busybox sh -c 'sleep 1; exit 6' >/dev/null
    run timeout 20 "$BOCKER" wait --condition next-exit w2
    assert_success
    assert_output 6
}

@test "wait --condition removed waits for rm, and prints the last exit code" {
    bocker run -d --name w3 busybox sh -c 'exit 5' >/dev/null
    bocker wait w3 >/dev/null
    ( timeout 20 "$BOCKER" wait --condition removed w3 > "$BK_TMP/rm.out" 2>&1; echo $? > "$BK_TMP/rm.rc" ) 3>&- &
    echo $! >> "$BK_TMP/bg.pids"
    sleep 1
    [ ! -f "$BK_TMP/rm.rc" ]  # exited, but not removed yet
    bocker rm w3 >/dev/null
    wait_for test -f "$BK_TMP/rm.rc"
    assert_equal "$(cat "$BK_TMP/rm.rc")" 0
    assert_equal "$(cat "$BK_TMP/rm.out")" 5
    run --separate-stderr bocker wait --condition bogus x
    assert_failure 1
    bk_assert_error_line "invalid condition"
}

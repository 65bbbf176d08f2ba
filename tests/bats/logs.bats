#!/usr/bin/env bats
# `bocker logs`: every line stamped when written (-t), --since/--until, --tail, -f, and the
# size cap (--log-opt max-size), for foreground and detached containers.

load helpers

setup_file() {
    bk_store_setup logs 237
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z '

@test "logs -t of a foreground run: each line stamped, stdout and stderr, an unfinished last line kept" {
    bocker run --name fg busybox sh -c 'echo one; echo two >&2; sleep 0.2; printf three' >/dev/null 2>&1
    run bocker logs fg
    assert_success
    assert_output $'one\ntwo\nthree'
    run bocker logs -t fg
    assert_success
    assert_equal "${#lines[@]}" 3
    for line in "${lines[@]}"; do
        [[ "$line" =~ $STAMP ]] || fail "no timestamp: $line"
    done
    assert_line --regexp "${STAMP}three\$"
}

@test "logs -t of a detached run: stamped by the monitor; --tail counts lines" {
    bocker run -d --name bg busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done' >/dev/null
    run bocker wait bg
    assert_output 0
    run bocker logs --tail 2 bg
    assert_output $'line4\nline5'
    run bocker logs -t --tail 1 bg
    assert_output --regexp "${STAMP}line5\$"
}

@test "--since and --until select lines by time" {
    bocker run --name t busybox echo early >/dev/null
    sleep 1.1
    cut=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    sleep 1.1
    bocker start -a t >/dev/null
    run bocker logs t
    assert_output $'early\nearly'
    run bocker logs --since "$cut" t
    assert_output early
    run bocker logs --until "$cut" t
    assert_output early
    run bocker logs --since 1h t
    assert_output $'early\nearly'
    run --separate-stderr bocker logs --since yesterday t
    assert_failure 1
    bk_assert_error_line 'invalid time'
}

@test "logs -f follows a detached container until it exits" {
    bocker run -d --name f busybox sh -c 'echo a; sleep 1; echo b' >/dev/null
    run timeout 10 "$BOCKER" logs -f f
    assert_success
    assert_output $'a\nb'
}

@test "--log-opt max-size caps the log: it is rotated, one older file kept" {
    bocker run -d --name big --log-opt max-size=8k busybox sh -c \
        'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done' >/dev/null
    run bocker wait big
    assert_output 0
    dir=$BOCKER_ROOT/containers/$(bk_id big)
    [ -f "$dir/container.log.1" ] || fail "no rotated log"
    size=$(( $(stat -c %s "$dir/container.log") + $(stat -c %s "$dir/container.log.1") ))
    [ "$size" -le $((2 * 8192 + 200)) ] || fail "log grew to $size bytes"
    run bocker logs --tail 1 big
    assert_output 'line 2999'
}

@test "a bad --log-opt is refused with 125" {
    run --separate-stderr bocker run --rm --log-opt max-file=3 busybox true
    assert_failure 125
    bk_assert_error_line 'log option'
    run --separate-stderr bocker run --rm --log-opt max-size=lots busybox true
    assert_failure 125
}

#!/usr/bin/env bats
# Health checks: --health-* flags and the image's HEALTHCHECK, run inside the container from the
# monitor shell; ps STATUS and --filter health=, inspect .State.Health.

load helpers

setup_file() {
    bk_store_setup health 221
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

health_is() {
    [ "$(inspect '.[0].State.Health.Status' "$1")" = "$2" ]
}

@test "a health check goes starting -> healthy -> unhealthy; ps, --filter health= and inspect say so" {
    # healthy while /tmp/bad does not exist; the first check comes after the interval
    bocker run -d --name hc --health-cmd 'echo probing; test ! -e /tmp/bad' --health-interval 1s \
        --health-retries 2 busybox sleep 300 >/dev/null
    run bocker ps --format '{{.Names}} {{.Status}}'
    assert_output --regexp '^hc Up .* \(health: starting\)$'
    run bocker ps -q --filter health=starting
    assert_output "$(inspect '.[0].Id[:12]' hc)"
    wait_until health_is hc healthy
    run bocker ps --format '{{.Status}}' --filter health=healthy
    assert_output --regexp '^Up .* \(healthy\)$'
    run bocker ps -q --filter health=unhealthy
    assert_output ''
    bocker exec hc touch /tmp/bad
    wait_until health_is hc unhealthy
    run bocker ps --format '{{.Status}}'
    assert_output --regexp '^Up .* \(unhealthy\)$'
    run bocker ps -q --filter health=unhealthy
    assert_output "$(inspect '.[0].Id[:12]' hc)"
    run bocker events --since 0 --until "$(( $(date +%s) + 1 ))" --filter container=hc --format '{{.Action}}'
    assert_equal "$(grep '^health_status' <<< "$output" | tr '\n' ,)" 'health_status: healthy,health_status: unhealthy,'
    run inspect '.[0].State.Health | "\(.FailingStreak >= 2) \(.Log | length <= 5) \(.Log[-1].ExitCode) \(.Log[-1].Output)"' hc
    assert_output "true true 1 probing"
    run inspect '.[0].State.Health.Log[-1] | (.Start | test("^20..-..-..T")) and (.End >= .Start)' hc
    assert_output true
    # (the check ran inside the container: it saw the file exec made there)
    assert_equal "$(inspect '.[0].Config.Healthcheck | "\(.Test) \(.Interval) \(.Retries)"' hc)" \
        '["CMD-SHELL","echo probing; test ! -e /tmp/bad"] 1000000000 2'
    # a container without a check is health=none
    bocker run -d --name plain busybox sleep 300 >/dev/null
    run bocker ps -q --filter health=none
    assert_output "$(inspect '.[0].Id[:12]' plain)"
    run --separate-stderr bocker ps --filter health=bogus
    assert_failure
    bk_assert_error_line 'health'
}

@test "the log keeps the last 5 results; a check that outlives --health-timeout fails" {
    bocker run -d --name slow --health-cmd 'sleep 5' --health-interval 1s --health-timeout 1s \
        --health-retries 1 busybox sleep 300 >/dev/null
    wait_until health_is slow unhealthy
    run inspect '.[0].State.Health.Log[-1] | "\(.ExitCode) \(.Output)"' slow
    assert_output "-1 Health check exceeded timeout (1s)"
    # the timed-out probe was killed, in the container too
    sleep 1
    run bocker exec slow sh -c 'ps -o args | grep -c "^sleep 5" || true'
    [ "$output" -le 1 ] || fail "timed-out probes left behind: $output"
    wait_until bash -c "[ \"\$('$BOCKER' inspect --format '.[0].State.Health.Log | length' slow)\" = 5 ]"
    sleep 4
    assert_equal "$(inspect '.[0].State.Health.Log | length' slow)" 5
}

@test "--health-start-period: failures at first do not count; --no-healthcheck and bad flags" {
    bocker run -d --name sp --health-cmd false --health-interval 1s --health-retries 1 \
        --health-start-period 60s busybox sleep 300 >/dev/null
    wait_until bash -c "[ \"\$('$BOCKER' inspect --format '.[0].State.Health.Log | length' sp)\" -ge 2 ]"
    assert_equal "$(inspect '.[0].State.Health | "\(.Status) \(.FailingStreak)"' sp)" "starting 0"
    for bad in "--health-interval 5" "--health-interval -1s" "--health-retries -2" \
               "--no-healthcheck --health-cmd true"; do
        run --separate-stderr bocker run -d $bad busybox true
        assert_failure 125
        bk_assert_error_line 'health'
    done
    run bocker ps -aq --filter name=^sp$ --filter health=starting
    assert_output "$(inspect '.[0].Id[:12]' sp)"
}

@test "the image's HEALTHCHECK is used (flags override it field by field, --no-healthcheck drops it)" {
    ctx=$BK_TMP/ctx
    mkdir -p "$ctx"
    printf 'FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD test -e /etc/hostname\n' > "$ctx/Dockerfile"
    bocker build -q -t hc-image "$ctx" >/dev/null
    bocker run -d --name img hc-image sleep 300 >/dev/null
    wait_until health_is img healthy
    bocker run -d --name over --health-cmd false hc-image sleep 300 >/dev/null
    assert_equal "$(inspect '.[0].Config.Healthcheck | "\(.Test) \(.Interval)"' over)" '["CMD-SHELL","false"] 1000000000'
    wait_until health_is over unhealthy
    bocker run -d --name none --no-healthcheck hc-image sleep 300 >/dev/null
    run bocker ps -q --filter health=none
    assert_output "$(inspect '.[0].Id[:12]' none)"
    run inspect '.[0].State.Health' none
    assert_output null
    bocker rmi -f hc-image >/dev/null 2>&1 || true
}

@test "a checked container's monitor ends its check loop: after a restart and rm -f no process is left" {
    bocker run -d --name loop --restart always --health-cmd true --health-interval 1s busybox sleep 300 >/dev/null
    id=$(bk_id loop)
    wait_until health_is loop healthy
    # the monitor shell and its check loop (a subshell: the same command line, naming the container)
    old=$(pgrep -f "_health $id")
    [ "$(echo "$old" | wc -l)" -ge 2 ] || fail "no check loop: $old"
    kill -9 "$(inspect '.[0].State.Pid' loop)"   # restarted: a new monitor, with its own loop
    wait_until bash -c "[ \"\$('$BOCKER' inspect --format '.[0].RestartCount' loop)\" = 1 ] && [ \"\$('$BOCKER' inspect --format '.[0].State.Status' loop)\" = running ]"
    wait_until health_is loop healthy
    assert_equal "$(inspect '.[0].State.Health.Log | length <= 2' loop)" true  # a fresh start: a fresh log
    for pid in $old; do  # the first run's monitor and loop are gone (a zombie is dead too)
        [ ! -e /proc/$pid ] || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ] || fail "$pid left: $(ps -o args= -p $pid)"
    done
    bocker rm -f loop >/dev/null
    sleep 1.5
    run pgrep -f "$id"
    assert_output ''
    bk_assert_clean
}

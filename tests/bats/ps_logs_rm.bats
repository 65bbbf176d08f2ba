#!/usr/bin/env bats
# ps (-a, -q, --no-trunc, --format), logs, rm (-f), inspect, and id prefixes.

load helpers

setup_file() {
    bk_store_setup ps 215
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

@test "ps -a: docker's columns and 'Exited (3) ... ago'" {
    run bocker run --name web busybox sh -c 'exit 3'
    assert_failure 3
    run bocker ps -a
    assert_success
    assert_line --index 0 --regexp '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$'
    id=$(bk_id web)
    assert_line --index 1 --regexp "^${id:0:12} +busybox +\"sh -c exit 3\" +(Less than a second|[0-9]+ seconds?) ago +Exited \(3\) (Less than a second|[0-9]+ seconds?) ago +web\$"
    [ "${#lines[@]}" = 2 ]
}

@test "ps without -a lists only running containers" {
    run bocker run --name done1 busybox true
    bk_bg up1 busybox sleep 30
    run bocker ps
    assert_success
    assert_line --index 1 --regexp 'Up (Less than a second|[0-9]+ seconds?) +up1$'
    refute_output --partial done1
    [ "${#lines[@]}" = 2 ]
    run bocker ps -a
    assert_output --partial done1
    assert_output --partial up1
}

@test "ps -q prints 12-hex ids, --no-trunc 64-hex ids and whole commands" {
    long='echo this is a rather long command line that ps truncates'
    run bocker run --name long1 busybox sh -c "$long"
    id=$(bk_id long1)
    run bocker ps -a -q
    assert_output "${id:0:12}"
    run bocker ps -aq --no-trunc
    assert_output "$id"
    [[ "$id" =~ ^[0-9a-f]{64}$ ]]
    run bocker ps -a
    assert_output --partial '…"'
    refute_output --partial 'ps truncates'
    run bocker ps -a --no-trunc
    assert_output --partial "\"sh -c $long\""
    assert_output --partial "$id"
    run bocker ps -q
    assert_output ''
}

@test "ps lists newest first" {
    bocker run --name first busybox true
    sleep 0.01
    bocker run --name second busybox true
    run bocker ps -a --format '.Names'
    assert_output "$(printf 'second\nfirst')"
}

@test "ps --format json and a jq filter" {
    run bocker run --name fmt1 -l k=v busybox sh -c 'exit 4'
    run bocker ps -a --format json
    assert_success
    run jq -r '.Names + " " + .State + " " + .Status' <<< "$output"
    assert_output --regexp '^fmt1 exited Exited \(4\) '
    run bocker ps -a --format '.Labels.k'
    assert_output v
}

@test "logs keeps stdout and stderr after the container exited" {
    run bocker run --name logme busybox sh -c 'echo out1; echo err1 >&2; echo out2'
    assert_success
    run --separate-stderr bocker logs logme
    assert_success
    # stdout and stderr are two pipes: each stream keeps its order, not their interleaving
    run bash -c "$BOCKER logs logme 2>&1 | sort"
    assert_output "$(printf 'err1\nout1\nout2')"
    run bash -c "$BOCKER logs logme 2>/dev/null"
    assert_output "$(printf 'out1\nout2')"
}

@test "logs of a container that printed nothing is empty; logs of an unknown one fails" {
    bocker run --name quiet busybox true
    run bocker logs quiet
    assert_success
    assert_output ''
    run --separate-stderr bocker logs nosuch
    assert_failure
    bk_assert_error_line 'No such container: nosuch'
}

@test "logs keeps binary-safe output and long output" {
    bocker run --name big busybox sh -c 'seq 1 20000'
    run bash -c "$BOCKER logs big | wc -l"
    assert_output 20000
    run bash -c "$BOCKER logs big | tail -n 1"
    assert_output 20000
}

@test "rm removes the container: record, snapshot, name" {
    bocker run --name rm1 busybox true
    id=$(bk_id rm1)
    [ -d "$BOCKER_ROOT/containers/$id/rootfs" ]
    run bocker rm rm1
    assert_success
    assert_output rm1
    run bocker ps -a -q
    assert_output ''
    [ ! -e "$BOCKER_ROOT/containers/$id" ]
    [ ! -L "$BOCKER_ROOT/names/rm1" ]
    # the name can be used again
    run bocker run --name rm1 busybox true
    assert_success
}

@test "rm of several containers; rm of an unknown one fails and the rest are removed" {
    bocker run --name a1 busybox true
    bocker run --name a2 busybox true
    run --separate-stderr bocker rm a1 nosuch a2
    assert_failure
    bk_assert_error_line 'nosuch'
    run bocker ps -a -q
    assert_output ''
}

@test "rm of a running container without -f is refused and it keeps running" {
    bk_bg run1 busybox sleep 30
    run --separate-stderr bocker rm run1
    assert_failure
    bk_assert_error_line 'running'
    run bocker inspect --format '.[0].State.Status' run1
    assert_output running
    bocker rm -f run1
}

@test "rm -f kills a running container and removes everything; its bocker run ends with 137" {
    bk_bg run2 busybox sleep 100
    id=$(bk_id run2)
    pid=$(bocker inspect --format '.[0].State.Pid' run2)
    [ -d "/proc/$pid" ]
    run bocker rm -f run2
    assert_success
    run bk_bg_wait run2
    assert_output 137
    [ ! -d "/proc/$pid" ] || [ "$(cat /proc/$pid/comm 2>/dev/null)" != sleep ]
    run bocker ps -a -q
    assert_output ''
    [ ! -e "$BOCKER_ROOT/containers/$id" ]
    bk_assert_clean
}

@test "rm -f racing with the foreground run's own cleanup: the run always ends with 137 (8 rounds)" {
    for round in 1 2 3 4 5 6 7 8; do
        bk_bg "race$round" busybox sleep 100
        bocker rm -f "race$round" >/dev/null
        run bk_bg_wait "race$round"
        assert_output 137
        run cat "$BK_TMP/race$round.out"
        refute_output --partial 'internal error'
    done
    bk_assert_clean
}

@test "a unique id prefix is accepted by inspect, logs and rm" {
    bocker run --name pre busybox echo prefixed
    id=$(bk_id pre)
    run bocker inspect --format '.[0].Name' "${id:0:5}"
    assert_output /pre
    run bocker logs "${id:0:12}"
    assert_output prefixed
    run bocker rm "${id:0:8}"
    assert_success
    run bocker ps -a -q
    assert_output ''
}

@test "an ambiguous id prefix is refused" {
    # make containers until two share their first hex digit (17 at most)
    for n in $(seq 17); do
        bocker run --name "amb$n" busybox true
        dup=$(bocker ps -aq | cut -c1 | sort | uniq -d | head -n 1)
        [ -z "$dup" ] || break
    done
    [ -n "$dup" ]
    count=$(bocker ps -aq | wc -l)
    run --separate-stderr bocker inspect --type container "$dup"
    assert_failure
    run --separate-stderr bocker rm "$dup"
    assert_failure
    bk_assert_error_line
    [ "$(bocker ps -aq | wc -l)" = "$count" ]
}

@test "inspect of a container: a JSON array with docker's fields" {
    run bocker run --name insp -e A=1 -w /tmp --hostname hh busybox sh -c 'exit 5'
    run bocker inspect insp
    assert_success
    run jq -r 'length, .[0].Name, .[0].State.Status, .[0].State.ExitCode, .[0].Config.Hostname,
               .[0].Config.WorkingDir, (.[0].Config.Env | index("A=1") != null), .[0].Path,
               (.[0].Args | join(" ")), .[0].Config.Image, .[0].HostConfig.NetworkMode' <<< "$output"
    assert_output "$(printf '1\n/insp\nexited\n5\nhh\n/tmp\ntrue\nsh\n-c exit 5\nbusybox\nbridge')"
}

@test "inspect --format takes a jq filter; -f is the same" {
    run bocker run --name insp2 busybox sh -c 'exit 3'
    run bocker inspect --format '.[0].State.ExitCode' insp2
    assert_output 3
    run bocker inspect -f '.[0].State.Status' insp2
    assert_output exited
    run --separate-stderr bocker inspect --format '.[0].State.[' insp2
    assert_failure 1
}

@test "inspect of several objects, containers and images; unknown ones fail" {
    bocker run --name insp3 busybox true
    run bocker inspect insp3 busybox
    assert_success
    run jq -r '.[].Id' <<< "$output"
    assert_line --index 0 "$(bk_id insp3)"
    assert_line --index 1 --regexp '^sha256:[0-9a-f]{64}$'
    run --separate-stderr bocker inspect insp3 nosuch
    assert_failure
    bk_assert_error_line 'nosuch'
    run jq length <<< "$output"
    assert_output 1
}

@test "inspect --type container does not fall back to an image of the same name" {
    run --separate-stderr bocker inspect --type container busybox
    assert_failure
    run bocker inspect --type image busybox
    assert_success
}

@test "a running container's inspect has a live pid and StartedAt; after exit FinishedAt" {
    bk_bg live busybox sleep 30
    pid=$(bocker inspect --format '.[0].State.Pid' live)
    [ "$pid" -gt 0 ]
    [ -d "/proc/$pid" ]
    run bocker inspect --format '.[0].State.Running' live
    assert_output true
    bocker rm -f live
    bocker run --name fin busybox true
    run bocker inspect --format '.[0].State | [.Running, .Pid, (.FinishedAt > .StartedAt)] | map(tostring) | join(" ")' fin
    assert_output 'false 0 true'
}

#!/usr/bin/env bats
# `bocker stats` (fields against the cgroup files, CPU % of a busy container, --format, -a,
# --no-trunc, the live view on a terminal) and `bocker top` (the container's pids only, ps options).

load helpers

setup_file() {
    bk_store_setup stats 223
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# bk_cg FILE CONTROLLER(v1): a file of the container's cgroup ($ID), on v1 or v2
bk_cg() {
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        cat "/sys/fs/cgroup/$BOCKER_CGROUP_PARENT/$ID/$1"
    else
        cat "/sys/fs/cgroup/$2/$BOCKER_CGROUP_PARENT/$ID/$1"
    fi
}

# to_bytes 1.5MiB -> 1572864 (Docker's binary sizes)
to_bytes() {
    awk -v s="$1" 'BEGIN { n = s + 0; u = s; sub(/^[0-9.]+/, "", u);
        m["B"] = 1; m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824; printf "%d\n", n * m[u] }'
}

@test "stats --no-stream: MEM USAGE / LIMIT and PIDS are the cgroup's, in Docker's columns" {
    bocker run -d --name s -m 64m busybox sh -c 'sleep 600 & sleep 600 & wait' >/dev/null
    ID=$(bk_id s)
    wait_for bash -c "[ \"\$('$BOCKER' top s | wc -l)\" = 4 ]"
    run bocker stats --no-stream s
    assert_success
    assert_line --index 0 --regexp '^CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$'
    assert_line --index 1 --regexp "^${ID:0:12}   s +[0-9]+\.[0-9]{2}% +[0-9.]+(B|KiB|MiB) / 64MiB +[0-9]+\.[0-9]{2}% +.* / .* +.* / .* +3$"
    run bocker stats --no-stream --format '{{.MemUsage}}|{{.PIDs}}' s
    mem=$(to_bytes "${output%% / *}")
    pids=${output##*|}
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        usage=$(bk_cg memory.current); inactive=$(awk '$1 == "inactive_file" { print $2 }' <<< "$(bk_cg memory.stat)")
    else
        usage=$(bk_cg memory.usage_in_bytes memory); inactive=$(awk '$1 == "total_inactive_file" { print $2 }' <<< "$(bk_cg memory.stat memory)")
    fi
    want=$((usage - inactive))
    # the same figure, read a moment apart and rounded to 4 digits: within 10 % (and 64 KiB)
    diff=$((mem > want ? mem - want : want - mem))
    [ "$diff" -le $((want / 10 + 65536)) ] || fail "stats says $mem bytes, the cgroup $want"
    assert_equal "$pids" "$(bk_cg pids.current pids)"
    assert_equal "$pids" 3
}

@test "stats: a busy container shows CPU %; json, --no-trunc, -a with a stopped one" {
    bocker run -d --name burn busybox sh -c 'while :; do :; done' >/dev/null
    bocker create --name off busybox true >/dev/null
    run bocker stats --no-stream --format '{{.CPUPerc}}' burn
    bocker rm -f burn >/dev/null
    [[ "$output" =~ ^([0-9]+)\.[0-9]{2}%$ ]] || fail "not a CPU %: $output"
    [ "${BASH_REMATCH[1]}" -ge 5 ] || fail "a busy loop at $output"
    bocker run -d --name idle busybox sleep 600 >/dev/null
    run bocker stats --no-stream --no-trunc --format '{{.ID}} {{.Name}}'
    assert_output "$(bk_id idle) idle"
    run bocker stats --no-stream -a --format '{{json .}}'
    assert_line --partial '"Name":"off","CPUPerc":"0.00%","MemUsage":"0B / 0B","MemPerc":"0.00%","NetIO":"0B / 0B","BlockIO":"0B / 0B","PIDs":"0"}'
    assert_equal "${#lines[@]}" 2
    run --separate-stderr bocker stats --no-stream nosuch
    assert_failure 1
    bk_assert_error_line 'No such container: nosuch'
}

@test "stats: NET I/O counts the container's traffic (its netns counters)" {
    bocker run -d --name net busybox sleep 600 >/dev/null
    bocker exec net ping -c 3 -W 1 "$BK_GATEWAY" >/dev/null
    run bocker stats --no-stream --format '{{.NetIO}}' net
    [[ "$output" =~ ^[0-9.]+k?B\ /\ [0-9.]+k?B$ ]] || fail "not NET I/O: $output"
    [[ "$output" != *"/ 0B" ]] || fail "nothing sent after 3 pings: $output"
}

@test "stats without --no-stream on a terminal: redrawn every second until Ctrl-C" {
    bocker run -d --name live busybox sleep 600 >/dev/null
    run timeout -s INT 4 script -qec "'$BOCKER' stats live" /dev/null
    [ "$(grep -c 'CONTAINER ID' <<< "$output")" -ge 2 ] || fail "not redrawn: $output"
    [[ "$output" == *$'\e[2J\e[H'* ]] || fail "no screen redraw: $output"
}

@test "top: Docker's columns, only the container's processes; ps options passed on" {
    bocker run -d --name t busybox sh -c 'sleep 600 & exec sleep 601' >/dev/null
    wait_for bash -c "'$BOCKER' top t | grep -q 'sleep 600'"
    run bocker top t
    assert_success
    assert_line --index 0 --regexp '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$'
    assert_equal "${#lines[@]}" 3
    assert_line --regexp '^root +[0-9]+ +[0-9]+ .* sleep 601$'
    refute_output --partial bats
    pid=$(bocker inspect --format '.[0].State.Pid' t)
    run bocker top t -o pid,comm
    assert_line --index 0 --regexp '^PID +COMMAND$'
    assert_line --regexp "^$pid +sleep$"
    run --separate-stderr bocker top t -o comm
    assert_failure 1
    bk_assert_error_line "Couldn't find PID field in ps output"
    bocker create --name stopped busybox true >/dev/null
    run --separate-stderr bocker top stopped
    assert_failure 1
    bk_assert_error_line 'is not running'
}

#!/usr/bin/env bats
# cgroup v2 (the unified tree): limits, pause, OOM, exec, devices and removal against the kernel's
# own files. Skipped on a v1 or hybrid host; `make test-v2` runs it in a guest with a pure v2 tree.

load helpers

setup_file() {
    [ -e /sys/fs/cgroup/cgroup.controllers ] || return 0
    bk_store_setup cg2 214
}

teardown_file() {
    bk_store_teardown
}

setup() {
    [ -e /sys/fs/cgroup/cgroup.controllers ] || skip "not a cgroup v2 host (make test-v2 runs these)"
}

teardown() {
    bk_rm_all
}

# the container's cgroup directory, and one of its files
cgdir() {
    echo "/sys/fs/cgroup/$BOCKER_CGROUP_PARENT/$(bk_id "$1")"
}
cg() {
    cat "$(cgdir "$1")/$2"
}

@test "v2: one cgroup per container under the parent; its processes are in it; removed at exit" {
    bk_bg c1 busybox sleep 30
    id=$(bk_id c1)
    [ -d "/sys/fs/cgroup/$BOCKER_CGROUP_PARENT/$id" ]
    pid=$(bocker inspect --format '.[0].State.Pid' c1)
    run cat "/proc/$pid/cgroup"
    assert_output "0::/$BOCKER_CGROUP_PARENT/$id"
    bocker rm -f c1
    run bk_cgroup_dirs
    assert_output ''
    run bocker run --rm --memory 64m --cpus 0.5 --pids-limit 20 busybox true
    assert_success
    run bk_cgroup_dirs
    assert_output ''
    bk_assert_clean
}

@test "v2: delegation: the controllers are enabled in the parent's subtree_control; no process in the parent" {
    bk_bg d1 --memory 64m busybox sleep 30
    parent=/sys/fs/cgroup/$BOCKER_CGROUP_PARENT
    for c in memory cpu pids; do
        grep -qw "$c" "$parent/cgroup.subtree_control" || fail "$c not in $parent/cgroup.subtree_control"
        grep -qw "$c" "$(cgdir d1)/cgroup.controllers" || fail "$c not in the container's cgroup.controllers"
    done
    run cat "$parent/cgroup.procs"
    assert_output ''
}

@test "v2: --memory 64m: memory.max; memory.swap.max 0 (docker: no swap beyond --memory); inspect" {
    bk_bg m1 --memory 64m busybox sleep 30
    run cg m1 memory.max
    assert_output 67108864
    run cg m1 memory.swap.max
    assert_output 0
    run bocker inspect --format '.[0].HostConfig.Memory' m1
    assert_output 67108864
}

@test "v2: --memory-swap: memory.swap.max is the swap part; -1 is max" {
    bk_bg s1 --memory 64m --memory-swap 100m busybox sleep 30
    run cg s1 memory.swap.max
    assert_output $(( 36 * 1024 * 1024 ))
    bk_bg s2 --memory 64m --memory-swap -1 busybox sleep 30
    run cg s2 memory.swap.max
    assert_output max
}

@test "v2: --memory-reservation: memory.low" {
    bk_bg r1 --memory 64m --memory-reservation 32m busybox sleep 30
    run cg r1 memory.low
    assert_output 33554432
}

# bats test_tags=smoke
@test "v2: --memory: a process under the limit runs; exceeding it is an OOM kill: 137, OOMKilled" {
    run bocker run --rm --memory 64m busybox sh -c 'x=$(head -c 8m /dev/zero | tr "\0" a); echo ${#x}'
    assert_success
    assert_output 8388608
    run bocker run --name oom --memory 32m busybox sh -c 'x=$(head -c 200m /dev/zero | tr "\0" a); echo survived'
    refute_output --partial survived
    assert_failure 137
    run bocker inspect --format '.[0].State.OOMKilled' oom
    assert_output true
    run bocker inspect --format '.[0].State.ExitCode' oom
    assert_output 137
    run bocker ps -a --format '.Status'
    assert_output --regexp '^Exited \(137\) '
}

@test "v2: a plain exit 137 (no OOM kill in memory.events) is not OOMKilled" {
    run bocker run --name k9 --memory 64m busybox sh -c 'exit 137'
    assert_failure 137
    run bocker inspect --format '.[0].State.OOMKilled' k9
    assert_output false
}

@test "v2: --cpus 0.5: cpu.max '50000 100000'; a busy loop at 0.2 is throttled" {
    bk_bg cpu1 --cpus 0.5 busybox sleep 30
    run cg cpu1 cpu.max
    assert_output '50000 100000'
    run bocker inspect --format '.[0].HostConfig.NanoCpus' cpu1
    assert_output 500000000
    bk_bg hog --cpus 0.2 busybox sh -c 'while :; do :; done'
    sleep 1
    throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$(cgdir hog)/cpu.stat")
    [ "$throttled" -gt 0 ]
}

@test "v2: --cpu-shares: cpu.weight (runc's mapping: 1024 -> 39, 2 -> 1, 262144 -> 10000)" {
    bk_bg w1 --cpu-shares 1024 busybox sleep 30
    run cg w1 cpu.weight
    assert_output 39
    bk_bg w2 --cpu-shares 2 busybox sleep 30
    run cg w2 cpu.weight
    assert_output 1
    bk_bg w3 --cpu-shares 262144 busybox sleep 30
    run cg w3 cpu.weight
    assert_output 10000
}

@test "v2: --cpuset-cpus 0 --cpuset-mems 0: cpuset.cpus/mems; the process runs on cpu 0 only" {
    bk_bg set1 --cpuset-cpus 0 --cpuset-mems 0 busybox sleep 30
    run cg set1 cpuset.cpus
    assert_output 0
    run cg set1 cpuset.mems
    assert_output 0
    pid=$(bocker inspect --format '.[0].State.Pid' set1)
    run awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$pid/status"
    assert_output 0
}

@test "v2: --pids-limit: pids.max; forking beyond it fails; no limit: max" {
    bk_bg p1 --pids-limit 20 busybox sleep 30
    run cg p1 pids.max
    assert_output 20
    run bocker run --rm --pids-limit 10 busybox sh -c 'for i in $(seq 30); do sleep 5 & done'
    assert_failure
    assert_output --partial "can't fork"
    bk_bg free1 busybox sleep 30
    run cg free1 pids.max
    assert_output max
    run cg free1 memory.max
    assert_output max
    run cg free1 cpu.max
    assert_output 'max 100000'
}

# bats test_tags=smoke
@test "v2: pause/unpause: cgroup.freeze and cgroup.events frozen; inspect Paused" {
    bk_bg z1 busybox sh -c 'while :; do date +%s%N > /tmp/t; sleep 0.1; done'
    bocker pause z1
    run cg z1 cgroup.freeze
    assert_output 1
    wait_for grep -qx 'frozen 1' "$(cgdir z1)/cgroup.events"
    run bocker inspect --format '.[0].State.Paused' z1
    assert_output true
    run bocker inspect --format '.[0].State.Status' z1
    assert_output paused
    bocker unpause z1
    run cg z1 cgroup.freeze
    assert_output 0
    wait_for grep -qx 'frozen 0' "$(cgdir z1)/cgroup.events"
    run bocker inspect --format '.[0].State.Status' z1
    assert_output running
}

@test "v2: rm -f of a paused container removes its cgroup" {
    bk_bg z2 busybox sleep 30
    bocker pause z2
    run bocker rm -f z2
    assert_success
    run bk_cgroup_dirs
    assert_output ''
}

@test "v2: exec joins the container's cgroup" {
    bk_bg e1 --memory 64m busybox sleep 30
    bocker exec e1 sleep 5 &
    echo $! >> "$BK_TMP/bg.pids"
    exec_in_cgroup() {
        local p
        for p in $(cat "$(cgdir e1)/cgroup.procs"); do
            tr '\0' ' ' < "/proc/$p/cmdline"; echo
        done | grep -q '^sleep 5 $'
    }
    wait_for exec_in_cgroup || fail "exec's sleep 5 is not in $(cgdir e1)"
}

# bats test_tags=smoke
@test "v2: devices: a block device made with mknod in /dev cannot be opened (the eBPF filter); /dev/null works" {
    # in /dev, a tmpfs that allows device nodes: the store itself is nodev, which would refuse it anyway
    run bocker run --rm busybox sh -c 'mknod /dev/l0 b 7 0 && echo made; head -c 0 /dev/l0 && echo opened; echo x > /dev/null && echo null-ok'
    assert_output --partial made
    assert_output --partial 'Operation not permitted'
    refute_output --partial opened
    assert_output --partial null-ok
    run bocker run --rm --privileged busybox sh -c 'mknod /dev/bk-l0 b 7 0; head -c 0 /dev/bk-l0 && echo opened; rm -f /dev/bk-l0'
    assert_output --partial opened
}

@test "v2: teardown removes the parent cgroup once no container is left" {
    run bocker run --rm busybox true
    assert_success
    [ -d "/sys/fs/cgroup/$BOCKER_CGROUP_PARENT" ] || skip "no parent cgroup was left to remove"
    run bocker teardown
    assert_success
    [ ! -d "/sys/fs/cgroup/$BOCKER_CGROUP_PARENT" ]
    run bocker setup
    assert_success
}

# bats test_tags=smoke
@test "v2: stats --no-stream reads the unified tree: the limit is memory.max, PIDS is pids.current" {
    bocker run -d --name st -m 32m busybox sh -c 'sleep 30 & wait' >/dev/null
    wait_for bash -c "[ \"\$(cat '$(cgdir st)/pids.current')\" = 2 ]"
    run bocker stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' st
    bocker rm -f st >/dev/null
    assert_output --regexp '^[0-9.]+(B|KiB|MiB) / 32MiB 2$'
}

#!/usr/bin/env bats
# --memory, --cpus, --pids-limit: a cgroup per container (v1 here: cgcreate / cgset / cgexec).

load helpers

setup_file() {
    bk_store_setup lim 213
}

teardown_file() {
    bk_store_teardown
}

setup() {
    bk_require_cgroup_v1
}

teardown() {
    bk_rm_all
}

# cgroup file of a running container: cg CONTROLLER NAME FILE
cg() {
    cat "/sys/fs/cgroup/$1/$BOCKER_CGROUP_PARENT/$(bk_id "$2")/$3"
}

@test "every container gets its own cgroup under the parent, in each controller" {
    bk_bg cg1 busybox sleep 30
    id=$(bk_id cg1)
    for c in memory cpu pids freezer; do
        [ -d "/sys/fs/cgroup/$c/$BOCKER_CGROUP_PARENT/$id" ]
    done
    pid=$(bocker inspect --format '.[0].State.Pid' cg1)
    run grep -E '^[0-9]+:(memory|pids):' "/proc/$pid/cgroup"
    assert_line --partial "memory:/$BOCKER_CGROUP_PARENT/$id"
    assert_line --partial "pids:/$BOCKER_CGROUP_PARENT/$id"
    bocker rm -f cg1
    run bk_cgroup_dirs
    assert_output ''
}

@test "the cgroup is removed when the container exits" {
    run bocker run --name gone --memory 64m --cpus 0.5 --pids-limit 20 busybox true
    assert_success
    run bk_cgroup_dirs
    assert_output ''
    bk_assert_clean
}

@test "--memory 64m: memory.limit_in_bytes while it runs, HostConfig.Memory in inspect" {
    bk_bg mem1 --memory 64m busybox sleep 30
    run cg memory mem1 memory.limit_in_bytes
    assert_output 67108864
    run bocker inspect --format '.[0].HostConfig.Memory' mem1
    assert_output 67108864
}

@test "--memory: a process that stays under the limit runs normally" {
    run bocker run --rm --memory 64m busybox sh -c 'x=$(head -c 8m /dev/zero | tr "\0" a); echo ${#x}'
    assert_success
    assert_output 8388608
}

@test "--memory: exceeding the limit is an OOM kill, exit 137" {
    run bocker run --rm --memory 32m busybox sh -c 'x=$(head -c 200m /dev/zero | tr "\0" a); echo survived'
    refute_output --partial survived
    assert_failure 137
}

@test "--memory: the OOM kill shows in inspect (OOMKilled, ExitCode 137) and ps" {
    run bocker run --name oom --memory 32m busybox sh -c 'x=$(head -c 200m /dev/zero | tr "\0" a)'
    run bocker inspect --format '.[0].State.OOMKilled' oom
    assert_output true
    run bocker inspect --format '.[0].State.ExitCode' oom
    assert_output 137
    run bocker ps -a --format '.Status'
    assert_output --regexp '^Exited \(137\) '
}

@test "--cpus 0.5: cpu.cfs_quota_us 50000 over a 100000 period; NanoCpus in inspect" {
    bk_bg cpu1 --cpus 0.5 busybox sleep 30
    run cg cpu cpu1 cpu.cfs_quota_us
    assert_output 50000
    run cg cpu cpu1 cpu.cfs_period_us
    assert_output 100000
    run bocker inspect --format '.[0].HostConfig.NanoCpus' cpu1
    assert_output 500000000
}

@test "--cpus 0.2: a busy loop is throttled by the kernel" {
    bk_bg hog --cpus 0.2 busybox sh -c 'while :; do :; done'
    sleep 0.6
    throttled=$(awk '$1 == "nr_throttled" { print $2 }' "/sys/fs/cgroup/cpu/$BOCKER_CGROUP_PARENT/$(bk_id hog)/cpu.stat")
    [ "$throttled" -gt 0 ]
}

@test "--pids-limit 20: pids.max while it runs, PidsLimit in inspect" {
    bk_bg pid1 --pids-limit 20 busybox sleep 30
    run cg pids pid1 pids.max
    assert_output 20
    run bocker inspect --format '.[0].HostConfig.PidsLimit' pid1
    assert_output 20
}

@test "--pids-limit 10: forking beyond the limit fails inside the container" {
    run bocker run --rm --pids-limit 10 busybox sh -c 'for i in $(seq 30); do sleep 5 & done'
    assert_failure
    assert_output --partial "can't fork"
    # the same without a limit works
    run bocker run --rm busybox sh -c 'for i in $(seq 30); do sleep 0.2 & done; wait; echo ok'
    assert_success
    assert_output ok
}

@test "no limits: no limit is written (memory and cpu stay unlimited)" {
    bk_bg free1 busybox sleep 30
    run cg cpu free1 cpu.cfs_quota_us
    assert_output -- -1
    run cg pids free1 pids.max
    assert_output max
}

@test "invalid limits are bocker errors (125) and leave nothing behind" {
    for args in "--memory 1k" "--memory lots" "--memory -5m" "--cpus 0" "--cpus -1" "--cpus 100000" \
                "--cpus x" "--cpus nan" "--pids-limit abc"; do
        run --separate-stderr bocker run --rm $args busybox true
        assert_failure 125
        bk_assert_error_line
    done
    run bocker ps -a -q
    assert_output ''
    bk_assert_clean
}

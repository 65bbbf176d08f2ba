#!/usr/bin/env bats
# run/create flags of Docker's (issue #15): --cpu-period/--cpu-quota, --group-add, --sig-proxy,
# --pid/--ipc/--uts host, --domainname.

load helpers

setup_file() {
    bk_store_setup rf2 251
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

cg() {
    cat "/sys/fs/cgroup/$1/$BOCKER_CGROUP_PARENT/$(bk_id "$2")/$3"
}

@test "--cpu-period/--cpu-quota: the CFS files and HostConfig.CpuPeriod/CpuQuota" {
    bk_require_cgroup_v1
    bk_bg cfs --cpu-period 50000 --cpu-quota 25000 busybox sleep 30
    run cg cpu cfs cpu.cfs_period_us
    assert_output 50000
    run cg cpu cfs cpu.cfs_quota_us
    assert_output 25000
    run bocker inspect --format '{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}}' cfs
    assert_output '50000 25000'
}

@test "--cpu-quota with --cpus, or out of range: Docker's refusals, 125, nothing made" {
    run --separate-stderr bocker run --cpus 0.5 --cpu-quota 20000 busybox true
    assert_failure 125
    bk_assert_error_line 'Conflicting options: CPU Quota and Nano CPUs'
    run --separate-stderr bocker create --cpus 0.5 --cpu-period 20000 busybox true
    assert_failure 125
    bk_assert_error_line 'Conflicting options: Nano CPUs and CPU Period'
    run --separate-stderr bocker run --cpu-period 10 busybox true
    assert_failure 125
    bk_assert_error_line 'CPU cfs period'
    run --separate-stderr bocker run --cpu-quota 999 busybox true
    assert_failure 125
    bk_assert_error_line 'CPU cfs quota'
    run bocker ps -aq
    assert_output ''
}

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

@test "--group-add: names from the image's /etc/group and numbers; id -G shows them" {
    run bocker run --rm --group-add tty --group-add 4242 busybox id -G
    assert_success
    assert_output --regexp "(^| )5( |$)"
    assert_output --regexp "(^| )4242( |$)"
    run bocker run --rm busybox id -G
    refute_output --regexp "(^| )4242( |$)"
    run bocker run --rm -u 1000:1000 --group-add 4242 busybox id -G
    assert_output '1000 4242'
    run bocker inspect --format '{{json .HostConfig.GroupAdd}}' "$(bocker create --group-add 7 busybox true)"
    assert_output '["7"]'
}

@test "--group-add of a name the image lacks: 126; a link planted as /etc/group stays inside the rootfs" {
    run --separate-stderr bocker run --rm --group-add nosuchgroup busybox true
    assert_failure 126
    bk_assert_error_line 'unable to find group nosuchgroup'
    # the image's /etc/group is a link to an absolute path: on the host, it names a group
    echo 'hostonly:x:4343:' > "$BK_TMP/hostgroup"
    cid=$(bocker create --name planted --group-add hostonly busybox id -G)
    rootfs="$BOCKER_ROOT/containers/$cid/rootfs"
    rm "$rootfs/etc/group"
    ln -s "$BK_TMP/hostgroup" "$rootfs/etc/group"
    run bocker start -a planted
    assert_failure
    assert_output --partial 'unable to find group hostonly'
    refute_output --partial 4343
}

@test "--sig-proxy=false: a SIGTERM to bocker run does not reach the container" {
    bk_bg nosig --sig-proxy=false busybox sh -c 'trap "echo got TERM; exit 7" TERM; while :; do sleep 0.1; done'
    pid=$(tail -n 1 "$BK_TMP/bg.pids")
    bocker_pid=$(pgrep -P "$pid" -f bocker.py | head -n 1)
    [ -n "$bocker_pid" ]
    kill -TERM "$bocker_pid"
    sleep 1
    run bocker inspect --format '{{.State.Status}}' nosig
    assert_output running
    bocker kill nosig
    run bk_bg_wait nosig
    assert_output 137
    run cat "$BK_TMP/nosig.out"
    refute_output --partial 'got TERM'
    # --sig-proxy (true) is the default, and may be said
    bk_bg sig --sig-proxy busybox sh -c 'trap "echo got TERM; exit 7" TERM; while :; do sleep 0.1; done'
    pid=$(tail -n 1 "$BK_TMP/bg.pids")
    kill -TERM "$(pgrep -P "$pid" -f bocker.py | head -n 1)"
    run bk_bg_wait sig
    assert_output 7
}

@test "--pid host: the host's processes are seen, the command is not PID 1, capabilities still dropped" {
    sleep 300 & marker=$!
    run bocker run --rm --pid host busybox sh -c "ps -o pid,comm | grep -c '^ *$marker '; echo \$\$; grep CapEff /proc/self/status"
    kill "$marker"
    assert_success
    assert_line --index 0 1
    [ "${lines[1]}" != 1 ]
    assert_line --index 2 --regexp 'CapEff:[[:space:]]+00000000a80425fb'
    run bocker inspect --format '{{.HostConfig.PidMode}}' "$(bocker create --pid host busybox true)"
    assert_output host
    run bocker run --rm busybox sh -c "ps -o pid | grep -c '^ *$marker$' || true"
    assert_output 0
}

@test "--ipc host and --uts host: the host's namespaces; -h refused with --uts host" {
    run bocker run --rm --ipc host --uts host busybox sh -c 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname'
    assert_success
    assert_line --index 0 "$(readlink /proc/self/ns/ipc)"
    assert_line --index 1 "$(readlink /proc/self/ns/uts)"
    assert_line --index 2 "$(hostname)"
    [ "$(hostname)" = "$(uname -n)" ]
    run bocker inspect --format '{{.HostConfig.IpcMode}} {{.HostConfig.UTSMode}}' \
        "$(bocker create --ipc host --uts host busybox true)"
    assert_output 'host host'
    run --separate-stderr bocker run --rm --uts host -h other busybox true
    assert_failure 125
    bk_assert_error_line 'Conflicting options: hostname and the UTS mode'
    run --separate-stderr bocker run --rm --pid container:x busybox true
    assert_failure 125
    bk_assert_error_line 'invalid PID mode'
}

@test "--domainname: the container's UTS domain name; Config.Domainname" {
    run bocker run --rm --domainname example.test busybox cat /proc/sys/kernel/domainname
    assert_success
    assert_output example.test
    run bocker inspect --format '{{.Config.Domainname}}' "$(bocker create --domainname d.test busybox true)"
    assert_output d.test
}

@test "--pid host: exec joins the container, --init works, the group-add holds in exec too" {
    bk_bg ph --pid host --group-add 4242 busybox sleep 60
    run bocker exec ph sh -c 'readlink /proc/self/ns/pid; id -G'
    assert_success
    assert_line --index 0 "$(readlink /proc/self/ns/pid)"
    assert_line --index 1 --regexp '(^| )4242( |$)'
    bocker rm -f ph
    run bocker run --rm --pid host --init busybox sh -c 'echo ran'
    assert_success
    assert_line ran
}

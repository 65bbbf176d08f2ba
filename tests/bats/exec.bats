#!/usr/bin/env bats
# bocker exec: a command inside a running container (its namespaces, root, cgroup, env,
# workdir, user, capabilities, no_new_privs), its exit code, -d, -i, and the error paths.

load helpers

setup_file() {
    bk_store_setup exec 231
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

@test "exec runs in all the container's namespaces (pid, mnt, uts, ipc, net, cgroup)" {
    bocker run -d --name e1 busybox sleep 30 >/dev/null
    pid=$(bocker inspect --format '.[0].State.Pid' e1)
    for ns in pid mnt uts ipc net cgroup; do
        run bocker exec e1 readlink /proc/self/ns/$ns
        assert_success
        assert_output "$(readlink /proc/$pid/ns/$ns)"
        # and not the host's
        [ "$output" != "$(readlink /proc/self/ns/$ns)" ] || fail "exec is in the host's $ns namespace"
    done
}

@test "exec sees the container's processes: PID 1 is the container's command" {
    bocker run -d --name e2 busybox sleep 30 >/dev/null
    run bocker exec e2 ps -o pid,args
    assert_success
    assert_line --regexp '^ +1 +sleep 30$'
    # only the container's processes: sleep, ps (no host process)
    [ "${#lines[@]}" -le 3 ] || fail "too many processes: $output"
    run bocker exec e2 sh -c 'echo $$'
    refute_output 1
}

@test "exec sees the container's root, hostname and /etc/hostname" {
    bocker run -d --name e3 -h exechost busybox sh -c 'echo marker > /root-marker; sleep 30' >/dev/null
    run bocker exec e3 hostname
    assert_output exechost
    run bocker exec e3 cat /etc/hostname
    assert_output exechost
    wait_for bocker exec e3 test -f /root-marker
    run bocker exec e3 cat /root-marker
    assert_output marker
    # a file made by exec is in the container's snapshot on the host
    id=$(bk_id e3)
    bocker exec e3 sh -c 'echo from-exec > /exec-file'
    [ "$(cat "$BOCKER_ROOT/containers/$id/rootfs/exec-file")" = from-exec ]
}

@test "exec joins the container's cgroup" {
    id=$(bocker run -d --name e4 busybox sleep 30)
    bocker exec -d e4 sleep 5
    pids() {
        local p
        for p in $(cat /sys/fs/cgroup/pids/$BOCKER_CGROUP_PARENT/$id/tasks); do
            tr '\0' ' ' < /proc/$p/cmdline; echo
        done
    }
    exec_in_cgroup() { pids | grep -q '^sleep 5 $'; }
    wait_for exec_in_cgroup || fail "exec's sleep 5 is not in the cgroup: $(pids)"
}

@test "exec has the container's env plus -e (which overrides)" {
    bocker run -d --name e5 -e FOO=bar -e KEEP=same busybox sleep 30 >/dev/null
    run bocker exec -e BAZ=qux -e FOO=new e5 env
    assert_success
    assert_line FOO=new
    assert_line BAZ=qux
    assert_line KEEP=same
    assert_line --regexp '^HOSTNAME=[0-9a-f]{12}$'
    assert_line PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    run bocker exec e5 env
    assert_line FOO=bar
    refute_line BAZ=qux
}

@test "exec uses the container's workdir; -w overrides" {
    bocker run -d --name e6 -w /etc busybox sleep 30 >/dev/null
    run bocker exec e6 pwd
    assert_output /etc
    run bocker exec -w /tmp e6 pwd
    assert_output /tmp
    bocker run -d --name e6b busybox sleep 30 >/dev/null
    run bocker exec e6b pwd
    assert_output /
}

@test "exec as root: docker's default capabilities and no_new_privs" {
    bocker run -d --name e7 busybox sleep 30 >/dev/null
    run bocker exec e7 sh -c 'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status'
    assert_success
    assert_line --index 0 0
    assert_line --regexp '^CapEff:\s+00000000a80425fb$'
    assert_line --regexp '^CapBnd:\s+00000000a80425fb$'
    assert_line --regexp '^NoNewPrivs:\s+1$'
}

@test "exec -u nobody: uid 65534, no effective capabilities, bounding set docker's, no_new_privs" {
    bocker run -d --name e8 busybox sleep 30 >/dev/null
    run bocker exec -u nobody e8 sh -c 'id -u; id -g; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status'
    assert_success
    assert_line --index 0 65534
    assert_line --index 1 65534
    assert_line --regexp '^CapEff:\s+0000000000000000$'
    assert_line --regexp '^CapBnd:\s+00000000a80425fb$'
    assert_line --regexp '^NoNewPrivs:\s+1$'
    run bocker exec -u 1234:5678 e8 sh -c 'echo $(id -u):$(id -g)'
    assert_output 1234:5678
}

@test "exec uses the container's user (-u of run); exec -u root overrides" {
    bocker run -d --name e9 -u nobody busybox sleep 30 >/dev/null
    run bocker exec e9 id -u
    assert_output 65534
    run bocker exec -u root e9 id -u
    assert_output 0
}

@test "exec's exit code is bocker's exit code" {
    bocker run -d --name e10 busybox sleep 30 >/dev/null
    run bocker exec e10 sh -c 'exit 9'
    assert_failure 9
    run bocker exec e10 true
    assert_success
    run bocker exec e10 sh -c 'kill -KILL $$'
    assert_failure 137
}

@test "exec: 127 for a command not found, 126 for one that cannot run" {
    bocker run -d --name e11 busybox sleep 30 >/dev/null
    run -127 --separate-stderr bocker exec e11 /nonexistent
    assert_failure 127
    [[ "$stderr" == *nonexistent* ]] || fail "stderr: $stderr"
    run -127 bocker exec e11 nosuchcommand
    assert_failure 127
    run bocker exec e11 /etc/passwd
    assert_failure 126
    run bocker exec e11 /etc
    assert_failure 126
}

@test "exec into a stopped container: 1 and one line" {
    bocker run -d --name e12 busybox true >/dev/null
    bocker wait e12
    run --separate-stderr bocker exec e12 true
    assert_failure 1
    bk_assert_error_line 'is not running'
    [ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ] || fail "more than one line: $stderr"
    bocker create --name e12b busybox true >/dev/null
    run --separate-stderr bocker exec e12b true
    assert_failure 1
    bk_assert_error_line 'is not running'
}

@test "exec into an unknown container, and exec without a command: 1" {
    run --separate-stderr bocker exec nosuch true
    assert_failure 1
    bk_assert_error_line 'No such container: nosuch'
    bocker run -d --name e13 busybox sleep 30 >/dev/null
    run --separate-stderr bocker exec e13
    assert_failure 1
    bk_assert_error_line
}

@test "exec -d returns at once; the command runs in the background" {
    bocker run -d --name e14 busybox sleep 30 >/dev/null
    t0=${EPOCHREALTIME/./}
    run bocker exec -d e14 sh -c 'sleep 2; echo done > /tmp/bg'
    t1=${EPOCHREALTIME/./}
    assert_success
    assert_output ''
    [ $(( (t1 - t0) / 1000 )) -lt 1500 ] || fail "exec -d took $(( (t1 - t0) / 1000 )) ms"
    run bocker exec e14 cat /tmp/bg
    assert_failure
    wait_for bocker exec e14 test -f /tmp/bg
    run bocker exec e14 cat /tmp/bg
    assert_output done
}

@test "exec -i passes stdin; without -i stdin is empty" {
    bocker run -d --name e15 busybox sleep 30 >/dev/null
    run bash -c "printf 'line1\nline2\n' | '$BOCKER' exec -i e15 cat"
    assert_success
    assert_output "$(printf 'line1\nline2')"
    run bash -c "printf 'line1\n' | '$BOCKER' exec e15 cat"
    assert_success
    assert_output ''
}

@test "exec output: stdout and stderr apart; not in the container's log" {
    bocker run -d --name e16 busybox sleep 30 >/dev/null
    run --separate-stderr bocker exec e16 sh -c 'echo out; echo err >&2'
    assert_output out
    [ "$stderr" = err ]
    run bocker logs e16
    assert_output ''
}

@test "exec sees the container's network: its address on eth0" {
    bocker run -d --name e17 busybox sleep 30 >/dev/null
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' e17)
    run bocker exec e17 ip -o -4 addr show eth0
    assert_success
    assert_output --partial "inet $ip/"
}

@test "the exec'd process is gone when exec returns; the container keeps running" {
    id=$(bocker run -d --name e18 busybox sleep 30)
    bocker exec e18 true
    run bocker exec e18 ps -o args
    refute_output --partial true
    run bocker inspect --format '.[0].State.Status' e18
    assert_output running
}

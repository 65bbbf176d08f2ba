#!/usr/bin/env bats
# `bocker run` as a user types it: the command, its flags, and what the container sees.

load helpers

setup_file() {
    bk_store_setup run 211
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

@test "run --rm busybox echo hello prints hello and exits 0" {
    run bocker run --rm busybox echo hello
    assert_success
    assert_output hello
}

@test "run --rm leaves no container behind" {
    run bocker run --rm busybox true
    assert_success
    run bocker ps -a -q
    assert_output ''
    run ls "$BOCKER_ROOT/containers"
    assert_output ''
    bk_assert_clean
}

@test "the command is PID 1 of its own pid namespace" {
    run bocker run --rm busybox sh -c 'echo $$'
    assert_success
    assert_output 1
    run bocker run --rm busybox sh -c 'ps -o pid= | wc -l'
    assert_success
    # sh (1), ps, wc: nothing of the host's processes
    [ "$output" -le 3 ]
}

@test "arguments with spaces, quotes and shell characters arrive unchanged" {
    run bocker run --rm busybox printf '[%s]\n' 'a b' '"q"' "it's" '' '$HOME' '*' 'x  y' '\n'
    assert_success
    assert_output "$(printf '[%s]\n' 'a b' '"q"' "it's" '' '$HOME' '*' 'x  y' '\n')"
}

@test "stdout and stderr of the container go to bocker's stdout and stderr" {
    run --separate-stderr bocker run --rm busybox sh -c 'echo out; echo err >&2'
    assert_success
    assert_output out
    [ "$stderr" = err ]
}

@test "the container's exit code is bocker's exit code" {
    run bocker run --rm busybox sh -c 'exit 3'
    assert_failure 3
    run bocker run --rm busybox false
    assert_failure 1
}

@test "-e KEY=VALUE sets variables, values with spaces and = kept" {
    run bocker run --rm -e A=1 -e 'B=x y' -e 'C=k=v' busybox sh -c 'echo "$A|$B|$C"'
    assert_success
    assert_output '1|x y|k=v'
}

@test "-e NAME takes the value from bocker's environment; unset NAME is left out" {
    export BK_FROM_HOST='host value'
    unset BK_NOT_SET
    run bocker run --rm -e BK_FROM_HOST -e BK_NOT_SET busybox sh -c 'echo "$BK_FROM_HOST"; env | grep -c BK_NOT_SET'
    assert_output "$(printf 'host value\n0')"
}

@test "-e overrides the image's PATH and the default environment is docker's" {
    run bocker run --rm busybox sh -c 'echo "$PATH"; echo "$HOME"; echo "$HOSTNAME"'
    assert_success
    assert_line --index 0 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    assert_line --index 1 /root
    [ "${#lines[2]}" = 12 ]
    run bocker run --rm -e PATH=/bin busybox sh -c 'echo "$PATH"'
    assert_output /bin
}

@test "-w sets the working directory, creating it if needed" {
    run bocker run --rm -w /tmp busybox pwd
    assert_success
    assert_output /tmp
    run bocker run --rm -w /new/dir busybox pwd
    assert_success
    assert_output /new/dir
}

@test "-u 65534:65534 runs as that uid and gid" {
    run bocker run --rm -u 65534:65534 busybox id
    assert_success
    assert_output --partial 'uid=65534'
    assert_output --partial 'gid=65534'
}

@test "-u nobody runs as the image's nobody (65534)" {
    run bocker run --rm -u nobody busybox id -u
    assert_success
    assert_output 65534
}

@test "-u nobody with -w /tmp works (the image's / is searchable by everyone)" {
    run bocker run --rm -u nobody -w /tmp busybox sh -c 'pwd; touch f && echo wrote'
    assert_success
    assert_output "$(printf '/tmp\nwrote')"
}

@test "-u with an unknown user fails with a message" {
    run --separate-stderr bocker run --rm -u nosuchuser busybox true
    assert_failure
    bk_assert_error_line 'nosuchuser'
}

@test "--name names the container (ps, inspect)" {
    run bocker run --name named1 busybox true
    assert_success
    run bocker inspect --format '.[0].Name' named1
    assert_output /named1
    run bocker ps -a --format '.Names'
    assert_output named1
    bocker rm named1
}

@test "a container without --name gets a generated adjective_name" {
    run bocker run busybox true
    assert_success
    run bocker ps -a --format '.Names'
    assert_output --regexp '^[a-z]+_[a-z]+[0-9]*$'
    bocker rm "$output"
}

@test "--hostname sets hostname, /etc/hostname and /etc/hosts" {
    run bocker run --rm --hostname h1 busybox sh -c 'hostname; cat /etc/hostname; grep -w h1 /etc/hosts | wc -l'
    assert_success
    assert_output "$(printf 'h1\nh1\n1')"
    # the host's own name is untouched (uts namespace)
    [ "$(hostname)" != h1 ]
}

@test "the default hostname is the short container id" {
    run bocker run --name hn busybox hostname
    assert_success
    id=$(bk_id hn)
    assert_output "${id:0:12}"
    bocker rm hn
}

@test "--entrypoint replaces the entrypoint; the arguments follow it" {
    run bocker run --rm --entrypoint echo busybox a 'b c'
    assert_success
    assert_output 'a b c'
    run bocker run --rm --entrypoint /bin/printf busybox '%s|' x y
    assert_output 'x|y|'
}

@test "without a command, the image's CMD runs (sh, stdin closed: exits 0)" {
    run bocker run --rm busybox
    assert_success
}

@test "capabilities are docker's default set and no_new_privs is set" {
    run bocker run --rm busybox sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status'
    assert_success
    assert_line --regexp '^CapEff:[[:space:]]+00000000a80425fb$'
    assert_line --regexp '^CapBnd:[[:space:]]+00000000a80425fb$'
    assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
}

@test "a dropped capability is really gone (no mount, no sethostname from inside)" {
    run bocker run --rm busybox sh -c 'mkdir -p /mnt && mount -t tmpfs t /mnt'
    assert_failure
    run bocker run --rm busybox hostname other
    assert_failure
}

@test "/sys is read-only" {
    run bocker run --rm busybox sh -c 'touch /sys/x'
    assert_failure
    assert_output --partial 'Read-only file system'
    run bocker run --rm busybox sh -c 'grep " /sys " /proc/mounts'
    assert_output --regexp '^sysfs /sys sysfs ro,'
}

@test "/proc, /dev/pts, /dev/shm are mounted; /dev has the standard nodes" {
    run bocker run --rm busybox sh -c '
        for n in null zero full random urandom tty; do test -c /dev/$n || echo "missing $n"; done
        for d in pts shm; do test -d /dev/$d || echo "missing $d"; done
        test -L /dev/fd && test -L /dev/stdin && test -L /dev/stdout && test -L /dev/stderr || echo "missing links"
        echo x > /dev/null && head -c 4 /dev/zero | wc -c
        awk "{print \$2}" /proc/mounts | sort | tr "\n" " "'
    assert_success
    assert_line --index 0 4
    # bocker's /etc files are bind mounts; Docker's masked and read-only kernel paths too
    assert_line --index 1 --regexp '^/ /dev /dev/mqueue /dev/pts /dev/shm /etc/hostname /etc/hosts /etc/resolv.conf /proc .*/proc/keys /proc/sys .*/sys /sys/firmware $'
}

@test "/dev/shm is writable, / of the container is writable (its own snapshot)" {
    run bocker run --rm busybox sh -c 'echo a > /dev/shm/x && cat /dev/shm/x && echo b > /etc/new && cat /etc/new'
    assert_success
    assert_output "$(printf 'a\nb')"
}

@test "the old root is gone: no host path or mount is visible inside" {
    run bocker run --rm busybox sh -c '
        ls -a / | tr "\n" " "; echo
        test -e /.oldroot && echo oldroot
        test -e /work && echo work
        test -e "'"$REPO"'/bocker.py" && echo repo
        test -e "'"$BOCKER_ROOT"'" && echo store
        echo $(grep -c -e cgroup -e /work -e "'"$BK_TMP"'" /proc/mounts)'
    assert_success
    # exactly the image's own top-level entries
    image=$(bocker inspect --format '.[0].Id | ltrimstr("sha256:")' busybox)
    assert_line --index 0 "$(ls -a "$BOCKER_ROOT/images/$image" | tr '\n' ' ')"
    refute_line oldroot
    refute_line work
    refute_line repo
    refute_line store
    assert_line --index 1 0
}

@test "a file written in one container is not seen by the next (each has its own snapshot)" {
    run bocker run --rm busybox sh -c 'echo x > /root/marker'
    assert_success
    run bocker run --rm busybox sh -c 'test -e /root/marker && echo present || echo absent'
    assert_output absent
}

@test "ipc namespace: the container does not see the host's SysV ipc" {
    run bocker run --rm busybox sh -c 'readlink /proc/self/ns/ipc'
    assert_success
    [ "$output" != "$(readlink /proc/self/ns/ipc)" ]
    run bocker run --rm busybox sh -c 'readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/pid'
    refute_line "$(readlink /proc/self/ns/mnt)"
    refute_line "$(readlink /proc/self/ns/uts)"
    refute_line "$(readlink /proc/self/ns/pid)"
}

@test "SIGTERM to a foreground bocker run is forwarded to the container" {
    bk_bg sig busybox sh -c 'trap "echo got TERM; exit 7" TERM; while :; do sleep 0.1; done'
    pid=$(tail -n 1 "$BK_TMP/bg.pids")
    # the bocker process is the child of the background subshell
    bocker_pid=$(pgrep -P "$pid" -f bocker.py | head -n 1)
    [ -n "$bocker_pid" ]
    kill -TERM "$bocker_pid"
    run bk_bg_wait sig
    assert_output 7
    run cat "$BK_TMP/sig.out"
    assert_output 'got TERM'
    bocker rm sig
    bk_assert_clean
}

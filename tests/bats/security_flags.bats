#!/usr/bin/env bats
# Issue 10: the flags that change Docker's security defaults and limits (--read-only, --ulimit,
# --sysctl, --shm-size, --init, --oom-score-adj, no-new-privileges, cpuset/shares, memory-swap,
# memory-reservation), what inspect and info say of them, and user-namespace remapping.
# Checked from inside the container (the kernel's view) and in the host's cgroup files.
# No host kernel knob is written: a refused --sysctl carries the host's own current value,
# so even a wrong acceptance would change nothing.

load helpers

setup_file() {
    bk_store_setup secf 98
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

crun() {
    timeout 60 "$BOCKER" run --rm "$@"
}

# cgroup file of a running container: cg CONTROLLER NAME FILE
cg() {
    cat "/sys/fs/cgroup/$1/$BOCKER_CGROUP_PARENT/$(bk_id "$2")/$3"
}

# the last `run --separate-stderr` failed with 125 and one clean line, and nothing was created
assert_refused() {
    assert_failure 125
    bk_assert_error_line
    [ "${#stderr_lines[@]}" = 1 ] || fail "more than one line on stderr: $stderr"
    refute_output --partial RAN
    assert_nothing_created
}

# --- --read-only ------------------------------------------------------------------------------

@test "flags: --read-only: the rootfs cannot be written; a --tmpfs /tmp can" {
    run crun --read-only busybox sh -c 'touch /x && echo WROTE-ROOT; echo marker'
    assert_success
    assert_line marker
    refute_line WROTE-ROOT
    run crun --read-only --tmpfs /tmp busybox sh -c 'touch /x && echo WROTE-ROOT; touch /tmp/x && echo wrote-tmp'
    assert_success
    refute_line WROTE-ROOT
    assert_line wrote-tmp
    run crun --read-only busybox sh -c 'awk "\$5 == \"/\" { print substr(\$6, 1, 2) }" /proc/self/mountinfo'
    assert_success
    assert_output ro
    # without the flag the rootfs is writable (the check above is not vacuous)
    run crun busybox sh -c 'touch /x && echo wrote-root'
    assert_output wrote-root
}

# --- --ulimit ---------------------------------------------------------------------------------

@test "flags: --ulimit nofile=1024:2048 (and nproc): ulimit and /proc/self/limits inside" {
    run crun --ulimit nofile=1024:2048 busybox sh -c 'ulimit -n; ulimit -Hn; grep "Max open files" /proc/self/limits'
    assert_success
    assert_line --index 0 1024
    assert_line --index 1 2048
    assert_line --regexp '^Max open files +1024 +2048 +files'
    run crun --ulimit nproc=100:200 --ulimit nofile=512 busybox cat /proc/self/limits
    assert_success
    assert_line --regexp '^Max processes +100 +200 +processes'
    assert_line --regexp '^Max open files +512 +512 +files'
}

@test "flags: a bad --ulimit: 125, one line, nothing created" {
    for u in nofile=x bogus=1 nofile=2048:1024 nofile; do
        run --separate-stderr bocker run --name badul --ulimit "$u" busybox echo RAN
        assert_refused
    done
}

# --- --sysctl ---------------------------------------------------------------------------------

@test "flags: --sysctl net.*: set in the container's network namespace, the host's value unchanged" {
    fwd=$(cat /proc/sys/net/ipv4/ip_forward)
    som=$(cat /proc/sys/net/core/somaxconn)
    [ "$som" != 1234 ]
    run crun --sysctl net.ipv4.ip_forward=1 --sysctl net.core.somaxconn=1234 busybox \
        sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/core/somaxconn'
    assert_success
    assert_equal "$output" "1
1234"
    assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$fwd"
    assert_equal "$(cat /proc/sys/net/core/somaxconn)" "$som"
}

@test "flags: --sysctl kernel.shmmax (IPC namespace): set inside, the host's value unchanged" {
    # only where the container has its own IPC namespace (else the write would be the host's)
    inside=$(crun busybox readlink /proc/self/ns/ipc)
    [ -n "$inside" ] && [ "$inside" != "$(readlink /proc/self/ns/ipc)" ] ||
        fail "the container shares the host's IPC namespace ($inside): kernel.shm* not tried"
    host=$(cat /proc/sys/kernel/shmmax)
    [ "$host" != 1048576 ]
    run crun --sysctl kernel.shmmax=1048576 busybox cat /proc/sys/kernel/shmmax
    assert_success
    assert_output 1048576
    assert_equal "$(cat /proc/sys/kernel/shmmax)" "$host"
}

@test "flags: --sysctl of a host-wide knob (kernel.core_pattern, vm.*), or net.* with --network host: 125" {
    core=$(cat /proc/sys/kernel/core_pattern)
    swp=$(cat /proc/sys/vm/swappiness)
    som=$(cat /proc/sys/net/core/somaxconn)
    # each carries the host's current value: nothing could change even if it were accepted
    run --separate-stderr bocker run --name badsys --sysctl "kernel.core_pattern=$core" busybox echo RAN
    assert_refused
    run --separate-stderr bocker run --name badsys --sysctl "vm.swappiness=$swp" busybox echo RAN
    assert_refused
    run --separate-stderr bocker run --name badsys --network host --sysctl "net.core.somaxconn=$som" busybox echo RAN
    assert_refused
    run --separate-stderr bocker run --name badsys --sysctl net.core.somaxconn busybox echo RAN
    assert_refused
    assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$core"
}

# --- --shm-size, --oom-score-adj, no-new-privileges ---------------------------------------------

@test "flags: --shm-size 128m: /dev/shm is 128 MiB" {
    run crun --shm-size 128m busybox sh -c 'df -k /dev/shm | awk "NR == 2 { print \$2 }"'
    assert_success
    assert_output 131072
}

@test "flags: --oom-score-adj 500: /proc/self/oom_score_adj; out of range: 125" {
    run crun --oom-score-adj 500 busybox cat /proc/self/oom_score_adj
    assert_success
    assert_output 500
    run --separate-stderr bocker run --name badoom --oom-score-adj 2000 busybox echo RAN
    assert_refused
}

@test "flags: --security-opt no-new-privileges: NoNewPrivs 1 (also =true and :true)" {
    for opt in no-new-privileges no-new-privileges=true no-new-privileges:true; do
        run crun --security-opt "$opt" busybox grep NoNewPrivs /proc/self/status
        assert_success
        assert_output "NoNewPrivs:	1"
    done
}

@test "flags: an unknown --security-opt: 125, one line, nothing created" {
    run --separate-stderr bocker run --name badopt --security-opt bogus=1 busybox echo RAN
    assert_refused
}

# --- --init -------------------------------------------------------------------------------------

@test "flags: --init: PID 1 is tini (or docker-init/catatonit), the command is not PID 1" {
    run crun --init busybox sh -c 'tr "\0" " " < /proc/1/cmdline; echo; echo "me $$"'
    assert_success
    assert_line --index 0 --regexp '(tini|docker-init|catatonit)'
    refute_line 'me 1'
}

@test "flags: --init reaps zombies (without it, an orphan stays a zombie under a PID 1 that never waits)" {
    # an orphan that exits at once: reparented to PID 1
    bk_bg nozomb --init busybox sh -c '(sleep 0.1 &); exec sleep 60'
    bk_bg zomb busybox sh -c '(sleep 0.1 &); exec sleep 60'
    sleep 1
    run bocker exec zomb ps -o stat,comm
    assert_success
    assert_line --regexp '^Z'     # the control: the orphan is a zombie without --init
    run bocker exec nozomb ps -o stat,comm
    assert_success
    assert_line --regexp 'sleep'
    refute_line --regexp '^Z'
}

@test "flags: --init forwards signals: stop of a sleep ends at once (no SIGKILL after -t)" {
    bk_bg fwd --init busybox sleep 60
    start=$(date +%s%N)
    run bocker stop -t 8 fwd
    assert_success
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$elapsed" -lt 4000 ] || fail "stop took ${elapsed} ms: SIGTERM was not forwarded"
    run bocker inspect --format '.[0].State.ExitCode' fwd
    assert_output 143
}

# --- cgroup flags (v1 files on the host, and the kernel's view inside) --------------------------

@test "flags: --cpuset-cpus 0: Cpus_allowed_list inside, cpuset.cpus on the host" {
    run crun --cpuset-cpus 0 busybox grep Cpus_allowed_list /proc/self/status
    assert_success
    assert_output "Cpus_allowed_list:	0"
    bk_require_cgroup_v1
    bk_bg cset --cpuset-cpus 0 busybox sleep 60
    run cg cpuset cset cpuset.cpus
    assert_output 0
    run bocker inspect --format '.[0].HostConfig.CpusetCpus' cset
    assert_output 0
}

@test "flags: --cpu-shares 512: cpu.shares; CpuShares in inspect" {
    bk_require_cgroup_v1
    bk_bg shares --cpu-shares 512 busybox sleep 60
    run cg cpu shares cpu.shares
    assert_output 512
    run bocker inspect --format '.[0].HostConfig.CpuShares' shares
    assert_output 512
}

@test "flags: --memory 64m --memory-swap 128m: memsw limit; --memory-reservation 32m: soft limit" {
    bk_require_cgroup_v1
    bk_bg swp --memory 64m --memory-swap 128m --memory-reservation 32m busybox sleep 60
    run cg memory swp memory.limit_in_bytes
    assert_output 67108864
    if [ -e "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes" ]; then
        run cg memory swp memory.memsw.limit_in_bytes
        assert_output 134217728
    fi
    run cg memory swp memory.soft_limit_in_bytes
    assert_output 33554432
    run bocker inspect --format '.[0].HostConfig | [.Memory, .MemorySwap, .MemoryReservation] | @tsv' swp
    assert_output "67108864	134217728	33554432"
}

@test "flags: --memory-swap below --memory, or without --memory: 125, one line" {
    run --separate-stderr bocker run --name badswap --memory 64m --memory-swap 32m busybox echo RAN
    assert_refused
}

# --- inspect and info ---------------------------------------------------------------------------

@test "inspect: HostConfig.CapAdd, CapDrop, SecurityOpt, Privileged, ReadonlyRootfs" {
    run bocker create --name ins --cap-add NET_ADMIN --cap-drop MKNOD \
        --security-opt no-new-privileges --read-only busybox true
    assert_success
    run bocker inspect --format '.[0].HostConfig.CapAdd | join(",")' ins
    assert_output --regexp '^(CAP_)?NET_ADMIN$'
    run bocker inspect --format '.[0].HostConfig.CapDrop | join(",")' ins
    assert_output --regexp '^(CAP_)?MKNOD$'
    run bocker inspect --format '.[0].HostConfig.SecurityOpt | join(",")' ins
    assert_output --partial no-new-privileges
    run bocker inspect --format '.[0].HostConfig | [.Privileged, .ReadonlyRootfs] | @tsv' ins
    assert_output "false	true"
    run bocker create --name priv --privileged busybox true
    assert_success
    run bocker inspect --format '.[0].HostConfig | [.Privileged, .ReadonlyRootfs] | @tsv' priv
    assert_output "true	false"
    # Docker's empty values for a container without the flags
    run bocker create --name plain busybox true
    run bocker inspect --format '.[0].HostConfig | [.Privileged, .ReadonlyRootfs, (.CapAdd | length), (.CapDrop | length)] | @tsv' plain
    assert_output "false	false	0	0"
}

@test "info: a Security Options section with seccomp, and the cgroup version" {
    run bocker info
    assert_success
    assert_line --regexp '^ ?Security Options:'
    assert_line --regexp '^ +seccomp'
    assert_line --regexp '^ ?Cgroup Version: [12]'
}

# --- user namespaces ----------------------------------------------------------------------------

# the remapping flag, if bocker has one (the tests skip otherwise)
userns_flag() {
    local help
    help=$("$BOCKER" run --help)
    if [[ "$help" == *--userns-remap* ]]; then
        echo --userns-remap=default
    elif [[ "$help" == *--userns* ]]; then
        echo --userns=remap
    else
        return 1
    fi
}

@test "userns: a remapped container's uid_map is not the identity; inspect says so" {
    flag=$(userns_flag) || skip "bocker run has no --userns flag yet"
    run crun "$flag" busybox cat /proc/self/uid_map
    assert_success
    read -r inner outer count <<< "$output"
    assert_equal "$inner" 0
    [ "$outer" != 0 ] || fail "root inside is root on the host: $output"
    [ "$count" -ge 65536 ]
    if grep -q '^bocker:' /etc/subuid; then
        assert_equal "$outer" "$(awk -F: '$1 == "bocker" { print $2; exit }' /etc/subuid)"
    fi
    run bocker create --name rem "$flag" busybox true
    run bocker inspect --format '.[0].HostConfig.UsernsMode' rem
    assert_output --regexp '.'
}

@test "userns: a file created as root inside a volume is owned by the mapped uid on the host" {
    flag=$(userns_flag) || skip "bocker run has no --userns flag yet"
    mkdir -p "$BK_TMP/uvol"
    chmod 777 "$BK_TMP/uvol"
    run crun "$flag" -v "$BK_TMP/uvol:/v" busybox sh -c 'touch /v/f && id -u && head -n 1 /proc/self/uid_map'
    assert_success
    assert_line --index 0 0
    outer=$(awk 'NR == 2 { print $2 }' <<< "$output")
    [ "$outer" != 0 ]
    assert_equal "$(stat -c %u "$BK_TMP/uvol/f")" "$outer"
}

@test "userns: root inside a remapped container cannot read a host root-only file" {
    flag=$(userns_flag) || skip "bocker run has no --userns flag yet"
    mkdir -p "$BK_TMP/secret"
    echo s3cret > "$BK_TMP/secret/f"
    chmod 600 "$BK_TMP/secret/f"
    run crun "$flag" -v "$BK_TMP/secret:/s:ro" busybox sh -c 'cat /s/f; echo marker'
    assert_line marker
    refute_line s3cret
}

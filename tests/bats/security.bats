#!/usr/bin/env bats
# Issue 10: the ways out of a container, closed. Each test tries the escape from INSIDE a
# container against the real kernel and checks it is refused (and that the command really
# ran: a marker). Nothing here writes a host kernel knob: /proc files are opened for writing
# and closed again without a byte written, clocks are "set" only in ways the kernel refuses.
# The capability, seccomp, signal, stdio and bad-input tests are here too; the flags that
# change the defaults are in security_flags.bats.

load helpers

setup_file() {
    # a static helper for the syscalls busybox has no applet for (helpers/syscall.c); built
    # first, so that a missing compiler fails before any store exists
    gcc -static -O2 -Wall -o "$BATS_FILE_TMPDIR/syscall" "$BATS_TEST_DIRNAME/helpers/syscall.c" ||
        { echo "security.bats needs gcc and libc6-dev (a static build of helpers/syscall.c)" >&2; return 1; }
    bk_store_setup sec 97
    cp "$BATS_FILE_TMPDIR/syscall" "$BK_TMP/syscall"
    export BK_SC="$BK_TMP/syscall:/syscall:ro"
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

# crun ARGS...: `bocker run --rm` with the helper mounted, 60 s at most
crun() {
    timeout 60 "$BOCKER" run --rm -v "$BK_SC" "$@"
}

# the capability sets of Docker's default: chown dac_override fowner fsetid kill setgid setuid
# setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap
DEFAULT_CAPS=00000000a80425fb

# hexcap VALUE: a 16-digit capability mask, as /proc/PID/status prints it
hexcap() {
    printf '%016x' "$1"
}

# what --privileged can give: every capability the kernel has, within bocker's own bounding set
full_caps() {
    local last bnd
    last=$(cat /proc/sys/kernel/cap_last_cap)
    bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
    hexcap $(( ((1 << (last + 1)) - 1) & 0x$bnd ))
}

# the paths /proc must have read-only, and a file to open for writing in each
PROC_RO_SCRIPT='
for f in /proc/sys/kernel/core_pattern /proc/sys/vm/drop_caches /proc/sysrq-trigger \
         /proc/irq/default_smp_affinity \
         $(find /proc/bus /proc/fs -type f 2>/dev/null | head -n 4); do
    [ -e "$f" ] || continue
    echo "$f $(/syscall open-w "$f")"
done
echo "/proc/self/oom_score_adj $(/syscall open-w /proc/self/oom_score_adj)"
echo marker'

# --- 1. /proc/sys and the other kernel knobs --------------------------------------------

@test "proc: /proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/bus, /proc/fs cannot be opened for writing" {
    run crun busybox sh -c "$PROC_RO_SCRIPT"
    assert_success
    assert_line marker
    assert_line --regexp '^/proc/sys/kernel/core_pattern E'
    if [ -e /proc/sysrq-trigger ]; then assert_line --regexp '^/proc/sysrq-trigger E'; fi
    assert_line --regexp '^/proc/irq/default_smp_affinity E'
    if [ -d /proc/bus/pci ]; then assert_line --regexp '^/proc/bus/.* E'; fi
    # the knobs are refused; the rest of /proc still works (the container's own files)
    refute_line --regexp '^/proc/(sys|sysrq-trigger|irq|bus|fs).* ok$'
    assert_line '/proc/self/oom_score_adj ok'
}

@test "proc: the read-only paths are read-only mounts in mountinfo; /sys is read-only" {
    run crun busybox sh -c 'awk "{ print \$5, substr(\$6, 1, 2) }" /proc/self/mountinfo; echo marker'
    assert_success
    assert_line marker
    for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
        [ -e "$p" ] || continue
        assert_line "$p ro"
    done
    assert_line '/sys ro'
    assert_line '/proc rw'
}

@test "proc: --privileged lifts the read-only paths (opened for writing, nothing written)" {
    run crun --privileged busybox sh -c "$PROC_RO_SCRIPT"
    assert_success
    assert_line marker
    assert_line '/proc/sys/kernel/core_pattern ok'
    if [ -e /proc/sysrq-trigger ]; then assert_line '/proc/sysrq-trigger ok'; fi
    run crun --privileged busybox sh -c 'awk "{ print \$5, substr(\$6, 1, 2) }" /proc/self/mountinfo; echo marker'
    assert_success
    assert_line marker
    refute_line '/proc/sys ro'
    refute_line '/sys ro'
}

# --- 2. masked paths ----------------------------------------------------------------------

MASKED='/proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list'
MASKED+=' /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap'

# each masked path that exists, with what can be read of it: "P file ok N" / "P file EPERM" /
# "P dir N" (entries)
MASK_SCRIPT="
for p in $MASKED; do
    if [ -d \"\$p\" ]; then echo \"\$p dir \$(ls -A \"\$p\" 2>/dev/null | wc -l)\"
    elif [ -e \"\$p\" ]; then echo \"\$p file \$(/syscall open \"\$p\")\"
    fi
done
echo marker"

@test "masked: /proc/keys, /proc/timer_list, /sys/firmware (and the others present) read empty" {
    run crun busybox sh -c "$MASK_SCRIPT"
    assert_success
    assert_line marker
    # on the host these exist and have content: inside they are there but empty
    for p in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug /sys/firmware /proc/acpi /proc/scsi; do
        [ -e "$p" ] || continue
        assert_line --regexp "^$p (file|dir)"
    done
    refute_line --regexp ' file ok [1-9]'
    refute_line --regexp ' dir [1-9]'
}

@test "masked: --privileged and --security-opt systempaths=unconfined unmask them" {
    [ -n "$(head -c 1 /proc/timer_list 2>/dev/null)" ] || skip "no /proc/timer_list on this host"
    for opt in --privileged "--security-opt=systempaths=unconfined"; do
        run crun "$opt" busybox sh -c "$MASK_SCRIPT"
        assert_success
        assert_line marker
        assert_line --regexp '^/proc/timer_list file ok [1-9]'
        if [ -d /sys/firmware ] && [ -n "$(ls -A /sys/firmware)" ]; then
            assert_line --regexp '^/sys/firmware dir [1-9]'
        fi
    done
}

# --- 3. devices ---------------------------------------------------------------------------

@test "devices: a block device made with mknod (the store's own loop device) cannot be opened" {
    dev=$(findmnt -no SOURCE "$BOCKER_ROOT")
    [ -b "$dev" ]
    maj=$(( 0x$(stat -c %t "$dev") ))
    min=$(( 0x$(stat -c %T "$dev") ))
    run crun busybox sh -c "mknod /tmp/st b $maj $min && echo made; echo \"st \$(/syscall open /tmp/st)\"
                            mknod /tmp/l0 b 7 0; echo \"l0 \$(/syscall open /tmp/l0)\"
                            mknod /dev/st b $maj $min; echo \"devst \$(/syscall open /dev/st)\"
                            dd if=/tmp/st of=/dev/null bs=512 count=1 2>&1; echo marker"
    assert_success
    assert_line marker
    assert_line --regexp '^st E'
    assert_line --regexp '^l0 E'
    # in /dev (a tmpfs that must allow device nodes): the devices cgroup, not nodev, refuses it
    assert_line --regexp '^devst E'
    refute_output --partial 'records in'
}

@test "devices: /dev/kmsg and /dev/fuse made with mknod cannot be opened; the standard nodes work" {
    # opened for writing (reading /dev/kmsg needs CAP_SYSLOG anyway), nothing written
    run crun busybox sh -c 'mknod /tmp/kmsg c 1 11; echo "kmsg $(/syscall open-w /tmp/kmsg)"
                            mknod /tmp/fuse c 10 229; echo "fuse $(/syscall open-w /tmp/fuse)"
                            echo x > /dev/null && echo null-ok
                            head -c 4 /dev/urandom | wc -c; head -c 4 /dev/zero | wc -c
                            echo marker'
    assert_success
    assert_line marker
    assert_line --regexp '^kmsg E'
    assert_line --regexp '^fuse E'
    assert_line null-ok
    assert_equal "$(grep -c '^4$' <<< "$output")" 2
}

@test "devices: --device /dev/null:/dev/mynull makes a usable node" {
    run crun --device /dev/null:/dev/mynull busybox sh -c \
        'stat -c "%F %t:%T" /dev/mynull; echo x > /dev/mynull && echo "r $(/syscall open /dev/mynull)"'
    assert_success
    assert_line 'character special file 1:3'
    assert_line 'r ok 0'
}

@test "devices: a --device that does not exist: 125, one line, nothing created" {
    run --separate-stderr bocker run --name nodev --device /dev/bocker-no-such-device busybox true
    assert_failure 125
    bk_assert_error_line
    [ "${#stderr_lines[@]}" = 1 ]
    assert_nothing_created
}

@test "devices: --privileged has the host's device nodes, and may open them" {
    run crun --privileged busybox sh -c 'test -c /dev/loop-control && echo node; /syscall open /dev/kmsg'
    assert_success
    assert_line node
    assert_line --regexp '^ok '
    run crun busybox sh -c 'test -e /dev/loop-control && echo node; echo ran'
    refute_line node
    assert_line ran
}

@test "devices: the store is mounted nodev,nosuid" {
    run findmnt -no OPTIONS "$BOCKER_ROOT"
    assert_success
    [[ ",$output," == *,nodev,* ]] || fail "store mounted without nodev: $output"
    [[ ",$output," == *,nosuid,* ]] || fail "store mounted without nosuid: $output"
}

# --- 4. /etc files written by bocker ---------------------------------------------------------

# make_evil: an image whose /etc/hosts, /etc/hostname, /etc/resolv.conf and every
# /etc/<file>.tmp<PID> (PID over the whole pid range: bocker writes them as temp + rename)
# are symbolic links to host files under $BK_TMP
make_evil() {
    mkdir -p "$BK_TMP/vdir"
    for f in victim-hosts victim-hostname victim-resolv victim-tmp; do
        echo original > "$BK_TMP/$f"
    done
    pidmax=$(cat /proc/sys/kernel/pid_max)
    # bocker bind-mounts its own files over /etc/hosts, /etc/hostname, /etc/resolv.conf: the
    # planter (CAP_SYS_ADMIN) unmounts them to plant links in the image's own files
    run timeout 120 "$BOCKER" run --name planter --cap-add SYS_ADMIN -v "$BK_SC" busybox sh -c "
        set -e
        umount /etc/hosts /etc/hostname /etc/resolv.conf
        ln -sf $BK_TMP/victim-hosts /etc/hosts
        ln -sf $BK_TMP/victim-hostname /etc/hostname
        ln -sf $BK_TMP/vdir/new-resolv /etc/resolv.conf
        for f in hosts hostname resolv.conf; do
            /syscall plant $BK_TMP/victim-tmp /etc/\$f.tmp 1 $pidmax >/dev/null
        done
        echo planted"
    assert_success
    assert_output planted
    run bocker commit planter evil
    assert_success
    bocker rm planter
    ls -A "$BK_TMP" > "$BK_TMP/listing.before"
}

# the host files are as they were, and no file appeared next to them
assert_victims_untouched() {
    local f
    for f in victim-hosts victim-hostname victim-resolv victim-tmp; do
        assert_equal "$(cat "$BK_TMP/$f")" original
        [ ! -L "$BK_TMP/$f" ]
    done
    run ls -A "$BK_TMP/vdir"
    assert_output ''
    run bash -c "ls -A '$BK_TMP' | diff '$BK_TMP/listing.before' -"
    assert_output ''
    run grep -F "$BK_TMP/victim" /proc/mounts
    assert_output ''
}

# the run either works (Docker's way: bocker's files replace the links) or is refused cleanly
assert_ran_or_refused() {
    if [ "$status" != 0 ]; then
        assert_failure 125
        bk_assert_error_line
    else
        assert_output --partial ran
    fi
}

@test "etc: an image with /etc/hosts, /etc/hostname, /etc/resolv.conf and their temp names linked to host files: run does not write them" {
    make_evil
    run --separate-stderr timeout 60 "$BOCKER" run --rm evil echo ran
    assert_ran_or_refused
    assert_victims_untouched
    run --separate-stderr timeout 60 "$BOCKER" run --rm --network none evil echo ran
    assert_ran_or_refused
    assert_victims_untouched
}

@test "etc: the same image with create + start, and a restart" {
    make_evil
    run bocker create --name ev evil echo ran
    assert_success
    assert_victims_untouched
    run --separate-stderr timeout 60 "$BOCKER" start -a ev
    assert_ran_or_refused
    assert_victims_untouched
    run --separate-stderr timeout 60 "$BOCKER" start -a ev
    assert_ran_or_refused
    assert_victims_untouched
}

@test "etc: when it runs, the container sees bocker's /etc/hosts, not the host file" {
    make_evil
    run --separate-stderr timeout 60 "$BOCKER" run --rm evil sh -c 'cat /etc/hosts /etc/hostname; echo ran'
    [ "$status" = 0 ] || skip "bocker refuses the image (also secure)"
    assert_output --partial ran
    refute_output --partial original
    assert_output --partial localhost
}

# --- 5. mounts over / -------------------------------------------------------------------

@test "mounts: -v and --tmpfs destinations that resolve to / are refused: 125, one line, nothing created" {
    for spec in "-v /:/.." "-v /:/..:ro" "-v /tmp:/" "-v /:/" "-v /tmp:/./" "-v /tmp:/x/.." \
                "--tmpfs /.." "--tmpfs /" "--tmpfs /x/../"; do
        # shellcheck disable=SC2086
        run --separate-stderr timeout 60 "$BOCKER" run --name over $spec busybox echo RAN
        [ "$status" = 125 ] || fail "'$spec': exit $status, stdout '$output', stderr '$stderr'"
        refute_output --partial RAN
        bk_assert_error_line
        [ "${#stderr_lines[@]}" = 1 ] || fail "'$spec': more than one line: $stderr"
        assert_nothing_created
    done
}

# --- 6. capabilities ------------------------------------------------------------------------

# caps_of RUN-OR-EXEC-OUTPUT: "Inh Prm Eff Bnd Amb" from grep Cap /proc/self/status
caps_line() {
    awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s%s", sep, $2; sep = " " } END { print "" }' <<< "$1"
}

@test "caps: the default set is Docker's, in all five sets" {
    run crun busybox grep Cap /proc/self/status
    assert_success
    assert_equal "$(caps_line "$output")" "0000000000000000 $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS 0000000000000000"
}

@test "caps: an inheritable capability of the caller does not reach the container (run)" {
    run setpriv --inh-caps +sys_admin,+sys_module "$BOCKER" run --rm busybox grep Cap /proc/self/status
    assert_success
    assert_equal "$(caps_line "$output")" "0000000000000000 $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS 0000000000000000"
}

@test "caps: ambient capabilities of the caller do not reach the container (run)" {
    run setpriv --inh-caps +sys_admin --ambient-caps +sys_admin "$BOCKER" run --rm busybox grep Cap /proc/self/status
    assert_success
    assert_equal "$(caps_line "$output")" "0000000000000000 $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS 0000000000000000"
}

@test "caps: an inheritable capability of the caller does not reach an exec'd process; mount stays refused" {
    bk_bg capx busybox sleep 60
    run setpriv --inh-caps +sys_admin "$BOCKER" exec capx grep Cap /proc/self/status
    assert_success
    assert_equal "$(caps_line "$output")" "0000000000000000 $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS 0000000000000000"
    run setpriv --inh-caps +sys_admin "$BOCKER" exec capx sh -c 'mkdir -p /mnt/t; mount -t tmpfs none /mnt/t && echo MOUNTED; echo marker'
    assert_line marker
    refute_line MOUNTED
}

@test "caps: --cap-add SYS_ADMIN (sys_admin, CAP_SYS_ADMIN) adds bit 21 only" {
    want=$(hexcap $(( 0x$DEFAULT_CAPS | (1 << 21) )))
    for name in SYS_ADMIN sys_admin CAP_SYS_ADMIN; do
        run crun --cap-add "$name" busybox grep Cap /proc/self/status
        assert_success
        assert_equal "$(caps_line "$output")" "0000000000000000 $want $want $want 0000000000000000"
    done
}

@test "caps: --cap-drop ALL leaves nothing; --cap-drop chown --cap-drop CAP_NET_RAW drops those two" {
    run crun --cap-drop ALL busybox grep Cap /proc/self/status
    assert_success
    z=0000000000000000
    assert_equal "$(caps_line "$output")" "$z $z $z $z $z"
    run crun --cap-drop ALL busybox sh -c 'chown 1 /tmp && echo CHOWNED; echo marker'
    assert_line marker
    refute_line CHOWNED
    want=$(hexcap $(( 0x$DEFAULT_CAPS & ~(1 << 0) & ~(1 << 13) )))
    run crun --cap-drop chown --cap-drop CAP_NET_RAW busybox grep Cap /proc/self/status
    assert_success
    assert_equal "$(caps_line "$output")" "$z $want $want $want $z"
}

@test "caps: --cap-drop ALL --cap-add NET_BIND_SERVICE keeps only that one" {
    want=$(hexcap $(( 1 << 10 )))
    run crun --cap-drop ALL --cap-add NET_BIND_SERVICE busybox grep CapEff /proc/self/status
    assert_success
    assert_output "CapEff:	$want"
}

@test "caps: an unknown capability: 125, one line, nothing created" {
    for flag in --cap-add --cap-drop; do
        run --separate-stderr bocker run --name badcap "$flag" CAP_NOPE busybox echo RAN
        assert_failure 125
        refute_output --partial RAN
        bk_assert_error_line
        [ "${#stderr_lines[@]}" = 1 ]
        assert_nothing_created
    done
}

@test "caps: --privileged gives the full set (every capability the kernel has)" {
    want=$(full_caps)
    run crun --privileged busybox grep Cap /proc/self/status
    assert_success
    assert_equal "$(caps_line "$output")" "0000000000000000 $want $want $want 0000000000000000"
}

# --- 7. seccomp -------------------------------------------------------------------------------

@test "seccomp: every container runs in filter mode (Seccomp: 2), exec'd processes too" {
    run crun busybox grep '^Seccomp:' /proc/self/status
    assert_success
    assert_output "Seccomp:	2"
    bk_bg secx busybox sleep 60
    run bocker exec secx grep '^Seccomp:' /proc/self/status
    assert_success
    assert_output "Seccomp:	2"
}

@test "seccomp: keyrings: add_key and keyctl of the session keyring are EPERM" {
    run crun busybox sh -c 'echo "add_key $(/syscall add_key)"; echo "keyctl $(/syscall keyctl-read-session)"'
    assert_success
    assert_line 'add_key EPERM'
    assert_line 'keyctl EPERM'
}

@test "seccomp: new user namespaces are refused (unshare -U, unshare -r, unshare(CLONE_NEWUSER) + mount)" {
    run crun busybox sh -c 'unshare -U true && echo U-OK; unshare -r true && echo R-OK
                            echo "userns $(/syscall unshare-user)"; echo "mount $(/syscall userns-mount)"; echo marker'
    assert_success
    assert_line marker
    refute_line U-OK
    refute_line R-OK
    assert_line 'userns EPERM'
    assert_line 'mount EPERM'
}

@test "seccomp: perf_event_open and clock_settime are EPERM (the kernel itself would say EINVAL)" {
    run crun busybox sh -c 'echo "perf $(/syscall perf)"; echo "clock $(/syscall clock_settime)"'
    assert_success
    assert_line 'perf EPERM'
    assert_line 'clock EPERM'
}

@test "seccomp: date -s, swapon and reboot -f stay refused" {
    # guards: never let them reach the host (no CAP_SYS_TIME / CAP_SYS_BOOT, own pid namespace);
    # date -s sets the clock to the current second, so even a wrong success moves it by < 1 s
    run crun busybox sh -c '
        cap=$(awk "/^CapEff:/ { print \$2 }" /proc/self/status)
        [ $(( (0x$cap >> 25) & 1 )) = 0 ] || { echo HAS-SYS_TIME; exit 99; }
        [ $(( (0x$cap >> 22) & 1 )) = 0 ] || { echo HAS-SYS_BOOT; exit 99; }
        [ $$ = 1 ] || { echo NOT-PID-1; exit 99; }
        # (busybox date exits 0 even when it cannot set the clock: its message tells)
        date -s "@$(date +%s)" 2>&1 | grep -q "can.t set date" && echo DATE-REFUSED
        head -c 40960 /dev/zero > /tmp/swap; swapon /tmp/swap 2>/dev/null && { echo SWAPON; swapoff /tmp/swap; }
        reboot -f 2>/dev/null; echo "reboot rc $?"
        echo marker'
    assert_success
    assert_line marker
    assert_line DATE-REFUSED
    refute_line SWAPON
    refute_line 'reboot rc 0'
}

@test "seccomp: --security-opt seccomp=unconfined: Seccomp 0, user namespaces and keyctl reach the kernel" {
    run crun --security-opt seccomp=unconfined busybox sh -c '
        grep "^Seccomp:" /proc/self/status
        unshare -U true && echo U-OK
        echo "userns $(/syscall unshare-user)"; echo "keyctl $(/syscall keyctl-read-session)"
        echo "clock $(/syscall clock_settime)"'
    assert_success
    assert_line "Seccomp:	0"
    assert_line U-OK
    assert_line 'userns ok'
    assert_line --regexp '^keyctl ok'
    # reached the kernel, which refuses to set CLOCK_MONOTONIC
    assert_line 'clock EINVAL'
}

@test "seccomp: --security-opt seccomp=PROFILE.json (Docker's format) denying mkdir: mkdir fails, the rest runs" {
    cat > "$BK_TMP/nomkdir.json" <<'EOF'
{
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
        { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO" }
    ]
}
EOF
    run crun busybox sh -c 'mkdir /x && echo MADE; echo marker'
    assert_success
    assert_line MADE
    run crun --security-opt "seccomp=$BK_TMP/nomkdir.json" busybox sh -c 'mkdir /x && echo MADE; echo "userns $(/syscall unshare-user)"; echo marker'
    assert_success
    assert_line marker
    refute_line MADE
    # only what the profile says: it replaces the default, which refuses this
    assert_line 'userns ok'
}

@test "seccomp: a malformed or missing profile: 125, one line, nothing created" {
    printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [' > "$BK_TMP/broken.json"
    printf '{"defaultAction": "SCMP_ACT_NOPE"}' > "$BK_TMP/badaction.json"
    for p in "$BK_TMP/broken.json" "$BK_TMP/badaction.json" "$BK_TMP/no-such-profile.json"; do
        run --separate-stderr bocker run --name badprof --security-opt "seccomp=$p" busybox echo RAN
        assert_failure 125
        refute_output --partial RAN
        bk_assert_error_line
        [ "${#stderr_lines[@]}" = 1 ] || fail "$p: more than one line: $stderr"
        assert_nothing_created
    done
}

# --- 8. signals ---------------------------------------------------------------------------------

ZERO_SIGS="SigBlk:	0000000000000000
SigIgn:	0000000000000000"

@test "signals: the container's process starts with no signal ignored or blocked" {
    run crun busybox grep -E '^Sig(Blk|Ign):' /proc/self/status
    assert_success
    assert_output "$ZERO_SIGS"
}

@test "signals: even when bocker itself was started with SIGPIPE/SIGQUIT ignored and SIGUSR1 blocked" {
    run bash -c "trap '' PIPE QUIT XFSZ; exec python3 -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})
os.execv(sys.argv[1], sys.argv[1:])' '$BOCKER' run --rm busybox grep -E '^Sig(Blk|Ign):' /proc/self/status"
    assert_success
    assert_output "$ZERO_SIGS"
}

@test "signals: exec'd processes start with no signal ignored or blocked" {
    bk_bg sigx busybox sleep 60
    run bash -c "trap '' PIPE QUIT; exec '$BOCKER' exec sigx grep -E '^Sig(Blk|Ign):' /proc/self/status"
    assert_success
    assert_output "$ZERO_SIGS"
}

@test "signals: kill -QUIT reaches a shell trap inside" {
    run bash -c "trap '' QUIT; exec '$BOCKER' run --rm busybox sh -c 'trap \"echo got-quit; exit 0\" QUIT; kill -QUIT \$\$; sleep 1; echo no-trap'"
    assert_success
    assert_output got-quit
}

# --- 9. stdio is relayed, never handed over ---------------------------------------------------

@test "stdio: run -i < FILE: the container cannot write FILE through /proc/self/fd/0" {
    echo original > "$BK_TMP/in"
    run timeout 60 "$BOCKER" run -i --rm busybox sh -c 'echo pwned > /proc/self/fd/0; echo pwned >> /proc/self/fd/0; echo marker' < "$BK_TMP/in"
    assert_line marker
    assert_equal "$(cat "$BK_TMP/in")" original
}

@test "stdio: run < FILE (no -i): the container cannot write FILE either" {
    echo original > "$BK_TMP/in"
    run timeout 60 "$BOCKER" run --rm busybox sh -c 'echo pwned > /proc/self/fd/0; readlink /proc/self/fd/0; echo marker' < "$BK_TMP/in"
    assert_line marker
    refute_output --partial "$BK_TMP"
    assert_equal "$(cat "$BK_TMP/in")" original
}

@test "stdio: run -i < FILE: fd 0 inside is a pipe or a pty, not the file" {
    echo original > "$BK_TMP/in"
    run timeout 60 "$BOCKER" run -i --rm busybox sh -c 'readlink /proc/self/fd/0; readlink /proc/self/fd/1; cat' < "$BK_TMP/in"
    assert_success
    assert_line original
    refute_output --partial "$BK_TMP"
    assert_line --index 0 --regexp '^(pipe:\[|socket:\[|/dev/pts/)'
}

# out (made with "secret") got the container's lines, and nothing read back from it: "secret"
# once, then "first" ... "last" (head, if it ever wins the pipe, may swallow "first")
assert_out_not_read_back() {
    assert_equal "$(head -n 1 "$BK_TMP/out")" secret
    assert_equal "$(grep -c secret "$BK_TMP/out")" 1
    assert_equal "$(tail -n 1 "$BK_TMP/out")" last
    [ "$(wc -l < "$BK_TMP/out")" -le 3 ] || fail "read back: $(cat "$BK_TMP/out")"
}

@test "stdio: run ... >> FILE: the container cannot read FILE back through /proc/self/fd/1" {
    echo secret > "$BK_TMP/out"
    timeout 60 "$BOCKER" run --rm busybox sh -c 'echo first; timeout 2 head -n 2 /proc/self/fd/1; echo last' >> "$BK_TMP/out" || true
    assert_out_not_read_back
}

@test "stdio: exec ... >> FILE: the exec'd process cannot read FILE back; exec -i < FILE cannot write it" {
    bk_bg stdx busybox sleep 60
    echo secret > "$BK_TMP/out"
    timeout 60 "$BOCKER" exec stdx sh -c 'echo first; timeout 2 head -n 2 /proc/self/fd/1; echo last' >> "$BK_TMP/out" || true
    assert_out_not_read_back
    echo original > "$BK_TMP/in"
    run timeout 60 "$BOCKER" exec -i stdx sh -c 'echo pwned > /proc/self/fd/0; echo marker' < "$BK_TMP/in"
    assert_line marker
    assert_equal "$(cat "$BK_TMP/in")" original
}

# --- 10. bad input ------------------------------------------------------------------------

# assert_one_line STATUS: the last `run --separate-stderr` failed with STATUS and one clean line
# (STATUS 1: Docker's exit code for a failed command other than run/create; bocker's
# convention, 125, is accepted too)
assert_one_line() {
    if [ "$1" = 1 ] && [ "$status" = 125 ]; then
        :
    else
        assert_failure "$1"
    fi
    bk_assert_error_line
    [ "${#stderr_lines[@]}" = 1 ] || fail "more than one line on stderr: $stderr"
}

@test "input: a 5000-character --name: 125, one line, nothing created" {
    long=$(printf 'a%.0s' $(seq 5000))
    run --separate-stderr bocker run --name "$long" busybox true
    assert_one_line 125
    assert_nothing_created
    run --separate-stderr bocker create --name "$long" busybox true
    assert_one_line 125
    assert_nothing_created
}

@test "input: a 300-character volume name: one line, no volume" {
    long=$(printf 'v%.0s' $(seq 300))
    run --separate-stderr bocker volume create "$long"
    assert_one_line 1
    run --separate-stderr bocker run --rm -v "$long:/data" busybox true
    assert_one_line 125
    run bocker volume ls -q
    assert_output ''
    assert_nothing_created
}

@test "input: a 200-character tag, a 5000-character repository in tag and commit: exit 1, one line" {
    long=$(printf 't%.0s' $(seq 200))
    run --separate-stderr bocker tag busybox "x:$long"
    assert_one_line 1
    run bocker run --name src busybox true
    run --separate-stderr bocker commit src "x:$long"
    assert_one_line 1
    run bocker inspect --type image "x:$long"
    assert_failure
    # a 5000-character repository name (Docker: 255 at most for the whole name)
    longrepo=$(printf 'r%.0s' $(seq 5000))
    run --separate-stderr bocker tag busybox "$longrepo:1"
    assert_one_line 1
    run --separate-stderr bocker commit src "$longrepo:1"
    assert_one_line 1
    run --separate-stderr bocker commit src "$longrepo"
    assert_one_line 1
    run bocker images --format '{{.Repository}}'
    refute_output --partial rrrrrrrr
}

@test "input: -u 4294967296: 125 or 126, one line, no traceback" {
    run --separate-stderr timeout 60 "$BOCKER" run --rm -u 4294967296 busybox echo RAN
    [ "$status" = 125 ] || [ "$status" = 126 ] || fail "exit $status: $stderr"
    refute_output --partial RAN
    [[ "$stderr" != *Traceback* ]] || fail "a traceback: $stderr"
    [[ "$stderr" != *"internal error"* ]] || fail "an internal error: $stderr"
    [ "${#stderr_lines[@]}" = 1 ] || fail "more than one line: $stderr"
    run --separate-stderr timeout 60 "$BOCKER" run --rm -u 0:4294967296 busybox echo RAN
    [ "$status" = 125 ] || [ "$status" = 126 ] || fail "exit $status: $stderr"
    [[ "$stderr" != *Traceback* ]] || fail "a traceback: $stderr"
}

@test "input: -w ../x (a relative working directory): 125, one line, nothing created" {
    run --separate-stderr bocker run --name relw -w ../x busybox echo RAN
    assert_one_line 125
    refute_output --partial RAN
    assert_nothing_created
}

@test "input: -e =x (an empty variable name): 125, one line, nothing created" {
    run --separate-stderr bocker run --name emptyenv -e =x busybox echo RAN
    assert_one_line 125
    refute_output --partial RAN
    [[ "$stderr" != *Errno* ]] || fail "an OS error, not a clear message: $stderr"
    assert_nothing_created
}

@test "input: rmi -f of one of two tags only untags: the other still runs" {
    run bocker run --name base busybox true
    assert_success
    run bocker commit base two:1
    assert_success
    run bocker tag two:1 two:2
    assert_success
    bocker rm base
    run bocker rmi -f two:1
    assert_success
    assert_output --partial 'Untagged: two:1'
    refute_output --partial 'Deleted'
    run bocker run --rm two:2 echo still-here
    assert_success
    assert_output still-here
    run bocker inspect two:1
    assert_failure
    # the last tag: rmi -f deletes the image
    run bocker rmi -f two:2
    assert_success
    assert_output --partial 'Deleted'
}

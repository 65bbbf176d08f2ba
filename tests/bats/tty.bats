#!/usr/bin/env bats
# -t: a pseudo-terminal for run and exec, tested from a real pseudo-terminal (python's pty):
# the container's tty, window size (and SIGWINCH), Ctrl-C, exit code, the host terminal
# restored on every exit; -dit with its output in the log.

load helpers

setup_file() {
    bk_store_setup tty 232
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# pty_script: run python (the script on stdin) with ptyexp importable
pty_script() {
    BOCKER=$BOCKER PYTHONPATH=$REPO/tests/bats/helpers python3 -
}

@test "run -it --rm busybox sh: a tty, the window size, exit 5; the host terminal restored" {
    run pty_script <<'EOF'
from ptyexp import *
p = start("run -it --rm --name t1 busybox sh", rows=33, cols=97)
p.expect(r"# ")
p.send('echo "tty=[$(tty)]"; echo "size=[$(stty size)]"; echo "term=[$TERM]"; exit 5\n')
print(p.expect(r"tty=\[[^]$]*\]"))
print(p.expect(r"size=\[[^]$]*\]"))
print(p.expect(r"term=\[[^]$]*\]"))
check_restored(p, 5)
EOF
    assert_success
    assert_line --index 0 --regexp '^tty=\[/dev/(console|pts/[0-9]+)\]$'
    assert_line --index 1 'size=[33 97]'
    assert_line --index 2 'term=[xterm]'
    run bocker ps -aq
    assert_output ''
    bk_assert_clean
}

@test "run -it: a new window size reaches the container (SIGWINCH)" {
    run pty_script <<'EOF'
from ptyexp import *
import time
p = start("run -it --rm busybox sh", rows=24, cols=80)
p.expect(r"# ")
p.send('echo "size=[$(stty size)]"\n')
print(p.expect(r"size=\[[^]$]*\]"))
p.resize(50, 132)
# the resize is relayed asynchronously: ask until it shows (3 s at most)
for _ in range(30):
    time.sleep(0.1)
    p.send('echo "size=[$(stty size)]"\n')
    got = p.expect(r"size=\[[^]$]*\]")
    if got == "size=[50 132]":
        break
print(got)
p.send("exit\n")
check_restored(p, 0)
EOF
    assert_success
    assert_line --index 0 'size=[24 80]'
    assert_line --index 1 'size=[50 132]'
}

@test "run -it: Ctrl-C interrupts the container's foreground command, not bocker" {
    run pty_script <<'EOF'
from ptyexp import *
import time
p = start("run -it --rm busybox sh")
p.expect(r"# ")
p.send("sleep 20; echo after-sleep=$?\n")
time.sleep(0.5)
t0 = time.monotonic()
p.send("\x03")
p.expect(r"# ", timeout=5)
print("interrupted in %.1f s" % (time.monotonic() - t0))
p.send('echo "alive=[$((40+2))]"; exit 3\n')
print(p.expect(r"alive=\[\d+\]"))
check_restored(p, 3)
EOF
    assert_success
    assert_line --index 0 --regexp '^interrupted in [0-2]\.[0-9] s$'
    assert_line --index 1 'alive=[42]'
}

@test "run -it: the host terminal is restored when the container is killed from outside (137)" {
    run pty_script <<'EOF'
from ptyexp import *
import os, subprocess
p = start("run -it --name t4 busybox sh")
p.expect(r"# ")
subprocess.run([os.environ["BOCKER"], "kill", "t4"], check=True, stdout=subprocess.DEVNULL)
check_restored(p, 137)
EOF
    assert_success
    run bocker ps -a
    assert_output --regexp 'Exited \(137\) .* t4$'
}

@test "run -it: what is typed reaches the container once (the host terminal is in raw mode)" {
    run pty_script <<'EOF'
from ptyexp import *
p = start("run -it --rm busybox cat")
import time
time.sleep(0.5)
p.send("hello-raw\r")
# the container's terminal echoes it and cat prints it: exactly twice, never three times
p.expect(r"hello-raw\r\nhello-raw\r\n")
p.send("\x04")
check_restored(p, 0)
print(p.all.count(b"hello-raw"))
EOF
    assert_success
    assert_output 2
}

@test "exec -it: a tty in a running container, TERM set, exit code; terminal restored" {
    bocker run -d --name t6 busybox sleep 30 >/dev/null
    run pty_script <<'EOF'
from ptyexp import *
p = start("exec -it t6 sh", rows=40, cols=100)
p.expect(r"# ")
p.send('echo "tty=[$(tty; [ -t 0 ] && echo stdin-is-a-tty)]"; echo "size=[$(stty size)]"; echo "term=[$TERM]"; echo "pid1=[$(cat /proc/1/cmdline | tr "\\0" " ")]"; exit 3\n')
print(p.expect(r"tty=\[[^]$]*\]").replace("\r\n", " "))
print(p.expect(r"size=\[[^]$]*\]"))
print(p.expect(r"term=\[[^]$]*\]"))
print(p.expect(r"pid1=\[[^]$]*\]"))
check_restored(p, 3)
EOF
    assert_success
    assert_line --index 1 'size=[40 100]'
    assert_line --index 2 'term=[xterm]'
    assert_line --index 3 'pid1=[sleep 30 ]'
    # `tty` names the terminal by a path that exists inside the container (docker: /dev/pts/0)
    assert_line --index 0 --regexp '^tty=\[/dev/pts/[0-9]+ stdin-is-a-tty\]$'
    run bocker inspect --format '.[0].State.Status' t6
    assert_output running
}

@test "-dit: an interactive shell stays up detached; its output is in the log" {
    # (timeout: a -dit that keeps bocker's stdout open would hang this `run`)
    run timeout 10 "$BOCKER" run -dit --name t7 busybox sh
    assert_success
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    # the shell's prompt reaches the log; the shell waits for input (stdin kept open)
    for i in $(seq 100); do
        [[ "$(bocker logs t7)" == *'# '* ]] && break
        sleep 0.05
    done
    run bocker logs t7
    assert_output --partial '# '
    sleep 0.2
    run bocker inspect --format '.[0].State.Status' t7
    assert_output running
    run bocker exec t7 sh -c 'ls -l /proc/1/fd/0'
    assert_output --regexp '/dev/(console|pts/[0-9]+)$'
    run bocker stop -t 1 t7
    assert_success
}

@test "-dit with a command: its tty output is captured in the log; exit code recorded" {
    run timeout 10 "$BOCKER" run -dit --name t8 busybox sh -c 'tty; echo "size=[$(stty size)]"; echo hi-from-tty; exit 4'
    assert_success
    run bocker wait t8
    assert_output 4
    run bocker logs t8
    assert_output --regexp '/dev/(console|pts/[0-9]+)'
    assert_output --partial 'hi-from-tty'
    assert_output --partial 'size=['
}

@test "run -t without a terminal on bocker's side: the container still gets a tty" {
    run bocker run -t --rm busybox sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; exit 6'
    assert_failure 6
    assert_output --regexp '/dev/(console|pts/[0-9]+)'
    assert_output --partial stdio-is-a-tty
}

@test "run without -t: no tty in the container" {
    run bocker run --rm busybox sh -c 'tty; [ -t 1 ] || echo not-a-tty'
    assert_output --partial 'not a tty'
    assert_output --partial not-a-tty
}

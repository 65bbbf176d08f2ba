#!/usr/bin/env bats
# attach and detach: `attach` to detached containers (output, stdin with -i, the exit code),
# the detach keys (Ctrl-P Ctrl-Q, --detach-keys) in attach, run -it and exec -it, leaving the
# container running; --sig-proxy. The -t cases are driven from a real pseudo-terminal.

load helpers

setup_file() {
    bk_store_setup attach 225
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

@test "attach to a detached container: its new stdout and stderr apart, then its exit code" {
    bocker run -d --name a1 busybox sh -c 'echo before; sleep 4; echo out; echo err >&2; exit 7' >/dev/null
    wait_for grep -q before "$BOCKER_ROOT/containers/$(bk_id a1)/container.log"
    run --separate-stderr timeout -k 5 20 "$BOCKER" attach a1
    assert_failure 7
    assert_output out           # (not "before": attach shows what comes from now on)
    assert_equal "$stderr" err
}

@test "attach to a -di container: stdin reaches it; the detach keys leave it running" {
    bocker run -di --name a2 busybox sh >/dev/null
    # (our end of input does not end its stdin: as Docker's, attach then waits for its output)
    run timeout -k 5 20 "$BOCKER" attach a2 < <(printf 'echo one\n'; sleep 2; printf '\020\021echo two\n')
    assert_success
    assert_output one
    assert_equal "$(bocker inspect --format '{{.State.Status}}' a2)" running
    run --separate-stderr timeout -k 5 20 "$BOCKER" attach --detach-keys ctrl-x,y a2 < <(printf 'echo hi-$((40+2))\n\020\021\nexit 3\n')
    assert_failure 3
    assert_output hi-42
}

@test "attach: --sig-proxy (default) passes a signal on; --sig-proxy=false does not" {
    bocker run -d --name a3 busybox sh -c 'trap "echo got-term; exit 9" TERM; while :; do sleep 0.1; done' >/dev/null
    timeout -k 5 20 "$BOCKER" attach --sig-proxy=false a3 > "$BK_TMP/a3-off.out" 2>&1 3>&- &
    pid=$!
    echo $pid >> "$BK_TMP/bg.pids"
    sleep 1.5
    kill -TERM $pid
    wait $pid || true
    sleep 0.5
    assert_equal "$(bocker inspect --format '{{.State.Status}}' a3)" running
    timeout -k 5 20 "$BOCKER" attach a3 > "$BK_TMP/a3.out" 2>&1 3>&- &
    pid=$!
    echo $pid >> "$BK_TMP/bg.pids"
    sleep 1.5
    kill -TERM $pid
    rc=0
    wait $pid || rc=$?
    assert_equal "$rc" 9
    assert_equal "$(cat "$BK_TMP/a3.out")" got-term
}

@test "attach refuses a stopped container, a bad detach key, with one line, exit 1" {
    bocker create --name a4 busybox true >/dev/null
    run --separate-stderr bocker attach a4
    assert_failure 1
    bk_assert_error_line "You cannot attach to a stopped container, start it first"
    run --separate-stderr bocker attach --detach-keys ctrl-1 a4
    assert_failure 1
    bk_assert_error_line "Invalid detach keys"
    run --separate-stderr bocker attach nosuch
    assert_failure 1
}

@test "attach to a -dit container from a terminal: typed input, Ctrl-P Ctrl-Q detaches, attach again, exit code" {
    bocker run -dit --name t1 busybox sh >/dev/null
    run pty_script <<'EOF'
from ptyexp import *
p = start("attach t1", rows=30, cols=90)
import time
time.sleep(1)  # (the resize on attach redraws the shell's line: type after it)
p.send("\r")
p.expect(r"# ")
p.send('echo "size=[$(stty size)]"\r')
print(p.expect(r"size=\[\d+ \d+\]"))
p.send("\x10\x11")
check_restored(p, 0)
p = start("attach t1")
time.sleep(1)
p.send("\r")
p.expect(r"# ")
p.send('echo "again=[$((6*7))]"; exit 4\r')
print(p.expect(r"again=\[\d+\]"))
check_restored(p, 4)
EOF
    echo "$output"
    assert_success
    assert_line --index 0 'size=[30 90]'
    assert_line --index 1 'again=[42]'
    run bocker ps -a
    assert_output --regexp 'Exited \(4\) .* t1$'
}

@test "run -it: Ctrl-P Ctrl-Q detaches (exit 0) and the container runs on; attach (an event), exit 5; --rm removes it then" {
    run pty_script <<'EOF'
from ptyexp import *
p = start("run -it --rm --name r1 busybox sh")
p.expect(r"# ")
p.send("echo typed-$((1+1))\r")
p.expect(r"typed-2")
p.send("\x10\x11")
check_restored(p, 0)
import subprocess, os
st = subprocess.run([os.environ["BOCKER"], "inspect", "--format", "{{.State.Status}}", "r1"], capture_output=True, text=True)
print("status=" + st.stdout.strip())
p = start("attach r1")
import time
time.sleep(1)
p.send("\r")
p.expect(r"# ")
p.send("exit 5\r")
check_restored(p, 5)
EOF
    echo "$output"
    assert_success
    assert_line 'status=running'
    run bocker ps -aq
    assert_output ''
    bk_assert_clean
    run timeout 10 "$BOCKER" events --since 5m --until 0s --filter container=r1 --format '{{.Action}}'
    assert_output $'create\nstart\nattach\ndie\ndestroy'
}

@test "run -it --detach-keys: a custom sequence; a partial one is passed on" {
    run pty_script <<'EOF'
from ptyexp import *
p = start("run -it --name r2 --detach-keys ctrl-a,d busybox sh")
p.expect(r"# ")
p.send("\x01echo partial-ok\r")     # ctrl-a then not d: both reach the shell
p.expect(r"partial-ok\r\n")
p.send("\x01d")
check_restored(p, 0)
EOF
    echo "$output"
    assert_success
    assert_equal "$(bocker inspect --format '{{.State.Status}}' r2)" running
}

@test "exec -it: Ctrl-P Ctrl-Q detaches and the exec'd process runs on" {
    bocker run -d --name e1 busybox sleep 60 >/dev/null
    run pty_script <<'EOF'
from ptyexp import *
p = start("exec -it e1 sh")
p.expect(r"# ")
p.send("sleep 2; touch /done\r")
p.send("\x10\x11")
check_restored(p, 0)
EOF
    echo "$output"
    assert_success
    wait_for bocker exec e1 test -f /done
}

@test "run -it of a command that is not there: its message on the terminal, exit 127, nothing left with --rm" {
    run pty_script <<'EOF'
from ptyexp import *
p = start("run -it --rm busybox nosuch-cmd")
print(p.expect(r"nosuch-cmd[^\r\n]*"))
check_restored(p, 127)
EOF
    echo "$output"
    assert_success
    assert_line --index 0 --partial "nosuch-cmd"
    run bocker ps -aq
    assert_output ''
}

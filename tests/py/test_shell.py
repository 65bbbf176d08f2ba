"""The runner: quoting (with Var), --trace lines, --dry-run scripts, errors, atomic writes."""
import os
import subprocess

import pytest

from bocker import BockerError, shell

TRICKY = ["plain", "a b", "it's", '"dq"', "$HOME", "`x`", "*", "", "a\nb", "\\", "-x", "é", "a'b\"c", "~"]


def sh_echo(fragment, prelude=""):
    """What `sh` makes of a quoted fragment: printf's [%s] per word."""
    return subprocess.run(["sh", "-c", f"{prelude}printf '[%s]' {fragment}"],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("s", TRICKY)
def test_quote_round_trips_through_sh(s):
    assert sh_echo(shell.quote(s)) == f"[{s}]"


def test_quote_leaves_safe_words_bare():
    assert shell.quote("ip") == "ip"
    assert shell.quote("/sys/fs/cgroup/cpu/x") == "/sys/fs/cgroup/cpu/x"
    assert shell.quote("memory,cpu:bocker/abc") == "memory,cpu:bocker/abc"
    assert shell.quote("a b") == "'a b'"


def test_quote_non_strings():
    assert shell.quote(42) == "42"


def test_var_alone_becomes_a_quoted_expansion():
    assert shell.quote(shell.Var("pid")) == '"$pid"'
    assert sh_echo(shell.quote(shell.Var("pid")), "pid='4 2'; ") == "[4 2]"


def test_var_inside_a_string():
    arg = f"--net=/proc/{shell.Var('pid')}/ns/net"
    quoted = shell.quote(arg)
    assert quoted == '--net=/proc/"$pid"/ns/net'
    assert sh_echo(quoted, "pid=42; ") == "[--net=/proc/42/ns/net]"


def test_var_next_to_text_that_needs_quoting():
    arg = f"a b{shell.Var('x')}c d"
    assert sh_echo(shell.quote(arg), "x=' X '; ") == "[a b X c d]"


def test_two_vars_in_one_string():
    arg = f"{shell.Var('a')}:{shell.Var('b')}"
    assert sh_echo(shell.quote(arg), "a=1; b=2; ") == "[1:2]"


def test_line_with_heredoc_input():
    line = shell._line(["ip", "-batch", "-"], input="link add x type veth\n")
    assert line == "ip -batch - <<'EOF'\nlink add x type veth\nEOF"
    assert subprocess.run(["sh", "-c", line.replace("ip -batch -", "cat")], capture_output=True,
                          text=True).stdout == "link add x type veth\n"


def test_line_with_var_in_heredoc_expands_it():
    line = shell._line(["cat"], input=f"netns {shell.Var('pid')}\n")
    assert line == "cat <<EOF\nnetns $pid\nEOF"
    assert subprocess.run(["sh", "-c", "pid=7; " + line], capture_output=True,
                          text=True).stdout == "netns 7\n"


def test_run_returns_code_or_output():
    assert shell.run(["true"]) == 0
    assert shell.run(["sh", "-c", "echo out"], capture=True) == "out\n"
    assert shell.run(["sh", "-c", "exit 3"], check=False) == 3


def test_run_failure_is_a_command_error_with_the_last_stderr_line():
    with pytest.raises(shell.CommandError) as e:
        shell.run(["sh", "-c", "echo first >&2; echo 'the reason' >&2; exit 4"])
    assert e.value.returncode == 4
    assert "the reason" in str(e.value)
    assert "\n" not in str(e.value)
    assert isinstance(e.value, BockerError)


def test_run_missing_command_is_a_bocker_error():
    with pytest.raises(BockerError, match="command not found"):
        shell.run(["no-such-command-for-bocker-tests"])


def test_trace_prints_plus_lines_to_stderr_and_runs(tmp_path, capsys):
    shell.trace = True
    target = tmp_path / "made by trace"
    shell.run(["touch", str(target)])
    assert target.exists()
    captured = capsys.readouterr()
    assert captured.err == f"+ touch '{target}'\n"
    assert captured.out == ""


def test_trace_comment_lines_have_no_plus(capsys):
    shell.trace = True
    shell.comment("a step")
    assert capsys.readouterr().err == "# a step\n"


def test_dry_run_prints_and_does_not_run(tmp_path, capsys):
    shell.dry_run = True
    target = tmp_path / "x"
    assert shell.run(["touch", str(target)]) == 0
    assert shell.run(["echo", "hi"], capture=True) == ""
    assert not target.exists()
    assert capsys.readouterr().out == f"touch {target}\necho hi\n"


def test_configure_dry_run_starts_a_script(capsys):
    shell.configure(dry_run_on=True)
    assert capsys.readouterr().out.startswith("#!/bin/sh\n")


def test_dry_run_do_does_not_call(capsys):
    shell.dry_run = True
    called = []
    assert shell.do("mkdir /x", called.append, 1) is None
    assert called == []
    assert capsys.readouterr().out == "mkdir /x\n"


def test_do_calls_and_returns():
    assert shell.do("echo", lambda a, b=0: a + b, 1, b=2) == 3


def test_spawn_in_dry_run_is_a_background_job_and_a_var(capsys):
    shell.dry_run = True
    v = shell.spawn(["sleep", "1"], "job")
    assert isinstance(v, shell.Var)
    assert capsys.readouterr().out == "sleep 1 &\njob=$!\n"


def test_script_lines_only_in_dry_run(capsys):
    shell.script("wait $x")
    assert capsys.readouterr().out == ""
    shell.dry_run = True
    shell.script("wait $x")
    assert capsys.readouterr().out == "wait $x\n"


def test_write_file_is_atomic_with_mode(tmp_path):
    p = tmp_path / "f"
    shell.write_file(str(p), "hello\n", mode=0o600)
    assert p.read_text() == "hello\n"
    assert (p.stat().st_mode & 0o777) == 0o600
    assert os.listdir(tmp_path) == ["f"]  # no temp file left


def test_write_file_dry_run_is_a_heredoc_that_writes_the_same(tmp_path, capsys):
    shell.dry_run = True
    p = tmp_path / "f"
    content = "a 'b' $c\nline 2\n"
    shell.write_file(str(p), content)
    assert not p.exists()
    script = capsys.readouterr().out
    subprocess.run(["sh", "-c", script], check=True)
    assert p.read_text() == content


def test_dry_run_script_of_several_steps_runs(tmp_path, capsys):
    shell.dry_run = True
    d = tmp_path / "dir with space"
    shell.run(["mkdir", str(d)])
    shell.write_file(str(d / "f"), "x\n")
    pid = shell.spawn(["sh", "-c", "echo $$ > '%s'" % (d / "pid")], "bg")
    shell.script(f"wait {shell.quote(pid)}")
    shell.run(["test", "-s", str(d / "pid")])
    subprocess.run(["sh", "-e", "-c", capsys.readouterr().out], check=True)
    assert (d / "f").read_text() == "x\n"
    assert (d / "pid").read_text().strip().isdigit()


def test_feed_pipes_python_output_through_a_command_and_traces(tmp_path, capsys):
    shell.trace = True
    out = tmp_path / "o"
    with shell.feed(["sort"], out) as stream:
        stream.write(b"b\na\n")
    assert out.read_text() == "a\nb\n"
    assert capsys.readouterr().err == f"+ sort > {out}  # fed by bocker on stdin\n"


def test_feed_failure_is_a_command_error(tmp_path):
    with pytest.raises(shell.CommandError):
        with shell.feed(["sh", "-c", "cat >/dev/null; exit 3"], tmp_path / "o") as stream:
            stream.write(b"x")

"""init.py's option parsing and step list (the parts that do not need new namespaces)."""
import pytest

from bocker import init


def test_parse_options_and_command():
    opts, command = init.parse(["--rootfs", "/r", "--env", "A=1", "--hostname", "h", "--env", "B=x y",
                                "--workdir", "/w", "--user", "nobody", "--", "sh", "-c", "echo 'a b'"])
    assert opts["rootfs"] == "/r"
    assert opts["env"] == ["A=1", "B=x y"]
    assert opts["hostname"] == "h"
    assert opts["workdir"] == "/w"
    assert opts["user"] == "nobody"
    assert command == ["sh", "-c", "echo 'a b'"]


def test_parse_keeps_dashes_after_the_separator():
    opts, command = init.parse(["--rootfs", "/r", "--", "echo", "--", "--rootfs", "-x"])
    assert opts["rootfs"] == "/r"
    assert command == ["echo", "--", "--rootfs", "-x"]


def test_parse_option_values_that_look_like_options():
    opts, command = init.parse(["--env", "--weird=1", "--hostname", "--", "--", "true"])
    assert opts["env"] == ["--weird=1"]
    assert opts["hostname"] == "--"
    assert command == ["true"]


def test_parse_repeated_volumes_and_defaults():
    opts, command = init.parse(["--volume", "/a:/b:ro", "--volume", "/c:/d", "--", "true"])
    assert opts["volume"] == ["/a:/b:ro", "/c:/d"]
    assert opts["env"] == []
    assert command == ["true"]


def test_parse_without_command():
    opts, command = init.parse(["--rootfs", "/r", "--"])
    assert command == []


def test_docker_default_capabilities_are_capeff_a80425fb():
    mask = sum(1 << bit for bit in init.DEFAULT_CAPS.values())
    assert f"{mask:016x}" == "00000000a80425fb"


def test_dev_nodes_are_the_standard_ones():
    assert {(n, ma, mi) for n, ma, mi in init.DEV_NODES} >= {
        ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)}


def test_steps_in_order_pivot_root_before_caps_before_exec():
    opts, command = init.parse(["--rootfs", "/r", "--hostname", "h", "--lo", "up", "--", "echo", "hi"])
    lines = [line for line, _ in init.steps(opts, command)]
    text = "\n".join(lines)
    order = [text.index(s) for s in ("mount -t proc", "mount -t sysfs -o ro", "pivot_root . .",
                                     "umount -l", "hostname h", "--no-new-privs")]
    assert order == sorted(order)
    # /proc is mounted inside the new root, and the old root is detached
    assert "mount -t proc proc /r/proc" in text
    assert all(callable(fn) for _, fn in init.steps(opts, command))


def test_no_hostname_step_without_hostname():
    opts, command = init.parse(["--rootfs", "/r", "--", "true"])
    assert not any(line.startswith("hostname") for line, _ in init.steps(opts, command))


@pytest.mark.parametrize("name, code", [("nosuchcommand", 127), ("/no/such/file", 127)])
def test_execvpe_not_found_is_127(name, code):
    with pytest.raises(init.InitError) as e:
        init.execvpe([name], {"PATH": "/nonexistent-dir"})
    assert e.value.code == code


def test_execvpe_not_executable_is_126(tmp_path):
    f = tmp_path / "script"
    f.write_text("#!/bin/sh\n")
    f.chmod(0o644)
    with pytest.raises(init.InitError) as e:
        init.execvpe([str(f)], {"PATH": "/bin"})
    assert e.value.code == 126


def test_execvpe_directory_is_126(tmp_path):
    with pytest.raises(init.InitError) as e:
        init.execvpe([str(tmp_path)], {"PATH": "/bin"})
    assert e.value.code == 126


def test_lookup_reads_passwd_entries(tmp_path):
    p = tmp_path / "passwd"
    p.write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    assert init._lookup(str(p), "nobody")[2:4] == ["65534", "65534"]
    assert init._lookup(str(p), "nosuch") is None
    assert init._lookup(str(tmp_path / "missing"), "root") is None

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
    mask = sum(1 << bit for bit in init.DEFAULT_CAPS)
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


def _lines(argv):
    opts, command = init.parse(argv + ["--", "true"])
    return [line for line, _ in init.steps(opts, command)]


def _order(lines, *needles):
    found = [next(i for i, line in enumerate(lines) if n in line) for n in needles]
    return found == sorted(found)


def test_capabilities_bounding_then_user_then_capset_then_nnp_then_signals():
    lines = _lines(["--rootfs", "/r", "--user", "1000"])
    assert _order(lines, "--bounding-set", "--reuid", "--inh-caps -all --ambient-caps -all",
                  "--no-new-privs", "SIG_DFL", "exec env")


def test_default_caps_by_name_and_explicit_caps():
    assert "+sys_admin" not in _lines(["--rootfs", "/r"])[-6]
    bounding = next(line for line in _lines(["--rootfs", "/r", "--caps", "21,0"]) if "--bounding-set" in line)
    assert bounding.endswith("-all,+chown,+sys_admin")
    bounding = next(line for line in _lines(["--rootfs", "/r", "--caps", ""]) if "--bounding-set" in line)
    assert bounding.endswith("-all")
    opts, _ = init.parse(["--caps", "", "--"])
    assert init.kept_caps(opts) == set()


def test_seccomp_is_read_first_and_loaded_last_with_no_new_privs():
    lines = _lines(["--rootfs", "/r", "--seccomp", "/s/x.bpf"])
    assert "x.bpf" in lines[0]
    assert "seccomp-load" in lines[-2]


def test_seccomp_without_no_new_privs_is_loaded_before_the_capability_drop():
    lines = _lines(["--rootfs", "/r", "--seccomp", "/s/x.bpf", "--no-new-privs", "0"])
    assert not any("--no-new-privs" in line for line in lines)
    assert _order(lines, "seccomp-load", "--bounding-set", "--reuid")


def test_exec_reads_the_filter_before_entering_the_mounts():
    lines = _lines(["--enter", "42", "--seccomp", "/s/x.bpf"])
    assert _order(lines, "x.bpf", "nsenter --mount=/proc/42", "--bounding-set", "seccomp-load")


def test_kernel_files_sysctl_then_masks_then_readonly_then_read_only_root_before_pivot():
    lines = _lines(["--rootfs", "/r", "--sysctl", "net.ipv4.ip_forward=1", "--mask", "/proc/kcore",
                    "--mask", "/sys/firmware", "--readonly-path", "/proc/sys", "--read-only", "1"])
    assert "echo 1 > /r/proc/sys/net/ipv4/ip_forward  # --sysctl net.ipv4.ip_forward" in lines
    assert _order(lines, "mount -t proc", "mount -t tmpfs -o mode=755 tmpfs /r/dev", "--sysctl",
                  "/r/proc/kcore", "/r/sys/firmware", "remount,bind,ro /r/proc/sys",
                  "remount,bind,ro /r  #", "pivot_root . .")


def test_privileged_sysfs_is_writable():
    assert "mount -t sysfs sysfs /r/sys" in _lines(["--rootfs", "/r", "--privileged", "1"])
    assert "mount -t sysfs -o ro sysfs /r/sys" in _lines(["--rootfs", "/r"])


def test_limits_and_oom_score_before_the_capability_drop():
    lines = _lines(["--rootfs", "/r", "--ulimit", "nofile=1024:2048", "--ulimit", "core=-1:-1",
                    "--oom-score-adj", "500", "--shm-size", "1048576"])
    assert "prlimit --pid $$ --core=unlimited:unlimited" in lines
    assert _order(lines, "size=1048576 shm", "--nofile=1024:2048", "oom_score_adj", "--bounding-set")


def test_docker_init_and_devices_are_set_up_in_the_rootfs():
    lines = _lines(["--rootfs", "/r", "--docker-init", "/usr/bin/tini-static",
                    "--device", "/dev/null:/dev/xnull:rwm"])
    assert "mknod /r/dev/xnull c 1 3  # --device /dev/null" in lines
    assert any(line.startswith("mount --bind /usr/bin/tini-static /r/sbin/docker-init") for line in lines)


def test_rlimit_names_are_dockers():
    assert set(init.RLIMITS) == {"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
                                 "memlock", "as", "locks", "sigpending", "msgqueue", "nice",
                                 "rtprio", "rttime"}


def _userns_lines(extra=()):
    opts, command = init.parse(["--rootfs", "/r", "--cgroup", "/cg", "--lo", "up", "--userns", "100000:65536",
                                "--ulimit", "nofile=10:20", "--volume", "/v:/data", *extra, "--", "true"])
    return [line for line, _ in init.steps(opts, command)]


def test_userns_steps_need_host_root_before_becoming_root_inside():
    text = "\n".join(_userns_lines())
    order = [text.index(s) for s in ("echo 0 > /cg", "prlimit", "echo '0 100000 65536' > /proc/$!/uid_map",
                                     "X-mount.idmap", "mount -t proc", "nsenter --user", "mount --rbind /r",
                                     "setpriv --reuid 0", "ip link set lo up", "mount -t sysfs",
                                     "mount --bind /dev/null", "pivot_root . .")]
    assert order == sorted(order)
    assert "unshare --mount --uts --net" in text
    assert text.count("mount -t proc") == 1 and "mknod /r" not in text
    assert text.count("prlimit") == 1  # not again after the user namespace, where it would fail


def test_userns_devices_are_bind_mounts():
    text = "\n".join(_userns_lines(["--device", "/dev/fuse:/dev/fuse:rwm"]))
    assert "mount --bind /dev/fuse /r/dev/fuse" in text


def test_userns_exec_enters_mounts_then_the_user_namespace():
    opts, command = init.parse(["--enter", "42", "--userns", "100000:65536", "--", "sh"])
    lines = [line for line, _ in init.steps(opts, command)]
    assert any("--mount=/proc/42/ns/mnt --user=/proc/42/ns/user" in line for line in lines)
    assert not any("uid_map" in line for line in lines)

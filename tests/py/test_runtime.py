"""runtime: exit codes, pid identity (start time), init options from a record."""
import os
import subprocess

from bocker import runtime


def test_exit_code_of_a_signal_is_128_plus_n():
    assert runtime.exit_code(-9) == 137
    assert runtime.exit_code(-15) == 143
    assert runtime.exit_code(0) == 0
    assert runtime.exit_code(3) == 3


def test_pid_start_time_identifies_a_process():
    mine = runtime.pid_start_time(os.getpid())
    assert isinstance(mine, int) and mine > 0
    assert runtime.alive(os.getpid(), mine)
    assert not runtime.alive(os.getpid(), mine + 1)  # same pid, other start: a reused pid
    assert not runtime.alive(0, mine)
    assert not runtime.alive(None, None)


def test_dead_pid_is_not_alive():
    p = subprocess.Popen(["true"])
    start = runtime.pid_start_time(p.pid)
    p.wait()
    assert runtime.pid_start_time(p.pid) is None
    assert not runtime.alive(p.pid, start)


def test_pid_start_time_with_a_strange_comm(tmp_path):
    # comm may contain spaces and parentheses: the parser splits after the last ')'
    exe = tmp_path / "a b) (c"
    exe.symlink_to("/bin/sleep")
    p = subprocess.Popen([str(exe), "5"])
    try:
        assert isinstance(runtime.pid_start_time(p.pid), int)
    finally:
        p.kill()
        p.wait()


def record(mode="bridge", **config):
    c = {"Hostname": "h1", "Env": ["PATH=/bin", "A=x y"], "WorkingDir": "", "User": ""}
    c.update(config)
    return {"Id": "c" * 64, "Config": c, "HostConfig": {"NetworkMode": mode},
            "NetworkSettings": {"IPAddress": "10.230.0.2", "IPPrefixLen": 24, "Gateway": "10.230.0.1"},
            "Mounts": []}


def options(rec, rootfs):
    """init_options with a store config whose cgroup tree is v1 (no cgroup.controllers)."""
    from bocker.config import Config
    cfg = Config("/nonexistent-root")
    cfg.cgroup_root, cfg.cgroup_parent = "/fake-cgroup", "bk"
    return runtime.init_options(cfg, rec, rootfs)


def pairs(opts):
    return [(opts[i], opts[i + 1]) for i in range(0, len(opts), 2)]


def test_init_options_bridge():
    p = pairs(options(record(), "/r"))
    assert ("--rootfs", "/r") in p
    assert ("--hostname", "h1") in p
    assert ("--lo", "up") in p
    assert [v for k, v in p if k == "--env"] == ["PATH=/bin", "A=x y"]
    assert "--workdir" not in dict(p) and "--user" not in dict(p)
    # the init joins the container's cgroup in each v1 hierarchy
    assert [v for k, v in p if k == "--cgroup"] == [f"/fake-cgroup/{c}/bk/{'c' * 64}"
                                                    for c in ("memory", "cpu", "pids", "freezer", "devices", "cpuacct", "blkio")]


def test_init_options_host_network_keeps_the_host_name():
    p = dict(pairs(options(record("host"), "/r")))
    assert "--hostname" not in p


def test_uts_host_keeps_the_host_name_and_unshare_leaves_host_namespaces_out():
    rec = record()
    rec["HostConfig"].update(UTSMode="host", PidMode="host", GroupAdd=["tty", "7"])
    opts = options(rec, "/r")
    assert "--hostname" not in dict(pairs(opts))
    assert [v for k, v in pairs(opts) if k == "--group-add"] == ["tty", "7"]
    argv = runtime.unshare_argv("bridge", host=runtime.host_namespaces(rec["HostConfig"]))
    assert argv == ["busybox", "unshare", "--fork", "--mount", "--ipc", "--net", "--propagation", "private"]
    assert runtime.unshare_argv("bridge", remapped=True)[3:5] == ["--pid", "--mount"]


def test_init_options_workdir_and_user():
    p = dict(pairs(options(record(WorkingDir="/w", User="nobody"), "/r")))
    assert p["--workdir"] == "/w"
    assert p["--user"] == "nobody"


def test_init_options_round_trip_through_init_parse():
    from bocker import init
    opts, command = init.parse(options(record(WorkingDir="/w"), "/r") + ["--", "sh", "-c", "a b"])
    assert opts["rootfs"] == "/r" and opts["workdir"] == "/w" and opts["env"] == ["PATH=/bin", "A=x y"]
    assert command == ["sh", "-c", "a b"]


def test_command_of_is_entrypoint_then_cmd():
    assert runtime.command_of({"Config": {"Entrypoint": ["/ep"], "Cmd": ["a"]}}) == ["/ep", "a"]
    assert runtime.command_of({"Config": {"Entrypoint": None, "Cmd": ["a", "b c"]}}) == ["a", "b c"]


def test_a_zombie_is_not_alive():
    p = subprocess.Popen(["true"])
    start = runtime.pid_start_time(p.pid)
    while runtime._stat(p.pid)[0] != "Z":  # exited, not reaped yet
        pass
    assert runtime.pid_start_time(p.pid) == start
    assert not runtime.alive(p.pid, start)
    p.wait()


def test_signal_numbers_and_refused_signals():
    import pytest
    from bocker import BockerError, lifecycle
    assert [lifecycle.signal_number(s) for s in ("KILL", "sighup", "SIGTERM", "12", "64", "RTMIN+2")] == \
        [9, 1, 15, 12, 64, 36]
    for bad in ("0", "-1", "65", "BOGUS", "SIG_DFL", "RTMIN+99", ""):
        with pytest.raises(BockerError, match="invalid signal"):
            lifecycle.signal_number(bad)

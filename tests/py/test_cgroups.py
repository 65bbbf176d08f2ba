"""cgroups: limit parsing, the files each version needs, v1 commands, v2 writes to a fake tree."""
import os
import subprocess

import pytest

from bocker import BockerError, cgroups, shell

CID = "c0ffee" + "0" * 58
MB = 1024 * 1024


@pytest.mark.parametrize("text, expected", [
    ("64m", 64 * MB), ("64M", 64 * MB), ("64mb", 64 * MB), ("1g", 1024 * MB), ("1.5g", 1536 * MB),
    ("6m", 6 * MB), ("7000k", 7000 * 1024), (str(64 * MB), 64 * MB), ("67108864b", 64 * MB),
    ("1t", 1024 ** 4),
])
def test_parse_memory(text, expected):
    assert cgroups.parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "m", "5m", "1k", "-5m", "64x", "1..2m", "0"])
def test_parse_memory_rejects(text):
    with pytest.raises(BockerError):
        cgroups.parse_memory(text)


def test_parse_memory_minimum_message():
    with pytest.raises(BockerError, match="6MB"):
        cgroups.parse_memory("4m")


@pytest.mark.parametrize("text, expected", [("0.5", 0.5), ("1", 1.0), ("0.01", 0.01), (".25", 0.25)])
def test_parse_cpus(text, expected):
    assert cgroups.parse_cpus(text) == expected


def test_parse_cpus_accepts_all_cpus():
    assert cgroups.parse_cpus(str(os.cpu_count())) == float(os.cpu_count())


@pytest.mark.parametrize("text", ["0", "-1", "x", "", "nan", "inf", str((os.cpu_count() or 1) + 1)])
def test_parse_cpus_rejects(text):
    with pytest.raises(BockerError):
        cgroups.parse_cpus(text)


def test_limit_settings_v1():
    got = cgroups.limit_settings({"memory": 64 * MB, "cpus": 0.5, "pids": 20}, 1)
    assert got == [("memory.limit_in_bytes", str(64 * MB)), ("cpu.cfs_period_us", "100000"),
                   ("cpu.cfs_quota_us", "50000"), ("pids.max", "20")]


def test_limit_settings_v2():
    got = cgroups.limit_settings({"memory": 64 * MB, "cpus": 1.5, "pids": 64}, 2)
    assert got == [("memory.max", str(64 * MB)), ("memory.swap.max", "0"),
                   ("cpu.max", "150000 100000"), ("pids.max", "64")]


@pytest.mark.parametrize("v", [1, 2])
def test_no_limits_no_settings(v):
    assert cgroups.limit_settings({"memory": 0, "cpus": 0, "pids": 0}, v) == []
    assert cgroups.limit_settings({}, v) == []


@pytest.mark.parametrize("cpus, quota", [(0.01, 1000), (0.25, 25000), (2, 200000), (0.333, 33300)])
def test_cpu_quota_is_cpus_times_period(cpus, quota):
    assert dict(cgroups.limit_settings({"cpus": cpus}, 1))["cpu.cfs_quota_us"] == str(quota)
    assert dict(cgroups.limit_settings({"cpus": cpus}, 2))["cpu.max"] == f"{quota} 100000"


def test_version_detection(cfg, env):
    assert cgroups.version(cfg) == 1
    (env / "cgroup" / "cgroup.controllers").write_text("memory pids\n")
    assert cgroups.version(cfg) == 2


# --- v1: cgcreate / cgset / cgexec ---------------------------------------------------------

@pytest.fixture
def recorded(monkeypatch):
    calls = []
    monkeypatch.setattr(shell, "run", lambda argv, **kw: calls.append([str(a) for a in argv]) or 0)
    return calls


def test_v1_create_with_limits(cfg, recorded):
    cgroups.create(cfg, CID, {"memory": 64 * MB, "cpus": 0.5, "pids": 20})
    assert recorded == [
        ["cgcreate", "-g", f"memory,cpu,pids,freezer,devices,cpuacct,blkio:bocker-pytest/{CID}"],
        ["cgset", "-r", f"memory.limit_in_bytes={64 * MB}", "-r", "cpu.cfs_period_us=100000",
         "-r", "cpu.cfs_quota_us=50000", "-r", "pids.max=20", f"bocker-pytest/{CID}"],
    ]


def test_v1_create_without_limits_runs_no_cgset(cfg, recorded):
    cgroups.create(cfg, CID, {"memory": 0, "cpus": 0, "pids": 0})
    assert recorded == [["cgcreate", "-g", f"memory,cpu,pids,freezer,devices,cpuacct,blkio:bocker-pytest/{CID}"]]


def test_v1_launcher_and_paths(cfg, env):
    assert cgroups.launcher(cfg, CID) == ["cgexec", "-g", f"memory,cpu,pids,freezer,devices,cpuacct,blkio:bocker-pytest/{CID}"]
    assert cgroups.paths(cfg, CID) == [str(env / "cgroup" / c / "bocker-pytest" / CID)
                                       for c in ("memory", "cpu", "pids", "freezer", "devices", "cpuacct", "blkio")]


def test_v1_delete_removes_every_controller_dir(cfg, env):
    for p in cgroups.paths(cfg, CID):
        os.makedirs(p)
    cgroups.delete(cfg, CID)
    assert not any(os.path.exists(p) for p in cgroups.paths(cfg, CID))
    cgroups.delete(cfg, CID)  # again: nothing to do, no error


def test_v1_delete_parent_only_when_empty(cfg, env):
    for p in cgroups.paths(cfg, CID):
        os.makedirs(p)
    cgroups.delete_parent(cfg)
    assert os.path.isdir(env / "cgroup" / "memory" / "bocker-pytest" / CID)
    cgroups.delete(cfg, CID)
    cgroups.delete_parent(cfg)
    assert not os.path.exists(env / "cgroup" / "memory" / "bocker-pytest")


def test_v1_oom_killed(cfg, env):
    d = env / "cgroup" / "memory" / "bocker-pytest" / CID
    d.mkdir(parents=True)
    (d / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    assert cgroups.oom_killed(cfg, CID) is False
    (d / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert cgroups.oom_killed(cfg, CID) is True


def test_oom_killed_without_cgroup_is_false(cfg):
    assert cgroups.oom_killed(cfg, CID) is False


# --- v2: a fake unified tree ----------------------------------------------------------------

def test_v2_create_writes_limits_and_enables_controllers(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {"memory": 64 * MB, "cpus": 0.5, "pids": 20})
    parent = cgroup_v2 / "bocker-pytest"
    group = parent / CID
    assert (cgroup_v2 / "cgroup.subtree_control").read_text() == "+memory +cpu +pids +cpuset +io"
    assert (parent / "cgroup.subtree_control").read_text() == "+memory +cpu +pids +cpuset +io"
    assert (group / "memory.max").read_text() == str(64 * MB)
    assert (group / "memory.swap.max").read_text() == "0"
    assert (group / "cpu.max").read_text() == "50000 100000"
    assert (group / "pids.max").read_text() == "20"


def test_v2_create_without_limits_writes_no_limit_file(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {"memory": 0, "cpus": 0, "pids": 0})
    assert os.listdir(cgroup_v2 / "bocker-pytest" / CID) == []


def test_v2_second_container_does_not_rewrite_the_parent(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    (cgroup_v2 / "bocker-pytest" / "cgroup.subtree_control").write_text("memory cpu pids cpuset io")
    (cgroup_v2 / "cgroup.subtree_control").write_text("cpuset cpu io memory pids")
    other = "beef" + "0" * 60
    cgroups.create(cfg, other, {"pids": 5})
    assert (cgroup_v2 / "bocker-pytest" / "cgroup.subtree_control").read_text() == "memory cpu pids cpuset io"
    assert (cgroup_v2 / "cgroup.subtree_control").read_text() == "cpuset cpu io memory pids"
    assert (cgroup_v2 / "bocker-pytest" / other / "pids.max").read_text() == "5"


def test_v2_enables_only_the_missing_controllers_a_level_has(cfg, cgroup_v2):
    (cgroup_v2 / "cgroup.controllers").write_text("cpu io memory pids\n")
    (cgroup_v2 / "cgroup.subtree_control").write_text("cpu memory\n")
    cgroups.create(cfg, CID, {})
    assert (cgroup_v2 / "cgroup.subtree_control").read_text() == "+pids +io"
    assert (cgroup_v2 / "bocker-pytest" / "cgroup.subtree_control").read_text() == "+memory +cpu +pids +io"


def test_v2_nested_parent_delegates_every_level(cfg, cgroup_v2):
    cfg.cgroup_parent = "bocker.slice/inner"
    cgroups.create(cfg, CID, {"pids": 5})
    for level in ("", "bocker.slice", "bocker.slice/inner"):
        assert (cgroup_v2 / level / "cgroup.subtree_control").read_text() == "+memory +cpu +pids +cpuset +io"
    assert (cgroup_v2 / "bocker.slice" / "inner" / CID / "pids.max").read_text() == "5"


def test_v2_parent_that_cannot_delegate_is_a_bocker_error(cfg, cgroup_v2, monkeypatch):
    import errno
    real_write = cgroups._write

    def busy(path, value):
        if path.endswith("bocker-pytest/cgroup.subtree_control"):
            raise OSError(errno.EBUSY, "Device or resource busy")
        real_write(path, value)
    monkeypatch.setattr(cgroups, "_write", busy)
    with pytest.raises(BockerError, match="no-internal-processes"):
        cgroups.create(cfg, CID, {})


def test_v2_create_twice_is_an_error(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    with pytest.raises(OSError):
        cgroups.create(cfg, CID, {})


def test_v2_paths_and_delete(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    assert cgroups.paths(cfg, CID) == [str(cgroup_v2 / "bocker-pytest" / CID)]
    cgroups.delete(cfg, CID)
    assert not (cgroup_v2 / "bocker-pytest" / CID).exists()


def test_v2_delete_parent(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    cgroups.delete(cfg, CID)
    # a real cgroupfs has no regular files to remove; the fake one has subtree_control
    os.unlink(cgroup_v2 / "bocker-pytest" / "cgroup.subtree_control")
    cgroups.delete_parent(cfg)
    assert not (cgroup_v2 / "bocker-pytest").exists()


def test_v2_launcher_puts_the_process_in_the_cgroup(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    argv = cgroups.launcher(cfg, CID) + ["sh", "-c", 'echo "child $$"']
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    pid = out.split()[1]
    # the launcher wrote its pid to cgroup.procs, then exec'd the command (same pid)
    assert (cgroup_v2 / "bocker-pytest" / CID / "cgroup.procs").read_text().strip() == pid


def test_v2_launcher_passes_arguments_unchanged(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    args = ["a b", "'q'", '"d"', "$HOME", "", "*"]
    argv = cgroups.launcher(cfg, CID) + ["printf", "[%s]\\n"] + args
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out == "".join(f"[{a}]\n" for a in args)


def test_v2_oom_killed_reads_memory_events(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {})
    events = cgroup_v2 / "bocker-pytest" / CID / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    assert cgroups.oom_killed(cfg, CID) is False
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert cgroups.oom_killed(cfg, CID) is True


def test_v2_dry_run_changes_nothing_and_prints_the_steps(cfg, cgroup_v2, capsys):
    shell.dry_run = True
    cgroups.create(cfg, CID, {"memory": 64 * MB, "pids": 20})
    assert not (cgroup_v2 / "bocker-pytest").exists()
    out = capsys.readouterr().out
    assert f"mkdir {cgroup_v2}/bocker-pytest/{CID}" in out
    assert f"echo {64 * MB} > {cgroup_v2}/bocker-pytest/{CID}/memory.max" in out
    assert f"echo 20 > {cgroup_v2}/bocker-pytest/{CID}/pids.max" in out


def test_v1_trace_shows_the_commands(cfg, capsys, monkeypatch):
    import subprocess as sp
    monkeypatch.setattr(sp, "run", lambda *a, **k: sp.CompletedProcess(a[0], 0, b"", b""))
    shell.trace = True
    cgroups.create(cfg, CID, {"memory": 64 * MB})
    err = capsys.readouterr().err
    assert f"+ cgcreate -g memory,cpu,pids,freezer,devices,cpuacct,blkio:bocker-pytest/{CID}\n" in err
    assert f"+ cgset -r memory.limit_in_bytes={64 * MB} bocker-pytest/{CID}\n" in err


# --- swap, reservation, shares, cpuset, devices ---------------------------------------------

def test_swap_reservation_shares_cpuset_v1():
    got = cgroups.limit_settings({"memory": 64 * MB, "memory_swap": 128 * MB, "memory_reservation": 32 * MB,
                                  "cpu_shares": 512, "cpuset_cpus": "0", "cpuset_mems": "0"}, 1)
    assert got == [("memory.limit_in_bytes", str(64 * MB)), ("memory.memsw.limit_in_bytes", str(128 * MB)),
                   ("memory.soft_limit_in_bytes", str(32 * MB)), ("cpu.shares", "512"),
                   ("cpuset.cpus", "0"), ("cpuset.mems", "0")]


def test_swap_reservation_shares_v2():
    got = dict(cgroups.limit_settings({"memory": 64 * MB, "memory_swap": 128 * MB, "memory_reservation": 32 * MB,
                                       "cpu_shares": 1024}, 2))
    assert got["memory.swap.max"] == str(64 * MB)  # v2 counts swap alone: total - memory
    assert got["memory.low"] == str(32 * MB)
    assert got["cpu.weight"] == "39"  # runc's mapping of the default 1024 shares
    assert dict(cgroups.limit_settings({"memory": 64 * MB, "memory_swap": -1}, 2))["memory.swap.max"] == "max"


@pytest.mark.parametrize("limits, message", [
    ({"memory_swap": 128 * MB}, "always set the Memory limit"),
    ({"memory": 128 * MB, "memory_swap": 64 * MB}, "memoryswap limit should be larger"),
    ({"memory": 64 * MB, "memory_reservation": 128 * MB}, "less than memory reservation"),
    ({"cpu_shares": 1}, "cpu-shares"),
])
def test_check_limits_refuses(limits, message):
    with pytest.raises(BockerError, match=message):
        cgroups.check_limits(limits)


def test_v1_devices_deny_all_then_allow_each(cfg, env, recorded, monkeypatch):
    writes = []
    monkeypatch.setattr(cgroups, "_write", lambda path, value: writes.append((os.path.basename(path), value)))
    cgroups.create(cfg, CID, {"devices": [("c", 1, 3, "rwm"), ("c", 136, None, "rwm"), ("b", None, None, "m")]})
    assert writes == [("devices.deny", "a"), ("devices.allow", "c 1:3 rwm"), ("devices.allow", "c 136:* rwm"),
                      ("devices.allow", "b *:* m")]


def test_v1_no_device_rules_when_unrestricted(cfg, env, recorded):
    d = env / "cgroup" / "devices" / "bocker-pytest" / CID
    d.mkdir(parents=True)
    cgroups.create(cfg, CID, {})
    assert not (d / "devices.deny").exists()


def test_v2_freeze_waits_for_cgroup_events(cfg, cgroup_v2, monkeypatch):
    cgroups.create(cfg, CID, {})
    group = cgroup_v2 / "bocker-pytest" / CID
    (group / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    sleeps = []

    def sleep(_):  # the kernel finishes freezing after the second look
        sleeps.append(1)
        if len(sleeps) == 2:
            (group / "cgroup.events").write_text("populated 1\nfrozen 1\n")
    monkeypatch.setattr("time.sleep", sleep)
    cgroups.freeze(cfg, CID, True)
    assert (group / "cgroup.freeze").read_text() == "1"
    assert len(sleeps) == 2
    (group / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    with pytest.raises(BockerError, match="still not frozen"):  # never frozen: an error, not a hang
        cgroups._wait_frozen(str(group), True, timeout=0)
    cgroups.freeze(cfg, CID, False)
    assert (group / "cgroup.freeze").read_text() == "0"


# --- usage: what stats and top read ---------------------------------------------------------

def test_v2_usage_reads_the_counters(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {"memory": 64 * MB})
    group = cgroup_v2 / "bocker-pytest" / CID
    (group / "cpu.stat").write_text("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    (group / "memory.current").write_text(f"{10 * MB}\n")
    (group / "memory.stat").write_text(f"anon {6 * MB}\nfile {4 * MB}\ninactive_file {3 * MB}\n")
    (group / "pids.current").write_text("3\n")
    (group / "io.stat").write_text("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n8:16 rbytes=1 wbytes=0\n")
    (group / "cgroup.procs").write_text("11\n12\n")
    assert cgroups.usage(cfg, CID) == {"cpu_ns": 1500000, "memory": 7 * MB, "memory_limit": 64 * MB,
                                       "pids": 3, "io_read": 4097, "io_write": 8192}
    assert cgroups.procs(cfg, CID) == [11, 12]
    (group / "memory.max").write_text("max\n")
    assert cgroups.usage(cfg, CID)["memory_limit"] is None


def test_v1_usage_reads_each_controller(cfg, env):
    base = env / "cgroup"
    for c, files in {"cpuacct": {"cpuacct.usage": "2500\n"},
                     "memory": {"memory.usage_in_bytes": f"{5 * MB}\n", "memory.limit_in_bytes": "9223372036854771712\n",
                                "memory.stat": f"cache 100\ntotal_inactive_file {MB}\n"},
                     "pids": {"pids.current": "2\n", "cgroup.procs": "7\n"},
                     "blkio": {"blkio.throttle.io_service_bytes_recursive":
                               "8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Total 30\nTotal 30\n"}}.items():
        d = base / c / "bocker-pytest" / CID
        d.mkdir(parents=True)
        for name, text in files.items():
            (d / name).write_text(text)
    assert cgroups.usage(cfg, CID) == {"cpu_ns": 2500, "memory": 4 * MB, "memory_limit": None, "pids": 2,
                                       "io_read": 10, "io_write": 20}
    assert cgroups.procs(cfg, CID) == [7]


def test_usage_without_a_cgroup_is_zero(cfg):
    assert cgroups.usage(cfg, CID) == {"cpu_ns": 0, "memory": 0, "memory_limit": None, "pids": 0,
                                       "io_read": 0, "io_write": 0}
    assert cgroups.procs(cfg, CID) == []


# --- --cpu-period / --cpu-quota ------------------------------------------------------------

@pytest.mark.parametrize("period, quota, v1, v2", [
    (50000, 25000, [("cpu.cfs_period_us", "50000"), ("cpu.cfs_quota_us", "25000")], "25000 50000"),
    (0, 30000, [("cpu.cfs_quota_us", "30000")], "30000 100000"),
    (20000, -1, [("cpu.cfs_period_us", "20000")], "max 20000")])
def test_cfs_period_quota(period, quota, v1, v2):
    limits = {"cpu_period": period, "cpu_quota": quota}
    assert cgroups.limit_settings(limits, 1) == v1
    assert cgroups.limit_settings(limits, 2) == [("cpu.max", v2)]


@pytest.mark.parametrize("cpus, period, quota", [(0.5, 0, 20000), (0.5, 20000, 0), (0, 999, 0),
                                                 (0, 1000001, 0), (0, 0, 999)])
def test_cfs_refused(cpus, period, quota):
    with pytest.raises(BockerError):
        cgroups.check_limits({"cpus": cpus, "cpu_period": period, "cpu_quota": quota})


def test_cfs_on_a_fake_v2_tree(cfg, cgroup_v2):
    cgroups.create(cfg, CID, {"cpu_period": 50000, "cpu_quota": 25000})
    assert (cgroup_v2 / "bocker-pytest" / CID / "cpu.max").read_text() == "25000 50000"

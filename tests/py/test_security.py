"""security.py: capability names, the seccomp profile and its conditional rules, sysctls,
ulimits, sizes, devices and the init options they become."""
import json
import os

import pytest

from bocker import fmt, BockerError, init, security

DEFAULT = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
with open(security.DEFAULT_PROFILE, "rb") as f:
    PROFILE = security.parse_profile(f.read(), "default")


def test_cap_names_match_the_inits_table():
    assert security.CAP_NAMES == init.CAP_NAMES
    assert [security.cap_number(c) for c in security.DEFAULT_CAPS] == list(init.DEFAULT_CAPS)


@pytest.mark.parametrize("name", ["CAP_SYS_ADMIN", "sys_admin", "Sys_Admin", "cap_sys_admin", " SYS_ADMIN "])
def test_cap_names_with_or_without_prefix_any_case(name):
    assert security.cap_number(name) == 21


def test_unknown_capability_is_one_line():
    with pytest.raises(BockerError, match=r'^unknown capability: "CAP_FOO"$') as e:
        security.capabilities(cap_add=["foo"])
    assert e.value.code == 125


def test_default_capabilities_are_dockers_a80425fb():
    caps = security.capabilities()
    assert caps == DEFAULT
    assert f"{sum(1 << c for c in caps):016x}" == "00000000a80425fb"


def test_cap_add_and_drop():
    assert security.capabilities(cap_add=["NET_ADMIN"], cap_drop=["chown"]) == sorted(set(DEFAULT) - {0} | {12})


def test_all(monkeypatch):
    monkeypatch.setattr(security, "last_cap", lambda: 40)
    assert security.capabilities(cap_add=["ALL"]) == list(range(41))
    assert security.capabilities(cap_add=["all"], cap_drop=["sys_admin"]) == [c for c in range(41) if c != 21]
    assert security.capabilities(cap_drop=["ALL"], cap_add=["chown"]) == [0]
    assert security.capabilities(cap_drop=["ALL"]) == []
    assert security.capabilities(privileged=True, cap_drop=["ALL"]) == list(range(41))


def test_capabilities_beyond_the_kernels_are_left_out(monkeypatch):
    monkeypatch.setattr(security, "last_cap", lambda: 37)
    assert security.capabilities(cap_add=["ALL"]) == list(range(38))
    assert 40 not in security.capabilities(cap_add=["checkpoint_restore"])


# --- seccomp: the default profile and its conditional groups ----------------------------

def _allowed(caps, kernel=(6, 1)):
    """name -> [(action, errno, args)] of the rules that apply."""
    _, _, _, rules = security.resolve(PROFILE, caps, kernel)
    out = {}
    for names, action, errno, args in rules:
        for n in names:
            out.setdefault(n, []).append((action, errno, args))
    return out


def test_default_profile_shape():
    p = PROFILE
    assert p["defaultAction"] == "SCMP_ACT_ERRNO" and p["defaultErrnoRet"] == 1
    default, errno, arches, _ = security.resolve(p, DEFAULT, (6, 1))
    assert arches == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert len(p["syscalls"][0]["names"]) > 350


def test_default_caps_refuse_what_docker_refuses():
    rules = _allowed(DEFAULT)
    for name in ("mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key", "swapon",
                 "reboot", "clock_settime", "settimeofday", "init_module", "perf_event_open", "bpf",
                 "open_by_handle_at", "kexec_load", "acct", "iopl", "userfaultfd"):
        assert name not in rules, name
    # what the init itself still needs after the filter (and before, without no_new_privs)
    for name in ("execve", "capset", "setuid", "setgid", "setgroups", "prctl", "rt_sigaction",
                 "chroot", "ptrace"):
        assert name in rules, name


def test_clone_without_sys_admin_refuses_namespace_flags():
    [(action, _, args)] = _allowed(DEFAULT)["clone"]
    assert action == "SCMP_ACT_ALLOW"
    assert args == [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    assert 0x10000000 & args[0]["value"]  # CLONE_NEWUSER among them
    assert _allowed(DEFAULT)["clone3"] == [("SCMP_ACT_ERRNO", 38, [])]


def test_sys_admin_adds_mount_unshare_setns_and_plain_clone():
    rules = _allowed(DEFAULT + [21])
    for name in ("mount", "umount2", "unshare", "setns", "sethostname", "clone3"):
        assert rules[name] == [("SCMP_ACT_ALLOW", None, [])], name
    assert rules["clone"] == [("SCMP_ACT_ALLOW", None, [])]


@pytest.mark.parametrize("cap, names", [(16, ["init_module", "finit_module", "delete_module"]),
                                        (25, ["clock_settime", "settimeofday"]),
                                        (22, ["reboot"]), (19, ["kcmp", "process_madvise"]),
                                        (2, ["open_by_handle_at"]), (17, ["iopl", "ioperm"])])
def test_capability_groups(cap, names):
    rules = _allowed(DEFAULT + [cap])
    assert all(n in rules for n in names)


def test_min_kernel_and_arch_conditions():
    assert "ptrace" in _allowed(DEFAULT, (4, 8))
    assert "ptrace" not in _allowed(DEFAULT, (4, 7))
    assert "arch_prctl" in _allowed(DEFAULT) and "modify_ldt" in _allowed(DEFAULT)


def test_personality_and_socket_argument_filters():
    values = [a[0]["value"] for _, _, a in _allowed(DEFAULT)["personality"]]
    assert values == [0, 8, 0x20000, 0x20008, 0xFFFFFFFF]
    assert [(a[0]["op"], a[0]["value"]) for _, _, a in _allowed(DEFAULT)["socket"]] == [
        ("SCMP_CMP_LT", 38), ("SCMP_CMP_EQ", 39), ("SCMP_CMP_GT", 40)]


def test_the_default_profile_is_a_docker_profile_for_x86_64():
    assert set(PROFILE) == {"comment", "defaultAction", "defaultErrnoRet", "archMap", "syscalls"}
    for call in PROFILE["syscalls"]:
        for flt in (call.get("includes") or {}, call.get("excludes") or {}):
            assert set(flt.get("arches") or []) <= {"amd64", "x86", "x32"}


def test_compiled_program_is_cached_once_0600(tmp_path):
    path = security.seccomp_program(str(tmp_path), DEFAULT)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.path.getsize(path) % 8 == 0 and os.path.getsize(path) > 800
    mtime = os.stat(path).st_mtime_ns
    assert security.seccomp_program(str(tmp_path), DEFAULT) == path
    assert os.stat(path).st_mtime_ns == mtime
    assert security.seccomp_program(str(tmp_path), DEFAULT + [21]) != path  # the caps are in the key
    assert not [f for f in os.listdir(tmp_path / "seccomp") if ".tmp" in f]


# --- a user's profile -------------------------------------------------------------------

def _profile(tmp_path, data):
    f = tmp_path / "p.json"
    f.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(f)


def test_user_profile_compiles_and_is_keyed_by_its_text(tmp_path):
    p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
         "syscalls": [{"names": ["mkdir", "nosuchcall_xyz"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                      {"name": "chmod", "action": "SCMP_ACT_ERRNO"},
                      {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                                {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}
    path = security.seccomp_program(str(tmp_path), DEFAULT, _profile(tmp_path, p))
    assert os.path.getsize(path) > 0
    other = security.seccomp_program(str(tmp_path), DEFAULT, _profile(tmp_path, dict(p, defaultErrnoRet=1)))
    assert other != path


def test_includes_and_excludes_in_a_user_profile():
    p = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_CHOWN"]}},
        {"names": ["b"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_NET_ADMIN", "CAP_CHOWN"]}},
        {"names": ["c"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
        {"names": ["d"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
        {"names": ["e"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "3.0"}}]}
    security.check_profile(p)
    names = [n for ns, *_ in security.resolve(p, DEFAULT, (6, 1))[3] for n in ns]
    assert names == []
    names = [n for ns, *_ in security.resolve(p, [21, 0], (6, 1))[3] for n in ns]
    assert names == ["a"]
    names = [n for ns, *_ in security.resolve(p, [21], (2, 6))[3] for n in ns]
    assert names == ["b", "e"]


@pytest.mark.parametrize("data, message", [
    ("{not json", "decoding seccomp profile"),
    ("[]", "not a JSON object"),
    ({"syscalls": []}, "unknown defaultAction None"),
    ({"defaultAction": "SCMP_ACT_NOPE"}, "unknown defaultAction 'SCMP_ACT_NOPE'"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "x"}, "defaultErrnoRet must be an errno"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
      "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}, "both 'architectures' and 'archMap'"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}, "syscalls must be a list"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}, r"syscalls\[0\]: names"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}, "unknown action None"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["read"],
                                                       "action": "SCMP_ACT_ALLOW"}]}, "both 'name' and 'names'"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                                       "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "argument index must be 0-5"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                                       "args": [{"index": 0, "value": 1, "op": "EQ"}]}]},
     "unknown op 'EQ'"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                                       "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]},
     "value must be an unsigned 64-bit number"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                                       "includes": {"minKernel": "4"}}]}, "invalid kernel version"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                                       "includes": {"users": []}}]}, "caps, arches and minKernel"),
])
def test_malformed_profiles_are_one_line(tmp_path, data, message):
    with pytest.raises(BockerError, match=message) as e:
        security.seccomp_program(str(tmp_path), DEFAULT, _profile(tmp_path, data))
    assert "\n" not in str(e.value) and e.value.code == 125
    assert not (tmp_path / "seccomp").exists()


def test_missing_profile(tmp_path):
    with pytest.raises(BockerError, match="opening seccomp profile .* failed: No such file"):
        security.init_options(str(tmp_path), security_opt=[f"seccomp={tmp_path}/nope.json"])


def test_profile_for_another_arch_only_is_refused(tmp_path):
    p = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"]}
    with pytest.raises(BockerError, match="not supported here"):
        security.seccomp_program(str(tmp_path), DEFAULT, _profile(tmp_path, p))


# --- sysctls, ulimits, sizes, devices ---------------------------------------------------

@pytest.mark.parametrize("spec", ["net.ipv4.ip_forward=1", "net.core.somaxconn=1024", "kernel.shmmax=1",
                                  "kernel.msgmax=1", "kernel.sem=1 2 3 4", "fs.mqueue.msg_max=20",
                                  "kernel.shm_rmid_forced=1", "kernel.domainname=example.org"])
def test_namespaced_sysctls_are_allowed(spec):
    key, value = security.check_sysctl(spec)
    assert f"{key}={value}" == spec


@pytest.mark.parametrize("spec, message", [
    ("kernel.core_pattern=|/x", "not namespaced"), ("vm.drop_caches=3", "not namespaced"),
    ("kernel.hostname=x", "use --hostname"), ("fs.file-max=1", "not namespaced"),
    ("net.ipv4.ip_forward", "expected key=value"), ("net.ipv4/../../kernel/core_pattern=x", "expected key=value"),
])
def test_other_sysctls_are_refused(spec, message):
    with pytest.raises(BockerError, match=message):
        security.check_sysctl(spec)


def test_net_sysctls_refused_in_the_host_network():
    with pytest.raises(BockerError, match="host network namespace"):
        security.check_sysctl("net.ipv4.ip_forward=1", network_mode="host")


@pytest.mark.parametrize("spec, expected", [("nofile=1024:2048", ("nofile", 1024, 2048)),
                                            ("nproc=512", ("nproc", 512, 512)),
                                            ("core=-1", ("core", -1, -1)),
                                            ("memlock=64:-1", ("memlock", 64, -1))])
def test_ulimits(spec, expected):
    assert security.parse_ulimit(spec) == expected


@pytest.mark.parametrize("spec, message", [("nofile", "invalid ulimit argument"), ("foo=1", "invalid ulimit type: foo"),
                                           ("nofile=2048:1024", "soft limit must be less than or equal"),
                                           ("nofile=x", "invalid ulimit argument"), ("nofile=-2", "invalid")])
def test_bad_ulimits(spec, message):
    with pytest.raises(BockerError, match=message):
        security.parse_ulimit(spec)


@pytest.mark.parametrize("text, size", [("64m", 64 << 20), ("1g", 1 << 30), ("512k", 512 << 10), ("1048576", 1 << 20),
                                        ("2MiB", 2 << 20), ("1.5g", 3 << 29), ("10b", 10), ("100kb", 100 << 10)])
def test_sizes(text, size):
    assert fmt.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "m", "x1", "-1m", "0"])
def test_bad_sizes(text):
    with pytest.raises(BockerError, match="--shm-size"):
        fmt.parse_size(text, "--shm-size")


def test_devices():
    src, dst, perms, rule = security.parse_device("/dev/null:/dev/mynull:rw")
    assert (src, dst, perms, rule) == ("/dev/null", "/dev/mynull", "rw", ("c", 1, 3, "rw"))
    assert security.parse_device("/dev/zero")[1:3] == ("/dev/zero", "rwm")
    assert security.parse_device("/dev/zero:r")[1:3] == ("/dev/zero", "r")


@pytest.mark.parametrize("spec, message", [("/dev/nosuch", "no such file"), ("/etc/passwd", "not a device node"),
                                           ("dev/null", "invalid device"), ("/dev/null:/", "invalid device"),
                                           ("/dev/null:/a:/b:rw", "invalid device")])
def test_bad_devices(spec, message):
    with pytest.raises(BockerError, match=message):
        security.parse_device(spec)


def test_device_allow_lines():
    lines = security.devices_allow_lines([("b", 7, 0, "rw")])
    assert lines[:2] == ["c *:* m", "b *:* m"]
    for line in ("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
                 "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"):
        assert line in lines
    assert lines[-1] == "b 7:0 rw"
    assert not any(line.startswith("b 7:") for line in lines[:-1])  # the store's loop device: mknod only


# --- security options and the init's options --------------------------------------------

def test_security_opts():
    assert security.parse_security_opts(["seccomp=unconfined", "no-new-privileges:false",
                                         "systempaths=unconfined"]) == {
        "seccomp": "unconfined", "no_new_privs": False, "systempaths": "unconfined"}
    assert security.parse_security_opts(["no-new-privileges"])["no_new_privs"] is True
    for bad in ["apparmor=x", "seccomp=", "no-new-privileges=maybe", "nonsense"]:
        with pytest.raises(BockerError, match="invalid --security-opt"):
            security.parse_security_opts([bad])


def _opts(tmp_path, **kw):
    opts, _ = init.parse(security.init_options(str(tmp_path), **kw) + ["--"])
    return opts


def test_default_init_options(tmp_path):
    opts = _opts(tmp_path)
    assert opts["caps"] == ",".join(map(str, DEFAULT))
    assert opts["seccomp"].startswith(str(tmp_path / "seccomp"))
    assert opts["mask"] == list(security.MASKED_PATHS) and opts["readonly_path"] == list(security.READONLY_PATHS)
    assert "no_new_privs" not in opts and "privileged" not in opts and "read_only" not in opts


def test_privileged_init_options(tmp_path, monkeypatch):
    monkeypatch.setattr(security, "last_cap", lambda: 40)
    opts = _opts(tmp_path, privileged=True)
    assert opts["caps"] == ",".join(map(str, range(41)))
    assert opts["privileged"] == "1" and "seccomp" not in opts and opts["mask"] == [] == opts["readonly_path"]


def test_flags_become_init_options(tmp_path):
    opts = _opts(tmp_path, security_opt=["seccomp=unconfined", "no-new-privileges=false", "systempaths=unconfined"],
                 read_only=True, ulimits=["nofile=10:20"], sysctls={"net.ipv4.ip_forward": "1"},
                 shm_size="1m", oom_score_adj=-500, init=True, devices=["/dev/null:/dev/n2"])
    assert "seccomp" not in opts and opts["no_new_privs"] == "0" and opts["mask"] == []
    assert opts["read_only"] == "1" and opts["ulimit"] == ["nofile=10:20"]
    assert opts["sysctl"] == ["net.ipv4.ip_forward=1"] and opts["shm_size"] == str(1 << 20)
    assert opts["oom_score_adj"] == "-500" and opts["docker_init"] == security.TINI
    assert opts["device"] == ["/dev/null:/dev/n2:rwm"]


def test_exec_options_are_the_process_ones(tmp_path):
    opts = _opts(tmp_path, exec_only=True, ulimits=["nofile=10:20"], read_only=True)
    assert set(k for k, v in opts.items() if v) == {"caps", "seccomp", "ulimit"}


@pytest.mark.parametrize("kw, message", [({"oom_score_adj": 1001}, "range is"), ({"oom_score_adj": "x"}, "oom-score-adj"),
                                         ({"sysctls": ["vm.swappiness=1"]}, "not namespaced"),
                                         ({"cap_drop": ["nosuch"]}, "unknown capability")])
def test_bad_input_fails_before_anything_is_made(tmp_path, kw, message):
    with pytest.raises(BockerError, match=message):
        security.init_options(str(tmp_path), **kw)
    assert not (tmp_path / "seccomp").exists()


def test_init_command():
    assert security.init_command(["sh", "-c", "x"]) == ["/sbin/docker-init", "--", "sh", "-c", "x"]
    assert security.DOCKER_INIT == init.DOCKER_INIT


def test_importing_security_is_cheap():
    import subprocess
    import sys
    lib = os.path.dirname(os.path.dirname(security.__file__))
    out = subprocess.run([sys.executable, "-I", "-S", "-c",
                          f"import sys; sys.path.insert(0, {lib!r}); import bocker.security; "
                          "print(sorted(m for m in ('json', 'ctypes', 'seccomp', 'hashlib', 're') if m in sys.modules))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

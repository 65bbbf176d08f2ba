"""The cgroup v2 device filter: its eBPF encoding, and the real kernel's verdicts on it
(a cgroup2 mount is there on a v2 host and, empty, on a v1 hybrid one)."""
import os

import pytest

from bocker import devicefilter

DEFAULTS = [("c", None, None, "m"), ("b", None, None, "m"), ("c", 1, 3, "rwm"), ("c", 1, 5, "r")]


def test_rule_jumps_land_on_the_next_rule():
    code = devicefilter.rule_program(("c", 1, 3, "rw"))
    # type, access (mov, and, jne), major, minor, then mov r0 1 + exit
    assert len(code) == 8
    offsets = [int.from_bytes(i[2:4], "little", signed=True) for i in code if i[0] in (0x55, 0x5D)]
    assert offsets == [7, 4, 3, 2]  # each to index 8, the next rule


def test_any_type_rwm_has_no_tests():
    assert len(devicefilter.rule_program(("a", None, None, "rwm"))) == 2


def test_program_ends_in_deny():
    code = devicefilter.program([])
    assert code[-16:] == devicefilter.insn(0xB4, dst=0, imm=0) + devicefilter.insn(0x95)


def _cgroup2():
    for line in open("/proc/mounts"):
        dev, path, fstype = line.split()[:3]
        if fstype == "cgroup2" and os.access(path, os.W_OK):
            return path
    return None


def _try_in_cgroup(cg, probe):
    """Run probe() in a child moved into the cgroup; its result comes back on a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        with open(f"{cg}/cgroup.procs", "w") as f:
            f.write("0")
        os.write(w, probe().encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        return f.read()


def _open(path):
    try:
        os.close(os.open(path, os.O_RDONLY))
        return "ok"
    except OSError as e:
        return e.strerror


@pytest.mark.skipif(os.geteuid() != 0 or not _cgroup2(), reason="needs root and a cgroup2 mount")
def test_kernel_applies_the_allow_list(tmp_path):
    cg = os.path.join(_cgroup2(), f"bocker-test-devicefilter-{os.getpid()}")
    os.mkdir(cg)
    node = str(tmp_path / "blk")
    try:
        devicefilter.attach(cg, DEFAULTS)

        def probe():
            os.mknod(node, 0o60600, os.makedev(7, 0))  # mknod allowed (b *:* m)...
            return ",".join([_open("/dev/null"), _open("/dev/zero"), _open("/dev/full"), _open(node)])
        assert _try_in_cgroup(cg, probe) == "ok,ok,Operation not permitted,Operation not permitted"
    finally:
        os.rmdir(cg)

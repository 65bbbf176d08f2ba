"""cgroup v2's devices controller: an eBPF program attached to the container's cgroup.

v2 has no devices.allow file; the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE program instead,
for every open and mknod of a device node, with (type, access, major, minor). runc and crun
generate one from the allow-list; this does the same, in the order of the list:

    r2 = ctx->access_type & 0xffff    # 1 block, 2 char
    r3 = ctx->access_type >> 16       # 1 mknod, 2 read, 4 write
    r4 = ctx->major; r5 = ctx->minor
    for each rule:  if type, access, major and minor match: return 1 (allow)
    return 0 (deny: the open or mknod fails with EPERM)

`bpftool cgroup attach CGROUP device pinned PROG` does the attach by hand; the trace shows it
as that line. Works in a hybrid host's cgroup2 mount too (tested there).
"""
import os

BPF_PROG_LOAD, BPF_PROG_ATTACH = 5, 8
BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE = 15, 6
SYS_BPF = 321  # x86_64
TYPES = {"b": 1, "c": 2}
ACCESS = {"m": 1, "r": 2, "w": 4}

# eBPF opcodes (<linux/bpf_common.h>, <linux/bpf.h>)
LDXW, AND32, RSH32, MOV32, MOV32X, JNE, JNE_X, EXIT = 0x61, 0x54, 0x74, 0xB4, 0xBC, 0x55, 0x5D, 0x95


def insn(code, dst=0, src=0, off=0, imm=0):
    """struct bpf_insn: opcode, dst/src registers (4 bits each), 16-bit offset, 32-bit immediate."""
    return (code.to_bytes(1, "little") + bytes([(src << 4) | dst]) +
            off.to_bytes(2, "little", signed=True) + imm.to_bytes(4, "little", signed=True))


def rule_program(rule):
    """One (type, major, minor, access) rule: each test that fails jumps past the rule, to
    the next one; all passing -> return 1."""
    kind, major, minor, access = rule
    code = []  # instructions, and ("skip", reg, imm, src) jumps patched below
    if kind in TYPES:  # "a" matches both
        code.append(("skip", 2, TYPES[kind], None))
    allowed = sum(ACCESS[a] for a in access)
    if allowed != 7:  # what is asked must be a subset of what is allowed
        code += [insn(MOV32X, dst=1, src=3), insn(AND32, dst=1, imm=allowed), ("skip", 1, 0, 3)]
    if major is not None:
        code.append(("skip", 4, major, None))
    if minor is not None:
        code.append(("skip", 5, minor, None))
    code += [insn(MOV32, dst=0, imm=1), insn(EXIT)]
    return [c if isinstance(c, bytes) else
            insn(JNE if c[3] is None else JNE_X, dst=c[1], src=c[3] or 0, off=len(code) - i - 1, imm=c[2])
            for i, c in enumerate(code)]


def program(rules):
    """The whole filter as bytes: load the context's fields, the rules, then deny."""
    prologue = [insn(LDXW, dst=2, src=1, off=0), insn(AND32, dst=2, imm=0xFFFF),
                insn(LDXW, dst=3, src=1, off=0), insn(RSH32, dst=3, imm=16),
                insn(LDXW, dst=4, src=1, off=4), insn(LDXW, dst=5, src=1, off=8)]
    body = [i for r in rules for i in rule_program(r)]
    return b"".join(prologue + body + [insn(MOV32, dst=0, imm=0), insn(EXIT)])


def _bpf(cmd, attr):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(attr.ljust(128, b"\0"), 128)
    fd = libc.syscall(SYS_BPF, cmd, buf, 128)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return fd, buf


def attach(cgroup_dir, rules):
    """Load the program and attach it to the cgroup; the attachment lives as long as the
    cgroup (removing the directory frees it), so the program's fd is closed at once."""
    import ctypes
    code = program(rules)
    insns = ctypes.create_string_buffer(code, len(code))
    license = ctypes.create_string_buffer(b"Apache")
    attr = (BPF_PROG_TYPE_CGROUP_DEVICE.to_bytes(4, "little") + (len(code) // 8).to_bytes(4, "little") +
            ctypes.addressof(insns).to_bytes(8, "little") + ctypes.addressof(license).to_bytes(8, "little"))
    prog, _ = _bpf(BPF_PROG_LOAD, attr)
    target = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _bpf(BPF_PROG_ATTACH, target.to_bytes(4, "little") + prog.to_bytes(4, "little") +
             BPF_CGROUP_DEVICE.to_bytes(4, "little"))
    finally:
        os.close(target)
        os.close(prog)

"""What the init applies for security, decided on the host: capabilities, the seccomp
profile, masked and read-only kernel files, devices, limits, sysctls, --init.

`init_options(...)` checks every security setting of a container and returns init.py's
options for it, so that bad input fails (BockerError, one line, exit 125) before anything
is created. The seccomp profile is compiled once into a BPF program cached under
$BOCKER_ROOT/seccomp/; the init loads it with one prctl.

Docker's defaults are data here: DEFAULT_CAPS, MASKED_PATHS, READONLY_PATHS,
DEFAULT_DEVICES, and seccomp_default.json next to this file (moby's
profiles/seccomp/default.json for x86_64, in Docker's JSON format). Nothing heavy is
imported at the top: json and the seccomp bindings only to compile a profile the cache lacks.
"""
import os

from . import BockerError

# <linux/capability.h>, by number (init.py has the same table for its trace lines)
CAP_NAMES = ("chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
             "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
             "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
             "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
             "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
             "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
             "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore")
# Docker's default set: CapEff 00000000a80425fb
DEFAULT_CAPS = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
                "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")

# moby daemon/pkg/oci/defaults.go (masked: /proc/interrupts since GHSA-6fw5-f8r9-fgfm,
# powercap since GHSA-jq35-85cj-fj4p); paths the kernel lacks are skipped by the init
MASKED_PATHS = ("/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap")
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

# The devices cgroup allow-list of a Docker container (moby's list plus runc's AllowedDevices):
# mknod of any node is allowed, using one only for the standard nodes, ptys and tun.
# (type, major, minor, access); None is `*`
DEFAULT_DEVICES = (
    ("c", None, None, "m"), ("b", None, None, "m"),
    ("c", 1, 3, "rwm"), ("c", 1, 5, "rwm"), ("c", 1, 7, "rwm"), ("c", 1, 8, "rwm"), ("c", 1, 9, "rwm"),
    ("c", 5, 0, "rwm"), ("c", 5, 1, "rwm"), ("c", 5, 2, "rwm"),  # tty, console, ptmx
    ("c", 136, None, "rwm"),  # /dev/pts/*
    ("c", 10, 200, "rwm"),  # /dev/net/tun
)

DOCKER_INIT = "/sbin/docker-init"
TINI = "/usr/bin/tini-static"  # static: the image may have no libc

RLIMIT_NAMES = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")

# runc's rules for --sysctl: namespaced ones only
IPC_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
               "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")


# --- capabilities -----------------------------------------------------------------------

def cap_number(name):
    """'CAP_SYS_ADMIN', 'sys_admin', 'Sys_Admin' -> 21."""
    short = name.strip().lower()
    short = short[4:] if short.startswith("cap_") else short
    if short in CAP_NAMES:
        return CAP_NAMES.index(short)
    raise BockerError(f'unknown capability: "CAP_{short.upper()}"')


def last_cap():
    """The kernel's highest capability (the container runs on the same kernel)."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def capabilities(cap_add=(), cap_drop=(), privileged=False):
    """The container's capability numbers, as Docker's TweakCapabilities: ALL in --cap-add
    is every capability but the dropped ones; ALL in --cap-drop keeps only --cap-add."""
    every = set(range(last_cap() + 1))
    if privileged:
        return sorted(every)
    adds = {"ALL" if a.strip().upper() == "ALL" else cap_number(a) for a in cap_add}
    drops = {"ALL" if d.strip().upper() == "ALL" else cap_number(d) for d in cap_drop}
    if "ALL" in adds:
        caps = every - drops
    elif "ALL" in drops:
        caps = adds
    else:
        caps = ({CAP_NAMES.index(c) for c in DEFAULT_CAPS} - drops) | adds
    return sorted(c for c in caps if c != "ALL" and c in every)


# --- devices ----------------------------------------------------------------------------

def device_rule_line(rule):
    """('c', 1, 3, 'rwm') -> 'c 1:3 rwm' (cgroup v1 devices.allow)."""
    kind, major, minor, access = rule
    star = lambda n: "*" if n is None else str(n)  # noqa: E731
    return f"{kind} {star(major)}:{star(minor)} {access}"


def devices_allow_lines(extra=()):
    """Docker's allow-list, then the --device rules: the lines for devices.allow (after `a`
    has been written to devices.deny)."""
    return [device_rule_line(r) for r in DEFAULT_DEVICES + tuple(extra)]


def parse_device(spec):
    """--device SRC[:DST][:PERMS] -> (src, dst, perms, rule); SRC must be a device node here."""
    parts = spec.split(":")
    perms = "rwm"
    if len(parts) > 1 and parts[-1] and set(parts[-1]) <= set("rwm") and not parts[-1].startswith("/"):
        perms = parts.pop()
    if not parts[0] or len(parts) > 2:
        raise BockerError(f"invalid device specification: {spec}")
    src = parts[0]
    dst = parts[1] if len(parts) == 2 else src
    if not src.startswith("/") or not dst.startswith("/") or os.path.normpath(dst) == "/":
        raise BockerError(f"invalid device specification: {spec}")
    try:
        st = os.stat(src)
    except OSError as e:
        raise BockerError(f"error gathering device information while adding custom device {src!r}: "
                          f"{e.strerror.lower()}")
    kind = {0o020000: "c", 0o060000: "b"}.get(st.st_mode & 0o170000)
    if kind is None:
        raise BockerError(f"error gathering device information while adding custom device {src!r}: "
                          "not a device node")
    return src, os.path.normpath(dst), perms, (kind, os.major(st.st_rdev), os.minor(st.st_rdev), perms)


# --- limits, sysctls, sizes -------------------------------------------------------------

def parse_ulimit(spec):
    """--ulimit name=soft[:hard] -> (name, soft, hard); -1 is unlimited, as Docker."""
    name, eq, value = spec.partition("=")
    if not eq or not value:
        raise BockerError(f"invalid ulimit argument: {spec}")
    if name not in RLIMIT_NAMES:
        raise BockerError(f"invalid ulimit type: {name}")
    soft, _, hard = value.partition(":")
    try:
        soft, hard = int(soft), int(hard or soft)
    except ValueError:
        raise BockerError(f"invalid ulimit argument: {spec}") from None
    if soft < -1 or hard < -1:
        raise BockerError(f"invalid ulimit argument: {spec}")
    if hard != -1 and (soft == -1 or soft > hard):
        raise BockerError(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    return name, soft, hard


def check_sysctl(spec, network_mode=None):
    """--sysctl key=value: only what is namespaced (runc's rules): net.* in a network namespace
    of its own, the IPC ones, fs.mqueue.*, kernel.domainname; the rest reach the host."""
    key, eq, value = spec.partition("=")
    if not eq or not key or "/" in key or ".." in key or "\n" in value:
        raise BockerError(f"invalid sysctl: {spec!r}: expected key=value")
    if key.startswith("net."):
        if network_mode == "host":
            raise BockerError(f"sysctl {key!r} is not allowed in the host network namespace")
    elif key == "kernel.hostname":
        raise BockerError("sysctl 'kernel.hostname' is not allowed: use --hostname")
    elif not (key in IPC_SYSCTLS or key.startswith("fs.mqueue.") or key == "kernel.domainname"):
        raise BockerError(f"sysctl {key!r} is not allowed: it is not namespaced (only net.*, "
                          "kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)")
    return key, value


def parse_security_opts(security_opt):
    """--security-opt values -> {'seccomp': 'default'|'unconfined'|PATH, 'no_new_privs': bool|None,
    'systempaths': 'default'|'unconfined'}."""
    out = {"seccomp": "default", "no_new_privs": None, "systempaths": "default"}
    for opt in security_opt:
        key, sep, value = opt.partition("=")
        if not sep:
            key, sep, value = opt.partition(":")  # Docker's older `no-new-privileges:true`
        if key == "no-new-privileges":
            if value not in ("", "true", "false"):
                raise BockerError(f"invalid --security-opt: {opt!r}")
            out["no_new_privs"] = value != "false"
        elif key == "seccomp" and value:
            out["seccomp"] = value
        elif key == "systempaths" and value == "unconfined":
            out["systempaths"] = "unconfined"
        else:
            raise BockerError(f"invalid --security-opt: {opt!r}")
    return out


def init_command(command):
    """--init: tini runs the command (Docker's path for it, so `ps` shows docker-init)."""
    return [DOCKER_INIT, "--"] + list(command)


# --- seccomp ----------------------------------------------------------------------------

# Docker's default profile, in Docker's JSON format (each entry's "comment" says why)
DEFAULT_PROFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seccomp_default.json")

ACTIONS = ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
           "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG")
OPS = {"SCMP_CMP_NE": "NE", "SCMP_CMP_LT": "LT", "SCMP_CMP_LE": "LE", "SCMP_CMP_EQ": "EQ",
       "SCMP_CMP_GE": "GE", "SCMP_CMP_GT": "GT", "SCMP_CMP_MASKED_EQ": "MASKED_EQ"}
ARCHES = {"SCMP_ARCH_X86_64": "X86_64", "SCMP_ARCH_X86": "X86", "SCMP_ARCH_X32": "X32"}
NATIVE_ARCH = ("amd64", "SCMP_ARCH_X86_64")  # Go's name (profiles' includes.arches), libseccomp's


def _read_profile(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise BockerError(f"opening seccomp profile ({path}) failed: {e.strerror}") from None


def parse_profile(raw, where):
    """A profile's text -> the checked profile (a dict in Docker's JSON shape)."""
    import json
    try:
        profile = json.loads(raw)
    except ValueError as e:
        raise BockerError(f"decoding seccomp profile ({where}) failed: {e}") from None
    check_profile(profile, where)
    return profile


def _fail(where, message):
    raise BockerError(f"seccomp profile {where}: {message}")


def _check_errno(value, where, field):
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 4096):
        _fail(where, f"{field} must be an errno number, not {value!r}")


def _check_filter(flt, where):
    if flt is None:
        return
    if not isinstance(flt, dict) or set(flt) - {"caps", "arches", "minKernel"}:
        _fail(where, "includes/excludes take caps, arches and minKernel only")
    for key in ("caps", "arches"):
        if not all(isinstance(x, str) for x in flt.get(key) or []):
            _fail(where, f"{key} must be a list of strings")
    if "minKernel" in flt:
        _kernel_version(flt["minKernel"], where)


def _kernel_version(text, where):
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        _fail(where, f'invalid kernel version {text!r}, expected "<kernel>.<major>"')
    return int(parts[0]), int(parts[1])


def check_profile(profile, where="default"):
    """Docker's JSON format, checked field by field; one line for what is wrong."""
    if not isinstance(profile, dict):
        _fail(where, "not a JSON object")
    action = profile.get("defaultAction")
    if action not in ACTIONS:
        _fail(where, f"unknown defaultAction {action!r}")
    _check_errno(profile.get("defaultErrnoRet"), where, "defaultErrnoRet")
    if profile.get("architectures") and profile.get("archMap"):
        _fail(where, "both 'architectures' and 'archMap' are specified, use either one")
    for arch in profile.get("architectures") or []:
        if not isinstance(arch, str) or not arch.startswith("SCMP_ARCH_"):
            _fail(where, f"unknown architecture {arch!r}")
    for entry in profile.get("archMap") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("architecture"), str):
            _fail(where, "archMap entries need an architecture")
    syscalls = profile.get("syscalls")
    syscalls = [] if syscalls is None else syscalls
    if not isinstance(syscalls, list):
        _fail(where, "syscalls must be a list")
    for i, call in enumerate(syscalls):
        here = f"{where}: syscalls[{i}]"
        if not isinstance(call, dict):
            _fail(here, "not a JSON object")
        if call.get("name") and call.get("names"):
            _fail(here, "both 'name' and 'names' are specified, use either one")
        names = call.get("names") or ([call["name"]] if call.get("name") else [])
        if not names or not all(isinstance(n, str) and n for n in names):
            _fail(here, "names must be a list of syscall names")
        if call.get("action") not in ACTIONS:
            _fail(here, f"unknown action {call.get('action')!r}")
        _check_errno(call.get("errnoRet"), here, "errnoRet")
        for arg in call.get("args") or []:
            if not isinstance(arg, dict) or arg.get("op") not in OPS:
                _fail(here, f"unknown op {arg.get('op') if isinstance(arg, dict) else arg!r}")
            if not isinstance(arg.get("index"), int) or not 0 <= arg["index"] <= 5:
                _fail(here, f"argument index must be 0-5, not {arg.get('index')!r}")
            for key in ("value", "valueTwo"):
                v = arg.get(key, 0)
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2 ** 64:
                    _fail(here, f"{key} must be an unsigned 64-bit number, not {v!r}")
        _check_filter(call.get("includes"), here)
        _check_filter(call.get("excludes"), here)


def _kernel():
    release = os.uname().release
    major, _, rest = release.partition(".")
    minor = "".join(c for c in rest.split(".")[0] if c.isdigit()) or "0"
    return int(major), int(minor)


def _kept(flt, caps, kernel, includes):
    """Whether a syscalls[] entry applies, by Docker's rules: every `includes` condition holds
    (arch, all its caps in the set, kernel >= minKernel); no `excludes` condition does."""
    if not flt:
        return True
    tests = []
    if flt.get("arches"):
        tests.append(NATIVE_ARCH[0] in flt["arches"])
    if flt.get("caps"):
        held = [c.upper() in caps for c in flt["caps"]]
        tests.append(all(held) if includes else any(held))
    if flt.get("minKernel"):
        tests.append(kernel >= _kernel_version(flt["minKernel"], "minKernel"))
    return all(tests) if includes else not any(tests)


def resolve(profile, caps, kernel=None):
    """The rules that apply to a container with `caps` (numbers) on this kernel and arch:
    (default action, default errno, arches, [(names, action, errno, args)]), as moby's setupSeccomp."""
    kernel = kernel or _kernel()
    cap_names = {"CAP_" + CAP_NAMES[c].upper() for c in caps if c < len(CAP_NAMES)}
    arches = list(profile.get("architectures") or [])
    for entry in profile.get("archMap") or []:
        if entry["architecture"] == NATIVE_ARCH[1]:
            arches = [entry["architecture"]] + list(entry.get("subArchitectures") or [])
    rules = []
    for call in profile.get("syscalls") or []:
        if not (_kept(call.get("excludes"), cap_names, kernel, includes=False)
                and _kept(call.get("includes"), cap_names, kernel, includes=True)):
            continue
        names = call.get("names") or [call["name"]]
        rules.append((names, call["action"], call.get("errnoRet"), call.get("args") or []))
    return profile["defaultAction"], profile.get("defaultErrnoRet"), arches, rules


def _action(seccomp, action, errno):
    if action == "SCMP_ACT_ERRNO":
        return seccomp.ERRNO(1 if errno is None else errno)
    if action == "SCMP_ACT_TRACE":
        return seccomp.TRACE(errno or 0)
    return {"SCMP_ACT_KILL": seccomp.KILL, "SCMP_ACT_KILL_THREAD": seccomp.KILL,
            "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS, "SCMP_ACT_TRAP": seccomp.TRAP,
            "SCMP_ACT_ALLOW": seccomp.ALLOW, "SCMP_ACT_LOG": seccomp.LOG}[action]


def compile_bpf(resolved, out_path):
    """libseccomp (Debian's python3-seccomp) builds the BPF program; it is written to out_path.
    Syscalls this libseccomp does not know are skipped, as runc does (they get the default)."""
    try:
        import seccomp
    except ImportError:
        raise BockerError("compiling a seccomp profile needs libseccomp's python bindings "
                          "(apt-get install python3-seccomp), or use --security-opt seccomp=unconfined") from None
    default, default_errno, arches, rules = resolved
    default = _action(seccomp, default, default_errno)
    flt = seccomp.SyscallFilter(default)
    # a binary tree of syscall numbers, not a linear list: the init's prctl takes 0.6 ms
    # instead of 1.7 ms (medians; the kernel checks and JITs the program, and runs it for
    # every syscall number of each arch to fill its action cache); x86_64 alone would be 0.25
    flt.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    for arch in arches:
        if arch not in ARCHES:
            raise BockerError(f"seccomp profile: architecture {arch} is not supported here")
        a = getattr(seccomp.Arch, ARCHES[arch])
        if not flt.exist_arch(a):
            flt.add_arch(a)
    if arches and not flt.exist_arch(seccomp.Arch.X86_64):
        raise BockerError("seccomp profile: its architectures do not include this host's (x86_64)")
    for names, action, errno, args in rules:
        act = _action(seccomp, action, errno)  # a rule's ERRNO without errnoRet: EPERM
        if act == default and not args:
            continue  # libseccomp refuses a rule that does what the default does
        conditions = [seccomp.Arg(a["index"], getattr(seccomp, OPS[a["op"]]), a.get("value", 0),
                                  a.get("valueTwo", 0)) for a in args]
        # runc: several conditions on one argument are alternatives (one rule each)
        indexes = [a["index"] for a in args]
        groups = [[c] for c in conditions] if len(set(indexes)) < len(indexes) else [conditions]
        for name in names:
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
                continue
            for group in groups:
                try:
                    flt.add_rule(act, name, *group)
                except (RuntimeError, ValueError) as e:
                    raise BockerError(f"seccomp profile: cannot add the rule for {name}: {e}") from None
    with open(out_path, "wb") as f:
        flt.export_bpf(f)


def _sha256(data):
    try:
        import _sha256  # the builtin, 0.1 ms; hashlib loads OpenSSL (~3 ms)
        return _sha256.sha256(data).hexdigest()
    except ImportError:
        import hashlib
        return hashlib.sha256(data).hexdigest()


def seccomp_program(store_root, caps, profile_path=DEFAULT_PROFILE):
    """The cached BPF program for a profile (Docker's default, or a --security-opt
    seccomp=PATH one) and a capability set: $BOCKER_ROOT/seccomp/<sha256>.bpf, keyed by the
    profile's text, the capabilities, the arch and the kernel. Compiled on first use (~50 ms)
    and written atomically, 0600; a cache hit reads, hashes and stats (~0.1 ms)."""
    raw = _read_profile(profile_path)
    key = b"\0".join([raw, ",".join(map(str, caps)).encode(), NATIVE_ARCH[1].encode(),
                      os.uname().release.encode()])
    path = os.path.join(store_root, "seccomp", _sha256(key) + ".bpf")
    if os.path.exists(path):
        return path
    resolved = resolve(parse_profile(raw, profile_path), caps)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    try:
        compile_bpf(resolved, tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


# --- everything together ----------------------------------------------------------------

def init_options(store_root, privileged=False, cap_add=(), cap_drop=(), security_opt=(),
                 read_only=False, ulimits=(), sysctls=(), shm_size=None, oom_score_adj=None,
                 init=False, devices=(), network_mode=None, exec_only=False):
    """init.py's options for a container's security settings (HostConfig values, Docker's
    syntax). Checks everything first: raises BockerError (one line) on bad input.
    exec_only: the options that apply to a `bocker exec`'d process (caps, seccomp,
    no_new_privs, ulimits), not those about the container's mounts."""
    sec = parse_security_opts(security_opt)
    if isinstance(sysctls, dict):  # HostConfig.Sysctls is a map
        sysctls = [f"{k}={v}" for k, v in sysctls.items()]
    caps = capabilities(cap_add, cap_drop, privileged)
    limits = [parse_ulimit(u) for u in ulimits]
    checked_sysctls = [check_sysctl(s, network_mode) for s in sysctls]
    from . import fmt  # (json: only when a size is given)
    shm = fmt.parse_size(shm_size, "--shm-size") if shm_size not in (None, "") else None
    if oom_score_adj is not None:
        try:
            oom_score_adj = int(oom_score_adj)
        except (TypeError, ValueError):
            raise BockerError(f"invalid --oom-score-adj: {oom_score_adj!r}") from None
        if not -1000 <= oom_score_adj <= 1000:
            raise BockerError(f"invalid --oom-score-adj value: {oom_score_adj}: the range is [-1000, 1000]")
    parsed_devices = [parse_device(d) for d in devices]
    if init and not os.path.exists(TINI):
        raise BockerError(f"--init needs {TINI} (Debian's tini package)")

    opts = ["--caps", ",".join(map(str, caps))]
    if not privileged and sec["seccomp"] != "unconfined":
        profile = DEFAULT_PROFILE if sec["seccomp"] == "default" else sec["seccomp"]
        opts += ["--seccomp", seccomp_program(store_root, caps, profile)]
    if sec["no_new_privs"] is False:
        opts += ["--no-new-privs", "0"]
    for name, soft, hard in limits:
        opts += ["--ulimit", f"{name}={soft}:{hard}"]
    if exec_only:
        return opts
    if privileged:
        opts += ["--privileged", "1"]
    elif sec["systempaths"] != "unconfined":
        for path in MASKED_PATHS:
            opts += ["--mask", path]
        for path in READONLY_PATHS:
            opts += ["--readonly-path", path]
    if read_only:
        opts += ["--read-only", "1"]
    for key, value in checked_sysctls:
        opts += ["--sysctl", f"{key}={value}"]
    if shm is not None:
        opts += ["--shm-size", str(shm)]
    if oom_score_adj is not None:
        opts += ["--oom-score-adj", str(oom_score_adj)]
    if init:
        opts += ["--docker-init", TINI]
    for src, dst, perms, _ in parsed_devices:
        opts += ["--device", f"{src}:{dst}:{perms}"]
    return opts


def host_options(hc, store_root, exec_only=False):
    """init_options() from a container record's HostConfig (Docker's field names and shapes)."""
    return init_options(
        store_root, privileged=hc.get("Privileged", False), cap_add=hc.get("CapAdd") or (),
        cap_drop=hc.get("CapDrop") or (), security_opt=hc.get("SecurityOpt") or (),
        read_only=hc.get("ReadonlyRootfs", False),
        ulimits=[f"{u['Name']}={u['Soft']}:{u['Hard']}" for u in hc.get("Ulimits") or ()],
        sysctls=hc.get("Sysctls") or {}, shm_size=str(hc["ShmSize"]) if hc.get("ShmSize") else None,
        oom_score_adj=hc.get("OomScoreAdj") or None, init=hc.get("Init", False),
        devices=[device_spec(d) for d in hc.get("Devices") or ()],
        network_mode=hc.get("NetworkMode"), exec_only=exec_only)


def device_spec(device):
    """HostConfig.Devices entry -> the --device spelling."""
    return f"{device['PathOnHost']}:{device['PathInContainer']}:{device['CgroupPermissions']}"


def device_rules(hc):
    """The cgroup's devices allow-list for a container; None: unrestricted (--privileged)."""
    if hc.get("Privileged"):
        return None
    return list(DEFAULT_DEVICES) + [parse_device(device_spec(d))[3] for d in hc.get("Devices") or ()]

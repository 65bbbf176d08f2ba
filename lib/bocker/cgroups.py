"""Resource limits: one cgroup per container, <parent>/<id>, on cgroup v1 or v2.

v1 (one hierarchy per controller): cgcreate / cgset / cgexec / cgdelete from cgroup-tools.
v2 (one unified tree): mkdir, write the limit files, write the pid to cgroup.procs, rmdir.
Which one is detected at run time: v2 when the root of the cgroup mount is a cgroup2 tree.
"""
import os

from . import BockerError, fmt, shell

# cpuacct and blkio (v1), io (v2): the accounting `stats` reads (CPU time, BLOCK I/O)
V1_CONTROLLERS = ("memory", "cpu", "pids", "freezer", "devices", "cpuacct", "blkio")
V2_CONTROLLERS = ("memory", "cpu", "pids", "cpuset", "io")
CPUSET = "cpuset"  # v1: only for --cpuset-cpus/--cpuset-mems (a new cpuset group starts empty)
CPU_PERIOD = 100000


def version(cfg):
    return 2 if os.path.exists(os.path.join(cfg.cgroup_root, "cgroup.controllers")) else 1


def parse_memory(text):
    """'64m' -> 67108864 (Docker's units; a bare number is bytes), at least Docker's 6 MB."""
    value = fmt.parse_size(text, "memory size", minimum=0)
    if value < 6 * 1024 * 1024:
        raise BockerError("Minimum memory limit allowed is 6MB")
    return value


def parse_cpus(text):
    try:
        value = float(text)
    except ValueError:
        raise BockerError(f"invalid --cpus value: {text!r}")
    if not value >= 0.01 or value > (os.cpu_count() or 1):  # (`not >=` also refuses nan)
        raise BockerError(f"range of CPUs is from 0.01 to {os.cpu_count()}.00, as there are only "
                          f"{os.cpu_count()} CPUs available")
    return value


def limits_of(hc):
    """The cgroup limits a container record's HostConfig asks for (see limit_settings)."""
    from . import security
    return {"memory": hc.get("Memory"), "memory_swap": hc.get("MemorySwap"),
            "memory_reservation": hc.get("MemoryReservation"), "cpus": (hc.get("NanoCpus") or 0) / 1e9,
            "cpu_period": hc.get("CpuPeriod"), "cpu_quota": hc.get("CpuQuota"),
            "cpu_shares": hc.get("CpuShares"), "cpuset_cpus": hc.get("CpusetCpus"),
            "cpuset_mems": hc.get("CpusetMems"), "pids": hc.get("PidsLimit"),
            "devices": security.device_rules(hc)}


def check_limits(limits):
    """Docker's rules between the memory flags (its messages), before anything is made."""
    memory, swap = limits.get("memory") or 0, limits.get("memory_swap") or 0
    if swap and not memory:
        raise BockerError("You should always set the Memory limit when using Memoryswap limit")
    if swap > 0 and swap < memory:
        raise BockerError("Minimum memoryswap limit should be larger than memory limit, see usage")
    reservation = limits.get("memory_reservation") or 0
    if reservation and memory and reservation > memory:
        raise BockerError("Minimum memory limit can not be less than memory reservation limit, see usage")
    shares = limits.get("cpu_shares") or 0
    if shares and not 2 <= shares <= 262144:
        raise BockerError(f"invalid --cpu-shares {shares}: the range is 2 to 262144")
    check_cfs(limits.get("cpus") or 0, limits.get("cpu_period") or 0, limits.get("cpu_quota") or 0)


def check_cfs(cpus, period, quota):
    """--cpu-period/--cpu-quota (µs) as Docker's daemon checks them; --cpus sets both itself."""
    if cpus and period:
        raise BockerError("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if cpus and quota > 0:
        raise BockerError("Conflicting options: CPU Quota and Nano CPUs cannot both be set")
    if period and not 1000 <= period <= 1000000:
        raise BockerError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)")
    if 0 < quota < 1000:
        raise BockerError("CPU cfs quota can not be less than 1ms (i.e. 1000)")


def limit_settings(limits, v):
    """The files to write, per cgroup version, for {memory, memory_swap (memory + swap; -1 is
    unlimited), memory_reservation: bytes, cpus: float, cpu_shares: int, cpuset_cpus,
    cpuset_mems: str, pids: int}."""
    out = []
    memory, swap = limits.get("memory"), limits.get("memory_swap")
    if memory:
        if v == 1:
            out.append(("memory.limit_in_bytes", str(memory)))
            if swap:  # after the memory limit: the kernel wants memsw >= memory at all times
                out.append(("memory.memsw.limit_in_bytes", str(swap)))
        else:
            out += [("memory.max", str(memory)),
                    ("memory.swap.max", "max" if swap == -1 else str(max(swap - memory, 0) if swap else 0))]
    if limits.get("memory_reservation"):
        out.append(("memory.soft_limit_in_bytes" if v == 1 else "memory.low", str(limits["memory_reservation"])))
    if limits.get("cpus"):
        quota = int(limits["cpus"] * CPU_PERIOD)
        if v == 1:
            out += [("cpu.cfs_period_us", str(CPU_PERIOD)), ("cpu.cfs_quota_us", str(quota))]
        else:
            out.append(("cpu.max", f"{quota} {CPU_PERIOD}"))
    elif limits.get("cpu_period") or (limits.get("cpu_quota") or 0) > 0:
        out += _cfs_settings(limits.get("cpu_period") or 0, limits.get("cpu_quota") or 0, v)
    if limits.get("cpu_shares"):
        shares = limits["cpu_shares"]  # v2: runc's mapping of shares [2, 262144] to weight [1, 10000]
        out.append(("cpu.shares", str(shares)) if v == 1 else ("cpu.weight", str(1 + (shares - 2) * 9999 // 262142)))
    for key in ("cpuset_cpus", "cpuset_mems"):
        if limits.get(key):
            out.append((key.replace("_", "."), limits[key]))
    if limits.get("pids"):
        out.append(("pids.max", str(limits["pids"])))
    return out


def _cfs_settings(period, quota, v):
    """--cpu-period/--cpu-quota as given (-1 or 0: no quota; the period alone keeps the default quota)."""
    if v == 1:
        return ([("cpu.cfs_period_us", str(period))] if period else []) + \
               ([("cpu.cfs_quota_us", str(quota))] if quota > 0 else [])
    return [("cpu.max", f"{quota if quota > 0 else 'max'} {period or CPU_PERIOD}")]


def _group(cfg, cid):
    return f"{cfg.cgroup_parent}/{cid}"


def create(cfg, cid, limits):
    """Make the container's cgroup and write its limits (removed again if that fails)."""
    try:
        _create(cfg, cid, limits)
    except BaseException:
        delete(cfg, cid)
        raise


def _create(cfg, cid, limits):
    group = _group(cfg, cid)
    if version(cfg) == 1:
        cpuset = limits.get("cpuset_cpus") or limits.get("cpuset_mems")
        controllers = V1_CONTROLLERS + ((CPUSET,) if cpuset else ())
        shell.run(["cgcreate", "-g", f"{','.join(controllers)}:{group}"])
        if cpuset:
            _fill_cpuset(cfg, group)
        settings = limit_settings(limits, 1)
        if settings:
            argv = ["cgset"]
            for key, value in settings:
                argv += ["-r", f"{key}={value}"]
            shell.run(argv + [group])
        if limits.get("devices") is not None:
            allow_devices_v1(os.path.join(cfg.cgroup_root, "devices", group), limits["devices"])
        return
    base = delegate(cfg)
    path = os.path.join(base, cid)
    shell.do(f"mkdir {path}", os.mkdir, path)
    for key, value in limit_settings(limits, 2):
        _write(os.path.join(path, key), value)
    if limits.get("devices") is not None:
        allow_devices_v2(path, limits["devices"])


def update(cfg, cid, limits):
    """`update` of a running container: its limit files rewritten in place (v1: each in its
    controller's hierarchy, memory.* in memory/...). `pids` 0 or less: no limit ("max")."""
    v = version(cfg)
    pids = limits.get("pids")
    settings = limit_settings(dict(limits, pids=pids if pids and pids > 0 else None), v)
    if pids is not None and pids <= 0:
        settings.append(("pids.max", "max"))
    for key, value in settings:
        parts = (key.split(".")[0],) if v == 1 else ()
        path = os.path.join(cfg.cgroup_root, *parts, _group(cfg, cid), key)
        try:
            _write(path, value)
        except OSError as e:  # e.g. a memory limit below what the container uses now
            raise BockerError(f"cannot update {key} to {value}: {e.strerror}")


def _words(path):
    try:
        with open(path) as f:
            return [w.lstrip("+") for w in f.read().split()]
    except OSError:
        return None


def delegate(cfg):
    """v2: make the parent (each level of it) and enable bocker's controllers in the
    cgroup.subtree_control of every level from the root down to the parent, so that the containers'
    groups get memory, cpu, pids and cpuset files. Only what is missing is written (a second
    container writes nothing); a controller the level does not have is left out (its limit then
    fails alone). The parent itself never holds a process (v2's "no internal processes" rule):
    containers are its leaves. Returns the parent's path."""
    path = cfg.cgroup_root
    levels = [path]
    for part in [p for p in cfg.cgroup_parent.split("/") if p]:
        path = os.path.join(path, part)
        levels.append(path)
    if not os.path.isdir(path):
        shell.do(f"mkdir -p {path}", os.makedirs, path, exist_ok=True)
    available = None
    for level in levels:
        # a level's controllers are its parent's subtree_control (a fake tree may lack the file)
        have = _words(os.path.join(level, "cgroup.controllers"))
        have = have if have is not None else (available or list(V2_CONTROLLERS))
        enabled = _words(os.path.join(level, "cgroup.subtree_control")) or []
        missing = [c for c in V2_CONTROLLERS if c in have and c not in enabled]
        if missing:
            control = os.path.join(level, "cgroup.subtree_control")
            try:
                _write(control, " ".join("+" + c for c in missing))
            except OSError as e:
                import errno
                why = ("it has processes of its own (cgroup v2's no-internal-processes rule)"
                       if e.errno == errno.EBUSY else e.strerror)
                raise BockerError(f"cannot enable the {' '.join(missing)} controllers in {control}: {why}; "
                                  f"set BOCKER_CGROUP_PARENT to a cgroup bocker may manage (on a systemd "
                                  f"host: under a unit with Delegate=yes)")
        available = enabled + missing
    return path


def _fill_cpuset(cfg, group):
    """v1 cpuset groups start with no cpus and no memory nodes, and a process cannot join such a
    group: each new level (the parent too) gets its parent's, before the container's own."""
    path = os.path.join(cfg.cgroup_root, CPUSET)
    for part in group.split("/"):
        parent, path = path, os.path.join(path, part)
        for key in ("cpuset.cpus", "cpuset.mems"):
            shell.do(f"[ -n \"$(cat {path}/{key})\" ] || cat {parent}/{key} > {path}/{key}",
                     _inherit, os.path.join(parent, key), os.path.join(path, key))


def _inherit(source, target):
    with open(target) as f:
        if f.read().strip():
            return
    with open(source) as f:
        value = f.read().strip()
    with open(target, "w") as f:
        f.write(value)


def allow_devices_v1(path, rules):
    """Docker's devices allow-list: deny everything, then allow each rule (`c 1:3 rwm`)."""
    _write(os.path.join(path, "devices.deny"), "a")
    for kind, major, minor, access in rules:
        _write(os.path.join(path, "devices.allow"),
               f"{kind} {'*' if major is None else major}:{'*' if minor is None else minor} {access}")


def allow_devices_v2(path, rules):
    """v2 has no devices files: the same list as an eBPF program (see devicefilter.py)."""
    from . import devicefilter
    shell.do(f"bpftool cgroup attach {path} device pinned PROG  # PROG: the devices allow-list, "
             f"{len(rules)} rules, as eBPF (devicefilter.py)", devicefilter.attach, path, rules)


def _write(path, value):
    def write():
        with open(path, "w") as f:
            f.write(value)
    shell.do(f"echo {shell.quote(value)} > {path}", write)


def launcher(cfg, cid):
    """The argv prefix that starts a command inside the container's cgroup."""
    group = _group(cfg, cid)
    if version(cfg) == 1:
        return ["cgexec", "-g", f"{','.join(_v1_controllers(cfg, group))}:{group}"]
    procs = os.path.join(cfg.cgroup_root, group, "cgroup.procs")
    return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh"]


def _v1_controllers(cfg, group):
    """The v1 hierarchies a container's group is in (cpuset only if it was asked for)."""
    cpuset = os.path.isdir(os.path.join(cfg.cgroup_root, CPUSET, group))
    return V1_CONTROLLERS + ((CPUSET,) if cpuset else ())


def paths(cfg, cid):
    group = _group(cfg, cid)
    if version(cfg) == 1:
        return [os.path.join(cfg.cgroup_root, c, group) for c in _v1_controllers(cfg, group)]
    return [os.path.join(cfg.cgroup_root, group)]


def oom_killed(cfg, cid):
    """Did the kernel's OOM killer act in this cgroup?"""
    if version(cfg) == 1:
        name, key = os.path.join(cfg.cgroup_root, "memory", _group(cfg, cid), "memory.oom_control"), "oom_kill"
    else:
        name, key = os.path.join(cfg.cgroup_root, _group(cfg, cid), "memory.events"), "oom_kill"
    try:
        with open(name) as f:
            for line in f:
                k, _, v = line.partition(" ")
                if k == key:
                    return int(v) > 0
    except OSError:
        pass
    return False


def delete(cfg, cid):
    """Remove the container's cgroup (all its processes have exited)."""
    existing = [p for p in paths(cfg, cid) if os.path.isdir(p)]
    if not existing and not shell.dry_run:
        return
    # rmdir on v1 too: cgdelete (libcgroup 2.0.2) removes only the first controller's group
    for p in existing or paths(cfg, cid):
        shell.do(f"rmdir {p}", _rmdir, p)


def _rmdir(path):
    """rmdir, waiting (up to 2 s) for the last processes of a killed container to be gone."""
    import errno
    import time
    for _ in range(200):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            time.sleep(0.01)
    raise BockerError(f"cgroup {path} still has processes")


def freeze(cfg, cid, frozen):
    """pause/unpause: the freezer controller on v1, cgroup.freeze on v2."""
    if version(cfg) == 1:
        path = os.path.join(cfg.cgroup_root, "freezer", _group(cfg, cid), "freezer.state")
        _write(path, "FROZEN" if frozen else "THAWED")
    else:
        path = os.path.join(cfg.cgroup_root, _group(cfg, cid))
        _write(os.path.join(path, "cgroup.freeze"), "1" if frozen else "0")
        if not shell.dry_run:
            _wait_frozen(path, frozen)


def _wait_frozen(path, frozen, timeout=5.0):
    """v2's freeze is asynchronous: the write returns at once, cgroup.events says `frozen 1` once
    every process is stopped. Wait for it (as runc does), so that `pause` returns a paused container."""
    import time
    want = f"frozen {1 if frozen else 0}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(os.path.join(path, "cgroup.events")) as f:
                if want in f.read().splitlines():
                    return
        except OSError:
            return  # no events file (a fake tree): nothing to wait for
        if time.monotonic() > deadline:
            raise BockerError(f"{path}: still not {'frozen' if frozen else 'thawed'} after {timeout:.0f} s")
        time.sleep(0.01)


def delete_parent(cfg):
    """`teardown`: remove the parent cgroup once no container is left in it."""
    if version(cfg) == 1:
        for c in V1_CONTROLLERS + (CPUSET,):
            p = os.path.join(cfg.cgroup_root, c, cfg.cgroup_parent)
            if os.path.isdir(p) and not any(os.path.isdir(os.path.join(p, e)) for e in os.listdir(p)):
                shell.do(f"rmdir {p}", os.rmdir, p)
    else:
        p = os.path.join(cfg.cgroup_root, cfg.cgroup_parent)
        if os.path.isdir(p) and not any(os.path.isdir(os.path.join(p, e)) for e in os.listdir(p)):
            shell.do(f"rmdir {p}", os.rmdir, p)


# --- usage (stats, top) ---------------------------------------------------------------------

def procs(cfg, cid):
    """The pids in the container's cgroup (every process of it, exec'd ones too)."""
    group = _group(cfg, cid)
    path = os.path.join(cfg.cgroup_root, "pids", group) if version(cfg) == 1 else os.path.join(cfg.cgroup_root, group)
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def usage(cfg, cid):
    """The container's counters now, as docker stats reads them: cpu_ns (total CPU time), memory
    (usage minus inactive file cache, as Docker's CLI), memory_limit (None: no limit), pids,
    io_read, io_write (bytes). Files that are missing count 0."""
    group = _group(cfg, cid)
    if version(cfg) == 1:
        def f(controller, name):
            return os.path.join(cfg.cgroup_root, controller, group, name)
        cpu = _number(f("cpuacct", "cpuacct.usage")) or 0
        memory, limit = _number(f("memory", "memory.usage_in_bytes")) or 0, _number(f("memory", "memory.limit_in_bytes"))
        inactive = _keyed(f("memory", "memory.stat")).get("total_inactive_file", 0)
        pids = _number(f("pids", "pids.current")) or 0
        io_read, io_write = _blkio_v1(f("blkio", "blkio.throttle.io_service_bytes_recursive"))
    else:
        path = os.path.join(cfg.cgroup_root, group)
        cpu = _keyed(os.path.join(path, "cpu.stat")).get("usage_usec", 0) * 1000
        memory, limit = _number(os.path.join(path, "memory.current")) or 0, _number(os.path.join(path, "memory.max"))
        inactive = _keyed(os.path.join(path, "memory.stat")).get("inactive_file", 0)
        pids = _number(os.path.join(path, "pids.current")) or 0
        io_read, io_write = _io_v2(os.path.join(path, "io.stat"))
    # v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages)
    limit = limit if limit and limit < 1 << 62 else None
    return {"cpu_ns": cpu, "memory": memory - inactive if inactive < memory else memory,
            "memory_limit": limit, "pids": pids, "io_read": io_read, "io_write": io_write}


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _number(path):
    """An integer file's value; None when missing or 'max'."""
    text = _read(path).strip()
    return int(text) if text.isdigit() else None


def _keyed(path):
    """A 'key value' per line file (memory.stat, cpu.stat) as a dict of ints."""
    out = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


def _blkio_v1(path):
    """(read, write) bytes summed over devices: lines 'MAJ:MIN Read N', 'MAJ:MIN Write N'."""
    read = write = 0
    for line in _read(path).splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2].isdigit():
            read += int(fields[2]) if fields[1] == "Read" else 0
            write += int(fields[2]) if fields[1] == "Write" else 0
    return read, write


def _io_v2(path):
    """(read, write) bytes summed over devices: lines 'MAJ:MIN rbytes=N wbytes=N rios=N ...'."""
    read = write = 0
    for line in _read(path).splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            read += int(value) if key == "rbytes" else 0
            write += int(value) if key == "wbytes" else 0
    return read, write

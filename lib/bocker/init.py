"""The container's init step: runs inside the new namespaces, then becomes the command.

Started by `unshare` as `/usr/bin/python3 -I -S init.py OPTIONS -- COMMAND...`. It imports only
os and ctypes (start-up cost matters), tells the host its pid, waits until the host has wired
the network, then mounts /proc, /sys, /dev, switches root with pivot_root, sets the hostname,
drops capabilities to Docker's default set, sets no_new_privs, applies user, env and workdir,
and execs the command, which so becomes PID 1 of the container.

Each step is listed in STEPS with the shell line that does the same, so that `bocker --trace`
shows what the init does without the init printing into the container's output.
"""
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
SYS_PIVOT_ROOT = 155  # x86_64
# Docker's default capability set: CapEff 00000000a80425fb
DEFAULT_CAPS = {"chown": 0, "dac_override": 1, "fowner": 3, "fsetid": 4, "kill": 5, "setgid": 6,
                "setuid": 7, "setpcap": 8, "net_bind_service": 10, "net_raw": 13, "sys_chroot": 18,
                "mknod": 27, "audit_write": 29, "setfcap": 31}
DEV_NODES = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
             ("urandom", 1, 9), ("tty", 5, 0)]
DEV_LINKS = [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
             ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx")]


class InitError(Exception):
    def __init__(self, message, code=125):
        super().__init__(message)
        self.code = code


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise InitError(f"{what}: {os.strerror(err)}")


def mount(source, target, fstype, flags=0, data=None):
    _check(libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                      ctypes.c_ulong(flags), data.encode() if data else None),
           f"mount {target}")


def parse(argv):
    """OPTIONS -- COMMAND: options may repeat (--env, --volume); returns (opts, command)."""
    opts = {"env": [], "volume": [], "tmpfs": [], "cgroup": []}
    i = 0
    while i < len(argv) and argv[i] != "--":
        key = argv[i].lstrip("-").replace("-", "_")
        if key in ("env", "volume", "tmpfs", "cgroup"):
            opts[key].append(argv[i + 1])
        else:
            opts[key] = argv[i + 1]
        i += 2
    return opts, argv[i + 1:]


def steps(opts, command):
    """(shell line, function) for each step, in order; the host prints the lines for --trace."""
    return early_steps(opts) + late_steps(opts, command)


def early_steps(opts):
    """What needs nothing from the host: done while the host wires the veth pair."""
    out = [(f"echo 0 > {path}/{cgroup_file(path)}  # join the container's cgroup",
            lambda p=path: join_cgroup(p)) for path in opts["cgroup"]]
    if opts.get("cgroupns") == "private":
        out.append(("unshare --cgroup  # its own cgroup becomes / in /proc/self/cgroup",
                    lambda: _check(libc.unshare(0x02000000), "unshare cgroup namespace")))
    if opts.get("lo") == "up":
        out.append(("ip link set lo up  # (in the container's netns)", lambda: set_up("lo")))
    return out


def late_steps(opts, command):
    """After the host's go-ahead: eth0 exists now."""
    if opts.get("enter"):  # `bocker exec`: join a running container's mounts, then as below
        pid = opts["enter"]
        out = [(f"nsenter --mount=/proc/{pid}/ns/mnt  # its mounts and its root",
                lambda: enter_mounts(pid))]
        return out + final_steps(opts, command)
    root = opts["rootfs"]
    out = []
    if opts.get("ip"):
        ip, gw = opts["ip"], opts["gateway"]
        out.append((f"ip addr add {ip} dev eth0 && ip link set eth0 up && ip route add default via {gw}"
                    "  # eth0: the veth end the host made in our netns",
                    lambda: configure_eth0(ip, gw)))
    out += [
        (f"mount --bind {root} {root}  # pivot_root needs the new root to be a mount point",
         lambda: mount(root, root, None, MS_BIND | MS_REC)),
        (f"mount -t proc proc {root}/proc",
         lambda: mount("proc", mountpoint(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)),
        (f"mount -t sysfs -o ro sysfs {root}/sys",
         lambda: mount("sysfs", mountpoint(root, "/sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)),
        (f"mount -t tmpfs -o mode=755 tmpfs {root}/dev && mknod {root}/dev/null c 1 3 ...",
         lambda: make_dev(root)),
    ]
    if opts.get("tty"):
        out.append((f"mount --bind $(tty) {root}/dev/console", lambda: bind_console(root)))
    for spec in opts["volume"]:
        src, dst, mode = (spec.split(":") + ["rw"])[:3]
        out.append((f"mount --bind {src} {root}{dst}" + (" && mount -o remount,bind,ro " + root + dst
                                                        if mode == "ro" else ""),
                    lambda s=src, d=dst, m=mode: bind_volume(root, s, d, m)))
    for spec in opts["tmpfs"]:
        dst, _, data = spec.partition(":")
        out.append((f"mount -t tmpfs -o {data or 'mode=1777'} tmpfs {root}{dst}",
                    lambda d=dst, o=data: mount_tmpfs(root, d, o)))
    out += [
        (f"cd {root} && pivot_root . .  # the old root is stacked under the new one",
         lambda: pivot_root(root)),
        ("umount -l /  # detach the old root: host files are out of reach",
         lambda: _check(libc.umount2(b"/", MNT_DETACH), "umount old root")),
    ]
    if opts.get("hostname"):
        out.append((f"hostname {opts['hostname']}", lambda: sethostname(opts["hostname"])))
    return out + final_steps(opts, command)


def cgroup_file(path):
    """v1: `tasks`, which moves just this (single-threaded) process, without the global lock
    that moving a whole thread group takes (it waits for an RCU grace period, ~7 ms);
    v2: cgroup.procs."""
    return "tasks" if os.path.exists(f"{path}/tasks") else "cgroup.procs"


def join_cgroup(path):
    """Move this process (and so the command it becomes) into the container's cgroup."""
    with open(f"{path}/{cgroup_file(path)}", "w") as f:
        f.write("0")


def controlling_tty():
    """-t: a session of our own with the pty (stdin) as controlling terminal, so that Ctrl-C
    and job control reach the container's processes."""
    os.setsid()
    _check(libc.ioctl(0, 0x540E, 0), "TIOCSCTTY")  # TIOCSCTTY


def final_steps(opts, command):
    caps = ",".join("+" + c for c in DEFAULT_CAPS)
    tty = [("setsid --ctty  # the pty becomes the controlling terminal", controlling_tty)] \
        if opts.get("tty") else []
    return tty + [
        (f"setpriv --bounding-set -all,{caps} --no-new-privs",
         lambda: drop_privileges()),
        (f"setpriv --reuid/--regid {opts.get('user') or '0'}  # the container's user",
         lambda: set_user(opts.get("user") or "")),
        (f"cd {opts.get('workdir') or '/'} && exec env -i {' '.join(opts['env'])} {' '.join(command)}",
         lambda: None),
    ]


def enter_mounts(pid):
    """setns(2) into the container's mount namespace: its root becomes ours."""
    fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
    _check(libc.setns(fd, 0x00020000), "setns mnt")  # CLONE_NEWNS
    os.close(fd)
    os.chdir("/")


def inside(root, path):
    """root + path with every symlink resolved inside root (never on the host), like chroot would."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved, hops = [], 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            resolved = resolved[:-1]
            continue
        candidate = root + "/" + "/".join(resolved + [part])
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise InitError(f"too many levels of symbolic links in {path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return root + "/" + "/".join(resolved)


def mount_tmpfs(root, dst, data):
    target = mountpoint(root, dst)
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, data or "mode=1777")


# Network configuration by ioctl on a socket, through libc (the socket module costs 5 ms to
# import, and `ip` would be one more process): the old interface of ifconfig and route.
SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFNETMASK, SIOCADDRT = 0x8913, 0x8914, 0x8916, 0x891C, 0x890B


class sockaddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_char * 14)]


class rtentry(ctypes.Structure):  # <net/route.h>
    _fields_ = [("pad1", ctypes.c_ulong), ("dst", sockaddr), ("gateway", sockaddr),
                ("genmask", sockaddr), ("flags", ctypes.c_ushort), ("pad2", ctypes.c_short),
                ("pad3", ctypes.c_ulong), ("pad4", ctypes.c_void_p), ("metric", ctypes.c_short),
                ("dev", ctypes.c_char_p), ("mtu", ctypes.c_ulong), ("window", ctypes.c_ulong),
                ("irtt", ctypes.c_ushort)]


def _inet(addr):
    """struct sockaddr_in for an IPv4 address ('a.b.c.d' or 4 bytes): AF_INET, port 0, address."""
    raw = addr if isinstance(addr, bytes) else bytes(int(x) for x in addr.split("."))
    return sockaddr.from_buffer_copy(b"\2\0\0\0" + raw + b"\0" * 8)


def _ioctl(request, arg, what):
    fd = libc.socket(2, 2, 0)  # AF_INET, SOCK_DGRAM
    _check(0 if fd >= 0 else -1, "socket")
    ret = libc.ioctl(fd, request, arg)
    os.close(fd)
    _check(ret, what)


def _ifreq(name, payload):
    """struct ifreq: 16 bytes of interface name, then the request's data (24 bytes)."""
    return ctypes.create_string_buffer(name.encode().ljust(16, b"\0") + payload, 40)


def set_up(name):
    """Read the interface's flags (SIOCGIFFLAGS) and add IFF_UP | IFF_RUNNING to them."""
    req = _ifreq(name, b"")
    _ioctl(SIOCGIFFLAGS, req, f"ip link show {name}")
    flags = int.from_bytes(req.raw[16:18], "little") | 0x41
    _ioctl(SIOCSIFFLAGS, _ifreq(name, flags.to_bytes(2, "little")), f"ip link set {name} up")


def configure_eth0(cidr, gateway):
    addr, prefix = cidr.split("/")
    mask = ((0xFFFFFFFF << (32 - int(prefix))) & 0xFFFFFFFF).to_bytes(4, "big")
    _ioctl(SIOCSIFADDR, _ifreq("eth0", bytes(_inet(addr))), "ip addr add")
    _ioctl(SIOCSIFNETMASK, _ifreq("eth0", bytes(_inet(mask))), "ip addr add (netmask)")
    set_up("eth0")
    route = rtentry(dst=_inet("0.0.0.0"), gateway=_inet(gateway), genmask=_inet("0.0.0.0"),
                    flags=0x1 | 0x2)  # RTF_UP | RTF_GATEWAY
    _ioctl(SIOCADDRT, ctypes.byref(route), "ip route add default")


def mountpoint(root, path):
    """The directory to mount on, made if the image lacks it (a minimal rootfs), resolved
    inside the rootfs so that an image's symlink cannot point a mount at the host."""
    target = inside(root, path)
    os.makedirs(target, exist_ok=True)
    return target


def make_dev(root):
    dev = mountpoint(root, "/dev")
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=65536k")
    for name, major, minor in DEV_NODES:
        os.mknod(f"{dev}/{name}", 0o20666, os.makedev(major, minor))
        os.chmod(f"{dev}/{name}", 0o666)
    for name, target in DEV_LINKS:
        os.symlink(target, f"{dev}/{name}")
    for d in ("pts", "shm", "mqueue"):
        os.mkdir(f"{dev}/{d}")
    mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID | MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=0620,gid=5")
    mount("shm", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k")
    mount("mqueue", f"{dev}/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def bind_console(root):
    open(f"{root}/dev/console", "a").close()
    mount(os.ttyname(0), f"{root}/dev/console", None, MS_BIND)


def bind_volume(root, src, dst, mode):
    target = inside(root, dst)
    if os.path.isdir(src):
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(src, target, None, MS_BIND | MS_REC)
    if mode == "ro":
        mount(src, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def pivot_root(root):
    os.chdir(root)
    _check(libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")


def sethostname(name):
    _check(libc.sethostname(name.encode(), len(name)), "sethostname")


def drop_privileges():
    keep = set(DEFAULT_CAPS.values())
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        if cap not in keep:
            _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _lookup(path, name):
    """A name's entry in the container's /etc/passwd or /etc/group."""
    try:
        with open(path) as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields[0] == name:
                    return fields
    except FileNotFoundError:
        pass
    return None


def set_user(spec):
    """-u USER[:GROUP] (names from the container's own /etc/passwd, or numbers)."""
    if not spec:
        return
    user, _, group = spec.partition(":")
    if user.isdigit():
        uid, gid = int(user), 0
        entry = None
    else:
        entry = _lookup("/etc/passwd", user)
        if not entry:
            raise InitError(f"unable to find user {user}: no matching entries in passwd file", 126)
        uid, gid = int(entry[2]), int(entry[3])
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            g = _lookup("/etc/group", group)
            if not g:
                raise InitError(f"unable to find group {group}: no matching entries in group file", 126)
            gid = int(g[2])
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if entry:
        os.environ.setdefault("HOME", entry[5])


def exec_command(opts, command):
    env = {"HOME": "/root"}
    env.update(os.environ)  # HOME from the user's passwd entry, when -u named one
    for item in opts["env"]:
        key, _, value = item.partition("=")
        env[key] = value
    workdir = opts.get("workdir") or "/"
    try:
        os.makedirs(workdir, exist_ok=True)
        os.chdir(workdir)
    except OSError as e:
        raise InitError(f"cannot enter workdir {workdir}: {e.strerror}", 126)
    os.environ.clear()
    os.environ.update(env)
    execvpe(command, env)


def execvpe(command, env):
    """os.execvpe, without the imports it makes on the way (the host's stdlib is gone now)."""
    name = command[0]
    dirs = [""] if "/" in name else env.get("PATH", "/usr/bin:/bin").split(":")
    error = None
    for d in dirs:
        path = os.path.join(d, name) if d else name
        try:
            os.execve(path, command, env)
        except FileNotFoundError:
            continue
        except PermissionError as e:
            error = error or e
        except OSError as e:
            error = e
    if isinstance(error, PermissionError):
        raise InitError(f'exec: "{name}": permission denied', 126)
    if error is not None:
        raise InitError(f'exec: "{name}": {error.strerror}', 126)
    if "/" in name:
        raise InitError(f'exec: "{name}": no such file or directory', 127)
    raise InitError(f'exec: "{name}": executable file not found in $PATH', 127)


def handshake(opts):
    """Tell the host our pid (as the host sees it), do the early steps while it sets up the
    network, then wait for its go-ahead."""
    if "sync" not in opts:
        for _, fn in early_steps(opts):
            fn()
        return
    ready, go = opts["sync"].split(":")
    import _signal  # not `signal`: it imports enum, and start-up time counts

    def give_up(signum, frame):
        raise InitError("the host did not answer the handshake within 60 s")
    _signal.signal(14, give_up)  # SIGALRM: never wait forever on a host that died
    _signal.alarm(60)
    if opts.get("status"):
        # a fifo only we write to, close-on-exec: a successful exec closes it (the host reads
        # EOF), a failure writes "CODE message" on it first
        opts["status_fd"] = os.open(opts["status"], os.O_WRONLY)
    # /proc is still the host's here, so /proc/self names our host pid
    host_pid = os.readlink("/proc/self")
    with open(int(ready) if ready.isdigit() else ready, "w") as f:
        f.write(host_pid + "\n")
    for _, fn in early_steps(opts):
        fn()
    with open(int(go) if go.isdigit() else go) as f:
        if f.read().strip() != "go":
            raise InitError("the host gave up before the container started")
    _signal.alarm(0)


def main(argv):
    opts, command = parse(argv)
    os.environ.clear()
    try:
        handshake(opts)
        for _, fn in late_steps(opts, command)[:-1]:
            fn()
        exec_command(opts, command)
    except (InitError, OSError) as e:
        code, message = (e.code, str(e)) if isinstance(e, InitError) else (125, f"init: {e}")
        sys.stderr.write(f"bocker: {message}\n")
        if "status_fd" in opts:
            os.write(opts["status_fd"], f"{code} {message}\n".encode())
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The container's init step: runs inside the new namespaces, then becomes the command.

Started by `unshare` as `/usr/bin/python3 -I -S init.py OPTIONS -- COMMAND...`. It imports only
os and ctypes (start-up cost matters), tells the host its pid, waits until the host has wired
the network, then mounts /proc, /sys, /dev, masks and write-protects Docker's list of kernel
files, switches root with pivot_root, sets the hostname, sets all five capability sets, the
user, no_new_privs, default signal dispositions and the seccomp filter, and execs the command,
which so becomes PID 1 of the container. With --userns BASE:COUNT (userns.py) it also makes the
container's user namespace, where root is host uid BASE, and mounts the rootfs through it. What to apply is decided on the host (security.py)
and arrives as options; the init only applies it.

Each step is listed in STEPS with the shell line that does the same, so that `bocker --trace`
shows what the init does without the init printing into the container's output.
"""
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_KEPT = 1 | 2 | 4 | 8 | 1024 | 2048 | 4096  # (no)rdonly/suid/dev/exec/atime/diratime/relatime
MNT_DETACH = 2
PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 22, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
SYS_RT_SIGACTION, SYS_RT_SIGPROCMASK, SYS_PIVOT_ROOT = 13, 14, 155  # x86_64
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442  # x86_64
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x2000000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
AT_FDCWD, AT_EMPTY_PATH, OPEN_TREE_CLONE, MOVE_MOUNT_F_EMPTY_PATH = -100, 0x1000, 1, 4
MOUNT_ATTR_IDMAP = 0x100000
# capability names by number (<linux/capability.h>), for the trace lines; security.py has the
# same table for parsing --cap-add (a test keeps them equal: the init cannot import it)
CAP_NAMES = ("chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
             "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
             "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
             "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
             "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
             "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
             "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore")
# Docker's default capability set: CapEff 00000000a80425fb
DEFAULT_CAPS = (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31)
# setrlimit(2) resources by Docker's --ulimit names (<asm-generic/resource.h>)
RLIMITS = {"cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6,
           "nofile": 7, "memlock": 8, "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12,
           "nice": 13, "rtprio": 14, "rttime": 15}
DOCKER_INIT = "/sbin/docker-init"  # where Docker puts its tini
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


REPEATED = ("env", "volume", "tmpfs", "cgroup", "mask", "readonly_path", "ulimit", "sysctl", "device", "group_add")


def parse(argv):
    """OPTIONS -- COMMAND: options may repeat (--env, --volume); returns (opts, command)."""
    opts = {key: [] for key in REPEATED}
    i = 0
    while i < len(argv) and argv[i] != "--":
        key = argv[i].lstrip("-").replace("-", "_")
        if key in REPEATED:
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
    if opts.get("userns") and not opts.get("enter"):
        out += userns_steps(opts)
    if opts.get("cgroupns") == "private":
        out.append(("unshare --cgroup  # its own cgroup becomes / in /proc/self/cgroup",
                    lambda: _check(libc.unshare(CLONE_NEWCGROUP), "unshare cgroup namespace")))
    if opts.get("lo") == "up":
        out.append(("ip link set lo up  # (in the container's netns)", lambda: set_up("lo")))
    return out


def userns_steps(opts):
    """--userns BASE:COUNT, before READY (the host then wires the network namespace made here):
    what needs host root first (limits, the seccomp blob, the idmapped rootfs, /proc of a pid
    namespace that belongs to the host's user namespace), then the new namespaces, owned by the
    container's user namespace, then root inside it: from here on, host uid BASE."""
    base, count = opts["userns"].split(":")
    root, flags = opts["rootfs"], CLONE_NEWNS | CLONE_NEWUTS
    net = ""
    if opts.get("lo") == "up":  # not --network host (refused with remapping: userns.py)
        flags, net = flags | CLONE_NEWNET, " --net"
    return privileged_limit_steps(opts) + read_seccomp_step(opts) + [
        (f"unshare --user sleep 1 & echo '0 {base} {count}' > /proc/$!/uid_map"
         f" && echo '0 {base} {count}' > /proc/$!/gid_map  # the container's user namespace",
         lambda: opts.update(userns_fd=make_userns(int(base), int(count)))),
        (f"mount --bind -o X-mount.idmap=/proc/$!/ns/user {root} {root}"
         f"  # on-disk uid 0 is seen as {base}, so as 0 inside",
         lambda: idmap_mount(root, opts["userns_fd"])),
        (f"mount -t proc proc {root}/proc  # now: its pid namespace belongs to the host's user namespace",
         lambda: mount("proc", mountpoint(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)),
        (f"nsenter --user=/proc/$!/ns/user unshare --mount --uts{net}"
         "  # namespaces that its root may configure",
         lambda: enter_userns(opts.pop("userns_fd"), flags)),
        (f"mount --rbind {root} {root} && exec 3< {root}  # a mount of our own (pivot_root), held"
         " open with the volumes' sources: a 0700 directory on their way will be closed to us",
         lambda: hold_paths(opts)),
        (f"setpriv --reuid 0 --regid 0 --clear-groups  # root inside: host uid {base}",
         become_root),
        ("unshare --ipc  # made by root inside: its /dev/mqueue is root's",
         lambda: _check(libc.unshare(CLONE_NEWIPC), "unshare ipc namespace")),
    ]


def late_steps(opts, command):
    """After the host's go-ahead: eth0 exists now."""
    userns = bool(opts.get("userns"))
    if opts.get("enter"):  # `bocker exec`: join a running container's mounts, then as below
        return read_seccomp_step(opts) + enter_steps(opts) + final_steps(opts, command)
    out = [] if userns else read_seccomp_step(opts)  # (with userns: done before, as host root)
    root = opts["rootfs"]
    if opts.get("ip"):
        ip, gw = opts["ip"], opts["gateway"]
        out.append((f"ip addr add {ip} dev eth0 && ip link set eth0 up && ip route add default via {gw}"
                    "  # eth0: the veth end the host made in our netns",
                    lambda: configure_eth0(ip, gw)))
    sys_ro = "" if opts.get("privileged") == "1" else " -o ro"
    shm = int(opts.get("shm_size") or 64 << 20)
    if not userns:
        out += [
            (f"mount --bind {root} {root}  # pivot_root needs the new root to be a mount point",
             lambda: mount(root, root, None, MS_BIND | MS_REC)),
            (f"mount -t proc proc {root}/proc",
             lambda: mount("proc", mountpoint(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)),
        ]
    nodes = "mount --bind /dev/null" if userns else "mknod"  # no mknod in a user namespace
    out += [
        (f"mount -t sysfs{sys_ro} sysfs {root}/sys",
         lambda: mount("sysfs", mountpoint(root, "/sys"), "sysfs",
                       (MS_RDONLY if sys_ro else 0) | MS_NOSUID | MS_NODEV | MS_NOEXEC)),
        (f"mount -t tmpfs -o mode=755 tmpfs {root}/dev && {nodes} {root}/dev/null ..."
         f" && mount -t tmpfs -o size={shm} shm {root}/dev/shm",
         lambda: make_dev(root, shm, userns)),
    ]
    if opts.get("privileged") == "1" and not userns:
        out.append((f"cp -a /dev/* {root}/dev  # --privileged: every host device node",
                    lambda: copy_host_devices(root)))
    if opts.get("tty"):
        out.append((f"mount --bind $(tty) {root}/dev/console", lambda: bind_console(root)))
    for spec in opts["device"]:
        src, dst, _ = spec.split(":")
        line = f"mount --bind {src} {root}{dst}" if userns else f"mknod {root}{dst} {node_of(src)}"
        out.append((f"{line}  # --device {src}", lambda s=src, d=dst: make_device(root, s, d, userns)))
    if opts.get("docker_init"):
        src = opts["docker_init"]
        out.append((f"mount --bind {src} {root}{DOCKER_INIT} && mount -o remount,bind,ro {root}{DOCKER_INIT}"
                    "  # --init: tini reaps zombies and forwards signals",
                    lambda s=src: bind_volume(root, s, DOCKER_INIT, "ro")))
    for spec in opts["volume"]:
        src, dst, mode = (spec.split(":") + ["rw"])[:3]
        out.append((f"mount --bind {src} {root}{dst}" + (" && mount -o remount,bind,ro " + root + dst
                                                        if mode == "ro" else ""),
                    lambda s=src, d=dst, m=mode: bind_volume(root, s, d, m)))
    for spec in opts["tmpfs"]:
        dst, _, data = spec.partition(":")
        out.append((f"mount -t tmpfs -o {data or 'mode=1777'} tmpfs {root}{dst}",
                    lambda d=dst, o=data: mount_tmpfs(root, d, o)))
    out += kernel_files_steps(opts, root)
    if opts.get("read_only") == "1":
        out.append((f"mount -o remount,bind,ro {root}  # --read-only (its own mounts stay writable)",
                    lambda: remount_ro(root)))
    out += [
        (f"cd {root} && pivot_root . .  # the old root is stacked under the new one",
         lambda: pivot_root(root)),
        ("umount -l /  # detach the old root: host files are out of reach",
         lambda: _check(libc.umount2(b"/", MNT_DETACH), "umount old root")),
    ]
    if opts.get("hostname"):
        out.append((f"hostname {opts['hostname']}", lambda: sethostname(opts["hostname"])))
    if opts.get("domainname"):
        out.append((f"domainname {opts['domainname']}", lambda: setdomainname(opts["domainname"])))
    return out + final_steps(opts, command)


def kernel_files_steps(opts, root):
    """--sysctl values first (written while /proc/sys is still writable), then Docker's masked
    and read-only paths, each resolved inside the rootfs; paths this kernel lacks are skipped."""
    out = []
    for item in opts["sysctl"]:
        key, _, value = item.partition("=")
        path = "/proc/sys/" + key.replace(".", "/")
        out.append((f"echo {value} > {root}{path}  # --sysctl {key}",
                    lambda p=path, v=value: write_file(inside(root, p), v)))
    for path in opts["mask"]:
        line = (f"mount -t tmpfs -o ro tmpfs {root}{path}" if os.path.isdir(path)
                else f"mount --bind {root}/dev/null {root}{path}")
        out.append((line + "  # masked", lambda p=path: mask(root, p)))
    for path in opts["readonly_path"]:
        out.append((f"mount --bind {root}{path} {root}{path} && mount -o remount,bind,ro {root}{path}",
                    lambda p=path: make_readonly(root, p)))
    return out


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
    """The process itself: limits, capabilities, user, signals, seccomp, then exec. Capabilities
    are set in the order runc uses: the bounding set while we are still root with every
    capability, then the user (setuid to non-root makes the kernel clear permitted and
    effective: Docker's CapEff 0 for -u 1000), then capset(2) for what is left."""
    keep = kept_caps(opts)
    names = ",".join("+" + cap_name(c) for c in sorted(keep))
    out = [("setsid --ctty  # the pty becomes the controlling terminal", controlling_tty)] \
        if opts.get("tty") else []
    if not opts.get("userns"):  # (with userns: done before, while host root)
        out += privileged_limit_steps(opts)
    no_new_privs = opts.get("no_new_privs", "1") == "1"
    seccomp = [(f"seccomp-load {opts['seccomp']}  # prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, program)",
                lambda: load_seccomp(opts["bpf"]))] if opts.get("seccomp") else []
    if not no_new_privs:  # without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it now
        out += seccomp
    out += [
        (f"setpriv --bounding-set -all{',' + names if names else ''}", lambda: drop_bounding(keep)),
        (f"setpriv --reuid/--regid {opts.get('user') or '0'} "
         + (f"--groups {','.join(opts['group_add'])}" if opts["group_add"] else "--clear-groups")
         + "  # the container's user", lambda: set_user(opts.get("user") or "", opts["group_add"])),
        ("setpriv --inh-caps -all --ambient-caps -all  # permitted = effective = bounding for root,"
         " none for other users", lambda: set_capabilities(keep)),
    ]
    if no_new_privs:
        out.append(("setpriv --no-new-privs", lambda: _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                                                            "no_new_privs")))
    out.append(("trap - $(seq 64) && unblock all  # every signal SIG_DFL, an empty signal mask",
                reset_signals))
    if no_new_privs:  # last: the filter then has to allow nothing but execve itself
        out += seccomp
    return out + [
        (f"cd {opts.get('workdir') or '/'} && exec env -i {' '.join(opts['env'])} {' '.join(command)}",
         lambda: None),
    ]


def privileged_limit_steps(opts):
    """Before the capability drop, and before entering a user namespace: raising a hard rlimit
    or lowering oom_score_adj needs CAP_SYS_RESOURCE of the host's user namespace."""
    out = []
    for item in opts["ulimit"]:
        name, _, value = item.partition("=")
        shown = ":".join("unlimited" if v == "-1" else v for v in value.split(":"))
        out.append((f"prlimit --pid $$ --{name}={shown}", lambda n=name, v=value: set_rlimit(n, v)))
    if opts.get("oom_score_adj"):
        adj = opts["oom_score_adj"]
        out.append((f"echo {adj} > /proc/self/oom_score_adj",
                    lambda: write_file("/proc/self/oom_score_adj", adj)))
    return out


def enter_steps(opts):
    """`bocker exec`: the container's mounts (and its root), and with userns its user namespace,
    entered last (entered first, host root would lose the right to join the mount namespace)."""
    pid = opts["enter"]
    if not opts.get("userns"):
        return [(f"nsenter --mount=/proc/{pid}/ns/mnt  # its mounts and its root",
                 lambda: enter_mounts(pid))]
    return privileged_limit_steps(opts) + [
        (f"nsenter --mount=/proc/{pid}/ns/mnt --user=/proc/{pid}/ns/user --setuid 0 --setgid 0"
         f"  # its mounts, then root of its user namespace: host uid {opts['userns'].split(':')[0]}",
         lambda: enter_mounts(pid, userns=True)),
    ]


def read_seccomp_step(opts):
    """The BPF program is read first: its host path is gone after pivot_root (or setns)."""
    if not opts.get("seccomp"):
        return []
    return [(f"exec 3< {opts['seccomp']}  # the compiled seccomp filter (security.py)",
             lambda: opts.update(bpf=read_bytes(opts["seccomp"])))]


def enter_mounts(pid, userns=False):
    """setns(2) into the container's mount namespace: its root becomes ours; then into its user
    namespace (opened first: the container's /proc does not know the host pid)."""
    user = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY) if userns else None
    fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
    _check(libc.setns(fd, CLONE_NEWNS), "setns mnt")
    os.close(fd)
    os.chdir("/")
    if userns:
        enter_userns(user, 0)
        become_root()


def make_userns(base, count):
    """A user namespace mapping 0..count-1 to base..: a process cannot map more than its own uid
    for itself, so a child unshares and waits while we (host root) write its maps; the namespace
    outlives the child through the returned fd. Costs one fork (~0.5 ms)."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(done_w)
        ok = libc.unshare(CLONE_NEWUSER) == 0
        # its host pid: our /proc is still the host's, and our pid namespace is not
        os.write(ready_w, (os.readlink("/proc/self") if ok else f"-{ctypes.get_errno()}").encode())
        os.read(done_r, 1)
        os._exit(0)
    os.close(ready_w)
    os.close(done_r)
    try:
        child = os.read(ready_r, 32).decode()
        if child.startswith("-"):
            raise InitError(f"unshare --user: {os.strerror(int(child[1:]))}")
        for name in ("uid_map", "gid_map"):
            write_file(f"/proc/{child}/{name}", f"0 {base} {count}\n")
        return os.open(f"/proc/{child}/ns/user", os.O_RDONLY)
    finally:
        os.close(ready_r)
        os.close(done_w)
        os.waitpid(pid, 0)


class mount_attr(ctypes.Structure):  # struct mount_attr, <linux/mount.h>
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def idmap_mount(root, userns_fd):
    """The rootfs seen through the user namespace's map (open_tree, mount_setattr, move_mount):
    no copy and no chown of the image, and what the container writes is stored as uid 0.
    Needs host root: the btrfs superblock belongs to the host's user namespace."""
    fd = libc.syscall(SYS_OPEN_TREE, AT_FDCWD, root.encode(), OPEN_TREE_CLONE | os.O_CLOEXEC)
    _check(0 if fd >= 0 else -1, f"open_tree {root}")
    try:
        attr = mount_attr(MOUNT_ATTR_IDMAP, 0, 0, userns_fd)
        _check(libc.syscall(SYS_MOUNT_SETATTR, fd, b"", AT_EMPTY_PATH, ctypes.byref(attr),
                            ctypes.sizeof(attr)),
               "idmapped mount of the rootfs (mount_setattr MOUNT_ATTR_IDMAP: Linux >= 5.15 on btrfs)")
        _check(libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, root.encode(), MOVE_MOUNT_F_EMPTY_PATH),
               f"move_mount {root}")
    finally:
        os.close(fd)


def enter_userns(fd, flags):
    """setns into the user namespace (all its capabilities, none on the host any more), then
    the namespaces made from here belong to it: its root may mount /sys, set the hostname..."""
    _check(libc.setns(fd, CLONE_NEWUSER), "setns user")
    os.close(fd)
    if flags:
        _check(libc.unshare(flags), "unshare mount/uts/ipc/net namespaces")


def hold_paths(opts):
    """A mount of the rootfs in our new mount namespace (the copied ones are locked: pivot_root
    refuses them), then the rootfs and each volume's source held as /proc/self/fd/N: they are
    reached through the fd whatever directories lead to them (runc passes mount fds likewise).
    The fds are close-on-exec."""
    root = opts["rootfs"]
    mount(root, root, None, MS_BIND | MS_REC)
    opts["rootfs"] = _hold(root)
    opts["volume"] = [":".join([_hold(spec.split(":")[0])] + spec.split(":")[1:]) for spec in opts["volume"]]


def _hold(path):
    return f"/proc/self/fd/{os.open(path, os.O_PATH)}"


def become_root():
    """Root of the user namespace: host uid BASE from now on, for the kernel's permission
    checks and as the owner of every file made from here (before this, made files would be
    host root's). The capabilities stay: uid 0 is root of this namespace."""
    os.setresgid(0, 0, 0)
    os.setgroups([])
    os.setresuid(0, 0, 0)


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


def make_dev(root, shm_size, userns=False):
    """A tmpfs /dev with the standard nodes: made with mknod, or in a user namespace (where
    mknod is refused) the host's nodes bind-mounted on empty files, as rootless podman does."""
    dev = mountpoint(root, "/dev")
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=65536k")
    for name, major, minor in DEV_NODES:
        if userns:
            open(f"{dev}/{name}", "w").close()
            mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
            continue
        os.mknod(f"{dev}/{name}", 0o20666, os.makedev(major, minor))
        os.chmod(f"{dev}/{name}", 0o666)
    for name, target in DEV_LINKS:
        os.symlink(target, f"{dev}/{name}")
    for d in ("pts", "shm", "mqueue"):
        os.mkdir(f"{dev}/{d}")
    mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID | MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=0620,gid=5")
    mount("shm", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"mode=1777,size={shm_size}")
    mount("mqueue", f"{dev}/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def copy_host_devices(root, host="/dev"):
    """--privileged, as Docker: the host's device nodes (top level, and one level of directories
    such as /dev/net, /dev/snd) made in the container's /dev, with their modes and owners;
    devpts, shm and mqueue stay the container's own."""
    dev = inside(root, "/dev")
    for entry in sorted(os.listdir(host)):
        if entry in ("pts", "shm", "mqueue", "console", "ptmx"):
            continue
        path = f"{host}/{entry}"
        if os.path.isdir(path) and not os.path.islink(path):
            for sub in sorted(os.listdir(path)):
                _copy_node(f"{path}/{sub}", f"{dev}/{entry}/{sub}")
        else:
            _copy_node(path, f"{dev}/{entry}")


def _copy_node(src, dst):
    st = os.lstat(src)
    if (st.st_mode & 0o170000) not in (0o020000, 0o060000) or os.path.lexists(dst):
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.mknod(dst, st.st_mode, st.st_rdev)
    os.chmod(dst, st.st_mode & 0o7777)
    os.chown(dst, st.st_uid, st.st_gid)


def node_of(src):
    """`c MAJOR MINOR` of a host device node, for the trace line."""
    try:
        st = os.stat(src)
    except OSError:
        return "? ? ?"
    return f"{'b' if (st.st_mode & 0o170000) == 0o060000 else 'c'} {os.major(st.st_rdev)} {os.minor(st.st_rdev)}"


def make_device(root, src, dst, userns=False):
    """--device SRC:DST: a node of SRC's type and numbers, mode and owner at DST (the host
    checked SRC; the cgroup's allow-list decides whether it can be used). In a user namespace,
    SRC bind-mounted (its host owner shows as nobody inside)."""
    st = os.stat(src)
    target = inside(root, dst)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):  # e.g. --device /dev/null:/dev/null: replace ours
        if userns and os.path.ismount(target):
            _check(libc.umount2(target.encode(), MNT_DETACH), f"umount {dst}")
        os.unlink(target)
    if userns:
        open(target, "w").close()
        mount(src, target, None, MS_BIND)
        return
    os.mknod(target, st.st_mode, st.st_rdev)
    os.chmod(target, st.st_mode & 0o7777)
    os.chown(target, st.st_uid, st.st_gid)


def mask(root, path):
    """Docker's masked paths: an empty read-only tmpfs over a directory, /dev/null over a file."""
    target = inside(root, path)
    if os.path.isdir(target):
        mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755")
    elif os.path.lexists(target):
        mount(f"{root}/dev/null", target, None, MS_BIND)


def make_readonly(root, path):
    """Docker's read-only paths (/proc/sys...): a bind mount on itself, remounted read-only."""
    target = inside(root, path)
    if os.path.lexists(target):
        mount(target, target, None, MS_BIND | MS_REC)
        remount_ro(target)


def remount_ro(target):
    """A bind remount sets all the mount's flags: keep nosuid, nodev, noexec... it had."""
    kept = os.statvfs(target).f_flag & MS_KEPT
    mount(target, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | kept)


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
        remount_ro(target)


def pivot_root(root):
    os.chdir(root)
    _check(libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")


def sethostname(name):
    _check(libc.sethostname(name.encode(), len(name)), "sethostname")


def setdomainname(name):
    _check(libc.setdomainname(name.encode(), len(name)), "setdomainname")


def kept_caps(opts):
    """--caps N,N,... (numbers, from security.py); Docker's default set without it."""
    if "caps" not in opts:
        return set(DEFAULT_CAPS)
    return {int(c) for c in opts["caps"].split(",") if c}


def cap_name(number):
    return CAP_NAMES[number] if number < len(CAP_NAMES) else f"cap_{number}"


def last_cap():
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def drop_bounding(keep):
    """The bounding set caps what any later execve can gain (root's file capabilities)."""
    for cap in range(last_cap() + 1):
        if cap not in keep:
            _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap_name(cap)}")


class cap_header(ctypes.Structure):  # struct __user_cap_header_struct
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


# two struct __user_cap_data_struct {effective, permitted, inheritable}: caps 0-31, then 32-63
cap_data = ctypes.c_uint32 * 6


def set_capabilities(keep):
    """capset(2): permitted = effective = what we still hold of `keep` (nothing after a setuid
    to non-root), inheritable empty; then the ambient set cleared. Whatever the caller had
    (`setpriv --inh-caps +sys_admin bocker run`) is gone: CapInh and CapAmb are 0."""
    header = cap_header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    now = cap_data()
    _check(libc.capget(ctypes.byref(header), now), "capget")
    held = (now[1] | now[4] << 32) & sum(1 << c for c in keep)
    low, high = held & 0xFFFFFFFF, held >> 32
    _check(libc.capset(ctypes.byref(header), cap_data(low, low, 0, high, high, 0)), "capset")
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")


def reset_signals():
    """execve keeps ignored signals and the blocked mask: python ignores SIGPIPE and SIGXFSZ,
    callers may ignore SIGQUIT... Raw rt_sigaction so that all 64 are reset (glibc refuses 32
    and 33, and the `signal` module would import enum)."""
    default = (ctypes.c_ulong * 4)()  # kernel struct sigaction: SIG_DFL, no flags, no restorer, empty mask
    for sig in range(1, 65):
        if sig not in (9, 19):  # SIGKILL, SIGSTOP cannot be changed
            _check(libc.syscall(SYS_RT_SIGACTION, sig, default, None, 8), f"reset signal {sig}")
    empty = ctypes.c_ulong(0)
    _check(libc.syscall(SYS_RT_SIGPROCMASK, 2, ctypes.byref(empty), None, 8), "unblock signals")  # SIG_SETMASK


class sock_fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(program):
    """One prctl: the program is libseccomp's BPF (struct sock_filter, 8 bytes each), compiled
    and cached by the host."""
    buf = ctypes.create_string_buffer(program, len(program))
    prog = sock_fprog(len(program) // 8, ctypes.addressof(buf))
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


def set_rlimit(name, value):
    """--ulimit name=soft[:hard], -1 for unlimited (RLIM_INFINITY)."""
    soft, _, hard = value.partition(":")
    limit = (ctypes.c_ulong * 2)(int(soft) & (2**64 - 1), int(hard or soft) & (2**64 - 1))
    _check(libc.setrlimit(RLIMITS[name], limit), f"ulimit {name}")


def read_bytes(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def write_file(path, value):
    with open(path, "w") as f:
        f.write(value)


def _lookup(path, name):
    """A name's entry in the container's /etc/passwd or /etc/group (a regular file: a fifo
    planted there does not hang the start)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    if os.fstat(fd).st_mode & 0o170000 != 0o100000:
        os.close(fd)
        return None
    with open(fd) as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            if fields[0] == name:
                return fields
    return None


def group_id(group):
    """A group number, or a name of the container's /etc/group (read after pivot_root: a link
    in the image resolves inside the container's root, never on the host's)."""
    if group.isdigit():
        return int(group)
    g = _lookup("/etc/group", group)
    if not g:
        raise InitError(f"unable to find group {group}: no matching entries in group file", 126)
    return int(g[2])


def set_user(spec, groups=()):
    """-u USER[:GROUP] (names from the container's own /etc/passwd, or numbers); --group-add."""
    extra = [group_id(g) for g in groups]
    if not spec:
        if extra:
            os.setgroups(os.getgroups() + extra)
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
        gid = group_id(group)
    os.setgroups(extra)
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
    if opts.get("userns"):  # the network namespace is made here: before the host looks for it
        for _, fn in early_steps(opts):
            fn()
    with open(int(ready) if ready.isdigit() else ready, "w") as f:
        f.write(host_pid + "\n")
    if not opts.get("userns"):
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

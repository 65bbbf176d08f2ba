"""Container records: ids, names, resolve, create, ps rows, rm, commit (running them: lifecycle.py).

containers/<id>/rootfs/         writable snapshot of the image
containers/<id>/config.json     the record (docker inspect's shape)
containers/<id>/container.log   stdout+stderr, one stamped line per line (see logs.py)
names/<name> -> <id>            symlink: names are unique because symlink creation is atomic
"""
import os
import re
import time

from . import BockerError, NotFound, events, fmt, imageconfig, images, runtime, shell, store

NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
ADJECTIVES = ("brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid",
              "merry", "nifty", "proud", "quirky", "sharp", "tender", "vivid", "witty", "zen")
NAMES = ("babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler", "lovelace",
         "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak")


def cdir(cfg, cid, *parts):
    return cfg.path("containers", cid, *parts)


def load(cfg, cid):
    try:
        return store.read_json(cdir(cfg, cid, "config.json"))
    except FileNotFoundError:
        raise NotFound(f"No such container: {cid}")


def save(cfg, rec):
    if shell.dry_run or os.path.isdir(cdir(cfg, rec["Id"])):  # not if removed meanwhile (rm -f)
        store.write_json(cdir(cfg, rec["Id"], "config.json"), rec)


def resolve(cfg, ref):
    """A name, full id or unique id prefix -> container id."""
    if not ref:
        raise BockerError("container name or id required")
    link = cfg.path("names", ref)
    if NAME_RE.fullmatch(ref) and os.path.islink(link):
        return os.readlink(link)
    if re.fullmatch(r"[0-9a-f]+", ref):
        cid = store.by_prefix(ids(cfg), ref, "container")
        if cid:
            return cid
    raise NotFound(f"No such container: {ref}")


# --- state, as seen now ---------------------------------------------------------------

def state(cfg, rec):
    """The record's state, corrected by the truth: a 'running' container whose process is gone
    (pid dead, or pid reused: start time differs) shows as exited."""
    st = rec["State"]
    if st["Status"] in ("running", "paused") and not runtime.alive(st.get("Pid"), st.get("PidStartTime")):
        st = dict(st, Status="exited", Running=False, Pid=0)
        code = read_exit_file(cfg, rec["Id"])
        st["ExitCode"] = 255 if code is None else code
        st["FinishedAt"] = st["FinishedAt"] if fmt.parse_iso(st.get("FinishedAt")) else fmt.now_iso()
    if st["Status"] == "restarting" and not waiting_to_restart(st):  # its waiter died (a crash)
        st = dict(st, Status="exited", Running=False, Restarting=False)
    return st


def waiting_to_restart(st):
    """The process that waits out a restarting container's backoff is alive (same start time)."""
    return runtime.alive(st.get("MonitorPid"), st.get("MonitorStartTime"))


def cancel_restart(cfg, rec):
    """Kill the wait before a restart: the waiter leads its own process group (its `sleep` too)."""
    st = rec["State"]
    if st["Status"] != "restarting" or not waiting_to_restart(st):
        return
    shell.run(["kill", "-KILL", "--", f"-{st['MonitorPid']}"], check=False)
    while not shell.dry_run and runtime.alive(st["MonitorPid"], st["MonitorStartTime"]):
        time.sleep(0.005)


def read_exit_file(cfg, cid):
    try:
        with open(cdir(cfg, cid, "exitcode")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def status_text(st):
    if st["Status"] == "restarting":
        return f"Restarting ({st['ExitCode']}) {fmt.ago(st.get('FinishedAt'))}"
    if st["Status"] == "running":
        from . import health
        return "Up " + fmt.human_duration(time.time() - fmt.parse_iso(st["StartedAt"])) + \
            health.status_suffix(st.get("Health"))
    if st["Status"] == "paused":
        return "Up " + fmt.human_duration(time.time() - fmt.parse_iso(st["StartedAt"])) + " (Paused)"
    if st["Status"] == "exited":
        return f"Exited ({st['ExitCode']}) {fmt.ago(st.get('FinishedAt'))}"
    return st["Status"].capitalize()


# --- create -----------------------------------------------------------------------------

def _new_name(cfg):
    """docker-style adjective_scientist, with a number once those run out."""
    def pick(words):
        return words[int.from_bytes(os.urandom(2), "little") % len(words)]
    for attempt in range(200):
        name = f"{pick(ADJECTIVES)}_{pick(NAMES)}" + (str(attempt) if attempt >= 100 else "")
        if not os.path.lexists(cfg.path("names", name)):
            return name
    return "c_" + os.urandom(6).hex()


def _claim_name(cfg, name, cid):
    def link():
        try:
            os.symlink(cid, cfg.path("names", name))
        except FileExistsError:
            other = os.readlink(cfg.path("names", name))
            raise BockerError(f'Conflict. The container name "/{name}" is already in use by '
                              f'container "{other}". You have to remove (or rename) that container '
                              f'to be able to reuse that name.')
    shell.do(f"ln -s {cid} {shell.quote(cfg.path('names', name))}", link)


def _claim(cfg, rec, name, cid, generated):
    """Claim the name; a generated one that a parallel create took meanwhile is drawn again
    (288 names: 50 parallel `run -d` would nearly always meet)."""
    for attempt in range(20):
        try:
            _claim_name(cfg, name, cid)
            return name
        except BockerError:
            if not generated or attempt == 19:
                raise
            name = _new_name(cfg)
            rec["Name"] = "/" + name


ID_MAX = 2 ** 32 - 2  # uid_t and gid_t: (uid_t)-1 means "unchanged" to the kernel


def check_groups(groups):
    """--group-add: names (looked up in the container's /etc/group when it starts) or numbers."""
    for g in groups:
        if not g or ":" in g or "\0" in g or "\n" in g or (g.isdigit() and int(g) > ID_MAX):
            raise BockerError(f"invalid group: {g!r}")
    return list(groups)


def check_process(workdir, user, env):
    """-w, -u and -e as Docker checks them (run, create and exec), before anything is made."""
    if workdir and not workdir.startswith("/"):
        raise BockerError(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
    for part in (user or "").split(":"):
        if part.isdigit() and int(part) > ID_MAX:
            raise BockerError(f"invalid user: {user}: uids and gids are 0 to {ID_MAX}")
    for item in env:
        key = item.partition("=")[0]
        if not key or "\0" in item:
            raise BockerError(f"invalid environment variable: {item}")


def merge_env(env, items):
    """-e KEY=VALUE replaces KEY; -e KEY takes the value from bocker's environment (docker's rule)."""
    env = list(env)
    for item in items:
        key = item.partition("=")[0]
        if "=" not in item:
            if key not in os.environ:
                continue
            item = f"{key}={os.environ[key]}"
        env = [e for e in env if e.partition("=")[0] != key] + [item]
    return env


class RunOptions:
    """What a new container is asked to be (`run` and `create` flags; the builder's RUN, next).
    A plain class: importing dataclasses would cost ~25 ms on every command."""
    __slots__ = ("name", "env", "workdir", "user", "rm", "hostname", "entrypoint", "network", "aliases", "ip", "dns",
                 "memory", "cpus",
                 "pids_limit", "labels", "volumes", "volumes_from", "tmpfs", "tty", "interactive", "ports",
                 "log_max_size", "command", "memory_swap", "memory_reservation", "cpu_shares", "cpuset_cpus",
                 "cpuset_mems", "security", "stop_signal", "stop_timeout",
                 "restart", "healthcheck", "expose", "publish_all", "host_fields",
                 "domainname")

    def __init__(self, name=None, env=(), workdir=None, user=None, rm=False, hostname=None, entrypoint=None,
                 network="bridge", memory=0, cpus=0, pids_limit=0, labels=None, volumes=(), volumes_from=(),
                 tmpfs=(), tty=False, interactive=False, ports=(), log_max_size=None, command=(),
                 memory_swap=0, memory_reservation=0, cpu_shares=0, cpuset_cpus="", cpuset_mems="",
                 security=None, aliases=(), ip=None, dns=None, stop_signal=None, stop_timeout=None,
                 restart=None, healthcheck=None, expose=(), publish_all=False, host_fields=None,
                 domainname=""):
        self.expose = list(expose)  # --expose: "80/tcp" keys of Config.ExposedPorts
        self.aliases, self.ip = list(aliases), ip  # --network-alias, --ip: the network's endpoint
        self.dns = dict(dns or {})  # HostConfig's Dns, DnsSearch, DnsOptions, ExtraHosts
        self.name, self.env, self.workdir, self.user, self.rm = name, list(env), workdir, user, rm
        self.hostname, self.entrypoint, self.network = hostname, entrypoint, network
        self.memory, self.cpus, self.pids_limit = memory, cpus, pids_limit  # bytes, CPUs, count; 0: none
        self.memory_swap, self.memory_reservation = memory_swap, memory_reservation  # bytes; swap -1: unlimited
        self.cpu_shares, self.cpuset_cpus, self.cpuset_mems = cpu_shares, cpuset_cpus, cpuset_mems
        # HostConfig's security fields as Docker names them (Privileged, CapAdd, CapDrop,
        # SecurityOpt, ReadonlyRootfs, Ulimits, Sysctls, ShmSize, OomScoreAdj, Init, Devices, UsernsMode)
        self.security = dict(security or {})
        self.labels = dict(labels or {})
        self.volumes, self.volumes_from, self.tmpfs = list(volumes), list(volumes_from), list(tmpfs)
        self.tty, self.interactive = tty, interactive
        self.ports, self.publish_all = list(ports), publish_all  # network.ports bindings; -P
        self.log_max_size, self.command = log_max_size, list(command)  # None: the default size
        self.stop_signal, self.stop_timeout = stop_signal, stop_timeout  # None: the image's, or TERM and 10 s
        self.restart = restart or {"Name": "no", "MaximumRetryCount": 0}  # HostConfig.RestartPolicy
        self.healthcheck = healthcheck  # the --health-* flags' Config.Healthcheck (health.from_flags)
        # more HostConfig fields as Docker names them, over HOST_DEFAULTS (CpuPeriod, GroupAdd, PidMode ...)
        self.host_fields = dict(host_fields or {})
        self.domainname = domainname  # Config.Domainname (--domainname)


def make_record(cfg, cid, name, image_id, ref, opts):
    """The container's record, in the shape `docker inspect` shows."""
    from .network import ports
    image_cfg = images.config(cfg, image_id).get("config") or {}
    env = list(image_cfg.get("Env") or images.DEFAULT_ENV)
    if not any(e.startswith("PATH=") for e in env):
        env = images.DEFAULT_ENV + env
    uts_host = opts.host_fields.get("UTSMode") == "host"
    hostname = os.uname().nodename if uts_host else opts.hostname or cid[:12]
    env.append(f"HOSTNAME={hostname}")
    if opts.tty:
        env.append("TERM=xterm")
    env = merge_env(env, opts.env)
    entrypoint = image_cfg.get("Entrypoint")
    if opts.entrypoint is not None:
        entrypoint = [opts.entrypoint] if opts.entrypoint else None
    cmd = opts.command or (None if opts.entrypoint is not None else image_cfg.get("Cmd"))
    argv = list(entrypoint or []) + list(cmd or [])
    if not argv:
        raise BockerError("no command specified")
    return {
        "Id": cid, "Name": "/" + name, "Created": fmt.now_iso(), "Path": argv[0], "Args": argv[1:],
        "State": {"Status": "created", "Running": False, "Paused": False, "OOMKilled": False,
                  "Pid": 0, "ExitCode": 0, "StartedAt": "0001-01-01T00:00:00Z",
                  "FinishedAt": "0001-01-01T00:00:00Z"},
        "Image": image_id, "RestartCount": 0,
        "Config": {"Hostname": hostname, "Domainname": opts.domainname, "User": opts.user or image_cfg.get("User") or "",
                   "Tty": bool(opts.tty), "OpenStdin": bool(opts.interactive),
                   # the image's, --expose's and -p's container ports, as Docker records them
                   "ExposedPorts": {**(image_cfg.get("ExposedPorts") or {}), **{p: {} for p in opts.expose},
                                    **{f"{p['ContainerPort']}/{p['Proto']}": {} for p in opts.ports}} or None,
                   "Env": env, "Cmd": cmd, "Entrypoint": entrypoint, "Image": ref,
                   "WorkingDir": opts.workdir or image_cfg.get("WorkingDir") or "",
                   "Labels": dict(image_cfg.get("Labels") or {}, **opts.labels),
                   "StopSignal": opts.stop_signal or image_cfg.get("StopSignal"), "StopTimeout": opts.stop_timeout,
                   **_healthcheck(opts.healthcheck, image_cfg.get("Healthcheck"))},
        "HostConfig": {"NetworkMode": opts.network,
                       "Memory": opts.memory,
                       "NanoCpus": int(opts.cpus * 1e9),
                       "PidsLimit": opts.pids_limit, "AutoRemove": bool(opts.rm), "RestartPolicy": opts.restart,
                       "MemorySwap": opts.memory_swap, "MemoryReservation": opts.memory_reservation,
                       "CpuShares": opts.cpu_shares, "CpusetCpus": opts.cpuset_cpus, "CpusetMems": opts.cpuset_mems,
                       **_security_fields(opts.security), **HOST_DEFAULTS, **opts.host_fields,
                       "PortBindings": ports.to_record(opts.ports), "PublishAllPorts": bool(opts.publish_all),
                       "Dns": opts.dns.get("Dns") or [], "DnsSearch": opts.dns.get("DnsSearch") or [],
                       "DnsOptions": opts.dns.get("DnsOptions") or [],
                       "ExtraHosts": opts.dns.get("ExtraHosts") or None,
                       "LogConfig": {"Type": "bocker-file", "MaxSize": opts.log_max_size}},
        "NetworkSettings": {"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "Ports": {},
                            "Networks": {} if opts.network.startswith("container:") else {
                                opts.network: {"Aliases": opts.aliases or None,
                                               "IPAMConfig": {"IPv4Address": opts.ip} if opts.ip else None}}},
        "Mounts": [],
        "LogPath": cdir(cfg, cid, "container.log"),
        "GraphDriver": {"Name": "btrfs", "Data": {"Path": cdir(cfg, cid, "rootfs")}},
    }


HOST_DEFAULTS = {"CpuPeriod": 0, "CpuQuota": 0, "GroupAdd": None, "PidMode": "", "IpcMode": "private",
                 "UTSMode": ""}


def _healthcheck(given, image):
    """Config.Healthcheck: the flags' fields over the image's HEALTHCHECK; none if neither has one."""
    from . import health
    check = health.merge(given, image)
    return {"Healthcheck": check} if check else {}


def _security_fields(given):
    """Every security field of HostConfig, Docker's defaults where not given."""
    fields = {"Privileged": False, "CapAdd": None, "CapDrop": None, "SecurityOpt": None,
              "ReadonlyRootfs": False, "Ulimits": None, "Sysctls": {}, "ShmSize": 64 * 1024 * 1024,
              "OomScoreAdj": 0, "Init": False, "Devices": [], "UsernsMode": ""}
    fields.update(given)
    return fields


def check_host_config(cfg, rec):
    """Everything the container's start will need from its HostConfig, checked before anything is
    made: limits, security settings (the seccomp program is compiled now, once), remapping."""
    from . import cgroups, security, userns
    hc = rec["HostConfig"]
    cgroups.check_limits(cgroups.limits_of(hc))
    security.host_options(hc, cfg.root)
    if hc.get("UsernsMode") == "remap":
        userns.check_compatible(hc["NetworkMode"], hc.get("Privileged"))
        hc.update(userns.host_config(userns.mapping()[0]))


def volumes_from(cfg, refs):
    """--volumes-from CONTAINER[:ro|rw]: (that container's mounts, mode) for volumes.plan."""
    out = []
    for ref in refs:
        cref, _, mode = ref.partition(":")
        out.append((load(cfg, resolve(cfg, cref)).get("Mounts") or [], mode))
    return out


def check_name(name):
    if not NAME_RE.fullmatch(name):
        raise BockerError(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    if len(name) > 255:  # a file name (names/NAME) has no room for more
        raise BockerError(f"Invalid container name ({name[:20]}...): at most 255 characters")


def rename(cfg, ref, new):
    """A new name: claimed first (atomic, so it cannot be taken twice), then the record, then the
    old name let go. Running or not, as Docker's."""
    new = new[1:] if new.startswith("/") else new
    check_name(new)
    cid = resolve(cfg, ref)
    with store.lock(cdir(cfg, cid, ".lock")):
        rec = load(cfg, cid)
        old = rec["Name"][1:]
        if new == old:
            raise BockerError("Renaming a container with the same name as its current name")
        _claim_name(cfg, new, cid)
        rec["Name"] = "/" + new
        save(cfg, rec)
        unlink(cfg.path("names", old))
    events.container(cfg, "rename", rec, oldName="/" + old)


def create(cfg, ref, opts):
    """Snapshot the image and write the record; returns the record. Undone if any step fails."""
    image_id = images.resolve(cfg, ref)
    name = opts.name
    if name is not None:
        check_name(name)
    check_process(opts.workdir, opts.user, opts.env)
    from . import userns, volumes
    cid = os.urandom(32).hex()
    name = name or _new_name(cfg)
    rec = make_record(cfg, cid, name, image_id, ref, opts)
    check_host_config(cfg, rec)
    rec["Mounts"] = volumes.plan(cfg, opts, images.config(cfg, image_id).get("config") or {},
                                 shared=volumes_from(cfg, opts.volumes_from))
    undo = []
    try:
        with shell.step("create", "create: a writable snapshot of the image, the record, a unique name"):
            name = _claim(cfg, rec, name, cid, generated=opts.name is None)
            undo.append(lambda: unlink(cfg.path("names", name)))
            shell.do(f"mkdir {cdir(cfg, cid)}", os.mkdir, cdir(cfg, cid))
            undo.append(lambda: _rmtree(cdir(cfg, cid)))
            store.snapshot(images.rootfs(cfg, image_id), cdir(cfg, cid, "rootfs"))
            undo.append(lambda: store.delete_subvolume(cdir(cfg, cid, "rootfs")))
            volumes.materialize(cfg, rec["Mounts"], cdir(cfg, cid, "rootfs"), undo, remap=userns.base_of(rec))
            save(cfg, rec)
    except BaseException:
        rollback(undo)
        raise
    events.container(cfg, "create", rec)
    return rec


def rollback(undo):
    """Undo the steps done so far, newest first; an undo that fails is said (it may have left
    something behind), and the others still run."""
    for fn in reversed(undo):
        try:
            fn()
        except Exception as e:
            shell.warn(f"could not undo a step: {e}")


def unlink(path):
    shell.do(f"rm -f {shell.quote(path)}", lambda: os.path.lexists(path) and os.unlink(path))


def _rmtree(path):
    shell.do(f"rm -rf {shell.quote(path)}", _remove_dir, path)


def _discard(path, gone):
    import errno
    try:
        os.rename(path, gone)
    except FileNotFoundError:
        pass
    for _ in range(100):  # a writer may still be closing a file in it
        try:
            return _remove_dir(gone)
        except OSError as e:
            if e.errno != errno.ENOTEMPTY:
                raise
            time.sleep(0.01)


def _remove_dir(path):
    """rm -rf of a container directory (only files are left once its rootfs is deleted);
    shutil would cost 2 ms of imports on every `run --rm`."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            _remove_dir(p)
        else:
            os.unlink(p)
    os.rmdir(path)


# --- what start made and remove (or the exit) gives back ----------------------------------

def published(rec):
    """The ports the running container publishes (NetworkSettings.Ports, what its start chose)
    as network.ports.parse_port() dicts."""
    from .network import ports
    return ports.from_record(rec["NetworkSettings"].get("Ports"))


def bocker_argv(cfg, *args):
    """How a child process calls bocker back (the detached container's monitor, at exit)."""
    from .config import REPO
    return [runtime.PYTHON, "-IS", os.path.join(REPO, "bocker.py"), "--root", cfg.root, *args]


def bocker_line(cfg, *args):
    """bocker called back from a dry-run script, with this store's settings."""
    env = f"BOCKER_BRIDGE={cfg.bridge} BOCKER_SUBNET={cfg.subnet} "
    return env + " ".join(shell.quote(a) for a in bocker_argv(cfg, *args))


def release_network(cfg, rec):
    """Give back the addresses and remove the port rules (the netns went with the process, and
    its veths with it, unless a container sharing it still runs: they are deleted)."""
    from . import network
    from .network import bridge, ipam
    mode = rec["HostConfig"]["NetworkMode"]
    if mode in ("host", "none") or mode.startswith("container:"):
        return
    for index, (name, endpoint) in enumerate((rec["NetworkSettings"].get("Networks") or {}).items()):
        try:
            net = network.get(cfg, name)
        except BockerError:  # removed while the container was stopped (Docker allows it)
            continue
        if shell.dry_run:
            shell.script(bocker_line(cfg, "_release", "--network", net.name, rec["Id"]))
            continue
        if index == 0:
            unpublish_ports(cfg, rec, net)
        bridge.detach(net, rec["Id"])
        ipam.release(net, rec["Id"], endpoint.get("IPAddress"))


def unpublish_ports(cfg, rec, net):
    """Remove the DNAT rules of the container's published ports (on its eth0's network)."""
    from .network import ports
    ip = rec["NetworkSettings"].get("IPAddress")
    if ip:
        ports.unpublish(net, published(rec), ip)
    rec["NetworkSettings"]["Ports"] = {}


# --- remove -----------------------------------------------------------------------------

def _kill(cfg, rec, sig=9, wait=True):
    """Signal the container's PID 1 (and wait for it to go)."""
    st = state(cfg, rec)
    if st["Status"] not in ("running", "paused"):
        return
    if st["Status"] == "paused":  # a frozen process does not die until thawed
        from . import cgroups
        cgroups.freeze(cfg, rec["Id"], False)
    shell.run(["kill", f"-{sig}", str(st["Pid"])], check=False)
    while wait and not shell.dry_run and runtime.alive(st["Pid"], st.get("PidStartTime")):
        time.sleep(0.005)


def remove(cfg, ref, force=False, volumes=False):
    """rm: refuses a running container unless force (SIGKILL first); removes everything
    (and, with `volumes`, its anonymous volumes)."""
    cid = resolve(cfg, ref)
    with store.lock(cdir(cfg, cid, ".lock")):
        remove_record(cfg, load(cfg, cid), force, volumes=volumes)
    return cid


def remove_record(cfg, rec, force=False, released=False, volumes=False):
    """Remove a container given its record; `released`: record_exit() already freed cgroup and address."""
    from . import cgroups
    from . import volumes as vols
    cid = rec["Id"]
    if not shell.dry_run and not os.path.isdir(cdir(cfg, cid)):  # removed already (--rm, by its monitor)
        return
    shell.lap("wait+record")
    status = state(cfg, rec)["Status"]
    if status == "restarting":
        if not force:
            raise BockerError(f"You cannot remove a restarting container {cid}. Stop the container before "
                              f"attempting removal or force remove")
        cancel_restart(cfg, rec)
    if status in ("running", "paused"):
        if not force:
            raise BockerError(f"cannot remove container {rec['Name'][1:]}: container is running: "
                              f"stop the container before removing or force remove")
        _kill(cfg, rec)
    if not released and rec["State"]["Status"] in ("running", "paused"):
        cgroups.delete(cfg, cid)
        release_network(cfg, rec)
    rootfs = cdir(cfg, cid, "rootfs")
    if shell.dry_run or os.path.exists(rootfs):
        store.delete_subvolume(rootfs)
    unlink(cfg.path("names", rec["Name"][1:]))
    gone = cfg.path("containers", f".removed-{cid}")
    # out of sight first (one rename): a monitor or log writer still finishing can no longer
    # create files in it, and listings skip it
    shell.do(f"mv {shell.quote(cdir(cfg, cid))} {shell.quote(gone)} && rm -rf {shell.quote(gone)}",
             _discard, cdir(cfg, cid), gone)
    if volumes or rec["HostConfig"].get("AutoRemove"):  # docker: --rm takes anonymous volumes too
        others = all_records(cfg)
        for m in rec.get("Mounts") or []:
            # (one another container still mounts, through --volumes-from, stays)
            if m.get("Anonymous") and m.get("Name") and not vols.users(m["Name"], others):
                vols.remove(cfg, m["Name"], others, force=True)
    events.container(cfg, "destroy", rec)
    shell.lap("remove")


# --- listing, commit -------------------------------------------------------------------

def ids(cfg):
    """Container ids (not the directories of containers being removed, .removed-ID)."""
    return [c for c in os.listdir(cfg.path("containers")) if not c.startswith(".")]


def all_records(cfg):
    out = []
    base = cfg.path("containers")
    for cid in ids(cfg):
        try:
            out.append(store.read_json(os.path.join(base, cid, "config.json")))
        except (FileNotFoundError, NotADirectoryError, ValueError):
            continue
    return out


PS_FILTERS = ("status", "name", "id", "ancestor", "label", "exited", "before", "since", "publish",
              "expose", "volume", "network", "health")


def parse_filters(items):
    """--filter KEY=VALUE (repeatable) -> {key: [values]}: same key ORs, different keys AND."""
    filters = fmt.parse_filters(items, PS_FILTERS)
    for code in filters.get("exited", []):
        if not code.lstrip("-").isdigit():
            raise BockerError(f"invalid filter 'exited={code}': an exit code")
    for health in filters.get("health", []):
        if health not in ("starting", "healthy", "unhealthy", "none"):
            raise BockerError(f"invalid filter 'health={health}': starting, healthy, unhealthy or none")
    return filters


def _matches(cfg, rec, st, filters):
    from .network import ports
    labels = rec["Config"].get("Labels") or {}

    def label_ok(v):
        k, eq, val = v.partition("=")
        return k in labels and (not eq or labels[k] == val)
    tests = {"status": lambda v: st["Status"] == v,
             "name": lambda v: re.search(v, rec["Name"][1:]) is not None,
             "id": lambda v: rec["Id"].startswith(v),
             "ancestor": lambda v: rec["Config"]["Image"] == v or rec["Image"].startswith(v)
             or _image_id_or_none(cfg, v) == rec["Image"],
             "label": label_ok,
             "exited": lambda v: st["Status"] == "exited" and st["ExitCode"] == int(v),
             "before": lambda v: rec["Created"] < load(cfg, resolve(cfg, v))["Created"],
             "since": lambda v: rec["Created"] > load(cfg, resolve(cfg, v))["Created"],
             "publish": lambda v: _port_match(v, ports.from_record(rec["HostConfig"].get("PortBindings"))),
             "expose": lambda v: _port_match(v, [{"ContainerPort": int(k.partition("/")[0]),
                                                  "Proto": k.partition("/")[2] or "tcp"}
                                                 for k in rec["Config"].get("ExposedPorts") or {}]),
             "volume": lambda v: any(v in (m.get("Name"), m.get("Source"), m.get("Destination"))
                                     for m in rec.get("Mounts") or []),
             "network": lambda v: v in (rec["NetworkSettings"].get("Networks") or {})
             or rec["HostConfig"].get("NetworkMode") == v,
             "health": lambda v: ((st.get("Health") or {}).get("Status") or "none") == v}
    # docker: values of one key are alternatives, except labels, which must all match
    return all((all if k == "label" else any)(tests[k](v) for v in values) for k, values in filters.items())


def _port_match(spec, bindings):
    """ps --filter publish=PORT[-END][/PROTO]: a published container port in the range."""
    port, _, proto = spec.partition("/")
    first, _, last = port.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        raise BockerError(f"invalid filter 'publish={spec}'")
    return any(first and int(first) <= b["ContainerPort"] <= int(last or first) and b["Proto"] == (proto or "tcp")
               for b in bindings)


def _image_id_or_none(cfg, ref):
    try:
        return images.resolve(cfg, ref)
    except BockerError:
        return None


def _ps_extra(rec):
    """docker ps's Mounts, Networks and LocalVolumes fields (strings and a count, as Docker's)."""
    mounts = rec.get("Mounts") or []
    return {"Mounts": ",".join(m.get("Name") or m.get("Source") or m["Destination"] for m in mounts),
            "Networks": ",".join(sorted(rec["NetworkSettings"].get("Networks") or {})),
            "LocalVolumes": str(sum(1 for m in mounts if m.get("Type") == "volume"))}


def ps_rows(cfg, all_=False, filters=None):
    """One dict per container with docker ps's fields, newest first."""
    from .network import ports
    rows = []
    for rec in all_records(cfg):
        st = state(cfg, rec)
        if not all_ and st["Status"] not in ("running", "paused", "restarting"):
            continue
        if filters and not _matches(cfg, rec, st, filters):
            continue
        rec["State"] = st
        command = " ".join([rec["Path"]] + rec["Args"])
        rows.append({"ID": rec["Id"], "Image": rec["Config"]["Image"], "Command": command,
                     "CreatedAt": rec["Created"], "RunningFor": fmt.ago(rec["Created"]),
                     "State": st["Status"], "Status": status_text(st),
                     "Ports": ports.ports_text(rec["NetworkSettings"].get("Ports"))
                     if st["Status"] in ("running", "paused") else "", "Names": rec["Name"][1:], "Labels": rec["Config"].get("Labels") or {}, **_ps_extra(rec)})
    rows.sort(key=lambda r: r["CreatedAt"], reverse=True)
    return rows


def writable_size(cfg, cid):
    """What the container wrote (ps -s's SIZE): the bytes of the extents its rootfs snapshot
    gained since it was made (`btrfs subvolume find-new` from its creation generation)."""
    import re
    rootfs = cdir(cfg, cid, "rootfs")
    shell.run(["btrfs", "filesystem", "sync", rootfs], check=False)
    show = shell.run(["btrfs", "subvolume", "show", rootfs], capture=True)
    gen = re.search(r"Gen at creation:\s*(\d+)", show or "")
    if not gen:
        return 0
    new = shell.run(["btrfs", "subvolume", "find-new", rootfs, str(int(gen[1]) + 1)], capture=True)
    return sum(int(n) for n in re.findall(r" len (\d+) ", new or ""))


def commit(cfg, ref, tag=None, message="", author="", changes=()):
    """Snapshot the container's rootfs into a new read-only image (O(1)) with its config and its
    layer (what changed, found by btrfs send: its id is final)."""
    cid = resolve(cfg, ref)
    rec = load(cfg, cid)
    try:
        parent = images.config(cfg, rec["Image"])
    except FileNotFoundError:  # its image was removed (rmi -f): the container's config is enough
        parent = None
    runtime_cfg = dict((parent or {}).get("config") or {})
    c = rec["Config"]
    runtime_cfg.update(Env=[e for e in c["Env"] if not e.startswith("HOSTNAME=")], Cmd=c["Cmd"],
                       Entrypoint=c["Entrypoint"], WorkingDir=c["WorkingDir"], User=c["User"],
                       Labels=c.get("Labels") or {})
    for change in changes:
        imageconfig.apply(runtime_cfg, change)
    # CREATED BY as Docker's commit writes it: the container's command
    new = images.new_config(runtime_cfg, parent, created_by=" ".join(c["Cmd"] or []), comment=message)
    if author:
        new["author"] = author
    if tag:
        tag = images.normalize(tag)
        if not images.valid_ref(tag):
            raise BockerError(f"invalid reference format: '{tag}'")
    from . import layerstore  # (not at the top: `run` need not load the layer and registry code)
    return layerstore.register(cfg, cdir(cfg, cid, "rootfs"), new, tag=tag,
                               parent=rec["Image"] if parent else None)

"""Container records and lifecycle: create, start, wait, run, rm, ps, logs, commit.

containers/<id>/rootfs/         writable snapshot of the image
containers/<id>/config.json     the record (docker inspect's shape)
containers/<id>/container.log   stdout+stderr, one stamped line per line (see logs.py)
names/<name> -> <id>            symlink: names are unique because symlink creation is atomic
"""
import os
import re
import time

from . import BockerError, fmt, imageconfig, images, runtime, shell, store

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
        raise BockerError(f"No such container: {cid}")


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
    raise BockerError(f"No such container: {ref}")


# --- state, as seen now ---------------------------------------------------------------

def state(cfg, rec):
    """The record's state, corrected by the truth: a 'running' container whose process is gone
    (pid dead, or pid reused: start time differs) shows as exited."""
    st = rec["State"]
    if st["Status"] in ("running", "paused") and not runtime.alive(st.get("Pid"), st.get("PidStartTime")):
        st = dict(st, Status="exited", Running=False, Pid=0)
        code = _read_exit_file(cfg, rec["Id"])
        st["ExitCode"] = 255 if code is None else code
        st["FinishedAt"] = st.get("FinishedAt") or fmt.now_iso()
    return st


def _read_exit_file(cfg, cid):
    try:
        with open(cdir(cfg, cid, "exitcode")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def status_text(st):
    if st["Status"] == "running":
        return "Up " + fmt.human_duration(time.time() - fmt.parse_iso(st["StartedAt"]))
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
    __slots__ = ("name", "env", "workdir", "user", "rm", "hostname", "entrypoint", "network", "memory", "cpus",
                 "pids_limit", "labels", "volumes", "volumes_from", "tmpfs", "tty", "interactive", "ports",
                 "log_max_size", "command")

    def __init__(self, name=None, env=(), workdir=None, user=None, rm=False, hostname=None, entrypoint=None,
                 network="bridge", memory=0, cpus=0, pids_limit=0, labels=None, volumes=(), volumes_from=(),
                 tmpfs=(), tty=False, interactive=False, ports=(), log_max_size=None, command=()):
        self.name, self.env, self.workdir, self.user, self.rm = name, list(env), workdir, user, rm
        self.hostname, self.entrypoint, self.network = hostname, entrypoint, network
        self.memory, self.cpus, self.pids_limit = memory, cpus, pids_limit  # bytes, CPUs, count; 0: none
        self.labels = dict(labels or {})
        self.volumes, self.volumes_from, self.tmpfs = list(volumes), list(volumes_from), list(tmpfs)
        self.tty, self.interactive = tty, interactive
        self.ports = list(ports)  # network.ports.parse_port() dicts
        self.log_max_size, self.command = log_max_size, list(command)  # None: the default size


def make_record(cfg, cid, name, image_id, ref, opts):
    """The container's record, in the shape `docker inspect` shows."""
    image_cfg = images.config(cfg, image_id).get("config") or {}
    env = list(image_cfg.get("Env") or images.DEFAULT_ENV)
    if not any(e.startswith("PATH=") for e in env):
        env = images.DEFAULT_ENV + env
    hostname = opts.hostname or cid[:12]
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
        "Image": image_id,
        "Config": {"Hostname": hostname, "User": opts.user or image_cfg.get("User") or "",
                   "Tty": bool(opts.tty), "OpenStdin": bool(opts.interactive),
                   "Env": env, "Cmd": cmd, "Entrypoint": entrypoint, "Image": ref,
                   "WorkingDir": opts.workdir or image_cfg.get("WorkingDir") or "",
                   "Labels": dict(image_cfg.get("Labels") or {}, **opts.labels)},
        "HostConfig": {"NetworkMode": opts.network,
                       "Memory": opts.memory,
                       "NanoCpus": int(opts.cpus * 1e9),
                       "PidsLimit": opts.pids_limit, "AutoRemove": bool(opts.rm),
                       "PortBindings": opts.ports,
                       "LogConfig": {"Type": "bocker-file", "MaxSize": opts.log_max_size}},
        "NetworkSettings": {"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "Ports": {}},
        "Mounts": [],
        "LogPath": cdir(cfg, cid, "container.log"),
        "GraphDriver": {"Name": "btrfs", "Data": {"Path": cdir(cfg, cid, "rootfs")}},
    }


def create(cfg, ref, opts):
    """Snapshot the image and write the record; returns the record. Undone if any step fails."""
    image_id = images.resolve(cfg, ref)
    name = opts.name
    if name is not None and not NAME_RE.fullmatch(name):
        raise BockerError(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    from . import volumes
    cid = os.urandom(32).hex()
    name = name or _new_name(cfg)
    rec = make_record(cfg, cid, name, image_id, ref, opts)
    rec["Mounts"] = volumes.plan(cfg, opts, images.config(cfg, image_id).get("config") or {})
    undo = []
    try:
        with shell.step("create", "create: a writable snapshot of the image, the record, a unique name"):
            _claim_name(cfg, name, cid)
            undo.append(lambda: _unlink(cfg.path("names", name)))
            shell.do(f"mkdir {cdir(cfg, cid)}", os.mkdir, cdir(cfg, cid))
            undo.append(lambda: _rmtree(cdir(cfg, cid)))
            store.snapshot(images.rootfs(cfg, image_id), cdir(cfg, cid, "rootfs"))
            undo.append(lambda: store.delete_subvolume(cdir(cfg, cid, "rootfs")))
            volumes.materialize(cfg, rec["Mounts"], cdir(cfg, cid, "rootfs"), undo)
            save(cfg, rec)
    except BaseException:
        _rollback(undo)
        raise
    return rec


def _rollback(undo):
    """Undo the steps done so far, newest first; an undo that fails is said (it may have left
    something behind), and the others still run."""
    for fn in reversed(undo):
        try:
            fn()
        except Exception as e:
            shell.warn(f"could not undo a step: {e}")


def _unlink(path):
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


# --- start / wait -------------------------------------------------------------------------

def _bocker_argv(cfg, *args):
    """How a child process calls bocker back (the detached container's monitor, at exit)."""
    from .config import REPO
    return [runtime.PYTHON, "-IS", os.path.join(REPO, "bocker.py"), "--root", cfg.root, *args]


def start(cfg, rec, stdin=None, stdout=None, stderr=None, detach=False):
    """Network, cgroup, launch; on return the command runs (or is about to) as PID 1.
    Detached: a shell monitor waits for it and records its exit. Returns the Launch.
    Everything made here is undone if a step fails."""
    from . import cgroups, network
    from .network import bridge, dns, ipam, ports
    cid = rec["Id"]
    rootfs = cdir(cfg, cid, "rootfs")
    mode = rec["HostConfig"]["NetworkMode"]
    net = network.get(cfg, mode)
    undo = []
    try:
        with shell.step("network", f"network ({mode}): address, /etc files"):
            ip = None
            if net.driver == "bridge":
                if not bridge.exists(net):  # first container: bridge and chains
                    bridge.setup(net)
                ip = _script_lease(cfg, cid) if shell.dry_run else ipam.lease(net, cid)
                undo.append(lambda: ipam.release(net, cid))
                address = {"IPAddress": ip, "Gateway": str(net.gateway), "IPPrefixLen": net.subnet.prefixlen}
                # docker's shape: the top-level fields (read by records older than Networks too)
                # and one entry per network the container is on
                rec["NetworkSettings"].update(address, Networks={net.name: dict(address, Aliases=None)})
                bindings = rec["HostConfig"].get("PortBindings") or []
                _check_ports_free(cfg, rec)
                ports.publish(net, bindings, ip)
                undo.append(lambda: ports.unpublish(net, bindings, ip))
            dns.write_etc(rootfs, rec["Config"]["Hostname"], ip, mode)
        with shell.step("cgroup", "cgroup: the container's own, with its limits"):
            hc = rec["HostConfig"]
            cgroups.create(cfg, cid, {"memory": hc["Memory"], "cpus": hc["NanoCpus"] / 1e9,
                                      "pids": hc["PidsLimit"]})
            undo.append(lambda: cgroups.delete(cfg, cid))
        monitor = None
        if detach:
            exit_file = cdir(cfg, cid, "exitcode")
            _unlink(exit_file)
            fifo = None
            if not rec["Config"].get("Tty"):
                fifo = cdir(cfg, cid, "log.fifo")
                _unlink(fifo)
                shell.do(f"mkfifo {shell.quote(fifo)}", os.mkfifo, fifo, 0o600)
            monitor = runtime.monitor_script(exit_file, fifo, cdir(cfg, cid, "container.log"),
                                             log_max_size(rec), _bocker_argv(cfg, "_exited", cid))
        with shell.step("launch", "launch: new namespaces; init.py joins the cgroup, waits for the host"):
            handle = runtime.launch(cfg, rec, rootfs, cdir(cfg, cid), stdin=stdin, stdout=stdout,
                                    stderr=stderr, monitor=monitor)
            undo.append(handle.abort)
        if net.driver == "bridge":
            with shell.step("veth", "veth pair: one end on the bridge, eth0 made inside the netns"):
                bridge.attach(net, cid, handle.pid)
        if not shell.dry_run:  # a dry-run script leaves the record as created
            rec["State"].update(Status="running", Running=True, Paused=False, Pid=handle.pid,
                                ExitCode=0, OOMKilled=False, StartedAt=fmt.now_iso(),
                                FinishedAt="0001-01-01T00:00:00Z",
                                PidStartTime=runtime.pid_start_time(handle.pid),
                                MonitorPid=handle.proc.pid if detach else os.getpid())
            save(cfg, rec)
        runtime.trace_init(handle.argv)
        handle.go()
    except BaseException:
        _rollback(undo)
        raise
    return handle


def _check_ports_free(cfg, rec):
    """A host port goes to one running container at a time."""
    mine = {(p["HostPort"], p["Proto"]) for p in rec["HostConfig"].get("PortBindings") or []}
    if not mine:
        return
    for other in all_records(cfg):
        if other["Id"] != rec["Id"] and state(cfg, other)["Status"] in ("running", "paused"):
            for p in other["HostConfig"].get("PortBindings") or []:
                if (p["HostPort"], p["Proto"]) in mine:
                    raise BockerError(f"Bind for {p['HostIp']}:{p['HostPort']} failed: "
                                      f"port is already allocated")


def _bocker_line(cfg, *args):
    """bocker called back from a dry-run script, with this store's settings."""
    env = f"BOCKER_BRIDGE={cfg.bridge} BOCKER_SUBNET={cfg.subnet} "
    return env + " ".join(shell.quote(a) for a in _bocker_argv(cfg, *args))


def _script_lease(cfg, cid):
    """In a dry-run script, the address is leased when the script runs (IPAM is bocker's
    bookkeeping: a script that picked one now could collide with a later container)."""
    shell.script(f"ip=$({_bocker_line(cfg, '_lease', cid)})")
    return str(shell.Var("ip"))


def _release_network(cfg, rec):
    """Give back the address and remove the port rules (the netns went with the process)."""
    from . import network
    from .network import ipam, ports
    net = network.get(cfg, rec["HostConfig"]["NetworkMode"])
    if net.driver != "bridge":
        return
    if shell.dry_run:
        shell.script(_bocker_line(cfg, "_release", rec["Id"]))
        return
    ip = rec["NetworkSettings"].get("IPAddress")
    if ip and rec["HostConfig"].get("PortBindings"):
        ports.unpublish(net, rec["HostConfig"]["PortBindings"], ip)
    ipam.release(net, rec["Id"])


def record_exit(cfg, rec, code):
    """After the container's PID 1 exited: record code and time, release its cgroup and address.
    Idempotent: the monitor, `stop` and `rm` may all get here."""
    from . import cgroups
    cid = rec["Id"]
    with shell.step("teardown", "teardown: the netns (and eth0 with it) died with the container"):
        oom = cgroups.oom_killed(cfg, cid)
        cgroups.delete(cfg, cid)
        _release_network(cfg, rec)
        if not shell.dry_run and rec["State"]["Status"] in ("running", "paused"):
            rec["State"].update(Status="exited", Running=False, Paused=False, Pid=0, ExitCode=code,
                                OOMKilled=oom, FinishedAt=fmt.now_iso())
            save(cfg, rec)


def exited(cfg, cid):
    """Called by a detached container's monitor when the container has exited."""
    try:
        with store.lock(cdir(cfg, cid, ".lock")):
            rec = load(cfg, cid)
            code = _read_exit_file(cfg, cid)
            record_exit(cfg, rec, 255 if code is None else code)
            if rec["HostConfig"].get("AutoRemove"):
                remove_record(cfg, rec, force=True, released=True)
    except (FileNotFoundError, BockerError):  # removed meanwhile (rm -f): nothing left to record
        pass


def attach(cfg, rec, handle):
    """Foreground: output to the terminal and the log, signals forwarded; returns the exit code."""
    if shell.dry_run:
        shell.script("wait $launcher; status=$?")
        record_exit(cfg, rec, None)
        return shell.Var("status")
    runtime.forward_signals(handle.pid)
    with shell.step("run"):
        runtime.copy_output(handle.proc, _log_writer(cfg, rec))
        code = runtime.exit_code(handle.proc.wait())
    record_exit_locked(cfg, rec, code)
    return code


def record_exit_locked(cfg, rec, code):
    """record_exit under the container's lock; nothing to do if it was removed meanwhile (rm -f)."""
    try:
        with store.lock(cdir(cfg, rec["Id"], ".lock")):
            record_exit(cfg, rec, code)
    except FileNotFoundError:
        pass


def log_max_size(rec):
    from . import logs
    size = (rec["HostConfig"].get("LogConfig") or {}).get("MaxSize")
    return logs.DEFAULT_MAX_SIZE if size is None else size


def _log_writer(cfg, rec):
    from . import logs
    return logs.Writer(cdir(cfg, rec["Id"], "container.log"), log_max_size(rec))


def run_foreground(cfg, rec, interactive=False):
    """start + attach, as `bocker run` without -d (and `start -a`)."""
    import subprocess
    if rec["Config"].get("Tty") and not shell.dry_run:
        from . import terminal
        master, slave = terminal.open_pty()
        try:
            handle = start(cfg, rec, stdin=slave, stdout=slave, stderr=slave)
        finally:
            os.close(slave)
        with shell.step("run"):
            code = runtime.exit_code(terminal.relay(master, handle.proc, _log_writer(cfg, rec), interactive))
        record_exit_locked(cfg, rec, code)
        return code
    pipe = None if shell.dry_run else subprocess.PIPE
    handle = start(cfg, rec, stdin=None if interactive else subprocess.DEVNULL, stdout=pipe, stderr=pipe)
    return attach(cfg, rec, handle)


def run_detached(cfg, rec):
    """start with a monitor: output to the log only; returns at once.
    With -t, a forked copier holds the pty and writes its output to the log."""
    if shell.dry_run:
        return start(cfg, rec, detach=True)
    import subprocess
    log_path = cdir(cfg, rec["Id"], "container.log")
    if rec["Config"].get("Tty"):
        from . import terminal
        master, slave = terminal.open_pty()
        try:
            start(cfg, rec, stdin=slave, stdout=slave, stderr=slave, detach=True)
        finally:
            os.close(slave)
        terminal.keep_logging(master, log_path, log_max_size(rec))
        return
    handle = start(cfg, rec, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   detach=True)
    failed = handle.exec_status()
    if failed:  # docker run -d reports a command that cannot run, with its exit code
        raise BockerError(failed[1], code=failed[0])


def startable(cfg, cid):
    """Under the container's lock: its record ready for start, or None if it runs already.
    A run whose exit nobody recorded (its monitor died) is recorded first, freeing what it held."""
    rec = load(cfg, cid)
    st = state(cfg, rec)
    if st["Status"] in ("running", "paused"):
        return None
    if rec["State"]["Status"] in ("running", "paused"):
        record_exit(cfg, rec, st["ExitCode"])
    rec["State"]["Status"] = "created"
    return rec


def running_record(cfg, ref):
    """The record of a container that must be running (exec, kill, pause): 125 otherwise."""
    rec = load(cfg, resolve(cfg, ref))
    rec["State"] = state(cfg, rec)
    if rec["State"]["Status"] not in ("running", "paused"):
        raise BockerError(f"container {rec['Id'][:12]} is not running")
    return rec


def signal_number(sig):
    import signal as signals
    s = str(sig).upper()
    if s.isdigit():
        return int(s)
    try:
        return int(getattr(signals, s if s.startswith("SIG") else "SIG" + s))
    except AttributeError:
        raise BockerError(f"invalid signal: {sig}")


def send_signal(cfg, ref, sig="KILL"):
    rec = running_record(cfg, ref)
    shell.run(["kill", f"-{signal_number(sig)}", str(rec["State"]["Pid"])])
    return rec


def wait_exit(cfg, cid, timeout=None):
    """Poll until the container has exited and its exit is recorded; returns its exit code."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = None  # the exit code file, read while it exists: --rm removes it with the record
    while True:
        try:
            rec = load(cfg, cid)
        except BockerError:  # removed at exit (--rm): its last known exit code
            return 0 if seen is None else seen
        seen = _read_exit_file(cfg, cid) if seen is None else seen
        st = state(cfg, rec)
        if st["Status"] not in ("running", "paused"):
            monitor = rec["State"].get("MonitorPid")
            if rec["State"]["Status"] in ("running", "paused") and monitor and _pid_alive(monitor) \
                    and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.01)  # the monitor is recording the exit
                continue
            return st["ExitCode"]
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop(cfg, ref, timeout=10, sig="TERM"):
    """SIGTERM, wait `timeout` seconds, then SIGKILL; the exit is recorded."""
    cid = resolve(cfg, ref)
    rec = load(cfg, cid)
    st = state(cfg, rec)
    if st["Status"] not in ("running", "paused"):
        return
    if st["Status"] == "paused":
        pause(cfg, cid, False)
    shell.run(["kill", f"-{signal_number(sig)}", str(st["Pid"])], check=False)
    if wait_exit(cfg, cid, timeout) is None:
        shell.run(["kill", "-9", str(st["Pid"])], check=False)
        wait_exit(cfg, cid, 5)
    _reap(cfg, cid)


def _reap(cfg, cid):
    """If nobody is left to record a container's exit (its monitor died), record it now."""
    try:
        with store.lock(cdir(cfg, cid, ".lock")):
            rec = load(cfg, cid)
            st = state(cfg, rec)
            if rec["State"]["Status"] in ("running", "paused") and st["Status"] == "exited":
                monitor = rec["State"].get("MonitorPid")
                if not monitor or not _pid_alive(monitor) or monitor == os.getpid():
                    record_exit(cfg, rec, st["ExitCode"])
    except (FileNotFoundError, BockerError):  # removed at exit (--rm) or meanwhile
        pass


def pause(cfg, ref, frozen=True):
    """Freeze (or thaw) every process of the container: the freezer cgroup."""
    from . import cgroups
    rec = running_record(cfg, ref)
    if (rec["State"]["Status"] == "paused") == frozen:
        raise BockerError(f"container {rec['Id'][:12]} is {'already' if frozen else 'not'} paused")
    cgroups.freeze(cfg, rec["Id"], frozen)
    with store.lock(cdir(cfg, rec["Id"], ".lock")):
        rec = load(cfg, rec["Id"])
        rec["State"].update(Status="paused" if frozen else "running", Paused=frozen)
        save(cfg, rec)


def exec_in(cfg, ref, command, workdir=None, user=None, env=(), interactive=False, detach=False, tty=False):
    """Run a command inside a running container; returns its exit code."""
    import subprocess
    rec = running_record(cfg, ref)
    if rec["State"]["Status"] == "paused":
        raise BockerError(f"container {rec['Id'][:12]} is paused, unpause the container before exec")
    c = rec["Config"]
    merged = merge_env(c["Env"], env)
    if tty:
        merged.append("TERM=xterm")
    argv = runtime.exec_argv(cfg, rec, command, workdir or c.get("WorkingDir"), user or c.get("User"),
                             merged, tty=tty and not detach)
    runtime.trace_init(argv)
    if tty and not detach and not shell.dry_run:
        from . import terminal
        master, slave = terminal.open_pty(f"/proc/{rec['State']['Pid']}/root")
        try:
            proc = shell.spawn(argv, "exec", stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        finally:
            os.close(slave)
        return runtime.exit_code(terminal.relay(master, proc, None, interactive))
    if detach:
        shell.spawn(argv, "exec", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True)
        return 0
    proc = shell.spawn(argv, "exec", stdin=None if interactive else subprocess.DEVNULL)
    if shell.dry_run:
        shell.script("wait $exec")
        return 0
    runtime.forward_signals(proc.pid)
    return runtime.exit_code(proc.wait())


# --- remove -----------------------------------------------------------------------------

def kill(cfg, rec, sig=9, wait=True):
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
    shell.lap("wait+record")
    if state(cfg, rec)["Status"] in ("running", "paused"):
        if not force:
            raise BockerError(f"cannot remove container {rec['Name'][1:]}: container is running: "
                              f"stop the container before removing or force remove")
        kill(cfg, rec)
    if not released and rec["State"]["Status"] in ("running", "paused"):
        cgroups.delete(cfg, cid)
        _release_network(cfg, rec)
    rootfs = cdir(cfg, cid, "rootfs")
    if shell.dry_run or os.path.exists(rootfs):
        store.delete_subvolume(rootfs)
    _unlink(cfg.path("names", rec["Name"][1:]))
    gone = cfg.path("containers", f".removed-{cid}")
    # out of sight first (one rename): a monitor or log writer still finishing can no longer
    # create files in it, and listings skip it
    shell.do(f"mv {shell.quote(cdir(cfg, cid))} {shell.quote(gone)} && rm -rf {shell.quote(gone)}",
             _discard, cdir(cfg, cid), gone)
    if volumes or rec["HostConfig"].get("AutoRemove"):  # docker: --rm takes anonymous volumes too
        for m in rec.get("Mounts") or []:
            if m.get("Anonymous") and m.get("Name"):
                vols.remove(cfg, m["Name"], force=True)
    shell.lap("remove")


# --- listing, logs, commit -------------------------------------------------------------

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


def parse_filters(items):
    """--filter KEY=VALUE (repeatable) -> {key: [values]}: same key ORs, different keys AND."""
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or key not in ("status", "name", "id", "ancestor", "label"):
            raise BockerError(f"invalid filter '{item}' (status=, name=, id=, ancestor=, label=)")
        out.setdefault(key, []).append(value)
    return out


def _matches(cfg, rec, st, filters):
    labels = rec["Config"].get("Labels") or {}

    def label_ok(v):
        k, eq, val = v.partition("=")
        return k in labels and (not eq or labels[k] == val)
    tests = {"status": lambda v: st["Status"] == v,
             "name": lambda v: re.search(v, rec["Name"][1:]) is not None,
             "id": lambda v: rec["Id"].startswith(v),
             "ancestor": lambda v: rec["Config"]["Image"] == v or rec["Image"].startswith(v)
             or _image_id_or_none(cfg, v) == rec["Image"],
             "label": label_ok}
    # docker: values of one key are alternatives, except labels, which must all match
    return all((all if k == "label" else any)(tests[k](v) for v in values) for k, values in filters.items())


def _image_id_or_none(cfg, ref):
    try:
        return images.resolve(cfg, ref)
    except BockerError:
        return None


def ps_rows(cfg, all_=False, filters=None):
    """One dict per container with docker ps's fields, newest first."""
    from .network import ports
    rows = []
    for rec in all_records(cfg):
        st = state(cfg, rec)
        if not all_ and st["Status"] not in ("running", "paused"):
            continue
        if filters and not _matches(cfg, rec, st, filters):
            continue
        rec["State"] = st
        command = " ".join([rec["Path"]] + rec["Args"])
        rows.append({"ID": rec["Id"], "Image": rec["Config"]["Image"], "Command": command,
                     "CreatedAt": rec["Created"], "RunningFor": fmt.ago(rec["Created"]),
                     "State": st["Status"], "Status": status_text(st),
                     "Ports": ports.ports_text(rec["HostConfig"].get("PortBindings"))
                     if st["Status"] in ("running", "paused") else "", "Names": rec["Name"][1:], "Labels": rec["Config"].get("Labels") or {}})
    rows.sort(key=lambda r: r["CreatedAt"], reverse=True)
    return rows


def commit(cfg, ref, tag=None, message="", author="", changes=()):
    """Snapshot the container's rootfs into a new read-only image (O(1)) with its config."""
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
    new = images.new_config(runtime_cfg, parent, created_by=f"bocker commit {rec['Name'][1:]}",
                            comment=message)
    if author:
        new["author"] = author
    if tag:
        tag = images.normalize(tag)
        if not images.valid_ref(tag):
            raise BockerError(f"invalid reference format: '{tag}'")
    return images.register(cfg, cdir(cfg, cid, "rootfs"), new, tag=tag, parent=rec["Image"] if parent else None)

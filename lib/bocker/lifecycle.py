"""A container's process: start, run (foreground or detached), stop, kill, wait, pause, exec,
and recording its exit. The records themselves are containers.py's; this module imports it,
never the reverse."""
import os
import time

from . import BockerError, containers, events, fmt, restart, runtime, shell, store, userns


def start(cfg, rec, stdin=None, stdout=None, stderr=None, detach=False):
    """Network, cgroup, launch; on return the command runs (or is about to) as PID 1.
    Detached: a shell monitor waits for it and records its exit. Returns the Launch.
    Everything made here is undone if a step fails. The body is the list of steps --trace shows."""
    from . import endpoints, network
    from .network import bridge
    mode = endpoints.primary(rec)
    net = network.get(cfg, mode)
    undo = []
    try:
        with shell.step("network", f"network ({mode}): address, /etc files"):
            etc = _join_network(cfg, rec, net, undo)
        with shell.step("cgroup", "cgroup: the container's own, with its limits"):
            _make_cgroup(cfg, rec, undo)
        monitor = _monitor(cfg, rec) if detach else None
        with shell.step("launch", "launch: new namespaces; init.py joins the cgroup, waits for the host"):
            home = containers.cdir(cfg, rec["Id"])
            handle = runtime.launch(cfg, rec, os.path.join(home, "rootfs"), home, etc, stdin=stdin, stdout=stdout,
                                    stderr=stderr, monitor=monitor)
            undo.append(handle.abort)
        if net.driver == "bridge":
            with shell.step("veth", "veth pair: one end on the bridge, eth0 made inside the netns"):
                bridge.attach(net, rec["Id"], handle.pid, rec["NetworkSettings"]["IPAddress"])
                endpoints.join_others(cfg, rec, handle.pid, undo)
        if not shell.dry_run:  # a dry-run script leaves the record as created
            _record_running(cfg, rec, handle, detach)
        events.endpoint(cfg, "connect", rec)
        events.container(cfg, "start", rec)
        runtime.trace_init(handle.argv)
        handle.go()
    except BaseException:
        containers.rollback(undo)
        raise
    return handle


def _join_network(cfg, rec, net, undo):
    """An address from the network's IPAM, the published ports, and the rootfs's /etc files
    (another container's with --network container:)."""
    from . import endpoints
    from .network import dns, ports
    cid = rec["Id"]
    ip = None
    if net.driver == "container":
        return endpoints.shared_netns(cfg, rec)
    if net.driver == "bridge":
        ip = _lease(cfg, rec, net, undo)
        exposed = rec["Config"].get("ExposedPorts") or {}
        requested = ports.from_record(rec["HostConfig"].get("PortBindings"))
        publish_all = rec["HostConfig"].get("PublishAllPorts")
        with store.lock(cfg.path("networks", ".ports.lock")):  # parallel runs: one gets the port
            taken = ports.published_on_host() if requested or publish_all else set()
            bindings = ports.resolve(requested, exposed, publish_all, taken)
            ports.publish(net, bindings, ip)
        undo.append(lambda: ports.unpublish(net, bindings, ip))
        rec["NetworkSettings"]["Ports"] = ports.to_status(bindings, exposed)
    # --dns, or a user network's DNS server (on the gateway), or else the host's
    hc = rec["HostConfig"]
    servers = hc.get("Dns") or ([str(net.gateway)] if net.user else None)
    etc = dns.write_etc(containers.cdir(cfg, cid), rec["Config"]["Hostname"], ip, hc["NetworkMode"], servers,
                        hc.get("DnsSearch") or (), hc.get("DnsOptions") or (), _extra_hosts(hc, net))
    remap = userns.base_of(rec)
    if remap:  # the container's root may then write them, as its own files
        for spec in etc:
            path = spec.split(":")[0]
            shell.do(f"chown {remap[0]}:{remap[0]} {path}", os.chown, path, remap[0], remap[0])
    return etc


def _extra_hosts(hc, net):
    """--add-host as (name, address); host-gateway is the host as the container reaches it, its
    bridge's address (none on --network none; with host the host is 127.0.0.1's anyway)."""
    out = []
    for item in hc.get("ExtraHosts") or []:
        name, _, addr = item.partition(":")
        if addr == "host-gateway":
            addr = str(net.gateway) if net.gateway else "127.0.0.1"
        out.append((name, addr))
    return out


def _lease(cfg, rec, net, undo):
    """eth0's address (endpoints.lease), also in the top-level fields of NetworkSettings (read
    by records older than Networks too)."""
    from . import endpoints
    ip = endpoints.lease(cfg, rec, net, undo)
    endpoint = rec["NetworkSettings"]["Networks"][net.name]
    rec["NetworkSettings"].update({k: endpoint[k] for k in ("IPAddress", "Gateway", "IPPrefixLen", "MacAddress")})
    return ip


def _make_cgroup(cfg, rec, undo):
    from . import cgroups
    hc = rec["HostConfig"]
    cgroups.create(cfg, rec["Id"], cgroups.limits_of(hc))
    undo.append(lambda: cgroups.delete(cfg, rec["Id"]))


def _monitor(cfg, rec):
    """The shell that waits for a detached container, copies its output to the log (unless a
    pty copier does) and calls bocker back at its exit."""
    cid = rec["Id"]
    exit_file = containers.cdir(cfg, cid, "exitcode")
    containers.unlink(exit_file)
    fifos = None
    if not rec["Config"].get("Tty"):
        fifos = (containers.cdir(cfg, cid, "log.fifo"), containers.cdir(cfg, cid, "log-stderr.fifo"))
        for fifo in fifos:
            containers.unlink(fifo)
            shell.do(f"mkfifo {shell.quote(fifo)}", os.mkfifo, fifo, 0o600)
    from . import health
    probe = health.settings(rec["Config"].get("Healthcheck"))
    checks = (probe[1] / health.SECOND, containers.bocker_argv(cfg, "_health", cid)) if probe else None
    return runtime.monitor_script(exit_file, fifos, containers.cdir(cfg, cid, "container.log"),
                                  log_max_size(rec), containers.bocker_argv(cfg, "_exited", cid),
                                  stdin_fifo=_stdin_fifo(cfg, rec), health=checks)


def _stdin_fifo(cfg, rec):
    """-di: the container's stdin, a fifo that stays open (the monitor holds it), so that a shell
    waits for input instead of reading an end of file; None without -i (or with -t: the pty)."""
    if not rec["Config"].get("OpenStdin") or rec["Config"].get("Tty"):
        return None
    fifo = containers.cdir(cfg, rec["Id"], "stdin.fifo")
    containers.unlink(fifo)
    shell.do(f"mkfifo {shell.quote(fifo)}", os.mkfifo, fifo, 0o600)
    return fifo


def _record_running(cfg, rec, handle, detach):
    from . import health
    rec["State"].pop("Health", None)
    if detach and health.settings(rec["Config"].get("Healthcheck")):  # (the monitor runs the checks)
        rec["State"]["Health"] = health.initial()
    rec["State"].update(Status="running", Running=True, Paused=False, Restarting=False, Pid=handle.pid,
                        ExitCode=0, OOMKilled=False, StartedAt=fmt.now_iso(),
                        FinishedAt="0001-01-01T00:00:00Z",
                        PidStartTime=runtime.pid_start_time(handle.pid),
                        MonitorPid=handle.proc.pid if detach else os.getpid())
    containers.save(cfg, rec)


def record_exit(cfg, rec, code):
    """After the container's PID 1 exited: record code and time, release its cgroup and address.
    Idempotent: the monitor, `stop` and `rm` may all get here."""
    from . import cgroups
    cid = rec["Id"]
    with shell.step("teardown", "teardown: the netns (and eth0 with it) died with the container"):
        oom = cgroups.oom_killed(cfg, cid)
        cgroups.delete(cfg, cid)
        containers.release_network(cfg, rec)
        if not shell.dry_run and rec["State"]["Status"] in ("running", "paused"):
            rec["State"].update(Status="exited", Running=False, Paused=False, Pid=0, ExitCode=code,
                                OOMKilled=oom, FinishedAt=fmt.now_iso())
            containers.save(cfg, rec)
            events.container(cfg, "die", rec, exitCode=code)
            events.endpoint(cfg, "disconnect", rec)


def exited(cfg, cid):
    """Called by a detached container's monitor when the container has exited; returns its
    exit code, which becomes the monitor's own (what run -it waits for: --rm removes the record).
    If its restart policy restarts it, the monitor process itself becomes the wait (see restart_argv)."""
    code = delay = None
    try:
        with store.lock(containers.cdir(cfg, cid, ".lock")):
            rec = containers.load(cfg, cid)
            code = containers.read_exit_file(cfg, cid)
            record_exit(cfg, rec, 255 if code is None else code)
            if rec["HostConfig"].get("AutoRemove"):
                containers.remove_record(cfg, rec, force=True, released=True)
            else:
                delay = _next_restart(rec)
                if delay is not None:
                    _record_restarting(cfg, rec, os.getpid())
    except (FileNotFoundError, BockerError):  # removed meanwhile (rm -f): nothing left to record
        pass
    if delay is not None:
        os.closerange(3, 1024)  # (what the launch handed the monitor: nobody reads it any more)
        argv = restart_argv(cfg, cid, delay)
        shell.do(" ".join(shell.quote(a) for a in argv), os.execv, "/bin/sh", argv)
    return 255 if code is None else code


def _next_restart(rec):
    """The wait (seconds) before the restart the policy asks for after this exit, or None; the
    schedule's state (RestartCount, RestartDelay) is updated in `rec`."""
    st = rec["State"]
    policy = rec["HostConfig"].get("RestartPolicy")
    if shell.dry_run or not restart.wanted(policy, st["ExitCode"], rec.get("HasBeenManuallyStopped"),
                                           rec.get("RestartCount") or 0):
        return None
    ran_for = (fmt.parse_iso(st.get("FinishedAt")) or 0) - (fmt.parse_iso(st.get("StartedAt")) or 0)
    rec["RestartDelay"] = restart.next_delay(rec.get("RestartDelay") or 0, ran_for)
    rec["RestartCount"] = (rec.get("RestartCount") or 0) + 1
    return rec["RestartDelay"]


def _record_restarting(cfg, rec, waiter):
    """Docker's restarting state (Running too, as Docker's); `waiter`: the process that waits."""
    rec["State"].update(Status="restarting", Running=True, Restarting=True, Pid=0, MonitorPid=waiter,
                        MonitorStartTime=runtime.pid_start_time(waiter))
    containers.save(cfg, rec)


def restart_argv(cfg, cid, delay):
    """The wait before a restart: a shell that sleeps, then becomes `bocker _restart` (no Python
    process waits: at most a minute of backoff)."""
    back = " ".join(shell.quote(a) for a in containers.bocker_argv(cfg, "_restart", cid))
    return ["sh", "-c", f"sleep {delay:g}; exec {back} </dev/null >/dev/null 2>&1"]


def restart_by_policy(cfg, cid):
    """`bocker _restart`: the container its policy restarts, started again (detached)."""
    try:
        with store.lock(containers.cdir(cfg, cid, ".lock")):
            rec = containers.load(cfg, cid)
            if rec["State"]["Status"] != "restarting" or rec.get("HasBeenManuallyStopped"):
                return  # stopped meanwhile
            rec["State"]["Status"] = "created"
            try:
                run_detached(cfg, rec)
            except BockerError as e:
                if rec["State"]["Status"] == "created":  # it did not start: nothing will restart it
                    rec["State"].update(Status="exited", Running=False, Restarting=False, Error=str(e),
                                        FinishedAt=fmt.now_iso())
                    containers.save(cfg, rec)
    except (FileNotFoundError, BockerError):  # removed meanwhile
        pass


def update(cfg, ref, memory=None, cpus=None, pids=None, policy=None):
    """`bocker update`: new limits (and restart policy) in the record; a running container's
    cgroup files are rewritten at once. None: unchanged."""
    from . import cgroups
    cid = containers.resolve(cfg, ref)
    with store.lock(containers.cdir(cfg, cid, ".lock")):
        rec = containers.load(cfg, cid)
        hc = rec["HostConfig"]
        if policy is not None and hc.get("AutoRemove") and restart.enabled(policy):
            raise BockerError("Restart policy cannot be updated because AutoRemove is enabled for the container")
        changes = {"Memory": memory, "NanoCpus": None if cpus is None else int(cpus * 1e9),
                   "PidsLimit": None if pids is None else max(pids, 0), "RestartPolicy": policy}
        new = dict(hc, **{k: v for k, v in changes.items() if v is not None})
        cgroups.check_limits(cgroups.limits_of(new))
        if containers.state(cfg, rec)["Status"] in ("running", "paused"):
            cgroups.update(cfg, cid, {"memory": memory, "memory_swap": new.get("MemorySwap") if memory else None,
                                      "cpus": cpus, "pids": pids})
        rec["HostConfig"] = new
        containers.save(cfg, rec)


def health_check(cfg, cid):
    """`bocker _health`, which the monitor runs every interval: one probe, inside the container as
    `exec` runs a command, its result recorded in State.Health. False once the container is gone
    or stopped (the monitor's loop then ends)."""
    import subprocess
    from . import health
    rec = containers.load(cfg, cid)
    st = containers.state(cfg, rec)
    probe = health.settings(rec["Config"].get("Healthcheck"))
    if st["Status"] not in ("running", "paused") or not probe:
        return False
    if st["Status"] == "paused":  # no probe of a frozen container (as Docker)
        return True
    command, _, timeout, start_period, retries = probe
    c = rec["Config"]
    argv = runtime.exec_argv(cfg, rec, command, c.get("WorkingDir"), c.get("User"), c["Env"])
    began, t0 = fmt.now_iso(), time.time()
    proc = shell.spawn(argv, "probe", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       start_new_session=True)
    try:
        output, code = proc.communicate(timeout=timeout / health.SECOND)[0], runtime.exit_code(proc.returncode)
    except subprocess.TimeoutExpired:  # the probe and what it started, in the container too
        shell.run(["kill", "-KILL", "--", f"-{proc.pid}"], check=False)
        proc.communicate()
        output, code = f"Health check exceeded timeout ({timeout / health.SECOND:g}s)", -1
    entry = health.result(began, fmt.now_iso(), code, output)
    with store.lock(containers.cdir(cfg, cid, ".lock")):
        rec = containers.load(cfg, cid)
        now = containers.state(cfg, rec)
        if now["Status"] not in ("running", "paused") or now["StartedAt"] != st["StartedAt"]:
            return False  # exited (or restarted) meanwhile: the result is of a run that is over
        before = (rec["State"].get("Health") or {}).get("Status")
        rec["State"]["Health"] = health.record(rec["State"].get("Health"), entry, retries, start_period,
                                               t0 - fmt.parse_iso(st["StartedAt"]))
        containers.save(cfg, rec)
        if rec["State"]["Health"]["Status"] != before:
            events.container(cfg, f"health_status: {rec['State']['Health']['Status']}", rec)
    return True


def restart_after_foreground(cfg, cid):
    """A foreground run's policy applies too (as Docker's daemon does): its restarts go on in the
    background, `run` returns the first exit code."""
    import subprocess
    try:
        with store.lock(containers.cdir(cfg, cid, ".lock")):
            rec = containers.load(cfg, cid)
            delay = _next_restart(rec)
            if delay is not None:
                waiter = shell.spawn(restart_argv(cfg, cid, delay), "waiter", stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                _record_restarting(cfg, rec, waiter.pid)
    except (FileNotFoundError, BockerError):
        pass


def stopped_by_hand(cfg, cid):
    """stop/kill: the container is not restarted by its policy (until a manual start); a
    restarting one stops waiting and is exited."""
    with store.lock(containers.cdir(cfg, cid, ".lock")):
        rec = containers.load(cfg, cid)
        st = containers.state(cfg, rec)
        # (the record too: a container that has just exited is not restarted once its monitor records it)
        if st["Status"] not in ("running", "paused", "restarting") and rec["State"]["Status"] not in ("running", "paused"):
            return
        rec["HasBeenManuallyStopped"] = True
        if st["Status"] == "restarting":
            containers.cancel_restart(cfg, rec)
            rec["State"].update(Status="exited", Running=False, Restarting=False)
        containers.save(cfg, rec)


def restartable(cfg):
    """`start --all-restartable` (after a reboot): what Docker's daemon brings back at its start,
    the exited containers whose policy is `always`, or `unless-stopped` and not stopped by hand;
    oldest first. (Never started ones stay created.)"""
    out = []
    for rec in sorted(containers.all_records(cfg), key=lambda r: r["Created"]):
        name = (rec["HostConfig"].get("RestartPolicy") or {}).get("Name")
        if containers.state(cfg, rec)["Status"] == "exited" and \
                (name == "always" or name == "unless-stopped" and not rec.get("HasBeenManuallyStopped")):
            out.append(rec["Name"][1:])
    return out


def attach(cfg, rec, handle):
    """Foreground: output to the terminal and the log, signals forwarded; returns the exit code."""
    if shell.dry_run:
        shell.script("wait $launcher; status=$?")
        record_exit(cfg, rec, None)
        return shell.Var("status")
    runtime.forward_signals(handle.pid)
    with shell.step("run"):
        with _log_writer(cfg, rec) as log:
            runtime.relay(handle.proc, log)
        code = runtime.exit_code(handle.proc.wait())
    record_exit_locked(cfg, rec, code)
    return code


def record_exit_locked(cfg, rec, code):
    """record_exit under the container's lock; nothing to do if it was removed meanwhile (rm -f)."""
    try:
        with store.lock(containers.cdir(cfg, rec["Id"], ".lock")):
            record_exit(cfg, rec, code)
    except FileNotFoundError:
        pass


def log_max_size(rec):
    from . import logs
    size = (rec["HostConfig"].get("LogConfig") or {}).get("MaxSize")
    return logs.DEFAULT_MAX_SIZE if size is None else size


def show_logs(cfg, ref, **kw):
    """`bocker logs`: the container's log, followed (-f) while the container runs."""
    from . import logs
    cid = containers.resolve(cfg, ref)

    def running():
        return containers.state(cfg, containers.load(cfg, cid))["Status"] in ("running", "paused")
    logs.show(containers.cdir(cfg, cid, "container.log"), running, **kw)


def _log_writer(cfg, rec):
    from . import logs
    return logs.Writer(containers.cdir(cfg, rec["Id"], "container.log"), log_max_size(rec))


def check_terminal(tty, interactive):
    """-it needs a terminal on bocker's stdin, as Docker's: a pipe or a file would leave the
    container's shell waiting on a terminal nobody types into."""
    if tty and interactive and not shell.dry_run and not os.isatty(0):
        raise BockerError("the input device is not a TTY", code=1)


DETACHED = "detached"  # what run -it, start -ai and attach return when the user detached


def run_foreground(cfg, rec, interactive=False, detach_keys=b""):
    """start + attach, as `bocker run` without -d (and `start -a`). With -it, the container is
    started as a detached one (its monitor records the exit, a copier holds the pty) and
    attached to: the user may detach (`detach_keys`), and it runs on (returns DETACHED).
    -t alone cannot detach (no keys come in): bocker holds the pty itself (~200 ms less)."""
    import subprocess
    check_terminal(rec["Config"].get("Tty"), interactive)
    if rec["Config"].get("Tty") and interactive and not shell.dry_run:
        from . import terminal
        handle, client = _start_tty(cfg, rec, attached=True)
        runtime.forward_signals(handle.pid)  # as without -t: a SIGTERM to bocker stops the container
        with shell.step("run"):
            detached = terminal.attach(client, interactive, detach_keys)
        return DETACHED if detached else handle.proc.wait()  # the monitor's: the container's code
    if rec["Config"].get("Tty") and not shell.dry_run:
        from . import terminal
        master, slave = terminal.open_pty()
        try:
            handle = start(cfg, rec, stdin=slave, stdout=slave, stderr=slave)
        finally:
            os.close(slave)
        runtime.forward_signals(handle.pid)  # as without -t: bocker lives on to record the exit
        with shell.step("run"):
            code = runtime.exit_code(terminal.relay(master, handle.proc, _log_writer(cfg, rec), False))
        record_exit_locked(cfg, rec, code)
    else:
        pipe = None if shell.dry_run else subprocess.PIPE
        handle = start(cfg, rec, stdin=pipe if interactive else subprocess.DEVNULL, stdout=pipe, stderr=pipe)
        code = attach(cfg, rec, handle)
    restart_after_foreground(cfg, rec["Id"])
    return code


def _start_tty(cfg, rec, attached=False):
    """Start a -t container detached: its pty's master goes to a copier that writes the log and
    serves `bocker attach`; returns the Launch and (`attached`) a client connected from the start."""
    from . import terminal
    master, slave = terminal.open_pty()
    try:
        handle = start(cfg, rec, stdin=slave, stdout=slave, stderr=slave, detach=True)
    finally:
        os.close(slave)
    client = terminal.keep_logging(master, containers.cdir(cfg, rec["Id"], "container.log"), log_max_size(rec),
                                   listen=containers.cdir(cfg, rec["Id"], "attach.sock"), first=attached)
    return handle, client


def run_detached(cfg, rec):
    """start with a monitor: output to the log only; returns at once.
    With -t, a forked copier holds the pty and writes its output to the log."""
    if shell.dry_run:
        return start(cfg, rec, detach=True)
    import subprocess
    if rec["Config"].get("Tty"):
        _start_tty(cfg, rec)
        return
    handle = start(cfg, rec, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   detach=True)
    failed = handle.exec_status()
    if failed:  # docker run -d reports a command that cannot run, with its exit code
        raise BockerError(failed[1], code=failed[0])


def startable(cfg, cid):
    """Under the container's lock: its record ready for start, or None if it runs already.
    A run whose exit nobody recorded (its monitor died) is recorded first, freeing what it held."""
    rec = containers.load(cfg, cid)
    st = containers.state(cfg, rec)
    if st["Status"] in ("running", "paused", "restarting"):
        return None
    if rec["State"]["Status"] in ("running", "paused"):
        record_exit(cfg, rec, st["ExitCode"])
    rec["State"]["Status"] = "created"
    # a manual start: the restart policy starts afresh (Docker's ResetRestartManager)
    rec.update(RestartCount=0, RestartDelay=0, HasBeenManuallyStopped=False)
    return rec


def running_record(cfg, ref):
    """The record of a container that must be running (exec, kill, pause): 125 otherwise."""
    rec = containers.load(cfg, containers.resolve(cfg, ref))
    rec["State"] = containers.state(cfg, rec)
    if rec["State"]["Status"] == "restarting":
        raise BockerError(f"Container {rec['Id']} is restarting, wait until the container is running")
    if rec["State"]["Status"] not in ("running", "paused"):
        raise BockerError(f"container {rec['Id'][:12]} is not running")
    return rec


def signal_number(sig):
    """A signal name (KILL, SIGHUP, RTMIN+2) or number (1 to SIGRTMAX); anything else, 0
    (which only tests a pid) included, is refused."""
    import signal as signals
    s = str(sig).upper()
    if s.isdigit():
        number = int(s)
    else:
        name = s if s.startswith("SIG") else "SIG" + s
        base, plus, offset = name.partition("+")
        number = signals.Signals[base].value if base in signals.Signals.__members__ else 0
        if plus:
            number = number + int(offset) if base == "SIGRTMIN" and offset.isdigit() else 0
    if not 1 <= number <= signals.SIGRTMAX:
        raise BockerError(f"invalid signal: {sig}")
    return int(number)


def send_signal(cfg, ref, sig="KILL"):
    number = signal_number(sig)  # refused before the container is looked at
    rec = running_record(cfg, ref)
    if number in (9, signal_number(rec["Config"].get("StopSignal") or "TERM")):  # meant to end it
        stopped_by_hand(cfg, rec["Id"])
    shell.run(["kill", f"-{number}", str(rec["State"]["Pid"])])
    events.container(cfg, "kill", rec, signal=number)
    return rec


def wait_exit(cfg, cid, timeout=None):
    """Poll until the container has exited and its exit is recorded; returns its exit code."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = None  # the exit code file, read while it exists: --rm removes it with the record
    while True:
        try:
            rec = containers.load(cfg, cid)
        except BockerError:  # removed at exit (--rm): its last known exit code
            return events.last_exit(cfg, cid) if seen is None else seen
        seen = containers.read_exit_file(cfg, cid) if seen is None else seen
        st = containers.state(cfg, rec)
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


def check_condition(condition):
    if condition not in ("not-running", "next-exit", "removed"):
        raise BockerError(f"invalid condition: {condition!r} (not-running, next-exit or removed)")


def wait_condition(cfg, cid, condition="not-running"):
    """`wait --condition`, as Docker's: not-running (returns at once for a container that does
    not run), next-exit (the end of the current run, or of the next one if none runs), removed
    (until `rm`, or --rm, takes it). Returns the exit code of the run that ended."""
    check_condition(condition)
    if condition == "not-running":
        return wait_exit(cfg, cid)
    started = containers.load(cfg, cid)["State"].get("StartedAt")
    code = None
    while True:
        try:
            rec = containers.load(cfg, cid)
        except BockerError:  # removed: the last run's code (none ran: 0)
            return events.last_exit(cfg, cid) if code is None else code
        st = containers.state(cfg, rec)
        running = st["Status"] in ("running", "paused")
        if condition == "next-exit" and (running or rec["State"].get("StartedAt") != started):
            return wait_exit(cfg, cid)  # a run under way (or begun and ended since we looked)
        if not running:
            code = st["ExitCode"]
        time.sleep(0.05)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop(cfg, ref, timeout=None, sig=None):
    """The stop signal (SIGTERM unless --stop-signal or the image's STOPSIGNAL say otherwise),
    wait `timeout` seconds (--stop-timeout, or 10), then SIGKILL; the exit is recorded."""
    cid = containers.resolve(cfg, ref)
    rec = containers.load(cfg, cid)
    sig = sig or rec["Config"].get("StopSignal") or "TERM"
    timeout = timeout if timeout is not None else rec["Config"].get("StopTimeout")
    timeout = 10 if timeout is None else timeout
    signal_number(sig)  # refused before anything is sent
    stopped_by_hand(cfg, cid)
    st = containers.state(cfg, rec)
    if st["Status"] not in ("running", "paused"):
        return
    if st["Status"] == "paused":
        pause(cfg, cid, False)
    shell.run(["kill", f"-{signal_number(sig)}", str(st["Pid"])], check=False)
    events.container(cfg, "kill", rec, signal=signal_number(sig))
    if wait_exit(cfg, cid, timeout) is None:
        shell.run(["kill", "-9", str(st["Pid"])], check=False)
        wait_exit(cfg, cid, 5)
    _reap(cfg, cid)
    events.container(cfg, "stop", rec)


def stop_all(cfg, refs, timeout=None, sig=None):
    """Several containers stopped at once, as Docker does (-t 2 for three: 2 s, not 6): one thread
    each. Returns, for cli's each(), a function that waits for one of them (raising its error)."""
    from concurrent.futures import ThreadPoolExecutor
    refs = list(dict.fromkeys(refs))
    pool = ThreadPoolExecutor(max_workers=max(len(refs), 1))
    futures = {ref: pool.submit(stop, cfg, ref, timeout, sig) for ref in refs}
    pool.shutdown(wait=False)
    return lambda ref: futures[ref].result()


def _reap(cfg, cid):
    """If nobody is left to record a container's exit (its monitor died), record it now."""
    try:
        with store.lock(containers.cdir(cfg, cid, ".lock")):
            rec = containers.load(cfg, cid)
            st = containers.state(cfg, rec)
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
    with store.lock(containers.cdir(cfg, rec["Id"], ".lock")):
        rec = containers.load(cfg, rec["Id"])
        rec["State"].update(Status="paused" if frozen else "running", Paused=frozen)
        containers.save(cfg, rec)
    events.container(cfg, "pause" if frozen else "unpause", rec)


def exec_in(cfg, ref, command, workdir=None, user=None, env=(), interactive=False, detach=False, tty=False,
            detach_keys=b""):
    """Run a command inside a running container; returns its exit code (DETACHED if the user
    typed `detach_keys` at its terminal: it runs on)."""
    import subprocess
    rec = running_record(cfg, ref)
    if rec["State"]["Status"] == "paused":
        raise BockerError(f"container {rec['Id'][:12]} is paused, unpause the container before exec")
    containers.check_process(workdir, user, env)
    c = rec["Config"]
    # -t's TERM=xterm first, so that an explicit -e TERM=... wins
    merged = containers.merge_env(c["Env"], (["TERM=xterm"] if tty else []) + list(env))
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
        status = terminal.relay(master, proc, None, interactive, detach_keys)
        return DETACHED if status is None else runtime.exit_code(status)
    if detach:
        shell.spawn(argv, "exec", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True)
        return 0
    pipe = None if shell.dry_run else subprocess.PIPE
    proc = shell.spawn(argv, "exec", stdin=pipe if interactive else subprocess.DEVNULL, stdout=pipe, stderr=pipe)
    if shell.dry_run:
        shell.script("wait $exec")
        return 0
    runtime.forward_signals(proc.pid)
    runtime.relay(proc)
    return runtime.exit_code(proc.wait())


def attach_to(cfg, ref, stdin=True, sig_proxy=True, detach_keys=b""):
    """`bocker attach`: the running container's output from now on (and its stdin, if it was
    started with -i), until it exits (its exit code) or the user detaches (DETACHED).
    -t: through its copier's attach socket; otherwise the log (stdout and stderr apart) is
    followed and stdin goes into the container's stdin fifo (-di)."""
    from . import terminal
    rec = containers.load(cfg, containers.resolve(cfg, ref))
    status = containers.state(cfg, rec)["Status"]
    if status == "paused":
        raise BockerError("You cannot attach to a paused container, unpause it first")
    if status != "running":
        raise BockerError("You cannot attach to a stopped container, start it first")
    conf, cid = rec["Config"], rec["Id"]
    stdin = stdin and bool(conf.get("OpenStdin"))
    events.container(cfg, "attach", rec)
    if conf.get("Tty"):
        check_terminal(True, stdin)
        sock = terminal.connect(containers.cdir(cfg, cid, "attach.sock"))
        detached = terminal.attach(sock, stdin, detach_keys)
    else:
        if sig_proxy:
            runtime.forward_signals(rec["State"]["Pid"])
        detached = _follow_output(cfg, rec, stdin, detach_keys)
    return DETACHED if detached else wait_exit(cfg, cid)


def _follow_output(cfg, rec, stdin, detach_keys):
    """A non-tty container's new log lines to our stdout and stderr while its monitor writes
    them; our stdin (a thread) into its stdin fifo. True if the user detached."""
    import threading
    from . import logs
    cid = rec["Id"]
    detached = threading.Event()
    feeder = None
    if stdin and os.path.exists(containers.cdir(cfg, cid, "stdin.fifo")):  # (-di; not a foreground -i)
        fifo = os.open(containers.cdir(cfg, cid, "stdin.fifo"), os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        feeder = threading.Thread(target=_feed_fifo, args=(fifo, detach_keys, detached), daemon=True)

    def writing():
        # first asked once the follower is at the end of the log: input is fed from then on,
        # so that no output it causes is passed over as "before the attach"
        if feeder is not None and feeder.ident is None:  # (not started yet)
            feeder.start()
        return not detached.is_set() and _monitor_writing(cfg, cid)
    logs.show(containers.cdir(cfg, cid, "container.log"), writing, tail=0, follow=True)
    return detached.is_set()


def _feed_fifo(fifo, detach_keys, detached):
    """Our stdin into the container's, until our end of input or the detach keys."""
    from . import terminal
    keys = terminal.DetachKeys(detach_keys)
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                return
            data, done = keys.feed(data)
            if data:
                os.write(fifo, data)
            if done:
                return detached.set()
    except OSError:  # the container is gone
        pass
    finally:
        os.close(fifo)


def _monitor_writing(cfg, cid):
    """The container's exit is not recorded yet (its monitor records it once the log is
    complete), and someone is left to record it (the process or its monitor lives)."""
    try:
        rec = containers.load(cfg, cid)
    except BockerError:
        return False
    if rec["State"]["Status"] not in ("running", "paused"):
        return False
    monitor = rec["State"].get("MonitorPid")
    return containers.state(cfg, rec)["Status"] in ("running", "paused") or bool(monitor and _pid_alive(monitor))

"""How a container process is started: unshare + init, and the host handshake.

    busybox unshare --fork --pid --mount --uts --ipc --net \\
        /usr/bin/python3 -I -S init.py --rootfs ... --cgroup ... --sync READY:GO -- COMMAND...

`unshare` makes the namespaces and forks; its child runs init.py, which joins the container's
cgroup, makes its cgroup namespace and becomes PID 1 of the container. The init reports its host pid on READY and waits on GO, so the host can create the
veth directly inside the container's network namespace (/proc/PID/ns/net) before the command runs.
"""
import os
import signal

from . import BockerError, cgroups, security, shell, userns

PYTHON = "/usr/bin/python3"
INIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "init.py")


def host_namespaces(hc):
    """The namespaces --pid/--ipc/--uts host share with the host (unshare leaves them out)."""
    return {ns for ns, key in (("pid", "PidMode"), ("ipc", "IpcMode"), ("uts", "UTSMode")) if hc.get(key) == "host"}


def unshare_argv(network_mode, remapped=False, host=()):
    """busybox's unshare, not util-linux's: util-linux 2.38 `unshare --fork` exits 1 instead of
    137 when its child is SIGKILLed (OOM kill, `stop`, `kill`), and the exit code matters.
    busybox's has no --cgroup: init.py unshares the cgroup namespace itself. Remapped, the init
    makes the user namespace and then the namespaces it must own (mount, uts, ipc, net)."""
    flags = ["busybox", "unshare", "--fork"] + [f"--{ns}" for ns in ("pid", "mount", "uts", "ipc") if ns not in host]
    if remapped:  # (host namespaces are refused with remapping: cli.containers)
        return flags[:5] + ["--propagation", "private"]
    if network_mode != "host" and not network_mode.startswith("container:"):
        flags.append("--net")
    return flags + ["--propagation", "private"]


def init_options(cfg, rec, rootfs, etc=()):
    """init.py's options from the container record; `etc`: the bind mounts of the /etc files
    bocker writes (before the user's volumes, which may replace them)."""
    opts = ["--rootfs", rootfs] + userns.init_options(rec)
    # the init joins the container's cgroup itself (cgexec would be one more process, ~3 ms),
    # before it makes its cgroup namespace
    for path in cgroups.paths(cfg, rec["Id"]):
        opts += ["--cgroup", path]
    conf = rec["Config"]
    if os.path.exists("/proc/self/ns/cgroup"):
        opts += ["--cgroupns", "private"]
    if rec["HostConfig"]["NetworkMode"] != "host":
        opts += ["--lo", "up"]
    if rec["HostConfig"]["NetworkMode"] != "host" and rec["HostConfig"].get("UTSMode") != "host":
        opts += ["--hostname", conf["Hostname"]]
    if conf.get("Domainname"):
        opts += ["--domainname", conf["Domainname"]]
    net = rec["NetworkSettings"]
    if rec["HostConfig"]["NetworkMode"] not in ("host", "none") and net.get("IPAddress"):
        opts += ["--ip", f"{net['IPAddress']}/{net['IPPrefixLen']}", "--gateway", net["Gateway"]]
    for spec in etc:
        opts += ["--volume", spec]
    for m in rec.get("Mounts") or []:
        if m["Type"] == "tmpfs":
            opts += ["--tmpfs", m["Destination"] + (":" + m["Options"] if m.get("Options") else "")]
        else:
            opts += ["--volume", f"{m['Source']}:{m['Destination']}:{'rw' if m['RW'] else 'ro'}"]
    opts += security.host_options(rec["HostConfig"], cfg.root)
    return opts + group_options(rec) + process_options(conf.get("WorkingDir"), conf.get("User"), conf["Env"],
                                                       conf.get("Tty"))


def group_options(rec):
    return [o for g in rec["HostConfig"].get("GroupAdd") or [] for o in ("--group-add", g)]


def process_options(workdir, user, env, tty=False):
    opts = ["--tty", "1"] if tty else []
    if workdir:
        opts += ["--workdir", workdir]
    if user:
        opts += ["--user", user]
    for item in env:
        opts += ["--env", item]
    return opts


def monitor_script(exit_file, log_fifos, log_path, max_size, on_exit, stdin_fifo=None, health=None):
    """The detached container's waiter: a shell (~1 MB), not a Python process per container.
    The container's stdout and stderr go through two fifos to one `busybox awk` each, which
    stamps each line into the log with its stream (fifos, not `|`: a pipeline would fork a
    second shell per container); the shell records the exit code, then runs `on_exit`
    (bocker's bookkeeping) once, at exit.
    `stdin_fifo` (-di): opened read-write, it is the container's stdin and never ends.
    `health` (interval in seconds, argv of one check): a subshell that sleeps, runs the check,
    and so on while the container runs (it ends when the check says the container is gone)."""
    from .logs import awk_program, boot_time
    q = shell.quote
    logging = ""
    if log_fifos:  # (with -t the pty is the output, and bocker's copier stamps it)
        out, err = log_fifos
        awk = f'TZ=UTC0 busybox awk -v out={q(log_path)} -v max={max_size} -v boot={boot_time():.6f}'
        logging = (f"{awk} -v sep=' ' {q(awk_program())} < {q(out)} & o=$!; "
                   f"{awk} -v sep='!' {q(awk_program())} < {q(err)} & e=$!; "
                   f'exec > {q(out)} 2> {q(err)}; rm -f {q(out)} {q(err)}; ')
    stdin = f"exec <> {q(stdin_fifo)}; " if stdin_fifo else ""
    checks = stop_checks = ""
    if health:
        interval, check = health
        checks = (f"(trap 'kill $s 2>/dev/null; exit 0' TERM; while :; do sleep {interval:g} & s=$!; wait $s; "
                  f"{' '.join(q(a) for a in check)} || exit 0; done) </dev/null >/dev/null 2>&1 & h=$!; ")
        stop_checks = "kill $h 2>/dev/null; "
    # the log is complete before the exit is recorded (`wait` then `logs` sees the last line):
    # the shell lets go of the fifos, then waits for its awks to drain them
    drain = "exec > /dev/null 2>&1; wait $o $e; " if log_fifos else ""
    return (f'{logging}{stdin}{checks}"$@"; code=$?; {stop_checks}{drain}echo $code > {q(exit_file)}; '
            f'exec {" ".join(q(a) for a in on_exit)}')


def command_of(rec):
    cfg = rec["Config"]
    return list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])


class Launch:
    """A started container: the launcher process (or its $var) and the container's host pid."""

    def __init__(self, proc, pid, go, argv, status=None, detached=False):
        self.proc, self.pid, self._go, self.argv, self._status = proc, pid, go, argv, status
        self.detached = detached

    def go(self):
        """Let the init continue: the host side (network) is ready."""
        if shell.dry_run:
            shell.script(f"echo go > {shell.quote(self._go)}")
            return
        try:
            os.write(self._go, b"go\n")
        except BrokenPipeError:  # the init failed early: its exit code and message tell why
            pass
        os.close(self._go)
        self._go = None

    def exec_status(self):
        """After go: None once the command is exec'd, or (code, message) if the init failed."""
        if shell.dry_run or self._status is None:
            return None
        os.set_blocking(self._status, True)
        with os.fdopen(self._status) as f:
            line = f.read().strip()
        self._status = None
        if not line:
            return None
        code, _, message = line.partition(" ")
        return int(code), message

    def abort(self):
        """Give up before the command runs: the init exits when GO closes without 'go'."""
        if shell.dry_run or self._go is None:
            return
        os.close(self._go)
        if self._status is not None:
            os.close(self._status)
        self._go = self._status = None
        if not self.detached:  # a detached container's monitor finishes on its own: it calls
            self.proc.wait()   # bocker back, which waits for the lock that start holds


def launch(cfg, rec, rootfs, sync_dir, etc=(), stdin=None, stdout=None, stderr=None, monitor=None):
    """Start the container's process, stopped at the handshake; returns a Launch.
    `monitor`: a shell script run around the launch (detached containers)."""
    opts = init_options(cfg, rec, rootfs, etc)
    command = command_of(rec)
    if rec["HostConfig"].get("Init"):
        command = security.init_command(command)
    prefix = unshare_argv(rec["HostConfig"]["NetworkMode"], remapped=bool(userns.base_of(rec)),
                          host=host_namespaces(rec["HostConfig"]))
    if rec["HostConfig"]["NetworkMode"].startswith("container:"):  # its namespace, set at start
        prefix = ["nsenter", f"--net={rec['NetworkSettings']['SandboxKey']}"] + prefix
    if monitor:
        prefix = ["sh", "-c", monitor, "sh"] + prefix
    if shell.dry_run:
        ready, go = os.path.join(sync_dir, "ready"), os.path.join(sync_dir, "go")
        shell.script(f"mkfifo {shell.quote(ready)} {shell.quote(go)}")
        argv = prefix + [PYTHON, "-I", "-S", INIT] + opts + ["--sync", f"{ready}:{go}", "--"] + command
        proc = shell.spawn(argv, "launcher")
        shell.script(f"read pid < {shell.quote(ready)}")
        return Launch(proc, shell.Var("pid"), go, argv)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    status = None
    if monitor:  # detached: learn whether the command could be exec'd (a fifo: see init.py)
        fifo = os.path.join(sync_dir, "exec-status")
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo, 0o600)
        status = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        opts = opts + ["--status", fifo]
    argv = prefix + [PYTHON, "-I", "-S", INIT] + opts + ["--sync", f"{ready_w}:{go_r}", "--"] + command
    try:
        proc = shell.spawn(argv, "launcher", pass_fds=(ready_w, go_r), stdin=stdin, stdout=stdout,
                           stderr=stderr, start_new_session=True)
    except BaseException:
        for fd in (ready_r, ready_w, go_r, go_w):
            os.close(fd)
        raise
    os.close(ready_w)
    os.close(go_r)
    with os.fdopen(ready_r) as f:
        line = f.readline().strip()
    if not line.isdigit():
        os.close(go_w)
        if status is not None:
            os.close(status)
        code = proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        raise BockerError(f"the container did not start (exit {exit_code(code)})" + (f": {err}" if err else ""))
    return Launch(proc, int(line), go_w, argv, status=status, detached=bool(monitor))


def exec_argv(cfg, rec, command, workdir, user, env, tty=False):
    """`bocker exec`: join the cgroup and namespaces; init.py joins the mounts, drops privileges."""
    pid = rec["State"]["Pid"]
    ns = [f"--{n}" for n in ("uts", "ipc", "pid") if n not in host_namespaces(rec["HostConfig"])]
    if rec["HostConfig"]["NetworkMode"] != "host":
        ns.append("--net")
    if os.path.exists("/proc/self/ns/cgroup"):
        ns.append("--cgroup")
    return (cgroups.launcher(cfg, rec["Id"]) + ["nsenter", f"--target={pid}"] + ns +
            [PYTHON, "-I", "-S", INIT, "--enter", str(pid)] + userns.init_options(rec) +
            security.host_options(rec["HostConfig"], cfg.root, exec_only=True) + group_options(rec) +
            process_options(workdir, user, env, tty) +
            ["--"] + list(command))


def trace_init(argv):
    """Show what init.py does inside the container, step by step, as shell lines."""
    if not (shell.trace or shell.dry_run):
        return
    from . import init  # only for the trace: it loads ctypes
    opts, command = init.parse(argv[argv.index(INIT) + 1:])
    shell.comment("inside the container, init.py now does:")
    for line, _ in init.steps(opts, [shell.quote(c) for c in command]):
        shell.comment("  " + line)


def exit_code(returncode):
    """A Popen return code as a shell exit status: killed by signal N -> 128+N."""
    return 128 - returncode if returncode < 0 else returncode


def _stat(pid):
    """The fields of /proc/PID/stat after the command name (field 3, the state, first), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def pid_start_time(pid):
    """Field 22 of /proc/PID/stat: tells a container's pid from a later reuse of it."""
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def alive(pid, start_time):
    """The container's process runs: same start time (not a reused pid), and not a zombie
    (dead, not yet reaped: its waiter was killed too, as in a host crash)."""
    fields = _stat(pid) if pid else None
    return bool(fields) and fields[0] not in ("Z", "X") and pid_start_time(pid) == start_time


sig_proxy = True  # run --sig-proxy=false: the signals stop at bocker, which waits on


def forward_signals(pid):
    """SIGINT/SIGTERM/SIGHUP to `bocker run` go to the container's PID 1, as docker does."""
    def forward(signum, frame):
        if not sig_proxy:
            return
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, forward)


def relay(proc, log=None):
    """Foreground run and exec: the container's stdin, stdout and stderr are pipes that bocker
    copies, never the caller's own descriptors (a container could reopen /proc/self/fd/0 of a
    file for writing, or read back the file its output is appended to). Copies the caller's
    stdin into proc.stdin (if it is a pipe: -i), and proc's output to ours and to the log.
    Ends when the output pipes close; if our stdout closes (`| head`), that stream's pipe is
    closed too, so the container's next write gets SIGPIPE, as with Docker."""
    import selectors
    import sys
    sel = selectors.PollSelector()  # (epoll refuses a regular file as stdin)
    targets, streams = {}, {}
    for pipe, out, stream in ((proc.stdout, sys.stdout.buffer, "stdout"), (proc.stderr, sys.stderr.buffer, "stderr")):
        if pipe is not None:
            sel.register(pipe, selectors.EVENT_READ)
            targets[pipe.fileno()], streams[pipe.fileno()] = out, stream
    feed = _StdinFeed(sel, proc.stdin) if proc.stdin is not None else None
    while targets:
        for key, events in sel.select():
            if feed and feed.owns(key.fd):
                feed.step(key.fd)
                continue
            data = os.read(key.fd, 65536)
            if data and log is not None:
                log.write(data, streams[key.fd])
            try:
                if not data:
                    raise EOFError
                targets[key.fd].write(data)
                targets[key.fd].flush()
            except (EOFError, BrokenPipeError):
                sel.unregister(key.fileobj)
                del targets[key.fd]
                key.fileobj.close()
    if feed:
        feed.close()


class _StdinFeed:
    """The caller's stdin into the container's stdin pipe, one buffer at a time (no read while
    the container has not taken the last one: a slow reader holds back a fast writer)."""

    def __init__(self, sel, pipe):
        import selectors
        self.sel, self.pipe, self.EVENT_READ, self.EVENT_WRITE = sel, pipe, selectors.EVENT_READ, selectors.EVENT_WRITE
        self.src, self.dst, self.buf = 0, pipe.fileno(), b""
        os.set_blocking(self.dst, False)
        sel.register(self.src, self.EVENT_READ)

    def owns(self, fd):
        return fd in (self.src, self.dst)

    def step(self, fd):
        try:
            if fd == self.src:
                self.buf = os.read(self.src, 65536)
                self.sel.unregister(self.src)
                if not self.buf:  # EOF: the container's stdin closes too
                    return self.close()
                self.sel.register(self.dst, self.EVENT_WRITE)
                return
            self.buf = self.buf[os.write(self.dst, self.buf):]
            if not self.buf:
                self.sel.unregister(self.dst)
                self.sel.register(self.src, self.EVENT_READ)
        except BrokenPipeError:  # the container closed its stdin: stop feeding it
            self.close()
        except BlockingIOError:
            pass

    def close(self):
        for fd in (self.src, self.dst):
            try:
                self.sel.unregister(fd)
            except (KeyError, ValueError):
                pass
        if not self.pipe.closed:
            self.pipe.close()

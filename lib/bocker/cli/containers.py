"""Verbs on containers: run, create, start, stop, ..., ps, logs, rm, commit, export."""
import sys

from .. import BockerError
from .verbs import FORCE, FORMAT, PRUNE_FILTER, arg, confirm, each, prune_match, pruned, reclaimed, verb


RUN_ARGS = (
    arg("-d", "--detach", action="store_true", help="run in the background, print the id"),
    arg("-i", "--interactive", action="store_true", help="keep stdin open"),
    arg("-t", "--tty", action="store_true", help="allocate a pseudo-terminal"),
    arg("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="set an environment variable"),
    arg("-w", "--workdir", help="working directory inside the container"),
    arg("-u", "--user", help="USER[:GROUP] (name or number)"),
    arg("--name", help="name the container"),
    arg("--rm", action="store_true", help="remove the container when it exits"),
    arg("-h", "--hostname", help="container host name"),
    arg("--entrypoint", help="override the image's ENTRYPOINT"),
    arg("--network", "--net", default="bridge", help="bridge (default), none, host or a user network"),
    arg("-m", "--memory", help="memory limit (e.g. 64m, 1g); exceeding it: OOM kill, exit 137"),
    arg("--cpus", help="CPU quota, in CPUs (e.g. 0.5)"),
    arg("--pids-limit", type=int, help="maximum number of processes"),
    arg("-l", "--label", action="append", default=[], metavar="KEY=VALUE", help="set a label"),
    arg("-v", "--volume", action="append", default=[], metavar="SRC:DST[:ro]",
        help="bind mount (absolute HOST path) or named volume; DST alone: anonymous volume"),
    arg("--volumes-from", action="append", default=[], metavar="CONTAINER[:ro]",
        help="mount the volumes of another container"),
    arg("--tmpfs", action="append", default=[], metavar="DST[:OPTIONS]", help="mount a tmpfs"),
    arg("--log-opt", action="append", default=[], metavar="max-size=SIZE",
        help="rotate the log past SIZE (default 10m; 0: never); one older file is kept"),
    arg("-p", "--publish", action="append", default=[], metavar="[IP:]HOST:CONTAINER[/PROTO]",
        help="publish a container port on the host (DNAT); ranges: 9000-9002:9000-9002"),
    arg("-P", "--publish-all", action="store_true", help="publish every exposed port on a free host port"),
    arg("--memory-swap", metavar="SIZE", help="memory + swap limit (-1: unlimited swap)"),
    arg("--memory-reservation", metavar="SIZE", help="soft memory limit"),
    arg("--cpu-shares", "-c", type=int, help="relative CPU weight (default 1024)"),
    arg("--cpuset-cpus", metavar="LIST", help="CPUs the container may use (0-3, 0,1)"),
    arg("--cpuset-mems", metavar="LIST", help="memory nodes the container may use"),
    arg("--privileged", action="store_true",
        help="all capabilities, no seccomp, no masked paths, all devices, /sys and /proc writable"),
    arg("--cap-add", action="append", default=[], metavar="CAP", help="add a capability (NET_ADMIN, ALL ...)"),
    arg("--cap-drop", action="append", default=[], metavar="CAP", help="drop a capability (CHOWN, ALL ...)"),
    arg("--security-opt", action="append", default=[], metavar="OPT",
        help="seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], systempaths=unconfined"),
    arg("--read-only", action="store_true", help="mount the root filesystem read-only"),
    arg("--ulimit", action="append", default=[], metavar="NAME=SOFT[:HARD]", help="a resource limit (nofile=1024:2048)"),
    arg("--sysctl", action="append", default=[], metavar="KEY=VALUE", help="a namespaced kernel setting (net.*, kernel.shm*, ...)"),
    arg("--shm-size", metavar="SIZE", help="size of /dev/shm (default 64m)"),
    arg("--oom-score-adj", type=int, help="the OOM killer's preference (-1000 to 1000)"),
    arg("--init", action="store_true", help="run tini as PID 1: it reaps zombies and forwards signals"),
    arg("--device", action="append", default=[], metavar="HOST[:CONTAINER][:rwm]", help="add a host device"),
    arg("--userns-remap", metavar="default",
        help="root inside is the `bocker` range of /etc/subuid (default: $BOCKER_USERNS_REMAP)"),
    arg("--userns", metavar="host", help="host: no remapping, whatever BOCKER_USERNS_REMAP says"),
    arg("--network-alias", action="append", default=[], metavar="ALIAS",
        help="another name for the container on its user network's DNS"),
    arg("--ip", help="the container's address (user networks only)"),
    arg("--dns", action="append", default=[], metavar="IP", help="a nameserver for resolv.conf"),
    arg("--dns-search", action="append", default=[], metavar="DOMAIN", help="a search domain for resolv.conf"),
    arg("--dns-option", action="append", default=[], metavar="OPTION", help="a resolv.conf option (ndots:2)"),
    arg("--add-host", action="append", default=[], metavar="NAME:IP",
        help="a line of /etc/hosts (IP may be host-gateway: the network's gateway)"),
    arg("--stop-signal", metavar="SIGNAL", help="signal `stop` sends first (default: the image's STOPSIGNAL, or TERM)"),
    arg("--stop-timeout", type=int, metavar="SECONDS", help="seconds `stop` waits before SIGKILL (default 10)"),
    arg("--restart", default="no", metavar="POLICY",
        help="no, always, unless-stopped or on-failure[:N] (retries at most N times): restart the "
             "container when it exits, after 0.1 s, then twice as long each time (at most 1 min; "
             "back to 0.1 s after 10 s up); not after `stop` or `kill`"),
    arg("--health-cmd", metavar="COMMAND", help="a check run inside the container (sh -c): exit 0 is healthy"),
    arg("--health-interval", metavar="DURATION", help="time between checks (default 30s; Go durations: 1s, 500ms)"),
    arg("--health-timeout", metavar="DURATION", help="a check taking longer fails (default 30s)"),
    arg("--health-retries", type=int, metavar="N", help="failures in a row that make it unhealthy (default 3)"),
    arg("--health-start-period", metavar="DURATION",
        help="failures during this time after the start do not count (default 0s)"),
    arg("--no-healthcheck", action="store_true", help="no check, not even the image's HEALTHCHECK"),
    arg("--env-file", action="append", default=[], metavar="FILE",
        help="environment variables from a file (KEY=VALUE lines; KEY alone: from bocker's environment)"),
    arg("--label-file", action="append", default=[], metavar="FILE", help="labels from a file (KEY=VALUE lines)"),
    arg("--mount", action="append", default=[], metavar="type=bind|volume|tmpfs,src=,dst=[,readonly]",
        help="a mount, in Docker's long form (tmpfs-size=, tmpfs-mode= for tmpfs)"),
    arg("-a", "--attach", action="append", default=[], metavar="STDIN|STDOUT|STDERR",
        help="attach only these streams (default: STDOUT and STDERR)"),
    arg("--expose", action="append", default=[], metavar="PORT[/PROTO]",
        help="expose a port or a range (recorded in Config.ExposedPorts; -p publishes)"),
    arg("--cidfile", metavar="FILE", help="write the container id to FILE (refused if it exists)"),
    arg("--pull", default="missing", metavar="always|missing|never",
        help="pull the image before creating: always, missing (default), never"),
    arg("--platform", metavar="OS/ARCH", help="the image's platform (this host: linux/amd64)"),
    arg("-q", "--quiet", action="store_true", help="no pull output"),
    arg("--cpu-period", type=int, metavar="MICROSECONDS", help="CFS period (1000 to 1000000; default 100000)"),
    arg("--cpu-quota", type=int, metavar="MICROSECONDS", help="CFS quota: CPU time per period (at least 1000)"),
    arg("--group-add", action="append", default=[], metavar="GROUP",
        help="a supplementary group (a name of the image's /etc/group, or a number)"),
    arg("--pid", metavar="host", help="host: the host's PID namespace (the command is not PID 1)"),
    arg("--ipc", metavar="host", help="host: the host's IPC namespace (default private)"),
    arg("--uts", metavar="host", help="host: the host's UTS namespace (its host name; -h refused)"),
    arg("--domainname", metavar="NAME", help="the container's NIS domain name (`domainname`)"),
    arg("image", help="image name[:tag] or id"),
    arg("command", nargs="...", help="command and arguments (default: the image's CMD)"),
)


DETACH_KEYS = arg("--detach-keys", metavar="KEYS", help="keys that detach, leaving the container running "
                                                       "(default ctrl-p,ctrl-q)")


def _detach_keys(a):
    from .. import terminal
    return terminal.parse_detach_keys(a.detach_keys)


def _exit_or_detached(code):
    """run -it, start -ai, exec -it, attach: 0 when the user detached."""
    from .. import lifecycle
    return 0 if code is lifecycle.DETACHED else code


def _image_or_pull(cfg, a, quiet=False):
    """The image's id; pulled first when it is not in the store (docker's behaviour), or always
    (--pull always), or never (--pull never: a missing image is an error); --platform checked."""
    from .. import images, shell
    from .runflags import check_pull_policy
    ref, policy = a.image, check_pull_policy(a.pull)
    try:
        found = images.resolve(cfg, ref)
    except BockerError:
        if shell.dry_run or policy == "never":
            raise BockerError(f"No such image: {images.normalize(ref)}")
        found = None
        if not quiet:
            sys.stderr.write(f"Unable to find image '{images.normalize(ref)}' locally\n")
    if found is None or policy == "always":
        from .. import transfer  # HTTP client and layers: only when a pull is needed
        found = transfer.pull(cfg, ref, platform=a.platform, quiet=quiet)
    if a.platform:
        images.check_platform(a.platform, images.config(cfg, found), ref)
    return found


def _log_max_size(options):
    from .. import fmt
    size = None
    for o in options:
        key, _, value = o.partition("=")
        if key != "max-size":
            raise BockerError(f"unknown log option: {key} (bocker knows max-size)")
        size = fmt.parse_size(value, "max-size", minimum=0)
    return size


def _mounts(a):
    """-v and --tmpfs, with the --mount forms mapped onto them (one validation for both)."""
    from .runflags import parse_mount
    volumes, tmpfs = list(a.volume), list(a.tmpfs)
    for spec in a.mount:
        kind, short = parse_mount(spec)
        (tmpfs if kind == "tmpfs" else volumes).append(short)
    return volumes, tmpfs


def _run_options(a):
    from .. import cgroups, containers, health, restart
    from ..network import ports
    from ..network import NAME_RE, dns
    from . import runflags
    volumes, tmpfs = _mounts(a)
    streams = runflags.parse_attach(a.attach)
    if streams and getattr(a, "detach", False):
        raise BockerError("Conflicting options: -a and -d")
    shared = a.network.startswith("container:")
    if not NAME_RE.match(a.network) and not shared:
        raise BockerError(f"network {a.network} not found: invalid network name")
    if (a.publish or a.publish_all) and a.network in ("none", "host"):
        raise BockerError("published ports need a bridge network")
    if (a.ip or a.network_alias) and a.network in ("bridge", "none", "host"):
        raise BockerError("--ip and --network-alias are supported on user defined networks only")
    policy = restart.parse(a.restart)
    if a.rm and restart.enabled(policy):
        raise BockerError("Conflicting options: --restart and --rm")
    if shared:
        _check_shared(a)
    return containers.RunOptions(
        name=a.name, env=runflags.env_items(a.env_file, a.env), workdir=a.workdir, user=a.user, rm=a.rm, hostname=a.hostname,
        entrypoint=a.entrypoint, network=a.network, aliases=a.network_alias, ip=a.ip,
        dns=dns.check_options(a.dns, a.dns_search, a.dns_option, a.add_host),
        memory=cgroups.parse_memory(a.memory) if a.memory else 0,
        cpus=cgroups.parse_cpus(a.cpus) if a.cpus else 0,
        pids_limit=a.pids_limit if a.pids_limit and a.pids_limit > 0 else 0,
        labels=dict(l.partition("=")[::2] for l in runflags.label_items(a.label_file, a.label)),
        volumes=volumes, volumes_from=a.volumes_from, tmpfs=tmpfs, tty=a.tty,
        interactive=a.interactive or "stdin" in streams, expose=runflags.parse_expose(a.expose),
        ports=ports.parse_ports(a.publish), publish_all=a.publish_all, log_max_size=_log_max_size(a.log_opt),
        command=a.command,
        memory_swap=_memory_swap(a.memory_swap),
        memory_reservation=cgroups.parse_memory(a.memory_reservation) if a.memory_reservation else 0,
        cpu_shares=a.cpu_shares or 0, cpuset_cpus=a.cpuset_cpus or "", cpuset_mems=a.cpuset_mems or "",
        security=_security(a), stop_signal=_stop_signal(a.stop_signal), stop_timeout=a.stop_timeout,
        restart=policy,
        healthcheck=health.from_flags(a.health_cmd, a.health_interval, a.health_timeout, a.health_start_period,
                                      a.health_retries, a.no_healthcheck),
        host_fields=_host_fields(a), domainname=a.domainname or "")


def _host_fields(a):
    """HostConfig fields of the flags that have no RunOptions attribute of their own."""
    from .. import containers
    return {"CpuPeriod": a.cpu_period or 0, "CpuQuota": a.cpu_quota or 0,
            "GroupAdd": containers.check_groups(a.group_add) or None, **_namespace_modes(a)}


def _namespace_modes(a):
    """--pid, --ipc, --uts: host or the default (a namespace of the container's own)."""
    from .. import userns
    modes = {}
    for flag, key, default in (("pid", "PidMode", ""), ("ipc", "IpcMode", "private"), ("uts", "UTSMode", "")):
        value = getattr(a, flag)
        if value in (None, "", default):
            continue
        if value != "host":
            raise BockerError(f"invalid {flag.upper()} mode: {value} "
                              f"(bocker knows host)")
        if userns.remap_mode(a.userns_remap, a.userns):
            raise BockerError(f"Cannot share the host's {flag.upper()} "
                              f"namespace when user namespaces are enabled")
        modes[key] = value
    if modes.get("UTSMode") and a.hostname:
        raise BockerError("Conflicting options: hostname and the UTS mode")
    if modes.get("UTSMode") and a.domainname:
        raise BockerError("Conflicting options: domainname and the UTS mode")
    return modes


def _check_shared(a):
    """--network container:NAME: the other container's network is the whole story (Docker's
    conflicting options)."""
    from .. import userns
    if a.publish or a.publish_all:
        raise BockerError("conflicting options: port publishing and the container type network mode")
    if a.ip or a.network_alias:
        raise BockerError("conflicting options: --ip or --network-alias and the container type network mode")
    if a.dns or a.dns_search or a.dns_option or a.add_host:
        raise BockerError("conflicting options: dns and the network mode")
    if a.hostname:
        raise BockerError("conflicting options: hostname and the network mode")
    if userns.remap_mode(a.userns_remap, a.userns):
        raise BockerError("--network container: is not supported with user namespace remapping")


def _stop_signal(sig):
    """--stop-signal, checked now (a bad one would only show at `stop`), kept as given."""
    from .. import lifecycle
    if sig is not None:
        lifecycle.signal_number(sig)
    return sig


def _memory_swap(text):
    from .. import cgroups
    if not text:
        return 0
    return -1 if text.strip() == "-1" else cgroups.parse_memory(text)


def _absolute_profile(opt):
    """seccomp=PROFILE.json, relative to where `run`/`create` was typed: `start` may be elsewhere."""
    import os
    key, _, value = opt.partition("=")
    if key == "seccomp" and value not in ("", "unconfined") and not value.startswith("/"):
        return f"seccomp={os.path.abspath(value)}"
    return opt


def _security(a):
    """HostConfig's security fields from the flags (checked in full by containers.create)."""
    from .. import fmt, security, userns
    out = {"Privileged": a.privileged, "CapAdd": a.cap_add or None, "CapDrop": a.cap_drop or None,
           "SecurityOpt": [_absolute_profile(o) for o in a.security_opt] or None,
           "ReadonlyRootfs": a.read_only, "Init": a.init}
    if a.ulimit:
        out["Ulimits"] = [dict(zip(("Name", "Soft", "Hard"), security.parse_ulimit(u))) for u in a.ulimit]
    if a.sysctl:
        out["Sysctls"] = dict(security.check_sysctl(item, a.network) for item in a.sysctl)
    if a.shm_size:
        out["ShmSize"] = fmt.parse_size(a.shm_size, "--shm-size")
    if a.oom_score_adj:
        out["OomScoreAdj"] = a.oom_score_adj
    if a.device:
        out["Devices"] = [dict(zip(("PathOnHost", "PathInContainer", "CgroupPermissions"),
                                   security.parse_device(d)[:3])) for d in a.device]
    if userns.remap_mode(a.userns_remap, a.userns):
        out["UsernsMode"] = "remap"
    return out


@verb("commit", arg("-m", "--message", default="", help="commit message"),
      arg("-a", "--author", default="", help="author"),
      arg("-c", "--change", action="append", default=[], help="Dockerfile instruction: CMD, ENV, ..."),
      arg("container", help="container"), arg("name", nargs="?", help="NAME[:TAG] of the new image"))
def cmd_commit(cfg, a):
    """Make a new image from a container's files: an O(1) btrfs snapshot."""
    from .. import containers
    print("sha256:" + containers.commit(cfg, a.container, a.name, a.message, a.author, a.change))


@verb("port", arg("container", help="container"), arg("port", nargs="?", help="PORT[/PROTO]"))
def cmd_port(cfg, a):
    """List a container's published ports (80/tcp -> 0.0.0.0:8080), or one port's host addresses."""
    from .. import containers
    from ..network import ports
    rec = containers.load(cfg, containers.resolve(cfg, a.container))
    running = containers.state(cfg, rec)["Status"] in ("running", "paused")
    lines = ports.port_lines(rec["NetworkSettings"].get("Ports") if running else {}, a.port)
    if a.port and not lines:
        raise BockerError(f"No public port '{a.port if '/' in a.port else a.port + '/tcp'}' published for "
                          f"{rec['Name'][1:]}", code=1)
    for line in lines:
        print(line)


@verb("run", DETACH_KEYS, arg("--sig-proxy", action="store_true", default=True,
                             help="forward SIGINT/SIGTERM/SIGHUP to the container (default true); "
                                  "false: bocker keeps them and waits on"), *RUN_ARGS)
def cmd_run(cfg, a):
    """Run a command in a new container.

    create (snapshot of the image) + start (network, cgroup, namespaces, init) + wait.
    The exit code is the command's own; 125 for bocker errors, 126/127 when the command
    cannot be run or is not found."""
    from .. import containers, lifecycle, runtime, shell
    from . import runflags
    opts = _run_options(a)
    keys = _detach_keys(a)
    runtime.sig_proxy = a.sig_proxy
    if not a.detach:  # before anything is made
        lifecycle.check_terminal(a.tty, opts.interactive)
    rec = _create(cfg, a, opts, quiet=a.quiet)
    if a.detach:
        try:
            lifecycle.run_detached(cfg, rec)
        except BaseException:
            containers.remove_record(cfg, rec, force=True)
            raise
        print(rec["Id"])
        return 0
    code = None
    try:
        with _attached(runflags.parse_attach(a.attach)):
            code = lifecycle.run_foreground(cfg, rec, interactive=opts.interactive, detach_keys=keys)
    finally:
        if a.rm and code is not lifecycle.DETACHED:  # (detached: its monitor removes it at exit)
            containers.remove_record(cfg, rec, force=True, released=code is not None)
    if shell.dry_run:
        shell.script("exit $status")
        return 0
    return _exit_or_detached(code)


def _create(cfg, a, opts, quiet=False):
    """The container made from the flags: network checked, image found or pulled, --cidfile
    claimed before and written after (removed again if the create fails)."""
    from .. import containers, endpoints, network
    from . import runflags
    opts.network = endpoints.network_mode(cfg, opts.network)  # container:NAME -> container:ID
    network.get(cfg, opts.network)  # it exists (before a record is made)
    cidfile = runflags.claim_cidfile(a.cidfile)
    try:
        _image_or_pull(cfg, a, quiet=quiet)
        rec = containers.create(cfg, a.image, opts)
    except BaseException:
        runflags.drop_cidfile(cidfile)
        raise
    runflags.write_cidfile(cidfile, rec["Id"])
    return rec


def _attached(streams):
    """-a: the output streams not named are not copied to ours (the log keeps them)."""
    import contextlib
    from .runflags import Unattached
    stack = contextlib.ExitStack()
    if streams:
        for name in ("stdout", "stderr"):
            if name not in streams:
                stack.enter_context(getattr(contextlib, f"redirect_{name}")(Unattached(getattr(sys, name))))
    return stack


@verb("create", *[x for x in RUN_ARGS if x[0][:1] != ("-d",)])
def cmd_create(cfg, a):
    """Create a container (snapshot and record) without starting it; prints its id."""
    print(_create(cfg, a, _run_options(a), quiet=a.quiet)["Id"])


@verb("start", arg("-a", "--attach", action="store_true", help="attach output, exit with its code"),
      arg("-i", "--interactive", action="store_true", help="keep stdin open"), DETACH_KEYS,
      arg("--all-restartable", action="store_true",
          help="after a reboot (e.g. from a boot script or a systemd unit): start every stopped "
               "container whose policy is --restart always, or unless-stopped and not stopped by hand"),
      arg("containers", nargs="*", help="containers to start"))
def cmd_start(cfg, a):
    """Start created or stopped containers (detached, unless -a)."""
    from .. import containers, lifecycle, store
    if not a.containers and not a.all_restartable:
        raise BockerError('"bocker start" requires at least 1 argument.', code=1)
    keys = _detach_keys(a)
    failed = False
    for ref in a.containers + (lifecycle.restartable(cfg) if a.all_restartable else []):
        try:
            cid = containers.resolve(cfg, ref)
            with store.lock(containers.cdir(cfg, cid, ".lock")):
                rec = lifecycle.startable(cfg, cid)
                if rec is None:  # running already
                    print(ref)
                    continue
                if not a.attach:
                    lifecycle.run_detached(cfg, rec)
                    print(ref)
                    continue
            code = lifecycle.run_foreground(cfg, rec, interactive=a.interactive, detach_keys=keys)
            if rec["HostConfig"].get("AutoRemove") and code is not lifecycle.DETACHED:  # created with --rm
                containers.remove_record(cfg, rec, force=True, released=True)
            return _exit_or_detached(code)
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


@verb("stop", arg("-t", "--time", type=int, help="seconds to wait before SIGKILL (default: --stop-timeout, or 10)"),
      arg("-s", "--signal", help="signal to send first (default: --stop-signal, the image's STOPSIGNAL, or TERM)"),
      arg("containers", nargs="+", help="containers to stop"))
def cmd_stop(cfg, a):
    """Stop running containers: SIGTERM, then SIGKILL after -t seconds."""
    from .. import lifecycle
    return each(a.containers, lifecycle.stop_all(cfg, a.containers, a.time, a.signal))


@verb("restart", arg("-t", "--time", type=int, help="seconds to wait before SIGKILL (default: --stop-timeout, or 10)"),
      arg("containers", nargs="+", help="containers to restart"))
def cmd_restart(cfg, a):
    """Stop (if running), then start containers."""
    from .. import containers, lifecycle, store

    def restart(ref):
        lifecycle.stop(cfg, ref, a.time)
        cid = containers.resolve(cfg, ref)
        with store.lock(containers.cdir(cfg, cid, ".lock")):
            rec = lifecycle.startable(cfg, cid)
            if rec is not None:  # (unless another command started it meanwhile)
                lifecycle.run_detached(cfg, rec)
    return each(a.containers, restart)


@verb("kill", arg("-s", "--signal", default="KILL", help="signal (name or number), default KILL"),
      arg("containers", nargs="+", help="containers to signal"))
def cmd_kill(cfg, a):
    """Send a signal to the main process of running containers."""
    from .. import lifecycle
    return each(a.containers, lambda r: lifecycle.send_signal(cfg, r, a.signal) and None)


@verb("wait", arg("--condition", default="not-running", metavar="CONDITION",
                  help="not-running (default), next-exit or removed"),
      arg("containers", nargs="+", help="containers to wait for"))
def cmd_wait(cfg, a):
    """Block until containers stop, then print their exit codes."""
    from .. import containers, lifecycle
    lifecycle.check_condition(a.condition)  # refused before any container is waited for
    return each(a.containers, lambda r: lifecycle.wait_condition(cfg, containers.resolve(cfg, r), a.condition))


@verb("pause", arg("containers", nargs="+", help="containers to freeze"))
def cmd_pause(cfg, a):
    """Freeze all processes of containers (freezer cgroup)."""
    from .. import lifecycle
    return each(a.containers, lambda r: lifecycle.pause(cfg, r, True))


@verb("unpause", arg("containers", nargs="+", help="containers to thaw"))
def cmd_unpause(cfg, a):
    """Thaw paused containers."""
    from .. import lifecycle
    return each(a.containers, lambda r: lifecycle.pause(cfg, r, False))


@verb("exec", arg("-d", "--detach", action="store_true", help="run in the background"),
      arg("-i", "--interactive", action="store_true", help="keep stdin open"),
      arg("-t", "--tty", action="store_true", help="allocate a pseudo-terminal"),
      arg("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="set an environment variable"),
      arg("-w", "--workdir", help="working directory (default: the container's)"),
      arg("-u", "--user", help="USER[:GROUP]"), DETACH_KEYS,
      arg("--env-file", action="append", default=[], metavar="FILE", help="environment variables from a file"),
      arg("container", help="a running container"), arg("command", nargs="...", help="command and arguments"))
def cmd_exec(cfg, a):
    """Run a command in a running container (its namespaces, root, cgroup, env, privileges)."""
    from .. import lifecycle
    if not a.command:
        raise BockerError('"bocker exec" requires at least 2 arguments.')
    from .runflags import env_items
    return _exit_or_detached(lifecycle.exec_in(cfg, a.container, a.command, a.workdir, a.user,
                                               env_items(a.env_file, a.env), interactive=a.interactive,
                                               detach=a.detach, tty=a.tty, detach_keys=_detach_keys(a)))


@verb("attach", DETACH_KEYS, arg("--no-stdin", action="store_true", help="do not attach stdin"),
      arg("--sig-proxy", action="store_true", default=True,
          help="pass the signals bocker receives on to the container (default true; not with -t)"),
      arg("container", help="a running container"))
def cmd_attach(cfg, a):
    """Attach to a running container's output (and its stdin, if started with -i), until it
    exits (its exit code) or the detach keys (Ctrl-P Ctrl-Q) leave it running."""
    from .. import lifecycle
    return _exit_or_detached(lifecycle.attach_to(cfg, a.container, stdin=not a.no_stdin, sig_proxy=a.sig_proxy,
                                                 detach_keys=_detach_keys(a)))


@verb("update", arg("-m", "--memory", help="memory limit (e.g. 64m)"),
      arg("--cpus", help="CPU quota, in CPUs (e.g. 0.5)"),
      arg("--pids-limit", type=int, help="maximum number of processes (0 or -1: no limit)"),
      arg("--restart", metavar="POLICY", help="no, always, unless-stopped or on-failure[:N]"),
      arg("containers", nargs="+", help="containers to update"))
def cmd_update(cfg, a):
    """Change the limits or the restart policy of containers (a running one's cgroup at once)."""
    from .. import cgroups, lifecycle, restart
    if a.memory is None and a.cpus is None and a.pids_limit is None and a.restart is None:
        raise BockerError("You must provide one or more flags when using this command.")
    memory = cgroups.parse_memory(a.memory) if a.memory is not None else None
    cpus = cgroups.parse_cpus(a.cpus) if a.cpus is not None else None
    policy = restart.parse(a.restart) if a.restart is not None else None
    return each(a.containers, lambda r: lifecycle.update(cfg, r, memory, cpus, a.pids_limit, policy))


@verb("_exited", arg("container"))
def cmd_exited(cfg, a):
    """(internal) Record a detached container's exit: called by its monitor."""
    from .. import lifecycle
    return lifecycle.exited(cfg, a.container)


@verb("_health", arg("container"))
def cmd_health(cfg, a):
    """(internal) One health check of a container: called by its monitor every interval."""
    from .. import lifecycle
    return 0 if lifecycle.health_check(cfg, a.container) else 1


@verb("_restart", arg("container"))
def cmd_restart_by_policy(cfg, a):
    """(internal) Start a container its restart policy restarts: called after the backoff."""
    from .. import lifecycle
    lifecycle.restart_by_policy(cfg, a.container)


FILTER = arg("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
             help="status=, name=, id=, ancestor=, label=KEY[=VALUE], exited=CODE, before=, since=CONTAINER, "
                  "publish=, expose=PORT[-END][/PROTO], volume=NAME|PATH, network=NAME, "
                  "health=starting|healthy|unhealthy|none")


@verb("ps", arg("-a", "--all", action="store_true", help="also stopped containers"),
      arg("-q", "--quiet", action="store_true", help="only ids"),
      arg("--no-trunc", action="store_true", help="full ids and commands"),
      arg("-l", "--latest", action="store_true", help="the latest created container (any state)"),
      arg("-n", "--last", type=int, default=-1, metavar="N", help="the N latest created containers (any state)"),
      arg("-s", "--size", action="store_true", help="SIZE: what each wrote (virtual: with its image)"),
      FILTER, FORMAT)
def cmd_ps(cfg, a):
    """List containers: CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES."""
    from .. import containers, fmt
    filters = containers.parse_filters(a.filter)
    for ref in filters.get("before", []) + filters.get("since", []):
        containers.resolve(cfg, ref)  # (refused even when no row is left to compare)
    last = 1 if a.latest else a.last
    every = a.all or "status" in filters or "exited" in filters or last > 0
    rows = containers.ps_rows(cfg, all_=every, filters=filters)
    rows = rows[:last] if last >= 0 else rows
    if a.size or (a.format and "Size" in a.format):
        _add_sizes(cfg, rows)
    if a.quiet:
        for r in rows:
            print(r["ID"] if a.no_trunc else r["ID"][:12])
        return
    if a.format:  # ids as docker shows them: 12 characters unless --no-trunc
        rows = [r if a.no_trunc else dict(r, ID=r["ID"][:12]) for r in rows]
        fmt.emit(fmt.for_template(rows) if fmt.is_template(a.format) else rows, a.format,
                 headers={"ID": "CONTAINER ID", "RunningFor": "CREATED"})
        return

    def command(c):
        c = '"' + c + '"' if a.no_trunc or len(c) <= 20 else '"' + c[:19] + '…"'
        return c
    fmt.table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"] + ["SIZE"] * a.size,
              [[r["ID"] if a.no_trunc else r["ID"][:12], r["Image"], command(r["Command"]),
                r["RunningFor"], r["Status"], r["Ports"], r["Names"]] + [r.get("Size")] * a.size for r in rows])


def _add_sizes(cfg, rows):
    """ps -s: Docker's `0B (virtual 4.26MB)`; SizeRw and SizeRootFs in bytes for json and jq."""
    from .. import containers, fmt, images
    for r in rows:
        rw = containers.writable_size(cfg, r["ID"])
        try:
            virtual = rw + images.size(cfg, containers.load(cfg, r["ID"])["Image"])
        except (BockerError, OSError):  # its image removed (rmi -f)
            virtual = rw
        r.update(SizeRw=rw, SizeRootFs=virtual, Size=f"{fmt.human_size(rw)} (virtual {fmt.human_size(virtual)})")


@verb("logs", arg("-f", "--follow", action="store_true", help="follow until the container exits"),
      arg("-n", "--tail", default="all", help="only the last N lines"),
      arg("-t", "--timestamps", action="store_true", help="show when each line was written"),
      arg("--since", help="lines since: RFC 3339 time, Unix time, or a duration ago (10m)"),
      arg("--until", help="lines until: RFC 3339 time, Unix time, or a duration ago (10m)"),
      arg("container", help="container"))
def cmd_logs(cfg, a):
    """Show a container's output (stdout and stderr, kept after it exits).

    Each line is stamped when written; the log is rotated past --log-opt max-size (10m)."""
    from .. import lifecycle
    lifecycle.show_logs(cfg, a.container, tail=a.tail, follow=a.follow, timestamps=a.timestamps,
                        since=a.since, until=a.until)


@verb("rm", arg("-f", "--force", action="store_true", help="kill a running container first"),
      arg("-v", "--volumes", action="store_true", help="also remove its anonymous volumes"),
      arg("containers", nargs="+", help="containers to remove"))
def cmd_rm(cfg, a):
    """Remove containers: their snapshot, record, cgroup and address."""
    from .. import containers
    return each(a.containers, lambda r: containers.remove(cfg, r, force=a.force, volumes=a.volumes) and None,
                missing_ok=a.force)


@verb("container prune", PRUNE_FILTER, FORCE)
def cmd_container_prune(cfg, a):
    """Remove all stopped containers (asks first, unless -f)."""
    match = prune_match(a.filter)
    if not confirm("This will remove all stopped containers.", a.force):
        return 0
    code, size = prune_containers(cfg, match)
    reclaimed(size)
    return code


def prune_containers(cfg, match=None):
    """Remove the stopped containers (that `match` accepts): (exit code, bytes they had written)."""
    from .. import containers
    stopped = [r["ID"] for r in containers.ps_rows(cfg, all_=True) if r["State"] not in ("running", "paused")
               and (match is None or match(r["CreatedAt"], r["Labels"]))]
    sizes = {cid: containers.writable_size(cfg, cid) for cid in stopped}
    done, failed = [], False
    for cid in stopped:
        try:
            containers.remove(cfg, cid)
            done.append(cid)
        except BockerError as e:  # (removed meanwhile, or started again)
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    pruned("Deleted Containers", done)
    return (1 if failed else 0), sum(sizes[c] for c in done)


@verb("export", arg("-o", "--output", help="file (default: stdout)"), arg("container", help="container"))
def cmd_export(cfg, a):
    """Export a container's filesystem as a tar archive."""
    from .. import archive, containers
    cid = containers.resolve(cfg, a.container)
    archive.export(cfg, containers.cdir(cfg, cid, "rootfs"), a.output)


@verb("rename", arg("container", help="container"), arg("name", help="its new name"))
def cmd_rename(cfg, a):
    """Rename a container (running or not)."""
    from .. import containers
    try:
        containers.rename(cfg, a.container, a.name)
    except BockerError as e:  # a refusal: 1, as Docker's CLI
        raise BockerError(str(e), code=1)

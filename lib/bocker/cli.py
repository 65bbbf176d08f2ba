"""Command line: one verb = one function; its docstring is its help (first line: the summary).

Exit codes are docker's: 125 for bocker's own errors, 126/127 when the command cannot be
invoked or found, otherwise the container's own exit code.
"""
import os
import sys

from . import BockerError, __version__

VERBS = {}


def arg(*flags, **kwargs):
    return flags, kwargs


def verb(name, *arguments, store=True):
    """Register a verb; `store=False` verbs run without a btrfs store (setup, teardown)."""
    def register(fn):
        VERBS[name] = (fn, arguments, store)
        return fn
    return register


# --- shared argument groups ---------------------------------------------------------------

FORMAT = arg("--format", help="json, or a jq filter applied to each item")
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
    arg("--network", "--net", default="bridge", help="bridge (default), none or host"),
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
        help="publish a container port on the host (DNAT)"),
    arg("image", help="image name[:tag] or id"),
    arg("command", nargs="...", help="command and arguments (default: the image's CMD)"),
)


def _image_or_pull(cfg, ref):
    """The image's id; pulled first when it is not in the store (docker's behaviour)."""
    from . import images, shell
    try:
        return images.resolve(cfg, ref)
    except BockerError:
        if shell.dry_run:
            raise
    from . import transfer  # HTTP client and layers: only when a pull is needed
    sys.stderr.write(f"Unable to find image '{images.normalize(ref)}' locally\n")
    return transfer.pull(cfg, ref, quiet=False)


def _log_max_size(options):
    from . import logs
    size = None
    for o in options:
        key, _, value = o.partition("=")
        if key != "max-size":
            raise BockerError(f"unknown log option: {key} (bocker knows max-size)")
        size = logs.parse_size(value)
    return size


def _run_options(a):
    from . import cgroups, network
    if a.network not in ("bridge", "none", "host"):
        raise BockerError(f"network {a.network} not found (bridge, none or host)")
    if a.publish and a.network != "bridge":
        raise BockerError("published ports need the bridge network")
    return {"name": a.name, "env": a.env, "workdir": a.workdir, "user": a.user, "rm": a.rm,
            "hostname": a.hostname, "entrypoint": a.entrypoint, "network": a.network,
            "memory": cgroups.parse_memory(a.memory) if a.memory else 0,
            "cpus": cgroups.parse_cpus(a.cpus) if a.cpus else 0,
            "pids_limit": a.pids_limit if a.pids_limit and a.pids_limit > 0 else 0,
            "labels": dict(l.partition("=")[::2] for l in a.label),
            "volumes": a.volume, "volumes_from": a.volumes_from, "tmpfs": a.tmpfs,
            "tty": a.tty, "interactive": a.interactive,
            "ports": [network.parse_port(p) for p in a.publish],
            "log_max_size": _log_max_size(a.log_opt),
            "command": a.command}


# --- host ---------------------------------------------------------------------------------

@verb("setup", arg("--no-image", action="store_true", help="do not build the default busybox image"),
      store=False)
def cmd_setup(cfg, a):
    """Prepare the host: btrfs store (a loop file if needed), bridge, NAT chains, busybox image.

    Idempotent. If BOCKER_ROOT is not on btrfs, a sparse loop file BOCKER_ROOT.btrfs
    (BOCKER_STORE_SIZE, default 10G) is formatted btrfs and mounted there."""
    from . import network, shell, store
    store.setup(cfg)
    network.setup(cfg)
    if not a.no_image and not shell.dry_run:
        from . import images
        try:
            images.resolve(cfg, "busybox:latest")
        except BockerError:
            script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "mkimage-busybox.sh")
            shell.run([os.path.realpath(script)], check=True)


@verb("teardown", arg("--store", action="store_true", help="also unmount the loop-file store"),
      store=False)
def cmd_teardown(cfg, a):
    """Remove bocker's bridge and iptables chains (and, with --store, unmount the store).

    Only bocker's own chains and bridge are touched; no host rule is flushed."""
    from . import cgroups, network, store
    network.teardown(cfg)
    cgroups.delete_parent(cfg)
    if a.store:
        store.unmount(cfg)


# --- images -------------------------------------------------------------------------------

@verb("init", arg("directory", help="a root filesystem directory"), arg("name", help="NAME[:TAG]"))
def cmd_init(cfg, a):
    """Make an image from a directory (copied into a read-only btrfs subvolume)."""
    from . import images
    print(images.init(cfg, a.directory, a.name))


@verb("images", arg("-q", "--quiet", action="store_true", help="only image ids"),
      arg("--no-trunc", action="store_true", help="full ids"),
      arg("--digests", action="store_true", help="show repository digests"), FORMAT)
def cmd_images(cfg, a):
    """List images: REPOSITORY TAG IMAGE ID CREATED SIZE."""
    from . import fmt, images
    rows = images.listing(cfg)
    if a.quiet:
        seen = []
        for r in rows:
            if r["Id"] not in seen:
                seen.append(r["Id"])
                print(r["Id"] if a.no_trunc else r["ID"])
    elif a.format:
        fmt.emit(rows, a.format)
    elif a.digests:
        fmt.table(["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"],
                  [[r["Repository"], r["Tag"], r["Digest"], r["Id"] if a.no_trunc else r["ID"],
                    r["CreatedSince"], fmt.human_size(r["Size"])] for r in rows])
    else:
        fmt.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
                  [[r["Repository"], r["Tag"], r["Id"] if a.no_trunc else r["ID"], r["CreatedSince"],
                    fmt.human_size(r["Size"])] for r in rows])


@verb("tag", arg("source", help="image"), arg("target", help="NAME[:TAG]"))
def cmd_tag(cfg, a):
    """Give an image another name."""
    from . import images
    images.add_tag(cfg, images.resolve(cfg, a.source), a.target)


@verb("rmi", arg("-f", "--force", action="store_true", help="even if containers use it"),
      arg("image", nargs="+", help="images to remove"))
def cmd_rmi(cfg, a):
    """Remove images (refused while a container uses one, unless -f)."""
    from . import images, transfer
    failed = False
    for ref in a.image:
        try:
            for line in images.remove(cfg, ref, force=a.force):
                print(line)
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    transfer.prune_layers(cfg)  # pulled layers no image needs any more
    return 1 if failed else 0


@verb("commit", arg("-m", "--message", default="", help="commit message"),
      arg("-a", "--author", default="", help="author"),
      arg("-c", "--change", action="append", default=[], help="Dockerfile instruction: CMD, ENV, ..."),
      arg("container", help="container"), arg("name", nargs="?", help="NAME[:TAG] of the new image"))
def cmd_commit(cfg, a):
    """Make a new image from a container's files: an O(1) btrfs snapshot."""
    from . import containers
    print("sha256:" + containers.commit(cfg, a.container, a.name, a.message, a.author, a.change))


@verb("inspect", FORMAT, arg("-f", dest="format", help="same as --format"),
      arg("--type", choices=("container", "image"), help="only look for this kind"),
      arg("names", nargs="+", help="containers or images"))
def cmd_inspect(cfg, a):
    """Low-level information on containers and images, as a JSON array."""
    from . import containers, fmt, images
    out, missing = [], []
    for ref in a.names:
        try:
            if a.type == "image":
                raise BockerError("")
            rec = containers.load(cfg, containers.resolve(cfg, ref))
            rec["State"] = containers.state(cfg, rec)
            rec["State"].pop("PidStartTime", None)
            out.append(rec)
            continue
        except BockerError:
            pass
        try:
            if a.type == "container":
                raise BockerError("")
            out.append(images.inspect(cfg, images.resolve(cfg, ref)))
        except BockerError:
            missing.append(ref)
    if a.format:
        fmt.emit(out, a.format, as_array=True)
    else:
        fmt.emit(out, "json", as_array=True)
    for ref in missing:
        print(f"bocker: No such object: {ref}", file=sys.stderr)
    return 1 if missing else 0


# --- containers ---------------------------------------------------------------------------

@verb("run", *RUN_ARGS)
def cmd_run(cfg, a):
    """Run a command in a new container.

    create (snapshot of the image) + start (network, cgroup, namespaces, init) + wait.
    The exit code is the command's own; 125 for bocker errors, 126/127 when the command
    cannot be run or is not found."""
    from . import containers, shell
    opts = _run_options(a)
    _image_or_pull(cfg, a.image)
    rec = containers.create(cfg, a.image, opts)
    if a.detach:
        try:
            containers.run_detached(cfg, rec)
        except BaseException:
            containers.remove_record(cfg, rec, force=True)
            raise
        print(rec["Id"])
        return 0
    code = None
    try:
        code = containers.run_foreground(cfg, rec, interactive=a.interactive)
    finally:
        if a.rm:
            containers.remove_record(cfg, rec, force=True, released=code is not None)
    if shell.dry_run:
        shell.script("exit $status")
        return 0
    return code


@verb("create", *[x for x in RUN_ARGS if x[0][:1] != ("-d",)])
def cmd_create(cfg, a):
    """Create a container (snapshot and record) without starting it; prints its id."""
    from . import containers
    opts = _run_options(a)
    _image_or_pull(cfg, a.image)
    print(containers.create(cfg, a.image, opts)["Id"])


@verb("start", arg("-a", "--attach", action="store_true", help="attach output, exit with its code"),
      arg("-i", "--interactive", action="store_true", help="keep stdin open"),
      arg("containers", nargs="+", help="containers to start"))
def cmd_start(cfg, a):
    """Start created or stopped containers (detached, unless -a)."""
    from . import containers, store
    failed = False
    for ref in a.containers:
        try:
            cid = containers.resolve(cfg, ref)
            with store.lock(containers.cdir(cfg, cid, ".lock")):
                rec = containers.startable(cfg, cid)
                if rec is None:  # running already
                    print(ref)
                    continue
                if not a.attach:
                    containers.run_detached(cfg, rec)
                    print(ref)
                    continue
            return containers.run_foreground(cfg, rec, interactive=a.interactive)
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


def _each(refs, action):
    """Apply an action to each container, docker-style: print each ref, report errors, exit 1."""
    failed = False
    for ref in refs:
        try:
            out = action(ref)
            print(ref if out is None else out)
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


@verb("stop", arg("-t", "--time", type=int, default=10, help="seconds to wait before SIGKILL"),
      arg("-s", "--signal", default="TERM", help="signal to send first"),
      arg("containers", nargs="+", help="containers to stop"))
def cmd_stop(cfg, a):
    """Stop running containers: SIGTERM, then SIGKILL after -t seconds."""
    from . import containers
    return _each(a.containers, lambda r: containers.stop(cfg, r, a.time, a.signal))


@verb("restart", arg("-t", "--time", type=int, default=10, help="seconds to wait before SIGKILL"),
      arg("containers", nargs="+", help="containers to restart"))
def cmd_restart(cfg, a):
    """Stop (if running), then start containers."""
    from . import containers, store

    def restart(ref):
        containers.stop(cfg, ref, a.time)
        cid = containers.resolve(cfg, ref)
        with store.lock(containers.cdir(cfg, cid, ".lock")):
            rec = containers.startable(cfg, cid)
            if rec is not None:  # (unless another command started it meanwhile)
                containers.run_detached(cfg, rec)
    return _each(a.containers, restart)


@verb("kill", arg("-s", "--signal", default="KILL", help="signal (name or number), default KILL"),
      arg("containers", nargs="+", help="containers to signal"))
def cmd_kill(cfg, a):
    """Send a signal to the main process of running containers."""
    from . import containers
    return _each(a.containers, lambda r: containers.send_signal(cfg, r, a.signal) and None)


@verb("wait", arg("containers", nargs="+", help="containers to wait for"))
def cmd_wait(cfg, a):
    """Block until containers stop, then print their exit codes."""
    from . import containers
    return _each(a.containers, lambda r: containers.wait_exit(cfg, containers.resolve(cfg, r)))


@verb("pause", arg("containers", nargs="+", help="containers to freeze"))
def cmd_pause(cfg, a):
    """Freeze all processes of containers (freezer cgroup)."""
    from . import containers
    return _each(a.containers, lambda r: containers.pause(cfg, r, True))


@verb("unpause", arg("containers", nargs="+", help="containers to thaw"))
def cmd_unpause(cfg, a):
    """Thaw paused containers."""
    from . import containers
    return _each(a.containers, lambda r: containers.pause(cfg, r, False))


@verb("exec", arg("-d", "--detach", action="store_true", help="run in the background"),
      arg("-i", "--interactive", action="store_true", help="keep stdin open"),
      arg("-t", "--tty", action="store_true", help="allocate a pseudo-terminal"),
      arg("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="set an environment variable"),
      arg("-w", "--workdir", help="working directory (default: the container's)"),
      arg("-u", "--user", help="USER[:GROUP]"),
      arg("container", help="a running container"), arg("command", nargs="...", help="command and arguments"))
def cmd_exec(cfg, a):
    """Run a command in a running container (its namespaces, root, cgroup, env, privileges)."""
    from . import containers
    if not a.command:
        raise BockerError("exec needs a command")
    return containers.exec_in(cfg, a.container, a.command, a.workdir, a.user, a.env,
                              interactive=a.interactive, detach=a.detach, tty=a.tty)


@verb("_exited", arg("container"))
def cmd_exited(cfg, a):
    """(internal) Record a detached container's exit: called by its monitor."""
    from . import containers
    containers.exited(cfg, a.container)


@verb("_lease", arg("container"))
def cmd_lease(cfg, a):
    """(internal) Lease an address for a container: dry-run scripts call this."""
    from . import network
    print(network.lease(cfg, a.container))


@verb("_release", arg("container"))
def cmd_release(cfg, a):
    """(internal) Give back a container's address: dry-run scripts call this."""
    from . import network
    network.release(cfg, a.container)


FILTER = arg("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
             help="status=, name=, id=, ancestor=, label=KEY[=VALUE]")


@verb("ps", arg("-a", "--all", action="store_true", help="also stopped containers"),
      arg("-q", "--quiet", action="store_true", help="only ids"),
      arg("--no-trunc", action="store_true", help="full ids and commands"), FILTER, FORMAT)
def cmd_ps(cfg, a):
    """List containers: CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES."""
    from . import containers, fmt
    filters = containers.parse_filters(a.filter)
    rows = containers.ps_rows(cfg, all_=a.all or "status" in filters, filters=filters)
    if a.quiet:
        for r in rows:
            print(r["ID"] if a.no_trunc else r["ID"][:12])
        return
    if a.format:  # ids as docker shows them: 12 characters unless --no-trunc
        fmt.emit([r if a.no_trunc else dict(r, ID=r["ID"][:12]) for r in rows], a.format)
        return

    def command(c):
        c = '"' + c + '"' if a.no_trunc or len(c) <= 20 else '"' + c[:19] + '…"'
        return c
    fmt.table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
              [[r["ID"] if a.no_trunc else r["ID"][:12], r["Image"], command(r["Command"]),
                r["RunningFor"], r["Status"], r["Ports"], r["Names"]] for r in rows])


@verb("logs", arg("-f", "--follow", action="store_true", help="follow until the container exits"),
      arg("-n", "--tail", default="all", help="only the last N lines"),
      arg("-t", "--timestamps", action="store_true", help="show when each line was written"),
      arg("--since", help="lines since: RFC 3339 time, Unix time, or a duration ago (10m)"),
      arg("--until", help="lines until: RFC 3339 time, Unix time, or a duration ago (10m)"),
      arg("container", help="container"))
def cmd_logs(cfg, a):
    """Show a container's output (stdout and stderr, kept after it exits).

    Each line is stamped when written; the log is rotated past --log-opt max-size (10m)."""
    from . import logs
    logs.show(cfg, a.container, tail=a.tail, follow=a.follow, timestamps=a.timestamps,
              since=a.since, until=a.until)


@verb("rm", arg("-f", "--force", action="store_true", help="kill a running container first"),
      arg("-v", "--volumes", action="store_true", help="also remove its anonymous volumes"),
      arg("containers", nargs="+", help="containers to remove"))
def cmd_rm(cfg, a):
    """Remove containers: their snapshot, record, cgroup and address."""
    from . import containers
    return _each(a.containers, lambda r: containers.remove(cfg, r, force=a.force, volumes=a.volumes) and None)


@verb("container prune", arg("-f", "--force", action="store_true", help="do not ask (bocker never asks)"))
def cmd_container_prune(cfg, a):
    """Remove all stopped containers."""
    from . import containers
    stopped = [r["ID"] for r in containers.ps_rows(cfg, all_=True) if r["State"] not in ("running", "paused")]
    return _each(stopped, lambda cid: containers.remove(cfg, cid) and None)


@verb("image prune", arg("-a", "--all", action="store_true", help="all images not used by a container"),
      arg("-f", "--force", action="store_true", help="do not ask (bocker never asks)"))
def cmd_image_prune(cfg, a):
    """Remove dangling images (untagged and unused); -a: every unused image."""
    from . import images, transfer
    for line in images.prune(cfg, all_=a.all):
        print(line)
    for chain in transfer.prune_layers(cfg):
        print(f"Deleted layer: {chain}")


@verb("volume create", arg("--label", action="append", default=[], help="KEY=VALUE"),
      arg("name", nargs="?", help="volume name (default: random)"))
def cmd_volume_create(cfg, a):
    """Create a named volume (a btrfs subvolume)."""
    from . import volumes
    print(volumes.create(cfg, a.name, dict(l.partition("=")[::2] for l in a.label)))


@verb("volume ls", arg("-q", "--quiet", action="store_true", help="only names"), FORMAT)
def cmd_volume_ls(cfg, a):
    """List volumes: DRIVER VOLUME NAME."""
    from . import fmt, volumes
    rows = [volumes.info(cfg, n) for n in volumes.names(cfg)]
    if a.quiet:
        for r in rows:
            print(r["Name"])
    elif a.format:
        fmt.emit(rows, a.format)
    else:
        fmt.table(["DRIVER", "VOLUME NAME"], [[r["Driver"], r["Name"]] for r in rows])


@verb("volume inspect", FORMAT, arg("names", nargs="+", help="volumes"))
def cmd_volume_inspect(cfg, a):
    """Volume details, as a JSON array."""
    from . import fmt, volumes
    fmt.emit([volumes.info(cfg, n) for n in a.names], a.format or "json", as_array=True)


@verb("volume rm", arg("-f", "--force", action="store_true", help="no error if missing"),
      arg("names", nargs="+", help="volumes"))
def cmd_volume_rm(cfg, a):
    """Remove volumes (refused while a container uses one)."""
    from . import volumes
    return _each(a.names, lambda n: volumes.remove(cfg, n, force=a.force))


@verb("volume prune", arg("-a", "--all", action="store_true", help="named volumes too"),
      arg("-f", "--force", action="store_true", help="do not ask (bocker never asks)"))
def cmd_volume_prune(cfg, a):
    """Remove unused anonymous volumes (-a: all unused volumes)."""
    from . import volumes
    for n in volumes.prune(cfg, all_=a.all):
        print(n)


@verb("system prune", arg("-a", "--all", action="store_true", help="all unused images"),
      arg("--volumes", action="store_true", help="prune volumes too"),
      arg("-f", "--force", action="store_true", help="do not ask (bocker never asks)"))
def cmd_system_prune(cfg, a):
    """Remove stopped containers, dangling images (and unused volumes with --volumes)."""
    from . import volumes
    code = cmd_container_prune(cfg, a)
    cmd_image_prune(cfg, a)
    if a.volumes:  # (docker: anonymous volumes only, also with -a)
        for name in volumes.prune(cfg):
            print(name)
    return code


@verb("system df")
def cmd_system_df(cfg, a):
    """Disk usage: images, containers, volumes (apparent sizes; btrfs shares blocks)."""
    from . import containers, fmt, images, volumes
    imgs = images.listing(cfg)
    ids = {r["Id"]: r["Size"] for r in imgs}
    recs = containers.all_records(cfg)
    used = {r["Image"] for r in recs}
    running = sum(1 for r in containers.ps_rows(cfg))
    vols = volumes.names(cfg)
    vol_size = sum(images.dir_size(volumes.path(cfg, n)) for n in vols)
    fmt.table(["TYPE", "TOTAL", "ACTIVE", "SIZE"],
              [["Images", len(ids), len(used & set(ids)), fmt.human_size(sum(ids.values()))],
               ["Containers", len(recs), running, ""],
               ["Local Volumes", len(vols), sum(1 for n in vols if volumes.users(cfg, n)),
                fmt.human_size(vol_size)]])


# --- parsing and dispatch -----------------------------------------------------------------

def _summary(fn):
    return (fn.__doc__ or "").strip().splitlines()[0]


def _wanted_verb(argv):
    """The verb named on the command line (after the global options), to build only its parser:
    building all of them costs ~10 ms on every command."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] == "--root" else 1
    if i >= len(argv):
        return None
    if i + 1 < len(argv) and f"{argv[i]} {argv[i + 1]}" in VERBS:
        return f"{argv[i]} {argv[i + 1]}"
    return argv[i] if argv[i] in VERBS else None


def _parser(only=None):
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            sys.stderr.write(f"bocker: {message}\nSee '{self.prog} --help'.\n")
            sys.exit(125)

    top = Parser(prog="bocker", description="Docker-style containers from btrfs, namespaces, "
                 "cgroups and a bridge.", formatter_class=argparse.RawDescriptionHelpFormatter,
                 epilog="Environment: BOCKER_ROOT (/var/bocker), BOCKER_BRIDGE (bocker0), "
                        "BOCKER_SUBNET (10.201.0.0/16), BOCKER_TIMINGS=1 (per-step timings).")
    top.add_argument("--root", help="store directory (default $BOCKER_ROOT or /var/bocker)")
    top.add_argument("--trace", action="store_true", help="print every step as a shell line")
    top.add_argument("--dry-run", action="store_true", help="print the steps as a script, change nothing")
    top.add_argument("--version", action="version", version=f"bocker version {__version__}")
    sub = top.add_subparsers(dest="verb", metavar="COMMAND", title="commands")
    groups = {}
    for name, (fn, arguments, _) in VERBS.items():
        if only and name != only:
            continue
        where, leaf = sub, name
        if " " in name:  # "volume create": a sub-command of a command group
            group, leaf = name.split(" ", 1)
            if group not in groups:
                gp = sub.add_parser(group, help=f"manage {group}s ({group} COMMAND --help)")
                groups[group] = gp.add_subparsers(dest="sub", metavar="COMMAND", title="commands",
                                                  required=True)
            where = groups[group]
        help_text = argparse.SUPPRESS if name.startswith("_") else _summary(fn)
        p = where.add_parser(leaf, help=help_text, description=(fn.__doc__ or "").strip(),
                             add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--help", action="help", help="show this help")
        for flags, kwargs in arguments:
            kwargs = dict(kwargs)
            if kwargs.get("nargs") == "...":
                kwargs["nargs"] = argparse.REMAINDER
            p.add_argument(*flags, **kwargs)
    return top


def main(argv, started=None):
    from . import config, shell
    if started is not None:
        shell.mark_start(started)
    if argv[:1] in (["--version"], ["version"]):
        print(f"bocker version {__version__}")
        return 0
    verb = _wanted_verb(argv)
    first = next((w for i, w in enumerate(argv) if not w.startswith("-")
                  and (i == 0 or argv[i - 1] != "--root")), None)
    if verb is None and first and first not in {n.split(" ")[0] for n in VERBS}:
        sys.stderr.write(f"bocker: '{first}' is not a bocker command.\nSee 'bocker --help'.\n")
        return 125
    a = _parser(verb).parse_args(argv)
    if not a.verb:
        _parser().print_help()
        return 0
    fn, _, needs_store = VERBS[a.verb + (" " + a.sub if getattr(a, "sub", None) else "")]
    cfg = config.Config(a.root)
    shell.configure(trace_on=a.trace, dry_run_on=a.dry_run, timings_on=cfg.timings)
    shell.lap("start-up")
    try:
        if os.geteuid() != 0:
            raise BockerError("bocker needs root (namespaces, mounts, cgroups): run it with sudo")
        if needs_store:
            from . import store
            store.check(cfg)
        code = fn(cfg, a) or 0
    except BockerError as e:
        sys.stderr.write(f"bocker: {e}\n")
        code = e.code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `bocker logs x | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except Exception as e:  # a bug: still one line, unless BOCKER_DEBUG asks for the traceback
        if os.environ.get("BOCKER_DEBUG"):
            raise
        sys.stderr.write(f"bocker: internal error: {type(e).__name__}: {e} (BOCKER_DEBUG=1 for details)\n")
        code = 125
    shell.report_timings()
    return code


from . import cli_registry  # noqa: E402,F401 (registers pull, push, save, load, ...: needs `verb` above)

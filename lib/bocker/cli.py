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
    arg("image", help="image name[:tag] or id"),
    arg("command", nargs="...", help="command and arguments (default: the image's CMD)"),
)


def _run_options(a):
    from . import cgroups
    if a.network not in ("bridge", "none", "host"):
        raise BockerError(f"network {a.network} not found (bridge, none or host)")
    return {"name": a.name, "env": a.env, "workdir": a.workdir, "user": a.user, "rm": a.rm,
            "hostname": a.hostname, "entrypoint": a.entrypoint, "network": a.network,
            "memory": cgroups.parse_memory(a.memory) if a.memory else 0,
            "cpus": cgroups.parse_cpus(a.cpus) if a.cpus else 0,
            "pids_limit": a.pids_limit if a.pids_limit and a.pids_limit > 0 else 0,
            "labels": dict(l.partition("=")[::2] for l in a.label),
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
      arg("--no-trunc", action="store_true", help="full ids"), FORMAT)
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
    from . import images
    failed = False
    for ref in a.image:
        try:
            for line in images.remove(cfg, ref, force=a.force):
                print(line)
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
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
    if a.detach:
        raise BockerError("run -d is not supported yet")
    rec = containers.create(cfg, a.image, _run_options(a))
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


@verb("ps", arg("-a", "--all", action="store_true", help="also stopped containers"),
      arg("-q", "--quiet", action="store_true", help="only ids"),
      arg("--no-trunc", action="store_true", help="full ids and commands"), FORMAT)
def cmd_ps(cfg, a):
    """List containers: CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES."""
    from . import containers, fmt
    rows = containers.ps_rows(cfg, all_=a.all)
    if a.quiet:
        for r in rows:
            print(r["ID"] if a.no_trunc else r["ID"][:12])
        return
    if a.format:
        fmt.emit(rows, a.format)
        return

    def command(c):
        c = '"' + c + '"' if a.no_trunc or len(c) <= 20 else '"' + c[:19] + '…"'
        return c
    fmt.table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
              [[r["ID"] if a.no_trunc else r["ID"][:12], r["Image"], command(r["Command"]),
                r["RunningFor"], r["Status"], r["Ports"], r["Names"]] for r in rows])


@verb("logs", arg("container", help="container"))
def cmd_logs(cfg, a):
    """Show a container's output (stdout and stderr, kept after it exits)."""
    from . import containers
    cid = containers.resolve(cfg, a.container)
    try:
        with open(containers.cdir(cfg, cid, "container.log"), "rb") as f:
            while chunk := f.read(65536):
                sys.stdout.buffer.write(chunk)
    except FileNotFoundError:
        pass


@verb("rm", arg("-f", "--force", action="store_true", help="kill a running container first"),
      arg("containers", nargs="+", help="containers to remove"))
def cmd_rm(cfg, a):
    """Remove containers: their snapshot, record, cgroup and address."""
    from . import containers
    failed = False
    for ref in a.containers:
        try:
            containers.remove(cfg, ref, force=a.force)
            print(ref)
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


# --- parsing and dispatch -----------------------------------------------------------------

def _summary(fn):
    return (fn.__doc__ or "").strip().splitlines()[0]


def _parser():
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
    for name, (fn, arguments, _) in VERBS.items():
        p = sub.add_parser(name, help=_summary(fn), description=(fn.__doc__ or "").strip(),
                           add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--help", action="help", help="show this help")
        for flags, kwargs in arguments:
            kwargs = dict(kwargs)
            if kwargs.get("nargs") == "...":
                kwargs["nargs"] = argparse.REMAINDER
            p.add_argument(*flags, **kwargs)
    return top


def main(argv):
    from . import config, shell
    if argv[:1] in (["--version"], ["version"]):
        print(f"bocker version {__version__}")
        return 0
    a = _parser().parse_args(argv)
    if not a.verb:
        _parser().print_help()
        return 0
    fn, _, needs_store = VERBS[a.verb]
    cfg = config.Config(a.root)
    shell.configure(trace_on=a.trace, dry_run_on=a.dry_run, timings_on=cfg.timings)
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
    except Exception as e:  # a bug: still one line, unless BOCKER_DEBUG asks for the traceback
        if os.environ.get("BOCKER_DEBUG"):
            raise
        sys.stderr.write(f"bocker: internal error: {type(e).__name__}: {e} (BOCKER_DEBUG=1 for details)\n")
        code = 125
    except BrokenPipeError:
        code = 0
    shell.report_timings()
    return code

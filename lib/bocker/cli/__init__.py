"""Command line: one verb = one function; its docstring is its help (first line: the summary).

The verbs live in one module per noun (containers, images, registry, volumes, network, system);
INDEX names each verb's module, so a command imports only its own noun's module: building
every parser costs ~10 ms on each command. Exit codes are docker's: 125 for bocker's own
errors, 126/127 when the command cannot be invoked or found, otherwise the container's own.
"""
import os
import sys

from .. import BockerError, __version__
from . import verbs

# verb -> module of bocker.cli that defines it; --help lists them in this order.
# Verbs whose name starts with "_" are bocker's own callbacks: left out of --help.
INDEX = {
    "setup": "system", "teardown": "system",
    "init": "images", "images": "images", "tag": "images", "rmi": "images",
    "commit": "containers", "inspect": "system",
    "run": "containers", "create": "containers", "start": "containers", "stop": "containers",
    "restart": "containers", "kill": "containers", "wait": "containers", "pause": "containers",
    "unpause": "containers", "exec": "containers", "_exited": "containers",
    "_lease": "network", "_release": "network",
    "ps": "containers", "logs": "containers", "rm": "containers", "container prune": "containers",
    "image prune": "images",
    "volume create": "volumes", "volume ls": "volumes", "volume inspect": "volumes",
    "volume rm": "volumes", "volume prune": "volumes",
    "system prune": "system", "system df": "system", "info": "system", "system info": "system",
    "pull": "registry", "push": "registry", "login": "registry", "logout": "registry",
    "save": "images", "load": "images", "export": "containers", "import": "images",
    "history": "images", "search": "registry",
    "build": "build",
    # services (issue 14)
    "rename": "containers",
}


def _load(names):
    """Import the noun modules that define these verbs (they register themselves)."""
    for module in sorted({INDEX[n] for n in names}):
        __import__(f"{__name__}.{module}")


def __getattr__(name):
    """`cli.VERBS`: the whole registry, every noun module loaded (tests, documentation)."""
    if name == "VERBS":
        _load(INDEX)
        return {n: verbs.VERBS[n] for n in INDEX}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _summary(fn):
    return (fn.__doc__ or "").strip().splitlines()[0]


def _wanted_verb(argv):
    """The verb named on the command line (after the global options), to build only its parser."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] == "--root" else 1
    if i >= len(argv):
        return None
    if i + 1 < len(argv) and f"{argv[i]} {argv[i + 1]}" in INDEX:
        return f"{argv[i]} {argv[i + 1]}"
    return argv[i] if argv[i] in INDEX else None


def _parser(only=None):
    """The argument parser: of one verb (`only`), or of every verb but the hidden ones."""
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
    names = [only] if only else [n for n in INDEX if not n.startswith("_")]
    _load(names)
    groups = {}
    for name in names:
        fn, arguments, _ = verbs.VERBS[name]
        where, leaf = sub, name
        if " " in name:  # "volume create": a sub-command of a command group
            group, leaf = name.split(" ", 1)
            if group not in groups:
                gp = sub.add_parser(group, help=f"manage {group}s ({group} COMMAND --help)")
                groups[group] = gp.add_subparsers(dest="sub", metavar="COMMAND", title="commands",
                                                  required=True)
            where = groups[group]
        p = where.add_parser(leaf, help=_summary(fn), description=(fn.__doc__ or "").strip(),
                             add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--help", action="help", help="show this help")
        for flags, kwargs in arguments:
            kwargs = dict(kwargs)
            if kwargs.get("nargs") == "...":
                kwargs["nargs"] = argparse.REMAINDER
            p.add_argument(*flags, **kwargs)
    return top


def main(argv, started=None):
    from .. import config, shell
    if started is not None:
        shell.mark_start(started)
    if argv[:1] in (["--version"], ["version"]):
        print(f"bocker version {__version__}")
        return 0
    verb = _wanted_verb(argv)
    first = next((w for i, w in enumerate(argv) if not w.startswith("-")
                  and (i == 0 or argv[i - 1] != "--root")), None)
    if verb is None and first and first not in {n.split(" ")[0] for n in INDEX}:
        sys.stderr.write(f"bocker: '{first}' is not a bocker command.\nSee 'bocker --help'.\n")
        return 125
    a = _parser(verb).parse_args(argv)
    if not a.verb:
        _parser().print_help()
        return 0
    fn, _, needs_store = verbs.VERBS[a.verb + (" " + a.sub if getattr(a, "sub", None) else "")]
    cfg = config.Config(a.root)
    shell.configure(trace_on=a.trace, dry_run_on=a.dry_run, timings_on=cfg.timings)
    shell.lap("start-up")
    try:
        if os.geteuid() != 0:
            raise BockerError("bocker needs root (namespaces, mounts, cgroups): run it with sudo")
        if needs_store:
            from .. import store
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

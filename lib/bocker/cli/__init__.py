"""Command line: one verb = one function; its docstring is its help (first line: the summary).

The verbs live in one module per noun (containers, images, registry, volumes, network, system);
INDEX names each verb's module, so a command imports only its own noun's module: building
every parser costs ~10 ms on each command. Exit codes are docker's (exit_code below).
"""
import os
import sys

from .. import EXIT_ERROR, EXIT_REFUSED, BockerError, __version__
from . import verbs

# verb -> module of bocker.cli that defines it; --help lists them in this order.
# Verbs whose name starts with "_" are bocker's own callbacks: left out of --help.
INDEX = {
    "setup": "system", "teardown": "system",
    "init": "images", "images": "images", "tag": "images", "rmi": "images",
    "commit": "containers", "inspect": "system",
    "run": "containers", "create": "containers", "start": "containers", "stop": "containers",
    "restart": "containers", "kill": "containers", "wait": "containers", "pause": "containers",
    "unpause": "containers", "exec": "containers", "_exited": "containers", "_restart": "containers",
    "_health": "containers",
    "_lease": "network", "_release": "network",
    "network create": "network", "network ls": "network", "network inspect": "network",
    "network rm": "network", "network prune": "network", "network connect": "network",
    "network disconnect": "network", "port": "containers",
    "ps": "containers", "logs": "containers", "rm": "containers", "container prune": "containers",
    "image prune": "images",
    "volume create": "volumes", "volume ls": "volumes", "volume inspect": "volumes",
    "volume rm": "volumes", "volume prune": "volumes",
    "system prune": "system", "system df": "system", "info": "system", "system info": "system",
    "version": "system", "_completion": "system", "_docs": "system",
    "pull": "registry", "push": "registry", "login": "registry", "logout": "registry",
    "save": "images", "load": "images", "export": "containers", "import": "images",
    "history": "images", "search": "registry",
    "build": "build",
    # services (issue 14)
    "rename": "containers", "update": "containers",
    "cp": "files", "diff": "files", "top": "stats", "stats": "stats",
    "events": "events", "attach": "containers",
}

# Docker's management commands, each the same function (and help) as its short verb; the
# dict: defaults it sets (`image inspect` looks only at images).
ALIASES = {
    **{f"container {leaf}": (verb, {}) for leaf, verb in (
        ("ls", "ps"), ("ps", "ps"), ("list", "ps"), ("rm", "rm"), ("remove", "rm"),
        ("start", "start"), ("stop", "stop"), ("restart", "restart"), ("logs", "logs"),
        ("exec", "exec"), ("run", "run"), ("create", "create"), ("kill", "kill"), ("wait", "wait"),
        ("pause", "pause"), ("unpause", "unpause"), ("commit", "commit"), ("export", "export"),
        ("cp", "cp"), ("diff", "diff"), ("top", "top"), ("stats", "stats"), ("rename", "rename"),
        ("update", "update"), ("attach", "attach"), ("port", "port"))},
    "container inspect": ("inspect", {"type": "container"}),
    **{f"image {leaf}": (verb, {}) for leaf, verb in (
        ("ls", "images"), ("list", "images"), ("rm", "rmi"), ("remove", "rmi"), ("tag", "tag"),
        ("pull", "pull"), ("push", "push"), ("history", "history"), ("save", "save"),
        ("load", "load"), ("import", "import"), ("build", "build"))},
    "image inspect": ("inspect", {"type": "image"}),
    "system events": ("events", {}),
}
INDEX.update({alias: INDEX[verb] for alias, (verb, _) in ALIASES.items()})


def _entry(name):
    """(function, arguments, needs a store) of a verb or of the verb an alias names."""
    return verbs.VERBS[ALIASES[name][0] if name in ALIASES else name]


def _load(names):
    """Import the noun modules that define these verbs (they register themselves)."""
    for module in sorted({INDEX[n] for n in names}):
        __import__(f"{__name__}.{module}")


def __getattr__(name):
    """`cli.VERBS`: the whole registry, every noun module loaded (tests, documentation)."""
    if name == "VERBS":
        _load(INDEX)
        return {n: _entry(n) for n in INDEX}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Docker's CLI: these verbs exit 125 for their own errors (126/127 and the container's code
# pass through everywhere); every other verb exits 1 when it refuses.
# (build too: issue 13 asks 125 for a Dockerfile it cannot parse; a failing RUN exits 1)
OWN_125 = {"run", "create", "build"}


NO_ROOT = {"version", "_completion", "_docs"}  # verbs that need no privilege (as `docker version` needs no daemon)


def exit_code(verb, code):
    """The exit code of `verb` for an error whose code is `code`, as Docker's CLI."""
    verb = ALIASES[verb][0] if verb in ALIASES else verb
    return EXIT_REFUSED if code == EXIT_ERROR and verb not in OWN_125 else code


def _requires(parser):
    """Docker's line for missing arguments: '"bocker tag" requires exactly 2 arguments.'"""
    import argparse
    positionals = parser._get_positional_actions()
    needed = sum(1 for p in positionals if p.required and p.nargs != argparse.REMAINDER)
    exact = all(p.nargs is None for p in positionals)
    plural = "" if needed == 1 else "s"
    return f'"{parser.prog}" requires {"exactly" if exact else "at least"} {needed} argument{plural}.'


def _add(parser, flags, kwargs):
    """One argument; a boolean flag also takes Docker's `--flag=false` and `--flag=true`
    (exact option strings: argparse looks them up before splitting at '=')."""
    import argparse
    action = parser.add_argument(*flags, **kwargs)
    if kwargs.get("action") == "store_true":
        for option in action.option_strings:
            for value, store in (("false", "store_false"), ("true", "store_true")):
                parser.add_argument(f"{option}={value}", dest=action.dest, action=store,
                                    help=argparse.SUPPRESS)


def _split_short_bools(parser, args):
    """pflag's `-it=false`: the last of combined short flags takes the value (`-i -t=false`).
    Only among the options before the first positional (`run`'s command is left alone)."""
    import re
    out = list(args)
    i = 0
    while i < len(out) and out[i].startswith("-") and out[i] != "--":
        m = re.fullmatch(r"-([A-Za-z]+)([A-Za-z])=(true|false)", out[i])
        if m and all(f"-{c}=true" in parser._option_string_actions for c in m[1] + m[2]):
            out[i:i + 1] = [f"-{c}" for c in m[1]] + [f"-{m[2]}={m[3]}"]
            i += len(m[1])
        action = parser._option_string_actions.get(out[i])
        i += 2 if action is not None and action.nargs is None and "=" not in out[i] else 1
    return out


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


def _environment():
    """--help's Environment section: each variable with the value in force (--root overrides
    BOCKER_ROOT)."""
    from .. import config
    cfg = config.Config()
    env = os.environ
    values = [("BOCKER_ROOT", cfg.root), ("BOCKER_BRIDGE", cfg.bridge), ("BOCKER_SUBNET", cfg.subnet),
              ("BOCKER_NETWORK_POOL", cfg.network_pool), ("BOCKER_NETWORK_PREFIX", cfg.network_prefix),
              ("BOCKER_CGROUP_ROOT", cfg.cgroup_root), ("BOCKER_CGROUP_PARENT", cfg.cgroup_parent),
              ("BOCKER_STORE_SIZE", cfg.store_size),
              ("BOCKER_USERNS_REMAP", env.get("BOCKER_USERNS_REMAP", "")),
              ("BOCKER_INSECURE_REGISTRIES", env.get("BOCKER_INSECURE_REGISTRIES", "")),
              ("BOCKER_TIMINGS", env.get("BOCKER_TIMINGS", "") + "  (1: per-step timings)"),
              ("BOCKER_DEBUG", env.get("BOCKER_DEBUG", "") + "  (1: tracebacks of internal errors)")]
    return "Environment (the values in force):\n" + "\n".join(f"  {k}={v}" for k, v in values)


def _parser(only=None):
    """The argument parser: of one verb (`only`), or of every verb but the hidden ones."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            code = EXIT_ERROR  # a bad flag: 125 for every verb, as Docker
            if message.startswith("the following arguments are required") and self.prog != "bocker":
                message, code = _requires(self), EXIT_REFUSED
            sys.stderr.write(f"bocker: {message}\nSee '{self.prog} --help'.\n")
            sys.exit(code)

        def parse_known_args(self, args=None, namespace=None):
            return super().parse_known_args(_split_short_bools(self, list(args)), namespace)

    # allow_abbrev=False (here and in every sub-parser): no prefix matching, as Docker's
    # flags (`--nam` is an error, `--pid host` is not `--pids-limit`)
    top = Parser(prog="bocker", allow_abbrev=False, description="Docker-style containers from btrfs, namespaces, "
                 "cgroups and a bridge.", formatter_class=argparse.RawDescriptionHelpFormatter,
                 epilog=_environment() if not only else None)
    top.add_argument("--root", help="store directory (default $BOCKER_ROOT or /var/bocker)")
    _add(top, ["--trace"], dict(action="store_true", help="print every step as a shell line"))
    _add(top, ["--dry-run"], dict(action="store_true", help="print the steps as a script, change nothing"))
    top.add_argument("--version", action="version", version=f"bocker version {__version__}")
    sub = top.add_subparsers(dest="verb", metavar="COMMAND", title="commands")
    names = [only] if only else [n for n in INDEX if not n.startswith("_")]
    _load(names)
    groups = {}
    for name in names:
        fn, arguments, _ = _entry(name)
        where, leaf = sub, name
        if " " in name:  # "volume create": a sub-command of a command group
            group, leaf = name.split(" ", 1)
            if group not in groups:
                gp = sub.add_parser(group, help=f"manage {group}s ({group} COMMAND --help)",
                                    allow_abbrev=False)
                groups[group] = gp.add_subparsers(dest="sub", metavar="COMMAND", title="commands",
                                                  required=True)
            where = groups[group]
        p = where.add_parser(leaf, help=_summary(fn), description=(fn.__doc__ or "").strip(),
                             add_help=False, allow_abbrev=False,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--help", action="help", help="show this help")
        for flags, kwargs in arguments:
            kwargs = dict(kwargs)
            if kwargs.get("nargs") == "...":
                kwargs["nargs"] = argparse.REMAINDER
            _add(p, flags, kwargs)
        if name in ALIASES:
            p.set_defaults(**ALIASES[name][1])
    return top


def main(argv, started=None):
    from .. import config, shell
    if started is not None:
        shell.mark_start(started)
    if argv[:1] == ["--version"]:
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
    name = a.verb + (" " + a.sub if getattr(a, "sub", None) else "")
    fn, _, needs_store = _entry(name)
    cfg = config.Config(a.root)
    shell.configure(trace_on=a.trace, dry_run_on=a.dry_run, timings_on=cfg.timings)
    shell.lap("start-up")
    try:
        if os.geteuid() != 0 and name not in NO_ROOT:
            raise BockerError("bocker needs root (namespaces, mounts, cgroups): run it with sudo")
        if needs_store:
            from .. import store
            store.check(cfg)
        code = fn(cfg, a) or 0
    except BockerError as e:
        sys.stderr.write(f"bocker: {e}\n")
        code = exit_code(name, e.code)
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `bocker logs x | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except Exception as e:  # a bug: still one line, unless BOCKER_DEBUG asks for the traceback
        if os.environ.get("BOCKER_DEBUG"):
            raise
        sys.stderr.write(f"bocker: internal error: {type(e).__name__}: {e} (BOCKER_DEBUG=1 for details)\n")
        code = exit_code(name, EXIT_ERROR)
    shell.report_timings()
    return code

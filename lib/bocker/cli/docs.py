"""README's command table, generated from the parser (`make docs`): each verb, its flags, its
summary; and Docker's verbs bocker does not have."""
import argparse

# the Docker CLI's verbs (docker 24+, without swarm, plugins, contexts and buildx)
DOCKER_VERBS = (
    "attach build commit cp create diff events exec export history images import info inspect kill "
    "load login logout logs pause port ps pull push rename restart rm rmi run save search start stats "
    "stop tag top unpause update version wait").split()
DOCKER_GROUPS = {
    "container": "attach commit cp create diff exec export inspect kill logs ls pause port prune rename "
                 "restart rm run start stats stop top unpause update wait",
    "image": "build history import inspect load ls prune pull push rm save tag",
    "network": "connect create disconnect inspect ls prune rm",
    "volume": "create inspect ls prune rm",
    "system": "df events info prune",
}
OUT_OF_SCOPE = "swarm, service, stack, node, secret, config, plugin, context, trust, manifest, buildx, compose"


def _verbs(top):
    """(path, parser, summary) of every public verb, in --help's order."""
    out = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {c.dest: c.help for c in action._choices_actions}
                for name, sub in action.choices.items():
                    if not name.startswith("_"):
                        if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                            walk(sub, f"{path} {name}".strip())
                        else:
                            out.append((f"{path} {name}".strip(), sub, helps.get(name, "")))
    walk(top, "")
    return out


def _flags(parser):
    shown = []
    for a in parser._actions:
        if not a.option_strings or a.help == argparse.SUPPRESS or "--help" in a.option_strings:
            continue
        names = ", ".join(sorted(a.option_strings, key=len))
        shown.append(names if a.nargs == 0 else f"{names} {a.metavar or a.dest.upper()}")
    return shown


def _positionals(parser):
    out = []
    for a in parser._actions:
        if a.option_strings or isinstance(a, argparse._SubParsersAction):
            continue
        name = (a.metavar or a.dest).upper()
        out.append({"?": f"[{name}]", "+": f"{name}...", "*": f"[{name}...]",
                    argparse.REMAINDER: f"[{name}...]"}.get(a.nargs, name))
    return " ".join(out)


def _cell(text):
    return text.replace("|", "\\|")


def table(top):
    """One row per verb; Docker's management-command aliases (`container ls`) named in its row."""
    from . import ALIASES
    lines = ["| command | flags | what it does |", "| --- | --- | --- |"]
    for path, parser, summary in _verbs(top):
        if path in ALIASES:
            continue
        also = [a for a, (verb, _) in ALIASES.items() if verb == path]
        usage = _positionals(parser)
        names = ", ".join(f"`{_cell(n + (' ' + usage if usage else ''))}`" if n == path else f"`{n}`"
                          for n in [path] + also)
        flags = " ".join(f"`{_cell(f)}`" for f in _flags(parser))
        lines.append(f"| {names} | {flags} | {_cell(summary)} |")
    return "\n".join(lines)


def missing(top):
    """Docker's verbs and sub-commands that bocker does not have."""
    have = {path for path, _, _ in _verbs(top)}
    out = [v for v in DOCKER_VERBS if v not in have]
    for group, leaves in DOCKER_GROUPS.items():
        out += [f"{group} {leaf}" for leaf in leaves.split() if f"{group} {leaf}" not in have]
    return out


def markdown(top):
    gone = missing(top)
    return (table(top) + "\n\nNot supported (Docker has them, bocker does not): "
            + (", ".join(f"`{v}`" for v in gone) or "none") + f"; out of scope: {OUT_OF_SCOPE}.")

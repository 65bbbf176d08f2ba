"""Docker's --format Go templates, on JSON-like values (dicts, lists, strings, numbers).

The part of text/template that scripts use: {{.A.B}}, {{.}}, {{$}}, variables, pipes
(`{{.Names | upper}}`), parentheses, {{if}}/{{else if}}/{{else}}, {{range}} (with `$i, $v :=`),
{{with}}, {{- trim -}}, comments; Go's built-ins index, len, eq, ne, lt, le, gt, ge, not, and,
or, print, printf, println; Docker's json, upper, lower, title, split, join, truncate, pad.
Values print as Go's fmt prints them (`[A=1 B=2]`, `map[k:v]`, `<no value>` for a missing field).
A leaf: only BockerError is imported.
"""
import json
import re

from . import BockerError

_ACTION = re.compile(r"{{(-\s)?(.*?)(\s-)?}}", re.S)
_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<field>(?:\$\w*)?(?:\.\w+)+|\.|\$\w*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<op>:=|[|(),=]))""", re.X)


class _Missing:
    """A field that is not there: Go prints `<no value>` (and it is false)."""

    def __repr__(self):
        return "<no value>"


MISSING = _Missing()


def render(template, value):
    """The template's text for one value."""
    return execute(parse(template), value)


def execute(nodes, value):
    """The text of a parsed template for one value."""
    return "".join(_run(nodes, value, {"$": value}))


def go_str(v):
    """A value as Go's fmt.Print shows it."""
    if v is None or v is MISSING:
        return "<no value>" if v is MISSING else "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k])}" for k in sorted(v)) + "]"
    return str(v)


def _truth(v):
    return not (v is None or v is MISSING or v is False or v == 0 or v in ("", [], {}))


def _json(v):
    # Docker: an Encoder without HTML escaping, the trailing newline trimmed
    return json.dumps(None if v is MISSING else v, ensure_ascii=False, separators=(",", ":"))


def _index(coll, *keys):
    for k in keys:
        try:
            coll = coll[k]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return coll


def _join(items, sep):
    if not isinstance(items, list):
        raise TypeError(f"join of {go_str(items)}: not a list")
    return sep.join(map(go_str, items))


def _printf(form, *args):
    """Go's printf for the verbs scripts use: %s %v %d %q %%."""
    it = iter(args)

    def one(m):
        if m[0] == "%%":
            return "%"
        v = next(it, MISSING)
        return json.dumps(go_str(v)) if m[1] == "q" else go_str(v)
    return re.sub(r"%[-+# 0-9.]*([svdqfgt%])", one, form)


FUNCS = {
    "json": _json, "upper": lambda s: go_str(s).upper(), "lower": lambda s: go_str(s).lower(),
    "title": lambda s: re.sub(r"(?<!\w)\w", lambda m: m[0].upper(), go_str(s)),
    "split": lambda s, sep: go_str(s).split(sep), "join": _join,
    "truncate": lambda s, n: go_str(s)[:int(n)],
    "pad": lambda s, before, after: " " * int(before) + go_str(s) + " " * int(after),
    "index": _index, "len": len, "not": lambda v: not _truth(v),
    "and": lambda *a: next((x for x in a if not _truth(x)), a[-1]),
    "or": lambda *a: next((x for x in a if _truth(x)), a[-1]),
    "eq": lambda a, *b: any(a == x for x in b), "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "print": lambda *a: "".join(go_str(x) for x in a), "printf": _printf,
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
}


def _fail(why):
    raise BockerError(f"--format: template: {why}")


# parsing: text and actions -> a tree of ("text", s), ("out", pipe), ("if"|"with", pipe, body,
# else), ("range", names, pipe, body, else); a pipe is (declared names, [commands]).

def _pieces(template):
    """Text and action strings, with {{- and -}} trimming the whitespace beside them."""
    out, pos, trim_next = [], 0, False
    for m in _ACTION.finditer(template):
        text = template[pos:m.start()]
        text = text.lstrip() if trim_next else text
        out.append(("text", text.rstrip() if m[1] else text))
        out.append(("action", m[2].strip()))
        pos, trim_next = m.end(), bool(m[3])
    rest = template[pos:]
    if "{{" in rest:
        _fail("unclosed action")
    out.append(("text", rest.lstrip() if trim_next else rest))
    return [p for p in out if p != ("text", "")]


def parse(template):
    """The tree of a template (errors are found here, before any value: Docker's too)."""
    pieces = _pieces(template)
    nodes, stop = _parse_list(pieces, 0, ())
    if stop[0] is not None:
        _fail(f"unexpected {{{{{stop[0]}}}}}")
    return nodes


def _parse_list(pieces, i, stops):
    """Nodes up to one of the keywords `stops` (else, end): (nodes, (keyword, rest, next i))."""
    nodes = []
    while i < len(pieces):
        kind, text = pieces[i]
        i += 1
        if kind == "text":
            nodes.append(("text", text))
            continue
        m = re.match(r"(if|with|range|else|end)\b(.*)", text, re.S)  # ({{if.ID}} too, as Go)
        word, rest = m.groups() if m else ("", text)
        if text.startswith("/*"):
            continue
        if word in ("end", "else"):
            if word not in stops:
                _fail(f"unexpected {{{{{word}}}}}")
            return nodes, (word, rest.strip(), i)
        if word in ("if", "with", "range"):
            node, i = _parse_block(word, rest, pieces, i)
            nodes.append(node)
        else:
            nodes.append(("out", _pipe(text)))
    if stops:
        _fail("unexpected end of template (missing {{end}})")
    return nodes, (None, "", i)


def _parse_block(word, rest, pieces, i):
    """{{if|with|range PIPE}} BODY [{{else [if ...]}} ELSE] {{end}} -> (node, next i)."""
    pipe = _pipe(rest)
    body, (stop, after, i) = _parse_list(pieces, i, ("else", "end"))
    other = []
    if stop == "else" and after.startswith("if "):  # else if: an if that shares this {{end}}
        node, i = _parse_block("if", after[3:], pieces, i)
        other = [node]
    elif stop == "else":
        other, (_, _, i) = _parse_list(pieces, i, ("end",))
    return (word, pipe, body, other), i


def _pipe(text):
    """`$a, $b := cmd args | cmd args` -> (names, [[operand, ...], ...])."""
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m:
            _fail(f"cannot parse {text[pos:].strip()!r}")
        kind, word = m.lastgroup, m[m.lastgroup]
        if kind == "field" and m.start(kind) == pos and tokens[-1:] == [("op", ")")] and word[0] == ".":
            kind = "chain"  # `(index .Mounts 0).Name`: fields of the group's value
        tokens.append((kind, word))
        pos = m.end()
    names = []
    if ("op", ":=") in tokens or ("op", "=") in tokens:
        at = next(n for n, t in enumerate(tokens) if t in (("op", ":="), ("op", "=")))
        names = [v for k, v in tokens[:at] if k == "field"]
        tokens = tokens[at + 1:]
    commands, _ = _commands(tokens, 0)
    return names, commands


def _commands(tokens, i):
    """Commands separated by | up to a closing parenthesis: ([[arg, ...], ...], next i)."""
    commands, current = [], []
    while i < len(tokens) and tokens[i] != ("op", ")"):
        kind, text = tokens[i]
        if (kind, text) == ("op", "|"):
            commands.append(current)
            current = []
        elif (kind, text) == ("op", "("):
            sub, i = _commands(tokens, i + 1)
            if i + 1 < len(tokens) and tokens[i + 1][0] == "chain":
                i += 1
                current.append(("chain", (([], sub), tokens[i][1])))
            else:
                current.append(("pipe", ([], sub)))
        elif kind != "op":
            current.append((kind, text))
        i += 1
    commands.append(current)
    if not all(commands):
        _fail("missing command in a pipeline")
    return commands, i


# evaluation

def _run(nodes, dot, scope):
    for node in nodes:
        kind = node[0]
        if kind == "text":
            yield node[1]
        elif kind == "out":
            v = _eval_pipe(node[1], dot, scope)
            if not node[1][0]:  # ({{$x := ...}} prints nothing)
                yield "<no value>" if v is None else go_str(v)
        elif kind == "if":
            _, pipe, body, other = node
            yield from _run(body if _truth(_eval_pipe(pipe, dot, scope)) else other, dot, scope)
        elif kind == "with":
            _, pipe, body, other = node
            v = _eval_pipe(pipe, dot, scope)
            yield from _run(body, v, scope) if _truth(v) else _run(other, dot, scope)
        else:
            yield from _range(node, dot, scope)


def _range(node, dot, scope):
    _, (names, commands), body, other = node
    coll = _eval_pipe(([], commands), dot, scope)
    if isinstance(coll, dict):
        items = [(k, coll[k]) for k in sorted(coll)]
    elif isinstance(coll, list):
        items = list(enumerate(coll))
    elif coll is None or coll is MISSING:
        items = []
    else:
        _fail(f"range can't iterate over {go_str(coll)}")
    for key, value in items:
        inner = dict(scope)
        if len(names) == 2:
            inner[names[0]], inner[names[1]] = key, value
        elif names:
            inner[names[0]] = value
        yield from _run(body, value, inner)
    if not items:
        yield from _run(other, dot, scope)


def _eval_pipe(pipe, dot, scope):
    names, commands = pipe
    value = MISSING
    for n, command in enumerate(commands):
        value = _eval_command(command, dot, scope, [value] if n else [])
    for name in names:  # {{$x := ...}}: set for the rest of this scope
        scope[name] = value
    return value


def _eval_command(command, dot, scope, piped):
    (kind, text), args = command[0], command[1:]
    if kind == "ident" and text not in ("true", "false", "nil"):
        if text not in FUNCS:
            _fail(f'function "{text}" not defined')
        values = [_operand(a, dot, scope) for a in args] + piped
        try:
            return FUNCS[text](*values)
        except (TypeError, ValueError, AttributeError) as e:  # wrong arguments: one line
            _fail(f"{text}: {e}")
    if args or piped:
        _fail(f"{text if isinstance(text, str) else '(...)'} is not a function: it takes no arguments")
    return _operand(command[0], dot, scope)


def _operand(arg, dot, scope):
    kind, text = arg
    if kind == "str":
        return text[1:-1] if text[0] == "`" else json.loads(text)
    if kind == "num":
        return float(text) if "." in text else int(text)
    if kind == "pipe":
        return _eval_pipe(text, dot, scope)
    if kind == "chain":
        pipe, path = text
        return _fields(_eval_pipe(pipe, dot, scope), path)
    if kind == "ident":
        return {"true": True, "false": False, "nil": None}[text]
    base, _, path = text.partition(".")
    if base:
        if base not in scope:
            _fail(f"undefined variable: {base}")
        value = scope[base]
    else:
        value = dot
    return _fields(value, path)


def _fields(value, path):
    for name in filter(None, path.split(".")):
        value = value.get(name, MISSING) if isinstance(value, dict) else MISSING
    return value

"""The Dockerfile parser: text -> directives, global ARGs and stages of instructions with their line
numbers, read as BuildKit reads them (its frontend/dockerfile/parser, instructions and shell
packages: the function names below say which part each one follows), plus Docker's variable
substitution and its ARG/ENV scoping. Pure: no file, no process; `parse_line` alone is what
`commit -c` / `import -c` use."""
import json
import re

from .. import BockerError

INSTRUCTIONS = frozenset(("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                          "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
                          "WORKDIR"))
# The instructions whose arguments Docker substitutes variables in; RUN, CMD, ENTRYPOINT are left
# to the shell, and ONBUILD's trigger is substituted when it fires in the child build.
EXPANDS = frozenset(("ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
                     "WORKDIR"))
# ARGs every build knows without an ARG line (Docker keeps them out of the history unless declared)
PROXY_ARGS = frozenset(("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"))
_FLAGS = {"FROM": {"platform"}, "RUN": {"mount", "network", "security"},
          "COPY": {"from", "chown", "chmod", "link", "parents", "exclude"},
          "ADD": {"chown", "chmod", "link", "keep-git-dir", "checksum", "exclude"},
          "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"}}
_BOOL_FLAGS = {"link", "parents", "keep-git-dir"}
_DIRECTIVES = ("syntax", "escape", "check")
_WS = re.compile(r"[\t\v\f\r ]+")
# Go's unicode.IsSpace, BuildKit's blank for trimming and words (str.isspace also takes \x1c-\x1f);
# its flags are read byte by byte, so there only ASCII blanks count
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
         "\u2028\u2029\u202f\u205f\u3000"
_ASCII_SPACE = "\t\n\v\f\r "
# (Go's regexp: \s and \d are ASCII)
_DIRECTIVE = re.compile(f"#[{_SPACE}]*" + r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_HEREDOC = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$")
_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*$")


class ParseError(BockerError):
    """Bad Dockerfile syntax: one line, `Dockerfile:LINE: reason` (exit 125, nothing built)."""

    def __init__(self, reason, line=None):
        super().__init__(reason if line is None else f"Dockerfile:{line}: {reason}")
        self.reason, self.line = reason, line


class Heredoc:
    """`<<[-]NAME` of RUN/COPY/ADD: its content (each line + "\\n", leading tabs gone for `<<-`),
    `expand` False when the name was quoted (`<<"EOF"`: the content is taken literally)."""
    __slots__ = ("name", "content", "expand", "chomp", "fd")

    def __init__(self, name, expand=True, chomp=False, fd=0, content=""):
        self.name, self.expand, self.chomp, self.fd, self.content = name, expand, chomp, fd, content

    def to_json(self):
        return {"name": self.name, "content": self.content, "expand": self.expand, "chomp": self.chomp,
                "fd": self.fd}


class Instruction:
    """One instruction. `cmd` upper case; `args` as the instruction kind reads them: the exec form's
    strings (`json_form`), a shell form's whole text as one string, whitespace-separated words
    (FROM, EXPOSE, COPY/ADD/VOLUME shell form), raw `name=value` words, quotes kept, for ENV, LABEL
    (the legacy `ENV k v` becomes one `k=v`) and ARG (`name` or `name=default`); `flags` the leading
    `--name[=value]` as (name, value or None) in order; `line`..`end_line` its lines in the file;
    `original` the instruction's text with continuations joined."""
    __slots__ = ("cmd", "args", "flags", "line", "end_line", "original", "heredocs", "json_form")

    def __init__(self, cmd, args, flags=(), line=None, original="", json_form=False):
        self.cmd, self.args, self.flags, self.line, self.end_line = cmd, args, list(flags), line, line
        self.original, self.json_form, self.heredocs = original, json_form, []

    def flag(self, name, default=None):
        """The last value given to `--name` (None for a bare boolean flag: use `name in`)."""
        for n, v in reversed(self.flags):
            if n == name:
                return v
        return default

    def to_json(self):
        out = {"cmd": self.cmd, "line": self.line, "args": self.args}
        if self.end_line != self.line:
            out["end_line"] = self.end_line
        if self.flags:
            out["flags"] = [list(f) for f in self.flags]
        if self.json_form:
            out["json"] = True
        if self.heredocs:
            out["heredocs"] = [h.to_json() for h in self.heredocs]
        return out


class Stage:
    """`FROM base [AS name]` and the instructions after it; `name` lower case (as Docker compares
    them), `base` as written (substitute the global ARGs with `Scope.expand`)."""
    __slots__ = ("base", "name", "index", "platform", "line", "instructions")

    def __init__(self, base, name, index, platform=None, line=None):
        self.base, self.name, self.index, self.platform, self.line = base, name, index, platform, line
        self.instructions = []

    def to_json(self):
        return {"base": self.base, "name": self.name, "index": self.index, "platform": self.platform,
                "line": self.line, "instructions": [i.to_json() for i in self.instructions]}


class Dockerfile:
    """`directives` ({"syntax": ..., "escape": ...} as found at the top), `global_args` (the ARG
    instructions before the first FROM), `stages`, `warnings` (empty continuation lines)."""
    __slots__ = ("directives", "global_args", "stages", "warnings")

    def __init__(self, directives, global_args, stages, warnings):
        self.directives, self.global_args, self.stages, self.warnings = directives, global_args, stages, warnings

    @property
    def escape(self):
        return self.directives.get("escape", "\\")

    def stage(self, ref):
        """The stage `ref` names (`--from`, `--target`: a stage name or an index), else None (an image)."""
        ref = str(ref).lower()
        for s in self.stages:
            if s.name == ref or str(s.index) == ref:
                return s
        return None

    def to_json(self):
        return {"directives": self.directives, "global_args": [i.to_json() for i in self.global_args],
                "stages": [s.to_json() for s in self.stages], "warnings": self.warnings}


# --- one instruction ----------------------------------------------------------------------------

def _flags(rest, escape):
    """([flag words], the rest) of the text after the command (BuildKit's extractBuilderFlags): the
    leading words that start with `--`, quotes and escapes processed; a bare `--` ends them."""
    words, word, quote, blank_ok, phase, i, n = [], "", "", False, 0, 0, len(rest)
    while i < n:
        ch = rest[i]
        if phase == 0:                              # between words
            if ch in _ASCII_SPACE:
                i += 1
                continue
            if not rest.startswith("--", i):
                return words, rest[i:]
            phase = 1
        if phase == 1:                              # in a word
            if ch in _ASCII_SPACE:
                if word == "--":
                    return words, rest[i:]
                if blank_ok or word:
                    words.append(word)
                word, blank_ok, phase = "", False, 0
            elif ch in "'\"":
                quote, blank_ok, phase = ch, True, 2
            elif ch == escape and i + 1 < n:
                i += 1
                word += rest[i]
            elif ch != escape:
                word += ch
        elif ch == quote:                           # in quotes
            phase = 1
        elif ch == escape and i + 1 < n:
            i += 1
            word += rest[i]
        elif ch != escape:
            word += ch
        i += 1
    if phase and word != "--" and (blank_ok or word):
        words.append(word)
    return words, ""


def _words(rest, escape):
    """Whitespace-separated words with their quotes and escapes kept (BuildKit's parseWords)."""
    words, word, quote, blank_ok, phase, i, n = [], "", "", False, 0, 0, len(rest)
    while i < n:
        ch = rest[i]
        if phase == 0:
            if ch in _SPACE:
                i += 1
                continue
            phase = 1
        if phase == 1:
            if ch in _SPACE:
                if blank_ok or word:
                    words.append(word)
                word, blank_ok, phase = "", False, 0
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, 2
            elif ch == escape:
                if i + 1 == n:                      # an escape at the very end is dropped
                    break
                word += ch
                i += 1
                ch = rest[i]
            word += ch
        else:
            if ch == quote:
                phase = 1
            elif ch == escape and quote != "'":     # nothing can be escaped inside '...'
                if i + 1 == n:
                    break
                word += ch
                i += 1
                ch = rest[i]
            word += ch
        i += 1
    if phase and (blank_ok or word):
        words.append(word)
    return words


def _not_json(constant):
    raise ValueError(f"{constant} is Python's JSON, not JSON")     # Go's decoder refuses NaN, Infinity


def _json(rest, line):
    """The exec form's strings, or None when `rest` is no JSON array: then it is shell form, as in
    Docker (`CMD [oops` runs `/bin/sh -c "[oops"`)."""
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest, parse_constant=_not_json)
    except ValueError:
        return None
    if not all(isinstance(s, str) for s in value):
        raise ParseError("when using JSON array syntax, arrays must be comprised of strings only", line)
    return value


def _args(cmd, rest, escape, line):
    """(args, json_form) of one instruction kind (BuildKit's dispatch table of parse functions)."""
    if cmd in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
        exec_form = _json(rest, line)
        return (exec_form, True) if exec_form is not None else ([rest] if rest else [], False)
    if cmd in ("ADD", "COPY", "VOLUME"):
        exec_form = _json(rest, line)
        if exec_form is not None:
            return exec_form, True
    if cmd in ("ADD", "COPY", "VOLUME", "FROM", "EXPOSE"):
        return (_WS.split(rest) if rest else []), False
    if cmd in ("ENV", "LABEL"):
        words = _words(rest, escape)
        if words and "=" not in words[0]:           # legacy `ENV name value of the rest`
            parts = _WS.split(rest, 1)
            if len(parts) < 2:
                raise ParseError(f"{cmd} must have two arguments", line)
            return ["=".join(parts)], False
        for w in words:
            if "=" not in w:
                raise ParseError(f'Syntax error - can\'t find = in "{w}". Must be of the form: name=value', line)
        return words, False
    if cmd == "ARG":
        return _words(rest, escape), False
    if cmd == "HEALTHCHECK":
        parts = _WS.split(rest, 1) if rest else []        # NONE, or CMD and a command in either form
        if not parts:
            return [], False
        more, json_form = _args("CMD", parts[1] if len(parts) == 2 else "", escape, line)
        return [parts[0]] + more, json_form
    return ([rest] if rest else []), False          # MAINTAINER STOPSIGNAL USER WORKDIR ONBUILD, unknown


def parse_line(text, line=None, escape="\\"):
    """One logical line (continuations joined) -> an Instruction, None for a blank line. Unknown
    instructions are read too (their text as one argument): `check` refuses them, and `commit -c`
    gives Docker's own message for them."""
    text = text.strip(_SPACE)
    if not text:
        return None
    parts = _WS.split(text, 1)
    cmd = parts[0].upper()
    words, rest = _flags(parts[1], escape) if len(parts) == 2 else ([], "")
    flags = []
    for w in words:
        name, eq, value = w[2:].partition("=")
        flags.append((name, value if eq else None))
    args, json_form = _args(cmd, rest.strip(_SPACE), escape, line)
    return Instruction(cmd, args, flags, line, text, json_form)


def check(ins, escape="\\"):
    """Refuse what Docker refuses when it reads an instruction: unknown instructions and flags, and
    missing or malformed arguments; each error names the instruction's line."""
    cmd, args = ins.cmd, ins.args

    def fail(reason):
        raise ParseError(reason, ins.line)
    if cmd not in INSTRUCTIONS:
        fail(f"unknown instruction: {cmd}")
    for name, value in ins.flags:
        if name not in _FLAGS.get(cmd, ()):
            fail(f"unknown flag for {cmd}: --{name}")
        if value is None and name not in _BOOL_FLAGS:
            fail(f"missing a value on flag: --{name}")
    if cmd == "FROM":
        if len(args) not in (1, 3) or (len(args) == 3 and args[1].upper() != "AS"):
            fail("FROM requires either one or three arguments (FROM image [AS name])")
        if len(args) == 3 and not _STAGE_NAME.match(args[2].lower()):
            fail(f'invalid name for build stage: "{args[2]}", name can\'t start with a number or contain symbols')
    elif cmd in ("ADD", "COPY"):
        if len(args) < 2:
            fail(f"{cmd} requires at least two arguments: source(s) and destination")
    elif cmd in ("ENV", "LABEL", "ARG"):
        if any(not w.partition("=")[0] for w in args):
            fail(f"{cmd} names can not be blank")
    elif cmd == "VOLUME":
        if any(not v.strip(_SPACE) for v in args):
            fail("VOLUME specified can not be an empty string")
    elif cmd in ("MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"):
        if not args:
            fail(f"{cmd} requires exactly one argument")
    elif cmd == "HEALTHCHECK" and args:
        kind = args[0].upper()
        if kind == "NONE" and len(args) > 1:
            fail("HEALTHCHECK NONE takes no arguments")
        if kind == "CMD" and len(args) == 1:
            fail("Missing command after HEALTHCHECK CMD")
        if kind not in ("NONE", "CMD"):
            fail(f'Unknown type "{args[0]}" in HEALTHCHECK (try CMD)')
    elif cmd == "SHELL" and args and not ins.json_form:
        fail("SHELL requires the arguments to be in JSON form")
    elif cmd == "ONBUILD" and args:
        trigger = parse_line(args[0], ins.line, escape)
        if trigger.cmd == "ONBUILD":
            fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if trigger.cmd in ("FROM", "MAINTAINER"):
            fail(f"{trigger.cmd} isn't allowed as an ONBUILD trigger")
        check(trigger, escape)
    if not args and not (cmd in ("CMD", "ENTRYPOINT") and ins.json_form):     # CMD [] clears the command
        fail(f"{cmd} requires at least one argument")


# --- a file -------------------------------------------------------------------------------------

def _heredoc_words(line):
    """The line's words as BuildKit's lexer splits them: the spaces, tabs and CRs right after `<<`
    stay in its word (`<< EOF` is a heredoc, `<< -EOF` one named -EOF)."""
    glued = re.sub(r"<<[\t\r ]+", lambda m: "<<" + "\0" * (len(m.group()) - 2), line)
    return [w.replace("\0", " ") for w in _words(glued, "\\")]


def _heredocs(line):
    """The `<<[-]NAME` words of a line (BuildKit's heredocsFromLine / parseHeredoc); none when a
    quote is left open (BuildKit's lexer gives up on the line: `RUN <<'EOF` is a shell command)."""
    try:
        expand(line, None)
    except ParseError:
        return []
    out = []
    for word in _heredoc_words(line):
        m = _HEREDOC.match(word)
        if not m or not m.group(3) or len(_words(m.group(3), "\\")) != 1:
            continue
        raw = m.group(3)
        name = expand(raw, None)
        quoted = name.count("'") + name.count('"') != raw.count("'") + raw.count('"')
        out.append(Heredoc(name, expand=not quoted, chomp=m.group(2) == "-", fd=int(m.group(1) or 0)))
    return out


def _may_have_heredocs(ins, escape):
    if ins.cmd == "ONBUILD" and ins.args:
        ins = parse_line(ins.args[0], ins.line, escape)
    return ins.cmd in ("RUN", "COPY", "ADD") and not ins.json_form


def _continuation(escape):
    """The escape as the last thing on a line, unless another one precedes it: `a\\\\` ends its line
    (so does `a\\\\\\`: BuildKit's regex looks one character back only)."""
    e = re.escape(escape)
    return re.compile(f"(?<!{e}){e}[ \\t]*$")


def parse(text):
    """A Dockerfile's text -> Dockerfile, or ParseError at the first bad line (BuildKit's Parse,
    then its instructions.Parse for the stages)."""
    raw_lines = text.split("\n")                  # heredoc bodies keep their "\r", as BuildKit's do
    if raw_lines[-1] == "":
        raw_lines.pop()
    lines = [ln.rstrip("\r") for ln in raw_lines]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    directives, warnings, instructions = {}, [], []
    continuation = _continuation("\\")
    at_top, i, n = True, 0, len(lines)
    while i < n:
        stripped = lines[i].lstrip(_SPACE)
        i += 1
        start = i
        if at_top:      # `# key=value` lines before anything else; the first other line ends them
            m = _DIRECTIVE.match(stripped)
            key = m.group(1).lower() if m else ""
            if key in _DIRECTIVES:
                if key in directives:
                    raise ParseError(f"only one {key} parser directive can be used", start)
                if key == "escape":
                    if m.group(2) not in ("\\", "`"):
                        raise ParseError(f"invalid escape token '{m.group(2)}' does not match ` or \\", start)
                    continuation = _continuation(m.group(2))
                directives[key] = m.group(2)
                continue
            at_top = False
        if not stripped or stripped.startswith("#"):
            continue
        m = continuation.search(stripped)
        line = stripped[:m.start()] if m else stripped
        empty = False
        while m and i < n:
            raw = lines[i]
            i += 1
            if raw.lstrip(_SPACE).startswith("#"):  # a comment inside a continued instruction: dropped
                continue
            if not raw.strip(_SPACE):
                empty = True
                continue
            m = continuation.search(raw)
            line += raw[:m.start()] if m else raw
        if empty:
            warnings.append(f"Dockerfile:{start}: empty continuation line (a future Docker refuses it)")
        ins = parse_line(line, start, directives.get("escape", "\\"))
        if ins is None:                             # `\` alone on the last lines: Docker refuses it too
            raise ParseError("empty instruction: a line continuation with nothing after it", start)
        if "<<" in line and _may_have_heredocs(ins, directives.get("escape", "\\")):
            for doc in _heredocs(line):
                body = []
                while True:
                    if i >= n:
                        raise ParseError(f"unterminated heredoc: no line {doc.name} before the end of the file",
                                         start)
                    ended = (lines[i].lstrip("\t") if doc.chomp else lines[i]) == doc.name
                    raw = raw_lines[i].lstrip("\t") if doc.chomp else raw_lines[i]
                    i += 1
                    if ended:
                        break
                    body.append(raw + "\n")
                doc.content = "".join(body)
                ins.heredocs.append(doc)
        ins.end_line = i
        instructions.append(ins)
    return _stages(directives, instructions, warnings)


def _stages(directives, instructions, warnings):
    if not instructions:
        raise ParseError("the Dockerfile has no instructions")
    global_args, stages = [], []
    for ins in instructions:
        check(ins, directives.get("escape", "\\"))
        if ins.cmd == "FROM":
            name = ins.args[2].lower() if len(ins.args) == 3 else None
            if name and any(s.name == name for s in stages):
                raise ParseError(f'duplicate stage name "{name}"', ins.line)
            stages.append(Stage(ins.args[0], name, len(stages), ins.flag("platform"), ins.line))
        elif stages:
            stages[-1].instructions.append(ins)
        elif ins.cmd == "ARG":
            global_args.append(ins)
        else:
            raise ParseError(f"{ins.cmd} before the first FROM: a Dockerfile must start with FROM "
                             "(only ARG may come before it)", ins.line)
    if not stages:
        raise ParseError("no FROM instruction: a Dockerfile needs at least one stage", instructions[-1].line)
    return Dockerfile(directives, global_args, stages, warnings)


# --- variable substitution ----------------------------------------------------------------------

class _Word:
    """BuildKit's shell.Lex for one word: quotes removed ('...' literal, "..." substituted), the
    escape character escapes, `$NAME`/`${NAME}`, the `-`, `+`, `?` modifiers with or without `:`,
    and `#`, `##`, `%`, `%%` (trim a shortest/longest prefix/suffix pattern), `/`, `//` (replace the
    first/every match): patterns with `*`, `?` and `\\` escapes, as BuildKit's processDollar.
    `env` None: no substitution at all, `$` is a plain character."""
    __slots__ = ("s", "i", "env", "esc")

    def __init__(self, s, env, esc):
        self.s, self.i, self.env, self.esc = s, 0, env, esc

    def word(self, stop=None, raw=False, missing=None):
        """Up to `stop` (consumed); `raw`: escapes are kept for a pattern to read them."""
        s, out = self.s, []
        while self.i < len(s):
            ch = s[self.i]
            if ch == stop:
                self.i += 1
                return "".join(out)
            if ch == "'":
                out.append(self.single())
            elif ch == '"':
                out.append(self.double())
            elif ch == "$" and self.env is not None:
                out.append(self.dollar())
            else:
                self.i += 1
                if ch == self.esc:
                    if raw:
                        out.append(ch)
                    if self.i == len(s):                # an escape at the end is dropped
                        break
                    ch = s[self.i]
                    self.i += 1
                out.append(ch)
        if stop:
            raise ParseError(missing or f"syntax error: missing '{stop}'")
        return "".join(out)

    def single(self):
        end = self.s.find("'", self.i + 1)
        if end < 0:
            raise ParseError("unexpected end of statement while looking for matching single-quote")
        text, self.i = self.s[self.i + 1:end], end + 1
        return text

    def double(self):
        s, out = self.s, []
        self.i += 1
        while True:
            if self.i >= len(s):
                raise ParseError("unexpected end of statement while looking for matching double-quote")
            ch = s[self.i]
            if ch == '"':
                self.i += 1
                return "".join(out)
            if ch == "$" and self.env is not None:
                out.append(self.dollar())
                continue
            self.i += 1
            if ch == self.esc and self.i < len(s) and s[self.i] in ('"', "$", self.esc):
                ch = s[self.i]                          # only these can be escaped; other escapes stay
                self.i += 1
            elif ch == self.esc and self.i == len(s):
                continue
            out.append(ch)

    def name(self):
        s, start = self.s, self.i
        if self.i < len(s) and s[self.i].isdigit():
            while self.i < len(s) and s[self.i].isdigit():
                self.i += 1
        elif self.i < len(s) and s[self.i] in "@*#?-$!":   # special parameters: never set in a build
            self.i += 1
        else:
            while self.i < len(s) and (s[self.i].isalnum() or s[self.i] == "_"):
                self.i += 1
        return s[start:self.i]

    def dollar(self):
        s = self.s
        self.i += 1
        if s[self.i:self.i + 1] != "{":
            name = self.name()
            return self.env.get(name, "") if name else "$"
        self.i += 1
        if self.i >= len(s):
            raise ParseError("syntax error: missing '}'")
        if s[self.i] in "{}:":
            raise ParseError("syntax error: bad substitution")
        name = self.name()
        if self.i >= len(s):
            raise ParseError("syntax error: missing '}'")
        op = s[self.i]
        self.i += 1
        if op == "}":
            return self.env.get(name, "")
        if op == "/":
            return self.replace(name)
        colon = op == ":"
        if colon:
            op = s[self.i:self.i + 1]
            self.i += 1
        if not op or op not in ("-+?" if colon else "-+?#%"):
            raise ParseError(f"unsupported modifier ({':' if colon else ''}{op}) in substitution")
        word = self.word("}", raw=op in "#%")
        value = self.env.get(name)
        present = bool(value) if colon else value is not None       # `:` also counts an empty value
        if op == "-":
            return value if present else word
        if op == "+":
            return word if present else ""
        if op == "?":
            if not present:
                why = "is not allowed to be empty" if value is not None else "is not allowed to be unset"
                raise ParseError(f"{name}: {word or why}")
            return value
        greedy = word.startswith(op)
        word = word[1:] if greedy else word
        if op == "#":
            return _trim_prefix(word, value or "", greedy)
        return _trim_prefix(_reverse_pattern(word), (value or "")[::-1], greedy)[::-1]

    def replace(self, name):
        """`${NAME/pattern/string}`, `${NAME//pattern/string}`: the first (every) longest match."""
        every = self.s[self.i:self.i + 1] == "/"
        self.i += every
        pattern = self.word("/", raw=True, missing="syntax error: missing '/' in ${}")
        string = self.word("}", raw=True)
        regex = _pattern(pattern, greedy=True, anchored=False)
        return regex.sub(lambda _: string, self.env.get(name) or "", count=0 if every else 1)


def _pattern(pattern, greedy, anchored):
    """A shell pattern (`*`, `?`, `\\` escapes; `\\}` and `\\/` are the plain characters) as a
    regex: BuildKit's convertShellPatternToRegex."""
    out, i = ["^"] if anchored else [], 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*" if greedy else ".*?")
        elif ch == "?":
            out.append(".")
        elif ch == "\\" and pattern[i:i + 1] in ("}", "/"):
            continue
        elif ch == "\\":
            if pattern[i:i + 1] not in ("*", "?", "\\"):
                raise ParseError(f"invalid pattern ({pattern}) in substitution: invalid escape "
                                 f"'\\{pattern[i:i + 1]}'")
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out))


def _trim_prefix(pattern, value, greedy):
    m = _pattern(pattern, greedy, anchored=True).search(value)
    return value[m.end():] if m else value


def _reverse_pattern(pattern):
    """A pattern read backwards, its escapes kept in front of what they escape (the shortest
    suffix is then the shortest prefix of the reversed value: regexes search leftmost)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(reversed(out))


def expand(word, env, escape="\\"):
    """One word after Docker's substitution with `env` (a dict; None: quote and escape removal
    only, `$` kept as written)."""
    return _Word(word, env, escape).word()


def substitute(ins, env, escape="\\"):
    """The instruction's arguments after substitution with `env`, for the instruction kinds Docker
    substitutes in (EXPANDS; FROM's `AS name` excepted); the others' arguments as they are."""
    if ins.cmd not in EXPANDS:
        return list(ins.args)
    try:
        if ins.cmd == "FROM":
            return [expand(ins.args[0], env, escape)] + ins.args[1:]
        return [expand(a, env, escape) for a in ins.args]
    except ParseError as e:
        raise ParseError(e.reason, ins.line) from None


class Scope:
    """The variables one stage's instructions are substituted with, by Docker's rules: a build-arg
    counts only for a declared ARG; global ARGs (before the first FROM) serve FROM lines and reach a
    stage only when it redeclares them (`ARG NAME`); ENV wins over ARG; the proxy ARGs are
    predefined. `Scope(build_args)` is the global scope; `Scope(build_args, glob.args, image_env)`
    a stage's."""
    __slots__ = ("build_args", "global_args", "args", "env", "escape")

    def __init__(self, build_args, global_args=None, env=(), escape="\\"):
        self.build_args, self.global_args, self.escape = build_args, global_args or {}, escape
        self.args = {k: v for k, v in build_args.items() if k in PROXY_ARGS}
        self.env = dict(e.partition("=")[::2] for e in env)

    def values(self):
        return {**self.args, **self.env}

    def expand(self, word):
        return expand(word, self.values(), self.escape)

    def declare(self, ins):
        """Apply an ARG or ENV instruction; returns the (name, value) pairs it set. Every pair of
        one instruction sees the values from before it (`ENV a=1 b=$a` takes the old a)."""
        pairs = [w.partition("=") for w in substitute(ins, self.values(), self.escape)]
        if ins.cmd == "ENV":
            self.env.update((k, v) for k, _, v in pairs)
            return [(k, v) for k, _, v in pairs]
        out = []
        for name, eq, default in pairs:
            value = self.build_args[name] if name in self.build_args else \
                default if eq else self.global_args.get(name)
            if value is None:                       # declared without a value: stays unset
                self.args.pop(name, None)
            else:
                self.args[name] = value
            out.append((name, value))
        return out


def unused_build_args(dockerfile, build_args):
    """Docker's warning for `--build-arg`s that no ARG declares (the proxy ARGs need none)."""
    declared = {w.partition("=")[0] for ins in dockerfile.global_args + [i for s in dockerfile.stages
                                                                         for i in s.instructions]
                if ins.cmd == "ARG" for w in ins.args}
    names = sorted(k for k in build_args if k not in declared and k not in PROXY_ARGS)
    return [f"[Warning] One or more build-args [{' '.join(names)}] were not consumed"] if names else []

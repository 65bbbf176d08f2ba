"""The Dockerfile parser (build/parser.py) and the -c lines read with it (imageconfig.apply): golden
files (golden/NAME.Dockerfile -> NAME.json, cases of our own modelled on BuildKit's parser testfiles,
each checked against BuildKit's own parser's AST dump, line numbers and heredocs when written), every
error message with its line, variable substitution as the Dockerfile reference tabulates it, and
the ARG/ENV scoping rules. BOCKER_GOLDEN_UPDATE=1 rewrites the .json files from the parser (then
read the diff)."""
import glob
import json
import os
import re

import pytest

from bocker import BockerError, imageconfig
from bocker.build import parser
from bocker.build.parser import ParseError, Scope, expand, parse, parse_line, substitute

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(GOLDEN, "*.Dockerfile"))),
                         ids=lambda p: os.path.basename(p)[:-len(".Dockerfile")])
def test_golden(path):
    with open(path) as f:
        got = parse(f.read()).to_json()
    expected = path[:-len(".Dockerfile")] + ".json"
    if os.environ.get("BOCKER_GOLDEN_UPDATE"):
        with open(expected, "w") as f:
            json.dump(got, f, indent=2)
            f.write("\n")
    with open(expected) as f:
        assert got == json.load(f)


def one(text):
    """The instructions of a one-stage Dockerfile after its FROM."""
    return parse("FROM busybox\n" + text).stages[0].instructions


# --- lines, comments, continuations ---------------------------------------------------------------

def test_crlf_bom_and_no_final_newline():
    d = parse("\ufeffFROM busybox\r\nRUN echo a \\\r\n  b\r\nCMD x")
    assert [(i.cmd, i.args, i.line) for i in d.stages[0].instructions] == \
        [("RUN", ["echo a   b"], 2), ("CMD", ["x"], 4)]


def test_crlf_heredoc_bodies_keep_their_carriage_returns_as_buildkits():
    (run,) = one("RUN <<EOF sh\r\necho a\r\nEOF\r\r\n")
    assert run.args == ["<<EOF sh"] and run.heredocs[0].content == "echo a\r\n"


def test_continuation_keeps_the_next_lines_whitespace_and_records_the_lines():
    (run,) = one("RUN a\\\n   b \\\n\n\nc\n")
    assert run.args == ["a   b c"] and (run.line, run.end_line) == (2, 6)
    assert run.original == "RUN a   b c"


def test_empty_continuation_line_is_a_warning():
    d = parse("FROM busybox\nRUN a \\\n\n  b\n")
    assert d.warnings == ["Dockerfile:2: empty continuation line (a future Docker refuses it)"]


def test_escape_directive_changes_the_continuation_and_the_word_escape():
    d = parse("# escape=`\nFROM x\nENV A=a`\"b\nRUN dir c:\\ `\n  /w\n")
    env, run = d.stages[0].instructions
    assert env.args == ['A=a`"b'] and expand(env.args[0], {}, "`") == 'A=a"b'
    assert run.args == ["dir c:\\   /w"]


def test_an_escaped_escape_at_the_end_does_not_continue_the_line():
    # (BuildKit's continuation regex: an escape not preceded by another one; so three end it too)
    env_c, env_d, run, run2 = one("ENV C ends\\\\\nENV D next\nRUN a \\\\\\\nRUN b\n")
    assert (env_c.args, env_d.args, run.args, run2.args) == (["C=ends\\\\"], ["D=next"], ["a \\\\\\"], ["b"])
    d = parse("# escape=`\nFROM x\nRUN a ``\nRUN b `\n c\n")
    assert [i.args for i in d.stages[0].instructions] == [["a ``"], ["b  c"]]


def test_flags_use_the_escape_directive():
    d = parse("# escape=`\nFROM x\nRUN --mount=type=bind,target=C:\\src,source=a`,b dir\n")
    assert d.stages[0].instructions[0].flags == [("mount", "type=bind,target=C:\\src,source=a,b")]


def test_a_directive_after_an_instruction_is_a_comment():
    d = parse("FROM x\n# escape=`\nRUN a \\\n b\n")
    assert d.directives == {} and d.stages[0].instructions[0].args == ["a  b"]


def test_parse_line_reads_one_change_and_unknown_words():
    ins = parse_line('  cmd ["a"]  ')
    assert (ins.cmd, ins.args, ins.json_form, ins.line) == ("CMD", ["a"], True, None)
    assert parse_line("FROBNICATE x y").args == ["x y"]
    assert parse_line("   ") is None


def test_blanks_are_gos_unicode_spaces():
    # (Python's str.strip and isspace also take \x1c-\x1f; BuildKit's Go does not)
    run, env = one("RUN echo\x1c \nENV A=1\u2003B=2\xa0C=3\n")
    assert run.args == ["echo\x1c"] and env.args == ["A=1", "B=2", "C=3"]


def test_heredoc_names_may_follow_spaces_and_tabs_only():
    tab, nbsp = one("RUN cat <<\t-EOF\nx\n-EOF\nRUN cat <<\xa0EOF\n")
    assert [h.name for h in tab.heredocs] == ["-EOF"] and not tab.heredocs[0].chomp
    assert nbsp.heredocs == []


def test_flag_lookup():
    (copy,) = one("COPY --from=a --link --from=b x y\n")
    assert copy.flag("from") == "b" and ("link", None) in copy.flags and copy.flag("chown", "0") == "0"


def test_stage_lookup_by_name_and_index():
    d = parse("FROM a AS One\nFROM b\n")
    assert d.stage("one") is d.stages[0] and d.stage("ONE") is d.stages[0] and d.stage(1) is d.stages[1]
    assert d.stage("busybox") is None and d.stage(2) is None


# --- errors: one line, the line number --------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("FROM x\nRUN a\nFOO bar\n", "Dockerfile:3: unknown instruction: FOO"),
    ("FROM x\nRUN a \\\n  b\nfoo \\\n bar\n", "Dockerfile:4: unknown instruction: FOO"),
    ("RUN echo\nFROM x\n", "Dockerfile:1: RUN before the first FROM: a Dockerfile must start with FROM "
                          "(only ARG may come before it)"),
    ("# only a comment\n\n", "the Dockerfile has no instructions"),
    ("", "the Dockerfile has no instructions"),
    ("FROM x\nRUN a\n  \\  \n\n# c\n", "Dockerfile:3: empty instruction: a line continuation with nothing after it"),
    ("ARG A=1\nARG B\n", "Dockerfile:2: no FROM instruction: a Dockerfile needs at least one stage"),
    ("FROM x\nRUN <<EOF\nnever ends\n", "Dockerfile:2: unterminated heredoc: no line EOF before the end of the file"),
    ("FROM x\nRUN <<-EOF\n  EOF\n", "Dockerfile:2: unterminated heredoc: no line EOF before the end of the file"),
    # (an open quote: no heredoc, as in BuildKit, so the would-be terminator is an instruction)
    ("FROM x\nRUN <<'EOF\nEOF\n", "Dockerfile:3: unknown instruction: EOF"),
    ("FROM x\nCOPY <<EOF <<B\" /f\nEOF\n", "Dockerfile:3: unknown instruction: EOF"),
    ("FROM\n", "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])"),
    ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])"),
    ("FROM a AT b\n", "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])"),
    ("FROM a AS 1st\n", 'Dockerfile:1: invalid name for build stage: "1st", name can\'t start with a number '
                        'or contain symbols'),
    ("FROM a AS x\nFROM b AS X\n", 'Dockerfile:2: duplicate stage name "x"'),
    ("FROM x\nRUN\n", "Dockerfile:2: RUN requires at least one argument"),
    ("FROM x\nCMD\n", "Dockerfile:2: CMD requires at least one argument"),
    ("FROM x\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
    ("FROM x\nARG\n", "Dockerfile:2: ARG requires at least one argument"),
    ("FROM x\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument"),
    ("FROM x\nVOLUME []\n", "Dockerfile:2: VOLUME requires at least one argument"),
    ("FROM x\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments: source(s) and destination"),
    ("FROM x\nADD\n", "Dockerfile:2: ADD requires at least two arguments: source(s) and destination"),
    ("FROM x\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument"),
    ("FROM x\nUSER\n", "Dockerfile:2: USER requires exactly one argument"),
    ("FROM x\nENV ONLYKEY\n", "Dockerfile:2: ENV must have two arguments"),
    ("FROM x\nLABEL a=1 b\n", 'Dockerfile:2: Syntax error - can\'t find = in "b". Must be of the form: name=value'),
    ("FROM x\nCMD [\"a\", 1]\n",
     "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"),
    ("FROM x\nCOPY --form=a b c\n", "Dockerfile:2: unknown flag for COPY: --form"),
    ("FROM x\nENV --x=1 A=b\n", "Dockerfile:2: unknown flag for ENV: --x"),
    ("FROM x\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag: --from"),
    ("FROM x\nHEALTHCHECK SOMETIMES x\n", 'Dockerfile:2: Unknown type "SOMETIMES" in HEALTHCHECK (try CMD)'),
    ("FROM x\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
    ("FROM x\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
    ("FROM x\nHEALTHCHECK\n", "Dockerfile:2: HEALTHCHECK requires at least one argument"),
    ("FROM x\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
    ("FROM x\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("FROM x\nONBUILD FROM y\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
    ("FROM x\nONBUILD FROB y\n", "Dockerfile:2: unknown instruction: FROB"),
    ("# escape=\\\n# escape=`\nFROM x\n", "Dockerfile:2: only one escape parser directive can be used"),
    ("# escape=!\nFROM x\n", "Dockerfile:1: invalid escape token '!' does not match ` or \\"),
    # in the manner of BuildKit's testfiles-negative, and its flags/health cases refused by its instructions
    (" \t\n\n", "the Dockerfile has no instructions"),
    ("FROM x\n\n# a comment\nCMD [ \"sh\", [ \"nested\" ] ]\n",
     "Dockerfile:4: when using JSON array syntax, arrays must be comprised of strings only"),
    ("FROM x\nENTRYPOINT [\"a\", null]\n", "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"),
    ("FROM x\n\nENV \\\n  LONELY\n", "Dockerfile:3: ENV must have two arguments"),
    ("FROM x\nLABEL \\\n  only-a-key \\\n\n", "Dockerfile:2: LABEL must have two arguments"),
    ("FROM x\nCMD --force [\"a\"]\n", "Dockerfile:2: unknown flag for CMD: --force"),
    ("FROM x\nENV A=1 =2\n", "Dockerfile:2: ENV names can not be blank"),
    ("FROM x\nLABEL =v\n", "Dockerfile:2: LABEL names can not be blank"),
    ("FROM x\nARG =v\n", "Dockerfile:2: ARG names can not be blank"),
    ("FROM x\nVOLUME [\"/a\", \" \"]\n", "Dockerfile:2: VOLUME specified can not be an empty string"),
    ("FROM x\nCOPY --owner=me a /b\n", "Dockerfile:2: unknown flag for COPY: --owner"),
    ("FROM x\nHEALTHCHECK PING localhost\n", 'Dockerfile:2: Unknown type "PING" in HEALTHCHECK (try CMD)'),
    ("FROM x\nONBUILD\n", "Dockerfile:2: ONBUILD requires at least one argument"),
    ("FROM x\nONBUILD MAINTAINER me\n", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"),
    ("FROM x\nONBUILD COPY --owner=me a b\n", "Dockerfile:2: unknown flag for COPY: --owner"),
])
def test_errors(text, message):
    with pytest.raises(ParseError) as e:
        parse(text)
    assert str(e.value) == message and "\n" not in message
    assert isinstance(e.value, BockerError) and e.value.code == 125


def test_error_carries_the_line():
    with pytest.raises(ParseError) as e:
        parse("FROM x\n\n\nNOPE\n")
    assert (e.value.line, e.value.reason) == (4, "unknown instruction: NOPE")


# --- substitution -------------------------------------------------------------------------------------

ENV = {"A": "a", "EMPTY": "", "B": "b c"}


@pytest.mark.parametrize("word, expected", [
    ("$A", "a"), ("${A}", "a"), ("x${A}y", "xay"), ("$A$A", "aa"), ("$UNSET", ""), ("${UNSET}z", "z"),
    ("${A:-d}", "a"), ("${EMPTY:-d}", "d"), ("${UNSET:-d}", "d"),
    ("${A-d}", "a"), ("${EMPTY-d}", ""), ("${UNSET-d}", "d"),
    ("${A:+r}", "r"), ("${EMPTY:+r}", ""), ("${UNSET:+r}", ""),
    ("${A+r}", "r"), ("${EMPTY+r}", "r"), ("${UNSET+r}", ""),
    ("${UNSET:-$A}", "a"), ("${UNSET:-${B}x}", "b cx"), ("${A:?msg}", "a"),
    ("\\$A", "$A"), ("\\${A}", "${A}"), ("'$A'", "$A"), ('"$A"', "a"), ('"\\$A"', "$A"),
    ('"a\\b"', "a\\b"), ('"q\\"q"', 'q"q'), ("a\\ b", "a b"), ("end\\", "end"),
    ("$", "$"), ("a$", "a$"), ("$1x", "x"), ("${A}_$B", "a_b c"), ("$A_x", ""), ("'\"'", '"'),
    ("${UNSET:-'lit $A'}", "lit $A"),
])
def test_expand(word, expected):
    assert expand(word, ENV) == expected


@pytest.mark.parametrize("word, message", [
    ("${A", "syntax error: missing '}'"), ("${A:-x", "syntax error: missing '}'"),
    ("${}", "syntax error: bad substitution"), ("${:x}", "syntax error: bad substitution"),
    ("${A:%x}", "unsupported modifier (:%) in substitution"), ("${A:#}", "unsupported modifier (:#) in substitution"),
    ("${A:/x/y}", "unsupported modifier (:/) in substitution"), ("${A^^}", "unsupported modifier (^) in substitution"),
    ("${UNSET:?needs a value}", "UNSET: needs a value"), ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
    ("${UNSET:?}", "UNSET: is not allowed to be unset"),
    ("${UNSET?}", "UNSET: is not allowed to be unset"),
    ("'open", "unexpected end of statement while looking for matching single-quote"),
    ('"open', "unexpected end of statement while looking for matching double-quote"),
])
def test_expand_errors(word, message):
    with pytest.raises(ParseError, match="^" + re.escape(message) + "$"):
        expand(word, ENV)


# `#`/`##`/`%`/`%%` trims and `/`/`//` replacements, as BuildKit's lexer has them (shell/lex.go:
# processDollar, convertShellPatternToRegex, trimPrefix/trimSuffix): cases of our own in the manner of
# its lex_test.go
PATHS = {"P": "/usr/local/lib/libz.so.1.2", "V": "v1.2.3-rc1", "STAR": "a*b*c", "SEP": "/",
         "DOTS": "x.y.z", "NEEDLE": "\\*", "EMPTY": "", "LIT": "(1+1)=[2]"}


@pytest.mark.parametrize("word, expected", [
    ("${P#*/}", "usr/local/lib/libz.so.1.2"), ("${P##*/}", "libz.so.1.2"),
    ("${P%/*}", "/usr/local/lib"), ("${P%%.*}", "/usr/local/lib/libz"), ("${P%.*}", "/usr/local/lib/libz.so.1"),
    ("${V#v}", "1.2.3-rc1"), ("${V%-rc?}", "v1.2.3"), ("${V%-*}", "v1.2.3"), ("${V#x}", "v1.2.3-rc1"),
    ("${V#}", "v1.2.3-rc1"), ("${V%%}", "v1.2.3-rc1"), ("${V#*}", "v1.2.3-rc1"), ("${V##*}", ""),
    ("${V%*}", "v1.2.3-rc1"), ("${V%%*}", ""), ("${UNSET#x}", ""), ("${EMPTY%%*}", ""),
    ("${STAR#*\\*}", "b*c"), ("${STAR%\\**}", "a*b"), ("${STAR%%\\**}", "a"), ("${STAR##$NEEDLE}", "a*b*c"),
    ("${DOTS#$UNSET}", "x.y.z"), ("${DOTS%.$EMPTY*}", "x.y"), ("${LIT#(1+1)=}", "[2]"), ("${LIT%[2]}", "(1+1)="),
    ("${P/lib/LIB}", "/usr/local/LIB/libz.so.1.2"), ("${P//lib/LIB}", "/usr/local/LIB/LIBz.so.1.2"),
    ("${P//\\//:}", ":usr:local:lib:libz.so.1.2"), ("${P/$SEP/}", "usr/local/lib/libz.so.1.2"),
    ("${DOTS//./-}", "x-y-z"), ("${DOTS/?/Q}", "Q.y.z"), ("${DOTS/.*/!}", "x!"), ("${STAR//\\*/+}", "a+b+c"),
    ("${V/$EMPTY/>}", ">v1.2.3-rc1"), ("${V///}", "v1.2.3-rc1"), ("${UNSET/a/b}", ""),
    ("${DOTS/y/\\}}", "x.\\}.z"),  # (the replacement keeps its escapes, as BuildKit's)
    ('"${P##*/}"', "libz.so.1.2"), ("${V%-rc1}-final", "v1.2.3-final"),
])
def test_expand_patterns(word, expected):
    assert expand(word, PATHS) == expected


@pytest.mark.parametrize("word, message", [
    ("${P//lib}", "syntax error: missing '/' in ${}"), ("${P/x/y", "syntax error: missing '}'"),
    ("${P#\\a}", "invalid pattern (\\a) in substitution: invalid escape '\\a'"),
    # (a suffix pattern is searched reversed, and BuildKit's message shows it so)
    ("${LIT%[2\\]}", "invalid pattern (\\]2[) in substitution: invalid escape '\\]'"), ("${P%%x", "syntax error: missing '}'"),
])
def test_expand_pattern_errors(word, message):
    with pytest.raises(ParseError, match="^" + re.escape(message) + "$"):
        expand(word, PATHS)


def test_expand_with_the_backtick_escape_and_without_an_environment():
    assert expand("`$A x\\y", ENV, "`") == "$A x\\y"
    assert expand('"$A" \'b\' \\$c $d', None) == "$A b $c $d"


def test_substitute_follows_the_instruction_kind():
    ins = one('RUN echo $A\nCOPY $A "${B}" /dst/\nENV X=$A Y="$B"\nUSER ${A:-root}\n')
    assert [substitute(i, ENV) for i in ins] == [["echo $A"], ["a", "b c", "/dst/"], ["X=a", "Y=b c"], ["a"]]
    (stage,) = parse("FROM $A AS b\n").stages
    assert substitute(parse_line("FROM $A AS $B"), ENV) == ["a", "AS", "$B"] and stage.base == "$A"


def test_substitute_errors_name_the_line():
    (run, env) = one("RUN ${oops\nENV A=${oops\n")
    assert substitute(run, {}) == ["${oops"]
    with pytest.raises(ParseError, match=r"^Dockerfile:3: syntax error: missing '}'$"):
        substitute(env, {})


# --- ARG / ENV scoping -----------------------------------------------------------------------------

def scopes(text, build_args=None, image_env=()):
    """(global scope, [stage scope after each stage's ARG/ENV lines]) as a builder walks them."""
    d = parse(text)
    glob_ = Scope(build_args or {})
    for ins in d.global_args:
        glob_.declare(ins)
    out = []
    for stage in d.stages:
        s = Scope(build_args or {}, glob_.args, image_env)
        for ins in stage.instructions:
            if ins.cmd in ("ARG", "ENV"):
                s.declare(ins)
        out.append(s)
    return d, glob_, out


def test_global_arg_serves_from_and_reaches_a_stage_only_redeclared():
    d, g, (s1, s2) = scopes("ARG V=1.0\nARG IMG=busybox:$V\nFROM $IMG\nFROM x\nARG V\n")
    assert g.expand(d.stages[0].base) == "busybox:1.0"
    assert "V" not in s1.values() and s2.values()["V"] == "1.0"


def test_build_args_override_declared_defaults_only():
    d, g, (s,) = scopes("ARG V=1\nFROM x:$V\nARG W=2\nARG V\nARG NODEFAULT\n",
                        {"V": "9", "W": "8", "UNDECLARED": "u"})
    assert g.expand(d.stages[0].base) == "x:9"
    assert s.values() == {"V": "9", "W": "8"}
    assert parser.unused_build_args(d, {"V": "9", "UNDECLARED": "u", "HTTP_PROXY": "p", "Z": "z"}) == \
        ["[Warning] One or more build-args [UNDECLARED Z] were not consumed"]
    assert parser.unused_build_args(d, {"V": "1"}) == []


def test_proxy_args_are_predefined():
    _, _, (s,) = scopes("FROM x\n", {"http_proxy": "http://p:3128", "OTHER": "o"})
    assert s.values() == {"http_proxy": "http://p:3128"}


def test_env_wins_over_arg_and_one_env_sees_the_values_before_it():
    _, _, (s,) = scopes("FROM x\nARG A=arg\nENV A=env B=$A\nENV C=$A\nARG D=$C-$PATH\n",
                        image_env=["PATH=/bin"])
    assert s.values() == {"A": "env", "B": "arg", "C": "env", "D": "env-/bin", "PATH": "/bin"}


def test_declare_returns_the_pairs():
    s = Scope({"B": "given"})
    assert s.declare(parse_line("ARG A=1 B C")) == [("A", "1"), ("B", "given"), ("C", None)]
    assert s.declare(parse_line('ENV X="$A y"')) == [("X", "1 y")]


# --- as commit -c / import -c read a line (imageconfig.apply) ------------------------------------

def test_changes_keep_dollars_and_remove_quotes():
    c = {}
    for change in ("ENV A=$B C=\"x y\"", "ENV LEGACY \"x y\"", 'LABEL "a b"=c d="$e"', "cmd [\"a\"]"):
        imageconfig.apply(c, change)
    assert c == {"Env": ["A=$B", "C=x y", "LEGACY=x y"], "Labels": {"a b": "c", "d": "$e"}, "Cmd": ["a"]}


@pytest.mark.parametrize("change, message", [
    ("ONBUILD RUN x", "ONBUILD is not a valid change command"),
    ("FROBNICATE x", "FROBNICATE is not a valid change command"),
    ("", "'' is not a valid change command"),
    ("CMD [oops", "invalid JSON in change: CMD [oops"),
    ("CMD [1]", "when using JSON array syntax, arrays must be comprised of strings only"),
    ("ENV A=1 B", 'Syntax error - can\'t find = in "B". Must be of the form: name=value'),
])
def test_bad_changes_say_why(change, message):
    with pytest.raises(BockerError) as e:
        imageconfig.apply({}, change)
    assert str(e.value) == message

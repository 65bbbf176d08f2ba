"""Argument parsing: flags, the command's own arguments kept intact, exit 125 on bad flags."""
import pytest

from bocker import BockerError, cli
from bocker.cli import containers as cli_containers

ISSUE4_VERBS = ["setup", "teardown", "init", "images", "tag", "rmi", "commit", "inspect", "run", "ps",
                "logs", "rm"]


def parse(*argv):
    return cli._parser().parse_args(list(argv))


def test_run_flags_and_command_args_kept_intact():
    a = parse("run", "-e", "A=1", "--name", "x", "busybox", "sh", "-c", "a b")
    assert a.verb == "run"
    assert a.env == ["A=1"]
    assert a.name == "x"
    assert a.image == "busybox"
    assert a.command == ["sh", "-c", "a b"]


def test_flags_after_the_image_belong_to_the_command():
    a = parse("run", "busybox", "ls", "-l", "--name", "y", "-e", "B=2", "--", "--rm")
    assert a.name is None
    assert a.env == []
    assert a.rm is False
    assert a.command == ["ls", "-l", "--name", "y", "-e", "B=2", "--", "--rm"]


def test_command_args_with_quotes_spaces_and_empty_strings():
    args = ["printf", "[%s]\\n", "a b", "'q'", '"d"', "", "$HOME", "*", "-"]
    assert parse("run", "--rm", "busybox", *args).command == args


def test_all_run_flags():
    a = parse("run", "--rm", "-e", "A=1", "-e", "B", "-w", "/tmp", "-u", "65534:65534", "--name", "n",
              "--hostname", "h", "--entrypoint", "echo", "--network", "none", "--memory", "64m",
              "--cpus", "0.5", "--pids-limit", "20", "busybox", "x")
    assert (a.rm, a.env, a.workdir, a.user, a.name, a.hostname, a.entrypoint, a.network, a.memory,
            a.cpus, a.pids_limit, a.command) == (
        True, ["A=1", "B"], "/tmp", "65534:65534", "n", "h", "echo", "none", "64m", "0.5", 20, ["x"])


def test_short_flags():
    a = parse("run", "-h", "h1", "-m", "32m", "busybox")
    assert (a.hostname, a.memory, a.command) == ("h1", "32m", [])


def test_run_defaults():
    a = parse("run", "busybox")
    assert a.network == "bridge"
    assert a.rm is False and a.env == [] and a.memory is None and a.pids_limit is None


def test_run_options_convert_limits():
    o = cli_containers._run_options(parse("run", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "20", "busybox"))
    assert (o.memory, o.cpus, o.pids_limit) == (64 << 20, 0.5, 20)


# (whether a user network exists is checked against the store, by `run`)
@pytest.mark.parametrize("args", [["--network", "foo/bar"], ["--ip", "10.1.1.1"], ["--memory", "lots"],
                                  ["--cpus", "0"]])
def test_run_options_reject_bad_values(args):
    with pytest.raises(BockerError):
        cli_containers._run_options(parse("run", *args, "busybox"))


@pytest.mark.parametrize("argv", [
    ["run", "--bogus", "busybox"], ["ps", "--bogus"], ["--bogus", "ps"], ["frob"],
    ["run", "--pids-limit", "abc", "busybox"], ["inspect", "--type", "volume", "x"],
])
def test_bad_arguments_exit_125_with_a_bocker_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli._parser().parse_args(argv)
    assert e.value.code == 125
    err = capsys.readouterr().err
    assert err.startswith("bocker: ")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, line", [
    (["run"], '"bocker run" requires at least 1 argument.'),
    (["rm"], '"bocker rm" requires at least 1 argument.'),
    (["logs"], '"bocker logs" requires exactly 1 argument.'),
    (["tag", "a"], '"bocker tag" requires exactly 2 arguments.'),
    (["volume", "rm"], '"bocker volume rm" requires at least 1 argument.'),
])
def test_missing_arguments_exit_1_with_dockers_line(argv, line, capsys):
    with pytest.raises(SystemExit) as e:
        cli._parser(cli._wanted_verb(argv)).parse_args(argv)
    assert e.value.code == 1
    assert capsys.readouterr().err.splitlines()[0] == f"bocker: {line}"


@pytest.mark.parametrize("verb, code, expected", [
    ("run", 125, 125), ("create", 125, 125), ("exec", 125, 1), ("exec", 126, 126), ("exec", 127, 127),
    ("logs", 125, 1), ("volume inspect", 125, 1), ("start", 3, 3),
])
def test_exit_code_is_dockers(verb, code, expected):
    assert cli.exit_code(verb, code) == expected


def test_main_bad_flag_exits_125(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--bogus", "busybox", "true"])
    assert e.value.code == 125
    assert capsys.readouterr().err.startswith("bocker: ")


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("bocker version ")


def test_global_flags():
    a = parse("--root", "/x", "--trace", "--dry-run", "ps", "-a")
    assert (a.root, a.trace, a.dry_run, a.all) == ("/x", True, True, True)


def test_ps_images_rm_rmi_inspect_flags():
    a = parse("ps", "-a", "-q", "--no-trunc", "--format", ".Names")
    assert (a.all, a.quiet, a.no_trunc, a.format) == (True, True, True, ".Names")
    a = parse("images", "-q")
    assert a.quiet
    a = parse("rm", "-f", "a", "b")
    assert (a.force, a.containers) == (True, ["a", "b"])
    a = parse("rmi", "-f", "img:1", "img:2")
    assert (a.force, a.image) == (True, ["img:1", "img:2"])
    a = parse("inspect", "-f", ".[0].Id", "x", "y")
    assert (a.format, a.names) == (".[0].Id", ["x", "y"])
    a = parse("commit", "-c", "CMD x", "-c", "ENV A=1", "-m", "msg", "web", "img:2")
    assert (a.change, a.message, a.container, a.name) == (["CMD x", "ENV A=1"], "msg", "web", "img:2")
    a = parse("commit", "web")
    assert a.name is None
    a = parse("init", "/dir", "img:1")
    assert (a.directory, a.name) == ("/dir", "img:1")
    a = parse("teardown", "--store")
    assert a.store


@pytest.mark.parametrize("verb", ISSUE4_VERBS)
def test_every_verb_is_registered_with_a_docstring_help(verb):
    assert verb in cli.VERBS
    fn = cli.VERBS[verb][0]
    assert fn.__doc__ and fn.__doc__.strip()


@pytest.mark.parametrize("verb", ISSUE4_VERBS)
def test_verb_help_is_its_docstring(verb, capsys):
    with pytest.raises(SystemExit) as e:
        cli._parser().parse_args([verb, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    first = cli.VERBS[verb][0].__doc__.strip().splitlines()[0]
    assert first in out


def test_top_help_lists_the_verbs_with_their_summaries(capsys):
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for verb in ISSUE4_VERBS:
        summary = " ".join(cli.VERBS[verb][0].__doc__.strip().splitlines()[0].split())
        assert f"{verb} {summary}" in out


def test_only_setup_and_teardown_work_without_a_store():
    for verb in ISSUE4_VERBS:
        assert cli.VERBS[verb][2] == (verb not in ("setup", "teardown")), verb


def test_no_store_is_1_naming_setup(env, capsys, monkeypatch):
    import os
    monkeypatch.setenv("BOCKER_ROOT", str(env / "not-a-store"))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert cli.main(["ps"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bocker: ") and "bocker setup" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ["run", "--nam", "x", "busybox"], ["run", "--pids", "5", "busybox"], ["ps", "--al"],
    ["--dry", "ps"], ["volume", "ls", "--quie"],
])
def test_no_abbreviated_flags(argv, capsys):
    with pytest.raises(SystemExit) as e:
        parse(*argv)
    assert e.value.code == 125
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize("argv, dest, value", [
    (["run", "--detach=false", "busybox"], "detach", False),
    (["run", "-d=true", "busybox"], "detach", True),
    (["run", "--rm=false", "busybox"], "rm", False),
    (["run", "--rm", "--rm=false", "busybox"], "rm", False),
    (["run", "--rm=false", "--rm", "busybox"], "rm", True),
    (["run", "-it=false", "busybox"], "tty", False),
    (["ps", "--all=true"], "all", True),
    (["--trace=false", "ps"], "trace", False),
])
def test_boolean_flags_take_true_or_false(argv, dest, value):
    assert getattr(parse(*argv), dest) is value


def test_boolean_forms_stay_out_of_help():
    assert "=false" not in cli._parser("run").format_help()


def test_combined_short_flags_split_only_before_the_command():
    a = parse("run", "-it=false", "-e", "A=1", "busybox", "ls", "-it=false")
    assert (a.interactive, a.tty, a.env, a.command) == (True, False, ["A=1"], ["ls", "-it=false"])


@pytest.mark.parametrize("alias", sorted(cli.ALIASES))
def test_management_commands_are_the_short_verbs(alias, capsys):
    verb, defaults = cli.ALIASES[alias]
    assert cli.VERBS[alias] == cli.VERBS[verb]
    with pytest.raises(SystemExit) as e:
        cli._parser(alias).parse_args(alias.split() + ["--help"])
    assert e.value.code == 0
    assert cli.VERBS[verb][0].__doc__.strip().splitlines()[0] in capsys.readouterr().out


def test_management_commands_parse_as_their_verbs():
    a = parse("container", "ls", "-a", "-q")
    assert (a.verb, a.sub, a.all, a.quiet) == ("container", "ls", True, True)
    assert parse("image", "inspect", "x").type == "image"
    assert parse("container", "inspect", "x").type == "container"
    assert cli.exit_code("container logs", 125) == 1 and cli.exit_code("container run", 125) == 125


def test_top_help_lists_the_management_commands(capsys):
    with pytest.raises(SystemExit):
        parse("container", "--help")
    out = capsys.readouterr().out
    assert all(leaf in out for leaf in ("ls", "rm", "inspect", "prune", "logs", "exec"))

"""Container records: make_record (env merging, command, limits) and commit's apply_change."""
import json

import pytest

from bocker import BockerError, containers, imageconfig, images

IMG = "1" * 64
CID = "abcdef0123456789" * 4
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def write_image(cfg, config):
    with open(cfg.path("images", IMG + ".json"), "w") as f:
        json.dump({"config": config}, f)


@pytest.fixture
def image(cfg):
    write_image(cfg, {"Env": ["PATH=/opt/bin:/bin", "A=img", "KEEP=1"], "Cmd": ["sh"],
                      "WorkingDir": "/work", "User": "daemon", "Labels": {"from": "image", "x": "1"}})
    return cfg


def record(cfg, **opts):
    return containers.make_record(cfg, CID, "web", IMG, "myimg:1", containers.RunOptions(**opts))


def env_dict(rec):
    return dict(e.partition("=")[::2] for e in rec["Config"]["Env"])


def test_image_env_then_hostname(image):
    rec = record(image)
    assert rec["Config"]["Env"] == ["PATH=/opt/bin:/bin", "A=img", "KEEP=1", f"HOSTNAME={CID[:12]}"]


def test_cli_env_overrides_image_env_and_keeps_values(image):
    rec = record(image, env=["A=cli", "B=x y", "C=k=v", "EMPTY="])
    env = env_dict(rec)
    assert env["A"] == "cli"
    assert env["B"] == "x y"
    assert env["C"] == "k=v"
    assert env["EMPTY"] == ""
    assert env["KEEP"] == "1"
    assert [e for e in rec["Config"]["Env"] if e.startswith("A=")] == ["A=cli"]


def test_env_name_without_value_comes_from_bockers_environment(image, monkeypatch):
    monkeypatch.setenv("FROM_HOST", "host value")
    monkeypatch.delenv("NOT_SET", raising=False)
    env = env_dict(record(image, env=["FROM_HOST", "NOT_SET"]))
    assert env["FROM_HOST"] == "host value"
    assert "NOT_SET" not in env


def test_later_env_wins(image):
    assert env_dict(record(image, env=["A=1", "A=2"]))["A"] == "2"


def test_image_without_path_gets_the_default_path(cfg):
    write_image(cfg, {"Env": ["A=1"], "Cmd": ["sh"]})
    rec = record(cfg)
    assert rec["Config"]["Env"][0] == DEFAULT_PATH
    assert env_dict(rec)["A"] == "1"


def test_image_without_env(cfg):
    write_image(cfg, {"Cmd": ["sh"]})
    assert record(cfg)["Config"]["Env"] == [DEFAULT_PATH, f"HOSTNAME={CID[:12]}"]


def test_hostname_option(image):
    rec = record(image, hostname="h1")
    assert rec["Config"]["Hostname"] == "h1"
    assert env_dict(rec)["HOSTNAME"] == "h1"


def test_command_replaces_image_cmd(image):
    rec = record(image, command=["echo", "a b", ""])
    assert rec["Path"] == "echo"
    assert rec["Args"] == ["a b", ""]
    assert rec["Config"]["Cmd"] == ["echo", "a b", ""]


def test_image_cmd_when_no_command(image):
    rec = record(image)
    assert (rec["Path"], rec["Args"]) == ("sh", [])


def test_entrypoint_option_drops_the_image_cmd(cfg):
    write_image(cfg, {"Entrypoint": ["/bin/ep"], "Cmd": ["--default"]})
    rec = record(cfg, entrypoint="echo")
    assert (rec["Path"], rec["Args"]) == ("echo", [])
    rec = record(cfg, entrypoint="echo", command=["x"])
    assert (rec["Path"], rec["Args"]) == ("echo", ["x"])


def test_image_entrypoint_plus_command(cfg):
    write_image(cfg, {"Entrypoint": ["/bin/ep", "-v"], "Cmd": ["--default"]})
    rec = record(cfg)
    assert (rec["Path"], rec["Args"]) == ("/bin/ep", ["-v", "--default"])
    rec = record(cfg, command=["run"])
    assert (rec["Path"], rec["Args"]) == ("/bin/ep", ["-v", "run"])


def test_empty_entrypoint_clears_the_images(cfg):
    write_image(cfg, {"Entrypoint": ["/bin/ep"], "Cmd": ["x"]})
    rec = record(cfg, entrypoint="", command=["true"])
    assert rec["Config"]["Entrypoint"] is None
    assert (rec["Path"], rec["Args"]) == ("true", [])


def test_no_command_at_all_is_an_error(cfg):
    write_image(cfg, {})
    with pytest.raises(BockerError, match="no command"):
        record(cfg)


def test_workdir_user_from_image_unless_given(image):
    rec = record(image)
    assert (rec["Config"]["WorkingDir"], rec["Config"]["User"]) == ("/work", "daemon")
    rec = record(image, workdir="/tmp", user="65534:65534")
    assert (rec["Config"]["WorkingDir"], rec["Config"]["User"]) == ("/tmp", "65534:65534")


def test_limits_and_host_config(image):
    rec = record(image, memory=64 << 20, cpus=0.5, pids_limit=20, rm=True, network="none")
    assert rec["HostConfig"]["Memory"] == 64 << 20
    assert rec["HostConfig"]["NanoCpus"] == 500000000
    assert rec["HostConfig"]["PidsLimit"] == 20
    assert rec["HostConfig"]["AutoRemove"] is True
    assert rec["HostConfig"]["NetworkMode"] == "none"


def test_defaults(image):
    rec = record(image)
    assert rec["Id"] == CID
    assert rec["Name"] == "/web"
    assert rec["Image"] == IMG
    assert rec["Config"]["Image"] == "myimg:1"
    assert rec["HostConfig"]["NetworkMode"] == "bridge"
    assert rec["HostConfig"]["Memory"] == 0 and rec["HostConfig"]["NanoCpus"] == 0
    assert rec["State"]["Status"] == "created"
    assert rec["LogPath"] == image.path("containers", CID, "container.log")


def test_port_bindings_are_docker_s_map(image):
    from bocker.network import ports
    rec = record(image, ports=ports.parse_ports(["8080:80", "127.0.0.1:5353:53/udp"]))
    assert rec["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                                 "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
    assert record(image)["HostConfig"]["PortBindings"] == {}


def test_labels_merge(image):
    rec = record(image, labels={"x": "2", "y": "3"})
    assert rec["Config"]["Labels"] == {"from": "image", "x": "2", "y": "3"}


def test_record_is_json_serialisable(image):
    json.dumps(record(image, env=["A=1"], command=["true"]))


# --- status text ---------------------------------------------------------------------------

def test_status_text_exited():
    from bocker import fmt
    st = {"Status": "exited", "ExitCode": 3, "FinishedAt": fmt.now_iso()}
    assert containers.status_text(st) == "Exited (3) Less than a second ago"


def test_status_text_running():
    from bocker import fmt
    st = {"Status": "running", "StartedAt": fmt.now_iso()}
    assert containers.status_text(st) == "Up Less than a second"


def test_state_of_a_dead_running_record_is_exited(cfg):
    rec = {"Id": CID, "State": {"Status": "running", "Pid": 999999999, "PidStartTime": 1,
                                "ExitCode": 0, "StartedAt": "2020-01-01T00:00:00Z"}}
    st = containers.state(cfg, rec)
    assert st["Status"] == "exited"
    assert st["Running"] is False


# --- commit -c: apply_change ---------------------------------------------------------------

def test_cmd_json_and_shell_form():
    c = {}
    imageconfig.apply(c, 'CMD ["echo", "a b"]')
    assert c["Cmd"] == ["echo", "a b"]
    imageconfig.apply(c, "CMD echo hi && ls")
    assert c["Cmd"] == ["/bin/sh", "-c", "echo hi && ls"]


def test_entrypoint():
    c = {}
    imageconfig.apply(c, 'ENTRYPOINT ["/bin/ep", "-x"]')
    assert c["Entrypoint"] == ["/bin/ep", "-x"]


def test_env_forms_and_replacement():
    c = {"Env": ["PATH=/bin", "A=old"]}
    imageconfig.apply(c, "ENV A=new B=2")
    imageconfig.apply(c, "ENV C hello world")
    imageconfig.apply(c, 'ENV D="x y"')
    assert c["Env"] == ["PATH=/bin", "A=new", "B=2", "C=hello world", "D=x y"]


def test_env_single_pair_old_form():
    c = {}
    imageconfig.apply(c, "ENV K V")
    assert c["Env"] == ["K=V"]


def test_workdir_user_label_expose():
    c = {}
    imageconfig.apply(c, "WORKDIR /srv")
    imageconfig.apply(c, "USER nobody")
    imageconfig.apply(c, 'LABEL a=1 "b=x y"')
    imageconfig.apply(c, "EXPOSE 80 53/udp")
    assert c["WorkingDir"] == "/srv"
    assert c["User"] == "nobody"
    assert c["Labels"] == {"a": "1", "b": "x y"}
    assert c["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}


def test_instruction_is_case_insensitive():
    c = {}
    imageconfig.apply(c, "cmd [\"true\"]")
    assert c["Cmd"] == ["true"]


@pytest.mark.parametrize("change", ["FROBNICATE x", "CMD [not json", "RUN echo", ""])
def test_bad_changes_are_errors(change):
    with pytest.raises(BockerError):
        imageconfig.apply({}, change)


def test_new_config_appends_history_and_keeps_parent():
    parent = images.new_config(created_by="init")
    child = images.new_config({"Cmd": ["x"]}, parent, created_by="commit", comment="msg")
    assert [h["created_by"] for h in child["history"]] == ["init", "commit"]
    assert child["history"][-1]["comment"] == "msg"
    assert child["config"] == {"Cmd": ["x"]}
    assert len(parent["history"]) == 1  # the parent is not modified

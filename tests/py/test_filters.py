"""Parsing of ps --filter (containers.parse_filters, and what the filters match) and of
-p port specs (ports.parse_port)."""
import socket

import pytest

from bocker import BockerError, containers
from bocker.network import ports


# --- containers.parse_filters -------------------------------------------------------------

def test_no_filters():
    assert containers.parse_filters([]) == {}


def test_each_key():
    assert containers.parse_filters(["status=exited", "name=web", "id=abc", "ancestor=busybox",
                                     "label=tier"]) == {
        "status": ["exited"], "name": ["web"], "id": ["abc"], "ancestor": ["busybox"],
        "label": ["tier"]}


def test_same_key_twice_collects_values():
    assert containers.parse_filters(["status=exited", "status=created"]) == {
        "status": ["exited", "created"]}


def test_value_keeps_its_own_equals_signs():
    assert containers.parse_filters(["label=tier=web"]) == {"label": ["tier=web"]}
    assert containers.parse_filters(["label=k=v=w"]) == {"label": ["k=v=w"]}


def test_empty_value_is_kept():
    assert containers.parse_filters(["name="]) == {"name": [""]}


@pytest.mark.parametrize("item", ["status", "nosuch=1", "=exited", "", "Status=exited",
                                  "volumes=abc", "label"])
def test_invalid_filter(item):
    with pytest.raises(BockerError, match="invalid filter"):
        containers.parse_filters([item])


def test_one_invalid_among_valid_ones_fails():
    with pytest.raises(BockerError):
        containers.parse_filters(["status=exited", "bogus=1"])


# --- what the filters match (containers._matches on records) ------------------------------

def record(name, status="exited", labels=None, image_ref="busybox", image_id="f" * 64):
    return {"Id": (name.encode().hex() * 64)[:64], "Name": "/" + name, "Image": image_id,
            "Config": {"Image": image_ref, "Labels": labels or {}},
            "State": {"Status": status}}


def matches(cfg, rec, *items):
    return containers._matches(cfg, rec, rec["State"], containers.parse_filters(list(items)))


def test_match_status_name_id(cfg):
    rec = record("web1", "running")
    assert matches(cfg, rec, "status=running")
    assert not matches(cfg, rec, "status=exited")
    assert matches(cfg, rec, "status=exited", "status=running")  # same key: OR
    assert matches(cfg, rec, "name=web")                          # docker: a substring/regex
    assert not matches(cfg, rec, "name=db")
    assert matches(cfg, rec, "id=" + rec["Id"][:6])
    assert not matches(cfg, rec, "id=0000")
    assert not matches(cfg, rec, "name=web", "status=exited")     # different keys: AND


def test_match_labels(cfg):
    rec = record("a", labels={"tier": "web", "empty": ""})
    assert matches(cfg, rec, "label=tier")
    assert matches(cfg, rec, "label=tier=web")
    assert not matches(cfg, rec, "label=tier=db")
    assert not matches(cfg, rec, "label=team")
    assert matches(cfg, rec, "label=empty")
    assert matches(cfg, rec, "label=empty=")
    assert matches(cfg, rec, "label=tier", "label=empty")


def test_match_ancestor_by_reference_and_id_prefix(cfg):
    rec = record("a", image_ref="busybox", image_id="ab" * 32)
    assert matches(cfg, rec, "ancestor=busybox")
    assert matches(cfg, rec, "ancestor=abab")
    assert not matches(cfg, rec, "ancestor=alpine")


# --- ports.parse_port -------------------------------------------------------------------

def test_host_and_container_port():
    assert ports.parse_port("8080:80") == {"HostIp": "0.0.0.0", "HostPort": "8080",
                                             "ContainerPort": 80, "Proto": "tcp"}


def test_udp_and_tcp():
    assert ports.parse_port("5353:53/udp")["Proto"] == "udp"
    assert ports.parse_port("5353:53/tcp")["Proto"] == "tcp"


def test_host_ip():
    p = ports.parse_port("127.0.0.1:8080:80")
    assert (p["HostIp"], p["HostPort"], p["ContainerPort"]) == ("127.0.0.1", "8080", 80)


def test_container_port_alone_gets_a_free_host_port():
    p = ports.parse_port("80")
    port = int(p["HostPort"])
    assert 0 < port < 65536 and p["ContainerPort"] == 80
    # it is free: it can be bound
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_limits():
    assert ports.parse_port("1:1")["HostPort"] == "1"
    assert ports.parse_port("65535:65535")["ContainerPort"] == 65535


@pytest.mark.parametrize("spec", [
    "", "abc", "80:abc", "abc:80", "8080:80/sctp", "1:2:3:4", "0:80", "8080:0",
    "65536:80", "8080:65536", "-1:80", "notanip:8080:80", "999.1.1.1:8080:80", "8080:80/udp/tcp",
])
def test_invalid_port_spec(spec):
    with pytest.raises(BockerError):
        ports.parse_port(spec)


def test_ports_text():
    bindings = [ports.parse_port("8080:80"), ports.parse_port("127.0.0.1:5353:53/udp")]
    assert ports.ports_text(bindings) == "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp"
    assert ports.ports_text([]) == ""


def test_empty_protocol_is_tcp_as_in_docker():
    assert ports.parse_port("8080:80/")["Proto"] == "tcp"


# --- HostConfig.PortBindings: docker's map, and the list older records hold -----------------

def test_port_bindings_in_docker_shape():
    bindings = [ports.parse_port("8080:80"), ports.parse_port("8081:80"), ports.parse_port("127.0.0.1:5353:53/udp")]
    assert ports.to_record(bindings) == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "", "HostPort": "8081"}],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
    assert ports.from_record(ports.to_record(bindings)) == bindings
    assert ports.to_record([]) == {}


def test_port_bindings_of_older_records_and_docker_nulls_are_read():
    old = [ports.parse_port("8080:80")]
    assert ports.from_record(old) == old
    assert ports.from_record(None) == []
    assert ports.from_record({"80/tcp": None}) == []


def test_record_keeps_port_bindings_in_docker_shape():
    rec = {"HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}}
    assert containers.published(rec) == [ports.parse_port("8080:80")]
    assert containers.published({"HostConfig": {}}) == []


def test_new_ps_keys_and_exit_codes():
    assert containers.parse_filters(["exited=0", "before=a", "since=b", "publish=80/tcp", "volume=/d",
                                     "network=n"]) == {
        "exited": ["0"], "before": ["a"], "since": ["b"], "publish": ["80/tcp"], "volume": ["/d"], "network": ["n"]}
    with pytest.raises(BockerError):
        containers.parse_filters(["exited=zero"])


@pytest.mark.parametrize("spec,hit", [("80", True), ("80/tcp", True), ("80/udp", False), ("79-81", True),
                                      ("81-90", False), ("53/udp", True)])
def test_publish_filter(spec, hit):
    bindings = [{"ContainerPort": 80, "Proto": "tcp"}, {"ContainerPort": 53, "Proto": "udp"}]
    assert containers._port_match(spec, bindings) is hit

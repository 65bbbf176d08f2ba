"""Parsing of ps --filter (containers.parse_filters, and what the filters match); -p port specs
are test_ports.py's."""
import pytest

from bocker import BockerError, containers


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


# --- ps filters of the CLI issue ---------------------------------------------------------

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

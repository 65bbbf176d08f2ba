"""events: the append-only log (one JSON line per event), its reader (--since, --until,
--filter), Docker's default line, following the log as it grows and across a rotation."""
import json
import os
import threading
import time

import pytest

from bocker import BockerError, events, shell
from bocker.config import Config


@pytest.fixture
def cfg(tmp_path):
    return Config(str(tmp_path))


def rec(cid="a" * 64, name="web", image="busybox", labels=None):
    return {"Id": cid, "Name": "/" + name, "Config": {"Image": image, "Labels": labels or {}},
            "HostConfig": {"NetworkMode": "bridge"}, "NetworkSettings": {}}


def lines(cfg):
    with open(events.path(cfg)) as f:
        return [json.loads(line) for line in f]


def test_a_container_event_has_dockers_shape(cfg):
    events.container(cfg, "die", rec(labels={"tier": "db"}), exitCode=3)
    (e,) = lines(cfg)
    assert e["Type"] == "container" and e["Action"] == "die" and e["status"] == "die"
    assert e["id"] == "a" * 64 and e["from"] == "busybox" and e["scope"] == "local"
    assert e["Actor"] == {"ID": "a" * 64, "Attributes": {"image": "busybox", "name": "web", "tier": "db",
                                                         "exitCode": "3"}}
    assert e["time"] == e["timeNano"] // 10 ** 9


def test_a_dry_run_records_nothing(cfg):
    shell.dry_run = True
    events.container(cfg, "start", rec())
    assert not os.path.exists(events.path(cfg))


def test_default_line_is_dockers():
    e = {"Type": "container", "Action": "start", "timeNano": 1796166000123456789,
         "Actor": {"ID": "abc", "Attributes": {"name": "x", "image": "busybox"}}}
    assert events.line(e) == "2026-12-01T23:00:00.123456789Z container start abc (image=busybox, name=x)"


def test_since_until_window(cfg):
    for action in ("create", "start", "die"):
        events.container(cfg, action, rec())
        time.sleep(0.01)
    all_, offset = events.read(cfg)
    assert [e["Action"] for e in all_] == ["create", "start", "die"]
    assert offset == (os.stat(events.path(cfg)).st_ino, len(open(events.path(cfg), "rb").read()))
    t_start = all_[1]["timeNano"] / 1e9
    assert [e["Action"] for e in events.read(cfg, since=t_start)[0]] == ["start", "die"]
    assert [e["Action"] for e in events.read(cfg, until=t_start)[0]] == ["create", "start"]
    assert [e["Action"] for e in events.read(cfg, since=t_start, until=t_start)[0]] == ["start"]


def test_filters_one_key_or_and_keys_and(cfg):
    events.container(cfg, "start", rec("a" * 64, "web", labels={"tier": "db"}))
    events.container(cfg, "start", rec("b" * 64, "cache", image="redis"))
    events.container(cfg, "die", rec("b" * 64, "cache", image="redis"))
    events.image(cfg, "tag", "c" * 64, "busybox:latest")
    events.volume(cfg, "create", "data")
    events.network(cfg, "connect", "n1", "front", "b" * 64)

    def pick(*items):
        return [(e["Type"], e["Action"], e["Actor"]["ID"][:1]) for e in events.read(cfg, filters=events.parse_filters(items))[0]]
    assert pick("container=web") == [("container", "start", "a")]
    assert pick("container=bbb") == [("container", "start", "b"), ("container", "die", "b"), ("network", "connect", "n")]
    assert pick("container=web", "container=cache", "event=die") == [("container", "die", "b")]
    assert pick("type=image") == [("image", "tag", "s")]
    assert pick("image=busybox") == [("container", "start", "a"), ("image", "tag", "s")]
    assert pick("label=tier") == pick("label=tier=db") == [("container", "start", "a")]
    assert pick("label=tier=web") == []
    assert pick("volume=data") == [("volume", "create", "d")]
    assert pick("network=front") == [("network", "connect", "n")]
    assert pick("type=volume", "type=network") == [("volume", "create", "d"), ("network", "connect", "n")]


@pytest.mark.parametrize("bad", ["bogus=1", "type", "name=x"])
def test_unknown_filters_are_refused(bad):
    with pytest.raises(BockerError, match="invalid filter"):
        events.parse_filters([bad])


def test_a_torn_last_line_is_left_for_the_follower(cfg):
    events.container(cfg, "create", rec())
    with open(events.path(cfg), "ab") as f:
        f.write(b'{"Type":"container","Act')
    got, offset = events.read(cfg)
    assert [e["Action"] for e in got] == ["create"]
    assert offset[1] < len(open(events.path(cfg), "rb").read())


def test_follow_sees_new_events_and_a_rotation(cfg, monkeypatch):
    monkeypatch.setattr(events, "MAX_SIZE", 600)
    events.container(cfg, "create", rec())
    _, offset = events.read(cfg)
    seen = []

    def write():
        for i in range(6):  # past MAX_SIZE: the log moves to events.log.1 meanwhile
            events.container(cfg, "start", rec(name=f"c{i}"))
            time.sleep(0.05)
    t = threading.Thread(target=write)
    t.start()
    events.follow(cfg, seen.append, offset, until=time.time() + 1.5, interval=0.01)
    t.join()
    assert [e["Actor"]["Attributes"]["name"] for e in seen] == [f"c{i}" for i in range(6)]
    assert os.path.exists(events.path(cfg) + ".1")
    kept = [e["Actor"]["Attributes"]["name"] for e in events.read(cfg)[0]]  # both files, oldest first
    assert len(kept) > 1 and kept == [f"c{i}" for i in range(6)][-len(kept):]


def test_last_exit_is_the_last_die_of_that_container(cfg):
    assert events.last_exit(cfg, "a" * 64) == 0
    events.container(cfg, "die", rec("a" * 64), exitCode=3)
    events.container(cfg, "die", rec("b" * 64), exitCode=4)
    events.container(cfg, "die", rec("a" * 64), exitCode=5)
    assert events.last_exit(cfg, "a" * 64) == 5


@pytest.mark.parametrize("text,ago", [("10m", 600), ("1h30m", 5400), ("500ms", 0.5), ("1.5h", 5400), ("0s", 0)])
def test_since_takes_gos_durations(text, ago):
    from bocker import logs
    assert logs.parse_time(text, now=10000.0) == pytest.approx(10000.0 - ago)


def test_since_takes_rfc3339_with_nanoseconds_and_unix_times():
    from bocker import logs
    assert logs.parse_time("2026-12-01T23:00:00.123456789Z") == pytest.approx(1796166000.123456, abs=1e-5)
    assert logs.parse_time("1796166000.5") == 1796166000.5

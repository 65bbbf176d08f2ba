"""Container names (docker's rule), id prefixes, and image references."""
import os

import pytest

from bocker import BockerError, containers, images


@pytest.mark.parametrize("name", ["a", "web", "Web1", "0abc", "a_b.c-d", "x" * 200, "a..b", "a--"])
def test_valid_names(name):
    assert containers.NAME_RE.fullmatch(name)


@pytest.mark.parametrize("name", ["", "_a", ".a", "-a", "a b", "a/b", "é", "a:b", "a\n", "a@b", "/a"])
def test_invalid_names(name):
    assert not containers.NAME_RE.fullmatch(name)


def make_containers(cfg, *ids):
    for cid in ids:
        os.makedirs(cfg.path("containers", cid))


def test_resolve_by_name_id_and_unique_prefix(cfg):
    a = "abc" + "0" * 61
    b = "abd" + "1" * 61
    make_containers(cfg, a, b)
    os.symlink(a, cfg.path("names", "web"))
    assert containers.resolve(cfg, "web") == a
    assert containers.resolve(cfg, a) == a
    assert containers.resolve(cfg, "abc") == a
    assert containers.resolve(cfg, "abd1") == b


def test_resolve_ambiguous_prefix_is_an_error(cfg):
    make_containers(cfg, "abc" + "0" * 61, "abd" + "1" * 61)
    with pytest.raises(BockerError, match="multiple"):
        containers.resolve(cfg, "ab")


@pytest.mark.parametrize("ref", ["", "nosuch", "abe", "ABC", "../containers"])
def test_resolve_unknown_is_an_error(cfg, ref):
    make_containers(cfg, "abc" + "0" * 61)
    with pytest.raises(BockerError):
        containers.resolve(cfg, ref)


def test_a_name_wins_over_an_id_prefix(cfg):
    a = "abc" + "0" * 61
    b = "bee" + "1" * 61
    make_containers(cfg, a, b)
    os.symlink(a, cfg.path("names", "bee"))
    assert containers.resolve(cfg, "bee") == a


@pytest.mark.parametrize("ref, expected", [
    ("busybox", "busybox:latest"),
    ("busybox:1.36", "busybox:1.36"),
    ("docker.io/library/busybox", "busybox:latest"),
    ("docker.io/library/busybox:1", "busybox:1"),
    ("docker.io/user/img", "user/img:latest"),
    ("index.docker.io/library/alpine:3", "alpine:3"),
    ("localhost:5000/foo", "localhost:5000/foo:latest"),
    ("localhost:5000/foo:1.0", "localhost:5000/foo:1.0"),
    ("user/img", "user/img:latest"),
    ("foo@sha256:" + "a" * 64, "foo@sha256:" + "a" * 64),
])
def test_normalize(ref, expected):
    assert images.normalize(ref) == expected


@pytest.mark.parametrize("ref", ["busybox:latest", "my-img:1.0", "a/b/c:v_1", "localhost:5000/foo:latest",
                                 "x.y:T-1", "a__b:1", "a--b:1", "img:" + "t" * 128])
def test_valid_refs(ref):
    assert images.valid_ref(ref)


@pytest.mark.parametrize("ref", ["Bad:1", "a b:1", ":x", "foo:", "-a:1", "a:-x", "a:" + "t" * 129,
                                 "a//b:1", "a:b c", ""])
def test_invalid_refs(ref):
    assert not images.valid_ref(ref)

"""run/create flag parsing (cli/runflags.py): env and label files, --mount, -a, --expose."""
import pytest

from bocker import BockerError
from bocker.cli import runflags


def write(tmp_path, text, name="f"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_env_file_rules(tmp_path):
    path = write(tmp_path, "# comment\n\n  A=1\nB= spaced \nC=\"q\"\nSET\nUNSET\nD=\n")
    env = {"SET": "from-env"}
    assert runflags.parse_kv_file(path, env.get) == ["A=1", "B= spaced ", 'C="q"', "SET=from-env", "D="]


def test_env_file_then_flags(tmp_path):
    path = write(tmp_path, "A=1\nB=2\n")
    assert runflags.env_items([path], ["A=3"], environ={}) == ["A=1", "B=2", "A=3"]


def test_label_file_key_alone_is_an_empty_label(tmp_path):
    assert runflags.label_items([write(tmp_path, "a=1\nflag\n")], ["b=2"]) == ["a=1", "flag", "b=2"]


@pytest.mark.parametrize("text,message", [("A B=1\n", "contains whitespaces"), ("=1\n", "no variable name")])
def test_env_file_errors(tmp_path, text, message):
    with pytest.raises(BockerError, match=message):
        runflags.parse_kv_file(write(tmp_path, text), {}.get)


def test_env_file_missing_and_binary(tmp_path):
    with pytest.raises(BockerError, match="no such file"):
        runflags.parse_kv_file(str(tmp_path / "none"))
    p = tmp_path / "bin"
    p.write_bytes(b"A=\xff\n")
    with pytest.raises(BockerError, match="UTF-8"):
        runflags.parse_kv_file(str(p))


def test_mount_forms(tmp_path):
    src = str(tmp_path)
    assert runflags.parse_mount(f"type=bind,src={src},dst=/d,readonly") == ("volume", f"{src}:/d:ro")
    assert runflags.parse_mount(f"type=bind,source={src},target=/d,ro=false") == ("volume", f"{src}:/d")
    assert runflags.parse_mount("type=volume,src=v,dst=/d") == ("volume", "v:/d")
    assert runflags.parse_mount("dst=/d") == ("volume", "/d")
    assert runflags.parse_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770") == ("tmpfs", "/t:size=1m,mode=1770")


@pytest.mark.parametrize("spec", ["type=bind,src=/nonexistent-x,dst=/d", "type=bind,src=rel,dst=/d",
                                  "type=volume,src=v", "type=tmpfs,src=x,dst=/t", "type=nfs,dst=/d",
                                  "type=volume,dst=/d,bogus=1", "type=volume,dst=/d,readonly=maybe",
                                  "type=volume,src=/abs,dst=/d", "type=volume,dst=/d,tmpfs-size=1", "type",
                                  "type=bind,src=/,dst=/d,bind-propagation=shared"])
def test_mount_refused(spec):
    with pytest.raises(BockerError):
        runflags.parse_mount(spec)


def test_attach():
    assert runflags.parse_attach(["STDOUT", "stderr"]) == {"stdout", "stderr"}
    assert runflags.parse_attach([]) == set()
    with pytest.raises(BockerError, match="valid streams"):
        runflags.parse_attach(["out"])


def test_expose():
    assert runflags.parse_expose(["80", "53/udp", "7-8/tcp"]) == ["80/tcp", "53/udp", "7/tcp", "8/tcp"]
    for bad in ("x", "0", "70000", "9-8", "80/icmp"):
        with pytest.raises(BockerError):
            runflags.parse_expose([bad])


def test_platform():
    from bocker.images import check_platform
    check_platform("linux/amd64", {"os": "linux", "architecture": "amd64"}, "img")
    with pytest.raises(BockerError, match="wanted linux/arm64, actual: linux/amd64"):
        check_platform("linux/arm64", {"os": "linux", "architecture": "amd64"}, "img")
    check_platform("linux/arm64/v8", {"os": "linux", "architecture": "arm64"}, "img")


def test_cidfile(tmp_path):
    path = str(tmp_path / "cid")
    assert runflags.claim_cidfile(path) == path
    with pytest.raises(BockerError, match="Container ID file found"):
        runflags.claim_cidfile(path)
    runflags.write_cidfile(path, "abc")
    assert open(path).read() == "abc"
    runflags.drop_cidfile(path)
    assert runflags.claim_cidfile(None) is None


# --- listing filters (images.row_matches, fmt.parse_filters, volumes.matches) -------------

def test_reference_match_is_go_path_match():
    from bocker.images import reference_match
    assert reference_match("busybox", "busybox", "latest")
    assert reference_match("busybox:lat*", "busybox", "latest")
    assert reference_match("*", "busybox", "1")
    assert not reference_match("*", "localhost:5000/busybox", "1")
    assert reference_match("*/busybox", "localhost:5000/busybox", "1")
    assert not reference_match("busy", "busybox", "latest")


def test_image_row_filters():
    from bocker.images import row_matches
    row = {"Repository": "a", "Tag": "1", "Created": "2026-01-02", "Labels": {"k": "v", "x": ""}}
    created = {"old": "2026-01-01", "new": "2026-01-03"}.get
    assert row_matches(row, {"since": ["old"], "before": ["new"]}, created)
    assert not row_matches(row, {"before": ["old"]}, created)
    assert row_matches(row, {"label": ["k=v", "x"]}, created)
    assert not row_matches(row, {"label": ["k=v", "y"]}, created)
    assert row_matches(row, {"dangling": ["false"], "reference": ["b", "a"]}, created)
    assert row_matches(dict(row, Repository="<none>", Tag="<none>"), {"dangling": ["true"]}, created)


def test_parse_filters():
    from bocker import fmt
    assert fmt.parse_filters(["a=1", "a=2", "b=x=y"], ("a", "b")) == {"a": ["1", "2"], "b": ["x=y"]}
    for bad in (["c=1"], ["a"]):
        with pytest.raises(BockerError, match="invalid filter"):
            fmt.parse_filters(bad, ("a", "b"))


def test_volume_filters():
    from bocker.volumes import matches
    row = {"Name": "data1", "Labels": {"team": "a"}}
    assert matches(row, {"name": ["ata"], "label": ["team=a"], "dangling": ["true"]}, used=False)
    assert not matches(row, {"dangling": ["true"]}, used=True)
    with pytest.raises(BockerError):
        matches(row, {"dangling": ["perhaps"]}, used=True)


def test_for_template():
    from bocker import fmt
    assert fmt.for_template([{"Labels": {"b": "2", "a": "1"}, "Size": 1980000, "X": 1}]) == \
        [{"Labels": "a=1,b=2", "Size": "1.98MB", "X": 1}]


def test_prune_match():
    from bocker.cli.verbs import prune_match
    assert prune_match([]) is None
    m = prune_match(["label=a=1", "label!=keep", "until=2026-06-01T00:00:00Z"])
    assert m("2026-01-01T00:00:00Z", {"a": "1"})
    assert not m("2026-07-01T00:00:00Z", {"a": "1"})
    assert not m("2026-01-01T00:00:00Z", {"a": "1", "keep": ""})
    assert not m("2026-01-01T00:00:00Z", {"a": "2"})
    with pytest.raises(BockerError):
        prune_match(["dangling=true"])

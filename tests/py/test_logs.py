"""logs.tail_offset: where the last N lines of a log start (and logs.show's --tail)."""
import io

import pytest

from bocker import BockerError, logs


def tail(data, n):
    """The bytes `logs --tail n` shows: from tail_offset to the end."""
    f = io.BytesIO(data)
    return data[logs.tail_offset(f, n):]


@pytest.mark.parametrize("n, want", [
    (1, b"c\n"),
    (2, b"b\nc\n"),
    (3, b"a\nb\nc\n"),
])
def test_with_final_newline(n, want):
    assert tail(b"a\nb\nc\n", n) == want


@pytest.mark.parametrize("n, want", [
    (1, b"c"),
    (2, b"b\nc"),
    (3, b"a\nb\nc"),
])
def test_without_final_newline_the_last_partial_line_counts(n, want):
    assert tail(b"a\nb\nc", n) == want


def test_empty_file():
    assert tail(b"", 1) == b""
    assert tail(b"", 10) == b""


@pytest.mark.parametrize("data", [b"a\nb\nc\n", b"a\nb\nc", b"only one line\n", b"x"])
def test_n_larger_than_the_file_gives_everything(data):
    assert tail(data, 4) == data
    assert tail(data, 1000) == data


def test_zero_lines_gives_nothing():
    assert tail(b"a\nb\n", 0) == b""


def test_empty_lines_count_as_lines():
    assert tail(b"a\n\n\nb\n", 2) == b"\nb\n"
    assert tail(b"\n\n\n", 2) == b"\n\n"
    assert tail(b"\n", 1) == b"\n"


def test_crlf_and_binary_bytes_are_kept():
    data = b"one\r\ntwo\x00\xff\r\nthree\r\n"
    assert tail(data, 2) == b"two\x00\xff\r\nthree\r\n"


def test_lines_across_the_read_block_boundary():
    # tail_offset reads backwards in 64 KiB blocks: lines longer than a block, and a
    # newline exactly at a block boundary
    long = b"x" * 70000
    data = b"first\n" + long + b"\n" + b"last\n"
    assert tail(data, 1) == b"last\n"
    assert tail(data, 2) == long + b"\nlast\n"
    assert tail(data, 3) == data
    edge = b"y" * (65536 - 1) + b"\n" + b"z\n"  # newline at offset 65535
    assert tail(edge, 1) == b"z\n"
    assert tail(edge, 2) == edge
    many = b"".join(b"%d\n" % i for i in range(50000))
    assert tail(many, 3) == b"49997\n49998\n49999\n"


def test_offset_is_a_byte_offset_into_the_file(tmp_path):
    p = tmp_path / "container.log"
    p.write_bytes(b"alpha\nbeta\ngamma\n")
    with open(p, "rb") as f:
        assert logs.tail_offset(f, 2) == len(b"alpha\n")
        assert logs.tail_offset(f, 5) == 0


# --- logs.show with --tail, on a container record in a private store ----------------------

@pytest.fixture
def container(cfg):
    cid = "c" * 64
    d = cfg.path("containers", cid)
    import os
    os.makedirs(d)
    rec = {"Id": cid, "Name": "/logged", "State": {"Status": "exited"}}
    import json
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(rec, f)
    return cid, os.path.join(d, "container.log")


def show(cfg, cid, **kw):
    out = io.BytesIO()
    logs.show(cfg, cid, out=out, **kw)
    return out.getvalue()


def test_show_tail(cfg, container):
    cid, path = container
    with open(path, "wb") as f:
        f.write(b"1\n2\n3\n4\n")
    assert show(cfg, cid) == b"1\n2\n3\n4\n"
    assert show(cfg, cid, tail="2") == b"3\n4\n"
    assert show(cfg, cid, tail="all") == b"1\n2\n3\n4\n"
    assert show(cfg, cid, tail="10") == b"1\n2\n3\n4\n"
    assert show(cfg, cid, tail="0") == b""


def test_show_without_a_log_file_is_empty(cfg, container):
    cid, _ = container
    assert show(cfg, cid) == b""
    assert show(cfg, cid, tail="3") == b""


def test_show_follow_of_an_exited_container_returns(cfg, container):
    cid, path = container
    with open(path, "wb") as f:
        f.write(b"done\n")
    assert show(cfg, cid, follow=True) == b"done\n"
    assert show(cfg, cid, follow=True, tail="1") == b"done\n"


def test_show_invalid_tail(cfg, container):
    cid, _ = container
    with pytest.raises(BockerError, match="tail"):
        show(cfg, cid, tail="abc")
    with pytest.raises(BockerError, match="tail"):
        show(cfg, cid, tail="-x")


def test_show_unknown_container(cfg):
    with pytest.raises(BockerError, match="No such container"):
        show(cfg, "nosuch")

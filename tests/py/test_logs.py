"""logs: the stamped line format, its writer (rotation), --tail/--since/--until, logs.show."""
import io
import os

import pytest

from bocker import fmt, BockerError, lifecycle, logs


def stamped(*lines, t="2026-11-25T10:00:00Z"):
    return b"".join(f"{t} ".encode() + line + b"\n" for line in lines)


def test_split_keeps_the_text_as_written():
    assert logs.split(b"2026-11-25T10:00:00Z a b  c\n") == ("2026-11-25T10:00:00Z", b"a b  c\n", "stdout")
    assert logs.split(b"2026-11-25T10:00:00Z \n") == ("2026-11-25T10:00:00Z", b"\n", "stdout")


def test_select_tail_since_until():
    lines = [("2026-11-25T10:00:00Z", b"a\n", "stdout"), ("2026-11-25T10:00:05Z", b"b\n", "stderr"),
             ("2026-11-25T10:00:10Z", b"c\n", "stdout")]
    assert logs.select(lines) == lines
    assert logs.select(lines, tail=2) == lines[1:]
    assert logs.select(lines, tail=0) == []
    assert logs.select(lines, tail=10) == lines
    t5 = logs.parse_time("2026-11-25T10:00:05Z")
    assert logs.select(lines, since=t5) == lines[1:]
    assert logs.select(lines, until=t5) == lines[:2]
    assert logs.select(lines, tail=1, until=t5) == [lines[1]]


def test_parse_time_forms():
    assert logs.parse_time("1700000000") == 1700000000
    assert logs.parse_time("10m", now=1000.0) == 400.0
    assert logs.parse_time("2h", now=10000.0) == 2800.0
    assert logs.parse_time("2026-11-25T10:00:00Z") == logs.parse_time("2026-11-25T10:00:00+00:00")
    for bad in ("yesterday", "10x", ""):
        with pytest.raises(BockerError, match="invalid time"):
            logs.parse_time(bad)


def test_writer_stamps_lines_and_writes_parts_of_lines_at_once(tmp_path):
    path = str(tmp_path / "container.log")
    with logs.Writer(path) as w:
        w.write(b"one\npart")
        w.write(b"ial\n")
        w.write(b"/ # ")
    texts = [logs.split(line)[1] for line in open(path, "rb")]
    assert texts == [b"one\n", b"part", b"ial\n", b"/ # "]
    assert b"".join(texts) == b"one\npartial\n/ # "
    assert all(logs.split(line)[0].endswith("Z") for line in open(path, "rb"))


def test_split_of_a_part_of_a_line():
    assert logs.split(b"2026-11-25T10:00:00.5Z+/ # \n") == ("2026-11-25T10:00:00.5Z", b"/ # ", "stdout")
    assert logs.split(b"2026-11-25T10:00:00.5Z?err> \n") == ("2026-11-25T10:00:00.5Z", b"err> ", "stderr")


def test_writer_keeps_each_stream_and_stamps_with_nanoseconds(tmp_path):
    import re
    path = str(tmp_path / "container.log")
    with logs.Writer(path) as w:
        w.write(b"out\n")
        w.write(b"err\npart", "stderr")
    records = [logs.split(line) for line in open(path, "rb")]
    assert [r[1:] for r in records] == [(b"out\n", "stdout"), (b"err\n", "stderr"), (b"part", "stderr")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", r[0]) for r in records)
    assert logs.stamp(1700000000123456789) == "2023-11-14T22:13:20.123456789Z"


def test_awk_writer_stamps_its_stream(tmp_path):
    import subprocess
    import time
    path = str(tmp_path / "container.log")
    subprocess.run(["busybox", "awk", "-v", f"out={path}", "-v", "max=0", "-v", "sep=!",
                    "-v", f"boot={logs.boot_time():.6f}", logs.awk_program()],
                   input=b"a\nb c\n", env={"TZ": "UTC0"}, check=True)
    records = [logs.split(line) for line in open(path, "rb")]
    assert [r[1:] for r in records] == [(b"a\n", "stderr"), (b"b c\n", "stderr")]
    assert abs(fmt.parse_iso(records[0][0]) - time.time()) < 2


def test_writer_rotates_past_max_size(tmp_path):
    path = str(tmp_path / "container.log")
    with logs.Writer(path, max_size=100) as w:
        for i in range(20):
            w.write(b"line %d\n" % i)
    assert os.path.getsize(path + ".1") > 100      # rotated once it passed the cap
    assert os.path.getsize(path) <= 100 + 40         # the current file: at most one line past it


def test_parse_size():
    assert fmt.parse_size("10m") == 10 * 1024 * 1024
    assert fmt.parse_size("512k") == 512 * 1024
    assert fmt.parse_size("100") == 100
    with pytest.raises(BockerError):
        fmt.parse_size("lots")


# --- logs.show, through lifecycle.show_logs, on a container record in a private store ----

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
    lifecycle.show_logs(cfg, cid, out=out, err=io.BytesIO(), **kw)
    return out.getvalue()


def test_show_sends_stderr_lines_to_err(cfg, container):
    cid, path = container
    with open(path, "wb") as f:
        f.write(b"2026-11-25T10:00:00.000000001Z one\n2026-11-25T10:00:00.000000002Z!two\n")
    out, err = io.BytesIO(), io.BytesIO()
    lifecycle.show_logs(cfg, cid, out=out, err=err, timestamps=True)
    assert out.getvalue() == b"2026-11-25T10:00:00.000000001Z one\n"
    assert err.getvalue() == b"2026-11-25T10:00:00.000000002Z two\n"


def test_show_tail(cfg, container):
    cid, path = container
    with open(path, "wb") as f:
        f.write(stamped(b"1", b"2", b"3", b"4"))
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
        f.write(stamped(b"done"))
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


def test_show_timestamps_and_the_rotated_file_first(cfg, container):
    cid, path = container
    with open(path + ".1", "wb") as f:
        f.write(stamped(b"old", t="2026-11-25T09:00:00Z"))
    with open(path, "wb") as f:
        f.write(stamped(b"new"))
    assert show(cfg, cid) == b"old\nnew\n"
    assert show(cfg, cid, timestamps=True) == stamped(b"old", t="2026-11-25T09:00:00Z") + stamped(b"new")
    assert show(cfg, cid, since="2026-11-25T09:30:00Z") == b"new\n"

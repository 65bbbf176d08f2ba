"""Container logs: containers/<id>/container.log holds the raw stdout+stderr bytes."""
import os
import sys
import time

from . import BockerError, containers


def tail_offset(f, lines):
    """Byte offset where the last `lines` lines of an open binary file start."""
    end = f.seek(0, os.SEEK_END)
    if lines <= 0:
        return end
    pos, found, block = end, 0, 65536
    # a final newline ends the last line, it does not start another one
    f.seek(max(end - 1, 0))
    skip_last = f.read(1) == b"\n"
    while pos > 0:
        start = max(pos - block, 0)
        f.seek(start)
        chunk = f.read(pos - start)
        for i in range(len(chunk) - 1, -1, -1):
            if chunk[i] == 10:
                if skip_last and start + i == end - 1:
                    continue
                found += 1
                if found == lines:
                    return start + i + 1
        pos = start
    return 0


def show(cfg, ref, tail="all", follow=False, out=None):
    out = out or sys.stdout.buffer
    cid = containers.resolve(cfg, ref)
    path = containers.cdir(cfg, cid, "container.log")
    if tail != "all":
        try:
            tail = int(tail)
        except ValueError:
            raise BockerError(f"invalid --tail value: {tail}")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        if not follow:
            return
        open(path, "ab").close()
        f = open(path, "rb")
    with f:
        if tail != "all":
            f.seek(tail_offset(f, tail))
        while True:
            chunk = f.read(65536)
            if chunk:
                out.write(chunk)
                out.flush()
                continue
            if not follow:
                return
            rec = containers.load(cfg, cid)
            if containers.state(cfg, rec)["Status"] not in ("running", "paused"):
                rest = f.read()
                out.write(rest)
                out.flush()
                return
            time.sleep(0.1)

"""Container logs: containers/<id>/container.log, one record per output line, "TIMESTAMP text"
(or "TIMESTAMP+text" for the part of a line written so far, like a shell's prompt).

Lines are stamped as they are written: by bocker itself for a foreground or -t container, by
`busybox awk` in the monitor pipeline of a detached one (no Python process per container).
A log is capped: past --log-opt max-size (default 10m) it is moved to container.log.1 and a new
one started, so a container holds at most twice that.
"""
import os
import sys
import time

from . import BockerError, fmt

DEFAULT_MAX_SIZE = 10 * 1024 * 1024


def awk_program():
    """The detached container's log writer (busybox awk: strftime, fflush, rotation)."""
    return ('{ line = strftime("%Y-%m-%dT%H:%M:%SZ") " " $0; print line >> out; fflush(out); '
            'n += length(line) + 1; '
            'if (max > 0 && n > max) { close(out); system("mv -f \\"" out "\\" \\"" out ".1\\""); n = 0 } }')


class Writer:
    """Stamps and writes a container's output to its log, line by line, with rotation."""

    def __init__(self, path, max_size=DEFAULT_MAX_SIZE):
        self.path, self.max = path, max_size
        self.f = open(path, "ab")
        self.size = self.f.tell()

    def write(self, data):
        """Whole lines as "TIMESTAMP text"; a line not ended yet (a shell's prompt) is written at
        once as "TIMESTAMP+text": the reader shows it without a newline."""
        *lines, rest = data.split(b"\n")
        for line in lines:
            self._record(line, b" ")
        if rest:
            self._record(rest, b"+")
        self.f.flush()

    def _record(self, text, sep):
        record = fmt.now_iso().encode() + sep + text + b"\n"
        self.f.write(record)
        self.size += len(record)
        if self.max and self.size > self.max:
            self.f.close()
            os.replace(self.path, self.path + ".1")
            self.f = open(self.path, "ab")
            self.size = 0

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def split(line):
    """b"TIMESTAMP text\\n" -> (timestamp, text with its newline); b"TIMESTAMP+text\\n", a part of
    a line, -> (timestamp, text without one)."""
    space, plus = line.find(b" "), line.find(b"+")
    i = space if plus < 0 or 0 <= space < plus else plus
    if i < 0:
        return "", line
    text = line[i + 1:]
    if line[i:i + 1] == b"+" and text.endswith(b"\n"):
        text = text[:-1]
    return line[:i].decode(errors="replace"), text


def parse_time(text, now=None):
    """--since/--until: RFC 3339 (2026-11-25T10:00:00Z), a Unix time, or a duration ago (10m, 2h)."""
    now = time.time() if now is None else now
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
            return now - float(text[:-1]) * units[text[-1]]
        if text.replace(".", "", 1).isdigit():
            return float(text)
        return fmt.parse_iso(text if "T" in text else text + "T00:00:00Z")
    except (ValueError, IndexError, TypeError):
        raise BockerError(f"invalid time: {text!r} (RFC 3339, a Unix time, or a duration like 10m)")


def select(lines, tail="all", since=None, until=None):
    """The lines to show, from (timestamp, text) pairs."""
    out = []
    for stamp, text in lines:
        t = fmt.parse_iso(stamp) if since is not None or until is not None else None
        if since is not None and (t is None or t < since):
            continue
        if until is not None and (t is None or t > until):
            continue
        out.append((stamp, text))
    if tail != "all":
        out = out[len(out) - tail:] if tail > 0 else []
    return out


def show(path, running, tail="all", follow=False, timestamps=False, since=None, until=None, out=None):
    """The log at `path` (and its rotated part); with `follow`, new lines while `running()` is true."""
    out = out or sys.stdout.buffer
    if tail != "all":
        try:
            tail = int(tail)
        except ValueError:
            raise BockerError(f"invalid --tail value: {tail}")
    since = parse_time(since) if since else None
    until = parse_time(until) if until else None

    def emit(stamp, text):
        out.write((stamp.encode() + b" " if timestamps else b"") + text)

    lines, offset = [], 0
    for p in (path + ".1", path):
        try:
            with open(p, "rb") as f:
                lines += [split(line) for line in f]
                offset = f.tell()
        except FileNotFoundError:
            pass
    for stamp, text in select(lines, tail, since, until):
        emit(stamp, text)
    out.flush()
    if follow:
        _follow(path, running, offset, emit, until, out)


def _follow(path, running, offset, emit, until, out):
    """-f: print lines as they are written, until the container has exited."""
    if not os.path.exists(path):
        open(path, "ab").close()
    f = open(path, "rb")
    f.seek(offset)
    pending = b""
    try:
        while True:
            chunk = f.readline()
            if chunk:
                pending += chunk
                if pending.endswith(b"\n"):
                    stamp, text = split(pending)
                    pending = b""
                    if until is None or (fmt.parse_iso(stamp) or 0) <= until:
                        emit(stamp, text)
                        out.flush()
                continue
            try:
                rotated = os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                rotated = False
            if rotated:  # the writer moved it to .1: go on with the new one
                f.close()
                f = open(path, "rb")
                continue
            if not running():
                return
            time.sleep(0.1)
    finally:
        f.close()

"""Container logs: containers/<id>/container.log, one record per output line, "TIMESTAMP" then
one character that tells the stream and whether the line is whole, then the text:

    2026-11-25T10:00:00.123456789Z hello      a line of stdout
    2026-11-25T10:00:00.123456789Z+/ #        the part of a stdout line written so far (a prompt)
    2026-11-25T10:00:00.123456789Z!oops       a line of stderr
    2026-11-25T10:00:00.123456789Z?err part   the part of a stderr line written so far

(logs written before stderr was kept apart have " " and "+" only: all of it reads as stdout).
Lines are stamped as they are written (RFC 3339 with nanoseconds, as Docker's): by bocker itself
for a foreground or -t container (a pty has one stream: stdout), by one `busybox awk` per stream
in the monitor of a detached one (no Python process per container).
A log is capped: past --log-opt max-size (default 10m) it is moved to container.log.1 and a new
one started, so a container holds at most twice that (each stream's writer counts its own lines).
"""
import os
import sys
import time

from . import BockerError, fmt

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
# stream -> (separator of a whole line, of a part of a line)
SEPARATORS = {"stdout": (b" ", b"+"), "stderr": (b"!", b"?")}
STREAM_OF = {sep: (stream, i == 1) for stream, seps in SEPARATORS.items() for i, sep in enumerate(seps)}


def stamp(ns=None):
    """Now (or `ns`, nanoseconds since the epoch) as RFC 3339 with nanoseconds."""
    ns = time.time_ns() if ns is None else ns
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10 ** 9)) + f".{ns % 10 ** 9:09d}Z"


def awk_program():
    """A detached container's log writer for one stream (busybox awk: strftime, fflush, rotation).
    busybox awk has no sub-second clock: the time is the boot time (-v boot, from bocker) plus
    /proc/uptime, to the hundredth of a second. The log is reopened for each line: the other
    stream's writer may have rotated it."""
    return ('function stamp(  u, a, cs, s) { getline u < "/proc/uptime"; close("/proc/uptime"); '
            'split(u, a, " "); cs = int((boot + a[1]) * 100 + 0.5); s = int(cs / 100); '
            'return strftime("%Y-%m-%dT%H:%M:%S", s) sprintf(".%02d0000000Z", cs - s * 100) } '
            '{ line = stamp() sep $0; print line >> out; close(out); '
            'n += length(line) + 1; '
            'if (max > 0 && n > max) { system("mv -f \\"" out "\\" \\"" out ".1\\""); n = 0 } }')


def boot_time():
    """The epoch time of the boot, for awk_program's clock."""
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


class Writer:
    """Stamps and writes a container's output to its log, line by line, with rotation."""

    def __init__(self, path, max_size=DEFAULT_MAX_SIZE):
        self.path, self.max = path, max_size
        self.f = open(path, "ab")
        self.size = self.f.tell()

    def write(self, data, stream="stdout"):
        """Whole lines as "TIMESTAMP text" (stdout); a line not ended yet (a shell's prompt) is
        written at once as "TIMESTAMP+text": the reader shows it without a newline."""
        whole, part = SEPARATORS[stream]
        *lines, rest = data.split(b"\n")
        for line in lines:
            self._record(line, whole)
        if rest:
            self._record(rest, part)
        self.f.flush()

    def _record(self, text, sep):
        record = stamp().encode() + sep + text + b"\n"
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
    """b"TIMESTAMP text\\n" -> (timestamp, text with its newline, stream); a part of a line
    (b"TIMESTAMP+text\\n") -> (timestamp, text without one, stream). A line with no stamp: stdout."""
    i = next((i for i, c in enumerate(line) if bytes((c,)) in STREAM_OF), -1)
    if i < 0:
        return "", line, "stdout"
    stream, part = STREAM_OF[line[i:i + 1]]
    text = line[i + 1:]
    if part and text.endswith(b"\n"):
        text = text[:-1]
    return line[:i].decode(errors="replace"), text, stream


def parse_time(text, now=None):
    """--since/--until: RFC 3339 (2026-11-25T10:00:00Z), a Unix time, or a duration ago (10m, 1h30m, 500ms)."""
    import re
    now = time.time() if now is None else now
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    try:
        if re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", text):  # Go's durations: 10m, 1h30m, 500ms
            return now - sum(float(n) * units[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", text))
        if text.replace(".", "", 1).isdigit():
            return float(text)
        return fmt.parse_iso(text if "T" in text else text + "T00:00:00Z")
    except (ValueError, IndexError, TypeError):
        raise BockerError(f"invalid time: {text!r} (RFC 3339, a Unix time, or a duration like 10m)")


def select(lines, tail="all", since=None, until=None):
    """The lines to show, from (timestamp, text, stream) tuples."""
    out = []
    for line in lines:
        t = fmt.parse_iso(line[0]) if since is not None or until is not None else None
        if since is not None and (t is None or t < since):
            continue
        if until is not None and (t is None or t > until):
            continue
        out.append(line)
    if tail != "all":
        out = out[len(out) - tail:] if tail > 0 else []
    return out


def show(path, running, tail="all", follow=False, timestamps=False, since=None, until=None, out=None, err=None):
    """The log at `path` (and its rotated part): stdout lines to `out`, stderr lines to `err`;
    with `follow`, new lines while `running()` is true."""
    out = out or sys.stdout.buffer
    err = err or sys.stderr.buffer
    if tail != "all":
        try:
            tail = int(tail)
        except ValueError:
            raise BockerError(f"invalid --tail value: {tail}")
    since = parse_time(since) if since else None
    until = parse_time(until) if until else None

    def emit(stamp, text, stream):
        to = err if stream == "stderr" else out
        to.write((stamp.encode() + b" " if timestamps else b"") + text)
        to.flush()

    lines, offset = [], 0
    for p in (path + ".1", path):
        try:
            with open(p, "rb") as f:
                lines += [split(line) for line in f]
                offset = f.tell()
        except FileNotFoundError:
            pass
    for line in select(lines, tail, since, until):
        emit(*line)
    if follow:
        _follow(path, running, offset, emit, until)


def _follow(path, running, offset, emit, until):
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
                    line = split(pending)
                    pending = b""
                    if until is None or (fmt.parse_iso(line[0]) or 0) <= until:
                        emit(*line)
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

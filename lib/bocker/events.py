"""The events log: $BOCKER_ROOT/events.log, one JSON object per line in Docker's shape, appended
by whichever bocker process made the change (O_APPEND and one write() per line: lines from
concurrent writers never interleave). `bocker events` reads it back (--since, --until,
--filter) and, without --until, follows it as it grows.

    {"status":"start","id":"ID","from":"busybox","Type":"container","Action":"start",
     "Actor":{"ID":"ID","Attributes":{"image":"busybox","name":"web"}},"scope":"local",
     "time":1796166000,"timeNano":1796166000123456789}

Past MAX_SIZE the log moves to events.log.1 (one older file is kept), so it never grows
without bound on a host that runs for months.
"""
import json
import os
import time

from . import fmt, shell

MAX_SIZE = 8 * 1024 * 1024
TYPES = ("container", "image", "network", "volume")
FILTER_KEYS = ("type", "event", "container", "image", "label", "network", "volume")


def path(cfg):
    return cfg.path("events.log")


def record(cfg, type_, action, actor_id, attributes=None, legacy_from=None):
    """Append one event (nothing in a dry run: the script, not bocker, makes the change)."""
    if shell.dry_run:
        return
    ns = time.time_ns()
    event = {}
    if type_ in ("container", "image"):  # Docker's older top-level fields, for these two types
        event.update(status=action, id=actor_id)
        if legacy_from:
            event["from"] = legacy_from
    event.update(Type=type_, Action=action, Actor={"ID": actor_id, "Attributes": dict(attributes or {})},
                 scope="local", time=ns // 10 ** 9, timeNano=ns)
    line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
    try:
        fd = os.open(path(cfg), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError:  # a store being torn down: an event is not worth failing the operation
        return
    try:
        os.write(fd, line)
        if os.fstat(fd).st_size > MAX_SIZE:
            _rotate(cfg, fd)
    finally:
        os.close(fd)


def _rotate(cfg, fd):
    """Move the full log aside, unless another writer did already (it is then a new file)."""
    try:
        if os.stat(path(cfg)).st_ino == os.fstat(fd).st_ino:
            os.replace(path(cfg), path(cfg) + ".1")
    except OSError:
        pass


def container(cfg, action, rec, **extra):
    """A container's event: its image and name, its labels, and `extra` (exitCode, signal, ...)."""
    conf = rec.get("Config") or {}
    attributes = dict(conf.get("Labels") or {})
    attributes.update(image=conf.get("Image") or rec.get("Image", ""), name=rec["Name"].lstrip("/"))
    attributes.update({k: str(v) for k, v in extra.items()})
    record(cfg, "container", action, rec["Id"], attributes, legacy_from=attributes["image"])


def image(cfg, action, image_id, *names):
    """One event per name (tag, untag), or one without a name (delete)."""
    actor = ("sha256:" + image_id) if len(image_id) == 64 else image_id
    for name in names or (None,):
        record(cfg, "image", action, actor, {"name": name} if name else {})


def network(cfg, action, net_id, name, container_id=None):
    attributes = {"name": name, "type": "bridge"}
    if container_id:
        attributes["container"] = container_id
    record(cfg, "network", action, net_id, attributes)


def endpoint(cfg, action, rec):
    """A container joins (connect) or leaves (disconnect) its network."""
    mode = rec["HostConfig"]["NetworkMode"]
    network(cfg, action, mode, mode, rec["Id"])


def volume(cfg, action, name, container_id=None):
    attributes = {"driver": "local"}
    if container_id:
        attributes["container"] = container_id
    record(cfg, "volume", action, name, attributes)


# --- reading --------------------------------------------------------------------------

def parse_filters(items):
    """--filter KEY=VALUE (repeatable) -> {key: [values]} (fmt.parse_filters: values of one key are
    alternatives, different keys must all match)."""
    return fmt.parse_filters(items, FILTER_KEYS)


def _image_matches(value, name):
    return bool(name) and (name == value or name == value + ":latest" or value == name + ":latest")


def _one(event, key, value):
    actor = event.get("Actor") or {}
    aid, attrs = actor.get("ID", ""), actor.get("Attributes") or {}
    kind = event.get("Type")
    if key == "type":
        return kind == value
    if key == "event":
        return event.get("Action") == value or (event.get("Action") or "").split(":")[0] == value
    if key == "label":
        k, eq, v = value.partition("=")
        return k in attrs and (not eq or attrs[k] == v)
    if key == "container":
        return kind == "container" and (attrs.get("name") == value or aid.startswith(value)) \
            or kind in ("network", "volume") and attrs.get("container", "x").startswith(value)
    if key == "image":
        if kind == "container":
            return _image_matches(value, attrs.get("image"))
        return kind == "image" and (_image_matches(value, attrs.get("name")) or
                                    aid.replace("sha256:", "").startswith(value.replace("sha256:", "")))
    if key in ("network", "volume"):
        return kind == key and (aid.startswith(value) or attrs.get("name") == value)
    return False


def matches(event, filters):
    return all(any(_one(event, key, v) for v in values) for key, values in filters.items())


def _in_window(event, since, until):
    t = event.get("timeNano", 0) / 1e9
    return (since is None or t >= since) and (until is None or t <= until)


def _parse(line):
    try:
        return json.loads(line)
    except ValueError:  # a line cut short by a crash: passed over
        return None


def read(cfg, since=None, until=None, filters=None):
    """The recorded events between `since` and `until` (epoch seconds) that match `filters`;
    returns (events, where reading stopped: the current file's inode and offset, for follow)."""
    out, offset = [], (None, 0)
    for p in (path(cfg) + ".1", path(cfg)):
        try:
            with open(p, "rb") as f:
                if p == path(cfg):
                    offset = (os.fstat(f.fileno()).st_ino, 0)
                for line in f:
                    if not line.endswith(b"\n"):  # being written: the follower takes it up
                        break
                    offset = (offset[0], f.tell()) if p == path(cfg) else offset
                    event = _parse(line)
                    if event and _in_window(event, since, until) and matches(event, filters or {}):
                        out.append(event)
        except FileNotFoundError:
            pass
    return out, offset


def last_exit(cfg, cid):
    """The exit code of a container's last run, from its die events (its record may be gone:
    --rm), or 0 if none is recorded."""
    dies, _ = read(cfg, filters={"container": [cid], "event": ["die"]})
    try:
        return int(dies[-1]["Actor"]["Attributes"]["exitCode"])
    except (IndexError, KeyError, ValueError):
        return 0


def follow(cfg, emit, position, until=None, filters=None, interval=0.1):
    """New events as they are appended from `position` on (read's), each passed to `emit`,
    until `until` (epoch seconds) has passed; forever without it (Ctrl-C ends it)."""
    f, pending = None, b""
    inode, offset = position

    def take(chunk):
        nonlocal pending
        pending += chunk
        if pending.endswith(b"\n"):
            event = _parse(pending)
            pending = b""
            if event and _in_window(event, None, until) and matches(event, filters or {}):
                emit(event)
    try:
        while until is None or time.time() <= until:
            if f is None:
                try:
                    f = open(path(cfg), "rb")
                except FileNotFoundError:
                    time.sleep(interval)
                    continue
                if inode is not None and os.fstat(f.fileno()).st_ino != inode:
                    _rest_of_rotated(cfg, inode, offset, take)  # it rotated since read()
                    offset = 0
                f.seek(offset)
                inode = None
            chunk = f.readline()
            if chunk:
                take(chunk)
                continue
            try:
                rotated = os.stat(path(cfg)).st_ino != os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                rotated = False
            if rotated:  # a writer moved it to .1: its last lines, then the new one from its start
                for chunk in f:
                    take(chunk)
                f.close()
                f, offset = None, 0
                continue
            time.sleep(interval)
    finally:
        if f is not None:
            f.close()


def _rest_of_rotated(cfg, inode, offset, take):
    try:
        with open(path(cfg) + ".1", "rb") as old:
            if os.fstat(old.fileno()).st_ino == inode:
                old.seek(offset)
                for chunk in old:
                    take(chunk)
    except FileNotFoundError:
        pass


def line(event):
    """Docker's default form: `TIME TYPE ACTION ID (key=value, ...)`, keys sorted."""
    ns = event.get("timeNano") or event.get("time", 0) * 10 ** 9
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10 ** 9)) + f".{ns % 10 ** 9:09d}Z"
    actor = event.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    text = f"{when} {event.get('Type')} {event.get('Action')} {actor.get('ID', '')}"
    if attrs:
        text += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return text

"""`diff`: what changed in a container's rootfs since its image, from btrfs's own change tracking.

The rootfs is a snapshot of the image subvolume, so btrfs knows what differs: a read-only
snapshot of the rootfs (O(1)), then `btrfs send --no-data -p IMAGE SNAPSHOT` walks only the
tree blocks the two do not share (O(changes), whatever the image's size) and
`btrfs receive --dump` prints its operations. Each path they name is then classified as
Docker's overlay driver would: A (only in the container), D (only in the image), C (changed;
every directory above a change, as overlay copies it up). Deleted trees show their top only;
added trees show every entry.
"""
import os
import re
import stat

from . import containercp, shell, store

# ops of `btrfs receive --dump` that change a path's content or attributes (not just its name)
CONTENT_OPS = {"write", "update_extent", "truncate", "clone", "set_xattr", "remove_xattr", "chmod", "chown",
               "fileattr"}
# written by bocker at start, bind mounts in Docker: never in Docker's diff
HIDDEN = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}
_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            " ": " ", "\\": "\\"}


def unescape(text):
    """A path as `btrfs receive --dump` prints it (\\n, '\\ ', \\ooo ...) -> the path."""
    def one(m):
        s = m[1]
        return chr(int(s, 8)) if s[0] in "01234567" else _ESCAPES.get(s, s)
    raw = re.sub(r"\\([0-7]{3}|.)", one, text)
    return os.fsdecode(raw.encode("latin-1")) if any(ord(c) > 127 for c in raw) else raw


def parse_dump(text, snap):
    """(paths named, paths whose content or attributes changed) from a dump of a send stream
    of snapshot `snap` (its base name): paths are /-rooted, in the snapshot's terms."""
    named, touched = set(), set()
    prefix = f"./{snap}"

    def path_of(p):
        p = unescape(p)
        p = p[len(prefix):] if p.startswith(prefix) else "/" + p  # (link's dest= is relative)
        return "/" + p.strip("/")
    for line in text.splitlines():
        fields = re.findall(r"(?:\\.|\S)+", line)  # words; an escaped space is part of one
        if len(fields) < 2 or fields[0] == "snapshot":
            continue
        op, path = fields[0], path_of(fields[1])
        named.add(path)
        if op in CONTENT_OPS:
            touched.add(path)
        for f in fields[2:]:
            if f.startswith("dest=") and op in ("rename", "link"):
                named.add(path_of(f[5:]))
    named.discard("/")
    return named, touched


def _dir(root_fd, path):
    """fd of directory `path` below root_fd, refused (OSError) if a symlink is on the way."""
    return containercp.openat2(root_fd, path.lstrip("/") or ".", containercp.O_PATH | os.O_DIRECTORY,
                               containercp.RESOLVE_BENEATH | containercp.RESOLVE_NO_SYMLINKS)


def lstat_in(root_fd, path):
    """lstat of /-rooted `path` in root_fd, no symlink followed anywhere on it (None: absent)."""
    parent, name = containercp.split_path(path)
    try:
        fd = _dir(root_fd, parent)
    except OSError:  # missing, or a symlink on the way: not this path
        return None
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    finally:
        os.close(fd)


def _differs(a, b, root_a, root_b, path):
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or a.st_mode != b.st_mode:
        return True
    if (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid):
        return True
    if stat.S_ISDIR(a.st_mode):
        return False  # its entries changed: the rule for parents says it
    if a.st_size != b.st_size or a.st_mtime_ns != b.st_mtime_ns or a.st_rdev != b.st_rdev:
        return True
    if stat.S_ISLNK(a.st_mode):
        parent, name = containercp.split_path(path)
        return _readlink(root_a, parent, name) != _readlink(root_b, parent, name)
    return False


def _readlink(root, parent, name):
    fd = _dir(root, parent)
    try:
        return os.readlink(name, dir_fd=fd)
    finally:
        os.close(fd)


def classify(image_fd, snap_fd, named, touched):
    """{path: 'A'|'C'|'D'} of the named paths, as Docker shows them."""
    out = {}
    for path in named:
        if path in HIDDEN:
            continue
        old, new = lstat_in(image_fd, path), lstat_in(snap_fd, path)
        if old is None and new is not None:
            out[path] = "A"
        elif old is not None and new is None:
            out[path] = "D"
        elif old is not None and (path in touched or _differs(old, new, image_fd, snap_fd, path)):
            out[path] = "C"
    for path, kind in list(out.items()):
        if kind == "A" and stat.S_ISDIR(lstat_in(snap_fd, path).st_mode):
            out.update((p, "A") for p in _tree(snap_fd, path))  # a new (or renamed) tree: all of it
    for path in list(out):
        parent = path.rpartition("/")[0]
        while parent and parent not in out:
            out[parent] = "C"
            parent = parent.rpartition("/")[0]
    return {p: k for p, k in out.items() if not (k == "D" and _under_deleted(p, out))}


def _under_deleted(path, out):
    parent = path.rpartition("/")[0]
    while parent:
        if out.get(parent) == "D":
            return True
        parent = parent.rpartition("/")[0]
    return False


def _tree(root_fd, path):
    """Every path below directory `path` (walked through fds, never following a symlink)."""
    fd = _dir(root_fd, path)
    try:
        for dirpath, dirnames, filenames, _ in os.fwalk(".", dir_fd=fd):
            base = path + dirpath[1:]
            for n in dirnames + filenames:
                yield f"{base}/{n}"
    finally:
        os.close(fd)


def order(changes):
    """Docker's order: a walk of the tree, each directory's entries by name (so /a/b before /a-c)."""
    return sorted(changes.items(), key=lambda item: item[0].split("/"))


def diff(image_dir, rootfs, scratch):
    """[(path, kind)] of a container's changes; `scratch`: a path for the temporary snapshot."""
    snap, stream = scratch, scratch + ".send"
    with shell.step("diff", "diff: a read-only snapshot of the rootfs, then the btrfs send stream "
                            "between it and the image (metadata only): just what changed"):
        store.snapshot(rootfs, snap, readonly=True)
        try:
            shell.run(["btrfs", "send", "-q", "--no-data", "-p", image_dir, "-f", stream, snap])
            dump = shell.run(["btrfs", "receive", "--dump", "-f", stream], capture=True)
            if shell.dry_run:
                return []
            named, touched = parse_dump(dump, os.path.basename(snap))
            image_fd = os.open(image_dir, containercp.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            snap_fd = os.open(snap, containercp.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                return order(classify(image_fd, snap_fd, named, touched))
            finally:
                os.close(image_fd)
                os.close(snap_fd)
        finally:
            shell.do(f"rm -f {shell.quote(stream)}", store.unlink, stream)
            store.delete_subvolume(snap)

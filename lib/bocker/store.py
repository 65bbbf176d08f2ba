"""The btrfs store: subvolumes (create / snapshot / delete / read-only), records and locks.

Subvolume operations are btrfsutil ioctls; the trace shows the `btrfs` command that does the same.
"""
import fcntl
import json
import os

from . import BockerError, shell

SUBDIRS = ("images", "layers", "containers", "volumes", "networks", "names")


def fs_type(path):
    """The filesystem type of the mount that holds `path` (longest mount point prefix)."""
    path = os.path.realpath(path)
    best, fstype = "", None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mnt = fields[4].replace("\\040", " ")
            sep = fields.index("-")
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, fstype = mnt, fields[sep + 1]
    return fstype


def check(cfg):
    """Refuse to work on a store that is not on btrfs, naming the fix."""
    if not os.path.isdir(cfg.root) or fs_type(cfg.root) != "btrfs":
        raise BockerError(f"{cfg.root} is not a btrfs store: run `bocker setup` "
                          f"(or scripts/setup-host.sh) to create one")
    if not os.path.isdir(cfg.path("containers")):
        raise BockerError(f"{cfg.root} is not initialised: run `bocker setup`")


def _btrfsutil():
    import btrfsutil
    return btrfsutil


def create_subvolume(path):
    shell.do(f"btrfs -q subvolume create {shell.quote(path)}", lambda: _btrfsutil().create_subvolume(path))


def snapshot(src, dst, readonly=False):
    """O(1) copy-on-write copy of a subvolume, whatever its size."""
    flag = "-r " if readonly else ""
    shell.do(f"btrfs -q subvolume snapshot {flag}{shell.quote(src)} {shell.quote(dst)}",
             lambda: _btrfsutil().create_snapshot(src, dst, read_only=readonly))


def set_readonly(path, readonly=True):
    shell.do(f"btrfs property set -ts {shell.quote(path)} ro {str(readonly).lower()}",
             lambda: _btrfsutil().set_subvolume_read_only(path, readonly))


def delete_subvolume(path):
    """Delete a subvolume (clearing read-only first, and nested subvolumes with it)."""
    def delete():
        bu = _btrfsutil()
        if not os.path.exists(path):
            return
        if bu.get_subvolume_read_only(path):
            bu.set_subvolume_read_only(path, False)
        bu.delete_subvolume(path, recursive=True)
    shell.do(f"btrfs -q subvolume delete {shell.quote(path)}", delete)


def is_subvolume(path):
    try:
        return _btrfsutil().is_subvolume(path)
    except Exception:
        return False


def by_prefix(ids, prefix, what):
    """The one id that starts with `prefix` (ids are accepted by unique prefix, as docker does);
    None when none does."""
    matches = [i for i in ids if i.startswith(prefix)]
    if len(matches) > 1:
        raise BockerError(f"multiple {what}s match the id prefix '{prefix}': use more of the id")
    return matches[0] if matches else None


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        if default is not None:
            return default
        raise


def unlink(path):
    """Remove a file; one that is not there is no error."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_json(path, data, show=False):
    shell.write_file(path, json.dumps(data, indent=2) + "\n", show=show)


class lock:
    """An exclusive flock on a file in the store: serialises changes to one record."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        if shell.dry_run:
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if not shell.dry_run:
            os.close(self.fd)
        return False


def setup(cfg):
    """Make BOCKER_ROOT a btrfs store: a loop file formatted btrfs when it is not on btrfs."""
    if not os.path.isdir(cfg.root):
        shell.do(f"mkdir -p {shell.quote(cfg.root)}", os.makedirs, cfg.root, exist_ok=True)
    if fs_type(cfg.root) != "btrfs":
        if not os.path.exists(cfg.loop_file):
            shell.run(["truncate", "-s", cfg.store_size, cfg.loop_file])
            shell.run(["mkfs.btrfs", "-q", cfg.loop_file])
        # nodev: a device node made inside a container (or planted in an image) opens nothing
        # here; nosuid: nor does a setuid file gain anything on the host side
        shell.run(["mount", "-o", "loop,nodev,nosuid", cfg.loop_file, cfg.root])
    for d in SUBDIRS:
        path = os.path.join(cfg.root, d)
        if not os.path.isdir(path):
            shell.do(f"mkdir -p {shell.quote(path)}", os.makedirs, path, exist_ok=True)


def unmount(cfg):
    """`teardown --store`: unmount a loop-file store made by setup (the file is kept)."""
    if fs_type(cfg.root) == "btrfs" and os.path.ismount(cfg.root) and os.path.exists(cfg.loop_file):
        shell.run(["umount", cfg.root])

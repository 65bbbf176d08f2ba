"""The build cache: why a step was (not) reused. A step's key is the key of the step before it
(the chain starts at the base image's id) + its instruction after substitution (+ a content hash
of its COPY/ADD sources), so a changed step invalidates exactly itself and what follows. The map
key -> image id is one small file per key under build-cache/ (no lock: writes are atomic)."""
import hashlib
import json
import os

from .. import images, store


def key(parent_key, text, content=""):
    """The step's key: the chain so far, the instruction as it runs, its sources' hash."""
    return hashlib.sha256(json.dumps([parent_key, text, content]).encode()).hexdigest()


def _path(cfg, k):
    return cfg.path("build-cache", k)


def lookup(cfg, k):
    """The image an earlier build made for this key, if it still exists (rmi forgets it)."""
    entry = store.read_json(_path(cfg, k), default={})
    if entry and os.path.exists(images.rootfs(cfg, entry["image"]) + ".json"):
        return entry["image"]
    return None


def remember(cfg, k, image_id):
    os.makedirs(cfg.path("build-cache"), exist_ok=True)
    store.write_json(_path(cfg, k), {"image": image_id})


def tree_hash(paths):
    """A hash of (relative name, mode, owner, content or link target) of every file given as
    (relative name, absolute path): what a COPY's result depends on, mtimes excepted."""
    h = hashlib.sha256()
    for rel, path in paths:
        st = os.lstat(path)
        h.update(f"{rel}\0{st.st_mode:o}\0{st.st_uid}:{st.st_gid}\0".encode())
        if os.path.islink(path):
            h.update(os.readlink(path).encode())
        elif os.path.isfile(path):
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        h.update(b"\0")
    return h.hexdigest()

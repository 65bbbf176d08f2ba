"""Images: read-only subvolumes under images/<id>/, an OCI config each, and name:tag -> id.

images/<id>.json       the OCI image config (its sha256 is the image id)
images/<id>.meta.json  bocker's own facts: parent image, size, repo digests
repositories.json      {"name:tag": id}
"""
import json
import os

from . import BockerError, NotFound, events, fmt, shell, store

DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def normalize(ref):
    """'busybox' -> 'busybox:latest'; docker.io prefixes dropped as docker shows them."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    if "@" in ref:
        return ref
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        return ref + ":latest"
    return ref


def valid_ref(ref):
    """Docker's grammar, and its limit: the repository name (without the tag) at most 255."""
    import re
    from .registry import REF_RE  # (the registry client itself loads only when one is made)
    return re.fullmatch(REF_RE, ref) is not None and len(ref.rpartition(":")[0] or ref) <= 255


def repositories(cfg):
    return store.read_json(cfg.path("repositories.json"), default={})


def _save_repositories(cfg, repos):
    store.write_json(cfg.path("repositories.json"), repos)


def all_ids(cfg):
    return [n[:-5] for n in os.listdir(cfg.path("images"))
            if n.endswith(".json") and not n.endswith(".meta.json")]


def resolve(cfg, ref):
    """An image reference (name[:tag], id, or unique id prefix) -> full image id."""
    repos = repositories(cfg)
    name = normalize(ref)
    if name in repos:
        return repos[name]
    hexpart = ref[7:] if ref.startswith("sha256:") else ref
    if hexpart and all(c in "0123456789abcdef" for c in hexpart):
        image_id = store.by_prefix(all_ids(cfg), hexpart, "image")
        if image_id:
            return image_id
    raise NotFound(f"No such image: {name}")


def config(cfg, image_id):
    return store.read_json(cfg.path("images", image_id + ".json"))


def meta(cfg, image_id):
    return store.read_json(cfg.path("images", image_id + ".meta.json"), default={"_": 0})


def rootfs(cfg, image_id):
    return cfg.path("images", image_id)


def tags_of(cfg, image_id, repos=None):
    repos = repositories(cfg) if repos is None else repos
    return sorted(t for t, i in repos.items() if i == image_id)


def new_config(container_config=None, parent=None, created_by="", comment=""):
    """An OCI image config: from a parent's, with runtime config and one more history entry."""
    base = json.loads(json.dumps(parent)) if parent else {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": list(DEFAULT_ENV), "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
    base["created"] = fmt.now_iso()
    if container_config:
        base["config"] = container_config
    entry = {"created": base["created"], "created_by": created_by}
    if comment:
        entry["comment"] = comment
    base.setdefault("history", []).append(entry)
    return base


def dir_size(path):
    total = 0
    for root, dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def register(cfg, source, image_config, tag=None, parent=None, move=False, size=None):
    """Make `source` (a subvolume) an image with this config (a dict). Returns the image id."""
    raw = json.dumps(image_config, separators=(",", ":"), sort_keys=True) + "\n"
    return register_raw(cfg, source, raw.encode(), tag=tag, parent=parent, move=move, size=size)


def register_raw(cfg, source, config_bytes, tag=None, parent=None, move=False, size=None, repo_digest=None):
    """Make `source` (a subvolume) an image: a read-only snapshot (or the subvolume itself when
    `move`), its config stored byte for byte (its sha256 is the id), its tag. An image that
    exists already only gains the tag and digest. Rolls back on failure."""
    import hashlib
    image_id = hashlib.sha256(config_bytes).hexdigest()
    dest = rootfs(cfg, image_id)
    if os.path.exists(dest + ".json"):
        if move:
            store.delete_subvolume(source)
        if repo_digest:
            add_repo_digest(cfg, image_id, repo_digest)
    else:
        try:
            if move:
                shell.do(f"mv {shell.quote(source)} {shell.quote(dest)}", os.rename, source, dest)
                store.set_readonly(dest)
            else:
                store.snapshot(source, dest, readonly=True)
            store.write_json(dest + ".meta.json", {"parent": parent, "size": size,
                                                   "repo_digests": [repo_digest] if repo_digest else []})
            shell.write_file(dest + ".json", config_bytes, show=False)
        except BaseException:
            for p in (dest + ".json", dest + ".meta.json"):
                store.unlink(p)
            if os.path.exists(dest):
                store.delete_subvolume(dest)
            raise
    if tag:
        add_tag(cfg, image_id, tag)
    return image_id


def add_repo_digest(cfg, image_id, repo_digest):
    """Remember NAME@sha256:... (one per repository) for `images --digests` and `inspect`."""
    path = rootfs(cfg, image_id) + ".meta.json"
    m = store.read_json(path, default={"parent": None})
    digests = m.setdefault("repo_digests", [])
    name = repo_digest.split("@")[0]
    digests[:] = [d for d in digests if d.split("@")[0] != name] + [repo_digest]
    store.write_json(path, m)


def add_tag(cfg, image_id, tag):
    tag = normalize(tag)
    if not valid_ref(tag):
        raise BockerError(f"invalid reference format: '{tag}'")
    with store.lock(cfg.path("repositories.lock")):
        repos = repositories(cfg)
        repos[tag] = image_id
        _save_repositories(cfg, repos)
    events.image(cfg, "tag", image_id, tag)


def init(cfg, directory, tag):
    """A directory becomes a read-only image subvolume (copied with reflinks where possible)."""
    if not os.path.isdir(directory):
        raise BockerError(f"{directory}: not a directory")
    tag = normalize(tag)
    if not valid_ref(tag):
        raise BockerError(f"invalid reference format: '{tag}'")
    work = cfg.path("images", f".init-{os.getpid()}")
    store.create_subvolume(work)
    try:
        shell.run(["cp", "-a", "--reflink=auto", os.path.join(directory, "."), work])
        image_config = new_config(created_by=f"bocker init {os.path.abspath(directory)}")
        return register(cfg, work, image_config, tag=tag, move=True,
                        size=None if shell.dry_run else dir_size(work))
    except BaseException:
        store.delete_subvolume(work)
        raise


def size(cfg, image_id):
    """Image size, computed once and cached: commit stays O(1), `images` pays once."""
    m = meta(cfg, image_id)
    if m.get("size") is None:
        m["size"] = dir_size(rootfs(cfg, image_id))
        try:
            store.write_json(cfg.path("images", image_id + ".meta.json"), m)
        except OSError:
            pass
    return m["size"]


def intermediate(cfg, repos=None):
    """Untagged images that are another image's parent (a build's steps, its cache): as Docker,
    `images` does not list them and `image prune` keeps them (they are not dangling)."""
    repos = repositories(cfg) if repos is None else repos
    ids = all_ids(cfg)
    parents = {meta(cfg, i).get("parent") for i in ids}
    return {i for i in ids if i in parents and not tags_of(cfg, i, repos)}


def listing(cfg, all_=False):
    """One dict per (image, tag), newest first, with docker's `images` fields (intermediate
    images too with all_)."""
    repos = repositories(cfg)
    rows = []
    hidden = set() if all_ else intermediate(cfg, repos)
    for image_id in all_ids(cfg):
        if image_id in hidden:
            continue
        c = config(cfg, image_id)
        digests = {d.split("@")[0]: d.split("@")[1] for d in meta(cfg, image_id).get("repo_digests") or []}
        tags = tags_of(cfg, image_id, repos) or ["<none>:<none>"]
        for t in tags:
            repo, _, tag = t.rpartition(":")
            rows.append({"Repository": repo, "Tag": tag, "ID": image_id[:12], "Id": image_id,
                         "Digest": digests.get(repo, "<none>"),
                         "Created": c.get("created", ""), "CreatedSince": fmt.ago(c.get("created")),
                         "Size": size(cfg, image_id)})
    rows.sort(key=lambda r: r["Created"], reverse=True)
    return rows


def remove(cfg, ref, records, force=False):
    """rmi: untag; delete the image when no tag is left (refused while containers of `records`,
    read by the orchestrator, use it)."""
    image_id = resolve(cfg, ref)
    name = normalize(ref)
    with store.lock(cfg.path("repositories.lock")):
        repos = repositories(cfg)
        tags = tags_of(cfg, image_id, repos)
        by_tag = name in repos
        if by_tag and len(tags) > 1:  # (-f too, as Docker: the other tags keep the image)
            del repos[name]
            _save_repositories(cfg, repos)
            events.image(cfg, "untag", image_id, name)
            return [f"Untagged: {name}"]
        used = [rec["Id"] for rec in records if rec.get("Image") == image_id]
        if used and not force:
            raise BockerError(f"conflict: unable to remove image {image_id[:12]}: "
                              f"container {used[0][:12]} is using it (use -f)")
        if len(tags) > 1 and not by_tag and not force:
            raise BockerError(f"conflict: unable to delete {image_id[:12]}: "
                              f"image is referenced in multiple repositories (use -f)")
        for t in tags:
            del repos[t]
        _save_repositories(cfg, repos)
    store.delete_subvolume(rootfs(cfg, image_id))
    for suffix in (".json", ".meta.json"):
        shell.do(f"rm -f {shell.quote(rootfs(cfg, image_id) + suffix)}", store.unlink, rootfs(cfg, image_id) + suffix)
    events.image(cfg, "untag", image_id, *tags)
    events.image(cfg, "delete", image_id)
    return [f"Untagged: {t}" for t in tags] + [f"Deleted: sha256:{image_id}"]


def inspect(cfg, image_id):
    c = config(cfg, image_id)
    m = meta(cfg, image_id)
    return {"Id": "sha256:" + image_id, "RepoTags": tags_of(cfg, image_id),
            "RepoDigests": m.get("repo_digests", []), "Parent": m.get("parent") or "",
            "Created": c.get("created"), "Architecture": c.get("architecture"), "Os": c.get("os"),
            "Config": c.get("config", {}), "RootFS": c.get("rootfs", {}), "History": c.get("history", []),
            "Size": size(cfg, image_id)}


def prune(cfg, records, all_=False):
    """Remove images no container (of `records`) uses: untagged ones (dangling), or all with all_."""
    repos = repositories(cfg)
    used = {rec.get("Image") for rec in records} | (set() if all_ else intermediate(cfg, repos))
    out = []
    for image_id in all_ids(cfg):
        if image_id in used or (tags_of(cfg, image_id, repos) and not all_):
            continue
        out += remove(cfg, image_id, records, force=True)
    return out

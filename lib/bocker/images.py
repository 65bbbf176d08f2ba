"""Images: read-only subvolumes under images/<id>/, an OCI config each, and name:tag -> id.

images/<id>.json       the OCI image config (its sha256 is the image id)
images/<id>.meta.json  bocker's own facts: parent image, size, repo digests
repositories.json      {"name:tag": id}
"""
import json
import os

from . import BockerError, NotFound, events, fmt, shell, store

DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def familiar(ref):
    """docker.io prefixes dropped as docker shows names: 'docker.io/library/busybox' -> 'busybox'."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    return ref


def normalize(ref):
    """'busybox' -> 'busybox:latest'; docker.io prefixes dropped as docker shows them."""
    ref = familiar(ref)
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
    if "@" in name:  # NAME@sha256:...: the image pulled by that digest
        for image_id in all_ids(cfg):
            if name in (meta(cfg, image_id).get("repo_digests") or []):
                return image_id
    hexpart = ref[7:] if ref.startswith("sha256:") else ref
    if hexpart and all(c in "0123456789abcdef" for c in hexpart):
        image_id = store.by_prefix(all_ids(cfg), hexpart, "image")
        if image_id:
            return image_id
    raise NotFound(f"No such image: {name}")


def check_platform(wanted, image_config, ref):
    """--platform of an image (in the store, or a single-platform manifest's config): accepted
    if it is what the image is, else refused as Docker does."""
    from .registry import RegistryError, parse_platform
    try:
        want = parse_platform(wanted)
    except RegistryError as e:
        raise BockerError(str(e))
    have = f"{image_config.get('os') or 'linux'}/{image_config.get('architecture') or 'amd64'}"
    if f"{want['os']}/{want['architecture']}" != have:
        raise BockerError(f"image with reference {ref} was found but does not match the specified "
                          f"platform: wanted {wanted}, actual: {have}")


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


def base_history(created, directory):
    """An image from a directory (`bocker init`), told as Docker tells a base image: its files,
    then its CMD."""
    return [{"created": created, "created_by": f"/bin/sh -c #(nop) ADD dir:{directory} in / "},
            {"created": created, "created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True}]


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
    images too with all_). A repository known only by a digest (pulled NAME@sha256:...) is a
    row of its own, `NAME <none>`, as Docker lists it."""
    repos = repositories(cfg)
    rows = []
    hidden = set() if all_ else intermediate(cfg, repos)
    for image_id in all_ids(cfg):
        if image_id in hidden:
            continue
        c = config(cfg, image_id)
        digests = {d.split("@")[0]: d.split("@")[1] for d in meta(cfg, image_id).get("repo_digests") or []}
        tags = tags_of(cfg, image_id, repos)
        tagged = {t.rpartition(":")[0] for t in tags}
        tags += [f"{repo}:<none>" for repo in sorted(digests) if repo not in tagged]
        for t in tags or ["<none>:<none>"]:
            repo, _, tag = t.rpartition(":")
            rows.append({"Repository": repo, "Tag": tag, "ID": image_id[:12], "Id": image_id,
                         "Digest": digests.get(repo, "<none>"),
                         "Created": c.get("created", ""), "CreatedSince": fmt.ago(c.get("created")),
                         "Size": size(cfg, image_id), "Labels": (c.get("config") or {}).get("Labels") or {}})
    rows.sort(key=lambda r: r["Created"], reverse=True)
    return rows


IMAGE_FILTERS = ("dangling", "reference", "label", "before", "since")


def reference_match(pattern, repo, tag):
    """Docker's reference filter (and `images REPO[:TAG]`): a glob on NAME:TAG, or on NAME alone;
    `*` does not cross a `/` (Go's path.Match)."""
    import fnmatch

    def match(text):
        p, t = pattern.split("/"), text.split("/")
        return len(p) == len(t) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(t, p))
    return match(f"{repo}:{tag}") or match(repo)


def row_matches(row, filters, created_of):
    """images --filter ({key: [values]}): values of a key OR, keys AND (labels: all must match).
    created_of(ref): the creation time of another image (before=, since=)."""
    dangling = row["Repository"] == "<none>" and row["Tag"] == "<none>"
    tests = {"dangling": lambda v: dangling == (v.lower() in ("true", "1")),
             "reference": lambda v: reference_match(v, row["Repository"], row["Tag"]),
             "label": lambda v: fmt.label_match(row.get("Labels"), v),
             "before": lambda v: row["Created"] < created_of(v),
             "since": lambda v: row["Created"] > created_of(v)}
    return all((all if k == "label" else any)(tests[k](v) for v in values) for k, values in filters.items())


def filtered(cfg, rows, filters):
    fmt.check_bool_filter(filters, "dangling")
    return [r for r in rows if row_matches(r, filters, lambda ref: config(cfg, resolve(cfg, ref)).get("created", ""))]


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


def prune(cfg, records, all_=False, match=None):
    """Remove images no container (of `records`) uses: untagged ones (dangling), or all with all_;
    only those `match(created, labels)` accepts (prune --filter)."""
    repos = repositories(cfg)
    used = {rec.get("Image") for rec in records} | (set() if all_ else intermediate(cfg, repos))
    out = []
    for image_id in all_ids(cfg):
        if image_id in used or (tags_of(cfg, image_id, repos) and not all_):
            continue
        c = config(cfg, image_id)
        if match and not match(c.get("created"), (c.get("config") or {}).get("Labels")):
            continue
        out += remove(cfg, image_id, records, force=True)
    return out

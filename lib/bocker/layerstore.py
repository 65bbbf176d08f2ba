"""The layer store: layers/<chain-id>/, read-only subvolumes, each a snapshot of the layer below
plus that layer's tar, applied safely (layers.py). An image's rootfs is a snapshot of its top
layer, so images that share a base share its blocks.

layers/<chain>.json          {chain_id, diff_id, parent, size, blobs: [{digest, size, mediaType}],
                              sources: ["registry/repo", ...]}  (blobs: compressed forms known)
layers/<chain>.tarsplit.gz   the tar's headers as applied: the exact tar is rebuilt from it and the
                              snapshot, so a pulled image pushes/saves with the same diff_ids (id)
layers/.tmp/                 downloads in progress (<digest>.part: resumed by the next pull)

An image made here (init, commit, a build step) gets its layer when it is made (`register`): the
tar of what changed from its parent, found by btrfs's own change tracking (`btrfs send --no-data
-p PARENT CHILD`: a walk of the changed metadata only), so its diff_ids and id are final at once and
push, save, load and pull keep them. Images of older stores, made before, get their layer when first
pushed or saved (`layered`): they become a new image id then, their tags move to it.
"""
import json
import os

from . import BockerError, imageconfig, images, layers, shell, store
from .registry import (DOCKER_LAYER_GZIP, OCI_LAYER, OCI_LAYER_ZSTD, RegistryError, digest_hex, sha256_file,
                       sha256_of)


def chain_ids(diff_ids):
    out = []
    for d in diff_ids:
        out.append(d if not out else sha256_of(f"{out[-1]} {d}".encode()))
    return out


def layer_dir(cfg, chain):
    return cfg.path("layers", digest_hex(chain))


def layer_meta(cfg, chain):
    try:
        return store.read_json(layer_dir(cfg, chain) + ".json")
    except (FileNotFoundError, ValueError):
        return None


def save_meta(cfg, chain, meta):
    store.write_json(layer_dir(cfg, chain) + ".json", meta)


def tmpdir(cfg):
    path = cfg.path("layers", ".tmp")
    os.makedirs(path, exist_ok=True)
    return path


def apply_layer(cfg, parent_chain, chain, diff_id, opener, blob=None, source=None, progress=None):
    """Make layers/<chain>: a snapshot of the parent layer with the layer applied, read-only.
    `opener()` gives the (compressed) layer stream; its diff_id must match, else nothing is kept."""
    final = layer_dir(cfg, chain)
    work = cfg.path("layers", f".work-{digest_hex(chain)[:16]}-{os.getpid()}")
    split = final + ".tarsplit.gz"
    if shell.dry_run:
        if parent_chain:
            store.snapshot(layer_dir(cfg, parent_chain), work)
        else:
            store.create_subvolume(work)
        shell.do(f"tar -xpf LAYER -C {shell.quote(work)}  # safe apply: whiteouts, no escapes")
        store.set_readonly(work)
        shell.do(f"mv {shell.quote(work)} {shell.quote(final)}")
        return
    if os.path.exists(work):
        store.delete_subvolume(work)
    if parent_chain:
        store.snapshot(layer_dir(cfg, parent_chain), work)
    else:
        store.create_subvolume(work)
    try:
        with opener() as stream:
            hashed = layers.HashReader(stream)
            got, size = shell.do(f"tar -xpf - -C {shell.quote(work)}  # safe apply: whiteouts, no escapes",
                                 layers.apply, hashed, work, split_path=split, progress=progress) or (diff_id, 0)
            hashed.drain()
        if shell.dry_run:
            return
        if blob and blob.get("digest") and hashed.digest() != blob["digest"]:
            raise RegistryError(f"digest mismatch for layer {blob['digest']}: content is {hashed.digest()}; "
                                f"refused")
        if got != diff_id:
            raise RegistryError(f"layer {digest_hex(diff_id)[:12]}: uncompressed content is {got}, the image "
                                f"config says {diff_id}; refused")
        store.set_readonly(work)
        shell.do(f"mv {shell.quote(work)} {shell.quote(final)}", os.rename, work, final)
    except BaseException:
        store.delete_subvolume(work)
        if os.path.exists(split):
            os.unlink(split)
        raise
    meta = {"chain_id": chain, "diff_id": diff_id, "parent": parent_chain, "size": size,
            "blobs": [blob] if blob else [], "sources": [source] if source else []}
    save_meta(cfg, chain, meta)


def note_blob(cfg, chain, blob=None, source=None):
    meta = layer_meta(cfg, chain)
    if meta is None:
        return
    changed = False
    if blob and blob["digest"] not in [b["digest"] for b in meta.get("blobs", [])]:
        meta.setdefault("blobs", []).append(blob)
        changed = True
    if source and source not in meta.get("sources", []):
        meta.setdefault("sources", []).append(source)
        changed = True
    if changed:
        save_meta(cfg, chain, meta)


def empty_rootfs(cfg):
    """An empty read-only subvolume for images with no layers."""
    path = cfg.path("layers", "empty")
    if not os.path.exists(path):
        store.create_subvolume(path)
        store.set_readonly(path)
    return path


def remove_layer(cfg, chain):
    store.delete_subvolume(layer_dir(cfg, chain))
    for suffix in (".json", ".tarsplit.gz"):
        store.unlink(layer_dir(cfg, chain) + suffix)


def prune(cfg):
    """Delete layers/<chain> that no image needs (not in, nor below, any image's chain).
    Returns the chain ids removed. For `image prune` / `rmi`."""
    keep = set()
    for iid in images.all_ids(cfg):
        try:
            conf = images.config(cfg, iid)
        except (OSError, ValueError):
            continue
        keep.update(digest_hex(c) for c in chain_ids((conf.get("rootfs") or {}).get("diff_ids") or []))
    removed = []
    with store.lock(cfg.path("layers", ".lock")):
        for name in os.listdir(cfg.path("layers")):
            if len(name) == 64 and name not in keep and os.path.isdir(cfg.path("layers", name)):
                remove_layer(cfg, "sha256:" + name)
                removed.append("sha256:" + name)
    return removed


def changed_paths(cfg, parent, child):
    """The paths that differ between two read-only subvolumes (and send's temporary names): the
    btrfs send stream of `child` against `parent`, without file data (small: metadata of what
    changed), parsed."""
    stream = os.path.join(tmpdir(cfg), f"{os.urandom(8).hex()}.send")
    try:
        shell.run(["btrfs", "send", "-q", "--no-data", "-f", stream, "-p", parent, child])
        if shell.dry_run:
            return None
        with open(stream, "rb") as f:
            return layers.send_stream_paths(f)
    finally:
        store.unlink(stream)


def _layer_of(cfg, parent, rootfs, config):
    """Compute the layer of `rootfs` (read-only) over image `parent`, keep it as layers/<chain>,
    and return (config with its rootfs.diff_ids, parent id: a legacy parent may get a new one).
    No layer when nothing changed and the step's history entry says so (a metadata-only step)."""
    if parent:
        parent, praw, pchains = layered(cfg, parent)
        pdiffs = json.loads(praw)["rootfs"]["diff_ids"]
        base = images.rootfs(cfg, parent)
    else:
        pchains, pdiffs, base = [], [], None
    split = os.path.join(tmpdir(cfg), f"{os.urandom(8).hex()}.tarsplit.gz")
    hw = layers.HashWriter(None)
    how = f"the paths btrfs send names against {shell.quote(base)}" if base else "the whole rootfs"
    with shell.step("layer", f"layer of {rootfs}: tar of {how}"):
        changed = changed_paths(cfg, base, rootfs) if base else None
        count = shell.do(f"# tar of {how} -> diff_id", layers.diff, base, rootfs, hw, split_path=split,
                         changed=changed)
    if shell.dry_run:
        return config, parent
    hist = config.setdefault("history", [])
    if count == 0 and (not hist or hist[-1].get("empty_layer")):
        store.unlink(split)
        config["rootfs"] = {"type": "layers", "diff_ids": list(pdiffs)}
        return config, parent
    if hist and sum(1 for h in hist if not h.get("empty_layer")) <= len(pdiffs):
        hist[-1].pop("empty_layer", None)      # no row names this layer yet (a WORKDIR made at a stage's end)
    diff_ids = list(pdiffs) + [hw.digest()]
    chain = chain_ids(diff_ids)[-1]
    with store.lock(cfg.path("layers", ".lock")):
        if os.path.isdir(layer_dir(cfg, chain)):
            store.unlink(split)
        else:
            store.snapshot(rootfs, layer_dir(cfg, chain), readonly=True)
            os.replace(split, layer_dir(cfg, chain) + ".tarsplit.gz")
            save_meta(cfg, chain, {"chain_id": chain, "diff_id": hw.digest(),
                                   "parent": pchains[-1] if pchains else None, "size": hw.count,
                                   "blobs": [], "sources": []})
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    return config, parent


def register(cfg, source, config, parent=None, tag=None, move=False):
    """Make `source` (a subvolume; taken over when `move`) an image of `config` over image
    `parent`, its layer computed now: its id never changes after. Returns the image id."""
    work = cfg.path("images", f".layer-{os.urandom(6).hex()}")
    if move:
        shell.do(f"mv {shell.quote(source)} {shell.quote(work)}", os.rename, source, work)
        store.set_readonly(work)
    else:
        store.snapshot(source, work, readonly=True)
    try:
        config, parent = _layer_of(cfg, parent, work, config)
        return images.register_raw(cfg, work, imageconfig.config_bytes_of(config), tag=tag, parent=parent,
                                   move=True)
    except BaseException:
        if os.path.exists(work):
            store.delete_subvolume(work)
        raise


def init(cfg, directory, tag):
    """`bocker init DIR`: a directory becomes a one-layer image (copied with reflinks where possible)."""
    if not os.path.isdir(directory):
        raise BockerError(f"{directory}: not a directory")
    tag = images.normalize(tag)
    if not images.valid_ref(tag):
        raise BockerError(f"invalid reference format: '{tag}'")
    work = cfg.path("images", f".init-{os.getpid()}")
    store.create_subvolume(work)
    try:
        shell.run(["cp", "-a", "--reflink=auto", os.path.join(directory, "."), work])
        config = images.new_config()
        config["history"] = images.base_history(config["created"], os.path.abspath(directory))
        return register(cfg, work, config, tag=tag, move=True)
    except BaseException:
        if os.path.exists(work):
            store.delete_subvolume(work)
        raise


def complete(cfg, config, meta):
    """Whether an image's layers are all known: every diff_id's layer exists and, for an image made
    here on a parent, one diff_id per history entry that is no empty layer."""
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if not all(os.path.isdir(layer_dir(cfg, c)) for c in chain_ids(diff_ids)):
        return False
    if not meta.get("parent"):
        return bool(diff_ids)
    return sum(1 for h in config.get("history") or [] if not h.get("empty_layer")) == len(diff_ids)


def _converted(cfg):
    return store.read_json(cfg.path("layers", "converted.json"), default={})


def layered(cfg, image_id):
    """(image_id, config bytes, chain ids) of an image whose layers all exist under layers/.
    A local image (init, commit, ...) first gets its layers computed: a new image id, and its
    tags move to it. Returns the new id."""
    conv = _converted(cfg)
    if image_id in conv and os.path.exists(images.rootfs(cfg, conv[image_id]) + ".json"):
        image_id = conv[image_id]
    path = images.rootfs(cfg, image_id) + ".json"
    with open(path, "rb") as f:
        raw = f.read()
    config = json.loads(raw)
    meta = images.meta(cfg, image_id)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    chains = chain_ids(diff_ids)
    if complete(cfg, config, meta):
        return image_id, raw, chains
    # an image of an older store: its layer is its difference from its parent (or its whole tree)
    if meta.get("parent"):
        _, praw, pchains = layered(cfg, meta["parent"])
        pdiffs = json.loads(praw)["rootfs"]["diff_ids"]
    else:
        pchains, pdiffs = [], []
    base = layer_dir(cfg, pchains[-1]) if pchains else None
    rootfs = images.rootfs(cfg, image_id)
    split = os.path.join(tmpdir(cfg), f"{image_id}.tarsplit.gz")
    hw = layers.HashWriter(None)
    with shell.step("diff", f"layer of {image_id[:12]}: tar diff against "
                            f"{'its parent' if base else 'nothing (the whole rootfs)'}"):
        shell.do(f"# tar diff {shell.quote(base or '-')} {shell.quote(rootfs)}", layers.diff, base, rootfs, hw,
                 split_path=split)
    diff_id = hw.digest()
    diff_ids = list(pdiffs) + [diff_id]
    chains = chain_ids(diff_ids)
    chain = chains[-1]
    with store.lock(cfg.path("layers", ".lock")):
        if not os.path.isdir(layer_dir(cfg, chain)):
            store.snapshot(rootfs, layer_dir(cfg, chain), readonly=True)
            os.replace(split, layer_dir(cfg, chain) + ".tarsplit.gz")
            save_meta(cfg, chain, {"chain_id": chain, "diff_id": diff_id,
                                          "parent": pchains[-1] if pchains else None, "size": hw.count,
                                          "blobs": [], "sources": []})
        else:
            store.unlink(split)
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    hist = config.get("history") or []
    nonempty = sum(1 for h in hist if not h.get("empty_layer"))
    if nonempty < len(diff_ids):
        hist.append({"created": config.get("created"), "created_by": "bocker: layer computed for push"})
        config["history"] = hist
    raw = imageconfig.config_bytes_of(config)
    new_id = images.register_raw(cfg, layer_dir(cfg, chain), raw)
    for t in images.tags_of(cfg, image_id):
        images.add_tag(cfg, new_id, t)
    conv = _converted(cfg)
    conv[image_id] = new_id
    store.write_json(cfg.path("layers", "converted.json"), conv)
    return new_id, raw, chains


def layer_tar(cfg, chain, out):
    """Write layer `chain`'s exact tar (its diff_id) to `out`; checks the diff_id."""
    meta = layer_meta(cfg, chain) or {}
    split = layer_dir(cfg, chain) + ".tarsplit.gz"
    hw = layers.HashWriter(out)
    if os.path.exists(split):
        layers.regenerate(layer_dir(cfg, chain), split, hw)
    else:
        parent = meta.get("parent")
        layers.diff(layer_dir(cfg, parent) if parent else None, layer_dir(cfg, chain), hw)
    want = meta.get("diff_id") or chain
    if hw.digest() != want:
        raise BockerError(f"layer {digest_hex(chain)[:12]}: rebuilt tar is {hw.digest()}, expected {want} "
                          f"(its tar split is missing or stale)")
    return hw.count


def compressed_blob(cfg, chain, compression="gzip"):
    """A compressed blob of the layer in layers/.tmp: (path, {digest, size, mediaType})."""
    path = os.path.join(tmpdir(cfg), f"{digest_hex(chain)}.{compression}.{os.getpid()}")
    media = OCI_LAYER_ZSTD if compression == "zstd" else (DOCKER_LAYER_GZIP if compression == "gzip" else OCI_LAYER)
    try:
        if compression == "gzip":  # pigz compresses on both cores while Python makes the tar
            with shell.feed(["pigz", "-3", "-n"], path) as gz:
                layer_tar(cfg, chain, gz)
            return path, {"digest": sha256_file(path), "size": os.path.getsize(path), "mediaType": media}
        with open(path, "wb") as f:
            hw = layers.HashWriter(f)
            z = layers.compressor(hw, compression)
            layer_tar(cfg, chain, z)
            z.close()
        return path, {"digest": hw.digest(), "size": hw.count, "mediaType": media}
    except BaseException:
        store.unlink(path)
        raise


def history(cfg, ref):
    """Rows of `bocker history`: newest first, with the size of each entry's layer."""
    image_id = images.resolve(cfg, ref)
    config = images.config(cfg, image_id)
    hist = config.get("history") or []
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    chains = chain_ids(diff_ids)
    sizes = []
    for c in chains:
        m = layer_meta(cfg, c)
        sizes.append(m.get("size", 0) if m else 0)
    rows, li = [], 0
    local = not complete(cfg, config, images.meta(cfg, image_id))
    for i, h in enumerate(hist):
        size = 0
        if not h.get("empty_layer"):
            size = sizes[li] if li < len(sizes) else 0
            li += 1
        rows.append({"Created": h.get("created", ""), "CreatedBy": h.get("created_by", ""), "Size": size,
                     "Comment": h.get("comment", ""), "Id": "<missing>"})
    if rows:
        rows[-1]["Id"] = "sha256:" + image_id
        # what no layer accounts for (a local image's own files): the newest entry that made a layer
        newest = next((r for r, h in zip(reversed(rows), reversed(hist)) if not h.get("empty_layer")), rows[-1])
        if local and not newest["Size"]:
            newest["Size"] = images.size(cfg, image_id) - sum(r["Size"] for r in rows if r is not newest)
    rows.reverse()
    return rows

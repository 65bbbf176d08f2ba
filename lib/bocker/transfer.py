"""Images in and out: pull, push, save/load (docker-archive, OCI layout), import/export, history.

Layers are read-only subvolumes under layers/<chain-id>/: each one a snapshot of the layer below
plus that layer's tar, applied safely (layers.py). An image's rootfs is a snapshot of its top
layer, so images that share a base share its blocks, and a second pull of the same base only
downloads and applies the new layers.

layers/<chain>.json          {chain_id, diff_id, parent, size, blobs: [{digest, size, mediaType}],
                              sources: ["registry/repo", ...]}  (blobs: compressed forms known)
layers/<chain>.tarsplit.gz   the tar's headers as applied: the exact tar is rebuilt from it and the
                              snapshot, so a pulled image pushes/saves with the same diff_ids (id)
layers/.tmp/                 downloads in progress (<digest>.part: resumed by the next pull)

Images made locally (init, import of a directory, commit) get their layers when first pushed or
saved: a tar diff between the image's snapshot and its parent's (or the whole rootfs). That fixes
their config's rootfs.diff_ids, so they become a new image id; their tags move to it.
"""
import hashlib
import json
import os
import sys

from . import BockerError, images, layers, shell, store
from .registry import (DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, INDEXES, OCI_CONFIG, OCI_INDEX,
                       OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST, Reference, RegistryError,
                       choose_platform)

LAYER_TYPES = {OCI_LAYER: None, OCI_LAYER_GZIP: "gzip", OCI_LAYER_ZSTD: "zstd", DOCKER_LAYER_GZIP: "gzip",
               "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
               "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
               "application/vnd.oci.image.layer.nondistributable.v1.tar": None}


_IMAGE_ORDER = ("created", "author", "architecture", "os", "os.version", "os.features", "variant", "config",
                "rootfs", "history")
_CONFIG_ORDER = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
                 "StopSignal", "ArgsEscaped")
_HISTORY_ORDER = ("created", "created_by", "author", "comment", "empty_layer")


def _go_time(t):
    """RFC 3339 with trailing fractional zeros dropped, as Go writes times."""
    if isinstance(t, str) and "." in t and t.endswith("Z"):
        head, frac = t[:-1].split(".", 1)
        frac = frac.rstrip("0")
        return f"{head}.{frac}Z" if frac else head + "Z"
    return t


def _ordered(d, order):
    out = {k: d[k] for k in order if k in d}
    out.update((k, d[k]) for k in sorted(d) if k not in out)
    return out


def config_bytes_of(config):
    """An image config serialised as Go's image-spec structs are (field order, compact, HTML
    escapes): skopeo/podman re-encode configs that way, so ids survive their round trips."""
    c = dict(config)
    if "created" in c:
        c["created"] = _go_time(c["created"])
    if isinstance(c.get("config"), dict):
        c["config"] = _ordered({k: v for k, v in c["config"].items() if v not in (None, "", [], {}, False)},
                               _CONFIG_ORDER)
        for k in ("ExposedPorts", "Volumes", "Labels"):      # Go maps: sorted keys
            if isinstance(c["config"].get(k), dict):
                c["config"][k] = dict(sorted(c["config"][k].items()))
    if isinstance(c.get("rootfs"), dict):
        c["rootfs"] = _ordered(c["rootfs"], ("type", "diff_ids"))
    if isinstance(c.get("history"), list):
        c["history"] = [_ordered({k: v for k, v in dict(h, created=_go_time(h.get("created"))).items()
                                  if v not in (None, "", False)}, _HISTORY_ORDER) for h in c["history"]]
    c = _ordered({k: v for k, v in c.items() if v not in (None, "") or k in ("architecture", "os")}, _IMAGE_ORDER)
    text = json.dumps(c, separators=(",", ":"), ensure_ascii=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                 ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text.encode()


def _hex(digest):
    """The hex of a sha256 digest; anything else is refused (digests become file names)."""
    import re
    hexpart = digest.split(":", 1)[1] if ":" in digest else digest
    if not re.fullmatch(r"[0-9a-f]{64}", hexpart) or (":" in digest and not digest.startswith("sha256:")):
        raise BockerError(f"invalid digest: {digest[:80]!r}")
    return hexpart


def _sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chain_ids(diff_ids):
    out = []
    for d in diff_ids:
        out.append(d if not out else _sha(f"{out[-1]} {d}".encode()))
    return out


def layer_dir(cfg, chain):
    return cfg.path("layers", _hex(chain))


def layer_meta(cfg, chain):
    try:
        return store.read_json(layer_dir(cfg, chain) + ".json")
    except (FileNotFoundError, ValueError):
        return None


def _save_layer_meta(cfg, chain, meta):
    store.write_json(layer_dir(cfg, chain) + ".json", meta)


def _tmpdir(cfg):
    path = cfg.path("layers", ".tmp")
    os.makedirs(path, exist_ok=True)
    return path


def _client(cfg, registry, insecure=False, creds=None):
    from .registry import Client
    return Client(registry, auth_file=cfg.path("auth.json"), insecure=insecure, creds=creds)


# --- progress -----------------------------------------------------------------------------

class Progress:
    """Docker-like status lines on stdout; a bar per layer on a terminal (tqdm); -q: nothing."""

    def __init__(self, quiet=False, out=None):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.tty = not quiet and sys.stderr.isatty() and not shell.dry_run
        self.bars = {}
        self.positions = 0

    def line(self, text):
        if not self.quiet:
            self.out.write(("# " if shell.dry_run else "") + text + "\n")
            self.out.flush()

    def status(self, key, text):
        if key in self.bars:
            bar = self.bars.pop(key)
            bar.set_description_str(f"{key}: {text}")
            bar.close()
        elif self.tty:
            sys.stderr.write(f"{key}: {text}\n")
        else:
            self.line(f"{key}: {text}")

    def bar(self, key, what, total):
        """A callback (done, total) that draws a bar on a terminal; nothing otherwise."""
        if not self.tty:
            return None
        from tqdm import tqdm
        bar = tqdm(total=total or None, unit="B", unit_scale=True, unit_divisor=1024, leave=True,
                   desc=f"{key}: {what}", file=sys.stderr, position=self.positions, dynamic_ncols=True)
        self.positions += 1
        self.bars[key] = bar

        def update(done, _total=None):
            bar.update(done - bar.n)
        return update


# --- registering images (until images.py has register_raw) ---------------------------------

def _apply_layer(cfg, parent_chain, chain, diff_id, opener, blob=None, source=None, progress=None):
    """Make layers/<chain>: a snapshot of the parent layer with the layer applied, read-only.
    `opener()` gives the (compressed) layer stream; its diff_id must match, else nothing is kept."""
    final = layer_dir(cfg, chain)
    work = cfg.path("layers", f".work-{_hex(chain)[:16]}-{os.getpid()}")
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
            raise RegistryError(f"layer {_hex(diff_id)[:12]}: uncompressed content is {got}, the image "
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
    _save_layer_meta(cfg, chain, meta)


def _note_blob(cfg, chain, blob=None, source=None):
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
        _save_layer_meta(cfg, chain, meta)


def _empty_rootfs(cfg):
    """An empty read-only subvolume for images with no layers."""
    path = cfg.path("layers", "empty")
    if not os.path.exists(path):
        store.create_subvolume(path)
        store.set_readonly(path)
    return path


# --- pull ---------------------------------------------------------------------------------

def pull(cfg, ref_text, platform=None, insecure=False, quiet=False, progress=None):
    """Pull an image; returns its id. Layers already present are neither downloaded nor applied."""
    ref = Reference.parse(ref_text)
    p = progress or Progress(quiet)
    client = _client(cfg, ref.registry, insecure)
    repo = ref.repository
    if ref.tag:
        p.line(f"{ref.tag}: Pulling from {ref.name}")
    body, media, digest = client.get_manifest(repo, ref.reference)
    repo_digest = f"{ref.name}@{digest}"
    if media in INDEXES:
        desc = choose_platform(json.loads(body), platform)
        body, media, mdigest = client.get_manifest(repo, desc["digest"])
        if media in INDEXES:
            raise RegistryError(f"{ref}: nested index, not supported")
    manifest = json.loads(body)
    config_desc = manifest["config"]
    image_id = _hex(config_desc["digest"])
    tag = f"{ref.name}:{ref.tag}" if ref.tag else None
    if os.path.exists(images.rootfs(cfg, image_id) + ".json"):
        if tag:
            images.add_tag(cfg, image_id, tag)
        images.add_repo_digest(cfg, image_id, repo_digest)
        p.line(f"Digest: {digest}")
        p.line(f"Status: Image is up to date for {ref}")
        return image_id
    config_bytes = client.get_blob(repo, config_desc["digest"])
    config = json.loads(config_bytes)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    descs = manifest.get("layers") or []
    if len(descs) != len(diff_ids):
        raise RegistryError(f"{ref}: manifest has {len(descs)} layers, its config {len(diff_ids)} diff_ids")
    for d in descs:
        if d.get("mediaType") not in LAYER_TYPES:
            raise RegistryError(f"{ref}: unsupported layer type {d.get('mediaType')!r}")
    chains = chain_ids(diff_ids)
    tmp = _tmpdir(cfg)
    source = f"{ref.registry}/{repo}"
    todo = [i for i, c in enumerate(chains) if not os.path.isdir(layer_dir(cfg, c))]
    for i, d in enumerate(descs):
        if i not in todo:
            p.status(_hex(d["digest"])[:12], "Already exists")
            _note_blob(cfg, chains[i], source=source)
    downloads, made = {}, []
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        for i in todo:
            d = descs[i]
            path = os.path.join(tmp, _hex(d["digest"]) + ".blob")
            key = _hex(d["digest"])[:12]
            cb = p.bar(key, "Downloading", d.get("size"))
            downloads[i] = (path, pool.submit(_download, client, repo, d, path, cb))
        with store.lock(cfg.path("layers", ".lock")):
            for i in todo:
                path, fut = downloads[i]
                key = _hex(descs[i]["digest"])[:12]
                fut.result()
                if not os.path.isdir(layer_dir(cfg, chains[i])):      # another pull may have made it
                    p.status(key, "Download complete")
                    blob = {k: descs[i][k] for k in ("digest", "size", "mediaType") if k in descs[i]}
                    _apply_layer(cfg, chains[i - 1] if i else None, chains[i], diff_ids[i],
                                 lambda path=path: open(path, "rb"), blob=None, source=source)
                    made.append(chains[i])
                    _note_blob(cfg, chains[i], blob=blob)
                p.status(key, "Pull complete")
                _unlink(path)
            top = layer_dir(cfg, chains[-1]) if chains else _empty_rootfs(cfg)
            image_id = images.register_raw(cfg, top, config_bytes, tag=tag, repo_digest=repo_digest)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        for chain in reversed(made):          # a failed pull leaves the store as it was
            remove_layer(cfg, chain)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    p.line(f"Digest: {digest}")
    p.line(f"Status: Downloaded newer image for {ref}")
    return image_id


def remove_layer(cfg, chain):
    store.delete_subvolume(layer_dir(cfg, chain))
    for suffix in (".json", ".tarsplit.gz"):
        _unlink(layer_dir(cfg, chain) + suffix)


def prune_layers(cfg):
    """Delete layers/<chain> that no image needs (not in, nor below, any image's chain).
    Returns the chain ids removed. For `image prune` / `rmi`."""
    keep = set()
    for iid in images.all_ids(cfg):
        try:
            conf = images.config(cfg, iid)
        except (OSError, ValueError):
            continue
        keep.update(_hex(c) for c in chain_ids((conf.get("rootfs") or {}).get("diff_ids") or []))
    removed = []
    with store.lock(cfg.path("layers", ".lock")):
        for name in os.listdir(cfg.path("layers")):
            if len(name) == 64 and name not in keep and os.path.isdir(cfg.path("layers", name)):
                remove_layer(cfg, "sha256:" + name)
                removed.append("sha256:" + name)
    return removed


def _download(client, repo, desc, path, cb):
    if shell.dry_run:
        url = client.url(f"/v2/{repo}/blobs/{desc['digest']}")
        shell.do(f"curl -fL {url} -o {shell.quote(path)}")
        return
    if os.path.exists(path) and registry_sha(path) == desc["digest"]:
        return
    client.fetch_blob(repo, desc["digest"], path, size=desc.get("size"), progress=cb)


def registry_sha(path):
    from .registry import sha256_file
    return sha256_file(path)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --- giving local images their layers (push, save) -----------------------------------------

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
    if not meta.get("parent") and chains and all(os.path.isdir(layer_dir(cfg, c)) for c in chains):
        return image_id, raw, chains
    # a local image: its layer is its difference from its parent (or its whole tree)
    if meta.get("parent"):
        _, praw, pchains = layered(cfg, meta["parent"])
        pdiffs = json.loads(praw)["rootfs"]["diff_ids"]
    else:
        pchains, pdiffs = [], []
    base = layer_dir(cfg, pchains[-1]) if pchains else None
    rootfs = images.rootfs(cfg, image_id)
    split = os.path.join(_tmpdir(cfg), f"{image_id}.tarsplit.gz")
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
            _save_layer_meta(cfg, chain, {"chain_id": chain, "diff_id": diff_id,
                                          "parent": pchains[-1] if pchains else None, "size": hw.count,
                                          "blobs": [], "sources": []})
        else:
            _unlink(split)
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    hist = config.get("history") or []
    nonempty = sum(1 for h in hist if not h.get("empty_layer"))
    if nonempty < len(diff_ids):
        hist.append({"created": config.get("created"), "created_by": "bocker: layer computed for push"})
        config["history"] = hist
    raw = config_bytes_of(config)
    new_id = images.register_raw(cfg, layer_dir(cfg, chain), raw)
    for t in images.tags_of(cfg, image_id):
        images.add_tag(cfg, new_id, t)
    conv = _converted(cfg)
    conv[image_id] = new_id
    store.write_json(cfg.path("layers", "converted.json"), conv)
    return new_id, raw, chains


def _layer_tar(cfg, chain, out):
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
        raise BockerError(f"layer {_hex(chain)[:12]}: rebuilt tar is {hw.digest()}, expected {want} "
                          f"(its tar split is missing or stale)")
    return hw.count


def _compressed_blob(cfg, chain, compression="gzip"):
    """A compressed blob of the layer in layers/.tmp: (path, {digest, size, mediaType})."""
    path = os.path.join(_tmpdir(cfg), f"{_hex(chain)}.{compression}.{os.getpid()}")
    media = OCI_LAYER_ZSTD if compression == "zstd" else (DOCKER_LAYER_GZIP if compression == "gzip" else OCI_LAYER)
    try:
        if compression == "gzip":  # pigz compresses on both cores while Python makes the tar
            with shell.feed(["pigz", "-3", "-n"], path) as gz:
                _layer_tar(cfg, chain, gz)
            return path, {"digest": registry_sha(path), "size": os.path.getsize(path), "mediaType": media}
        with open(path, "wb") as f:
            hw = layers.HashWriter(f)
            z = layers.compressor(hw, compression)
            _layer_tar(cfg, chain, z)
            z.close()
        return path, {"digest": hw.digest(), "size": hw.count, "mediaType": media}
    except BaseException:
        _unlink(path)
        raise


# --- push ---------------------------------------------------------------------------------

def push(cfg, ref_text, insecure=False, quiet=False, oci=False, compression="gzip", chunk_size=None,
         progress=None):
    """Push a local image; returns the manifest digest."""
    ref = Reference.parse(ref_text)
    if ref.digest:
        raise BockerError("push takes NAME[:TAG], not a digest")
    if compression == "zstd":
        oci = True
    p = progress or Progress(quiet)
    image_id = images.resolve(cfg, ref_text)
    image_id, config_bytes, chains = layered(cfg, image_id)
    client = _client(cfg, ref.registry, insecure)
    repo = ref.repository
    here = f"{ref.registry}/{repo}"
    p.line(f"The push refers to repository [{ref.name}]")
    descs = []
    for chain in chains:
        meta = layer_meta(cfg, chain)
        key = _hex(meta["diff_id"])[:12]
        blob = None
        known = [b for b in meta.get("blobs", []) if LAYER_TYPES.get(b.get("mediaType"), "?") == compression]
        for b in known:
            if client.blob_exists(repo, b["digest"], scope=f"repository:{repo}:pull,push") is not None:
                blob = b
                p.status(key, "Layer already exists")
                break
        if blob is None:
            for b in known:
                for src in meta.get("sources", []):
                    reg, _, from_repo = src.partition("/")
                    if reg == ref.registry and from_repo != repo and \
                            client.mount_blob(repo, b["digest"], from_repo):
                        blob = b
                        p.status(key, f"Mounted from {from_repo}")
                        break
                if blob:
                    break
        if blob is None:
            p.status(key, "Preparing")
            path, blob = _compressed_blob(cfg, chain, compression)
            try:
                _note_blob(cfg, chain, blob=blob)
                if client.blob_exists(repo, blob["digest"], scope=f"repository:{repo}:pull,push") is not None:
                    p.status(key, "Layer already exists")
                else:
                    cb = p.bar(key, "Pushing", blob["size"])
                    client.upload_blob(repo, blob["digest"], path=path, size=blob["size"], chunk_size=chunk_size,
                                       progress=cb)
                    p.status(key, "Pushed")
            finally:
                _unlink(path)
        _note_blob(cfg, chain, source=here)
        media = blob["mediaType"]
        if oci and media == DOCKER_LAYER_GZIP:
            media = OCI_LAYER_GZIP
        elif not oci and media == OCI_LAYER_GZIP:
            media = DOCKER_LAYER_GZIP
        descs.append({"mediaType": media, "size": blob["size"], "digest": blob["digest"]})
    config_digest = _sha(config_bytes)
    if client.blob_exists(repo, config_digest, scope=f"repository:{repo}:pull,push") is None:
        client.upload_blob(repo, config_digest, data=config_bytes)
    manifest = {"schemaVersion": 2,
                "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
                "config": {"mediaType": OCI_CONFIG if oci else DOCKER_CONFIG, "size": len(config_bytes),
                           "digest": config_digest},
                "layers": descs}
    body = json.dumps(manifest, indent=3).encode()
    digest = client.put_manifest(repo, ref.tag, body, manifest["mediaType"])
    images.add_repo_digest(cfg, image_id, f"{ref.name}@{digest}")
    p.line(f"{ref.tag}: digest: {digest} size: {len(body)}")
    return digest


# --- save ---------------------------------------------------------------------------------

class _TarWriter:
    """A tar stream written entry by entry (sizes known up front), to a file or stdout."""

    def __init__(self, out):
        self.out = out

    def _header(self, name, size, type_=None, mode=0o644):
        import tarfile
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime = size, mode, 0
        if type_:
            ti.type = type_
        self.out.write(ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _pad(self, size):
        if size % 512:
            self.out.write(b"\0" * (512 - size % 512))

    def add_bytes(self, name, data):
        self._header(name, len(data))
        self.out.write(data)
        self._pad(len(data))

    def add_dir(self, name):
        import tarfile
        self._header(name.rstrip("/") + "/", 0, tarfile.DIRTYPE, 0o755)

    def add_stream(self, name, size, write):
        """`write(out)` must write exactly `size` bytes."""
        self._header(name, size)
        counter = layers.HashWriter(self.out)
        write(counter)
        if counter.count != size:
            raise BockerError(f"{name}: wrote {counter.count} bytes, announced {size}")
        self._pad(size)

    def close(self):
        self.out.write(b"\0" * 1024)
        self.out.flush()


def _image_refs(cfg, refs):
    """[(image_id, [tags to record])] for save."""
    out = []
    for r in refs:
        iid = images.resolve(cfg, r)
        name = images.normalize(r)
        tags = [name] if name in images.repositories(cfg) else images.tags_of(cfg, iid)
        out.append((iid, tags))
    return out


def save(cfg, refs, out_path=None, fmt="docker-archive", compression="gzip"):
    """Write images as a docker-archive tar (default), an oci-archive tar, or an OCI layout
    directory (`oci-dir`). `out_path` None: the tar goes to stdout."""
    if fmt not in ("docker-archive", "oci-archive", "oci-dir"):
        raise BockerError(f"unknown save format {fmt} (docker-archive, oci-archive, oci-dir)")
    todo = []
    for iid, tags in _image_refs(cfg, refs):
        new_id, raw, chains = layered(cfg, iid)
        todo.append((new_id, raw, chains, tags))
    if fmt == "oci-dir":
        if not out_path:
            raise BockerError("save --format oci-dir needs -o DIRECTORY")
        _save_oci_dir(cfg, todo, out_path, compression)
        return
    if out_path:
        tmp = out_path + f".tmp{os.getpid()}"
        f = open(tmp, "wb")
    else:
        if sys.stdout.isatty():
            raise BockerError("cowardly refusing to write a tar to a terminal: use -o FILE or a redirection")
        tmp, f = None, sys.stdout.buffer
    try:
        tw = _TarWriter(f)
        if fmt == "docker-archive":
            _save_docker(cfg, todo, tw)
        else:
            _save_oci_tar(cfg, todo, tw, compression)
        tw.close()
        if tmp:
            f.close()
            os.replace(tmp, out_path)
    except BaseException:
        if tmp:
            f.close()
            _unlink(tmp)
        raise


def _save_docker(cfg, todo, tw):
    manifest, repos, done = [], {}, set()
    for iid, raw, chains, tags in todo:
        tw.add_bytes(f"{iid}.json", raw)
        names = []
        for chain in chains:
            meta = layer_meta(cfg, chain)
            d = _hex(meta["diff_id"])
            names.append(f"{d}/layer.tar")
            if d in done:
                continue
            done.add(d)
            tw.add_dir(d)
            tw.add_bytes(f"{d}/VERSION", b"1.0")
            tw.add_stream(f"{d}/layer.tar", meta["size"], lambda out, chain=chain: _layer_tar(cfg, chain, out))
        manifest.append({"Config": f"{iid}.json", "RepoTags": tags, "Layers": names})
        for t in tags:
            name, _, tag = t.rpartition(":")
            repos.setdefault(name, {})[tag] = names[-1].split("/")[0] if names else iid
    tw.add_bytes("manifest.json", json.dumps(manifest).encode())
    tw.add_bytes("repositories", json.dumps(repos).encode())


def _oci_blobs(cfg, todo, put, compression):
    """Write every blob of an OCI layout through put(digest, bytes or path); returns index entries."""
    entries = []
    for iid, raw, chains, tags in todo:
        descs = []
        for chain in chains:
            if compression in (None, "none"):
                path = os.path.join(_tmpdir(cfg), f"{_hex(chain)}.tar.{os.getpid()}")
                with open(path, "wb") as f:
                    _layer_tar(cfg, chain, f)
                meta = layer_meta(cfg, chain)
                blob = {"digest": meta["diff_id"], "size": meta["size"], "mediaType": OCI_LAYER}
            else:
                path, blob = _compressed_blob(cfg, chain, compression)
                _note_blob(cfg, chain, blob=blob)
            try:
                put(blob["digest"], path=path)
            finally:
                _unlink(path)
            media = OCI_LAYER_GZIP if blob["mediaType"] == DOCKER_LAYER_GZIP else blob["mediaType"]
            descs.append({"mediaType": media, "digest": blob["digest"], "size": blob["size"]})
        put(_sha(raw), data=raw)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": OCI_CONFIG, "digest": _sha(raw), "size": len(raw)},
                               "layers": descs}).encode()
        put(_sha(manifest), data=manifest)
        for t in tags or [None]:
            e = {"mediaType": OCI_MANIFEST, "digest": _sha(manifest), "size": len(manifest)}
            if t:
                e["annotations"] = {"org.opencontainers.image.ref.name": t, "io.containerd.image.name": t}
            entries.append(e)
    return entries


def _save_oci_dir(cfg, todo, out_dir, compression):
    blobs = os.path.join(out_dir, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(digest, data=None, path=None):
        dest = os.path.join(blobs, _hex(digest))
        if data is not None:
            shell.write_file(dest, data)
        else:
            import shutil
            shutil.move(path, dest)
    entries = _oci_blobs(cfg, todo, put, compression)
    index_path = os.path.join(out_dir, "index.json")
    old = store.read_json(index_path, default={"schemaVersion": 2, "manifests": []})
    names = {(e.get("annotations") or {}).get("org.opencontainers.image.ref.name") for e in entries} - {None}
    kept = [e for e in old.get("manifests", [])
            if (e.get("annotations") or {}).get("org.opencontainers.image.ref.name") not in names]
    shell.write_file(index_path, json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                         "manifests": kept + entries}).encode())
    shell.write_file(os.path.join(out_dir, "oci-layout"), b'{"imageLayoutVersion":"1.0.0"}')


def _save_oci_tar(cfg, todo, tw, compression):
    tw.add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    tw.add_dir("blobs")
    tw.add_dir("blobs/sha256")
    written = set()

    def put(digest, data=None, path=None):
        if digest in written:
            return
        written.add(digest)
        if data is not None:
            tw.add_bytes(f"blobs/sha256/{_hex(digest)}", data)
        else:
            def copy(out):
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
            tw.add_stream(f"blobs/sha256/{_hex(digest)}", os.path.getsize(path), copy)
    entries = _oci_blobs(cfg, todo, put, compression)
    tw.add_bytes("index.json", json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                           "manifests": entries}).encode())


# --- load ---------------------------------------------------------------------------------

class _Archive:
    """Members of a tar archive (random access) or files of a directory."""

    def __init__(self, path):
        import tarfile
        self.dir = path if os.path.isdir(path) else None
        self.tf = None if self.dir else tarfile.open(path, "r:*")
        self.names = None if self.dir else {_member_name(m.name): m for m in self.tf.getmembers()}

    def has(self, name):
        if self.dir:
            return os.path.isfile(os.path.join(self.dir, name))
        m = self.names.get(name)
        return m is not None and (m.isreg() or m.issym() or m.islnk())

    def open(self, name):
        if self.dir:
            parts = layers.clean_name(name)
            return open(os.path.join(self.dir, *parts), "rb")
        m = self.names.get(name)
        if m is None:
            raise BockerError(f"archive: {name} is missing")
        seen = 0
        while m.issym() or m.islnk():         # docker archives link identical layers
            target = m.linkname if m.islnk() else os.path.normpath(os.path.join(os.path.dirname(name), m.linkname))
            name = _member_name(target)
            m = self.names.get(name)
            seen += 1
            if m is None or seen > 10:
                raise BockerError(f"archive: broken link {name}")
        return self.tf.extractfile(m)

    def read(self, name, limit=64 << 20):
        with self.open(name) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise BockerError(f"archive: {name} is too large")
        return data

    def close(self):
        if self.tf:
            self.tf.close()


def _member_name(name):
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def load(cfg, input_path=None, quiet=False, platform=None):
    """Load images from a docker-archive or OCI layout (tar or directory); stdin when no path.
    Returns the list of 'Loaded image: ...' lines."""
    p = Progress(quiet, out=sys.stderr)
    spooled = None
    if not input_path or input_path == "-":
        if sys.stdin.isatty():
            raise BockerError("requested load from stdin, but stdin is a terminal: use -i FILE or a redirection")
        spooled = os.path.join(_tmpdir(cfg), f"load-{os.getpid()}.tar")
        with open(spooled, "wb") as f:
            while chunk := sys.stdin.buffer.read(1 << 20):
                f.write(chunk)
        input_path = spooled
    try:
        try:
            ar = _Archive(input_path)
        except Exception as e:
            raise BockerError(f"{input_path}: not an image archive ({e})")
        try:
            if ar.has("manifest.json"):
                return _load_docker(cfg, ar, p)
            if ar.has("index.json"):
                return _load_oci(cfg, ar, p, platform)
            raise BockerError(f"{input_path}: neither a docker-archive (manifest.json) nor an OCI layout "
                              f"(index.json)")
        finally:
            ar.close()
    finally:
        if spooled:
            _unlink(spooled)


def _import_layers(cfg, config_bytes, openers, p, blobs=None):
    """Apply the layers an archive holds (those not already present); returns the top layer dir."""
    config = json.loads(config_bytes)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if len(diff_ids) != len(openers):
        raise BockerError(f"image has {len(openers)} layers but its config lists {len(diff_ids)}")
    chains = chain_ids(diff_ids)
    with store.lock(cfg.path("layers", ".lock")):
        for i, chain in enumerate(chains):
            key = _hex(diff_ids[i])[:12]
            if os.path.isdir(layer_dir(cfg, chain)):
                p.status(key, "Already exists")
                continue
            p.status(key, "Loading layer")
            blob = blobs[i] if blobs else None
            _apply_layer(cfg, chains[i - 1] if i else None, chain, diff_ids[i], openers[i], blob=blob)
            if blob:
                _note_blob(cfg, chain, blob=blob)
    return layer_dir(cfg, chains[-1]) if chains else _empty_rootfs(cfg)


def _load_docker(cfg, ar, p):
    try:
        manifest = json.loads(ar.read("manifest.json"))
    except ValueError:
        raise BockerError("docker-archive: manifest.json is not JSON")
    out = []
    for entry in manifest:
        config_bytes = ar.read(entry["Config"])
        cdig = _hex(entry["Config"].split("/")[-1].split(".")[0])
        if len(cdig) == 64 and _sha(config_bytes)[7:] != cdig:
            raise BockerError(f"docker-archive: config {entry['Config']} does not match its digest name")
        openers = [lambda n=n: ar.open(n) for n in entry.get("Layers", [])]
        top = _import_layers(cfg, config_bytes, openers, p)
        iid = images.register_raw(cfg, top, config_bytes)
        tags = entry.get("RepoTags") or []
        for t in tags:
            images.add_tag(cfg, iid, t)
            out.append(f"Loaded image: {images.normalize(t)}")
        if not tags:
            out.append(f"Loaded image ID: sha256:{iid}")
    return out


def _load_oci(cfg, ar, p, platform):
    index = json.loads(ar.read("index.json"))
    out = []

    def blob_name(digest):
        alg, _, hexd = digest.partition(":")
        if alg != "sha256" or len(hexd) != 64 or not all(c in "0123456789abcdef" for c in hexd):
            raise BockerError(f"OCI layout: unsupported digest {digest}")
        return f"blobs/sha256/{hexd}"

    def read_blob(digest):
        data = ar.read(blob_name(digest))
        if _sha(data) != digest:
            raise BockerError(f"OCI layout: blob {digest} does not match its digest; refused")
        return data

    for desc in index.get("manifests", []):
        ann = desc.get("annotations") or {}
        name = ann.get("io.containerd.image.name") or ann.get("org.opencontainers.image.ref.name")
        body = read_blob(desc["digest"])
        doc = json.loads(body)
        if desc.get("mediaType") in INDEXES or doc.get("mediaType") in INDEXES or "manifests" in doc:
            d2 = choose_platform(doc, platform)
            body = read_blob(d2["digest"])
            doc = json.loads(body)
        config_bytes = read_blob(doc["config"]["digest"])
        descs = doc.get("layers") or []
        openers = [lambda d=d: ar.open(blob_name(d["digest"])) for d in descs]
        blobs = [{k: d[k] for k in ("digest", "size", "mediaType") if k in d} for d in descs]
        top = _import_layers(cfg, config_bytes, openers, p, blobs=blobs)
        iid = images.register_raw(cfg, top, config_bytes)
        if name and (":" in name or "/" in name or name.isalnum()):
            images.add_tag(cfg, iid, name)
            out.append(f"Loaded image: {images.normalize(name)}")
        else:
            out.append(f"Loaded image ID: sha256:{iid}")
    return out


# --- import / export ----------------------------------------------------------------------

def import_tar(cfg, source, tag=None, changes=(), message=""):
    """A root filesystem tar (file, '-' for stdin) becomes a one-layer image; returns its id."""
    if tag:
        tag = images.normalize(tag)
        if not images.valid_ref(tag):
            raise BockerError(f"invalid reference format: '{tag}'")
    if source == "-":
        stream_open = lambda: _NoCloseStdin()   # noqa: E731
    else:
        if not os.path.isfile(source):
            raise BockerError(f"{source}: no such file")
        stream_open = lambda: open(source, "rb")   # noqa: E731
    work = cfg.path("layers", f".import-{os.getpid()}")
    split = os.path.join(_tmpdir(cfg), f"import-{os.getpid()}.tarsplit.gz")
    store.create_subvolume(work)
    try:
        with stream_open() as s:
            diff_id, size = shell.do(f"tar -xpf {shell.quote(source)} -C {shell.quote(work)}  # safe apply",
                                     layers.apply, s, work, split_path=split) or ("sha256:" + "0" * 64, 0)
        if shell.dry_run:
            return "0" * 64
        config = images.new_config(created_by=f"bocker import {source}", comment=message)
        if changes:
            from . import containers
            for c in changes:
                containers.apply_change(config["config"], c)
        config["rootfs"] = {"type": "layers", "diff_ids": [diff_id]}
        final = layer_dir(cfg, diff_id)
        with store.lock(cfg.path("layers", ".lock")):
            if os.path.isdir(final):
                store.delete_subvolume(work)
                _unlink(split)
            else:
                store.set_readonly(work)
                shell.do(f"mv {shell.quote(work)} {shell.quote(final)}", os.rename, work, final)
                os.replace(split, final + ".tarsplit.gz")
                _save_layer_meta(cfg, diff_id, {"chain_id": diff_id, "diff_id": diff_id, "parent": None,
                                                "size": size, "blobs": [], "sources": []})
        return images.register_raw(cfg, final, config_bytes_of(config), tag=tag)
    except BaseException:
        if os.path.exists(work):
            store.delete_subvolume(work)
        _unlink(split)
        raise


class _NoCloseStdin:
    def __enter__(self):
        return sys.stdin.buffer

    def __exit__(self, *exc):
        return False


def export(cfg, path, out_path=None):
    """A directory tree (a container's rootfs) as one tar, to a file or stdout."""
    if out_path:
        tmp = out_path + f".tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            layers.tar_tree(path, f)
        os.replace(tmp, out_path)
    else:
        if sys.stdout.isatty():
            raise BockerError("cowardly refusing to write a tar to a terminal: use -o FILE or a redirection")
        layers.tar_tree(path, sys.stdout.buffer)
        sys.stdout.buffer.flush()


# --- history ------------------------------------------------------------------------------

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
    local = bool(images.meta(cfg, image_id).get("parent")) or not diff_ids
    for i, h in enumerate(hist):
        size = 0
        if not h.get("empty_layer"):
            size = sizes[li] if li < len(sizes) else 0
            li += 1
        rows.append({"Created": h.get("created", ""), "CreatedBy": h.get("created_by", ""), "Size": size,
                     "Comment": h.get("comment", ""), "Id": "<missing>"})
    if rows:
        rows[-1]["Id"] = "sha256:" + image_id
        if local and not rows[-1]["Size"]:
            rows[-1]["Size"] = images.size(cfg, image_id) - sum(r["Size"] for r in rows[:-1])
    rows.reverse()
    return rows


def search(cfg, term, registry=None, insecure=False, limit=25):
    """Repositories whose name contains `term`: the registry's catalog (or Docker Hub's search)."""
    if registry:
        client = _client(cfg, registry, insecure)
        names = [r for r in client.catalog() if term.lower() in r.lower()]
        return [{"Name": f"{registry}/{r}", "Description": "", "StarCount": 0, "IsOfficial": False}
                for r in names[:limit]]
    import requests
    try:
        r = requests.get("https://index.docker.io/v1/search", params={"q": term, "n": limit}, timeout=30)
        r.raise_for_status()
    except requests.RequestException as e:
        raise BockerError(f"Docker Hub search failed: {e}")
    return [{"Name": x.get("name"), "Description": x.get("description") or "", "StarCount": x.get("star_count", 0),
             "IsOfficial": x.get("is_official", False)} for x in r.json().get("results", [])]

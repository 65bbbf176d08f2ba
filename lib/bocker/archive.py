"""Images and containers as files: save, load (docker-archive, OCI layout), import, export."""
import json
import os
import sys

from . import BockerError, imageconfig, images, layers, layerstore, shell, store, transfer
from .registry import DOCKER_LAYER_GZIP, INDEXES, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST, choose_platform, \
    digest_hex, sha256_of


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


def _check_output(out_path, fmt):
    """Before anything is made (layered() may write layers): the output's directory exists."""
    if not out_path:
        return
    parent = os.path.dirname(os.path.abspath(out_path if fmt != "oci-dir" else out_path.rstrip("/")))
    if not os.path.isdir(parent):
        raise BockerError(f'failed to save image: invalid output path: directory "{parent}" does not exist')


def save(cfg, refs, out_path=None, fmt="docker-archive", compression="gzip"):
    """Write images as a docker-archive tar (default), an oci-archive tar, or an OCI layout
    directory (`oci-dir`). `out_path` None: the tar goes to stdout."""
    if fmt not in ("docker-archive", "oci-archive", "oci-dir"):
        raise BockerError(f"unknown save format {fmt} (docker-archive, oci-archive, oci-dir)")
    _check_output(out_path, fmt)
    todo = []
    for iid, tags in _image_refs(cfg, refs):
        new_id, raw, chains = layerstore.layered(cfg, iid)
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
            store.unlink(tmp)
        raise


def _save_docker(cfg, todo, tw):
    manifest, repos, done = [], {}, set()
    for iid, raw, chains, tags in todo:
        tw.add_bytes(f"{iid}.json", raw)
        names = []
        for chain in chains:
            meta = layerstore.layer_meta(cfg, chain)
            d = digest_hex(meta["diff_id"])
            names.append(f"{d}/layer.tar")
            if d in done:
                continue
            done.add(d)
            tw.add_dir(d)
            tw.add_bytes(f"{d}/VERSION", b"1.0")
            tw.add_stream(f"{d}/layer.tar", meta["size"], lambda out, chain=chain: layerstore.layer_tar(cfg, chain, out))
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
                path = os.path.join(layerstore.tmpdir(cfg), f"{digest_hex(chain)}.tar.{os.getpid()}")
                with open(path, "wb") as f:
                    layerstore.layer_tar(cfg, chain, f)
                meta = layerstore.layer_meta(cfg, chain)
                blob = {"digest": meta["diff_id"], "size": meta["size"], "mediaType": OCI_LAYER}
            else:
                path, blob = layerstore.compressed_blob(cfg, chain, compression)
                layerstore.note_blob(cfg, chain, blob=blob)
            try:
                put(blob["digest"], path=path)
            finally:
                store.unlink(path)
            media = OCI_LAYER_GZIP if blob["mediaType"] == DOCKER_LAYER_GZIP else blob["mediaType"]
            descs.append({"mediaType": media, "digest": blob["digest"], "size": blob["size"]})
        put(sha256_of(raw), data=raw)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": OCI_CONFIG, "digest": sha256_of(raw), "size": len(raw)},
                               "layers": descs}).encode()
        put(sha256_of(manifest), data=manifest)
        for t in tags or [None]:
            e = {"mediaType": OCI_MANIFEST, "digest": sha256_of(manifest), "size": len(manifest)}
            if t:
                e["annotations"] = {"org.opencontainers.image.ref.name": t, "io.containerd.image.name": t}
            entries.append(e)
    return entries


def _save_oci_dir(cfg, todo, out_dir, compression):
    blobs = os.path.join(out_dir, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(digest, data=None, path=None):
        dest = os.path.join(blobs, digest_hex(digest))
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
            tw.add_bytes(f"blobs/sha256/{digest_hex(digest)}", data)
        else:
            def copy(out):
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
            tw.add_stream(f"blobs/sha256/{digest_hex(digest)}", os.path.getsize(path), copy)
    entries = _oci_blobs(cfg, todo, put, compression)
    tw.add_bytes("index.json", json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                           "manifests": entries}).encode())


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
    p = transfer.Progress(quiet, out=sys.stderr)
    spooled = None
    if not input_path or input_path == "-":
        if sys.stdin.isatty():
            raise BockerError("requested load from stdin, but stdin is a terminal: use -i FILE or a redirection")
        spooled = os.path.join(layerstore.tmpdir(cfg), f"load-{os.getpid()}.tar")
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
            store.unlink(spooled)


def _import_layers(cfg, config_bytes, openers, p, blobs=None):
    """Apply the layers an archive holds (those not already present); returns the top layer dir."""
    config = json.loads(config_bytes)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if len(diff_ids) != len(openers):
        raise BockerError(f"image has {len(openers)} layers but its config lists {len(diff_ids)}")
    chains = layerstore.chain_ids(diff_ids)
    with store.lock(cfg.path("layers", ".lock")):
        for i, chain in enumerate(chains):
            key = digest_hex(diff_ids[i])[:12]
            if os.path.isdir(layerstore.layer_dir(cfg, chain)):
                p.status(key, "Already exists")
                continue
            p.status(key, "Loading layer")
            blob = blobs[i] if blobs else None
            layerstore.apply_layer(cfg, chains[i - 1] if i else None, chain, diff_ids[i], openers[i], blob=blob)
            if blob:
                layerstore.note_blob(cfg, chain, blob=blob)
    return layerstore.layer_dir(cfg, chains[-1]) if chains else layerstore.empty_rootfs(cfg)


def _load_docker(cfg, ar, p):
    try:
        manifest = json.loads(ar.read("manifest.json"))
    except ValueError:
        raise BockerError("docker-archive: manifest.json is not JSON")
    out = []
    for entry in manifest:
        config_bytes = ar.read(entry["Config"])
        cdig = digest_hex(entry["Config"].split("/")[-1].split(".")[0])
        if len(cdig) == 64 and sha256_of(config_bytes)[7:] != cdig:
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
        if sha256_of(data) != digest:
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
    split = os.path.join(layerstore.tmpdir(cfg), f"import-{os.getpid()}.tarsplit.gz")
    store.create_subvolume(work)
    try:
        with stream_open() as s:
            diff_id, size = shell.do(f"tar -xpf {shell.quote(source)} -C {shell.quote(work)}  # safe apply",
                                     layers.apply, s, work, split_path=split) or ("sha256:" + "0" * 64, 0)
        if shell.dry_run:
            return "0" * 64
        config = images.new_config(created_by=f"bocker import {source}", comment=message)
        for c in changes:
            imageconfig.apply(config["config"], c)
        config["rootfs"] = {"type": "layers", "diff_ids": [diff_id]}
        final = layerstore.layer_dir(cfg, diff_id)
        with store.lock(cfg.path("layers", ".lock")):
            if os.path.isdir(final):
                store.delete_subvolume(work)
                store.unlink(split)
            else:
                store.set_readonly(work)
                shell.do(f"mv {shell.quote(work)} {shell.quote(final)}", os.rename, work, final)
                os.replace(split, final + ".tarsplit.gz")
                layerstore.save_meta(cfg, diff_id, {"chain_id": diff_id, "diff_id": diff_id, "parent": None,
                                                "size": size, "blobs": [], "sources": []})
        return images.register_raw(cfg, final, imageconfig.config_bytes_of(config), tag=tag)
    except BaseException:
        if os.path.exists(work):
            store.delete_subvolume(work)
        store.unlink(split)
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

"""Images from and to registries: pull, push, search, and the progress they show.

Pulled layers go to the layer store (layerstore.py); pushed ones come from it.
"""
import json
import os
import sys

from . import BockerError, events, images, layerstore, shell, store
from .registry import (DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, INDEXES, OCI_CONFIG, OCI_LAYER,
                       OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST, Reference, RegistryError, choose_platform,
                       digest_hex, sha256_file, sha256_of)


LAYER_TYPES = {OCI_LAYER: None, OCI_LAYER_GZIP: "gzip", OCI_LAYER_ZSTD: "zstd", DOCKER_LAYER_GZIP: "gzip",
               "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
               "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
               "application/vnd.oci.image.layer.nondistributable.v1.tar": None}


def _client(cfg, registry, insecure=False, creds=None):
    from .registry import Client
    return Client(registry, auth_file=cfg.path("auth.json"), insecure=insecure, creds=creds)


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
    single = platform and media not in INDEXES  # --platform of a one-platform image: its config's
    if media in INDEXES:
        desc = choose_platform(json.loads(body), platform)
        body, media, mdigest = client.get_manifest(repo, desc["digest"])
        if media in INDEXES:
            raise RegistryError(f"{ref}: nested index, not supported")
    manifest = json.loads(body)
    config_desc = manifest["config"]
    image_id = digest_hex(config_desc["digest"])
    tag = f"{ref.name}:{ref.tag}" if ref.tag else None
    if os.path.exists(images.rootfs(cfg, image_id) + ".json"):
        if single:
            images.check_platform(platform, images.config(cfg, image_id), str(ref))
        if tag:
            images.add_tag(cfg, image_id, tag)
        images.add_repo_digest(cfg, image_id, repo_digest)
        p.line(f"Digest: {digest}")
        p.line(f"Status: Image is up to date for {ref}")
        return image_id
    config_bytes = client.get_blob(repo, config_desc["digest"])
    config = json.loads(config_bytes)
    if single:  # one manifest, no index to choose from: its config says its platform
        images.check_platform(platform, config, str(ref))
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    descs = manifest.get("layers") or []
    if len(descs) != len(diff_ids):
        raise RegistryError(f"{ref}: manifest has {len(descs)} layers, its config {len(diff_ids)} diff_ids")
    for d in descs:
        if d.get("mediaType") not in LAYER_TYPES:
            raise RegistryError(f"{ref}: unsupported layer type {d.get('mediaType')!r}")
    chains = layerstore.chain_ids(diff_ids)
    tmp = layerstore.tmpdir(cfg)
    source = f"{ref.registry}/{repo}"
    todo = [i for i, c in enumerate(chains) if not os.path.isdir(layerstore.layer_dir(cfg, c))]
    for i, d in enumerate(descs):
        if i not in todo:
            p.status(digest_hex(d["digest"])[:12], "Already exists")
            layerstore.note_blob(cfg, chains[i], source=source)
    downloads, made = {}, []
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        for i in todo:
            d = descs[i]
            path = os.path.join(tmp, digest_hex(d["digest"]) + ".blob")
            key = digest_hex(d["digest"])[:12]
            cb = p.bar(key, "Downloading", d.get("size"))
            downloads[i] = (path, pool.submit(_download, client, repo, d, path, cb))
        with store.lock(cfg.path("layers", ".lock")):
            for i in todo:
                path, fut = downloads[i]
                key = digest_hex(descs[i]["digest"])[:12]
                fut.result()
                if not os.path.isdir(layerstore.layer_dir(cfg, chains[i])):      # another pull may have made it
                    p.status(key, "Download complete")
                    blob = {k: descs[i][k] for k in ("digest", "size", "mediaType") if k in descs[i]}
                    layerstore.apply_layer(cfg, chains[i - 1] if i else None, chains[i], diff_ids[i],
                                 lambda path=path: open(path, "rb"), blob=None, source=source)
                    made.append(chains[i])
                    layerstore.note_blob(cfg, chains[i], blob=blob)
                p.status(key, "Pull complete")
                store.unlink(path)
            top = layerstore.layer_dir(cfg, chains[-1]) if chains else layerstore.empty_rootfs(cfg)
            image_id = images.register_raw(cfg, top, config_bytes, tag=tag, repo_digest=repo_digest)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        for chain in reversed(made):          # a failed pull leaves the store as it was
            layerstore.remove_layer(cfg, chain)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    p.line(f"Digest: {digest}")
    p.line(f"Status: Downloaded newer image for {ref}")
    events.image(cfg, "pull", str(ref), str(ref))
    return image_id


def _download(client, repo, desc, path, cb):
    if shell.dry_run:
        url = client.url(f"/v2/{repo}/blobs/{desc['digest']}")
        shell.do(f"curl -fL {url} -o {shell.quote(path)}")
        return
    if os.path.exists(path) and sha256_file(path) == desc["digest"]:
        return
    client.fetch_blob(repo, desc["digest"], path, size=desc.get("size"), progress=cb)


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
    image_id, config_bytes, chains = layerstore.layered(cfg, image_id)
    client = _client(cfg, ref.registry, insecure)
    repo = ref.repository
    here = f"{ref.registry}/{repo}"
    p.line(f"The push refers to repository [{ref.name}]")
    descs = []
    for chain in chains:
        meta = layerstore.layer_meta(cfg, chain)
        key = digest_hex(meta["diff_id"])[:12]
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
            path, blob = layerstore.compressed_blob(cfg, chain, compression)
            try:
                layerstore.note_blob(cfg, chain, blob=blob)
                if client.blob_exists(repo, blob["digest"], scope=f"repository:{repo}:pull,push") is not None:
                    p.status(key, "Layer already exists")
                else:
                    cb = p.bar(key, "Pushing", blob["size"])
                    client.upload_blob(repo, blob["digest"], path=path, size=blob["size"], chunk_size=chunk_size,
                                       progress=cb)
                    p.status(key, "Pushed")
            finally:
                store.unlink(path)
        layerstore.note_blob(cfg, chain, source=here)
        media = blob["mediaType"]
        if oci and media == DOCKER_LAYER_GZIP:
            media = OCI_LAYER_GZIP
        elif not oci and media == OCI_LAYER_GZIP:
            media = DOCKER_LAYER_GZIP
        descs.append({"mediaType": media, "size": blob["size"], "digest": blob["digest"]})
    config_digest = sha256_of(config_bytes)
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

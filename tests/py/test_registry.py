"""Registry, pull/push, save/load: against a real docker-registry on 127.0.0.1 and a btrfs store on a
loop file, both made here and removed after (even on failure). No traffic leaves 127.0.0.1."""
import base64
import contextlib
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "lib"))

from bocker import BockerError, archive, config, imageconfig, images, layers, layerstore, store, transfer  # noqa: E402
from bocker import registry as reg  # noqa: E402

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (btrfs loop mount)"),
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="docker-registry not installed"),
    pytest.mark.skipif(not shutil.which("mkfs.btrfs"), reason="btrfs-progs not installed"),
]


# --- fixtures: a btrfs mount, stores on it, registries ---------------------------------------

@pytest.fixture(scope="module")
def btrfs(tmp_path_factory):
    base = tmp_path_factory.mktemp("btrfs")
    img, mnt = base / "store.img", base / "mnt"
    mnt.mkdir()
    subprocess.run(["truncate", "-s", "3G", str(img)], check=True)
    subprocess.run(["mkfs.btrfs", "-q", str(img)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        for _ in range(5):
            if subprocess.run(["umount", str(mnt)], capture_output=True).returncode == 0:
                break
            time.sleep(0.5)
        else:
            subprocess.run(["umount", "-l", str(mnt)])
        img.unlink()


_n = [0]


def new_store(btrfs):
    _n[0] += 1
    root = btrfs / f"store{_n[0]}"
    for d in store.SUBDIRS + ("names",):
        (root / d).mkdir(parents=True, exist_ok=True)
    return config.Config(str(root))


@pytest.fixture
def cfg(btrfs):
    return new_store(btrfs)


@pytest.fixture
def cfg2(btrfs):
    return new_store(btrfs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_registry(tmp, auth=None):
    port = free_port()
    data = tmp / f"regdata-{port}"
    conf = {"version": 0.1, "log": {"level": "error"},
            "storage": {"filesystem": {"rootdirectory": str(data)}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{port}"}}
    if auth:
        conf["auth"] = auth
    path = tmp / f"registry-{port}.yml"
    path.write_text(json.dumps(conf))        # JSON is YAML
    log = open(tmp / f"registry-{port}.log", "w")
    proc = subprocess.Popen(["docker-registry", "serve", str(path)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("docker-registry did not start: " + (tmp / f"registry-{port}.log").read_text())
                time.sleep(0.1)
        yield f"127.0.0.1:{port}", data
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with run_registry(tmp_path_factory.mktemp("reg")) as r:
        yield r


# --- images made here ----------------------------------------------------------------------

def busybox_dir(path, extra=None):
    os.makedirs(path / "bin")
    os.makedirs(path / "etc")
    os.makedirs(path / "tmp", mode=0o1777)
    shutil.copy2("/bin/busybox", path / "bin" / "busybox")
    for applet in ("sh", "ls", "cat", "echo"):
        os.symlink("busybox", path / "bin" / applet)
    (path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    for name, data in (extra or {}).items():
        (path / name).write_bytes(data)
    return path


def make_image(cfg, tmp_path, tag, extra=None):
    src = busybox_dir(tmp_path / f"src-{tag.replace('/', '_').replace(':', '_')}", extra)
    return layerstore.init(cfg, str(src), tag)


def commit_like(cfg, parent_id, tag, add=None, remove=()):
    """What `commit` does: a snapshot of the parent, changed, registered with parent=..."""
    work = cfg.path("images", f".work-{tag.replace('/', '_').replace(':', '_')}")
    store.snapshot(images.rootfs(cfg, parent_id), work)
    for name, data in (add or {}).items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(data)
    for name in remove:
        os.unlink(os.path.join(work, name))
    conf = images.new_config(parent=images.config(cfg, parent_id), created_by="test commit")
    return images.register(cfg, work, conf, tag=tag, parent=parent_id, move=True)


def tree(path):
    out = {}
    for root, dirs, files in os.walk(path):
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            st = os.lstat(p)
            item = (st.st_mode, st.st_uid, st.st_gid)
            if os.path.islink(p):
                item += (os.readlink(p),)
            elif os.path.isfile(p):
                item += (hashlib.sha256(open(p, "rb").read()).hexdigest(),)
            out[os.path.relpath(p, path)] = item
    return out


def store_state(cfg):
    return sorted(os.listdir(cfg.path("images"))), \
        sorted(n for n in os.listdir(cfg.path("layers")) if n not in (".tmp", ".lock")), \
        images.repositories(cfg)


Q = dict(quiet=True)


# --- references, platforms, credentials (no network) ---------------------------------------

def test_reference_parsing():
    r = reg.Reference.parse("alpine")
    assert (r.registry, r.repository, r.tag, r.name) == ("docker.io", "library/alpine", "latest", "alpine")
    r = reg.Reference.parse("localhost:5000/team/app:1.2")
    assert (r.registry, r.repository, r.tag) == ("localhost:5000", "team/app", "1.2")
    d = "sha256:" + "a" * 64
    r = reg.Reference.parse(f"busybox@{d}")
    assert (r.repository, r.tag, r.digest, r.reference) == ("library/busybox", None, d, d)
    assert reg.Reference.parse("user/app:v1").repository == "user/app"
    assert reg.Reference.parse("alpine:3.20").full == "docker.io/library/alpine:3.20"
    for bad in ("UPPER", "a@sha256:123", "x:5000/y:bad tag"):
        with pytest.raises(reg.RegistryError):
            reg.Reference.parse(bad)


def test_choose_platform():
    idx = {"manifests": [
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:arm7", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        {"digest": "sha256:arm64", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}}]}
    assert reg.choose_platform(idx, "linux/amd64")["digest"] == "sha256:amd"
    assert reg.choose_platform(idx, "linux/arm64")["digest"] == "sha256:arm64"
    assert reg.choose_platform(idx, "linux/arm/v7")["digest"] == "sha256:arm7"
    with pytest.raises(reg.RegistryError, match="linux/amd64, linux/arm/v7, linux/arm64/v8"):
        reg.choose_platform(idx, "linux/s390x")


def test_credentials_file(tmp_path):
    path = str(tmp_path / "auth.json")
    reg.save_credentials(path, "localhost:5000", "me", "s3cret:with:colons")
    reg.save_credentials(path, "docker.io", "hubuser", "pw")
    assert os.stat(path).st_mode & 0o777 == 0o600
    data = json.load(open(path))
    assert base64.b64decode(data["auths"]["localhost:5000"]["auth"]) == b"me:s3cret:with:colons"
    assert "https://index.docker.io/v1/" in data["auths"]
    assert reg.credentials(path, "localhost:5000") == ("me", "s3cret:with:colons")
    assert reg.credentials(path, "docker.io") == ("hubuser", "pw")
    assert reg.remove_credentials(path, "localhost:5000")
    assert reg.credentials(path, "localhost:5000") is None


# --- push and pull -------------------------------------------------------------------------

def test_push_pull_round_trip(cfg, cfg2, registry, tmp_path):
    host, _ = registry
    make_image(cfg, tmp_path, f"{host}/test/bb:1", {"etc/hello": b"hi\n"})
    digest = transfer.push(cfg, f"{host}/test/bb:1", **Q)
    pushed_id = images.resolve(cfg, f"{host}/test/bb:1")       # the tag moved to the layered image
    assert images.config(cfg, pushed_id)["rootfs"]["diff_ids"]
    got = transfer.pull(cfg2, f"{host}/test/bb:1", **Q)
    assert got == pushed_id
    assert tree(images.rootfs(cfg2, got)) == tree(images.rootfs(cfg, pushed_id))
    assert (images.meta(cfg2, got).get("repo_digests") or [None])[0] == f"{host}/test/bb@{digest}"
    # every layer is a read-only subvolume; the image is a snapshot of the top one
    chains = layerstore.chain_ids(images.config(cfg2, got)["rootfs"]["diff_ids"])
    for c in chains:
        assert store.is_subvolume(layerstore.layer_dir(cfg2, c))
        import btrfsutil
        assert btrfsutil.get_subvolume_read_only(layerstore.layer_dir(cfg2, c))
    # pulling again: nothing new
    out = io.StringIO()
    transfer.pull(cfg2, f"{host}/test/bb:1", progress=transfer.Progress(out=out))
    assert "Image is up to date" in out.getvalue()
    # pushing again: every blob is there already, same digest
    out = io.StringIO()
    assert transfer.push(cfg, f"{host}/test/bb:1", progress=transfer.Progress(out=out)) == digest
    assert "Layer already exists" in out.getvalue() and "Pushed" not in out.getvalue()


def test_pull_by_digest_and_skopeo_reads_it(cfg, cfg2, registry, tmp_path):
    host, _ = registry
    make_image(cfg, tmp_path, f"{host}/test/dig:1")
    digest = transfer.push(cfg, f"{host}/test/dig:1", **Q)
    iid = transfer.pull(cfg2, f"{host}/test/dig@{digest}", **Q)
    assert iid == images.resolve(cfg, f"{host}/test/dig:1")
    assert f"{host}/test/dig:1" not in images.repositories(cfg2)          # by digest: no tag
    if shutil.which("skopeo"):
        out = tmp_path / "sk"
        subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{host}/test/dig:1",
                        f"oci:{out}:x"], check=True)
        idx = json.load(open(out / "index.json"))
        man = json.load(open(out / "blobs" / "sha256" / idx["manifests"][0]["digest"][7:]))
        assert man["config"]["digest"] == "sha256:" + iid


def test_oci_manifest_zstd_and_chunked(cfg, cfg2, registry, tmp_path):
    host, _ = registry
    make_image(cfg, tmp_path, f"{host}/test/oci:1", {"etc/big": os.urandom(3 << 20)})
    transfer.push(cfg, f"{host}/test/oci:1", oci=True, compression="zstd", chunk_size=1 << 20, **Q)
    c = reg.Client(host, insecure=True)
    body, media, _ = c.get_manifest("test/oci", "1")
    assert media == reg.OCI_MANIFEST
    assert json.loads(body)["layers"][0]["mediaType"] == reg.OCI_LAYER_ZSTD
    iid = transfer.pull(cfg2, f"{host}/test/oci:1", **Q)
    assert tree(images.rootfs(cfg2, iid)) == tree(images.rootfs(cfg, iid))
    # gzip, OCI
    images.add_tag(cfg, iid, f"{host}/test/oci:gz")
    transfer.push(cfg, f"{host}/test/oci:gz", oci=True, **Q)
    body, media, _ = c.get_manifest("test/oci", "gz")
    assert json.loads(body)["layers"][0]["mediaType"] == reg.OCI_LAYER_GZIP


def test_layer_sharing_and_mount(cfg, cfg2, registry, tmp_path):
    host, _ = registry
    base = make_image(cfg, tmp_path, f"{host}/share/base:1")
    child = commit_like(cfg, base, f"{host}/share/child:1", add={"etc/added": b"new"}, remove=["bin/cat"])
    transfer.push(cfg, f"{host}/share/base:1", **Q)
    out = io.StringIO()
    transfer.push(cfg, f"{host}/share/child:1", progress=transfer.Progress(out=out))
    assert "Mounted from share/base" in out.getvalue(), out.getvalue()
    child_id = images.resolve(cfg, f"{host}/share/child:1")
    assert child_id != child and len(images.config(cfg, child_id)["rootfs"]["diff_ids"]) == 2
    # the second layer is a diff: the new file and a whiteout, not the whole tree
    meta = layerstore.layer_meta(cfg, layerstore.chain_ids(images.config(cfg, child_id)["rootfs"]["diff_ids"])[1])
    assert meta["size"] < 20_000
    transfer.pull(cfg2, f"{host}/share/base:1", **Q)
    out = io.StringIO()
    got = transfer.pull(cfg2, f"{host}/share/child:1", progress=transfer.Progress(out=out))
    assert got == child_id
    assert out.getvalue().count("Already exists") == 1 and out.getvalue().count("Pull complete") == 1
    root = images.rootfs(cfg2, got)
    assert open(os.path.join(root, "etc/added"), "rb").read() == b"new"
    assert not os.path.lexists(os.path.join(root, "bin/cat")) and os.path.lexists(os.path.join(root, "bin/ls"))
    # blocks are shared: the child's layer is a snapshot of the base layer (same btrfs parent)
    import btrfsutil
    chains = layerstore.chain_ids(images.config(cfg2, got)["rootfs"]["diff_ids"])
    info0 = btrfsutil.subvolume_info(layerstore.layer_dir(cfg2, chains[0]))
    info1 = btrfsutil.subvolume_info(layerstore.layer_dir(cfg2, chains[1]))
    assert info1.parent_uuid == info0.uuid


def test_index_with_two_platforms(cfg, cfg2, registry, tmp_path):
    host, _ = registry
    c = reg.Client(host, insecure=True)
    make_image(cfg, tmp_path, f"{host}/multi/app:amd64")
    transfer.push(cfg, f"{host}/multi/app:amd64", **Q)
    amd_id = images.resolve(cfg, f"{host}/multi/app:amd64")
    body_amd, _, d_amd = c.get_manifest("multi/app", "amd64")
    # the same layers with an arm64 config
    conf = json.loads(open(images.rootfs(cfg, amd_id) + ".json", "rb").read())
    conf["architecture"] = "arm64"
    raw = imageconfig.config_bytes_of(conf)
    arm_digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    c.upload_blob("multi/app", arm_digest, data=raw)
    man = json.loads(body_amd)
    man["config"] = {"mediaType": reg.DOCKER_CONFIG, "size": len(raw), "digest": arm_digest}
    body_arm = json.dumps(man).encode()
    d_arm = c.put_manifest("multi/app", "arm64", body_arm, reg.DOCKER_MANIFEST)
    index = {"schemaVersion": 2, "mediaType": reg.OCI_INDEX, "manifests": [
        {"mediaType": reg.DOCKER_MANIFEST, "digest": d_arm, "size": len(body_arm),
         "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": reg.DOCKER_MANIFEST, "digest": d_amd, "size": len(body_amd),
         "platform": {"os": "linux", "architecture": "amd64"}}]}
    c.put_manifest("multi/app", "latest", json.dumps(index).encode(), reg.OCI_INDEX)
    assert transfer.pull(cfg2, f"{host}/multi/app", platform="linux/amd64", **Q) == amd_id
    assert transfer.pull(cfg2, f"{host}/multi/app", platform="linux/arm64", **Q) == arm_digest[7:]
    with pytest.raises(reg.RegistryError, match="no image for platform linux/s390x"):
        transfer.pull(cfg2, f"{host}/multi/app", platform="linux/s390x", **Q)


def test_corrupted_blob_refused_store_unchanged(cfg, cfg2, registry, tmp_path):
    host, data = registry
    make_image(cfg, tmp_path, f"{host}/bad/blob:1", {"etc/x": os.urandom(100_000)})
    transfer.push(cfg, f"{host}/bad/blob:1", **Q)
    iid = images.resolve(cfg, f"{host}/bad/blob:1")
    c = reg.Client(host, insecure=True)
    man = json.loads(c.get_manifest("bad/blob", "1")[0])
    ld = man["layers"][0]["digest"][7:]
    blob = data / "docker/registry/v2/blobs/sha256" / ld[:2] / ld / "data"
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    blob.write_bytes(bytes(raw))
    before = store_state(cfg2)
    with pytest.raises(reg.RegistryError, match="digest mismatch"):
        transfer.pull(cfg2, f"{host}/bad/blob:1", **Q)
    assert store_state(cfg2) == before
    assert not os.listdir(cfg2.path("layers", ".tmp"))
    assert iid


def test_hostile_layer_refused_store_unchanged(cfg, registry):
    """A registry serving a layer that tries to escape: refused, half-applied layer removed."""
    host, _ = registry
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("etc")
        ti.type = tarfile.DIRTYPE
        tf.addfile(ti)
        ti = tarfile.TarInfo("evil")
        ti.type, ti.linkname = tarfile.SYMTYPE, "../../../../../../tmp"
        tf.addfile(ti)
        ti = tarfile.TarInfo("evil/bocker-escaped")
        ti.size = 4
        tf.addfile(ti, io.BytesIO(b"pwnd"))
    tar = buf.getvalue()
    c = reg.Client(host, insecure=True)
    ld = "sha256:" + hashlib.sha256(tar).hexdigest()
    c.upload_blob("evil/img", ld, data=tar)
    conf = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                       "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
    cd = "sha256:" + hashlib.sha256(conf).hexdigest()
    c.upload_blob("evil/img", cd, data=conf)
    man = {"schemaVersion": 2, "mediaType": reg.OCI_MANIFEST,
           "config": {"mediaType": reg.OCI_CONFIG, "digest": cd, "size": len(conf)},
           "layers": [{"mediaType": reg.OCI_LAYER, "digest": ld, "size": len(tar)}]}
    c.put_manifest("evil/img", "1", json.dumps(man).encode(), reg.OCI_MANIFEST)
    before = store_state(cfg)
    with pytest.raises(layers.LayerError, match="outside the rootfs"):
        transfer.pull(cfg, f"{host}/evil/img:1", **Q)
    assert store_state(cfg) == before
    assert not os.path.exists("/tmp/bocker-escaped")
    assert not [n for n in os.listdir(cfg.path("layers")) if n.startswith(".work")]


def test_resumed_download(registry, tmp_path, cfg):
    host, _ = registry
    c = reg.Client(host, insecure=True)
    data = os.urandom(2_500_000)
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    c.upload_blob("resume/x", d, data=data, chunk_size=1 << 20)
    path = str(tmp_path / "blob")
    with open(path + ".part", "wb") as f:
        f.write(data[:1_000_000])
    seen = []
    c.fetch_blob("resume/x", d, path, size=len(data), progress=lambda done, total: seen.append(done))
    assert open(path, "rb").read() == data
    assert seen[0] > 1_000_000          # it went on from where the partial file stopped
    # a partial file with wrong bytes: the final check refuses it
    with open(path + "2.part", "wb") as f:
        f.write(b"\0" * 1_000_000)
    with pytest.raises(reg.RegistryError, match="digest mismatch"):
        c.fetch_blob("resume/x", d, path + "2", size=len(data))
    assert c.blob_exists("resume/x", d) == len(data)
    assert c.blob_exists("resume/x", "sha256:" + "0" * 64) is None


def test_not_found_and_schema1(tmp_path, cfg):
    """A fake registry that only speaks schema 1."""
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/v2/":
                body, ctype = b"{}", "application/json"
            elif self.path == "/v2/old/img/manifests/latest":
                body = json.dumps({"schemaVersion": 1, "name": "old/img", "fsLayers": []}).encode()
                ctype = reg.SCHEMA1[1]
            else:
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    with serve(H) as port:
        with pytest.raises(reg.RegistryError, match="schema 1"):
            transfer.pull(cfg, f"127.0.0.1:{port}/old/img", insecure=True, **Q)
        with pytest.raises(reg.NotFound, match="MANIFEST_UNKNOWN"):
            transfer.pull(cfg, f"127.0.0.1:{port}/no/such:1", insecure=True, **Q)


@contextlib.contextmanager
def serve(handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


# --- auth ----------------------------------------------------------------------------------

def test_basic_auth(cfg, cfg2, tmp_path):
    if not shutil.which("htpasswd"):
        pytest.skip("htpasswd (apache2-utils) not installed")
    pw = tmp_path / "htpasswd"
    subprocess.run(["htpasswd", "-Bbc", str(pw), "alice", "wonderland"], check=True, capture_output=True)
    with run_registry(tmp_path, auth={"htpasswd": {"realm": "test", "path": str(pw)}}) as (host, _):
        make_image(cfg, tmp_path, f"{host}/priv/app:1")
        with pytest.raises(reg.AuthError, match="authentication required: run `bocker login"):
            transfer.push(cfg, f"{host}/priv/app:1", **Q)
        with pytest.raises(reg.AuthError, match="authentication failed"):
            reg.Client(host, creds=("alice", "wrong")).login_check()
        reg.Client(host, creds=("alice", "wonderland")).login_check()
        reg.save_credentials(cfg.path("auth.json"), host, "alice", "wonderland")
        digest = transfer.push(cfg, f"{host}/priv/app:1", **Q)
        with pytest.raises(reg.AuthError):
            transfer.pull(cfg2, f"{host}/priv/app:1", **Q)
        reg.save_credentials(cfg2.path("auth.json"), host, "alice", "wonderland")
        assert transfer.pull(cfg2, f"{host}/priv/app@{digest}", **Q) == images.resolve(cfg, f"{host}/priv/app:1")


class TokenServer:
    """Docker Hub's token flow, locally: anonymous pull, push for alice (JWTs the registry trusts)."""

    def __init__(self, tmp):
        jwt = pytest.importorskip("jwt")
        self.jwt = jwt
        self.key, self.cert = tmp / "token.key", tmp / "token.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "1", "-subj", "/CN=bocker-test-token"],
                       check=True, capture_output=True)
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
        self.x5c = base64.b64encode(x509.load_pem_x509_certificate(self.cert.read_bytes())
                                    .public_bytes(Encoding.DER)).decode()
        self.requests = []

    def handler(self):
        ts = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                q = parse_qs(urlparse(self.path).query)
                user = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if (u, p) != ("alice", "wonderland"):
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = u
                ts.requests.append((user, q.get("scope", [])))
                access = []
                for scope in q.get("scope", []):
                    typ, name, actions = scope.split(":")
                    allowed = [a for a in actions.split(",") if a == "pull" or (user and a in ("push", "*"))]
                    access.append({"type": typ, "name": name, "actions": allowed})
                now = int(time.time())
                token = ts.jwt.encode({"iss": "bocker-test", "sub": user or "", "aud": "bocker-registry",
                                       "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(now),
                                       "access": access}, ts.key.read_text(), algorithm="RS256",
                                      headers={"x5c": [ts.x5c]})
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        return H


def test_bearer_token_flow(cfg, cfg2, tmp_path):
    ts = TokenServer(tmp_path)
    with serve(ts.handler()) as tport:
        auth = {"token": {"realm": f"http://127.0.0.1:{tport}/token", "service": "bocker-registry",
                          "issuer": "bocker-test", "rootcertbundle": str(ts.cert)}}
        with run_registry(tmp_path, auth=auth) as (host, _):
            make_image(cfg, tmp_path, f"{host}/hub/app:1")
            with pytest.raises(reg.AuthError):
                transfer.push(cfg, f"{host}/hub/app:1", **Q)            # anonymous: pull only
            with pytest.raises(reg.AuthError, match="authentication failed"):
                reg.Client(host, creds=("alice", "bad")).login_check()
            reg.save_credentials(cfg.path("auth.json"), host, "alice", "wonderland")
            transfer.push(cfg, f"{host}/hub/app:1", **Q)
            assert any(u == "alice" and any("push" in s for s in scopes) for u, scopes in ts.requests)
            # anonymous pull through the token server, as from Docker Hub
            iid = transfer.pull(cfg2, f"{host}/hub/app:1", **Q)
            assert iid == images.resolve(cfg, f"{host}/hub/app:1")
            assert (None, ["repository:hub/app:pull"]) in ts.requests


# --- save / load / import / export ---------------------------------------------------------

def test_save_load_docker_archive(cfg, cfg2, tmp_path):
    make_image(cfg, tmp_path, "app:1", {"etc/a": b"a"})
    out = str(tmp_path / "app.tar")
    archive.save(cfg, ["app:1"], out)
    iid = images.resolve(cfg, "app:1")
    names = tarfile.open(out).getnames()
    assert "manifest.json" in names and f"{iid}.json" in names
    assert archive.load(cfg2, out, quiet=True) == ["Loaded image: app:1"]
    assert images.resolve(cfg2, "app:1") == iid
    assert tree(images.rootfs(cfg2, iid)) == tree(images.rootfs(cfg, iid))
    assert images.config(cfg2, iid)["history"] == images.config(cfg, iid)["history"]


@pytest.mark.skipif(not shutil.which("skopeo"), reason="skopeo not installed")
def test_skopeo_round_trips(cfg, cfg2, tmp_path):
    base = make_image(cfg, tmp_path, "rt/base:1")
    commit_like(cfg, base, "rt/app:2", add={"etc/x": b"x"})
    d1 = str(tmp_path / "a.tar")
    archive.save(cfg, ["rt/app:2"], d1)
    iid = images.resolve(cfg, "rt/app:2")
    # docker-archive -> skopeo -> OCI layout dir -> bocker load
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{d1}", f"oci:{tmp_path}/oci:rt/app:2"], check=True)
    assert archive.load(cfg2, str(tmp_path / "oci"), quiet=True) == ["Loaded image: rt/app:2"]
    assert images.resolve(cfg2, "rt/app:2") == iid
    assert tree(images.rootfs(cfg2, iid)) == tree(images.rootfs(cfg, iid))
    # bocker oci-archive -> skopeo -> docker-archive -> bocker load (another store)
    o = str(tmp_path / "o.tar")
    archive.save(cfg, ["rt/app:2"], o, fmt="oci-archive")
    d2 = str(tmp_path / "d2.tar")
    subprocess.run(["skopeo", "copy", "-q", f"oci-archive:{o}", f"docker-archive:{d2}:rt/copy:3"], check=True)
    cfg3 = new_store(os.path.dirname(cfg.root) and __import__("pathlib").Path(os.path.dirname(cfg.root)))
    assert archive.load(cfg3, d2, quiet=True) == ["Loaded image: rt/copy:3"]
    assert images.resolve(cfg3, "rt/copy:3") == iid
    assert images.config(cfg3, iid)["history"] == images.config(cfg, iid)["history"]
    # bocker oci-dir is read by skopeo
    od = str(tmp_path / "od")
    archive.save(cfg, ["rt/app:2"], od, fmt="oci-dir")
    r = subprocess.run(["skopeo", "inspect", f"oci:{od}:rt/app:2"], check=True, capture_output=True, text=True)
    assert len(json.loads(r.stdout)["Layers"]) == 2


def test_load_refuses_tampered_oci_blob(cfg, cfg2, tmp_path):
    make_image(cfg, tmp_path, "tamper:1", {"etc/data": os.urandom(50_000)})
    od = tmp_path / "od"
    archive.save(cfg, ["tamper:1"], str(od), fmt="oci-dir", compression=None)
    idx = json.load(open(od / "index.json"))
    man = json.load(open(od / "blobs/sha256" / idx["manifests"][0]["digest"][7:]))
    layer = od / "blobs/sha256" / man["layers"][0]["digest"][7:]
    raw = bytearray(layer.read_bytes())
    raw[5000] ^= 1
    layer.write_bytes(bytes(raw))
    before = store_state(cfg2)
    with pytest.raises(BockerError, match="mismatch"):
        archive.load(cfg2, str(od), quiet=True)
    assert store_state(cfg2) == before


def test_import_export(cfg, tmp_path):
    src = busybox_dir(tmp_path / "src")
    t = tmp_path / "root.tar.gz"
    import gzip
    with gzip.open(t, "wb") as f:
        layers.tar_tree(str(src), f)
    iid = archive.import_tar(cfg, str(t), "imported:1", changes=["CMD [\"ls\"]"])
    assert images.config(cfg, iid)["config"]["Cmd"] == ["ls"]
    assert tree(images.rootfs(cfg, iid)) == tree(src)
    out = tmp_path / "exported.tar"
    archive.export(cfg, images.rootfs(cfg, iid), str(out))
    assert "bin/busybox" in tarfile.open(out).getnames()
    rows = layerstore.history(cfg, "imported:1")
    assert rows[0]["Id"] == "sha256:" + iid and rows[0]["Size"] > 0
    # a hostile tarball is refused and leaves nothing behind
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tf:
        ti = tarfile.TarInfo("../../escape")
        tf.addfile(ti, io.BytesIO(b""))
    before = store_state(cfg)
    with pytest.raises(layers.LayerError):
        archive.import_tar(cfg, str(bad), "bad:1")
    assert store_state(cfg) == before


# --- the verbs, end to end -----------------------------------------------------------------

DRIVER = ("import sys; sys.path.insert(0, sys.argv[1]); "
          "from bocker.cli import main; sys.exit(main(sys.argv[2:]))")


def bocker(cfg, *args, input=None):
    return subprocess.run([sys.executable, "-c", DRIVER, os.path.join(ROOT, "lib"), "--root", cfg.root, *args],
                          input=input, capture_output=True, text=True)


def test_cli_verbs(cfg, cfg2, registry, tmp_path):
    host, _ = registry
    make_image(cfg, tmp_path, "cli:1")
    r = bocker(cfg, "tag", "cli:1", f"{host}/cli/app:1")
    assert r.returncode == 0, r.stderr
    r = bocker(cfg, "push", f"{host}/cli/app:1")
    assert r.returncode == 0 and "digest: sha256:" in r.stdout, r.stderr
    r = bocker(cfg2, "pull", f"{host}/cli/app:1")
    assert r.returncode == 0 and "Downloaded newer image" in r.stdout, r.stderr
    assert r.stdout.strip().endswith(f"{host}/cli/app:1")
    r = bocker(cfg2, "history", f"{host}/cli/app:1")
    assert r.returncode == 0 and r.stdout.split("\n")[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE",
                                                                     "COMMENT"]
    r = bocker(cfg2, "search", "--registry", host, "cli")
    assert r.returncode == 0 and f"{host}/cli/app" in r.stdout, r.stderr
    r = bocker(cfg2, "save", "-o", str(tmp_path / "s.tar"), f"{host}/cli/app:1")
    assert r.returncode == 0, r.stderr
    r = bocker(cfg2, "pull", f"{host}/cli/nope:1")
    assert r.returncode == 1 and "manifest unknown" in r.stderr.lower()
    r = bocker(cfg2, "login", "-u", "x", "--password-stdin", host, input="pw\n")
    assert r.returncode == 0 and "Login Succeeded" in r.stdout, r.stderr      # no auth on this registry
    assert os.stat(cfg2.path("auth.json")).st_mode & 0o777 == 0o600
    r = bocker(cfg2, "logout", host)
    assert r.returncode == 0 and "Removing login credentials" in r.stdout

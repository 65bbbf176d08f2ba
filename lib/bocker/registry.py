"""Registry HTTP API v2 client: references, auth (Bearer token flow, Basic), manifests, blobs, push.

Docker Hub and any v2 registry. Manifests: OCI image manifest + index, Docker schema2 manifest +
manifest list (schema1 is refused). Blobs stream to disk with their sha256 checked, resume with
Range after a cut, and retry on transient errors. Credentials live in $BOCKER_ROOT/auth.json
(mode 0600), in docker's config.json format: {"auths": {"host:port": {"auth": base64(user:pass)}}}.

`requests` is imported when a client is made, not when bocker starts.
"""
import base64
import hashlib
import json
import os
import re
import time

from . import BockerError, shell

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
           "application/vnd.docker.distribution.manifest.v1+prettyjws")
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join(MANIFESTS + INDEXES)
CHUNK = 1 << 20

# docker's reference grammar: [host[:port]/]component[/component...][:tag][@digest]
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
REPOSITORY_RE = rf"{_COMPONENT}(?:/{_COMPONENT})*"
TAG_RE = r"[\w][\w.-]{0,127}"
REF_RE = rf"(?:{_HOST}(?:\.{_HOST})*(?::[0-9]+)?/)?{REPOSITORY_RE}(?::{TAG_RE})?"


class RegistryError(BockerError):
    pass


class AuthError(RegistryError):
    pass


class NotFound(RegistryError):
    pass


# --- references ---------------------------------------------------------------------------

class Reference:
    """[registry/]repository[:tag][@digest], with docker's defaults (docker.io, library/, latest)."""

    def __init__(self, registry, repository, tag=None, digest=None):
        self.registry, self.repository, self.tag, self.digest = registry, repository, tag, digest

    @classmethod
    def parse(cls, text):
        ref = text.strip()
        digest = None
        if "@" in ref:
            ref, digest = ref.split("@", 1)
            if not re.fullmatch(_DIGEST_RE, digest):
                raise RegistryError(f"invalid digest in reference '{text}' (want sha256:<64 hex>)")
        first, _, rest = ref.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = DOCKER_HUB, ref
        if registry in ("index.docker.io", "registry-1.docker.io"):
            registry = DOCKER_HUB
        tag = None
        name, sep, maybe_tag = path.rpartition(":")
        if sep and "/" not in maybe_tag:
            path, tag = name, maybe_tag
        if registry == DOCKER_HUB and "/" not in path:
            path = "library/" + path
        if len(path) > 255:
            raise RegistryError("invalid reference format: repository name must not be more than 255 characters")
        if not re.fullmatch(REPOSITORY_RE, path):
            raise RegistryError(f"invalid reference format: '{text}' (repository names are lowercase)")
        if tag is not None and not re.fullmatch(TAG_RE, tag):
            raise RegistryError(f"invalid tag in reference '{text}'")
        if tag is None and digest is None:
            tag = "latest"
        return cls(registry, path, tag, digest)

    @property
    def reference(self):
        """What goes after /manifests/: the digest if any, else the tag."""
        return self.digest or self.tag

    @property
    def name(self):
        """The local name, as docker shows it (docker.io/library/ dropped)."""
        if self.registry == DOCKER_HUB:
            repo = self.repository[len("library/"):] if self.repository.startswith("library/") else self.repository
            return repo
        return f"{self.registry}/{self.repository}"

    @property
    def full(self):
        """docker.io/library/alpine:3.20, as docker prints it after a pull."""
        s = f"{self.registry}/{self.repository}"
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def __str__(self):
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s


def default_platform():
    machine = os.uname().machine
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(machine, machine)
    return f"linux/{arch}"


def parse_platform(text):
    parts = (text or default_platform()).split("/")
    if len(parts) < 2 or len(parts) > 3:
        raise RegistryError(f"invalid platform '{text}' (want os/arch[/variant], e.g. linux/amd64)")
    return {"os": parts[0], "architecture": parts[1], "variant": parts[2] if len(parts) == 3 else None}


def choose_platform(index, platform):
    """The manifest descriptor for `platform` from an OCI index / Docker manifest list."""
    want = parse_platform(platform) if isinstance(platform, (str, type(None))) else platform
    candidates = []
    seen = []
    for d in index.get("manifests", []):
        p = d.get("platform") or {}
        if p.get("os") in (None, "unknown"):
            continue     # attestations and the like
        seen.append("/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x))
        if p.get("os") == want["os"] and p.get("architecture") == want["architecture"]:
            if want["variant"] and p.get("variant") not in (want["variant"], None):
                continue
            candidates.append(d)
    if not candidates:
        plat = "/".join(x for x in (want["os"], want["architecture"], want["variant"]) if x)
        raise RegistryError(f"no image for platform {plat} in the index (it has: {', '.join(seen) or 'none'}); "
                            f"choose one with --platform")
    # an exact variant first (arm64/v8), then one without
    candidates.sort(key=lambda d: (d.get("platform", {}).get("variant") != want["variant"]))
    return candidates[0]


# --- credentials (docker config.json format) -----------------------------------------------

def _auth_key(registry):
    return DOCKER_HUB_AUTH_KEY if registry == DOCKER_HUB else registry


def load_auths(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"auths": {}}
    except ValueError:
        raise RegistryError(f"{path}: not valid JSON")


def credentials(path, registry):
    """(user, password) stored for `registry`, or None; $BOCKER_AUTH_FILE/REGISTRY_AUTH_FILE too."""
    if not path:
        return None
    auths = load_auths(path).get("auths", {})
    key = _auth_key(registry)
    entry = auths.get(key) or auths.get(f"https://{key}") or auths.get(f"http://{key}")
    if registry == DOCKER_HUB and not entry:
        entry = auths.get("docker.io") or auths.get("registry-1.docker.io")
    if not entry:
        return None
    if entry.get("auth"):
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        return user, password
    if entry.get("username"):
        return entry["username"], entry.get("password", "")
    return None


def save_credentials(path, registry, user, password):
    data = load_auths(path)
    data.setdefault("auths", {})[_auth_key(registry)] = {
        "auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    text = json.dumps(data, indent=2) + "\n"
    shell.do(f"# write {path} (mode 0600)", _write_private, path, text)


def remove_credentials(path, registry):
    data = load_auths(path)
    key = _auth_key(registry)
    if key not in data.get("auths", {}):
        return False
    del data["auths"][key]
    shell.do(f"# write {path} (mode 0600)", _write_private, path, json.dumps(data, indent=2) + "\n")
    return True


def _write_private(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(text)
    os.replace(tmp, path)


# --- the client ---------------------------------------------------------------------------

def insecure_hosts():
    return [h.strip() for h in os.environ.get("BOCKER_INSECURE_REGISTRIES", "").split(",") if h.strip()]


def _parse_challenge(header):
    """'Bearer realm="x",service="y",scope="z"' -> ("bearer", {realm: x, ...})."""
    scheme, _, rest = (header or "").strip().partition(" ")
    params = dict((k.lower(), v) for k, v in re.findall(r'(\w+)="([^"]*)"', rest))
    for k, v in re.findall(r'(\w+)=([^",\s]+)', rest):
        params.setdefault(k.lower(), v)
    return scheme.lower(), params


_DIGEST_RE = r"sha256:[0-9a-f]{64}"


def digest_hex(digest):
    """The hex of a sha256 digest (with or without "sha256:"); anything else is refused:
    digests become file names."""
    if not re.fullmatch(_DIGEST_RE, digest if ":" in digest else "sha256:" + digest):
        raise BockerError(f"invalid digest: {digest[:80]!r}")
    return digest.split(":", 1)[-1]


def sha256_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class Client:
    """One registry. Tokens are cached per scope; every request is retried on transient errors."""

    def __init__(self, registry, auth_file=None, insecure=False, retries=3, timeout=60, creds=None):
        import requests
        self.requests = requests
        self.registry = registry
        self.auth_file = auth_file
        self.creds = creds if creds is not None else credentials(auth_file, registry)
        host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        self.insecure = insecure or registry in insecure_hosts()
        self.loopback = re.match(r"^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$", host) is not None
        self.scheme = "http" if self.insecure else "https"
        self.host = host
        self.retries, self.timeout = retries, timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "bocker/0.1 (+python-requests)"
        self.tokens = {}          # scope string -> bearer token
        self.basic = None         # True once the registry asked for Basic auth

    # plumbing ------------------------------------------------------------------------------

    def url(self, path):
        return f"{self.scheme}://{self.host}{path}"

    def _abs(self, location):
        if location.startswith("http://") or location.startswith("https://"):
            return location
        return self.url(location if location.startswith("/") else "/" + location)

    def _auth_header(self, scope):
        if self.basic and self.creds:
            token = base64.b64encode(f"{self.creds[0]}:{self.creds[1]}".encode()).decode()
            return {"Authorization": "Basic " + token}
        token = self.tokens.get(scope)
        return {"Authorization": "Bearer " + token} if token else {}

    def _get_token(self, params, scope):
        realm = params.get("realm")
        if not realm:
            raise AuthError(f"{self.registry}: Bearer challenge without a realm")
        query = {"service": params["service"]} if params.get("service") else {}
        scopes = scope.split(" ") if scope else ([params["scope"]] if params.get("scope") else [])
        auth = tuple(self.creds) if self.creds else None
        shell.comment(f"GET {realm} (token for {scope or 'the registry'})")
        try:
            r = self.session.get(realm, params=[*query.items(), *(("scope", s) for s in scopes)],
                                 auth=auth, timeout=self.timeout)
        except self.requests.RequestException as e:
            raise RegistryError(f"{self.registry}: token server {realm} unreachable: {e}")
        if r.status_code in (401, 403):
            who = f"as {self.creds[0]}" if self.creds else "anonymously"
            raise AuthError(f"{self.registry}: authentication failed {who} (token server said "
                            f"{r.status_code}){'' if self.creds else ': run `bocker login`'}")
        if r.status_code != 200:
            raise AuthError(f"{self.registry}: token server {realm} answered {r.status_code}")
        try:
            body = r.json()
        except ValueError:
            raise AuthError(f"{self.registry}: token server answered something that is not JSON")
        token = body.get("token") or body.get("access_token")
        if not token:
            raise AuthError(f"{self.registry}: token server gave no token")
        self.tokens[scope] = token
        return token

    def _authenticate(self, response, scope):
        """Answer a 401 challenge; False when there is nothing more to try."""
        scheme, params = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "bearer":
            self._get_token(params, scope)
            return True
        if scheme == "basic":
            if not self.creds:
                raise AuthError(f"{self.registry}: authentication required: run `bocker login {self.registry}`")
            if self.basic:
                return False
            self.basic = True
            return True
        return False

    def request(self, method, path, scope="", ok=(200,), stream=False, headers=None, data=None,
                allow_redirects=True, retry=True, expect_auth=True):
        """One request with auth and retries; returns the response (status in `ok`) or raises."""
        url = path if path.startswith("http") else self.url(path)
        tries = self.retries if retry else 1
        authed = False
        delay = 0.5
        for attempt in range(tries + 3):
            h = dict(headers or {})
            h.update(self._auth_header(scope))
            body = data() if callable(data) else data
            shell.comment(f"{method} {url}")
            try:
                r = self.session.request(method, url, headers=h, data=body, stream=stream, timeout=self.timeout,
                                         allow_redirects=allow_redirects)
            except self.requests.exceptions.SSLError as e:
                if self.loopback and self.scheme == "https":
                    self.scheme = "http"          # docker's rule: loopback registries may be plain HTTP
                    url = url.replace("https://", "http://", 1)
                    continue
                raise RegistryError(f"{self.registry}: TLS error ({e}); for a plain-HTTP registry use "
                                    f"--insecure or BOCKER_INSECURE_REGISTRIES={self.registry}")
            except (self.requests.ConnectionError, self.requests.Timeout) as e:
                if self.loopback and self.scheme == "https" and "SSL" in str(e):
                    self.scheme = "http"
                    url = url.replace("https://", "http://", 1)
                    continue
                if attempt + 1 >= tries:
                    raise RegistryError(f"{self.registry}: cannot connect ({type(e).__name__}: {_short(e)})")
                time.sleep(delay)
                delay *= 2
                continue
            if r.status_code in ok:
                return r
            if r.status_code == 401 and expect_auth and not authed:
                r.close()
                authed = True
                if self._authenticate(r, scope):
                    continue
                raise self._auth_failure(r)
            if r.status_code == 401:
                r.close()
                raise self._auth_failure(r)
            if r.status_code in ok:
                return r
            if r.status_code in (429, 500, 502, 503, 504) and attempt + 1 < tries:
                r.close()
                time.sleep(float(r.headers.get("Retry-After", delay)) if r.headers.get("Retry-After", "").isdigit()
                           else delay)
                delay *= 2
                continue
            raise self._error(r, method, path)
        raise RegistryError(f"{self.registry}: too many retries for {method} {path}")

    def _auth_failure(self, r):
        if self.creds:
            return AuthError(f"{self.registry}: authentication failed for user {self.creds[0]} "
                             f"(unauthorized)")
        return AuthError(f"{self.registry}: authentication required: run `bocker login {self.registry}`")

    def _error(self, r, method, path):
        detail = ""
        try:
            errs = r.json().get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errs)
        except ValueError:
            detail = r.text[:200].strip()
        msg = f"{self.registry}: {method} {path}: {r.status_code} {r.reason}" + (f" ({detail})" if detail else "")
        if r.status_code == 404:
            return NotFound(msg)
        if r.status_code == 403:
            return AuthError(msg)
        return RegistryError(msg)

    # API -----------------------------------------------------------------------------------

    def login_check(self):
        """Raises AuthError if the stored/given credentials are refused."""
        r = self.request("GET", "/v2/", ok=(200, 401), expect_auth=False)
        if r.status_code == 200:
            return True
        scheme, params = _parse_challenge(r.headers.get("WWW-Authenticate", ""))
        if scheme == "bearer":
            self._get_token(params, "")
            return True
        if scheme == "basic":
            self.basic = True
            r = self.request("GET", "/v2/", ok=(200,), expect_auth=False)
            return True
        raise AuthError(f"{self.registry}: unknown authentication scheme {scheme!r}")

    def get_manifest(self, repo, reference, accept=ACCEPT):
        """(bytes, media type, digest) of a manifest or index; the digest is checked."""
        r = self.request("GET", f"/v2/{repo}/manifests/{reference}", scope=f"repository:{repo}:pull",
                         headers={"Accept": accept})
        body = r.content
        try:
            doc = json.loads(body)
        except ValueError:
            raise RegistryError(f"manifest of {repo}:{reference} is not JSON")
        media = doc.get("mediaType") or r.headers.get("Content-Type", "").split(";")[0].strip()
        # (before the digest: a signed schema 1 manifest's digest is not its body's hash)
        if (isinstance(doc, dict) and doc.get("schemaVersion") == 1) or media in SCHEMA1:
            raise RegistryError(f"{repo}:{reference} has a Docker schema 1 manifest, which bocker does not "
                                f"support (deprecated; re-push the image with a current client)")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"manifest digest mismatch for {repo}@{reference}: got {digest}")
        header = r.headers.get("Docker-Content-Digest", "")
        if header.startswith("sha256:") and header != digest:
            raise RegistryError(f"manifest digest mismatch for {repo}:{reference}: registry says {header}, "
                                f"content is {digest}")
        if media not in MANIFESTS + INDEXES:
            if "manifests" in doc:
                media = OCI_INDEX
            elif "layers" in doc and "config" in doc:
                media = OCI_MANIFEST
            else:
                raise RegistryError(f"{repo}:{reference}: unsupported manifest type {media!r}")
        return body, media, digest

    def blob_exists(self, repo, digest, scope=None):
        """The blob's size when the repository has it, else None."""
        r = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=scope or f"repository:{repo}:pull",
                         ok=(200, 404))
        if r.status_code == 404:
            return None
        return int(r.headers.get("Content-Length", "0") or 0)

    def get_blob(self, repo, digest, max_size=16 << 20):
        """A small blob (a config) in memory, checked against its digest."""
        r = self.request("GET", f"/v2/{repo}/blobs/{digest}", scope=f"repository:{repo}:pull", stream=True)
        data = bytearray()
        for chunk in r.raw.stream(CHUNK, decode_content=False):
            data += chunk
            if len(data) > max_size:
                raise RegistryError(f"blob {digest} is larger than expected for a config")
        got = "sha256:" + hashlib.sha256(data).hexdigest()
        if got != digest:
            raise RegistryError(f"digest mismatch for blob {digest}: content is {got}; refused")
        return bytes(data)

    def fetch_blob(self, repo, digest, path, size=None, progress=None):
        """Stream a blob into `path`, resuming `path + '.part'` with Range, checking sha256 at the
        end (on mismatch the file is removed and RegistryError raised)."""
        part = path + ".part"
        h = hashlib.sha256()
        have = 0
        if os.path.exists(part):
            with open(part, "rb") as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
                    have += len(chunk)
            if size is not None and have > size:
                os.unlink(part)
                h, have = hashlib.sha256(), 0
        failures = 0
        while size is None or have < size or have == 0:
            headers = {"Range": f"bytes={have}-"} if have else {}
            try:
                r = self.request("GET", f"/v2/{repo}/blobs/{digest}", scope=f"repository:{repo}:pull",
                                 stream=True, headers=headers, ok=(200, 206))
                if have and r.status_code == 200:        # no Range support: start again
                    h, have = hashlib.sha256(), 0
                    mode = "wb"
                else:
                    mode = "ab" if have else "wb"
                with open(part, mode) as f:
                    for chunk in r.raw.stream(CHUNK, decode_content=False):
                        f.write(chunk)
                        h.update(chunk)
                        have += len(chunk)
                        if progress:
                            progress(have, size)
                r.close()
                if size is None or have >= size:
                    break
                raise self.requests.ConnectionError("connection closed early")
            except (self.requests.ConnectionError, self.requests.Timeout,
                    self.requests.exceptions.ChunkedEncodingError, _urllib3_errors()) as e:
                failures += 1
                if failures > self.retries:
                    raise RegistryError(f"downloading {digest[:19]}: {_short(e)} (partial file kept, "
                                        f"run again to resume)")
                time.sleep(0.5 * failures)
        got = "sha256:" + h.hexdigest()
        if got != digest or (size is not None and have != size):
            os.unlink(part)
            raise RegistryError(f"digest mismatch for blob {digest}: downloaded content is {got} "
                                f"({have} bytes); refused")
        os.replace(part, path)
        return have

    # push --------------------------------------------------------------------------------

    def mount_blob(self, repo, digest, from_repo):
        """Cross-repository mount; True if the registry mounted it."""
        scope = f"repository:{repo}:pull,push repository:{from_repo}:pull"
        try:
            r = self.request("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={from_repo}",
                             scope=scope, ok=(201, 202), retry=False)
        except AuthError:
            return False
        if r.status_code == 201:
            return True
        loc = r.headers.get("Location")          # not mounted: cancel the upload it opened
        if loc:
            try:
                self.request("DELETE", self._abs(loc), scope=scope, ok=(200, 202, 204, 404), retry=False)
            except RegistryError:
                pass
        return False

    def upload_blob(self, repo, digest, path=None, data=None, size=None, chunk_size=None, progress=None):
        """Upload a blob (file `path` or bytes `data`): monolithic PUT, or PATCH chunks of
        `chunk_size` then a closing PUT. Retried from the start on a transient failure."""
        scope = f"repository:{repo}:pull,push"
        if size is None:
            size = len(data) if data is not None else os.path.getsize(path)
        last = None
        for attempt in range(self.retries):
            try:
                return self._upload_once(repo, digest, path, data, size, chunk_size, progress, scope)
            except (self.requests.ConnectionError, self.requests.Timeout) as e:
                last = e
                time.sleep(0.5 * (attempt + 1))
        raise RegistryError(f"uploading {digest[:19]}: {_short(last)}")

    def _upload_once(self, repo, digest, path, data, size, chunk_size, progress, scope):
        r = self.request("POST", f"/v2/{repo}/blobs/uploads/", scope=scope, ok=(202,), retry=False)
        loc = self._abs(r.headers["Location"])
        sep = "&" if "?" in loc else "?"

        def reader():
            if data is not None:
                import io
                return io.BytesIO(data)
            return open(path, "rb")

        if not chunk_size or size <= chunk_size:
            with reader() as f:
                body = _ProgressFile(f, size, progress)
                self.request("PUT", f"{loc}{sep}digest={digest}", scope=scope, ok=(201,), retry=False,
                             data=body, headers={"Content-Type": "application/octet-stream",
                                                 "Content-Length": str(size)})
            return size
        sent = 0
        with reader() as f:
            while sent < size:
                chunk = f.read(chunk_size)
                end = sent + len(chunk) - 1
                r = self.request("PATCH", loc, scope=scope, ok=(202,), retry=False, data=chunk,
                                 headers={"Content-Type": "application/octet-stream",
                                          "Content-Range": f"{sent}-{end}", "Content-Length": str(len(chunk))})
                loc = self._abs(r.headers["Location"])
                sent += len(chunk)
                if progress:
                    progress(sent, size)
        sep = "&" if "?" in loc else "?"
        self.request("PUT", f"{loc}{sep}digest={digest}", scope=scope, ok=(201,), retry=False, data=b"",
                     headers={"Content-Length": "0"})
        return size

    def put_manifest(self, repo, reference, body, media_type):
        r = self.request("PUT", f"/v2/{repo}/manifests/{reference}", scope=f"repository:{repo}:pull,push",
                         ok=(200, 201, 202), retry=False, data=body, headers={"Content-Type": media_type})
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        header = r.headers.get("Docker-Content-Digest")
        if header and header != digest:
            raise RegistryError(f"registry stored manifest as {header}, expected {digest}")
        return digest

    def catalog(self, limit=1000):
        r = self.request("GET", f"/v2/_catalog?n={limit}", scope="registry:catalog:*")
        return r.json().get("repositories") or []


class _ProgressFile:
    """A file body for requests that reports progress as it is read."""

    def __init__(self, f, size, progress):
        self.f, self.size, self.progress, self.done = f, size, progress, 0

    def read(self, n=-1):
        data = self.f.read(CHUNK if n is None or n < 0 else n)
        self.done += len(data)
        if self.progress:
            self.progress(self.done, self.size)
        return data

    def __len__(self):
        return self.size - self.done

    def __iter__(self):
        while True:
            data = self.read(CHUNK)
            if not data:
                return
            yield data


def _urllib3_errors():
    try:
        from urllib3.exceptions import ProtocolError, ReadTimeoutError
        return (ProtocolError, ReadTimeoutError)
    except ImportError:       # pragma: no cover
        return ()


def _short(e):
    text = str(e)
    return text if len(text) < 160 else text[:157] + "..."

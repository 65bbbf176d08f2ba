"""Verbs that talk to a registry: pull, push, login, logout, search."""
import sys

from .. import BockerError
from .verbs import FORMAT, INSECURE, QUIET, arg, verb


@verb("pull", QUIET, INSECURE, arg("--platform", help="os/arch[/variant] from a multi-platform image "
                                                      "(default: this host's, e.g. linux/amd64)"),
      arg("image", help="NAME[:TAG|@DIGEST], e.g. alpine:3.20, localhost:5000/team/app:1.2"))
def cmd_pull(cfg, a):
    """Pull an image from a registry (Docker Hub by default).

    Each layer is applied onto a snapshot of the layer below it and kept read-only under
    layers/<chain-id>: layers already there are neither downloaded nor applied again."""
    from .. import transfer
    from ..registry import Reference
    transfer.pull(cfg, a.image, platform=a.platform, insecure=a.insecure, quiet=a.quiet)
    print(Reference.parse(a.image).full)  # (-q too: Docker prints the reference only)


@verb("push", QUIET, INSECURE,
      arg("--oci", action="store_true", help="push an OCI manifest (default: Docker schema 2)"),
      arg("--compression", choices=("gzip", "zstd"), default="gzip", help="layer compression (zstd implies --oci)"),
      arg("--chunk-size", type=int, help="upload blobs in chunks of this many bytes (default: one PUT)"),
      arg("image", help="NAME[:TAG] of a local image, e.g. localhost:5000/team/app:1.3"))
def cmd_push(cfg, a):
    """Push an image to a registry.

    Layers are the tar diffs between the image's snapshot and its parent's (or the whole
    rootfs); blobs the registry has are skipped, and mounted from another repository of the
    same registry when bocker knows one."""
    from .. import transfer
    transfer.push(cfg, a.image, insecure=a.insecure, quiet=a.quiet, oci=a.oci, compression=a.compression,
                  chunk_size=a.chunk_size)


@verb("login", INSECURE, arg("-u", "--username", help="user name"),
      arg("-p", "--password", help="password (prefer --password-stdin)"),
      arg("--password-stdin", action="store_true", help="read the password from stdin"),
      arg("server", nargs="?", default="docker.io", help="registry host[:port] (default: Docker Hub)"))
def cmd_login(cfg, a):
    """Log in to a registry; credentials go to $BOCKER_ROOT/auth.json (mode 0600)."""
    from .. import registry
    server = _server(a.server)
    user, password = a.username, a.password
    if a.password_stdin:
        if a.password:
            raise BockerError("--password and --password-stdin are mutually exclusive")
        password = sys.stdin.readline().rstrip("\r\n")
    if not user:
        if not sys.stdin.isatty():
            raise BockerError("login needs -u USER (and -p or --password-stdin)")
        user = input("Username: ")
    if password is None:
        import getpass
        password = getpass.getpass("Password: ")
    if not password:
        raise BockerError("empty password")
    client = registry.Client(server, insecure=a.insecure, creds=(user, password))
    client.login_check()
    registry.save_credentials(cfg.path("auth.json"), server, user, password)
    print("Login Succeeded")


@verb("logout", arg("server", nargs="?", default="docker.io", help="registry host[:port]"))
def cmd_logout(cfg, a):
    """Forget the credentials stored for a registry."""
    from .. import registry
    server = _server(a.server)
    if registry.remove_credentials(cfg.path("auth.json"), server):
        print(f"Removing login credentials for {server}")
    else:
        print(f"Not logged in to {server}")


def _server(text):
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.rstrip("/")
    if text.endswith("/v1") or text.endswith("/v2"):
        text = text[:-3]
    if text in ("index.docker.io", "registry-1.docker.io", "docker.io"):
        return "docker.io"
    return text


@verb("search", arg("--registry", help="search this registry's catalog (host:port) instead of Docker Hub"),
      INSECURE, arg("--limit", type=int, default=25, help="at most this many results"), FORMAT,
      arg("term", help="text to look for in repository names"))
def cmd_search(cfg, a):
    """Search repositories: a registry's catalog (--registry) or Docker Hub."""
    from .. import fmt, transfer
    rows = transfer.search(cfg, a.term, registry=a.registry, insecure=a.insecure, limit=a.limit)
    if a.format:
        fmt.emit(rows, a.format)
        return
    fmt.table(["NAME", "DESCRIPTION", "STARS", "OFFICIAL"],
              [[r["Name"], r["Description"][:45], r["StarCount"], "[OK]" if r["IsOfficial"] else ""] for r in rows])

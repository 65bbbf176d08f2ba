"""Verbs that move images in and out: pull, push, login, logout, save, load, export, import,
history, search. Registered on import (cli.py imports this module)."""
import sys

from . import BockerError
from .cli import FORMAT, arg, verb

INSECURE = arg("--insecure", action="store_true",
               help="plain HTTP (also: BOCKER_INSECURE_REGISTRIES=host:port,...)")
QUIET = arg("-q", "--quiet", action="store_true", help="no progress output")


@verb("pull", QUIET, INSECURE, arg("--platform", help="os/arch[/variant] from a multi-platform image "
                                                      "(default: this host's, e.g. linux/amd64)"),
      arg("image", help="NAME[:TAG|@DIGEST], e.g. alpine:3.20, localhost:5000/team/app:1.2"))
def cmd_pull(cfg, a):
    """Pull an image from a registry (Docker Hub by default).

    Each layer is applied onto a snapshot of the layer below it and kept read-only under
    layers/<chain-id>: layers already there are neither downloaded nor applied again."""
    from . import transfer
    transfer.pull(cfg, a.image, platform=a.platform, insecure=a.insecure, quiet=a.quiet)
    if not a.quiet:
        from .registry import Reference
        print(Reference.parse(a.image).full)


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
    from . import transfer
    transfer.push(cfg, a.image, insecure=a.insecure, quiet=a.quiet, oci=a.oci, compression=a.compression,
                  chunk_size=a.chunk_size)


@verb("login", INSECURE, arg("-u", "--username", help="user name"),
      arg("-p", "--password", help="password (prefer --password-stdin)"),
      arg("--password-stdin", action="store_true", help="read the password from stdin"),
      arg("server", nargs="?", default="docker.io", help="registry host[:port] (default: Docker Hub)"))
def cmd_login(cfg, a):
    """Log in to a registry; credentials go to $BOCKER_ROOT/auth.json (mode 0600)."""
    from . import registry
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
    from . import registry
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


@verb("save", arg("-o", "--output", help="file (or directory for oci-dir); default: stdout"),
      arg("--format", default="docker-archive", choices=("docker-archive", "oci-archive", "oci-dir"),
          help="archive format (default docker-archive)"),
      arg("images", nargs="+", help="images to save"))
def cmd_save(cfg, a):
    """Save images to a tar archive (docker-archive, oci-archive) or an OCI layout directory."""
    from . import transfer
    transfer.save(cfg, a.images, out_path=a.output, fmt=a.format)


@verb("load", arg("-i", "--input", help="archive (tar or OCI directory); default: stdin"), QUIET,
      arg("--platform", help="os/arch for multi-platform OCI layouts"))
def cmd_load(cfg, a):
    """Load images from a docker-archive or OCI layout (tar or directory)."""
    from . import transfer
    for line in transfer.load(cfg, a.input, quiet=a.quiet, platform=a.platform):
        print(line)


@verb("export", arg("-o", "--output", help="file (default: stdout)"), arg("container", help="container"))
def cmd_export(cfg, a):
    """Export a container's filesystem as a tar archive."""
    from . import containers, transfer
    cid = containers.resolve(cfg, a.container)
    transfer.export(cfg, containers.cdir(cfg, cid, "rootfs"), a.output)


@verb("import", arg("-c", "--change", action="append", default=[], help="Dockerfile instruction: CMD, ENV, ..."),
      arg("-m", "--message", default="", help="commit message"),
      arg("file", help="tar archive (plain, gzip or zstd), or - for stdin"),
      arg("name", nargs="?", help="NAME[:TAG] of the new image"))
def cmd_import(cfg, a):
    """Make an image from a root filesystem tarball (safely extracted: no path escapes)."""
    from . import transfer
    print("sha256:" + transfer.import_tar(cfg, a.file, a.name, changes=a.change, message=a.message))


@verb("history", arg("-H", "--human", action="store_true", default=True, help="human sizes and dates (default)"),
      arg("--no-trunc", action="store_true", help="do not truncate output"),
      arg("-q", "--quiet", action="store_true", help="only image ids"), FORMAT,
      arg("image", help="image"))
def cmd_history(cfg, a):
    """Show the history of an image: IMAGE CREATED CREATED BY SIZE COMMENT."""
    from . import fmt, transfer
    rows = transfer.history(cfg, a.image)
    if a.quiet:
        for r in rows:
            print(r["Id"] if a.no_trunc or r["Id"] == "<missing>" else r["Id"][7:19])
        return
    if a.format:
        fmt.emit(rows, a.format)
        return

    def by(c):
        c = c.replace("\n", " ")
        return c if a.no_trunc or len(c) <= 45 else c[:44] + "…"
    fmt.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
              [[r["Id"] if a.no_trunc or r["Id"] == "<missing>" else r["Id"][7:19], fmt.ago(r["Created"]),
                by(r["CreatedBy"]), fmt.human_size(r["Size"]), r["Comment"]] for r in rows])


@verb("search", arg("--registry", help="search this registry's catalog (host:port) instead of Docker Hub"),
      INSECURE, arg("--limit", type=int, default=25, help="at most this many results"), FORMAT,
      arg("term", help="text to look for in repository names"))
def cmd_search(cfg, a):
    """Search repositories: a registry's catalog (--registry) or Docker Hub."""
    from . import fmt, transfer
    rows = transfer.search(cfg, a.term, registry=a.registry, insecure=a.insecure, limit=a.limit)
    if a.format:
        fmt.emit(rows, a.format)
        return
    fmt.table(["NAME", "DESCRIPTION", "STARS", "OFFICIAL"],
              [[r["Name"], r["Description"][:45], r["StarCount"], "[OK]" if r["IsOfficial"] else ""] for r in rows])

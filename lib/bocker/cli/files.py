"""Verbs on a container's files: cp, diff."""
import os
import sys

from .. import BockerError
from .verbs import arg, verb


def split_cp_arg(text):
    """Docker's splitCpArg: 'CONTAINER:PATH' -> (container, path); a local path -> (None, path)
    (absolute, or its part before ':' has a '/': ./a:b is local)."""
    if text.startswith("/") or text.startswith("."):
        return None, text
    ref, sep, path = text.partition(":")
    if not sep or "/" in ref:
        return None, text
    return ref, path


def _container_side(cfg, ref, path):
    """The container's root: /proc/PID/root while it runs (its mounts too), else its rootfs."""
    from .. import containercp, containers, userns
    cid = containers.resolve(cfg, ref)
    rec = containers.load(cfg, cid)
    st = containers.state(cfg, rec)
    running = st["Status"] in ("running", "paused")
    root = f"/proc/{st['Pid']}/root" if running else containers.cdir(cfg, cid, "rootfs")
    side = containercp.Side(root, path if path.startswith("/") else "/" + path, container=ref,
                            skip_devs=containercp.pseudo_devs(st["Pid"]) if running else ())
    return side, userns.base_of(rec)


def _host_side(path):
    from .. import containercp
    # joined, not normalized: `..` is resolved by the kernel (through links), as a shell would
    return containercp.Side("/", path if path.startswith("/") else os.path.join(os.getcwd(), path))


@verb("cp", arg("-a", "--archive", action="store_true",
                help="keep uid/gid (default: files copied into the container belong to its root)"),
      arg("-L", "--follow-link", action="store_true", help="follow a symlink given as SRC_PATH"),
      arg("-q", "--quiet", action="store_true", help="no 'Successfully copied' line (only on a terminal anyway)"),
      arg("src", metavar="SRC", help="CONTAINER:SRC_PATH, a host path, or - (a tar on stdin)"),
      arg("dst", metavar="DEST", help="CONTAINER:DEST_PATH, a host path, or - (a tar on stdout)"))
def cmd_cp(cfg, a):
    """Copy files between a container and the host (running or stopped; as tar streams).

    Paths in the container are resolved inside its root, as a chroot: its symlinks never lead
    to the host. SRC_PATH ending in /. copies a directory's contents."""
    (sref, spath), (dref, dpath) = split_cp_arg(a.src), split_cp_arg(a.dst)
    if sref and dref:
        raise BockerError("copying between containers is not supported")
    if not sref and not dref:
        raise BockerError("must specify at least one container source")
    if not spath or not dpath:
        raise BockerError("invalid path: it must not be empty")
    sides = []
    try:
        return _cp(cfg, a, sref, spath, dref, dpath, sides)
    except OSError as e:
        raise BockerError(f"cp: {e.filename or dpath}: {e.strerror}")
    finally:
        for s in sides:
            s.close()


def _cp(cfg, a, sref, spath, dref, dpath, sides):
    """The copy between the two sides; `sides` collects what to close."""
    from .. import containercp, fmt
    if sref:
        src, shift = _container_side(cfg, sref, spath)
        sides.append(src)
        if dpath == "-":
            return _tar_out(src, a.follow_link, shift)
        dst = _host_side(dpath)
        owner = (lambda uid, gid: (uid, gid)) if a.archive else None  # else: the invoker's
    else:
        dst, shift = _container_side(cfg, dref, dpath)
        sides.append(dst)
        base = shift[0] if shift else 0  # the container's root (remapped: its host uid)
        owner = (lambda uid, gid: (uid + base, gid + base)) if a.archive else (lambda uid, gid: (base, base))
        if spath == "-":
            return _tar_in(dst, owner)
        src, shift = _host_side(spath), None
    sides.append(src if sref is None else dst)
    size = containercp.copy(src, dst, follow=a.follow_link, owner=owner, shift=shift)
    if not a.quiet and sys.stderr.isatty():
        sys.stderr.write(f"Successfully copied {fmt.human_size(size)} to {a.dst}\n")


def _tar_out(src, follow, shift):
    """`cp CONTAINER:PATH -`: the tar on stdout, its top entry the path's base name."""
    from .. import containercp, shell
    pfd, name, _ = containercp.locate(src, follow)
    try:
        shell.do(f"tar -C {src.parent_dir()} -cf - {shell.quote(name)}  # resolved inside its root "
                 f"(openat2 RESOLVE_IN_ROOT)")
        if shell.dry_run:
            return 0
        sys.stdout.flush()
        arcname = "." if src.path.endswith("/.") or name == "." else containercp.split_path(src.path.rstrip("/"))[1]
        with os.fdopen(os.dup(sys.stdout.fileno()), "wb") as out:
            containercp.write_tar(out, pfd, name, arcname, shift, src.skip_devs)
    finally:
        os.close(pfd)
    return 0


def _tar_in(dst, owner):
    """`cp - CONTAINER:DIR`: a tar from stdin unpacked into DIR (it must be a directory)."""
    import stat
    import tarfile
    from .. import containercp, layers, shell
    st = containercp.stat_in(dst, dst.path)
    if st is None:
        raise dst.missing()
    if not stat.S_ISDIR(st.st_mode):
        raise BockerError(f'destination "{dst.path}" must be a directory')
    shell.do(f"tar -C {dst.tar_dir(dst.path)} -xf -  # each entry resolved inside the "
             f"destination (openat2 RESOLVE_IN_ROOT), no link followed")
    if shell.dry_run:
        return 0
    ufd = containercp.open_dir(dst.root, dst.path)
    try:
        with os.fdopen(os.dup(sys.stdin.fileno()), "rb") as stream:
            containercp.extract(stream, ufd, ".", owner, skip_top=True)
    except (tarfile.TarError, layers.LayerError, EOFError) as e:
        raise BockerError(f"cp: invalid tar on stdin: {e}")
    finally:
        os.close(ufd)
    return 0


@verb("diff", arg("container", help="container"))
def cmd_diff(cfg, a):
    """Show what changed in a container's files since its image: A added, C changed, D deleted.

    From btrfs's own change tracking: `btrfs send --no-data -p IMAGE SNAPSHOT-OF-ROOTFS`."""
    from .. import changes, containers, images
    cid = containers.resolve(cfg, a.container)
    rec = containers.load(cfg, cid)
    # beside the containers, not in this one's directory: a snapshot left by a killed diff
    # (read-only) must not stand in the way of its `rm` (ids() passes over dot names)
    scratch = cfg.path("containers", f".diff-{cid[:12]}-{os.getpid()}")
    for path, kind in changes.diff(images.rootfs(cfg, rec["Image"]), containers.cdir(cfg, cid, "rootfs"), scratch):
        print(kind, path)

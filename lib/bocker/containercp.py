"""`cp`: copy files between a container and the host, always as a tar stream (as Docker does).

A side of a copy is a root (an fd) and a path in it: the container's root (/proc/PID/root while
it runs: what its processes see, volumes and tmpfs included; containers/<id>/rootfs when it is
stopped) or the host's /. Every path is resolved by the kernel as a chroot would (openat2 with
RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symlink planted in the container (/tmp/x -> /etc,
-> ../../../..) leads to the container's own /etc or /, never to the host's. Final components
are never followed (unless -L on the source), and the tar is unpacked through directory fds under
the destination: an entry cannot land outside it.
"""
import os
import stat

from . import BockerError, layers, shell

O_PATH = 0o10000000
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
SYS_OPENAT2 = 437      # the same number on every architecture (the unified syscall table)
MAX_SYMLINKS = 40
_libc = None


def openat2(root_fd, path, flags, resolve=RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
    """openat2(root_fd, path, flags, resolve): an fd of `path` resolved inside root_fd (by
    default as a chroot: `..` and absolute symlinks stop at it)."""
    global _libc
    import ctypes
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    how = (ctypes.c_uint64 * 3)(flags | os.O_CLOEXEC, 0, resolve)
    fd = _libc.syscall(ctypes.c_long(SYS_OPENAT2), ctypes.c_int(root_fd), os.fsencode(path or "/"),
                       ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def open_dir(root_fd, path):
    return openat2(root_fd, path, O_PATH | os.O_DIRECTORY)


class Side:
    """One end of a copy: `root` (an fd of root_path), `path` in it as typed; `container`: its
    name as typed (None: the host); `skip_devs`: see write_tar."""

    def __init__(self, root_path, path, container=None, skip_devs=()):
        self.root = os.open(root_path, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self.root_path = root_path
        self.path, self.container, self.skip_devs = path, container, skip_devs

    def close(self):
        os.close(self.root)

    def parent_dir(self):
        """tar_dir of the directory that holds the side's path (for the trace)."""
        path = self.path[:-2] if self.path.endswith("/.") else self.path
        return self.tar_dir(split_path(path.rstrip("/") or "/")[0])

    def tar_dir(self, path):
        """`tar -C` of a path in this side, for the trace (the shell would follow links there)."""
        return shell.quote(os.path.join(self.root_path, path.lstrip("/")) if self.container else path)

    def missing(self, path=None):
        path = path or self.path
        if self.container:
            return BockerError(f"Could not find the file {path} in container {self.container}")
        return BockerError(f"no such file or directory: {path}")


def split_path(path):
    """'/a/b/' -> ('/a', 'b'); '/' and '/a/..' -> (the directory, '.')."""
    head, _, name = path.rstrip("/").rpartition("/")
    if name in ("", ".", ".."):
        return path, "."
    return head or "/", name


def locate(side, follow=False):
    """(fd of the parent directory, name in it, lstat) of the side's path; `follow` (-L): a final
    symlink is followed (within the root). Raises a one-line error if it does not exist."""
    path = side.path[:-2] if side.path.endswith("/.") else side.path
    parent, name = split_path(path)
    for _ in range(MAX_SYMLINKS):
        try:
            pfd = open_dir(side.root, parent)
        except (FileNotFoundError, NotADirectoryError):
            raise side.missing()
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            os.close(pfd)
            raise side.missing()
        if not (follow and stat.S_ISLNK(st.st_mode)):
            if side.path.endswith(("/", "/.")) and not stat.S_ISDIR(st.st_mode):
                os.close(pfd)
                raise BockerError(f"not a directory: {side.path}")
            return pfd, name, st
        target = os.readlink(name, dir_fd=pfd)
        os.close(pfd)
        parent, name = split_path(os.path.join(parent, target))
    raise BockerError(f"{side.path}: too many levels of symbolic links")


def stat_in(side, path):
    """stat of `path` in the side's root (a final symlink followed inside it), None if missing."""
    try:
        fd = openat2(side.root, path, O_PATH)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def destination(side, src_is_dir, src_name, contents):
    """Docker's rules: (directory to unpack into, name of the top entry; '.' for a directory's
    contents). An existing directory receives the source; a missing path is the copy's new name
    (its parent must exist; with a trailing '/' only a directory may create it)."""
    path = side.path
    st = stat_in(side, path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        return path, "." if contents else src_name
    if st is not None:
        if src_is_dir:
            raise BockerError(f"cannot copy a directory to a file: {path}")
        if path.endswith("/"):
            raise BockerError(f"not a directory: {path}")
        return split_path(path)
    parent, name = split_path(path)
    pst = stat_in(side, parent)
    if pst is None or not stat.S_ISDIR(pst.st_mode):
        raise side.missing(parent) if side.container else BockerError(f"no such directory: {parent}")
    if path.endswith("/") and not src_is_dir:
        raise BockerError(f"no such directory: {path}")
    return parent, name


# --- tar out ------------------------------------------------------------------------------

def _tarinfo(arcname, st, dfd, name, shift):
    import tarfile
    ti = tarfile.TarInfo(arcname)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid, ti.gid = _unshift(st.st_uid, shift), _unshift(st.st_gid, shift)
    ti.mtime = st.st_mtime
    if not layers.tar_type(ti, st, lambda: os.readlink(name, dir_fd=dfd)):
        return None  # sockets: not in a tar
    return ti


def _unshift(uid, shift):
    """A remapped container's host uid as the container sees it."""
    base, count = shift or (0, 0)
    return uid - base if base <= uid < base + count else uid


def write_tar(out, pfd, name, arcname, shift=None, skip_devs=()):
    """A tar of `name` in directory pfd (its tree, when a directory: walked through fds, never
    following a symlink) to `out`, its top entry called `arcname`. Directories on `skip_devs`
    (a running container's /proc, /sys, /dev, tmpfs: not its files, as Docker) are left empty."""
    import tarfile
    links = {}

    def add(dfd, n, arc):
        st = os.stat(n, dir_fd=dfd, follow_symlinks=False)
        if st.st_dev in skip_devs and not stat.S_ISDIR(st.st_mode):
            return False
        ti = _tarinfo(arc, st, dfd, n, shift)
        if ti is None:
            return False
        if ti.isreg() and st.st_nlink > 1:
            if (st.st_dev, st.st_ino) in links:
                ti.type, ti.linkname, ti.size = tarfile.LNKTYPE, links[st.st_dev, st.st_ino], 0
            links.setdefault((st.st_dev, st.st_ino), arc)
        if ti.isreg() and ti.size:
            fd = os.open(n, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):  # (not if swapped for a fifo meanwhile)
                    _write_entry(out, ti, fd)
            finally:
                os.close(fd)
        else:
            out.write(ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        return stat.S_ISDIR(st.st_mode) and st.st_dev not in skip_devs

    top = os.stat(name, dir_fd=pfd, follow_symlinks=False)
    if top.st_dev in skip_devs and not stat.S_ISDIR(top.st_mode):
        raise BockerError(f"{name}: on a kernel or tmpfs mount of the container (proc, sysfs, /dev, "
                          f"tmpfs): cp copies the container's files, not these (as Docker)")
    if add(pfd, name, arcname):
        for dirpath, dirnames, filenames, dfd in os.fwalk(name, dir_fd=pfd):
            rel = dirpath[len(name):].lstrip("/")
            base = f"{arcname}/{rel}" if rel else arcname
            descend = []
            for n in sorted(dirnames + filenames):
                if add(dfd, n, f"{base}/{n}") and n in dirnames:
                    descend.append(n)
            dirnames[:] = descend
    out.write(b"\0" * 1024)


def _write_entry(out, ti, fd):
    """A regular file's header and its ti.size bytes (padded to 512)."""
    import tarfile
    out.write(ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
    left = ti.size
    while left:
        chunk = os.read(fd, min(1 << 20, left))
        if not chunk:
            raise BockerError(f"{ti.name}: the file shrank while it was copied")
        out.write(chunk)
        left -= len(chunk)
    out.write(b"\0" * ((-ti.size) % 512))


def pseudo_devs(pid):
    """st_dev of the kernel's filesystems mounted in a running container (from its mountinfo:
    proc, sysfs, devpts, tmpfs, ...): cp copies the container's files, not these (as Docker)."""
    devs = set()
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in PSEUDO_FS:
                major, minor = fields[2].split(":")
                devs.add(os.makedev(int(major), int(minor)))
    return devs


PSEUDO_FS = {"proc", "sysfs", "devpts", "tmpfs", "devtmpfs", "mqueue", "cgroup", "cgroup2", "securityfs",
             "debugfs", "tracefs", "bpf", "fusectl", "configfs", "pstore", "hugetlbfs"}


# --- tar in -------------------------------------------------------------------------------

def _dirfd(root, base, parts, create):
    """fd of directory base/parts inside root; missing levels made (0755) when `create`."""
    path = "/".join([base.rstrip("/")] + parts) or "/"
    try:
        return open_dir(root, path)
    except FileNotFoundError:
        if not create or not parts:
            raise
    pfd = _dirfd(root, base, parts[:-1], create)
    try:
        os.mkdir(parts[-1], 0o755, dir_fd=pfd)
    except FileExistsError:  # a symlink whose target is not inside the destination
        raise BockerError(f"cannot make directory {path}: a symlink there leads outside the destination")
    finally:
        os.close(pfd)
    return open_dir(root, path)


def extract(stream, root, base, owner=None, skip_top=False):
    """Unpack a tar stream into directory `base` of root (an fd). Each entry's directory is
    resolved inside root; its final component is created afresh (an existing file or symlink of
    that name is replaced, never written through). `owner(uid, gid)` -> the (uid, gid) to set;
    None: leave them to the process (root). Returns the number of entries."""
    import tarfile
    tf = tarfile.open(fileobj=stream, mode="r|*")
    dirs = []
    count = 0
    old_umask = os.umask(0)
    try:
        for m in tf:
            parts = layers.clean_name(m.name)
            count += 1
            if not parts:  # the "." entry: the destination itself
                if m.isdir() and not skip_top:
                    dirs.append((parts, m))
                continue
            pfd = _dirfd(root, base, parts[:-1], create=True)
            try:
                _create(tf, m, pfd, parts[-1], root, base)
                if m.isdir():
                    dirs.append((parts, m))
                else:
                    _meta(pfd, parts[-1], m, owner)
            finally:
                os.close(pfd)
        for parts, m in reversed(dirs):  # directories last: their files changed their mtimes
            fd = _dirfd(root, base, parts, create=False)
            try:
                _meta(fd, ".", m, owner)
            finally:
                os.close(fd)
    finally:
        os.umask(old_umask)
    return count


def _create(tf, m, pfd, name, root, base):
    try:
        old = os.stat(name, dir_fd=pfd, follow_symlinks=False)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        if m.isdir():
            return
        raise BockerError(f"cannot overwrite directory {m.name} with a non-directory")
    if old is not None:
        os.unlink(name, dir_fd=pfd)
    if m.isdir():
        os.mkdir(name, 0o700, dir_fd=pfd)
    elif m.isreg():
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=pfd)
        with os.fdopen(fd, "wb") as f:
            import shutil
            shutil.copyfileobj(tf.extractfile(m), f, 1 << 20)
    elif m.issym():
        os.symlink(m.linkname, name, dir_fd=pfd)
    elif m.islnk():
        target = layers.clean_name(m.linkname, "hard link")
        tfd = _dirfd(root, base, target[:-1], create=False)
        try:
            os.link(target[-1], name, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(tfd)
    elif m.ischr() or m.isblk() or m.isfifo():
        kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO
        os.mknod(name, kind | m.mode, os.makedev(m.devmajor, m.devminor), dir_fd=pfd)


def _meta(pfd, name, m, owner):
    """Owner, mode and mtime of a new entry: through an fd for files and directories, by name
    without following for the rest (a hard link shares its target's)."""
    ids = owner(m.uid, m.gid) if owner else None
    if m.isdir() or m.isreg():
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                     | (os.O_DIRECTORY if m.isdir() else 0), dir_fd=pfd)
        try:
            if ids:
                os.chown(fd, *ids)
            os.chmod(fd, m.mode)  # after chown, which clears setuid bits
            os.utime(fd, (m.mtime, m.mtime))
        finally:
            os.close(fd)
    elif not m.islnk():
        if ids:
            os.chown(name, *ids, dir_fd=pfd, follow_symlinks=False)
        os.utime(name, (m.mtime, m.mtime), dir_fd=pfd, follow_symlinks=False)


# --- the copy -----------------------------------------------------------------------------

def _pump(write, read):
    """write(w) in a thread into a pipe that read(r) consumes; returns (bytes, read's result)."""
    import threading
    r, w = os.pipe()
    failed, counted = [], [0]

    class Counting:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            data = self.f.read(n)
            counted[0] += len(data)
            return data

    def writer():
        try:
            with os.fdopen(w, "wb") as f:
                write(f)
        except BrokenPipeError:
            pass
        except BaseException as e:  # raised again by the caller
            failed.append(e)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    result = read_error = None
    try:
        with os.fdopen(r, "rb") as f:
            result = read(Counting(f))
    except BaseException as e:  # the writer's error, if any, says why
        read_error = e
    t.join()
    if failed or read_error:
        raise failed[0] if failed else read_error
    return counted[0], result


def copy(src, dst, follow=False, owner=None, shift=None):
    """Copy src (a Side) to dst (a Side) with Docker's rules; returns the tar's size in bytes."""
    pfd, name, st = locate(src, follow)
    try:
        into, arcname = destination(dst, stat.S_ISDIR(st.st_mode), split_path(src.path.rstrip("/"))[1]
                                    if name != "." else ".", src.path.endswith("/."))
        shell.do(f"tar -C {src.parent_dir()} -cf - {shell.quote(name)} | tar -C {dst.tar_dir(into)} -xf -"
                 f"  # top entry: {arcname}; bocker resolves each path inside its root "
                 f"(openat2 RESOLVE_IN_ROOT) and follows no link")
        if shell.dry_run:
            return 0
        # the destination directory becomes the root of the unpacking: nothing lands outside it
        ufd = open_dir(dst.root, into)
        try:
            size, _ = _pump(lambda out: write_tar(out, pfd, name, arcname, shift, src.skip_devs),
                            lambda stream: extract(stream, ufd, ".", owner, skip_top=arcname == "."))
        finally:
            os.close(ufd)
        return size
    finally:
        os.close(pfd)

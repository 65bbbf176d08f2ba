"""Tar layers: a safe apply into a directory, and the reverse, a tar diff of two directories.

apply(stream, dest)   extracts an OCI/Docker layer (gzip, zstd or plain tar) into `dest`, which
                      holds the layers below it: whiteouts (`.wh.NAME`, `.wh..wh..opq`) delete from
                      them; hard links, symlinks, devices, fifos, xattrs, ownership, modes and times
                      are kept. No entry may write outside `dest`: absolute names and `..` are
                      refused, symlinks met on the way are resolved *inside* `dest` and refused if
                      they point out of it, hard links may only name files inside it. Every step is
                      relative to an open directory fd (openat, O_NOFOLLOW), never a joined path.
diff(parent, child)   writes the tar that turns `parent` into `child` (whiteouts for deletions),
                      walking both trees, or only the paths a btrfs send stream names
                      (send_stream_paths): time proportional to what changed.
regenerate(...)       rebuilds a layer's exact tar bytes from its snapshot and the "tar split"
                      recorded while applying (or diffing) it: pushing or saving a pulled image
                      gives back the same diff_ids, so its config and id do not change.

Heavy or rare imports (zstandard, gzip) are loaded when a layer needs them.
"""
import errno
import hashlib
import json
import os
import stat
import tarfile

from . import BockerError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_SYMLINKS = 40
BUFSIZE = 1 << 20


class LayerError(BockerError):
    """A layer that cannot (or must not) be applied."""


# --- streams ------------------------------------------------------------------------------

class HashReader:
    """A read-only stream that hashes (sha256) and counts what goes through it."""

    def __init__(self, raw):
        self.raw, self.sha, self.count = raw, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.sha.update(data)
        self.count += len(data)
        return data

    def drain(self):
        while self.read(BUFSIZE):
            pass

    def digest(self):
        return "sha256:" + self.sha.hexdigest()


class HashWriter:
    """A write-only stream that hashes (sha256) and counts what goes through it."""

    def __init__(self, raw):
        self.raw, self.sha, self.count = raw, hashlib.sha256(), 0

    def write(self, data):
        self.sha.update(data)
        self.count += len(data)
        if self.raw is not None:
            self.raw.write(data)
        return len(data)

    def flush(self):
        if self.raw is not None and hasattr(self.raw, "flush"):
            self.raw.flush()

    def digest(self):
        return "sha256:" + self.sha.hexdigest()


class _Peek:
    """Puts the sniffed magic bytes back in front of a stream."""

    def __init__(self, head, raw):
        self.head, self.raw = head, raw

    def read(self, n=-1):
        if self.head:
            if n is None or n < 0:
                data, self.head = self.head + self.raw.read(), b""
                return data
            data, self.head = self.head[:n], self.head[n:]
            if len(data) < n:
                data += self.raw.read(n - len(data))
            return data
        return self.raw.read(n)


def compression_of(head):
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def decompressed(raw):
    """A stream of tar bytes from a gzip, zstd or plain stream (sniffed from its first bytes)."""
    head = b""
    while len(head) < 4:
        more = raw.read(4 - len(head))
        if not more:
            break
        head += more
    kind = compression_of(head)
    raw = _Peek(head, raw)
    if kind == "gzip":
        import gzip
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise LayerError("zstd layer: the python 'zstandard' package is missing (run `make deps`)")
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


def compressor(out, kind="gzip", level=None):
    """A writable stream compressing into `out` (gzip level 3 with a zero mtime: reproducible digests;
    level 3 is twice as fast as 6 for ~6% more bytes)."""
    if kind == "gzip":
        import gzip
        return gzip.GzipFile(fileobj=out, mode="wb", compresslevel=3 if level is None else level, mtime=0)
    if kind == "zstd":
        import zstandard
        return zstandard.ZstdCompressor(level=3 if level is None else level).stream_writer(out, closefd=False)
    if kind in (None, "none", "tar"):
        return _NoClose(out)
    raise LayerError(f"unknown compression {kind}")


class _NoClose:
    def __init__(self, raw):
        self.raw = raw

    def write(self, data):
        return self.raw.write(data)

    def flush(self):
        pass

    def close(self):
        pass


class _SplitTee:
    """Keeps the bytes of a tar stream that are not file contents (tar-split), as read."""

    def __init__(self, raw):
        self.raw, self.pos, self.mark, self.buf = raw, 0, 0, bytearray()

    def read(self, n=-1):
        data = self.raw.read(n)
        start = self.pos
        self.pos += len(data)
        if self.pos > self.mark:
            self.buf += data[max(0, self.mark - start):]
        return data

    def take(self, upto):
        """The kept bytes from the mark up to stream offset `upto`."""
        base = self.pos - len(self.buf)
        out = bytes(self.buf[:upto - base])
        del self.buf[:upto - base]
        return out

    def skip_to(self, offset):
        """File contents up to `offset` are not kept."""
        base = self.pos - len(self.buf)
        if offset > base:
            del self.buf[:offset - base]
        self.mark = offset


class _SplitWriter:
    """The tar split: JSON lines, {"h": header bytes (latin-1)} or {"f": name, "s": size}, gzipped."""

    def __init__(self, path):
        import gzip
        self.path, self.tmp = path, path + ".tmp"
        self.f = gzip.open(self.tmp, "wt", encoding="utf-8", compresslevel=6)

    def header(self, data):
        if data:
            self.f.write(json.dumps({"h": data.decode("latin-1")}) + "\n")

    def content(self, name, size):
        if size:
            self.f.write(json.dumps({"f": name, "s": size}) + "\n")

    def commit(self):
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        self.f.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


# --- names --------------------------------------------------------------------------------

def clean_name(name, what="entry"):
    """A tar name as components inside the root; absolute names and `..` are refused."""
    if "\x00" in name:
        raise LayerError(f"{what} {name!r}: NUL byte in name")
    if name.startswith("/"):
        raise LayerError(f"{what} {name!r}: absolute path refused (it would write outside the rootfs)")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise LayerError(f"{what} {name!r}: '..' in path refused (it would write outside the rootfs)")
    return parts


# --- apply --------------------------------------------------------------------------------

class _Root:
    """A directory we write into through fds only; paths met are resolved inside it."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        self.cache = {}          # "a/b" -> fd of that directory (resolved)

    def close(self):
        self.forget()
        os.close(self.fd)

    def forget(self):
        for fd in self.cache.values():
            os.close(fd)
        self.cache.clear()

    def opendir(self, parts, create=True, name=""):
        """The fd of directory `parts` (components below the root), resolving symlinks inside
        the root; missing directories are made (0755) when `create`. Raises LayerError on escape."""
        key = "/".join(parts)
        if key in self.cache:
            return self.cache[key]
        if len(self.cache) > 512:
            self.forget()
        fds = [self.fd]          # fds[i] is the directory of resolved[:i]
        resolved = []
        todo = list(reversed(parts))
        hops = 0
        try:
            while todo:
                c = todo.pop()
                if c in ("", "."):
                    continue
                if c == "..":
                    if not resolved:
                        raise LayerError(f"{name!r}: a symlink on its path leads outside the rootfs")
                    resolved.pop()
                    os.close(fds.pop())
                    continue
                try:
                    st = os.stat(c, dir_fd=fds[-1], follow_symlinks=False)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(c, 0o755, dir_fd=fds[-1])
                    st = os.stat(c, dir_fd=fds[-1], follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    hops += 1
                    if hops > MAX_SYMLINKS:
                        raise LayerError(f"{name!r}: too many levels of symbolic links")
                    target = os.readlink(c, dir_fd=fds[-1])
                    if target.startswith("/"):
                        while len(fds) > 1:
                            os.close(fds.pop())
                        resolved = []
                    todo.extend(reversed(target.split("/")))
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    raise LayerError(f"{name!r}: '{'/'.join(resolved + [c])}' is not a directory")
                fds.append(os.open(c, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
                resolved.append(c)
        except BaseException:
            for fd in fds[1:]:
                os.close(fd)
            raise
        for fd in fds[1:-1]:
            os.close(fd)
        fd = fds[-1] if len(fds) > 1 else os.dup(self.fd)
        self.cache[key] = fd
        return fd


def _remove(dir_fd, name):
    """Remove `name` (a file, or a whole directory tree) inside dir_fd, never following symlinks."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        import shutil
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)
    return True


def _xattrs(member):
    out = {}
    for k, v in member.pax_headers.items():
        if k.startswith("SCHILY.xattr."):
            out[k[len("SCHILY.xattr."):]] = v.encode("utf-8", "surrogateescape")
    return out


def _STREAM_ERRORS():
    """Exceptions that mean a corrupt compressed stream (gzip, zlib, zstd)."""
    import gzip
    import zlib
    errs = (gzip.BadGzipFile, zlib.error)
    try:
        import zstandard
        errs += (zstandard.ZstdError,)
    except ImportError:
        pass
    return errs


def apply(stream, dest, split_path=None, progress=None):
    """Apply one layer (a readable stream: gzip, zstd or plain tar) onto directory `dest`.

    Returns (diff_id, uncompressed size). Raises LayerError for hostile or broken tars; the
    caller throws away the half-applied directory. With `split_path`, records the tar split
    there (see regenerate)."""
    tar_hash = HashReader(decompressed(stream))
    tee = _SplitTee(tar_hash) if split_path else None
    split = _SplitWriter(split_path) if split_path else None
    root = _Root(dest)
    created = {}             # directory name (tar path) -> names created in it by this layer
    dir_times = []           # (parts, mtime): set at the end, after their contents
    try:
        try:
            tf = tarfile.open(fileobj=tee or tar_hash, mode="r|", bufsize=BUFSIZE,
                              encoding="utf-8", errors="surrogateescape")
        except tarfile.ReadError as e:
            raise LayerError(f"not a tar archive ({e})")
        with tf:
            for m in tf:
                if split:
                    split.header(tee.take(m.offset_data))
                try:
                    _apply_member(root, tf, m, created, dir_times)
                except OSError as e:
                    if e.errno in (errno.ENOSPC, errno.EDQUOT):
                        raise LayerError(f"no space left on the store applying {m.name!r}")
                    if isinstance(e, _STREAM_ERRORS()):
                        raise
                    raise LayerError(f"entry {m.name!r}: {e.strerror or e}")
                if split:
                    if m.isreg() or m.type == tarfile.CONTTYPE:
                        split.content("/".join(clean_name(m.name)), m.size)
                    tee.skip_to(m.offset_data + m.size)
                if progress:
                    progress(tar_hash.count)
        tar_hash.drain()     # the end-of-archive blocks and any padding belong to the diff_id
        if split:
            split.header(tee.take(tee.pos))
        for parts, mtime in reversed(dir_times):
            try:
                if parts:
                    fd = root.opendir(parts[:-1], create=False)
                    os.utime(parts[-1], ns=(mtime, mtime), dir_fd=fd, follow_symlinks=False)
                else:
                    os.utime(root.fd, ns=(mtime, mtime))
            except (OSError, LayerError):
                pass
        if split:
            split.commit()
    except LayerError:
        raise
    except (tarfile.TarError, EOFError) + _STREAM_ERRORS() as e:
        raise LayerError(f"broken layer stream: {e}")
    finally:
        if split and os.path.exists(split.tmp):
            split.abort()
        root.close()
    return tar_hash.digest(), tar_hash.count


def _apply_member(root, tf, m, created, dir_times):
    parts = clean_name(m.name)
    base = parts[-1] if parts else ""
    parent = parts[:-1]
    parent_key = "/".join(parent)

    # whiteouts: delete from the layers below
    if base.startswith(WHITEOUT):
        fd = _opendir_or_none(root, parent, m.name, create=(base == OPAQUE))
        if fd is None:
            return
        if base == OPAQUE:
            keep = created.get(parent_key, set())
            for child in os.listdir(fd):
                if child not in keep:
                    _remove(fd, child)
            root.forget()
        elif base.startswith(WHITEOUT + WHITEOUT):
            return           # aufs metadata (.wh..wh.plnk, ...): nothing to apply
        else:
            victim = base[len(WHITEOUT):]
            if victim in ("", ".", "..") or victim in created.get(parent_key, ()):
                return
            if _remove(fd, victim):
                root.forget()
        return

    if not parts:            # "./": the root directory itself
        if m.isdir():
            _set_meta(None, root.fd, m)
            dir_times.append(([], int(m.mtime * 1e9)))
        return

    fd = root.opendir(parent, name=m.name)
    try:
        st = os.stat(base, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    if st is not None and not (m.isdir() and stat.S_ISDIR(st.st_mode)):
        if m.islnk():
            lparts = clean_name(m.linkname, "hard link target")
            if lparts == parts:
                return       # a link to itself: the file is there already
        _remove(fd, base)
        if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
            root.forget()
            fd = root.opendir(parent, name=m.name)
    created.setdefault(parent_key, set()).add(base)

    if m.isdir():
        if st is None or not stat.S_ISDIR(st.st_mode):
            os.mkdir(base, 0o700, dir_fd=fd)
        _set_meta(fd, base, m)
        dir_times.append((parts, int(m.mtime * 1e9)))
    elif m.isreg() or m.type == tarfile.CONTTYPE:
        out = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                      dir_fd=fd)
        try:
            src = tf.extractfile(m)
            while True:
                chunk = src.read(BUFSIZE)
                if not chunk:
                    break
                mv = memoryview(chunk)
                while mv:
                    n = os.write(out, mv)
                    mv = mv[n:]
            _set_meta(fd, base, m, file_fd=out)
        finally:
            os.close(out)
    elif m.issym():
        os.symlink(m.linkname, base, dir_fd=fd)
        _set_meta(fd, base, m)
    elif m.islnk():
        lparts = clean_name(m.linkname, "hard link target")
        if not lparts:
            raise LayerError(f"hard link {m.name!r} -> {m.linkname!r}: target is the root")
        try:
            lfd = root.opendir(lparts[:-1], create=False, name=m.linkname)
            lst = os.stat(lparts[-1], dir_fd=lfd, follow_symlinks=False)
        except FileNotFoundError:
            raise LayerError(f"hard link {m.name!r} -> {m.linkname!r}: target not found in the rootfs")
        if stat.S_ISDIR(lst.st_mode):
            raise LayerError(f"hard link {m.name!r} -> {m.linkname!r}: target is a directory")
        os.link(lparts[-1], base, src_dir_fd=lfd, dst_dir_fd=fd, follow_symlinks=False)
    elif m.ischr() or m.isblk():
        kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
        os.mknod(base, kind | 0o600, os.makedev(m.devmajor, m.devminor), dir_fd=fd)
        _set_meta(fd, base, m)
    elif m.isfifo():
        os.mkfifo(base, 0o600, dir_fd=fd)
        _set_meta(fd, base, m)
    else:
        raise LayerError(f"entry {m.name!r}: unsupported tar entry type {m.type!r}")


def _opendir_or_none(root, parts, name, create=False):
    try:
        return root.opendir(parts, create=create, name=name)
    except FileNotFoundError:
        return None
    except LayerError as e:
        if "is not a directory" in str(e):
            return None
        raise


def _set_meta(dir_fd, name, m, file_fd=None):
    """Ownership (numeric), mode, xattrs and mtime, without following a symlink."""
    is_link = m.issym()
    target = file_fd if file_fd is not None else name
    kw = {} if file_fd is not None else {"dir_fd": dir_fd, "follow_symlinks": False}
    if dir_fd is None and file_fd is None:       # the root directory itself: `name` is its fd
        target, kw = name, {}
    os.chown(target, m.uid, m.gid, **kw)
    if not is_link:
        mkw = {} if (file_fd is not None or dir_fd is None) else {"dir_fd": dir_fd}
        os.chmod(target, m.mode & 0o7777, **mkw)
    xattrs = _xattrs(m)
    if xattrs:
        if file_fd is not None or dir_fd is None:
            path = target
        else:
            path = f"/proc/self/fd/{dir_fd}/{name}"
        for k, v in xattrs.items():
            try:
                if isinstance(path, int):
                    os.setxattr(path, k, v)
                else:
                    os.setxattr(path, k, v, follow_symlinks=False)
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EPERM, errno.EOPNOTSUPP):
                    raise
    if not m.isdir():
        mt = int(m.mtime * 1e9)
        if file_fd is not None:
            os.utime(file_fd, ns=(mt, mt))
        else:
            os.utime(name, ns=(mt, mt), dir_fd=dir_fd, follow_symlinks=False)


# --- diff ---------------------------------------------------------------------------------

def _read_xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for n in sorted(names):
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            pass
    return out


def _same(a, b, xa, xb):
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or a.st_mode != b.st_mode:
        return False
    if (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid) or xa != xb:
        return False
    if stat.S_ISDIR(a.st_mode):
        return a.st_mtime_ns == b.st_mtime_ns
    if a.st_size != b.st_size or a.st_mtime_ns != b.st_mtime_ns:
        return False
    if stat.S_ISCHR(a.st_mode) or stat.S_ISBLK(a.st_mode):
        return a.st_rdev == b.st_rdev
    return True


class _TarOut:
    """Writes tar entries (PAX) by hand, so the exact header bytes can go into a tar split."""

    def __init__(self, out, split=None):
        self.out, self.split = out, split

    def add(self, ti, path=None):
        buf = ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        self.out.write(buf)
        if self.split:
            self.split.header(buf)
        if ti.isreg() and ti.size:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                left = ti.size
                with os.fdopen(fd, "rb", closefd=False) as f:
                    while left:
                        chunk = f.read(min(BUFSIZE, left))
                        if not chunk:
                            raise LayerError(f"{path}: file shrank while being read")
                        self.out.write(chunk)
                        left -= len(chunk)
            finally:
                os.close(fd)
            if self.split:
                self.split.content(ti.name.rstrip("/"), ti.size)
            pad = (-ti.size) % 512
            if pad:
                self.out.write(b"\0" * pad)
                if self.split:
                    self.split.header(b"\0" * pad)

    def close(self):
        self.out.write(b"\0" * 1024)
        if self.split:
            self.split.header(b"\0" * 1024)


def tar_type(ti, st, readlink):
    """A tar entry's type from its stat (with the size, the link's target from readlink(), the
    device numbers); False for what a tar cannot carry (sockets)."""
    if stat.S_ISREG(st.st_mode):
        ti.type, ti.size = tarfile.REGTYPE, st.st_size
    elif stat.S_ISDIR(st.st_mode):
        ti.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        ti.type, ti.linkname = tarfile.SYMTYPE, readlink()
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        ti.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(st.st_mode):
        ti.type = tarfile.FIFOTYPE
    else:
        return False
    return True


def _tarinfo(name, st, path, xattrs):
    ti = tarfile.TarInfo(name)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid, ti.gid = st.st_uid, st.st_gid
    ti.uname = ti.gname = ""
    ti.mtime = st.st_mtime_ns // 1_000_000_000
    if not tar_type(ti, st, lambda: os.readlink(path)):
        return None                      # sockets and the like are not carried in layers
    for k, v in xattrs.items():
        ti.pax_headers["SCHILY.xattr." + k] = v.decode("utf-8", "surrogateescape")
    return ti


def diff(parent, child, out, split_path=None, changed=None):
    """Write to `out` the tar layer that turns directory `parent` (None: empty) into `child`:
    new and changed entries, `.wh.NAME` for deletions. Entries are sorted: the same two trees
    always give the same bytes. `changed` (relative paths, from `send_stream_paths`) limits the
    walk to those paths and their directories, and to the whole of a directory that is new at its
    place (absent from `parent` or another inode there: made or renamed in); the bytes are those of
    the full walk. (A file changed in place that has other names is in the tar under each name:
    that needs the full walk.) Returns the number of entries."""
    entries = _entries(parent, child, None)
    if changed is not None:
        try:
            entries = list(_entries(parent, child, _tree(changed)))
        except _Relinked:
            pass
    split = _SplitWriter(split_path) if split_path else None
    tw = _TarOut(out, split)
    count = 0
    try:
        for ti, path in entries:
            tw.add(ti, path)
            count += 1
        tw.close()
        if split:
            split.commit()
    finally:
        if split and os.path.exists(split.tmp):
            split.abort()
    return count


class _Relinked(Exception):
    """A changed file with several names: only a full walk finds the others."""


def _entries(parent, child, kids):
    """(TarInfo, path) of the layer's entries in tar order; `kids` ({dir: names}) restricts the
    walk to those names (None: everything)."""
    links = {}               # (dev, ino) -> first name written, for hard links inside the layer

    def names_of(rel, cdir, pdir, full):
        """The names to compare in directory `rel`: all of both sides, or the changed ones."""
        if full:
            names = set(os.listdir(cdir))
            pnames = set()
            if pdir is not None:
                try:
                    if stat.S_ISDIR(os.lstat(pdir).st_mode):
                        pnames = set(os.listdir(pdir))
                except FileNotFoundError:
                    pass
            return names, pnames
        names, pnames = set(), set()
        for name in kids.get(rel, ()):
            if os.path.lexists(os.path.join(cdir, name)):
                names.add(name)
            if pdir is not None and os.path.lexists(os.path.join(pdir, name)):
                pnames.add(name)
        return names, pnames

    def walk(rel, in_parent=True, full=True):
        """`in_parent`: rel is a real directory in the parent too (checked with lstat at each
        level), so that a parent's symlink is never followed onto the host."""
        cdir = os.path.join(child, rel) if rel else child
        pdir = (os.path.join(parent, rel) if rel else parent) if parent is not None and in_parent else None
        names, pnames = names_of(rel, cdir, pdir, full)
        for name in sorted(names | pnames):
            tname = f"{rel}/{name}" if rel else name
            cpath = os.path.join(cdir, name)
            if name not in names:
                ti = tarfile.TarInfo(f"{rel}/{WHITEOUT}{name}" if rel else WHITEOUT + name)
                ti.mtime = 0
                ti.uname = ti.gname = ""
                yield ti, None
                continue
            st = os.lstat(cpath)
            xs = _read_xattrs(cpath)
            changed = True
            pst = None
            if name in pnames:
                ppath = os.path.join(pdir, name)
                pst = os.lstat(ppath)
                changed = not _same(st, pst, xs, _read_xattrs(ppath))
                if not changed and stat.S_ISLNK(st.st_mode):
                    changed = os.readlink(cpath) != os.readlink(ppath)
            if changed:
                ti = _tarinfo(tname, st, cpath, xs)
                if ti is not None:
                    if ti.isreg() and st.st_nlink > 1:
                        if kids is not None and pst is not None and pst.st_ino == st.st_ino:
                            raise _Relinked(tname)
                        key = (st.st_dev, st.st_ino)
                        if key in links:
                            ti.type, ti.linkname, ti.size = tarfile.LNKTYPE, links[key], 0
                        else:
                            links[key] = tname
                    yield ti, cpath
            if stat.S_ISDIR(st.st_mode):
                same_dir = pst is not None and stat.S_ISDIR(pst.st_mode)
                # a directory new at this place (or another inode here) is compared whole
                sub_full = full or not same_dir or pst.st_ino != st.st_ino
                if sub_full or tname in kids:
                    yield from walk(tname, same_dir, sub_full)

    return walk("", full=kids is None)


def _tree(paths):
    """{directory: names in it} of the given relative paths and all their ancestors."""
    kids = {}
    for p in paths:
        parts = [x for x in p.split("/") if x not in ("", ".")]
        if ".." in parts:
            continue
        for i, name in enumerate(parts):
            kids.setdefault("/".join(parts[:i]), set()).add(name)
    return kids


# --- btrfs send streams -------------------------------------------------------------------

SEND_MAGIC = b"btrfs-stream\0"
_SEND_PATH, _SEND_PATH_TO, _SEND_DATA = 15, 16, 19
_SEND_SUBVOL, _SEND_SNAPSHOT, _SEND_END = 1, 2, 21


def send_stream_paths(stream):
    """The paths a `btrfs send [--no-data] -p PARENT CHILD` stream touches (the name of every
    command's path and rename target, as bytes decoded with surrogateescape, relative to the
    subvolume): what changed from PARENT to CHILD, plus the temporary names (`o257-7-0`) send uses
    on the way, which exist in neither tree. Format: btrfs-progs' send.h (v1-v3)."""
    import struct

    def read(n):
        data = b""
        while len(data) < n:
            more = stream.read(n - len(data))
            if not more:
                raise LayerError("btrfs send stream: truncated")
            data += more
        return data
    head = stream.read(len(SEND_MAGIC) + 4)
    if len(head) < len(SEND_MAGIC) + 4 or not head.startswith(SEND_MAGIC):
        raise LayerError("not a btrfs send stream")
    version = struct.unpack_from("<I", head, len(SEND_MAGIC))[0]
    paths = set()
    while True:
        hdr = stream.read(10)
        if not hdr:
            return paths
        if len(hdr) < 10:
            hdr += read(10 - len(hdr))
        size, cmd, _crc = struct.unpack("<IHI", hdr)
        body = read(size)
        if cmd == _SEND_END:
            return paths
        if cmd in (_SEND_SUBVOL, _SEND_SNAPSHOT):
            continue
        pos = 0
        while pos + 4 <= size:
            kind, length = struct.unpack_from("<HH", body, pos)
            if kind == _SEND_DATA and version >= 2:
                break                    # v2+: the data attribute runs to the end of the command
            value = body[pos + 4:pos + 4 + length]
            pos += 4 + length
            if kind in (_SEND_PATH, _SEND_PATH_TO):
                paths.add(value.decode("utf-8", "surrogateescape"))


# --- regenerate ---------------------------------------------------------------------------

def regenerate(layer_dir, split_path, out):
    """Rebuild a layer tar from its tar split (headers as recorded) and the files' contents
    in `layer_dir` (the layer's read-only snapshot). The caller checks the diff_id."""
    import gzip
    root = _Root(layer_dir)
    try:
        with gzip.open(split_path, "rt", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if "h" in rec:
                    out.write(rec["h"].encode("latin-1"))
                    continue
                parts = clean_name(rec["f"])
                left = rec["s"]
                dfd = root.opendir(parts[:-1], create=False, name=rec["f"])
                fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
                try:
                    while left:
                        chunk = os.read(fd, min(BUFSIZE, left))
                        if not chunk:
                            raise LayerError(f"{rec['f']}: shorter than recorded in the tar split")
                        out.write(chunk)
                        left -= len(chunk)
                finally:
                    os.close(fd)
    finally:
        root.close()


def tar_tree(path, out):
    """The whole tree at `path` as a tar (export; a first layer)."""
    return diff(None, path, out)

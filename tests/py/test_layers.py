"""layers.py: safe apply of tar layers (hostile tars made here), whiteouts, diff, tar split."""
import gzip
import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from bocker import layers  # noqa: E402
from bocker.layers import LayerError  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ownership, devices)")


# --- making tars ---------------------------------------------------------------------------

def entry(name, type_=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, linkname="", mtime=1_600_000_000,
          xattrs=None, dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime, ti.linkname = type_, mode, uid, gid, mtime, linkname
    ti.devmajor, ti.devminor = dev
    if type_ == tarfile.REGTYPE:
        ti.size = len(data)
    for k, v in (xattrs or {}).items():
        ti.pax_headers["SCHILY.xattr." + k] = v.decode("utf-8", "surrogateescape")
    return ti, data


def D(name, mode=0o755, **kw):
    return entry(name, tarfile.DIRTYPE, mode=mode, **kw)


def F(name, data=b"x", **kw):
    return entry(name, tarfile.REGTYPE, data=data, **kw)


def L(name, target, **kw):
    return entry(name, tarfile.SYMTYPE, linkname=target, mode=0o777, **kw)


def H(name, target, **kw):
    return entry(name, tarfile.LNKTYPE, linkname=target, **kw)


def make_tar(entries, compression=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for ti, data in entries:
            tf.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    raw = buf.getvalue()
    if compression == "gzip":
        return gzip.compress(raw), raw
    if compression == "zstd":
        import zstandard
        return zstandard.ZstdCompressor().compress(raw), raw
    return raw, raw


def apply(entries, dest, compression=None, **kw):
    data, raw = make_tar(entries, compression)
    return layers.apply(io.BytesIO(data), str(dest), **kw), raw


@pytest.fixture
def box(tmp_path):
    """dest is the rootfs; `outside` next to it must never be touched."""
    dest = tmp_path / "rootfs"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("host secret\n")
    return dest, outside


def untouched(outside):
    return sorted(os.listdir(outside)) == ["passwd"] and (outside / "passwd").read_text() == "host secret\n"


# --- plain apply ---------------------------------------------------------------------------

def test_apply_all_kinds(box):
    dest, _ = box
    (digest, size), raw = apply([
        D("./"), D("etc", mode=0o750, uid=0, gid=42),
        F("etc/motd", b"hello\n", mode=0o640, uid=1000, gid=1000),
        F("bin/su", b"#!/bin/sh\n", mode=0o4755),
        L("bin/sh", "/bin/busybox"), H("etc/motd2", "etc/motd"),
        entry("dev/null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
        entry("run/fifo", tarfile.FIFOTYPE, mode=0o600),
        F("bin/ping", b"ELF", mode=0o755, xattrs={"user.bocker": b"yes", "security.capability": b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}),
        F("a" * 60 + "/" + "b" * 80 + "/long-name", b"long"),
        F("caf\xe9-latin1".encode("latin-1").decode("utf-8", "surrogateescape"), b"bytes name"),
    ], dest)
    assert digest == "sha256:" + hashlib.sha256(raw).hexdigest() and size == len(raw)
    st = os.lstat(dest / "etc")
    assert stat.S_IMODE(st.st_mode) == 0o750 and st.st_gid == 42
    st = os.lstat(dest / "etc/motd")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), st.st_mtime) == (1000, 1000, 0o640, 1_600_000_000)
    assert (dest / "etc/motd").read_bytes() == b"hello\n"
    assert os.lstat(dest / "etc/motd2").st_ino == st.st_ino
    assert stat.S_IMODE(os.lstat(dest / "bin/su").st_mode) == 0o4755
    assert os.readlink(dest / "bin/sh") == "/bin/busybox"
    st = os.lstat(dest / "dev/null")
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    assert stat.S_ISFIFO(os.lstat(dest / "run/fifo").st_mode)
    assert os.getxattr(dest / "bin/ping", "user.bocker") == b"yes"
    assert os.getxattr(dest / "bin/ping", "security.capability")[:4] == b"\x01\x00\x00\x02"
    assert (dest / ("a" * 60) / ("b" * 80) / "long-name").read_bytes() == b"long"
    assert os.path.exists(os.path.join(os.fsencode(dest), b"caf\xe9-latin1"))
    assert os.lstat(dest / "etc").st_mtime == 1_600_000_000     # directory times set last


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_compressions_same_result(tmp_path, compression):
    dest = tmp_path / "d"
    dest.mkdir()
    (digest, _), raw = apply([D("usr"), F("usr/x", os.urandom(300_000))], dest, compression)
    assert digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert (dest / "usr/x").stat().st_size == 300_000


def test_replaces_file_dir_and_symlink(box):
    dest, outside = box
    apply([D("d"), F("d/old"), F("f", b"file"), L("s", str(outside / "passwd"))], dest)
    apply([F("d", b"now a file"), D("f"), F("s", b"not through the link")], dest)
    assert (dest / "d").read_bytes() == b"now a file"
    assert (dest / "f").is_dir()
    assert not os.path.islink(dest / "s") and (dest / "s").read_bytes() == b"not through the link"
    assert untouched(outside)


# --- whiteouts -----------------------------------------------------------------------------

def test_whiteouts(box):
    dest, _ = box
    apply([D("a"), F("a/keep"), F("a/gone"), D("a/sub"), F("a/sub/deep"), D("o"), F("o/old1"), D("o/old2")], dest)
    apply([F("a/.wh.gone", b""), F("a/.wh.sub", b""), F("a/.wh.never-existed", b""),
           D("o"), F("o/.wh..wh..opq", b""), F("o/new")], dest)
    assert sorted(os.listdir(dest / "a")) == ["keep"]
    assert sorted(os.listdir(dest / "o")) == ["new"]


def test_opaque_after_own_entries_keeps_them(box):
    dest, _ = box
    apply([D("o"), F("o/old")], dest)
    apply([D("o"), F("o/new"), F("o/.wh..wh..opq", b"")], dest)
    assert sorted(os.listdir(dest / "o")) == ["new"]


def test_whiteout_files_not_created(box):
    dest, _ = box
    apply([F(".wh.nothing", b""), F("x")], dest)
    assert os.listdir(dest) == ["x"]


# --- hostile tars: nothing may be written outside ------------------------------------------

HOSTILE = {
    "dotdot": [F("../outside/passwd", b"pwned")],
    "dotdot-inner": [D("a"), F("a/../../outside/passwd", b"pwned")],
    "absolute": [F("/tmp/bocker-pwned", b"pwned")],
    "symlink-dir-escape": [L("s", "../outside"), F("s/passwd", b"pwned")],
    "symlink-chain-escape": [D("a"), L("a/b", "../c"), L("c", "../outside"), F("a/b/passwd", b"pwned")],
    "symlink-deep-escape": [D("x"), D("x/y"), L("x/y/z", "../../../outside"), F("x/y/z/new", b"pwned")],
    "hardlink-dotdot": [H("h", "../outside/passwd")],
    "hardlink-absolute": [H("h", "/etc/passwd")],
    "hardlink-via-symlink": [L("s", "../outside"), H("h", "s/passwd")],
    "whiteout-via-symlink": [L("s", "../outside"), F("s/.wh.passwd", b"")],
    "opaque-via-symlink": [L("s", "../outside"), F("s/.wh..wh..opq", b"")],
    "whiteout-dotdot": [F("../outside/.wh.passwd", b"")],
    "symlink-loop": [L("l1", "l2"), L("l2", "l1"), F("l1/x", b"")],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_tars_refused(box, name):
    dest, outside = box
    with pytest.raises(LayerError) as e:
        apply(HOSTILE[name], dest)
    msg = str(e.value)
    assert any(w in msg for w in ("outside the rootfs", "absolute", "'..'", "too many levels")), msg
    assert untouched(outside)
    assert not os.path.exists("/tmp/bocker-pwned")


def test_absolute_symlink_resolves_inside(box):
    """`var/run -> /run` style links are followed inside the rootfs, never on the host."""
    dest, outside = box
    apply([D("run"), D("var"), L("var/run", "/run"), F("var/run/pid", b"1"),
           L("up", str(outside)), F("up/passwd", b"inside")], dest)
    assert (dest / "run/pid").read_bytes() == b"1"
    assert (dest / outside.relative_to("/") / "passwd").read_bytes() == b"inside"
    assert untouched(outside)


def test_symlink_target_content_is_free(box):
    """A symlink may point anywhere (it is only data) as long as nothing is written through it."""
    dest, outside = box
    apply([L("escape", "../../../../etc/shadow")], dest)
    assert os.readlink(dest / "escape") == "../../../../etc/shadow"
    assert untouched(outside)


def test_broken_streams(tmp_path):
    with pytest.raises(LayerError):
        layers.apply(io.BytesIO(b"\x1f\x8b" + b"garbage" * 100), str(tmp_path))
    data, _ = make_tar([F("big", os.urandom(100_000))], "gzip")
    with pytest.raises(LayerError):
        layers.apply(io.BytesIO(data[:len(data) // 2]), str(tmp_path))
    with pytest.raises(LayerError):
        layers.apply(io.BytesIO(b"this is not a tar archive" * 40), str(tmp_path))


# --- diff and tar split --------------------------------------------------------------------

def tree(path):
    """Everything about a tree that a layer carries."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, path)
            item = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            if stat.S_ISREG(st.st_mode):
                item += (open(p, "rb").read(), int(st.st_mtime))
            elif stat.S_ISLNK(st.st_mode):
                item += (os.readlink(p),)
            xs = {x: os.getxattr(p, x, follow_symlinks=False) for x in os.listxattr(p, follow_symlinks=False)}
            out[rel] = item + (tuple(sorted(xs.items())),)
    return out


def test_diff_round_trip(tmp_path):
    parent, child, rebuilt = tmp_path / "parent", tmp_path / "child", tmp_path / "rebuilt"
    parent.mkdir()
    apply([D("etc"), F("etc/a", b"a"), F("etc/b", b"b"), D("gone"), F("gone/x"), F("mode", mode=0o600),
           L("link", "etc/a"), F("same", b"unchanged"), D("keep"), F("keep/f")], parent)
    subprocess.run(["cp", "-a", f"{parent}/.", str(child)], check=True)
    subprocess.run(["cp", "-a", f"{parent}/.", str(rebuilt)], check=True)
    (child / "etc/a").write_bytes(b"changed")
    os.unlink(child / "etc/b")
    shutil.rmtree(child / "gone")
    os.chmod(child / "mode", 0o644)
    os.unlink(child / "link")
    os.symlink("etc/new", child / "link")
    (child / "etc/new").write_bytes(b"new")
    os.link(child / "etc/new", child / "hard")
    os.setxattr(child / "same", "user.tag", b"v")
    out = io.BytesIO()
    layers.diff(str(parent), str(child), out)
    names = tarfile.open(fileobj=io.BytesIO(out.getvalue())).getnames()
    assert "etc/.wh.b" in names and ".wh.gone" in names and "keep/f" not in names
    layers.apply(io.BytesIO(out.getvalue()), str(rebuilt))
    assert tree(rebuilt) == tree(child)
    assert os.lstat(rebuilt / "hard").st_ino == os.lstat(rebuilt / "etc/new").st_ino
    # same trees, same bytes
    again = io.BytesIO()
    layers.diff(str(parent), str(child), again)
    assert again.getvalue() == out.getvalue()


def test_full_tree_tar(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    apply([D("a"), F("a/b", b"1"), L("c", "a/b"), entry("n", tarfile.CHRTYPE, dev=(1, 3))], src)
    out = io.BytesIO()
    layers.tar_tree(str(src), out)
    layers.apply(io.BytesIO(out.getvalue()), str(dst))
    assert tree(src) == tree(dst)


def test_tar_split_regenerates_exact_bytes(tmp_path):
    dest = tmp_path / "d"
    dest.mkdir()
    split = str(tmp_path / "split.gz")
    entries = [D("./"), D("usr"), F("usr/bin", os.urandom(70_000)), F("usr/empty", b""), L("l", "usr/bin"),
               H("h", "usr/bin"), F("x" * 150, b"long name"), F("xa", b"x", xattrs={"user.k": b"\xff\x00"})]
    data, raw = make_tar(entries, "gzip")
    digest, _ = layers.apply(io.BytesIO(data), str(dest), split_path=split)
    out = io.BytesIO()
    layers.regenerate(str(dest), split, out)
    assert out.getvalue() == raw
    # and from a diff's own split
    split2 = str(tmp_path / "split2.gz")
    d = io.BytesIO()
    layers.diff(None, str(dest), d, split_path=split2)
    r = io.BytesIO()
    layers.regenerate(str(dest), split2, r)
    assert r.getvalue() == d.getvalue()

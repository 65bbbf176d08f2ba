"""diff: the btrfs send dump parser, path unescaping, Docker's order (pure), classification on trees."""
import os

from bocker import changes

DUMP = r"""snapshot        ./.diff-1                       uuid=0a09 transid=14 parent_uuid=70c0 parent_transid=8
utimes          ./.diff-1/bin/busybox           atime=2026-12-01T23:19:05+0000 mtime=2026-12-01T23:12:50+0000
link            ./.diff-1/bin/kat               dest=bin/cat
unlink          ./.diff-1/bin/cat
update_extent   ./.diff-1/etc/passwd            offset=0 len=164
rename          ./.diff-1/var                   dest=./.diff-1/o539-7-0
rmdir           ./.diff-1/o539-7-0
chmod           ./.diff-1/home                  mode=700
mkfile          ./.diff-1/o545-14-0
rename          ./.diff-1/o545-14-0             dest=./.diff-1/etc/a\ b\012c
utimes          ./.diff-1/                      atime=2026-12-01T23:12:51+0000
"""


def test_parse_dump_names_and_content_changes():
    named, touched = changes.parse_dump(DUMP, ".diff-1")
    assert named == {"/bin/busybox", "/bin/kat", "/bin/cat", "/etc/passwd", "/var", "/o539-7-0", "/home",
                     "/o545-14-0", "/etc/a b\nc"}
    assert touched == {"/etc/passwd", "/home"}


def test_unescape():
    assert changes.unescape(r"a\ b\\c\tq\303\251") == "a b\\c\tqé"


def test_order_is_a_tree_walk():
    got = changes.order({"/a-c": "A", "/a/b": "A", "/a": "C", "/b": "D"})
    assert got == [("/a", "C"), ("/a/b", "A"), ("/a-c", "A"), ("/b", "D")]


def test_classify_as_docker(tmp_path):
    image, snap = tmp_path / "image", tmp_path / "snap"
    for root in (image, snap):
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "passwd").write_text("root\n")
        (root / "etc" / "hosts").write_text("h\n")
        (root / "var" / "www").mkdir(parents=True)
        (root / "bin").mkdir()
        os.symlink("/etc", root / "bin" / "l")
    for p in ("etc/passwd", "etc/hosts"):
        st = os.stat(image / p)
        os.utime(snap / p, ns=(st.st_atime_ns, st.st_mtime_ns))
    (snap / "etc" / "hosts").write_text("written by bocker at start\n")
    (snap / "etc" / "new").write_text("x\n")
    (snap / "var" / "www").rmdir()
    (snap / "var").rmdir()
    (snap / "new" / "deep").mkdir(parents=True)
    (snap / "new" / "deep" / "f").write_text("x")
    fds = [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in (image, snap)]
    try:
        named = {"/etc/passwd", "/etc/hosts", "/etc/new", "/var/www", "/var", "/new", "/bin/l/passwd"}
        got = changes.order(changes.classify(*fds, named, touched=set()))
    finally:
        for fd in fds:
            os.close(fd)
    # unchanged passwd: not shown; hosts: hidden; /var's child: only its top; a new tree: all of it;
    # a path through a symlink (/bin/l -> /etc) is not followed
    assert got == [("/etc", "C"), ("/etc/new", "A"), ("/new", "A"), ("/new/deep", "A"),
                   ("/new/deep/f", "A"), ("/var", "D")]

"""layers.send_stream_paths: the paths of a btrfs send stream (format of btrfs-progs' send.h), and
the walk that `changed` restricts: the same bytes as the full walk for the paths it names."""
import io
import os
import struct
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from bocker import layers  # noqa: E402

PATH, PATH_TO, PATH_LINK, UUID, DATA = 15, 16, 17, 1, 19
SNAPSHOT, MKFILE, RENAME, LINK, UNLINK, UTIMES, SYMLINK, WRITE, END = 2, 3, 9, 10, 11, 20, 8, 15, 21


def tlv(kind, value):
    return struct.pack("<HH", kind, len(value)) + value


def cmd(kind, *attrs):
    body = b"".join(attrs)
    return struct.pack("<IHI", len(body), kind, 0) + body


def stream(*cmds, version=1):
    return io.BytesIO(layers.SEND_MAGIC + struct.pack("<I", version) + b"".join(cmds))


def test_paths_of_each_command_and_rename_targets():
    s = stream(cmd(SNAPSHOT, tlv(PATH, b"child"), tlv(UUID, b"u" * 16)),
               cmd(MKFILE, tlv(PATH, b"o257-7-0")),
               cmd(RENAME, tlv(PATH, b"o257-7-0"), tlv(PATH_TO, b"etc/new file")),
               cmd(LINK, tlv(PATH, b"etc/hard"), tlv(PATH_LINK, b"etc/new file")),
               cmd(SYMLINK, tlv(PATH, b"lnk"), tlv(PATH_LINK, b"/not/a/path/of/the/tree")),
               cmd(UNLINK, tlv(PATH, b"bin/\xff")),
               cmd(UTIMES, tlv(PATH, b"")),
               cmd(END))
    assert layers.send_stream_paths(s) == {"o257-7-0", "etc/new file", "etc/hard", "lnk", "bin/\udcff", ""}


def test_v2_data_attribute_runs_to_the_end_and_no_end_command_is_fine():
    s = stream(cmd(WRITE, tlv(PATH, b"f"), struct.pack("<HH", DATA, 0) + b"\x0f\x00" * 10), version=2)
    assert layers.send_stream_paths(s) == {"f"}


@pytest.mark.parametrize("data", [b"", b"not a stream at all", layers.SEND_MAGIC + b"\1\0\0\0" + b"\5\0\0\0\3\0"])
def test_garbage_and_truncation_are_layer_errors(data):
    with pytest.raises(layers.LayerError):
        layers.send_stream_paths(io.BytesIO(data))


def test_restricted_walk_gives_the_full_walks_bytes(tmp_path):
    parent, child = tmp_path / "p", tmp_path / "c"
    for root in (parent, child):
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "passwd").write_text("root\n")
        (root / "var" / "www").mkdir(parents=True)
        (root / "var" / "www" / "index").write_text("hi\n")
        (root / "keep").write_text("same\n")
        for p in (root / "etc" / "passwd", root / "var" / "www" / "index", root / "keep",
                  root / "var" / "www", root / "var", root / "etc", root):
            os.utime(p, ns=(10**18, 10**18))
    (child / "etc" / "passwd").write_text("root\nmore\n")
    os.rename(child / "var" / "www", child / "var" / "web")
    os.unlink(child / "keep")

    def tar(changed=None):
        out = io.BytesIO()
        layers.diff(str(parent), str(child), out, changed=changed)
        return out.getvalue()
    changed = {"etc/passwd", "var/www", "var/web", "keep", "o300-1-0"}
    assert tar(changed) == tar()
    assert tar({"etc/passwd"}) != tar()                  # (what it is not told about, it does not see)

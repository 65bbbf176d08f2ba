"""userns.py: /etc/subuid parsing and range allocation (on temp files: the real ones are never
touched here), the map lines, the remap mode and what the record says."""
import pytest

from bocker import BockerError, userns


@pytest.fixture
def files(tmp_path):
    uid, gid = tmp_path / "subuid", tmp_path / "subgid"
    return uid, gid, dict(subuid=str(uid), subgid=str(gid), lock=str(tmp_path / "lock"))


def test_parse_skips_comments_and_malformed_lines():
    text = "# comment\nalice:100000:65536\nbad line\nbob:x:1\ncarol:165536:65536\n"
    assert userns.parse_subid(text) == [("alice", 100000, 65536), ("carol", 165536, 65536)]


def test_free_base_skips_every_overlapping_entry():
    entries = [("a", 100000, 65536), ("b", 170000, 10)]
    assert userns.free_base([]) == 100000
    assert userns.free_base(entries) == 100000 + 2 * 65536


def test_ensure_appends_the_same_free_range_to_both_files(files):
    uid, gid, paths = files
    uid.write_text("alice:100000:65536")  # no final newline: kept intact
    gid.write_text("alice:100000:65536\nbob:165536:65536\n")
    assert userns.ensure_subid_range(**paths) == (231072, 65536)
    assert uid.read_text() == "alice:100000:65536\nbocker:231072:65536\n"
    assert gid.read_text() == "alice:100000:65536\nbob:165536:65536\nbocker:231072:65536\n"
    assert uid.stat().st_mode & 0o777 == 0o644


def test_ensure_is_idempotent(files):
    uid, gid, paths = files
    first = userns.ensure_subid_range(**paths)
    text = uid.read_text(), gid.read_text()
    assert userns.ensure_subid_range(**paths) == first
    assert (uid.read_text(), gid.read_text()) == text
    assert userns.mapping(subuid=paths["subuid"], subgid=paths["subgid"]) == first


def test_ensure_reuses_an_entry_one_file_already_has(files):
    uid, gid, paths = files
    uid.write_text("bocker:300000:65536\n")
    assert userns.ensure_subid_range(**paths) == (300000, 65536)
    assert gid.read_text() == "bocker:300000:65536\n"


def test_ensure_refuses_differing_entries(files):
    uid, gid, paths = files
    uid.write_text("bocker:300000:65536\n")
    gid.write_text("bocker:400000:65536\n")
    with pytest.raises(BockerError, match="differ"):
        userns.ensure_subid_range(**paths)


def test_mapping_without_an_entry_names_the_fix(files):
    _, _, paths = files
    with pytest.raises(BockerError, match="bocker setup"):
        userns.mapping(subuid=paths["subuid"], subgid=paths["subgid"])


def test_map_line_and_record():
    assert userns.id_map_line(100000) == "0 100000 65536"
    rec = {"HostConfig": userns.host_config(100000)}
    assert rec["HostConfig"]["UsernsMode"] == "remap"
    assert userns.base_of(rec) == (100000, 65536)
    assert userns.init_options(rec) == ["--userns", "100000:65536"]
    assert userns.init_options({"HostConfig": {}}) == []


@pytest.mark.parametrize("flag,opt,env,mode", [
    (None, None, "", ""), ("default", None, "", "default"), (None, None, "default", "default"),
    (None, "host", "default", ""), ("default", "host", "", "")])
def test_remap_mode(flag, opt, env, mode):
    assert userns.remap_mode(flag, opt, env) == mode


@pytest.mark.parametrize("flag,opt", [("alice", None), (None, "private")])
def test_remap_mode_refuses_what_it_does_not_know(flag, opt):
    with pytest.raises(BockerError):
        userns.remap_mode(flag, opt, "")


def test_incompatible_with_host_network_and_privileged():
    userns.check_compatible("bridge")
    with pytest.raises(BockerError, match="network"):
        userns.check_compatible("host")
    with pytest.raises(BockerError, match="privileged"):
        userns.check_compatible("bridge", privileged=True)


def test_shift_tree_adds_base_keeps_setuid_and_never_follows_links(tmp_path):
    import os
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    vol = tmp_path / "vol"
    (vol / "d").mkdir(parents=True)
    (vol / "d" / "suid").write_text("")
    os.chown(vol / "d" / "suid", 0, 5)
    os.chmod(vol / "d" / "suid", 0o4755)
    outside = tmp_path / "outside"
    outside.write_text("")
    os.symlink(outside, vol / "link")
    userns.shift_tree(str(vol), 100000)
    st = os.lstat(vol / "d" / "suid")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (100000, 100005, 0o4755)
    assert os.lstat(vol / "link").st_uid == 100000
    assert os.stat(outside).st_uid == 0
    assert os.stat(vol).st_uid == 100000


def test_info_lines_name_the_remapped_containers():
    recs = [{"Name": "/a", "HostConfig": userns.host_config(100000)}, {"Name": "/b", "HostConfig": {}}]
    assert userns.info_lines(recs, 100000) == ["userns: bocker:100000:65536 (idmapped mounts)",
                                               "  Remapped Containers: a"]

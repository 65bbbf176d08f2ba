"""cgroups.update (bocker update): the limit files of a running container's cgroup, v1 and v2."""
from bocker import cgroups

CID = "feed" + "0" * 60
MB = 1024 * 1024


def test_v1_update_writes_each_file_in_its_controller(cfg, env):
    for c in ("memory", "cpu", "pids"):
        (env / "cgroup" / c / "bocker-pytest" / CID).mkdir(parents=True)
    cgroups.update(cfg, CID, {"memory": 128 * MB, "cpus": 0.5, "pids": 50})
    group = env / "cgroup"
    assert (group / "memory" / "bocker-pytest" / CID / "memory.limit_in_bytes").read_text() == str(128 * MB)
    assert (group / "cpu" / "bocker-pytest" / CID / "cpu.cfs_quota_us").read_text() == "50000"
    assert (group / "pids" / "bocker-pytest" / CID / "pids.max").read_text() == "50"
    cgroups.update(cfg, CID, {"pids": -1})  # no limit
    assert (group / "pids" / "bocker-pytest" / CID / "pids.max").read_text() == "max"


def test_v2_update_writes_the_unified_files(cfg, cgroup_v2):
    path = cgroup_v2 / "bocker-pytest" / CID
    path.mkdir(parents=True)
    cgroups.update(cfg, CID, {"memory": 64 * MB, "pids": 0})
    assert (path / "memory.max").read_text() == str(64 * MB)
    assert (path / "pids.max").read_text() == "max"
    assert not (path / "cpu.max").exists()  # only what is asked for

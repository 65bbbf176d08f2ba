"""pytest for bocker's pure logic: import the package from lib/, a private store per test."""
import os
import sys

import pytest

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib")
sys.path.insert(0, os.path.realpath(LIB))

from bocker import shell  # noqa: E402


@pytest.fixture(autouse=True)
def quiet_runner():
    """Every test starts (and ends) with --trace and --dry-run off."""
    shell.trace = shell.dry_run = shell.timings = False
    yield
    shell.trace = shell.dry_run = shell.timings = False


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private bocker environment: store under tmp_path, own bridge/subnet/cgroup names.
    Nothing on the host is touched: the cgroup root is a fake directory."""
    root = tmp_path / "root"
    for d in ("images", "layers", "containers", "volumes", "networks", "names"):
        (root / d).mkdir(parents=True)
    cg = tmp_path / "cgroup"
    cg.mkdir()
    monkeypatch.setenv("BOCKER_ROOT", str(root))
    monkeypatch.setenv("BOCKER_BRIDGE", "bkpytest0")
    monkeypatch.setenv("BOCKER_SUBNET", "10.230.0.0/24")
    monkeypatch.setenv("BOCKER_CGROUP_PARENT", "bocker-pytest")
    monkeypatch.setenv("BOCKER_CGROUP_ROOT", str(cg))
    return tmp_path


@pytest.fixture
def cfg(env):
    from bocker.config import Config
    return Config()


@pytest.fixture
def cgroup_v2(env):
    """A fake cgroup v2 tree: its root has a cgroup.controllers file."""
    cg = env / "cgroup"
    (cg / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (cg / "cgroup.subtree_control").write_text("")
    return cg

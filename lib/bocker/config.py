"""Paths and settings, from the environment and the global flags."""
import os

DEFAULT_ROOT = "/var/bocker"
# the checkout bocker runs from (lib/bocker/config.py is two levels down): bocker.py, scripts/
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Config:
    """Everything that makes one bocker store distinct from another on the same host."""

    def __init__(self, root=None):
        env = os.environ
        self.root = os.path.abspath(root or env.get("BOCKER_ROOT") or DEFAULT_ROOT)
        self.bridge = env.get("BOCKER_BRIDGE", "bocker0")
        self.subnet = env.get("BOCKER_SUBNET", "10.201.0.0/16")
        # `network create` without --subnet takes a free /24 of this pool; its bridges are
        # named PREFIX + the start of the network's id (tests use their own prefix to find theirs)
        self.network_pool = env.get("BOCKER_NETWORK_POOL", "10.210.0.0/16")
        self.network_prefix = env.get("BOCKER_NETWORK_PREFIX", "bk-")
        # cgroup parent directory name; tests use their own so they can remove it
        self.cgroup_parent = env.get("BOCKER_CGROUP_PARENT", "bocker")
        self.cgroup_root = env.get("BOCKER_CGROUP_ROOT", "/sys/fs/cgroup")
        self.store_size = env.get("BOCKER_STORE_SIZE", "10G")
        self.timings = env.get("BOCKER_TIMINGS") not in (None, "", "0")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    @property
    def loop_file(self):
        """Where `setup` puts the btrfs image when BOCKER_ROOT is not btrfs."""
        return self.root.rstrip("/") + ".btrfs"

"""Network verbs: for now only the address callbacks of dry-run scripts (_lease, _release)."""
from .verbs import arg, verb


@verb("_lease", arg("container"))
def cmd_lease(cfg, a):
    """(internal) Lease an address for a container: dry-run scripts call this."""
    from .. import network
    from ..network import ipam
    print(ipam.lease(network.get(cfg), a.container))


@verb("_release", arg("container"))
def cmd_release(cfg, a):
    """(internal) Give back a container's address: dry-run scripts call this."""
    from .. import network
    from ..network import ipam
    ipam.release(network.get(cfg), a.container)

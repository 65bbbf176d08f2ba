"""Networks: what a container can be attached to, one record each (networks/<name>.json).

`bridge`, the default, comes from the store's Config (BOCKER_BRIDGE, BOCKER_SUBNET) and keeps its
record under the bridge's name, networks/<bridge>.json (its IPAM map); `host` shares the host's
network namespace and `none` has only a loopback. What is done with a network lives next door:
bridge.py (the bridge, bocker's iptables chains, veth pairs), ipam.py (addresses), ports.py
(-p as DNAT rules), dns.py (the container's /etc/hosts, /etc/hostname, /etc/resolv.conf).
"""
from .. import BockerError


class Network:
    """One network: its name, its driver (bridge, host or null) and, for a bridge, the link,
    the subnet, bocker's chain names and the record that holds its IPAM map."""
    __slots__ = ("name", "driver", "bridge", "subnet", "gateway", "record", "nat_chain", "post_chain",
                 "fwd_chain")

    def __init__(self, name, driver, bridge=None, subnet=None, record=None):
        self.name, self.driver, self.bridge, self.record = name, driver, bridge, record
        self.subnet = _parse_subnet(subnet) if subnet else None
        self.gateway = next(self.subnet.hosts()) if subnet else None
        # iptables chain names: per bridge, so two stores never share (or delete) a chain
        self.nat_chain = f"BOCKER-{bridge}" if bridge else None
        self.post_chain = f"BOCKER-POST-{bridge}" if bridge else None
        self.fwd_chain = f"BOCKER-FWD-{bridge}" if bridge else None


def _parse_subnet(text):
    import ipaddress
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise BockerError(f"invalid BOCKER_SUBNET: {text}")
    if net.num_addresses < 4:
        raise BockerError(f"BOCKER_SUBNET {text} is too small")
    return net


def get(cfg, name="bridge"):
    """The network called `name`; BockerError if there is none."""
    if name == "bridge":
        return Network("bridge", "bridge", cfg.bridge, cfg.subnet, cfg.path("networks", cfg.bridge + ".json"))
    if name == "host":
        return Network("host", "host")
    if name == "none":
        return Network("none", "null")
    raise BockerError(f"network {name} not found (bridge, none or host)")

"""Networks: what a container can be attached to, one record each (networks/<name>.json).

`bridge`, the default, comes from the store's Config (BOCKER_BRIDGE, BOCKER_SUBNET) and keeps its
record under the bridge's name, networks/<bridge>.json (its IPAM map); `host` shares the host's
network namespace and `none` has only a loopback. User networks (`network create`) are bridges
too, each with its own bridge, chains, IPAM map and DNS server; their records say so ("Name").
What is done with a network lives next door: bridge.py (the bridge, bocker's iptables chains,
veth pairs), ipam.py (addresses), ports.py (-p as DNAT rules), dns.py (the container's /etc
files, and the DNS server of a user network).
"""
import os
import re

from .. import BockerError, NotFound

BUILTIN = ("bridge", "host", "none")
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


class Network:
    """One network: its name, its driver (bridge, host or null) and, for a bridge, the link,
    the subnet, bocker's chain names and the record that holds its IPAM map; `user` is True
    for a network made by `network create` (name resolution, removable)."""
    __slots__ = ("name", "driver", "bridge", "subnet", "gateway", "record", "nat_chain", "post_chain",
                 "fwd_chain", "internal", "user")

    def __init__(self, name, driver, bridge=None, subnet=None, record=None, gateway=None, internal=False,
                 user=False):
        self.name, self.driver, self.bridge, self.record = name, driver, bridge, record
        self.subnet = _parse_subnet(subnet) if subnet else None
        self.gateway = _parse_gateway(self.subnet, gateway) if subnet else None
        self.internal, self.user = internal, user
        # iptables chain names: per bridge, so two stores never share (or delete) a chain
        self.nat_chain = f"BOCKER-{bridge}" if bridge else None
        self.post_chain = f"BOCKER-POST-{bridge}" if bridge else None
        self.fwd_chain = f"BOCKER-FWD-{bridge}" if bridge else None

    @property
    def directory(self):
        """Where the network's own files live (DNS server's hosts and pid files)."""
        return self.record[:-len(".json")] + ".d"


def _parse_subnet(text):
    import ipaddress
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise BockerError(f"invalid subnet: {text}")
    if net.version != 4 or net.num_addresses < 4:
        raise BockerError(f"subnet {text} is too small (or not IPv4)")
    return net


def _parse_gateway(subnet, text):
    """The gateway: the subnet's first address unless given; never its network or broadcast."""
    import ipaddress
    if not text:
        return next(subnet.hosts())
    try:
        gw = ipaddress.ip_address(text)
    except ValueError:
        raise BockerError(f"invalid gateway: {text}")
    if gw not in subnet or gw in (subnet.network_address, subnet.broadcast_address):
        raise BockerError(f"gateway {text} is not a host address of {subnet}")
    return gw


def _record_path(cfg, name):
    return cfg.path("networks", name + ".json")


def _from_record(cfg, rec):
    ipam = rec["IPAM"]["Config"][0]
    return Network(rec["Name"], "bridge", rec["Options"]["com.docker.network.bridge.name"], ipam["Subnet"],
                   _record_path(cfg, rec["Name"]), ipam["Gateway"], rec["Internal"], user=True)


def get(cfg, name="bridge"):
    """The network called `name` (or a user network's id or id prefix); BockerError if none."""
    if name == "bridge":
        return Network("bridge", "bridge", cfg.bridge, cfg.subnet, cfg.path("networks", cfg.bridge + ".json"))
    if name == "host":
        return Network("host", "host")
    if name == "none":
        return Network("none", "null")
    if name.startswith("container:"):  # another container's netns (endpoints.shared_netns)
        return Network(name, "container")
    return _from_record(cfg, load(cfg, name))


def load(cfg, ref):
    """A user network's record by name, id or id prefix."""
    from .. import store
    if NAME_RE.match(ref) and ref != cfg.bridge:
        try:
            return store.read_json(_record_path(cfg, ref))
        except FileNotFoundError:
            pass
    by_id = {r["Id"]: r for r in records(cfg)}
    cid = store.by_prefix(by_id, ref, "network") if re.match(r"^[0-9a-f]{1,64}$", ref) else None
    if cid is None:
        raise NotFound(f"network {ref} not found")
    return by_id[cid]


def records(cfg):
    """Every user network's record, by name (the default bridge's IPAM file has no "Name")."""
    from .. import store
    out = []
    directory = cfg.path("networks")
    for entry in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        if entry.endswith(".json") and entry != cfg.bridge + ".json":
            rec = store.read_json(os.path.join(directory, entry))
            if "Name" in rec:
                out.append(rec)
    return out


def builtin_info(cfg, name):
    """`network inspect` of bridge, host or none, in Docker's shape."""
    net = get(cfg, name)
    config = [{"Subnet": str(net.subnet), "Gateway": str(net.gateway)}] if net.subnet else []
    options = {"com.docker.network.bridge.name": net.bridge} if net.bridge else {}
    return _info(name, name, net.driver, config, False, {}, options, "0001-01-01T00:00:00Z")


def info(cfg, ref):
    """`network inspect`: Docker's fields (Containers: the leases, id -> address)."""
    if ref in BUILTIN:
        out = builtin_info(cfg, ref)
        net = get(cfg, ref)
    else:
        rec = load(cfg, ref)
        out = _info(rec["Name"], rec["Id"], "bridge", rec["IPAM"]["Config"], rec["Internal"], rec["Labels"],
                    rec["Options"], rec["Created"])
        net = _from_record(cfg, rec)
    prefix = out["IPAM"]["Config"][0]["Subnet"].split("/")[1] if out["IPAM"]["Config"] else ""
    out["Containers"] = {cid: {"IPv4Address": f"{ip}/{prefix}"} for ip, cid in _allocations(net).items()}
    return out


def _allocations(net):
    from . import ipam
    return ipam.allocations(net) if net.record else {}


def _info(name, nid, driver, config, internal, labels, options, created):
    return {"Name": name, "Id": nid, "Created": created, "Scope": "local", "Driver": driver,
            "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": {}, "Config": config},
            "Internal": internal, "Attachable": False, "Ingress": False, "Options": options,
            "Labels": labels}


def names(cfg):
    """bridge, host, none, then the user networks by name."""
    return list(BUILTIN) + [r["Name"] for r in records(cfg)]

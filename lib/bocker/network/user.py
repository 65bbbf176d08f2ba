"""User-defined networks: `network create`, `rm`, `prune`, and taking their kernel objects
down at `teardown` (the records stay: the next container brings bridge and DNS server back).

A network is a record (networks/<name>.json, in `docker network inspect`'s shape, plus its
IPAM map), a bridge with the gateway address, bocker's chains for it and one dnsmasq."""
import os

from .. import BockerError, events, fmt, shell, store
from . import BUILTIN, NAME_RE, _from_record, _parse_gateway, _parse_subnet, _record_path, records


def create(cfg, name, subnet=None, gateway=None, labels=None, internal=False):
    """Record the network, make its bridge and chains, start its DNS server; returns the id."""
    _check_name(cfg, name)
    os.makedirs(cfg.path("networks"), exist_ok=True)
    with store.lock(cfg.path("networks", ".create.lock")):  # names and subnets stay unique
        if os.path.exists(_record_path(cfg, name)):
            raise BockerError(f"network with name {name} already exists")
        net_subnet = _parse_subnet(subnet) if subnet else _free_subnet(cfg)
        if subnet:
            _check_free(cfg, net_subnet)
        gw = _parse_gateway(net_subnet, gateway)
        nid = os.urandom(32).hex()
        rec = {"Name": name, "Id": nid, "Created": fmt.now_iso(), "Driver": "bridge",
               "IPAM": {"Driver": "default", "Config": [{"Subnet": str(net_subnet), "Gateway": str(gw)}]},
               "Internal": bool(internal), "Labels": dict(labels or {}),
               "Options": {"com.docker.network.bridge.name": cfg.network_prefix + nid[:15 - len(cfg.network_prefix)]}}
        store.write_json(_record_path(cfg, name), rec)
    net = _from_record(cfg, rec)
    # the DNS server's files (hosts, pid file) beside the record
    shell.do(f"mkdir -p {shell.quote(net.directory)}", os.makedirs, net.directory, exist_ok=True)
    try:
        bring_up(net)
    except BaseException:
        take_down(net)
        _forget(net)
        raise
    events.network(cfg, "create", nid, name)
    return nid


def bring_up(net):
    """The bridge, its chains and its DNS server (each only if missing)."""
    from . import bridge, dns
    bridge.setup(net)
    dns.start(net)


def take_down(net):
    """Stop the DNS server, remove the chains and the bridge: what bring_up made."""
    from . import bridge, dns
    dns.stop(net)
    bridge.teardown(net)


def _check_name(cfg, name):
    if not NAME_RE.match(name):
        raise BockerError(f"invalid network name {name!r}: [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    if name in BUILTIN or name == cfg.bridge:
        raise BockerError(f"network name {name} is reserved")


def _used_subnets(cfg):
    """Subnets already taken: this store's networks (the default bridge even when down) and
    every route of the host (other stores' bridges, the host's own networks)."""
    import ipaddress
    used = [_parse_subnet(cfg.subnet)]
    used += [_parse_subnet(r["IPAM"]["Config"][0]["Subnet"]) for r in records(cfg)]
    for line in shell.run(["ip", "-4", "-o", "route", "show", "table", "all"], capture=True).splitlines():
        words = line.split()
        dest = words[1] if words[:1] and words[0] in ("local", "broadcast", "unicast") else words[0] if words else ""
        try:
            used.append(ipaddress.ip_network(dest, strict=False))
        except ValueError:  # "default", "unreachable ..."
            continue
    return used


def _check_free(cfg, subnet):
    for other in _used_subnets(cfg):
        if subnet.overlaps(other) and not (other.prefixlen == 32 and other.is_multicast):
            raise BockerError(f"subnet {subnet} overlaps {other}, already in use")


def _free_subnet(cfg):
    """The first /24 of the pool that overlaps nothing in use (Docker's default pools idea)."""
    used = _used_subnets(cfg)
    for candidate in _parse_subnet(cfg.network_pool).subnets(new_prefix=24):
        if not any(candidate.overlaps(u) for u in used):
            return candidate
    raise BockerError(f"no free /24 left in the pool {cfg.network_pool} (BOCKER_NETWORK_POOL)")


def remove(cfg, ref):
    """network rm: refused while a container holds an address on it."""
    from . import get, ipam, load
    rec = load(cfg, ref)
    net = get(cfg, rec["Name"])
    with store.lock(net.record + ".lock"):
        leases = ipam.allocations(net)
        if leases:
            raise BockerError(f"error while removing network: network {rec['Name']} id {rec['Id']} has "
                              f"active endpoints ({len(leases)} container(s))")
        take_down(net)
        _forget(net)
    events.network(cfg, "destroy", rec["Id"], rec["Name"])
    return rec["Name"]


def _forget(net):
    import shutil
    if os.path.isdir(net.directory):
        shell.do(f"rm -r {shell.quote(net.directory)}", shutil.rmtree, net.directory)
    for path in (net.record, net.record + ".lock", os.path.join(os.path.dirname(net.record), net.bridge + ".setup.lock")):
        store.unlink(path)


def prune(cfg):
    """Remove every user network no container holds an address on; returns their names."""
    from . import ipam
    return [remove(cfg, r["Name"]) for r in records(cfg) if not ipam.allocations(_from_record(cfg, r))]


def teardown_all(cfg):
    """`teardown`: the kernel objects of every user network (their records stay)."""
    for rec in records(cfg):
        take_down(_from_record(cfg, rec))

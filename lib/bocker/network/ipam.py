"""IPAM: a network's addresses, leased to containers in its record ({"allocations": {ip: id}}),
under a file lock, so that parallel `run`s never share an address. On a user network the
record also keeps the names each address answers to in DNS ({"names": {ip: [name, ...]}}),
and the DNS server's hosts file is rewritten under the same lock."""
from .. import BockerError, shell, store


def lease(net, cid, ip=None, names=()):
    """Allocate `ip` (--ip) or the lowest free address of the network's subnet for this container."""
    with store.lock(net.record + ".lock"):
        state = store.read_json(net.record, default={"subnet": str(net.subnet), "allocations": {}})
        taken = state["allocations"]
        ip = _requested(net, ip, taken) if ip else _lowest_free(net, taken)
        if not shell.dry_run:
            taken[str(ip)] = cid
            if net.user:
                state.setdefault("names", {})[str(ip)] = list(names)
            store.write_json(net.record, state)
            _publish_names(net, state)
    return str(ip)


def _lowest_free(net, taken):
    for ip in net.subnet.hosts():
        if ip != net.gateway and str(ip) not in taken:
            return ip
    raise BockerError(f"no free address left in {net.subnet}")


def _requested(net, text, taken):
    import ipaddress
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise BockerError(f"invalid IP address: {text}")
    if ip not in net.subnet or ip in (net.subnet.network_address, net.subnet.broadcast_address, net.gateway):
        raise BockerError(f"address {ip} is not a free host address of {net.subnet} (network {net.name})")
    if str(ip) in taken:
        raise BockerError(f"address {ip} is already in use on network {net.name}")
    return ip


def release(net, cid):
    """Give back every address held by this container (and its names)."""
    if shell.dry_run:
        return
    with store.lock(net.record + ".lock"):
        state = store.read_json(net.record, default={"allocations": {}})
        kept = {ip: c for ip, c in state["allocations"].items() if c != cid}
        if kept != state["allocations"]:
            state["allocations"] = kept
            if "names" in state:
                state["names"] = {ip: n for ip, n in state["names"].items() if ip in kept}
            store.write_json(net.record, state)
            _publish_names(net, state)


def _publish_names(net, state):
    if net.user:
        from . import dns
        dns.write_hosts(net, state.get("names", {}))

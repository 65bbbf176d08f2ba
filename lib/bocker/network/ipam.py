"""IPAM: a network's addresses, leased to containers in its record ({"allocations": {ip: id}}),
under a file lock, so that parallel `run`s never share an address."""
from .. import BockerError, shell, store


def lease(net, cid):
    """Allocate the lowest free address of the network's subnet for this container."""
    with store.lock(net.record + ".lock"):
        state = store.read_json(net.record, default={"subnet": str(net.subnet), "allocations": {}})
        taken = set(state["allocations"])
        for ip in net.subnet.hosts():
            if ip != net.gateway and str(ip) not in taken:
                break
        else:
            raise BockerError(f"no free address left in {net.subnet}")
        if not shell.dry_run:
            state["allocations"][str(ip)] = cid
            store.write_json(net.record, state)
    return str(ip)


def release(net, cid):
    """Give back every address held by this container."""
    if shell.dry_run:
        return
    with store.lock(net.record + ".lock"):
        state = store.read_json(net.record, default={"allocations": {}})
        kept = {ip: c for ip, c in state["allocations"].items() if c != cid}
        if kept != state["allocations"]:
            state["allocations"] = kept
            store.write_json(net.record, state)

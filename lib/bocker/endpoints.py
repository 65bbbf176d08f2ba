"""A container's endpoints: the networks it is on, kept in Docker's NetworkSettings.Networks
shape ({name: {IPAddress, Aliases, MacAddress, ...}}, the first one eth0, with the default route).
`network connect` and `disconnect` add or remove one, live on a running container (a veth pair,
its address, its DNS names) or recorded for its next start; `--network container:NAME` shares
another running container's network namespace instead of having endpoints of its own."""
import os

from . import BockerError, containers, network, shell, store

CONTAINER_MODE = "container:"


def names(rec):
    """The networks the container is on, eth0's first."""
    return list((rec["NetworkSettings"].get("Networks") or {}))


def primary(rec):
    """The network of eth0: the mode for host, none and container:, else the first endpoint's
    (none once every network is disconnected)."""
    mode = rec["HostConfig"]["NetworkMode"]
    if mode in ("host", "none") or mode.startswith(CONTAINER_MODE):
        return mode
    return (names(rec) or ["none"])[0]


def lease(cfg, rec, net, undo):
    """Bridge (and, on a user network, DNS server) up if need be, then the container's address
    on `net`, recorded in its endpoint; on a user network its name, aliases and short id go to
    DNS. Returns the address."""
    from .network import bridge, dns, ipam, user
    cid = rec["Id"]
    networks = rec["NetworkSettings"].setdefault("Networks", {})
    endpoint = networks.get(net.name) or {}
    wanted = (endpoint.get("IPAMConfig") or {}).get("IPv4Address")
    if wanted and not net.user:
        raise BockerError("user specified IP address is supported on user defined networks only")
    if net.user and (not bridge.exists(net) or not dns.server_pid(net)):
        user.bring_up(net)  # first container after a teardown
    elif not bridge.exists(net):  # the default bridge's first container
        bridge.setup(net)
    dns_names = [rec["Name"][1:], cid[:12], *(endpoint.get("Aliases") or [])] if net.user else []
    ip = _script_lease(cfg, cid, net, wanted, dns_names) if shell.dry_run else ipam.lease(net, cid, wanted, dns_names)
    undo.append(lambda: ipam.release(net, cid, None if shell.dry_run else ip))
    networks[net.name] = dict(endpoint, IPAddress=ip, Gateway=str(net.gateway), IPPrefixLen=net.subnet.prefixlen,
                              MacAddress="" if shell.dry_run else bridge.mac_of(ip),
                              NetworkID=_network_id(cfg, net), DNSNames=dns_names or None,
                              Aliases=endpoint.get("Aliases"))
    return ip


def _network_id(cfg, net):
    return network.load(cfg, net.name)["Id"] if net.user else net.name


def _script_lease(cfg, cid, net, wanted, dns_names):
    """In a dry-run script, the address is leased when the script runs (IPAM is bocker's
    bookkeeping: a script that picked one now could collide with a later container)."""
    args = ["_lease", "--network", net.name, *(["--ip", wanted] if wanted else [])]
    args += [a for n in dns_names for a in ("--dns-name", n)]
    shell.script(f"ip=$({containers.bocker_line(cfg, *args, cid)})")
    return str(shell.Var("ip"))


def join_others(cfg, rec, pid, undo):
    """At start, after eth0: eth1, eth2... on the container's other networks."""
    for index, name in enumerate(names(rec)[1:], start=1):
        _join(cfg, rec, network.get(cfg, name), pid, index, undo)


def _join(cfg, rec, net, pid, index, undo):
    from .network import bridge
    ip = lease(cfg, rec, net, undo)
    bridge.attach(net, rec["Id"], pid, ip, index)
    bridge.configure(net, pid, ip, index)


# --- network connect / disconnect ----------------------------------------------------------

def connect(cfg, net_ref, ref, aliases=(), ip=None):
    """Put the container on one more network: live if it runs, else at its next start."""
    net = network.get(cfg, net_ref)
    cid = containers.resolve(cfg, ref)
    with store.lock(containers.cdir(cfg, cid, ".lock")):
        rec = containers.load(cfg, cid)
        _check_connectable(rec, net, aliases, ip)
        rec["NetworkSettings"].setdefault("Networks", {})[net.name] = {
            "Aliases": list(aliases) or None, "IPAMConfig": {"IPv4Address": ip} if ip else None}
        st = containers.state(cfg, rec)
        if st["Status"] in ("running", "paused"):
            from .network import bridge
            undo = []
            try:
                _join(cfg, rec, net, st["Pid"], bridge.free_index(cid), undo)
            except BaseException:
                containers.rollback(undo)
                raise
        containers.save(cfg, rec)


def _check_connectable(rec, net, aliases, ip):
    mode = rec["HostConfig"]["NetworkMode"]
    if mode in ("host", "none") or mode.startswith(CONTAINER_MODE):
        raise BockerError(f"container sharing the {mode} network cannot be connected to another network")
    if net.driver != "bridge":
        raise BockerError(f"container cannot be connected to the {net.name} network")
    if net.name in names(rec):
        raise BockerError(f"endpoint with name {rec['Name'][1:]} already exists in network {net.name}")
    if (aliases or ip) and not net.user:
        raise BockerError("network-scoped aliases and --ip are supported on user defined networks only")
    if ip:
        import ipaddress
        try:
            if ipaddress.ip_address(ip) not in net.subnet:
                raise ValueError
        except ValueError:
            raise BockerError(f"invalid address {ip} for network {net.name} ({net.subnet})")


def disconnect(cfg, net_ref, ref, force=False):
    """Take the container off a network: its interface, address, DNS names (and, for eth0's
    network, its published ports) go at once if it runs."""
    from .network import bridge, ipam
    net = network.get(cfg, net_ref)
    cid = containers.resolve(cfg, ref)
    with store.lock(containers.cdir(cfg, cid, ".lock")):
        rec = containers.load(cfg, cid)
        if net.name not in names(rec):
            if force:
                return
            raise BockerError(f"container {rec['Name'][1:]} is not connected to network {net.name}")
        was_primary = names(rec)[0] == net.name
        st = containers.state(cfg, rec)
        running = st["Status"] in ("running", "paused")
        if running:
            if was_primary:
                containers.unpublish_ports(cfg, rec, net)
            bridge.detach(net, cid)
            ipam.release(net, cid, rec["NetworkSettings"]["Networks"][net.name].get("IPAddress"))
        del rec["NetworkSettings"]["Networks"][net.name]
        if was_primary:  # the top-level fields are the default route's network's: the next one's
            nxt = next(iter(rec["NetworkSettings"]["Networks"].values()), {})
            rec["NetworkSettings"].update({k: nxt.get(k, 0 if k == "IPPrefixLen" else "")
                                           for k in ("IPAddress", "Gateway", "IPPrefixLen", "MacAddress")})
            if running and nxt.get("Gateway"):
                bridge.default_route(st["Pid"], nxt["Gateway"])
        containers.save(cfg, rec)


# --- --network container:NAME --------------------------------------------------------------

def shared_netns(cfg, rec):
    """--network container:NAME: the other container must run; its netns (SandboxKey, which the
    launch enters) and its /etc/hosts and resolv.conf (bind-mounted, as Docker shares them).
    Returns the /etc bind mounts."""
    target = containers.load(cfg, containers.resolve(cfg, rec["HostConfig"]["NetworkMode"][len(CONTAINER_MODE):]))
    st = containers.state(cfg, target)
    if st["Status"] not in ("running", "paused"):
        raise BockerError(f"cannot join network namespace of a non running container: {target['Name'][1:]}")
    rec["NetworkSettings"]["SandboxKey"] = f"/proc/{st['Pid']}/ns/net"
    home = containers.cdir(cfg, target["Id"])
    return [f"{os.path.join(home, f)}:/etc/{f}:rw" for f in ("hosts", "resolv.conf")
            if os.path.exists(os.path.join(home, f))]


def network_mode(cfg, mode):
    """run/create's --network: container:NAME is recorded with the other container's id."""
    if not mode.startswith(CONTAINER_MODE):
        return mode
    return CONTAINER_MODE + containers.resolve(cfg, mode[len(CONTAINER_MODE):])

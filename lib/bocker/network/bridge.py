"""A bridge network on the host: the bridge with the gateway address, bocker's own iptables
chains, and a veth pair per container.

Containers get eth0 (one end of a veth pair; the other end is on the bridge), an address from
the subnet and a default route via the bridge (the subnet's first address). NAT to the outside
is a MASQUERADE rule in bocker's own chain: no host rule is touched.
"""
import os

from .. import BockerError, shell, store


def exists(net):
    return os.path.exists(f"/sys/class/net/{net.bridge}")


def iptables(*args, table="nat", check=True):
    return shell.run(["iptables", "-w", "-t", table, *args], check=check)


def _has_rule(table, chain, *rule):
    return shell.query(["iptables", "-w", "-t", table, "-C", chain, *rule])


def _chain_exists(table, chain):
    return shell.query(["iptables", "-w", "-t", table, "-n", "-L", chain])


# Every bocker bridge is in this interface group: a network's chain drops what goes from it to
# another bocker bridge, or comes from one (Docker's DOCKER-ISOLATION), without listing them.
DEVGROUP = "0xb0c"


def _chains(net):
    """(table, chain, [jump from built-in chain + match], [rules in the chain])."""
    subnet, br = str(net.subnet), net.bridge
    # out to the world from the subnet (not from an --internal one); and published ports
    # reached from the host's loopback (127.0.0.1:PORT), whose replies must come back through the host
    post = [] if net.internal else [("-s", subnet, "!", "-o", br, "-j", "MASQUERADE")]
    isolation = [("-i", br, "!", "-o", br, "-m", "devgroup", "--dst-group", DEVGROUP, "-j", "DROP"),
                 ("-o", br, "!", "-i", br, "-m", "devgroup", "--src-group", DEVGROUP, "-j", "DROP")]
    if net.internal:  # no way in or out but through the bridge itself
        isolation = [("-i", br, "!", "-o", br, "-j", "DROP"), ("-o", br, "!", "-i", br, "-j", "DROP")]
    return [
        # (and hairpin: a container reaching a published port of its own network through the
        # host, whose reply must come back through the host too, not straight to it on the bridge)
        ("nat", net.post_chain, [("POSTROUTING",)],
         post + [("-s", "127.0.0.0/8", "-o", br, "-j", "MASQUERADE"),
                 ("-s", subnet, "-o", br, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE")]),
        ("nat", net.nat_chain, [("PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL"),
                                ("OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL")], []),
        ("filter", net.fwd_chain, [("FORWARD",)],
         isolation + [("-i", br, "-j", "ACCEPT"), ("-o", br, "-j", "ACCEPT")]),
    ]


def setup(net):
    """Create the bridge with the gateway address, enable forwarding, add bocker's chains.
    Under a lock: the first containers started in parallel all find the bridge missing."""
    with store.lock(os.path.join(os.path.dirname(net.record), net.bridge + ".setup.lock")):
        _setup(net)


def _setup(net):
    if not exists(net):
        shell.run(["ip", "-batch", "-"], input=(
            f"link add {net.bridge} group {DEVGROUP} type bridge\n"
            f"addr add {net.gateway}/{net.subnet.prefixlen} dev {net.bridge}\n"
            f"link set {net.bridge} up\n"))
        # let DNAT'ed loopback traffic (-p from 127.0.0.1) be routed to the bridge
        shell.run(["sysctl", "-q", "-w", f"net.ipv4.conf.{net.bridge}.route_localnet=1"])
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        if f.read().strip() != "1":
            shell.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
    for table, chain, jumps, rules in _chains(net):
        if not _chain_exists(table, chain):
            iptables("-N", chain, table=table)
            for rule in rules:
                iptables("-A", chain, *rule, table=table)
        for jump in jumps:
            builtin, match = jump[0], jump[1:]
            if not _has_rule(table, builtin, *match, "-j", chain):
                iptables("-I", builtin, *match, "-j", chain, table=table)


def teardown(net):
    """Remove the jumps, bocker's chains and the bridge (only bocker's own)."""
    for table, chain, jumps, _ in _chains(net):
        for jump in jumps:
            while _has_rule(table, jump[0], *jump[1:], "-j", chain):
                iptables("-D", *jump, "-j", chain, table=table)
        if _chain_exists(table, chain):
            iptables("-F", chain, table=table)   # bocker's own chain only
            iptables("-X", chain, table=table)
    if exists(net):
        shell.run(["ip", "link", "del", net.bridge, "type", "bridge"])


# interface n of a container: eth0 is the veth pair "vb" + 12 hex of its id (the kernel allows
# 15 characters), ethN (network connect, or a second network at start) the same plus one more
INDEX_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def veth_name(cid, index=0):
    return "vb" + cid[:12] + (INDEX_CHARS[index] if index else "")


def mac_of(ip):
    """A MAC derived from the address, as Docker long did: a container that gets the address of
    one removed a moment ago is reachable at once, the bridge's neighbour entry still holds."""
    return "02:42:" + ":".join(f"{int(b):02x}" for b in str(ip).split("."))


def attach(net, cid, pid, ip=None, index=0):
    """Create the veth pair with its peer (ethINDEX) directly in the container's netns: moving it
    there afterwards would cost ~35 ms. init.py gives eth0 its address and route; configure()
    the others. (A dry-run script learns the address only when it runs: its eth0 keeps a
    random MAC.)"""
    host_end = veth_name(cid, index)
    mac = f" address {mac_of(ip)}" if ip and not shell.dry_run else ""
    shell.run(["ip", "-batch", "-"], input=(
        f"link add {host_end} type veth peer name eth{index}{mac} netns {pid}\n"
        f"link set {host_end} master {net.bridge} up\n"
        # hairpin: a container reaching its own published port through the host is answered
        f"link set {host_end} type bridge_slave hairpin on\n"))


def configure(net, pid, ip, index):
    """Address and link up for ethINDEX inside the container's netns (no default route: that
    stays eth0's)."""
    shell.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-batch", "-"], input=(
        f"addr add {ip}/{net.subnet.prefixlen} dev eth{index}\n"
        f"link set eth{index} up\n"))


def default_route(pid, gateway):
    """The container's default route via `gateway` (another network's, when eth0's was
    disconnected: as Docker, the container keeps a way out)."""
    shell.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "route", "replace", "default", "via", gateway])


def free_index(cid):
    """The first interface number no veth of this container uses (network connect)."""
    for index in range(1, len(INDEX_CHARS)):
        if not os.path.exists(f"/sys/class/net/{veth_name(cid, index)}"):
            return index
    raise BockerError("too many networks on one container")


def detach(net, cid):
    """Delete the container's veth on this network's bridge, if any (its peer goes with it): on
    network disconnect, and at exit when the netns outlives the container (--network container:)."""
    for index in range(len(INDEX_CHARS)):
        name = veth_name(cid, index)
        try:
            master = os.path.basename(os.readlink(f"/sys/class/net/{name}/master"))
        except OSError:
            continue
        if master == net.bridge:
            shell.run(["ip", "link", "del", name], check=False)

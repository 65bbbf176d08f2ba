"""Networking: the bridge, a veth pair per container, IPAM, and bocker's own iptables chains.

Containers on the `bridge` network get eth0 (one end of a veth pair; the other end is on the
bridge), an address from the subnet and a default route via the bridge (the subnet's first
address). NAT to the outside is a MASQUERADE rule in bocker's own chain: no host rule is touched.
"""
import ipaddress
import os

from . import BockerError, shell, store


def subnet(cfg):
    try:
        net = ipaddress.ip_network(cfg.subnet, strict=False)
    except ValueError:
        raise BockerError(f"invalid BOCKER_SUBNET: {cfg.subnet}")
    if net.num_addresses < 4:
        raise BockerError(f"BOCKER_SUBNET {cfg.subnet} is too small")
    return net


def gateway(cfg):
    return next(subnet(cfg).hosts())


def bridge_exists(cfg):
    return os.path.exists(f"/sys/class/net/{cfg.bridge}")


def _iptables(*args, table="nat", check=True):
    return shell.run(["iptables", "-w", "-t", table, *args], check=check)


def _has_rule(table, chain, *rule):
    return shell.query(["iptables", "-w", "-t", table, "-C", chain, *rule])


def _chain_exists(table, chain):
    return shell.query(["iptables", "-w", "-t", table, "-n", "-L", chain])


def _chains(cfg):
    """(table, chain, [jump from built-in chain + match], [rules in the chain])."""
    net = str(subnet(cfg))
    br = cfg.bridge
    return [
        # out to the world from the subnet; and published ports reached from the host's
        # loopback (127.0.0.1:PORT), whose replies must come back through the host
        ("nat", cfg.post_chain, [("POSTROUTING",)],
         [("-s", net, "!", "-o", br, "-j", "MASQUERADE"),
          ("-s", "127.0.0.0/8", "-o", br, "-j", "MASQUERADE")]),
        ("nat", cfg.nat_chain, [("PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL"),
                                ("OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL")], []),
        ("filter", cfg.fwd_chain, [("FORWARD",)],
         [("-i", br, "-j", "ACCEPT"), ("-o", br, "-j", "ACCEPT")]),
    ]


def setup(cfg):
    """Create the bridge with the gateway address, enable forwarding, add bocker's chains.
    Under a lock: the first containers started in parallel all find the bridge missing."""
    with store.lock(cfg.path("networks", cfg.bridge + ".setup.lock")):
        _setup(cfg)


def _setup(cfg):
    if not bridge_exists(cfg):
        prefix = subnet(cfg).prefixlen
        shell.run(["ip", "-batch", "-"], input=(
            f"link add {cfg.bridge} type bridge\n"
            f"addr add {gateway(cfg)}/{prefix} dev {cfg.bridge}\n"
            f"link set {cfg.bridge} up\n"))
        # let DNAT'ed loopback traffic (-p from 127.0.0.1) be routed to the bridge
        shell.run(["sysctl", "-q", "-w", f"net.ipv4.conf.{cfg.bridge}.route_localnet=1"])
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        if f.read().strip() != "1":
            shell.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
    for table, chain, jumps, rules in _chains(cfg):
        if not _chain_exists(table, chain):
            _iptables("-N", chain, table=table)
            for rule in rules:
                _iptables("-A", chain, *rule, table=table)
        for jump in jumps:
            builtin, match = jump[0], jump[1:]
            if not _has_rule(table, builtin, *match, "-j", chain):
                _iptables("-I", builtin, *match, "-j", chain, table=table)


def teardown(cfg):
    """Remove the jumps, bocker's chains and the bridge (only bocker's own)."""
    for table, chain, jumps, _ in _chains(cfg):
        for jump in jumps:
            while _has_rule(table, jump[0], *jump[1:], "-j", chain):
                _iptables("-D", *jump, "-j", chain, table=table)
        if _chain_exists(table, chain):
            _iptables("-F", chain, table=table)   # bocker's own chain only
            _iptables("-X", chain, table=table)
    if bridge_exists(cfg):
        shell.run(["ip", "link", "del", cfg.bridge, "type", "bridge"])


# --- IPAM: networks/<bridge>.json {"allocations": {ip: container id}}, under a file lock ---

def _ipam_path(cfg):
    return cfg.path("networks", cfg.bridge + ".json")


def lease(cfg, cid):
    """Allocate the lowest free address of the subnet for this container."""
    net = subnet(cfg)
    with store.lock(_ipam_path(cfg) + ".lock"):
        state = store.read_json(_ipam_path(cfg), default={"subnet": str(net), "allocations": {}})
        taken = set(state["allocations"])
        gw = gateway(cfg)
        for ip in net.hosts():
            if ip != gw and str(ip) not in taken:
                break
        else:
            raise BockerError(f"no free address left in {net}")
        if not shell.dry_run:
            state["allocations"][str(ip)] = cid
            store.write_json(_ipam_path(cfg), state)
    return str(ip)


def release(cfg, cid):
    """Give back every address held by this container."""
    if shell.dry_run:
        return
    with store.lock(_ipam_path(cfg) + ".lock"):
        state = store.read_json(_ipam_path(cfg), default={"allocations": {}})
        kept = {ip: c for ip, c in state["allocations"].items() if c != cid}
        if kept != state["allocations"]:
            state["allocations"] = kept
            store.write_json(_ipam_path(cfg), state)


def veth_name(cid):
    return "vb" + cid[:12]


def attach(cfg, cid, pid):
    """Create the veth pair with its peer (eth0) directly in the container's netns: moving it
    there afterwards would cost ~35 ms. init.py gives eth0 its address and route."""
    host_end = veth_name(cid)
    shell.run(["ip", "-batch", "-"], input=(
        f"link add {host_end} type veth peer name eth0 netns {pid}\n"
        f"link set {host_end} master {cfg.bridge} up\n"))


def resolv_conf():
    """The host's resolv.conf without loopback resolvers (unreachable from a netns)."""
    lines, servers = [], 0
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                words = line.split()
                if words[:1] == ["nameserver"]:
                    if len(words) < 2 or words[1].startswith("127.") or words[1] == "::1":
                        continue
                    servers += 1
                lines.append(line.rstrip("\n"))
    except FileNotFoundError:
        pass
    if not servers:
        lines += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(lines) + "\n"


def hosts_file(hostname, ip):
    text = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n")
    if ip:
        text += f"{ip}\t{hostname}\n"
    return text


def write_etc(rootfs, hostname, ip, mode):
    """/etc/hosts, /etc/hostname and /etc/resolv.conf for the container."""
    etc = os.path.join(rootfs, "etc")
    if os.path.islink(etc):  # it would resolve on the host, outside the rootfs
        raise BockerError("the image's /etc is a symbolic link: refusing to write through it")
    if not os.path.isdir(etc):
        shell.do(f"mkdir -p {etc}", os.makedirs, etc, exist_ok=True)
    if mode == "host":
        import socket
        hostname = socket.gethostname()
        with open("/etc/hosts") as f:
            shell.write_file(os.path.join(etc, "hosts"), f.read())
    else:
        shell.write_file(os.path.join(etc, "hosts"), hosts_file(hostname, ip))
    shell.write_file(os.path.join(etc, "hostname"), hostname + "\n")
    shell.write_file(os.path.join(etc, "resolv.conf"), resolv_conf())


# --- published ports: -p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO] as DNAT rules ---------

def parse_port(spec):
    """'8080:80', '127.0.0.1:8080:80/udp', '80' (a free host port is chosen) -> dict."""
    text, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise BockerError(f"invalid protocol in port spec: {spec}")
    parts = text.split(":")
    if len(parts) == 3:
        host_ip, host_port, ctr_port = parts
    elif len(parts) == 2:
        host_ip, (host_port, ctr_port) = "", parts
    elif len(parts) == 1:
        host_ip, host_port, ctr_port = "", "", parts[0]
    else:
        raise BockerError(f"invalid port spec: {spec}")
    try:
        ctr = int(ctr_port)
        host = int(host_port) if host_port else free_port(proto)
        if host_ip:
            ipaddress.ip_address(host_ip)
    except ValueError:
        raise BockerError(f"invalid port spec: {spec}")
    if not (0 < ctr < 65536 and 0 < host < 65536):
        raise BockerError(f"invalid port number in {spec}")
    return {"HostIp": host_ip or "0.0.0.0", "HostPort": str(host), "ContainerPort": ctr, "Proto": proto}


def free_port(proto):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dnat_rule(p, ip):
    dest = [] if p["HostIp"] == "0.0.0.0" else ["-d", p["HostIp"]]
    return [*dest, "-p", p["Proto"], "--dport", p["HostPort"], "-j", "DNAT",
            "--to-destination", f"{ip}:{p['ContainerPort']}"]


def publish(cfg, ports, ip):
    """Add a DNAT rule per published port to bocker's chain (from outside and from the host)."""
    done = []
    try:
        for p in ports:
            _iptables("-A", cfg.nat_chain, *_dnat_rule(p, ip))
            done.append(p)
    except BaseException:
        unpublish(cfg, done, ip)
        raise


def unpublish(cfg, ports, ip):
    for p in ports:
        _iptables("-D", cfg.nat_chain, *_dnat_rule(p, ip), check=False)


def ports_text(ports):
    """docker ps's PORTS column: 0.0.0.0:8080->80/tcp."""
    return ", ".join(f"{p['HostIp']}:{p['HostPort']}->{p['ContainerPort']}/{p['Proto']}" for p in ports or [])

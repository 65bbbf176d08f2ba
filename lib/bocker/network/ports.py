"""Published ports: -p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO] as DNAT rules in the network's
chain (answering other hosts, other containers and the host itself, loopback included)."""
from .. import BockerError
from .bridge import iptables


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
            import ipaddress
            ipaddress.ip_address(host_ip)
    except ValueError:
        raise BockerError(f"invalid port spec: {spec}")
    if not (0 < ctr < 65536 and 0 < host < 65536):
        raise BockerError(f"invalid port number in {spec}")
    return {"HostIp": host_ip or "0.0.0.0", "HostPort": str(host), "ContainerPort": ctr, "Proto": proto}


def to_record(bindings):
    """parse_port() dicts -> HostConfig.PortBindings in docker's shape,
    {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} ("" is every address, as docker writes it)."""
    out = {}
    for p in bindings:
        out.setdefault(f"{p['ContainerPort']}/{p['Proto']}", []).append(
            {"HostIp": "" if p["HostIp"] == "0.0.0.0" else p["HostIp"], "HostPort": p["HostPort"]})
    return out


def from_record(port_bindings):
    """HostConfig.PortBindings -> parse_port() dicts. Records written before docker's map hold
    those dicts as a list already."""
    if isinstance(port_bindings, list):
        return port_bindings
    out = []
    for key, hosts in (port_bindings or {}).items():
        port, _, proto = key.partition("/")
        out += [{"HostIp": h.get("HostIp") or "0.0.0.0", "HostPort": h["HostPort"], "ContainerPort": int(port),
                 "Proto": proto or "tcp"} for h in hosts or []]  # docker may write null for no binding
    return out


def free_port(proto):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dnat_rule(p, ip):
    dest = [] if p["HostIp"] == "0.0.0.0" else ["-d", p["HostIp"]]
    return [*dest, "-p", p["Proto"], "--dport", p["HostPort"], "-j", "DNAT",
            "--to-destination", f"{ip}:{p['ContainerPort']}"]


def publish(net, ports, ip):
    """Add a DNAT rule per published port to bocker's chain (from outside and from the host)."""
    done = []
    try:
        for p in ports:
            iptables("-A", net.nat_chain, *_dnat_rule(p, ip))
            done.append(p)
    except BaseException:
        unpublish(net, done, ip)
        raise


def unpublish(net, ports, ip):
    for p in ports:
        iptables("-D", net.nat_chain, *_dnat_rule(p, ip), check=False)


def ports_text(ports):
    """docker ps's PORTS column: 0.0.0.0:8080->80/tcp."""
    return ", ".join(f"{p['HostIp']}:{p['HostPort']}->{p['ContainerPort']}/{p['Proto']}" for p in ports or [])

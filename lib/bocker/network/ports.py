"""Published ports: -p [HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO] and -P as DNAT rules
in the network's chain (answering other hosts, other containers and the host itself, loopback
included).

What `run` asks is HostConfig.PortBindings (a HostPort may be "" or a range: chosen at start);
what the start chose, the ports it publishes while it runs, is NetworkSettings.Ports, both in
Docker's shapes. A binding here is a dict {HostIp, HostPort, ContainerPort, Proto}."""
from .. import BockerError, shell
from .bridge import iptables


def parse_port(spec):
    """'8080:80', '127.0.0.1:8080:80/udp', '127.0.0.1::80', '80' (a host port chosen at start),
    '9000-9002:9000-9002' (one binding each), '9000-9010:80' (a free one of the range) -> [dict]."""
    text, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise BockerError(f"invalid protocol in port spec: {spec}")
    host_ip, host_text, ctr_text = _split(spec, text)
    try:
        ctr = _port_range(ctr_text)
        host = _port_range(host_text) if host_text else None
        if host_ip:
            import ipaddress
            ipaddress.IPv4Address(host_ip)
    except ValueError:
        raise BockerError(f"invalid port spec: {spec}")
    if not all(0 < p < 65536 for p in [*ctr, *(host or [])]):
        raise BockerError(f"invalid port number in {spec}")
    if host and len(ctr) > 1 and len(host) != len(ctr):
        raise BockerError(f"invalid port spec: {spec}: host and container port ranges differ in size")
    ip = host_ip or "0.0.0.0"
    if host and len(ctr) == 1 and len(host) > 1:  # any free one of the host range
        return [_binding(ip, f"{host[0]}-{host[-1]}", ctr[0], proto)]
    return [_binding(ip, str(host[i]) if host else "", c, proto) for i, c in enumerate(ctr)]


def _split(spec, text):
    parts = text.split(":")
    if len(parts) == 3:
        return parts
    if len(parts) == 2:
        return ["", *parts]
    if len(parts) == 1:
        return ["", "", parts[0]]
    raise BockerError(f"invalid port spec: {spec}")


def _port_range(text):
    """'80' -> [80]; '9000-9002' -> [9000, 9001, 9002]."""
    first, dash, last = text.partition("-")
    lo, hi = int(first), int(last) if dash else int(first)
    if not first.isdigit() or (dash and not last.isdigit()) or hi < lo:
        raise ValueError(text)
    return list(range(lo, hi + 1))


def _binding(ip, host_port, ctr, proto):
    return {"HostIp": ip, "HostPort": host_port, "ContainerPort": ctr, "Proto": proto}


def parse_ports(specs):
    return [b for spec in specs for b in parse_port(spec)]


def to_record(bindings):
    """bindings -> Docker's map, {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} ("" is every
    address, as docker writes it in HostConfig.PortBindings)."""
    out = {}
    for p in bindings:
        out.setdefault(f"{p['ContainerPort']}/{p['Proto']}", []).append(
            {"HostIp": "" if p["HostIp"] == "0.0.0.0" else p["HostIp"], "HostPort": p["HostPort"]})
    return out


def to_status(bindings, exposed=()):
    """NetworkSettings.Ports as docker shows a running container's: every published port with
    its address, and the exposed ports that are not published as null."""
    out = {key: None for key in exposed}
    for p in bindings:
        out[f"{p['ContainerPort']}/{p['Proto']}"] = (out.get(f"{p['ContainerPort']}/{p['Proto']}") or []) + [
            {"HostIp": p["HostIp"], "HostPort": p["HostPort"]}]
    return out


def from_record(port_bindings):
    """HostConfig.PortBindings or NetworkSettings.Ports -> bindings. Records written before
    docker's map hold the bindings as a list already."""
    if isinstance(port_bindings, list):
        return port_bindings
    out = []
    for key, hosts in (port_bindings or {}).items():
        port, _, proto = key.partition("/")
        out += [_binding(h.get("HostIp") or "0.0.0.0", h["HostPort"], int(port), proto or "tcp")
                for h in hosts or []]  # docker may write null for no binding
    return out


# --- at start: the host ports chosen and checked ----------------------------------------------

def resolve(requested, exposed, publish_all, taken):
    """The bindings a start publishes: those asked (a host port chosen where none or a range
    was given) and, with -P, every exposed port not asked for on a free host port. `taken`:
    (port, proto) published by other running containers. Each is checked free on the host."""
    wanted = list(requested)
    if publish_all:
        asked = {(p["ContainerPort"], p["Proto"]) for p in wanted}
        for key in exposed:
            port, _, proto = key.partition("/")
            if (int(port), proto or "tcp") not in asked:
                wanted.append(_binding("0.0.0.0", "", int(port), proto or "tcp"))
    out, used = [], set(taken)
    for p in wanted:
        p = dict(p, HostPort=_host_port(p, used))
        if (p["HostPort"], p["Proto"]) in used:
            raise BockerError(f"Bind for {p['HostIp']}:{p['HostPort']} failed: port is already allocated")
        check_bindable(p)
        used.add((p["HostPort"], p["Proto"]))
        out.append(p)
    return out


def _host_port(p, used):
    """The binding's host port: as given, the first free one of its range, or a free one."""
    if p["HostPort"] and "-" not in p["HostPort"]:
        return p["HostPort"]
    if p["HostPort"]:
        lo, hi = map(int, p["HostPort"].split("-"))
        for port in range(lo, hi + 1):
            if (str(port), p["Proto"]) not in used and _bind_error(p["HostIp"], port, p["Proto"]) is None:
                return str(port)
        raise BockerError(f"Bind for {p['HostIp']}:{p['HostPort']} failed: no free port in the range")
    for _ in range(100):
        port = str(free_port(p["Proto"], p["HostIp"]))
        if (port, p["Proto"]) not in used:
            return port
    raise BockerError("no free host port")


def free_port(proto, ip="0.0.0.0"):
    """A port the kernel says is free (one of its ephemeral range, as docker picks)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def check_bindable(p):
    """A port something on the host listens on (or a HostIp that is none of the host's
    addresses) cannot be published: the DNAT rule would take its traffic away. Tried with a bind."""
    err = _bind_error(p["HostIp"], int(p["HostPort"]), p["Proto"])
    if err is not None:
        import errno
        why = {errno.EADDRINUSE: "address already in use",
               errno.EADDRNOTAVAIL: "cannot assign requested address (not an address of this host)"}
        raise BockerError(f"Bind for {p['HostIp']}:{p['HostPort']}/{p['Proto']} failed: "
                          f"{why.get(err, 'error ' + str(err))}")


def _bind_error(ip, port, proto):
    """The errno of binding ip:port (None: it could be bound). SO_REUSEADDR: a closed
    connection in TIME_WAIT is no listener."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError as e:
            return e.errno
    return None


def published_on_host():
    """(host port, proto) of every DNAT rule in a bocker chain on this host, any store's: what is
    published already (the rule is the claim: checked and added under one lock)."""
    out = set()
    for line in shell.run(["iptables-save", "-t", "nat"], capture=True).splitlines():
        words = line.split()
        if words[:2] and words[0] == "-A" and words[1].startswith("BOCKER-") and "DNAT" in words \
                and "--dport" in words and "-p" in words:
            out.add((words[words.index("--dport") + 1], words[words.index("-p") + 1]))
    return out


# --- the rules -----------------------------------------------------------------------------

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


# --- what ps and port show -----------------------------------------------------------------

def ports_text(ports_status):
    """docker ps's PORTS column from NetworkSettings.Ports: 0.0.0.0:8080->80/tcp, consecutive
    ports as one range (0.0.0.0:9000-9002->9000-9002/tcp), exposed ones alone (443/tcp)."""
    groups = []  # [ip, host_lo, host_hi, ctr_lo, ctr_hi, proto]
    for p in sorted(from_record(ports_status), key=lambda p: (p["Proto"], p["HostIp"], p["ContainerPort"])):
        host = int(p["HostPort"])
        g = groups[-1] if groups else None
        if g and g[0] == p["HostIp"] and g[5] == p["Proto"] and g[2] + 1 == host and g[4] + 1 == p["ContainerPort"]:
            g[2], g[4] = host, p["ContainerPort"]
        else:
            groups.append([p["HostIp"], host, host, p["ContainerPort"], p["ContainerPort"], p["Proto"]])
    span = (lambda lo, hi: str(lo) if lo == hi else f"{lo}-{hi}")
    out = [f"{ip}:{span(hl, hh)}->{span(cl, ch)}/{proto}" for ip, hl, hh, cl, ch, proto in groups]
    out += [key for key, hosts in (ports_status or {}).items() if not hosts] if isinstance(ports_status, dict) else []
    return ", ".join(out)


def port_lines(ports_status, wanted=None):
    """`docker port`: '80/tcp -> 0.0.0.0:8080' lines; with `wanted` ('80' or '80/udp'), that
    port's host addresses only."""
    if wanted:
        port, _, proto = wanted.partition("/")
        return [f"{p['HostIp']}:{p['HostPort']}" for p in from_record(ports_status)
                if str(p["ContainerPort"]) == port and p["Proto"] == (proto or "tcp")]
    return [f"{p['ContainerPort']}/{p['Proto']} -> {p['HostIp']}:{p['HostPort']}"
            for p in sorted(from_record(ports_status), key=lambda p: (p["ContainerPort"], p["Proto"]))]

"""The container's name service files: /etc/hosts, /etc/hostname and /etc/resolv.conf.

Written beside the container's rootfs, in its own directory, and bind-mounted over the image's
files by the init, as Docker does: writing them into the rootfs from the host would follow a
link that the image (or an earlier run) planted there, onto a host file.
"""
import os

from .. import BockerError, shell, store

ETC_FILES = ("hosts", "hostname", "resolv.conf")


def check_options(servers, search, options, extra_hosts):
    """--dns, --dns-search, --dns-option, --add-host checked -> HostConfig's Dns, DnsSearch,
    DnsOptions, ExtraHosts."""
    import ipaddress
    try:
        for ip in servers:
            ipaddress.ip_address(ip)
        for item in extra_hosts:
            name, sep, ip = item.partition(":")
            if not (name and sep):
                raise ValueError(item)
            if ip != "host-gateway":
                ipaddress.ip_address(ip)
    except ValueError as e:
        raise BockerError(f"invalid address in --dns or --add-host: {e}")
    return {"Dns": list(servers), "DnsSearch": list(search), "DnsOptions": list(options),
            "ExtraHosts": list(extra_hosts)}


def resolv_conf(servers=None, search=(), options=()):
    """The host's resolv.conf without loopback resolvers (unreachable from a netns); or, given
    `servers` (a user network's gateway, --dns), those only, with the host's search and options
    lines; `search` (--dns-search) replaces the host's search line, `options` (--dns-option)
    its options line."""
    lines, found = [], 0
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                words = line.split()
                if words[:1] == ["nameserver"]:
                    if servers or len(words) < 2 or words[1].startswith("127.") or words[1] == "::1":
                        continue
                    found += 1
                if search and words[:1] in (["search"], ["domain"]) or options and words[:1] == ["options"]:
                    continue
                lines.append(line.rstrip("\n"))
    except FileNotFoundError:
        pass
    if search:
        lines.append("search " + " ".join(search))
    if options:
        lines.append("options " + " ".join(options))
    if servers:
        lines += [f"nameserver {s}" for s in servers]
    elif not found:
        lines += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(lines) + "\n"


def hosts_file(hostname, ip, extra=()):
    text = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n")
    if ip:
        text += f"{ip}\t{hostname}\n"
    return text + "".join(f"{addr}\t{name}\n" for name, addr in extra)


def write_etc(directory, hostname, ip, mode, servers=None, search=(), options=(), extra=()):
    """Write the three files into `directory` (bocker's, out of the container's reach); returns
    the init's bind mounts for them, SOURCE:/etc/FILE:rw. `servers`: resolv.conf's nameservers
    (a user network's DNS server, --dns) instead of the host's; `search`, `options`: --dns-search,
    --dns-option;
    `extra`: (name, address) lines of /etc/hosts (--add-host)."""
    if mode == "host":
        import socket
        hostname = socket.gethostname()
        with open("/etc/hosts") as f:
            hosts = f.read()
    else:
        hosts = hosts_file(hostname, ip, extra)
    contents = {"hosts": hosts, "hostname": hostname + "\n", "resolv.conf": resolv_conf(servers, search, options)}
    for name in ETC_FILES:
        shell.write_file(os.path.join(directory, name), contents[name])
    return [f"{os.path.join(directory, name)}:/etc/{name}:rw" for name in ETC_FILES]


# --- a user network's DNS server ------------------------------------------------------------
# dnsmasq, one per network (Debian's dnsmasq-base): it answers on the gateway address only, from
# the network's leases directory (ipam.py: a hosts line per container, read as it changes through
# inotify, no reload), and knows no upstream server, so that no query ever leaves the host:
# --local=/#/ says every domain is answered here (NXDOMAIN, or no AAAA for a container's name)
# rather than REFUSED, which resolvers take as "try elsewhere". aardvark-dns would need its own
# config format; dnsmasq's few flags read in a trace as what they do.

def _paths(net):
    """The leases directory (ipam.py: a hosts line per lease), the pid file."""
    return os.path.join(net.directory, "leases"), os.path.join(net.directory, "dnsmasq.pid")


def server_pid(net):
    """The network's dnsmasq, if the pid file names a live dnsmasq started for this network."""
    pid_file = _paths(net)[1]
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip() or 0)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid if f"--pid-file={pid_file}".encode() in argv else None  # not a recycled pid


def start(net):
    """Start the network's dnsmasq unless it runs; it daemonizes itself and writes its pid file.
    Under a lock: the first containers started in parallel all find it missing."""
    with store.lock(os.path.join(net.directory, "dnsmasq.lock")):
        if not server_pid(net):
            _start(net)


def _start(net):
    hosts, pid_file = _paths(net)
    shell.do(f"mkdir -p {shell.quote(hosts)}", os.makedirs, hosts, exist_ok=True)
    shell.run(["dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--local=/#/",
               f"--hostsdir={hosts}", f"--listen-address={net.gateway}", "--bind-interfaces",
               f"--pid-file={pid_file}",
               # it reads the leases directory in the store, which may be root's only
               "--user=root", "--log-facility=/dev/null"])


def stop(net):
    """Stop the network's dnsmasq, by the pid in its pid file."""
    pid = server_pid(net)
    if pid:
        shell.run(["kill", str(pid)], check=False)
        _wait_gone(pid)
    store.unlink(_paths(net)[1])


def _wait_gone(pid):
    """Until the process is gone: the next one binds the same address and port."""
    import time
    for _ in range(200):
        if shell.dry_run or not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.01)

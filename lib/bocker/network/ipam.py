"""IPAM: a network's addresses, under a file lock, so that parallel `run`s never share one.

Two things beside the network's record, in its directory (networks/<name>.d/):
  leases.map   one bit per address of the subnet (8 KiB for a /16): the lowest free address is
               found at C speed (bytes.lstrip), and a lease or release rewrites one byte;
  leases/<ip>  one small file per lease: who holds it (a comment) and, on a user network, the
               names it answers to, as a hosts line: the network's dnsmasq reads that directory
               (--hostsdir, inotify), so DNS follows the leases without a reload.
A lease or a release touches one byte and one file, whatever the number of containers: nothing
rescans or rewrites a 65k-entry file per run."""
import os

from .. import BockerError, shell, store


def _leases_dir(net):
    return os.path.join(net.directory, "leases")


def _map_path(net):
    return os.path.join(net.directory, "leases.map")


def lease(net, cid, ip=None, names=()):
    """Allocate `ip` (--ip) or the lowest free address of the network's subnet for this container;
    `names`: what it answers to in the network's DNS."""
    if not shell.dry_run:
        os.makedirs(_leases_dir(net), exist_ok=True)
    with store.lock(net.record + ".lock"):
        bitmap = _read_map(net)
        index = _requested(net, ip, bitmap) if ip else _lowest_free(net, bitmap)
        addr = str(net.subnet.network_address + index)
        if not shell.dry_run:
            _set_bit(net, index, True)
            line = f"{addr}\t{' '.join(names)} # {cid}\n" if names else f"# {addr} {cid}\n"
            shell.do(f"echo {shell.quote(line.strip())} > {shell.quote(_lease_path(net, addr))}",
                     _write, _lease_path(net, addr), line)
    return addr


def _lease_path(net, addr):
    return os.path.join(_leases_dir(net), addr)


def _write(path, text):
    """In place (one write), not temp + rename: dnsmasq would read the temp file as hosts too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _read_map(net):
    size = (net.subnet.num_addresses + 7) // 8
    try:
        with open(_map_path(net), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = b""
    return bytearray(data[:size].ljust(size, b"\0"))


def _set_bit(net, index, taken):
    bitmap = _read_map(net)
    byte = bitmap[index // 8]
    byte = byte | (1 << index % 8) if taken else byte & ~(1 << index % 8)
    fd = os.open(_map_path(net), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        os.pwrite(fd, bytes([byte]), index // 8)
    finally:
        os.close(fd)


def _reserved(net):
    """Indexes no container gets: the network and broadcast addresses, the gateway."""
    return (0, net.subnet.num_addresses - 1, int(net.gateway) - int(net.subnet.network_address))


def _lowest_free(net, bitmap):
    for index in _reserved(net):
        bitmap[index // 8] |= 1 << index % 8
    full = len(bitmap) - len(bitmap.lstrip(b"\xff"))  # whole bytes taken
    if full < len(bitmap):
        byte = bitmap[full]
        index = full * 8 + next(b for b in range(8) if not byte & (1 << b))
        if index < net.subnet.num_addresses:
            return index
    raise BockerError(f"no free address left in {net.subnet}")


def _requested(net, text, bitmap):
    import ipaddress
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise BockerError(f"invalid IP address: {text}")
    if ip not in net.subnet or ip in (net.subnet.network_address, net.subnet.broadcast_address, net.gateway):
        raise BockerError(f"address {ip} is not a free host address of {net.subnet} (network {net.name})")
    index = int(ip) - int(net.subnet.network_address)
    if bitmap[index // 8] & (1 << index % 8):
        raise BockerError(f"address {ip} is already in use on network {net.name}")
    return index


def release(net, cid, ip=None):
    """Give back the address this container holds (`ip` if known, else looked for), and its names."""
    import ipaddress
    if shell.dry_run:
        return
    with store.lock(net.record + ".lock"):
        for addr in [ip] if ip else _leased(net):
            if _holder(net, addr) == cid:
                shell.do(f"rm {shell.quote(_lease_path(net, addr))}", os.unlink, _lease_path(net, addr))
                _set_bit(net, int(ipaddress.ip_address(addr)) - int(net.subnet.network_address), False)


def _leased(net):
    try:
        return [a for a in os.listdir(_leases_dir(net)) if not a.startswith(".")]
    except FileNotFoundError:
        return []


def _holder(net, addr):
    try:
        with open(_lease_path(net, addr)) as f:
            return f.read().split()[-1]
    except (FileNotFoundError, IndexError):
        return None


def allocations(net):
    """{address: container id} of every lease (network inspect, network rm)."""
    out = {a: _holder(net, a) for a in _leased(net)} if net.record else {}
    return {a: c for a, c in out.items() if c}

"""The container's name service files: /etc/hosts, /etc/hostname and /etc/resolv.conf.

Written beside the container's rootfs, in its own directory, and bind-mounted over the image's
files by the init, as Docker does: writing them into the rootfs from the host would follow a
link that the image (or an earlier run) planted there, onto a host file.
"""
import os

from .. import shell

ETC_FILES = ("hosts", "hostname", "resolv.conf")


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


def write_etc(directory, hostname, ip, mode):
    """Write the three files into `directory` (bocker's, out of the container's reach); returns
    the init's bind mounts for them, SOURCE:/etc/FILE:rw."""
    if mode == "host":
        import socket
        hostname = socket.gethostname()
        with open("/etc/hosts") as f:
            hosts = f.read()
    else:
        hosts = hosts_file(hostname, ip)
    contents = {"hosts": hosts, "hostname": hostname + "\n", "resolv.conf": resolv_conf()}
    for name in ETC_FILES:
        shell.write_file(os.path.join(directory, name), contents[name])
    return [f"{os.path.join(directory, name)}:/etc/{name}:rw" for name in ETC_FILES]

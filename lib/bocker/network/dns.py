"""The container's name service files: /etc/hosts, /etc/hostname and /etc/resolv.conf, written
into its rootfs before it starts."""
import os

from .. import BockerError, shell


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

"""`stats`: a container's resource usage as Docker shows it, from its cgroup and its netns.

CPU %    CPU time of the cgroup over an interval / the host's CPU time over it x online CPUs
         (Docker's formula: 100 % = one CPU busy)
MEM      the cgroup's usage minus its inactive file cache / its limit (the host's memory if none)
NET I/O  bytes received / sent by the container's interfaces (/proc/PID/net/dev, lo left out)
BLOCK    bytes read / written by the cgroup (blkio v1, io.stat v2)
PIDS     the cgroup's pids.current
"""
import os

from . import cgroups, containers, fmt

HEADERS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
           "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
           "PIDs": "PIDS"}
TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def host_cpu_ns():
    """The host's CPU time (all CPUs) since boot: /proc/stat's first line, user to softirq, as Docker."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return sum(int(v) for v in fields[1:8]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def host_memory():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def net_io(pid):
    """(received, sent) bytes of the interfaces in the netns of `pid`, loopback left out."""
    rx = tx = 0
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.readlines()[2:]
    except OSError:
        return 0, 0
    for line in lines:
        name, _, counters = line.partition(":")
        values = counters.split()
        if name.strip() != "lo" and len(values) >= 9:
            rx, tx = rx + int(values[0]), tx + int(values[8])
    return rx, tx


def sample(cfg, rec):
    """Raw counters of a container now (None if it is not running)."""
    st = containers.state(cfg, rec)
    if st["Status"] not in ("running", "paused"):
        return None
    out = cgroups.usage(cfg, rec["Id"])
    out["net_rx"], out["net_tx"] = net_io(st["Pid"])
    out["host_cpu_ns"] = host_cpu_ns()
    return out


def binary_size(n):
    """go-units BytesSize: '%.4g' of binary units (1.18MiB)."""
    n, i = float(n), 0
    while n >= 1024 and i < len(BINARY) - 1:
        n, i = n / 1024, i + 1
    return f"{n:.4g}{BINARY[i]}"


def cpu_percent(before, after, cpus):
    """Docker's calculateCPUPercentUnix."""
    if before is None or after is None:
        return 0.0
    used = after["cpu_ns"] - before["cpu_ns"]
    system = after["host_cpu_ns"] - before["host_cpu_ns"]
    return used / system * cpus * 100.0 if used > 0 and system > 0 else 0.0


def row(rec, before, after, ref=None, no_trunc=False, host_mem=None):
    """The fields Docker's --format knows (strings, as Docker's), from two samples."""
    cid = rec["Id"] if no_trunc else rec["Id"][:12]
    out = {"Container": ref or cid, "ID": cid, "Name": rec["Name"].lstrip("/")}
    if after is None:
        return dict(out, CPUPerc="0.00%", MemUsage="0B / 0B", MemPerc="0.00%", NetIO="0B / 0B",
                    BlockIO="0B / 0B", PIDs="0")
    limit = after["memory_limit"] or host_mem or host_memory()
    if host_mem and limit > host_mem:
        limit = host_mem
    return dict(out, CPUPerc=f"{cpu_percent(before, after, os.cpu_count() or 1):.2f}%",
                MemUsage=f"{binary_size(after['memory'])} / {binary_size(limit)}",
                MemPerc=f"{after['memory'] / limit * 100 if limit else 0:.2f}%",
                NetIO=f"{fmt.human_size(after['net_rx'])} / {fmt.human_size(after['net_tx'])}",
                BlockIO=f"{fmt.human_size(after['io_read'])} / {fmt.human_size(after['io_write'])}",
                PIDs=str(after["pids"]))

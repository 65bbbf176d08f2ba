"""Verbs on a container's processes and usage: top, stats."""
import sys

from .. import BockerError
from .verbs import FORMAT, arg, verb


def _running(cfg, ref):
    """(record, pid) of a running container; Docker's refusal otherwise."""
    from .. import containers
    rec = containers.load(cfg, containers.resolve(cfg, ref))
    st = containers.state(cfg, rec)
    if st["Status"] not in ("running", "paused"):
        raise BockerError(f"Container {rec['Id']} is not running")
    return rec


def ps_table(output, pids):
    """Docker's top: the ps output's rows whose PID is one of `pids` (CMD keeps its spaces as
    single ones); the header must have a PID column."""
    lines = output.splitlines()
    titles = lines[0].split() if lines else []
    if "PID" not in titles:
        raise BockerError("Couldn't find PID field in ps output")
    at, n = titles.index("PID"), len(titles)
    rows = [titles]
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < n:
            continue
        fields = fields[:n - 1] + [" ".join(fields[n - 1:])]
        if fields[at].isdigit() and int(fields[at]) in pids:
            rows.append(fields)
    return rows


@verb("top", arg("container", help="a running container"),
      arg("ps_args", nargs="...", metavar="ps OPTIONS", help="options for ps (default: -ef)"))
def cmd_top(cfg, a):
    """Show the processes of a running container: the host's ps, only the container's pids
    (from its cgroup's cgroup.procs)."""
    from .. import cgroups, fmt, shell
    rec = _running(cfg, a.container)
    pids = set(cgroups.procs(cfg, rec["Id"]))
    output = shell.run(["ps"] + (a.ps_args or ["-ef"]), capture=True)
    if shell.dry_run:
        return 0
    # Docker's tabwriter for top: cells padded to 20 at least, 3 spaces apart
    fmt.tabwrite(["\t".join(r) for r in ps_table(output, pids)], minwidth=20)


@verb("stats", arg("-a", "--all", action="store_true", help="all containers (default: the running ones)"),
      arg("--no-stream", action="store_true", help="one table, then exit (default: refresh every second)"),
      arg("--no-trunc", action="store_true", help="full ids"), FORMAT,
      arg("containers", nargs="*", help="containers (default: all running ones)"))
def cmd_stats(cfg, a):
    """Show containers' resource usage: CPU, memory, network and block I/O, pids.

    Docker's columns: CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS, from their
    cgroups and network namespaces; CPU % over one second, as Docker. On a terminal the table
    is redrawn every second until Ctrl-C."""
    import time
    from .. import containers, fmt, stats
    chosen = [(containers.load(cfg, containers.resolve(cfg, r)), r) for r in a.containers]
    host_mem = stats.host_memory()
    tty = sys.stdout.isatty()
    shown = a.format or stats.TABLE

    def records():
        if chosen:
            return chosen
        recs = [r for r in containers.all_records(cfg)
                if a.all or containers.state(cfg, r)["Status"] in ("running", "paused")]
        return [(r, None) for r in sorted(recs, key=lambda r: r["Created"], reverse=True)]

    before = {rec["Id"]: stats.sample(cfg, rec) for rec, _ in records()}
    while True:
        time.sleep(1.0)
        now = [(rec, ref, stats.sample(cfg, rec)) for rec, ref in records()]
        rows = [stats.row(rec, before.get(rec["Id"]), after, ref, a.no_trunc, host_mem) for rec, ref, after in now]
        if tty and not a.no_stream:
            sys.stdout.write("\033[2J\033[H")  # clear the screen, home: Docker's redraw
        fmt.emit(rows, shown, headers=stats.HEADERS)
        sys.stdout.flush()
        if a.no_stream:
            return 0
        before = {rec["Id"]: after for rec, _, after in now}

#!/usr/bin/python3
"""Remove the iptables chains that appeared during the bench and belong to it.

    cleanup_iptables.py snapshot FILE          record table:chain for iptables and ip6tables
    cleanup_iptables.py clean FILE BRIDGE [yes|no]
                                               delete chains that are new since FILE and are named
                                               after BRIDGE, or netavark's (NETAVARK*) unless "no"

Only such chains are touched: the rules that jump to them are deleted one by one (-D), then the
chain itself is flushed and deleted. No host chain is ever flushed.
"""
import re
import shlex
import subprocess
import sys

TOOLS = ("iptables", "ip6tables")


def chains(tool):
    """{(table, chain)} and the list of (table, rule-args) from `TOOL-save`."""
    try:
        out = subprocess.run([tool + "-save"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return set(), []
    found, rules, table = set(), [], None
    for line in out.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            found.add((table, line[1:].split()[0]))
        elif line.startswith("-A "):
            rules.append((table, line))
    return found, rules


def snapshot(path):
    with open(path, "w") as f:
        for tool in TOOLS:
            for table, chain in sorted(chains(tool)[0]):
                f.write(f"{tool} {table} {chain}\n")


def clean(path, bridge, netavark=True):
    before = set()
    with open(path) as f:
        for line in f:
            before.add(tuple(line.split()))
    for tool in TOOLS:
        now, rules = chains(tool)
        ours = {(t, c) for t, c in now if (tool, t, c) not in before
                and ((netavark and c.startswith("NETAVARK")) or bridge in c)}
        if not ours:
            continue
        for table, line in rules:
            m = re.search(r"(?:-j|-g) (\S+)", line)
            if m and (table, m.group(1)) in ours and (table, line.split()[1]) not in ours:
                args = ["-D"] + shlex.split(line)[1:]
                subprocess.run([tool, "-t", table] + args, capture_output=True)
        for table, chain in sorted(ours):
            subprocess.run([tool, "-t", table, "-F", chain], capture_output=True)
        for table, chain in sorted(ours):
            r = subprocess.run([tool, "-t", table, "-X", chain], capture_output=True, text=True)
            if r.returncode:
                print(f"bench: could not delete {tool} -t {table} {chain}: {r.stderr.strip()}",
                      file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["snapshot"]:
        snapshot(sys.argv[2])
    elif sys.argv[1:2] == ["clean"]:
        clean(sys.argv[2], sys.argv[3], sys.argv[4:5] != ["no"])
    else:
        sys.exit(__doc__)

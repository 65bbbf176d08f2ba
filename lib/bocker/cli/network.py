"""Network verbs: network create, ls, inspect, rm, prune, connect, disconnect; and the address callbacks of dry-run
scripts (_lease, _release)."""
from .verbs import FORMAT, arg, confirm, each, pruned, verb


@verb("network create", arg("--subnet", help="CIDR (default: a free /24 of BOCKER_NETWORK_POOL)"),
      arg("--gateway", help="the bridge's address (default: the subnet's first)"),
      arg("--label", action="append", default=[], help="KEY=VALUE"),
      arg("--internal", action="store_true", help="no NAT and no traffic off the network"),
      arg("-d", "--driver", default="bridge", choices=("bridge",), help="bridge (the only one)"),
      arg("name", help="network name"))
def cmd_network_create(cfg, a):
    """Create a network: a bridge, its chains and its DNS server; prints its id."""
    from ..network import user
    print(user.create(cfg, a.name, a.subnet, a.gateway, dict(l.partition("=")[::2] for l in a.label),
                      a.internal))


@verb("network ls", arg("-q", "--quiet", action="store_true", help="only ids"),
      arg("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
          help="name=, id=, driver=, label=KEY[=VALUE]"),
      arg("--no-trunc", action="store_true", help="full ids"), FORMAT)
def cmd_network_ls(cfg, a):
    """List networks: bridge, host, none and the user networks."""
    from .. import fmt, network
    rows = [r for r in (network.info(cfg, n) for n in network.names(cfg)) if _matches(r, a.filter)]
    short = (lambda i: i) if a.no_trunc else (lambda i: i[:12])
    if a.quiet:
        for r in rows:
            print(short(r["Id"]))
    elif a.format:
        fmt.emit(rows, a.format)
    else:
        fmt.table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
                  [[short(r["Id"]), r["Name"], r["Driver"], r["Scope"]] for r in rows])


def _matches(row, filters):
    """docker's filters: name= and id= match a part (id: the start), label=KEY or KEY=VALUE."""
    from .. import BockerError
    for item in filters:
        key, _, value = item.partition("=")
        if key == "name":
            ok = value in row["Name"]
        elif key == "id":
            ok = row["Id"].startswith(value)
        elif key == "driver":
            ok = row["Driver"] == value
        elif key == "label":
            k, eq, v = value.partition("=")
            ok = k in row["Labels"] and (not eq or row["Labels"][k] == v)
        else:
            raise BockerError(f"invalid filter '{item}' (name=, id=, driver=, label=)")
        if not ok:
            return False
    return True


@verb("network inspect", FORMAT, arg("-f", dest="format", help="same as --format"),
      arg("names", nargs="+", help="networks"))
def cmd_network_inspect(cfg, a):
    """Network details, as a JSON array (Containers: id -> name and address)."""
    import sys
    from .. import BockerError, containers, fmt, network
    out, failed = [], False
    for ref in a.names:
        try:
            out.append(network.info(cfg, ref))
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    for row in out:
        for cid, entry in row["Containers"].items():
            try:
                entry["Name"] = containers.load(cfg, cid)["Name"][1:]
            except BockerError:  # a lease whose container is being removed
                entry["Name"] = ""
    fmt.emit(out, a.format or "json", as_array=True)
    return 1 if failed else 0


@verb("network rm", arg("-f", "--force", action="store_true", help="a network that does not exist is no error"),
      arg("names", nargs="+", help="networks"))
def cmd_network_rm(cfg, a):
    """Remove networks (refused while a running container is attached)."""
    from ..network import user
    return each(a.names, lambda n: _refuse_builtin(n) or user.remove(cfg, n), missing_ok=a.force)


@verb("network connect", arg("--alias", action="append", default=[], help="another name on the network's DNS"),
      arg("--ip", help="the container's address on the network"),
      arg("network", help="network"), arg("container", help="container"))
def cmd_network_connect(cfg, a):
    """Connect a container to a network: a new interface at once if it runs, else at its start."""
    from .. import endpoints
    endpoints.connect(cfg, a.network, a.container, a.alias, a.ip)


@verb("network disconnect", arg("-f", "--force", action="store_true", help="no error if it is not connected"),
      arg("network", help="network"), arg("container", help="container"))
def cmd_network_disconnect(cfg, a):
    """Disconnect a container from a network (its interface, address and names go at once)."""
    from .. import endpoints
    endpoints.disconnect(cfg, a.network, a.container, a.force)


def _refuse_builtin(name):
    from .. import BockerError
    from ..network import BUILTIN
    if name in BUILTIN:
        raise BockerError(f"{name} is a pre-defined network and cannot be removed")


@verb("network prune", arg("-f", "--force", action="store_true", help="do not ask"))
def cmd_network_prune(cfg, a):
    """Remove every user network no running container is attached to (asks first, unless -f)."""
    from ..network import user
    if not confirm("This will remove all custom networks not used by at least one container.", a.force):
        return 0
    pruned("Deleted Networks", user.prune(cfg))


@verb("_lease", arg("--network", default="bridge"), arg("--ip"),
      arg("--dns-name", action="append", default=[]), arg("container"))
def cmd_lease(cfg, a):
    """(internal) Lease an address for a container: dry-run scripts call this."""
    from .. import network
    from ..network import ipam
    print(ipam.lease(network.get(cfg, a.network), a.container, a.ip, a.dns_name))


@verb("_release", arg("--network", default="bridge"), arg("container"))
def cmd_release(cfg, a):
    """(internal) Give back a container's address: dry-run scripts call this."""
    from .. import network
    from ..network import ipam
    ipam.release(network.get(cfg, a.network), a.container)

"""Verbs on volumes: volume create, ls, inspect, rm, prune."""
from .verbs import FORCE, FORMAT, PRUNE_FILTER, arg, confirm, each, prune_match, pruned, reclaimed, verb


@verb("volume create", arg("--label", action="append", default=[], help="KEY=VALUE"),
      arg("name", nargs="?", help="volume name (default: random)"))
def cmd_volume_create(cfg, a):
    """Create a named volume (a btrfs subvolume)."""
    from .. import volumes
    print(volumes.create(cfg, a.name, dict(l.partition("=")[::2] for l in a.label)))


@verb("volume ls", arg("-q", "--quiet", action="store_true", help="only names"),
      arg("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
          help="name=PART, label=KEY[=VALUE], dangling=true|false (used by no container)"), FORMAT)
def cmd_volume_ls(cfg, a):
    """List volumes: DRIVER VOLUME NAME."""
    from .. import containers, fmt, volumes
    filters = fmt.parse_filters(a.filter, ("name", "label", "dangling"))
    rows = [volumes.info(cfg, n) for n in volumes.names(cfg)]
    if filters:
        records = containers.all_records(cfg)
        rows = [r for r in rows if volumes.matches(r, filters, bool(volumes.users(r["Name"], records)))]
    if a.quiet:
        for r in rows:
            print(r["Name"])
    elif a.format:
        fmt.emit(fmt.for_template(rows) if fmt.is_template(a.format) else rows, a.format,
                 headers={"Name": "VOLUME NAME"})
    else:
        fmt.table(["DRIVER", "VOLUME NAME"], [[r["Driver"], r["Name"]] for r in rows])


@verb("volume inspect", FORMAT, arg("names", nargs="+", help="volumes"))
def cmd_volume_inspect(cfg, a):
    """Volume details, as a JSON array."""
    from .. import fmt, volumes
    fmt.emit([volumes.info(cfg, n) for n in a.names], a.format or "json", as_array=True)


@verb("volume rm", arg("-f", "--force", action="store_true", help="no error if missing"),
      arg("names", nargs="+", help="volumes"))
def cmd_volume_rm(cfg, a):
    """Remove volumes (refused while a container uses one)."""
    from .. import containers, volumes
    records = containers.all_records(cfg)
    return each(a.names, lambda n: volumes.remove(cfg, n, records, force=a.force))


@verb("volume prune", arg("-a", "--all", action="store_true", help="named volumes too"), PRUNE_FILTER, FORCE)
def cmd_volume_prune(cfg, a):
    """Remove unused anonymous volumes (-a: all unused volumes); asks first, unless -f."""
    match = prune_match(a.filter)
    what = "all local volumes" if a.all else "anonymous local volumes"
    if not confirm(f"This will remove {what} not used by at least one container.", a.force):
        return 0
    reclaimed(prune_volumes(cfg, a.all, match))


def prune_volumes(cfg, all_, match=None):
    """Remove the unused volumes (anonymous ones, or all with all_; those `match` accepts): the
    bytes they held."""
    from .. import containers, images, volumes
    sizes = {n: images.dir_size(volumes.path(cfg, n)) for n in volumes.names(cfg)}
    gone = volumes.prune(cfg, containers.all_records(cfg), all_=all_, match=match)
    pruned("Deleted Volumes", gone)
    return sum(sizes.get(n, 0) for n in gone)

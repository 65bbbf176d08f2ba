"""The host and the store as a whole: setup, teardown, inspect, system prune, system df."""
import os
import sys

from .. import BockerError
from .verbs import FORMAT, arg, verb


@verb("setup", arg("--no-image", action="store_true", help="do not build the default busybox image"),
      store=False)
def cmd_setup(cfg, a):
    """Prepare the host: btrfs store (a loop file if needed), bridge, NAT chains, busybox image.

    Idempotent. If BOCKER_ROOT is not on btrfs, a sparse loop file BOCKER_ROOT.btrfs
    (BOCKER_STORE_SIZE, default 10G) is formatted btrfs and mounted there."""
    from .. import config, network, shell, store
    from ..network import bridge
    store.setup(cfg)
    bridge.setup(network.get(cfg))
    if not a.no_image and not shell.dry_run:
        from .. import images
        try:
            images.resolve(cfg, "busybox:latest")
        except BockerError:
            shell.run([os.path.join(config.REPO, "scripts", "mkimage-busybox.sh")], check=True)


@verb("teardown", arg("--store", action="store_true", help="also unmount the loop-file store"),
      store=False)
def cmd_teardown(cfg, a):
    """Remove bocker's bridge and iptables chains (and, with --store, unmount the store).

    Only bocker's own chains and bridge are touched; no host rule is flushed."""
    from .. import cgroups, network, store
    from ..network import bridge
    bridge.teardown(network.get(cfg))
    cgroups.delete_parent(cfg)
    if a.store:
        store.unmount(cfg)


@verb("inspect", FORMAT, arg("-f", dest="format", help="same as --format"),
      arg("--type", choices=("container", "image"), help="only look for this kind"),
      arg("names", nargs="+", help="containers or images"))
def cmd_inspect(cfg, a):
    """Low-level information on containers and images, as a JSON array."""
    from .. import containers, fmt, images
    out, missing = [], []
    for ref in a.names:
        try:
            if a.type == "image":
                raise BockerError("")
            rec = containers.load(cfg, containers.resolve(cfg, ref))
            rec["State"] = containers.state(cfg, rec)
            rec["State"].pop("PidStartTime", None)
            out.append(rec)
            continue
        except BockerError:
            pass
        try:
            if a.type == "container":
                raise BockerError("")
            out.append(images.inspect(cfg, images.resolve(cfg, ref)))
        except BockerError:
            missing.append(ref)
    if a.format:
        fmt.emit(out, a.format, as_array=True)
    else:
        fmt.emit(out, "json", as_array=True)
    for ref in missing:
        print(f"bocker: No such object: {ref}", file=sys.stderr)
    return 1 if missing else 0


@verb("system prune", arg("-a", "--all", action="store_true", help="all unused images"),
      arg("--volumes", action="store_true", help="prune volumes too"),
      arg("-f", "--force", action="store_true", help="do not ask (bocker never asks)"))
def cmd_system_prune(cfg, a):
    """Remove stopped containers, dangling images (and unused volumes with --volumes)."""
    from .. import volumes
    from .containers import cmd_container_prune
    from .images import cmd_image_prune
    code = cmd_container_prune(cfg, a)
    cmd_image_prune(cfg, a)
    if a.volumes:  # (docker: anonymous volumes only, also with -a)
        for name in volumes.prune(cfg):
            print(name)
    return code


@verb("system df")
def cmd_system_df(cfg, a):
    """Disk usage: images, containers, volumes (apparent sizes; btrfs shares blocks)."""
    from .. import containers, fmt, images, volumes
    imgs = images.listing(cfg)
    ids = {r["Id"]: r["Size"] for r in imgs}
    recs = containers.all_records(cfg)
    used = {r["Image"] for r in recs}
    running = sum(1 for r in containers.ps_rows(cfg))
    vols = volumes.names(cfg)
    vol_size = sum(images.dir_size(volumes.path(cfg, n)) for n in vols)
    fmt.table(["TYPE", "TOTAL", "ACTIVE", "SIZE"],
              [["Images", len(ids), len(used & set(ids)), fmt.human_size(sum(ids.values()))],
               ["Containers", len(recs), running, ""],
               ["Local Volumes", len(vols), sum(1 for n in vols if volumes.users(cfg, n)),
                fmt.human_size(vol_size)]])

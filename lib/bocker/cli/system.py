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
    from .. import config, network, shell, store, userns
    from ..network import bridge
    store.setup(cfg)
    bridge.setup(network.get(cfg))
    if not shell.dry_run:
        userns.ensure_subid_range()  # for --userns-remap: the `bocker` range of /etc/subuid
    if not a.no_image and not shell.dry_run:
        from .. import images
        try:
            images.resolve(cfg, "busybox:latest")
        except BockerError:
            shell.run([os.path.join(config.REPO, "scripts", "mkimage-busybox.sh")], check=True)


@verb("teardown", arg("--store", action="store_true", help="also unmount the loop-file store"),
      arg("-f", "--force", action="store_true", help="stop running containers first"),
      store=False)
def cmd_teardown(cfg, a):
    """Remove bocker's bridges, iptables chains and DNS servers (and, with --store, unmount the store).

    Only bocker's own chains and bridge are touched; no host rule is flushed. Refused while
    containers run (they would be cut off yet shown Up): --force stops them first."""
    from .. import cgroups, network, store
    from ..network import bridge, user
    if os.path.isdir(cfg.path("containers")):  # the store may be unmounted: nothing runs then
        _stop_all(cfg, a.force)
    if os.path.isdir(cfg.path("networks")):
        user.teardown_all(cfg)
    bridge.teardown(network.get(cfg))
    cgroups.delete_parent(cfg)
    if a.store:
        store.unmount(cfg)


def _stop_all(cfg, force):
    from .. import containers, lifecycle
    running = [r for r in containers.all_records(cfg) if containers.state(cfg, r)["Status"] in ("running", "paused")]
    if running and not force:
        raise BockerError(f"{len(running)} container(s) running ({', '.join(r['Name'][1:] for r in running)}): "
                          f"stop them, or teardown --force")
    for rec in running:
        lifecycle.stop(cfg, rec["Id"])


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
    from .. import containers, volumes
    from .containers import cmd_container_prune
    from .images import cmd_image_prune
    code = cmd_container_prune(cfg, a)
    cmd_image_prune(cfg, a)
    if a.volumes:  # (docker: anonymous volumes only, also with -a)
        for name in volumes.prune(cfg, containers.all_records(cfg)):
            print(name)
    return code


@verb("system df")
def cmd_system_df(cfg, a):
    """Disk usage: images, containers, volumes (apparent sizes; btrfs shares blocks)."""
    from .. import containers, fmt, images, volumes
    imgs = images.listing(cfg, all_=True)
    ids = {r["Id"]: r["Size"] for r in imgs}
    recs = containers.all_records(cfg)
    used = {r["Image"] for r in recs}
    running = sum(1 for r in containers.ps_rows(cfg))
    vols = volumes.names(cfg)
    vol_size = sum(images.dir_size(volumes.path(cfg, n)) for n in vols)
    fmt.table(["TYPE", "TOTAL", "ACTIVE", "SIZE"],
              [["Images", len(ids), len(used & set(ids)), fmt.human_size(sum(ids.values()))],
               ["Containers", len(recs), running, ""],
               ["Local Volumes", len(vols), sum(1 for n in vols if volumes.users(n, recs)),
                fmt.human_size(vol_size)]])


@verb("info", FORMAT, arg("-f", dest="format", help="same as --format"))
@verb("system info", FORMAT, arg("-f", dest="format", help="same as --format"))
def cmd_info(cfg, a):
    """System-wide information: the store, containers and images, cgroups, security options."""
    from .. import fmt
    info = _info(cfg)
    if a.format:
        fmt.emit([info], a.format)
        return 0
    print("Server:")
    for key in ("Containers", "Images", "Server Version", "Storage Driver", "Docker Root Dir",
                "Cgroup Driver", "Cgroup Version", "Kernel Version", "Operating System", "Architecture",
                "CPUs", "Total Memory", "Default Runtime", "Init Binary"):
        if key == "Containers":
            s = info["ContainersStatus"]
            print(f" Containers: {info['Containers']}\n  Running: {s['running']}\n  Paused: {s['paused']}"
                  f"\n  Stopped: {s['stopped']}")
        else:
            print(f" {key}: {info[key]}")
    print(" Security Options:")
    for line in info["SecurityOptions"]:
        print(f"  {line}")
    return 0


def _info(cfg):
    """`docker info`'s fields that apply to bocker, plus what its security defaults are here."""
    import platform
    from .. import __version__, cgroups, containers, images, security, userns
    recs = containers.all_records(cfg)
    states = [containers.state(cfg, r)["Status"] for r in recs]
    v = cgroups.version(cfg)
    try:
        base = userns.mapping()[0]
    except BockerError:
        base = None
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    devices = ("devices cgroup (devices.allow)" if v == 1 else "devices: eBPF program (BPF_CGROUP_DEVICE)")
    options = ["seccomp: Profile: builtin (Docker's default; x86_64, x86, x32)",
               "capabilities: Docker's default set (14)",
               "masked paths and read-only /proc paths: Docker's defaults",
               devices, f"cgroupns: {'private' if os.path.exists('/proc/self/ns/cgroup') else 'none'}",
               "no-new-privileges: on by default"] + userns.info_lines(recs, base)
    return {"Containers": len(recs),
            "ContainersStatus": {"running": states.count("running"), "paused": states.count("paused"),
                                 "stopped": len(states) - states.count("running") - states.count("paused")},
            "Images": len(images.all_ids(cfg)), "Server Version": __version__,
            "Storage Driver": "btrfs", "Docker Root Dir": cfg.root, "Cgroup Driver": "cgroupfs",
            "Cgroup Version": str(v), "Kernel Version": platform.release(),
            "Operating System": _os_name(), "Architecture": platform.machine(), "CPUs": os.cpu_count(),
            "Total Memory": f"{mem_kb / 1024 / 1024:.2f}GiB",
            "Default Runtime": "bocker (unshare + init.py)",
            "Init Binary": security.TINI if os.path.exists(security.TINI) else "none (apt install tini)",
            "SecurityOptions": options}


def _os_name():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"

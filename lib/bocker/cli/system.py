"""The host and the store as a whole: setup, teardown, inspect, system prune, system df."""
import os
import sys

from .. import BockerError
from .verbs import FORCE, FORMAT, PRUNE_FILTER, arg, confirm, default_image_warning, prune_match, pruned, reclaimed, verb


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


@verb("system prune", arg("-a", "--all", action="store_true", help="all unused images, not only dangling ones"),
      arg("--volumes", action="store_true", help="prune anonymous volumes too"), PRUNE_FILTER, FORCE)
def cmd_system_prune(cfg, a):
    """Remove stopped containers, unused user networks, dangling images (-a: all unused images;
    --volumes: unused anonymous volumes); asks first, unless -f.

    --filter applies to containers and images; with one, networks and volumes are left alone."""
    from .. import containers
    from ..network import user
    from .containers import prune_containers
    from .images import prune_images
    from .volumes import prune_volumes
    match = prune_match(a.filter)
    items = ["all stopped containers", "all networks not used by at least one container"]
    items += ["all anonymous volumes not used by at least one container"] * a.volumes
    items += ["all images without at least one container associated to them" if a.all else "all dangling images"]
    warning = "This will remove:\n" + "\n".join(f"  - {i}" for i in items)
    warning += default_image_warning(cfg, a.all, containers.all_records(cfg)) + "\n"
    if not confirm(warning, a.force):
        return 0
    code, size = prune_containers(cfg, match)
    if match is None:  # (--filter: containers and images only; networks and volumes stay)
        pruned("Deleted Networks", user.prune(cfg))
        if a.volumes:  # (docker: anonymous volumes only, also with -a)
            size += prune_volumes(cfg, False)
    size += prune_images(cfg, a.all, match)
    reclaimed(size)
    return code


@verb("system df", arg("-v", "--verbose", action="store_true", help="each image, container and volume"), FORMAT)
def cmd_system_df(cfg, a):
    """Disk usage: images, containers, volumes, and what a prune would give back (RECLAIMABLE).

    Apparent sizes: btrfs shares blocks between an image and its containers and children;
    a container's SIZE is what it wrote (the extents its snapshot gained)."""
    from .. import containers, fmt, images, volumes
    imgs = {r["Id"]: r for r in images.listing(cfg, all_=True)}
    recs = containers.all_records(cfg)
    states = {r["Id"]: containers.state(cfg, r)["Status"] for r in recs}
    sizes = {r["Id"]: containers.writable_size(cfg, r["Id"]) for r in recs}
    used = {r["Image"] for r in recs}
    vols = volumes.names(cfg)
    vol_size = {n: images.dir_size(volumes.path(cfg, n)) for n in vols}
    vol_users = {n: len(volumes.users(n, recs)) for n in vols}

    def reclaimable(part, whole):
        return f"{fmt.human_size(part)} ({round(100 * part / whole) if whole else 0}%)"
    image_total = sum(r["Size"] for r in imgs.values())
    stopped = [i for i, s in states.items() if s not in ("running", "paused")]
    summary = [("Images", len(imgs), len(used & set(imgs)), image_total,
                reclaimable(sum(r["Size"] for i, r in imgs.items() if i not in used), image_total)),
               ("Containers", len(recs), len(recs) - len(stopped), sum(sizes.values()),
                reclaimable(sum(sizes[i] for i in stopped), sum(sizes.values()))),
               ("Local Volumes", len(vols), sum(1 for n in vols if vol_users[n]), sum(vol_size.values()),
                reclaimable(sum(vol_size[n] for n in vols if not vol_users[n]), sum(vol_size.values())))]
    if a.format:  # Docker's fields, strings as its --format sees them
        fmt.emit([{"Type": t, "TotalCount": str(n), "Active": str(active), "Size": fmt.human_size(size),
                   "Reclaimable": r} for t, n, active, size, r in summary], a.format,
                 headers={"TotalCount": "TOTAL"})
        return
    fmt.table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
              [[t, n, active, fmt.human_size(size), r] for t, n, active, size, r in summary])
    if not a.verbose:
        return
    counts = {i: sum(1 for r in recs if r["Image"] == i) for i in imgs}
    print("\nImages space usage:\n")
    fmt.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "CONTAINERS"],
              [[r["Repository"], r["Tag"], r["ID"], r["CreatedSince"], fmt.human_size(r["Size"]), counts[i]]
               for i, r in imgs.items()])
    print("\nContainers space usage:\n")
    rows = containers.ps_rows(cfg, all_=True)
    fmt.table(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
              [[r["ID"][:12], r["Image"], f'"{r["Command"][:19]}"', _local_volumes(recs, r["ID"]),
                fmt.human_size(sizes.get(r["ID"], 0)), r["RunningFor"], r["Status"], r["Names"]] for r in rows])
    print("\nLocal Volumes space usage:\n")
    fmt.table(["VOLUME NAME", "LINKS", "SIZE"], [[n, vol_users[n], fmt.human_size(vol_size[n])] for n in vols])


def _local_volumes(recs, cid):
    rec = next(r for r in recs if r["Id"] == cid)
    return sum(1 for m in rec.get("Mounts") or [] if m.get("Type") == "volume")


@verb("info", FORMAT, arg("-f", dest="format", help="same as --format"))
@verb("system info", FORMAT, arg("-f", dest="format", help="same as --format"))
def cmd_info(cfg, a):
    """System-wide information, in Docker's layout; --format on Docker's field names
    ('{{.ServerVersion}}', '{{.CgroupVersion}}', '{{json .}}')."""
    from .. import fmt
    info = _info(cfg)
    if a.format:
        fmt.emit([info], a.format)
        return 0
    for line in _info_lines(info):
        print(line)
    return 0


def _info_lines(info):
    """`docker info`'s text: Server, then each field (sub-lines indented one more space)."""
    n = info["DefaultNetwork"]
    yield "Server:"
    yield f" Containers: {info['Containers']}"
    for state in ("Running", "Paused", "Stopped"):
        yield f"  {state}: {info['Containers' + state]}"
    yield f" Images: {info['Images']}"
    yield f" Server Version: {info['ServerVersion']}"
    yield f" Storage Driver: {info['Driver']}"
    for key, value in info["DriverStatus"]:
        yield f"  {key}: {value}"
    yield f" Logging Driver: {info['LoggingDriver']}"
    yield f" Cgroup Driver: {info['CgroupDriver']}"
    yield f" Cgroup Version: {info['CgroupVersion']}"
    yield f" Default Network: {n['Name']}"
    yield f"  Bridge: {n['Bridge']}"
    yield f"  Subnet: {n['Subnet']}"
    yield f" Default Runtime: {info['DefaultRuntime']}"
    yield f" Init Binary: {info['InitBinary']}"
    yield " Security Options:"
    for option, details in info["SecurityDetails"]:
        yield f"  {option}"
        for d in details:
            yield f"   {d}"
    for key, field in (("Kernel Version", "KernelVersion"), ("Operating System", "OperatingSystem"),
                       ("OSType", "OSType"), ("Architecture", "Architecture"), ("CPUs", "NCPU")):
        yield f" {key}: {info[field]}"
    yield f" Total Memory: {info['MemTotal'] / 1024 ** 3:.2f}GiB"
    yield f" Name: {info['Name']}"
    yield f" Docker Root Dir: {info['DockerRootDir']}"
    yield f" Debug Mode: {str(info['Debug']).lower()}"
    yield f" Experimental: {str(info['ExperimentalBuild']).lower()}"


def _info(cfg):
    """`docker info`'s fields (its JSON names) that apply to bocker."""
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
    details = _security_details(v, userns.info_lines(recs, base))
    running, paused = states.count("running"), states.count("paused")
    return {"ID": "", "Containers": len(recs), "ContainersRunning": running, "ContainersPaused": paused,
            "ContainersStopped": len(states) - running - paused,
            "Images": len(images.all_ids(cfg)), "ServerVersion": __version__,
            "Driver": "btrfs", "DriverStatus": _store_usage(cfg), "LoggingDriver": "bocker-file",
            "CgroupDriver": "cgroupfs", "CgroupVersion": str(v), "KernelVersion": platform.release(),
            "OperatingSystem": _os_name(), "OSType": "linux", "Architecture": platform.machine(),
            "NCPU": os.cpu_count(), "MemTotal": mem_kb * 1024, "Name": platform.node(),
            "DockerRootDir": cfg.root, "Debug": False, "ExperimentalBuild": False,
            "DefaultRuntime": "bocker (unshare + init.py)",
            "InitBinary": security.TINI if os.path.exists(security.TINI) else "none (apt install tini)",
            "DefaultNetwork": {"Name": "bridge", "Bridge": cfg.bridge, "Subnet": cfg.subnet},
            "SecurityOptions": [f"name={o}" + (",profile=builtin" if o == "seccomp" else "")
                                for o, _ in details],
            "SecurityDetails": details}


def _security_details(cgroup_version, userns_lines):
    """Docker's Security Options names, each with what bocker's default is."""
    devices = "devices cgroup (devices.allow)" if cgroup_version == 1 else "devices: eBPF program (BPF_CGROUP_DEVICE)"
    out = [("seccomp", ["Profile: builtin (Docker's default; x86_64, x86, x32)"])]
    if os.path.exists("/proc/self/ns/cgroup"):
        out.append(("cgroupns", []))
    out.append(("no-new-privileges", []))
    out.append(("bocker defaults", ["capabilities: Docker's default set (14)",
                                    "masked paths and read-only /proc paths: Docker's defaults", devices]))
    out.append(("userns", [line.strip() for line in userns_lines]))
    return out


def _store_usage(cfg):
    """The storage driver's status lines: the btrfs store's space (statvfs)."""
    from .. import fmt
    st = os.statvfs(cfg.root)
    total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
    return [["Backing Filesystem", "btrfs"], ["Data Space Used", fmt.human_size(total - free)],
            ["Data Space Total", fmt.human_size(total)], ["Data Space Available", fmt.human_size(free)]]


@verb("_completion", arg("shell", choices=("bash", "zsh")), store=False)
def cmd_completion(cfg, a):
    """(internal) Print the shell completion script, made from the parser (`make completion`)."""
    from . import _parser, completion
    sys.stdout.write(getattr(completion, a.shell)(_parser()))


@verb("_docs", store=False)
def cmd_docs(cfg, a):
    """(internal) Print README's command table, made from the parser (`make docs`)."""
    from . import _parser, docs
    print(docs.markdown(_parser()))


@verb("version", FORMAT, arg("-f", dest="format", help="same as --format"), store=False)
def cmd_version(cfg, a):
    """bocker's version, in Docker's layout; --format on its fields ('{{.Server.Version}}')."""
    from .. import fmt
    info = _version()
    if a.format:
        fmt.emit([info], a.format)
        return 0
    c, s = info["Client"], info["Server"]
    print(f"Client:\n Version:           {c['Version']}\n API version:       {c['ApiVersion']}\n"
          f" Python version:    {c['PythonVersion']}\n OS/Arch:           {c['Os']}/{c['Arch']}\n"
          f"\nServer: {s['Platform']['Name']}\n Engine:\n  Version:          {s['Version']}\n"
          f"  API version:      {s['ApiVersion']}\n  Python version:   {s['PythonVersion']}\n"
          f"  OS/Arch:          {s['Os']}/{s['Arch']}\n  Kernel Version:   {s['KernelVersion']}\n"
          f"  Experimental:     false")
    return 0


def _version():
    import platform
    from .. import __version__
    from ..registry import default_platform
    os_, arch = default_platform().split("/")
    common = {"Version": __version__, "ApiVersion": "none (no daemon)", "PythonVersion": platform.python_version(),
              "Os": os_, "Arch": arch}
    return {"Client": dict(common),
            "Server": dict(common, Platform={"Name": "bocker"}, KernelVersion=platform.release(),
                           Experimental=False)}


def _os_name():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"

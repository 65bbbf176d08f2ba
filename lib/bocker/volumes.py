"""Volumes: named and anonymous volumes are btrfs subvolumes; bind mounts and tmpfs are records.

volumes/<name>/        the volume's data (a subvolume)
volumes/<name>.json    {"Name", "CreatedAt", "Labels", "Anonymous"}
A container's mounts are in its record ("Mounts"); init.py mounts them before pivot_root.
"""
import os
import re

from . import BockerError, NotFound, events, fmt, shell, store

NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{1,254}")  # (255: a file name's limit)


def path(cfg, name):
    return cfg.path("volumes", name)


def exists(cfg, name):
    return os.path.exists(path(cfg, name) + ".json")


def create(cfg, name=None, labels=None, anonymous=False):
    """Make a volume (idempotent for an existing name); returns its name."""
    name = name or os.urandom(32).hex()
    if not NAME_RE.fullmatch(name):
        raise BockerError(f'"{name}" includes invalid characters for a local volume name, '
                          f'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed')
    if exists(cfg, name):
        return name
    store.create_subvolume(path(cfg, name))
    store.write_json(path(cfg, name) + ".json", {"Name": name, "CreatedAt": fmt.now_iso(),
                                                "Labels": labels or {}, "Anonymous": anonymous})
    events.volume(cfg, "create", name)
    return name


def info(cfg, name):
    try:
        meta = store.read_json(path(cfg, name) + ".json")
    except FileNotFoundError:
        raise NotFound(f"get {name}: no such volume")
    return {"CreatedAt": meta["CreatedAt"], "Driver": "local", "Labels": meta.get("Labels") or {},
            "Mountpoint": path(cfg, name), "Name": name, "Options": None, "Scope": "local",
            "Anonymous": meta.get("Anonymous", False)}


def matches(row, filters, used):
    """volume ls --filter: name= (a part of the name), label=KEY[=VALUE] (all), dangling=true|false."""
    fmt.check_bool_filter(filters, "dangling")
    tests = {"name": lambda v: v in row["Name"], "label": lambda v: fmt.label_match(row.get("Labels"), v),
             "dangling": lambda v: used != (v.lower() in ("true", "1"))}
    return all((all if k == "label" else any)(tests[k](v) for v in values) for k, values in filters.items())


def names(cfg):
    return sorted(n[:-5] for n in os.listdir(cfg.path("volumes")) if n.endswith(".json"))


def users(name, records):
    """Ids of the containers (of these records: the orchestrator reads them) that mount this volume."""
    return [rec["Id"] for rec in records if any(m.get("Name") == name for m in rec.get("Mounts") or [])]


def remove(cfg, name, records, force=False):
    if not exists(cfg, name):
        if force:
            return
        raise NotFound(f"get {name}: no such volume")
    used = users(name, records)
    if used:
        raise BockerError(f"remove {name}: volume is in use - [{', '.join(u[:12] for u in used)}]")
    store.delete_subvolume(path(cfg, name))
    shell.do(f"rm -f {shell.quote(path(cfg, name) + '.json')}", os.unlink, path(cfg, name) + ".json")
    events.volume(cfg, "destroy", name)


def prune(cfg, records, all_=False, match=None):
    """Remove the volumes no container (of `records`) uses: anonymous ones, or all with all_;
    only those `match(created, labels)` accepts (prune --filter), if given."""
    removed = []
    for name in names(cfg):
        v = info(cfg, name)
        if ((all_ or v["Anonymous"]) and not users(name, records)
                and (match is None or match(v["CreatedAt"], v["Labels"]))):
            remove(cfg, name, records)
            removed.append(name)
    return removed


def _mode(options):
    """-v's third field, comma-separated as Docker's (`rw,Z`): z/Z (SELinux labels) mean nothing
    without SELinux; the propagation modes are the default (private) or refused."""
    rw = True
    for o in ",".join(options).split(","):
        if o == "ro":
            rw = False
        elif o not in ("rw", "z", "Z", "rprivate", "private", "consistent", "cached", "delegated", ""):
            raise BockerError(f"invalid mode: {o}")
    return rw


def destination(dst, what):
    """A mount's container path, cleaned as Docker does (`/a/../b` -> `/b`); never `/` itself:
    a mount over the root (`-v /:/..`) would give the container the host's root."""
    if not dst.startswith("/"):
        raise BockerError(f"{what}: the container path must be absolute")
    clean = os.path.normpath("/" + dst.lstrip("/"))  # (normpath keeps a leading `//`)
    if clean == "/":
        raise BockerError(f"{what}: the container path cannot be '/'")
    return clean


def parse_spec(cfg, spec):
    """-v HOST:CTR[:ro], -v NAME:CTR[:ro], -v CTR (anonymous) -> a mount record (volumes not made yet)."""
    parts = spec.split(":")
    if len(parts) == 1:
        src, dst, options = None, parts[0], []
    else:
        src, dst, options = parts[0], parts[1], parts[2:]
    dst = destination(dst, f"invalid volume specification: '{spec}'")
    rw = _mode(options)
    if src is None:
        return {"Type": "volume", "Name": None, "Source": "", "Destination": dst, "RW": rw, "Anonymous": True}
    if src.startswith("/"):
        if not os.path.exists(src):  # Docker's -v makes a missing host directory (--mount refuses)
            shell.do(f"mkdir -p {shell.quote(src)}", os.makedirs, src, exist_ok=True)
        return {"Type": "bind", "Source": os.path.realpath(src), "Destination": dst, "RW": rw}
    if src.startswith(".") or "/" in src:
        raise BockerError(f"invalid volume specification: '{spec}': a host path must be absolute")
    if not NAME_RE.fullmatch(src):
        raise BockerError(f"invalid volume name: {src}")
    return {"Type": "volume", "Name": src, "Source": path(cfg, src), "Destination": dst, "RW": rw,
            "Anonymous": False}


def plan(cfg, opts, image_cfg, shared=()):
    """The container's mounts (`opts`: a containers.RunOptions): -v, --volumes-from (`shared`: the
    other containers' mounts and the mode asked, read by the orchestrator), --tmpfs and the
    image's VOLUMEs."""
    mounts = [parse_spec(cfg, v) for v in opts.volumes]
    for other_mounts, mode in shared:
        for m in other_mounts:
            if m["Type"] != "tmpfs":  # the other's anonymous volumes stay its own: not removed with this one
                mounts.append(dict(m, RW=m["RW"] and mode != "ro", Anonymous=False))
    for t in opts.tmpfs:
        dst, _, options = t.partition(":")
        dst = destination(dst, f"invalid tmpfs mount: {t}")
        mounts.append({"Type": "tmpfs", "Source": "", "Destination": dst, "RW": True, "Options": options})
    taken = {m["Destination"] for m in mounts}
    for dst in (image_cfg.get("Volumes") or {}):
        if dst not in taken:
            mounts.append({"Type": "volume", "Name": None, "Source": "", "Destination": dst, "RW": True,
                           "Anonymous": True})
    dests = [m["Destination"].rstrip("/") for m in mounts]
    if len(set(dests)) != len(dests):
        raise BockerError("duplicate mount point in the volumes given")
    return mounts


def materialize(cfg, mounts, rootfs, undo, remap=None):
    """Create missing volumes; copy the image's content into a new (empty) volume, as docker does.
    remap: (base, count) of a remapped container, whose root must own its new volumes."""
    for m in mounts:
        if m["Type"] != "volume":
            continue
        from .init import inside
        new = m["Name"] is None or not exists(cfg, m["Name"])
        m["Name"] = create(cfg, m["Name"], anonymous=m["Anonymous"])
        m["Source"] = path(cfg, m["Name"])
        if new:
            undo.append(lambda n=m["Name"]: remove(cfg, n, force=True))
        content = inside(rootfs, m["Destination"])
        # docker fills an empty volume with what the image has at the mount point
        if not shell.dry_run and not os.listdir(m["Source"]) and os.path.isdir(content) and os.listdir(content):
            shell.run(["cp", "-a", "--reflink=auto", content + "/.", m["Source"]])
        if new and remap:
            from . import userns
            userns.shift_tree(m["Source"], remap[0], remap[1])

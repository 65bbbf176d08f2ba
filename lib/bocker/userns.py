"""User-namespace remapping (`--userns-remap=default`): root in the container is an unprivileged
range of host ids, the `bocker` entry of /etc/subuid and /etc/subgid (made by `setup`).

    bocker:BASE:65536     container uid/gid N is host uid/gid BASE+N

The image is not copied nor chowned: init.py mounts the container's rootfs through an idmapped
mount (mount_setattr(2) MOUNT_ATTR_IDMAP, btrfs since Linux 5.15), so on-disk uid 0 is seen as
BASE by the kernel and as 0 inside, and what the container writes is stored unshifted (commit,
export and cp see ordinary files). Only a named volume made for a remapped container is chowned
to the range (bind mounts are left as they are, as Docker does).
"""
import os

from . import BockerError, shell

SUBUID, SUBGID = "/etc/subuid", "/etc/subgid"
LOCK = "/run/lock/bocker-subid.lock"
NAME = "bocker"
COUNT = 65536
FIRST_BASE = 100000  # where useradd starts its ranges (SUB_UID_MIN): below are real accounts


def parse_subid(text):
    """The entries of an /etc/subuid-style file: [(name, start, count)], comments and
    malformed lines skipped (as shadow's own parser does)."""
    entries = []
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            entries.append((fields[0], int(fields[1]), int(fields[2])))
    return entries


def find_entry(entries, name):
    """(start, count) of `name`'s first entry, or None."""
    return next(((start, count) for n, start, count in entries if n == name), None)


def overlaps(start, count, entries):
    return any(start < s + c and s < start + count for _, s, c in entries)


def free_base(entries, count=COUNT, first=FIRST_BASE):
    """The lowest base >= first, a multiple of `count` above it, that overlaps no entry."""
    base = first
    while overlaps(base, count, entries):
        base += count
    return base


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _append(path, text, line):
    """Rewrite the file with one more line: temp file + rename, so a reader (newuidmap,
    useradd) sees the old file or the new one, never half of it; mode kept (0644)."""
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644
    if text and not text.endswith("\n"):
        text += "\n"
    shell.write_file(path, text + line + "\n", mode=mode, show=False)


def ensure_subid_range(name=NAME, count=COUNT, subuid=SUBUID, subgid=SUBGID, lock=LOCK):
    """The (base, count) of `name` in both files, appending `name:BASE:COUNT` to each that lacks
    it, with the same BASE in both, free in both (idempotent; other entries untouched)."""
    import fcntl
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two `setup`s at once must not choose two bases
        texts = {path: _read(path) for path in (subuid, subgid)}
        parsed = {path: parse_subid(text) for path, text in texts.items()}
        found = [find_entry(parsed[p], name) for p in (subuid, subgid)]
        if found[0] and found[0] == found[1]:
            return found[0]
        if any(found) and found[0] != found[1] and all(found):
            raise BockerError(f"the {name} entries of {subuid} and {subgid} differ "
                              f"({found[0]} and {found[1]}): make them the same range")
        # one file has it: reuse its range for the other if it is free there
        base, count = next((f for f in found if f), (None, count))
        everyone = parsed[subuid] + parsed[subgid]
        if base is None or overlaps(base, count, [e for e in everyone if e[0] != name]):
            if any(found):
                raise BockerError(f"the {name} range {base}:{count} overlaps another entry "
                                  f"of {subuid} or {subgid}")
            base = free_base(everyone, count)
        for path, entry in zip((subuid, subgid), found):
            if not entry:
                shell.comment(f"userns: container root is host uid {base}: a range of its own")
                _append(path, texts[path], f"{name}:{base}:{count}")
        return base, count
    finally:
        os.close(fd)


def mapping(name=NAME, subuid=SUBUID, subgid=SUBGID):
    """(base, count) of the remapping, read-only (run time): one clear line if setup never made it."""
    uid = find_entry(parse_subid(_read(subuid)), name)
    gid = find_entry(parse_subid(_read(subgid)), name)
    if not uid or uid != gid:
        raise BockerError(f"--userns-remap=default needs a `{name}` entry in {subuid} and {subgid}: "
                          f"run `bocker setup`")
    return uid


def id_map_line(base, count=COUNT):
    """The line of /proc/PID/uid_map and gid_map: inside 0.. is outside BASE.., COUNT ids."""
    return f"0 {base} {count}"


def remap_mode(flag=None, userns=None, env=None):
    """'default' when the container is remapped, '' when not: --userns=host opts out,
    --userns-remap=default opts in, BOCKER_USERNS_REMAP=default makes it the default."""
    if env is None:
        env = os.environ.get("BOCKER_USERNS_REMAP", "")
    if userns not in (None, "", "host"):
        raise BockerError(f"invalid --userns: {userns!r} (only \"host\")")
    if userns == "host":
        return ""
    value = flag if flag is not None else env
    if value not in ("", "default"):
        raise BockerError(f"invalid --userns-remap: {value!r} (only \"default\", the `{NAME}` range "
                          f"of /etc/subuid)")
    return value


def check_compatible(network_mode, privileged=False):
    """What Docker refuses with remapping too (their namespaces belong to the host's user namespace,
    so root in the container could not mount /sys, or would be host root)."""
    if privileged:
        raise BockerError("privileged mode is incompatible with user namespaces: "
                          "use --userns=host with --privileged")
    if network_mode == "host":
        raise BockerError("cannot share the host's network namespace when user namespaces are "
                          "enabled: use --userns=host with --network host")


def host_config(base, count=COUNT):
    """The record's HostConfig entries of a remapped container (inspect shows them)."""
    return {"UsernsMode": "remap", "UsernsRemap": {"Name": NAME, "UidMap": id_map_line(base, count),
                                                   "GidMap": id_map_line(base, count)}}


def base_of(rec):
    """(base, count) of a remapped container's record, None when it is not remapped."""
    remap = rec.get("HostConfig", {}).get("UsernsRemap")
    if not remap:
        return None
    _, base, count = remap["UidMap"].split()
    return int(base), int(count)


def init_options(rec):
    """init.py's option for a remapped container (run and exec): it makes the namespace itself."""
    ids = base_of(rec)
    return ["--userns", f"{ids[0]}:{ids[1]}"] if ids else []


def shift_tree(path, base, count=COUNT):
    """chown every inode under `path` (itself included) by +base, never following a symlink:
    for a new named volume whose content came from the image (`cp -a`, ids 0..). chown clears
    setuid/setgid bits (set back here) and file capabilities (security.capability, whose v3
    form names a root uid: not restored, a volume's data rarely carries them)."""
    line = (f"find {shell.quote(path)} -exec sh -c 'for f; do chown -h "
            f"$(({base} + $(stat -c %u \"$f\"))):$(({base} + $(stat -c %g \"$f\"))) \"$f\"; done' sh {{}} +")

    def walk():
        _shift(path, base, count)
        for top, dirs, files in os.walk(path):
            for name in dirs + files:
                _shift(os.path.join(top, name), base, count)
    shell.do(line + f"  # uid/gid N becomes {base}+N", walk)


def _shift(path, base, count):
    st = os.lstat(path)
    if st.st_uid >= count or st.st_gid >= count:
        raise BockerError(f"{path}: uid {st.st_uid} / gid {st.st_gid} is outside the remapped "
                          f"range 0-{count - 1}")
    os.lchown(path, base + st.st_uid, base + st.st_gid)
    if st.st_mode & 0o6000 and not os.path.islink(path):
        os.chmod(path, st.st_mode & 0o7777)


def info_lines(records, base=None):
    """For `bocker info`'s Security Options: the range and which containers are remapped."""
    remapped = [rec["Name"].lstrip("/") for rec in records if base_of(rec)]
    lines = [f"userns: {NAME}:{base}:{COUNT} (idmapped mounts)" if base is not None
             else "userns: no bocker range (run `bocker setup`)"]
    lines.append("  Remapped Containers: " + (", ".join(remapped) if remapped else "none"))
    return lines

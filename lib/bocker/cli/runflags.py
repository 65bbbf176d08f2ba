"""The run/create flags that are spelled differently from what the record needs: --env-file,
--label-file, --mount, --attach, --expose, --platform, --pull, --cidfile (pure, but --cidfile)."""
import os

from .. import BockerError

STREAMS = ("stdin", "stdout", "stderr")
PULL_POLICIES = ("always", "missing", "never")


def parse_kv_file(path, lookup=None):
    """Docker's env-file/label-file rules: leading blanks dropped, `#` lines and blank lines
    skipped, `KEY=VALUE` kept as written (no quotes removed); `KEY` alone: from `lookup`
    (the environment, for --env-file; left out if unset), or kept as `KEY` (an empty label)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BockerError(f"open {path}: {e.strerror.lower()}")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise BockerError(f"{path}: invalid UTF-8")
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, _ = line.partition("=")
        if not key:
            raise BockerError(f"{path}:{n}: no variable name on line '{line}'")
        if any(c.isspace() for c in key):
            raise BockerError(f"{path}:{n}: variable '{key}' contains whitespaces")
        if eq:
            out.append(line)
        elif lookup is None:
            out.append(key)
        elif lookup(key) is not None:
            out.append(f"{key}={lookup(key)}")
    return out


def env_items(files, flags, environ=os.environ):
    """--env-file entries first, then -e (a later one replaces an earlier: containers.merge_env)."""
    return [item for f in files for item in parse_kv_file(f, environ.get)] + list(flags)


def label_items(files, flags):
    return [item for f in files for item in parse_kv_file(f)] + list(flags)


MOUNT_KEYS = {"type": "type", "source": "source", "src": "source", "destination": "target",
              "dst": "target", "target": "target", "readonly": "readonly", "ro": "readonly",
              "tmpfs-size": "tmpfs-size", "tmpfs-mode": "tmpfs-mode", "bind-propagation": "bind-propagation"}


def parse_mount(spec):
    """--mount type=bind|volume|tmpfs,src=,dst=,readonly[,tmpfs-size=,tmpfs-mode=] ->
    ("volume", a -v spec) or ("tmpfs", a --tmpfs spec): the -v/--tmpfs machinery checks the rest.
    A bind source must exist (unlike -v, which creates it: Docker's difference)."""
    fields = {}
    for part in spec.split(","):
        key, eq, value = part.partition("=")
        name = MOUNT_KEYS.get(key.strip().lower())
        if name is None:
            raise BockerError(f"invalid argument \"{spec}\" for \"--mount\" flag: unexpected key '{key}' in '{part}'")
        if not eq and name != "readonly":
            raise BockerError(f"invalid argument \"{spec}\" for \"--mount\" flag: invalid field '{part}' must be a key=value pair")
        fields[name] = value if eq else "true"
    kind = fields.get("type", "volume")
    target = fields.get("target")
    if not target:
        raise BockerError(f"invalid argument \"{spec}\" for \"--mount\" flag: target is required")
    readonly = _bool(fields.get("readonly", "false"), spec)
    source = fields.get("source", "")
    if kind == "tmpfs":
        if source:
            raise BockerError("invalid mount config for type \"tmpfs\": source must not be specified")
        options = [f"size={fields['tmpfs-size']}"] if "tmpfs-size" in fields else []
        options += [f"mode={fields['tmpfs-mode']}"] if "tmpfs-mode" in fields else []
        options += ["ro"] if readonly else []
        return "tmpfs", target + (":" + ",".join(options) if options else "")
    if kind not in ("bind", "volume"):
        raise BockerError(f"invalid argument \"{spec}\" for \"--mount\" flag: invalid mount type '{kind}' "
                          f"(bind, volume, tmpfs)")
    if fields.get("bind-propagation", "rprivate") not in ("private", "rprivate"):
        raise BockerError(f"invalid mount config: bind-propagation={fields['bind-propagation']}: "
                          f"bocker's mounts are private (rprivate)")
    if "tmpfs-size" in fields or "tmpfs-mode" in fields:
        raise BockerError(f"invalid mount config for type \"{kind}\": tmpfs options are for type tmpfs")
    if kind == "bind":
        if not source.startswith("/"):
            raise BockerError(f"invalid mount config for type \"bind\": invalid mount path: '{source}' "
                              f"mount path must be absolute")
        if not os.path.exists(source):
            raise BockerError(f"invalid mount config for type \"bind\": bind source path does not exist: {source}")
    elif source.startswith("/"):
        raise BockerError(f"invalid mount config for type \"volume\": invalid volume name '{source}'")
    if ":" in source or ":" in target:
        raise BockerError(f"invalid argument \"{spec}\" for \"--mount\" flag: ':' in a path is not supported")
    return "volume", (f"{source}:{target}" if source else target) + (":ro" if readonly else "")


def _bool(text, spec):
    value = text.strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise BockerError(f"invalid argument \"{spec}\" for \"--mount\" flag: invalid value for readonly: {text}")


def parse_attach(values):
    """-a/--attach STDIN|STDOUT|STDERR (any case, repeatable) -> the set of streams; none: all."""
    out = set()
    for v in values:
        if v.lower() not in STREAMS:
            raise BockerError(f"invalid argument \"{v}\" for \"-a, --attach\" flag: "
                              f"valid streams are STDIN, STDOUT and STDERR")
        out.add(v.lower())
    return out


def parse_expose(values):
    """--expose PORT[/PROTO] or a range START-END[/PROTO] -> Config.ExposedPorts keys."""
    out = []
    for v in values:
        port, _, proto = v.partition("/")
        proto = proto or "tcp"
        start, _, end = port.partition("-")
        if proto not in ("tcp", "udp", "sctp") or not start.isdigit() or (end and not end.isdigit()):
            raise BockerError(f"invalid range format for --expose: {v}")
        first, last = int(start), int(end or start)
        if not 0 < first <= last <= 65535:
            raise BockerError(f"invalid range format for --expose: {v}")
        out += [f"{p}/{proto}" for p in range(first, last + 1)]
    return out


def check_pull_policy(policy):
    if policy not in PULL_POLICIES:
        raise BockerError(f'invalid pull option: \'{policy}\': must be one of "always", "missing" or "never"')
    return policy


def claim_cidfile(path):
    """--cidfile: made now, empty (refused if it exists, as Docker), filled once the id is known."""
    if path is None:
        return None
    from .. import shell
    if os.path.lexists(path):
        raise _cidfile_found(path)
    shell.do(f"set -C; : > {shell.quote(path)}", _create_exclusive, path)
    return path


def _cidfile_found(path):
    return BockerError(f"Container ID file found, make sure the other container isn't running or delete {path}")


def _create_exclusive(path):
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:  # (made meanwhile)
        raise _cidfile_found(path)
    except OSError as e:
        raise BockerError(f"failed to create the container ID file: {path}: {e.strerror}")


def write_cidfile(path, cid):
    from .. import shell
    if path is not None:
        shell.do(f"printf %s {cid} > {shell.quote(path)}", _write, path, cid)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def drop_cidfile(path):
    from .. import shell
    if path is not None:
        shell.do(f"rm -f {shell.quote(path)}", lambda: os.path.lexists(path) and os.unlink(path))


class Unattached:
    """What the container's output goes to for a stream -a left out: its bytes (`.buffer`) are
    dropped, bocker's own text lines (`.write`) still reach the real stream."""

    class _Sink:
        def write(self, data):
            return len(data)

        def flush(self):
            pass

    def __init__(self, real):
        self.real, self.buffer = real, self._Sink()

    def write(self, text):
        return self.real.write(text)

    def flush(self):
        self.real.flush()

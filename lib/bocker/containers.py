"""Container records and lifecycle: create, start, wait, run, rm, ps, logs, commit.

containers/<id>/rootfs/         writable snapshot of the image
containers/<id>/config.json     the record (docker inspect's shape)
containers/<id>/container.log   stdout+stderr
names/<name> -> <id>            symlink: names are unique because symlink creation is atomic
"""
import os
import re
import time

from . import BockerError, fmt, images, runtime, shell, store

NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
ADJECTIVES = ("brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid",
              "merry", "nifty", "proud", "quirky", "sharp", "tender", "vivid", "witty", "zen")
NAMES = ("babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler", "lovelace",
         "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak")


def cdir(cfg, cid, *parts):
    return cfg.path("containers", cid, *parts)


def load(cfg, cid):
    try:
        return store.read_json(cdir(cfg, cid, "config.json"))
    except FileNotFoundError:
        raise BockerError(f"No such container: {cid}")


def save(cfg, rec):
    store.write_json(cdir(cfg, rec["Id"], "config.json"), rec)


def resolve(cfg, ref):
    """A name, full id or unique id prefix -> container id."""
    if not ref:
        raise BockerError("container name or id required")
    link = cfg.path("names", ref)
    if NAME_RE.fullmatch(ref) and os.path.islink(link):
        return os.readlink(link)
    if re.fullmatch(r"[0-9a-f]+", ref):
        matches = [c for c in os.listdir(cfg.path("containers")) if c.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise BockerError(f"multiple containers match '{ref}': use more of the id")
    raise BockerError(f"No such container: {ref}")


# --- state, as seen now ---------------------------------------------------------------

def state(cfg, rec):
    """The record's state, corrected by the truth: a 'running' container whose process is gone
    (pid dead, or pid reused: start time differs) shows as exited."""
    st = rec["State"]
    if st["Status"] in ("running", "paused") and not runtime.alive(st.get("Pid"), st.get("PidStartTime")):
        st = dict(st, Status="exited", Running=False, Pid=0)
        code = _read_exit_file(cfg, rec["Id"])
        st["ExitCode"] = 255 if code is None else code
        st["FinishedAt"] = st.get("FinishedAt") or fmt.now_iso()
    return st


def _read_exit_file(cfg, cid):
    try:
        with open(cdir(cfg, cid, "exitcode")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def status_text(st):
    if st["Status"] == "running":
        return "Up " + fmt.human_duration(time.time() - fmt.parse_iso(st["StartedAt"]))
    if st["Status"] == "paused":
        return "Up " + fmt.human_duration(time.time() - fmt.parse_iso(st["StartedAt"])) + " (Paused)"
    if st["Status"] == "exited":
        return f"Exited ({st['ExitCode']}) {fmt.ago(st.get('FinishedAt'))}"
    return st["Status"].capitalize()


# --- create -----------------------------------------------------------------------------

def _new_name(cfg):
    import random
    for _ in range(100):
        name = f"{random.choice(ADJECTIVES)}_{random.choice(NAMES)}"
        if not os.path.lexists(cfg.path("names", name)):
            return name
    return f"{random.choice(ADJECTIVES)}_{random.choice(NAMES)}{random.randrange(1000)}"


def _claim_name(cfg, name, cid):
    def link():
        try:
            os.symlink(cid, cfg.path("names", name))
        except FileExistsError:
            other = os.readlink(cfg.path("names", name))
            raise BockerError(f'Conflict. The container name "/{name}" is already in use by '
                              f'container "{other}". You have to remove (or rename) that container '
                              f'to be able to reuse that name.')
    shell.do(f"ln -s {cid} {shell.quote(cfg.path('names', name))}", link)


def make_record(cfg, cid, name, image_id, ref, opts):
    """The container's record, in the shape `docker inspect` shows."""
    image_cfg = images.config(cfg, image_id).get("config") or {}
    env = list(image_cfg.get("Env") or images.DEFAULT_ENV)
    if not any(e.startswith("PATH=") for e in env):
        env = images.DEFAULT_ENV + env
    hostname = opts.get("hostname") or cid[:12]
    env.append(f"HOSTNAME={hostname}")
    for item in opts.get("env") or []:
        key = item.partition("=")[0]
        if "=" not in item:  # -e NAME takes the value from bocker's environment, like docker
            if key not in os.environ:
                continue
            item = f"{key}={os.environ[key]}"
        env = [e for e in env if e.partition("=")[0] != key] + [item]
    entrypoint = image_cfg.get("Entrypoint")
    if opts.get("entrypoint") is not None:
        entrypoint = [opts["entrypoint"]] if opts["entrypoint"] else None
    cmd = opts.get("command") or (None if opts.get("entrypoint") is not None else image_cfg.get("Cmd"))
    argv = list(entrypoint or []) + list(cmd or [])
    if not argv:
        raise BockerError("no command specified")
    return {
        "Id": cid, "Name": "/" + name, "Created": fmt.now_iso(), "Path": argv[0], "Args": argv[1:],
        "State": {"Status": "created", "Running": False, "Paused": False, "OOMKilled": False,
                  "Pid": 0, "ExitCode": 0, "StartedAt": "0001-01-01T00:00:00Z",
                  "FinishedAt": "0001-01-01T00:00:00Z"},
        "Image": image_id,
        "Config": {"Hostname": hostname, "User": opts.get("user") or image_cfg.get("User") or "",
                   "Env": env, "Cmd": cmd, "Entrypoint": entrypoint, "Image": ref,
                   "WorkingDir": opts.get("workdir") or image_cfg.get("WorkingDir") or "",
                   "Labels": dict(image_cfg.get("Labels") or {}, **(opts.get("labels") or {}))},
        "HostConfig": {"NetworkMode": opts.get("network") or "bridge",
                       "Memory": opts.get("memory") or 0,
                       "NanoCpus": int((opts.get("cpus") or 0) * 1e9),
                       "PidsLimit": opts.get("pids_limit") or 0, "AutoRemove": bool(opts.get("rm"))},
        "NetworkSettings": {"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "Ports": {}},
        "Mounts": [],
        "LogPath": cdir(cfg, cid, "container.log"),
        "GraphDriver": {"Name": "btrfs", "Data": {"Path": cdir(cfg, cid, "rootfs")}},
    }


def create(cfg, ref, opts):
    """Snapshot the image and write the record; returns the record. Undone if any step fails."""
    image_id = images.resolve(cfg, ref)
    name = opts.get("name")
    if name is not None and not NAME_RE.fullmatch(name):
        raise BockerError(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    cid = os.urandom(32).hex()
    name = name or _new_name(cfg)
    rec = make_record(cfg, cid, name, image_id, ref, opts)
    undo = []
    try:
        with shell.step("create", "create: a writable snapshot of the image, the record, a unique name"):
            _claim_name(cfg, name, cid)
            undo.append(lambda: _unlink(cfg.path("names", name)))
            shell.do(f"mkdir {cdir(cfg, cid)}", os.mkdir, cdir(cfg, cid))
            undo.append(lambda: _rmtree(cdir(cfg, cid)))
            store.snapshot(images.rootfs(cfg, image_id), cdir(cfg, cid, "rootfs"))
            undo.append(lambda: store.delete_subvolume(cdir(cfg, cid, "rootfs")))
            save(cfg, rec)
    except BaseException:
        _rollback(undo)
        raise
    return rec


def _rollback(undo):
    for fn in reversed(undo):
        try:
            fn()
        except Exception:
            pass


def _unlink(path):
    shell.do(f"rm -f {shell.quote(path)}", lambda: os.path.lexists(path) and os.unlink(path))


def _rmtree(path):
    shell.do(f"rm -rf {shell.quote(path)}", _remove_dir, path)


def _remove_dir(path):
    """rm -rf of a container directory (only files are left once its rootfs is deleted);
    shutil would cost 2 ms of imports on every `run --rm`."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            _remove_dir(p)
        else:
            os.unlink(p)
    os.rmdir(path)


# --- start / wait -------------------------------------------------------------------------

def start(cfg, rec, stdin=None, stdout=None, stderr=None):
    """Network, cgroup, launch; on return the command runs (or is about to) as PID 1.
    Returns the Launch. Everything made here is undone if a step fails."""
    from . import cgroups, network
    cid = rec["Id"]
    rootfs = cdir(cfg, cid, "rootfs")
    mode = rec["HostConfig"]["NetworkMode"]
    undo = []
    try:
        with shell.step("network", f"network ({mode}): address, /etc files"):
            ip = None
            if mode == "bridge":
                if not network.bridge_exists(cfg):  # first container: bridge and chains
                    network.setup(cfg)
                ip = network.lease(cfg, cid)
                undo.append(lambda: network.release(cfg, cid))
                rec["NetworkSettings"].update(IPAddress=ip, Gateway=str(network.gateway(cfg)),
                                              IPPrefixLen=network.subnet(cfg).prefixlen)
            network.write_etc(rootfs, rec["Config"]["Hostname"], ip, mode)
        with shell.step("cgroup", "cgroup: the container's own, with its limits"):
            hc = rec["HostConfig"]
            cgroups.create(cfg, cid, {"memory": hc["Memory"], "cpus": hc["NanoCpus"] / 1e9,
                                      "pids": hc["PidsLimit"]})
            undo.append(lambda: cgroups.delete(cfg, cid))
        with shell.step("launch", "launch: new namespaces in the cgroup; init.py waits for the host"):
            handle = runtime.launch(cfg, rec, rootfs, cdir(cfg, cid), stdin=stdin, stdout=stdout,
                                    stderr=stderr)
            undo.append(handle.abort)
        if mode == "bridge":
            with shell.step("veth", "veth pair: one end on the bridge, eth0 made inside the netns"):
                network.attach(cfg, cid, handle.pid, ip)
        if not shell.dry_run:  # a dry-run script leaves the record as created
            rec["State"].update(Status="running", Running=True, Pid=handle.pid, ExitCode=0,
                                StartedAt=fmt.now_iso(), FinishedAt="0001-01-01T00:00:00Z",
                                PidStartTime=runtime.pid_start_time(handle.pid))
            save(cfg, rec)
        runtime.trace_init(rec, rootfs)
        handle.go()
    except BaseException:
        _rollback(undo)
        raise
    return handle


def finish(cfg, rec, handle):
    """After the container's PID 1 exited: record code and time, release network and cgroup."""
    from . import cgroups, network
    cid = rec["Id"]
    with shell.step("teardown", "teardown: the netns (and eth0 with it) died with the container"):
        if shell.dry_run:
            shell.script("wait $launcher; status=$?")
            code = shell.Var("status")
        else:
            code = runtime.exit_code(handle.proc.wait())
        oom = cgroups.oom_killed(cfg, cid)
        cgroups.delete(cfg, cid)
        if rec["HostConfig"]["NetworkMode"] == "bridge":
            network.release(cfg, cid)
        if not shell.dry_run:
            rec["State"].update(Status="exited", Running=False, Pid=0, ExitCode=code, OOMKilled=oom,
                                FinishedAt=fmt.now_iso())
            save(cfg, rec)
    return code


def run_foreground(cfg, rec, interactive=False):
    """create+start+wait as `bocker run` without -d: output to the terminal and the log."""
    import subprocess
    pipe = None if shell.dry_run else subprocess.PIPE
    stdin = None if interactive else subprocess.DEVNULL
    handle = start(cfg, rec, stdin=stdin, stdout=pipe, stderr=pipe)
    if shell.dry_run:
        return finish(cfg, rec, handle)
    runtime.forward_signals(handle.pid)
    with shell.step("run"):
        runtime.copy_output(handle.proc, cdir(cfg, rec["Id"], "container.log"))
    return finish(cfg, rec, handle)


# --- remove -----------------------------------------------------------------------------

def kill(cfg, rec, sig=9, wait=True):
    """Signal the container's PID 1 (and wait for it to go)."""
    st = state(cfg, rec)
    if st["Status"] not in ("running", "paused"):
        return
    shell.run(["kill", f"-{sig}", str(st["Pid"])], check=False)
    while wait and not shell.dry_run and runtime.alive(st["Pid"], st.get("PidStartTime")):
        time.sleep(0.005)


def remove(cfg, ref, force=False):
    """rm: refuses a running container unless force (SIGKILL first); removes everything."""
    cid = resolve(cfg, ref)
    with store.lock(cdir(cfg, cid, ".lock")):
        remove_record(cfg, load(cfg, cid), force)
    return cid


def remove_record(cfg, rec, force=False, released=False):
    """Remove a container given its record; `released`: finish() already freed cgroup and address."""
    from . import cgroups, network
    cid = rec["Id"]
    if state(cfg, rec)["Status"] in ("running", "paused"):
        if not force:
            raise BockerError(f"cannot remove container {rec['Name'][1:]}: container is running: "
                              f"stop the container before removing or force remove")
        kill(cfg, rec)
    if not released:
        cgroups.delete(cfg, cid)
        network.release(cfg, cid)
    rootfs = cdir(cfg, cid, "rootfs")
    if shell.dry_run or os.path.exists(rootfs):
        store.delete_subvolume(rootfs)
    _unlink(cfg.path("names", rec["Name"][1:]))
    _rmtree(cdir(cfg, cid))


# --- listing, logs, commit -------------------------------------------------------------

def all_records(cfg):
    out = []
    base = cfg.path("containers")
    for cid in os.listdir(base):
        try:
            out.append(store.read_json(os.path.join(base, cid, "config.json")))
        except (FileNotFoundError, NotADirectoryError, ValueError):
            continue
    return out


def ps_rows(cfg, all_=False):
    """One dict per container with docker ps's fields, newest first."""
    rows = []
    for rec in all_records(cfg):
        st = state(cfg, rec)
        if not all_ and st["Status"] not in ("running", "paused"):
            continue
        rec["State"] = st
        command = " ".join([rec["Path"]] + rec["Args"])
        rows.append({"ID": rec["Id"], "Image": rec["Config"]["Image"], "Command": command,
                     "CreatedAt": rec["Created"], "RunningFor": fmt.ago(rec["Created"]),
                     "State": st["Status"], "Status": status_text(st),
                     "Ports": "", "Names": rec["Name"][1:], "Labels": rec["Config"].get("Labels") or {}})
    rows.sort(key=lambda r: r["CreatedAt"], reverse=True)
    return rows


def commit(cfg, ref, tag=None, message="", author="", changes=()):
    """Snapshot the container's rootfs into a new read-only image (O(1)) with its config."""
    cid = resolve(cfg, ref)
    rec = load(cfg, cid)
    parent = images.config(cfg, rec["Image"])
    runtime_cfg = dict(parent.get("config") or {})
    c = rec["Config"]
    runtime_cfg.update(Env=[e for e in c["Env"] if not e.startswith("HOSTNAME=")], Cmd=c["Cmd"],
                       Entrypoint=c["Entrypoint"], WorkingDir=c["WorkingDir"], User=c["User"],
                       Labels=c.get("Labels") or {})
    for change in changes:
        apply_change(runtime_cfg, change)
    new = images.new_config(runtime_cfg, parent, created_by=f"bocker commit {rec['Name'][1:]}",
                            comment=message)
    if author:
        new["author"] = author
    if tag:
        tag = images.normalize(tag)
        if not images.valid_ref(tag):
            raise BockerError(f"invalid reference format: '{tag}'")
    return images.register(cfg, cdir(cfg, cid, "rootfs"), new, tag=tag, parent=rec["Image"])


def apply_change(config, change):
    """A Dockerfile instruction from `commit -c`: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE."""
    import json
    import shlex
    word, _, rest = change.strip().partition(" ")
    word, rest = word.upper(), rest.strip()

    def argv():
        if rest.startswith("["):
            try:
                return json.loads(rest)
            except ValueError:
                raise BockerError(f"invalid JSON in change: {change}")
        return ["/bin/sh", "-c", rest]
    if word == "CMD":
        config["Cmd"] = argv()
    elif word == "ENTRYPOINT":
        config["Entrypoint"] = argv()
    elif word == "ENV":
        pairs = shlex.split(rest)
        if len(pairs) == 2 and "=" not in pairs[0]:
            pairs = [f"{pairs[0]}={pairs[1]}"]
        for pair in pairs:
            key = pair.partition("=")[0]
            config["Env"] = [e for e in config.get("Env") or [] if e.partition("=")[0] != key] + [pair]
    elif word == "WORKDIR":
        config["WorkingDir"] = rest
    elif word == "USER":
        config["User"] = rest
    elif word == "LABEL":
        for pair in shlex.split(rest):
            k, _, v = pair.partition("=")
            config.setdefault("Labels", {})[k] = v
    elif word == "EXPOSE":
        for port in rest.split():
            config.setdefault("ExposedPorts", {})[port if "/" in port else port + "/tcp"] = {}
    else:
        raise BockerError(f"{word} is not a valid change command")

#!/usr/bin/python3
"""The bench driver: runs the case families, prints a Markdown table, writes bench/results/<date>.json.

Started by bench/run.sh, which installs the tools, makes the private store/bridge/podman config
(environment: BENCH_TMP, BOCKER, BOCKER_ROOT, CONTAINERS_CONF, ...) and cleans everything up.

Knobs (environment): BENCH_RUNS (20, timed runs per fast command), BENCH_WARMUP (3),
BENCH_SLOW_RUNS (10, podman and other slow commands), BENCH_PS_SIZES ("0 100 1000"),
BENCH_DENSITY_N (100), BENCH_STEP_RUNS (20).

Every bocker feature a case needs is detected, not assumed: a missing one gives an
"n/a (not implemented yet)" cell, and the case starts measuring as soon as bocker has it.
"""
import concurrent.futures
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import time

ENV = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
TMP = ENV["BENCH_TMP"]
BOCKER = ENV["BOCKER"]
REPO = ENV["BENCH_REPO"]
PY = "/usr/bin/python3"
RUNS = int(ENV.get("BENCH_RUNS", 20))
WARMUP = int(ENV.get("BENCH_WARMUP", 3))
SLOW_RUNS = int(ENV.get("BENCH_SLOW_RUNS", 10))
PS_SIZES = [int(x) for x in ENV.get("BENCH_PS_SIZES", "0 100 1000").split()]
DENSITY_N = int(ENV.get("BENCH_DENSITY_N", 100))
STEP_RUNS = int(ENV.get("BENCH_STEP_RUNS", 20))
PODMAN_NET = ENV.get("BENCH_PODMAN_NET", "bkbenchnet")
NA = "n/a (not implemented yet)"
PEERS = ["podman", "buildah", "runc", "crun", "skopeo", "floor"]   # table column order
HEAVY = ("plumbum", "sh", "requests", "httpx", "urllib3", "tqdm", "rich", "jq", "yaml")

ROWS = []
IMG = {}          # names/paths of the images prepared for the cases


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- running things ---------------------------------------------------------------------------

def sh(argv, check=True, input=None, env=None, timeout=600):
    """Run argv (a list, or a string for sh -c); returns CompletedProcess with text output."""
    if isinstance(argv, str):
        argv = ["sh", "-c", argv]
    r = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout,
                       env=dict(ENV, **(env or {})))
    if check and r.returncode:
        raise RuntimeError(f"{shlex.join(argv)} -> exit {r.returncode}: {tail(r.stderr or r.stdout)}")
    return r


def ok(argv, **kw):
    try:
        return sh(argv, check=False, **kw).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def tail(text, n=200):
    text = " ".join((text or "").split())
    return text[-n:]


def bocker(*args, **kw):
    return sh([BOCKER, *args], **kw)


def podman(*args, **kw):
    return sh(["podman", *args], **kw)


def stats(samples, unit_scale=1.0):
    """Median, quartiles, min/max and n of a list of numbers (scaled, e.g. s -> ms)."""
    xs = sorted(x * unit_scale for x in samples)
    if not xs:
        return {"error": "no samples"}
    q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0], xs[0], xs[0]]
    return {"median": statistics.median(xs), "q1": q[0], "q3": q[2], "min": xs[0], "max": xs[-1],
            "mean": statistics.fmean(xs), "n": len(xs)}


def hyperfine(label, cmd, runs=None, warmup=None, prepare=None, wrap=None, env=None, precheck=True):
    """Time one command (a list) with hyperfine; returns stats in ms, or {"error": ...}.

    The command runs once first without hyperfine (unless precheck=False, for very slow ones),
    so that a failure shows its own message.
    wrap: argv prefix for hyperfine itself (e.g. a private mount namespace for crun)."""
    runs = runs or RUNS
    warmup = WARMUP if warmup is None else warmup
    try:
        if precheck:
            if prepare:
                sh(prepare, timeout=900)
            r = sh((wrap or []) + cmd, check=False, env=env, timeout=900)
            if r.returncode:
                return {"error": f"exit {r.returncode}: {tail(r.stderr or r.stdout)}"}
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    out = os.path.join(TMP, "hf-" + re.sub(r"[^A-Za-z0-9]+", "-", label)[:60] + ".json")
    hf = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs", str(runs),
          "--export-json", out, "-n", label]
    if prepare:
        hf += ["--prepare", shlex.join(prepare) if isinstance(prepare, list) else
               shlex.join(["sh", "-c", prepare])]
    hf.append(shlex.join(cmd))
    try:
        r = sh((wrap or []) + hf, check=False, env=env, timeout=1800)
    except subprocess.TimeoutExpired:
        return {"error": "hyperfine timeout"}
    if r.returncode:
        return {"error": f"hyperfine: {tail(r.stderr or r.stdout)}"}
    with open(out) as f:
        res = json.load(f)["results"][0]
    s = stats(res["times"], 1000.0)
    s["stddev"] = (res.get("stddev") or 0) * 1000
    s["times_ms"] = [round(t * 1000, 3) for t in res["times"]]
    log(f"  {label}: median {s['median']:.1f} ms (n {s['n']})")
    return s


def wall(argv, n, env=None):
    """Wall time of argv n times (sequential), in ms; with the stderr of each run."""
    times, errs = [], []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, text=True, env=dict(ENV, **(env or {})))
        times.append((time.perf_counter() - t) * 1000)
        errs.append(r.stderr)
        if r.returncode:
            raise RuntimeError(f"{shlex.join(argv)} -> exit {r.returncode}: {tail(r.stderr)}")
    return times, errs


def row(family, case, unit="ms", bocker=None, peers=None, note="", lower_is_better=True):
    r = {"family": family, "case": case, "unit": unit, "bocker": bocker or {"na": "-"},
         "peers": peers or {}, "note": note, "lower_is_better": lower_is_better}
    ROWS.append(r)
    return r


def na(reason=NA):
    return {"na": reason}


def err(e):
    return {"error": tail(str(e))}


# --- bocker feature detection -----------------------------------------------------------------

_features = {}


def has_verb(verb):
    """Whether `bocker VERB --help` works (the verb exists)."""
    if verb not in _features:
        _features[verb] = ok([BOCKER, verb, "--help"])
    return _features[verb]


def help_text(verb):
    r = sh([BOCKER, verb, "--help"], check=False)
    return r.stdout if r.returncode == 0 else ""


def can_detach():
    """Whether `bocker run -d` works (a short detached container, removed again)."""
    if "detach" not in _features:
        try:
            r = bocker("run", "-d", "--network", "none", "busybox", "sleep", "30", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            log("  bocker run -d did not return within 60 s")
            _features["detach"] = False
            return False
        cid = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ""
        _features["detach"] = bool(cid)
        if cid:
            bocker("rm", "-f", cid, check=False)
        elif r.returncode:
            log(f"  bocker run -d: {tail(r.stderr)}")
    return _features["detach"]


def bocker_rm_all():
    ids = bocker("ps", "-aq", "--no-trunc").stdout.split()
    for i in range(0, len(ids), 200):
        bocker("rm", "-f", *ids[i:i + 200], check=False, timeout=1800)


def podman_rm_all():
    podman("rm", "-a", "-f", "-t", "0", check=False, timeout=1800)


def parallel(fn, n, workers=2):
    """fn(i) for i in range(n) on `workers` threads; returns wall seconds; raises the first error."""
    t = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for f in [ex.submit(fn, i) for i in range(n)]:
            f.result()
    return time.perf_counter() - t


# --- preparation --------------------------------------------------------------------------------

def prepare():
    """busybox: bocker's image id and rootfs; the same tree imported into podman; an OCI bundle."""
    iid = json.loads(bocker("inspect", "--type", "image", "busybox:latest").stdout)[0]["Id"]
    iid = iid.split(":")[-1]
    rootfs = os.path.join(ENV["BOCKER_ROOT"], "images", iid)
    if not os.path.isdir(rootfs):
        raise RuntimeError(f"busybox rootfs not found at {rootfs}")
    IMG.update(bocker_id=iid, rootfs=rootfs)
    tar = os.path.join(TMP, "busybox.tar")
    sh(["tar", "-C", rootfs, "--numeric-owner", "-cf", tar, "."])
    podman("import", "-q", tar, "localhost/busybox:latest")
    IMG["podman"] = "localhost/busybox:latest"
    # podman's bridge network: our own name, interface and subnet, no DNS server process
    # (podman 4.3 has no --interface-name: write netavark's network file into our config dir)
    net = {"name": PODMAN_NET, "id": os.urandom(32).hex(), "driver": "bridge",
           "network_interface": ENV["BENCH_PODMAN_BRIDGE"], "created": datetime.datetime.now().astimezone().isoformat(),
           "subnets": [{"subnet": ENV["BENCH_PODMAN_SUBNET"],
                        "gateway": ENV["BENCH_PODMAN_SUBNET"].rsplit(".", 1)[0] + ".1"}],
           "ipv6_enabled": False, "internal": False, "dns_enabled": False,
           "ipam_options": {"driver": "host-local"}}
    with open(os.path.join(TMP, "podman", "networks", PODMAN_NET + ".json"), "w") as f:
        json.dump(net, f, indent=1)
    podman("network", "inspect", PODMAN_NET)
    # OCI bundle for runc and crun: same tree, `true`, no terminal
    bundle = os.path.join(TMP, "oci")
    os.makedirs(bundle)
    sh(["cp", "-a", rootfs, os.path.join(bundle, "rootfs")])
    sh(["runc", "spec", "-b", bundle])
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    spec["hostname"] = "bench"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f, indent=1)
    IMG["bundle"] = bundle


CRUN_NS = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"", "sh"]


# --- families -------------------------------------------------------------------------------------

def fam_run():
    """run --rm true: bridge and none, bocker vs podman vs runc/crun vs the floors."""
    pm = ["podman", "run", "--rm", "--pull", "never"]
    bridge = row("run", "run --rm true (bridge)")
    bridge["bocker"] = hyperfine("bocker run bridge", [BOCKER, "run", "--rm", "busybox", "true"])
    bridge["peers"]["podman"] = hyperfine("podman run bridge", pm + [IMG["podman"], "true"],
                                          runs=SLOW_RUNS, warmup=2)
    bridge["peers"]["floor"] = hyperfine("kernel path bridge (sh)",
                                         ["sh", os.path.join(HERE, "kernel-path.sh"), IMG["rootfs"]])
    bridge["note"] = "floor: bench/kernel-path.sh (snapshot, netns+veth, cgroup, unshare, Python init)"

    none = row("run", "run --rm true (--network none)")
    none["bocker"] = hyperfine("bocker run none", [BOCKER, "run", "--rm", "--network", "none",
                                                   "busybox", "true"])
    none["peers"]["podman"] = hyperfine("podman run none", pm + ["--network", "none", IMG["podman"],
                                                                 "true"], runs=SLOW_RUNS, warmup=2)
    none["peers"]["runc"] = hyperfine("runc run", ["runc", "--root", os.path.join(TMP, "runc"), "run",
                                                   "-b", IMG["bundle"], "bkbench-runc"])
    none["peers"]["crun"] = hyperfine("crun run", ["crun", "--root", os.path.join(TMP, "crun"), "run",
                                                   "-b", IMG["bundle"], "bkbench-crun"], wrap=CRUN_NS)
    none["peers"]["floor"] = hyperfine("unshare+chroot", ["unshare", "-fpmuin", "--mount-proc",
                                                          "chroot", IMG["rootfs"], "true"])
    none["note"] = "floor: unshare -fpmuin --mount-proc chroot ROOTFS true; runc/crun: OCI bundle, own netns"

    # what Docker's security defaults cost: the seccomp filter (cached BPF, one prctl), and
    # everything (seccomp, masked paths, devices cgroup, caps) against --privileged
    sec = row("run", "run --rm true (none): default seccomp profile vs unconfined, --privileged")
    base = [BOCKER, "run", "--rm", "--network", "none"]
    sec["bocker"] = hyperfine("bocker run none, default profile", base + ["busybox", "true"])
    sec["peers"]["unconfined"] = hyperfine("bocker run none, seccomp=unconfined",
                                           base + ["--security-opt", "seccomp=unconfined", "busybox", "true"])
    sec["peers"]["privileged"] = hyperfine("bocker run none, --privileged", base + ["--privileged", "busybox", "true"])
    sec["note"] = "peers are bocker too: the ratio below 1 is what the defaults cost"


def dns_query_ms(server, name, n=200):
    """Latencies (ms) of n A queries for `name` sent to `server`:53 from the host (a minimal DNS
    packet; the answer must carry an address: the name is a container's)."""
    import struct
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for i in range(n):
            packet = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
            t = time.perf_counter()
            s.sendto(packet, (server, 53))
            reply = s.recv(512)
            times.append((time.perf_counter() - t) * 1000)
            if struct.unpack(">H", reply[6:8])[0] < 1:
                raise RuntimeError(f"{server}: no answer for {name}")
    return times


def parallel_run_d(argv_of, n):
    """Wall seconds of n `run -d` started at once (all processes in flight together)."""
    t = time.perf_counter()
    procs = [subprocess.Popen(argv_of(i), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for i in range(n)]
    failed = [p.stderr.read() for p in procs if p.wait()]
    if failed:
        raise RuntimeError(f"{len(failed)} of {n} failed: {tail(failed[0])}")
    return time.perf_counter() - t


def fam_network():
    """User networks: run --rm on one (network setup and teardown per container), 50 parallel
    run -d on one /24, a name lookup's latency at the network's DNS server; podman on its default
    network (netavark bridge), and for the lookup on a network with its DNS (aardvark-dns)."""
    net, pnet = "bkbench-net", "bkbench-dns"
    subnet, psubnet = ENV.get("BENCH_NET_SUBNET", "10.228.240.0/24"), ENV.get("BENCH_PODMAN_DNS_SUBNET", "10.228.241.0/24")
    gw, pgw = subnet.rsplit(".", 1)[0] + ".1", psubnet.rsplit(".", 1)[0] + ".1"
    pm = ["podman", "run", "--pull", "never"]
    bocker("network", "create", "--subnet", subnet, net)
    try:
        r = row("network", "run --rm true on a user network")
        r["bocker"] = hyperfine("bocker run user network", [BOCKER, "run", "--rm", "--network", net, "busybox", "true"])
        r["peers"]["podman"] = hyperfine("podman run default network", pm + ["--rm", IMG["podman"], "true"],
                                         runs=SLOW_RUNS, warmup=2)
        r["note"] = "podman: its default network (netavark bridge, no DNS)"

        n = int(ENV.get("BENCH_NET_PARALLEL", 50))
        r = row("network", f"{n} parallel run -d sleep (one /24)", "s")
        try:
            tb = parallel_run_d(lambda i: [BOCKER, "run", "-d", "--network", net, "busybox", "sleep", "3600"], n)
            ips = {c["NetworkSettings"]["Networks"][net]["IPAddress"] for c in
                   json.loads(bocker("inspect", *bocker("ps", "-q").stdout.split()).stdout)}
            r["bocker"] = stats([tb])
            r["note"] = f"bocker: {len(ips)} distinct addresses"
        except Exception as e:
            r["bocker"] = err(e)
        try:
            r["peers"]["podman"] = stats([parallel_run_d(lambda i: pm + ["-d", IMG["podman"], "sleep", "3600"], n)])
        except Exception as e:
            r["peers"]["podman"] = err(e)

        r = row("network", "name lookup (A query from the host to the network's DNS server)", "ms")
        try:
            name = bocker("ps", "--format", ".Names").stdout.split()[0]
            r["bocker"] = stats(dns_query_ms(gw, name))
        except Exception as e:
            r["bocker"] = err(e)
        try:
            podman("network", "create", "--subnet", psubnet, pnet)
            podman(*pm[1:], "-d", "--name", "bkbench-named", "--network", pnet, IMG["podman"], "sleep", "3600")
            r["peers"]["podman"] = stats(dns_query_ms(pgw, "bkbench-named"))
        except Exception as e:
            r["peers"]["podman"] = err(e)
        r["note"] = "dnsmasq (one per network) vs aardvark-dns; 200 queries each"
    finally:
        bocker_rm_all()
        podman_rm_all()
        podman("network", "rm", "-f", pnet, check=False)
        bocker("network", "rm", net, check=False)


TIMING_RE = re.compile(r"bocker timings: (.*)")


def parse_timings(text):
    m = TIMING_RE.search(text or "")
    if not m:
        return None
    steps = {}
    for part in m.group(1).split(", "):
        name, _, val = part.rpartition(" ")
        name, _, num = name.rpartition(" ")
        if val == "ms":
            steps[name] = float(num)
    return steps


def import_times(argv):
    """-X importtime of a bocker command: (total ms of top-level imports, {module: cumulative ms})."""
    r = sh([PY, "-I", "-X", "importtime", BOCKER, *argv], check=False)
    total, mods = 0.0, {}
    for line in r.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        cum, indent, mod = int(m.group(2)) / 1000, len(m.group(3)), m.group(4)
        if indent == 1:
            total += cum
        mods.setdefault(mod, cum)
    return total, mods


def fam_steps():
    """Per-step breakdown of a bocker run (BOCKER_TIMINGS=1), start-up and import costs."""
    for mode in ("bridge", "none"):
        argv = [BOCKER, "run", "--rm", "--network", mode, "busybox", "true"]
        try:
            wall_ms, errs = wall(argv, STEP_RUNS, env={"BOCKER_TIMINGS": "1"})
        except RuntimeError as e:
            row("steps", f"run --rm true ({mode}): steps", bocker=err(e))
            continue
        parsed = [p for p in map(parse_timings, errs) if p]
        if not parsed:
            row("steps", f"run --rm true ({mode}): steps", bocker=na("no BOCKER_TIMINGS line on stderr"))
            continue
        names = list(parsed[0])
        w = statistics.median(wall_ms)
        for name in names:
            s = stats([p.get(name, 0.0) for p in parsed])
            row("steps", f"run ({mode}): {name}", bocker=s,
                note=f"{100 * s['median'] / w:.0f}% of wall")
        s = stats(wall_ms)
        row("steps", f"run ({mode}): wall, incl. interpreter", bocker=s,
            note=f"python start-up not in 'total': {s['median'] - statistics.median([p.get('total', 0) for p in parsed]):.1f} ms")
    v = row("steps", "bocker --version")
    v["bocker"] = hyperfine("bocker --version", [BOCKER, "--version"])
    v["peers"]["podman"] = hyperfine("podman --version", ["podman", "--version"])
    v["peers"]["floor"] = hyperfine("python3 -I -c pass", [PY, "-I", "-c", "pass"])
    v["note"] = "floor: the interpreter alone"
    # imports: the whole run, the runner, anything heavy on the start-up path
    runs = [import_times(["run", "--rm", "--network", "none", "busybox", "true"]) for _ in range(5)]
    row("steps", "imports during run (all, -X importtime)", bocker=stats([t for t, _ in runs]))
    runner = [m.get("bocker.shell") for _, m in runs if "bocker.shell" in m]
    if runner:
        row("steps", "import of the runner (bocker.shell)", bocker=stats(runner))
    heavy_run = sorted({h for _, m in runs for h in HEAVY if h in m})
    for h in heavy_run:
        row("steps", f"import {h} (during run)", bocker=stats([m.get(h, 0) for _, m in runs]))
    for cmd in (["--version"], ["ps", "-a"], ["images"], ["--help"]):
        _, mods = import_times(cmd)
        heavy = sorted(h for h in HEAVY if h in mods)
        row("steps", f"heavy imports: bocker {' '.join(cmd)}", unit="modules",
            bocker={"text": ", ".join(f"{h} {mods[h]:.0f} ms" for h in heavy) or "none"},
            note="must be none (issue 7)")


def fam_ps():
    """ps -a and images with 0, 100, 1000 containers; inspect of one among the most."""
    create_v = has_verb("create")
    log(f"  bocker containers made with `{'create' if create_v else 'run'} --network none busybox true`")

    def mk_bocker(i):
        args = ["create"] if create_v else ["run"]
        bocker(*args, "--network", "none", "busybox", "true")

    def mk_podman(i):
        podman("create", "--pull", "never", "--network", "none", IMG["podman"], "true")

    have = 0
    first_b = first_p = None
    try:
        for n in sorted(PS_SIZES):
            if n > have:
                log(f"  populating {n - have} containers each")
                tb = parallel(mk_bocker, n - have)
                tp = parallel(mk_podman, n - have)
                row("ps", f"make {n - have} containers (2 in parallel)", unit="s",
                    bocker=stats([tb]), peers={"podman": stats([tp])},
                    note="bocker: " + ("create" if create_v else "run (create+start)") +
                         "; podman: create")
                have = n
            rb = row("ps", f"ps -a, {n} containers")
            rb["bocker"] = hyperfine(f"bocker ps -a {n}", [BOCKER, "ps", "-a"])
            rb["peers"]["podman"] = hyperfine(f"podman ps -a {n}", ["podman", "ps", "-a"],
                                              runs=SLOW_RUNS, warmup=1)
            ri = row("ps", f"images, {n} containers")
            ri["bocker"] = hyperfine(f"bocker images {n}", [BOCKER, "images"])
            ri["peers"]["podman"] = hyperfine(f"podman images {n}", ["podman", "images"],
                                              runs=SLOW_RUNS, warmup=1)
        if have:
            first_b = bocker("ps", "-aq", "--no-trunc").stdout.split()[have // 2]
            first_p = podman("ps", "-aq", "--no-trunc").stdout.split()[have // 2]
            r = row("ps", f"inspect one of {have} containers")
            r["bocker"] = hyperfine(f"bocker inspect {have}", [BOCKER, "inspect", first_b[:12]])
            r["peers"]["podman"] = hyperfine(f"podman inspect {have}", ["podman", "inspect", first_p[:12]],
                                             runs=SLOW_RUNS, warmup=1)
    finally:
        log("  removing them")
        t = time.perf_counter()
        bocker_rm_all()
        tb = time.perf_counter() - t
        t = time.perf_counter()
        podman_rm_all()
        tp = time.perf_counter() - t
        if have:
            row("ps", f"rm all {have} containers", unit="s", bocker=stats([tb]),
                peers={"podman": stats([tp])}, note="bocker rm -f (200 ids per call); podman rm -af")


# density: what stays on the host per idle detached container

def meminfo(key="MemAvailable"):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024   # MiB
    return 0.0


def proc_scan(before, markers):
    """New processes that belong to the bench: (host-side RSS MiB, host-side PSS, in-container RSS,
    names of the host-side processes)."""
    host_ns = os.readlink("/proc/self/ns/pid")
    host = {"rss": 0.0, "pss": 0.0, "names": {}}
    inside = {"rss": 0.0, "pss": 0.0, "n": 0}
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) in before:
            continue
        try:
            with open(f"/proc/{p}/cgroup") as f:
                cg = f.read()
            with open(f"/proc/{p}/environ", "rb") as f:
                env = f.read().decode(errors="replace")
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
            if not any(m in cg or m in env for m in markers) and comm != "conmon":
                continue
            rss = pss = 0.0
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss = int(line.split()[1]) / 1024
                    elif line.startswith("Pss:"):
                        pss = int(line.split()[1]) / 1024
            ns = os.readlink(f"/proc/{p}/ns/pid")
        except OSError:
            continue
        if ns == host_ns:
            host["rss"] += rss
            host["pss"] += pss
            host["names"][comm] = host["names"].get(comm, 0) + 1
        else:
            inside["rss"] += rss
            inside["pss"] += pss
            inside["n"] += 1
    return host, inside


def pids():
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def density_of(tool, n, start_one, remove_all, markers):
    sh("sync")
    time.sleep(2)
    mem0, before = meminfo(), pids()
    t = time.perf_counter()
    try:
        for i in range(n):
            start_one(i)
        t_start = time.perf_counter() - t
        time.sleep(3)
        mem1 = meminfo()
        host, inside = proc_scan(before, markers)
    finally:
        t = time.perf_counter()
        remove_all()
        t_rm = time.perf_counter() - t
    return {"start": t_start, "rm": t_rm, "mem": (mem0 - mem1) / n, "host_rss": host["rss"] / n,
            "host_pss": host["pss"] / n, "host_names": host["names"], "inside_rss": inside["rss"] / n,
            "inside_n": inside["n"]}


def fam_density():
    n = DENSITY_N
    res = {}
    if can_detach():
        log(f"  bocker: {n} x run -d busybox sleep 3600")
        try:
            res["bocker"] = density_of(
                "bocker", n, lambda i: bocker("run", "-d", "busybox", "sleep", "3600", timeout=60), bocker_rm_all,
                [ENV["BOCKER_CGROUP_PARENT"] + "/", ENV["BOCKER_ROOT"]])
        except Exception as e:
            res["bocker"] = {"error": tail(str(e))}
    else:
        res["bocker"] = {"na": NA + ": run -d"}
    log(f"  podman: {n} x run -d sleep 3600")
    try:
        res["podman"] = density_of(
            "podman", n, lambda i: podman("run", "-d", "--pull", "never", IMG["podman"], "sleep", "3600",
                                 timeout=60),
            podman_rm_all, ["libpod", TMP])
    except Exception as e:
        res["podman"] = {"error": tail(str(e))}

    def cell(who, key):
        r = res[who]
        if "na" in r or "error" in r:
            return r
        return stats([r[key]])

    base = f"density {n}"
    row("density", f"{base}: start all (run -d, sequential)", "s", cell("bocker", "start"),
        {"podman": cell("podman", "start")})
    row("density", f"{base}: host memory per container (MemAvailable drop / N)", "MiB",
        cell("bocker", "mem"), {"podman": cell("podman", "mem")}, note="noisy: host-wide")
    hb, hp = res["bocker"].get("host_names", {}), res["podman"].get("host_names", {})
    row("density", f"{base}: RSS left on the host per container (outside the containers)", "MiB",
        cell("bocker", "host_rss"), {"podman": cell("podman", "host_rss")},
        note="processes: " + "; ".join(f"{w} " + ", ".join(f"{k}×{v}" for k, v in d.items())
                                       for w, d in (("bocker", hb), ("podman", hp)) if d))
    row("density", f"{base}: PSS left on the host per container", "MiB",
        cell("bocker", "host_pss"), {"podman": cell("podman", "host_pss")})
    row("density", f"{base}: RSS inside the containers per container", "MiB",
        cell("bocker", "inside_rss"), {"podman": cell("podman", "inside_rss")})
    row("density", f"{base}: remove all", "s", cell("bocker", "rm"), {"podman": cell("podman", "rm")})


def fam_commit():
    """commit and run on a 10 MiB vs a 1 GiB image: btrfs snapshots must not grow with the size."""
    sizes = (("10 MiB", 10), ("1 GiB", 1024))
    made_b, made_p = [], []
    try:
        for label, mib in sizes:
            fill = ["dd", "if=/dev/urandom", "of=/data", "bs=1M", f"count={mib}"]
            cb, cp = f"bkc{mib}", f"bkc{mib}"
            log(f"  containers with {label} of new data")
            bocker("run", "--name", cb, "--network", "none", "busybox", *fill, timeout=900)
            podman("run", "--name", cp, "--pull", "never", "--network", "none", IMG["podman"], *fill,
                   timeout=900)
            made_b.append(cb)
            made_p.append(cp)
            r = row("commit", f"commit, container with {label} of data")
            big = mib > 100     # podman tars the whole diff: ~15 s a commit of 1 GiB here
            # (the layer of 1 GiB of new data is read and hashed once, as podman's tar is)
            r["bocker"] = hyperfine(f"bocker commit {label}", [BOCKER, "commit", cb, f"bench-{mib}m"],
                                    runs=3 if big else SLOW_RUNS, warmup=0 if big else 1,
                                    prepare=f"{shlex.quote(BOCKER)} rmi -f bench-{mib}m >/dev/null 2>&1; "
                                            # wait for btrfs to drop the previous one
                                            f"btrfs subvolume sync {shlex.quote(ENV['BOCKER_ROOT'])}; true")
            r["peers"]["podman"] = hyperfine(f"podman commit {label}", ["podman", "commit", "-q", cp,
                                                                        f"localhost/bench-{mib}m"],
                                             runs=2 if big else SLOW_RUNS, warmup=0 if big else 1,
                                             precheck=not big,
                                             prepare=f"podman rmi -f localhost/bench-{mib}m >/dev/null 2>&1; true")
            # the last timed commit left the image (the prepare step removes it before each run)
            if not ok([BOCKER, "inspect", "--type", "image", f"bench-{mib}m"]):
                ok([BOCKER, "commit", cb, f"bench-{mib}m"])
            if not ok(["podman", "image", "exists", f"localhost/bench-{mib}m"]):
                ok(["podman", "commit", "-q", cp, f"localhost/bench-{mib}m"])
        # a small change on each image, committed: the layer is computed when made (btrfs send names
        # the changed paths), so it must not grow with the image under it
        sh("sync")
        fam_commit_small(sizes, made_b)
        # run on both images, once the commits' writes are on disk (podman's 1 GiB tar is)
        sh("sync")
        time.sleep(3)
        steps = {}
        for label, mib in sizes:
            r = row("commit", f"run --rm --network none true, {label} image")
            r["bocker"] = hyperfine(f"bocker run {label}", [BOCKER, "run", "--rm", "--network", "none",
                                                           f"bench-{mib}m", "true"])
            r["peers"]["podman"] = hyperfine(f"podman run {label}", [
                "podman", "run", "--rm", "--pull", "never", "--network", "none",
                f"localhost/bench-{mib}m", "true"], runs=SLOW_RUNS, warmup=1)
            try:
                _, errs = wall([BOCKER, "run", "--rm", "--network", "none", f"bench-{mib}m", "true"], 7,
                               env={"BOCKER_TIMINGS": "1"})
                parsed = [p for p in map(parse_timings, errs) if p]
                steps[mib] = {k: statistics.median([p.get(k, 0) for p in parsed]) for k in parsed[0]}
            except (RuntimeError, IndexError):
                pass
        # growth 10 MiB -> 1 GiB
        for what in ("commit, container with", "run --rm --network none true,"):
            small = next(r for r in ROWS if r["case"].startswith(what) and "10 MiB" in r["case"])
            big = next(r for r in ROWS if r["case"].startswith(what) and "1 GiB" in r["case"])
            parts = []
            for who, a, b in [("bocker", small["bocker"], big["bocker"])] + [
                    (p, small["peers"].get(p, {}), big["peers"].get(p, {})) for p in big["peers"]]:
                if "median" in a and "median" in b:
                    parts.append(f"{who} {b['median'] / a['median']:.2f}×")
            big["note"] = "1 GiB / 10 MiB: " + ", ".join(parts) + (
                " (target: bocker ≤ 1.10×)" if what.startswith("run") else " (1 GiB of new data: its layer is read once)")
        if 10 in steps and 1024 in steps:
            grew = [f"{k} {steps[10][k]:.1f}→{steps[1024][k]:.1f} ms" for k in steps[1024]
                    if k != "total" and k in steps[10] and steps[1024][k] - steps[10][k] > 2]
            big["note"] += "; BOCKER_TIMINGS steps 10 MiB→1 GiB: " + (", ".join(grew) or "no step grows > 2 ms")
    finally:
        for c in made_b:
            bocker("rm", "-f", c, check=False)
        for mib in (10, 1024):
            bocker("rmi", "-f", f"bench-s{mib}m", f"bench-{mib}m", check=False)
        for c in made_p:
            podman("rm", "-f", c, check=False)
        podman("image", "prune", "-f", check=False)
        for mib in (10, 1024):
            podman("rmi", "-f", f"localhost/bench-{mib}m", check=False)


def fam_commit_small(sizes, made):
    """A small change on each image, committed: the layer is computed when made (btrfs send names
    the changed paths), so it must not grow with the image under it. The two sizes alternate run
    by run (a shared machine's load drifts), with BOCKER_TIMINGS for the layer step."""
    for _, mib in sizes:
        c = f"bkcs{mib}"
        bocker("run", "--name", c, "--network", "none", f"bench-{mib}m", "sh", "-c", "echo small > /small",
               timeout=300)
        made.append(c)
    times, layer = {m: [] for _, m in sizes}, {m: [] for _, m in sizes}
    try:
        for _ in range(max(SLOW_RUNS, 5) * 2):
            for _, mib in sizes:
                bocker("rmi", "-f", f"bench-s{mib}m", check=False)
                sh(["btrfs", "subvolume", "sync", ENV["BOCKER_ROOT"]])
                t, errs = wall([BOCKER, "commit", f"bkcs{mib}", f"bench-s{mib}m"], 1, env={"BOCKER_TIMINGS": "1"})
                times[mib] += t
                layer[mib].append((parse_timings(errs[0]) or {}).get("layer", 0))
    except RuntimeError as e:
        for label, mib in sizes:
            row("commit", f"commit of a small change on a {label} image", bocker=err(e))
        return
    for label, mib in sizes:
        r = row("commit", f"commit of a small change on a {label} image", bocker=stats(times[mib]))
        r["note"] = f"its layer step (btrfs send + tar): {statistics.median(layer[mib]):.1f} ms"
    small, big = (statistics.median(times[m]) for _, m in sizes)
    r["note"] += f"; 1 GiB / 10 MiB: bocker {big / small:.2f}× (target ≤ 1.10×; runs alternate)"
    for _, mib in sizes:
        bocker("rmi", "-f", f"bench-s{mib}m", check=False)


def fam_exec():
    """exec true into a running container."""
    r = row("exec", "exec true into a running container")
    cp = podman("run", "-d", "--pull", "never", "--network", "none", IMG["podman"], "sleep", "3600").stdout.strip()
    cb = None
    try:
        if has_verb("exec") and can_detach():
            cb = bocker("run", "-d", "--network", "none", "busybox", "sleep", "3600").stdout.strip().split()[-1]
            r["bocker"] = hyperfine("bocker exec", [BOCKER, "exec", cb, "true"])
        else:
            r["bocker"] = na(NA + (": exec" if not has_verb("exec") else ": run -d"))
        r["peers"]["podman"] = hyperfine("podman exec", ["podman", "exec", cp, "true"], runs=SLOW_RUNS, warmup=2)
    finally:
        podman("rm", "-f", "-t", "0", cp, check=False)
        if cb:
            bocker("rm", "-f", cb, check=False)


# registry: a local docker-registry on 127.0.0.1

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_registry():
    port = free_port()
    data = os.path.join(TMP, "registry-data")
    conf = os.path.join(TMP, "registry.yml")
    with open(conf, "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {data}\n"
                f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n")
    logf = open(os.path.join(TMP, "registry.log"), "w")
    p = subprocess.Popen(["docker-registry", "serve", conf], stdout=logf, stderr=logf,
                         start_new_session=True)
    with open(os.path.join(TMP, "registry.pid"), "w") as f:
        f.write(str(p.pid))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, f"127.0.0.1:{port}", data
        except OSError:
            time.sleep(0.1)
    p.kill()
    raise RuntimeError("docker-registry did not start")


def fam_registry():
    """push and pull of a ~100 MiB image against a local registry: bocker vs podman vs skopeo."""
    has_b = has_verb("push") and has_verb("pull")
    reg, addr, data = start_registry()
    wipe = f"rm -rf {shlex.quote(data)}"
    mib = 100
    tag = "bench-100m"
    b_ready = False
    try:
        fill = ["dd", "if=/dev/urandom", "of=/data", "bs=1M", f"count={mib}"]
        podman("run", "--name", "bkreg", "--pull", "never", "--network", "none", IMG["podman"], *fill)
        podman("commit", "-q", "bkreg", f"localhost/{tag}")
        if has_b:
            bocker("run", "--name", "bkreg", "--network", "none", "busybox", *fill)
            bocker("commit", "bkreg", tag)
            b_ready = True
        benv = {"BOCKER_INSECURE_REGISTRIES": addr}
        # push: the registry is emptied before each run (no blob is already there)
        r = row("registry", f"push ~{mib} MiB image (empty registry)")
        r["bocker"] = (hyperfine("bocker push", [BOCKER, "push", f"{addr}/bk/{tag}"], runs=5, warmup=1,
                                 prepare=wipe + f"; {shlex.quote(BOCKER)} tag {tag} {addr}/bk/{tag}",
                                 env=benv) if b_ready else na(NA + ": push/pull"))
        r["peers"]["podman"] = hyperfine("podman push", ["podman", "push", "-q", "--tls-verify=false",
                                                         f"localhost/{tag}", f"{addr}/pd/{tag}"],
                                         runs=5, warmup=1, prepare=wipe)
        r["peers"]["skopeo"] = hyperfine("skopeo copy push", [
            "skopeo", "copy", "-q", "--dest-tls-verify=false", f"containers-storage:localhost/{tag}",
            f"docker://{addr}/sk/{tag}"], runs=5, warmup=1, prepare=wipe)
        # pull: the image pushed by skopeo; no local copy (same config = same image id) is left
        sh(wipe)
        sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"containers-storage:localhost/{tag}",
            f"docker://{addr}/sk/{tag}"])
        podman("rm", "-f", "bkreg", check=False)
        podman("rmi", "-f", f"localhost/{tag}")
        if b_ready:
            bocker("rm", "-f", "bkreg", check=False)
            bocker("rmi", "-f", tag, f"{addr}/bk/{tag}", check=False)
        r = row("registry", f"pull ~{mib} MiB image")
        r["bocker"] = (hyperfine("bocker pull", [BOCKER, "pull", f"{addr}/sk/{tag}"], runs=5, warmup=1,
                                 prepare=f"{shlex.quote(BOCKER)} rmi -f {addr}/sk/{tag} >/dev/null 2>&1; true",
                                 env=benv) if has_b else na(NA + ": push/pull"))
        r["peers"]["podman"] = hyperfine("podman pull", ["podman", "pull", "-q", "--tls-verify=false",
                                                         f"{addr}/sk/{tag}"], runs=5, warmup=1,
                                         prepare=f"podman rmi -f {addr}/sk/{tag} >/dev/null 2>&1; true")
        dest = os.path.join(TMP, "skopeo-pull")
        r["peers"]["skopeo"] = hyperfine("skopeo copy pull", [
            "skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{addr}/sk/{tag}", f"dir:{dest}"],
            runs=5, warmup=1, prepare=f"rm -rf {shlex.quote(dest)}")
        r["note"] = "skopeo: to a dir: (no unpacking); podman/bocker: into local storage"
    finally:
        reg.terminate()
        reg.wait()
        os.unlink(os.path.join(TMP, "registry.pid"))
        podman("rm", "-f", "bkreg", check=False)
        podman("rmi", "-f", f"localhost/{tag}", f"{addr}/sk/{tag}", check=False)
        if has_b:
            bocker("rm", "-f", "bkreg", check=False)
            bocker("rmi", "-f", tag, f"{addr}/sk/{tag}", f"{addr}/bk/{tag}", check=False)


DOCKERFILE = """FROM {base}
ENV BENCH=1
WORKDIR /app
COPY hello.txt /app/
RUN echo one > /app/1
RUN echo two > /app/2 && cat /app/1 /app/2 > /app/3
ENV STEP=6
RUN mkdir -p /app/data && echo "$STEP" > /app/data/step
LABEL bench=yes
RUN ls -l /app > /app/listing
CMD ["cat", "/app/listing"]
"""


def fam_build():
    """Cold, fully cached, and after one COPY source changed: builds of a 10-step Dockerfile by bocker,
    `podman build` and `buildah bud --layers` (the same storage as podman)."""
    ctx = os.path.join(TMP, "build")
    os.makedirs(ctx, exist_ok=True)
    hello = os.path.join(ctx, "hello.txt")
    with open(hello, "w") as f:
        f.write("hello\n")
    for name, base in (("Dockerfile.bocker", "busybox"), ("Dockerfile.podman", IMG["podman"])):
        with open(os.path.join(ctx, name), "w") as f:
            f.write(DOCKERFILE.format(base=base))
    btext = help_text("build")
    pfile = os.path.join(ctx, "Dockerfile.podman")
    cmds = {"bocker": [BOCKER, "build", "-q", "-t", "bench-build", "-f", os.path.join(ctx, "Dockerfile.bocker")],
            "podman": ["podman", "build", "-q", "--pull=never", "--network", "none", "-t", "localhost/bench-build",
                       "-f", pfile],
            "buildah": ["buildah", "bud", "-q", "--layers", "--pull=never", "--network", "none",
                        "-t", "localhost/bench-buildah", "-f", pfile]}
    if not btext:
        cmds.pop("bocker")
    if not shutil.which("buildah"):
        cmds.pop("buildah")
    touch = f"date +%s%N > {shlex.quote(hello)}"       # a new content: COPY and what follows run again
    cases = (("build, 10 steps, cold (--no-cache)", True, None, 5),
             ("build, 10 steps, fully cached", False, None, SLOW_RUNS),
             ("build, 10 steps, one COPY source changed", False, touch, 5))
    try:
        for case, cold, prepare, runs in cases:
            r = row("build", case)
            for who, cmd in cmds.items():
                argv = cmd[:2] + (["--no-cache"] if cold else []) + cmd[2:] + [ctx]
                res = hyperfine(f"{who} {case}", argv, runs=runs, warmup=1, prepare=prepare)
                if who == "bocker":
                    r["bocker"] = res
                else:
                    r["peers"][who] = res
            if "buildah" not in cmds:
                r["peers"]["buildah"] = na("buildah not installed")
        cached = ROWS[-2]
        if "median" in cached["bocker"] and "median" in cached["peers"].get("podman", {}):
            cached["note"] = (f"podman ÷ bocker {cached['peers']['podman']['median'] / cached['bocker']['median']:.1f}× "
                              f"(goal ≥ 3×)")
    finally:
        if btext:
            bocker("rmi", "-f", "bench-build", check=False)
        podman("rmi", "-f", "localhost/bench-build", "localhost/bench-buildah", check=False)
        podman("image", "prune", "-f", check=False)


SERVICE_FLAGS = ["--restart", "always", "--health-cmd", "true", "--health-interval", "10m"]


def fam_services():
    """N idle services: detached `sleep 3600` with --restart always and a health check (its
    interval 10 min: none runs while memory is read, what is measured is what waits)."""
    n = int(ENV.get("BENCH_SERVICES_N", 50))
    res = {}
    if "--health-cmd" in help_text("run") and "--restart" in help_text("run"):
        log(f"  bocker: {n} x run -d {' '.join(SERVICE_FLAGS)} busybox sleep 3600")
        try:
            res["bocker"] = density_of(
                "bocker", n, lambda i: bocker("run", "-d", *SERVICE_FLAGS, "busybox", "sleep", "3600", timeout=60),
                bocker_rm_all, [ENV["BOCKER_CGROUP_PARENT"] + "/", ENV["BOCKER_ROOT"]])
        except Exception as e:
            res["bocker"] = err(e)
    else:
        res["bocker"] = na(NA + ": --restart, --health-cmd")
    log(f"  podman: {n} x run -d {' '.join(SERVICE_FLAGS)} sleep 3600")
    try:
        res["podman"] = density_of(
            "podman", n, lambda i: podman("run", "-d", "--pull", "never", *SERVICE_FLAGS, IMG["podman"], "sleep",
                                          "3600", timeout=60),
            podman_rm_all, ["libpod", TMP])
    except Exception as e:
        res["podman"] = err(e)

    def cell(who, key):
        r = res[who]
        return r if "na" in r or "error" in r else stats([r[key]])
    base = f"services {n} (idle, --restart always, a health check)"
    row("services", f"{base}: host memory per container (MemAvailable drop / N)", "MiB",
        cell("bocker", "mem"), {"podman": cell("podman", "mem")}, note="noisy: host-wide")
    row("services", f"{base}: RSS left on the host per container (outside the containers)", "MiB",
        cell("bocker", "host_rss"), {"podman": cell("podman", "host_rss")},
        note="processes: " + "; ".join(f"{w} " + ", ".join(f"{k}×{v}" for k, v in d.items())
                                       for w, d in (("bocker", res["bocker"].get("host_names", {})),
                                                    ("podman", res["podman"].get("host_names", {}))) if d))
    row("services", f"{base}: PSS left on the host per container", "MiB",
        cell("bocker", "host_pss"), {"podman": cell("podman", "host_pss")})


FAMILIES = {"run": fam_run, "steps": fam_steps, "ps": fam_ps, "density": fam_density,
            "commit": fam_commit, "exec": fam_exec, "registry": fam_registry, "build": fam_build,
            "services": fam_services, "network": fam_network}


# --- output -------------------------------------------------------------------------------------------

def fmt_cell(s, unit):
    if not s:
        return ""
    if "na" in s:
        return s["na"] if s["na"] != "-" else ""
    if "error" in s:
        return "error: " + s["error"][:80]
    if "text" in s:
        return s["text"]
    return num(s["median"])


def ratios(r):
    b = r["bocker"]
    if "median" not in b or not b["median"]:
        return ""
    out = []
    for p in PEERS:
        s = r["peers"].get(p)
        if s and "median" in s:
            out.append(f"{p} {s['median'] / b['median']:.2f}×")
    return ", ".join(out)


def spread(s):
    if not s or "median" not in s or s["n"] < 2:
        return ""
    return f"{num(s['q1'])}–{num(s['q3'])}"


def num(v):
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"


def table():
    peers = [p for p in PEERS if any(p in r["peers"] for r in ROWS)]
    head = ["case", "unit", "bocker"] + peers + ["peer ÷ bocker", "n", "bocker IQR", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for r in ROWS:
        b = r["bocker"]
        cells = [r["case"], r["unit"], fmt_cell(b, r["unit"])]
        cells += [fmt_cell(r["peers"].get(p), r["unit"]) for p in peers]
        cells += [ratios(r), str(b.get("n", "")), spread(b), r["note"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def versions():
    def v(argv):
        try:
            return sh(argv, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    rev = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
    dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--", "lib", "bocker.py"], check=False).stdout.strip()
    return {"bocker": v([BOCKER, "--version"]) + f" (git {rev}{', modified' if dirty else ''})",
            "podman": v(["podman", "--version"]), "runc": v(["runc", "--version"]),
            "crun": v(["crun", "--version"]), "hyperfine": v(["hyperfine", "--version"]),
            "skopeo": v(["skopeo", "--version"]), "kernel": platform.release(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def main(families):
    started = datetime.datetime.now()
    info = versions()
    log("preparing images (bocker busybox -> podman import, OCI bundle)")
    prepare()
    for fam in families:
        log(f"family {fam}")
        t = time.perf_counter()
        try:
            FAMILIES[fam]()
        except Exception as e:   # one broken family does not lose the others
            log(f"family {fam} failed: {e}")
            row(fam, f"{fam}: family failed", bocker=err(e))
        log(f"family {fam} took {time.perf_counter() - t:.0f} s")
    elapsed = (datetime.datetime.now() - started).total_seconds()
    result = {"date": started.isoformat(timespec="seconds"), "families": families, "host": info,
              "seconds": round(elapsed), "settings": {"runs": RUNS, "warmup": WARMUP, "slow_runs": SLOW_RUNS,
                                                     "ps_sizes": PS_SIZES, "density_n": DENSITY_N},
              "rows": ROWS}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", started.strftime("%Y-%m-%dT%H%M%S") + ".json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"## bocker bench, {started:%Y-%m-%d %H:%M}, {info['cpus']} CPUs, kernel {info['kernel']}\n")
    print(" · ".join(f"{k}: {info[k]}" for k in ("bocker", "podman", "runc", "crun")) + "\n")
    print("Times are medians in ms unless the unit says otherwise; peer ÷ bocker > 1 means bocker is "
          "faster (or smaller).\n")
    print(table())
    print(f"\n{len(ROWS)} rows in {elapsed:.0f} s; JSON: {os.path.relpath(path, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(FAMILIES)))

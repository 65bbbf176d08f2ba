"""Health checks: the --health-* flags and the image's HEALTHCHECK as Config.Healthcheck, and
Docker's health state machine (moby daemon/health.go) as pure functions.

A container with a check starts `starting`; a probe that exits 0 makes it `healthy` (and resets
FailingStreak); any other exit (or a timeout) adds one to FailingStreak, except while it is still
`starting` within its start period, and `retries` failures in a row make it `unhealthy`. The last
5 results are kept in State.Health.Log. Durations are nanoseconds, as Docker keeps them.
"""
import re

from . import BockerError

SECOND = 10 ** 9
DEFAULTS = {"Interval": 30 * SECOND, "Timeout": 30 * SECOND, "StartPeriod": 0, "Retries": 3}
LOG_SIZE = 5
OUTPUT_MAX = 4096  # bytes of a probe's output kept, as Docker's
_UNITS = {"ns": 1, "us": 10 ** 3, "µs": 10 ** 3, "ms": 10 ** 6, "s": SECOND, "m": 60 * SECOND, "h": 3600 * SECOND}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text, flag):
    """A Go duration (1s, 500ms, 1m30s; 0) -> nanoseconds; negative ones are refused."""
    t = str(text).strip()
    if t.startswith("-"):
        raise BockerError(f"{flag} cannot be negative")
    if t in ("0", "+0"):
        return 0
    t = t.lstrip("+")
    parts = _PART.findall(t)
    if not t or "".join(n + u for n, u in parts) != t:
        raise BockerError(f"invalid duration for {flag}: {text!r} (e.g. 30s, 500ms, 1m30s)")
    return int(sum(float(n) * _UNITS[u] for n, u in parts))


def from_flags(cmd=None, interval=None, timeout=None, start_period=None, retries=None, disabled=False):
    """Config.Healthcheck from run/create's flags (None if none is given): only the fields given;
    the image's fill in the others (merge)."""
    given = any(v is not None for v in (cmd, interval, timeout, start_period, retries))
    if disabled:
        if given:
            raise BockerError("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not given:
        return None
    if retries is not None and retries < 0:
        raise BockerError("--health-retries cannot be negative")
    out = {"Test": ["CMD-SHELL", cmd] if cmd else None,
           "Interval": parse_duration(interval, "--health-interval") if interval is not None else 0,
           "Timeout": parse_duration(timeout, "--health-timeout") if timeout is not None else 0,
           "StartPeriod": parse_duration(start_period, "--health-start-period") if start_period is not None else 0,
           "Retries": retries or 0}
    for key, flag in (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start-period")):
        if 0 < out[key] < 10 ** 6:
            raise BockerError(f"--health-{flag} cannot be less than 1ms")
    return out


def merge(given, image):
    """The container's Healthcheck: the flags' fields, the image's HEALTHCHECK where they are unset."""
    if not given:
        return dict(image) if image else None
    out = dict(given)
    for key, value in (image or {}).items():
        if not out.get(key):
            out[key] = value
    return out


def settings(check):
    """(probe argv, interval, timeout, start period, retries) of a Healthcheck, or None if it has
    no probe (none, or HEALTHCHECK NONE / --no-healthcheck)."""
    test = list((check or {}).get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        argv = ["/bin/sh", "-c", " ".join(test[1:])]
    elif test[0] == "CMD":
        argv = test[1:]
    else:  # a bare command list (older configs)
        argv = test
    if not argv:
        return None
    values = {k: check.get(k) or v for k, v in DEFAULTS.items()}
    return argv, values["Interval"], values["Timeout"], values["StartPeriod"], values["Retries"]


def initial():
    return {"Status": "starting", "FailingStreak": 0, "Log": []}


def result(start, end, code, output):
    """One Log entry (times RFC 3339); the output cut to Docker's 4096 bytes."""
    data = output if isinstance(output, bytes) else str(output).encode()
    return {"Start": start, "End": end, "ExitCode": code, "Output": data[:OUTPUT_MAX].decode(errors="replace")}


def record(health, entry, retries, start_period, since_start):
    """The container's Health after one probe result; `since_start`: seconds from the container's
    start to the probe's start (within the start period a failure does not count)."""
    h = dict(health or initial())
    h["Log"] = (list(h.get("Log") or []) + [entry])[-LOG_SIZE:]
    if entry["ExitCode"] == 0:
        h.update(Status="healthy", FailingStreak=0)
        return h
    if h.get("Status") == "starting" and since_start * SECOND < start_period:
        return h
    h["FailingStreak"] = (h.get("FailingStreak") or 0) + 1
    if h["FailingStreak"] >= (retries or DEFAULTS["Retries"]):
        h["Status"] = "unhealthy"
    return h


def status_suffix(health):
    """What ps adds to `Up ...`: ' (healthy)', ' (unhealthy)', ' (health: starting)', or ''."""
    status = (health or {}).get("Status")
    if not status:
        return ""
    return " (health: starting)" if status == "starting" else f" ({status})"

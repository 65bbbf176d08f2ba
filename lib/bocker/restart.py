"""Restart policies (--restart): parsing, and Docker's restart manager as two pure functions.

Docker's rules (moby restartmanager): the first restart waits 100 ms, each next one twice as
long, at most a minute; a run that lasted 10 s or more starts the schedule again. `always`
and `unless-stopped` restart whatever the exit code, `on-failure[:N]` on a non-zero code, at
most N times (RestartCount, reset by a manual start); a container stopped by hand (stop, kill)
is not restarted. Here there is no daemon: the schedule's state is in the container's record.
"""
from . import BockerError

POLICIES = ("no", "always", "unless-stopped", "on-failure")
FIRST_DELAY = 0.1       # seconds
MAX_DELAY = 60.0
RESET_AFTER = 10.0      # seconds up: the schedule starts again


def parse(text):
    """'on-failure:3' -> {"Name": "on-failure", "MaximumRetryCount": 3} (HostConfig.RestartPolicy)."""
    name, colon, count = (text or "no").partition(":")
    if name not in POLICIES:
        raise BockerError(f"invalid restart policy '{text}': no, always, unless-stopped or on-failure[:N]")
    if colon and name != "on-failure":
        raise BockerError(f"maximum retry count cannot be used with restart policy '{name}'")
    if colon and not count.isdigit():
        raise BockerError(f"invalid restart policy '{text}': maximum retry count must be an integer")
    return {"Name": name, "MaximumRetryCount": int(count) if colon else 0}


def enabled(policy):
    return bool(policy) and policy.get("Name") not in ("", "no", None)


def wanted(policy, exit_code, manually_stopped, restart_count):
    """Does the container restart after this exit?"""
    name = (policy or {}).get("Name") or "no"
    if manually_stopped or name == "no":
        return False
    if name == "on-failure":
        limit = policy.get("MaximumRetryCount") or 0
        return exit_code != 0 and (limit == 0 or restart_count < limit)
    return True  # always, unless-stopped


def next_delay(previous, ran_for):
    """The wait before the next restart, given the previous wait (0: none yet) and how long the
    run that just ended lasted (seconds)."""
    if ran_for >= RESET_AFTER or not previous:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


"""restart: --restart parsing and Docker's restart manager (backoff schedule, which exits restart)."""
import pytest

from bocker import BockerError, restart


def test_parse_policies():
    assert restart.parse("no") == {"Name": "no", "MaximumRetryCount": 0}
    assert restart.parse("always") == {"Name": "always", "MaximumRetryCount": 0}
    assert restart.parse("unless-stopped")["Name"] == "unless-stopped"
    assert restart.parse("on-failure") == {"Name": "on-failure", "MaximumRetryCount": 0}
    assert restart.parse("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}


@pytest.mark.parametrize("bad", ["foo", "always:3", "on-failure:x", "on-failure:-1", "On-failure", ""])
def test_bad_policies_are_refused(bad):
    if bad == "":  # (an empty --restart is Docker's "no")
        assert restart.parse(bad)["Name"] == "no"
        return
    with pytest.raises(BockerError):
        restart.parse(bad)


def test_backoff_doubles_from_100_ms_to_a_minute():
    delays, d = [], 0
    for _ in range(12):
        d = restart.next_delay(d, ran_for=0.5)
        delays.append(d)
    assert delays[:5] == [0.1, 0.2, 0.4, 0.8, 1.6]
    assert delays[-1] == 60.0 and max(delays) == 60.0


def test_backoff_starts_again_after_10_seconds_up():
    assert restart.next_delay(6.4, ran_for=10.0) == 0.1
    assert restart.next_delay(6.4, ran_for=9.9) == 12.8


def test_which_exits_restart():
    always, us = restart.parse("always"), restart.parse("unless-stopped")
    assert restart.wanted(always, 0, False, 5) and restart.wanted(always, 1, False, 0)
    assert restart.wanted(us, 0, False, 0)
    assert not restart.wanted(always, 1, True, 0)  # stopped by hand
    assert not restart.wanted(us, 137, True, 0)
    assert not restart.wanted(restart.parse("no"), 1, False, 0)
    assert not restart.wanted(None, 1, False, 0)


def test_on_failure_counts_its_retries():
    of2 = restart.parse("on-failure:2")
    assert not restart.wanted(of2, 0, False, 0)  # a success is not a failure
    assert restart.wanted(of2, 1, False, 0) and restart.wanted(of2, 1, False, 1)
    assert not restart.wanted(of2, 1, False, 2)  # the third failure stays exited
    assert restart.wanted(restart.parse("on-failure"), 3, False, 1000)  # no limit

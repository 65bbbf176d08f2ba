"""health: the --health-* flags, merging with the image's HEALTHCHECK, Docker's state machine."""
import pytest

from bocker import BockerError, health

S = health.SECOND


def entry(code):
    return health.result("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", code, b"out")


def test_durations_are_go_durations():
    assert health.parse_duration("1s", "--x") == S
    assert health.parse_duration("500ms", "--x") == S // 2
    assert health.parse_duration("1m30s", "--x") == 90 * S
    assert health.parse_duration("1.5h", "--x") == 5400 * S
    assert health.parse_duration("0", "--x") == 0
    for bad in ("1", "s", "1x", "", "1s2"):
        with pytest.raises(BockerError):
            health.parse_duration(bad, "--x")
    with pytest.raises(BockerError, match="cannot be negative"):
        health.parse_duration("-1s", "--health-interval")


def test_flags_make_a_healthcheck():
    assert health.from_flags() is None
    check = health.from_flags("curl -f x", "1s", "2s", "3s", 4)
    assert check == {"Test": ["CMD-SHELL", "curl -f x"], "Interval": S, "Timeout": 2 * S,
                     "StartPeriod": 3 * S, "Retries": 4}
    assert health.from_flags(disabled=True) == {"Test": ["NONE"]}
    with pytest.raises(BockerError, match="conflicts"):
        health.from_flags("true", disabled=True)
    with pytest.raises(BockerError, match="negative"):
        health.from_flags("true", retries=-1)
    with pytest.raises(BockerError, match="less than 1ms"):
        health.from_flags("true", interval="10us")


def test_flags_override_the_image_field_by_field():
    image = {"Test": ["CMD", "check"], "Interval": 5 * S, "Retries": 7}
    merged = health.merge(health.from_flags(interval="1s"), image)
    assert merged["Test"] == ["CMD", "check"] and merged["Interval"] == S and merged["Retries"] == 7
    assert health.merge(None, image) == image
    assert health.settings(health.merge(health.from_flags(disabled=True), image)) is None
    assert health.merge(None, None) is None


def test_settings_with_docker_defaults():
    argv, interval, timeout, start, retries = health.settings({"Test": ["CMD-SHELL", "exit 0"]})
    assert argv == ["/bin/sh", "-c", "exit 0"]
    assert (interval, timeout, start, retries) == (30 * S, 30 * S, 0, 3)
    assert health.settings({"Test": ["CMD", "/bin/true", "x"]})[0] == ["/bin/true", "x"]
    assert health.settings({"Test": ["NONE"]}) is None
    assert health.settings(None) is None


def test_starting_healthy_unhealthy():
    h = health.initial()
    assert h["Status"] == "starting"
    h = health.record(h, entry(1), 2, 0, 5)
    assert (h["Status"], h["FailingStreak"]) == ("starting", 1)
    h = health.record(h, entry(0), 2, 0, 6)
    assert (h["Status"], h["FailingStreak"]) == ("healthy", 0)
    h = health.record(h, entry(1), 2, 0, 7)
    assert (h["Status"], h["FailingStreak"]) == ("healthy", 1)
    h = health.record(h, entry(2), 2, 0, 8)  # any non-zero exit is a failure
    assert (h["Status"], h["FailingStreak"]) == ("unhealthy", 2)
    h = health.record(h, entry(0), 2, 0, 9)
    assert (h["Status"], h["FailingStreak"]) == ("healthy", 0)


def test_failures_in_the_start_period_do_not_count():
    h = health.initial()
    for t in (1, 2, 3, 4):
        h = health.record(h, entry(1), 1, 5 * S, t)
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    h = health.record(h, entry(1), 1, 5 * S, 6)
    assert h["Status"] == "unhealthy"
    # once healthy, the start period no longer shields a failure
    h = health.record(health.record(health.initial(), entry(0), 1, 5 * S, 1), entry(1), 1, 5 * S, 2)
    assert h["Status"] == "unhealthy"


def test_the_log_keeps_the_last_five_results():
    h = health.initial()
    for code in range(7):
        h = health.record(h, entry(code), 100, 0, 1)
    assert [e["ExitCode"] for e in h["Log"]] == [2, 3, 4, 5, 6]
    assert health.result("a", "b", 0, b"x" * 5000)["Output"] == "x" * 4096


def test_ps_suffix():
    assert health.status_suffix(None) == ""
    assert health.status_suffix({"Status": "starting"}) == " (health: starting)"
    assert health.status_suffix({"Status": "healthy"}) == " (healthy)"
    assert health.status_suffix({"Status": "unhealthy"}) == " (unhealthy)"

"""stats: Docker's sizes and CPU % formula, a row's fields; top's ps filter (pure)."""
import pytest

from bocker import BockerError, stats
from bocker.cli.stats import ps_table


@pytest.mark.parametrize("n, text", [(0, "0B"), (1023, "1023B"), (1024, "1KiB"), (1236992, "1.18MiB"),
                                     (64 * 1024 ** 2, "64MiB"), (int(23.54 * 1024 ** 3), "23.54GiB")])
def test_binary_size_as_go_units(n, text):
    assert stats.binary_size(n) == text


def test_cpu_percent_is_dockers_formula():
    before = {"cpu_ns": 1_000_000_000, "host_cpu_ns": 10_000_000_000}
    after = {"cpu_ns": 1_500_000_000, "host_cpu_ns": 12_000_000_000}
    # half a CPU-second used while the 2 CPUs of the host ran 2 s in all: 25 % of the host, x 2 CPUs
    assert stats.cpu_percent(before, after, 2) == pytest.approx(50.0)
    assert stats.cpu_percent(None, after, 2) == 0.0
    assert stats.cpu_percent(after, after, 2) == 0.0


def test_row_fields():
    rec = {"Id": "ab" * 32, "Name": "/web"}
    sample = {"cpu_ns": 0, "host_cpu_ns": 1, "memory": 1024 ** 2, "memory_limit": None, "pids": 4,
              "io_read": 1500, "io_write": 0, "net_rx": 999, "net_tx": 1000}
    row = stats.row(rec, None, sample, host_mem=4 * 1024 ** 2)
    assert row == {"Container": "abababababab", "ID": "abababababab", "Name": "web", "CPUPerc": "0.00%",
                   "MemUsage": "1MiB / 4MiB", "MemPerc": "25.00%", "NetIO": "999B / 1kB",
                   "BlockIO": "1.5kB / 0B", "PIDs": "4"}
    assert stats.row(rec, None, None, ref="web", no_trunc=True)["ID"] == "ab" * 32


def test_ps_table_keeps_the_containers_pids():
    out = ("UID   PID  PPID  C STIME TTY   TIME     CMD\n"
           "root    1     0  0 10:00 ?     00:00:01 /sbin/init splash\n"
           "root   42     1  0 10:01 ?     00:00:00 sleep   600\n")
    assert ps_table(out, {42}) == [["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
                                   ["root", "42", "1", "0", "10:01", "?", "00:00:00", "sleep 600"]]
    with pytest.raises(BockerError, match="PID field"):
        ps_table("COMMAND\nsleep\n", {42})

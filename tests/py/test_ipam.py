"""IPAM: ipam.lease / release, lowest free address, under a file lock."""
import multiprocessing
import os
import threading

import pytest

from bocker import BockerError, network, shell
from bocker.network import bridge, dns, ipam
from bocker.config import Config


def allocations(cfg):
    return ipam.allocations(network.get(cfg))


def test_gateway_is_the_first_address(cfg):
    assert str(network.get(cfg).gateway) == "10.230.0.1"


def test_first_lease_skips_the_gateway(cfg):
    assert ipam.lease(network.get(cfg), "a" * 64) == "10.230.0.2"
    assert ipam.lease(network.get(cfg), "b" * 64) == "10.230.0.3"
    assert allocations(cfg) == {"10.230.0.2": "a" * 64, "10.230.0.3": "b" * 64}


def test_lowest_free_address_is_reused_after_release(cfg):
    for c in "abc":
        ipam.lease(network.get(cfg), c * 64)
    ipam.release(network.get(cfg), "a" * 64)
    assert ipam.lease(network.get(cfg), "d" * 64) == "10.230.0.2"
    ipam.release(network.get(cfg), "c" * 64)
    assert ipam.lease(network.get(cfg), "e" * 64) == "10.230.0.4"


def test_release_gives_back_only_that_container(cfg):
    ipam.lease(network.get(cfg), "a" * 64)
    ipam.lease(network.get(cfg), "b" * 64)
    ipam.release(network.get(cfg), "a" * 64)
    assert allocations(cfg) == {"10.230.0.3": "b" * 64}
    ipam.release(network.get(cfg), "a" * 64)  # twice: nothing happens
    ipam.release(network.get(cfg), "z" * 64)  # never leased: nothing happens
    assert allocations(cfg) == {"10.230.0.3": "b" * 64}


def test_release_without_any_lease_file(cfg):
    ipam.release(network.get(cfg), "a" * 64)


def test_slash_30_has_one_address_then_exhaustion(cfg, monkeypatch):
    monkeypatch.setenv("BOCKER_SUBNET", "10.230.0.0/30")
    cfg = Config()
    assert ipam.lease(network.get(cfg), "a" * 64) == "10.230.0.2"
    with pytest.raises(BockerError, match="no free address"):
        ipam.lease(network.get(cfg), "b" * 64)
    # the failed lease changed nothing
    assert allocations(cfg) == {"10.230.0.2": "a" * 64}
    ipam.release(network.get(cfg), "a" * 64)
    assert ipam.lease(network.get(cfg), "b" * 64) == "10.230.0.2"


def test_never_hands_out_network_or_broadcast_address(cfg, monkeypatch):
    monkeypatch.setenv("BOCKER_SUBNET", "10.230.0.0/29")
    cfg = Config()
    got = [ipam.lease(network.get(cfg), f"{i:064x}") for i in range(5)]
    assert got == [f"10.230.0.{i}" for i in range(2, 7)]
    with pytest.raises(BockerError):
        ipam.lease(network.get(cfg), "f" * 64)


@pytest.mark.parametrize("subnet", ["10.230.0.0/31", "10.230.0.0/32", "nonsense", "10.230.0.300/24"])
def test_unusable_subnets_are_bocker_errors(cfg, monkeypatch, subnet):
    monkeypatch.setenv("BOCKER_SUBNET", subnet)
    with pytest.raises(BockerError):
        ipam.lease(network.get(Config()), "a" * 64)


def test_subnet_given_with_host_bits_is_normalised(cfg, monkeypatch):
    monkeypatch.setenv("BOCKER_SUBNET", "10.230.0.77/24")
    cfg = Config()
    assert str(network.get(cfg).subnet) == "10.230.0.0/24"
    assert str(network.get(cfg).gateway) == "10.230.0.1"


def test_two_bridges_have_separate_allocations(cfg, monkeypatch):
    ipam.lease(network.get(cfg), "a" * 64)
    monkeypatch.setenv("BOCKER_BRIDGE", "bkpytest1")
    monkeypatch.setenv("BOCKER_SUBNET", "10.231.0.0/24")
    other = Config()
    assert ipam.lease(network.get(other), "b" * 64) == "10.231.0.2"
    assert ipam.lease(network.get(cfg), "c" * 64) == "10.230.0.3"


def test_dry_run_lease_writes_nothing(cfg, capsys):
    shell.dry_run = True
    assert ipam.lease(network.get(cfg), "a" * 64) == "10.230.0.2"
    ipam.release(network.get(cfg), "a" * 64)
    assert not os.path.exists(network.get(cfg).directory)


def _lease_in_child(args):
    root, i = args
    os.environ["BOCKER_ROOT"] = root
    return ipam.lease(network.get(Config()), f"{i:064x}")


def test_parallel_processes_get_distinct_addresses(cfg):
    n = 40
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(8) as pool:
        got = pool.map(_lease_in_child, [(cfg.root, i) for i in range(n)])
    assert len(set(got)) == n
    assert sorted(got, key=lambda a: int(a.rsplit(".", 1)[1])) == [f"10.230.0.{i}" for i in range(2, n + 2)]
    assert len(allocations(cfg)) == n


def test_parallel_threads_get_distinct_addresses(cfg):
    got, errors = [], []

    def worker(i):
        try:
            got.append(ipam.lease(network.get(cfg), f"{i:064x}"))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(got)) == 30
    assert len(allocations(cfg)) == 30


def test_parallel_lease_and_release_keep_the_file_consistent(cfg):
    keep = [ipam.lease(network.get(cfg), f"{i:064x}") for i in range(10)]

    def churn(i):
        cid = f"{100 + i:064x}"
        for _ in range(5):
            ipam.lease(network.get(cfg), cid)
            ipam.release(network.get(cfg), cid)
    threads = [threading.Thread(target=churn, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(allocations(cfg)) == sorted(keep)


def test_veth_name_fits_in_ifnamsiz():
    name = bridge.veth_name("0123456789abcdef" * 4)
    assert name == "vb0123456789ab"
    assert len(name) <= 15


def test_hosts_file_names_the_container():
    text = dns.hosts_file("web", "10.230.0.5")
    assert "127.0.0.1\tlocalhost" in text
    assert text.splitlines()[-1] == "10.230.0.5\tweb"
    assert "web" not in dns.hosts_file("web", None)


def test_resolv_conf_drops_loopback_resolvers(monkeypatch, tmp_path):
    import builtins
    fake = tmp_path / "resolv.conf"
    fake.write_text("search example.org\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.1\n")
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open",
                        lambda p, *a, **k: real_open(fake if p == "/etc/resolv.conf" else p, *a, **k))
    text = dns.resolv_conf()
    assert "127.0.0.53" not in text and "::1" not in text
    assert "nameserver 192.0.2.1" in text
    assert "search example.org" in text


def test_resolv_conf_with_only_loopback_gets_public_resolvers(monkeypatch, tmp_path):
    import builtins
    fake = tmp_path / "resolv.conf"
    fake.write_text("nameserver 127.0.0.53\n")
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open",
                        lambda p, *a, **k: real_open(fake if p == "/etc/resolv.conf" else p, *a, **k))
    text = dns.resolv_conf()
    assert "127.0.0.53" not in text
    assert "nameserver" in text


def test_a_slash_16_full_of_leases_leases_and_releases_in_constant_time(cfg, monkeypatch):
    """No rescan or rewrite of every lease per run: a lease touches one byte of the map and one
    file. A map with 60000 addresses taken (the lease files of the others are never read: only
    the map says what is free), then a lease and a release must cost about what they cost on an
    empty network (generous bound: a loaded host). The JSON map this replaced took 2.7 s."""
    import ipaddress
    import time
    monkeypatch.setenv("BOCKER_SUBNET", "10.230.0.0/16")
    net = network.get(Config())

    def timed(n):
        t = time.perf_counter()
        for i in range(n):
            ip = ipam.lease(net, f"{i:064x}")
            ipam.release(net, f"{i:064x}", ip)
        return (time.perf_counter() - t) / n
    empty = timed(20)
    first = int(net.subnet.network_address) + 2
    with open(os.path.join(net.directory, "leases.map"), "r+b") as f:
        full, rest = divmod(60000 + 2, 8)
        f.write(b"\xff" * full + bytes([(1 << rest) - 1]))
    assert ipam.lease(net, "e" * 64) == str(ipaddress.ip_address(first + 60000))
    loaded = timed(20)
    assert loaded < max(10 * empty, 0.02), (empty, loaded)
    assert os.path.getsize(os.path.join(net.directory, "leases.map")) <= 65536 // 8  # one bit an address

"""User networks: records, the subnet pool and overlap checks, --ip, DNS names and files.
No kernel object is made: bringing a network up or down is replaced by a no-op."""

import pytest

from bocker import BockerError, network, shell
from bocker.config import Config
from bocker.network import dns, ipam, user

ROUTES = ("default via 192.0.2.1 dev eth0\n10.210.0.0/24 dev other0 proto kernel scope link src 10.210.0.1\n"
          "local 10.210.2.7 dev lo table local proto kernel scope host src 10.210.2.7\n")


@pytest.fixture
def ncfg(cfg, monkeypatch):
    """A store whose host has ROUTES, and whose networks are never really brought up."""
    monkeypatch.setenv("BOCKER_NETWORK_POOL", "10.210.0.0/22")
    monkeypatch.setenv("BOCKER_NETWORK_PREFIX", "bkpt-")
    monkeypatch.setattr(user, "bring_up", lambda net: None)
    monkeypatch.setattr(user, "take_down", lambda net: None)
    real_run = shell.run
    monkeypatch.setattr(shell, "run", lambda argv, **kw: ROUTES if argv[:2] == ["ip", "-4"] else real_run(argv, **kw))
    return Config()


def subnet_of(cfg, name):
    return network.info(cfg, name)["IPAM"]["Config"][0]["Subnet"]


def test_free_subnet_skips_host_routes_and_addresses(ncfg):
    user.create(ncfg, "a")
    user.create(ncfg, "b")
    # 10.210.0.0/24 is routed, 10.210.2.7 is a local address
    assert (subnet_of(ncfg, "a"), subnet_of(ncfg, "b")) == ("10.210.1.0/24", "10.210.3.0/24")
    with pytest.raises(BockerError, match="no free /24"):
        user.create(ncfg, "c")


def test_given_subnet_overlapping_anything_in_use_is_refused(ncfg):
    user.create(ncfg, "a", subnet="10.220.0.0/24")
    for taken in ("10.220.0.128/25", "10.210.0.0/16", "10.230.0.0/24"):  # a network, a route, the bridge
        with pytest.raises(BockerError, match="overlaps"):
            user.create(ncfg, "x", subnet=taken)
    assert network.names(ncfg) == ["bridge", "host", "none", "a"]


@pytest.mark.parametrize("name", ["bridge", "host", "none", "bkpytest0", "-x", "a/b", ""])
def test_reserved_and_invalid_names(ncfg, name):
    with pytest.raises(BockerError):
        user.create(ncfg, name)


def test_record_inspect_and_lookup_by_id(ncfg):
    nid = user.create(ncfg, "front", subnet="10.220.0.0/24", gateway="10.220.0.9", labels={"team": "a"},
                      internal=True)
    info = network.info(ncfg, nid[:6])
    assert (info["Name"], info["Internal"], info["Labels"]) == ("front", True, {"team": "a"})
    assert info["IPAM"]["Config"] == [{"Subnet": "10.220.0.0/24", "Gateway": "10.220.0.9"}]
    net = network.get(ncfg, "front")
    assert (net.user, net.internal, str(net.gateway)) == (True, True, "10.220.0.9")
    assert net.bridge == "bkpt-" + nid[:10] and len(net.bridge) == 15
    with pytest.raises(BockerError, match="not found"):
        network.get(ncfg, "nosuch")


def test_rm_refused_while_an_address_is_leased(ncfg):
    user.create(ncfg, "n", subnet="10.220.0.0/24")
    net = network.get(ncfg, "n")
    ipam.lease(net, "a" * 64, names=["web"])
    with pytest.raises(BockerError, match="active endpoints"):
        user.remove(ncfg, "n")
    assert user.prune(ncfg) == []
    ipam.release(net, "a" * 64)
    assert user.prune(ncfg) == ["n"]
    assert network.names(ncfg) == ["bridge", "host", "none"]


def test_requested_address_taken_outside_or_reserved(ncfg):
    user.create(ncfg, "n", subnet="10.220.0.0/24")
    net = network.get(ncfg, "n")
    assert ipam.lease(net, "a" * 64, "10.220.0.50") == "10.220.0.50"
    for bad in ("10.220.0.50", "10.220.0.1", "10.220.0.255", "10.220.0.0", "10.9.9.9", "nonsense"):
        with pytest.raises(BockerError):
            ipam.lease(net, "b" * 64, bad)


def test_names_go_to_the_hosts_file_and_leave_with_the_lease(ncfg):
    user.create(ncfg, "n", subnet="10.220.0.0/24")
    net = network.get(ncfg, "n")
    import os
    ipam.lease(net, "a" * 64, names=["db", "aaaaaaaaaaaa", "database"])
    ipam.lease(net, "b" * 64, names=["web", "bbbbbbbbbbbb"])
    leases = os.path.join(net.directory, "leases")
    with open(os.path.join(leases, "10.220.0.2")) as f:
        assert f.read() == f"10.220.0.2\tdb aaaaaaaaaaaa database # {'a' * 64}\n"
    ipam.release(net, "a" * 64)
    assert os.listdir(leases) == ["10.220.0.3"]
    with open(os.path.join(leases, "10.220.0.3")) as f:
        assert f.read() == f"10.220.0.3\tweb bbbbbbbbbbbb # {'b' * 64}\n"


def test_default_bridge_keeps_no_names(cfg):
    import os
    net = network.get(cfg)
    ipam.lease(net, "a" * 64)
    with open(os.path.join(net.directory, "leases", "10.230.0.2")) as f:
        assert f.read() == f"# 10.230.0.2 {'a' * 64}\n"


def test_resolv_conf_of_a_user_network_names_only_its_server(monkeypatch, tmp_path):
    import builtins
    conf = tmp_path / "resolv.conf"
    conf.write_text("search corp\nnameserver 192.0.2.53\noptions ndots:2\n")
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: real_open(conf if p == "/etc/resolv.conf" else p, *a, **k))
    assert dns.resolv_conf(["10.220.0.1"]) == "search corp\noptions ndots:2\nnameserver 10.220.0.1\n"
    # --dns-search and --dns-option replace the host's lines
    assert dns.resolv_conf(["10.220.0.1"], ["a.example"], ["ndots:5"]) == \
        "search a.example\noptions ndots:5\nnameserver 10.220.0.1\n"

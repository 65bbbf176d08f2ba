"""-p port specs (ports.parse_port), the host ports a start chooses and checks (ports.resolve),
Docker's shapes (HostConfig.PortBindings, NetworkSettings.Ports) and what ps and port print."""
import socket

import pytest

from bocker import BockerError, containers
from bocker.network import ports


def one(spec):
    [binding] = ports.parse_port(spec)
    return binding


def test_host_and_container_port():
    assert one("8080:80") == {"HostIp": "0.0.0.0", "HostPort": "8080", "ContainerPort": 80, "Proto": "tcp"}


def test_udp_and_tcp():
    assert one("5353:53/udp")["Proto"] == "udp"
    assert one("5353:53/tcp")["Proto"] == "tcp"
    assert one("8080:80/")["Proto"] == "tcp"  # as docker


def test_host_ip_and_host_ip_with_no_host_port():
    p = one("127.0.0.1:8080:80")
    assert (p["HostIp"], p["HostPort"], p["ContainerPort"]) == ("127.0.0.1", "8080", 80)
    p = one("127.0.0.1::80")
    assert (p["HostIp"], p["HostPort"], p["ContainerPort"]) == ("127.0.0.1", "", 80)


def test_container_port_alone_leaves_the_host_port_to_the_start():
    assert one("80") == {"HostIp": "0.0.0.0", "HostPort": "", "ContainerPort": 80, "Proto": "tcp"}


def test_ranges_give_one_binding_per_port():
    assert [(p["HostPort"], p["ContainerPort"]) for p in ports.parse_port("9000-9002:9100-9102/udp")] == \
        [("9000", 9100), ("9001", 9101), ("9002", 9102)]
    assert [p["ContainerPort"] for p in ports.parse_port("7000-7001")] == [7000, 7001]
    # a host range for one container port: a free one of it, chosen at start
    assert ports.parse_port("9000-9010:80") == [
        {"HostIp": "0.0.0.0", "HostPort": "9000-9010", "ContainerPort": 80, "Proto": "tcp"}]
    assert len(ports.parse_ports(["1:1", "2-3:2-3"])) == 3


def test_limits():
    assert one("1:1")["HostPort"] == "1"
    assert one("65535:65535")["ContainerPort"] == 65535


@pytest.mark.parametrize("spec", [
    "", "abc", "80:abc", "abc:80", "8080:80/sctp", "1:2:3:4", "0:80", "8080:0",
    "65536:80", "8080:65536", "-1:80", "notanip:8080:80", "999.1.1.1:8080:80", "8080:80/udp/tcp",
    "9000-9002:80-81", "9002-9000:80", "9000-:80", "-9000:80", "80-x", "::1:80:80",
])
def test_invalid_port_spec(spec):
    with pytest.raises(BockerError):
        ports.parse_port(spec)


# --- the record's shapes -------------------------------------------------------------------

def test_port_bindings_in_docker_shape():
    bindings = ports.parse_ports(["8080:80", "8081:80", "127.0.0.1:5353:53/udp"])
    assert ports.to_record(bindings) == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "", "HostPort": "8081"}],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
    assert ports.from_record(ports.to_record(bindings)) == bindings
    assert ports.to_record([]) == {}


def test_port_bindings_of_older_records_and_docker_nulls_are_read():
    old = ports.parse_port("8080:80")
    assert ports.from_record(old) == old
    assert ports.from_record(None) == []
    assert ports.from_record({"80/tcp": None}) == []


def test_network_settings_ports_as_docker_shows_them():
    status = ports.to_status(ports.parse_ports(["8080:80", "127.0.0.1:5353:53/udp"]), {"80/tcp": {}, "443/tcp": {}})
    assert status == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None,
                      "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}


def test_published_is_what_the_start_chose():
    rec = {"NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None}},
           "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": ""}]}}}
    assert containers.published(rec) == ports.parse_port("8080:80")
    assert containers.published({"NetworkSettings": {}}) == []


def test_ps_column_and_port_lines():
    status = ports.to_status(ports.parse_ports(["8080:80", "127.0.0.1:5353:53/udp", "9000-9002:9000-9002"]),
                             {"443/tcp": {}})
    assert ports.ports_text(status) == ("0.0.0.0:8080->80/tcp, 0.0.0.0:9000-9002->9000-9002/tcp, "
                                        "127.0.0.1:5353->53/udp, 443/tcp")
    assert ports.ports_text({}) == "" and ports.ports_text(None) == ""
    assert ports.port_lines(status)[:2] == ["53/udp -> 127.0.0.1:5353", "80/tcp -> 0.0.0.0:8080"]
    assert ports.port_lines(status, "80") == ["0.0.0.0:8080"]
    assert ports.port_lines(status, "53/udp") == ["127.0.0.1:5353"]
    assert ports.port_lines(status, "53") == []


# --- what a start chooses and refuses ---------------------------------------------------------

def test_resolve_chooses_free_host_ports_and_publishes_all_exposed():
    out = ports.resolve(ports.parse_ports(["80"]), {"80/tcp": {}, "53/udp": {}}, True, set())
    assert [(p["ContainerPort"], p["Proto"]) for p in out] == [(80, "tcp"), (53, "udp")]
    assert all(p["HostPort"].isdigit() for p in out)


def test_resolve_refuses_a_port_another_container_publishes():
    with pytest.raises(BockerError, match="already allocated"):
        ports.resolve(ports.parse_ports(["18080:80"]), {}, False, {("18080", "tcp")})
    # the same number in the other protocol is another port
    assert ports.resolve(ports.parse_ports(["18080:80/udp"]), {}, False, {("18080", "tcp")})


def test_resolve_refuses_a_port_a_host_service_listens_on():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(BockerError, match="address already in use"):
            ports.resolve(ports.parse_ports([f"{port}:80"]), {}, False, set())
        with pytest.raises(BockerError, match="address already in use"):
            ports.resolve(ports.parse_ports([f"127.0.0.1:{port}:80"]), {}, False, set())
        # a range skips it
        [p] = ports.resolve(ports.parse_ports([f"{port}-{port + 1}:80"]), {}, False, set())
        assert p["HostPort"] == str(port + 1) or p["HostPort"] == str(port)  # (+1 could be taken too)


def test_resolve_refuses_a_host_ip_that_is_not_this_host_s():
    with pytest.raises(BockerError, match="cannot assign requested address"):
        ports.resolve(ports.parse_ports(["192.0.2.77:18081:80"]), {}, False, set())

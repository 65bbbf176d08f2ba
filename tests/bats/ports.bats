#!/usr/bin/env bats
# -p HOST:CTR[/udp]: DNAT rules in bocker's own chain, reachable from the host at
# 127.0.0.1:HOST; one container per host port; the rules go away with the container.
# Network traffic: only 127.0.0.1 and this file's own bridge.

load helpers

setup_file() {
    bk_store_setup port 235
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# fetch PORT: GET http://127.0.0.1:PORT/ (retried for 5 s while the server starts)
fetch() {
    python3 - "$1" <<'EOF'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/"
deadline = time.monotonic() + 5
while True:
    try:
        print(urllib.request.urlopen(url, timeout=2).read().decode(), end="")
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"{url}: {e}")
        time.sleep(0.1)
EOF
}

# the DNAT rules of this store's chain
dnat_rules() {
    iptables-save -t nat | grep -- "-A BOCKER-$BOCKER_BRIDGE " || true
}

# A web server in a container: httpd on port 80 serving "hello from NAME"
WEB='mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec httpd -f -p 80 -h /www'

@test "-p HOST:80: the container's httpd answers on 127.0.0.1:HOST" {
    hp=$(free_port)
    bocker run -d --name web1 -h web1 -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    run fetch "$hp"
    assert_success
    assert_output 'hello from web1'
}

@test "-p: ps shows the port, inspect the binding, the chain a DNAT rule to the container" {
    hp=$(free_port)
    bocker run -d --name web2 -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' web2)
    run bocker ps --format '.Ports'
    assert_output "0.0.0.0:$hp->80/tcp"
    run bocker ps
    assert_output --regexp "0\.0\.0\.0:$hp->80/tcp +web2\$"
    run bocker inspect --format '.[0].HostConfig.PortBindings | to_entries[] | [.key, .value[].HostIp, .value[].HostPort] | @tsv' web2
    assert_output "$(printf '80/tcp\t\t%s' "$hp")"
    run dnat_rules
    assert_output "-A BOCKER-$BOCKER_BRIDGE -p tcp -m tcp --dport $hp -j DNAT --to-destination $ip:80"
}

@test "a second container asking for the same host port: 125, the first keeps its port" {
    hp=$(free_port)
    bocker run -d --name first -h first -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    run --separate-stderr bocker run -d --name second -p "$hp:80" busybox sh -c "$WEB"
    assert_failure 125
    bk_assert_error_line 'already allocated'
    run bocker ps -a --format '.Names'
    assert_output first
    run bash -c "iptables-save -t nat | grep -c -- '--dport $hp '"
    assert_output 1
    run fetch "$hp"
    assert_output 'hello from first'
    # only one address leased, one veth on the bridge
    run bk_leases
    [ "${#lines[@]}" = 1 ]
    run bk_bridge_ports
    [ "${#lines[@]}" = 1 ]
}

@test "the DNAT rule is gone after rm -f; the port can be used again" {
    hp=$(free_port)
    bocker run -d --name gone -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    run dnat_rules
    assert_output --partial "--dport $hp "
    bocker rm -f gone
    run dnat_rules
    assert_output ''
    bk_assert_clean
    bocker run -d --name again -h again -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    run fetch "$hp"
    assert_output 'hello from again'
}

@test "the DNAT rule is gone when the container exits on its own (no bocker command after)" {
    hp=$(free_port)
    id=$(bocker run -d --name brief -p "$hp:80" busybox sh -c 'sleep 0.3')
    run dnat_rules
    assert_output --partial "--dport $hp "
    for i in $(seq 100); do
        [ -z "$(dnat_rules)" ] && break
        sleep 0.05
    done
    run dnat_rules
    assert_output ''
    bk_assert_clean
}

@test "after stop the port is free; start puts the rule back" {
    hp=$(free_port)
    bocker run -d --name stopper -h stopper -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    bocker stop -t 1 stopper
    run dnat_rules
    assert_output ''
    run bocker ps -a --format '.Ports'
    assert_output ''
    bocker start stopper
    run fetch "$hp"
    assert_output 'hello from stopper'
}

@test "-p HOST:CTR/udp makes a udp rule" {
    hp=$(free_port udp)
    bocker run -d --name u1 -p "$hp:53/udp" busybox sleep 30 >/dev/null
    ip=$(bocker inspect --format '.[0].NetworkSettings.IPAddress' u1)
    run dnat_rules
    assert_output "-A BOCKER-$BOCKER_BRIDGE -p udp -m udp --dport $hp -j DNAT --to-destination $ip:53"
    run bocker ps --format '.Ports'
    assert_output "0.0.0.0:$hp->53/udp"
    bocker rm -f u1
    run dnat_rules
    assert_output ''
}

@test "-p CTR alone: a free host port is chosen and works" {
    bocker run -d --name auto -h auto -p 80 busybox sh -c "$WEB" >/dev/null
    hp=$(bocker inspect --format '.[0].NetworkSettings.Ports["80/tcp"][0].HostPort' auto)
    [[ "$hp" =~ ^[0-9]+$ ]] && [ "$hp" -gt 0 ] || fail "host port: $hp"
    run fetch "$hp"
    assert_output 'hello from auto'
}

@test "-p 127.0.0.1:HOST:CTR: a rule for that address only; it answers there" {
    hp=$(free_port)
    bocker run -d --name lo1 -h lo1 -p "127.0.0.1:$hp:80" busybox sh -c "$WEB" >/dev/null
    run dnat_rules
    assert_output --regexp "^-A BOCKER-$BOCKER_BRIDGE -d 127\.0\.0\.1(/32)? -p tcp -m tcp --dport $hp -j DNAT"
    run fetch "$hp"
    assert_output 'hello from lo1'
}

@test "two containers, two host ports, each answers" {
    hp1=$(free_port)
    hp2=$(free_port)
    [ "$hp1" != "$hp2" ] || hp2=$((hp1 + 1))
    bocker run -d --name twoa -h twoa -p "$hp1:80" busybox sh -c "$WEB" >/dev/null
    bocker run -d --name twob -h twob -p "$hp2:80" busybox sh -c "$WEB" >/dev/null
    run fetch "$hp1"
    assert_output 'hello from twoa'
    run fetch "$hp2"
    assert_output 'hello from twob'
}

@test "invalid -p specs and -p without the bridge network: 125, nothing left" {
    for spec in abc 70000:80 80:0 8080:80/sctp 1:2:3:4 notanip:8080:80; do
        run --separate-stderr bocker run --rm -p "$spec" busybox true
        assert_failure 125
        bk_assert_error_line
    done
    run --separate-stderr bocker run --rm --network none -p 8080:80 busybox true
    assert_failure 125
    bk_assert_error_line 'bridge'
    run bocker ps -aq
    assert_output ''
    run dnat_rules
    assert_output ''
    bk_assert_clean
}

@test "a failed start (command not found) leaves no DNAT rule" {
    hp=$(free_port)
    run -127 bocker run -d --name nf -p "$hp:80" busybox /nonexistent
    run dnat_rules
    assert_output ''
    run -127 bocker run --rm -p "$hp:80" busybox /nonexistent
    run dnat_rules
    assert_output ''
    bk_assert_clean
}

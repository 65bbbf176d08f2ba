#!/usr/bin/env bats
# Published ports answering from everywhere a Docker user reaches them: a "remote host" (a netns
# this file makes, on a veth to the host), the host's 127.0.0.1 and the bridge's gateway, another
# container (hairpin); udp, ranges, -P, `bocker port`, ps and inspect; what is refused (a port a
# host service listens on, a host address that is not this host's, one published already).
# Subnets: 10.228.x.0/24 (the store), 10.227.R.0/24 (its user network, R >= 130) and
# 10.227.R+1.0/30 (the remote host's link). Traffic only on these.

load helpers

setup_file() {
    export BOCKER_NETWORK_PREFIX=bkt$(printf '%04x' $((RANDOM % 65536)))p
    export BK_R=$((RANDOM % 100 + 130))
    export BOCKER_NETWORK_POOL=10.227.$BK_R.0/24
    bk_store_setup pub 228
    bocker network create --subnet 10.227.$BK_R.0/24 t-u >/dev/null
    # the remote host: a netns with a veth to the host, 10.227.R+1.2 -> host 10.227.R+1.1
    export BK_REMOTE=bkt-remote-$(printf '%04x' $((RANDOM % 65536)))
    export BK_RLINK=bktr$(printf '%04x' $((RANDOM % 65536)))
    export BK_HOST_ADDR=10.227.$((BK_R + 1)).1 BK_REMOTE_ADDR=10.227.$((BK_R + 1)).2
    ip netns add "$BK_REMOTE"
    ip link add "$BK_RLINK" type veth peer name eth0 netns "$BK_REMOTE"
    ip addr add "$BK_HOST_ADDR/30" dev "$BK_RLINK"
    ip link set "$BK_RLINK" up
    ip -n "$BK_REMOTE" addr add "$BK_REMOTE_ADDR/30" dev eth0
    ip -n "$BK_REMOTE" link set eth0 up
    ip -n "$BK_REMOTE" link set lo up
    ip -n "$BK_REMOTE" route add default via "$BK_HOST_ADDR"
    # (ours, not a container's: bk_assert_clean looks for netns made after setup)
    { cat "$BK_TMP/netns.before"; echo "$BK_REMOTE"; } | sort > "$BK_TMP/netns.new" && mv "$BK_TMP/netns.new" "$BK_TMP/netns.before"
}

teardown_file() {
    [ -z "${BK_REMOTE:-}" ] || ip netns del "$BK_REMOTE" 2>/dev/null
    [ -z "${BK_RLINK:-}" ] || ip link del "$BK_RLINK" 2>/dev/null
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

# get ADDR PORT [NETNS]: GET / over tcp (from the host, or inside NETNS); the page
get() {
    local cmd=(python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
print(opener.open(f"http://{sys.argv[1]}:{sys.argv[2]}/", timeout=3).read().decode(), end="")' "$1" "$2")
    if [ -n "${3:-}" ]; then
        ip netns exec "$3" "${cmd[@]}"
    else
        "${cmd[@]}"
    fi
}

get_is() {
    [ "$(get "$1" "$2" "${4:-}" 2>/dev/null)" = "$3" ]
}

# a web server on port $2 of the container, answering with its name
WEB='mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec httpd -f -p ${PORT:-80} -h /www'

@test "-p answers from a remote host, the host's 127.0.0.1 and the gateway, and another container (hairpin)" {
    hp=$(free_port)
    bocker run -d --name web -h web -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    wait_for get_is 127.0.0.1 "$hp" "hello from web"
    run get 127.0.0.1 "$hp"
    assert_output "hello from web"
    run get "$BK_GATEWAY" "$hp"
    assert_output "hello from web"
    run get "$BK_HOST_ADDR" "$hp" "$BK_REMOTE"
    assert_output "hello from web"
    # another container on the same network, through the host's address (hairpin)
    run bocker run --rm busybox sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $BK_GATEWAY $hp | tail -n 1"
    assert_output "hello from web"
    # and the container itself
    run bocker exec web sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $BK_GATEWAY $hp | tail -n 1"
    assert_output "hello from web"
}

@test "on a user network too: from the remote host, the host and a container of that network" {
    hp=$(free_port)
    bocker run -d --name uweb -h uweb --network t-u -p "$hp:80" busybox sh -c "$WEB" >/dev/null
    wait_for get_is 127.0.0.1 "$hp" "hello from uweb"
    run get "$BK_HOST_ADDR" "$hp" "$BK_REMOTE"
    assert_output "hello from uweb"
    run bocker run --rm --network t-u busybox sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 10.227.$BK_R.1 $hp | tail -n 1"
    assert_output "hello from uweb"
}

# datagrams that reached the container's netns for a port nothing listens on (/proc/net/snmp
# Udp NoPorts: this busybox's nc has no udp, and the count proves the delivery as well)
udp_noports() {
    bocker exec "$1" awk '/^Udp:/ { n++; if (n == 2) print $3 }' /proc/net/snmp
}

@test "-p HOST:CTR/udp: a datagram from the remote host reaches the container" {
    hp=$(free_port udp)
    bocker run -d --name udp1 -p "$hp:5000/udp" busybox sleep 60 >/dev/null
    before=$(udp_noports udp1)
    ip netns exec "$BK_REMOTE" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"ping-udp", (sys.argv[1], int(sys.argv[2])))' "$BK_HOST_ADDR" "$hp"
    wait_for bash -c "[ \"\$('$BOCKER' exec udp1 awk '/^Udp:/ { n++; if (n == 2) print \$3 }' /proc/net/snmp)\" -gt $before ]"
    [ "$(udp_noports udp1)" -gt "$before" ]
    run bocker port udp1
    assert_output "5000/udp -> 0.0.0.0:$hp"
}

@test "a range 9000-9002:9000-9002: three rules, each answers; ps shows one range; port lists each" {
    base=$(python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 30000)
    try:
        for i in range(3):
            socket.socket().bind(("0.0.0.0", p + i))
        print(p); break
    except OSError:
        pass')
    last=$((base + 2))
    bocker run -d --name rng -h rng -p "$base-$last:9000-9002" busybox sh -c \
        'mkdir /w && echo hello-rng > /w/index.html && httpd -p 9000 -h /w && httpd -p 9001 -h /w && exec httpd -f -p 9002 -h /w' >/dev/null
    for p in $base $((base + 1)) $last; do
        wait_for get_is 127.0.0.1 "$p" hello-rng
        run get "$BK_HOST_ADDR" "$p" "$BK_REMOTE"
        assert_output hello-rng
    done
    run bocker ps --format '.Ports'
    assert_output "0.0.0.0:$base-$last->9000-9002/tcp"
    run bocker port rng
    assert_output "$(printf '9000/tcp -> 0.0.0.0:%s\n9001/tcp -> 0.0.0.0:%s\n9002/tcp -> 0.0.0.0:%s' $base $((base + 1)) $last)"
    run bocker port rng 9001/tcp
    assert_output "0.0.0.0:$((base + 1))"
    run --separate-stderr bocker port rng 9003
    assert_failure 1
    bk_assert_error_line 'No public port'
}

@test "-P publishes every EXPOSEd port on a free host port; HOSTIP::CPORT too; inspect shows them as Docker" {
    bocker run --name mk busybox true
    bocker commit -c 'EXPOSE 80' -c 'EXPOSE 7/udp' mk t-exposed >/dev/null
    bocker rm mk >/dev/null
    bocker run -d --name pall -h pall -P t-exposed sh -c "$WEB" >/dev/null
    hp=$(bocker inspect --format '.[0].NetworkSettings.Ports["80/tcp"][0].HostPort' pall)
    up=$(bocker inspect --format '.[0].NetworkSettings.Ports["7/udp"][0].HostPort' pall)
    [[ "$hp" =~ ^[0-9]+$ && "$up" =~ ^[0-9]+$ ]] || fail "ports: $hp $up"
    run bocker inspect --format '.[0].HostConfig.PublishAllPorts' pall
    assert_output true
    wait_for get_is 127.0.0.1 "$hp" "hello from pall"
    run get "$BK_HOST_ADDR" "$hp" "$BK_REMOTE"
    assert_output "hello from pall"
    run bocker port pall 80
    assert_output "0.0.0.0:$hp"
    bocker run -d --name lohost -h lohost -p 127.0.0.1::80 busybox sh -c "$WEB" >/dev/null
    lp=$(bocker port lohost 80)
    [[ "$lp" =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "port: $lp"
    wait_for get_is 127.0.0.1 "${lp#*:}" "hello from lohost"
    run bocker inspect --format '.[0].NetworkSettings.Ports["80/tcp"][0].HostIp' lohost
    assert_output 127.0.0.1
    # stopped: no ports shown
    bocker stop -t 1 pall
    run bocker port pall
    assert_output ''
    run bocker inspect --format '.[0].NetworkSettings.Ports | length' pall
    assert_output 0
    bocker rmi -f t-exposed >/dev/null 2>&1 || true
}

@test "a port a host service listens on, a host address not this host's, a port published already: 125, nothing left" {
    hp=$(free_port)
    python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$hp" &
listener=$!
echo "$listener" >> "$BK_TMP/bg.pids"
wait_for bash -c "ss -ltn | grep -q ':$hp '"
    run --separate-stderr bocker run -d --name clash -p "$hp:80" busybox sleep 30
    assert_failure 125
    bk_assert_error_line 'address already in use'
    kill "$listener"
    wait "$listener" 2>/dev/null || true
    run --separate-stderr bocker run -d --name far -p "192.0.2.55:$hp:80" busybox sleep 30
    assert_failure 125
    bk_assert_error_line 'cannot assign requested address'
    bocker run -d --name owner -p "$hp:80" busybox sleep 30 >/dev/null
    run --separate-stderr bocker run -d --name second --network t-u -p "$hp:80" busybox sleep 30
    assert_failure 125
    bk_assert_error_line 'already allocated'
    run bocker ps -a --format '.Names'
    assert_output owner
    [ "$(iptables-save -t nat | grep -c -- "--dport $hp ")" = 1 ]
    bocker rm -f owner >/dev/null
    [ "$(iptables-save -t nat | grep -c -- "--dport $hp ")" = 0 ]
    bk_assert_clean
}

@test "parallel runs asking for one host port: exactly one gets it, the others 125" {
    hp=$(free_port)
    pids=()
    for i in 1 2 3 4; do
        ( rc=0; "$BOCKER" run -d --name "race$i" -p "$hp:80" busybox sleep 30 >/dev/null 2>&1 || rc=$?
          echo "$rc" > "$BK_TMP/race$i.rc" ) &
        pids+=($!)
    done
    # these four only: a bare `wait` would also wait for bats' own timeout watchdog
    wait "${pids[@]}"
    run cat "$BK_TMP"/race1.rc "$BK_TMP"/race2.rc "$BK_TMP"/race3.rc "$BK_TMP"/race4.rc
    [ "$(grep -cx 0 <<< "$output")" = 1 ] || fail "exit codes: $output"
    [ "$(grep -cx 125 <<< "$output")" = 3 ] || fail "exit codes: $output"
    [ "$(iptables-save -t nat | grep -c -- "--dport $hp ")" = 1 ]
    run bocker ps -q
    [ "${#lines[@]}" = 1 ]
}

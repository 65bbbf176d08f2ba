#!/usr/bin/env bats
# Listings of issue 15: images REPO[:TAG] / -a / --filter / --digests, ps -l/-n/-s and its new
# filters, volume ls -f, {{.Labels}} and {{.Size}} in templates (checked against jq).

load helpers

setup_file() {
    export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
    export http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY
    bk_store_setup cliimg 247
    # three images, made one after the other: old:1 < mid:1 (label stage=mid) < new:1 (a tag of it: new:2)
    bocker tag busybox old:1
    bocker run --name mk1 busybox sh -c 'echo 1 > /one' >/dev/null
    bocker commit -c 'LABEL stage=mid' mk1 mid:1 >/dev/null
    bocker run --name mk2 busybox sh -c 'echo 2 > /two' >/dev/null
    bocker commit mk2 new:1 >/dev/null
    bocker tag new:1 new:2
    bocker rm mk1 mk2 >/dev/null
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

repos() {
    bocker images "$@" --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' '
}

@test "images REPO and REPO:TAG (a glob, as Docker)" {
    run repos new
    assert_output "new:1 new:2 "
    run repos new:2
    assert_output "new:2 "
    run repos 'n*'
    assert_output "new:1 new:2 "
    run repos nosuch
    assert_output ""
}

@test "images --filter reference=, label=, before=, since=, dangling=" {
    run repos --filter 'reference=*:1'
    assert_output "mid:1 new:1 old:1 "
    run repos --filter label=stage=mid
    assert_output "mid:1 "
    run repos --filter label=stage
    assert_output "mid:1 "
    run repos --filter before=mid:1
    assert_output "busybox:latest old:1 "
    run repos --filter since=mid:1
    assert_output "new:1 new:2 "
    run repos --filter dangling=false --filter reference=old
    assert_output "old:1 "
    run bocker images --filter dangling=maybe
    [ "$status" -eq 1 ]
    run bocker images --filter colour=red
    [ "$status" -eq 1 ]
    assert_output --partial "invalid filter"
}

@test "images: dangling=true lists an untagged image; -a lists intermediate ones" {
    bocker run --name mk3 busybox true >/dev/null
    bocker commit mk3 >/dev/null
    run repos --filter dangling=true
    assert_output "<none>:<none> "
    bocker rm mk3 >/dev/null
    bocker image prune -f >/dev/null
    run repos --filter dangling=true
    assert_output ""
}

@test "images --digests: a DIGEST column" {
    run bocker images --digests busybox
    assert_success
    assert_line --index 0 --regexp '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$'
}

@test "{{.Size}} human and {{.Labels}} k=v in images templates, raw in jq" {
    run bocker images --format '{{.Labels}}|{{.Size}}' mid:1
    assert_output --regexp '^stage=mid\|[0-9.]+[kM]?B$'
    run bocker images --format '.Labels.stage' mid:1
    assert_output 'mid'
    bytes=$(bocker images --format '.Size' mid:1)
    [ "$bytes" -gt 1000 ]
}

@test "ps --format '{{.Labels}}': Docker's k=v,k2=v2 (the same labels as jq sees)" {
    bocker create --name lab -l b=2 -l a=1 busybox true >/dev/null
    run bocker ps -a --format '{{.Labels}}'
    assert_output "a=1,b=2"
    run bocker ps -a --format '.Labels | to_entries | sort_by(.key) | map("\(.key)=\(.value)") | join(",")'
    assert_output "a=1,b=2"
}

@test "ps -l, -n N: the latest created containers, whatever their state" {
    for n in c1 c2 c3; do bocker create --name $n busybox true >/dev/null; sleep 0.05; done
    run bocker ps -l --format '{{.Names}}'
    assert_output c3
    run bocker ps -n 2 --format '{{.Names}}'
    assert_output "$(printf 'c3\nc2')"
    run bocker ps -n 0 -q
    assert_output ""
}

@test "ps -s: SIZE is what the container wrote (virtual: with its image)" {
    bocker run --name wr busybox dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null
    bocker create --name nothing busybox true >/dev/null
    run bocker ps -a -s --format '{{.Names}} {{.Size}}'
    assert_line --regexp '^wr 30[0-9](\.[0-9])?kB \(virtual [0-9.]+MB\)$'
    assert_line --regexp '^nothing 0B \(virtual [0-9.]+MB\)$'
    run bocker ps -a -s
    assert_line --index 0 --regexp 'NAMES +SIZE$'
    run bash -c "'$BOCKER' ps -a -s --format json | jq -r 'select(.Names==\"wr\") | .SizeRw'"
    [ "$output" -ge 307200 ]
}

@test "ps filters: exited=, before=, since=, publish=, volume=, network=" {
    bocker run --name e0 busybox true
    bocker run --name e3 -v vol1:/data busybox sh -c 'exit 3' || true
    bocker create --name pub -p 127.0.0.1::8080 busybox true >/dev/null
    names() { bocker ps "$@" --format '{{.Names}}' | sort | tr '\n' ' '; }
    run names --filter exited=3
    assert_output "e3 "
    run names --filter exited=0
    assert_output "e0 "
    run names -a --filter before=e3
    assert_output "e0 "
    run names -a --filter since=e0
    assert_output "e3 pub "
    run names -a --filter publish=8080
    assert_output "pub "
    run names -a --filter publish=8000-8090/tcp
    assert_output "pub "
    run names -a --filter publish=8080/udp
    assert_output ""
    bocker create --name exp --expose 9000-9001/udp busybox true >/dev/null
    run names -a --filter expose=9001/udp
    assert_output "exp "
    run names -a --filter expose=9001
    assert_output ""
    bocker rm exp >/dev/null
    run names -a --filter volume=vol1
    assert_output "e3 "
    run bocker ps -a --filter name=e3 --format '{{.Mounts}} {{.Networks}} {{.LocalVolumes}}'
    assert_output "vol1 bridge 1"
    run names -a --filter volume=/data
    assert_output "e3 "
    run names -a --filter network=bridge
    assert_output "e0 e3 pub "
    run names -a --filter network=none
    assert_output ""
    run bocker ps --filter exited=x
    [ "$status" -eq 1 ]
    run bocker ps --filter before=nosuch
    [ "$status" -eq 1 ]
    assert_output --partial "No such container"
}

@test "volume ls -f name=, label=, dangling=" {
    bocker volume create --label team=a va >/dev/null
    bocker volume create vb >/dev/null
    bocker create --name user -v vb:/x busybox true >/dev/null
    vols() { bocker volume ls -q "$@" | tr '\n' ' '; }
    run vols -f name=v
    assert_output "va vb "
    run vols -f name=a
    assert_output "va "
    run vols -f label=team=a
    assert_output "va "
    run vols -f dangling=true
    assert_output "va "
    run vols -f dangling=false
    assert_output "vb "
    run bocker volume ls --format '{{.Name}} {{.Labels}}' -f label=team
    assert_output "va team=a"
    run bocker volume ls -f driver=local
    [ "$status" -eq 1 ]
}

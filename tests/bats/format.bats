#!/usr/bin/env bats
# --format json and jq filters (ps, images, inspect, volume ls/inspect), ps --filter, labels.

load helpers

setup_file() {
    bk_store_setup fmt 233
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

# Three containers: up1 (running, label tier=web), ex3 (exited 3, label tier=db), cr1 (created).
three() {
    bocker run -d --name up1 -l tier=web -l team=a busybox sleep 30 >/dev/null
    bocker run --name ex3 --label tier=db busybox sh -c 'exit 3' || true
    bocker create --name cr1 busybox true >/dev/null
}

@test "ps -a --format json: one JSON object per line, one line per container" {
    three
    run bocker ps -a --format json
    assert_success
    [ "${#lines[@]}" = 3 ]
    for line in "${lines[@]}"; do
        jq -e 'type == "object" and has("ID") and has("Names") and has("Status") and has("State")' \
            <<< "$line" >/dev/null || fail "not a ps object: $line"
    done
    run bash -c "'$BOCKER' ps -a --format json | jq -r '[.Names, .State] | @tsv' | sort"
    assert_output "$(printf 'cr1\tcreated\nex3\texited\nup1\trunning')"
    run bash -c "'$BOCKER' ps -a --format json | jq -r 'select(.Names == \"ex3\") | .Status'"
    assert_output --regexp '^Exited \(3\) '
}

@test "ps --format with a jq filter: .Names prints raw strings, one per container" {
    three
    run bocker ps -a --format '.Names'
    assert_success
    run sort <<< "$output"
    assert_output "$(printf 'cr1\nex3\nup1')"
    run bocker ps --format '.Names'
    assert_output up1
    run bocker ps -a --format '{name: .Names, id: .ID[:12]} | select(.name == "up1") | .id'
    assert_output "$(bk_id up1 | cut -c1-12)"
    run bocker ps --format '.Labels.tier'
    assert_output web
}

@test "inspect --format '.[0].State.Pid' is the host pid of the container's PID 1" {
    id=$(bocker run -d --name pid1 busybox sleep 30)
    run bocker inspect --format '.[0].State.Pid' pid1
    assert_success
    pid=$output
    [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ]
    # the process of the container's cgroup that is PID 1 in its pid namespace
    want=
    for p in $(cat /sys/fs/cgroup/pids/$BOCKER_CGROUP_PARENT/$id/tasks); do
        if grep -qE '^NSpid:\s+[0-9]+\s+1$' /proc/$p/status; then
            want=$p
        fi
    done
    [ -n "$want" ] || fail "no PID 1 in the container's cgroup"
    [ "$pid" = "$want" ] || fail "State.Pid $pid, PID 1 of the container is $want"
    [ "$(tr '\0' ' ' < /proc/$pid/cmdline)" = 'sleep 30 ' ]
}

@test "inspect: a JSON array; of two containers, two elements in order; -f is --format" {
    three
    run bocker inspect up1
    assert_success
    run jq -r 'type, length, .[0].Name, .[0].State.Status' <<< "$output"
    assert_output "$(printf 'array\n1\n/up1\nrunning')"
    run bocker inspect --format 'map(.Name) | join(",")' up1 ex3
    assert_output '/up1,/ex3'
    run bocker inspect -f '.[1].State.ExitCode' up1 ex3
    assert_output 3
    run bocker inspect --format json cr1
    run jq -r '.[0].State.Status' <<< "$output"
    assert_output created
}

@test "inspect --format on an image; images --format json and a filter" {
    run bocker inspect --format '.[0].Id' busybox
    assert_success
    assert_output --regexp '^(sha256:)?[0-9a-f]{64}$'
    run bocker images --format json
    assert_success
    [ "${#lines[@]}" = 1 ]
    run jq -r '.Repository + ":" + .Tag' <<< "${lines[0]}"
    assert_output busybox:latest
    run bocker images --format '.Repository'
    assert_output busybox
}

@test "volume ls --format json and a filter; volume inspect --format" {
    bocker volume create --label k=v fv1 >/dev/null
    bocker volume create fv2 >/dev/null
    run bocker volume ls --format json
    assert_success
    [ "${#lines[@]}" = 2 ]
    run jq -r .Name <<< "$output"
    assert_output "$(printf 'fv1\nfv2')"
    run bocker volume ls --format '.Name'
    assert_output "$(printf 'fv1\nfv2')"
    run bocker volume ls --format 'select(.Labels.k == "v") | .Name'
    assert_output fv1
    run bocker volume inspect --format '.[0].Labels.k' fv1
    assert_output v
}

@test "an invalid jq filter: 1 and jq's message, for ps, inspect, images and volume ls" {
    bocker run -d --name bad1 busybox sleep 30 >/dev/null
    run --separate-stderr bocker ps --format '.['
    assert_failure 1
    bk_assert_error_line 'invalid --format'
    assert_output ''
    run --separate-stderr bocker inspect --format 'nosuchfunction(1)' bad1
    assert_failure 1
    bk_assert_error_line 'invalid --format'
    run --separate-stderr bocker images --format '{'
    assert_failure 1
    bk_assert_error_line 'invalid --format'
    run --separate-stderr bocker volume ls --format ')'
    assert_failure 1
    bk_assert_error_line
}

@test "a jq runtime error (valid filter) is 1 with a message, not a traceback" {
    bocker run -d --name bad2 busybox sleep 30 >/dev/null
    run --separate-stderr bocker ps --format '.Names | error("boom")'
    assert_failure 1
    bk_assert_error_line 'boom'
    run --separate-stderr bocker ps --format '.Names + 1'
    assert_failure 1
    bk_assert_error_line
}

@test "ps --filter status= (also shows stopped ones without -a)" {
    three
    run bocker ps --filter status=exited --format '.Names'
    assert_success
    assert_output ex3
    run bocker ps -f status=running --format '.Names'
    assert_output up1
    run bocker ps -a --filter status=created --format '.Names'
    assert_output cr1
    run bash -c "'$BOCKER' ps -a --filter status=exited --filter status=created --format '.Names' | sort"
    assert_output "$(printf 'cr1\nex3')"
    run bocker ps -a --filter status=paused --format '.Names'
    assert_output ''
}

@test "ps --filter name=, id=, ancestor=" {
    three
    run bocker ps -a --filter name=ex3 --format '.Names'
    assert_output ex3
    run bocker ps -a --filter name=nomatch --format '.Names'
    assert_output ''
    id=$(bk_id cr1)
    run bocker ps -a --filter id=${id:0:8} --format '.Names'
    assert_output cr1
    run bash -c "'$BOCKER' ps -a --filter ancestor=busybox --format '.Names' | sort"
    assert_output "$(printf 'cr1\nex3\nup1')"
    run bocker ps -a --filter ancestor=nosuchimage --format '.Names'
    assert_output ''
    # different keys AND
    run bocker ps -a --filter name=up --filter status=exited --format '.Names'
    assert_output ''
}

@test "-l/--label on run and create; ps --filter label=KEY and label=KEY=VALUE" {
    three
    run bocker inspect --format '.[0].Config.Labels | to_entries | map("\(.key)=\(.value)") | sort | join(",")' up1
    assert_output 'team=a,tier=web'
    run bocker ps -a --filter label=tier --format '.Names'
    run sort <<< "$output"
    assert_output "$(printf 'ex3\nup1')"
    run bocker ps -a --filter label=tier=db --format '.Names'
    assert_output ex3
    run bocker ps -a --filter label=team=b --format '.Names'
    assert_output ''
    bocker create --name cl -l only=create busybox true >/dev/null
    run bocker ps -a --filter label=only --format '.Names'
    assert_output cl
}

@test "an invalid --filter: 1, one line" {
    for f in status nosuchkey=1 '=x'; do
        run --separate-stderr bocker ps -a --filter "$f"
        assert_failure 1
        bk_assert_error_line 'invalid filter'
    done
}

@test "ps -q with a filter prints only matching ids" {
    three
    id=$(bk_id ex3)
    run bocker ps -q --filter status=exited
    assert_output "${id:0:12}"
}

@test "docker-style {{.Field}} templates work for ps, images and inspect (per object, short ids)" {
    bocker run --name tpl busybox true >/dev/null
    run bocker ps -a --format '{{.Names}} {{.ID}}'
    assert_success
    assert_output --regexp '^tpl [0-9a-f]{12}$'
    run bocker inspect --format '{{.State.ExitCode}} {{.Name}}' tpl
    assert_output '0 /tpl'
    run bocker images --format '{{.Repository}}:{{.Tag}}'
    assert_output --partial 'busybox:latest'
    run bocker ps -a --format '{{json .}}'
    assert_output --partial '"Names":"tpl"'
    run --separate-stderr bocker ps --format '{{if .ID}}x'
    assert_failure 1
    bk_assert_error_line 'template'
}

@test "Go template forms, each against the same value through jq" {
    bocker run --name gt -e A=1 -e B=2 -l k=v -v /data busybox true >/dev/null
    run bocker inspect --format '{{json .State}}' gt
    [ "$(echo "$output" | jq -cS .)" = "$(bocker inspect --format '.[0].State' gt | jq -cS .)" ]
    run bocker inspect --format '{{.Config.Env}}' gt
    assert_output "[$(bocker inspect --format '.[0].Config.Env | join(" ")' gt)]"
    run bocker inspect --format '{{index .Config.Labels "k"}}' gt
    assert_output "$(bocker inspect --format '.[0].Config.Labels.k' gt)"
    run bocker inspect --format '{{range .Mounts}}{{.Destination}}{{end}}' gt
    assert_output "$(bocker inspect --format '.[0].Mounts | map(.Destination) | join("")' gt)"
    run bocker inspect --format '{{if .State.Running}}up{{else}}down {{.State.ExitCode}}{{end}}' gt
    assert_output 'down 0'
    run bocker inspect --format '{{.Name | upper}} {{.Nope}}' gt
    assert_output '/GT <no value>'
    run bocker ps -a --format '{{.Names | title}} {{truncate .ID 4}} {{join (split .Names "t") "-"}}'
    assert_output --regexp '^Gt [0-9a-f]{4} g-$'
}

@test "--format 'table ...': Docker's header, columns aligned; {{.Size}} human in images" {
    bocker run --name tab busybox true >/dev/null
    id=$(bk_id tab)
    run bocker ps -a --format 'table {{.ID}}\t{{.Names}}'
    assert_line --index 0 'CONTAINER ID   NAMES'
    assert_line --index 1 "${id:0:12}   tab"
    run bocker images --format 'table {{.Repository}}\t{{.Size}}'
    assert_line --index 0 --regexp '^REPOSITORY +SIZE$'
    assert_line --regexp '^busybox +[0-9.]+[kMG]?B$'
    run bocker volume ls --format 'table {{.Name}}'
    assert_line --index 0 'VOLUME NAME'
}

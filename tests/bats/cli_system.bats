#!/usr/bin/env bats
# info and version in Docker's layout and --format; prune prompts answered by stdin; system
# prune -a and the default image; system df RECLAIMABLE and -v.

load helpers

setup_file() {
    export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
    export http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY
    bk_store_setup clisys 248
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

@test "info: Docker's layout (containers by state, images, btrfs and its usage, cgroups, kernel, security)" {
    bocker run -d --name up busybox sleep 30 >/dev/null
    bocker create --name cr busybox true >/dev/null
    run bocker info
    assert_success
    assert_line --index 0 "Server:"
    assert_line " Containers: 2"
    assert_line "  Running: 1"
    assert_line "  Paused: 0"
    assert_line "  Stopped: 1"
    assert_line " Images: 1"
    assert_line " Storage Driver: btrfs"
    assert_line --regexp '^  Data Space Used: [0-9.]+[kMG]?B$'
    assert_line --regexp '^  Data Space Total: [0-9.]+[MG]B$'
    assert_line " Cgroup Driver: cgroupfs"
    assert_line --regexp '^ Cgroup Version: [12]$'
    assert_line " Kernel Version: $(uname -r)"
    assert_line "  seccomp"
    assert_line --regexp '^   Profile: builtin'
    assert_line " Default Network: bridge"
    assert_line "  Bridge: $BOCKER_BRIDGE"
    assert_line "  Subnet: $BOCKER_SUBNET"
    assert_line " Docker Root Dir: $BOCKER_ROOT"
}

@test "info --format: Docker's field names, same values as the json" {
    bocker create --name cr busybox true >/dev/null
    run bocker info --format '{{.ServerVersion}}|{{.CgroupVersion}}|{{.Containers}}|{{.ContainersStopped}}|{{.Driver}}|{{.KernelVersion}}|{{.NCPU}}'
    assert_success
    expected=$(bocker info --format json | jq -r '[.ServerVersion, .CgroupVersion, .Containers, .ContainersStopped, .Driver, .KernelVersion, .NCPU] | map(tostring) | join("|")')
    assert_output "$expected"
    assert_output --regexp '^0\.[0-9.]+\|[12]\|1\|1\|btrfs\|'
    run bocker info --format '{{json .SecurityOptions}}'
    assert_output --partial '"name=seccomp,profile=builtin"'
    run bocker system info -f '{{.DockerRootDir}}'
    assert_output "$BOCKER_ROOT"
}

@test "version: Docker's layout; --format {{.Server.Version}} and {{.Client.Version}}; no root needed" {
    run bocker version
    assert_success
    assert_line --index 0 "Client:"
    assert_line --regexp '^ Version: +[0-9.]+$'
    assert_line "Server: bocker"
    assert_line " Engine:"
    run bocker version --format '{{.Server.Version}} {{.Client.Version}}'
    v=$(bocker --version)
    assert_output "${v##* } ${v##* }"
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$BOCKER" version --format '{{.Client.Os}}/{{.Client.Arch}}'
    assert_success
    assert_output linux/amd64
}

@test "container prune asks; n or EOF keeps everything, y removes; -f does not ask" {
    bocker create --name st busybox true >/dev/null
    run bash -c "echo n | '$BOCKER' container prune"
    assert_success
    assert_output "WARNING! This will remove all stopped containers.
Are you sure you want to continue? [y/N] "
    run bocker ps -aq
    [ -n "$output" ]
    run bash -c "'$BOCKER' container prune < /dev/null"
    assert_success
    run bocker ps -aq
    [ -n "$output" ]
    run bash -c "echo y | '$BOCKER' container prune"
    assert_success
    assert_output --partial "Are you sure you want to continue? [y/N] "
    run bocker ps -aq
    assert_output ""
    bocker create --name st2 busybox true >/dev/null
    run bash -c "'$BOCKER' container prune -f < /dev/null"
    refute_output --partial WARNING
    run bocker ps -aq
    assert_output ""
}

@test "image prune and volume prune ask, with Docker's warnings" {
    bocker run --name mk busybox true
    img=$(bocker commit mk)
    bocker rm mk >/dev/null
    bocker volume create lone >/dev/null
    run bash -c "echo no | '$BOCKER' image prune"
    assert_line --index 0 "WARNING! This will remove all dangling images."
    run bocker images -q --no-trunc
    assert_output --partial "${img#sha256:}"
    run bash -c "echo Y | '$BOCKER' image prune"
    run bocker images -q --no-trunc
    refute_output --partial "${img#sha256:}"
    run bash -c "'$BOCKER' volume prune -a < /dev/null"
    assert_line --index 0 "WARNING! This will remove all local volumes not used by at least one container."
    run bocker volume ls -q
    assert_output lone
    run bash -c "echo yes | '$BOCKER' volume prune -a"
    assert_output --partial "[y/N] Deleted Volumes:"
    run bocker volume ls -q
    assert_output ""
}

@test "system prune: the list of what goes; -a says it would take the default image, and warns when it does" {
    run bash -c "'$BOCKER' system prune --volumes < /dev/null"
    assert_line --index 0 "WARNING! This will remove:"
    assert_line "  - all stopped containers"
    assert_line "  - all anonymous volumes not used by at least one container"
    assert_line "  - all dangling images"
    refute_output --partial "default image"
    run bash -c "'$BOCKER' system prune -a < /dev/null"
    assert_line "  - all images without at least one container associated to them"
    assert_output --partial "the default image busybox:latest too"
    run bocker images -q
    [ -n "$output" ]
    # in use: not removable, not mentioned
    bocker create --name holds busybox true >/dev/null
    run bash -c "'$BOCKER' system prune -a < /dev/null"
    refute_output --partial "default image"
    bocker rm holds >/dev/null
    # -a -f removes busybox:latest and says so (`bocker setup` makes it again)
    run --separate-stderr bocker system prune -a -f
    assert_success
    assert_line "Deleted Images:"
    assert_line "untagged: busybox:latest"
    assert_line --regexp '^Total reclaimed space: [0-9.]+MB$'
    [[ "$stderr" == *"the default image busybox:latest was removed"* ]]
    bocker setup >/dev/null
    bocker images -q busybox | grep -q .
}

@test "prunes print Docker's sections and the total reclaimed" {
    bocker run --name big busybox dd if=/dev/zero of=/blob bs=1k count=100 2>/dev/null
    cid=$(bocker inspect --format '{{.Id}}' big)
    run bocker container prune -f
    assert_success
    assert_output --regexp "^Deleted Containers:
$cid

Total reclaimed space: 10[0-9](\.[0-9])?kB\$"
    run bocker container prune -f
    assert_output "Total reclaimed space: 0B"
    bocker run --name v -v /anon busybox sh -c 'echo 123456789 > /anon/f'
    vol=$(bocker inspect --format '{{(index .Mounts 0).Name}}' v)
    bocker rm v >/dev/null
    run bocker volume prune -f
    assert_output "Deleted Volumes:
$vol

Total reclaimed space: 10B"
}

@test "prune --filter label=, label!=, until=" {
    bocker create --name keep -l keep=1 busybox true >/dev/null
    bocker create --name go1 -l tier=x busybox true >/dev/null
    bocker create --name go2 busybox true >/dev/null
    run bocker container prune -f --filter label!=keep
    assert_success
    run bocker ps -a --format '{{.Names}}'
    assert_output keep
    run bocker container prune -f --filter until=1h
    run bocker ps -a --format '{{.Names}}'
    assert_output keep
    run bocker container prune -f --filter label=keep=1 --filter until=2099-01-01T00:00:00Z
    run bocker ps -aq
    assert_output ""
    bocker volume create --label keep=1 vkeep >/dev/null
    bocker volume create vgo >/dev/null
    run bocker volume prune -a -f --filter label!=keep
    assert_success
    assert_output --partial vgo
    run bocker volume ls -q
    assert_output vkeep
    bocker volume rm vkeep >/dev/null
    run bocker image prune -f --filter colour=red
    [ "$status" -eq 1 ]
    run bocker container prune -f --filter until=soon
    [ "$status" -eq 1 ]
    assert_output --partial "invalid time"
}

@test "system df: RECLAIMABLE; -v lists images, containers and volumes" {
    bocker run --name wr -v dfvol:/v busybox sh -c 'dd if=/dev/zero of=/blob bs=1k count=200 2>/dev/null; echo x > /v/x'
    run bocker system df
    assert_success
    assert_line --index 0 --regexp '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$'
    assert_line --regexp '^Images +1 +1 +[0-9.]+[kM]B +0B \(0%\)$'
    assert_line --regexp '^Containers +1 +0 +20[0-9](\.[0-9])?kB +20[0-9](\.[0-9])?kB \(100%\)$'
    assert_line --regexp '^Local Volumes +1 +1 +2B +0B \(0%\)$'
    run bocker system df --format '{{.Type}}:{{.TotalCount}}:{{.Reclaimable}}'
    assert_output "$(printf 'Images:1:0B (0%%)\nContainers:1:%s\nLocal Volumes:1:0B (0%%)' \
        "$(bocker system df --format json | jq -r 'select(.Type=="Containers") | .Reclaimable')")"
    run bocker system df --format 'table {{.Type}}\t{{.Active}}'
    assert_line --index 0 --regexp '^TYPE +ACTIVE$'
    run bocker system df -v
    assert_line "Images space usage:"
    assert_line --regexp '^busybox +latest +[0-9a-f]{12} .* 1$'
    assert_line "Containers space usage:"
    assert_line --regexp '^[0-9a-f]{12} +busybox .* wr$'
    assert_line "Local Volumes space usage:"
    assert_line --regexp '^dfvol +1 +2B$'
}

# complete WORDS...: what bash completion offers for the last word (bocker's own script)
complete_words() {
    "$BOCKER" _completion bash > "$BK_TMP/completion.bash"
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bocker; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$BK_TMP/completion.bash" "$BOCKER" "$@" | sort | tr '\n' ' '
}

@test "completion: verbs, sub-commands, flags, flag values (generated from the parser)" {
    run complete_words ru
    assert_output "run "
    run complete_words network c
    assert_output --regexp '^(connect )?create $'
    run complete_words run --cpuset
    assert_output "--cpuset-cpus --cpuset-mems "
    run complete_words run --pull ""
    assert_output "always missing never "
    run complete_words --root /x ps --la
    assert_output "--last --latest "
    run complete_words _exi
    [ -z "${output// /}" ]
    run complete_words save --format oci-
    assert_output "oci-archive oci-dir "
}

@test "completion: container, image, volume and network names, asked of bocker" {
    bocker create --name comp-one busybox true >/dev/null
    bocker create --name comp-two busybox true >/dev/null
    bocker volume create comp-vol >/dev/null
    run complete_words start comp-
    assert_output "comp-one comp-two "
    run complete_words rmi bus
    assert_output "busybox:latest "
    run complete_words volume rm comp
    assert_output "comp-vol "
    run complete_words run --network br
    assert_output "bridge "
    run complete_words run --volumes-from comp-o
    assert_output "comp-one "
}

@test "make completion writes bash and zsh scripts that parse; --help: no internal verbs, the values in force" {
    run bash -c "cd '$REPO' && make -s completion && bash -n completion/bocker.bash && head -1 completion/_bocker"
    assert_success
    assert_output --partial "#compdef bocker"
    run env BOCKER_BRIDGE=bkhelp0 "$BOCKER" --help
    assert_line "  BOCKER_BRIDGE=bkhelp0"
    assert_line "  BOCKER_ROOT=$BOCKER_ROOT"
    refute_output --partial "_exited"
    refute_output --partial "_lease"
    refute_output --partial "_completion"
}

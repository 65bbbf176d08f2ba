#!/usr/bin/env bats
# images (-q, --no-trunc, --format), init DIR NAME:TAG, tag, rmi (-f), image inspect, id prefixes.

load helpers

setup_file() {
    bk_store_setup img 216
    # a small root filesystem directory, as a user would have one
    export BK_ROOTFS=$BK_TMP/rootfs
    mkdir -p "$BK_ROOTFS"/{bin,etc,proc,sys,dev,tmp}
    cp /bin/busybox "$BK_ROOTFS/bin/busybox"
    for a in sh cat echo ls id; do ln -s busybox "$BK_ROOTFS/bin/$a"; done
    echo 'hello from my image' > "$BK_ROOTFS/hello.txt"
    # a minimal one: one binary, nothing else (no /proc, /sys, /dev, /etc)
    export BK_MINIMAL=$BK_TMP/minimal
    mkdir -p "$BK_MINIMAL/bin"
    cp /bin/busybox "$BK_MINIMAL/bin/busybox"
    ln -s busybox "$BK_MINIMAL/bin/sh"
    echo minimal > "$BK_MINIMAL/m.txt"
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    local ref
    for ref in myimg:1.0 other:x minimal:1 retag:1 retag:2 used:1; do
        bocker rmi -f "$ref" >/dev/null 2>&1 || true
    done
}

@test "setup made busybox:latest from the host's busybox-static" {
    run bocker images
    assert_success
    assert_line --index 0 --regexp '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
    assert_line --index 1 --regexp '^busybox +latest +[0-9a-f]{12} +.* ago +[0-9.]+(kB|MB)$'
    [ "${#lines[@]}" = 2 ]
    run bocker run --rm busybox sh -c 'test "$(readlink /bin/sh)" = busybox && echo applets'
    assert_output applets
}

@test "images -q prints the 12-hex ids, --no-trunc the full ones" {
    run bocker images -q
    assert_success
    assert_output --regexp '^[0-9a-f]{12}$'
    short=$output
    run bocker images -q --no-trunc
    assert_output --regexp '^[0-9a-f]{64}$'
    [[ "$output" == "$short"* ]]
}

@test "images --format json and a jq filter" {
    run bocker images --format json
    assert_success
    run jq -r '.Repository + ":" + .Tag' <<< "$output"
    assert_output busybox:latest
    run bocker images --format '.Tag'
    assert_output latest
}

@test "init DIR NAME:TAG makes an image that run can use" {
    run bocker init "$BK_ROOTFS" myimg:1.0
    assert_success
    assert_output --regexp '^[0-9a-f]{64}$'
    id=$output
    run bocker images
    assert_line --regexp "^myimg +1\.0 +${id:0:12} +"
    run bocker run --rm myimg:1.0 cat /hello.txt
    assert_success
    assert_output 'hello from my image'
}

@test "init: the image is a read-only btrfs subvolume; a container's changes do not reach it" {
    id=$(bocker init "$BK_ROOTFS" myimg:1.0)
    run btrfs property get -ts "$BOCKER_ROOT/images/$id" ro
    assert_output ro=true
    run bocker run --rm myimg:1.0 sh -c 'echo changed > /hello.txt; cat /hello.txt'
    assert_output changed
    run bocker run --rm myimg:1.0 cat /hello.txt
    assert_output 'hello from my image'
    # and the directory it came from is untouched
    run cat "$BK_ROOTFS/hello.txt"
    assert_output 'hello from my image'
}

@test "init of a minimal directory (no /proc, /sys, /dev, /etc) still runs" {
    run bocker init "$BK_MINIMAL" minimal:1
    assert_success
    run bocker run --rm minimal:1 /bin/sh -c 'read x < /m.txt; echo "$x"'
    assert_success
    assert_output minimal
}

@test "init without a tag means :latest; errors are 1" {
    run bocker init "$BK_ROOTFS" retag
    assert_success
    run bocker images --format '.Repository + ":" + .Tag'
    assert_line retag:latest
    bocker rmi retag
    run --separate-stderr bocker init "$BK_TMP/nonexistent" x:1
    assert_failure 1
    bk_assert_error_line 'not a directory'
    run --separate-stderr bocker init "$BK_ROOTFS" 'Bad:Name'
    assert_failure 1
    bk_assert_error_line 'invalid reference format'
    # nothing half-made is left in the store
    run bash -c "ls -A '$BOCKER_ROOT/images' | grep -c '^\\.init'"
    assert_output 0
    run bocker images -q
    [ "${#lines[@]}" = 1 ]
}

@test "tag gives an image a second name; rmi of one name only untags" {
    id=$(bocker init "$BK_ROOTFS" myimg:1.0)
    run bocker tag myimg:1.0 other:x
    assert_success
    run bocker images --format '.Repository + ":" + .Tag + " " + .ID'
    assert_line "myimg:1.0 ${id:0:12}"
    assert_line "other:x ${id:0:12}"
    run bocker images -q
    [ "${#lines[@]}" = 2 ]
    run bocker rmi other:x
    assert_success
    assert_output 'Untagged: other:x'
    run bocker run --rm myimg:1.0 cat /hello.txt
    assert_success
    run bocker inspect --type image other:x
    assert_failure
}

@test "tag of an unknown image or to a bad name is 1" {
    run --separate-stderr bocker tag nosuch:1 x:1
    assert_failure 1
    bk_assert_error_line 'No such image'
    run --separate-stderr bocker tag busybox 'UPPER:case'
    assert_failure 1
    bk_assert_error_line 'invalid reference format'
}

@test "rmi deletes the image: its subvolume and config are gone" {
    id=$(bocker init "$BK_ROOTFS" myimg:1.0)
    run bocker rmi myimg:1.0
    assert_success
    assert_line 'Untagged: myimg:1.0'
    assert_line "Deleted: sha256:$id"
    [ ! -e "$BOCKER_ROOT/images/$id" ]
    [ ! -e "$BOCKER_ROOT/images/$id.json" ]
    run bocker images -q
    [ "${#lines[@]}" = 1 ]
}

@test "rmi is refused while a container uses the image, unless -f" {
    bocker init "$BK_ROOTFS" used:1 >/dev/null
    bocker run --name user1 used:1 cat /hello.txt
    run --separate-stderr bocker rmi used:1
    assert_failure
    bk_assert_error_line 'conflict'
    run bocker run --rm used:1 cat /hello.txt
    assert_success
    run bocker rmi -f used:1
    assert_success
    run bocker images --format '.Repository'
    refute_output --partial used
}

@test "rmi of an unknown image fails with one line" {
    run --separate-stderr bocker rmi nosuch:1
    assert_failure
    bk_assert_error_line 'No such image'
}

@test "image id and unique prefix are accepted by run, inspect and tag" {
    id=$(bocker images -q --no-trunc)
    run bocker run --rm "${id:0:6}" echo by-prefix
    assert_output by-prefix
    run bocker run --rm "$id" echo by-id
    assert_output by-id
    run bocker inspect --format '.[0].RepoTags[0]' "sha256:$id"
    assert_output busybox:latest
    run bocker tag "${id:0:12}" retag:2
    assert_success
    bocker rmi retag:2
}

@test "inspect of an image: Id, RepoTags, Config (Cmd, Env), History" {
    run bocker inspect busybox
    assert_success
    run jq -r 'length, (.[0].Id | test("^sha256:[0-9a-f]{64}$")), .[0].RepoTags[0], (.[0].Config.Cmd | join(" ")),
               (.[0].Config.Env[] | select(startswith("PATH="))), .[0].Os, (.[0].History | length > 0)' <<< "$output"
    assert_output "$(printf '1\ntrue\nbusybox:latest\nsh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nlinux\ntrue')"
}

@test "run of an unknown image is 125 and says so" {
    run --separate-stderr bocker run --rm "$BK_NO_IMAGE" true
    assert_failure 125
    bk_assert_pull_error
}

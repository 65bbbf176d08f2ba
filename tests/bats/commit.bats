#!/usr/bin/env bats
# commit CONTAINER [NAME[:TAG]]: an O(1) btrfs snapshot of the container's files, a new image.

load helpers

setup_file() {
    bk_store_setup com 217
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    local ref
    for ref in myimg:2 myimg:3 myimg:4 chain:1 chain:2 gone:1 after:1; do
        bocker rmi -f "$ref" >/dev/null 2>&1 || true
    done
}

@test "commit makes an image with the container's file changes, usable by run" {
    run bocker run --name web busybox sh -c 'echo data > /root/file; rm /bin/vi; mkdir -p /srv/x'
    assert_success
    run bocker commit web myimg:2
    assert_success
    assert_output --regexp '^sha256:[0-9a-f]{64}$'
    run bocker images --format '.Repository + ":" + .Tag'
    assert_line myimg:2
    run bocker run --rm myimg:2 sh -c 'cat /root/file; test -e /bin/vi && echo vi || echo no-vi; test -d /srv/x && echo dir'
    assert_success
    assert_output "$(printf 'data\nno-vi\ndir')"
    # the original image is unchanged
    run bocker run --rm busybox sh -c 'test -e /root/file && echo file || echo no-file'
    assert_output no-file
}

@test "commit: the new image is a read-only subvolume whose parent is the container's image" {
    bocker run --name c2 busybox true
    id=$(bocker commit c2 myimg:3)
    id=${id#sha256:}
    run btrfs property get -ts "$BOCKER_ROOT/images/$id" ro
    assert_output ro=true
    run bocker inspect --format '.[0].Parent' myimg:3
    assert_output "$(bocker inspect --format '.[0].Id | ltrimstr("sha256:")' busybox)"
}

@test "commit keeps the container's Env, Cmd and WorkingDir" {
    bocker run --name c3 -e GREETING=hi -w /srv busybox sh -c 'echo "$GREETING from $(pwd)"'
    bocker commit c3 myimg:4 >/dev/null
    run bocker run --rm myimg:4
    assert_success
    assert_output 'hi from /srv'
    run bocker inspect --format '.[0].Config.Env[] | select(startswith("GREETING"))' myimg:4
    assert_output GREETING=hi
    # the container's HOSTNAME is not baked into the image
    run bocker inspect --format '[.[0].Config.Env[] | select(startswith("HOSTNAME="))] | length' myimg:4
    assert_output 0
}

@test "commit -c changes the config (CMD, ENV) and -m records a message" {
    bocker run --name c4 busybox sh -c 'echo v1 > /version'
    run bocker commit -c 'CMD ["cat", "/version"]' -c 'ENV MODE=prod' -m 'first release' c4 myimg:2
    assert_success
    run bocker run --rm myimg:2
    assert_output v1
    run bocker run --rm myimg:2 sh -c 'echo $MODE'
    assert_output prod
    run bocker inspect --format '.[0].History[-1].comment' myimg:2
    assert_output 'first release'
    # CREATED BY is the container's command, as Docker's commit records it
    run bocker history --format '{{.CreatedBy}}' --no-trunc myimg:2
    assert_line --index 0 'sh -c echo v1 > /version'
}

@test "commit -c with an unknown instruction is 1 and makes no image" {
    bocker run --name c5 busybox true
    before=$(bocker images -q | wc -l)
    run --separate-stderr bocker commit -c 'FROBNICATE x' c5 myimg:2
    assert_failure 1
    bk_assert_error_line
    [ "$(bocker images -q | wc -l)" = "$before" ]
}

@test "commit without a name makes an untagged image" {
    bocker run --name c6 busybox true
    run bocker commit c6
    assert_success
    id=${output#sha256:}
    run bocker images
    assert_line --regexp "^<none> +<none> +${id:0:12} "
    bocker rmi "$id"
}

@test "commits chain: an image from a container of a committed image has both changes" {
    bocker run --name g1 busybox sh -c 'echo one > /one'
    bocker commit g1 chain:1 >/dev/null
    bocker run --name g2 chain:1 sh -c 'echo two > /two'
    bocker commit g2 chain:2 >/dev/null
    run bocker run --rm chain:2 sh -c 'cat /one /two'
    assert_output "$(printf 'one\ntwo')"
    bocker rm g2
    run bocker rmi chain:1
    assert_success
    run bocker run --rm chain:2 cat /one
    assert_output one
}

@test "commit of a running container works and leaves it running" {
    bk_bg live busybox sh -c 'echo alive > /state; sleep 30'
    sleep 0.2
    run bocker commit live myimg:2
    assert_success
    run bocker inspect --format '.[0].State.Status' live
    assert_output running
    run bocker run --rm myimg:2 cat /state
    assert_output alive
}

@test "commit of an unknown container, or to a bad name, is 1" {
    run --separate-stderr bocker commit nosuch myimg:2
    assert_failure 1
    bk_assert_error_line 'No such container'
    bocker run --name c7 busybox true
    run --separate-stderr bocker commit c7 'Bad Name'
    assert_failure 1
    bk_assert_error_line 'invalid reference format'
}

@test "commit of a container whose image was removed with rmi -f still works" {
    bocker run --name base busybox true
    bocker commit base gone:1 >/dev/null
    bocker run --name orphan gone:1 sh -c 'echo mine > /mine'
    bocker rmi -f gone:1
    run --separate-stderr bocker commit orphan after:1
    [[ "$stderr" != *"internal error"* ]] || fail "$stderr"
    assert_success
    run bocker run --rm after:1 cat /mine
    assert_output mine
}

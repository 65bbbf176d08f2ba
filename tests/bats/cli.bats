#!/usr/bin/env bats
# The details of Docker's command line that scripts depend on: management commands
# (container ls, image rm, ...), no abbreviated flags, --flag=false.

load helpers

setup_file() {
    bk_store_setup cli 250
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

@test "container and image management commands are the short verbs" {
    run bocker container run --name c1 busybox true
    assert_success
    id=$(bk_id c1)
    run bocker container ls -aq --no-trunc
    assert_output "$id"
    run bocker container ps -a --format '{{.Names}}'
    assert_output c1
    run bocker container inspect --format '.[0].Name' c1
    assert_output /c1
    run bocker image ls --format '{{.Repository}}'
    assert_line busybox
    run bocker image tag busybox cli-alias:1
    assert_success
    run bocker image inspect --format '.[0].RepoTags[]' cli-alias:1
    assert_line cli-alias:1
    run bocker image rm cli-alias:1
    assert_output 'Untagged: cli-alias:1'
    run bocker container rm c1
    assert_output c1
    run bocker container ls -aq
    assert_output ''
}

@test "container inspect does not find an image, image inspect not a container" {
    bocker create --name c2 busybox true >/dev/null
    run --separate-stderr bocker container inspect busybox
    assert_failure 1
    run --separate-stderr bocker image inspect c2
    assert_failure 1
}

@test "no abbreviated flags: --nam is an error, and makes no container" {
    run --separate-stderr bocker run --nam x busybox true
    assert_failure 125
    bk_assert_error_line 'unrecognized arguments: --nam'
    run --separate-stderr bocker ps --al
    assert_failure 125
    run bocker ps -aq
    assert_output ''
}

@test "--rm=false keeps the container, --detach=false waits, -d=true detaches" {
    run bocker run --rm=false --name kept busybox true
    assert_success
    run bocker ps -a --format '{{.Names}}'
    assert_output kept
    run bocker run --detach=false --rm busybox echo hi
    assert_output hi
    run bocker run -d=true --name bg busybox true
    assert_success
    [ "${#output}" = 64 ]
}

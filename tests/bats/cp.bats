#!/usr/bin/env bats
# `bocker cp` (both directions, Docker's path rules, -a, -L, tar on stdin/stdout, running and
# stopped containers; hostile symlinks never reach the host) and `bocker diff`.

load helpers

setup_file() {
    bk_store_setup cp 222
}

teardown_file() {
    bk_store_teardown
}

setup() {
    H=$BK_TMP/host
    rm -rf "$H"
    mkdir -p "$H/dir/sub"
    echo hello > "$H/file"
    echo inner > "$H/dir/sub/f"
}

teardown() {
    bk_rm_all
}

@test "cp from a running container: a file, a directory, into an existing directory" {
    bocker run -d --name src busybox sh -c 'mkdir -p /data/a; echo one > /data/a/x; echo two > /data/y; sleep 60' >/dev/null
    wait_for bocker exec src test -f /data/y
    run bocker cp src:/data/y "$H/y"
    assert_success
    assert_output ''
    assert_equal "$(cat "$H/y")" two
    bocker cp src:/data "$H/copy"           # a new name: the directory itself, renamed
    assert_equal "$(cat "$H/copy/a/x")" one
    bocker cp src:/data "$H/dir"            # an existing directory: copied into it
    assert_equal "$(cat "$H/dir/data/y")" two
    bocker cp src:/data/. "$H/dir/sub"      # /. : the directory's contents
    assert_equal "$(cat "$H/dir/sub/y")" two
    assert_equal "$(cat "$H/dir/sub/f")" inner
    bocker cp src:data/y "$H/dir/"          # a relative container path is from its /
    assert_equal "$(cat "$H/dir/y")" two
    bocker exec src sh -c 'echo s > /dev/shm/x'
    run --separate-stderr bocker cp src:/dev/shm/x "$H/shm"   # tmpfs, /proc...: not copied, as Docker
    assert_failure 1
    bk_assert_error_line 'tmpfs'
}

@test "cp into a running container's volume writes into the volume" {
    bocker run -d --name v -v cpvol:/data busybox sleep 60 >/dev/null
    bocker cp "$H/file" v:/data/in-volume
    run bocker run --rm -v cpvol:/data busybox cat /data/in-volume
    assert_output hello
    bocker rm -f v >/dev/null
    bocker volume rm cpvol >/dev/null
}

@test "cp into a container, running and stopped; the files belong to its root unless -a" {
    chown 1234:4321 "$H/file"
    bocker run -d --name dst busybox sleep 60 >/dev/null
    bocker cp "$H/file" dst:/tmp/
    bocker cp "$H/dir" dst:/tmp/newdir
    run bocker exec dst sh -c 'cat /tmp/file /tmp/newdir/sub/f; stat -c %u:%g /tmp/file'
    assert_output $'hello\ninner\n0:0'
    bocker cp -a "$H/file" dst:/tmp/kept
    run bocker exec dst stat -c %u:%g /tmp/kept
    assert_output 1234:4321
    bocker rm -f dst >/dev/null
    bocker create --name off busybox cat /tmp/file /tmp/d/sub/f >/dev/null
    bocker cp "$H/file" off:/tmp/file
    bocker cp "$H/dir" off:/tmp/d
    run bocker start -a off
    assert_output $'hello\ninner'
    bocker cp off:/tmp/d/sub/f "$H/back"
    assert_equal "$(cat "$H/back")" inner
}

@test "cp refuses as Docker: missing source, missing parent, dir onto a file, trailing /, two containers" {
    bocker create --name c busybox true >/dev/null
    run --separate-stderr bocker cp c:/nope "$H/x"
    assert_failure 1
    bk_assert_error_line 'Could not find the file /nope in container c'
    run --separate-stderr bocker cp "$H/file" c:/no/such/x
    assert_failure 1
    bk_assert_error_line 'Could not find the file /no/such in container c'
    run --separate-stderr bocker cp c:/etc/passwd "$H/no/such"
    assert_failure 1
    bk_assert_error_line 'no such directory'
    run --separate-stderr bocker cp "$H/dir" c:/etc/passwd
    assert_failure 1
    bk_assert_error_line 'cannot copy a directory to a file'
    run --separate-stderr bocker cp "$H/file" c:/newdir/
    assert_failure 1
    bk_assert_error_line 'no such directory'
    run --separate-stderr bocker cp c:/etc/passwd/ "$H/x"
    assert_failure 1
    bk_assert_error_line 'not a directory'
    run --separate-stderr bocker cp c:/etc/passwd/. "$H/x"
    assert_failure 1
    bk_assert_error_line 'not a directory'
    run --separate-stderr bocker cp c:/etc c:/tmp
    assert_failure 1
    bk_assert_error_line 'copying between containers is not supported'
    run --separate-stderr bocker cp "$H/file" "$H/other"
    assert_failure 1
    bk_assert_error_line 'must specify at least one container source'
    run --separate-stderr bocker cp nosuch:/etc "$H/x"
    assert_failure 1
    bk_assert_error_line 'No such container: nosuch'
    [ ! -e "$H/x" ]
}

@test "cp -L follows a symlink given as source, inside the container; without it the link is copied" {
    bocker create --name l busybox true >/dev/null
    rootfs=$BOCKER_ROOT/containers/$(bk_id l)/rootfs
    ln -s /etc/passwd "$rootfs/link"
    bocker cp l:/link "$H/asis"
    [ -L "$H/asis" ]
    assert_equal "$(readlink "$H/asis")" /etc/passwd
    bocker cp -L l:/link "$H/followed"
    [ -f "$H/followed" ] && [ ! -L "$H/followed" ]
    run diff "$H/followed" "$rootfs/etc/passwd"
    assert_success
}

@test "cp with -: a tar on stdout, a tar from stdin into a directory" {
    bocker run -d --name t busybox sleep 60 >/dev/null
    run bash -c "'$BOCKER' cp t:/etc - | tar -tf - | sort | head -3"
    assert_output $'etc/\netc/group\netc/hostname'
    tar -C "$H" -cf "$BK_TMP/in.tar" dir
    bocker cp - t:/tmp < "$BK_TMP/in.tar"
    run bocker exec t cat /tmp/dir/sub/f
    assert_output inner
    run --separate-stderr bocker cp - t:/etc/passwd < "$BK_TMP/in.tar"
    assert_failure 1
    bk_assert_error_line 'must be a directory'
}

@test "cp: a symlink planted in the container never leads bocker outside its rootfs (read, write, tar)" {
    # the host has $H/secret; the container has links to it, as an absolute and as a ../ path
    echo host-secret > "$H/secret"
    bocker run -d --name evil busybox sh -c "mkdir -p '$H' && echo container-secret > '$H/secret' &&
        ln -s '$H' /tmp/abs && ln -s ../../../../../../../../../..'$H' /tmp/rel && ln -s / /tmp/top &&
        ln -s ../../../../../../../../../.. /tmp/up && touch /ready && sleep 60" >/dev/null
    wait_for bocker exec evil test -f /ready
    for link in abs rel; do
        rm -f "$H/got"
        bocker cp "evil:/tmp/$link/secret" "$H/got"      # read through the link: the container's file
        assert_equal "$(cat "$H/got")" container-secret
        bocker cp "$H/file" "evil:/tmp/$link/planted-$link"  # write through it: into the container
        [ ! -e "$H/planted-$link" ] || fail "cp wrote through /tmp/$link onto the host"
    done
    run bocker exec evil ls "$H"
    assert_output $'planted-abs\nplanted-rel\nsecret'
    bocker cp -L evil:/tmp/up "$H/uproot"                # -L on a link to ../..: the container's /
    [ -f "$H/uproot/ready" ] && [ ! -e "$H/uproot/$(basename "$BK_TMP")" ]
    # a tar whose entry is a link out, then a file through that link: stays in the destination
    mkdir -p "$BK_TMP/t1/l" && echo pwned > "$BK_TMP/t1/l/pwned"
    ln -s "$H" "$BK_TMP/l"
    tar -C "$BK_TMP" -cf "$BK_TMP/evil.tar" l && tar -C "$BK_TMP/t1" -rf "$BK_TMP/evil.tar" l/pwned
    run --separate-stderr bocker cp - evil:/tmp < "$BK_TMP/evil.tar"
    [ ! -e "$H/pwned" ] || fail "a tar entry was written through a symlink onto the host"
    # stopped: the same, on the rootfs
    bocker stop -t 0 evil >/dev/null
    bocker cp "$H/file" evil:/tmp/top/tmp/after-stop
    [ ! -e /tmp/after-stop ] || fail "cp wrote through /tmp/top onto the host's /tmp"
    run bocker cp evil:/tmp/rel/secret -
    assert_output --partial container-secret
    refute_output --partial host-secret
}

@test "diff: A/C/D against the image in Docker's order, from btrfs send (running and stopped)" {
    bocker run --name ch busybox sh -c 'echo x > /etc/foo; echo y >> /etc/passwd; rm /bin/ls;
        mkdir -p /tmp/a/b; touch /tmp/a/b/c; rm -rf /var; chmod 700 /home; ln -s /x /tmp/sl'
    run --separate-stderr bocker --trace diff ch
    assert_success
    assert_output "$(printf '%s\n' 'C /bin' 'D /bin/ls' 'C /etc' 'A /etc/foo' 'C /etc/passwd' 'C /home' \
        'C /tmp' 'A /tmp/a' 'A /tmp/a/b' 'A /tmp/a/b/c' 'A /tmp/sl' 'D /var')"
    [[ "$stderr" == *"+ btrfs send -q --no-data -p $BOCKER_ROOT/images/"* ]] || fail "no btrfs send line: $stderr"
    # the scratch snapshot is gone
    run ls -a "$BOCKER_ROOT/containers"
    refute_output --partial .diff
    bocker run -d --name quiet busybox sleep 60 >/dev/null
    run bocker diff quiet               # /etc/hosts, hostname, resolv.conf: not shown, as Docker's
    assert_success
    assert_output ''
    run --separate-stderr bocker diff nosuch
    assert_failure 1
    bk_assert_error_line 'No such container: nosuch'
}

#!/usr/bin/env bats
# Volumes: bind mounts (rw, ro, error paths), named volumes (auto-created, persistent,
# copied up from the image), anonymous volumes (rm -v), volume create/ls/inspect/rm/prune,
# --volumes-from, --tmpfs.

load helpers

setup_file() {
    bk_store_setup vol 234
}

teardown_file() {
    bk_store_teardown
}

setup() {
    HOSTDIR=$BK_TMP/host.$BATS_TEST_NUMBER
    mkdir -p "$HOSTDIR"
    echo from-host > "$HOSTDIR/file"
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
    rm -rf "$HOSTDIR"
}

@test "-v HOST:CTR bind mount: the container reads and writes the host directory" {
    run bocker run --rm -v "$HOSTDIR:/data" busybox sh -c 'cat /data/file; echo from-ctr > /data/new'
    assert_success
    assert_output from-host
    [ "$(cat "$HOSTDIR/new")" = from-ctr ]
}

@test "-v HOST:CTR:ro: readable, not writable; the mount is ro" {
    run bocker run --rm -v "$HOSTDIR:/data:ro" busybox sh -c 'cat /data/file; echo x > /data/new'
    assert_failure
    assert_line --index 0 from-host
    assert_output --partial 'Read-only file system'
    [ ! -e "$HOSTDIR/new" ]
    run bocker run --rm -v "$HOSTDIR:/data:ro" busybox sh -c 'grep " /data " /proc/mounts'
    assert_output --regexp ' /data [^ ]+ ro[, ]'
}

@test "a bind mount of a single file" {
    run bocker run --rm -v "$HOSTDIR/file:/etc/motd:ro" busybox cat /etc/motd
    assert_success
    assert_output from-host
}

@test "-v with a relative host path: 125" {
    for spec in ./data:/data data/sub:/data ../x:/data; do
        run --separate-stderr bocker run --rm -v "$spec" busybox true
        assert_failure 125
        bk_assert_error_line
    done
    run bocker volume ls -q
    assert_output ''
}

@test "-v with a relative container path, a bad mode or a bad volume name: 125" {
    for spec in "$HOSTDIR:data" "$HOSTDIR:/data:rx" 'bad name:/data' 'vol:'; do
        run --separate-stderr bocker run --rm -v "$spec" busybox true
        assert_failure 125
        bk_assert_error_line
    done
    run bocker ps -aq
    assert_output ''
}

@test "two mounts on the same container path: 125" {
    run --separate-stderr bocker run --rm -v "$HOSTDIR:/data" -v v9:/data busybox true
    assert_failure 125
    bk_assert_error_line
}

@test "-v NAME:CTR: the named volume is created on first use and persists between containers" {
    run bocker volume ls -q
    assert_output ''
    run bocker run --rm -v v1:/data busybox sh -c 'echo kept > /data/f'
    assert_success
    run bocker volume ls -q
    assert_output v1
    [ "$(cat "$BOCKER_ROOT/volumes/v1/f")" = kept ]
    run bocker run --rm -v v1:/other busybox cat /other/f
    assert_success
    assert_output kept
    # a btrfs subvolume
    run btrfs subvolume show "$BOCKER_ROOT/volumes/v1"
    assert_success
}

@test "a new named volume is filled from the image's content (copy-up); an existing one is not" {
    run bocker run --rm -v etcvol:/etc busybox sh -c 'cat /etc/passwd | head -n 1; echo changed > /etc/motd'
    assert_success
    assert_output --regexp '^root:'
    [ -f "$BOCKER_ROOT/volumes/etcvol/passwd" ]
    [ "$(cat "$BOCKER_ROOT/volumes/etcvol/motd")" = changed ]
    # second use: the volume's content, not the image's
    rm "$BOCKER_ROOT/volumes/etcvol/group"
    run bocker run --rm -v etcvol:/etc busybox sh -c 'cat /etc/motd; [ -e /etc/group ] || echo no-group'
    assert_output "$(printf 'changed\nno-group')"
    # the image is untouched
    run bocker run --rm busybox sh -c '[ -e /etc/motd ] || echo no-motd; [ -e /etc/group ] && echo group'
    assert_output "$(printf 'no-motd\ngroup')"
}

@test "-v NAME:CTR:ro: the volume is read-only in the container" {
    run bocker run --rm -v rovol:/etc:ro busybox sh -c 'cat /etc/passwd | head -n 1; touch /etc/x'
    assert_failure
    assert_line --index 0 --regexp '^root:'
    assert_output --partial 'Read-only file system'
    [ ! -e "$BOCKER_ROOT/volumes/rovol/x" ]
}

@test "an empty volume made by 'volume create' is filled from the image on first use (as docker does)" {
    bocker volume create etc2 >/dev/null
    run bocker run --rm -v etc2:/etc busybox sh -c 'ls /etc'
    assert_success
    [[ "$output" == *passwd* ]] || fail "the volume was not filled: ls /etc: '$output'"
    [ -f "$BOCKER_ROOT/volumes/etc2/passwd" ]
}

@test "-v /CTR makes an anonymous volume; rm -v removes it" {
    run bocker run --name a1 -v /data busybox sh -c 'echo anon > /data/f'
    assert_success
    name=$(bocker inspect --format '.[0].Mounts[] | select(.Destination == "/data") | .Name' a1)
    [[ "$name" =~ ^[0-9a-f]{64}$ ]] || fail "anonymous volume name: $name"
    run bocker volume ls -q
    assert_output "$name"
    run bocker volume inspect --format '.[0].Anonymous' "$name"
    assert_output true
    [ "$(cat "$BOCKER_ROOT/volumes/$name/f")" = anon ]
    run bocker rm -v a1
    assert_success
    run bocker volume ls -q
    assert_output ''
    [ ! -e "$BOCKER_ROOT/volumes/$name" ]
}

@test "rm without -v keeps the anonymous volume; rm -v keeps named volumes" {
    bocker run --name a2 -v /data busybox true
    name=$(bocker inspect --format '.[0].Mounts[0].Name' a2)
    bocker rm a2
    run bocker volume ls -q
    assert_output "$name"
    bocker run --name a3 -v keepme:/data busybox true
    bocker rm -v a3
    run bocker volume ls -q
    assert_output --partial keepme
}

@test "run --rm removes its anonymous volumes, not its named ones" {
    run bocker run --rm -v /anon -v named1:/named busybox true
    assert_success
    run bocker volume ls -q
    assert_output named1
}

@test "volume create, ls, inspect, rm" {
    run bocker volume create --label team=a myvol
    assert_success
    assert_output myvol
    run bocker volume create myvol
    assert_success
    run bocker volume ls
    assert_line --index 0 --regexp '^DRIVER +VOLUME NAME$'
    assert_line --index 1 --regexp '^local +myvol$'
    run bocker volume inspect myvol
    assert_success
    run jq -r '.[0] | [.Name, .Driver, .Mountpoint, .Labels.team] | @tsv' <<< "$output"
    assert_output "$(printf 'myvol\tlocal\t%s\ta' "$BOCKER_ROOT/volumes/myvol")"
    run bocker volume create
    assert_success
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    bocker volume rm "$output" >/dev/null
    run bocker volume rm myvol
    assert_success
    assert_output myvol
    run bocker volume ls -q
    assert_output ''
    [ ! -e "$BOCKER_ROOT/volumes/myvol" ]
}

@test "volume errors: inspect/rm of a missing volume, a bad name; rm -f of a missing one is fine" {
    run --separate-stderr bocker volume inspect nosuch
    assert_failure
    bk_assert_error_line 'no such volume'
    run --separate-stderr bocker volume rm nosuch
    assert_failure 1
    bk_assert_error_line 'no such volume'
    run bocker volume rm -f nosuch
    assert_success
    run --separate-stderr bocker volume create 'bad/name'
    assert_failure 1
    bk_assert_error_line 'invalid characters'
}

@test "volume rm refuses a volume in use (running or stopped container)" {
    bocker run -d --name u1 -v busy:/data busybox sleep 30 >/dev/null
    run --separate-stderr bocker volume rm busy
    assert_failure 1
    bk_assert_error_line 'in use'
    [ -d "$BOCKER_ROOT/volumes/busy" ]
    bocker rm -f u1
    bocker run --name u2 -v busy:/data busybox true
    run --separate-stderr bocker volume rm busy
    assert_failure 1
    bk_assert_error_line 'in use'
    bocker rm u2
    run bocker volume rm busy
    assert_success
}

@test "volume prune removes unused anonymous volumes; -a also unused named ones; used ones stay" {
    bocker volume create named-unused >/dev/null
    bocker run --name anon-user -v /data busybox true
    used_anon=$(bocker inspect --format '.[0].Mounts[0].Name' anon-user)
    bocker run --name tmp1 -v /data busybox true
    unused_anon=$(bocker inspect --format '.[0].Mounts[0].Name' tmp1)
    bocker rm tmp1
    bocker run -d --name named-user -v named-used:/data busybox sleep 30 >/dev/null
    run bocker volume prune -f
    assert_success
    assert_line "$unused_anon"
    run bocker volume ls -q
    assert_line named-unused
    assert_line named-used
    assert_line "$used_anon"
    refute_line "$unused_anon"
    run bocker volume prune -a -f
    assert_line named-unused
    run bocker volume ls -q
    refute_line named-unused
    assert_line named-used
}

@test "--volumes-from mounts another container's volumes and binds (rw, or :ro)" {
    bocker run --name src -v shared:/shared -v "$HOSTDIR:/hostdir" busybox sh -c 'echo from-src > /shared/f'
    run bocker run --rm --volumes-from src busybox sh -c 'cat /shared/f /hostdir/file; echo back > /shared/g'
    assert_success
    assert_output "$(printf 'from-src\nfrom-host')"
    [ "$(cat "$BOCKER_ROOT/volumes/shared/g")" = back ]
    run bocker run --rm --volumes-from src:ro busybox sh -c 'cat /shared/f; touch /shared/h'
    assert_failure
    assert_line --index 0 from-src
    assert_output --partial 'Read-only file system'
    run --separate-stderr bocker run --rm --volumes-from nosuch busybox true
    assert_failure 125
    bk_assert_error_line 'No such container'
}

@test "--tmpfs mounts a tmpfs; what is written there does not reach the container's snapshot" {
    run bocker run --name tf --tmpfs /scratch busybox sh -c 'grep " /scratch " /proc/mounts; echo x > /scratch/f; cat /scratch/f'
    assert_success
    assert_line --index 0 --regexp '^[^ ]+ /scratch tmpfs rw'
    assert_line --index 1 x
    id=$(bk_id tf)
    [ -d "$BOCKER_ROOT/containers/$id/rootfs/scratch" ] || true
    [ ! -e "$BOCKER_ROOT/containers/$id/rootfs/scratch/f" ]
    run bocker run --rm --tmpfs /scratch:size=1m busybox sh -c 'df -k /scratch | tail -n 1'
    assert_success
    assert_output --regexp '^[^ ]+ +1024 '
    run --separate-stderr bocker run --rm --tmpfs scratch busybox true
    assert_failure 125
    bk_assert_error_line
}

@test "a volume used by a running container: exec writes show on the host" {
    bocker run -d --name live -v livevol:/data busybox sleep 30 >/dev/null
    bocker exec live sh -c 'echo via-exec > /data/e'
    [ "$(cat "$BOCKER_ROOT/volumes/livevol/e")" = via-exec ]
    run bocker inspect --format '.[0].Mounts[0] | [.Type, .Name, .Destination, .RW] | @tsv' live
    assert_output "$(printf 'volume\tlivevol\t/data\ttrue')"
}

@test "run --rm --volumes-from a container with an anonymous volume: clean exit, the volume stays" {
    bocker create --name anonsrc -v /anon busybox true >/dev/null
    vol=$(bocker inspect --format '.[0].Mounts[0].Name' anonsrc)
    run --separate-stderr bocker run --rm --volumes-from anonsrc busybox sh -c 'echo x > /anon/f'
    assert_success
    assert_equal "$stderr" ""
    [ -f "$BOCKER_ROOT/volumes/$vol/f" ]
    bocker rm -v anonsrc >/dev/null
    [ ! -e "$BOCKER_ROOT/volumes/$vol" ]
}

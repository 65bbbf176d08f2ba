#!/usr/bin/env bats
# run/create flags of issue 15: --env-file, --label-file, --cidfile, create -q, --pull,
# --platform, --mount, -a, --expose, -v options and a missing host directory.

load helpers

setup_file() {
    export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
    export http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY
    bk_store_setup cliflg 246
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
    bk_rm_all_volumes
}

@test "--env-file: comments and blank lines skipped, KEY alone from the environment, -e wins" {
    printf '# a comment\n\nA=1\n  B=two words\nFROM_ENV\nUNSET_ONE\nC="quoted"\n' > "$BK_TMP/env"
    FROM_ENV=yes run bocker run --rm --env-file "$BK_TMP/env" -e A=9 busybox sh -c 'echo "$A|$B|$FROM_ENV|${UNSET_ONE-unset}|$C"'
    assert_success
    assert_output '9|two words|yes|unset|"quoted"'
}

@test "exec --env-file, then -e" {
    printf 'X=from-file\nY=1\n' > "$BK_TMP/exec.env"
    bocker run -d --name ex busybox sleep 30 >/dev/null
    run bocker exec --env-file "$BK_TMP/exec.env" -e Y=2 ex sh -c 'echo "$X $Y"'
    assert_output "from-file 2"
    run bocker exec --env-file "$BK_TMP/none.env" ex true
    [ "$status" -eq 1 ]   # (exec's own refusals: 1, as Docker's CLI)
    assert_output --partial "none.env"
}

@test "--env-file: a missing file, a name with blanks: 125, one line, nothing made" {
    run bocker run --rm --env-file "$BK_TMP/nosuch" busybox true
    [ "$status" -eq 125 ]
    assert_output --partial "nosuch"
    printf 'A B=1\n' > "$BK_TMP/bad"
    run bocker create --env-file "$BK_TMP/bad" busybox true
    [ "$status" -eq 125 ]
    assert_output --partial "contains whitespaces"
    run bocker ps -aq
    assert_output ""
}

@test "--label-file: labels from a file, -l after it" {
    printf '# c\ntier=web\nteam=a\n' > "$BK_TMP/labels"
    cid=$(bocker create --label-file "$BK_TMP/labels" -l team=b busybox true)
    run bocker inspect --format '{{.Config.Labels.tier}} {{.Config.Labels.team}}' "$cid"
    assert_output "web b"
}

@test "--cidfile: the id written; an existing file refused (125) and nothing made" {
    cid=$(bocker create --cidfile "$BK_TMP/cid" busybox true)
    [ "$(cat "$BK_TMP/cid")" = "$cid" ]
    run bocker run --cidfile "$BK_TMP/cid" busybox true
    [ "$status" -eq 125 ]
    assert_output --partial "Container ID file found"
    [ "$(bocker ps -aq | wc -l)" = 1 ]
    # a failed create leaves no cidfile behind
    run bocker create --cidfile "$BK_TMP/cid2" --pull never "$BK_NO_IMAGE"
    [ "$status" -eq 125 ]
    [ ! -e "$BK_TMP/cid2" ]
}

@test "--dry-run with --cidfile, -v of a missing directory, --env-file: the script says it, nothing is made" {
    printf 'A=1\n' > "$BK_TMP/env"
    run bocker --dry-run run --rm --cidfile "$BK_TMP/dry.cid" -v "$BK_TMP/dry-dir:/d" --env-file "$BK_TMP/env" busybox true
    assert_success
    assert_output --partial ": > $BK_TMP/dry.cid"
    assert_output --partial "mkdir -p $BK_TMP/dry-dir"
    [ ! -e "$BK_TMP/dry.cid" ]
    [ ! -e "$BK_TMP/dry-dir" ]
    run bocker ps -aq
    assert_output ""
}

@test "create -q prints the id only; --pull never of a missing image: 125 No such image, no pull" {
    run bocker create -q busybox true
    assert_success
    assert_output --regexp '^[0-9a-f]{64}$'
    run bocker run --pull never "$BK_NO_IMAGE" true
    [ "$status" -eq 125 ]
    assert_output "bocker: No such image: $BK_NO_IMAGE"
    run bocker run --pull sometimes busybox true
    [ "$status" -eq 125 ]
    assert_output --partial 'invalid pull option'
    run bocker run --rm --pull missing busybox echo ok
    assert_output ok
    # -q (run too, as Docker's): no "Unable to find image" line before the (failing) pull
    run bocker run -q --rm 127.0.0.1:9/bocker-q:1 true
    [ "$status" -eq 125 ]
    refute_output --partial "Unable to find image"
    run bocker run --rm 127.0.0.1:9/bocker-q:1 true
    assert_output --partial "Unable to find image"
}

@test "--pull always pulls even an image in the store (offline here: the pull fails, 125)" {
    run bocker run --rm --pull always 127.0.0.1:9/busybox true
    [ "$status" -eq 125 ]
    bocker tag busybox 127.0.0.1:9/busybox
    run bocker run --rm --pull always 127.0.0.1:9/busybox true
    [ "$status" -eq 125 ]
    refute_output --partial "Unable to find image"
    run bocker run --rm --pull missing 127.0.0.1:9/busybox echo here
    assert_output here
    bocker rmi 127.0.0.1:9/busybox >/dev/null
}

@test "--platform: linux/amd64 accepted; another refused with Docker's line" {
    run bocker run --rm --platform linux/amd64 busybox echo ok
    assert_output ok
    run bocker run --rm --platform linux/arm64 busybox true
    [ "$status" -eq 125 ]
    assert_output "bocker: image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64"
    run bocker create --platform nonsense busybox true
    [ "$status" -eq 125 ]
    assert_output --partial "invalid platform"
    run bocker ps -aq
    assert_output ""
}

@test "--mount bind (readonly), volume, tmpfs (tmpfs-size) map onto -v and --tmpfs" {
    mkdir -p "$BK_TMP/src" && echo hi > "$BK_TMP/src/f"
    run bocker run --rm --mount "type=bind,src=$BK_TMP/src,dst=/data,readonly" busybox sh -c 'cat /data/f; touch /data/g'
    [ "$status" -ne 0 ]
    assert_line hi
    assert_output --partial "Read-only file system"
    run bocker run --rm --mount type=volume,source=mvol,target=/v busybox sh -c 'echo x > /v/x && echo ok'
    assert_output ok
    run bocker volume ls -q
    assert_output mvol
    run bocker run --rm --mount type=tmpfs,dst=/t,tmpfs-size=1m busybox sh -c 'df -k /t | tail -1'
    assert_success
    assert_output --regexp ' 1024 '
}

@test "--mount errors: 125 one line each (missing bind source is refused, unlike -v)" {
    for spec in "type=bind,src=$BK_TMP/nosuch,dst=/d" "type=nfs,dst=/d" "type=volume,src=v" \
                "type=bind,src=rel,dst=/d" "type=tmpfs,src=x,dst=/t" "type=volume,dst=/d,bogus=1" \
                "type=volume,dst=/d,readonly=maybe" "type=volume,dst=/"; do
        run bocker run --rm --mount "$spec" busybox true
        [ "$status" -eq 125 ] || fail "$spec: $status"
        [ "${#lines[@]}" -eq 1 ] || fail "$spec: $output"
    done
    [ ! -e "$BK_TMP/nosuch" ]
    run bocker ps -aq
    assert_output ""
}

@test "-a: only the named streams reach the terminal; -a with -d conflicts; a bad stream: 125" {
    run --separate-stderr bocker run --name att -a stdout busybox sh -c 'echo out; echo err >&2'
    assert_success
    assert_output out
    [ -z "$stderr" ]
    run --separate-stderr bocker logs att
    [ "$stderr" = err ]
    run --separate-stderr bocker run --rm -a STDERR busybox sh -c 'echo out; echo err >&2'
    [ -z "$output" ]
    [ "$stderr" = err ]
    run bocker run -d -a stdout busybox true
    [ "$status" -eq 125 ]
    assert_output --partial "Conflicting options: -a and -d"
    run bocker run -a stdcat busybox true
    [ "$status" -eq 125 ]
    assert_output --partial "valid streams are STDIN, STDOUT and STDERR"
    run bash -c "echo piped | '$BOCKER' run --rm -a stdin -a stdout busybox cat"
    assert_output piped
}

@test "--expose: Config.ExposedPorts (ranges, udp); a bad one: 125" {
    cid=$(bocker create --expose 80 --expose 53/udp --expose 8000-8001 busybox true)
    run bash -c "'$BOCKER' inspect $cid | jq -c '.[0].Config.ExposedPorts | keys'"
    assert_output '["53/udp","80/tcp","8000/tcp","8001/tcp"]'
    run bocker create --expose 80/xyz busybox true
    [ "$status" -eq 125 ]
    run bocker create --expose 0 busybox true
    [ "$status" -eq 125 ]
}

@test "-v SRC:DST:rw,Z and ro,z accepted; a bad option: 125, one line" {
    mkdir -p "$BK_TMP/vz"
    run bocker run --rm -v "$BK_TMP/vz:/vz:rw,Z" busybox sh -c 'echo w > /vz/w && echo ok'
    assert_output ok
    run bocker run --rm -v "$BK_TMP/vz:/vz:ro,z" busybox sh -c 'cat /vz/w; touch /vz/x'
    [ "$status" -ne 0 ]
    assert_line w
    run bocker run --rm -v "$BK_TMP/vz:/vz:rw,bogus" busybox true
    [ "$status" -eq 125 ]
    assert_output "bocker: invalid mode: bogus"
}

@test "-v of a missing host directory creates it (as Docker)" {
    [ ! -e "$BK_TMP/made/deep" ]
    run bocker run --rm -v "$BK_TMP/made/deep:/m" busybox sh -c 'echo x > /m/x && echo ok'
    assert_output ok
    [ -d "$BK_TMP/made/deep" ]
    [ "$(cat "$BK_TMP/made/deep/x")" = x ]
}

# verb x error -> exit code, for the new flags
@test "table: new flags' errors exit 125 on run and create" {
    while read -r flags; do
        for verb in run create; do
            run bocker $verb $flags busybox true
            [ "$status" -eq 125 ] || fail "$verb $flags: $status $output"
        done
    done <<EOT
--env-file /nonexistent/env
--label-file /nonexistent/labels
--pull nope
--platform windows/amd64
--mount type=x,dst=/d
-a nothing
--expose x
-v /tmp:/d:bad
--cidfile /nonexistent/dir/cid
EOT
    run bocker ps -aq
    assert_output ""
}

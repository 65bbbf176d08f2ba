#!/usr/bin/env bats
# Exit codes (docker's) and error messages: one line on stderr starting with "bocker: ".
#   the container's own code; 125 run's and create's own errors and any bad flag; 126 cannot
#   invoke; 127 not found; every other verb exits 1 when it refuses (cli.exit_code).

load helpers

setup_file() {
    bk_store_setup err 214
}

teardown_file() {
    bk_store_teardown
}

teardown() {
    bk_rm_all
}

@test "exit code 3 of the container is bocker's exit code" {
    run --separate-stderr bocker run --rm busybox sh -c 'exit 3'
    assert_failure 3
    [ -z "$stderr" ]
}

@test "exit codes up to 255 pass through" {
    run bocker run --rm busybox sh -c 'exit 255'
    assert_failure 255
    run bocker run --rm busybox sh -c 'exit 124'
    assert_failure 124
}

@test "125: unknown image (the pull from an unreachable registry fails)" {
    run --separate-stderr bocker run --rm "$BK_NO_IMAGE" true
    assert_failure 125
    bk_assert_pull_error
    bk_assert_clean
    run bocker ps -a -q
    assert_output ''
}

@test "125: bad flag (run, ps, a global one)" {
    run --separate-stderr bocker run --bogus busybox true
    assert_failure 125
    bk_assert_error_line 'bogus'
    run --separate-stderr bocker ps --bogus
    assert_failure 125
    bk_assert_error_line 'bogus'
    run --separate-stderr bocker --bogus ps
    assert_failure 125
    bk_assert_error_line 'bogus'
}

@test "125: unknown command; 1 and Docker's line: a missing argument" {
    run --separate-stderr bocker frobnicate
    assert_failure 125
    bk_assert_error_line
    run --separate-stderr bocker run
    assert_failure 1
    bk_assert_error_line '"bocker run" requires at least 1 argument.'
    run --separate-stderr bocker rm
    assert_failure 1
    bk_assert_error_line '"bocker rm" requires at least 1 argument.'
}

@test "125: bad container name" {
    for name in 'bad name' '-x' '_x' 'a/b' 'é'; do
        run --separate-stderr bocker run --rm --name "$name" busybox true
        assert_failure 125
        bk_assert_error_line
    done
    run bocker ps -a -q
    assert_output ''
}

@test "125: duplicate name; the first container is untouched" {
    bocker run --name dup busybox true
    id=$(bk_id dup)
    run --separate-stderr bocker run --name dup busybox true
    assert_failure 125
    bk_assert_error_line 'already in use'
    run bocker ps -aq --no-trunc
    assert_output "$id"
    bk_assert_clean
}

@test "125: two parallel runs with one name: exactly one wins" {
    pids=()
    for i in 1 2 3; do
        (rc=0; bocker run --name race busybox sleep 0.3 >/dev/null 2>&1 || rc=$?; echo $rc > "$BK_TMP/race$i.rc") 3>&- &
        pids+=($!)
    done
    # only these: bats' own timeout watcher is a background job of this shell too
    wait "${pids[@]}"
    run bash -c "cat '$BK_TMP'/race{1,2,3}.rc | sort | tr '\n' ' '"
    assert_output '0 125 125 '
    run bocker ps -a --format '.Names'
    assert_output race
    bk_assert_clean
}

@test "no store (BOCKER_ROOT is not a btrfs store), naming bocker setup: 125 for run, else 1" {
    mkdir -p "$BK_TMP/plain"
    for verb in ps images "run --rm busybox true" "rm x" "logs x" "inspect x" "rmi x"; do
        BOCKER_ROOT=$BK_TMP/plain run --separate-stderr bocker $verb
        if [ "$verb" = "${verb#run}" ]; then assert_failure 1; else assert_failure 125; fi
        bk_assert_error_line 'bocker setup'
        [ "${#stderr_lines[@]}" = 1 ]
    done
    # --root says the same, and a root that does not exist too
    run --separate-stderr bocker --root "$BK_TMP/does-not-exist" ps
    assert_failure 1
    bk_assert_error_line 'bocker setup'
    [ ! -e "$BK_TMP/does-not-exist" ]
}

@test "126: the command exists but is not executable (a file, a directory)" {
    run --separate-stderr bocker run --rm busybox /etc/passwd
    assert_failure 126
    bk_assert_error_line 'permission denied'
    run --separate-stderr bocker run --rm busybox /etc
    assert_failure 126
    bk_assert_error_line
}

@test "127: command not found (bare name and path)" {
    run -127 --separate-stderr bocker run --rm busybox nosuchcommand
    assert_failure 127
    bk_assert_error_line 'nosuchcommand'
    run -127 --separate-stderr bocker run --rm busybox /no/such/path
    assert_failure 127
    bk_assert_error_line '/no/such/path'
}

@test "a shell's own 127 and 126 inside the container are passed on as they are" {
    run -127 bocker run --rm busybox sh -c 'nosuchcommand'
    assert_failure 127
    run bocker run --rm busybox sh -c '/etc/passwd'
    assert_failure 126
}

@test "failed runs leave no cgroup, veth or lease behind (--rm and not)" {
    run -127 bocker run --rm busybox nosuchcommand
    assert_failure 127
    run bocker run --rm busybox /etc/passwd
    assert_failure 126
    run -127 bocker run --name failed busybox nosuchcommand
    assert_failure 127
    bk_assert_clean
    run bocker ps -a --format '.Names'
    assert_output failed
}

@test "errors never print a Python traceback" {
    for args in "rm nosuch" "inspect nosuch" "rmi nosuch" "logs nosuch" \
                "commit nosuch" "tag nosuch x" "init /nonexistent x" "run --rm --memory x busybox true" \
                "run --rm --cpus x busybox true" "run --rm --network x busybox true" "ps --format .[" \
                "run --rm -u nosuchuser busybox true" "run --rm -w /etc/passwd busybox true"; do
        run ! --separate-stderr bocker $args
        [[ "$stderr" != *Traceback* ]] || fail "traceback for '$args': $stderr"
        [[ "$stderr" == "bocker: "* ]] || fail "stderr of '$args' does not start with 'bocker: ': $stderr"
    done
}

@test "errors are one line (apart from argparse's 'See ... --help' hint)" {
    for args in "rm nosuch" "run --rm --name dup busybox nosuchcommand" \
                "run --rm --memory x busybox true" "ps --format {{if.ID}}x" "images --format .[" \
                "inspect --format .[ busybox"; do
        run ! --separate-stderr bocker $args
        other=$(printf '%s\n' "$stderr" | sed 1d | grep -v "^See 'bocker" || true)
        [ -z "$other" ] || fail "'bocker $args' printed more than one line: $stderr"
    done
}

@test "-w that is not a directory fails without running the command" {
    run --separate-stderr bocker run --rm -w /etc/passwd busybox echo ran
    assert_failure
    refute_output ran
    bk_assert_error_line
}

@test "--version and --help" {
    run bocker --version
    assert_success
    assert_output --regexp '^bocker version [0-9]+\.[0-9]+\.[0-9]+'
    run bocker --help
    assert_success
    for verb in setup teardown init images tag rmi commit inspect run ps logs rm; do
        assert_output --regexp "[[:space:]]$verb[[:space:]]"
    done
    run bocker run --help
    assert_success
    for flag in -e -w -u --name --rm --hostname --entrypoint --network --memory --cpus --pids-limit; do
        assert_output --partial -- "$flag"
    done
}

# verb × error -> code: Docker's CLI exits 1 when a verb other than run/create refuses
@test "exit codes per verb: refusals are 1, rm -f/rmi -f/volume rm -f of nothing are 0" {
    bocker create --name made busybox true >/dev/null
    while read -r code args; do
        run --separate-stderr bocker $args
        [ "$status" = "$code" ] || fail "bocker $args: exit $status, expected $code ($stderr)"
        # (run and create print docker's "Unable to find image" line first)
        [ "$code" = 0 ] || [[ $'\n'"$stderr" == *$'\n'"bocker: "* && "$stderr" != *Traceback* ]] ||
            fail "bocker $args: no 'bocker: ' line: $stderr"
        [ "$code" != 0 ] || [ -z "$stderr" ] || fail "bocker $args: $stderr"
    done <<EOF
1 logs nosuch
1 exec nosuch true
1 exec made true
1 commit nosuch
1 export nosuch
1 tag nosuch x:1
1 history nosuch
1 save nosuch
1 volume inspect nosuch
1 inspect nosuch
1 start nosuch
1 stop nosuch
1 kill nosuch
1 wait nosuch
1 pause nosuch
1 unpause nosuch
1 restart nosuch
1 rm nosuch
1 rmi nosuch
1 volume rm nosuch
0 rm -f nosuch
0 rmi -f nosuch
0 volume rm -f nosuch
1 logs
1 tag busybox
1 volume rm
125 create $BK_NO_IMAGE
125 run --rm $BK_NO_IMAGE true
125 ps --bogus
EOF
}

#!/bin/bash
# The whole test suite: pytest (tests/py) and bats (tests/bats), inside a leak check.
#
#   tests/run.sh                 # everything (what `make test` runs)
#   tests/run.sh tests/bats/run.bats ...   # only these bats files (pytest still runs)
#
# The whole run also runs the cgroup v2 smoke set: the tests of cgroupv2.bats tagged `smoke`, on a
# real v2 kernel in a TCG guest with one vCPU (scripts/test-v2.sh; `make test-v2` runs all of
# them), in the background while pytest and bats run on the host. BOCKER_TEST_V2=0 leaves it out.
#
# Exits non-zero if pytest, bats or the leak check fails. Needs root (it makes stores,
# bridges, cgroups). BATS_JOBS=N runs bats files in parallel (each file has its own store).
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "tests/run.sh: the tests make btrfs stores, bridges and cgroups: run as root" >&2
    exit 1
fi

start=$(date +%s)
snap=$(mktemp /tmp/bocker-leakcheck.XXXXXX)
trap 'rm -f "$snap"' EXIT
tests/leakcheck.sh snapshot "$snap"

v2_pid= v2_log=
if [ $# -eq 0 ] && [ "${BOCKER_TEST_V2:-1}" != 0 ]; then
    v2_log=$(mktemp /tmp/bocker-v2smoke.XXXXXX)
    echo "== cgroup v2 smoke: started in the background (its output: $v2_log)"
    V2_TAGS=smoke V2_SMP=1 V2_TIMEOUT=${V2_TIMEOUT:-1500} scripts/test-v2.sh tests/bats/cgroupv2.bats \
        > "$v2_log" 2>&1 < /dev/null &
    v2_pid=$!
fi
trap '[ -z "$v2_pid" ] || kill "$v2_pid" 2>/dev/null; rm -f "$snap" "${tap:-}" "$v2_log"' EXIT

echo "== pytest (tests/py)"
pytest_status=0
.venv/bin/pytest -q -rfE -p no:cacheprovider tests/py || pytest_status=$?

echo "== bats (tests/bats)"
bats_status=0
# a test that hangs (a background process holding bats' output pipe, say) fails after this long
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}
bats_args=()
if [ -n "${BATS_JOBS:-}" ] && [ "${BATS_JOBS}" -gt 1 ] && command -v parallel >/dev/null; then
    bats_args+=(--jobs "$BATS_JOBS" --no-parallelize-within-files)
fi
[ $# -gt 0 ] || set -- tests/bats
tap=$(mktemp /tmp/bocker-bats.XXXXXX)
bats --tap "${bats_args[@]}" "$@" | tee "$tap"
bats_status=${PIPESTATUS[0]}
bats_total=$(grep -cE '^(not )?ok ' "$tap")
bats_failed=$(grep -cE '^not ok ' "$tap")
bats_skipped=$(grep -cE '^ok .* # skip' "$tap")
echo "bats: $bats_total tests, $bats_failed failures, $bats_skipped skipped"
grep -E '^not ok ' "$tap" | sed 's/^/  /'

v2_status=skipped
if [ -n "$v2_pid" ]; then
    echo "== cgroup v2 smoke (tests/bats/cgroupv2.bats, tag smoke, in a TCG guest)"
    wait "$v2_pid" && v2_status=ok || v2_status="FAILED ($?)"
    v2_pid=
    tr -d '\r' < "$v2_log" | grep -aE '^(1\.\.|ok |not ok |#|guest:|test-v2:)'
fi

echo "== leak check"
leak_status=0
tests/leakcheck.sh compare "$snap" || leak_status=$?

elapsed=$(( $(date +%s) - start ))
echo "== summary: pytest $( [ $pytest_status = 0 ] && echo ok || echo "FAILED ($pytest_status)" )," \
     "bats $( [ $bats_status = 0 ] && echo ok || echo "FAILED ($bats_status)" )," \
     "cgroup v2 smoke $v2_status," \
     "leak check $( [ $leak_status = 0 ] && echo ok || echo FAILED ), ${elapsed}s"
[ $pytest_status = 0 ] && [ $bats_status = 0 ] && [ $leak_status = 0 ] && [ "${v2_status%% *}" != FAILED ]

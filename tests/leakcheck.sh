#!/bin/bash
# Leak check: record the host's kernel-visible state before a test run, compare after.
#
#   tests/leakcheck.sh snapshot FILE   # write the state to FILE
#   tests/leakcheck.sh compare FILE    # exit 1 (and show a diff) if the state differs from FILE
#
# The state: network links (names only), network namespaces, iptables rules (no counters, no
# comment lines with dates), mounts, loop devices, and the cgroup directories (v1 controllers
# and the v2 tree, three levels deep: controller / parent / container).
#
# LEAKCHECK_IGNORE, an extended regex, drops matching lines from both sides: for a host where
# someone else creates containers while the tests run (e.g. LEAKCHECK_IGNORE='bkdev|bocker-dev').
set -u

state() {
    echo "## links"
    ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
    echo "## netns"
    ip netns list 2>/dev/null | awk '{ print $1 }' | sort
    echo "## iptables"
    for table in filter nat mangle raw; do
        iptables-save -t "$table" 2>/dev/null | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$//'
    done
    echo "## mounts"
    awk '{ print $1, $2, $3 }' /proc/mounts | sort
    echo "## loop devices"
    losetup -n -l -O NAME,BACK-FILE 2>/dev/null | sort
    echo "## cgroups"
    # bocker's cgroups are all under its parent (BOCKER_CGROUP_PARENT: bocker, bocker-test-*);
    # the host's own (a sandbox's per-command groups, say) come and go on their own
    find /sys/fs/cgroup -maxdepth 3 -mindepth 1 -type d -path '*bocker*' 2>/dev/null | sort
}

filtered_state() {
    if [ -n "${LEAKCHECK_IGNORE:-}" ]; then
        state | grep -Ev -- "$LEAKCHECK_IGNORE"
    else
        state
    fi
}

case "${1:-}" in
    snapshot)
        [ -n "${2:-}" ] || { echo "usage: $0 snapshot FILE" >&2; exit 2; }
        filtered_state > "$2"
        ;;
    compare)
        [ -f "${2:-}" ] || { echo "usage: $0 compare FILE (made by snapshot)" >&2; exit 2; }
        now=$(mktemp)
        trap 'rm -f "$now"' EXIT
        filtered_state > "$now"
        if diff -u --label before --label after "$2" "$now"; then
            echo "leak check: host state unchanged (links, netns, iptables, mounts, loop devices, cgroups)"
        else
            echo "leak check: FAILED: the host state above differs from before the run" >&2
            exit 1
        fi
        ;;
    *)
        echo "usage: $0 snapshot FILE | compare FILE" >&2
        exit 2
        ;;
esac

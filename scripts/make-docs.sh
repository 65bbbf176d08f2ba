#!/bin/sh
# Regenerate README.md's command table from the argument parser, and its "How a container is
# made" from a real traced run, so neither can drift from the code. The run is in a private,
# temporary store, bridge and subnet, removed afterwards.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
# the command table (and what is not supported): `bocker _docs` walks the parser
"$here/bocker.py" _docs > "$tmp/commands.md"
{
    sed '/<!-- commands:begin/q' "$here/README.md"
    cat "$tmp/commands.md"
    sed -n '/<!-- commands:end -->/,$p' "$here/README.md"
} > "$tmp/README.commands"
cp "$tmp/README.commands" "$here/README.md"
echo "README.md: command table regenerated ($(grep -c '^| `' "$tmp/commands.md") verbs)"
[ "${DOCS_TABLE_ONLY:-}" = 1 ] && { rm -rf "$tmp"; exit 0; }
export BOCKER_ROOT="$tmp/store" BOCKER_BRIDGE=bkdocs0 BOCKER_SUBNET=10.250.0.0/24 \
       BOCKER_CGROUP_PARENT=bocker-docs BOCKER_STORE_SIZE=1G
cleanup() {
    "$here/bocker.py" teardown --store >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$here/bocker.py" setup >/dev/null
# the run itself; long ids and temp paths are shortened for reading
"$here/bocker.py" --trace run --rm busybox echo hi >"$tmp/out" 2>"$tmp/trace"
sed -e "s|$BOCKER_ROOT|/var/bocker|g" -e 's/\([0-9a-f]\{12\}\)[0-9a-f]\{52\}/\1…/g' \
    -e "s|$here|/opt/bocker|g" -e "s|^nameserver .*|nameserver ...  (the host's, less loopback ones)|" \
    "$tmp/trace" > "$tmp/trace.short"
{
    sed '/<!-- trace:begin -->/q' "$here/README.md"
    echo '```console'
    echo '# bocker --trace run --rm busybox echo hi'
    cat "$tmp/trace.short"
    cat "$tmp/out"
    echo '```'
    sed -n '/<!-- trace:end -->/,$p' "$here/README.md"
} > "$tmp/README.md"
cp "$tmp/README.md" "$here/README.md"
echo "README.md: trace regenerated ($(wc -l < "$tmp/trace.short") lines)"

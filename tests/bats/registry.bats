#!/usr/bin/env bats
# pull, push, login/logout, save/load (with skopeo), import/export, history, search against a
# real docker-registry on 127.0.0.1 (a free port, storage in this file's temp dir).

load helpers

setup_file() {
    bk_store_setup reg 241
    if ! bocker pull --help >/dev/null 2>&1; then
        export BK_NO_VERBS=1
        return 0
    fi
    command -v docker-registry >/dev/null || { export BK_NO_REGISTRY=1; return 0; }
    BK_REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export BK_REG=127.0.0.1:$BK_REG_PORT
    cat > "$BK_TMP/registry.yml" <<EOF
{"version": 0.1, "log": {"level": "error"},
 "storage": {"filesystem": {"rootdirectory": "$BK_TMP/registry"}, "delete": {"enabled": true}},
 "http": {"addr": "$BK_REG"}}
EOF
    docker-registry serve "$BK_TMP/registry.yml" >"$BK_TMP/registry.log" 2>&1 &
    echo $! > "$BK_TMP/registry.pid"
    for _ in $(seq 100); do
        curl -fs "http://$BK_REG/v2/" >/dev/null && break
        sleep 0.1
    done
}

teardown_file() {
    if [ -n "${BK_TMP:-}" ] && [ -f "$BK_TMP/registry.pid" ]; then
        kill "$(cat "$BK_TMP/registry.pid")" 2>/dev/null || true
    fi
    bk_store_teardown
}

setup() {
    [ -z "${BK_NO_VERBS:-}" ] || skip "registry verbs are not registered in cli.py yet"
    [ -z "${BK_NO_REGISTRY:-}" ] || skip "docker-registry is not installed"
}

@test "push a local image, pull it back into a clean store: same id, same files" {
    run bocker tag busybox "$BK_REG/team/bb:1"
    assert_success
    run bocker push "$BK_REG/team/bb:1"
    assert_success
    assert_output --partial "Pushed"
    assert_output --regexp "1: digest: sha256:[0-9a-f]{64} size: [0-9]+"
    id=$(bocker inspect --format ".[0].Id" "$BK_REG/team/bb:1")
    run bocker rmi -f busybox:latest "$BK_REG/team/bb:1"   # untag, then the last tag: the image goes
    run bocker pull "$BK_REG/team/bb:1"
    assert_success
    assert_output --partial "Status: Downloaded newer image for $BK_REG/team/bb:1"
    assert_line "$BK_REG/team/bb:1"
    assert_equal "$(bocker inspect --format ".[0].Id" "$BK_REG/team/bb:1")" "$id"
    bocker tag "$BK_REG/team/bb:1" busybox:latest
    run bocker run --rm --network none "$BK_REG/team/bb:1" echo pulled-and-running
    assert_success
    assert_output "pulled-and-running"
    run bocker pull "$BK_REG/team/bb:1"
    assert_output --partial "Image is up to date"
}

@test "pushing again skips every blob; a second repository mounts them" {
    run bocker push "$BK_REG/team/bb:1"
    assert_success
    assert_output --partial "Layer already exists"
    refute_output --partial "Pushed"
    bocker tag "$BK_REG/team/bb:1" "$BK_REG/other/bb:1"
    run bocker push "$BK_REG/other/bb:1"
    assert_success
    assert_output --partial "Mounted from team/bb"
}

@test "pull by digest" {
    digest=$(bocker push -q "$BK_REG/team/bb:1" >/dev/null; curl -fsI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$BK_REG/v2/team/bb/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
    [ -n "$digest" ]
    run bocker pull "$BK_REG/team/bb@$digest"
    assert_success
    assert_output --partial "Digest: $digest"
}

@test "a missing image and a bad reference are clear errors (exit 1)" {
    run bocker pull "$BK_REG/team/nothing:1"
    assert_failure 1
    assert_output --partial "MANIFEST_UNKNOWN"
    run bocker pull "$BK_REG/UPPER/case"
    assert_failure 1
    assert_output --partial "invalid reference format"
}

@test "history shows IMAGE CREATED CREATED BY SIZE COMMENT" {
    run bocker history "$BK_REG/team/bb:1"
    assert_success
    assert_line --index 0 --regexp "^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$"
}

@test "save and load round trip (docker-archive, and oci-archive through skopeo)" {
    run bocker save -o "$BK_TMP/bb.tar" "$BK_REG/team/bb:1"
    assert_success
    tar tf "$BK_TMP/bb.tar" | grep -qx manifest.json
    bocker rmi -f "$BK_REG/team/bb:1" >/dev/null      # busybox:latest goes with it: same image
    run bocker load -i "$BK_TMP/bb.tar"
    assert_success
    assert_output --partial "Loaded image: $BK_REG/team/bb:1"
    bocker tag "$BK_REG/team/bb:1" busybox:latest
    command -v skopeo >/dev/null || skip "skopeo not installed"
    run bocker save --format oci-archive -o "$BK_TMP/bb-oci.tar" "$BK_REG/team/bb:1"
    assert_success
    skopeo copy -q "oci-archive:$BK_TMP/bb-oci.tar" "docker-archive:$BK_TMP/via-skopeo.tar:copied/bb:2"
    run bocker load < "$BK_TMP/via-skopeo.tar"
    assert_success
    assert_output --partial "Loaded image: copied/bb:2"
    run bocker run --rm --network none copied/bb:2 echo loaded
    assert_output "loaded"
}

@test "export a container, import the tar as an image" {
    run bocker run --name exp --network none busybox sh -c 'echo exported > /marker'
    assert_success
    run bocker export -o "$BK_TMP/exp.tar" exp
    assert_success
    tar tf "$BK_TMP/exp.tar" | grep -qx marker
    run bocker import "$BK_TMP/exp.tar" imported:1
    assert_success
    run bocker run --rm --network none imported:1 cat /marker
    assert_output "exported"
    bocker rm exp >/dev/null
}

@test "import refuses a tar that escapes the rootfs" {
    python3 - "$BK_TMP/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tf:
    ti = tarfile.TarInfo("../../../tmp/bocker-bats-escape")
    ti.size = 4
    tf.addfile(ti, io.BytesIO(b"pwnd"))
EOF
    run bocker import "$BK_TMP/evil.tar" evil:1
    assert_failure 1
    assert_output --partial "outside the rootfs"
    [ ! -e /tmp/bocker-bats-escape ]
}

@test "login/logout write and clean auth.json (mode 0600); search lists the catalog" {
    run bocker login -u me --password-stdin "$BK_REG" <<< "secret"
    assert_success
    assert_output "Login Succeeded"
    [ "$(stat -c %a "$BOCKER_ROOT/auth.json")" = 600 ]
    run bocker logout "$BK_REG"
    assert_output --partial "Removing login credentials"
    run bocker search --registry "$BK_REG" bb
    assert_success
    assert_output --partial "$BK_REG/team/bb"
}

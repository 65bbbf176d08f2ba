#!/usr/bin/env bats
# Images and registries of issue 15: pull by digest keeps the repository, schema 1 refused as
# such, pull --platform of a one-platform image, pull -q, save -o into a missing directory,
# history's CREATED BY. A real docker-registry on 127.0.0.1 and a fake one (schema 1).

load helpers

setup_file() {
    export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
    export http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
    bk_store_setup clireg 249
    command -v docker-registry >/dev/null || { export BK_NO_REGISTRY=1; return 0; }
    BK_REG=127.0.0.1:$(free_port)
    export BK_REG
    printf '{"version": 0.1, "log": {"level": "error"}, "storage": {"filesystem": {"rootdirectory": "%s"}}, "http": {"addr": "%s"}}\n' \
        "$BK_TMP/registry" "$BK_REG" > "$BK_TMP/registry.yml"
    docker-registry serve "$BK_TMP/registry.yml" >"$BK_TMP/registry.log" 2>&1 &
    echo $! > "$BK_TMP/registry.pid"
    for _ in $(seq 100); do
        curl -fs "http://$BK_REG/v2/" >/dev/null && break
        sleep 0.1
    done
    bocker tag busybox "$BK_REG/cli/bb:1"
    bocker push -q "$BK_REG/cli/bb:1" >/dev/null
}

teardown_file() {
    local f
    for f in registry.pid fake.pid; do
        if [ -n "${BK_TMP:-}" ] && [ -f "$BK_TMP/$f" ]; then
            kill "$(cat "$BK_TMP/$f")" 2>/dev/null || true
        fi
    done
    bk_store_teardown
}

setup() {
    [ -z "${BK_NO_REGISTRY:-}" ] || skip "docker-registry is not installed"
}

manifest_digest() {
    curl -fsI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$BK_REG/v2/$1/manifests/$2" |
        tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}

@test "pull by digest keeps the repository: REPO <none>, images --digests shows it, run by digest" {
    digest=$(manifest_digest cli/bb 1)
    [ -n "$digest" ]
    bocker rmi "$BK_REG/cli/bb:1" >/dev/null   # (busybox:latest keeps the image)
    run bocker pull "$BK_REG/cli/bb@$digest"
    assert_success
    run bocker images --format '{{.Repository}} {{.Tag}} {{.Digest}}' "$BK_REG/cli/bb"
    assert_output "$BK_REG/cli/bb <none> $digest"
    run bocker images --digests "$BK_REG/cli/bb"
    assert_line --index 1 --regexp "^$BK_REG/cli/bb +<none> +$digest +[0-9a-f]{12} "
    run bocker run --rm "$BK_REG/cli/bb@$digest" echo by-digest
    assert_output by-digest
    bocker tag busybox "$BK_REG/cli/bb:1"
}

@test "pull -q prints the reference only" {
    run --separate-stderr bocker pull -q "$BK_REG/cli/bb:1"
    assert_success
    assert_output "$BK_REG/cli/bb:1"
    [ -z "$stderr" ]
}

@test "pull --platform of a one-platform image that lacks it: refused, 1, nothing added" {
    before=$(bocker images -q | sort)
    run bocker pull --platform linux/arm64 "$BK_REG/cli/bb:1"
    [ "$status" -eq 1 ]
    assert_output --partial "does not match the specified platform: wanted linux/arm64, actual: linux/amd64"
    [ "$(bocker images -q | sort)" = "$before" ]
    run bocker pull -q --platform linux/amd64 "$BK_REG/cli/bb:1"
    assert_success
}

@test "a Docker schema 1 manifest is refused as such (before any digest check)" {
    port=$(free_port)
    cat > "$BK_TMP/fake.py" <<'PY'
import http.server, json, sys
BODY = json.dumps({"schemaVersion": 1, "name": "old/img", "tag": "1", "architecture": "amd64",
                   "fsLayers": [], "history": [], "signatures": [{"header": {}}]}).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        if "/manifests/" in self.path:
            self.send_header("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")
            self.send_header("Docker-Content-Digest", "sha256:" + "0" * 64)   # (signed: never the body's hash)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
    do_HEAD = do_GET
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    python3 "$BK_TMP/fake.py" "$port" &
    echo $! > "$BK_TMP/fake.pid"
    for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
    run bocker pull "127.0.0.1:$port/old/img:1"
    [ "$status" -eq 1 ]
    assert_output --partial "schema 1"
    refute_output --partial "digest mismatch"
    run bocker pull "127.0.0.1:$port/old/img@sha256:$(printf '1%.0s' $(seq 64))"
    assert_output --partial "schema 1"
    kill "$(cat "$BK_TMP/fake.pid")"
    rm -f "$BK_TMP/fake.pid"
}

@test "save -o into a missing directory: one clear line, 1, nothing written" {
    ls "$BOCKER_ROOT/layers" > "$BK_TMP/layers.before"
    run bocker save -o "$BK_TMP/no/such/dir/bb.tar" busybox
    [ "$status" -eq 1 ]
    assert_output "bocker: failed to save image: invalid output path: directory \"$BK_TMP/no/such/dir\" does not exist"
    [ ! -e "$BK_TMP/no" ]
    diff <(ls "$BOCKER_ROOT/layers") "$BK_TMP/layers.before"
    run bocker save --format oci-dir -o "$BK_TMP/no/such/out" busybox
    [ "$status" -eq 1 ]
    [ ! -e "$BK_TMP/no" ]
}

@test "history: Docker's CREATED BY (/bin/sh -c #(nop)  CMD [\"sh\"]); the files' row has the size" {
    run bocker history --no-trunc --format '{{.CreatedBy}}' busybox
    assert_line --index 0 '/bin/sh -c #(nop)  CMD ["sh"]'
    assert_line --index 1 --regexp '^/bin/sh -c #\(nop\) ADD dir:/.* in / $'
    run bocker history busybox
    assert_line --index 1 --regexp '^[0-9a-f]{12} +.* ago +/bin/sh -c #\(nop\)  CMD \["sh"\] +0B *$'
    assert_line --index 2 --regexp '^<missing> +.* ago +/bin/sh -c #\(nop\) ADD dir:.* +[0-9.]+MB *$'
}

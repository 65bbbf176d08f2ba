#!/usr/bin/env bats
# build, continued: ONBUILD triggers, image ids fixed when an image is made (commit, build, import),
# a built image through a real docker-registry and skopeo, Ctrl-C during a RUN.

load helpers

setup_file() {
    bk_store_setup bldi 238
}

teardown_file() {
    if [ -n "${BK_TMP:-}" ] && [ -f "$BK_TMP/registry.pid" ]; then
        kill "$(cat "$BK_TMP/registry.pid")" 2>/dev/null || true
    fi
    bk_store_teardown
}

setup() {
    CTX=$(mktemp -d "$BK_TMP/ctx.XXXXXX")
}

teardown() {
    bk_rm_all
    rm -rf "$CTX"
}

@test "build: ONBUILD triggers are recorded, fire in a child build right after FROM, not in a grandchild" {
    mkdir "$CTX/parent" "$CTX/child" "$CTX/grand"
    cat > "$CTX/parent/Dockerfile" <<'DF'
FROM busybox
ONBUILD RUN echo fired >> /triggers
ONBUILD ENV FROM_TRIGGER=yes
RUN echo parent-step
DF
    run bocker build -t ob:parent "$CTX/parent"
    assert_success
    refute_line "# Executing 2 build triggers"
    run bocker inspect --format '.[0].Config.OnBuild' ob:parent
    assert_output '["RUN echo fired >> /triggers", "ENV FROM_TRIGGER=yes"]'
    run bocker run --rm ob:parent sh -c 'cat /triggers 2>&1'
    assert_output --partial "No such file"

    printf 'FROM ob:parent\nRUN echo "child sees ${FROM_TRIGGER:-nothing}" >> /triggers\n' > "$CTX/child/Dockerfile"
    run bocker build -t ob:child "$CTX/child"
    assert_success
    assert_line "Step 1/2 : FROM ob:parent"
    assert_line "# Executing 2 build triggers"
    run bocker run --rm ob:child cat /triggers
    assert_output "$(printf 'fired\nchild sees yes')"
    run bocker inspect --format '.[0].Config.OnBuild' ob:child
    assert_output null

    printf 'FROM ob:child\nRUN echo grandchild >> /triggers\n' > "$CTX/grand/Dockerfile"
    run bocker build -t ob:grand "$CTX/grand"
    assert_success
    refute_line --partial "build trigger"
    run bocker run --rm ob:grand cat /triggers
    assert_output "$(printf 'fired\nchild sees yes\ngrandchild')"
}

# the diff_id of a full walk of both trees (the slow way), to check the btrfs-send-based layer
full_walk_diff_id() {
    python3 - "$REPO/lib" "$1" "$2" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from bocker import layers
hw = layers.HashWriter(None)
layers.diff(sys.argv[2], sys.argv[3], hw)
print(hw.digest())
PY
}

@test "commit: the layer is computed when the image is made (btrfs send), equal to a full tree walk; save/load keep the id" {
    base=$(bocker inspect --format '.[0].Id' busybox)
    bocker run --name chg --network none busybox sh -c '
        echo more >> /etc/passwd; mkdir -p /new/deep; echo x > /new/deep/f; ln /new/deep/f /new/hard
        rm /bin/ls; mv /var/www /var/web; chmod 700 /home; ln -s /etc/passwd /lnk; mkfifo /fifo
        rm -r /tmp; echo file-now > /tmp; rmdir /usr/sbin; touch -d 2001-01-01 /etc/group'
    run bocker commit -m "many changes" chg chg:1
    assert_success
    id=${output#sha256:}
    run bocker inspect --format '.[0].RootFS.diff_ids | length' chg:1
    assert_output 2
    diff_id=$(bocker inspect --format '.[0].RootFS.diff_ids[1]' chg:1)
    assert_equal "$diff_id" "$(full_walk_diff_id "$BOCKER_ROOT/images/${base#sha256:}" "$BOCKER_ROOT/images/$id")"
    # history: the commit's row has its layer's real size (a tar of a few small entries)
    run bocker history --format json chg:1
    assert_success
    size=$(head -1 <<<"$output" | jq -r .Size)
    [ "$size" -gt 1024 ] && [ "$size" -lt 65536 ]
    # save and load (and so push) keep the id: nothing to compute any more
    bocker save -o "$BK_TMP/chg.tar" chg:1
    assert_equal "$(bocker inspect --format '.[0].Id' chg:1)" "sha256:$id"
    bocker rmi chg:1
    bocker rm chg
    run bocker load -i "$BK_TMP/chg.tar"
    assert_success
    assert_equal "$(bocker inspect --format '.[0].Id' chg:1)" "sha256:$id"
    run bocker run --rm --network none chg:1 sh -c 'cat /new/hard; cat /tmp; ls /var; test -e /bin/ls || echo no-ls'
    assert_output "$(printf 'x\nfile-now\nweb\nno-ls')"
    run bocker images --format json
    refute_output --partial '"Tag": "<none>"'
    # a file with two names changed in place: both names carry the change (a full walk finds the other)
    bocker run --name chg2 --network none chg:1 sh -c 'echo changed >> /new/deep/f'
    id2=$(bocker commit chg2 chg:2)
    diff_id=$(bocker inspect --format '.[0].RootFS.diff_ids[2]' chg:2)
    assert_equal "$diff_id" "$(full_walk_diff_id "$BOCKER_ROOT/images/$id" "$BOCKER_ROOT/images/${id2#sha256:}")"
    bocker save -o "$BK_TMP/chg2.tar" chg:2
    bocker rm chg2
    bocker rmi chg:2 chg:1
    bocker load -i "$BK_TMP/chg2.tar"
    run bocker run --rm --network none chg:2 cat /new/hard
    assert_output "$(printf 'x\nchanged')"
}

@test "build: Ctrl-C during a RUN stops the build (exit 130) as a failure: no image, container, mount or cgroup left" {
    printf 'FROM busybox\nRUN echo kept > /kept\nRUN trap "" INT; echo started; sleep 120; echo never\n' > "$CTX/Dockerfile"
    before=$(ls -a "$BOCKER_ROOT/images" | sort)
    # its own process group, signalled as a whole: what a terminal's Ctrl-C does
    setsid "$BOCKER" build -t intr:1 "$CTX" > "$BK_TMP/intr.out" 2>&1 &
    pid=$!
    echo "$pid" >> "$BK_TMP/bg.pids"
    for _ in $(seq 600); do
        grep -qx started "$BK_TMP/intr.out" && break
        sleep 0.1
    done
    assert grep -qx started "$BK_TMP/intr.out"
    start=$SECONDS
    kill -INT -- "-$pid"
    code=0
    wait "$pid" || code=$?
    cat "$BK_TMP/intr.out"
    assert_equal "$code" 130
    [ $((SECONDS - start)) -lt 60 ]
    refute grep -qx never "$BK_TMP/intr.out"
    run bocker ps -aq
    assert_output ""
    run bocker inspect intr:1
    assert_failure
    # the cached first step is kept, nothing half-made: no work subvolume, no container, mount or cgroup
    after=$(ls -a "$BOCKER_ROOT/images" | sort)
    run comm -13 <(echo "$before") <(echo "$after")
    refute_output --partial ".build-"
    refute_output --partial ".layer-"
    assert_equal "$(ls "$BOCKER_ROOT/containers" | wc -l)" 0
    run grep -c "$BOCKER_ROOT/containers" /proc/mounts
    assert_output 0
    bk_assert_clean
    printf 'FROM busybox\nRUN echo kept > /kept\n' > "$CTX/Dockerfile"
    run bocker build "$CTX"
    assert_line " ---> Using cache"
}

# a docker-registry on 127.0.0.1 (a free port, storage in this file's temp dir), once per file
start_registry() {
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    if [ ! -f "$BK_TMP/registry.pid" ]; then
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        echo "127.0.0.1:$port" > "$BK_TMP/registry.addr"
        cat > "$BK_TMP/registry.yml" <<YML
{"version": 0.1, "log": {"level": "error"}, "storage": {"filesystem": {"rootdirectory": "$BK_TMP/registry"}},
 "http": {"addr": "127.0.0.1:$port"}}
YML
        docker-registry serve "$BK_TMP/registry.yml" >"$BK_TMP/registry.log" 2>&1 &
        echo $! > "$BK_TMP/registry.pid"
    fi
    REG=$(cat "$BK_TMP/registry.addr")
    wait_for curl -fs "http://$REG/v2/" -o /dev/null
}

@test "build: a built image pushed to the local registry keeps its id; skopeo copies it back with that id; pull runs it" {
    start_registry
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    echo from-context > "$CTX/f"
    printf 'FROM busybox\nCOPY f /f\nRUN echo built >> /f\nENV X=1\nCMD ["cat", "/f"]\n' > "$CTX/Dockerfile"
    id=$(bocker build -q -t "$REG/bld/app:1" "$CTX")
    run bocker push "$REG/bld/app:1"
    assert_success
    assert_equal "$(bocker inspect --format '.[0].Id' "$REG/bld/app:1")" "$id"
    skopeo copy -q --src-tls-verify=false "docker://$REG/bld/app:1" "oci:$BK_TMP/sk:app"
    manifest=$(jq -r '.manifests[0].digest' "$BK_TMP/sk/index.json")
    assert_equal "$(jq -r .config.digest "$BK_TMP/sk/blobs/sha256/${manifest#sha256:}")" "$id"
    # its layers: busybox's, the COPY's and the RUN's (ENV and CMD make none)
    assert_equal "$(jq '.layers | length' "$BK_TMP/sk/blobs/sha256/${manifest#sha256:}")" 3
    bocker rmi -f "$REG/bld/app:1"
    run bocker pull "$REG/bld/app:1"
    assert_success
    assert_equal "$(bocker inspect --format '.[0].Id' "$REG/bld/app:1")" "$id"
    run bocker run --rm --network none "$REG/bld/app:1"
    assert_output "$(printf 'from-context\nbuilt')"
}

@test "commit --trace shows how the layer is found: btrfs send of the changed paths; --dry-run prints it, makes nothing" {
    bocker run --name tr --network none busybox sh -c 'echo x > /x'
    run bocker --trace commit tr tr:1
    assert_success
    assert_line --regexp '^\+ btrfs send -q --no-data -f .*\.send -p .*/images/[0-9a-f]{64} .*/images/\.layer-[0-9a-f]+$'
    assert_line --regexp '^# tar of the paths btrfs send names against .*/images/[0-9a-f]{64} -> diff_id$'
    run bocker --dry-run commit tr tr:2
    assert_success
    assert_line --regexp '^btrfs send -q --no-data -f .*\.send -p .*/images/[0-9a-f]{64} .*/images/\.layer-[0-9a-f]+$'
    run bocker inspect tr:2
    assert_failure
}

@test "build: \${VAR#pattern}, \${VAR%%pattern}, \${VAR//a/b} in ENV, WORKDIR and COPY, as BuildKit" {
    echo data > "$CTX/app-1.2.txt"
    cat > "$CTX/Dockerfile" <<'DF'
FROM busybox
ARG VERSION=v1.2.3-rc1
ENV NUM=${VERSION#v} MAJOR=${VERSION%%.*} DASHED=${VERSION//./-}
WORKDIR /opt/${VERSION%-*}
COPY app-${NUM%.*}.txt ./
CMD ["sh", "-c", "echo $NUM $MAJOR $DASHED; pwd; ls"]
DF
    run bocker build -t pat:1 "$CTX"
    assert_success
    run bocker run --rm --network none pat:1
    assert_output "$(printf '1.2.3-rc1 v1 v1-2-3-rc1\n/opt/v1.2.3\napp-1.2.txt')"
}

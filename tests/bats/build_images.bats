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

#!/usr/bin/env bats
# build: Dockerfiles from the busybox image, offline; every step a snapshot, cached by its key.

load helpers

setup_file() {
    bk_store_setup bld 242
}

teardown_file() {
    bk_store_teardown
}

setup() {
    CTX=$(mktemp -d "$BK_TMP/ctx.XXXXXX")
}

teardown() {
    bk_rm_all
    rm -rf "$CTX"
}

@test "build: FROM, RUN, COPY, ENV, WORKDIR, CMD; the result runs with its config" {
    echo hello > "$CTX/greeting.txt"
    cat > "$CTX/Dockerfile" <<'DF'
FROM busybox
ENV WHO=world
WORKDIR /app
COPY greeting.txt ./
RUN echo "built for $WHO" > /app/built.txt && echo step-output
CMD ["sh", "-c", "cat greeting.txt built.txt; pwd; echo $WHO"]
DF
    run bocker build -t app:1 "$CTX"
    assert_success
    assert_line "Step 1/6 : FROM busybox"
    assert_line "Step 5/6 : RUN echo \"built for \$WHO\" > /app/built.txt && echo step-output"
    assert_line step-output
    assert_line --regexp '^ ---> Running in [0-9a-f]{12}$'
    assert_line --regexp '^Successfully built [0-9a-f]{12}$'
    assert_line "Successfully tagged app:1"
    run bocker run --rm app:1
    assert_success
    assert_output "$(printf 'hello\nbuilt for world\n/app\nworld')"
    run bocker ps -aq
    assert_output ""
}

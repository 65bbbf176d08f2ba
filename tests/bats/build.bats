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

@test "build: a rebuild uses the cache; a changed COPY source invalidates exactly from its step" {
    echo one > "$CTX/a.txt"
    echo same > "$CTX/b.txt"
    cat > "$CTX/Dockerfile" <<'DF'
FROM busybox
RUN echo first > /first
COPY a.txt /a.txt
RUN cat /a.txt > /copy
COPY b.txt /b.txt
DF
    first=$(bocker build -q "$CTX")
    run bocker build "$CTX"
    assert_success
    refute_line --partial "Running in"
    assert_equal "$(grep -c -- '---> Using cache' <<<"$output")" 4
    assert_line "Successfully built ${first:7:12}"
    echo two > "$CTX/a.txt"
    run bocker build -t cached:2 "$CTX"
    assert_success
    assert_equal "$(grep -c -- '---> Using cache' <<<"$output")" 1
    assert_equal "$(grep -c -- '---> Running in' <<<"$output")" 1
    run bocker run --rm cached:2 cat /copy
    assert_output two
    run bocker build --no-cache "$CTX"
    refute_line --partial "Using cache"
}

@test "build: a failing RUN stops with its code, exit 1, and leaves no container" {
    printf 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n' > "$CTX/Dockerfile"
    run bocker build -t bad:1 "$CTX"
    assert_failure 1
    assert_line "bocker: The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    refute_line never
    run bocker ps -aq
    assert_output ""
    run bocker images --format '.Repository + ":" + .Tag'
    refute_line bad:1
    run ls "$BOCKER_ROOT/images"
    refute_output --partial ".build-"
}

@test "build: a parse error names its line, exit 125, nothing built" {
    printf 'FROM busybox\nRUN true\nFROBNICATE x\n' > "$CTX/Dockerfile"
    run bocker build "$CTX"
    assert_failure 125
    assert_output --partial "Dockerfile:3:"
    refute_line --partial "Step 1"
}

@test "build: no COPY source may leave the context (.., a symlink out)" {
    printf 'FROM busybox\nCOPY ../outside /x\n' > "$CTX/Dockerfile"
    run bocker build "$CTX"
    assert_failure
    assert_output --partial "forbidden path outside the build context: ../outside"
    ln -s /etc/passwd "$CTX/link"
    printf 'FROM busybox\nCOPY link /x\n' > "$CTX/Dockerfile"
    run bocker build "$CTX"
    assert_failure
    assert_output --partial "forbidden path outside the build context: link"
}

@test "build -: the Dockerfile from stdin, no context; -q prints only the id; --iidfile" {
    run bash -c "printf 'FROM busybox\nLABEL a=b\nCMD [\"echo\", \"from-stdin\"]\n' | $BOCKER build -q --iidfile $CTX/id -t stdin:1 -"
    assert_success
    assert_output --regexp '^sha256:[0-9a-f]{64}$'
    assert_equal "$(cat "$CTX/id")" "$output"
    run bocker run --rm stdin:1
    assert_output from-stdin
    run bocker inspect --format '.[0].Config.Labels.a' stdin:1
    assert_output b
}

@test "build: multi-stage, COPY --from a stage, --target, only the final stage tagged" {
    cat > "$CTX/Dockerfile" <<'DF'
FROM busybox AS make
RUN mkdir /out && echo artefact > /out/file
FROM busybox AS unused
RUN echo should-not-run
FROM scratch
COPY --from=make /bin/busybox /bin/busybox
COPY --from=make /out/ /data/
CMD ["/bin/busybox", "cat", "/data/file"]
DF
    run bocker build -t multi:1 "$CTX"
    assert_success
    refute_line should-not-run
    run bocker run --rm multi:1
    assert_output artefact
    run bocker build --target make -t multi:make "$CTX"
    assert_success
    assert_line "Step 1/2 : FROM busybox AS make"
    run bocker run --rm multi:make cat /out/file
    assert_output artefact
}

@test "build: ADD extracts a local tar; .dockerignore keeps files out; COPY --chown/--chmod" {
    mkdir -p "$CTX/src/sub" && echo inner > "$CTX/src/sub/f" && echo secret > "$CTX/src/secret.key"
    tar -C "$CTX/src" -cf "$CTX/t.tar" sub
    printf 'src/*.key\n' > "$CTX/.dockerignore"
    cat > "$CTX/Dockerfile" <<'DF'
FROM busybox
ADD t.tar /x/
COPY --chown=nobody:nogroup --chmod=0640 src /s
CMD ["sh", "-c", "cat /x/sub/f; ls /s; stat -c '%U %a' /s/sub/f"]
DF
    run bocker build -t add:1 "$CTX"
    assert_success
    run bocker run --rm add:1
    assert_output "$(printf 'inner\nsub\nnobody 640')"
}

@test "build: heredocs for RUN and COPY; a cache mount keeps its files across builds, not in the image" {
    cat > "$CTX/Dockerfile" <<'DF'
FROM busybox
COPY <<EOF /etc/motd
hello from a heredoc
EOF
RUN <<EOF
echo line1 > /h
echo line2 >> /h
EOF
RUN --mount=type=cache,target=/cache ls /cache; date +%N > /cache/stamp; echo "seen $(ls /cache)"
DF
    run bocker build -t here:1 "$CTX"
    assert_success
    assert_line "seen stamp"
    run bocker run --rm here:1 sh -c 'cat /etc/motd /h; ls -A /cache'
    assert_output "$(printf 'hello from a heredoc\nline1\nline2')"
    run bocker build --no-cache "$CTX"
    assert_success
    assert_line stamp
}

@test "build: ENTRYPOINT, USER, EXPOSE, VOLUME, STOPSIGNAL, LABEL, --label, --build-arg in the config" {
    cat > "$CTX/Dockerfile" <<'DF'
ARG BASE=busybox
FROM $BASE
ARG VERSION=1
LABEL version=$VERSION
EXPOSE 8080
VOLUME /data
STOPSIGNAL SIGINT
USER nobody
ENTRYPOINT ["echo", "entry"]
CMD ["arg"]
DF
    run bocker build --build-arg VERSION=7 --label extra=yes -t conf:1 "$CTX"
    assert_success
    run bocker inspect --format '.[0].Config | [.User, (.ExposedPorts|keys[0]), (.Volumes|keys[0]), .StopSignal, .Labels.version, .Labels.extra] | join(",")' conf:1
    assert_output "nobody,8080/tcp,/data,SIGINT,7,yes"
    run bocker run --rm conf:1
    assert_output "entry arg"
}

@test "build: the steps' images are intermediate: not listed by images, kept by image prune" {
    printf 'FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n' > "$CTX/Dockerfile"
    bocker build -q -t inter:1 "$CTX" >/dev/null
    parent=$(bocker inspect --format '.[0].Parent' inter:1)
    run bocker images -q --no-trunc
    refute_line --partial "$parent"
    bocker image prune -f >/dev/null
    run bocker build "$CTX"
    assert_equal "$(grep -c -- '---> Using cache' <<<"$output")" 2
}

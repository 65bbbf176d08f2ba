FROM --platform=linux/amd64 busybox AS base
FROM base
COPY --from=base --chown=1:1 --chmod=0755 --link /a /b
RUN --mount=type=cache,target=/root/.cache,id=pip --mount=type=bind,from=base,target=/src --network=none make
RUN --mount="type=bind,target=/a b" true
RUN -- --not-a-flag
ADD --keep-git-dir=true --checksum=sha256:00 src /dst
HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/

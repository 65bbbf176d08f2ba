# global ARGs come before the first FROM and serve FROM lines
ARG VERSION=1.36
ARG BASE
FROM busybox:${VERSION} AS Builder
ARG VERSION
MAINTAINER someone
WORKDIR /src
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK NONE
ONBUILD COPY . /app
FROM scratch as final
COPY --from=builder /src/app /app
COPY --from=0 /etc/passwd /etc/
FROM final

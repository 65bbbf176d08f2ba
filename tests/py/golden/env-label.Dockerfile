FROM busybox
ENV A=1 B="two words" C='single $quoted' D=esc\ aped
ENV LEGACY the rest of the line
ENV E= F=""
LABEL maintainer="me <me@example.com>" "quoted.key"=v version=1.0
LABEL legacy value with spaces
ARG NAME
ARG WITH=default OTHER="x y"
EXPOSE 80 53/udp 8000-8010

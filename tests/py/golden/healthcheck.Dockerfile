FROM busybox
HEALTHCHECK NONE
healthcheck none
HEALTHCHECK CMD true
HEALTHCHECK   CMD   wget -q -O- http://localhost/  
HEALTHCHECK --interval=10s --timeout=2s \
  --start-period=1s --start-interval=1s --retries=5 \
  CMD ["wget", "-q", "http://localhost/"]
HEALTHCHECK --retries=1 cmd [not, json]
HEALTHCHECK CMD ["/bin/check"] extra

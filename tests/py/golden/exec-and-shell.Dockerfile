FROM busybox
CMD ["echo", "a b", "c\"d"]
CMD [ "spaced" , "json" ]
CMD []
ENTRYPOINT ["/bin/ep"] extra
RUN [oops, not json
RUN echo "shell form" && ls
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
VOLUME ["/data", "/logs"]
VOLUME /a /b
COPY ["with space", "/dst dir/"]
ADD a.tar /opt/

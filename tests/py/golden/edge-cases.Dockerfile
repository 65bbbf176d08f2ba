FROM busybox:1.36

LABEL maintainer someone <someone@example.org>

ONBUILD RUN ["echo", "exec"]
ONBUILD run echo shell
ONBUILD COPY --chown=1:1 . /app
ONBUILD ENV A 1

# a comment ending in a backslash does not continue \
RUN ["ls", "-l"]
RUN ["echo", "'quoted'"]
RUN echo "double" && \
    echo 'single' && \
    echo bare
RUN    sh -c 'echo split \
        across lines'

# legacy ENV: one name, the rest is its value \
ENV FIRST 1 SECOND 2
ENV FIRST "1 SECOND 2"
CMD echo 'piped' | wc -c
expose 80
EXPOSE 443/tcp   53/udp
USER nobody
USER 1000:1000
VOLUME ["/one"]
VOLUME ["/one", "/two"]
VOLUME /three /four
WORKDIR /w
COPY -- --not-a-flag /w/
COPY --chown=0:0 -- a b
ADD . /

FROM busybox
# a backslash that escapes nothing special stays in shell forms and words
RUN printf '%s\n' \one && \
  echo \"two
COPY \src\\" /dst/
LABEL note Jo \\Bloggs "<jo@example.org>\"
CMD [ "\/bin\\\"/sh", "-c" ]
# an escaped backslash at the end ends the line (so do three)
ENV WIN_DIR C:\\temp\\
ENV NEXT not joined to WIN_DIR
RUN echo three \\\
RUN echo one \
\
  more
# blank continuation lines are skipped (with a warning)
RUN echo a \

   b \

c

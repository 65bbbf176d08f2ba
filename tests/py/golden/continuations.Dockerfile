from busybox
# instructions are case-insensitive and may be indented
   run echo one \
       two
RUN echo a \   
b
RUN apk add \
  # a comment inside a continued instruction is dropped
  curl \
     # and another, indented
  git

RUN echo before \

    after
Env  NAME  some value  
RUN echo at eof \

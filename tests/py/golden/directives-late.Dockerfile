# just a comment first

# escape=`
# syntax=ignored/late
FROM busybox
RUN echo \
  continues

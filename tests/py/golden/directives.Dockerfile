# syntax=docker/dockerfile:1.7
  #  CHECK = skip=all
# escape=\
FROM busybox

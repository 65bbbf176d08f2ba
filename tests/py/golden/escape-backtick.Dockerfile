# escape=`
FROM mcr.microsoft.com/windows/servercore
WORKDIR C:\windows\temp
RUN dir c:\ `
    && echo done
COPY C:\src\ C:\dst\
ENV P="a`"b" Q=c\d

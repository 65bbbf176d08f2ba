FROM busybox
RUN <<EOF
echo "hello $HOME"
	kept tab
EOF
RUN <<-EOT sh -e
	echo tabs stripped
	  EOT is not the end: only tabs are stripped
	EOT
COPY <<"EOF" /etc/literal
no $expansion here
EOF
COPY <<'A' <<B /dir/
first
A
second
B
RUN cat <<X > /x && 3<<Y cat <&3
x
X
y
Y
RUN ["sh", "-c", "cat <<EOF"]
RUN echo '<<NOT' << SPACED <<- NOT_EITHER
blanks after << are allowed
SPACED
ONBUILD RUN <<EOF
triggered
EOF

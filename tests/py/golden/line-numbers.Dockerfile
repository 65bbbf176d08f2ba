# syntax=docker/dockerfile:1


# a comment before the first instruction

FROM busybox


# the next instruction spans two lines
ENV P \
/p


# then one over blank lines and comments
RUN true \
	&& echo a \

# a comment inside
    && echo b \

	&& echo c




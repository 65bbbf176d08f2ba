FROM busybox
ENV K=v
ENV K="spaced value"
ENV K=escaped\ space
ENV K="outer 'inner' outer"
ENV K='outer "inner" outer'
ENV K=one\ two L=three\ four
ENV K="q\"q"
ENV K="q\'q"
ENV K='q\'q'
ENV K='q\"q'
ENV K="''"
ENV K=a=b=c L= M=""
ENV K=first \
    L=second \
    M="across \
       lines" \
	N="tab\tand\nliteral"
LABEL "key with spaces"="value" 'single'='q' plain=x\ y
ARG A B=1 C="" D='x y'

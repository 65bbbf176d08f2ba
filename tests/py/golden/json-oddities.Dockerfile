FROM busybox
# exec forms: empty strings, blanks and tabs anywhere, JSON escapes, non-ASCII
CMD [""]
CMD	[	"x"	,"y"	]	
ENTRYPOINT ["tab\tnl\nnul\u0000", "sl\/ash", "\u00e9t\u00e9", "€uro", "q\"b\\"]
ENTRYPOINT [ ]
# not JSON, so shell form (or words for COPY/ADD/VOLUME), never an error
CMD ['single', 'quoted']
CMD ["open", "bracket"
CMD ["open string]
CMD "[\"a string\"]"
ENTRYPOINT [NaN, Infinity]
RUN ["a"] ["b"]
VOLUME [/not, /json]
COPY [src dst]
ADD ["a", "b"] c

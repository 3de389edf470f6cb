#!/bin/sh
# checksrc.sh FILE... - the house style a machine can check: no banned
# functions, no // comments, no trailing white space, no spaces before a
# tab at the start of a line. Prints FILE:LINE: what; exits 1 if any.
status=0
for f in "$@"; do
	awk -v f="$f" '
	{
		code = $0
		gsub(/"([^"\\]|\\.)*"/, "\"\"", code)   # string literals out
		gsub(/\x27([^\x27\\]|\\.)*\x27/, "0", code)  # char literals out
	}
	/[ \t]+$/ { print f ":" NR ": trailing white space"; bad = 1 }
	/^ +\t/ { print f ":" NR ": spaces before a tab"; bad = 1 }
	code ~ /(^|[^:])\/\// { print f ":" NR ": // comment"; bad = 1 }
	code ~ /(^|[^_a-zA-Z0-9])(strcpy|strcat|sprintf|vsprintf|gets|system|popen)\(/ &&
	    f !~ /banned\.h$/ { print f ":" NR ": banned function"; bad = 1 }
	END { exit bad }
	' "$f" || status=1
done
exit $status

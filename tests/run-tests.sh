#!/bin/sh
# run-tests.sh [--update] BINARY [CASE...] - run the end-to-end cases in
# tests/cases/*.test against BINARY and print "ok"/"not ok" per case, then
# "N passed, N failed". With --update, rewrite the golden files that the
# cases name (review the diff like code).
#
# A case is a text file of sections, each starting with a line "%%NAME":
#   %%ARGS  arguments of one logtriage call (split on blanks, no quoting)
#   %%CMD   a shell script instead; 'logtriage' is on PATH, $SAMPLES and
#           $TESTS point at the source tree's samples/ and tests/
#   %%STDIN text fed to standard input
#   %%FILE name  a file created in the case's scratch directory
#   %%STDOUT     expected standard output (exact), or
#   %%STDOUT golden/NAME  expected output kept in tests/golden/NAME
#   %%STDERR     expected standard error (exact)
#   %%EXIT n     expected exit status (default 0)
# Sections not given are not compared, except EXIT. Every case runs in a
# fresh directory with TZ=UTC, LC_ALL=C and a pinned clock.
set -u
update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
top=$(cd "$(dirname "$0")/.." && pwd)
cases=${*:-$(ls "$top"/tests/cases/*.test)}
work=$(mktemp -d "${TMPDIR:-/tmp}/logtriage-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/logtriage"

export TZ=UTC LC_ALL=C NO_COLOR=1
export LOGTRIAGE_TEST_ELAPSED=0.25 LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z
export SAMPLES="$top/samples" TESTS="$top/tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

pass=0
fail=0
for c in $cases; do
	name=$(basename "$c" .test)
	dir="$work/$name"
	mkdir -p "$dir/sec" "$dir/run"
	# Split the case into section files: sec/ARGS, sec/CMD, sec/FILE.name...
	awk -v d="$dir/sec" '
		/^%%/ {
			if (out) close(out)
			split(substr($0, 3), f, " ")
			sec = f[1]; arg = f[2]
			if (sec == "FILE") out = d "/FILE." arg
			else if (sec == "STDOUT" && arg != "") {
				out = d "/STDOUT.golden"; print arg > out; close(out)
				out = "/dev/null"
			} else if (sec == "EXIT") {
				out = d "/EXIT"; print arg > out; close(out)
				out = "/dev/null"
			} else out = d "/" sec
			printf "" > out
			next
		}
		{ if (out) print > out }
	' "$c"
	for f in "$dir"/sec/FILE.*; do
		[ -e "$f" ] && cp "$f" "$dir/run/${f##*/FILE.}"
	done
	want_exit=0
	[ -f "$dir/sec/EXIT" ] && want_exit=$(cat "$dir/sec/EXIT")
	stdin=/dev/null
	[ -f "$dir/sec/STDIN" ] && stdin="$dir/sec/STDIN"
	if [ -f "$dir/sec/CMD" ]; then
		(cd "$dir/run" && PATH="$work/bin:$PATH" sh "$dir/sec/CMD" \
			<"$stdin" >"$dir/stdout" 2>"$dir/stderr")
	else
		# shellcheck disable=SC2046
		(cd "$dir/run" && "$bin" $(cat "$dir/sec/ARGS") \
			<"$stdin" >"$dir/stdout" 2>"$dir/stderr")
	fi
	got_exit=$?
	why=""
	if [ "$got_exit" != "$want_exit" ]; then
		why="exit $got_exit, want $want_exit"
	fi
	want_out=""
	if [ -f "$dir/sec/STDOUT.golden" ]; then
		want_out="$top/tests/$(cat "$dir/sec/STDOUT.golden")"
		if [ "$update" = 1 ]; then
			cp "$dir/stdout" "$want_out"
		fi
	elif [ -f "$dir/sec/STDOUT" ]; then
		want_out="$dir/sec/STDOUT"
	fi
	if [ -n "$want_out" ] && ! cmp -s "$dir/stdout" "$want_out"; then
		why="${why:+$why; }stdout differs"
		diff -u "$want_out" "$dir/stdout" | head -40 | sed 's/^/#   /'
	fi
	if [ -f "$dir/sec/STDERR" ] && ! cmp -s "$dir/stderr" "$dir/sec/STDERR"; then
		why="${why:+$why; }stderr differs"
		diff -u "$dir/sec/STDERR" "$dir/stderr" | head -20 | sed 's/^/#   /'
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "not ok - $name: $why"
		if [ ! -f "$dir/sec/STDERR" ] && [ -s "$dir/stderr" ]; then
			head -10 "$dir/stderr" | sed 's/^/#   stderr: /'
		fi
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

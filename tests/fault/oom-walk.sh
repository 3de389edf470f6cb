#!/bin/sh
# oom-walk.sh [--full | --stride K] - run a sample 'analyze' with the fault build
# (build/fault/logtriage-oom: ASan, UBSan and LeakSanitizer, with the
# allocation countdown of analyzer/diag.c) failing its N-th allocation,
# for N over the whole run. Each run must end the clean way: exit 1 and
# "logtriage: out of memory (allocating K bytes)" as the last line, no
# sanitizer report, and a database that passes PRAGMA integrity_check
# and still holds what an earlier run stored.
#
# The walk covers logtriage's own allocations (xmalloc, xcalloc,
# xrealloc, and buf.c, xstrdup and xmemdup through them). jansson, PCRE2,
# SQLite and zlib allocate with malloc() directly; their failures reach
# logtriage as error returns and are not walked here.
#
# Two runs are walked: 'analyze' of the gzip and JSON-lines samples into
# a new database, and a second 'analyze' that reads on (an appended line)
# into the database the first one made; each makes some 24,000
# allocations. Without options, 60 values of N per run are tried (the
# first 20 and 40 evenly apart: 'make check'); with --stride K, every
# K-th ('make check-full' walks every 16th: about 3,000 runs); with
# --full, every one ('make check-oom': about 48,000 runs, over an hour
# on two cores). Prints "ok"/"not ok" lines (only the failures when K is
# small) and "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/fault/logtriage-oom
full=0
stride=0
case "${1:-}" in
--full) full=1; stride=1 ;;
--stride) full=1; stride=${2:?--stride needs a number} ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/logtriage-oom.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export TZ=UTC LC_ALL=C
export LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z LOGTRIAGE_TEST_ELAPSED=0.25
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
unset LOGTRIAGE_FAIL_ALLOC LOGTRIAGE_COUNT_ALLOC
cd "$work" || exit 1
cp "$top/samples/railway-incident.log" app.log
pass=0
fail=0
no=0

# The database the second walk starts from, each time afresh.
"$bin" analyze -q --db base.db app.log >/dev/null 2>&1
printf '2026-02-24T11:00:00Z ERROR app: connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused\n' >>app.log
base_events=$(sqlite3 base.db "SELECT count(*) FROM events")

# prepare WALK: make the database the run starts from.
prepare() {
	rm -f t.db t.db-wal t.db-shm
	if [ "$1" = resume ]; then
		cp base.db t.db
	fi
}
# run WALK: the command walked.
run() {
	if [ "$1" = fresh ]; then
		"$bin" analyze -q --db t.db \
			"$top/samples/railway-incident.log.gz" \
			"$top/samples/railway-incident.jsonl"
	else
		"$bin" analyze -q --db t.db app.log
	fi
}

# How many allocations the whole run makes.
count() {
	prepare "$1"
	LOGTRIAGE_COUNT_ALLOC=1 run "$1" 2>&1 >/dev/null |
		sed -n 's/^logtriage: allocations: //p' | tail -n 1
}

# check WALK N: fail the N-th allocation, judge the outcome.
check() {
	prepare "$1"
	LOGTRIAGE_FAIL_ALLOC=$2 run "$1" >out.txt 2>err.txt
	rc=$?
	why=""
	last=$(tail -n 1 err.txt)
	if grep -q -E 'Sanitizer|runtime error|BUG:' err.txt; then
		why="sanitizer or BUG report"
	elif [ "$rc" != 1 ]; then
		why="exit $rc, want 1"
	elif ! echo "$last" | grep -q -E \
	     '^logtriage: out of memory \(allocating [0-9]+ bytes\)$'; then
		why="last line '$last'"
	fi
	if [ -f t.db ] && [ -s t.db ]; then
		ic=$(sqlite3 t.db "PRAGMA integrity_check" 2>&1)
		[ "$ic" = ok ] || why="${why:+$why; }integrity_check: $ic"
		if [ "$1" = resume ]; then
			ev=$(sqlite3 t.db "SELECT count(*) FROM events" 2>&1)
			[ "$ev" -ge "$base_events" ] 2>/dev/null ||
				why="${why:+$why; }stored events lost ($ev < $base_events)"
		fi
	fi
	no=$((no + 1))
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		[ "$full" = 1 ] || echo "ok $no - $1 run, allocation $2 fails: $last"
	else
		fail=$((fail + 1))
		echo "not ok $no - $1 run, allocation $2 fails: $why"
		head -20 err.txt | sed 's/^/#   /'
	fi
}

for walk in fresh resume; do
	total=$(count "$walk")
	if [ -z "$total" ] || [ "$total" -lt 1 ]; then
		no=$((no + 1))
		fail=$((fail + 1))
		echo "not ok $no - $walk run: cannot count its allocations"
		continue
	fi
	echo "# $walk run: $total allocations"
	if [ "$full" = 1 ]; then
		n=1
		while [ "$n" -le "$total" ]; do
			check "$walk" "$n"
			n=$((n + stride))
		done
		echo "# $walk run: allocations 1 to $total walked, every $stride"
	else
		for n in $(awk -v t="$total" 'BEGIN {
			for (i = 1; i <= 20 && i <= t; i++) print i
			for (i = 1; i <= 40; i++) {
				n = int(t * i / 40)
				if (n > 20) print n
			}
		}' | sort -n -u); do
			check "$walk" "$n"
		done
	fi
	# One past the end: the run must succeed untouched.
	prepare "$walk"
	no=$((no + 1))
	if LOGTRIAGE_FAIL_ALLOC=$((total + 1)) run "$walk" >/dev/null 2>err.txt; then
		pass=$((pass + 1))
		echo "ok $no - $walk run, allocation $((total + 1)) (none) fails: run completes"
	else
		fail=$((fail + 1))
		echo "not ok $no - $walk run completes when no allocation fails"
		head -5 err.txt | sed 's/^/#   /'
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

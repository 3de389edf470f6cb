#!/bin/sh
# kill-loop.sh BINARY N - kill -9 'logtriage analyze' at N random points
# of a run over a large input, re-run it plainly each time, and check
# that the database passes PRAGMA integrity_check and holds exactly what
# one uninterrupted run stores: the same events, metrics, templates,
# incidents and resume points (same rows, none missing, none twice).
# Every third kill point also kills the re-run once before the last run.
# Odd kill points are times (kill -9 from outside after a random delay);
# even ones, when build/fault/libfault.so is built, are exact: the run
# kills itself (SIGKILL) at a random byte of what it writes to the
# database files, so that kills land inside commits and checkpoints.
#
# Prints "ok N - ..." per kill point and "N passed, N failed". The input
# is the samples, repeated KILL_COPIES times (default 60: 23 MB, 28,800
# events, so a batch commit happens mid-run; 'make check-full' uses 120).
# KILL_SEED picks the points (printed, to repeat a failure).
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=${2:-5}
top=$(cd "$(dirname "$0")/../.." && pwd)
copies=${KILL_COPIES:-60}
seed=${KILL_SEED:-$(date +%s)}
work=$(mktemp -d "${TMPDIR:-/tmp}/logtriage-kill.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export TZ=UTC LC_ALL=C
export LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z LOGTRIAGE_TEST_ELAPSED=0.25
cd "$work" || exit 1

i=0
while [ "$i" -lt "$copies" ]; do
	cat "$top"/samples/*.log
	i=$((i + 1))
done > big.log

# What a database holds, in a canonical order (ids left out: they may
# differ between runs; everything else must not).
dump() {
	sqlite3 "$1" "
SELECT 'E', e.rule_id, e.severity, e.ts, e.ts_inferred, s.name, e.line_no,
       e.byte_offset, e.level, e.message, e.fields
  FROM events e JOIN sources s ON s.id = e.source_id
  ORDER BY s.name, e.line_no, e.rule_id;
SELECT 'M', m.ts, m.name, m.value, m.unit, s.name, m.line_no
  FROM metrics m JOIN sources s ON s.id = m.source_id
  ORDER BY s.name, m.line_no, m.name;
SELECT 'T', t.template, t.count, t.first_ts, t.last_ts, t.example,
       t.example_source, t.example_line,
       (SELECT group_concat(d.day || '=' || d.count, ',')
          FROM (SELECT * FROM template_days x WHERE x.template_id = t.id
                ORDER BY x.day) d)
  FROM templates t ORDER BY t.template;
SELECT 'S', name, identity, head_len, head_hash, size, compressed,
       bytes_read, lines_read, resume_ts, hex(rules_state) FROM sources
  ORDER BY name, identity;
SELECT 'I', id, start_ts, end_ts, severity, root_rule, title
  FROM incidents ORDER BY id;
"
}
# The counters a run adds up when it finishes (sources.records and the
# time counts): reported when they differ, not failed on.
counters() {
	sqlite3 "$1" "SELECT name, records, ts_parsed, ts_inferred, ts_missing,
	  cut_lines, capped_records FROM sources ORDER BY name"
}

shim=$top/build/fault/libfault.so
[ -f "$shim" ] || shim=""
start=$(date +%s)
if [ -n "$shim" ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
	LD_PRELOAD=$shim FAULT_FILE=ref.db FAULT_LOG=ref.log FAULT_COUNT=1 \
		"$bin" analyze -q --db ref.db big.log >ref.out 2>ref.err
else
	"$bin" analyze -q --db ref.db big.log >ref.out 2>ref.err
fi
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 5 ]; then
	echo "not ok 1 - reference run failed (exit $rc)"
	sed 's/^/#   /' ref.err
	echo "0 passed, 1 failed"
	exit 1
fi
secs=$(( $(date +%s) - start ))
[ "$secs" -lt 1 ] && secs=1
dump ref.db >ref.dump
counters ref.db >ref.counters
wrote=0
[ -n "$shim" ] && wrote=$(sed -n 's/^wrote fd -1 at \([0-9]*\):.*/\1/p' ref.log)
echo "# input: $(wc -c <big.log) bytes, $(grep -c '^E' ref.dump) events," \
     "reference run ${secs}s writing ${wrote:-0} bytes, seed $seed"

# Random kill delays, in milliseconds, within the reference run's time;
# more of them early, where the events are read and committed (the end
# of a run finds incidents over what is stored).
awk -v n="$n" -v seed="$seed" -v ms=$((secs * 1000)) -v wrote="${wrote:-0}" 'BEGIN {
	srand(seed)
	for (i = 0; i < n; i++) {
		r = rand()
		printf "%d %d\n", int(r * r * ms * 1.1) + 5, int(rand() * wrote)
	}
}' >delays

# run_killed_at DB BYTES: a run that kills itself (SIGKILL) once BYTES
# were written to the database files.
run_killed_at() {
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
	LD_PRELOAD=$shim FAULT_FILE="$1" FAULT_KILL_AFTER="$2" \
		"$bin" analyze -q --db "$1" big.log >/dev/null 2>>run.err
}

# run_killed DB DELAY_MS: start a run, kill -9 it after DELAY_MS.
run_killed() {
	"$bin" analyze -q --db "$1" big.log >/dev/null 2>>run.err &
	pid=$!
	sleep "$(awk -v d="$2" 'BEGIN { printf "%.3f", d / 1000 }')"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

pass=0
fail=0
k=0
while read -r delay at; do
	k=$((k + 1))
	rm -f t.db t.db-wal t.db-shm run.err
	if [ $((k % 2)) = 0 ] && [ -n "$shim" ] && [ "$wrote" -gt 0 ]; then
		run_killed_at t.db "$at"
		how="killed at byte $at of $wrote written"
	else
		run_killed t.db "$delay"
		how="killed at ${delay} ms"
	fi
	committed=0
	if [ -f t.db ]; then
		# Count from a copy: opening the original would recover it.
		rm -rf peek && mkdir peek && cp t.db* peek/ 2>/dev/null
		committed=$(sqlite3 peek/t.db "SELECT count(*) FROM events" \
			    2>/dev/null || echo "?")
	fi
	how="$how ($committed events committed)"
	if [ $((k % 3)) = 0 ]; then
		run_killed t.db $((delay / 2 + 5))
		how="$how, re-run killed at $((delay / 2 + 5)) ms"
	fi
	"$bin" analyze -q --db t.db big.log >/dev/null 2>>run.err
	rc=$?
	why=""
	if [ "$rc" != 0 ] && [ "$rc" != 5 ]; then
		why="re-run exit $rc"
	fi
	ic=$(sqlite3 t.db "PRAGMA integrity_check" 2>&1)
	if [ "$ic" != ok ]; then
		why="${why:+$why; }integrity_check: $ic"
	fi
	dump t.db >t.dump 2>&1
	if ! cmp -s ref.dump t.dump; then
		why="${why:+$why; }contents differ from one uninterrupted run"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "ok $k - $how; re-run complete and consistent"
	else
		fail=$((fail + 1))
		echo "not ok $k - $how: $why"
		diff ref.dump t.dump | head -10 | cut -c1-200 | sed 's/^/#   /'
		sed 's/^/#   stderr: /' run.err | head -5
	fi
	counters t.db >t.counters
	if ! cmp -s ref.counters t.counters; then
		echo "#   note: per-source counters differ from one run:"
		diff ref.counters t.counters | sed 's/^/#     /'
	fi
done <delays
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

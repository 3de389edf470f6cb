#!/bin/sh
# bench.sh - what 'make bench' runs: generate the benchmark inputs (once
# per size), run logtriage and the reference commands alternately, and
# print a table with the ratios and a verdict per target of the
# performance requirements. Not a test: 'make check' never runs it.
#
#   sh tools/bench/bench.sh [LOGTRIAGE]
#
# Environment: BENCH_MB (plain export size in 10^6 bytes, default 1000),
# BENCH_RUNS (runs of each command, default 3; the median counts),
# BENCH_DIR (default build/bench), BENCH_RSS4X=0 to skip the 4x-stream
# memory runs. Needs the helpers the Makefile builds in BENCH_DIR, grep,
# gzip, zcat, cat, sqlite3.
#
# Inputs (all deterministic; regenerated when BENCH_MB or the generator
# changes):
#   plain.log      Railway-style export, ~0.5% of lines in symptom bursts
#   plain.log.gz   the same, gzip -6
#   export.jsonl   'railway logs --json' of the same kind of stream,
#                  BENCH_MB/2
#   events.log     event-heavy: ~10% of lines classified, BENCH_MB/4 (27%
#                  of its lines are in bursts, whose lines are ~38% events)
#   rules5x/       synthetic rule files, 4x the built-in count, for --rules
#   patterns.txt   the built-in rules' patterns in ERE for grep -E -f
#                  (see tools/bench/ere.c for the translation)
#
# Reference commands: grep -c -E -f over the same patterns, cat, zcat;
# for the event-heavy input, sqlite3 copying the rows that run stored
# into a new database of the same schema (copy_setup below): what SQLite
# alone costs to store them, the floor under any analyzer's events/s.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
LT=${1:-./logtriage}
MB=${BENCH_MB:-1000}
RUNS=${BENCH_RUNS:-3}
D=${BENCH_DIR:-build/bench}
RSS4X=${BENCH_RSS4X:-1}
GEN=$D/bench-gen
ERE=$D/bench-ere
RS=$D/bench-runstat
export LC_ALL=C TZ=UTC

case $RUNS in
''|*[!0-9]*|0) echo "bench: BENCH_RUNS must be a number of at least 1" >&2; exit 1 ;;
esac
case $MB in
''|*[!0-9.]*) MB=0 ;;
esac
awk -v m="$MB" 'BEGIN { exit !(m + 0 > 0) }' ||
	{ echo "bench: BENCH_MB must be a positive number" >&2; exit 1; }
for t in "$LT" "$GEN" "$ERE" "$RS"; do
	[ -x "$t" ] || { echo "bench: '$t' is missing; run 'make bench'" >&2; exit 1; }
done
for c in grep gzip zcat sqlite3 awk; do
	command -v "$c" >/dev/null 2>&1 ||
		{ echo "bench: '$c' is missing; run 'make deps'" >&2; exit 1; }
done

# ---- inputs -------------------------------------------------------------

nrules=$(ls rules/*.json | wc -l)
stamp="mb=$MB gen=$(cksum < "$GEN" | cut -d' ' -f1) ere=$(cksum < "$ERE" | cut -d' ' -f1) rules=$(cat rules/*.json | cksum | cut -d' ' -f1)"
if [ ! -f "$D/inputs.stamp" ] || [ "$(cat "$D/inputs.stamp")" != "$stamp" ]; then
	echo "bench: generating inputs in $D (BENCH_MB=$MB), once"
	rm -rf "$D/rules5x" "$D/inputs.stamp"
	"$GEN" text "$MB" 0.005 > "$D/plain.log"
	gzip -6 -n -c "$D/plain.log" > "$D/plain.log.gz"
	"$GEN" json "$(awk "BEGIN { print $MB / 2 }")" 0.005 > "$D/export.jsonl"
	"$GEN" text "$(awk "BEGIN { print $MB / 4 }")" 0.27 > "$D/events.log"
	"$GEN" rules "$((nrules * 4))" "$D/rules5x" 2>/dev/null
	"$ERE" rules/*.json > "$D/patterns.txt"
	"$ERE" rules/*.json "$D"/rules5x/*.json > "$D/patterns5x.txt"
	for f in plain.log export.jsonl events.log; do
		printf '%s %s %s\n' "$f" "$(wc -c < "$D/$f")" \
			"$(wc -l < "$D/$f")"
	done > "$D/inputs.sizes"
	echo "$stamp" > "$D/inputs.stamp"
fi
"$LT" rules check "$D/rules5x" >/dev/null 2>&1 ||
	{ echo "bench: synthetic rules do not load" >&2; exit 1; }

size_of() { awk -v f="$1" '$1 == f { print $2 }' "$D/inputs.sizes"; }
lines_of() { awk -v f="$1" '$1 == f { print $3 }' "$D/inputs.sizes"; }

# ---- running ------------------------------------------------------------

res=$D/results.txt
: > "$res"

# run NAME [runstat options] -- COMMAND...: one timed run, appended to
# results as "NAME wall user sys rss_kib events".
run() {
	name=$1
	shift
	rm -f "$D/bench.db" "$D/bench.db-wal" "$D/bench.db-shm"
	line=$("$RS" "$@") || { echo "bench: '$name' failed: $line" >&2; exit 1; }
	ev=0
	if [ -f "$D/bench.db" ]; then
		ev=$(sqlite3 "$D/bench.db" "SELECT count(*) FROM events")
	fi
	echo "$line" | awk -v n="$name" -v ev="$ev" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print n, v["wall"], v["user"], v["sys"], v["maxrss_kib"], ev
	}' >> "$res"
}

# The floor of storing for the event-heavy target: sqlite3 alone inserts
# the rows the last events.log run stored (every table) into a new
# database with the same schema, page size, cache, journal and foreign
# key settings, one INSERT ... SELECT per table: no parsing, no binding,
# no statement per row, and one transaction where analyze commits every
# 20,000 events. As in analyze, the incident links go in a transaction of
# their own without foreign key checks. The 'WHERE 1' makes SQLite insert
# row by row, index entries and all, as every program storing rows does;
# without it, it copies the encoded rows and builds the indexes by
# sorting, a path open only to a copy between tables of the same shape.
copy_setup() {
	rm -f "$D/events-src.db"
	sqlite3 "$D/bench.db" "VACUUM INTO '$D/events-src.db'"
	{
		echo "PRAGMA page_size = $(sqlite3 "$D/events-src.db" \
			"PRAGMA page_size");"
		echo "PRAGMA journal_mode = WAL;"
		echo "PRAGMA synchronous = NORMAL;"
		echo "PRAGMA cache_size = -2000;"
		echo "PRAGMA foreign_keys = ON;"
		sqlite3 "$D/events-src.db" .schema
		echo "ATTACH '$D/events-src.db' AS s;"
		echo "BEGIN;"
		for t in $(sqlite3 "$D/events-src.db" "SELECT name FROM
		    sqlite_schema WHERE type = 'table' AND
		    name <> 'incident_events' ORDER BY rowid"); do
			echo "INSERT INTO main.$t SELECT * FROM s.$t WHERE 1;"
		done
		echo "COMMIT;"
		echo "PRAGMA foreign_keys = OFF;"
		echo "BEGIN;"
		echo "INSERT INTO main.incident_events SELECT * FROM s.incident_events WHERE 1;"
		echo "COMMIT;"
	} > "$D/copy.sql"
}
trap 'rm -f "$D/events-src.db" "$D/copy.sql"' EXIT

an="$LT analyze -q --db $D/bench.db"
echo "bench: $RUNS runs of each command, alternating"
i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	echo "bench: round $i of $RUNS"
	# shellcheck disable=SC2086
	run plain.analyze -- $an "$D/plain.log"
	run plain.grep -o "$D/grep.out" -- grep -c -E -f "$D/patterns.txt" "$D/plain.log"
	run plain.cat -i "$D/plain.log" -- cat
	# shellcheck disable=SC2086
	run gzip.analyze -- $an "$D/plain.log.gz"
	run gzip.zcat -- zcat "$D/plain.log.gz"
	# shellcheck disable=SC2086
	run json.analyze -- $an "$D/export.jsonl"
	run json.grep -o "$D/grep.out" -- grep -c -E -f "$D/patterns.txt" "$D/export.jsonl"
	# shellcheck disable=SC2086
	run events.analyze -- $an "$D/events.log"
	copy_setup
	run events.sqlite3 -o "$D/grep.out" -- sqlite3 "$D/bench.db" ".read $D/copy.sql"
	# shellcheck disable=SC2086
	run rules5x.analyze -- $an --rules "$D/rules5x" "$D/plain.log"
	run rules5x.grep -o "$D/grep.out" -- grep -c -E -f "$D/patterns5x.txt" "$D/plain.log"
done
if [ "$RSS4X" = 1 ]; then
	echo "bench: memory with a 4x stream on stdin"
	rm -f "$D/bench.db" "$D/bench.db-wal" "$D/bench.db-shm"
	line=$(cat "$D/plain.log" "$D/plain.log" "$D/plain.log" "$D/plain.log" |
	       "$RS" -- $LT analyze -q --db "$D/bench.db" -)
	echo "$line" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print "plain4x.analyze", v["wall"], v["user"], v["sys"], v["maxrss_kib"], 0 }' >> "$res"
	# The event-heavy input 4 times: four times the events stored, and
	# incident detection over all of them at the end.
	rm -f "$D/bench.db" "$D/bench.db-wal" "$D/bench.db-shm"
	line=$(cat "$D/events.log" "$D/events.log" "$D/events.log" "$D/events.log" |
	       "$RS" -- $LT analyze -q --db "$D/bench.db" -)
	ev=$(sqlite3 "$D/bench.db" "SELECT count(*) FROM events")
	echo "$line" | awk -v ev="$ev" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print "events4x.analyze", v["wall"], v["user"], v["sys"], v["maxrss_kib"], ev }' >> "$res"
fi

# ---- the table ----------------------------------------------------------

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
echo
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; load average at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
if ldd "$LT" 2>/dev/null | grep -q libisal; then inflater="ISA-L"; else inflater="zlib"; fi
echo "gzip inflated by: $inflater"
if [ "$(cat build/pgo-mode 2>/dev/null)" = 1 ]; then build="profile-guided (gcc, trained on samples/)"; else build="without profile feedback"; fi
echo "build: $build"
echo "inputs: plain $(size_of plain.log) B / $(lines_of plain.log) lines; json $(size_of export.jsonl) B; events $(size_of events.log) B; rules $nrules built in, $((nrules * 4)) synthetic"
echo "medians of $RUNS runs (wall time); cpu = user + sys"
echo
awk -v sp="$(size_of plain.log)" -v lp="$(lines_of plain.log)" \
    -v sj="$(size_of export.jsonl)" -v lj="$(lines_of export.jsonl)" \
    -v se="$(size_of events.log)" -v le="$(lines_of events.log)" '
function median(name,    n, i, j, t, a) {
	n = cnt[name]
	for (i = 1; i <= n; i++) a[i] = wall[name, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	cnt[$1]++; wall[$1, cnt[$1]] = $2; cpu[$1] += $3 + $4
	if ($5 > rss[$1]) rss[$1] = $5
	ev[$1] = $6
}
function row(label, name, bytes, lines,    w) {
	w = median(name)
	if (bytes == 0) {       # no input of its own: events/s only
		printf "%-34s %8s %12s %10.0f %8.1f %7.2f\n", label, "-", "-",
		    ev[name] / w, rss[name] / 1024, cpu[name] / cnt[name] / w
		return
	}
	printf "%-34s %8.1f %12.0f %10.0f %8.1f %7.2f\n", label, bytes / 1e6 / w,
	    lines / w, ev[name] / w, rss[name] / 1024, cpu[name] / cnt[name] / w
}
END {
	printf "%-34s %8s %12s %10s %8s %7s\n", "command", "MB/s", "lines/s", "events/s", "RSS MiB", "cpu/wall"
	row("analyze plain.log", "plain.analyze", sp, lp)
	row("grep -c -E -f plain.log", "plain.grep", sp, lp)
	row("cat plain.log", "plain.cat", sp, lp)
	row("analyze plain.log.gz", "gzip.analyze", sp, lp)
	row("zcat plain.log.gz", "gzip.zcat", sp, lp)
	row("analyze export.jsonl", "json.analyze", sj, lj)
	row("grep -c -E -f export.jsonl", "json.grep", sj, lj)
	row("analyze events.log", "events.analyze", se, le)
	row("sqlite3: insert the rows it stored", "events.sqlite3", 0, 0)
	row("analyze --rules rules5x plain.log", "rules5x.analyze", sp, lp)
	row("grep -c -E -f patterns5x plain.log", "rules5x.grep", sp, lp)
	if (cnt["plain4x.analyze"]) row("analyze - (4x plain.log on stdin)", "plain4x.analyze", 4 * sp, 4 * lp)
	if (cnt["events4x.analyze"]) row("analyze - (4x events.log on stdin)", "events4x.analyze", 4 * se, 4 * le)

	r_plain = median("plain.grep") / median("plain.analyze")
	r_gz = median("gzip.zcat") / median("gzip.analyze")
	r_json = median("json.grep") / median("json.analyze")
	evs = ev["events.analyze"] / median("events.analyze")
	evs_sql = ev["events.sqlite3"] / median("events.sqlite3")
	cost = 1 - median("plain.analyze") / median("rules5x.analyze")
	rss1 = rss["plain.analyze"] / 1024
	printf "\nratios: plain %.2fx grep, gzip %.2fx zcat, json %.2fx grep, 5x rules cost %.0f%% throughput\n", r_plain, r_gz, r_json, 100 * cost
	printf "\n"
	printf "%-5s plain export >= 2.5x grep: %.2fx\n", (r_plain >= 2.5 ? "MET" : "MISS"), r_plain
	printf "%-5s gzip >= 1.6x zcat: %.2fx\n", (r_gz >= 1.6 ? "MET" : "MISS"), r_gz
	printf "%-5s JSON lines >= 1.2x grep: %.2fx\n", (r_json >= 1.2 ? "MET" : "MISS"), r_json
	printf "%-5s event-heavy >= 300k events/s stored: %.0f/s\n", (evs >= 300000 ? "MET" : "MISS"), evs
	printf "      (sqlite3 alone inserts the same rows at %.0f events/s: analyze runs at %.0f%% of that)\n", evs_sql, 100 * evs / evs_sql
	printf "%-5s 5x rules cost <= 25%% throughput: %.0f%%\n", (cost <= 0.25 ? "MET" : "MISS"), 100 * cost
	if (cnt["plain4x.analyze"] && cnt["events4x.analyze"]) {
		rss4 = rss["plain4x.analyze"] / 1024
		d = rss4 - rss1; if (d < 0) d = -d
		erss1 = rss["events.analyze"] / 1024
		erss4 = rss["events4x.analyze"] / 1024
		ed = erss4 - erss1; if (ed < 0) ed = -ed
		ok = rss1 <= 32 && rss4 <= 32 && d <= 2 && erss1 <= 32 && erss4 <= 32 && ed <= 2
		printf "%-5s peak RSS <= 32 MiB, same for 1x and 4x (+-2 MiB): plain %.1f and %.1f MiB, event-heavy %.1f and %.1f MiB\n", (ok ? "MET" : "MISS"), rss1, rss4, erss1, erss4
	} else {
		printf "%-5s peak RSS <= 32 MiB: %.1f MiB (4x run skipped)\n", rss1 <= 32 ? "MET" : "MISS", rss1
	}
}' "$res"
rm -f "$D/bench.db" "$D/bench.db-wal" "$D/bench.db-shm" "$D/grep.out"

#!/bin/sh
# run.sh TARGET... - fuzz each target (build/fuzz/bin/TARGET, built by
# 'make fuzz') for FUZZ_SECONDS (default 60), or until FUZZ_RUNS
# executions when that is set and comes first, one after another, at the
# lowest CPU priority. Inputs start from tests/fuzz/corpus/TARGET (never
# written); new ones go to build/fuzz/corpus/TARGET, crashes and leaks to
# build/fuzz/crash-TARGET-*. Prints one line of figures per target (also
# appended to build/fuzz/stats.txt): executions, wall time and the CPU
# time the target had (less than the wall time when other work shared
# the cores), coverage. Fails when a target crashed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
bad=0

# The CPU seconds (user + system) of the finished children so far, from
# the second line of 'times' ("0m1.50s 0m0.25s"), which must run in this
# shell, not in a command substitution's.
tf=build/fuzz/.times.$$
child_cpu() {
	times > "$tf"
	sed -n '2{s/[ms]/ /g;p;}' "$tf" |
		awk '{ printf "%d\n", $1 * 60 + $2 + $3 * 60 + $4 }'
}

for t in "$@"; do
	bin=build/fuzz/bin/$t
	mkdir -p "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t"
	log=build/fuzz/$t.log
	start=$(date +%s)
	child_cpu > "$tf.0"
	cpu0=$(cat "$tf.0")
	nice -n 19 "$bin" -max_total_time="$secs" ${runs:-} -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build/fuzz/crash-$t-" \
		${FUZZ_ARGS:-} \
		"build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	child_cpu > "$tf.0"
	cpu=$(($(cat "$tf.0") - cpu0))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	line="$t: ${execs:-?} executions in $took s ($cpu s of CPU), coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?}"
	if [ "$rc" != 0 ]; then
		line="$line: FAILED (exit $rc; see $log and build/fuzz/crash-$t-*)"
		bad=$((bad + 1))
	fi
	echo "$line"
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $line" >> build/fuzz/stats.txt
done
rm -f "$tf" "$tf.0"
[ "$bad" = 0 ]

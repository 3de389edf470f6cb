#!/bin/sh
# replay.sh - run every fuzz target's corpus (tests/fuzz/corpus/TARGET)
# through its replay build (build/fuzz/replay-TARGET: the sanitizer
# build, no libFuzzer), as 'make check' does. Prints the "ok"/"not ok"
# line of each file and the total "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
pass=0
fail=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	bin=build/fuzz/replay-$t
	if [ ! -x "$bin" ]; then
		echo "not ok - $t: $bin was not built"
		fail=$((fail + 1))
		continue
	fi
	out=$("$bin" "tests/fuzz/corpus/$t" 2>&1)
	rc=$?
	echo "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed}
	if [ -z "$line" ] || [ "$rc" != 0 ]; then
		echo "not ok - $t: the replay stopped (exit $rc) after ${p:-0} files"
		p=${p:-0}
		f=$((${f:-0} + 1))
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

#!/bin/sh
# minimize.sh TARGET... - rebuild tests/fuzz/corpus/TARGET as the smallest
# set of inputs that keeps the coverage of the seeds (tests/fuzz/seed.sh),
# the current corpus and what 'make fuzz' found (build/fuzz/corpus),
# with libFuzzer's -merge=1. Inputs larger than FUZZ_MAX_LEN (default
# 12000) are cut. Review what changed before it is committed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
rm -rf build/fuzz/seeds
sh tests/fuzz/seed.sh build/fuzz/seeds
for t in "$@"; do
	new=build/fuzz/merge-$t
	rm -rf "$new"
	mkdir -p "$new" "tests/fuzz/corpus/$t" "build/fuzz/corpus/$t"
	nice -n 19 "build/fuzz/bin/$t" -merge=1 -max_len="${FUZZ_MAX_LEN:-12000}" \
		-timeout=10 -artifact_prefix="build/fuzz/crash-$t-" \
		"$new" "tests/fuzz/corpus/$t" "build/fuzz/seeds/$t" \
		"build/fuzz/corpus/$t" >"build/fuzz/merge-$t.log" 2>&1
	rm -rf "tests/fuzz/corpus/$t"
	mv "$new" "tests/fuzz/corpus/$t"
	echo "$t: $(ls "tests/fuzz/corpus/$t" | wc -l) files," \
	     "$(cat "tests/fuzz/corpus/$t"/* | wc -c) bytes"
done

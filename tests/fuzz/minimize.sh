#!/bin/sh
# minimize.sh TARGET... - rebuild tests/fuzz/corpus/TARGET as a small set
# of inputs that keeps the edge coverage of the seeds (tests/fuzz/seed.sh),
# the current corpus and what 'make fuzz' found (build/fuzz/corpus):
# libFuzzer's greedy set cover over edges (-set_cover_merge=1
# -use_counters=0; FUZZ_MERGE_FLAGS replaces them, "-merge=1" keeps every
# input that adds a feature, about ten times as many). The full corpus
# stays in build/fuzz/corpus for the next run. Inputs larger than
# FUZZ_MAX_LEN (default 12000) are cut. Files named crash-* (inputs that
# once broke an invariant, the regression tests of the fixes) are kept as
# they are, whatever coverage they add. Review what changed before it is
# committed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
rm -rf build/fuzz/seeds
sh tests/fuzz/seed.sh build/fuzz/seeds
for t in "$@"; do
	new=build/fuzz/merge-$t
	rm -rf "$new"
	mkdir -p "$new" "tests/fuzz/corpus/$t" "build/fuzz/corpus/$t"
	nice -n 19 "build/fuzz/bin/$t" \
		${FUZZ_MERGE_FLAGS:--set_cover_merge=1 -use_counters=0} \
		-max_len="${FUZZ_MAX_LEN:-12000}" \
		-timeout=10 -artifact_prefix="build/fuzz/crash-$t-" \
		"$new" "tests/fuzz/corpus/$t" "build/fuzz/seeds/$t" \
		"build/fuzz/corpus/$t" >"build/fuzz/merge-$t.log" 2>&1
	for c in "tests/fuzz/corpus/$t"/crash-*; do
		[ -f "$c" ] || continue
		rm -f "$new/$(sha1sum < "$c" | cut -c1-40)"
		cp "$c" "$new/"
	done
	rm -rf "tests/fuzz/corpus/$t"
	mv "$new" "tests/fuzz/corpus/$t"
	echo "$t: $(ls "tests/fuzz/corpus/$t" | wc -l) files," \
	     "$(cat "tests/fuzz/corpus/$t"/* | wc -c) bytes"
done

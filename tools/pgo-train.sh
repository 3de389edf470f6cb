#!/bin/sh
# tools/pgo-train.sh BIN - the training run of the profile-guided build
# (Makefile, PGO=1). BIN is logtriage built with -fprofile-generate; it
# analyzes every sample under samples/ (plain, gzip, JSON lines, Railway,
# Docker builds, uvicorn, PostgreSQL), then reads the records back, lists
# incidents, writes the reports and the summary, and runs the rules'
# examples, so that gcc learns which branches real formats take. The
# counts go to BIN's directory, one .gcda beside each object.
#
# What the commands find does not matter here (summary's exit status
# tells what it found, say); that every object left its counts does.
set -eu

bin=$1
dir=$(dirname "$bin")
rm -f "$dir"/*.gcda
work=$(mktemp -d "${TMPDIR:-/tmp}/logtriage-pgo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
TZ=UTC
LC_ALL=C
export TZ LC_ALL

run() {
	"$@" >/dev/null 2>&1 || :
}

for f in samples/*.log samples/*.jsonl samples/*.log.gz; do
	run "$bin" analyze --db "$work/t.db" -q "$f"
	run "$bin" records "$f"
done
run "$bin" incidents --db "$work/t.db"
run "$bin" report --db "$work/t.db" --out "$work/reports" \
	--learnings "$work/INCIDENTS.md"
run env LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z \
	"$bin" summary --db "$work/t.db" --fail-on never
run "$bin" rules test

missing=
for o in "$dir"/*.o; do
	[ -f "${o%.o}.gcda" ] || missing="$missing ${o##*/}"
done
if [ -n "$missing" ]; then
	echo "logtriage: pgo-train: no counts for:$missing" >&2
	exit 1
fi

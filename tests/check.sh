#!/bin/sh
# check.sh - everything 'make check' runs, after the builds: unit tests,
# the rule examples, and the end-to-end cases with the release and the
# sanitizer builds. The last line is the total "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export TZ=UTC LC_ALL=C
log=$(mktemp "${TMPDIR:-/tmp}/logtriage-check.XXXXXX")
trap 'rm -f "$log"' EXIT
total_pass=0
total_fail=0

# step NAME COMMAND...: run, echo its output, add up its closing line.
step() {
	name=$1
	shift
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed}
	else
		p=0
		f=1
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

for t in build/unit/t_*; do
	[ -x "$t" ] && step "unit $(basename "$t")" "$t"
done
rules_test() {
	out=$("$1" rules test 2>&1)
	rc=$?
	echo "$out"
	p=$(echo "$out" | sed -n 's/^rules test: \([0-9]*\) examples passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/^rules test: \([0-9]*\) examples passed, \([0-9]*\) failed$/\2/p')
	echo "${p:-0} passed, ${f:-1} failed"
	return $rc
}
rules_check() {
	"$1" rules check && echo "1 passed, 0 failed"
}
step "rules check" rules_check ./logtriage
step "rules test" rules_test ./logtriage
step "cases (release build)" sh tests/run-tests.sh ./logtriage
step "cases (ASan+UBSan build)" sh tests/run-tests.sh build/logtriage-san
# The HTML reports rendered by headless Chromium (tests/browser).
step "HTML reports in Chromium" sh tests/browser/run.sh ./logtriage \
	build/browser/pngcheck
# Hostile input and faults (tests/fuzz, tests/fault): the fuzz corpora
# replayed, allocation failures, kill -9 mid-run, a full file system.
step "fuzz corpus replay" sh tests/fuzz/replay.sh
if [ -n "${LOGTRIAGE_CHECK_FULL:-}" ]; then
	step "allocation failure walk (every 16th allocation)" \
		sh tests/fault/oom-walk.sh --stride 16
	step "kill -9 at 24 points" env KILL_COPIES=120 \
		sh tests/fault/kill-loop.sh ./logtriage 24
else
	step "allocation failure walk (60 points per run)" \
		sh tests/fault/oom-walk.sh
	step "kill -9 at 5 points" sh tests/fault/kill-loop.sh ./logtriage 5
fi
step "disk full and read-only (tmpfs)" sh tests/fault/diskfull.sh ./logtriage
if [ -n "${LOGTRIAGE_CHECK_FULL:-}" ] && command -v valgrind >/dev/null; then
	# The wrapper is reached through a symlink (run-tests.sh puts one
	# on PATH), so it names valgrind, the binary and the suppressions by
	# full path (cases that run without gnuplot keep PATH short).
	vg=$(command -v valgrind)
	cat >"$top/build/vg" <<VG
#!/bin/sh
exec "$vg" -q --error-exitcode=98 --leak-check=full --errors-for-leak-kinds=definite --suppressions="$top/tests/valgrind.supp" "$top/logtriage" "\$@"
VG
	chmod +x "$top/build/vg"
	step "cases (valgrind)" sh tests/run-tests.sh build/vg
fi
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]

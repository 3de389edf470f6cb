#!/bin/sh
# run.sh BINARY PNGCHECK - the HTML reports in a real browser. Analyze
# three logs (the railway sample, one with all four charts, one full of
# markup), write the reports with --format html (SVG charts), and have
# headless Chromium render each page and the index: it dumps the DOM it
# built, its console and a screenshot. A page passes when Chromium ran,
# the title is the one expected, every chart expected is in the DOM as
# an <svg> with at least 10 shapes (and no other), the console is
# silent (no error, no refused script), the DOM holds no script, image
# or frame, and the screenshot is not blank (PNGCHECK). Then broken
# copies of a page (wrong title, empty chart, missing chart, a script
# error, a script the page's policy refuses, a page that draws nothing)
# must each fail for their reason: a checker that passes everything
# fails here. Prints "ok"/"not ok" per check and "N passed, N failed".
#
# Chromium is Debian's 'chromium' package ('make deps' installs it).
# Without it, or when it cannot run, the test fails and says why: it is
# never skipped. Screenshots, DOMs and console logs stay in
# build/browser/run/ for people to look at.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
pngcheck=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
top=$(cd "$(dirname "$0")/../.." && pwd)
run=$top/build/browser/run
export TZ=UTC LC_ALL=C NO_COLOR=1 LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

browser=""
for b in chromium chromium-browser; do
	if command -v "$b" >/dev/null 2>&1; then
		browser=$b
		break
	fi
done
if [ -z "$browser" ]; then
	not_ok "chromium is not installed: run 'make deps' as root" \
		"(it installs Debian's chromium package)"
	finish
fi
if [ ! -x "$pngcheck" ]; then
	not_ok "$pngcheck is missing: run 'make check-build'"
	finish
fi
rm -rf "$run"
mkdir -p "$run/work"
cd "$run/work" || exit 1

# render NAME FILE: DOM to NAME.dom, console to NAME.log, NAME.png.
render() {
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu \
		--no-first-run --no-default-browser-check --disable-extensions \
		--disable-background-networking --disable-component-update \
		--disable-dev-shm-usage --hide-scrollbars \
		--user-data-dir="$run/profile" \
		--enable-logging=stderr --v=0 --window-size=1280,2400 \
		--virtual-time-budget=1000 \
		--screenshot="$run/$1.png" --dump-dom "file://$2" \
		>"$run/$1.dom" 2>"$run/$1.log"
}

# check NAME FILE TITLE "KIND..." - render FILE and print why it fails
# (one reason a line) to NAME.why; return 0 when nothing is wrong.
check() {
	name=$1 file=$2 want_title=$3 kinds=$4
	why=$run/$name.why
	: >"$why"
	render "$name" "$file"
	rc=$?
	if [ "$rc" != 0 ] || [ ! -s "$run/$name.dom" ]; then
		echo "chromium exited $rc without a page:" \
			"$(grep -v -e dbus -e 'unexpected operator' \
			"$run/$name.log" | tail -n 3)" >>"$why"
		return 1
	fi
	# The document's title: the first; charts have titles of their own.
	title=$(tr -d '\n' <"$run/$name.dom" | grep -o '<title>[^<]*</title>' |
		head -n 1 | sed 's:</*title>::g')
	[ "$title" = "$want_title" ] ||
		echo "title is '$title', want '$want_title'" >>"$why"
	got=$(grep -o '<figure class="chart" id="chart-[a-z]*"' \
		"$run/$name.dom" | sed 's/.*chart-//; s/"$//' | tr '\n' ' ')
	[ "$got" = "${kinds:+$kinds }" ] ||
		echo "charts are '$got', want '$kinds'" >>"$why"
	for k in $kinds; do
		shapes=$(awk -v k="$k" 'BEGIN { RS = "</figure>" }
			i = index($0, "<figure class=\"chart\" id=\"chart-" k "\"") {
				r = substr($0, i)
				if (index(r, "<svg") == 0) { print "nosvg"; exit }
				print gsub(/<(path|rect|polygon|polyline|circle|line|text|use)[ >]/, "")
				exit
			}' "$run/$name.dom")
		case $shapes in
		'') echo "chart $k is missing" >>"$why" ;;
		nosvg) echo "chart $k has no <svg>" >>"$why" ;;
		*) [ "$shapes" -ge 10 ] ||
			echo "chart $k is empty ($shapes shapes)" >>"$why" ;;
		esac
	done
	grep -E 'CONSOLE|Uncaught' "$run/$name.log" | sed 's/^/console: /' \
		>>"$why"
	n=$(grep -c -i -e '<script' -e '<img' -e '<iframe' -e '<object' \
		-e '<embed' "$run/$name.dom")
	[ "$n" = 0 ] || echo "$n script, image or frame elements" >>"$why"
	if ! "$pngcheck" "$run/$name.png" >"$run/$name.png.txt" 2>&1; then
		echo "screenshot is blank: $(cat "$run/$name.png.txt")" >>"$why"
	fi
	[ ! -s "$why" ]
}

# expect_pass NAME FILE TITLE KINDS
expect_pass() {
	if check "$@"; then
		ok "$1 renders: '$3', charts: ${4:-none}, $(cat "$run/$1.png.txt")"
	else
		not_ok "$1 renders: $(tr '\n' ';' <"$run/$1.why")"
	fi
}

# expect_fail NAME FILE TITLE KINDS REASON - the checker must refuse it,
# for REASON.
expect_fail() {
	reason=$5
	if check "$1" "$2" "$3" "$4"; then
		not_ok "broken page $1 passed the checker"
	elif grep -q -- "$reason" "$run/$1.why"; then
		ok "broken page $1 fails: $(grep -- "$reason" "$run/$1.why" | head -n 1)"
	else
		not_ok "broken page $1 fails, but not for '$reason':" \
			"$(tr '\n' ';' <"$run/$1.why")"
	fi
}

# The markup a log can carry: if any of it were not escaped, a script
# would be refused (console), the page hidden (screenshot) or an
# element added (DOM).
{
	printf '2026-03-02T09:00:00Z Starting Container\n'
	printf '2026-03-02T09:00:03Z sqlalchemy.exc.OperationalError: connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused <script>console.error("injected")</script> </svg></pre></title></table> <img src=x onerror="console.error(1)"> <style>body{display:none}</style> <meta http-equiv="refresh" content="0;url=about:blank">\n'
	printf '2026-03-02T09:00:40Z Attempt #1 failed with service unavailable. Continuing to retry for 4m49s <iframe src="javascript:alert(1)"></iframe> "><svg onload=alert(1)> &amp;lt;\n'
} >hostile.log
cp "$top/samples/railway-incident.jsonl" "$top/tests/browser/all-charts.log" .
if ! "$bin" analyze --db t.db -q railway-incident.jsonl all-charts.log \
	hostile.log || ! "$bin" report --db t.db --format html >report.out; then
	not_ok "logtriage could not write the reports"
	finish
fi
cat report.out

rail=inc-20260224-1013-c2d6f4
charts=inc-20260304-1402-26df67
hostile=inc-20260302-0900-d02bf9
expect_pass railway "$PWD/reports/$rail.html" \
	"Database unreachable: connection refused (2026-02-24) · $rail" \
	"events http"
charts_title="Memory usage above the platform quota; Request took longer"
charts_title="$charts_title than 5 seconds (2026-03-04) · $charts"
expect_pass all-charts "$PWD/reports/$charts.html" "$charts_title" \
	"events latency memory http"
expect_pass hostile "$PWD/reports/$hostile.html" \
	"Database unreachable: connection refused (2026-03-02) · $hostile" \
	"events"
expect_pass index "$PWD/reports/index.html" "Incidents: all time" ""
links=$(grep -o '<a href="inc-[^"]*"' reports/index.html |
	sed 's/<a href="//; s/"$//' | tr '\n' ' ')
if [ "$links" = "$rail.html $hostile.html $charts.html " ]; then
	ok "the index links every page, in time order"
else
	not_ok "the index links '$links'"
fi

# Broken copies of the page with all four charts.
page=$PWD/reports/$charts.html
title=$charts_title
sed 's|<title>[^<]*</title>|<title>Untitled</title>|' "$page" >bad-title.html
awk '/<figure class="chart" id="chart-events">/ {
		print; print "<svg></svg>"; skip = 1; next
	}
	skip && /^<\/svg>$/ { skip = 0; next } !skip' "$page" >empty-chart.html
awk '/<figure class="chart" id="chart-http">/ { skip = 1 }
	!skip { print } /<\/figure>/ { skip = 0 }' "$page" >missing-chart.html
grep -v 'Content-Security-Policy' "$page" |
	sed 's|</body>|<script>undefinedFunction();</script></body>|' \
	>script-error.html
sed 's|</body>|<script>document.title = "x";</script></body>|' "$page" \
	>refused-script.html
sed 's|</head>|<style>body{display:none}</style></head>|' "$page" \
	>blank.html
all="events latency memory http"
expect_fail bad-title "$PWD/bad-title.html" "$title" "$all" "title is"
expect_fail empty-chart "$PWD/empty-chart.html" "$title" "$all" \
	"chart events is empty"
expect_fail missing-chart "$PWD/missing-chart.html" "$title" "$all" \
	"charts are 'events latency memory '"
expect_fail script-error "$PWD/script-error.html" "$title" "$all" \
	"console: .*Uncaught"
expect_fail refused-script "$PWD/refused-script.html" "$title" "$all" \
	"console: .*Content Security Policy"
expect_fail blank "$PWD/blank.html" "$title" "$all" "screenshot is blank"
finish

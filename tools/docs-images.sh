#!/bin/sh
# docs-images.sh [BINARY] - draw the pictures the README shows, from the
# bundled railway sample: docs/img/chart-events.png (gnuplot's chart of
# the symptoms by category, as 'report' draws it) and
# docs/img/report-html.png (the top of the HTML report, as headless
# Chromium renders it). Needs gnuplot and chromium ('make deps').
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/logtriage}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d "${TMPDIR:-/tmp}/logtriage-img.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export TZ=UTC LC_ALL=C

cd "$work"
cp "$top/samples/railway-incident.jsonl" .
"$bin" analyze --db t.db -q railway-incident.jsonl
"$bin" report --db t.db --charts png -q --out png
"$bin" report --db t.db --format html -q --out html
mkdir -p "$top/docs/img"
cp png/inc-*-events.png "$top/docs/img/chart-events.png"
page=$(ls html/inc-*.html)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--no-first-run --user-data-dir="$work/profile" \
	--window-size=1100,1500 --virtual-time-budget=1000 \
	--screenshot="$top/docs/img/report-html.png" "file://$work/$page" \
	2>/dev/null
ls -l "$top/docs/img/chart-events.png" "$top/docs/img/report-html.png"

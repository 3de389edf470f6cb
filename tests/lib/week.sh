#!/bin/sh
# week.sh - a simulated week of nightly runs over a rotating, growing log,
# used by tests/cases/55xx. Day d writes its lines to logs/app.log; every
# night at 06:00 the cron job runs 'analyze logs/' then 'summary'; every
# second night logrotate (delaycompress) rotates. Some lines arrive after
# a run and before rotation, so they are read from app.log.1 next time.
#
#   day 1-7  20 heartbeats, 1 slow query          (baseline)
#   day 5    2 'charge failed' errors no rule knows (NEW template)
#   day 6    3 refused database connections      (NEW, critical)
#   day 7    10 slow queries                      (SPIKE)
set -u
mkdir -p logs
: > all.log
emit() { echo "$1" >> logs/app.log; echo "$1" >> all.log; }
day_lines() {
	d=$1
	i=0
	while [ $i -lt 20 ]; do
		emit "2026-03-0${d}T08:$(printf %02d $i):00Z INFO app: heartbeat $i"
		i=$((i + 1))
	done
	n=1
	[ "$d" = 7 ] && n=10
	i=0
	while [ $i -lt $n ]; do
		emit "2026-03-0${d} 09:$(printf %02d $i):00.000 UTC [77] LOG:  duration: 6$(printf %03d $i).5 ms  statement: SELECT * FROM tests WHERE project_id = $i"
		i=$((i + 1))
	done
	if [ "$d" = 5 ]; then
		emit "2026-03-05T10:00:00Z ERROR app.billing: charge failed for customer 1234 (card declined)"
		emit "2026-03-05T10:05:00Z ERROR app.billing: charge failed for customer 98 (card declined)"
	fi
	if [ "$d" = 6 ]; then
		for m in 00 01 02; do
			emit "2026-03-06T11:${m}:00Z ERROR app.db: connection to server at \"db\" (10.0.0.5), port 5432 failed: Connection refused"
		done
	fi
}
rotate() {
	[ -f logs/app.log.2.gz ] && mv logs/app.log.2.gz logs/app.log.3.gz
	if [ -f logs/app.log.1 ]; then
		mv logs/app.log.1 logs/app.log.2
		gzip -n logs/app.log.2
	fi
	mv logs/app.log logs/app.log.1
	: > logs/app.log
}
d=1
while [ $d -le 7 ]; do
	day_lines $d
	next=$((d + 1))
	export LOGTRIAGE_TEST_NOW="2026-03-0${next}T06:00:00Z"
	[ "$next" = 8 ] || true
	[ "$next" -le 9 ] || exit 1
	logtriage analyze --db week.db -q --exclude '*.db*' logs/ 2>&1
	echo "night $d: analyze exit $?"
	logtriage summary --db week.db --format json > summary-$d.json
	echo "night $d: summary exit $?"
	# late lines of day d, written after the run
	emit "2026-03-0${d}T23:59:0${d}Z INFO app: late heartbeat"
	[ $((d % 2)) = 0 ] && rotate
	d=$next
done

#!/bin/sh
# diskfull.sh BINARY - the database on a real full file system: a 2 MB
# tmpfs (needs root and a system that lets it mount; otherwise the
# checks say "skipped: cannot mount tmpfs" and count neither as passed
# nor as failed), then the same file system remounted read-only.
#
# Expected: a clear "logtriage: DB: ...: database or disk is full" line
# (read-only: one "logtriage: DB: ..." line), exit 1, and a database
# that passes PRAGMA integrity_check and still holds every event of the
# run before; once there is room again, a re-run completes the input
# with no event twice. The cheaper, unprivileged versions of these
# checks (an LD_PRELOAD shim, ulimit -f, chmod) are cases 8xxx.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/logtriage-full.XXXXXX")
mnt=$work/mnt
mounted=0
cleanup() {
	[ "$mounted" = 1 ] && umount "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export TZ=UTC LC_ALL=C
export LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z LOGTRIAGE_TEST_ELAPSED=0.25
cd "$work" || exit 1
mkdir -p "$mnt"
pass=0
fail=0
no=0
ok() {
	no=$((no + 1))
	pass=$((pass + 1))
	echo "ok $no - $*"
}
not_ok() {
	no=$((no + 1))
	fail=$((fail + 1))
	echo "not ok $no - $*"
}

if ! mount -t tmpfs -o size=2m tmpfs "$mnt" 2>/dev/null; then
	echo "# skipped: cannot mount tmpfs (not root, or mounts forbidden" \
	     "here); cases 8xxx cover a full disk without privileges"
	echo "0 passed, 0 failed"
	exit 0
fi
mounted=1

line='2026-02-24T10:15:02Z ERROR app: connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused'
printf '%s first\n' "$line" >first.log
awk -v r="$line" 'BEGIN { for (i = 1; i <= 60000; i++) print r, i }' >big.log

"$bin" analyze -q --db "$mnt/t.db" first.log
if [ "$?" = 0 ] && [ "$(sqlite3 "$mnt/t.db" 'SELECT count(*) FROM events')" = 1 ]; then
	ok "tmpfs: a first run stores its event"
else
	not_ok "tmpfs: a first run stores its event"
fi

"$bin" analyze -q --db "$mnt/t.db" big.log 2>err.txt
rc=$?
msg=$(cat err.txt)
if [ "$rc" = 1 ] && echo "$msg" | grep -q -x -E \
	"logtriage: $mnt/t.db: [a-z ]+: database or disk is full" &&
	[ "$(wc -l <err.txt)" = 1 ]; then
	ok "tmpfs full: exit 1, one line: ${msg#logtriage: $mnt/}"
else
	not_ok "tmpfs full: exit $rc, want 1 and one 'database or disk is full' line"
	sed 's/^/#   /' err.txt
fi
ic=$(sqlite3 "$mnt/t.db" "PRAGMA integrity_check" 2>&1)
first=$(sqlite3 "$mnt/t.db" "SELECT count(*) FROM events e JOIN sources s
	ON s.id = e.source_id WHERE s.name = 'first.log'" 2>&1)
if [ "$ic" = ok ] && [ "$first" = 1 ]; then
	ok "tmpfs full: the database is consistent and keeps the first run's event"
else
	not_ok "tmpfs full: integrity_check '$ic', first run's events '$first'"
fi

# Read-only: the same file system, remounted.
if mount -o remount,ro "$mnt" 2>/dev/null; then
	cp "$mnt/t.db" before.db
	"$bin" analyze -q --db "$mnt/t.db" first.log 2>err.txt
	rc=$?
	# The wording is SQLite's ("unable to open database file": it
	# cannot make t.db-shm there); the line, the code and the
	# untouched file are what is checked.
	if [ "$rc" = 1 ] && [ "$(wc -l <err.txt)" = 1 ] &&
	   grep -q "^logtriage: $mnt/t.db: " err.txt &&
	   cmp -s before.db "$mnt/t.db"; then
		ok "read-only file system: exit 1, one line, database untouched:" \
		   "$(sed "s|$mnt/||" err.txt)"
	else
		not_ok "read-only file system: exit $rc, want 1, one line, the file unchanged"
		sed 's/^/#   /' err.txt
	fi
	mount -o remount,rw "$mnt"
else
	echo "# skipped: cannot remount the tmpfs read-only"
fi

# Room again: the interrupted input is completed, nothing twice.
mkdir -p save
cp "$mnt"/t.db* save/
umount "$mnt" && mount -t tmpfs -o size=64m tmpfs "$mnt" 2>/dev/null
cp save/t.db* "$mnt/" 2>/dev/null
if [ -f "$mnt/t.db" ]; then
	"$bin" analyze -q --db "$mnt/t.db" big.log 2>err.txt
	rc=$?
	counts=$(sqlite3 "$mnt/t.db" "SELECT count(*), count(DISTINCT line_no)
		FROM events e JOIN sources s ON s.id = e.source_id
		WHERE s.name = 'big.log'")
	if [ "$rc" = 0 ] && [ "$counts" = "60000|60000" ]; then
		ok "room again: the re-run stores all 60000 events once"
	else
		not_ok "room again: exit $rc, events '$counts', want 60000|60000"
		sed 's/^/#   /' err.txt
	fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

#!/bin/sh
# seed.sh OUTDIR - write the seed inputs of every fuzz target into
# OUTDIR/<target>/: the samples, the format fixtures (tests/fixtures),
# the files of the end-to-end cases, and
# crafted edge cases (gzip members, truncation, bad CRC, bombs, rule
# files with every kind of mistake). tests/fuzz/minimize.sh merges them
# (with what fuzzing found) into the small corpora kept in git.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: seed.sh OUTDIR}
mkdir -p "$out"
cd "$out"
for t in input record parse timefmt json rules learnings; do
	mkdir -p "fuzz_$t"
done

# Every %%FILE section of the end-to-end cases, as a file of its own.
mkdir -p casefiles
for c in "$top"/tests/cases/*.test; do
	awk -v d=casefiles -v n="$(basename "$c" .test)" '
		/^%%/ {
			if (out) close(out)
			out = ""
			split(substr($0, 3), f, " ")
			if (f[1] == "FILE") out = d "/" n "-" f[2]
			next
		}
		{ if (out) print > out }
	' "$c"
done

# Stage 1 and 2: whole files, plain and gzip, and the awkward ones.
for f in "$top"/samples/*.log "$top"/samples/*.jsonl "$top"/samples/*.gz; do
	b=$(basename "$f")
	head -c 6000 "$f" > "fuzz_input/$b"
	head -c 6000 "$f" > "fuzz_record/$b"
	head -c 6000 "$f" > "fuzz_parse/$b"
done
cp casefiles/* fuzz_record/ 2>/dev/null || true
cp casefiles/* fuzz_parse/ 2>/dev/null || true
# The format fixtures: one file per emitter shape.
for f in "$top"/tests/fixtures/*/*; do
	[ -f "$f" ] || continue
	b=fixture-$(basename "$f")
	head -c 6000 "$f" > "fuzz_record/$b"
	head -c 6000 "$f" > "fuzz_parse/$b"
	case "$f" in
	*.jsonl|*.json|*docker-json*)
		head -n 20 "$f" | while IFS= read -r line; do
			printf '%s' "$line" > "fuzz_json/$b-$(printf '%s' "$line" | cksum | cut -d' ' -f1)"
		done
		;;
	esac
done
: > fuzz_input/empty
printf '\n\n\n' > fuzz_input/newlines
printf 'one\r\ntwo\000three\377\376\nlast line, no newline' > fuzz_input/bytes
printf 'a\n' | gzip -n > fuzz_input/small.gz
{ printf 'member one\n' | gzip -n; printf 'member two\n' | gzip -n; } \
	> fuzz_input/two-members.gz
head -c 30 fuzz_input/two-members.gz > fuzz_input/truncated.gz
{ printf 'x\n' | gzip -n; printf 'JUNK'; } > fuzz_input/garbage.gz
# A wrong CRC-32: flip a byte of the trailer.
printf 'crc\n' | gzip -n > crc.gz
n=$(wc -c < crc.gz)
{ head -c $((n - 8)) crc.gz; printf '\001\002\003\004'; tail -c 4 crc.gz; } \
	> fuzz_input/bad-crc.gz
# A small bomb: 4 MB of zeros in about 4 KB.
head -c 4000000 /dev/zero | gzip -n -9 > fuzz_input/bomb.gz
printf 'named\n' > named.txt
gzip -N -c named.txt > fuzz_input/with-name.gz
# A header with FEXTRA, FNAME and FCOMMENT before gzip's own data.
{ printf '\037\213\010\034\000\000\000\000\000\003\005\000XYabcapp.log\000rotated\000'
  printf 'fields\n' | gzip -n | tail -c +11; } > fuzz_input/header-fields.gz

# Framing: tracebacks (chained), continuations, a capped record.
python_tb='Traceback (most recent call last):
  File "/app/main.py", line 3, in <module>
    import app
ModuleNotFoundError: No module named '"'"'app'"'"''
{
	echo "2026-02-24T10:15:02Z ERROR: Exception in ASGI application"
	echo "$python_tb"
	echo
	echo "During handling of the above exception, another exception occurred:"
	echo
	echo "$python_tb"
	echo "2026-02-24T10:15:03Z INFO after"
} > fuzz_record/chained-traceback
i=0
{
	echo "2026-02-24T10:15:02Z ERROR long record:"
	while [ $i -lt 1100 ]; do echo "  continuation $i"; i=$((i + 1)); done
	echo "2026-02-24T10:15:03Z INFO next"
} > fuzz_record/capped
printf 'a\r\n\r\n  b\r\nc' > fuzz_record/crlf-partial
cp fuzz_record/chained-traceback fuzz_record/capped fuzz_parse/

# Timestamps: one shape per file.
i=0
while IFS= read -r line; do
	printf '%s' "$line" > "fuzz_timefmt/stamp-$i"
	i=$((i + 1))
done <<'EOF'
2026-02-24T10:15:02.123456Z
2026-02-24T10:15:02Z INFO
2026-02-24 10:15:02,123 ERROR
2026-02-24 10:15:02.123 UTC
2026-02-24T10:15:02+01:00
2026-02-24T10:15:02-0330
2026-02-24 10:15:02 +0000]
24/Feb/2026:10:15:02 +0000]
Feb 24 10:15:02 host
Feb  4 10:15:02 PM x
2024-02-29T23:59:60.5Z
1900-02-29T00:00:00Z
9999-12-31T23:59:59.999999999Z
0000-01-01T00:00:00+18:00
2026-03-29 02:30:00
2026-10-25 02:30:00
1771928102.123
1771928102123456789
-1.5e9
@1771928102
24h
1h30m
now
2026-02-24
2026-02-24T10:00
EOF

# JSON lines: each line of the JSON export, and hostile ones.
i=0
while IFS= read -r line && [ $i -lt 200 ]; do
	printf '%s' "$line" > "fuzz_json/line-$i"
	i=$((i + 1))
done < "$top/samples/railway-incident.jsonl"
printf '{"log":"2026-02-24T10:15:02Z ERROR boom\\n","stream":"stderr","time":"2026-02-24T10:15:02.1Z"}' > fuzz_json/docker
printf '{"MESSAGE":"x","PRIORITY":3,"__REALTIME_TIMESTAMP":"1771928102123456"}' > fuzz_json/journald
printf '{"message":"postgresql://app:hunter2@db/x Bearer abcdefgh12345678","password":"p4ss"}' > fuzz_json/secrets
printf '{"ts":1e400,"level":-99999999999999999999,"message":"\\ud800"}' > fuzz_json/numbers
printf '{"a":%s1%s}' "$(head -c 2000 /dev/zero | tr '\0' '[')" \
	"$(head -c 2000 /dev/zero | tr '\0' ']')" > fuzz_json/deep
printf '{"message":"a","message":"b"}' > fuzz_json/duplicate

# Rule files: the built-in ones and the broken ones of the cases.
cp "$top"/rules/*.json fuzz_rules/
for f in casefiles/4*; do
	[ -f "$f" ] && cp "$f" "fuzz_rules/$(basename "$f")"
done
printf '{"id":"x.y","match":{"any":["(a+)+$"]}}' > fuzz_rules/catastrophic
printf '[1,2,3]' > fuzz_rules/not-object
printf '{"id":' > fuzz_rules/cut

# The INCIDENTS.md upsert: a file the real writer made from a sample
# (when ./logtriage is built), hand edits, broken markers.
printf '# Incidents\n\nhand-written notes\n' > fuzz_learnings/plain
if [ -x "$top/logtriage" ]; then
	export TZ=UTC LC_ALL=C LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z
	"$top/logtriage" analyze --db l.db -q "$top/samples/railway-incident.log" \
		>/dev/null 2>&1
	"$top/logtriage" report --db l.db --out rep --charts none -q \
		--learnings=learn.md >/dev/null 2>&1
	if [ -s learn.md ]; then
		head -c 12000 learn.md > fuzz_learnings/real
		sed 's/- \[ \]/- [x]/' learn.md | head -c 12000 > fuzz_learnings/ticked
		{ head -c 12000 learn.md; printf '\n%%%%ENTRY\n## Another title\n'; } \
			> fuzz_learnings/with-entry
		grep -v 'logtriage:notes' learn.md | head -c 12000 \
			> fuzz_learnings/lost-notes-marker
	fi
	rm -rf l.db l.db-wal l.db-shm rep learn.md charts
fi
printf '# Incidents\n<!-- logtriage:begin inc-1 start=2026-02-24T10:13:17.646Z -->\nold\n<!-- logtriage:actions inc-1: kept -->\n- [x] done\n<!-- logtriage:notes inc-1: yours -->\nnotes\n<!-- logtriage:end inc-1 -->\nafter\n' \
	> fuzz_learnings/one-entry
printf '<!-- logtriage:begin inc-1 -->\nno end marker\n' > fuzz_learnings/unclosed
rm -rf casefiles crc.gz named.txt

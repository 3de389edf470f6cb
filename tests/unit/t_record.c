/*
 * t_record.c - unit tests for stage 2 (record framing): tracebacks,
 * chained exceptions, continuation lines, CRLF, caps, gzip members,
 * envelopes (compose, Railway, CRI, JSON lines), pydantic, ExceptionGroup,
 * Java and kubectl describe framing, the envelope and JSON walkers.
 */
#include "common.h"
#include "buf.h"
#include "input.h"
#include "record.h"
#include "unit.h"

#include <unistd.h>
#include <zlib.h>

static char tmpl[] = "/tmp/t_record.XXXXXX";

static const char *write_tmp(const char *data, size_t len)
{
	static char path[64];
	int fd;

	memcpy(path, tmpl, sizeof(tmpl));
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

/* Frame data; write "line_no:nlines:text|" per record into out. */
static void frame(const char *data, size_t len, char *out, size_t size,
		  struct record_reader *stats)
{
	const char *path = write_tmp(data, len);
	struct input in;
	struct record_reader rr;
	struct record rec;
	size_t o = 0;

	out[0] = '\0';
	if (input_open(&in, path) < 0 || record_reader_init(&rr, &in) < 0)
		abort();
	while (record_next(&rr, &rec) > 0) {
		int shown = rec.len > 40 && size < 4096 ? 8 : (int)rec.len;
		int n = snprintf(out + o, size - o, "%" PRIu64 ":%u:%.*s|",
				 rec.line_no, rec.nlines, shown, rec.text);

		if (n < 0 || (size_t)n >= size - o)
			o = size - 1;
		else
			o += (size_t)n;
	}
	if (stats)
		*stats = rr;
	record_reader_release(&rr);
	input_close(&in);
	unlink(path);
}

#define FRAME(data, want, what) do { \
	char got_[8192]; \
	frame(data, strlen(data), got_, sizeof(got_), NULL); \
	CHECK_STR(got_, want, what); \
} while (0)

static void test_basic(void)
{
	FRAME("a\nb\n", "1:1:a|2:1:b|", "two lines");
	FRAME("a\nb", "1:1:a|2:1:b|", "no final newline");
	FRAME("a\r\nb\r\n", "1:1:a|2:1:b|", "CRLF stripped");
	FRAME("\n\na\n\n", "3:1:a|", "blank lines are no records");
	FRAME("", "", "empty input");
	FRAME("a\n  cont\n\tmore\nb\n", "1:3:a\n  cont\n\tmore|4:1:b|",
	      "indented lines join the record above");
	{
		char got[64];
		struct record_reader st;

		frame("a\0b\nc\n", 6, got, sizeof(got), &st);
		CHECK(st.records == 2 && st.lines == 2,
		      "a NUL byte does not end the line");
	}
}

static void test_traceback(void)
{
	FRAME("ERROR: Exception in ASGI application\n"
	      "Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1, in <module>\n"
	      "    x()\n"
	      "    ^^^\n"
	      "KeyError: 'X'\n"
	      "INFO: next\n",
	      "1:6:ERROR: Exception in ASGI application\n"
	      "Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1, in <module>\n"
	      "    x()\n"
	      "    ^^^\n"
	      "KeyError: 'X'|7:1:INFO: next|",
	      "traceback joins the error line that announced it");
	FRAME("INFO: GET / 200\n"
	      "Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1, in <module>\n"
	      "ValueError: bad\n",
	      "1:1:INFO: GET / 200|2:3:Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1, in <module>\n"
	      "ValueError: bad|",
	      "traceback after an unrelated line stands alone");
	FRAME("Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "KeyError: 'A'\n"
	      "\n"
	      "During handling of the above exception, another exception occurred:\n"
	      "\n"
	      "Traceback (most recent call last):\n"
	      "  File \"b.py\", line 2\n"
	      "RuntimeError: B\n"
	      "after\n",
	      "1:9:Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "KeyError: 'A'\n"
	      "\n"
	      "During handling of the above exception, another exception occurred:\n"
	      "\n"
	      "Traceback (most recent call last):\n"
	      "  File \"b.py\", line 2\n"
	      "RuntimeError: B|10:1:after|",
	      "chained exceptions are one record");
	FRAME("Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "OSError: x\n"
	      "\n"
	      "The above exception was the direct cause of the following exception:\n"
	      "\n"
	      "Traceback (most recent call last):\n"
	      "  File \"b.py\", line 2\n"
	      "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) y\n"
	      "\tIs the server running?\n"
	      "\n"
	      "(Background on this error at: https://sqlalche.me/e/20/e3q8)\n",
	      "1:10:Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "OSError: x\n"
	      "\n"
	      "The above exception was the direct cause of the following exception:\n"
	      "\n"
	      "Traceback (most recent call last):\n"
	      "  File \"b.py\", line 2\n"
	      "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) y\n"
	      "\tIs the server running?|"
	      "12:1:(Background on this error at: https://sqlalche.me/e/20/e3q8)|",
	      "direct-cause chain, tab continuation, then a new record");
	FRAME("Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "KeyError: 'A'\n"
	      "\n"
	      "next\n",
	      "1:3:Traceback (most recent call last):\n  File \"a.py\", line 1\n"
	      "KeyError: 'A'|5:1:next|",
	      "blank after a traceback without a chain ends it");
}

static void test_caps(void)
{
	struct record_reader st;
	size_t n = RECORD_MAX_LINE_BYTES + 100, i;
	char *big = malloc(n + 16);
	char out[64];

	memset(big, 'x', n);
	memcpy(big + n, "\nshort\n", 8);
	frame(big, n + 7, out, sizeof(out), &st);
	CHECK(st.cut_lines == 1, "a line over the cap is cut (%" PRIu64 ")",
	      st.cut_lines);
	CHECK(strstr(out, "|2:1:short|") != NULL,
	      "the line after a cut line is intact: '%.20s'",
	      strstr(out, "|2:") ? strstr(out, "|2:") : "(none)");
	CHECK(st.lines == 2, "two lines counted (%" PRIu64 ")", st.lines);
	free(big);

	{
		struct buf b;

		buf_init(&b);
		buf_adds(&b, "ERROR: x\n");
		for (i = 0; i < RECORD_MAX_LINES + 5; i++)
			buf_adds(&b, "  frame\n");
		buf_adds(&b, "end\n");
		frame(b.p, b.len, out, sizeof(out), &st);
		CHECK(st.capped_records == 1, "a record over %u lines is split",
		      RECORD_MAX_LINES);
		CHECK(st.records == 3, "head, continuation and next: %" PRIu64,
		      st.records);
		buf_release(&b);
	}
}

static void test_gzip_members(void)
{
	/* Two gzip members, concatenated, as 'cat a.gz b.gz' makes. */
	const char *parts[2] = { "one\ntwo\n", "three\n" };
	struct buf all;
	char out[256];
	int k;

	buf_init(&all);
	for (k = 0; k < 2; k++) {
		unsigned char z[256];
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = (unsigned char *)parts[k];
		zs.avail_in = (uInt)strlen(parts[k]);
		zs.next_out = z;
		zs.avail_out = sizeof(z);
		deflate(&zs, Z_FINISH);
		buf_add(&all, z, sizeof(z) - zs.avail_out);
		deflateEnd(&zs);
	}
	frame(all.p, all.len, out, sizeof(out), NULL);
	CHECK_STR(out, "1:1:one|2:1:two|3:1:three|",
		  "concatenated gzip members are read in turn");
	buf_release(&all);
}

/* A gzip member of data, stored (level 0): its size follows len exactly. */
static void gz_stored(struct buf *b, const char *data, size_t len)
{
	z_stream zs;
	size_t cap = len + len / 1000 + 1024;
	unsigned char *z = xmalloc(cap);

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 0, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (unsigned char *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = z;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	buf_add(b, z, cap - zs.avail_out);
	deflateEnd(&zs);
	free(z);
}

/*
 * A member that ends 2, 1 or 0 bytes before the end of the first block
 * the file is read in (INPUT_BLOCK_BYTES): the next member's magic bytes
 * are split between two reads, or start the next one. Both members come
 * out whole, with no warning of trailing garbage (found by a test of
 * these offsets: a split magic was taken for garbage).
 */
static void test_gzip_block_edge(void)
{
	size_t n = INPUT_BLOCK_BYTES + 4096, len, i;
	char *data = xmalloc(n);
	int before;

	for (i = 0; i < n; i++)
		data[i] = (char)('a' + (i * 7 + i / 61) % 26);
	for (before = 2; before >= 0; before--) {
		size_t lo = 0, hi = n, want = INPUT_BLOCK_BYTES - (size_t)before;
		struct buf all, got;
		struct input in;
		const char *path;
		char blk[65536];
		ssize_t r;
		bool exact;

		/* the content length whose stored member is want bytes */
		while (lo < hi) {
			struct buf t;

			len = lo + (hi - lo) / 2;
			buf_init(&t);
			gz_stored(&t, data, len);
			if (t.len < want)
				lo = len + 1;
			else
				hi = len;
			buf_release(&t);
		}
		len = lo;
		buf_init(&all);
		gz_stored(&all, data, len);
		exact = all.len == want;
		gz_stored(&all, "tail\n", 5);
		path = write_tmp(all.p, all.len);
		buf_init(&got);
		if (input_open(&in, path) < 0)
			abort();
		while ((r = input_read(&in, blk, sizeof(blk))) > 0)
			buf_add(&got, blk, (size_t)r);
		CHECK(exact && r == 0 && in.members == 2 &&
		      got.len == len + 5 && memcmp(got.p, data, len) == 0 &&
		      memcmp(got.p + len, "tail\n", 5) == 0,
		      "a gzip member ending %d bytes before a block's end, "
		      "then another: both whole", before);
		input_close(&in);
		unlink(path);
		buf_release(&got);
		buf_release(&all);
	}
	free(data);
}

/*
 * A member whose header has every optional field (FEXTRA, FNAME,
 * FCOMMENT, FHCRC), then a plain one, then garbage, read from the file
 * 1, 2, 3 and 7 bytes at a time and whole: the content is the same every
 * time, with the warning about the garbage only. (ISA-L 2.30 misread such
 * a header split between two reads, so input.c reads headers itself.)
 */
static void test_gzip_split_header(void)
{
	static const char data[] = "2026-02-24T10:15:02Z ERROR app: boom\n";
	static const size_t limits[] = { 1, 2, 3, 7, 0 };
	unsigned char z[256];
	struct buf all;
	uLong crc;
	size_t i, k;

	buf_init(&all);
	for (k = 0; k < 2; k++) {
		z_stream zs;
		unsigned char t[8];
		size_t start = all.len;
		uint32_t c = (uint32_t)crc32(0, (const Bytef *)data,
					     sizeof(data) - 1);

		/* ID1 ID2 CM FLG (FHCRC|FEXTRA|FNAME|FCOMMENT or none) */
		buf_add(&all, k == 0 ? "\x1f\x8b\x08\x1e" : "\x1f\x8b\x08\x00",
			4);
		buf_add(&all, "\0\0\0\0\0\x03", 6);
		if (k == 0) {
			buf_add(&all, "\x05\x00XYabc", 7);
			buf_add(&all, "app.log", 8);
			buf_add(&all, "rotated", 8);
			crc = crc32(0, (const Bytef *)all.p + start,
				    (uInt)(all.len - start));
			t[0] = (unsigned char)(crc & 0xff);
			t[1] = (unsigned char)((crc >> 8) & 0xff);
			buf_add(&all, t, 2);
		}
		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = (unsigned char *)(uintptr_t)data;
		zs.avail_in = (uInt)(sizeof(data) - 1);
		zs.next_out = z;
		zs.avail_out = sizeof(z);
		deflate(&zs, Z_FINISH);
		buf_add(&all, z, sizeof(z) - zs.avail_out);
		deflateEnd(&zs);
		for (i = 0; i < 4; i++) {
			t[i] = (unsigned char)(c >> (8 * i));
			t[4 + i] = (unsigned char)((sizeof(data) - 1) >> (8 * i));
		}
		buf_add(&all, t, 8);
	}
	buf_add(&all, "junk", 4);
	for (i = 0; i < ARRAY_SIZE(limits); i++) {
		const char *path = write_tmp(all.p, all.len);
		struct input in;
		char out[256], how[32];
		size_t got = 0;
		ssize_t r;

		input_raw_limit = limits[i];
		if (input_open(&in, path) < 0)
			abort();
		while ((r = input_read(&in, out + got, sizeof(out) - got)) > 0)
			got += (size_t)r;
		snprintf(how, sizeof(how), limits[i] ? "%zu bytes at a time" :
			 "whole", limits[i]);
		CHECK(r == 0 && in.members == 2 && got == 2 * (sizeof(data) - 1) &&
		      memcmp(out, data, sizeof(data) - 1) == 0 &&
		      memcmp(out + sizeof(data) - 1, data,
			     sizeof(data) - 1) == 0,
		      "a gzip header with every optional field, read %s, "
		      "inflates as zlib does", how);
		input_close(&in);
		unlink(path);
	}
	input_raw_limit = 0;
	buf_release(&all);
}

static void test_envelopes(void)
{
	FRAME("api-1  | ERROR:    Traceback (most recent call last):\n"
	      "api-1  |   File \"a.py\", line 1, in <module>\n"
	      "api-1  | KeyError: 'X'\n"
	      "api-1  | INFO:     next\n",
	      "1:3:api-1  | ERROR:    Traceback (most recent call last):\n"
	      "api-1  |   File \"a.py\", line 1, in <module>\n"
	      "api-1  | KeyError: 'X'|4:1:api-1  | INFO:     next|",
	      "a traceback whose lines all carry the compose prefix is one "
	      "record");
	FRAME("api-1  | ERROR: boom\n"
	      "db-1   |   indented, but another service\n",
	      "1:1:api-1  | ERROR: boom|2:1:db-1   |   indented, but another "
	      "service|",
	      "lines of another service never join");
	FRAME("2026-02-24T10:13:17.6Z [err]  ERROR:    Traceback (most recent call last):\n"
	      "2026-02-24T10:13:17.7Z [err]    File \"a.py\", line 1\n"
	      "2026-02-24T10:13:17.8Z [err]  KeyError: 'X'\n"
	      "2026-02-24T10:13:17.9Z [inf]  Stopping Container\n",
	      "1:3:2026-02-24T10:13:17.6Z [err]  ERROR:    Traceback (most "
	      "recent call last):\n2026-02-24T10:13:17.7Z [err]    File "
	      "\"a.py\", line 1\n2026-02-24T10:13:17.8Z [err]  KeyError: "
	      "'X'|4:1:2026-02-24T10:13:17.9Z [inf]  Stopping Container|",
	      "Railway's [err] lines form one traceback; [inf] is another "
	      "stream");
	FRAME("{\"message\":\"ERROR:    Traceback (most recent call last):\"}\n"
	      "{\"message\":\"  File \\\"a.py\\\", line 1\"}\n"
	      "{\"message\":\"\\tIs the server running?\"}\n"
	      "{\"message\":\"KeyError: 'X'\"}\n"
	      "{\"message\":\"INFO: next\"}\n",
	      "1:4:{\"message\":\"ERROR:    Traceback (most recent call "
	      "last):\"}\n{\"message\":\"  File \\\"a.py\\\", line 1\"}\n"
	      "{\"message\":\"\\tIs the server running?\"}\n"
	      "{\"message\":\"KeyError: 'X'\"}|5:1:{\"message\":\"INFO: next\"}|",
	      "JSON lines whose messages form a traceback are one record");
	FRAME("2026-02-24T10:15:10.000000001Z stdout P half a \n"
	      "2026-02-24T10:15:10.000000002Z stdout F line\n"
	      "2026-02-24T10:15:10.000000003Z stdout F next\n",
	      "1:2:2026-02-24T10:15:10.000000001Z stdout P half a \n"
	      "2026-02-24T10:15:10.000000002Z stdout F line|"
	      "3:1:2026-02-24T10:15:10.000000003Z stdout F next|",
	      "a CRI partial line joins its rest");
}

static void test_shapes(void)
{
	FRAME("Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "psycopg2.OperationalError: refused\n"
	      "\tIs the server running?\n"
	      "\n"
	      "\n"
	      "The above exception was the direct cause of the following exception:\n"
	      "\n"
	      "Traceback (most recent call last):\n"
	      "  File \"b.py\", line 2\n"
	      "sqlalchemy.exc.OperationalError: refused\n"
	      "after\n",
	      "1:11:Traceback (most recent call last):\n"
	      "  File \"a.py\", line 1\n"
	      "psycopg2.OperationalError: refused\n"
	      "\tIs the server running?\n"
	      "\n"
	      "\n"
	      "The above exception was the direct cause of the following exception:\n"
	      "\n"
	      "Traceback (most recent call last):\n"
	      "  File \"b.py\", line 2\n"
	      "sqlalchemy.exc.OperationalError: refused|12:1:after|",
	      "a chain header after two blank lines (psycopg2) joins");
	FRAME("Traceback (most recent call last):\n"
	      "  File \"main.py\", line 9, in <module>\n"
	      "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings\n"
	      "database_url\n"
	      "  Field required [type=missing, input_value={}, input_type=dict]\n"
	      "jwt_secret_key\n"
	      "  Field required [type=missing, input_value={}, input_type=dict]\n"
	      "INFO: next\n",
	      "1:7:Traceback (most recent call last):\n"
	      "  File \"main.py\", line 9, in <module>\n"
	      "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings\n"
	      "database_url\n"
	      "  Field required [type=missing, input_value={}, input_type=dict]\n"
	      "jwt_secret_key\n"
	      "  Field required [type=missing, input_value={}, input_type=dict]|"
	      "8:1:INFO: next|",
	      "pydantic's error locations join, as many as it announced");
	FRAME("INFO: GET / 200\n"
	      "  + Exception Group Traceback (most recent call last):\n"
	      "  | ExceptionGroup: x (1 sub-exception)\n"
	      "  +-+---------------- 1 ----------------\n"
	      "    | ValueError: 1\n"
	      "    +------------------------------------\n"
	      "next\n",
	      "1:1:INFO: GET / 200|2:5:  + Exception Group Traceback (most "
	      "recent call last):\n  | ExceptionGroup: x (1 sub-exception)\n"
	      "  +-+---------------- 1 ----------------\n    | ValueError: 1\n"
	      "    +------------------------------------|7:1:next|",
	      "an ExceptionGroup after an unrelated line starts a record");
	FRAME("2026-02-24 ERROR 1 --- [main] o.a.c: Servlet threw exception\n"
	      "org.postgresql.util.PSQLException: Connection refused\n"
	      "\tat org.postgresql.Driver.connect(Driver.java:285)\n"
	      "Caused by: java.net.ConnectException: Connection refused\n"
	      "\t... 20 common frames omitted\n"
	      "2026-02-24 INFO next\n",
	      "1:5:2026-02-24 ERROR 1 --- [main] o.a.c: Servlet threw "
	      "exception\norg.postgresql.util.PSQLException: Connection "
	      "refused\n\tat org.postgresql.Driver.connect(Driver.java:285)\n"
	      "Caused by: java.net.ConnectException: Connection refused\n"
	      "\t... 20 common frames omitted|6:1:2026-02-24 INFO next|",
	      "Java: the exception line, its frames and causes join");
	FRAME("redis.exceptions.ConnectionError: Error 111 connecting to "
	      "redis:6379. Connection refused.\n"
	      "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) "
	      "connection to server at \"db\", port 5432 failed: Connection "
	      "refused\n"
	      "\tIs the server running on that host and accepting TCP/IP "
	      "connections?\n",
	      "1:1:redis.exceptions.ConnectionError: Error 111 connecting to "
	      "redis:6379. Connection refused.|2:2:sqlalchemy.exc."
	      "OperationalError: (psycopg2.OperationalError) connection to "
	      "server at \"db\", port 5432 failed: Connection refused\n"
	      "\tIs the server running on that host and accepting TCP/IP "
	      "connections?|",
	      "two exception lines in a row are two records");
	FRAME("2026-03-02T08:15:09.000Z [err] jose.exceptions."
	      "ExpiredSignatureError: Signature has expired.\n"
	      "2026-03-02T08:15:10.000Z [err] psycopg2.OperationalError: SSL "
	      "connection has been closed unexpectedly\n",
	      "1:1:2026-03-02T08:15:09.000Z [err] jose.exceptions."
	      "ExpiredSignatureError: Signature has expired.|"
	      "2:1:2026-03-02T08:15:10.000Z [err] psycopg2.OperationalError: "
	      "SSL connection has been closed unexpectedly|",
	      "... also in a Railway export");
	FRAME("psycopg2.errors.UniqueViolation: duplicate key value violates "
	      "unique constraint \"users_email_key\"\n"
	      "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) "
	      "fe_sendauth: no password supplied\n",
	      "1:1:psycopg2.errors.UniqueViolation: duplicate key value "
	      "violates unique constraint \"users_email_key\"|2:1:sqlalchemy."
	      "exc.OperationalError: (psycopg2.OperationalError) fe_sendauth: "
	      "no password supplied|",
	      "... whatever the first exception's name ends in");
	FRAME("java.net.ConnectException: Connection refused\n"
	      "java.lang.RuntimeException: java.net.ConnectException: "
	      "Connection refused\n"
	      "\tat com.example.Db.connect(Db.java:42)\n",
	      "1:3:java.net.ConnectException: Connection refused\n"
	      "java.lang.RuntimeException: java.net.ConnectException: "
	      "Connection refused\n\tat com.example.Db.connect(Db.java:42)|",
	      "Java: a wrapper that quotes the message line before it joins");
	FRAME("2026-02-24 ERROR 1 --- [main] o.a.c: request failed\n"
	      "java.lang.NullPointerException\n"
	      "\tat com.example.Api.get(Api.java:7)\n"
	      "2026-02-24 INFO next\n",
	      "1:3:2026-02-24 ERROR 1 --- [main] o.a.c: request failed\n"
	      "java.lang.NullPointerException\n"
	      "\tat com.example.Api.get(Api.java:7)|4:1:2026-02-24 INFO next|",
	      "Java: an exception without a message joins too");
	FRAME("ERROR app: settings are invalid:\n"
	      "pydantic_core._pydantic_core.ValidationError: 1 validation "
	      "error for Settings\n"
	      "database_url\n"
	      "  Field required [type=missing, input_value={}, "
	      "input_type=dict]\n"
	      "INFO next\n",
	      "1:4:ERROR app: settings are invalid:\npydantic_core._pydantic_"
	      "core.ValidationError: 1 validation error for Settings\n"
	      "database_url\n  Field required [type=missing, input_value={}, "
	      "input_type=dict]|5:1:INFO next|",
	      "an announced pydantic error keeps its error lines");
	FRAME("Name:         api-1\n"
	      "Containers:\n"
	      "  api:\n"
	      "    State:          Waiting\n"
	      "      Reason:       CrashLoopBackOff\n",
	      "1:1:Name:         api-1|2:1:Containers:|3:1:  api:|"
	      "4:1:    State:          Waiting|5:1:      Reason:       "
	      "CrashLoopBackOff|",
	      "kubectl describe: one record per line");
}

static void test_peel(void)
{
	struct record_layer l;
	struct record_json_member m;
	size_t pos = 0;
	const char *j = "{ \"a\" : [1, {\"b\": \"}\"}], \"msg\": \"x\\\"y\", "
			"\"n\": -1.5e3, \"t\": true }";
	int r, count = 0;

	CHECK(record_peel("api-1  | x", 10, &l) && l.env == RECORD_ENV_COMPOSE &&
	      l.len == 9 && span_eq(l.source, "api-1"), "compose");
	CHECK(!record_peel("INFO:     x", 11, &l) && l.env == RECORD_ENV_NONE,
	      "uvicorn is no envelope");
	CHECK(!record_peel("2026-02-24 10:15:02,123 INFO x", 30, &l),
	      "Python's asctime is no envelope");
	CHECK(!record_peel("2026-02-24T10:15:02Z INFO x", 27, &l),
	      "an application's coarse ISO stamp is no envelope");
	CHECK(record_peel("2026-02-24T10:15:02.123456Z x", 29, &l) &&
	      l.env == RECORD_ENV_STAMP && l.len == 28, "docker logs -t");
	CHECK(record_peel("2026-02-24T10:15:02Z stderr P x", 31, &l) &&
	      l.env == RECORD_ENV_CRI && l.partial &&
	      span_eq(l.stream, "stderr"), "CRI");
	CHECK(record_peel("2026-02-24T10:15:02+00:00 app[web.1]: x", 39, &l) &&
	      l.env == RECORD_ENV_HEROKU && span_eq(l.source, "web.1") &&
	      span_eq(l.stream, "app"), "Heroku");
	CHECK(record_peel("2026-02-24T10:15:02+0000 web-1 sshd[7]: x", 41, &l) &&
	      l.env == RECORD_ENV_SYSLOG_ISO && span_eq(l.host, "web-1") &&
	      span_eq(l.source, "sshd") && span_eq(l.pid, "7"),
	      "journalctl short-iso");
	CHECK(!record_peel("2026-02-24T10:15:02+0000 INFO app.db: x", 39, &l),
	      "a level word is no syslog host");
	CHECK(record_peel("Feb  4 10:15:02 web-1 kernel: x", 31, &l) &&
	      l.env == RECORD_ENV_SYSLOG && span_eq(l.source, "kernel") &&
	      l.pid.len == 0, "syslog without a pid");
	CHECK(record_peel("Feb 24 10:15:02 AM  x", 21, &l) &&
	      l.env == RECORD_ENV_RENDER && l.len == 20 &&
	      span_eq(l.stamp, "Feb 24 10:15:02 AM"), "Render");
	CHECK(record_peel("2026-02-24T10:15:02Z [err]    File", 34, &l) &&
	      l.env == RECORD_ENV_RAILWAY && l.len == 28,
	      "Railway: the separator only, the indentation stays");
	CHECK(record_peel("\x1b[36mapi-1  | \x1b[0mx", 19, &l) &&
	      l.env == RECORD_ENV_COMPOSE && l.len == 18,
	      "compose, coloured");
	CHECK(record_ansi_len("\x1b[1;31mx", 9) == 7 &&
	      record_ansi_len("\x1b]0;t\a", 6) == 6 &&
	      record_ansi_len("\x1b(B", 3) == 3 &&
	      record_ansi_len("x", 1) == 0, "ANSI sequences");
	while ((r = record_json_next(j, strlen(j), &pos, &m)) > 0) {
		count++;
		if (count == 2)
			CHECK(span_eq(m.key, "msg") && span_eq(m.value, "x\\\"y") &&
			      m.type == 's', "a string member, escapes kept");
		if (count == 3)
			CHECK(span_eq(m.value, "-1.5e3") && m.type == 'n',
			      "a number member");
	}
	CHECK(r == 0 && count == 4, "a JSON object walked (%d members)", count);
	pos = 0;
	while ((r = record_json_next("{\"a\": \"x", 8, &pos, &m)) > 0)
		;
	CHECK(r < 0, "a cut object is malformed");
	CHECK(record_json_message_rank("message", 7) == 0 &&
	      record_json_message_rank("log", 3) == 2 &&
	      record_json_message_rank("level", 5) == -1, "message ranks");
}

static void test_blocks(void)
{
	const char *data = "line one\nline two\n";
	const char *path = write_tmp(data, strlen(data));
	struct input in;
	struct record_reader rr;
	const char *p;
	size_t n, total = 0;

	if (input_open(&in, path) < 0 || record_reader_init(&rr, &in) < 0)
		abort();
	record_reader_prime(&rr);
	while (record_reader_block(&rr, &p, &n))
		total += n;
	CHECK(total == strlen(data) && !rr.input_error,
	      "raw blocks give the whole content");
	record_reader_release(&rr);
	input_close(&in);
	unlink(path);
}

int main(void)
{
	test_basic();
	test_traceback();
	test_caps();
	test_gzip_members();
	test_gzip_block_edge();
	test_gzip_split_header();
	test_envelopes();
	test_shapes();
	test_peel();
	test_blocks();
	return unit_done();
}

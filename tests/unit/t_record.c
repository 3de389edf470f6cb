/*
 * t_record.c - unit tests for stage 2 (record framing): tracebacks,
 * chained exceptions, continuation lines, CRLF, caps, gzip members.
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

int main(void)
{
	test_basic();
	test_traceback();
	test_caps();
	test_gzip_members();
	return unit_done();
}

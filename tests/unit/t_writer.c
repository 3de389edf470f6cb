/*
 * t_writer.c - unit tests for the writer thread of stage 5 (writer.c):
 * records come out in order and whole, far more of them than the chunks
 * hold; a record larger than a chunk; the first error stops the writing
 * until it is cleared; sync waits for everything queued.
 */
#include "common.h"
#include "writer.h"
#include "unit.h"

/* What the writer thread saw; read by the main thread after a sync. */
struct seen {
	uint64_t next;          /* the number the next record must carry */
	uint64_t records;
	uint64_t bytes;
	uint64_t bad;           /* records out of order or damaged */
	uint64_t fail_at;       /* return an error at this record (0: never) */
	uint64_t big;           /* records larger than a chunk */
};

/* A record: its number, then len - 8 bytes of (number + i) & 0xff. */
static int check_rec(struct seen *s, const void *rec, size_t len)
{
	const unsigned char *p = rec;
	uint64_t n;
	size_t i;

	if (((uintptr_t)rec & 7) != 0)
		s->bad++;

	memcpy(&n, p, sizeof(n));
	if (s->fail_at != 0 && n == s->fail_at)
		return -7;
	if (n != s->next)
		s->bad++;
	for (i = sizeof(n); i < len; i++)
		if (p[i] != (unsigned char)((n + i) & 0xff)) {
			s->bad++;
			break;
		}
	if (len > WRITER_CHUNK_BYTES)
		s->big++;
	s->next = n + 1;
	s->records++;
	s->bytes += len;
	return 0;
}

/* The writer's function: each record of the chunk, in order. */
static int check_chunk(void *arg, const struct writer_chunk *c)
{
	struct writer_rec r = { NULL, 0 };
	int rc = 0;

	while (rc == 0 && writer_next(c, &r))
		rc = check_rec(arg, r.p, r.len);
	return rc;
}

/* Queue record number n of len bytes (len >= 8); false when refused. */
static bool add(struct writer *w, uint64_t n, size_t len)
{
	unsigned char *p = writer_add(w, len);
	size_t i;

	if (p == NULL)
		return false;
	memcpy(p, &n, sizeof(n));
	for (i = sizeof(n); i < len; i++)
		p[i] = (unsigned char)((n + i) & 0xff);
	return true;
}

int main(void)
{
	struct seen s;
	struct writer *w;
	uint64_t n, bytes = 0;
	bool all = true;

	memset(&s, 0, sizeof(s));
	w = writer_start(check_chunk, &s);
	CHECK(w != NULL, "the thread starts");
	if (w == NULL)
		return unit_done();

	/* Many records of odd sizes: many times what the chunks hold. */
	for (n = 0; n < 200000; n++) {
		size_t len = 8 + (size_t)(n * 7919 % 300);

		all &= add(w, n, len);
		bytes += len;
	}
	CHECK(all, "200,000 records queued");
	CHECK(writer_sync(w) == 0, "sync: no error");
	CHECK(s.records == 200000 && s.bytes == bytes,
	      "every record written once (%" PRIu64 " of 200000)", s.records);
	CHECK(s.bad == 0, "in order and intact (%" PRIu64 " bad)", s.bad);

	/* A record larger than a chunk, between small ones. */
	add(w, n++, 40);
	add(w, n++, 3 * WRITER_CHUNK_BYTES + 5);
	add(w, n++, 40);
	CHECK(writer_sync(w) == 0 && s.big == 1 && s.bad == 0 &&
	      s.records == 200003, "a record larger than a chunk");

	/* An error: kept, the rest skipped, no more queued. */
	s.fail_at = n + 10;
	for (int i = 0; i < 100; i++)
		add(w, n + (uint64_t)i, 64);
	CHECK(writer_sync(w) == -7, "sync returns the first error");
	CHECK(s.records == 200003 + 10, "nothing written after the error");
	CHECK(writer_error(w) == -7 && writer_add(w, 16) == NULL,
	      "after an error, nothing is queued");

	/* Cleared: writing goes on. */
	writer_clear_error(w);
	s.fail_at = 0;
	s.next = 1000000;
	CHECK(writer_error(w) == 0 && add(w, 1000000, 8) &&
	      add(w, 1000001, 8) && writer_sync(w) == 0 && s.next == 1000002,
	      "after writer_clear_error(), records are written again");

	/* Stop writes what is queued first. */
	add(w, 1000002, 100);
	writer_stop(w);
	CHECK(s.next == 1000003 && s.bad == 0, "stop writes what is queued");
	writer_stop(NULL);
	return unit_done();
}

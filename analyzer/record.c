/*
 * record.c - pipeline stage 2: split blocks into lines with memchr and
 * join the lines that belong together (tracebacks, indented continuations)
 * into records, as slices of one reusable buffer.
 */
#include "common.h"
#include "record.h"
#include "diag.h"

/* Room for a whole record, one line being scanned, and a block. */
#define RECORD_BUF_BYTES \
	(RECORD_MAX_BYTES + RECORD_MAX_LINE_BYTES + 2 * INPUT_BLOCK_BYTES)

/*
 * Traceback states:
 *   TB_NONE   an ordinary record
 *   TB_IN     inside "Traceback (most recent call last):" frames
 *   TB_EXC    the exception line was seen; a chain header may follow
 *   TB_CHAIN  after "During handling of the above exception..." or "The
 *             above exception was the direct cause...": the next
 *             traceback joins
 */
enum { TB_NONE, TB_IN, TB_EXC, TB_CHAIN };

static const char tb_head[] = "Traceback (most recent call last):";
static const char chain1[] =
	"During handling of the above exception, another exception occurred:";
static const char chain2[] =
	"The above exception was the direct cause of the following exception:";

int record_reader_init(struct record_reader *rr, struct input *in)
{
	memset(rr, 0, sizeof(*rr));
	rr->in = in;
	if (posix_memalign((void **)&rr->buf, 64, RECORD_BUF_BYTES) != 0) {
		rr->buf = NULL;
		return error("%s: out of memory", in->name);
	}
	return 0;
}

void record_reader_release(struct record_reader *rr)
{
	if (rr == NULL)
		return;
	free(rr->buf);
	rr->buf = NULL;
}

/*
 * Move the bytes still referenced to the front of the buffer and read
 * more. Return 1 when bytes were added (or skipped), 0 at the end.
 */
static int refill(struct record_reader *rr)
{
	size_t keep = rr->keep < rr->pos ? rr->keep : rr->pos;
	ssize_t r;
	char *dst;

	if (rr->eof)
		return 0;
	if (keep > 0) {
		memmove(rr->buf, rr->buf + keep, rr->end - keep);
		rr->end -= keep;
		rr->pos -= keep;
		rr->keep -= keep;
		rr->rs -= keep < rr->rs ? keep : rr->rs;
		rr->re -= keep < rr->re ? keep : rr->re;
		if (rr->have_pending) {
			rr->pending.start -= keep;
			rr->pending.end -= keep;
		}
	}
	if (rr->end >= RECORD_BUF_BYTES)
		BUG("record buffer full (end %zu)", rr->end);
	dst = rr->buf + rr->end;
	r = input_read(rr->in, dst, RECORD_BUF_BYTES - rr->end);
	if (r < 0) {
		rr->input_error = 1;
		rr->eof = true;
		rr->primed = true;
		return 0;
	}
	if (r == 0) {
		rr->eof = true;
		rr->primed = true;
		return 0;
	}
	if (!rr->primed) {
		rr->head_len = (size_t)r < RECORD_HEAD_BYTES ? (size_t)r :
			       RECORD_HEAD_BYTES;
		memcpy(rr->head, dst, rr->head_len);
		rr->primed = true;
	}
	if (rr->skip_to_nl) {
		char *nl = memchr(dst, '\n', (size_t)r);
		size_t drop;

		if (nl == NULL) {
			rr->pos_off += (uint64_t)r;
			return 1;
		}
		drop = (size_t)(nl - dst) + 1;
		rr->pos_off += drop;
		memmove(dst, dst + drop, (size_t)r - drop);
		r -= (ssize_t)drop;
		rr->skip_to_nl = false;
	}
	rr->end += (size_t)r;
	return 1;
}

/* Read the next line into *ln. Return 1, or 0 at the end of input. */
static int read_line(struct record_reader *rr, struct record_line *ln)
{
	for (;;) {
		size_t avail = rr->end - rr->pos;
		char *start = rr->buf + rr->pos;
		char *nl = rr->skip_to_nl ? NULL : memchr(start, '\n', avail);
		size_t len;

		if (nl != NULL || (rr->eof && avail > 0 && !rr->skip_to_nl)) {
			len = nl ? (size_t)(nl - start) : avail;
			if (nl == NULL) {
				rr->partial_line = true;
				rr->partial_off = rr->pos_off;
			}
			ln->start = rr->pos;
			ln->end = rr->pos + len;
			if (len > 0 && start[len - 1] == '\r')
				ln->end--;
			ln->line_no = ++rr->line_no;
			ln->offset = rr->pos_off;
			ln->cut = false;
			len += nl ? 1 : 0;
			rr->pos += len;
			rr->pos_off += len;
			rr->lines++;
			return 1;
		}
		if (!rr->skip_to_nl && avail >= RECORD_MAX_LINE_BYTES) {
			/* Keep the head of the line, skip its tail. */
			ln->start = rr->pos;
			ln->end = rr->pos + RECORD_MAX_LINE_BYTES;
			ln->line_no = ++rr->line_no;
			ln->offset = rr->pos_off;
			ln->cut = true;
			rr->pos_off += avail;
			rr->end = ln->end;
			rr->pos = rr->end;
			rr->skip_to_nl = true;
			rr->lines++;
			rr->cut_lines++;
			/* The newline may already be in the next block. */
			return 1;
		}
		if (rr->eof) {
			/* A cut line whose newline never came. */
			rr->skip_to_nl = false;
			return 0;
		}
		refill(rr);
	}
}

/*
 * The next line, past those an earlier run already read. Skipped lines
 * are not counted: record_reader_resume() set the numbering.
 */
static int next_line(struct record_reader *rr, struct record_line *ln)
{
	while (rr->skip_until > 0) {
		uint64_t n = rr->line_no, lines = rr->lines;

		if (!read_line(rr, ln))
			return 0;
		if (ln->offset >= rr->skip_until) {
			rr->skip_until = 0;
			return 1;
		}
		rr->line_no = n;
		rr->lines = lines;
		rr->keep = rr->pos;
	}
	return read_line(rr, ln);
}

int record_reader_prime(struct record_reader *rr)
{
	if (!rr->primed)
		refill(rr);
	return rr->input_error ? -1 : 0;
}

void record_reader_resume(struct record_reader *rr, uint64_t offset,
			  uint64_t lines)
{
	rr->skip_until = offset;
	rr->line_no = lines;
}

static bool line_is(const struct record_reader *rr,
		    const struct record_line *ln, const char *s, size_t n)
{
	return ln->end - ln->start == n &&
	       memcmp(rr->buf + ln->start, s, n) == 0;
}

/* Does the line end with s (a traceback header after a log prefix)? */
static bool line_ends(const struct record_reader *rr,
		      const struct record_line *ln, const char *s, size_t n)
{
	return ln->end - ln->start >= n &&
	       memcmp(rr->buf + ln->end - n, s, n) == 0;
}

static bool has(const char *p, size_t len, const char *needle)
{
	return memmem(p, len, needle, strlen(needle)) != NULL;
}

/*
 * Does a one-line record announce the traceback that follows it? Python's
 * logging.exception() and uvicorn's "Exception in ASGI application" print
 * a message line and then the traceback; a traceback after an unrelated
 * access line starts a record of its own.
 */
static bool announces_traceback(const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == ':')
		return true;
	return has(p, len, "ERROR") || has(p, len, "rror") ||
	       has(p, len, "CRITICAL") || has(p, len, "xception") ||
	       has(p, len, "FATAL") || has(p, len, "WARNING") ||
	       has(p, len, "ailed") || has(p, len, "critical");
}

static bool is_indented(const struct record_reader *rr,
			const struct record_line *ln)
{
	char c = rr->buf[ln->start];

	return ln->end > ln->start && (c == ' ' || c == '\t');
}

int record_next(struct record_reader *rr, struct record *rec)
{
	struct record_line ln;
	bool continued = rr->capped_prev;
	unsigned nlines = 1;
	unsigned flags = 0;
	uint64_t end_off;

	/* The first non-blank line. */
	for (;;) {
		if (rr->have_pending) {
			ln = rr->pending;
			rr->have_pending = false;
		} else {
			rr->keep = rr->pos;
			if (!next_line(rr, &ln))
				return 0;
		}
		if (ln.end > ln.start || ln.cut)
			break;
		continued = false;
	}
	rr->capped_prev = false;
	if (!continued)
		rr->state = TB_NONE;
	else
		flags |= RECORD_CONTINUED;
	rr->rs = ln.start;
	rr->re = ln.end;
	rr->keep = ln.start;
	rec->line_no = ln.line_no;
	rec->offset = ln.offset;
	if (line_ends(rr, &ln, tb_head, sizeof(tb_head) - 1)) {
		rr->state = TB_IN;
		flags |= RECORD_TRACEBACK;
	}
	if (ln.cut) {
		flags |= RECORD_LINE_CUT;
		rr->state = TB_NONE;
		end_off = rr->pos_off;
		goto emit;
	}

	for (;;) {
		bool join = false;

		if (!next_line(rr, &ln)) {
			end_off = rr->pos_off;
			goto emit;
		}
		if (ln.cut) {
			join = false;
		} else if (ln.end == ln.start) {
			if (rr->state == TB_EXC) {
				struct record_line hdr;

				if (!next_line(rr, &hdr)) {
					end_off = rr->pos_off;
					goto emit;
				}
				if (line_is(rr, &hdr, chain1, sizeof(chain1) - 1) ||
				    line_is(rr, &hdr, chain2, sizeof(chain2) - 1)) {
					ln = hdr;
					rr->state = TB_CHAIN;
					nlines++;
					join = true;
				} else {
					rr->pending = hdr;
					rr->have_pending = true;
					end_off = hdr.offset;
					goto emit;
				}
			} else if (rr->state == TB_CHAIN) {
				join = true;
			} else {
				/* The blank line is consumed: resume after it. */
				end_off = rr->pos_off;
				goto emit;
			}
		} else if (is_indented(rr, &ln)) {
			join = true;
		} else if (line_is(rr, &ln, tb_head, sizeof(tb_head) - 1)) {
			if (rr->state == TB_CHAIN ||
			    (rr->state == TB_NONE && nlines == 1 &&
			     announces_traceback(rr->buf + rr->rs,
						 rr->re - rr->rs))) {
				rr->state = TB_IN;
				flags |= RECORD_TRACEBACK;
				join = true;
			}
		} else if (rr->state == TB_IN) {
			rr->state = TB_EXC;
			join = true;
		}
		if (join && (ln.end - rr->rs > RECORD_MAX_BYTES ||
			     nlines + 1 > RECORD_MAX_LINES)) {
			flags |= RECORD_CAPPED;
			rr->capped_records++;
			rr->capped_prev = true;
			rr->pending = ln;
			rr->have_pending = true;
			end_off = ln.offset;
			goto emit_keep_state;
		}
		if (!join) {
			rr->pending = ln;
			rr->have_pending = true;
			end_off = ln.offset;
			goto emit;
		}
		rr->re = ln.end;
		nlines++;
	}

emit:
	rr->state = TB_NONE;
emit_keep_state:
	rec->text = rr->buf + rr->rs;
	rec->len = rr->re - rr->rs;
	rec->nlines = nlines;
	rec->flags = flags;
	rec->end_offset = end_off;
	rec->end_line = rr->have_pending ? rr->pending.line_no - 1 :
			rr->line_no;
	rr->records++;
	return 1;
}

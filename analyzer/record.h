/*
 * record.h - pipeline stage 2: frame the byte stream into records.
 *
 * A record is one log line, or several lines that belong together: a
 * Python traceback (from "Traceback (most recent call last):" through its
 * exception line, chained tracebacks included) joins the log line that
 * announced it, and indented continuation lines join the record above.
 * Records are slices of the reader's buffer: no copy, no allocation per
 * line. Every size is capped; hitting a cap is counted, never fatal.
 */
#ifndef LOGTRIAGE_RECORD_H
#define LOGTRIAGE_RECORD_H

#include "common.h"
#include "input.h"

#define RECORD_MAX_LINE_BYTES (1u << 20)   /* longer lines are cut */
#define RECORD_MAX_BYTES (1u << 20)        /* a longer record is split */
#define RECORD_MAX_LINES 1000              /* so is one with more lines */
#define RECORD_HEAD_BYTES 4096             /* content that identifies an input */

/*
 * Record flags:
 *   RECORD_LINE_CUT   a line of the record was longer than
 *                     RECORD_MAX_LINE_BYTES; the rest of it was skipped
 *   RECORD_CAPPED     the record hit RECORD_MAX_BYTES or RECORD_MAX_LINES;
 *                     its remaining lines come as the next record(s)
 *   RECORD_CONTINUED  this record holds the lines after a capped one
 *   RECORD_TRACEBACK  the record holds a Python traceback
 */
enum record_flags {
	RECORD_LINE_CUT = 1 << 0,
	RECORD_CAPPED = 1 << 1,
	RECORD_CONTINUED = 1 << 2,
	RECORD_TRACEBACK = 1 << 3,
};

struct record {
	const char *text;  /* borrowed from the reader; valid until the next
			      record_next(); lines joined by "\n" (a "\r"
			      before "\n" may remain); no final newline */
	size_t len;
	uint64_t line_no;  /* 1-based number of the first line */
	uint64_t offset;   /* content byte offset of the first line */
	uint64_t end_offset; /* content offset just past the record's last
				line and its newline (and blank lines after
				it): where a later run resumes */
	uint64_t end_line;   /* lines before end_offset */
	unsigned nlines;   /* lines in the record */
	unsigned flags;    /* enum record_flags */
};

struct record_line {
	size_t start, end;  /* [start, end) in buf, without "\r\n" */
	uint64_t line_no;
	uint64_t offset;    /* content offset of start */
	bool cut;
};

/* Reader state; treat as opaque outside record.c. */
struct record_reader {
	struct input *in;       /* borrowed */
	char *buf;              /* owned, RECORD_BUF_BYTES, 64-byte aligned */
	size_t end;             /* valid bytes in buf */
	size_t pos;             /* where the next line starts */
	uint64_t pos_off;       /* content offset of buf[pos] */
	uint64_t line_no;       /* lines handed out so far */
	bool eof;               /* input said end (or failed) */
	bool skip_to_nl;        /* discarding the tail of a cut line */
	uint64_t skipped;       /* bytes discarded by skip_to_nl, pending */
	int state;              /* traceback state machine */
	bool capped_prev;       /* the last record was capped */
	bool have_pending;      /* pending holds the next line */
	struct record_line pending;
	size_t keep;            /* oldest byte still referenced */
	size_t rs, re;          /* the record being framed, in buf */
	/* counters */
	uint64_t lines;         /* lines read, blank ones included */
	uint64_t records;
	uint64_t cut_lines;
	uint64_t capped_records;
	int input_error;        /* input_read failed (already printed) */
	char head[RECORD_HEAD_BYTES]; /* the first bytes of content, copied
				   by the first read: they identify it */
	size_t head_len;        /* bytes in head (less for a short input) */
	uint64_t skip_until;    /* lines starting before this content
				   offset are skipped (record_reader_resume) */
	bool primed;            /* the first read was done */
	bool partial_line;      /* the input ended without a newline */
	uint64_t partial_off;   /* content offset of that last line */
};

/* Set up a reader over an open input. Return 0, or -1 (printed). */
int record_reader_init(struct record_reader *rr, struct input *in);

/*
 * Do the first read, so that rr->head holds the start of the content
 * (rr->head_len bytes, 0 for an empty input). record_next() calls it
 * when needed. Return 0, or -1 when the input failed (already printed).
 */
int record_reader_prime(struct record_reader *rr);

/*
 * Continue where an earlier run stopped: skip the content before offset
 * (which must be the start of a line), and number the next line
 * lines + 1. Call before the first record_next().
 */
void record_reader_resume(struct record_reader *rr, uint64_t offset,
			  uint64_t lines);

/*
 * Frame the next record into *rec. Return 1 with a record, 0 at the end
 * of the input. A read or gzip error ends the input early: the records
 * before it are returned, then 0, and rr->input_error is set.
 */
int record_next(struct record_reader *rr, struct record *rec);

/* Free the buffer; NULL is fine. Does not close the input. */
void record_reader_release(struct record_reader *rr);

#endif

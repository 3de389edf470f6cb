/*
 * record.h - pipeline stage 2: frame the byte stream into records.
 *
 * A record is one log line, or several lines that belong together: a
 * Python traceback (from "Traceback (most recent call last):" through its
 * exception line, chained tracebacks and ExceptionGroup trees included)
 * joins the log line that announced it, Java "at ..." frames and their
 * "Caused by:" sections, pydantic's multi-line validation errors, and
 * indented continuation lines join the record above.
 *
 * Lines often carry an envelope that a platform put in front of what the
 * program wrote: docker compose's "api-1  | ", a Kubernetes CRI stamp and
 * stream, Heroku's "app[web.1]: ", journald's "host proc[pid]: ",
 * Railway's "[err]" tag, or a JSON object around the message (Railway
 * --json, Docker's json-file). Lines are joined on what is inside the
 * envelope, so a traceback whose every line carries the same envelope (same
 * kind, same service or stream) is still one record. The envelope
 * recognisers below are shared with stage 3, which peels them off.
 *
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
#define RECORD_MAX_LAYERS 3                /* envelopes peeled per line */

/*
 * Record flags:
 *   RECORD_LINE_CUT    a line of the record was longer than
 *                      RECORD_MAX_LINE_BYTES; the rest of it was skipped
 *   RECORD_CAPPED      the record hit RECORD_MAX_BYTES or RECORD_MAX_LINES;
 *                      its remaining lines come as the next record(s)
 *   RECORD_CONTINUED   this record holds the lines after a capped one
 *   RECORD_TRACEBACK   the record holds a Python traceback
 *   RECORD_JSON_LINES  the record joins several JSON lines (one JSON
 *                      object per line, their messages forming one
 *                      traceback): decode each line, join the messages
 *   RECORD_ENVELOPED   the record's lines carry an envelope (enum
 *                      record_env) that stage 3 peels off every line
 *   RECORD_PLAIN       framing found no envelope on the first line, so
 *                      stage 3 need not look (a record made elsewhere,
 *                      without either flag, is looked at)
 *   RECORD_ONE_LINE    the record is one line: its text holds no "\n",
 *                      and stage 3 need not look for one
 */
enum record_flags {
	RECORD_LINE_CUT = 1 << 0,
	RECORD_CAPPED = 1 << 1,
	RECORD_CONTINUED = 1 << 2,
	RECORD_TRACEBACK = 1 << 3,
	RECORD_JSON_LINES = 1 << 4,
	RECORD_ENVELOPED = 1 << 5,
	RECORD_PLAIN = 1 << 6,
	RECORD_ONE_LINE = 1 << 7,
};

/*
 * Envelopes, the prefixes a platform writes before a program's line. The
 * stamps are RFC 3339 with 'T' and a zone ('Z', +hh:mm or +hhmm), any
 * fraction:
 *   RECORD_ENV_COMPOSE     docker compose: the service name padded to the
 *                          widest name, then "| " ("api-1  | ", "db-1     | ")
 *   RECORD_ENV_CRI         Kubernetes CRI (/var/log/pods, kubectl logs of
 *                          containerd): "<stamp> stdout|stderr F|P "; P
 *                          marks a line cut by the runtime, continued in
 *                          the next entry
 *   RECORD_ENV_HEROKU      "<stamp> app[web.1]: ", "<stamp> heroku[router]: "
 *   RECORD_ENV_RAILWAY     Railway's log view and CLI: "<stamp> [inf]  ",
 *                          "[err]", "[wrn]", "[dbg]"; and "<stamp> [ERRO] "
 *   RECORD_ENV_SYSLOG      BSD syslog, journalctl -o short:
 *                          "Feb 24 10:15:02 host proc[pid]: " (pid optional)
 *   RECORD_ENV_SYSLOG_ISO  journalctl -o short-iso, rsyslog RFC 3339:
 *                          "<stamp with an offset> host proc[pid]: "
 *   RECORD_ENV_RENDER      Render's log export: "Feb 24 10:15:02 AM  "
 *   RECORD_ENV_STAMP       a bare stamp with at least microseconds and one
 *                          space: docker logs -t, docker compose logs -t,
 *                          kubectl logs --timestamps (an application's own
 *                          "2026-02-24T10:15:02Z INFO ..." is not one)
 */
enum record_env {
	RECORD_ENV_NONE = 0,
	RECORD_ENV_COMPOSE,
	RECORD_ENV_CRI,
	RECORD_ENV_HEROKU,
	RECORD_ENV_RAILWAY,
	RECORD_ENV_SYSLOG,
	RECORD_ENV_SYSLOG_ISO,
	RECORD_ENV_RENDER,
	RECORD_ENV_STAMP,
	RECORD_ENV__COUNT
};

/*
 * One peeled envelope. Spans point into the line given to record_peel();
 * a part the envelope does not have is { NULL, 0 }.
 */
struct record_layer {
	unsigned char env;      /* enum record_env */
	bool partial;           /* CRI "P" */
	size_t len;             /* bytes before the content, ANSI codes and
				   separating spaces included */
	struct span stamp;      /* the envelope's time ("Feb 24 10:15:02 AM",
				   "2026-02-24T10:15:02.123Z") */
	struct span source;     /* compose service, Heroku dyno ("web.1",
				   "router"), syslog process ("sshd") */
	struct span stream;     /* CRI "stdout"/"stderr", Railway "err"/"ERRO",
				   Heroku "app"/"heroku" */
	struct span host;       /* syslog host */
	struct span pid;        /* syslog pid */
};

/*
 * Recognise one envelope at the start of p (n bytes; ANSI escape codes in
 * front of it are skipped). Cheap: a few byte checks reject an ordinary
 * line. Return true with *out filled, false (out->env NONE) otherwise.
 * Envelopes stack (compose, then a stamp with 'logs -t'): call again on
 * p + out->len for the next one.
 */
bool record_peel(const char *p, size_t n, struct record_layer *out);

/*
 * Length of the ANSI escape sequence at p (CSI "\x1b[...m", OSC, charset
 * and two-byte sequences), or 0 when p does not start one.
 */
size_t record_ansi_len(const char *p, size_t n);

/* One member of a JSON object, as record_json_next() finds it. */
struct record_json_member {
	struct span key;        /* the key's raw bytes, without quotes */
	struct span value;      /* a string's raw body without quotes
				   (escapes kept), or the raw text of a number,
				   literal, object or array */
	char type;              /* 's' string, 'n' number, 'o' object,
				   'a' array, 'l' true/false/null */
};

/*
 * Walk the top-level members of the JSON object in p (n bytes), without
 * decoding: *pos starts at 0 and is moved past each member. Return 1 with
 * *m filled, 0 after the last member, -1 when the text is not a
 * well-formed object (so far as this walk can tell; strings are not
 * validated). Spans point into p.
 */
int record_json_next(const char *p, size_t n, size_t *pos,
		     struct record_json_member *m);

/*
 * Rank of a key as the message of a JSON log line: 0 "message", 1 "msg",
 * 2 "log", 3 "event", 4 "MESSAGE" (lower is preferred), -1 for any
 * other key. Stage 3 picks the message by the same ranks.
 */
int record_json_message_rank(const char *key, size_t len);

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
	bool pview;             /* what framing saw of pending is kept: */
	unsigned char pv_env;   /* its envelope, */
	bool pv_json, pv_partial;
	size_t pv_key_off, pv_key_len; /* its source key and content, */
	size_t pv_c_off, pv_c_len;     /* as offsets from pending.start */
	size_t keep;            /* oldest byte still referenced */
	size_t rs, re;          /* the record being framed, in buf */
	bool describe;          /* inside 'kubectl describe' output: one
				   record per line */
	unsigned pyd_left;      /* pydantic error locations still expected */
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
	bool partial_line;      /* the input ended without a newline, or
				   a stop signal cut its last record */
	uint64_t partial_off;   /* content offset of that line (record) */
	uint64_t partial_lines; /* lines before it */
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

/*
 * The content as raw blocks instead of records, for inputs that are not
 * logs (a metrics export, whose JSON may be one long line): *p and *n get
 * the next bytes, from the start of the content (a resume point is not
 * applied), valid until the next call. Return 1, or 0 at the end
 * (rr->input_error tells a failure, already printed). rr->lines is left
 * to the caller. Do not mix with record_next() on one reader.
 */
int record_reader_block(struct record_reader *rr, const char **p, size_t *n);

/* Free the buffer; NULL is fine. Does not close the input. */
void record_reader_release(struct record_reader *rr);

#endif

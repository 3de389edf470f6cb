/*
 * parse.h - pipeline stage 3: turn a framed record into what the rules
 * need: its time, level, format and message.
 *
 * The first pass is cheap and runs on every record: sniff the format,
 * find the timestamp and the level. Decoding a JSON line with jansson is
 * expensive, so it happens only on request (parse_decode), for records
 * that the rules' literal prefilter selected.
 */
#ifndef LOGTRIAGE_PARSE_H
#define LOGTRIAGE_PARSE_H

#include "common.h"
#include "buf.h"
#include "record.h"
#include "timefmt.h"

/*
 * Levels, lowest first. PostgreSQL's LOG counts as info, its FATAL and
 * PANIC as critical; syslog's notice as info, emerg/alert/crit as critical.
 */
enum parse_level {
	PARSE_LEVEL_NONE = 0,
	PARSE_LEVEL_DEBUG,
	PARSE_LEVEL_INFO,
	PARSE_LEVEL_WARNING,
	PARSE_LEVEL_ERROR,
	PARSE_LEVEL_CRITICAL,
};

/* Record formats. */
enum parse_format {
	PARSE_FMT_TEXT = 0,     /* a plain line (any of the text shapes) */
	PARSE_FMT_JSON,         /* one JSON object on the line */
	PARSE_FMT_JSON_BAD,     /* looked like JSON, failed to decode */
	PARSE_FMT__COUNT
};

struct parse_state;

struct parse_ctx {
	struct timefmt_opts topts;  /* copied by parse_ctx_init */
	int64_t last_ts;            /* time of the last record that had one */
	bool have_last_ts;
	struct parse_state *st;     /* owned: jansson document, scratch */
	/* coverage counters */
	uint64_t by_format[PARSE_FMT__COUNT];
	uint64_t ts_parsed;         /* records with a time of their own */
	uint64_t ts_inferred;       /* records that took the previous time */
	uint64_t ts_missing;        /* records with no time at all */
};

struct parsed {
	const char *raw;        /* borrowed from the record */
	size_t raw_len;
	struct span message;    /* what rules match: the record text, or the
				   decoded JSON message after parse_decode();
				   valid until the next parse_record() */
	int64_t ts;             /* epoch ms UTC when has_ts */
	bool has_ts;
	bool ts_inferred;       /* ts came from an earlier record */
	bool decoded;           /* parse_decode() ran */
	enum parse_level level;
	enum parse_format format;
};

void parse_ctx_init(struct parse_ctx *ctx, const struct timefmt_opts *o);
/* Free what the context owns; NULL is fine. */
void parse_ctx_release(struct parse_ctx *ctx);
/* Start a new input: forget the previous record's time. */
void parse_ctx_reset(struct parse_ctx *ctx);

/*
 * The cheap pass over one record: format, time (own or inferred), level.
 * out->message is the whole record until parse_decode() runs.
 */
void parse_record(struct parse_ctx *ctx, const struct record *rec,
		  struct parsed *out);

/*
 * Decode a JSON record (no-op for text): message, level and time from
 * the usual keys, and its attributes for parse_field(). A JSON line that
 * does not decode falls back to text and is counted as PARSE_FMT_JSON_BAD.
 * Return 0, or -1 for malformed JSON (out stays usable as text).
 */
int parse_decode(struct parse_ctx *ctx, struct parsed *out);

/*
 * Look up a top-level attribute of a decoded JSON record by name; strings
 * as they are, numbers and booleans as their text. *out stays valid until
 * the next parse_record(). Return true when found.
 */
bool parse_field(struct parse_ctx *ctx, const char *name, struct span *out);

/*
 * The level a line of text names for itself ("ERROR:", "[error]",
 * "level=error", PostgreSQL's "FATAL:"), looked for in its first bytes;
 * PARSE_LEVEL_NONE when it names none.
 */
int parse_text_level(const char *p, size_t n);

/* "error", "warning", ...; "" for PARSE_LEVEL_NONE. */
const char *parse_level_name(enum parse_level l);
const char *parse_format_name(enum parse_format f);


#endif

/*
 * templates.h - a Drain-style miner of message templates, for the error
 * records that no rule knows. Variable parts (numbers, hex, ids, IPs,
 * UUIDs, paths, quoted values) are masked, then messages of the same
 * shape are grouped by token similarity: "charge failed for <*>" stands
 * for every customer. The nightly summary lists the templates, so that a
 * symptom the guide does not cover yet shows up.
 *
 * Part of stage 4 (classification of what the rules left over); the
 * miner keeps its groups in memory, with a cap, and the caller stores
 * them (templates_each) in the transaction of the events.
 */
#ifndef LOGTRIAGE_TEMPLATES_H
#define LOGTRIAGE_TEMPLATES_H

#include "common.h"

#define TEMPLATES_MAX 4096          /* groups kept in memory per run */
#define TEMPLATES_MAX_TOKENS 48     /* tokens of a message considered */
#define TEMPLATES_MAX_TEXT 512      /* bytes of a template's text */
#define TEMPLATES_MAX_EXAMPLE 300   /* bytes of its example */
#define TEMPLATES_SIMILARITY 0.5    /* share of equal tokens to join */

struct templates;

/* A template as templates_each() hands it out; valid during the call. */
struct template_info {
	int64_t db_id;          /* row in the templates table, 0: new */
	const char *text;       /* masked text, tokens joined by a space */
	const char *example;    /* first message seen (as given: redacted
				   by the caller) */
	const char *example_source;     /* where it was seen */
	uint64_t example_line;
	int64_t first_ts, last_ts;      /* of this run's records; 0 when
					   none had a time */
	bool has_ts;
	uint64_t pending;       /* records since the last templates_each */
	const int64_t *days;    /* day numbers (epoch ms / 86400000) */
	const uint64_t *day_counts;
	size_t ndays;
	bool changed;           /* the text generalised since loaded */
};

/* A miner with no groups; free with templates_free (NULL is fine). */
struct templates *templates_new(void);
void templates_free(struct templates *t);

/*
 * Seed a group from the database (its id and text), so that this run's
 * records join the templates earlier runs found. Return 0, or -1 when
 * the cap is reached.
 */
int templates_load(struct templates *t, int64_t db_id, const char *text);

/*
 * The masked form of one message: the text a template starts from.
 * Writes at most size - 1 bytes and a NUL into out; returns the length.
 */
size_t templates_mask(const char *msg, size_t len, char *out, size_t size);

/*
 * Count one record. msg is the text to mine (the caller picks the line:
 * a traceback's exception line), example the redacted text kept as an
 * example for a new group; day is the record's day number. Return 0, or
 * 1 when the record could not be placed because the cap was reached
 * (counted in templates_overflow).
 */
int templates_add(struct templates *t,
		  const char *msg, size_t len,  /* the text to mine */
		  const char *example,          /* redacted, NUL-terminated */
		  const char *source,           /* input name */
		  uint64_t line_no,
		  int64_t ts, bool has_ts,
		  int64_t day);

/* Records that found no room under TEMPLATES_MAX. */
uint64_t templates_overflow(const struct templates *t);

/*
 * Call fn for every group with records since the last call (and for
 * groups whose text changed); then forget those counts. fn returns 0 to
 * go on; its *new_id (for db_id 0) is remembered for the next calls.
 * Return 0, or fn's first non-zero result.
 */
typedef int (*templates_fn)(void *arg, const struct template_info *ti,
			    int64_t *new_id);
int templates_each(struct templates *t, templates_fn fn, void *arg);

#endif

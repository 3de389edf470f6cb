/*
 * prefilter.h - part of pipeline stage 4: decide, in one pass over a
 * record, which patterns could match it, so that PCRE2 runs only there.
 *
 * Each pattern is reduced to a condition that every match must meet: an
 * AND of clauses, each clause an OR of literals (("GET" or "POST"...) and
 * " /" and "ms"), and of runs of byte sets (" [1-5]\d\d [1-9]\d\d\d"),
 * derived from the regular expression itself plus the literal the rule
 * file gives. One clause per pattern is its anchor: all anchors are found
 * with one scan of the record; the rest is checked only for the patterns
 * whose anchor was found. The anchors are chosen after the first records
 * (the clause this input holds least often). A pattern with nothing
 * usable is always a candidate. The condition is necessary, never
 * sufficient: PCRE2 decides.
 *
 * The module knows nothing of PCRE2 or rules; rules.c numbers the
 * patterns and maps candidates back to rules.
 */
#ifndef LOGTRIAGE_PREFILTER_H
#define LOGTRIAGE_PREFILTER_H

#include "common.h"

/*
 * Pattern flags:
 *   PREFILTER_JSON_ONLY  the pattern reads a JSON field: only JSON records
 *                        can match, and its literals come from the field
 *                        key and the rule file, never from the regex (the
 *                        field's value may be a number written otherwise)
 *   PREFILTER_CI         the literal given by the rule file is compared
 *                        case-insensitively (the pattern starts with (?i))
 */
enum prefilter_flags {
	PREFILTER_JSON_ONLY = 1 << 0,
	PREFILTER_CI = 1 << 1,
};

struct prefilter;

/* An empty prefilter; free with prefilter_free(). */
struct prefilter *prefilter_new(void);
/* Free; NULL is fine. */
void prefilter_free(struct prefilter *pf);

/*
 * Add the pattern with number id (ids are dense, from 0, in any order)
 * before prefilter_build(). re is the PCRE2 source; literal is the
 * rule file's 'literal' or NULL; key is the JSON field a
 * PREFILTER_JSON_ONLY pattern reads. All strings are copied.
 */
void prefilter_add(struct prefilter *pf,
		   unsigned id,          /* the pattern's number */
		   const char *re,       /* PCRE2 source */
		   const char *literal,  /* from the rule file, or NULL */
		   const char *key,      /* JSON field, or NULL */
		   unsigned flags);      /* enum prefilter_flags */

/* Choose the anchors and build the scan tables. Call once, after the adds. */
void prefilter_build(struct prefilter *pf);

/*
 * A prefilter of src's patterns, built and untrained, as if each had been
 * added again (their regular expressions are not derived again: that is
 * most of the cost of adding). For a second thread's scan.
 */
struct prefilter *prefilter_copy(const struct prefilter *src);

/*
 * Scan one record (for a JSON line: its text with the string escapes
 * decoded) and return the ids of the patterns whose condition holds, each
 * once, in no particular order; *n gets their number. The array belongs
 * to the prefilter and is valid until the next scan. PREFILTER_JSON_ONLY
 * patterns are considered only when json is true.
 */
const unsigned *prefilter_scan(struct prefilter *pf, const char *text,
			       size_t len, bool json, size_t *n);

/* How many patterns have no literal and are candidates for every record. */
size_t prefilter_always(const struct prefilter *pf);

/* Is pattern id (added, built) a candidate for every record it may see? */
bool prefilter_is_always(const struct prefilter *pf, unsigned id);

#ifdef LOGTRIAGE_TESTING
/*
 * The condition derived from re alone, as text: clauses joined by " & ",
 * the literals of a clause by " | ", each literal in double quotes and
 * followed by "i" when case-insensitive; "" when nothing is required.
 * Owned by the caller (free).
 */
char *prefilter_describe(const char *re);
#endif

#endif

/*
 * rules.h - pipeline stage 4: load rule files (jansson), compile their
 * patterns (PCRE2 with JIT), and classify records.
 *
 * Matching has two steps so that JSON lines are decoded only when a rule
 * could match them: rules_prefilter() looks for each pattern's literal in
 * the raw record, and rules_eval() runs PCRE2 only for the rules whose
 * literals were found, then applies metric thresholds, event-time
 * windows and sequences. json_t and pcre2_code never leave rules.c.
 */
#ifndef LOGTRIAGE_RULES_H
#define LOGTRIAGE_RULES_H

#include "common.h"
#include "buf.h"

/*
 * Severities, lowest first:
 *   INFO      timeline markers: deploys, rollbacks, migrations, recovery
 *   WARNING   degraded but serving (slow requests, expired tokens)
 *   ERROR     a failing part (pool exhausted, build step failed)
 *   CRITICAL  the service is down or cannot start
 */
enum rule_sev {
	RULE_SEV_INFO = 0,
	RULE_SEV_WARNING,
	RULE_SEV_ERROR,
	RULE_SEV_CRITICAL,
};

/* A list of owned strings. */
struct strlist {
	char **v;
	size_t n;
};

struct rule_impl;

/* One rule, as loaded. All strings are owned by the rule set. */
struct rule {
	char *id;
	char *title;
	char *guide_section;
	char *guide_title;
	char *category;
	enum rule_sev severity;
	char *file;             /* "rules/NAME.json" (built in) or the path */
	bool builtin;
	struct strlist any;     /* pattern sources, for 'rules show' */
	struct strlist none;
	char *field;            /* NULL: the message */
	struct strlist causes;
	struct strlist diagnosis;
	struct strlist remedy;
	struct strlist references;
	struct strlist ex_match;
	struct strlist ex_no_match;
	char *metric_name;      /* NULL when the rule has no metric */
	char *metric_unit;      /* the unit values are stored in */
	bool has_above, has_below;
	double above, below;    /* thresholds in metric_unit */
	unsigned window_count;  /* 0: no window */
	double window_seconds;
	char *window_by;        /* capture name or NULL */
	struct strlist after;   /* rule ids; empty: no sequence */
	struct strlist after_reset; /* rule ids that break the sequence */
	double after_seconds;
	struct rule_impl *impl; /* private to rules.c */
};

struct rules;

/* A named capture of the last match: a slice of the matched subject. */
struct rules_capture {
	const char *name;       /* borrowed from the compiled pattern */
	struct span value;      /* borrowed from the subject */
};

#define RULES_MAX_CAPTURES 16

/* What rules_eval() reports for each rule whose patterns matched. */
struct rules_match {
	const struct rule *rule;
	size_t index;           /* the rule's: rules_at(rs, index) == rule */
	bool fired;             /* false: threshold/window/sequence not met;
				   the metric, if any, is still reported */
	bool has_metric;
	double metric;          /* normalised */
	const char *metric_unit; /* its unit: "ms", "MiB", "%"... (static or
				    the rule's) */
	unsigned window_hits;   /* matches counted when a window fired */
	size_t ncaptures;
	struct rules_capture captures[RULES_MAX_CAPTURES];
};

/* Looks up a field of the current record (JSON attributes). */
typedef bool (*rules_field_fn)(void *ctx, const char *name, struct span *out);

/* The record as rules_eval() sees it. */
struct rules_input {
	struct span message;    /* borrowed */
	int64_t ts;             /* epoch ms; meaningful when has_ts */
	bool has_ts;
	rules_field_fn field;   /* NULL: the record has no fields */
	void *field_ctx;
};

/* Called for each matching rule. Return 0 to go on, -1 to stop. */
typedef int (*rules_match_fn)(void *arg, const struct rules_match *m);

/* An empty rule set; free with rules_free(). */
struct rules *rules_new(void);
void rules_free(struct rules *rs);

/*
 * Load the rule files compiled into the binary. Return 0, or -1 after
 * printing every problem found.
 */
int rules_load_builtin(struct rules *rs);

/*
 * Load every *.json file in dir (sorted by name): a rule whose id is
 * already loaded from another place replaces it; two files of dir with
 * one id are an error. Problems are printed as "logtriage: FILE:LINE:COL:
 * ..." and loading goes on so that all are shown. Return 0 or -1.
 */
int rules_load_dir(struct rules *rs, const char *dir);

/*
 * Load one rule file from memory: text[0..len) (need not be
 * NUL-terminated; borrowed, read during the call only) as if read from
 * a file called name (used in messages and as the rule's 'file'). The
 * rule is a user rule: it replaces a built-in rule of its id, and a
 * second user rule of one id is an error. Return 0, or -1 after printing
 * every problem found (the set is unchanged then).
 */
int rules_load_text(struct rules *rs, const char *name, const char *text,
		    size_t len);

/*
 * Check references between rules ('causes', 'after'), compile every
 * pattern with JIT and build the prefilter. With strict, patterns with no
 * literal are reported as warnings too. Return 0, or -1 (printed).
 */
int rules_compile(struct rules *rs, bool strict);

size_t rules_count(const struct rules *rs);
/* The i-th rule, in id order (valid after rules_compile). */
const struct rule *rules_at(const struct rules *rs, size_t i);
const struct rule *rules_find(const struct rules *rs, const char *id);

/*
 * Step 1: check, in one pass over the raw record, the literals (and runs
 * of byte classes) that every match of each pattern must contain, derived
 * from the patterns and the rule files' 'literal'. With json, the record
 * is a raw JSON line: its string escapes are decoded first, and a pattern
 * that passes is also run on that text, so that a line is decoded with
 * jansson only when a rule really matches it. Return the number of rules
 * that may match (rules_eval() decides). See prefilter.h.
 */
size_t rules_prefilter(struct rules *rs, const char *raw, size_t len,
		       bool json);

/*
 * Step 1 done elsewhere: a scanner (below) found the patterns ids[0..n)
 * in a text that contains raw (with json: in raw itself); select their
 * rules as rules_prefilter() would. Extra ids only cost PCRE2 time: the
 * prefilter's condition is necessary, never sufficient.
 */
size_t rules_select(struct rules *rs, const char *raw, size_t len, bool json,
		    const unsigned *ids, size_t n);

/*
 * A scanner: step 1's literal scan of a compiled rule set, with state of
 * its own, for another thread to run ahead of the one that evaluates
 * (see ahead.h). rules_scanner_scan() returns the ids of the patterns
 * whose literals raw holds (json: its escapes decoded first), an array
 * valid until the next call, and their number in *n.
 */
struct rules_scanner;
struct rules_scanner *rules_scanner_new(struct rules *rs);
void rules_scanner_free(struct rules_scanner *sc);
const unsigned *rules_scanner_scan(struct rules_scanner *sc, const char *raw,
				   size_t len, bool json, size_t *n);

/*
 * Step 2: run the rules selected by the last rules_prefilter() on the
 * record, in id order, calling fn for each rule whose patterns matched.
 * The match and its captures are valid only during the call. Return 0,
 * -1 when fn stopped, or the number (> 0) of patterns that hit PCRE2's
 * match limits (those rules are skipped for this record; see
 * rules_last_limit_rule()).
 */
int rules_eval(struct rules *rs, const struct rules_input *in,
	       rules_match_fn fn, void *arg);

/*
 * How many rules' patterns matched in the last rules_eval(), whether or
 * not their thresholds, windows or sequences let them fire.
 */
size_t rules_last_matched(const struct rules *rs);

/* The id of the rule that last hit a match limit, or NULL. */
const char *rules_last_limit_rule(const struct rules *rs);

/*
 * Forget what earlier records counted toward windows and sequences, as
 * if rules_eval() had never run (a fresh start for an unrelated input).
 */
void rules_forget(struct rules *rs);

struct buf;

/*
 * What earlier records counted toward windows and sequences, as bytes to
 * keep with a resume point (sources.rules_state): a run that goes on
 * from there loads it, so that a burst or a sequence cut by the resume
 * point counts as it would in one run. Rules are named by id; a rule
 * whose window changed, or that is gone, starts empty.
 */
void rules_state_save(const struct rules *rs, struct buf *out);

/*
 * Replace the windows and sequences with a saved state. Return 0, or -1
 * when the bytes are not a state this version wrote (everything is then
 * forgotten, as after rules_forget()).
 */
int rules_state_load(struct rules *rs, const void *p, size_t n);

/*
 * Test one rule against one example record: patterns, 'none' and metric
 * thresholds, without windows and sequences. Return 1 when it matches,
 * 0 when not, -1 when a match limit was hit.
 */
int rules_test_one(struct rules *rs, const struct rule *r,
		   const struct rules_input *in);

/* "critical", "error", "warning", "info". */
const char *rules_sev_name(enum rule_sev s);
/* Parse a severity name; -1 when unknown. */
int rules_sev_parse(const char *s);

/*
 * Normalise value in unit to its canonical unit: durations to "ms",
 * sizes to "MiB". Return the canonical unit name (static), or NULL when
 * the unit is unknown (value unchanged).
 */
const char *rules_unit_normalise(const char *unit, size_t len, double *value);

#ifdef LOGTRIAGE_TESTING
char *rules_derive_literal(const char *re, bool *ci);
/* Did the last rules_prefilter() select rule r (before rules_eval)? */
bool rules_is_candidate(const struct rules *rs, const struct rule *r);
#endif

#endif

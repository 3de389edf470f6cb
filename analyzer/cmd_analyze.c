/*
 * cmd_analyze.c - 'logtriage analyze': the whole pipeline, in order:
 * input -> records -> parse -> rules -> store, then a summary.
 */
#include "common.h"
#include "cmd.h"
#include "buf.h"
#include "diag.h"
#include "input.h"
#include "parse.h"
#include "record.h"
#include "redact.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"

#include <getopt.h>
#include <jansson.h>

/* Events per transaction: large batches, bounded loss on a kill. */
#define BATCH_EVENTS 20000
/* A stored message keeps its head and tail up to this size. */
#define MAX_MESSAGE_BYTES (64u * 1024)
/* Bad records (malformed JSON lines, limits hit) reported per input. */
#define MAX_BAD_SHOWN 10

static const char analyze_usage[] =
"usage: logtriage analyze [options] FILE... | -\n"
"\n"
"Read logs (plain or gzip, detected by content; '-' is stdin), classify\n"
"each record with the rules, store the events in the database and print a\n"
"summary. Analyzing the same input again adds nothing twice.\n"
"\n"
"Options:\n"
"  --db FILE          database to write (default: logtriage.db)\n"
"  --rules DIR        also load DIR/*.json; a rule with a built-in id\n"
"                     replaces the built-in one\n"
"  --format FMT       summary as 'text' (default) or 'json'\n"
"  --source NAME      name of the stdin input (default: stdin)\n"
"  --fail-on SEV      exit 5 when an event of severity SEV or above was\n"
"                     found: critical, error, warning, info or never\n"
"                     (default: never)\n"
"  --max-bad N        exit 4 when an input has more than N malformed\n"
"                     records (default: no limit)\n"
"  --tz ZONE          time zone of timestamps that carry none (default:\n"
"                     UTC), e.g. Europe/Madrid\n"
"  --year YYYY        year of timestamps that carry none (syslog)\n"
"  --no-redact        store secrets as they are (default: redacted)\n"
"  -q, --quiet        print errors only\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Examples:\n"
"  logtriage analyze incident_logs.txt\n"
"  railway logs | logtriage analyze --source railway -\n"
"  logtriage analyze --db ops.db --fail-on critical app.log.1 app.log.2.gz\n";

struct rule_agg {
	uint64_t count;
	uint64_t stored;        /* new rows this run */
	int64_t first, last;
	bool has_ts;
};

struct input_summary {
	char *name;             /* owned */
	uint64_t bytes, lines, records, events, stored;
	uint64_t fmt[PARSE_FMT__COUNT];
	uint64_t ts_parsed, ts_inferred, ts_missing;
	uint64_t cut_lines, capped;
	bool error;
	bool skipped;           /* could not be opened */
};

struct analyze {
	struct rules *rules;
	struct store *store;
	struct redact *redact;  /* NULL with --no-redact */
	struct parse_ctx parse;
	struct rule_agg *agg;   /* one per rule, in rules_at() order */
	struct input_summary *inputs;
	size_t ninputs;
	/* the record being classified */
	const char *src_name;
	int64_t source_id;
	const struct record *rec;
	const struct parsed *ev;
	uint64_t batch;
	int store_rc;           /* first store error */
	uint64_t limit_warnings;
	uint64_t bad_shown;     /* malformed lines reported, this input */
	struct buf msg, tmp, fields;
	/* options */
	const char *db_path;
	const char *rules_dir;
	const char *format;
	const char *source_name;
	int fail_on;
	long long max_bad;
	bool quiet;
};

static size_t rule_pos(const struct analyze *a, const struct rule *r)
{
	size_t i, n = rules_count(a->rules);

	for (i = 0; i < n; i++)
		if (rules_at(a->rules, i) == r)
			return i;
	BUG("rule '%s' not in the set", r->id);
}

/* Redact (unless --no-redact) and make valid UTF-8: text -> out. */
static void clean_text(struct analyze *a, const char *p, size_t n,
		       struct buf *out)
{
	buf_clear(out);
	if (a->redact && redact_may_contain(p, n)) {
		buf_clear(&a->tmp);
		redact_append(a->redact, p, n, &a->tmp);
		buf_add_utf8(out, a->tmp.p, a->tmp.len);
	} else {
		buf_add_utf8(out, p, n);
	}
}

/* The stored message: the whole record, or its head and tail. */
static void build_message(struct analyze *a, struct span m)
{
	if (m.len <= MAX_MESSAGE_BYTES) {
		clean_text(a, m.p, m.len, &a->msg);
		return;
	}
	{
		size_t half = MAX_MESSAGE_BYTES / 2;
		struct buf joined;

		buf_init(&joined);
		buf_add(&joined, m.p, half);
		buf_addf(&joined, "\n[... %zu bytes omitted ...]\n",
			 m.len - 2 * half);
		buf_add(&joined, m.p + m.len - half, half);
		clean_text(a, joined.p, joined.len, &a->msg);
		buf_release(&joined);
	}
}

static void build_fields(struct analyze *a, const struct rules_match *m)
{
	struct buf val;
	size_t i;
	bool first = true;

	buf_init(&val);
	buf_clear(&a->fields);
	buf_addch(&a->fields, '{');
	for (i = 0; i < m->ncaptures; i++) {
		const struct rules_capture *c = &m->captures[i];

		clean_text(a, c->value.p, c->value.len, &val);
		buf_addf(&a->fields, "%s\"", first ? "" : ",");
		buf_add_json_escaped(&a->fields, c->name, strlen(c->name));
		buf_adds(&a->fields, "\":\"");
		buf_add_json_escaped(&a->fields, val.p, val.len);
		buf_addch(&a->fields, '"');
		first = false;
	}
	if (m->has_metric) {
		buf_addf(&a->fields, "%s\"metric\":%.6g", first ? "" : ",",
			 m->metric);
		first = false;
	}
	if (m->window_hits)
		buf_addf(&a->fields, "%s\"window_count\":%u", first ? "" : ",",
			 m->window_hits);
	buf_addch(&a->fields, '}');
	buf_release(&val);
}

static int on_match(void *arg, const struct rules_match *m)
{
	struct analyze *a = arg;
	const struct rule *r = m->rule;
	const struct parsed *ev = a->ev;
	struct input_summary *is = &a->inputs[a->ninputs - 1];
	int rc;

	if (m->has_metric && r->metric_name) {
		rc = store_put_metric(a->store, a->source_id, a->rec->line_no,
				      ev->ts, ev->has_ts, r->metric_name,
				      m->metric, r->metric_unit);
		if (rc < 0) {
			a->store_rc = rc;
			return -1;
		}
	}
	if (m->fired) {
		struct rule_agg *g = &a->agg[rule_pos(a, r)];
		struct store_event se;
		bool inserted = false;

		build_message(a, ev->message);
		build_fields(a, m);
		se.rule_id = r->id;
		se.severity = rules_sev_name(r->severity);
		se.ts = ev->ts;
		se.has_ts = ev->has_ts;
		se.ts_inferred = ev->ts_inferred;
		se.source_id = a->source_id;
		se.line_no = a->rec->line_no;
		se.offset = a->rec->offset;
		se.level = parse_level_name(ev->level);
		se.message = a->msg.p;
		se.message_len = a->msg.len;
		se.fields = a->fields.p;
		rc = store_put_event(a->store, &se, &inserted);
		if (rc < 0) {
			a->store_rc = rc;
			return -1;
		}
		g->count++;
		is->events++;
		if (inserted) {
			g->stored++;
			is->stored++;
		}
		if (ev->has_ts) {
			if (!g->has_ts || ev->ts < g->first)
				g->first = ev->ts;
			if (!g->has_ts || ev->ts > g->last)
				g->last = ev->ts;
			g->has_ts = true;
		}
		if (++a->batch >= BATCH_EVENTS) {
			a->batch = 0;
			if ((rc = store_commit(a->store)) < 0 ||
			    (rc = store_begin(a->store)) < 0) {
				a->store_rc = rc;
				return -1;
			}
		}
	}
	return 0;
}

static bool field_lookup(void *ctx, const char *name, struct span *out)
{
	return parse_field(ctx, name, out);
}

/* A malformed JSON line: matched as text, counted, the first ones shown. */
static void bad_json(struct analyze *a, const struct record *rec)
{
	if (++a->bad_shown <= MAX_BAD_SHOWN)
		warning("%s:%" PRIu64 ": malformed JSON line; matched as text",
			a->src_name, rec->line_no);
}

/* Classify one record; return 0 or -1 on a store error. */
static int classify(struct analyze *a, const struct record *rec)
{
	struct parsed ev;
	struct rules_input ri;
	int rc;

	parse_record(&a->parse, rec, &ev);
	if (ev.format == PARSE_FMT_JSON_BAD)
		bad_json(a, rec);
	if (rules_prefilter(a->rules, ev.raw, ev.raw_len,
			    ev.format == PARSE_FMT_JSON) == 0)
		return 0;
	if (ev.format == PARSE_FMT_JSON && parse_decode(&a->parse, &ev) < 0)
		bad_json(a, rec);
	a->rec = rec;
	a->ev = &ev;
	ri.message = ev.message;
	ri.ts = ev.ts;
	ri.has_ts = ev.has_ts;
	ri.field = ev.decoded ? field_lookup : NULL;
	ri.field_ctx = &a->parse;
	rc = rules_eval(a->rules, &ri, on_match, a);
	if (rc < 0)
		return -1;
	if (rc > 0 && a->limit_warnings++ < MAX_BAD_SHOWN)
		warning("%s:%" PRIu64 ": rule '%s': pattern hit the PCRE2 "
			"match limit; record skipped for that rule",
			a->src_name, rec->line_no,
			rules_last_limit_rule(a->rules));
	return 0;
}

/* {"json":12,"text":3}: the non-zero format counts, sorted by name. */
static void formats_json(const struct input_summary *is, struct buf *out)
{
	const char *names[PARSE_FMT__COUNT];
	int idx[PARSE_FMT__COUNT], n = 0, i, j;

	for (i = 0; i < PARSE_FMT__COUNT; i++) {
		if (is->fmt[i] == 0)
			continue;
		/* insertion sort by name: a handful of entries */
		for (j = n; j > 0 && strcmp(names[j - 1],
				parse_format_name((enum parse_format)i)) > 0; j--) {
			names[j] = names[j - 1];
			idx[j] = idx[j - 1];
		}
		names[j] = parse_format_name((enum parse_format)i);
		idx[j] = i;
		n++;
	}
	buf_clear(out);
	buf_addch(out, '{');
	for (i = 0; i < n; i++)
		buf_addf(out, "%s\"%s\":%" PRIu64, i ? "," : "", names[i],
			 is->fmt[idx[i]]);
	buf_addch(out, '}');
}

static char *identity_of(const struct input *in, const char *name,
			 const char *hash)
{
	struct buf b;

	buf_init(&b);
	if (strcmp(in->name, "stdin") == 0 && in->fd == 0) {
		buf_addf(&b, "stdin:%s#%s", name, hash);
	} else {
		char *real = realpath(in->name, NULL);

		buf_addf(&b, "%s#%s", real ? real : in->name, hash);
		free(real);
	}
	return buf_detach(&b, NULL);
}

/*
 * Analyze one input. Return 0, 1 for an input error (printed; what was
 * read before it is kept), or -1 for a store error (stop the run).
 */
static int analyze_one(struct analyze *a, const char *path)
{
	struct input in;
	struct record_reader rr;
	struct record rec;
	struct input_summary *is;
	struct store_source src;
	char hash[17];
	char *identity = NULL;
	int more, rc = 0;
	bool existed;

	a->inputs = xrealloc(a->inputs, (a->ninputs + 1) * sizeof(*a->inputs));
	is = &a->inputs[a->ninputs++];
	memset(is, 0, sizeof(*is));
	is->name = xstrdup(strcmp(path, "-") == 0 ? a->source_name : path);
	if (input_open(&in, path) < 0) {
		is->error = is->skipped = true;
		return 1;
	}
	if (record_reader_init(&rr, &in) < 0) {
		input_close(&in);
		is->error = true;
		return -1;
	}
	a->src_name = is->name;
	a->bad_shown = 0;
	parse_ctx_reset(&a->parse);
	memset(a->parse.by_format, 0, sizeof(a->parse.by_format));
	a->parse.ts_parsed = a->parse.ts_inferred = a->parse.ts_missing = 0;

	more = record_next(&rr, &rec);
	if (rr.input_error && in.out_bytes == 0) {
		is->error = true;
		rc = 1;
		goto out;
	}
	if (in.out_bytes == 0) {
		error("%s: empty input", is->name);
		is->error = true;
		rc = 1;
		goto out;
	}
	snprintf(hash, sizeof(hash), "%016" PRIx64, rr.head_hash);
	identity = identity_of(&in, is->name, hash);
	memset(&src, 0, sizeof(src));
	src.name = is->name;
	src.identity = identity;
	src.head_hash = hash;
	src.dev = in.is_regular ? (int64_t)in.dev : -1;
	src.ino = in.is_regular ? (int64_t)in.ino : -1;
	src.size = in.is_regular ? (int64_t)in.file_size : -1;
	src.compressed = in.is_gzip;
	src.analyzed_at = cmd_now_ms();
	if ((rc = store_begin(a->store)) < 0 ||
	    (rc = store_source_get(a->store, &src, &a->source_id,
				   &existed)) < 0) {
		a->store_rc = rc;
		rc = -1;
		goto out;
	}
	a->batch = 0;
	while (more > 0) {
		if (classify(a, &rec) < 0) {
			rc = -1;
			goto out;
		}
		more = record_next(&rr, &rec);
	}
	is->bytes = in.out_bytes;
	is->lines = rr.lines;
	is->records = rr.records;
	is->cut_lines = rr.cut_lines;
	is->capped = rr.capped_records;
	for (int f = 0; f < PARSE_FMT__COUNT; f++)
		is->fmt[f] = a->parse.by_format[f];
	is->ts_parsed = a->parse.ts_parsed;
	is->ts_inferred = a->parse.ts_inferred;
	is->ts_missing = a->parse.ts_missing;
	src.bytes = is->bytes;
	src.lines = is->lines;
	src.records = is->records;
	src.cut_lines = is->cut_lines;
	src.capped_records = is->capped;
	formats_json(is, &a->tmp);
	src.formats = a->tmp.p;
	src.ts_parsed = is->ts_parsed;
	src.ts_inferred = is->ts_inferred;
	src.ts_missing = is->ts_missing;
	if ((rc = store_source_update(a->store, a->source_id, &src)) < 0 ||
	    (rc = store_commit(a->store)) < 0) {
		a->store_rc = rc;
		rc = -1;
		goto out;
	}
	if (is->cut_lines && !a->quiet)
		warning("%s: %" PRIu64 " line(s) longer than %u bytes were cut",
			is->name, is->cut_lines, RECORD_MAX_LINE_BYTES);
	if (is->capped && !a->quiet)
		warning("%s: %" PRIu64 " record(s) longer than %u lines or %u "
			"bytes were split", is->name, is->capped,
			RECORD_MAX_LINES, RECORD_MAX_BYTES);
	if (is->fmt[PARSE_FMT_JSON_BAD] > MAX_BAD_SHOWN && !a->quiet)
		warning("%s: %" PRIu64 " malformed JSON lines in all (first %d "
			"shown)", is->name, is->fmt[PARSE_FMT_JSON_BAD],
			MAX_BAD_SHOWN);
	if (is->records == 0 && !a->quiet)
		warning("%s: no log records (blank lines only)", is->name);
	if (a->max_bad >= 0 &&
	    is->fmt[PARSE_FMT_JSON_BAD] > (uint64_t)a->max_bad) {
		error("%s: %" PRIu64 " malformed records, more than --max-bad "
		      "%lld", is->name, is->fmt[PARSE_FMT_JSON_BAD], a->max_bad);
		is->error = true;
		rc = 1;
	}
	if (rr.input_error) {
		is->error = true;
		rc = 1;
	}
out:
	if (rc < 0)
		store_rollback(a->store);
	free(identity);
	record_reader_release(&rr);
	input_close(&in);
	return rc;
}

static void fmt_time(int64_t ms, char *out, size_t size)
{
	timefmt_format(ms, out, size);
}

/*
 * The last time, short: "10:19:40" on the first time's day, else
 * "+2d 10:19:40" (days after the first's date).
 */
static void fmt_last(int64_t first, int64_t last, char *out, size_t size)
{
	char t[32];
	int64_t days = last / 86400000 - first / 86400000;

	timefmt_format(last, t, sizeof(t));
	if (days == 0)
		snprintf(out, size, "%s", t + 11);
	else
		snprintf(out, size, "+%" PRId64 "d %s", days, t + 11);
}

/* The guide section as a short column: "3", or "R" for rollback. */
static const char *guide_short(const struct rule *r)
{
	return strcmp(r->guide_section, "rollback") == 0 ? "R" :
	       r->guide_section;
}

static void print_text(struct analyze *a, double secs)
{
	size_t i, n = rules_count(a->rules);
	uint64_t bytes = 0, lines = 0, records = 0, events = 0, stored = 0;
	uint64_t missing = 0;
	char n1[32], n2[32], n3[32], n4[32];
	int shown = 0;

	for (i = 0; i < a->ninputs; i++) {
		bytes += a->inputs[i].bytes;
		lines += a->inputs[i].lines;
		records += a->inputs[i].records;
		events += a->inputs[i].events;
		stored += a->inputs[i].stored;
		missing += a->inputs[i].ts_missing;
	}
	/* Most severe first, then by id. */
	for (int sev = RULE_SEV_CRITICAL; sev >= RULE_SEV_INFO; sev--) {
		for (i = 0; i < n; i++) {
			const struct rule *r = rules_at(a->rules, i);
			const struct rule_agg *g = &a->agg[i];
			char first[32] = "-", last[48] = "-";

			if ((int)r->severity != sev || g->count == 0)
				continue;
			if (shown++ == 0)
				printf("%-8s %-25s %6s  %-19s  %-12s  %s\n",
				       "SEVERITY", "RULE", "COUNT",
				       "FIRST (UTC)", "LAST", "GUIDE");
			if (g->has_ts) {
				fmt_time(g->first, first, sizeof(first));
				fmt_last(g->first, g->last, last, sizeof(last));
			}
			printf("%-8s %-25s %6s  %-19s  %-12s  %s\n",
			       rules_sev_name(r->severity), r->id,
			       cmd_thousands(g->count, n1, sizeof(n1)), first,
			       last, guide_short(r));
		}
	}
	if (shown == 0)
		printf("no symptoms found\n");
	else
		printf("GUIDE: section of the troubleshooting guide (R: "
		       "rollback); 'logtriage rules show RULE'\n"
		       "tells what to check and what to fix\n");
	printf("\n");
	for (i = 0; i < a->ninputs; i++) {
		const struct input_summary *is = &a->inputs[i];

		if (is->skipped)
			continue;
		printf("%s: %s lines, %s records", is->name,
		       cmd_thousands(is->lines, n1, sizeof(n1)),
		       cmd_thousands(is->records, n2, sizeof(n2)));
		if (is->fmt[PARSE_FMT_TEXT] != is->records) {
			const char *sep = " (";

			for (int f = 0; f < PARSE_FMT__COUNT; f++) {
				if (is->fmt[f] == 0)
					continue;
				printf("%s%s %s", sep,
				       cmd_thousands(is->fmt[f], n3, sizeof(n3)),
				       parse_format_name((enum parse_format)f));
				sep = ", ";
			}
			printf(")");
		}
		printf(", time: %s own, %s inferred, %s none\n",
		       cmd_thousands(is->ts_parsed, n1, sizeof(n1)),
		       cmd_thousands(is->ts_inferred, n2, sizeof(n2)),
		       cmd_thousands(is->ts_missing, n3, sizeof(n3)));
	}
	printf("%s events (%s new) from %s records, %s lines, %.1f MB in "
	       "%.2f s (%.1f MB/s)\n",
	       cmd_thousands(events, n1, sizeof(n1)),
	       cmd_thousands(stored, n2, sizeof(n2)),
	       cmd_thousands(records, n3, sizeof(n3)),
	       cmd_thousands(lines, n4, sizeof(n4)), (double)bytes / 1e6,
	       secs, secs > 0 ? (double)bytes / 1e6 / secs : 0.0);
	if (missing && missing == records && records > 0)
		printf("note: no record carried a time; events are ordered by "
		       "line\n");
}

static json_t *json_time(bool has, int64_t ms)
{
	char t[40];

	if (!has)
		return json_null();
	timefmt_format_iso(ms, t, sizeof(t));
	return json_string(t);
}

static void print_json(struct analyze *a, double secs)
{
	json_t *root = json_object(), *rules = json_array();
	json_t *inputs = json_array();
	size_t i, n = rules_count(a->rules);
	uint64_t bytes = 0, lines = 0, records = 0, events = 0, stored = 0;
	char *text;

	for (i = 0; i < a->ninputs; i++) {
		const struct input_summary *is = &a->inputs[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(is->name));
		json_object_set_new(o, "error", json_boolean(is->error));
		json_object_set_new(o, "bytes", json_integer((json_int_t)is->bytes));
		json_object_set_new(o, "lines", json_integer((json_int_t)is->lines));
		json_object_set_new(o, "records",
				    json_integer((json_int_t)is->records));
		json_object_set_new(o, "events",
				    json_integer((json_int_t)is->events));
		json_object_set_new(o, "new_events",
				    json_integer((json_int_t)is->stored));
		{
			json_t *fm = json_object();

			for (int f = 0; f < PARSE_FMT__COUNT; f++)
				json_object_set_new(fm,
					parse_format_name((enum parse_format)f),
					json_integer((json_int_t)is->fmt[f]));
			json_object_set_new(o, "formats", fm);
		}
		json_object_set_new(o, "times", json_pack("{s:I,s:I,s:I}",
			"own", (json_int_t)is->ts_parsed,
			"inferred", (json_int_t)is->ts_inferred,
			"none", (json_int_t)is->ts_missing));
		json_object_set_new(o, "cut_lines",
				    json_integer((json_int_t)is->cut_lines));
		json_object_set_new(o, "split_records",
				    json_integer((json_int_t)is->capped));
		json_array_append_new(inputs, o);
		bytes += is->bytes;
		lines += is->lines;
		records += is->records;
		events += is->events;
		stored += is->stored;
	}
	for (int sev = RULE_SEV_CRITICAL; sev >= RULE_SEV_INFO; sev--) {
		for (i = 0; i < n; i++) {
			const struct rule *r = rules_at(a->rules, i);
			const struct rule_agg *g = &a->agg[i];
			json_t *o;

			if ((int)r->severity != sev || g->count == 0)
				continue;
			o = json_object();
			json_object_set_new(o, "id", json_string(r->id));
			json_object_set_new(o, "title", json_string(r->title));
			json_object_set_new(o, "severity",
				json_string(rules_sev_name(r->severity)));
			json_object_set_new(o, "category",
					    json_string(r->category));
			json_object_set_new(o, "guide", json_pack("{s:s,s:s}",
				"section", r->guide_section,
				"title", r->guide_title));
			json_object_set_new(o, "count",
					    json_integer((json_int_t)g->count));
			json_object_set_new(o, "new",
					    json_integer((json_int_t)g->stored));
			json_object_set_new(o, "first",
					    json_time(g->has_ts, g->first));
			json_object_set_new(o, "last",
					    json_time(g->has_ts, g->last));
			json_array_append_new(rules, o);
		}
	}
	json_object_set_new(root, "database", json_string(a->db_path));
	json_object_set_new(root, "inputs", inputs);
	json_object_set_new(root, "rules", rules);
	json_object_set_new(root, "totals", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"bytes", (json_int_t)bytes, "lines", (json_int_t)lines,
		"records", (json_int_t)records, "events", (json_int_t)events,
		"new_events", (json_int_t)stored));
	json_object_set_new(root, "elapsed_seconds", json_real(secs));
	json_object_set_new(root, "mb_per_second",
			    json_real(secs > 0 ? (double)bytes / 1e6 / secs : 0));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS |
			  JSON_REAL_PRECISION(6));
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* Which severity was found, highest; -1 when none. */
static int worst_found(const struct analyze *a)
{
	size_t i, n = rules_count(a->rules);
	int worst = -1;

	for (i = 0; i < n; i++)
		if (a->agg[i].count &&
		    (int)rules_at(a->rules, i)->severity > worst)
			worst = (int)rules_at(a->rules, i)->severity;
	return worst;
}

enum {
	OPT_DB = 256, OPT_RULES, OPT_FORMAT, OPT_SOURCE, OPT_FAIL_ON,
	OPT_MAX_BAD, OPT_TZ, OPT_YEAR, OPT_NO_REDACT,
};

static const struct option analyze_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "max-bad", required_argument, NULL, OPT_MAX_BAD },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "year", required_argument, NULL, OPT_YEAR },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *msg, const char *arg)
{
	error("%s '%s'; see 'logtriage analyze --help'", msg, arg);
	return EXIT_USAGE;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze a;
	struct timefmt_opts topts = { 0, NULL };
	bool no_redact = false;
	int c, i, rc, status = EXIT_OK;
	bool input_errors = false;
	unsigned char key[16];
	const char *err;
	char *end;

	memset(&a, 0, sizeof(a));
	a.db_path = "logtriage.db";
	a.format = "text";
	a.source_name = "stdin";
	a.fail_on = -1;
	a.max_bad = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qhV", analyze_options,
				NULL)) != -1) {
		switch (c) {
		case OPT_DB: a.db_path = optarg; break;
		case OPT_RULES: a.rules_dir = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0)
				return usage_error("unknown format", optarg);
			a.format = optarg;
			break;
		case OPT_SOURCE: a.source_name = optarg; break;
		case OPT_FAIL_ON:
			if (cmd_parse_fail_on(optarg, &a.fail_on) < 0)
				return usage_error("unknown severity for "
						   "--fail-on", optarg);
			break;
		case OPT_MAX_BAD:
			errno = 0;
			a.max_bad = strtoll(optarg, &end, 10);
			if (errno || *end || a.max_bad < 0 || end == optarg)
				return usage_error("--max-bad takes a count, "
						   "not", optarg);
			break;
		case OPT_TZ: topts.tz = optarg; break;
		case OPT_YEAR:
			errno = 0;
			topts.default_year = (int)strtol(optarg, &end, 10);
			if (errno || *end || topts.default_year < 1970 ||
			    topts.default_year > 9999)
				return usage_error("--year takes a year from "
						   "1970 to 9999, not", optarg);
			break;
		case OPT_NO_REDACT: no_redact = true; break;
		case 'q': a.quiet = true; diag_quiet = true; break;
		case 'h':
			fputs(analyze_usage, stdout);
			return EXIT_OK;
		case 'V':
			printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return EXIT_OK;
		case ':':
			error("option '%s' needs a value; see 'logtriage "
			      "analyze --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt > 0 && optopt < 256)
				error("unknown option '-%c'; see 'logtriage "
				      "analyze --help'", optopt);
			else
				error("unknown option '%s'; see 'logtriage "
				      "analyze --help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		error("no input given; see 'logtriage analyze --help'");
		return EXIT_USAGE;
	}
	if (topts.tz && cmd_check_zone(topts.tz) < 0)
		return usage_error("unknown time zone", topts.tz);
	cmd_clock_start();

	a.rules = rules_new();
	if (rules_load_builtin(a.rules) < 0 ||
	    (a.rules_dir && rules_load_dir(a.rules, a.rules_dir) < 0) ||
	    rules_compile(a.rules, false) < 0) {
		rules_free(a.rules);
		return EXIT_RULES;
	}
	rc = store_open(&a.store, a.db_path);
	if (rc < 0) {
		rules_free(a.rules);
		return rc == STORE_ERR_BUSY ? EXIT_LOCKED : EXIT_RUNTIME;
	}
	if (!no_redact) {
		store_redact_key(a.store, key);
		a.redact = redact_new(key, &err);
		memset(key, 0, sizeof(key));
		if (a.redact == NULL) {
			error("cannot set up redaction: %s", err);
			status = EXIT_BUG;
			goto out;
		}
	}
	a.agg = xcalloc(rules_count(a.rules), sizeof(*a.agg));
	parse_ctx_init(&a.parse, &topts);
	buf_init(&a.msg);
	buf_init(&a.tmp);
	buf_init(&a.fields);
	for (i = optind; i < argc; i++) {
		rc = analyze_one(&a, argv[i]);
		if (rc > 0)
			input_errors = true;
		if (rc < 0) {
			status = a.store_rc == STORE_ERR_BUSY ? EXIT_LOCKED :
				 EXIT_RUNTIME;
			break;
		}
	}
	if (status == EXIT_OK) {
		double secs = cmd_elapsed();
		bool any_read = false;

		for (size_t k = 0; k < a.ninputs; k++)
			if (!a.inputs[k].skipped && a.inputs[k].bytes > 0)
				any_read = true;
		if (!a.quiet && any_read) {
			if (strcmp(a.format, "json") == 0)
				print_json(&a, secs);
			else
				print_text(&a, secs);
		}
		if (input_errors)
			status = EXIT_INPUT;
		else if (a.fail_on >= 0 && worst_found(&a) >= a.fail_on)
			status = EXIT_FINDINGS;
	}
	parse_ctx_release(&a.parse);
	buf_release(&a.msg);
	buf_release(&a.tmp);
	buf_release(&a.fields);
out:
	for (size_t k = 0; k < a.ninputs; k++)
		free(a.inputs[k].name);
	free(a.inputs);
	free(a.agg);
	redact_free(a.redact);
	store_close(a.store);
	rules_free(a.rules);
	if (fflush(stdout) != 0 && status == EXIT_OK)
		status = error("cannot write output: %s", strerror(errno)) ?
			 EXIT_RUNTIME : EXIT_RUNTIME;
	return status;
}

/*
 * cmd_analyze.c - 'logtriage analyze': the whole pipeline, in order:
 * input -> records -> parse -> rules -> store, then a summary.
 */
#include "common.h"
#include "cmd.h"
#include "ahead.h"
#include "buf.h"
#include "diag.h"
#include "input.h"
#include "metricsfile.h"
#include "parse.h"
#include "record.h"
#include "redact.h"
#include "rules.h"
#include "store.h"
#include "templates.h"
#include "timefmt.h"

#include <dirent.h>
#include <fnmatch.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* Events per transaction: large batches, bounded loss on a kill. */
#define BATCH_EVENTS 20000
/* A stored message keeps its head and tail up to this size. */
#define MAX_MESSAGE_BYTES (64u * 1024)
/* Bad records (malformed JSON lines, limits hit) reported per input. */
#define MAX_BAD_SHOWN 10

static const char analyze_usage[] =
"usage: logtriage analyze [options] FILE|DIR... | -\n"
"\n"
"Read logs (plain or gzip, detected by content; '-' is stdin; a directory\n"
"gives its files), classify each record with the rules, store the events\n"
"in the database and print a summary. An input read before is read on\n"
"from where the last run stopped, also after rotation (it is known by its\n"
"content): nothing is stored twice. Ctrl-C (or SIGTERM) while reading ends\n"
"the input, not the run: what was read is stored and summarised, and the\n"
"exit status is 130 (143).\n"
"\n"
"Options:\n"
"  --db FILE          database to write (default: logtriage.db)\n"
"  --rules DIR        also load DIR/*.json; a rule with a built-in id\n"
"                     replaces the built-in one\n"
"  --format FMT       summary as 'text' (default) or 'json'\n"
"  --source NAME      name of the stdin input (default: stdin)\n"
"  --exclude GLOB     skip files of a directory or pattern matching GLOB\n"
"                     (name or path; may be repeated)\n"
"  --fail-on SEV      exit 5 when an event of severity SEV or above was\n"
"                     found: critical, error, warning, info or never\n"
"                     (default: never)\n"
"  --max-bad N        exit 4 when an input has more than N malformed\n"
"                     records (JSON lines seen broken or that failed to\n"
"                     decode; default: no limit)\n"
"  --tz ZONE          time zone of timestamps that carry none (default:\n"
"                     UTC), e.g. Europe/Madrid\n"
"  --year YYYY        year of timestamps that carry none (syslog)\n"
"  --no-redact        store secrets as they are (default: redacted)\n"
"  --color WHEN       colour the severities: auto (on a terminal, unless\n"
"                     NO_COLOR is set), always or never\n"
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
	bool unchanged;         /* read before, nothing added since */
	bool stopped;           /* a stop signal ended it early */
	uint64_t resumed_from;  /* lines read by earlier runs */
};

struct analyze {
	struct rules *rules;
	struct rules_scanner *scanner; /* for the framing thread, made once */
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
	bool commit_due;        /* BATCH_EVENTS more: commit after this
				   record */
	struct buf state;       /* the rules' state, saved or loaded */
	double input_start;     /* cmd_elapsed() when it was opened */
	struct templates *tpl;  /* unknown-error templates */
	bool record_fired;      /* a rule fired for the current record */
	uint64_t unknown;       /* error records no rule knew */
	struct buf example;
	bool progress;          /* show a progress line on stderr */
	struct buf msg, tmp, fields, val;
	/* options */
	const char *db_path;
	const char *rules_dir;
	const char *format;
	const char *source_name;
	int fail_on;
	long long max_bad;
	bool quiet;
};

/*
 * True when p holds ASCII without NUL (most log text): valid UTF-8 as it
 * is. Eight bytes at a time: a byte with its top bit set, or a zero one.
 */
static bool is_plain_ascii(const char *p, size_t n)
{
	const uint64_t high = UINT64_C(0x8080808080808080);
	const uint64_t ones = UINT64_C(0x0101010101010101);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if ((w & high) != 0 || ((w - ones) & ~w & high) != 0)
			return false;
	}
	for (; i < n; i++)
		if ((unsigned char)p[i] == 0 || (unsigned char)p[i] >= 0x80)
			return false;
	return true;
}

/* Redact (unless --no-redact) and make valid UTF-8: text -> out. */
static void clean_text(struct analyze *a, const char *p, size_t n,
		       struct buf *out)
{
	buf_clear(out);
	if (a->redact && redact_may_contain(p, n)) {
		buf_clear(&a->tmp);
		redact_append(a->redact, p, n, &a->tmp);
		p = a->tmp.p;
		n = a->tmp.len;
	}
	if (is_plain_ascii(p, n))
		buf_add(out, p, n);
	else
		buf_add_utf8(out, p, n);
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

/* Add "name":"value" to the fields, value redacted and made UTF-8. */
static void add_field(struct analyze *a, const char *name, struct span v,
		      bool *first)
{
	clean_text(a, v.p, v.len, &a->val);
	if (!*first)
		buf_addch(&a->fields, ',');
	buf_addch(&a->fields, '"');
	buf_add_json_escaped(&a->fields, name, strlen(name));
	buf_adds(&a->fields, "\":\"");
	buf_add_json_escaped(&a->fields, a->val.p, a->val.len);
	buf_addch(&a->fields, '"');
	*first = false;
}

/*
 * The record's fields that say where a line came from, stored with its
 * events: the compose service, Heroku dyno or syslog program ("service")
 * and the container stream ("stream"), from the envelope a line came in
 * or a JSON line's own member of that name. A capture of the same name
 * wins.
 */
static const char *const origin_fields[] = { "service", "stream" };

static void build_fields(struct analyze *a, const struct rules_match *m)
{
	size_t i, k, j;
	bool first = true;

	buf_clear(&a->fields);
	buf_addch(&a->fields, '{');
	for (i = 0; i < m->ncaptures; i++)
		add_field(a, m->captures[i].name, m->captures[i].value, &first);
	for (k = 0; k < ARRAY_SIZE(origin_fields); k++) {
		const char *name = origin_fields[k];
		size_t len = strlen(name);

		for (i = 0; i < m->ncaptures; i++)
			if (strcmp(m->captures[i].name, name) == 0)
				break;
		if (i < m->ncaptures)
			continue;
		for (j = 0; j < a->ev->nfields; j++) {
			const struct parse_kv *f = &a->ev->fields[j];

			if (f->name.len == len &&
			    memcmp(f->name.p, name, len) == 0 && f->value.len) {
				add_field(a, name, f->value, &first);
				break;
			}
		}
	}
	if (m->has_metric) {
		/*
		 * The shortest of 15 or 17 digits that reads back as the
		 * value (as 'metrics.value' holds it): %.6g made 1234567 ms
		 * 1.23457e+06. rules.c only hands out finite values.
		 */
		char num[32];

		snprintf(num, sizeof(num), "%.15g", m->metric);
		if (strtod(num, NULL) != m->metric)
			snprintf(num, sizeof(num), "%.17g", m->metric);
		buf_addf(&a->fields, "%s\"metric\":%s", first ? "" : ",", num);
		first = false;
	}
	if (m->window_hits)
		buf_addf(&a->fields, "%s\"window_count\":%u", first ? "" : ",",
			 m->window_hits);
	buf_addch(&a->fields, '}');
}

static int put_template(void *arg, const struct template_info *ti,
			int64_t *id)
{
	struct analyze *a = arg;

	return store_template_put(a->store, ti, id);
}

/* Store the template counts gathered since the last commit. */
static int flush_templates(struct analyze *a)
{
	return templates_each(a->tpl, put_template, a);
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
				      m->metric, m->metric_unit ? m->metric_unit :
				      r->metric_unit);
		if (rc < 0) {
			a->store_rc = rc;
			return -1;
		}
	}
	if (m->fired) {
		struct rule_agg *g = &a->agg[m->index];

		a->record_fired = true;
		struct store_event se;

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
		se.tally = (unsigned)m->index; /* new ones: count_new() */
		rc = store_put_event(a->store, &se);
		if (rc < 0) {
			a->store_rc = rc;
			return -1;
		}
		g->count++;
		is->events++;
		if (ev->has_ts) {
			if (!g->has_ts || ev->ts < g->first)
				g->first = ev->ts;
			if (!g->has_ts || ev->ts > g->last)
				g->last = ev->ts;
			g->has_ts = true;
		}
		if (++a->batch >= BATCH_EVENTS) {
			a->batch = 0;
			a->commit_due = true;
		}
	}
	return 0;
}

/*
 * The new events of an input, once its rows are written: the store
 * counts per rule the rows it inserted (not those stored before).
 */
static void count_new(struct analyze *a, struct input_summary *is)
{
	size_t i, n = rules_count(a->rules);

	for (i = 0; i < n; i++) {
		uint64_t t = store_new_events(a->store, (unsigned)i);

		is->stored += t - a->agg[i].stored;
		a->agg[i].stored = t;
	}
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

/*
 * The lines a database error carries below its message, joined to it with
 * "\n": libpq's fields of a server error (fe-protocol3.c,
 * pqBuildErrorMessage3: "DETAIL:  %s", two spaces, and HINT, QUERY,
 * CONTEXT), which psycopg2 and SQLAlchemy repeat, and SQLAlchemy's own
 * (sqlalchemy/exc.py: StatementError._sql_message, SQLAlchemyError.
 * _code_str). An export with one line per entry (Railway's JSON, Render,
 * docker logs) gives each a line of its own, at the error level of the
 * stream: they continue the exception above and are not errors of their
 * own. (A PostgreSQL server log puts its prefix before DETAIL.)
 */
static const char *const exception_tails[] = {
	"DETAIL:  ", "HINT:  ", "QUERY:  ", "CONTEXT:  ",
	"(Background on this error at: ",
	"[SQL: ",
	"[parameters: ",
	"[SQL parameters hidden due to hide_parameters=True]",
};

static bool continues_exception(struct span m)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(exception_tails); i++) {
		size_t n = strlen(exception_tails[i]);

		if (m.len >= n && memcmp(m.p, exception_tails[i], n) == 0)
			return true;
	}
	return false;
}

/*
 * An error record that no rule knew: mine its template. A traceback is
 * known by its exception line (the last), anything else by its first.
 */
static void mine(struct analyze *a, const struct record *rec,
		 struct parsed *ev)
{
	struct span m;
	const char *nl;
	int64_t day;

	if (ev->format == PARSE_FMT_JSON && !ev->decoded)
		parse_decode(&a->parse, ev);
	m = ev->message;
	while (m.len > 0 && (m.p[m.len - 1] == '\n' || m.p[m.len - 1] == ' '))
		m.len--;
	if (rec->flags & RECORD_TRACEBACK) {
		const char *last = m.p;

		for (nl = memchr(m.p, '\n', m.len); nl != NULL;
		     nl = memchr(nl + 1, '\n', m.len - (size_t)(nl + 1 - m.p)))
			last = nl + 1;
		m.len -= (size_t)(last - m.p);
		m.p = last;
	} else {
		/* The first line, past lines that continue an exception
		 * (joined to the next error, when that looks like one). */
		while ((nl = memchr(m.p, '\n', m.len)) != NULL &&
		       continues_exception(m)) {
			m.len -= (size_t)(nl + 1 - m.p);
			m.p = nl + 1;
		}
		if ((nl = memchr(m.p, '\n', m.len)) != NULL)
			m.len = (size_t)(nl - m.p);
	}
	/*
	 * An indented line continues something (a traceback frame exported
	 * as a JSON line of its own), as do a database error's lines below
	 * its message; and where the message names its own level (a
	 * platform marks all of stderr as error), that level rules.
	 */
	if (m.len == 0 || m.p[0] == ' ' || m.p[0] == '\t' ||
	    continues_exception(m))
		return;
	{
		int own = parse_text_level(m.p, m.len);

		if (own != PARSE_LEVEL_NONE && own < PARSE_LEVEL_ERROR &&
		    !(rec->flags & RECORD_TRACEBACK))
			return;
	}
	clean_text(a, m.p, m.len < TEMPLATES_MAX_EXAMPLE ? m.len :
		   TEMPLATES_MAX_EXAMPLE, &a->example);
	day = (ev->has_ts ? ev->ts : cmd_now_ms()) / 86400000;
	if (ev->has_ts && ev->ts < 0)
		day = (ev->ts - 86399999) / 86400000;
	templates_add(a->tpl, m.p, m.len, a->example.p, a->src_name,
		      rec->line_no, ev->ts, ev->has_ts, day);
	a->unknown++;
}

/*
 * Step 1 of the rules for a parsed record: from the scan done ahead (it),
 * when that scan saw the text the rules read, else here.
 */
static size_t prefilter(struct analyze *a, const struct parsed *ev,
			const struct ahead_item *it)
{
	bool json = ev->format == PARSE_FMT_JSON;

	if (it != NULL && ahead_covers(it, ev->raw, ev->raw_len, json))
		return rules_select(a->rules, ev->raw, ev->raw_len, json,
				    it->ids, it->nids);
	return rules_prefilter(a->rules, ev->raw, ev->raw_len, json);
}

/*
 * Classify one record (it: what the framing thread found in it, or
 * NULL); return 0 or -1 on a store error.
 */
static int classify(struct analyze *a, const struct record *rec,
		    const struct ahead_item *it)
{
	struct parsed ev;
	struct rules_input ri;
	int rc;

	parse_record(&a->parse, rec, &ev);
	if (ev.format == PARSE_FMT_JSON_BAD)
		bad_json(a, rec);
	a->record_fired = false;
	if (prefilter(a, &ev, it) == 0) {
		if (ev.level >= PARSE_LEVEL_ERROR ||
		    (rec->flags & RECORD_TRACEBACK))
			mine(a, rec, &ev);
		return 0;
	}
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
	if (!a->record_fired && rules_last_matched(a->rules) == 0 &&
	    (ev.level >= PARSE_LEVEL_ERROR ||
				 (rec->flags & RECORD_TRACEBACK)))
		mine(a, rec, &ev);
	if (rc > 0 && a->limit_warnings++ < MAX_BAD_SHOWN)
		warning("%s:%" PRIu64 ": rule '%s': pattern hit the PCRE2 "
			"match limit; record skipped for that rule",
			a->src_name, rec->line_no,
			rules_last_limit_rule(a->rules));
	return 0;
}

/* Looking for the stored source an input continues. */
struct source_match {
	const char *head;       /* the input's first bytes */
	size_t head_len;
	const char *name;
	struct store_source_row row;    /* the match; row.name is NULL */
	bool found;
	bool same_name_other;   /* a source of that name had other content */
	uint64_t same_name_bytes;       /* and that much was read of it */
};

static int match_source(void *arg, const struct store_source_row *r)
{
	struct source_match *m = arg;

	if (!m->found && r->head_len <= m->head_len &&
	    fnv1a64(m->head, r->head_len) == r->head_hash) {
		m->row = *r;
		m->row.name = NULL;
		m->found = true;
	} else if (r->name && strcmp(r->name, m->name) == 0 &&
		   !m->same_name_other) {
		m->same_name_other = true;
		m->same_name_bytes = r->bytes_read;
	}
	return 0;
}

/*
 * Decide where to start reading an input that was read before: from the
 * start (a new or rewritten input), from where the last run stopped, or
 * not at all (nothing was added). Fills src; return 0, 1 to skip the
 * input, or a store_err.
 */
static int find_source(struct analyze *a, struct input *in,
		       struct record_reader *rr, struct input_summary *is,
		       struct store_source *src, int64_t *id)
{
	struct source_match m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.head = rr->head;
	m.head_len = rr->head_len;
	m.name = is->name;
	rc = store_source_each(a->store, RECORD_HEAD_BYTES, match_source, &m);
	if (rc < 0)
		return rc;
	if (!m.found) {
		if (m.same_name_other && !a->quiet && in->is_regular &&
		    !in->is_gzip && in->file_size < (off_t)m.same_name_bytes)
			warning("%s: shorter than when last read (%" PRId64
				" < %" PRIu64 " bytes); reading it from the "
				"start", is->name, (int64_t)in->file_size,
				m.same_name_bytes);
		else if (m.same_name_other && !a->quiet)
			warning("%s: content differs from the last run's; "
				"reading it as a new input", is->name);
		return store_source_add(a->store, src, id);
	}
	*id = m.row.id;
	if (in->is_regular && !in->is_gzip && !m.row.compressed &&
	    in->file_size < (off_t)m.row.bytes_read) {
		/* Truncated and written again: a new generation. */
		static char gen[32];

		snprintf(gen, sizeof(gen), "%" PRId64, src->analyzed_at);
		src->generation = gen;
		if (!a->quiet)
			warning("%s: shorter than when last read (%" PRId64
				" < %" PRIu64 " bytes); reading it from the "
				"start", is->name, (int64_t)in->file_size,
				m.row.bytes_read);
		return store_source_add(a->store, src, id);
	}
	is->resumed_from = m.row.lines_read;
	src->bytes = m.row.bytes_read;
	src->lines = m.row.lines_read;
	/*
	 * Records without a time of their own take the last one before
	 * them, also across runs: the first new lines start with the time
	 * the last run left at its resume point.
	 */
	src->has_resume_ts = m.row.has_resume_ts;
	src->resume_ts = m.row.resume_ts;
	if (m.row.has_resume_ts)
		parse_ctx_resume(&a->parse, m.row.resume_ts);
	if (in->is_regular && m.row.size == (int64_t)in->file_size &&
	    m.row.compressed == in->is_gzip &&
	    (in->is_gzip || m.row.bytes_read == (uint64_t)in->file_size)) {
		/* Same size as when it was read to its end: nothing new. */
		is->unchanged = true;
		return 1;
	}
	record_reader_resume(rr, m.row.bytes_read, m.row.lines_read);
	return 0;
}

/* A progress line on stderr, for a person waiting at a terminal. */
static void show_progress(struct analyze *a, const struct input *in,
			  uint64_t raw_bytes, bool done)
{
	double secs = cmd_elapsed() - a->input_start;
	double mb = (double)raw_bytes / 1e6;
	double rate = secs > 0 ? mb / secs : 0;

	if (done) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (in->file_size > 0 && rate > 0) {
		double left = ((double)in->file_size / 1e6 - mb) / rate;

		fprintf(stderr, "\r\033[K%s: %.1f of %.1f MB, %.1f MB/s, "
			"%.0f s left", a->src_name, mb,
			(double)in->file_size / 1e6, rate, left < 0 ? 0 : left);
	} else {
		fprintf(stderr, "\r\033[K%s: %.1f MB, %.1f MB/s", a->src_name,
			mb, rate);
	}
}

/*
 * The resume point at off (lines before it), with what a run going on
 * from there needs: the time read there and the rules' windows and
 * sequences. (A last line without its newline counted in the windows
 * already and is read again: a window may count it twice.)
 */
static void set_resume(struct analyze *a, struct store_source *s,
		       uint64_t off, uint64_t lines)
{
	s->bytes = off;
	s->lines = lines;
	s->has_resume_ts = a->parse.have_last_ts;
	s->resume_ts = a->parse.last_ts;
	rules_state_save(a->rules, &a->state);
	s->rules_state = a->state.p;
	s->rules_state_len = a->state.len;
}

/*
 * Every BATCH_EVENTS events, once the record that completed the batch is
 * classified: commit the events with the resume point after that record,
 * the time read there and what the rules' windows and sequences hold, so
 * that a run killed later goes on from there as one run would.
 */
static int commit_batch(struct analyze *a, uint64_t off, uint64_t lines)
{
	struct store_source p;
	int rc;

	a->commit_due = false;
	memset(&p, 0, sizeof(p));
	set_resume(a, &p, off, lines);
	if ((rc = flush_templates(a)) < 0 ||
	    (rc = store_source_progress(a->store, a->source_id, &p)) < 0 ||
	    (rc = store_commit_begin(a->store)) < 0) {
		a->store_rc = rc;
		return -1;
	}
	return 0;
}

/* The name of a stop signal, for messages. */
static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
	       "a signal";
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
	struct ahead *ah = NULL;
	int more, rc = 0;
	uint64_t done_off, done_lines, nrec = 0;

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
	a->input_start = cmd_elapsed();
	parse_ctx_reset(&a->parse);
	/* Stamps without a year (syslog) take it from the file's time. */
	{
		struct stat fs;

		parse_ctx_set_file_time(&a->parse, in.is_regular &&
			fstat(in.fd, &fs) == 0 ?
			(int64_t)fs.st_mtim.tv_sec * 1000 : cmd_now_ms());
	}
	memset(a->parse.by_format, 0, sizeof(a->parse.by_format));
	a->parse.ts_parsed = a->parse.ts_inferred = a->parse.ts_missing = 0;

	if (record_reader_prime(&rr) < 0 && rr.head_len == 0) {
		is->error = true;
		rc = 1;
		goto out;
	}
	if (rr.head_len == 0 && input_stopped(&in)) {
		/* nothing came before the signal: nothing to store */
		is->stopped = true;
		error("%s: interrupted by %s before anything was read",
		      is->name, signal_name(input_stop_signal()));
		goto out;
	}
	if (rr.head_len == 0) {
		error("%s: empty input", is->name);
		is->error = true;
		rc = 1;
		goto out;
	}
	memset(&src, 0, sizeof(src));
	src.name = is->name;
	src.head_hash = fnv1a64(rr.head, rr.head_len);
	src.head_len = rr.head_len;
	src.dev = in.is_regular ? (int64_t)in.dev : -1;
	src.ino = in.is_regular ? (int64_t)in.ino : -1;
	src.size = in.is_regular ? (int64_t)in.file_size : -1;
	src.compressed = in.is_gzip;
	src.analyzed_at = cmd_now_ms();
	if ((rc = store_begin(a->store)) < 0 ||
	    (rc = find_source(a, &in, &rr, is, &src, &a->source_id)) < 0) {
		a->store_rc = rc;
		rc = -1;
		goto out;
	}
	if (rc == 1) {
		/* Nothing new: only the time of this run is written. */
		rc = 0;
		src.records = 0;
		if ((rc = store_source_update(a->store, a->source_id,
					      &src)) < 0 ||
		    (rc = store_commit(a->store)) < 0) {
			a->store_rc = rc;
			rc = -1;
		}
		goto out;
	}
	done_off = src.bytes;
	done_lines = src.lines;
	a->batch = 0;
	a->commit_due = false;
	/* Going on from a resume point: the windows and sequences as they
	 * were there (none kept by a version before 5: as they are). */
	if (src.bytes > 0) {
		if ((rc = store_source_rules_state(a->store, a->source_id,
						   &a->state)) < 0) {
			a->store_rc = rc;
			rc = -1;
			goto out;
		}
		if (a->state.len > 0)
			(void)rules_state_load(a->rules, a->state.p,
					       a->state.len);
	}
	/* A metrics export: its samples go to 'metrics' (metricsfile.h),
	 * counted as records of a metrics-* format; no record follows. */
	if (metricsfile_detect(rr.head, rr.head_len) != METRICSFILE_NONE &&
	    (rc = metricsfile_read(&rr, &a->parse, a->store, a->source_id,
				   NULL)) < 0) {
		a->store_rc = rc;
		rc = -1;
		goto out;
	}
	/* framing and the literal scan run ahead on the other core */
	if (a->scanner == NULL)
		a->scanner = rules_scanner_new(a->rules);
	ah = ahead_start(&rr, a->scanner);
	for (;;) {
		const struct ahead_item *it = NULL;
		const struct record *r = &rec;
		uint64_t raw_bytes;

		if (ah != NULL) {
			more = ahead_next(ah, &it);
			if (it->diag_len > 0)
				fwrite(it->diag, 1, it->diag_len, stderr);
			r = &it->rec;
			raw_bytes = it->raw_bytes;
		} else {
			more = record_next(&rr, &rec);
			raw_bytes = in.raw_bytes;
		}
		if (more <= 0)
			break;
		if (classify(a, r, it) < 0) {
			rc = -1;
			goto out;
		}
		done_off = r->end_offset;
		done_lines = r->end_line;
		if (a->commit_due && commit_batch(a, done_off, done_lines) < 0) {
			rc = -1;
			goto out;
		}
		if (a->progress && (++nrec & 0xffff) == 0)
			show_progress(a, &in, raw_bytes, false);
	}
	ahead_stop(ah);
	ah = NULL;
	if (a->progress)
		show_progress(a, &in, in.raw_bytes, true);
	if (rr.partial_line) {
		/*
		 * A last line without its newline may still be growing, or
		 * was cut by a read error or a stop signal (which in a file
		 * also leaves the record it was in): the next run reads it
		 * again.
		 */
		done_off = rr.partial_off;
		done_lines = rr.partial_lines;
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
	set_resume(a, &src, done_off, done_lines);
	is->stopped = input_stopped(&in);
	if (rr.input_error || is->stopped)
		/* not read to its end: the next run goes on (find_source) */
		src.size = -1;
	src.records = is->records;
	src.cut_lines = is->cut_lines;
	src.capped_records = is->capped;
	src.ts_parsed = is->ts_parsed;
	src.ts_inferred = is->ts_inferred;
	src.ts_missing = is->ts_missing;
	rc = flush_templates(a);
	for (int f = 0; f < PARSE_FMT__COUNT && rc == 0; f++)
		if (is->fmt[f])
			rc = store_source_format(a->store, a->source_id,
				parse_format_name((enum parse_format)f),
				is->fmt[f]);
	if (rc < 0 ||
	    (rc = store_source_update(a->store, a->source_id, &src)) < 0 ||
	    (rc = store_commit(a->store)) < 0) {
		a->store_rc = rc;
		rc = -1;
		goto out;
	}
	count_new(a, is);
	if (is->stopped)
		error("%s: interrupted by %s after line %" PRIu64 "; what "
		      "was read is stored", is->name,
		      signal_name(input_stop_signal()), done_lines);
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
	if (is->records == 0 && is->resumed_from == 0 && !a->quiet)
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
	ahead_stop(ah);
	if (rc < 0)
		store_rollback(a->store);
	record_reader_release(&rr);
	input_close(&in);
	return rc;
}

/* A list of input paths, expanded from the command line. */
struct pathlist {
	char **v;       /* owned */
	size_t n;
};

static void pathlist_add(struct pathlist *l, const char *p)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(p);
}

static void pathlist_free(struct pathlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static bool excluded(const struct pathlist *ex, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i < ex->n; i++)
		if (fnmatch(ex->v[i], base, 0) == 0 ||
		    fnmatch(ex->v[i], path, 0) == 0)
			return true;
	return false;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Expand one argument: a directory gives its regular files (not hidden),
 * sorted by name; a pattern that names no file is matched with glob(3)
 * (for arguments quoted from the shell, as in a crontab); anything else
 * is taken as it is. --exclude patterns apply to what a directory or a
 * pattern gives. Return 0, or -1 when a pattern matched nothing.
 */
static int expand_arg(const char *arg, const struct pathlist *ex,
		      struct pathlist *out)
{
	struct stat sb;
	size_t first = out->n;

	if (strcmp(arg, "-") == 0 || (stat(arg, &sb) == 0 &&
				       !S_ISDIR(sb.st_mode))) {
		pathlist_add(out, arg);
		return 0;
	}
	if (stat(arg, &sb) == 0) {
		DIR *d = opendir(arg);
		struct dirent *de;
		struct buf path;

		if (d == NULL) {
			pathlist_add(out, arg);  /* input_open reports it */
			return 0;
		}
		buf_init(&path);
		while ((de = readdir(d)) != NULL) {
			struct stat fs;

			if (de->d_name[0] == '.')
				continue;
			buf_clear(&path);
			buf_addf(&path, "%s%s%s", arg,
				 arg[strlen(arg) - 1] == '/' ? "" : "/",
				 de->d_name);
			if (stat(path.p, &fs) == 0 && S_ISREG(fs.st_mode) &&
			    !excluded(ex, path.p))
				pathlist_add(out, path.p);
		}
		closedir(d);
		buf_release(&path);
		if (out->n - first > 1)
			qsort(out->v + first, out->n - first, sizeof(*out->v),
			      cmp_path);
		if (out->n == first)
			return error("%s: no files to read in this directory",
				     arg);
		return 0;
	}
	if (strpbrk(arg, "*?[") != NULL) {
		glob_t g;
		size_t i;

		if (glob(arg, 0, NULL, &g) != 0) {
			error("%s: no file matches this pattern", arg);
			return -1;
		}
		for (i = 0; i < g.gl_pathc; i++)
			if (!excluded(ex, g.gl_pathv[i]))
				pathlist_add(out, g.gl_pathv[i]);
		globfree(&g);
		return 0;
	}
	pathlist_add(out, arg);
	return 0;
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
			printf("%s%-8s%s %-25s %6s  %-19s  %-12s  %s\n",
			       cmd_sev_color((int)r->severity),
			       rules_sev_name(r->severity), cmd_color_reset(),
			       r->id,
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
		if (is->unchanged) {
			printf("%s: nothing new since the last run (%s lines "
			       "read before)\n", is->name,
			       cmd_thousands(is->resumed_from, n1, sizeof(n1)));
			continue;
		}
		if (is->resumed_from)
			printf("%s: from line %s on: ", is->name,
			       cmd_thousands(is->resumed_from + 1, n1,
					     sizeof(n1)));
		else
			printf("%s: ", is->name);
		printf("%s lines, %s records",
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
	if (a->unknown)
		printf("%s error records matched no rule; 'logtriage summary' "
		       "lists their templates\n",
		       cmd_thousands(a->unknown, n1, sizeof(n1)));
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
		json_object_set_new(o, "unchanged", json_boolean(is->unchanged));
		json_object_set_new(o, "interrupted", json_boolean(is->stopped));
		json_object_set_new(o, "first_line",
			json_integer((json_int_t)is->resumed_from + 1));
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
				if (is->fmt[f])
					json_object_set_new(fm,
						parse_format_name(
							(enum parse_format)f),
						json_integer(
							(json_int_t)is->fmt[f]));
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
	json_object_set_new(root, "unknown_errors",
			    json_integer((json_int_t)a->unknown));
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
	OPT_MAX_BAD, OPT_TZ, OPT_YEAR, OPT_NO_REDACT, OPT_EXCLUDE, OPT_COLOR,
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
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "color", required_argument, NULL, OPT_COLOR },
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
	char *end;
	struct pathlist excludes = { NULL, 0 }, paths = { NULL, 0 };
	const char *color = "auto";
	size_t pi;

	memset(&a, 0, sizeof(a));
	a.db_path = "logtriage.db";
	a.format = "text";
	a.source_name = "stdin";
	a.fail_on = -1;
	a.max_bad = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qhV", analyze_options,
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
		case OPT_EXCLUDE: pathlist_add(&excludes, optarg); break;
		case OPT_COLOR: color = optarg; break;
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
	if (cmd_parse_color(color, &cmd_use_color, STDOUT_FILENO) < 0) {
		pathlist_free(&excludes);
		return usage_error("--color takes auto, always or never, not",
				   color);
	}
	if (optind >= argc) {
		pathlist_free(&excludes);
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
	store_writer_start(a.store);    /* events stored on the other core */
	if (!no_redact) {
		a.redact = cmd_redactor(a.store);
		if (a.redact == NULL) {
			status = EXIT_BUG;
			goto out;
		}
	}
	a.agg = xcalloc(rules_count(a.rules), sizeof(*a.agg));
	a.tpl = templates_new();
	buf_init(&a.example);
	buf_init(&a.state);
	if (store_templates_load(a.store, a.tpl) < 0) {
		status = EXIT_RUNTIME;
		goto out;
	}
	a.progress = !a.quiet && isatty(STDERR_FILENO);
	parse_ctx_init(&a.parse, &topts);
	buf_init(&a.msg);
	buf_init(&a.tmp);
	buf_init(&a.fields);
	buf_init(&a.val);
	for (i = optind; i < argc; i++)
		if (expand_arg(argv[i], &excludes, &paths) < 0)
			input_errors = true;
	/*
	 * While inputs are read, Ctrl-C on 'railway logs | logtriage
	 * analyze -' ends the input being read (the first one, if it came
	 * before), not the run: what was read is stored and summarised.
	 * Elsewhere a signal ends the process, as it always did.
	 */
	if (input_catch_signals() < 0)
		warning("cannot catch SIGINT and SIGTERM: %s", strerror(errno));
	for (pi = 0; pi < paths.n; pi++) {
		rc = analyze_one(&a, paths.v[pi]);
		if (rc > 0)
			input_errors = true;
		if (rc < 0) {
			status = a.store_rc == STORE_ERR_BUSY ? EXIT_LOCKED :
				 EXIT_RUNTIME;
			break;
		}
		if (input_stop_signal() != 0 && pi + 1 < paths.n) {
			error("interrupted by %s: %zu input(s) not read",
			      signal_name(input_stop_signal()),
			      paths.n - pi - 1);
			break;
		}
	}
	input_release_signals();
	if (status == EXIT_OK) {
		double secs = cmd_elapsed();
		bool any_read = false;

		/* The run's events go to the database file on the other
		 * core while the incidents are detected. */
		store_checkpoint_soon(a.store);
		for (size_t k = 0; k < a.ninputs; k++)
			if (!a.inputs[k].skipped &&
			    (a.inputs[k].bytes > 0 || a.inputs[k].unchanged))
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

		/* Incidents over the stored events, and how to report
		 * them (cmd_incidents.c); a failure there is the run's. */
		rc = cmd_incidents_after_analyze(a.store, a.rules, a.db_path,
				!a.quiet && any_read &&
				strcmp(a.format, "json") != 0);
		if (rc != EXIT_OK)
			status = rc;
	}
	parse_ctx_release(&a.parse);
	buf_release(&a.msg);
	buf_release(&a.tmp);
	buf_release(&a.fields);
	buf_release(&a.val);
out:
	templates_free(a.tpl);
	buf_release(&a.example);
	buf_release(&a.state);
	pathlist_free(&paths);
	pathlist_free(&excludes);
	for (size_t k = 0; k < a.ninputs; k++)
		free(a.inputs[k].name);
	free(a.inputs);
	free(a.agg);
	redact_free(a.redact);
	store_close(a.store);
	rules_scanner_free(a.scanner);
	rules_free(a.rules);
	if (fflush(stdout) != 0 && status == EXIT_OK)
		status = error("cannot write output: %s", strerror(errno)) ?
			 EXIT_RUNTIME : EXIT_RUNTIME;
	/* Stopped by a signal: the shell's status for it, once what was
	 * read is safe; it replaces success, input errors and findings (the
	 * run did not read all), a runtime failure keeps its own. */
	if (input_stop_signal() != 0 && (status == EXIT_OK ||
	    status == EXIT_INPUT || status == EXIT_FINDINGS))
		status = 128 + input_stop_signal();
	return status;
}

/*
 * cmd_summary.c - 'logtriage summary': what a period (by default the
 * last 24 hours) brought, against a baseline of the days before: symptom
 * counts with NEW and SPIKE flags, incidents, and the error templates no
 * rule knows. Short enough for a cron mail; its exit code pages.
 */
#include "common.h"
#include "cmd.h"
#include "buf.h"
#include "diag.h"
#include "redact.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"

#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <unistd.h>

#define DAY_MS INT64_C(86400000)
/* A count is a SPIKE at SPIKE_FACTOR times the baseline's daily median
 * and SPIKE_MIN above it (so that 1 -> 3 is no spike). */
#define SPIKE_FACTOR 3.0
#define SPIKE_MIN 5.0
#define MAX_BASELINE_DAYS 366

static const char summary_usage[] =
"usage: logtriage summary [options]\n"
"\n"
"Summarize a period (default: the last 24 hours) against the days before\n"
"it: per symptom the count, the baseline's daily median and the change,\n"
"flagged NEW (not seen in the baseline) or SPIKE (at least 3 times the\n"
"median and 5 more); the incidents of the period; and the error records\n"
"that no rule knows, grouped into templates. The first line is the\n"
"verdict. Events without a time belong to no period.\n"
"\n"
"Options:\n"
"  --db FILE          database to read (default: logtriage.db)\n"
"  --since WHEN       start: 24h, 7d, 90m (before now), or a date/time\n"
"                     such as 2026-02-24 or 2026-02-24T06:00 (UTC);\n"
"                     default 24h\n"
"  --until WHEN       end (default: now)\n"
"  --baseline DUR     days before --since to compare with (default 7d)\n"
"  --format FMT       text (default), md (a chat message) or json\n"
"  --fail-on SEV      exit 5 when the period has an event of SEV or above:\n"
"                     critical (default), error, warning, info or never\n"
"  --top N            unknown-error templates listed (default 10)\n"
"  --rules DIR        rules that add to or replace the built-in ones\n"
"  --color WHEN       auto (on a terminal, unless NO_COLOR), always, never\n"
"  -q, --quiet        print nothing; only the exit status tells\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 nothing at or above --fail-on; 5 something is; 1 database\n"
"error; 2 usage error; 3 invalid --rules.\n"
"\n"
"Examples:\n"
"  logtriage summary\n"
"  logtriage summary --since 2026-02-24 --until 2026-02-25 --format md\n"
"  logtriage summary --fail-on error --quiet || page-the-team\n";

struct sum_rule {
	char *id;               /* owned */
	int sev;
	uint64_t count;
	int64_t first, last;
	double median;          /* events per day in the baseline */
	uint64_t base_total;
	bool is_new, spike;
};

struct sum_template {
	char *text, *example, *source;  /* owned */
	uint64_t count, line;
	int64_t first_ts;
	bool has_first, is_new;
};

struct sum_incident {
	char *id, *severity, *root, *title;     /* owned */
	int64_t start, end;
};

struct summary {
	int64_t since, until, base_start;
	int base_days;
	struct sum_rule *r;
	size_t nr;
	struct sum_template *t;
	size_t nt;
	uint64_t templates_new;
	struct sum_incident *inc;
	size_t ninc;
	int worst;              /* highest severity in the period, or -1 */
	struct rules *rules;    /* titles and guide sections */
};

static int sev_rank(const char *s)
{
	int v = rules_sev_parse(s);

	return v < 0 ? 0 : v;
}

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return xstrdup(t ? (const char *)t : "");
}

static int sql_fail(sqlite3 *db, const char *what)
{
	return error("cannot %s: %s", what, sqlite3_errmsg(db));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The period's counts per rule, and the baseline's daily median of each. */
static int gather_rules(sqlite3 *db, struct summary *sm)
{
	sqlite3_stmt *s;
	size_t i;
	double *days = xcalloc((size_t)sm->base_days, sizeof(double));

	if (sqlite3_prepare_v2(db, "SELECT rule_id, max(severity = 'critical')"
			       " * 3 + max(severity = 'error') * 2 + "
			       "max(severity = 'warning'), count(*), min(ts), "
			       "max(ts) FROM events WHERE ts >= ?1 AND ts < ?2 "
			       "GROUP BY rule_id", -1, &s, NULL) != SQLITE_OK)
		return free(days), sql_fail(db, "read events");
	sqlite3_bind_int64(s, 1, sm->since);
	sqlite3_bind_int64(s, 2, sm->until);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct sum_rule *r;

		sm->r = xrealloc(sm->r, (sm->nr + 1) * sizeof(*sm->r));
		r = &sm->r[sm->nr++];
		memset(r, 0, sizeof(*r));
		r->id = col_text(s, 0);
		r->sev = sqlite3_column_int(s, 1);
		r->count = (uint64_t)sqlite3_column_int64(s, 2);
		r->first = sqlite3_column_int64(s, 3);
		r->last = sqlite3_column_int64(s, 4);
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT (ts - ?1) / 86400000, count(*) "
			       "FROM events WHERE rule_id = ?3 AND ts >= ?1 "
			       "AND ts < ?2 GROUP BY 1", -1, &s, NULL) != SQLITE_OK)
		return free(days), sql_fail(db, "read events");
	for (i = 0; i < sm->nr; i++) {
		struct sum_rule *r = &sm->r[i];
		double med;

		memset(days, 0, (size_t)sm->base_days * sizeof(double));
		sqlite3_bind_int64(s, 1, sm->base_start);
		sqlite3_bind_int64(s, 2, sm->since);
		sqlite3_bind_text(s, 3, r->id, -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW) {
			int64_t d = sqlite3_column_int64(s, 0);

			if (d >= 0 && d < sm->base_days)
				days[d] = (double)sqlite3_column_int64(s, 1);
			r->base_total += (uint64_t)sqlite3_column_int64(s, 1);
		}
		sqlite3_reset(s);
		qsort(days, (size_t)sm->base_days, sizeof(double), cmp_double);
		med = sm->base_days % 2 ? days[sm->base_days / 2] :
		      (days[sm->base_days / 2 - 1] + days[sm->base_days / 2]) / 2;
		r->median = med;
		r->is_new = r->base_total == 0;
		r->spike = !r->is_new &&
			   (double)r->count >= SPIKE_FACTOR * med &&
			   (double)r->count >= med + SPIKE_MIN;
		if (r->sev > sm->worst)
			sm->worst = r->sev;
	}
	sqlite3_finalize(s);
	free(days);
	return 0;
}

/* "2026-02-24" of an epoch ms. */
static void day_of(int64_t ms, char *out)
{
	char t[40];

	timefmt_format(ms, t, sizeof(t));
	memcpy(out, t, 10);
	out[10] = '\0';
}

/* Unknown-error templates with records in the period's days. */
static int gather_templates(sqlite3 *db, struct summary *sm, int top)
{
	sqlite3_stmt *s;
	char d0[11], d1[11], b0[11];

	day_of(sm->since, d0);
	day_of(sm->until - 1, d1);
	day_of(sm->base_start, b0);
	if (sqlite3_prepare_v2(db,
		"SELECT t.template, sum(d.count), t.first_ts, t.example, "
		"t.example_source, t.example_line, NOT EXISTS (SELECT 1 FROM "
		"template_days b WHERE b.template_id = t.id AND b.day >= ?3 "
		"AND b.day < ?1) FROM templates t JOIN template_days d ON "
		"d.template_id = t.id WHERE d.day >= ?1 AND d.day <= ?2 "
		"GROUP BY t.id ORDER BY 2 DESC, t.first_ts, t.id", -1, &s,
		NULL) != SQLITE_OK)
		return sql_fail(db, "read templates");
	sqlite3_bind_text(s, 1, d0, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d1, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, b0, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		bool is_new = sqlite3_column_int(s, 6) != 0;
		struct sum_template *t;

		if (is_new)
			sm->templates_new++;
		if ((int)sm->nt >= top)
			continue;
		sm->t = xrealloc(sm->t, (sm->nt + 1) * sizeof(*sm->t));
		t = &sm->t[sm->nt++];
		t->text = col_text(s, 0);
		t->count = (uint64_t)sqlite3_column_int64(s, 1);
		t->has_first = sqlite3_column_type(s, 2) != SQLITE_NULL;
		t->first_ts = sqlite3_column_int64(s, 2);
		t->example = col_text(s, 3);
		t->source = col_text(s, 4);
		t->line = (uint64_t)sqlite3_column_int64(s, 5);
		t->is_new = is_new;
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * The templates' text and example, redacted again: a database written
 * with --no-redact holds the secrets as they were logged, and the
 * summary (mailed by cron) must not print them. What is already
 * redacted stays as it is.
 */
static int redact_templates(const struct store *st, struct summary *sm)
{
	struct redact *red = cmd_redactor(st);
	struct buf b;
	size_t i, k;

	if (red == NULL)
		return -1;
	buf_init(&b);
	for (i = 0; i < sm->nt; i++) {
		char **v[2] = { &sm->t[i].text, &sm->t[i].example };

		for (k = 0; k < 2; k++) {
			buf_clear(&b);
			if (redact_append(red, *v[k], strlen(*v[k]), &b) == 0)
				continue;
			free(*v[k]);
			*v[k] = xmemdup(b.p, b.len);
		}
	}
	buf_release(&b);
	redact_free(red);
	return 0;
}

static int gather_incidents(sqlite3 *db, struct summary *sm)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, "SELECT id, start_ts, end_ts, severity, "
			       "coalesce(root_rule, ''), title FROM incidents "
			       "WHERE end_ts >= ?1 AND start_ts < ?2 ORDER BY "
			       "start_ts, id", -1, &s, NULL) != SQLITE_OK)
		return sql_fail(db, "read incidents");
	sqlite3_bind_int64(s, 1, sm->since);
	sqlite3_bind_int64(s, 2, sm->until);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct sum_incident *in;

		sm->inc = xrealloc(sm->inc, (sm->ninc + 1) * sizeof(*sm->inc));
		in = &sm->inc[sm->ninc++];
		in->id = col_text(s, 0);
		in->start = sqlite3_column_int64(s, 1);
		in->end = sqlite3_column_int64(s, 2);
		in->severity = col_text(s, 3);
		in->root = col_text(s, 4);
		in->title = col_text(s, 5);
		if (sev_rank(in->severity) > sm->worst)
			sm->worst = sev_rank(in->severity);
	}
	sqlite3_finalize(s);
	return 0;
}

/* Most severe first, then the largest count, then by id. */
static int cmp_rule(const void *a, const void *b)
{
	const struct sum_rule *x = a, *y = b;

	if (x->sev != y->sev)
		return y->sev - x->sev;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->id, y->id);
}

static const char *flags_of(const struct sum_rule *r)
{
	return r->is_new ? "NEW" : r->spike ? "SPIKE" : "";
}

static void fmt_ts(int64_t ms, char *out, size_t size)
{
	timefmt_format(ms, out, size);
}

/* The first line: what a person needs if they read nothing else. */
static void verdict(const struct summary *sm, struct buf *b)
{
	size_t i, n = 0, shown = 0;
	int sev = sm->worst;

	if (sev < RULE_SEV_WARNING) {
		buf_adds(b, "OK: no symptom above info");
	} else {
		for (i = 0; i < sm->nr; i++)
			if (sm->r[i].sev == sev)
				n++;
		buf_addf(b, "%s: %zu %s symptom%s (", sev == RULE_SEV_CRITICAL ?
			 "CRITICAL" : sev == RULE_SEV_ERROR ? "ERROR" :
			 "WARNING", n, rules_sev_name((enum rule_sev)sev),
			 n == 1 ? "" : "s");
		for (i = 0; i < sm->nr && shown < 3; i++) {
			if (sm->r[i].sev != sev)
				continue;
			buf_addf(b, "%s%s%s%s", shown ? ", " : "", sm->r[i].id,
				 *flags_of(&sm->r[i]) ? " " : "",
				 flags_of(&sm->r[i]));
			shown++;
		}
		buf_adds(b, n > shown ? ", ...)" : ")");
	}
	if (sm->ninc)
		buf_addf(b, "; %zu incident%s", sm->ninc,
			 sm->ninc == 1 ? "" : "s");
	if (sm->templates_new)
		buf_addf(b, "; %" PRIu64 " new unknown error%s",
			 sm->templates_new, sm->templates_new == 1 ? "" : "s");
}

static const char *title_of(const struct summary *sm, const char *id)
{
	const struct rule *r = rules_find(sm->rules, id);

	return r ? r->title : "";
}

/*
 * A median or a change of daily counts: whole numbers with thousands
 * separators ("4,600", "+1,348"), a half as "2.5" (the median of an even
 * number of days); never an exponent.
 */
static void fmt_count(double v, bool sign, char *out, size_t size)
{
	double a = v < 0 ? -v : v, whole = (double)(uint64_t)(a + 0.5);
	size_t k = 0;

	if (a < 1000 && a - (double)(uint64_t)a > 0.01 &&
	    whole - a > 0.01) {
		snprintf(out, size, sign ? "%+.1f" : "%.1f", v);
		return;
	}
	if (v < 0 && whole > 0)
		out[k++] = '-';
	else if (sign)
		out[k++] = '+';
	cmd_thousands((uint64_t)whole, out + k, size - k);
}

/*
 * How many bytes of s, at most n, end on a character boundary: a UTF-8
 * sequence is not split between what is shown and what is cut.
 */
static size_t cut_utf8(const char *s, size_t n)
{
	size_t len = strlen(s), k;

	if (len <= n)
		return len;
	/* A character has at most 3 continuation bytes; more are junk. */
	for (k = 0; k < 3 && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80;
	     k++)
		n--;
	return n;
}

/*
 * Where to break s to show at most n bytes on a line: after the last word
 * that fits, when that keeps two thirds of the line, else between
 * characters.
 */
static size_t cut_word(const char *s, size_t n)
{
	size_t k = cut_utf8(s, n), i;

	if (s[k] == '\0' || s[k] == ' ')
		return k;
	for (i = k; i > 0 && s[i - 1] != ' '; i--)
		;
	return i > 0 && i - 1 >= 2 * n / 3 ? i - 1 : k;
}

static void print_text(const struct summary *sm, const char *db_path)
{
	struct buf v;
	char t0[40], t1[40], n1[32];
	size_t i, shown = 0;

	buf_init(&v);
	verdict(sm, &v);
	fmt_ts(sm->since, t0, sizeof(t0));
	fmt_ts(sm->until, t1, sizeof(t1));
	printf("%s%s%s\n", cmd_sev_color(sm->worst < RULE_SEV_WARNING ? -1 :
					  sm->worst), v.p, cmd_color_reset());
	printf("period %s to %s UTC, against the %d days before\n\n", t0, t1,
	       sm->base_days);
	if (sm->nr == 0)
		printf("No events in the period.\n");
	for (i = 0; i < sm->nr; i++) {
		const struct sum_rule *r = &sm->r[i];
		char med[32], chg[32];

		if (r->sev < RULE_SEV_WARNING)
			continue;
		if (shown++ == 0)
			printf("%-8s %-25s %6s %7s %7s  %s\n", "SEVERITY",
			       "RULE", "COUNT", "MEDIAN", "CHANGE", "FLAGS");
		fmt_count(r->median, false, med, sizeof(med));
		fmt_count((double)r->count - r->median, true, chg, sizeof(chg));
		printf("%s%-8s%s %-25s %6s %7s %7s  %s\n",
		       cmd_sev_color(r->sev),
		       rules_sev_name((enum rule_sev)r->sev), cmd_color_reset(),
		       r->id,
		       cmd_thousands(r->count, n1, sizeof(n1)), med, chg,
		       flags_of(r));
	}
	/* Markers (deploys, recovery) on one line: context, not alarms. */
	for (i = 0, shown = 0; i < sm->nr; i++) {
		if (sm->r[i].sev >= RULE_SEV_WARNING)
			continue;
		printf("%s%s %s", shown++ ? ", " : "\nmarkers: ", sm->r[i].id,
		       cmd_thousands(sm->r[i].count, n1, sizeof(n1)));
	}
	if (shown)
		printf("\n");
	if (sm->ninc) {
		printf("\nIncidents:\n");
		for (i = 0; i < sm->ninc; i++) {
			const struct sum_incident *in = &sm->inc[i];

			fmt_ts(in->start, t0, sizeof(t0));
			fmt_ts(in->end, t1, sizeof(t1));
			printf("  %s to %s  %s  %s\n", t0, t1 + 11,
			       in->severity, in->title);
			if (*in->root)
				printf("    root cause: %s (%s)\n", in->root,
				       title_of(sm, in->root));
			printf("    logtriage report --db %s --incident %s\n",
			       db_path, in->id);
		}
	}
	if (sm->nt) {
		printf("\nErrors no rule knows (templates):\n");
		printf("%7s  %-16s  %-5s  %s\n", "COUNT", "FIRST SEEN (UTC)",
		       "FLAGS", "TEMPLATE");
		for (i = 0; i < sm->nt; i++) {
			const struct sum_template *t = &sm->t[i];
			char first[40] = "-";
			/* 80 columns: a long template goes on below. */
			size_t len = strlen(t->text), a = cut_word(t->text, 46);

			if (t->has_first) {
				fmt_ts(t->first_ts, first, sizeof(first));
				first[16] = '\0';
			}
			printf("%7s  %-16s  %-5s  %.*s\n",
			       cmd_thousands(t->count, n1, sizeof(n1)), first,
			       t->is_new ? "NEW" : "", (int)a, t->text);
			if (len > a) {
				const char *rest = t->text + a;
				size_t b;

				rest += *rest == ' ';
				b = cut_utf8(rest, 44);
				if (rest[b])    /* room for "..." in 80 columns */
					b = cut_utf8(rest, 41);
				printf("%36s%.*s%s\n", "", (int)b, rest,
				       rest[b] ? "..." : "");
			}
			{
				char where[256];
				int n = snprintf(where, sizeof(where),
						 "e.g. %s:%" PRIu64 ": ",
						 t->source, t->line);
				int room = 80 - 9 - (n < 0 ? 0 : n);
				size_t elen = strlen(t->example), e;

				if (room < 20)
					room = 20;
				e = elen <= (size_t)room ? elen :
				    cut_utf8(t->example, (size_t)room - 3);
				printf("%9s%s%.*s%s\n", "", where, (int)e,
				       t->example, e < elen ? "..." : "");
			}
		}
	}
	buf_release(&v);
}

/* Escape text for a Markdown table cell. */
static void md_cell(const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' ||
		    *s == '_' || *s == '<' || *s == '>' || *s == '[' ||
		    *s == ']')
			putchar('\\');
		putchar(*s == '\n' ? ' ' : *s);
	}
}

static void print_md(const struct summary *sm, const char *db_path)
{
	struct buf v;
	char t0[40], t1[40];
	size_t i;

	buf_init(&v);
	verdict(sm, &v);
	fmt_ts(sm->since, t0, sizeof(t0));
	fmt_ts(sm->until, t1, sizeof(t1));
	printf("**");
	md_cell(v.p);
	printf("**\n\nPeriod %s to %s UTC, against the %d days before.\n\n",
	       t0, t1, sm->base_days);
	if (sm->nr) {
		printf("| Severity | Rule | Count | Daily median | Change | "
		       "Flags |\n|---|---|---:|---:|---:|---|\n");
		for (i = 0; i < sm->nr; i++) {
			char cnt[32], med[32], chg[32];

			cmd_thousands(sm->r[i].count, cnt, sizeof(cnt));
			fmt_count(sm->r[i].median, false, med, sizeof(med));
			fmt_count((double)sm->r[i].count - sm->r[i].median,
				  true, chg, sizeof(chg));
			printf("| %s | `%s` | %s | %s | %s | %s |\n",
			       rules_sev_name((enum rule_sev)sm->r[i].sev),
			       sm->r[i].id, cnt, med, chg,
			       flags_of(&sm->r[i]));
		}
	} else {
		printf("No events in the period.\n");
	}
	if (sm->ninc) {
		printf("\n**Incidents**\n\n");
		for (i = 0; i < sm->ninc; i++) {
			fmt_ts(sm->inc[i].start, t0, sizeof(t0));
			printf("- %s UTC, %s: ", t0, sm->inc[i].severity);
			md_cell(sm->inc[i].title);
			printf(" (`logtriage report --db %s --incident %s`)\n",
			       db_path, sm->inc[i].id);
		}
	}
	if (sm->nt) {
		printf("\n**Errors no rule knows**\n\n| Count | First seen | "
		       "Flags | Template |\n|---:|---|---|---|\n");
		for (i = 0; i < sm->nt; i++) {
			char first[40] = "-";

			if (sm->t[i].has_first) {
				fmt_ts(sm->t[i].first_ts, first, sizeof(first));
				first[16] = '\0';
			}
			printf("| %" PRIu64 " | %s | %s | ", sm->t[i].count,
			       first, sm->t[i].is_new ? "NEW" : "");
			md_cell(sm->t[i].text);
			printf(" |\n");
		}
	}
	buf_release(&v);
}

static json_t *jtime(int64_t ms)
{
	char t[40];

	timefmt_format_iso(ms, t, sizeof(t));
	return json_string(t);
}

/* jansson refuses invalid UTF-8: stored text is valid, but be safe. */
static json_t *jstr(const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL) {
		struct buf b;

		buf_init(&b);
		buf_add_utf8(&b, s, strlen(s));
		v = json_string(b.p);
		buf_release(&b);
	}
	return v ? v : json_string("");
}

static void print_json(const struct summary *sm)
{
	json_t *root = json_object(), *rules = json_array();
	json_t *tpl = json_array(), *inc = json_array();
	struct buf v;
	char *text;
	size_t i;

	buf_init(&v);
	verdict(sm, &v);
	json_object_set_new(root, "verdict", json_string(v.p));
	json_object_set_new(root, "worst", json_string(sm->worst < 0 ? "none" :
		rules_sev_name((enum rule_sev)sm->worst)));
	json_object_set_new(root, "since", jtime(sm->since));
	json_object_set_new(root, "until", jtime(sm->until));
	json_object_set_new(root, "baseline_days", json_integer(sm->base_days));
	for (i = 0; i < sm->nr; i++) {
		const struct sum_rule *r = &sm->r[i];

		json_array_append_new(rules, json_pack("{s:s,s:s,s:s,s:I,s:f,"
			"s:f,s:b,s:b,s:o,s:o}", "id", r->id, "title",
			title_of(sm, r->id), "severity",
			rules_sev_name((enum rule_sev)r->sev),
			"count", (json_int_t)r->count, "baseline_daily_median",
			r->median, "change", (double)r->count - r->median,
			"new", r->is_new, "spike", r->spike,
			"first", jtime(r->first), "last", jtime(r->last)));
	}
	for (i = 0; i < sm->ninc; i++)
		json_array_append_new(inc, json_pack("{s:s,s:o,s:o,s:s,s:s,s:o}",
			"id", sm->inc[i].id, "start", jtime(sm->inc[i].start),
			"end", jtime(sm->inc[i].end), "severity",
			sm->inc[i].severity, "root_rule", sm->inc[i].root,
			"title", jstr(sm->inc[i].title)));
	for (i = 0; i < sm->nt; i++) {
		const struct sum_template *t = &sm->t[i];

		json_array_append_new(tpl, json_pack("{s:o,s:I,s:o,s:b,s:o,"
			"s:o,s:I}", "template", jstr(t->text), "count",
			(json_int_t)t->count, "first_seen", t->has_first ?
			jtime(t->first_ts) : json_null(), "new", t->is_new,
			"example", jstr(t->example), "example_source",
			jstr(t->source), "example_line", (json_int_t)t->line));
	}
	json_object_set_new(root, "rules", rules);
	json_object_set_new(root, "incidents", inc);
	json_object_set_new(root, "unknown_errors", tpl);
	json_object_set_new(root, "unknown_errors_new",
			    json_integer((json_int_t)sm->templates_new));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS |
			  JSON_REAL_PRECISION(6));
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(root);
	buf_release(&v);
}

static void summary_release(struct summary *sm)
{
	size_t i;

	for (i = 0; i < sm->nr; i++)
		free(sm->r[i].id);
	for (i = 0; i < sm->nt; i++) {
		free(sm->t[i].text);
		free(sm->t[i].example);
		free(sm->t[i].source);
	}
	for (i = 0; i < sm->ninc; i++) {
		free(sm->inc[i].id);
		free(sm->inc[i].severity);
		free(sm->inc[i].root);
		free(sm->inc[i].title);
	}
	free(sm->r);
	free(sm->t);
	free(sm->inc);
	rules_free(sm->rules);
}

enum {
	OPT_DB = 256, OPT_SINCE, OPT_UNTIL, OPT_BASELINE, OPT_FORMAT,
	OPT_FAIL_ON, OPT_TOP, OPT_RULES, OPT_COLOR,
};

static const struct option summary_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *msg, const char *arg)
{
	error("%s '%s'; see 'logtriage summary --help'", msg, arg);
	return EXIT_USAGE;
}

int cmd_summary(int argc, char **argv)
{
	const char *db_path = "logtriage.db", *format = "text";
	const char *since = "24h", *until = NULL, *rules_dir = NULL;
	int64_t now = cmd_now_ms(), base_ms = 7 * DAY_MS;
	int fail_on = RULE_SEV_CRITICAL, top = 10, c, status = EXIT_OK;
	bool quiet = false, color_set = false;
	struct summary sm;
	struct store *st = NULL;
	sqlite3 *db;
	char *end;

	memset(&sm, 0, sizeof(sm));
	sm.worst = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qhV", summary_options,
				NULL)) != -1) {
		switch (c) {
		case OPT_DB: db_path = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_UNTIL: until = optarg; break;
		case OPT_RULES: rules_dir = optarg; break;
		case OPT_COLOR:
			if (cmd_parse_color(optarg, &cmd_use_color,
					    STDOUT_FILENO) < 0)
				return usage_error("--color takes auto, always or "
						   "never, not", optarg);
			color_set = true;
			break;
		case OPT_BASELINE:
			if (timefmt_parse_duration(optarg, &base_ms) < 0 ||
			    base_ms < DAY_MS ||
			    base_ms > MAX_BASELINE_DAYS * DAY_MS)
				return usage_error("--baseline takes a duration "
						   "of 1d to 366d, not", optarg);
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "md") &&
			    strcmp(optarg, "json"))
				return usage_error("unknown format", optarg);
			format = optarg;
			break;
		case OPT_FAIL_ON:
			if (cmd_parse_fail_on(optarg, &fail_on) < 0)
				return usage_error("unknown severity for "
						   "--fail-on", optarg);
			break;
		case OPT_TOP:
			errno = 0;
			top = (int)strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || top < 0 ||
			    top > 1000)
				return usage_error("--top takes a count from 0 "
						   "to 1000, not", optarg);
			break;
		case 'q': quiet = true; break;
		case 'h': fputs(summary_usage, stdout); return EXIT_OK;
		case 'V': printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return EXIT_OK;
		case ':':
			error("option '%s' needs a value; see 'logtriage "
			      "summary --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			error("unknown option '%s'; see 'logtriage summary "
			      "--help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("summary takes no arguments, not",
				   argv[optind]);
	if (!color_set)
		cmd_parse_color("auto", &cmd_use_color, STDOUT_FILENO);
	if (timefmt_parse_user(since, now, NULL, &sm.since) < 0)
		return usage_error("cannot read the time", since);
	sm.until = now;
	if (until && timefmt_parse_user(until, now, NULL, &sm.until) < 0)
		return usage_error("cannot read the time", until);
	if (sm.until <= sm.since)
		return usage_error("--until must come after --since, not",
				   until ? until : "now");
	sm.base_days = (int)((base_ms + DAY_MS - 1) / DAY_MS);
	sm.base_start = sm.since - (int64_t)sm.base_days * DAY_MS;

	sm.rules = rules_new();
	if (rules_load_builtin(sm.rules) < 0 ||
	    (rules_dir && rules_load_dir(sm.rules, rules_dir) < 0)) {
		summary_release(&sm);
		return EXIT_RULES;
	}
	c = store_open_existing(&st, db_path);
	if (c < 0) {
		summary_release(&sm);
		return c == STORE_ERR_BUSY ? EXIT_LOCKED : EXIT_RUNTIME;
	}
	db = store_db(st);
	if (gather_rules(db, &sm) < 0 || gather_incidents(db, &sm) < 0 ||
	    gather_templates(db, &sm, top) < 0) {
		status = EXIT_RUNTIME;
		goto out;
	}
	if (redact_templates(st, &sm) < 0) {
		status = EXIT_BUG;
		goto out;
	}
	if (sm.nr > 1)
		qsort(sm.r, sm.nr, sizeof(*sm.r), cmp_rule);
	if (!quiet) {
		if (strcmp(format, "json") == 0)
			print_json(&sm);
		else if (strcmp(format, "md") == 0)
			print_md(&sm, db_path);
		else
			print_text(&sm, db_path);
	}
	if (fail_on >= 0 && sm.worst >= fail_on)
		status = EXIT_FINDINGS;
out:
	store_close(st);
	summary_release(&sm);
	if (fflush(stdout) != 0 && status != EXIT_RUNTIME) {
		error("cannot write output: %s", strerror(errno));
		status = EXIT_RUNTIME;
	}
	return status;
}

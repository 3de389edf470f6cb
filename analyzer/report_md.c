/*
 * report_md.c - stage 6 writer: an incident as Markdown, shaped like a
 * postmortem (Summary, Impact, Root cause, Trigger, Detection,
 * Resolution, Timeline, Action items, Lessons learned), filled with what
 * the logs prove and "unknown" where they cannot tell. Every byte that
 * comes from a log is escaped or fenced (report.h says how). The words
 * and sections (report_render) go through a sink, so that the HTML
 * writer (report_html.c) says the same; the Markdown sink is here.
 */
#include "common.h"
#include "report.h"
#include "agg.h"
#include "diag.h"
#include "timefmt.h"

/* ---- escaping ------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
		len = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3;
	else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void report_md_text(struct buf *out, const char *s, size_t n, size_t max)
{
	static const char special[] = "\\`*_[]|~$";
	size_t i = 0, used = n;
	bool cut = false;

	if (max && n > max) {
		used = max;
		while (used > 0 && ((unsigned char)s[used] & 0xc0) == 0x80)
			used--;
		cut = true;
	}
	while (i < used) {
		unsigned char c = (unsigned char)s[i];
		size_t len;

		if (c < 0x20 || c == 0x7f) {
			buf_addch(out, ' ');
			i++;
		} else if (c == '<') {
			buf_adds(out, "&lt;");
			i++;
		} else if (c == '>') {
			buf_adds(out, "&gt;");
			i++;
		} else if (c == '&') {
			buf_adds(out, "&amp;");
			i++;
		} else if (c < 0x80) {
			if (strchr(special, (char)c))
				buf_addch(out, '\\');
			buf_addch(out, (char)c);
			i++;
		} else if ((len = utf8_len((const unsigned char *)s + i,
					   used - i)) != 0) {
			buf_add(out, s + i, len);
			i += len;
		} else {
			buf_adds(out, "\xef\xbf\xbd");
			i++;
		}
	}
	if (cut)
		buf_adds(out, "...");
}

static size_t longest_backticks(const char *s, size_t n)
{
	size_t i, run = 0, best = 0;

	for (i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

void report_md_code(struct buf *out, const char *text, bool in_table)
{
	struct buf valid;
	const char *s;
	size_t n, d, i;
	bool pad;

	/* Paths and ids from outside may hold invalid UTF-8. */
	buf_init(&valid);
	buf_add_utf8(&valid, text, strlen(text));
	s = valid.p;
	n = valid.len;
	d = longest_backticks(s, n) + 1;
	pad = n == 0 || s[0] == '`' || s[n - 1] == '`' || s[0] == ' ';

	for (i = 0; i < d; i++)
		buf_addch(out, '`');
	if (pad)
		buf_addch(out, ' ');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			buf_addch(out, ' ');
		else if (c == '|' && in_table)
			buf_adds(out, "\\|");
		else
			buf_addch(out, (char)c);
	}
	if (pad)
		buf_addch(out, ' ');
	for (i = 0; i < d; i++)
		buf_addch(out, '`');
	buf_release(&valid);
}

void report_md_fence(struct buf *out, const char *info, const char *body,
		     size_t n, const char *gutter)
{
	size_t d = longest_backticks(body, n) + 1, i;
	const char *p = body, *end = body + n;

	if (d < 3)
		d = 3;
	for (i = 0; i < d; i++)
		buf_addch(out, '`');
	buf_adds(out, info);
	buf_addch(out, '\n');
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		buf_adds(out, gutter);
		/* A marker comment must never start a line (learnings.h). */
		if (*gutter == '\0' && (size_t)(le - p) >= 15 &&
		    memcmp(p, "<!-- logtriage:", 15) == 0)
			buf_addch(out, ' ');
		for (; p < le; p++) {
			unsigned char c = (unsigned char)*p;

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				buf_adds(out, "\xef\xbf\xbd");
			else
				buf_addch(out, (char)c);
		}
		buf_addch(out, '\n');
		p = nl ? nl + 1 : end;
	}
	for (i = 0; i < d; i++)
		buf_addch(out, '`');
	buf_addch(out, '\n');
}

void report_shell_word(struct buf *out, const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-/+=:,", *p)))
			break;
	if (*p == '\0' && *s) {
		buf_adds(out, s);
		return;
	}
	buf_addch(out, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addch(out, *p);
	}
	buf_addch(out, '\'');
}


/* ---- the Markdown sink ------------------------------------------------ */

static void md_prose(struct report_sink *s, const char *words)
{
	buf_adds(s->out, words);
}

static void md_text(struct report_sink *s, const char *p, size_t n,
		    size_t max)
{
	report_md_text(s->out, p, n, max);
}

static void md_code(struct report_sink *s, const char *text, bool in_table)
{
	report_md_code(s->out, text, in_table);
}

static void md_severity(struct report_sink *s, enum rule_sev sev)
{
	buf_adds(s->out, rules_sev_name(sev));
}

static void md_heading_begin(struct report_sink *s, int level,
			     const char *anchor)
{
	int i;

	(void)anchor;
	for (i = 0; i < level; i++)
		buf_addch(s->out, '#');
	buf_addch(s->out, ' ');
}

static void md_heading_end(struct report_sink *s, int level)
{
	(void)level;
	buf_adds(s->out, "\n\n");
}

static void md_nothing(struct report_sink *s)
{
	(void)s;
}

static void md_para_end(struct report_sink *s)
{
	buf_adds(s->out, "\n\n");
}

static void md_newline(struct report_sink *s)
{
	buf_addch(s->out, '\n');
}

static void md_list_begin(struct report_sink *s, enum report_list kind)
{
	s->list = kind;
}

static void md_item_begin(struct report_sink *s, size_t number)
{
	if (s->list == REPORT_LIST_ORDERED)
		buf_addf(s->out, "%zu. ", number);
	else if (s->list == REPORT_LIST_TASKS)
		buf_adds(s->out, "- [ ] ");
	else
		buf_adds(s->out, "- ");
}

static void md_table_begin(struct report_sink *s, const char *const *heads,
			   const char *align)
{
	size_t i;

	for (i = 0; heads[i]; i++)
		buf_addf(s->out, "| %s ", heads[i]);
	buf_adds(s->out, "|\n");
	for (i = 0; heads[i]; i++)
		buf_adds(s->out, align[i] == 'r' ? "|---:" : "|---");
	buf_adds(s->out, "|\n");
	s->in_table = true;
}

static void md_row_begin(struct report_sink *s)
{
	buf_adds(s->out, "| ");
}

static void md_cell_next(struct report_sink *s)
{
	buf_adds(s->out, " | ");
}

static void md_row_end(struct report_sink *s)
{
	buf_adds(s->out, " |\n");
}

static void md_table_end(struct report_sink *s)
{
	buf_addch(s->out, '\n');
	s->in_table = false;
}

static void md_quote_begin(struct report_sink *s)
{
	buf_adds(s->out, "> ");
}

static void md_fence(struct report_sink *s, const char *info,
		     const char *body, size_t n, const char *gutter)
{
	report_md_fence(s->out, info, body, n, gutter);
	buf_addch(s->out, '\n');
}

static void md_chart(struct report_sink *s, const char *id, enum chart_kind k)
{
	char name[96];

	chart_file_name(id, k, chart_format_ext(s->o->charts->format), name,
			sizeof(name));
	buf_addf(s->out, "![%s](%s%s)\n\n", chart_kind_title(k),
		 s->o->chart_prefix, name);
}

static void md_footer_begin(struct report_sink *s)
{
	buf_adds(s->out, "---\n\n");
}

static const struct report_sink_ops md_ops = {
	.prose = md_prose,
	.text = md_text,
	.code = md_code,
	.severity = md_severity,
	.heading_begin = md_heading_begin,
	.heading_end = md_heading_end,
	.para_begin = md_nothing,
	.para_end = md_para_end,
	.line_break = md_newline,
	.list_begin = md_list_begin,
	.item_begin = md_item_begin,
	.item_end = md_newline,
	.list_end = md_newline,
	.table_begin = md_table_begin,
	.row_begin = md_row_begin,
	.cell_next = md_cell_next,
	.row_end = md_row_end,
	.table_end = md_table_end,
	.quote_begin = md_quote_begin,
	.quote_end = md_para_end,
	.fence = md_fence,
	.chart = md_chart,
	.footer_begin = md_footer_begin,
	.footer_end = md_newline,
};

static void md_sink_init(struct report_sink *s, const struct report_opts *o,
			 struct buf *out)
{
	memset(s, 0, sizeof(*s));
	s->ops = &md_ops;
	s->out = out;
	s->o = o;
	s->format = "md";
}

/* ---- pieces --------------------------------------------------------- */

static void say(struct report_sink *s, const char *words)
{
	s->ops->prose(s, words);
}

/* printf-style prose: numbers, times and durations in our words. */
__attribute__((format(printf, 2, 3)))
static void sayf(struct report_sink *s, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		BUG("vsnprintf failed on '%s'", fmt);
	buf_init(&b);
	buf_grow(&b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	say(s, b.p);
	buf_release(&b);
}

/* Text from a log or a rule, NUL-terminated. */
static void text(struct report_sink *s, const char *p, size_t max)
{
	s->ops->text(s, p, strlen(p), max);
}

static void code(struct report_sink *s, const char *t, bool in_table)
{
	s->ops->code(s, t, in_table);
}

static void rule_code(struct report_sink *s, const char *id)
{
	code(s, id, true);
}

/*
 * Text written by people (rule titles, remedies): inline code spans
 * written as `...` stay code; everything else is text.
 */
static void rule_text(struct report_sink *s, const char *str)
{
	const char *p = str;

	while (*p) {
		const char *tick = strchr(p, '`');
		const char *close = tick ? strchr(tick + 1, '`') : NULL;
		char *c;

		if (tick == NULL || close == NULL) {
			text(s, p, 0);
			return;
		}
		s->ops->text(s, p, (size_t)(tick - p), 0);
		c = xmemdup(tick + 1, (size_t)(close - tick - 1));
		code(s, c, true);
		free(c);
		p = close + 1;
	}
}

/* A heading of level (1 = title) in this mode, and its end. */
static void head_begin(struct report_sink *s, const struct report_opts *o,
		       int level, const char *anchor)
{
	s->ops->heading_begin(s, level + (o->mode == REPORT_MD_ENTRY ? 1 : 0),
			      anchor);
}

static void head_end(struct report_sink *s, const struct report_opts *o,
		     int level)
{
	s->ops->heading_end(s, level + (o->mode == REPORT_MD_ENTRY ? 1 : 0));
}

/* A heading of fixed words. */
static void heading(struct report_sink *s, const struct report_opts *o,
		    int level, const char *anchor, const char *words)
{
	head_begin(s, o, level, anchor);
	say(s, words);
	head_end(s, o, level);
}

/* A paragraph of fixed words. */
static void para(struct report_sink *s, const char *words)
{
	s->ops->para_begin(s);
	say(s, words);
	s->ops->para_end(s);
}

static void item_begin(struct report_sink *s, size_t number)
{
	s->ops->item_begin(s, number);
}

static void item_end(struct report_sink *s)
{
	s->ops->item_end(s);
}

/* An item of fixed words. */
static void item(struct report_sink *s, const char *words)
{
	item_begin(s, 0);
	say(s, words);
	item_end(s);
}

static void cell(struct report_sink *s)
{
	s->ops->cell_next(s);
}

/* The day (epoch ms of its midnight) of the incident's first event. */
static int64_t window_day(const struct agg *a)
{
	int64_t t = a->ev[a->first].pos.ts;

	return t - ((t % TIMEFMT_MS_DAY) + TIMEFMT_MS_DAY) % TIMEFMT_MS_DAY;
}

/*
 * The time of event i for tables: "10:13:17" on the incident's first
 * day, else with the date; "~" before a time the record did not carry;
 * "no time" without one.
 */
static const char *when(const struct agg *a, size_t i, char *out, size_t size)
{
	const struct agg_event *e = &a->ev[i];
	char t[TIMEFMT_BUF_SIZE];
	int64_t day;

	if (!e->pos.has_ts) {
		snprintf(out, size, "no time");
		return out;
	}
	timefmt_format(e->pos.ts, t, sizeof(t));
	day = e->pos.ts - ((e->pos.ts % TIMEFMT_MS_DAY) + TIMEFMT_MS_DAY) %
	      TIMEFMT_MS_DAY;
	snprintf(out, size, "%s%s", e->time == AGG_TIME_OWN ? "" : "~",
		 day == window_day(a) ? t + 11 : t);
	return out;
}

/* Full date and time of event i: "2026-02-24 10:13:17". */
static const char *when_full(const struct agg *a, size_t i, char *out,
			     size_t size)
{
	const struct agg_event *e = &a->ev[i];
	char t[TIMEFMT_BUF_SIZE];

	if (!e->pos.has_ts) {
		snprintf(out, size, "no time");
		return out;
	}
	timefmt_format(e->pos.ts, t, sizeof(t));
	snprintf(out, size, "%s%s", e->time == AGG_TIME_OWN ? "" : "~", t);
	return out;
}

/* `file:line` of event i. */
static void where(struct report_sink *s, const struct agg *a, size_t i,
		  bool in_table)
{
	struct buf w;

	buf_init(&w);
	buf_addf(&w, "%s:%" PRIu64, a->sources[a->ev[i].source].name,
		 a->ev[i].pos.line_no);
	code(s, w.p, in_table);
	buf_release(&w);
}

static const char *rule_title(const struct agg_symptom *sy)
{
	return sy->rule ? sy->rule->title : "rule not loaded";
}

static void guide_text(struct report_sink *s, const struct rule *r)
{
	if (r == NULL) {
		say(s, "unknown");
		return;
	}
	if (strcmp(r->guide_section, "rollback") == 0) {
		rule_text(s, r->guide_title);
	} else {
		text(s, r->guide_section, 0);
		say(s, " ");
		rule_text(s, r->guide_title);
	}
}

/* The gap between two events in words, or NULL when unknown. */
static const char *gap_words(const struct agg *a, size_t from, size_t to,
			     char *out, size_t size)
{
	const struct agg_event *x = &a->ev[from], *y = &a->ev[to];
	char d[32];

	if (!x->pos.has_ts || !y->pos.has_ts ||
	    x->time == AGG_TIME_BORROWED || y->time == AGG_TIME_BORROWED)
		return NULL;
	agg_duration(y->pos.ts - x->pos.ts, d, sizeof(d));
	snprintf(out, size, "%s%s", x->time == AGG_TIME_OWN &&
		 y->time == AGG_TIME_OWN ? "" : "about ", d);
	return out;
}

static size_t nsymptoms(const struct agg *a)
{
	size_t i, n = 0;

	for (i = 0; i < a->nsym; i++)
		n += a->sym[i].symptom;
	return n;
}

/* ---- sections ------------------------------------------------------- */

static void sec_title(struct report_sink *s, const struct agg *a,
		      const struct report_opts *o)
{
	char t1[48], t2[48], d[32];
	size_t i, shown = 0;

	head_begin(s, o, 1, NULL);
	text(s, a->title, 0);
	head_end(s, o, 1);
	s->ops->list_begin(s, REPORT_LIST_BULLET);
	item_begin(s, 0);
	say(s, "**Incident:** ");
	code(s, a->id, false);
	item_end(s);
	item_begin(s, 0);
	say(s, "**Window (UTC):** ");
	if (a->has_ts) {
		when_full(a, a->first, t1, sizeof(t1));
		when(a, a->last, t2, sizeof(t2));
		sayf(s, "%s to %s (%s)", t1, t2,
		     agg_duration(a->ev[a->last].pos.ts -
				  a->ev[a->first].pos.ts, d, sizeof(d)));
	} else {
		sayf(s, "unknown: the logs carry no timestamps (lines %" PRIu64
		     " to %" PRIu64 ")", a->ev[a->first].pos.line_no,
		     a->ev[a->last].pos.line_no);
	}
	item_end(s);
	item_begin(s, 0);
	say(s, "**Severity:** ");
	s->ops->severity(s, a->severity);
	item_end(s);
	item_begin(s, 0);
	say(s, "**Sources:** ");
	for (i = 0; i < a->nsources; i++) {
		if (a->sources[i].events == 0)
			continue;
		if (shown++)
			say(s, ", ");
		code(s, a->sources[i].name, false);
		sayf(s, " (%" PRIu64 " event%s)", a->sources[i].events,
		     a->sources[i].events == 1 ? "" : "s");
	}
	item_end(s);
	item_begin(s, 0);
	say(s, "**Root cause:** ");
	if (a->cause.root != SIZE_MAX) {
		rule_code(s, a->sym[a->cause.root].rule_id);
		say(s, " ");
		rule_text(s, rule_title(&a->sym[a->cause.root]));
		if (a->cause.verdict == INCIDENT_ONE_CAUSE)
			say(s, " (probable)");
	} else {
		sayf(s, "not established: %zu unconnected chains",
		     a->cause.nchains);
	}
	item_end(s);
	item_begin(s, 0);
	say(s, "**Trigger:** ");
	if (a->trigger != SIZE_MAX) {
		char g[48];

		rule_code(s, a->ev[a->trigger].rule_id);
		sayf(s, " at %s", when(a, a->trigger, t1, sizeof(t1)));
		if (gap_words(a, a->trigger, a->first, g, sizeof(g)))
			sayf(s, ", %s before the first symptom", g);
	} else {
		say(s, "unknown");
	}
	item_end(s);
	item_begin(s, 0);
	say(s, "**Recovery:** ");
	if (a->recovery != SIZE_MAX) {
		char g[48];

		sayf(s, "%s ", when(a, a->recovery, t1, sizeof(t1)));
		rule_code(s, a->ev[a->recovery].rule_id);
		if (gap_words(a, a->first, a->recovery, g, sizeof(g)))
			sayf(s, ", %s after the first symptom", g);
	} else {
		say(s, "unknown: no healthy event after the last symptom");
	}
	item_end(s);
	s->ops->list_end(s);
}

/* "`a`, `b` and `c`" for the nodes of a chain after its head. */
static void chain_tail_words(struct report_sink *s, const struct agg *a,
			     const struct incident_chain *ch)
{
	size_t i;

	for (i = 1; i < ch->n; i++) {
		if (i > 1)
			say(s, i + 1 == ch->n ? " and " : ", ");
		rule_code(s, a->sym[ch->node[i]].rule_id);
	}
}

static void sec_summary(struct report_sink *s, const struct agg *a,
			const struct report_opts *o)
{
	char t1[48], t2[48], d[32], g[48];
	size_t ns = nsymptoms(a), i, nsrc = 0;

	for (i = 0; i < a->nsources; i++)
		nsrc += a->sources[i].events > 0;
	heading(s, o, 2, "summary", "Summary");
	s->ops->para_begin(s);
	if (a->has_ts)
		sayf(s, "From %s to %s UTC (%s), ",
		     when_full(a, a->first, t1, sizeof(t1)),
		     when(a, a->last, t2, sizeof(t2)),
		     agg_duration(a->ev[a->last].pos.ts -
				  a->ev[a->first].pos.ts, d, sizeof(d)));
	else
		say(s, "At a time the logs do not tell (they carry no "
		    "timestamps), ");
	sayf(s, "the logs show %zu symptom%s of the troubleshooting guide "
	     "in %" PRIu64 " event%s from %zu source%s.", ns,
	     ns == 1 ? "" : "s", a->members, a->members == 1 ? "" : "s",
	     nsrc, nsrc == 1 ? "" : "s");
	if (a->cause.verdict == INCIDENT_UNCONNECTED) {
		sayf(s, " The evidence does not support one cause: the "
		     "symptoms form %zu chains that no rule connects, "
		     "starting at ", a->cause.nchains);
		for (i = 0; i < a->cause.nchains; i++) {
			if (i)
				say(s, i + 1 == a->cause.nchains ?
				    " and " : ", ");
			rule_code(s, a->sym[a->cause.chains[i].node[0]].rule_id);
		}
		say(s, ".");
	} else {
		const struct agg_symptom *r = &a->sym[a->cause.root];

		say(s, a->cause.verdict == INCIDENT_SINGLE ?
		    " The symptom is " : " The probable root cause is ");
		rule_code(s, r->rule_id);
		say(s, " (");
		rule_text(s, rule_title(r));
		say(s, ")");
		if (a->cause.nchains && a->cause.chains[0].n > 1) {
			say(s, a->cause.verdict == INCIDENT_SINGLE ?
			    ", followed by " : ", which led to ");
			chain_tail_words(s, a, &a->cause.chains[0]);
		}
		say(s, ".");
	}
	if (a->trigger != SIZE_MAX) {
		say(s, " It began ");
		if (gap_words(a, a->trigger, a->first, g, sizeof(g)))
			sayf(s, "%s ", g);
		say(s, "after ");
		rule_code(s, a->ev[a->trigger].rule_id);
		sayf(s, " (%s).", when(a, a->trigger, t1, sizeof(t1)));
	} else {
		say(s, " No deploy, migration or rollback marker comes "
		    "before it in the logs.");
	}
	if (a->recovery != SIZE_MAX) {
		sayf(s, " The logs show the service healthy again at %s (",
		     when(a, a->recovery, t1, sizeof(t1)));
		rule_code(s, a->ev[a->recovery].rule_id);
		say(s, ")");
		if (gap_words(a, a->first, a->recovery, g, sizeof(g)))
			sayf(s, ", %s after the first symptom", g);
		say(s, ".");
	} else {
		say(s, " The logs do not show a recovery.");
	}
	s->ops->para_end(s);
}

static void sec_symptoms(struct report_sink *s, const struct agg *a,
			 const struct report_opts *o)
{
	static const char *const heads[] = {
		"symptom", "severity", "count", "first (UTC)", "last (UTC)",
		"busiest minute", "guide", NULL,
	};
	char t1[48], t2[48];
	bool approx = false;
	size_t i;

	heading(s, o, 2, "symptoms", "Symptoms");
	para(s, "In order of first appearance.");
	s->ops->table_begin(s, heads, "llrnnnl");
	for (i = 0; i < a->nsym; i++) {
		const struct agg_symptom *sy = &a->sym[i];

		if (!sy->symptom)
			continue;
		s->ops->row_begin(s);
		rule_code(s, sy->rule_id);
		say(s, " ");
		rule_text(s, rule_title(sy));
		cell(s);
		s->ops->severity(s, a->ev[sy->first].sev);
		cell(s);
		sayf(s, "%" PRIu64, sy->count);
		cell(s);
		say(s, when(a, sy->first, t1, sizeof(t1)));
		cell(s);
		say(s, when(a, sy->last, t2, sizeof(t2)));
		cell(s);
		if (sy->peak_count > 1) {
			char t[TIMEFMT_BUF_SIZE];

			timefmt_format(sy->peak_bucket, t, sizeof(t));
			sayf(s, "%" PRIu64 " at %.5s", sy->peak_count, t + 11);
		} else {
			say(s, "-");
		}
		cell(s);
		guide_text(s, sy->rule);
		s->ops->row_end(s);
		if (a->ev[sy->first].time == AGG_TIME_INFERRED ||
		    a->ev[sy->first].time == AGG_TIME_BORROWED ||
		    a->ev[sy->last].time == AGG_TIME_INFERRED ||
		    a->ev[sy->last].time == AGG_TIME_BORROWED)
			approx = true;
	}
	s->ops->table_end(s);
	if (approx)
		para(s, "~ the record carried no time of its own: it has the "
		     "time of the closest line above that had one.");
}

/* "`rule` at `file:line`, 10:13:17": an event for a sentence. */
static void mention(struct report_sink *s, const struct agg *a, size_t i)
{
	char t[48];

	rule_code(s, a->ev[i].rule_id);
	say(s, " at ");
	where(s, a, i, false);
	if (a->ev[i].pos.has_ts)
		sayf(s, ", %s", when(a, i, t, sizeof(t)));
}

/* The events that stand for the links of a chain (agg_link_event). */
static size_t *chain_events(const struct agg *a,
			    const struct incident_chain *ch)
{
	size_t *ev = xcalloc(ch->n ? ch->n : 1, sizeof(*ev));
	size_t i;

	for (i = 0; i < ch->n; i++)
		ev[i] = agg_link_event(a, ch->node[i], i ? ev[i - 1] : SIZE_MAX);
	return ev;
}

/* "`a 10:13:17 -> b 10:13:21`": the chain on one line. */
static void chain_line(struct report_sink *s, const struct agg *a,
		       const struct incident_chain *ch, const size_t *ev)
{
	struct buf c;
	char t[48];
	size_t i;

	buf_init(&c);
	for (i = 0; i < ch->n; i++) {
		buf_addf(&c, "%s%s", i ? " -> " : "", a->ev[ev[i]].rule_id);
		if (a->ev[ev[i]].pos.has_ts)
			buf_addf(&c, " %s", when(a, ev[i], t, sizeof(t)));
	}
	code(s, c.p, false);
	buf_release(&c);
}

/* The links with their evidence: "1. `rule` at `file:line`, time: text". */
static void chain_items(struct report_sink *s, const struct agg *a,
			const struct incident_chain *ch, const size_t *ev)
{
	size_t i;

	s->ops->list_begin(s, REPORT_LIST_ORDERED);
	for (i = 0; i < ch->n; i++) {
		item_begin(s, i + 1);
		mention(s, a, ev[i]);
		say(s, ": ");
		text(s, a->ev[ev[i]].headline, 0);
		item_end(s);
	}
	s->ops->list_end(s);
}

static void sec_cause(struct report_sink *s, const struct agg *a,
		      const struct report_opts *o)
{
	const struct incident_cause *c = &a->cause;
	size_t i, k;

	heading(s, o, 2, "root-cause", "Root cause");
	s->ops->para_begin(s);
	if (c->verdict == INCIDENT_UNCONNECTED) {
		sayf(s, "**The evidence does not support one cause.** The "
		     "symptoms form %zu chains that no rule's `causes` "
		     "connect: each may have a cause of its own, or one "
		     "the logs do not show. Treat each chain as a lead.",
		     c->nchains);
	} else {
		const struct agg_symptom *r = &a->sym[c->root];

		say(s, c->verdict == INCIDENT_SINGLE ? "**Root cause: " :
		    "**Probable root cause: ");
		rule_code(s, r->rule_id);
		say(s, "** (");
		rule_text(s, rule_title(r));
		say(s, c->verdict == INCIDENT_SINGLE ?
		    "): the only symptom of the incident." :
		    "): the earliest symptom from which every other one "
		    "can be reached through the rules' `causes`.");
	}
	s->ops->para_end(s);
	for (k = 0; k < c->nchains; k++) {
		const struct incident_chain *ch = &c->chains[k];
		size_t *ev = chain_events(a, ch);

		s->ops->para_begin(s);
		if (c->nchains > 1)
			sayf(s, "Chain %zu: ", k + 1);
		else
			say(s, "Chain: ");
		chain_line(s, a, ch, ev);
		s->ops->para_end(s);
		chain_items(s, a, ch, ev);
		free(ev);
	}
	if (c->nbranches) {
		para(s, "Also reached:");
		s->ops->list_begin(s, REPORT_LIST_BULLET);
		for (i = 0; i < c->nbranches; i++) {
			item_begin(s, 0);
			rule_code(s, a->sym[c->branches[i].from].rule_id);
			say(s, " -> ");
			rule_code(s, a->sym[c->branches[i].to].rule_id);
			item_end(s);
		}
		s->ops->list_end(s);
	}
	if (c->nloose) {
		s->ops->para_begin(s);
		say(s, "In the incident, but no symptom leads to them through "
		    "`causes`: ");
		for (i = 0; i < c->nloose; i++) {
			if (i)
				say(s, ", ");
			rule_code(s, a->sym[c->loose[i]].rule_id);
		}
		say(s, ".");
		s->ops->para_end(s);
	}
	if (c->untimed) {
		para(s, "The logs carry no timestamps: the order above is the "
		     "order of the lines, not of time, so the cause is read "
		     "from the rules' `causes` alone and the clock cannot "
		     "confirm it.");
	} else if (a->members_inferred) {
		s->ops->para_begin(s);
		sayf(s, "%" PRIu64 " of the %" PRIu64 " events %s no time of "
		     "%s own (times marked ~ are those of an earlier line), "
		     "so the order rests partly on the order of lines.",
		     a->members_inferred, a->members,
		     a->members_inferred == 1 ? "carries" : "carry",
		     a->members_inferred == 1 ? "its" : "their");
		s->ops->para_end(s);
	}
}

static void sec_trigger(struct report_sink *s, const struct agg *a,
			const struct report_opts *o)
{
	char g[48];
	const struct agg_event *e;

	heading(s, o, 2, "trigger", "Trigger");
	s->ops->para_begin(s);
	if (a->trigger == SIZE_MAX) {
		say(s, "Unknown: no deploy, migration or rollback marker comes "
		    "before the first symptom in the logs");
		if (a->has_ts)
			say(s, " (looked back 24 hours)");
		say(s, ".");
		s->ops->para_end(s);
		return;
	}
	e = &a->ev[a->trigger];
	say(s, "The nearest marker before the first symptom: ");
	mention(s, a, a->trigger);
	if (gap_words(a, a->trigger, a->first, g, sizeof(g)))
		sayf(s, ", %s before it", g);
	else if (e->time == AGG_TIME_BORROWED)
		say(s, " (it has no time: it comes before the first timed "
		    "line of its file, so the gap is unknown)");
	else
		say(s, " (above the first symptom in the file; no times, so "
		    "the gap is unknown)");
	say(s, ":");
	s->ops->para_end(s);
	s->ops->quote_begin(s);
	text(s, e->headline, 0);
	s->ops->quote_end(s);
	para(s, "A marker before an incident is a candidate, not a proof: "
	     "check what that deployment changed.");
}

static void latency_cell(struct report_sink *s, const struct agg_stat *st)
{
	if (st->n == 0) {
		say(s, "unknown (no request durations)");
		return;
	}
	sayf(s, "%.0f ms / %.0f ms (%" PRIu64 " sample%s, max %.0f ms)",
	     st->p50, st->p95, st->n, st->n == 1 ? "" : "s", st->max);
}

/* A row of the impact table: its measure, then the caller's value. */
static void measure(struct report_sink *s, const char *words)
{
	s->ops->row_begin(s);
	say(s, words);
	cell(s);
}

static void sec_impact(struct report_sink *s, const struct agg *a,
		       const struct report_opts *o)
{
	static const char *const heads[] = { "measure", "value", NULL };
	char t1[48], t2[48], d[32], g[48];

	heading(s, o, 2, "impact", "Impact");
	s->ops->table_begin(s, heads, "ll");
	measure(s, "window (UTC)");
	if (a->has_ts)
		sayf(s, "%s to %s", when_full(a, a->first, t1, sizeof(t1)),
		     when(a, a->last, t2, sizeof(t2)));
	else
		say(s, "unknown (no timestamps)");
	s->ops->row_end(s);
	measure(s, "duration");
	if (a->has_ts)
		say(s, agg_duration(a->ev[a->last].pos.ts -
				    a->ev[a->first].pos.ts, d, sizeof(d)));
	else
		say(s, "unknown");
	s->ops->row_end(s);
	measure(s, "time to recovery");
	if (a->recovery != SIZE_MAX &&
	    gap_words(a, a->first, a->recovery, g, sizeof(g))) {
		sayf(s, "%s, first symptom to ", g);
		rule_code(s, a->ev[a->recovery].rule_id);
		sayf(s, " at %s", when(a, a->recovery, t1, sizeof(t1)));
	} else if (a->recovery != SIZE_MAX) {
		say(s, "unknown: recovered (");
		rule_code(s, a->ev[a->recovery].rule_id);
		say(s, ") at a time the logs do not tell");
	} else if (a->has_ts) {
		sayf(s, "unknown: no healthy event after the last symptom "
		     "(%s)", when(a, a->last, t1, sizeof(t1)));
	} else {
		say(s, "unknown");
	}
	s->ops->row_end(s);
	if (a->has_ts && a->status_events) {
		measure(s, "5xx responses");
		sayf(s, "%" PRIu64, a->n5xx);
		s->ops->row_end(s);
		measure(s, "401 responses");
		sayf(s, "%" PRIu64, a->n401);
		s->ops->row_end(s);
		measure(s, "responses counted");
		sayf(s, "%" PRIu64 " (access lines among the stored events, "
		     "inside the window)", a->status_events);
		s->ops->row_end(s);
	} else {
		measure(s, "5xx responses");
		say(s, "unknown (no access line with a status among the "
		    "stored events)");
		s->ops->row_end(s);
		measure(s, "401 responses");
		say(s, "unknown");
		s->ops->row_end(s);
	}
	measure(s, "request latency p50 / p95, window");
	latency_cell(s, &a->lat_window);
	s->ops->row_end(s);
	measure(s, "request latency p50 / p95, hour before");
	latency_cell(s, &a->lat_before);
	s->ops->row_end(s);
	measure(s, "users or requests affected");
	say(s, "unknown (not in the logs)");
	s->ops->row_end(s);
	s->ops->table_end(s);
	if (a->lat_window.n || a->lat_before.n)
		para(s, "Latency comes from the durations the rules read "
		     "(`metrics`, names `http.*`); rules that read only slow "
		     "requests make these percentiles of slow requests.");
}

static void sec_detection(struct report_sink *s, const struct agg *a,
			  const struct report_opts *o)
{
	heading(s, o, 2, "detection", "Detection");
	s->ops->list_begin(s, REPORT_LIST_BULLET);
	item_begin(s, 0);
	say(s, "First sign in the logs: ");
	mention(s, a, a->first);
	item_end(s);
	if (a->first_critical != SIZE_MAX && a->first_critical != a->first) {
		item_begin(s, 0);
		say(s, "First critical event: ");
		mention(s, a, a->first_critical);
		item_end(s);
	}
	item(s, "How and when people noticed: unknown (not in the logs)");
	s->ops->list_end(s);
}

/* "- `rule` at `file:line`, time: headline" */
static void event_item(struct report_sink *s, const struct agg *a, size_t i,
		       const char *lead)
{
	item_begin(s, 0);
	say(s, lead);
	mention(s, a, i);
	say(s, ": ");
	text(s, a->ev[i].headline, 0);
	item_end(s);
}

static void sec_resolution(struct report_sink *s, const struct agg *a,
			   const struct report_opts *o)
{
	size_t i;
	bool rollback = false;

	heading(s, o, 2, "resolution", "Resolution");
	s->ops->list_begin(s, REPORT_LIST_BULLET);
	for (i = a->last + 1; i < a->nev &&
	     (a->recovery == SIZE_MAX || i < a->recovery); i++) {
		const struct agg_event *e = &a->ev[i];

		if (e->member || !incidents_is_trigger_rule(e->rule_id))
			continue;
		event_item(s, a, i, "After the last symptom: ");
		rollback |= strcmp(e->rule_id, "deploy.rollback") == 0;
	}
	for (i = a->first; i <= a->last; i++)
		rollback |= a->ev[i].member &&
			    strcmp(a->ev[i].rule_id, "deploy.rollback") == 0;
	if (a->recovery != SIZE_MAX)
		event_item(s, a, a->recovery, "Healthy again: ");
	else
		item(s, "No healthy event (passing health check, completed "
		     "startup, successful deploy) after the last symptom: the "
		     "logs do not show a recovery");
	item(s, rollback ? "What was done: a rollback is in the logs "
	     "(above); anything else is unknown" : "What was done: unknown "
	     "(the logs show events, not decisions)");
	s->ops->list_end(s);
}

static void sec_timeline(struct report_sink *s, const struct agg *a,
			 const struct report_opts *o)
{
	static const char *const what[] = {
		"trigger", "marker", "first", "peak", "last", "recovery",
	};
	static const char *const heads[] = {
		"time (UTC)", "where", "event", "line", NULL,
	};
	char t[48];
	size_t i;

	heading(s, o, 2, "timeline", "Timeline");
	para(s, "Merged across sources, in time order (a source's own line "
	     "order for equal times).");
	s->ops->table_begin(s, heads, "nlll");
	for (i = 0; i < a->nrows; i++) {
		const struct agg_row *r = &a->rows[i];
		const struct agg_event *e = &a->ev[r->event];

		s->ops->row_begin(s);
		say(s, when(a, r->event, t, sizeof(t)));
		cell(s);
		where(s, a, r->event, true);
		cell(s);
		sayf(s, "%s ", what[r->kind]);
		rule_code(s, e->rule_id);
		if (r->kind == AGG_ROW_PEAK)
			sayf(s, " (%" PRIu64 " in its busiest minute)",
			     a->sym[r->symptom].peak_count);
		else if (r->kind == AGG_ROW_LAST)
			sayf(s, " (%" PRIu64 " in all)",
			     a->sym[r->symptom].count);
		cell(s);
		text(s, e->headline, 120);
		s->ops->row_end(s);
	}
	s->ops->table_end(s);
}

static void sec_charts(struct report_sink *s, const struct agg *a,
		       const struct report_opts *o)
{
	const struct chart_set *cs = o->charts;
	char name[96];
	int k;
	bool any = false, open = false;

	heading(s, o, 2, "charts", "Charts");
	switch (cs->state) {
	case CHART_STATE_NOT_ASKED:
		para(s, "Not drawn (`--charts none`).");
		return;
	case CHART_STATE_NO_TIME:
		para(s, "None: the events carry no timestamps.");
		return;
	case CHART_STATE_NO_GNUPLOT:
		s->ops->para_begin(s);
		say(s, "Skipped: gnuplot was not found on PATH. The data and "
		    "the scripts were written; to draw the charts, install "
		    "gnuplot and run in ");
		code(s, o->chart_dir, false);
		say(s, ":");
		s->ops->para_end(s);
		s->ops->list_begin(s, REPORT_LIST_BULLET);
		for (k = 0; k < CHART__COUNT; k++) {
			struct buf cmd;

			if (!cs->have[k])
				continue;
			chart_file_name(a->id, (enum chart_kind)k, "gp", name,
					sizeof(name));
			buf_init(&cmd);
			buf_addf(&cmd, "gnuplot %s", name);
			item_begin(s, 0);
			code(s, cmd.p, false);
			item_end(s);
			buf_release(&cmd);
			any = true;
		}
		if (!any)
			item(s, "(no chart had data)");
		s->ops->list_end(s);
		return;
	case CHART_STATE_FAILED:
	case CHART_STATE_DRAWN:
		break;
	}
	if (cs->state == CHART_STATE_FAILED) {
		s->ops->para_begin(s);
		say(s, "Some charts failed: ");
		text(s, cs->note, 0);
		say(s, ".");
		s->ops->para_end(s);
	}
	for (k = 0; k < CHART__COUNT; k++)
		if (cs->drawn[k])
			s->ops->chart(s, a->id, (enum chart_kind)k);
	if (cs->have[CHART_MEMORY]) {
		size_t i;

		s->ops->para_begin(s);
		say(s, "Memory series: ");
		for (i = 0; i < a->nmemory_series; i++) {
			if (i)
				say(s, ", ");
			code(s, a->memory_series[i], false);
			if (a->nmemory_series > 1)
				sayf(s, " (memory %zu)", i + 1);
		}
		if (a->memory_series_left_out)
			sayf(s, "; %zu more not drawn",
			     a->memory_series_left_out);
		say(s, ".");
		s->ops->para_end(s);
	}
	/* One paragraph, a line for each chart that had no data. */
	for (k = CHART_LATENCY; k <= CHART_HTTP; k++) {
		static const char *const none[] = {
			[CHART_LATENCY] = "No request latency chart: no "
				"request durations (`http.*` metrics) around "
				"the incident.",
			[CHART_MEMORY] = "No memory chart: no memory samples "
				"around the incident.",
			[CHART_HTTP] = "No HTTP status chart: no access lines "
				"among the stored events.",
		};

		if (cs->have[k])
			continue;
		if (open)
			s->ops->line_break(s);
		else
			s->ops->para_begin(s);
		open = true;
		say(s, none[k]);
	}
	if (open)
		s->ops->para_end(s);
}

static void sec_remedies(struct report_sink *s, const struct agg *a,
			 const struct report_opts *o)
{
	size_t i, k;

	heading(s, o, 2, "remedies", "Diagnosis and remedies");
	para(s, "From the troubleshooting guide, through each rule; root "
	     "cause first.");
	for (k = 0; k < a->norder; k++) {
		const struct agg_symptom *sy = &a->sym[a->order[k]];
		const struct rule *r = sy->rule;
		struct buf cmds;

		head_begin(s, o, 3, NULL);
		code(s, sy->rule_id, false);
		say(s, " ");
		rule_text(s, rule_title(sy));
		head_end(s, o, 3);
		if (r == NULL) {
			para(s, "This rule is not loaded now (was it given "
			     "with `--rules`?).");
			continue;
		}
		s->ops->para_begin(s);
		say(s, "Guide section: ");
		guide_text(s, r);
		say(s, ".");
		s->ops->para_end(s);
		para(s, "Check:");
		buf_init(&cmds);
		for (i = 0; i < r->diagnosis.n; i++)
			buf_addf(&cmds, "%s%s\n", i ? "\n" : "",
				 r->diagnosis.v[i]);
		if (cmds.len)
			cmds.len--;
		s->ops->fence(s, "sh", cmds.p, cmds.len, "");
		buf_release(&cmds);
		para(s, "Fix:");
		s->ops->list_begin(s, REPORT_LIST_BULLET);
		for (i = 0; i < r->remedy.n; i++) {
			item_begin(s, 0);
			rule_text(s, r->remedy.v[i]);
			item_end(s);
		}
		s->ops->list_end(s);
	}
}

/* The lines of an evidence record, its head and tail when long. */
static void evidence_body(struct buf *out, const char *msg)
{
	size_t lines = 1, i, head = REPORT_EVIDENCE_LINES / 3;
	size_t tail = REPORT_EVIDENCE_LINES - head;
	const char *p;

	for (p = msg; *p; p++)
		lines += *p == '\n';
	if (lines <= REPORT_EVIDENCE_LINES) {
		buf_adds(out, msg);
		return;
	}
	for (p = msg, i = 0; i < lines; i++) {
		size_t n = strcspn(p, "\n");

		if (i < head || i >= lines - tail) {
			buf_add(out, p, n);
			if (i + 1 < lines)
				buf_addch(out, '\n');
		} else if (i == head) {
			buf_addf(out, "[... %zu lines ...]\n",
				 lines - head - tail);
		}
		p += n + (p[n] == '\n');
	}
}

static void sec_evidence(struct report_sink *s, const struct agg *a,
			 const struct report_opts *o)
{
	char t[TIMEFMT_BUF_SIZE];
	size_t i, k;

	heading(s, o, 2, "evidence", "Evidence");
	s->ops->para_begin(s);
	sayf(s, "Up to %d records per rule, redacted, in time order.",
	     AGG_EVIDENCE_MAX);
	s->ops->para_end(s);
	for (k = 0; k < a->norder; k++) {
		const struct agg_symptom *sy = &a->sym[a->order[k]];

		head_begin(s, o, 3, NULL);
		code(s, sy->rule_id, false);
		sayf(s, " (%" PRIu64 " event%s", sy->count,
		     sy->count == 1 ? "" : "s");
		if (sy->count > sy->nevidence)
			sayf(s, ", the first %zu", sy->nevidence);
		say(s, ")");
		head_end(s, o, 3);
		for (i = 0; i < sy->nevidence; i++) {
			const struct agg_event *e = &a->ev[sy->evidence[i]];
			struct buf body;

			s->ops->para_begin(s);
			where(s, a, sy->evidence[i], false);
			if (e->pos.has_ts) {
				timefmt_format_iso(e->pos.ts, t, sizeof(t));
				sayf(s, " %s%s", t, e->time == AGG_TIME_OWN ?
				     "" : " (time of an earlier line)");
			}
			s->ops->para_end(s);
			buf_init(&body);
			evidence_body(&body, e->message);
			s->ops->fence(s, "text", body.p, body.len, "  ");
			buf_release(&body);
		}
	}
}

/* Action item i: its text and rule id. */
static void action(struct report_sink *s, const struct agg *a, size_t i)
{
	rule_text(s, a->actions[i].text);
	say(s, " (");
	rule_code(s, a->actions[i].rule_id);
	say(s, ")");
}

void report_md_action(const struct agg *a, size_t i, struct buf *out)
{
	struct report_opts o;
	struct report_sink s;

	memset(&o, 0, sizeof(o));
	md_sink_init(&s, &o, out);
	action(&s, a, i);
}

static void sec_people(struct report_sink *s, const struct agg *a,
		       const struct report_opts *o)
{
	size_t i;

	heading(s, o, 2, "action-items", "Action items");
	para(s, "From the remedies of the rules above; owners and dates are "
	     "for people to add.");
	s->ops->list_begin(s, REPORT_LIST_TASKS);
	for (i = 0; i < a->nactions; i++) {
		item_begin(s, 0);
		action(s, a, i);
		item_end(s);
	}
	if (a->nactions == 0)
		item(s, "(no remedy in the rules of this incident)");
	s->ops->list_end(s);
	heading(s, o, 2, "lessons-learned", "Lessons learned");
	para(s, "Unknown from the logs: for people to write.");
	heading(s, o, 2, "notes", "Notes");
	para(s, "This file is written again on every run: keep notes in the "
	     "incident's entry of `.learnings/INCIDENTS.md` (`logtriage "
	     "report --learnings`), where they are kept.");
}

/* "Written by logtriage 1.0 from `db`; `logtriage report ...` writes it
 * again." */
static void footer(struct report_sink *s, const struct agg *a,
		   const struct report_opts *o)
{
	struct buf cmd;

	s->ops->footer_begin(s);
	say(s, "Written by logtriage " LOGTRIAGE_VERSION " from ");
	code(s, o->db_path, false);
	say(s, "; ");
	buf_init(&cmd);
	buf_adds(&cmd, "logtriage report ");
	if (strcmp(o->db_path, "logtriage.db") != 0) {
		buf_adds(&cmd, "--db ");
		report_shell_word(&cmd, o->db_path);
		buf_addch(&cmd, ' ');
	}
	if (strcmp(s->format, "md") != 0)
		buf_addf(&cmd, "--format %s ", s->format);
	buf_addf(&cmd, "--incident %s", a->id);
	code(s, cmd.p, false);
	buf_release(&cmd);
	say(s, " writes it again.");
	s->ops->footer_end(s);
}

void report_render(const struct agg *a, const struct report_opts *o,
		   struct report_sink *s)
{
	sec_title(s, a, o);
	sec_summary(s, a, o);
	sec_symptoms(s, a, o);
	sec_cause(s, a, o);
	sec_trigger(s, a, o);
	sec_impact(s, a, o);
	sec_detection(s, a, o);
	sec_resolution(s, a, o);
	sec_timeline(s, a, o);
	sec_charts(s, a, o);
	sec_remedies(s, a, o);
	sec_evidence(s, a, o);
	if (o->mode == REPORT_MD_FILE) {
		sec_people(s, a, o);
		footer(s, a, o);
	}
}

void report_md_render(const struct agg *a, const struct report_opts *o,
		      struct buf *out)
{
	struct report_sink s;

	md_sink_init(&s, o, out);
	report_render(a, o, &s);
}

/*
 * report_md.c - stage 6 writer: an incident as Markdown, shaped like a
 * postmortem (Summary, Impact, Root cause, Trigger, Detection,
 * Resolution, Timeline, Action items, Lessons learned), filled with what
 * the logs prove and "unknown" where they cannot tell. Every byte that
 * comes from a log is escaped or fenced (report.h says how).
 */
#include "common.h"
#include "report.h"
#include "agg.h"
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

/*
 * Text written by people (rule titles, remedies): inline code spans
 * written as `...` stay code; everything else is escaped as log text.
 */
static void md_rule_text(struct buf *out, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *tick = strchr(p, '`');
		const char *close = tick ? strchr(tick + 1, '`') : NULL;

		if (tick == NULL || close == NULL) {
			report_md_text(out, p, strlen(p), 0);
			return;
		}
		report_md_text(out, p, (size_t)(tick - p), 0);
		{
			char *code = xmemdup(tick + 1, (size_t)(close - tick - 1));

			report_md_code(out, code, true);
			free(code);
		}
		p = close + 1;
	}
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

/* ---- pieces --------------------------------------------------------- */

/* "#", "##"...: the heading for level (1 = title) in this mode. */
static void heading(struct buf *out, const struct report_opts *o, int level,
		    const char *text)
{
	int i, n = level + (o->mode == REPORT_MD_ENTRY ? 1 : 0);

	for (i = 0; i < n; i++)
		buf_addch(out, '#');
	buf_addf(out, " %s\n\n", text);
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
static void where(struct buf *out, const struct agg *a, size_t i,
		  bool in_table)
{
	struct buf w;

	buf_init(&w);
	buf_addf(&w, "%s:%" PRIu64, a->sources[a->ev[i].source].name,
		 a->ev[i].pos.line_no);
	report_md_code(out, w.p, in_table);
	buf_release(&w);
}

static void rule_code(struct buf *out, const char *id)
{
	report_md_code(out, id, true);
}

static const char *rule_title(const struct agg_symptom *s)
{
	return s->rule ? s->rule->title : "rule not loaded";
}

static void guide_text(struct buf *out, const struct rule *r)
{
	if (r == NULL) {
		buf_adds(out, "unknown");
		return;
	}
	if (strcmp(r->guide_section, "rollback") == 0)
		md_rule_text(out, r->guide_title);
	else {
		report_md_text(out, r->guide_section, strlen(r->guide_section),
			       0);
		buf_addch(out, ' ');
		md_rule_text(out, r->guide_title);
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

static void sec_title(struct buf *out, const struct agg *a,
		      const struct report_opts *o)
{
	struct buf t;
	char t1[48], t2[48], d[32];
	size_t i, shown = 0;

	buf_init(&t);
	report_md_text(&t, a->title, strlen(a->title), 0);
	heading(out, o, 1, t.p);
	buf_release(&t);
	buf_adds(out, "- **Incident:** ");
	report_md_code(out, a->id, false);
	buf_adds(out, "\n- **Window (UTC):** ");
	if (a->has_ts) {
		when_full(a, a->first, t1, sizeof(t1));
		when(a, a->last, t2, sizeof(t2));
		buf_addf(out, "%s to %s (%s)", t1, t2,
			 agg_duration(a->ev[a->last].pos.ts -
				      a->ev[a->first].pos.ts, d, sizeof(d)));
	} else {
		buf_addf(out, "unknown: the logs carry no timestamps (lines %"
			 PRIu64 " to %" PRIu64 ")", a->ev[a->first].pos.line_no,
			 a->ev[a->last].pos.line_no);
	}
	buf_addf(out, "\n- **Severity:** %s\n- **Sources:** ",
		 rules_sev_name(a->severity));
	for (i = 0; i < a->nsources; i++) {
		if (a->sources[i].events == 0)
			continue;
		if (shown++)
			buf_adds(out, ", ");
		report_md_code(out, a->sources[i].name, false);
		buf_addf(out, " (%" PRIu64 " event%s)", a->sources[i].events,
			 a->sources[i].events == 1 ? "" : "s");
	}
	buf_adds(out, "\n- **Root cause:** ");
	if (a->cause.root != SIZE_MAX) {
		rule_code(out, a->sym[a->cause.root].rule_id);
		buf_adds(out, " ");
		md_rule_text(out, rule_title(&a->sym[a->cause.root]));
		if (a->cause.verdict == INCIDENT_ONE_CAUSE)
			buf_adds(out, " (probable)");
	} else {
		buf_addf(out, "not established: %zu unconnected chains",
			 a->cause.nchains);
	}
	buf_adds(out, "\n- **Trigger:** ");
	if (a->trigger != SIZE_MAX) {
		char g[48];

		rule_code(out, a->ev[a->trigger].rule_id);
		buf_addf(out, " at %s", when(a, a->trigger, t1, sizeof(t1)));
		if (gap_words(a, a->trigger, a->first, g, sizeof(g)))
			buf_addf(out, ", %s before the first symptom", g);
	} else {
		buf_adds(out, "unknown");
	}
	buf_adds(out, "\n- **Recovery:** ");
	if (a->recovery != SIZE_MAX) {
		char g[48];

		buf_addf(out, "%s ", when(a, a->recovery, t1, sizeof(t1)));
		rule_code(out, a->ev[a->recovery].rule_id);
		if (gap_words(a, a->first, a->recovery, g, sizeof(g)))
			buf_addf(out, ", %s after the first symptom", g);
	} else {
		buf_adds(out, "unknown: no healthy event after the last "
			 "symptom");
	}
	buf_adds(out, "\n\n");
}

/* "`a`, `b` and `c`" for the nodes of a chain after its head. */
static void chain_tail_words(struct buf *out, const struct agg *a,
			     const struct incident_chain *ch)
{
	size_t i;

	for (i = 1; i < ch->n; i++) {
		if (i > 1)
			buf_adds(out, i + 1 == ch->n ? " and " : ", ");
		rule_code(out, a->sym[ch->node[i]].rule_id);
	}
}

static void sec_summary(struct buf *out, const struct agg *a,
			const struct report_opts *o)
{
	char t1[48], t2[48], d[32], g[48];
	size_t ns = nsymptoms(a), i, nsrc = 0;

	for (i = 0; i < a->nsources; i++)
		nsrc += a->sources[i].events > 0;
	heading(out, o, 2, "Summary");
	if (a->has_ts)
		buf_addf(out, "From %s to %s UTC (%s), ",
			 when_full(a, a->first, t1, sizeof(t1)),
			 when(a, a->last, t2, sizeof(t2)),
			 agg_duration(a->ev[a->last].pos.ts -
				      a->ev[a->first].pos.ts, d, sizeof(d)));
	else
		buf_adds(out, "At a time the logs do not tell (they carry no "
			 "timestamps), ");
	buf_addf(out, "the logs show %zu symptom%s of the troubleshooting guide "
		 "in %" PRIu64 " event%s from %zu source%s.", ns,
		 ns == 1 ? "" : "s", a->members, a->members == 1 ? "" : "s",
		 nsrc, nsrc == 1 ? "" : "s");
	if (a->cause.verdict == INCIDENT_UNCONNECTED) {
		buf_addf(out, " The evidence does not support one cause: the "
			 "symptoms form %zu chains that no rule connects, "
			 "starting at ", a->cause.nchains);
		for (i = 0; i < a->cause.nchains; i++) {
			if (i)
				buf_adds(out, i + 1 == a->cause.nchains ?
					 " and " : ", ");
			rule_code(out, a->sym[a->cause.chains[i].node[0]].rule_id);
		}
		buf_adds(out, ".");
	} else {
		const struct agg_symptom *r = &a->sym[a->cause.root];

		buf_adds(out, a->cause.verdict == INCIDENT_SINGLE ?
			 " The symptom is " : " The probable root cause is ");
		rule_code(out, r->rule_id);
		buf_adds(out, " (");
		md_rule_text(out, rule_title(r));
		buf_adds(out, ")");
		if (a->cause.nchains && a->cause.chains[0].n > 1) {
			buf_adds(out, a->cause.verdict == INCIDENT_SINGLE ?
				 ", followed by " : ", which led to ");
			chain_tail_words(out, a, &a->cause.chains[0]);
		}
		buf_adds(out, ".");
	}
	if (a->trigger != SIZE_MAX) {
		buf_adds(out, " It began ");
		if (gap_words(a, a->trigger, a->first, g, sizeof(g)))
			buf_addf(out, "%s ", g);
		buf_adds(out, "after ");
		rule_code(out, a->ev[a->trigger].rule_id);
		buf_addf(out, " (%s).", when(a, a->trigger, t1, sizeof(t1)));
	} else {
		buf_adds(out, " No deploy, migration or rollback marker comes "
			 "before it in the logs.");
	}
	if (a->recovery != SIZE_MAX) {
		buf_addf(out, " The logs show the service healthy again at %s (",
			 when(a, a->recovery, t1, sizeof(t1)));
		rule_code(out, a->ev[a->recovery].rule_id);
		buf_adds(out, ")");
		if (gap_words(a, a->first, a->recovery, g, sizeof(g)))
			buf_addf(out, ", %s after the first symptom", g);
		buf_adds(out, ".");
	} else {
		buf_adds(out, " The logs do not show a recovery.");
	}
	buf_adds(out, "\n\n");
}

static void sec_symptoms(struct buf *out, const struct agg *a,
			 const struct report_opts *o)
{
	char t1[48], t2[48];
	bool approx = false;
	size_t i;

	heading(out, o, 2, "Symptoms");
	buf_adds(out, "In order of first appearance.\n\n"
		 "| symptom | severity | count | first (UTC) | last (UTC) | "
		 "busiest minute | guide |\n"
		 "|---|---|---:|---|---|---|---|\n");
	for (i = 0; i < a->nsym; i++) {
		const struct agg_symptom *s = &a->sym[i];

		if (!s->symptom)
			continue;
		buf_adds(out, "| ");
		rule_code(out, s->rule_id);
		buf_adds(out, " ");
		md_rule_text(out, rule_title(s));
		buf_addf(out, " | %s | %" PRIu64 " | %s | %s | ",
			 rules_sev_name(a->ev[s->first].sev), s->count,
			 when(a, s->first, t1, sizeof(t1)),
			 when(a, s->last, t2, sizeof(t2)));
		if (s->peak_count > 1) {
			char t[TIMEFMT_BUF_SIZE];

			timefmt_format(s->peak_bucket, t, sizeof(t));
			buf_addf(out, "%" PRIu64 " at %.5s", s->peak_count,
				 t + 11);
		} else {
			buf_adds(out, "-");
		}
		buf_adds(out, " | ");
		guide_text(out, s->rule);
		buf_adds(out, " |\n");
		if (a->ev[s->first].time == AGG_TIME_INFERRED ||
		    a->ev[s->first].time == AGG_TIME_BORROWED ||
		    a->ev[s->last].time == AGG_TIME_INFERRED ||
		    a->ev[s->last].time == AGG_TIME_BORROWED)
			approx = true;
	}
	buf_adds(out, "\n");
	if (approx)
		buf_adds(out, "~ the record carried no time of its own: it has "
			 "the time of the closest line above that had one.\n\n");
}

/* "`rule` at `file:line`, 10:13:17": an event for a sentence. */
static void mention(struct buf *out, const struct agg *a, size_t i)
{
	char t[48];

	rule_code(out, a->ev[i].rule_id);
	buf_adds(out, " at ");
	where(out, a, i, false);
	if (a->ev[i].pos.has_ts)
		buf_addf(out, ", %s", when(a, i, t, sizeof(t)));
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
static void chain_line(struct buf *out, const struct agg *a,
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
	report_md_code(out, c.p, false);
	buf_release(&c);
}

/* The links with their evidence: "1. `rule` at `file:line`, time: text". */
static void chain_items(struct buf *out, const struct agg *a,
			const struct incident_chain *ch, const size_t *ev)
{
	size_t i;

	for (i = 0; i < ch->n; i++) {
		buf_addf(out, "%zu. ", i + 1);
		mention(out, a, ev[i]);
		buf_adds(out, ": ");
		report_md_text(out, a->ev[ev[i]].headline,
			       strlen(a->ev[ev[i]].headline), 0);
		buf_adds(out, "\n");
	}
}

static void sec_cause(struct buf *out, const struct agg *a,
		      const struct report_opts *o)
{
	const struct incident_cause *c = &a->cause;
	size_t i, k;

	heading(out, o, 2, "Root cause");
	if (c->verdict == INCIDENT_UNCONNECTED) {
		buf_addf(out, "**The evidence does not support one cause.** The "
			 "symptoms form %zu chains that no rule's `causes` "
			 "connect: each may have a cause of its own, or one "
			 "the logs do not show. Treat each chain as a lead.\n\n",
			 c->nchains);
	} else {
		const struct agg_symptom *r = &a->sym[c->root];

		buf_adds(out, c->verdict == INCIDENT_SINGLE ? "**Root cause: " :
			 "**Probable root cause: ");
		rule_code(out, r->rule_id);
		buf_adds(out, "** (");
		md_rule_text(out, rule_title(r));
		buf_adds(out, c->verdict == INCIDENT_SINGLE ?
			 "): the only symptom of the incident.\n\n" :
			 "): the earliest symptom from which every other one "
			 "can be reached through the rules' `causes`.\n\n");
	}
	for (k = 0; k < c->nchains; k++) {
		const struct incident_chain *ch = &c->chains[k];

		size_t *ev = chain_events(a, ch);

		if (c->nchains > 1)
			buf_addf(out, "Chain %zu: ", k + 1);
		else
			buf_adds(out, "Chain: ");
		chain_line(out, a, ch, ev);
		buf_adds(out, "\n\n");
		chain_items(out, a, ch, ev);
		buf_adds(out, "\n");
		free(ev);
	}
	if (c->nbranches) {
		buf_adds(out, "Also reached:\n\n");
		for (i = 0; i < c->nbranches; i++) {
			buf_adds(out, "- ");
			rule_code(out, a->sym[c->branches[i].from].rule_id);
			buf_adds(out, " -> ");
			rule_code(out, a->sym[c->branches[i].to].rule_id);
			buf_adds(out, "\n");
		}
		buf_adds(out, "\n");
	}
	if (c->nloose) {
		buf_adds(out, "In the incident, but no symptom leads to them "
			 "through `causes`: ");
		for (i = 0; i < c->nloose; i++) {
			if (i)
				buf_adds(out, ", ");
			rule_code(out, a->sym[c->loose[i]].rule_id);
		}
		buf_adds(out, ".\n\n");
	}
	if (c->untimed)
		buf_adds(out, "The logs carry no timestamps: the order above is "
			 "the order of the lines, not of time, so the cause is "
			 "read from the rules' `causes` alone and the clock "
			 "cannot confirm it.\n\n");
	else if (a->members_inferred)
		buf_addf(out, "%" PRIu64 " of the %" PRIu64 " events %s no "
			 "time of %s own (times marked ~ are those of an "
			 "earlier line), so the order rests partly on the "
			 "order of lines.\n\n", a->members_inferred,
			 a->members, a->members_inferred == 1 ? "carries" :
			 "carry", a->members_inferred == 1 ? "its" : "their");
}

static void sec_trigger(struct buf *out, const struct agg *a,
			const struct report_opts *o)
{
	char g[48];
	const struct agg_event *e;

	heading(out, o, 2, "Trigger");
	if (a->trigger == SIZE_MAX) {
		buf_adds(out, "Unknown: no deploy, migration or rollback marker "
			 "comes before the first symptom in the logs");
		if (a->has_ts)
			buf_adds(out, " (looked back 24 hours)");
		buf_adds(out, ".\n\n");
		return;
	}
	e = &a->ev[a->trigger];
	buf_adds(out, "The nearest marker before the first symptom: ");
	mention(out, a, a->trigger);
	if (gap_words(a, a->trigger, a->first, g, sizeof(g)))
		buf_addf(out, ", %s before it", g);
	else if (e->time == AGG_TIME_BORROWED)
		buf_adds(out, " (it has no time: it comes before the first "
			 "timed line of its file, so the gap is unknown)");
	else
		buf_adds(out, " (above the first symptom in the file; no times, "
			 "so the gap is unknown)");
	buf_adds(out, ":\n\n> ");
	report_md_text(out, e->headline, strlen(e->headline), 0);
	buf_adds(out, "\n\nA marker before an incident is a candidate, not a "
		 "proof: check what that deployment changed.\n\n");
}

static void latency_cell(struct buf *out, const struct agg_stat *s)
{
	if (s->n == 0) {
		buf_adds(out, "unknown (no request durations)");
		return;
	}
	buf_addf(out, "%.0f ms / %.0f ms (%" PRIu64 " sample%s, max %.0f ms)",
		 s->p50, s->p95, s->n, s->n == 1 ? "" : "s", s->max);
}

static void sec_impact(struct buf *out, const struct agg *a,
		       const struct report_opts *o)
{
	char t1[48], t2[48], d[32], g[48];

	heading(out, o, 2, "Impact");
	buf_adds(out, "| measure | value |\n|---|---|\n| window (UTC) | ");
	if (a->has_ts)
		buf_addf(out, "%s to %s |\n| duration | %s |\n",
			 when_full(a, a->first, t1, sizeof(t1)),
			 when(a, a->last, t2, sizeof(t2)),
			 agg_duration(a->ev[a->last].pos.ts -
				      a->ev[a->first].pos.ts, d, sizeof(d)));
	else
		buf_adds(out, "unknown (no timestamps) |\n| duration | unknown "
			 "|\n");
	buf_adds(out, "| time to recovery | ");
	if (a->recovery != SIZE_MAX &&
	    gap_words(a, a->first, a->recovery, g, sizeof(g))) {
		buf_addf(out, "%s, first symptom to ", g);
		rule_code(out, a->ev[a->recovery].rule_id);
		buf_addf(out, " at %s", when(a, a->recovery, t1, sizeof(t1)));
	} else if (a->recovery != SIZE_MAX) {
		buf_adds(out, "unknown: recovered (");
		rule_code(out, a->ev[a->recovery].rule_id);
		buf_adds(out, ") at a time the logs do not tell");
	} else if (a->has_ts) {
		buf_addf(out, "unknown: no healthy event after the last symptom "
			 "(%s)", when(a, a->last, t1, sizeof(t1)));
	} else {
		buf_adds(out, "unknown");
	}
	buf_adds(out, " |\n");
	if (a->has_ts && a->status_events) {
		buf_addf(out, "| 5xx responses | %" PRIu64 " |\n| 401 responses | "
			 "%" PRIu64 " |\n", a->n5xx, a->n401);
		buf_addf(out, "| responses counted | %" PRIu64 " (access lines "
			 "among the stored events, inside the window) |\n",
			 a->status_events);
	} else {
		buf_adds(out, "| 5xx responses | unknown (no access line with a "
			 "status among the stored events) |\n"
			 "| 401 responses | unknown |\n");
	}
	buf_adds(out, "| request latency p50 / p95, window | ");
	latency_cell(out, &a->lat_window);
	buf_adds(out, " |\n| request latency p50 / p95, hour before | ");
	latency_cell(out, &a->lat_before);
	buf_adds(out, " |\n| users or requests affected | unknown (not in "
		 "the logs) |\n\n");
	if (a->lat_window.n || a->lat_before.n)
		buf_adds(out, "Latency comes from the durations the rules read "
			 "(`metrics`, names `http.*`); rules that read only "
			 "slow requests make these percentiles of slow "
			 "requests.\n\n");
}

static void sec_detection(struct buf *out, const struct agg *a,
			  const struct report_opts *o)
{
	heading(out, o, 2, "Detection");
	buf_adds(out, "- First sign in the logs: ");
	mention(out, a, a->first);
	buf_adds(out, "\n");
	if (a->first_critical != SIZE_MAX && a->first_critical != a->first) {
		buf_adds(out, "- First critical event: ");
		mention(out, a, a->first_critical);
		buf_adds(out, "\n");
	}
	buf_adds(out, "- How and when people noticed: unknown (not in the "
		 "logs)\n\n");
}

/* "- `rule` at `file:line`, time: headline" */
static void event_item(struct buf *out, const struct agg *a, size_t i,
		       const char *lead)
{
	buf_addf(out, "- %s", lead);
	mention(out, a, i);
	buf_adds(out, ": ");
	report_md_text(out, a->ev[i].headline, strlen(a->ev[i].headline), 0);
	buf_adds(out, "\n");
}

static void sec_resolution(struct buf *out, const struct agg *a,
			   const struct report_opts *o)
{
	size_t i;
	bool rollback = false;

	heading(out, o, 2, "Resolution");
	for (i = a->last + 1; i < a->nev &&
	     (a->recovery == SIZE_MAX || i < a->recovery); i++) {
		const struct agg_event *e = &a->ev[i];

		if (e->member || !incidents_is_trigger_rule(e->rule_id))
			continue;
		event_item(out, a, i, "After the last symptom: ");
		rollback |= strcmp(e->rule_id, "deploy.rollback") == 0;
	}
	for (i = a->first; i <= a->last; i++)
		rollback |= a->ev[i].member &&
			    strcmp(a->ev[i].rule_id, "deploy.rollback") == 0;
	if (a->recovery != SIZE_MAX)
		event_item(out, a, a->recovery, "Healthy again: ");
	else
		buf_adds(out, "- No healthy event (passing health check, "
			 "completed startup, successful deploy) after the last "
			 "symptom: the logs do not show a recovery\n");
	buf_addf(out, "- What was done: %s\n\n", rollback ?
		 "a rollback is in the logs (above); anything else is unknown" :
		 "unknown (the logs show events, not decisions)");
}

static void sec_timeline(struct buf *out, const struct agg *a,
			 const struct report_opts *o)
{
	static const char *const what[] = {
		"trigger", "marker", "first", "peak", "last", "recovery",
	};
	char t[48];
	size_t i;

	heading(out, o, 2, "Timeline");
	buf_adds(out, "Merged across sources, in time order (a source's own "
		 "line order for equal times).\n\n"
		 "| time (UTC) | where | event | line |\n|---|---|---|---|\n");
	for (i = 0; i < a->nrows; i++) {
		const struct agg_row *r = &a->rows[i];
		const struct agg_event *e = &a->ev[r->event];

		buf_addf(out, "| %s | ", when(a, r->event, t, sizeof(t)));
		where(out, a, r->event, true);
		buf_addf(out, " | %s ", what[r->kind]);
		rule_code(out, e->rule_id);
		if (r->kind == AGG_ROW_PEAK)
			buf_addf(out, " (%" PRIu64 " in its busiest minute)",
				 a->sym[r->symptom].peak_count);
		else if (r->kind == AGG_ROW_LAST)
			buf_addf(out, " (%" PRIu64 " in all)",
				 a->sym[r->symptom].count);
		buf_adds(out, " | ");
		report_md_text(out, e->headline, strlen(e->headline), 120);
		buf_adds(out, " |\n");
	}
	buf_adds(out, "\n");
}

static void sec_charts(struct buf *out, const struct agg *a,
		       const struct report_opts *o)
{
	const struct chart_set *cs = o->charts;
	char name[96];
	int k;
	bool any = false;

	heading(out, o, 2, "Charts");
	switch (cs->state) {
	case CHART_STATE_NOT_ASKED:
		buf_adds(out, "Not drawn (`--charts none`).\n\n");
		return;
	case CHART_STATE_NO_TIME:
		buf_adds(out, "None: the events carry no timestamps.\n\n");
		return;
	case CHART_STATE_NO_GNUPLOT:
		buf_adds(out, "Skipped: gnuplot was not found on PATH. The data "
			 "and the scripts were written; to draw the charts, "
			 "install gnuplot and run in ");
		report_md_code(out, o->chart_dir, false);
		buf_adds(out, ":\n\n");
		for (k = 0; k < CHART__COUNT; k++) {
			struct buf cmd;

			if (!cs->have[k])
				continue;
			chart_file_name(a->id, (enum chart_kind)k, "gp", name,
					sizeof(name));
			buf_init(&cmd);
			buf_addf(&cmd, "gnuplot %s", name);
			buf_adds(out, "- ");
			report_md_code(out, cmd.p, false);
			buf_adds(out, "\n");
			buf_release(&cmd);
			any = true;
		}
		if (!any)
			buf_adds(out, "- (no chart had data)\n");
		buf_adds(out, "\n");
		return;
	case CHART_STATE_FAILED:
	case CHART_STATE_DRAWN:
		break;
	}
	if (cs->state == CHART_STATE_FAILED) {
		buf_adds(out, "Some charts failed: ");
		report_md_text(out, cs->note, strlen(cs->note), 0);
		buf_adds(out, ".\n\n");
	}
	for (k = 0; k < CHART__COUNT; k++) {
		if (!cs->drawn[k])
			continue;
		chart_file_name(a->id, (enum chart_kind)k,
				chart_format_ext(cs->format), name, sizeof(name));
		buf_addf(out, "![%s](%s%s)\n\n",
			 chart_kind_title((enum chart_kind)k), o->chart_prefix,
			 name);
	}
	if (cs->have[CHART_MEMORY]) {
		size_t i;

		buf_adds(out, "Memory series: ");
		for (i = 0; i < a->nmemory_series; i++) {
			if (i)
				buf_adds(out, ", ");
			report_md_code(out, a->memory_series[i], false);
			if (a->nmemory_series > 1)
				buf_addf(out, " (memory %zu)", i + 1);
		}
		if (a->memory_series_left_out)
			buf_addf(out, "; %zu more not drawn",
				 a->memory_series_left_out);
		buf_adds(out, ".\n\n");
	}
	if (!cs->have[CHART_LATENCY])
		buf_adds(out, "No request latency chart: no request durations "
			 "(`http.*` metrics) around the incident.\n");
	if (!cs->have[CHART_MEMORY])
		buf_adds(out, "No memory chart: no memory samples around the "
			 "incident.\n");
	if (!cs->have[CHART_HTTP])
		buf_adds(out, "No HTTP status chart: no access lines among the "
			 "stored events.\n");
	if (!cs->have[CHART_LATENCY] || !cs->have[CHART_MEMORY] ||
	    !cs->have[CHART_HTTP])
		buf_adds(out, "\n");
}

static void sec_remedies(struct buf *out, const struct agg *a,
			 const struct report_opts *o)
{
	size_t i, k;

	heading(out, o, 2, "Diagnosis and remedies");
	buf_adds(out, "From the troubleshooting guide, through each rule; "
		 "root cause first.\n\n");
	for (k = 0; k < a->norder; k++) {
		const struct agg_symptom *s = &a->sym[a->order[k]];
		const struct rule *r = s->rule;
		struct buf h, cmds;

		buf_init(&h);
		report_md_code(&h, s->rule_id, false);
		buf_adds(&h, " ");
		md_rule_text(&h, rule_title(s));
		heading(out, o, 3, h.p);
		buf_release(&h);
		if (r == NULL) {
			buf_adds(out, "This rule is not loaded now (was it "
				 "given with `--rules`?).\n\n");
			continue;
		}
		buf_adds(out, "Guide section: ");
		guide_text(out, r);
		buf_adds(out, ".\n\nCheck:\n\n");
		buf_init(&cmds);
		for (i = 0; i < r->diagnosis.n; i++)
			buf_addf(&cmds, "%s%s\n", i ? "\n" : "",
				 r->diagnosis.v[i]);
		if (cmds.len)
			cmds.len--;
		report_md_fence(out, "sh", cmds.p, cmds.len, "");
		buf_release(&cmds);
		buf_adds(out, "\nFix:\n\n");
		for (i = 0; i < r->remedy.n; i++) {
			buf_adds(out, "- ");
			md_rule_text(out, r->remedy.v[i]);
			buf_adds(out, "\n");
		}
		buf_adds(out, "\n");
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

static void sec_evidence(struct buf *out, const struct agg *a,
			 const struct report_opts *o)
{
	char t[TIMEFMT_BUF_SIZE];
	size_t i, k;

	heading(out, o, 2, "Evidence");
	buf_addf(out, "Up to %d records per rule, redacted, in time order.\n\n",
		 AGG_EVIDENCE_MAX);
	for (k = 0; k < a->norder; k++) {
		const struct agg_symptom *s = &a->sym[a->order[k]];
		struct buf h;

		buf_init(&h);
		report_md_code(&h, s->rule_id, false);
		buf_addf(&h, " (%" PRIu64 " event%s", s->count,
			 s->count == 1 ? "" : "s");
		if (s->count > s->nevidence)
			buf_addf(&h, ", the first %zu", s->nevidence);
		buf_adds(&h, ")");
		heading(out, o, 3, h.p);
		buf_release(&h);
		for (i = 0; i < s->nevidence; i++) {
			const struct agg_event *e = &a->ev[s->evidence[i]];
			struct buf body;

			where(out, a, s->evidence[i], false);
			if (e->pos.has_ts) {
				timefmt_format_iso(e->pos.ts, t, sizeof(t));
				buf_addf(out, " %s%s", t, e->time == AGG_TIME_OWN ?
					 "" : " (time of an earlier line)");
			}
			buf_adds(out, "\n\n");
			buf_init(&body);
			evidence_body(&body, e->message);
			report_md_fence(out, "text", body.p, body.len, "  ");
			buf_release(&body);
			buf_adds(out, "\n");
		}
	}
}

void report_md_action(const struct agg *a, size_t i, struct buf *out)
{
	md_rule_text(out, a->actions[i].text);
	buf_adds(out, " (");
	rule_code(out, a->actions[i].rule_id);
	buf_adds(out, ")");
}

static void sec_people(struct buf *out, const struct agg *a,
		       const struct report_opts *o)
{
	size_t i;

	heading(out, o, 2, "Action items");
	buf_adds(out, "From the remedies of the rules above; owners and dates "
		 "are for people to add.\n\n");
	for (i = 0; i < a->nactions; i++) {
		buf_adds(out, "- [ ] ");
		report_md_action(a, i, out);
		buf_adds(out, "\n");
	}
	if (a->nactions == 0)
		buf_adds(out, "- [ ] (no remedy in the rules of this incident)\n");
	buf_adds(out, "\n");
	heading(out, o, 2, "Lessons learned");
	buf_adds(out, "Unknown from the logs: for people to write.\n\n");
	heading(out, o, 2, "Notes");
	buf_adds(out, "This file is written again on every run: keep notes in "
		 "the incident's entry of `.learnings/INCIDENTS.md` "
		 "(`logtriage report --learnings`), where they are kept.\n\n");
}

void report_md_render(const struct agg *a, const struct report_opts *o,
		      struct buf *out)
{
	sec_title(out, a, o);
	sec_summary(out, a, o);
	sec_symptoms(out, a, o);
	sec_cause(out, a, o);
	sec_trigger(out, a, o);
	sec_impact(out, a, o);
	sec_detection(out, a, o);
	sec_resolution(out, a, o);
	sec_timeline(out, a, o);
	sec_charts(out, a, o);
	sec_remedies(out, a, o);
	sec_evidence(out, a, o);
	if (o->mode == REPORT_MD_FILE) {
		sec_people(out, a, o);
		buf_addf(out, "---\n\nWritten by logtriage " LOGTRIAGE_VERSION
			 " from ");
		report_md_code(out, o->db_path, false);
		buf_adds(out, "; ");
		{
			struct buf cmd;

			buf_init(&cmd);
			buf_adds(&cmd, "logtriage report ");
			if (strcmp(o->db_path, "logtriage.db") != 0) {
				buf_adds(&cmd, "--db ");
				report_shell_word(&cmd, o->db_path);
				buf_addch(&cmd, ' ');
			}
			buf_addf(&cmd, "--incident %s", a->id);
			report_md_code(out, cmd.p, false);
			buf_release(&cmd);
		}
		buf_adds(out, " writes it again.\n");
	}
}

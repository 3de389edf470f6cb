/*
 * agg.c - stage 6b: read one incident and what surrounds it from the
 * store, once, and derive what every report writer shows: symptoms,
 * cause, trigger, recovery, timeline, impact and the chart series.
 */
#include "common.h"
#include "agg.h"
#include "buf.h"
#include "diag.h"
#include "redact.h"
#include "timefmt.h"

#include <sqlite3.h>

/* The columns every event query of this file selects, in this order. */
#define EVENT_COLS "SELECT e.id, e.rule_id, e.severity, e.ts, e.ts_inferred, " \
		   "e.source_id, e.line_no, e.message, s.name FROM events e " \
		   "JOIN sources s ON s.id = e.source_id "
/* Markers shown around an incident: triggers and failed deploys. */
#define MARKER_IN "e.rule_id IN ('deploy.started', 'deploy.succeeded', " \
		  "'deploy.failed', 'deploy.rollback', 'db.migration') "

/* Loading state: the database, the first time of the last source seen. */
struct loader {
	sqlite3 *db;
	const char *path;
	const struct rules *rs;
	struct redact *red;
	int64_t cached_src;
	struct incident_pos cached;
	struct buf tmp;
};

static int fail(struct loader *l, const char *what)
{
	return error("%s: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

const char *agg_duration(int64_t ms, char *out, size_t size)
{
	int64_t s;

	if (ms < 0)
		ms = 0;
	s = ms / 1000;
	if (ms < 10000)
		snprintf(out, size, "%.1fs", (double)ms / 1000.0);
	else if (s < 60)
		snprintf(out, size, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(out, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, size, "%" PRId64 "h%02" PRId64 "m", s / 3600,
			 s % 3600 / 60);
	else
		snprintf(out, size, "%" PRId64 "d%02" PRId64 "h", s / 86400,
			 s % 86400 / 3600);
	return out;
}

/* Three digits at p, not followed by another digit: a status, or 0. */
static int status_at(const char *p)
{
	if (p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9' && !(p[3] >= '0' && p[3] <= '9'))
		return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return 0;
}

static bool is_method(const char *p, size_t n)
{
	static const char *const m[] = { "GET", "POST", "PUT", "PATCH",
					 "DELETE", "HEAD", "OPTIONS" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(m); i++)
		if (strlen(m[i]) == n && memcmp(p, m[i], n) == 0)
			return true;
	return false;
}

int agg_http_status(const char *msg)
{
	size_t len = strcspn(msg, "\n");
	const char *end = msg + len, *p;
	int st;

	/* '"GET /x HTTP/1.1" 401' (uvicorn, gunicorn, nginx, Apache) */
	for (p = msg; (p = memmem(p, (size_t)(end - p), "HTTP/", 5)) != NULL;
	     p += 5) {
		const char *q = p + 5;

		while (q < end && *q != '"' && *q != ' ')
			q++;
		if (q + 5 <= end && q[0] == '"' && q[1] == ' ' &&
		    (st = status_at(q + 2)) != 0)
			return st;
	}
	/*
	 * status=503, status_code=503, "status": 503, "httpStatus":500: at
	 * the bytes that start a key ('s' or '"'), not at every byte (a
	 * report reads this for every event around an incident).
	 */
	for (p = msg; p < end; p++) {
		static const char *const keys[] = { "status=", "status_code=",
			"\"status\":", "\"httpStatus\":", "\"status_code\":" };
		size_t i;

		if (*p != 's' && *p != '"')
			continue;
		for (i = 0; i < ARRAY_SIZE(keys); i++) {
			size_t kl = strlen(keys[i]);
			const char *q = p + kl;

			if ((size_t)(end - p) < kl + 3 ||
			    memcmp(p, keys[i], kl) != 0)
				continue;
			while (q < end && (*q == ' ' || *q == '"'))
				q++;
			if (end - q >= 3 && (st = status_at(q)) != 0)
				return st;
		}
	}
	/* 'GET /api/x 500 12.3ms' (an app's timing line) */
	for (p = msg; p < end; p++) {
		const char *w = p, *q;

		if (p > msg && p[-1] != ' ')
			continue;
		while (p < end && *p >= 'A' && *p <= 'Z')
			p++;
		if (p == end || *p != ' ' || !is_method(w, (size_t)(p - w)))
			continue;
		q = p + 1;
		if (q >= end || *q != '/')
			continue;
		while (q < end && *q != ' ')
			q++;
		if (end - q >= 5 && (st = status_at(q + 1)) != 0 && q[4] == ' ')
			return st;
	}
	return 0;
}

/* A Python exception line: "KeyError: 'X'", "pkg.mod.SomeError: ...". */
static bool is_exception_line(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			*p == '_'))
		return false;
	while (i < n && (p[i] == '.' || p[i] == '_' ||
			 (p[i] >= '0' && p[i] <= '9') ||
			 (p[i] >= 'A' && p[i] <= 'Z') ||
			 (p[i] >= 'a' && p[i] <= 'z')))
		i++;
	if (i < n && p[i] != ':')
		return false;
	return memmem(p, i, "Error", 5) || memmem(p, i, "Exception", 9) ||
	       memmem(p, i, "Exit", 4) || memmem(p, i, "Interrupt", 9);
}

char *agg_headline(const char *msg)
{
	const char *p = msg, *best = msg;
	size_t best_len = strcspn(msg, "\n"), n;
	struct buf b;

	if (strstr(msg, "Traceback (most recent call last):") != NULL) {
		while (*p) {
			n = strcspn(p, "\n");
			if (is_exception_line(p, n)) {
				best = p;
				best_len = n;
			}
			p += n;
			if (*p == '\n')
				p++;
		}
	}
	n = best_len;
	if (n > AGG_HEADLINE_MAX) {
		n = AGG_HEADLINE_MAX;
		/* back to the start of a UTF-8 sequence */
		while (n > 0 && ((unsigned char)best[n] & 0xc0) == 0x80)
			n--;
	}
	buf_init(&b);
	buf_add(&b, best, n);
	while (b.len && (b.p[b.len - 1] == ' ' || b.p[b.len - 1] == '\r' ||
			 b.p[b.len - 1] == '\t'))
		b.p[--b.len] = '\0';
	if (n < best_len)
		buf_adds(&b, "...");
	return buf_detach(&b, NULL);
}

size_t agg_link_event(const struct agg *a, size_t sym, size_t prev)
{
	const struct agg_symptom *s = &a->sym[sym];
	size_t i;

	if (prev == SIZE_MAX)
		return s->first;
	for (i = s->first; i <= s->last; i++)
		if (a->ev[i].member && strcmp(a->ev[i].rule_id, s->rule_id) == 0 &&
		    !incidents_pos_before(&a->ev[i].pos, &a->ev[prev].pos))
			return i;
	return s->first;
}

int64_t agg_event_ts(const struct agg *a, size_t i, bool *has)
{
	*has = i < a->nev && a->ev[i].pos.has_ts;
	return *has ? a->ev[i].pos.ts : 0;
}

static size_t source_index(struct agg *a, int64_t id, const char *name)
{
	size_t i;

	for (i = 0; i < a->nsources; i++)
		if (a->sources[i].id == id)
			return i;
	a->sources = xrealloc(a->sources, (i + 1) * sizeof(*a->sources));
	a->sources[i].id = id;
	a->sources[i].name = xstrdup(name ? name : "?");
	a->sources[i].events = 0;
	a->nsources++;
	return i;
}

static bool have_event(const struct agg *a, int64_t id)
{
	size_t i;

	for (i = 0; i < a->nev; i++)
		if (a->ev[i].id == id)
			return true;
	return false;
}

/* The text of an event whose message was not needed (see load_texts). */
static char no_text[] = "";

/* Redact msg again, make it valid UTF-8: e's message and headline. */
static void set_text(struct loader *l, struct agg_event *e, const char *msg)
{
	struct buf clean;

	buf_clear(&l->tmp);
	if (l->red)
		redact_append(l->red, msg, strlen(msg), &l->tmp);
	else
		buf_adds(&l->tmp, msg);
	buf_init(&clean);
	buf_add_utf8(&clean, l->tmp.p, l->tmp.len);
	e->message = buf_detach(&clean, NULL);
	e->headline = agg_headline(e->message);
}

/*
 * Add the event of the current row of s (EVENT_COLS). A NULL message
 * (members are read without theirs) leaves message and headline NULL
 * for load_texts(). Return 0 or -1.
 */
static int add_event(struct agg *a, struct loader *l, sqlite3_stmt *s,
		     bool member)
{
	struct agg_event *e;
	const char *rule = (const char *)sqlite3_column_text(s, 1);
	const char *sev = (const char *)sqlite3_column_text(s, 2);
	const char *msg = (const char *)sqlite3_column_text(s, 7);
	int64_t src = sqlite3_column_int64(s, 5);
	bool has_ts = sqlite3_column_type(s, 3) != SQLITE_NULL;
	int sv;

	if (!member && have_event(a, sqlite3_column_int64(s, 0)))
		return 0;
	a->ev = xrealloc(a->ev, (a->nev + 1) * sizeof(*a->ev));
	e = &a->ev[a->nev];
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	e->rule_id = xstrdup(rule ? rule : "");
	e->rule = rules_find(l->rs, e->rule_id);
	sv = rules_sev_parse(sev ? sev : "");
	e->sev = sv < 0 ? RULE_SEV_INFO : (enum rule_sev)sv;
	e->member = member;
	e->source = source_index(a, src, (const char *)sqlite3_column_text(s, 8));
	if (has_ts) {
		e->pos.ts = sqlite3_column_int64(s, 3);
		e->pos.has_ts = true;
		e->pos.source_id = src;
		e->time = sqlite3_column_int(s, 4) ? AGG_TIME_INFERRED :
			  AGG_TIME_OWN;
	} else {
		if (l->cached_src != src) {
			if (incidents_event_pos(l->db, src, 0, false, 0,
						&l->cached) < 0)
				return fail(l, "cannot read events");
			l->cached_src = src;
		}
		e->pos = l->cached;
		e->time = e->pos.has_ts ? AGG_TIME_BORROWED : AGG_TIME_NONE;
	}
	e->pos.line_no = (uint64_t)sqlite3_column_int64(s, 6);
	if (msg)
		set_text(l, e, msg);
	if (member)
		a->sources[e->source].events++;
	a->nev++;
	return 0;
}

/* Step a query of EVENT_COLS, adding every row. Return 0 or -1. */
static int add_rows(struct agg *a, struct loader *l, sqlite3_stmt *s,
		    bool member)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (add_event(a, l, s, member) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(l, "cannot read events");
	return 0;
}

static int add_event_by_id(struct agg *a, struct loader *l, int64_t id)
{
	sqlite3_stmt *s;

	if (id == 0 || have_event(a, id))
		return 0;
	if (sqlite3_prepare_v2(l->db, EVENT_COLS "WHERE e.id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return fail(l, "cannot read events");
	sqlite3_bind_int64(s, 1, id);
	return add_rows(a, l, s, false);
}

static int ev_cmp(const void *pa, const void *pb)
{
	const struct agg_event *a = pa, *b = pb;
	enum incident_kind ka = incidents_kind(a->rule_id, a->sev);
	enum incident_kind kb = incidents_kind(b->rule_id, b->sev);

	if (incidents_pos_before(&a->pos, &b->pos))
		return -1;
	if (incidents_pos_before(&b->pos, &a->pos))
		return 1;
	/* same time: the order of incidents_sort() */
	if (a->pos.has_ts != b->pos.has_ts)
		return a->pos.has_ts ? -1 : 1;
	if (a->pos.source_id != b->pos.source_id)
		return a->pos.source_id < b->pos.source_id ? -1 : 1;
	if (a->pos.line_no != b->pos.line_no)
		return a->pos.line_no < b->pos.line_no ? -1 : 1;
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static size_t event_index(const struct agg *a, int64_t id)
{
	size_t i;

	for (i = 0; id && i < a->nev; i++)
		if (a->ev[i].id == id)
			return i;
	return SIZE_MAX;
}

/* Symptoms, evidence and peaks from the sorted members. */
static void build_symptoms(struct agg *a)
{
	size_t i, k;

	for (i = 0; i < a->nev; i++) {
		const struct agg_event *e = &a->ev[i];
		struct agg_symptom *s;

		if (!e->member)
			continue;
		for (k = 0; k < a->nsym; k++)
			if (strcmp(a->sym[k].rule_id, e->rule_id) == 0)
				break;
		if (k == a->nsym) {
			a->sym = xrealloc(a->sym, (k + 1) * sizeof(*a->sym));
			s = &a->sym[k];
			memset(s, 0, sizeof(*s));
			s->rule_id = e->rule_id;
			s->rule = e->rule;
			s->symptom = incidents_kind(e->rule_id, e->sev) ==
				     INCIDENT_SYMPTOM;
			s->first = i;
			a->nsym++;
		}
		s = &a->sym[k];
		s->count++;
		s->last = i;
		if (s->nevidence < AGG_EVIDENCE_MAX)
			s->evidence[s->nevidence++] = i;
	}
	/* The busiest minute of each symptom: the earliest on a tie. */
	for (k = 0; k < a->nsym; k++) {
		struct agg_symptom *s = &a->sym[k];
		int64_t cur = 0;
		uint64_t n = 0;
		size_t cur_first = 0;

		for (i = s->first; i <= s->last; i++) {
			const struct agg_event *e = &a->ev[i];
			int64_t m;

			if (!e->member || strcmp(e->rule_id, s->rule_id) != 0 ||
			    !e->pos.has_ts)
				continue;
			m = e->pos.ts - ((e->pos.ts % 60000) + 60000) % 60000;
			if (n == 0 || m != cur) {
				cur = m;
				n = 0;
				cur_first = i;
			}
			n++;
			if (n > s->peak_count) {
				s->peak_count = n;
				s->peak_bucket = cur;
				s->peak_event = cur_first;
			}
		}
	}
}

static void add_row(struct agg *a, enum agg_row_kind kind, size_t ev,
		    size_t sym)
{
	a->rows = xrealloc(a->rows, (a->nrows + 1) * sizeof(*a->rows));
	a->rows[a->nrows].kind = kind;
	a->rows[a->nrows].event = ev;
	a->rows[a->nrows].symptom = sym;
	a->nrows++;
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct agg_row *a = pa, *b = pb;

	if (a->event != b->event)
		return a->event < b->event ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->symptom < b->symptom ? -1 : a->symptom > b->symptom;
}

static void build_rows(struct agg *a)
{
	size_t lo = a->trigger != SIZE_MAX ? a->trigger : a->first;
	size_t hi = a->recovery != SIZE_MAX ? a->recovery : a->last;
	size_t i, k;

	if (a->trigger != SIZE_MAX)
		add_row(a, AGG_ROW_TRIGGER, a->trigger, SIZE_MAX);
	if (a->recovery != SIZE_MAX)
		add_row(a, AGG_ROW_RECOVERY, a->recovery, SIZE_MAX);
	for (i = lo; i <= hi && i < a->nev; i++) {
		const struct agg_event *e = &a->ev[i];

		if (i == a->trigger || i == a->recovery)
			continue;
		if (e->member ? incidents_kind(e->rule_id, e->sev) ==
				INCIDENT_CLOSER :
		    (incidents_is_trigger_rule(e->rule_id) ||
		     strcmp(e->rule_id, "deploy.failed") == 0))
			add_row(a, AGG_ROW_MARKER, i, SIZE_MAX);
	}
	for (k = 0; k < a->nsym; k++) {
		const struct agg_symptom *s = &a->sym[k];

		if (!s->symptom)
			continue;
		add_row(a, AGG_ROW_FIRST, s->first, k);
		if (s->peak_count >= 3 && s->peak_event != s->first)
			add_row(a, AGG_ROW_PEAK, s->peak_event, k);
		if (s->count > 1)
			add_row(a, AGG_ROW_LAST, s->last, k);
	}
	if (a->nrows > 1)
		qsort(a->rows, a->nrows, sizeof(*a->rows), row_cmp);
}

static void add_action(struct agg *a, size_t sym)
{
	const struct agg_symptom *s = &a->sym[sym];
	size_t i, k;

	for (k = 0; k < a->norder; k++)
		if (a->order[k] == sym)
			return;
	a->order = xrealloc(a->order, (a->norder + 1) * sizeof(*a->order));
	a->order[a->norder++] = sym;
	if (s->rule == NULL)
		return;
	for (i = 0; i < s->rule->remedy.n; i++) {
		const char *t = s->rule->remedy.v[i];

		for (k = 0; k < a->nactions; k++)
			if (strcmp(a->actions[k].text, t) == 0)
				break;
		if (k < a->nactions)
			continue;
		a->actions = xrealloc(a->actions,
				      (a->nactions + 1) * sizeof(*a->actions));
		a->actions[a->nactions].text = t;
		a->actions[a->nactions].rule_id = s->rule_id;
		a->nactions++;
	}
}

/* Remedies: the chains in order, then branches, loose nodes, the rest. */
static void build_actions(struct agg *a)
{
	const struct incident_cause *c = &a->cause;
	size_t i, k;

	for (k = 0; k < c->nchains; k++)
		for (i = 0; i < c->chains[k].n; i++)
			add_action(a, c->chains[k].node[i]);
	for (i = 0; i < c->nbranches; i++)
		add_action(a, c->branches[i].to);
	for (i = 0; i < c->nloose; i++)
		add_action(a, c->loose[i]);
	for (i = 0; i < a->nsym; i++)
		add_action(a, i);
}

static int dbl_cmp(const void *pa, const void *pb)
{
	double x = *(const double *)pa, y = *(const double *)pb;

	return x < y ? -1 : x > y;
}

void agg_percentiles(double *v, size_t n, struct agg_stat *out)
{
	size_t r50, r95;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), dbl_cmp);
	r50 = (n * 50 + 99) / 100;
	r95 = (n * 95 + 99) / 100;
	out->p50 = v[(r50 ? r50 : 1) - 1];
	out->p95 = v[(r95 ? r95 : 1) - 1];
	out->max = v[n - 1];
}

/* The chart window: the incident, with trigger and recovery when near. */
static void chart_window(struct agg *a)
{
	static const int64_t nice_min[] = { 5, 10, 15, 30, 60, 120, 180, 360,
					    720, 1440 };
	int64_t lo = a->ev[a->first].pos.ts, hi = a->ev[a->last].pos.ts;
	int64_t pad, span, b = 60000;
	bool has;
	int64_t t;
	size_t i;

	t = agg_event_ts(a, a->trigger, &has);
	if (has && lo - t <= AGG_CHART_REACH_MS && t < lo)
		lo = t;
	t = agg_event_ts(a, a->recovery, &has);
	if (has && t - hi <= AGG_CHART_REACH_MS && t > hi)
		hi = t;
	span = hi - lo;
	pad = span / 10 > 120000 ? span / 10 : 120000;
	span += 2 * pad;
	for (i = 0; span / b > AGG_CHART_MAX_BUCKETS; i++)
		b = i < ARRAY_SIZE(nice_min) ? nice_min[i] * 60000 :
		    (span / AGG_CHART_MAX_BUCKETS / 86400000 + 1) * 86400000;
	a->bucket_ms = b;
	a->chart_from = lo - pad;
	a->chart_from -= ((a->chart_from % b) + b) % b;
	a->chart_to = hi + pad;
	if (((a->chart_to % b) + b) % b)
		a->chart_to += b - ((a->chart_to % b) + b) % b;
	a->nbuckets = (size_t)((a->chart_to - a->chart_from) / b);
}

static size_t bucket_of(const struct agg *a, int64_t ts)
{
	return (size_t)((ts - a->chart_from) / a->bucket_ms);
}

static size_t series_col(struct agg_series *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i], name) == 0)
			return i;
	s->cols = xrealloc(s->cols, (i + 1) * sizeof(*s->cols));
	s->cols[i] = xstrdup(name);
	s->ncols++;
	return i;
}

static int str_cmp(const void *pa, const void *pb)
{
	return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/*
 * Fill series s from (name, ts) pairs: columns sorted by name. The pairs
 * are collected first, because the columns are known only at the end.
 * The names are the rules' categories and constants, which outlive the
 * pairs: not copied (a report collects a pair for every event around
 * each incident).
 */
struct pair {
	const char *name;
	int64_t ts;
};

struct pairs {
	struct pair *v;         /* owned */
	size_t n, cap;
};

static void series_fill(struct agg *a, struct agg_series *s,
			struct pairs *ps)
{
	const struct pair *p = ps->v;
	size_t i, n = ps->n;

	for (i = 0; i < n; i++)
		series_col(s, p[i].name);
	if (s->ncols > 1)
		qsort(s->cols, s->ncols, sizeof(*s->cols), str_cmp);
	s->counts = xcalloc(a->nbuckets * (s->ncols ? s->ncols : 1),
			    sizeof(*s->counts));
	for (i = 0; i < n; i++) {
		size_t b = bucket_of(a, p[i].ts);

		if (b < a->nbuckets)
			s->counts[b * s->ncols + series_col(s, p[i].name)]++;
	}
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

static void pairs_add(struct pairs *ps, const char *name, int64_t ts)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 256;
		ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n].name = name;
	ps->v[ps->n].ts = ts;
	ps->n++;
}

/* Symptoms by category and HTTP statuses by class, per bucket; the
 * impact counts of statuses inside the window. */
static int load_counts(struct agg *a, struct loader *l)
{
	sqlite3_stmt *s;
	/* agg_http_status() gives 100 to 599 */
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx",
					       "5xx" };
	struct pairs cat = { NULL, 0, 0 }, cls = { NULL, 0, 0 };
	int64_t w0 = a->ev[a->first].pos.ts, w1 = a->ev[a->last].pos.ts;
	int rc;

	if (sqlite3_prepare_v2(l->db, "SELECT rule_id, severity, ts, "
			       "substr(message, 1, 1024) FROM events WHERE "
			       "ts >= ?1 AND ts < ?2 ORDER BY ts, id", -1, &s,
			       NULL) != SQLITE_OK)
		return fail(l, "cannot read events");
	sqlite3_bind_int64(s, 1, a->chart_from);
	sqlite3_bind_int64(s, 2, a->chart_to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *rule = (const char *)sqlite3_column_text(s, 0);
		const char *sev = (const char *)sqlite3_column_text(s, 1);
		int64_t ts = sqlite3_column_int64(s, 2);
		const char *msg = (const char *)sqlite3_column_text(s, 3);
		int st = agg_http_status(msg ? msg : "");

		if (sev && strcmp(sev, "info") != 0) {
			const struct rule *r = rules_find(l->rs, rule ? rule : "");

			pairs_add(&cat, r ? r->category : "other", ts);
		}
		if (st) {
			pairs_add(&cls, classes[st / 100 - 1], ts);
			if (ts >= w0 && ts <= w1) {
				a->status_events++;
				a->n5xx += st >= 500;
				a->n401 += st == 401;
			}
		}
	}
	sqlite3_finalize(s);
	series_fill(a, &a->by_category, &cat);
	series_fill(a, &a->by_status, &cls);
	if (rc != SQLITE_DONE)
		return fail(l, "cannot read events");
	return 0;
}

/*
 * The names of the metric series, in name order: a skip scan of the
 * (name, ts) index, one step per name, so that large tables of samples
 * are never read whole.
 */
static int metric_names(struct loader *l, struct strlist *out)
{
	sqlite3_stmt *s;
	char *last = xstrdup("");
	int rc;

	if (sqlite3_prepare_v2(l->db, "SELECT name FROM metrics WHERE "
			       "name > ?1 ORDER BY name LIMIT 1", -1, &s,
			       NULL) != SQLITE_OK) {
		free(last);
		return fail(l, "cannot read metrics");
	}
	for (;;) {
		sqlite3_bind_text(s, 1, last, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		free(last);
		last = xstrdup((const char *)sqlite3_column_text(s, 0));
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = xstrdup(last);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	free(last);
	if (rc != SQLITE_DONE)
		return fail(l, "cannot read metrics");
	return 0;
}

static int point_cmp(const void *pa, const void *pb)
{
	const struct agg_point *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->value < b->value ? -1 : a->value > b->value;
}

/* Does a series of this name and unit hold memory? MiB with "mem" in
 * the name, or memory.* stored without a unit (its unit came from a
 * capture). */
static bool is_memory(const char *name, const char *unit)
{
	return (strcmp(unit, "MiB") == 0 && strstr(name, "mem") != NULL) ||
	       (*unit == '\0' && strncmp(name, "memory.", 7) == 0);
}

/*
 * The samples in [from, to) of every series that is request latency
 * (http.* in ms) or, with memory (a not NULL), memory: those go to
 * a->memory with their series, the first AGG_MEMORY_SERIES_MAX series
 * that have samples. By time.
 */
static int load_points(struct loader *l, const struct strlist *names,
		       struct agg *a, int64_t from, int64_t to,
		       struct agg_point **v, size_t *n)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = SQLITE_DONE;
	bool memory = a != NULL;

	if (sqlite3_prepare_v2(l->db, "SELECT ts, value, unit FROM metrics "
			       "WHERE name = ?1 AND ts >= ?2 AND ts < ?3", -1, &s,
			       NULL) != SQLITE_OK)
		return fail(l, "cannot read metrics");
	for (i = 0; i < names->n && rc == SQLITE_DONE; i++) {
		const char *name = names->v[i];

		if (!memory && strncmp(name, "http.", 5) != 0)
			continue;
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, from);
		sqlite3_bind_int64(s, 3, to);
		size_t series = SIZE_MAX;

		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *unit = (const char *)sqlite3_column_text(s, 2);

			unit = unit ? unit : "";
			if (memory ? !is_memory(name, unit) :
			    strcmp(unit, "ms") != 0)
				continue;
			if (memory && series == SIZE_MAX) {
				if (a->nmemory_series == AGG_MEMORY_SERIES_MAX) {
					a->memory_series_left_out++;
					break;
				}
				a->memory_series = xrealloc(a->memory_series,
					(a->nmemory_series + 1) *
					sizeof(*a->memory_series));
				series = a->nmemory_series;
				a->memory_series[a->nmemory_series++] =
					xstrdup(name);
			}
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[*n].ts = sqlite3_column_int64(s, 0);
			(*v)[*n].series = memory ? series : 0;
			(*v)[(*n)++].value = sqlite3_column_double(s, 1);
		}
		if (rc == SQLITE_ROW)
			rc = SQLITE_DONE;       /* a series left out */
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(l, "cannot read metrics");
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), point_cmp);
	return 0;
}

/* Latency (baseline, window, chart), memory and OOM kills. */
static int load_metrics(struct agg *a, struct loader *l)
{
	sqlite3_stmt *s;
	struct strlist names = { NULL, 0 };
	int64_t w0 = a->ev[a->first].pos.ts, w1 = a->ev[a->last].pos.ts;
	int64_t from = w0 - AGG_BASELINE_MS < a->chart_from ?
		       w0 - AGG_BASELINE_MS : a->chart_from;
	int64_t to = a->chart_to > w1 ? a->chart_to : w1 + 1;
	struct agg_point *p = NULL;
	double *in, *before;
	size_t np = 0, nin = 0, nbefore = 0, i;
	int rc = -1;

	if (metric_names(l, &names) < 0 ||
	    load_points(l, &names, NULL, from, to, &p, &np) < 0 ||
	    load_points(l, &names, a, a->chart_from, a->chart_to,
			&a->memory, &a->nmemory) < 0)
		goto out;
	in = xcalloc(np ? np : 1, sizeof(*in));
	before = xcalloc(np ? np : 1, sizeof(*before));
	for (i = 0; i < np; i++) {
		if (p[i].ts >= w0 && p[i].ts <= w1)
			in[nin++] = p[i].value;
		else if (p[i].ts < w0 && p[i].ts >= w0 - AGG_BASELINE_MS)
			before[nbefore++] = p[i].value;
		if (p[i].ts >= a->chart_from && p[i].ts < a->chart_to) {
			a->latency = xrealloc(a->latency, (a->nlatency + 1) *
					      sizeof(*a->latency));
			a->latency[a->nlatency++] = p[i];
		}
	}
	agg_percentiles(in, nin, &a->lat_window);
	agg_percentiles(before, nbefore, &a->lat_before);
	free(in);
	free(before);
	if (sqlite3_prepare_v2(l->db, "SELECT ts FROM events WHERE rule_id = "
			       "'memory.oom_killed' AND ts >= ?1 AND ts < ?2 "
			       "ORDER BY ts, id", -1, &s, NULL) != SQLITE_OK) {
		fail(l, "cannot read events");
		goto out;
	}
	sqlite3_bind_int64(s, 1, a->chart_from);
	sqlite3_bind_int64(s, 2, a->chart_to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a->oom = xrealloc(a->oom, (a->noom + 1) * sizeof(*a->oom));
		a->oom[a->noom++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	rc = rc == SQLITE_DONE ? 0 : fail(l, "cannot read events");
out:
	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	free(p);
	return rc;
}

/* The incident's row and its member events. Return 0, 1, or -1. */
static int load_members(struct agg *a, struct loader *l, const char *id)
{
	sqlite3_stmt *s;
	const char *t;
	int rc, sev;

	if (sqlite3_prepare_v2(l->db, "SELECT title, severity FROM incidents "
			       "WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
		return fail(l, "cannot read incidents");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(s, 0);
		a->title = xstrdup(t ? t : id);
		t = (const char *)sqlite3_column_text(s, 1);
		sev = rules_sev_parse(t ? t : "");
		a->severity = sev < 0 ? RULE_SEV_WARNING : (enum rule_sev)sev;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return fail(l, "cannot read incidents");
	snprintf(a->id, sizeof(a->id), "%s", id);
	/* Members without their messages: load_texts() reads the few that
	 * a report shows, so that memory does not grow with the incident. */
	if (sqlite3_prepare_v2(l->db, "SELECT e.id, e.rule_id, e.severity, "
			       "e.ts, e.ts_inferred, e.source_id, e.line_no, "
			       "NULL, s.name FROM events e JOIN sources s ON "
			       "s.id = e.source_id JOIN incident_events x ON "
			       "x.event_id = e.id WHERE x.incident_id = ?1", -1,
			       &s, NULL) != SQLITE_OK)
		return fail(l, "cannot read events");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (add_rows(a, l, s, true) < 0)
		return -1;
	return a->nev ? 0 : 1;
}

/* Markers around the incident: in the chart window, or in its source
 * between trigger and recovery when there are no times. */
static int load_markers(struct agg *a, struct loader *l)
{
	sqlite3_stmt *s;
	const struct agg_event *f = &a->ev[a->first];

	if (a->has_ts) {
		if (sqlite3_prepare_v2(l->db, EVENT_COLS "WHERE " MARKER_IN
				       "AND e.ts >= ?1 AND e.ts < ?2", -1, &s,
				       NULL) != SQLITE_OK)
			return fail(l, "cannot read events");
		sqlite3_bind_int64(s, 1, a->chart_from);
		sqlite3_bind_int64(s, 2, a->chart_to);
	} else {
		if (sqlite3_prepare_v2(l->db, EVENT_COLS "WHERE " MARKER_IN
				       "AND +e.source_id = ?1 AND e.ts IS NULL",
				       -1, &s, NULL) != SQLITE_OK)
			return fail(l, "cannot read events");
		sqlite3_bind_int64(s, 1, f->pos.source_id);
	}
	return add_rows(a, l, s, false);
}

/*
 * Read the messages of the events the writers show (evidence, timeline
 * rows, chain links, first and last of each rule, first critical); the
 * other members get an empty text. Return 0 or -1.
 */
static int load_texts(struct agg *a, struct loader *l)
{
	bool *need = xcalloc(a->nev ? a->nev : 1, sizeof(*need));
	sqlite3_stmt *s = NULL;
	size_t i, k;
	int rc = 0;

	need[a->first] = need[a->last] = true;
	if (a->first_critical != SIZE_MAX)
		need[a->first_critical] = true;
	for (k = 0; k < a->nsym; k++) {
		need[a->sym[k].first] = need[a->sym[k].last] = true;
		need[a->sym[k].peak_event] = true;
		for (i = 0; i < a->sym[k].nevidence; i++)
			need[a->sym[k].evidence[i]] = true;
	}
	for (i = 0; i < a->nrows; i++)
		need[a->rows[i].event] = true;
	for (k = 0; k < a->cause.nchains; k++) {
		size_t prev = SIZE_MAX;

		for (i = 0; i < a->cause.chains[k].n; i++) {
			prev = agg_link_event(a, a->cause.chains[k].node[i], prev);
			need[prev] = true;
		}
	}
	for (i = 0; i < a->nev && rc == 0; i++) {
		struct agg_event *e = &a->ev[i];

		if (e->message)
			continue;
		if (!need[i]) {
			e->message = e->headline = no_text;
			continue;
		}
		if (s == NULL &&
		    sqlite3_prepare_v2(l->db, "SELECT message FROM events "
				       "WHERE id = ?1", -1, &s,
				       NULL) != SQLITE_OK) {
			rc = fail(l, "cannot read events");
			break;
		}
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, e->id);
		if (sqlite3_step(s) != SQLITE_ROW) {
			rc = fail(l, "cannot read events");
			break;
		}
		set_text(l, e, sqlite3_column_text(s, 0) ?
			 (const char *)sqlite3_column_text(s, 0) : "");
	}
	sqlite3_finalize(s);
	free(need);
	return rc;
}

/* Find first/last member, trigger and recovery after a sort. */
static void index_events(struct agg *a, int64_t trig_id, int64_t rec_id)
{
	size_t i;

	a->first = a->last = SIZE_MAX;
	a->members = a->members_inferred = 0;
	for (i = 0; i < a->nev; i++) {
		if (!a->ev[i].member)
			continue;
		if (a->first == SIZE_MAX)
			a->first = i;
		a->last = i;
		a->members++;
		if (a->ev[i].time != AGG_TIME_OWN)
			a->members_inferred++;
	}
	a->trigger = event_index(a, trig_id);
	a->recovery = event_index(a, rec_id);
	a->first_critical = SIZE_MAX;
	for (i = a->first; i <= a->last && i < a->nev; i++)
		if (a->ev[i].member && a->ev[i].sev == RULE_SEV_CRITICAL) {
			a->first_critical = i;
			break;
		}
}

int agg_load(struct agg *a, sqlite3 *db, struct incident_markers *mk,
	     const char *db_path, const struct rules *rs, struct redact *red,
	     const char *id)
{
	struct loader l;
	struct incident_marker trig, rec;
	struct incident_node *nodes;
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	a->trigger = a->recovery = SIZE_MAX;
	a->cause.root = SIZE_MAX;
	memset(&trig, 0, sizeof(trig));
	memset(&rec, 0, sizeof(rec));
	memset(&l, 0, sizeof(l));
	l.db = db;
	l.path = db_path;
	l.rs = rs;
	l.red = red;
	l.cached_src = -1;
	buf_init(&l.tmp);
	rc = incidents_id_is_valid(id) ? load_members(a, &l, id) : 1;
	if (rc != 0)
		goto out;
	qsort(a->ev, a->nev, sizeof(*a->ev), ev_cmp);
	index_events(a, 0, 0);
	a->has_ts = a->ev[a->first].pos.has_ts;
	rc = -1;
	if (incidents_find_trigger(mk, &a->ev[a->first].pos, &trig) < 0 ||
	    incidents_find_recovery(mk, &a->ev[a->last].pos, &rec) < 0) {
		fail(&l, "cannot read events");
		goto out;
	}
	if (add_event_by_id(a, &l, trig.event_id) < 0 ||
	    add_event_by_id(a, &l, rec.event_id) < 0)
		goto out;
	qsort(a->ev, a->nev, sizeof(*a->ev), ev_cmp);
	index_events(a, trig.event_id, rec.event_id);
	if (a->has_ts)
		chart_window(a);
	if (load_markers(a, &l) < 0)
		goto out;
	qsort(a->ev, a->nev, sizeof(*a->ev), ev_cmp);
	index_events(a, trig.event_id, rec.event_id);
	/* Deploy markers for the charts, in time order. */
	for (i = 0; a->has_ts && i < a->nev; i++) {
		const struct agg_event *e = &a->ev[i];
		bool marker = e->member ?
			incidents_kind(e->rule_id, e->sev) == INCIDENT_CLOSER :
			(incidents_is_trigger_rule(e->rule_id) ||
			 strcmp(e->rule_id, "deploy.failed") == 0);

		if (!marker || !e->pos.has_ts || e->pos.ts < a->chart_from ||
		    e->pos.ts >= a->chart_to)
			continue;
		a->markers = xrealloc(a->markers, (a->nmarkers + 1) *
				      sizeof(*a->markers));
		a->markers[a->nmarkers++] = i;
	}
	build_symptoms(a);
	nodes = xcalloc(a->nsym ? a->nsym : 1, sizeof(*nodes));
	for (i = 0; i < a->nsym; i++) {
		nodes[i].rule_id = a->sym[i].rule_id;
		nodes[i].symptom = a->sym[i].symptom;
		nodes[i].count = a->sym[i].count;
		nodes[i].first = a->ev[a->sym[i].first].pos;
		nodes[i].last = a->ev[a->sym[i].last].pos;
	}
	incidents_cause(rs, nodes, a->nsym, &a->cause);
	free(nodes);
	build_rows(a);
	build_actions(a);
	if (load_texts(a, &l) < 0)
		goto out;
	if (a->has_ts && (load_counts(a, &l) < 0 || load_metrics(a, &l) < 0))
		goto out;
	rc = 0;
out:
	incident_marker_release(&trig);
	incident_marker_release(&rec);
	buf_release(&l.tmp);
	if (rc != 0)
		agg_release(a);
	return rc;
}

static void series_release(struct agg_series *s)
{
	size_t i;

	for (i = 0; i < s->ncols; i++)
		free(s->cols[i]);
	free(s->cols);
	free(s->counts);
}

void agg_release(struct agg *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nsources; i++)
		free(a->sources[i].name);
	for (i = 0; i < a->nev; i++) {
		free(a->ev[i].rule_id);
		if (a->ev[i].message != no_text)
			free(a->ev[i].message);
		if (a->ev[i].headline != no_text)
			free(a->ev[i].headline);
	}
	free(a->title);
	free(a->sources);
	free(a->ev);
	free(a->sym);
	incident_cause_release(&a->cause);
	free(a->rows);
	free(a->order);
	free(a->actions);
	series_release(&a->by_category);
	series_release(&a->by_status);
	free(a->markers);
	free(a->latency);
	free(a->memory);
	for (i = 0; i < a->nmemory_series; i++)
		free(a->memory_series[i]);
	free(a->memory_series);
	free(a->oom);
	memset(a, 0, sizeof(*a));
	a->trigger = a->recovery = SIZE_MAX;
}

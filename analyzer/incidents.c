/*
 * incidents.c - pipeline stage 6a: segment the stored events into
 * incidents, name them with stable ids, follow the rules' 'causes' edges
 * to the probable root cause, and find the trigger and the recovery
 * around each one. Writes the 'incidents' and 'incident_events' tables.
 */
#include "common.h"
#include "incidents.h"
#include "buf.h"
#include "diag.h"
#include "redact.h"
#include "store.h"
#include "timefmt.h"

#include <jansson.h>
#include <sqlite3.h>

/* The rule ids with a meaning for segmentation, trigger and recovery. */
static const char *const closer_rules[] = {
	"deploy.failed", "deploy.rollback",
};
static const char *const trigger_rules[] = {
	"deploy.started", "deploy.succeeded", "deploy.rollback", "db.migration",
};
static const char *const healthy_rules[] = {
	"health.check_passed", "app.startup_complete", "deploy.succeeded",
};

static bool in_list(const char *id, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(id, v[i]) == 0)
			return true;
	return false;
}

enum incident_kind incidents_kind(const char *rule_id, enum rule_sev sev)
{
	if (sev >= RULE_SEV_WARNING)
		return INCIDENT_SYMPTOM;
	if (in_list(rule_id, closer_rules, ARRAY_SIZE(closer_rules)))
		return INCIDENT_CLOSER;
	if (strcmp(rule_id, "deploy.started") == 0)
		return INCIDENT_OPENER;
	return INCIDENT_OTHER;
}

bool incidents_is_trigger_rule(const char *rule_id)
{
	return in_list(rule_id, trigger_rules, ARRAY_SIZE(trigger_rules));
}

bool incidents_is_healthy_rule(const char *rule_id)
{
	return in_list(rule_id, healthy_rules, ARRAY_SIZE(healthy_rules));
}

bool incidents_pos_before(const struct incident_pos *a,
			  const struct incident_pos *b)
{
	if (a->has_ts != b->has_ts)
		return false;
	if (a->has_ts && a->ts != b->ts)
		return a->ts < b->ts;
	return a->source_id == b->source_id && a->line_no < b->line_no;
}

/* The total order of the sort: untimed last, then time, source, line. */
static int pos_cmp(const struct incident_pos *a, const struct incident_pos *b)
{
	if (a->has_ts != b->has_ts)
		return a->has_ts ? -1 : 1;
	if (a->has_ts && a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->source_id != b->source_id)
		return a->source_id < b->source_id ? -1 : 1;
	if (a->line_no != b->line_no)
		return a->line_no < b->line_no ? -1 : 1;
	return 0;
}

static int event_cmp(const void *pa, const void *pb)
{
	const struct incident_event *a = pa, *b = pb;
	int c = pos_cmp(&a->pos, &b->pos);

	if (c)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

void incidents_sort(struct incident_event *ev, size_t n)
{
	if (n > 1)
		qsort(ev, n, sizeof(*ev), event_cmp);
}

/* Can e continue the segment whose last member is at last? */
static bool joins(const struct incident_pos *last,
		  const struct incident_pos *e, int64_t gap_ms)
{
	if (last->has_ts != e->has_ts)
		return false;
	if (!last->has_ts)
		return last->source_id == e->source_id;
	return e->ts - last->ts <= gap_ms;
}

enum incident_step incidents_segment_step(struct incident_segmenter *sg,
					  const struct incident_event *e,
					  int64_t gap_ms)
{
	enum incident_step st = INCIDENT_STEP_NONE;

	switch (e->kind) {
	case INCIDENT_OPENER:
		sg->open = false;
		break;
	case INCIDENT_CLOSER:
		/* A closer joins only right after the segment's members:
		 * nothing but closers may come between. */
		if (sg->open && sg->prev_member &&
		    joins(&sg->last, &e->pos, gap_ms)) {
			sg->last = e->pos;
			sg->closed = true;
			st = INCIDENT_STEP_JOIN;
		}
		break;
	case INCIDENT_SYMPTOM:
		if (sg->open && !sg->closed && sg->prev_member &&
		    joins(&sg->last, &e->pos, gap_ms)) {
			st = INCIDENT_STEP_JOIN;
		} else {
			sg->open = true;
			sg->closed = false;
			st = INCIDENT_STEP_START;
		}
		sg->last = e->pos;
		break;
	case INCIDENT_OTHER:
		break;
	}
	sg->prev_member = st != INCIDENT_STEP_NONE;
	return st;
}

size_t incidents_segment(const struct incident_event *ev, size_t n,
			 int64_t gap_ms, struct incident_segment **out)
{
	struct incident_segmenter sg;
	struct incident_segment *seg = NULL;
	size_t nseg = 0, i;

	memset(&sg, 0, sizeof(sg));
	for (i = 0; i < n; i++) {
		switch (incidents_segment_step(&sg, &ev[i], gap_ms)) {
		case INCIDENT_STEP_START:
			seg = xrealloc(seg, (nseg + 1) * sizeof(*seg));
			seg[nseg].first = i;
			seg[nseg].n = 1;
			nseg++;
			break;
		case INCIDENT_STEP_JOIN:
			seg[nseg - 1].n++;
			break;
		case INCIDENT_STEP_NONE:
			break;
		}
	}
	*out = seg;
	return nseg;
}

const char *incidents_verdict_name(enum incident_verdict v)
{
	switch (v) {
	case INCIDENT_SINGLE: return "single";
	case INCIDENT_ONE_CAUSE: return "one";
	case INCIDENT_UNCONNECTED: return "unconnected";
	}
	return "unknown";
}

/* Depth-first search for the longest simple path from a node. */
struct path_search {
	const bool *adj;        /* n x n */
	size_t n;
	bool *on_path;
	size_t *path, plen;
	size_t *best, blen;
	long budget;
};

static void longest_from(struct path_search *ps, size_t v)
{
	size_t w;

	if (ps->budget-- <= 0)
		return;
	ps->on_path[v] = true;
	ps->path[ps->plen++] = v;
	if (ps->plen > ps->blen) {
		memcpy(ps->best, ps->path, ps->plen * sizeof(*ps->path));
		ps->blen = ps->plen;
	}
	for (w = 0; w < ps->n; w++)
		if (ps->adj[v * ps->n + w] && !ps->on_path[w])
			longest_from(ps, w);
	ps->plen--;
	ps->on_path[v] = false;
}

static bool has_cause(const struct rule *r, const char *id)
{
	size_t i;

	for (i = 0; r && i < r->causes.n; i++)
		if (strcmp(r->causes.v[i], id) == 0)
			return true;
	return false;
}

void incidents_cause(const struct rules *rs,
		     const struct incident_node *nodes, size_t n,
		     struct incident_cause *out)
{
	bool *adj, *reach, *placed;
	size_t *heads, nheads = 0, nsym = 0, a, b, k;
	struct path_search ps;
	bool changed;

	memset(out, 0, sizeof(*out));
	out->root = SIZE_MAX;
	out->untimed = true;
	if (n == 0)
		return;
	adj = xcalloc(n * n, sizeof(*adj));
	reach = xcalloc(n * n, sizeof(*reach));
	placed = xcalloc(n, sizeof(*placed));
	heads = xcalloc(n, sizeof(*heads));
	for (a = 0; a < n; a++) {
		const struct rule *r = rules_find(rs, nodes[a].rule_id);

		if (nodes[a].first.has_ts)
			out->untimed = false;
		if (nodes[a].symptom)
			nsym++;
		for (b = 0; b < n; b++)
			if (a != b && has_cause(r, nodes[b].rule_id) &&
			    !incidents_pos_before(&nodes[b].last,
						  &nodes[a].first))
				adj[a * n + b] = reach[a * n + b] = true;
	}
	/* Transitive closure (Warshall); incidents have few distinct rules. */
	for (k = 0; k < n; k++)
		for (a = 0; a < n; a++)
			if (reach[a * n + k])
				for (b = 0; b < n; b++)
					if (reach[k * n + b])
						reach[a * n + b] = true;
	/*
	 * A head is a symptom no other symptom leads to; of symptoms that
	 * lead to each other, the earliest is the head.
	 */
	for (b = 0; b < n; b++) {
		bool led = false;

		if (!nodes[b].symptom)
			continue;
		for (a = 0; a < n && !led; a++)
			if (a != b && nodes[a].symptom && reach[a * n + b] &&
			    (!reach[b * n + a] || a < b))
				led = true;
		if (!led)
			heads[nheads++] = b;
	}
	if (nheads == 0) {
		/* Unreachable by the argument above; keep the first symptom. */
		for (b = 0; b < n && !nodes[b].symptom; b++)
			;
		heads[nheads++] = b < n ? b : 0;
	}
	if (nheads == 1) {
		out->verdict = nsym <= 1 ? INCIDENT_SINGLE : INCIDENT_ONE_CAUSE;
		out->root = heads[0];
	} else {
		out->verdict = INCIDENT_UNCONNECTED;
	}
	/* The longest path from each head. */
	memset(&ps, 0, sizeof(ps));
	ps.adj = adj;
	ps.n = n;
	ps.on_path = xcalloc(n, sizeof(*ps.on_path));
	ps.path = xcalloc(n, sizeof(*ps.path));
	ps.best = xcalloc(n, sizeof(*ps.best));
	out->chains = xcalloc(nheads, sizeof(*out->chains));
	out->nchains = nheads;
	for (k = 0; k < nheads; k++) {
		ps.plen = ps.blen = 0;
		ps.budget = INCIDENTS_PATH_BUDGET;
		longest_from(&ps, heads[k]);
		out->chains[k].node = xcalloc(ps.blen ? ps.blen : 1,
					      sizeof(size_t));
		memcpy(out->chains[k].node, ps.best, ps.blen * sizeof(size_t));
		out->chains[k].n = ps.blen;
		for (a = 0; a < ps.blen; a++)
			placed[ps.best[a]] = true;
	}
	/* Nodes reached off the chains hang on the earliest node leading
	 * to them, until nothing more is reached. */
	do {
		changed = false;
		for (b = 0; b < n; b++) {
			if (placed[b])
				continue;
			for (a = 0; a < n; a++)
				if (placed[a] && adj[a * n + b])
					break;
			if (a == n)
				continue;
			out->branches = xrealloc(out->branches,
				(out->nbranches + 1) * sizeof(*out->branches));
			out->branches[out->nbranches].from = a;
			out->branches[out->nbranches].to = b;
			out->nbranches++;
			placed[b] = true;
			changed = true;
		}
	} while (changed);
	for (b = 0; b < n; b++) {
		if (placed[b])
			continue;
		out->loose = xrealloc(out->loose,
				      (out->nloose + 1) * sizeof(*out->loose));
		out->loose[out->nloose++] = b;
	}
	free(ps.on_path);
	free(ps.path);
	free(ps.best);
	free(adj);
	free(reach);
	free(placed);
	free(heads);
}

void incident_cause_release(struct incident_cause *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nchains; i++)
		free(c->chains[i].node);
	free(c->chains);
	free(c->branches);
	free(c->loose);
	memset(c, 0, sizeof(*c));
	c->root = SIZE_MAX;
}

void incidents_make_id(const struct incident_pos *start, const char *rule_id,
		       const char *message, char out[INCIDENTS_ID_SIZE])
{
	static const char marker[] = "[REDACTED:";
	struct buf key;
	const char *p = message;
	uint64_t h;

	/* rule, line, time, message without the keyed part of markers */
	buf_init(&key);
	buf_addf(&key, "%s\n%" PRIu64 "\n", rule_id, start->line_no);
	if (start->has_ts)
		buf_addf(&key, "%" PRId64 "\n", start->ts);
	else
		buf_adds(&key, "-\n");
	while (*p) {
		const char *m = strstr(p, marker);

		if (m == NULL || strlen(m) < REDACT_MARKER_LEN) {
			buf_adds(&key, p);
			break;
		}
		buf_add(&key, p, (size_t)(m - p));
		buf_adds(&key, "[REDACTED]");
		p = m + REDACT_MARKER_LEN;
	}
	h = fnv1a64(key.p, key.len);
	buf_release(&key);
	if (start->has_ts) {
		char t[TIMEFMT_BUF_SIZE];

		timefmt_format(start->ts, t, sizeof(t));
		/* "2026-02-24 10:15:02" -> "20260224-1015" */
		snprintf(out, INCIDENTS_ID_SIZE,
			 "inc-%.4s%.2s%.2s-%.2s%.2s-%06" PRIx64, t, t + 5,
			 t + 8, t + 11, t + 14, h >> 40);
	} else {
		snprintf(out, INCIDENTS_ID_SIZE, "inc-notime-%06" PRIx64, h >> 40);
	}
}

bool incidents_id_is_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n >= INCIDENTS_ID_SIZE)
		return false;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
			return false;
	return true;
}

/* ---- reading events ------------------------------------------------ */

static int sql_fail(sqlite3 *db, const char *path, const char *what)
{
	int code = sqlite3_errcode(db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return error("%s: database is busy: another logtriage run holds "
			     "it", path), STORE_ERR_BUSY;
	error("%s: %s: %s", path, what, sqlite3_errmsg(db));
	return STORE_ERR;
}

/* The first time in a source, in line order; *has false when none. */
#define SOURCE_FIRST_TS "SELECT ts FROM events WHERE source_id = ?1 AND " \
			"ts IS NOT NULL ORDER BY line_no LIMIT 1"

static int source_first_ts(sqlite3 *db, int64_t source_id, int64_t *ts,
			   bool *has)
{
	sqlite3_stmt *s;
	int rc;

	*has = false;
	if (sqlite3_prepare_v2(db, SOURCE_FIRST_TS, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, source_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ts = sqlite3_column_int64(s, 0);
		*has = true;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int incidents_event_pos(sqlite3 *db, int64_t source_id, uint64_t line_no,
			bool has_ts, int64_t ts, struct incident_pos *out)
{
	out->source_id = source_id;
	out->line_no = line_no;
	out->ts = ts;
	out->has_ts = has_ts;
	if (has_ts)
		return 0;
	return source_first_ts(db, source_id, &out->ts, &out->has_ts);
}

/* Interned rule ids, sorted, for the events of one detection. */
struct intern {
	char **v;
	size_t n;
};

static const char *intern(struct intern *in, const char *s)
{
	size_t lo = 0, hi = in->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(in->v[mid], s);

		if (c == 0)
			return in->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	in->v = xrealloc(in->v, (in->n + 1) * sizeof(*in->v));
	memmove(in->v + lo + 1, in->v + lo, (in->n - lo) * sizeof(*in->v));
	in->v[lo] = xstrdup(s);
	in->n++;
	return in->v[lo];
}

static void strlist_push(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static void intern_release(struct intern *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		free(in->v[i]);
	free(in->v);
}

/*
 * The events segmentation looks at, read in the order of incidents_sort()
 * without holding them all: memory is the events of one millisecond and
 * of the incident being built, whatever the size of the database (holding
 * them all took 112 bytes an event, 70 MiB for a million).
 *
 * Two queries give that order, merged here:
 *   - timed events walk the events_ts index: time order, and rows of one
 *     millisecond are collected and sorted here (the index gives them in
 *     id order). SQLite sorting all of them itself cost twice the walk
 *     (0.20 s against 0.11 s for 214,000 events);
 *   - events without a time of their own (few: the heads of sources,
 *     sources without times) are sorted by SQLite on their effective
 *     time, the first time of their source, computed once per source.
 * Rows on one line (several rules fired on it) are sorted here too: the
 * kind of an event decides among them, and only incidents_kind() knows
 * kinds.
 */
#define SEGMENT_FILTER "(severity <> 'info' OR rule_id IN " \
		       "('deploy.started', 'deploy.failed', 'deploy.rollback'))"

/* From time ?1 on (detect_window); events without any time always. */
static const char *const stream_sql[2] = {
	"SELECT id, rule_id, severity, ts, source_id, line_no FROM events "
	"WHERE ts >= ?1 AND " SEGMENT_FILTER " ORDER BY ts",
	"WITH f(sid, fts) AS MATERIALIZED (SELECT d.source_id, (SELECT x.ts "
	"FROM events x WHERE x.source_id = d.source_id AND x.ts IS NOT NULL "
	"ORDER BY x.line_no LIMIT 1) FROM (SELECT DISTINCT source_id FROM "
	"events WHERE ts IS NULL) d) "
	"SELECT id, rule_id, severity, (SELECT fts FROM f WHERE sid = "
	"source_id) AS ets, source_id, line_no FROM events WHERE ts IS NULL "
	"AND " SEGMENT_FILTER " AND (ets IS NULL OR ets >= ?1) "
	"ORDER BY ets IS NULL, ets, source_id, line_no",
};

/* One of the two queries, a group of rows at a time. */
struct ev_stream {
	sqlite3_stmt *s;
	bool by_line;           /* groups: one line (else one millisecond) */
	bool done;              /* the query has no more rows */
	bool have_ahead;        /* ahead: the first row of the next group */
	struct incident_event ahead;
	struct incident_event *grp;     /* owned; sorted */
	size_t ngrp, cap, next;
};

static void stream_row(sqlite3_stmt *s, struct intern *names,
		       struct incident_event *e)
{
	const char *rule = (const char *)sqlite3_column_text(s, 1);
	const char *sev = (const char *)sqlite3_column_text(s, 2);
	int sv = rules_sev_parse(sev ? sev : "");

	e->id = sqlite3_column_int64(s, 0);
	e->rule_id = intern(names, rule ? rule : "");
	e->sev = sv < 0 ? RULE_SEV_INFO : (enum rule_sev)sv;
	e->kind = incidents_kind(e->rule_id, e->sev);
	e->pos.has_ts = sqlite3_column_type(s, 3) != SQLITE_NULL;
	e->pos.ts = e->pos.has_ts ? sqlite3_column_int64(s, 3) : 0;
	e->pos.source_id = sqlite3_column_int64(s, 4);
	e->pos.line_no = (uint64_t)sqlite3_column_int64(s, 5);
}

static bool same_group(const struct ev_stream *es,
		       const struct incident_event *a,
		       const struct incident_event *b)
{
	if (!es->by_line)
		return a->pos.ts == b->pos.ts;
	return a->pos.has_ts == b->pos.has_ts && a->pos.ts == b->pos.ts &&
	       a->pos.source_id == b->pos.source_id &&
	       a->pos.line_no == b->pos.line_no;
}

/* Read the next group. Return 0 (es->ngrp is 0 at the end) or -1. */
static int stream_fill(struct ev_stream *es, struct intern *names)
{
	es->ngrp = 0;
	es->next = 0;
	if (es->have_ahead) {
		es->grp[es->ngrp++] = es->ahead;
		es->have_ahead = false;
	}
	while (!es->done) {
		struct incident_event e;
		int rc = sqlite3_step(es->s);

		if (rc == SQLITE_DONE) {
			es->done = true;
			break;
		}
		if (rc != SQLITE_ROW)
			return -1;
		stream_row(es->s, names, &e);
		if (es->ngrp > 0 && !same_group(es, &es->grp[0], &e)) {
			es->ahead = e;
			es->have_ahead = true;
			break;
		}
		if (es->ngrp == es->cap) {
			es->cap = es->cap ? 2 * es->cap : 64;
			es->grp = xrealloc(es->grp, es->cap * sizeof(*es->grp));
		}
		es->grp[es->ngrp++] = e;
	}
	incidents_sort(es->grp, es->ngrp);
	return 0;
}

/* The stream's next event, NULL at the end; *err set on an error. */
static const struct incident_event *stream_peek(struct ev_stream *es,
						struct intern *names,
						bool *err)
{
	if (es->next == es->ngrp) {
		if (es->cap == 0) {
			es->cap = 64;
			es->grp = xmalloc(es->cap * sizeof(*es->grp));
		}
		if (stream_fill(es, names) < 0) {
			*err = true;
			return NULL;
		}
	}
	return es->next < es->ngrp ? &es->grp[es->next] : NULL;
}

static void stream_release(struct ev_stream *es)
{
	sqlite3_finalize(es->s);
	free(es->grp);
	memset(es, 0, sizeof(*es));
}

static char *event_message(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *s;
	char *msg = NULL;

	if (sqlite3_prepare_v2(db, "SELECT message FROM events WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return xstrdup("");
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		msg = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return msg ? msg : xstrdup("");
}

/* ---- markers around an incident ------------------------------------ */

void incident_marker_release(struct incident_marker *m)
{
	if (m == NULL)
		return;
	free(m->rule_id);
	memset(m, 0, sizeof(*m));
}

static void marker_from_row(sqlite3_stmt *s, struct incident_marker *m)
{
	m->event_id = sqlite3_column_int64(s, 0);
	free(m->rule_id);
	m->rule_id = xstrdup((const char *)sqlite3_column_text(s, 1));
	m->pos.has_ts = sqlite3_column_type(s, 2) != SQLITE_NULL;
	m->pos.ts = m->pos.has_ts ? sqlite3_column_int64(s, 2) : 0;
	m->ts_own = m->pos.has_ts && sqlite3_column_int(s, 3) == 0;
	m->pos.source_id = sqlite3_column_int64(s, 4);
	m->pos.line_no = (uint64_t)sqlite3_column_int64(s, 5);
}

/*
 * Marker queries: the markers without a time are few (heads of sources,
 * sources without times), so "+source_id" keeps SQLite on the (rule_id,
 * ts) index instead of walking a large source line by line.
 */
#define MARKER_COLS "SELECT id, rule_id, ts, ts_inferred, source_id, line_no " \
		    "FROM events "
#define TRIGGER_IN "rule_id IN ('deploy.started', 'deploy.succeeded', " \
		   "'deploy.rollback', 'db.migration') "
#define HEALTHY_IN "rule_id IN ('health.check_passed', " \
		   "'app.startup_complete', 'deploy.succeeded') "

/*
 * The marker queries, prepared once for every incident of a detection or
 * a report. A timed marker is looked for rule by rule, each query walking
 * the (rule_id, ts) index in order to its first row, and the nearest of
 * those wins (two rules on one line by row id). One query with "rule_id
 * IN (...)" had SQLite sort every marker of the day around the incident
 * first: on the benchmark's event-heavy export, 10,000 health checks,
 * 8-17 ms for each incident of a report.
 */
enum {
	MK_TRIGGER_UNTIMED,     /* ?1 source, ?2 line */
	MK_TRIGGER_TIMED,       /* ?1 time, ?2 reach, ?3 source, ?4 line,
				   ?5 rule */
	MK_RECOVERY_UNTIMED,
	MK_RECOVERY_TIMED,
	MK_SOURCE_FIRST_TS,     /* ?1 source */
	MK_COUNT
};

static const char *const mk_sql[MK_COUNT] = {
	[MK_TRIGGER_UNTIMED] = MARKER_COLS "WHERE " TRIGGER_IN "AND ts IS "
		"NULL AND +source_id = ?1 AND line_no < ?2 ORDER BY line_no "
		"DESC, id DESC LIMIT 1",
	/* not after the first symptom's line on its millisecond */
	[MK_TRIGGER_TIMED] = MARKER_COLS "WHERE rule_id = ?5 AND ts BETWEEN "
		"?1 - ?2 AND ?1 AND NOT (ts = ?1 AND source_id = ?3 AND "
		"line_no > ?4) ORDER BY ts DESC, source_id DESC, line_no DESC "
		"LIMIT 1",
	[MK_RECOVERY_UNTIMED] = MARKER_COLS "WHERE " HEALTHY_IN "AND ts IS "
		"NULL AND +source_id = ?1 AND line_no > ?2 ORDER BY line_no, "
		"id LIMIT 1",
	/* after the last symptom's line on its millisecond */
	[MK_RECOVERY_TIMED] = MARKER_COLS "WHERE rule_id = ?5 AND ts BETWEEN "
		"?1 AND ?1 + ?2 AND NOT (ts = ?1 AND source_id = ?3 AND "
		"line_no <= ?4) ORDER BY ts, source_id, line_no LIMIT 1",
	[MK_SOURCE_FIRST_TS] = SOURCE_FIRST_TS,
};

struct incident_markers {
	sqlite3 *db;
	sqlite3_stmt *s[MK_COUNT];      /* prepared when first used */
};

struct incident_markers *incident_markers_new(sqlite3 *db)
{
	struct incident_markers *mk = xcalloc(1, sizeof(*mk));

	mk->db = db;
	return mk;
}

void incident_markers_free(struct incident_markers *mk)
{
	size_t i;

	if (mk == NULL)
		return;
	for (i = 0; i < MK_COUNT; i++)
		sqlite3_finalize(mk->s[i]);
	free(mk);
}

/* Query k with its parameters bound (p[0] as ?1 ...; rule as ?5 when
 * not NULL), or NULL. */
static sqlite3_stmt *mk_query(struct incident_markers *mk, int k,
			      const int64_t *p, size_t np, const char *rule)
{
	sqlite3_stmt *s = mk->s[k];
	size_t i;

	if (s == NULL &&
	    sqlite3_prepare_v3(mk->db, mk_sql[k], -1,
			       SQLITE_PREPARE_PERSISTENT, &mk->s[k],
			       NULL) != SQLITE_OK)
		return NULL;
	s = mk->s[k];
	sqlite3_reset(s);
	for (i = 0; i < np; i++)
		sqlite3_bind_int64(s, (int)i + 1, p[i]);
	if (rule != NULL)
		sqlite3_bind_text(s, 5, rule, -1, SQLITE_STATIC);
	return s;
}

/* The first row of query k into *out (untouched when none). Return 0
 * or -1. */
static int mk_first(struct incident_markers *mk, int k, const int64_t *p,
		    size_t np, const char *rule, struct incident_marker *out)
{
	sqlite3_stmt *s = mk_query(mk, k, p, np, rule);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		marker_from_row(s, out);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The order of timed markers: time, source, line, then the row's id. */
static int marker_cmp(const struct incident_marker *a,
		      const struct incident_marker *b)
{
	int c = pos_cmp(&a->pos, &b->pos);

	if (c)
		return c;
	return a->event_id < b->event_id ? -1 : a->event_id > b->event_id;
}

/* The nearest timed marker of the rules ids[] around pos: the latest
 * before it (last), else the earliest after it. Return 0 or -1. */
static int mk_nearest(struct incident_markers *mk, int k,
		      const char *const *ids, size_t n, int64_t reach,
		      const struct incident_pos *pos, bool last,
		      struct incident_marker *out)
{
	const int64_t p[4] = { pos->ts, reach, pos->source_id,
			       (int64_t)pos->line_no };
	size_t i;

	for (i = 0; i < n; i++) {
		struct incident_marker m;
		int c;

		memset(&m, 0, sizeof(m));
		if (mk_first(mk, k, p, 4, ids[i], &m) < 0) {
			incident_marker_release(&m);
			return -1;
		}
		c = m.event_id ? marker_cmp(&m, out) : 0;
		if (m.event_id && (out->event_id == 0 || (last ? c > 0 :
							  c < 0))) {
			incident_marker_release(out);
			*out = m;
		} else {
			incident_marker_release(&m);
		}
	}
	return 0;
}

int incidents_find_trigger(struct incident_markers *mk,
			   const struct incident_pos *first,
			   struct incident_marker *out)
{
	const int64_t at[2] = { first->source_id, (int64_t)first->line_no };
	struct incident_marker head;
	sqlite3_stmt *s;
	int64_t src_ts = 0;
	bool src_has = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!first->has_ts)
		return mk_first(mk, MK_TRIGGER_UNTIMED, at, 2, NULL, out);
	if (mk_nearest(mk, MK_TRIGGER_TIMED, trigger_rules,
		       ARRAY_SIZE(trigger_rules), INCIDENTS_TRIGGER_LOOKBACK_MS,
		       first, true, out) < 0)
		return -1;
	/* A marker with no time at the head of the first symptom's source
	 * sits at its source's first time, before every timed line. */
	memset(&head, 0, sizeof(head));
	if (mk_first(mk, MK_TRIGGER_UNTIMED, at, 2, NULL, &head) < 0 ||
	    (s = mk_query(mk, MK_SOURCE_FIRST_TS, at, 1, NULL)) == NULL) {
		incident_marker_release(&head);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		src_ts = sqlite3_column_int64(s, 0);
		src_has = true;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		incident_marker_release(&head);
		return -1;
	}
	if (head.event_id && src_has &&
	    (out->event_id == 0 || out->pos.ts < src_ts)) {
		head.pos.ts = src_ts;
		head.pos.has_ts = true;
		incident_marker_release(out);
		*out = head;
	} else {
		incident_marker_release(&head);
	}
	return 0;
}

int incidents_find_recovery(struct incident_markers *mk,
			    const struct incident_pos *last,
			    struct incident_marker *out)
{
	const int64_t at[2] = { last->source_id, (int64_t)last->line_no };

	memset(out, 0, sizeof(*out));
	if (!last->has_ts)
		return mk_first(mk, MK_RECOVERY_UNTIMED, at, 2, NULL, out);
	return mk_nearest(mk, MK_RECOVERY_TIMED, healthy_rules,
			  ARRAY_SIZE(healthy_rules),
			  INCIDENTS_RECOVERY_LOOKAHEAD_MS, last, false, out);
}

/* ---- detection ------------------------------------------------------ */

/* The nodes of a segment: one per rule, in order of first appearance. */
static size_t segment_nodes(const struct incident_event *ev, size_t n,
			    struct incident_node **out)
{
	struct incident_node *nodes = NULL;
	size_t nn = 0, i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < nn; k++)
			if (nodes[k].rule_id == ev[i].rule_id)
				break;
		if (k == nn) {
			nodes = xrealloc(nodes, (nn + 1) * sizeof(*nodes));
			nodes[nn].rule_id = ev[i].rule_id;
			nodes[nn].symptom = ev[i].kind == INCIDENT_SYMPTOM;
			nodes[nn].count = 0;
			nodes[nn].first = ev[i].pos;
			nn++;
		}
		nodes[k].count++;
		nodes[k].last = ev[i].pos;
	}
	*out = nodes;
	return nn;
}

/* "Title (2026-02-24)" from the cause, or the chains' heads. */
static char *make_title(const struct rules *rs,
			const struct incident_node *nodes,
			const struct incident_cause *c,
			const struct incident_pos *start)
{
	struct buf b;
	size_t k;
	char t[TIMEFMT_BUF_SIZE];

	buf_init(&b);
	for (k = 0; k < c->nchains && k < 2; k++) {
		const char *id = nodes[c->chains[k].node[0]].rule_id;
		const struct rule *r = rules_find(rs, id);

		buf_addf(&b, "%s%s", k ? "; " : "", r ? r->title : id);
	}
	if (c->nchains > 2)
		buf_addf(&b, " and %zu more", c->nchains - 2);
	if (start->has_ts) {
		timefmt_format(start->ts, t, sizeof(t));
		buf_addf(&b, " (%.10s)", t);
	} else {
		buf_adds(&b, " (date unknown)");
	}
	return buf_detach(&b, NULL);
}

static json_t *chain_json(const struct incident_node *nodes,
			  const struct incident_chain *ch)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < ch->n; i++)
		json_array_append_new(a, json_string(nodes[ch->node[i]].rule_id));
	return a;
}

/* Everything about one segment: id, title, cause, trigger, details. */
static int describe(sqlite3 *db, struct incident_markers *mk,
		    const struct rules *rs, int64_t gap_ms,
		    const struct incident_event *ev, size_t n,
		    struct incident_summary *sum)
{
	struct incident_node *nodes;
	struct incident_cause cause;
	struct incident_marker trig;
	json_t *d, *chains, *counts;
	size_t nn, i;
	char *msg;
	int sev = RULE_SEV_WARNING;

	memset(sum, 0, sizeof(*sum));
	nn = segment_nodes(ev, n, &nodes);
	incidents_cause(rs, nodes, nn, &cause);
	msg = event_message(db, ev[0].id);
	incidents_make_id(&ev[0].pos, ev[0].rule_id, msg, sum->id);
	free(msg);
	for (i = 0; i < n; i++)
		if (ev[i].kind == INCIDENT_SYMPTOM && (int)ev[i].sev > sev)
			sev = (int)ev[i].sev;
	sum->severity = (enum rule_sev)sev;
	sum->has_ts = ev[0].pos.has_ts;
	sum->start_ts = ev[0].pos.ts;
	sum->end_ts = ev[n - 1].pos.ts;
	sum->events = n;
	if (cause.root != SIZE_MAX)
		sum->root_rule = xstrdup(nodes[cause.root].rule_id);
	sum->title = make_title(rs, nodes, &cause, &ev[0].pos);
	if (incidents_find_trigger(mk, &ev[0].pos, &trig) < 0) {
		incident_marker_release(&trig);
		incident_cause_release(&cause);
		free(nodes);
		return -1;
	}
	d = json_object();
	chains = json_array();
	for (i = 0; i < cause.nchains; i++)
		json_array_append_new(chains, chain_json(nodes, &cause.chains[i]));
	counts = json_object();
	for (i = 0; i < nn; i++)
		json_object_set_new(counts, nodes[i].rule_id,
				    json_integer((json_int_t)nodes[i].count));
	json_object_set_new(d, "verdict",
			    json_string(incidents_verdict_name(cause.verdict)));
	json_object_set_new(d, "untimed", json_boolean(cause.untimed));
	json_object_set_new(d, "chains", chains);
	json_object_set_new(d, "rules", counts);
	json_object_set_new(d, "events", json_integer((json_int_t)n));
	json_object_set_new(d, "gap_ms", json_integer(gap_ms));
	json_object_set_new(d, "first_event_id", json_integer(ev[0].id));
	json_object_set_new(d, "last_event_id", json_integer(ev[n - 1].id));
	if (trig.event_id) {
		json_t *t = json_object();

		json_object_set_new(t, "rule", json_string(trig.rule_id));
		json_object_set_new(t, "event_id", json_integer(trig.event_id));
		if (trig.pos.has_ts && ev[0].pos.has_ts)
			json_object_set_new(t, "gap_ms",
				json_integer(ev[0].pos.ts - trig.pos.ts));
		json_object_set_new(d, "trigger", t);
	} else {
		json_object_set_new(d, "trigger", json_null());
	}
	sum->details = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	if (sum->details == NULL)
		sum->details = xstrdup("{}");
	json_decref(d);
	incident_marker_release(&trig);
	incident_cause_release(&cause);
	free(nodes);
	return 0;
}

static void summary_release(struct incident_summary *s)
{
	free(s->root_rule);
	free(s->title);
	free(s->details);
	memset(s, 0, sizeof(*s));
}

void incident_list_release(struct incident_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		summary_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int summary_cmp(const void *pa, const void *pb)
{
	const struct incident_summary *a = pa, *b = pb;

	if (a->has_ts != b->has_ts)
		return a->has_ts ? -1 : 1;
	if (a->has_ts && a->start_ts != b->start_ts)
		return a->start_ts < b->start_ts ? -1 : 1;
	return strcmp(a->id, b->id);
}

/*
 * Links of an incident to its events go LINK_ROWS to a statement: the
 * cost of a statement (about 10,000 instructions in SQLite) then counts
 * once per LINK_ROWS events instead of once per event.
 */
#define LINK_ROWS 32

/* The statement linking incident ?1 to events ?2 .. ?(rows + 1). */
static int prepare_link(sqlite3 *db, unsigned rows, sqlite3_stmt **out)
{
	struct buf sql;
	unsigned r;
	int rc;

	buf_init(&sql);
	buf_adds(&sql, "INSERT OR IGNORE INTO incident_events(incident_id, "
		 "event_id) VALUES ");
	for (r = 0; r < rows; r++)
		buf_addf(&sql, "%s(?1, ?%u)", r ? ", " : "", r + 2);
	rc = sqlite3_prepare_v2(db, sql.p, -1, out, NULL);
	buf_release(&sql);
	return rc;
}

/* The ids of the incidents found so far (open addressing). */
struct idset {
	char (*v)[INCIDENTS_ID_SIZE];   /* owned; "" is a free slot */
	size_t n, cap;                  /* cap: 0 or a power of two */
};

static size_t idset_slot(const struct idset *s, const char *id)
{
	size_t i = (size_t)fnv1a64(id, strlen(id)) & (s->cap - 1);

	while (s->v[i][0] != '\0' && strcmp(s->v[i], id) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static bool idset_has(const struct idset *s, const char *id)
{
	return s->cap > 0 && s->v[idset_slot(s, id)][0] != '\0';
}

static void idset_add(struct idset *s, const char *id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct idset g = { NULL, 0, s->cap ? 2 * s->cap : 64 };

		g.v = xcalloc(g.cap, sizeof(*g.v));
		for (i = 0; i < s->cap; i++)
			if (s->v[i][0] != '\0')
				memcpy(g.v[idset_slot(&g, s->v[i])], s->v[i],
				       sizeof(*g.v));
		g.n = s->n;
		free(s->v);
		*s = g;
	}
	i = idset_slot(s, id);
	if (s->v[i][0] == '\0') {
		snprintf(s->v[i], sizeof(s->v[i]), "%s", id);
		s->n++;
	}
}

static int load_list(sqlite3 *db, const char *db_path, const char *sql,
		     int64_t p1, struct incident_list *out);

/* Detection as it goes: the incident being built and what is written. */
struct detect {
	sqlite3 *db;
	const char *path;
	const struct rules *rs;
	int64_t gap_ms;
	struct incident_event *seg;     /* owned: the incident being built */
	size_t nseg, capseg;
	size_t found;                   /* incidents found so far */
	struct idset ids;               /* their ids */
	struct incident_list *out;      /* or NULL */
	size_t capout;
	sqlite3_stmt *stored, *up, *del_links, *link, *links;
	struct incident_markers *mk;    /* owned */
};

static void seg_push(struct detect *d, const struct incident_event *e)
{
	if (d->nseg == d->capseg) {
		d->capseg = d->capseg ? 2 * d->capseg : 256;
		d->seg = xrealloc(d->seg, d->capseg * sizeof(*d->seg));
	}
	d->seg[d->nseg++] = *e;
}

/*
 * Write one incident unless it is stored already with the same title and
 * details (which name its first and last event and count them): most of
 * a detection over events seen before writes nothing.
 */
static int write_one(struct detect *d, const struct incident_summary *s)
{
	sqlite3_stmt *up = d->up;
	bool same = false;
	size_t k;
	int rc;

	sqlite3_reset(d->stored);
	sqlite3_bind_text(d->stored, 1, s->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(d->stored);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(d->stored, 0);
		const char *x = (const char *)sqlite3_column_text(d->stored, 1);

		same = t && x && strcmp(t, s->title) == 0 &&
		       strcmp(x, s->details) == 0;
	} else if (rc != SQLITE_DONE) {
		return sql_fail(d->db, d->path, "cannot read incidents");
	}
	sqlite3_reset(d->stored);
	if (same)
		return 0;
	sqlite3_reset(up);
	sqlite3_bind_text(up, 1, s->id, -1, SQLITE_STATIC);
	if (s->has_ts) {
		sqlite3_bind_int64(up, 2, s->start_ts);
		sqlite3_bind_int64(up, 3, s->end_ts);
	} else {
		sqlite3_bind_null(up, 2);
		sqlite3_bind_null(up, 3);
	}
	sqlite3_bind_text(up, 4, rules_sev_name(s->severity), -1,
			  SQLITE_STATIC);
	if (s->root_rule)
		sqlite3_bind_text(up, 5, s->root_rule, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(up, 5);
	sqlite3_bind_text(up, 6, s->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 7, s->details, -1, SQLITE_STATIC);
	if (sqlite3_step(up) != SQLITE_DONE)
		return sql_fail(d->db, d->path, "cannot store incident");
	sqlite3_reset(d->del_links);
	sqlite3_bind_text(d->del_links, 1, s->id, -1, SQLITE_STATIC);
	if (sqlite3_step(d->del_links) != SQLITE_DONE)
		return sql_fail(d->db, d->path, "cannot store incident");
	for (k = 0; k < d->nseg;) {
		sqlite3_stmt *lk = d->nseg - k >= LINK_ROWS ? d->links : d->link;
		unsigned r, rows = lk == d->links ? LINK_ROWS : 1;

		sqlite3_reset(lk);
		sqlite3_bind_text(lk, 1, s->id, -1, SQLITE_STATIC);
		for (r = 0; r < rows; r++)
			sqlite3_bind_int64(lk, (int)r + 2, d->seg[k++].id);
		if (sqlite3_step(lk) != SQLITE_DONE)
			return sql_fail(d->db, d->path, "cannot link events");
	}
	return 0;
}

/* The incident being built is complete: describe and write it. */
static int finish(struct detect *d)
{
	struct incident_summary sum;
	int rc;

	if (d->nseg == 0)
		return 0;
	if (describe(d->db, d->mk, d->rs, d->gap_ms, d->seg, d->nseg,
		     &sum) < 0) {
		summary_release(&sum);
		return sql_fail(d->db, d->path, "cannot read events");
	}
	/* Two incidents with one id (a hash collision): keep both. */
	if (idset_has(&d->ids, sum.id)) {
		size_t len = strlen(sum.id);

		snprintf(sum.id + len, INCIDENTS_ID_SIZE - len, "-%zu",
			 d->found);
	}
	idset_add(&d->ids, sum.id);
	d->found++;
	rc = write_one(d, &sum);
	if (rc == 0 && d->out) {
		if (d->out->n == d->capout) {
			d->capout = d->capout ? 2 * d->capout : 16;
			d->out->v = xrealloc(d->out->v,
					     d->capout * sizeof(*d->out->v));
		}
		d->out->v[d->out->n++] = sum;
	} else {
		summary_release(&sum);
	}
	d->nseg = 0;
	return rc;
}

/* Delete the stored incidents that were not found again. */
static int delete_stale(struct detect *d)
{
	struct strlist stale = { NULL, 0 };
	sqlite3_stmt *ids = NULL, *del = NULL;
	size_t i;
	int rc = 0;

	if (sqlite3_prepare_v2(d->db, "SELECT id FROM incidents", -1, &ids,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db, "DELETE FROM incidents WHERE id = ?1",
			       -1, &del, NULL) != SQLITE_OK) {
		rc = sql_fail(d->db, d->path,
			      "cannot prepare incident statements");
		goto out;
	}
	while ((rc = sqlite3_step(ids)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(ids, 0);

		if (!idset_has(&d->ids, id ? id : ""))
			strlist_push(&stale, id ? id : "");
	}
	if (rc != SQLITE_DONE) {
		rc = sql_fail(d->db, d->path, "cannot read incidents");
		goto out;
	}
	rc = 0;
	for (i = 0; i < stale.n; i++) {
		sqlite3_reset(d->del_links);
		sqlite3_reset(del);
		sqlite3_bind_text(d->del_links, 1, stale.v[i], -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(del, 1, stale.v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(d->del_links) != SQLITE_DONE ||
		    sqlite3_step(del) != SQLITE_DONE) {
			rc = sql_fail(d->db, d->path, "cannot delete incident");
			goto out;
		}
	}
out:
	for (i = 0; i < stale.n; i++)
		free(stale.v[i]);
	free(stale.v);
	sqlite3_finalize(ids);
	sqlite3_finalize(del);
	return rc;
}

static int detect_prepare(struct detect *d)
{
	if (sqlite3_prepare_v2(d->db, "SELECT title, details FROM incidents "
			       "WHERE id = ?1", -1, &d->stored,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db,
		"INSERT INTO incidents(id, start_ts, end_ts, severity, "
		"root_rule, title, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		"ON CONFLICT (id) DO UPDATE SET start_ts = excluded.start_ts, "
		"end_ts = excluded.end_ts, severity = excluded.severity, "
		"root_rule = excluded.root_rule, title = excluded.title, "
		"details = excluded.details", -1, &d->up, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db, "DELETE FROM incident_events WHERE "
			       "incident_id = ?1", -1, &d->del_links,
			       NULL) != SQLITE_OK ||
	    prepare_link(d->db, 1, &d->link) != SQLITE_OK ||
	    prepare_link(d->db, LINK_ROWS, &d->links) != SQLITE_OK)
		return sql_fail(d->db, d->path,
				"cannot prepare incident statements");
	d->mk = incident_markers_new(d->db);
	return 0;
}

/* Segment the merged streams, writing each incident as it completes. */
static int detect_run(struct detect *d, struct ev_stream *es,
		      struct intern *names)
{
	struct incident_segmenter sg;
	bool err = false;
	int rc;

	memset(&sg, 0, sizeof(sg));
	for (;;) {
		const struct incident_event *a, *b, *e;

		a = stream_peek(&es[0], names, &err);
		b = err ? NULL : stream_peek(&es[1], names, &err);
		if (err)
			return sql_fail(d->db, d->path, "cannot read events");
		if (a == NULL && b == NULL)
			break;
		if (b == NULL || (a != NULL && event_cmp(a, b) < 0)) {
			e = a;
			es[0].next++;
		} else {
			e = b;
			es[1].next++;
		}
		switch (incidents_segment_step(&sg, e, d->gap_ms)) {
		case INCIDENT_STEP_START:
			rc = finish(d);
			if (rc < 0)
				return rc;
			seg_push(d, e);
			break;
		case INCIDENT_STEP_JOIN:
			seg_push(d, e);
			break;
		case INCIDENT_STEP_NONE:
			rc = finish(d);
			if (rc < 0)
				return rc;
			break;
		}
	}
	rc = finish(d);
	return rc < 0 ? rc : delete_stale(d);
}

/*
 * Detecting again over a database that grew. The incidents stored were
 * detected over the events 'incidents_min_id' to 'incidents_max_id' (in
 * meta), with the gap and rules 'incidents_basis' names. Segmentation
 * reads events in order, and the first event of an incident starts it
 * whatever came before: reading from there gives the same incidents from
 * there on. So detection starts at t0, the start of the last stored
 * incident before lo, the earliest time at which an event that can
 * change anything sits, and keeps the incidents that start before t0 as
 * they are stored (detect_window). What can change something:
 *   - a new symptom, closer or opener, at its time;
 *   - a new trigger marker, at its time: it may become the trigger of an
 *     incident up to a day later, which starts after it;
 *   - a new event in a source that has events without a time of their
 *     own (its head, or all of it until now): those sit at the first
 *     time of the source, which the new event may have given it.
 * Events with no time at all (sources without times) are always read
 * again: they are few, and new lines of such a source join its last
 * incident. A nightly run then reads what it added and the incident it
 * continues, not the whole database. 'prune' removes the basis; a
 * database without one, or with another gap, other rules or a later
 * version of this code, or whose first or last event of then was
 * deleted, is detected over everything.
 */
#define DETECT_VERSION 1

#ifdef LOGTRIAGE_TESTING
int64_t incidents_test_t0;
#endif

static uint64_t basis_mix(uint64_t h, const char *s)
{
	s = s ? s : "";
	return (h ^ fnv1a64(s, strlen(s) + 1)) * UINT64_C(1099511628211);
}

/* "v1 gap=900000 rules=<hash of every rule's id, title and causes>" */
static void basis_text(const struct rules *rs, int64_t gap_ms, char *out,
		       size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i, k;

	for (i = 0; rs && i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);

		h = basis_mix(h, r->id);
		h = basis_mix(h, r->title);
		for (k = 0; k < r->causes.n; k++)
			h = basis_mix(h, r->causes.v[k]);
		h = basis_mix(h, "\n");
	}
	snprintf(out, n, "v%d gap=%lld rules=%016llx", DETECT_VERSION,
		 (long long)gap_ms, (unsigned long long)h);
}

/* One integer from sql (?1, ?2 bound); *has false when NULL or no row. */
static int query_int(sqlite3 *db, const char *sql, int64_t p1, int64_t p2,
		     int64_t *v, bool *has)
{
	sqlite3_stmt *s;
	int rc;

	*has = false;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, p1);
	sqlite3_bind_int64(s, 2, p2);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*v = sqlite3_column_int64(s, 0);
		*has = true;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The events after max_id, as far as detection is concerned. */
#define NEW_FILTER "(" SEGMENT_FILTER " OR " TRIGGER_IN ")"

/*
 * Whether the events of source src without a time of their own moved,
 * or new ones came: they sit at the source's first time (first), which
 * the new events (after max_id) may have given it. Return 0 or -1.
 */
static int heads_moved(sqlite3 *db, int64_t src, int64_t max_id,
		       int64_t first, bool *moved)
{
	int64_t v;
	bool has;

	*moved = false;
	if (query_int(db, "SELECT 1 FROM events WHERE ts IS NULL AND "
		      "+source_id = ?1 AND " SEGMENT_FILTER " LIMIT 1", src, 0,
		      &v, &has) < 0)
		return -1;
	if (!has)
		return 0;
	if (query_int(db, "SELECT 1 FROM events WHERE id > ?1 AND "
		      "+source_id = ?2 AND +ts IS NULL AND " SEGMENT_FILTER
		      " LIMIT 1", max_id, src, &v, moved) < 0)
		return -1;
	if (*moved)
		return 0;
	if (query_int(db, "SELECT ts FROM events WHERE source_id = ?1 AND "
		      "ts IS NOT NULL AND id <= ?2 ORDER BY line_no LIMIT 1",
		      src, max_id, &v, &has) < 0)
		return -1;
	*moved = !has || v != first;
	return 0;
}

/*
 * Where detection over a database whose incidents were detected up to
 * event max_id must start (see above): *t0, INT64_MAX when no timed
 * incident can change. Return 0 or a store_err (printed).
 */
static int detect_window(struct detect *d, int64_t max_id, int64_t *t0)
{
	sqlite3_stmt *s = NULL;
	int64_t lo = INT64_MAX, v, start = 0;
	bool has, have_start = false;
	int rc;

	/* "+ts", "ts + 0": the new rows by id, not the time index */
	if (query_int(d->db, "SELECT min(ts + 0) FROM events WHERE id > ?1 "
		      "AND +ts IS NOT NULL AND " NEW_FILTER, max_id, 0, &v,
		      &has) < 0)
		return sql_fail(d->db, d->path, "cannot read events");
	if (has)
		lo = v;
	/* The sources the new events are in: did their heads move? */
	if (sqlite3_prepare_v2(d->db, "SELECT DISTINCT source_id FROM events "
			       "WHERE id > ?1", -1, &s, NULL) != SQLITE_OK)
		return sql_fail(d->db, d->path, "cannot read events");
	sqlite3_bind_int64(s, 1, max_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t src = sqlite3_column_int64(s, 0), first;
		bool timed, moved;

		if (source_first_ts(d->db, src, &first, &timed) < 0 ||
		    (timed && heads_moved(d->db, src, max_id, first,
					  &moved) < 0)) {
			rc = sql_fail(d->db, d->path, "cannot read events");
			sqlite3_finalize(s);
			return rc;
		}
		if (timed && moved && first < lo)
			lo = first;
	}
	if (rc != SQLITE_DONE) {
		rc = sql_fail(d->db, d->path, "cannot read events");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	/*
	 * Start at the first event of a stored incident before lo: a
	 * segment's first event starts it whatever came before. Events of
	 * the same millisecond that sort before it must not belong to the
	 * incident before (whose end is then earlier); with no incident
	 * before lo, nothing before lo belongs to any.
	 */
	*t0 = lo;
	if (lo == INT64_MAX)
		return 0;
	if (sqlite3_prepare_v2(d->db, "SELECT start_ts, end_ts FROM incidents "
			       "WHERE start_ts < ?1 ORDER BY start_ts DESC",
			       -1, &s, NULL) != SQLITE_OK)
		return sql_fail(d->db, d->path, "cannot read incidents");
	sqlite3_bind_int64(s, 1, lo);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t st = sqlite3_column_int64(s, 0);
		int64_t end = sqlite3_column_int64(s, 1);

		if (have_start && end < start)
			break;
		start = st;
		have_start = true;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = sql_fail(d->db, d->path, "cannot read incidents");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	if (have_start)
		*t0 = start;
	return 0;
}

/*
 * The basis the stored incidents were found with, and the first and last
 * event id then (-1 when not recorded).
 */
static int read_basis(sqlite3 *db, char *basis, size_t n, int64_t ids[2])
{
	sqlite3_stmt *s;
	int rc;

	basis[0] = '\0';
	ids[0] = ids[1] = -1;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta WHERE key IN "
			       "('incidents_basis', 'incidents_min_id', "
			       "'incidents_max_id')", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		const char *v = (const char *)sqlite3_column_text(s, 1);

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "incidents_basis") == 0)
			snprintf(basis, n, "%s", v);
		else
			ids[strcmp(k, "incidents_max_id") == 0] =
				strtoll(v, NULL, 10);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int write_basis(sqlite3 *db, const char *basis, const int64_t ids[2])
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) "
			       "VALUES ('incidents_basis', ?1), "
			       "('incidents_min_id', CAST(?2 AS TEXT)), "
			       "('incidents_max_id', CAST(?3 AS TEXT))", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, basis, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ids[0]);
	sqlite3_bind_int64(s, 3, ids[1]);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int incidents_forget(sqlite3 *db)
{
	return sqlite3_exec(db, "DELETE FROM meta WHERE key IN "
			    "('incidents_basis', 'incidents_min_id', "
			    "'incidents_max_id')", NULL,
			    NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/*
 * Where this detection starts: *t0 (INT64_MIN: everything), with the
 * incidents before it counted and their ids in d->ids (and in d->out).
 */
static int detect_start(struct detect *d, const char *basis,
			const int64_t ids[2], int64_t *t0)
{
	char old[96];
	int64_t old_ids[2];
	sqlite3_stmt *s;
	int rc;

	*t0 = INT64_MIN;
	if (read_basis(d->db, old, sizeof(old), old_ids) < 0)
		return sql_fail(d->db, d->path, "cannot read meta");
	/* Events before the last one seen were deleted: read everything. */
	if (strcmp(old, basis) != 0 || old_ids[0] < 0 || old_ids[1] < 0 ||
	    old_ids[0] != ids[0] || old_ids[1] > ids[1])
		return 0;
	rc = detect_window(d, old_ids[1], t0);
	if (rc < 0)
		return rc;
	if (sqlite3_prepare_v2(d->db, "SELECT id FROM incidents WHERE "
			       "start_ts < ?1", -1, &s, NULL) != SQLITE_OK)
		return sql_fail(d->db, d->path, "cannot read incidents");
	sqlite3_bind_int64(s, 1, *t0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);

		idset_add(&d->ids, id ? id : "");
		d->found++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sql_fail(d->db, d->path, "cannot read incidents");
	if (d->out && load_list(d->db, d->path, "SELECT id, start_ts, end_ts, "
				"severity, root_rule, title, details, CASE "
				"WHEN json_valid(details) AND json_type("
				"details, '$.events') = 'integer' THEN "
				"json_extract(details, '$.events') ELSE "
				"(SELECT count(*) FROM incident_events e WHERE "
				"e.incident_id = i.id) END FROM incidents i "
				"WHERE start_ts < ?1", *t0,
				d->out) < 0)
		return STORE_ERR;
	d->capout = d->out ? d->out->n : 0;
	return 0;
}

int incidents_detect(struct store *st, const struct rules *rs,
		     int64_t gap_ms, struct incident_list *out)
{
	struct detect d;
	struct ev_stream es[2];
	struct intern names = { NULL, 0 };
	char basis[96];
	int64_t ids[2] = { 0, 0 }, t0 = INT64_MIN;
	bool has_ids = false;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(es, 0, sizeof(es));
	d.db = store_db(st);
	d.path = store_path(st);
	d.rs = rs;
	d.gap_ms = gap_ms;
	if (out) {
		out->v = NULL;
		out->n = 0;
		d.out = out;
	}
	/*
	 * Without foreign key checks: every link written names an incident
	 * written in the same transaction and an event just read under the
	 * write lock, and the links of an incident deleted are deleted first
	 * (delete_stale), so no check or cascade has anything to do. The
	 * checks were 45% of the cost of linking (two lookups a link).
	 */
	rc = store_foreign_keys(st, false);
	if (rc < 0)
		return rc;
	rc = store_begin(st);
	if (rc < 0) {
		store_foreign_keys(st, true);
		return rc;
	}
	basis_text(rs, gap_ms, basis, sizeof(basis));
	rc = detect_prepare(&d);
	if (rc == 0 && (query_int(d.db, "SELECT min(id) FROM events", 0, 0,
				  &ids[0], &has_ids) < 0 ||
			query_int(d.db, "SELECT max(id) FROM events", 0, 0,
				  &ids[1], &has_ids) < 0))
		rc = sql_fail(d.db, d.path, "cannot read events");
	if (rc == 0 && !has_ids)
		ids[0] = ids[1] = 0;
	if (rc == 0)
		rc = detect_start(&d, basis, ids, &t0);
#ifdef LOGTRIAGE_TESTING
	incidents_test_t0 = t0;
#endif
	for (i = 0; rc == 0 && i < 2; i++) {
		es[i].by_line = i == 1;
		if (sqlite3_prepare_v2(d.db, stream_sql[i], -1, &es[i].s,
				       NULL) != SQLITE_OK)
			rc = sql_fail(d.db, d.path, "cannot read events");
		else
			sqlite3_bind_int64(es[i].s, 1, t0);
	}
	if (rc == 0)
		rc = detect_run(&d, es, &names);
	if (rc == 0 && write_basis(d.db, basis, ids) < 0)
		rc = sql_fail(d.db, d.path, "cannot store incident");
	for (i = 0; i < 2; i++)
		stream_release(&es[i]);
	sqlite3_finalize(d.stored);
	sqlite3_finalize(d.up);
	sqlite3_finalize(d.del_links);
	sqlite3_finalize(d.link);
	sqlite3_finalize(d.links);
	incident_markers_free(d.mk);
	if (rc == 0)
		rc = store_commit(st);
	if (rc == 0)
		rc = store_foreign_keys(st, true);
	if (rc < 0) {
		store_rollback(st);
		store_foreign_keys(st, true);
		if (out)
			incident_list_release(out);
	} else if (out && out->n > 1) {
		qsort(out->v, out->n, sizeof(*out->v), summary_cmp);
	}
	free(d.seg);
	free(d.ids.v);
	intern_release(&names);
	return rc;
}

/*
 * Append the incidents sql selects (id, start_ts, end_ts, severity,
 * root_rule, title, details, events; ?1 bound to p1) to out.
 */
static int load_list(sqlite3 *db, const char *db_path, const char *sql,
		     int64_t p1, struct incident_list *out)
{
	sqlite3_stmt *s;
	size_t cap = out->n;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		sql_fail(db, db_path, "cannot read incidents");
		return -1;
	}
	sqlite3_bind_int64(s, 1, p1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct incident_summary *sum;
		const char *t;
		int sev;

		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		sum = &out->v[out->n++];
		memset(sum, 0, sizeof(*sum));
		t = (const char *)sqlite3_column_text(s, 0);
		snprintf(sum->id, sizeof(sum->id), "%s", t ? t : "");
		sum->has_ts = sqlite3_column_type(s, 1) != SQLITE_NULL;
		sum->start_ts = sqlite3_column_int64(s, 1);
		sum->end_ts = sqlite3_column_int64(s, 2);
		t = (const char *)sqlite3_column_text(s, 3);
		sev = rules_sev_parse(t ? t : "");
		sum->severity = sev < 0 ? RULE_SEV_WARNING : (enum rule_sev)sev;
		t = (const char *)sqlite3_column_text(s, 4);
		sum->root_rule = t ? xstrdup(t) : NULL;
		t = (const char *)sqlite3_column_text(s, 5);
		sum->title = xstrdup(t ? t : "");
		t = (const char *)sqlite3_column_text(s, 6);
		sum->details = xstrdup(t ? t : "{}");
		sum->events = (uint64_t)sqlite3_column_int64(s, 7);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		incident_list_release(out);
		sql_fail(db, db_path, "cannot read incidents");
		return -1;
	}
	return 0;
}

int incidents_load(sqlite3 *db, const char *db_path, struct incident_list *out)
{
	out->v = NULL;
	out->n = 0;
	return load_list(db, db_path,
		"SELECT i.id, i.start_ts, i.end_ts, i.severity, i.root_rule, "
		"i.title, i.details, (SELECT count(*) FROM incident_events e "
		"WHERE e.incident_id = i.id) FROM incidents i "
		"ORDER BY i.start_ts IS NULL, i.start_ts, i.id", 0, out);
}

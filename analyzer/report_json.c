/*
 * report_json.c - stage 6 writer: an incident as one JSON document
 * (jansson), with the content of the Markdown report, for other tools.
 * Keys are sorted; lists keep agg's order (see agg.h and README).
 */
#include "common.h"
#include "report.h"
#include "agg.h"
#include "timefmt.h"

#include <jansson.h>

/* A JSON string of s made valid UTF-8 (jansson refuses anything else). */
static json_t *jstr(const char *s)
{
	struct buf b;
	json_t *j;

	buf_init(&b);
	buf_add_utf8(&b, s, strlen(s));
	j = json_stringn(b.p, b.len);
	buf_release(&b);
	return j ? j : json_string("");
}

static json_t *jtime(bool has, int64_t ms)
{
	char t[TIMEFMT_BUF_SIZE];

	if (!has)
		return json_null();
	timefmt_format_iso(ms, t, sizeof(t));
	return json_string(t);
}

static const char *time_source(enum agg_time t)
{
	static const char *const names[] = { "own", "inferred", "borrowed",
					     "none" };

	return names[t];
}

/* An event: where, when, what (with the whole message when asked). */
static json_t *jevent(const struct agg *a, size_t i, bool message)
{
	const struct agg_event *e;
	json_t *o;

	if (i == SIZE_MAX || i >= a->nev)
		return json_null();
	e = &a->ev[i];
	o = json_object();
	json_object_set_new(o, "event_id", json_integer(e->id));
	json_object_set_new(o, "rule", jstr(e->rule_id));
	json_object_set_new(o, "time", jtime(e->pos.has_ts, e->pos.ts));
	json_object_set_new(o, "time_source", json_string(time_source(e->time)));
	json_object_set_new(o, "source", jstr(a->sources[e->source].name));
	json_object_set_new(o, "line", json_integer((json_int_t)e->pos.line_no));
	json_object_set_new(o, "text", jstr(e->headline));
	if (message)
		json_object_set_new(o, "message", jstr(e->message));
	return o;
}

static json_t *jstrlist(const struct strlist *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, jstr(l->v[i]));
	return a;
}

/* Milliseconds between two events when both times are real, or null. */
static json_t *jgap(const struct agg *a, size_t from, size_t to)
{
	const struct agg_event *x, *y;

	if (from == SIZE_MAX || to == SIZE_MAX)
		return json_null();
	x = &a->ev[from];
	y = &a->ev[to];
	if (!x->pos.has_ts || !y->pos.has_ts || x->time == AGG_TIME_BORROWED ||
	    y->time == AGG_TIME_BORROWED)
		return json_null();
	return json_integer(y->pos.ts - x->pos.ts);
}

static json_t *jsymptoms(const struct agg *a)
{
	json_t *arr = json_array();
	size_t i, k;

	for (i = 0; i < a->nsym; i++) {
		const struct agg_symptom *s = &a->sym[i];
		const struct rule *r = s->rule;
		json_t *o = json_object(), *ev = json_array();

		json_object_set_new(o, "rule", jstr(s->rule_id));
		json_object_set_new(o, "kind", json_string(s->symptom ?
					"symptom" : "marker"));
		json_object_set_new(o, "title", r ? jstr(r->title) : json_null());
		json_object_set_new(o, "severity", json_string(
			rules_sev_name(a->ev[s->first].sev)));
		json_object_set_new(o, "category",
				    r ? jstr(r->category) : json_null());
		json_object_set_new(o, "count",
				    json_integer((json_int_t)s->count));
		json_object_set_new(o, "first", jevent(a, s->first, false));
		json_object_set_new(o, "last", jevent(a, s->last, false));
		if (s->peak_count)
			json_object_set_new(o, "busiest_minute", json_pack(
				"{s:o,s:I}", "start", jtime(true, s->peak_bucket),
				"events", (json_int_t)s->peak_count));
		else
			json_object_set_new(o, "busiest_minute", json_null());
		json_object_set_new(o, "guide", r ? json_pack("{s:o,s:o}",
			"section", jstr(r->guide_section),
			"title", jstr(r->guide_title)) : json_null());
		json_object_set_new(o, "diagnosis", r ? jstrlist(&r->diagnosis) :
				    json_array());
		json_object_set_new(o, "remedy", r ? jstrlist(&r->remedy) :
				    json_array());
		for (k = 0; k < s->nevidence; k++)
			json_array_append_new(ev, jevent(a, s->evidence[k], true));
		json_object_set_new(o, "evidence", ev);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *jcause(const struct agg *a)
{
	const struct incident_cause *c = &a->cause;
	json_t *o = json_object(), *chains = json_array();
	json_t *br = json_array(), *loose = json_array();
	size_t i, k;

	json_object_set_new(o, "verdict",
			    json_string(incidents_verdict_name(c->verdict)));
	json_object_set_new(o, "rule", c->root != SIZE_MAX ?
			    jstr(a->sym[c->root].rule_id) : json_null());
	json_object_set_new(o, "untimed", json_boolean(c->untimed));
	json_object_set_new(o, "events_without_own_time",
			    json_integer((json_int_t)a->members_inferred));
	for (k = 0; k < c->nchains; k++) {
		json_t *ch = json_array();
		size_t prev = SIZE_MAX;

		/* Each link with the event that stands for it (agg.h). */
		for (i = 0; i < c->chains[k].n; i++) {
			size_t node = c->chains[k].node[i];
			const struct agg_symptom *s = &a->sym[node];

			prev = agg_link_event(a, node, prev);
			json_array_append_new(ch, json_pack("{s:o,s:o}",
				"rule", jstr(s->rule_id),
				"event", jevent(a, prev, false)));
		}
		json_array_append_new(chains, ch);
	}
	for (i = 0; i < c->nbranches; i++)
		json_array_append_new(br, json_pack("{s:o,s:o}",
			"from", jstr(a->sym[c->branches[i].from].rule_id),
			"to", jstr(a->sym[c->branches[i].to].rule_id)));
	for (i = 0; i < c->nloose; i++)
		json_array_append_new(loose, jstr(a->sym[c->loose[i]].rule_id));
	json_object_set_new(o, "chains", chains);
	json_object_set_new(o, "branches", br);
	json_object_set_new(o, "loose", loose);
	return o;
}

static json_t *jstat(const struct agg_stat *s)
{
	if (s->n == 0)
		return json_null();
	return json_pack("{s:I,s:f,s:f,s:f}", "samples", (json_int_t)s->n,
			 "p50", s->p50, "p95", s->p95, "max", s->max);
}

static json_t *jimpact(const struct agg *a)
{
	json_t *o = json_object();
	bool counted = a->has_ts && a->status_events > 0;

	json_object_set_new(o, "time_to_recovery_ms",
			    jgap(a, a->first, a->recovery));
	json_object_set_new(o, "responses_counted", counted ?
		json_integer((json_int_t)a->status_events) : json_null());
	json_object_set_new(o, "status_5xx", counted ?
		json_integer((json_int_t)a->n5xx) : json_null());
	json_object_set_new(o, "status_401", counted ?
		json_integer((json_int_t)a->n401) : json_null());
	json_object_set_new(o, "latency_ms", json_pack("{s:o,s:o}",
		"window", jstat(&a->lat_window),
		"hour_before", jstat(&a->lat_before)));
	return o;
}

static json_t *jtimeline(const struct agg *a)
{
	static const char *const kinds[] = {
		"trigger", "marker", "first", "peak", "last", "recovery",
	};
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < a->nrows; i++) {
		json_t *o = jevent(a, a->rows[i].event, false);

		json_object_set_new(o, "kind",
				    json_string(kinds[a->rows[i].kind]));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *jcharts(const struct agg *a, const struct chart_set *cs)
{
	static const char *const states[] = {
		"not_asked", "no_time", "drawn", "no_gnuplot", "failed",
	};
	json_t *o = json_object(), *files = json_array();
	char img[96], dat[96], gp[96];
	int k;

	json_object_set_new(o, "format",
			    json_string(chart_format_ext(cs->format)));
	json_object_set_new(o, "state", json_string(states[cs->state]));
	json_object_set_new(o, "note", jstr(cs->note));
	for (k = 0; k < CHART__COUNT; k++) {
		if (!cs->have[k])
			continue;
		chart_file_name(a->id, (enum chart_kind)k,
				chart_format_ext(cs->format), img, sizeof(img));
		chart_file_name(a->id, (enum chart_kind)k, "dat", dat,
				sizeof(dat));
		chart_file_name(a->id, (enum chart_kind)k, "gp", gp, sizeof(gp));
		json_array_append_new(files, json_pack("{s:s,s:s,s:o,s:s,s:s}",
			"kind", chart_kind_name((enum chart_kind)k),
			"title", chart_kind_title((enum chart_kind)k),
			"image", cs->drawn[k] ? json_string(img) : json_null(),
			"data", dat, "script", gp));
	}
	json_object_set_new(o, "files", files);
	files = json_array();
	for (k = 0; (size_t)k < a->nmemory_series; k++)
		json_array_append_new(files, jstr(a->memory_series[k]));
	json_object_set_new(o, "memory_series", files);
	return o;
}

int report_json_render(const struct agg *a, const struct report_opts *o,
		       struct buf *out)
{
	json_t *root = json_object(), *arr, *res;
	size_t i;
	bool rollback = false;
	char *text;

	json_object_set_new(root, "id", json_string(a->id));
	json_object_set_new(root, "title", jstr(a->title));
	json_object_set_new(root, "severity",
			    json_string(rules_sev_name(a->severity)));
	json_object_set_new(root, "window", json_pack("{s:o,s:o,s:o}",
		"start", jtime(a->has_ts, a->ev[a->first].pos.ts),
		"end", jtime(a->has_ts, a->ev[a->last].pos.ts),
		"duration_ms", a->has_ts ? json_integer(a->ev[a->last].pos.ts -
			a->ev[a->first].pos.ts) : json_null()));
	arr = json_array();
	for (i = 0; i < a->nsources; i++)
		if (a->sources[i].events)
			json_array_append_new(arr, json_pack("{s:o,s:I}",
				"name", jstr(a->sources[i].name),
				"events", (json_int_t)a->sources[i].events));
	json_object_set_new(root, "sources", arr);
	json_object_set_new(root, "events", json_integer((json_int_t)a->members));
	json_object_set_new(root, "symptoms", jsymptoms(a));
	json_object_set_new(root, "root_cause", jcause(a));
	arr = jevent(a, a->trigger, false);
	if (json_is_object(arr))
		json_object_set_new(arr, "gap_ms", jgap(a, a->trigger, a->first));
	json_object_set_new(root, "trigger", arr);
	json_object_set_new(root, "recovery", jevent(a, a->recovery, false));
	json_object_set_new(root, "impact", jimpact(a));
	json_object_set_new(root, "detection", json_pack("{s:o,s:o}",
		"first_event", jevent(a, a->first, false),
		"first_critical", jevent(a, a->first_critical, false)));
	arr = json_array();
	for (i = a->last + 1; i < a->nev &&
	     (a->recovery == SIZE_MAX || i < a->recovery); i++)
		if (!a->ev[i].member &&
		    incidents_is_trigger_rule(a->ev[i].rule_id))
			json_array_append_new(arr, jevent(a, i, false));
	for (i = 0; i < a->nev; i++)
		rollback |= strcmp(a->ev[i].rule_id, "deploy.rollback") == 0 &&
			    i >= a->first && (a->recovery == SIZE_MAX ||
					      i <= a->recovery);
	res = json_object();
	json_object_set_new(res, "markers", arr);
	json_object_set_new(res, "rollback", json_boolean(rollback));
	json_object_set_new(root, "resolution", res);
	json_object_set_new(root, "timeline", jtimeline(a));
	json_object_set_new(root, "charts", jcharts(a, o->charts));
	arr = json_array();
	for (i = 0; i < a->nactions; i++)
		json_array_append_new(arr, json_pack("{s:o,s:o}",
			"text", jstr(a->actions[i].text),
			"rule", jstr(a->actions[i].rule_id)));
	json_object_set_new(root, "action_items", arr);
	json_object_set_new(root, "lessons_learned", json_null());
	json_object_set_new(root, "generator", json_pack("{s:s,s:s,s:o}",
		"name", "logtriage", "version", LOGTRIAGE_VERSION,
		"database", jstr(o->db_path)));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS |
			  JSON_REAL_PRECISION(10));
	json_decref(root);
	if (text == NULL)
		return -1;
	buf_adds(out, text);
	buf_addch(out, '\n');
	free(text);
	return 0;
}

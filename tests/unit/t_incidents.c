/*
 * t_incidents.c - unit tests for stage 6a and the pure helpers of the
 * report writers: segmentation (gap, deploy markers, sources without
 * time), root-cause chains over the built-in rules' 'causes', stable
 * ids, HTTP statuses and headlines read from messages, the Markdown
 * escaping that keeps log text from breaking a report, and detection
 * leaving the database's foreign key checks on.
 */
#include "common.h"
#include "agg.h"
#include "buf.h"
#include "incidents.h"
#include "report.h"
#include "rules.h"
#include "store.h"
#include "unit.h"

#include <sqlite3.h>
#include <unistd.h>

static struct rules *rs;

/* An event at minute:second of a fixed hour, in source 1. */
static struct incident_event ev_at(int64_t id, const char *rule, int min,
				   int sec, uint64_t line)
{
	struct incident_event e;
	const struct rule *r = rules_find(rs, rule);

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.rule_id = rule;
	e.sev = r ? r->severity : RULE_SEV_WARNING;
	e.kind = incidents_kind(rule, e.sev);
	e.pos.ts = INT64_C(1771927200000) + (min * 60 + sec) * 1000;
	e.pos.has_ts = true;
	e.pos.source_id = 1;
	e.pos.line_no = line;
	return e;
}

/* Segment ev and describe the result as "first+n first+n ...". */
static void segments(struct incident_event *ev, size_t n, int64_t gap,
		     const char *want, const char *what)
{
	struct incident_segment *seg;
	size_t k, nseg;
	struct buf got;

	incidents_sort(ev, n);
	nseg = incidents_segment(ev, n, gap, &seg);
	buf_init(&got);
	for (k = 0; k < nseg; k++)
		buf_addf(&got, "%s%zu+%zu", k ? " " : "", seg[k].first,
			 seg[k].n);
	CHECK_STR(got.p, want, "segments: %s", what);
	buf_release(&got);
	free(seg);
}

static void test_segments(void)
{
	struct incident_event ev[8];
	int64_t gap = INCIDENTS_GAP_DEFAULT_MS;

	/* A quiet gap of more than 15 minutes splits. */
	ev[0] = ev_at(1, "db.connection_refused", 0, 0, 1);
	ev[1] = ev_at(2, "db.connection_refused", 10, 0, 2);
	ev[2] = ev_at(3, "db.connection_refused", 26, 0, 3);
	segments(ev, 3, gap, "0+2 2+1", "gap of 16 minutes");
	segments(ev, 3, 60 * 1000, "0+1 1+1 2+1", "gap of one minute");

	/* deploy.started ends an incident; it belongs to none. */
	ev[0] = ev_at(1, "db.connection_refused", 0, 0, 1);
	ev[1] = ev_at(2, "deploy.started", 1, 0, 2);
	ev[2] = ev_at(3, "db.connection_refused", 2, 0, 3);
	segments(ev, 3, gap, "0+1 2+1", "deploy.started splits");

	/* deploy.failed and deploy.rollback join and close. */
	ev[0] = ev_at(1, "health.check_failed", 0, 0, 1);
	ev[1] = ev_at(2, "deploy.failed", 0, 10, 2);
	ev[2] = ev_at(3, "deploy.rollback", 0, 20, 3);
	ev[3] = ev_at(4, "health.check_failed", 0, 30, 4);
	segments(ev, 4, gap, "0+3 3+1", "closers join, then close");

	/* A closer with no incident before it is nobody's. */
	ev[0] = ev_at(1, "deploy.failed", 0, 0, 1);
	ev[1] = ev_at(2, "health.check_failed", 0, 10, 2);
	segments(ev, 2, gap, "1+1", "lonely closer");

	/* Markers alone are no incident. */
	ev[0] = ev_at(1, "deploy.started", 0, 0, 1);
	ev[1] = ev_at(2, "deploy.rollback", 0, 5, 2);
	segments(ev, 2, gap, "", "markers only");
	CHECK(incidents_kind("health.check_passed", RULE_SEV_INFO) ==
	      INCIDENT_OTHER, "other info events are not segmented");

	/* Same millisecond: symptoms before closers on one line. */
	ev[0] = ev_at(2, "deploy.failed", 5, 0, 7);
	ev[1] = ev_at(1, "health.check_failed", 5, 0, 7);
	ev[2] = ev_at(3, "health.check_failed", 5, 0, 6);
	segments(ev, 3, gap, "0+3", "one line, symptom then closer");
	CHECK(ev[2].kind == INCIDENT_CLOSER, "the closer sorts last");

	/* Sources without time: per source, by line, markers bound. */
	ev[0] = ev_at(1, "build.pip_install_failed", 0, 0, 40);
	ev[1] = ev_at(2, "build.failed", 0, 0, 60);
	ev[2] = ev_at(3, "build.failed", 0, 0, 5);
	ev[3] = ev_at(4, "db.connection_refused", 0, 0, 1);
	ev[0].pos.has_ts = ev[1].pos.has_ts = false;
	ev[2].pos.has_ts = ev[3].pos.has_ts = false;
	ev[2].pos.source_id = 2;
	ev[3].pos.ts = 0;
	ev[3].pos.has_ts = true;
	segments(ev, 4, gap, "0+1 1+2 3+1", "untimed sources group alone");
	CHECK(ev[0].pos.has_ts && ev[1].pos.line_no == 40 &&
	      ev[3].pos.source_id == 2, "timed first, then by source, line");
}

/* Run the cause analysis on nodes made from "rule@second" words. */
static void cause(const char *spec, const char *want, const char *what)
{
	struct incident_node nodes[16];
	struct incident_cause c;
	struct buf got;
	char *copy = xstrdup(spec), *tok, *save = NULL;
	size_t n = 0, i, k;

	for (tok = strtok_r(copy, " ", &save); tok && n < 16;
	     tok = strtok_r(NULL, " ", &save)) {
		char *at = strchr(tok, '@');
		char *dash = at ? strchr(at, '-') : NULL;
		const struct rule *r;

		memset(&nodes[n], 0, sizeof(nodes[n]));
		if (at)
			*at = '\0';
		nodes[n].rule_id = tok;
		r = rules_find(rs, tok);
		nodes[n].symptom = incidents_kind(tok, r ? r->severity :
						  RULE_SEV_WARNING) ==
				   INCIDENT_SYMPTOM;
		nodes[n].count = 1;
		nodes[n].first.has_ts = at != NULL;
		nodes[n].first.source_id = 1;
		nodes[n].first.line_no = n + 1;
		nodes[n].first.ts = at ? strtoll(at + 1, NULL, 10) * 1000 : 0;
		nodes[n].last = nodes[n].first;
		if (dash)
			nodes[n].last.ts = strtoll(dash + 1, NULL, 10) * 1000;
		n++;
	}
	incidents_cause(rs, nodes, n, &c);
	buf_init(&got);
	buf_addf(&got, "%s:", incidents_verdict_name(c.verdict));
	for (k = 0; k < c.nchains; k++)
		for (i = 0; i < c.chains[k].n; i++)
			buf_addf(&got, "%s%s", i ? ">" : " ",
				 nodes[c.chains[k].node[i]].rule_id);
	for (i = 0; i < c.nbranches; i++)
		buf_addf(&got, " +%s>%s", nodes[c.branches[i].from].rule_id,
			 nodes[c.branches[i].to].rule_id);
	for (i = 0; i < c.nloose; i++)
		buf_addf(&got, " ?%s", nodes[c.loose[i]].rule_id);
	if (c.untimed)
		buf_adds(&got, " (untimed)");
	CHECK_STR(got.p, want, "cause: %s", what);
	CHECK(c.verdict == INCIDENT_UNCONNECTED ? c.root == SIZE_MAX :
	      c.root == c.chains[0].node[0], "root heads chain 0: %s", what);
	buf_release(&got);
	incident_cause_release(&c);
	free(copy);
}

static void test_causes(void)
{
	/* The guide's chains: the longest path from the root. */
	cause("startup.missing_env_var@0 startup.crash_loop@38 "
	      "health.check_failed@300 deploy.failed@330 deploy.rollback@340",
	      "one: startup.missing_env_var>startup.crash_loop>"
	      "health.check_failed>deploy.failed>deploy.rollback",
	      "missing variable to rollback");
	cause("db.connection_refused@0 startup.crash_loop@10 "
	      "health.check_failed@20 deploy.failed@300",
	      "one: db.connection_refused>startup.crash_loop>"
	      "health.check_failed>deploy.failed", "database refused");
	cause("db.pool_exhausted@0 perf.slow_request@1 perf.worker_timeout@31",
	      "one: db.pool_exhausted>perf.slow_request>perf.worker_timeout",
	      "pool exhausted");
	cause("memory.high_usage@0 memory.oom_killed@90 startup.crash_loop@120",
	      "one: memory.high_usage>memory.oom_killed>startup.crash_loop",
	      "memory");
	/* Order of discovery does not matter: the cause may come later
	 * than a symptom it leads to, as long as that one goes on. */
	cause("perf.slow_request@0-60 db.pool_exhausted@1",
	      "one: db.pool_exhausted>perf.slow_request", "cause second");
	/* ...but not when everything of the effect was over before. */
	cause("perf.slow_request@0-10 db.pool_exhausted@20",
	      "unconnected: perf.slow_request db.pool_exhausted",
	      "effect over before the cause");
	/* Two causes of one effect: no single cause. */
	cause("perf.slow_query@0 perf.slow_request@1-600 "
	      "perf.cache_unavailable@240",
	      "unconnected: perf.slow_query>perf.slow_request "
	      "perf.cache_unavailable>perf.slow_request", "two chains");
	/* A branch off the main chain. */
	cause("cors.config_invalid@0 startup.crash_loop@5 cors.blocked@6 "
	      "deploy.failed@300",
	      "one: cors.config_invalid>startup.crash_loop>deploy.failed "
	      "+cors.config_invalid>cors.blocked", "branch");
	/* One symptom; a closer no rule leads to. */
	cause("build.copy_failed deploy.failed",
	      "single: build.copy_failed>deploy.failed (untimed)",
	      "one symptom without time");
	cause("auth.invalid_token@0 deploy.rollback@30",
	      "single: auth.invalid_token ?deploy.rollback", "loose closer");
	/* No timestamps: line order only, said so. */
	cause("startup.missing_env_var startup.crash_loop",
	      "one: startup.missing_env_var>startup.crash_loop (untimed)",
	      "untimed chain");
	/* Unknown rules have no edges. */
	cause("custom.thing@0 db.connection_refused@5",
	      "unconnected: custom.thing db.connection_refused",
	      "rule not loaded");
}

static void test_ids(void)
{
	struct incident_pos p = { INT64_C(1771928117646), true, 3, 170 };
	char a[INCIDENTS_ID_SIZE], b[INCIDENTS_ID_SIZE], c[INCIDENTS_ID_SIZE];

	incidents_make_id(&p, "db.connection_refused",
			  "url postgresql://app:[REDACTED:3f2a9c]@db", a);
	incidents_make_id(&p, "db.connection_refused",
			  "url postgresql://app:[REDACTED:77aa01]@db", b);
	CHECK_STR(a, b, "ids ignore the keyed part of redaction markers");
	CHECK(strncmp(a, "inc-20260224-1015-", 18) == 0 && strlen(a) == 24,
	      "id shape '%s'", a);
	p.source_id = 9;
	incidents_make_id(&p, "db.connection_refused",
			  "url postgresql://app:[REDACTED:3f2a9c]@db", c);
	CHECK_STR(c, a, "the source's row id does not change the id");
	p.line_no = 171;
	incidents_make_id(&p, "db.connection_refused",
			  "url postgresql://app:[REDACTED:3f2a9c]@db", c);
	CHECK(strcmp(c, a) != 0, "another line, another id");
	p.has_ts = false;
	incidents_make_id(&p, "build.failed", "x", c);
	CHECK(strncmp(c, "inc-notime-", 11) == 0, "untimed id '%s'", c);
	CHECK(incidents_id_is_valid(a), "valid id");
	CHECK(!incidents_id_is_valid("inc-../x"), "slash refused");
	CHECK(!incidents_id_is_valid("x'; system(1)"), "quote refused");
	CHECK(!incidents_id_is_valid(""), "empty refused");
}

static void status(const char *msg, int want)
{
	CHECK(agg_http_status(msg) == want, "status %d in '%s' (got %d)", want,
	      msg, agg_http_status(msg));
}

static void test_status(void)
{
	status("INFO:     10.0.0.5:41234 - \"GET /api/v1/me HTTP/1.1\" 401 "
	       "Unauthorized", 401);
	status("10.0.0.5 - - [24/Feb/2026:14:03:11 +0000] \"GET /x HTTP/1.1\" "
	       "503 43 \"-\" \"curl\"", 503);
	status("at=info method=GET path=\"/\" status=502 bytes=0", 502);
	status("{\"method\":\"GET\",\"httpStatus\":500,\"totalDuration\":9}", 500);
	status("2026-02-24 14:04:46,634 INFO app.timing: GET /api/v1/tests/1 "
	       "500 30002.1ms", 500);
	status("ERROR: Exception in ASGI application", 0);
	status("Attempt #1 failed with status 503: starting", 0);
	status("GET /x 5000 12ms", 0);
	status("first line only\n\"GET / HTTP/1.1\" 500", 0);
}

static void headline(const char *msg, const char *want)
{
	char *got = agg_headline(msg);

	CHECK_STR(got, want, "headline");
	free(got);
}

static void test_headlines(void)
{
	char big[400];

	headline("one line", "one line");
	headline("first\nsecond", "first");
	headline("ERROR:    Traceback (most recent call last):\n"
		 "  File \"a.py\", line 1, in <module>\n"
		 "KeyError: 'JWT_SECRET_KEY'\n",
		 "KeyError: 'JWT_SECRET_KEY'");
	headline("Traceback (most recent call last):\n  File \"x\"\n"
		 "psycopg2.OperationalError: refused\n\nThe above exception "
		 "was the direct cause of the following exception:\n\n"
		 "Traceback (most recent call last):\n  File \"y\"\n"
		 "sqlalchemy.exc.OperationalError: (psycopg2) refused\n"
		 "(Background on this error at: https://sqlalche.me/e/20/e3q8)",
		 "sqlalchemy.exc.OperationalError: (psycopg2) refused");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char *h = agg_headline(big);

		CHECK(strlen(h) == AGG_HEADLINE_MAX + 3 &&
		      strcmp(h + AGG_HEADLINE_MAX, "...") == 0, "capped");
		free(h);
	}
}

static void md(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b);
	report_md_text(&b, in, strlen(in), 0);
	CHECK_STR(b.p, want, "markdown text of '%s'", in);
	buf_release(&b);
}

static void test_markdown(void)
{
	struct buf b;

	md("plain words: 1.5 (ok)", "plain words: 1.5 (ok)");
	md("<!-- x --> <script>", "&lt;!-- x --&gt; &lt;script&gt;");
	md("a|b *c* _d_ `e` [f](g) ~h~ $i$ \\", "a\\|b \\*c\\* \\_d\\_ \\`e\\` "
	   "\\[f\\](g) \\~h\\~ \\$i\\$ \\\\");
	md("tab\there\nnew line\r", "tab here new line ");
	md("caf\xc3\xa9 \xff", "caf\xc3\xa9 \xef\xbf\xbd");
	md("R&D", "R&amp;D");
	buf_init(&b);
	report_md_text(&b, "abcdef", 6, 3);
	CHECK_STR(b.p, "abc...", "cut");
	buf_clear(&b);
	report_md_code(&b, "a`b``c", false);
	CHECK_STR(b.p, "```a`b``c```", "code span longer than its runs");
	buf_clear(&b);
	report_md_code(&b, "`x|y", true);
	CHECK_STR(b.p, "`` `x\\|y ``", "code span padded, pipe escaped");
	buf_clear(&b);
	report_md_fence(&b, "text", "a\n````\nb", 8, "  ");
	CHECK_STR(b.p, "`````text\n  a\n  ````\n  b\n`````\n",
		  "fence longer than the content's runs, gutter");
	buf_clear(&b);
	report_md_fence(&b, "", "<!-- logtriage:end x -->\n\x01", 26, "");
	CHECK_STR(b.p, "```\n <!-- logtriage:end x -->\n\xef\xbf\xbd\n```\n",
		  "no marker at a line start; control bytes replaced");
	buf_clear(&b);
	report_shell_word(&b, "my db's.db");
	CHECK_STR(b.p, "'my db'\\''s.db'", "shell word quoted");
	buf_clear(&b);
	report_shell_word(&b, "data/ops.db");
	CHECK_STR(b.p, "data/ops.db", "plain shell word");
	buf_release(&b);
}

static void test_durations(void)
{
	char d[32];

	CHECK_STR(agg_duration(1646, d, sizeof(d)), "1.6s", "seconds");
	CHECK_STR(agg_duration(59000, d, sizeof(d)), "59s", "under a minute");
	CHECK_STR(agg_duration(565239, d, sizeof(d)), "9m25s", "minutes");
	CHECK_STR(agg_duration(7500000, d, sizeof(d)), "2h05m", "hours");
	CHECK_STR(agg_duration(273600000, d, sizeof(d)), "3d04h", "days");
	CHECK_STR(agg_duration(-5, d, sizeof(d)), "0.0s", "negative is 0");
}

static int fk_on(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(store_db(st), "PRAGMA foreign_keys", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A new database in a temporary file: path (a mkstemp template) and db
 * (its name) are filled in. NULL when it cannot be made (checked). */
static struct store *temp_store(char *path, char *db, size_t n)
{
	struct store *st = NULL;
	int fd = mkstemp(path);

	CHECK(fd >= 0, "temporary name");
	if (fd < 0)
		return NULL;
	close(fd);
	unlink(path);
	snprintf(db, n, "%s.db", path);
	CHECK(store_open(&st, db) == 0, "store_open %s", db);
	return st;
}

static void temp_store_close(struct store *st, const char *path)
{
	static const char *const ext[] = { ".db", ".db-wal", ".db-shm" };
	char db[64];
	size_t i;

	store_close(st);
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		snprintf(db, sizeof(db), "%s%s", path, ext[i]);
		unlink(db);
	}
}

/* Detection writes without the checks and turns them on again. */
static void test_detect_keeps_foreign_keys(void)
{
	char path[] = "/tmp/t_incidents.XXXXXX";
	char db[64];
	struct store *st = NULL;
	struct incident_list l;

	st = temp_store(path, db, sizeof(db));
	if (st == NULL)
		return;
	CHECK(fk_on(st) == 1, "foreign keys on after store_open");
	CHECK(incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS, &l) == 0,
	      "detect on an empty database");
	CHECK(l.n == 0, "no incidents (%zu)", l.n);
	incident_list_release(&l);
	CHECK(fk_on(st) == 1, "foreign keys on after detection");
	temp_store_close(st, path);
}

/*
 * Detection reads the stored events as a stream (time order from the
 * events_ts index, events without a time sorted by SQLite, merged) and
 * segments them as they come. Compare it with the reference, the whole
 * set loaded, incidents_sort() and incidents_segment(), over random
 * databases: sources with and without times and with untimed heads,
 * many events per millisecond across sources, several rules on one line,
 * deploy markers and info events, rows stored out of time order.
 */
static uint64_t rnd_state;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * UINT64_C(6364136223846793005) +
		    UINT64_C(1442695040888963407);
	return (unsigned)(rnd_state >> 33) % n;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* "id,id,...;id,...;" over segments, each sorted, segments sorted. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static char *canonical(char **sets, size_t n)
{
	struct buf b;
	size_t i;

	qsort(sets, n, sizeof(*sets), cmp_str);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		buf_addf(&b, "%s;", sets[i]);
		free(sets[i]);
	}
	free(sets);
	return buf_detach(&b, NULL);
}

static char *ids_text(int64_t *ids, size_t n)
{
	struct buf b;
	size_t i;

	qsort(ids, n, sizeof(*ids), cmp_i64);
	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
	return buf_detach(&b, NULL);
}

/* The reference: every event in memory, sorted, segmented. */
static char *reference(sqlite3 *db, int64_t gap, size_t *nseg_out)
{
	sqlite3_stmt *s;
	struct incident_event *ev = NULL;
	struct incident_segment *seg;
	struct incident_pos head[3];
	size_t n = 0, k, nseg;
	char **sets;

	memset(head, 0, sizeof(head));
	if (sqlite3_prepare_v2(db, "SELECT id, rule_id, severity, ts, "
			       "source_id, line_no FROM events", -1, &s,
			       NULL) != SQLITE_OK)
		return xstrdup("prepare failed");
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct incident_event e;
		const struct rule *r;
		int sv = rules_sev_parse((const char *)sqlite3_column_text(s, 2));

		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(s, 0);
		r = rules_find(rs, (const char *)sqlite3_column_text(s, 1));
		e.rule_id = r ? r->id : "";
		e.sev = (enum rule_sev)sv;
		e.kind = incidents_kind(e.rule_id, e.sev);
		if (e.kind == INCIDENT_OTHER)
			continue;
		e.pos.source_id = sqlite3_column_int64(s, 4);
		e.pos.line_no = (uint64_t)sqlite3_column_int64(s, 5);
		e.pos.has_ts = sqlite3_column_type(s, 3) != SQLITE_NULL;
		e.pos.ts = sqlite3_column_int64(s, 3);
		/* a time of its source's, looked up once per source */
		if (!e.pos.has_ts && e.pos.source_id >= 1 &&
		    e.pos.source_id <= 3) {
			struct incident_pos *h = &head[e.pos.source_id - 1];

			if (h->source_id == 0)
				incidents_event_pos(db, e.pos.source_id, 0,
						    false, 0, h);
			e.pos.ts = h->ts;
			e.pos.has_ts = h->has_ts;
		}
		if ((n & (n - 1)) == 0)        /* 0, 1, 2, 4, ...: grow */
			ev = xrealloc(ev, (n ? 2 * n : 1) * sizeof(*ev));
		ev[n++] = e;
	}
	sqlite3_finalize(s);
	incidents_sort(ev, n);
	nseg = incidents_segment(ev, n, gap, &seg);
	sets = xcalloc(nseg + 1, sizeof(*sets));
	for (k = 0; k < nseg; k++) {
		int64_t *ids = xcalloc(seg[k].n, sizeof(*ids));
		size_t j;

		for (j = 0; j < seg[k].n; j++)
			ids[j] = ev[seg[k].first + j].id;
		sets[k] = ids_text(ids, seg[k].n);
		free(ids);
	}
	free(seg);
	free(ev);
	*nseg_out = nseg;
	return canonical(sets, nseg);
}

/* What detection stored: the events linked to each incident. */
static char *stored(sqlite3 *db, size_t *n_out)
{
	sqlite3_stmt *s, *l;
	char **sets = NULL;
	size_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT id FROM incidents", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT event_id FROM incident_events "
			       "WHERE incident_id = ?1", -1, &l,
			       NULL) != SQLITE_OK)
		return xstrdup("prepare failed");
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t *ids = NULL;
		size_t m = 0;

		sqlite3_reset(l);
		sqlite3_bind_text(l, 1, (const char *)sqlite3_column_text(s, 0),
				  -1, SQLITE_TRANSIENT);
		while (sqlite3_step(l) == SQLITE_ROW) {
			ids = xrealloc(ids, (m + 1) * sizeof(*ids));
			ids[m++] = sqlite3_column_int64(l, 0);
		}
		sets = xrealloc(sets, (n + 1) * sizeof(*sets));
		sets[n++] = ids_text(ids, m);
		free(ids);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(l);
	*n_out = n;
	return canonical(sets, n);
}

#define PUT_EVENT "INSERT OR IGNORE INTO events(rule_id, severity, ts, " \
		  "source_id, line_no, byte_offset, message) VALUES (?1, ?2, " \
		  "?3, ?4, ?5, 0, ?6)"

/* Store one event of rule id with PUT_EVENT. Return 0 or -1. */
static int put_event(sqlite3_stmt *s, const char *id, bool has_ts,
		     int64_t ts, unsigned src, uint64_t line, const char *msg)
{
	const struct rule *r = rules_find(rs, id);

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rules_sev_name(r->severity), -1,
			  SQLITE_STATIC);
	if (has_ts)
		sqlite3_bind_int64(s, 3, ts);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_int(s, 4, (int)src);
	sqlite3_bind_int64(s, 5, (int64_t)line);
	sqlite3_bind_text(s, 6, msg, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
}

static const char *const stream_rules[] = {
	"db.connection_refused", "health.check_failed", "perf.slow_query",
	"memory.oom_killed", "deploy.started", "deploy.failed",
	"deploy.rollback", "health.check_passed", "app.startup_complete",
};

/* One random database of about n events in the store's database. */
static int fill_random(sqlite3 *db, unsigned n)
{
	static const char *const src_sql =
		"INSERT INTO sources(id, name, identity, head_len, head_hash, "
		"first_analyzed, last_analyzed) VALUES (?1, 'src', ?1, 0, '', "
		"0, 0)";
	sqlite3_stmt *s, *src;
	unsigned i, k;
	/* per source: 0 timed with untimed head, 1 timed, 2 untimed */
	uint64_t line[3] = { 0, 0, 0 };
	int64_t t = INT64_C(1771927200000);

	if (exec(db, "BEGIN; DELETE FROM incident_events; DELETE FROM "
		 "incidents; DELETE FROM events; DELETE FROM sources") < 0 ||
	    incidents_forget(db) < 0 ||
	    sqlite3_prepare_v2(db, src_sql, -1, &src, NULL) != SQLITE_OK)
		return -1;
	for (k = 1; k <= 3; k++) {
		sqlite3_reset(src);
		sqlite3_bind_int(src, 1, (int)k);
		if (sqlite3_step(src) != SQLITE_DONE)
			return sqlite3_finalize(src), -1;
	}
	sqlite3_finalize(src);
	if (sqlite3_prepare_v2(db, PUT_EVENT, -1, &s, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned src_i = rnd(3), rules = 1 + (rnd(4) == 0), r;
		char msg[32];

		/* time moves by 0 to 20 minutes, mostly by little */
		t += rnd(4) == 0 ? (int64_t)rnd(20 * 60) * 1000 : rnd(3);
		line[src_i] += 1 + rnd(3);
		snprintf(msg, sizeof(msg), "m%u", rnd(5));
		for (r = 0; r < rules; r++) {
			const char *id = stream_rules[rnd(ARRAY_SIZE(stream_rules))];
			bool untimed = src_i == 2 || (src_i == 0 && line[0] < 12);

			/* rows of one time stored out of order now and then */
			if (put_event(s, id, !untimed,
				      rnd(8) == 0 ? t - rnd(3) : t, src_i + 1,
				      line[src_i], msg) < 0)
				return sqlite3_finalize(s), -1;
		}
	}
	sqlite3_finalize(s);
	return exec(db, "COMMIT");
}

static void test_detect_stream(void)
{
	char path[] = "/tmp/t_incidents.XXXXXX";
	char db[64];
	struct store *st = NULL;
	unsigned round;

	st = temp_store(path, db, sizeof(db));
	if (st == NULL)
		return;
	for (round = 0; round < 40; round++) {
		int64_t gap = round % 4 == 3 ? 60 * 1000 :
			      INCIDENTS_GAP_DEFAULT_MS;
		struct incident_list l;
		size_t nref = 0, ngot = 0;
		char *want, *got;
		bool ok;

		rnd_state = round + 1;
		if (fill_random(store_db(st), 50 + 40 * round) < 0) {
			CHECK(0, "round %u: filling the database", round);
			break;
		}
		want = reference(store_db(st), gap, &nref);
		ok = incidents_detect(st, rs, gap, &l) == 0;
		got = stored(store_db(st), &ngot);
		CHECK(ok && l.n == nref && ngot == nref &&
		      strcmp(got, want) == 0,
		      "round %u: %zu incidents streamed as in memory", round,
		      nref);
		if (strcmp(got, want) != 0)
			printf("#   got:  %s\n#   want: %s\n", got, want);
		incident_list_release(&l);
		free(want);
		free(got);
	}
	temp_store_close(st, path);
}

/*
 * Detecting again after more events were stored reads only from the
 * incident they continue (incidents.c, "Detecting again"). Store random
 * events in batches as runs would: later lines of the same sources,
 * a source without times growing, a source whose untimed head gets its
 * first time later, and a source backfilled with older times (trigger
 * markers among them). After each batch, detection must give what the
 * in-memory reference gives over everything, and a detection over
 * everything (incidents_forget first) must find the same rows.
 */
static const char *const batch_rules[] = {
	"db.connection_refused", "health.check_failed", "perf.slow_query",
	"deploy.started", "deploy.failed", "deploy.rollback",
	"deploy.succeeded", "db.migration", "health.check_passed",
};

struct batch_state {
	uint64_t line[4];
	int64_t t, t_back;
};

static int add_batch(sqlite3 *db, struct batch_state *bs, unsigned n,
		     bool backfill)
{
	sqlite3_stmt *s;
	unsigned i, r;

	if (sqlite3_prepare_v2(db, PUT_EVENT, -1, &s, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned src = backfill ? 3 : rnd(3);
		int64_t *t = backfill ? &bs->t_back : &bs->t;
		unsigned rules = 1 + (rnd(4) == 0);

		*t += rnd(4) == 0 ? (int64_t)rnd(20 * 60) * 1000 : rnd(3);
		bs->line[src] += 1 + rnd(3);
		for (r = 0; r < rules; r++) {
			const char *id = batch_rules[rnd(ARRAY_SIZE(batch_rules))];
			bool untimed = src == 2 || (src == 0 && bs->line[0] < 40);

			if (put_event(s, id, !untimed, *t, src + 1,
				      bs->line[src], "m") < 0)
				return sqlite3_finalize(s), -1;
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/* Every column of every incident, and the incidents as listed. */
static char *incidents_dump(sqlite3 *db, const struct incident_list *l)
{
	sqlite3_stmt *s;
	struct buf b;
	size_t i;

	buf_init(&b);
	if (sqlite3_prepare_v2(db, "SELECT id, start_ts, end_ts, severity, "
			       "root_rule, title, details FROM incidents "
			       "ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return buf_adds(&b, "prepare failed"), buf_detach(&b, NULL);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int c;

		for (c = 0; c < 7; c++)
			buf_addf(&b, "%s|", sqlite3_column_text(s, c) ?
				 (const char *)sqlite3_column_text(s, c) : "-");
		buf_adds(&b, "\n");
	}
	sqlite3_finalize(s);
	for (i = 0; i < l->n; i++)
		buf_addf(&b, "%s %llu %s\n", l->v[i].id,
			 (unsigned long long)l->v[i].events, l->v[i].details);
	return buf_detach(&b, NULL);
}

static void test_detect_again(void)
{
	char path[] = "/tmp/t_incidents.XXXXXX";
	char db[64];
	struct store *st = NULL;
	unsigned round, batch;

	st = temp_store(path, db, sizeof(db));
	if (st == NULL)
		return;
	for (round = 0; round < 12; round++) {
		sqlite3 *h = store_db(st);
		struct batch_state bs;
		bool ok = true;
		unsigned bad = 0, partial = 0;

		rnd_state = 1000 + round;
		memset(&bs, 0, sizeof(bs));
		bs.t = INT64_C(1771927200000);
		bs.t_back = bs.t - INT64_C(6) * 3600 * 1000;
		if (fill_random(h, 0) < 0 ||
		    exec(h, "INSERT INTO sources(id, name, identity, head_len, "
			 "head_hash, first_analyzed, last_analyzed) VALUES "
			 "(4, 'src', 4, 0, '', 0, 0)") < 0) {
			CHECK(0, "round %u: filling the database", round);
			break;
		}
		for (batch = 0; batch < 8 && ok; batch++) {
			struct incident_list l, full;
			size_t nref = 0, ngot = 0;
			char *want, *got, *inc, *again;

			ok = add_batch(h, &bs, 20 + rnd(60),
				       batch % 3 == 2) == 0;
			want = reference(h, INCIDENTS_GAP_DEFAULT_MS, &nref);
			ok = ok && incidents_detect(st, rs,
				INCIDENTS_GAP_DEFAULT_MS, &l) == 0;
			if (batch > 0 && incidents_test_t0 > INT64_MIN)
				partial++;
			got = stored(h, &ngot);
			inc = incidents_dump(h, &l);
			ok = ok && incidents_forget(h) == 0 &&
			     incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS,
					      &full) == 0;
			again = incidents_dump(h, &full);
			if (!ok || strcmp(got, want) != 0 ||
			    strcmp(inc, again) != 0) {
				if (bad++ == 0)
					printf("#   batch %u:\n#   got:  %s\n"
					       "#   want: %s\n#   detected:\n%s"
					       "#   over everything:\n%s", batch,
					       got, want, inc, again);
			}
			ok = ok && bad == 0;
			incident_list_release(&l);
			incident_list_release(&full);
			free(want);
			free(got);
			free(inc);
			free(again);
		}
		CHECK(ok && bad == 0, "round %u: detected again after each of "
		      "8 batches as over everything", round);
		CHECK(partial > 0, "round %u: %u of 7 detections again read "
		      "from an incident on, not everything", round, partial);
	}
	temp_store_close(st, path);
}

/* Two stored states: the incidents after detecting again over the
 * second must be those of a detection over everything. */
static void again_case(struct store *st, const char *first,
		       const char *then, int64_t want_t0, const char *what)
{
	sqlite3 *h = store_db(st);
	struct incident_list l, full;
	char *inc, *again;
	bool ok;

	ok = exec(h, "DELETE FROM incident_events; DELETE FROM incidents; "
		  "DELETE FROM events; DELETE FROM sources; "
		  "INSERT INTO sources(id, name, identity, head_len, head_hash, "
		  "first_analyzed, last_analyzed) VALUES (1, 'a', 'a', 0, '', "
		  "0, 0), (2, 'b', 'b', 0, '', 0, 0)") == 0 &&
	     incidents_forget(h) == 0 && exec(h, first) == 0 &&
	     incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS, &l) == 0;
	incident_list_release(&l);
	ok = ok && exec(h, then) == 0 &&
	     incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS, &l) == 0;
	CHECK(ok && incidents_test_t0 > INT64_MIN,
	      "%s: detected again from an incident on", what);
	if (want_t0)
		CHECK(incidents_test_t0 == want_t0, "%s: from %lld (%lld)",
		      what, (long long)want_t0, (long long)incidents_test_t0);
	inc = incidents_dump(h, &l);
	ok = incidents_forget(h) == 0 &&
	     incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS, &full) == 0;
	again = incidents_dump(h, &full);
	CHECK(ok, "%s: detected over everything", what);
	CHECK_STR(inc, again, "%s: the same incidents", what);
	incident_list_release(&l);
	incident_list_release(&full);
	free(inc);
	free(again);
}

#define EV "INSERT INTO events(rule_id, severity, ts, source_id, line_no, " \
	   "byte_offset, message) VALUES "

static void test_detect_again_cases(void)
{
	char path[] = "/tmp/t_incidents.XXXXXX";
	char db[64];
	struct store *st = NULL;

	st = temp_store(path, db, sizeof(db));
	if (st == NULL)
		return;
	/* A deploy stored later, an hour before an incident: its trigger. */
	again_case(st,
		   EV "('db.connection_refused', 'critical', 1771927200000, 1, "
		   "10, 0, 'refused')",
		   EV "('deploy.succeeded', 'info', 1771923600000, 2, 3, 0, "
		   "'deployed')",
		   1771923600000, "a backfilled trigger marker");
	/* A source without times gets one: its head moves there. */
	again_case(st,
		   EV "('db.connection_refused', 'critical', 1771927200000, 1, "
		   "10, 0, 'refused'), ('health.check_failed', 'critical', "
		   "NULL, 2, 1, 0, 'failed')",
		   EV "('health.check_passed', 'info', 1771927260000, 2, 9, 0, "
		   "'passed')",
		   1771927200000, "an untimed head that gets a time");
	/* A symptom within the gap of the last incident continues it. */
	again_case(st,
		   EV "('db.connection_refused', 'critical', 1771927200000, 1, "
		   "10, 0, 'refused'), ('db.connection_refused', 'critical', "
		   "1771927500000, 1, 11, 0, 'refused')",
		   EV "('health.check_failed', 'critical', 1771928100000, 1, "
		   "12, 0, 'failed')",
		   1771927200000,
		   "a symptom that continues the last incident");
	/*
	 * An incident closed in the millisecond the next one starts in:
	 * reading from the second's start would make the first's last
	 * events an incident of their own.
	 */
	again_case(st,
		   EV "('db.connection_refused', 'critical', 1771927200000, 1, "
		   "1, 0, 'refused'), ('db.connection_refused', 'critical', "
		   "1771927500000, 1, 2, 0, 'refused'), ('deploy.failed', "
		   "'info', 1771927500000, 1, 3, 0, 'failed'), "
		   "('health.check_failed', 'critical', 1771927500000, 2, 1, 0, "
		   "'failed')",
		   EV "('health.check_failed', 'critical', 1771927560000, 2, 2, "
		   "0, 'failed')",
		   1771927200000,
		   "an incident closed in the millisecond the next starts");
	/*
	 * A source with an untimed head keeps its first time when it grows:
	 * its head does not move, and detection reads from its last
	 * incident, not from its head.
	 */
	again_case(st,
		   EV "('db.connection_refused', 'critical', NULL, 1, 1, 0, "
		   "'refused'), ('db.connection_refused', 'critical', "
		   "1771927200000, 1, 2, 0, 'refused'), "
		   "('db.connection_refused', 'critical', 1771930800000, 1, 3, "
		   "0, 'refused'), ('db.connection_refused', 'critical', "
		   "1771934400000, 1, 4, 0, 'refused')",
		   EV "('health.check_failed', 'critical', 1771934700000, 1, 5, "
		   "0, 'failed')",
		   1771934400000, "a growing source with an untimed head");
	/* ... but a new line without a time of its own sits at the head. */
	again_case(st,
		   EV "('db.connection_refused', 'critical', NULL, 1, 1, 0, "
		   "'refused'), ('db.connection_refused', 'critical', "
		   "1771927200000, 1, 2, 0, 'refused'), "
		   "('db.connection_refused', 'critical', 1771930800000, 1, 3, "
		   "0, 'refused')",
		   EV "('health.check_failed', 'critical', NULL, 1, 5, 0, "
		   "'failed')",
		   1771927200000, "a new untimed line in a timed source");
	/* Events deleted by hand (not by prune): everything is read again. */
	{
		struct incident_list l;
		sqlite3 *h = store_db(st);
		bool ok = exec(h, "DELETE FROM incident_events; DELETE FROM "
			       "events WHERE id = (SELECT min(id) FROM events)") == 0 &&
			  incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS,
					   &l) == 0;

		CHECK(ok && incidents_test_t0 == INT64_MIN,
		      "the first event deleted: detected over everything");
		incident_list_release(&l);
	}
	temp_store_close(st, path);
}

/*
 * The trigger and the recovery of an incident, against a reference that
 * reads every row: the timed markers of the rules (before or after the
 * position, within the day), the nearest in (time, source, line, row id)
 * order, never one on the position's own line that comes after it (for
 * a trigger) or on or before it (for a recovery); for a trigger, an
 * untimed marker at the head of the position's source counts at the
 * source's first time. The random databases put two rules on a line now
 * and then and several lines on one millisecond.
 */
struct mrow {
	int64_t id, ts, src, line;
	bool has_ts;
	char rule[32];
};

static bool in_set(const char *id, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(id, v[i]) == 0)
			return true;
	return false;
}

/* -1, 0, 1 as a comes before b in (ts, source, line, id) order. */
static int mrow_cmp(const struct mrow *a, const struct mrow *b)
{
	int64_t x[4] = { a->ts, a->src, a->line, a->id };
	int64_t y[4] = { b->ts, b->src, b->line, b->id };
	size_t i;

	for (i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static int64_t ref_trigger(const struct mrow *v, size_t n,
			   const struct mrow *at)
{
	static const char *const trig[] = { "deploy.started",
		"deploy.succeeded", "deploy.rollback", "db.migration" };
	const struct mrow *best = NULL, *head = NULL;
	int64_t first_ts = 0;
	bool first_has = false;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct mrow *m = &v[i];

		if (!in_set(m->rule, trig, ARRAY_SIZE(trig)))
			continue;
		if (!at->has_ts) {
			/* in a source without times: the nearest above */
			if (!m->has_ts && m->src == at->src &&
			    m->line < at->line && (best == NULL ||
			    m->line > best->line || (m->line == best->line &&
						     m->id > best->id)))
				best = m;
			continue;
		}
		if (!m->has_ts) {
			if (m->src == at->src && m->line < at->line &&
			    (head == NULL || m->line > head->line ||
			     (m->line == head->line && m->id > head->id)))
				head = m;
			continue;
		}
		if (m->ts < at->ts - INCIDENTS_TRIGGER_LOOKBACK_MS ||
		    m->ts > at->ts || (m->ts == at->ts && m->src == at->src &&
				       m->line > at->line))
			continue;
		if (best == NULL || mrow_cmp(m, best) > 0)
			best = m;
	}
	if (head != NULL) {
		int64_t line = 0;

		for (i = 0; i < n; i++)
			if (v[i].src == at->src && v[i].has_ts &&
			    (!first_has || v[i].line < line)) {
				first_has = true;
				line = v[i].line;
				first_ts = v[i].ts;
			}
		if (first_has && (best == NULL || best->ts < first_ts))
			return head->id;
	}
	return best ? best->id : 0;
}

static int64_t ref_recovery(const struct mrow *v, size_t n,
			    const struct mrow *at)
{
	static const char *const ok[] = { "health.check_passed",
		"app.startup_complete", "deploy.succeeded" };
	const struct mrow *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct mrow *m = &v[i];

		if (!at->has_ts) {
			/* in a source without times: the nearest below */
			if (!m->has_ts && m->src == at->src &&
			    m->line > at->line && in_set(m->rule, ok,
							 ARRAY_SIZE(ok)) &&
			    (best == NULL || m->line < best->line ||
			     (m->line == best->line && m->id < best->id)))
				best = m;
			continue;
		}
		if (!m->has_ts || !in_set(m->rule, ok, ARRAY_SIZE(ok)) ||
		    m->ts < at->ts ||
		    m->ts > at->ts + INCIDENTS_RECOVERY_LOOKAHEAD_MS ||
		    (m->ts == at->ts && m->src == at->src &&
		     m->line <= at->line))
			continue;
		if (best == NULL || mrow_cmp(m, best) < 0)
			best = m;
	}
	return best ? best->id : 0;
}

static void test_markers(void)
{
	char path[] = "/tmp/t_incidents.XXXXXX";
	char db[64];
	struct store *st = temp_store(path, db, sizeof(db));
	unsigned round, checked = 0, found = 0, wrong = 0;

	if (st == NULL)
		return;
	for (round = 0; round < 20; round++) {
		struct incident_markers *mk;
		struct mrow *v = NULL;
		size_t n = 0, cap = 0, i;
		sqlite3_stmt *s;

		rnd_state = 1000 + round;
		if (fill_random(store_db(st), 60 + 30 * round) < 0 ||
		    sqlite3_prepare_v2(store_db(st), "SELECT id, rule_id, ts, "
				       "source_id, line_no FROM events", -1,
				       &s, NULL) != SQLITE_OK) {
			CHECK(0, "round %u: filling the database", round);
			break;
		}
		mk = incident_markers_new(store_db(st));
		while (sqlite3_step(s) == SQLITE_ROW) {
			struct mrow *m;

			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				v = xrealloc(v, cap * sizeof(*v));
			}
			m = &v[n++];
			m->id = sqlite3_column_int64(s, 0);
			snprintf(m->rule, sizeof(m->rule), "%s",
				 (const char *)sqlite3_column_text(s, 1));
			m->has_ts = sqlite3_column_type(s, 2) != SQLITE_NULL;
			m->ts = sqlite3_column_int64(s, 2);
			m->src = sqlite3_column_int64(s, 3);
			m->line = sqlite3_column_int64(s, 4);
		}
		sqlite3_finalize(s);
		for (i = 0; i < n; i++) {
			struct incident_pos p;
			struct incident_marker t, r;
			int64_t wt, wr;

			memset(&p, 0, sizeof(p));
			p.has_ts = v[i].has_ts;
			p.ts = v[i].ts;
			p.source_id = v[i].src;
			p.line_no = (uint64_t)v[i].line;
			wt = ref_trigger(v, n, &v[i]);
			wr = ref_recovery(v, n, &v[i]);
			if (incidents_find_trigger(mk, &p, &t) < 0 ||
			    incidents_find_recovery(mk, &p, &r) < 0 ||
			    t.event_id != wt || r.event_id != wr) {
				if (wrong++ < 5)
					printf("#   round %u, row %" PRId64
					       ": trigger %" PRId64 " (want %"
					       PRId64 "), recovery %" PRId64
					       " (want %" PRId64 ")\n", round,
					       v[i].id, t.event_id, wt,
					       r.event_id, wr);
			}
			checked++;
			found += (wt != 0) + (wr != 0);
			incident_marker_release(&t);
			incident_marker_release(&r);
		}
		incident_markers_free(mk);
		free(v);
	}
	CHECK(checked > 1000 && found > 1000 && wrong == 0,
	      "triggers and recoveries of %u positions as the reference "
	      "finds them (%u found, %u wrong)", checked, found, wrong);
	temp_store_close(st, path);
}

int main(void)
{
	rs = rules_new();
	if (rules_load_builtin(rs) < 0 || rules_compile(rs, false) < 0)
		return 1;
	test_segments();
	test_causes();
	test_ids();
	test_status();
	test_headlines();
	test_markdown();
	test_durations();
	test_detect_keeps_foreign_keys();
	test_detect_stream();
	test_detect_again();
	test_detect_again_cases();
	test_markers();
	rules_free(rs);
	return unit_done();
}

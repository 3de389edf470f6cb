/*
 * t_rules.c - unit tests for stage 4 helpers: the literal a pattern
 * needs (the prefilter), unit normalisation, the level words, and
 * forgetting the windows' counts.
 */
#include "common.h"
#include "parse.h"
#include "buf.h"
#include "rules.h"
#include "unit.h"

static void literal(const char *re, const char *want, bool want_ci)
{
	bool ci = false;
	char *got = rules_derive_literal(re, &ci);

	CHECK_STR(got, want, "literal of '%s'", re);
	if (want)
		CHECK(ci == want_ci, "case of '%s'", re);
	free(got);
}

static void test_literals(void)
{
	literal("Connection refused", "Connection refused", false);
	literal("(?i)connection refused", "connection refused", true);
	literal("could not connect to server: (?<why>.*)",
		"could not connect to server: ", false);
	literal("port (?<port>\\d+) failed: Connection refused",
		" failed: Connection refused", false);
	literal("WORKER TIMEOUT \\(pid:\\d+\\)", "WORKER TIMEOUT (pid:", false);
	literal("a|b long alternative", NULL, false);
	literal("ab", NULL, false);
	literal("colou?r name", "r name", false);
	literal("x{2,3}yyyy", "yyyy", false);
	literal("[abc]+ class then literal", " class then literal", false);
	literal("(?x) spaced pattern", NULL, false);
	literal("\\QExact\\E", NULL, false);
	literal("Exited (137)", "Exited ", false);
	literal("^Traceback \\(most recent call last\\):$",
		"Traceback (most recent call last):", false);
	literal("ERROR: failed to solve: (?<step>.+)", "ERROR: failed to solve: ",
		false);
}

static void unit(const char *u, double in, const char *canon, double want)
{
	double v = in;
	const char *got = rules_unit_normalise(u, strlen(u), &v);

	CHECK_STR(got, canon, "unit '%s'", u);
	if (canon)
		CHECK(v > want - 1e-9 && v < want + 1e-9,
		      "%g %s = %g %s (got %g)", in, u, want, canon, v);
}

static void test_units(void)
{
	unit("ms", 5234.5, "ms", 5234.5);
	unit("s", 6.2, "ms", 6200);
	unit("us", 1500, "ms", 1.5);
	unit("m", 2, "ms", 120000);
	unit("MB", 512, "MiB", 512);
	unit("GiB", 1.5, "MiB", 1536);
	unit("kB", 2048, "MiB", 2);
	unit("M", 627, "MiB", 627);
	unit("%", 95, "%", 95);
	unit("furlongs", 1, NULL, 1);
	unit("", 1, NULL, 1);
}

static void level(const char *line, enum parse_level want)
{
	CHECK(parse_text_level(line, strlen(line)) == (int)want,
	      "level of '%s' is '%s' (got '%s')", line,
	      parse_level_name(want),
	      parse_level_name((enum parse_level)parse_text_level(line,
							  strlen(line))));
}

static void test_levels(void)
{
	level("INFO:     Started server process [1]", PARSE_LEVEL_INFO);
	level("ERROR:    Exception in ASGI application", PARSE_LEVEL_ERROR);
	level("[2026-02-24 10:15:02 +0000] [1] [CRITICAL] WORKER TIMEOUT",
	      PARSE_LEVEL_CRITICAL);
	level("2026-02-24 10:15:02.123 UTC [77] FATAL:  password "
	      "authentication failed", PARSE_LEVEL_CRITICAL);
	level("2026-02-24 10:15:02.123 UTC [77] LOG:  duration: 1 ms",
	      PARSE_LEVEL_INFO);
	level("2026-02-24 10:15:02,123 WARNING app: slow", PARSE_LEVEL_WARNING);
	level("time=2026-02-24T10:15:02Z level=error msg=boom",
	      PARSE_LEVEL_ERROR);
	level("2026/02/24 10:15:02 [error] 7#7: upstream timed out",
	      PARSE_LEVEL_ERROR);
	level("an error occurred while reading", PARSE_LEVEL_NONE);
	level("Traceback (most recent call last):", PARSE_LEVEL_NONE);
	level("GET /login 200 LOGIN ok", PARSE_LEVEL_NONE);
}

struct fired {
	const char *id;
	unsigned fired, hits;
};

/* Matches reported with another rule's index (each caller checks). */
static const struct rules *index_rs;
static unsigned index_wrong, index_seen;

static int on_fire(void *arg, const struct rules_match *m)
{
	struct fired *f = arg;

	index_seen++;
	if (rules_at(index_rs, m->index) != m->rule)
		index_wrong++;

	if (strcmp(m->rule->id, f->id) == 0 && m->fired) {
		f->fired++;
		f->hits = m->window_hits;
	}
	return 0;
}

/* Feed n 401 lines a second apart from ts; how many fired the burst? */
static unsigned feed_401(struct rules *rs, unsigned n, int64_t ts,
			 unsigned *hits)
{
	static const char line[] = "INFO:     100.64.0.7:51972 - "
				   "\"GET /api/v1/me HTTP/1.1\" 401 Unauthorized";
	struct fired f = { "auth.unauthorized_burst", 0, 0 };
	struct rules_input in;
	unsigned i;

	memset(&in, 0, sizeof(in));
	in.message.p = line;
	in.message.len = sizeof(line) - 1;
	in.has_ts = true;
	index_rs = rs;
	for (i = 0; i < n; i++) {
		in.ts = ts + (int64_t)i * 1000;
		rules_prefilter(rs, line, sizeof(line) - 1, false);
		CHECK(rules_eval(rs, &in, on_fire, &f) == 0, "eval 401 line");
	}
	*hits = f.hits;
	return f.fired;
}

/* Evaluate one line at ts; did rule id fire? */
static unsigned feed_line(struct rules *rs, const char *line, int64_t ts,
			  const char *id)
{
	struct fired f = { id, 0, 0 };
	struct rules_input in;

	memset(&in, 0, sizeof(in));
	in.message.p = line;
	in.message.len = strlen(line);
	in.has_ts = true;
	in.ts = ts;
	index_rs = rs;
	rules_prefilter(rs, line, in.message.len, false);
	CHECK(rules_eval(rs, &in, on_fire, &f) == 0, "eval '%s'", line);
	return f.fired;
}

/*
 * health.startup_too_slow fires when startup completes after a failed
 * health check ('after'); forgetting the failure breaks the sequence.
 */
static void test_forget_after(void)
{
	static const char failed[] = "1/1 replicas never became healthy!";
	static const char done[] = "INFO:     Application startup complete.";
	struct rules *rs = rules_new();
	const int64_t t0 = 1771891200000;

	CHECK(rules_load_builtin(rs) == 0 && rules_compile(rs, false) == 0,
	      "built-in rules compile");
	CHECK(feed_line(rs, failed, t0, "health.check_failed") == 1,
	      "the failed check fires");
	CHECK(feed_line(rs, done, t0 + 120000, "health.startup_too_slow") == 1,
	      "startup 2 min after it is too slow");
	CHECK(feed_line(rs, failed, t0 + 200000, "health.check_failed") == 1,
	      "another failed check fires");
	rules_forget(rs);
	CHECK(feed_line(rs, done, t0 + 320000, "health.startup_too_slow") == 0,
	      "after rules_forget, startup follows no failed check");
	rules_free(rs);
}

/* auth.unauthorized_burst needs 20 in 60 s; forgetting starts over. */
static void test_forget(void)
{
	struct rules *rs = rules_new();
	const int64_t t0 = 1771891200000;
	unsigned hits = 0, n;

	CHECK(rules_load_builtin(rs) == 0 && rules_compile(rs, false) == 0,
	      "built-in rules compile");
	CHECK(feed_401(rs, 19, t0, &hits) == 0, "19 in 19 s: no burst");
	n = feed_401(rs, 1, t0 + 19000, &hits);
	CHECK(n == 1 && hits == 20, "the 20th fires with 20 hits (%u, %u)",
	      n, hits);
	/* A fired window starts counting again: 10, forget, 10 more. */
	CHECK(feed_401(rs, 10, t0 + 20000, &hits) == 0, "10 more: no burst");
	rules_forget(rs);
	n = feed_401(rs, 10, t0 + 30000, &hits);
	CHECK(n == 0, "10 after rules_forget: no burst (%u fired)", n);
	n = feed_401(rs, 10, t0 + 40000, &hits);
	CHECK(n == 1 && hits == 20,
	      "the 20th after forgetting fires with 20 hits (%u, %u)", n, hits);
	rules_free(rs);
}

/*
 * A saved state, loaded into a fresh set of rules, goes on counting:
 * 15 of a burst of 20, saved; 5 more fire it. A sequence's first half
 * carries too. Saved bytes cut or changed anywhere load or are refused,
 * never read out of bounds (the ASan build runs this).
 */
static void test_state(void)
{
	static const char failed[] = "1/1 replicas never became healthy!";
	static const char done[] = "INFO:     Application startup complete.";
	struct rules *rs = rules_new(), *rs2 = rules_new();
	const int64_t t0 = 1771891200000;
	struct buf saved, again;
	unsigned hits = 0, n;
	size_t len, i;

	buf_init(&saved);
	buf_init(&again);
	CHECK(rules_load_builtin(rs) == 0 && rules_compile(rs, false) == 0 &&
	      rules_load_builtin(rs2) == 0 && rules_compile(rs2, false) == 0,
	      "built-in rules compile");
	CHECK(feed_401(rs, 15, t0, &hits) == 0, "15 in 15 s: no burst");
	CHECK(feed_line(rs, failed, t0 + 15000, "health.check_failed") == 1,
	      "the failed check fires");
	rules_state_save(rs, &saved);
	CHECK(saved.len > 5, "a state is saved (%zu bytes)", saved.len);
	CHECK(rules_state_load(rs2, saved.p, saved.len) == 0, "it loads");
	rules_state_save(rs2, &again);
	CHECK(again.len == saved.len &&
	      memcmp(again.p, saved.p, saved.len) == 0,
	      "saved again, the same bytes");
	n = feed_401(rs2, 5, t0 + 16000, &hits);
	CHECK(n == 1 && hits == 20, "the 20th after loading fires (%u, %u)",
	      n, hits);
	CHECK(feed_line(rs2, done, t0 + 60000, "health.startup_too_slow") == 1,
	      "startup after the loaded failed check is too slow");
	len = saved.len;
	for (i = 0; i < len; i++) {
		(void)rules_state_load(rs2, saved.p, i);
		saved.p[i] = (char)(saved.p[i] ^ 0x5a);
		(void)rules_state_load(rs2, saved.p, len);
		saved.p[i] = (char)(saved.p[i] ^ 0x5a);
	}
	CHECK(rules_state_load(rs2, "LTRS1\x05", 6) == -1,
	      "a cut state is refused");
	CHECK(feed_401(rs2, 19, t0 + 100000, &hits) == 0,
	      "after a refused state the windows are empty");
	CHECK(rules_state_load(rs2, "xx", 2) == -1, "not a state: refused");
	buf_release(&saved);
	buf_release(&again);
	rules_free(rs);
	rules_free(rs2);
}

/*
 * rules_find() before rules_compile() (a walk) and after it (a binary
 * search over the rules in id order): every rule by its id, and ids
 * before, between and after theirs not at all.
 */
static void find_all(const struct rules *rs, const char *when)
{
	size_t i, n = rules_count(rs), wrong = 0;

	for (i = 0; i < n; i++) {
		const struct rule *r = rules_at(rs, i);
		char near[128];

		if (rules_find(rs, r->id) != r)
			wrong++;
		snprintf(near, sizeof(near), "%s~", r->id);
		if (rules_find(rs, near) != NULL)
			wrong++;
		snprintf(near, sizeof(near), "%.*s", (int)strlen(r->id) - 1,
			 r->id);
		if (rules_find(rs, near) != NULL)
			wrong++;
	}
	CHECK(n > 30 && wrong == 0, "%s: %zu rules found by id, %zu wrong",
	      when, n, wrong);
	CHECK(rules_find(rs, "") == NULL && rules_find(rs, "zzz") == NULL &&
	      rules_find(rs, "a") == NULL, "%s: no rule for '', 'a', 'zzz'",
	      when);
}

static void test_find(void)
{
	struct rules *rs = rules_new();

	CHECK(rules_load_builtin(rs) == 0, "built-in rules load");
	find_all(rs, "loaded");
	CHECK(rules_compile(rs, false) == 0, "built-in rules compile");
	find_all(rs, "compiled");
	rules_free(rs);
}

int main(void)
{
	test_literals();
	test_units();
	test_levels();
	test_forget();
	test_forget_after();
	test_state();
	test_find();
	CHECK(index_seen > 0 && index_wrong == 0,
	      "every match names its rule's index (%u of %u wrong)",
	      index_wrong, index_seen);
	return unit_done();
}

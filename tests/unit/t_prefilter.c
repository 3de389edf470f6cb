/*
 * t_prefilter.c - unit tests for the rules' prefilter (prefilter.c and
 * rules_prefilter): the literal conditions derived from patterns, the scan
 * before and after its training, JSON lines, and the property everything
 * rests on: a record that a rule's patterns match is always selected.
 */
#include "common.h"
#include "input.h"
#include "parse.h"
#include "prefilter.h"
#include "record.h"
#include "rules.h"
#include "unit.h"

#include <dirent.h>

static void cond(const char *re, const char *want)
{
	char *got = prefilter_describe(re);

	CHECK_STR(got, want, "condition of '%s'", re);
	free(got);
}

static void test_derive(void)
{
	cond("Connection refused", "\"Connection refused\"");
	cond("(?i)Connection Refused", "\"connection refused\"i");
	cond("(?i)(?s)cors_origins.*?JSONDecodeError",
	     "\"jsondecodeerror\"i & \"cors_origins\"i");
	/* every literal a match needs, most selective first */
	cond("HTTP/\\d(?:\\.\\d)?\\b[^\\n]*?(?<![\\w.])(?<d>[1-9]\\d{4,})ms\\b",
	     "\"HTTP/\" & \"ms\" & <HTTP/\\d> & <[123456789]\\d\\d\\d\\d>");
	/* alternations give one clause of their branches' literals */
	cond("(?:GET|POST) /x", "\"GET\" | \"POST\" & \" /x\"");
	cond("Applying|Unapplying", "\"Applying\" | \"Unapplying\"");
	cond("a|bcd", "");
	cond("(?:abc|x*)def", "\"def\"");
	/* optional parts and repeats */
	cond("colou?r name", "\"r name\" & \"colo\"");
	cond("(?:optional group)? tail", "\" tail\"");
	cond("x{3}yz", "\"xxxyz\"");
	cond("ab+cd", "\"ab\" & \"cd\"");
	cond("ab{2,}cd", "\"ab\" & \"cd\"");
	cond("[abc]+ class then literal", "\" class then literal\"");
	/* escapes are bytes; classes and assertions break runs */
	cond("Exited \\(137\\)", "\"Exited (137)\"");
	cond("\\x1b\\[0mreset", "\"\x1b[0mreset\"");
	cond("a\\nb two lines", "\"a\nb two lines\"");
	cond("\\bword\\d+more", "\"word\" & \"more\" & <word\\d>");
	cond("\\QExact (text)\\E!", "\"Exact (text)!\"");
	cond("price{ tag", "\"price{ tag\"");
	/* lookarounds require nothing here */
	cond("(?<!\\] )Application failed", "\"Application failed\"");
	cond("code (?!13[07]\\b)[1-9]\\d*", "\"code \" & <code [123456789]>");
	/* runs of byte sets: through assertions and fixed-width groups,
	   alternatives joined byte by byte, ends that allow anything cut */
	cond("GET /\\S* [1-5]\\d\\d (?:[1-9]\\d{4,}|[5-9]\\d{3}) ?ms",
	     "\"GET /\" & \"ms\" & < [12345]\\d\\d [123456789]\\d\\d\\d>");
	cond("id=\\d{3}\\b-x", "\"id=\" & \"-x\" & <id=\\d\\d\\d-x>");
	cond("(?i)v[0-9]\\.[0-9] ok", "\" ok\"i & <[Vv]\\d.\\d [Oo][Kk]>");
	cond("failed: (?<why>[^\\n]+)", "\"failed: \"");
	/* constructs the parser does not follow: no condition, always safe */
	cond("(?x) spaced pattern", "");
	cond("before (?i)after", "");
	cond("unbalanced)", "");
	cond("(\\w+) again \\1", "\" again \"");
	cond("(?(1)yes|no)", "");
}

/* ---- the engine ------------------------------------------------------- */

static bool has(const unsigned *ids, size_t n, unsigned id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void test_scan(void)
{
	struct prefilter *pf = prefilter_new(), *cp;
	unsigned copy_differs = 0;
	const char *const lines[] = {
		"INFO:     1.2.3.4:5 - \"GET /api HTTP/1.1\" 200 OK",
		"2026-02-24 10:00:00,000 INFO app.timing: GET /api 200 3.1ms",
		"psycopg2.OperationalError: could not connect to server: x",
		"nothing to see here",
		"WARNING: TIMEOUT connecting to SERVER (redis)",
		"text, not JSON: \"httpStatus\":401",
	};
	unsigned round;

	prefilter_add(pf, 0, "HTTP/\\d[^\\n]*?(?<d>\\d{4,})ms\\b", "HTTP",
		      NULL, 0);
	prefilter_add(pf, 1, "\\b(?:GET|POST) /\\S* \\d+ \\d+(?:\\.\\d+)?ms",
		      "ms", NULL, 0);
	prefilter_add(pf, 2, "could not connect to server: (?<why>.*)", NULL,
		      NULL, 0);
	prefilter_add(pf, 3, "(?i)timeout connecting to server", NULL, NULL,
		      PREFILTER_CI);
	prefilter_add(pf, 4, "^401$", "401", "httpStatus",
		      PREFILTER_JSON_ONLY);
	prefilter_add(pf, 5, "a|b", NULL, NULL, 0);
	prefilter_build(pf);
	cp = prefilter_copy(pf);
	CHECK(prefilter_always(pf) == 1, "one pattern has no literal");
	/* Before, across and after the training (2048 records). */
	for (round = 0; round < 3000; round++) {
		const char *t = lines[round % ARRAY_SIZE(lines)];
		size_t n, cn, k = round % ARRAY_SIZE(lines), id;
		const unsigned *ids = prefilter_scan(pf, t, strlen(t), false, &n);
		const unsigned *cids = prefilter_scan(cp, t, strlen(t), false,
						      &cn);
		bool ok = has(ids, n, 5) && !has(ids, n, 0) && !has(ids, n, 4) &&
			  has(ids, n, 1) == (k == 1) && has(ids, n, 2) == (k == 2) &&
			  has(ids, n, 3) == (k == 4);

		/* the copy selects the same patterns (ids 0 to 5) */
		for (id = 0; id < 6; id++)
			if (has(ids, n, (unsigned)id) != has(cids, cn, (unsigned)id))
				copy_differs++;
		if (!ok || round == 0 || round == 2999)
			CHECK(ok, "scan %u of '%s': %zu candidates", round, t, n);
		if (!ok)
			break;
	}
	CHECK(copy_differs == 0, "a copy selects what the original selects "
	      "(%u differences)", copy_differs);
	{
		/*
		 * After training, both "HTTP/" and "ms" are anchors (of
		 * patterns 0 and 1), and each is a clause of the other's
		 * pattern: the one found later in the record still counts
		 * for the pattern of the one found first.
		 */
		const char *t = "GET /x HTTP/1.1 200 12345ms";
		const char *u = "12345ms then GET /x HTTP/1.1";
		size_t n;
		const unsigned *ids = prefilter_scan(pf, t, strlen(t), false, &n);

		CHECK(has(ids, n, 0) && has(ids, n, 1),
		      "a clause found after the anchor: '%s'", t);
		ids = prefilter_scan(pf, u, strlen(u), false, &n);
		CHECK(has(ids, n, 0),
		      "a clause found before the anchor: '%s'", u);
	}
	{
		const char *j = "{\"httpStatus\":401,\"path\":\"/x\"}";
		size_t n;
		const unsigned *ids = prefilter_scan(pf, j, strlen(j), true, &n);

		CHECK(has(ids, n, 4) && has(ids, n, 5),
		      "a field pattern selects a JSON line with its key");
		ids = prefilter_scan(pf, j, strlen(j), false, &n);
		CHECK(!has(ids, n, 4), "... and never a text line");
		ids = prefilter_scan(cp, j, strlen(j), true, &n);
		CHECK(has(ids, n, 4) && has(ids, n, 5),
		      "so does the copy, JSON-only and always-on patterns kept");
	}
	prefilter_free(cp);
	prefilter_free(pf);
}

/* ---- the property, on real records ----------------------------------- */

static unsigned checked, missed;

static bool field_lookup(void *ctx, const char *name, struct span *out)
{
	return parse_field(ctx, name, out);
}

/*
 * Prefilter one record, then try every rule on it: each rule whose
 * patterns match must have been selected.
 */
static void check_record(struct rules *rs, struct parse_ctx *pc,
			 const struct record *rec, const char *where)
{
	struct parsed ev;
	struct rules_input in;
	size_t i;

	parse_record(pc, rec, &ev);
	rules_prefilter(rs, ev.raw, ev.raw_len, ev.format == PARSE_FMT_JSON);
	if (ev.format == PARSE_FMT_JSON)
		parse_decode(pc, &ev);
	in.message = ev.message;
	in.ts = ev.ts;
	in.has_ts = ev.has_ts;
	in.field = ev.decoded ? field_lookup : NULL;
	in.field_ctx = pc;
	for (i = 0; i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);

		if (rules_test_one(rs, r, &in) != 1)
			continue;
		checked++;
		if (!rules_is_candidate(rs, r)) {
			missed++;
			CHECK(false, "%s: rule '%s' matches but was not "
			      "selected: %.*s", where, r->id,
			      (int)(rec->len < 200 ? rec->len : 200), rec->text);
		}
	}
}

/* Every 'match' example of every built-in rule. */
static void examples(struct rules *rs, struct parse_ctx *pc)
{
	size_t i, k;

	for (i = 0; i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);

		for (k = 0; k < r->ex_match.n; k++) {
			struct record rec;

			memset(&rec, 0, sizeof(rec));
			rec.text = r->ex_match.v[k];
			rec.len = strlen(rec.text);
			rec.line_no = 1;
			rec.offset = 1;
			rec.nlines = 1;
			parse_ctx_reset(pc);
			check_record(rs, pc, &rec, r->id);
		}
	}
}

/* Every record of every file in samples/, framed as analyze frames them. */
static void samples(struct rules *rs, struct parse_ctx *pc)
{
	DIR *d = opendir("samples");
	struct dirent *de;

	CHECK(d != NULL, "samples/ is readable (run from the top directory)");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct input in;
		struct record_reader rr;
		struct record rec;
		char path[512];

		if (de->d_name[0] == '.' || strstr(de->d_name, ".md"))
			continue;
		snprintf(path, sizeof(path), "samples/%s", de->d_name);
		if (input_open(&in, path) < 0)
			continue;
		if (record_reader_init(&rr, &in) == 0) {
			parse_ctx_reset(pc);
			while (record_next(&rr, &rec) > 0)
				check_record(rs, pc, &rec, path);
			record_reader_release(&rr);
		}
		input_close(&in);
	}
	closedir(d);
}

/* JSON lines: escapes decoded before the literals are looked for. */
static void json_lines(struct rules *rs, struct parse_ctx *pc)
{
	static const struct {
		const char *line;
		const char *rule;
		bool selected;
	} cases[] = {
		{ "{\"message\":\"INFO:     10.0.0.1:5 - \\\"GET /health "
		  "HTTP/1.1\\\" 200 OK\",\"level\":\"info\"}",
		  "health.check_passed", true },
		{ "{\"msg\":\"could not connect to server: Connection "
		  "\\u0072efused\"}", "db.connection_refused", true },
		{ "{\"message\":\"2026-02-24 10:00:00,000 INFO app.timing: GET "
		  "/api 200 3.5ms\",\"level\":\"error\"}",
		  "perf.slow_request", false },
		{ "{\"message\":\"2026-02-24 10:00:00,000 INFO app.timing: GET "
		  "/api 200 6306.9ms\",\"level\":\"error\"}",
		  "perf.slow_request", true },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct record rec;
		struct parsed ev;
		const struct rule *r = rules_find(rs, cases[i].rule);

		memset(&rec, 0, sizeof(rec));
		rec.text = cases[i].line;
		rec.len = strlen(rec.text);
		rec.line_no = 1;
		rec.offset = 1;
		rec.nlines = 1;
		parse_ctx_reset(pc);
		parse_record(pc, &rec, &ev);
		rules_prefilter(rs, ev.raw, ev.raw_len,
				ev.format == PARSE_FMT_JSON);
		CHECK(r && rules_is_candidate(rs, r) == cases[i].selected,
		      "JSON line %s '%s': %s", cases[i].selected ? "selects" :
		      "does not select", cases[i].rule, cases[i].line);
	}
}

int main(void)
{
	struct rules *rs = rules_new();
	struct parse_ctx pc;
	int lrc, crc;

	test_derive();
	test_scan();
	lrc = rules_load_builtin(rs);
	crc = rules_compile(rs, false);
	CHECK(lrc == 0 && crc == 0, "built-in rules load and compile");
	parse_ctx_init(&pc, NULL);
	json_lines(rs, &pc);
	examples(rs, &pc);
	samples(rs, &pc);
	CHECK(missed == 0 && checked > 500,
	      "%u matching (record, rule) pairs, %u not selected", checked,
	      missed);
	parse_ctx_release(&pc);
	rules_free(rs);
	return unit_done();
}

/*
 * t_rules.c - unit tests for stage 4 helpers: the literal a pattern
 * needs (the prefilter), unit normalisation, and the level words.
 */
#include "common.h"
#include "parse.h"
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

int main(void)
{
	test_literals();
	test_units();
	test_levels();
	return unit_done();
}

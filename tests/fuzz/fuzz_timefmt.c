/*
 * fuzz_timefmt.c - fuzz target for the timestamp parsers of stage 3
 * (timefmt.c): the stamp at the start of the bytes (and at each of the
 * first offsets into them), epoch numbers, user times and durations,
 * with and without a default year and a named zone.
 *
 * Invariants: nothing is read past the given length (exact-size copy);
 * a failed parse leaves its outputs untouched; a stamp consumes at least
 * one byte and at most what it was given; every parsed time printed as
 * ISO 8601 (UTC) parses back to the same millisecond; and what timefmt
 * caches (the last stamp, the last prefixes) never changes a result: each
 * stamp, and the text after the first newline read right after the text
 * before it, reads as it does after timefmt_reset.
 */
#include "fuzz.h"
#include "timefmt.h"

/* Offsets into the input tried as the start of a stamp. */
#define MAX_STARTS 48
/* Sentinels that a failed parse must leave alone. */
#define UNTOUCHED_MS INT64_C(0x5a5a5a5a5a5a5a5a)
#define UNTOUCHED_USED ((size_t)0xa5a5a5a5)

static const struct timefmt_opts opts[] = {
	{ 0, NULL },
	{ 2026, NULL },
	{ 2026, "Europe/Madrid" },
	{ 1999, "America/New_York" },
	{ 0, "Australia/Lord_Howe" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* ms printed as ISO 8601 UTC must read back as ms. */
static void round_trip(int64_t ms)
{
	char t[TIMEFMT_BUF_SIZE];
	int64_t back = UNTOUCHED_MS;
	size_t used = UNTOUCHED_USED;
	size_t len = timefmt_format(ms, t, sizeof(t));

	FUZZ_CHECK(len < sizeof(t) && strlen(t) == len);
	len = timefmt_format_iso(ms, t, sizeof(t));
	FUZZ_CHECK(len < sizeof(t) && strlen(t) == len);
	if (len != 24)
		return;  /* a year outside 0000..9999: not a stamp */
	FUZZ_CHECK(timefmt_parse(t, len, NULL, &back, &used) ==
		   TIMEFMT_ISO8601);
	FUZZ_CHECK(used == len);
	FUZZ_CHECK(back == ms);
}

/* p read now (after whatever was read before) and after a reset agree. */
static void same_cold(const char *p, size_t n, const struct timefmt_opts *o,
		      enum timefmt_kind k, int64_t ms, size_t used)
{
	int64_t ms0 = UNTOUCHED_MS;
	size_t used0 = UNTOUCHED_USED;

	timefmt_reset();
	FUZZ_CHECK(timefmt_parse(p, n, o, &ms0, &used0) == k);
	FUZZ_CHECK(ms0 == ms && used0 == used);
}

static void parse_at(const char *p, size_t n, const struct timefmt_opts *o)
{
	int64_t ms = UNTOUCHED_MS;
	size_t used = UNTOUCHED_USED;
	enum timefmt_kind k = timefmt_parse(p, n, o, &ms, &used);

	same_cold(p, n, o, k, ms, used);

	if (k == TIMEFMT_NONE) {
		FUZZ_CHECK(ms == UNTOUCHED_MS && used == UNTOUCHED_USED);
		return;
	}
	FUZZ_CHECK(k == TIMEFMT_ISO8601 || k == TIMEFMT_CLF ||
		   k == TIMEFMT_SYSLOG || k == TIMEFMT_DMY);
	FUZZ_CHECK(used > 0 && used <= n);
	FUZZ_CHECK(strcmp(timefmt_kind_name(k), "none") != 0);
	round_trip(ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = fuzz_copy(data, size);
	char *cstr;
	const char *nl;
	size_t i, k;
	int64_t ms;

	for (k = 0; k < ARRAY_SIZE(opts); k++) {
		for (i = 0; i < size && i < MAX_STARTS; i++)
			parse_at(copy + i, size - i, &opts[k]);
		if (size == 0)
			parse_at(copy, 0, &opts[k]);
	}
	/* the text after the first newline, read right after the text before */
	nl = memchr(copy, '\n', size);
	if (nl != NULL) {
		size_t a = (size_t)(nl - copy), used = UNTOUCHED_USED;
		char *b = fuzz_copy((const uint8_t *)nl + 1, size - a - 1);
		enum timefmt_kind kb;

		for (k = 0; k < ARRAY_SIZE(opts); k++) {
			char *first = fuzz_copy(data, a);

			timefmt_reset();
			timefmt_parse(first, a, &opts[k], &ms, &used);
			ms = UNTOUCHED_MS;
			used = UNTOUCHED_USED;
			kb = timefmt_parse(b, size - a - 1, &opts[k], &ms, &used);
			same_cold(b, size - a - 1, &opts[k], kb, ms, used);
			free(first);
		}
		free(b);
	}
	ms = UNTOUCHED_MS;
	if (timefmt_from_epoch_text(copy, size, &ms) == 0)
		round_trip(ms);
	else
		FUZZ_CHECK(ms == UNTOUCHED_MS);
	if (size >= sizeof(double)) {
		double v;

		memcpy(&v, data, sizeof(v));
		ms = UNTOUCHED_MS;
		if (timefmt_from_epoch(v, &ms) == 0)
			round_trip(ms);
		else
			FUZZ_CHECK(ms == UNTOUCHED_MS);
	}
	cstr = fuzz_cstr(data, size);
	for (k = 0; k < ARRAY_SIZE(opts); k += 2) {
		ms = UNTOUCHED_MS;
		if (timefmt_parse_user(cstr, INT64_C(1771999200000), &opts[k],
				       &ms) < 0)
			FUZZ_CHECK(ms == UNTOUCHED_MS);
	}
	ms = UNTOUCHED_MS;
	if (timefmt_parse_duration(cstr, &ms) == 0)
		FUZZ_CHECK(ms >= 0);
	else
		FUZZ_CHECK(ms == UNTOUCHED_MS);
	free(cstr);
	free(copy);
	timefmt_reset();
	return 0;
}

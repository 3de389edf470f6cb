/*
 * fuzz_parse.c - fuzz target for pipeline stage 3 (parse.c) and the
 * envelope and JSON walkers it shares with stage 2: the bytes are a log
 * file, framed into records by the real reader; each record is parsed
 * (shape, time, level, envelope fields), decoded (JSON, inner fields),
 * and its fields looked up, as cmd_analyze.c does. Each line is also
 * peeled (record_peel) and walked as JSON (record_json_next) on its own.
 *
 * Records and lines are handed over as exact-size heap copies, so that a
 * read past their end is caught. Invariants: what parse_record() and
 * parse_decode() return is readable, the format is one of the three
 * rules read and the shape a known one, fields stay within their cap,
 * every record is counted once per shape and once per kind of time, and
 * the walkers' spans stay inside their line.
 */
#include "fuzz.h"
#include "input.h"
#include "parse.h"
#include "record.h"

static const char *const field_names[] = {
	"message", "msg", "level", "severity", "timestamp", "ts", "status",
	"duration_ms", "path", "service", "stream", "logger", "app_time", "",
};

/* Touch every byte of a span (AddressSanitizer checks each read). */
static unsigned touch(const char *p, size_t n)
{
	unsigned sum = 0;
	size_t i;

	FUZZ_CHECK(n == 0 || p != NULL);
	for (i = 0; i < n; i++)
		sum += (unsigned char)p[i];
	return sum;
}

static bool inside(struct span s, const char *p, size_t n)
{
	return s.len == 0 ||
	       (s.p >= p && s.p <= p + n && s.len <= (size_t)(p + n - s.p));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* The walkers of record.h on one line (an exact-size copy). */
static void walk_line(const uint8_t *data, size_t n)
{
	char *p = fuzz_copy(data, n);
	struct record_layer layer;
	struct record_json_member m;
	size_t off = 0, pos = 0, prev = 0;
	int k, rc;

	FUZZ_CHECK(record_ansi_len(p, n) <= n);
	for (k = 0; k < RECORD_MAX_LAYERS && off < n; k++) {
		if (!record_peel(p + off, n - off, &layer))
			break;
		FUZZ_CHECK(layer.env > RECORD_ENV_NONE &&
			   layer.env < RECORD_ENV__COUNT);
		FUZZ_CHECK(layer.len > 0 && layer.len <= n - off);
		FUZZ_CHECK(inside(layer.stamp, p + off, n - off));
		FUZZ_CHECK(inside(layer.source, p + off, n - off));
		FUZZ_CHECK(inside(layer.stream, p + off, n - off));
		FUZZ_CHECK(inside(layer.host, p + off, n - off));
		FUZZ_CHECK(inside(layer.pid, p + off, n - off));
		off += layer.len;
	}
	while ((rc = record_json_next(p, n, &pos, &m)) == 1) {
		FUZZ_CHECK(pos > prev && pos <= n);
		FUZZ_CHECK(inside(m.key, p, n) && inside(m.value, p, n));
		FUZZ_CHECK(strchr("snoal", m.type) != NULL && m.type != '\0');
		(void)record_json_message_rank(m.key.p, m.key.len);
		prev = pos;
	}
	FUZZ_CHECK(rc == 0 || rc == -1);
	free(p);
}

/* Stage 3 on one framed record, from an exact-size copy of its text. */
static void parse_one(struct parse_ctx *ctx, const struct record *framed)
{
	struct record rec = *framed;
	struct parsed ev;
	char *copy = fuzz_copy((const uint8_t *)framed->text, framed->len);
	char t[TIMEFMT_BUF_SIZE];
	struct span sp;
	size_t i;

	rec.text = copy;
	parse_record(ctx, &rec, &ev);
	FUZZ_CHECK(ev.format == PARSE_FMT_TEXT || ev.format == PARSE_FMT_JSON ||
		   ev.format == PARSE_FMT_JSON_BAD);
	FUZZ_CHECK((unsigned)ev.shape < PARSE_FMT__COUNT);
	FUZZ_CHECK((unsigned)ev.inner < PARSE_FMT__COUNT);
	FUZZ_CHECK((unsigned)ev.level <= PARSE_LEVEL_CRITICAL);
	FUZZ_CHECK(!ev.ts_inferred || ev.has_ts);
	FUZZ_CHECK(ev.nfields <= PARSE_MAX_FIELDS);
	FUZZ_CHECK(strcmp(parse_format_name(ev.shape), "") != 0);
	touch(ev.raw, ev.raw_len);
	touch(ev.message.p, ev.message.len);
	for (i = 0; i < ev.nfields; i++) {
		touch(ev.fields[i].name.p, ev.fields[i].name.len);
		touch(ev.fields[i].value.p, ev.fields[i].value.len);
	}
	if (ev.has_ts)
		FUZZ_CHECK(timefmt_format_iso(ev.ts, t, sizeof(t)) < sizeof(t));
	if (parse_decode(ctx, &ev) == 0) {
		FUZZ_CHECK(ev.format != PARSE_FMT_JSON || ev.decoded);
	} else {
		FUZZ_CHECK(ev.format == PARSE_FMT_JSON_BAD);
	}
	FUZZ_CHECK((unsigned)ev.level <= PARSE_LEVEL_CRITICAL);
	FUZZ_CHECK(ev.nfields <= PARSE_MAX_FIELDS);
	touch(ev.message.p, ev.message.len);
	for (i = 0; i < ev.nfields; i++) {
		touch(ev.fields[i].name.p, ev.fields[i].name.len);
		touch(ev.fields[i].value.p, ev.fields[i].value.len);
	}
	for (i = 0; i < ARRAY_SIZE(field_names); i++)
		if (parse_field(ctx, field_names[i], &sp))
			touch(sp.p, sp.len);
	/* Decoding twice is a no-op. */
	FUZZ_CHECK(parse_decode(ctx, &ev) == 0 || ev.format == PARSE_FMT_JSON_BAD);
	FUZZ_CHECK(parse_text_level(copy, rec.len) <= PARSE_LEVEL_CRITICAL);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[] = { NULL, "UTC", "Europe/Madrid" };
	struct timefmt_opts o = { 0, NULL };
	struct parse_ctx ctx;
	struct input in;
	struct record_reader rr;
	struct record rec;
	char path[64];
	uint64_t all = 0, records = 0;
	size_t start = 0, f;
	int fd;

	/* Each line on its own. */
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;

		walk_line(data + start, end - start);
		start = end + 1;
	}
	/* The size picks the options, so that seeds stay plain logs. */
	o.default_year = size % 2 ? 2026 : 0;
	o.tz = zones[size % 3];
	fd = fuzz_memfile(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	if (input_open(&in, path) < 0) {
		close(fd);
		return 0;
	}
	if (record_reader_init(&rr, &in) < 0) {
		input_close(&in);
		close(fd);
		return 0;
	}
	parse_ctx_init(&ctx, &o);
	parse_ctx_reset(&ctx);
	while (record_next(&rr, &rec) > 0) {
		parse_one(&ctx, &rec);
		records++;
	}
	for (f = 0; f < PARSE_FMT__COUNT; f++)
		all += ctx.by_format[f];
	FUZZ_CHECK(all == records);
	FUZZ_CHECK(ctx.ts_parsed + ctx.ts_inferred + ctx.ts_missing ==
		   records);
	parse_ctx_release(&ctx);
	record_reader_release(&rr);
	input_close(&in);
	close(fd);
	timefmt_reset();
	fuzz_done();
	return 0;
}

/*
 * parse.c - pipeline stage 3: find each record's format, time and level
 * cheaply, and decode JSON lines with jansson only when asked.
 */
#include "common.h"
#include "parse.h"
#include "diag.h"

#include <jansson.h>

/* Bytes at the start of a line searched for a level word. */
#define LEVEL_SCAN_BYTES 160
/* Room for the text of numeric JSON fields of one record. */
#define NUM_ARENA_BYTES 4096

struct parse_state {
	json_t *doc;                    /* decoded record, or NULL */
	char num[NUM_ARENA_BYTES];      /* number texts for parse_field */
	size_t num_used;
};

static const char *const level_names[] = {
	[PARSE_LEVEL_NONE] = "",
	[PARSE_LEVEL_DEBUG] = "debug",
	[PARSE_LEVEL_INFO] = "info",
	[PARSE_LEVEL_WARNING] = "warning",
	[PARSE_LEVEL_ERROR] = "error",
	[PARSE_LEVEL_CRITICAL] = "critical",
};

static const char *const format_names[] = {
	[PARSE_FMT_TEXT] = "text",
	[PARSE_FMT_JSON] = "json",
	[PARSE_FMT_JSON_BAD] = "json-malformed",
};

const char *parse_level_name(enum parse_level l)
{
	return (unsigned)l < ARRAY_SIZE(level_names) ? level_names[l] : "";
}

const char *parse_format_name(enum parse_format f)
{
	return (unsigned)f < ARRAY_SIZE(format_names) ? format_names[f] : "";
}

void parse_ctx_init(struct parse_ctx *ctx, const struct timefmt_opts *o)
{
	memset(ctx, 0, sizeof(*ctx));
	if (o)
		ctx->topts = *o;
	ctx->st = xcalloc(1, sizeof(*ctx->st));
}

void parse_ctx_release(struct parse_ctx *ctx)
{
	if (ctx == NULL || ctx->st == NULL)
		return;
	json_decref(ctx->st->doc);
	free(ctx->st);
	ctx->st = NULL;
}

void parse_ctx_reset(struct parse_ctx *ctx)
{
	ctx->have_last_ts = false;
	ctx->last_ts = 0;
}

/*
 * Level words, matched as whole words. Upper-case words count anywhere in
 * the first LEVEL_SCAN_BYTES; other spellings only in "[error]" or after
 * "level=" so that ordinary prose ("an error occurred") is not a level.
 */
static const struct {
	const char *word;
	unsigned char len;
	unsigned char level;
} level_words[] = {
	{ "DEBUG", 5, PARSE_LEVEL_DEBUG },
	{ "TRACE", 5, PARSE_LEVEL_DEBUG },
	{ "INFO", 4, PARSE_LEVEL_INFO },
	{ "NOTICE", 6, PARSE_LEVEL_INFO },
	{ "LOG", 3, PARSE_LEVEL_INFO },
	{ "WARNING", 7, PARSE_LEVEL_WARNING },
	{ "WARN", 4, PARSE_LEVEL_WARNING },
	{ "ERROR", 5, PARSE_LEVEL_ERROR },
	{ "ERR", 3, PARSE_LEVEL_ERROR },
	{ "CRITICAL", 8, PARSE_LEVEL_CRITICAL },
	{ "CRIT", 4, PARSE_LEVEL_CRITICAL },
	{ "FATAL", 5, PARSE_LEVEL_CRITICAL },
	{ "PANIC", 5, PARSE_LEVEL_CRITICAL },
	{ "ALERT", 5, PARSE_LEVEL_CRITICAL },
	{ "EMERG", 5, PARSE_LEVEL_CRITICAL },
};

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int level_of_word(const char *w, size_t n, bool any_case)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(level_words); i++) {
		if (level_words[i].len != n)
			continue;
		for (k = 0; k < n; k++) {
			char c = w[k];

			if (any_case && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			if (c != level_words[i].word[k])
				break;
		}
		if (k == n)
			return level_words[i].level;
	}
	return PARSE_LEVEL_NONE;
}

/* Level of a level name in any case ("warning", "Error", "WARN"). */
static int level_from_name(const char *s, size_t n)
{
	return level_of_word(s, n, true);
}

int parse_text_level(const char *p, size_t n)
{
	size_t i = 0;

	if (n > LEVEL_SCAN_BYTES)
		n = LEVEL_SCAN_BYTES;
	while (i < n) {
		size_t j;
		bool upper = true;
		int lv;

		if (!is_alpha((unsigned char)p[i])) {
			i++;
			continue;
		}
		for (j = i; j < n && is_alpha((unsigned char)p[j]); j++)
			if (p[j] >= 'a' && p[j] <= 'z')
				upper = false;
		if (j - i <= 8) {
			bool bracketed = i > 0 && p[i - 1] == '[' &&
					 j < n && p[j] == ']';
			bool keyed = i >= 6 && memcmp(p + i - 6, "level=", 6) == 0;

			lv = level_of_word(p + i, j - i, !upper);
			if (lv != PARSE_LEVEL_NONE && (upper || bracketed || keyed)) {
				/* PostgreSQL's "LOG:" but not a word "LOG" */
				if (j - i == 3 && memcmp(p + i, "LOG", 3) == 0 &&
				    (j >= n || p[j] != ':'))
					lv = PARSE_LEVEL_NONE;
				if (lv != PARSE_LEVEL_NONE)
					return lv;
			}
		}
		i = j;
	}
	return PARSE_LEVEL_NONE;
}

/* A timestamp at the start of a text line, bare or in "[...]". */
static bool text_time(const struct parse_ctx *ctx, const char *p, size_t n,
		      int64_t *ms)
{
	size_t used;

	if (n == 0)
		return false;
	if (p[0] == '[' && n > 1)
		return timefmt_parse(p + 1, n - 1, &ctx->topts, ms, &used) !=
		       TIMEFMT_NONE;
	if ((p[0] < '0' || p[0] > '9') && !is_alpha((unsigned char)p[0]))
		return false;
	return timefmt_parse(p, n, &ctx->topts, ms, &used) != TIMEFMT_NONE;
}

/* Keys that carry a record's time in JSON, in order of preference. */
static const char *const json_time_keys[] = {
	"timestamp", "time", "@timestamp", "asctime", "ts",
	"__REALTIME_TIMESTAMP",
};
static const char *const json_msg_keys[] = {
	"message", "msg", "log", "event", "MESSAGE",
};
static const char *const json_level_keys[] = {
	"severity", "level", "levelname", "lvl", "PRIORITY",
};

/*
 * Find the time in a raw JSON line without decoding it: look for a
 * time key followed by a string or a number. Escapes inside the value
 * are not expected in timestamps; a value that does not parse is ignored.
 */
static bool json_cheap_time(const struct parse_ctx *ctx, const char *p,
			    size_t n, int64_t *ms)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(json_time_keys); k++) {
		char key[32];
		size_t kl = (size_t)snprintf(key, sizeof(key), "\"%s\"",
					     json_time_keys[k]);
		const char *hit = memmem(p, n, key, kl);
		const char *v, *end = p + n;
		size_t used;

		if (hit == NULL)
			continue;
		v = hit + kl;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || *v != ':')
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v < end && *v == '"') {
			v++;
			if (timefmt_parse(v, (size_t)(end - v), &ctx->topts, ms,
					  &used) != TIMEFMT_NONE)
				return true;
		} else if (v < end && *v >= '0' && *v <= '9') {
			const char *e = v;

			while (e < end && ((*e >= '0' && *e <= '9') || *e == '.'))
				e++;
			if (timefmt_from_epoch_text(v, (size_t)(e - v), ms) == 0)
				return true;
		}
	}
	return false;
}

/*
 * 1: a JSON object line; -1: it starts like one but cannot be one (no
 * closing brace: cut or garbled); 0: not JSON. Whether the inside is
 * valid is learnt only when the line is decoded.
 */
static int looks_like_json(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return p[n - 1] == '}' ? 1 : -1;
}

void parse_record(struct parse_ctx *ctx, const struct record *rec,
		  struct parsed *out)
{
	struct parse_state *st = ctx->st;
	const char *p = rec->text;
	size_t n = rec->len;
	int64_t ms = 0;
	bool have = false;
	int json;

	if (st->doc) {
		json_decref(st->doc);
		st->doc = NULL;
	}
	st->num_used = 0;
	/* Strip a UTF-8 byte order mark on the first line. */
	if (rec->offset == 0 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		n -= 3;
	}
	out->raw = p;
	out->raw_len = n;
	out->message.p = p;
	out->message.len = n;
	out->decoded = false;
	json = looks_like_json(p, n);
	if (json > 0) {
		out->format = PARSE_FMT_JSON;
		out->level = PARSE_LEVEL_NONE;
		have = json_cheap_time(ctx, p, n, &ms);
	} else if (json < 0) {
		out->format = PARSE_FMT_JSON_BAD;
		out->level = parse_text_level(p, n);
		have = json_cheap_time(ctx, p, n, &ms);
	} else {
		out->format = PARSE_FMT_TEXT;
		out->level = parse_text_level(p, n);
		have = text_time(ctx, p, n, &ms);
	}
	if (have) {
		out->ts = ms;
		out->has_ts = true;
		out->ts_inferred = false;
		ctx->last_ts = ms;
		ctx->have_last_ts = true;
		ctx->ts_parsed++;
	} else if (ctx->have_last_ts) {
		out->ts = ctx->last_ts;
		out->has_ts = true;
		out->ts_inferred = true;
		ctx->ts_inferred++;
	} else {
		out->ts = 0;
		out->has_ts = false;
		out->ts_inferred = false;
		ctx->ts_missing++;
	}
	ctx->by_format[out->format]++;
}

static json_t *get_first(json_t *doc, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *v = json_object_get(doc, keys[i]);

		if (v && !json_is_null(v))
			return v;
	}
	return NULL;
}

static int json_level(json_t *v)
{
	if (json_is_string(v))
		return level_from_name(json_string_value(v),
				       json_string_length(v));
	if (json_is_integer(v)) {
		/* syslog priorities (journald PRIORITY) */
		json_int_t pr = json_integer_value(v);

		if (pr <= 2)
			return PARSE_LEVEL_CRITICAL;
		if (pr == 3)
			return PARSE_LEVEL_ERROR;
		if (pr == 4)
			return PARSE_LEVEL_WARNING;
		return pr == 7 ? PARSE_LEVEL_DEBUG : PARSE_LEVEL_INFO;
	}
	return PARSE_LEVEL_NONE;
}

int parse_decode(struct parse_ctx *ctx, struct parsed *out)
{
	struct parse_state *st = ctx->st;
	json_error_t jerr;
	json_t *doc, *v;

	if (out->decoded || out->format != PARSE_FMT_JSON)
		return 0;
	out->decoded = true;
	doc = json_loadb(out->raw, out->raw_len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		ctx->by_format[PARSE_FMT_JSON]--;
		ctx->by_format[PARSE_FMT_JSON_BAD]++;
		out->format = PARSE_FMT_JSON_BAD;
		out->level = parse_text_level(out->raw, out->raw_len);
		return -1;
	}
	st->doc = doc;
	v = get_first(doc, json_msg_keys, ARRAY_SIZE(json_msg_keys));
	if (v && json_is_string(v)) {
		const char *m = json_string_value(v);
		size_t len = json_string_length(v);

		/* Docker's json-file keeps the line's newline. */
		while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == '\r'))
			len--;
		out->message.p = m;
		out->message.len = len;
	}
	v = get_first(doc, json_level_keys, ARRAY_SIZE(json_level_keys));
	if (v)
		out->level = json_level(v);
	if (out->level == PARSE_LEVEL_NONE && out->message.p != out->raw)
		out->level = parse_text_level(out->message.p, out->message.len);
	if ((!out->has_ts || out->ts_inferred) && out->message.p != out->raw) {
		int64_t ms;

		if (text_time(ctx, out->message.p, out->message.len, &ms)) {
			out->ts = ms;
			out->has_ts = true;
			out->ts_inferred = false;
		}
	}
	return 0;
}

bool parse_field(struct parse_ctx *ctx, const char *name, struct span *out)
{
	struct parse_state *st = ctx->st;
	json_t *v;
	char *dst;
	size_t room;
	int n;

	if (st->doc == NULL)
		return false;
	v = json_object_get(st->doc, name);
	if (v == NULL)
		return false;
	if (json_is_string(v)) {
		out->p = json_string_value(v);
		out->len = json_string_length(v);
		return true;
	}
	dst = st->num + st->num_used;
	room = sizeof(st->num) - st->num_used;
	if (json_is_integer(v))
		n = snprintf(dst, room, "%" JSON_INTEGER_FORMAT,
			     json_integer_value(v));
	else if (json_is_real(v))
		n = snprintf(dst, room, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		n = snprintf(dst, room, "%s", json_is_true(v) ? "true" : "false");
	else
		return false;
	if (n < 0 || (size_t)n >= room)
		return false;
	st->num_used += (size_t)n + 1;
	out->p = dst;
	out->len = (size_t)n;
	return true;
}

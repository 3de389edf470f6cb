/*
 * parse.c - pipeline stage 3: peel each record's envelopes, recognise the
 * shape of the text inside by a few byte checks (the previous record's
 * shape first), find its time and level cheaply, and decode JSON lines
 * with jansson only when asked.
 */
#include "common.h"
#include "parse.h"
#include "diag.h"

#include <jansson.h>
#include <time.h>

/* Bytes at the start of a line searched for a level word. */
#define LEVEL_SCAN_BYTES 160
/* Room for the text of numeric JSON fields of one record. */
#define NUM_ARENA_BYTES 4096
/* Bytes of a JSON message unescaped to recognise its shape cheaply. */
#define PEEK_BYTES 256
/* Bytes of a line that shape detection looks at in the cheap pass. */
#define DETECT_BYTES 1024
/* Bytes after a stamp searched for PostgreSQL's "LOG:  ". */
#define PG_SCAN_BYTES 200
/* Half a year: a yearless stamp this far back is in the next year. */
#define HALF_YEAR_MS (183 * TIMEFMT_MS_DAY)
/* logfmt pairs read in the cheap pass, looking for time and level. */
#define LOGFMT_CHEAP_PAIRS 8

/* A shape with no level slot: look for a level word in the text. */
#define LEVEL_SCAN (-1)

struct parse_state {
	json_t *doc;                    /* decoded record, or NULL */
	char num[NUM_ARENA_BYTES];      /* number texts for fields */
	size_t num_used;
	struct buf strip;               /* the record without ANSI codes */
	struct buf joined;              /* an enveloped record, peeled */
	struct buf msg;                 /* a decoded message, assembled */
	struct buf plain;               /* a decoded message without ANSI */
	char peek[PEEK_BYTES];          /* a JSON message's head, unescaped */
	struct parsed *cur;             /* the record last parsed */
	enum parse_level env_level;     /* the envelope's level (Railway) */
	struct span env_stamp;          /* the platform's time text */
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
	[PARSE_FMT_JSON_RAILWAY] = "json-railway",
	[PARSE_FMT_JSON_RAILWAY_HTTP] = "json-railway-http",
	[PARSE_FMT_JSON_DOCKER] = "json-docker",
	[PARSE_FMT_JSON_PYTHON] = "json-python",
	[PARSE_FMT_JSON_JOURNALD] = "json-journald",
	[PARSE_FMT_COMPOSE] = "compose",
	[PARSE_FMT_CRI] = "cri",
	[PARSE_FMT_HEROKU] = "heroku",
	[PARSE_FMT_RAILWAY] = "railway",
	[PARSE_FMT_SYSLOG] = "syslog",
	[PARSE_FMT_SYSLOG_ISO] = "syslog-iso",
	[PARSE_FMT_RENDER] = "render",
	[PARSE_FMT_STAMPED] = "stamped",
	[PARSE_FMT_LOGFMT] = "logfmt",
	[PARSE_FMT_UVICORN] = "uvicorn",
	[PARSE_FMT_UVICORN_ACCESS] = "uvicorn-access",
	[PARSE_FMT_GUNICORN] = "gunicorn",
	[PARSE_FMT_COMBINED] = "combined",
	[PARSE_FMT_NGINX_ERROR] = "nginx-error",
	[PARSE_FMT_PYTHON] = "python",
	[PARSE_FMT_TRACEBACK] = "traceback",
	[PARSE_FMT_BUILDKIT] = "buildkit",
	[PARSE_FMT_DOCKER_BUILD] = "docker-build",
	[PARSE_FMT_POSTGRES] = "postgres",
	[PARSE_FMT_REDIS] = "redis",
	[PARSE_FMT_K8S_EVENTS] = "k8s-events",
	[PARSE_FMT_K8S_DESCRIBE] = "k8s-describe",
	[PARSE_FMT_METRICS_CSV] = "metrics-csv",
	[PARSE_FMT_METRICS_PROM] = "metrics-prometheus",
	[PARSE_FMT_METRICS_JSON] = "metrics-json",
};

/* The shape of each envelope (enum record_env). */
static const unsigned char env_formats[RECORD_ENV__COUNT] = {
	[RECORD_ENV_NONE] = PARSE_FMT_TEXT,
	[RECORD_ENV_COMPOSE] = PARSE_FMT_COMPOSE,
	[RECORD_ENV_CRI] = PARSE_FMT_CRI,
	[RECORD_ENV_HEROKU] = PARSE_FMT_HEROKU,
	[RECORD_ENV_RAILWAY] = PARSE_FMT_RAILWAY,
	[RECORD_ENV_SYSLOG] = PARSE_FMT_SYSLOG,
	[RECORD_ENV_SYSLOG_ISO] = PARSE_FMT_SYSLOG_ISO,
	[RECORD_ENV_RENDER] = PARSE_FMT_RENDER,
	[RECORD_ENV_STAMP] = PARSE_FMT_STAMPED,
};

const char *parse_level_name(enum parse_level l)
{
	return (unsigned)l < ARRAY_SIZE(level_names) ? level_names[l] : "";
}

const char *parse_format_name(enum parse_format f)
{
	return (unsigned)f < ARRAY_SIZE(format_names) && format_names[f] ?
	       format_names[f] : "";
}

void parse_ctx_init(struct parse_ctx *ctx, const struct timefmt_opts *o)
{
	memset(ctx, 0, sizeof(*ctx));
	if (o)
		ctx->topts = *o;
	ctx->st = xcalloc(1, sizeof(*ctx->st));
	buf_init(&ctx->st->strip);
	buf_init(&ctx->st->joined);
	buf_init(&ctx->st->msg);
	buf_init(&ctx->st->plain);
}

void parse_ctx_release(struct parse_ctx *ctx)
{
	if (ctx == NULL || ctx->st == NULL)
		return;
	json_decref(ctx->st->doc);
	buf_release(&ctx->st->strip);
	buf_release(&ctx->st->joined);
	buf_release(&ctx->st->msg);
	buf_release(&ctx->st->plain);
	free(ctx->st);
	ctx->st = NULL;
}

void parse_ctx_reset(struct parse_ctx *ctx)
{
	ctx->have_last_ts = false;
	ctx->last_ts = 0;
	ctx->prev_inner = ctx->prev_inner2 = PARSE_FMT_TEXT;
	ctx->has_file_ms = false;
	ctx->file_ms = 0;
	ctx->year_roll = 0;
	ctx->have_yearless = false;
	ctx->last_yearless = 0;
}

static int year_of(int64_t ms);

void parse_ctx_resume(struct parse_ctx *ctx, int64_t ms)
{
	ctx->last_ts = ms;
	ctx->have_last_ts = true;
	if (ctx->topts.default_year) {
		ctx->last_yearless = ms;
		ctx->have_yearless = true;
	}
}

void parse_ctx_set_file_time(struct parse_ctx *ctx, int64_t ms)
{
	ctx->file_ms = ms;
	ctx->has_file_ms = true;
	ctx->file_year = year_of(ms);
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

static bool is_digit(char c)
{
	return (unsigned)(c - '0') < 10u;
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha((unsigned char)c);
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

static struct span mkspan(const char *p, size_t n)
{
	struct span s;

	s.p = p;
	s.len = n;
	return s;
}

static struct span lit(const char *s)
{
	return mkspan(s, strlen(s));
}

/* Add a field to out; past PARSE_MAX_FIELDS it is counted and dropped. */
static void add_field(struct parsed *out, struct span name, struct span value)
{
	if (out->nfields >= PARSE_MAX_FIELDS) {
		out->fields_dropped++;
		return;
	}
	out->fields[out->nfields].name = name;
	out->fields[out->nfields].value = value;
	out->nfields++;
}

static void add(struct parsed *out, const char *name, const char *v, size_t n)
{
	if (out != NULL && n > 0)
		add_field(out, lit(name), mkspan(v, n));
}

/*
 * Keep the text of a number in the arena; return its span, or an empty
 * one when the arena is full.
 */
static struct span arena_printf(struct parse_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct span arena_printf(struct parse_state *st, const char *fmt, ...)
{
	char *dst = st->num + st->num_used;
	size_t room = sizeof(st->num) - st->num_used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return mkspan(NULL, 0);
	st->num_used += (size_t)n + 1;
	return mkspan(dst, (size_t)n);
}

/* ---- time ---- */

static int year_of(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	return tm.tm_year + 1900;
}

/*
 * A timestamp at p[0] (timefmt_parse), giving stamps without a year one:
 * --year, rolled over when the time runs back by more than half a year,
 * or the year of the file's time (the year before, for stamps that would
 * lie more than a day after it). Return TIMEFMT_NONE when there is no
 * stamp, or when its year cannot be known.
 */
static enum timefmt_kind parse_time(struct parse_ctx *ctx, const char *p,
				    size_t n, int64_t *ms, size_t *used)
{
	struct timefmt_opts o = ctx->topts;
	enum timefmt_kind k;

	if (n < 8 || (!is_digit(p[0]) && !is_upper(p[0])))
		return TIMEFMT_NONE;
	if (o.default_year)
		o.default_year += ctx->year_roll;
	else if (ctx->has_file_ms)
		o.default_year = ctx->file_year;
	k = timefmt_parse(p, n, &o, ms, used);
	if (k != TIMEFMT_SYSLOG)
		return k;
	if (ctx->topts.default_year) {
		/*
		 * A year at a time: a run that goes on from an earlier one
		 * starts at --year again and catches up with its last time
		 * here (parse_ctx_resume). Past year 9999 no stamp parses.
		 */
		while (ctx->have_yearless &&
		       *ms < ctx->last_yearless - HALF_YEAR_MS) {
			ctx->year_roll++;
			o.default_year++;
			if (timefmt_parse(p, n, &o, ms, used) != TIMEFMT_SYSLOG)
				return TIMEFMT_NONE;
		}
	} else if (*ms > ctx->file_ms + TIMEFMT_MS_DAY) {
		o.default_year--;
		if (timefmt_parse(p, n, &o, ms, used) != TIMEFMT_SYSLOG)
			return TIMEFMT_NONE;
	}
	ctx->last_yearless = *ms;
	ctx->have_yearless = true;
	return k;
}

/* ---- ANSI codes ---- */

/* Copy p without its ANSI escape sequences into b. */
static void strip_ansi(const char *p, size_t n, struct buf *b)
{
	size_t i = 0, k;

	buf_clear(b);
	while (i < n) {
		const char *e = memchr(p + i, '\x1b', n - i);
		size_t run = e ? (size_t)(e - (p + i)) : n - i;

		buf_add(b, p + i, run);
		i += run;
		if (i >= n)
			break;
		k = record_ansi_len(p + i, n - i);
		if (k == 0) {
			buf_addch(b, p[i]);
			k = 1;
		}
		i += k;
	}
}
/* ---- shapes of text ---- */

/*
 * One shape detection over the first line of a text: p and n, the
 * record being parsed (out: full mode, where fields go; NULL in the
 * cheap pass), and what was found.
 */
struct det {
	struct parse_ctx *ctx;
	const char *p;
	size_t n;
	struct parsed *out;     /* full mode: fields are added; or NULL */
	enum parse_format shape;
	int level;              /* PARSE_LEVEL_*, or LEVEL_SCAN */
	bool has_ts;
	int64_t ts;
	struct span stamp;      /* the shape's own time, as written */
	int t0;                 /* time at p[0]: -1 not tried, 0 no, 1 yes */
	int64_t t0_ms;
	size_t t0_used;
};

typedef bool (*detect_fn)(struct det *d);

static bool starts(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memcmp(p, s, k) == 0;
}

/* Is there a timestamp at p[0]? Cached: several shapes ask. */
static bool det_t0(struct det *d)
{
	if (d->t0 < 0)
		d->t0 = parse_time(d->ctx, d->p, d->n, &d->t0_ms,
				   &d->t0_used) != TIMEFMT_NONE;
	return d->t0 > 0;
}

static void det_time_t0(struct det *d)
{
	d->has_ts = true;
	d->ts = d->t0_ms;
	d->stamp = mkspan(d->p, d->t0_used);
}

/* A stamp at s (inside the line): keep it as the shape's time. */
static bool det_time_at(struct det *d, const char *s, size_t n, size_t *used)
{
	int64_t ms;

	if (parse_time(d->ctx, s, n, &ms, used) == TIMEFMT_NONE)
		return false;
	d->has_ts = true;
	d->ts = ms;
	d->stamp = mkspan(s, *used);
	return true;
}

/* Bytes of the run of characters of p accepted by ok(), at most max. */
static size_t run(const char *p, size_t n, size_t max, bool (*ok)(char))
{
	size_t i = 0;

	while (i < n && i < max && ok(p[i]))
		i++;
	return i;
}

static bool is_not_space(char c)
{
	return c != ' ' && c != '\t';
}

static bool is_upper_c(char c)
{
	return is_upper(c);
}

static bool is_digit_c(char c)
{
	return is_digit(c);
}

static bool is_name_c(char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Skip spaces from p[i]; return the new index. */
static size_t skip_sp(const char *p, size_t n, size_t i)
{
	while (i < n && p[i] == ' ')
		i++;
	return i;
}

/*
 * The request of an access line at p, from its opening quote:
 * "METHOD path HTTP/1.1" 200. Fills method, path and status; returns the
 * bytes through the status, or 0.
 */
static size_t access_request(const char *p, size_t n, struct span *method,
			     struct span *path, struct span *status)
{
	size_t i = 1, m, s, e;

	if (n < 16 || p[0] != '"')
		return 0;
	m = run(p + i, n - i, 16, is_upper_c);
	if (m == 0 || i + m >= n || p[i + m] != ' ')
		return 0;
	*method = mkspan(p + i, m);
	i += m + 1;
	s = i;
	while (i < n && p[i] != ' ' && p[i] != '"')
		i++;
	*path = mkspan(p + s, i - s);
	/* the rest of the request line, up to the closing quote */
	while (i < n && !(p[i] == '"' && p[i - 1] != '\\'))
		i++;
	if (i + 5 > n || p[i + 1] != ' ')
		return 0;
	e = i + 2;
	if (!is_digit(p[e]) || !is_digit(p[e + 1]) || !is_digit(p[e + 2]) ||
	    (e + 3 < n && p[e + 3] != ' '))
		return 0;
	*status = mkspan(p + e, 3);
	return e + 3;
}

/*
 * uvicorn's access line after its client: "1.2.3.4:5678 - \"GET / HTTP/1.1\"
 * 200 OK". Returns true and adds fields in full mode.
 */
static bool access_after_client(struct det *d, const char *p, size_t n)
{
	struct span method, path, status;
	size_t c = run(p, n, 64, is_not_space);

	if (c < 3 || c + 4 >= n || memcmp(p + c, " - \"", 4) != 0 ||
	    !is_digit(p[c - 1]) || memchr(p, ':', c) == NULL)
		return false;
	if (access_request(p + c + 3, n - c - 3, &method, &path, &status) == 0)
		return false;
	if (d->out) {
		add(d->out, "client", p, c);
		add(d->out, "method", method.p, method.len);
		add(d->out, "path", path.p, path.len);
		add(d->out, "status", status.p, status.len);
	}
	return true;
}

/* Levels uvicorn writes: "INFO:     " (the message at column 10). */
static bool det_uvicorn(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, w, i;
	int lv;

	w = run(p, n, 9, is_upper_c);
	if (w < 4 || w + 2 > n || p[w] != ':' || p[w + 1] != ' ')
		return false;
	i = skip_sp(p, n, w + 1);
	if (i != 10 && !(i == w + 2 && w + 1 >= 9))
		return false;
	lv = level_of_word(p, w, false);
	if (lv == PARSE_LEVEL_NONE || starts(p, n, "LOG") ||
	    starts(p, n, "ERR:") || starts(p, n, "CRIT:"))
		return false;
	d->level = lv;
	d->shape = access_after_client(d, p + i, n - i) ?
		   PARSE_FMT_UVICORN_ACCESS : PARSE_FMT_UVICORN;
	return true;
}

/* uvicorn's access line without its level, as gunicorn's UvicornWorker
 * logs it. */
static bool det_uvicorn_access(struct det *d)
{
	if (!access_after_client(d, d->p, d->n))
		return false;
	d->shape = PARSE_FMT_UVICORN_ACCESS;
	d->level = PARSE_LEVEL_NONE;
	return true;
}

/* "[2026-02-24 10:15:02 +0000] [7] [ERROR] msg" */
static bool det_gunicorn(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, used, i, k, w;
	int64_t ms;

	if (n < 30 || p[0] != '[' ||
	    parse_time(d->ctx, p + 1, n - 1, &ms, &used) == TIMEFMT_NONE)
		return false;
	i = 1 + used;
	if (i + 3 >= n || p[i] != ']' || p[i + 1] != ' ' || p[i + 2] != '[')
		return false;
	k = run(p + i + 3, n - i - 3, 12, is_digit_c);
	if (k == 0 || i + 3 + k + 3 >= n || p[i + 3 + k] != ']' ||
	    p[i + 4 + k] != ' ' || p[i + 5 + k] != '[')
		return false;
	w = run(p + i + 6 + k, n - i - 6 - k, 9, is_upper_c);
	if (w == 0 || i + 6 + k + w >= n || p[i + 6 + k + w] != ']')
		return false;
	d->level = level_of_word(p + i + 6 + k, w, false);
	if (d->level == PARSE_LEVEL_NONE)
		return false;
	d->shape = PARSE_FMT_GUNICORN;
	d->has_ts = true;
	d->ts = ms;
	d->stamp = mkspan(p + 1, used);
	if (d->out)
		add(d->out, "pid", p + i + 3, k);
	return true;
}

/*
 * nginx, Apache and gunicorn access lines (common or combined format):
 * host ident user [24/Feb/2026:10:15:02 +0000] "GET / HTTP/1.1" 200 512
 * "referer" "agent", and what a log_format adds after them: a request
 * time as a bare number ("0.123") or as rt=, request_time=.
 */
static bool det_combined(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, i = 0, h, k, used, e;
	struct span method, path, status;
	int t;

	h = run(p, n, 256, is_not_space);
	if (h == 0 || h + 1 >= n || p[h] != ' ')
		return false;
	i = h + 1;
	for (t = 0; t < 2; t++) {
		k = run(p + i, n - i, 256, is_not_space);
		if (k == 0 || i + k + 1 >= n || p[i + k] != ' ')
			return false;
		i += k + 1;
	}
	if (p[i] != '[' || !det_time_at(d, p + i + 1, n - i - 1, &used))
		return false;
	i += 1 + used;
	if (i + 2 >= n || p[i] != ']' || p[i + 1] != ' ') {
		d->has_ts = false;
		return false;
	}
	i += 2;
	k = access_request(p + i, n - i, &method, &path, &status);
	if (k == 0) {
		d->has_ts = false;
		return false;
	}
	d->shape = PARSE_FMT_COMBINED;
	d->level = PARSE_LEVEL_NONE;
	if (d->out == NULL)
		return true;
	add(d->out, "client", p, h);
	add(d->out, "method", method.p, method.len);
	add(d->out, "path", path.p, path.len);
	add(d->out, "status", status.p, status.len);
	i += k;
	i = skip_sp(p, n, i);
	e = i;
	while (e < n && p[e] != ' ')
		e++;
	add(d->out, "bytes", p + i, e - i);
	i = e;
	/* referer and user agent, when quoted */
	for (t = 0; t < 2; t++) {
		i = skip_sp(p, n, i);
		if (i >= n || p[i] != '"')
			break;
		for (e = i + 1; e < n && !(p[e] == '"' && p[e - 1] != '\\'); e++)
			;
		i = e < n ? e + 1 : n;
	}
	i = skip_sp(p, n, i);
	if (i < n && is_digit(p[i])) {
		e = i;
		while (e < n && (is_digit(p[e]) || p[e] == '.'))
			e++;
		add(d->out, "request_time", p + i, e - i);
	} else {
		static const char *const keys[] = {
			" rt=", " request_time=", "request_time=", "rt=",
		};
		size_t q;

		for (q = 0; q < ARRAY_SIZE(keys); q++) {
			const char *r = memmem(p + i, n - i, keys[q],
					       strlen(keys[q]));

			if (r == NULL || (keys[q][0] != ' ' && r != p + i))
				continue;
			r += strlen(keys[q]);
			for (e = (size_t)(r - p); e < n &&
			     (is_digit(p[e]) || p[e] == '.'); e++)
				;
			add(d->out, "request_time", r, (size_t)(p + e - r));
			break;
		}
	}
	return true;
}

/* "2026/02/24 10:15:02 [error] 31#31: *1 upstream timed out ..." */
static bool det_nginx_error(struct det *d)
{
	static const struct {
		const char *w;
		unsigned char level;
	} lv[] = {
		{ "debug", PARSE_LEVEL_DEBUG }, { "info", PARSE_LEVEL_INFO },
		{ "notice", PARSE_LEVEL_INFO }, { "warn", PARSE_LEVEL_WARNING },
		{ "error", PARSE_LEVEL_ERROR }, { "crit", PARSE_LEVEL_CRITICAL },
		{ "alert", PARSE_LEVEL_CRITICAL },
		{ "emerg", PARSE_LEVEL_CRITICAL },
	};
	const char *p = d->p;
	size_t n = d->n, w, q, used;
	char iso[19];
	int64_t ms;

	if (n < 24 || p[4] != '/' || p[7] != '/' || p[10] != ' ' ||
	    p[19] != ' ' || p[20] != '[')
		return false;
	memcpy(iso, p, sizeof(iso));
	iso[4] = iso[7] = '-';
	if (parse_time(d->ctx, iso, sizeof(iso), &ms, &used) ==
	    TIMEFMT_NONE || used != sizeof(iso))
		return false;
	w = run(p + 21, n - 21, 8, is_name_c);
	if (21 + w >= n || p[21 + w] != ']')
		return false;
	for (q = 0; q < ARRAY_SIZE(lv); q++)
		if (strlen(lv[q].w) == w && memcmp(p + 21, lv[q].w, w) == 0)
			break;
	if (q == ARRAY_SIZE(lv))
		return false;
	d->shape = PARSE_FMT_NGINX_ERROR;
	d->level = lv[q].level;
	d->has_ts = true;
	d->ts = ms;
	d->stamp = mkspan(p, 19);
	if (d->out) {
		size_t s = 23 + w, e = s;

		while (e < n && is_digit(p[e]))
			e++;
		if (e < n && p[e] == '#')
			add(d->out, "pid", p + s, e - s);
	}
	return true;
}

/*
 * PostgreSQL's severities, each followed by ":  " (two spaces) in the
 * server's log: the level of each.
 */
static const struct {
	const char *w;
	unsigned char len;
	unsigned char level;
} pg_severities[] = {
	{ "LOG", 3, PARSE_LEVEL_INFO }, { "INFO", 4, PARSE_LEVEL_INFO },
	{ "NOTICE", 6, PARSE_LEVEL_INFO }, { "WARNING", 7, PARSE_LEVEL_WARNING },
	{ "ERROR", 5, PARSE_LEVEL_ERROR }, { "FATAL", 5, PARSE_LEVEL_CRITICAL },
	{ "PANIC", 5, PARSE_LEVEL_CRITICAL }, { "DEBUG1", 6, PARSE_LEVEL_DEBUG },
	{ "DEBUG2", 6, PARSE_LEVEL_DEBUG }, { "DEBUG3", 6, PARSE_LEVEL_DEBUG },
	{ "DEBUG4", 6, PARSE_LEVEL_DEBUG }, { "DEBUG5", 6, PARSE_LEVEL_DEBUG },
	{ "DETAIL", 6, PARSE_LEVEL_NONE }, { "HINT", 4, PARSE_LEVEL_NONE },
	{ "STATEMENT", 9, PARSE_LEVEL_NONE }, { "CONTEXT", 7, PARSE_LEVEL_NONE },
	{ "QUERY", 5, PARSE_LEVEL_NONE }, { "LOCATION", 8, PARSE_LEVEL_NONE },
};

/* The severity word ending at p[e] ("LOG" before ":  "): its index in
 * pg_severities, or -1. */
static int pg_severity(const char *p, size_t e)
{
	size_t s = e, q;

	while (s > 0 && (is_upper(p[s - 1]) || is_digit(p[s - 1])) && e - s < 9)
		s--;
	if (s > 0 && p[s - 1] != ' ' && p[s - 1] != ']')
		return -1;
	for (q = 0; q < ARRAY_SIZE(pg_severities); q++)
		if (pg_severities[q].len == e - s &&
		    memcmp(p + s, pg_severities[q].w, e - s) == 0)
			return (int)q;
	return -1;
}

/* Fields of a PostgreSQL line: its pid, user and database, a duration. */
static void pg_fields(struct det *d, size_t from, size_t sev)
{
	const char *p = d->p;
	size_t n = d->n, i, e;
	const char *r;

	for (i = from; i < sev; i++) {
		if (p[i] == '[' && i + 1 < sev && is_digit(p[i + 1])) {
			for (e = i + 1; e < sev && is_digit(p[e]); e++)
				;
			if (e < sev && p[e] == ']')
				add(d->out, "pid", p + i + 1, e - i - 1);
			break;
		}
	}
	if ((r = memmem(p + from, sev - from, "user=", 5)) != NULL) {
		for (e = (size_t)(r - p) + 5; e < sev && p[e] != ',' &&
		     p[e] != ' '; e++)
			;
		add(d->out, "user", r + 5, (size_t)(p + e - r - 5));
	}
	if ((r = memmem(p + from, sev - from, "db=", 3)) != NULL) {
		for (e = (size_t)(r - p) + 3; e < sev && p[e] != ',' &&
		     p[e] != ' '; e++)
			;
		add(d->out, "database", r + 3, (size_t)(p + e - r - 3));
	} else if ((r = memchr(p + from, '@', sev - from)) != NULL) {
		/* %u@%d */
		size_t a = (size_t)(r - p), s = a, t = a + 1;

		while (s > from && p[s - 1] != ' ')
			s--;
		while (t < sev && p[t] != ' ')
			t++;
		if (s < a && t > a + 1) {
			add(d->out, "user", p + s, a - s);
			add(d->out, "database", p + a + 1, t - a - 1);
		}
	}
	if ((r = memmem(p + sev, n - sev, "duration: ", 10)) != NULL) {
		for (e = (size_t)(r - p) + 10; e < n &&
		     (is_digit(p[e]) || p[e] == '.'); e++)
			;
		add(d->out, "duration_ms", r + 10, (size_t)(p + e - r - 10));
	}
}

/*
 * PostgreSQL's server log: a log_line_prefix ("%m [%p] ", "%t [%p]: [%l-1]
 * user=%u,db=%d ", "%m [%p] %q%u@%d ") then "SEVERITY:  message"; or no
 * prefix at all ("LOG:  database system is ready").
 */
static bool det_postgres(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, from = 0, lim, i;
	const char *c;
	int q = -1;

	if (det_t0(d)) {
		from = d->t0_used;
	} else if (p[0] == '[') {
		/* "[%p] SEVERITY:  " */
		i = 1 + run(p + 1, n - 1, 12, is_digit_c);
		if (i == 1 || i + 1 >= n || p[i] != ']' || p[i + 1] != ' ')
			return false;
		from = i + 2;
	} else if (!is_upper(p[0])) {
		return false;
	}
	lim = n - from < PG_SCAN_BYTES ? n - from : PG_SCAN_BYTES;
	for (i = from; i < from + lim; i = (size_t)(c - p) + 1) {
		c = memmem(p + i, from + lim - i, ":  ", 3);
		if (c == NULL)
			return false;
		/* exactly two spaces: uvicorn pads "INFO:     " further */
		if ((size_t)(c - p) + 3 < n && p[c - p + 3] != ' ' &&
		    (q = pg_severity(p, (size_t)(c - p))) >= 0 &&
		    (d->t0 || (size_t)(c - p) <= from + 9))
			break;
		q = -1;
		if (!d->t0)
			return false;
	}
	if (q < 0)
		return false;
	d->shape = PARSE_FMT_POSTGRES;
	d->level = pg_severities[q].level;
	if (d->t0)
		det_time_t0(d);
	if (d->out)
		pg_fields(d, from, (size_t)(c - p));
	return true;
}

/*
 * Redis's server log (serverLogRaw() in server.c): "%d:%c %s %c %s", the
 * pid, the role (M master, S replica, C a child writing an RDB or AOF
 * file, X sentinel), the time in the server's local time ("24 Feb 2026
 * 10:15:02.123", read in --tz), the level ('.' debug, '-' verbose, '*'
 * notice, '#' warning) and the message. What its signal handler logs
 * (serverLogFromHandler(), always a warning) has the epoch seconds
 * instead: "1:signal-handler (1771931704) Received SIGTERM scheduling
 * shutdown...".
 */
static bool det_redis(struct det *d)
{
	static const char sig[] = ":signal-handler (";
	const char *p = d->p, *role = NULL;
	size_t n = d->n, i, k, used;
	int64_t ms;
	char r, c;

	i = run(p, n, 10, is_digit_c);
	if (i == 0 || i + 3 >= n || p[i] != ':')
		return false;
	if (starts(p + i, n - i, sig)) {
		k = i + sizeof(sig) - 1;
		used = run(p + k, n - k, 12, is_digit_c);
		if (used == 0 || k + used + 1 >= n || p[k + used] != ')' ||
		    p[k + used + 1] != ' ' ||
		    timefmt_from_epoch_text(p + k, used, &ms) != 0)
			return false;
		d->level = PARSE_LEVEL_WARNING;
		goto found;
	}
	role = p + i + 1;
	r = *role;
	if ((r != 'M' && r != 'S' && r != 'C' && r != 'X') || p[i + 2] != ' ')
		return false;
	if (parse_time(d->ctx, p + i + 3, n - i - 3, &ms, &used) !=
	    TIMEFMT_DMY)
		return false;
	k = i + 3 + used;
	if (k + 1 >= n || p[k] != ' ' || (k + 2 < n && p[k + 2] != ' '))
		return false;
	c = p[k + 1];
	if (c == '#')
		d->level = PARSE_LEVEL_WARNING;
	else if (c == '*')
		d->level = PARSE_LEVEL_INFO;
	else if (c == '-' || c == '.')
		d->level = PARSE_LEVEL_DEBUG;
	else
		return false;
	k = i + 3;
found:
	d->shape = PARSE_FMT_REDIS;
	d->has_ts = true;
	d->ts = ms;
	d->stamp = mkspan(p + k, used);
	add(d->out, "pid", p, i);
	if (role)
		add(d->out, "role", role, 1);
	return true;
}

/* Python's levelnames, as logging writes them. */
static int py_level(const char *p, size_t n)
{
	switch (n) {
	case 4:
		return memcmp(p, "INFO", 4) == 0 ? PARSE_LEVEL_INFO : 0;
	case 5:
		if (memcmp(p, "ERROR", 5) == 0)
			return PARSE_LEVEL_ERROR;
		return memcmp(p, "DEBUG", 5) == 0 ? PARSE_LEVEL_DEBUG : 0;
	case 7:
		return memcmp(p, "WARNING", 7) == 0 ? PARSE_LEVEL_WARNING : 0;
	case 8:
		return memcmp(p, "CRITICAL", 8) == 0 ? PARSE_LEVEL_CRITICAL : 0;
	default:
		return PARSE_LEVEL_NONE;
	}
}

/*
 * Python logging: "ERROR:app.db:msg" (basicConfig's default), "<asctime>
 * - name - LEVEL - msg", "<asctime> LEVEL name: msg", "<asctime> [LEVEL]
 * name: msg", "<asctime> name LEVEL msg", Flask's "[<asctime>] LEVEL in
 * module: msg", Django's "LEVEL <asctime> module ...".
 */
static bool det_python(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, w, i, k, t;
	int lv;

	if (is_upper(p[0])) {
		w = run(p, n, 9, is_upper_c);
		lv = py_level(p, w);
		if (lv == PARSE_LEVEL_NONE || w + 2 >= n)
			return false;
		if (p[w] == ':' && (is_alpha((unsigned char)p[w + 1]) ||
				    p[w + 1] == '_')) {
			k = run(p + w + 1, n - w - 1, 128, is_name_c);
			if (w + 1 + k >= n || p[w + 1 + k] != ':')
				return false;
			d->shape = PARSE_FMT_PYTHON;
			d->level = lv;
			add(d->out, "logger", p + w + 1, k);
			return true;
		}
		if (p[w] == ' ' && is_digit(p[w + 1])) {
			int64_t ms;
			size_t used;

			if (parse_time(d->ctx, p + w + 1, n - w - 1, &ms,
				       &used) == TIMEFMT_NONE)
				return false;
			d->shape = PARSE_FMT_PYTHON;
			d->level = lv;
			d->has_ts = true;
			d->ts = ms;
			d->stamp = mkspan(p + w + 1, used);
			return true;
		}
		return false;
	}
	if (p[0] == '[') {
		int64_t ms;
		size_t used;

		if (parse_time(d->ctx, p + 1, n - 1, &ms, &used) ==
		    TIMEFMT_NONE || 1 + used + 2 >= n || p[1 + used] != ']' ||
		    p[2 + used] != ' ')
			return false;
		i = 3 + used;
		w = run(p + i, n - i, 9, is_upper_c);
		lv = py_level(p + i, w);
		if (lv == PARSE_LEVEL_NONE || !starts(p + i + w, n - i - w,
						      " in "))
			return false;
		d->shape = PARSE_FMT_PYTHON;
		d->level = lv;
		d->has_ts = true;
		d->ts = ms;
		d->stamp = mkspan(p + 1, used);
		i += w + 4;
		k = run(p + i, n - i, 128, is_name_c);
		if (i + k < n && p[i + k] == ':')
			add(d->out, "logger", p + i, k);
		return true;
	}
	/*
	 * After an asctime: Python's own (a comma before the milliseconds,
	 * "2026-02-24 10:15:02,123"), or any stamp in the " - name - LEVEL - "
	 * layout. "<ISO stamp> LEVEL msg" of other programs stays text.
	 */
	if (!det_t0(d))
		return false;
	i = d->t0_used;
	if (i >= n || p[i] != ' ')
		return false;
	i++;
	/* "- name - LEVEL - " */
	if (starts(p + i, n - i, "- ")) {
		size_t s = i + 2;
		const char *dash = memmem(p + s, n - s < 160 ? n - s : 160,
					  " - ", 3);

		if (dash == NULL)
			return false;
		k = (size_t)(dash - p) + 3;
		w = run(p + k, n - k, 9, is_upper_c);
		lv = py_level(p + k, w);
		if (lv == PARSE_LEVEL_NONE || !starts(p + k + w, n - k - w,
						      " - "))
			return false;
		d->shape = PARSE_FMT_PYTHON;
		d->level = lv;
		det_time_t0(d);
		add(d->out, "logger", p + s, (size_t)(dash - p) - s);
		return true;
	}
	/* a level word, bare or in brackets, as the first or second token */
	if (d->t0_used < 23 || p[19] != ',')
		return false;
	for (t = 0; t < 2 && i < n; t++) {
		bool br = p[i] == '[';
		size_t ws = i + br;

		w = run(p + ws, n - ws, 9, is_upper_c);
		lv = py_level(p + ws, w);
		if (lv != PARSE_LEVEL_NONE && (br ? ws + w < n &&
					       p[ws + w] == ']' :
					       ws + w == n || p[ws + w] == ' ' ||
					       p[ws + w] == ':')) {
			d->shape = PARSE_FMT_PYTHON;
			d->level = lv;
			det_time_t0(d);
			if (d->out && t == 0) {
				k = skip_sp(p, n, ws + w + br);
				w = run(p + k, n - k, 128, is_name_c);
				if (k + w < n && p[k + w] == ':')
					add(d->out, "logger", p + k, w);
			} else if (d->out) {
				add(d->out, "logger", p + d->t0_used + 1,
				    i - d->t0_used - 2);
			}
			return true;
		}
		k = run(p + i, n - i, 128, is_not_space);
		if (k == 0 || i + k >= n)
			break;
		i = skip_sp(p, n, i + k);
	}
	return false;
}

/* A bare Python traceback (uncaught: an error). */
static bool det_traceback(struct det *d)
{
	size_t i = skip_sp(d->p, d->n, 0);

	if (!starts(d->p + i, d->n - i, "Traceback (most recent call last):") &&
	    !starts(d->p + i, d->n - i,
		    "+ Exception Group Traceback (most recent call last):"))
		return false;
	d->shape = PARSE_FMT_TRACEBACK;
	d->level = PARSE_LEVEL_ERROR;
	return true;
}

/* Railway's build lines: "[internal] load ...", "[2/5] RUN ...",
 * "[stage-0 2/5] ...". */
static bool buildkit_vertex(const char *p, size_t n)
{
	size_t i = 1, k;

	if (n < 5 || p[0] != '[')
		return false;
	if (starts(p, n, "[internal] "))
		return true;
	k = run(p + i, n - i, 32, is_name_c);
	if (k > 0 && i + k < n && p[i + k] == ' ' && !is_digit(p[i]))
		i += k + 1;
	k = run(p + i, n - i, 4, is_digit_c);
	if (k == 0 || i + k >= n || p[i + k] != '/')
		return false;
	i += k + 1;
	k = run(p + i, n - i, 4, is_digit_c);
	return k > 0 && i + k + 1 < n && p[i + k] == ']' && p[i + k + 1] == ' ';
}

/*
 * BuildKit's plain progress: "#8 [4/5] RUN ...", "#8 2.412 output",
 * "#8 DONE 0.1s", "#8 ERROR: ..."; "ERROR: failed to solve: ..."; and,
 * right after BuildKit lines, its failing-step excerpt ("------",
 * "2.412 ERROR: ...", "Dockerfile:7"). The seconds since the build
 * started are kept as "elapsed", never read as a time.
 */
static bool det_buildkit(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, k, e;
	bool after = d->ctx->prev_inner == PARSE_FMT_BUILDKIT;

	if (p[0] == '#') {
		k = run(p + 1, n - 1, 6, is_digit_c);
		if (k == 0 || (1 + k < n && p[1 + k] != ' '))
			return false;
		add(d->out, "step", p + 1, k);
		e = 2 + k;
		if (d->out && e < n && is_digit(p[e])) {
			size_t s = e;

			while (e < n && (is_digit(p[e]) || p[e] == '.'))
				e++;
			if (e < n && p[e] == ' ' && memchr(p + s, '.', e - s))
				add(d->out, "elapsed", p + s, e - s);
		}
	} else if (starts(p, n, "ERROR: failed to solve: ") ||
		   starts(p, n, "ERROR: failed to build: ") ||
		   buildkit_vertex(p, n)) {
		/* the shape is plain enough */
	} else if (after && (starts(p, n, "------") ||
			     starts(p, n, "Dockerfile:") ||
			     starts(p, n, " > ["))) {
		/* the failing step's excerpt */
	} else if (after && is_digit(p[0])) {
		e = run(p, n, 8, is_digit_c);
		if (e + 2 >= n || p[e] != '.' || !is_digit(p[e + 1]))
			return false;
		e += 1 + run(p + e + 1, n - e - 1, 6, is_digit_c);
		if (e >= n || p[e] != ' ')
			return false;
		add(d->out, "elapsed", p, e);
	} else {
		return false;
	}
	d->shape = PARSE_FMT_BUILDKIT;
	d->level = LEVEL_SCAN;
	return true;
}

/* The classic builder (DOCKER_BUILDKIT=0 docker build). */
static bool det_docker_build(struct det *d)
{
	static const char *const heads[] = {
		" ---> ", "Sending build context to Docker daemon",
		"Successfully built ", "Successfully tagged ",
		"Removing intermediate container ", "The command '",
		"The command [", "COPY failed: ", "ADD failed: ",
		"DEPRECATED: The legacy builder is deprecated",
	};
	const char *p = d->p;
	size_t n = d->n, i, k;

	if (starts(p, n, "Step ")) {
		k = run(p + 5, n - 5, 4, is_digit_c);
		if (k == 0 || 5 + k >= n || p[5 + k] != '/')
			return false;
		i = 6 + k;
		i += run(p + i, n - i, 4, is_digit_c);
		if (!starts(p + i, n - i, " : "))
			return false;
		add(d->out, "step", p + 5, i - 5);
	} else {
		for (i = 0; i < ARRAY_SIZE(heads); i++)
			if (starts(p, n, heads[i]))
				break;
		if (i == ARRAY_SIZE(heads))
			return false;
	}
	d->shape = PARSE_FMT_DOCKER_BUILD;
	d->level = LEVEL_SCAN;
	return true;
}

/*
 * One logfmt pair at p[i]: key=value or key="quoted value". Fills key and
 * value (the quoted body, escapes kept); returns the index after it, or
 * 0 when p[i] is no pair.
 */
static size_t logfmt_pair(const char *p, size_t n, size_t i, struct span *key,
			  struct span *value)
{
	size_t k = i, e;

	if (i >= n || !(is_alpha((unsigned char)p[i]) || p[i] == '_'))
		return 0;
	while (k < n && k - i < 64 && (is_name_c(p[k]) || p[k] == '/'))
		k++;
	if (k >= n || p[k] != '=')
		return 0;
	*key = mkspan(p + i, k - i);
	e = k + 1;
	if (e < n && p[e] == '"') {
		size_t s = ++e;

		while (e < n && !(p[e] == '"' && p[e - 1] != '\\'))
			e++;
		*value = mkspan(p + s, e - s);
		if (e < n)
			e++;
	} else {
		size_t s = e;

		while (e < n && p[e] != ' ')
			e++;
		*value = mkspan(p + s, e - s);
	}
	if (e < n && p[e] != ' ')
		return 0;
	return e;
}

/*
 * logfmt: time=... level=info msg="..." (Go's logrus and slog, Heroku's
 * router "at=info method=GET path=... service=12ms status=200").
 */
static bool det_logfmt(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, i = 0, pairs = 0;
	struct span key, value;
	bool have_level = false;

	while (i < n) {
		size_t e = logfmt_pair(p, n, i, &key, &value);

		if (e == 0)
			break;
		pairs++;
		if (!have_level && (span_eq(key, "level") ||
				    span_eq(key, "lvl") ||
				    span_eq(key, "severity") ||
				    span_eq(key, "at"))) {
			d->level = level_from_name(value.p, value.len);
			have_level = true;
		} else if (!d->has_ts && (span_eq(key, "time") ||
					  span_eq(key, "ts") ||
					  span_eq(key, "t") ||
					  span_eq(key, "timestamp"))) {
			size_t used;

			det_time_at(d, value.p, value.len, &used);
		}
		if (d->out)
			add_field(d->out, key, value);
		else if (pairs >= LOGFMT_CHEAP_PAIRS || (have_level && d->has_ts))
			break;
		i = skip_sp(p, n, e);
	}
	if (pairs < 2) {
		d->has_ts = false;
		if (d->out)
			d->out->nfields -= (unsigned)pairs;
		return false;
	}
	d->shape = PARSE_FMT_LOGFMT;
	if (!have_level)
		d->level = PARSE_LEVEL_NONE;
	return true;
}

/* An age as kubectl prints it: "90s", "5m", "2m10s", "3d4h", "<unknown>". */
static size_t k8s_age(const char *p, size_t n)
{
	size_t i = 0;

	if (starts(p, n, "<unknown>") || starts(p, n, "<invalid>"))
		return 9;
	while (i < n && is_digit(p[i])) {
		i += run(p + i, n - i, 6, is_digit_c);
		if (i >= n || (p[i] != 's' && p[i] != 'm' && p[i] != 'h' &&
			       p[i] != 'd' && p[i] != 'y'))
			return 0;
		i++;
	}
	return i;
}

/*
 * kubectl get events: "LAST SEEN   TYPE      REASON    OBJECT    MESSAGE"
 * and its rows "2m   Warning   BackOff   pod/api-1   Back-off ...",
 * with a NAMESPACE column first under -A.
 */
static bool det_k8s_events(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, i = 0, a, k, r;
	int lv;

	if (starts(p, n, "LAST SEEN ") || (starts(p, n, "NAMESPACE ") &&
					   memmem(p, n, "LAST SEEN", 9))) {
		d->shape = PARSE_FMT_K8S_EVENTS;
		d->level = PARSE_LEVEL_NONE;
		return true;
	}
	for (k = 0; k < 2; k++) {
		a = k8s_age(p + i, n - i);
		if (a > 0 && i + a + 2 < n && p[i + a] == ' ' &&
		    p[i + a + 1] == ' ')
			break;
		if (k == 1 || !is_lower(p[0]))
			return false;
		/* a namespace column first */
		i = run(p, n, 64, is_name_c);
		if (i + 2 >= n || p[i] != ' ' || p[i + 1] != ' ')
			return false;
		i = skip_sp(p, n, i);
	}
	i = skip_sp(p, n, i + a);
	if (starts(p + i, n - i, "Warning "))
		lv = PARSE_LEVEL_WARNING;
	else if (starts(p + i, n - i, "Normal "))
		lv = PARSE_LEVEL_INFO;
	else
		return false;
	i = skip_sp(p, n, i + (lv == PARSE_LEVEL_WARNING ? 8 : 7));
	r = run(p + i, n - i, 64, is_not_space);
	if (r == 0)
		return false;
	d->shape = PARSE_FMT_K8S_EVENTS;
	d->level = lv;
	if (d->out) {
		add(d->out, "reason", p + i, r);
		i = skip_sp(p, n, i + r);
		k = run(p + i, n - i, 256, is_not_space);
		if (memchr(p + i, '/', k))
			add(d->out, "object", p + i, k);
	}
	return true;
}

/*
 * kubectl describe pod: "Name:         api-7c9d8-x2x9k", then "Key:   value"
 * lines, indented sections and the Events table, whose rows
 * ("  Warning  BackOff  2m (x5 over 3m)  kubelet  Back-off ...") carry a
 * level.
 */
static bool det_k8s_describe(struct det *d)
{
	const char *p = d->p;
	size_t n = d->n, i;

	if (starts(p, n, "Name:  ")) {
		d->shape = PARSE_FMT_K8S_DESCRIBE;
		d->level = PARSE_LEVEL_NONE;
		return true;
	}
	if (d->ctx->prev_inner != PARSE_FMT_K8S_DESCRIBE)
		return false;
	i = skip_sp(p, n, 0);
	if (i == 0) {
		size_t k = 0;

		while (k < n && k < 40 && (is_alnum(p[k]) || p[k] == ' ' ||
					   p[k] == '-'))
			k++;
		if (k == 0 || !is_upper(p[0]) || k >= n || p[k] != ':')
			return false;
	}
	d->shape = PARSE_FMT_K8S_DESCRIBE;
	d->level = PARSE_LEVEL_NONE;
	if (i > 0 && starts(p + i, n - i, "Warning  "))
		d->level = PARSE_LEVEL_WARNING;
	else if (i > 0 && starts(p + i, n - i, "Normal  "))
		d->level = PARSE_LEVEL_INFO;
	if (d->level != PARSE_LEVEL_NONE && d->out) {
		size_t s = skip_sp(p, n, i + (d->level ==
					      PARSE_LEVEL_WARNING ? 7 : 6));
		size_t r = run(p + s, n - s, 64, is_not_space);

		add(d->out, "reason", p + s, r);
	}
	return true;
}

/* Detectors by shape, for trying the previous record's shape first. */
static const detect_fn detectors[PARSE_FMT__COUNT] = {
	[PARSE_FMT_LOGFMT] = det_logfmt,
	[PARSE_FMT_UVICORN] = det_uvicorn,
	[PARSE_FMT_UVICORN_ACCESS] = det_uvicorn,
	[PARSE_FMT_GUNICORN] = det_gunicorn,
	[PARSE_FMT_COMBINED] = det_combined,
	[PARSE_FMT_NGINX_ERROR] = det_nginx_error,
	[PARSE_FMT_PYTHON] = det_python,
	[PARSE_FMT_TRACEBACK] = det_traceback,
	[PARSE_FMT_BUILDKIT] = det_buildkit,
	[PARSE_FMT_DOCKER_BUILD] = det_docker_build,
	[PARSE_FMT_POSTGRES] = det_postgres,
	[PARSE_FMT_REDIS] = det_redis,
	[PARSE_FMT_K8S_EVENTS] = det_k8s_events,
	[PARSE_FMT_K8S_DESCRIBE] = det_k8s_describe,
};

/* The detectors to try, by the line's first byte, in order. */
static const detect_fn by_digit[] = {
	det_python, det_uvicorn_access, det_postgres, det_nginx_error,
	det_combined, det_k8s_events, det_buildkit, det_redis,
};
static const detect_fn by_upper[] = {
	det_uvicorn, det_python, det_postgres, det_docker_build,
	det_traceback, det_buildkit, det_k8s_events, det_k8s_describe,
};
static const detect_fn by_lower[] = {
	det_logfmt, det_k8s_events, det_combined,
};
static const detect_fn by_bracket[] = {
	det_gunicorn, det_python, det_buildkit, det_uvicorn_access,
	det_combined, det_postgres,
};
static const detect_fn by_space[] = {
	det_docker_build, det_traceback, det_k8s_describe, det_buildkit,
};
static const detect_fn by_other[] = {
	det_buildkit, det_k8s_events, det_uvicorn_access, det_combined,
};

/* A time at the start of unrecognised text, bare or in "[...]". */
static void generic_time(struct det *d)
{
	size_t used;

	if (d->n > 1 && d->p[0] == '[') {
		det_time_at(d, d->p + 1, d->n - 1, &used);
	} else if (det_t0(d)) {
		det_time_t0(d);
	}
}

/*
 * Recognise the shape of the text in d (its first line), the previous
 * record's shape first; fill shape, level, time (and fields in full
 * mode). Unrecognised text is PARSE_FMT_TEXT with a level scan and a time
 * at its start.
 */
static void detect_text(struct det *d)
{
	const detect_fn *list;
	size_t k, cnt;
	detect_fn prev = detectors[d->ctx->prev_inner];
	detect_fn prev2 = detectors[d->ctx->prev_inner2];
	unsigned char c;

	d->shape = PARSE_FMT_TEXT;
	d->level = LEVEL_SCAN;
	d->has_ts = false;
	d->stamp = mkspan(NULL, 0);
	d->t0 = -1;
	if (d->n == 0)
		return;
	if (prev && prev(d))
		return;
	if (prev2 && prev2 != prev && prev2(d))
		return;
	c = (unsigned char)d->p[0];
	if (is_digit((char)c)) {
		list = by_digit;
		cnt = ARRAY_SIZE(by_digit);
	} else if (is_upper((char)c)) {
		list = by_upper;
		cnt = ARRAY_SIZE(by_upper);
	} else if (is_lower((char)c)) {
		list = by_lower;
		cnt = ARRAY_SIZE(by_lower);
	} else if (c == '[') {
		list = by_bracket;
		cnt = ARRAY_SIZE(by_bracket);
	} else if (c == ' ' || c == '\t') {
		list = by_space;
		cnt = ARRAY_SIZE(by_space);
	} else {
		list = by_other;
		cnt = ARRAY_SIZE(by_other);
	}
	for (k = 0; k < cnt; k++)
		if (list[k] != prev && list[k] != prev2 && list[k](d))
			return;
	d->shape = PARSE_FMT_TEXT;
	d->level = LEVEL_SCAN;
	d->has_ts = false;
	generic_time(d);
}
/* ---- envelopes ---- */

/* Railway's tags: "[err]", "[inf]", and the CLI's "[ERRO]", "[DBUG]". */
static int tag_level(struct span t)
{
	static const struct {
		const char *w;
		unsigned char level;
	} tags[] = {
		{ "err", PARSE_LEVEL_ERROR }, { "ERRO", PARSE_LEVEL_ERROR },
		{ "wrn", PARSE_LEVEL_WARNING }, { "WARN", PARSE_LEVEL_WARNING },
		{ "inf", PARSE_LEVEL_INFO }, { "INFO", PARSE_LEVEL_INFO },
		{ "dbg", PARSE_LEVEL_DEBUG }, { "DBUG", PARSE_LEVEL_DEBUG },
		{ "crt", PARSE_LEVEL_CRITICAL }, { "FATL", PARSE_LEVEL_CRITICAL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tags); i++)
		if (span_eq(t, tags[i].w))
			return tags[i].level;
	return PARSE_LEVEL_NONE;
}

/* The fields an envelope carries, named for what they are. */
static void layer_fields(struct parsed *out, const struct record_layer *l)
{
	switch (l->env) {
	case RECORD_ENV_COMPOSE:
		add(out, "service", l->source.p, l->source.len);
		break;
	case RECORD_ENV_CRI:
		add(out, "stream", l->stream.p, l->stream.len);
		if (l->partial)
			add(out, "partial", "true", 4);
		break;
	case RECORD_ENV_HEROKU:
		add(out, "source", l->stream.p, l->stream.len);
		add(out, "service", l->source.p, l->source.len);
		break;
	case RECORD_ENV_RAILWAY:
		add(out, "tag", l->stream.p, l->stream.len);
		break;
	case RECORD_ENV_SYSLOG:
	case RECORD_ENV_SYSLOG_ISO:
		add(out, "host", l->host.p, l->host.len);
		add(out, "service", l->source.p, l->source.len);
		add(out, "pid", l->pid.p, l->pid.len);
		break;
	default:
		break;
	}
}

/*
 * The lines of a record whose first line had nl envelopes, each without
 * them, joined by "\n" into b (no "\n" after a CRI partial line, whose
 * text goes on in the next entry). A line that does not carry as many
 * envelopes is taken whole.
 */
static void join_enveloped(const char *p, size_t n, unsigned nl,
			   struct buf *b)
{
	size_t i = 0;

	buf_clear(b);
	while (i <= n) {
		const char *e = memchr(p + i, '\n', n - i);
		size_t len = e ? (size_t)(e - (p + i)) : n - i;
		size_t off = 0, end = len;
		struct record_layer l;
		bool partial = false;
		unsigned k;

		if (end > 0 && p[i + end - 1] == '\r')
			end--;
		for (k = 0; k < nl && off < end &&
		     record_peel(p + i + off, end - off, &l); k++) {
			off += l.len;
			partial |= l.partial;
		}
		if (k < nl)
			off = 0;
		buf_add(b, p + i + off, end - off);
		if (e == NULL)
			break;
		if (!partial)
			buf_addch(b, '\n');
		i += len + 1;
	}
}

/* ---- JSON lines, walked without decoding ---- */

/*
 * Keys a JSON log line is known by:
 *   JK_TIME   its time, preferred by rank ("timestamp" first)
 *   JK_LEVEL  its level, by rank ("severity" first)
 *   JK_STREAM Docker's "stream"
 *   JK_HTTP   Railway's HTTP log attributes
 *   JK_JD     journald's own fields
 *   JK_PY     Python loggers' attributes (python-json-logger, structlog)
 */
enum { JK_TIME = 1, JK_LEVEL, JK_STREAM, JK_HTTP, JK_JD, JK_PY };

/* A key with its length, its kind and its rank. */
#define JKEY(name, kind, rank) { name, sizeof(name) - 1, kind, rank }

static const struct {
	const char *name;
	unsigned char len, kind, rank;
} json_keys[] = {
	JKEY("timestamp", JK_TIME, 0), JKEY("time", JK_TIME, 1),
	JKEY("@timestamp", JK_TIME, 2), JKEY("asctime", JK_TIME, 3),
	JKEY("ts", JK_TIME, 4), JKEY("__REALTIME_TIMESTAMP", JK_TIME, 5),
	JKEY("severity", JK_LEVEL, 0), JKEY("level", JK_LEVEL, 1),
	JKEY("levelname", JK_LEVEL, 2), JKEY("lvl", JK_LEVEL, 3),
	JKEY("PRIORITY", JK_LEVEL, 4), JKEY("stream", JK_STREAM, 0),
	JKEY("httpStatus", JK_HTTP, 0), JKEY("totalDuration", JK_HTTP, 0),
	JKEY("_PID", JK_JD, 0), JKEY("_SYSTEMD_UNIT", JK_JD, 0),
	JKEY("SYSLOG_IDENTIFIER", JK_JD, 0), JKEY("_HOSTNAME", JK_JD, 0),
	JKEY("_BOOT_ID", JK_JD, 0), JKEY("exc_info", JK_PY, 0),
	JKEY("funcName", JK_PY, 0), JKEY("lineno", JK_PY, 0),
	JKEY("logger", JK_PY, 0), JKEY("filename", JK_PY, 0),
	JKEY("module", JK_PY, 0), JKEY("exception", JK_PY, 0),
};

/* What the walk of a JSON line found. */
struct json_scan {
	struct span msg;        /* the message's raw body */
	int msg_rank;           /* record_json_message_rank, or -1 */
	struct span time;       /* raw value of the time key */
	char time_type;
	int time_rank;
	struct span level;
	char level_type;
	int level_rank;
	bool level_pino;        /* "level" (numbers are pino's scale) */
	bool stream, http, journald, python;
};

static int json_key_kind(struct span key, int *rank)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(json_keys); i++)
		if (json_keys[i].len == key.len &&
		    key.p[0] == json_keys[i].name[0] &&
		    memcmp(key.p, json_keys[i].name, key.len) == 0) {
			*rank = json_keys[i].rank;
			return json_keys[i].kind;
		}
	return 0;
}

/* Walk the members of the JSON object at p; false when malformed. */
static bool json_walk(const char *p, size_t n, struct json_scan *js)
{
	struct record_json_member m;
	size_t pos = 0;
	int r, rank;

	memset(js, 0, sizeof(*js));
	js->msg_rank = js->time_rank = js->level_rank = INT_MAX;
	while ((r = record_json_next(p, n, &pos, &m)) > 0) {
		if (m.type == 's' &&
		    (rank = record_json_message_rank(m.key.p, m.key.len)) >= 0) {
			if (rank < js->msg_rank) {
				js->msg_rank = rank;
				js->msg = m.value;
			}
			continue;
		}
		switch (json_key_kind(m.key, &rank)) {
		case JK_TIME:
			if (rank < js->time_rank && (m.type == 's' ||
						     m.type == 'n')) {
				js->time_rank = rank;
				js->time = m.value;
				js->time_type = m.type;
			}
			if (rank == 3)
				js->python = true;
			if (rank == 5)
				js->journald = true;
			break;
		case JK_LEVEL:
			if (rank < js->level_rank && (m.type == 's' ||
						      m.type == 'n')) {
				js->level_rank = rank;
				js->level = m.value;
				js->level_type = m.type;
				js->level_pino = rank == 1;
			}
			if (rank == 2)
				js->python = true;
			if (rank == 4)
				js->journald = true;
			break;
		case JK_STREAM:
			js->stream = true;
			break;
		case JK_HTTP:
			js->http = true;
			break;
		case JK_JD:
			js->journald = true;
			break;
		case JK_PY:
			js->python = true;
			break;
		default:
			break;
		}
	}
	if (js->msg_rank == INT_MAX)
		js->msg_rank = -1;
	return r == 0;
}

static enum parse_format json_shape(const struct json_scan *js)
{
	if (js->msg_rank == 2 && (js->stream || js->time_rank == 1))
		return PARSE_FMT_JSON_DOCKER;
	if (js->journald || js->msg_rank == 4)
		return PARSE_FMT_JSON_JOURNALD;
	if (js->http)
		return PARSE_FMT_JSON_RAILWAY_HTTP;
	if (js->python || js->msg_rank == 3)
		return PARSE_FMT_JSON_PYTHON;
	if (js->msg_rank == 0 && js->time_rank == 0 &&
	    js->level_rank != INT_MAX)
		return PARSE_FMT_JSON_RAILWAY;
	return PARSE_FMT_JSON;
}

/* The level of a JSON level value: a name, a syslog priority (journald's
 * PRIORITY, also as a string), or pino's 10..60. */
static int json_level_value(struct span v, char type, bool pino)
{
	long x = 0;
	size_t i;

	if (v.len == 0)
		return PARSE_LEVEL_NONE;
	if (!is_digit(v.p[0]))
		return type == 's' ? level_from_name(v.p, v.len) :
		       PARSE_LEVEL_NONE;
	for (i = 0; i < v.len && i < 4 && is_digit(v.p[i]); i++)
		x = x * 10 + (v.p[i] - '0');
	if (pino && x >= 10) {
		if (x >= 60)
			return PARSE_LEVEL_CRITICAL;
		if (x >= 50)
			return PARSE_LEVEL_ERROR;
		if (x >= 40)
			return PARSE_LEVEL_WARNING;
		return x >= 30 ? PARSE_LEVEL_INFO : PARSE_LEVEL_DEBUG;
	}
	if (x <= 2)
		return PARSE_LEVEL_CRITICAL;
	if (x == 3)
		return PARSE_LEVEL_ERROR;
	if (x == 4)
		return PARSE_LEVEL_WARNING;
	return x == 7 ? PARSE_LEVEL_DEBUG : PARSE_LEVEL_INFO;
}

/* The time of a JSON time value: a stamp, or an epoch number (journald's
 * microseconds come as a string). */
static bool json_time_value(struct parse_ctx *ctx, struct span v, char type,
			    int64_t *ms)
{
	size_t used, i;

	if (v.len == 0)
		return false;
	for (i = 0; i < v.len && (is_digit(v.p[i]) || v.p[i] == '.'); i++)
		;
	if (type == 'n' || i == v.len)
		return timefmt_from_epoch_text(v.p, v.len, ms) == 0;
	return parse_time(ctx, v.p, v.len, ms, &used) != TIMEFMT_NONE;
}

/*
 * The first line of a JSON message's raw body, unescaped and without
 * ANSI codes, into st->peek (at most PEEK_BYTES - 1 bytes): enough to
 * recognise its shape without decoding the line.
 */
static size_t json_peek(struct parse_state *st, struct span body)
{
	char *o = st->peek;
	size_t i = 0, k = 0, a;

	while (i < body.len && k < PEEK_BYTES - 5) {
		/* the plain run up to the next escape, at once */
		size_t room = PEEK_BYTES - 5 - k, run = body.len - i;
		const char *bs;
		char c;

		if (run > room)
			run = room;
		bs = memchr(body.p + i, '\\', run);
		if (bs != body.p + i) {
			size_t m = bs ? (size_t)(bs - (body.p + i)) : run;

			memcpy(o + k, body.p + i, m);
			i += m;
			k += m;
			continue;
		}
		i++;
		if (i >= body.len)
			break;
		c = body.p[i++];
		if (c == 'n' || c == 'r')
			break;
		if (c == 't')
			o[k++] = '\t';
		else if (c == 'u' && i + 4 <= body.len) {
			unsigned v = 0, q;

			for (q = 0; q < 4; q++) {
				char h = body.p[i + q];

				v = v * 16 + (unsigned)(is_digit(h) ? h - '0' :
					(h | 0x20) - 'a' + 10);
			}
			i += 4;
			if (v < 0x80) {
				o[k++] = (char)v;
			} else if (v < 0x800) {
				o[k++] = (char)(0xc0 | (v >> 6));
				o[k++] = (char)(0x80 | (v & 0x3f));
			} else {
				o[k++] = (char)(0xe0 | (v >> 12));
				o[k++] = (char)(0x80 | ((v >> 6) & 0x3f));
				o[k++] = (char)(0x80 | (v & 0x3f));
			}
		} else {
			o[k++] = c;     /* \" \\ \/ and the rest as they are */
		}
	}
	/* ANSI codes, removed in place (most messages have none) */
	if (memchr(o, '\x1b', k) == NULL)
		return k;
	for (i = 0, a = 0; i < k;) {
		size_t e = o[i] == '\x1b' ? record_ansi_len(o + i, k - i) : 0;

		if (e > 0) {
			i += e;
			continue;
		}
		o[a++] = o[i++];
	}
	return a;
}

/*
 * The old cheap scan for the time of a line that looks like JSON but does
 * not walk (cut or garbled): a time key followed by a value.
 */
static bool json_bad_time(struct parse_ctx *ctx, const char *p, size_t n,
			  int64_t *ms)
{
	static const char *const keys[] = {
		"\"timestamp\"", "\"time\"", "\"@timestamp\"", "\"asctime\"",
		"\"ts\"",
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(keys); k++) {
		size_t kl = strlen(keys[k]);
		const char *hit = memmem(p, n, keys[k], kl);
		const char *v, *end = p + n, *e;
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
			if (parse_time(ctx, v, (size_t)(end - v), ms, &used) !=
			    TIMEFMT_NONE)
				return true;
		} else if (v < end && is_digit(*v)) {
			for (e = v; e < end && (is_digit(*e) || *e == '.'); e++)
				;
			if (timefmt_from_epoch_text(v, (size_t)(e - v), ms) == 0)
				return true;
		}
	}
	return false;
}

/*
 * 1: a JSON object (its first line opens with '{' and the text ends with
 * '}'); -1: it starts like one but cannot be one (cut or garbled); 0: not
 * JSON.
 */
int parse_looks_like_json(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
			 p[n - 1] == '\r'))
		n--;
	return p[n - 1] == '}' ? 1 : -1;
}

/* ---- the cheap pass ---- */

/*
 * Length of the first line of p, looked for in at most max bytes; one is
 * true when p is known to hold no newline.
 */
static size_t first_line(const char *p, size_t n, size_t max, bool one)
{
	const char *nl = one ? NULL : memchr(p, '\n', n < max ? n : max);

	if (nl)
		return (size_t)(nl - p);
	return n < max ? n : max;
}

static void det_init(struct det *d, struct parse_ctx *ctx, const char *p,
		     size_t n, struct parsed *out)
{
	d->ctx = ctx;
	d->p = p;
	d->n = n;
	d->out = out;
	d->t0 = -1;
}

/*
 * Time, level and the counters of a parsed record: the platform's time
 * (env), else the JSON line's (jt), else the inner shape's (d); the app's
 * own stamp is kept as "app_time" when another one won.
 */
static void settle_time(struct parse_ctx *ctx, struct parsed *out,
			bool env_ts, int64_t env_ms, bool j_ts, int64_t j_ms,
			const struct det *d)
{
	bool have = true;
	int64_t ms = 0;

	if (env_ts)
		ms = env_ms;
	else if (j_ts)
		ms = j_ms;
	else if (d && d->has_ts)
		ms = d->ts;
	else
		have = false;
	if ((env_ts || j_ts) && d && d->has_ts && d->stamp.len)
		add(out, "app_time", d->stamp.p, d->stamp.len);
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
}

void parse_record(struct parse_ctx *ctx, const struct record *rec,
		  struct parsed *out)
{
	struct parse_state *st = ctx->st;
	struct record_layer layers[RECORD_MAX_LAYERS];
	const char *p = rec->text, *c;
	size_t n = rec->len, off = 0, cn;
	unsigned nl = 0, k;
	int64_t env_ms = 0, j_ms = 0;
	bool env_ts = false, j_ts = false;
	bool one = (rec->flags & RECORD_ONE_LINE) != 0;
	struct det d;
	int json;

	if (st->doc) {
		json_decref(st->doc);
		st->doc = NULL;
	}
	st->num_used = 0;
	st->cur = out;
	st->env_level = PARSE_LEVEL_NONE;
	st->env_stamp = mkspan(NULL, 0);
	out->nfields = 0;
	out->fields_dropped = 0;
	out->decoded = false;
	/* Strip a UTF-8 byte order mark on the first line. */
	if (rec->offset == 0 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		n -= 3;
	}
	if (memchr(p, '\x1b', n) != NULL) {
		strip_ansi(p, n, &st->strip);
		p = st->strip.p;
		n = st->strip.len;
	}
	/* The envelopes of the first line, outermost first. */
	while (!(rec->flags & RECORD_PLAIN) && nl < RECORD_MAX_LAYERS &&
	       off < n && record_peel(p + off, n - off, &layers[nl])) {
		off += layers[nl].len;
		nl++;
	}
	c = p + off;
	cn = n - off;
	for (k = 0; k < nl; k++) {
		size_t used;

		layer_fields(out, &layers[k]);
		if (!env_ts && layers[k].stamp.len &&
		    parse_time(ctx, layers[k].stamp.p, layers[k].stamp.len,
			       &env_ms, &used) != TIMEFMT_NONE) {
			env_ts = true;
			st->env_stamp = layers[k].stamp;
		}
		if (layers[k].env == RECORD_ENV_RAILWAY)
			st->env_level = tag_level(layers[k].stream);
	}
	if (nl > 0 && !one && memchr(c, '\n', cn) != NULL) {
		join_enveloped(p, n, nl, &st->joined);
		c = st->joined.p;
		cn = st->joined.len;
	}
	out->raw = c;
	out->raw_len = cn;
	out->message = mkspan(c, cn);
	json = parse_looks_like_json(c, cn);
	if (json > 0) {
		struct json_scan js;
		size_t first = first_line(c, cn, cn, one);
		int lv;

		out->format = PARSE_FMT_JSON;
		if (!json_walk(c, first, &js)) {
			out->shape = out->inner = PARSE_FMT_JSON;
			out->level = parse_text_level(c, cn);
			if (!env_ts)
				j_ts = json_bad_time(ctx, c, first, &j_ms);
			settle_time(ctx, out, env_ts, env_ms, j_ts, j_ms,
				    NULL);
			goto count;
		}
		out->shape = out->inner = json_shape(&js);
		if (js.time_rank != INT_MAX)
			j_ts = json_time_value(ctx, js.time, js.time_type,
					       &j_ms);
		lv = PARSE_LEVEL_NONE;
		d.has_ts = false;
		d.stamp = mkspan(NULL, 0);
		if (js.msg_rank >= 0) {
			size_t pk = json_peek(st, js.msg);

			det_init(&d, ctx, st->peek, pk, NULL);
			detect_text(&d);
			out->inner = d.shape;
			if (d.level != LEVEL_SCAN)
				lv = d.level;
		}
		if (lv == PARSE_LEVEL_NONE && js.level_rank != INT_MAX)
			lv = json_level_value(js.level, js.level_type,
					      js.level_pino);
		if (lv == PARSE_LEVEL_NONE)
			lv = st->env_level;
		if (lv == PARSE_LEVEL_NONE && js.msg_rank >= 0)
			lv = parse_text_level(st->peek, d.n);
		out->level = (enum parse_level)lv;
		settle_time(ctx, out, env_ts, env_ms, j_ts, j_ms,
			    js.msg_rank >= 0 ? &d : NULL);
	} else if (json < 0) {
		out->format = PARSE_FMT_JSON_BAD;
		out->shape = out->inner = PARSE_FMT_JSON_BAD;
		out->level = parse_text_level(c, cn);
		if (!env_ts)
			j_ts = json_bad_time(ctx, c, first_line(c, cn, cn, one),
					     &j_ms);
		settle_time(ctx, out, env_ts, env_ms, j_ts, j_ms, NULL);
		ctx->by_format[PARSE_FMT_JSON_BAD]++;
		return;
	} else {
		int lv;

		out->format = PARSE_FMT_TEXT;
		det_init(&d, ctx, c, first_line(c, cn, DETECT_BYTES, one),
			 NULL);
		detect_text(&d);
		out->shape = out->inner = d.shape;
		if (d.shape != ctx->prev_inner) {
			ctx->prev_inner2 = ctx->prev_inner;
			ctx->prev_inner = d.shape;
		}
		lv = d.level == LEVEL_SCAN ? parse_text_level(c, cn) : d.level;
		if (lv == PARSE_LEVEL_NONE)
			lv = st->env_level;
		out->level = (enum parse_level)lv;
		settle_time(ctx, out, env_ts, env_ms, false, 0, &d);
	}
count:
	if (nl > 0)
		out->shape = (enum parse_format)env_formats[layers[0].env];
	ctx->by_format[out->shape]++;
}

/* ---- the expensive pass ---- */

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

static const char *const json_msg_keys[] = {
	"message", "msg", "log", "event", "MESSAGE",
};
static const char *const json_level_keys[] = {
	"severity", "level", "levelname", "lvl", "PRIORITY",
};
/* Where Python's JSON loggers put a traceback. */
static const char *const json_exc_keys[] = {
	"exc_info", "exception", "stack_info",
};

/* The message of a decoded line, without the line end Docker keeps. */
static struct span doc_message(json_t *doc)
{
	json_t *v = get_first(doc, json_msg_keys, ARRAY_SIZE(json_msg_keys));
	struct span m = { NULL, 0 };

	if (v && json_is_string(v)) {
		m.p = json_string_value(v);
		m.len = json_string_length(v);
		while (m.len > 0 && (m.p[m.len - 1] == '\n' ||
				     m.p[m.len - 1] == '\r'))
			m.len--;
	}
	return m;
}

/* A field's value as text: strings as they are, numbers and booleans in
 * the arena. */
static bool value_text(struct parse_state *st, json_t *v, struct span *out)
{
	if (json_is_string(v)) {
		out->p = json_string_value(v);
		out->len = json_string_length(v);
		return true;
	}
	if (json_is_integer(v))
		*out = arena_printf(st, "%" JSON_INTEGER_FORMAT,
				    json_integer_value(v));
	else if (json_is_real(v))
		*out = arena_printf(st, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		*out = arena_printf(st, "%s", json_is_true(v) ? "true" :
				    "false");
	else
		return false;
	return out->p != NULL;
}

/* The attributes of a decoded line as fields, its message aside. */
static void doc_fields(struct parse_state *st, json_t *doc, struct parsed *out)
{
	const char *key;
	json_t *v;

	json_object_foreach(doc, key, v) {
		struct span s;

		if (record_json_message_rank(key, strlen(key)) >= 0)
			continue;
		if (value_text(st, v, &s))
			add_field(out, lit(key), s);
	}
}

/*
 * The exception of a traceback in text t, as the field "exception_line":
 * the first line at column 0 after the last "Traceback (most recent call
 * last):" ("KeyError: 'X'", the last of a chain), where the "  | " of an
 * ExceptionGroup tree does not count as indentation.
 */
static void traceback_field(struct parsed *out, struct span t)
{
	static const char head[] = "Traceback (most recent call last):";
	const char *h = NULL, *q = t.p, *end = t.p + t.len, *r;

	while ((r = memmem(q, (size_t)(end - q), head, sizeof(head) - 1)) !=
	       NULL) {
		h = r;
		q = r + 1;
	}
	if (h == NULL) {
		/* Java: the line above the first "\tat " frame */
		r = memmem(t.p, t.len, "\n\tat ", 5);
		if (r == NULL)
			return;
		for (q = r; q > t.p && q[-1] != '\n'; q--)
			;
		if (q > t.p && *q != ' ' && *q != '\t')
			add(out, "exception_line", q, (size_t)(r - q));
		return;
	}
	for (q = memchr(h, '\n', (size_t)(end - h)); q != NULL && q < end;
	     q = memchr(q, '\n', (size_t)(end - q))) {
		const char *s = ++q, *e = memchr(s, '\n', (size_t)(end - s));

		if (e == NULL)
			e = end;
		while (s < e && *s == ' ')
			s++;
		if (s < e && *s == '|') {
			s++;
			if (s < e && *s == ' ')
				s++;
		} else if (s > q) {
			continue;
		}
		if (s < e && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '+') {
			while (e > s && e[-1] == '\r')
				e--;
			add(out, "exception_line", s, (size_t)(e - s));
			return;
		}
	}
}

/* Read the inner shape of the decoded text m again, in full. */
static void inner_full(struct parse_ctx *ctx, struct parsed *out,
		       struct span m, struct det *d)
{
	det_init(d, ctx, m.p, first_line(m.p, m.len, m.len, false), out);
	detect_text(d);
	out->inner = d->shape;
	traceback_field(out, m);
}

/* Decode the JSON line(s) of out: message, attributes. Return 0 or -1. */
static int decode_json(struct parse_ctx *ctx, struct parsed *out)
{
	struct parse_state *st = ctx->st;
	json_error_t jerr;
	const char *p = out->raw;
	size_t n = out->raw_len, i = 0;
	struct span m;
	json_t *v;
	size_t q;

	if (memchr(p, '\n', n) == NULL) {
		st->doc = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
		if (st->doc == NULL || !json_is_object(st->doc))
			return -1;
		m = doc_message(st->doc);
	} else {
		/* one JSON object per line, their messages one traceback */
		buf_clear(&st->msg);
		while (i < n) {
			const char *e = memchr(p + i, '\n', n - i);
			size_t len = e ? (size_t)(e - (p + i)) : n - i;
			json_t *doc = json_loadb(p + i, len,
						 JSON_REJECT_DUPLICATES, &jerr);
			struct span lm;

			if (doc == NULL || !json_is_object(doc)) {
				json_decref(doc);
				return -1;
			}
			lm = doc_message(doc);
			if (st->msg.len > 0)
				buf_addch(&st->msg, '\n');
			buf_add(&st->msg, lm.p, lm.len);
			if (st->doc == NULL)
				st->doc = doc;
			else
				json_decref(doc);
			i += len + 1;
		}
		m = mkspan(st->msg.p, st->msg.len);
	}
	for (q = 0; q < ARRAY_SIZE(json_exc_keys); q++) {
		v = json_object_get(st->doc, json_exc_keys[q]);
		if (v == NULL || !json_is_string(v) ||
		    json_string_length(v) == 0)
			continue;
		if (m.p != st->msg.p) {
			buf_clear(&st->msg);
			buf_add(&st->msg, m.p, m.len);
		}
		buf_addch(&st->msg, '\n');
		buf_add(&st->msg, json_string_value(v), json_string_length(v));
		while (st->msg.len > 0 && st->msg.p[st->msg.len - 1] == '\n')
			st->msg.p[--st->msg.len] = '\0';
		m = mkspan(st->msg.p, st->msg.len);
	}
	if (m.p != NULL && memchr(m.p, '\x1b', m.len) != NULL) {
		/* Docker keeps the colours a program wrote ("\u001b[32m") */
		strip_ansi(m.p, m.len, &st->plain);
		m = mkspan(st->plain.p, st->plain.len);
	}
	if (m.p != NULL)
		out->message = m;
	return 0;
}

int parse_decode(struct parse_ctx *ctx, struct parsed *out)
{
	struct parse_state *st = ctx->st;
	struct det d;
	json_t *v;
	int lv;

	if (out->decoded)
		return 0;
	out->decoded = true;
	if (out->format != PARSE_FMT_JSON) {
		if (out->format == PARSE_FMT_TEXT)
			inner_full(ctx, out, out->message, &d);
		return 0;
	}
	if (decode_json(ctx, out) < 0) {
		json_decref(st->doc);
		st->doc = NULL;
		ctx->by_format[out->shape]--;
		ctx->by_format[PARSE_FMT_JSON_BAD]++;
		out->format = PARSE_FMT_JSON_BAD;
		out->shape = out->inner = PARSE_FMT_JSON_BAD;
		out->message = mkspan(out->raw, out->raw_len);
		out->level = parse_text_level(out->raw, out->raw_len);
		return -1;
	}
	doc_fields(st, st->doc, out);
	lv = PARSE_LEVEL_NONE;
	d.has_ts = false;
	if (out->message.p != out->raw) {
		inner_full(ctx, out, out->message, &d);
		if (d.level != LEVEL_SCAN)
			lv = d.level;
	} else {
		out->inner = out->shape;
	}
	v = get_first(st->doc, json_level_keys, ARRAY_SIZE(json_level_keys));
	if (lv == PARSE_LEVEL_NONE && v) {
		if (json_is_string(v))
			lv = json_level_value(mkspan(json_string_value(v),
						     json_string_length(v)),
					      's', false);
		else if (json_is_integer(v)) {
			struct span s = arena_printf(st, "%" JSON_INTEGER_FORMAT,
						     json_integer_value(v));
			bool pino = json_object_get(st->doc, "level") == v;

			lv = json_level_value(s, 'n', pino);
		}
	}
	if (lv == PARSE_LEVEL_NONE)
		lv = st->env_level;
	if (lv == PARSE_LEVEL_NONE && out->message.p != out->raw)
		lv = parse_text_level(out->message.p, out->message.len);
	out->level = (enum parse_level)lv;
	if ((!out->has_ts || out->ts_inferred) && d.has_ts) {
		out->ts = d.ts;
		out->has_ts = true;
		out->ts_inferred = false;
	} else if (d.has_ts && d.stamp.len) {
		bool have = false;
		unsigned k;

		for (k = 0; k < out->nfields; k++)
			if (span_eq(out->fields[k].name, "app_time"))
				have = true;
		if (!have)
			add(out, "app_time", d.stamp.p, d.stamp.len);
	}
	return 0;
}

bool parse_field(struct parse_ctx *ctx, const char *name, struct span *out)
{
	struct parse_state *st = ctx->st;
	unsigned k;

	if (st->doc != NULL) {
		json_t *v = json_object_get(st->doc, name);

		if (v != NULL)
			return value_text(st, v, out);
	}
	if (st->cur == NULL)
		return false;
	for (k = 0; k < st->cur->nfields; k++)
		if (span_eq(st->cur->fields[k].name, name)) {
			*out = st->cur->fields[k].value;
			return true;
		}
	return false;
}

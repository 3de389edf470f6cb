/*
 * metricsfile.c - metrics exports (CSV, Prometheus text, a JSON array of
 * samples): recognised by their first bytes, read block by block with
 * flat memory, each sample stored in the metrics table.
 */
#include "common.h"
#include "metricsfile.h"
#include "buf.h"
#include "diag.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"

#include <jansson.h>
#include <math.h>

/* Distinct series counted per export, at most (then counting stops). */
#define SERIES_MAX 65536

struct mf {
	struct record_reader *rr;
	struct parse_ctx *pc;
	struct store *st;
	int64_t source_id;
	const char *name;           /* the input's name, for warnings */
	struct metricsfile_stats s;
	enum parse_format fmt;      /* PARSE_FMT_METRICS_* of the kind */
	struct buf line;            /* the line (or JSON object) being read */
	struct buf series;          /* the series name being built */
	struct buf unit;            /* a unit as written, NUL-terminated */
	struct buf header;          /* CSV: column names, NUL after each */
	size_t cols[METRICSFILE_MAX_LABELS + 3]; /* offsets into header */
	unsigned ncols;
	int unit_col;               /* CSV: the "unit" column, or -1 */
	uint64_t *seen;             /* hashes of the series seen */
	size_t seen_cap, seen_n;
	int rc;                     /* the first store error */
};

const char *metricsfile_kind_name(enum metricsfile_kind kind)
{
	switch (kind) {
	case METRICSFILE_CSV:
		return "csv";
	case METRICSFILE_PROMETHEUS:
		return "prometheus";
	case METRICSFILE_JSON:
		return "json";
	default:
		return "none";
	}
}

/* ---- bytes ---- */

static bool is_digit(char c)
{
	return (unsigned)(c - '0') < 10u;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

static bool word_is(const char *p, size_t n, const char *w)
{
	size_t i, k = strlen(w);

	if (n != k)
		return false;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != w[i])
			return false;
	}
	return true;
}

static bool word_in(const char *p, size_t n, const char *const *set,
		    size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (word_is(p, n, set[i]))
			return true;
	return false;
}

static const char *const time_names[] = {
	"timestamp", "time", "ts", "date", "datetime",
};
static const char *const metric_names[] = {
	"metric", "name", "series", "metric_name",
};

/*
 * The next CSV cell of p[*i..n): unquoted, or "quoted" with "" for a
 * quote (the cell is then copied without quotes into tmp). Returns false
 * after the last cell.
 */
static bool csv_cell(const char *p, size_t n, size_t *i, struct buf *tmp,
		     const char **cell, size_t *len)
{
	size_t k = *i;

	if (k > n)
		return false;
	while (k < n && is_space(p[k]))
		k++;
	if (k < n && p[k] == '"') {
		buf_clear(tmp);
		for (k++; k < n; k++) {
			if (p[k] == '"') {
				if (k + 1 < n && p[k + 1] == '"') {
					buf_addch(tmp, '"');
					k++;
					continue;
				}
				k++;
				break;
			}
			buf_addch(tmp, p[k]);
		}
		while (k < n && p[k] != ',')
			k++;
		*cell = tmp->p;
		*len = tmp->len;
	} else {
		size_t s = k;

		while (k < n && p[k] != ',')
			k++;
		*cell = p + s;
		*len = k - s;
		trim(cell, len);
	}
	*i = k + 1;
	return true;
}

/* ---- detection ---- */

/* A character of a Prometheus metric name: [a-zA-Z0-9_:]. */
static bool is_name_char(char c)
{
	return is_digit(c) || c == '_' || c == ':' ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Is p "name{labels} value [timestamp]" (with one, when need_ts)? */
static bool prom_sample_shape(const char *p, size_t n, bool need_ts)
{
	size_t i = 0, s;

	if (n == 0 || is_digit(p[0]) || !is_name_char(p[0]))
		return false;
	while (i < n && is_name_char(p[i]))
		i++;
	if (i < n && p[i] == '{') {
		const char *e = memchr(p + i, '}', n - i);

		if (e == NULL)
			return false;
		i = (size_t)(e - p) + 1;
	}
	if (i >= n || p[i] != ' ')
		return false;
	while (i < n && p[i] == ' ')
		i++;
	s = i;
	while (i < n && p[i] != ' ')
		i++;
	if (i == s)
		return false;
	while (i < n && p[i] == ' ')
		i++;
	if (!need_ts)
		return true;
	s = i;
	if (i < n && p[i] == '-')
		i++;
	while (i < n && is_digit(p[i]))
		i++;
	return i - s >= 10 && (i == n || is_space(p[i]));
}

enum metricsfile_kind metricsfile_detect(const char *head, size_t len)
{
	const char *p = head, *end = head + len, *nl;
	size_t i = 0, n, cell_len;
	const char *cell;
	struct buf tmp;
	bool ok;
	int good = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && (is_space(*p) || *p == '\n'))
		p++;
	if (p >= end)
		return METRICSFILE_NONE;
	if (*p == '[') {
		for (p++; p < end && (is_space(*p) || *p == '\n'); p++)
			;
		if (p < end && *p == '{' &&
		    memmem(head, len, "\"value\"", 7) != NULL &&
		    (memmem(head, len, "\"metric\"", 8) != NULL ||
		     memmem(head, len, "\"name\"", 6) != NULL))
			return METRICSFILE_JSON;
		return METRICSFILE_NONE;
	}
	if ((size_t)(end - p) >= 7 && (memcmp(p, "# HELP ", 7) == 0 ||
				       memcmp(p, "# TYPE ", 7) == 0))
		return METRICSFILE_PROMETHEUS;
	nl = memchr(p, '\n', (size_t)(end - p));
	n = nl ? (size_t)(nl - p) : (size_t)(end - p);
	buf_init(&tmp);
	ok = csv_cell(p, n, &i, &tmp, &cell, &cell_len) &&
	     word_in(cell, cell_len, time_names, ARRAY_SIZE(time_names)) &&
	     csv_cell(p, n, &i, &tmp, &cell, &cell_len) &&
	     word_in(cell, cell_len, metric_names, ARRAY_SIZE(metric_names)) &&
	     csv_cell(p, n, &i, &tmp, &cell, &cell_len) &&
	     word_is(cell, cell_len, "value");
	buf_release(&tmp);
	if (ok)
		return METRICSFILE_CSV;
	/* Prometheus samples without comments: two lines with timestamps. */
	while (p < end && good < 2) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!prom_sample_shape(p, n, true))
			return METRICSFILE_NONE;
		good++;
		p = nl + 1;
	}
	return good == 2 ? METRICSFILE_PROMETHEUS : METRICSFILE_NONE;
}

/* ---- samples ---- */

static void bad_line(struct mf *m, uint64_t line_no, const char *why)
{
	m->s.bad++;
	m->pc->by_format[PARSE_FMT_TEXT]++;
	if (m->s.bad <= METRICSFILE_BAD_SHOWN)
		warning("%s:%" PRIu64 ": %s; skipped", m->name, line_no, why);
}

/* Count a series once (by hash); the set grows, up to SERIES_MAX. */
static void count_series(struct mf *m, const char *name, size_t len)
{
	uint64_t h = fnv1a64(name, len) | 1;
	size_t i;

	if (m->seen_n * 2 >= m->seen_cap) {
		size_t cap = m->seen_cap ? m->seen_cap * 2 : 64, k;
		uint64_t *v;

		if (m->seen_n >= SERIES_MAX)
			return;
		v = xcalloc(cap, sizeof(*v));
		for (k = 0; k < m->seen_cap; k++) {
			if (m->seen[k] == 0)
				continue;
			for (i = m->seen[k] & (cap - 1); v[i];
			     i = (i + 1) & (cap - 1))
				;
			v[i] = m->seen[k];
		}
		free(m->seen);
		m->seen = v;
		m->seen_cap = cap;
	}
	for (i = h & (m->seen_cap - 1); m->seen[i];
	     i = (i + 1) & (m->seen_cap - 1))
		if (m->seen[i] == h)
			return;
	m->seen[i] = h;
	m->seen_n++;
	m->s.series++;
}

static bool ends_with(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memcmp(p + n - k, s, k) == 0;
}

/*
 * One sample: the series in m->series (metric name first, base_len bytes
 * of it, then its labels), a unit as written (or none). Normalise,
 * count, store.
 */
static void emit(struct mf *m, uint64_t line_no, bool has_ts, int64_t ts,
		 size_t base_len, double value, const char *unit, size_t ulen)
{
	const char *canon = NULL;
	const char *name = m->series.p;
	int rc;

	if (ulen > 0) {
		canon = rules_unit_normalise(unit, ulen, &value);
		if (canon == NULL) {
			buf_clear(&m->unit);
			buf_add(&m->unit, unit, ulen);
			canon = m->unit.p;
		}
	} else if (ends_with(name, base_len, "_bytes")) {
		canon = rules_unit_normalise("B", 1, &value);
	} else if (ends_with(name, base_len, "_seconds")) {
		canon = rules_unit_normalise("s", 1, &value);
	} else if (ends_with(name, base_len, "_milliseconds") ||
		   ends_with(name, base_len, "_ms")) {
		canon = "ms";
	} else if (ends_with(name, base_len, "_percent") ||
		   ends_with(name, base_len, "_pct")) {
		canon = "%";
	}
	count_series(m, name, m->series.len);
	m->s.samples++;
	m->pc->by_format[m->fmt]++;
	if (has_ts) {
		m->pc->ts_parsed++;
		if (m->s.samples - m->s.no_time == 1 || ts < m->s.first_ts)
			m->s.first_ts = ts;
		if (m->s.samples - m->s.no_time == 1 || ts > m->s.last_ts)
			m->s.last_ts = ts;
	} else {
		m->s.no_time++;
		m->pc->ts_missing++;
	}
	if (m->st == NULL || m->rc < 0)
		return;
	rc = store_put_metric(m->st, m->source_id, line_no, ts, has_ts, name,
			      value, canon ? canon : "");
	if (rc < 0)
		m->rc = rc;
}

/* A number, the whole of p (spaces around allowed). */
static bool read_number(const char *p, size_t n, double *v)
{
	char tmp[64], *end;

	trim(&p, &n);
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	errno = 0;
	*v = strtod(tmp, &end);
	return *end == '\0' && !isnan(*v) && errno != ERANGE;
}

/* A time: an ISO 8601 stamp (zone-less ones in --tz) or an epoch number. */
static bool read_time(struct mf *m, const char *p, size_t n, int64_t *ms)
{
	size_t i, used;

	trim(&p, &n);
	if (n == 0)
		return false;
	for (i = 0; i < n && (is_digit(p[i]) || p[i] == '.' || p[i] == '-' ||
			      p[i] == 'e' || p[i] == 'E' || p[i] == '+'); i++)
		;
	if (i == n && p[0] != '-' && memchr(p, '-', n) == NULL)
		return timefmt_from_epoch_text(p, n, ms) == 0;
	return timefmt_parse(p, n, &m->pc->topts, ms, &used) != TIMEFMT_NONE &&
	       used == n;
}

/* Append label name="value" to m->series (Prometheus notation). */
static void add_label(struct mf *m, bool *first, const char *k, size_t kl,
		      const char *v, size_t vl)
{
	size_t i;

	buf_addch(&m->series, *first ? '{' : ',');
	buf_add(&m->series, k, kl);
	buf_adds(&m->series, "=\"");
	for (i = 0; i < vl; i++) {
		if (v[i] == '"' || v[i] == '\\')
			buf_addch(&m->series, '\\');
		buf_addch(&m->series, v[i]);
	}
	buf_addch(&m->series, '"');
	*first = false;
}

/* ---- CSV ---- */

static void csv_header(struct mf *m, const char *p, size_t n)
{
	struct buf tmp;
	const char *cell;
	size_t i = 0, len;

	buf_init(&tmp);
	m->unit_col = -1;
	while (m->ncols < ARRAY_SIZE(m->cols) &&
	       csv_cell(p, n, &i, &tmp, &cell, &len)) {
		m->cols[m->ncols] = m->header.len;
		buf_add(&m->header, cell, len);
		buf_addch(&m->header, '\0');
		if (word_is(cell, len, "unit"))
			m->unit_col = (int)m->ncols;
		m->ncols++;
	}
	buf_release(&tmp);
}

static void csv_line(struct mf *m, uint64_t line_no, const char *p, size_t n)
{
	struct buf tmp;
	const char *cell, *unit = NULL;
	size_t i = 0, len, ulen = 0, base = 0;
	unsigned col = 0;
	int64_t ts = 0;
	bool has_ts = false, first = true, ok = true;
	double value = 0;

	buf_init(&tmp);
	buf_clear(&m->series);
	while (ok && csv_cell(p, n, &i, &tmp, &cell, &len)) {
		if (col == 0) {
			has_ts = read_time(m, cell, len, &ts);
			ok = has_ts || len == 0;
		} else if (col == 1) {
			buf_add(&m->series, cell, len);
			base = len;
			ok = len > 0;
		} else if (col == 2) {
			ok = read_number(cell, len, &value);
		} else if ((int)col == m->unit_col) {
			buf_clear(&m->unit);
			buf_add(&m->unit, cell, len);
			unit = m->unit.p;
			ulen = len;
		} else if (col < m->ncols && len > 0) {
			const char *k = m->header.p + m->cols[col];

			add_label(m, &first, k, strlen(k), cell, len);
		}
		col++;
	}
	buf_release(&tmp);
	if (!ok || col < 3) {
		bad_line(m, line_no, "not a sample 'timestamp,metric,value'");
		return;
	}
	if (!first)
		buf_addch(&m->series, '}');
	if (unit) {
		/* emit() reuses m->unit: keep the unit text apart */
		char u[64];

		ulen = ulen < sizeof(u) ? ulen : sizeof(u) - 1;
		memcpy(u, unit, ulen);
		emit(m, line_no, has_ts, ts, base, value, u, ulen);
		return;
	}
	emit(m, line_no, has_ts, ts, base, value, NULL, 0);
}

/* ---- Prometheus text ---- */

static void prom_line(struct mf *m, uint64_t line_no, const char *p, size_t n)
{
	size_t i = 0, s, base;
	int64_t ts = 0;
	bool has_ts = false;
	double value;

	trim(&p, &n);
	if (n == 0 || p[0] == '#')
		return;
	if (!prom_sample_shape(p, n, false)) {
		bad_line(m, line_no, "not a Prometheus sample");
		return;
	}
	while (i < n && p[i] != '{' && p[i] != ' ')
		i++;
	base = i;
	if (i < n && p[i] == '{')
		i = (size_t)((const char *)memchr(p + i, '}', n - i) - p) + 1;
	buf_clear(&m->series);
	buf_add(&m->series, p, i);
	while (i < n && p[i] == ' ')
		i++;
	s = i;
	while (i < n && p[i] != ' ')
		i++;
	if (!read_number(p + s, i - s, &value)) {
		bad_line(m, line_no, "not a Prometheus sample value");
		return;
	}
	while (i < n && p[i] == ' ')
		i++;
	if (i < n) {
		has_ts = timefmt_from_epoch_text(p + i, n - i, &ts) == 0;
		if (!has_ts) {
			bad_line(m, line_no, "not a Prometheus timestamp");
			return;
		}
	}
	emit(m, line_no, has_ts, ts, base, value, NULL, 0);
}

/* ---- JSON array ---- */

static const char *const json_time_keys[] = { "timestamp", "time", "ts" };
static const char *const json_metric_keys[] = { "metric", "name" };

/* A label value as text: strings as they are, numbers printed. */
static bool label_text(json_t *v, char *tmp, size_t size, const char **p,
		       size_t *n)
{
	if (json_is_string(v)) {
		*p = json_string_value(v);
		*n = json_string_length(v);
		return true;
	}
	if (json_is_integer(v))
		snprintf(tmp, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(tmp, size, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(tmp, size, "%s", json_is_true(v) ? "true" : "false");
	else
		return false;
	*p = tmp;
	*n = strlen(tmp);
	return true;
}

static void json_sample(struct mf *m, uint64_t ordinal, const char *p,
			size_t n)
{
	json_error_t jerr;
	json_t *doc = json_loadb(p, n, 0, &jerr), *v, *t = NULL, *mv = NULL;
	json_t *val = NULL, *labels = NULL;
	const char *key, *unit = NULL;
	size_t ulen = 0, base, i;
	int64_t ts = 0;
	bool has_ts = false, first = true;
	double value = 0;
	char tmp[64];

	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		bad_line(m, ordinal, "not a JSON sample object");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(json_time_keys) && t == NULL; i++)
		t = json_object_get(doc, json_time_keys[i]);
	for (i = 0; i < ARRAY_SIZE(json_metric_keys) && mv == NULL; i++)
		mv = json_object_get(doc, json_metric_keys[i]);
	val = json_object_get(doc, "value");
	if (mv == NULL || !json_is_string(mv) || json_string_length(mv) == 0 ||
	    val == NULL) {
		json_decref(doc);
		bad_line(m, ordinal, "not a sample {timestamp, metric, value}");
		return;
	}
	if (json_is_number(val)) {
		value = json_number_value(val);
	} else if (!json_is_string(val) ||
		   !read_number(json_string_value(val), json_string_length(val),
				&value)) {
		json_decref(doc);
		bad_line(m, ordinal, "sample value is not a number");
		return;
	}
	if (t && json_is_string(t)) {
		has_ts = read_time(m, json_string_value(t), json_string_length(t),
				   &ts);
	} else if (t && json_is_number(t)) {
		int k = json_is_integer(t) ?
			snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(t)) :
			snprintf(tmp, sizeof(tmp), "%.6f", json_real_value(t));

		has_ts = k > 0 && timefmt_from_epoch_text(tmp, (size_t)k,
							  &ts) == 0;
	}
	if (t && !json_is_null(t) && !has_ts) {
		json_decref(doc);
		bad_line(m, ordinal, "sample time is not a timestamp");
		return;
	}
	buf_clear(&m->series);
	buf_add(&m->series, json_string_value(mv), json_string_length(mv));
	base = m->series.len;
	json_object_foreach(doc, key, v) {
		const char *lp;
		size_t ln;

		if (v == t || v == mv || v == val)
			continue;
		if (strcmp(key, "unit") == 0 && json_is_string(v)) {
			unit = json_string_value(v);
			ulen = json_string_length(v);
		} else if (strcmp(key, "labels") == 0 && json_is_object(v)) {
			labels = v;
		} else if (label_text(v, tmp, sizeof(tmp), &lp, &ln)) {
			add_label(m, &first, key, strlen(key), lp, ln);
		}
	}
	if (labels) {
		json_object_foreach(labels, key, v) {
			const char *lp;
			size_t ln;

			if (label_text(v, tmp, sizeof(tmp), &lp, &ln))
				add_label(m, &first, key, strlen(key), lp, ln);
		}
	}
	if (!first)
		buf_addch(&m->series, '}');
	if (unit) {
		char u[64];

		ulen = ulen < sizeof(u) ? ulen : sizeof(u) - 1;
		memcpy(u, unit, ulen);
		emit(m, ordinal, has_ts, ts, base, value, u, ulen);
	} else {
		emit(m, ordinal, has_ts, ts, base, value, NULL, 0);
	}
	json_decref(doc);
}

/*
 * The array, block by block: each top-level object is collected (strings
 * and nesting followed) and read as one sample.
 */
struct json_state {
	int depth;              /* 0 before '[', 1 in the array, 2+ in objects */
	bool in_string, escape;
	bool done;              /* after ']' or a fault */
	bool too_long;          /* the object outgrew METRICSFILE_MAX_LINE */
	uint64_t ordinal;
};

static void json_feed(struct mf *m, struct json_state *js, const char *p,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n && !js->done; i++) {
		char c = p[i];

		if (js->depth >= 2) {
			if (!js->too_long) {
				if (m->line.len >= METRICSFILE_MAX_LINE)
					js->too_long = true;
				else
					buf_addch(&m->line, c);
			}
			if (js->in_string) {
				if (js->escape)
					js->escape = false;
				else if (c == '\\')
					js->escape = true;
				else if (c == '"')
					js->in_string = false;
				continue;
			}
			if (c == '"')
				js->in_string = true;
			else if (c == '{' || c == '[')
				js->depth++;
			else if ((c == '}' || c == ']') && --js->depth == 1) {
				js->ordinal++;
				if (js->too_long)
					bad_line(m, js->ordinal,
						 "sample object too long");
				else
					json_sample(m, js->ordinal, m->line.p,
						    m->line.len);
				buf_clear(&m->line);
				js->too_long = false;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    (js->depth == 1 && c == ','))
			continue;
		if (js->depth == 0 && c == '[') {
			js->depth = 1;
		} else if (js->depth == 1 && c == '{') {
			js->depth = 2;
			buf_clear(&m->line);
			buf_addch(&m->line, c);
		} else if (js->depth == 1 && c == ']') {
			js->done = true;
		} else {
			bad_line(m, js->ordinal + 1,
				 "not a JSON array of samples");
			js->done = true;
		}
	}
}

/* ---- reading ---- */

int metricsfile_read(struct record_reader *rr, struct parse_ctx *pc,
		     struct store *st, int64_t source_id,
		     struct metricsfile_stats *out)
{
	struct mf m;
	struct json_state js;
	const char *p;
	size_t n, i;
	uint64_t line_no = 0;
	bool skipping = false, first = true;
	char last = '\n';

	memset(&m, 0, sizeof(m));
	memset(&js, 0, sizeof(js));
	m.rr = rr;
	m.pc = pc;
	m.st = st;
	m.source_id = source_id;
	m.name = rr->in->name;
	m.unit_col = -1;
	buf_init(&m.line);
	buf_init(&m.series);
	buf_init(&m.unit);
	buf_init(&m.header);
	m.s.kind = metricsfile_detect(rr->head, rr->head_len);
	m.fmt = m.s.kind == METRICSFILE_CSV ? PARSE_FMT_METRICS_CSV :
		m.s.kind == METRICSFILE_JSON ? PARSE_FMT_METRICS_JSON :
		PARSE_FMT_METRICS_PROM;
	while (record_reader_block(rr, &p, &n)) {
		if (first && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;
			n -= 3;
		}
		first = false;
		for (i = 0; i < n; i++)
			if (p[i] == '\n')
				m.s.lines++;
		if (n > 0)
			last = p[n - 1];
		if (m.s.kind == METRICSFILE_JSON) {
			json_feed(&m, &js, p, n);
			continue;
		}
		for (i = 0; i < n;) {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t len = nl ? (size_t)(nl - (p + i)) : n - i;

			if (!skipping) {
				if (m.line.len + len > METRICSFILE_MAX_LINE)
					skipping = true;
				else
					buf_add(&m.line, p + i, len);
			}
			i += len + (nl != NULL);
			if (nl == NULL)
				break;
			line_no++;
			if (skipping) {
				bad_line(&m, line_no, "line too long");
			} else if (m.s.kind == METRICSFILE_CSV && line_no == 1) {
				csv_header(&m, m.line.p, m.line.len);
			} else if (m.line.len > 0 &&
				   !(m.line.len == 1 && m.line.p[0] == '\r')) {
				if (m.s.kind == METRICSFILE_CSV)
					csv_line(&m, line_no, m.line.p,
						 m.line.len);
				else
					prom_line(&m, line_no, m.line.p,
						  m.line.len);
			}
			buf_clear(&m.line);
			skipping = false;
		}
	}
	if (m.s.kind != METRICSFILE_JSON && (m.line.len > 0 || skipping)) {
		/* the last line, without its newline */
		line_no++;
		if (skipping)
			bad_line(&m, line_no, "line too long");
		else if (m.s.kind == METRICSFILE_CSV && line_no > 1)
			csv_line(&m, line_no, m.line.p, m.line.len);
		else if (m.s.kind == METRICSFILE_PROMETHEUS)
			prom_line(&m, line_no, m.line.p, m.line.len);
	}
	if (last != '\n')
		m.s.lines++;
	if (m.s.kind == METRICSFILE_JSON && !js.done && js.depth > 0)
		bad_line(&m, js.ordinal + 1, "JSON array not closed");
	if (m.s.bad > METRICSFILE_BAD_SHOWN)
		warning("%s: %" PRIu64 " lines were no metrics samples in all "
			"(first %d shown)", m.name, m.s.bad,
			METRICSFILE_BAD_SHOWN);
	rr->lines = m.s.lines;
	rr->records = m.s.samples + m.s.bad;
	if (out)
		*out = m.s;
	buf_release(&m.line);
	buf_release(&m.series);
	buf_release(&m.unit);
	buf_release(&m.header);
	free(m.seen);
	return m.rc < 0 ? m.rc : 0;
}

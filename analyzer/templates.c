/*
 * templates.c - Drain-style template mining for the error records that no
 * rule matched: mask the variable parts, then join messages of the same
 * length and first word whose tokens mostly agree, turning the tokens
 * that differ into <*>.
 */
#include "common.h"
#include "buf.h"
#include "templates.h"

#define BUCKETS 1024
#define WILD "<*>"

struct tgroup {
	int64_t db_id;
	char *text;             /* owned: tokens joined by one space */
	unsigned ntok;
	uint64_t key;
	char *example;          /* owned, or NULL for loaded groups */
	char *example_source;   /* owned */
	uint64_t example_line;
	int64_t first_ts, last_ts;
	bool has_ts;
	uint64_t pending;
	int64_t *days;          /* owned */
	uint64_t *day_counts;   /* owned */
	size_t ndays, days_alloc;
	bool changed;
	size_t next;            /* next group in the bucket, or SIZE_MAX */
};

struct templates {
	struct tgroup *g;       /* owned */
	size_t n, alloc;
	size_t bucket[BUCKETS]; /* first group of each bucket */
	uint64_t overflow;
};

struct templates *templates_new(void)
{
	struct templates *t = xcalloc(1, sizeof(*t));
	size_t i;

	for (i = 0; i < BUCKETS; i++)
		t->bucket[i] = SIZE_MAX;
	return t;
}

void templates_free(struct templates *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->g[i].text);
		free(t->g[i].example);
		free(t->g[i].example_source);
		free(t->g[i].days);
		free(t->g[i].day_counts);
	}
	free(t->g);
	free(t);
}

uint64_t templates_overflow(const struct templates *t)
{
	return t->overflow;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Should this token be masked whole? Digits, paths, very long words. */
static bool variable_token(const char *p, size_t n)
{
	size_t i;

	if (n > 32)
		return true;
	for (i = 0; i < n; i++)
		if ((p[i] >= '0' && p[i] <= '9') || p[i] == '/' ||
		    p[i] == '\\' || p[i] == '@')
			return true;
	return false;
}

static void out_add(char *out, size_t size, size_t *o, const char *p,
		    size_t n)
{
	if (*o + n + 1 > size)
		n = size - *o - 1;
	memcpy(out + *o, p, n);
	*o += n;
}

size_t templates_mask(const char *msg, size_t len, char *out, size_t size)
{
	size_t i = 0, o = 0;
	unsigned ntok = 0;

	if (size == 0)
		return 0;
	while (i < len && ntok < TEMPLATES_MAX_TOKENS && o + 1 < size) {
		size_t s, e;

		while (i < len && is_space(msg[i]))
			i++;
		if (i >= len)
			break;
		if (o > 0)
			out_add(out, size, &o, " ", 1);
		ntok++;
		/* A quoted value is one variable token, spaces and all. */
		if (msg[i] == '\'' || msg[i] == '"') {
			const char *q = memchr(msg + i + 1, msg[i],
					       len - i - 1 < 200 ? len - i - 1 :
					       200);

			if (q != NULL) {
				out_add(out, size, &o, WILD, 3);
				i = (size_t)(q - msg) + 1;
				/* punctuation glued to the quote */
				while (i < len && !is_space(msg[i]))
					i++;
				continue;
			}
		}
		s = i;
		while (i < len && !is_space(msg[i]))
			i++;
		e = i;
		{
			const char *eq = memchr(msg + s, '=', e - s);

			if (eq != NULL && eq > msg + s) {
				/* key=value: the key stays */
				out_add(out, size, &o, msg + s,
					(size_t)(eq - msg - s) + 1);
				out_add(out, size, &o, WILD, 3);
			} else if (variable_token(msg + s, e - s)) {
				out_add(out, size, &o, WILD, 3);
			} else {
				out_add(out, size, &o, msg + s, e - s);
			}
		}
	}
	out[o] = '\0';
	return o;
}

/* Split text (tokens joined by one space) into spans; return the count. */
static unsigned tokens(const char *text, struct span *tok, unsigned max)
{
	unsigned n = 0;
	const char *p = text;

	while (*p && n < max) {
		const char *e = strchr(p, ' ');

		tok[n].p = p;
		tok[n].len = e ? (size_t)(e - p) : strlen(p);
		n++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return n;
}

static bool is_wild(struct span s)
{
	return s.len == 3 && memcmp(s.p, WILD, 3) == 0;
}

static uint64_t group_key(unsigned ntok, struct span first)
{
	uint64_t h = fnv1a64(&ntok, sizeof(ntok));

	if (!is_wild(first))
		h ^= fnv1a64(first.p, first.len) * 31;
	return h;
}

static struct tgroup *add_group(struct templates *t, const char *text,
				unsigned ntok, uint64_t key)
{
	struct tgroup *g;
	size_t b = key % BUCKETS;

	if (t->n == TEMPLATES_MAX)
		return NULL;
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 64;
		t->g = xrealloc(t->g, t->alloc * sizeof(*t->g));
	}
	g = &t->g[t->n];
	memset(g, 0, sizeof(*g));
	g->text = xstrdup(text);
	g->ntok = ntok;
	g->key = key;
	g->next = t->bucket[b];
	t->bucket[b] = t->n++;
	return g;
}

int templates_load(struct templates *t, int64_t db_id, const char *text)
{
	struct span tok[TEMPLATES_MAX_TOKENS];
	unsigned n = tokens(text, tok, TEMPLATES_MAX_TOKENS);
	struct tgroup *g;

	if (n == 0)
		return 0;
	g = add_group(t, text, n, group_key(n, tok[0]));
	if (g == NULL)
		return -1;
	g->db_id = db_id;
	return 0;
}

static void count_day(struct tgroup *g, int64_t day)
{
	size_t i;

	for (i = 0; i < g->ndays; i++) {
		if (g->days[i] == day) {
			g->day_counts[i]++;
			return;
		}
	}
	if (g->ndays == g->days_alloc) {
		g->days_alloc = g->days_alloc ? 2 * g->days_alloc : 4;
		g->days = xrealloc(g->days, g->days_alloc * sizeof(*g->days));
		g->day_counts = xrealloc(g->day_counts,
					 g->days_alloc * sizeof(*g->day_counts));
	}
	g->days[g->ndays] = day;
	g->day_counts[g->ndays++] = 1;
}

/*
 * Join the masked message to group g: tokens that differ become <*>.
 * The text only ever gets more general, so it stays short.
 */
static void merge(struct tgroup *g, const struct span *mt, unsigned n)
{
	struct span gt[TEMPLATES_MAX_TOKENS];
	struct buf b;
	unsigned i;
	bool diff = false;

	tokens(g->text, gt, TEMPLATES_MAX_TOKENS);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		bool same = gt[i].len == mt[i].len &&
			    memcmp(gt[i].p, mt[i].p, gt[i].len) == 0;

		if (i)
			buf_addch(&b, ' ');
		if (same || is_wild(gt[i])) {
			buf_add(&b, gt[i].p, gt[i].len);
		} else {
			buf_adds(&b, WILD);
			diff = true;
		}
	}
	if (diff) {
		free(g->text);
		g->text = buf_detach(&b, NULL);
		g->changed = true;
	}
	buf_release(&b);
}

int templates_add(struct templates *t, const char *msg, size_t len,
		  const char *example, const char *source, uint64_t line_no,
		  int64_t ts, bool has_ts, int64_t day)
{
	char masked[TEMPLATES_MAX_TEXT];
	struct span mt[TEMPLATES_MAX_TOKENS], gt[TEMPLATES_MAX_TOKENS];
	struct tgroup *best = NULL;
	double best_sim = 0;
	unsigned n, i;
	uint64_t key;
	size_t gi;

	templates_mask(msg, len, masked, sizeof(masked));
	n = tokens(masked, mt, TEMPLATES_MAX_TOKENS);
	if (n == 0)
		return 0;
	key = group_key(n, mt[0]);
	for (gi = t->bucket[key % BUCKETS]; gi != SIZE_MAX; gi = t->g[gi].next) {
		struct tgroup *g = &t->g[gi];
		unsigned same = 0;
		double sim;

		if (g->key != key || g->ntok != n)
			continue;
		tokens(g->text, gt, TEMPLATES_MAX_TOKENS);
		for (i = 0; i < n; i++)
			if (is_wild(gt[i]) || (gt[i].len == mt[i].len &&
			    memcmp(gt[i].p, mt[i].p, gt[i].len) == 0))
				same++;
		sim = (double)same / n;
		if (sim > best_sim) {
			best_sim = sim;
			best = g;
		}
	}
	if (best == NULL || best_sim < TEMPLATES_SIMILARITY) {
		best = add_group(t, masked, n, key);
		if (best == NULL) {
			t->overflow++;
			return 1;
		}
	} else {
		merge(best, mt, n);
	}
	if (best->example == NULL) {
		size_t el = strlen(example);

		best->example = xmemdup(example, el < TEMPLATES_MAX_EXAMPLE ?
					el : TEMPLATES_MAX_EXAMPLE);
		best->example_source = xstrdup(source);
		best->example_line = line_no;
	}
	if (has_ts) {
		if (!best->has_ts || ts < best->first_ts)
			best->first_ts = ts;
		if (!best->has_ts || ts > best->last_ts)
			best->last_ts = ts;
		best->has_ts = true;
	}
	best->pending++;
	count_day(best, day);
	return 0;
}

int templates_each(struct templates *t, templates_fn fn, void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < t->n; i++) {
		struct tgroup *g = &t->g[i];
		struct template_info ti;
		int64_t id = 0;

		if (g->pending == 0 && !(g->changed && g->db_id))
			continue;
		ti.db_id = g->db_id;
		ti.text = g->text;
		ti.example = g->example ? g->example : "";
		ti.example_source = g->example_source ? g->example_source : "";
		ti.example_line = g->example_line;
		ti.first_ts = g->first_ts;
		ti.last_ts = g->last_ts;
		ti.has_ts = g->has_ts;
		ti.pending = g->pending;
		ti.days = g->days;
		ti.day_counts = g->day_counts;
		ti.ndays = g->ndays;
		ti.changed = g->changed;
		rc = fn(arg, &ti, &id);
		if (rc != 0)
			return rc;
		if (g->db_id == 0)
			g->db_id = id;
		g->pending = 0;
		g->ndays = 0;
		g->changed = false;
		g->has_ts = false;
	}
	return 0;
}

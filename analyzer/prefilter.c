/*
 * prefilter.c - part of pipeline stage 4: the conditions every match of a
 * pattern must meet, derived from its regular expression, and the
 * one-pass scan that checks them on each record.
 *
 * Why this shape (measured on the 1 GB Railway-style export of 'make
 * bench', 9 M lines, 250 patterns; see README "Performance"):
 *
 * - One literal per pattern is not enough. Rules carry literals such as
 *   "HTTP" or "ms" that occur on every access or timing line, and PCRE2
 *   costs 0.2 to 0.6 us per line on those patterns. Every literal a match
 *   must contain is therefore derived, alternations included, and a
 *   pattern is a candidate only when all its clauses hold: "HTTP/" and
 *   "ms" never meet on an access line, "ready|livez|liveness" is on no
 *   line at all. Runs of byte sets (" [1-5]\d\d [1-9]\d\d\d") go where
 *   literals cannot: they tell a 6306 ms request from a 753 ms one, which
 *   took PCRE2 off a quarter of all lines.
 * - Only one clause of each pattern (its anchor) is searched for in the
 *   scan; the others are checked for the few patterns whose anchor was
 *   found. Which clause is rarest depends on the input (SQL echo is full
 *   of "AS" and "BY", access lines of "HTTP/"), so the first
 *   TRAIN_RECORDS records are scanned for every literal, counting, and
 *   then each pattern anchors on the clause the fewest records held,
 *   filed under its rarest byte pair as counted. Results never depend on
 *   this, only speed.
 * - The scan tests pairs of adjacent bytes in a table of the anchors'
 *   byte pairs (one byte per pair; text touches about 12 KiB of it); a
 *   hit is verified against the few literals filed under that pair.
 *   Testing every pair costs about 7 instructions a byte. With AVX2 (on
 *   x86-64, chosen at run time) a test of single bytes, 32 at a time,
 *   picks the positions worth looking up: each anchor is filed under a
 *   pair holding one of its rare bytes, and a position is looked up only
 *   when its byte is one of those (see "the vector front end"). On the
 *   benchmark's plain export 8% of positions pass, and the scan costs a
 *   third of what the byte loop costs.
 * - No Hyperscan: a per-record call of Debian's libvectorscan costs 40 to
 *   55 ns before it reads a byte, about what this loop takes on a
 *   110-byte line, and compiling the full expressions in its prefilter
 *   mode made the scan slower (350 MB/s over whole blocks) than PCRE2 on
 *   the candidates, as the costly patterns are exactly the ones whose
 *   literals are common. So there is no extra dependency.
 * - Nothing is allocated per record: generation counters mark what was
 *   seen in the current record.
 */
#include "common.h"
#include "prefilter.h"
#include "buf.h"

/* Clauses kept per pattern (the most selective ones). */
#define MAX_CLAUSES 8
/* Runs of byte sets kept per pattern. */
#define MAX_RUNS 2
/* Repetitions of a literal character spelled out ("a{3}"). */
#define MAX_REPEAT 16

/*
 * How often each printable byte occurs in log text, per 10,000 bytes
 * (counted over the .log files of samples/). Used to prefer rare bytes
 * before training has counted (the byte pair that files a literal), and
 * to rank clauses.
 */
static const unsigned short byte_freq[95] = {
	1130, 1, 78, 2, 1, 11, 1, 22, 34, 34, 3, 1, 121, 183, 312, 295,
	513, 291, 455, 188, 150, 105, 175, 72, 118, 84, 252, 1, 2, 22, 2, 1,
	1, 17, 29, 26, 15, 145, 110, 70, 38, 120, 4, 34, 31, 16, 113, 159,
	39, 1, 45, 29, 135, 8, 1, 11, 1, 10, 1, 12, 1, 12, 71, 73,
	1, 275, 27, 192, 95, 421, 21, 130, 104, 368, 42, 16, 195, 177, 288, 145,
	217, 38, 170, 291, 310, 79, 62, 10, 7, 70, 3, 8, 1, 8, 70,
};

static unsigned freq(unsigned char c)
{
	if (c == '\n')
		return 129;
	if (c < 32 || c > 126)
		return 1;
	return byte_freq[c - 32];
}

/* Frequency of a byte of a case-insensitive literal: both cases count. */
static unsigned freq_ci(unsigned char c, bool ci)
{
	if (ci && c >= 'a' && c <= 'z')
		return freq(c) + freq((unsigned char)(c - 32));
	return freq(c);
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* About -log2 of a byte's frequency: the information a byte carries. */
static unsigned rarity(unsigned char c, bool ci)
{
	unsigned f = freq_ci(c, ci), bits = 0;

	while (f > 1) {
		f >>= 1;
		bits++;
	}
	return 14 - bits;
}

/* How selective a literal is: the information its bytes carry. */
static unsigned lit_score(const char *s, size_t len, bool ci)
{
	unsigned sc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sc += rarity((unsigned char)s[i], ci);
	return sc;
}

/* ---- deriving the literals of a pattern --------------------------------- */

/* A derived literal, a clause (one of alt[] must occur), a condition. */
struct dlit {
	char *s;                /* owned, lower case when the pattern is ci */
	size_t len;
};

struct dclause {
	struct dlit *alt;       /* owned */
	size_t n;
};

/* A set of bytes. */
struct bset {
	uint64_t w[4];
};

/*
 * A run of byte sets: every match holds n consecutive bytes, byte i in
 * v[i] (" [1-5]\d\d [1-9]\d\d\d" in a pattern for requests over 5000 ms:
 * literals cannot tell 753.6 from 6306.9, these sets can).
 */
struct srun {
	struct bset *v;         /* owned */
	size_t n;
};

struct cnf {
	struct dclause *v;      /* owned; every clause must hold */
	size_t n;
	struct srun *runs;      /* owned; every run must occur */
	size_t nruns;
};

/* The fixed-width start of a sequence, and whether that is all of it. */
struct fixed {
	struct srun lead;       /* owned */
	bool whole;
};

struct dparse {
	const char *p;          /* cursor in the pattern */
	bool ci;                /* (?i) at the start */
	bool dotall;            /* (?s) at the start */
	bool bail;              /* a construct this parser does not know */
};

static void set_add(struct bset *s, unsigned char c)
{
	s->w[c >> 6] |= 1ull << (c & 63);
}

static bool set_has(const struct bset *s, unsigned char c)
{
	return (s->w[c >> 6] >> (c & 63)) & 1;
}

static unsigned set_count(const struct bset *s)
{
	return (unsigned)(__builtin_popcountll(s->w[0]) +
			  __builtin_popcountll(s->w[1]) +
			  __builtin_popcountll(s->w[2]) +
			  __builtin_popcountll(s->w[3]));
}

static void set_range(struct bset *s, unsigned lo, unsigned hi)
{
	unsigned c;

	for (c = lo; c <= hi && c < 256; c++)
		set_add(s, (unsigned char)c);
}

static void set_invert(struct bset *s)
{
	s->w[0] = ~s->w[0];
	s->w[1] = ~s->w[1];
	s->w[2] = ~s->w[2];
	s->w[3] = ~s->w[3];
}

/* Both cases of every letter in s. */
static void set_fold(struct bset *s)
{
	unsigned c;

	for (c = 'a'; c <= 'z'; c++)
		if (set_has(s, (unsigned char)c) ||
		    set_has(s, (unsigned char)(c - 32))) {
			set_add(s, (unsigned char)c);
			set_add(s, (unsigned char)(c - 32));
		}
}

static void run_free(struct srun *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void run_add(struct srun *r, const struct bset *s)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = *s;
}

/* The information a run carries: about 8 bits for a single byte. */
static unsigned run_bits(const struct srun *r)
{
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		unsigned k = set_count(&r->v[i]), b = 8;

		while (k > 1) {
			k >>= 1;
			b--;
		}
		bits += b;
	}
	return bits;
}

static void clause_free(struct dclause *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->alt[i].s);
	free(c->alt);
	c->alt = NULL;
	c->n = 0;
}

static void cnf_free(struct cnf *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		clause_free(&f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = 0;
	for (i = 0; i < f->nruns; i++)
		run_free(&f->runs[i]);
	free(f->runs);
	f->runs = NULL;
	f->nruns = 0;
}

static void clause_add(struct dclause *c, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->alt[i].len == len && memcmp(c->alt[i].s, s, len) == 0)
			return;
	c->alt = xrealloc(c->alt, (c->n + 1) * sizeof(*c->alt));
	c->alt[c->n].s = xmemdup(s, len);
	c->alt[c->n].len = len;
	c->n++;
}

/* Take over clause c (it becomes empty). */
static void cnf_take(struct cnf *f, struct dclause *c)
{
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = *c;
	c->alt = NULL;
	c->n = 0;
}

static void cnf_add_lit(struct cnf *f, const char *s, size_t len)
{
	struct dclause c = { NULL, 0 };

	clause_add(&c, s, len);
	cnf_take(f, &c);
}

/* Move every clause and run of src into dst. */
static void cnf_merge(struct cnf *dst, struct cnf *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		cnf_take(dst, &src->v[i]);
	free(src->v);
	src->v = NULL;
	src->n = 0;
	for (i = 0; i < src->nruns; i++) {
		dst->runs = xrealloc(dst->runs,
				     (dst->nruns + 1) * sizeof(*dst->runs));
		dst->runs[dst->nruns++] = src->runs[i];
	}
	free(src->runs);
	src->runs = NULL;
	src->nruns = 0;
}

/* A clause is as selective as its weakest literal. */
static unsigned clause_score(const struct dclause *c, bool ci)
{
	unsigned best = UINT_MAX;
	size_t i;

	for (i = 0; i < c->n; i++) {
		unsigned s = lit_score(c->alt[i].s, c->alt[i].len, ci);

		if (s < best)
			best = s;
	}
	return c->n ? best : 0;
}

/* The current run of literal bytes ends: it is a required literal. */
static void end_run(struct buf *run, struct cnf *out)
{
	if (run->len > 0)
		cnf_add_lit(out, run->p, run->len);
	buf_clear(run);
}

/* A copy of the run's sets (NULL for an empty run). */
static struct bset *run_copy(const struct srun *r)
{
	struct bset *v;

	if (r->n == 0)
		return NULL;
	v = xmalloc(r->n * sizeof(*v));
	memcpy(v, r->v, r->n * sizeof(*v));
	return v;
}

/*
 * The current run of sets ends. Items that allow almost any byte are
 * dropped from its ends; what is left is kept when it says more than a
 * literal would: four bytes or more, one of them a set of a few bytes
 * (a digit, not the two cases of a letter).
 */
static void end_srun(struct srun *r, struct cnf *out)
{
	size_t i, lo = 0, hi = r->n;
	bool some_set = false;

	while (lo < hi && set_count(&r->v[lo]) > 128)
		lo++;
	while (hi > lo && set_count(&r->v[hi - 1]) > 128)
		hi--;
	for (i = lo; i < hi; i++) {
		unsigned c = set_count(&r->v[i]);

		if (c > 2 && c <= 128)
			some_set = true;
	}
	if (hi - lo >= 4 && some_set) {
		struct srun kept;

		kept.n = hi - lo;
		kept.v = xmalloc(kept.n * sizeof(*kept.v));
		memcpy(kept.v, r->v + lo, kept.n * sizeof(*kept.v));
		out->runs = xrealloc(out->runs,
				     (out->nruns + 1) * sizeof(*out->runs));
		out->runs[out->nruns++] = kept;
	}
	run_free(r);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Read a quantifier at the cursor: ? * + {n} {n,} {n,m}, then an optional
 * lazy '?' or possessive '+'. Return false (cursor unchanged) when there
 * is none; a '{' that is not a quantifier is a literal in PCRE2.
 */
static bool quantifier(struct dparse *dp, unsigned *min, unsigned *max)
{
	const char *p = dp->p;

	switch (*p) {
	case '?': *min = 0; *max = 1; p++; break;
	case '*': *min = 0; *max = UINT_MAX; p++; break;
	case '+': *min = 1; *max = UINT_MAX; p++; break;
	case '{': {
		unsigned a = 0, b;

		p++;
		if (!is_digit(*p))
			return false;
		for (; is_digit(*p); p++)
			if (a < 100000)
				a = a * 10 + (unsigned)(*p - '0');
		b = a;
		if (*p == ',') {
			p++;
			b = UINT_MAX;
			if (is_digit(*p))
				for (b = 0; is_digit(*p); p++)
					if (b < 100000)
						b = b * 10 + (unsigned)(*p - '0');
		}
		if (*p != '}')
			return false;
		p++;
		*min = a;
		*max = b;
		break;
	}
	default:
		return false;
	}
	if (*p == '?' || *p == '+')
		p++;
	dp->p = p;
	return true;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = (char)fold((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The set of an escape that stands for one byte of a class (\d \w \s \h
 * \v and their complements, as PCRE2 reads them without UTF); false for
 * other letters.
 */
static bool escape_set(char e, struct bset *s)
{
	memset(s, 0, sizeof(*s));
	switch (fold((unsigned char)e)) {
	case 'd':
		set_range(s, '0', '9');
		break;
	case 'w':
		set_range(s, '0', '9');
		set_range(s, 'a', 'z');
		set_range(s, 'A', 'Z');
		set_add(s, '_');
		break;
	case 's':
		set_range(s, '\t', '\r');
		set_add(s, ' ');
		break;
	case 'h':
		set_add(s, '\t');
		set_add(s, ' ');
		set_add(s, 0xa0);
		break;
	case 'v':
		set_range(s, '\n', '\r');
		set_add(s, 0x85);
		break;
	default:
		return false;
	}
	if (e >= 'A' && e <= 'Z')
		set_invert(s);
	return true;
}

/* One byte named inside a class: an escape or itself; -1 for a set. */
static int class_byte(struct dparse *dp, struct bset *s)
{
	char c = *dp->p++;

	if (c != '\\')
		return (unsigned char)c;
	c = *dp->p++;
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'e': return 0x1b;
	case 'a': return 0x07;
	case 'x': {
		int v = 0, k;

		for (k = 0; k < 2 && hexval(*dp->p) >= 0; k++)
			v = v * 16 + hexval(*dp->p++);
		return v;
	}
	default:
		if (escape_set(c, s))
			return -1;
		if (is_alnum(c)) {
			/* something this parser does not read: any byte */
			memset(s, 0xff, sizeof(*s));
			return -1;
		}
		return (unsigned char)c;
	}
}

/* A bracket expression from after its '[' into a set. */
static void parse_class(struct dparse *dp, struct bset *out)
{
	bool neg = false, first = true;

	memset(out, 0, sizeof(*out));
	if (*dp->p == '^') {
		neg = true;
		dp->p++;
	}
	while (*dp->p && (*dp->p != ']' || first)) {
		struct bset s;
		int lo, hi;

		first = false;
		if (dp->p[0] == '[' && dp->p[1] == ':') {
			/* a POSIX class: any byte, to stay safe */
			const char *e = strstr(dp->p + 2, ":]");

			if (e == NULL)
				break;
			memset(out, 0xff, sizeof(*out));
			dp->p = e + 2;
			continue;
		}
		lo = class_byte(dp, &s);
		if (lo < 0) {
			out->w[0] |= s.w[0];
			out->w[1] |= s.w[1];
			out->w[2] |= s.w[2];
			out->w[3] |= s.w[3];
			continue;
		}
		if (dp->p[0] == '-' && dp->p[1] && dp->p[1] != ']') {
			dp->p++;
			hi = class_byte(dp, &s);
			if (hi < 0) {
				memset(out, 0xff, sizeof(*out));
				continue;
			}
			set_range(out, (unsigned)lo, (unsigned)hi);
		} else {
			set_add(out, (unsigned char)lo);
		}
	}
	if (*dp->p != ']') {
		dp->bail = true;
		return;
	}
	dp->p++;
	if (dp->ci)
		set_fold(out);
	if (neg)
		set_invert(out);
}

/* Skip a character class from after its '['. */
static void skip_class(struct dparse *dp)
{
	struct bset s;

	parse_class(dp, &s);
}

/* Skip a group's body from after its opening to after its ')'. */
static void skip_group(struct dparse *dp)
{
	int depth = 1;

	while (*dp->p && depth > 0) {
		char c = *dp->p++;

		if (c == '\\' && *dp->p)
			dp->p++;
		else if (c == '[')
			skip_class(dp);
		else if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
	}
	if (depth > 0)
		dp->bail = true;
}

/*
 * Kinds of atoms, for what a quantifier does to the runs:
 *   ATOM_NONE   nothing (a comment)
 *   ATOM_BYTES  literal bytes, appended to both runs
 *   ATOM_SET    one byte of a set (a class, \d, '.'): ends the literal run
 *   ATOM_ZERO   an assertion (\b, ^, a lookaround): consumes nothing
 *   ATOM_OTHER  anything of variable width (a back reference): ends both
 *   ATOM_GROUP  a group: clauses and a fixed-width start of its own
 */
enum atom {
	ATOM_NONE,
	ATOM_BYTES,
	ATOM_SET,
	ATOM_ZERO,
	ATOM_OTHER,
	ATOM_GROUP,
};

static void parse_alt(struct dparse *dp, struct cnf *out, struct fixed *fx);

/* An escape after '\\': literal bytes, a set, or something else. */
static enum atom parse_escape(struct dparse *dp, struct buf *run,
			      struct bset *set)
{
	char e = *dp->p;

	if (e == '\0') {
		dp->bail = true;
		return ATOM_OTHER;
	}
	dp->p++;
	switch (e) {
	case 'Q': {
		size_t before = run->len;

		while (*dp->p && !(dp->p[0] == '\\' && dp->p[1] == 'E')) {
			buf_addch(run, dp->ci ? (char)fold((unsigned char)*dp->p) :
				  *dp->p);
			dp->p++;
		}
		if (*dp->p)
			dp->p += 2;
		return run->len > before ? ATOM_BYTES : ATOM_NONE;
	}
	case 'E':
		return ATOM_NONE;
	case 'n': buf_addch(run, '\n'); return ATOM_BYTES;
	case 't': buf_addch(run, '\t'); return ATOM_BYTES;
	case 'r': buf_addch(run, '\r'); return ATOM_BYTES;
	case 'f': buf_addch(run, '\f'); return ATOM_BYTES;
	case 'e': buf_addch(run, '\x1b'); return ATOM_BYTES;
	case 'a': buf_addch(run, '\a'); return ATOM_BYTES;
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G':
		return ATOM_ZERO;
	case 'x': {
		int v = 0, k;

		if (*dp->p == '{') {
			const char *end = strchr(dp->p, '}');

			if (end == NULL) {
				dp->bail = true;
				return ATOM_OTHER;
			}
			for (k = 0, dp->p++; dp->p < end; dp->p++, k++)
				v = hexval(*dp->p) < 0 || v > 0xff ? 0x100 :
				    v * 16 + hexval(*dp->p);
			dp->p = end + 1;
			if (k == 0 || v > 0xff)
				return ATOM_OTHER;
		} else {
			for (k = 0; k < 2 && hexval(*dp->p) >= 0; k++)
				v = v * 16 + hexval(*dp->p++);
		}
		buf_addch(run, dp->ci ? (char)fold((unsigned char)v) : (char)v);
		return ATOM_BYTES;
	}
	case 'N':
		if (*dp->p != '{') {
			memset(set, 0xff, sizeof(*set));
			set->w['\n' >> 6] &= ~(1ull << ('\n' & 63));
			return ATOM_SET;
		}
		/* fall through */
	case 'p': case 'P': case 'g': case 'k': case 'o':
		/* \p{..}, \g{..}, \k<..>, \o{..}: skip the argument */
		if (*dp->p == '{' || *dp->p == '<' || *dp->p == '\'') {
			char close = *dp->p == '{' ? '}' : *dp->p == '<' ? '>' :
				     '\'';
			const char *end = strchr(dp->p + 1, close);

			if (end == NULL)
				dp->bail = true;
			else
				dp->p = end + 1;
		} else if (*dp->p) {
			dp->p++;
		}
		return ATOM_OTHER;
	case 'c':
		if (*dp->p)
			dp->p++;
		return ATOM_OTHER;
	default:
		if (is_digit(e)) {
			while (is_digit(*dp->p))
				dp->p++;
			return ATOM_OTHER;
		}
		if (escape_set(e, set))
			return ATOM_SET;
		if (is_alnum(e))
			return ATOM_OTHER;      /* \K \R \X ... */
		buf_addch(run, e);
		return ATOM_BYTES;
	}
}

/* A group from after its '(': a body of its own, or skipped. */
static enum atom parse_group(struct dparse *dp, struct cnf *inner,
			     struct fixed *fx)
{
	const char *p = dp->p;

	if (p[0] == '*') {
		dp->bail = true;                /* (*VERB) */
		return ATOM_OTHER;
	}
	if (p[0] == '?') {
		if (p[1] == '#') {
			const char *end = strchr(p, ')');

			if (end == NULL)
				dp->bail = true;
			else
				dp->p = end + 1;
			return ATOM_NONE;
		}
		if (p[1] == '=' || p[1] == '!' ||
		    (p[1] == '<' && (p[2] == '=' || p[2] == '!'))) {
			/* lookaround: zero-width, requires nothing here */
			dp->p = p + (p[1] == '<' ? 3 : 2);
			skip_group(dp);
			return ATOM_ZERO;
		}
		if (p[1] == ':' || p[1] == '>' || p[1] == '|') {
			dp->p = p + 2;
		} else if (p[1] == '<' || p[1] == '\'' ||
			   (p[1] == 'P' && p[2] == '<')) {
			const char *end = strpbrk(p + 2, ">'");

			if (end == NULL) {
				dp->bail = true;
				return ATOM_OTHER;
			}
			dp->p = end + 1;
		} else if (p[1] == 'P' && (p[2] == '=' || p[2] == '>')) {
			dp->p = p + 3;          /* back reference, recursion */
			skip_group(dp);
			return ATOM_OTHER;
		} else {
			/* option settings inside, conditionals, recursion */
			dp->bail = true;
			return ATOM_OTHER;
		}
	}
	parse_alt(dp, inner, fx);
	if (*dp->p != ')') {
		dp->bail = true;
		return ATOM_OTHER;
	}
	dp->p++;
	return ATOM_GROUP;
}

/* The set of one literal byte (both cases under (?i)). */
static struct bset byte_set(const struct dparse *dp, unsigned char c)
{
	struct bset s;

	memset(&s, 0, sizeof(s));
	set_add(&s, c);
	if (dp->ci)
		set_fold(&s);
	return s;
}

/*
 * A sequence of atoms up to '|', ')' or the end: every run of literal
 * bytes that must occur, every run of byte sets, the clauses of the
 * groups that must match, and (in fx) its fixed-width start.
 */
static void parse_seq(struct dparse *dp, struct cnf *out, struct fixed *fx)
{
	struct buf run;
	struct srun sr = { NULL, 0 };
	bool leading = true;    /* sr is still the start of the sequence */

	buf_init(&run);
	memset(fx, 0, sizeof(*fx));
	while (!dp->bail) {
		char c = *dp->p;
		struct cnf inner = { NULL, 0, NULL, 0 };
		struct fixed gfx = { { NULL, 0 }, false };
		struct bset set;
		enum atom kind;
		unsigned min = 1, max = 1, k;
		size_t start = run.len;
		bool ends_sets;

		if (c == '\0' || c == '|' || c == ')')
			break;
		dp->p++;
		switch (c) {
		case '\\':
			kind = parse_escape(dp, &run, &set);
			break;
		case '[':
			parse_class(dp, &set);
			kind = ATOM_SET;
			break;
		case '(':
			kind = parse_group(dp, &inner, &gfx);
			break;
		case '.':
			memset(&set, 0xff, sizeof(set));
			if (!dp->dotall)
				set.w['\n' >> 6] &= ~(1ull << ('\n' & 63));
			kind = ATOM_SET;
			break;
		case '^': case '$':
			kind = ATOM_ZERO;
			break;
		case '*': case '+': case '?':
			dp->bail = true;        /* nothing to repeat */
			kind = ATOM_OTHER;
			break;
		case '{':
			dp->p--;
			if (quantifier(dp, &min, &max)) {
				dp->bail = true;
				kind = ATOM_OTHER;
				break;
			}
			dp->p++;
			buf_addch(&run, '{');
			kind = ATOM_BYTES;
			break;
		default:
			buf_addch(&run, dp->ci ? (char)fold((unsigned char)c) : c);
			kind = ATOM_BYTES;
		}
		if (kind == ATOM_NONE)
			continue;
		if (!quantifier(dp, &min, &max))
			min = max = 1;
		ends_sets = false;
		switch (kind) {
		case ATOM_BYTES:
			/* The bytes before the last are plain; a quantifier
			   repeats the last one only. */
			for (k = (unsigned)start; k + 1 < run.len; k++) {
				set = byte_set(dp, (unsigned char)run.p[k]);
				run_add(&sr, &set);
			}
			set = byte_set(dp, (unsigned char)run.p[run.len - 1]);
			for (k = 0; k < min && k < MAX_REPEAT; k++)
				run_add(&sr, &set);
			ends_sets = min != max || min > MAX_REPEAT;
			if (min == 0) {
				run.len--;
				end_run(&run, out);
			} else if (min == max && min <= MAX_REPEAT) {
				char last = run.p[run.len - 1];

				while (--min > 0)
					buf_addch(&run, last);
			} else if (max != 1) {
				end_run(&run, out);
			}
			break;
		case ATOM_SET:
			end_run(&run, out);
			for (k = 0; k < min && k < MAX_REPEAT; k++)
				run_add(&sr, &set);
			ends_sets = min != max || min > MAX_REPEAT;
			break;
		case ATOM_ZERO:
			/* consumes nothing: the bytes around it are adjacent */
			end_run(&run, out);
			break;
		case ATOM_GROUP:
			end_run(&run, out);
			if (min > 0)
				cnf_merge(out, &inner);
			for (k = 0; k < min && k < MAX_REPEAT; k++) {
				size_t j;

				for (j = 0; j < gfx.lead.n; j++)
					run_add(&sr, &gfx.lead.v[j]);
				if (!gfx.whole)
					break;
			}
			ends_sets = !gfx.whole || min != max || min > MAX_REPEAT;
			break;
		default:
			end_run(&run, out);
			ends_sets = true;
		}
		if (ends_sets) {
			if (leading) {
				/* the start of the sequence ends here */
				fx->lead.v = run_copy(&sr);
				fx->lead.n = sr.n;
				leading = false;
			}
			end_srun(&sr, out);
		}
		run_free(&gfx.lead);
		cnf_free(&inner);
	}
	end_run(&run, out);
	if (leading) {
		fx->lead.v = run_copy(&sr);
		fx->lead.n = sr.n;
		fx->whole = !dp->bail;
	}
	end_srun(&sr, out);
	buf_release(&run);
}

/*
 * The clause of a branch that best represents it inside an alternation:
 * the most selective. Append its literals to c; false when the branch
 * requires nothing (then the alternation requires nothing either).
 */
static bool branch_into(const struct cnf *br, bool ci, struct dclause *c)
{
	const struct dclause *best = NULL;
	unsigned best_sc = 0;
	size_t i;

	for (i = 0; i < br->n; i++) {
		unsigned sc = clause_score(&br->v[i], ci);

		if (best == NULL || sc > best_sc) {
			best = &br->v[i];
			best_sc = sc;
		}
	}
	if (best == NULL)
		return false;
	for (i = 0; i < best->n; i++)
		clause_add(c, best->alt[i].s, best->alt[i].len);
	return true;
}

/*
 * The fixed-width start common to two branches: the union of their sets,
 * position by position, as long as the shorter one; whole when both are
 * whole and as long.
 */
static void fixed_union(struct fixed *acc, struct fixed *br)
{
	size_t i, n = acc->lead.n < br->lead.n ? acc->lead.n : br->lead.n;

	for (i = 0; i < n; i++) {
		acc->lead.v[i].w[0] |= br->lead.v[i].w[0];
		acc->lead.v[i].w[1] |= br->lead.v[i].w[1];
		acc->lead.v[i].w[2] |= br->lead.v[i].w[2];
		acc->lead.v[i].w[3] |= br->lead.v[i].w[3];
	}
	acc->whole = acc->whole && br->whole && acc->lead.n == br->lead.n;
	acc->lead.n = n;
}

/*
 * Branches separated by '|': one clause listing a literal of each, and
 * the union of their fixed-width starts. Runs inside a branch are not
 * required (another branch may match).
 */
static void parse_alt(struct dparse *dp, struct cnf *out, struct fixed *fx)
{
	struct cnf br = { NULL, 0, NULL, 0 };
	struct dclause c = { NULL, 0 };
	struct fixed bfx;
	bool ok;

	parse_seq(dp, &br, fx);
	if (*dp->p != '|') {
		cnf_merge(out, &br);
		return;
	}
	ok = branch_into(&br, dp->ci, &c);
	cnf_free(&br);
	while (*dp->p == '|' && !dp->bail) {
		dp->p++;
		parse_seq(dp, &br, &bfx);
		if (!branch_into(&br, dp->ci, &c))
			ok = false;
		fixed_union(fx, &bfx);
		run_free(&bfx.lead);
		cnf_free(&br);
	}
	if (ok)
		cnf_take(out, &c);
	clause_free(&c);
}

static bool has_substring(const struct dlit *big, const struct dlit *small)
{
	return big->len > small->len &&
	       memmem(big->s, big->len, small->s, small->len) != NULL;
}

/*
 * Keep the clauses worth checking: no literal shorter than two bytes, no
 * single literal that a longer required one contains, at most
 * MAX_CLAUSES, the most selective first; and the MAX_RUNS runs of sets
 * that carry the most information.
 */
static void cnf_tidy(struct cnf *f, bool ci)
{
	size_t i, j, k = 0;

	for (i = 0; i < f->n; i++) {
		bool keep = f->v[i].n > 0;

		for (j = 0; keep && j < f->v[i].n; j++)
			if (f->v[i].alt[j].len < 2)
				keep = false;
		for (j = 0; keep && j < f->n; j++) {
			if (j == i || f->v[i].n != 1 || f->v[j].n != 1)
				continue;
			if (has_substring(&f->v[j].alt[0], &f->v[i].alt[0]) ||
			    (j < i && f->v[j].alt[0].len == f->v[i].alt[0].len &&
			     memcmp(f->v[j].alt[0].s, f->v[i].alt[0].s,
				    f->v[i].alt[0].len) == 0))
				keep = false;
		}
		if (!keep) {
			clause_free(&f->v[i]);
			continue;
		}
		f->v[k++] = f->v[i];
	}
	f->n = k;
	/* insertion sort, most selective first */
	for (i = 1; i < f->n; i++) {
		struct dclause c = f->v[i];
		unsigned sc = clause_score(&c, ci);

		for (j = i; j > 0 && clause_score(&f->v[j - 1], ci) < sc; j--)
			f->v[j] = f->v[j - 1];
		f->v[j] = c;
	}
	while (f->n > MAX_CLAUSES)
		clause_free(&f->v[--f->n]);
	for (i = 1; i < f->nruns; i++) {
		struct srun r = f->runs[i];
		unsigned b = run_bits(&r);

		for (j = i; j > 0 && run_bits(&f->runs[j - 1]) < b; j--)
			f->runs[j] = f->runs[j - 1];
		f->runs[j] = r;
	}
	while (f->nruns > MAX_RUNS)
		run_free(&f->runs[--f->nruns]);
}

/*
 * Derive what every match of re must contain. Leading option settings
 * are read ((?i) makes every literal case-insensitive, (?s) lets '.' be
 * a newline); a construct the parser does not know, (?x), or options set
 * later in the pattern give an empty condition, which is always safe.
 * Return whether re is case-insensitive.
 */
static bool derive(const char *re, struct cnf *out)
{
	struct dparse dp = { re, false, false, false };
	struct fixed fx;

	while (dp.p[0] == '(' && dp.p[1] == '?') {
		const char *q = dp.p + 2;

		while (*q && strchr("imsnU", *q))
			q++;
		if (*q != ')' || q == dp.p + 2)
			break;
		if (memchr(dp.p + 2, 'i', (size_t)(q - dp.p - 2)))
			dp.ci = true;
		if (memchr(dp.p + 2, 's', (size_t)(q - dp.p - 2)))
			dp.dotall = true;
		dp.p = q + 1;
	}
	parse_alt(&dp, out, &fx);
	run_free(&fx.lead);
	if (dp.bail || *dp.p != '\0')
		cnf_free(out);
	cnf_tidy(out, dp.ci);
	return dp.ci;
}

/* ---- the scan --------------------------------------------------------- */

/*
 * Records scanned with every literal filed, counting how many records hold
 * each literal and how often each byte pair occurs, before the anchors are
 * chosen from what this input looks like.
 */
#define TRAIN_RECORDS 2048

struct pf_lit {
	char *s;                /* owned; lower case when ci */
	size_t len;
	bool ci;
	unsigned first, npat;   /* patterns it anchors: pat_of[first..] */
	unsigned cfirst, ncpat; /* patterns with it in any clause: in_pat[] */
	uint32_t records;       /* training: records that held it */
	size_t roff;            /* its rarest byte, looked for first ... */
	int rare;               /* ... which is this byte; -1: a letter of a
				   case-insensitive literal (folded) */
	int voff;               /* after training, with the vector front
				   end: where its filing pair starts; -1:
				   its rarest pair is used */
	bool filed;             /* after training: the scan finds it (an
				   anchor), so unseen after it is absent */
	uint64_t word, wmask;   /* its first 8 bytes as loaded, and which */
	uint64_t wfold;         /* 0x20 in the bytes of ci letters */
};

/* A clause of a pattern: one of lit[first .. first + n) must occur. */
struct pf_clause {
	unsigned first, n;
};

/* A run of byte sets to find, with the item to look for first. */
struct pf_run {
	struct bset *v;                 /* owned */
	size_t n;
	size_t anchor;                  /* the item of the rarest bytes */
	int byte;                       /* its byte when it has one, or -1 */
};

struct pf_pat {
	bool added;
	unsigned flags;
	struct pf_clause *clause;       /* owned; [0] is the anchor */
	size_t nclause;
	unsigned *lit;                  /* owned; literal ids of the clauses */
	size_t nlit;
	struct pf_run *run;             /* owned; checked after the clauses */
	size_t nrun;
};

/* Literals filed under one byte pair: entries[first .. first + n). */
struct pf_slot {
	uint16_t key;
	bool used;
	unsigned first, n;
};

struct pf_entry {
	unsigned lit;
	unsigned off;           /* where the byte pair is in the literal */
};

struct prefilter {
	struct pf_pat *pat;     /* owned, by id */
	size_t npat;
	struct pf_lit *lit;     /* owned, interned */
	size_t nlit;
	unsigned *pat_of;       /* owned; patterns anchored by each literal */
	unsigned *in_pat;       /* owned; patterns using each literal */
	unsigned *always_text;  /* owned; candidates of every text record */
	size_t nalways_text;
	unsigned *always_json;  /* owned; ... of every JSON record */
	size_t nalways_json;
	unsigned char *pairs;   /* owned; 65536 flags: the byte pair (first
				   byte + 256 * second) files a literal; a
				   byte each, as text touches about 12 KiB
				   of it, which stays in L1 */
	struct pf_slot *slot;   /* owned; open addressing by pair */
	unsigned slot_mask;
	struct pf_entry *entry; /* owned */
	uint32_t *lit_gen;      /* owned; generation a literal was seen */
	uint32_t *pat_gen;      /* owned; generation a pattern was decided */
	uint32_t gen;
	unsigned *seen;         /* owned; training: literals of this record */
	size_t nseen;
	uint32_t *pair_count;   /* owned while training: byte pair counts */
	unsigned trained;       /* records scanned while training */
	bool training;
	unsigned *out;          /* owned; the candidates of the last scan */
	size_t nout;
	unsigned *pend;         /* owned; patterns whose anchor the scan
				   found, decided once it is done */
	size_t npend;
	bool built;
	bool vec;               /* the vector front end is in use */
	unsigned char vtab[2][32]; /* its byte sets, as shuffle tables:
				      rows for bytes below 128, then above */
	unsigned char pad[64];  /* the last bytes of a record, copied;
				   bytes past its end are never looked at */
};

struct prefilter *prefilter_new(void)
{
	return xcalloc(1, sizeof(struct prefilter));
}

static void free_tables(struct prefilter *pf)
{
	free(pf->slot);
	free(pf->entry);
	pf->slot = NULL;
	pf->entry = NULL;
	if (pf->pairs)
		memset(pf->pairs, 0, 65536);
}

void prefilter_free(struct prefilter *pf)
{
	size_t i;

	if (pf == NULL)
		return;
	for (i = 0; i < pf->npat; i++) {
		size_t k;

		free(pf->pat[i].clause);
		free(pf->pat[i].lit);
		for (k = 0; k < pf->pat[i].nrun; k++)
			free(pf->pat[i].run[k].v);
		free(pf->pat[i].run);
	}
	free(pf->pat);
	for (i = 0; i < pf->nlit; i++)
		free(pf->lit[i].s);
	free(pf->lit);
	free(pf->pat_of);
	free(pf->in_pat);
	free(pf->always_text);
	free(pf->always_json);
	free_tables(pf);
	free(pf->pairs);
	free(pf->lit_gen);
	free(pf->pat_gen);
	free(pf->seen);
	free(pf->pair_count);
	free(pf->out);
	free(pf->pend);
	free(pf);
}

/*
 * The word lit_at compares: the first 8 bytes of the literal (fewer when
 * shorter, the mask covers them) in memory order, so that a word loaded
 * from text compares on either byte order. A letter of a case-insensitive
 * literal is stored in lower case, and OR 0x20 folds exactly 'A'-'Z' and
 * 'a'-'z' onto it.
 */
static void lit_word(struct pf_lit *l)
{
	unsigned char w[8] = { 0 }, m[8] = { 0 }, f[8] = { 0 };
	size_t k;

	for (k = 0; k < l->len && k < 8; k++) {
		unsigned char c = (unsigned char)l->s[k];

		w[k] = c;
		m[k] = 0xff;
		if (l->ci && c >= 'a' && c <= 'z')
			f[k] = 0x20;
	}
	memcpy(&l->word, w, 8);
	memcpy(&l->wmask, m, 8);
	memcpy(&l->wfold, f, 8);
}

static unsigned intern(struct prefilter *pf, const char *s, size_t len,
		       bool ci)
{
	size_t i;

	for (i = 0; i < pf->nlit; i++)
		if (pf->lit[i].len == len && pf->lit[i].ci == ci &&
		    memcmp(pf->lit[i].s, s, len) == 0)
			return (unsigned)i;
	pf->lit = xrealloc(pf->lit, (pf->nlit + 1) * sizeof(*pf->lit));
	memset(&pf->lit[pf->nlit], 0, sizeof(pf->lit[0]));
	pf->lit[pf->nlit].s = xmemdup(s, len);
	pf->lit[pf->nlit].len = len;
	pf->lit[pf->nlit].ci = ci;
	pf->lit[pf->nlit].voff = -1;
	{
		struct pf_lit *l = &pf->lit[pf->nlit];
		size_t k;

		for (k = 1; k < len; k++)
			if (freq_ci((unsigned char)s[k], ci) <
			    freq_ci((unsigned char)s[l->roff], ci))
				l->roff = k;
		l->rare = ci && s[l->roff] >= 'a' && s[l->roff] <= 'z' ? -1 :
			  (unsigned char)s[l->roff];
		lit_word(l);
	}
	return (unsigned)pf->nlit++;
}

/* Is the JSON key plain enough to appear as itself inside quotes? */
static bool plain_key(const char *k)
{
	for (; *k; k++)
		if ((unsigned char)*k < 0x20 || (unsigned char)*k >= 0x80 ||
		    *k == '"' || *k == '\\' || *k == '/')
			return false;
	return true;
}

void prefilter_add(struct prefilter *pf, unsigned id, const char *re,
		   const char *literal, const char *key, unsigned flags)
{
	struct cnf f = { NULL, 0, NULL, 0 };
	struct pf_pat *pp;
	bool ci = (flags & PREFILTER_CI) != 0;
	size_t i, j;

	if (id >= pf->npat) {
		pf->pat = xrealloc(pf->pat, (id + 1) * sizeof(*pf->pat));
		memset(pf->pat + pf->npat, 0,
		       (id + 1 - pf->npat) * sizeof(*pf->pat));
		pf->npat = id + 1;
	}
	pp = &pf->pat[id];
	pp->added = true;
	pp->flags = flags;
	if (flags & PREFILTER_JSON_ONLY) {
		if (key && plain_key(key)) {
			struct buf q;

			buf_init(&q);
			buf_addf(&q, "\"%s\"", key);
			/* The literals of a case-insensitive pattern are kept
			 * in lower case ("httpStatus" then matches in any
			 * case: more candidates, never fewer). */
			if (ci)
				for (i = 0; i < q.len; i++)
					q.p[i] = (char)fold((unsigned char)q.p[i]);
			cnf_add_lit(&f, q.p, q.len);
			buf_release(&q);
		}
	} else if (re) {
		ci = derive(re, &f) || ci;
	}
	if (literal && strlen(literal) >= 2) {
		struct buf l;

		buf_init(&l);
		buf_adds(&l, literal);
		if (ci)
			for (i = 0; i < l.len; i++)
				l.p[i] = (char)fold((unsigned char)l.p[i]);
		cnf_add_lit(&f, l.p, l.len);
		buf_release(&l);
		cnf_tidy(&f, ci);
	}
	if (ci)
		pp->flags |= PREFILTER_CI;
	pp->clause = xcalloc(f.n + 1, sizeof(*pp->clause));
	for (i = 0; i < f.n; i++) {
		pp->clause[i].first = (unsigned)pp->nlit;
		pp->clause[i].n = (unsigned)f.v[i].n;
		pp->lit = xrealloc(pp->lit, (pp->nlit + f.v[i].n) *
				   sizeof(*pp->lit));
		for (j = 0; j < f.v[i].n; j++)
			pp->lit[pp->nlit++] = intern(pf, f.v[i].alt[j].s,
						     f.v[i].alt[j].len, ci);
	}
	pp->nclause = f.n;
	pp->run = xcalloc(f.nruns + 1, sizeof(*pp->run));
	for (i = 0; i < f.nruns; i++) {
		struct pf_run *r = &pp->run[pp->nrun++];
		unsigned best = UINT_MAX;

		r->v = f.runs[i].v;
		r->n = f.runs[i].n;
		f.runs[i].v = NULL;
		r->byte = -1;
		/* the item whose bytes are rarest in log text, summed */
		for (j = 0; j < r->n; j++) {
			unsigned w = 0, c;

			for (c = 0; c < 256; c++)
				if (set_has(&r->v[j], (unsigned char)c))
					w += freq((unsigned char)c);
			if (w < best) {
				best = w;
				r->anchor = j;
			}
		}
		if (set_count(&r->v[r->anchor]) == 1)
			for (j = 0; j < 256; j++)
				if (set_has(&r->v[r->anchor], (unsigned char)j))
					r->byte = (int)j;
	}
	cnf_free(&f);
}

struct prefilter *prefilter_copy(const struct prefilter *src)
{
	struct prefilter *pf = prefilter_new();
	size_t id, k;

	pf->pat = xcalloc(src->npat + 1, sizeof(*pf->pat));
	pf->npat = src->npat;
	for (id = 0; id < src->npat; id++) {
		const struct pf_pat *sp = &src->pat[id];
		struct pf_pat *pp = &pf->pat[id];

		if (!sp->added)
			continue;
		pp->added = true;
		pp->flags = sp->flags;
		pp->clause = xcalloc(sp->nclause + 1, sizeof(*pp->clause));
		memcpy(pp->clause, sp->clause,
		       sp->nclause * sizeof(*pp->clause));
		pp->nclause = sp->nclause;
		pp->lit = xcalloc(sp->nlit + 1, sizeof(*pp->lit));
		for (k = 0; k < sp->nlit; k++) {
			const struct pf_lit *l = &src->lit[sp->lit[k]];

			pp->lit[k] = intern(pf, l->s, l->len, l->ci);
		}
		pp->nlit = sp->nlit;
		pp->run = xcalloc(sp->nrun + 1, sizeof(*pp->run));
		for (k = 0; k < sp->nrun; k++) {
			pp->run[k] = sp->run[k];
			pp->run[k].v = xcalloc(sp->run[k].n + 1,
					       sizeof(*sp->run[k].v));
			memcpy(pp->run[k].v, sp->run[k].v,
			       sp->run[k].n * sizeof(*sp->run[k].v));
		}
		pp->nrun = sp->nrun;
	}
	prefilter_build(pf);
	return pf;
}

/* How often byte pair (a, b) was seen: in training, or guessed. */
static unsigned long pair_freq(const struct prefilter *pf, unsigned char a,
			       unsigned char b, bool ci)
{
	unsigned long f = 0;
	unsigned x, y;

	if (pf->pair_count == NULL)
		return (unsigned long)freq_ci(a, ci) * freq_ci(b, ci);
	for (x = 0; x < 2; x++)
		for (y = 0; y < 2; y++) {
			unsigned char c = a, d = b;

			if ((x && !(ci && a >= 'a' && a <= 'z')) ||
			    (y && !(ci && b >= 'a' && b <= 'z')))
				continue;
			c = x ? (unsigned char)(a - 32) : a;
			d = y ? (unsigned char)(b - 32) : b;
			f += pf->pair_count[c | d << 8];
		}
	return f;
}

/* Where in the literal the byte pair seen least often starts. */
static unsigned rarest_pair(const struct prefilter *pf, const struct pf_lit *l)
{
	const unsigned char *s = (const unsigned char *)l->s;
	unsigned long best_f = ULONG_MAX;
	unsigned best = 0;
	size_t k;

	for (k = 0; k + 1 < l->len; k++) {
		unsigned long f = pair_freq(pf, s[k], s[k + 1], l->ci);

		if (f < best_f) {
			best_f = f;
			best = (unsigned)k;
		}
	}
	return best;
}

static struct pf_slot *slot_of(const struct prefilter *pf, unsigned key)
{
	unsigned h = (key * 40503u) & pf->slot_mask;

	while (pf->slot[h].used && pf->slot[h].key != key)
		h = (h + 1) & pf->slot_mask;
	return &pf->slot[h];
}

/*
 * File the literals that have (*want)(pf, id) true under their rarest
 * byte pair: the 64 Kbit table the scan tests, and the entries by pair.
 */
static void file_literals(struct prefilter *pf, bool all)
{
	struct pf_entry *tmp = NULL;
	uint16_t *keys = NULL;
	size_t n = 0, i, total;

	free_tables(pf);
	for (i = 0; i < pf->nlit; i++) {
		const struct pf_lit *l = &pf->lit[i];
		const unsigned char *s = (const unsigned char *)l->s;
		unsigned off, x, y;

		if (l->len < 2 || (all ? l->ncpat : l->npat) == 0)
			continue;
		off = !all && l->voff >= 0 ? (unsigned)l->voff :
					      rarest_pair(pf, l);
		for (x = 0; x < 2; x++) {
			for (y = 0; y < 2; y++) {
				unsigned char a = s[off], b = s[off + 1];
				uint16_t key;

				if ((x && !(l->ci && a >= 'a' && a <= 'z')) ||
				    (y && !(l->ci && b >= 'a' && b <= 'z')))
					continue;
				a = x ? (unsigned char)(a - 32) : a;
				b = y ? (unsigned char)(b - 32) : b;
				key = (uint16_t)(a | b << 8);
				tmp = xrealloc(tmp, (n + 1) * sizeof(*tmp));
				keys = xrealloc(keys, (n + 1) * sizeof(*keys));
				tmp[n].lit = (unsigned)i;
				tmp[n].off = off;
				keys[n++] = key;
				pf->pairs[key] = 1;
			}
		}
	}
	for (pf->slot_mask = 15; pf->slot_mask + 1 < 2 * n + 2;)
		pf->slot_mask = pf->slot_mask * 2 + 1;
	pf->slot = xcalloc(pf->slot_mask + 1, sizeof(*pf->slot));
	pf->entry = xcalloc(n + 1, sizeof(*pf->entry));
	for (i = 0; i < n; i++) {
		struct pf_slot *s = slot_of(pf, keys[i]);

		s->used = true;
		s->key = keys[i];
		s->n++;
	}
	for (i = 0, total = 0; i <= pf->slot_mask; i++) {
		pf->slot[i].first = (unsigned)total;
		total += pf->slot[i].n;
		pf->slot[i].n = 0;
	}
	for (i = 0; i < n; i++) {
		struct pf_slot *s = slot_of(pf, keys[i]);

		pf->entry[s->first + s->n++] = tmp[i];
	}
	free(tmp);
	free(keys);
}

/* The patterns each literal anchors (pat_of), from clause[0]. */
static void index_anchors(struct prefilter *pf)
{
	size_t i, k, total = 0;
	unsigned *fill = xcalloc(pf->nlit + 1, sizeof(*fill));

	for (i = 0; i < pf->nlit; i++)
		pf->lit[i].npat = 0;
	for (i = 0; i < pf->npat; i++) {
		const struct pf_pat *pp = &pf->pat[i];

		for (k = 0; pp->nclause && k < pp->clause[0].n; k++)
			pf->lit[pp->lit[pp->clause[0].first + k]].npat++;
	}
	for (i = 0; i < pf->nlit; i++) {
		pf->lit[i].first = (unsigned)total;
		total += pf->lit[i].npat;
	}
	free(pf->pat_of);
	pf->pat_of = xcalloc(total + 1, sizeof(*pf->pat_of));
	for (i = 0; i < pf->npat; i++) {
		const struct pf_pat *pp = &pf->pat[i];

		for (k = 0; pp->nclause && k < pp->clause[0].n; k++) {
			unsigned l = pp->lit[pp->clause[0].first + k];

			pf->pat_of[pf->lit[l].first + fill[l]++] = (unsigned)i;
		}
	}
	free(fill);
}

/* The patterns using each literal in any clause (in_pat), for training. */
static void index_uses(struct prefilter *pf)
{
	size_t i, k, total = 0;
	unsigned *fill = xcalloc(pf->nlit + 1, sizeof(*fill));

	for (i = 0; i < pf->npat; i++)
		for (k = 0; k < pf->pat[i].nlit; k++)
			pf->lit[pf->pat[i].lit[k]].ncpat++;
	for (i = 0; i < pf->nlit; i++) {
		pf->lit[i].cfirst = (unsigned)total;
		total += pf->lit[i].ncpat;
	}
	pf->in_pat = xcalloc(total + 1, sizeof(*pf->in_pat));
	for (i = 0; i < pf->npat; i++)
		for (k = 0; k < pf->pat[i].nlit; k++) {
			unsigned l = pf->pat[i].lit[k];

			pf->in_pat[pf->lit[l].cfirst + fill[l]++] = (unsigned)i;
		}
	free(fill);
}

void prefilter_build(struct prefilter *pf)
{
	size_t i;

	for (i = 0; i < pf->npat; i++) {
		const struct pf_pat *pp = &pf->pat[i];
		bool json_only = (pp->flags & PREFILTER_JSON_ONLY) != 0;

		if (!pp->added || pp->nclause > 0)
			continue;
		if (!json_only) {
			pf->always_text = xrealloc(pf->always_text,
				(pf->nalways_text + 1) * sizeof(unsigned));
			pf->always_text[pf->nalways_text++] = (unsigned)i;
		}
		pf->always_json = xrealloc(pf->always_json,
			(pf->nalways_json + 1) * sizeof(unsigned));
		pf->always_json[pf->nalways_json++] = (unsigned)i;
	}
	index_uses(pf);
	index_anchors(pf);
	pf->lit_gen = xcalloc(pf->nlit + 1, sizeof(*pf->lit_gen));
	pf->pat_gen = xcalloc(pf->npat + 1, sizeof(*pf->pat_gen));
	pf->seen = xcalloc(pf->nlit + 1, sizeof(*pf->seen));
	pf->out = xcalloc(pf->npat + 1, sizeof(*pf->out));
	pf->pend = xcalloc(pf->npat + 1, sizeof(*pf->pend));
	pf->pair_count = xcalloc(65536, sizeof(*pf->pair_count));
	pf->pairs = xcalloc(65536, 1);
	pf->training = true;
	file_literals(pf, true);
	pf->built = true;
}

/* ---- the vector front end ---------------------------------------------- */

/*
 * The byte loop tests every byte pair of a record against the table of
 * filed pairs: about 7 instructions a byte, the largest share of the
 * framing thread's time. With AVX2 a test of single bytes goes in front
 * of it. After training each anchor literal is filed under a pair holding
 * one of its rarest bytes, as the pair's first byte (set F) or its second
 * (set S), preferring bytes already chosen; a position i is a candidate
 * only when t[i] is in F or t[i + 1] is in S. Membership of 32 bytes in a
 * set of bytes costs two byte shuffles (the low nibble of a byte selects
 * a row of the table, the high nibble a bit in it) and a few logical
 * instructions, and the sets hold a few percent of log text, so the exact
 * table sees a few positions a record instead of all of them. Results do
 * not change: every pair filed is a candidate where it occurs.
 */

/* Is the vector front end usable here (AVX2, not turned off)? */
static bool vec_supported(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	const char *e = getenv("LOGTRIAGE_NO_SIMD");

	if (e != NULL && *e != '\0')
		return false;
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") != 0;
#else
	return false;
#endif
}

/* Byte c (and its other case when ci) into the shuffle tables of a set. */
static void vtab_add(unsigned char *tab, unsigned char c, bool ci)
{
	tab[(c & 15) + (c & 128 ? 16 : 0)] |=
		(unsigned char)(1u << ((c >> 4) & 7));
	if (ci && c >= 'a' && c <= 'z')
		vtab_add(tab, (unsigned char)(c - 32), false);
}

static bool vtab_has(const unsigned char *tab, unsigned char c)
{
	return (tab[(c & 15) + (c & 128 ? 16 : 0)] >> ((c >> 4) & 7)) & 1;
}

/*
 * What adding byte c (and its other case when ci) to a set costs: the
 * share of text bytes that become candidates.
 */
static double vtab_cost(const unsigned char *tab, unsigned char c, bool ci,
			const double *bf)
{
	double cost = vtab_has(tab, c) ? 0 : bf[c];

	if (ci && c >= 'a' && c <= 'z')
		cost += vtab_cost(tab, (unsigned char)(c - 32), false, bf);
	return cost;
}

/*
 * Choose where each anchor literal is filed (voff) and build the sets,
 * from the byte frequencies counted in training (pair_count). Row n of
 * a set's first table has bit h set when byte 16 * h + n is in the set;
 * the second table does the same for the bytes from 128 on.
 */
static void plan_vector(struct prefilter *pf)
{
	double bf[256], total = 0;
	unsigned *order;
	size_t i, k, n = 0;
	unsigned c;

	pf->vec = vec_supported();
	if (!pf->vec)
		return;
	memset(pf->vtab, 0, sizeof(pf->vtab));
	for (c = 0; c < 256; c++)
		bf[c] = 1;
	for (c = 0; c < 65536; c++)
		bf[c & 255] += pf->pair_count[c];
	for (c = 0; c < 256; c++)
		total += bf[c];
	for (c = 0; c < 256; c++)
		bf[c] /= total;
	/* shorter literals have fewer choices: place them first */
	order = xcalloc(pf->nlit + 1, sizeof(*order));
	for (i = 0; i < pf->nlit; i++)
		if (pf->lit[i].npat > 0 && pf->lit[i].len >= 2)
			order[n++] = (unsigned)i;
	for (i = 1; i < n; i++) {
		unsigned t = order[i];

		for (k = i; k > 0 && pf->lit[order[k - 1]].len >
				     pf->lit[t].len; k--)
			order[k] = order[k - 1];
		order[k] = t;
	}
	for (i = 0; i < n; i++) {
		struct pf_lit *l = &pf->lit[order[i]];
		const unsigned char *s = (const unsigned char *)l->s;
		double best = 0;
		int best_k = -1, best_side = 0;
		int side;

		/* side 0: byte k starts the pair (k, k + 1), in F;
		   side 1: byte k ends the pair (k - 1, k), in S */
		for (k = 0; k < l->len; k++)
			for (side = 0; side < 2; side++) {
				double cost;
				size_t start = side ? k - 1 : k;

				if ((side == 0 && k + 1 >= l->len) ||
				    (side == 1 && k == 0))
					continue;
				/* a candidate costs a table test, a filed
				   pair that occurs a verification, about
				   four times as much */
				cost = vtab_cost(pf->vtab[side], s[k], l->ci,
						 bf) +
				       4.0 * (double)pair_freq(pf, s[start],
						s[start + 1], l->ci) / total;
				if (best_k < 0 || cost < best) {
					best = cost;
					best_k = (int)k;
					best_side = side;
				}
			}
		vtab_add(pf->vtab[best_side], s[best_k], l->ci);
		l->voff = best_side ? best_k - 1 : best_k;
	}
	free(order);
}

/*
 * How many training records held one of a clause's literals (at most);
 * 0 when every literal of it is filed: after the scan such a clause is
 * answered without a search.
 */
static unsigned long clause_records(const struct prefilter *pf,
				    const struct pf_pat *pp, size_t c)
{
	unsigned long n = 0;
	size_t k;
	bool filed = true;

	for (k = 0; k < pp->clause[c].n; k++) {
		const struct pf_lit *l =
			&pf->lit[pp->lit[pp->clause[c].first + k]];

		n += l->records;
		filed = filed && l->filed;
	}
	return filed ? 0 : n;
}

/*
 * The clauses after the anchor in the order they are checked: those the
 * scan answered first, then the one the fewest records held, and of two
 * held as often the one with fewer literals to look for. Where an anchor
 * is common, most checks fail, and the first clause tried should be the
 * cheap one that fails: for the slow-request pattern anchored on "ms",
 * " /" (one search for '/', absent from SQL echo lines) before the seven
 * HTTP methods. The order never changes what passes.
 */
static void order_clauses(const struct prefilter *pf, struct pf_pat *pp)
{
	size_t i, j;

	for (i = 2; i < pp->nclause; i++) {
		struct pf_clause t = pp->clause[i];
		unsigned long n = clause_records(pf, pp, i);

		for (j = i; j > 1; j--) {
			unsigned long m = clause_records(pf, pp, j - 1);

			if (m < n || (m == n && pp->clause[j - 1].n <= t.n))
				break;
			pp->clause[j] = pp->clause[j - 1];
		}
		pp->clause[j] = t;
	}
}

/*
 * End of training: each pattern anchors on the clause whose literals the
 * fewest records held (the static score breaks ties), each anchor is
 * filed under its rarest byte pair as counted, and the scan files only
 * anchors from now on.
 */
static void finish_training(struct prefilter *pf)
{
	size_t i, c, k;

	for (i = 0; i < pf->npat; i++) {
		struct pf_pat *pp = &pf->pat[i];
		bool ci = (pp->flags & PREFILTER_CI) != 0;
		size_t best = 0;
		unsigned long best_n = ULONG_MAX;
		unsigned best_sc = 0;

		for (c = 0; c < pp->nclause; c++) {
			unsigned long n = 0;
			unsigned sc = UINT_MAX;

			for (k = 0; k < pp->clause[c].n; k++) {
				const struct pf_lit *l =
					&pf->lit[pp->lit[pp->clause[c].first + k]];
				unsigned s = lit_score(l->s, l->len, ci);

				n += l->records;
				if (s < sc)
					sc = s;
			}
			if (n < best_n || (n == best_n && sc > best_sc)) {
				best = c;
				best_n = n;
				best_sc = sc;
			}
		}
		if (best > 0) {
			struct pf_clause t = pp->clause[0];

			pp->clause[0] = pp->clause[best];
			pp->clause[best] = t;
		}
	}
	index_anchors(pf);
	for (i = 0; i < pf->nlit; i++)
		pf->lit[i].filed = pf->lit[i].len >= 2 && pf->lit[i].npat > 0;
	for (i = 0; i < pf->npat; i++)
		order_clauses(pf, &pf->pat[i]);
	plan_vector(pf);
	file_literals(pf, false);
	free(pf->pair_count);
	pf->pair_count = NULL;
	pf->training = false;
}

size_t prefilter_always(const struct prefilter *pf)
{
	return pf->nalways_text;
}

bool prefilter_is_always(const struct prefilter *pf, unsigned id)
{
	return id < pf->npat && pf->pat[id].added && pf->pat[id].nclause == 0 &&
	       pf->pat[id].nrun == 0;
}

/*
 * Does lit occur at t[0..]? avail bytes are readable from t (the caller
 * checked avail >= l->len). With 8 readable, its first 8 bytes are
 * compared as one word: most calls are pair hits that are not the
 * literal, and this answers them without a call to memcmp.
 */
static bool lit_at(const struct pf_lit *l, const unsigned char *t,
		   size_t avail)
{
	size_t i = 0;

	if (avail >= 8) {
		uint64_t w;

		memcpy(&w, t, 8);
		if (((w | l->wfold) & l->wmask) != l->word)
			return false;
		if (l->len <= 8)
			return true;
		i = 8;
	}
	if (!l->ci)
		return memcmp(t + i, l->s + i, l->len - i) == 0;
	for (; i < l->len; i++)
		if (fold(t[i]) != (unsigned char)l->s[i])
			return false;
	return true;
}

/*
 * Does lit occur anywhere in t? memchr for its rarest byte (l->rare, at
 * offset l->roff), then compare: on a short record this is several times
 * cheaper than memmem, whose set-up costs more than the search.
 */
static bool lit_in(const struct pf_lit *l, const unsigned char *t,
		   size_t len)
{
	const unsigned char *p, *end;

	if (l->len > len)
		return false;
	end = t + (len - l->len) + l->roff;
	if (l->rare >= 0) {
		for (p = t + l->roff; p <= end; p++) {
			p = memchr(p, l->rare, (size_t)(end - p) + 1);
			if (p == NULL)
				return false;
			if (lit_at(l, p - l->roff,
				   (size_t)(t + len - (p - l->roff))))
				return true;
		}
		return false;
	}
	for (p = t + l->roff; p <= end; p++)
		if (fold(*p) == (unsigned char)l->s[l->roff] &&
		    lit_at(l, p - l->roff, (size_t)(t + len - (p - l->roff))))
			return true;
	return false;
}

/* Does the run occur at t[0..r->n)? */
static bool run_at(const struct pf_run *r, const unsigned char *t)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!set_has(&r->v[i], t[i]))
			return false;
	return true;
}

/* Does the run occur anywhere in t? Its rarest item is looked for first. */
static bool run_in(const struct pf_run *r, const unsigned char *t,
		   size_t len)
{
	const unsigned char *p, *end;

	if (r->n > len)
		return false;
	p = t + r->anchor;
	end = t + (len - r->n) + r->anchor;
	if (r->byte >= 0) {
		while (p <= end) {
			p = memchr(p, r->byte, (size_t)(end - p) + 1);
			if (p == NULL)
				return false;
			if (run_at(r, p - r->anchor))
				return true;
			p++;
		}
		return false;
	}
	for (; p <= end; p++)
		if (set_has(&r->v[r->anchor], *p) && run_at(r, p - r->anchor))
			return true;
	return false;
}

/*
 * Do the clauses of pp hold, and its runs of sets? Clauses from 'from'
 * on are checked: a literal already seen in this record counts; after
 * training, once the scan is done, an anchor not seen is absent (the
 * scan finds every one); other literals are looked for.
 */
static bool clauses_hold(const struct prefilter *pf, const struct pf_pat *pp,
			 size_t from, const unsigned char *t, size_t len)
{
	size_t c, k;

	for (c = from; c < pp->nclause; c++) {
		bool found = false;

		for (k = 0; k < pp->clause[c].n && !found; k++) {
			unsigned l = pp->lit[pp->clause[c].first + k];

			if (pf->lit_gen[l] == pf->gen)
				found = true;
			else if (!pf->training && !pf->lit[l].filed)
				found = lit_in(&pf->lit[l], t, len);
		}
		if (!found)
			return false;
	}
	for (k = 0; k < pp->nrun; k++)
		if (!run_in(&pp->run[k], t, len))
			return false;
	return true;
}

/*
 * The byte pair at t[i] files some literal: verify those filed under it.
 * After training a literal found is an anchor, and its patterns are
 * queued, to be decided when the scan is done: by then every anchor in
 * the record has been seen, so a clause of anchors is answered without
 * a search ("ms", the anchor of a slow-request pattern, is a clause of
 * the one anchored on "HTTP/", and absent from access lines). While
 * training, found literals are only noted.
 */
static void pair_hit(struct prefilter *pf, const unsigned char *t, size_t len,
		     size_t i, unsigned key, bool json)
{
	const struct pf_slot *s = slot_of(pf, key);
	size_t e, k;

	for (e = s->first; e < s->first + s->n; e++) {
		const struct pf_entry *en = &pf->entry[e];
		const struct pf_lit *l = &pf->lit[en->lit];

		if (pf->lit_gen[en->lit] == pf->gen || i < en->off ||
		    i - en->off + l->len > len ||
		    !lit_at(l, t + i - en->off, len - (i - en->off)))
			continue;
		pf->lit_gen[en->lit] = pf->gen;
		if (pf->training) {
			pf->seen[pf->nseen++] = en->lit;
			continue;
		}
		for (k = l->first; k < l->first + l->npat; k++) {
			unsigned id = pf->pat_of[k];
			const struct pf_pat *pp = &pf->pat[id];

			if (pf->pat_gen[id] == pf->gen)
				continue;
			pf->pat_gen[id] = pf->gen;
			if ((pp->flags & PREFILTER_JSON_ONLY) && !json)
				continue;
			pf->pend[pf->npend++] = id;
		}
	}
}

/* Training: decide the patterns of the literals seen, count, maybe finish. */
static void train(struct prefilter *pf, const unsigned char *t, size_t len,
		  bool json)
{
	size_t i, k;

	for (i = 0; i + 1 < len; i++)
		pf->pair_count[t[i] | (unsigned)t[i + 1] << 8]++;
	for (i = 0; i < pf->nseen; i++) {
		const struct pf_lit *l = &pf->lit[pf->seen[i]];

		pf->lit[pf->seen[i]].records++;
		for (k = l->cfirst; k < l->cfirst + l->ncpat; k++) {
			unsigned id = pf->in_pat[k];
			const struct pf_pat *pp = &pf->pat[id];

			if (pf->pat_gen[id] == pf->gen)
				continue;
			pf->pat_gen[id] = pf->gen;
			if ((pp->flags & PREFILTER_JSON_ONLY) && !json)
				continue;
			if (clauses_hold(pf, pp, 0, t, len))
				pf->out[pf->nout++] = id;
		}
	}
	pf->nseen = 0;
	if (++pf->trained == TRAIN_RECORDS)
		finish_training(pf);
}

/* Is the byte pair key filed? */
#define PAIR_FILED(pairs, key) ((pairs)[key])

/*
 * The hot loop: one table test per byte pair, eight pairs per 64-bit
 * word (about 5 instructions a byte instead of 13 when the pairs are
 * built from single bytes). Return where the byte loop takes over.
 */
static size_t scan_words(struct prefilter *pf, const unsigned char *t,
			 size_t len, bool json)
{
	const unsigned char *pairs = pf->pairs;
	size_t i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PAIR_AT(j, key) do { \
		unsigned k_ = (key); \
		if (PAIR_FILED(pairs, k_)) \
			pair_hit(pf, t, len, i + (j), k_, json); \
	} while (0)
	for (; i + 9 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, t + i, 8);
		PAIR_AT(0, (unsigned)w & 0xffff);
		PAIR_AT(1, (unsigned)(w >> 8) & 0xffff);
		PAIR_AT(2, (unsigned)(w >> 16) & 0xffff);
		PAIR_AT(3, (unsigned)(w >> 24) & 0xffff);
		PAIR_AT(4, (unsigned)(w >> 32) & 0xffff);
		PAIR_AT(5, (unsigned)(w >> 40) & 0xffff);
		PAIR_AT(6, (unsigned)(w >> 48) & 0xffff);
		PAIR_AT(7, (unsigned)(w >> 56) | (unsigned)t[i + 8] << 8);
	}
#undef PAIR_AT
#endif
	return i;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PF_HAVE_VEC 1

/* Bit j set: byte j of v is in the set whose tables are lo and hi. */
__attribute__((target("avx2")))
static inline uint32_t vec_member(__m256i v, __m256i lo, __m256i hi)
{
	/* bit of high nibble h in a row: 1 << (h & 7), in lo below 8 */
	const __m256i bit_lo = _mm256_setr_epi8(
		1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i bit_hi = _mm256_setr_epi8(
		0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, -128,
		0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, -128);
	const __m256i m0f = _mm256_set1_epi8(0x0f);
	__m256i ln = _mm256_and_si256(v, m0f);
	__m256i hn = _mm256_and_si256(_mm256_srli_epi16(v, 4), m0f);
	__m256i in = _mm256_or_si256(
		_mm256_and_si256(_mm256_shuffle_epi8(lo, ln),
				 _mm256_shuffle_epi8(bit_lo, hn)),
		_mm256_and_si256(_mm256_shuffle_epi8(hi, ln),
				 _mm256_shuffle_epi8(bit_hi, hn)));

	return ~(uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(in, _mm256_setzero_si256()));
}

/* Both halves of a set's tables, each in both lanes. */
__attribute__((target("avx2")))
static inline __m256i vtab_load(const unsigned char *tab)
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const void *)tab));
}

/*
 * The vector front end over a record: 32 positions a step, the
 * candidates tested against the exact pair table. No load reads past
 * the record: the last step of a record of 33 bytes or more loads the
 * 33 bytes that end it, again from before where the step before
 * stopped, and drops the positions already tested; a shorter record is
 * copied first.
 */
__attribute__((target("avx2")))
static void scan_vec(struct prefilter *pf, const unsigned char *t,
		     size_t len, bool json)
{
	const __m256i f_lo = vtab_load(pf->vtab[0]);
	const __m256i f_hi = vtab_load(pf->vtab[0] + 16);
	const __m256i s_lo = vtab_load(pf->vtab[1]);
	const __m256i s_hi = vtab_load(pf->vtab[1] + 16);
	const unsigned char *pairs = pf->pairs;
	size_t i, b;

	for (i = 0; i + 1 < len; i += 32) {
		const unsigned char *p;
		uint32_t cand, keep = ~0u, filed = 0;

		b = i;
		if (i + 33 > len && len >= 33) {
			/* positions b + j for j < 32 end at len - 2 */
			b = len - 33;
			keep = ~((1u << (i - b)) - 1);
			p = t + b;
		} else if (i + 33 > len) {
			memcpy(pf->pad, t + i, len - i);
			p = pf->pad;
			keep = (1u << (len - 1 - i)) - 1;
		} else {
			p = t + i;
		}
		cand = (vec_member(_mm256_loadu_si256((const void *)p),
				   f_lo, f_hi) |
			vec_member(_mm256_loadu_si256((const void *)(p + 1)),
				   s_lo, s_hi)) & keep;
		/*
		 * Most candidates' pairs are not filed. Their table bits are
		 * gathered first, without a branch on each (whose outcome
		 * the processor cannot predict), and only the filed ones are
		 * visited.
		 */
		while (cand) {
			unsigned j = (unsigned)__builtin_ctz(cand);

			filed |= (uint32_t)PAIR_FILED(pairs, p[j] |
				(unsigned)p[j + 1] << 8) << j;
			cand &= cand - 1;
		}
		while (filed) {
			unsigned j = (unsigned)__builtin_ctz(filed);

			filed &= filed - 1;
			pair_hit(pf, t, len, b + j,
				 p[j] | (unsigned)p[j + 1] << 8, json);
		}
	}
}
#endif

const unsigned *prefilter_scan(struct prefilter *pf, const char *text,
			       size_t len, bool json, size_t *n)
{
	const unsigned char *t = (const unsigned char *)text;
	const unsigned char *pairs;
	size_t i;

	if (!pf->built)
		prefilter_build(pf);
	if (++pf->gen == 0) {
		memset(pf->lit_gen, 0, pf->nlit * sizeof(*pf->lit_gen));
		memset(pf->pat_gen, 0, pf->npat * sizeof(*pf->pat_gen));
		pf->gen = 1;
	}
	pf->nout = json ? pf->nalways_json : pf->nalways_text;
	if (pf->nout)
		memcpy(pf->out, json ? pf->always_json : pf->always_text,
		       pf->nout * sizeof(*pf->out));
	pf->npend = 0;
	pairs = pf->pairs;
#ifdef PF_HAVE_VEC
	if (pf->vec && !pf->training)
		scan_vec(pf, t, len, json);
	else
#endif
	{
		for (i = scan_words(pf, t, len, json); i + 1 < len; i++) {
			unsigned key = t[i] | (unsigned)t[i + 1] << 8;

			if (PAIR_FILED(pairs, key))
				pair_hit(pf, t, len, i, key, json);
		}
	}
	if (pf->training)
		train(pf, t, len, json);
	for (i = 0; i < pf->npend; i++)
		if (clauses_hold(pf, &pf->pat[pf->pend[i]], 1, t, len))
			pf->out[pf->nout++] = pf->pend[i];
	*n = pf->nout;
	return pf->out;
}

#ifdef LOGTRIAGE_TESTING
/*
 * A run as text: [...] per item, a single byte as itself, the digits as
 * \d, and any other set as {N} with its size.
 */
static void describe_run(struct buf *b, const struct srun *r)
{
	struct bset d;
	size_t i;

	memset(&d, 0, sizeof(d));
	set_range(&d, '0', '9');
	buf_addch(b, '<');
	for (i = 0; i < r->n; i++) {
		const struct bset *s = &r->v[i];
		unsigned n = set_count(s), c;

		if (memcmp(s, &d, sizeof(d)) == 0) {
			buf_adds(b, "\\d");
			continue;
		}
		if (n == 1) {
			for (c = 0; c < 256; c++)
				if (set_has(s, (unsigned char)c))
					buf_addch(b, (char)c);
			continue;
		}
		if (n <= 10) {
			buf_addch(b, '[');
			for (c = 0; c < 256; c++)
				if (set_has(s, (unsigned char)c))
					buf_addch(b, (char)c);
			buf_addch(b, ']');
			continue;
		}
		buf_addf(b, "{%u}", n);
	}
	buf_addch(b, '>');
}

char *prefilter_describe(const char *re)
{
	struct cnf f = { NULL, 0, NULL, 0 };
	struct buf b;
	bool ci = derive(re, &f);
	size_t i, j;

	buf_init(&b);
	for (i = 0; i < f.n; i++) {
		if (i)
			buf_adds(&b, " & ");
		for (j = 0; j < f.v[i].n; j++) {
			if (j)
				buf_adds(&b, " | ");
			buf_addch(&b, '"');
			buf_add(&b, f.v[i].alt[j].s, f.v[i].alt[j].len);
			buf_addch(&b, '"');
			if (ci)
				buf_addch(&b, 'i');
		}
	}
	for (i = 0; i < f.nruns; i++) {
		buf_adds(&b, b.len ? " & " : "");
		describe_run(&b, &f.runs[i]);
	}
	cnf_free(&f);
	buf_addch(&b, '\0');
	return buf_detach(&b, NULL);
}
#endif

/*
 * redact.c - secret redaction, the last step before the store and the
 * report writers see any text: a literal prefilter, PCRE2 detectors that
 * find where each secret is, and a SipHash-2-4 marker that replaces it.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "common.h"
#include <pcre2.h>
#include "buf.h"
#include "redact.h"

/*
 * PCRE2 backstop. Every pattern below is linear, so a normal record stays
 * far below this; a record that reaches it is replaced, see run_detector().
 */
#define REDACT_MATCH_LIMIT 10000000

/*
 * Passes over the text before it is taken as settled. A secret found in
 * one pass changes the bytes next to it for the next one (a marker ends
 * in ']' where the secret ended in a letter), so a pass over redacted
 * text can find what the pass before could not; redact_append() repeats
 * until a pass finds nothing. Texts seen so far settle after the second
 * pass; one still changing after the last is replaced from its first
 * secret to its end (fail closed).
 */
#define REDACT_MAX_PASSES 4

/* Longest name the key/value detector reads (the pattern says {0,63}). */
#define NAME_MAX_LEN 64
/* Words in a name, "aws_secret_access_key" has 4. */
#define NAME_MAX_WORDS 16

#ifdef LOGTRIAGE_TESTING
bool redact_skip_prefilter;
#else
static const bool redact_skip_prefilter = false;
#endif

/*
 * Prefilter gates. Each bit says "the text holds a literal this detector
 * family cannot match without", so redact_append() runs only those:
 *
 *  GATE_URL     "://" or ":\/\/"              URL userinfo passwords
 *  GATE_NAME    pass pwd secret token key      key/value, Authorization,
 *               authoriz cookie (any case)     Cookie
 *  GATE_BEARER  bearer (any case)              Bearer tokens
 *  GATE_JWT     eyJ                            JWTs
 *  GATE_PEM     key (any case)                 "PRIVATE KEY" blocks
 *  GATE_VENDOR  AKIA ASIA AIza sk_ rk_ sk-     vendor key shapes,
 *               gh?_ github_pat_ glpat- xox    password hashes
 *               SG. npm_ hf_ whsec_ ya29. $2
 */
enum gate {
	GATE_URL = 1 << 0,
	GATE_NAME = 1 << 1,
	GATE_BEARER = 1 << 2,
	GATE_JWT = 1 << 3,
	GATE_PEM = 1 << 4,
	GATE_VENDOR = 1 << 5,
	GATE_ALL = (1 << 6) - 1
};

/*
 * Every prefilter literal holds an anchor byte (see gates_at) next to a
 * byte it cannot do without: ':' before '/', 'p' before 'a' or 'w', 'y'
 * before 'J'... Each such pair is one bit of these two tables, so
 * pair_first[a] & pair_second[b] says "a then b may belong to a literal".
 * The scan calls gates_at() only there: in log text that is under 1% of
 * the bytes, where testing anchor bytes alone would be 11%.
 */
enum pair_bit {
	PAIR_URL = 1 << 0,	/* :/ :\   "://", ":\/\/" */
	PAIR_P = 1 << 1,	/* pa pw    pass..., pwd */
	PAIR_C = 1 << 2,	/* cr co    secret, cookie */
	PAIR_K = 1 << 3,	/* ke k_ k- token, key, sk_ rk_ sk- */
	PAIR_IZ = 1 << 4,	/* iz Iz    authoriz, AIza */
	PAIR_BE = 1 << 5,	/* be       bearer */
	PAIR_YJ = 1 << 6,	/* yJ       eyJ */
	PAIR_I = 1 << 7,	/* KI SI    AKIA, ASIA */
	PAIR_G = 1 << 8,	/* gh gi gl gh?_, github_pat_, glpat- */
	PAIR_XO = 1 << 9,	/* xo       xox */
	PAIR_SG = 1 << 10,	/* SG       SG. */
	PAIR_US = 1 << 11,	/* m_ f_ c_ npm_, hf_, whsec_ */
	PAIR_YA = 1 << 12,	/* ya       ya29. */
	PAIR_DOLLAR = 1 << 13	/* $2 $a    $2b$, $argon2 */
};

static const uint16_t pair_first[256] = {
	[':'] = PAIR_URL,
	['p'] = PAIR_P, ['P'] = PAIR_P,
	['c'] = PAIR_C | PAIR_US, ['C'] = PAIR_C,
	['k'] = PAIR_K, ['K'] = PAIR_K | PAIR_I,
	['i'] = PAIR_IZ, ['I'] = PAIR_IZ,
	['b'] = PAIR_BE, ['B'] = PAIR_BE,
	['y'] = PAIR_YJ | PAIR_YA,
	['S'] = PAIR_I | PAIR_SG,
	['g'] = PAIR_G,
	['x'] = PAIR_XO,
	['m'] = PAIR_US, ['f'] = PAIR_US,
	['$'] = PAIR_DOLLAR,
};

static const uint16_t pair_second[256] = {
	['/'] = PAIR_URL, ['\\'] = PAIR_URL,
	['a'] = PAIR_P | PAIR_YA | PAIR_DOLLAR, ['A'] = PAIR_P,
	['w'] = PAIR_P, ['W'] = PAIR_P,
	['r'] = PAIR_C, ['R'] = PAIR_C,
	['o'] = PAIR_C | PAIR_XO, ['O'] = PAIR_C,
	['e'] = PAIR_K | PAIR_BE, ['E'] = PAIR_K | PAIR_BE,
	['_'] = PAIR_K | PAIR_US, ['-'] = PAIR_K,
	['z'] = PAIR_IZ, ['Z'] = PAIR_IZ,
	['J'] = PAIR_YJ,
	['I'] = PAIR_I,
	['h'] = PAIR_G, ['i'] = PAIR_G, ['l'] = PAIR_G,
	['G'] = PAIR_SG,
	['2'] = PAIR_DOLLAR,
};

/* Bytes that end an unquoted value (see redact.h). */
static const bool value_stop[256] = {
	[' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true,
	['\v'] = true, ['\f'] = true, ['\0'] = true, ['"'] = true,
	['\''] = true, ['`'] = true, ['&'] = true, [','] = true,
	[';'] = true, [')'] = true, ['}'] = true, [']'] = true,
	['|'] = true, ['<'] = true, ['>'] = true, ['\\'] = true,
};

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static inline bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(unsigned char c)
{
	return is_upper(c) || is_lower(c);
}

static inline bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Does s[i..len) start with lit, exactly? */
static bool has_at(const char *s, size_t len, size_t i, const char *lit)
{
	size_t n = strlen(lit);

	return i <= len && len - i >= n && memcmp(s + i, lit, n) == 0;
}

/* Does s[i..len) start with lit (lowercase) in any case? */
static bool has_at_ci(const char *s, size_t len, size_t i, const char *lit)
{
	size_t k;

	for (k = 0; lit[k] != '\0'; k++)
		if (i + k >= len || lower((unsigned char)s[i + k]) != lit[k])
			return false;
	return true;
}

/* Is s[0..n) equal to the lowercase word w in any case? */
static bool equals_ci(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && has_at_ci(s, n, 0, w);
}

/* Is there a marker "[REDACTED:xxxxxx]" at s[i]? */
static bool is_marker_at(const char *s, size_t len, size_t i)
{
	size_t k;

	if (!has_at(s, len, i, "[REDACTED:") || len - i < REDACT_MARKER_LEN)
		return false;
	for (k = 10; k < 16; k++) {
		unsigned char c = (unsigned char)s[i + k];

		if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
			return false;
	}
	return s[i + 16] == ']';
}

/*
 * The gates whose literal is recognized at anchor byte s[i]. Every literal
 * has exactly one anchor byte, so checking every byte would find them all;
 * prefilter() checks only the bytes of the pairs below, which is the same.
 */
static unsigned gates_at(const char *s, size_t len, size_t i)
{
	unsigned g = 0;

	switch (s[i]) {
	case ':':
		if (has_at(s, len, i + 1, "//") ||
		    has_at(s, len, i + 1, "\\/\\/"))
			g |= GATE_URL;
		break;
	case 'p': case 'P':
		if (has_at_ci(s, len, i + 1, "ass") ||
		    has_at_ci(s, len, i + 1, "wd"))
			g |= GATE_NAME;
		break;
	case 'c': case 'C':
		if ((i >= 2 && has_at_ci(s, len, i - 2, "secret")) ||
		    has_at_ci(s, len, i, "cookie"))
			g |= GATE_NAME;
		break;
	case 'k': case 'K':
		if (i >= 2 && has_at_ci(s, len, i - 2, "token"))
			g |= GATE_NAME;
		if (has_at_ci(s, len, i, "key"))
			g |= GATE_NAME | GATE_PEM;
		if (s[i] == 'k' && i >= 1 && i + 1 < len &&
		    (s[i - 1] == 's' || s[i - 1] == 'r') &&
		    (s[i + 1] == '_' || s[i + 1] == '-'))
			g |= GATE_VENDOR;
		break;
	case 'z': case 'Z':
		if (i >= 7 && has_at_ci(s, len, i - 7, "authoriz"))
			g |= GATE_NAME;
		if (i >= 2 && has_at(s, len, i - 2, "AIza"))
			g |= GATE_VENDOR;
		break;
	case 'b': case 'B':
		if (has_at_ci(s, len, i + 1, "earer"))
			g |= GATE_BEARER;
		break;
	case 'J':
		if (i >= 2 && has_at(s, len, i - 2, "eyJ"))
			g |= GATE_JWT;
		break;
	case 'I':
		if (i >= 2 && (has_at(s, len, i - 2, "AKIA") ||
			       has_at(s, len, i - 2, "ASIA")))
			g |= GATE_VENDOR;
		break;
	case 'g':
		if ((has_at(s, len, i, "gh") && i + 3 < len &&
		     memchr("pousr", s[i + 2], 5) != NULL && s[i + 3] == '_') ||
		    has_at(s, len, i, "github_pat_") ||
		    has_at(s, len, i, "glpat-"))
			g |= GATE_VENDOR;
		break;
	case 'x':
		if (has_at(s, len, i, "xox"))
			g |= GATE_VENDOR;
		break;
	case 'G':
		if (i >= 1 && has_at(s, len, i - 1, "SG."))
			g |= GATE_VENDOR;
		break;
	case '_':
		if ((i >= 3 && has_at(s, len, i - 3, "npm_")) ||
		    (i >= 2 && has_at(s, len, i - 2, "hf_")) ||
		    (i >= 5 && has_at(s, len, i - 5, "whsec_")))
			g |= GATE_VENDOR;
		break;
	case 'y':
		if (has_at(s, len, i, "ya29."))
			g |= GATE_VENDOR;
		break;
	case '$':
		if (has_at(s, len, i, "$argon2") ||
		    (i + 3 < len && s[i + 1] == '2' &&
		     (s[i + 2] == '$' || s[i + 3] == '$')))
			g |= GATE_VENDOR;
		break;
	default:
		break;
	}
	return g;
}

/*
 * The gates of every literal in s. With first_only, stop at the first one
 * found (all redact_may_contain needs); otherwise stop when all are set.
 * Only the bytes of a pair from pair_first/pair_second can be anchors.
 */
static unsigned prefilter(const char *s, size_t len, bool first_only)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned g = 0;
	size_t i;

	for (i = 1; i < len; i++) {
		if ((pair_first[u[i - 1]] & pair_second[u[i]]) == 0)
			continue;
		g |= gates_at(s, len, i - 1) | gates_at(s, len, i);
		if (g != 0 && (first_only || g == GATE_ALL))
			break;
	}
	return g;
}

#ifdef LOGTRIAGE_TESTING
unsigned redact_prefilter_gates(const char *s, size_t len, bool every_byte)
{
	unsigned g = 0;
	size_t i;

	if (!every_byte)
		return prefilter(s, len, false);
	for (i = 0; i < len; i++)
		g |= gates_at(s, len, i);
	return g;
}
#endif

bool redact_may_contain(const char *s, size_t len)
{
	return prefilter(s, len, true) != 0;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012), the reference algorithm. */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
	v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
} while (0)

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;
	int k;

	for (k = 7; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

static uint64_t siphash24(uint64_t k0, uint64_t k1, const unsigned char *p,
			  size_t len)
{
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0;
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0;
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k1;
	uint64_t b = (uint64_t)len << 56;
	uint64_t m;
	size_t i;
	size_t tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	while (tail > 0) {
		tail--;
		b |= (uint64_t)p[i + tail] << (8 * tail);
	}
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#ifdef LOGTRIAGE_TESTING
uint64_t redact_siphash(const unsigned char key[16], const void *p, size_t len)
{
	return siphash24(load_le64(key), load_le64(key + 8),
			 (const unsigned char *)p, len);
}
#endif

/* One secret: s[start..end). */
struct secret {
	size_t start;
	size_t end;
};

/*
 * Called for each match of a detector's pattern in s[0..len), with the
 * match's ovector. Records the secrets it finds with add_secret() and
 * returns where the search goes on (past the secret, or past the part of
 * the match that was only context).
 */
typedef size_t found_fn(struct redact *r, const char *s, size_t len,
			const PCRE2_SIZE *ov);

static found_fn found_url;
static found_fn found_name;
static found_fn found_bearer;
static found_fn found_whole;
static found_fn found_pem;
static found_fn found_vendor;

/*
 * The detectors. Patterns are matched byte-wise (no UTF), so invalid UTF-8
 * is fine; every repeat that could rescan text is possessive or bounded, so
 * each is linear in the input.
 */
static const struct detector {
	const char *name;
	unsigned gate;
	uint32_t options;
	const char *pattern;
	found_fn *found;
} detectors[] = {
	/* group 1: the password of scheme://user:password@ */
	{ "url", GATE_URL, 0,
	  ":(?:\\\\?/){2}[^\\s:/?#@'\"\\\\<>]*+:([^\\s/?#'\"\\\\<>]+)@",
	  found_url },
	/*
	 * A name and its separator, up to the value's opening quote (a name
	 * right after '/' is a URL's, left to the url detector):
	 * 1 name's opening quote, or "--"; 2 name; 3 name's closing quote;
	 * 4 separator; 5 value's opening quote. found_name() reads the rest.
	 */
	{ "name", GATE_NAME, 0,
	  "(?|"
	  "(?:(?<![\\w.\\-\\\\/])|(?<=\\\\[nrt]))"
	  "((?:\\\\?[\"'`])?)"
	  "([A-Za-z_][\\w.\\-]{0,63}+)"
	  "((?:\\\\?[\"'`])?)"
	  "[ \\t]*+"
	  "(=>|:=|=(?!=)|:(?![:/\\\\])|\\||\xe2\x94\x82)"
	  "[ \\t]*+"
	  "((?:\\\\?[\"'`])?)"
	  "|"
	  "(?<![\\w.\\-\\\\])"
	  "(--)"
	  "([A-Za-z][\\w.\\-]{0,63}+)"
	  "()"
	  "(=|[ \\t]++)"
	  "(?![\\s\\-])"
	  "((?:\\\\?[\"'`])?)"
	  ")",
	  found_name },
	/* group 1: the token */
	{ "bearer", GATE_BEARER, PCRE2_CASELESS,
	  "(?<![\\w\\-])bearer[ \\t]++([\\w\\-.~+/]++=*+)",
	  found_bearer },
	{ "jwt", GATE_JWT, 0,
	  "(?<![\\w\\-])eyJ[\\w\\-]{4,}+\\.eyJ[\\w\\-]{4,}+\\.[\\w\\-]*+",
	  found_whole },
	/* the armor line; found_pem() finds the end of the block */
	{ "pem", GATE_PEM, 0,
	  "-----BEGIN [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----",
	  found_pem },
	{ "vendor", GATE_VENDOR, 0,
	  "(?<![\\w\\-])(?:"
	  "(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
	  "|AIza[\\w\\-]{35}(?![\\w\\-])"
	  "|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}+"
	  "|sk-[\\w\\-]{20,}+"
	  "|gh[pousr]_[A-Za-z0-9]{30,}+"
	  "|github_pat_\\w{30,}+"
	  "|glpat-[\\w\\-]{20,}+"
	  "|xox[abposr]-[A-Za-z0-9\\-]{10,}+"
	  "|SG\\.[\\w\\-]{16,}+\\.[\\w\\-]{16,}+"
	  "|npm_[A-Za-z0-9]{36,}+"
	  "|hf_[A-Za-z0-9]{30,}+"
	  "|whsec_[A-Za-z0-9+/=]{20,}+"
	  "|ya29\\.[\\w\\-]{20,}+"
	  ")"
	  "|\\$2[abxy]?\\$[0-9]{2}\\$[./A-Za-z0-9]{53}"
	  "|\\$argon2(?:id|i|d)\\$v=[0-9]+\\$m=[0-9]+,t=[0-9]+,p=[0-9]+"
	  "\\$[A-Za-z0-9+/]++\\$[A-Za-z0-9+/]++",
	  found_vendor },
};

#define NDETECTORS ARRAY_SIZE(detectors)

struct redact {
	uint64_t k0;			/* the key, as SipHash reads it */
	uint64_t k1;
	pcre2_code *re[NDETECTORS];	/* owned; one per detectors[] */
	pcre2_match_data *md;		/* owned; shared by all patterns */
	pcre2_match_context *mctx;	/* owned; carries the match limit */
	struct secret *secrets;		/* owned; found in the current call */
	size_t nsecrets;
	size_t cap;
	struct buf text[2];		/* owned; the input made valid
					   UTF-8, and each pass's output */
};

/*
 * Record the secret s[start..end). Past REDACT_MAX_SPANS the list
 * collapses into one secret from the first start to the end of the input:
 * too many secrets is treated as "all of it".
 */
static void add_secret(struct redact *r,	/* its list grows */
		       size_t start,		/* first byte of the secret */
		       size_t end,		/* one past its last byte */
		       size_t len)		/* length of the whole input */
{
	size_t i;
	size_t first;

	if (start >= end)
		return;
	if (r->nsecrets == REDACT_MAX_SPANS) {
		first = start;
		for (i = 0; i < r->nsecrets; i++)
			if (r->secrets[i].start < first)
				first = r->secrets[i].start;
		r->secrets[0].start = first;
		r->secrets[0].end = len;
		r->nsecrets = 1;
		return;
	}
	if (r->nsecrets == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->secrets = xrealloc(r->secrets, r->cap * sizeof(*r->secrets));
	}
	r->secrets[r->nsecrets].start = start;
	r->secrets[r->nsecrets].end = end;
	r->nsecrets++;
}

/* Group g of a match as a span; an unset group is empty. */
static struct span group(const char *s, const PCRE2_SIZE *ov, int g)
{
	struct span sp = { s, 0 };

	if (ov[2 * g] != PCRE2_UNSET) {
		sp.p = s + ov[2 * g];
		sp.len = ov[2 * g + 1] - ov[2 * g];
	}
	return sp;
}

/*
 * Could v[0..n) be random, a key rather than a word? Used where the
 * context alone is weak evidence: letters and digits, or a fair mix of
 * upper and lower case in 16+ bytes, or 40+ bytes of anything.
 */
static bool looks_random(const char *v, size_t n)
{
	size_t digits = 0;
	size_t uppers = 0;
	size_t lowers = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		digits += is_digit(c);
		uppers += is_upper(c);
		lowers += is_lower(c);
	}
	if (digits > 0 && uppers + lowers > 0)
		return true;
	if (n >= 16 && 4 * uppers >= n && 4 * lowers >= n)
		return true;
	return n >= 40;
}

/*
 * Is v[0..n) a value that stands for a secret without being one: empty,
 * a marker, a null-ish word, stars, a placeholder or a reference?
 */
static bool is_placeholder(const char *v, size_t n)
{
	static const char *const words[] = {
		"none", "null", "nil", "undefined", "true", "false", NULL
	};
	size_t i;

	if (n == 0 || (n == REDACT_MARKER_LEN && is_marker_at(v, n, 0)))
		return true;
	for (i = 0; words[i] != NULL; i++)
		if (equals_ci(v, n, words[i]))
			return true;
	for (i = 0; i < n && v[i] == '*'; i++)
		;
	if (i == n)
		return true;
	if (n == 1 && v[0] == '?')
		return true;
	if (v[0] == '%')	/* %s, %(name)s */
		return n == 2 || (n >= 4 && v[1] == '(' &&
				  v[n - 2] == ')' && v[n - 1] == 's');
	if (n >= 4 && v[0] == '{' && v[1] == '{')	/* {{ var }} */
		return true;
	if (v[0] == '$' && n >= 2 && (v[1] == '{' || v[1] == '('))
		return true;			/* ${VAR}, $(cmd), cut at '}' */
	if (v[0] == '$' && n >= 2) {			/* $VAR */
		if (!is_alpha((unsigned char)v[1]) && v[1] != '_')
			return false;
		for (i = 2; i < n; i++)
			if (!is_alpha((unsigned char)v[i]) &&
			    !is_digit((unsigned char)v[i]) && v[i] != '_')
				return false;
		return true;
	}
	return false;
}

/*
 * Length of a Python format placeholder "%(name)s" at s[i] that is the
 * whole unquoted value (the end of the input or a value_stop byte after
 * it), or 0. unquoted_end() would stop at its ')'.
 */
static size_t named_placeholder_len(const char *s, size_t len, size_t i)
{
	size_t k = i + 2;

	if (!has_at(s, len, i, "%("))
		return 0;
	while (k < len && k - i < 2 + NAME_MAX_LEN &&
	       (is_alpha((unsigned char)s[k]) ||
		is_digit((unsigned char)s[k]) ||
		s[k] == '_' || s[k] == '.' || s[k] == '-'))
		k++;
	if (k == i + 2 || !has_at(s, len, k, ")s"))
		return 0;
	k += 2;
	return k == len || value_stop[(unsigned char)s[k]] ? k - i : 0;
}

/* Where the unquoted value starting at s[i] ends. */
static size_t unquoted_end(const char *s, size_t len, size_t i)
{
	while (i < len && !value_stop[(unsigned char)s[i]])
		i++;
	return i;
}

/* Where the line holding s[i] ends (at '\n', '\r' or NUL), or at quote. */
static size_t line_end(const char *s, size_t len, size_t i, char quote)
{
	while (i < len && s[i] != '\n' && s[i] != '\r' && s[i] != '\0' &&
	       (quote == '\0' || s[i] != quote))
		i++;
	return i;
}

/*
 * Where the value starting at s[i] and opened by quote q ends: at the
 * matching close, or at the end of the line for an unclosed quote. q is a
 * quote byte, or a backslash and a quote byte for a string inside a JSON
 * string (\"...\"), whose own escapes are doubled.
 */
static size_t quoted_end(const char *s,	/* the whole input */
			 size_t len,	/* its length */
			 size_t i,	/* first byte after the opening quote */
			 struct span q)	/* the opening quote, 1 or 2 bytes */
{
	char c = q.p[q.len - 1];
	bool inner_escape = false;

	while (i < len && s[i] != '\n' && s[i] != '\r') {
		if (q.len == 1) {
			if (s[i] == '\\') {
				i += 2;
				continue;
			}
			if (s[i] == c)
				return i;
			i++;
			continue;
		}
		if (s[i] == '\\' && i + 1 < len) {
			if (!inner_escape && s[i + 1] == c)
				return i;
			inner_escape = !inner_escape && s[i + 1] == '\\';
			i += 2;
			continue;
		}
		inner_escape = false;
		i++;
	}
	return i < len ? i : len;
}

/* Strip blanks from the end of s[start..end); return the new end. */
static size_t trim_end(const char *s, size_t start, size_t end)
{
	while (end > start && is_blank((unsigned char)s[end - 1]))
		end--;
	return end;
}

/* Is the value at s[i..end) code (os.environ[...], get_secret(...))? */
static bool is_code(const char *s, size_t i, size_t end)
{
	unsigned char c = (unsigned char)s[i];

	if (!is_alpha(c) && c != '_')
		return false;
	while (i < end && (is_alpha((unsigned char)s[i]) ||
			   is_digit((unsigned char)s[i]) ||
			   s[i] == '_' || s[i] == '.'))
		i++;
	return i < end && (s[i] == '(' || s[i] == '[');
}

/* A name's words, lowercased (see split_name). */
struct words {
	char low[NAME_MAX_LEN];
	size_t n;
	struct {
		size_t off;
		size_t len;
	} w[NAME_MAX_WORDS];
};

/*
 * Split name[0..len) into lowercase words at '_', '-', '.' and camelCase
 * ("apiKey", "APIKey", "HTTP_AUTHORIZATION" all give api key / http
 * authorization). Returns false when the name is too long to be read.
 */
static bool split_name(const char *name, size_t len, struct words *ws)
{
	size_t i;
	size_t start = 0;

	if (len > NAME_MAX_LEN)
		return false;
	ws->n = 0;
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)name[i] : '_';
		unsigned char prev = i > 0 ? (unsigned char)name[i - 1] : '_';
		bool sep = c == '_' || c == '-' || c == '.';
		bool camel = is_upper(c) && i > start &&
			(is_lower(prev) || is_digit(prev) ||
			 (is_upper(prev) && i + 1 < len &&
			  is_lower((unsigned char)name[i + 1])));

		if (i < len)
			ws->low[i] = (char)lower(c);
		if (!sep && !camel)
			continue;
		if (i > start) {
			if (ws->n == NAME_MAX_WORDS)
				return false;
			ws->w[ws->n].off = start;
			ws->w[ws->n].len = i - start;
			ws->n++;
		}
		start = sep ? i + 1 : i;
	}
	return ws->n > 0;
}

/* Is word k of ws equal to w? (Words hold no NUL; this stops early.) */
static bool word_is(const struct words *ws, size_t k, const char *w)
{
	const char *p = ws->low + ws->w[k].off;
	size_t n = ws->w[k].len;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != w[i])
			return false;
	return w[n] == '\0';
}

/* Is word k of ws one of the NULL-terminated list? */
static bool word_in(const struct words *ws, size_t k, const char *const *list)
{
	for (; *list != NULL; list++)
		if (word_is(ws, k, *list))
			return true;
	return false;
}

/* Does word k of ws contain w? */
static bool word_has(const struct words *ws, size_t k, const char *w)
{
	size_t n = strlen(w);
	size_t i;

	for (i = 0; i + n <= ws->w[k].len; i++)
		if (memcmp(ws->low + ws->w[k].off + i, w, n) == 0)
			return true;
	return false;
}

/* Does word k of ws end with w? */
static bool word_ends(const struct words *ws, size_t k, const char *w)
{
	size_t n = strlen(w);

	return ws->w[k].len >= n &&
		memcmp(ws->low + ws->w[k].off + ws->w[k].len - n, w, n) == 0;
}

/* Last words that describe a secret instead of holding it. */
static const char *const describing_words[] = {
	"alg", "algorithm", "arn", "at", "changed", "count", "created", "dir",
	"enabled", "endpoint", "env", "error", "exp", "expiration", "expired",
	"expires", "expiry", "field", "file", "filename", "format", "header",
	"in", "invalid", "label", "len", "length", "limit", "max", "min",
	"missing", "name", "path", "policy", "prefix", "provider", "ref",
	"region", "required", "reset", "rotation", "size", "strength", "ttl",
	"type", "updated", "uri", "url", "usage", "used", "valid", "var",
	"version", NULL
};

/* Words before "key" that make it a data structure's key or public. */
static const char *const plain_key_owners[] = {
	"cache", "dedup", "dedupe", "foreign", "group", "hash", "idempotency",
	"index", "lock", "lookup", "map", "object", "order", "partition",
	"primary", "public", "publishable", "range", "routing", "row", "s3",
	"shard", "sort", "unique", NULL
};

/* One-word names of secret keys. */
static const char *const secret_key_words[] = {
	"accesskey", "apikey", "appkey", "authkey", "clientkey",
	"encryptionkey", "hmackey", "licensekey", "masterkey", "privatekey",
	"secretkey", "serverkey", "sessionkey", "signingkey",
	"subscriptionkey", NULL
};

/* Words before "token" that make it a pagination cursor. */
static const char *const cursor_words[] = {
	"continuation", "next", "page", "sync", NULL
};

/*
 * How the key/value detector reads a name (classes glossed in redact.h,
 * rules spelled out at its top). Names too long to split are PLAIN.
 */
TESTABLE enum redact_name_class redact_classify_name(const char *name,
						     size_t len)
{
	struct words ws;
	size_t last;
	size_t k;

	if (!split_name(name, len, &ws))
		return REDACT_NAME_PLAIN;
	last = ws.n - 1;
	if (word_is(&ws, last, "authorization"))
		return REDACT_NAME_AUTHORIZATION;
	if (word_is(&ws, last, "cookie"))
		return last > 0 && word_is(&ws, last - 1, "set") ?
			REDACT_NAME_SET_COOKIE : REDACT_NAME_COOKIE;
	if (word_in(&ws, last, describing_words))
		return REDACT_NAME_PLAIN;
	for (k = 0; k < ws.n; k++) {
		if (word_has(&ws, k, "password") ||
		    word_has(&ws, k, "passwd") ||
		    word_has(&ws, k, "passphrase") ||
		    word_has(&ws, k, "secret"))
			return REDACT_NAME_SECRET;
		if (word_ends(&ws, k, "token") &&
		    !(k > 0 && word_in(&ws, k - 1, cursor_words)))
			return REDACT_NAME_SECRET;
		if (word_is(&ws, k, "key") && k > 0 &&
		    !word_in(&ws, k - 1, plain_key_owners))
			return REDACT_NAME_SECRET;
		if (word_in(&ws, k, secret_key_words))
			return REDACT_NAME_SECRET;
	}
	if (last > 0 &&
	    (word_is(&ws, last, "pwd") || word_is(&ws, last, "pass")))
		return REDACT_NAME_SECRET;
	return REDACT_NAME_PLAIN;
}

/* JWT_SECRET_KEY: upper case, digits and '_', at least one letter. */
static bool is_env_name(struct span name)
{
	bool letter = false;
	size_t i;

	for (i = 0; i < name.len; i++) {
		unsigned char c = (unsigned char)name.p[i];

		if (!is_upper(c) && !is_digit(c) && c != '_')
			return false;
		letter |= is_upper(c);
	}
	return letter;
}

/* token, Password: one word of letters, lower case after the first. */
static bool is_plain_word(struct span name)
{
	size_t i;

	for (i = 0; i < name.len; i++)
		if (!is_lower((unsigned char)name.p[i]) &&
		    !(i == 0 && is_upper((unsigned char)name.p[i])))
			return false;
	return true;
}

/* Schemes whose credentials are a parameter list, all of it secret. */
static bool is_param_scheme(const char *p, size_t n)
{
	return equals_ci(p, n, "digest") || equals_ci(p, n, "oauth") ||
		equals_ci(p, n, "signature") || equals_ci(p, n, "hmac") ||
		equals_ci(p, n, "hawk") ||
		(n > 5 && has_at_ci(p, n, 0, "aws4-"));
}

/* HTTP authentication schemes that come before the credentials. */
static bool is_scheme(const char *p, size_t n)
{
	static const char *const schemes[] = {
		"apikey", "basic", "bearer", "bot", "digest", "dpop", "hawk",
		"hmac", "jwt", "key", "mac", "negotiate", "ntlm", "oauth",
		"signature", "sso-key", "token", NULL
	};
	size_t i;

	for (i = 0; schemes[i] != NULL; i++)
		if (equals_ci(p, n, schemes[i]))
			return true;
	return n > 5 && has_at_ci(p, n, 0, "aws4-");
}

/*
 * The credentials of an Authorization header value s[v..end): after a
 * known scheme, one token, or all of it for parameter schemes; without a
 * scheme, the first token if it looks random (so "authorization: failed
 * for user 42" stays). Returns where to go on.
 */
static size_t authorization_value(struct redact *r,
				  const char *s,	/* the whole input */
				  size_t len,		/* its length */
				  size_t v,		/* the value's start */
				  size_t end)		/* the value's end */
{
	size_t p = v;
	size_t q;
	size_t cred;
	size_t cend;

	while (p < end && is_blank((unsigned char)s[p]))
		p++;
	for (q = p; q < end; q++)
		if (!is_alpha((unsigned char)s[q]) &&
		    !is_digit((unsigned char)s[q]) && s[q] != '-')
			break;
	if (q > p && is_scheme(s + p, q - p)) {
		for (cred = q; cred < end && is_blank((unsigned char)s[cred]);
		     cred++)
			;
		if (cred == q || cred == end)	/* "Bearer" alone */
			return q;
		if (is_param_scheme(s + p, q - p))
			cend = trim_end(s, cred, end);
		else
			cend = unquoted_end(s, end, cred);
	} else {
		cred = p;
		cend = unquoted_end(s, end, cred);
		if (!looks_random(s + cred, cend - cred))
			return cend > v ? cend : v;
	}
	if (cred < end && s[cred] == '[')	/* a marker, or "[FILTERED]" */
		return cred + 1;
	if (is_placeholder(s + cred, cend - cred))
		return cend;
	add_secret(r, cred, cend, len);
	return cend;
}

/*
 * The cookie values in s[v..end), separated by ';'. Names and Set-Cookie
 * attributes stay; a piece without '=' is replaced when it looks random.
 * Cookie values hold no blanks: one ends the header. Returns where to go on.
 */
static size_t cookie_values(struct redact *r,
			    const char *s,	/* the whole input */
			    size_t len,		/* its length */
			    size_t v,		/* where the value starts */
			    size_t end,		/* where it ends */
			    bool set_cookie)	/* only the first cookie */
{
	size_t p = v;

	while (p < end) {
		const char *semi = memchr(s + p, ';', end - p);
		size_t pend = semi != NULL ? (size_t)(semi - s) : end;
		const char *eq;
		size_t a;
		size_t b;
		size_t vend;

		while (p < pend && is_blank((unsigned char)s[p]))
			p++;
		eq = memchr(s + p, '=', pend - p);
		a = eq != NULL ? (size_t)(eq - s) + 1 : p;
		for (vend = a; vend < pend && !is_blank((unsigned char)s[vend]);
		     vend++)
			;
		b = vend;
		if (b - a >= 2 && s[a] == '"' && s[b - 1] == '"') {
			a++;
			b--;
		}
		if (!is_placeholder(s + a, b - a) &&
		    (eq != NULL || looks_random(s + a, b - a)))
			add_secret(r, a, b, len);
		if (set_cookie || trim_end(s, vend, pend) > vend)
			return vend;
		p = pend + 1;
	}
	return end;
}

static size_t found_name(struct redact *r, const char *s, size_t len,
			 const PCRE2_SIZE *ov)
{
	struct span open = group(s, ov, 1);
	struct span name = group(s, ov, 2);
	struct span close = group(s, ov, 3);
	struct span sep = group(s, ov, 4);
	struct span vq = group(s, ov, 5);
	size_t v = ov[1];
	size_t end;
	bool dashdash = span_eq(open, "--");
	bool quoted_name = !dashdash && open.len > 0 && close.len > 0;
	char outer = !dashdash && open.len > 0 && close.len == 0 ?
		open.p[open.len - 1] : '\0';
	bool pipe = span_eq(sep, "|") || span_eq(sep, "\xe2\x94\x82");
	enum redact_name_class cls = redact_classify_name(name.p, name.len);

	if (cls == REDACT_NAME_PLAIN)
		return v;
	if (pipe && (quoted_name || !is_env_name(name)))
		return v;
	/* "JWT_SECRET_KEY= token=x": an empty value, not "token=x" */
	if (span_eq(sep, "=") && sep.p == close.p + close.len &&
	    vq.len == 0 && s + v > sep.p + 1 &&
	    memchr(s + v, '=', unquoted_end(s, len, v) - v) != NULL)
		return v;
	if (vq.len > 0)
		end = quoted_end(s, len, v, vq);
	else if (cls != REDACT_NAME_SECRET)	/* headers: to the line's end */
		end = line_end(s, len, v, outer);
	else
		end = unquoted_end(s, len, v);

	switch (cls) {
	case REDACT_NAME_AUTHORIZATION:
		return authorization_value(r, s, len, v, end);
	case REDACT_NAME_COOKIE:
	case REDACT_NAME_SET_COOKIE:
		return cookie_values(r, s, len, v, end,
				     cls == REDACT_NAME_SET_COOKIE);
	default:
		break;
	}
	if (vq.len == 0) {
		if (v >= len || s[v] == '[' || s[v] == '{' || s[v] == '(')
			return v;
		if (named_placeholder_len(s, len, v) > 0)
			return v + named_placeholder_len(s, len, v);
		if (is_code(s, v, end))
			return v;
		if (sep.p[0] == ':' && sep.len == 1 && !quoted_name &&
		    !dashdash && is_plain_word(name) &&
		    !looks_random(s + v, end - v))
			return v;
	}
	if (is_placeholder(s + v, end - v))
		return v;
	add_secret(r, v, end, len);
	return end;
}

static size_t found_url(struct redact *r, const char *s, size_t len,
			const PCRE2_SIZE *ov)
{
	if (!is_placeholder(s + ov[2], ov[3] - ov[2]))
		add_secret(r, ov[2], ov[3], len);
	return ov[1];
}

static size_t found_bearer(struct redact *r, const char *s, size_t len,
			   const PCRE2_SIZE *ov)
{
	size_t n = ov[3] - ov[2];

	if (n >= 8 && looks_random(s + ov[2], n))
		add_secret(r, ov[2], ov[3], len);
	return ov[1];
}

static size_t found_whole(struct redact *r, const char *s, size_t len,
			  const PCRE2_SIZE *ov)
{
	(void)s;
	add_secret(r, ov[0], ov[1], len);
	return ov[1];
}

static size_t found_vendor(struct redact *r, const char *s, size_t len,
			   const PCRE2_SIZE *ov)
{
	/* sk-... is also the shape of kebab-case words: want a key's mix */
	if (!has_at(s, len, ov[0], "sk-") ||
	    looks_random(s + ov[0] + 3, ov[1] - ov[0] - 3))
		add_secret(r, ov[0], ov[1], len);
	return ov[1];
}

/*
 * A PEM block runs from its BEGIN line to the END line after it. Without
 * one, it stops before the next BEGIN line, at a quote (the block was in a
 * string), or at the end of the input, minus trailing whitespace.
 */
static size_t found_pem(struct redact *r, const char *s, size_t len,
			const PCRE2_SIZE *ov)
{
	size_t p = ov[1];
	size_t q;
	size_t end = len;

	for (; p < len; p++) {
		if (s[p] == '"' || s[p] == '\'') {
			end = p;
			break;
		}
		if (s[p] != '-' || !has_at(s, len, p, "-----"))
			continue;
		if (has_at(s, len, p + 5, "BEGIN")) {
			end = p;
			break;
		}
		if (has_at(s, len, p + 5, "END")) {
			for (q = p + 8; q < len && q < p + 64; q++)
				if (!is_upper((unsigned char)s[q]) &&
				    !is_digit((unsigned char)s[q]) &&
				    s[q] != ' ')
					break;
			end = has_at(s, len, q, "-----") ? q + 5 : q;
			add_secret(r, ov[0], end, len);
			return end;
		}
	}
	while (end > ov[1] && (is_blank((unsigned char)s[end - 1]) ||
			       s[end - 1] == '\n' || s[end - 1] == '\r'))
		end--;
	add_secret(r, ov[0], end, len);
	return end;
}

/*
 * Run detector d over s[0..len). If PCRE2 fails (match limit, JIT stack),
 * what was not searched yet is recorded as one secret: fail closed.
 */
static void run_detector(struct redact *r, size_t d, const char *s, size_t len)
{
	PCRE2_SIZE off = 0;
	PCRE2_SIZE *ov;
	size_t next;
	int rc;

	while (off < len) {
		rc = pcre2_match(r->re[d], (PCRE2_SPTR)s, len, off, 0, r->md,
				 r->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return;
		if (rc < 0) {
			add_secret(r, off, len, len);
			return;
		}
		ov = pcre2_get_ovector_pointer(r->md);
		next = detectors[d].found(r, s, len, ov);
		off = next > ov[0] ? next : ov[0] + 1;
	}
}

static int cmp_secret(const void *a, const void *b)
{
	const struct secret *x = a;
	const struct secret *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* Append the marker of s[0..n) to out. */
static void add_marker(struct redact *r, const char *s, size_t n,
		       struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	char m[REDACT_MARKER_LEN];
	uint64_t h = siphash24(r->k0, r->k1, (const unsigned char *)s, n);
	int k;

	memcpy(m, "[REDACTED:", 10);
	for (k = 0; k < 6; k++)
		m[10 + k] = hex[(h >> (60 - 4 * k)) & 15];
	m[16] = ']';
	buf_add(out, m, sizeof(m));
}

/*
 * One pass: run the detectors whose gates are set over s[0..len) and
 * append the text with its secrets replaced to out. Returns the number
 * of markers written; 0 means out received s unchanged. *first gets
 * where the first secret starts (when there is one).
 */
static int redact_pass(struct redact *r, unsigned gates, const char *s,
		       size_t len, struct buf *out, size_t *first)
{
	size_t d;
	size_t i;
	size_t pos = 0;
	int count = 0;

	r->nsecrets = 0;
	for (d = 0; d < NDETECTORS && gates != 0; d++)
		if (gates & detectors[d].gate)
			run_detector(r, d, s, len);
	if (r->nsecrets == 0) {
		buf_add(out, s, len);
		return 0;
	}
	qsort(r->secrets, r->nsecrets, sizeof(*r->secrets), cmp_secret);
	*first = r->secrets[0].start;
	for (i = 0; i < r->nsecrets; i++) {
		size_t start = r->secrets[i].start;
		size_t end = r->secrets[i].end;

		/* overlapping secrets from different detectors become one */
		while (i + 1 < r->nsecrets && r->secrets[i + 1].start < end) {
			i++;
			if (r->secrets[i].end > end)
				end = r->secrets[i].end;
		}
		buf_add(out, s + pos, start - pos);
		add_marker(r, s + start, end - start, out);
		pos = end;
		count++;
	}
	buf_add(out, s + pos, len - pos);
	return count;
}

int redact_append(struct redact *r, const char *s, size_t len, struct buf *out)
{
	unsigned gates;
	struct buf *cur = &r->text[0];
	struct buf *next = &r->text[1];
	struct buf *swap;
	size_t first = 0;
	size_t f = 0;
	int count;
	int n;
	int pass;

	/*
	 * The literals are ASCII and making the text valid UTF-8 changes
	 * only other bytes: the raw text has the same gates.
	 */
	gates = redact_skip_prefilter ? GATE_ALL : prefilter(s, len, false);
	if (gates == 0) {
		buf_add_utf8(out, s, len);
		return 0;
	}
	/*
	 * Redact the text as it will be stored, not the raw bytes: a NUL
	 * ends a value where its U+FFFD would not, and an invalid byte
	 * counts once where U+FFFD is three.
	 */
	buf_clear(cur);
	buf_add_utf8(cur, s, len);
	buf_clear(next);
	count = redact_pass(r, gates, cur->p, cur->len, next, &first);
	if (count == 0) {
		buf_add(out, cur->p, cur->len);
		return 0;
	}
	for (pass = 2; ; pass++) {
		swap = cur;
		cur = next;
		next = swap;
		if (pass > REDACT_MAX_PASSES) {
			/*
			 * Still changing: everything from the first secret
			 * of any pass (the bytes before it are the same in
			 * every pass's text) becomes one marker.
			 */
			buf_add(out, cur->p, first);
			add_marker(r, cur->p + first, cur->len - first, out);
			return count;
		}
		buf_clear(next);
		n = redact_pass(r, redact_skip_prefilter ? GATE_ALL :
				prefilter(cur->p, cur->len, false),
				cur->p, cur->len, next, &f);
		if (n == 0)
			break;
		count += n;
		if (f < first)
			first = f;
	}
	buf_add(out, cur->p, cur->len);
	return count;
}

struct redact *redact_new(const unsigned char key[16], const char **err)
{
	static char msg[256];
	struct redact *r = xcalloc(1, sizeof(*r));
	PCRE2_UCHAR text[128];
	PCRE2_SIZE where;
	int code;
	size_t d;

	buf_init(&r->text[0]);
	buf_init(&r->text[1]);
	r->k0 = load_le64(key);
	r->k1 = load_le64(key + 8);
	for (d = 0; d < NDETECTORS; d++) {
		r->re[d] = pcre2_compile((PCRE2_SPTR)detectors[d].pattern,
					 PCRE2_ZERO_TERMINATED,
					 detectors[d].options, &code, &where,
					 NULL);
		if (r->re[d] == NULL) {
			pcre2_get_error_message(code, text, sizeof(text));
			snprintf(msg, sizeof(msg), "cannot compile redaction "
				 "pattern '%s' at offset %zu: %s",
				 detectors[d].name, (size_t)where,
				 (char *)text);
			if (err != NULL)
				*err = msg;
			goto out_free;
		}
		/* without JIT (unsupported CPU), the interpreter works */
		pcre2_jit_compile(r->re[d], PCRE2_JIT_COMPLETE);
	}
	r->md = pcre2_match_data_create(8, NULL);
	r->mctx = pcre2_match_context_create(NULL);
	if (r->md == NULL || r->mctx == NULL) {
		if (err != NULL)
			*err = "out of memory creating PCRE2 match data";
		goto out_free;
	}
	pcre2_set_match_limit(r->mctx, REDACT_MATCH_LIMIT);
	return r;

out_free:
	redact_free(r);
	return NULL;
}

void redact_free(struct redact *r)
{
	size_t d;

	if (r == NULL)
		return;
	for (d = 0; d < NDETECTORS; d++)
		pcre2_code_free(r->re[d]);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	free(r->secrets);
	buf_release(&r->text[0]);
	buf_release(&r->text[1]);
	free(r);
}

#ifdef LOGTRIAGE_TESTING
void redact_set_match_limit(struct redact *r, uint32_t limit)
{
	pcre2_set_match_limit(r->mctx, limit);
}
#endif

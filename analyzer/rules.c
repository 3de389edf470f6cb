/*
 * rules.c - pipeline stage 4: rule files in, classified records out.
 *
 * Loading validates each file against the documented format and reports
 * problems with file:line:column. Matching is a literal prefilter (most
 * records contain none of the literals and never reach PCRE2; see
 * prefilter.c), then the JIT-compiled patterns, then the event-time
 * conditions.
 */
#include "common.h"
#include "rules.h"
#include "buf.h"
#include "diag.h"
#include "prefilter.h"

#include <dirent.h>
#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* PCRE2 limits per match, so that a pathological pattern cannot hang. */
#define RULES_MATCH_LIMIT 1000000
#define RULES_DEPTH_LIMIT 10000
#define RULES_JIT_STACK (1u << 20)
/* Groups counted separately by a window's "by" capture. */
#define WINDOW_GROUPS 32
/* Prefilter literals shorter than this are not worth it. */
#define MIN_LITERAL 3

/* The rule files compiled into the binary (rules_builtin.c). */
struct builtin_rule_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct builtin_rule_file builtin_rule_files[];
extern const size_t builtin_rule_file_count;

struct pattern {
	char *re;               /* owned source */
	char *literal;          /* owned; NULL: always a candidate */
	char *literal_json;     /* owned; the literal as it looks inside a
				   JSON string; NULL: no JSON prefilter */
	bool ci;                /* literal compared case-insensitively */
	bool literal_given;     /* literal came from the rule file */
	bool json_only;         /* only JSON records can match (a field) */
	bool precheck;          /* may run on a JSON line's decoded text
				   before the line is decoded (see
				   rules_prefilter) */
	char *field;            /* owned; NULL: the rule's field */
	pcre2_code *code;
	int line, col;          /* where the pattern is in its file */
};

struct window_group {
	uint64_t key;           /* hash of the "by" value */
	unsigned filled, head;
	int64_t last;
	int64_t *ring;          /* owned; window_count entries */
};

struct rule_impl {
	struct pattern *any;
	size_t nany;
	struct pattern *none;
	size_t nnone;
	char *metric_value;     /* capture with the number */
	char *metric_unit_fixed;
	char *metric_unit_from; /* capture with the unit */
	struct window_group groups[WINDOW_GROUPS];
	size_t *after_idx;      /* indexes of the 'after' rules */
	size_t *reset_idx;      /* indexes of the 'after.reset' rules */
	bool fired_once;
	int64_t last_fire;
	bool candidate;         /* set by rules_prefilter */
	size_t index;           /* position in rules->v after compile */
	int line, col;          /* where the rule's id is */
};

struct rules {
	struct rule **v;        /* owned, sorted by id after compile */
	size_t n, alloc;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	struct prefilter *pf;   /* owned; built by rules_compile */
	struct rule **pf_rule;  /* owned; by prefilter id: its rule */
	struct pattern **pf_pat; /* owned; by prefilter id: the pattern */
	size_t npf;
	size_t *cand;           /* owned; indexes of the rules the last
				   rules_prefilter selected, in id order */
	size_t ncand;
	struct buf unesc;       /* a JSON line with its escapes decoded */
	const char *limit_rule;
	size_t matched;         /* rules whose patterns matched, last eval */
	bool compiled;
	bool sorted;            /* v is in id order (rules_compile) */
};

static const char *const sev_names[] = {
	[RULE_SEV_INFO] = "info",
	[RULE_SEV_WARNING] = "warning",
	[RULE_SEV_ERROR] = "error",
	[RULE_SEV_CRITICAL] = "critical",
};

const char *rules_sev_name(enum rule_sev s)
{
	return (unsigned)s < ARRAY_SIZE(sev_names) ? sev_names[s] : "?";
}

int rules_sev_parse(const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sev_names); i++)
		if (strcmp(s, sev_names[i]) == 0)
			return (int)i;
	return -1;
}

static void strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static void pattern_release(struct pattern *p)
{
	free(p->re);
	free(p->literal);
	free(p->literal_json);
	free(p->field);
	pcre2_code_free(p->code);
}

static void rule_free(struct rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->id);
	free(r->title);
	free(r->guide_section);
	free(r->guide_title);
	free(r->category);
	free(r->file);
	free(r->field);
	strlist_free(&r->any);
	strlist_free(&r->none);
	strlist_free(&r->causes);
	strlist_free(&r->diagnosis);
	strlist_free(&r->remedy);
	strlist_free(&r->references);
	strlist_free(&r->ex_match);
	strlist_free(&r->ex_no_match);
	strlist_free(&r->after);
	strlist_free(&r->after_reset);
	free(r->metric_name);
	free(r->metric_unit);
	free(r->window_by);
	if (r->impl) {
		for (i = 0; i < r->impl->nany; i++)
			pattern_release(&r->impl->any[i]);
		for (i = 0; i < r->impl->nnone; i++)
			pattern_release(&r->impl->none[i]);
		free(r->impl->any);
		free(r->impl->none);
		free(r->impl->metric_value);
		free(r->impl->metric_unit_fixed);
		free(r->impl->metric_unit_from);
		for (i = 0; i < WINDOW_GROUPS; i++)
			free(r->impl->groups[i].ring);
		free(r->impl->after_idx);
		free(r->impl->reset_idx);
		free(r->impl);
	}
	free(r);
}

struct rules *rules_new(void)
{
	struct rules *rs = xcalloc(1, sizeof(*rs));

	buf_init(&rs->unesc);
	return rs;
}

void rules_free(struct rules *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_free(rs->v[i]);
	free(rs->v);
	pcre2_match_data_free(rs->md);
	pcre2_match_context_free(rs->mctx);
	pcre2_jit_stack_free(rs->jit_stack);
	prefilter_free(rs->pf);
	free(rs->pf_rule);
	free(rs->pf_pat);
	free(rs->cand);
	buf_release(&rs->unesc);
	free(rs);
}

size_t rules_count(const struct rules *rs)
{
	return rs->n;
}

const struct rule *rules_at(const struct rules *rs, size_t i)
{
	return i < rs->n ? rs->v[i] : NULL;
}

/*
 * A binary search once the rules are in id order: a report looks up the
 * rule of every event around an incident, 200 strcmp() each with five
 * times the built-in rules.
 */
const struct rule *rules_find(const struct rules *rs, const char *id)
{
	size_t lo = 0, hi = rs->n, i;

	if (!rs->sorted) {
		for (i = 0; i < rs->n; i++)
			if (strcmp(rs->v[i]->id, id) == 0)
				return rs->v[i];
		return NULL;
	}
	while (lo < hi) {
		int c;

		i = lo + (hi - lo) / 2;
		c = strcmp(rs->v[i]->id, id);
		if (c == 0)
			return rs->v[i];
		if (c < 0)
			lo = i + 1;
		else
			hi = i;
	}
	return NULL;
}

size_t rules_last_matched(const struct rules *rs)
{
	return rs->matched;
}

const char *rules_last_limit_rule(const struct rules *rs)
{
	return rs->limit_rule;
}

/* ---- loading ---------------------------------------------------------- */

/* The text of a file being loaded, to find where things are in it. */
struct src {
	const char *name;
	const char *text;
	size_t len;
	int errors;
	const char *scope;      /* key of the object being read, or NULL */
};

/*
 * Where does needle (a JSON key or string value, unquoted) first occur,
 * quoted, in the file? jansson keeps no positions for values, so a
 * search of the text is the best location there is; 0:0 when not found.
 */
static void locate(const struct src *s, const char *needle, int *line,
		   int *col)
{
	struct buf q;
	const char *hit, *p;

	*line = 0;
	*col = 0;
	buf_init(&q);
	buf_addch(&q, '"');
	buf_add_json_escaped(&q, needle, strlen(needle));
	buf_addch(&q, '"');
	hit = NULL;
	if (s->scope) {
		/* Inside a nested object: search from its key on. */
		struct buf k;
		const char *from;

		buf_init(&k);
		buf_addf(&k, "\"%s\"", s->scope);
		from = memmem(s->text, s->len, k.p, k.len);
		buf_release(&k);
		if (from)
			hit = memmem(from, s->len - (size_t)(from - s->text),
				     q.p, q.len);
	}
	if (hit == NULL)
		hit = memmem(s->text, s->len, q.p, q.len);
	buf_release(&q);
	if (hit == NULL)
		return;
	*line = 1;
	*col = 1;
	for (p = s->text; p < hit; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

__attribute__((format(printf, 3, 4)))
static void src_error(struct src *s, const char *where, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int line = 0, col = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where)
		locate(s, where, &line, &col);
	if (line)
		error("%s:%d:%d: %s", s->name, line, col, msg);
	else
		error("%s: %s", s->name, msg);
	s->errors++;
}

static bool valid_id(const char *id)
{
	const char *p;

	if (*id == '\0' || strchr(id, '.') == NULL)
		return false;
	for (p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}

/* Known keys per object; anything else is refused. */
static const char *const top_keys[] = {
	"id", "title", "guide", "category", "severity", "match", "metric",
	"window", "after", "causes", "diagnosis", "remedy", "references",
	"examples", NULL,
};
static const char *const guide_keys[] = { "section", "title", NULL };
static const char *const match_keys[] = { "any", "none", "field", NULL };
static const char *const pattern_keys[] = { "re", "literal", "field", NULL };
static const char *const metric_keys[] = {
	"name", "value", "unit", "unit_from", "above", "below", NULL,
};
static const char *const window_keys[] = { "count", "seconds", "by", NULL };
static const char *const after_keys[] = { "rules", "seconds", "reset", NULL };
static const char *const example_keys[] = { "match", "no_match", NULL };
static const char *const categories[] = {
	"build", "health", "database", "startup", "performance", "memory",
	"cors", "auth", "deploy", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static void check_keys(struct src *s, json_t *obj, const char *const *keys,
		       const char *what)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		(void)v;
		if (!in_list(keys, k))
			src_error(s, k, "unknown key '%s' in %s", k, what);
	}
}

/* A required or optional string member; NULL when absent or wrong. */
static const char *get_str(struct src *s, json_t *obj, const char *key,
			   bool required, const char *what)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required)
			src_error(s, NULL, "%s: missing required key '%s'",
				  what, key);
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		src_error(s, key, "%s: '%s' must be a non-empty string",
			  what, key);
		return NULL;
	}
	return json_string_value(v);
}

static bool get_num(struct src *s, json_t *obj, const char *key,
		    bool required, const char *what, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required)
			src_error(s, NULL, "%s: missing required key '%s'",
				  what, key);
		return false;
	}
	if (!json_is_number(v)) {
		src_error(s, key, "%s: '%s' must be a number", what, key);
		return false;
	}
	*out = json_number_value(v);
	return true;
}

/* An array of strings; min_n entries at least when present/required. */
static void get_strlist(struct src *s, json_t *obj, const char *key,
			bool required, size_t min_n, const char *what,
			struct strlist *out)
{
	json_t *v = json_object_get(obj, key), *e;
	size_t i;

	if (v == NULL) {
		if (required)
			src_error(s, NULL, "%s: missing required key '%s'",
				  what, key);
		return;
	}
	if (!json_is_array(v)) {
		src_error(s, key, "%s: '%s' must be an array of strings",
			  what, key);
		return;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0) {
			src_error(s, key, "%s: '%s'[%zu] must be a non-empty "
				  "string", what, key, i);
			continue;
		}
		strlist_add(out, json_string_value(e));
	}
	if (json_array_size(v) < min_n)
		src_error(s, key, "%s: '%s' needs at least %zu entries, has %zu",
			  what, key, min_n, json_array_size(v));
}

/* p at a '[': the ']' that closes the class, or NULL when none does. */
static const char *skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '\\' && p[1])
			p++;
		p++;
	}
	return *p ? p : NULL;
}

/*
 * The longest run of plain characters at the top level of a pattern that
 * every match must contain. Returns an owned string or NULL; *ci is set
 * when the pattern starts with (?i).
 */
TESTABLE char *rules_derive_literal(const char *re, bool *ci)
{
	struct buf run, best;
	const char *p = re;
	int depth = 0;
	char *out = NULL;

	*ci = false;
	/* Leading option settings such as (?i) or (?s). */
	while (p[0] == '(' && p[1] == '?') {
		const char *q = p + 2;

		while (*q == 'i' || *q == 's' || *q == 'm' || *q == 'x' ||
		       *q == 'n' || *q == 'U')
			q++;
		if (*q != ')' || q == p + 2)
			break;
		if (memchr(p + 2, 'x', (size_t)(q - p - 2)))
			return NULL;
		if (memchr(p + 2, 'i', (size_t)(q - p - 2)))
			*ci = true;
		p = q + 1;
	}
	buf_init(&run);
	buf_init(&best);
#define END_RUN() do { \
		if (run.len > best.len) { \
			buf_clear(&best); \
			buf_add(&best, run.p, run.len); \
		} \
		buf_clear(&run); \
	} while (0)
	for (; *p; p++) {
		char c = *p;

		if (depth > 0) {
			if (c == '\\' && p[1])
				p++;
			else if (c == '[') {
				p = skip_class(p);
				if (p == NULL)
					goto out;
			} else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		switch (c) {
		case '\\':
			p++;
			if (*p == '\0')
				goto out;
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9')) {
				END_RUN();
				if (*p == 'Q')
					goto out;
			} else {
				buf_addch(&run, *p);
			}
			break;
		case '(':
			END_RUN();
			depth++;
			break;
		case '[':
			END_RUN();
			p = skip_class(p);
			if (p == NULL)
				goto out;
			break;
		case '|':
			buf_clear(&best);
			goto out;
		case '*':
		case '?':
		case '+':
		case '{':
			if (c == '{' && !(p[1] >= '0' && p[1] <= '9')) {
				buf_addch(&run, c);
				break;
			}
			/* The quantified atom is optional or repeated. */
			if (run.len > 0)
				run.len--;
			END_RUN();
			if (c == '{')
				while (*p && *p != '}')
					p++;
			if (*p == '\0')
				goto out;
			if (p[1] == '?' || p[1] == '+')
				p++;
			break;
		case '.':
		case '^':
		case '$':
			END_RUN();
			break;
		default:
			buf_addch(&run, c);
		}
	}
	END_RUN();
out:
#undef END_RUN
	if (best.len >= MIN_LITERAL)
		out = xmemdup(best.p, best.len);
	buf_release(&run);
	buf_release(&best);
	return out;
}

static void lower_ascii(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] + 32);
}

/*
 * The literal as it appears inside a raw JSON string: quote and backslash
 * escaped. Literals with control bytes or non-ASCII (which encoders may
 * write as \uXXXX) get no JSON prefilter.
 */
static char *json_literal(const char *lit)
{
	struct buf b;
	const unsigned char *p;

	for (p = (const unsigned char *)lit; *p; p++)
		if (*p < 0x20 || *p >= 0x80 || *p == '/')
			return NULL;
	buf_init(&b);
	buf_add_json_escaped(&b, lit, strlen(lit));
	return buf_detach(&b, NULL);
}

static void load_pattern(struct src *s, struct rule *r, json_t *v,
			 struct pattern *pat, struct strlist *sources)
{
	const char *re = NULL, *lit = NULL, *field = NULL;

	memset(pat, 0, sizeof(*pat));
	if (json_is_string(v)) {
		re = json_string_value(v);
		if (strlen(re) != json_string_length(v))
			re = NULL;
	} else if (json_is_object(v)) {
		check_keys(s, v, pattern_keys, "pattern");
		re = get_str(s, v, "re", true, r->id);
		lit = get_str(s, v, "literal", false, r->id);
		field = get_str(s, v, "field", false, r->id);
	}
	if (re == NULL || *re == '\0') {
		if (json_is_string(v) || !json_is_object(v))
			src_error(s, r->id, "rule '%s': a pattern must be a "
				  "non-empty string or an object with 're'",
				  r->id);
		pat->re = xstrdup("");
		return;
	}
	pat->re = xstrdup(re);
	locate(s, re, &pat->line, &pat->col);
	if (pat->line == 0) {
		pat->line = r->impl->line;
		pat->col = r->impl->col;
	}
	strlist_add(sources, re);
	if (lit) {
		bool ci;
		char *d = rules_derive_literal(re, &ci);

		pat->literal = xstrdup(lit);
		pat->literal_given = true;
		pat->ci = ci;
		free(d);
	} else {
		pat->literal = rules_derive_literal(re, &pat->ci);
	}
	if (pat->literal) {
		if (pat->ci)
			lower_ascii(pat->literal, strlen(pat->literal));
		pat->literal_json = json_literal(pat->literal);
	}
	if (field)
		pat->field = xstrdup(field);
}

/*
 * A pattern on a JSON field can only match a record that has the field:
 * with no literal of its own, the quoted key is its JSON literal, and
 * plain-text records (which have no fields) never select it.
 */
static void field_literal(struct rule *r, struct pattern *pat)
{
	const char *field = pat->field ? pat->field : r->field;
	struct buf b;

	if (pat->literal || field == NULL || strcmp(field, "message") == 0)
		return;
	buf_init(&b);
	buf_addch(&b, '"');
	buf_add_json_escaped(&b, field, strlen(field));
	buf_addch(&b, '"');
	pat->literal_json = buf_detach(&b, NULL);
	pat->json_only = true;
}

static void load_patterns(struct src *s, struct rule *r, json_t *arr,
			  const char *key, struct pattern **out, size_t *n,
			  struct strlist *sources)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		src_error(s, key, "rule '%s': 'match.%s' must be an array",
			  r->id, key);
		return;
	}
	*out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
	json_array_foreach(arr, i, v) {
		load_pattern(s, r, v, &(*out)[*n], sources);
		field_literal(r, &(*out)[(*n)++]);
	}
}

static struct rule *load_rule(struct src *s, json_t *root)
{
	struct rule *r = xcalloc(1, sizeof(*r));
	const char *id, *str;
	json_t *v;
	double d;

	r->impl = xcalloc(1, sizeof(*r->impl));
	if (!json_is_object(root)) {
		src_error(s, NULL, "a rule file must hold one JSON object");
		return r;
	}
	check_keys(s, root, top_keys, "rule");
	id = get_str(s, root, "id", true, "rule");
	r->id = xstrdup(id ? id : "?");
	if (id && !valid_id(id))
		src_error(s, id, "rule '%s': id must be 'category.name' in "
			  "[a-z0-9_.]", id);
	locate(s, r->id, &r->impl->line, &r->impl->col);
	str = get_str(s, root, "title", true, r->id);
	r->title = xstrdup(str ? str : "");
	v = json_object_get(root, "guide");
	if (v == NULL || !json_is_object(v)) {
		src_error(s, v ? "guide" : NULL, "rule '%s': 'guide' must be an "
			  "object with 'section' and 'title'", r->id);
	} else {
		check_keys(s, v, guide_keys, "guide");
		str = get_str(s, v, "section", true, r->id);
		r->guide_section = xstrdup(str ? str : "");
		str = get_str(s, v, "title", true, r->id);
		r->guide_title = xstrdup(str ? str : "");
	}
	if (r->guide_section == NULL)
		r->guide_section = xstrdup("");
	if (r->guide_title == NULL)
		r->guide_title = xstrdup("");
	str = get_str(s, root, "category", true, r->id);
	if (str && !in_list(categories, str))
		src_error(s, str, "rule '%s': unknown category '%s'", r->id, str);
	r->category = xstrdup(str ? str : "");
	str = get_str(s, root, "severity", true, r->id);
	if (str && rules_sev_parse(str) < 0)
		src_error(s, str, "rule '%s': severity must be critical, error, "
			  "warning or info, not '%s'", r->id, str);
	else if (str)
		r->severity = (enum rule_sev)rules_sev_parse(str);

	v = json_object_get(root, "match");
	if (v == NULL || !json_is_object(v)) {
		src_error(s, v ? "match" : NULL, "rule '%s': 'match' must be an "
			  "object with 'any'", r->id);
	} else {
		json_t *any = json_object_get(v, "any");
		json_t *none = json_object_get(v, "none");

		check_keys(s, v, match_keys, "match");
		str = get_str(s, v, "field", false, r->id);
		if (str && strcmp(str, "message") != 0)
			r->field = xstrdup(str);
		if (any == NULL || json_array_size(any) == 0)
			src_error(s, "match", "rule '%s': 'match.any' must be a "
				  "non-empty array", r->id);
		else
			load_patterns(s, r, any, "any", &r->impl->any,
				      &r->impl->nany, &r->any);
		if (none)
			load_patterns(s, r, none, "none", &r->impl->none,
				      &r->impl->nnone, &r->none);
	}

	v = json_object_get(root, "metric");
	if (v && !json_is_object(v)) {
		src_error(s, "metric", "rule '%s': 'metric' must be an object",
			  r->id);
	} else if (v) {
		const char *unit, *from;

		s->scope = "metric";
		check_keys(s, v, metric_keys, "metric");
		str = get_str(s, v, "name", true, r->id);
		r->metric_name = xstrdup(str ? str : "?");
		str = get_str(s, v, "value", true, r->id);
		r->impl->metric_value = str ? xstrdup(str) : NULL;
		unit = get_str(s, v, "unit", false, r->id);
		from = get_str(s, v, "unit_from", false, r->id);
		if ((unit == NULL) == (from == NULL))
			src_error(s, "metric", "rule '%s': 'metric' needs "
				  "exactly one of 'unit' and 'unit_from'", r->id);
		if (unit) {
			double one = 1;
			const char *canon = rules_unit_normalise(unit,
						strlen(unit), &one);

			r->impl->metric_unit_fixed = xstrdup(unit);
			r->metric_unit = xstrdup(canon ? canon : unit);
		}
		if (from) {
			r->impl->metric_unit_from = xstrdup(from);
			r->metric_unit = xstrdup("");
		}
		r->has_above = get_num(s, v, "above", false, r->id, &r->above);
		r->has_below = get_num(s, v, "below", false, r->id, &r->below);
	}

	s->scope = NULL;
	v = json_object_get(root, "window");
	if (v && !json_is_object(v)) {
		src_error(s, "window", "rule '%s': 'window' must be an object",
			  r->id);
	} else if (v) {
		s->scope = "window";
		check_keys(s, v, window_keys, "window");
		if (get_num(s, v, "count", true, r->id, &d)) {
			if (d < 1 || d > 100000 || d != (double)(unsigned)d)
				src_error(s, "count", "rule '%s': 'window.count' "
					  "must be a whole number from 1 to "
					  "100000", r->id);
			else
				r->window_count = (unsigned)d;
		}
		if (get_num(s, v, "seconds", true, r->id, &d)) {
			if (d <= 0 || d > 366.0 * 86400)
				src_error(s, "seconds", "rule '%s': "
					  "'window.seconds' must be above 0 "
					  "and at most a year", r->id);
			r->window_seconds = d;
		}
		str = get_str(s, v, "by", false, r->id);
		if (str)
			r->window_by = xstrdup(str);
	}

	s->scope = NULL;
	v = json_object_get(root, "after");
	if (v && !json_is_object(v)) {
		src_error(s, "after", "rule '%s': 'after' must be an object",
			  r->id);
	} else if (v) {
		s->scope = "after";
		check_keys(s, v, after_keys, "after");
		get_strlist(s, v, "rules", true, 1, r->id, &r->after);
		get_strlist(s, v, "reset", false, 0, r->id, &r->after_reset);
		if (get_num(s, v, "seconds", true, r->id, &d)) {
			if (d <= 0 || d > 366.0 * 86400)
				src_error(s, "seconds", "rule '%s': "
					  "'after.seconds' must be above 0 and "
					  "at most a year", r->id);
			r->after_seconds = d;
		}
	}

	s->scope = NULL;
	get_strlist(s, root, "causes", false, 0, r->id, &r->causes);
	get_strlist(s, root, "diagnosis", true, 1, r->id, &r->diagnosis);
	get_strlist(s, root, "remedy", true, 1, r->id, &r->remedy);
	get_strlist(s, root, "references", false, 0, r->id, &r->references);
	v = json_object_get(root, "examples");
	if (v == NULL || !json_is_object(v)) {
		src_error(s, v ? "examples" : NULL, "rule '%s': 'examples' must "
			  "be an object with 'match' and 'no_match'", r->id);
	} else {
		s->scope = "examples";
		check_keys(s, v, example_keys, "examples");
		get_strlist(s, v, "match", true, 3, r->id, &r->ex_match);
		get_strlist(s, v, "no_match", true, 2, r->id, &r->ex_no_match);
		s->scope = NULL;
	}
	return r;
}

/* Add r, replacing a rule with its id loaded from elsewhere. */
static int add_rule(struct rules *rs, struct rule *r, struct src *s,
		    bool builtin)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		struct rule *o = rs->v[i];

		if (strcmp(o->id, r->id) != 0)
			continue;
		if (o->builtin && !builtin) {
			/* --rules DIR overrides a built-in rule. */
			rule_free(o);
			rs->v[i] = r;
			return 0;
		}
		src_error(s, r->id, "duplicate rule id '%s' (also in %s)",
			  r->id, o->file);
		rule_free(r);
		return -1;
	}
	if (rs->n == rs->alloc) {
		rs->alloc = rs->alloc ? rs->alloc * 2 : 64;
		rs->v = xrealloc(rs->v, rs->alloc * sizeof(*rs->v));
	}
	rs->v[rs->n++] = r;
	rs->sorted = false;
	return 0;
}

static int load_text(struct rules *rs, const char *name, const char *text,
		     size_t len, bool builtin)
{
	struct src s = { name, text, len, 0, NULL };
	json_error_t jerr;
	json_t *root;
	struct rule *r;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (jerr.line > 0)
			return error("%s:%d:%d: invalid JSON: %s", name,
				     jerr.line, jerr.column, jerr.text);
		return error("%s: invalid JSON: %s", name, jerr.text);
	}
	r = load_rule(&s, root);
	json_decref(root);
	r->file = xstrdup(name);
	r->builtin = builtin;
	if (s.errors) {
		rule_free(r);
		return -1;
	}
	return add_rule(rs, r, &s, builtin);
}

int rules_load_text(struct rules *rs, const char *name, const char *text,
		    size_t len)
{
	return load_text(rs, name, text, len, false);
}

int rules_load_builtin(struct rules *rs)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < builtin_rule_file_count; i++) {
		const struct builtin_rule_file *f = &builtin_rule_files[i];

		if (load_text(rs, f->name, (const char *)f->data, f->len,
			      true) < 0)
			rc = -1;
	}
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole rule file (small: capped at 1 MiB). */
static int read_small_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char tmp[8192];
	size_t n;

	if (f == NULL)
		return error("%s: cannot open: %s", path, strerror(errno));
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		buf_add(out, tmp, n);
		if (out->len > (1u << 20)) {
			fclose(f);
			return error("%s: rule file larger than 1 MiB", path);
		}
	}
	if (ferror(f)) {
		fclose(f);
		return error("%s: read error: %s", path, strerror(errno));
	}
	fclose(f);
	return 0;
}

int rules_load_dir(struct rules *rs, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (d == NULL)
		return error("%s: cannot open rules directory: %s", dir,
			     strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		struct buf path, text;

		buf_init(&path);
		buf_init(&text);
		buf_addf(&path, "%s%s%s", dir,
			 dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		if (read_small_file(path.p, &text) < 0) {
			rc = -1;
		} else if (load_text(rs, path.p, text.p, text.len, false) < 0) {
			rc = -1;
		}
		buf_release(&path);
		buf_release(&text);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* ---- compiling -------------------------------------------------------- */

static int cmp_rule(const void *a, const void *b)
{
	const struct rule *x = *(const struct rule *const *)a;
	const struct rule *y = *(const struct rule *const *)b;

	return strcmp(x->id, y->id);
}

static size_t rule_index(const struct rules *rs, const char *id)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i]->id, id) == 0)
			return i;
	return SIZE_MAX;
}

/*
 * Compile one pattern; on error reprint it with a caret under the offset
 * PCRE2 names, the way jq and Redis point into a bad expression.
 */
static int compile_pattern(const struct rule *r, struct pattern *p)
{
	int errcode;
	PCRE2_SIZE erroff;
	PCRE2_UCHAR msg[256];

	p->code = pcre2_compile((PCRE2_SPTR)p->re, PCRE2_ZERO_TERMINATED,
				PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK,
				&errcode, &erroff, NULL);
	if (p->code == NULL) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		error("%s:%d:%d: rule '%s': cannot compile pattern: %s "
		      "at offset %zu", r->file, p->line, p->col, r->id,
		      (const char *)msg, (size_t)erroff);
		fprintf(stderr, "    %s\n    %*s^\n", p->re, (int)erroff, "");
		return -1;
	}
	/* Without JIT (an unsupported CPU) the interpreter still works. */
	pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	return 0;
}

/* Is the capture name used by the rule defined by one of its patterns? */
static bool has_capture(const struct rule *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->impl->nany; i++)
		if (r->impl->any[i].code &&
		    pcre2_substring_number_from_name(r->impl->any[i].code,
			(PCRE2_SPTR)name) >= 0)
			return true;
	return false;
}

/*
 * May a pattern run on the decoded text of a whole JSON line in place of
 * the line's message (see rules_prefilter)? Only when no part of it
 * depends on where its subject begins or ends, as the text holds more
 * than the message: no anchors, no lookahead, nothing possessive or
 * atomic. Bracket expressions are skipped; anything doubtful says no.
 */
static bool position_free(const char *re)
{
	const char *p;

	for (p = re; *p; p++) {
		if (*p == '\\') {
			if (p[1] == 'A' || p[1] == 'z' || p[1] == 'Z' ||
			    p[1] == 'G' || p[1] == 'K' || p[1] == '\0')
				return false;
			p++;
		} else if (*p == '[') {
			p = skip_class(p);
			if (p == NULL)
				return false;
		} else if (*p == '^' || *p == '$') {
			return false;
		} else if (*p == '(' && p[1] == '?' &&
			   (p[2] == '=' || p[2] == '!' || p[2] == '>' ||
			    p[2] == '(')) {
			return false;
		} else if (*p == '+' && p > re && strchr("+*?}", p[-1])) {
			return false;
		}
	}
	return true;
}

/*
 * Hand every 'any' pattern to the prefilter, numbered in rule order, with
 * what it needs: the literal the rule file gives, and for a pattern on a
 * JSON field the field's key (such patterns only see JSON records).
 */
/*
 * Add every 'any' pattern of the compiled rules to pf, numbered as
 * pf_rule and pf_pat number them, filling those and the patterns'
 * precheck flags too.
 */
static void add_patterns(struct rules *rs, struct prefilter *pf)
{
	size_t i, k;
	unsigned id = 0;

	for (i = 0; i < rs->n; i++) {
		struct rule *r = rs->v[i];

		for (k = 0; k < r->impl->nany; k++) {
			struct pattern *p = &r->impl->any[k];
			const char *field = p->field ? p->field : r->field;
			bool on_field = field && strcmp(field, "message") != 0;

			p->precheck = !on_field && position_free(p->re);
			rs->pf_rule[id] = r;
			rs->pf_pat[id] = p;
			prefilter_add(pf, id, p->re,
				      p->literal_given ? p->literal : NULL,
				      on_field ? field : NULL,
				      (on_field ? PREFILTER_JSON_ONLY : 0) |
				      (p->ci ? PREFILTER_CI : 0));
			id++;
		}
	}
	rs->npf = id;
	prefilter_build(pf);
}

static void build_prefilter(struct rules *rs)
{
	size_t i, n = 0;

	prefilter_free(rs->pf);
	free(rs->pf_rule);
	free(rs->pf_pat);
	free(rs->cand);
	rs->pf = prefilter_new();
	for (i = 0; i < rs->n; i++)
		n += rs->v[i]->impl->nany;
	rs->pf_rule = xcalloc(n + 1, sizeof(*rs->pf_rule));
	rs->pf_pat = xcalloc(n + 1, sizeof(*rs->pf_pat));
	rs->cand = xcalloc(rs->n + 1, sizeof(*rs->cand));
	rs->ncand = 0;
	add_patterns(rs, rs->pf);
}

int rules_compile(struct rules *rs, bool strict)
{
	size_t i, k;
	int rc = 0;

	if (rs->n > 1)
		qsort(rs->v, rs->n, sizeof(*rs->v), cmp_rule);
	rs->sorted = true;
	for (i = 0; i < rs->n; i++) {
		struct rule *r = rs->v[i];
		struct rule_impl *im = r->impl;

		im->index = i;
		for (k = 0; k < im->nany; k++) {
			if (compile_pattern(r, &im->any[k]) < 0)
				rc = -1;
		}
		for (k = 0; k < im->nnone; k++)
			if (compile_pattern(r, &im->none[k]) < 0)
				rc = -1;
		for (k = 0; k < r->causes.n; k++)
			if (rule_index(rs, r->causes.v[k]) == SIZE_MAX) {
				error("%s:%d:%d: rule '%s': 'causes' names "
				      "unknown rule '%s'", r->file, im->line,
				      im->col, r->id, r->causes.v[k]);
				rc = -1;
			}
		if (r->after.n) {
			im->after_idx = xcalloc(r->after.n, sizeof(size_t));
			for (k = 0; k < r->after.n; k++) {
				im->after_idx[k] = rule_index(rs, r->after.v[k]);
				if (im->after_idx[k] == SIZE_MAX) {
					error("%s:%d:%d: rule '%s': 'after' names "
					      "unknown rule '%s'", r->file,
					      im->line, im->col, r->id,
					      r->after.v[k]);
					rc = -1;
				}
			}
		}
		if (r->after_reset.n) {
			im->reset_idx = xcalloc(r->after_reset.n, sizeof(size_t));
			for (k = 0; k < r->after_reset.n; k++) {
				im->reset_idx[k] = rule_index(rs,
							      r->after_reset.v[k]);
				if (im->reset_idx[k] == SIZE_MAX) {
					error("%s:%d:%d: rule '%s': 'after.reset' "
					      "names unknown rule '%s'", r->file,
					      im->line, im->col, r->id,
					      r->after_reset.v[k]);
					rc = -1;
				}
			}
		}
		if (rc == 0 && im->metric_value &&
		    !has_capture(r, im->metric_value)) {
			error("%s:%d:%d: rule '%s': metric value '%s' is not a "
			      "named capture of any pattern", r->file, im->line,
			      im->col, r->id, im->metric_value);
			rc = -1;
		}
		if (rc == 0 && im->metric_unit_from &&
		    !has_capture(r, im->metric_unit_from)) {
			error("%s:%d:%d: rule '%s': metric unit_from '%s' is not "
			      "a named capture of any pattern", r->file,
			      im->line, im->col, r->id, im->metric_unit_from);
			rc = -1;
		}
		if (rc == 0 && r->window_by && !has_capture(r, r->window_by)) {
			error("%s:%d:%d: rule '%s': window 'by' '%s' is not a "
			      "named capture of any pattern", r->file, im->line,
			      im->col, r->id, r->window_by);
			rc = -1;
		}
		if (r->window_count)
			for (k = 0; k < WINDOW_GROUPS; k++)
				im->groups[k].ring = xcalloc(r->window_count,
							     sizeof(int64_t));
	}
	if (rs->md == NULL) {
		rs->md = pcre2_match_data_create(2 * RULES_MAX_CAPTURES + 2,
						 NULL);
		rs->mctx = pcre2_match_context_create(NULL);
		rs->jit_stack = pcre2_jit_stack_create(32 * 1024,
						       RULES_JIT_STACK, NULL);
		if (rs->md == NULL || rs->mctx == NULL || rs->jit_stack == NULL)
			return error("out of memory compiling rules");
		pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
		pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
		pcre2_jit_stack_assign(rs->mctx, NULL, rs->jit_stack);
	}
	if (rc == 0) {
		build_prefilter(rs);
		for (i = 0; strict && i < rs->npf; i++) {
			const struct rule *r = rs->pf_rule[i];
			const struct pattern *p = rs->pf_pat[i];

			if (!r->builtin &&
			    prefilter_is_always(rs->pf, (unsigned)i))
				warning("%s:%d:%d: rule '%s': pattern has no "
					"literal for the prefilter and runs on "
					"every record", r->file, p->line,
					p->col, r->id);
		}
	}
	rs->compiled = rc == 0;
	return rc;
}

/* ---- matching --------------------------------------------------------- */

/* Append code point c as UTF-8 (what jansson decodes \uXXXX into). */
static void add_utf8(struct buf *b, unsigned c)
{
	if (c < 0x80) {
		buf_addch(b, (char)c);
	} else if (c < 0x800) {
		buf_addch(b, (char)(0xc0 | c >> 6));
		buf_addch(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_addch(b, (char)(0xe0 | c >> 12));
		buf_addch(b, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addch(b, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_addch(b, (char)(0xf0 | c >> 18));
		buf_addch(b, (char)(0x80 | (c >> 12 & 0x3f)));
		buf_addch(b, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addch(b, (char)(0x80 | (c & 0x3f)));
	}
}

/* Four hex digits at p (n bytes readable); -1 when they are not. */
static long hex4(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * A JSON line as plain text: string escapes decoded (\" \\ \/ \n \t,
 * \uXXXX as UTF-8, surrogate pairs joined), keys and punctuation kept, so
 * that literals written for plain text are found in the messages the line
 * carries. Each message is a substring of the result. A line without a
 * backslash is its own result; an escape that is not valid JSON is kept
 * as it is (the line will not decode, and is then matched as text).
 */
static struct span json_text(struct buf *b, const char *raw, size_t len)
{
	const char *p = memchr(raw, '\\', len), *end = raw + len;
	struct span out = { raw, len };

	if (p == NULL)
		return out;
	buf_clear(b);
	buf_add(b, raw, (size_t)(p - raw));
	while (p < end) {
		const char *q;
		long c, lo;

		if (*p != '\\' || p + 1 >= end) {
			q = memchr(p + 1, '\\', (size_t)(end - p - 1));
			if (q == NULL)
				q = end;
			buf_add(b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		switch (p[1]) {
		case '"': case '\\': case '/':
			buf_addch(b, p[1]);
			p += 2;
			continue;
		case 'b': buf_addch(b, '\b'); p += 2; continue;
		case 'f': buf_addch(b, '\f'); p += 2; continue;
		case 'n': buf_addch(b, '\n'); p += 2; continue;
		case 'r': buf_addch(b, '\r'); p += 2; continue;
		case 't': buf_addch(b, '\t'); p += 2; continue;
		case 'u':
			c = hex4(p + 2, (size_t)(end - p - 2));
			if (c < 0)
				break;
			p += 6;
			if (c >= 0xd800 && c < 0xdc00 && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = hex4(p + 2, 4)) >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c < 0xe000) {
				c = 0xfffd;
			}
			add_utf8(b, (unsigned)c);
			continue;
		default:
			break;
		}
		buf_add(b, p, 2);
		p += 2;
	}
	out.p = b->p;
	out.len = b->len;
	return out;
}

/* Match p against the subject; 1 match, 0 none, -1 limit hit. */
static int run_pattern(struct rules *rs, const struct pattern *p,
		       struct span subj);

/*
 * A JSON line whose literals let pattern p through: does p match the
 * line's decoded text, or the raw line (what p sees when the line has no
 * message or does not decode)? Far cheaper than decoding the line with
 * jansson to learn that an app.timing line was 3 ms, not 5000.
 */
static bool precheck(struct rules *rs, const struct pattern *p,
		     struct span text, const char *raw, size_t len)
{
	struct span r = { raw, len };

	if (run_pattern(rs, p, text) != 0)
		return true;
	return text.p != raw && run_pattern(rs, p, r) != 0;
}

/* Add rule index i to the candidates, keeping them in id order. */
static void add_candidate(struct rules *rs, size_t i)
{
	size_t k = rs->ncand++;

	while (k > 0 && rs->cand[k - 1] > i) {
		rs->cand[k] = rs->cand[k - 1];
		k--;
	}
	rs->cand[k] = i;
}

/* The rules of the patterns ids[0..n) become the candidates. */
static size_t select_ids(struct rules *rs, struct span text, const char *raw,
			 size_t len, bool json, const unsigned *ids, size_t n)
{
	size_t i;
	bool have_text = !json || text.p != NULL;

	for (i = 0; i < n; i++) {
		struct rule *r;
		const struct pattern *p;

		if (ids[i] >= rs->npf)
			continue;
		r = rs->pf_rule[ids[i]];
		p = rs->pf_pat[ids[i]];
		if (r->impl->candidate)
			continue;
		if (json && p->precheck) {
			if (!have_text) {
				text = json_text(&rs->unesc, raw, len);
				have_text = true;
			}
			if (!precheck(rs, p, text, raw, len))
				continue;
		}
		r->impl->candidate = true;
		add_candidate(rs, r->impl->index);
	}
	return rs->ncand;
}

/* Forget the candidates of the last record. */
static void clear_candidates(struct rules *rs)
{
	size_t i;

	for (i = 0; i < rs->ncand; i++)
		rs->v[rs->cand[i]]->impl->candidate = false;
	rs->ncand = 0;
}

size_t rules_prefilter(struct rules *rs, const char *raw, size_t len,
		       bool json)
{
	struct span text = { raw, len };
	const unsigned *ids;
	size_t n;

	clear_candidates(rs);
	if (rs->pf == NULL)
		return 0;
	if (json)
		text = json_text(&rs->unesc, raw, len);
	ids = prefilter_scan(rs->pf, text.p, text.len, json, &n);
	return select_ids(rs, text, raw, len, json, ids, n);
}

size_t rules_select(struct rules *rs, const char *raw, size_t len, bool json,
		    const unsigned *ids, size_t n)
{
	struct span text = { json ? NULL : raw, len };

	clear_candidates(rs);
	if (rs->pf == NULL)
		return 0;
	return select_ids(rs, text, raw, len, json, ids, n);
}

/* ---- a scanner for another thread ---- */

struct rules_scanner {
	struct prefilter *pf;   /* owned: the same patterns, its own state */
	struct buf unesc;
};

struct rules_scanner *rules_scanner_new(struct rules *rs)
{
	struct rules_scanner *sc = xcalloc(1, sizeof(*sc));

	buf_init(&sc->unesc);
	if (rs->pf != NULL)
		sc->pf = prefilter_copy(rs->pf);
	return sc;
}

void rules_scanner_free(struct rules_scanner *sc)
{
	if (sc == NULL)
		return;
	prefilter_free(sc->pf);
	buf_release(&sc->unesc);
	free(sc);
}

const unsigned *rules_scanner_scan(struct rules_scanner *sc, const char *raw,
				   size_t len, bool json, size_t *n)
{
	struct span text = { raw, len };

	*n = 0;
	if (sc->pf == NULL)
		return NULL;
	if (json)
		text = json_text(&sc->unesc, raw, len);
	return prefilter_scan(sc->pf, text.p, text.len, json, n);
}

/* Match p against the subject; 1 match, 0 none, -1 limit hit. */
static int run_pattern(struct rules *rs, const struct pattern *p,
		       struct span subj)
{
	int rc = pcre2_match(p->code, (PCRE2_SPTR)(subj.p ? subj.p : ""),
			     subj.len, 0, 0, rs->md, rs->mctx);

	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

static bool subject_for(const struct rule *r, const struct pattern *p,
			const struct rules_input *in, struct span *out)
{
	const char *field = p->field ? p->field : r->field;

	if (field == NULL || strcmp(field, "message") == 0) {
		*out = in->message;
		return true;
	}
	if (in->field == NULL)
		return false;
	return in->field(in->field_ctx, field, out);
}

static void collect_captures(struct rules *rs, const struct pattern *p,
			     struct span subj, struct rules_match *m)
{
	uint32_t count, size, i;
	PCRE2_SPTR table;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rs->md);

	m->ncaptures = 0;
	pcre2_pattern_info(p->code, PCRE2_INFO_NAMECOUNT, &count);
	if (count == 0)
		return;
	pcre2_pattern_info(p->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(p->code, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count && m->ncaptures < RULES_MAX_CAPTURES; i++) {
		const unsigned char *e = table + (size_t)i * size;
		unsigned n = (unsigned)(e[0] << 8 | e[1]);

		if (n > RULES_MAX_CAPTURES || ov[2 * n] == PCRE2_UNSET)
			continue;
		m->captures[m->ncaptures].name = (const char *)e + 2;
		m->captures[m->ncaptures].value.p = subj.p + ov[2 * n];
		m->captures[m->ncaptures].value.len = ov[2 * n + 1] - ov[2 * n];
		m->ncaptures++;
	}
}

static const struct span *capture(const struct rules_match *m,
				  const char *name)
{
	size_t i;

	for (i = 0; i < m->ncaptures; i++)
		if (strcmp(m->captures[i].name, name) == 0)
			return &m->captures[i].value;
	return NULL;
}

/* Units: a name, its canonical unit, and the factor to it. */
static const struct {
	const char *name;
	const char *canon;
	double factor;
} units[] = {
	{ "ns", "ms", 1e-6 }, { "us", "ms", 1e-3 }, { "\xc2\xb5s", "ms", 1e-3 },
	{ "ms", "ms", 1 }, { "s", "ms", 1000 }, { "sec", "ms", 1000 },
	{ "secs", "ms", 1000 }, { "second", "ms", 1000 },
	{ "seconds", "ms", 1000 }, { "m", "ms", 60000 },
	{ "min", "ms", 60000 }, { "mins", "ms", 60000 },
	{ "minutes", "ms", 60000 }, { "h", "ms", 3600000 },
	{ "b", "MiB", 1.0 / 1048576 }, { "bytes", "MiB", 1.0 / 1048576 },
	{ "k", "MiB", 1.0 / 1024 }, { "kb", "MiB", 1.0 / 1024 },
	{ "kib", "MiB", 1.0 / 1024 }, { "mb", "MiB", 1 }, { "mib", "MiB", 1 },
	{ "gb", "MiB", 1024 }, { "gib", "MiB", 1024 }, { "g", "MiB", 1024 },
	{ "tb", "MiB", 1048576 }, { "tib", "MiB", 1048576 },
	{ "%", "%", 1 }, { "percent", "%", 1 },
};

const char *rules_unit_normalise(const char *unit, size_t len, double *value)
{
	char low[16];
	size_t i;

	if (len == 0 || len >= sizeof(low))
		return NULL;
	/* "M" alone is mebibytes, "m" alone minutes: decide before folding. */
	if (len == 1 && unit[0] == 'M')
		return "MiB";
	for (i = 0; i < len; i++)
		low[i] = (unit[i] >= 'A' && unit[i] <= 'Z') ?
			 (char)(unit[i] + 32) : unit[i];
	low[len] = '\0';
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(units[i].name, low) == 0) {
			*value *= units[i].factor;
			return units[i].canon;
		}
	}
	return NULL;
}

/* Parse "1,234.5" or "12.3" into *out. */
static bool parse_number(struct span s, double *out)
{
	char tmp[64];
	size_t i, n = 0;
	char *end;

	for (i = 0; i < s.len && n + 1 < sizeof(tmp); i++)
		if (s.p[i] != ',' && s.p[i] != '_' && s.p[i] != ' ')
			tmp[n++] = s.p[i];
	if (n == 0 || i < s.len)
		return false;
	tmp[n] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	return errno == 0 && *end == '\0';
}

/* Take the metric from the captures; false when it cannot be read. */
static bool read_metric(const struct rule *r, struct rules_match *m)
{
	const struct rule_impl *im = r->impl;
	const struct span *v = capture(m, im->metric_value);
	double value;

	if (v == NULL || !parse_number(*v, &value))
		return false;
	if (im->metric_unit_fixed) {
		rules_unit_normalise(im->metric_unit_fixed,
				     strlen(im->metric_unit_fixed), &value);
		m->metric_unit = r->metric_unit;
	} else {
		const struct span *u = capture(m, im->metric_unit_from);

		if (u == NULL || (m->metric_unit = rules_unit_normalise(u->p,
				u->len, &value)) == NULL)
			return false;
	}
	m->metric = value;
	m->has_metric = true;
	return true;
}

static uint64_t hash_span(const struct span *s)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; s && i < s->len; i++) {
		h ^= (unsigned char)s->p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/*
 * Count this match in its window group; true when the count-th match
 * within window_seconds arrived (then the group starts over).
 */
static bool window_hit(struct rule *r, const struct rules_match *m,
		       int64_t ts, unsigned *hits)
{
	struct rule_impl *im = r->impl;
	uint64_t key = r->window_by ? hash_span(capture(m, r->window_by)) : 0;
	struct window_group *g = NULL;
	int64_t win = (int64_t)(r->window_seconds * 1000);
	size_t i;
	unsigned inside;

	for (i = 0; i < WINDOW_GROUPS; i++) {
		if (im->groups[i].filled && im->groups[i].key == key) {
			g = &im->groups[i];
			break;
		}
	}
	if (g == NULL) {
		/* A free group, or the one idle longest. */
		g = &im->groups[0];
		for (i = 0; i < WINDOW_GROUPS; i++) {
			if (im->groups[i].filled == 0) {
				g = &im->groups[i];
				break;
			}
			if (im->groups[i].last < g->last)
				g = &im->groups[i];
		}
		g->filled = 0;
		g->head = 0;
		g->key = key;
	}
	g->ring[g->head] = ts;
	g->head = (g->head + 1) % r->window_count;
	if (g->filled < r->window_count)
		g->filled++;
	g->last = ts;
	if (g->filled < r->window_count)
		return false;
	/*
	 * Count the kept matches inside [ts - window, ts]: inputs given out
	 * of order (a rotated file after the current one) send time back.
	 */
	for (i = 0, inside = 0; i < r->window_count; i++)
		if (g->ring[i] <= ts && ts - g->ring[i] <= win)
			inside++;
	if (inside < r->window_count)
		return false;
	*hits = r->window_count;
	g->filled = 0;
	g->head = 0;
	return true;
}

/*
 * Did one of the 'after' rules fire within after_seconds before ts, with
 * no 'reset' rule firing since (a new container starts the story over)?
 */
static bool after_met(const struct rules *rs, const struct rule *r,
		      int64_t ts)
{
	int64_t span = (int64_t)(r->after_seconds * 1000);
	size_t k, j;

	for (k = 0; k < r->after.n; k++) {
		const struct rule_impl *o;
		bool reset = false;

		if (r->impl->after_idx[k] == SIZE_MAX)
			continue;
		o = rs->v[r->impl->after_idx[k]]->impl;
		if (!o->fired_once || ts < o->last_fire ||
		    ts - o->last_fire > span)
			continue;
		for (j = 0; j < r->after_reset.n; j++) {
			const struct rule_impl *x;

			if (r->impl->reset_idx[j] == SIZE_MAX)
				continue;
			x = rs->v[r->impl->reset_idx[j]]->impl;
			if (x->fired_once && x->last_fire >= o->last_fire &&
			    x->last_fire <= ts)
				reset = true;
		}
		if (!reset)
			return true;
	}
	return false;
}

/*
 * Match the rule's patterns and 'none' vetoes on the record; fill m's
 * captures and metric. Return 1 match, 0 none, -1 limit hit.
 */
static int match_rule(struct rules *rs, struct rule *r,
		      const struct rules_input *in, struct rules_match *m)
{
	struct rule_impl *im = r->impl;
	size_t k;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	m->rule = r;
	for (k = 0; k < im->nany; k++) {
		struct span subj;

		if (!subject_for(r, &im->any[k], in, &subj))
			continue;
		rc = run_pattern(rs, &im->any[k], subj);
		if (rc < 0) {
			rs->limit_rule = r->id;
			return -1;
		}
		if (rc > 0) {
			collect_captures(rs, &im->any[k], subj, m);
			break;
		}
	}
	if (rc == 0)
		return 0;
	for (k = 0; k < im->nnone; k++) {
		struct span subj;
		int v;

		if (!subject_for(r, &im->none[k], in, &subj))
			continue;
		v = run_pattern(rs, &im->none[k], subj);
		if (v != 0) {
			if (v < 0)
				rs->limit_rule = r->id;
			return v < 0 ? -1 : 0;
		}
	}
	m->fired = true;
	if (im->metric_value) {
		if (read_metric(r, m)) {
			if (r->has_above && !(m->metric > r->above))
				m->fired = false;
			if (r->has_below && !(m->metric < r->below))
				m->fired = false;
		} else if (r->has_above || r->has_below) {
			m->fired = false;
		}
	}
	return 1;
}

int rules_eval(struct rules *rs, const struct rules_input *in,
	       rules_match_fn fn, void *arg)
{
	struct rules_match m;
	size_t c;
	int limits = 0;
	int64_t ts = in->has_ts ? in->ts : 0;

	rs->matched = 0;

	/* The rules selected by rules_prefilter, in id order. */
	for (c = 0; c < rs->ncand; c++) {
		struct rule *r = rs->v[rs->cand[c]];
		int rc;

		if (!r->impl->candidate)
			continue;
		r->impl->candidate = false;
		rc = match_rule(rs, r, in, &m);
		if (rc < 0) {
			limits++;
			continue;
		}
		if (rc == 0)
			continue;
		rs->matched++;
		if (m.fired && r->after.n && !after_met(rs, r, ts))
			m.fired = false;
		if (m.fired && r->window_count &&
		    !window_hit(r, &m, ts, &m.window_hits))
			m.fired = false;
		if (m.fired) {
			r->impl->fired_once = true;
			r->impl->last_fire = ts;
		}
		if (!m.fired && !m.has_metric)
			continue;
		m.index = rs->cand[c];
		if (fn(arg, &m) < 0)
			return -1;
	}
	return limits;
}

/*
 * The saved state: "LTRS1" then, for each rule with something to keep,
 * its id (length byte, bytes), the last firing (a flag byte, 8 bytes),
 * its window count (4 bytes) and its groups in use (a count byte, then
 * per group its key, 8 bytes, and its matches, oldest first: a count, 4
 * bytes, and 8 bytes each). Numbers are little-endian. Groups of more
 * than STATE_MAX_KEPT matches are not kept (a user window of thousands
 * would write megabytes at every commit).
 */
#define STATE_MAGIC "LTRS1"
#define STATE_MAX_KEPT 4096

/* v as 'bytes' bytes, little-endian. */
static void put_le(struct buf *b, uint64_t v, int bytes)
{
	unsigned char c[8];
	int i;

	for (i = 0; i < bytes; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	buf_add(b, c, (size_t)bytes);
}

void rules_state_save(const struct rules *rs, struct buf *out)
{
	size_t i, k, j;

	out->len = 0;
	out->p[0] = '\0';
	buf_adds(out, STATE_MAGIC);
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = rs->v[i];
		const struct rule_impl *im = r->impl;
		size_t idlen = strlen(r->id), ngroups = 0;

		for (k = 0; k < WINDOW_GROUPS && r->window_count; k++)
			if (im->groups[k].filled > 0 &&
			    im->groups[k].filled <= STATE_MAX_KEPT)
				ngroups++;
		if ((!im->fired_once && ngroups == 0) || idlen > 255)
			continue;
		buf_addch(out, (char)idlen);
		buf_add(out, r->id, idlen);
		buf_addch(out, (char)im->fired_once);
		put_le(out, (uint64_t)im->last_fire, 8);
		put_le(out, r->window_count, 4);
		buf_addch(out, (char)ngroups);
		for (k = 0; k < WINDOW_GROUPS && r->window_count; k++) {
			const struct window_group *g = &im->groups[k];

			if (g->filled == 0 || g->filled > STATE_MAX_KEPT)
				continue;
			put_le(out, g->key, 8);
			put_le(out, g->filled, 4);
			/* oldest first: the slots before head, going round */
			for (j = 0; j < g->filled; j++)
				put_le(out, (uint64_t)g->ring[
					(g->head + r->window_count - g->filled +
					 j) % r->window_count], 8);
		}
	}
}

/* A cursor over saved bytes; 'bad' once a read went past the end. */
struct state_rd {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t get_le(struct state_rd *rd, int bytes)
{
	uint64_t v = 0;
	int i;

	if (rd->bad || rd->end - rd->p < bytes) {
		rd->bad = true;
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)rd->p[i] << (8 * i);
	rd->p += bytes;
	return v;
}

int rules_state_load(struct rules *rs, const void *p, size_t n)
{
	struct state_rd rd = { p, (const unsigned char *)p + n, false };
	size_t magic = sizeof(STATE_MAGIC) - 1;

	rules_forget(rs);
	if (n < magic || memcmp(p, STATE_MAGIC, magic) != 0)
		return -1;
	rd.p += magic;
	while (!rd.bad && rd.p < rd.end) {
		size_t idlen = (size_t)get_le(&rd, 1), ngroups, k, j;
		char id[256];
		const struct rule *found;
		struct rule *r = NULL;
		bool fired;
		int64_t last;
		uint32_t count;

		if (rd.bad || (size_t)(rd.end - rd.p) < idlen) {
			rd.bad = true;
			break;
		}
		memcpy(id, rd.p, idlen);
		id[idlen] = '\0';
		rd.p += idlen;
		fired = get_le(&rd, 1) != 0;
		last = (int64_t)get_le(&rd, 8);
		count = (uint32_t)get_le(&rd, 4);
		ngroups = (size_t)get_le(&rd, 1);
		found = rules_find(rs, id);
		if (found != NULL) {
			r = rs->v[found->impl->index];
			r->impl->fired_once = fired;
			r->impl->last_fire = last;
		}
		for (k = 0; k < ngroups && !rd.bad; k++) {
			uint64_t key = get_le(&rd, 8);
			uint32_t filled = (uint32_t)get_le(&rd, 4);
			struct window_group *g = NULL;

			if (filled == 0 || filled > count ||
			    filled > STATE_MAX_KEPT) {
				rd.bad = true;
				break;
			}
			/* the same window: the saved groups, in order */
			if (r != NULL && r->window_count == count &&
			    k < WINDOW_GROUPS) {
				g = &r->impl->groups[k];
				g->key = key;
				g->filled = filled;
				g->head = filled % count;
			}
			for (j = 0; j < filled; j++) {
				int64_t t = (int64_t)get_le(&rd, 8);

				if (g != NULL && !rd.bad) {
					g->ring[j] = t;
					g->last = t;
				}
			}
		}
	}
	if (rd.bad) {
		rules_forget(rs);
		return -1;
	}
	return 0;
}

#ifdef LOGTRIAGE_TESTING
bool rules_is_candidate(const struct rules *rs, const struct rule *r)
{
	(void)rs;
	return r->impl->candidate;
}
#endif

void rules_forget(struct rules *rs)
{
	size_t i, k;

	for (i = 0; i < rs->n; i++) {
		struct rule_impl *im = rs->v[i]->impl;

		for (k = 0; k < WINDOW_GROUPS; k++) {
			im->groups[k].key = 0;
			im->groups[k].filled = 0;
			im->groups[k].head = 0;
			im->groups[k].last = 0;
		}
		im->fired_once = false;
		im->last_fire = 0;
	}
}

int rules_test_one(struct rules *rs, const struct rule *r,
		   const struct rules_input *in)
{
	struct rules_match m;
	int rc = match_rule(rs, (struct rule *)r, in, &m);

	if (rc <= 0)
		return rc;
	return m.fired ? 1 : 0;
}

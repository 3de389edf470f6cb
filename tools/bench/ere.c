/*
 * ere.c - translate the rules' PCRE2 patterns into POSIX extended regular
 * expressions for 'LC_ALL=C grep -c -E -f', the reference 'make bench'
 * compares logtriage with.
 *
 *   bench-ere RULE.json... > patterns.txt
 *
 * One line per 'match.any' pattern, translated so that grep matches a
 * superset of the lines the pattern matches within one line:
 *   - patterns on a JSON field ("field" other than message) and 'none'
 *     vetoes are left out: grep has no fields and no vetoes;
 *   - (?i) becomes [aA]-style brackets; (?s), (?m), (?x)-free flags drop;
 *   - (?<name>...) and (?:...) become (...);
 *   - lookarounds (?=, (?!, (?<=, (?<! are dropped (a superset);
 *   - lazy and possessive quantifiers lose their '?' or '+';
 *   - \d \D become [0-9] [^0-9]; \s \S \w \W \b stay (GNU extensions);
 *     inside brackets \d \s \w become [:digit:] [:space:] [:alnum:]_;
 *   - \A \z \Z become ^ and $; \xHH becomes the byte;
 *   - an escaped character that is not special in ERE loses its backslash
 *     (grep 3.8 warns about stray backslashes);
 *   - grep matches single lines, so a pattern is cut before the first \n
 *     outside brackets: at that point when it is at the top level, else
 *     before the outermost group holding it; [^\n] keeps its meaning.
 * A pattern that becomes empty is left out. The translation is a speed
 * reference, not a second implementation of the rules.
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
};

static void add(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = realloc(o->p, o->cap);
		if (o->p == NULL)
			exit(1);
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void addc(struct out *o, char c)
{
	add(o, &c, 1);
}

static void adds(struct out *o, const char *s)
{
	add(o, s, strlen(s));
}

/* A literal character, case-folded into [aA] when ci. */
static void lit(struct out *o, char c, bool ci)
{
	static const char special[] = ".[]()*+?{}|^$\\";

	if (ci && isalpha((unsigned char)c)) {
		char b[5] = { '[', (char)tolower((unsigned char)c),
			      (char)toupper((unsigned char)c), ']', 0 };
		adds(o, b);
	} else if (strchr(special, c) && c != '\0') {
		addc(o, '\\');
		addc(o, c);
	} else {
		addc(o, c);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Translate a bracket expression starting after '['; return the position
 * after its ']'. Items go into a set written back in POSIX order: ']'
 * first, '-' last, classes in between.
 */
static const char *bracket(const char *p, struct out *o, bool ci)
{
	struct out body = { 0 };
	bool neg = false, rbr = false, dash = false;

	if (*p == '^') {
		neg = true;
		p++;
	}
	if (*p == ']') {
		rbr = true;
		p++;
	}
	while (*p && *p != ']') {
		char c = *p++;

		if (c == '\\' && *p) {
			char e = *p++;

			switch (e) {
			case 'd': adds(&body, "[:digit:]"); break;
			case 's': adds(&body, "[:space:]"); break;
			case 'w': adds(&body, "[:alnum:]_"); break;
			case 'n': break;	/* lines hold no newline */
			case 't': addc(&body, '\t'); break;
			case ']': rbr = true; break;
			case '-': dash = true; break;
			case 'x':
				if (hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
					addc(&body, (char)(hexval(p[0]) * 16 +
							   hexval(p[1])));
					p += 2;
				}
				break;
			default: addc(&body, e);
			}
			continue;
		}
		if (c == '-' && (*p == ']' || body.len == 0)) {
			dash = true;
			continue;
		}
		if (c == '[' && *p == ':') {
			const char *end = strstr(p, ":]");

			if (end) {
				add(&body, p - 1, (size_t)(end + 2 - (p - 1)));
				p = end + 2;
				continue;
			}
		}
		if (ci && isalpha((unsigned char)c)) {
			addc(&body, (char)tolower((unsigned char)c));
			addc(&body, (char)toupper((unsigned char)c));
		} else {
			addc(&body, c);
		}
	}
	if (neg && !rbr && !dash && body.len == 0) {
		addc(o, '.');	/* [^\n]: anything on one line */
		free(body.p);
		return *p ? p + 1 : p;
	}
	addc(o, '[');
	if (neg)
		addc(o, '^');
	if (rbr)
		addc(o, ']');
	if (body.len)
		add(o, body.p, body.len);
	if (dash)
		addc(o, '-');
	if (!neg && !rbr && !dash && body.len == 0)
		adds(o, "[:space:]");	/* [\n]: nothing on one line */
	addc(o, ']');
	free(body.p);
	return *p ? p + 1 : p;
}

/* Skip a group from after its '(' to after its ')'. */
static const char *skip_group(const char *p)
{
	int depth = 1;

	while (*p && depth) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '[') {
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
		} else if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		p++;
	}
	return p;
}

/* Translate one pattern; return NULL when nothing usable is left. */
static char *translate(const char *re)
{
	struct out o = { 0 };
	bool ci = false;
	int depth = 0;
	size_t outer = 0;       /* output length where the depth-1 group began */
	const char *p = re;

	while (p[0] == '(' && p[1] == '?') {
		const char *q = p + 2;

		while (*q && strchr("imsxnU", *q))
			q++;
		if (*q != ')' || q == p + 2)
			break;
		if (memchr(p + 2, 'i', (size_t)(q - p - 2)))
			ci = true;
		p = q + 1;
	}
	adds(&o, "");
	while (*p) {
		char c = *p++;

		switch (c) {
		case '\\': {
			char e = *p ? *p++ : '\\';

			switch (e) {
			case 'd': adds(&o, "[0-9]"); break;
			case 'D': adds(&o, "[^0-9]"); break;
			case 's': case 'S': case 'w': case 'W': case 'b':
			case 'B':
				addc(&o, '\\');
				addc(&o, e);
				break;
			case 'A': addc(&o, '^'); break;
			case 'z': case 'Z': addc(&o, '$'); break;
			case 't': addc(&o, '\t'); break;
			case 'n':
				/* cut: grep sees one line at a time */
				if (depth > 0)
					o.len = outer;
				goto done;
			case 'x':
				if (hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
					lit(&o, (char)(hexval(p[0]) * 16 +
						       hexval(p[1])), false);
					p += 2;
				}
				break;
			default:
				lit(&o, e, ci);
			}
			break;
		}
		case '[':
			p = bracket(p, &o, ci);
			break;
		case '(':
			if (p[0] == '?' && (p[1] == '=' || p[1] == '!' ||
					    (p[1] == '<' && (p[2] == '=' ||
							     p[2] == '!')))) {
				p = skip_group(p);
				/* a quantifier on a lookaround goes too */
				if (*p == '?' || *p == '*')
					p++;
				break;
			}
			if (depth == 0)
				outer = o.len;
			depth++;
			if (p[0] == '?' && p[1] == ':')
				p += 2;
			else if (p[0] == '?' && (p[1] == '<' || p[1] == 'P' ||
						 p[1] == '\'')) {
				while (*p && *p != '>' && *p != '\'')
					p++;
				if (*p)
					p++;
			}
			addc(&o, '(');
			break;
		case ')':
			depth--;
			addc(&o, ')');
			break;
		case '*': case '+': case '?': case '}':
			addc(&o, c);
			if (*p == '?' || *p == '+')
				p++;	/* lazy or possessive */
			break;
		default:
			if (ci && isalpha((unsigned char)c))
				lit(&o, c, true);
			else
				addc(&o, c);
		}
	}
done:
	while (o.len > 0 && (o.p[o.len - 1] == '|' || o.p[o.len - 1] == '('))
		o.len--;
	o.p[o.len] = '\0';
	if (o.len < 3) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

int main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-ere RULE.json...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		json_error_t jerr;
		json_t *root = json_load_file(argv[i], 0, &jerr);
		json_t *match, *any, *v, *rfield;
		size_t k;

		if (root == NULL) {
			fprintf(stderr, "bench-ere: %s:%d: %s\n", argv[i],
				jerr.line, jerr.text);
			rc = 1;
			continue;
		}
		match = json_object_get(root, "match");
		any = json_object_get(match, "any");
		rfield = json_object_get(match, "field");
		if (rfield && strcmp(json_string_value(rfield), "message") != 0) {
			json_decref(root);
			continue;
		}
		json_array_foreach(any, k, v) {
			const char *re = json_string_value(v);
			char *ere;

			if (json_is_object(v)) {
				json_t *f = json_object_get(v, "field");

				if (f && strcmp(json_string_value(f), "message"))
					continue;
				re = json_string_value(json_object_get(v, "re"));
			}
			if (re == NULL)
				continue;
			ere = translate(re);
			if (ere)
				printf("%s\n", ere);
			free(ere);
		}
		json_decref(root);
	}
	return rc;
}

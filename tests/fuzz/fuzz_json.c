/*
 * fuzz_json.c - fuzz target for JSON line handling, stages 3 and 4 as
 * cmd_analyze.c runs them: the bytes are one record; the literal
 * prefilter of the built-in rules runs on the raw line, a JSON line is
 * decoded (parse_decode) only when a rule may match, the rules run on
 * its message and fields, and the message and captures are redacted and
 * made valid UTF-8 as they would be before being stored.
 *
 * Invariants: the redactor's output is valid UTF-8 with no NUL;
 * redacting it again changes nothing (no secret was left in it); the
 * match callback gets well-formed matches.
 * Each input starts with the rules' windows and sequences empty
 * (rules_forget). The prefilter trains on the first 2,048 inputs and
 * scans with what it learned after: an input that failed after those may
 * need the corpus replayed before it to fail again.
 */
#include "fuzz.h"
#include "buf.h"
#include "parse.h"
#include "record.h"
#include "redact.h"
#include "rules.h"

static struct rules *rules;
static struct redact *redactor;
static struct parse_ctx pctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char key[16] = "fuzz-json-key-01";
	struct timefmt_opts o = { 2026, NULL };

	(void)argc;
	(void)argv;
	fuzz_quiet();
	rules = rules_new();
	if (rules_load_builtin(rules) < 0 || rules_compile(rules, false) < 0)
		abort();
	redactor = redact_new(key, NULL);
	if (redactor == NULL)
		abort();
	parse_ctx_init(&pctx, &o);
	return 0;
}

/* Is p[0..n) valid UTF-8 without NUL bytes (what SQLite is given)? */
static bool is_clean_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t k, len;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

/* Redact and clean as cmd_analyze.c does; check the result. */
static void store_text(const char *p, size_t n)
{
	struct buf red, clean, again;

	buf_init(&red);
	buf_init(&clean);
	buf_init(&again);
	redact_append(redactor, p, n, &red);
	/* The redactor's output is valid UTF-8 already. */
	FUZZ_CHECK(is_clean_utf8(red.p, red.len));
	buf_add_utf8(&clean, red.p, red.len);
	FUZZ_CHECK(clean.len == red.len &&
		   memcmp(clean.p, red.p, red.len) == 0);
	/*
	 * What is stored, redacted again, does not change: no secret was
	 * left in it, whatever bytes (NUL, invalid UTF-8) the text held
	 * (corpus files crash-*: a NUL before a secret, invalid bytes in
	 * an Authorization value, a value glued to the next quoted name).
	 */
	redact_append(redactor, clean.p, clean.len, &again);
	if (again.len != clean.len ||
	    memcmp(again.p, clean.p, clean.len) != 0) {
		fuzz_show("text", p, n);
		fuzz_show("stored", clean.p, clean.len);
		fuzz_show("redacted again", again.p, again.len);
	}
	FUZZ_CHECK(again.len == clean.len &&
		   memcmp(again.p, clean.p, clean.len) == 0);
	buf_release(&red);
	buf_release(&clean);
	buf_release(&again);
}

struct match_ctx {
	struct span subject;
	unsigned matches;
};

static int on_match(void *arg, const struct rules_match *m)
{
	struct match_ctx *mc = arg;
	size_t i;

	FUZZ_CHECK(m->rule != NULL);
	FUZZ_CHECK(m->ncaptures <= RULES_MAX_CAPTURES);
	for (i = 0; i < m->ncaptures; i++) {
		FUZZ_CHECK(m->captures[i].name != NULL);
		store_text(m->captures[i].value.p, m->captures[i].value.len);
	}
	if (m->fired)
		store_text(mc->subject.p, mc->subject.len);
	mc->matches++;
	return 0;
}

static bool field_lookup(void *ctx, const char *name, struct span *out)
{
	return parse_field(ctx, name, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record rec;
	struct parsed ev;
	struct rules_input ri;
	struct match_ctx mc;
	char *copy = fuzz_copy(data, size);
	int rc;

	memset(&rec, 0, sizeof(rec));
	rec.text = copy;
	rec.len = size;
	rec.line_no = 1;
	rec.nlines = 1;
	rec.end_offset = size;
	rec.end_line = 1;
	parse_ctx_reset(&pctx);
	rules_forget(rules);
	parse_record(&pctx, &rec, &ev);
	if (rules_prefilter(rules, ev.raw, ev.raw_len,
			    ev.format == PARSE_FMT_JSON) > 0 ||
	    ev.format == PARSE_FMT_JSON) {
		if (ev.format == PARSE_FMT_JSON)
			parse_decode(&pctx, &ev);
		ri.message = ev.message;
		ri.ts = ev.ts;
		ri.has_ts = ev.has_ts;
		ri.field = ev.decoded ? field_lookup : NULL;
		ri.field_ctx = &pctx;
		mc.subject = ev.message;
		mc.matches = 0;
		rc = rules_eval(rules, &ri, on_match, &mc);
		FUZZ_CHECK(rc >= 0);
		FUZZ_CHECK(mc.matches <= rules_last_matched(rules));
	}
	store_text(ev.message.p, ev.message.len);
	free(copy);
	return 0;
}

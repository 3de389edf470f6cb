/*
 * fuzz_rules.c - fuzz target for the rule-file loader of stage 4
 * (rules.c): the bytes are a user's rule file (--rules DIR), loaded
 * from memory with rules_load_text(), compiled (PCRE2 with JIT, the
 * literal prefilter), and, when it is valid, run on its own examples the
 * way 'rules test' and 'analyze' run it.
 *
 * Invariants: a file is either refused (with a message, the set left
 * empty) or loaded as exactly one rule; every lookup finds it; matching
 * stops at PCRE2's limits instead of hanging.
 */
#include "fuzz.h"
#include "rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int on_match(void *arg, const struct rules_match *m)
{
	unsigned *n = arg;

	FUZZ_CHECK(m->rule != NULL && m->ncaptures <= RULES_MAX_CAPTURES);
	(*n)++;
	return 0;
}

/* Run one example line through both matching paths. */
static void run_example(struct rules *rs, const struct rule *r,
			const char *text, int64_t ts)
{
	struct rules_input in;
	unsigned n = 0;
	size_t len = strlen(text);
	char *copy = xmalloc(len ? len : 1);

	memcpy(copy, text, len);
	memset(&in, 0, sizeof(in));
	in.message.p = copy;
	in.message.len = len;
	in.ts = ts;
	in.has_ts = true;
	FUZZ_CHECK(rules_test_one(rs, r, &in) >= -1);
	if (rules_prefilter(rs, copy, len, false) > 0)
		FUZZ_CHECK(rules_eval(rs, &in, on_match, &n) >= 0);
	FUZZ_CHECK(n <= 1);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *rs = rules_new();
	const struct rule *r;
	size_t i;
	int64_t ts = INT64_C(1771928102000);

	if (rules_load_text(rs, "fuzz.json", (const char *)data, size) < 0) {
		FUZZ_CHECK(rules_count(rs) == 0);
		goto out;
	}
	FUZZ_CHECK(rules_count(rs) == 1);
	if (rules_compile(rs, size % 2 == 1) < 0)
		goto out;
	r = rules_at(rs, 0);
	FUZZ_CHECK(r != NULL && rules_find(rs, r->id) == r);
	FUZZ_CHECK(r->id != NULL && r->file != NULL);
	FUZZ_CHECK(strcmp(rules_sev_name(r->severity), "") != 0);
	for (i = 0; i < r->ex_match.n; i++, ts += 1000)
		run_example(rs, r, r->ex_match.v[i], ts);
	for (i = 0; i < r->ex_no_match.n; i++, ts += 1000)
		run_example(rs, r, r->ex_no_match.v[i], ts);
out:
	rules_free(rs);
	return 0;
}

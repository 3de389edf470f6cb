/*
 * fuzz_learnings.c - fuzz target for the INCIDENTS.md upsert of stage 6
 * (learnings.c): the bytes are an existing INCIDENTS.md, hand edits and
 * broken markers included; two entries are merged into it, one with the
 * id of the first entry the file names (an update) and one new.
 *
 * A line "%%ENTRY" in the bytes splits them: what follows is the new
 * entries' generated text (else a fixed one; also when it holds a
 * marker, which callers never write). Invariants, from
 * learnings.h: a refused merge says so; an accepted one counts every
 * entry as added or updated, writes one begin marker per id at the start
 * of a line, keeps a file without entries whole, and merging the same
 * entries into its own result changes nothing.
 */
#include "fuzz.h"
#include "buf.h"
#include "learnings.h"

static const char default_generated[] =
	"## Database connection refused (2026-02-24)\n\n"
	"**Window:** 2026-02-24 10:15:02 to 10:19:03 UTC\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* The id after the first "logtriage:begin ", if it is a valid one. */
static void first_id(const char *t, size_t n, char *id, size_t size)
{
	static const char mark[] = "<!-- logtriage:begin ";
	const char *p = memmem(t, n, mark, sizeof(mark) - 1);
	size_t k = 0;

	snprintf(id, size, "inc-20260224-1015-3f2a9c");
	if (p == NULL)
		return;
	p += sizeof(mark) - 1;
	while (p + k < t + n && k + 1 < size &&
	       ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') ||
		p[k] == '-'))
		k++;
	if (k == 0)
		return;
	memcpy(id, p, k);
	id[k] = '\0';
}

/* Begin markers of id at the start of a line in t. */
static size_t count_begins(const char *t, size_t n, const char *id)
{
	struct buf m;
	size_t count = 0;
	const char *p = t, *end = t + n;

	buf_init(&m);
	buf_addf(&m, "<!-- logtriage:begin %s ", id);
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), m.p, m.len);

		if (hit == NULL)
			break;
		if (hit == t || hit[-1] == '\n')
			count++;
		p = hit + 1;
	}
	buf_release(&m);
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char split[] = "\n%%ENTRY\n";
	const char *const actions[] = {
		"Check `DATABASE_URL` (`db.connection_refused`)",
		"Add a health check",
	};
	char *old = fuzz_copy(data, size);
	size_t old_len = size;
	const char *hit = memmem(old, size, split, sizeof(split) - 1);
	char *generated;
	char id[48];
	struct learnings_entry e[2];
	struct buf out, again;
	size_t added = 0, updated = 0, added2 = 0, updated2 = 0;

	if (hit != NULL) {
		old_len = (size_t)(hit - old);
		generated = xmemdup(hit + sizeof(split) - 1,
				    size - old_len - (sizeof(split) - 1));
	} else {
		generated = xstrdup(default_generated);
	}
	/*
	 * Generated text never holds a marker (report.h): the caller's
	 * promise, not something to fuzz.
	 */
	if (strstr(generated, "logtriage:") != NULL) {
		free(generated);
		generated = xstrdup(default_generated);
	}
	first_id(old, old_len, id, sizeof(id));
	memset(e, 0, sizeof(e));
	e[0].id = id;
	e[0].has_ts = true;
	e[0].start_ts = INT64_C(1771928102000);
	e[0].generated = generated;
	e[0].actions = actions;
	e[0].nactions = 2;
	e[1].id = strcmp(id, "inc-20260101-0000-000000") == 0 ?
		  "inc-20260101-0000-000001" : "inc-20260101-0000-000000";
	e[1].has_ts = size % 2 == 0;
	e[1].start_ts = INT64_C(1767225600000);
	e[1].generated = generated;
	e[1].actions = actions + 1;
	e[1].nactions = 1;
	buf_init(&out);
	buf_init(&again);
	if (learnings_merge("INCIDENTS.md", old, old_len, e, 2, &out, &added,
			    &updated) == 0) {
		FUZZ_CHECK(added + updated == 2);
		FUZZ_CHECK(count_begins(out.p, out.len, e[0].id) >= 1);
		FUZZ_CHECK(count_begins(out.p, out.len, e[1].id) >= 1);
		if (old_len > 0 &&
		    memmem(old, old_len, "logtriage:", 10) == NULL)
			FUZZ_CHECK(memmem(out.p, out.len, old, old_len) != NULL);
		/* Again, into its own result: nothing changes. */
		FUZZ_CHECK(learnings_merge("INCIDENTS.md", out.p, out.len, e,
					   2, &again, &added2,
					   &updated2) == 0);
		FUZZ_CHECK(added2 == 0 && updated2 == 2);
		FUZZ_CHECK(again.len == out.len &&
			   memcmp(again.p, out.p, out.len) == 0);
	}
	buf_release(&out);
	buf_release(&again);
	free(generated);
	free(old);
	return 0;
}

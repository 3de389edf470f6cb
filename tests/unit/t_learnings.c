/*
 * t_learnings.c - unit tests for the INCIDENTS.md upsert: new files and
 * entries, time order, regenerating only the generated part, keeping
 * ticked and edited action items, notes and everything outside the
 * markers byte for byte, refusing entries that lost a marker, and the
 * atomic write (mode kept, links followed, folders created).
 */
#include "common.h"
#include "learnings.h"
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

static const char *const acts2[] = { "Fix A (`r.a`)", "Fix B (`r.b`)" };
static const char *const acts3[] = { "Fix A (`r.a`)", "Fix B (`r.b`)",
				     "Fix C (`r.c`)" };

static struct learnings_entry entry(const char *id, int64_t ts,
				    const char *gen)
{
	struct learnings_entry e;

	e.id = id;
	e.has_ts = ts >= 0;
	e.start_ts = ts;
	e.generated = gen;
	e.actions = acts2;
	e.nactions = 2;
	return e;
}

/* Merge one entry into text; return the new text (owned) or NULL. */
static char *merge(const char *text, const struct learnings_entry *e,
		   size_t n, size_t *added, size_t *updated)
{
	struct buf out;

	buf_init(&out);
	if (learnings_merge("T.md", text, strlen(text), e, n, &out, added,
			    updated) < 0) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* Replace the first "from" in s with "to" (owned result). */
static char *edit(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	struct buf b;

	buf_init(&b);
	if (p == NULL)
		return buf_detach(&b, NULL);
	buf_add(&b, s, (size_t)(p - s));
	buf_adds(&b, to);
	buf_adds(&b, p + strlen(from));
	return buf_detach(&b, NULL);
}

static void test_new_and_again(void)
{
	struct learnings_entry e = entry("inc-a", 1000, "## A\n\ntext\n");
	size_t added, updated;
	char *one = merge("", &e, 1, &added, &updated), *two;

	CHECK(one && added == 1 && updated == 0, "new file: one entry added");
	CHECK(strncmp(one, "# Incidents\n", 12) == 0, "the file has a head");
	CHECK(count(one, "<!-- logtriage:begin inc-a start=1970-01-01T00:00:"
		    "01.000Z -->\n") == 1, "begin marker with start");
	CHECK(count(one, "\n<!-- logtriage:actions inc-a:") == 1 &&
	      count(one, "\n<!-- logtriage:notes inc-a:") == 1 &&
	      count(one, "\n<!-- logtriage:end inc-a -->\n") == 1, "markers");
	CHECK(count(one, "- [ ] Fix A (`r.a`)\n- [ ] Fix B (`r.b`)\n") == 1,
	      "action items unticked");
	two = merge(one, &e, 1, &added, &updated);
	CHECK(two && added == 0 && updated == 1, "second run updates");
	CHECK_STR(two, one, "same input, same file");
	free(one);
	free(two);
}

static void test_people_kept(void)
{
	struct learnings_entry e = entry("inc-a", 1000, "## A\n\nold text\n");
	size_t added, updated;
	char *base = merge("", &e, 1, &added, &updated);
	char *t1 = edit(base, "- [ ] Fix B", "- [x] Fix B");
	char *t2 = edit(t1, "### Notes\n\n", "### Notes\n\nPaged at 10:20.\r\n"
			"```\nunclosed fence, <!-- comment\n\n");
	char *t3, *want, *got;

	t3 = xmalloc(strlen(t2) + 64);
	snprintf(t3, strlen(t2) + 64, "Intro by hand.\n%s\nAfter, by hand.\n",
		 t2);
	/* New generated text and a new remedy; the rest must not move. */
	e.generated = "## A\n\nnew text\n";
	e.actions = acts3;
	e.nactions = 3;
	got = merge(t3, &e, 1, &added, &updated);
	want = edit(t3, "old text", "new text");
	{
		char *w2 = edit(want, "- [x] Fix B (`r.b`)\n",
				"- [x] Fix B (`r.b`)\n- [ ] Fix C (`r.c`)\n");

		free(want);
		want = w2;
	}
	CHECK(got && updated == 1, "updated");
	CHECK_STR(got, want, "only the generated part changed; tick, notes, "
		  "outside text kept; new remedy appended");
	free(got);
	/* An item a person rewrote (owner added) counts as present. */
	got = edit(want, "- [ ] Fix A (`r.a`)", "- [ ] Fix A (`r.a`) owner: bo");
	free(want);
	want = got;
	got = merge(want, &e, 1, &added, &updated);
	CHECK_STR(got, want, "an edited item is not added again");
	free(got);
	free(want);
	free(base);
	free(t1);
	free(t2);
	free(t3);
}

static void test_order(void)
{
	struct learnings_entry e[4];
	size_t added, updated;
	char *t;
	const char *a, *b, *c, *d;

	e[0] = entry("inc-t10", 10000, "## t10\n");
	e[1] = entry("inc-t30", 30000, "## t30\n");
	e[2] = entry("inc-none", -1, "## none\n");
	e[3] = entry("inc-t20", 20000, "## t20\n");
	t = merge("# Mine\n", e, 4, &added, &updated);
	CHECK(t && added == 4, "four added");
	a = strstr(t, "begin inc-t10 ");
	b = strstr(t, "begin inc-t20 ");
	c = strstr(t, "begin inc-t30 ");
	d = strstr(t, "begin inc-none ");
	CHECK(a && b && c && d && a < b && b < c && c < d,
	      "time order, entries without a time last");
	CHECK(strncmp(t, "# Mine\n\n<!-- logtriage:begin inc-t10", 36) == 0,
	      "an existing file's text is kept, entries after it");
	CHECK(count(t, "start=none") == 1, "untimed start");
	free(t);
}

static void test_broken(void)
{
	struct learnings_entry e = entry("inc-a", 1000, "## A\n");
	size_t added, updated;
	char *t = merge("", &e, 1, &added, &updated);
	char *broken = edit(t, "<!-- logtriage:notes inc-a:", "<!-- notes:");
	struct buf out;

	buf_init(&out);
	CHECK(learnings_merge("T.md", broken, strlen(broken), &e, 1, &out,
			      &added, &updated) < 0, "lost notes marker refused");
	free(broken);
	broken = edit(t, "<!-- logtriage:actions inc-a:", "<!-- actions:");
	CHECK(learnings_merge("T.md", broken, strlen(broken), &e, 1, &out,
			      &added, &updated) < 0,
	      "lost actions marker refused");
	free(broken);
	/* A marker of another id with a longer name is not ours. */
	broken = edit(t, "inc-a start", "inc-ab start");
	free(merge(broken, &e, 1, &added, &updated));
	CHECK(added == 1, "inc-ab is another entry");
	buf_release(&out);
	free(broken);
	free(t);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b);
	if (f == NULL)
		return buf_detach(&b, NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static void test_files(void)
{
	char dir[] = "/tmp/t_learnings.XXXXXX";
	char path[256], link[256], sub[256];
	struct learnings_entry e = entry("inc-a", 1000, "## A\n");
	struct stat sb;
	size_t added, updated;
	char *t;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/x/y/INCIDENTS.md", dir);
	CHECK(learnings_update(path, &e, 1, &added, &updated) == 0 &&
	      added == 1, "created with its folders");
	t = slurp(path);
	CHECK(count(t, "logtriage:begin inc-a") == 1, "entry written");
	free(t);
	chmod(path, 0600);
	e.generated = "## A2\n";
	CHECK(learnings_update(path, &e, 1, &added, &updated) == 0 &&
	      updated == 1, "updated");
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "mode kept");
	snprintf(link, sizeof(link), "%s/link.md", dir);
	CHECK(symlink(path, link) == 0, "symlink");
	e.generated = "## A3\n";
	CHECK(learnings_update(link, &e, 1, &added, &updated) == 0,
	      "through a link");
	CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode), "link kept");
	t = slurp(path);
	CHECK(strstr(t, "## A3\n") != NULL, "target updated");
	free(t);
	snprintf(sub, sizeof(sub), "%s/file", dir);
	CHECK(learnings_write_atomic(sub, "x", 1, LEARNINGS_WRITE_MKDIRS) == 0, "plain write");
	snprintf(sub, sizeof(sub), "%s/file/INCIDENTS.md", dir);
	CHECK(learnings_update(sub, &e, 1, &added, &updated) < 0,
	      "a file where a folder should be");
	/* no temporary file is left behind: the folder empties */
	unlink(link);
	unlink(path);
	snprintf(sub, sizeof(sub), "%s/x/y", dir);
	CHECK(rmdir(sub) == 0, "no temporary file left");
	snprintf(sub, sizeof(sub), "%s/x", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/file", dir);
	unlink(sub);
	rmdir(dir);
}

int main(void)
{
	test_new_and_again();
	test_people_kept();
	test_order();
	test_broken();
	test_files();
	return unit_done();
}

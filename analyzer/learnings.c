/*
 * learnings.c - stage 6 writer: upsert incident entries into
 * .learnings/INCIDENTS.md between marker comments, keeping what people
 * wrote byte for byte, and write files atomically.
 */
#include "common.h"
#include "learnings.h"
#include "diag.h"
#include "timefmt.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK_BEGIN "<!-- logtriage:begin "
#define MARK_ACTIONS "<!-- logtriage:actions "
#define MARK_NOTES "<!-- logtriage:notes "
#define MARK_END "<!-- logtriage:end "

static const char file_head[] =
"# Incidents\n"
"\n"
"One entry per incident, in time order, written by `logtriage report\n"
"--learnings` from the logs. In an entry, the part above the\n"
"`logtriage:actions` comment is written again on every run. Tick action\n"
"items (`[x]`) and add your own under it, and write below the\n"
"`logtriage:notes` comment: those parts, and everything outside the\n"
"entries, are never changed.\n";

/* The line of text starting at offset off: its end (past '\n'). */
static size_t line_end(const char *t, size_t len, size_t off)
{
	const char *nl = memchr(t + off, '\n', len - off);

	return nl ? (size_t)(nl - t) + 1 : len;
}

/* Does the line at t[off] start with mark + id, then ' ' or ':'? */
static bool is_marker(const char *t, size_t len, size_t off, const char *mark,
		      const char *id)
{
	size_t ml = strlen(mark), il = strlen(id);

	return len - off >= ml + il + 1 && memcmp(t + off, mark, ml) == 0 &&
	       memcmp(t + off + ml, id, il) == 0 &&
	       (t[off + ml + il] == ' ' || t[off + ml + il] == ':');
}

/*
 * The start of an existing entry, from "start=..." on its begin line;
 * INT64_MAX for an entry without a time (they sort last).
 */
static int64_t entry_start(const char *t, size_t len, size_t off)
{
	size_t end = line_end(t, len, off);
	const char *p = memmem(t + off, end - off, " start=", 7);
	int64_t ms;
	size_t used;

	if (p == NULL)
		return INT64_MAX;
	p += 7;
	if (timefmt_parse(p, (size_t)(t + end - p), NULL, &ms, &used) ==
	    TIMEFMT_NONE)
		return INT64_MAX;
	return ms;
}

static void begin_line(struct buf *out, const struct learnings_entry *e)
{
	char t[TIMEFMT_BUF_SIZE];

	if (e->has_ts) {
		timefmt_format_iso(e->start_ts, t, sizeof(t));
		buf_addf(out, MARK_BEGIN "%s start=%s -->\n", e->id, t);
	} else {
		buf_addf(out, MARK_BEGIN "%s start=none -->\n", e->id);
	}
}

/* From the begin marker through the actions marker line. */
static void generated_part(struct buf *out, const struct learnings_entry *e)
{
	begin_line(out, e);
	buf_adds(out, e->generated);
	if (e->generated[0] && e->generated[strlen(e->generated) - 1] != '\n')
		buf_addch(out, '\n');
	buf_addf(out, "### Action items\n\n" MARK_ACTIONS "%s: tick done items "
		 "with [x] and add your own below; they are kept -->\n", e->id);
}

/* Is action text (as after "- [ ] ") already among the lines of r? */
static bool has_action(const char *r, size_t len, const char *text)
{
	size_t off, tl = strlen(text);

	for (off = 0; off < len; off = line_end(r, len, off)) {
		const char *l = r + off;
		size_t ll = line_end(r, len, off) - off;

		if (ll >= 6 + tl && l[0] == '-' && l[1] == ' ' && l[2] == '[' &&
		    l[4] == ']' && l[5] == ' ' && memcmp(l + 6, text, tl) == 0)
			return true;
	}
	return false;
}

static void new_entry(struct buf *out, const struct learnings_entry *e)
{
	size_t i;

	generated_part(out, e);
	for (i = 0; i < e->nactions; i++)
		buf_addf(out, "- [ ] %s\n", e->actions[i]);
	buf_addf(out, MARK_NOTES "%s: everything from here to the end marker "
		 "is yours; logtriage never changes it -->\n\n"
		 "### Lessons learned\n\n"
		 "Unknown from the logs: for people to write.\n\n"
		 "### Notes\n\n"
		 MARK_END "%s -->\n", e->id, e->id);
}

/* An entry found in the file: where its markers are. */
struct old_entry {
	char *id;               /* owned */
	size_t begin;           /* offset of its begin line */
	size_t actions, notes;  /* offsets of those lines; SIZE_MAX: lost */
	int64_t start;          /* INT64_MAX without a time */
	const struct learnings_entry *upd; /* the entry that updates it */
};

/*
 * Find the entries of t in one pass: each begin marker line, and the
 * actions and notes markers of the same id before the next begin line.
 */
static size_t scan_entries(const char *t, size_t len, struct old_entry **out)
{
	struct old_entry *v = NULL;
	size_t n = 0, off, ml = strlen(MARK_BEGIN);

	for (off = 0; off < len; off = line_end(t, len, off)) {
		struct old_entry *cur = n ? &v[n - 1] : NULL;

		if (len - off >= ml && memcmp(t + off, MARK_BEGIN, ml) == 0) {
			size_t il = 0;

			while (off + ml + il < len && !strchr(" :\n",
							      t[off + ml + il]))
				il++;
			v = xrealloc(v, (n + 1) * sizeof(*v));
			cur = &v[n++];
			cur->id = xmemdup(t + off + ml, il);
			cur->begin = off;
			cur->actions = cur->notes = SIZE_MAX;
			cur->start = entry_start(t, len, off);
			cur->upd = NULL;
		} else if (cur && cur->actions == SIZE_MAX &&
			   is_marker(t, len, off, MARK_ACTIONS, cur->id)) {
			cur->actions = off;
		} else if (cur && cur->actions != SIZE_MAX &&
			   cur->notes == SIZE_MAX &&
			   is_marker(t, len, off, MARK_NOTES, cur->id)) {
			cur->notes = off;
		}
	}
	*out = v;
	return n;
}

/* Regenerate an existing entry o of t into out: generated part, the
 * action items as they are plus the missing ones. Return where the
 * rest of t (from the notes marker) goes on. */
static size_t update_entry(const char *t, size_t len,
			   const struct old_entry *o, struct buf *out)
{
	const struct learnings_entry *e = o->upd;
	size_t region = line_end(t, len, o->actions), i;

	generated_part(out, e);
	buf_add(out, t + region, o->notes - region);
	for (i = 0; i < e->nactions; i++)
		if (!has_action(t + region, o->notes - region, e->actions[i]))
			buf_addf(out, "- [ ] %s\n", e->actions[i]);
	return o->notes;
}

/* New entries: timed ones by start, then those without a time. */
static int new_cmp(const void *pa, const void *pb)
{
	const struct learnings_entry *a =
		*(const struct learnings_entry *const *)pa;
	const struct learnings_entry *b =
		*(const struct learnings_entry *const *)pb;

	if (a->has_ts != b->has_ts)
		return a->has_ts ? -1 : 1;
	if (a->has_ts && a->start_ts != b->start_ts)
		return a->start_ts < b->start_ts ? -1 : 1;
	return a < b ? -1 : a > b;
}

int learnings_merge(const char *path, const char *old, size_t old_len,
		    const struct learnings_entry *e, size_t n, struct buf *out,
		    size_t *added, size_t *updated)
{
	const char *t = old_len ? old : file_head;
	size_t len = old_len ? old_len : strlen(file_head);
	struct old_entry *o;
	const struct learnings_entry **pend;
	size_t no, np = 0, i, k, pos = 0, next = 0;
	int rc = 0;

	*added = *updated = 0;
	no = scan_entries(t, len, &o);
	pend = xcalloc(n ? n : 1, sizeof(*pend));
	for (i = 0; i < n; i++) {
		for (k = 0; k < no; k++)
			if (o[k].upd == NULL && strcmp(o[k].id, e[i].id) == 0)
				break;
		if (k == no) {
			pend[np++] = &e[i];
			continue;
		}
		if (o[k].actions == SIZE_MAX || o[k].notes == SIZE_MAX) {
			rc = error("%s: entry '%s' has lost its '%s' marker; "
				   "put it back or remove the entry, then run "
				   "again", path, e[i].id,
				   o[k].actions == SIZE_MAX ?
				   "logtriage:actions" : "logtriage:notes");
			goto out;
		}
		o[k].upd = &e[i];
		(*updated)++;
	}
	if (np > 1)
		qsort(pend, np, sizeof(*pend), new_cmp);
	*added = np;
	/* One pass: new entries go before the first entry that starts
	 * later, updated entries are regenerated in place. */
	for (k = 0; k < no; k++) {
		if (next < np && pend[next]->has_ts &&
		    pend[next]->start_ts < o[k].start) {
			buf_add(out, t + pos, o[k].begin - pos);
			pos = o[k].begin;
			for (; next < np && pend[next]->has_ts &&
			     pend[next]->start_ts < o[k].start; next++) {
				new_entry(out, pend[next]);
				buf_addch(out, '\n');
			}
		}
		if (o[k].upd == NULL)
			continue;
		buf_add(out, t + pos, o[k].begin - pos);
		pos = update_entry(t, len, &o[k], out);
	}
	buf_add(out, t + pos, len - pos);
	for (; next < np; next++) {
		if (out->len && out->p[out->len - 1] != '\n')
			buf_addch(out, '\n');
		buf_addch(out, '\n');
		new_entry(out, pend[next]);
	}
out:
	for (k = 0; k < no; k++)
		free(o[k].id);
	free(o);
	free(pend);
	return rc;
}

int learnings_mkdirs(const char *dir)
{
	char *d = xstrdup(dir);
	size_t i, n = strlen(d);
	int rc = 0;

	for (i = 1; i <= n; i++) {
		struct stat sb;

		if (d[i] != '/' && d[i] != '\0')
			continue;
		d[i] = '\0';
		if (mkdir(d, 0777) < 0 && errno != EEXIST) {
			rc = error("%s: cannot create folder: %s", d,
				   strerror(errno));
			break;
		}
		if (stat(d, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			rc = error("%s: cannot create folder: %s", d,
				   stat(d, &sb) < 0 ? strerror(errno) :
				   "a file of that name is in the way");
			break;
		}
		if (i < n)
			d[i] = '/';
	}
	free(d);
	return rc;
}

/* The folder of path ("." when none), owned. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xmemdup(path, (size_t)(slash - path));
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int learnings_write_atomic(const char *path, const char *data, size_t len,
			   unsigned flags)
{
	struct stat sb;
	char *target = NULL, *dir, *tmp;
	mode_t mode, mask;
	int fd, dfd, rc = -1;

	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		target = realpath(path, NULL);
		if (target == NULL)
			return error("%s: cannot follow the link: %s", path,
				     strerror(errno));
	}
	if (target == NULL)
		target = xstrdup(path);
	dir = folder_of(target);
	if ((flags & LEARNINGS_WRITE_MKDIRS) && learnings_mkdirs(dir) < 0)
		goto out_dir;
	mask = umask(0);
	umask(mask);
	mode = stat(target, &sb) == 0 ? sb.st_mode & 07777 : 0666 & ~mask;
	{
		struct buf t;
		const char *base = strrchr(target, '/');

		buf_init(&t);
		buf_addf(&t, "%s/.%s.XXXXXX", dir, base ? base + 1 : target);
		tmp = buf_detach(&t, NULL);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		error("%s: cannot write: %s", target, strerror(errno));
		goto out_tmp;
	}
	if (write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    ((flags & LEARNINGS_WRITE_SYNC) && fsync(fd) < 0)) {
		error("%s: cannot write: %s", target, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out_tmp;
	}
	if (close(fd) < 0 || rename(tmp, target) < 0) {
		error("%s: cannot write: %s", target, strerror(errno));
		unlink(tmp);
		goto out_tmp;
	}
	dfd = (flags & LEARNINGS_WRITE_SYNC) ?
	      open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out_tmp:
	free(tmp);
out_dir:
	free(dir);
	free(target);
	return rc;
}

/* Read the whole file; *missing when it does not exist. Return 0/-1. */
static int read_file(const char *path, struct buf *out, bool *missing)
{
	struct stat sb;
	char chunk[65536];
	ssize_t n;
	int fd;

	*missing = false;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return error("%s: is a folder, not a file", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			*missing = true;
			return 0;
		}
		return error("%s: cannot read: %s", path, strerror(errno));
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return error("%s: cannot read: %s", path,
				     strerror(errno));
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > LEARNINGS_MAX_BYTES) {
			close(fd);
			return error("%s: larger than %u MiB; refusing to "
				     "rewrite it", path,
				     LEARNINGS_MAX_BYTES >> 20);
		}
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

int learnings_update(const char *path, const struct learnings_entry *e,
		     size_t n, size_t *added, size_t *updated)
{
	struct buf old, merged;
	char *dir = folder_of(path);
	bool missing;
	int dfd = -1, rc = -1;

	*added = *updated = 0;
	buf_init(&old);
	buf_init(&merged);
	if (learnings_mkdirs(dir) < 0)
		goto out;
	/* Two runs updating one file: the second waits for the first. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) < 0) {
		error("%s: cannot lock the folder: %s", dir, strerror(errno));
		goto out;
	}
	if (read_file(path, &old, &missing) < 0 ||
	    learnings_merge(path, old.p, old.len, e, n, &merged, added,
			    updated) < 0)
		goto out;
	if (!missing && merged.len == old.len &&
	    memcmp(merged.p, old.p, old.len) == 0) {
		rc = 0;         /* nothing changed: leave the file alone */
		goto out;
	}
	rc = learnings_write_atomic(path, merged.p, merged.len,
				    LEARNINGS_WRITE_SYNC);
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	buf_release(&old);
	buf_release(&merged);
	return rc;
}

/*
 * learnings.h - stage 6 writer: the team's .learnings/INCIDENTS.md, one
 * entry per incident between marker comments that carry its id, and the
 * atomic file writes that reports use too.
 *
 * An entry, as written the first time:
 *
 *   <!-- logtriage:begin inc-20260224-1013-3f2a9c start=2026-02-24T10:13:17.646Z -->
 *   ## Title (2026-02-24)
 *   ... generated: summary, impact, cause, timeline, evidence ...
 *   ### Action items
 *
 *   <!-- logtriage:actions inc-...: tick [x] and add items below; kept -->
 *   - [ ] a remedy of a rule (`rule.id`)
 *   <!-- logtriage:notes inc-...: from here to the end marker is yours -->
 *
 *   ### Lessons learned
 *   ...
 *   ### Notes
 *
 *   <!-- logtriage:end inc-... -->
 *
 * Running again replaces only what lies from the begin marker to the
 * actions marker. The action items (between the actions and the notes
 * markers) are kept byte for byte, ticked or edited, and remedies that
 * are not there yet are added after them. Everything from the notes
 * marker on, and everything outside the entries, is kept byte for byte.
 * New entries go in time order (by the start= of the begin markers;
 * entries without a time last). Markers are recognised only at the
 * start of a line, and generated text never puts one there (report.h).
 */
#ifndef LOGTRIAGE_LEARNINGS_H
#define LOGTRIAGE_LEARNINGS_H

#include "common.h"
#include "buf.h"

/* Where --learnings writes without a FILE. */
#define LEARNINGS_DEFAULT_PATH ".learnings/INCIDENTS.md"
/* A larger file is refused rather than read into memory. */
#define LEARNINGS_MAX_BYTES (64u * 1024 * 1024)

/* One entry to upsert. */
struct learnings_entry {
	const char *id;                 /* [a-z0-9-]+ (incidents.h) */
	bool has_ts;
	int64_t start_ts;               /* orders new entries */
	const char *generated;          /* Markdown from the title to the
					   evidence (REPORT_MD_ENTRY) */
	const char *const *actions;     /* action item texts, each as it
					   follows "- [ ] " */
	size_t nactions;
};

/*
 * Merge entries e[0..n) into the text old[0..old_len) (a whole file, or
 * empty for a new one) and append the result to out. *added and *updated
 * count the entries. Return 0, or -1 when an existing entry of one of
 * the ids has lost its actions or notes marker (printed with path; out
 * is then incomplete and must not be written).
 */
int learnings_merge(const char *path,		/* for messages */
		    const char *old, size_t old_len,
		    const struct learnings_entry *e, size_t n,
		    struct buf *out,			/* OUT: the new text */
		    size_t *added, size_t *updated);	/* OUT: counts */

/*
 * Upsert entries into the file at path: create it (and its missing
 * folders) when needed, hold a lock on its folder while reading,
 * merging and writing, and write atomically and durably
 * (learnings_write_atomic with LEARNINGS_WRITE_SYNC).
 * On any error the file is unchanged. Return 0 or -1 (printed).
 */
int learnings_update(const char *path,		/* INCIDENTS.md */
		     const struct learnings_entry *e, /* the entries */
		     size_t n,			/* entries in e */
		     size_t *added,		/* OUT: new entries */
		     size_t *updated);		/* OUT: refreshed entries */

/*
 * How learnings_write_atomic() writes:
 *   LEARNINGS_WRITE_MKDIRS  create the missing folders first
 *   LEARNINGS_WRITE_SYNC    fsync the file before the rename and the
 *                           folder after it: the new content survives a
 *                           crash (INCIDENTS.md); without it readers
 *                           still never see half a file (reports)
 */
enum learnings_write_flags {
	LEARNINGS_WRITE_MKDIRS = 1 << 0,
	LEARNINGS_WRITE_SYNC = 1 << 1,
};

/*
 * Write data[0..len) to path so that no reader and no crash ever sees a
 * half-written file: a temporary file in the same folder, renamed over
 * path (with fsync, see flags). A symbolic link at path is followed (its
 * target is replaced); an existing file keeps its permissions, a new one
 * gets 0666 less the umask. Return 0 or -1 (printed, the temporary file
 * removed).
 */
int learnings_write_atomic(const char *path, const char *data, size_t len,
			   unsigned flags);	/* enum learnings_write_flags */

/* Create dir and its missing parents (mode 0777 less the umask). Return
 * 0 or -1 (printed). */
int learnings_mkdirs(const char *dir);

#endif

/*
 * report.h - stage 6 writers: the incident report as Markdown
 * (report_md.c) and as one JSON document (report_json.c), both from a
 * struct agg (agg.h), plus the Markdown escaping that learnings.c shares.
 *
 * The Markdown follows the shape postmortem templates settled on
 * (Summary, Impact, Root cause, Trigger, Detection, Resolution, Timeline,
 * Action items, Lessons learned), filled with what the logs prove and
 * "unknown" where they cannot tell. Text from logs never breaks it out:
 * outside fences every character with a meaning to Markdown or HTML is
 * escaped, and evidence sits in fences longer than any run of backticks
 * inside them, each line indented by two spaces, so that no log line
 * can close a fence or start a line with a marker comment.
 */
#ifndef LOGTRIAGE_REPORT_H
#define LOGTRIAGE_REPORT_H

#include "common.h"
#include "buf.h"
#include "chart.h"

struct agg;

/* Lines of one evidence record shown (its head and its tail). */
#define REPORT_EVIDENCE_LINES 12

/*
 * What the Markdown is for:
 *   REPORT_MD_FILE   a report file of its own (# title, every section,
 *                    action items, lessons learned, notes)
 *   REPORT_MD_ENTRY  the generated part of an INCIDENTS.md entry (## title,
 *                    up to the evidence; learnings.c adds the action
 *                    items and the part people write)
 */
enum report_md_mode {
	REPORT_MD_FILE = 0,
	REPORT_MD_ENTRY,
};

struct report_opts {
	enum report_md_mode mode;
	const char *db_path;            /* shown in the command to run again */
	const struct chart_set *charts; /* never NULL */
	const char *chart_prefix;       /* before image file names in links:
					   "" or "charts/" */
	const char *chart_dir;          /* where the files are, for the
					   "draw them yourself" hint */
};

/* Append the Markdown of a to out. */
void report_md_render(const struct agg *a, const struct report_opts *o,
		      struct buf *out);

/*
 * Append the text of action item i of a (escaped, with its rule id), as
 * it follows "- [ ] " in a list.
 */
void report_md_action(const struct agg *a, size_t i, struct buf *out);

/*
 * Append s[0..n) to out as Markdown text inside a line: control
 * characters and newlines become spaces, '<' '>' '&' become entities, and
 * the characters with a meaning inside a line (\ ` * _ [ ] | ~ $) are
 * escaped with a backslash; invalid UTF-8 becomes U+FFFD. (Characters
 * that mean something only at the start of a line are left alone: this
 * text never starts one.) At most max bytes of s are used (0: all), cut
 * on a UTF-8 boundary with "..." appended.
 */
void report_md_text(struct buf *out,	/* OUT: appended to */
		    const char *s,	/* text, need not be NUL-terminated */
		    size_t n,		/* bytes of s */
		    size_t max);	/* cap in bytes, 0: none */

/*
 * Append s as an inline code span: control characters become spaces,
 * invalid UTF-8 becomes U+FFFD, the delimiter is one backtick more than
 * the longest run inside. In a table cell (in_table) '|' is escaped as
 * GFM asks.
 */
void report_md_code(struct buf *out,	/* OUT: appended to */
		    const char *s,	/* NUL-terminated */
		    bool in_table);	/* inside a GFM table cell */

/*
 * Append a fenced block holding body[0..n): the fence is backticks, one
 * more than the longest run in body and at least three; each line is
 * prefixed with gutter (may be ""; a line that would start with
 * "<!-- logtriage:" gets a space); control characters other than tab
 * become U+FFFD. info follows the opening fence (may be "").
 */
void report_md_fence(struct buf *out,	/* OUT: appended to */
		     const char *info,	/* after the opening fence */
		     const char *body,	/* the content, lines by '\n' */
		     size_t n,		/* bytes of body */
		     const char *gutter); /* before each line */

/*
 * Append s as one word for a POSIX shell: as it is when it holds only
 * letters, digits and ._-/+=:, characters, else in single quotes.
 */
void report_shell_word(struct buf *out, const char *s);

/*
 * Append a as one JSON document (keys sorted, lists in agg's order).
 * Return 0, or -1 when jansson failed (out of memory).
 */
int report_json_render(const struct agg *a, const struct report_opts *o,
		       struct buf *out);

#endif

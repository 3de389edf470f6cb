/*
 * report.h - stage 6 writers: the incident report as Markdown
 * (report_md.c), as a self-contained HTML page (report_html.c) and as
 * one JSON document (report_json.c), all from a struct agg (agg.h), plus
 * the Markdown escaping that learnings.c shares.
 *
 * The words of the report are written once, in report_md.c
 * (report_render), through a struct report_sink that turns them into a
 * format: Markdown (report_md.c) or HTML (report_html.c). So both say
 * the same, section for section.
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
#include "rules.h"

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
					   "draw them yourself" hint (and
					   where HTML reads the SVG charts) */
	bool index_link;                /* HTML: link to index.html */
};

/*
 * Kinds of list:
 *   REPORT_LIST_BULLET   "- item"
 *   REPORT_LIST_ORDERED  "1. item"
 *   REPORT_LIST_TASKS    "- [ ] item": action items, unticked
 */
enum report_list {
	REPORT_LIST_BULLET = 0,
	REPORT_LIST_ORDERED,
	REPORT_LIST_TASKS,
};

struct report_sink;

/*
 * What a format does with each piece of a report. report_render() calls
 * them in document order; blocks never nest except items in a list and
 * cells in a row. Inline calls (prose, text, code, severity) come inside
 * a heading, a paragraph, an item, a cell, a quote or the footer.
 */
struct report_sink_ops {
	/*
	 * Words of logtriage (never from a log or a rule file): `code`
	 * and **strong** are marked as in Markdown; **...** may span
	 * calls, `...` may not.
	 */
	void (*prose)(struct report_sink *s, const char *words);
	/* Text from a log or a rule: p[0..n), capped at max bytes (0: no
	 * cap) on a UTF-8 boundary with "..." appended. */
	void (*text)(struct report_sink *s, const char *p, size_t n,
		     size_t max);
	/* An inline code span (in_table: it sits in a table cell, or in a
	 * Markdown context that escapes '|' the same way). */
	void (*code)(struct report_sink *s, const char *text, bool in_table);
	/* A severity, as a word (and, where the format can, a mark). */
	void (*severity)(struct report_sink *s, enum rule_sev sev);
	/* Headings: level 1 the title; anchor names a level 2 section
	 * ("summary"; NULL below level 2). */
	void (*heading_begin)(struct report_sink *s, int level,
			      const char *anchor);
	void (*heading_end)(struct report_sink *s, int level);
	void (*para_begin)(struct report_sink *s);
	void (*para_end)(struct report_sink *s);
	/* A new line inside a paragraph. */
	void (*line_break)(struct report_sink *s);
	void (*list_begin)(struct report_sink *s, enum report_list kind);
	/* number counts from 1 in an ordered list (ignored otherwise). */
	void (*item_begin)(struct report_sink *s, size_t number);
	void (*item_end)(struct report_sink *s);
	void (*list_end)(struct report_sink *s);
	/*
	 * A table: heads is NULL-terminated, align has one letter per
	 * column: 'l' left, 'r' right (numbers), 'n' left and not wrapped
	 * where the format wraps (times). Rows are row_begin, cells
	 * separated by cell_next, row_end.
	 */
	void (*table_begin)(struct report_sink *s, const char *const *heads,
			    const char *align);
	void (*row_begin)(struct report_sink *s);
	void (*cell_next)(struct report_sink *s);
	void (*row_end)(struct report_sink *s);
	void (*table_end)(struct report_sink *s);
	void (*quote_begin)(struct report_sink *s);
	void (*quote_end)(struct report_sink *s);
	/* Verbatim lines (commands, log records): body[0..n), info says
	 * what they are ("sh", "text"), gutter goes before each line where
	 * the format indents (report_md_fence). */
	void (*fence)(struct report_sink *s, const char *info,
		      const char *body, size_t n, const char *gutter);
	/* Chart k of incident id, drawn (struct chart_set.drawn). */
	void (*chart)(struct report_sink *s, const char *id,
		      enum chart_kind k);
	/* The closing line of a report file. */
	void (*footer_begin)(struct report_sink *s);
	void (*footer_end)(struct report_sink *s);
};

struct report_sink {
	const struct report_sink_ops *ops;
	struct buf *out;                /* borrowed: where the format goes */
	const struct report_opts *o;    /* borrowed */
	const char *format;             /* "md" or "html": what --format
					   writes the report again */
	enum report_list list;          /* the list open now */
	bool in_table;                  /* between table_begin and _end */
};

/*
 * Write the report of a through s (its words, in its order of
 * sections). report_md_render and report_html_render call it.
 */
void report_render(const struct agg *a, const struct report_opts *o,
		   struct report_sink *s);

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

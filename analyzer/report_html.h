/*
 * report_html.h - stage 6 writer: an incident report as one
 * self-contained HTML page, and the index page of the incidents a run
 * wrote.
 *
 * The page says what the Markdown report says, section for section (the
 * words come from report_render, report.h). It needs nothing beside it:
 * no script, no external style sheet, font or image; its charts are
 * gnuplot's SVG, checked and inlined; a Content-Security-Policy forbids
 * scripts and loads, so that even a fault in the escaping could not run
 * anything. It reads without JavaScript, prints (print styles: no
 * navigation, no cut rows or charts), and shows each severity with a
 * word, a mark of its own shape and a shade from light to dark, so that
 * it reads without colour, to colour-blind readers and in grayscale.
 *
 * Every byte from a log, a rule file or a path is escaped for HTML
 * (< > & " ' as entities, control characters as spaces, invalid UTF-8
 * as U+FFFD).
 */
#ifndef LOGTRIAGE_REPORT_HTML_H
#define LOGTRIAGE_REPORT_HTML_H

#include "common.h"
#include "buf.h"
#include "report.h"

struct agg;

/* Largest SVG chart inlined; gnuplot's are some 100 KiB. */
#define REPORT_HTML_SVG_MAX (16 * 1024 * 1024)

/*
 * Append the page of a to out. The charts drawn (o->charts->drawn) are
 * read from o->chart_dir and inlined; one that cannot be read or is not
 * an SVG as gnuplot writes it (report_html_svg) is left out with a note
 * on the page and an error printed. Return 0, or -1 when a chart was
 * left out (the page is complete all the same).
 */
int report_html_render(const struct agg *a, const struct report_opts *o,
		       struct buf *out);

/* The rows of an index page, one per incident, in the order added. */
struct report_html_index {
	struct buf rows;        /* owned: their HTML */
	size_t n;
	enum rule_sev worst;    /* most severe so far (n > 0) */
};

void report_html_index_init(struct report_html_index *ix);
void report_html_index_release(struct report_html_index *ix);

/* Add the row of incident a: its title linked to "ID.html", severity,
 * window, duration, root cause and number of events. */
void report_html_index_add(struct report_html_index *ix, const struct agg *a);

/*
 * Append the index page of ix to out: the incidents of period (our
 * words, such as "from 2026-02-24 00:00:00 to 2026-02-25 00:00:00 UTC"
 * or "all time") read from db_path.
 */
void report_html_index_render(const struct report_html_index *ix,
			      const char *db_path,	/* shown */
			      const char *period,	/* in the title */
			      struct buf *out);		/* OUT: appended to */

/*
 * Append the SVG document svg[0..n), as gnuplot's svg terminal writes
 * it, to out for inlining in HTML: the prolog (XML declaration,
 * comments) dropped, every id and local reference ("#id", "url(#id)")
 * prefixed with prefix (several charts share a page), and role="img"
 * with aria-label="label" on the root. Anything gnuplot does not write
 * is refused: elements other than its drawing ones (so no script,
 * style, foreignObject, a, image or animation), attributes named on*,
 * references that are not local, DOCTYPE, CDATA, entities other than
 * the predefined and numeric ones, invalid UTF-8, a nesting deeper than
 * 64, more than REPORT_HTML_SVG_MAX bytes. Return 0, or -1 with out as
 * it was and *why saying what was refused (a static string).
 */
int report_html_svg(struct buf *out,		/* OUT: appended to */
		    const char *svg,		/* the document */
		    size_t n,			/* its bytes */
		    const char *prefix,		/* before every id */
		    const char *label,		/* what the chart shows */
		    const char **why);		/* OUT: on failure */

/*
 * Append s[0..n) to out as HTML text: < > & " ' as entities, control
 * characters as spaces, invalid UTF-8 as U+FFFD; at most max bytes of s
 * (0: all), cut on a UTF-8 boundary with "..." appended.
 */
void report_html_text(struct buf *out,	/* OUT: appended to */
		      const char *s,	/* need not be NUL-terminated */
		      size_t n,		/* bytes of s */
		      size_t max);	/* cap in bytes, 0: none */

#endif

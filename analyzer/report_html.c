/*
 * report_html.c - stage 6 writer: an incident report as one
 * self-contained HTML page (the HTML sink of report_render, with
 * gnuplot's SVG charts checked and inlined), and the index page of the
 * incidents a run wrote. report_html.h says what the pages promise.
 */
#include "common.h"
#include "report_html.h"
#include "agg.h"
#include "diag.h"
#include "timefmt.h"

#include <errno.h>

/*
 * The severity scale: a word, a mark of its own shape and a shade that
 * darkens with severity (ColorBrewer's YlOrBr, which stays apart for
 * the common colour vision deficiencies and in grayscale), and a border
 * that grows heavier (dotted, dashed, solid, double), so that any one of
 * them tells the severity without the others.
 */
static const char *const sev_marks[] = {
	[RULE_SEV_INFO] = "\xe2\x97\x8b",       /* U+25CB white circle */
	[RULE_SEV_WARNING] = "\xe2\x96\xb2",    /* U+25B2 black triangle */
	[RULE_SEV_ERROR] = "\xe2\x97\x86",      /* U+25C6 black diamond */
	[RULE_SEV_CRITICAL] = "\xe2\x96\xa0",   /* U+25A0 black square */
};

/*
 * The style sheet of every page. Screen: one readable column, wide
 * tables scroll in their box. Print: no navigation, code and evidence
 * wrapped, rows, charts and records not cut across pages, severity
 * shades printed (print-color-adjust) though marks and words carry it.
 */
static const char page_css[] =
":root{color-scheme:light;--ink:#1b1b1b;--muted:#555;--line:#c9c6c0;"
"--code:#f4f2ee;--head:#ebe8e2}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:#fff;color:var(--ink);font:15px/1.5 system-ui,"
"-apple-system,\"Segoe UI\",\"DejaVu Sans\",\"Liberation Sans\",Arial,"
"sans-serif}\n"
".page{max-width:74rem;margin:0 auto;padding:.5rem 1.5rem 3rem}\n"
".masthead{display:flex;justify-content:space-between;gap:1rem;"
"border-bottom:1px solid var(--line);padding:.4rem 0;color:var(--muted);"
"font-size:.9rem}\n"
"a{color:#0b4f8a}\n"
"h1{font-size:1.65rem;line-height:1.25;margin:1rem 0 .8rem}\n"
"h2{font-size:1.3rem;margin:2.2rem 0 .7rem;padding-bottom:.2rem;"
"border-bottom:2px solid var(--ink)}\n"
"h3{font-size:1.05rem;margin:1.5rem 0 .5rem}\n"
"code,pre{font-family:\"DejaVu Sans Mono\",\"Liberation Mono\",Menlo,"
"Consolas,monospace;font-size:.87em}\n"
"code{background:var(--code);padding:0 .25em;border-radius:3px;"
"overflow-wrap:break-word}\n"
"pre{background:var(--code);border-left:3px solid var(--line);"
"padding:.6rem .8rem;white-space:pre-wrap;overflow-wrap:anywhere}\n"
"pre code{background:none;padding:0;font-size:1em}\n"
"blockquote{margin:0 0 1rem;padding:.3rem 1rem;border-left:3px solid "
"var(--line);color:#333}\n"
".table{overflow-x:auto}\n"
"table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}\n"
"th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;"
"vertical-align:top;overflow-wrap:break-word}\n"
"th{background:var(--head)}\n"
"th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;"
"white-space:nowrap}\n"
"td.nowrap{white-space:nowrap}\n"
"nav.toc{margin:1rem 0;padding:.5rem 1rem;border:1px solid var(--line);"
"background:#faf9f7}\n"
"nav.toc ol{margin:.2rem 0;padding-left:1.4rem;columns:3 12rem}\n"
"ul.tasks{list-style:none;padding-left:.4rem}\n"
"ul.tasks input{margin:0 .5em 0 0}\n"
".sev{display:inline-block;padding:0 .45em;border:1px solid #000;"
"border-radius:3px;font-weight:600;white-space:nowrap;color:#000;"
"-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
".sev .mark{margin-right:.3em}\n"
".sev-info{background:#ffffd4;border-style:dotted}\n"
".sev-warning{background:#fed98e;border-style:dashed}\n"
".sev-error{background:#fe9929;border-width:2px}\n"
".sev-critical{background:#993404;color:#fff;border:3px double #000}\n"
"figure.chart{margin:1rem 0;padding:.5rem;border:1px solid var(--line)}\n"
"figure.chart svg{display:block;width:100%;max-width:960px;height:auto}\n"
"figcaption{color:var(--muted);font-size:.9rem;margin-top:.3rem}\n"
".missing{border:2px dashed #000;padding:.5rem}\n"
"footer{margin-top:2.5rem;border-top:1px solid var(--line);"
"color:var(--muted);font-size:.9rem}\n"
"@media print{\n"
"@page{margin:14mm}\n"
"body{font-size:10pt}\n"
".page{max-width:none;padding:0 2px}\n"
".table{overflow:visible}\n"
"nav.toc,.masthead a{display:none}\n"
"a{color:inherit;text-decoration:none}\n"
"h2,h3{break-after:avoid}\n"
"tr,figure.chart,pre,blockquote{break-inside:avoid}\n"
"thead{display:table-header-group}\n"
"pre{border-left:2px solid #000;background:none}\n"
"code{background:none;padding:0}\n"
"td,td code{overflow-wrap:anywhere}\n"
"th{background:none;border-bottom:2px solid #000}\n"
"}\n";

/* ---- escaping ------------------------------------------------------- */

/* One byte of text: entities for < > & " ', spaces for controls. */
static void esc_byte(struct buf *out, unsigned char c)
{
	switch (c) {
	case '<': buf_adds(out, "&lt;"); break;
	case '>': buf_adds(out, "&gt;"); break;
	case '&': buf_adds(out, "&amp;"); break;
	case '"': buf_adds(out, "&quot;"); break;
	case '\'': buf_adds(out, "&#39;"); break;
	default:
		buf_addch(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

/*
 * Escape valid UTF-8 v[0..n): C1 controls (U+0080..U+009F, which HTML
 * calls errors) become U+FFFD; in a fence (keep_lines) newlines and tabs
 * stay and other controls become U+FFFD, as in report_md_fence.
 */
static void esc_valid(struct buf *out, const char *v, size_t n,
		      bool keep_lines)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == 0xc2 && i + 1 < n && (unsigned char)v[i + 1] < 0xa0) {
			buf_adds(out, "\xef\xbf\xbd");
			i++;
		} else if (keep_lines && (c == '\n' || c == '\t')) {
			buf_addch(out, (char)c);
		} else if (keep_lines && (c < 0x20 || c == 0x7f)) {
			buf_adds(out, "\xef\xbf\xbd");
		} else {
			esc_byte(out, c);
		}
	}
}

void report_html_text(struct buf *out, const char *s, size_t n, size_t max)
{
	struct buf v;
	size_t used = n;
	bool cut = false;

	if (max && n > max) {
		used = max;
		while (used > 0 && ((unsigned char)s[used] & 0xc0) == 0x80)
			used--;
		cut = true;
	}
	buf_init(&v);
	buf_add_utf8(&v, s, used);
	esc_valid(out, v.p, v.len, false);
	buf_release(&v);
	if (cut)
		buf_adds(out, "...");
}

static void html_s(struct buf *out, const char *s)
{
	report_html_text(out, s, strlen(s), 0);
}

/* ---- the HTML sink ---------------------------------------------------- */

struct html_sink {
	struct report_sink s;   /* first: the ops get a pointer to it */
	bool strong;            /* inside **...** of prose */
	bool section;           /* a <section> is open */
	bool footer;            /* the footer was written (main closed) */
	const char *align;      /* of the open table */
	size_t cell;            /* column of the open cell */
	size_t toc_at;          /* where the contents go, or SIZE_MAX */
	struct buf toc;         /* owned: the contents' items */
	size_t head_at;         /* where the open h2's words start */
	const char *anchor;     /* of the open h2 */
	bool failed;            /* a chart was left out */
};

static struct html_sink *hs(struct report_sink *s)
{
	return (struct html_sink *)s;
}

static void close_strong(struct report_sink *s)
{
	if (hs(s)->strong) {
		buf_adds(s->out, "</strong>");
		hs(s)->strong = false;
	}
}

static void html_prose(struct report_sink *s, const char *w)
{
	bool in_code = false;
	const char *p;

	for (p = w; *p; p++) {
		if (p[0] == '*' && p[1] == '*') {
			buf_adds(s->out, hs(s)->strong ? "</strong>" :
				 "<strong>");
			hs(s)->strong = !hs(s)->strong;
			p++;
		} else if (*p == '`') {
			buf_adds(s->out, in_code ? "</code>" : "<code>");
			in_code = !in_code;
		} else {
			esc_byte(s->out, (unsigned char)*p);
		}
	}
	if (in_code)
		buf_adds(s->out, "</code>");
}

static void html_text(struct report_sink *s, const char *p, size_t n,
		      size_t max)
{
	report_html_text(s->out, p, n, max);
}

static void html_code(struct report_sink *s, const char *t, bool in_table)
{
	(void)in_table;
	buf_adds(s->out, "<code>");
	html_s(s->out, t);
	buf_adds(s->out, "</code>");
}

/* The severity as a badge: mark, then word. */
static void severity_badge(struct buf *out, enum rule_sev sev)
{
	const char *name = rules_sev_name(sev);

	if ((unsigned)sev >= ARRAY_SIZE(sev_marks)) {
		html_s(out, name);
		return;
	}
	buf_addf(out, "<span class=\"sev sev-%s\"><span class=\"mark\" "
		 "aria-hidden=\"true\">%s</span>%s</span>", name,
		 sev_marks[sev], name);
}

static void html_severity(struct report_sink *s, enum rule_sev sev)
{
	severity_badge(s->out, sev);
}

static void close_section(struct report_sink *s)
{
	if (hs(s)->section) {
		buf_adds(s->out, "</section>\n");
		hs(s)->section = false;
	}
}

static void html_heading_begin(struct report_sink *s, int level,
			       const char *anchor)
{
	struct html_sink *h = hs(s);

	if (level < 1)
		level = 1;
	if (level > 6)
		level = 6;
	if (level == 2) {
		close_section(s);
		if (h->toc_at == SIZE_MAX)
			h->toc_at = s->out->len;
		buf_adds(s->out, "<section>\n");
		h->section = true;
		if (anchor) {
			buf_addf(s->out, "<h2 id=\"%s\">", anchor);
			h->anchor = anchor;
			h->head_at = s->out->len;
			return;
		}
	}
	buf_addf(s->out, "<h%d>", level);
}

static void html_heading_end(struct report_sink *s, int level)
{
	struct html_sink *h = hs(s);

	close_strong(s);
	if (level < 1)
		level = 1;
	if (level > 6)
		level = 6;
	if (level == 2 && h->anchor) {
		buf_addf(&h->toc, "<li><a href=\"#%s\">", h->anchor);
		buf_add(&h->toc, s->out->p + h->head_at,
			s->out->len - h->head_at);
		buf_adds(&h->toc, "</a></li>\n");
		h->anchor = NULL;
	}
	buf_addf(s->out, "</h%d>\n", level);
}

static void html_para_begin(struct report_sink *s)
{
	buf_adds(s->out, "<p>");
}

static void html_para_end(struct report_sink *s)
{
	close_strong(s);
	buf_adds(s->out, "</p>\n");
}

static void html_line_break(struct report_sink *s)
{
	buf_adds(s->out, "<br>\n");
}

static void html_list_begin(struct report_sink *s, enum report_list kind)
{
	s->list = kind;
	buf_adds(s->out, kind == REPORT_LIST_ORDERED ? "<ol>\n" :
		 kind == REPORT_LIST_TASKS ? "<ul class=\"tasks\">\n" :
		 "<ul>\n");
}

static void html_item_begin(struct report_sink *s, size_t number)
{
	(void)number;
	buf_adds(s->out, s->list == REPORT_LIST_TASKS ?
		 "<li><input type=\"checkbox\" disabled "
		 "aria-label=\"not done\">" : "<li>");
}

static void html_item_end(struct report_sink *s)
{
	close_strong(s);
	buf_adds(s->out, "</li>\n");
}

static void html_list_end(struct report_sink *s)
{
	buf_adds(s->out, s->list == REPORT_LIST_ORDERED ? "</ol>\n" :
		 "</ul>\n");
}

static void td_open(struct report_sink *s)
{
	struct html_sink *h = hs(s);

	char a = h->align && h->cell < strlen(h->align) ?
		 h->align[h->cell] : 'l';

	buf_adds(s->out, a == 'r' ? "<td class=\"num\">" : a == 'n' ?
		 "<td class=\"nowrap\">" : "<td>");
}

static void html_table_begin(struct report_sink *s, const char *const *heads,
			     const char *align)
{
	size_t i;

	buf_adds(s->out, "<div class=\"table\"><table>\n<thead><tr>");
	for (i = 0; heads[i]; i++) {
		buf_adds(s->out, align[i] == 'r' ? "<th class=\"num\">" :
			 "<th>");
		html_s(s->out, heads[i]);
		buf_adds(s->out, "</th>");
	}
	buf_adds(s->out, "</tr></thead>\n<tbody>\n");
	hs(s)->align = align;
	s->in_table = true;
}

static void html_row_begin(struct report_sink *s)
{
	hs(s)->cell = 0;
	buf_adds(s->out, "<tr>");
	td_open(s);
}

static void html_cell_next(struct report_sink *s)
{
	close_strong(s);
	buf_adds(s->out, "</td>");
	hs(s)->cell++;
	td_open(s);
}

static void html_row_end(struct report_sink *s)
{
	close_strong(s);
	buf_adds(s->out, "</td></tr>\n");
}

static void html_table_end(struct report_sink *s)
{
	buf_adds(s->out, "</tbody></table></div>\n");
	hs(s)->align = NULL;
	s->in_table = false;
}

static void html_quote_begin(struct report_sink *s)
{
	buf_adds(s->out, "<blockquote><p>");
}

static void html_quote_end(struct report_sink *s)
{
	close_strong(s);
	buf_adds(s->out, "</p></blockquote>\n");
}

static void html_fence(struct report_sink *s, const char *info,
		       const char *body, size_t n, const char *gutter)
{
	struct buf v;

	(void)gutter;
	buf_adds(s->out, "<pre class=\"");
	html_s(s->out, info);
	buf_adds(s->out, "\"><code>");
	buf_init(&v);
	buf_add_utf8(&v, body, n);
	esc_valid(s->out, v.p, v.len, true);
	buf_release(&v);
	buf_adds(s->out, "</code></pre>\n");
}

/* Read dir/name whole (at most max bytes). Return 0 or -1 (*why). */
static int read_whole(const char *path, size_t max, struct buf *out,
		      const char **why)
{
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		*why = strerror(errno);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > max) {
			fclose(f);
			*why = "larger than a chart can be";
			return -1;
		}
		buf_add(out, chunk, n);
	}
	if (ferror(f)) {
		*why = strerror(errno);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* Chart k, drawn by gnuplot into the chart folder, inlined. */
static void html_chart(struct report_sink *s, const char *id,
		       enum chart_kind k)
{
	struct buf path, svg;
	char name[96], prefix[32];
	const char *why = NULL;

	chart_file_name(id, k, "svg", name, sizeof(name));
	snprintf(prefix, sizeof(prefix), "%s-", chart_kind_name(k));
	buf_init(&path);
	buf_init(&svg);
	buf_addf(&path, "%s/%s", s->o->chart_dir, name);
	buf_addf(s->out, "<figure class=\"chart\" id=\"chart-%s\">\n",
		 chart_kind_name(k));
	if (s->o->charts->format != CHART_FORMAT_SVG)
		why = "not an SVG chart (--charts svg)";
	else if (read_whole(path.p, REPORT_HTML_SVG_MAX, &svg, &why) == 0)
		report_html_svg(s->out, svg.p, svg.len, prefix,
				chart_kind_title(k), &why);
	if (why) {
		error("%s: chart left out of the HTML report: %s", path.p, why);
		buf_adds(s->out, "<p class=\"missing\">This chart could not be "
			 "included: <code>");
		html_s(s->out, name);
		buf_adds(s->out, "</code>: ");
		html_s(s->out, why);
		buf_adds(s->out, ".</p>");
		hs(s)->failed = true;
	}
	buf_adds(s->out, "\n<figcaption>");
	html_s(s->out, chart_kind_title(k));
	buf_adds(s->out, "</figcaption>\n</figure>\n");
	buf_release(&path);
	buf_release(&svg);
}

static void html_footer_begin(struct report_sink *s)
{
	close_section(s);
	buf_adds(s->out, "</main>\n<footer>\n<p>");
	hs(s)->footer = true;
}

static void legend(struct buf *out)
{
	int i;

	buf_adds(out, "<p class=\"legend\">Severity, from least to most: ");
	for (i = RULE_SEV_INFO; i <= RULE_SEV_CRITICAL; i++) {
		if (i > RULE_SEV_INFO)
			buf_adds(out, ", ");
		severity_badge(out, (enum rule_sev)i);
	}
	buf_adds(out, ". Each has its own mark and a darker shade than the "
		 "one before, so it reads without colour.</p>\n");
}

static void html_footer_end(struct report_sink *s)
{
	close_strong(s);
	buf_adds(s->out, "</p>\n");
	legend(s->out);
	buf_adds(s->out, "</footer>\n");
}

static const struct report_sink_ops html_ops = {
	.prose = html_prose,
	.text = html_text,
	.code = html_code,
	.severity = html_severity,
	.heading_begin = html_heading_begin,
	.heading_end = html_heading_end,
	.para_begin = html_para_begin,
	.para_end = html_para_end,
	.line_break = html_line_break,
	.list_begin = html_list_begin,
	.item_begin = html_item_begin,
	.item_end = html_item_end,
	.list_end = html_list_end,
	.table_begin = html_table_begin,
	.row_begin = html_row_begin,
	.cell_next = html_cell_next,
	.row_end = html_row_end,
	.table_end = html_table_end,
	.quote_begin = html_quote_begin,
	.quote_end = html_quote_end,
	.fence = html_fence,
	.chart = html_chart,
	.footer_begin = html_footer_begin,
	.footer_end = html_footer_end,
};

static void html_sink_init(struct html_sink *h, const struct report_opts *o,
			   struct buf *out)
{
	memset(h, 0, sizeof(*h));
	h->s.ops = &html_ops;
	h->s.out = out;
	h->s.o = o;
	h->s.format = "html";
	h->toc_at = SIZE_MAX;
	buf_init(&h->toc);
}

/* ---- pages ---------------------------------------------------------- */

/* From <!DOCTYPE html> to the start of <main>; title is escaped here. */
static void page_begin(struct buf *out, const char *title, const char *what,
		       bool index_link)
{
	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		 "<meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\""
		 "default-src 'none'; style-src 'unsafe-inline'; "
		 "base-uri 'none'; form-action 'none'\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width, "
		 "initial-scale=1\">\n"
		 "<meta name=\"generator\" content=\"logtriage "
		 LOGTRIAGE_VERSION "\">\n<title>");
	html_s(out, title);
	buf_addf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n"
		 "<div class=\"page\">\n<header class=\"masthead\"><span>"
		 "logtriage: %s</span>", page_css, what);
	if (index_link)
		buf_adds(out, "<a href=\"index.html\">All incidents</a>");
	buf_adds(out, "</header>\n<main>\n");
}

static void page_end(struct buf *out)
{
	buf_adds(out, "</div>\n</body>\n</html>\n");
}

int report_html_render(const struct agg *a, const struct report_opts *o,
		       struct buf *out)
{
	struct html_sink h;
	struct buf body, title;
	int rc;

	buf_init(&body);
	html_sink_init(&h, o, &body);
	report_render(a, o, &h.s);
	close_section(&h.s);
	if (!h.footer)
		buf_adds(&body, "</main>\n");
	buf_init(&title);
	buf_addf(&title, "%s \xc2\xb7 %s", a->title, a->id);
	page_begin(out, title.p, "incident report", o->index_link);
	if (h.toc_at == SIZE_MAX)
		h.toc_at = 0;
	buf_add(out, body.p, h.toc_at);
	if (h.toc.len) {
		buf_adds(out, "<nav class=\"toc\" aria-label=\"Sections\">"
			 "<ol>\n");
		buf_add(out, h.toc.p, h.toc.len);
		buf_adds(out, "</ol></nav>\n");
	}
	buf_add(out, body.p + h.toc_at, body.len - h.toc_at);
	page_end(out);
	rc = h.failed ? -1 : 0;
	buf_release(&title);
	buf_release(&body);
	buf_release(&h.toc);
	return rc;
}

/* ---- the index page --------------------------------------------------- */

void report_html_index_init(struct report_html_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	buf_init(&ix->rows);
}

void report_html_index_release(struct report_html_index *ix)
{
	if (ix == NULL)
		return;
	buf_release(&ix->rows);
}

void report_html_index_add(struct report_html_index *ix, const struct agg *a)
{
	struct buf *out = &ix->rows;
	char t1[TIMEFMT_BUF_SIZE], t2[TIMEFMT_BUF_SIZE], d[32];

	if (ix->n == 0 || a->severity > ix->worst)
		ix->worst = a->severity;
	ix->n++;
	buf_addf(out, "<tr><td><a href=\"%s.html\">", a->id);
	html_s(out, a->title);
	buf_addf(out, "</a><br><code>%s</code></td><td>", a->id);
	severity_badge(out, a->severity);
	buf_adds(out, "</td><td>");
	if (a->has_ts) {
		int64_t from = a->ev[a->first].pos.ts;
		int64_t to = a->ev[a->last].pos.ts;

		timefmt_format(from, t1, sizeof(t1));
		timefmt_format(to, t2, sizeof(t2));
		buf_addf(out, "%s to %s</td><td class=\"num\">%s", t1,
			 memcmp(t1, t2, 10) == 0 ? t2 + 11 : t2,
			 agg_duration(to - from, d, sizeof(d)));
	} else {
		buf_adds(out, "unknown (no timestamps)</td>"
			 "<td class=\"num\">unknown");
	}
	buf_adds(out, "</td><td>");
	if (a->cause.root != SIZE_MAX) {
		const struct agg_symptom *r = &a->sym[a->cause.root];

		buf_adds(out, "<code>");
		html_s(out, r->rule_id);
		buf_adds(out, "</code> ");
		html_s(out, r->rule ? r->rule->title : "rule not loaded");
		if (a->cause.verdict == INCIDENT_ONE_CAUSE)
			buf_adds(out, " (probable)");
	} else {
		buf_addf(out, "not established: %zu unconnected chains",
			 a->cause.nchains);
	}
	buf_addf(out, "</td><td class=\"num\">%" PRIu64 "</td></tr>\n",
		 a->members);
}

void report_html_index_render(const struct report_html_index *ix,
			      const char *db_path, const char *period,
			      struct buf *out)
{
	struct buf title;

	buf_init(&title);
	buf_addf(&title, "Incidents: %s", period);
	page_begin(out, title.p, "incidents", false);
	buf_adds(out, "<h1>");
	html_s(out, title.p);
	buf_adds(out, "</h1>\n<ul>\n<li><strong>Database:</strong> <code>");
	html_s(out, db_path);
	buf_addf(out, "</code></li>\n<li><strong>Incidents:</strong> %zu"
		 "</li>\n", ix->n);
	if (ix->n) {
		buf_adds(out, "<li><strong>Most severe:</strong> ");
		severity_badge(out, ix->worst);
		buf_adds(out, "</li>\n");
	}
	buf_adds(out, "</ul>\n<section>\n<h2 id=\"incidents\">In time order"
		 "</h2>\n<div class=\"table\"><table>\n<thead><tr>"
		 "<th>incident</th><th>severity</th><th>window (UTC)</th>"
		 "<th class=\"num\">duration</th><th>root cause</th>"
		 "<th class=\"num\">events</th></tr></thead>\n<tbody>\n");
	buf_add(out, ix->rows.p, ix->rows.len);
	buf_adds(out, "</tbody></table></div>\n</section>\n</main>\n"
		 "<footer>\n<p>Written by logtriage " LOGTRIAGE_VERSION
		 " from <code>");
	html_s(out, db_path);
	buf_adds(out, "</code>; each incident links to its report.</p>\n");
	legend(out);
	buf_adds(out, "</footer>\n");
	page_end(out);
	buf_release(&title);
}

/* ---- inlining gnuplot's SVG ------------------------------------------ */

/* The elements gnuplot's svg terminal draws with; nothing else passes. */
static const char *const svg_elements[] = {
	"svg", "g", "path", "text", "tspan", "title", "desc", "defs", "rect",
	"circle", "ellipse", "line", "polyline", "polygon", "use",
	"clipPath", "filter", "feFlood", "feComposite", "feOffset",
	"feGaussianBlur", "feMerge", "feMergeNode", "feBlend",
	"feColorMatrix", "linearGradient", "radialGradient", "stop",
	"pattern", "symbol", "marker", "mask",
};

#define SVG_MAX_DEPTH 64
#define SVG_NAME_MAX 32

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' ||
	       c == '.';
}

static bool is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool starts(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* Find s in [p, end); NULL when absent. */
static const char *find(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	for (; (size_t)(end - p) >= n; p++)
		if (memcmp(p, s, n) == 0)
			return p;
	return NULL;
}

/* Length of the entity reference at p ("&amp;", "&#38;"), or 0. */
static size_t entity_len(const char *p, const char *end)
{
	static const char *const named[] = {
		"&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
	};
	const char *q = p + 1;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(named); i++)
		if (starts(p, end, named[i]))
			return strlen(named[i]);
	if (q < end && *q == '#') {
		bool hex = q + 1 < end && q[1] == 'x';
		const char *d = q + 1 + hex, *e = d;

		while (e < end && e - d < 8 &&
		       ((*e >= '0' && *e <= '9') || (hex &&
			((*e >= 'a' && *e <= 'f') || (*e >= 'A' && *e <= 'F')))))
			e++;
		if (e > d && e < end && *e == ';')
			return (size_t)(e - p + 1);
	}
	return 0;
}

/* Does s[0..n) equal t, case ignored in s? */
static bool name_is(const char *s, size_t n, const char *t)
{
	size_t i;

	if (strlen(t) != n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != t[i])
			return false;
	}
	return true;
}

/* Does v[0..n) hold t, case ignored? */
static bool holds(const char *v, size_t n, const char *t)
{
	size_t m = strlen(t), i;

	for (i = 0; i + m <= n; i++)
		if (name_is(v + i, m, t))
			return true;
	return false;
}

/*
 * Append an attribute value v[0..n) (entities checked by the caller)
 * for double quotes, with local references "url(#x)" made
 * "url(#<prefix>x)". Return -1 (*why) for any other url(.
 */
static int attr_value(struct buf *out, const char *v, size_t n,
		      const char *prefix, const char **why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (n - i >= 4 && name_is(v + i, 4, "url(")) {
			if (i + 4 >= n || v[i + 4] != '#') {
				*why = "a reference that is not local";
				return -1;
			}
			buf_addf(out, "url(#%s", prefix);
			i += 4;
		} else if (v[i] == '"') {
			buf_adds(out, "&quot;");
		} else if (v[i] == '<') {
			*why = "'<' in an attribute";
			return -1;
		} else {
			buf_addch(out, v[i]);
		}
	}
	return 0;
}

/*
 * Check and copy one attribute of element el (the root when root), from
 * name[0..nn) and value v[0..vn).
 */
static int svg_attr(struct buf *out, const char *name, size_t nn,
		    const char *v, size_t vn, bool root, const char *prefix,
		    const char **why)
{
	size_t i;

	if (nn >= 2 && name_is(name, 2, "on")) {
		*why = "an event handler attribute";
		return -1;
	}
	if (holds(v, vn, "javascript:") || holds(v, vn, "data:") ||
	    holds(v, vn, "expression(") || holds(v, vn, "@import")) {
		*why = "a script or a load in an attribute";
		return -1;
	}
	/* Ours on the root: role and aria-label. */
	if (root && (name_is(name, nn, "role") || name_is(name, nn,
							  "aria-label")))
		return 0;
	if (name_is(name, nn, "href") || name_is(name, nn, "xlink:href") ||
	    name_is(name, nn, "id")) {
		bool ref = !name_is(name, nn, "id");

		if (ref && (vn < 2 || v[0] != '#')) {
			*why = "a reference that is not local";
			return -1;
		}
		for (i = ref; i < vn; i++)
			if (!is_id_char(v[i])) {
				*why = "an id that is not a plain name";
				return -1;
			}
		buf_addch(out, ' ');
		buf_add(out, name, nn);
		buf_addf(out, "=\"%s%s", ref ? "#" : "", prefix);
		buf_add(out, v + ref, vn - ref);
		buf_addch(out, '"');
		return 0;
	}
	buf_addch(out, ' ');
	buf_add(out, name, nn);
	buf_adds(out, "=\"");
	if (attr_value(out, v, vn, prefix, why) < 0)
		return -1;
	buf_addch(out, '"');
	return 0;
}

/* Skip the prolog: XML declaration, comments, blanks. NULL: refused. */
static const char *svg_prolog(const char *p, const char *end,
			      const char **why)
{
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if (starts(p, end, "<?xml ")) {
			const char *q = find(p, end, "?>");

			if (q == NULL)
				break;
			p = q + 2;
		} else if (starts(p, end, "<!--")) {
			const char *q = find(p + 4, end, "-->");

			if (q == NULL)
				break;
			p = q + 3;
		} else if (starts(p, end, "<svg") && p + 4 < end &&
			   (is_space(p[4]) || p[4] == '>')) {
			return p;
		} else {
			break;
		}
	}
	*why = "no <svg> root after the XML declaration";
	return NULL;
}

/* One start tag at p (after '<'); push it. Return the end or NULL. */
static const char *svg_start_tag(struct buf *out, const char *p,
				 const char *end,
				 char stack[][SVG_NAME_MAX], int *depth,
				 const char *prefix, const char *label,
				 const char **why)
{
	const char *name = p;
	size_t nn, i;
	bool known = false, root = *depth == 0;

	while (p < end && is_name_char(*p))
		p++;
	nn = (size_t)(p - name);
	for (i = 0; i < ARRAY_SIZE(svg_elements) && nn; i++)
		if (strlen(svg_elements[i]) == nn &&
		    memcmp(svg_elements[i], name, nn) == 0)
			known = true;
	if (!known) {
		*why = "an element gnuplot does not draw with";
		return NULL;
	}
	if (root != (nn == 3 && memcmp(name, "svg", 3) == 0)) {
		*why = root ? "no <svg> root" : "an <svg> inside the chart";
		return NULL;
	}
	if (*depth >= SVG_MAX_DEPTH) {
		*why = "elements nested too deep";
		return NULL;
	}
	buf_addch(out, '<');
	buf_add(out, name, nn);
	if (root) {
		buf_adds(out, " role=\"img\" aria-label=\"");
		html_s(out, label);
		buf_addch(out, '"');
	}
	for (;;) {
		const char *an, *v;
		size_t an_n;
		char q;

		while (p < end && is_space(*p))
			p++;
		if (p >= end) {
			*why = "a tag that does not end";
			return NULL;
		}
		if (*p == '>' || (*p == '/' && p + 1 < end && p[1] == '>'))
			break;
		an = p;
		while (p < end && is_name_char(*p))
			p++;
		an_n = (size_t)(p - an);
		while (p < end && is_space(*p))
			p++;
		if (an_n == 0 || p >= end || *p != '=') {
			*why = "an attribute without a value";
			return NULL;
		}
		p++;
		while (p < end && is_space(*p))
			p++;
		if (p >= end || (*p != '"' && *p != '\'')) {
			*why = "an attribute value without quotes";
			return NULL;
		}
		q = *p++;
		v = p;
		while (p < end && *p != q) {
			if (*p == '&' && entity_len(p, end) == 0) {
				*why = "an entity that is not predefined";
				return NULL;
			}
			p++;
		}
		if (p >= end) {
			*why = "an attribute value that does not end";
			return NULL;
		}
		if (svg_attr(out, an, an_n, v, (size_t)(p - v), root, prefix,
			     why) < 0)
			return NULL;
		p++;
	}
	if (*p == '/') {
		buf_adds(out, "/>");
		return p + 2;
	}
	buf_addch(out, '>');
	memcpy(stack[*depth], name, nn);
	stack[*depth][nn] = '\0';
	(*depth)++;
	return p + 1;
}

int report_html_svg(struct buf *out, const char *svg, size_t n,
		    const char *prefix, const char *label, const char **why)
{
	char stack[SVG_MAX_DEPTH][SVG_NAME_MAX];
	const char *p = svg, *end = svg + n;
	size_t start = out->len;
	int depth = 0;
	bool done = false;
	struct buf v;

	*why = NULL;
	if (n > REPORT_HTML_SVG_MAX) {
		*why = "larger than a chart can be";
		return -1;
	}
	buf_init(&v);
	buf_add_utf8(&v, svg, n);
	if (v.len != n || memcmp(v.p, svg, n) != 0)
		*why = "invalid UTF-8 or a NUL byte";
	buf_release(&v);
	if (*why || (p = svg_prolog(p, end, why)) == NULL)
		goto fail;
	while (p < end) {
		if (*p != '<') {
			if (depth == 0 && !is_space(*p)) {
				*why = "text after the chart";
				goto fail;
			}
			if (*p == '&') {
				size_t e = entity_len(p, end);

				if (e == 0) {
					*why = "an entity that is not "
					       "predefined";
					goto fail;
				}
				buf_add(out, p, e);
				p += e;
				continue;
			}
			if ((unsigned char)*p < 0x20 && !is_space(*p)) {
				*why = "a control character";
				goto fail;
			}
			if (depth > 0) {
				if (*p == '>')
					buf_adds(out, "&gt;");
				else
					buf_addch(out, *p);
			}
			p++;
		} else if (starts(p, end, "<!--")) {
			const char *q = find(p + 4, end, "-->");

			if (q == NULL) {
				*why = "a comment that does not end";
				goto fail;
			}
			p = q + 3;
		} else if (starts(p, end, "</")) {
			const char *name = p + 2, *q = name;

			while (q < end && is_name_char(*q))
				q++;
			if (depth == 0 || (size_t)(q - name) !=
			    strlen(stack[depth - 1]) ||
			    memcmp(name, stack[depth - 1],
				   (size_t)(q - name)) != 0) {
				*why = "an end tag that closes nothing open";
				goto fail;
			}
			while (q < end && is_space(*q))
				q++;
			if (q >= end || *q != '>') {
				*why = "a tag that does not end";
				goto fail;
			}
			buf_add(out, p, (size_t)(q - p + 1));
			p = q + 1;
			if (--depth == 0)
				done = true;
		} else if (done) {
			*why = "more after the chart";
			goto fail;
		} else if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
			*why = "a declaration, CDATA or instruction inside";
			goto fail;
		} else {
			p = svg_start_tag(out, p + 1, end, stack, &depth,
					  prefix, label, why);
			if (p == NULL)
				goto fail;
			if (depth == 0)
				done = true;
		}
	}
	if (!done) {
		*why = "an element that is not closed";
		goto fail;
	}
	return 0;
fail:
	out->len = start;
	if (out->cap)
		out->p[start] = '\0';
	return -1;
}

/*
 * t_report_html.c - unit tests for the HTML writer's two gates: the
 * escaping of text from logs (entities, controls, invalid UTF-8, the
 * cap) and the check that lets only gnuplot's drawing SVG into a page
 * (prolog dropped, ids and references prefixed, anything that could run
 * or load refused).
 */
#include "common.h"
#include "report_html.h"
#include "unit.h"

/* report_html_text of s[0..n), as a string (static). */
#define ESC(lit, max) esc(lit, sizeof(lit) - 1, max)
static const char *esc(const char *s, size_t n, size_t max)
{
	static struct buf b;

	buf_release(&b);
	buf_init(&b);
	report_html_text(&b, s, n, max);
	return b.p;
}

/* report_html_svg of s: the output, or "REFUSED: why". */
static const char *svg(const char *s)
{
	static struct buf b;
	const char *why;

	buf_release(&b);
	buf_init(&b);
	buf_adds(&b, "[");
	if (report_html_svg(&b, s, strlen(s), "k-", "A chart", &why) < 0) {
		CHECK_STR(b.p, "[", "a refusal leaves the buffer as it was");
		buf_clear(&b);
		buf_addf(&b, "REFUSED: %s", why);
	}
	return b.p;
}

static void test_text(void)
{
	CHECK_STR(ESC("<script>alert('x')</script> & \"q\"", 0),
		  "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
		  "&quot;q&quot;", "markup characters become entities");
	CHECK_STR(ESC("a\tb\nc\x1b[31m\x7f", 0), "a b c [31m ",
		  "control characters become spaces");
	CHECK_STR(ESC("bad \xff\xfe x", 0),
		  "bad \xef\xbf\xbd\xef\xbf\xbd x",
		  "invalid UTF-8 becomes U+FFFD");
	CHECK_STR(ESC("nul\0x", 0), "nul\xef\xbf\xbdx",
		  "a NUL byte becomes U+FFFD");
	CHECK_STR(ESC("c1 \xc2\x85 end", 0), "c1 \xef\xbf\xbd end",
		  "a C1 control becomes U+FFFD");
	CHECK_STR(ESC("caf\xc3\xa9 \xe2\x9c\x85", 0),
		  "caf\xc3\xa9 \xe2\x9c\x85", "valid UTF-8 is kept");
	CHECK_STR(ESC("ab\xc3\xa9\xc3\xa9", 3), "ab...",
		  "the cap cuts on a UTF-8 boundary");
	CHECK_STR(ESC("<<<<", 2), "&lt;&lt;...",
		  "the cap counts bytes of the log, not of the entities");
}

#define HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"  standalone=\"no\"?>\n"
#define ROOT "<svg width=\"960\" height=\"360\" viewBox=\"0 0 960 360\" " \
	     "xmlns=\"http://www.w3.org/2000/svg\" " \
	     "xmlns:xlink=\"http://www.w3.org/1999/xlink\">"

static void test_svg_accepts(void)
{
	CHECK_STR(svg(HEAD "<!-- made by gnuplot -->\n" ROOT
		      "\n<title>Gnuplot</title>\n<defs>\n"
		      "\t<path id='gpPt0' stroke='currentColor' "
		      "d='M-1,0 h2'/>\n\t<use xlink:href='#gpPt0' "
		      "id='gpPt1' fill='currentColor'/>\n"
		      "\t<filter id='textbox'><feFlood flood-color='#FFFFFF'/>"
		      "</filter>\n</defs>\n"
		      "<g style='filter:url(#textbox)'><text><tspan>a &amp; b "
		      "&#62; c > d</tspan></text></g>\n</svg>\n\n"),
		  "[<svg role=\"img\" aria-label=\"A chart\" width=\"960\" "
		  "height=\"360\" viewBox=\"0 0 960 360\" "
		  "xmlns=\"http://www.w3.org/2000/svg\" "
		  "xmlns:xlink=\"http://www.w3.org/1999/xlink\">"
		  "\n<title>Gnuplot</title>\n<defs>\n"
		  "\t<path id=\"k-gpPt0\" stroke=\"currentColor\" "
		  "d=\"M-1,0 h2\"/>\n\t<use xlink:href=\"#k-gpPt0\" "
		  "id=\"k-gpPt1\" fill=\"currentColor\"/>\n"
		  "\t<filter id=\"k-textbox\"><feFlood flood-color=\"#FFFFFF\"/>"
		  "</filter>\n</defs>\n"
		  "<g style=\"filter:url(#k-textbox)\"><text><tspan>a &amp; b "
		  "&#62; c &gt; d</tspan></text></g>\n</svg>",
		  "gnuplot's SVG: prolog dropped, ids and references "
		  "prefixed, quotes made double, the root labelled");
	CHECK_STR(svg("<svg role=\"x\" aria-label=\"y\"><g/></svg>"),
		  "[<svg role=\"img\" aria-label=\"A chart\"><g/></svg>",
		  "the root's own role and label give way to ours");
	CHECK_STR(svg("<svg><text title='say \"hi\"'>x</text></svg>"),
		  "[<svg role=\"img\" aria-label=\"A chart\"><text "
		  "title=\"say &quot;hi&quot;\">x</text></svg>",
		  "a double quote in a single-quoted value is escaped");
}

static void test_svg_refuses(void)
{
	static const struct {
		const char *svg, *why;
	} bad[] = {
		{ "<svg><script>alert(1)</script></svg>",
		  "an element gnuplot does not draw with" },
		{ "<svg><foreignObject><p>x</p></foreignObject></svg>",
		  "an element gnuplot does not draw with" },
		{ "<svg><style>*{display:none}</style></svg>",
		  "an element gnuplot does not draw with" },
		{ "<svg><image href='x.png'/></svg>",
		  "an element gnuplot does not draw with" },
		{ "<svg><a xlink:href='#x'><g/></a></svg>",
		  "an element gnuplot does not draw with" },
		{ "<svg><set attributeName='href' to='javascript:x'/></svg>",
		  "an element gnuplot does not draw with" },
		{ "<svg onload='alert(1)'></svg>",
		  "an event handler attribute" },
		{ "<svg><g ONCLICK='alert(1)'/></svg>",
		  "an event handler attribute" },
		{ "<svg><use xlink:href='http://x/y.svg#a'/></svg>",
		  "a reference that is not local" },
		{ "<svg><use href='#a b'/></svg>",
		  "an id that is not a plain name" },
		{ "<svg><g style='fill:url(http://x/p)'/></svg>",
		  "a reference that is not local" },
		{ "<svg><g style='background:url(data:x)'/></svg>",
		  "a script or a load in an attribute" },
		{ "<svg><g fill='javascript:alert(1)'/></svg>",
		  "a script or a load in an attribute" },
		{ "<!DOCTYPE svg [<!ENTITY x 'y'>]><svg></svg>",
		  "no <svg> root after the XML declaration" },
		{ "<svg><![CDATA[<script>x</script>]]></svg>",
		  "a declaration, CDATA or instruction inside" },
		{ "<svg><?php x ?></svg>",
		  "a declaration, CDATA or instruction inside" },
		{ "<svg><text>&x;</text></svg>",
		  "an entity that is not predefined" },
		{ "<svg><g fill='&nbsp;'/></svg>",
		  "an entity that is not predefined" },
		{ "<svg><svg></svg></svg>", "an <svg> inside the chart" },
		{ "<svg><g></svg>", "an end tag that closes nothing open" },
		{ "<svg><g>", "an element that is not closed" },
		{ "<svg></svg><script>x</script>", "more after the chart" },
		{ "<svg></svg>x", "text after the chart" },
		{ "<g></g>", "no <svg> root after the XML declaration" },
		{ "", "no <svg> root after the XML declaration" },
		{ "<svg><g fill=red/></svg>",
		  "an attribute value without quotes" },
		{ "<svg><g fill/></svg>", "an attribute without a value" },
		{ "<svg><g fill='a<b'/></svg>", "'<' in an attribute" },
		{ "<svg><text>\xff</text></svg>",
		  "invalid UTF-8 or a NUL byte" },
		{ "<svg><text>a\x01</text></svg>", "a control character" },
		{ "<svg><!-- x </svg>", "a comment that does not end" },
	};
	size_t i;
	char want[200];

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(want, sizeof(want), "REFUSED: %s", bad[i].why);
		CHECK_STR(svg(bad[i].svg), want, "refused: %s", bad[i].svg);
	}
	{
		/* 65 levels of <g>: deeper than a chart goes. */
		struct buf deep;
		int k;

		buf_init(&deep);
		buf_adds(&deep, "<svg>");
		for (k = 0; k < 64; k++)
			buf_adds(&deep, "<g>");
		CHECK_STR(svg(deep.p), "REFUSED: elements nested too deep",
			  "a nesting deeper than 64 is refused");
		buf_release(&deep);
	}
}

int main(void)
{
	test_text();
	test_svg_accepts();
	test_svg_refuses();
	return unit_done();
}

/*
 * cmd_report.c - 'logtriage report': detect the incidents over the
 * stored events, then write a report per incident (Markdown, JSON or a
 * self-contained HTML page with an index page, with gnuplot charts)
 * and, with --learnings, upsert its entry in .learnings/INCIDENTS.md.
 * Reports are written before INCIDENTS.md is touched, so a failure
 * leaves that file as it was.
 */
#include "common.h"
#include "cmd.h"
#include "agg.h"
#include "buf.h"
#include "chart.h"
#include "diag.h"
#include "incidents.h"
#include "learnings.h"
#include "redact.h"
#include "report.h"
#include "report_html.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"

#include <getopt.h>

static const char report_usage[] =
"usage: logtriage report [--db FILE] [--incident ID | --since T --until T]\n"
"                        [--out DIR] [--format md|json|html]\n"
"                        [--charts png|svg|none]\n"
"                        [--learnings [FILE]] [--gap DUR] [--rules DIR]\n"
"\n"
"Detect the incidents over the stored events (symptoms at warning or\n"
"above, split after --gap without one, bounded by deploy markers), then\n"
"write one report per incident: window, symptoms, root cause and its\n"
"chain, trigger, impact, timeline, charts, the guide's diagnosis and\n"
"remedies, redacted evidence and action items. With --learnings, also\n"
"add or refresh each incident's entry in INCIDENTS.md, keeping what\n"
"people wrote there.\n"
"\n"
"Options:\n"
"  --db FILE          database to read (default: logtriage.db)\n"
"  --incident ID      only this incident (see 'logtriage incidents')\n"
"  --since T          only incidents that end at or after T\n"
"  --until T          only incidents that start before T; T is\n"
"                     2026-02-24, 2026-02-24T10:00, an ISO 8601 time,\n"
"                     24h (that long ago), now, or @EPOCH\n"
"  --out DIR          folder of the reports (default: reports), created\n"
"                     when missing\n"
"  --format FMT       'md' (default), 'json', or 'html': one page per\n"
"                     incident that needs no other file (charts inlined\n"
"                     as SVG, no script; prints), and index.html listing\n"
"                     the incidents unless --incident is given\n"
"  --charts FMT       'png' (default, gnuplot's pngcairo), 'svg' or 'none';\n"
"                     with --format html 'svg' (default) or 'none'\n"
"  --learnings[=FILE] upsert the entries into FILE (default:\n"
"                     .learnings/INCIDENTS.md, created with its folder);\n"
"                     charts go to the 'charts' folder beside it\n"
"  --gap DUR          quiet time that ends an incident (default: 15m):\n"
"                     90s, 15m, 1h...\n"
"  --rules DIR        also load DIR/*.json, as 'analyze' does\n"
"  -q, --quiet        print errors only\n"
"  -h, --help         show this help\n"
"\n"
"Without gnuplot on PATH the reports are still written; they say the\n"
"charts were skipped, and the data and scripts are left to draw them.\n"
"\n"
"Exit status: 0 written, 1 runtime failure (database, a file or folder\n"
"that cannot be written, gnuplot failed), 2 usage error (also an\n"
"unknown --incident), 3 invalid rule files, 6 database busy.\n"
"\n"
"Examples:\n"
"  logtriage analyze incident_logs.txt && logtriage report --learnings\n"
"  logtriage report --incident inc-20260224-1015-3f2a9c --charts svg\n"
"  logtriage report --since 2026-02-24 --until 2026-02-25 --format json\n"
"  logtriage report --since 24h --format html --out /srv/www/incidents\n";

struct report_run {
	const char *db_path;
	const char *rules_dir;
	const char *incident;
	const char *out_dir;
	const char *learnings;          /* NULL: no --learnings */
	bool has_since, has_until;
	int64_t since, until;
	int64_t gap_ms;
	bool json;
	bool html;
	bool charts_given;              /* --charts was on the command line */
	enum chart_format charts;
	bool quiet;
	/* state */
	struct rules *rs;
	struct store *st;
	struct redact *red;
	struct incident_markers *mk;    /* each report's trigger, recovery */
	bool gnuplot_failed, gnuplot_missing;
	bool html_failed;               /* a chart left out of a page */
	struct report_html_index index; /* --format html: the index page */
	struct learnings_entry *entries;
	size_t nentries;
	char **texts;                   /* owned strings behind entries */
	size_t ntexts;
};

enum {
	OPT_DB = 256, OPT_RULES, OPT_INCIDENT, OPT_SINCE, OPT_UNTIL, OPT_OUT,
	OPT_FORMAT, OPT_CHARTS, OPT_LEARNINGS, OPT_GAP,
};

static const struct option report_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "incident", required_argument, NULL, OPT_INCIDENT },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "charts", required_argument, NULL, OPT_CHARTS },
	{ "learnings", optional_argument, NULL, OPT_LEARNINGS },
	{ "gap", required_argument, NULL, OPT_GAP },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *msg, const char *arg)
{
	error("%s '%s'; see 'logtriage report --help'", msg, arg);
	return EXIT_USAGE;
}

static int parse_args(struct report_run *r, int argc, char **argv)
{
	int c, f;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qhV", report_options,
				NULL)) != -1) {
		switch (c) {
		case OPT_DB: r->db_path = optarg; break;
		case OPT_RULES: r->rules_dir = optarg; break;
		case OPT_INCIDENT:
			if (!incidents_id_is_valid(optarg))
				return usage_error("--incident takes an id such "
						   "as inc-20260224-1015-3f2a9c, "
						   "not", optarg);
			r->incident = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (timefmt_parse_user(optarg, cmd_now_ms(), NULL,
					       c == OPT_SINCE ? &r->since :
					       &r->until) < 0)
				return usage_error("--since and --until take a "
						   "time such as 2026-02-24T10:00 "
						   "or 24h, not", optarg);
			if (c == OPT_SINCE)
				r->has_since = true;
			else
				r->has_until = true;
			break;
		case OPT_OUT: r->out_dir = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "md") != 0 &&
			    strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "html") != 0)
				return usage_error("unknown format", optarg);
			r->json = strcmp(optarg, "json") == 0;
			r->html = strcmp(optarg, "html") == 0;
			break;
		case OPT_CHARTS:
			f = chart_format_parse(optarg);
			if (f < 0)
				return usage_error("unknown chart format", optarg);
			r->charts = (enum chart_format)f;
			r->charts_given = true;
			break;
		case OPT_LEARNINGS:
			/* "--learnings FILE" as well as "--learnings=FILE" */
			if (optarg)
				r->learnings = optarg;
			else if (optind < argc && argv[optind][0] != '-')
				r->learnings = argv[optind++];
			else
				r->learnings = LEARNINGS_DEFAULT_PATH;
			if (*r->learnings == '\0')
				return usage_error("--learnings needs a file, "
						   "not", r->learnings);
			break;
		case OPT_GAP:
			if (timefmt_parse_duration(optarg, &r->gap_ms) < 0 ||
			    r->gap_ms < 1000)
				return usage_error("--gap takes a duration of "
						   "1s or more, not", optarg);
			break;
		case 'q': r->quiet = true; diag_quiet = true; break;
		case 'h':
			fputs(report_usage, stdout);
			return -1;
		case 'V':
			printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return -1;
		case ':':
			error("option '%s' needs a value; see 'logtriage "
			      "report --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt > 0 && optopt < 256)
				error("unknown option '-%c'; see 'logtriage "
				      "report --help'", optopt);
			else
				error("unknown option '%s'; see 'logtriage "
				      "report --help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (r->incident && (r->has_since || r->has_until)) {
		error("--incident and --since/--until exclude each other; see "
		      "'logtriage report --help'");
		return EXIT_USAGE;
	}
	if (r->html && !r->charts_given) {
		r->charts = CHART_FORMAT_SVG;
	} else if (r->html && r->charts == CHART_FORMAT_PNG) {
		error("HTML reports inline their charts as SVG: use --charts "
		      "svg or none with --format html; see 'logtriage report "
		      "--help'");
		return EXIT_USAGE;
	}
	if (r->has_since && r->has_until && r->until <= r->since) {
		error("--until must come after --since; see 'logtriage "
		      "report --help'");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Does incident s fall in --since/--until (overlap)? */
static bool selected(const struct report_run *r,
		     const struct incident_summary *s)
{
	if (r->incident)
		return strcmp(r->incident, s->id) == 0;
	if (!r->has_since && !r->has_until)
		return true;
	if (!s->has_ts)
		return false;
	if (r->has_since && s->end_ts < r->since)
		return false;
	if (r->has_until && s->start_ts >= r->until)
		return false;
	return true;
}

static char *join_path(const char *dir, const char *name)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "%s/%s", dir, name);
	return buf_detach(&b, NULL);
}

static char *keep(struct report_run *r, char *s)
{
	r->texts = xrealloc(r->texts, (r->ntexts + 1) * sizeof(*r->texts));
	r->texts[r->ntexts++] = s;
	return s;
}

/* Note what became of the charts, for the exit status and a warning. */
static void note_charts(struct report_run *r, const struct chart_set *cs)
{
	if (cs->state == CHART_STATE_FAILED && !r->gnuplot_failed) {
		r->gnuplot_failed = true;
		error("%s", cs->note);
	}
	if (cs->state == CHART_STATE_NO_GNUPLOT && !r->gnuplot_missing) {
		r->gnuplot_missing = true;
		warning("gnuplot was not found on PATH: charts skipped (the "
			"data and scripts are written; the reports say so)");
	}
}

/* The folder of the learnings file's charts: "<its folder>/charts". */
static char *learnings_chart_dir(const char *file)
{
	const char *slash = strrchr(file, '/');
	struct buf b;

	buf_init(&b);
	if (slash)
		buf_add(&b, file, (size_t)(slash - file + 1));
	buf_adds(&b, "charts");
	return buf_detach(&b, NULL);
}

/* Write one incident's report (and prepare its entry). Return an exit
 * code. */
static int report_one(struct report_run *r, const struct incident_summary *s)
{
	struct agg a;
	struct chart_set cs;
	struct report_opts o;
	struct buf text;
	char name[INCIDENTS_ID_SIZE + 8];
	char *path;
	int rc;

	rc = agg_load(&a, store_db(r->st), r->mk, r->db_path, r->rs, r->red,
		      s->id);
	if (rc != 0)
		return rc > 0 ? (error("incident '%s' vanished from %s while "
				       "reading it", s->id, r->db_path),
				 EXIT_RUNTIME) : EXIT_RUNTIME;
	if (chart_write(&a, r->out_dir, r->charts, &cs) < 0) {
		agg_release(&a);
		return EXIT_RUNTIME;
	}
	note_charts(r, &cs);
	memset(&o, 0, sizeof(o));
	o.mode = REPORT_MD_FILE;
	o.db_path = r->db_path;
	o.charts = &cs;
	o.chart_prefix = "";
	o.chart_dir = r->out_dir;
	o.index_link = r->incident == NULL;
	buf_init(&text);
	if (r->html) {
		if (report_html_render(&a, &o, &text) < 0)
			r->html_failed = true;
		report_html_index_add(&r->index, &a);
	} else if (r->json) {
		if (report_json_render(&a, &o, &text) < 0) {
			error("%s: cannot build the JSON report", s->id);
			buf_release(&text);
			agg_release(&a);
			return EXIT_RUNTIME;
		}
	} else {
		report_md_render(&a, &o, &text);
	}
	snprintf(name, sizeof(name), "%s.%s", s->id, r->json ? "json" :
		 r->html ? "html" : "md");
	path = join_path(r->out_dir, name);
	rc = learnings_write_atomic(path, text.p, text.len, 0);
	buf_release(&text);
	if (rc < 0) {
		free(path);
		agg_release(&a);
		return EXIT_RUNTIME;
	}
	if (!r->quiet) {
		int k, n = 0;

		printf("%s  %s", s->id, path);
		if (cs.state == CHART_STATE_DRAWN ||
		    cs.state == CHART_STATE_FAILED) {
			for (k = 0; k < CHART__COUNT; k++)
				if (cs.drawn[k])
					printf("%s%s", n++ ? ", " : "  (charts: ",
					       chart_kind_name((enum chart_kind)k));
			printf("%s", n ? ")" : "");
			if (cs.state == CHART_STATE_FAILED)
				printf("  (charts failed)");
		} else if (cs.state == CHART_STATE_NO_GNUPLOT) {
			printf("  (charts skipped: no gnuplot)");
		}
		printf("\n");
	}
	free(path);
	if (r->learnings) {
		struct learnings_entry *e;
		char *dir = keep(r, learnings_chart_dir(r->learnings));
		const char **acts;
		size_t i;

		/* The same charts beside INCIDENTS.md: copied, not drawn
		 * again. */
		if ((cs.have[CHART_EVENTS] || cs.have[CHART_LATENCY] ||
		     cs.have[CHART_MEMORY] || cs.have[CHART_HTTP]) &&
		    (learnings_mkdirs(dir) < 0 ||
		     chart_copy(a.id, &cs, r->out_dir, dir) < 0)) {
			agg_release(&a);
			return EXIT_RUNTIME;
		}
		o.mode = REPORT_MD_ENTRY;
		o.chart_prefix = "charts/";
		o.chart_dir = dir;
		buf_init(&text);
		report_md_render(&a, &o, &text);
		r->entries = xrealloc(r->entries, (r->nentries + 1) *
				      sizeof(*r->entries));
		e = &r->entries[r->nentries++];
		e->id = keep(r, xstrdup(s->id));
		e->has_ts = s->has_ts;
		e->start_ts = s->start_ts;
		e->generated = keep(r, buf_detach(&text, NULL));
		acts = xcalloc(a.nactions ? a.nactions : 1, sizeof(*acts));
		keep(r, (char *)acts);
		for (i = 0; i < a.nactions; i++) {
			buf_init(&text);
			report_md_action(&a, i, &text);
			acts[i] = keep(r, buf_detach(&text, NULL));
		}
		e->actions = acts;
		e->nactions = a.nactions;
	}
	agg_release(&a);
	return EXIT_OK;
}

/* The period of the run in words, for the index page. */
static void period_words(const struct report_run *r, struct buf *out)
{
	char t1[TIMEFMT_BUF_SIZE], t2[TIMEFMT_BUF_SIZE];

	if (r->has_since)
		timefmt_format(r->since, t1, sizeof(t1));
	if (r->has_until)
		timefmt_format(r->until, t2, sizeof(t2));
	if (r->has_since && r->has_until)
		buf_addf(out, "from %s to %s UTC", t1, t2);
	else if (r->has_since)
		buf_addf(out, "since %s UTC", t1);
	else if (r->has_until)
		buf_addf(out, "until %s UTC", t2);
	else
		buf_adds(out, "all time");
}

/* Write DIR/index.html: the incidents of the run, linked. Return an exit
 * code. */
static int write_index(struct report_run *r)
{
	struct buf period, page;
	char *path;
	int rc;

	buf_init(&period);
	buf_init(&page);
	period_words(r, &period);
	report_html_index_render(&r->index, r->db_path, period.p, &page);
	path = join_path(r->out_dir, "index.html");
	rc = learnings_write_atomic(path, page.p, page.len, 0);
	if (rc == 0 && !r->quiet)
		printf("index  %s  (%zu incident%s)\n", path, r->index.n,
		       r->index.n == 1 ? "" : "s");
	free(path);
	buf_release(&page);
	buf_release(&period);
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}

static void run_release(struct report_run *r)
{
	size_t i;

	for (i = 0; i < r->ntexts; i++)
		free(r->texts[i]);
	free(r->texts);
	free(r->entries);
	report_html_index_release(&r->index);
	redact_free(r->red);
	incident_markers_free(r->mk);
	store_close(r->st);
	rules_free(r->rs);
}

int cmd_report(int argc, char **argv)
{
	struct report_run r;
	struct incident_list l;
	size_t i, n = 0;
	int rc, status = EXIT_OK;

	memset(&r, 0, sizeof(r));
	r.db_path = "logtriage.db";
	r.out_dir = "reports";
	r.gap_ms = INCIDENTS_GAP_DEFAULT_MS;
	r.charts = CHART_FORMAT_PNG;
	report_html_index_init(&r.index);
	rc = parse_args(&r, argc, argv);
	if (rc != EXIT_OK) {
		report_html_index_release(&r.index);
		return rc < 0 ? EXIT_OK : rc;
	}
	r.rs = rules_new();
	if (rules_load_builtin(r.rs) < 0 ||
	    (r.rules_dir && rules_load_dir(r.rs, r.rules_dir) < 0) ||
	    rules_compile(r.rs, false) < 0) {
		run_release(&r);
		return EXIT_RULES;
	}
	rc = cmd_open_existing_db(&r.st, r.db_path);
	if (rc != EXIT_OK) {
		run_release(&r);
		return rc;
	}
	r.red = cmd_redactor(r.st);
	if (r.red == NULL) {
		run_release(&r);
		return EXIT_BUG;
	}
	rc = incidents_detect(r.st, r.rs, r.gap_ms, &l);
	if (rc < 0) {
		run_release(&r);
		return rc == STORE_ERR_BUSY ? EXIT_LOCKED : EXIT_RUNTIME;
	}
	for (i = 0; i < l.n; i++)
		n += selected(&r, &l.v[i]);
	if (n == 0) {
		if (r.incident) {
			error("no incident '%s' in %s; see 'logtriage "
			      "incidents'", r.incident, r.db_path);
			status = EXIT_USAGE;
		} else if (!r.quiet) {
			printf("no incidents in %s%s\n", r.db_path,
			       r.has_since || r.has_until ?
			       " in that time range" : "");
		}
		goto out;
	}
	if (learnings_mkdirs(r.out_dir) < 0) {
		status = EXIT_RUNTIME;
		goto out;
	}
	r.mk = incident_markers_new(store_db(r.st));
	for (i = 0; i < l.n && status == EXIT_OK; i++)
		if (selected(&r, &l.v[i]))
			status = report_one(&r, &l.v[i]);
	if (status == EXIT_OK && r.html && r.incident == NULL)
		status = write_index(&r);
	if (status == EXIT_OK && r.learnings) {
		size_t added, updated;

		if (learnings_update(r.learnings, r.entries, r.nentries,
				     &added, &updated) < 0)
			status = EXIT_RUNTIME;
		else if (!r.quiet)
			printf("%s: %zu entr%s added, %zu updated\n",
			       r.learnings, added, added == 1 ? "y" : "ies",
			       updated);
	}
	if (status == EXIT_OK && (r.gnuplot_failed || r.html_failed))
		status = EXIT_RUNTIME;
out:
	incident_list_release(&l);
	run_release(&r);
	if (fflush(stdout) != 0 && status == EXIT_OK) {
		error("cannot write output: %s", strerror(errno));
		status = EXIT_RUNTIME;
	}
	return status;
}

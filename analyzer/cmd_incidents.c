/*
 * cmd_incidents.c - 'logtriage incidents': list the incidents stored in
 * the database, and the block 'analyze' prints at its end (it detects
 * the incidents over the stored events and names the report command).
 */
#include "common.h"
#include "cmd.h"
#include "agg.h"
#include "diag.h"
#include "incidents.h"
#include "redact.h"
#include "report.h"
#include "store.h"
#include "timefmt.h"

#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* analyze lists at most this many incidents, the most recent ones. */
#define AFTER_ANALYZE_MAX 10

static const char incidents_usage[] =
"usage: logtriage incidents [--db FILE] [--format text|json]\n"
"\n"
"List the incidents stored in the database, oldest first (incidents\n"
"without timestamps last): id, start, duration, severity, events, and\n"
"the root cause with the chain it set off. 'logtriage analyze' and\n"
"'logtriage report' detect them.\n"
"\n"
"Options:\n"
"  --db FILE          database to read (default: logtriage.db)\n"
"  --format FMT       'text' (default) or 'json'\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 listed (also when there are none), 1 database error or\n"
"no database, 2 usage error, 6 database busy.\n"
"\n"
"Examples:\n"
"  logtriage incidents\n"
"  logtriage report --incident inc-20260224-1015-3f2a9c\n";

/* "a -> b -> c", or "unconnected: a -> b | c" from the details JSON. */
static void cause_text(const struct incident_summary *s, struct buf *out)
{
	json_t *d = json_loads(s->details, 0, NULL);
	json_t *chains = d ? json_object_get(d, "chains") : NULL;
	const char *verdict = d ? json_string_value(json_object_get(d,
						    "verdict")) : NULL;
	size_t i, k;

	if (verdict && strcmp(verdict, "unconnected") == 0)
		buf_adds(out, "unconnected: ");
	for (k = 0; json_is_array(chains) && k < json_array_size(chains); k++) {
		json_t *ch = json_array_get(chains, k);

		if (k)
			buf_adds(out, " | ");
		for (i = 0; i < json_array_size(ch); i++)
			buf_addf(out, "%s%s", i ? " -> " : "",
				 json_string_value(json_array_get(ch, i)));
	}
	if (out->len == 0)
		buf_adds(out, s->root_rule ? s->root_rule : "-");
	json_decref(d);
}

static void start_text(const struct incident_summary *s, char *t, size_t n)
{
	if (s->has_ts)
		timefmt_format(s->start_ts, t, n);
	else
		snprintf(t, n, "no time");
}

static void duration_text(const struct incident_summary *s, char *d, size_t n)
{
	if (s->has_ts)
		agg_duration(s->end_ts - s->start_ts, d, n);
	else
		snprintf(d, n, "-");
}

int cmd_incidents_after_analyze(struct store *st, const struct rules *rs,
				const char *db_path, bool print)
{
	struct incident_list l;
	size_t i, from;
	int rc = incidents_detect(st, rs, INCIDENTS_GAP_DEFAULT_MS, &l);

	if (rc < 0)
		return rc == STORE_ERR_BUSY ? EXIT_LOCKED : EXIT_RUNTIME;
	if (print && l.n == 0)
		printf("\nno incidents: nothing at warning or above\n");
	if (print && l.n > 0) {
		printf("\n%zu incident%s (15m without a warning ends one)%s:\n",
		       l.n, l.n == 1 ? "" : "s",
		       l.n > AFTER_ANALYZE_MAX ? ", the latest" : "");
		from = l.n > AFTER_ANALYZE_MAX ? l.n - AFTER_ANALYZE_MAX : 0;
		for (i = from; i < l.n; i++) {
			const struct incident_summary *s = &l.v[i];
			char t[TIMEFMT_BUF_SIZE], d[32];
			struct buf c, cmd;

			buf_init(&c);
			buf_init(&cmd);
			cause_text(s, &c);
			start_text(s, t, sizeof(t));
			duration_text(s, d, sizeof(d));
			buf_adds(&cmd, "logtriage report ");
			if (strcmp(db_path, "logtriage.db") != 0) {
				buf_adds(&cmd, "--db ");
				report_shell_word(&cmd, db_path);
				buf_addch(&cmd, ' ');
			}
			buf_addf(&cmd, "--incident %s", s->id);
			printf("  %s  %-19s  %-7s  %-8s  %s\n    %s\n", s->id, t, d,
			       rules_sev_name(s->severity), c.p, cmd.p);
			buf_release(&c);
			buf_release(&cmd);
		}
		if (from)
			printf("  (%zu earlier: logtriage incidents)\n", from);
	}
	incident_list_release(&l);
	return EXIT_OK;
}

static void print_text(const struct incident_list *l, const char *db_path)
{
	size_t i;

	if (l->n == 0) {
		printf("no incidents in %s\n", db_path);
		return;
	}
	printf("%-26s %-19s  %-8s %-8s %6s  %s\n", "ID", "START (UTC)",
	       "DURATION", "SEVERITY", "EVENTS", "CAUSE");
	for (i = 0; i < l->n; i++) {
		const struct incident_summary *s = &l->v[i];
		char t[TIMEFMT_BUF_SIZE], d[32];
		struct buf c;

		buf_init(&c);
		cause_text(s, &c);
		start_text(s, t, sizeof(t));
		duration_text(s, d, sizeof(d));
		printf("%-26s %-19s  %-8s %-8s %6" PRIu64 "  %s\n", s->id, t, d,
		       rules_sev_name(s->severity), s->events, c.p);
		buf_release(&c);
	}
}

static json_t *json_time(bool has, int64_t ms)
{
	char t[TIMEFMT_BUF_SIZE];

	if (!has)
		return json_null();
	timefmt_format_iso(ms, t, sizeof(t));
	return json_string(t);
}

static void print_json(const struct incident_list *l)
{
	json_t *arr = json_array();
	size_t i;
	char *text;

	for (i = 0; i < l->n; i++) {
		const struct incident_summary *s = &l->v[i];
		json_t *o = json_loads(s->details, 0, NULL);

		if (!json_is_object(o)) {
			json_decref(o);
			o = json_object();
		}
		json_object_set_new(o, "id", json_string(s->id));
		json_object_set_new(o, "start", json_time(s->has_ts, s->start_ts));
		json_object_set_new(o, "end", json_time(s->has_ts, s->end_ts));
		json_object_set_new(o, "duration_ms", s->has_ts ?
			json_integer(s->end_ts - s->start_ts) : json_null());
		json_object_set_new(o, "severity",
				    json_string(rules_sev_name(s->severity)));
		json_object_set_new(o, "root_rule", s->root_rule ?
				    json_string(s->root_rule) : json_null());
		json_object_set_new(o, "title", json_string(s->title));
		json_object_set_new(o, "events",
				    json_integer((json_int_t)s->events));
		json_array_append_new(arr, o);
	}
	text = json_dumps(arr, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(arr);
}

enum { OPT_DB = 256, OPT_FORMAT };

static const struct option incidents_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_open_existing_db(struct store **st, const char *path)
{
	struct stat sb;
	int rc;

	if (stat(path, &sb) < 0 && errno == ENOENT) {
		error("%s: no such database; run 'logtriage analyze FILE' "
		      "first (or give --db)", path);
		return EXIT_RUNTIME;
	}
	rc = store_open(st, path);
	if (rc < 0)
		return rc == STORE_ERR_BUSY ? EXIT_LOCKED : EXIT_RUNTIME;
	return EXIT_OK;
}

struct redact *cmd_redactor(const struct store *st)
{
	unsigned char key[16];
	const char *err = "";
	struct redact *red;

	store_redact_key(st, key);
	red = redact_new(key, &err);
	memset(key, 0, sizeof(key));
	if (red == NULL)
		error("cannot set up redaction: %s", err);
	return red;
}

int cmd_incidents(int argc, char **argv)
{
	const char *db_path = "logtriage.db", *format = "text";
	struct incident_list l;
	struct store *st;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", incidents_options,
				NULL)) != -1) {
		switch (c) {
		case OPT_DB: db_path = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0) {
				error("unknown format '%s'; see 'logtriage "
				      "incidents --help'", optarg);
				return EXIT_USAGE;
			}
			format = optarg;
			break;
		case 'h':
			fputs(incidents_usage, stdout);
			return EXIT_OK;
		case ':':
			error("option '%s' needs a value; see 'logtriage "
			      "incidents --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			error("unknown option '%s'; see 'logtriage incidents "
			      "--help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		error("unexpected argument '%s'; see 'logtriage incidents "
		      "--help'", argv[optind]);
		return EXIT_USAGE;
	}
	rc = cmd_open_existing_db(&st, db_path);
	if (rc != EXIT_OK)
		return rc;
	if (incidents_load(store_db(st), db_path, &l) < 0) {
		store_close(st);
		return EXIT_RUNTIME;
	}
	if (strcmp(format, "json") == 0)
		print_json(&l);
	else
		print_text(&l, db_path);
	incident_list_release(&l);
	store_close(st);
	if (fflush(stdout) != 0) {
		error("cannot write output: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

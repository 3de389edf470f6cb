/*
 * cmd_records.c - 'logtriage records': the debug view of stages 1 to 3.
 * It prints every record of the inputs as logtriage understood it (its
 * lines, shape, time, level, fields and message) and what was read of
 * each input, so that a user sees at once when an input was misread.
 * Nothing is stored; messages and fields are redacted as 'analyze' would.
 */
#include "common.h"
#include "cmd.h"
#include "buf.h"
#include "diag.h"
#include "input.h"
#include "metricsfile.h"
#include "parse.h"
#include "record.h"
#include "redact.h"
#include "timefmt.h"

#include <getopt.h>
#include <jansson.h>
#include <sys/random.h>
#include <sys/stat.h>

static const char records_usage[] =
"usage: logtriage records [options] FILE... | -\n"
"\n"
"Print every record of the inputs as logtriage reads them: the lines it\n"
"joined, the shape it recognised (and the shape inside an envelope such\n"
"as docker compose's 'api-1  | '), the time (own, or inferred from the\n"
"record before), the level, the fields it peeled or read, and the\n"
"message the rules match. Then what was read of each input. Nothing is\n"
"stored; secrets are redacted.\n"
"\n"
"Options:\n"
"  --format FMT   'text' (default) or 'json' (one JSON object per record,\n"
"                 then one per input with \"summary\")\n"
"  --tz ZONE      time zone of timestamps that carry none (default: UTC)\n"
"  --year YYYY    year of timestamps that carry none (syslog); without\n"
"                 it, the year of the file's modification time\n"
"  --no-redact    print secrets as they are\n"
"  -h, --help     show this help\n"
"  -V, --version  show the version\n"
"\n"
"Text output, per record:\n"
"  FILE:LINE[-LAST] SHAPE[>INNER] TIME own|inferred|- LEVEL [FLAGS]\n"
"    name=value ...          fields\n"
"    | message ...\n"
"\n"
"Examples:\n"
"  logtriage records incident_logs.txt | less\n"
"  logtriage records --format json a.jsonl | jq -r .format | sort | uniq -c\n";

struct records {
	struct parse_ctx parse;
	struct redact *redact;  /* NULL with --no-redact */
	bool json;
	bool year_given;
	struct buf tmp, clean;
};

/* Redact (unless --no-redact) and make valid UTF-8: p -> out. */
static void clean_text(struct records *r, const char *p, size_t n,
		       struct buf *out)
{
	buf_clear(out);
	if (r->redact && redact_may_contain(p, n)) {
		buf_clear(&r->tmp);
		redact_append(r->redact, p, n, &r->tmp);
		buf_add_utf8(out, r->tmp.p, r->tmp.len);
	} else {
		buf_add_utf8(out, p, n);
	}
}

static const char *time_source(const struct parsed *ev)
{
	if (!ev->has_ts)
		return "none";
	return ev->ts_inferred ? "inferred" : "own";
}

/* The record's flags as words, comma-separated, into b. */
static void flag_words(const struct record *rec, struct buf *b)
{
	static const struct {
		unsigned flag;
		const char *word;
	} words[] = {
		{ RECORD_TRACEBACK, "traceback" },
		{ RECORD_JSON_LINES, "json-lines" },
		{ RECORD_CAPPED, "split" },
		{ RECORD_CONTINUED, "continued" },
		{ RECORD_LINE_CUT, "cut" },
	};
	size_t i;

	buf_clear(b);
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (rec->flags & words[i].flag)
			buf_addf(b, "%s%s", b->len ? "," : "", words[i].word);
}

static void print_text(struct records *r, const char *name,
		       const struct record *rec, const struct parsed *ev)
{
	char t[TIMEFMT_BUF_SIZE];
	struct buf flags;
	unsigned k;
	size_t i;

	buf_init(&flags);
	flag_words(rec, &flags);
	printf("%s:%" PRIu64, name, rec->line_no);
	if (rec->nlines > 1)
		printf("-%" PRIu64, rec->line_no + rec->nlines - 1);
	printf(" %s", parse_format_name(ev->shape));
	if (ev->inner != ev->shape)
		printf(">%s", parse_format_name(ev->inner));
	if (ev->has_ts) {
		timefmt_format_iso(ev->ts, t, sizeof(t));
		printf(" %s %s", t, time_source(ev));
	} else {
		printf(" - none");
	}
	printf(" %s", ev->level ? parse_level_name(ev->level) : "-");
	if (flags.len)
		printf(" [%s]", flags.p);
	printf("\n");
	buf_release(&flags);
	if (ev->nfields) {
		printf("   ");
		for (k = 0; k < ev->nfields; k++) {
			const struct parse_kv *f = &ev->fields[k];

			clean_text(r, f->value.p, f->value.len, &r->clean);
			printf(" %.*s=", (int)f->name.len, f->name.p);
			if (r->clean.len == 0 ||
			    strpbrk(r->clean.p, " \"\\\n\t\r") != NULL) {
				/* quoted, escaped as in JSON: one line */
				buf_clear(&r->tmp);
				buf_add_json_escaped(&r->tmp, r->clean.p,
						     r->clean.len);
				printf("\"%s\"", r->tmp.p);
			} else {
				printf("%s", r->clean.p);
			}
		}
		if (ev->fields_dropped)
			printf(" (%u more)", ev->fields_dropped);
		printf("\n");
	}
	clean_text(r, ev->message.p, ev->message.len, &r->clean);
	for (i = 0; i <= r->clean.len;) {
		const char *nl = memchr(r->clean.p + i, '\n', r->clean.len - i);
		size_t len = nl ? (size_t)(nl - (r->clean.p + i)) :
			     r->clean.len - i;

		printf("    | %.*s\n", (int)len, r->clean.p + i);
		if (nl == NULL)
			break;
		i += len + 1;
	}
}

static json_t *json_text(struct records *r, struct span s)
{
	clean_text(r, s.p, s.len, &r->clean);
	return json_stringn(r->clean.p, r->clean.len);
}

static void print_json(struct records *r, const char *name,
		       const struct record *rec, const struct parsed *ev)
{
	json_t *o = json_object(), *fields = json_object();
	char t[TIMEFMT_BUF_SIZE];
	struct buf flags, key;
	char *text;
	unsigned k;

	buf_init(&flags);
	buf_init(&key);
	flag_words(rec, &flags);
	json_object_set_new(o, "file", json_string(name));
	json_object_set_new(o, "line", json_integer((json_int_t)rec->line_no));
	json_object_set_new(o, "lines", json_integer(rec->nlines));
	json_object_set_new(o, "format",
			    json_string(parse_format_name(ev->shape)));
	json_object_set_new(o, "inner",
			    json_string(parse_format_name(ev->inner)));
	if (ev->has_ts) {
		timefmt_format_iso(ev->ts, t, sizeof(t));
		json_object_set_new(o, "time", json_string(t));
	} else {
		json_object_set_new(o, "time", json_null());
	}
	json_object_set_new(o, "time_source", json_string(time_source(ev)));
	json_object_set_new(o, "level", ev->level ?
			    json_string(parse_level_name(ev->level)) :
			    json_null());
	json_object_set_new(o, "flags", json_string(flags.p));
	for (k = 0; k < ev->nfields; k++) {
		buf_clear(&key);
		buf_add_utf8(&key, ev->fields[k].name.p, ev->fields[k].name.len);
		json_object_set_new(fields, key.p,
				    json_text(r, ev->fields[k].value));
	}
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "message", json_text(r, ev->message));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
	buf_release(&flags);
	buf_release(&key);
}

/* What was read of one input, after its records. */
static void print_summary(struct records *r, const char *name,
			  const struct record_reader *rr)
{
	const struct parse_ctx *pc = &r->parse;
	char n1[32], n2[32], n3[32];
	int f;

	if (r->json) {
		json_t *o = json_object(), *s = json_object();
		json_t *fm = json_object();
		char *text;

		for (f = 0; f < PARSE_FMT__COUNT; f++)
			if (pc->by_format[f])
				json_object_set_new(fm, parse_format_name(
						(enum parse_format)f),
					json_integer((json_int_t)
						     pc->by_format[f]));
		json_object_set_new(s, "lines",
				    json_integer((json_int_t)rr->lines));
		json_object_set_new(s, "records",
				    json_integer((json_int_t)rr->records));
		json_object_set_new(s, "formats", fm);
		json_object_set_new(s, "times", json_pack("{s:I,s:I,s:I}",
			"own", (json_int_t)pc->ts_parsed,
			"inferred", (json_int_t)pc->ts_inferred,
			"none", (json_int_t)pc->ts_missing));
		json_object_set_new(s, "malformed_json", json_integer(
			(json_int_t)pc->by_format[PARSE_FMT_JSON_BAD]));
		json_object_set_new(s, "cut_lines",
				    json_integer((json_int_t)rr->cut_lines));
		json_object_set_new(s, "split_records",
				    json_integer((json_int_t)rr->capped_records));
		json_object_set_new(o, "file", json_string(name));
		json_object_set_new(o, "summary", s);
		text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(o);
		return;
	}
	printf("%s: %s lines, %s records", name,
	       cmd_thousands(rr->lines, n1, sizeof(n1)),
	       cmd_thousands(rr->records, n2, sizeof(n2)));
	{
		const char *sep = " (";

		for (f = 0; f < PARSE_FMT__COUNT; f++) {
			if (pc->by_format[f] == 0)
				continue;
			printf("%s%s %s", sep,
			       cmd_thousands(pc->by_format[f], n3, sizeof(n3)),
			       parse_format_name((enum parse_format)f));
			sep = ", ";
		}
		if (*sep == ',')
			printf(")");
	}
	printf(", time: %s own, %s inferred, %s none",
	       cmd_thousands(pc->ts_parsed, n1, sizeof(n1)),
	       cmd_thousands(pc->ts_inferred, n2, sizeof(n2)),
	       cmd_thousands(pc->ts_missing, n3, sizeof(n3)));
	printf(", %s malformed JSON, %s cut lines, %s split records\n",
	       cmd_thousands(pc->by_format[PARSE_FMT_JSON_BAD], n1, sizeof(n1)),
	       cmd_thousands(rr->cut_lines, n2, sizeof(n2)),
	       cmd_thousands(rr->capped_records, n3, sizeof(n3)));
}

/* A metrics export: what it holds, instead of records. */
static int print_metrics(struct records *r, const char *name,
			 struct record_reader *rr)
{
	struct metricsfile_stats ms;
	int rc = metricsfile_read(rr, &r->parse, NULL, 0, &ms);

	if (r->json) {
		json_t *o = json_pack("{s:s,s:{s:s,s:I,s:I,s:I,s:I}}",
			"file", name, "metrics",
			"format", metricsfile_kind_name(ms.kind),
			"lines", (json_int_t)ms.lines,
			"samples", (json_int_t)ms.samples,
			"series", (json_int_t)ms.series,
			"bad", (json_int_t)ms.bad);
		char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(o);
	} else {
		char a[TIMEFMT_BUF_SIZE] = "-", b[TIMEFMT_BUF_SIZE] = "-";

		if (ms.samples) {
			timefmt_format_iso(ms.first_ts, a, sizeof(a));
			timefmt_format_iso(ms.last_ts, b, sizeof(b));
		}
		printf("%s: a metrics export (%s): %" PRIu64 " lines, %" PRIu64
		       " samples of %" PRIu64 " series from %s to %s, %"
		       PRIu64 " bad lines\n", name,
		       metricsfile_kind_name(ms.kind), ms.lines, ms.samples,
		       ms.series, a, b, ms.bad);
	}
	return rc < 0 ? 1 : 0;
}

/* Print one input. Return 0, or 1 for an input error (printed). */
static int records_one(struct records *r, const char *path)
{
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	struct input in;
	struct record_reader rr;
	struct record rec;
	struct parsed ev;
	struct stat sb;
	int rc = 0;

	if (input_open(&in, path) < 0)
		return 1;
	if (record_reader_init(&rr, &in) < 0) {
		input_close(&in);
		return 1;
	}
	parse_ctx_reset(&r->parse);
	memset(r->parse.by_format, 0, sizeof(r->parse.by_format));
	r->parse.ts_parsed = r->parse.ts_inferred = r->parse.ts_missing = 0;
	if (!r->year_given) {
		if (strcmp(path, "-") != 0 && stat(path, &sb) == 0)
			parse_ctx_set_file_time(&r->parse,
						(int64_t)sb.st_mtime * 1000);
		else
			parse_ctx_set_file_time(&r->parse, cmd_now_ms());
	}
	if (record_reader_prime(&rr) < 0 && rr.head_len == 0) {
		rc = 1;
		goto out;
	}
	if (rr.head_len == 0) {
		error("%s: empty input", name);
		rc = 1;
		goto out;
	}
	if (metricsfile_detect(rr.head, rr.head_len) != METRICSFILE_NONE) {
		rc = print_metrics(r, name, &rr);
		goto out;
	}
	while (record_next(&rr, &rec) > 0) {
		parse_record(&r->parse, &rec, &ev);
		parse_decode(&r->parse, &ev);
		if (r->json)
			print_json(r, name, &rec, &ev);
		else
			print_text(r, name, &rec, &ev);
	}
	print_summary(r, name, &rr);
	if (rr.input_error)
		rc = 1;
out:
	record_reader_release(&rr);
	input_close(&in);
	return rc;
}

enum {
	OPT_FORMAT = 256, OPT_TZ, OPT_YEAR, OPT_NO_REDACT,
};

static const struct option records_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "year", required_argument, NULL, OPT_YEAR },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *msg, const char *arg)
{
	error("%s '%s'; see 'logtriage records --help'", msg, arg);
	return EXIT_USAGE;
}

int cmd_records(int argc, char **argv)
{
	struct records r;
	struct timefmt_opts topts = { 0, NULL };
	bool no_redact = false;
	int c, i, status = EXIT_OK;
	unsigned char key[16];
	const char *err;
	char *end;

	memset(&r, 0, sizeof(r));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", records_options,
				NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0)
				return usage_error("unknown format", optarg);
			r.json = strcmp(optarg, "json") == 0;
			break;
		case OPT_TZ:
			topts.tz = optarg;
			break;
		case OPT_YEAR:
			errno = 0;
			topts.default_year = (int)strtol(optarg, &end, 10);
			if (errno || *end || end == optarg ||
			    topts.default_year < 1970 ||
			    topts.default_year > 9999)
				return usage_error("--year takes a year from "
						   "1970 to 9999, not", optarg);
			r.year_given = true;
			break;
		case OPT_NO_REDACT:
			no_redact = true;
			break;
		case 'h':
			fputs(records_usage, stdout);
			return EXIT_OK;
		case 'V':
			printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return EXIT_OK;
		case ':':
			error("option '%s' needs a value; see 'logtriage "
			      "records --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt > 0 && optopt < 256)
				error("unknown option '-%c'; see 'logtriage "
				      "records --help'", optopt);
			else
				error("unknown option '%s'; see 'logtriage "
				      "records --help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		error("no input given; see 'logtriage records --help'");
		return EXIT_USAGE;
	}
	if (topts.tz && cmd_check_zone(topts.tz) < 0)
		return usage_error("unknown time zone", topts.tz);
	if (!no_redact) {
		/* A key of this run only: markers correlate within it. */
		if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
			error("cannot set up redaction: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		r.redact = redact_new(key, &err);
		memset(key, 0, sizeof(key));
		if (r.redact == NULL) {
			error("cannot set up redaction: %s", err);
			return EXIT_BUG;
		}
	}
	parse_ctx_init(&r.parse, &topts);
	buf_init(&r.tmp);
	buf_init(&r.clean);
	for (i = optind; i < argc; i++)
		if (records_one(&r, argv[i]) != 0)
			status = EXIT_INPUT;
	parse_ctx_release(&r.parse);
	buf_release(&r.tmp);
	buf_release(&r.clean);
	redact_free(r.redact);
	if (fflush(stdout) != 0) {
		error("cannot write output: %s", strerror(errno));
		status = EXIT_RUNTIME;
	}
	return status;
}

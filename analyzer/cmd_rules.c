/*
 * cmd_rules.c - 'logtriage rules': list, show, check and test the rule
 * files (built in, or a directory given by the user).
 */
#include "common.h"
#include "cmd.h"
#include "diag.h"
#include "parse.h"
#include "record.h"
#include "rules.h"

#include <getopt.h>

static const char rules_usage[] =
"usage: logtriage rules list [--rules DIR]\n"
"       logtriage rules show [--rules DIR] ID\n"
"       logtriage rules check [DIR]\n"
"       logtriage rules test [DIR]\n"
"\n"
"  list    one line per rule: id, severity, category, guide section\n"
"  show    everything about one rule, with its diagnosis and remedy\n"
"  check   validate rule files: JSON, keys, types, patterns, ids, causes;\n"
"          with DIR, the files of DIR on top of the built-in rules\n"
"  test    run every rule's examples: 'match' lines must match,\n"
"          'no_match' lines must not\n"
"\n"
"Examples:\n"
"  logtriage rules list\n"
"  logtriage rules show db.connection_refused\n"
"  logtriage rules check ./my-rules && logtriage rules test ./my-rules\n";

/* Load built-in rules plus dir; EXIT_OK or EXIT_RULES (printed). */
static int load(struct rules **out, const char *dir, bool strict)
{
	struct rules *rs = rules_new();
	int rc = 0;

	if (rules_load_builtin(rs) < 0)
		rc = -1;
	if (dir && rules_load_dir(rs, dir) < 0)
		rc = -1;
	if (rules_compile(rs, strict) < 0)
		rc = -1;
	if (rc < 0) {
		rules_free(rs);
		return EXIT_RULES;
	}
	*out = rs;
	return EXIT_OK;
}

static int rules_list(const char *dir)
{
	struct rules *rs;
	size_t i;
	int rc = load(&rs, dir, false);

	if (rc != EXIT_OK)
		return rc;
	printf("%-28s %-9s %-12s %s\n", "ID", "SEVERITY", "CATEGORY", "GUIDE");
	for (i = 0; i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);

		printf("%-28s %-9s %-12s %s %s\n", r->id,
		       rules_sev_name(r->severity), r->category,
		       r->guide_section, r->guide_title);
	}
	rules_free(rs);
	return EXIT_OK;
}

static void show_list(const char *title, const struct strlist *l,
		      const char *bullet)
{
	size_t i;

	if (l->n == 0)
		return;
	printf("\n%s:\n", title);
	for (i = 0; i < l->n; i++)
		printf("  %s%s\n", bullet, l->v[i]);
}

static int rules_show(const char *dir, const char *id)
{
	struct rules *rs;
	const struct rule *r;
	int rc = load(&rs, dir, false);

	if (rc != EXIT_OK)
		return rc;
	r = rules_find(rs, id);
	if (r == NULL) {
		error("no rule with id '%s'; see 'logtriage rules list'", id);
		rules_free(rs);
		return EXIT_USAGE;
	}
	printf("%s: %s\n", r->id, r->title);
	printf("severity: %s\ncategory: %s\nguide:    %s %s\nfile:     %s\n",
	       rules_sev_name(r->severity), r->category, r->guide_section,
	       r->guide_title, r->file);
	if (r->field)
		printf("field:    %s\n", r->field);
	if (r->metric_name) {
		printf("metric:   %s (%s)", r->metric_name, r->metric_unit);
		if (r->has_above)
			printf(", fires above %g", r->above);
		if (r->has_below)
			printf(", fires below %g", r->below);
		printf("\n");
	}
	if (r->window_count) {
		printf("window:   %u matches within %g s", r->window_count,
		       r->window_seconds);
		if (r->window_by)
			printf(", counted per '%s'", r->window_by);
		printf("\n");
	}
	if (r->after.n) {
		size_t i;

		printf("after:    ");
		for (i = 0; i < r->after.n; i++)
			printf("%s%s", i ? " or " : "", r->after.v[i]);
		printf(" within %g s", r->after_seconds);
		for (i = 0; i < r->after_reset.n; i++)
			printf("%s%s", i ? " or " : ", unless after it: ",
			       r->after_reset.v[i]);
		printf("\n");
	}
	show_list("Patterns", &r->any, "");
	show_list("Unless", &r->none, "");
	show_list("Leads to", &r->causes, "");
	show_list("Diagnosis", &r->diagnosis, "$ ");
	show_list("Remedy", &r->remedy, "- ");
	show_list("References", &r->references, "");
	rules_free(rs);
	return EXIT_OK;
}

static int rules_check(const char *dir)
{
	struct rules *rs;
	int rc = load(&rs, dir, true);

	if (rc != EXIT_OK)
		return rc;
	printf("%zu rules ok\n", rules_count(rs));
	rules_free(rs);
	return EXIT_OK;
}

static bool field_lookup(void *ctx, const char *name, struct span *out)
{
	return parse_field(ctx, name, out);
}

/* Run one example through the parser and the rule; 1 match, 0 not, -1. */
static int run_example(struct rules *rs, const struct rule *r,
		       struct parse_ctx *pc, const char *text)
{
	struct record rec;
	struct parsed ev;
	struct rules_input in;

	memset(&rec, 0, sizeof(rec));
	rec.text = text;
	rec.len = strlen(text);
	rec.line_no = 1;
	rec.offset = 1;         /* not at the start: no BOM handling */
	rec.nlines = 1;
	parse_ctx_reset(pc);
	parse_record(pc, &rec, &ev);
	if (ev.format == PARSE_FMT_JSON)
		parse_decode(pc, &ev);
	in.message = ev.message;
	in.ts = ev.ts;
	in.has_ts = ev.has_ts;
	in.field = ev.decoded ? field_lookup : NULL;
	in.field_ctx = pc;
	return rules_test_one(rs, r, &in);
}

static int rules_test(const char *dir)
{
	struct rules *rs;
	struct parse_ctx pc;
	size_t i, k, pass = 0, fail = 0;
	int rc = load(&rs, dir, false);

	if (rc != EXIT_OK)
		return rc;
	parse_ctx_init(&pc, NULL);
	for (i = 0; i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);

		/* With DIR, test the rules of DIR only. */
		if (dir && r->builtin)
			continue;
		for (k = 0; k < r->ex_match.n + r->ex_no_match.n; k++) {
			bool want = k < r->ex_match.n;
			const char *ex = want ? r->ex_match.v[k] :
				r->ex_no_match.v[k - r->ex_match.n];
			int got = run_example(rs, r, &pc, ex);

			if (got == (want ? 1 : 0)) {
				pass++;
				continue;
			}
			fail++;
			if (got < 0)
				error("%s: rule '%s': example hit the match "
				      "limit: '%s'", r->file, r->id, ex);
			else
				error("%s: rule '%s': example %s: '%s'",
				      r->file, r->id, want ? "does not match" :
				      "matches but must not", ex);
		}
	}
	printf("rules test: %zu examples passed, %zu failed\n", pass, fail);
	parse_ctx_release(&pc);
	rules_free(rs);
	return fail ? EXIT_RULES : EXIT_OK;
}

static const struct option rules_options[] = {
	{ "rules", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int bad_option(int c, const char *arg)
{
	if (c == ':')
		error("option '%s' needs a value; see 'logtriage rules --help'",
		      arg);
	else
		error("unknown option '%s'; see 'logtriage rules --help'", arg);
	return EXIT_USAGE;
}

int cmd_rules(int argc, char **argv)
{
	const char *dir = NULL, *verb;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hV", rules_options, NULL)) != -1) {
		switch (c) {
		case 'r':
			dir = optarg;
			break;
		case 'h':
			fputs(rules_usage, stdout);
			return EXIT_OK;
		case 'V':
			printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return EXIT_OK;
		default:
			return bad_option(c, argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fputs(rules_usage, stderr);
		return EXIT_USAGE;
	}
	verb = argv[optind++];
	/* Options may also follow the verb: 'rules list --rules DIR'. */
	while ((c = getopt_long(argc, argv, "+:hV", rules_options, NULL)) != -1) {
		if (c == 'r') {
			dir = optarg;
		} else if (c == 'h') {
			fputs(rules_usage, stdout);
			return EXIT_OK;
		} else if (c == 'V') {
			printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return EXIT_OK;
		} else {
			return bad_option(c, argv[optind - 1]);
		}
	}
	if (strcmp(verb, "list") == 0 && optind == argc)
		return rules_list(dir);
	if (strcmp(verb, "show") == 0 && optind + 1 == argc)
		return rules_show(dir, argv[optind]);
	if ((strcmp(verb, "check") == 0 || strcmp(verb, "test") == 0) &&
	    optind + 1 >= argc) {
		if (optind < argc)
			dir = argv[optind];
		return verb[0] == 'c' ? rules_check(dir) : rules_test(dir);
	}
	if (strcmp(verb, "list") && strcmp(verb, "show") &&
	    strcmp(verb, "check") && strcmp(verb, "test"))
		error("'%s' is not a rules command; see 'logtriage rules "
		      "--help'", verb);
	else
		error("wrong number of arguments for 'rules %s'; see "
		      "'logtriage rules --help'", verb);
	return EXIT_USAGE;
}

/*
 * main.c - logtriage's entry point: global options and the table of
 * subcommands. Everything else lives in cmd_*.c and the stage modules.
 */
#include "common.h"
#include "cmd.h"
#include "diag.h"

#include <locale.h>

struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd_entry commands[] = {
	{ "analyze", cmd_analyze,
	  "read logs, classify them with the rules, store the events" },
	{ "rules", cmd_rules,
	  "list, show, check and test the rules" },
	{ "summary", cmd_summary,
	  "what the last day brought, against a baseline (for cron)" },
	{ "prune", cmd_prune,
	  "delete what is older than a duration, reclaim the space" },
	{ "incidents", cmd_incidents,
	  "list the incidents found in the stored events" },
	{ "report", cmd_report,
	  "write incident reports and the .learnings/INCIDENTS.md entry" },
	{ "records", cmd_records,
	  "show how each record of a log is read: format, time, fields" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: logtriage [--version] [--help] <command> [<args>]\n"
"\n"
"Find what went wrong in a deployment's logs: the symptoms of the team's\n"
"troubleshooting guide, when they started, and what to check and fix.\n"
"\n"
"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
"\n"
"'logtriage <command> --help' shows a command's options and examples.\n"
"\n"
"Exit status:\n"
"  0   success, nothing at or above --fail-on\n"
"  1   runtime failure (I/O, database, out of memory)\n"
"  2   usage error\n"
"  3   invalid rule files (JSON, schema, regex)\n"
"  4   input data errors (unreadable file, corrupt gzip, empty input)\n"
"  5   analysis succeeded and findings met --fail-on\n"
"  6   the database is busy with another logtriage run\n"
"  70  internal error (a bug: please report it)\n"
"  130 analyze stopped by Ctrl-C (143: SIGTERM); what was read is stored\n");
}

int main(int argc, char **argv)
{
	size_t i;
	const char *name;

	setlocale(LC_CTYPE, "C");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0 ||
	    strcmp(name, "version") == 0) {
		printf("logtriage %s\n", LOGTRIAGE_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	error("'%s' is not a logtriage command; see 'logtriage --help'", name);
	return EXIT_USAGE;
}

/*
 * cmd_prune.c - 'logtriage prune': retention. Delete what is older than a
 * duration (events, metrics, template counts, incidents), then give the
 * space back to the file system.
 */
#include "common.h"
#include "cmd.h"
#include "diag.h"
#include "incidents.h"
#include "store.h"
#include "timefmt.h"

#include <getopt.h>
#include <sqlite3.h>

static const char prune_usage[] =
"usage: logtriage prune [--db FILE] --older-than DUR [--dry-run]\n"
"\n"
"Delete events, metrics, incidents and unknown-error counts older than\n"
"DUR (e.g. 90d) before now, then reclaim the space (VACUUM). Events\n"
"without a time go with their input once that input was last read\n"
"before the cut. Sources stay, so that old inputs are still recognised\n"
"and not read again.\n"
"\n"
"Options:\n"
"  --db FILE           database (default: logtriage.db)\n"
"  --older-than DUR    age to keep: 90d, 12w, 36h ...\n"
"  --dry-run           count what would go, delete nothing\n"
"  -h, --help          show this help\n"
"\n"
"Example (keep a quarter):\n"
"  logtriage prune --db /var/lib/logtriage/ops.db --older-than 90d\n";

/* Each statement deletes (or counts, dry) what is older than ?1. */
static const struct {
	const char *what;
	const char *del;
	const char *count;
} steps[] = {
	{ "incidents",
	  "DELETE FROM incidents WHERE end_ts < ?1",
	  "SELECT count(*) FROM incidents WHERE end_ts < ?1" },
	{ "events",
	  "DELETE FROM events WHERE ts < ?1 OR (ts IS NULL AND source_id IN "
	  "(SELECT id FROM sources WHERE last_analyzed < ?1))",
	  "SELECT count(*) FROM events WHERE ts < ?1 OR (ts IS NULL AND "
	  "source_id IN (SELECT id FROM sources WHERE last_analyzed < ?1))" },
	{ "metrics",
	  "DELETE FROM metrics WHERE ts < ?1",
	  "SELECT count(*) FROM metrics WHERE ts < ?1" },
	{ "template days",
	  "DELETE FROM template_days WHERE day < ?2",
	  "SELECT count(*) FROM template_days WHERE day < ?2" },
	{ "templates",
	  "DELETE FROM templates WHERE id NOT IN (SELECT template_id FROM "
	  "template_days)",
	  "SELECT count(*) FROM templates WHERE id NOT IN (SELECT "
	  "template_id FROM template_days WHERE day >= ?2)" },
};

static const struct option prune_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "older-than", required_argument, NULL, 'o' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int cmd_prune(int argc, char **argv)
{
	const char *db_path = "logtriage.db", *older = NULL;
	bool dry = false;
	int64_t age, cut;
	char day[40], n1[32];
	struct store *st;
	sqlite3 *db;
	size_t i;
	int c, rc, status = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", prune_options, NULL)) != -1) {
		switch (c) {
		case 'd': db_path = optarg; break;
		case 'o': older = optarg; break;
		case 'n': dry = true; break;
		case 'h': fputs(prune_usage, stdout); return EXIT_OK;
		case 'V': printf("logtriage %s\n", LOGTRIAGE_VERSION);
			return EXIT_OK;
		case ':':
			error("option '%s' needs a value; see 'logtriage prune "
			      "--help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			error("unknown option '%s'; see 'logtriage prune "
			      "--help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (older == NULL || optind < argc) {
		error("prune needs --older-than DUR and no arguments; see "
		      "'logtriage prune --help'");
		return EXIT_USAGE;
	}
	if (timefmt_parse_duration(older, &age) < 0 || age <= 0) {
		error("cannot read the duration '%s'; see 'logtriage prune "
		      "--help'", older);
		return EXIT_USAGE;
	}
	cut = cmd_now_ms() - age;
	timefmt_format(cut, day, sizeof(day));
	rc = store_open_existing(&st, db_path);
	if (rc < 0)
		return rc == STORE_ERR_BUSY ? EXIT_LOCKED : EXIT_RUNTIME;
	db = store_db(st);
	if (!dry && store_begin(st) < 0) {
		store_close(st);
		return EXIT_LOCKED;
	}
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		sqlite3_stmt *s;
		int64_t n = 0;

		if (sqlite3_prepare_v2(db, dry ? steps[i].count : steps[i].del,
				       -1, &s, NULL) != SQLITE_OK) {
			error("%s: cannot prune %s: %s", db_path, steps[i].what,
			      sqlite3_errmsg(db));
			status = EXIT_RUNTIME;
			break;
		}
		sqlite3_bind_int64(s, 1, cut);
		sqlite3_bind_text(s, 2, day, 10, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (dry && rc == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		else if (rc == SQLITE_DONE)
			n = sqlite3_changes(db);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
			error("%s: cannot prune %s: %s", db_path, steps[i].what,
			      sqlite3_errmsg(db));
			status = EXIT_RUNTIME;
			break;
		}
		printf("%s %s %s\n", dry ? "would delete" : "deleted",
		       cmd_thousands((uint64_t)n, n1, sizeof(n1)),
		       steps[i].what);
	}
	/* Events are gone: the next detection reads all that is left. */
	if (!dry && status == EXIT_OK && incidents_forget(db) < 0) {
		error("%s: cannot prune incidents: %s", db_path,
		      sqlite3_errmsg(db));
		status = EXIT_RUNTIME;
	}
	if (!dry) {
		if (status != EXIT_OK) {
			store_rollback(st);
		} else if (store_commit(st) < 0 ||
			   sqlite3_exec(db, "VACUUM", NULL, NULL, NULL) !=
			   SQLITE_OK) {
			error("%s: cannot reclaim space: %s", db_path,
			      sqlite3_errmsg(db));
			status = EXIT_RUNTIME;
		}
	}
	printf("%s older than %s UTC\n", dry ? "nothing deleted: dry run for"
	       : "kept what is not", day);
	store_close(st);
	return status;
}

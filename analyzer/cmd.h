/*
 * cmd.h - the subcommands of logtriage, one file each (cmd_NAME.c).
 *
 * How to add a subcommand:
 *   1. write analyzer/cmd_NAME.c with int cmd_NAME(int argc, char **argv)
 *      parsing its own options with getopt_long, "-h/--help" included;
 *   2. declare it below and add a row to the table in main.c;
 *   3. add its section to README.md and to 'logtriage --help';
 *   4. add tests/cases/0NNN-NAME-*.test cases, one for its --help.
 * A subcommand returns an enum exit_code (diag.h); it never calls exit().
 */
#ifndef LOGTRIAGE_CMD_H
#define LOGTRIAGE_CMD_H

#include "common.h"

int cmd_analyze(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_records(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_incidents(int argc, char **argv);

/* Incidents and reports (cmd_incidents.c). */
struct store;
struct rules;

/*
 * Open the database at path for a command that reads it: a missing file
 * is an error (never created). Return EXIT_OK with *st set, or an exit
 * code (printed).
 */
int cmd_open_existing_db(struct store **st, const char *path);

/*
 * The redaction of the database st, keyed with its secret (wiped again
 * once the redaction holds it). NULL after printing why: an internal
 * error (EXIT_BUG).
 */
struct redact;
struct redact *cmd_redactor(const struct store *st);

/*
 * The end of a successful 'analyze': detect the incidents over the
 * stored events (default gap) and, with print, list the latest with the
 * 'logtriage report' command of each. Return an exit code.
 */
int cmd_incidents_after_analyze(struct store *st, const struct rules *rs,
				const char *db_path, bool print);

/* Options shared by several subcommands (cmd_common.c). */

/* Parse "critical|error|warning|info|never" for --fail-on: the lowest
 * severity that fails the run, or -1 for never. Return 0 or -1. */
int cmd_parse_fail_on(const char *s, int *out);

/* Whether to colour output, from --color=auto|always|never and NO_COLOR. */
int cmd_parse_color(const char *s, bool *out, int fd);

/*
 * Terminal colour for a severity (0 info .. 3 critical), and the reset;
 * both "" unless cmd_use_color was set. The words carry the meaning,
 * colour only helps the eye.
 */
extern bool cmd_use_color;
const char *cmd_sev_color(int sev);
const char *cmd_color_reset(void);

/* Seconds since the run started (LOGTRIAGE_TEST_ELAPSED pins it). */
double cmd_elapsed(void);
void cmd_clock_start(void);

/* Current time in epoch ms (LOGTRIAGE_TEST_NOW, ISO 8601, pins it). */
int64_t cmd_now_ms(void);

/* Is tz a time zone of the system's database? 0 yes, -1 no. */
int cmd_check_zone(const char *tz);

/* Format n with thousands separators ("1,234,567") into out. */
const char *cmd_thousands(uint64_t n, char *out, size_t size);

#endif

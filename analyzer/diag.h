/*
 * diag.h - diagnostics: every message to stderr starts with "logtriage: ".
 *
 * Message grammar: lowercase start, no trailing period, what went wrong
 * first, the subject in single quotes, prefixed by where ('file:line: ').
 */
#ifndef LOGTRIAGE_DIAG_H
#define LOGTRIAGE_DIAG_H

#include "common.h"

/* Exit codes; the table in README.md and in 'logtriage --help' mirrors it. */
enum exit_code {
	EXIT_OK = 0,        /* success, nothing at or above --fail-on */
	EXIT_RUNTIME = 1,   /* I/O, SQLite, gnuplot, out of memory */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_RULES = 3,     /* invalid rule files (JSON, schema, regex) */
	EXIT_INPUT = 4,     /* input data errors (unreadable, corrupt gzip...) */
	EXIT_FINDINGS = 5,  /* analysis succeeded and --fail-on was met */
	EXIT_LOCKED = 6,    /* the database is busy with another run */
	EXIT_BUG = 70       /* internal error: please report */
	/* analyze stopped by a signal exits 128 + its number (130, 143) */
};

/* Print "logtriage: " + message to stderr; return -1. */
__attribute__((format(printf, 1, 2)))
int error(const char *fmt, ...);
/* Same as error(), for things that do not fail the run; returns 0. */
__attribute__((format(printf, 1, 2)))
int warning(const char *fmt, ...);
/* Print "logtriage: BUG: file:line: message" and exit with EXIT_BUG. */
__attribute__((format(printf, 3, 4), noreturn))
void bug_fl(const char *file, int line, const char *fmt, ...);
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)

/* When set, warning() prints nothing (--quiet). */
extern bool diag_quiet;

struct buf;
/*
 * From now on, error() and warning() called on this thread append their
 * lines (each with its newline) to b instead of printing them; NULL
 * prints again. A thread working ahead hands its diagnostics to the one
 * that prints them in order (ahead.c).
 */
void diag_capture(struct buf *b);

#endif

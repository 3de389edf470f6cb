/*
 * spawn.h - run an external program (gnuplot, for the report's charts)
 * from an argument vector: fork and execvp, never a shell, so no byte of
 * any argument is ever interpreted. Used by stage 6 (chart.c).
 */
#ifndef LOGTRIAGE_SPAWN_H
#define LOGTRIAGE_SPAWN_H

#include "common.h"

/* Bytes of the child's standard error kept for the caller's message. */
#define SPAWN_STDERR_MAX 2048

/* How a child ended, beyond "it exited with status 0". */
enum spawn_status {
	SPAWN_OK = 0,           /* exited with status 0 */
	SPAWN_ERR = -1,         /* could not fork, pipe, or the program failed:
				   see struct spawn_result */
	SPAWN_NOT_FOUND = -2,   /* execvp: no such program on PATH (ENOENT) */
};

/* What happened to the child; filled by spawn_run() in every case. */
struct spawn_result {
	int exit_code;          /* its exit status, or -1 when it did not exit */
	int signal;             /* the signal that killed it, or 0 */
	bool timed_out;         /* killed by spawn_run() after timeout_ms */
	int sys_errno;          /* errno of a failed fork/pipe/chdir/execvp */
	char err[SPAWN_STDERR_MAX]; /* the first bytes of its stderr, NUL-
				   terminated, control characters as '?' */
};

/*
 * Run argv[0] (looked up on PATH by execvp) with the arguments argv[1..]
 * (argv ends with NULL), in directory cwd (NULL: the current one), with
 * stdin and stdout on /dev/null and stderr captured into res->err. Wait
 * at most timeout_ms (> 0), then kill it with SIGKILL. Nothing is
 * printed. Return SPAWN_OK, SPAWN_NOT_FOUND, or SPAWN_ERR; in every case
 * res says what happened (spawn_describe() turns it into words).
 */
int spawn_run(const char *const *argv,	/* program and arguments */
	      const char *cwd,		/* directory to run in, or NULL */
	      int timeout_ms,		/* kill the child after this long */
	      struct spawn_result *res);	/* OUT: how it ended */

/*
 * Describe a failed run in words, for an error message: "exited with
 * status 1: <first line of stderr>", "killed by signal 9", "timed out
 * after 60 s", "cannot run: No such file or directory". Writes at most
 * size bytes (NUL-terminated) into out and returns out.
 */
const char *spawn_describe(const struct spawn_result *res, int timeout_ms,
			   char *out, size_t size);

#endif

/*
 * unit.h - the smallest test harness: each check prints "ok N - what" or
 * "not ok N - what", and unit_done() prints "N passed, N failed" and
 * returns the exit status.
 */
#ifndef LOGTRIAGE_UNIT_H
#define LOGTRIAGE_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int unit_pass;
static int unit_fail;

#define CHECK(cond, ...) \
	unit_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

__attribute__((format(printf, 5, 6)))
static inline void unit_check(int ok, const char *file, int line,
			      const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", unit_pass + unit_fail + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf("\n#   failed at %s:%d: %s", file, line, expr);
	printf("\n");
	if (ok)
		unit_pass++;
	else
		unit_fail++;
}

/* Compare two C strings; print both on failure. */
#define CHECK_STR(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int ok_ = (g_ == NULL && w_ == NULL) || \
		  (g_ && w_ && strcmp(g_, w_) == 0); \
	unit_check(ok_, __FILE__, __LINE__, #got " == " #want, __VA_ARGS__); \
	if (!ok_) \
		printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", \
		       w_ ? w_ : "(null)"); \
} while (0)

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_pass, unit_fail);
	return unit_fail ? 1 : 0;
}

#endif

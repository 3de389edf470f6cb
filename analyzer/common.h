/*
 * common.h - included first by every logtriage source file: standard headers,
 * small helpers shared by all stages, and the banned-function list.
 */
#ifndef LOGTRIAGE_COMMON_H
#define LOGTRIAGE_COMMON_H

#define _GNU_SOURCE 1

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGTRIAGE_VERSION "0.1.0"

/* Number of elements of a true array (never a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Marks a static helper that unit tests may call (see tests/unit). */
#ifdef LOGTRIAGE_TESTING
#define TESTABLE
#else
#define TESTABLE static
#endif

/*
 * A non-owning view of bytes, usually into a record buffer. Valid only as
 * long as the memory it points into; copy it to keep it longer.
 */
struct span {
	const char *p;
	size_t len;
};

/* Allocation wrappers: die with a message on failure (see diag.c). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xmemdup(const void *p, size_t n); /* NUL-terminated copy */

/* True when the span equals the NUL-terminated string s. */
static inline bool span_eq(struct span sp, const char *s)
{
	size_t n = strlen(s);
	return sp.len == n && memcmp(sp.p, s, n) == 0;
}

/* LOGTRIAGE_THREADS=1: everything on the calling thread (to compare). */
static inline bool one_thread(void)
{
	const char *env = getenv("LOGTRIAGE_THREADS");

	return env != NULL && strcmp(env, "1") == 0;
}

#include "banned.h"

#endif

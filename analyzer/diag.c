/*
 * diag.c - stderr diagnostics and the allocation wrappers that die cleanly
 * when memory runs out.
 */
#include "common.h"
#include "diag.h"

bool diag_quiet;

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "logtriage: %s%s\n", prefix, msg);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

int warning(const char *fmt, ...)
{
	va_list ap;

	if (diag_quiet)
		return 0;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
	return 0;
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char where[256];

	snprintf(where, sizeof(where), "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vreport(where, fmt, ap);
	va_end(ap);
	exit(EXIT_BUG);
}

/*
 * Out of memory is not recoverable here: every caller would only unwind to
 * exit. SQLite keeps the database consistent because every write is inside
 * a transaction, so dying is safe.
 */
static void *die_oom(size_t n)
{
	fprintf(stderr, "logtriage: out of memory (allocating %zu bytes)\n", n);
	exit(EXIT_RUNTIME);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : die_oom(n);
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	return p ? p : die_oom(nmemb * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : die_oom(n);
}

char *xmemdup(const void *p, size_t n)
{
	char *q = xmalloc(n + 1);

	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

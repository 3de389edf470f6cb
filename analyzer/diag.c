/*
 * diag.c - stderr diagnostics and the allocation wrappers that die cleanly
 * when memory runs out.
 */
#include "common.h"
#include "diag.h"
#include "buf.h"

bool diag_quiet;

/* Where this thread's diagnostics go instead of stderr (diag_capture). */
static _Thread_local struct buf *capture;

void diag_capture(struct buf *b)
{
	capture = b;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (capture != NULL)
		buf_addf(capture, "logtriage: %s%s\n", prefix, msg);
	else
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

#ifdef LOGTRIAGE_FAULTS
/*
 * Fault-injection builds only (tests/fault/oom-walk.sh): with
 * LOGTRIAGE_FAIL_ALLOC=N in the environment, the N-th call of xmalloc,
 * xcalloc or xrealloc fails as if memory ran out; with
 * LOGTRIAGE_COUNT_ALLOC set, the number of calls is printed at exit.
 * Release builds do not have this code.
 */
static _Atomic long alloc_calls;

static void print_alloc_calls(void)
{
	fprintf(stderr, "logtriage: allocations: %ld\n", (long)alloc_calls);
}

static bool fail_this_alloc(void)
{
	/* atomic: the scanning thread of analyze allocates too (ahead.c);
	   the first allocation happens before it starts */
	static _Atomic long countdown = -1;
	static bool read_env;

	if (!read_env) {
		const char *v = getenv("LOGTRIAGE_FAIL_ALLOC");
		long c = v ? strtol(v, NULL, 10) : 0;

		read_env = true;
		countdown = c > 0 ? c : -1;
		if (getenv("LOGTRIAGE_COUNT_ALLOC") != NULL)
			atexit(print_alloc_calls);
	}
	alloc_calls++;
	if (countdown < 0)
		return false;
	return --countdown == 0;
}
#else
static inline bool fail_this_alloc(void)
{
	return false;
}
#endif

void *xmalloc(size_t n)
{
	void *p = fail_this_alloc() ? NULL : malloc(n ? n : 1);

	return p ? p : die_oom(n);
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = fail_this_alloc() ? NULL :
		  calloc(nmemb ? nmemb : 1, size ? size : 1);

	return p ? p : die_oom(nmemb * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = fail_this_alloc() ? NULL : realloc(p, n ? n : 1);

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

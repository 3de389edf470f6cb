/*
 * fuzz.h - shared by the fuzz targets in tests/fuzz/: the libFuzzer entry
 * points and a few helpers.
 *
 * A target hands the bytes it is given to one pipeline stage, checks the
 * stage's documented invariants, and never exits: a broken invariant
 * aborts (a crash for libFuzzer, a failure for the replay). The same
 * target links either with libFuzzer ('make fuzz') or with replay.c,
 * which runs it over the corpus files in 'make check'.
 */
#ifndef LOGTRIAGE_FUZZ_H
#define LOGTRIAGE_FUZZ_H

#include "common.h"

#include <sys/mman.h>
#include <unistd.h>

/* Called once before the first input; may ignore its arguments. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Run one input; always returns 0. data is read only. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Silence the stages' own messages (error() and warning() write to the
 * stdio stream stderr) while file descriptor 2 stays open for the
 * sanitizers' reports and for FUZZ_CHECK. FUZZ_VERBOSE=1 keeps them.
 */
static inline void fuzz_quiet(void)
{
	FILE *null;

	if (getenv("FUZZ_VERBOSE") != NULL)
		return;
	null = fopen("/dev/null", "w");
	if (null != NULL)
		stderr = null;
}

__attribute__((noreturn))
static inline void fuzz_fail(const char *file, int line, const char *expr)
{
	dprintf(STDERR_FILENO, "%s:%d: fuzz invariant broken: %s\n", file,
		line, expr);
	abort();
}

/*
 * Show p[0..n) on stderr as a C string (what broke an invariant, for the
 * report), printable ASCII as is and every other byte escaped.
 */
static inline void fuzz_show(const char *label, const char *p, size_t n)
{
	size_t i;

	dprintf(STDERR_FILENO, "%s (%zu bytes): \"", label, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			dprintf(STDERR_FILENO, "%c", c);
		else
			dprintf(STDERR_FILENO, "\\x%02x\"\"", c);
	}
	dprintf(STDERR_FILENO, "\"\n");
}

/* An invariant of the stage under test; aborts when it does not hold. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

/*
 * An exact-size heap copy of data (no NUL after it, so that a read past
 * the end is seen by AddressSanitizer). Free with free().
 */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size ? size : 1);

	if (size)
		memcpy(p, data, size);
	return p;
}

/*
 * An anonymous in-memory file holding data, and a path that opens it
 * ("/proc/self/fd/N"), so that input_open() reads it as a regular file.
 * Return the descriptor (close it when done), or -1.
 */
static inline int fuzz_memfile(const uint8_t *data, size_t size,
			       char *path, size_t path_size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}

/*
 * The libFuzzer builds keep the reader's large buffers from one input to
 * the next (pool.c); fuzz_done(), at the end of every input, aborts when
 * one of them was not freed. The replay build has no pool: a no-op.
 */
void fuzz_pool_check(void) __attribute__((weak));

static inline void fuzz_done(void)
{
	if (fuzz_pool_check != NULL)
		fuzz_pool_check();
}

/* A NUL-terminated copy (for APIs that take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	return xmemdup(data, size);
}

#endif

/*
 * pool.c - linked into the libFuzzer builds only (with
 * -Wl,--wrap=posix_memalign,--wrap=free): the large aligned buffers the
 * reader allocates for every input (1 MiB blocks, the 4 MiB record
 * buffer) are kept for the next input instead of being unmapped.
 *
 * Under AddressSanitizer every such buffer is a fresh mapping whose
 * pages fault in, and freeing it poisons and later unpoisons its shadow:
 * about 2 ms an input, far more than framing a few kilobytes costs. The
 * pool keeps what the sanitizer checks:
 *   - a buffer in the pool is poisoned, so that a use after free is still
 *     reported (as a use after poison);
 *   - a buffer handed out again is as a fresh one would be (its pages
 *     given back to the kernel, so zero, the first 4 KiB filled with
 *     ASan's malloc fill byte 0xbe), so that no byte of an earlier input
 *     can be read and every input runs exactly as in the replay build,
 *     alone;
 *   - freeing a pooled buffer twice, or one that is not at the start of
 *     its allocation, aborts; fuzz_pool_check() aborts when an input left
 *     a pooled buffer allocated (a leak LeakSanitizer cannot see, since
 *     the pool still points at it).
 * Smaller allocations, and everything in shared libraries, go straight
 * to the sanitizer's allocator.
 */
#include "fuzz.h"

#include <pthread.h>
#include <sanitizer/asan_interface.h>

/* Allocations at least this large are pooled. */
#define POOL_MIN_BYTES (256u << 10)
#define POOL_SLOTS 16
/* ASan's defaults: max_malloc_fill_size and malloc_fill_byte. */
#define FRESH_FILL_BYTES 4096
#define FRESH_FILL 0xbe

int __real_posix_memalign(void **out, size_t align, size_t size);
void __real_free(void *p);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
void __wrap_free(void *p);

struct slot {
	char *p;
	size_t size;
	bool used;
};

static struct slot slots[POOL_SLOTS];
static unsigned nslots;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void pool_abort(const char *what, const void *p)
{
	dprintf(STDERR_FILENO, "fuzz pool: %s (%p)\n", what, p);
	abort();
}

/*
 * Make buf as a fresh allocation of the sanitizer's: zero pages (the
 * kernel's, for the whole pages: only those the last input touched were
 * backed), then the fill of its first bytes.
 */
static void refresh(char *buf, size_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t beg = ((uintptr_t)buf + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)buf + size) & ~(page - 1);

	if (end <= beg ||
	    madvise((void *)beg, end - beg, MADV_DONTNEED) != 0) {
		memset(buf, 0, size);
	} else {
		memset(buf, 0, beg - (uintptr_t)buf);
		memset((void *)end, 0, (uintptr_t)buf + size - end);
	}
	memset(buf, FRESH_FILL, size < FRESH_FILL_BYTES ? size :
	       FRESH_FILL_BYTES);
}

int __wrap_posix_memalign(void **out, size_t align, size_t size)
{
	unsigned i;
	int rc;

	if (size < POOL_MIN_BYTES)
		return __real_posix_memalign(out, align, size);
	pthread_mutex_lock(&mu);
	for (i = 0; i < nslots; i++) {
		struct slot *s = &slots[i];

		if (!s->used && s->size == size &&
		    (uintptr_t)s->p % align == 0) {
			s->used = true;
			pthread_mutex_unlock(&mu);
			ASAN_UNPOISON_MEMORY_REGION(s->p, size);
			refresh(s->p, size);
			*out = s->p;
			return 0;
		}
	}
	rc = __real_posix_memalign(out, align, size);
	if (rc == 0 && nslots < POOL_SLOTS) {
		slots[nslots].p = *out;
		slots[nslots].size = size;
		slots[nslots].used = true;
		nslots++;
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

void __wrap_free(void *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&mu);
	for (i = 0; i < nslots; i++) {
		struct slot *s = &slots[i];

		if ((char *)p < s->p || (char *)p >= s->p + s->size)
			continue;
		if (p != s->p)
			pool_abort("free of a pointer inside a buffer", p);
		if (!s->used)
			pool_abort("double free", p);
		s->used = false;
		ASAN_POISON_MEMORY_REGION(s->p, s->size);
		pthread_mutex_unlock(&mu);
		return;
	}
	pthread_mutex_unlock(&mu);
	__real_free(p);
}

void fuzz_pool_check(void)
{
	unsigned i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nslots; i++)
		if (slots[i].used)
			pool_abort("a buffer outlived its input (leak)",
				   slots[i].p);
	pthread_mutex_unlock(&mu);
}

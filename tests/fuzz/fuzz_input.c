/*
 * fuzz_input.c - fuzz target for pipeline stage 1 (input.c): the bytes are
 * a file, plain or gzip (by its magic bytes), read to its end in blocks
 * of varying sizes.
 *
 * Invariants: input_read() never returns more than asked; a plain file
 * comes out byte for byte; after an error or the end, the input stays at
 * its end; the counters add up. Output is capped (FUZZ_MAX_OUT) so that a
 * gzip bomb costs time, not memory.
 */
#include "fuzz.h"
#include "input.h"

#define FUZZ_MAX_OUT (64u << 20)

/* Block sizes handed to input_read() in turn: edges and the usual one. */
static const size_t caps[] = { 1, 7, 4096, 65536, 3, INPUT_BLOCK_BYTES };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/*
 * Where input_read() writes: allocated once (a fresh 1 MiB block per
 * input would cost more than the input).
 */
static char *out;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	char path[64];
	uint64_t total = 0;
	size_t k = size % ARRAY_SIZE(caps);
	bool plain = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
	int fd = fuzz_memfile(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	if (input_open(&in, path) < 0) {
		close(fd);
		return 0;
	}
	if (out == NULL)
		out = xmalloc(INPUT_BLOCK_BYTES);
	for (;;) {
		size_t cap = caps[k++ % ARRAY_SIZE(caps)];
		ssize_t r = input_read(&in, out, cap);

		if (r <= 0) {
			/* The end, or an error: it stays the end. */
			FUZZ_CHECK(input_read(&in, out, 4096) == 0);
			FUZZ_CHECK(r == 0 || !plain);
			break;
		}
		FUZZ_CHECK((size_t)r <= cap);
		if (plain) {
			FUZZ_CHECK(total + (uint64_t)r <= size);
			FUZZ_CHECK(memcmp(out, data + total, (size_t)r) == 0);
		}
		total += (uint64_t)r;
		if (total > FUZZ_MAX_OUT)
			break;
	}
	FUZZ_CHECK(in.out_bytes == total);
	FUZZ_CHECK(in.raw_bytes <= size);
	FUZZ_CHECK(in.is_gzip == !plain);
	if (plain)
		FUZZ_CHECK(total == size);
	input_close(&in);
	close(fd);
	fuzz_done();
	return 0;
}

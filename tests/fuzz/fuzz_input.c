/*
 * fuzz_input.c - fuzz target for pipeline stage 1 (input.c): the bytes are
 * a file, plain or gzip (by its magic bytes), read to its end in blocks
 * of varying sizes.
 *
 * Invariants: input_read() never returns more than asked; a plain file
 * comes out byte for byte; after an error or the end, the input stays at
 * its end; the counters add up. Output is capped (FUZZ_MAX_OUT) so that a
 * gzip bomb costs time, not memory.
 *
 * The file is read whole or a few bytes at a time (input_raw_limit).
 * gzip is checked against zlib, member by member as input.c reads them:
 * where zlib inflates every member whole (garbage after the last one
 * aside), input.c must hand out exactly the same bytes and no error,
 * whichever inflater it was built with (ISA-L or zlib).
 */
#include "fuzz.h"
#include "input.h"

#include <zlib.h>

#define FUZZ_MAX_OUT (64u << 20)

/* Block sizes handed to input_read() in turn: edges and the usual one. */
static const size_t caps[] = { 1, 7, 4096, 65536, 3, INPUT_BLOCK_BYTES };
/*
 * The most bytes read from the file at a time (input_raw_limit; 0 is a
 * whole block): an input of a few kilobytes otherwise reaches the
 * inflater in one piece, and a header, a block or a trailer split between
 * two reads is never tried.
 */
static const size_t limits[] = { 0, 1, 2, 3, 5, 8, 13, 64, 0, 1000 };

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

/* zlib's inflation of the whole input, capped; NULL until first used. */
static unsigned char *ref;
static size_t ref_len;

/*
 * Inflate data as input.c does: members one after another, stopping
 * quietly at anything after a member that is not a gzip header. Return
 * true when every member inflated whole (ref[0 .. ref_len) holds the
 * content), false on a fault, a truncation or output over the cap.
 */
static bool reference(const uint8_t *data, size_t size)
{
	z_stream zs;
	size_t pos = 0;
	bool ok = true;

	ref_len = 0;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return false;
	for (;;) {
		int rc;

		zs.next_in = (unsigned char *)(uintptr_t)(data + pos);
		zs.avail_in = (uInt)(size - pos);
		zs.next_out = ref + ref_len;
		zs.avail_out = (uInt)(FUZZ_MAX_OUT + 1 - ref_len);
		rc = inflate(&zs, Z_FINISH);
		pos = size - zs.avail_in;
		ref_len = FUZZ_MAX_OUT + 1 - zs.avail_out;
		if (rc != Z_STREAM_END || ref_len > FUZZ_MAX_OUT) {
			ok = false;
			break;
		}
		if (size - pos < 2 || data[pos] != 0x1f || data[pos + 1] != 0x8b)
			break;
		if (inflateReset(&zs) != Z_OK) {
			ok = false;
			break;
		}
	}
	inflateEnd(&zs);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	char path[64];
	uint64_t total = 0;
	size_t k = size % ARRAY_SIZE(caps);
	bool plain = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
	bool whole;
	int fd = fuzz_memfile(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	input_raw_limit = limits[(size / ARRAY_SIZE(caps) +
				  (size > 0 ? data[size - 1] : 0)) %
				 ARRAY_SIZE(limits)];
	if (input_open(&in, path) < 0) {
		close(fd);
		return 0;
	}
	if (out == NULL)
		out = xmalloc(INPUT_BLOCK_BYTES);
	if (ref == NULL)
		ref = xmalloc(FUZZ_MAX_OUT + 1);
	whole = !plain && reference(data, size);
	for (;;) {
		size_t cap = caps[k++ % ARRAY_SIZE(caps)];
		ssize_t r = input_read(&in, out, cap);

		if (r <= 0) {
			/* The end, or an error: it stays the end. */
			FUZZ_CHECK(input_read(&in, out, 4096) == 0);
			FUZZ_CHECK(r == 0 || !plain);
			FUZZ_CHECK(r == 0 || !whole);
			break;
		}
		FUZZ_CHECK((size_t)r <= cap);
		if (plain) {
			FUZZ_CHECK(total + (uint64_t)r <= size);
			FUZZ_CHECK(memcmp(out, data + total, (size_t)r) == 0);
		}
		if (whole) {
			FUZZ_CHECK(total + (uint64_t)r <= ref_len);
			FUZZ_CHECK(memcmp(out, ref + total, (size_t)r) == 0);
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
	if (whole)
		FUZZ_CHECK(total == ref_len);
	input_close(&in);
	close(fd);
	fuzz_done();
	return 0;
}

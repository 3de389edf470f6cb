/*
 * fuzz_record.c - fuzz target for pipeline stage 2 (record.c): the bytes
 * are a log file, framed into records (tracebacks, continuation lines,
 * capped lines and records).
 *
 * Invariants, for plain input: each record is a slice of the file at its
 * offset; records come in order and never overlap; sizes stay within the
 * caps; and end_offset/end_line, the resume point a later run starts
 * from, sit on a line boundary with the right count of lines before it.
 * A file of odd size is also read a second time, resumed after its first
 * record, and must give the same line numbers and offsets from there on.
 */
#include "fuzz.h"
#include "input.h"
#include "record.h"

/* Records compared between the full and the resumed pass. */
#define MAX_KEPT 4096

struct kept {
	uint64_t line_no, offset;
};

static struct kept full[MAX_KEPT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/*
 * Newlines in data[0..end): the lines that end before end. Records come
 * in order, so the count goes on from where the last call stopped
 * (*at, *n: reset to 0 for each pass): linear in the input, not
 * quadratic.
 */
static uint64_t lines_before(const uint8_t *data, uint64_t end,
			     uint64_t *at, uint64_t *n)
{
	const uint8_t *p;

	if (end < *at) {
		*at = 0;
		*n = 0;
	}
	while (*at < end &&
	       (p = memchr(data + *at, '\n', end - *at)) != NULL) {
		*n += 1;
		*at = (uint64_t)(p - data) + 1;
	}
	if (*at < end)
		*at = end;
	return *n;
}

/*
 * Frame the whole input (from the resume point when resume_off > 0).
 * Return the number of records; fill full[] on the first pass, compare
 * with it on the resumed one.
 */
static size_t frame(const uint8_t *data, size_t size, bool plain,
		    uint64_t resume_off, uint64_t resume_lines,
		    size_t first_kept, uint64_t *first_end,
		    uint64_t *first_end_line)
{
	struct input in;
	struct record_reader rr;
	struct record rec;
	char path[64];
	uint64_t prev_end = resume_off, prev_line = resume_lines;
	uint64_t nl_at = 0, nl_n = 0;
	size_t n = 0;
	int fd = fuzz_memfile(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	if (input_open(&in, path) < 0) {
		close(fd);
		return 0;
	}
	if (record_reader_init(&rr, &in) < 0) {
		input_close(&in);
		close(fd);
		return 0;
	}
	if (resume_off > 0)
		record_reader_resume(&rr, resume_off, resume_lines);
	while (record_next(&rr, &rec) > 0) {
		FUZZ_CHECK(rec.len > 0);
		FUZZ_CHECK(rec.len <= RECORD_MAX_BYTES);
		FUZZ_CHECK(rec.nlines >= 1 && rec.nlines <= RECORD_MAX_LINES);
		FUZZ_CHECK(rec.line_no > prev_line);
		FUZZ_CHECK(rec.offset >= prev_end);
		FUZZ_CHECK(rec.end_offset > rec.offset);
		FUZZ_CHECK(rec.end_line >= rec.line_no + rec.nlines - 1);
		if (plain) {
			FUZZ_CHECK(rec.end_offset <= size);
			FUZZ_CHECK(rec.offset + rec.len <= size);
			FUZZ_CHECK(memcmp(rec.text, data + rec.offset,
					  rec.len) == 0);
			FUZZ_CHECK(rec.line_no ==
				   lines_before(data, rec.offset, &nl_at,
						&nl_n) + 1);
		}
		if (plain && !(rec.flags & RECORD_LINE_CUT)) {
			/*
			 * The resume point: a line boundary, lines counted.
			 * (After a cut line it may be inside that line's
			 * skipped tail: resuming skips every line that
			 * starts before it, so that is fine too.)
			 */
			FUZZ_CHECK(rec.end_offset == size ||
				   data[rec.end_offset - 1] == '\n');
			FUZZ_CHECK(rec.end_line ==
				   lines_before(data, rec.end_offset,
						&nl_at, &nl_n) +
				   (rec.end_offset == size &&
				    data[size - 1] != '\n'));
		}
		if (n == 0 && first_end != NULL) {
			/* Resume after it, unless its state carries over. */
			bool carries = rec.flags & (RECORD_CAPPED |
						    RECORD_LINE_CUT);

			*first_end = carries ? 0 : rec.end_offset;
			*first_end_line = rec.end_line;
		}
		if (resume_off == 0 && n < MAX_KEPT) {
			full[n].line_no = rec.line_no;
			full[n].offset = rec.offset;
		} else if (resume_off > 0 && first_kept + n < MAX_KEPT &&
			   !(rec.flags & RECORD_CONTINUED)) {
			FUZZ_CHECK(full[first_kept + n].line_no == rec.line_no);
			FUZZ_CHECK(full[first_kept + n].offset == rec.offset);
		}
		prev_end = rec.end_offset;
		prev_line = rec.line_no + rec.nlines - 1;
		n++;
	}
	FUZZ_CHECK(rr.records == n);
	FUZZ_CHECK(rr.cut_lines <= rr.lines);
	if (plain && !rr.input_error)
		FUZZ_CHECK(in.out_bytes == size);
	record_reader_release(&rr);
	input_close(&in);
	close(fd);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool plain = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
	uint64_t end = 0, end_line = 0;
	size_t n;

	n = frame(data, size, plain, 0, 0, 0, &end, &end_line);
	if (plain && n > 1 && size % 2 == 1 && end > 0 && end < size)
		frame(data, size, plain, end, end_line, 1, NULL, NULL);
	fuzz_done();
	return 0;
}

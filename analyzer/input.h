/*
 * input.h - pipeline stage 1: one byte stream per input, plain or gzip.
 *
 * An input is a path or "-" (stdin). gzip is recognised by its magic bytes
 * (1f 8b), never by the file name; concatenated gzip members are read one
 * after another. Data comes out in blocks into a caller-provided buffer, so
 * memory stays flat whatever the input size.
 */
#ifndef LOGTRIAGE_INPUT_H
#define LOGTRIAGE_INPUT_H

#include "common.h"
#include <sys/types.h>

/* Size of one read() from the underlying file. */
#define INPUT_BLOCK_BYTES (1u << 20)

struct input_state;

struct input {
	char *name;             /* owned; the path, or "stdin" for "-" */
	int fd;                 /* -1 when closed */
	bool is_gzip;           /* decided by the first bytes */
	bool is_regular;        /* a regular file (not a pipe or a tty) */
	dev_t dev;              /* identity of a regular file */
	ino_t ino;
	off_t file_size;        /* size at open for regular files, else -1 */
	uint64_t raw_bytes;     /* bytes read from the file (compressed) */
	uint64_t out_bytes;     /* bytes handed out (decompressed) */
	unsigned members;       /* gzip members started */
	struct input_state *st; /* owned; the inflater and the raw block */
};

/*
 * Open path ("-" for stdin) and sniff its first bytes. Return 0, or -1
 * after printing "logtriage: PATH: reason" (missing, a directory, not
 * readable). On failure the struct needs no input_close().
 */
int input_open(struct input *in, const char *path);

/*
 * Read up to cap bytes of content (decompressed for gzip) into dst.
 * Return the number of bytes (> 0), 0 at the end of the input, or -1
 * after printing "logtriage: NAME: reason at byte N" for a read error or
 * corrupt/truncated gzip data. After -1 the input stays at its end; what
 * was returned before the error is valid content.
 */
ssize_t input_read(struct input *in, char *dst, size_t cap);

/*
 * For tests: the most bytes of a gzip file read at a time (0, the default,
 * is INPUT_BLOCK_BYTES). fuzz_input and t_record set it small, so that
 * headers, blocks and trailers are inflated split at every place.
 */
extern size_t input_raw_limit;

/*
 * From now on SIGINT and SIGTERM stop the reading instead of the process:
 * a pipe gives what it holds at that moment, a file stops where it is,
 * and input_read() returns 0 as at the end of the input. The first signal
 * puts both back to their default, so a second one ends the process; one
 * ignored at start stays ignored. Return 0, or -1 (errno set) when the
 * handler cannot be installed.
 */
int input_catch_signals(void);

/* From now on the signals end the process again, as by default. */
void input_release_signals(void);

/* The signal that asked to stop (SIGINT, SIGTERM), or 0. */
int input_stop_signal(void);

/* Did a stop signal end this input before its end? */
bool input_stopped(const struct input *in);

/* Close and free; NULL or an already-closed input is fine. */
void input_close(struct input *in);

#endif

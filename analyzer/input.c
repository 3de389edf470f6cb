/*
 * input.c - pipeline stage 1: open a path or stdin, detect gzip by magic
 * bytes, and hand out content in blocks (inflating gzip members in turn).
 *
 * gzip is inflated on a thread of its own, a few blocks ahead of the
 * caller, so that on a two-core machine decompression and classification
 * proceed at once. The thread fills a ring of INPUT_QUEUE_BLOCKS blocks;
 * the caller copies out of them (a memcpy of each byte, far cheaper than
 * the inflate it no longer waits for). The thread never prints: a read
 * error, a gzip fault or trailing garbage travels with the block it ends,
 * and is printed by input_read() when the caller reaches it, so that
 * messages and the records before them come in the same order as when
 * everything ran on one thread. If the thread cannot be started, the same
 * producer runs synchronously.
 *
 * The inflater is ISA-L's (libisal) where the build found it, else zlib's.
 * Measured on the 1 GB export of 'make bench' (gzip -6, 86 MB): zlib
 * inflates about 340 MB/s of output on one core here, ISA-L about
 * 1.8 GB/s, so with zlib the decompression thread alone held the whole
 * pipeline below the speed of plain input, and with ISA-L it takes a
 * fifth of a core. With ISA-L, input.c reads each member's header and
 * trailer itself and ISA-L inflates the deflate data between them (see
 * struct gz_frame). Both check the CRC-32 and length of every member and
 * report faults in the same words and at the same offsets where they
 * can; ISA-L names a bad deflate stream less finely than zlib ("invalid
 * block" for any malformed block header).
 *
 * Plain input is read straight into the caller's buffer on the caller's
 * thread: from the page cache, read() is a copy like the one a queue
 * would add, so a thread would only move work around (measured: 3% more
 * instructions on the caller's side, no gain).
 */
#include "common.h"
#include "input.h"
#include "diag.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef LOGTRIAGE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include <zlib.h>

/* The thread's name, as top -H and ps -L show it. */
#define INFLATE_THREAD "lt-inflate"

size_t input_raw_limit;

/* Blocks the reader thread may fill ahead of the caller. */
#define INPUT_QUEUE_BLOCKS 4
/* Room for one deferred diagnostic. */
#define DIAG_BYTES 512
/*
 * Bytes kept in front of raw[]: the stream's bytes before it. At the end
 * of a member's deflate data the bytes ISA-L loaded past it (at most 8)
 * go back, and may have come from the block before the current one.
 */
#define RAW_HEAD 64

/*
 * What ends a block:
 *   END_NONE   more blocks follow
 *   END_EOF    the input ended after this block's data
 *   END_FAIL   an error (in diag) ended the input after this block's data
 */
enum block_end { END_NONE, END_EOF, END_FAIL };

/* A message to print when the caller reaches the block it came with. */
struct deferred {
	int kind;               /* 0 none, 1 warning, 2 error */
	char text[DIAG_BYTES];  /* without the "logtriage: " prefix */
};

struct block {
	char *data;             /* owned; INPUT_BLOCK_BYTES, 64-byte aligned */
	size_t len;
	size_t pos;             /* bytes already handed out */
	enum block_end end;
	struct deferred diag;
	unsigned members;
	uint64_t raw_bytes;     /* file bytes read when it was filled */
};

#ifdef LOGTRIAGE_ISAL
/*
 * Where a member is: its header, its deflate data, or its trailer. The
 * header and the trailer are read here, a byte at a time as they come:
 * ISA-L 2.30 (Debian 12) reads a header whose optional fields are split
 * between two calls wrongly (an "incorrect data check" for a good file,
 * and reads of uninitialised memory, both seen under valgrind with a
 * header cut at every place), so it inflates the deflate data only.
 */
enum gz_phase { GZ_HEADER, GZ_DEFLATE, GZ_TRAILER };
enum gz_field {
	GF_FIXED, GF_XLEN, GF_EXTRA, GF_NAME, GF_COMMENT, GF_HCRC, GF_DONE
};

struct gz_frame {
	enum gz_phase phase;
	enum gz_field field;
	unsigned char buf[10];  /* the fixed header, XLEN, the header CRC,
				   or the trailer (8 bytes) */
	size_t got;             /* bytes of buf[] filled */
	size_t skip;            /* bytes of FEXTRA still to skip */
	unsigned flags;         /* FLG */
	uint32_t crc;           /* CRC-32 of the header so far (FHCRC) */
};
#endif

/* The producer's side: the file, the inflater, the compressed block. */
struct producer {
	int fd;
	const char *name;       /* borrowed from the input */
#ifdef LOGTRIAGE_ISAL
	struct inflate_state *is; /* owned */
	uint64_t member_in;     /* bytes the current member consumed */
	struct gz_frame gz;     /* its header and trailer */
#else
	z_stream zs;
#endif
	bool live;              /* a member was started */
	bool is_gzip;
	bool pipe;              /* not a regular file: a read may wait */
	bool draining;          /* stopping: reading what was there */
	bool stopped;           /* a stop signal ended it (eof too) */
	bool stop_at_end;       /* ... when the file was read to its end */
	size_t drain;           /* bytes of the pipe still to read */
	bool eof;               /* the file said EOF */
	bool done;              /* nothing more will come out */
	unsigned members;
	uint64_t raw_bytes;
	size_t raw_len;         /* bytes in raw[] not yet consumed */
	size_t raw_pos;
	unsigned char *raw_base; /* owned; RAW_HEAD + INPUT_BLOCK_BYTES,
				    64-byte aligned */
	unsigned char *raw;     /* the block: raw_base + RAW_HEAD, or less
				   when given-back bytes were put in front */
};

struct input_state {
	struct producer pr;
	/* the ring, shared with the reader thread under mu */
	struct block ring[INPUT_QUEUE_BLOCKS];
	unsigned head;          /* next block the caller reads */
	unsigned count;         /* filled blocks not yet consumed */
	bool stop;              /* input_close asks the thread to end */
	bool finished;          /* the thread filled its last block */
	pthread_mutex_t mu;
	pthread_cond_t filled;  /* a block was filled (or finished) */
	pthread_cond_t freed;   /* a block was consumed (or stop) */
	pthread_t thread;
	bool threaded;          /* the thread runs (join it) */
	bool started;           /* the first input_read happened */
	/* the caller's side */
	struct block *cur;      /* being handed out; NULL between blocks */
	struct block sync;      /* the block when there is no thread */
	bool failed;            /* report the failure on the next call */
	bool done;              /* everything was handed out */
};

__attribute__((format(printf, 3, 4)))
static void defer(struct deferred *d, int kind, const char *fmt, ...)
{
	va_list ap;

	d->kind = kind;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
}

/* ---- stopping on a signal ------------------------------------------------ */

/*
 * SIGINT or SIGTERM while analyze reads: 'railway logs' streams until
 * Ctrl-C, and 'timeout' ends a cron job with SIGTERM. The handler notes
 * the signal and writes a byte to wake_fd, which every wait for a pipe
 * polls beside it; a pipe's reader then reads what the pipe held at that
 * moment (FIONREAD) and stops, and a regular file stops before its next
 * read(). Each input then ends as at its end, so what was read is
 * classified, stored and summarised. The first call of the handler puts
 * both signals back to their default: a second one, of either kind, ends
 * the process at once (the database stays consistent; the batch not yet
 * committed is lost, as with kill -9). A signal ignored when logtriage
 * started (a background job of a script) stays ignored.
 */
static int stop_signal;         /* __atomic_* only: the handler sets it */
static int wake_fd[2] = { -1, -1 };
static const int stop_signals[2] = { SIGINT, SIGTERM };
static bool caught[2];          /* the handler is installed for it */

static void set_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(sig, &dfl, NULL);
}

static void on_stop_signal(int sig)
{
	int e = errno, none = 0;
	ssize_t r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		if (caught[i])
			set_default(stop_signals[i]);
	__atomic_compare_exchange_n(&stop_signal, &none, sig, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (wake_fd[1] >= 0) {
		r = write(wake_fd[1], "", 1);
		(void)r;
	}
	errno = e;
}

int input_catch_signals(void)
{
	struct sigaction sa, old;
	size_t i;

	if (wake_fd[0] < 0 && pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		if (sigaction(stop_signals[i], NULL, &old) < 0)
			return -1;
		if (old.sa_handler == SIG_IGN)
			continue;
		caught[i] = true;
		if (sigaction(stop_signals[i], &sa, NULL) < 0)
			return -1;
	}
	return 0;
}

void input_release_signals(void)
{
	sigset_t both, was;
	size_t i;

	/* not while the handler may run on another thread's stack */
	sigemptyset(&both);
	sigaddset(&both, SIGINT);
	sigaddset(&both, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &both, &was);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		if (caught[i]) {
			set_default(stop_signals[i]);
			caught[i] = false;
		}
	pthread_sigmask(SIG_SETMASK, &was, NULL);
}

int input_stop_signal(void)
{
	return __atomic_load_n(&stop_signal, __ATOMIC_RELAXED);
}

bool input_stopped(const struct input *in)
{
	return in->st != NULL && in->st->pr.stopped;
}

/*
 * Wait until a pipe, FIFO, socket or terminal has something to read or
 * its writer closed it. Return true when a stop signal came instead.
 * Regular files never wait: they are not polled.
 */
static bool wait_input(int fd)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = wake_fd[0], .events = POLLIN },
	};

	for (;;) {
		if (input_stop_signal() != 0)
			return true;
		if (poll(p, wake_fd[0] >= 0 ? 2 : 1, -1) >= 0)
			return input_stop_signal() != 0;
		if (errno != EINTR)
			return false;   /* read() reports what is wrong */
	}
}

/*
 * A stop signal came: read on only what a pipe holds now. A file read to
 * its end already is not cut by it (its next read would say EOF).
 */
static void begin_stop(struct producer *pr)
{
	int avail = 0;
	struct stat sb;
	off_t pos;

	pr->draining = true;
	if (pr->pipe) {
		if (ioctl(pr->fd, FIONREAD, &avail) == 0 && avail > 0)
			pr->drain = (size_t)avail;
	} else if ((pos = lseek(pr->fd, 0, SEEK_CUR)) >= 0 &&
		   fstat(pr->fd, &sb) == 0 && pos >= sb.st_size) {
		pr->stop_at_end = true;
	}
}

/*
 * Read until n bytes or EOF; retry EINTR. Return bytes read, or -1 when
 * the first read() fails: a failure after some bytes returns those (the
 * next call meets the error again, at its exact offset). After a stop
 * signal, and what a pipe held then, it returns 0 as at the end of the
 * file, with pr->stopped set.
 */
static ssize_t read_full(struct producer *pr, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n && !pr->stopped) {
		size_t want = n - got;
		ssize_t r;

		if (!pr->draining && input_stop_signal() != 0)
			begin_stop(pr);
		if (pr->draining) {
			if (pr->drain == 0) {
				pr->stopped = !pr->stop_at_end;
				break;
			}
			if (want > pr->drain)
				want = pr->drain;
		} else if (pr->pipe && wait_input(pr->fd)) {
			continue;
		}
		r = read(pr->fd, p + got, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return got > 0 ? (ssize_t)got : -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (pr->draining)
			pr->drain -= (size_t)r;
	}
	return (ssize_t)got;
}

int input_open(struct input *in, const char *path)
{
	struct stat sb;
	struct input_state *st;
	bool is_stdin = strcmp(path, "-") == 0;

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	if (is_stdin) {
		in->fd = STDIN_FILENO;
	} else {
		/*
		 * Not blocking: open() of a named pipe waits for a writer,
		 * where a stop signal could not end it. Reads still wait,
		 * in poll(), like those of stdin.
		 */
		in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
			      O_NONBLOCK);
		if (in->fd < 0)
			return error("%s: cannot open: %s", path, strerror(errno));
		(void)fcntl(in->fd, F_SETFL,
			    fcntl(in->fd, F_GETFL) & ~O_NONBLOCK);
	}
	if (fstat(in->fd, &sb) < 0) {
		int e = errno;

		if (!is_stdin)
			close(in->fd);
		return error("%s: cannot stat: %s", path, strerror(e));
	}
	if (S_ISDIR(sb.st_mode)) {
		if (!is_stdin)
			close(in->fd);
		return error("%s: is a directory", path);
	}
	in->name = xstrdup(is_stdin ? "stdin" : path);
	in->is_regular = S_ISREG(sb.st_mode);
	in->dev = sb.st_dev;
	in->ino = sb.st_ino;
	in->file_size = in->is_regular ? sb.st_size : -1;

	st = xcalloc(1, sizeof(*st));
	st->pr.fd = in->fd;
	st->pr.pipe = !in->is_regular;
	st->pr.name = in->name;
	if (posix_memalign((void **)&st->pr.raw_base, 64,
			   RAW_HEAD + INPUT_BLOCK_BYTES) != 0) {
		free(st);
		input_close(in);
		return error("%s: out of memory", path);
	}
	in->st = st;
	return 0;
}

/* ---- the producer: runs on the reader thread ----------------------------- */

/*
 * Make at least want (1 or 2) unconsumed bytes available in raw[] unless
 * the file ends first: when fewer are left, read the next block behind
 * them (they, and the block's last bytes before them, move in front of
 * it). Return 0, or -1 on a read error (deferred).
 */
static int fill_raw(struct producer *pr, struct deferred *d, size_t want)
{
	size_t left = pr->raw_len - pr->raw_pos;
	size_t lim = input_raw_limit > 0 && input_raw_limit < INPUT_BLOCK_BYTES ?
		     input_raw_limit : INPUT_BLOCK_BYTES;
	ssize_t r;

	if (left >= want || pr->eof)
		return 0;
	/*
	 * [raw_base, raw + raw_len) is the stream, contiguous: its last
	 * RAW_HEAD bytes move in front of the next block (some of them from
	 * the head room itself when the block was short).
	 */
	if (pr->raw != NULL) {
		size_t have = (size_t)(pr->raw + pr->raw_len - pr->raw_base);
		size_t k = have < RAW_HEAD ? have : RAW_HEAD;

		memmove(pr->raw_base + RAW_HEAD - k,
			pr->raw + pr->raw_len - k, k);
	}
	pr->raw = pr->raw_base + RAW_HEAD - left;
	pr->raw_pos = 0;
	pr->raw_len = left;
	do {
		r = read_full(pr, pr->raw + pr->raw_len, lim);
		if (r < 0) {
			defer(d, 2, "%s: read error at byte %" PRIu64 ": %s",
			      pr->name, pr->raw_bytes, strerror(errno));
			return -1;
		}
		pr->raw_len += (size_t)r;
		pr->raw_bytes += (uint64_t)r;
		if (r == 0)
			pr->eof = true;
	} while (pr->raw_len < want && !pr->eof);
	return 0;
}

/* Where the next unconsumed byte is in the file. */
static uint64_t raw_offset(const struct producer *pr)
{
	return pr->raw_bytes - (pr->raw_len - pr->raw_pos);
}

/*
 * The inflater, behind three calls: start_member() begins a member,
 * member_begun() tells whether the current one consumed anything (an end
 * of file then truncates it), and inflate_step() inflates what raw[] holds
 * into dst, returning 1 at the end of a member, 0 when it needs more
 * input or dst is full, or -1 after a fault (deferred in d).
 */
#ifdef LOGTRIAGE_ISAL

static int start_member(struct producer *pr, struct deferred *d)
{
	(void)d;
	if (pr->is == NULL)
		pr->is = xcalloc(1, sizeof(*pr->is));
	memset(&pr->gz, 0, sizeof(pr->gz));
	pr->gz.phase = GZ_HEADER;
	pr->gz.field = GF_FIXED;
	pr->member_in = 0;
	pr->live = true;
	pr->members++;
	return 0;
}

static bool member_begun(const struct producer *pr)
{
	return pr->live && pr->member_in > 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A fault at the current offset, in zlib's words. */
static int gz_fault(struct producer *pr, struct deferred *d, const char *why)
{
	defer(d, 2, "%s: corrupt gzip data at byte %" PRIu64 ": %s", pr->name,
	      raw_offset(pr), why);
	return -1;
}

/* Take one byte of raw[] into the member (and the header's CRC). */
static unsigned char gz_take(struct producer *pr)
{
	unsigned char c = pr->raw[pr->raw_pos++];

	pr->member_in++;
	if (pr->gz.phase == GZ_HEADER)
		pr->gz.crc = (uint32_t)crc32(pr->gz.crc, &c, 1);
	return c;
}

/* The field after the one just read, by the flags. */
static enum gz_field gz_next(const struct gz_frame *g, enum gz_field f)
{
	if (f < GF_XLEN && (g->flags & 4))
		return GF_XLEN;
	if (f < GF_NAME && (g->flags & 8))
		return GF_NAME;
	if (f < GF_COMMENT && (g->flags & 16))
		return GF_COMMENT;
	if (f < GF_HCRC && (g->flags & 2))
		return GF_HCRC;
	return GF_DONE;
}

/*
 * Read the header from raw[]: 1 when it is whole, 0 when raw[] ran out
 * first, -1 on a fault (deferred in d).
 */
static int read_header(struct producer *pr, struct deferred *d)
{
	struct gz_frame *g = &pr->gz;

	while (pr->raw_pos < pr->raw_len) {
		unsigned char c;

		switch (g->field) {
		case GF_FIXED:
			g->buf[g->got++] = gz_take(pr);
			if (g->got == 4) {
				/* checked where zlib checks them */
				if (g->buf[0] != 0x1f || g->buf[1] != 0x8b)
					return gz_fault(pr, d,
						"incorrect header check");
				if (g->buf[2] != 8)
					return gz_fault(pr, d,
						"unknown compression method");
				g->flags = g->buf[3];
				if (g->flags & 0xe0)
					return gz_fault(pr, d,
						"unknown header flags set");
			}
			if (g->got < 10)
				continue;
			break;
		case GF_XLEN:
			g->buf[g->got++] = gz_take(pr);
			if (g->got < 2)
				continue;
			g->skip = (size_t)g->buf[0] | (size_t)g->buf[1] << 8;
			g->field = GF_EXTRA;
			g->got = 0;
			continue;
		case GF_EXTRA:
			if (g->skip > 0) {
				gz_take(pr);
				g->skip--;
				continue;
			}
			break;
		case GF_NAME:
		case GF_COMMENT:
			c = gz_take(pr);
			if (c != 0)
				continue;
			break;
		case GF_HCRC:
			/* the CRC of the bytes before it, not of itself */
			g->buf[g->got++] = pr->raw[pr->raw_pos++];
			pr->member_in++;
			if (g->got < 2)
				continue;
			if (((unsigned)g->buf[0] | (unsigned)g->buf[1] << 8) !=
			    (g->crc & 0xffff))
				return gz_fault(pr, d, "header crc mismatch");
			break;
		case GF_DONE:
			return 1;
		}
		/* the field is read: on to the next one, or the data */
		g->field = gz_next(g, g->field == GF_EXTRA ? GF_XLEN :
				   g->field);
		g->got = 0;
		if (g->field == GF_DONE)
			return 1;
	}
	/* an empty FEXTRA at the end of raw[] is read too */
	if (g->field == GF_EXTRA && g->skip == 0) {
		g->field = gz_next(g, GF_XLEN);
		if (g->field == GF_DONE)
			return 1;
	}
	return 0;
}

/*
 * Read the trailer: the CRC-32, then the length, of the data inflated
 * (each checked as soon as it is whole, where zlib checks it). 1 when
 * both match, 0 when raw[] ran out first, -1 on a fault.
 */
static int read_trailer(struct producer *pr, struct deferred *d)
{
	struct gz_frame *g = &pr->gz;

	while (pr->raw_pos < pr->raw_len && g->got < 8) {
		g->buf[g->got++] = gz_take(pr);
		if (g->got == 4 && le32(g->buf) != pr->is->crc)
			return gz_fault(pr, d, "incorrect data check");
		if (g->got == 8 && le32(g->buf + 4) != pr->is->total_out)
			return gz_fault(pr, d, "incorrect length check");
	}
	return g->got == 8;
}

/* ISA-L's verdict on deflate data, in the words zlib uses for it. */
static const char *isal_fault(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK:
		return "invalid block";
	case ISAL_INVALID_SYMBOL:
		return "invalid code";
	case ISAL_INVALID_LOOKBACK:
		return "invalid distance too far back";
	default:
		return "invalid data";
	}
}

/* Inflate the member's deflate data from raw[] into dst (see below). */
static int deflate_step(struct producer *pr, unsigned char *dst, size_t cap,
			size_t *made, struct deferred *d)
{
	struct inflate_state *is = pr->is;
	const unsigned char *in = pr->raw + pr->raw_pos;
	size_t avail = pr->raw_len - pr->raw_pos, used = 0;
	uintptr_t np, cur;
	int rc;

	is->next_in = (uint8_t *)(pr->raw + pr->raw_pos);
	is->avail_in = (uint32_t)avail;
	is->next_out = dst;
	is->avail_out = (uint32_t)cap;
	rc = isal_inflate(is);
	/*
	 * Where ISA-L stopped is taken from next_in, checked: after a fault
	 * its avail_in can be off (seen wrapped to 2^32 - 1). At the end of
	 * the data the whole bytes still in its bit buffer are the
	 * trailer's: they go back, and may have been loaded by an earlier
	 * call, from in front of raw_pos: from this block, or (RAW_HEAD)
	 * from the end of the one before.
	 */
	*made = is->avail_out <= cap ? cap - is->avail_out : 0;
	np = (uintptr_t)is->next_in;
	if (rc >= 0 && is->block_state == ISAL_BLOCK_FINISH &&
	    is->read_in_length > 0)
		np -= (uintptr_t)(is->read_in_length / 8);
	cur = (uintptr_t)in;
	if (np >= cur && np <= cur + avail) {
		used = (size_t)(np - cur);
		pr->raw_pos += used;
		pr->member_in += used;
	} else if (rc >= 0 && np < cur && cur - np <= 8 &&
		   np >= (uintptr_t)pr->raw_base) {
		size_t back = (size_t)(cur - np);

		if (back > pr->raw_pos) {
			size_t k = back - pr->raw_pos;

			pr->raw -= k;
			pr->raw_len += k;
			pr->raw_pos = 0;
		} else {
			pr->raw_pos -= back;
		}
		pr->member_in -= back < pr->member_in ? back : pr->member_in;
	} else if (rc >= 0) {
		rc = -1000;     /* not one of ISA-L's: "invalid data" */
	}
	if (rc < 0) {
		/*
		 * The fault is in the bits read last: the bytes ISA-L
		 * loaded but did not decode are not counted.
		 */
		uint64_t at = raw_offset(pr);
		uint64_t back = is->read_in_length > 0 ?
				(uint64_t)is->read_in_length / 8 : 0;

		defer(d, 2, "%s: corrupt gzip data at byte %" PRIu64 ": %s",
		      pr->name, at - (back < at ? back : at), isal_fault(rc));
		return -1;
	}
	if (is->block_state == ISAL_BLOCK_FINISH) {
		pr->gz.phase = GZ_TRAILER;
		pr->gz.got = 0;
		return 0;
	}
	if (used == 0 && *made == 0 && avail > 0 && cap > 0) {
		/* No progress with input and room: never loop on it. */
		defer(d, 2, "%s: corrupt gzip data at byte %" PRIu64 ": %s",
		      pr->name, raw_offset(pr), "invalid data");
		return -1;
	}
	return 0;
}

static int inflate_step(struct producer *pr, unsigned char *dst, size_t cap,
			size_t *made, struct deferred *d)
{
	int rc;

	*made = 0;
	switch (pr->gz.phase) {
	case GZ_HEADER:
		rc = read_header(pr, d);
		if (rc <= 0)
			return rc;
		isal_inflate_init(pr->is);
		pr->is->crc_flag = ISAL_GZIP_NO_HDR;
		pr->gz.phase = GZ_DEFLATE;
		return 0;
	case GZ_DEFLATE:
		return deflate_step(pr, dst, cap, made, d);
	case GZ_TRAILER:
		return read_trailer(pr, d);
	}
	return -1;
}

static void inflater_end(struct producer *pr)
{
	free(pr->is);
	pr->is = NULL;
}

#else /* zlib */

static int start_member(struct producer *pr, struct deferred *d)
{
	int rc;

	if (pr->live)
		rc = inflateReset(&pr->zs);
	else
		rc = inflateInit2(&pr->zs, 15 + 16);
	if (rc != Z_OK) {
		defer(d, 2, "%s: cannot start gzip decoder: %s", pr->name,
		      pr->zs.msg ? pr->zs.msg : "zlib error");
		return -1;
	}
	pr->live = true;
	pr->members++;
	return 0;
}

static bool member_begun(const struct producer *pr)
{
	return pr->live && pr->zs.total_in > 0;
}

static int inflate_step(struct producer *pr, unsigned char *dst, size_t cap,
			size_t *made, struct deferred *d)
{
	z_stream *zs = &pr->zs;
	size_t before_in;
	int rc;

	zs->next_in = pr->raw + pr->raw_pos;
	zs->avail_in = (uInt)(pr->raw_len - pr->raw_pos);
	zs->next_out = dst;
	zs->avail_out = (uInt)cap;
	before_in = zs->avail_in;
	rc = inflate(zs, Z_NO_FLUSH);
	pr->raw_pos += before_in - zs->avail_in;
	*made = cap - zs->avail_out;
	if (rc == Z_STREAM_END)
		return 1;
	if (rc != Z_OK && rc != Z_BUF_ERROR) {
		defer(d, 2, "%s: corrupt gzip data at byte %" PRIu64 ": %s",
		      pr->name, raw_offset(pr),
		      zs->msg ? zs->msg : "invalid data");
		return -1;
	}
	return 0;
}

static void inflater_end(struct producer *pr)
{
	if (pr->live)
		inflateEnd(&pr->zs);
}

#endif

/*
 * Inflate into dst. Members follow each other; what follows the last
 * member must be another gzip header, else it is reported and ignored
 * (gzip(1) says "trailing garbage ignored" too). A fault keeps what was
 * inflated before it.
 */
static size_t read_gzip(struct producer *pr, char *dst, size_t cap,
			struct block *b)
{
	size_t out = 0;

	while (out < cap) {
		size_t made = 0;
		int rc;

		if (fill_raw(pr, &b->diag, 1) < 0)
			goto fail;
		if (pr->raw_pos == pr->raw_len) {
			/* End of file inside a member: truncated. */
			if (member_begun(pr) && !pr->stopped) {
				defer(&b->diag, 2, "%s: truncated gzip stream at "
				      "byte %" PRIu64, pr->name, pr->raw_bytes);
				goto fail;
			}
			b->end = END_EOF;
			break;
		}
		if (!pr->live && start_member(pr, &b->diag) < 0)
			goto fail;
		rc = inflate_step(pr, (unsigned char *)dst + out, cap - out,
				  &made, &b->diag);
		out += made;
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			/* Next member, garbage, or the end. */
			if (fill_raw(pr, &b->diag, 2) < 0)
				goto fail;
			if (pr->raw_pos == pr->raw_len ||
			    (pr->stopped && pr->raw_len - pr->raw_pos < 2)) {
				b->end = END_EOF;
				break;
			}
			if (pr->raw_len - pr->raw_pos >= 2 &&
			    pr->raw[pr->raw_pos] == 0x1f &&
			    pr->raw[pr->raw_pos + 1] == 0x8b) {
				if (start_member(pr, &b->diag) < 0)
					goto fail;
				continue;
			}
			defer(&b->diag, 1, "%s: trailing garbage after gzip data "
			      "at byte %" PRIu64 " ignored", pr->name,
			      raw_offset(pr));
			b->end = END_EOF;
			break;
		}
	}
	return out;
fail:
	b->end = END_FAIL;
	return out;
}

/*
 * Read the first block and tell gzip from plain by its magic bytes;
 * start the first gzip member. Return 0, or -1 (deferred in d).
 */
static int sniff(struct producer *pr, struct deferred *d)
{
	if (fill_raw(pr, d, 2) < 0)
		return -1;
	pr->is_gzip = pr->raw_len >= 2 && pr->raw[0] == 0x1f &&
		      pr->raw[1] == 0x8b;
	if (pr->is_gzip && start_member(pr, d) < 0)
		return -1;
	return 0;
}

/*
 * Produce the next block of inflated gzip content into b. Sets b->len,
 * b->end and b->diag; never prints.
 */
static void produce(struct producer *pr, struct block *b)
{
	b->len = 0;
	b->pos = 0;
	b->end = END_NONE;
	b->diag.kind = 0;
	if (pr->done)
		b->end = END_EOF;
	else
		b->len = read_gzip(pr, b->data, INPUT_BLOCK_BYTES, b);
	if (b->end != END_NONE)
		pr->done = true;
	b->members = pr->members;
	b->raw_bytes = pr->raw_bytes;
}

/*
 * The reader thread: fill free blocks of the ring until the input ends or
 * input_close() says stop. Cancellation is allowed only inside read() and
 * poll(), so that input_close() can end a thread waiting on a silent pipe.
 */
static void *reader(void *arg)
{
	struct input_state *st = arg;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		struct block *b;
		bool last;

		pthread_mutex_lock(&st->mu);
		while (st->count == INPUT_QUEUE_BLOCKS && !st->stop)
			pthread_cond_wait(&st->freed, &st->mu);
		if (st->stop) {
			pthread_mutex_unlock(&st->mu);
			break;
		}
		b = &st->ring[(st->head + st->count) % INPUT_QUEUE_BLOCKS];
		pthread_mutex_unlock(&st->mu);

		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		produce(&st->pr, b);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		last = b->end != END_NONE;

		pthread_mutex_lock(&st->mu);
		st->count++;
		st->finished = last;
		pthread_cond_signal(&st->filled);
		pthread_mutex_unlock(&st->mu);
		if (last)
			break;
	}
	return NULL;
}

/* ---- the caller's side --------------------------------------------------- */

/*
 * Start the reader thread; false (nothing to undo) when it cannot run,
 * or should not (LOGTRIAGE_THREADS=1).
 */
static bool start_thread(struct input_state *st)
{
	unsigned i;

	if (one_thread())
		return false;
	for (i = 0; i < INPUT_QUEUE_BLOCKS; i++)
		if (posix_memalign((void **)&st->ring[i].data, 64,
				   INPUT_BLOCK_BYTES) != 0)
			goto out_free;
	if (pthread_mutex_init(&st->mu, NULL) != 0)
		goto out_free;
	if (pthread_cond_init(&st->filled, NULL) != 0)
		goto out_mu;
	if (pthread_cond_init(&st->freed, NULL) != 0)
		goto out_filled;
	if (pthread_create(&st->thread, NULL, reader, st) != 0)
		goto out_freed;
	pthread_setname_np(st->thread, INFLATE_THREAD);
	st->threaded = true;
	return true;
out_freed:
	pthread_cond_destroy(&st->freed);
out_filled:
	pthread_cond_destroy(&st->filled);
out_mu:
	pthread_mutex_destroy(&st->mu);
out_free:
	for (i = 0; i < INPUT_QUEUE_BLOCKS; i++) {
		free(st->ring[i].data);
		st->ring[i].data = NULL;
	}
	return false;
}

/* The next filled block: from the thread, or produced here. */
static struct block *next_block(struct input_state *st)
{
	struct block *b;

	if (!st->threaded) {
		produce(&st->pr, &st->sync);
		return &st->sync;
	}
	pthread_mutex_lock(&st->mu);
	while (st->count == 0)
		pthread_cond_wait(&st->filled, &st->mu);
	b = &st->ring[st->head];
	pthread_mutex_unlock(&st->mu);
	return b;
}

/* The caller is done with the current block: give it back. */
static void release_block(struct input_state *st)
{
	if (st->threaded) {
		pthread_mutex_lock(&st->mu);
		st->head = (st->head + 1) % INPUT_QUEUE_BLOCKS;
		st->count--;
		pthread_cond_signal(&st->freed);
		pthread_mutex_unlock(&st->mu);
	}
	st->cur = NULL;
}

/* Print a deferred message now; return -1 for an error. */
static int report(struct deferred *d)
{
	int rc = 0;

	if (d->kind == 1)
		warning("%s", d->text);
	else if (d->kind == 2)
		rc = error("%s", d->text);
	d->kind = 0;
	return rc;
}

/* Plain input: the sniffed block, then read() into the caller's buffer. */
static ssize_t read_plain(struct input *in, char *dst, size_t cap)
{
	struct input_state *st = in->st;
	struct producer *pr = &st->pr;
	size_t n = pr->raw_len - pr->raw_pos;
	ssize_t r;

	if (n > 0) {
		if (n > cap)
			n = cap;
		memcpy(dst, pr->raw + pr->raw_pos, n);
		pr->raw_pos += n;
		in->out_bytes += n;
		return (ssize_t)n;
	}
	r = pr->eof ? 0 : read_full(pr, (unsigned char *)dst, cap);
	if (r < 0) {
		st->done = true;
		return error("%s: read error at byte %" PRIu64 ": %s", in->name,
			     pr->raw_bytes, strerror(errno));
	}
	if (r == 0) {
		st->done = true;
		return 0;
	}
	pr->raw_bytes += (uint64_t)r;
	in->raw_bytes = pr->raw_bytes;
	in->out_bytes += (uint64_t)r;
	return r;
}

ssize_t input_read(struct input *in, char *dst, size_t cap)
{
	struct input_state *st = in->st;
	struct block *b;
	size_t n;

	if (st != NULL && st->failed) {
		st->failed = false;
		st->done = true;
		return -1;
	}
	if (st == NULL || st->done || cap == 0)
		return 0;
	if (!st->started) {
		struct deferred d = { 0, "" };

		st->started = true;
		if (sniff(&st->pr, &d) < 0) {
			st->done = true;
			return report(&d);
		}
		in->is_gzip = st->pr.is_gzip;
		in->members = st->pr.members;
		in->raw_bytes = st->pr.raw_bytes;
		if (in->is_gzip && !start_thread(st) &&
		    posix_memalign((void **)&st->sync.data, 64,
				   INPUT_BLOCK_BYTES) != 0) {
			st->sync.data = NULL;
			st->done = true;
			return error("%s: out of memory", in->name);
		}
	}
	if (!in->is_gzip)
		return read_plain(in, dst, cap);
	while (st->cur == NULL) {
		b = next_block(st);
		in->members = b->members;
		in->raw_bytes = b->raw_bytes;
		/* Its message comes before its data, as it always did. */
		report(&b->diag);
		if (b->len > 0) {
			st->cur = b;
			break;
		}
		st->done = b->end != END_NONE;
		release_block(st);
		if (b->end == END_FAIL)
			return -1;
		if (st->done)
			return 0;
	}
	b = st->cur;
	n = b->len - b->pos;
	if (n > cap)
		n = cap;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	in->out_bytes += n;
	if (b->pos == b->len) {
		enum block_end end = b->end;

		release_block(st);
		if (end != END_NONE) {
			st->done = true;
			st->failed = end == END_FAIL;
		}
	}
	return (ssize_t)n;
}

void input_close(struct input *in)
{
	if (in == NULL)
		return;
	if (in->st) {
		struct input_state *st = in->st;
		unsigned i;

		if (st->threaded) {
			bool finished;

			pthread_mutex_lock(&st->mu);
			st->stop = true;
			finished = st->finished;
			pthread_cond_signal(&st->freed);
			pthread_mutex_unlock(&st->mu);
			/* It may wait in poll() on a pipe that stays open. */
			if (!finished)
				pthread_cancel(st->thread);
			pthread_join(st->thread, NULL);
			pthread_cond_destroy(&st->freed);
			pthread_cond_destroy(&st->filled);
			pthread_mutex_destroy(&st->mu);
			for (i = 0; i < INPUT_QUEUE_BLOCKS; i++)
				free(st->ring[i].data);
		}
		free(st->sync.data);
		inflater_end(&st->pr);
		free(st->pr.raw_base);
		free(st);
		in->st = NULL;
	}
	if (in->fd > STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
	free(in->name);
	in->name = NULL;
}

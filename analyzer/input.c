/*
 * input.c - pipeline stage 1: open a path or stdin, detect gzip by magic
 * bytes, and hand out content in blocks (inflating gzip members in turn).
 */
#include "common.h"
#include "input.h"
#include "diag.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct input_state {
	z_stream zs;
	bool zs_live;           /* inflateInit2 done */
	bool eof;               /* the file said EOF */
	bool done;              /* nothing more will come out */
	bool failed;            /* an error was printed; report it next */
	size_t raw_len;         /* bytes in raw[] not yet consumed */
	size_t raw_pos;
	unsigned char *raw;     /* owned; INPUT_BLOCK_BYTES, 64-byte aligned */
};

/* Read until n bytes or EOF; retry EINTR. Return bytes read or -1. */
static ssize_t read_full(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
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
		in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (in->fd < 0)
			return error("%s: cannot open: %s", path, strerror(errno));
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
	if (posix_memalign((void **)&st->raw, 64, INPUT_BLOCK_BYTES) != 0) {
		free(st);
		input_close(in);
		return error("%s: out of memory", path);
	}
	in->st = st;
	return 0;
}

/* Fill raw[] when empty. Return 0, or -1 on a read error (printed). */
static int fill_raw(struct input *in)
{
	struct input_state *st = in->st;
	ssize_t r;

	if (st->raw_pos < st->raw_len || st->eof)
		return 0;
	r = read_full(in->fd, st->raw, INPUT_BLOCK_BYTES);
	if (r < 0)
		return error("%s: read error at byte %" PRIu64 ": %s",
			     in->name, in->raw_bytes, strerror(errno));
	st->raw_pos = 0;
	st->raw_len = (size_t)r;
	in->raw_bytes += (uint64_t)r;
	if (r == 0)
		st->eof = true;
	return 0;
}

static void sniff(struct input *in)
{
	struct input_state *st = in->st;

	in->is_gzip = st->raw_len >= 2 && st->raw[0] == 0x1f &&
		      st->raw[1] == 0x8b;
}

static int start_member(struct input *in)
{
	struct input_state *st = in->st;
	int rc;

	if (st->zs_live)
		rc = inflateReset(&st->zs);
	else
		rc = inflateInit2(&st->zs, 15 + 16);
	if (rc != Z_OK)
		return error("%s: cannot start gzip decoder: %s", in->name,
			     st->zs.msg ? st->zs.msg : "zlib error");
	st->zs_live = true;
	in->members++;
	return 0;
}

/*
 * Inflate into dst. Members follow each other; what follows the last
 * member must be another gzip header, else it is reported and ignored
 * (gzip(1) says "trailing garbage ignored" too).
 */
static ssize_t read_gzip(struct input *in, char *dst, size_t cap)
{
	struct input_state *st = in->st;
	z_stream *zs = &st->zs;
	size_t out = 0;

	while (out < cap) {
		int rc;
		size_t before_in;

		if (fill_raw(in) < 0)
			goto fail;
		if (st->raw_pos == st->raw_len) {
			/* End of file inside a member: truncated. */
			if (st->zs_live && zs->total_in > 0) {
				error("%s: truncated gzip stream at byte %" PRIu64,
				      in->name, in->raw_bytes);
				goto fail;
			}
			st->done = true;
			break;
		}
		if (!st->zs_live && start_member(in) < 0)
			goto fail;
		zs->next_in = st->raw + st->raw_pos;
		zs->avail_in = (uInt)(st->raw_len - st->raw_pos);
		zs->next_out = (unsigned char *)dst + out;
		zs->avail_out = (uInt)(cap - out);
		before_in = zs->avail_in;
		rc = inflate(zs, Z_NO_FLUSH);
		st->raw_pos += before_in - zs->avail_in;
		out = cap - zs->avail_out;
		if (rc == Z_STREAM_END) {
			/* Next member, garbage, or the end. */
			if (fill_raw(in) < 0)
				goto fail;
			if (st->raw_pos == st->raw_len) {
				st->done = true;
				break;
			}
			if (st->raw_len - st->raw_pos >= 2 &&
			    st->raw[st->raw_pos] == 0x1f &&
			    st->raw[st->raw_pos + 1] == 0x8b) {
				if (start_member(in) < 0)
					goto fail;
				continue;
			}
			warning("%s: trailing garbage after gzip data at byte %"
				PRIu64 " ignored", in->name,
				in->raw_bytes - (st->raw_len - st->raw_pos));
			st->done = true;
			break;
		}
		if (rc == Z_BUF_ERROR && zs->avail_out == 0)
			break;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			error("%s: corrupt gzip data at byte %" PRIu64 ": %s",
			      in->name,
			      in->raw_bytes - (st->raw_len - st->raw_pos),
			      zs->msg ? zs->msg : "invalid data");
			goto fail;
		}
	}
	in->out_bytes += out;
	return (ssize_t)out;
fail:
	/* Hand out what was decoded before the fault; fail on the next call. */
	st->done = true;
	in->out_bytes += out;
	if (out > 0) {
		st->failed = true;
		return (ssize_t)out;
	}
	return -1;
}

ssize_t input_read(struct input *in, char *dst, size_t cap)
{
	struct input_state *st = in->st;
	size_t n;

	if (st != NULL && st->failed) {
		st->failed = false;
		return -1;
	}
	if (st == NULL || st->done || cap == 0)
		return 0;
	if (in->raw_bytes == 0 && !st->eof) {
		if (fill_raw(in) < 0) {
			st->done = true;
			return -1;
		}
		sniff(in);
	}
	if (in->is_gzip) {
		if (!st->zs_live && start_member(in) < 0) {
			st->done = true;
			return -1;
		}
		return read_gzip(in, dst, cap);
	}
	if (st->raw_pos == st->raw_len && !st->eof) {
		/* Plain data goes straight into the caller's buffer. */
		ssize_t r = read_full(in->fd, (unsigned char *)dst, cap);

		if (r < 0) {
			st->done = true;
			return error("%s: read error at byte %" PRIu64 ": %s",
				     in->name, in->raw_bytes, strerror(errno));
		}
		in->raw_bytes += (uint64_t)r;
		in->out_bytes += (uint64_t)r;
		if (r == 0)
			st->done = true;
		return r;
	}
	n = st->raw_len - st->raw_pos;
	if (n == 0) {
		st->done = true;
		return 0;
	}
	if (n > cap)
		n = cap;
	memcpy(dst, st->raw + st->raw_pos, n);
	st->raw_pos += n;
	in->out_bytes += n;
	return (ssize_t)n;
}

void input_close(struct input *in)
{
	if (in == NULL)
		return;
	if (in->st) {
		if (in->st->zs_live)
			inflateEnd(&in->st->zs);
		free(in->st->raw);
		free(in->st);
		in->st = NULL;
	}
	if (in->fd > STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
	free(in->name);
	in->name = NULL;
}

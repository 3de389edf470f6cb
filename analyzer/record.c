/*
 * record.c - pipeline stage 2: split blocks into lines with memchr and
 * join the lines that belong together (tracebacks, Java frames, pydantic
 * errors, indented continuations) into records, as slices of one reusable
 * buffer. Lines in an envelope (docker compose, Kubernetes CRI, Heroku,
 * journald, Railway, a JSON object) are joined on what is inside it.
 */
#include "common.h"
#include "record.h"
#include "diag.h"

/* Room for a whole record, one line being scanned, and a block. */
#define RECORD_BUF_BYTES \
	(RECORD_MAX_BYTES + RECORD_MAX_LINE_BYTES + 2 * INPUT_BLOCK_BYTES)

/* Blank lines looked past, after an exception, for a chain header. */
#define CHAIN_MAX_BLANKS 4
/* Bytes at the end of a line searched for pydantic's error count. */
#define PYDANTIC_TAIL_BYTES 96
/* Longest line taken as a pydantic error location ("items.0.price"). */
#define PYDANTIC_LOC_BYTES 200
/* Error locations joined after one pydantic header, at most. */
#define PYDANTIC_MAX_ERRORS 100

/*
 * Traceback states:
 *   TB_NONE   an ordinary record
 *   TB_IN     inside "Traceback (most recent call last):" frames
 *   TB_EXC    the exception line was seen; a chain header may follow,
 *             after blank lines
 *   TB_CHAIN  after "During handling of the above exception..." or "The
 *             above exception was the direct cause...": the next
 *             traceback joins
 *   TB_GROUP  inside an ExceptionGroup tree (Python 3.11+), whose lines
 *             are all indented ("  + Exception Group Traceback ...",
 *             "  | ValueError: 1", "  +-+---- 1 ----")
 */
enum { TB_NONE, TB_IN, TB_EXC, TB_CHAIN, TB_GROUP };

static const char tb_head[] = "Traceback (most recent call last):";
static const char group_head[] =
	"Exception Group Traceback (most recent call last):";
static const char chain1[] =
	"During handling of the above exception, another exception occurred:";
static const char chain2[] =
	"The above exception was the direct cause of the following exception:";

int record_reader_init(struct record_reader *rr, struct input *in)
{
	memset(rr, 0, sizeof(*rr));
	rr->in = in;
	if (posix_memalign((void **)&rr->buf, 64, RECORD_BUF_BYTES) != 0) {
		rr->buf = NULL;
		return error("%s: out of memory", in->name);
	}
	return 0;
}

void record_reader_release(struct record_reader *rr)
{
	if (rr == NULL)
		return;
	free(rr->buf);
	rr->buf = NULL;
}

/*
 * Move the bytes still referenced to the front of the buffer and read
 * more. Return 1 when bytes were added (or skipped), 0 at the end.
 */
static int refill(struct record_reader *rr)
{
	size_t keep = rr->keep < rr->pos ? rr->keep : rr->pos;
	ssize_t r;
	char *dst;

	if (rr->eof)
		return 0;
	if (keep > 0) {
		memmove(rr->buf, rr->buf + keep, rr->end - keep);
		rr->end -= keep;
		rr->pos -= keep;
		rr->keep -= keep;
		rr->rs -= keep < rr->rs ? keep : rr->rs;
		rr->re -= keep < rr->re ? keep : rr->re;
		if (rr->have_pending) {
			rr->pending.start -= keep;
			rr->pending.end -= keep;
		}
	}
	if (rr->end >= RECORD_BUF_BYTES)
		BUG("record buffer full (end %zu)", rr->end);
	dst = rr->buf + rr->end;
	r = input_read(rr->in, dst, RECORD_BUF_BYTES - rr->end);
	if (r < 0) {
		rr->input_error = 1;
		rr->eof = true;
		rr->primed = true;
		return 0;
	}
	if (r == 0) {
		rr->eof = true;
		rr->primed = true;
		return 0;
	}
	if (!rr->primed) {
		rr->head_len = (size_t)r < RECORD_HEAD_BYTES ? (size_t)r :
			       RECORD_HEAD_BYTES;
		memcpy(rr->head, dst, rr->head_len);
		rr->primed = true;
	}
	if (rr->skip_to_nl) {
		char *nl = memchr(dst, '\n', (size_t)r);
		size_t drop;

		if (nl == NULL) {
			rr->pos_off += (uint64_t)r;
			return 1;
		}
		drop = (size_t)(nl - dst) + 1;
		rr->pos_off += drop;
		memmove(dst, dst + drop, (size_t)r - drop);
		r -= (ssize_t)drop;
		rr->skip_to_nl = false;
	}
	rr->end += (size_t)r;
	return 1;
}

/* Read the next line into *ln. Return 1, or 0 at the end of input. */
static int read_line(struct record_reader *rr, struct record_line *ln)
{
	for (;;) {
		size_t avail = rr->end - rr->pos;
		char *start = rr->buf + rr->pos;
		char *nl = rr->skip_to_nl ? NULL : memchr(start, '\n', avail);
		size_t len;

		if (nl != NULL || (rr->eof && avail > 0 && !rr->skip_to_nl)) {
			len = nl ? (size_t)(nl - start) : avail;
			if (nl == NULL) {
				rr->partial_line = true;
				rr->partial_off = rr->pos_off;
				rr->partial_lines = rr->line_no;
				/*
				 * A stop signal cut it (the writer had not
				 * finished it): not read now, read whole by
				 * the next run. Classified cut, its event
				 * would keep the cut text.
				 */
				if (input_stopped(rr->in)) {
					rr->pos = rr->end;
					return 0;
				}
			}
			ln->start = rr->pos;
			ln->end = rr->pos + len;
			if (len > 0 && start[len - 1] == '\r')
				ln->end--;
			ln->line_no = ++rr->line_no;
			ln->offset = rr->pos_off;
			ln->cut = false;
			len += nl ? 1 : 0;
			rr->pos += len;
			rr->pos_off += len;
			rr->lines++;
			return 1;
		}
		if (!rr->skip_to_nl && avail >= RECORD_MAX_LINE_BYTES) {
			/* Keep the head of the line, skip its tail. */
			ln->start = rr->pos;
			ln->end = rr->pos + RECORD_MAX_LINE_BYTES;
			ln->line_no = ++rr->line_no;
			ln->offset = rr->pos_off;
			ln->cut = true;
			rr->pos_off += avail;
			rr->end = ln->end;
			rr->pos = rr->end;
			rr->skip_to_nl = true;
			rr->lines++;
			rr->cut_lines++;
			/* The newline may already be in the next block. */
			return 1;
		}
		if (rr->eof) {
			/* A cut line whose newline never came. */
			rr->skip_to_nl = false;
			return 0;
		}
		refill(rr);
	}
}

static void skipped_describe(struct record_reader *rr,
			     const struct record_line *ln);

/*
 * The next line, past those an earlier run already read. Skipped lines
 * are not counted: record_reader_resume() set the numbering.
 */
static int next_line(struct record_reader *rr, struct record_line *ln)
{
	while (rr->skip_until > 0) {
		uint64_t n = rr->line_no, lines = rr->lines;

		if (!read_line(rr, ln))
			return 0;
		if (ln->offset >= rr->skip_until) {
			rr->skip_until = 0;
			return 1;
		}
		skipped_describe(rr, ln);
		rr->line_no = n;
		rr->lines = lines;
		rr->keep = rr->pos;
	}
	return read_line(rr, ln);
}

int record_reader_prime(struct record_reader *rr)
{
	if (!rr->primed)
		refill(rr);
	return rr->input_error ? -1 : 0;
}

int record_reader_block(struct record_reader *rr, const char **p, size_t *n)
{
	ssize_t r;

	if (!rr->primed)
		refill(rr);
	if (rr->pos < rr->end) {
		*p = rr->buf + rr->pos;
		*n = rr->end - rr->pos;
		rr->pos_off += *n;
		rr->pos = rr->end;
		return 1;
	}
	if (rr->eof)
		return 0;
	r = input_read(rr->in, rr->buf, INPUT_BLOCK_BYTES);
	if (r <= 0) {
		rr->input_error = r < 0;
		rr->eof = true;
		return 0;
	}
	rr->pos = rr->end = (size_t)r;
	rr->pos_off += (uint64_t)r;
	*p = rr->buf;
	*n = (size_t)r;
	return 1;
}

void record_reader_resume(struct record_reader *rr, uint64_t offset,
			  uint64_t lines)
{
	rr->skip_until = offset;
	rr->line_no = lines;
}

/* ---- bytes ---- */

static bool is_digit(char c)
{
	return (unsigned)(c - '0') < 10u;
}

static bool is_alnum(char c)
{
	return is_digit(c) || ((unsigned)((c | 0x20) - 'a') < 26u);
}

static bool all_digits(const char *p, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

static struct span mkspan(const char *p, size_t n)
{
	struct span s;

	s.p = p;
	s.len = n;
	return s;
}

/* ---- ANSI escape sequences ---- */

size_t record_ansi_len(const char *p, size_t n)
{
	size_t i;

	if (n < 2 || p[0] != '\x1b')
		return 0;
	if (p[1] == '[') {
		/* CSI: parameter and intermediate bytes, then a final byte */
		for (i = 2; i < n && i < 64; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c >= 0x40 && c <= 0x7e)
				return i + 1;
			if (c < 0x20 || c > 0x3f)
				return 0;
		}
		return 0;
	}
	if (p[1] == ']') {
		/* OSC (terminal titles, hyperlinks): up to BEL or ESC \ */
		for (i = 2; i < n && i < 512; i++) {
			if (p[i] == '\a')
				return i + 1;
			if (p[i] == '\x1b' && i + 1 < n && p[i + 1] == '\\')
				return i + 2;
		}
		return 0;
	}
	if (p[1] >= 0x20 && p[1] <= 0x2f)
		/* charset designation: ESC ( B */
		return n >= 3 && p[2] >= 0x30 && p[2] <= 0x7e ? 3 : 0;
	if (p[1] >= 0x40 && p[1] <= 0x5f)
		return 2;
	return 0;
}

static size_t skip_ansi(const char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n && p[i] == '\x1b' &&
	       (k = record_ansi_len(p + i, n - i)) > 0)
		i += k;
	return i;
}

/* ---- envelopes ---- */

/*
 * Length of an RFC 3339 stamp with 'T' and a zone at p, or 0. Only the
 * shape is checked here; stage 3 reads and validates the values. *offset
 * tells whether the zone is a numeric offset rather than 'Z', *frac how
 * many fraction digits the stamp has.
 */
static size_t rfc3339_len(const char *p, size_t n, bool *offset,
			  size_t *frac)
{
	size_t i = 19, f;

	if (n < 20 || !all_digits(p, 4) || p[4] != '-' ||
	    !all_digits(p + 5, 2) || p[7] != '-' || !all_digits(p + 8, 2) ||
	    p[10] != 'T' || !all_digits(p + 11, 2) || p[13] != ':' ||
	    !all_digits(p + 14, 2) || p[16] != ':' || !all_digits(p + 17, 2))
		return 0;
	if (p[i] == '.' || p[i] == ',') {
		for (f = i + 1; f < n && f < i + 10 && is_digit(p[f]); f++)
			;
		if (f == i + 1)
			return 0;
		*frac = f - i - 1;
		i = f;
	}
	if (i < n && p[i] == 'Z') {
		*offset = false;
		return i + 1;
	}
	if (i + 5 <= n && (p[i] == '+' || p[i] == '-') &&
	    all_digits(p + i + 1, 2)) {
		if (p[i + 3] == ':' && i + 6 <= n && all_digits(p + i + 4, 2)) {
			*offset = true;
			return i + 6;
		}
		if (all_digits(p + i + 3, 2)) {
			*offset = true;
			return i + 5;
		}
	}
	return 0;
}

static bool is_month(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t i;

	for (i = 0; i < 36; i += 3)
		if (p[0] == months[i] && p[1] == months[i + 1] &&
		    p[2] == months[i + 2])
			return true;
	return false;
}

/* "Feb 24 10:15:02" or "Feb  4 10:15:02", any fraction: length or 0. */
static size_t syslog_stamp_len(const char *p, size_t n)
{
	size_t i = 15, f;

	if (n < 16 || !is_month(p) || p[3] != ' ' ||
	    (p[4] != ' ' && !is_digit(p[4])) || !is_digit(p[5]) ||
	    p[6] != ' ' || !all_digits(p + 7, 2) || p[9] != ':' ||
	    !all_digits(p + 10, 2) || p[12] != ':' || !all_digits(p + 13, 2))
		return 0;
	if (p[i] == '.') {
		for (f = i + 1; f < n && f < i + 10 && is_digit(p[f]); f++)
			;
		if (f > i + 1)
			i = f;
	}
	return i;
}

/*
 * "host proc[pid]: " or "host proc: " at p: fill host, source and pid of
 * *out and return the bytes, or 0. A host that is an upper-case word is
 * refused: "INFO app.db: connected" after a stamp is an application line.
 */
static size_t syslog_tail(const char *p, size_t n, struct record_layer *out)
{
	size_t i = 0, h, s, e, d = 0, de = 0;
	bool upper = true;

	while (i < n && i < 256 && p[i] != ' ' && p[i] != '\t' &&
	       p[i] != '\n') {
		if (p[i] < 'A' || p[i] > 'Z')
			upper = false;
		i++;
	}
	if (i == 0 || i >= n || p[i] != ' ' || upper)
		return 0;
	h = i++;
	s = i;
	while (i < n && i - s < 128 && p[i] != ' ' && p[i] != '[' &&
	       p[i] != ':' && p[i] != '\n')
		i++;
	if (i == s || i >= n)
		return 0;
	e = i;
	if (p[i] == '[') {
		d = ++i;
		while (i < n && is_digit(p[i]))
			i++;
		if (i == d || i >= n || p[i] != ']')
			return 0;
		de = i++;
	}
	if (i >= n || p[i] != ':')
		return 0;
	i++;
	if (i < n) {
		if (p[i] != ' ')
			return 0;
		i++;
	}
	out->host = mkspan(p, h);
	out->source = mkspan(p + s, e - s);
	if (de > d)
		out->pid = mkspan(p + d, de - d);
	return i;
}

/* "app[web.1]: " or "heroku[router]: " at p: its length, or 0. */
static size_t heroku_tail(const char *p, size_t n, struct record_layer *out)
{
	size_t i = 0, s, e;

	while (i < n && i < 16 && p[i] >= 'a' && p[i] <= 'z')
		i++;
	if (i == 0 || i >= n || p[i] != '[')
		return 0;
	s = ++i;
	while (i < n && i - s < 64 &&
	       (is_alnum(p[i]) || p[i] == '.' || p[i] == '_' || p[i] == '-'))
		i++;
	if (i == s || i + 1 >= n || p[i] != ']' || p[i + 1] != ':')
		return 0;
	e = i;
	i += 2;
	if (i < n) {
		if (p[i] != ' ')
			return 0;
		i++;
	}
	out->stream = mkspan(p, s - 1);
	out->source = mkspan(p + s, e - s);
	return i;
}

/* "stdout F " / "stderr P " at p: its length, or 0. */
static size_t cri_tail(const char *p, size_t n, struct record_layer *out)
{
	if (n < 8 || (memcmp(p, "stdout ", 7) != 0 &&
		      memcmp(p, "stderr ", 7) != 0) ||
	    (p[7] != 'F' && p[7] != 'P') || (n > 8 && p[8] != ' '))
		return 0;
	out->stream = mkspan(p, 6);
	out->partial = p[7] == 'P';
	return n > 8 ? 9 : 8;
}

/*
 * Railway's "[inf]  " (its log view: a three-letter tag, two spaces) or
 * the CLI's "[ERRO] " (four capitals): length, or 0.
 */
static size_t railway_tail(const char *p, size_t n, struct record_layer *out)
{
	size_t a = skip_ansi(p, n), i, k;
	bool lower = true, upper = true;

	if (a + 5 >= n || p[a] != '[')
		return 0;
	for (i = a + 1; i < n && i < a + 6 && p[i] != ']'; i++) {
		if (p[i] < 'a' || p[i] > 'z')
			lower = false;
		if (p[i] < 'A' || p[i] > 'Z')
			upper = false;
	}
	k = i - a - 1;
	if (i >= n || p[i] != ']' || !((lower && k == 3) || (upper && k == 4)))
		return 0;
	out->stream = mkspan(p + a + 1, k);
	i++;
	i += skip_ansi(p + i, n - i);
	if (i < n && p[i] != ' ')
		return 0;
	/* the separator only: the message's own indentation stays */
	if (i < n)
		i++;
	if (lower && i < n && p[i] == ' ')
		i++;
	return i;
}

/* Characters of a compose service or container name: [A-Za-z0-9_.-]. */
static const unsigned char name_chars[256] = {
	['-'] = 1, ['.'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* "api-1  | " at p: its length, or 0; *name gets the service. */
static size_t compose_len(const char *p, size_t n, struct span *name)
{
	size_t i = 0, e, lim = n < 128 ? n : 128;

	if (n == 0 || !is_alnum(p[0]))
		return 0;
	while (i < lim && name_chars[(unsigned char)p[i]])
		i++;
	e = i;
	if (i >= n || p[i] != ' ')
		return 0;
	while (i < n && p[i] == ' ')
		i++;
	if (i >= n || p[i] != '|')
		return 0;
	i++;
	if (i < n) {
		if (p[i] != ' ')
			return 0;
		i++;
	}
	*name = mkspan(p, e);
	return i + skip_ansi(p + i, n - i);
}

static void layer_clear(struct record_layer *out)
{
	static const struct span none = { NULL, 0 };

	out->env = RECORD_ENV_NONE;
	out->partial = false;
	out->len = 0;
	out->stamp = none;
	out->source = none;
	out->stream = none;
	out->host = none;
	out->pid = none;
}

bool record_peel(const char *p, size_t n, struct record_layer *out)
{
	size_t a = n > 0 && p[0] == '\x1b' ? skip_ansi(p, n) : 0, s, k;
	const char *q = p + a;
	size_t m = n - a;
	bool offset = false;
	size_t frac = 0;
	struct span name;

	out->env = RECORD_ENV_NONE;
	if (m < 5)
		return false;
	/* (rfc3339_len wants 20 bytes and the 'T': looked at first) */
	if (is_digit(q[0]) && q[4] == '-' && m >= 20 && q[10] == 'T' &&
	    (s = rfc3339_len(q, m, &offset, &frac)) > 0 && s < m &&
	    q[s] == ' ') {
		const char *t = q + s + 1;
		size_t tn = m - s - 1;

		layer_clear(out);
		out->stamp = mkspan(q, s);
		if ((k = cri_tail(t, tn, out)) > 0)
			out->env = RECORD_ENV_CRI;
		else if ((k = railway_tail(t, tn, out)) > 0)
			out->env = RECORD_ENV_RAILWAY;
		else if ((k = heroku_tail(t, tn, out)) > 0)
			out->env = RECORD_ENV_HEROKU;
		else if (offset && (k = syslog_tail(t, tn, out)) > 0)
			out->env = RECORD_ENV_SYSLOG_ISO;
		else if (frac >= 6)
			/*
			 * A bare stamp is a platform's only when it is as
			 * fine as Docker's and Kubernetes' (nanoseconds); an
			 * application's "2026-02-24T10:15:02Z INFO ..." is
			 * its own format.
			 */
			out->env = RECORD_ENV_STAMP;
		else {
			layer_clear(out);
			return false;
		}
		out->len = a + s + 1 + k;
		return true;
	}
	/*
	 * An application's own "2026-02-24 10:15:02,123 ...": no syslog
	 * stamp starts with a digit, and a compose name would end at the
	 * space with no '|' after it. Said here, before the byte loop of
	 * compose_len, because most lines of many logs start so.
	 */
	if (m > 11 && q[10] == ' ' && is_digit(q[11]) && all_digits(q, 4) &&
	    q[4] == '-' && all_digits(q + 5, 2) && q[7] == '-' &&
	    all_digits(q + 8, 2))
		return false;
	if (q[0] >= 'A' && q[0] <= 'S' && q[3] == ' ' &&
	    (s = syslog_stamp_len(q, m)) > 0 && s < m && q[s] == ' ') {
		const char *t = q + s + 1;
		size_t tn = m - s - 1;

		layer_clear(out);
		if (tn >= 3 && (t[0] == 'A' || t[0] == 'P') && t[1] == 'M' &&
		    t[2] == ' ') {
			out->env = RECORD_ENV_RENDER;
			out->stamp = mkspan(q, s + 3);
			k = 3;
			if (k < tn && t[k] == ' ')
				k++;    /* two spaces, then the message */
			out->len = a + s + 1 + k;
			return true;
		}
		if ((k = syslog_tail(t, tn, out)) > 0) {
			out->env = RECORD_ENV_SYSLOG;
			out->stamp = mkspan(q, s);
			out->len = a + s + 1 + k;
			return true;
		}
		layer_clear(out);
		return false;
	}
	if ((k = compose_len(q, m, &name)) > 0) {
		layer_clear(out);
		out->env = RECORD_ENV_COMPOSE;
		out->source = name;
		out->len = a + k;
		return true;
	}
	return false;
}

/* ---- JSON objects, walked without decoding ---- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Index of the quote that closes the string whose body starts at p[s],
 * or n when it is not closed.
 */
static size_t string_end(const char *p, size_t n, size_t s)
{
	size_t i = s;

	for (;;) {
		const char *q = memchr(p + i, '"', n - i);
		size_t k, bs = 0;

		if (q == NULL)
			return n;
		k = (size_t)(q - p);
		while (k - bs > s && p[k - bs - 1] == '\\')
			bs++;
		if (bs % 2 == 0)
			return k;
		i = k + 1;
	}
}

/* Index just past the object or array at p[i], or 0 when unclosed. */
static size_t skip_nested(const char *p, size_t n, size_t i)
{
	size_t depth = 0;

	for (; i < n; i++) {
		char c = p[i];

		if (c == '"') {
			i = string_end(p, n, i + 1);
			if (i >= n)
				return 0;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

int record_json_next(const char *p, size_t n, size_t *pos,
		     struct record_json_member *m)
{
	size_t i = *pos, e;

	if (i == 0) {
		while (i < n && is_ws(p[i]))
			i++;
		if (i >= n || p[i] != '{')
			return -1;
		i++;
		while (i < n && is_ws(p[i]))
			i++;
		if (i < n && p[i] == '}') {
			*pos = i;
			return 0;
		}
	} else {
		while (i < n && is_ws(p[i]))
			i++;
		if (i >= n)
			return -1;
		if (p[i] == '}')
			return 0;
		if (p[i] != ',')
			return -1;
		i++;
		while (i < n && is_ws(p[i]))
			i++;
	}
	if (i >= n || p[i] != '"')
		return -1;
	e = string_end(p, n, i + 1);
	if (e >= n)
		return -1;
	m->key = mkspan(p + i + 1, e - i - 1);
	i = e + 1;
	while (i < n && is_ws(p[i]))
		i++;
	if (i >= n || p[i] != ':')
		return -1;
	i++;
	while (i < n && is_ws(p[i]))
		i++;
	if (i >= n)
		return -1;
	if (p[i] == '"') {
		e = string_end(p, n, i + 1);
		if (e >= n)
			return -1;
		m->value = mkspan(p + i + 1, e - i - 1);
		m->type = 's';
		i = e + 1;
	} else if (p[i] == '{' || p[i] == '[') {
		e = skip_nested(p, n, i);
		if (e == 0)
			return -1;
		m->value = mkspan(p + i, e - i);
		m->type = p[i] == '{' ? 'o' : 'a';
		i = e;
	} else {
		e = i;
		while (e < n && p[e] != ',' && p[e] != '}' && !is_ws(p[e]))
			e++;
		if (e == i)
			return -1;
		m->value = mkspan(p + i, e - i);
		m->type = p[i] == '-' || is_digit(p[i]) ? 'n' : 'l';
		i = e;
	}
	*pos = i;
	return 1;
}

int record_json_message_rank(const char *key, size_t len)
{
	switch (len) {
	case 3:
		if (memcmp(key, "msg", 3) == 0)
			return 1;
		return memcmp(key, "log", 3) == 0 ? 2 : -1;
	case 5:
		return memcmp(key, "event", 5) == 0 ? 3 : -1;
	case 7:
		if (memcmp(key, "message", 7) == 0)
			return 0;
		return memcmp(key, "MESSAGE", 7) == 0 ? 4 : -1;
	default:
		return -1;
	}
}

/*
 * The raw body of the message of the JSON object at p, without the line
 * end that Docker's json-file keeps ("\n" escaped). False when the object
 * is malformed or has no string message.
 */
static bool json_message(const char *p, size_t n, struct span *body)
{
	struct record_json_member m;
	size_t pos = 0;
	int best = INT_MAX, r, rank;

	while ((r = record_json_next(p, n, &pos, &m)) > 0) {
		if (m.type != 's')
			continue;
		rank = record_json_message_rank(m.key.p, m.key.len);
		if (rank >= 0 && rank < best) {
			best = rank;
			*body = m.value;
		}
	}
	if (r < 0 || best == INT_MAX)
		return false;
	while (body->len >= 2 && body->p[body->len - 2] == '\\' &&
	       (body->p[body->len - 1] == 'n' || body->p[body->len - 1] == 'r'))
		body->len -= 2;
	return true;
}

/* ---- what framing sees of a line ---- */

/*
 * A line as framing sees it: its outermost envelope, the source key that
 * lines of one program share, and the content inside the envelopes. For
 * a JSON line the content is the raw (escaped) body of its message.
 */
struct view {
	unsigned char env;      /* enum record_env of the outermost layer */
	bool json;              /* c is the body of a JSON message */
	bool partial;           /* CRI "P": the next entry continues it */
	struct span key;        /* service, dyno, process or stream */
	struct span c;          /* the content */
};

static void view_of(const char *p, size_t n, struct view *v)
{
	struct record_layer l;
	size_t off = 0;
	unsigned k;

	v->env = RECORD_ENV_NONE;
	v->json = false;
	v->partial = false;
	v->key = mkspan(NULL, 0);
	for (k = 0; k < RECORD_MAX_LAYERS && off < n &&
	     record_peel(p + off, n - off, &l); k++) {
		if (k == 0) {
			v->env = l.env;
			v->key = l.source.len ? l.source : l.stream;
			if (l.env == RECORD_ENV_HEROKU)
				/* "app[web.1" : a dyno's output, not the
				 * platform's lines about it */
				v->key = mkspan(l.stream.p, (size_t)(l.source.p +
					l.source.len - l.stream.p));
		}
		if (l.partial)
			v->partial = true;
		off += l.len;
	}
	v->c = mkspan(p + off, n - off);
	if (v->c.len >= 2 && v->c.p[0] == '{' &&
	    json_message(v->c.p, v->c.len, &v->c))
		v->json = true;
}

static bool c_is(struct span c, const char *s, size_t n)
{
	return c.len == n && memcmp(c.p, s, n) == 0;
}

static bool c_ends(struct span c, const char *s, size_t n)
{
	return c.len >= n && memcmp(c.p + c.len - n, s, n) == 0;
}

static bool c_starts(struct span c, const char *s, size_t n)
{
	return c.len >= n && memcmp(c.p, s, n) == 0;
}

/* Leading blanks of c: spaces, tabs, and "\t" escaped inside JSON. */
static size_t c_indent(struct span c, bool json)
{
	size_t i = 0;

	while (i < c.len) {
		if (c.p[i] == ' ' || c.p[i] == '\t')
			i++;
		else if (json && c.p[i] == '\\' && i + 1 < c.len &&
			 c.p[i + 1] == 't')
			i += 2;
		else
			break;
	}
	return i;
}

static bool has(const char *p, size_t len, const char *needle)
{
	return memmem(p, len, needle, strlen(needle)) != NULL;
}

/*
 * Does a one-line record announce the traceback that follows it? Python's
 * logging.exception() and uvicorn's "Exception in ASGI application" print
 * a message line and then the traceback; a traceback after an unrelated
 * access line starts a record of its own.
 */
static bool announces_traceback(const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == ':')
		return true;
	return has(p, len, "ERROR") || has(p, len, "rror") ||
	       has(p, len, "CRITICAL") || has(p, len, "xception") ||
	       has(p, len, "FATAL") || has(p, len, "WARNING") ||
	       has(p, len, "ailed") || has(p, len, "critical");
}

/*
 * Errors announced by a pydantic header at the end of c ("2 validation
 * errors for Settings"), or 0. Cheap: the last word must follow " for".
 */
static unsigned pydantic_errors(struct span c)
{
	static const char w[] = "validation error";
	const char *p = c.p, *sp;
	size_t tail = c.len < PYDANTIC_TAIL_BYTES ? c.len : PYDANTIC_TAIL_BYTES;
	size_t e, q;
	unsigned v = 0, k;

	sp = memrchr(p + c.len - tail, ' ', tail);
	if (sp == NULL)
		return 0;
	e = (size_t)(sp - p);
	if (e < 26 || memcmp(p + e - 4, " for", 4) != 0)
		return 0;
	q = e - 4;
	if (p[q - 1] == 's')
		q--;
	if (q < 18 || memcmp(p + q - 16, w, 16) != 0 || p[q - 17] != ' ')
		return 0;
	q -= 17;
	for (k = 0; q > 0 && is_digit(p[q - 1]) && k < 3; k++)
		q--;
	if (k == 0)
		return 0;
	for (; k > 0; k--, q++)
		v = v * 10 + (unsigned)(p[q] - '0');
	return v > PYDANTIC_MAX_ERRORS ? PYDANTIC_MAX_ERRORS : v;
}

/*
 * A pydantic error location: "jwt_secret_key", "items.0.price",
 * "body -> email" (no ": " in it).
 */
static bool pydantic_loc(struct span c)
{
	return c.len > 0 && c.len <= PYDANTIC_LOC_BYTES && c.p[0] != ' ' &&
	       memmem(c.p, c.len, ": ", 2) == NULL;
}

/*
 * A dotted name at column 0, then ':' or the end ("org.postgresql.util.
 * PSQLException:", "java.lang.NullPointerException"): where it ends and
 * where its last part starts, or false.
 */
static bool dotted_name(struct span c, size_t *colon, size_t *last)
{
	size_t i = 0, dots = 0;

	*last = 0;
	if (c.len == 0 || c.p[0] < 'a' || c.p[0] > 'z')
		return false;
	while (i < c.len && i < 256 && (is_alnum(c.p[i]) || c.p[i] == '.' ||
					c.p[i] == '_' || c.p[i] == '$')) {
		if (c.p[i] == '.') {
			dots++;
			*last = i + 1;
		}
		i++;
	}
	*colon = i;
	return dots > 0 && (i == c.len || c.p[i] == ':');
}

/*
 * A Java exception line at column 0 ("org.postgresql.util.PSQLException:
 * Connection refused", "java.lang.OutOfMemoryError: Java heap space"),
 * printed under the log line that announced it, before its "\tat" frames.
 */
static bool java_exception(struct span c)
{
	static const char *const ends[] = { "Exception", "Error", "Throwable" };
	size_t i, k, q, last;

	if (!dotted_name(c, &i, &last))
		return false;
	for (q = 0; q < ARRAY_SIZE(ends); q++) {
		k = strlen(ends[q]);
		if (i >= k && memcmp(c.p + i - k, ends[q], k) == 0)
			return true;
	}
	return false;
}

/*
 * An exception line of any language at column 0: a dotted name whose
 * last part starts with a capital ("psycopg2.errors.UniqueViolation:
 * ...", "requests.exceptions.ConnectTimeout: ...").
 */
static bool exception_line(struct span c)
{
	size_t colon, last;

	return dotted_name(c, &colon, &last) && last < colon &&
	       c.p[last] >= 'A' && c.p[last] <= 'Z';
}

/*
 * 'kubectl describe' lines at column 0 are "Key:" or "Key:   value"
 * ("Name:", "QoS Class:", "Node-Selectors:").
 */
static bool describe_key(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || p[0] < 'A' || p[0] > 'Z')
		return false;
	for (i = 1; i < n && i < 40; i++) {
		if (p[i] == ':')
			return i + 1 == n || p[i + 1] == ' ';
		if (!is_alnum(p[i]) && p[i] != ' ' && p[i] != '-')
			return false;
	}
	return false;
}

/*
 * Inside 'kubectl describe' output from a "Name:  " line to a line at
 * column 0 that is not "Key:" (a record's first line, without envelope).
 */
static void describe_state(struct record_reader *rr, const char *p, size_t n)
{
	if (n > 7 && memcmp(p, "Name:  ", 7) == 0)
		rr->describe = true;
	else if (rr->describe && p[0] != ' ' && !describe_key(p, n))
		rr->describe = false;
}

/*
 * Every line moves the describe state, the first line of a record and a
 * line joined to one alike, and so does a line skipped on resume: a
 * resumed run then frames the rest of 'kubectl describe' output as a
 * whole run does (found by fuzz_record, twice: a resumed run forgot it
 * was inside describe output; and a "Name:  " line that a traceback
 * joined started describe output only for a resumed run, which took it
 * as a record's first line). A traceback ends at such a line.
 */
static void skipped_describe(struct record_reader *rr,
			     const struct record_line *ln)
{
	const char *p = rr->buf + ln->start;
	size_t n = ln->end - ln->start;
	struct view v;

	if (ln->cut || n == 0 || (!rr->describe && p[0] != 'N'))
		return;
	view_of(p, n, &v);
	if (v.env == RECORD_ENV_NONE && !v.json)
		describe_state(rr, p, n);
}

/* The first line of a record, kept as offsets from rr->rs (refill moves
 * the buffer). */
struct first {
	unsigned char env;
	bool json;
	size_t key_off, key_len;
	size_t c_off, c_len;
};

static struct span first_span(const struct record_reader *rr, size_t off,
			      size_t len)
{
	return mkspan(rr->buf + rr->rs + off, len);
}

/* Does line v come from the same program, in the same envelope, as f? */
static bool same_source(const struct record_reader *rr,
			const struct first *f, const struct view *v)
{
	return v->env == f->env && v->json == f->json &&
	       v->key.len == f->key_len &&
	       (f->key_len == 0 || memcmp(v->key.p, rr->buf + rr->rs +
					  f->key_off, f->key_len) == 0);
}

/*
 * The content of line ln, in the envelope of the record's first line;
 * false when ln does not share it. *v gets the line's view when one was
 * made (enveloped records), so that it need not be made again when the
 * line starts the next record.
 */
static bool content_of(const struct record_reader *rr,
		       const struct record_line *ln, const struct first *f,
		       bool enveloped, struct span *c, bool *partial,
		       struct view *v, bool *viewed)
{
	*partial = false;
	*viewed = enveloped;
	if (!enveloped) {
		*c = mkspan(rr->buf + ln->start, ln->end - ln->start);
		return true;
	}
	view_of(rr->buf + ln->start, ln->end - ln->start, v);
	if (!same_source(rr, f, v))
		return false;
	*c = v->c;
	*partial = v->partial;
	return true;
}

/* Make ln the pending line, keeping its view when there is one. */
static void set_pending(struct record_reader *rr, const struct record_line *ln,
			const struct view *v, bool viewed)
{
	const char *base = rr->buf + ln->start;

	rr->pending = *ln;
	rr->have_pending = true;
	rr->pview = viewed && !ln->cut;
	if (!rr->pview)
		return;
	rr->pv_env = v->env;
	rr->pv_json = v->json;
	rr->pv_partial = v->partial;
	rr->pv_key_off = v->key.len ? (size_t)(v->key.p - base) : 0;
	rr->pv_key_len = v->key.len;
	rr->pv_c_off = (size_t)(v->c.p - base);
	rr->pv_c_len = v->c.len;
}

/* The view kept with the pending line ln. */
static void pending_view(const struct record_reader *rr,
			 const struct record_line *ln, struct view *v)
{
	const char *base = rr->buf + ln->start;

	v->env = rr->pv_env;
	v->json = rr->pv_json;
	v->partial = rr->pv_partial;
	v->key = mkspan(rr->pv_key_len ? base + rr->pv_key_off : NULL,
			rr->pv_key_len);
	v->c = mkspan(base + rr->pv_c_off, rr->pv_c_len);
}

/* Record state set by a record's first line (content c). */
static void first_line_state(struct record_reader *rr, struct span c,
			     unsigned *flags)
{
	if (c_ends(c, group_head, sizeof(group_head) - 1)) {
		rr->state = TB_GROUP;
		*flags |= RECORD_TRACEBACK;
	} else if (c_ends(c, tb_head, sizeof(tb_head) - 1)) {
		rr->state = TB_IN;
		*flags |= RECORD_TRACEBACK;
	} else if (c.len > 0 && c.p[c.len - 1] != ':') {
		rr->pyd_left = pydantic_errors(c);
	}
}

int record_next(struct record_reader *rr, struct record *rec)
{
	struct record_line ln;
	struct view v0;
	struct first f;
	struct span c;
	bool continued = rr->capped_prev;
	bool enveloped, partial, java = false;
	unsigned nlines = 1;
	unsigned flags = 0;
	uint64_t end_off;

	f.json = false;
	/* The first line with something in it. */
	for (;;) {
		bool cached = false;

		if (rr->have_pending) {
			ln = rr->pending;
			rr->have_pending = false;
			cached = rr->pview;
		} else {
			rr->keep = rr->pos;
			if (!next_line(rr, &ln))
				return 0;
		}
		if (ln.cut)
			break;
		if (ln.end > ln.start) {
			if (cached)
				pending_view(rr, &ln, &v0);
			else
				view_of(rr->buf + ln.start, ln.end - ln.start,
					&v0);
			if (v0.c.len > 0 ||
			    (v0.env == RECORD_ENV_NONE && !v0.json))
				break;
		}
		continued = false;
	}
	rr->capped_prev = false;
	if (!continued) {
		rr->state = TB_NONE;
		rr->pyd_left = 0;
	} else {
		flags |= RECORD_CONTINUED;
	}
	rr->rs = ln.start;
	rr->re = ln.end;
	rr->keep = ln.start;
	rec->line_no = ln.line_no;
	rec->offset = ln.offset;
	if (ln.cut) {
		flags |= RECORD_LINE_CUT;
		rr->state = TB_NONE;
		end_off = rr->pos_off;
		goto emit;
	}
	enveloped = v0.env != RECORD_ENV_NONE || v0.json;
	if (v0.env != RECORD_ENV_NONE)
		flags |= RECORD_ENVELOPED;
	else
		flags |= RECORD_PLAIN;
	f.env = v0.env;
	f.json = v0.json;
	f.key_off = v0.key.len ? (size_t)(v0.key.p - (rr->buf + rr->rs)) : 0;
	f.key_len = v0.key.len;
	f.c_off = (size_t)(v0.c.p - (rr->buf + rr->rs));
	f.c_len = v0.c.len;
	partial = v0.partial;
	if (!enveloped) {
		const char *p = rr->buf + ln.start;
		size_t n = ln.end - ln.start;

		describe_state(rr, p, n);
	}
	first_line_state(rr, v0.c, &flags);

	for (;;) {
		bool join = false, next_partial = false, viewed = false;
		struct view lv;

		if (!next_line(rr, &ln)) {
			/*
			 * A file a stop signal cut at some byte: this record
			 * may go on past it. Left whole to the next run,
			 * which reads the file on from its start. (A pipe
			 * gives what its writer wrote, records whole.)
			 */
			if (input_stopped(rr->in) && rr->in->is_regular) {
				rr->lines -= rr->line_no - rec->line_no + 1;
				rr->partial_line = true;
				rr->partial_off = rec->offset;
				rr->partial_lines = rec->line_no - 1;
				rr->state = TB_NONE;
				rr->pyd_left = 0;
				return 0;
			}
			end_off = rr->pos_off;
			goto emit;
		}
		if (ln.cut) {
			join = false;
		} else if (!content_of(rr, &ln, &f, enveloped, &c,
				       &next_partial, &lv, &viewed)) {
			join = false;
		} else if (partial) {
			join = true;
		} else if (c.len == 0) {
			if (rr->state == TB_EXC) {
				/*
				 * Blank lines after an exception: a chain
				 * header may follow (two blanks after an
				 * exception message that ends in a newline,
				 * as psycopg2's do).
				 */
				size_t mark = rr->re - rr->rs;
				unsigned blanks = 1;
				struct record_line hdr;
				struct span hc;
				struct view hv;
				bool hp, shared, hviewed = false;

				for (;;) {
					if (!next_line(rr, &hdr)) {
						rr->re = rr->rs + mark;
						end_off = rr->pos_off;
						goto emit;
					}
					shared = !hdr.cut && content_of(rr,
						&hdr, &f, enveloped, &hc, &hp,
						&hv, &hviewed);
					if (!shared || hc.len > 0 ||
					    ++blanks > CHAIN_MAX_BLANKS)
						break;
				}
				if (shared &&
				    (c_is(hc, chain1, sizeof(chain1) - 1) ||
				     c_is(hc, chain2, sizeof(chain2) - 1)) &&
				    hdr.end - rr->rs <= RECORD_MAX_BYTES &&
				    nlines + blanks + 1 <= RECORD_MAX_LINES) {
					ln = hdr;
					lv = hv;
					viewed = hviewed;
					rr->state = TB_CHAIN;
					nlines += blanks;
					join = true;
				} else {
					rr->re = rr->rs + mark;
					set_pending(rr, &hdr, &hv, hviewed);
					end_off = hdr.offset;
					goto emit;
				}
			} else if (rr->state == TB_CHAIN) {
				join = true;
			} else {
				/* The blank line is consumed: resume after it. */
				end_off = rr->pos_off;
				goto emit;
			}
		} else if (rr->describe) {
			join = false;
		} else if (c_indent(c, f.json) > 0) {
			if (c_ends(c, group_head, sizeof(group_head) - 1)) {
				struct span fc = first_span(rr, f.c_off,
							    f.c_len);

				if (rr->state == TB_CHAIN ||
				    (rr->state == TB_NONE && nlines == 1 &&
				     announces_traceback(fc.p, fc.len))) {
					rr->state = TB_GROUP;
					flags |= RECORD_TRACEBACK;
					join = true;
				}
			} else {
				struct span t = c;
				size_t k = c_indent(c, f.json);

				t.p += k;
				t.len -= k;
				if (c_starts(t, "at ", 3))
					java = true;
				join = true;
			}
		} else if (c_is(c, tb_head, sizeof(tb_head) - 1)) {
			struct span fc = first_span(rr, f.c_off, f.c_len);

			if (rr->state == TB_CHAIN ||
			    (rr->state == TB_NONE && nlines == 1 &&
			     announces_traceback(fc.p, fc.len))) {
				rr->state = TB_IN;
				flags |= RECORD_TRACEBACK;
				join = true;
			}
		} else if (rr->state == TB_IN) {
			rr->state = TB_EXC;
			rr->pyd_left = pydantic_errors(c);
			join = true;
		} else if (java && c_starts(c, "Caused by: ", 11)) {
			join = true;
		} else if (rr->state == TB_NONE && nlines == 1 &&
			   java_exception(c)) {
			struct span fc = first_span(rr, f.c_off, f.c_len);

			/*
			 * An exception line is no announcement: two in a row
			 * are two errors ("redis.exceptions.ConnectionError:
			 * ..." then "sqlalchemy.exc.OperationalError: ..."),
			 * each line of its own in a platform's export. Java
			 * prints its frames under the first; and a wrapper
			 * that quotes the line before it ("java.lang.
			 * RuntimeException: java.net.ConnectException: ...",
			 * under log.error(e.getMessage(), e)) is its cause.
			 */
			if (!exception_line(fc))
				join = announces_traceback(fc.p, fc.len);
			else
				join = fc.len >= 8 &&
				       memmem(c.p, c.len, fc.p, fc.len) != NULL;
			/* pydantic's header line: its error lines follow */
			if (join)
				rr->pyd_left = pydantic_errors(c);
		} else if (rr->pyd_left > 0 && rr->state != TB_GROUP &&
			   pydantic_loc(c)) {
			rr->pyd_left--;
			join = true;
		}
		if (join && (ln.end - rr->rs > RECORD_MAX_BYTES ||
			     nlines + 1 > RECORD_MAX_LINES)) {
			flags |= RECORD_CAPPED;
			rr->capped_records++;
			rr->capped_prev = true;
			set_pending(rr, &ln, &lv, viewed);
			end_off = ln.offset;
			goto emit_keep_state;
		}
		if (!join) {
			set_pending(rr, &ln, &lv, viewed);
			end_off = ln.offset;
			goto emit;
		}
		rr->re = ln.end;
		nlines++;
		partial = next_partial;
		skipped_describe(rr, &ln);
	}

emit:
	rr->state = TB_NONE;
	rr->pyd_left = 0;
emit_keep_state:
	if (f.json && nlines > 1)
		flags |= RECORD_JSON_LINES;
	if (nlines == 1)
		flags |= RECORD_ONE_LINE;
	rec->text = rr->buf + rr->rs;
	rec->len = rr->re - rr->rs;
	rec->nlines = nlines;
	rec->flags = flags;
	rec->end_offset = end_off;
	rec->end_line = rr->have_pending ? rr->pending.line_no - 1 :
			rr->line_no;
	rr->records++;
	return 1;
}

/*
 * ahead.c - framing and the literal scan on a thread of their own, batches
 * of records ahead of the evaluating thread (see ahead.h).
 *
 * Four batches go round: the framing thread fills one while the
 * evaluating thread works through another, the other two absorb the
 * difference in pace. A batch closes after AHEAD_FILL bytes of text or
 * AHEAD_ITEMS records, so memory stays flat (about 4 x 2 MiB at most)
 * and a batch is handed over every few milliseconds. With three, a
 * burst of symptom lines (slower to evaluate) filled them all and the
 * framing thread waited for a free one, 0.08-0.25 s of a 2.5 s run on
 * the 1 GB benchmark export, while the other core had nothing to do;
 * with four it waits 0-0.02 s, and the time a core is idle over the
 * run (twice the wall time less the CPU time) fell from about 0.45 s
 * to 0.28 s, at 1.7 MiB more memory.
 *
 * The scan goes where there is time for it. On the benchmark's plain
 * export framing and scanning cost the framing thread about 316 M
 * instructions per 20 MB and parsing, evaluating and storing the main
 * thread about 240 M, so with every record scanned ahead the main thread
 * waited for batches a quarter of the time. A record is therefore scanned
 * ahead only while the main thread has a whole batch queued besides the
 * one it works on (it is behind); otherwise it goes unscanned and the
 * main thread scans it itself, as it does for any record whose scan does
 * not cover the text the rules read. Results are the same either way;
 * the share of records scanned ahead settles where both threads keep
 * pace (about half of them on that export, which took the 1 GB run from
 * 2.87 s to 2.57 s, medians of six alternating runs).
 */
#include "common.h"
#include "ahead.h"
#include "buf.h"
#include "diag.h"
#include "input.h"
#include "parse.h"

#include <pthread.h>
#include <stdatomic.h>

/* The thread's name, as top -H and ps -L show it. */
#define FRAME_THREAD "lt-frame"

#define AHEAD_BATCHES 4
#define AHEAD_FILL (1u << 20)           /* text bytes that close a batch */
#define AHEAD_ITEMS 8192                /* records that close a batch */

struct aitem {
	struct ahead_item pub;  /* its pointers set when the batch closes */
	size_t text_off;        /* in the arena (which may move until then) */
	size_t ids_off;
	size_t diag_off;
};

struct batch {
	bool ready;             /* filled, not yet given back */
	char *arena;            /* owned; the records' text */
	size_t used, cap;
	struct aitem *items;    /* owned, AHEAD_ITEMS */
	size_t n, pos;          /* items filled; next to hand out */
	unsigned *ids;          /* owned */
	size_t nids, ids_cap;
	struct buf diag;        /* diagnostics framing printed */
	size_t end_diag_off;    /* those of the call that found the end */
	bool last;              /* the input ends with this batch */
	uint64_t raw_bytes;
	struct ahead_item end;  /* after the last record: what framing
				   printed when it found the end */
};

struct ahead {
	struct record_reader *rr;       /* borrowed; the thread's */
	struct rules_scanner *sc;       /* borrowed; the thread's */
	struct batch b[AHEAD_BATCHES];
	size_t cons;                    /* the batch being handed out */
	bool cons_ready;                /* ... known to be filled */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t ready;           /* a batch was filled */
	pthread_cond_t freed;           /* a batch was given back, or stop */
	atomic_bool stop;
	atomic_uint filled;             /* batches ready and not given back */
	int scan_mode;                  /* SCAN_* */
};

/*
 * Which records the framing thread scans: those it has time for (the
 * main thread is behind), or, set by LOGTRIAGE_AHEAD_SCAN=all or =none for
 * the tests that compare the ways, every one or none.
 */
enum { SCAN_PACED, SCAN_ALL, SCAN_NONE };

/* Frame records into b until it is full or the input ends. */
static void fill(struct ahead *ah, struct batch *b)
{
	b->n = b->pos = b->used = b->nids = 0;
	b->last = false;
	buf_clear(&b->diag);
	diag_capture(&b->diag);
	while (b->n < AHEAD_ITEMS && b->used < AHEAD_FILL &&
	       !atomic_load(&ah->stop)) {
		struct aitem *a = &b->items[b->n];
		struct ahead_item *it = &a->pub;
		size_t d0 = b->diag.len, n;
		const unsigned *ids;

		if (record_next(ah->rr, &it->rec) <= 0) {
			b->last = true;
			b->end_diag_off = d0;
			break;
		}
		if (it->rec.len > b->cap - b->used) {
			while (it->rec.len > b->cap - b->used)
				b->cap *= 2;
			b->arena = xrealloc(b->arena, b->cap);
		}
		memcpy(b->arena + b->used, it->rec.text, it->rec.len);
		a->text_off = b->used;
		b->used += it->rec.len;
		/* the main thread is behind: a batch waits besides its own */
		it->scanned = ah->scan_mode == SCAN_ALL ||
			      (ah->scan_mode == SCAN_PACED &&
			       atomic_load_explicit(&ah->filled,
						    memory_order_relaxed) >= 2);
		if (it->scanned) {
			it->json = parse_looks_like_json(it->rec.text,
							  it->rec.len) > 0;
			ids = rules_scanner_scan(ah->sc,
						 b->arena + a->text_off,
						 it->rec.len, it->json, &n);
		} else {
			it->json = false;
			ids = NULL;
			n = 0;
		}
		if (n > b->ids_cap - b->nids) {
			while (n > b->ids_cap - b->nids)
				b->ids_cap *= 2;
			b->ids = xrealloc(b->ids, b->ids_cap * sizeof(*b->ids));
		}
		if (n > 0)
			memcpy(b->ids + b->nids, ids, n * sizeof(*ids));
		a->ids_off = b->nids;
		it->nids = n;
		b->nids += n;
		a->diag_off = d0;
		it->diag_len = b->diag.len - d0;
		b->n++;
	}
	diag_capture(NULL);
	b->raw_bytes = ah->rr->in->raw_bytes;
	/* Nothing moves now: the pointers the evaluating thread reads. */
	for (size_t k = 0; k < b->n; k++) {
		struct aitem *a = &b->items[k];

		a->pub.rec.text = b->arena + a->text_off;
		a->pub.ids = b->ids + a->ids_off;
		a->pub.diag = b->diag.p + a->diag_off;
		a->pub.raw_bytes = b->raw_bytes;
	}
}

static void *run(void *arg)
{
	struct ahead *ah = arg;
	size_t k = 0;

	for (;;) {
		struct batch *b = &ah->b[k];
		bool last;

		pthread_mutex_lock(&ah->mu);
		while (b->ready && !atomic_load(&ah->stop))
			pthread_cond_wait(&ah->freed, &ah->mu);
		pthread_mutex_unlock(&ah->mu);
		if (atomic_load(&ah->stop))
			break;
		fill(ah, b);
		last = b->last;
		pthread_mutex_lock(&ah->mu);
		b->ready = true;
		atomic_fetch_add(&ah->filled, 1);
		pthread_cond_signal(&ah->ready);
		pthread_mutex_unlock(&ah->mu);
		if (last)
			break;
		k = (k + 1) % AHEAD_BATCHES;
	}
	return NULL;
}

static void free_batches(struct ahead *ah)
{
	size_t i;

	for (i = 0; i < AHEAD_BATCHES; i++) {
		free(ah->b[i].arena);
		free(ah->b[i].items);
		free(ah->b[i].ids);
		buf_release(&ah->b[i].diag);
	}
}

struct ahead *ahead_start(struct record_reader *rr, struct rules_scanner *sc)
{
	const char *scan = getenv("LOGTRIAGE_AHEAD_SCAN");
	struct ahead *ah;
	size_t i;

	if (one_thread())
		return NULL;
	ah = xcalloc(1, sizeof(*ah));
	ah->rr = rr;
	for (i = 0; i < AHEAD_BATCHES; i++) {
		struct batch *b = &ah->b[i];

		b->cap = 2 * AHEAD_FILL;
		b->arena = xmalloc(b->cap);
		b->items = xcalloc(AHEAD_ITEMS, sizeof(*b->items));
		b->ids_cap = AHEAD_ITEMS;
		b->ids = xcalloc(b->ids_cap, sizeof(*b->ids));
		buf_init(&b->diag);
	}
	ah->sc = sc;
	ah->scan_mode = scan == NULL ? SCAN_PACED :
			strcmp(scan, "all") == 0 ? SCAN_ALL :
			strcmp(scan, "none") == 0 ? SCAN_NONE : SCAN_PACED;
	atomic_init(&ah->stop, false);
	atomic_init(&ah->filled, 0);
	pthread_mutex_init(&ah->mu, NULL);
	pthread_cond_init(&ah->ready, NULL);
	pthread_cond_init(&ah->freed, NULL);
	if (pthread_create(&ah->thread, NULL, run, ah) != 0) {
		pthread_mutex_destroy(&ah->mu);
		pthread_cond_destroy(&ah->ready);
		pthread_cond_destroy(&ah->freed);
		free_batches(ah);
		free(ah);
		return NULL;
	}
	pthread_setname_np(ah->thread, FRAME_THREAD);
	return ah;
}

int ahead_next(struct ahead *ah, const struct ahead_item **it)
{
	for (;;) {
		struct batch *b = &ah->b[ah->cons];

		if (!ah->cons_ready) {
			pthread_mutex_lock(&ah->mu);
			while (!b->ready)
				pthread_cond_wait(&ah->ready, &ah->mu);
			pthread_mutex_unlock(&ah->mu);
			ah->cons_ready = true;
		}
		if (b->pos < b->n) {
			*it = &b->items[b->pos++].pub;
			return 1;
		}
		if (b->last) {
			memset(&b->end, 0, sizeof(b->end));
			b->end.diag = b->diag.p + b->end_diag_off;
			b->end.diag_len = b->diag.len - b->end_diag_off;
			b->end_diag_off = b->diag.len;  /* handed out once */
			b->end.raw_bytes = b->raw_bytes;
			*it = &b->end;
			return 0;
		}
		pthread_mutex_lock(&ah->mu);
		b->ready = false;
		atomic_fetch_sub(&ah->filled, 1);
		pthread_cond_signal(&ah->freed);
		pthread_mutex_unlock(&ah->mu);
		ah->cons = (ah->cons + 1) % AHEAD_BATCHES;
		ah->cons_ready = false;
	}
}

void ahead_stop(struct ahead *ah)
{
	if (ah == NULL)
		return;
	pthread_mutex_lock(&ah->mu);
	atomic_store(&ah->stop, true);
	pthread_cond_broadcast(&ah->freed);
	pthread_mutex_unlock(&ah->mu);
	pthread_join(ah->thread, NULL);
	pthread_mutex_destroy(&ah->mu);
	pthread_cond_destroy(&ah->ready);
	pthread_cond_destroy(&ah->freed);
	free_batches(ah);
	free(ah);
}

bool ahead_covers(const struct ahead_item *it, const char *raw, size_t len,
		  bool json)
{
	uintptr_t t = (uintptr_t)it->rec.text, r = (uintptr_t)raw;

	if (!it->scanned || it->json != json)
		return false;
	if (json)
		return r == t && len == it->rec.len;
	return r >= t && len <= it->rec.len && r - t <= it->rec.len - len;
}

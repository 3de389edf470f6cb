/*
 * writer.c - pipeline stage 5: the writer thread and its bounded queue
 * of chunks (see writer.h).
 */
#include "common.h"
#include "writer.h"
#include "diag.h"

#include <pthread.h>

/* The thread's name, as top -H and ps -L show it. */
#define WRITER_THREAD "lt-writer"

/* A record in a chunk: its length, then its bytes, padded to 8. */
#define REC_HEAD sizeof(uint64_t)

struct writer_chunk {
	unsigned char *p;       /* owned (malloc): cap bytes */
	size_t len;             /* bytes packed */
	size_t cap;
	struct writer_chunk *next;      /* in the queue or the free list */
};

struct writer {
	writer_fn fn;
	void *arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;    /* a chunk was queued, or stop */
	pthread_cond_t done;    /* a chunk came back */
	/* under mu */
	struct writer_chunk *queue;     /* handed over, oldest first */
	struct writer_chunk *queue_tail;
	struct writer_chunk *free_list;
	bool busy;              /* the thread is writing a chunk */
	bool stop;
	int err;                /* first error of fn, 0 when none */
	/* the main thread's own */
	struct writer_chunk *cur;       /* being packed; NULL between */
	int seen_err;           /* err, as of the last look under mu */
	struct writer_chunk chunks[WRITER_CHUNKS];
};

bool writer_next(const struct writer_chunk *c, struct writer_rec *r)
{
	size_t off = 0;
	uint64_t len;

	if (r->p != NULL)
		off = (size_t)((const unsigned char *)r->p - c->p) +
		      ((r->len + 7) & ~(size_t)7);
	if (off >= c->len)
		return false;
	memcpy(&len, c->p + off, REC_HEAD);
	r->p = c->p + off + REC_HEAD;
	r->len = (size_t)len;
	return true;
}

/* The thread: write the queued chunks until writer_stop(). */
static void *run(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct writer_chunk *c;
		int err;

		while (w->queue == NULL && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->queue == NULL)
			break;
		c = w->queue;
		w->queue = c->next;
		if (w->queue == NULL)
			w->queue_tail = NULL;
		w->busy = true;
		err = w->err;
		pthread_mutex_unlock(&w->mu);

		/* After an error, the rest is skipped: only given back. */
		if (err == 0)
			err = w->fn(w->arg, c);

		pthread_mutex_lock(&w->mu);
		if (w->err == 0)
			w->err = err;
		c->len = 0;
		c->next = w->free_list;
		w->free_list = c;
		w->busy = false;
		pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct writer *writer_start(writer_fn fn, void *arg)
{
	struct writer *w = calloc(1, sizeof(*w));
	unsigned i;

	if (w == NULL)
		return NULL;
	w->fn = fn;
	w->arg = arg;
	for (i = 0; i < WRITER_CHUNKS; i++) {
		struct writer_chunk *c = &w->chunks[i];

		c->p = malloc(WRITER_CHUNK_BYTES);
		if (c->p == NULL)
			goto out_free;
		c->cap = WRITER_CHUNK_BYTES;
		c->next = w->free_list;
		w->free_list = c;
	}
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		goto out_free;
	if (pthread_cond_init(&w->work, NULL) != 0)
		goto out_mu;
	if (pthread_cond_init(&w->done, NULL) != 0)
		goto out_work;
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		goto out_done;
	pthread_setname_np(w->thread, WRITER_THREAD);
	return w;
out_done:
	pthread_cond_destroy(&w->done);
out_work:
	pthread_cond_destroy(&w->work);
out_mu:
	pthread_mutex_destroy(&w->mu);
out_free:
	for (i = 0; i < WRITER_CHUNKS; i++)
		free(w->chunks[i].p);
	free(w);
	return NULL;
}

/* Queue the chunk being packed (if it holds anything). */
static void hand_over(struct writer *w)
{
	struct writer_chunk *c = w->cur;

	if (c == NULL || c->len == 0)
		return;
	w->cur = NULL;
	c->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->queue_tail)
		w->queue_tail->next = c;
	else
		w->queue = c;
	w->queue_tail = c;
	w->seen_err = w->err;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

/* A free chunk to pack, waiting for the thread to give one back. */
static struct writer_chunk *take_free(struct writer *w)
{
	struct writer_chunk *c;

	pthread_mutex_lock(&w->mu);
	while (w->free_list == NULL)
		pthread_cond_wait(&w->done, &w->mu);
	c = w->free_list;
	w->free_list = c->next;
	w->seen_err = w->err;
	pthread_mutex_unlock(&w->mu);
	/* One that grew for a large record goes back to its size. */
	if (c->cap > WRITER_CHUNK_BYTES) {
		c->p = xrealloc(c->p, WRITER_CHUNK_BYTES);
		c->cap = WRITER_CHUNK_BYTES;
	}
	return c;
}

void *writer_add(struct writer *w, size_t len)
{
	size_t need = REC_HEAD + ((len + 7) & ~(size_t)7);
	uint64_t len64 = len;
	unsigned char *p;

	if (w->seen_err)
		return NULL;
	if (w->cur && w->cur->len + need > w->cur->cap)
		hand_over(w);
	if (w->cur == NULL)
		w->cur = take_free(w);
	if (w->seen_err)
		return NULL;
	if (need > w->cur->cap) {
		/* Empty here: a chunk of its own for a large record. */
		w->cur->p = xrealloc(w->cur->p, need);
		w->cur->cap = need;
	}
	p = w->cur->p + w->cur->len;
	memcpy(p, &len64, REC_HEAD);
	w->cur->len += need;
	return p + REC_HEAD;
}

void writer_flush(struct writer *w)
{
	hand_over(w);
}

int writer_sync(struct writer *w)
{
	hand_over(w);
	pthread_mutex_lock(&w->mu);
	while (w->queue != NULL || w->busy)
		pthread_cond_wait(&w->done, &w->mu);
	w->seen_err = w->err;
	pthread_mutex_unlock(&w->mu);
	return w->seen_err;
}

int writer_error(const struct writer *w)
{
	return w->seen_err;
}

void writer_clear_error(struct writer *w)
{
	writer_sync(w);
	pthread_mutex_lock(&w->mu);
	w->err = 0;
	pthread_mutex_unlock(&w->mu);
	w->seen_err = 0;
}

void writer_stop(struct writer *w)
{
	unsigned i;

	if (w == NULL)
		return;
	writer_sync(w);
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	for (i = 0; i < WRITER_CHUNKS; i++)
		free(w->chunks[i].p);
	free(w);
}

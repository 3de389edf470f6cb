/*
 * writer.h - pipeline stage 5, the store's second thread: the rows of a
 * run are written to SQLite on a thread of their own, in order, while
 * the main thread goes on reading and classifying.
 *
 * The main thread packs each record (one row to write) into a chunk: an
 * arena of bytes, so that queuing a record allocates nothing. A full
 * chunk is handed to the thread, which calls the writer's function on
 * it (the function reads its records with writer_next(), and may write
 * several at a time) and gives it back. There are WRITER_CHUNKS
 * chunks in all: when every one is full and waiting, the main thread
 * waits too, so the memory stays the same whatever the input.
 *
 * Only the main thread calls these functions. The function given to
 * writer_start() runs on the writer thread while chunks are queued, so
 * from the return of writer_sync() to the next writer_add() the main
 * thread may use what that function uses (the SQLite connection)
 * without locking: writer_sync() orders all the writes before it.
 */
#ifndef LOGTRIAGE_WRITER_H
#define LOGTRIAGE_WRITER_H

#include "common.h"

/* Bytes of a chunk (a record larger than that gets a chunk its size). */
#define WRITER_CHUNK_BYTES (128u * 1024)
/*
 * Chunks in all: one being packed, the others queued or being written.
 * Sixteen (2 MiB) hold about 30 ms of the writer's work on an event-heavy
 * input: with three threads on two cores, four let the main thread wait
 * for a free chunk 0.5-0.8 s of a 2.5 s run (and the writer for work at
 * other times); sixteen, 0.2-0.3 s.
 */
#define WRITER_CHUNKS 16

struct writer;
struct writer_chunk;

/*
 * Write the records of a chunk, in order (writer_next() hands them out;
 * their bytes stay valid during the call). Return 0, or a negative
 * error: the writer keeps the first one, and skips every chunk after it
 * until writer_clear_error().
 */
typedef int (*writer_fn)(void *arg, const struct writer_chunk *c);

/* A record of a chunk: the len bytes that writer_add() gave out. */
struct writer_rec {
	const void *p;          /* 8-byte aligned; NULL before the first */
	size_t len;
};

/*
 * The record after *r in c (the first when r->p is NULL): set *r and
 * return true, or return false after the last.
 */
bool writer_next(const struct writer_chunk *c, struct writer_rec *r);

/*
 * Start the thread. Return NULL, with nothing to undo, when it cannot
 * run (no memory for the chunks, no thread): the caller writes its rows
 * itself then.
 */
struct writer *writer_start(writer_fn fn, void *arg);

/*
 * Room for a record of len bytes at the end of the chunk being packed,
 * handing the chunk over first when it is full (and waiting for a free
 * one when none is). Fill it before the next call into the writer.
 * Return NULL when the writer has failed (writer_error() tells how):
 * nothing more is queued then.
 */
void *writer_add(struct writer *w, size_t len);

/*
 * Hand over what is packed and wait until the thread has written every
 * record queued so far. Return 0 or the first error of the writer's
 * function since the last writer_clear_error().
 */
int writer_sync(struct writer *w);

/* Hand over what is packed, without waiting (a commit queued last). */
void writer_flush(struct writer *w);

/*
 * The first error so far, without waiting: set once the chunk it was
 * found in came back (so it may lag behind writer_sync()'s answer).
 */
int writer_error(const struct writer *w);

/* Forget the error (after the caller undid what the failed rows were
 * part of); records queued after this call are written again. */
void writer_clear_error(struct writer *w);

/* Sync, end the thread and free everything; NULL is fine. */
void writer_stop(struct writer *w);

#endif

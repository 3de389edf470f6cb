/*
 * store.h - pipeline stage 5: the SQLite database, a public contract.
 *
 * The schema is documented in docs/schema.md and versioned with
 * PRAGMA user_version; the file is marked with PRAGMA application_id so
 * that logtriage never writes into a database that is not its own. Writes
 * go through prepared statements inside explicit transactions: a run that
 * is killed leaves the database as it was at the last commit. 'analyze'
 * writes its events on a thread of its own (store_writer_start()).
 */
#ifndef LOGTRIAGE_STORE_H
#define LOGTRIAGE_STORE_H

#include "common.h"

#define STORE_SCHEMA_VERSION 5
#define STORE_APPLICATION_ID 0x4c545247 /* "LTRG" */

/* Return codes of store functions, besides 0. */
enum store_err {
	STORE_ERR = -1,         /* an SQLite or I/O error (printed) */
	STORE_ERR_BUSY = -2,    /* another process holds the database */
	STORE_ERR_FOREIGN = -3, /* not a logtriage database (printed) */
};

struct store;

/*
 * What identifies an input and what was learnt reading it. An input is
 * known by its content, not its name: the hash of its first bytes. So a
 * log renamed by rotation (app.log -> app.log.1 -> app.log.2.gz), or the
 * same export piped twice, is the same source, read on from where the
 * last run stopped.
 */
struct store_source {
	const char *name;       /* as given on the command line, or NAME */
	uint64_t head_hash;     /* FNV-1a 64 of the first head_len bytes */
	size_t head_len;        /* up to 4096; less for a short input */
	const char *generation; /* NULL, or a tag making a truncated and
				   rewritten input a new source */
	int64_t dev, ino, size; /* -1 when not a regular file */
	bool compressed;
	int64_t analyzed_at;    /* epoch ms */
	/* where reading stopped, and what this run read */
	uint64_t bytes;         /* content offset reached (resume point) */
	uint64_t lines;         /* lines before it */
	int64_t resume_ts;      /* the last time read; records without */
	bool has_resume_ts;     /* one at the resume point take it */
	const void *rules_state; /* borrowed: rules_state_save() at the
				    resume point; NULL keeps the stored one */
	size_t rules_state_len;
	uint64_t records, cut_lines, capped_records;
	uint64_t ts_parsed, ts_inferred, ts_missing;
};

/* A stored source, as store_source_each() hands it out. */
struct store_source_row {
	int64_t id;
	size_t head_len;
	uint64_t head_hash;
	uint64_t bytes_read, lines_read;
	int64_t resume_ts;      /* valid when has_resume_ts */
	bool has_resume_ts;
	int64_t size;           /* file size at the last run, or -1 */
	bool compressed;
	const char *name;       /* valid during the callback only */
};

/* Called per candidate source; return non-zero to stop. */
typedef int (*store_source_fn)(void *arg, const struct store_source_row *r);

struct store_event {
	const char *rule_id;
	const char *severity;
	int64_t ts;
	bool has_ts;
	bool ts_inferred;
	int64_t source_id;
	uint64_t line_no;
	uint64_t offset;
	const char *level;      /* "" when none */
	const char *message;    /* redacted, NUL-terminated, valid UTF-8 */
	size_t message_len;
	const char *fields;     /* a JSON object, redacted */
	unsigned tally;         /* counts the row, when new, under this
				   number: store_new_events() */
};

/*
 * Open (creating when missing) the database at path and bring its schema
 * up to date. Refuse, without writing, a file that is not a logtriage
 * database. Return 0 with *out set, or a store_err (printed).
 */
int store_open(struct store **out, const char *path);
/* The same, for commands that read: a missing database is an error. */
int store_open_existing(struct store **out, const char *path);
/* Close; NULL is fine. An open transaction is rolled back. */
void store_close(struct store *st);

/* The 16-byte redaction key kept in the database (made on creation). */
void store_redact_key(const struct store *st, unsigned char key[16]);

/*
 * BEGIN IMMEDIATE, COMMIT, ROLLBACK. Return 0 or a store_err. ROLLBACK
 * takes the rows still queued for the writer thread with the rest, and
 * ends a failure of that thread (later rows are written again).
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/*
 * Turn the foreign key checks off or on again (on from store_open()),
 * outside a transaction (SQLite ignores the pragma inside one), for a
 * bulk write whose references hold by construction. Return 0 or a
 * store_err.
 */
int store_foreign_keys(struct store *st, bool on);
/*
 * COMMIT, then BEGIN IMMEDIATE the next transaction: the batches of a
 * long run. With the writer thread (store_writer_start()) both are
 * queued like a row, so the caller goes on meanwhile; their error comes
 * back from a later call. Return 0 or a store_err.
 */
int store_commit_begin(struct store *st);

/*
 * Hand fn every stored source whose head_len is at most max_head_len,
 * longest head first: the caller hashes its own first head_len bytes to
 * find which one it is. Return 0 or a store_err.
 */
int store_source_each(struct store *st, size_t max_head_len,
		      store_source_fn fn, void *arg);
/* Add a source; *id gets its row id. Return 0 or a store_err. */
int store_source_add(struct store *st, const struct store_source *src,
		     int64_t *id);
/*
 * After a run over it: set its identity, file facts and resume point,
 * and add the run's counts. Return 0 or a store_err.
 */
int store_source_update(struct store *st, int64_t id,
			const struct store_source *src);
/*
 * Move the resume point (in the transaction of the events before it):
 * src's bytes, lines, resume_ts and rules_state (NULL: none), the rest
 * of it unused.
 */
int store_source_progress(struct store *st, int64_t id,
			  const struct store_source *src);
/*
 * The rules' state kept at a source's resume point into out (empty when
 * there is none). Return 0 or a store_err.
 */
struct buf;
int store_source_rules_state(struct store *st, int64_t id, struct buf *out);
/* Add records of one format to the source's counts. */
int store_source_format(struct store *st, int64_t id, const char *format,
			uint64_t records);

/*
 * Write events and metric samples on a thread of their own (writer.h)
 * from now on, until store_close(): store_put_event() and
 * store_put_metric() then copy the row into a queue and return, and
 * every other store function first waits until the rows queued before
 * it are written, so that the order of all writes stays the caller's.
 * When no thread can run, or LOGTRIAGE_THREADS=1 is set in the
 * environment, rows are written at once, as without it.
 */
void store_writer_start(struct store *st);

/*
 * Start copying the WAL into the database now, on the checkpoint thread
 * of store_writer_start(), and return: the events of a run are copied
 * and synced while its incidents are detected, not all when the store
 * closes. Nothing without that thread, or when the WAL holds less than
 * 4 MiB not yet handed to it (one more fsync would cost more than it
 * saves). Call it once the run's rows are committed.
 */
void store_checkpoint_soon(struct store *st);

/*
 * Insert an event unless the same (source, line, rule) is stored; a new
 * row counts under ev->tally. The strings are copied (or written before
 * the return). Return 0 or a store_err; with the writer thread, the
 * error of a queued row is returned by a later call (printed once, when
 * it happens), and nothing queued after it is written.
 */
int store_put_event(struct store *st, const struct store_event *ev);
/*
 * Insert a metric sample unless (source, line, name) is stored; queued
 * like an event.
 */
int store_put_metric(struct store *st, int64_t source_id, uint64_t line_no,
		     int64_t ts, bool has_ts, const char *name, double value,
		     const char *unit);
/*
 * New events stored under tally since store_open(): the rows that
 * store_put_event() inserted, not those already there. Waits for the
 * writer thread.
 */
uint64_t store_new_events(struct store *st, unsigned tally);

/*
 * The SQLite handle, for modules that read or write their own tables
 * (incidents, reports). Valid until store_close(); do not close it, and
 * do not leave a transaction open across calls into store.c. Waits for
 * the writer thread; do not queue rows while using it.
 */
struct sqlite3;
struct sqlite3 *store_db(struct store *st);

/*
 * Unknown-error templates (templates.h): load the most recent ones into
 * a miner, and add a miner's counts (per day) to the tables. *id gets
 * the row of a new template. Return 0 or a store_err.
 */
struct templates;
struct template_info;
int store_templates_load(struct store *st, struct templates *t);
int store_template_put(struct store *st, const struct template_info *ti,
		       int64_t *id);

/* The path given to store_open. */
const char *store_path(const struct store *st);

#endif

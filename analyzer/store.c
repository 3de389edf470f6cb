/*
 * store.c - pipeline stage 5: create, check and write the SQLite database
 * through prepared statements in explicit transactions.
 */
#include "common.h"
#include "store.h"
#include "buf.h"
#include "diag.h"
#include "templates.h"
#include "timefmt.h"
#include "writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The thread's name, as top -H and ps -L show it. */
#define CHECKPOINT_THREAD "lt-checkpoint"

/* How long a run waits for another one holding the database. */
#define STORE_BUSY_MS 10000
/*
 * Rows per INSERT on the writer thread: one statement for 16 events
 * costs SQLite a third less per row than 16 statements.
 */
#define STORE_GROUP 16

#define INSERT_EVENTS "INSERT OR IGNORE INTO events(rule_id, severity, ts, " \
	"ts_inferred, source_id, line_no, byte_offset, level, message, " \
	"fields) VALUES"
#define INSERT_METRICS "INSERT OR IGNORE INTO metrics(ts, name, value, " \
	"unit, source_id, line_no) VALUES"

/*
 * WAL frames (pages) added since the checkpoint thread was last woken
 * after which a commit wakes it to copy them into the database (SQLite's
 * own default interval), and WAL frames after which the committing
 * thread copies what is left itself, so that the WAL starts over (32 MiB
 * of 16 KiB pages: half a batch of events more than SQLite lets it grow
 * to, as fast as 4096 pages on the event-heavy benchmark input).
 */
#define CHECKPOINT_FRAMES 1000
#define CHECKPOINT_RESTART_FRAMES 2048
/* WAL pages worth copying before a run's incidents are detected (4 MiB). */
#define CHECKPOINT_SOON_FRAMES 256

/* A metric sample, as store_put_metric() takes it. */
struct metric_row {
	int64_t source_id;
	uint64_t line_no;
	int64_t ts;
	bool has_ts;
	const char *name;
	double value;
	const char *unit;
};

struct checkpointer;

struct store {
	sqlite3 *db;
	char *path;             /* owned */
	unsigned char key[16];  /* redaction key */
	bool in_tx;
	bool wal;               /* in WAL mode (set_wal()) */
	sqlite3_stmt *ins_event;
	sqlite3_stmt *ins_metric;
	sqlite3_stmt *each_source;
	sqlite3_stmt *ins_source;
	sqlite3_stmt *upd_source;
	sqlite3_stmt *progress_source;
	sqlite3_stmt *source_state;     /* a source's rules_state */
	sqlite3_stmt *add_format;
	sqlite3_stmt *ins_template;
	sqlite3_stmt *upd_template;
	sqlite3_stmt *add_template_day;
	struct writer *w;       /* owned; NULL: rows are written at once */
	struct checkpointer *ck; /* owned; NULL: SQLite checkpoints */
	uint64_t *tally;        /* owned: new events per tally number */
	size_t ntally;
	/* the writer thread's */
	sqlite3_stmt *ins_events;       /* STORE_GROUP rows */
	sqlite3_stmt *ins_metrics;
	sqlite3_stmt *rows_after;       /* the events after an id */
	struct store_event group_ev[STORE_GROUP];  /* waiting for a group; */
	struct metric_row group_m[STORE_GROUP];    /* borrowed from a chunk */
	size_t ngroup_ev, ngroup_m;
};

static void checkpointer_stop(struct store *st);

/*
 * Version 1 of the public schema; docs/schema.md explains every column.
 * Later versions add migrations below it, never edits to it.
 */
static const char schema_v1[] =
	"CREATE TABLE meta(\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE sources(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  identity TEXT NOT NULL UNIQUE,\n"
	"  head_len INTEGER NOT NULL,\n"
	"  head_hash TEXT NOT NULL,\n"
	"  dev INTEGER, ino INTEGER, size INTEGER,\n"
	"  compressed INTEGER NOT NULL DEFAULT 0,\n"
	"  bytes_read INTEGER NOT NULL DEFAULT 0,\n"
	"  lines_read INTEGER NOT NULL DEFAULT 0,\n"
	"  records INTEGER NOT NULL DEFAULT 0,\n"
	"  ts_parsed INTEGER NOT NULL DEFAULT 0,\n"
	"  ts_inferred INTEGER NOT NULL DEFAULT 0,\n"
	"  ts_missing INTEGER NOT NULL DEFAULT 0,\n"
	"  cut_lines INTEGER NOT NULL DEFAULT 0,\n"
	"  capped_records INTEGER NOT NULL DEFAULT 0,\n"
	"  runs INTEGER NOT NULL DEFAULT 0,\n"
	"  first_analyzed INTEGER NOT NULL,\n"
	"  last_analyzed INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE source_formats(\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),\n"
	"  format TEXT NOT NULL,\n"
	"  records INTEGER NOT NULL,\n"
	"  PRIMARY KEY (source_id, format)\n"
	");\n"
	"CREATE TABLE events(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  rule_id TEXT NOT NULL,\n"
	"  severity TEXT NOT NULL\n"
	"    CHECK (severity IN ('critical','error','warning','info')),\n"
	"  ts INTEGER,\n"
	"  ts_inferred INTEGER NOT NULL DEFAULT 0,\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),\n"
	"  line_no INTEGER NOT NULL,\n"
	"  byte_offset INTEGER NOT NULL,\n"
	"  level TEXT NOT NULL DEFAULT '',\n"
	"  message TEXT NOT NULL,\n"
	"  fields TEXT NOT NULL DEFAULT '{}',\n"
	"  UNIQUE (source_id, line_no, rule_id)\n"
	");\n"
	"CREATE INDEX events_rule_ts ON events(rule_id, ts);\n"
	"CREATE INDEX events_ts ON events(ts);\n"
	"CREATE TABLE metrics(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ts INTEGER,\n"
	"  name TEXT NOT NULL,\n"
	"  value REAL NOT NULL,\n"
	"  unit TEXT NOT NULL DEFAULT '',\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),\n"
	"  line_no INTEGER NOT NULL,\n"
	"  UNIQUE (source_id, line_no, name)\n"
	");\n"
	"CREATE INDEX metrics_name_ts ON metrics(name, ts);\n"
	"CREATE TABLE templates(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  template TEXT NOT NULL,\n"
	"  count INTEGER NOT NULL DEFAULT 0,\n"
	"  first_ts INTEGER,\n"
	"  last_ts INTEGER,\n"
	"  example TEXT NOT NULL,\n"
	"  example_source TEXT NOT NULL,\n"
	"  example_line INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE template_days(\n"
	"  template_id INTEGER NOT NULL REFERENCES templates(id)\n"
	"    ON DELETE CASCADE,\n"
	"  day TEXT NOT NULL,\n"
	"  count INTEGER NOT NULL,\n"
	"  PRIMARY KEY (template_id, day)\n"
	");\n"
	"CREATE TABLE incidents(\n"
	"  id TEXT PRIMARY KEY,\n"
	"  start_ts INTEGER,\n"
	"  end_ts INTEGER,\n"
	"  severity TEXT NOT NULL,\n"
	"  root_rule TEXT,\n"
	"  title TEXT NOT NULL,\n"
	"  details TEXT NOT NULL DEFAULT '{}'\n"
	");\n"
	"CREATE TABLE incident_events(\n"
	"  incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,\n"
	"  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (incident_id, event_id)\n"
	");\n"
	"CREATE VIEW v_timeline AS\n"
	"  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', e.ts / 1000.0, 'unixepoch')\n"
	"           AS time,\n"
	"         e.ts, e.ts_inferred, e.severity, e.rule_id, s.name AS source,\n"
	"         e.line_no, e.level, e.message, e.fields, e.id AS event_id\n"
	"  FROM events e JOIN sources s ON s.id = e.source_id\n"
	"  ORDER BY e.ts IS NULL, e.ts, e.id;\n"
	"CREATE VIEW v_rule_counts_daily AS\n"
	"  SELECT date(ts / 1000, 'unixepoch') AS day, rule_id, severity,\n"
	"         count(*) AS events, min(ts) AS first_ts, max(ts) AS last_ts\n"
	"  FROM events WHERE ts IS NOT NULL\n"
	"  GROUP BY day, rule_id, severity ORDER BY day, rule_id;\n"
	"CREATE VIEW v_incidents AS\n"
	"  SELECT i.id,\n"
	"         strftime('%Y-%m-%dT%H:%M:%SZ', i.start_ts / 1000, 'unixepoch')\n"
	"           AS start,\n"
	"         strftime('%Y-%m-%dT%H:%M:%SZ', i.end_ts / 1000, 'unixepoch')\n"
	"           AS end,\n"
	"         (i.end_ts - i.start_ts) / 1000 AS duration_s, i.severity,\n"
	"         i.root_rule, i.title,\n"
	"         (SELECT count(*) FROM incident_events x\n"
	"          WHERE x.incident_id = i.id) AS events\n"
	"  FROM incidents i ORDER BY i.start_ts, i.id;\n";

/*
 * The migrations: migrations[i] takes a database from version i + 1 to
 * version i + 2. A new database gets the version 1 text, then each of
 * them. They run in one transaction (migrate()), with foreign keys off,
 * so that replacing a table does not cascade into the tables that refer
 * to it, and legacy_alter_table on, so that renaming the old table
 * leaves the views and the references to it naming the new one.
 */
static const char *const migrations[] = {
	/*
	 * 2: the severity check of events written as comparisons: SQLite
	 * (3.40) evaluates an IN list of more than two values by building
	 * a temporary table, for every row inserted: 40% of the time it
	 * took to store an event. And the references of events and
	 * metrics to sources checked at commit: an INSERT of several rows
	 * that may fail half way needs a statement journal, written to a
	 * temporary file past 64 KiB (49,000 writes for 25,000 events).
	 * Constraints change only with their table: the rows are copied,
	 * ids and all.
	 */
	"ALTER TABLE events RENAME TO events_v1;\n"
	"CREATE TABLE events(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  rule_id TEXT NOT NULL,\n"
	"  severity TEXT NOT NULL\n"
	"    CHECK (severity = 'critical' OR severity = 'error' OR\n"
	"           severity = 'warning' OR severity = 'info'),\n"
	"  ts INTEGER,\n"
	"  ts_inferred INTEGER NOT NULL DEFAULT 0,\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id)\n"
	"    DEFERRABLE INITIALLY DEFERRED,\n"
	"  line_no INTEGER NOT NULL,\n"
	"  byte_offset INTEGER NOT NULL,\n"
	"  level TEXT NOT NULL DEFAULT '',\n"
	"  message TEXT NOT NULL,\n"
	"  fields TEXT NOT NULL DEFAULT '{}',\n"
	"  UNIQUE (source_id, line_no, rule_id)\n"
	");\n"
	"INSERT INTO events(id, rule_id, severity, ts, ts_inferred,\n"
	"    source_id, line_no, byte_offset, level, message, fields)\n"
	"  SELECT id, rule_id, severity, ts, ts_inferred, source_id, line_no,\n"
	"    byte_offset, level, message, fields FROM events_v1 ORDER BY id;\n"
	"DROP TABLE events_v1;\n"
	"CREATE INDEX events_rule_ts ON events(rule_id, ts);\n"
	"CREATE INDEX events_ts ON events(ts);\n"
	"ALTER TABLE metrics RENAME TO metrics_v1;\n"
	"CREATE TABLE metrics(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ts INTEGER,\n"
	"  name TEXT NOT NULL,\n"
	"  value REAL NOT NULL,\n"
	"  unit TEXT NOT NULL DEFAULT '',\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id)\n"
	"    DEFERRABLE INITIALLY DEFERRED,\n"
	"  line_no INTEGER NOT NULL,\n"
	"  UNIQUE (source_id, line_no, name)\n"
	");\n"
	"INSERT INTO metrics(id, ts, name, value, unit, source_id, line_no)\n"
	"  SELECT id, ts, name, value, unit, source_id, line_no\n"
	"  FROM metrics_v1 ORDER BY id;\n"
	"DROP TABLE metrics_v1;\n"
	"CREATE INDEX metrics_name_ts ON metrics(name, ts);\n",
	/*
	 * 3: an index of incident_events by event. Deleting an event
	 * (prune) cascades to its links, and without it SQLite scanned the
	 * whole table for each event deleted: a prune of 350,000 of a
	 * million events was stopped after 10 minutes, and takes 7.6 s with
	 * it. It also answers "which incident holds this event".
	 */
	"CREATE INDEX incident_events_event ON incident_events(event_id);\n",
	/*
	 * 4: the time a source's records had at its resume point. A record
	 * without a time of its own takes the last one before it; a run
	 * that goes on from the resume point starts with it, so that it
	 * stores what one run over the whole input stores (before, such
	 * records at the start of the new lines had none).
	 */
	"ALTER TABLE sources ADD COLUMN resume_ts INTEGER;\n",
	/*
	 * 5: what the rules' count windows and sequences held at a source's
	 * resume point. They start empty in every run, so a burst cut by
	 * the resume point (a run stopped by Ctrl-C, a file that grew
	 * since) fired at other lines, or not at all, in the run that went
	 * on.
	 */
	"ALTER TABLE sources ADD COLUMN rules_state BLOB;\n",
};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION - 1,
	       "one migration per version after 1");

static int sql_error(struct store *st, const char *what)
{
	int code = sqlite3_errcode(st->db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return error("%s: %s: database is busy: another logtriage run "
			     "holds it (waited %d s)", st->path, what,
			     STORE_BUSY_MS / 1000), STORE_ERR_BUSY;
	error("%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return STORE_ERR;
}

static int exec(struct store *st, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc;

		sqlite3_free(msg);
		rc = sql_error(st, what);
		return rc;
	}
	return 0;
}

/* An integer from a one-row PRAGMA or query; -1 on error. */
static int64_t query_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * Before SQLite touches it, make sure an existing non-empty file starts
 * with SQLite's header: any other file is refused, never overwritten.
 */
static int check_header(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat sb;
	ssize_t n;
	int fd;

	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 0 :
		       error("%s: cannot stat database: %s", path,
			     strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return error("%s: database path is a directory", path),
		       STORE_ERR_FOREIGN;
	if (sb.st_size == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error("%s: cannot open database: %s", path,
			     strerror(errno));
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n != (ssize_t)sizeof(head) || memcmp(head, magic, 16) != 0)
		return error("%s: not an SQLite database; refusing to "
			     "overwrite it", path), STORE_ERR_FOREIGN;
	return 0;
}

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_decode(const char *s, unsigned char *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

static int create_schema(struct store *st)
{
	char hex[33];
	char sql[512];
	int rc;

	if (getrandom(st->key, sizeof(st->key), 0) != (ssize_t)sizeof(st->key))
		return error("cannot get random bytes for the redaction key: %s",
			     strerror(errno));
	hex_encode(st->key, sizeof(st->key), hex);
	rc = exec(st, "BEGIN IMMEDIATE", "cannot create schema");
	if (rc < 0)
		return rc;
	if (query_int(st, "PRAGMA user_version") != 0) {
		/* Another run created it while we waited. */
		return exec(st, "COMMIT", "cannot create schema");
	}
	rc = exec(st, schema_v1, "cannot create schema");
	if (rc < 0)
		goto fail;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO meta(key, value) VALUES ('redact_key', '%s'),"
		 " ('created_by', 'logtriage " LOGTRIAGE_VERSION "');"
		 "PRAGMA application_id = %d; PRAGMA user_version = 1;",
		 hex, STORE_APPLICATION_ID);
	rc = exec(st, sql, "cannot create schema");
	if (rc < 0)
		goto fail;
	return exec(st, "COMMIT", "cannot create schema");
fail:
	exec(st, "ROLLBACK", "rollback");
	return rc;
}

/*
 * The indexes and triggers a user made on events and metrics, as the SQL
 * that makes them again ("" when none; NULL on error). Migration 2
 * replaces both tables, and dropping the old ones drops what was made
 * on them; they are made again after the rows are copied, so that a
 * trigger does not fire on the copy.
 */
static char *user_objects(struct store *st)
{
	sqlite3_stmt *s;
	char *out = NULL;

	if (sqlite3_prepare_v2(st->db,
		"SELECT coalesce(group_concat(sql, ';' || char(10)) || ';', '') "
		"FROM sqlite_schema WHERE type IN ('index', 'trigger') AND "
		"tbl_name IN ('events', 'metrics') AND sql IS NOT NULL AND "
		"name NOT IN ('events_rule_ts', 'events_ts', 'metrics_name_ts')",
		-1, &s, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		out = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

/*
 * Bring a database of an earlier version up to STORE_SCHEMA_VERSION, in
 * one transaction: a failed or interrupted migration leaves it as it
 * was, and a run that waited while another one migrated finds nothing
 * left to do. Return 0 or a store_err.
 */
static int migrate(struct store *st)
{
	char sql[64];
	int64_t v;
	int rc;

	rc = exec(st, "PRAGMA foreign_keys = OFF; "
		  "PRAGMA legacy_alter_table = ON", "cannot upgrade schema");
	if (rc == 0)
		rc = exec(st, "BEGIN IMMEDIATE", "cannot upgrade schema");
	if (rc < 0)
		goto out;
	/* Read again: another run may have migrated it while we waited. */
	v = query_int(st, "PRAGMA user_version");
	if (v < 1)
		rc = sql_error(st, "cannot upgrade schema");
	for (; rc == 0 && v < STORE_SCHEMA_VERSION; v++) {
		char *kept = NULL;

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 (int)v + 1);
		if (v == 1 && (kept = user_objects(st)) == NULL)
			rc = sql_error(st, "cannot upgrade schema");
		if (rc == 0)
			rc = exec(st, migrations[v - 1],
				  "cannot upgrade schema");
		if (rc == 0 && kept != NULL && kept[0] != '\0')
			rc = exec(st, kept, "cannot upgrade schema");
		if (rc == 0)
			rc = exec(st, sql, "cannot upgrade schema");
		free(kept);
	}
	if (rc == 0)
		rc = exec(st, "COMMIT", "cannot upgrade schema");
	if (rc < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	/* Back to how every run works, also after a failure. */
	if (sqlite3_exec(st->db, "PRAGMA legacy_alter_table = OFF; "
			 "PRAGMA foreign_keys = ON", NULL, NULL,
			 NULL) != SQLITE_OK && rc == 0)
		rc = sql_error(st, "cannot set up database");
	return rc;
}

static int load_key(struct store *st)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = "
			       "'redact_key'", -1, &s, NULL) != SQLITE_OK)
		return sql_error(st, "cannot read meta");
	if (sqlite3_step(s) == SQLITE_ROW &&
	    hex_decode((const char *)sqlite3_column_text(s, 0), st->key,
		       sizeof(st->key)) == 0)
		rc = 0;
	sqlite3_finalize(s);
	if (rc < 0)
		return error("%s: database has no valid redaction key in "
			     "'meta'", st->path);
	return 0;
}

/*
 * Switch to WAL (readers never block the writer). Changing the journal
 * mode needs the database to itself and SQLite does not wait for that,
 * so while another run is starting up, retry for the busy timeout.
 */
static int set_wal(struct store *st)
{
	const struct timespec pause = { 0, 50 * 1000 * 1000 };
	int waited = 0;

	for (;;) {
		sqlite3_stmt *s;
		int rc;

		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1,
				       &s, NULL) != SQLITE_OK)
			return sql_error(st, "cannot set up database");
		rc = sqlite3_step(s);
		/* Not WAL on a medium that cannot have it: keep its mode. */
		if (rc == SQLITE_ROW)
			st->wal = sqlite3_stricmp((const char *)
				sqlite3_column_text(s, 0), "wal") == 0;
		sqlite3_finalize(s);
		if (rc == SQLITE_ROW)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || waited >= STORE_BUSY_MS)
			return sql_error(st, "cannot set up database");
		nanosleep(&pause, NULL);
		waited += 50;
	}
}

static int read_header(struct store *st, int64_t *appid, int64_t *version,
		       int64_t *tables)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT (SELECT application_id FROM "
			       "pragma_application_id), (SELECT user_version "
			       "FROM pragma_user_version), (SELECT count(*) "
			       "FROM sqlite_schema)", -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*appid = sqlite3_column_int64(s, 0);
		*version = sqlite3_column_int64(s, 1);
		*tables = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int prepare(struct store *st, sqlite3_stmt **s, const char *sql)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
			       NULL) != SQLITE_OK)
		return sql_error(st, "cannot prepare statement");
	return 0;
}

/*
 * SQLite could not write beside the database: say so when its directory
 * is not writable (it keeps the -wal and -shm files there). Return
 * whether that was said.
 */
static bool directory_refused(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") :
		    xmemdup(path, slash == path ? 1 : (size_t)(slash - path));
	bool refused = access(dir, W_OK) < 0;

	if (refused)
		error("%s: cannot write to the database's directory '%s': %s "
		      "(SQLite keeps %s-wal and %s-shm beside it)", path, dir,
		      strerror(errno), path, path);
	free(dir);
	return refused;
}

int store_open(struct store **out, const char *path)
{
	struct store *st;
	int64_t appid, version, tables;
	int rc;

	*out = NULL;
	rc = check_header(path);
	if (rc < 0)
		return rc == -1 ? STORE_ERR : rc;
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	/*
	 * No mutex: one thread at a time uses the connection, the writer
	 * thread's turns ordered by writer_sync() (store_writer_start()).
	 */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
			    SQLITE_OPEN_EXRESCODE, NULL) != SQLITE_OK) {
		rc = st->db ? sql_error(st, "cannot open database") :
		     error("%s: cannot open database", path);
		store_close(st);
		return rc < -1 ? rc : STORE_ERR;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* One statement: one snapshot, even while another run creates it. */
	if (read_header(st, &appid, &version, &tables) < 0) {
		if (((sqlite3_errcode(st->db) & 0xff) == SQLITE_READONLY ||
		     (sqlite3_errcode(st->db) & 0xff) == SQLITE_CANTOPEN) &&
		    directory_refused(path)) {
			store_close(st);
			return STORE_ERR;
		}
		rc = error("%s: cannot read database: %s", path,
			   sqlite3_errmsg(st->db));
		if (sqlite3_errcode(st->db) == SQLITE_NOTADB ||
		    sqlite3_errcode(st->db) == SQLITE_CORRUPT)
			rc = STORE_ERR_FOREIGN;
		else if (sqlite3_errcode(st->db) == SQLITE_BUSY)
			rc = STORE_ERR_BUSY;
		store_close(st);
		return rc == -1 ? STORE_ERR : rc;
	}
	if (appid != STORE_APPLICATION_ID && (tables > 0 || version > 0)) {
		error("%s: not a logtriage database (application_id %" PRId64
		      "); refusing to write to it", path, appid);
		store_close(st);
		return STORE_ERR_FOREIGN;
	}
	if (version > STORE_SCHEMA_VERSION) {
		error("%s: database schema version %" PRId64 " is newer than "
		      "this logtriage (%d)", path, version,
		      STORE_SCHEMA_VERSION);
		store_close(st);
		return STORE_ERR_FOREIGN;
	}
	/*
	 * A new database gets 16 KiB pages (SQLite's default is 4 KiB): a
	 * quarter of the page writes, reads and splits while events are
	 * stored, which took the event-heavy benchmark input from 2.50 s
	 * to 2.23 s (medians of four alternating runs) and its system
	 * time from 0.60 s to 0.39 s. Only possible before the first
	 * table: an existing database keeps its size. The page cache is
	 * set again after it: SQLite sized it in pages of the default size
	 * (2 MB worth of 4 KiB pages made 8 MB of 16 KiB ones: 8.07 MB in
	 * use at the end of the event-heavy run without this, 2.08 MB
	 * with it, by sqlite3_db_status()).
	 */
	if (tables == 0 && version == 0 &&
	    (rc = exec(st, "PRAGMA page_size = 16384",
		       "cannot set up database")) < 0)
		goto fail;
	if ((rc = set_wal(st)) < 0 ||
	    (rc = exec(st, "PRAGMA synchronous = NORMAL; "
		       "PRAGMA foreign_keys = ON; PRAGMA cache_size = -2000",
		       "cannot set up database")) < 0)
		goto fail;
	if (version == 0 && (rc = create_schema(st)) < 0)
		goto fail;
	if (version < STORE_SCHEMA_VERSION && (rc = migrate(st)) < 0)
		goto fail;
	if ((rc = load_key(st)) < 0)
		goto fail;
	if ((rc = prepare(st, &st->ins_event, INSERT_EVENTS
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")) < 0 ||
	    (rc = prepare(st, &st->ins_metric, INSERT_METRICS
		" (?1, ?2, ?3, ?4, ?5, ?6)")) < 0 ||
	    (rc = prepare(st, &st->each_source,
		"SELECT id, head_len, head_hash, bytes_read, lines_read, size, "
		"compressed, name, resume_ts FROM sources WHERE head_len <= ?1 "
		"ORDER BY head_len DESC, id DESC")) < 0 ||
	    (rc = prepare(st, &st->ins_source,
		"INSERT INTO sources(name, identity, head_len, head_hash, dev, "
		"ino, size, compressed, first_analyzed, last_analyzed) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)")) < 0 ||
	    (rc = prepare(st, &st->upd_source,
		"UPDATE sources SET name = ?2, identity = ?3, head_len = ?4, "
		"head_hash = ?5, dev = ?6, ino = ?7, size = ?8, compressed = ?9, "
		"bytes_read = ?10, lines_read = ?11, records = records + ?12, "
		"ts_parsed = ts_parsed + ?13, ts_inferred = ts_inferred + ?14, "
		"ts_missing = ts_missing + ?15, cut_lines = cut_lines + ?16, "
		"capped_records = capped_records + ?17, runs = runs + 1, "
		"last_analyzed = ?18, resume_ts = ?19, "
		"rules_state = coalesce(?20, rules_state) WHERE id = ?1")) < 0 ||
	    (rc = prepare(st, &st->progress_source,
		"UPDATE sources SET bytes_read = ?2, lines_read = ?3, "
		"resume_ts = ?4, rules_state = ?5 WHERE id = ?1")) < 0 ||
	    (rc = prepare(st, &st->source_state,
		"SELECT rules_state FROM sources WHERE id = ?1")) < 0 ||
	    (rc = prepare(st, &st->add_format,
		"INSERT INTO source_formats(source_id, format, records) "
		"VALUES (?1, ?2, ?3) ON CONFLICT (source_id, format) "
		"DO UPDATE SET records = records + excluded.records")) < 0 ||
	    (rc = prepare(st, &st->ins_template,
		"INSERT INTO templates(template, count, first_ts, last_ts, "
		"example, example_source, example_line) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) < 0 ||
	    (rc = prepare(st, &st->upd_template,
		"UPDATE templates SET template = ?2, count = count + ?3, "
		"first_ts = CASE WHEN ?4 IS NULL THEN first_ts "
		"WHEN first_ts IS NULL OR ?4 < first_ts THEN ?4 "
		"ELSE first_ts END, "
		"last_ts = CASE WHEN ?5 IS NULL THEN last_ts "
		"WHEN last_ts IS NULL OR ?5 > last_ts THEN ?5 "
		"ELSE last_ts END WHERE id = ?1")) < 0 ||
	    (rc = prepare(st, &st->add_template_day,
		"INSERT INTO template_days(template_id, day, count) "
		"VALUES (?1, ?2, ?3) ON CONFLICT (template_id, day) "
		"DO UPDATE SET count = count + excluded.count")) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc < -1 ? rc : STORE_ERR;
}

int store_open_existing(struct store **out, const char *path)
{
	struct stat sb;

	*out = NULL;
	if (stat(path, &sb) < 0) {
		if (errno == ENOENT)
			return error("%s: no such database; run 'logtriage "
				     "analyze --db %s FILE...' first", path,
				     path), STORE_ERR;
		return error("%s: cannot stat database: %s", path,
			     strerror(errno)), STORE_ERR;
	}
	return store_open(out, path);
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	writer_stop(st->w);
	checkpointer_stop(st);
	free(st->tally);
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(st->ins_event);
	sqlite3_finalize(st->ins_metric);
	sqlite3_finalize(st->ins_events);
	sqlite3_finalize(st->ins_metrics);
	sqlite3_finalize(st->rows_after);
	sqlite3_finalize(st->each_source);
	sqlite3_finalize(st->ins_source);
	sqlite3_finalize(st->upd_source);
	sqlite3_finalize(st->progress_source);
	sqlite3_finalize(st->source_state);
	sqlite3_finalize(st->add_format);
	sqlite3_finalize(st->ins_template);
	sqlite3_finalize(st->upd_template);
	sqlite3_finalize(st->add_template_day);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/*
 * Wait until the rows queued for the writer thread are written: every
 * store function but the two that queue rows starts here. Return 0 or
 * the error of a queued row (printed when it happened).
 */
static int sync_writer(struct store *st)
{
	return st->w ? writer_sync(st->w) : 0;
}

sqlite3 *store_db(struct store *st)
{
	sync_writer(st);
	return st->db;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

void store_redact_key(const struct store *st, unsigned char key[16])
{
	memcpy(key, st->key, sizeof(st->key));
}

int store_begin(struct store *st)
{
	int rc = sync_writer(st);

	if (rc == 0)
		rc = exec(st, "BEGIN IMMEDIATE", "cannot begin transaction");
	if (rc == 0)
		st->in_tx = true;
	return rc;
}

int store_commit(struct store *st)
{
	int rc = sync_writer(st);

	if (rc == 0)
		rc = exec(st, "COMMIT", "cannot commit");
	if (rc == 0)
		st->in_tx = false;
	return rc;
}

int store_foreign_keys(struct store *st, bool on)
{
	return exec(st, on ? "PRAGMA foreign_keys = ON" :
		    "PRAGMA foreign_keys = OFF", "cannot set foreign keys");
}

void store_rollback(struct store *st)
{
	/* The queued rows go with the rest; a writer error is over. */
	if (st->w)
		writer_clear_error(st->w);
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
}

/* Step a write statement to completion and reset it. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sql_error(st, what);
	return 0;
}

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

int store_source_each(struct store *st, size_t max_head_len,
		      store_source_fn fn, void *arg)
{
	sqlite3_stmt *s = st->each_source;
	struct store_source_row row;
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)max_head_len);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *hash = (const char *)sqlite3_column_text(s, 2);

		row.id = sqlite3_column_int64(s, 0);
		row.head_len = (size_t)sqlite3_column_int64(s, 1);
		row.head_hash = hash ? strtoull(hash, NULL, 16) : 0;
		row.bytes_read = (uint64_t)sqlite3_column_int64(s, 3);
		row.lines_read = (uint64_t)sqlite3_column_int64(s, 4);
		row.size = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 :
			   sqlite3_column_int64(s, 5);
		row.compressed = sqlite3_column_int(s, 6) != 0;
		row.name = (const char *)sqlite3_column_text(s, 7);
		row.has_resume_ts = sqlite3_column_type(s, 8) != SQLITE_NULL;
		row.resume_ts = sqlite3_column_int64(s, 8);
		if (fn(arg, &row) != 0)
			break;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_error(st, "cannot read sources");
	return 0;
}

static void identity_text(const struct store_source *src, char *out,
			  size_t size)
{
	snprintf(out, size, "%016" PRIx64 ":%zu%s%s", src->head_hash,
		 src->head_len, src->generation ? ":" : "",
		 src->generation ? src->generation : "");
}

int store_source_add(struct store *st, const struct store_source *src,
		     int64_t *id)
{
	sqlite3_stmt *s = st->ins_source;
	char ident[128], hash[17];
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	identity_text(src, ident, sizeof(ident));
	snprintf(hash, sizeof(hash), "%016" PRIx64, src->head_hash);
	sqlite3_bind_text(s, 1, src->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, ident, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (int64_t)src->head_len);
	sqlite3_bind_text(s, 4, hash, -1, SQLITE_TRANSIENT);
	bind_opt_int(s, 5, src->dev);
	bind_opt_int(s, 6, src->ino);
	bind_opt_int(s, 7, src->size);
	sqlite3_bind_int(s, 8, src->compressed);
	sqlite3_bind_int64(s, 9, src->analyzed_at);
	rc = step_done(st, s, "cannot add source");
	if (rc < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/*
 * Bind src's resume_ts at i and its rules_state at i + 1 (NULL for
 * none); the state stays the caller's until the statement is cleared.
 */
static void bind_resume(sqlite3_stmt *s, int i,
			const struct store_source *src)
{
	if (src->has_resume_ts)
		sqlite3_bind_int64(s, i, src->resume_ts);
	else
		sqlite3_bind_null(s, i);
	if (src->rules_state != NULL)
		sqlite3_bind_blob(s, i + 1, src->rules_state,
				  (int)src->rules_state_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i + 1);
}

int store_source_update(struct store *st, int64_t id,
			const struct store_source *src)
{
	sqlite3_stmt *s = st->upd_source;
	char ident[128], hash[17];
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	identity_text(src, ident, sizeof(ident));
	snprintf(hash, sizeof(hash), "%016" PRIx64, src->head_hash);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, src->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, ident, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, (int64_t)src->head_len);
	sqlite3_bind_text(s, 5, hash, -1, SQLITE_TRANSIENT);
	bind_opt_int(s, 6, src->dev);
	bind_opt_int(s, 7, src->ino);
	bind_opt_int(s, 8, src->size);
	sqlite3_bind_int(s, 9, src->compressed);
	sqlite3_bind_int64(s, 10, (int64_t)src->bytes);
	sqlite3_bind_int64(s, 11, (int64_t)src->lines);
	sqlite3_bind_int64(s, 12, (int64_t)src->records);
	sqlite3_bind_int64(s, 13, (int64_t)src->ts_parsed);
	sqlite3_bind_int64(s, 14, (int64_t)src->ts_inferred);
	sqlite3_bind_int64(s, 15, (int64_t)src->ts_missing);
	sqlite3_bind_int64(s, 16, (int64_t)src->cut_lines);
	sqlite3_bind_int64(s, 17, (int64_t)src->capped_records);
	sqlite3_bind_int64(s, 18, src->analyzed_at);
	bind_resume(s, 19, src);
	rc = step_done(st, s, "cannot update source");
	sqlite3_clear_bindings(s);
	return rc;
}

int store_source_progress(struct store *st, int64_t id,
			  const struct store_source *src)
{
	sqlite3_stmt *s = st->progress_source;
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (int64_t)src->bytes);
	sqlite3_bind_int64(s, 3, (int64_t)src->lines);
	bind_resume(s, 4, src);
	rc = step_done(st, s, "cannot update source");
	sqlite3_clear_bindings(s);
	return rc;
}

int store_source_rules_state(struct store *st, int64_t id, struct buf *out)
{
	sqlite3_stmt *s = st->source_state;
	int rc;

	out->len = 0;
	out->p[0] = '\0';
	if ((rc = sync_writer(st)) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_BLOB)
		buf_add(out, sqlite3_column_blob(s, 0),
			(size_t)sqlite3_column_bytes(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_error(st, "cannot read source");
	return 0;
}

int store_source_format(struct store *st, int64_t id, const char *format,
			uint64_t records)
{
	sqlite3_stmt *s = st->add_format;
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)records);
	return step_done(st, s, "cannot update source formats");
}

int store_templates_load(struct store *st, struct templates *t)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	if (sqlite3_prepare_v2(st->db, "SELECT id, template FROM templates "
			       "ORDER BY last_ts DESC, id DESC LIMIT ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return sql_error(st, "cannot read templates");
	sqlite3_bind_int(s, 1, TEMPLATES_MAX / 2);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		templates_load(t, sqlite3_column_int64(s, 0),
			       (const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sql_error(st, "cannot read templates");
	return 0;
}

static void bind_ts(sqlite3_stmt *s, int i, bool has, int64_t ts)
{
	if (has)
		sqlite3_bind_int64(s, i, ts);
	else
		sqlite3_bind_null(s, i);
}

int store_template_put(struct store *st, const struct template_info *ti,
		       int64_t *id)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	if (ti->db_id == 0) {
		s = st->ins_template;
		sqlite3_bind_text(s, 1, ti->text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)ti->pending);
		bind_ts(s, 3, ti->has_ts, ti->first_ts);
		bind_ts(s, 4, ti->has_ts, ti->last_ts);
		sqlite3_bind_text(s, 5, ti->example, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, ti->example_source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, (int64_t)ti->example_line);
		if ((rc = step_done(st, s, "cannot store template")) < 0)
			return rc;
		*id = sqlite3_last_insert_rowid(st->db);
	} else {
		s = st->upd_template;
		sqlite3_bind_int64(s, 1, ti->db_id);
		sqlite3_bind_text(s, 2, ti->text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (int64_t)ti->pending);
		bind_ts(s, 4, ti->has_ts, ti->first_ts);
		bind_ts(s, 5, ti->has_ts, ti->last_ts);
		if ((rc = step_done(st, s, "cannot store template")) < 0)
			return rc;
		*id = ti->db_id;
	}
	s = st->add_template_day;
	for (i = 0; i < ti->ndays; i++) {
		char day[16];
		int64_t d = ti->days[i];
		char t[40];

		timefmt_format(d * 86400000, t, sizeof(t));
		snprintf(day, sizeof(day), "%.10s", t);
		sqlite3_bind_int64(s, 1, *id);
		sqlite3_bind_text(s, 2, day, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, (int64_t)ti->day_counts[i]);
		if ((rc = step_done(st, s, "cannot store template")) < 0)
			return rc;
	}
	return 0;
}

/*
 * A row queued for the writer thread: the struct, then its strings back
 * to back, each with its NUL (the pointers in the copy are not used).
 */
enum queued_kind { QUEUED_EVENT, QUEUED_METRIC, QUEUED_COMMIT_BEGIN };

struct queued {
	enum queued_kind kind;
	union {
		struct store_event ev;
		struct metric_row m;
	} u;
	size_t len[5];          /* of the strings that follow, in order */
};

/* Bind an event to the 10 parameters after base (strings: STATIC). */
static void bind_event(sqlite3_stmt *s, int base,
		       const struct store_event *ev)
{
	sqlite3_bind_text(s, base + 1, ev->rule_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, base + 2, ev->severity, -1, SQLITE_STATIC);
	if (ev->has_ts)
		sqlite3_bind_int64(s, base + 3, ev->ts);
	else
		sqlite3_bind_null(s, base + 3);
	sqlite3_bind_int(s, base + 4, ev->ts_inferred);
	sqlite3_bind_int64(s, base + 5, ev->source_id);
	sqlite3_bind_int64(s, base + 6, (int64_t)ev->line_no);
	sqlite3_bind_int64(s, base + 7, (int64_t)ev->offset);
	sqlite3_bind_text(s, base + 8, ev->level, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, base + 9, ev->message, (int)ev->message_len,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, base + 10, ev->fields, -1, SQLITE_STATIC);
}

static void bind_metric(sqlite3_stmt *s, int base, const struct metric_row *m)
{
	if (m->has_ts)
		sqlite3_bind_int64(s, base + 1, m->ts);
	else
		sqlite3_bind_null(s, base + 1);
	sqlite3_bind_text(s, base + 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, base + 3, m->value);
	sqlite3_bind_text(s, base + 4, m->unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, base + 5, m->source_id);
	sqlite3_bind_int64(s, base + 6, (int64_t)m->line_no);
}

/*
 * Run a write statement whose parameters are bound (every one, each
 * time: no clearing needed); the bound strings outlive it. Return 0 or a
 * store_err (printed, with what).
 */
static int step_write(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sql_error(st, what);
}

static int event_now(struct store *st, const struct store_event *ev)
{
	int rc;

	bind_event(st->ins_event, 0, ev);
	if ((rc = step_write(st, st->ins_event, "cannot store event")) < 0)
		return rc;
	if (sqlite3_changes(st->db) > 0)
		st->tally[ev->tally]++;
	return 0;
}

static int metric_now(struct store *st, const struct metric_row *m)
{
	bind_metric(st->ins_metric, 0, m);
	return step_write(st, st->ins_metric, "cannot store metric");
}

/*
 * A group of events stored by one INSERT inserted only n of them (the
 * others were there): which. SQLite gives each new row the largest id
 * plus one, so they are the rows after the id of the last one minus n.
 */
static int count_some_new(struct store *st, int n)
{
	sqlite3_stmt *s = st->rows_after;
	size_t i;
	int rc;

	sqlite3_bind_int64(s, 1, sqlite3_last_insert_rowid(st->db) - n);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t src = sqlite3_column_int64(s, 0);
		int64_t line = sqlite3_column_int64(s, 1);
		const char *rule = (const char *)sqlite3_column_text(s, 2);

		for (i = 0; i < STORE_GROUP; i++) {
			const struct store_event *ev = &st->group_ev[i];

			if (ev->source_id == src &&
			    (int64_t)ev->line_no == line && rule &&
			    strcmp(ev->rule_id, rule) == 0) {
				st->tally[ev->tally]++;
				break;
			}
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sql_error(st, "cannot store event");
}

/* Store the events waiting for a group: by one INSERT when it is full. */
static int flush_events(struct store *st)
{
	size_t i, n = st->ngroup_ev;
	int changes, rc = 0;

	st->ngroup_ev = 0;
	if (n < STORE_GROUP) {
		for (i = 0; i < n && rc == 0; i++)
			rc = event_now(st, &st->group_ev[i]);
		return rc;
	}
	for (i = 0; i < n; i++)
		bind_event(st->ins_events, 10 * (int)i, &st->group_ev[i]);
	if ((rc = step_write(st, st->ins_events, "cannot store event")) < 0)
		return rc;
	changes = sqlite3_changes(st->db);
	if (changes == STORE_GROUP) {
		for (i = 0; i < n; i++)
			st->tally[st->group_ev[i].tally]++;
		return 0;
	}
	return changes > 0 ? count_some_new(st, changes) : 0;
}

static int flush_metrics(struct store *st)
{
	size_t i, n = st->ngroup_m;
	int rc = 0;

	st->ngroup_m = 0;
	if (n < STORE_GROUP) {
		for (i = 0; i < n && rc == 0; i++)
			rc = metric_now(st, &st->group_m[i]);
		return rc;
	}
	for (i = 0; i < n; i++)
		bind_metric(st->ins_metrics, 6 * (int)i, &st->group_m[i]);
	return step_write(st, st->ins_metrics, "cannot store metric");
}

static int commit_begin_now(struct store *st)
{
	int rc = exec(st, "COMMIT", "cannot commit");

	if (rc == 0)
		rc = exec(st, "BEGIN IMMEDIATE", "cannot begin transaction");
	return rc;
}

/*
 * The writer thread's side (writer_fn): the rows of a chunk, in groups
 * of STORE_GROUP events or metrics (a table's rows keep their order; a
 * commit takes every row before it).
 */
static int write_chunk(void *arg, const struct writer_chunk *c)
{
	struct store *st = arg;
	struct writer_rec r = { NULL, 0 };
	int rc = 0;

	while (rc == 0 && writer_next(c, &r)) {
		const char *p = (const char *)r.p + sizeof(struct queued);
		const char *str[5];
		struct queued q;
		size_t i;

		memcpy(&q, r.p, sizeof(q));
		for (i = 0; i < ARRAY_SIZE(str); i++) {
			str[i] = p;
			p += q.len[i] + 1;
		}
		if (q.kind == QUEUED_EVENT) {
			q.u.ev.rule_id = str[0];
			q.u.ev.severity = str[1];
			q.u.ev.level = str[2];
			q.u.ev.message = str[3];
			q.u.ev.fields = str[4];
			st->group_ev[st->ngroup_ev++] = q.u.ev;
			if (st->ngroup_ev == STORE_GROUP)
				rc = flush_events(st);
		} else if (q.kind == QUEUED_METRIC) {
			q.u.m.name = str[0];
			q.u.m.unit = str[1];
			st->group_m[st->ngroup_m++] = q.u.m;
			if (st->ngroup_m == STORE_GROUP)
				rc = flush_metrics(st);
		} else {
			if ((rc = flush_events(st)) == 0 &&
			    (rc = flush_metrics(st)) == 0)
				rc = commit_begin_now(st);
		}
	}
	/* The rows point into the chunk: none may wait past it. */
	if (rc == 0 && (rc = flush_events(st)) == 0)
		rc = flush_metrics(st);
	st->ngroup_ev = 0;
	st->ngroup_m = 0;
	return rc;
}

/*
 * Queue a row: q (its lengths set) and its n strings s[] of q->len[]
 * bytes. Return 0, or the writer's error (nothing queued).
 */
static int queue_row(struct store *st, struct queued *q,
		     const char *const *s, size_t n)
{
	size_t i, size = sizeof(*q);
	char *p;

	for (i = n; i < ARRAY_SIZE(q->len); i++)
		q->len[i] = 0;
	for (i = 0; i < ARRAY_SIZE(q->len); i++)
		size += q->len[i] + 1;
	p = writer_add(st->w, size);
	if (p == NULL)
		return writer_error(st->w);
	memcpy(p, q, sizeof(*q));
	p += sizeof(*q);
	for (i = 0; i < ARRAY_SIZE(q->len); i++) {
		if (i < n)
			memcpy(p, s[i], q->len[i]);
		p[q->len[i]] = '\0';
		p += q->len[i] + 1;
	}
	return 0;
}

int store_commit_begin(struct store *st)
{
	struct queued q;
	int rc;

	if (st->w == NULL)
		return commit_begin_now(st);
	memset(&q, 0, sizeof(q));
	q.kind = QUEUED_COMMIT_BEGIN;
	if ((rc = queue_row(st, &q, NULL, 0)) < 0)
		return rc;
	/*
	 * Not in a chunk that waits for 128 KiB more rows: the commit (and
	 * with it the resume point) is written as soon as the rows before
	 * it are.
	 */
	writer_flush(st->w);
	return 0;
}

/*
 * "INSERT ... VALUES (...), (...)": head, then STORE_GROUP rows of
 * nparams. Return 0, or -1 (not printed: the rows go one at a time).
 */
static int prepare_group(struct store *st, sqlite3_stmt **s,
			 const char *head, unsigned nparams)
{
	struct buf sql;
	unsigned i, k;
	int rc;

	buf_init(&sql);
	buf_adds(&sql, head);
	for (i = 0; i < STORE_GROUP; i++) {
		buf_adds(&sql, i ? ", (" : " (");
		for (k = 1; k <= nparams; k++)
			buf_addf(&sql, "%s?%u", k > 1 ? ", " : "",
				 i * nparams + k);
		buf_addch(&sql, ')');
	}
	rc = sqlite3_prepare_v3(st->db, sql.p, -1, SQLITE_PREPARE_PERSISTENT,
				s, NULL) == SQLITE_OK ? 0 : -1;
	buf_release(&sql);
	return rc;
}

/*
 * Checkpoints on a thread of their own, with a connection of their own.
 *
 * In WAL mode SQLite copies the WAL into the database (a checkpoint) in
 * the thread that commits, once the WAL holds 1000 pages: two fsync()s
 * and a copy of every page written since the last one. On the writer
 * thread that was a third of its time on the event-heavy benchmark
 * input (0.5 s of fdatasync() in 1.7 s; 30-60 ms for each one on this
 * machine's disk, far more on a network volume), time in which the
 * main thread waited for a free chunk. So while the writer thread runs,
 * a commit only wakes the checkpoint thread, once 1000 pages came since
 * it last did, which copies with a PASSIVE checkpoint (it never blocks
 * the writer nor waits for it).
 *
 * A WAL starts over from its beginning only when a write transaction
 * begins after everything in it was copied, which never happens while
 * commits keep coming: so once it holds CHECKPOINT_RESTART_FRAMES pages,
 * the committing thread waits for the checkpoint thread to finish the
 * copy it is at and copies the rest itself (the last batch or two), and
 * the WAL stays under about 32 MiB and a batch. Only a reader of another
 * process on an older snapshot holds it longer (a PASSIVE checkpoint
 * copies what it may and never waits for readers).
 *
 * When a run has stored its events, store_checkpoint_soon() hands the
 * thread what the WAL holds, and the main thread detects the incidents
 * meanwhile: the fsync of the WAL and the copy no longer wait for the
 * close (on the 1 GB benchmark export, whose database of 12 MB never
 * reaches the 1000 pages, the last 0.18 s of the run went to 0.14 s).
 *
 * The durability is SQLite's own under synchronous = NORMAL: the WAL is
 * synced before its pages are copied, the database after. A checkpoint
 * that fails (a full disk) leaves the pages in the WAL, where readers
 * find them and the next checkpoint copies them, as when SQLite's own
 * checkpoint fails. If the thread or its connection cannot be had,
 * SQLite checkpoints as before.
 */
struct checkpointer {
	sqlite3 *db;            /* owned; only the thread uses it */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;    /* due or stop set */
	pthread_cond_t idle;    /* busy cleared */
	bool due, stop, busy;   /* under mu */
	int woken_at;           /* WAL pages when it was last woken (the
				   committing thread's: commits take turns) */
	int frames;             /* WAL pages at the last commit (same) */
};

static void *checkpoint_run(void *arg)
{
	struct checkpointer *ck = arg;

	pthread_mutex_lock(&ck->mu);
	for (;;) {
		while (!ck->due && !ck->stop)
			pthread_cond_wait(&ck->wake, &ck->mu);
		/* a copy asked for is made, even when the store closes */
		if (!ck->due)
			break;
		ck->due = false;
		ck->busy = true;
		pthread_mutex_unlock(&ck->mu);
		sqlite3_wal_checkpoint_v2(ck->db, "main",
					  SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&ck->mu);
		ck->busy = false;
		pthread_cond_broadcast(&ck->idle);
	}
	pthread_mutex_unlock(&ck->mu);
	return NULL;
}

/* The WAL hook of the store's connection: called after each commit. */
static int checkpoint_hook(void *arg, sqlite3 *db, const char *name,
			   int frames)
{
	struct checkpointer *ck = arg;

	ck->frames = frames;
	if (frames < ck->woken_at)      /* the WAL started over */
		ck->woken_at = 0;
	if (frames >= CHECKPOINT_RESTART_FRAMES) {
		/* No copy after the one it is at: the rest is copied here. */
		pthread_mutex_lock(&ck->mu);
		ck->due = false;
		while (ck->busy)
			pthread_cond_wait(&ck->idle, &ck->mu);
		pthread_mutex_unlock(&ck->mu);
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	} else if (frames - ck->woken_at >= CHECKPOINT_FRAMES) {
		ck->woken_at = frames;
		pthread_mutex_lock(&ck->mu);
		ck->due = true;
		pthread_cond_signal(&ck->wake);
		pthread_mutex_unlock(&ck->mu);
	}
	return SQLITE_OK;
}

static void checkpointer_start(struct store *st)
{
	struct checkpointer *ck;

	if (!st->wal || (ck = calloc(1, sizeof(*ck))) == NULL)
		return;
	/* A query opens the WAL: until then a checkpoint does nothing. */
	if (sqlite3_open_v2(st->path, &ck->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(ck->db, "PRAGMA schema_version", NULL, NULL,
			 NULL) != SQLITE_OK)
		goto out_db;
	if (pthread_mutex_init(&ck->mu, NULL) != 0)
		goto out_db;
	if (pthread_cond_init(&ck->wake, NULL) != 0)
		goto out_mu;
	if (pthread_cond_init(&ck->idle, NULL) != 0)
		goto out_wake;
	if (pthread_create(&ck->thread, NULL, checkpoint_run, ck) != 0)
		goto out_idle;
	pthread_setname_np(ck->thread, CHECKPOINT_THREAD);
	sqlite3_wal_hook(st->db, checkpoint_hook, ck);
	st->ck = ck;
	return;
out_idle:
	pthread_cond_destroy(&ck->idle);
out_wake:
	pthread_cond_destroy(&ck->wake);
out_mu:
	pthread_mutex_destroy(&ck->mu);
out_db:
	sqlite3_close(ck->db);
	free(ck);
}

void store_checkpoint_soon(struct store *st)
{
	struct checkpointer *ck = st->ck;

	/* (the commits are over: ck->frames is the WAL's size now) */
	if (ck == NULL || ck->frames - ck->woken_at < CHECKPOINT_SOON_FRAMES)
		return;
	pthread_mutex_lock(&ck->mu);
	ck->due = true;
	pthread_cond_signal(&ck->wake);
	pthread_mutex_unlock(&ck->mu);
}

/* Stop the thread; SQLite checkpoints again (and at the close). */
static void checkpointer_stop(struct store *st)
{
	struct checkpointer *ck = st->ck;

	if (ck == NULL)
		return;
	sqlite3_wal_autocheckpoint(st->db, CHECKPOINT_FRAMES);
	pthread_mutex_lock(&ck->mu);
	ck->stop = true;
	pthread_cond_signal(&ck->wake);
	pthread_mutex_unlock(&ck->mu);
	pthread_join(ck->thread, NULL);
	pthread_cond_destroy(&ck->idle);
	pthread_cond_destroy(&ck->wake);
	pthread_mutex_destroy(&ck->mu);
	sqlite3_close(ck->db);
	free(ck);
	st->ck = NULL;
}

void store_writer_start(struct store *st)
{
	/* LOGTRIAGE_THREADS=1: everything on one thread (to compare). */
	if (st->w != NULL || one_thread())
		return;
	if (prepare_group(st, &st->ins_events, INSERT_EVENTS, 10) < 0 ||
	    prepare_group(st, &st->ins_metrics, INSERT_METRICS, 6) < 0 ||
	    sqlite3_prepare_v3(st->db, "SELECT source_id, line_no, rule_id "
			       "FROM events WHERE id > ?1", -1,
			       SQLITE_PREPARE_PERSISTENT, &st->rows_after,
			       NULL) != SQLITE_OK)
		return;
	st->w = writer_start(write_chunk, st);
	if (st->w != NULL)
		checkpointer_start(st);
}

/* Make room to count events under tally (the writer idle meanwhile). */
static int grow_tally(struct store *st, unsigned tally)
{
	size_t n = st->ntally ? 2 * st->ntally : 64;
	int rc;

	if ((rc = sync_writer(st)) < 0)
		return rc;
	while (n <= tally)
		n *= 2;
	st->tally = xrealloc(st->tally, n * sizeof(*st->tally));
	memset(st->tally + st->ntally, 0,
	       (n - st->ntally) * sizeof(*st->tally));
	st->ntally = n;
	return 0;
}

int store_put_event(struct store *st, const struct store_event *ev)
{
	struct queued q;
	const char *s[5];
	int rc;

	if (ev->tally >= st->ntally && (rc = grow_tally(st, ev->tally)) < 0)
		return rc;
	if (st->w == NULL)
		return event_now(st, ev);
	q.kind = QUEUED_EVENT;
	q.u.ev = *ev;
	s[0] = ev->rule_id;
	s[1] = ev->severity;
	s[2] = ev->level;
	s[3] = ev->message;
	s[4] = ev->fields;
	q.len[0] = strlen(ev->rule_id);
	q.len[1] = strlen(ev->severity);
	q.len[2] = strlen(ev->level);
	q.len[3] = ev->message_len;
	q.len[4] = strlen(ev->fields);
	return queue_row(st, &q, s, 5);
}

int store_put_metric(struct store *st, int64_t source_id, uint64_t line_no,
		     int64_t ts, bool has_ts, const char *name, double value,
		     const char *unit)
{
	struct queued q;
	const char *s[2];

	q.kind = QUEUED_METRIC;
	q.u.m.source_id = source_id;
	q.u.m.line_no = line_no;
	q.u.m.ts = ts;
	q.u.m.has_ts = has_ts;
	q.u.m.name = name;
	q.u.m.value = value;
	q.u.m.unit = unit;
	if (st->w == NULL)
		return metric_now(st, &q.u.m);
	s[0] = name;
	s[1] = unit;
	q.len[0] = strlen(name);
	q.len[1] = strlen(unit);
	return queue_row(st, &q, s, 2);
}

uint64_t store_new_events(struct store *st, unsigned tally)
{
	sync_writer(st);
	return tally < st->ntally ? st->tally[tally] : 0;
}

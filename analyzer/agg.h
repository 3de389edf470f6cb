/*
 * agg.h - stage 6b: everything the report writers show about one
 * incident, read from the store once (its events, the events and metrics
 * around it) and derived once (symptoms, cause, trigger, recovery,
 * impact, timeline, chart series). The writers (report_md.c,
 * report_json.c, chart.c) only format a struct agg; they never query.
 *
 * Every text in it has been redacted again (whatever the database
 * holds: a run with --no-redact stores secrets, a report never shows
 * them) and is valid UTF-8. Every list has a stated order.
 */
#ifndef LOGTRIAGE_AGG_H
#define LOGTRIAGE_AGG_H

#include "common.h"
#include "incidents.h"
#include "rules.h"

struct redact;
struct sqlite3;

/* Evidence records shown per symptom. */
#define AGG_EVIDENCE_MAX 3
/* Bytes of a headline (one line that says most about an event). */
#define AGG_HEADLINE_MAX 200
/* How far before the window the latency baseline reaches. */
#define AGG_BASELINE_MS (60 * 60 * 1000)
/* Trigger and recovery within this distance widen the chart window. */
#define AGG_CHART_REACH_MS (60 * 60 * 1000)
/* At most this many buckets in a chart (wider buckets beyond). */
#define AGG_CHART_MAX_BUCKETS 180
/* Memory series drawn (one line each); more are left out, and said. */
#define AGG_MEMORY_SERIES_MAX 8
/* The guide's limit for a slow request (section 5), in ms. */
#define AGG_SLOW_REQUEST_MS 5000

/*
 * Where an event's time comes from:
 *   AGG_TIME_OWN       the record's own timestamp
 *   AGG_TIME_INFERRED  an earlier record's (the record carried none)
 *   AGG_TIME_BORROWED  none before it: the first time of its source
 *   AGG_TIME_NONE      its source carries no time at all
 */
enum agg_time {
	AGG_TIME_OWN = 0,
	AGG_TIME_INFERRED,
	AGG_TIME_BORROWED,
	AGG_TIME_NONE,
};

struct agg_source {
	int64_t id;
	char *name;             /* owned: sources.name, as given */
	uint64_t events;        /* incident events from it */
};

struct agg_event {
	int64_t id;
	char *rule_id;          /* owned */
	const struct rule *rule; /* borrowed from the rule set; NULL when
				   the rule is not loaded any more */
	enum rule_sev sev;
	struct incident_pos pos;
	enum agg_time time;
	size_t source;          /* index into agg.sources */
	char *message;          /* owned; redacted, valid UTF-8; "" for a
				   member that no writer shows */
	char *headline;         /* owned; one line of message, capped */
	bool member;            /* linked to the incident */
};

/* One rule of the incident (a node of incident_cause, same index). */
struct agg_symptom {
	const char *rule_id;    /* borrowed from its first event */
	const struct rule *rule; /* NULL when not loaded */
	bool symptom;           /* false: a closing deploy marker */
	uint64_t count;
	size_t first, last;     /* event indexes */
	size_t evidence[AGG_EVIDENCE_MAX]; /* event indexes, in order */
	size_t nevidence;
	int64_t peak_bucket;    /* start of the busiest minute (timed) */
	uint64_t peak_count;    /* its events; 0 without times */
	size_t peak_event;      /* its first event */
};

/*
 * Rows of the timeline, merged across sources:
 *   AGG_ROW_TRIGGER   the trigger marker
 *   AGG_ROW_MARKER    a deploy/migration/rollback marker around the
 *                     incident, or a closing marker inside it
 *   AGG_ROW_FIRST     a symptom's first event
 *   AGG_ROW_PEAK      the first event of a symptom's busiest minute
 *   AGG_ROW_LAST      a symptom's last event
 *   AGG_ROW_RECOVERY  the first healthy event after the last symptom
 */
enum agg_row_kind {
	AGG_ROW_TRIGGER = 0,
	AGG_ROW_MARKER,
	AGG_ROW_FIRST,
	AGG_ROW_PEAK,
	AGG_ROW_LAST,
	AGG_ROW_RECOVERY,
};

struct agg_row {
	enum agg_row_kind kind;
	size_t event;           /* event index */
	size_t symptom;         /* symptom index, SIZE_MAX for markers */
};

/* Percentiles of a latency sample (nearest rank). */
struct agg_stat {
	uint64_t n;
	double p50, p95, max;   /* ms; meaningful when n > 0 */
};

struct agg_point {
	int64_t ts;
	double value;
	size_t series;          /* index into agg.memory_series (memory) */
};

/* An action item: a remedy of a rule of the incident. */
struct agg_action {
	const char *text;       /* borrowed from the rule */
	const char *rule_id;    /* borrowed */
};

/* Chart series by bucket; counts[i * ncols + c]. */
struct agg_series {
	char **cols;            /* owned names (categories, status classes) */
	size_t ncols;
	uint64_t *counts;       /* owned; nbuckets x ncols */
};

struct agg {
	char id[INCIDENTS_ID_SIZE];
	char *title;            /* owned */
	enum rule_sev severity;
	bool has_ts;            /* the incident has times */
	struct agg_source *sources;     /* owned; the sources of the events,
					   in order of first use */
	size_t nsources;
	struct agg_event *ev;   /* owned; members and the events around
				   them, in incident order (incidents.h) */
	size_t nev;
	size_t first, last;     /* first and last member */
	size_t first_critical;  /* first critical member, or SIZE_MAX */
	uint64_t members;
	uint64_t members_inferred; /* members without a time of their own */
	struct agg_symptom *sym;        /* owned; in order of first event */
	size_t nsym;
	struct incident_cause cause;    /* node i is sym[i] */
	size_t trigger;         /* event index, SIZE_MAX: none */
	size_t recovery;        /* event index, SIZE_MAX: none in the logs */
	struct agg_row *rows;   /* owned; the timeline, in event order */
	size_t nrows;
	size_t *order;          /* owned; symptom indexes as reports list
				   rules: the chains from their heads, then
				   the branches, then the loose ones */
	size_t norder;
	struct agg_action *actions;     /* owned; the remedies of the rules in
					   'order', no text twice */
	size_t nactions;
	/* impact: HTTP statuses seen in events inside the window */
	uint64_t status_events, n5xx, n401;
	struct agg_stat lat_window, lat_before; /* http.* durations (ms) */
	/* charts: buckets of bucket_ms from chart_from (timed only) */
	int64_t chart_from, chart_to, bucket_ms;
	size_t nbuckets;
	struct agg_series by_category;  /* symptoms of all sources */
	struct agg_series by_status;    /* "2xx".."5xx" */
	size_t *markers;        /* owned; event indexes of deploy markers in
				   the chart window */
	size_t nmarkers;
	struct agg_point *latency;      /* owned; http.* ms in the chart window */
	size_t nlatency;
	struct agg_point *memory;       /* owned; MiB in the chart window, by
					   time; .series says which series */
	size_t nmemory;
	char **memory_series;   /* owned; their names (series from metrics
				   exports carry labels), in name order */
	size_t nmemory_series;
	size_t memory_series_left_out; /* beyond AGG_MEMORY_SERIES_MAX */
	int64_t *oom;           /* owned; memory.oom_killed times in it */
	size_t noom;
};

/*
 * Read incident id from db and derive everything above, with the rules
 * of rs and the redactor red (its key: the database's), its trigger and
 * recovery by mk's queries (incident_markers_new(db)). Return 0, 1 when
 * there is no incident with that id, or -1 (printed).
 */
int agg_load(struct agg *a,			/* OUT: release with agg_release */
	     struct sqlite3 *db,
	     struct incident_markers *mk,
	     const char *db_path,		/* for messages */
	     const struct rules *rs,
	     struct redact *red,
	     const char *id);
void agg_release(struct agg *a);

/*
 * The event that stands for symptom sym in a chain after the event prev
 * (SIZE_MAX: sym heads the chain): its first event not before prev, or
 * its first event when all are. The link's evidence.
 */
size_t agg_link_event(const struct agg *a, size_t sym, size_t prev);

/* The time of event i, or 0 when it has none; *has says which. */
int64_t agg_event_ts(const struct agg *a, size_t i, bool *has);

/*
 * An HTTP status written in a log message (an access line: '"GET / HTTP/
 * 1.1" 401', 'status=503', '"httpStatus":500', 'GET /x 500 12.3ms'), or
 * 0 when there is none. Only the first line is looked at.
 */
int agg_http_status(const char *msg);

/*
 * The line of a message that says most: the first line, or for a Python
 * traceback its last exception line; capped at AGG_HEADLINE_MAX bytes on
 * a UTF-8 boundary ("..." appended). Returns an owned string.
 */
char *agg_headline(const char *msg);

/*
 * Nearest-rank p50, p95 and the maximum of v[0..n) (sorted in place):
 * p is the value at rank ceil(p/100 * n).
 */
void agg_percentiles(double *v, size_t n, struct agg_stat *out);

/* "4m59s", "1.6s", "2h05m", "3d04h": a duration in ms, for people. */
const char *agg_duration(int64_t ms, char *out, size_t size);

#endif

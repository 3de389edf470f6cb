/*
 * incidents.h - pipeline stage 6a: group the stored events into
 * incidents, give each a stable id, and read the probable root cause,
 * the trigger and the recovery out of the rules' 'causes' edges and the
 * events' times. Results go to the 'incidents' and 'incident_events'
 * tables (docs/schema.md); the report writers read them through agg.h.
 *
 * Segmentation. Events of severity warning and above ("symptoms") are
 * taken in time order; an incident ends where no symptom came for longer
 * than the gap (--gap, default 15 minutes). Deploy markers bound
 * incidents where they fall: deploy.started ends the incident before it
 * (a new deployment starts a new story), deploy.failed and
 * deploy.rollback join the incident they follow (within the gap) and end
 * it. Events without any time (a source that carries none) are grouped
 * per source in line order, with the same markers but no gap. An event
 * with no time at the head of a source that has times later takes the
 * first time of its source ("borrowed"), so it sorts where it was
 * written.
 *
 * Order. Events are compared by time, then within one source by line;
 * two events at the same millisecond in different sources are "same
 * time". Every list below has this order unless said otherwise.
 *
 * Root cause. The symptoms of an incident (one node per rule) and its
 * closing markers form a graph: a -> b when b is in rule a's 'causes' and
 * the evidence does not contradict it (b's last event is not before a's
 * first). The probable root cause is the earliest symptom from which
 * every other symptom can be reached. When no symptom reaches all the
 * others, the incident has several unconnected chains and the report
 * says so plainly; when the incident has no timestamps, the order is the
 * order of lines only and the report says that too.
 */
#ifndef LOGTRIAGE_INCIDENTS_H
#define LOGTRIAGE_INCIDENTS_H

#include "common.h"
#include "rules.h"

struct store;
struct sqlite3;

/* Default quiet time that ends an incident (--gap). */
#define INCIDENTS_GAP_DEFAULT_MS (15 * 60 * 1000)
/* How far back a trigger marker is looked for, before the first symptom. */
#define INCIDENTS_TRIGGER_LOOKBACK_MS (24 * 60 * 60 * 1000)
/* How far after the last symptom a healthy event counts as recovery. */
#define INCIDENTS_RECOVERY_LOOKAHEAD_MS (24 * 60 * 60 * 1000)
/* Room for an incident id with its NUL: "inc-20260224-1013-3f2a9c". */
#define INCIDENTS_ID_SIZE 32
/* Longest-path search budget per incident (steps), see incidents_cause. */
#define INCIDENTS_PATH_BUDGET 200000

/*
 * Where an event sits: its effective time and its place in its source.
 * has_ts is false only for sources that carry no time at all.
 */
struct incident_pos {
	int64_t ts;             /* epoch ms UTC; meaningful when has_ts */
	bool has_ts;
	int64_t source_id;
	uint64_t line_no;
};

/* Whether a is provably before b (see "Order" above). */
bool incidents_pos_before(const struct incident_pos *a,
			  const struct incident_pos *b);

/* What an event is to segmentation (glossary above). */
enum incident_kind {
	INCIDENT_SYMPTOM = 0,   /* severity warning, error or critical */
	INCIDENT_CLOSER,        /* deploy.failed, deploy.rollback */
	INCIDENT_OPENER,        /* deploy.started */
	INCIDENT_OTHER,         /* any other info event: not segmented */
};

/* The kind of an event of rule rule_id with severity sev. */
enum incident_kind incidents_kind(const char *rule_id, enum rule_sev sev);

/* True for the markers that can trigger an incident: deploy.started,
 * deploy.succeeded, deploy.rollback, db.migration. */
bool incidents_is_trigger_rule(const char *rule_id);
/* True for the events that show health: health.check_passed,
 * app.startup_complete, deploy.succeeded. */
bool incidents_is_healthy_rule(const char *rule_id);

/* One event as segmentation sees it. */
struct incident_event {
	int64_t id;             /* events.id */
	const char *rule_id;    /* borrowed (interned by the caller) */
	enum rule_sev sev;
	enum incident_kind kind;
	struct incident_pos pos;
};

/* A segment: the events ev[first .. first + n) of the sorted array. */
struct incident_segment {
	size_t first;
	size_t n;
};

/*
 * Sort ev (n events) into the order above, with symptoms before closers
 * before openers on the same line, then by id.
 */
void incidents_sort(struct incident_event *ev, size_t n);

/*
 * Segmentation one event at a time, in the order of incidents_sort():
 * incidents_segment() over an array, and detection over the stored
 * events as it reads them. Zero the state to start.
 */
struct incident_segmenter {
	bool open;              /* a segment is open */
	bool closed;            /* ... and a closer ended it */
	bool prev_member;       /* the event before joined it */
	struct incident_pos last;       /* its last member */
};

enum incident_step {
	INCIDENT_STEP_NONE = 0, /* e belongs to no segment */
	INCIDENT_STEP_JOIN,     /* e joins the open segment */
	INCIDENT_STEP_START,    /* e starts a new segment */
};

/*
 * What e is to the segments so far. Anything but INCIDENT_STEP_JOIN
 * ends the open segment for good: no later event can join it.
 */
enum incident_step incidents_segment_step(struct incident_segmenter *sg,
					  const struct incident_event *e,
					  int64_t gap_ms);

/*
 * Cut the sorted events into incidents with the given gap (ms). ev holds
 * symptoms, closers and openers only (no INCIDENT_OTHER). Openers are
 * never inside a segment; a segment always starts with a symptom.
 * Returns the number of segments; *out (free() it) gets them in order,
 * NULL when there are none.
 */
size_t incidents_segment(const struct incident_event *ev, /* sorted */
			 size_t n,			/* events in ev */
			 int64_t gap_ms,		/* quiet time that ends one */
			 struct incident_segment **out); /* OUT: free() it */

/* One rule seen in an incident: a node of the root-cause graph. */
struct incident_node {
	const char *rule_id;    /* borrowed */
	bool symptom;           /* false: a closing deploy marker */
	uint64_t count;
	struct incident_pos first, last;
};

/*
 * What the evidence says about the cause:
 *   INCIDENT_SINGLE       one symptom only: it is the cause
 *   INCIDENT_ONE_CAUSE    one symptom from which all others can be
 *                         reached through 'causes'
 *   INCIDENT_UNCONNECTED  no symptom reaches all the others: the chains
 *                         are reported side by side, no cause is named
 */
enum incident_verdict {
	INCIDENT_SINGLE = 0,
	INCIDENT_ONE_CAUSE,
	INCIDENT_UNCONNECTED,
};

/* A path through the graph; node[0] is its head. */
struct incident_chain {
	size_t *node;           /* owned; indexes into the nodes */
	size_t n;
};

/* A node reached off the chains: from -> to. */
struct incident_link {
	size_t from, to;
};

struct incident_cause {
	enum incident_verdict verdict;
	bool untimed;           /* the nodes carry no time: line order only */
	size_t root;            /* node index; SIZE_MAX when UNCONNECTED */
	struct incident_chain *chains; /* owned; [0] starts at the root; one
				   per head when UNCONNECTED, earliest first */
	size_t nchains;
	struct incident_link *branches; /* owned; reached nodes not on a
				   chain, in node order */
	size_t nbranches;
	size_t *loose;          /* owned; nodes on no chain and no branch
				   (closing markers no rule leads to) */
	size_t nloose;
};

/*
 * Find the root cause among nodes (n of them, in the order above: sorted
 * by first position) with the 'causes' edges of rs (a rule missing from
 * rs has no edges). The main chain of each head is its longest path
 * (ties: the earlier next node). Fills *out (release with
 * incident_cause_release); never fails.
 */
void incidents_cause(const struct rules *rs,
		     const struct incident_node *nodes, size_t n,
		     struct incident_cause *out);	/* OUT */
void incident_cause_release(struct incident_cause *c);

/* "one", "single", "unconnected": the verdict's name in JSON. */
const char *incidents_verdict_name(enum incident_verdict v);

/*
 * The stable id of an incident: "inc-YYYYMMDD-HHMM-xxxxxx" from its start
 * (or "inc-notime-xxxxxx" without one), where xxxxxx hashes the first
 * symptom's rule, line number, time and message (redaction markers
 * stripped, so databases with different keys agree). The same logs give
 * the same id in any database.
 */
void incidents_make_id(const struct incident_pos *start, const char *rule_id,
		       const char *message, char out[INCIDENTS_ID_SIZE]);

/* Whether id looks like an incident id: [a-z0-9-], 1 to 31 bytes. */
bool incidents_id_is_valid(const char *id);

/* A stored incident, as 'logtriage incidents' lists it. */
struct incident_summary {
	char id[INCIDENTS_ID_SIZE];
	int64_t start_ts, end_ts;       /* meaningful when has_ts */
	bool has_ts;
	enum rule_sev severity;
	char *root_rule;        /* owned; NULL when no single cause */
	char *title;            /* owned */
	char *details;          /* owned; the JSON object of the table */
	uint64_t events;        /* linked events */
};

struct incident_list {
	struct incident_summary *v;     /* owned */
	size_t n;
};

void incident_list_release(struct incident_list *l);

/*
 * Detect the incidents over every stored event with the gap (ms), and
 * write them in one transaction: an incident with the same id is updated
 * in place, its event links rewritten; incidents that no longer exist
 * (the events now segment differently) are deleted. When out is not
 * NULL it gets the incidents, sorted by start (untimed last), then id.
 * The events are read as a stream, and after a detection with the same
 * gap and rules only from the incident the events added since then
 * continue (incidents.c, "Detecting again"): the result is the same.
 * Return 0 or a store_err (printed).
 */
int incidents_detect(struct store *st,
		     const struct rules *rs,	/* for 'causes' and titles */
		     int64_t gap_ms,		/* quiet time that ends one */
		     struct incident_list *out); /* OUT, or NULL */

#ifdef LOGTRIAGE_TESTING
/* Test hook, for tests/unit/t_incidents.c only: where the last
 * incidents_detect() started reading timed events (INT64_MIN: all). */
extern int64_t incidents_test_t0;
#endif

/*
 * Make the next incidents_detect() read every stored event again, not
 * only what was added since the last (after events were deleted).
 * Return 0 or -1 (SQLite's error on db).
 */
int incidents_forget(struct sqlite3 *db);

/*
 * Read the stored incidents, sorted by start (untimed last), then id.
 * Return 0 or -1 (printed).
 */
int incidents_load(struct sqlite3 *db, const char *db_path,
		   struct incident_list *out);

/* An event found around an incident (trigger, recovery). */
struct incident_marker {
	int64_t event_id;       /* 0: none found */
	char *rule_id;          /* owned */
	struct incident_pos pos;
	bool ts_own;            /* its time is its own (not inferred) */
};

void incident_marker_release(struct incident_marker *m);

/*
 * The queries below over db, prepared once for all the incidents of a
 * detection or a report. Free before db closes.
 */
struct incident_markers;
struct incident_markers *incident_markers_new(struct sqlite3 *db);
void incident_markers_free(struct incident_markers *mk);

/*
 * The nearest trigger marker (incidents_is_trigger_rule) before first,
 * within INCIDENTS_TRIGGER_LOOKBACK_MS; in a source without times, the
 * nearest one above it. *out is zeroed when none. Return 0 or -1.
 */
int incidents_find_trigger(struct incident_markers *mk,
			   const struct incident_pos *first,
			   struct incident_marker *out);

/*
 * The first healthy event (incidents_is_healthy_rule) after last, within
 * INCIDENTS_RECOVERY_LOOKAHEAD_MS; in a source without times, the first
 * one below it. *out is zeroed when none. Return 0 or -1.
 */
int incidents_find_recovery(struct incident_markers *mk,
			    const struct incident_pos *last,
			    struct incident_marker *out);

/*
 * The effective position of a stored event: its own or inferred time,
 * or, for an event with none, the first time of its source (has_ts false
 * when the source has none). Return 0 or -1.
 */
int incidents_event_pos(struct sqlite3 *db,
			int64_t source_id,	/* events.source_id */
			uint64_t line_no,	/* events.line_no */
			bool has_ts,		/* events.ts is not NULL */
			int64_t ts,		/* events.ts */
			struct incident_pos *out); /* OUT */

#endif

/*
 * parse.h - pipeline stage 3: turn a framed record into what the rules
 * need: its shape, time, level, message and fields.
 *
 * The first pass is cheap and runs on every record: strip ANSI colour
 * codes, peel the platform's envelopes (docker compose, Kubernetes CRI,
 * Heroku, journald/syslog, Railway, Render, a bare stamp; see record.h),
 * recognise the shape of what is inside by a few byte checks (the shape
 * of the previous record is tried first), and find the time and the
 * level. A JSON line is only walked, not decoded, and its time and level
 * are still right. Decoding with jansson and reading every field is
 * expensive, so it happens only on request (parse_decode), for records
 * that the rules' literal prefilter selected, and for 'logtriage records'.
 *
 * What rules match: the message with the envelopes peeled off. For a
 * record of several lines that all carry an envelope (a traceback in a
 * compose log), the message is its lines without their envelopes, joined
 * by "\n". The application's own prefix (its time, level and logger)
 * stays in the message: rules may rely on it ("app.timing: GET ...").
 *
 * Time: the platform's stamp (envelope, JSON time key) wins over the
 * application's own stamp, which is kept as the field "app_time". Stamps
 * without a zone are read in --tz; stamps without a year (syslog, Render)
 * take --year, rolling over to the next year when the time runs back by
 * more than half a year (December, then January), or else the year of
 * the input's modification time (parse_ctx_set_file_time), taking the
 * year before for stamps that would lie after it. Build transcripts carry
 * seconds since the build started, not a clock: those records take the
 * time of the record before them (inferred), and the seconds are kept as
 * the field "elapsed".
 *
 * Level: the level the inner shape writes in its place ("INFO:" of
 * uvicorn, "[ERROR]" of gunicorn, Python's levelname, PostgreSQL's
 * "FATAL:"), else a JSON line's level key, else the envelope's (Railway's
 * "[err]"), else a level word in the first bytes of the text.
 */
#ifndef LOGTRIAGE_PARSE_H
#define LOGTRIAGE_PARSE_H

#include "common.h"
#include "buf.h"
#include "record.h"
#include "timefmt.h"

/*
 * Levels, lowest first. PostgreSQL's LOG counts as info, its FATAL and
 * PANIC as critical; syslog's notice as info, emerg/alert/crit as critical.
 */
enum parse_level {
	PARSE_LEVEL_NONE = 0,
	PARSE_LEVEL_DEBUG,
	PARSE_LEVEL_INFO,
	PARSE_LEVEL_WARNING,
	PARSE_LEVEL_ERROR,
	PARSE_LEVEL_CRITICAL,
};

/*
 * Record formats and shapes; parse_format_name() gives the name stored in
 * source_formats and printed in the summary.
 *
 * How rules read a record (struct parsed's format):
 *   PARSE_FMT_TEXT         "text": plain text (and, as a shape: text of no
 *                          known shape)
 *   PARSE_FMT_JSON         "json": a JSON object, decoded on request (and,
 *                          as a shape: JSON of no known shape)
 *   PARSE_FMT_JSON_BAD     "json-malformed": looked like JSON, did not
 *                          decode; matched as text and counted
 * JSON shapes:
 *   PARSE_FMT_JSON_RAILWAY       "json-railway": railway logs --json
 *                                {"message","level"|"severity","timestamp",
 *                                ...attributes}
 *   PARSE_FMT_JSON_RAILWAY_HTTP  "json-railway-http": railway logs --http
 *                                --json {"timestamp","method","path",
 *                                "httpStatus","totalDuration",...}
 *   PARSE_FMT_JSON_DOCKER        "json-docker": Docker's json-file driver
 *                                {"log","stream","time"}
 *   PARSE_FMT_JSON_PYTHON        "json-python": python-json-logger
 *                                ("levelname", "asctime", "message") and
 *                                structlog ("event", "level", "timestamp")
 *   PARSE_FMT_JSON_JOURNALD      "json-journald": journalctl -o json
 *                                ("MESSAGE", "PRIORITY",
 *                                "__REALTIME_TIMESTAMP")
 * Envelopes (record.h), as shapes of the whole line:
 *   PARSE_FMT_COMPOSE      "compose"     docker compose "api-1  | "
 *   PARSE_FMT_CRI          "cri"         "<stamp> stderr F "
 *   PARSE_FMT_HEROKU       "heroku"      "<stamp> app[web.1]: "
 *   PARSE_FMT_RAILWAY      "railway"     "<stamp> [err]  "
 *   PARSE_FMT_SYSLOG       "syslog"      "Feb 24 10:15:02 host proc[pid]: "
 *   PARSE_FMT_SYSLOG_ISO   "syslog-iso"  journalctl -o short-iso
 *   PARSE_FMT_RENDER       "render"      "Feb 24 10:15:02 AM  "
 *   PARSE_FMT_STAMPED      "stamped"     docker logs -t: "<stamp> "
 * Text shapes:
 *   PARSE_FMT_LOGFMT         "logfmt"        key=value pairs (Go, Heroku's
 *                                            router "at=info method=...")
 *   PARSE_FMT_UVICORN        "uvicorn"       "INFO:     Started server
 *                                            process [1]"
 *   PARSE_FMT_UVICORN_ACCESS "uvicorn-access" "INFO:     1.2.3.4:5 - \"GET
 *                                            / HTTP/1.1\" 200 OK", also
 *                                            without "INFO:" (gunicorn's
 *                                            UvicornWorker)
 *   PARSE_FMT_GUNICORN       "gunicorn"      "[2026-02-24 10:15:02 +0000]
 *                                            [7] [ERROR] ..."
 *   PARSE_FMT_COMBINED       "combined"      nginx/Apache/gunicorn access
 *                                            log (common or combined,
 *                                            request time after it)
 *   PARSE_FMT_NGINX_ERROR    "nginx-error"   "2026/02/24 10:15:02 [error]
 *                                            31#31: ..."
 *   PARSE_FMT_PYTHON         "python"        Python logging: "ERROR:app:msg",
 *                                            "<asctime> - name - LEVEL - msg",
 *                                            "<asctime> LEVEL name: msg",
 *                                            Flask's "[<asctime>] LEVEL in m:"
 *   PARSE_FMT_TRACEBACK      "traceback"     a bare Python traceback
 *   PARSE_FMT_BUILDKIT       "buildkit"      docker build --progress=plain
 *                                            ("#8 [4/6] RUN ...", "#8 2.41
 *                                            ERROR: ...", "ERROR: failed to
 *                                            solve: ..."), and Railway's
 *                                            "[4/6] RUN ..."
 *   PARSE_FMT_DOCKER_BUILD   "docker-build"  the classic builder ("Step
 *                                            4/10 : RUN ...", " ---> ...")
 *   PARSE_FMT_POSTGRES       "postgres"      PostgreSQL's stderr log with a
 *                                            log_line_prefix ("<%m> [%p] ",
 *                                            "<%t> [%p]: [%l-1] user=,db= ")
 *   PARSE_FMT_REDIS          "redis"         Redis's server log: "1:M 24 Feb
 *                                            2026 10:15:02.123 * Ready to
 *                                            accept connections tcp"
 *   PARSE_FMT_K8S_EVENTS     "k8s-events"    kubectl get events
 *   PARSE_FMT_K8S_DESCRIBE   "k8s-describe"  kubectl describe pod
 * Metrics exports (metricsfile.h), one count per sample:
 *   PARSE_FMT_METRICS_CSV    "metrics-csv"   timestamp,metric,value[,label...]
 *   PARSE_FMT_METRICS_PROM   "metrics-prometheus"  text exposition format
 *   PARSE_FMT_METRICS_JSON   "metrics-json"  [{"timestamp","metric","value"}]
 */
enum parse_format {
	PARSE_FMT_TEXT = 0,
	PARSE_FMT_JSON,
	PARSE_FMT_JSON_BAD,
	PARSE_FMT_JSON_RAILWAY,
	PARSE_FMT_JSON_RAILWAY_HTTP,
	PARSE_FMT_JSON_DOCKER,
	PARSE_FMT_JSON_PYTHON,
	PARSE_FMT_JSON_JOURNALD,
	PARSE_FMT_COMPOSE,
	PARSE_FMT_CRI,
	PARSE_FMT_HEROKU,
	PARSE_FMT_RAILWAY,
	PARSE_FMT_SYSLOG,
	PARSE_FMT_SYSLOG_ISO,
	PARSE_FMT_RENDER,
	PARSE_FMT_STAMPED,
	PARSE_FMT_LOGFMT,
	PARSE_FMT_UVICORN,
	PARSE_FMT_UVICORN_ACCESS,
	PARSE_FMT_GUNICORN,
	PARSE_FMT_COMBINED,
	PARSE_FMT_NGINX_ERROR,
	PARSE_FMT_PYTHON,
	PARSE_FMT_TRACEBACK,
	PARSE_FMT_BUILDKIT,
	PARSE_FMT_DOCKER_BUILD,
	PARSE_FMT_POSTGRES,
	PARSE_FMT_REDIS,
	PARSE_FMT_K8S_EVENTS,
	PARSE_FMT_K8S_DESCRIBE,
	PARSE_FMT_METRICS_CSV,
	PARSE_FMT_METRICS_PROM,
	PARSE_FMT_METRICS_JSON,
	PARSE_FMT__COUNT
};

/* Fields kept per record; more are dropped (and counted). */
#define PARSE_MAX_FIELDS 32

/*
 * A field of a record: peeled from an envelope (service, stream, host,
 * pid, source, tag), read from the inner shape (logger, method, path,
 * status, bytes, request_time, duration_ms, step, elapsed, app_time,
 * exception_line, reason, object), or a JSON attribute. Both spans are
 * borrowed (from the record, the context's scratch or a static name) and
 * valid until the next parse_record().
 */
struct parse_kv {
	struct span name;
	struct span value;
};

struct parse_state;

struct parse_ctx {
	struct timefmt_opts topts;  /* copied by parse_ctx_init */
	int64_t last_ts;            /* time of the last record that had one */
	bool have_last_ts;
	struct parse_state *st;     /* owned: jansson document, scratch */
	enum parse_format prev_inner; /* shapes of the last two kinds of
				       text: tried first on the next record
				       (an access line and the app's line
				       often alternate) */
	enum parse_format prev_inner2;
	int64_t file_ms;            /* the input's modification time, for
				       stamps without a year; 0: unknown */
	bool has_file_ms;
	int file_year;              /* the year of file_ms, once */
	int year_roll;              /* years added to --year by roll-over */
	int64_t last_yearless;      /* the last stamp without a year */
	bool have_yearless;
	/* coverage counters */
	uint64_t by_format[PARSE_FMT__COUNT]; /* records per shape */
	uint64_t ts_parsed;         /* records with a time of their own */
	uint64_t ts_inferred;       /* records that took the previous time */
	uint64_t ts_missing;        /* records with no time at all */
};

struct parsed {
	const char *raw;        /* what the rules' literal prefilter scans:
				   the message of a text record, the JSON
				   object(s) of a JSON record (envelopes
				   peeled, ANSI codes and BOM removed);
				   borrowed from the record or the context's
				   scratch, valid until the next
				   parse_record() */
	size_t raw_len;
	struct span message;    /* what rules match: the text inside the
				   envelopes, or the decoded JSON message
				   after parse_decode(); valid until the next
				   parse_record() */
	int64_t ts;             /* epoch ms UTC when has_ts */
	bool has_ts;
	bool ts_inferred;       /* ts came from an earlier record */
	bool decoded;           /* parse_decode() ran */
	enum parse_level level;
	enum parse_format format; /* how rules read it: PARSE_FMT_TEXT,
				     PARSE_FMT_JSON or PARSE_FMT_JSON_BAD */
	enum parse_format shape;  /* what it is, outermost first: the
				     envelope, else the JSON shape, else the
				     text shape; counted in by_format */
	enum parse_format inner;  /* the shape of the text inside the
				     envelopes or the JSON message (== shape
				     when there is nothing around it) */
	unsigned nfields;
	unsigned fields_dropped;  /* beyond PARSE_MAX_FIELDS */
	struct parse_kv fields[PARSE_MAX_FIELDS]; /* envelope fields after
				     parse_record(); all of them after
				     parse_decode() */
};

void parse_ctx_init(struct parse_ctx *ctx, const struct timefmt_opts *o);
/* Free what the context owns; NULL is fine. */
void parse_ctx_release(struct parse_ctx *ctx);
/*
 * Start a new input: forget the previous record's time and shape, the
 * year roll-over and the file time.
 */
void parse_ctx_reset(struct parse_ctx *ctx);
/*
 * The input's modification time (epoch ms; for a pipe, the time of the
 * run): stamps without a year take its year, or the year before when
 * they would lie more than a day after it. Call after parse_ctx_reset();
 * --year, when given, wins.
 */
void parse_ctx_set_file_time(struct parse_ctx *ctx, int64_t ms);
/*
 * Go on from where an earlier run stopped, whose last time was ms: the
 * first records without a time of their own take it, and with --year
 * the first stamps without a year are rolled over to follow it, as one
 * run over the whole input would have. Call after parse_ctx_reset().
 */
void parse_ctx_resume(struct parse_ctx *ctx, int64_t ms);

/*
 * The cheap pass over one record: shape, time (own or inferred), level,
 * envelope fields. out->message is the text inside the envelopes (for a
 * JSON record: the raw JSON) until parse_decode() runs. Counts the record
 * in ctx->by_format and the time counters.
 */
void parse_record(struct parse_ctx *ctx, const struct record *rec,
		  struct parsed *out);

/*
 * The expensive pass, for the record last given to parse_record(): decode
 * a JSON record (message, level and time from the usual keys, its
 * attributes as fields, a message that is itself a log line parsed again
 * as one, Python's exc_info/exception appended to the message, the
 * messages of joined JSON lines joined by "\n"), and read the inner
 * shape's fields of any record (method, path, status, logger, ...). A
 * JSON record that does not decode falls back to text and is counted as
 * PARSE_FMT_JSON_BAD instead of its shape. Return 0, or -1 for malformed
 * JSON (out stays usable as text).
 */
int parse_decode(struct parse_ctx *ctx, struct parsed *out);

/*
 * Look up a field of the record last parsed: a top-level attribute of a
 * decoded JSON record (strings as they are, numbers and booleans as their
 * text), else one of out->fields. *out stays valid until the next
 * parse_record(). Return true when found.
 */
bool parse_field(struct parse_ctx *ctx, const char *name, struct span *out);

/*
 * The level a line of text names for itself ("ERROR:", "[error]",
 * "level=error", PostgreSQL's "FATAL:"), looked for in its first bytes;
 * PARSE_LEVEL_NONE when it names none.
 */
int parse_text_level(const char *p, size_t n);

/*
 * Is p a JSON line: 1 for '{' ... '}' (blanks around allowed), -1 for
 * one that starts with '{' but does not end with '}', 0 otherwise.
 */
int parse_looks_like_json(const char *p, size_t n);

/* "error", "warning", ...; "" for PARSE_LEVEL_NONE. */
const char *parse_level_name(enum parse_level l);
/* "text", "json-docker", "compose", ... (see enum parse_format). */
const char *parse_format_name(enum parse_format f);

#endif

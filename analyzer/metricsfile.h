/*
 * metricsfile.h - metrics exports read beside the logs (stages 2 and 3
 * for numbers): a file of samples instead of log lines, recognised by its
 * content, its samples stored in the database's metrics table so that
 * memory and CPU series from the platform sit beside the log events.
 *
 * Three shapes are read:
 *
 *   CSV with a header "timestamp,metric,value" and any further columns as
 *   labels ("service", "replica"; a column "unit" gives the unit):
 *       timestamp,metric,value,service
 *       2026-02-24T10:15:00Z,memory_usage_bytes,734003200,api
 *   Prometheus' text exposition format with timestamps (milliseconds):
 *       # TYPE container_memory_usage_bytes gauge
 *       container_memory_usage_bytes{pod="api-1"} 7.340032e+08 1771928100000
 *   A JSON array of objects {timestamp, metric, value} ("name" for metric,
 *   "time" or "ts" for timestamp), other scalar members and a "labels"
 *   object as labels:
 *       [{"timestamp": "2026-02-24T10:15:00Z", "metric": "cpu_percent",
 *         "value": 93.5, "service": "api"}]
 *
 * A sample is stored as the series name, with its labels in Prometheus'
 * notation (memory_usage_bytes{service="api"}), its time (epoch ms; ISO
 * 8601 stamps or epoch numbers of any unit, stamps without a zone read in
 * --tz), and its value normalised like the rules' metrics: a unit from
 * the "unit" column or the name's suffix (_bytes, _seconds, _ms,
 * _percent) gives MiB, ms or %. Its line is the line of the sample (for
 * the JSON array: the sample's position in it). The whole export is read
 * on every run; a sample already stored (same source, line and name) is
 * not stored again.
 */
#ifndef LOGTRIAGE_METRICSFILE_H
#define LOGTRIAGE_METRICSFILE_H

#include "common.h"
#include "parse.h"
#include "record.h"

struct store;

/* Longest line (or JSON object) read as a sample; longer ones are bad. */
#define METRICSFILE_MAX_LINE 65536
/* Labels kept per sample; more are dropped. */
#define METRICSFILE_MAX_LABELS 16
/* Bad lines reported on stderr per input; the rest are counted. */
#define METRICSFILE_BAD_SHOWN 10

enum metricsfile_kind {
	METRICSFILE_NONE = 0,   /* not a metrics export: a log */
	METRICSFILE_CSV,
	METRICSFILE_PROMETHEUS,
	METRICSFILE_JSON,
};

/* What was read of one export. */
struct metricsfile_stats {
	enum metricsfile_kind kind;
	uint64_t lines;         /* lines of the file */
	uint64_t samples;       /* samples read (stored unless already) */
	uint64_t series;        /* distinct series names */
	uint64_t bad;           /* lines or objects that are no sample */
	uint64_t no_time;       /* samples without a time */
	int64_t first_ts, last_ts; /* of the samples with a time */
};

/*
 * Is the input whose first bytes are head (len of them, as
 * record_reader_prime() left them) a metrics export, and of which kind?
 * Cheap: the header or the first lines only.
 */
enum metricsfile_kind metricsfile_detect(const char *head, size_t len);

/* "csv", "prometheus", "json", "none". */
const char *metricsfile_kind_name(enum metricsfile_kind kind);

/*
 * Read the whole export from rr (primed, no record framed yet; the whole
 * content is read, a resume point is not applied) and store every sample
 * with store_put_metric() under source_id; with st NULL, only count. So
 * that the input's summary reads like a log's, each sample counts as a
 * record of the kind's format in pc->by_format (PARSE_FMT_METRICS_*) and
 * in the time counters, each bad line as a PARSE_FMT_TEXT record, and
 * rr->lines and rr->records are set. The first METRICSFILE_BAD_SHOWN bad
 * lines are warned about on stderr (name:line). *out (may be NULL) gets
 * the statistics. Return 0, or a store_err (printed).
 */
int metricsfile_read(struct record_reader *rr, struct parse_ctx *pc,
		     struct store *st,		/* or NULL */
		     int64_t source_id,
		     struct metricsfile_stats *out); /* OUT, or NULL */

#endif

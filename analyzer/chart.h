/*
 * chart.h - stage 6 writer: the charts of an incident report, drawn by
 * gnuplot. For each chart with data, chart_write() writes NAME.dat (only
 * numbers: epoch seconds and values) and NAME.gp (a script of fixed
 * text, numbers, rule ids and file names logtriage chose; never a byte
 * of a log line or of a path given by the user), then runs
 * "gnuplot NAME1.gp NAME2.gp ..." in that directory, one process for
 * the charts of an incident (spawn.h: no shell); when that fails, each
 * script alone, to tell which chart failed.
 *
 * gnuplot is optional: without it on PATH the data and scripts are still
 * written, and the report says the charts were skipped.
 */
#ifndef LOGTRIAGE_CHART_H
#define LOGTRIAGE_CHART_H

#include "common.h"

struct agg;

/* How long one gnuplot run may take before it is killed. */
#define CHART_TIMEOUT_MS 60000

/* Image format of --charts: none, png (pngcairo), svg. */
enum chart_format {
	CHART_FORMAT_NONE = 0,
	CHART_FORMAT_PNG,
	CHART_FORMAT_SVG,
};

/*
 * The charts of a report, each drawn only where its data exist:
 *   CHART_EVENTS   symptoms per minute, stacked by category, with deploy
 *                  markers
 *   CHART_LATENCY  request latency p50/p95 per minute, with the guide's
 *                  5 s line (needs http.* durations)
 *   CHART_MEMORY   memory over time, OOM kills marked (needs MiB metrics)
 *   CHART_HTTP     HTTP status classes per minute (needs access lines)
 * "Per minute" up to 3 hours of chart; longer incidents get wider
 * buckets (5, 10, 15, 30 minutes, hours, days), at most 180 of them.
 */
enum chart_kind {
	CHART_EVENTS = 0,
	CHART_LATENCY,
	CHART_MEMORY,
	CHART_HTTP,
	CHART__COUNT
};

/*
 * What became of the charts of one incident:
 *   CHART_STATE_NOT_ASKED   --charts none
 *   CHART_STATE_NO_TIME     the incident has no timestamps: nothing to plot
 *   CHART_STATE_DRAWN       every chart with data was drawn
 *   CHART_STATE_NO_GNUPLOT  gnuplot is not on PATH: data and scripts only
 *   CHART_STATE_FAILED      gnuplot failed on a chart (note says how)
 */
enum chart_state {
	CHART_STATE_NOT_ASKED = 0,
	CHART_STATE_NO_TIME,
	CHART_STATE_DRAWN,
	CHART_STATE_NO_GNUPLOT,
	CHART_STATE_FAILED,
};

struct chart_set {
	enum chart_format format;
	enum chart_state state;
	bool have[CHART__COUNT];        /* data found: .dat and .gp written */
	bool drawn[CHART__COUNT];       /* the image exists */
	char note[256];                 /* why skipped or failed, or "" */
};

/* "png", "svg" or "none". */
const char *chart_format_ext(enum chart_format f);
/* Parse --charts; -1 when unknown. */
int chart_format_parse(const char *s);
/* "events", "latency", "memory", "http". */
const char *chart_kind_name(enum chart_kind k);
/* The chart's title, as the report shows it. */
const char *chart_kind_title(enum chart_kind k);

/*
 * "<id>-<kind>.<ext>": the file name of a chart's image (ext from the
 * format), data ("dat") or script ("gp"). Writes into out (size bytes).
 */
void chart_file_name(const char *id, enum chart_kind k, const char *ext,
		     char *out, size_t size);

/*
 * Write the charts of a into dir (which must exist) in format fmt and
 * draw them with gnuplot; fills *out in every case. Return 0 (also when
 * gnuplot is missing or failed: see out->state), or -1 when a file could
 * not be written (printed).
 */
int chart_write(const struct agg *a,
		const char *dir,		/* where the files go */
		enum chart_format fmt,		/* image format */
		struct chart_set *out);		/* OUT: what was drawn */

/*
 * Copy the files chart_write() wrote for incident id into dir (its data,
 * scripts, and the images it drew) to to_dir (which must exist): the
 * same charts beside another document. Return 0 or -1 (printed).
 */
int chart_copy(const char *id,			/* the incident */
	       const struct chart_set *cs,	/* what chart_write() did */
	       const char *dir,			/* where it wrote */
	       const char *to_dir);		/* where the copies go */

#endif

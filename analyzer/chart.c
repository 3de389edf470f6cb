/*
 * chart.c - stage 6 writer: gnuplot data (.dat) and scripts (.gp) for the
 * charts of one incident, drawn by running gnuplot from an argument
 * vector. The scripts hold only fixed text, numbers, rule ids and
 * categories (checked against a safe alphabet) and file names made of
 * the incident id: nothing from a log line and no user path, since
 * gnuplot runs in the output directory.
 */
#include "common.h"
#include "chart.h"
#include "agg.h"
#include "buf.h"
#include "diag.h"
#include "spawn.h"

#include <errno.h>

static const char *const kind_names[CHART__COUNT] = {
	"events", "latency", "memory", "http",
};

static const char *const kind_titles[CHART__COUNT] = {
	"Symptoms by category",
	"Request latency p50 and p95",
	"Memory over time",
	"HTTP responses by status class",
};

/* "minute", "5 minutes", "2 hours", "day": one bucket, for labels. */
static const char *bucket_words(int64_t ms, char *out, size_t size)
{
	int64_t min = ms / 60000;

	if (min <= 1)
		snprintf(out, size, "minute");
	else if (min < 60)
		snprintf(out, size, "%" PRId64 " minutes", min);
	else if (min == 60)
		snprintf(out, size, "hour");
	else if (min < 1440)
		snprintf(out, size, "%" PRId64 " hours", min / 60);
	else if (min == 1440)
		snprintf(out, size, "day");
	else
		snprintf(out, size, "%" PRId64 " days", min / 1440);
	return out;
}

const char *chart_format_ext(enum chart_format f)
{
	return f == CHART_FORMAT_PNG ? "png" : f == CHART_FORMAT_SVG ? "svg" :
	       "none";
}

int chart_format_parse(const char *s)
{
	if (strcmp(s, "png") == 0)
		return CHART_FORMAT_PNG;
	if (strcmp(s, "svg") == 0)
		return CHART_FORMAT_SVG;
	if (strcmp(s, "none") == 0)
		return CHART_FORMAT_NONE;
	return -1;
}

const char *chart_kind_name(enum chart_kind k)
{
	return kind_names[k];
}

const char *chart_kind_title(enum chart_kind k)
{
	return kind_titles[k];
}

void chart_file_name(const char *id, enum chart_kind k, const char *ext,
		     char *out, size_t size)
{
	snprintf(out, size, "%s-%s.%s", id, kind_names[k], ext);
}

/*
 * Text allowed inside a gnuplot string of a script: rule ids, category
 * and file names are made of these, and none of them can end a string,
 * start a command or a substitution (", ', `, @, \, ;, $ are absent).
 */
static bool is_safe_text(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* Write data to dir/name. Return 0 or -1 (printed). */
static int write_file(const char *dir, const char *name, const struct buf *b)
{
	struct buf path;
	FILE *f;
	int rc = 0;

	buf_init(&path);
	buf_addf(&path, "%s/%s", dir, name);
	f = fopen(path.p, "w");
	if (f == NULL) {
		rc = error("%s: cannot write chart data: %s", path.p,
			   strerror(errno));
		goto out;
	}
	if (fwrite(b->p, 1, b->len, f) != b->len) {
		rc = error("%s: cannot write chart data: %s", path.p,
			   strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0)
		rc = error("%s: cannot write chart data: %s", path.p,
			   strerror(errno));
out:
	buf_release(&path);
	return rc;
}

/* The common head of every script: terminal, output, time axis. */
static void script_head(struct buf *gp, const struct agg *a, enum chart_kind k,
			enum chart_format fmt, const char *ylabel)
{
	char img[96], gpn[96], per[32];

	chart_file_name(a->id, k, chart_format_ext(fmt), img, sizeof(img));
	chart_file_name(a->id, k, "gp", gpn, sizeof(gpn));
	buf_addf(gp, "# logtriage " LOGTRIAGE_VERSION ": %s for incident %s\n"
		 "# draw it again with: gnuplot %s\n", kind_names[k], a->id, gpn);
	/* Scripts run one after another in one gnuplot: start clean. */
	buf_adds(gp, "reset\n");
	if (fmt == CHART_FORMAT_SVG)
		buf_adds(gp, "set terminal svg size 960,360 font 'sans,10' "
			 "background rgb 'white'\n");
	else
		buf_adds(gp, "set terminal pngcairo size 960,360 "
			 "font 'sans,9'\n");
	buf_addf(gp, "set output '%s'\n", img);
	if (k == CHART_MEMORY)
		buf_addf(gp, "set title '%s (UTC)'\n", kind_titles[k]);
	else
		buf_addf(gp, "set title '%s, per %s (UTC)'\n", kind_titles[k],
			 bucket_words(a->bucket_ms, per, sizeof(per)));
	buf_adds(gp, "set xdata time\nset timefmt '%s'\n");
	buf_addf(gp, "set format x '%s'\n",
		 a->chart_to - a->chart_from > 86400000 ? "%m-%d %H:%M" :
		 a->chart_to - a->chart_from > 900000 ? "%H:%M" : "%H:%M:%S");
	buf_addf(gp, "set xrange ['%" PRId64 "':'%" PRId64 "']\n",
		 a->chart_from / 1000, a->chart_to / 1000);
	buf_addf(gp, "set ylabel '%s'\nset key outside right top\n"
		 "set grid ytics\n", ylabel);
}

/*
 * Dashed vertical lines (with rule ids) at the deploy markers, in front
 * of the bars. Labels of markers close to the one before step down, so
 * that they do not print over each other.
 */
static void script_markers(struct buf *gp, const struct agg *a)
{
	int64_t near = (a->chart_to - a->chart_from) / 30, prev = INT64_MIN;
	size_t i;
	int n = 0, level = 0;

	if (a->nmarkers)
		buf_adds(gp, "set style textbox opaque noborder\n");
	for (i = 0; i < a->nmarkers; i++) {
		const struct agg_event *e = &a->ev[a->markers[i]];

		n++;
		level = prev != INT64_MIN && e->pos.ts - prev < near ?
			(level + 1) % 3 : 0;
		prev = e->pos.ts;
		buf_addf(gp, "set arrow %d from '%" PRId64 "', graph 0 to '%"
			 PRId64 "', graph 1 nohead front dashtype 2 linecolor "
			 "rgb '#555555'\n", n, e->pos.ts / 1000,
			 e->pos.ts / 1000);
		if (is_safe_text(e->rule_id))
			buf_addf(gp, "set label %d '%s' at '%" PRId64 "', graph "
				 "%.2f rotate by 90 right offset -0.8,0 front "
				 "boxed font ',8' textcolor rgb '#333333'\n", n,
				 e->rule_id, e->pos.ts / 1000,
				 0.97 - 0.32 * level);
	}
}

/* A stacked bar chart of a series: cumulative columns, drawn tallest
 * first. Return false when the series is empty. */
static bool stacked(const struct agg *a, const struct agg_series *s,
		    enum chart_kind k, enum chart_format fmt, struct buf *dat,
		    struct buf *gp)
{
	char datn[96];
	size_t b, c;
	uint64_t total = 0;
	int64_t half = a->bucket_ms / 2;

	if (s->ncols == 0)
		return false;
	for (c = 0; c < s->ncols; c++)
		if (!is_safe_text(s->cols[c]))
			return false;
	buf_adds(dat, "# bucket middle (epoch s), then cumulative counts:");
	for (c = 0; c < s->ncols; c++)
		buf_addf(dat, " %s", s->cols[c]);
	buf_addch(dat, '\n');
	for (b = 0; b < a->nbuckets; b++) {
		uint64_t cum = 0;

		buf_addf(dat, "%" PRId64, (a->chart_from + (int64_t)b *
			 a->bucket_ms + half) / 1000);
		for (c = 0; c < s->ncols; c++) {
			cum += s->counts[b * s->ncols + c];
			buf_addf(dat, " %" PRIu64, cum);
		}
		total += cum;
		buf_addch(dat, '\n');
	}
	if (total == 0)
		return false;
	chart_file_name(a->id, k, "dat", datn, sizeof(datn));
	{
		char per[32], label[48];

		snprintf(label, sizeof(label), "per %s",
			 bucket_words(a->bucket_ms, per, sizeof(per)));
		script_head(gp, a, k, fmt, label);
	}
	buf_adds(gp, "set yrange [0:*]\nset style fill solid 0.85 border -1\n");
	buf_addf(gp, "set boxwidth %" PRId64 " absolute\n",
		 a->bucket_ms * 9 / 10 / 1000);
	if (k == CHART_EVENTS)
		script_markers(gp, a);
	buf_adds(gp, "plot ");
	for (c = s->ncols; c-- > 0;)
		buf_addf(gp, "%s'%s' using 1:%zu with boxes title '%s'",
			 c + 1 == s->ncols ? "" : ", \\\n     ",
			 c + 1 == s->ncols ? datn : "", c + 2, s->cols[c]);
	if (k == CHART_EVENTS && a->nmarkers)
		buf_adds(gp, ", \\\n     NaN with lines dashtype 2 linecolor "
			 "rgb '#555555' title 'deploy markers'");
	buf_addch(gp, '\n');
	return true;
}

/* p50/p95 per bucket of the latency samples, with the 5 s line. */
static bool latency(const struct agg *a, enum chart_format fmt,
		    struct buf *dat, struct buf *gp)
{
	char datn[96];
	double *v;
	size_t i = 0, j, n;

	if (a->nlatency == 0)
		return false;
	v = xcalloc(a->nlatency, sizeof(*v));
	buf_adds(dat, "# bucket middle (epoch s), p50 ms, p95 ms, samples\n");
	while (i < a->nlatency) {
		int64_t b = (a->latency[i].ts - a->chart_from) / a->bucket_ms;
		struct agg_stat st;

		for (j = i, n = 0; j < a->nlatency &&
		     (a->latency[j].ts - a->chart_from) / a->bucket_ms == b; j++)
			v[n++] = a->latency[j].value;
		agg_percentiles(v, n, &st);
		buf_addf(dat, "%" PRId64 " %.1f %.1f %zu\n",
			 (a->chart_from + b * a->bucket_ms + a->bucket_ms / 2) /
			 1000, st.p50, st.p95, n);
		i = j;
	}
	free(v);
	chart_file_name(a->id, CHART_LATENCY, "dat", datn, sizeof(datn));
	script_head(gp, a, CHART_LATENCY, fmt, "ms");
	buf_addf(gp, "set yrange [0:*]\n"
		 "plot '%s' using 1:2 with linespoints title 'p50', \\\n"
		 "     '' using 1:3 with linespoints title 'p95', \\\n"
		 "     %d with lines dashtype 3 linecolor rgb '#cc0000' "
		 "title 'guide: 5 s'\n", datn, AGG_SLOW_REQUEST_MS);
	return true;
}

/* Memory samples over time, with OOM kills as vertical lines. */
static bool memory(const struct agg *a, enum chart_format fmt,
		   struct buf *dat, struct buf *gp)
{
	char datn[96];
	size_t i;

	size_t s;

	if (a->nmemory == 0)
		return false;
	/* One block per series (gnuplot's "index"), two blank lines apart. */
	for (s = 0; s < a->nmemory_series; s++) {
		buf_addf(dat, "%s# series %zu: time (epoch s), memory MiB\n",
			 s ? "\n\n" : "", s + 1);
		for (i = 0; i < a->nmemory; i++)
			if (a->memory[i].series == s)
				buf_addf(dat, "%" PRId64 ".%03d %.1f\n",
					 a->memory[i].ts / 1000,
					 (int)(a->memory[i].ts % 1000),
					 a->memory[i].value);
	}
	chart_file_name(a->id, CHART_MEMORY, "dat", datn, sizeof(datn));
	script_head(gp, a, CHART_MEMORY, fmt, "MiB");
	for (i = 0; i < a->noom; i++)
		buf_addf(gp, "set arrow %zu from '%" PRId64 "', graph 0 to '%"
			 PRId64 "', graph 1 nohead linewidth 2 linecolor rgb "
			 "'#cc0000' front\n", i + 1, a->oom[i] / 1000,
			 a->oom[i] / 1000);
	buf_adds(gp, "set yrange [0:*]\nplot ");
	for (s = 0; s < a->nmemory_series; s++) {
		buf_addf(gp, "%s'%s' index %zu using 1:2 with linespoints "
			 "title 'memory", s ? ", \\\n     " : "",
			 s ? "" : datn, s);
		if (a->nmemory_series > 1)
			buf_addf(gp, " %zu", s + 1);
		buf_addch(gp, '\'');
	}
	if (a->noom)
		buf_adds(gp, ", \\\n     NaN with lines linewidth 2 linecolor "
			 "rgb '#cc0000' title 'OOM killed'");
	buf_addch(gp, '\n');
	return true;
}

/*
 * Run gnuplot on the scripts (n of them, kinds[i] for gpn[i]) in one
 * process. When that fails, run them one by one to learn which charts
 * fail, and keep the first reason in out->note.
 */
static void draw(const char *dir, const char *const *gpn,
		 const enum chart_kind *kinds, size_t n, struct chart_set *out)
{
	const char *argv[CHART__COUNT + 2];
	struct spawn_result res;
	char why[200];
	size_t i;
	int rc;

	argv[0] = "gnuplot";
	for (i = 0; i < n; i++)
		argv[i + 1] = gpn[i];
	argv[n + 1] = NULL;
	rc = spawn_run(argv, dir, CHART_TIMEOUT_MS, &res);
	if (rc == SPAWN_NOT_FOUND) {
		out->state = CHART_STATE_NO_GNUPLOT;
		snprintf(out->note, sizeof(out->note),
			 "gnuplot was not found on PATH");
		return;
	}
	for (i = 0; i < n; i++) {
		if (rc == SPAWN_OK) {
			out->drawn[kinds[i]] = true;
			continue;
		}
		argv[1] = gpn[i];
		argv[2] = NULL;
		if (spawn_run(argv, dir, CHART_TIMEOUT_MS, &res) == SPAWN_OK) {
			out->drawn[kinds[i]] = true;
			continue;
		}
		if (out->state != CHART_STATE_FAILED) {
			spawn_describe(&res, CHART_TIMEOUT_MS, why, sizeof(why));
			snprintf(out->note, sizeof(out->note),
				 "gnuplot failed on %s: %s", gpn[i], why);
		}
		out->state = CHART_STATE_FAILED;
	}
}

int chart_write(const struct agg *a, const char *dir, enum chart_format fmt,
		struct chart_set *out)
{
	struct buf dat, gp;
	char name[96], gpn[CHART__COUNT][96];
	const char *scripts[CHART__COUNT];
	enum chart_kind kinds[CHART__COUNT];
	size_t n = 0;
	int k, rc = 0;

	memset(out, 0, sizeof(*out));
	out->format = fmt;
	if (fmt == CHART_FORMAT_NONE) {
		out->state = CHART_STATE_NOT_ASKED;
		return 0;
	}
	if (!a->has_ts || a->nbuckets == 0) {
		out->state = CHART_STATE_NO_TIME;
		return 0;
	}
	out->state = CHART_STATE_DRAWN;
	buf_init(&dat);
	buf_init(&gp);
	for (k = 0; k < CHART__COUNT; k++) {
		bool have;

		buf_clear(&dat);
		buf_clear(&gp);
		switch ((enum chart_kind)k) {
		case CHART_EVENTS:
			have = stacked(a, &a->by_category, CHART_EVENTS, fmt,
				       &dat, &gp);
			break;
		case CHART_LATENCY:
			have = latency(a, fmt, &dat, &gp);
			break;
		case CHART_MEMORY:
			have = memory(a, fmt, &dat, &gp);
			break;
		case CHART_HTTP:
			have = stacked(a, &a->by_status, CHART_HTTP, fmt, &dat,
				       &gp);
			break;
		default:
			have = false;
		}
		if (!have)
			continue;
		out->have[k] = true;
		chart_file_name(a->id, (enum chart_kind)k, "dat", name,
				sizeof(name));
		if (write_file(dir, name, &dat) < 0) {
			rc = -1;
			break;
		}
		chart_file_name(a->id, (enum chart_kind)k, "gp", name,
				sizeof(name));
		if (write_file(dir, name, &gp) < 0) {
			rc = -1;
			break;
		}
		snprintf(gpn[n], sizeof(gpn[n]), "%s", name);
		scripts[n] = gpn[n];
		kinds[n++] = (enum chart_kind)k;
	}
	buf_release(&dat);
	buf_release(&gp);
	if (rc == 0 && n > 0)
		draw(dir, scripts, kinds, n, out);
	return rc;
}

/* Copy dir/name to to_dir/name. Return 0 or -1 (printed). */
static int copy_file(const char *dir, const char *to_dir, const char *name)
{
	struct buf from, data;
	FILE *f;
	char chunk[65536];
	size_t n;
	int rc;

	buf_init(&from);
	buf_init(&data);
	buf_addf(&from, "%s/%s", dir, name);
	f = fopen(from.p, "rb");
	if (f == NULL) {
		rc = error("%s: cannot read chart file: %s", from.p,
			   strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&data, chunk, n);
	rc = ferror(f) ? error("%s: cannot read chart file: %s", from.p,
			       strerror(errno)) : 0;
	fclose(f);
	if (rc == 0)
		rc = write_file(to_dir, name, &data);
out:
	buf_release(&from);
	buf_release(&data);
	return rc;
}

int chart_copy(const char *id, const struct chart_set *cs, const char *dir,
	       const char *to_dir)
{
	char name[96];
	int k;

	for (k = 0; k < CHART__COUNT; k++) {
		if (!cs->have[k])
			continue;
		chart_file_name(id, (enum chart_kind)k, "dat", name,
				sizeof(name));
		if (copy_file(dir, to_dir, name) < 0)
			return -1;
		chart_file_name(id, (enum chart_kind)k, "gp", name, sizeof(name));
		if (copy_file(dir, to_dir, name) < 0)
			return -1;
		if (!cs->drawn[k])
			continue;
		chart_file_name(id, (enum chart_kind)k,
				chart_format_ext(cs->format), name, sizeof(name));
		if (copy_file(dir, to_dir, name) < 0)
			return -1;
	}
	return 0;
}

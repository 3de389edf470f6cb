/*
 * gen.c - deterministic generator of the benchmark inputs of 'make bench':
 * a Railway-style export of a FastAPI service (uvicorn access lines, the
 * app's timing lines with durations, app logging, SQLAlchemy echo,
 * PostgreSQL lines, handled tracebacks, Railway platform lines, deploys)
 * with symptom bursts, as plain text or as a 'railway logs --json' export;
 * and synthetic rule files for the rule-count benchmark.
 *
 *   bench-gen text MB FRACTION    plain export of MB * 10^6 bytes
 *   bench-gen json MB FRACTION    the same stream as JSON lines
 *   bench-gen rules N DIR         N synthetic rule files in DIR
 *
 * FRACTION is the share of lines that belong to symptom bursts: 0.005 for
 * the realistic export; 0.27 for the event-heavy one, where about 10% of
 * all lines then become events (a burst's access and timing lines around
 * each symptom line are not all events). The line shapes are
 * those of samples/ (see samples/README.md); the output depends only on
 * the arguments, so every run of 'make bench' reads the same bytes.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* 2026-02-24T00:00:00Z: the day the exports cover. */
#define START_MS 1771891200000LL
#define LINE_MAX_BYTES 8192

enum stream { OUT_STDOUT, OUT_STDERR };

struct gen {
	uint64_t rng;
	int64_t t;              /* current time, epoch ms */
	bool json;
	uint64_t limit;         /* bytes to write */
	uint64_t bytes;
	uint64_t lines;
	uint64_t burst_lines;   /* lines written inside symptom bursts */
	bool in_burst;
	double fraction;
	int pid;                /* PostgreSQL backend pid */
	char stamp[32];         /* cached "YYYY-MM-DD HH:MM:SS" */
	int64_t stamp_sec;
	char *obuf;             /* output buffer */
	size_t olen;
};

#define OBUF_BYTES (1u << 20)

/* xorshift64*: small, fast, and the same sequence everywhere. */
static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ull;
}

/* Uniform in [lo, hi]. */
static long range(struct gen *g, long lo, long hi)
{
	return lo + (long)(rnd(g) % (uint64_t)(hi - lo + 1));
}

/* True with probability p. */
static bool chance(struct gen *g, double p)
{
	return (double)(rnd(g) >> 11) / 9007199254740992.0 < p;
}

#define PICK(g, arr) (arr[range(g, 0, (long)(sizeof(arr) / sizeof(arr[0])) - 1)])

static void flush_out(struct gen *g)
{
	if (g->olen && fwrite(g->obuf, 1, g->olen, stdout) != g->olen) {
		fprintf(stderr, "bench-gen: write error: %s\n", strerror(errno));
		exit(1);
	}
	g->olen = 0;
}

static void put(struct gen *g, const char *p, size_t n)
{
	if (g->olen + n > OBUF_BYTES)
		flush_out(g);
	memcpy(g->obuf + g->olen, p, n);
	g->olen += n;
	g->bytes += n;
}

/* "2026-02-24 10:00:14" for the current time, cached per second. */
static const char *stamp(struct gen *g)
{
	int64_t sec = g->t / 1000;

	if (sec != g->stamp_sec) {
		time_t tt = (time_t)sec;
		struct tm tm;

		gmtime_r(&tt, &tm);
		strftime(g->stamp, sizeof(g->stamp), "%Y-%m-%d %H:%M:%S", &tm);
		g->stamp_sec = sec;
	}
	return g->stamp;
}

/* Railway's RFC 3339 time with nanoseconds, trailing zeros trimmed. */
static void rfc3339(struct gen *g, char *out, size_t size)
{
	char frac[16];
	int n;

	snprintf(frac, sizeof(frac), "%03d%06ld", (int)(g->t % 1000),
		 range(g, 0, 999999));
	for (n = (int)strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(out, size, "%.10sT%.8s.%sZ", stamp(g), stamp(g) + 11, frac);
}

/* Append s to a JSON string body. */
static void json_escape(struct gen *g, const char *s, size_t n)
{
	char tmp[LINE_MAX_BYTES * 2];
	size_t i, k = 0;

	for (i = 0; i < n && k + 8 < sizeof(tmp); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			tmp[k++] = '\\';
			tmp[k++] = (char)c;
		} else if (c == '\t') {
			tmp[k++] = '\\';
			tmp[k++] = 't';
		} else if (c < 0x20) {
			k += (size_t)snprintf(tmp + k, 8, "\\u%04x", c);
		} else {
			tmp[k++] = (char)c;
		}
	}
	put(g, tmp, k);
}

/*
 * Write one output line. In JSON mode it becomes a 'railway logs --json'
 * object: message, level (stdout is info, stderr error) and timestamp in
 * the varying key order of Railway's HashMap.
 */
static void emit(struct gen *g, enum stream s, const char *text)
{
	size_t n = strlen(text);

	g->lines++;
	if (g->in_burst)
		g->burst_lines++;
	if (!g->json) {
		put(g, text, n);
		put(g, "\n", 1);
		return;
	}
	{
		/* key orders; 0 is the message, written in place */
		static const int orders[6][3] = {
			{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
			{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
		};
		char ts[64];
		const char *level = s == OUT_STDOUT ? "info" : "error";
		char lv[32], tm[96];
		int order = (int)range(g, 0, 5);
		const char *parts[3];
		int i;

		rfc3339(g, ts, sizeof(ts));
		snprintf(lv, sizeof(lv), "\"level\":\"%s\"", level);
		snprintf(tm, sizeof(tm), "\"timestamp\":\"%s\"", ts);
		parts[1] = lv;
		parts[2] = tm;
		put(g, "{", 1);
		for (i = 0; i < 3; i++) {
			int k = orders[order][i];

			if (i)
				put(g, ",", 1);
			if (k == 0) {
				put(g, "\"message\":\"", 11);
				json_escape(g, text, n);
				put(g, "\"", 1);
			} else {
				put(g, parts[k], strlen(parts[k]));
			}
		}
		put(g, "}\n", 2);
	}
}

__attribute__((format(printf, 3, 4)))
static void emitf(struct gen *g, enum stream s, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(g, s, line);
}

/* A line of the app's logger: "%(asctime)s %(levelname)s %(name)s: ..." */
__attribute__((format(printf, 4, 5)))
static void applog(struct gen *g, const char *level, const char *name,
		   const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES - 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emitf(g, OUT_STDERR, "%s,%03d %s %s: %s", stamp(g), (int)(g->t % 1000),
	      level, name, msg);
}

/* SQLAlchemy echo: "... INFO sqlalchemy.engine.Engine <text>". */
__attribute__((format(printf, 2, 3)))
static void sql(struct gen *g, const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES - 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emitf(g, OUT_STDERR, "%s,%03d INFO sqlalchemy.engine.Engine %s",
	      stamp(g), (int)(g->t % 1000), msg);
}

/* PostgreSQL with log_line_prefix = '%m [%p] '. */
__attribute__((format(printf, 2, 3)))
static void pglog(struct gen *g, const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES - 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emitf(g, OUT_STDERR, "%s.%03d UTC [%d] %s", stamp(g),
	      (int)(g->t % 1000), g->pid, msg);
}

static void tick(struct gen *g, long lo, long hi)
{
	g->t += range(g, lo, hi);
}

static const char *const reasons[] = {
	[200] = "OK", [201] = "Created", [204] = "No Content",
	[304] = "Not Modified", [400] = "Bad Request", [401] = "Unauthorized",
	[404] = "Not Found", [422] = "Unprocessable Content",
	[500] = "Internal Server Error", [504] = "Gateway Timeout",
};

/* uvicorn's access line (no duration). */
static void access_line(struct gen *g, const char *method, const char *path,
			int status)
{
	emitf(g, OUT_STDOUT, "INFO:     100.64.0.%ld:%ld - \"%s %s HTTP/1.1\" "
	      "%d %s", range(g, 2, 9), range(g, 10000, 65535), method, path,
	      status, reasons[status]);
}

/* The app's timing middleware (with the duration). */
static void timing_line(struct gen *g, const char *method, const char *path,
			int status, double ms)
{
	char *q = strchr(path, '?');
	int plen = q ? (int)(q - path) : (int)strlen(path);

	applog(g, "INFO", "app.timing", "%s %.*s %d %.1fms", method, plen, path,
	       status, ms);
}

/* Statements as SQLAlchemy's ORM writes them (every column named). */
static const char *const stmts[] = {
	"SELECT tests.id AS tests_id, tests.name AS tests_name, count("
	"test_results.id) AS runs, avg(test_results.duration_ms) AS avg_ms "
	"FROM tests JOIN test_results ON test_results.test_id = tests.id "
	"WHERE tests.project_id = %(project_id_1)s GROUP BY tests.id, "
	"tests.name ORDER BY tests.name",
	"SELECT projects.id AS projects_id, projects.name AS projects_name, "
	"projects.repo_url AS projects_repo_url, projects.created_at AS "
	"projects_created_at FROM projects WHERE projects.id = %(pk_1)s",
	"SELECT test_results.id AS test_results_id, test_results.status AS "
	"test_results_status, test_results.duration_ms AS "
	"test_results_duration_ms, test_results.created_at AS "
	"test_results_created_at FROM test_results WHERE test_results.test_id "
	"= %(test_id_1)s ORDER BY test_results.created_at DESC LIMIT "
	"%(param_1)s",
	"INSERT INTO test_runs (project_id, commit_sha, started_at) VALUES "
	"(%(project_id)s, %(commit_sha)s, now()) RETURNING test_runs.id",
	"SELECT users.id AS users_id, users.email AS users_email, users.role "
	"AS users_role, users.last_seen_at AS users_last_seen_at FROM users "
	"WHERE users.id = %(pk_1)s",
};

static void sql_echo(struct gen *g, int stmt, long param, bool commit)
{
	sql(g, "BEGIN (implicit)");
	tick(g, 0, 1);
	sql(g, "%s", stmts[stmt]);
	if (chance(g, 0.2))
		sql(g, "[generated in 0.%05lds] {'id': %ld}", range(g, 8, 30),
		    param);
	else
		sql(g, "[cached since %ld.%03lds ago] {'id': %ld}",
		    range(g, 1, 3000), range(g, 0, 999), param);
	tick(g, 1, 5);
	sql(g, commit ? "COMMIT" : "ROLLBACK");
}

/* One ordinary API request: echo, cache, access line, timing line. */
static void request(struct gen *g)
{
	char path[256];
	long id = range(g, 1, 40);
	int kind = (int)range(g, 0, 99);
	const char *method = "GET";
	int status = 200;
	double ms;

	if (kind < 30) {
		snprintf(path, sizeof(path), "/api/v1/projects/%ld/tests", id);
		sql_echo(g, 0, id, false);
		ms = (double)range(g, 2500, 8000) / 10;
	} else if (kind < 50) {
		snprintf(path, sizeof(path), "/api/v1/projects/%ld/summary", id);
		applog(g, "DEBUG", "app.cache", "cache hit summary:%ld", id);
		ms = (double)range(g, 8, 30) / 10;
	} else if (kind < 65) {
		long t = range(g, 1000, 19999);

		snprintf(path, sizeof(path), "/api/v1/tests/%ld/results%s", t,
			 chance(g, 0.3) ? "?limit=50" : "");
		sql_echo(g, 2, t, false);
		ms = (double)range(g, 900, 1700) / 10;
	} else if (kind < 75) {
		snprintf(path, sizeof(path), "/api/v1/me");
		sql_echo(g, 4, range(g, 1, 300), false);
		ms = (double)range(g, 10, 25) / 10;
	} else if (kind < 85) {
		snprintf(path, sizeof(path), "/api/v1/projects/%ld", id);
		sql_echo(g, 1, id, false);
		ms = (double)range(g, 20, 60) / 10;
	} else if (kind < 90) {
		method = "POST";
		snprintf(path, sizeof(path), "/api/v1/webhooks/github");
		applog(g, "INFO", "app.webhooks", "github event=%s delivery="
		       "%08lx-%04lx-4%03lx-%04lx-%012lx repo=example/project-%ld",
		       chance(g, 0.7) ? "push" : "pull_request",
		       range(g, 0, 0x7fffffff), range(g, 0, 0xffff),
		       range(g, 0, 0xfff), range(g, 0x8000, 0xbfff),
		       range(g, 0, 0x7fffffff), id);
		ms = (double)range(g, 20, 40) / 10;
	} else if (kind < 94) {
		method = "POST";
		status = 201;
		snprintf(path, sizeof(path), "/api/v1/projects/%ld/runs", id);
		sql_echo(g, 3, id, true);
		ms = (double)range(g, 60, 200) / 10;
	} else if (kind < 97) {
		status = 404;
		snprintf(path, sizeof(path), "/api/v1/projects/%ld",
			 range(g, 41, 999));
		sql_echo(g, 1, id, false);
		ms = (double)range(g, 20, 50) / 10;
	} else {
		method = "POST";
		status = 422;
		snprintf(path, sizeof(path), "/api/v1/projects/%ld/imports", id);
		if (chance(g, 0.5))
			applog(g, "ERROR", "app.imports", "rejected JUnit report "
			       "for project %ld: testsuite element missing", id);
		ms = (double)range(g, 10, 90) / 10;
	}
	access_line(g, method, path, status);
	timing_line(g, method, path, status, ms);
}

/* An uptime monitor probing /health: classified (health.check_passed). */
static void health_probe(struct gen *g)
{
	access_line(g, "GET", "/health", 200);
	timing_line(g, "GET", "/health", 200, (double)range(g, 8, 30) / 10);
}

static void postgres_noise(struct gen *g)
{
	int k = (int)range(g, 0, 9);

	g->pid = (int)range(g, 30000, 32767);
	if (k < 6) {
		pglog(g, "LOG:  duration: %ld.%03ld ms  statement: %s",
		      range(g, 1000, 4800), range(g, 0, 999), stmts[range(g, 0, 4)]);
	} else if (k < 8) {
		pglog(g, "LOG:  checkpoint starting: time");
		tick(g, 2000, 3000);
		pglog(g, "LOG:  checkpoint complete: wrote %ld buffers (0.%ld%%); "
		      "0 WAL file(s) added, 0 removed, 0 recycled; write=%ld.%03ld "
		      "s, sync=0.004 s, total=2.230 s; sync files=12, longest=0.002 "
		      "s, average=0.001 s; distance=140 kB, estimate=152 kB",
		      range(g, 5, 90), range(g, 1, 9), range(g, 1, 3),
		      range(g, 0, 999));
	} else {
		pglog(g, "LOG:  automatic vacuum of table \"railway.public."
		      "test_results\": index scans: 1");
		pglog(g, "LOG:  automatic analyze of table \"railway.public."
		      "test_results\"");
	}
}

/* Frames of a Starlette request traceback (Python 3.13 markers). */
static const char *const asgi_frames[] = {
	"Traceback (most recent call last):",
	"  File \"/usr/local/lib/python3.13/site-packages/uvicorn/protocols/"
	"http/httptools_impl.py\", line 401, in run_asgi",
	"    result = await app(  # type: ignore[func-returns-value]",
	"             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
	"        self.scope, self.receive, self.send",
	"        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
	"    )",
	"    ^",
	"  File \"/usr/local/lib/python3.13/site-packages/uvicorn/middleware/"
	"proxy_headers.py\", line 60, in __call__",
	"    return await self.app(scope, receive, send)",
	"           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
	"  File \"/usr/local/lib/python3.13/site-packages/fastapi/"
	"applications.py\", line 1054, in __call__",
	"    await super().__call__(scope, receive, send)",
	"  File \"/usr/local/lib/python3.13/site-packages/starlette/"
	"applications.py\", line 112, in __call__",
	"    await self.middleware_stack(scope, receive, send)",
	"  File \"/usr/local/lib/python3.13/site-packages/starlette/middleware/"
	"errors.py\", line 187, in __call__",
	"    raise exc",
	"  File \"/usr/local/lib/python3.13/site-packages/starlette/middleware/"
	"errors.py\", line 165, in __call__",
	"    await self.app(scope, receive, _send)",
	"  File \"/app/app/main.py\", line 61, in __call__",
	"    await self.app(scope, receive, send_wrapper)",
	"  File \"/usr/local/lib/python3.13/site-packages/starlette/routing.py\", "
	"line 714, in __call__",
	"    await self.middleware_stack(scope, receive, send)",
	"  File \"/usr/local/lib/python3.13/site-packages/starlette/routing.py\", "
	"line 734, in app",
	"    await route.handle(scope, receive, send)",
	"  File \"/usr/local/lib/python3.13/site-packages/fastapi/routing.py\", "
	"line 301, in app",
	"    raw_response = await run_endpoint_function(",
	"                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
	"    ...<3 lines>...",
	"    )",
	"    ^",
};

static void asgi_traceback(struct gen *g, const char *const *tail, size_t n)
{
	size_t i;

	emit(g, OUT_STDERR, "ERROR:    Exception in ASGI application");
	for (i = 0; i < sizeof(asgi_frames) / sizeof(asgi_frames[0]); i++)
		emit(g, OUT_STDERR, asgi_frames[i]);
	for (i = 0; i < n; i++)
		emit(g, OUT_STDERR, tail[i]);
}

/* A handled bug: a 500 with a traceback no rule knows. */
static void app_bug(struct gen *g)
{
	static const char *const tail[] = {
		"  File \"/app/app/main.py\", line 142, in project_summary",
		"    return summarize(rows, params[\"window\"])",
		"                           ~~~~~~^^^^^^^^^^",
		"KeyError: 'window'",
	};
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/projects/%ld/summary",
		 range(g, 1, 40));
	asgi_traceback(g, tail, sizeof(tail) / sizeof(tail[0]));
	access_line(g, "GET", path, 500);
	timing_line(g, "GET", path, 500, (double)range(g, 30, 90) / 10);
}

/* A Railway deploy: build log, healthcheck, container start, startup. */
static void deploy(struct gen *g, bool healthy)
{
	static const char *const build[] = {
		"[Region: europe-west4]",
		"==========================",
		"Using detected Dockerfile!",
		"==========================",
		"",
		"context: MttW-xh2t",
		"[internal] load build definition from Dockerfile",
		"[internal] load metadata for docker.io/library/python:3.13.5-slim",
		"[internal] load .dockerignore",
		"[internal] load build context",
		"[1/5] FROM docker.io/library/python:3.13.5-slim@sha256:"
		"93478489856e2d9b42a7b8efb89650204f057309def06a860d44729994c02a7a",
		"[2/5] WORKDIR /app",
		"[3/5] COPY requirements.txt .",
		"[4/5] RUN pip install --no-cache-dir -r requirements.txt",
		"[5/5] COPY app/ ./app/",
		"exporting to docker image format",
		"containerimage.config.digest: sha256:7e76eff212a2ade45ba3556a518f"
		"16cbeccb548bb4d8989925e0a9a02ddccb26",
		"image push",
		"",
		"====================",
		"Starting Healthcheck",
		"====================",
		"",
		"Path: /health",
		"Retry window: 5m0s",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(build) / sizeof(build[0]); i++) {
		emit(g, OUT_STDOUT, build[i]);
		tick(g, 0, 400);
	}
	if (healthy) {
		emit(g, OUT_STDOUT, "[1/1] Healthcheck succeeded!");
	} else {
		for (i = 1; i <= 11; i++)
			emitf(g, OUT_STDOUT, "Attempt #%zu failed with service "
			      "unavailable. Continuing to retry for %zus", i,
			      300 - i * 26);
		emit(g, OUT_STDOUT, "");
		emit(g, OUT_STDOUT, "1/1 replicas never became healthy!");
		emit(g, OUT_STDOUT, "Healthcheck failed!");
	}
	emit(g, OUT_STDOUT, "Starting Container");
	emit(g, OUT_STDOUT, "Mounting volume on: /var/lib/containers/railwayapp/"
	     "bind-mounts/0f087b92-026b-418f-a39d-f3596ce324e0/"
	     "vol_gaqe3tlrk51j7pz4");
	emit(g, OUT_STDERR, "INFO:     Started server process [1]");
	emit(g, OUT_STDERR, "INFO:     Waiting for application startup.");
	applog(g, "INFO", "app", "starting qaframework-api 1.14.2");
	applog(g, "INFO", "app.db", "connecting to postgresql://postgres:"
	       "FAKE-pg-pass-for-docs-0000@postgres.railway.internal:5432/"
	       "railway");
	sql(g, "select pg_catalog.version()");
	sql(g, "[raw sql] {}");
	applog(g, "INFO", "app.db", "database connection OK");
	emit(g, OUT_STDERR, "INFO:     Application startup complete.");
	emit(g, OUT_STDERR, "INFO:     Uvicorn running on http://0.0.0.0:8080 "
	     "(Press CTRL+C to quit)");
}

/* ---- symptom bursts --------------------------------------------------- */

/* Slow requests (perf.slow_request) and slow statements (perf.slow_query). */
static void burst_slow(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char path[64];
		long id = range(g, 1, 40);

		snprintf(path, sizeof(path), "/api/v1/projects/%ld/tests", id);
		g->pid = (int)range(g, 30000, 32767);
		if (chance(g, 0.3))
			pglog(g, "LOG:  duration: %ld.%03ld ms  statement: %s",
			      range(g, 5000, 9000), range(g, 0, 999), stmts[0]);
		access_line(g, "GET", path, 200);
		timing_line(g, "GET", path, 200,
			    (double)range(g, 50000, 90000) / 10);
		tick(g, 100, 3000);
	}
}

/* Redis down: the cache falls back on every request (perf.cache_unavailable). */
static void burst_cache(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char path[64];
		long id = range(g, 1, 40);

		snprintf(path, sizeof(path), "/api/v1/projects/%ld/summary", id);
		applog(g, "WARNING", "app.cache", "cache unavailable, falling "
		       "back to database: Error 111 connecting to "
		       "redis.railway.internal:6379. Connection refused.");
		access_line(g, "GET", path, 200);
		timing_line(g, "GET", path, 200, (double)range(g, 3000, 9000) / 10);
		tick(g, 50, 1500);
	}
}

/* Rotated JWT secret: 401s (auth.invalid_token, auth.unauthorized_burst). */
static void burst_auth(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		applog(g, "WARNING", "app.security", "rejected token: %s",
		       chance(g, 0.9) ? "Signature verification failed" :
		       "Signature has expired");
		access_line(g, "GET", "/api/v1/me", 401);
		timing_line(g, "GET", "/api/v1/me", 401,
			    (double)range(g, 3, 12) / 10);
		tick(g, 20, 800);
	}
}

/* Preflights refused by CORSMiddleware (cors.blocked). */
static void burst_cors(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		access_line(g, "OPTIONS", "/api/v1/projects", 400);
		timing_line(g, "OPTIONS", "/api/v1/projects", 400, 0.3);
		tick(g, 100, 2000);
	}
}

/* A locked table: requests wait 30 s, one fails (db.pool_exhausted). */
static void burst_pool(struct gen *g, int n)
{
	static const char *const tail[] = {
		"  File \"/app/app/main.py\", line 95, in test_results",
		"    rows = db.execute(",
		"           ~~~~~~~~~~^",
		"  File \"/usr/local/lib/python3.13/site-packages/sqlalchemy/pool/"
		"impl.py\", line 168, in _do_get",
		"    raise exc.TimeoutError(",
		"    ...<3 lines>...",
		"    )",
		"sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow "
		"10 reached, connection timed out, timeout 30.00 (Background on "
		"this error at: https://sqlalche.me/e/20/3o7r)",
	};
	int i;

	for (i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/tests/%ld/results",
			 range(g, 1000, 19999));
		tick(g, 500, 2000);
		timing_line(g, "GET", path, 500, 30000 + (double)range(g, 0, 99) / 10);
		access_line(g, "GET", path, 500);
		asgi_traceback(g, tail, sizeof(tail) / sizeof(tail[0]));
	}
}

/* A worker stuck and killed by gunicorn (perf.worker_timeout, 504s). */
static void burst_timeout(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		emitf(g, OUT_STDERR, "[%s +0000] [1] [CRITICAL] WORKER TIMEOUT "
		      "(pid:%ld)", stamp(g), range(g, 7, 40));
		access_line(g, "GET", "/api/v1/projects/12/tests", 504);
		tick(g, 1000, 5000);
	}
}

/* The database goes away under the app (db.connection_lost). */
static void burst_db_lost(struct gen *g, int n)
{
	static const char *const tail[] = {
		"  File \"/usr/local/lib/python3.13/site-packages/sqlalchemy/"
		"engine/default.py\", line 943, in do_execute",
		"    cursor.execute(statement, parameters)",
		"    ~~~~~~~~~~~~~~^^^^^^^^^^^^^^^^^^^^^^^",
		"psycopg2.OperationalError: server closed the connection "
		"unexpectedly",
		"\tThis probably means the server terminated abnormally",
		"\tbefore or while processing the request.",
	};
	int i;

	for (i = 0; i < n; i++) {
		asgi_traceback(g, tail, sizeof(tail) / sizeof(tail[0]));
		access_line(g, "GET", "/api/v1/me", 500);
		tick(g, 200, 3000);
	}
}

/* The uptime monitor during a quiet spell: a run of health checks. */
static void burst_health(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		health_probe(g);
		tick(g, 200, 2000);
	}
}

/*
 * Start a burst when the share of burst lines is below the target. The
 * mix leans on single-line symptoms so that the event-heavy input really
 * has about FRACTION of its lines classified.
 */
static void maybe_burst(struct gen *g)
{
	uint64_t want = (uint64_t)(g->fraction * (double)g->lines);
	int k, n;

	if (g->burst_lines >= want || !chance(g, g->fraction > 0.05 ? 0.5 :
					    0.02))
		return;
	g->in_burst = true;
	k = (int)range(g, 0, 99);
	n = (int)range(g, 3, 25);
	if (k < 25)
		burst_slow(g, n);
	else if (k < 45)
		burst_cache(g, n);
	else if (k < 65)
		burst_auth(g, n);
	else if (k < 75)
		burst_health(g, n);
	else if (k < 83)
		burst_cors(g, n);
	else if (k < 90)
		burst_timeout(g, n / 3 + 1);
	else if (k < 96)
		burst_pool(g, 1);
	else if (k < 99)
		burst_db_lost(g, n / 5 + 1);
	else
		deploy(g, false);
	g->in_burst = false;
}

static void gen_export(struct gen *g)
{
	deploy(g, true);
	while (g->bytes < g->limit) {
		int k = (int)range(g, 0, 999);

		tick(g, 5, 60);
		if (k < 880)
			request(g);
		else if (k < 940)
			applog(g, "DEBUG", "app.cache", "cache miss summary:%ld, "
			       "recomputing", range(g, 1, 40));
		else if (k < 965)
			postgres_noise(g);
		else if (k < 975)
			health_probe(g);
		else if (k < 985)
			applog(g, "DEBUG", "app.notify", "POST https://hooks."
			       "example.com/qa/results status=200 elapsed=%ldms",
			       range(g, 40, 300));
		else if (k < 995)
			applog(g, "INFO", "app.jobs", "nightly summary project=%ld "
			       "tests=%ld failed=%ld flaky=%ld", range(g, 1, 40),
			       range(g, 50, 900), range(g, 0, 12), range(g, 0, 5));
		else if (k < 999)
			applog(g, "WARNING", "app.validation", "project %ld: "
			       "ignoring unknown field 'owner_email' in payload",
			       range(g, 1, 40));
		else if (chance(g, 0.05))
			app_bug(g);
		else if (chance(g, 0.002))
			deploy(g, true);
		maybe_burst(g);
	}
	flush_out(g);
}

/* ---- synthetic rules -------------------------------------------------- */

static const char *const words[] = {
	"ledger", "invoice", "payment", "gateway", "broker", "shard",
	"replica", "tenant", "quota", "billing", "mailer", "scheduler",
	"webhook", "importer", "exporter", "indexer", "crawler", "search",
	"session", "checkout", "catalog", "inventory", "report", "upload",
	"thumbnail", "render", "pdf", "archive", "snapshot", "backup",
	"ingest", "stream", "consumer", "producer", "partition", "offset",
	"lease", "lock", "election", "heartbeat", "sidecar", "mesh",
	"envoy", "ingress", "certificate", "acme", "dns", "resolver",
	"vault", "secretstore", "kms", "keyring", "ratelimit", "throttle",
	"circuit", "bulkhead", "saga", "outbox", "dedupe", "compactor",
};
static const char *const camel[] = {
	"Ledger", "Invoice", "Payment", "Gateway", "Broker", "Shard",
	"Replica", "Tenant", "Quota", "Billing", "Mailer", "Scheduler",
	"Stripe", "Kafka", "Celery", "Elastic", "Minio", "Twilio",
};
static const char *const categories[] = {
	"build", "health", "database", "startup", "performance", "memory",
	"cors", "auth", "deploy",
};
static const char *const sevs[] = { "critical", "error", "warning", "info" };

/*
 * One synthetic pattern (as a JSON string body) and three lines it
 * matches. The shapes follow the built-in rules: an exception name with
 * a capture, a component message with a number, a case-insensitive
 * phrase, a status line with a path, an environment variable name.
 */
static void synth_pattern(struct gen *g, int shape, char *re, size_t rsize,
			  char ex[3][256])
{
	const char *a = PICK(g, camel), *b = PICK(g, camel);
	const char *w1 = PICK(g, words), *w2 = PICK(g, words);
	int i;

	switch (shape) {
	case 0:
		snprintf(re, rsize, "%s%sError: (?<detail>[^\\\\n]+)", a, b);
		for (i = 0; i < 3; i++)
			snprintf(ex[i], 256, "%s%sError: %s refused id=%d", a, b,
				 w1, i * 7 + 3);
		break;
	case 1:
		snprintf(re, rsize, "\\\\b%s\\\\.%s: retry (?<attempt>\\\\d+)/"
			 "\\\\d+ after (?<ms>\\\\d+)ms", w1, w2);
		for (i = 0; i < 3; i++)
			snprintf(ex[i], 256, "2026-02-24 10:00:0%d,100 WARNING "
				 "%s.%s: retry %d/5 after %dms", i, w1, w2, i + 1,
				 100 << i);
		break;
	case 2:
		snprintf(re, rsize, "(?i)\\\\b%s %s (?:failed|timed out) for "
			 "(?<key>\\\\S+)", w1, w2);
		for (i = 0; i < 3; i++) {
			snprintf(ex[i], 256, "%s %s %s for job-%d", w1, w2,
				 i == 2 ? "TIMED OUT" : "failed", i);
			if (i == 1)
				ex[i][0] = (char)(ex[i][0] - 32);
		}
		break;
	case 3:
		snprintf(re, rsize, "\\\"(?<method>POST|PUT) /api/v1/%s/"
			 "(?<id>\\\\d+)/%s HTTP/1\\\\.1\\\" 5\\\\d\\\\d", w1, w2);
		for (i = 0; i < 3; i++)
			snprintf(ex[i], 256, "INFO:     100.64.0.3:4000%d - "
				 "\\\"POST /api/v1/%s/%d/%s HTTP/1.1\\\" 50%d", i,
				 w1, i + 10, w2, i);
		break;
	default:
		snprintf(re, rsize, "%s_%s_URL is not set", w1, w2);
		for (i = 0; i < 3; i++) {
			snprintf(ex[i], 256, "RuntimeError: %s_%s_URL is not set",
				 w1, w2);
		}
		break;
	}
	/* Upper-case the env var name of shape 4 (it is in the pattern). */
	if (shape == 4) {
		char *p;

		for (p = re; *p && *p != ' '; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
		for (i = 0; i < 3; i++)
			for (p = ex[i] + 14; *p && *p != ' '; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 32);
	}
}

static int gen_rules(struct gen *g, int n, const char *dir)
{
	int i, k;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "bench-gen: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		char ex[3][256];
		char re[512];
		int npat = (int)range(g, 1, 9);
		FILE *f;

		snprintf(path, sizeof(path), "%s/bench.synthetic_%03d.json", dir,
			 i);
		f = fopen(path, "w");
		if (f == NULL) {
			fprintf(stderr, "bench-gen: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		fprintf(f, "{\n  \"id\": \"bench.synthetic_%03d\",\n"
			"  \"title\": \"Synthetic rule %d of the rule-count "
			"benchmark\",\n"
			"  \"guide\": { \"section\": \"%d\", \"title\": "
			"\"Synthetic\" },\n"
			"  \"category\": \"%s\",\n  \"severity\": \"%s\",\n"
			"  \"match\": {\n    \"any\": [\n", i, i, i % 8 + 1,
			categories[i % 9], sevs[i % 4]);
		for (k = 0; k < npat; k++) {
			synth_pattern(g, (int)range(g, 0, 4), re, sizeof(re), ex);
			fprintf(f, "      \"%s\"%s\n", re, k + 1 < npat ? "," : "");
		}
		fprintf(f, "    ]\n  },\n"
			"  \"diagnosis\": [ \"railway logs | grep synthetic\" ],\n"
			"  \"remedy\": [ \"Nothing: this rule only measures the "
			"cost of rules.\" ],\n"
			"  \"examples\": {\n    \"match\": [ \"%s\", \"%s\", "
			"\"%s\" ],\n"
			"    \"no_match\": [ \"INFO:     Application startup "
			"complete.\", \"2026-02-24 10:00:00,000 INFO app: ok\" ]\n"
			"  }\n}\n", ex[0], ex[1], ex[2]);
		if (fclose(f) != 0) {
			fprintf(stderr, "bench-gen: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench-gen text|json MB FRACTION\n"
		"       bench-gen rules N DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct gen g;

	if (argc != 4)
		return usage();
	g.rng = 0x9e3779b97f4a7c15ull;
	g.t = START_MS;
	g.stamp_sec = -1;
	g.pid = 31204;
	if (strcmp(argv[1], "rules") == 0)
		return gen_rules(&g, atoi(argv[2]), argv[3]);
	if (strcmp(argv[1], "text") != 0 && strcmp(argv[1], "json") != 0)
		return usage();
	g.json = strcmp(argv[1], "json") == 0;
	g.limit = (uint64_t)(strtod(argv[2], NULL) * 1e6);
	g.fraction = strtod(argv[3], NULL);
	if (g.limit == 0 || g.fraction < 0 || g.fraction > 0.5)
		return usage();
	g.obuf = malloc(OBUF_BYTES);
	if (g.obuf == NULL)
		return 1;
	gen_export(&g);
	fprintf(stderr, "bench-gen: %" PRIu64 " bytes, %" PRIu64 " lines, %"
		PRIu64 " in symptom bursts (%.2f%%)\n", g.bytes, g.lines,
		g.burst_lines, 100.0 * (double)g.burst_lines / (double)g.lines);
	free(g.obuf);
	return 0;
}

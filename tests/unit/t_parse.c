/*
 * t_parse.c - unit tests for stage 3 (parse): one row per shape, with the
 * shape, inner shape, level, time, message and fields expected; then the
 * cheap pass alone (JSON level and time without decoding), time rules
 * (platform stamp wins, inferred, yearless roll-over), and metrics
 * detection.
 */
#include "common.h"
#include "buf.h"
#include "metricsfile.h"
#include "parse.h"
#include "record.h"
#include "timefmt.h"
#include "unit.h"

/*
 * One case: a record's text (lines joined by "\n"), and what parsing it
 * (both passes) must give. time: ISO 8601 UTC, "-" for none, a leading
 * "~" for a time inferred from the record before (the case's "prev"
 * line, parsed first). fields: "name=value" pairs separated by "|", each
 * of which must be among the record's fields (others may be there too).
 */
struct pcase {
	const char *what;
	const char *prev;       /* a record parsed before, or NULL */
	const char *text;
	const char *shape;
	const char *inner;
	const char *level;
	const char *time;
	const char *message;    /* NULL: the text itself */
	const char *fields;
};

static const struct pcase cases[] = {
	/* ---- plain text ---- */
	{ "unrecognised text", NULL, "Healthcheck failed!",
	  "text", "text", "", "-", NULL, "" },
	{ "text with a level word", NULL,
	  "no time here: [CRITICAL] WORKER TIMEOUT (pid:15)",
	  "text", "text", "critical", "-", NULL, "" },
	{ "an ISO stamp and a level, not Python's", NULL,
	  "2026-02-24T10:00:30Z INFO ok",
	  "text", "text", "info", "2026-02-24T10:00:30.000Z", NULL, "" },
	/* ---- uvicorn ---- */
	{ "uvicorn default", NULL, "INFO:     Started server process [1]",
	  "uvicorn", "uvicorn", "info", "-", NULL, "" },
	{ "uvicorn warning (two spaces)", NULL,
	  "WARNING:  Invalid HTTP request received.",
	  "uvicorn", "uvicorn", "warning", "-", NULL, "" },
	{ "uvicorn critical (one space)", NULL,
	  "CRITICAL: Application startup failed. Exiting.",
	  "uvicorn", "uvicorn", "critical", "-", NULL, "" },
	{ "uvicorn access", NULL,
	  "INFO:     100.64.0.5:18080 - \"GET /api/v1/projects/15/tests HTTP/1.1\" 200 OK",
	  "uvicorn-access", "uvicorn-access", "info", "-", NULL,
	  "client=100.64.0.5:18080|method=GET|path=/api/v1/projects/15/tests|status=200" },
	{ "uvicorn access under gunicorn's UvicornWorker", NULL,
	  "100.64.0.9:47044 - \"GET /api/v1/me HTTP/1.1\" 200",
	  "uvicorn-access", "uvicorn-access", "", "-", NULL,
	  "method=GET|status=200" },
	{ "uvicorn colours stripped", NULL,
	  "\x1b[32mINFO\x1b[0m:     100.64.0.7:39678 - \"\x1b[1mGET /health HTTP/1.1\x1b[0m\" \x1b[32m200 OK\x1b[0m",
	  "uvicorn-access", "uvicorn-access", "info", "-",
	  "INFO:     100.64.0.7:39678 - \"GET /health HTTP/1.1\" 200 OK",
	  "path=/health" },
	{ "Starlette's exception and its traceback", NULL,
	  "ERROR:    Exception in ASGI application\n"
	  "Traceback (most recent call last):\n"
	  "  File \"/app/app/main.py\", line 3, in app\n"
	  "    x = y[\"k\"]\n"
	  "        ~^^^^^\n"
	  "KeyError: 'k'",
	  "uvicorn", "uvicorn", "error", "-", NULL,
	  "exception_line=KeyError: 'k'" },
	/* ---- gunicorn ---- */
	{ "gunicorn error log", NULL,
	  "[2026-02-24 10:15:06 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:14)",
	  "gunicorn", "gunicorn", "critical", "2026-02-24T10:15:06.000Z",
	  NULL, "pid=1" },
	{ "gunicorn access (combined) with %(D)s", NULL,
	  "10.0.0.2 - - [24/Feb/2026:17:30:09 +0000] \"POST /api/v1/results HTTP/1.1\" 201 88 \"-\" \"qaframework-cli/2.3.1\" 182339",
	  "combined", "combined", "", "2026-02-24T17:30:09.000Z", NULL,
	  "client=10.0.0.2|method=POST|status=201|bytes=88|request_time=182339" },
	{ "nginx combined with $request_time", NULL,
	  "203.0.113.7 - - [24/Feb/2026:10:15:40 +0000] \"GET /x HTTP/1.1\" 504 167 \"-\" \"curl/8.5.0\" 60.001",
	  "combined", "combined", "", "2026-02-24T10:15:40.000Z", NULL,
	  "status=504|request_time=60.001" },
	{ "nginx common with rt=", NULL,
	  "10.0.0.2 - - [24/Feb/2026:10:16:00 +0000] \"GET /health HTTP/1.1\" 200 15 \"-\" \"kube-probe/1.29\" rt=0.001 uct=\"0.000\"",
	  "combined", "combined", "", "2026-02-24T10:16:00.000Z", NULL,
	  "request_time=0.001" },
	{ "nginx error log", NULL,
	  "2026/02/24 10:15:40 [error] 31#31: *1043 upstream timed out (110: Connection timed out) while reading response header from upstream",
	  "nginx-error", "nginx-error", "error", "2026-02-24T10:15:40.000Z",
	  NULL, "pid=31" },
	/* ---- Python logging ---- */
	{ "basicConfig's default", NULL, "ERROR:app.db:connection lost",
	  "python", "python", "error", "-", NULL, "logger=app.db" },
	{ "asctime - name - level - message", NULL,
	  "2026-02-24 10:15:04,250 - gunicorn.error - CRITICAL - WORKER TIMEOUT (pid:13)",
	  "python", "python", "critical", "2026-02-24T10:15:04.250Z", NULL,
	  "logger=gunicorn.error" },
	{ "asctime level name: message", NULL,
	  "2026-02-24 10:00:14,794 INFO app.timing: GET /health 200 1.1ms",
	  "python", "python", "info", "2026-02-24T10:00:14.794Z", NULL,
	  "logger=app.timing" },
	{ "Flask's default", NULL,
	  "[2026-02-24 10:15:03,456] ERROR in app: Exception on /api/v1/reports [GET]",
	  "python", "python", "error", "2026-02-24T10:15:03.456Z", NULL,
	  "logger=app" },
	{ "a bare traceback, chained", NULL,
	  "Traceback (most recent call last):\n"
	  "  File \"a.py\", line 1\n"
	  "KeyError: 'A'\n"
	  "\n"
	  "During handling of the above exception, another exception occurred:\n"
	  "\n"
	  "Traceback (most recent call last):\n"
	  "  File \"b.py\", line 2\n"
	  "app.errors.JobFailed: job 17",
	  "traceback", "traceback", "error", "-", NULL,
	  "exception_line=app.errors.JobFailed: job 17" },
	{ "an ExceptionGroup tree", NULL,
	  "ERROR:    Exception in ASGI application\n"
	  "  + Exception Group Traceback (most recent call last):\n"
	  "  |   File \"x.py\", line 1, in f\n"
	  "  | ExceptionGroup: errors (1 sub-exception)\n"
	  "  +-+---------------- 1 ----------------\n"
	  "    | Traceback (most recent call last):\n"
	  "    |   File \"y.py\", line 2, in g\n"
	  "    | httpx.ConnectError: [Errno 111] Connection refused\n"
	  "    +------------------------------------",
	  "uvicorn", "uvicorn", "error", "-", NULL,
	  "exception_line=httpx.ConnectError: [Errno 111] Connection refused" },
	/* ---- builds ---- */
	{ "BuildKit step output: seconds, not a clock", NULL,
	  "#8 2.412 ERROR: Could not find a version that satisfies the requirement x==1 (from versions: none)",
	  "buildkit", "buildkit", "error", "-", NULL, "step=8|elapsed=2.412" },
	{ "BuildKit takes the time of the record before",
	  "2026-02-24 10:00:14,794 INFO app: deploying",
	  "#8 41.87 Killed", "buildkit", "buildkit", "",
	  "~2026-02-24T10:00:14.794Z", NULL, "elapsed=41.87" },
	{ "BuildKit's excerpt after BuildKit lines", "#8 [4/5] RUN pip install",
	  "2.413 ERROR: No matching distribution found for x==1",
	  "buildkit", "buildkit", "error", "-", NULL, "elapsed=2.413" },
	{ "BuildKit's final error", NULL,
	  "ERROR: failed to solve: process \"/bin/sh -c pip install\" did not complete successfully: exit code: 1",
	  "buildkit", "buildkit", "error", "-", NULL, "" },
	{ "Railway's build vertex", NULL,
	  "[4/5] RUN pip install --no-cache-dir -r requirements.txt",
	  "buildkit", "buildkit", "", "-", NULL, "" },
	{ "classic builder step", NULL,
	  "Step 4/10 : RUN pip install -r requirements.txt",
	  "docker-build", "docker-build", "", "-", NULL, "step=4/10" },
	{ "classic builder failure", NULL,
	  "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1",
	  "docker-build", "docker-build", "", "-", NULL, "" },
	/* ---- PostgreSQL ---- */
	{ "PostgreSQL %m [%p]", NULL,
	  "2026-02-24 10:15:05.500 UTC [77] LOG:  duration: 6234.512 ms  statement: SELECT 1",
	  "postgres", "postgres", "info", "2026-02-24T10:15:05.500Z", NULL,
	  "pid=77|duration_ms=6234.512" },
	{ "PostgreSQL pgBadger prefix", NULL,
	  "2026-02-24 10:15:11 UTC [31231]: [1-1] user=app,db=railway,app=psql,client=10.0.3.7 FATAL:  password authentication failed for user \"app\"",
	  "postgres", "postgres", "critical", "2026-02-24T10:15:11.000Z", NULL,
	  "pid=31231|user=app|database=railway" },
	{ "PostgreSQL %q%u@%d", NULL,
	  "2026-02-24 10:15:12.500 UTC [31240] app@railway FATAL:  sorry, too many clients already",
	  "postgres", "postgres", "critical", "2026-02-24T10:15:12.500Z", NULL,
	  "user=app|database=railway" },
	{ "PostgreSQL DETAIL has no level", NULL,
	  "2026-02-24 10:15:09.873 UTC [31220] DETAIL:  Connection matched file line 132",
	  "postgres", "postgres", "", "2026-02-24T10:15:09.873Z", NULL, "" },
	{ "PostgreSQL without a prefix", NULL,
	  "LOG:  database system is ready to accept connections",
	  "postgres", "postgres", "info", "-", NULL, "" },
	/* ---- Redis ---- */
	{ "Redis notice", NULL,
	  "1:M 24 Feb 2026 10:15:02.125 * Ready to accept connections tcp",
	  "redis", "redis", "info", "2026-02-24T10:15:02.125Z", NULL,
	  "pid=1|role=M" },
	{ "Redis warning from a child", NULL,
	  "1:C 24 Feb 2026 10:15:02.123 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
	  "redis", "redis", "warning", "2026-02-24T10:15:02.123Z", NULL,
	  "pid=1|role=C" },
	{ "Redis verbose, replica", NULL,
	  "27:S 04 Mar 2026 09:01:00.001 - Client closed connection",
	  "redis", "redis", "debug", "2026-03-04T09:01:00.001Z", NULL,
	  "pid=27|role=S" },
	{ "Redis's signal handler: epoch seconds, a warning", NULL,
	  "1:signal-handler (1771931704) Received SIGTERM scheduling shutdown...",
	  "redis", "redis", "warning", "2026-02-24T11:15:04.000Z", NULL,
	  "pid=1" },
	{ "Redis's signal handler without its time", NULL,
	  "1:signal-handler () Received SIGTERM scheduling shutdown...",
	  "text", "text", "", "-", NULL, "" },
	{ "Redis: a role it never writes", NULL,
	  "1:Q 24 Feb 2026 10:15:02.125 * Ready to accept connections tcp",
	  "text", "text", "", "-", NULL, "" },
	{ "Redis: a level it never writes", NULL,
	  "1:M 24 Feb 2026 10:15:02.125 ! Ready to accept connections tcp",
	  "text", "text", "", "-", NULL, "" },
	{ "Redis 2.x ([pid], no year) stays text", NULL,
	  "[4018] 14 Nov 07:01:22.119 * Background saving terminated with success",
	  "text", "text", "", "-", NULL, "" },
	{ "Redis under Railway's envelope", NULL,
	  "2026-02-24T10:15:02.200000000Z [inf]  1:M 24 Feb 2026 10:15:02.125 # WARNING Memory overcommit must be enabled!",
	  "railway", "redis", "warning", "2026-02-24T10:15:02.200Z",
	  "1:M 24 Feb 2026 10:15:02.125 # WARNING Memory overcommit must be enabled!",
	  "pid=1|role=M|app_time=24 Feb 2026 10:15:02.125" },
	/* ---- logfmt ---- */
	{ "logfmt (slog)", NULL,
	  "time=2026-02-24T10:15:03.009Z level=WARN msg=\"slow query\" duration=5.234s",
	  "logfmt", "logfmt", "warning", "2026-02-24T10:15:03.009Z", NULL,
	  "msg=slow query|duration=5.234s" },
	{ "logfmt (Heroku's router)", NULL,
	  "at=error code=H12 desc=\"Request timeout\" method=GET path=\"/\" service=30001ms status=503",
	  "logfmt", "logfmt", "error", "-", NULL, "code=H12|status=503" },
	/* ---- Kubernetes ---- */
	{ "kubectl get events", NULL,
	  "3m10s       Warning   BackOff      pod/api-7c9d8f6b5-x2x9k       Back-off restarting failed container api",
	  "k8s-events", "k8s-events", "warning", "-", NULL,
	  "reason=BackOff|object=pod/api-7c9d8f6b5-x2x9k" },
	{ "kubectl get events -A", NULL,
	  "production   90s   Normal   Pulled   pod/api-1   Container image already present",
	  "k8s-events", "k8s-events", "info", "-", NULL, "reason=Pulled" },
	{ "kubectl describe: the first line", NULL,
	  "Name:             api-7c9d8f6b5-x2x9k",
	  "k8s-describe", "k8s-describe", "", "-", NULL, "" },
	{ "an event row without describe lines before it", "Events:",
	  "  Warning  BackOff    2m (x25 over 9m)     kubelet            Back-off restarting failed container",
	  "text", "text", "", "-", NULL, "" },
	{ "kubectl describe: an event row after describe lines",
	  "Name:             api-1",
	  "  Warning  BackOff    2m (x25 over 9m)     kubelet            Back-off restarting failed container",
	  "k8s-describe", "k8s-describe", "warning", "-", NULL,
	  "reason=BackOff" },
	/* ---- envelopes ---- */
	{ "docker compose, padded", NULL,
	  "api-1     | ERROR:    Application startup failed. Exiting.",
	  "compose", "uvicorn", "error", "-",
	  "ERROR:    Application startup failed. Exiting.", "service=api-1" },
	{ "docker compose, coloured prefix", NULL,
	  "\x1b[36mworker-1  | \x1b[0m2026-02-24 10:15:02,551 ERROR app.worker: job 17 failed",
	  "compose", "python", "error", "2026-02-24T10:15:02.551Z",
	  "2026-02-24 10:15:02,551 ERROR app.worker: job 17 failed",
	  "service=worker-1|logger=app.worker" },
	{ "docker compose logs -t: two envelopes", NULL,
	  "api-1  | 2026-02-24T10:15:01.482113527Z INFO:     Started server process [1]",
	  "compose", "uvicorn", "info", "2026-02-24T10:15:01.482Z",
	  "INFO:     Started server process [1]", "service=api-1" },
	{ "a traceback whose every line carries the compose prefix", NULL,
	  "api-1  | Traceback (most recent call last):\n"
	  "api-1  |   File \"/app/app/config.py\", line 8, in <module>\n"
	  "api-1  | KeyError: 'JWT_SECRET_KEY'",
	  "compose", "traceback", "error", "-",
	  "Traceback (most recent call last):\n"
	  "  File \"/app/app/config.py\", line 8, in <module>\n"
	  "KeyError: 'JWT_SECRET_KEY'",
	  "exception_line=KeyError: 'JWT_SECRET_KEY'" },
	{ "Heroku: the platform's stamp wins, the app's is kept", NULL,
	  "2026-02-24T10:16:30.101010+00:00 app[web.1]: 2026-02-24 10:16:30,100 ERROR app.db: lost connection",
	  "heroku", "python", "error", "2026-02-24T10:16:30.101Z",
	  "2026-02-24 10:16:30,100 ERROR app.db: lost connection",
	  "source=app|service=web.1|app_time=2026-02-24 10:16:30,100" },
	{ "Heroku router", NULL,
	  "2026-02-24T10:15:40.128732+00:00 heroku[router]: at=error code=H12 desc=\"Request timeout\" method=GET path=\"/\" status=503",
	  "heroku", "logfmt", "error", "2026-02-24T10:15:40.128Z",
	  "at=error code=H12 desc=\"Request timeout\" method=GET path=\"/\" status=503",
	  "source=heroku|service=router|code=H12" },
	{ "Kubernetes CRI", NULL,
	  "2026-02-24T10:15:09.500123Z stderr F ERROR:    Exception in ASGI application",
	  "cri", "uvicorn", "error", "2026-02-24T10:15:09.500Z",
	  "ERROR:    Exception in ASGI application", "stream=stderr" },
	{ "Kubernetes CRI: a line the runtime cut (P) and its rest", NULL,
	  "2026-02-24T10:15:10.000000001Z stdout P half a \n"
	  "2026-02-24T10:15:10.000000002Z stdout F line",
	  "cri", "text", "", "2026-02-24T10:15:10.000Z", "half a line",
	  "stream=stdout|partial=true" },
	{ "Railway's log view: the app's level wins over [err]", NULL,
	  "2026-02-24T10:13:17.632502261Z [err]  INFO:     Started server process [1]",
	  "railway", "uvicorn", "info", "2026-02-24T10:13:17.632Z",
	  "INFO:     Started server process [1]", "tag=err" },
	{ "Railway's log view: [err] when the text names no level", NULL,
	  "2026-02-24T10:13:17.646650902Z [err]  KeyError: 'JWT_SECRET_KEY'",
	  "railway", "text", "error", "2026-02-24T10:13:17.646Z",
	  "KeyError: 'JWT_SECRET_KEY'", "" },
	{ "Railway's log view keeps the message's indentation", NULL,
	  "2026-02-24T10:13:17.646612011Z [err]    File \"/app/x.py\", line 1",
	  "railway", "text", "error", "2026-02-24T10:13:17.646Z",
	  "  File \"/app/x.py\", line 1", "" },
	{ "Railway CLI with attributes", NULL,
	  "2026-02-24T10:13:17.646Z [ERRO] payment failed order_id=1234",
	  "railway", "text", "error", "2026-02-24T10:13:17.646Z",
	  "payment failed order_id=1234", "tag=ERRO" },
	{ "journald short (syslog) with --year", NULL,
	  "Feb 24 10:15:02 web-1 api[812]: 2026-02-24 10:15:02,112 INFO app.jobs: export started",
	  "syslog", "python", "info", "2026-02-24T10:15:02.000Z",
	  "2026-02-24 10:15:02,112 INFO app.jobs: export started",
	  "host=web-1|service=api|pid=812|app_time=2026-02-24 10:15:02,112" },
	{ "journalctl -o short-iso", NULL,
	  "2026-02-24T10:15:10+0000 web-1 systemd[1]: Started api.service - QA framework API.",
	  "syslog-iso", "text", "", "2026-02-24T10:15:10.000Z",
	  "Started api.service - QA framework API.",
	  "host=web-1|service=systemd|pid=1" },
	{ "Render's export", NULL,
	  "Feb 24 12:05:02 PM  ERROR:    Exception in ASGI application",
	  "render", "uvicorn", "error", "2026-02-24T12:05:02.000Z",
	  "ERROR:    Exception in ASGI application", "" },
	{ "docker logs -t", NULL,
	  "2026-02-24T10:15:02.123456789Z worker [CRITICAL] WORKER TIMEOUT (pid:11)",
	  "stamped", "text", "critical", "2026-02-24T10:15:02.123Z",
	  "worker [CRITICAL] WORKER TIMEOUT (pid:11)", "" },
	/* ---- JSON ---- */
	{ "railway --json: the app's level wins over Railway's", NULL,
	  "{\"timestamp\":\"2026-02-24T10:00:14.794579854Z\",\"level\":\"error\",\"message\":\"2026-02-24 10:00:14,794 INFO app.timing: GET /health 200 1.1ms\"}",
	  "json-railway", "python", "info", "2026-02-24T10:00:14.794Z",
	  "2026-02-24 10:00:14,794 INFO app.timing: GET /health 200 1.1ms",
	  "level=error|logger=app.timing|app_time=2026-02-24 10:00:14,794" },
	{ "railway --json with severity", NULL,
	  "{\"message\":\"redis.exceptions.ConnectionError: Error 111\",\"severity\":\"error\",\"timestamp\":\"2026-02-24T10:15:02.000000000Z\"}",
	  "json-railway", "text", "error", "2026-02-24T10:15:02.000Z",
	  "redis.exceptions.ConnectionError: Error 111", "" },
	{ "railway --http --json", NULL,
	  "{\"timestamp\":\"2026-02-24T10:23:49.551902114Z\",\"method\":\"GET\",\"path\":\"/api/v1/reports/export\",\"httpStatus\":504,\"totalDuration\":30002}",
	  "json-railway-http", "json-railway-http", "", "2026-02-24T10:23:49.551Z",
	  "{\"timestamp\":\"2026-02-24T10:23:49.551902114Z\",\"method\":\"GET\",\"path\":\"/api/v1/reports/export\",\"httpStatus\":504,\"totalDuration\":30002}",
	  "httpStatus=504|totalDuration=30002|path=/api/v1/reports/export" },
	{ "Docker json-file: colours, the line end, a gunicorn line inside", NULL,
	  "{\"log\":\"[2026-02-24 10:15:06 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:14)\\n\",\"stream\":\"stderr\",\"time\":\"2026-02-24T10:15:06.5Z\"}",
	  "json-docker", "gunicorn", "critical", "2026-02-24T10:15:06.500Z",
	  "[2026-02-24 10:15:06 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:14)",
	  "stream=stderr|app_time=2026-02-24 10:15:06 +0000" },
	{ "Docker json-file with escaped colours", NULL,
	  "{\"log\":\"\\u001b[31mERROR\\u001b[0m:    Exception in ASGI application\\n\",\"stream\":\"stderr\",\"time\":\"2026-02-24T10:15:09.500123456Z\"}",
	  "json-docker", "uvicorn", "error", "2026-02-24T10:15:09.500Z",
	  "ERROR:    Exception in ASGI application", "" },
	{ "python-json-logger with exc_info", NULL,
	  "{\"asctime\": \"2026-02-24 10:15:09,100\", \"levelname\": \"ERROR\", \"name\": \"app\", \"message\": \"db down\", \"exc_info\": \"Traceback (most recent call last):\\n  File \\\"a.py\\\", line 1\\nOSError: x\"}",
	  "json-python", "text", "error", "2026-02-24T10:15:09.100Z",
	  "db down\nTraceback (most recent call last):\n  File \"a.py\", line 1\nOSError: x",
	  "name=app|exception_line=OSError: x" },
	{ "structlog with an epoch time", NULL,
	  "{\"event\": \"cache miss\", \"level\": \"debug\", \"timestamp\": 1771928105.25}",
	  "json-python", "text", "debug", "2026-02-24T10:15:05.250Z",
	  "cache miss", "" },
	{ "journalctl -o json: MESSAGE's level over PRIORITY", NULL,
	  "{\"__REALTIME_TIMESTAMP\":\"1771928109500211\",\"PRIORITY\":\"6\",\"_PID\":\"812\",\"MESSAGE\":\"ERROR:    Exception in ASGI application\"}",
	  "json-journald", "uvicorn", "error", "2026-02-24T10:15:09.500Z",
	  "ERROR:    Exception in ASGI application", "_PID=812" },
	{ "journalctl -o json: PRIORITY", NULL,
	  "{\"__REALTIME_TIMESTAMP\":\"1771928170004001\",\"PRIORITY\":\"3\",\"MESSAGE\":\"Out of memory: Killed process 812 (uvicorn)\"}",
	  "json-journald", "text", "error", "2026-02-24T10:16:10.004Z",
	  "Out of memory: Killed process 812 (uvicorn)", "" },
	{ "pino's numeric level", NULL,
	  "{\"level\":50,\"time\":1771928102123,\"msg\":\"request failed\"}",
	  "json", "text", "error", "2026-02-24T10:15:02.123Z",
	  "request failed", "" },
	{ "JSON lines of one traceback", NULL,
	  "{\"level\":\"error\",\"message\":\"Traceback (most recent call last):\",\"timestamp\":\"2026-02-24T10:13:17.646856174Z\"}\n"
	  "{\"message\":\"  File \\\"a.py\\\", line 1\",\"level\":\"error\",\"timestamp\":\"2026-02-24T10:13:17.64685999Z\"}\n"
	  "{\"timestamp\":\"2026-02-24T10:13:17.6469Z\",\"level\":\"error\",\"message\":\"KeyError: 'X'\"}",
	  "json-railway", "traceback", "error", "2026-02-24T10:13:17.646Z",
	  "Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'X'",
	  "exception_line=KeyError: 'X'" },
	{ "JSON inside a compose prefix", NULL,
	  "api-1  | {\"event\": \"payment failed\", \"level\": \"error\", \"timestamp\": \"2026-02-24T10:15:04.512345Z\"}",
	  "compose", "text", "error", "2026-02-24T10:15:04.512Z",
	  "payment failed", "service=api-1" },
	{ "a cut JSON line: malformed, matched as text", NULL,
	  "{\"timestamp\":\"2026-02-24T10:13:18.10000Z\",\"level\":\"error\",\"message\":\"INFO:     Shutting do",
	  "json-malformed", "json-malformed", "info", "2026-02-24T10:13:18.100Z",
	  NULL, "" },
	{ "JSON that does not decode", NULL,
	  "{\"message\": \"x\", \"level\": }",
	  "json-malformed", "json-malformed", "", "-", NULL, "" },
};

/* Does fields have name=value (the first '=' splits)? */
static bool has_field(const struct parsed *ev, const char *pair)
{
	const char *eq = strchr(pair, '=');
	size_t nl = (size_t)(eq - pair);
	unsigned k;

	for (k = 0; k < ev->nfields; k++) {
		const struct parse_kv *f = &ev->fields[k];

		if (f->name.len == nl && memcmp(f->name.p, pair, nl) == 0 &&
		    f->value.len == strlen(eq + 1) &&
		    memcmp(f->value.p, eq + 1, f->value.len) == 0)
			return true;
	}
	return false;
}

static void make_record(struct record *rec, const char *text)
{
	const char *p;

	memset(rec, 0, sizeof(*rec));
	rec->text = text;
	rec->len = strlen(text);
	rec->line_no = 1;
	rec->offset = 1;
	rec->nlines = 1;
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		rec->nlines++;
}

static void time_text(const struct parsed *ev, char *out, size_t size)
{
	char t[TIMEFMT_BUF_SIZE];

	if (!ev->has_ts) {
		snprintf(out, size, "-");
		return;
	}
	timefmt_format_iso(ev->ts, t, sizeof(t));
	snprintf(out, size, "%s%s", ev->ts_inferred ? "~" : "", t);
}

static void test_cases(void)
{
	struct timefmt_opts o = { 2026, NULL };
	struct parse_ctx pc;
	size_t i;

	parse_ctx_init(&pc, &o);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pcase *c = &cases[i];
		struct record rec;
		struct parsed ev;
		char t[64], buf[256], *pair, *save = NULL;
		const char *want_msg = c->message ? c->message : c->text;
		struct buf msg;

		parse_ctx_reset(&pc);
		if (c->prev) {
			make_record(&rec, c->prev);
			parse_record(&pc, &rec, &ev);
		}
		make_record(&rec, c->text);
		parse_record(&pc, &rec, &ev);
		parse_decode(&pc, &ev);
		CHECK_STR(parse_format_name(ev.shape), c->shape, "%s: shape",
			  c->what);
		CHECK_STR(parse_format_name(ev.inner), c->inner, "%s: inner",
			  c->what);
		CHECK_STR(parse_level_name(ev.level), c->level, "%s: level",
			  c->what);
		time_text(&ev, t, sizeof(t));
		CHECK_STR(t, c->time, "%s: time", c->what);
		buf_init(&msg);
		buf_add(&msg, ev.message.p, ev.message.len);
		CHECK_STR(msg.p, want_msg, "%s: message", c->what);
		buf_release(&msg);
		snprintf(buf, sizeof(buf), "%s", c->fields);
		for (pair = strtok_r(buf, "|", &save); pair != NULL;
		     pair = strtok_r(NULL, "|", &save))
			CHECK(has_field(&ev, pair), "%s: field %s", c->what,
			      pair);
	}
	parse_ctx_release(&pc);
}

/* The cheap pass alone: what every record gets without decoding. */
static void test_cheap(void)
{
	struct parse_ctx pc;
	struct record rec;
	struct parsed ev;

	parse_ctx_init(&pc, NULL);
	make_record(&rec, "{\"level\":\"error\",\"message\":\"INFO:     Started\","
		    "\"timestamp\":\"2026-02-24T10:13:17.632502261Z\"}");
	parse_record(&pc, &rec, &ev);
	CHECK(ev.format == PARSE_FMT_JSON && !ev.decoded,
	      "a JSON line is not decoded by the cheap pass");
	CHECK(ev.level == PARSE_LEVEL_INFO,
	      "its level is right without decoding (the message's INFO)");
	CHECK(ev.has_ts && !ev.ts_inferred && ev.ts == 1771927997632,
	      "its time is right without decoding (%" PRId64 ")", ev.ts);
	CHECK(ev.raw == rec.text && ev.raw_len == rec.len,
	      "raw is the JSON line, for the prefilter");
	make_record(&rec, "{\"severity\":\"warning\",\"msg\":\"disk \\\"full\\\"\","
		    "\"ts\":1771928102}");
	parse_record(&pc, &rec, &ev);
	CHECK(ev.level == PARSE_LEVEL_WARNING && ev.ts == 1771928102000,
	      "severity and an epoch ts, cheaply");
	make_record(&rec, "api-1  | INFO:     ok");
	parse_record(&pc, &rec, &ev);
	CHECK(ev.raw_len == 12 && memcmp(ev.raw, "INFO:     ok", 12) == 0,
	      "raw of a peeled line is its message");
	CHECK(ev.nfields == 1 && span_eq(ev.fields[0].value, "api-1"),
	      "envelope fields come with the cheap pass");
	CHECK(pc.by_format[PARSE_FMT_JSON_RAILWAY] == 1 &&
	      pc.by_format[PARSE_FMT_JSON] == 1 &&
	      pc.by_format[PARSE_FMT_COMPOSE] == 1,
	      "records are counted per shape");
	{
		struct span v;

		CHECK(parse_field(&pc, "service", &v) && span_eq(v, "api-1"),
		      "parse_field finds a peeled field");
		CHECK(!parse_field(&pc, "nothing", &v),
		      "parse_field: an absent field");
	}
	/* A record of the reader says it has no envelope: not looked for. */
	make_record(&rec, "api-1  | INFO:     ok");
	rec.flags = RECORD_PLAIN;
	parse_record(&pc, &rec, &ev);
	CHECK(ev.shape == PARSE_FMT_TEXT && ev.nfields == 0,
	      "RECORD_PLAIN skips peeling");
	/* A BOM on the first line only. */
	make_record(&rec, "\xef\xbb\xbfINFO:     Started server process [1]");
	rec.offset = 0;
	parse_record(&pc, &rec, &ev);
	CHECK(ev.shape == PARSE_FMT_UVICORN && ev.level == PARSE_LEVEL_INFO,
	      "a UTF-8 BOM is skipped");
	parse_ctx_release(&pc);
}

/* Times: the platform's wins; inferred; none; stamps without a year. */
static void test_times(void)
{
	struct timefmt_opts o = { 2025, NULL };
	struct parse_ctx pc;
	struct record rec;
	struct parsed ev;
	char t[64];

	parse_ctx_init(&pc, &o);
	make_record(&rec, "no time at all");
	parse_record(&pc, &rec, &ev);
	CHECK(!ev.has_ts && pc.ts_missing == 1, "no time: none");
	make_record(&rec, "Dec 31 23:59:58 web-1 api[812]: last of the year");
	parse_record(&pc, &rec, &ev);
	time_text(&ev, t, sizeof(t));
	CHECK_STR(t, "2025-12-31T23:59:58.000Z", "syslog takes --year");
	make_record(&rec, "Jan  1 00:00:01 web-1 systemd[1]: first of the next");
	parse_record(&pc, &rec, &ev);
	time_text(&ev, t, sizeof(t));
	CHECK_STR(t, "2026-01-01T00:00:01.000Z",
		  "syslog rolls over to the next year");
	make_record(&rec, "Jan  1 00:00:02 web-1 systemd[1]: and stays there");
	parse_record(&pc, &rec, &ev);
	time_text(&ev, t, sizeof(t));
	CHECK_STR(t, "2026-01-01T00:00:02.000Z", "the roll-over holds");
	make_record(&rec, "  an indented continuation of nothing");
	parse_record(&pc, &rec, &ev);
	time_text(&ev, t, sizeof(t));
	CHECK_STR(t, "~2026-01-01T00:00:02.000Z", "inferred from the last");
	parse_ctx_release(&pc);

	/* Without --year: the file's year, the year before for later days. */
	parse_ctx_init(&pc, NULL);
	parse_ctx_reset(&pc);
	make_record(&rec, "Dec 31 23:59:58 web-1 api[1]: x");
	parse_record(&pc, &rec, &ev);
	CHECK(!ev.has_ts, "no year known: a syslog stamp gives no time");
	parse_ctx_set_file_time(&pc, 1767268800000); /* 2026-01-01T12:00Z */
	parse_record(&pc, &rec, &ev);
	time_text(&ev, t, sizeof(t));
	CHECK_STR(t, "2025-12-31T23:59:58.000Z",
		  "a stamp after the file's time is from the year before");
	make_record(&rec, "Jan  1 00:00:01 web-1 api[1]: y");
	parse_record(&pc, &rec, &ev);
	time_text(&ev, t, sizeof(t));
	CHECK_STR(t, "2026-01-01T00:00:01.000Z", "the file's own year");
	parse_ctx_release(&pc);

	/* --tz for stamps without a zone, not for the platform's. */
	{
		struct timefmt_opts mad = { 0, "Europe/Madrid" };

		parse_ctx_init(&pc, &mad);
		make_record(&rec, "2026-03-29 02:30:00,000 INFO app: in the gap");
		parse_record(&pc, &rec, &ev);
		time_text(&ev, t, sizeof(t));
		CHECK_STR(t, "2026-03-29T01:30:00.000Z",
			  "DST gap: read with the offset before it");
		make_record(&rec, "2026-10-25 02:30:00,000 INFO app: twice");
		parse_record(&pc, &rec, &ev);
		time_text(&ev, t, sizeof(t));
		CHECK_STR(t, "2026-10-25T00:30:00.000Z",
			  "DST overlap: the earlier instant");
		make_record(&rec, "2026-10-25T01:30:00.000000Z stdout F "
			    "2026-10-25 02:30:00,000 INFO app: x");
		parse_record(&pc, &rec, &ev);
		time_text(&ev, t, sizeof(t));
		CHECK_STR(t, "2026-10-25T01:30:00.000Z",
			  "the platform's zoned stamp wins over --tz");
		parse_ctx_release(&pc);
		timefmt_reset();
	}
}

static void test_names(void)
{
	int f;
	bool all = true;

	for (f = 0; f < PARSE_FMT__COUNT; f++)
		if (parse_format_name((enum parse_format)f)[0] == '\0')
			all = false;
	CHECK(all, "every format has a name");
	CHECK_STR(parse_format_name(PARSE_FMT__COUNT), "", "out of range");
	CHECK_STR(parse_level_name(PARSE_LEVEL_CRITICAL), "critical",
		  "level names");
}

static void test_metrics_detect(void)
{
	static const struct {
		const char *head;
		enum metricsfile_kind kind;
	} t[] = {
		{ "timestamp,metric,value\n2026-02-24T10:00:00Z,cpu,1\n",
		  METRICSFILE_CSV },
		{ "\xef\xbb\xbf\"time\",\"name\",\"value\",\"service\"\n",
		  METRICSFILE_CSV },
		{ "# HELP x y\n# TYPE x gauge\nx 1 1771927800000\n",
		  METRICSFILE_PROMETHEUS },
		{ "x{a=\"b\"} 1 1771927800000\ny 2 1771927800000\n",
		  METRICSFILE_PROMETHEUS },
		{ "[\n  {\"timestamp\": 1, \"metric\": \"m\", \"value\": 2}\n]",
		  METRICSFILE_JSON },
		{ "[{\"a\": 1}]", METRICSFILE_NONE },
		{ "timestamp,level,message\n", METRICSFILE_NONE },
		{ "INFO:     Started server process [1]\n", METRICSFILE_NONE },
		{ "{\"message\":\"x\"}\n", METRICSFILE_NONE },
		{ "x 1\ny 2\n", METRICSFILE_NONE },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		CHECK(metricsfile_detect(t[i].head, strlen(t[i].head)) ==
		      t[i].kind, "metrics detection %zu: %s", i,
		      metricsfile_kind_name(t[i].kind));
}

int main(void)
{
	test_cases();
	test_cheap();
	test_times();
	test_names();
	test_metrics_detect();
	return unit_done();
}

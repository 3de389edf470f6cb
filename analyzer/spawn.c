/*
 * spawn.c - run an external program from an argument vector (fork,
 * execvp), with a captured stderr and a time limit. No shell is involved
 * at any point: the arguments reach the program as they are.
 */
#include "common.h"
#include "spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The child, after fork: set up its descriptors and directory, exec.
 * Only async-signal-safe calls; on failure errno goes up the status pipe.
 */
static void child(const char *const *argv, const char *cwd, int status_fd,
		  int err_fd)
{
	int null_fd = open("/dev/null", O_RDWR);
	int e;

	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0)
		goto fail;
	if (cwd && chdir(cwd) < 0)
		goto fail;
	execvp(argv[0], (char *const *)argv);
fail:
	e = errno;
	if (write(status_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Append what the child wrote on stderr, keeping the first bytes. */
static void keep_stderr(struct spawn_result *res, size_t *used,
			const char *p, ssize_t n)
{
	ssize_t i;

	for (i = 0; i < n && *used + 1 < sizeof(res->err); i++) {
		unsigned char c = (unsigned char)p[i];

		res->err[(*used)++] = (c < 0x20 && c != '\n') || c == 0x7f ?
				      '?' : (char)c;
	}
	res->err[*used] = '\0';
}

/*
 * Wait for pid until deadline (ms, monotonic; 0: without limit), then
 * kill it; fill exit_code/signal/timed_out.
 */
static void reap(pid_t pid, struct spawn_result *res, int64_t deadline)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	pid_t got;
	int st;

	for (;;) {
		got = waitpid(pid, &st, deadline ? WNOHANG : 0);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			return;
		if (got == 0 && now_ms() >= deadline) {
			kill(pid, SIGKILL);
			res->timed_out = true;
			deadline = 0;
		} else if (got == 0) {
			nanosleep(&pause, NULL);
		}
	}
	if (WIFEXITED(st))
		res->exit_code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		res->signal = WTERMSIG(st);
}

int spawn_run(const char *const *argv, const char *cwd, int timeout_ms,
	      struct spawn_result *res)
{
	int status_pipe[2], err_pipe[2];
	int64_t deadline;
	size_t used = 0;
	ssize_t n;
	pid_t pid;
	int e = 0;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (pipe2(status_pipe, O_CLOEXEC) < 0) {
		res->sys_errno = errno;
		return SPAWN_ERR;
	}
	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		res->sys_errno = errno;
		close(status_pipe[0]);
		close(status_pipe[1]);
		return SPAWN_ERR;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		res->sys_errno = errno;
		close(status_pipe[0]);
		close(status_pipe[1]);
		close(err_pipe[0]);
		close(err_pipe[1]);
		return SPAWN_ERR;
	}
	if (pid == 0) {
		close(status_pipe[0]);
		close(err_pipe[0]);
		child(argv, cwd, status_pipe[1], err_pipe[1]);
	}
	close(status_pipe[1]);
	close(err_pipe[1]);
	/* EOF on the status pipe: exec succeeded (the pipe closed on exec). */
	do
		n = read(status_pipe[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(status_pipe[0]);
	if (n == (ssize_t)sizeof(e)) {
		close(err_pipe[0]);
		reap(pid, res, 0);
		res->exit_code = -1;
		res->sys_errno = e;
		return e == ENOENT ? SPAWN_NOT_FOUND : SPAWN_ERR;
	}
	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pfd = { err_pipe[0], POLLIN, 0 };
		int64_t left = deadline - now_ms();
		char chunk[512];
		int rc;

		if (left <= 0) {
			kill(pid, SIGKILL);
			res->timed_out = true;
			break;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(err_pipe[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		keep_stderr(res, &used, chunk, n);
	}
	close(err_pipe[0]);
	reap(pid, res, res->timed_out ? 0 : deadline);
	if (res->timed_out || res->signal || res->exit_code != 0)
		return SPAWN_ERR;
	return SPAWN_OK;
}

const char *spawn_describe(const struct spawn_result *res, int timeout_ms,
			   char *out, size_t size)
{
	size_t line = strcspn(res->err, "\n");

	if (res->sys_errno)
		snprintf(out, size, "cannot run: %s", strerror(res->sys_errno));
	else if (res->timed_out)
		snprintf(out, size, "timed out after %d s", timeout_ms / 1000);
	else if (res->signal)
		snprintf(out, size, "killed by signal %d", res->signal);
	else if (line > 0)
		snprintf(out, size, "exited with status %d: %.*s",
			 res->exit_code, (int)line, res->err);
	else
		snprintf(out, size, "exited with status %d", res->exit_code);
	return out;
}

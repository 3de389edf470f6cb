/*
 * runstat.c - run one command and report what 'make bench' needs of it:
 * wall time, CPU time and the peak resident set size (getrusage of the
 * child, the same number /usr/bin/time -v calls "Maximum resident set
 * size").
 *
 *   bench-runstat [-i IN] [-o OUT] -- COMMAND [ARG...]
 *
 * stdin comes from IN and stdout goes to OUT (default /dev/null); stderr
 * is left alone. Prints one line on stdout:
 *   wall=SECONDS user=SECONDS sys=SECONDS maxrss_kib=N status=N
 * and exits with the command's status. No shell is involved.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static int redirect(const char *path, int fd, int flags)
{
	int f = open(path, flags, 0644);

	if (f < 0 || dup2(f, fd) < 0) {
		fprintf(stderr, "bench-runstat: %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = "/dev/null";
	struct rusage ru;
	double t0, t1;
	int i = 1, status;
	pid_t pid;

	while (i < argc && strcmp(argv[i], "--") != 0) {
		if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			in = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			break;
		i++;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
		fprintf(stderr, "usage: bench-runstat [-i IN] [-o OUT] -- "
			"COMMAND [ARG...]\n");
		return 2;
	}
	t0 = now();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench-runstat: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if ((in && redirect(in, 0, O_RDONLY) < 0) ||
		    redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC) < 0)
			_exit(127);
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "bench-runstat: %s: %s\n", argv[i + 1],
			strerror(errno));
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		fprintf(stderr, "bench-runstat: wait: %s\n", strerror(errno));
		return 1;
	}
	t1 = now();
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("wall=%.3f user=%.3f sys=%.3f maxrss_kib=%ld status=%d\n",
	       t1 - t0, tv(ru.ru_utime), tv(ru.ru_stime), ru.ru_maxrss, status);
	return status;
}

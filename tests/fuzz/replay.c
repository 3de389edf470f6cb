/*
 * replay.c - run a fuzz target over corpus files without libFuzzer, so
 * that 'make check' replays every corpus file with the normal sanitizer
 * build: "replay-FUZZ_TARGET FILE|DIR..." prints "ok N - FILE" per file
 * and then "N passed, N failed".
 *
 * A target never returns an error: a broken invariant or a sanitizer
 * report ends the process, and this file's handlers print which corpus
 * file did it first ("not ok N - FILE: crashed"). A file that runs longer
 * than FUZZ_REPLAY_TIMEOUT seconds (default 30) is a hang: it fails too.
 */
#include "fuzz.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_SANITIZER 1
#endif
#endif
#ifdef HAVE_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

/* The corpus file being run, for the handlers. */
static const char *current;
static int current_no;

static void say_failed(const char *why)
{
	if (current != NULL)
		dprintf(STDERR_FILENO, "not ok %d - %s: %s\n", current_no,
			current, why);
}

static void on_signal(int sig)
{
	say_failed(sig == SIGALRM ? "timed out (a hang)" : "crashed");
	if (sig == SIGALRM)
		_exit(1);
	signal(sig, SIG_DFL);
	raise(sig);
}

#ifdef HAVE_SANITIZER
static void on_sanitizer_death(void)
{
	say_failed("crashed (sanitizer report above)");
}
#endif

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file; NULL on error (printed). */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL) {
		dprintf(STDERR_FILENO, "replay: %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = xrealloc(p, cap);
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return p;
}

static int run_file(const char *path, int *no)
{
	size_t len = 0;
	uint8_t *data = slurp(path, &len);
	uint8_t *exact;
	unsigned timeout = 30;
	const char *t = getenv("FUZZ_REPLAY_TIMEOUT");

	if (data == NULL)
		return -1;
	if (t != NULL && atoi(t) > 0)
		timeout = (unsigned)atoi(t);
	/* An exact-size copy, as libFuzzer hands it over. */
	exact = xmalloc(len ? len : 1);
	memcpy(exact, data, len);
	free(data);
	current = path;
	current_no = ++*no;
	alarm(timeout);
	LLVMFuzzerTestOneInput(exact, len);
	alarm(0);
	current = NULL;
	free(exact);
	printf("ok %d - %s\n", *no, path);
	fflush(stdout);
	return 0;
}

/* Run a file, or every file of a directory in name order. */
static int run_path(const char *path, int *no)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (stat(path, &sb) < 0) {
		dprintf(STDERR_FILENO, "replay: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return run_file(path, no);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(path) + strlen(de->d_name) + 2;

		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n] = xmalloc(len);
		snprintf(names[n], len, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n; i++) {
		if (run_file(names[i], no) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int i, no = 0, bad = 0;

	signal(SIGABRT, on_signal);
	signal(SIGALRM, on_signal);
#ifdef HAVE_SANITIZER
	/* The sanitizers catch faults themselves and report first. */
	__sanitizer_set_death_callback(on_sanitizer_death);
#else
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGFPE, on_signal);
#endif
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &no) < 0)
			bad++;
	if (no == 0) {
		printf("not ok 1 - no corpus files given\n");
		bad++;
	}
	printf("%d passed, %d failed\n", no, bad);
	return bad ? 1 : 0;
}

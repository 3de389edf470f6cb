/*
 * faultinject.c - an LD_PRELOAD shim that makes system calls on chosen
 * files fail, for the fault tests (tests/fault, tests/cases/8xxx):
 *
 *   LD_PRELOAD=build/fault/libfault.so FAULT_FILE=app.log \
 *   FAULT_READ_AT=300000 logtriage analyze app.log
 *
 * Environment (read once, at the first call):
 *   FAULT_FILE=TEXT        watch files whose path, as given to open(),
 *                          contains TEXT (required: nothing fails without)
 *   FAULT_OPEN=1           open() of a watched file fails
 *   FAULT_READ_AT=N        read()/pread() on a watched file fails once the
 *                          file offset reaches byte N; a read across N
 *                          returns the bytes before it (a short read)
 *   FAULT_WRITE_AFTER=N    write()/pwrite() on watched files fails once N
 *                          bytes were written to them in all (0: at once)
 *   FAULT_FSYNC=1          fsync()/fdatasync() of a watched file fails
 *   FAULT_KILL_AFTER=N     once N bytes were written to watched files in
 *                          all, the process kills itself with SIGKILL
 *                          (kill -9 at an exact point of a write)
 *   FAULT_KILL_IN=THREAD   count for FAULT_KILL_AFTER only the bytes the
 *                          thread of that name writes (lt-checkpoint:
 *                          kill -9 inside a checkpoint's copy)
 *   FAULT_SHRINK_AT=N      when a read() of a watched file reaches byte
 *   FAULT_SHRINK_TO=M      N, the file is truncated to M bytes (default
 *                          0) first: a file that shrinks while being read
 *   FAULT_GROW_AT=N        when a read() of a watched file reaches byte
 *   FAULT_GROW_FROM=PATH   N, the content of PATH is appended to it
 *                          first: a file that grows while being read
 *   FAULT_SIGNAL_AT=N      a read() of a watched file that would pass
 *   FAULT_SIGNAL=S         byte N stops there, and the process sends
 *                          itself signal S, a number or INT, TERM, HUP
 *                          or STOP (default INT): Ctrl-C at an exact
 *                          byte
 *   FAULT_ERRNO=N          the errno given (default EIO; ENOSPC for
 *                          writes unless FAULT_ERRNO is set)
 *   FAULT_LOG=PATH         append one line per injected failure, so that
 *                          a test can prove the fault really happened
 *   FAULT_COUNT=1          and at exit "wrote fd -1 at N" to FAULT_LOG,
 *                          N the bytes written to watched files in all
 *   FAULT_TRACE_SYNC=1     and for every fsync()/fdatasync() of a watched
 *                          file, "sync by THREAD: wal|journal|db SIZE" to
 *                          FAULT_LOG (the calling thread's name, the
 *                          file's size then), so that a test can see who
 *                          waits for the disk
 *
 * The real calls are found with dlsym(RTLD_NEXT). SQLite and logtriage
 * call these functions through the dynamic linker, so both are covered
 * (mkstemp and mkostemp too: the temporary files of atomic writes);
 * stdio's internal reads and writes are not.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 4096

static bool inited;
static const char *watch;
static bool fail_open;
static long long read_at = -1;
static long long write_after = -1;
static long long kill_after = -1;
static long long written;
static const char *kill_in;
static long long written_in;    /* by the thread kill_in names */
static bool fail_fsync;
static int err_read = EIO, err_write = ENOSPC;
static const char *log_path;
static bool count_writes;
static bool trace_sync;
static bool watched[MAX_FDS];
static char *watched_path[MAX_FDS];
static long long shrink_at = -1, shrink_to;
static long long signal_at = -1;
static int signal_no = SIGINT;
static long long grow_at = -1;
static const char *grow_from;

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pread64)(int, void *, size_t, off_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_mkostemp)(char *, int);
static int (*real_mkstemp)(char *);

static long long env_num(const char *name, long long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoll(v, NULL, 10) : dflt;
}

/* FAULT_SIGNAL: a number or a name without SIG. */
static int signal_of(const char *v)
{
	static const struct { const char *name; int no; } names[] = {
		{ "INT", SIGINT }, { "TERM", SIGTERM }, { "HUP", SIGHUP },
		{ "STOP", SIGSTOP },
	};
	size_t i;

	if (v == NULL || *v == '\0')
		return SIGINT;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i].name) == 0)
			return names[i].no;
	return (int)strtol(v, NULL, 10);
}

/* dlsym() returns an object pointer; POSIX blesses this conversion. */
#define LOAD(var, name) (*(void **)(&(var)) = dlsym(RTLD_NEXT, (name)))

static void init(void)
{
	if (inited)
		return;
	LOAD(real_read, "read");
	LOAD(real_pread, "pread");
	LOAD(real_pread64, "pread64");
	LOAD(real_write, "write");
	LOAD(real_pwrite, "pwrite");
	LOAD(real_pwrite64, "pwrite64");
	LOAD(real_fsync, "fsync");
	LOAD(real_fdatasync, "fdatasync");
	LOAD(real_open, "open");
	LOAD(real_open64, "open64");
	LOAD(real_openat, "openat");
	LOAD(real_openat64, "openat64");
	LOAD(real_close, "close");
	LOAD(real_mkostemp, "mkostemp");
	LOAD(real_mkstemp, "mkstemp");
	watch = getenv("FAULT_FILE");
	if (watch != NULL && *watch == '\0')
		watch = NULL;
	fail_open = env_num("FAULT_OPEN", 0) != 0;
	read_at = env_num("FAULT_READ_AT", -1);
	write_after = env_num("FAULT_WRITE_AFTER", -1);
	kill_after = env_num("FAULT_KILL_AFTER", -1);
	fail_fsync = env_num("FAULT_FSYNC", 0) != 0;
	if (getenv("FAULT_ERRNO") != NULL)
		err_read = err_write = (int)env_num("FAULT_ERRNO", EIO);
	log_path = getenv("FAULT_LOG");
	count_writes = env_num("FAULT_COUNT", 0) != 0;
	trace_sync = env_num("FAULT_TRACE_SYNC", 0) != 0;
	shrink_at = env_num("FAULT_SHRINK_AT", -1);
	signal_at = env_num("FAULT_SIGNAL_AT", -1);
	signal_no = signal_of(getenv("FAULT_SIGNAL"));
	kill_in = getenv("FAULT_KILL_IN");
	shrink_to = env_num("FAULT_SHRINK_TO", 0);
	grow_at = env_num("FAULT_GROW_AT", -1);
	grow_from = getenv("FAULT_GROW_FROM");
	inited = true;
}

/* Append line (n from snprintf into size bytes) to FAULT_LOG. */
static void append_log(const char *line, int n, size_t size)
{
	int lfd;

	if (n <= 0)
		return;
	/* the real calls: no recursion */
	lfd = real_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			0644);
	if (lfd < 0)
		return;
	real_write(lfd, line, (size_t)n < size ? (size_t)n : size - 1);
	real_close(lfd);
}

/* Append a line to FAULT_LOG. */
static void note(const char *what, int fd, long long at, int err)
{
	char line[256];

	if (log_path == NULL)
		return;
	append_log(line, snprintf(line, sizeof(line), "%s fd %d at %lld: %s\n",
				  what, fd, at, strerror(err)), sizeof(line));
}

/* FAULT_TRACE_SYNC: which thread syncs which file, at what size. */
static void trace(int fd)
{
	const char *path = watched_path[fd] ? watched_path[fd] : "";
	size_t len = strlen(path);
	const char *kind = "db";
	char name[32] = "?", line[128];
	struct stat sb;

	if (log_path == NULL || !trace_sync)
		return;
	if (len >= 4 && strcmp(path + len - 4, "-wal") == 0)
		kind = "wal";
	else if (len >= 8 && strcmp(path + len - 8, "-journal") == 0)
		kind = "journal";
	pthread_getname_np(pthread_self(), name, sizeof(name));
	append_log(line, snprintf(line, sizeof(line), "sync by %s: %s %lld\n",
				  name, kind, fstat(fd, &sb) == 0 ?
				  (long long)sb.st_size : -1LL), sizeof(line));
}

/* At exit: how much was written to watched files (for kill points). */
__attribute__((destructor))
static void report_written(void)
{
	if (inited && watch != NULL && count_writes)
		note("wrote", -1, written, 0);
}

static bool is_watched(int fd)
{
	return fd >= 0 && fd < MAX_FDS && watched[fd];
}

/* After an open: watch the descriptor, or fail the open itself. */
static int opened(const char *path, int fd)
{
	if (watch == NULL || path == NULL || strstr(path, watch) == NULL)
		return fd;
	if (fail_open && fd >= 0) {
		real_close(fd);
		note("open", fd, 0, err_read);
		errno = err_read;
		return -1;
	}
	if (fd >= 0 && fd < MAX_FDS) {
		watched[fd] = true;
		free(watched_path[fd]);
		watched_path[fd] = strdup(path);
	}
	return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
	if (flags & (O_CREAT | O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	init();
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return opened(path, real_open(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	init();
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return opened(path, (real_open64 ? real_open64 : real_open)(path,
		      flags, mode));
}

int openat(int dir, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	init();
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return opened(path, real_openat(dir, path, flags, mode));
}

int openat64(int dir, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	init();
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return opened(path, (real_openat64 ? real_openat64 : real_openat)(dir,
		      path, flags, mode));
}

/* Temporary files (atomic writes): watched by the name they get. */
int mkostemp(char *tmpl, int flags)
{
	init();
	return opened(tmpl, real_mkostemp(tmpl, flags));
}

int mkstemp(char *tmpl)
{
	init();
	return opened(tmpl, real_mkstemp(tmpl));
}

int close(int fd)
{
	init();
	if (fd >= 0 && fd < MAX_FDS) {
		watched[fd] = false;
		free(watched_path[fd]);
		watched_path[fd] = NULL;
	}
	return real_close(fd);
}

/*
 * How much of a read of n bytes at offset at may go through: n, fewer
 * (up to the fault offset), or -1 to fail now.
 */
static ssize_t read_room(int fd, size_t n, long long at)
{
	if (!is_watched(fd) || read_at < 0)
		return (ssize_t)n;
	if (at >= read_at) {
		note("read", fd, at, err_read);
		return -1;
	}
	if (at + (long long)n > read_at)
		return (ssize_t)(read_at - at);
	return (ssize_t)n;
}

/* Append the content of grow_from to path (once). */
static void grow(const char *path)
{
	char block[65536];
	int in = real_open(grow_from, O_RDONLY | O_CLOEXEC);
	int out = real_open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ssize_t r;

	while (in >= 0 && out >= 0 && (r = real_read(in, block,
						       sizeof(block))) > 0)
		if (real_write(out, block, (size_t)r) != r)
			break;
	if (in >= 0)
		real_close(in);
	if (out >= 0)
		real_close(out);
}

/* The file changes under the reader once it reaches an offset. */
static void change_file(int fd, long long at)
{
	const char *path = watched_path[fd];

	if (path == NULL)
		return;
	if (shrink_at >= 0 && at >= shrink_at) {
		note("shrink", fd, at, 0);
		if (truncate(path, (off_t)shrink_to) == 0)
			shrink_at = -1;
	}
	if (grow_at >= 0 && at >= grow_at && grow_from != NULL) {
		note("grow", fd, at, 0);
		grow(path);
		grow_at = -1;
	}
}

ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t room;
	long long at;

	init();
	if (!is_watched(fd))
		return real_read(fd, buf, n);
	at = (long long)lseek(fd, 0, SEEK_CUR);
	if (shrink_at >= 0 || grow_at >= 0)
		change_file(fd, at);
	if (signal_at >= 0 && at + (long long)n > signal_at) {
		/* the bytes before it, then the signal */
		ssize_t r = at < signal_at ?
			    real_read(fd, buf, (size_t)(signal_at - at)) : 0;

		note("signal", fd, signal_at, 0);
		signal_at = -1;
		raise(signal_no);
		if (r != 0)
			return r;
	}
	if (read_at < 0)
		return real_read(fd, buf, n);
	room = read_room(fd, n, at);
	if (room < 0) {
		errno = err_read;
		return -1;
	}
	return real_read(fd, buf, (size_t)room);
}

static ssize_t do_pread(ssize_t (*fn)(int, void *, size_t, off_t), int fd,
			void *buf, size_t n, off_t off)
{
	ssize_t room = read_room(fd, n, (long long)off);

	if (room < 0) {
		errno = err_read;
		return -1;
	}
	return fn(fd, buf, (size_t)room, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	init();
	return do_pread(real_pread, fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	init();
	return do_pread(real_pread64 ? real_pread64 : real_pread, fd, buf, n,
			off);
}

/* Is the calling thread the one named? */
static bool in_thread(const char *name)
{
	char cur[32];

	return pthread_getname_np(pthread_self(), cur, sizeof(cur)) == 0 &&
	       strcmp(cur, name) == 0;
}

/*
 * May n more bytes be written to fd? Count them when so. One thread at a
 * time: the writer and the checkpoint thread write at once, and a kill
 * or a failure must come at the byte it was set for.
 */
static bool write_ok_locked(int fd, size_t n)
{
	if (kill_after >= 0 && kill_in == NULL &&
	    written + (long long)n > kill_after) {
		note("kill", fd, written, 0);
		kill(getpid(), SIGKILL);
	}
	if (kill_after >= 0 && kill_in != NULL && in_thread(kill_in)) {
		if (written_in + (long long)n > kill_after) {
			note("kill", fd, written_in, 0);
			kill(getpid(), SIGKILL);
		}
		written_in += (long long)n;
	}
	if (write_after < 0) {
		written += (long long)n;
		return true;
	}
	if (written + (long long)n > write_after) {
		note("write", fd, written, err_write);
		errno = err_write;
		return false;
	}
	written += (long long)n;
	return true;
}

static bool write_ok(int fd, size_t n)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	bool ok;

	if (!is_watched(fd))
		return true;
	pthread_mutex_lock(&mu);
	ok = write_ok_locked(fd, n);
	pthread_mutex_unlock(&mu);
	return ok;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	init();
	if (!write_ok(fd, n))
		return -1;
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	init();
	if (!write_ok(fd, n))
		return -1;
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	init();
	if (!write_ok(fd, n))
		return -1;
	return (real_pwrite64 ? real_pwrite64 : real_pwrite)(fd, buf, n, off);
}

static int sync_fault(int fd)
{
	if (!is_watched(fd))
		return 0;
	trace(fd);
	if (!fail_fsync)
		return 0;
	note("fsync", fd, 0, err_read);
	errno = err_read;
	return -1;
}

int fsync(int fd)
{
	init();
	if (sync_fault(fd) < 0)
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	init();
	if (sync_fault(fd) < 0)
		return -1;
	return real_fdatasync(fd);
}

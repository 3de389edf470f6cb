/*
 * cmd_common.c - small helpers shared by the subcommands: clocks that
 * tests can pin, option values, number formatting.
 */
#include "common.h"
#include "cmd.h"
#include "rules.h"
#include "timefmt.h"

#include <time.h>
#include <unistd.h>

static struct timespec clock_start;

bool cmd_use_color;

const char *cmd_sev_color(int sev)
{
	static const char *const colors[] = {
		"\033[2m",       /* info: dim */
		"\033[33m",      /* warning: yellow */
		"\033[31m",      /* error: red */
		"\033[1;31m",    /* critical: bold red */
	};

	if (!cmd_use_color || sev < 0 || sev > 3)
		return "";
	return colors[sev];
}

const char *cmd_color_reset(void)
{
	return cmd_use_color ? "\033[0m" : "";
}

void cmd_clock_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &clock_start);
}

double cmd_elapsed(void)
{
	const char *pin = getenv("LOGTRIAGE_TEST_ELAPSED");
	struct timespec now;

	if (pin && *pin)
		return strtod(pin, NULL);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - clock_start.tv_sec) +
	       (double)(now.tv_nsec - clock_start.tv_nsec) / 1e9;
}

int64_t cmd_now_ms(void)
{
	const char *pin = getenv("LOGTRIAGE_TEST_NOW");
	struct timespec now;

	if (pin && *pin) {
		struct timefmt_opts o = { 0, NULL };
		int64_t ms;
		size_t used;

		if (timefmt_parse(pin, strlen(pin), &o, &ms, &used) !=
		    TIMEFMT_NONE)
			return ms;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int cmd_parse_fail_on(const char *s, int *out)
{
	int sev;

	if (strcmp(s, "never") == 0) {
		*out = -1;
		return 0;
	}
	sev = rules_sev_parse(s);
	if (sev < 0)
		return -1;
	*out = sev;
	return 0;
}

int cmd_parse_color(const char *s, bool *out, int fd)
{
	const char *no_color = getenv("NO_COLOR");

	if (s == NULL || strcmp(s, "auto") == 0) {
		*out = isatty(fd) && !(no_color && *no_color);
		return 0;
	}
	if (strcmp(s, "always") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "never") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

const char *cmd_thousands(uint64_t n, char *out, size_t size)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%" PRIu64, n);
	size_t o = 0;
	int i;

	for (i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

int cmd_check_zone(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[512];

	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Z") == 0)
		return 0;
	if (*tz == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL ||
	    strlen(tz) > 64)
		return -1;
	snprintf(path, sizeof(path), "%s/%s",
		 dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	return access(path, R_OK) == 0 ? 0 : -1;
}

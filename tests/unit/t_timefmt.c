/*
 * t_timefmt.c - unit tests for timefmt, the timestamp presets of stage 3
 * (parse).  The main table gives, for each stamp and options, the result it
 * must have; expected values come from Python's datetime and zoneinfo
 * (fold=0), not from timefmt itself.  Every stamp is copied into a buffer of
 * exactly its length, so AddressSanitizer or valgrind catch any overread.
 */
#include "common.h"
#include "timefmt.h"
#include "unit.h"

#include <math.h>

#define ISO  TIMEFMT_ISO8601
#define CLF  TIMEFMT_CLF
#define SYS  TIMEFMT_SYSLOG
#define DMY  TIMEFMT_DMY
#define NONE TIMEFMT_NONE
#define M    "Europe/Madrid"
#define NY   "America/New_York"
#define LH   "Australia/Lord_Howe"
/* TIMEFMT_TZ_NAME_MAX (64) letters: one too many */
#define LONG_TZ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A fixed "now" for relative times: 2026-02-24T10:15:02.123Z. */
#define NOW INT64_C(1771928102123)

struct parse_case {
	const char *in;		/* the stamp and what follows it */
	int year;		/* opts.default_year */
	const char *tz;		/* opts.tz */
	enum timefmt_kind kind;	/* expected kind; NONE: must not parse */
	int64_t ms;		/* expected epoch ms UTC */
	size_t used;		/* expected bytes consumed */
	const char *what;
};

static const struct parse_case parse_cases[] = {

	/* ISO 8601 / RFC 3339 */
	{ "2026-02-24T10:15:02Z", 0, NULL, ISO, 1771928102000, 20,
	  "RFC 3339, Z" },
	{ "2026-02-24t10:15:02z", 0, NULL, ISO, 1771928102000, 20,
	  "lowercase t and z" },
	{ "2026-02-24 10:15:02Z", 0, NULL, ISO, 1771928102000, 20,
	  "space for T" },
	{ "2026-02-24T10:15:02", 0, NULL, ISO, 1771928102000, 19,
	  "no zone, tz NULL: UTC" },
	{ "2026-02-24T10:15:02", 0, "UTC", ISO, 1771928102000, 19,
	  "no zone, tz UTC" },
	{ "2026-02-24T10:15:02Z INFO start", 0, NULL, ISO, 1771928102000, 20,
	  "text after the stamp" },
	{ "1970-01-01T00:00:00Z", 0, NULL, ISO, 0, 20,
	  "the epoch" },
	{ "1969-12-31T23:59:59.999Z", 0, NULL, ISO, -1, 24,
	  "before the epoch" },
	{ "0001-01-01T00:00:00Z", 0, NULL, ISO, -62135596800000, 20,
	  "year 1" },
	{ "9999-12-31T23:59:59.999Z", 0, NULL, ISO, 253402300799999, 24,
	  "last ms of 9999" },
	{ "2038-01-19T03:14:07Z", 0, NULL, ISO, 2147483647000, 20,
	  "INT32_MAX seconds" },
	{ "2038-01-19T03:14:08Z", 0, NULL, ISO, 2147483648000, 20,
	  "2^31 seconds" },
	{ "2100-03-01T00:00:00Z", 0, NULL, ISO, 4107542400000, 20,
	  "2100" },

	/* fractions: 1..9 digits, truncated */
	{ "2026-02-24T10:15:02.1Z", 0, NULL, ISO, 1771928102100, 22,
	  "1 digit" },
	{ "2026-02-24T10:15:02.12Z", 0, NULL, ISO, 1771928102120, 23,
	  "2 digits" },
	{ "2026-02-24T10:15:02.123Z", 0, NULL, ISO, 1771928102123, 24,
	  "3 digits" },
	{ "2026-02-24T10:15:02.1239Z", 0, NULL, ISO, 1771928102123, 25,
	  "4 digits" },
	{ "2026-02-24T10:15:02.12399Z", 0, NULL, ISO, 1771928102123, 26,
	  "5 digits" },
	{ "2026-02-24T10:15:02.123999Z", 0, NULL, ISO, 1771928102123, 27,
	  "6 digits" },
	{ "2026-02-24T10:15:02.1239999Z", 0, NULL, ISO, 1771928102123, 28,
	  "7 digits" },
	{ "2026-02-24T10:15:02.12399999Z", 0, NULL, ISO, 1771928102123, 29,
	  "8 digits" },
	{ "2026-02-24T10:15:02.123456789Z", 0, NULL, ISO, 1771928102123, 30,
	  "9 digits" },
	{ "2026-02-24T10:15:02.999999999Z", 0, NULL, ISO, 1771928102999, 30,
	  "truncated, not rounded" },
	{ "2026-02-24T10:15:02.0000000001Z", 0, NULL, NONE, 0, 0,
	  "10 digits" },
	{ "2026-02-24T10:15:02.000Z", 0, NULL, ISO, 1771928102000, 24,
	  "zero fraction" },
	{ "2026-02-24 10:15:02,123", 0, NULL, ISO, 1771928102123, 23,
	  "Python logging comma" },
	{ "2026-02-24 10:15:02,123 - app -", 0, NULL, ISO, 1771928102123, 23,
	  "Python logging line" },
	{ "2026-02-24T10:15:02.Z", 0, NULL, ISO, 1771928102000, 19,
	  "'.' without digit is not part of it" },
	{ "2026-02-24 10:15:02, next", 0, NULL, ISO, 1771928102000, 19,
	  "',' in prose" },
	{ "1969-12-31T23:59:59.9999Z", 0, NULL, ISO, -1, 25,
	  "truncation toward the past" },

	/* offsets */
	{ "2026-02-24T10:15:02+01:00", 0, NULL, ISO, 1771924502000, 25,
	  "+hh:mm" },
	{ "2026-02-24T10:15:02+0100", 0, NULL, ISO, 1771924502000, 24,
	  "+hhmm" },
	{ "2026-02-24T10:15:02+01", 0, NULL, ISO, 1771924502000, 22,
	  "+hh" },
	{ "2026-02-24T10:15:02-05:00", 0, NULL, ISO, 1771946102000, 25,
	  "-hh:mm" },
	{ "2026-02-24T10:15:02-0500", 0, NULL, ISO, 1771946102000, 24,
	  "-hhmm" },
	{ "2026-02-24T10:15:02-05", 0, NULL, ISO, 1771946102000, 22,
	  "-hh" },
	{ "2026-02-24T10:15:02.5+05:30", 0, NULL, ISO, 1771908302500, 27,
	  "fraction and half-hour offset" },
	{ "2026-02-24T10:15:02-09:30", 0, NULL, ISO, 1771962302000, 25,
	  "negative half-hour offset" },
	{ "2026-02-24T10:15:02+00:00", 0, NULL, ISO, 1771928102000, 25,
	  "+00:00" },
	{ "2026-02-24T10:15:02-00:00", 0, NULL, ISO, 1771928102000, 25,
	  "-00:00 (RFC 3339 unknown local)" },
	{ "2026-02-24T10:15:02+14:00", 0, NULL, ISO, 1771877702000, 25,
	  "Kiribati" },
	{ "2026-02-24T10:15:02+18:00", 0, NULL, ISO, 1771863302000, 25,
	  "largest offset" },
	{ "2026-02-24T10:15:02-18:00", 0, NULL, ISO, 1771992902000, 25,
	  "largest negative offset" },
	{ "2026-02-24T10:15:02+18:01", 0, NULL, NONE, 0, 0,
	  "beyond 18:00" },
	{ "2026-02-24T10:15:02+19", 0, NULL, NONE, 0, 0,
	  "beyond 18h" },
	{ "2026-02-24T10:15:02+01:60", 0, NULL, NONE, 0, 0,
	  "offset minute 60" },
	{ "2026-02-24T10:15:02+1", 0, NULL, NONE, 0, 0,
	  "one-digit offset" },
	{ "2026-02-24T10:15:02+01:0", 0, NULL, NONE, 0, 0,
	  "+hh:m" },
	{ "2026-02-24T10:15:02+010", 0, NULL, NONE, 0, 0,
	  "+hhm" },
	{ "2026-02-24T10:15:02+01000", 0, NULL, NONE, 0, 0,
	  "+hhmmm" },
	{ "2026-02-24T10:15:02+01:00:00", 0, NULL, ISO, 1771924502000, 25,
	  "seconds of offset not taken" },
	{ "2026-02-24T10:15:02-", 0, NULL, ISO, 1771928102000, 19,
	  "lone '-' not consumed" },
	{ "2026-02-24T10:15:02+01:00", 0, M, ISO, 1771924502000, 25,
	  "explicit offset wins over tz" },
	{ "2026-07-01T12:00:00Z", 0, M, ISO, 1782907200000, 20,
	  "Z wins over tz" },

	/* spaced offsets and zone words */
	{ "2026-02-24 10:15:02 +0000] 1234", 0, NULL, ISO, 1771928102000, 25,
	  "gunicorn, after '['" },
	{ "2026-02-24 10:15:02 +0100]", 0, NULL, ISO, 1771924502000, 25,
	  "gunicorn +0100" },
	{ "2026-02-24 10:15:02 -05:00", 0, NULL, ISO, 1771946102000, 26,
	  "spaced -hh:mm" },
	{ "2026-02-24 10:15:02 -03 LOG:  x", 0, NULL, ISO, 1771938902000, 23,
	  "PostgreSQL numeric zone" },
	{ "2026-02-24 10:15:02 +2500", 0, NULL, NONE, 0, 0,
	  "spaced offset out of range" },
	{ "2026-02-24 10:15:02 +12345", 0, NULL, ISO, 1771928102000, 19,
	  "not offset-shaped: left alone" },
	{ "2026-02-24 10:15:02 -1 retries", 0, NULL, ISO, 1771928102000, 19,
	  "a number, not an offset" },
	{ "2026-02-24 10:15:02 +0100abc", 0, NULL, ISO, 1771928102000, 19,
	  "no boundary after spaced offset" },
	{ "2026-02-24 10:15:02.123 UTC [42]", 0, NULL, ISO, 1771928102123, 27,
	  "PostgreSQL UTC" },
	{ "2026-02-24 10:15:02 UTC", 0, M, ISO, 1771928102000, 23,
	  "UTC word wins over tz" },
	{ "2026-02-24 10:15:02 GMT", 0, M, ISO, 1771928102000, 23,
	  "GMT word" },
	{ "2026-02-24 10:15:02 UTC,", 0, NULL, ISO, 1771928102000, 23,
	  "UTC then punctuation" },
	{ "2026-02-24 10:15:02 UTCX", 0, NULL, ISO, 1771928102000, 19,
	  "UTCX is not a zone word" },
	{ "2026-02-24 10:15:02 utc", 0, M, ISO, 1771924502000, 19,
	  "zone words are upper case" },
	{ "2026-02-24 10:15:02 CET [1]", 0, NULL, ISO, 1771928102000, 19,
	  "other word: read in tz (UTC)" },
	{ "2026-02-24 10:15:02 CET [1]", 0, M, ISO, 1771924502000, 19,
	  "other word: read in tz (Madrid)" },
	{ "2026-02-24T10:15:02+0000", 0, NULL, ISO, 1771928102000, 24,
	  "journalctl short-iso" },

	/* seconds required */
	{ "2026-02-24T10:15Z", 0, NULL, NONE, 0, 0,
	  "no seconds, with zone" },
	{ "2026-02-24T10:15", 0, NULL, NONE, 0, 0,
	  "no seconds" },
	{ "2026-02-24T10:15 x", 0, NULL, NONE, 0, 0,
	  "no seconds, text" },
	{ "2026-02-24T10:15:0", 0, NULL, NONE, 0, 0,
	  "one-digit seconds" },

	/* leap seconds */
	{ "2016-12-31T23:59:60Z", 0, NULL, ISO, 1483228799999, 20,
	  "leap second: last ms of the minute" },
	{ "2016-12-31T23:59:60.5Z", 0, NULL, ISO, 1483228799999, 22,
	  "leap second fraction ignored" },
	{ "2017-01-01T00:59:60+01:00", 0, NULL, ISO, 1483228799999, 25,
	  "leap second in +01:00" },
	{ "2026-02-24T10:15:61Z", 0, NULL, NONE, 0, 0,
	  "second 61" },

	/* ranges */
	{ "2024-02-29T12:00:00Z", 0, NULL, ISO, 1709208000000, 20,
	  "leap day" },
	{ "2026-02-29T12:00:00Z", 0, NULL, NONE, 0, 0,
	  "no leap day in 2026" },
	{ "2000-02-29T00:00:00Z", 0, NULL, ISO, 951782400000, 20,
	  "2000 is leap" },
	{ "1900-02-29T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "1900 is not leap" },
	{ "1900-02-28T00:00:00Z", 0, NULL, ISO, -2203977600000, 20,
	  "1900" },
	{ "2100-02-29T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "2100 is not leap" },
	{ "2026-01-31T00:00:00Z", 0, NULL, ISO, 1769817600000, 20,
	  "day 31" },
	{ "2026-04-31T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "April 31" },
	{ "2026-02-30T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "February 30" },
	{ "2026-12-31T23:59:59Z", 0, NULL, ISO, 1798761599000, 20,
	  "last second of a year" },
	{ "2026-13-01T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "month 13" },
	{ "2026-00-10T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "month 0" },
	{ "2026-01-00T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "day 0" },
	{ "2026-01-32T00:00:00Z", 0, NULL, NONE, 0, 0,
	  "day 32" },
	{ "2026-02-24T23:59:59Z", 0, NULL, ISO, 1771977599000, 20,
	  "hour 23" },
	{ "2026-02-24T24:00:00Z", 0, NULL, NONE, 0, 0,
	  "hour 24" },
	{ "2026-02-24T25:00:00Z", 0, NULL, NONE, 0, 0,
	  "hour 25" },
	{ "2026-02-24T10:60:00Z", 0, NULL, NONE, 0, 0,
	  "minute 60" },

	/* garbage */
	{ "", 0, NULL, NONE, 0, 0,
	  "empty" },
	{ "20260224", 0, NULL, NONE, 0, 0,
	  "basic date" },
	{ "20260224T101502Z", 0, NULL, NONE, 0, 0,
	  "basic date-time" },
	{ "2026-02-24", 0, NULL, NONE, 0, 0,
	  "date only" },
	{ "2026-13-01", 0, NULL, NONE, 0, 0,
	  "month 13, date only" },
	{ "2026-02-30", 0, NULL, NONE, 0, 0,
	  "February 30, date only" },
	{ "2026/02/24 10:15:02", 0, NULL, NONE, 0, 0,
	  "slashes" },
	{ "2026-2-24T10:15:02Z", 0, NULL, NONE, 0, 0,
	  "one-digit month" },
	{ "2026-02-24X10:15:02Z", 0, NULL, NONE, 0, 0,
	  "X separator" },
	{ "2026-02-24T1:15:02Z", 0, NULL, NONE, 0, 0,
	  "one-digit hour" },
	{ "2026-02-24T10-15-02Z", 0, NULL, NONE, 0, 0,
	  "dashes in time" },
	{ " 2026-02-24T10:15:02Z", 0, NULL, NONE, 0, 0,
	  "leading space" },
	{ "[2026-02-24T10:15:02Z", 0, NULL, NONE, 0, 0,
	  "bracket not stripped" },
	{ "-2026-02-24T10:15:02Z", 0, NULL, NONE, 0, 0,
	  "sign" },
	{ "+12026-02-24T10:15:02Z", 0, NULL, NONE, 0, 0,
	  "five-digit year" },
	{ "hello world", 0, NULL, NONE, 0, 0,
	  "prose" },

	/* Apache / nginx common log format */
	{ "24/Feb/2026:10:15:02 +0000] \"GET", 0, NULL, CLF, 1771928102000, 26,
	  "CLF" },
	{ "24/Feb/2026:10:15:02 +0100", 0, NULL, CLF, 1771924502000, 26,
	  "CLF +0100" },
	{ "24/Feb/2026:10:15:02 -0700", 0, NULL, CLF, 1771953302000, 26,
	  "CLF -0700" },
	{ "24/feb/2026:10:15:02 +0000", 0, NULL, CLF, 1771928102000, 26,
	  "month in any case" },
	{ "24/Feb/2026:10:15:02", 0, NULL, CLF, 1771928102000, 20,
	  "CLF without zone: tz UTC" },
	{ "24/Feb/2026:10:15:02", 0, M, CLF, 1771924502000, 20,
	  "CLF without zone: tz Madrid" },
	{ "24/Feb/2026:10:15:02Z", 0, NULL, CLF, 1771928102000, 20,
	  "CLF takes no Z" },
	{ "29/Feb/2024:00:00:00 +0000", 0, NULL, CLF, 1709164800000, 26,
	  "CLF leap day" },
	{ "29/Feb/2026:00:00:00 +0000", 0, NULL, NONE, 0, 0,
	  "CLF no leap day" },
	{ "31/Apr/2026:10:15:02 +0000", 0, NULL, NONE, 0, 0,
	  "CLF April 31" },
	{ "24/Foo/2026:10:15:02 +0000", 0, NULL, NONE, 0, 0,
	  "CLF bad month" },
	{ "4/Feb/2026:10:15:02 +0000", 0, NULL, NONE, 0, 0,
	  "CLF one-digit day" },
	{ "24/Feb/2026 10:15:02 +0000", 0, NULL, NONE, 0, 0,
	  "CLF space for ':'" },
	{ "24/Feb/2026:10:15:02 +2400", 0, NULL, NONE, 0, 0,
	  "CLF offset out of range" },

	/* day, month name, year: Redis's server log */
	{ "24 Feb 2026 10:15:02.123 * Ready to accept connections", 0, NULL,
	  DMY, 1771928102123, 24, "Redis" },
	{ "24 Feb 2026 10:15:02.123 # x", 0, M, DMY, 1771924502123, 24,
	  "Redis in Madrid (winter)" },
	{ "24 Jul 2026 10:15:02.999 # x", 0, M, DMY, 1784880902999, 24,
	  "Redis in Madrid (summer)" },
	{ "04 Mar 2026 09:01:00.001 - x", 0, NULL, DMY, 1772614860001, 24,
	  "zero-padded day" },
	{ "29 Feb 2024 00:00:00.000 * x", 0, NULL, DMY, 1709164800000, 24,
	  "leap day" },
	{ "24 feb 2026 10:15:02", 0, NULL, DMY, 1771928102000, 20,
	  "month in any case, no fraction" },
	{ "24 Feb 2026 10:15:02 +0100", 0, NULL, DMY, 1771928102000, 20,
	  "no zone is read after it" },
	{ "29 Feb 2026 00:00:00.000 * x", 0, NULL, NONE, 0, 0,
	  "no leap day" },
	{ "31 Apr 2026 10:15:02.123 * x", 0, NULL, NONE, 0, 0,
	  "April 31" },
	{ "4 Feb 2026 10:15:02.123 * x", 0, NULL, NONE, 0, 0,
	  "one-digit day" },
	{ "24 Foo 2026 10:15:02.123 * x", 0, NULL, NONE, 0, 0,
	  "bad month" },
	{ "24 Feb 26 10:15:02.123 * x", 0, NULL, NONE, 0, 0,
	  "two-digit year" },
	{ "24 Feb 2026 10:15 * x", 0, NULL, NONE, 0, 0,
	  "no seconds" },
	{ "24 Feb 2026 24:00:00.000 * x", 0, NULL, NONE, 0, 0,
	  "hour 24" },

	/* syslog */
	{ "Feb 24 10:15:02 web1 sshd: x", 2026, NULL, SYS, 1771928102000, 15,
	  "syslog" },
	{ "Feb 24 10:15:02 web1 sshd: x", 2025, NULL, SYS, 1740392102000, 15,
	  "same bytes, other default_year" },
	{ "Feb 24 10:15:02 web1 sshd: x", 0, NULL, NONE, 0, 0,
	  "no default_year" },
	{ "Feb 24 10:15:02 web1 sshd: x", 2026, M, SYS, 1771924502000, 15,
	  "syslog in Madrid" },
	{ "Feb  4 10:15:02 web1", 2026, NULL, SYS, 1770200102000, 15,
	  "space-padded day" },
	{ "Feb 4 10:15:02 web1", 2026, NULL, SYS, 1770200102000, 14,
	  "one-digit day" },
	{ "Feb 04 10:15:02 web1", 2026, NULL, SYS, 1770200102000, 15,
	  "zero-padded day" },
	{ "Feb 29 10:15:02 x", 2024, NULL, SYS, 1709201702000, 15,
	  "Feb 29 in a leap year" },
	{ "Feb 29 10:15:02 x", 2026, NULL, NONE, 0, 0,
	  "Feb 29 otherwise (cached prefix, other year)" },
	{ "Dec 31 23:59:59 x", 2025, NULL, SYS, 1767225599000, 15,
	  "December" },
	{ "Jan  1 00:00:00 x", 2026, NULL, SYS, 1767225600000, 15,
	  "January" },
	{ "FEB 24 10:15:02 x", 2026, NULL, SYS, 1771928102000, 15,
	  "upper-case month" },
	{ "Feb 24 10:15:02.123456 x", 2026, NULL, SYS, 1771928102123, 22,
	  "fraction" },
	{ "Feb 24 10:15:02Z", 2026, NULL, SYS, 1771928102000, 15,
	  "syslog takes no zone" },
	{ "Feb 24 10:15:02 +0000", 2026, NULL, SYS, 1771928102000, 15,
	  "syslog takes no offset" },
	{ "Feb 32 10:15:02 x", 2026, NULL, NONE, 0, 0,
	  "day 32" },
	{ "Feb 24 24:15:02 x", 2026, NULL, NONE, 0, 0,
	  "hour 24" },
	{ "Fe 24 10:15:02 x", 2026, NULL, NONE, 0, 0,
	  "short month" },
	{ "Foo 24 10:15:02 x", 2026, NULL, NONE, 0, 0,
	  "bad month" },
	{ "Feb 24 10:15 x", 2026, NULL, NONE, 0, 0,
	  "no seconds" },
	{ "Feb x4 10:15:02 x", 2026, NULL, NONE, 0, 0,
	  "letter in the day" },
	{ "Feb 24 x0:15:02 x", 2026, NULL, NONE, 0, 0,
	  "letter in the hour" },
	{ "Feb 24 10:15:02 x", 2026, "UTC", SYS, 1771928102000, 15,
	  "tz UTC by name" },
	{ "Feb  24 10:15:02 x", 2026, NULL, NONE, 0, 0,
	  "two spaces and two digits" },

	/* 12-hour clock */
	{ "Feb 24 10:15:02 AM x", 2026, NULL, SYS, 1771928102000, 18,
	  "AM" },
	{ "Feb 24 10:15:02 PM x", 2026, NULL, SYS, 1771971302000, 18,
	  "PM, same prefix as AM" },
	{ "Feb 24 12:00:00 AM", 2026, NULL, SYS, 1771891200000, 18,
	  "12 AM is 00" },
	{ "Feb 24 12:00:00 PM", 2026, NULL, SYS, 1771934400000, 18,
	  "12 PM is 12" },
	{ "Feb 24 12:30:00 am", 2026, NULL, SYS, 1771893000000, 18,
	  "lower-case am" },
	{ "Feb 24 1:05:00 pm", 2026, NULL, SYS, 1771938300000, 17,
	  "one-digit hour" },
	{ "Feb 24 9:05:00 AM", 2026, NULL, SYS, 1771923900000, 17,
	  "one-digit hour AM" },
	{ "Feb 24 11:59:59.5 PM", 2026, NULL, SYS, 1771977599500, 20,
	  "fraction then PM" },
	{ "Feb 24 13:15:02 PM", 2026, NULL, SYS, 1771938902000, 15,
	  "hour 13: PM left alone" },
	{ "Feb 24 00:15:02 AM", 2026, NULL, SYS, 1771892102000, 15,
	  "hour 00: AM left alone" },
	{ "Feb 24 10:15:02 AMX", 2026, NULL, SYS, 1771928102000, 15,
	  "AMX is not AM" },
	{ "Feb 24 10:15:02 PM", 2026, NY, SYS, 1771989302000, 18,
	  "PM in New York" },

	/* zones without offset: Europe/Madrid */
	{ "2026-02-24 10:15:02", 0, M, ISO, 1771924502000, 19,
	  "CET" },
	{ "2026-02-24 10:15:03", 0, M, ISO, 1771924503000, 19,
	  "CET, cached hour" },
	{ "2026-07-01 12:00:00", 0, M, ISO, 1782900000000, 19,
	  "CEST" },
	{ "2026-03-29 01:59:59.999", 0, M, ISO, 1774745999999, 23,
	  "before the gap" },
	{ "2026-03-29 02:00:00", 0, M, ISO, 1774746000000, 19,
	  "gap start: read as CET" },
	{ "2026-03-29 02:30:00", 0, M, ISO, 1774747800000, 19,
	  "in the gap: CET, i.e. 03:30 CEST" },
	{ "2026-03-29 02:59:59", 0, M, ISO, 1774749599000, 19,
	  "gap end" },
	{ "2026-03-29 03:00:00", 0, M, ISO, 1774746000000, 19,
	  "after the gap: CEST" },
	{ "2026-10-25 01:59:59", 0, M, ISO, 1792886399000, 19,
	  "before the overlap" },
	{ "2026-10-25 02:00:00", 0, M, ISO, 1792886400000, 19,
	  "overlap start: first (CEST)" },
	{ "2026-10-25 02:30:00", 0, M, ISO, 1792888200000, 19,
	  "in the overlap: first (CEST)" },
	{ "2026-10-25 02:59:59.999", 0, M, ISO, 1792889999999, 23,
	  "overlap end: first (CEST)" },
	{ "2026-10-25 03:00:00", 0, M, ISO, 1792893600000, 19,
	  "after the overlap: CET" },
	{ "2026-02-24 10:15:02", 0, NULL, ISO, 1771928102000, 19,
	  "back to UTC, same prefix" },
	{ "1900-06-01 12:00:00", 0, M, ISO, -2195898316000, 19,
	  "1900 (LMT)" },
	{ "2100-07-01 12:00:00", 0, M, ISO, 4118119200000, 19,
	  "2100 (rule)" },

	/* America/New_York and others */
	{ "2026-02-24 10:15:02", 0, NY, ISO, 1771946102000, 19,
	  "EST" },
	{ "2026-07-04 12:00:00", 0, NY, ISO, 1783180800000, 19,
	  "EDT" },
	{ "2026-03-08 01:59:59", 0, NY, ISO, 1772953199000, 19,
	  "before the gap" },
	{ "2026-03-08 02:30:00", 0, NY, ISO, 1772955000000, 19,
	  "in the gap: EST" },
	{ "2026-03-08 03:00:00", 0, NY, ISO, 1772953200000, 19,
	  "after the gap" },
	{ "2026-11-01 00:59:59", 0, NY, ISO, 1793509199000, 19,
	  "before the overlap" },
	{ "2026-11-01 01:30:00", 0, NY, ISO, 1793511000000, 19,
	  "in the overlap: first (EDT)" },
	{ "2026-11-01 02:00:00", 0, NY, ISO, 1793516400000, 19,
	  "after the overlap: EST" },
	{ "2026-11-01 01:30:00", 0, M, ISO, 1793493000000, 19,
	  "same stamp, other zone" },
	{ "2026-10-04 01:59:59", 0, LH, ISO, 1791041399000, 19,
	  "Lord Howe, before a 30-min gap" },
	{ "2026-10-04 02:15:00", 0, LH, ISO, 1791042300000, 19,
	  "in the 30-min gap" },
	{ "2026-10-04 02:45:00", 0, LH, ISO, 1791042300000, 19,
	  "after the gap, same hour" },
	{ "2026-10-04 02:29:59", 0, LH, ISO, 1791043199000, 19,
	  "gap end, same hour" },
	{ "2026-04-05 01:45:00", 0, LH, ISO, 1775313900000, 19,
	  "in the 30-min overlap: first" },
	{ "2026-02-24 10:15:02", 0, "Asia/Kolkata", ISO, 1771908302000, 19,
	  "+05:30, no DST" },
	{ "2026-02-24 10:15:02", 0, "Etc/UTC", ISO, 1771928102000, 19,
	  "Etc/UTC" },
	{ "2026-02-24 10:15:02", 0, LONG_TZ, NONE, 0, 0,
	  "zone name too long" },
};

/*
 * Parse the first len bytes of s from a malloc'd copy of exactly len
 * bytes, so that reading s[len] is caught by the memory checkers.
 */
static enum timefmt_kind parse_exact(const char *s, size_t len,
				     const struct timefmt_opts *o,
				     int64_t *ms, size_t *used)
{
	char *buf = malloc(len);
	enum timefmt_kind k;

	if (buf == NULL && len != 0) {
		perror("malloc");
		exit(1);
	}
	if (len != 0)
		memcpy(buf, s, len);
	k = timefmt_parse(buf, len, o, ms, used);
	free(buf);
	return k;
}

/* Run one table row and check kind, ms and used; mode names the pass. */
static void run_parse_case(const char *mode, const struct parse_case *c)
{
	struct timefmt_opts o = { c->year, c->tz };
	int64_t ms = INT64_MIN;
	size_t used = 9999;
	enum timefmt_kind k;
	bool ok;

	k = parse_exact(c->in, strlen(c->in), &o, &ms, &used);
	if (c->kind == NONE)
		ok = k == NONE && ms == INT64_MIN && used == 9999;
	else
		ok = k == c->kind && ms == c->ms && used == c->used;
	CHECK(ok, "%s: %s: '%s' year %d tz %s", mode, c->what, c->in,
	      c->year, c->tz ? c->tz : "NULL");
	if (!ok)
		printf("#   got:  %s %" PRId64 " used %zu\n"
		       "#   want: %s %" PRId64 " used %zu\n",
		       timefmt_kind_name(k), ms, used,
		       timefmt_kind_name(c->kind), c->ms, c->used);
}

/*
 * The table three ways: in order with the caches carried from row to row
 * (as in a real log, where neighbours share prefixes and zones), cold
 * after timefmt_reset, and warm (the same row twice, the second call
 * hitting the prefix and hour caches).
 */
static void test_parse_table(void)
{
	size_t i;

	timefmt_reset();
	for (i = 0; i < ARRAY_SIZE(parse_cases); i++)
		run_parse_case("seq", &parse_cases[i]);
	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		timefmt_reset();
		run_parse_case("cold", &parse_cases[i]);
	}
	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		timefmt_reset();
		run_parse_case("warm-1", &parse_cases[i]);
		run_parse_case("warm-2", &parse_cases[i]);
	}
	timefmt_reset();
}

/* Expected result of one truncation of a stamp: used 0 means NONE. */
struct cut {
	size_t used;
	int64_t ms;
};

/*
 * Every prefix of a full ISO stamp, with the exact result each must give,
 * cold and with the prefix cache primed by the full stamp.
 */
static void test_truncation_exact(void)
{
	static const char full[] = "2026-02-24T10:15:02.123+01:00";
	static const struct cut want[] = {
		[19] = { 19, 1771928102000 },	/* ":02" */
		[20] = { 19, 1771928102000 },	/* ":02." - no digit */
		[21] = { 21, 1771928102100 },	/* ".1" */
		[22] = { 22, 1771928102120 },	/* ".12" */
		[23] = { 23, 1771928102123 },	/* ".123" */
		[24] = { 23, 1771928102123 },	/* "+" - no digit */
		[25] = { 0, 0 },		/* "+0" */
		[26] = { 26, 1771924502123 },	/* "+01" */
		[27] = { 0, 0 },		/* "+01:" */
		[28] = { 0, 0 },		/* "+01:0" */
		[29] = { 29, 1771924502123 },	/* full */
	};
	int pass;
	size_t n;
	int64_t ms;
	size_t used;
	enum timefmt_kind k;
	bool ok;

	for (pass = 0; pass < 2; pass++) {
		for (n = 0; n <= sizeof(full) - 1; n++) {
			timefmt_reset();
			if (pass == 1)
				parse_exact(full, sizeof(full) - 1, NULL, &ms,
					    &used);
			ms = 0;
			used = 0;
			k = parse_exact(full, n, NULL, &ms, &used);
			if (n < ARRAY_SIZE(want) && want[n].used != 0)
				ok = k == ISO && used == want[n].used &&
				     ms == want[n].ms;
			else
				ok = k == NONE;
			CHECK(ok, "%s truncation to %zu bytes: '%.*s'",
			      pass ? "warm" : "cold", n, (int)n, full);
			if (!ok)
				printf("#   got %s %" PRId64 " used %zu\n",
				       timefmt_kind_name(k), ms, used);
		}
	}
}

/*
 * Every prefix of assorted full stamps: never NONE-with-output, never
 * used > n, and the full length gives the full result.
 */
static void test_truncation_props(void)
{
	static const struct {
		const char *s;
		int year;
		const char *tz;
	} stamps[] = {
		{ "2026-02-24T10:15:02.123456789Z", 0, NULL },
		{ "2026-02-24 10:15:02,123", 0, NULL },
		{ "2026-02-24 10:15:02 +0000", 0, NULL },
		{ "2026-02-24 10:15:02 -05:30", 0, NULL },
		{ "2026-02-24 10:15:02.123 UTC", 0, NULL },
		{ "2026-02-24 10:15:02 GMT", 0, M },
		{ "2026-03-29 02:30:00.5", 0, M },
		{ "24/Feb/2026:10:15:02 +0100", 0, NULL },
		{ "Feb 24 10:15:02", 2026, NULL },
		{ "Feb  4 10:15:02.25", 2026, NY },
		{ "Feb 4 1:15:02 PM", 2026, NULL },
		{ "Feb 24 12:15:02 am", 2026, NULL },
	};
	size_t i;
	size_t n;
	size_t len;
	int warm;
	int bad = 0;
	int64_t ms;
	int64_t full_ms;
	size_t used;
	size_t full_used;
	enum timefmt_kind k;
	enum timefmt_kind full_k;

	for (i = 0; i < ARRAY_SIZE(stamps); i++) {
		struct timefmt_opts o = { stamps[i].year, stamps[i].tz };

		len = strlen(stamps[i].s);
		timefmt_reset();
		full_k = parse_exact(stamps[i].s, len, &o, &full_ms,
				     &full_used);
		CHECK(full_k != NONE && full_used == len,
		      "full stamp '%s' parses whole", stamps[i].s);
		for (warm = 0; warm < 2; warm++) {
			for (n = 0; n <= len; n++) {
				if (!warm)
					timefmt_reset();
				used = 0;
				k = parse_exact(stamps[i].s, n, &o, &ms, &used);
				if (k == NONE && used != 0)
					bad++;
				if (k != NONE && (used == 0 || used > n))
					bad++;
				if (n == len && (k != full_k ||
						 ms != full_ms ||
						 used != full_used))
					bad++;
			}
		}
		CHECK(bad == 0, "every truncation of '%s' stays in bounds",
		      stamps[i].s);
		bad = 0;
	}
	timefmt_reset();
}

/*
 * Random bytes from the alphabet of stamps, at random lengths, in exact
 * buffers: no crash, no overread (ASan/valgrind), used within len.
 */
static void test_random_bytes(void)
{
	static const char alphabet[] = "0123456789-:T .,+Z/FebAMPUTC";
	char buf[48];
	uint32_t seed = 12345;
	int bad = 0;
	int parsed = 0;
	int i;
	size_t n;
	size_t j;
	int64_t ms;
	size_t used;
	struct timefmt_opts o = { 2026, NULL };

	timefmt_reset();
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(buf);
		memcpy(buf, "2026-02-24T10:15:02", 19);
		for (j = (seed & 1) ? 0 : 17; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = alphabet[(seed >> 16) %
					  (sizeof(alphabet) - 1)];
		}
		o.tz = (i & 2) ? M : NULL;
		used = 0;
		if (parse_exact(buf, n, &o, &ms, &used) != NONE) {
			parsed++;
			if (used == 0 || used > n)
				bad++;
		}
	}
	CHECK(bad == 0, "random stamps: used within len (%d parsed)", parsed);
	timefmt_reset();
}

/*
 * Every date 1899-2101 at midnight, and day 29-31 of every month: valid
 * exactly when the day exists (Gregorian leap rule computed here), and
 * consecutive valid days exactly one day apart.
 */
static void test_calendar_walk(void)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				     30, 31 };
	char s[64];
	int y;
	int m;
	int d;
	int max;
	int bad = 0;
	bool first = true;
	int64_t prev = 0;
	int64_t ms;
	size_t used;
	enum timefmt_kind k;

	for (y = 1899; y <= 2101; y++) {
		for (m = 1; m <= 12; m++) {
			max = dim[m - 1];
			if (m == 2 && ((y % 4 == 0 && y % 100 != 0) ||
				       y % 400 == 0))
				max = 29;
			for (d = 1; d <= 31; d++) {
				snprintf(s, sizeof(s),
					 "%04d-%02d-%02dT00:00:00Z", y, m, d);
				k = parse_exact(s, strlen(s), NULL, &ms, &used);
				if ((k != NONE) != (d <= max))
					bad++;
				if (k == NONE)
					continue;
				if (!first && ms != prev + TIMEFMT_MS_DAY)
					bad++;
				first = false;
				prev = ms;
			}
		}
	}
	CHECK(bad == 0, "calendar walk 1899-2101: validity and day steps");
	CHECK(prev == INT64_C(4165430400000), "walk ends at 2101-12-31");
}

/*
 * A stream of stamps 7 s apart across three days (minutes, hours, days
 * and a month end roll over), one preset at a time so that the prefix
 * cache is carried from stamp to stamp: each must give its own time.  The
 * CLF and syslog texts are built from timefmt_format_iso's fields.
 */
static void test_sequences(void)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char *const names[] = { "ISO", "CLF", "syslog" };
	static const enum timefmt_kind kinds[] = { ISO, CLF, SYS };
	const int64_t t0 = INT64_C(1772323200000) - 2 * TIMEFMT_MS_DAY;
	struct timefmt_opts o = { 2026, NULL };
	char iso[TIMEFMT_BUF_SIZE];
	char text[40];
	int preset;
	int bad;
	int64_t t;
	int64_t ms;
	size_t used;
	size_t n;
	int m;
	enum timefmt_kind k;

	for (preset = 0; preset < 3; preset++) {
		timefmt_reset();
		bad = 0;
		for (t = t0; t < t0 + 3 * TIMEFMT_MS_DAY; t += 7001) {
			n = timefmt_format_iso(t, iso, sizeof(iso));
			m = (iso[5] - '0') * 10 + (iso[6] - '0');
			if (preset == 0)
				snprintf(text, sizeof(text), "%s", iso);
			else if (preset == 1)
				snprintf(text, sizeof(text),
					 "%.2s/%.3s/%.4s:%.8s +0000", iso + 8,
					 mon + 3 * (m - 1), iso, iso + 11);
			else
				snprintf(text, sizeof(text), "%.3s %.2s %.8s h",
					 mon + 3 * (m - 1), iso + 8, iso + 11);
			n = preset == 0 ? n : preset == 1 ? 26 : 15;
			k = parse_exact(text, strlen(text), &o, &ms, &used);
			if (k != kinds[preset] || used != n ||
			    ms != (preset == 0 ? t : t - t % 1000))
				bad++;
		}
		CHECK(bad == 0, "%s stream across minutes, hours, days, months",
		      names[preset]);
	}
	timefmt_reset();
}

/* A fixed epoch-number case: v or text in, rc and ms out. */
struct epoch_case {
	double v;
	const char *text;	/* NULL: only the double form */
	int rc;
	int64_t ms;
	const char *what;
};

static const struct epoch_case epoch_cases[] = {
	{ 1771928102.0, "1771928102", 0, 1771928102000, "seconds" },
	{ 1771928102123.0, "1771928102123", 0, 1771928102123, "ms" },
	{ 1771928102123456.0, "1771928102123456", 0, 1771928102123, "us" },
	{ 1771928102123456789.0, "1771928102123456789", 0, 1771928102123,
	  "ns" },
	{ 1771928102.5, "1771928102.5", 0, 1771928102500, "fractional s" },
	{ 1771928102.123, "1771928102.123", 0, 1771928102123,
	  "three-digit fraction" },
	{ 1.001, "1.001", 0, 1001,
	  "1.001 * 1000 is 1000.99999...: snapped up" },
	{ 1.0009994, "1.0009994", 0, 1000, "0.6 us below: not snapped" },
	{ 1771928102.1239, "1771928102.1239", 0, 1771928102123,
	  "fraction truncated" },
	{ 1771928102123.9, "1771928102123.9", 0, 1771928102123,
	  "fractional ms truncated" },
	{ 0.0, "0", 0, 0, "zero" },
	{ -0.0, "-0", 0, 0, "minus zero" },
	{ 0.5, "0.5", 0, 500, "half a second" },
	{ -1.5, "-1.5", 0, -1500, "negative seconds" },
	{ -0.0001, "-0.0001", 0, -1, "negative: toward the past" },
	{ 99999999999.0, "99999999999", 0, 99999999999000,
	  "largest seconds (5138)" },
	{ 1e11, "100000000000", 0, 100000000000, "smallest ms (1973)" },
	{ 99999999999999.0, "99999999999999", 0, 99999999999999,
	  "largest ms" },
	{ 1e14, "100000000000000", 0, 100000000000, "smallest us" },
	{ 1e17, "100000000000000000", 0, 100000000000, "smallest ns" },
	{ 99999999999999999999.0, NULL, -1, 0,
	  "1e20 as a double is out of range" },
	{ 0.0, "99999999999999999999", 0, 99999999999999,
	  "largest ns as text" },
	{ 1e20, "100000000000000000000", -1, 0, "1e20" },
	{ -1e20, "-100000000000000000000", -1, 0, "-1e20" },
	{ 0.0, "1771928102999999999", 0, 1771928102999,
	  "19-digit ns exact as text" },
	{ 0.0, "1.771928102e9", 0, 1771928102000, "exponent" },
	{ 0.0, "1.7719281021234568E+18", 0, 1771928102123,
	  "exponent, ns" },
	{ 0.0, "17719281021e-1", 0, 1771928102100, "negative exponent" },
	{ 0.0, "0.000000001e20", 0, 100000000000, "zeros then exponent" },
	{ 0.0, "00012", 0, 12000, "leading zeros" },
	{ 0.0, "1771928102.123456789123456789123", 0, 1771928102123,
	  "very long fraction" },
	{ 0.0, "-1771928102.123456789123456789123", 0, -1771928102124,
	  "very long negative fraction" },
	{ 0.0, "", -1, 0, "empty" },
	{ 0.0, "-", -1, 0, "sign only" },
	{ 0.0, "1.", -1, 0, "no fraction digits" },
	{ 0.0, ".5", -1, 0, "no integer digits" },
	{ 0.0, "12a", -1, 0, "trailing letter" },
	{ 0.0, " 12", -1, 0, "leading space" },
	{ 0.0, "+12", -1, 0, "plus sign" },
	{ 0.0, "1e", -1, 0, "empty exponent" },
	{ 0.0, "1e+", -1, 0, "exponent sign only" },
	{ 0.0, "\"1771928102\"", -1, 0, "quotes" },
};

static void test_epoch(void)
{
	size_t i;
	int64_t ms;
	int rc;
	const struct epoch_case *c;

	for (i = 0; i < ARRAY_SIZE(epoch_cases); i++) {
		c = &epoch_cases[i];
		if (c->text == NULL || c->v != 0.0) {
			ms = INT64_MIN;
			rc = timefmt_from_epoch(c->v, &ms);
			CHECK(rc == c->rc && (rc != 0 || ms == c->ms),
			      "from_epoch(%.17g): %s", c->v, c->what);
			if (rc != c->rc || (rc == 0 && ms != c->ms))
				printf("#   got rc %d ms %" PRId64 "\n", rc,
				       ms);
		}
		if (c->text != NULL) {
			ms = INT64_MIN;
			rc = timefmt_from_epoch_text(c->text,
						     strlen(c->text), &ms);
			CHECK(rc == c->rc && (rc != 0 || ms == c->ms) &&
			      (rc == 0 || ms == INT64_MIN),
			      "from_epoch_text('%s'): %s", c->text, c->what);
			if (rc != c->rc || (rc == 0 && ms != c->ms))
				printf("#   got rc %d ms %" PRId64 "\n", rc,
				       ms);
		}
	}
	CHECK(timefmt_from_epoch(NAN, &ms) == -1, "from_epoch(NaN) is -1");
	CHECK(timefmt_from_epoch(INFINITY, &ms) == -1,
	      "from_epoch(inf) is -1");
	CHECK(timefmt_from_epoch(-INFINITY, &ms) == -1,
	      "from_epoch(-inf) is -1");
	/* the text form must not read past len */
	CHECK(timefmt_from_epoch_text("17719281025", 10, &ms) == 0 &&
	      ms == 1771928102000, "from_epoch_text honours len");
}

static const struct {
	int64_t ms;
	const char *plain;
	const char *iso;
} format_cases[] = {
	{ 0, "1970-01-01 00:00:00", "1970-01-01T00:00:00.000Z" },
	{ 1771928102123, "2026-02-24 10:15:02", "2026-02-24T10:15:02.123Z" },
	{ 1771928102007, "2026-02-24 10:15:02", "2026-02-24T10:15:02.007Z" },
	{ -1, "1969-12-31 23:59:59", "1969-12-31T23:59:59.999Z" },
	{ 2147483648000, "2038-01-19 03:14:08", "2038-01-19T03:14:08.000Z" },
	{ 1709164800000, "2024-02-29 00:00:00", "2024-02-29T00:00:00.000Z" },
	{ 4107542400000, "2100-03-01 00:00:00", "2100-03-01T00:00:00.000Z" },
	{ 253402300799999, "9999-12-31 23:59:59",
	  "9999-12-31T23:59:59.999Z" },
	{ -62135596800000, "0001-01-01 00:00:00",
	  "0001-01-01T00:00:00.000Z" },
	{ 253402300800000, "10000-01-01 00:00:00",
	  "10000-01-01T00:00:00.000Z" },
	{ -62167219200001, "-0001-12-31 23:59:59",
	  "-0001-12-31T23:59:59.999Z" },
};

static void test_format(void)
{
	char out[TIMEFMT_BUF_SIZE];
	char small[8];
	size_t i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(format_cases); i++) {
		n = timefmt_format(format_cases[i].ms, out, sizeof(out));
		CHECK_STR(out, format_cases[i].plain, "format(%" PRId64 ")",
			  format_cases[i].ms);
		CHECK(n == strlen(format_cases[i].plain),
		      "format(%" PRId64 ") length", format_cases[i].ms);
		n = timefmt_format_iso(format_cases[i].ms, out, sizeof(out));
		CHECK_STR(out, format_cases[i].iso, "format_iso(%" PRId64 ")",
			  format_cases[i].ms);
		CHECK(n == strlen(format_cases[i].iso),
		      "format_iso(%" PRId64 ") length", format_cases[i].ms);
	}
	n = timefmt_format(1771928102123, small, sizeof(small));
	CHECK(n == 19, "truncated format returns the full length");
	CHECK_STR(small, "2026-02", "truncated format keeps size - 1 bytes");
	n = timefmt_format_iso(1771928102123, small, 0);
	CHECK(n == 24 && small[0] == '2', "size 0 writes nothing");
	n = timefmt_format_iso(INT64_MIN, out, sizeof(out));
	CHECK(n < TIMEFMT_BUF_SIZE, "INT64_MIN fits the buffer: %s", out);
	n = timefmt_format_iso(INT64_MAX, out, sizeof(out));
	CHECK(n < TIMEFMT_BUF_SIZE, "INT64_MAX fits the buffer: %s", out);
}

/*
 * Round trips over pseudo-random instants in years 0000-9999:
 * format_iso then parse gives the same ms; format then parse gives the
 * same ms rounded down to the second.
 */
static void test_round_trip(void)
{
	const int64_t lo = INT64_C(-62167219200000);	/* 0000-01-01 */
	const int64_t span = INT64_C(253402300800000) - lo;
	uint64_t seed = 42;
	char out[TIMEFMT_BUF_SIZE];
	int64_t t;
	int64_t ms;
	size_t used;
	size_t n;
	int bad_iso = 0;
	int bad_plain = 0;
	int i;

	for (i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		t = lo + (int64_t)((seed >> 11) % (uint64_t)span);
		if (i < 3)
			t = i == 0 ? lo : i == 1 ? 0 : lo + span - 1;
		n = timefmt_format_iso(t, out, sizeof(out));
		if (parse_exact(out, n, NULL, &ms, &used) != ISO ||
		    ms != t || used != n)
			bad_iso++;
		n = timefmt_format(t, out, sizeof(out));
		if (parse_exact(out, n, NULL, &ms, &used) != ISO ||
		    ms != t - (t % 1000 + 1000) % 1000 || used != n)
			bad_plain++;
	}
	CHECK(bad_iso == 0, "20000 format_iso/parse round trips");
	CHECK(bad_plain == 0, "20000 format/parse round trips");
}

static const struct {
	const char *in;
	const char *tz;
	int rc;
	int64_t ms;
	const char *what;
} user_cases[] = {
	{ "2026-02-24", NULL, 0, 1771891200000, "date: midnight UTC" },
	{ "2026-02-24", M, 0, 1771887600000, "date: midnight in Madrid" },
	{ "2026-02-24T10:00", NULL, 0, 1771927200000, "no seconds" },
	{ "2026-02-24 10:00", NULL, 0, 1771927200000, "space, no seconds" },
	{ "2026-02-24T10:00", M, 0, 1771923600000, "no seconds, Madrid" },
	{ "2026-02-24 10:00:00", NULL, 0, 1771927200000, "seconds" },
	{ "2026-02-24T10:00:00.5Z", M, 0, 1771927200500, "full ISO" },
	{ "2026-02-24T10:00+01:00", NULL, 0, 1771923600000,
	  "no seconds, offset" },
	{ "2026-02-24 10:00:00 UTC", M, 0, 1771927200000, "UTC word" },
	{ "2026-03-29 02:30", M, 0, 1774747800000, "DST gap rule" },
	{ "24h", NULL, 0, NOW - 86400000, "24h ago" },
	{ "7d", NULL, 0, NOW - 7 * 86400000, "7d ago" },
	{ "90m", NULL, 0, NOW - 90 * 60000, "90m ago" },
	{ "30s", NULL, 0, NOW - 30000, "30s ago" },
	{ "1h30m", M, 0, NOW - 5400000, "compound, zone irrelevant" },
	{ "now", NULL, 0, NOW, "now" },
	{ "@1771928102", NULL, 0, 1771928102000, "epoch seconds" },
	{ "@1771928102123", NULL, 0, 1771928102123, "epoch ms" },
	{ "", NULL, -1, 0, "empty" },
	{ "2026", NULL, -1, 0, "bare number (year or seconds?)" },
	{ "90", NULL, -1, 0, "bare number" },
	{ "yesterday", NULL, -1, 0, "word" },
	{ "24x", NULL, -1, 0, "bad unit" },
	{ "-24h", NULL, -1, 0, "sign" },
	{ "2026-02-24T10", NULL, -1, 0, "hour only" },
	{ "2026-02-24T10:00:", NULL, -1, 0, "trailing colon" },
	{ "2026-02-24 10:00:00 trailing", NULL, -1, 0, "trailing text" },
	{ "2026-02-24 ", NULL, -1, 0, "trailing space" },
	{ "2026-02-30", NULL, -1, 0, "February 30" },
	{ "2026-02-24T25:00", NULL, -1, 0, "hour 25" },
	{ "Feb 24 10:15:02", NULL, -1, 0, "syslog is not a user time" },
	{ "@", NULL, -1, 0, "empty epoch" },
	{ "@x", NULL, -1, 0, "bad epoch" },
};

static void test_parse_user(void)
{
	size_t i;
	int64_t ms;
	int rc;

	for (i = 0; i < ARRAY_SIZE(user_cases); i++) {
		struct timefmt_opts o = { 0, user_cases[i].tz };

		ms = INT64_MIN;
		rc = timefmt_parse_user(user_cases[i].in, NOW, &o, &ms);
		CHECK(rc == user_cases[i].rc &&
		      ms == (rc == 0 ? user_cases[i].ms : INT64_MIN),
		      "parse_user('%s') tz %s: %s", user_cases[i].in,
		      user_cases[i].tz ? user_cases[i].tz : "NULL",
		      user_cases[i].what);
		if (rc != user_cases[i].rc || (rc == 0 &&
					      ms != user_cases[i].ms))
			printf("#   got rc %d ms %" PRId64 "\n", rc, ms);
	}
	CHECK(timefmt_parse_user(NULL, NOW, NULL, &ms) == -1,
	      "parse_user(NULL) is -1");
	CHECK(timefmt_parse_user("2026-02-24", NOW, NULL, &ms) == 0 &&
	      ms == 1771891200000, "parse_user with NULL opts");
	CHECK(timefmt_parse_user("9999999999999999999s", NOW, NULL, &ms) == -1,
	      "parse_user: duration overflow");
	CHECK(timefmt_parse_user("106751991167d", INT64_C(-9000000000000000000),
				 NULL, &ms) == -1,
	      "parse_user: now minus duration overflow");
	timefmt_reset();
}

static const struct {
	const char *in;
	int rc;
	int64_t ms;
} duration_cases[] = {
	{ "15m", 0, 900000 },
	{ "10s", 0, 10000 },
	{ "2h", 0, 7200000 },
	{ "7d", 0, 604800000 },
	{ "1w", 0, 604800000 },
	{ "90", 0, 90000 },
	{ "0", 0, 0 },
	{ "0s", 0, 0 },
	{ "500ms", 0, 500 },
	{ "1h30m", 0, 5400000 },
	{ "1m30s", 0, 90000 },
	{ "1d2h3m4s5ms", 0, 93784005 },
	{ "106751991167d", 0, INT64_C(9223372036828800000) },
	{ "", -1, 0 },
	{ "m", -1, 0 },
	{ "15x", -1, 0 },
	{ "-5m", -1, 0 },
	{ "+5m", -1, 0 },
	{ "1.5h", -1, 0 },
	{ "15 m", -1, 0 },
	{ " 15m", -1, 0 },
	{ "15m ", -1, 0 },
	{ "1h30", -1, 0 },
	{ "15M", -1, 0 },
	{ "9223372036854775807", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "106751991168d", -1, 0 },
	{ "106751991167d1d", -1, 0 },
};

static void test_duration(void)
{
	size_t i;
	int64_t ms;
	int rc;

	for (i = 0; i < ARRAY_SIZE(duration_cases); i++) {
		ms = INT64_MIN;
		rc = timefmt_parse_duration(duration_cases[i].in, &ms);
		CHECK(rc == duration_cases[i].rc &&
		      ms == (rc == 0 ? duration_cases[i].ms : INT64_MIN),
		      "parse_duration('%s')", duration_cases[i].in);
		if (rc != duration_cases[i].rc ||
		    (rc == 0 && ms != duration_cases[i].ms))
			printf("#   got rc %d ms %" PRId64 "\n", rc, ms);
	}
	CHECK(timefmt_parse_duration(NULL, &ms) == -1,
	      "parse_duration(NULL) is -1");
}

/* True when TZ is unset and want is NULL, or TZ equals want. */
static bool tz_is(const char *want)
{
	const char *cur = getenv("TZ");

	if (cur == NULL || want == NULL)
		return cur == want;
	return strcmp(cur, want) == 0;
}

/*
 * TZ is set only while a named zone is in use, and put back by the next
 * UTC call or timefmt_reset, whether it was set or unset before.
 */
static void test_tz_env(void)
{
	struct timefmt_opts madrid = { 0, M };
	struct timefmt_opts utc = { 0, "UTC" };
	const char *orig = getenv("TZ");
	char saved[256];
	bool had = orig != NULL;
	int round;
	int64_t ms;
	size_t used;

	if (had)
		snprintf(saved, sizeof(saved), "%s", orig);
	for (round = 0; round < 2; round++) {
		const char *before;

		if (round == 1)
			unsetenv("TZ");
		before = round == 0 && had ? saved : NULL;
		timefmt_reset();
		parse_exact("2026-02-24T10:15:02Z", 20, &madrid, &ms, &used);
		CHECK(tz_is(before),
		      "round %d: a stamp with an offset leaves TZ", round);
		parse_exact("2026-02-24 10:15:02", 19, &madrid, &ms, &used);
		CHECK(tz_is(M), "round %d: a local stamp in Madrid sets TZ",
		      round);
		parse_exact("2026-02-24T10:15:02Z", 20, NULL, &ms, &used);
		CHECK(tz_is(before), "round %d: a NULL-tz call puts TZ back",
		      round);
		parse_exact("2026-02-24 10:15:02", 19, &madrid, &ms, &used);
		parse_exact("2026-02-24 10:15:02", 19, &utc, &ms, &used);
		CHECK(tz_is(before), "round %d: a UTC call puts TZ back",
		      round);
		parse_exact("2026-02-24 10:15:02", 19, &madrid, &ms, &used);
		timefmt_reset();
		CHECK(tz_is(before), "round %d: timefmt_reset puts TZ back",
		      round);
		timefmt_parse_user("2026-02-24", NOW, &madrid, &ms);
		timefmt_parse_user("2026-02-24", NOW, NULL, &ms);
		CHECK(tz_is(before), "round %d: parse_user puts TZ back",
		      round);
	}
	if (had)
		setenv("TZ", saved, 1);
	timefmt_reset();
}

/*
 * What a stamp reads as never depends on what was read before it: the
 * last stamp (and the last prefixes) are cached, keyed on the bytes that
 * decided them. Every table row and every variant below is read after
 * every other one and must give what it gives after timefmt_reset.
 */
static const char *const history_stamps[] = {
	"2026-02-24 10:15:02,123",
	"2026-02-24 10:15:02,123 INFO app: x",
	"2026-02-24 10:15:02,123 +0100",
	"2026-02-24 10:15:02,123 +01:00 x",
	"2026-02-24 10:15:02,123 -03 x",
	"2026-02-24 10:15:02,123 +9999 x",
	"2026-02-24 10:15:02,123 UTC",
	"2026-02-24 10:15:02,123 GMTx",
	"2026-02-24 10:15:02,123 Utc",
	"2026-02-24 10:15:02,123  +0100",
	"2026-02-24 10:15:02,123 +x",
	"2026-02-24 10:15:02,123 -x",
	"2026-02-24 10:15:02,123 -0300",
	"2026-02-24 10:15:02,123 GMT",
	"2026-02-24 10:15:02,123 ",
	"2026-02-24 10:15:02,123Z",
	"2026-02-24 10:15:02,123z x",
	"2026-02-24 10:15:02,123+01",
	"2026-02-24 10:15:02,123+0130 x",
	"2026-02-24 10:15:02,123-",
	"2026-02-24 10:15:02,1234567891",
	"2026-02-24 10:15:02,12345678 x",
	"2026-02-24 10:15:02.",
	"2026-02-24 10:15:02.x",
	"2026-02-24 10:15:02,",
	"2026-02-24 10:15:02 PM",
	"2026-02-24 10:15:02x",
	"2026-02-24 10:15:02",
	"2026-02-24 10:15:02:",
	"Feb 24 10:15:02 host app: x",
	"Feb 24 10:15:02 PM",
	"Feb 24 10:15:02 pm x",
	"Feb 24 10:15:02 AMx",
	"Feb 24 10:15:02 A",
	"Feb 24 10:15:02 Px",
	"Feb 24 10:15:02 am",
	"Feb 24 10:15:02 ax",
	"Feb 24 10:15:02",
	"24/Feb/2026:10:15:02 +0000] x",
	"24/Feb/2026:10:15:02 +0100",
	"24/Feb/2026:10:15:02 +01000",
};

struct history_input {
	const char *s;
	struct timefmt_opts o;
	enum timefmt_kind k;
	int64_t ms;
	size_t used;
};

static void test_history(void)
{
	static const int years[] = { 0, 2025, 2026 };
	static const char *const zones[] = { NULL, M };
	size_t ns = ARRAY_SIZE(history_stamps) * ARRAY_SIZE(years) *
		    ARRAY_SIZE(zones);
	size_t n = ARRAY_SIZE(parse_cases) + ns, i, j, bad = 0;
	struct history_input *in = calloc(n, sizeof(*in));

	if (in == NULL) {
		perror("calloc");
		exit(1);
	}
	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		in[i].s = parse_cases[i].in;
		in[i].o.default_year = parse_cases[i].year;
		in[i].o.tz = parse_cases[i].tz;
	}
	for (j = 0; j < ns; j++, i++) {
		in[i].s = history_stamps[j % ARRAY_SIZE(history_stamps)];
		in[i].o.default_year = years[j / ARRAY_SIZE(history_stamps) %
					     ARRAY_SIZE(years)];
		in[i].o.tz = zones[j / ARRAY_SIZE(history_stamps) /
				   ARRAY_SIZE(years)];
	}
	for (i = 0; i < n; i++) {
		timefmt_reset();
		in[i].k = parse_exact(in[i].s, strlen(in[i].s), &in[i].o,
				      &in[i].ms, &in[i].used);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			int64_t ms = INT64_MIN;
			size_t used = 9999;
			enum timefmt_kind k;

			timefmt_reset();
			parse_exact(in[i].s, strlen(in[i].s), &in[i].o, &ms,
				    &used);
			k = parse_exact(in[j].s, strlen(in[j].s), &in[j].o,
					&ms, &used);
			if (k != in[j].k || (k != NONE && (ms != in[j].ms ||
							   used != in[j].used))) {
				if (bad++ < 5)
					printf("#   '%s' after '%s': kind %d ms "
					       "%" PRId64 " used %zu, alone "
					       "kind %d ms %" PRId64
					       " used %zu\n", in[j].s,
					       in[i].s, (int)k, ms, used,
					       (int)in[j].k, in[j].ms,
					       in[j].used);
			}
		}
	}
	CHECK(bad == 0, "%zu stamps, each read after each: as read alone", n);
	/* the cases above do parse, with and without what follows */
	CHECK(in[ARRAY_SIZE(parse_cases) + 2].k == ISO &&
	      in[ARRAY_SIZE(parse_cases) + 2].used == 29 &&
	      in[ARRAY_SIZE(parse_cases)].used == 23 &&
	      in[ARRAY_SIZE(parse_cases) + 2].ms ==
	      in[ARRAY_SIZE(parse_cases)].ms - 3600000,
	      "a spaced offset after a cached stamp is read");
	free(in);
	timefmt_reset();
}

static void test_misc(void)
{
	int64_t ms = 0;
	size_t used = 0;

	CHECK_STR(timefmt_kind_name(ISO), "iso8601", "kind name iso8601");
	CHECK_STR(timefmt_kind_name(CLF), "clf", "kind name clf");
	CHECK_STR(timefmt_kind_name(SYS), "syslog", "kind name syslog");
	CHECK_STR(timefmt_kind_name(NONE), "none", "kind name none");
	CHECK(timefmt_parse("2026-02-24T10:15:02", 19, NULL, &ms, &used) ==
	      ISO && ms == 1771928102000 && used == 19,
	      "NULL opts: UTC");
	CHECK(timefmt_parse("Feb 24 10:15:02", 15, NULL, &ms, &used) == NONE,
	      "NULL opts: no default year");
	CHECK(timefmt_parse(NULL, 0, NULL, &ms, &used) == NONE,
	      "NULL with length 0");
	/* a cached prefix longer than the input must not be compared */
	timefmt_reset();
	timefmt_parse("2026-02-24T10:15:02Z", 20, NULL, &ms, &used);
	CHECK(parse_exact("2026-02-24T10:1", 15, NULL, &ms, &used) == NONE,
	      "input shorter than the cached prefix");
	timefmt_reset();
}

int main(void)
{
	test_parse_table();
	test_truncation_exact();
	test_truncation_props();
	test_random_bytes();
	test_calendar_walk();
	test_sequences();
	test_epoch();
	test_format();
	test_round_trip();
	test_parse_user();
	test_duration();
	test_tz_env();
	test_history();
	test_misc();
	return unit_done();
}

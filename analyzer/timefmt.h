/*
 * timefmt.h - timestamp formats for stage 3 (parse): recognise the stamp at
 * the start of a record, turn it into Unix epoch milliseconds (UTC), and
 * format epoch milliseconds back for reports.
 *
 * The module is pure: it reads only the bytes it is given, allocates
 * nothing, does no file I/O of its own and never prints.  Two exceptions,
 * both documented below: a small static cache (timefmt_parse is called
 * once per log record, so it remembers the last date+hh:mm it parsed), and
 * the TZ environment variable, which is set while converting stamps that
 * carry no offset in a named zone (the C library reads the zone database
 * then).  Because of both, the module is NOT thread-safe: logtriage parses
 * on one thread.
 *
 * All times are proleptic Gregorian, int64 milliseconds since
 * 1970-01-01T00:00:00Z; leap seconds do not exist on this scale (see
 * "Leap seconds" below).  Years 0000..9999 are accepted by the parsers, so
 * stamps before 1970 give negative values and 2038 is not special.
 *
 * Conventions: functions returning int give 0 on success and -1 on
 * failure; on failure their OUT parameters are left untouched.  Strings
 * passed as (pointer, length) need not be NUL-terminated and are never
 * read past the length; plain `const char *` strings are NUL-terminated.
 * No returned pointer needs freeing.
 */
#ifndef LOGTRIAGE_TIMEFMT_H
#define LOGTRIAGE_TIMEFMT_H

#include "common.h"

/* Room for any output of timefmt_format and timefmt_format_iso, with NUL. */
#define TIMEFMT_BUF_SIZE 32

/* Milliseconds in common units, for callers doing window arithmetic. */
#define TIMEFMT_MS_SECOND INT64_C(1000)
#define TIMEFMT_MS_MINUTE INT64_C(60000)
#define TIMEFMT_MS_HOUR   INT64_C(3600000)
#define TIMEFMT_MS_DAY    INT64_C(86400000)

/*
 * Which preset recognised a stamp (the presets table in timefmt.c has one
 * row per value, with the exact shapes it accepts):
 *
 *   TIMEFMT_NONE     no supported timestamp starts at s[0]; always 0, so
 *                    the return value can be used as a truth value
 *   TIMEFMT_ISO8601  ISO 8601 / RFC 3339 extended form, 'T', 't' or space
 *                    between date and time: "2026-02-24T10:15:02.123Z",
 *                    "2026-02-24 10:15:02,123" (Python logging),
 *                    "2026-02-24 10:15:02 +0000" (gunicorn, after '['),
 *                    "2026-02-24 10:15:02.123 UTC" (PostgreSQL),
 *                    "2026-02-24T10:15:02+0000" (journalctl short-iso)
 *   TIMEFMT_CLF      Apache/nginx common log format, after the '[':
 *                    "24/Feb/2026:10:15:02 +0000"
 *   TIMEFMT_SYSLOG   BSD syslog / journalctl short, no year:
 *                    "Feb 24 10:15:02", "Feb  4 10:15:02", and the
 *                    12-hour variant "Feb 24 10:15:02 PM"
 *   TIMEFMT_DMY      day, month name, year, no zone: Redis's server log
 *                    "24 Feb 2026 10:15:02.123" (strftime "%d %b %Y
 *                    %H:%M:%S." and the milliseconds)
 */
enum timefmt_kind {
	TIMEFMT_NONE = 0,
	TIMEFMT_ISO8601,
	TIMEFMT_CLF,
	TIMEFMT_SYSLOG,
	TIMEFMT_DMY,
};

/*
 * Context for stamps that do not say everything themselves.  A NULL
 * `const struct timefmt_opts *` anywhere below means { 0, NULL }.
 */
struct timefmt_opts {
	/*
	 * Year for stamps without one (syslog "Feb 24 10:15:02"); 0 when no
	 * year is known, and then such stamps are not parsed at all.  Year
	 * roll-over (December records read in January) is the caller's
	 * business: this year is used as given.
	 */
	int default_year;
	/*
	 * IANA zone name (e.g. "Europe/Madrid") in which stamps without an
	 * offset are read; NULL, "", "UTC", "Etc/UTC" or "GMT" mean UTC, which
	 * needs no zone database and never touches TZ.  Borrowed: read during
	 * the call only.  Names of TIMEFMT_TZ_NAME_MAX bytes or more are
	 * rejected (the stamp does not parse).
	 */
	const char *tz;
};

#define TIMEFMT_TZ_NAME_MAX 64

/*
 * Parse a timestamp starting exactly at s[0] (len bytes available; s need
 * not be NUL-terminated and is never read at or past s[len]).
 *
 * On success store Unix epoch milliseconds UTC in *ms and the number of
 * bytes consumed (the stamp, its fraction and its zone, if any) in *used,
 * and return the kind.  Return TIMEFMT_NONE when s does not start with a
 * supported timestamp; *ms and *used are then untouched.  Text after the
 * stamp is the caller's: "2026-02-24T10:15:02Z INFO" consumes 20 bytes.
 *
 * Rules shared by every preset:
 *  - Seconds are required ("2026-02-24T10:15Z" is TIMEFMT_NONE); a
 *    fraction of 1 to 9 digits may follow after '.' or ',' and is
 *    truncated, never rounded, to milliseconds.  A tenth fraction digit
 *    makes the stamp TIMEFMT_NONE.  A '.' or ',' not followed by a digit
 *    is not part of the stamp.
 *  - Ranges are checked: month 1-12, day within its month (leap years
 *    Gregorian: 2024-02-29 yes, 1900-02-29 no, 2000-02-29 yes), hour 0-23,
 *    minute 0-59, second 0-60, offset at most 18:00.
 *  - Leap seconds: second 60 is accepted and read as hh:mm:59.999 (any
 *    fraction ignored), so it sorts after :59 and before the next minute,
 *    and never maps onto the following second.
 *  - Zones (ISO 8601 preset): 'Z' or 'z'; +hh:mm, +hhmm or +hh (and '-')
 *    attached to the time, or after one space with nothing alphanumeric
 *    after it (" +0000]", PostgreSQL's " -03"); the words " UTC" and
 *    " GMT".  An attached sign and digit that do not make a valid offset
 *    ("+1", "+01:6", "+1900") make the stamp TIMEFMT_NONE; a spaced one
 *    that is not offset-shaped (" -1 retries") is simply not consumed.
 *    Any other word (" CET") is not consumed, and the stamp is read in
 *    o->tz.  CLF takes only the spaced offset; syslog takes no zone.
 *  - 12-hour clock (syslog preset only): " AM" / " PM" (any case, with
 *    nothing alphanumeric after it) is taken only after an hour of 1-12;
 *    12 AM is 00, 12 PM is 12.  After other hours the word is left alone
 *    and the stamp is a 24-hour one (a host might be called "pm").
 *
 * Stamps without an offset are read in o->tz.  Local times that occur
 * twice (the hour after a DST end, e.g. 2026-10-25 02:30 in Europe/Madrid)
 * take the EARLIER instant, i.e. the offset in force before the change
 * (02:30 CEST = 00:30Z).  Local times that do not exist (the gap at a DST
 * start, e.g. 2026-03-29 02:30 in Europe/Madrid) are also read with the
 * offset in force before the gap, which moves them forward by the gap's
 * length (02:30 CET = 01:30Z, shown as 03:30 CEST).  These are the rules
 * of RFC 5545, Python's fold=0 and java.time; glibc's mktime with
 * tm_isdst = -1 is not used because it may pick the later instant.  An
 * unknown zone name reads as UTC (the C library does that silently), so
 * callers should check --tz themselves.  Zone offsets come from
 * localtime_r(3) and are cached per local hour; the cache assumes a zone
 * changes offset at most once in any 39 hours, which holds for the whole
 * tz database in practice.
 *
 * Caches (static, single-threaded): the last date+hh:mm prefix and its
 * epoch base (with the default_year it was read with, for syslog), so a
 * run of records from the same minute parses only seconds, fraction and
 * zone; and, for named zones, the offsets of the last local hour.  Both
 * are keyed on everything they depend on, so results never depend on
 * earlier calls.  Calling with a named zone sets TZ (and calls tzset) the
 * first time and whenever the zone changes; any call whose o->tz means
 * UTC first puts TZ back as it was, so TZ is never left changed across a
 * UTC call.  The caller must not change TZ itself while timefmt has it set.
 */
enum timefmt_kind timefmt_parse(const char *s,	/* stamp at s[0] */
				size_t len,	/* bytes readable at s */
				const struct timefmt_opts *o,	/* or NULL */
				int64_t *ms,	/* OUT: epoch ms UTC */
				size_t *used);	/* OUT: bytes consumed */

/*
 * Short lowercase name of a kind ("iso8601", "clf", "syslog", "dmy",
 * "none").
 */
const char *timefmt_kind_name(enum timefmt_kind kind);

/*
 * An epoch number from JSON, unit chosen by magnitude |v|:
 *
 *   |v| < 1e11   seconds       (up to year 5138; 1e11 ms would be 1973)
 *   |v| < 1e14   milliseconds  (1973 .. 5138)
 *   |v| < 1e17   microseconds  (1973 .. 5138)
 *   |v| < 1e20   nanoseconds   (1973 .. 5138)
 *   otherwise, NaN or infinite: -1
 *
 * Fractions are allowed in every unit (1771928102.5 s) and the result is
 * rounded down (toward the past) to a millisecond, except that a value
 * within 0.5 microsecond below a millisecond boundary is taken as that
 * boundary, to undo binary floating point (1771928102.123 is stored as
 * 1771928102.12299990...; it gives ...123, not ...122).  For exact results
 * from the text of the number use timefmt_from_epoch_text.  Return 0, or
 * -1 (out of range) leaving *ms untouched.
 */
int timefmt_from_epoch(double v, int64_t *ms);

/*
 * The same from the text of a JSON number (s, len: the number only, no
 * quotes or spaces): optional '-', digits, optional '.' and digits,
 * optional exponent ("1.771928102e9").  Exact: the unit is chosen by the
 * same cut-offs from the count of integer digits, and digits beyond a
 * millisecond are dropped (toward the past for negative values), so the
 * 19-digit nanosecond value 1771928102999999999 gives 1771928102999.
 * Return 0, or -1 (not a number, or |v| >= 1e20) leaving *ms untouched.
 */
int timefmt_from_epoch_text(const char *s, size_t len, int64_t *ms);

/*
 * Format ms (UTC) as "2026-02-24 10:15:02" (timefmt_format: seconds,
 * fraction dropped toward the past) or "2026-02-24T10:15:02.123Z"
 * (timefmt_format_iso).  Years outside 0000..9999 print as many digits as
 * needed, with '-' before year 0.  out gets at most size - 1 bytes and a
 * NUL (nothing when size is 0; TIMEFMT_BUF_SIZE is always enough).
 * Return the length of the full text, like snprintf, so a return >= size
 * means it was truncated.
 */
size_t timefmt_format(int64_t ms, char *out, size_t size);
size_t timefmt_format_iso(int64_t ms, char *out, size_t size);

/*
 * Parse a user-given time for --since/--until (s NUL-terminated, the whole
 * string must match):
 *   "2026-02-24"              midnight starting that day
 *   "2026-02-24T10:00"        'T' or space; seconds optional here
 *   "2026-02-24 10:00:00"     with optional fraction and zone, as in
 *   "2026-02-24T10:00:00.5Z"  timefmt_parse (its ISO 8601 preset)
 *   "24h" "7d" "90m" "30s"    that long before now_ms (any duration of
 *                             timefmt_parse_duration that has a unit)
 *   "now"                     now_ms
 *   "@1771928102"             an epoch number, as timefmt_from_epoch_text
 * Times without an offset are read in o->tz with the DST rules of
 * timefmt_parse.  A bare number ("2026", "90") is rejected: it could be a
 * year as well as a duration.  Return 0, or -1 leaving *ms untouched.
 */
int timefmt_parse_user(const char *s, int64_t now_ms,
		       const struct timefmt_opts *o, /* or NULL */
		       int64_t *ms);		     /* OUT: epoch ms UTC */

/*
 * Parse a duration into milliseconds (s NUL-terminated): a bare number of
 * seconds ("90"), or one or more number+unit pairs with no spaces, units
 * "ms", "s", "m", "h", "d", "w" ("15m", "10s", "2h", "7d", "1h30m").
 * No sign, no fraction.  Return 0, or -1 (syntax, or overflow of int64
 * milliseconds) leaving *ms untouched.
 */
int timefmt_parse_duration(const char *s, int64_t *ms);

/*
 * Forget both caches and, if timefmt set TZ, put it back as it was (unset
 * again when it was unset).  Never needed for correctness; for tests, and
 * for callers that want TZ back before using localtime themselves.
 */
void timefmt_reset(void);

#endif

/*
 * timefmt.c - timestamp presets for stage 3 (parse): recognise the stamp
 * at the start of a record and turn it into epoch milliseconds UTC; also
 * epoch numbers, --since/--until times, durations and the formatters.
 *
 * Every preset is split in two: a prefix parser (date and hh:mm, the part
 * that repeats from record to record and is cached) and a shared tail
 * parser (seconds, fraction, AM/PM, zone) driven by per-preset flags.
 */
#include "common.h"
#include "timefmt.h"

#include <time.h>

/* Reach of a zone offset: no offset in the tz database exceeds this. */
#define ZONE_REACH_S (19 * 3600)

/* Longest prefix a preset may cache ("24/Feb/2026:10:15" is 17). */
#define PREFIX_MAX 20

/* Significant digits kept by timefmt_from_epoch_text (14 are ever used). */
#define EPOCH_DIGITS_MAX 24

/* Half a microsecond, in ms: how far below a ms boundary still snaps to it. */
#define EPOCH_SNAP_MS 0.0005

/* ---- calendar arithmetic (proleptic Gregorian) ---- */

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && is_leap(y))
		return 29;
	return dim[m - 1];
}

/*
 * Days from 1970-01-01 to y-m-d (m 1-12, d valid); negative before 1970.
 * Howard Hinnant's days_from_civil: no tables, no loops, no libc.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe;
	int64_t doy;
	int64_t doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil, for any int64 day count we produce. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era;
	int64_t doe;
	int64_t yoe;
	int64_t doy;
	int64_t mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* a / b rounded toward negative infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b < 0)
		q--;
	return q;
}

/*
 * Validate a civil date and hh:mm and store it in *out as epoch ms read
 * as UTC.  Return false when any field is out of range.
 */
static bool civil_ms(int y, int m, int d, int hh, int mi, int64_t *out)
{
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	if (hh > 23 || mi > 59)
		return false;
	*out = days_from_civil(y, m, d) * TIMEFMT_MS_DAY +
	       hh * TIMEFMT_MS_HOUR + mi * TIMEFMT_MS_MINUTE;
	return true;
}

/* ---- bytes ---- */

static bool is_digit(char c)
{
	return (unsigned)(c - '0') < 10u;
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* True when s[p] ends a token: end of input or not a letter or digit. */
static bool at_boundary(const char *s, size_t len, size_t p)
{
	char c;

	if (p >= len)
		return true;
	c = to_lower(s[p]);
	return !is_digit(c) && !(c >= 'a' && c <= 'z');
}

/* Read exactly n decimal digits at s into *v; false if one is not a digit. */
static bool read_digits(const char *s, int n, int *v)
{
	int x = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* Month 1-12 from a three-letter English name in any case; 0 if none. */
static int month_from_name(const char *s)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char a = to_lower(s[0]);
	char b = to_lower(s[1]);
	char c = to_lower(s[2]);
	int i;

	for (i = 0; i < 12; i++) {
		if (names[3 * i] == a && names[3 * i + 1] == b &&
		    names[3 * i + 2] == c)
			return i + 1;
	}
	return 0;
}

/* ---- one stamp on its way through the parsers ---- */

struct stamp {
	int64_t base;	/* date + hh:mm as epoch ms, read as UTC */
	int hour;	/* hh as written, for the 12-hour clock */
	int64_t local;	/* the whole stamp as epoch ms, read as UTC */
	int32_t off;	/* seconds east of UTC, when has_off */
	bool has_off;	/* the stamp named its offset */
};

/* "YYYY-MM-DD" at s (10 bytes readable); fields unchecked but digits. */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
	return s[4] == '-' && s[7] == '-' && read_digits(s, 4, y) &&
	       read_digits(s + 5, 2, m) && read_digits(s + 8, 2, d);
}

/*
 * The prefix parsers: read a preset's date and hh:mm at s[0], fill
 * st->base and st->hour, and return the bytes read (all of which the
 * result depends on, so an equal prefix gives an equal result), or 0.
 */
typedef size_t (*preset_prefix_fn)(const char *s, size_t len,
				   int default_year, struct stamp *st);

/* "2026-02-24T10:15", 'T', 't' or ' ' in the middle. */
static size_t prefix_iso(const char *s, size_t len, int default_year,
			 struct stamp *st)
{
	int y;
	int m;
	int d;
	int hh;
	int mi;

	(void)default_year;
	if (len < 16 || !parse_date(s, &y, &m, &d))
		return 0;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return 0;
	if (!read_digits(s + 11, 2, &hh) || s[13] != ':' ||
	    !read_digits(s + 14, 2, &mi))
		return 0;
	if (!civil_ms(y, m, d, hh, mi, &st->base))
		return 0;
	st->hour = hh;
	return 16;
}

/*
 * Day, month name, year and hh:mm in fixed columns, the date's parts
 * joined by sep and the time after tsep: "24/Feb/2026:10:15" (CLF),
 * "24 Feb 2026 10:15" (Redis). The day has two digits, as strftime's %d
 * writes it.
 */
static size_t prefix_day_first(const char *s, size_t len, char sep,
			       char tsep, struct stamp *st)
{
	int y;
	int m;
	int d;
	int hh;
	int mi;

	if (len < 17 || s[2] != sep || s[6] != sep || s[11] != tsep ||
	    s[14] != ':')
		return 0;
	m = month_from_name(s + 3);
	if (m == 0 || !read_digits(s, 2, &d) || !read_digits(s + 7, 4, &y) ||
	    !read_digits(s + 12, 2, &hh) || !read_digits(s + 15, 2, &mi))
		return 0;
	if (!civil_ms(y, m, d, hh, mi, &st->base))
		return 0;
	st->hour = hh;
	return 17;
}

static size_t prefix_clf(const char *s, size_t len, int default_year,
			 struct stamp *st)
{
	(void)default_year;
	return prefix_day_first(s, len, '/', ':', st);
}

static size_t prefix_dmy(const char *s, size_t len, int default_year,
			 struct stamp *st)
{
	(void)default_year;
	return prefix_day_first(s, len, ' ', ' ', st);
}

/* "Feb 24 10:15", "Feb  4 10:15", "Feb 4 10:15", hour "9:15" too. */
static size_t prefix_syslog(const char *s, size_t len, int default_year,
			    struct stamp *st)
{
	size_t p;
	int m;
	int d;
	int hh;
	int mi;

	/* the shortest prefix is "Feb 4 9:15", 10 bytes */
	if (default_year == 0 || len < 10 || s[3] != ' ')
		return 0;
	m = month_from_name(s);
	if (m == 0)
		return 0;
	if (s[4] == ' ' && is_digit(s[5])) {
		d = s[5] - '0';
		p = 6;
	} else if (is_digit(s[4]) && is_digit(s[5])) {
		d = (s[4] - '0') * 10 + (s[5] - '0');
		p = 6;
	} else if (is_digit(s[4])) {
		d = s[4] - '0';
		p = 5;
	} else {
		return 0;
	}
	if (s[p] != ' ' || !is_digit(s[p + 1]))
		return 0;
	hh = s[p + 1] - '0';
	p += 2;
	if (is_digit(s[p])) {
		hh = hh * 10 + (s[p] - '0');
		p++;
	}
	if (p + 3 > len || s[p] != ':' || !read_digits(s + p + 1, 2, &mi))
		return 0;
	if (!civil_ms(default_year, m, d, hh, mi, &st->base))
		return 0;
	st->hour = hh;
	return p + 3;
}

/*
 * What may follow a preset's hh:mm (the tail); seconds always may, and
 * must unless TAIL_OPT_SECONDS:
 *
 *   TAIL_ZULU          'Z' or 'z' right after the time: UTC
 *   TAIL_OFF_ATTACHED  +hh:mm, +hhmm, +hh (or '-') right after the time
 *   TAIL_OFF_SPACED    the same after one space, then a token boundary
 *   TAIL_ZONE_WORDS    " UTC" or " GMT", then a token boundary
 *   TAIL_AMPM          " AM" / " PM" in any case, after an hour of 1-12
 *   TAIL_OPT_SECONDS   ":ss" may be missing (user input, never logs)
 */
enum tail_flags {
	TAIL_ZULU = 1 << 0,
	TAIL_OFF_ATTACHED = 1 << 1,
	TAIL_OFF_SPACED = 1 << 2,
	TAIL_ZONE_WORDS = 1 << 3,
	TAIL_AMPM = 1 << 4,
	TAIL_OPT_SECONDS = 1 << 5,
};

#define TAIL_ISO (TAIL_ZULU | TAIL_OFF_ATTACHED | TAIL_OFF_SPACED | \
		  TAIL_ZONE_WORDS)

/* Results of parse_offset. */
enum offset_result {
	OFFSET_OK = 0,
	OFFSET_RANGE = -1,	/* offset-shaped, but beyond 18:00 or mm > 59 */
	OFFSET_SHAPE = -2,	/* not +hh, +hhmm or +hh:mm */
};

/*
 * Read a UTC offset whose sign is s[p]; store seconds east of UTC in *off
 * and the index after it in *end.  A digit right after the offset makes it
 * OFFSET_SHAPE ("+01001").
 */
static enum offset_result parse_offset(const char *s, size_t len, size_t p,
				       int32_t *off, size_t *end)
{
	int hh;
	int mi = 0;
	size_t q = p + 3;

	if (q > len || !read_digits(s + p + 1, 2, &hh))
		return OFFSET_SHAPE;
	if (q < len && s[q] == ':') {
		if (q + 3 > len || !read_digits(s + q + 1, 2, &mi))
			return OFFSET_SHAPE;
		q += 3;
	} else if (q < len && is_digit(s[q])) {
		if (q + 2 > len || !read_digits(s + q, 2, &mi))
			return OFFSET_SHAPE;
		q += 2;
	}
	if (q < len && is_digit(s[q]))
		return OFFSET_SHAPE;
	if (mi > 59 || hh * 60 + mi > 18 * 60)
		return OFFSET_RANGE;
	*off = (hh * 3600 + mi * 60) * (s[p] == '-' ? -1 : 1);
	*end = q;
	return OFFSET_OK;
}

/*
 * Read the zone after the time at s[p] as allowed by flags; fill
 * st->has_off/off.  Return the index after it (p when there is none), or
 * 0 when the zone is malformed and the whole stamp must be rejected.
 */
static size_t parse_zone(const char *s, size_t len, size_t p, unsigned flags,
			 struct stamp *st)
{
	char c;
	size_t q;
	int32_t off;
	enum offset_result r;

	if (p >= len)
		return p;
	c = s[p];
	if ((flags & TAIL_ZULU) && (c == 'Z' || c == 'z')) {
		st->has_off = true;
		return p + 1;
	}
	if ((flags & TAIL_OFF_ATTACHED) && (c == '+' || c == '-') &&
	    p + 1 < len && is_digit(s[p + 1])) {
		if (parse_offset(s, len, p, &off, &q) != OFFSET_OK)
			return 0;
		st->has_off = true;
		st->off = off;
		return q;
	}
	if (c != ' ' || p + 2 >= len)
		return p;
	c = s[p + 1];
	if ((flags & TAIL_OFF_SPACED) && (c == '+' || c == '-') &&
	    is_digit(s[p + 2])) {
		r = parse_offset(s, len, p + 1, &off, &q);
		if (r == OFFSET_RANGE)
			return 0;
		if (r == OFFSET_OK && at_boundary(s, len, q)) {
			st->has_off = true;
			st->off = off;
			return q;
		}
		return p;
	}
	if ((flags & TAIL_ZONE_WORDS) && p + 4 <= len &&
	    (memcmp(s + p + 1, "UTC", 3) == 0 ||
	     memcmp(s + p + 1, "GMT", 3) == 0) && at_boundary(s, len, p + 4)) {
		st->has_off = true;
		return p + 4;
	}
	return p;
}

/*
 * Read the digits of a fraction starting at s[p], a digit: store its
 * milliseconds (truncated) in *frac and return the index after it, or 0
 * when there are more than 9 digits.
 */
static size_t parse_fraction(const char *s, size_t len, size_t p, int *frac)
{
	/* looking at 10 digits is enough to reject 10 or more */
	size_t end = len - p > 10 ? p + 10 : len;
	size_t q = p + 1;
	int f = (s[p] - '0') * 100;

	if (q < end && is_digit(s[q])) {
		f += (s[q++] - '0') * 10;
		if (q < end && is_digit(s[q]))
			f += s[q++] - '0';
	}
	while (q < end && is_digit(s[q]))
		q++;
	if (q - p > 9)
		return 0;
	*frac = f;
	return q;
}

/*
 * Read the tail at s[p] (":ss", fraction, AM/PM, zone, as flags allow)
 * and complete st->local from st->base.  Return the index after the
 * stamp, or 0 when it is not a valid stamp.
 */
static size_t parse_tail(const char *s, size_t len, size_t p, unsigned flags,
			 struct stamp *st)
{
	int sec = 0;
	int frac = 0;
	int64_t adj = 0;
	char c;

	st->has_off = false;
	st->off = 0;
	if (p + 3 <= len && s[p] == ':' && read_digits(s + p + 1, 2, &sec)) {
		if (sec > 60)
			return 0;
		p += 3;
		if (p + 1 < len && (s[p] == '.' || s[p] == ',') &&
		    is_digit(s[p + 1])) {
			p = parse_fraction(s, len, p + 1, &frac);
			if (p == 0)
				return 0;
		}
	} else if (!(flags & TAIL_OPT_SECONDS) || (p < len && s[p] == ':')) {
		return 0;
	}
	if ((flags & TAIL_AMPM) && st->hour >= 1 && st->hour <= 12 &&
	    p + 3 <= len && s[p] == ' ') {
		c = to_lower(s[p + 1]);
		if ((c == 'a' || c == 'p') && to_lower(s[p + 2]) == 'm' &&
		    at_boundary(s, len, p + 3)) {
			if (st->hour == 12)
				adj -= 12 * TIMEFMT_MS_HOUR;
			if (c == 'p')
				adj += 12 * TIMEFMT_MS_HOUR;
			p += 3;
		}
	}
	p = parse_zone(s, len, p, flags, st);
	if (p == 0)
		return 0;
	/* a leap second is the last millisecond of its minute */
	st->local = st->base + adj + (sec == 60 ? 59999 : sec * 1000 + frac);
	return p;
}

/* ---- named zones: TZ, localtime_r and a per-hour offset cache ---- */

/*
 * State of TZ and of the offsets of one local hour.  For local times L
 * in that hour the UTC time is L - before when L < bound, else L - after;
 * bound is INT64_MAX unless the zone changes offset near that hour.
 */
static struct {
	bool active;			/* TZ is set by us to name */
	bool had_tz;			/* TZ was set before we set it */
	char saved[256];		/* its value then, when had_tz */
	char name[TIMEFMT_TZ_NAME_MAX];	/* zone TZ is set to */
	bool hour_ok;			/* hour..bound below are valid */
	int64_t hour;			/* local hour number (local ms / 1 h) */
	int64_t before;			/* offset before a change, ms east */
	int64_t after;			/* offset after it, ms east */
	int64_t bound;			/* first local ms read with after */
} zone;

/* UTC, spelled in any of the ways that need no zone database. */
static bool is_utc_name(const char *tz)
{
	if (tz == NULL || tz[0] == '\0')
		return true;
	if (tz[0] != 'U' && tz[0] != 'E' && tz[0] != 'G')
		return false;
	return strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0 ||
	       strcmp(tz, "GMT") == 0;
}

/* Put TZ back as it was before zone_switch first changed it. */
static void zone_restore(void)
{
	if (!zone.active)
		return;
	if (zone.had_tz)
		setenv("TZ", zone.saved, 1);
	else
		unsetenv("TZ");
	tzset();
	zone.active = false;
	zone.hour_ok = false;
	zone.name[0] = '\0';
}

/* Make tz the zone of localtime_r, saving TZ the first time.  0 / -1. */
static int zone_switch(const char *tz)
{
	const char *cur;
	const char *nul = memchr(tz, '\0', sizeof(zone.name));
	size_t n;

	if (nul == NULL)
		return -1;
	if (!zone.active) {
		cur = getenv("TZ");
		zone.had_tz = cur != NULL;
		if (cur != NULL) {
			n = strlen(cur);
			if (n >= sizeof(zone.saved))
				return -1;
			memcpy(zone.saved, cur, n + 1);
		}
	}
	if (setenv("TZ", tz, 1) != 0)
		return -1;
	tzset();
	memcpy(zone.name, tz, (size_t)(nul - tz) + 1);
	zone.active = true;
	zone.hour_ok = false;
	return 0;
}

/* Seconds east of UTC at instant t in the current TZ.  0 / -1. */
static int zone_offset(int64_t t, int64_t *off)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || localtime_r(&tt, &tm) == NULL)
		return -1;
	*off = tm.tm_gmtoff;
	return 0;
}

/*
 * Fill the hour cache for local hour h.  Every UTC instant that local
 * hour can stand for lies within ZONE_REACH_S of it; if the offsets at
 * both ends of that window agree there is no change to consider,
 * otherwise find the change by bisection (about 17 localtime_r calls,
 * twice a year) and set bound so that gaps and overlaps follow the rule
 * in timefmt.h: the offset before the change applies until the local
 * time reaches the change plus the larger of the two offsets.
 */
static int zone_fill(int64_t h)
{
	int64_t lo = h * 3600 - ZONE_REACH_S;
	int64_t hi = h * 3600 + 3600 + ZONE_REACH_S;
	int64_t mid;
	int64_t before;
	int64_t after;
	int64_t om;

	if (zone_offset(lo, &before) != 0 || zone_offset(hi, &after) != 0)
		return -1;
	zone.bound = INT64_MAX;
	if (before != after) {
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (zone_offset(mid, &om) != 0)
				return -1;
			if (om == before)
				lo = mid;
			else
				hi = mid;
		}
		zone.bound = (hi + (before > after ? before : after)) * 1000;
	}
	zone.before = before * 1000;
	zone.after = after * 1000;
	zone.hour = h;
	zone.hour_ok = true;
	return 0;
}

/* Local time (epoch ms read as UTC) in zone tz to UTC.  0 / -1. */
static int zone_to_utc(int64_t local, const char *tz, int64_t *out)
{
	int64_t h = floor_div(local, TIMEFMT_MS_HOUR);

	if (!zone.active || strcmp(zone.name, tz) != 0) {
		if (zone_switch(tz) != 0)
			return -1;
	}
	if (!zone.hour_ok || zone.hour != h) {
		if (zone_fill(h) != 0)
			return -1;
	}
	*out = local - (local < zone.bound ? zone.before : zone.after);
	return 0;
}

/*
 * The UTC time of a parsed stamp: its own offset, else zone tz, where
 * NULL means UTC (callers map UTC names to NULL with is_utc_name).
 * 0 / -1.
 */
static int stamp_to_utc(const struct stamp *st, const char *tz, int64_t *out)
{
	if (st->has_off) {
		*out = st->local - (int64_t)st->off * 1000;
		return 0;
	}
	if (tz == NULL) {
		*out = st->local;
		return 0;
	}
	return zone_to_utc(st->local, tz, out);
}

/*
 * The zone for stamp_to_utc from opts: NULL for UTC.  Also the one place
 * where TZ is put back: any call whose zone is UTC restores it.
 */
static const char *opts_zone(const struct timefmt_opts *o)
{
	if (o->tz == NULL && !zone.active)
		return NULL;
	if (is_utc_name(o->tz)) {
		if (zone.active)
			zone_restore();
		return NULL;
	}
	return o->tz;
}

/* ---- the presets ---- */

struct preset {
	enum timefmt_kind kind;
	const char *name;		/* for timefmt_kind_name */
	preset_prefix_fn prefix;	/* date + hh:mm */
	unsigned tail;			/* enum tail_flags */
	bool needs_year;		/* prefix reads default_year */
};

/*
 * Tried in order; the first whose prefix matches decides (their first
 * bytes never overlap: four digits and '-', two digits and '/', a letter).
 */
static const struct preset presets[] = {
	/*
	 * ISO 8601 / RFC 3339: "2026-02-24T10:15:02Z", 't' or ' ' for 'T',
	 * fraction ".123" or ",123" (Python logging), zones Z z +01:00
	 * +0100 +01, spaced " +0000" (gunicorn) " -03" (PostgreSQL), words
	 * " UTC" " GMT" (PostgreSQL "2026-02-24 10:15:02.123 UTC");
	 * journalctl -o short-iso "2026-02-24T10:15:02+0000".
	 */
	{ TIMEFMT_ISO8601, "iso8601", prefix_iso, TAIL_ISO, false },
	/*
	 * Apache/nginx common and combined log %t / $time_local, without
	 * the '[': "24/Feb/2026:10:15:02 +0000".
	 */
	{ TIMEFMT_CLF, "clf", prefix_clf, TAIL_OFF_SPACED, false },
	/*
	 * BSD syslog (RFC 3164) / journalctl -o short, year from
	 * default_year: "Feb 24 10:15:02", "Feb  4 10:15:02"; US 12-hour
	 * "Feb 24 10:15:02 PM".  No zone.
	 */
	{ TIMEFMT_SYSLOG, "syslog", prefix_syslog, TAIL_AMPM, true },
	/*
	 * Redis's server log (serverLogRaw() in server.c), in the server's
	 * local time without a zone: "24 Feb 2026 10:15:02.123".
	 */
	{ TIMEFMT_DMY, "dmy", prefix_dmy, 0, false },
};

const char *timefmt_kind_name(enum timefmt_kind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(presets); i++) {
		if (presets[i].kind == kind)
			return presets[i].name;
	}
	return "none";
}

/*
 * The prefix cache: the bytes of the last two prefixes that parsed, with
 * what they parsed to (two: a JSON line's own time and the stamp of the
 * log line in its message alternate). A later stamp starting with the
 * same bytes (and, for a preset that reads it, the same default_year) has
 * the same prefix value.
 */
struct prefix_entry {
	char bytes[PREFIX_MAX];
	size_t len;			/* 0: empty */
	uint64_t word0;			/* bytes[0..7] as loaded by memcpy */
	uint64_t word1;			/* bytes[8..15], masked */
	uint64_t mask1;			/* the bytes of word1 in the prefix */
	const struct preset *preset;
	int year;			/* default_year, when needs_year */
	int64_t base;
	int hour;
};

static struct prefix_entry prefix_cache[2];
static unsigned prefix_victim;		/* the entry the next store takes */

/*
 * Remember prefix s[0..n) of preset ps and its value.  The prefix is also
 * kept as two 8-byte words and a mask for prefix_cached (every preset's
 * prefix is at least 10 bytes, so the first word is always whole).
 */
static void prefix_store(const char *s, size_t n, const struct preset *ps,
			 int year, const struct stamp *st)
{
	struct prefix_entry *e = &prefix_cache[prefix_victim];
	unsigned char m[8];
	size_t i;

	prefix_victim ^= 1;
	memcpy(e->bytes, s, n);
	memset(e->bytes + n, 0, sizeof(e->bytes) - n);
	for (i = 0; i < 8; i++)
		m[i] = 8 + i < n ? 0xff : 0;
	memcpy(&e->mask1, m, 8);
	memcpy(&e->word0, e->bytes, 8);
	memcpy(&e->word1, e->bytes + 8, 8);
	e->word1 &= e->mask1;
	e->len = n;
	e->preset = ps;
	e->year = year;
	e->base = st->base;
	e->hour = st->hour;
}

/*
 * The cached entry whose prefix s starts with and whose value holds for
 * default_year, or NULL. Compares two 8-byte words (plus byte 16 for
 * CLF) instead of calling memcmp; inputs under 16 bytes just miss.
 */
static const struct prefix_entry *prefix_cached(const char *s, size_t len,
						int year)
{
	uint64_t a, b;
	unsigned k;

	if (len < 16)
		return NULL;
	memcpy(&a, s, 8);
	memcpy(&b, s + 8, 8);
	for (k = 0; k < 2; k++) {
		const struct prefix_entry *e = &prefix_cache[k];

		if (e->len == 0 || len < e->len ||
		    ((a ^ e->word0) | ((b & e->mask1) ^ e->word1)) != 0)
			continue;
		if (e->len > 16 &&
		    memcmp(s + 16, e->bytes + 16, e->len - 16) != 0)
			continue;
		if (e->preset->needs_year && e->year != year)
			continue;
		prefix_victim = k ^ 1;
		return e;
	}
	return NULL;
}

/*
 * The last stamp read, whole: lines of one burst often share their
 * millisecond ("2026-02-24 10:15:02,123" on an access line, its timing
 * line and the queries between). The next input with the same bytes, as
 * far as reading the stamp looked (stamp_key_len), read in UTC with the
 * same default_year, has the same value. Named zones are not cached.
 */
#define STAMP_LOOKAHEAD 8
#define STAMP_KEY_MAX 64

static struct {
	char key[STAMP_KEY_MAX];
	size_t klen;			/* 0: empty */
	bool whole;			/* the input ended at klen */
	int year;
	enum timefmt_kind kind;
	int64_t ms;
	size_t used;
} last_stamp;

/*
 * How many bytes of s decided a stamp that ended at used. Past the end
 * parse_tail looks at most STAMP_LOOKAHEAD bytes on (" +01:00" that did
 * not follow and the byte after it); fewer after the usual ends: a byte
 * that starts no fraction, zone or AM/PM is the last one looked at; after
 * a space, so is the next byte when it starts none of " AM", " PM",
 * " +01", " UTC", " GMT".
 */
static size_t stamp_key_len(const char *s, size_t len, size_t used)
{
	size_t k = len - used > STAMP_LOOKAHEAD ? used + STAMP_LOOKAHEAD : len;

	if (used + 1 >= len)
		return k;
	switch (s[used]) {
	case ' ':
		switch (s[used + 1]) {
		case 'a': case 'A': case 'p': case 'P':
		case '+': case '-': case 'U': case 'G':
			return k;
		default:
			return used + 2;
		}
	case '.': case ',': case '+': case '-': case 'Z': case 'z':
		return k;
	default:
		return used + 1;
	}
}

static bool last_stamp_hit(const char *s, size_t len, int year)
{
	size_t k = last_stamp.klen, i;
	uint64_t a, b;

	if (k == 0 || (last_stamp.whole ? len != k : len < k) ||
	    last_stamp.year != year)
		return false;
	/* 8 bytes at a time, the last word overlapping the one before */
	if (k < 8)
		return memcmp(s, last_stamp.key, k) == 0;
	for (i = 0; i + 8 < k; i += 8) {
		memcpy(&a, s + i, 8);
		memcpy(&b, last_stamp.key + i, 8);
		if (a != b)
			return false;
	}
	memcpy(&a, s + k - 8, 8);
	memcpy(&b, last_stamp.key + k - 8, 8);
	return a == b;
}

static void last_stamp_store(const char *s, size_t len, int year,
			     enum timefmt_kind kind, int64_t ms, size_t used)
{
	size_t k = stamp_key_len(s, len, used);

	if (k > STAMP_KEY_MAX) {
		last_stamp.klen = 0;
		return;
	}
	memcpy(last_stamp.key, s, k);
	last_stamp.klen = k;
	last_stamp.whole = k == len;
	last_stamp.year = year;
	last_stamp.kind = kind;
	last_stamp.ms = ms;
	last_stamp.used = used;
}

static const struct timefmt_opts no_opts;

enum timefmt_kind timefmt_parse(const char *s, size_t len,
				const struct timefmt_opts *o, int64_t *ms,
				size_t *used)
{
	const struct preset *ps;
	const struct prefix_entry *pe;
	struct stamp st;
	size_t n = 0;
	int64_t t;
	const char *tz;

	if (o == NULL)
		o = &no_opts;
	tz = opts_zone(o);
	if (tz == NULL && last_stamp_hit(s, len, o->default_year)) {
		*ms = last_stamp.ms;
		*used = last_stamp.used;
		return last_stamp.kind;
	}
	if ((pe = prefix_cached(s, len, o->default_year)) != NULL) {
		ps = pe->preset;
		st.base = pe->base;
		st.hour = pe->hour;
		n = pe->len;
	} else {
		for (ps = presets; ps < presets + ARRAY_SIZE(presets); ps++) {
			n = ps->prefix(s, len, o->default_year, &st);
			if (n != 0)
				break;
		}
		if (n == 0 || n > PREFIX_MAX)
			return TIMEFMT_NONE;
		prefix_store(s, n, ps, o->default_year, &st);
	}
	n = parse_tail(s, len, n, ps->tail, &st);
	if (n == 0 || stamp_to_utc(&st, tz, &t) != 0)
		return TIMEFMT_NONE;
	if (tz == NULL)
		last_stamp_store(s, len, o->default_year, ps->kind, t, n);
	*ms = t;
	*used = n;
	return ps->kind;
}

void timefmt_reset(void)
{
	prefix_cache[0].len = prefix_cache[1].len = 0;
	last_stamp.klen = 0;
	zone_restore();
	zone.hour_ok = false;
}

/* ---- epoch numbers ---- */

int timefmt_from_epoch(double v, int64_t *ms)
{
	double a = v < 0 ? -v : v;
	double x;
	int64_t r;

	if (!(a < 1e20))	/* also NaN and infinities */
		return -1;
	if (a < 1e11)
		x = v * 1000.0;
	else if (a < 1e14)
		x = v;
	else if (a < 1e17)
		x = v / 1e3;
	else
		x = v / 1e6;
	/* |x| < 1e14: exact conversion, then floor and snap */
	r = (int64_t)x;
	if ((double)r > x)
		r--;
	if (x - (double)r > 1.0 - EPOCH_SNAP_MS)
		r++;
	*ms = r;
	return 0;
}

/* Append decimal digit c to the significant digits of a number. */
static void epoch_digit(char c, char *dig, size_t *nd, bool *dropped)
{
	if (*nd < EPOCH_DIGITS_MAX)
		dig[(*nd)++] = c;
	else if (c != '0')
		*dropped = true;
}

int timefmt_from_epoch_text(const char *s, size_t len, int64_t *ms)
{
	char dig[EPOCH_DIGITS_MAX];	/* significant digits */
	size_t nd = 0;			/* how many */
	bool dropped = false;		/* a nonzero digit beyond them */
	long dp = 0;			/* digits before the decimal point */
	bool neg = false;
	size_t i = 0;
	size_t start;
	long e = 0;
	bool eneg = false;
	long k;
	long j;
	int64_t mag = 0;
	bool rest;

	if (i < len && s[i] == '-') {
		neg = true;
		i++;
	}
	for (start = i; i < len && is_digit(s[i]); i++) {
		if (nd == 0 && s[i] == '0')
			continue;
		epoch_digit(s[i], dig, &nd, &dropped);
		dp++;
	}
	if (i == start)
		return -1;
	if (i < len && s[i] == '.') {
		for (start = ++i; i < len && is_digit(s[i]); i++) {
			if (nd == 0 && s[i] == '0')
				dp--;
			else
				epoch_digit(s[i], dig, &nd, &dropped);
		}
		if (i == start)
			return -1;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (start = i; i < len && is_digit(s[i]); i++) {
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		}
		if (i == start)
			return -1;
		dp += eneg ? -e : e;
	}
	if (i != len)
		return -1;
	if (nd == 0) {
		*ms = 0;
		return 0;
	}
	/* dp integer digits: the same cut-offs as timefmt_from_epoch */
	if (dp > 20)
		return -1;
	k = dp + (dp <= 11 ? 3 : dp <= 14 ? 0 : dp <= 17 ? -3 : -6);
	for (j = 0; j < k; j++)
		mag = mag * 10 + ((size_t)j < nd ? dig[j] - '0' : 0);
	rest = dropped;
	for (j = k > 0 ? k : 0; (size_t)j < nd; j++)
		rest = rest || dig[j] != '0';
	*ms = neg ? -mag - (rest ? 1 : 0) : mag;
	return 0;
}

/* ---- formatting ---- */

static char *put2(char *p, int64_t v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* The year with at least four digits, '-' before year 0. */
static char *put_year(char *p, int64_t y)
{
	char tmp[24];
	int n = 0;
	uint64_t u;

	if (y < 0) {
		*p++ = '-';
		u = (uint64_t)0 - (uint64_t)y;
	} else {
		u = (uint64_t)y;
	}
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 || n < 4);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Render ms into buf (TIMEFMT_BUF_SIZE bytes) and return the length. */
static size_t render(int64_t ms, char *buf, bool iso)
{
	int64_t days = floor_div(ms, TIMEFMT_MS_DAY);
	int64_t rem = ms % TIMEFMT_MS_DAY;
	int64_t y;
	int m;
	int d;
	char *p;

	if (rem < 0)
		rem += TIMEFMT_MS_DAY;
	civil_from_days(days, &y, &m, &d);
	p = put_year(buf, y);
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = iso ? 'T' : ' ';
	p = put2(p, rem / TIMEFMT_MS_HOUR);
	*p++ = ':';
	p = put2(p, rem / TIMEFMT_MS_MINUTE % 60);
	*p++ = ':';
	p = put2(p, rem / 1000 % 60);
	if (iso) {
		*p++ = '.';
		*p++ = (char)('0' + rem % 1000 / 100);
		p = put2(p, rem % 100);
		*p++ = 'Z';
	}
	*p = '\0';
	return (size_t)(p - buf);
}

/* Copy n rendered bytes to out, snprintf-style, and return n. */
static size_t copy_out(const char *buf, size_t n, char *out, size_t size)
{
	size_t k;

	if (size == 0)
		return n;
	k = n < size ? n : size - 1;
	memcpy(out, buf, k);
	out[k] = '\0';
	return n;
}

size_t timefmt_format(int64_t ms, char *out, size_t size)
{
	char buf[TIMEFMT_BUF_SIZE];

	return copy_out(buf, render(ms, buf, false), out, size);
}

size_t timefmt_format_iso(int64_t ms, char *out, size_t size)
{
	char buf[TIMEFMT_BUF_SIZE];

	return copy_out(buf, render(ms, buf, true), out, size);
}

/* ---- durations and user-given times ---- */

/*
 * A duration as timefmt_parse_duration documents it; a bare number of
 * seconds only when allow_bare.  0 / -1.
 */
static int parse_duration(const char *s, bool allow_bare, int64_t *ms)
{
	const char *p = s;
	int64_t total = 0;
	int64_t n;
	int64_t unit;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		if (!is_digit(*p))
			return -1;
		for (n = 0; is_digit(*p); p++) {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*p - '0');
		}
		switch (*p) {
		case '\0':
			/* a bare number is the whole string or nothing */
			if (!allow_bare ||
			    strspn(s, "0123456789") != (size_t)(p - s))
				return -1;
			unit = TIMEFMT_MS_SECOND;
			p--;	/* stay on the NUL after p++ below */
			break;
		case 'm':
			if (p[1] == 's') {
				p++;
				unit = 1;
			} else {
				unit = TIMEFMT_MS_MINUTE;
			}
			break;
		case 's':
			unit = TIMEFMT_MS_SECOND;
			break;
		case 'h':
			unit = TIMEFMT_MS_HOUR;
			break;
		case 'd':
			unit = TIMEFMT_MS_DAY;
			break;
		case 'w':
			unit = 7 * TIMEFMT_MS_DAY;
			break;
		default:
			return -1;
		}
		p++;
		if (n > (INT64_MAX - total) / unit)
			return -1;
		total += n * unit;
	}
	*ms = total;
	return 0;
}

int timefmt_parse_duration(const char *s, int64_t *ms)
{
	return parse_duration(s, true, ms);
}

/* An absolute user time, the whole of s (len bytes), in tz.  0 / -1. */
static int parse_user_abs(const char *s, size_t len, const char *tz,
			  int64_t *out)
{
	struct stamp st;
	size_t n;
	int y;
	int m;
	int d;

	if (len == 10) {
		if (!parse_date(s, &y, &m, &d) ||
		    !civil_ms(y, m, d, 0, 0, &st.local))
			return -1;
		st.has_off = false;
	} else {
		n = prefix_iso(s, len, 0, &st);
		if (n == 0)
			return -1;
		n = parse_tail(s, len, n, TAIL_ISO | TAIL_OPT_SECONDS, &st);
		if (n != len)
			return -1;
	}
	return stamp_to_utc(&st, tz, out);
}

int timefmt_parse_user(const char *s, int64_t now_ms,
		       const struct timefmt_opts *o, int64_t *ms)
{
	size_t len;
	int64_t t;
	const char *tz;

	if (s == NULL)
		return -1;
	if (o == NULL)
		o = &no_opts;
	tz = opts_zone(o);
	len = strlen(s);
	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return 0;
	}
	if (s[0] == '@')
		return timefmt_from_epoch_text(s + 1, len - 1, ms);
	if (parse_user_abs(s, len, tz, &t) == 0) {
		*ms = t;
		return 0;
	}
	if (parse_duration(s, false, &t) != 0 || now_ms < INT64_MIN + t)
		return -1;
	*ms = now_ms - t;
	return 0;
}

/*
 * Docker's ways of printing container times (duration.h). Durations follow
 * go-units' HumanDuration through human_duration().
 */
#include "util/duration.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/human.h"

#define NS_PER_S 1000000000LL

static int64_t seconds_between(int64_t from_ns, int64_t to_ns)
{
	return to_ns > from_ns ? (to_ns - from_ns) / NS_PER_S : 0;
}

void duration_ago(int64_t then_ns, int64_t now_ns, char *out, size_t len)
{
	char d[64];

	human_duration(seconds_between(then_ns, now_ns), d, sizeof(d));
	snprintf(out, len, "%s ago", d);
}

void duration_status(const struct ctr_state *st, int64_t now_ns, char *out, size_t len)
{
	char d[64];

	/* The order of docker's container.State.String(). */
	if (st->status == CTR_RESTARTING) {
		human_duration(seconds_between(st->finished_at, now_ns), d, sizeof(d));
		snprintf(out, len, "Restarting (%d) %s ago", st->exit_code, d);
	} else if (st->status == CTR_RUNNING) {
		human_duration(seconds_between(st->started_at, now_ns), d, sizeof(d));
		snprintf(out, len, "Up %s%s", d, st->paused ? " (Paused)" : "");
	} else if (st->status == CTR_CREATED || st->started_at == 0) {
		snprintf(out, len, "Created");
	} else if (st->finished_at == 0) {
		snprintf(out, len, "%s", "");
	} else {
		human_duration(seconds_between(st->finished_at, now_ns), d, sizeof(d));
		snprintf(out, len, "Exited (%d) %s ago", st->exit_code, d);
	}
}

void duration_rfc3339nano(int64_t ns, char *out, size_t len)
{
	time_t secs = (time_t)(ns / NS_PER_S);
	long frac = (long)(ns % NS_PER_S);
	char date[32], digits[16];
	struct tm tm;
	int n;

	if (ns <= 0 || !gmtime_r(&secs, &tm)) {
		snprintf(out, len, "0001-01-01T00:00:00Z");
		return;
	}
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (!frac) {
		snprintf(out, len, "%sZ", date);
		return;
	}
	n = snprintf(digits, sizeof(digits), "%09ld", frac);
	while (n > 0 && digits[n - 1] == '0')
		digits[--n] = '\0';
	snprintf(out, len, "%s.%sZ", date, digits);
}

void duration_go_time(int64_t ns, char *out, size_t len)
{
	time_t secs = (time_t)(ns / NS_PER_S);
	struct tm tm;

	if (!localtime_r(&secs, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm))
		snprintf(out, len, "%s", "");
}

/* Go's time.ParseDuration: [-+]?(number unit)+, units ns us µs ms s m h. */
static int parse_go_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 },     { "us", 1e3 },	{ "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
		      { "ms", 1e6 },   { "s", 1e9 },	{ "m", 60e9 },	      { "h", 3600e9 } };
	double total = 0, sign = 1;

	if (*s == '-' || *s == '+')
		sign = *s++ == '-' ? -1 : 1;
	if (!*s)
		return -1;
	while (*s) {
		size_t best = 0, blen = 0;
		char *end;
		double v;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		v = strtod(s, &end);
		if (end == s)
			return -1;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (!strncmp(end, units[i].unit, l) && l > blen)
				best = i, blen = l;
		}
		if (!blen)
			return -1;
		total += v * units[best].ns;
		s = end + blen;
	}
	*ns = (int64_t)(sign * total);
	return 0;
}

/* n digits of s as a number; -1 when they are not all digits. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "2006-01-02[T15[:04[:05[.999999999]]]][Z|±07:00]" */
static int parse_rfc3339_prefix(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	long frac = 0, zone = 0;
	bool has_zone = false;
	time_t t;

	if ((tm.tm_year = digits(s, 4)) < 0 || s[4] != '-' || (tm.tm_mon = digits(s + 5, 2)) < 1 ||
	    s[7] != '-' || (tm.tm_mday = digits(s + 8, 2)) < 1)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	s += 10;
	if (*s == 'T') {
		if ((tm.tm_hour = digits(s + 1, 2)) < 0)
			return -1;
		s += 3;
		if (*s == ':') {
			if ((tm.tm_min = digits(s + 1, 2)) < 0)
				return -1;
			s += 3;
			if (*s == ':') {
				if ((tm.tm_sec = digits(s + 1, 2)) < 0)
					return -1;
				s += 3;
				if (*s == '.') {
					long scale = 100000000;

					for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
						frac += scale ? (*s - '0') * scale : 0;
				}
			}
		}
	}
	if (*s == 'Z' || *s == 'z') {
		has_zone = true;
		s++;
	} else if (*s == '+' || *s == '-') {
		int h = digits(s + 1, 2), m = s[3] == ':' ? digits(s + 4, 2) : -1;

		if (h < 0 || m < 0)
			return -1;
		zone = (h * 3600L + m * 60L) * (*s == '-' ? -1 : 1);
		has_zone = true;
		s += 6;
	}
	if (*s)
		return -1;
	if (has_zone) {
		t = timegm(&tm);
		t -= zone;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t * NS_PER_S + frac;
	return 0;
}

int duration_parse_timestamp(const char *s, int64_t now_ns, int64_t *out_ns)
{
	int64_t d, secs = 0, frac = 0, scale = NS_PER_S / 10;
	const char *p = s;

	if (strcmp(s, "0") != 0 && parse_go_duration(s, &d) == 0) {
		*out_ns = now_ns - d;
		return 0;
	}
	if (strchr(s, '-'))
		return parse_rfc3339_prefix(s, out_ns);
	/* Unix seconds, with nanoseconds after a dot */
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (secs > (INT64_MAX / NS_PER_S) / 10)
			return -1;
		secs = secs * 10 + (*p - '0');
	}
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (*p)
		return -1;
	*out_ns = secs * NS_PER_S + frac;
	return 0;
}

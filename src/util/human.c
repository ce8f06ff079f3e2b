/* Human-readable sizes and durations (docker's go-units rules). */
#include "util/human.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* digits significant digits of a decimal unit (go-units); a value moves to
 * the next unit from next_at on. */
static void decimal_size(double bytes, int digits, double next_at, char *out, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = bytes < 0 ? 0 : bytes;
	size_t u = 0;

	while (v >= next_at && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000.0;
		u++;
	}
	snprintf(out, len, "%.*g%s", digits, v, units[u]);
}

void human_size(double bytes, char *out, size_t len)
{
	/* 999.5 would print as "1e+03" with %.3g: it belongs to the next unit. */
	decimal_size(bytes, 3, 999.5, out, len);
}

void human_size4(double bytes, char *out, size_t len)
{
	decimal_size(bytes, 4, 1000, out, len);
}

void human_size_binary(double bytes, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = bytes < 0 ? 0 : bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, len, "%.4g%s", v, units[u]);
}

void human_duration(int64_t s, char *out, size_t len)
{
	int64_t m = s / 60, h = m / 60, d = h / 24;

	if (s < 1)
		snprintf(out, len, "Less than a second");
	else if (s == 1)
		snprintf(out, len, "1 second");
	else if (s < 60)
		snprintf(out, len, "%lld seconds", (long long)s);
	else if (m == 1)
		snprintf(out, len, "About a minute");
	else if (m < 60)
		snprintf(out, len, "%lld minutes", (long long)m);
	else if (h == 1)
		snprintf(out, len, "About an hour");
	else if (h < 48)
		snprintf(out, len, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(out, len, "%lld days", (long long)d);
	else if (h < 24 * 30 * 2)
		snprintf(out, len, "%lld weeks", (long long)(d / 7));
	else if (h < 24 * 365 * 2)
		snprintf(out, len, "%lld months", (long long)(d / 30));
	else
		snprintf(out, len, "%lld years", (long long)(d / 365));
}

int human_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long offset = 0;

	if (!rest)
		return -1;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (*rest == '+' || *rest == '-') {
		int hh = 0, mm = 0;
		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		offset = (hh * 3600L + mm * 60L) * (*rest == '+' ? 1 : -1);
	} else if (*rest != 'Z' && *rest != 'z' && *rest != '\0') {
		return -1;
	}
	*out = timegm(&tm) - offset;
	return 0;
}

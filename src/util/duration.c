/*
 * Docker's ways of printing container times (duration.h). Durations follow
 * go-units' HumanDuration through human_duration().
 */
#include "util/duration.h"

#include <stdio.h>
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
		snprintf(out, len, "Up %s", d);
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

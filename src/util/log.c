/* Debug tracing and warnings on stderr. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* The one piece of process-wide state outside main.c: written once at start-up
 * by main() before any thread exists, read-only afterwards. */
static bool debug_on;

void log_set_debug(bool on)
{
	debug_on = on;
}

bool log_debug_enabled(void)
{
	return debug_on;
}

__attribute__((format(printf, 2, 0))) static void log_vprint(const char *kind, const char *fmt,
							       va_list ap)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "skiff: %s", kind);

	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	/* One fputs per line so that lines from threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;
	char kind[64];

	if (!debug_on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(kind, sizeof(kind), "debug [%ld.%06ld]: ", (long)ts.tv_sec, ts.tv_nsec / 1000);
	va_start(ap, fmt);
	log_vprint(kind, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint("warning: ", fmt, ap);
	va_end(ap);
}

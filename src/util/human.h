/* Human-readable sizes and durations, as docker prints them (go-units). */
#ifndef SKIFF_HUMAN_H
#define SKIFF_HUMAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Decimal units with 3 significant digits: "512B", "4.27MB", "138MB", "1.2GB".
 * A double so that rates (bytes per second) format the same way; negative is 0. */
void human_size(double bytes, char *out, size_t len);
/* The same with 4 significant digits: go-units HumanSize ("1.983MB"), what
 * docker prints as "Total reclaimed space" and as shared and unique sizes. */
void human_size4(double bytes, char *out, size_t len);
/* Binary units with 4 significant digits, as go-units BytesSize (docker
 * stats' memory, info's Total Memory): "740KiB", "64MiB", "23.54GiB". */
void human_size_binary(double bytes, char *out, size_t len);
/* "Less than a second", "About a minute", "5 minutes", "About an hour", "3 days",
 * "2 weeks", "4 months", "2 years" for a duration in seconds. */
void human_duration(int64_t seconds, char *out, size_t len);
/* Parse an RFC 3339 timestamp ("2024-01-02T03:04:05.123Z", offsets allowed).
 * Returns -1 when it cannot be parsed. */
int human_parse_rfc3339(const char *s, time_t *out);

#endif

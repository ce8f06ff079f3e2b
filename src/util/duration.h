/*
 * How docker shows times of containers: "5 seconds ago", the STATUS column
 * ("Up 3 seconds", "Exited (0) 2 minutes ago", "Created", "Restarting (1) 1
 * second ago") and Go's RFC3339Nano ("2024-01-02T03:04:05.123Z"). Pure
 * functions of their arguments (now is passed in) so they can be unit tested.
 */
#ifndef SKIFF_DURATION_H
#define SKIFF_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/state.h"

/* "5 seconds ago", "About a minute ago" (go-units HumanDuration + " ago"). */
void duration_ago(int64_t then_ns, int64_t now_ns, char *out, size_t len);
/* docker ps's STATUS for this state at time now. */
void duration_status(const struct ctr_state *st, int64_t now_ns, char *out, size_t len);
/* Go's time.RFC3339Nano in UTC, trailing zeros of the fraction dropped;
 * 0 is Go's zero time "0001-01-01T00:00:00Z" (what docker shows for "never"). */
void duration_rfc3339nano(int64_t ns, char *out, size_t len);
/* Go's time.Time.String() for a whole second in local time:
 * "2024-01-02 03:04:05 +0000 UTC" (docker ps's CreatedAt). */
void duration_go_time(int64_t ns, char *out, size_t len);

/* docker's --since/--until values (GetTimestamp): a Go duration before now
 * ("10m", "1h30m", "1.5s"), an RFC 3339 time or a prefix of one
 * ("2024-01-02", "2024-01-02T15:04", with "Z" or "+01:00", else local
 * time), or Unix seconds ("1700000000", "1700000000.5"; "0" is the epoch).
 * Returns -1 when s is none of them. */
int duration_parse_timestamp(const char *s, int64_t now_ns, int64_t *out_ns);

#endif

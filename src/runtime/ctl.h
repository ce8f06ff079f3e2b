/*
 * Acting on a running container from another skiff process: signal it, stop
 * it (signal, grace period, SIGKILL), wait for it to be recorded as exited.
 * Shared by stop, kill, rm -f and restart.
 *
 * Docker's rules: the container is marked stopped_by_user in state.json under
 * its lock first (so the monitor does not restart it), the signal goes through
 * a pidfd of the container's first process (never a bare pid, which may have
 * been reused), and the exit is recorded by the monitor, not here: callers wait
 * for ctr_state_load() to report CTR_EXITED.
 */
#ifndef SKIFF_RUNTIME_CTL_H
#define SKIFF_RUNTIME_CTL_H

#include <stdbool.h>

#include "image/store.h"
#include "runtime/state.h"
#include "util/err.h"

/* Default grace period of stop/restart/rm -f, as docker's. */
#define CTL_STOP_TIMEOUT_S 10

/* "TERM", "SIGTERM", "sigterm", "15", "RTMIN+3" -> signal number. Anything
 * else: "invalid signal: X". */
int ctl_signal_parse(const char *s, int *sig, struct sk_err *err);

/* Send sig to the container id's first process. With mark_stopped, set
 * stopped_by_user under the lock first. A container that is not running
 * (created, exited, restarting with no process, monitor dead, or the process
 * gone): -1 with errnum ESRCH and "container <id> is not running". */
int ctl_signal(struct store *s, const char *id, int sig, bool mark_stopped, struct sk_err *err);

/* docker stop: mark stopped_by_user, send sig (0 = the container's
 * config.stop_signal, SIGTERM when unset), wait up to timeout_s seconds for
 * the process to exit (timeout_s < 0 = forever), then SIGKILL, then wait
 * (bounded, 10 s) until the monitor has recorded the exit. A container that is
 * not running is success (nothing to do); a restarting one is only marked so
 * the monitor does not start it again. */
int ctl_stop(struct store *s, const char *id, int timeout_s, int sig, struct sk_err *err);

/* Wait until ctr_state_load() reports CTR_EXITED (or CTR_CREATED: never
 * started) and fill out (may be NULL). timeout_ms < 0 = forever. Timeout:
 * -1 with errnum ETIMEDOUT. */
int ctl_wait_exited(struct store *s, const char *id, int timeout_ms, struct ctr_state *out,
		    struct sk_err *err);

#endif

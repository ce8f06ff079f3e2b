/*
 * The monitor of a detached container (`run -d`, `start`): no daemon, one
 * small process per container that is the container's parent. It detaches
 * from the caller (new session, stdio on /dev/null, every other descriptor
 * closed so that no lock of the caller is kept alive), writes the container's
 * output to its json-file log and to the clients attached to it (attach.h),
 * records each exit in state.json, carries out the restart policy, and
 * removes the container at the end when asked (--rm).
 * It is the same code path as a foreground run (container_run); only the
 * output and the life cycle around it differ.
 */
#ifndef SKIFF_RUNTIME_MONITOR_H
#define SKIFF_RUNTIME_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "image/store.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "util/err.h"

struct monitor_opts {
	enum ctr_restart restart;
	unsigned restart_max; /* on-failure:N; 0 = unlimited */
	bool auto_remove;     /* --rm */
	bool log;	      /* false: --log-driver none */
	int64_t log_max_size; /* 0: no rotation */
	unsigned log_max_file;
	/* docker's StdinOnce (run -i, not run -di): an attached client's end of
	 * input closes the container's stdin. */
	bool stdin_once;
	/* run -it, start -a: attach_fd is the monitor's end of a socketpair whose
	 * other end the caller relays, attached before the container starts
	 * (so no output is missed); the terminal's size is the caller's. */
	bool attach_client;
	int attach_fd;
};

/* Fork the monitor and return once the container runs (0) or could not be
 * started (-1; err carries the container's message and 125/126/127, and the
 * container is recorded as exited, or removed with --rm). The container's
 * directory (c->dirfd) stays the caller's to close. */
int monitor_start(struct store *s, struct container *c, const struct rt_spec *spec,
		  const struct run_opts *opts, const struct monitor_opts *mo, struct sk_err *err);

/* Restart policy: should a container that exited with status after running
 * for ran_ns, restarted `count` times so far, be started again? */
bool monitor_should_restart(const struct monitor_opts *mo, const struct ctr_state *st);
/* Delay before restart number `count` (docker: 100 ms doubling, at most 1
 * min; reset after a run of 10 s or more). */
int64_t monitor_backoff_ms(unsigned count, int64_t ran_ns);

#endif

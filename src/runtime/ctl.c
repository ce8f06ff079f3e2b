/*
 * Signal, stop and wait for containers from outside their monitor (see
 * ctl.h): the shared core of stop, kill, wait, rm -f and restart.
 */
#include "runtime/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/events.h"
#include "runtime/freeze.h"
#include "util/cleanup.h"

/* How long stop waits, after SIGKILL, for the monitor to record the exit. */
#define CTL_RECORD_TIMEOUT_MS 10000
/* Re-read state.json at least this often while waiting (a monitor may die). */
#define CTL_RECHECK_MS 500

static int parse_number(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > SIGRTMAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* "RTMIN", "RTMIN+3", "RTMAX-2" */
static int parse_realtime(const char *s, int *out)
{
	int base, off = 0, sign = 1;

	if (strncasecmp(s, "RTMIN", 5) == 0)
		base = SIGRTMIN;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		base = SIGRTMAX, sign = -1;
	else
		return -1;
	s += 5;
	if (*s) {
		if ((sign > 0 && *s != '+') || (sign < 0 && *s != '-') || parse_number(s + 1, &off) < 0)
			return -1;
	}
	*out = base + sign * off;
	return *out >= SIGRTMIN && *out <= SIGRTMAX ? 0 : -1;
}

int ctl_signal_parse(const char *s, int *sig, struct sk_err *err)
{
	const char *name = s;

	if (parse_number(s, sig) == 0)
		return 0;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	if (parse_realtime(name, sig) == 0)
		return 0;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && strcasecmp(abbrev, name) == 0) {
			*sig = i;
			return 0;
		}
	}
	return err_set(err, 0, "invalid signal: %s", s);
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* docker's "kill" event (signal=N); a paused container is thawed after the
 * signal, so that it arrives (docker does the same). */
static void signalled(struct store *s, int dirfd, const char *id, int sig)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", sig);
	events_container_at(s->root_fd, dirfd, id, "kill",
			    &(struct event_attr){ "signal", num }, 1);
	container_thaw_after_signal(s->root_fd, dirfd, id);
}

/* err_set appends strerror when given an errno: set the errno afterwards. */
static int fail_with_errnum(struct sk_err *err, int errnum)
{
	err->errnum = errnum;
	return -1;
}

static int not_running(const char *id, struct sk_err *err)
{
	err_set(err, 0, "container %s is not running", id);
	return fail_with_errnum(err, ESRCH);
}

/* Under the container's lock: mark it stopped_by_user (when asked and it is
 * running or about to restart) and open a pidfd of its process (-1 when it
 * has none). *status gets the state's status. */
static int mark_and_open(int dirfd, bool mark, enum ctr_status *status, int *pidfd,
			 struct sk_err *err)
{
	cleanup_close int lock = ctr_lock(dirfd, err);
	struct ctr_state st;

	*pidfd = -1;
	if (lock < 0 || ctr_state_read(dirfd, &st, err) < 0)
		return -1;
	*status = st.status;
	if (st.status != CTR_RUNNING && st.status != CTR_RESTARTING)
		return 0;
	if (mark && !st.stopped_by_user) {
		st.stopped_by_user = true;
		if (ctr_state_write(dirfd, &st, err) < 0)
			return -1;
	}
	*pidfd = ctr_pidfd(&st);
	return 0;
}

/* After finding no process: let ctr_state_load record a dead monitor. */
static void settle_state(int dirfd)
{
	struct ctr_state st;
	struct sk_err ignored;

	ctr_state_load(dirfd, &st, &ignored);
}

int ctl_signal(struct store *s, const char *id, int sig, bool mark_stopped, struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(s, id, err);
	cleanup_close int pidfd = -1;
	enum ctr_status status;

	if (dirfd < 0 || mark_and_open(dirfd, mark_stopped, &status, &pidfd, err) < 0)
		return -1;
	if (pidfd < 0) {
		settle_state(dirfd);
		return not_running(id, err);
	}
	if (pidfd_signal(pidfd, sig) < 0) {
		if (errno == ESRCH)
			return not_running(id, err);
		return err_set(err, errno, "cannot send signal %d to container %s", sig, id);
	}
	signalled(s, dirfd, id, sig);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the process behind pidfd exits: 1 exited, 0 timed out. */
static int pidfd_wait(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int64_t left = timeout_ms < 0 ? -1 : deadline - now_ms();
		int r;

		if (timeout_ms >= 0 && left <= 0)
			return 0;
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r == 0 && timeout_ms >= 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return 1; /* cannot wait on it: let the state decide */
	}
}

static int stop_signal_of(int dirfd)
{
	struct ctr_config c = { 0 };
	struct sk_err ignored;
	int sig = SIGTERM;

	if (ctr_config_read(dirfd, &c, &ignored) == 0 && c.stop_signal > 0)
		sig = c.stop_signal;
	ctr_config_release(&c);
	return sig;
}

int ctl_stop(struct store *s, const char *id, int timeout_s, int sig, struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(s, id, err);
	cleanup_close int pidfd = -1;
	enum ctr_status status;

	if (dirfd < 0 || mark_and_open(dirfd, true, &status, &pidfd, err) < 0)
		return -1;
	if (pidfd < 0) {
		settle_state(dirfd);
		if (status != CTR_RESTARTING)
			return 0;
		/* Marked: the monitor records it exited instead of starting it. */
		return ctl_wait_exited(s, id, CTL_RECORD_TIMEOUT_MS, NULL, err);
	}
	if (sig <= 0)
		sig = stop_signal_of(dirfd);
	if (pidfd_signal(pidfd, sig) < 0 && errno != ESRCH)
		return err_set(err, errno, "cannot send signal %d to container %s", sig, id);
	signalled(s, dirfd, id, sig);
	if (!pidfd_wait(pidfd, timeout_s < 0 ? -1 : timeout_s * 1000)) {
		if (pidfd_signal(pidfd, SIGKILL) < 0 && errno != ESRCH)
			return err_set(err, errno, "cannot kill container %s", id);
		signalled(s, dirfd, id, SIGKILL);
		pidfd_wait(pidfd, CTL_RECORD_TIMEOUT_MS);
	}
	if (ctl_wait_exited(s, id, CTL_RECORD_TIMEOUT_MS, NULL, err) < 0)
		return -1;
	events_container_at(s->root_fd, dirfd, id, "stop", NULL, 0);
	return 0;
}

static bool is_done(enum ctr_status st)
{
	return st == CTR_EXITED || st == CTR_CREATED;
}

/* Sleep until the container's process exits or ms pass, whichever first. */
static void wait_a_little(const struct ctr_state *st, int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(ms < 20 ? ms : 20) * 1000000 };
	int pidfd = ctr_pidfd(st);

	if (pidfd >= 0) {
		pidfd_wait(pidfd, ms);
		close(pidfd);
		/* The process is gone; the monitor records it in a moment. */
		ts.tv_nsec = 5 * 1000000;
	}
	nanosleep(&ts, NULL);
}

int ctl_wait_exited(struct store *s, const char *id, int timeout_ms, struct ctr_state *out,
		    struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(s, id, err);
	int64_t deadline = now_ms() + timeout_ms;
	struct ctr_state st;

	if (dirfd < 0)
		return -1;
	for (;;) {
		int64_t left = timeout_ms < 0 ? CTL_RECHECK_MS : deadline - now_ms();

		if (ctr_state_load(dirfd, &st, err) < 0)
			return -1;
		if (is_done(st.status))
			break;
		if (left <= 0) {
			err_set(err, 0, "timed out waiting for container %s to exit", id);
			return fail_with_errnum(err, ETIMEDOUT);
		}
		wait_a_little(&st, left < CTL_RECHECK_MS ? (int)left : CTL_RECHECK_MS);
	}
	if (out)
		*out = st;
	return 0;
}

/*
 * The per-container monitor (monitor.h). The caller forks it and waits on a
 * pipe for one report: "started" (sent from inside container_run once the
 * process runs and state.json says so) or the error that stopped the start.
 * After that the monitor is on its own: it outlives the caller, and nothing
 * but the files in the container's directory connects the two.
 */
#include "runtime/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/attach.h"
#include "runtime/console.h"
#include "runtime/logfile.h"
#include "runtime/volume.h"
#include "runtime/volume_plan.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/memtrim.h"
#include "util/proctitle.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_NS (10LL * 1000000000) /* a run this long resets it */
#define STOP_POLL_MS 50

struct start_report {
	int exit_code; /* 0: started */
	char msg[ERR_MSG_MAX];
};

bool monitor_should_restart(const struct monitor_opts *mo, const struct ctr_state *st)
{
	if (st->stopped_by_user)
		return false;
	switch (mo->restart) {
	case RESTART_ALWAYS:
	case RESTART_UNLESS_STOPPED: return true;
	case RESTART_ON_FAILURE:
		return st->exit_code != 0 &&
		       (mo->restart_max == 0 || st->restart_count < mo->restart_max);
	case RESTART_NO:
	default: return false;
	}
}

int64_t monitor_backoff_ms(unsigned count, int64_t ran_ns)
{
	int64_t ms = BACKOFF_FIRST_MS;

	if (ran_ns >= BACKOFF_RESET_NS)
		return ms;
	for (unsigned i = 0; i < count && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void send_report(int *fd, int exit_code, const char *msg)
{
	struct start_report r = { .exit_code = exit_code };

	if (*fd < 0)
		return;
	snprintf(r.msg, sizeof(r.msg), "%s", msg);
	(void)!write(*fd, &r, sizeof(r));
	close(*fd);
	*fd = -1;
}

/* The container runs: tell the caller, then give back what the start needed
 * and the wait does not (the CLI's heap, stack and the text of the whole run
 * path): from here on the monitor only waits. Issue 5's figure is 1 MB RSS. */
static void report_started(void *arg)
{
	send_report(arg, 0, "");
	mem_trim();
}

/* Close every descriptor but keep[] (sorted ascending) and stdio: an
 * inherited fd could hold one of the caller's flocks forever. */
static void close_all_but(const int *keep, size_t n)
{
	unsigned from = 3;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

static void sort_fds(int *fds, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
}

/* netns_fd: --network container:NAME's namespace, which the child joins
 * (-1: none); client_fd: the client attached from the start (-1: none). */
static void detach(const struct store *s, const struct container *c, int report_fd,
		   int netns_fd, int client_fd)
{
	/* live_fd: the caller's hold on the live file, now this process's */
	int keep[] = { s->root_fd, c->dirfd, c->live_fd, report_fd, netns_fd, client_fd };
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	sort_fds(keep, ARRAY_SIZE(keep));
	setsid();
	/* Not holding the caller's directory for the container's lifetime
	 * (an unmount of it would fail): every path is absolute by now. */
	if (chdir("/") < 0)
		log_debug("monitor: cannot chdir to /");
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	close_all_but(keep, ARRAY_SIZE(keep));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

struct exit_record {
	const struct monitor_opts *mo;
	int status;
	bool oom_killed;
	const char *error;
	bool restart; /* out */
};

/* Record the exit and decide, under the lock, whether to start again: a
 * stop, kill or rm -f marks stopped_by_user under the same lock. */
static int set_exit(struct ctr_state *st, void *arg)
{
	struct exit_record *x = arg;

	ctr_state_exited(st, x->status);
	st->oom_killed = x->oom_killed;
	snprintf(st->error, sizeof(st->error), "%s", x->error ? x->error : "");
	x->restart = !x->error && monitor_should_restart(x->mo, st);
	if (x->restart) {
		st->status = CTR_RESTARTING;
		st->restart_count++;
	}
	return 0;
}

static int record_exit(int dirfd, struct exit_record *x, struct sk_err *err)
{
	return ctr_state_update(dirfd, set_exit, x, err);
}

static int set_stopped(struct ctr_state *st, void *arg)
{
	st->status = CTR_EXITED;
	return 0;
}

/* The back-off before a restart, cut short by stop/kill/rm -f. Returns true
 * when the container should start again. */
static bool wait_before_restart(int dirfd, int64_t ms)
{
	struct sk_err err = { 0 };
	struct ctr_state st;

	for (int64_t waited = 0; waited < ms; waited += STOP_POLL_MS) {
		nanosleep(&(struct timespec){ .tv_nsec = STOP_POLL_MS * 1000000L }, NULL);
		if (ctr_state_read(dirfd, &st, &err) == 0 && st.stopped_by_user)
			break;
	}
	if (ctr_state_read(dirfd, &st, &err) < 0 || !st.stopped_by_user)
		return true;
	/* Stopped while waiting: it stays exited. */
	ctr_state_update(dirfd, set_stopped, NULL, &err);
	return false;
}

/* `skiff update --restart` changes config.json while the container runs:
 * the policy in force is the recorded one, read at each exit. */
static void refresh_policy(int dirfd, struct monitor_opts *mo)
{
	struct sk_err ignored = { 0 };
	struct ctr_config cfg;

	if (ctr_config_read(dirfd, &cfg, &ignored) < 0)
		return;
	mo->restart = cfg.restart;
	mo->restart_max = cfg.restart_max;
	ctr_config_release(&cfg);
}

/* Runs until no restart is due; returns the last exit status. */
static int run_loop(struct container *c, const struct rt_spec *spec, struct run_opts *opts,
		    struct monitor_opts *mo, int *report_fd)
{
	for (unsigned restarts = 0;; restarts++) {
		struct sk_err err = { 0 };
		struct exit_record x = { .mo = mo };
		int64_t t0 = ctr_now_ns();
		int status = -1;

		struct sk_err rec_err = { 0 };

		if ((restarts > 0 && container_reset_work(c, &err) < 0) ||
		    container_run(c, spec, opts, &status, &err) < 0) {
			x.status = err.exit_code ? err.exit_code : EXIT_SKIFF;
			x.error = err.msg;
		} else {
			x.status = status;
			x.oom_killed = c->oom_killed;
		}
		/* Recorded before the caller hears of a failed start: once
		 * `run -d` returns, the state says what happened. */
		refresh_policy(c->dirfd, mo);
		int rec = record_exit(c->dirfd, &x, &rec_err);

		if (!x.error)
			container_event_die(c, x.status);

		if (x.error)
			send_report(report_fd, x.status, x.error);
		if (rec < 0 || !x.restart)
			return x.status;
		/* docker's attach ends with the run, not with the container */
		attach_srv_end_run(opts->attach, x.status);
		if (!wait_before_restart(c->dirfd, monitor_backoff_ms(restarts, ctr_now_ns() - t0)))
			return x.status;
	}
}

/* --rm: the container and its anonymous volumes (docker's run --rm). */
static void remove_container(struct store *s, struct container *c)
{
	struct strv anonymous = { 0 };
	struct sk_err err = { 0 };

	volume_plan_anonymous_of(c->dirfd, &anonymous);
	if (ctr_remove_files(s, c->id, &err) < 0)
		log_debug("cannot remove container %s: %s", c->id, err.msg);
	else
		volume_remove_unused(s, &anonymous);
	strv_release(&anonymous);
}

static __attribute__((noreturn)) void monitor_main(struct store *s, struct container *c,
						   const struct rt_spec *spec,
						   const struct run_opts *caller_opts,
						   const struct monitor_opts *mo, int report_fd)
{
	struct sk_err err = { 0 };
	struct logfile *log = NULL;
	struct attach_srv *srv = NULL;
	struct run_opts opts = *caller_opts;
	struct monitor_opts policy = *mo;
	int client_fd = mo->attach_client ? mo->attach_fd : -1, status;
	char title[64];

	/* Attached from the start: the caller's terminal is the container's
	 * (measured before stdio become /dev/null). */
	memset(&opts.ws, 0, sizeof(opts.ws));
	if (client_fd >= 0 && spec->process.terminal)
		console_window(&opts.ws);
	detach(s, c, report_fd, spec->net.join_netns ? spec->net.netns_fd : -1, client_fd);
	/* `skiff run -d -e SECRET=...` must not stay readable in /proc. */
	snprintf(title, sizeof(title), "skiff-monitor %.12s", c->id);
	proctitle_set(title);
	if (container_take_over(c, &err) < 0) {
		send_report(&report_fd, EXIT_SKIFF, err.msg);
		_exit(EXIT_SKIFF);
	}
	if ((mo->log &&
	     logfile_open(c->dirfd, mo->log_max_size, mo->log_max_file, &log, &err) < 0) ||
	    attach_srv_open(c->dirfd, client_fd, mo->stdin_once, &srv, &err) < 0) {
		send_report(&report_fd, EXIT_SKIFF, err.msg);
		_exit(EXIT_SKIFF);
	}
	opts.log = log;
	opts.attach = srv;
	opts.started = report_started;
	opts.started_arg = &report_fd;
	status = run_loop(c, spec, &opts, &policy, &report_fd);
	logfile_close(log);
	if (mo->auto_remove)
		remove_container(s, c);
	/* After the removal: `run -it --rm` returns when the container is gone. */
	attach_srv_end_run(srv, status);
	attach_srv_close(srv);
	ctr_live_release(s, c->id, &c->live_fd);
	_exit(0);
}

static int read_report(int fd, struct sk_err *err)
{
	struct start_report r;
	ssize_t n;

	while ((n = read(fd, &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r))
		return err_set(err, n < 0 ? errno : 0, "the container's monitor died during start");
	if (r.exit_code == 0)
		return 0;
	r.msg[sizeof(r.msg) - 1] = '\0';
	err_set(err, 0, "%s", r.msg);
	err->exit_code = r.exit_code;
	return -1;
}

int monitor_start(struct store *s, struct container *c, const struct rt_spec *spec,
		  const struct run_opts *opts, const struct monitor_opts *mo, struct sk_err *err)
{
	int p[2];
	pid_t pid;
	int ret;

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(err, errno, "cannot create a pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_set(err, errno, "cannot start the container's monitor");
	}
	if (pid == 0) {
		close(p[0]);
		monitor_main(s, c, spec, opts, mo, p[1]);
	}
	close(p[1]);
	ret = read_report(p[0], err);
	close(p[0]);
	return ret;
}

/*
 * skiff rm: remove containers, as `docker rm` does. A running (or restarting)
 * container is refused unless -f, which marks it stopped_by_user, SIGKILLs it
 * through a pidfd (runtime/ctl.h) and waits until its monitor has recorded the
 * exit and finished its own clean-up before the files go (a cgroup left by a
 * killed monitor goes too). Each argument is
 * handled on its own; the exit status is 1 when any of them failed.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/cgroup.h"
#include "runtime/ctl.h"
#include "runtime/state.h"
#include "runtime/volume.h"
#include "runtime/volume_plan.h"
#include "util/cleanup.h"

static const char rm_usage[] =
	"Usage:  skiff rm [OPTIONS] CONTAINER [CONTAINER...]\n\n"
	"Remove one or more containers\n\n"
	"Options:\n"
	"  -f, --force     force the removal of a running container (uses SIGKILL)\n"
	"  -v, --volumes   remove the anonymous volumes of the container\n";

/* How long rm -f waits for the monitor to record the exit, then to be gone. */
#define RM_RECORD_TIMEOUT_MS 10000
#define RM_MONITOR_TIMEOUT_MS 5000

static bool is_active(const struct ctr_state *st)
{
	if (st->status == CTR_RUNNING || st->status == CTR_RESTARTING)
		return true;
	/* Created and its creator still alive: being set up right now. */
	return st->status == CTR_CREATED && ctr_process_alive(st->monitor_pid, st->monitor_start);
}

static int refuse_running(int dirfd, const char *id, const struct ctr_state *st,
			  struct sk_err *err)
{
	struct ctr_config c;
	struct sk_err ignored;
	char name[CTR_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%.12s", id);
	if (ctr_config_read(dirfd, &c, &ignored) == 0) {
		if (c.name[0])
			snprintf(name, sizeof(name), "/%s", c.name);
		ctr_config_release(&c);
	}
	err_set(err, 0,
		"cannot remove container \"%s\": container is %s: stop the container before "
		"removing or force remove",
		name, st->status == CTR_RESTARTING ? "restarting" : "running");
	err->exit_code = 1;
	return -1;
}

/* The monitor records the exit first and then cleans up (cgroup, --rm):
 * wait, bounded, until it has exited so that nothing races the removal. A
 * pidfd, not /proc: an exited monitor nobody has reaped yet is a zombie
 * that /proc still shows. */
static void wait_monitor_gone(const struct ctr_state *st)
{
	cleanup_close int fd = -1;
	struct pollfd p;

	if (st->monitor_pid <= 0)
		return;
	fd = (int)syscall(SYS_pidfd_open, st->monitor_pid, 0);
	if (fd < 0 || !ctr_process_alive(st->monitor_pid, st->monitor_start))
		return;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (poll(&p, 1, RM_MONITOR_TIMEOUT_MS) < 0 && errno == EINTR)
		;
}

/* A container whose monitor was killed leaves its cgroup behind (the monitor
 * removes it on a normal exit; ctr_state_load when it notices the death):
 * rm is the last chance to remove it. */
static void remove_leftover_cgroup(const char *id)
{
	struct sk_err ignored = { 0 };
	char name[CTR_ID_LEN + 8];

	snprintf(name, sizeof(name), "skiff/%s", id);
	cgroup_remove_leftovers(CGROUP_ROOT, name, &ignored);
}

static int kill_and_wait(struct store *s, const char *id, struct sk_err *err)
{
	struct ctr_state st;

	if (ctl_signal(s, id, SIGKILL, true, err) < 0 && err->errnum != ESRCH)
		return -1;
	err_clear(err);
	if (ctl_wait_exited(s, id, RM_RECORD_TIMEOUT_MS, &st, err) < 0)
		return err_wrap(err, "cannot remove container %s", id);
	wait_monitor_gone(&st);
	return 0;
}

/* rm -v: the container's anonymous volumes go too, once no other container
 * (--volumes-from) uses them; named ones stay, as docker. */
static int remove_with_volumes(struct store *s, const char *id, int dirfd, bool volumes,
			       struct sk_err *err)
{
	struct strv names = { 0 };
	int ret;

	if (volumes)
		volume_plan_anonymous_of(dirfd, &names);
	ret = ctr_remove_files(s, id, err);
	if (ret == 0)
		volume_remove_unused(s, &names);
	strv_release(&names);
	return ret;
}

/* Under the container's lock, so that a concurrent start cannot slip in
 * between the last look at the state and the removal. */
static int remove_if_stopped(struct store *s, const char *id, bool force, bool volumes,
			     struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(s, id, err);
	cleanup_close int lock = -1;
	struct ctr_state st;

	if (dirfd < 0)
		return err->errnum == ENOENT ? 0 : -1; /* removed meanwhile (--rm) */
	if (ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	if (is_active(&st)) {
		if (!force)
			return refuse_running(dirfd, id, &st, err);
		if (st.status != CTR_CREATED && kill_and_wait(s, id, err) < 0)
			return -1;
	}
	lock = ctr_lock(dirfd, err);
	if (lock < 0 || ctr_state_read(dirfd, &st, err) < 0)
		return -1;
	if ((st.status == CTR_RUNNING || st.status == CTR_RESTARTING) &&
	    ctr_process_alive(st.monitor_pid, st.monitor_start))
		return err_set(err, 0, "cannot remove container %s: it was started again", id);
	remove_leftover_cgroup(id);
	return remove_with_volumes(s, id, dirfd, volumes, err);
}

static int remove_one(struct store *s, const char *ref, bool force, bool volumes,
		      struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];

	if (ctr_resolve(s, ref, id, err) < 0)
		return -1;
	return remove_if_stopped(s, id, force, volumes, err);
}

static int exec_rm(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false, volumes = false;
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+fvh", opts)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return fputs(rm_usage, stdout), 0;
		else if (c == 'v')
			volumes = true;
		else
			return cli_usage_error(err, "rm", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "rm", "\"skiff rm\" requires at least 1 argument");
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };

		if (remove_one(&ctx->store, argv[i], force, volumes, &one) == 0) {
			printf("%s\n", argv[i]);
			fflush(stdout);
			continue;
		}
		/* As docker: report each failure and go on; with -f a missing
		 * container is reported but is not a failure. */
		fprintf(stderr, "skiff: %s\n", one.msg);
		if (!(force && one.errnum == ENOENT))
			failed++;
	}
	return failed ? 1 : 0;
}

const struct command cmd_rm = {
	.name = "rm",
	.summary = "Remove one or more containers",
	.usage = rm_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_rm,
};

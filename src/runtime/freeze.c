/*
 * Pausing and unpausing containers (freeze.h): the freeze itself is
 * cgroup_freeze; here are the state, the lock and the events around it.
 */
#include "runtime/freeze.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/events.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/log.h"

int container_cgroup_open(const char *id, struct cgroup *cg, struct sk_err *err)
{
	char name[CTR_ID_LEN + 8];

	snprintf(name, sizeof(name), "skiff/%s", id);
	return cgroup_open(CGROUP_ROOT, name, cg, err);
}

/* Freeze or thaw under the container's lock; the state says what was done. */
static int set_paused(struct store *s, const char *id, bool pause, struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(s, id, err);
	cleanup_close int lock = -1;
	struct ctr_state st;
	struct cgroup cg;
	int ret;

	/* a dead monitor is recorded first (ctr_state_load locks by itself) */
	if (dirfd < 0 || ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	lock = ctr_lock(dirfd, err);
	if (lock < 0 || ctr_state_read(dirfd, &st, err) < 0)
		return -1;
	if (st.status != CTR_RUNNING || !ctr_process_alive(st.pid, st.pid_start))
		return err_set(err, 0, "Container %s is not running", id);
	if (pause && st.paused)
		return err_set(err, 0, "Container %s is already paused", id);
	if (!pause && !st.paused)
		return err_set(err, 0, "Container %s is not paused", id);
	if (container_cgroup_open(id, &cg, err) < 0)
		return err_wrap(err, "Cannot %s container %s", pause ? "pause" : "unpause", id);
	ret = cgroup_freeze(&cg, pause, err);
	cgroup_release(&cg);
	if (ret < 0)
		return err_wrap(err, "Cannot %s container %s", pause ? "pause" : "unpause", id);
	st.paused = pause;
	if (ctr_state_write(dirfd, &st, err) < 0) {
		/* the state must not lie: undo */
		if (container_cgroup_open(id, &cg, &(struct sk_err){0}) == 0) {
			cgroup_freeze(&cg, !pause, &(struct sk_err){0});
			cgroup_release(&cg);
		}
		return -1;
	}
	close(lock);
	lock = -1;
	events_container_at(s->root_fd, dirfd, id, pause ? "pause" : "unpause", NULL, 0);
	return 0;
}

int container_pause(struct store *s, const char *id, struct sk_err *err)
{
	return set_paused(s, id, true, err);
}

int container_unpause(struct store *s, const char *id, struct sk_err *err)
{
	return set_paused(s, id, false, err);
}

static int clear_paused(struct ctr_state *st, void *arg)
{
	if (!st->paused)
		return 1;
	st->paused = false;
	return 0;
}

void container_thaw_after_signal(int store_fd, int dirfd, const char *id)
{
	struct sk_err err = {0};
	struct ctr_state st;
	struct cgroup cg;

	if (ctr_state_read(dirfd, &st, &err) < 0 || !st.paused)
		return;
	if (container_cgroup_open(id, &cg, &err) == 0) {
		if (cgroup_freeze(&cg, false, &err) < 0)
			log_warn("container %.12s: %s", id, err.msg);
		cgroup_release(&cg);
	}
	if (ctr_state_update(dirfd, clear_paused, NULL, &err) == 0)
		events_container_at(store_fd, dirfd, id, "unpause", NULL, 0);
}

/*
 * docker pause / unpause: a running container's cgroup is frozen (v1
 * freezer, v2 cgroup.freeze) and state.json says paused, under the
 * container's lock; ps shows "Up ... (Paused)", inspect State.Paused.
 * A signal (stop, kill, rm -f) to a paused container is sent, then the
 * container is thawed so that it arrives, as docker does.
 */
#ifndef SKIFF_RUNTIME_FREEZE_H
#define SKIFF_RUNTIME_FREEZE_H

#include <stdbool.h>

#include "image/store.h"
#include "util/err.h"

/* id: a full container id (ctr_resolve). Errors in docker's words:
 * "Container ID is not running", "... is already paused", "... is not
 * paused". Emits the "pause" / "unpause" event. */
int container_pause(struct store *s, const char *id, struct sk_err *err);
int container_unpause(struct store *s, const char *id, struct sk_err *err);

/* After a signal was sent to the container (dirfd, id): when it is paused,
 * thaw it and record it unpaused. Best effort. */
void container_thaw_after_signal(int store_fd, int dirfd, const char *id);

/* The container's cgroup, for the commands that read or change it: "skiff/<id>". */
struct cgroup;
int container_cgroup_open(const char *id, struct cgroup *cg, struct sk_err *err);

#endif

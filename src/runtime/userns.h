/*
 * Rootless skiff: an unprivileged user's skiff makes itself root of a new
 * user namespace before it touches its store (~/.local/share/skiff), as
 * podman does. Inside, it can chown files to the ids of the image, mount an
 * overlay in the container's mount namespace (kernel 5.11+) and create every
 * other namespace; outside, nothing changes: all files belong to the user or
 * to the user's subordinate ids.
 *
 * The mapping: container uid 0 -> the user, and uids 1..N -> the user's
 * range from /etc/subuid (the same for gids), written by newuidmap and
 * newgidmap (Debian's uidmap package), which are setuid and check the ranges.
 * A user without ranges gets a single-id mapping (0 -> the user) written
 * directly; then only id 0 exists inside, files of other owners are stored as
 * owned by 0 and setgroups() is denied.
 */
#ifndef SKIFF_RUNTIME_USERNS_H
#define SKIFF_RUNTIME_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

struct id_range {
	unsigned long start, count;
};

/* The subordinate range of user (name) or uid from a subuid/subgid file's
 * contents ("name:start:count" or "uid:start:count" lines; the first match
 * wins). Returns 1 when found, 0 when not. */
int userns_find_range(const char *data, size_t len, const char *name, unsigned long id,
		      struct id_range *out);

/* Become root in a new user namespace (see above). Call once, before any
 * thread is started; the process goes on inside. */
int userns_enter_rootless(struct sk_err *err);

/* True when this process runs in a user namespace (not the initial one). */
bool userns_is_rootless(void);
/* True when only one id is mapped (no subordinate ranges): setgroups() is
 * denied and chown to other ids fails. */
bool userns_single_id(void);

#endif

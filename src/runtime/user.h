/*
 * Users and groups inside the container: `-u user[:group]` / `uid[:gid]` or the
 * image's User, resolved against the container's own /etc/passwd and
 * /etc/group with runc's rules (a numeric uid needs no passwd entry; without an
 * explicit group, the user's supplementary groups come from /etc/group).
 */
#ifndef SKIFF_RUNTIME_USER_H
#define SKIFF_RUNTIME_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

#define USER_MAX_GROUPS 64
#define USER_FILE_MAX (4u << 20)

struct user_resolved {
	uid_t uid;
	gid_t gid;
	gid_t groups[USER_MAX_GROUPS]; /* supplementary */
	size_t n_groups;
	char home[1024]; /* "/" when the passwd file does not say */
};

/* Split "user[:group]" into its parts (group "" when absent). Empty user or an
 * overlong part is an error. */
int user_spec_split(const char *spec, char *user, size_t ulen, char *group, size_t glen,
		    struct sk_err *err);

/* Resolve spec against the given file bodies (either may be NULL: missing file). */
int user_resolve(const char *spec, const char *passwd, const char *group,
		 struct user_resolved *out, struct sk_err *err);

/* Read /etc/passwd and /etc/group under rootfd (confined with openat2) and resolve. */
int user_resolve_in_root(int rootfd, const char *spec, struct user_resolved *out,
			 struct sk_err *err);

/* Rootless without subordinate ids: the user namespace was made with
 * setgroups "deny", so a process keeps no supplementary groups at all. */
bool user_setgroups_denied(pid_t pid);

#endif

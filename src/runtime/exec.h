/*
 * `skiff exec`: one more process in a running container, as docker's exec.
 *
 * The process joins every namespace of the container's first process that
 * differs from skiff's own (mount, pid, uts, ipc, net, cgroup, and user when
 * the container has one) and each of its cgroups, and gets the container's
 * environment, working directory, user, capabilities, no_new_privs, rlimits
 * and seccomp filter, with the caller's overrides (-e, -w, -u, --privileged).
 *
 *   struct exec_opts o = { .args = ..., .interactive = true };
 *   exec_run(store, "web", &o, &status, err);   // status: the command's
 */
#ifndef SKIFF_RUNTIME_EXEC_H
#define SKIFF_RUNTIME_EXEC_H

#include <stdbool.h>

#include "image/store.h"
#include "runtime/spec.h"
#include "util/err.h"

struct exec_opts {
	char *const *args; /* the command, NULL-terminated, at least one entry */
	struct strv env;   /* -e and --env-file entries, in order ("K=V" or "K") */
	const char *cwd;   /* -w; NULL: the container's */
	const char *user;  /* -u user[:group]; NULL: the container's */
	bool interactive;  /* -i: keep stdin (otherwise /dev/null) */
	bool tty;	   /* -t: a pty from the container's devpts */
	bool detach;	   /* -d: start it and return at once */
	bool privileged;   /* every capability skiff has (the seccomp filter stays) */
};

/* Run o->args in the running container ref (name, id or unique prefix).
 * *status gets the command's exit status (128+N after signal N; 0 when
 * detached). A container that is not running is an error with exit_code 1,
 * as docker's "Container <id> is not running"; a command that cannot be found
 * or invoked, exit_code 127 or 126; anything else, 125. */
int exec_run(struct store *s, const char *ref, const struct exec_opts *o, int *status,
	     struct sk_err *err);

#endif

/*
 * The container's first process, from clone3 to execve: mounts, pivot_root,
 * hostname, credentials, working directory, then the command (with docker's
 * PATH lookup done here, in the container, with the container's PATH). Any
 * failure is sent to the parent over the sync socket as one message (exit
 * code + text) and the process exits; the parent prints it. The socket is
 * CLOEXEC, so a successful execve shows up in the parent as end-of-file.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/internal.h"
#include "runtime/user.h"
#include "util/cleanup.h"

void child_fail(int sync_fd, const struct sk_err *err)
{
	struct sync_msg msg = { .kind = SYNC_ERROR };

	msg.exit_code = err->exit_code ? err->exit_code : EXIT_SKIFF;
	snprintf(msg.msg, sizeof(msg.msg), "%s", err->msg[0] ? err->msg : "container setup failed");
	send(sync_fd, &msg, sizeof(msg), MSG_NOSIGNAL);
	_exit(msg.exit_code);
}

static int exec_failure(const char *cmd, const char *path, int e, struct sk_err *err)
{
	if (e == ENOENT || e == ENOTDIR) {
		err_set(err, 0, "exec: \"%s\": stat %s: no such file or directory", cmd, path);
		err->exit_code = EXIT_NOT_FOUND;
		return -1;
	}
	err_set(err, 0, "exec: \"%s\": %s", cmd,
		e == EACCES ? "permission denied" : e == ENOEXEC ? "exec format error" : strerror(e));
	err->exit_code = EXIT_CANNOT_INVOKE;
	return -1;
}

/* Go's exec.LookPath (what docker uses): the first regular, executable file. */
static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int child_exec(char *const *args, char *const *env, struct sk_err *err)
{
	const char *path = env_get(env, "PATH");
	const char *p;
	char full[PATH_MAX];

	if (strchr(args[0], '/')) {
		execve(args[0], args, env);
		return exec_failure(args[0], args[0], errno, err);
	}
	for (p = path ? path : SPEC_DEFAULT_PATH; p && *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len > 0 && snprintf(full, sizeof(full), "%.*s/%s", (int)len, p, args[0]) <
				       (int)sizeof(full) &&
		    is_executable_file(full)) {
			execve(full, args, env);
			return exec_failure(args[0], full, errno, err);
		}
		p = colon ? colon + 1 : NULL;
	}
	err_set(err, 0, "exec: \"%s\": executable file not found in $PATH", args[0]);
	err->exit_code = EXIT_NOT_FOUND;
	return -1;
}

/* Everything skiff holds open must not leak into the container. */
static int prepare_stdio(const struct child_ctx *c, struct sk_err *err)
{
	/* A detached container writes into its monitor's log pipes. */
	if ((c->stdout_fd >= 0 && dup2(c->stdout_fd, STDOUT_FILENO) < 0) ||
	    (c->stderr_fd >= 0 && dup2(c->stderr_fd, STDERR_FILENO) < 0))
		return err_set(err, errno, "cannot connect the container's output");
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->keep_stdin || c->spec->process.terminal)
		return 0;
	/* docker without -i: the container's stdin is /dev/null. */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		return err_set(err, errno, "cannot open /dev/null");
	close(fd);
	return 0;
}

static int setup_mounts(const struct child_ctx *c, int rootfd, struct sk_err *err)
{
	const struct rt_spec *spec = c->spec;

	if (mounts_apply(rootfd, spec, err) < 0 ||
	    mounts_mask_paths(rootfd, &spec->masked_paths, err) < 0 ||
	    mounts_readonly_paths(rootfd, &spec->readonly_paths, err) < 0)
		return -1;
	if (spec->process.cwd && rootfs_mkdir(rootfd, spec->process.cwd, err) < 0)
		return err_wrap(err, "cannot create the working directory");
	if (spec->process.terminal && console_setup_child(rootfd, c->sync_fd, err) < 0)
		return -1;
	return 0;
}

static int setup_root(const struct child_ctx *c, struct user_resolved *user, struct sk_err *err)
{
	const struct rt_spec *spec = c->spec;
	cleanup_close int rootfd = -1;

	/* Nothing done from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_set(err, errno, "cannot make the mounts private");
	if (rootfs_mount(&spec->root, err) < 0)
		return -1;
	rootfd = open(spec->root.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(err, errno, "cannot open '%s'", spec->root.path);
	if (setup_mounts(c, rootfd, err) < 0)
		return -1;
	/* Resolved before pivot_root, confined to the root with openat2. */
	if (user_resolve_in_root(rootfd, spec->process.user.spec, user, err) < 0)
		return -1;
	if (rootfs_pivot(spec->root.path, err) < 0)
		return -1;
	if (spec->root.readonly && rootfs_make_readonly(err) < 0)
		return -1;
	/* While still root with CAP_SETPCAP: shrink what the process can ever get. */
	if (spec->process.capabilities.set &&
	    caps_drop_bounding(spec->process.capabilities.bounding, err) < 0)
		return -1;
	return 0;
}

/* EINVAL: the id has no mapping (rootless, without that range in
 * /etc/subuid or /etc/subgid). */
static int id_failure(const char *what, unsigned id, struct sk_err *err)
{
	if (errno == EINVAL)
		return err_set(err, 0, "cannot set %s %u: it has no mapping in the rootless user "
				       "namespace (give the user a range in /etc/sub%s)",
			       what, id, what);
	return err_set(err, errno, "cannot set %s %u", what, id);
}

static int set_credentials(const struct rt_spec *spec, const struct user_resolved *u,
			   struct sk_err *err)
{
	gid_t groups[USER_MAX_GROUPS + 16];
	size_t n = 0;

	for (size_t i = 0; i < u->n_groups; i++)
		groups[n++] = u->groups[i];
	for (size_t i = 0; i < spec->process.user.n_additional_gids && n < ARRAY_SIZE(groups); i++)
		groups[n++] = spec->process.user.additional_gids[i];
	if (setgroups(n, groups) < 0 && !(errno == EPERM && user_setgroups_denied()))
		return err_set(err, errno, "cannot set the supplementary groups");
	if (setgid(u->gid) < 0)
		return id_failure("gid", u->gid, err);
	if (setuid(u->uid) < 0)
		return id_failure("uid", u->uid, err);
	return 0;
}

/* docker: a non-root user keeps the bounding set only; nothing effective. */
static int set_capabilities(const struct rt_spec *spec, const struct user_resolved *u,
			    struct sk_err *err)
{
	struct rt_capabilities caps = spec->process.capabilities;

	if (!caps.set)
		return 0;
	if (u->uid != 0)
		caps.effective = caps.permitted = caps.ambient = 0;
	return caps_set(&caps, err);
}

/* Last steps before execve: nothing after them may need a privilege. */
static int lock_down(const struct rt_spec *spec, struct sk_err *err)
{
	if (spec->process.no_new_privileges && caps_set_no_new_privs(err) < 0)
		return -1;
	return seccomp_prog_load(&spec->seccomp, err);
}

/* A credential change clears the parent-death signal: set it again, then make
 * sure skiff did not die before it was set (the socket would be closed). */
static int rearm_parent_death(int sync_fd, struct sk_err *err)
{
	char b;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (recv(sync_fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
		return err_set(err, 0, "skiff exited during the container's start");
	return 0;
}

/* HOME from the passwd entry when neither the image nor -e set it. */
static int build_env(const struct rt_spec *spec, const struct user_resolved *u, struct strv *env,
		     struct sk_err *err)
{
	char home[sizeof(u->home) + 8];

	for (size_t i = 0; i < spec->process.env.n; i++)
		if (strv_push(env, spec->process.env.v[i], err) < 0)
			return -1;
	if (env_get(env->v, "HOME"))
		return 0;
	snprintf(home, sizeof(home), "HOME=%s", u->home);
	return strv_push(env, home, err);
}

static int finish_process(struct child_ctx *c, const struct user_resolved *user,
			  struct sk_err *err)
{
	const struct rt_spec *spec = c->spec;
	struct strv env = { 0 };

	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return err_set(err, errno, "cannot set the hostname '%s'", spec->hostname);
	/* Without no_new_privs the kernel wants CAP_SYS_ADMIN to install a filter:
	 * install it before the capabilities go (as runc does); the calls after
	 * it (setgroups, setuid, capset...) are allowed by any sane profile. */
	if (!spec->process.no_new_privileges && lock_down(spec, err) < 0)
		return -1;
	if (set_credentials(spec, user, err) < 0 || set_capabilities(spec, user, err) < 0 ||
	    rearm_parent_death(c->sync_fd, err) < 0)
		return -1;
	/* Before --init forks: the init process is confined like its child
	 * (otherwise the container could ptrace an unfiltered pid 1). */
	if (spec->process.no_new_privileges && lock_down(spec, err) < 0)
		return -1;
	if (c->init && init_fork(c->sync_fd, err) < 0)
		return -1;
	if (spec->process.cwd && chdir(spec->process.cwd) < 0)
		return err_set(err, errno, "cannot enter the working directory '%s'",
			       spec->process.cwd);
	if (build_env(spec, user, &env, err) < 0)
		return -1;
	umask(022);
	sigprocmask(SIG_SETMASK, &c->orig_mask, NULL);
	child_exec(spec->process.args.v, env.v, err);
	strv_release(&env);
	return -1;
}

static int wait_for_cgroup(int sync_fd, bool cgroup_ns, struct sk_err *err)
{
	char go;
	ssize_t n;

	while ((n = recv(sync_fd, &go, 1, 0)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return err_set(err, n < 0 ? errno : 0, "skiff did not place the container in its cgroup");
	if (cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
		return err_set(err, errno, "cannot create the cgroup namespace");
	return 0;
}

void child_main(struct child_ctx *c)
{
	struct sk_err err = { 0 };
	struct user_resolved user;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Modes given during setup (device nodes, mount points) are meant exactly. */
	umask(0);
	if (rlimit_apply(&c->spec->process.rlimits, &err) < 0)
		child_fail(c->sync_fd, &err);
	if (prepare_stdio(c, &err) < 0)
		child_fail(c->sync_fd, &err);
	if ((c->spec->namespaces & CLONE_NEWNET) && ns_loopback_up(&err) < 0)
		child_fail(c->sync_fd, &err);
	if (setup_root(c, &user, &err) < 0)
		child_fail(c->sync_fd, &err);
	/* Nothing of the container has run yet; from here on it is limited. */
	if (wait_for_cgroup(c->sync_fd, c->cgroup_ns, &err) < 0)
		child_fail(c->sync_fd, &err);
	finish_process(c, &user, &err);
	child_fail(c->sync_fd, &err);
}

/*
 * The container's first process, from clone3 to execve: it drops everything
 * of skiff's it holds (child_isolate), then mounts, pivot_root, hostname,
 * credentials, working directory, and execs skiff-init from its sealed memfd,
 * which execs the command (PATH lookup in the container, with its PATH). Any
 * failure is sent to the parent over the sync socket as one message (exit
 * code + text) and the process exits; the parent prints it. The socket is
 * close-on-exec for the command, so its start shows in the parent as
 * end-of-file.
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
#include "runtime/stub.h"
#include "runtime/internal.h"
#include "runtime/user.h"
#include "util/cleanup.h"
#include "util/fs.h"

void child_fail(int sync_fd, const struct sk_err *err)
{
	struct sync_msg msg = { .kind = SYNC_ERROR };

	msg.exit_code = err->exit_code ? err->exit_code : EXIT_SKIFF;
	snprintf(msg.msg, sizeof(msg.msg), "%s", err->msg[0] ? err->msg : "container setup failed");
	send(sync_fd, &msg, sizeof(msg), MSG_NOSIGNAL);
	_exit(msg.exit_code);
}

int child_isolate(const int stdio[3], int sync_fd, int *keep, int n_keep, struct sk_err *err)
{
	int src[8], n = 4 + n_keep;
	cleanup_close int null = -1;

	if (n > (int)ARRAY_SIZE(src))
		return err_set(err, EINVAL, "too many descriptors to keep");
	prctl(PR_SET_DUMPABLE, 0);
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	for (int i = 0; i < 3; i++) {
		if (stdio[i] >= 0)
			continue;
		if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			return err_set(err, errno, "cannot open /dev/null");
	}
	for (int i = 0; i < n; i++) {
		int from = i < 3 ? (stdio[i] >= 0 ? stdio[i] : null) : i == 3 ? sync_fd : keep[i - 4];

		/* Above every target first, so no dup2 below clobbers a source. */
		src[i] = fcntl(from, F_DUPFD_CLOEXEC, n);
		if (src[i] < 0)
			return err_set(err, errno, "cannot arrange the container's descriptors");
	}
	for (int i = 0; i < n; i++)
		if (dup3(src[i], i, i >= 4 ? O_CLOEXEC : 0) < 0)
			return err_set(err, errno, "cannot arrange the container's descriptors");
	null = -1; /* closed below with everything else */
	close_range((unsigned)n, ~0U, 0);
	for (int i = 0; i < n_keep; i++)
		keep[i] = 4 + i;
	return 0;
}

int child_open_null(int rootfd, int fd, int flags, struct sk_err *err)
{
	cleanup_close int null = fs_open_in_root(rootfd, "/dev/null", flags | O_NOCTTY, 0);

	if (null < 0)
		return err_set(err, -null, "cannot open the container's /dev/null");
	if (dup2(null, fd) < 0)
		return err_set(err, errno, "cannot open the container's /dev/null");
	return 0;
}

static int setup_mounts(const struct child_ctx *c, int rootfd, int init_layer,
			struct cgroup_view *view, struct sk_err *err)
{
	const struct rt_spec *spec = c->spec;

	if (mounts_apply(rootfd, spec, init_layer, view, err) < 0)
		return -1;
	/* docker without -i: stdin is /dev/null, the container's own. */
	if (c->stdio[0] < 0 && !spec->process.terminal &&
	    child_open_null(rootfd, STDIN_FILENO, O_RDONLY, err) < 0)
		return -1;
	if (mounts_mask_paths(rootfd, &spec->masked_paths, err) < 0 ||
	    mounts_readonly_paths(rootfd, &spec->readonly_paths, err) < 0)
		return -1;
	if (spec->process.cwd && rootfs_mkdir(rootfd, spec->process.cwd, err) < 0)
		return err_wrap(err, "cannot create the working directory");
	if (spec->process.terminal && console_setup_child(rootfd, c->sync_fd, &c->ws, true, err) < 0)
		return -1;
	return 0;
}

static int setup_root(const struct child_ctx *c, struct user_resolved *user,
		      struct cgroup_view *view, struct sk_err *err)
{
	const struct rt_spec *spec = c->spec;
	cleanup_close int rootfd = -1;
	cleanup_close int init_layer = -1;

	/* Nothing done from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_set(err, errno, "cannot make the mounts private");
	init_layer = mounts_init_layer(spec, err);
	if (init_layer < 0 || rootfs_mount(&spec->root, init_layer, err) < 0)
		return -1;
	rootfd = open(spec->root.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(err, errno, "cannot open '%s'", spec->root.path);
	if (setup_mounts(c, rootfd, init_layer, view, err) < 0)
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
	if (setgroups(n, groups) < 0 && !(errno == EPERM && user_setgroups_denied(0)))
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
	if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return err_set(err, errno, "cannot set the domain name '%s'", spec->domainname);
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
	if (spec->process.cwd && rootfs_enter_cwd(spec->process.cwd, err) < 0)
		return err_wrap(err, "cannot enter the working directory");
	if (build_env(spec, user, &env, err) < 0)
		return -1;
	umask(022);
	sigprocmask(SIG_SETMASK, &c->orig_mask, NULL);
	stub_exec(c->stub_fd, c->init ? STUB_MODE_INIT : STUB_MODE_EXEC, spec->process.args.v,
		  env.v, err);
	strv_release(&env);
	return -1;
}

/* One byte from the parent: 0, or -1 with err saying what did not happen. */
static int wait_for_parent(int sync_fd, const char *what, struct sk_err *err)
{
	char go;
	ssize_t n;

	while ((n = recv(sync_fd, &go, 1, 0)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return err_set(err, n < 0 ? errno : 0, "skiff did not %s", what);
	return 0;
}

/* The parent's first byte: the process is in its cgroups. Then its cgroup
 * namespace and its view of them (while the parent makes the network), then
 * the second byte: its network is there. */
static int wait_for_cgroup(int sync_fd, bool cgroup_ns, struct cgroup_view *view,
			   struct sk_err *err)
{
	if (wait_for_parent(sync_fd, "place the container in its cgroup", err) < 0)
		return -1;
	if (cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
		return err_set(err, errno, "cannot create the cgroup namespace");
	if (mounts_cgroup_view_finish(view, err) < 0)
		return -1;
	return wait_for_parent(sync_fd, "set up the container's network", err);
}

void child_main(struct child_ctx *c)
{
	struct sk_err err = { 0 };
	struct user_resolved user;
	struct cgroup_view view = CGROUP_VIEW_INIT;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* --network container:NAME or slirp4netns's: that namespace, before
	 * its fd is closed */
	if (c->netns_fd >= 0 && setns(c->netns_fd, CLONE_NEWNET) < 0) {
		err_set(&err, errno, "cannot join the container's network namespace");
		child_fail(c->sync_fd, &err);
	}
	/* Nothing of skiff's may be open once the container's code runs. */
	if (child_isolate(c->stdio, c->sync_fd, &c->stub_fd, 1, &err) < 0)
		child_fail(c->sync_fd, &err);
	c->sync_fd = STUB_SYNC_FD;
	/* Modes given during setup (device nodes, mount points) are meant exactly. */
	umask(0);
	if (rlimit_apply(&c->spec->process.rlimits, &err) < 0)
		child_fail(c->sync_fd, &err);
	if ((c->spec->namespaces & CLONE_NEWNET) && ns_loopback_up(&err) < 0)
		child_fail(c->sync_fd, &err);
	if (setup_root(c, &user, &view, &err) < 0)
		child_fail(c->sync_fd, &err);
	/* Nothing of the container has run yet; from here on it is limited. */
	if (wait_for_cgroup(c->sync_fd, c->cgroup_ns, &view, &err) < 0)
		child_fail(c->sync_fd, &err);
	finish_process(c, &user, &err);
	child_fail(c->sync_fd, &err);
}

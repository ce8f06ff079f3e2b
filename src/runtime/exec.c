/*
 * skiff exec (exec.h): a new process inside a running container.
 *
 * Plan in the parent, on the host: everything that needs the host's view
 * (the container's record, /proc/<pid>/{ns,cgroup}, the cgroup.procs files
 * under /sys/fs/cgroup, rlimits, the seccomp program) is read or opened before
 * any namespace is entered. Then the parent enters only the container's PID
 * namespace (setns with CLONE_NEWPID changes where its *children* go, not
 * skiff itself) and forks: the child is born in the container's PID
 * namespace and stays skiff's own child, so skiff can wait for it with a
 * pidfd. The parent puts it in the container's cgroups and lets it go on; the
 * child joins the other namespaces through the container's pidfd, sets up its
 * terminal, user, capabilities and seccomp filter, and execs.
 */
#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/console.h"
#include "runtime/internal.h"
#include "runtime/relay.h"
#include "runtime/seccomp.h"
#include "runtime/state.h"
#include "runtime/stub.h"
#include "runtime/user.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define EXEC_MAX_CGROUPS 16
#define EXEC_PROC_FILE_MAX (1 << 20)
/* docker's CLI exits 1 when the daemon refuses (container not running). */
#define EXIT_DAEMON_ERROR 1

/* Everything the child needs, prepared by the parent. */
struct exec_plan {
	char id[CTR_ID_LEN + 1];
	struct ctr_config cfg;
	pid_t target; /* the container's first process, host pid */
	int target_pidfd;
	int join_ns;			    /* CLONE_NEW* that differ from skiff's own */
	int cgroup_procs[EXEC_MAX_CGROUPS]; /* cgroup.procs of each hierarchy to join */
	int n_cgroups;
	struct strv env;
	const char *cwd, *user;
	struct rt_capabilities caps; /* for uid 0; a non-root user keeps only bounding */
	bool no_new_privs;
	/* Rootless without subordinate ids: the container's user namespace
	 * denies setgroups. Read on the host: the child, outside the
	 * container's PID namespace, has no /proc/self in the container. */
	bool setgroups_denied;
	struct seccomp_prog seccomp;
	struct rlimit limits[RLIM_NLIMITS];
	bool have_limits[RLIM_NLIMITS];
	const struct exec_opts *o;
};

static void plan_release(struct exec_plan *p)
{
	for (int i = 0; i < p->n_cgroups; i++)
		close(p->cgroup_procs[i]);
	if (p->target_pidfd >= 0)
		close(p->target_pidfd);
	strv_release(&p->env);
	seccomp_prog_release(&p->seccomp);
	ctr_config_release(&p->cfg);
}

/* --- the container's record --------------------------------------------- */

static int not_running(const struct exec_plan *p, struct sk_err *err)
{
	err_set(err, 0, "Container %s is not running", p->id);
	err->exit_code = EXIT_DAEMON_ERROR;
	return -1;
}

static int load_container(struct store *s, const char *ref, struct exec_plan *p, struct sk_err *err)
{
	struct ctr_state st;
	cleanup_close int dirfd = -1;

	if (ctr_resolve(s, ref, p->id, err) < 0) {
		err->exit_code = EXIT_DAEMON_ERROR;
		return -1;
	}
	dirfd = ctr_open_dir(s, p->id, err);
	if (dirfd < 0 || ctr_config_read(dirfd, &p->cfg, err) < 0 ||
	    ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	if (st.status == CTR_RESTARTING) {
		err_set(err, 0,
			"Container %s is restarting, wait "
			"until the container is running",
			p->id);
		err->exit_code = EXIT_DAEMON_ERROR;
		return -1;
	}
	/* its process would join a frozen cgroup and hang there */
	if (st.status == CTR_RUNNING && st.paused) {
		err_set(err, 0,
			"Error response from daemon: Container %s is paused, unpause the "
			"container before exec",
			p->id);
		err->exit_code = EXIT_DAEMON_ERROR;
		return -1;
	}
	p->target_pidfd = ctr_pidfd(&st);
	if (p->target_pidfd < 0)
		return not_running(p, err);
	p->target = st.pid;
	return 0;
}

/* The pidfd still names a live process: what we read through /proc/<pid> was
 * the container's, not a reused pid's. */
static bool target_alive(const struct exec_plan *p)
{
	return syscall(SYS_pidfd_send_signal, p->target_pidfd, 0, NULL, 0) == 0;
}

/* --- namespaces ----------------------------------------------------------- */

static const struct {
	const char *name;
	int flag;
} ns_kinds[] = {
    {"user", CLONE_NEWUSER},	 {"mnt", CLONE_NEWNS},	{"pid", CLONE_NEWPID},
    {"uts", CLONE_NEWUTS},	 {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},
    {"cgroup", CLONE_NEWCGROUP},
};

/* Joining a namespace one is already in is an error for user namespaces and
 * pointless for the others: only the ones that differ. */
static int differing_namespaces(struct exec_plan *p, struct sk_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_kinds); i++) {
		char path[64];
		struct stat mine, theirs;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_kinds[i].name);
		if (stat(path, &mine) < 0)
			continue; /* a kernel without this namespace type */
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)p->target, ns_kinds[i].name);
		if (stat(path, &theirs) < 0) {
			if (errno == ENOENT || errno == ESRCH)
				return not_running(p, err);
			return err_set(err, errno, "cannot read '%s'", path);
		}
		if (mine.st_ino != theirs.st_ino || mine.st_dev != theirs.st_dev)
			p->join_ns |= ns_kinds[i].flag;
	}
	return 0;
}

/* --- cgroups -------------------------------------------------------------- */

/* Is every comma-separated item of want among the comma-separated opts? */
static bool options_include(const char *opts, const char *want)
{
	size_t olen = strlen(opts);

	for (const char *w = want; *w;) {
		size_t wl = strcspn(w, ",");
		bool found = false;

		for (const char *o = opts; o < opts + olen; o += strcspn(o, ",") + 1)
			if (strcspn(o, ",") == wl && !strncmp(o, w, wl))
				found = true;
		if (!found)
			return false;
		w += wl;
		w += *w == ',';
	}
	return true;
}

/* Split s in place at spaces into at most max fields; returns the count. */
static int split_fields(char *s, char **fields, int max)
{
	int n = 0;

	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		fields[n++] = s;
		s += strcspn(s, " ");
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* The mount point and root of the hierarchy named by a /proc/PID/cgroup line's
 * controller list ("" = cgroup2), from our /proc/self/mountinfo:
 * "id parent dev root mountpoint opts [tags] - fstype source superopts". */
static bool find_hierarchy(const char *mountinfo, const char *controllers, char *mnt,
			   size_t mnt_len, char *root, size_t root_len)
{
	bool v2 = controllers[0] == '\0';

	for (const char *line = mountinfo; *line;) {
		const char *eol = strchrnul(line, '\n');
		char buf[4096], *sep, *head[5], *tail[3];

		snprintf(buf, sizeof(buf), "%.*s", (int)(eol - line), line);
		line = *eol ? eol + 1 : eol;
		sep = strstr(buf, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		if (split_fields(buf, head, 5) < 5 || split_fields(sep + 3, tail, 3) < 3)
			continue;
		if (v2 ? strcmp(tail[0], "cgroup2") != 0
		       : strcmp(tail[0], "cgroup") != 0 || !options_include(tail[2], controllers))
			continue;
		snprintf(root, root_len, "%s", head[3]);
		snprintf(mnt, mnt_len, "%s", head[4]);
		return true;
	}
	return false;
}

/* Our own path in the hierarchy of "id:controllers", or NULL. */
static const char *own_cgroup_path(const char *self, const char *key, size_t key_len)
{
	for (const char *line = self; *line;) {
		const char *eol = strchrnul(line, '\n');

		if ((size_t)(eol - line) > key_len && !strncmp(line, key, key_len))
			return line + key_len;
		line = *eol ? eol + 1 : eol;
	}
	return NULL;
}

static int open_cgroup_procs(struct exec_plan *p, const char *mountinfo, const char *controllers,
			     const char *path, struct sk_err *err)
{
	char mnt[1024], root[1024], file[4096];
	size_t rl;
	int fd;

	if (!find_hierarchy(mountinfo, controllers, mnt, sizeof(mnt), root, sizeof(root))) {
		log_debug("exec: no mount of cgroup hierarchy '%s', not joined", controllers);
		return 0;
	}
	rl = strcmp(root, "/") ? strlen(root) : 0;
	if (strncmp(path, root, rl) || (path[rl] && path[rl] != '/')) {
		log_debug("exec: cgroup '%s' is outside the mount of '%s'", path, controllers);
		return 0;
	}
	snprintf(file, sizeof(file), "%s%s/cgroup.procs", mnt, path + rl);
	if (p->n_cgroups == EXEC_MAX_CGROUPS)
		return err_set(err, 0, "too many cgroup hierarchies");
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", file);
	p->cgroup_procs[p->n_cgroups++] = fd;
	return 0;
}

/* For each line "id:controllers:path" of the container's /proc/PID/cgroup
 * whose path differs from ours: open that cgroup's cgroup.procs. Works the
 * same on v1 (one line per hierarchy), v2 ("0::path") and hybrid (both). */
static int plan_cgroups(struct exec_plan *p, const char *theirs, const char *self,
			const char *mountinfo, struct sk_err *err)
{
	for (const char *line = theirs; *line;) {
		const char *eol = strchrnul(line, '\n');
		char entry[4096], *c1, *c2;
		const char *mine;

		snprintf(entry, sizeof(entry), "%.*s", (int)(eol - line), line);
		line = *eol ? eol + 1 : eol;
		c1 = strchr(entry, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		mine = own_cgroup_path(self, entry, (size_t)(c2 + 1 - entry));
		if (mine && strlen(c2 + 1) == strcspn(mine, "\n") &&
		    !strncmp(mine, c2 + 1, strlen(c2 + 1)))
			continue; /* already there */
		*c2 = '\0';
		if (open_cgroup_procs(p, mountinfo, c1 + 1, c2 + 1, err) < 0)
			return -1;
	}
	return 0;
}

static int read_proc(const char *path, struct buf *b, struct sk_err *err)
{
	if (fs_read_file(AT_FDCWD, path, EXEC_PROC_FILE_MAX, b, err) < 0)
		return -1;
	if (!b->data && buf_append(b, "", 0) < 0)
		return err_set(err, ENOMEM, "cannot read '%s'", path);
	return 0;
}

static int find_cgroups(struct exec_plan *p, struct sk_err *err)
{
	cleanup_buf struct buf theirs = BUF_INIT(EXEC_PROC_FILE_MAX);
	cleanup_buf struct buf self = BUF_INIT(EXEC_PROC_FILE_MAX);
	cleanup_buf struct buf mountinfo = BUF_INIT(EXEC_PROC_FILE_MAX);
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)p->target);
	if (read_proc(path, &theirs, err) < 0)
		return target_alive(p) ? -1 : not_running(p, err);
	if (read_proc("/proc/self/cgroup", &self, err) < 0 ||
	    read_proc("/proc/self/mountinfo", &mountinfo, err) < 0)
		return -1;
	return plan_cgroups(p, theirs.data, self.data, mountinfo.data, err);
}

/* --- process attributes --------------------------------------------------- */

/* docker: PATH (when the container has none), HOSTNAME, TERM with -t, then
 * the container's env, then -e / --env-file; later entries replace earlier. */
static int plan_env(struct exec_plan *p, struct sk_err *err)
{
	const struct ctr_config *c = &p->cfg;
	cleanup_free char *hostname = NULL;

	if (!env_get(c->env.v, "PATH") && strv_push(&p->env, "PATH=" SPEC_DEFAULT_PATH, err) < 0)
		return -1;
	if (c->hostname && asprintf(&hostname, "HOSTNAME=%s", c->hostname) < 0)
		return err_set(err, ENOMEM, "cannot build the environment");
	if (hostname && env_set(&p->env, hostname, NULL, err) < 0)
		return -1;
	if (p->o->tty && !p->o->detach && env_set(&p->env, "TERM=xterm", NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < c->env.n; i++)
		if (env_set(&p->env, c->env.v[i], NULL, err) < 0)
			return -1;
	for (size_t i = 0; i < p->o->env.n; i++)
		if (env_set(&p->env, p->o->env.v[i], getenv, err) < 0)
			return -1;
	return 0;
}

/* CapBnd of the container's first process: for records that carry no
 * capabilities (written before skiff recorded them). */
static int target_bounding(const struct exec_plan *p, uint64_t *out, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(EXEC_PROC_FILE_MAX);
	char path[64];
	const char *line;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->target);
	if (read_proc(path, &b, err) < 0)
		return -1;
	line = strstr(b.data, "\nCapBnd:");
	if (!line)
		return err_set(err, 0, "no CapBnd in '%s'", path);
	*out = strtoull(line + strlen("\nCapBnd:"), NULL, 16);
	return 0;
}

static int plan_caps(struct exec_plan *p, struct sk_err *err)
{
	struct rt_capabilities *caps = &p->caps;

	caps->set = true;
	if (p->o->privileged) {
		if (caps_read_bounding(&caps->bounding, err) < 0)
			return -1;
		caps->effective = caps->bounding;
	} else if (p->cfg.cap_bounding || p->cfg.cap_effective || p->cfg.privileged) {
		caps->bounding = p->cfg.cap_bounding;
		caps->effective = p->cfg.cap_effective;
	} else {
		if (target_bounding(p, &caps->bounding, err) < 0)
			return -1;
		caps->effective = caps->bounding;
	}
	caps->permitted = caps->effective;
	return 0;
}

/* The container's rlimits are those of its first process (set by run). */
static void plan_rlimits(struct exec_plan *p)
{
	for (int r = 0; r < RLIM_NLIMITS; r++)
		p->have_limits[r] =
		    prlimit(p->target, (enum __rlimit_resource)r, NULL, &p->limits[r]) == 0;
}

static int plan_seccomp(struct store *s, struct exec_plan *p, struct sk_err *err)
{
	char cache[sizeof(s->root) + 32];

	snprintf(cache, sizeof(cache), "%s/cache/seccomp", s->root);
	if (seccomp_prepare(p->cfg.seccomp, p->caps.bounding, cache, &p->seccomp, err) < 0)
		return err_wrap(err, "seccomp");
	return 0;
}

static int make_plan(struct store *s, const char *ref, struct exec_plan *p, struct sk_err *err)
{
	if (load_container(s, ref, p, err) < 0 || differing_namespaces(p, err) < 0 ||
	    find_cgroups(p, err) < 0 || plan_env(p, err) < 0 || plan_caps(p, err) < 0 ||
	    plan_seccomp(s, p, err) < 0)
		return -1;
	plan_rlimits(p);
	p->setgroups_denied = user_setgroups_denied(p->target);
	p->cwd = p->o->cwd && *p->o->cwd ? p->o->cwd : p->cfg.cwd && *p->cfg.cwd ? p->cfg.cwd : "/";
	p->user = p->o->user ? p->o->user : p->cfg.user;
	p->no_new_privs = p->cfg.no_new_privileges;
	return target_alive(p) ? 0 : not_running(p, err);
}

/* --- the child ------------------------------------------------------------ */

/* The container's own /dev/null where skiff relays nothing: stdin without
 * -i, everything with -d. */
static int child_stdio(const struct exec_plan *p, struct sk_err *err)
{
	cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return err_set(err, errno, "cannot open the container's root");
	if (p->o->detach) {
		for (int fd = 0; fd < 3; fd++)
			if (child_open_null(rootfd, fd, fd ? O_WRONLY : O_RDONLY, err) < 0)
				return -1;
		return 0;
	}
	if (!p->o->tty && !p->o->interactive)
		return child_open_null(rootfd, STDIN_FILENO, O_RDONLY, err);
	return 0;
}

static int child_credentials(const struct exec_plan *p, const struct user_resolved *u,
			     struct sk_err *err)
{
	if (setgroups(u->n_groups, u->groups) < 0 && !(errno == EPERM && p->setgroups_denied))
		return err_set(err, errno, "cannot set the supplementary groups");
	if (setgid(u->gid) < 0)
		return err_set(err, errno, "cannot set gid %u", (unsigned)u->gid);
	if (setuid(u->uid) < 0)
		return err_set(err, errno, "cannot set uid %u", (unsigned)u->uid);
	return 0;
}

static void child_rlimits(const struct exec_plan *p)
{
	for (int r = 0; r < RLIM_NLIMITS; r++)
		if (p->have_limits[r])
			setrlimit((enum __rlimit_resource)r, &p->limits[r]);
}

/* Failures before the command starts are the runtime's: docker's exec
 * reports them as 126 ("OCI runtime exec failed"). */
static int runtime_failure(struct sk_err *err)
{
	err->exit_code = EXIT_CANNOT_INVOKE;
	return -1;
}

static int child_user(const struct exec_plan *p, struct user_resolved *u, struct sk_err *err)
{
	cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return err_set(err, errno, "cannot open the container's root");
	if (user_resolve_in_root(rootfd, p->user, u, err) < 0)
		return runtime_failure(err);
	return 0;
}

/* docker's order: bounding set while root, the user, capabilities, then
 * no_new_privs and seccomp last. Without no_new_privs, loading a filter needs
 * CAP_SYS_ADMIN, so it is loaded before the user changes (runc does the same). */
static int child_security(const struct exec_plan *p, const struct user_resolved *u,
			  struct sk_err *err)
{
	struct rt_capabilities caps = p->caps;

	if (u->uid != 0)
		caps.effective = caps.permitted = 0;
	if (caps_drop_bounding(caps.bounding, err) < 0)
		return -1;
	if (!p->no_new_privs && seccomp_prog_load(&p->seccomp, err) < 0)
		return -1;
	if (child_credentials(p, u, err) < 0 || caps_set(&caps, err) < 0)
		return -1;
	if (p->no_new_privs &&
	    (caps_set_no_new_privs(err) < 0 || seccomp_prog_load(&p->seccomp, err) < 0))
		return -1;
	return 0;
}

static int child_env_home(const struct exec_plan *p, const struct user_resolved *u,
			  struct strv *env, struct sk_err *err)
{
	char home[sizeof(u->home) + 8];

	for (size_t i = 0; i < p->env.n; i++)
		if (strv_push(env, p->env.v[i], err) < 0)
			return -1;
	if (env_get(env->v, "HOME"))
		return 0;
	snprintf(home, sizeof(home), "HOME=%s", u->home);
	return strv_push(env, home, err);
}

/* Wait for the parent's go (cgroups joined); EOF means it gave up. */
static int child_wait_go(int sync_fd, struct sk_err *err)
{
	char b;
	ssize_t n;

	do
		n = recv(sync_fd, &b, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return err_set(err, 0, "skiff exited during the exec's start");
	return 0;
}

/* setns fails with ESRCH when the container's process is gone meanwhile. */
static int join_failed(const struct exec_plan *p, struct sk_err *err)
{
	int e = errno;

	if (!target_alive(p) || e == ESRCH)
		return not_running(p, err);
	return err_set(err, e, "cannot join the container's namespaces");
}

/* The exec'd process's parent: outside the container's PID namespace (no
 * process of the container can see it or its /proc), it joins the other
 * namespaces and execs skiff-init, which forks the command into the
 * container's PID namespace. *sync_fd follows the socket to STUB_SYNC_FD. */
static int child_run(const struct exec_plan *p, int *sync_fd, int stub_fd, const int stdio[3],
		     const struct winsize *ws, const sigset_t *orig, struct sk_err *err)
{
	int keep[2] = { stub_fd, p->target_pidfd };
	int join = p->join_ns & ~CLONE_NEWUSER; /* the parent joined that one */
	struct user_resolved u;
	struct strv env = { 0 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (child_isolate(stdio, *sync_fd, keep, 2, err) < 0)
		return -1;
	*sync_fd = STUB_SYNC_FD;
	if (child_wait_go(*sync_fd, err) < 0)
		return -1;
	/* CLONE_NEWPID here is where skiff-init's child will be born. */
	if (join && setns(keep[1], join) < 0)
		return join_failed(p, err);
	close(keep[1]);
	if (child_stdio(p, err) < 0)
		return -1;
	if (p->o->tty && !p->o->detach) {
		cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (rootfd < 0)
			return err_set(err, errno, "cannot open the container's root");
		if (console_setup_child(rootfd, *sync_fd, ws, false, err) < 0)
			return -1;
	}
	if (child_user(p, &u, err) < 0)
		return -1;
	child_rlimits(p);
	if (rootfs_enter_cwd(p->cwd, err) < 0) {
		err_wrap(err, "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
		return runtime_failure(err);
	}
	if (child_env_home(p, &u, &env, err) < 0 || child_security(p, &u, err) < 0)
		return -1;
	sigprocmask(SIG_SETMASK, orig, NULL);
	stub_exec(keep[0], p->o->detach ? STUB_MODE_DETACH : STUB_MODE_INIT, p->o->args, env.v,
		  err);
	strv_release(&env);
	return -1;
}

/* --- the parent ----------------------------------------------------------- */

static int enter_cgroups(const struct exec_plan *p, pid_t pid, struct sk_err *err)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%d", (int)pid);

	for (int i = 0; i < p->n_cgroups; i++)
		if (write(p->cgroup_procs[i], num, (size_t)n) != n)
			return err_set(err, errno, "cannot join the container's cgroup");
	return 0;
}


/* After the fork: put the child in the container's cgroups, let it go on,
 * and read its report until it execs. On failure the child is reaped. */
static int start_child(const struct exec_plan *p, pid_t pid, int pidfd, int sock, int *master,
		       struct sk_err *err)
{
	if (enter_cgroups(p, pid, err) < 0)
		goto fail;
	if (send(sock, "g", 1, MSG_NOSIGNAL) != 1) {
		err_set(err, errno, "cannot start the process");
		goto fail;
	}
	if (sync_read_child(sock, master, "the exec'd process", err) < 0) {
		ns_reap(pidfd);
		return -1;
	}
	return 0;
fail:
	kill(pid, SIGKILL);
	ns_reap(pidfd);
	return -1;
}

static pid_t fork_child(const struct exec_plan *p, struct entry *l, const sigset_t *orig,
			struct sk_err *err)
{
	struct winsize ws;
	pid_t pid;

	console_window(&ws); /* skiff's terminal, before the child drops it */
	/* Rootless: the container's namespaces belong to its user namespace;
	 * only inside it does skiff have the capabilities to join them. */
	if ((p->join_ns & CLONE_NEWUSER) && setns(p->target_pidfd, CLONE_NEWUSER) < 0)
		return join_failed(p, err);
	pid = fork();
	if (pid == 0) {
		struct sk_err cerr = { 0 };
		int sync_fd = l->child_sock;

		child_run(p, &sync_fd, l->stub_fd, l->child_stdio, &ws, orig, &cerr);
		child_fail(sync_fd, &cerr);
	}
	if (pid < 0)
		return err_set(err, errno, "cannot start the process");
	return pid;
}

static int launch(const struct exec_plan *p, const sigset_t *sigs, const sigset_t *orig,
		  int *status, struct sk_err *err)
{
	struct entry l = ENTRY_INIT;
	cleanup_close int sigfd = -1;
	pid_t pid;
	int ret = -1;

	l.io.input = p->o->interactive;
	if (entry_prepare(&l, !p->o->tty && !p->o->detach, err) < 0)
		goto out;
	pid = fork_child(p, &l, orig, err);
	entry_drop_child_side(&l);
	if (pid < 0)
		goto out;
	/* Our own child: its pid cannot be reused before we reap it. */
	l.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (l.pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		err_set(err, errno, "cannot watch the process");
		goto out;
	}
	if (start_child(p, pid, l.pidfd, l.sock, &l.master, err) < 0)
		goto out;
	if (p->o->detach) {
		/* skiff-init exits as soon as the command runs (stub_proto.h). */
		ns_reap(l.pidfd);
		*status = 0;
		ret = 0;
		goto out;
	}
	sigfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		err_set(err, errno, "cannot watch signals");
		goto out;
	}
	l.io.master = l.master;
	ret = relay_run(&l.io, l.pidfd, sigfd, true, status, err);
out:
	entry_release(&l);
	return ret;
}

static void forwarded_signals(sigset_t *set)
{
	sigemptyset(set);
	for (const int *s =
		 (const int[]){SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, 0};
	     *s; s++)
		sigaddset(set, *s);
}

int exec_run(struct store *s, const char *ref, const struct exec_opts *o, int *status,
	     struct sk_err *err)
{
	struct exec_plan p = {.target_pidfd = -1, .o = o};
	sigset_t sigs, orig;
	int ret = -1;

	if (!o->args || !o->args[0])
		return err_set(err, 0, "no command given");
	if (make_plan(s, ref, &p, err) == 0) {
		forwarded_signals(&sigs);
		sigprocmask(SIG_BLOCK, &sigs, &orig);
		ret = launch(&p, &sigs, &orig, status, err);
		sigprocmask(SIG_SETMASK, &orig, NULL);
	}
	plan_release(&p);
	return ret;
}

/*
 * Container records on disk (state.h): config.json, state.json, the lock,
 * name/id lookup and liveness. JSON through jansson, as everything else that
 * skiff reads back or shows (inspect prints these fields).
 *
 * state.json is replaced with temp + rename but not fsynced: readers always
 * see a whole file, and after a crash every "running" state is stale anyway
 * (its monitor is gone), which ctr_state_load() detects.
 */
#include "runtime/state.h"
#include "net/bridge.h"
#include "runtime/container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "net/ipam.h"
#include "runtime/cgroup.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define CONFIG_FILE "config.json"
#define STATE_FILE "state.json"
#define LOCK_FILE "lock"
#define CONFIG_MAX (1u << 20)
#define STATE_MAX (64u << 10)

static void json_decref_p(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(json_decref_p)))

static const char *const status_names[] = {
	[CTR_CREATED] = "created",
	[CTR_RUNNING] = "running",
	[CTR_RESTARTING] = "restarting",
	[CTR_EXITED] = "exited",
};

const char *ctr_status_name(enum ctr_status st)
{
	return (unsigned)st < ARRAY_SIZE(status_names) ? status_names[st] : "unknown";
}

static int status_from_name(const char *s, enum ctr_status *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (s && !strcmp(s, status_names[i])) {
			*out = (enum ctr_status)i;
			return 0;
		}
	return -1;
}

/* --- writing ---------------------------------------------------------- */

/* temp + rename in dirfd, no fsync (see the top of the file). */
static int replace_file(int dirfd, const char *name, const char *data, size_t len,
			struct sk_err *err)
{
	char tmp[64];
	cleanup_close int fd = -1;
	int r;

	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, errno, "cannot create '%s'", tmp);
	r = fs_write_all(fd, data, len);
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return err_set(err, -r, "cannot write '%s'", name);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = errno;
		unlinkat(dirfd, tmp, 0);
		return err_set(err, r, "cannot replace '%s'", name);
	}
	return 0;
}

static int write_json(int dirfd, const char *name, json_t *j, struct sk_err *err)
{
	cleanup_free char *text = NULL;

	if (!j || !(text = json_dumps(j, JSON_COMPACT)))
		return err_set(err, ENOMEM, "cannot encode '%s'", name);
	return replace_file(dirfd, name, text, strlen(text), err);
}

static json_t *strv_to_json(const struct strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static const char *const restart_names[] = {
	[RESTART_NO] = "no",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
	[RESTART_UNLESS_STOPPED] = "unless-stopped",
};

int ctr_config_write(int dirfd, const struct ctr_config *c, struct sk_err *err)
{
	cleanup_json json_t *j = json_pack(
		"{s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:b, s:b, s:s, "
		"s:i, s:I, s:i, s:b, s:b, s:I, s:I, s:o, s:i}",
		"id", c->id, "name", c->name, "image", str_or_null(c->image), "image_id",
		str_or_null(c->image_id), "created", (json_int_t)c->created, "hostname",
		str_or_null(c->hostname), "args", strv_to_json(&c->args), "env",
		strv_to_json(&c->env), "cwd", str_or_null(c->cwd), "user", str_or_null(c->user),
		"tty", c->tty, "interactive", c->interactive, "run_argv", strv_to_json(&c->run_argv),
		"detached", c->detached, "auto_remove", c->auto_remove, "restart",
		restart_names[c->restart], "restart_max", (int)c->restart_max, "log_max_size",
		(json_int_t)c->log_max_size, "log_max_file", (int)c->log_max_file, "privileged",
		c->privileged, "no_new_privileges", c->no_new_privileges, "cap_bounding",
		(json_int_t)c->cap_bounding, "cap_effective", (json_int_t)c->cap_effective,
		"seccomp", str_or_null(c->seccomp), "stop_signal", c->stop_signal);

	return write_json(dirfd, CONFIG_FILE, j, err);
}

int ctr_state_write(int dirfd, const struct ctr_state *st, struct sk_err *err)
{
	cleanup_json json_t *j = json_pack(
		"{s:s, s:i, s:I, s:i, s:I, s:i, s:b, s:b, s:i, s:I, s:I, s:s}", "status",
		ctr_status_name(st->status), "pid", (int)st->pid, "pid_start",
		(json_int_t)st->pid_start, "monitor_pid", (int)st->monitor_pid, "monitor_start",
		(json_int_t)st->monitor_start, "exit_code", st->exit_code, "oom_killed",
		st->oom_killed, "stopped_by_user", st->stopped_by_user, "restart_count",
		(int)st->restart_count, "started_at", (json_int_t)st->started_at, "finished_at",
		(json_int_t)st->finished_at, "error", st->error);

	return write_json(dirfd, STATE_FILE, j, err);
}

/* --- reading ---------------------------------------------------------- */

static int read_json(int dirfd, const char *name, size_t max, json_t **out, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(max);
	json_error_t je;

	if (fs_read_file(dirfd, name, max, &b, err) < 0)
		return -1;
	*out = json_loadb(b.data ? b.data : "", b.len, 0, &je);
	if (!*out || !json_is_object(*out))
		return err_set(err, EINVAL, "'%s' is corrupt: %s", name, *out ? "not an object" : je.text);
	return 0;
}

static int dup_json_string(json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = strdup(json_string_value(v));
	return *out ? 0 : -1;
}

static int copy_json_string(json_t *obj, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) >= cap)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int json_to_strv(json_t *obj, const char *key, struct strv *out, struct sk_err *err)
{
	json_t *a = json_object_get(obj, key), *v;
	size_t i;

	if (a && !json_is_array(a))
		return err_set(err, EINVAL, "'%s' is not a list", key);
	json_array_foreach (a, i, v) {
		if (!json_is_string(v))
			return err_set(err, EINVAL, "'%s' holds a non-string", key);
		if (strv_push(out, json_string_value(v), err) < 0)
			return -1;
	}
	return 0;
}

static int64_t json_int_of(json_t *obj, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(obj, key));
}

static int restart_from_name(const char *s, enum ctr_restart *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(restart_names); i++)
		if (s && !strcmp(s, restart_names[i])) {
			*out = (enum ctr_restart)i;
			return 0;
		}
	return -1;
}

static int config_from_json(json_t *j, struct ctr_config *c, struct sk_err *err)
{
	if (copy_json_string(j, "id", c->id, sizeof(c->id)) < 0 ||
	    copy_json_string(j, "name", c->name, sizeof(c->name)) < 0 ||
	    dup_json_string(j, "image", &c->image) < 0 ||
	    dup_json_string(j, "image_id", &c->image_id) < 0 ||
	    dup_json_string(j, "hostname", &c->hostname) < 0 ||
	    dup_json_string(j, "cwd", &c->cwd) < 0 || dup_json_string(j, "user", &c->user) < 0 ||
	    dup_json_string(j, "seccomp", &c->seccomp) < 0 ||
	    restart_from_name(json_string_value(json_object_get(j, "restart")), &c->restart) < 0)
		return err_set(err, EINVAL, "'" CONFIG_FILE "' is corrupt");
	if (json_to_strv(j, "args", &c->args, err) < 0 || json_to_strv(j, "env", &c->env, err) < 0 ||
	    json_to_strv(j, "run_argv", &c->run_argv, err) < 0)
		return err_wrap(err, "'" CONFIG_FILE "'");
	c->created = json_int_of(j, "created");
	c->tty = json_is_true(json_object_get(j, "tty"));
	c->interactive = json_is_true(json_object_get(j, "interactive"));
	c->detached = json_is_true(json_object_get(j, "detached"));
	c->auto_remove = json_is_true(json_object_get(j, "auto_remove"));
	c->restart_max = (unsigned)json_int_of(j, "restart_max");
	c->log_max_size = json_int_of(j, "log_max_size");
	c->log_max_file = (unsigned)json_int_of(j, "log_max_file");
	c->privileged = json_is_true(json_object_get(j, "privileged"));
	c->no_new_privileges = json_is_true(json_object_get(j, "no_new_privileges"));
	c->cap_bounding = (uint64_t)json_int_of(j, "cap_bounding");
	c->cap_effective = (uint64_t)json_int_of(j, "cap_effective");
	c->stop_signal = (int)json_int_of(j, "stop_signal");
	if (c->stop_signal <= 0 || c->stop_signal >= NSIG)
		c->stop_signal = SIGTERM;
	return 0;
}

int ctr_config_read(int dirfd, struct ctr_config *c, struct sk_err *err)
{
	cleanup_json json_t *j = NULL;

	memset(c, 0, sizeof(*c));
	if (read_json(dirfd, CONFIG_FILE, CONFIG_MAX, &j, err) < 0 ||
	    config_from_json(j, c, err) < 0) {
		ctr_config_release(c);
		return -1;
	}
	return 0;
}

void ctr_config_release(struct ctr_config *c)
{
	free(c->image);
	free(c->image_id);
	free(c->hostname);
	free(c->cwd);
	free(c->user);
	free(c->seccomp);
	strv_release(&c->args);
	strv_release(&c->env);
	strv_release(&c->run_argv);
	memset(c, 0, sizeof(*c));
}

int ctr_state_read(int dirfd, struct ctr_state *st, struct sk_err *err)
{
	cleanup_json json_t *j = NULL;

	memset(st, 0, sizeof(*st));
	if (faccessat(dirfd, STATE_FILE, F_OK, 0) < 0 && errno == ENOENT)
		return 0; /* CTR_CREATED */
	if (read_json(dirfd, STATE_FILE, STATE_MAX, &j, err) < 0)
		return -1;
	if (status_from_name(json_string_value(json_object_get(j, "status")), &st->status) < 0)
		return err_set(err, EINVAL, "'" STATE_FILE "' is corrupt: bad status");
	st->pid = (pid_t)json_int_of(j, "pid");
	st->pid_start = (unsigned long long)json_int_of(j, "pid_start");
	st->monitor_pid = (pid_t)json_int_of(j, "monitor_pid");
	st->monitor_start = (unsigned long long)json_int_of(j, "monitor_start");
	st->exit_code = (int)json_int_of(j, "exit_code");
	st->oom_killed = json_is_true(json_object_get(j, "oom_killed"));
	st->stopped_by_user = json_is_true(json_object_get(j, "stopped_by_user"));
	st->restart_count = (unsigned)json_int_of(j, "restart_count");
	st->started_at = json_int_of(j, "started_at");
	st->finished_at = json_int_of(j, "finished_at");
	copy_json_string(j, "error", st->error, sizeof(st->error));
	return 0;
}

int64_t ctr_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* --- liveness --------------------------------------------------------- */

unsigned long long ctr_process_start_time(pid_t pid)
{
	char path[64], data[1024];
	cleanup_close int fd = -1;
	unsigned long long start = 0;
	ssize_t n;
	char *p;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, data, sizeof(data) - 1)) <= 0)
		return 0;
	data[n] = '\0';
	p = strrchr(data, ')'); /* the command name may contain anything */
	if (!p || p[1] != ' ')
		return 0;
	/* A zombie is dead: only its parent's wait() is missing (the init of
	 * some machines reaps orphans late). */
	if (p[2] == 'Z' || p[2] == 'X')
		return 0;
	/* After ")": field 3 (state) ... field 22 (starttime). */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

bool ctr_process_alive(pid_t pid, unsigned long long start)
{
	return pid > 0 && start != 0 && ctr_process_start_time(pid) == start;
}

int ctr_pidfd(const struct ctr_state *st)
{
	int fd;

	if (st->status != CTR_RUNNING || st->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (fd < 0)
		return -1;
	/* Opened first, checked second: if the start time still matches now, the
	 * pidfd refers to the container's process even if it exits later. */
	if (!ctr_process_alive(st->pid, st->pid_start)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int ctr_lock(int dirfd, struct sk_err *err)
{
	int fd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_set(err, errno, "cannot open the container's lock");
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return err_set(err, e, "cannot lock the container");
		}
	}
	return fd;
}

int ctr_state_update(int dirfd, ctr_state_fn fn, void *arg, struct sk_err *err)
{
	cleanup_close int lock = ctr_lock(dirfd, err);
	struct ctr_state st;
	int r;

	if (lock < 0 || ctr_state_read(dirfd, &st, err) < 0)
		return -1;
	r = fn(&st, arg);
	if (r != 0)
		return r;
	return ctr_state_write(dirfd, &st, err);
}

void ctr_state_exited(struct ctr_state *st, int exit_code)
{
	st->status = CTR_EXITED;
	st->exit_code = exit_code;
	st->pid = 0;
	st->pid_start = 0;
	st->finished_at = ctr_now_ns();
}

void ctr_state_owned_by_me(struct ctr_state *st)
{
	st->monitor_pid = getpid();
	st->monitor_start = ctr_process_start_time(st->monitor_pid);
}

static void remove_cgroup_leftovers(int dirfd)
{
	struct sk_err err = { 0 };
	struct ctr_config c;
	char name[CTR_ID_LEN + 8];

	if (ctr_config_read(dirfd, &c, &err) < 0)
		return;
	snprintf(name, sizeof(name), "skiff/%s", c.id);
	ctr_config_release(&c);
	if (strlen(name) == 6 + CTR_ID_LEN && cgroup_remove_leftovers(CGROUP_ROOT, name, &err) < 0)
		log_debug("%s", err.msg);
}

static bool monitor_gone(const struct ctr_state *st)
{
	return (st->status == CTR_RUNNING || st->status == CTR_RESTARTING) &&
	       !ctr_process_alive(st->monitor_pid, st->monitor_start);
}

/* What a dead owner held of the bridge network (published ports, address):
 * the store and id come from the directory's own path (.../containers/ID). */
static void release_network_of_dead(int dirfd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;
	char *id, *root_end;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	id = strrchr(path, '/');
	if (!id || strlen(id + 1) != CTR_ID_LEN)
		return;
	*id++ = '\0';
	root_end = strrchr(path, '/'); /* "/containers" */
	if (!root_end)
		return;
	*root_end = '\0';
	container_net_release(path, id, true);
	/* where one owner died, others may have (with their store) */
	bridge_remove_orphans();
}

int ctr_state_load(int dirfd, struct ctr_state *st, struct sk_err *err)
{
	cleanup_close int lock = -1;

	if (ctr_state_read(dirfd, st, err) < 0)
		return -1;
	if (!monitor_gone(st))
		return 0;
	/* Re-check under the lock: the monitor may have just recorded the exit. */
	lock = ctr_lock(dirfd, err);
	if (lock < 0 || ctr_state_read(dirfd, st, err) < 0)
		return -1;
	if (!monitor_gone(st))
		return 0;
	snprintf(st->error, sizeof(st->error), "monitor (pid %d) died", (int)st->monitor_pid);
	/* Its container cannot outlive it (PDEATHSIG): kill a straggler anyway,
	 * and remove the cgroup the monitor had no chance to remove. */
	if (ctr_process_alive(st->pid, st->pid_start))
		kill(st->pid, SIGKILL);
	remove_cgroup_leftovers(dirfd);
	release_network_of_dead(dirfd);
	ctr_state_exited(st, CTR_EXIT_MONITOR_DIED);
	return ctr_state_write(dirfd, st, err);
}

/* --- lookup ----------------------------------------------------------- */

static bool is_container_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
			return false;
	return n == CTR_ID_LEN;
}

int ctr_open_dir(struct store *s, const char *id, struct sk_err *err)
{
	char rel[CTR_ID_LEN + 16];
	int fd;

	if (!is_container_id(id))
		return err_set(err, EINVAL, "invalid container id '%s'", id);
	snprintf(rel, sizeof(rel), CTR_DIR "/%s", id);
	fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return err_set(err, errno, "cannot open container %s", id);
	if (fd < 0) {
		/* ENOENT for callers, without strerror's tail: the words say it */
		err_set(err, 0, "No such container: %s", id);
		err->errnum = ENOENT;
	}
	return fd;
}

int ctr_for_each(struct store *s, ctr_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_close int fd = openat(s->root_fd, CTR_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "cannot open '%s'", CTR_DIR);
	d = fdopendir(fd);
	if (!d)
		return err_set(err, errno, "cannot read '%s'", CTR_DIR);
	steal_fd(&fd);
	while (ret >= 0 && (de = readdir(d))) {
		int cfd;

		if (!is_container_id(de->d_name))
			continue;
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue; /* removed meanwhile */
		ret = fn(s, de->d_name, cfd, ctx);
		close(cfd);
	}
	closedir(d);
	return ret < 0 ? -1 : 0;
}

static int resolve_name(struct store *s, const char *ref, char id[CTR_ID_LEN + 1])
{
	char link[CTR_NAME_MAX + 32];
	ssize_t n;

	if (strlen(ref) >= CTR_NAME_MAX || strchr(ref, '/'))
		return -1;
	snprintf(link, sizeof(link), CTR_NAMES_DIR "/%s", ref);
	n = readlinkat(s->root_fd, link, id, CTR_ID_LEN + 1);
	if (n != CTR_ID_LEN)
		return -1;
	id[n] = '\0';
	return is_container_id(id) ? 0 : -1;
}

struct prefix_match {
	const char *prefix;
	size_t len;
	char *id;
	int matches;
};

static int match_prefix(struct store *s, const char *id, int dirfd, void *ctx)
{
	struct prefix_match *m = ctx;

	if (strncmp(id, m->prefix, m->len) == 0) {
		if (m->matches++ == 0)
			memcpy(m->id, id, CTR_ID_LEN + 1);
	}
	return 0;
}

int ctr_resolve(struct store *s, const char *ref, char id[CTR_ID_LEN + 1], struct sk_err *err)
{
	struct prefix_match m = { .prefix = ref, .len = strlen(ref), .id = id };
	struct stat st;
	char rel[CTR_ID_LEN + 16];

	/* docker's order: full id, then name, then a unique id prefix. */
	if (is_container_id(ref)) {
		snprintf(rel, sizeof(rel), CTR_DIR "/%s", ref);
		if (fstatat(s->root_fd, rel, &st, 0) == 0) {
			memcpy(id, ref, CTR_ID_LEN + 1);
			return 0;
		}
	}
	if (resolve_name(s, ref, id) == 0) {
		snprintf(rel, sizeof(rel), CTR_DIR "/%s", id);
		if (fstatat(s->root_fd, rel, &st, 0) == 0)
			return 0;
	}
	for (const char *p = ref; *p; p++)
		if (!isxdigit((unsigned char)*p))
			m.len = 0;
	if (m.len > 0 && m.len <= CTR_ID_LEN && ctr_for_each(s, match_prefix, &m, err) < 0)
		return -1;
	if (m.matches == 1)
		return 0;
	if (m.matches > 1)
		return err_set(err, 0, "multiple containers match '%s': use more of the id", ref);
	err_set(err, 0, "No such container: %s", ref);
	err->errnum = ENOENT;
	return -1;
}

int ctr_remove_files(struct store *s, const char *id, struct sk_err *err)
{
	char rel[CTR_ID_LEN + 16], link[CTR_NAME_MAX + 32];
	struct ctr_config c;
	int fd = ctr_open_dir(s, id, err);

	/* What a dead owner left of its bridge network goes with it. */
	container_net_release(s->root, id, false);
	if (fd < 0)
		return err->errnum == ENOENT ? 0 : -1;
	/* The name goes first: a dangling name would block its reuse. */
	if (ctr_config_read(fd, &c, err) == 0) {
		if (c.name[0]) {
			snprintf(link, sizeof(link), CTR_NAMES_DIR "/%s", c.name);
			unlinkat(s->root_fd, link, 0);
		}
		ctr_config_release(&c);
	}
	err_clear(err);
	close(fd);
	snprintf(rel, sizeof(rel), CTR_DIR "/%s", id);
	return fs_remove_tree(s->root_fd, rel, err);
}

int ctr_restart_parse(const char *s, enum ctr_restart *policy, unsigned *max, struct sk_err *err)
{
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	char *end;
	unsigned long n = 0;

	*max = 0;
	for (size_t i = 0; i < ARRAY_SIZE(restart_names); i++) {
		if (strlen(restart_names[i]) != len || strncmp(s, restart_names[i], len))
			continue;
		*policy = (enum ctr_restart)i;
		if (!colon)
			return 0;
		if (*policy != RESTART_ON_FAILURE)
			return err_set(err, 0, "invalid restart policy '%s': maximum retry count "
					       "can only be used with 'on-failure'",
				       s);
		errno = 0;
		n = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || n > 1000000 || colon[1] == '-')
			return err_set(err, 0, "invalid restart policy '%s': bad maximum retry count",
				       s);
		*max = (unsigned)n;
		return 0;
	}
	return err_set(err, 0, "invalid restart policy '%s' (no, always, unless-stopped, "
			       "on-failure[:N])",
		       s);
}

/* --- the network record ---------------------------------------------------- */

#define NET_FILE "net.json"
#define NET_FILE_MAX (64 << 10)

int ctr_net_write(int dirfd, const struct ctr_net *n, struct sk_err *err)
{
	json_t *ports = json_array(), *doc;
	char ip[16], gw[16], hip[16];
	cleanup_free char *text = NULL;

	for (size_t i = 0; ports && i < n->n_ports; i++) {
		ipam_format_ip(n->ports[i].host_ip, hip);
		json_array_append_new(ports, json_pack("{s:s, s:i, s:i, s:s}", "host_ip", hip,
						       "host_port", (int)n->ports[i].host_port,
						       "container_port", (int)n->ports[i].container_port,
						       "proto", ports_proto_name(n->ports[i].proto)));
	}
	json_t *extra = json_array();

	for (size_t i = 0; extra && i < n->n_extra; i++) {
		const struct ctr_endpoint *e = &n->extra[i];

		ipam_format_ip(e->ip, ip);
		ipam_format_ip(e->gateway, gw);
		json_array_append_new(extra, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "network",
						       e->network, "network_id", e->network_id,
						       "ifname", e->ifname, "ip", ip, "gateway", gw,
						       "prefix", e->prefix));
	}
	ipam_format_ip(n->ip, ip);
	ipam_format_ip(n->gateway, gw);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:o}", "network", n->network, "network_id",
			n->network_id, "ip", ip, "gateway", gw, "prefix", n->prefix, "ports",
			ports ? ports : json_array(), "extra", extra ? extra : json_array());
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text)
		return err_set(err, ENOMEM, "cannot record the container's network");
	return fs_write_atomic(dirfd, NET_FILE, text, strlen(text), 0600, err);
}

static int net_port_from_json(json_t *p, struct port_map *m)
{
	const char *hip = json_string_value(json_object_get(p, "host_ip"));
	const char *proto = json_string_value(json_object_get(p, "proto"));
	json_int_t hp = json_integer_value(json_object_get(p, "host_port"));
	json_int_t cp = json_integer_value(json_object_get(p, "container_port"));

	if (!hip || !proto || hp < 0 || hp > 65535 || cp < 1 || cp > 65535 ||
	    ipam_parse_ip(hip, &m->host_ip) < 0)
		return -1;
	m->host_port = (uint16_t)hp;
	m->container_port = (uint16_t)cp;
	m->proto = strcmp(proto, "udp") ? PORT_TCP : PORT_UDP;
	return 0;
}

int ctr_net_read(int dirfd, struct ctr_net *n, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(NET_FILE_MAX);
	json_t *doc, *ports, *p;
	const char *ip, *gw;
	size_t i;

	memset(n, 0, sizeof(*n));
	if (fs_read_file(dirfd, NET_FILE, NET_FILE_MAX, &b, err) < 0) {
		if (err->errnum == ENOENT) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	doc = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	ip = json_string_value(json_object_get(doc, "ip"));
	gw = json_string_value(json_object_get(doc, "gateway"));
	if (!ip || !gw || ipam_parse_ip(ip, &n->ip) < 0 || ipam_parse_ip(gw, &n->gateway) < 0) {
		json_decref(doc);
		return err_set(err, 0, "invalid '%s'", NET_FILE);
	}
	n->prefix = (int)json_integer_value(json_object_get(doc, "prefix"));
	snprintf(n->network, sizeof(n->network), "%s",
		 json_string_value(json_object_get(doc, "network")) ?: "bridge");
	snprintf(n->network_id, sizeof(n->network_id), "%s",
		 json_string_value(json_object_get(doc, "network_id")) ?: "");
	ports = json_object_get(doc, "ports");
	json_array_foreach(ports, i, p)
		if (n->n_ports < CTR_NET_MAX_PORTS && net_port_from_json(p, &n->ports[n->n_ports]) == 0)
			n->n_ports++;
	json_array_foreach(json_object_get(doc, "extra"), i, p) {
		struct ctr_endpoint *e = &n->extra[n->n_extra];
		const char *eip = json_string_value(json_object_get(p, "ip"));
		const char *egw = json_string_value(json_object_get(p, "gateway"));
		const char *ename = json_string_value(json_object_get(p, "network"));
		const char *eid = json_string_value(json_object_get(p, "network_id"));
		const char *eif = json_string_value(json_object_get(p, "ifname"));

		if (n->n_extra == CTR_NET_MAX_EXTRA || !eip || !egw || !ename || !eid || !eif ||
		    ipam_parse_ip(eip, &e->ip) < 0 || ipam_parse_ip(egw, &e->gateway) < 0)
			continue;
		snprintf(e->network, sizeof(e->network), "%s", ename);
		snprintf(e->network_id, sizeof(e->network_id), "%s", eid);
		snprintf(e->ifname, sizeof(e->ifname), "%s", eif);
		e->prefix = (int)json_integer_value(json_object_get(p, "prefix"));
		n->n_extra++;
	}
	json_decref(doc);
	return 1;
}

void ctr_net_remove(int dirfd)
{
	unlinkat(dirfd, NET_FILE, 0);
}

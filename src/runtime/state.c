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
#include <stddef.h>
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
#include "util/jsonscan.h"
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

const char *ctr_restart_name(enum ctr_restart policy)
{
	return (unsigned)policy < ARRAY_SIZE(restart_names) ? restart_names[policy] : "no";
}

/* --- the docker view (state.h: struct ctr_docker) ----------------------- */

static void put_strv(json_t *o, const char *key, const struct strv *v)
{
	if (v->n)
		json_object_set_new(o, key, strv_to_json(v));
}

static void put_string(json_t *o, const char *key, const char *s)
{
	if (s && *s)
		json_object_set_new(o, key, json_string(s));
}

static void put_int(json_t *o, const char *key, int64_t v)
{
	if (v)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void put_true(json_t *o, const char *key, bool b)
{
	if (b)
		json_object_set_new(o, key, json_true());
}

/* RLIM_INFINITY as docker writes it: -1. */
static json_int_t rlim_json(rlim_t v)
{
	return v == RLIM_INFINITY ? -1 : (json_int_t)v;
}

static json_t *ulimits_to_json(const struct rlimits *rl)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < rl->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name",
						   rlimit_name(rl->v[i].resource), "soft",
						   rlim_json(rl->v[i].lim.rlim_cur), "hard",
						   rlim_json(rl->v[i].lim.rlim_max)));
	return a;
}

static void put_limits(json_t *o, const struct cgroup_limits *l)
{
	put_int(o, "memory", l->memory);
	put_int(o, "memory_swap", l->memory_swap);
	put_int(o, "nano_cpus", l->nano_cpus);
	put_int(o, "cpu_quota", l->cpu_quota);
	put_int(o, "cpu_period", l->cpu_period);
	put_int(o, "cpu_shares", (int64_t)l->cpu_shares);
	put_string(o, "cpuset_cpus", l->cpuset_cpus);
	if (!l->pids_default)
		put_int(o, "pids_limit", l->pids_limit);
}

static json_t *docker_to_json(const struct ctr_docker *d)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (d->has_entrypoint)
		json_object_set_new(o, "entrypoint", strv_to_json(&d->entrypoint));
	if (d->has_cmd)
		json_object_set_new(o, "cmd", strv_to_json(&d->cmd));
	put_strv(o, "env", &d->env);
	put_strv(o, "labels", &d->labels);
	put_string(o, "workdir", d->workdir);
	put_string(o, "stop_signal", d->stop_signal);
	put_string(o, "domainname", d->domainname);
	put_strv(o, "exposed_ports", &d->exposed_ports);
	put_limits(o, &d->limits);
	if (d->ulimits.n)
		json_object_set_new(o, "ulimits", ulimits_to_json(&d->ulimits));
	put_strv(o, "binds", &d->binds);
	put_strv(o, "tmpfs", &d->tmpfs);
	put_strv(o, "publish", &d->publish);
	put_strv(o, "cap_add", &d->cap_add);
	put_strv(o, "cap_drop", &d->cap_drop);
	put_strv(o, "security_opt", &d->security_opt);
	put_strv(o, "dns", &d->dns);
	put_strv(o, "dns_search", &d->dns_search);
	put_strv(o, "dns_options", &d->dns_options);
	put_strv(o, "extra_hosts", &d->extra_hosts);
	put_true(o, "read_only", d->read_only);
	put_true(o, "init", d->init);
	put_true(o, "publish_all", d->publish_all);
	put_string(o, "log_driver", d->log_driver);
	return o;
}

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

	if (j && c->has_docker && json_object_set_new(j, "docker", docker_to_json(&c->docker)) < 0)
		return err_set(err, ENOMEM, "cannot encode '" CONFIG_FILE "'");
	if (j && c->create_dir && json_object_set_new(j, "create_dir", json_string(c->create_dir)))
		return err_set(err, ENOMEM, "cannot encode '" CONFIG_FILE "'");
	return write_json(dirfd, CONFIG_FILE, j, err);
}

/* The keys struct ctr_state owns, set into j: the listing summary
 * (ctr_state_write_new) that the file may also hold stays. */
static int state_write_into(int dirfd, json_t *j, const struct ctr_state *st,
			    struct sk_err *err)
{
	cleanup_json json_t *keys = json_pack(
		"{s:s, s:i, s:I, s:i, s:I, s:i, s:b, s:b, s:i, s:I, s:I, s:s}", "status",
		ctr_status_name(st->status), "pid", (int)st->pid, "pid_start",
		(json_int_t)st->pid_start, "monitor_pid", (int)st->monitor_pid, "monitor_start",
		(json_int_t)st->monitor_start, "exit_code", st->exit_code, "oom_killed",
		st->oom_killed, "stopped_by_user", st->stopped_by_user, "restart_count",
		(int)st->restart_count, "started_at", (json_int_t)st->started_at, "finished_at",
		(json_int_t)st->finished_at, "error", st->error);

	if (!keys || !j || json_object_update(j, keys) < 0)
		return err_set(err, ENOMEM, "cannot encode '" STATE_FILE "'");
	return write_json(dirfd, STATE_FILE, j, err);
}

int ctr_state_write_new(int dirfd, const struct ctr_state *st, const struct ctr_summary *sum,
			struct sk_err *err)
{
	cleanup_json json_t *j =
		json_pack("{s:s, s:o, s:o, s:I, s:o}", "name", sum->name, "image",
			  str_or_null(sum->image), "image_id", str_or_null(sum->image_id), "created",
			  (json_int_t)sum->created, "args", strv_to_json(sum->args));

	return state_write_into(dirfd, j, st, err);
}

/* --- reading ---------------------------------------------------------- */

/* One read serves the records ps reads two of per container; larger ones
 * (a long command line or environment) go on into a heap buffer. */
#define SMALL_READ 4096

/* The file at path (relative to dirfd: "state.json" in a container's
 * directory, or "<id>/state.json" from the containers directory), whole:
 * in small when it fits (one read), else in *b. A missing file gives -1
 * with err->errnum ENOENT. */
static int read_text(int dirfd, const char *path, char small[SMALL_READ], struct buf *b,
		     const char **data, size_t *len, struct sk_err *err)
{
	cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", path);
	while ((n = read(fd, small, SMALL_READ)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return err_set(err, errno, "cannot read '%s'", path);
	*data = small;
	*len = (size_t)n;
	/* A short read of a regular file is its end (these files are replaced
	 * by rename, never written in place): no second read for EOF. */
	if ((size_t)n < SMALL_READ)
		return 0;
	if (buf_append(b, small, SMALL_READ) < 0)
		return err_set(err, E2BIG, "'%s' is too large", path);
	for (;;) {
		char chunk[16384];

		while ((n = read(fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
			;
		if (n < 0)
			return err_set(err, errno, "cannot read '%s'", path);
		if (n == 0)
			break;
		if (buf_append(b, chunk, (size_t)n) < 0)
			return err_set(err, E2BIG, "'%s' is too large (limit %zu bytes)", path,
				       b->max);
	}
	*data = b->data;
	*len = b->len;
	return 0;
}

static json_t *parse_object(const char *data, size_t len, const char *path, struct sk_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);

	if (j && json_is_object(j))
		return j;
	err_set(err, EINVAL, "'%s' is corrupt: %s", path, j ? "not an object" : je.text);
	if (j)
		json_decref(j);
	return NULL;
}

static int read_json(int dirfd, const char *path, size_t max, json_t **out, struct sk_err *err)
{
	char small[SMALL_READ];
	cleanup_buf struct buf b = BUF_INIT(max);
	const char *data;
	size_t len;

	*out = NULL;
	if (read_text(dirfd, path, small, &b, &data, &len, err) < 0)
		return -1;
	*out = parse_object(data, len, path, err);
	return *out ? 0 : -1;
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

static int ulimits_from_json(json_t *a, struct rlimits *rl)
{
	size_t i;
	json_t *v;

	if (a && !json_is_array(a))
		return -1;
	json_array_foreach (a, i, v) {
		int res = rlimit_resource_by_name(json_string_value(json_object_get(v, "name")));
		json_int_t soft = json_integer_value(json_object_get(v, "soft"));
		json_int_t hard = json_integer_value(json_object_get(v, "hard"));

		if (res < 0 || rl->n >= RLIMIT_MAX_ENTRIES)
			continue; /* a name this build does not know: not shown */
		rl->v[rl->n].resource = res;
		rl->v[rl->n].lim.rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
		rl->v[rl->n].lim.rlim_max = hard < 0 ? RLIM_INFINITY : (rlim_t)hard;
		rl->n++;
	}
	return 0;
}

static void limits_from_json(json_t *o, struct cgroup_limits *l)
{
	l->memory = json_int_of(o, "memory");
	l->memory_swap = json_int_of(o, "memory_swap");
	l->nano_cpus = json_int_of(o, "nano_cpus");
	l->cpu_quota = json_int_of(o, "cpu_quota");
	l->cpu_period = json_int_of(o, "cpu_period");
	l->cpu_shares = (uint64_t)json_int_of(o, "cpu_shares");
	l->pids_limit = json_int_of(o, "pids_limit");
	copy_json_string(o, "cpuset_cpus", l->cpuset_cpus, sizeof(l->cpuset_cpus));
}

/* Every key is optional (see struct ctr_docker). */
static int docker_from_json(json_t *o, struct ctr_docker *d, struct sk_err *err)
{
	static const struct {
		const char *key;
		size_t offset;
	} lists[] = {
		{ "env", offsetof(struct ctr_docker, env) },
		{ "labels", offsetof(struct ctr_docker, labels) },
		{ "exposed_ports", offsetof(struct ctr_docker, exposed_ports) },
		{ "binds", offsetof(struct ctr_docker, binds) },
		{ "tmpfs", offsetof(struct ctr_docker, tmpfs) },
		{ "publish", offsetof(struct ctr_docker, publish) },
		{ "cap_add", offsetof(struct ctr_docker, cap_add) },
		{ "cap_drop", offsetof(struct ctr_docker, cap_drop) },
		{ "security_opt", offsetof(struct ctr_docker, security_opt) },
		{ "dns", offsetof(struct ctr_docker, dns) },
		{ "dns_search", offsetof(struct ctr_docker, dns_search) },
		{ "dns_options", offsetof(struct ctr_docker, dns_options) },
		{ "extra_hosts", offsetof(struct ctr_docker, extra_hosts) },
		{ "entrypoint", offsetof(struct ctr_docker, entrypoint) },
		{ "cmd", offsetof(struct ctr_docker, cmd) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (json_to_strv(o, lists[i].key, (struct strv *)((char *)d + lists[i].offset),
				 err) < 0)
			return err_wrap(err, "'" CONFIG_FILE "' docker");
	d->has_entrypoint = json_is_array(json_object_get(o, "entrypoint"));
	d->has_cmd = json_is_array(json_object_get(o, "cmd"));
	if (dup_json_string(o, "workdir", &d->workdir) < 0 ||
	    dup_json_string(o, "stop_signal", &d->stop_signal) < 0 ||
	    dup_json_string(o, "domainname", &d->domainname) < 0 ||
	    dup_json_string(o, "log_driver", &d->log_driver) < 0 ||
	    ulimits_from_json(json_object_get(o, "ulimits"), &d->ulimits) < 0)
		return err_set(err, EINVAL, "'" CONFIG_FILE "' is corrupt: docker");
	limits_from_json(o, &d->limits);
	d->read_only = json_is_true(json_object_get(o, "read_only"));
	d->init = json_is_true(json_object_get(o, "init"));
	d->publish_all = json_is_true(json_object_get(o, "publish_all"));
	return 0;
}

void ctr_docker_release(struct ctr_docker *d)
{
	struct strv *lists[] = { &d->entrypoint, &d->cmd,	  &d->env,	    &d->labels,
				 &d->exposed_ports, &d->binds,	  &d->tmpfs,	    &d->publish,
				 &d->cap_add,	 &d->cap_drop,	  &d->security_opt, &d->dns,
				 &d->dns_search, &d->dns_options, &d->extra_hosts };

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		strv_release(lists[i]);
	free(d->workdir);
	free(d->stop_signal);
	free(d->domainname);
	free(d->log_driver);
}

static int config_from_json(json_t *j, struct ctr_config *c, struct sk_err *err)
{
	json_t *docker = json_object_get(j, "docker");

	if (copy_json_string(j, "id", c->id, sizeof(c->id)) < 0 ||
	    copy_json_string(j, "name", c->name, sizeof(c->name)) < 0 ||
	    dup_json_string(j, "image", &c->image) < 0 ||
	    dup_json_string(j, "image_id", &c->image_id) < 0 ||
	    dup_json_string(j, "hostname", &c->hostname) < 0 ||
	    dup_json_string(j, "cwd", &c->cwd) < 0 || dup_json_string(j, "user", &c->user) < 0 ||
	    dup_json_string(j, "seccomp", &c->seccomp) < 0 ||
	    dup_json_string(j, "create_dir", &c->create_dir) < 0 ||
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
	c->has_docker = json_is_object(docker);
	return c->has_docker ? docker_from_json(docker, &c->docker, err) : 0;
}

static int config_read_path(int dirfd, const char *path, struct ctr_config *c,
			    struct sk_err *err)
{
	cleanup_json json_t *j = NULL;

	memset(c, 0, sizeof(*c));
	if (read_json(dirfd, path, CONFIG_MAX, &j, err) < 0 || config_from_json(j, c, err) < 0) {
		ctr_config_release(c);
		return -1;
	}
	return 0;
}

int ctr_config_read(int dirfd, struct ctr_config *c, struct sk_err *err)
{
	return config_read_path(dirfd, CONFIG_FILE, c, err);
}

int ctr_config_read_at(int containers_fd, const char *id, struct ctr_config *c,
		       struct sk_err *err)
{
	char path[CTR_ID_LEN + sizeof("/" CONFIG_FILE)];

	snprintf(path, sizeof(path), "%.64s/" CONFIG_FILE, id);
	return config_read_path(containers_fd, path, c, err);
}

void ctr_config_release(struct ctr_config *c)
{
	free(c->image);
	free(c->image_id);
	free(c->hostname);
	free(c->cwd);
	free(c->user);
	free(c->seccomp);
	free(c->create_dir);
	strv_release(&c->args);
	strv_release(&c->env);
	strv_release(&c->run_argv);
	ctr_docker_release(&c->docker);
	memset(c, 0, sizeof(*c));
}

/* state.json's members (jsonscan.h: ps reads one per container), into st
 * and, when asked, the listing summary into sum. */
struct state_reader {
	struct ctr_state *st;
	struct ctr_config *sum; /* NULL: the state's own keys only */
	bool has_status, has_summary;
};

/* As jansson's json_integer_value: what is not an integer reads 0. */
static int64_t member_int(const struct jscan_member *m)
{
	int64_t v = 0;

	jscan_int(&m->v, &v);
	return v;
}

static int member_dup(const struct jscan_member *m, char **out)
{
	free(*out);
	*out = NULL;
	if (m->v.type == JSCAN_NULL)
		return 0;
	if (!(*out = malloc(m->v.len + 1)))
		return -1;
	return jscan_string(&m->v, *out, m->v.len + 1) < 0 ? -1 : 0;
}

static int push_arg(const struct jscan_value *v, void *ctx)
{
	cleanup_free char *a = malloc(v->len + 1);
	struct sk_err ignored;

	if (!a || jscan_string(v, a, v->len + 1) < 0)
		return -1;
	return strv_push(ctx, a, &ignored);
}

static int summary_member(const struct jscan_member *m, struct state_reader *r)
{
	struct ctr_config *c = r->sum;

	if (jscan_key_is(m, "name"))
		return jscan_string(&m->v, c->name, sizeof(c->name)) < 0 ? -1 : 0;
	if (jscan_key_is(m, "image"))
		return member_dup(m, &c->image);
	if (jscan_key_is(m, "image_id"))
		return member_dup(m, &c->image_id);
	if (jscan_key_is(m, "args")) {
		strv_release(&c->args);
		return jscan_strings(&m->v, push_arg, &c->args);
	}
	if (jscan_key_is(m, "created")) {
		c->created = member_int(m);
		r->has_summary = true;
	}
	return 0;
}

static int state_member(const struct jscan_member *m, void *ctx)
{
	struct state_reader *r = ctx;
	struct ctr_state *st = r->st;
	char status[16];

	if (jscan_key_is(m, "status")) {
		if (jscan_string(&m->v, status, sizeof(status)) < 0 ||
		    status_from_name(status, &st->status) < 0)
			return -1;
		r->has_status = true;
	} else if (jscan_key_is(m, "pid")) {
		st->pid = (pid_t)member_int(m);
	} else if (jscan_key_is(m, "pid_start")) {
		st->pid_start = (unsigned long long)member_int(m);
	} else if (jscan_key_is(m, "monitor_pid")) {
		st->monitor_pid = (pid_t)member_int(m);
	} else if (jscan_key_is(m, "monitor_start")) {
		st->monitor_start = (unsigned long long)member_int(m);
	} else if (jscan_key_is(m, "exit_code")) {
		st->exit_code = (int)member_int(m);
	} else if (jscan_key_is(m, "oom_killed")) {
		st->oom_killed = m->v.type == JSCAN_TRUE;
	} else if (jscan_key_is(m, "stopped_by_user")) {
		st->stopped_by_user = m->v.type == JSCAN_TRUE;
	} else if (jscan_key_is(m, "restart_count")) {
		st->restart_count = (unsigned)member_int(m);
	} else if (jscan_key_is(m, "started_at")) {
		st->started_at = member_int(m);
	} else if (jscan_key_is(m, "finished_at")) {
		st->finished_at = member_int(m);
	} else if (jscan_key_is(m, "error")) {
		if (jscan_string(&m->v, st->error, sizeof(st->error)) < 0)
			st->error[0] = '\0'; /* as jansson's reader: too long reads "" */
	} else if (r->sum) {
		return summary_member(m, r);
	}
	return 0;
}

static int scan_state(const char *text, size_t len, struct state_reader *r)
{
	memset(r->st, 0, sizeof(*r->st));
	if (r->sum)
		ctr_config_release(r->sum);
	r->has_status = r->has_summary = false;
	return jscan_object(text, len, state_member, r) == 0 && r->has_status ? 0 : -1;
}

/* state.json's text -> r. A text the scanner does not take (edited by hand,
 * a message with non-ASCII bytes) is taken through jansson, whose ASCII
 * output the scanner does take. */
static int state_parse(const char *text, size_t len, const char *path, struct state_reader *r,
		       struct sk_err *err)
{
	cleanup_json json_t *j = NULL;
	cleanup_free char *ascii = NULL;

	if (scan_state(text, len, r) == 0)
		return 0;
	j = parse_object(text, len, path, err);
	if (!j)
		return -1;
	ascii = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!ascii || scan_state(ascii, strlen(ascii), r) < 0)
		return err_set(err, EINVAL, "'%s' is corrupt: %s", path,
			       r->has_status ? "unexpected values" : "bad status");
	return 0;
}

/* state.json at path: *st, with j (when not NULL) the whole object for a
 * read-modify-write that keeps the summary (an empty object when the file
 * is missing: the state is CTR_CREATED). */
static int state_load_path(int dirfd, const char *path, struct ctr_state *st, json_t **j,
			   struct sk_err *err)
{
	char small[SMALL_READ];
	cleanup_buf struct buf b = BUF_INIT(STATE_MAX);
	struct state_reader r = { .st = st };
	const char *data;
	size_t len;

	memset(st, 0, sizeof(*st));
	if (j)
		*j = NULL;
	if (read_text(dirfd, path, small, &b, &data, &len, err) < 0) {
		if (err->errnum != ENOENT)
			return -1;
		err_clear(err);
		if (j && !(*j = json_object()))
			return err_set(err, ENOMEM, "cannot read '%s'", path);
		return 0;
	}
	if (state_parse(data, len, path, &r, err) < 0)
		return -1;
	if (j && !(*j = parse_object(data, len, path, err)))
		return -1;
	return 0;
}

static int state_read_path(int dirfd, const char *path, struct ctr_state *st,
			   struct sk_err *err)
{
	return state_load_path(dirfd, path, st, NULL, err);
}

int ctr_state_write(int dirfd, const struct ctr_state *st, struct sk_err *err)
{
	cleanup_json json_t *j = NULL;
	struct ctr_state old;
	struct sk_err ignored = { 0 };

	/* over what the file holds (a corrupt one is replaced) */
	if (state_load_path(dirfd, STATE_FILE, &old, &j, &ignored) < 0 || !j) {
		if (j)
			json_decref(j);
		j = json_object();
	}
	return state_write_into(dirfd, j, st, err);
}

int ctr_listing_read_at(int containers_fd, const char *id, struct ctr_config *c,
			struct ctr_state *st, struct sk_err *err)
{
	char path[CTR_ID_LEN + sizeof("/" STATE_FILE)], small[SMALL_READ];
	cleanup_buf struct buf b = BUF_INIT(STATE_MAX);
	struct state_reader r = { .st = st, .sum = c };
	const char *data;
	size_t len;

	memset(c, 0, sizeof(*c));
	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%.64s/" STATE_FILE, id);
	if (read_text(containers_fd, path, small, &b, &data, &len, err) < 0) {
		if (err->errnum != ENOENT)
			return -1;
		err_clear(err); /* being made: created, as ctr_state_read */
	} else if (state_parse(data, len, path, &r, err) < 0) {
		ctr_config_release(c);
		return -1;
	}
	/* A state written by an older skiff has no summary. */
	if (!r.has_summary) {
		ctr_config_release(c);
		return ctr_config_read_at(containers_fd, id, c, err);
	}
	snprintf(c->id, sizeof(c->id), "%.64s", id);
	return 0;
}

int ctr_state_read(int dirfd, struct ctr_state *st, struct sk_err *err)
{
	return state_read_path(dirfd, STATE_FILE, st, err);
}

int ctr_state_read_at(int containers_fd, const char *id, struct ctr_state *st,
		      struct sk_err *err)
{
	char path[CTR_ID_LEN + sizeof("/" STATE_FILE)];

	snprintf(path, sizeof(path), "%.64s/" STATE_FILE, id);
	return state_read_path(containers_fd, path, st, err);
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
	cleanup_json json_t *j = NULL;
	struct ctr_state st;
	int r;

	if (lock < 0 || state_load_path(dirfd, STATE_FILE, &st, &j, err) < 0)
		return -1;
	r = fn(&st, arg);
	if (r != 0)
		return r;
	return state_write_into(dirfd, j, &st, err);
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

bool ctr_state_monitor_gone(const struct ctr_state *st)
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
	cleanup_json json_t *j = NULL;

	if (ctr_state_read(dirfd, st, err) < 0)
		return -1;
	if (!ctr_state_monitor_gone(st))
		return 0;
	/* Re-check under the lock: the monitor may have just recorded the exit. */
	lock = ctr_lock(dirfd, err);
	if (lock < 0 || state_load_path(dirfd, STATE_FILE, st, &j, err) < 0)
		return -1;
	if (!ctr_state_monitor_gone(st))
		return 0;
	snprintf(st->error, sizeof(st->error), "monitor (pid %d) died", (int)st->monitor_pid);
	/* Its container cannot outlive it (PDEATHSIG): kill a straggler anyway,
	 * and remove the cgroup the monitor had no chance to remove. */
	if (ctr_process_alive(st->pid, st->pid_start))
		kill(st->pid, SIGKILL);
	remove_cgroup_leftovers(dirfd);
	release_network_of_dead(dirfd);
	ctr_state_exited(st, CTR_EXIT_MONITOR_DIED);
	if (state_write_into(dirfd, j, st, err) < 0)
		return -1;
	/* Its live file goes with the next sweep (container_gc): dropping it
	 * needs the file's lock, and the container's is held here. */
	st->monitor_died_now = true;
	return 0;
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
	if (fd < 0)
		return err_set(err, errno == ENOENT ? ENOENT : errno, "No such container: %s", id);
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

int ctr_for_each_id(struct store *s, ctr_id_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_close int fd = openat(s->root_fd, CTR_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;

	if (fd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "cannot open '%s'", CTR_DIR);
	d = fdopendir(dup(fd));
	if (!d)
		return err_set(err, errno, "cannot read '%s'", CTR_DIR);
	while ((de = readdir(d)))
		if (is_container_id(de->d_name) && fn(s, de->d_name, fd, ctx) < 0)
			return -1;
	return 0;
}

int ctr_for_each_live_id(struct store *s, ctr_id_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_close int fd = openat(s->root_fd, CTR_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int live;

	if (fd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "cannot open '%s'", CTR_DIR);
	live = openat(fd, "live", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (live < 0 && errno == ENOENT) /* a store made by an older skiff */
		return ctr_for_each_id(s, fn, ctx, err);
	if (live < 0 || !(d = fdopendir(live))) {
		if (live >= 0)
			close(live);
		return err_set(err, errno, "cannot read '%s'", CTR_LIVE_DIR);
	}
	while ((de = readdir(d)))
		if (is_container_id(de->d_name) && fn(s, de->d_name, fd, ctx) < 0)
			return -1;
	return 0;
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

static int match_prefix(struct store *s, const char *id, int containers_fd, void *ctx)
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
	if (m.len > 0 && m.len <= CTR_ID_LEN && ctr_for_each_id(s, match_prefix, &m, err) < 0)
		return -1;
	if (m.matches == 1)
		return 0;
	if (m.matches > 1)
		return err_set(err, 0, "multiple containers match '%s': use more of the id", ref);
	err_set(err, 0, "No such container: %s", ref);
	err->errnum = ENOENT;
	return -1;
}

/* --- the index of containers that may have an owner ---------------------- */

#define LIVE_REL_MAX (sizeof(CTR_LIVE_DIR "/") + CTR_ID_LEN)

static void live_rel(const char *id, char out[LIVE_REL_MAX])
{
	snprintf(out, LIVE_REL_MAX, CTR_LIVE_DIR "/%.64s", id);
}

/* Is a container with no owner done with: removed, or exited? */
static bool container_finished(int rootfd, const char *id)
{
	char dir[sizeof(CTR_DIR "/") + CTR_ID_LEN], path[sizeof(dir) + sizeof("/" STATE_FILE)];
	struct sk_err err = { 0 };
	struct ctr_state st;
	struct stat sb;

	snprintf(dir, sizeof(dir), CTR_DIR "/%.64s", id);
	if (fstatat(rootfd, dir, &sb, 0) < 0)
		return errno == ENOENT;
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	return state_read_path(rootfd, path, &st, &err) == 0 && st.status == CTR_EXITED;
}

/* A store made by an older skiff has no index: one scan of every container
 * makes it, once. It is built in a locked work directory and renamed into
 * place (never over another process's), so a killed build leaves nothing
 * half made: its directory is a stale work dir. */
static int live_index_build(struct store *s, struct sk_err *err)
{
	cleanup_close int cfd = openat(s->root_fd, CTR_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int lock = -1, work_fd = -1;
	cleanup_closedir DIR *d = NULL;
	char work[64];
	struct dirent *de;

	if (cfd < 0)
		return err_set(err, errno, "cannot open '%s'", CTR_DIR);
	store_remove_stale_dirs(s, "tmp", "live-");
	for (int tries = 0; tries < 100; tries++) {
		snprintf(work, sizeof(work), "tmp/live-%d-%08lx", (int)getpid(),
			 (unsigned long)random());
		lock = store_make_work_dir(s, work, err);
		if (lock != STORE_WORK_DIR_RETRY)
			break;
	}
	if (lock < 0)
		return lock == -1 ? -1 : err_set(err, EEXIST, "cannot create '%s'", work);
	work_fd = openat(s->root_fd, work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fdopendir(dup(cfd));
	if (work_fd < 0 || !d)
		return err_set(err, errno, "cannot build '%s'", CTR_LIVE_DIR);
	while ((de = readdir(d))) {
		struct ctr_state st;
		struct sk_err ignored = { 0 };
		int fd;

		if (!is_container_id(de->d_name) ||
		    (ctr_state_read_at(cfd, de->d_name, &st, &ignored) == 0 &&
		     st.status == CTR_EXITED))
			continue;
		fd = openat(work_fd, de->d_name, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_set(err, errno, "cannot build '%s'", CTR_LIVE_DIR);
		close(fd);
	}
	if (renameat2(s->root_fd, work, s->root_fd, CTR_LIVE_DIR, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return err_set(err, errno, "cannot create '%s'", CTR_LIVE_DIR);
	/* another process built it first */
	return fs_remove_tree(s->root_fd, work, err);
}

int ctr_live_hold(struct store *s, const char *id, struct sk_err *err)
{
	char rel[LIVE_REL_MAX];
	struct stat st;

	live_rel(id, rel);
	for (int tries = 0; tries < 100; tries++) {
		int fd = openat(s->root_fd, rel, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0 && errno == ENOENT) {
			if (live_index_build(s, err) < 0)
				return err_wrap(err, "the store's index of live containers");
			continue;
		}
		if (fd < 0)
			return err_set(err, errno, "cannot create '%s'", rel);
		while (flock(fd, LOCK_SH) < 0) {
			if (errno != EINTR) {
				int e = errno;

				close(fd);
				return err_set(err, e, "cannot lock '%s'", rel);
			}
		}
		/* A sweep may have unlinked it between the open and the lock. */
		if (fstat(fd, &st) == 0 && st.st_nlink > 0)
			return fd;
		close(fd);
	}
	return err_set(err, EAGAIN, "cannot hold '%s'", rel);
}

/* With fd held exclusively: unlink it when the container is done with. The
 * file still being linked means the name is still this file's. */
static bool live_drop_if_finished(struct store *s, const char *id, int fd, bool finished)
{
	char rel[LIVE_REL_MAX];
	struct stat st;

	if (fstat(fd, &st) < 0 || st.st_nlink == 0)
		return false;
	if (!finished && !container_finished(s->root_fd, id))
		return false;
	live_rel(id, rel);
	return unlinkat(s->root_fd, rel, 0) == 0;
}

void ctr_live_release(struct store *s, const char *id, int *fd)
{
	if (*fd < 0)
		return;
	/* Exclusive only when no one else holds it: a `start` that claimed the
	 * container meanwhile holds it too, and it stays. (A failed conversion
	 * drops the shared lock: this owner is done anyway.) */
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		live_drop_if_finished(s, id, *fd, false);
	close_and_reset(fd);
}

void ctr_live_forget(struct store *s, const char *id)
{
	char rel[LIVE_REL_MAX];
	cleanup_close int fd = -1;

	live_rel(id, rel);
	fd = openat(s->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	/* Held by someone else (its owner, about to drop it, or a sweep): they
	 * unlink it, seeing the container gone. */
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		live_drop_if_finished(s, id, fd, true);
}

int ctr_live_sweep(struct store *s, ctr_live_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_close int dfd =
		openat(s->root_fd, CTR_LIVE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;

	if (dfd < 0 && errno == ENOENT) {
		if (live_index_build(s, err) < 0)
			return err_wrap(err, "the store's index of live containers");
		dfd = openat(s->root_fd, CTR_LIVE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0 || !(d = fdopendir(dfd)))
		return err_set(err, errno, "cannot read '%s'", CTR_LIVE_DIR);
	dfd = -1; /* the DIR owns it */
	while ((de = readdir(d))) {
		cleanup_close int fd = -1;
		int r;

		if (!is_container_id(de->d_name))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		/* held: its owner lives (or is just handing it on) */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		r = fn(s, de->d_name, ctx);
		if (r < 0)
			return -1;
		if (r > 0)
			live_drop_if_finished(s, de->d_name, fd, true);
	}
	return 0;
}

/* --- names ------------------------------------------------------------------ */

/* Changes of a name's link that depend on where it points (removing a
 * container's own name, replacing a dead one) are made under an flock of the
 * names directory: a plain symlinkat claims a free name without it. */
static int names_lock(struct store *s)
{
	int fd = openat(s->root_fd, CTR_NAMES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The link's target, when it is a container id. */
static bool name_target(int rootfd, const char *link, char id[CTR_ID_LEN + 1])
{
	ssize_t n = readlinkat(rootfd, link, id, CTR_ID_LEN + 1);

	if (n != CTR_ID_LEN)
		return false;
	id[n] = '\0';
	return is_container_id(id);
}

void ctr_name_release(struct store *s, const char *name, const char *id)
{
	char link[CTR_NAME_MAX + 32], target[CTR_ID_LEN + 1];
	cleanup_close int lock = -1;

	if (!name[0] || strchr(name, '/'))
		return;
	snprintf(link, sizeof(link), CTR_NAMES_DIR "/%s", name);
	lock = names_lock(s);
	if (lock >= 0 && name_target(s->root_fd, link, target) && !strcmp(target, id))
		unlinkat(s->root_fd, link, 0);
}

bool ctr_name_reclaim_dead(struct store *s, const char *name)
{
	char link[CTR_NAME_MAX + 32], target[CTR_ID_LEN + 1], dir[CTR_ID_LEN + 16];
	cleanup_close int lock = names_lock(s);
	struct stat st;

	snprintf(link, sizeof(link), CTR_NAMES_DIR "/%s", name);
	if (lock < 0 || !name_target(s->root_fd, link, target))
		return false;
	snprintf(dir, sizeof(dir), CTR_DIR "/%s", target);
	if (fstatat(s->root_fd, dir, &st, 0) == 0 || errno != ENOENT)
		return false;
	return unlinkat(s->root_fd, link, 0) == 0;
}

/* --- removal ---------------------------------------------------------------- */

#define REMOVING_DIR "tmp/" CTR_REMOVING_PREFIX

int ctr_remove_begin(struct store *s, const char *id, char gone[CTR_GONE_MAX], int *lock_fd,
		     struct sk_err *err)
{
	char rel[CTR_ID_LEN + 16], name[CTR_NAME_MAX] = "";
	struct ctr_config c;
	int fd = ctr_open_dir(s, id, err);

	*lock_fd = -1;
	if (fd < 0)
		return err->errnum == ENOENT ? (err_clear(err), 0) : -1;
	/* Held while its files go: a removal killed midway leaves a directory
	 * whose lock is free, which container_gc finishes (a lock that is taken
	 * means another process is removing it). */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0;
	}
	if (ctr_config_read(fd, &c, err) == 0) {
		snprintf(name, sizeof(name), "%s", c.name);
		ctr_config_release(&c);
	}
	err_clear(err);
	/* Out of containers/ with one rename: never half a container. */
	snprintf(rel, sizeof(rel), CTR_DIR "/%s", id);
	snprintf(gone, CTR_GONE_MAX, REMOVING_DIR "%.64s", id);
	if (renameat(s->root_fd, rel, s->root_fd, gone) < 0) {
		int e = errno;

		close(fd);
		return e == ENOENT ? 0 : err_set(err, e, "cannot remove container %s", id);
	}
	/* Then its name (a name left pointing nowhere by a kill right here is
	 * reclaimed by the next claim of it) and its place in the live index. */
	ctr_name_release(s, name, id);
	ctr_live_forget(s, id);
	*lock_fd = fd;
	return 0;
}

int ctr_remove_files(struct store *s, const char *id, struct sk_err *err)
{
	char gone[CTR_GONE_MAX];
	cleanup_close int lock = -1;

	/* What a dead owner left of its bridge network goes with it. */
	container_net_release(s->root, id, false);
	if (ctr_remove_begin(s, id, gone, &lock, err) < 0)
		return -1;
	return lock < 0 ? 0 : fs_remove_tree(s->root_fd, gone, err);
}

bool ctr_restore_wanted(const struct ctr_config *c, const struct ctr_state *st)
{
	/* Only what ran before and runs no more (created ones stay created). */
	if (st->status != CTR_EXITED || st->started_at == 0)
		return false;
	switch (c->restart) {
	case RESTART_ALWAYS: return true; /* even after a stop, as docker */
	case RESTART_UNLESS_STOPPED: return !st->stopped_by_user;
	case RESTART_ON_FAILURE:
		/* docker does not look at a stop here: a stopped container's
		 * exit (137, 143) is a failure */
		return st->exit_code != 0 && (c->restart_max == 0 || st->restart_count < c->restart_max);
	case RESTART_NO:
	default: return false;
	}
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

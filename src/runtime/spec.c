/*
 * The runtime model (spec.h): construction helpers and the docker rules for
 * merging an image config with `skiff run` flags (args, env, volumes, tmpfs).
 * Pure logic: no system calls beyond malloc, so it is unit-tested directly.
 */
#include "runtime/spec.h"

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

int strv_push_n(struct strv *s, const char *str, size_t len, struct sk_err *err)
{
	char **v = realloc(s->v, (s->n + 2) * sizeof(*v));
	char *copy;

	if (!v)
		return err_set(err, ENOMEM, "cannot grow a string list");
	s->v = v;
	copy = strndup(str, len);
	if (!copy)
		return err_set(err, ENOMEM, "cannot copy '%.*s'", (int)len, str);
	s->v[s->n++] = copy;
	s->v[s->n] = NULL;
	return 0;
}

int strv_push(struct strv *s, const char *str, struct sk_err *err)
{
	return strv_push_n(s, str, strlen(str), err);
}

void strv_release(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void spec_release(struct rt_spec *spec)
{
	strv_release(&spec->process.args);
	strv_release(&spec->process.env);
	free(spec->process.cwd);
	free(spec->process.user.additional_gids);
	free(spec->process.user.spec);
	free(spec->root.path);
	strv_release(&spec->root.layers);
	free(spec->root.upper);
	free(spec->root.work);
	free(spec->hostname);
	free(spec->domainname);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		free(spec->mounts[i].destination);
		free(spec->mounts[i].type);
		free(spec->mounts[i].source);
		free(spec->mounts[i].options);
		free(spec->mounts[i].content);
	}
	free(spec->mounts);
	free(spec->net.ports);
	free(spec->net.names);
	if (spec->net.join_netns && spec->net.netns_fd >= 0)
		close(spec->net.netns_fd);
	bridge_lease_release(&spec->net.lease);
	strv_release(&spec->masked_paths);
	strv_release(&spec->readonly_paths);
	seccomp_prog_release(&spec->seccomp);
	memset(spec, 0, sizeof(*spec));
}

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int spec_add_mount(struct rt_spec *spec, const char *dst, const char *type, const char *src,
		   const char *options, struct sk_err *err)
{
	struct rt_mount *m = realloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*m));

	if (!m)
		return err_set(err, ENOMEM, "cannot add mount '%s'", dst);
	spec->mounts = m;
	m = &spec->mounts[spec->n_mounts];
	m->destination = strdup(dst);
	m->type = strdup(type);
	m->source = strdup_or_null(src);
	m->options = strdup_or_null(options);
	m->content = NULL;
	m->content_len = 0;
	spec->n_mounts++;
	if (!m->destination || !m->type || (src && !m->source) || (options && !m->options))
		return err_set(err, ENOMEM, "cannot add mount '%s'", dst);
	return 0;
}

int spec_add_file(struct rt_spec *spec, const char *dst, const char *content, size_t len,
		  const char *options, struct sk_err *err)
{
	struct rt_mount *m;

	if (spec_add_mount(spec, dst, "bind", NULL, options, err) < 0)
		return -1;
	m = &spec->mounts[spec->n_mounts - 1];
	m->content = malloc(len + 1);
	if (!m->content)
		return err_set(err, ENOMEM, "cannot add file '%s'", dst);
	memcpy(m->content, content, len);
	m->content[len] = '\0';
	m->content_len = len;
	return 0;
}

/* Docker's defaults (moby oci/defaults.go). */
static const struct {
	const char *dst, *type, *src, *options;
} default_mounts[] = {
	{ "/proc", "proc", "proc", "nosuid,noexec,nodev" },
	{ "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k" },
	{ "/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5" },
	{ "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro" },
	{ "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev" },
	{ "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k" },
};

static const char *const docker_masked_paths[] = {
	"/proc/asound",	     "/proc/acpi",	  "/proc/kcore",       "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi",	     "/sys/firmware",	  "/sys/devices/virtual/powercap",
};

static const char *const docker_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

int spec_set_docker_defaults(struct rt_spec *spec, bool host_network, bool privileged,
			     struct sk_err *err)
{
	spec->namespaces = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
	if (!host_network)
		spec->namespaces |= CLONE_NEWNET;
	spec->privileged = privileged;
	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		const char *opts = default_mounts[i].options;

		/* docker --privileged: /sys read-write */
		if (privileged && !strcmp(default_mounts[i].dst, "/sys"))
			opts = "nosuid,noexec,nodev,rw";
		if (spec_add_mount(spec, default_mounts[i].dst, default_mounts[i].type,
				   default_mounts[i].src, opts, err) < 0)
			return -1;
	}
	if (privileged)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(docker_masked_paths); i++)
		if (strv_push(&spec->masked_paths, docker_masked_paths[i], err) < 0)
			return -1;
	for (size_t i = 0; i < ARRAY_SIZE(docker_readonly_paths); i++)
		if (strv_push(&spec->readonly_paths, docker_readonly_paths[i], err) < 0)
			return -1;
	return 0;
}

static int push_all(struct strv *out, char *const *v, size_t n, struct sk_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (strv_push(out, v[i], err) < 0)
			return -1;
	return 0;
}

int spec_build_args(char *const *img_entrypoint, char *const *img_cmd, const char *flag_entrypoint,
		    char *const *user_args, size_t n_user, struct strv *out, struct sk_err *err)
{
	if (flag_entrypoint) {
		/* docker: --entrypoint replaces the entrypoint and drops the image's Cmd. */
		if (*flag_entrypoint && strv_push(out, flag_entrypoint, err) < 0)
			return -1;
	} else if (push_all(out, img_entrypoint, strv_len(img_entrypoint), err) < 0) {
		return -1;
	}
	if (n_user > 0) {
		if (push_all(out, user_args, n_user, err) < 0)
			return -1;
	} else if (!flag_entrypoint && push_all(out, img_cmd, strv_len(img_cmd), err) < 0) {
		return -1;
	}
	if (out->n == 0)
		return err_set(err, 0, "no command specified");
	return 0;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static char **env_find(char *const *env, const char *key, size_t klen)
{
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, klen) && env[i][klen] == '=')
			return (char **)&env[i];
	return NULL;
}

const char *env_get(char *const *env, const char *key)
{
	char **slot = env_find(env, key, strlen(key));

	return slot ? *slot + strlen(key) + 1 : NULL;
}

static int env_set_full(struct strv *env, const char *kv, struct sk_err *err)
{
	char **slot = env_find(env->v, kv, key_len(kv));
	char *copy;

	if (!slot)
		return strv_push(env, kv, err);
	copy = strdup(kv);
	if (!copy)
		return err_set(err, ENOMEM, "cannot set '%s'", kv);
	free(*slot);
	*slot = copy;
	return 0;
}

int env_set(struct strv *env, const char *kv, char *(*lookup_env)(const char *),
	    struct sk_err *err)
{
	cleanup_free char *joined = NULL;
	const char *val;

	if (kv[0] == '=' || kv[0] == '\0')
		return err_set(err, 0, "invalid environment variable '%s'", kv);
	if (strchr(kv, '='))
		return env_set_full(env, kv, err);
	/* docker: "-e K" passes the caller's K, or nothing when it is unset. */
	val = lookup_env ? lookup_env(kv) : NULL;
	if (!val)
		return 0;
	if (asprintf(&joined, "%s=%s", kv, val) < 0)
		return err_set(err, ENOMEM, "cannot set '%s'", kv);
	return env_set_full(env, joined, err);
}

int env_file_load(const char *path, struct strv *out, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(ENV_FILE_MAX);

	if (fs_read_file(AT_FDCWD, path, ENV_FILE_MAX, &b, err) < 0)
		return -1;
	return env_file_parse(b.data ? b.data : "", b.len, path, out, err);
}

int env_file_parse(const char *data, size_t len, const char *name, struct strv *out,
		   struct sk_err *err)
{
	const char *p = data, *end = data + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;

		lineno++;
		while (p < line_end && (*p == ' ' || *p == '\t'))
			p++;
		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		if (p < line_end && *p != '#') {
			const char *eq = memchr(p, '=', (size_t)(line_end - p));
			size_t klen = (size_t)((eq ? eq : line_end) - p);

			if (memchr(p, '\0', (size_t)(line_end - p)))
				return err_set(err, 0, "invalid line %u in env file '%s'", lineno,
					       name);
			/* docker's rules (opts/envfile.go) and words */
			if (klen == 0)
				return err_set(err, 0, "poorly formatted environment: no variable "
						       "name on line '%.*s'",
					       (int)(line_end - p), p);
			if (memchr(p, ' ', klen) || memchr(p, '\t', klen))
				return err_set(err, 0, "poorly formatted environment: variable "
						       "'%.*s' contains whitespaces",
					       (int)klen, p);
			if (strv_push_n(out, p, (size_t)(line_end - p), err) < 0)
				return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

const char *spec_opt_next(const char *p, size_t *len)
{
	while (*p == ',')
		p++;
	if (!*p)
		return NULL;
	*len = strcspn(p, ",");
	return p;
}

int spec_parse_tmpfs(const char *arg, struct rt_spec *spec, struct sk_err *err)
{
	cleanup_free char *dst = NULL;
	cleanup_free char *options = NULL;
	const char *colon = strchr(arg, ':');
	size_t dlen = colon ? (size_t)(colon - arg) : strlen(arg);

	if (dlen == 0 || arg[0] != '/')
		return err_set(err, 0, "invalid tmpfs specification '%s': the path must be absolute",
			       arg);
	dst = strndup(arg, dlen);
	if (!dst || asprintf(&options, "rw,nosuid,nodev,noexec%s%s", colon && colon[1] ? "," : "",
			     colon ? colon + 1 : "") < 0)
		return err_set(err, ENOMEM, "cannot parse tmpfs '%s'", arg);
	return spec_add_mount(spec, dst, "tmpfs", "tmpfs", options, err);
}

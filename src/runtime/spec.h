/*
 * The one runtime model: a C mirror of the OCI runtime spec (config.json) with
 * the parts skiff uses. `skiff run` fills it from the image config and the
 * flags (spec.c has the docker-compatible merging rules); a runc-compatible CLI
 * can fill it from a bundle's config.json. The runtime (container.c) only ever
 * reads it. Everything here is owned by the spec and freed by spec_release().
 */
#ifndef SKIFF_RUNTIME_SPEC_H
#define SKIFF_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/rlimit.h"
#include "runtime/seccomp.h"
#include "net/bridge.h"
#include "util/err.h"

/* A growable NULL-terminated string vector (argv/envp shaped). */
struct strv {
	char **v; /* NULL-terminated once anything was pushed; NULL when empty */
	size_t n;
};
int strv_push(struct strv *s, const char *str, struct sk_err *err);
int strv_push_n(struct strv *s, const char *str, size_t len, struct sk_err *err);
void strv_release(struct strv *s);
/* Number of entries of a NULL-terminated vector (NULL counts as 0). */
size_t strv_len(char *const *v);

/* process.user. `spec` is skiff's addition: the unresolved "user[:group]" of
 * the image or of -u, resolved by the child against the container's own
 * /etc/passwd and /etc/group (user.c) once its root is mounted. */
struct rt_user {
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	char *spec; /* NULL or "" = uid/gid above as given */
};

/* process.capabilities: filled and applied by the capabilities work (issue 4);
 * `set == false` means "leave the capabilities as they are". */
struct rt_capabilities {
	bool set;
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct rt_process {
	struct strv args;
	struct strv env; /* "K=V" */
	char *cwd;       /* absolute; created when missing */
	struct rt_user user;
	bool terminal;
	struct rt_capabilities capabilities;
	bool no_new_privileges;
	struct rlimits rlimits; /* clamped by the parent (rlimit_clamp) */
};

/* mounts[]: type "bind" (or options containing bind/rbind) is a bind mount of
 * source; anything else is a new file system of that type. options are OCI's:
 * mount flags (ro, nosuid, nodev, noexec, rbind, ...) and file-system data
 * (mode=755, size=64m, ...), comma-separated. */
struct rt_mount {
	char *destination;
	char *type;
	char *source;
	char *options;
	/* skiff's: a file made from these bytes in a small tmpfs of the
	 * container's own and bound on destination (its /etc/hostname, hosts,
	 * resolv.conf). Nothing of the host is named or shared. */
	char *content;
	size_t content_len;
};

struct rt_root {
	char *path; /* the container's root directory (a mount point once prepared) */
	bool readonly;
	/* skiff's addition: when n_layers > 0 the child mounts an overlay on path
	 * from these lower directories (top layer first) and upper/work, inside the
	 * container's own mount namespace, so nothing is ever mounted on the host. */
	struct strv layers;
	char *upper;
	char *work;
	bool userxattr; /* rootless: overlay state in user.overlay.* xattrs */
	bool copy;	/* storage driver vfs: copy the layers instead of an overlay */
};

/* skiff's: the container's network beyond its namespace. */
struct rt_network {
	bool bridge;		   /* a veth on a bridge network (net/bridge.h) */
	bool slirp;		   /* rootless: slirp4netns (net/slirp.h) */
	struct net_def def;	   /* which one (network_find / network_default) */
	struct ipam_request req;   /* --ip; names for the network's resolver */
	char *names;		   /* req.names' storage. Owned. */
	struct bridge_lease lease; /* from bridge_prepare, when bridge */
	/* --network container:NAME: the other container's namespace (an fd
	 * of /proc/PID/ns/net; joined by the child). Owned. */
	bool join_netns;
	int netns_fd;
	struct port_map *ports;    /* -p; host port 0 is chosen at start. Owned. */
	size_t n_ports;
};

struct rt_spec {
	struct rt_process process;
	struct rt_root root;
	char *hostname;
	char *domainname; /* NULL: the UTS namespace's default */
	struct rt_mount *mounts; /* in order; the defaults (/proc, /dev, ...) come first */
	size_t n_mounts;
	unsigned long namespaces; /* CLONE_NEW* flags */
	struct strv masked_paths;
	struct strv readonly_paths;
	/* linux.resources: the container's cgroup gets these (skiff/<id>); every
	 * container gets a cgroup, with or without limits. */
	struct cgroup_limits resources;
	/* linux.seccomp, compiled by the parent (len 0: none). Owned. */
	struct seccomp_prog seccomp;
	/* --privileged: the host's devices in /dev and /sys writable (the
	 * capabilities, seccomp and masked paths are set by the caller). */
	bool privileged;
	struct rt_network net;
};

void spec_release(struct rt_spec *spec);

/* Append a mount (all strings copied; source/options may be NULL). */
/* A file with content at dst (rt_mount.content); options as a bind's ("ro"). */
int spec_add_file(struct rt_spec *spec, const char *dst, const char *content, size_t len,
		  const char *options, struct sk_err *err);
int spec_add_mount(struct rt_spec *spec, const char *dst, const char *type, const char *src,
		   const char *options, struct sk_err *err);

/* Docker's defaults: namespaces (pid, mount, uts, ipc, cgroup, and net unless
 * host_network), the /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and /sys mounts,
 * masked and read-only paths (none when privileged, and /sys read-write). */
int spec_set_docker_defaults(struct rt_spec *spec, bool host_network, bool privileged,
			     struct sk_err *err);

/* process.args as docker builds them: entrypoint + cmd. flag_entrypoint is
 * --entrypoint (NULL when not given; "" resets the entrypoint); it clears the
 * image's Cmd. user_args (n_user may be 0) replace the Cmd. An empty result is
 * an error. */
int spec_build_args(char *const *img_entrypoint, char *const *img_cmd, const char *flag_entrypoint,
		    char *const *user_args, size_t n_user, struct strv *out, struct sk_err *err);

/* Set "K=V" in env, replacing an existing K in place (docker's
 * ReplaceOrAppendEnvValues). A bare "K" takes K's value from lookup_env (usually
 * getenv) and is dropped when unset there. */
int env_set(struct strv *env, const char *kv, char *(*lookup_env)(const char *),
	    struct sk_err *err);
/* Value of K in env, or NULL. */
const char *env_get(char *const *env, const char *key);
/* Parse an --env-file body: one K=V or K per line, '#' comments and blank lines
 * skipped, leading whitespace trimmed; pushed (unmerged) onto out. */
int env_file_parse(const char *data, size_t len, const char *name, struct strv *out,
		   struct sk_err *err);
/* Read the --env-file at path (at most ENV_FILE_MAX bytes) and parse it onto out. */
#define ENV_FILE_MAX (1u << 20)
int env_file_load(const char *path, struct strv *out, struct sk_err *err);

/* -v and --mount: runtime/volume_plan.h */
/* --tmpfs DST[:OPTS] -> a tmpfs mount with docker's "rw,nosuid,nodev,noexec" plus OPTS. */
int spec_parse_tmpfs(const char *arg, struct rt_spec *spec, struct sk_err *err);

/* Iterate over a comma-separated option string: returns the next option (its
 * length in *len, not NUL-terminated) or NULL at the end. Advance with p += *len.
 *   for (o = opts; (o = spec_opt_next(o, &len)); o += len) ... */
const char *spec_opt_next(const char *p, size_t *len);

#define SPEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#endif

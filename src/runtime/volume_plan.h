/*
 * What a container mounts besides its root, as docker decides it: -v
 * (binds, named and anonymous volumes), --mount (bind, volume, tmpfs),
 * --volumes-from, and an anonymous volume for each of the image's VOLUME
 * entries that nothing else covers.
 *
 *   volume_plan_build    parse and merge the options (docker's rules and
 *                        words); no side effect
 *   volume_plan_resolve  make the volumes that do not exist and record the
 *                        container as their user (under the volumes' lock)
 *   volume_plan_save     containers/<id>/mounts.json: what start, inspect,
 *                        --volumes-from and rm -v read later
 *   volume_plan_apply    the runtime spec's mounts, sorted as docker sorts
 *                        them (parents first)
 */
#ifndef SKIFF_RUNTIME_VOLUME_PLAN_H
#define SKIFF_RUNTIME_VOLUME_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "image/store.h"
#include "runtime/spec.h"
#include "util/err.h"

#define VOLUME_PLAN_FILE "mounts.json"

enum volume_mount_kind { VOLUME_MOUNT_BIND, VOLUME_MOUNT_VOLUME, VOLUME_MOUNT_TMPFS };

/* One mount. Strings owned; NULL stands for "". */
struct volume_mount {
	enum volume_mount_kind kind;
	char *name;	   /* volume: its name (NULL: anonymous, until resolved) */
	char *source;	   /* bind: the host path; volume: its _data once resolved */
	char *destination; /* as docker reports it: cleaned */
	char *mode;	   /* docker's Mode ("ro,z", "z", "") */
	char *propagation; /* docker's Propagation ("rprivate" for binds, "" otherwise) */
	char *subpath;	   /* volume: --mount volume-subpath */
	char *tmpfs;	   /* tmpfs: "size=1m,mode=1770" */
	char *driver;	   /* --mount volume-driver (only "local" exists) */
	bool rw;
	bool anonymous;	  /* made for this container: rm -v and --rm remove it */
	bool copy;	  /* filled from the image on the container's first start */
	bool make_source; /* -v: a missing host directory is made */
	bool recursive;	  /* bind: rbind (--mount bind-recursive=disabled: not) */
	struct strv labels, opts; /* --mount volume-label / volume-opt for a new volume */
};

struct volume_plan {
	struct volume_mount *m;
	size_t n;
	struct strv config_volumes; /* Config.Volumes: the image's VOLUME and -v's anonymous */
	struct strv volumes_from;   /* HostConfig.VolumesFrom as given */
	json_t *host_mounts;	    /* HostConfig.Mounts: --mount as docker keeps it, or NULL */
};

/* The run options that make mounts. */
struct volume_request {
	const struct strv *binds;	 /* -v */
	const struct strv *mounts;	 /* --mount */
	const struct strv *volumes_from; /* --volumes-from */
	const struct strv *tmpfs;	 /* --tmpfs DST[:OPTS] (a destination taken) */
	char *const *image_volumes;	 /* the image's VOLUME entries, or NULL */
};

/* What docker's client refuses before asking the daemon, in its words: an
 * empty section in -v, a --mount that is not docker's key=value list. */
int volume_plan_check_bind(const char *arg, struct sk_err *err);
int volume_plan_check_mount(const char *arg, struct sk_err *err);

/* -v's entry as docker keeps it in HostConfig.Binds (a relative source made
 * absolute); NULL for an anonymous volume (-v /path), which docker keeps in
 * Config.Volumes. */
char *volume_plan_bind_entry(const char *arg);

/* Parse and merge (s: to read --volumes-from's containers). */
int volume_plan_build(struct store *s, const struct volume_request *r, struct volume_plan *p,
		      struct sk_err *err);
int volume_plan_resolve(struct store *s, const char *ctr_id, struct volume_plan *p,
			struct sk_err *err);
int volume_plan_save(int ctr_dirfd, const struct volume_plan *p, struct sk_err *err);
/* 0 with *p filled, 1 when the container has no record (made before volumes). */
int volume_plan_load(int ctr_dirfd, struct volume_plan *p, struct sk_err *err);

/* The spec's mounts for the plan and --tmpfs, parents before children. With
 * first_start, new volumes are filled from the image (docker does it at
 * create). */
int volume_plan_apply(struct store *s, const struct volume_plan *p, const struct strv *tmpfs,
		      bool first_start, struct rt_spec *spec, struct sk_err *err);

/* Names of the container's anonymous volumes (to remove with it). */
int volume_plan_anonymous(const struct volume_plan *p, struct strv *names, struct sk_err *err);
/* The same from a container's record (nothing when it has none). */
int volume_plan_anonymous_of(int ctr_dirfd, struct strv *names);

/* For inspect, from the container's record: {"Mounts", "Volumes",
 * "HostMounts", "VolumesFrom"} in docker's shapes, or NULL without a record. */
json_t *volume_plan_inspect(int ctr_dirfd);

void volume_plan_release(struct volume_plan *p);

/* docker's RAMInBytes ("64m", "1.5g", "100"): 0, or -1 when it is not a size. */
int volume_plan_parse_size(const char *s, long long *out);

#endif

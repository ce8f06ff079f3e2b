/*
 * Volumes: directories of the store that outlive containers, as docker's
 * "local" driver keeps them (docs/STORE.md, "Volumes").
 *
 *   volumes/.lock              flock: exclusive around every change (create,
 *                              remove, prune) and around a run's window from
 *                              "the volume exists" to "the container refers to it"
 *   volumes/NAME/_data/        the content, what containers mount
 *   volumes/NAME/opts.json     driver, labels, options, creation time
 *   volumes/NAME/refs/<id>     one empty file per container that mounts it
 *   volumes/.tmp-<rand>/       a volume being made (renamed to NAME when whole)
 *   volumes/.rm-<rand>/        a volume being deleted (flocked by its remover)
 *
 * No name starting with '.' is a valid volume name, so leftovers of a killed
 * create or rm never show in `volume ls`; the next writer removes them.
 * A volume is in use while a container directory named in its refs/ exists:
 * a container removed by any path (rm, --rm, GC) stops counting at once, and
 * its stale reference is dropped by the next writer.
 *
 * The parts that set up containers' mounts are in volume_plan.c (-v, --mount,
 * --volumes-from, the image's VOLUME entries) and volume_copy.c (the first
 * use of a volume copies the image's content into it, in the container's
 * mount namespace).
 */
#ifndef SKIFF_RUNTIME_VOLUME_H
#define SKIFF_RUNTIME_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "image/store.h"
#include "runtime/spec.h"
#include "util/err.h"

#define VOLUME_DIR "volumes"
#define VOLUME_NAME_MAX 255
#define VOLUME_DATA "_data"
/* docker 23+: the label of volumes made without a name; `volume prune`
 * without --all removes only those. */
#define VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

/* What `volume inspect` shows. labels and options are JSON objects or NULL
 * (docker's null), owned. */
struct volume_info {
	char name[VOLUME_NAME_MAX + 1];
	char driver[32];
	char created[40]; /* RFC 3339 */
	json_t *labels;
	json_t *options; /* type, device, o: how the volume is mounted */
	char mountpoint[4400];
};
void volume_info_release(struct volume_info *v);
/* The volume as `volume inspect` prints it (docker's keys and order). */
json_t *volume_info_json(const struct volume_info *v);

/* docker's rules for a local volume's name, with docker's words. */
int volume_check_name(const char *name, struct sk_err *err);

struct volume_create_opts {
	const char *name;   /* NULL or "": a new anonymous volume (64 hex digits) */
	const char *driver; /* NULL or "local" */
	char *const *labels; /* "K=V" or "K"; may be NULL */
	size_t n_labels;
	char *const *opts; /* driver options "K=V": type, device, o */
	size_t n_opts;
};
/* Create a volume, or find the one of that name (docker's create is
 * idempotent). name_out gets its name. */
int volume_create(struct store *s, const struct volume_create_opts *o,
		  char name_out[VOLUME_NAME_MAX + 1], struct sk_err *err);
/* ENOENT with "get NAME: no such volume" when absent. */
int volume_get(struct store *s, const char *name, struct volume_info *out, struct sk_err *err);
/* Every volume, in docker's natural name order. *out freed with volume_list_free. */
int volume_list(struct store *s, struct volume_info **out, size_t *n, struct sk_err *err);
void volume_list_free(struct volume_info *v, size_t n);
/* The containers that use the volume (ids of existing containers; the
 * volume's refs). Returns their number, or -1. ids may be NULL. */
int volume_users(struct store *s, const char *name, struct strv *ids, struct sk_err *err);

/* Remove a volume no container uses. A missing one is an error (ENOENT)
 * unless force; one in use always is ("volume is in use - [ids]"). */
int volume_remove(struct store *s, const char *name, bool force, struct sk_err *err);
/* Remove the volumes of names that no container uses any more (a removed
 * container's anonymous volumes); errors are ignored, as docker ignores them. */
void volume_remove_unused(struct store *s, const struct strv *names);

/* volume prune: the unused volumes without driver options that match (only
 * anonymous ones unless all; label filters "K", "K=V", negated with
 * label_not). fn is called for each removed one with its size. */
struct volume_prune_filter {
	bool all;
	char *const *labels;
	size_t n_labels;
	char *const *labels_not;
	size_t n_labels_not;
};
int volume_prune(struct store *s, const struct volume_prune_filter *f,
		 void (*fn)(const char *name, long long size, void *arg), void *arg,
		 struct sk_err *err);
/* Does the volume's labels object match "K" or "K=V"? */
bool volume_label_match(json_t *labels, const char *filter);

/* For `system df`: local volumes without driver options. */
struct volume_usage {
	size_t total, active;
	long long size, reclaimable;
};
int volume_usage(struct store *s, struct volume_usage *u, struct sk_err *err);

/* Internal to the volume files: the volumes directory (made when missing)
 * and its lock. */
int volume_dir_open(struct store *s, struct sk_err *err);
int volume_lock(int voldir, struct sk_err *err);
/* Under the lock: record that container id uses the volume. */
int volume_add_user(int voldir, const char *name, const char *id, struct sk_err *err);
/* Under the lock: create the volume unless it exists (o->name set). */
int volume_create_locked(struct store *s, int voldir, const struct volume_create_opts *o,
			 char name_out[VOLUME_NAME_MAX + 1], bool *created, struct sk_err *err);
/* The volume's opts.json as an object (NULL: none or unreadable). */
json_t *volume_read_opts(int voldir, const char *name);

/* docker's natural order of names (digit runs compared as numbers). */
bool volume_name_less(const char *a, const char *b);

#endif

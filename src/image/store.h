/*
 * The content-addressed image store (root: /var/lib/skiff, --root, SKIFF_ROOT).
 *
 *   blobs/sha256/<hex>        manifests, indexes, configs (verified before written)
 *   partial/<hex>             compressed bytes of a layer being pulled (resume point)
 *   locks/<hex>               flock held while one process fetches that blob/layer
 *   layers/<diffid-hex>/diff  one extracted layer, overlay-ready
 *   layers/<diffid-hex>/size  uncompressed size in bytes (decimal)
 *   layers/tmp-*              layers being extracted (removed when found stale)
 *   refs                      "<canonical ref> <manifest digest> <config digest>" lines
 *   containers/<id>/          one container's state; its file "image" (config
 *                             digest), when present, keeps that image's layers from GC
 *   tmp/                      scratch space (e.g. `load` spools archives here)
 *   lock                      flock for writers of refs and layer renames
 *
 * Every write that others can see is temp file + fsync + rename. A killed skiff
 * leaves the store valid; a later pull resumes from partial/.
 */
#ifndef SKIFF_STORE_H
#define SKIFF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/ref.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/sha256.h"

struct store {
	int root_fd;
	char root[4096];
};

/* Open (creating if needed) the store at root. */
int store_open(struct store *s, const char *root, struct sk_err *err);
void store_close(struct store *s);

/* The writers' lock (flock LOCK_EX on root/lock). Returns an fd to pass to
 * store_unlock, or -1. Held only for short critical sections. */
int store_lock(struct store *s, struct sk_err *err);
void store_unlock(int lockfd);

/* Blobs: data must hash to digest, else -1 naming both digests. */
int store_blob_put(struct store *s, const char *digest, const void *data, size_t len,
		   struct sk_err *err);
int store_blob_get(struct store *s, const char *digest, size_t max, struct buf *out,
		   struct sk_err *err);
bool store_blob_exists(struct store *s, const char *digest);

/* Layers, keyed by diff_id. */
bool store_layer_exists(struct store *s, const char *diff_id);
/* Absolute path of the layer's overlay-ready directory: <root>/layers/<hex>/diff */
void store_layer_path(struct store *s, const char *diff_id, char *out, size_t len);
/* The layer's size as docker counts it (unpack_result.content_bytes; layers
 * stored before skiff counted so have their tar's size); -1 when unknown. */
int64_t store_layer_size(struct store *s, const char *diff_id);
/* The size of its uncompressed tar; -1 when unknown (stored by an older skiff
 * whose "size" was that, or by none). */
int64_t store_layer_tar_size(struct store *s, const char *diff_id);

struct layer_tmp {
	int dirfd;     /* fd of the empty diff/ directory to extract into */
	int lockfd;    /* flock held on layers/tmp-*: a tmp dir nobody holds is stale */
	char name[64]; /* layers/tmp-XXXXXX */
};
int store_layer_tmp_new(struct store *s, struct layer_tmp *t, struct sk_err *err);
/* Rename tmp into layers/<hex>; if that layer appeared meanwhile, tmp is discarded. */
/* content_size: the bytes of its files (docker's layer Size); tar_size: the
 * bytes of its uncompressed tar (a manifest's or a saved archive's size). */
int store_layer_tmp_commit(struct store *s, struct layer_tmp *t, const char *diff_id,
			   uint64_t content_size, uint64_t tar_size, struct sk_err *err);
void store_layer_tmp_discard(struct store *s, struct layer_tmp *t);

/* Keep GC away while this process adds content (blobs, layers) that no image
 * record refers to yet: a shared lock on root/gc.lock that store_gc takes
 * exclusively. Pull and load hold it for their whole run. Returns an fd. */
int store_hold(struct store *s, struct sk_err *err);
void store_release(int fd);

/* Per-blob fetch lock: blocks until no other process fetches digest. Returns fd. */
int store_fetch_lock(struct store *s, const char *digest, struct sk_err *err);
void store_fetch_unlock(int fd);
/* Open partial/<hex> for appending; *have is the number of bytes already there. */
int store_partial_open(struct store *s, const char *digest, int64_t *have, struct sk_err *err);
void store_partial_remove(struct store *s, const char *digest);
/* Keep the verified compressed bytes of a fetched layer as blobs/sha256/<hex>
 * (a rename of partial/<hex>, or a hard link of src_name in dirfd): save
 * and push then have the layer exactly as its manifest names it. Failing to
 * keep it loses nothing but that copy. Layer blobs go with the last image
 * whose manifest names them (store_gc). */
void store_keep_layer_blob(struct store *s, const char *digest);
void store_keep_layer_blob_file(struct store *s, const char *digest, int dirfd,
				const char *src_name);
/* Open a kept layer blob (O_RDONLY), or -1. */
int store_layer_blob_open(struct store *s, const char *digest);

/* Image records. */
struct store_image {
	char ref[REF_STR_MAX];                  /* canonical, "" for an untagged image */
	char manifest_digest[DIGEST_STR_MAX];
	char config_digest[DIGEST_STR_MAX];     /* the IMAGE ID */
};
int store_refs_list(struct store *s, struct store_image **out, size_t *n, struct sk_err *err);
/* Add or replace the record for ref (takes the lock). */
int store_ref_set(struct store *s, const struct store_image *img, struct sk_err *err);
/* Remove the record for ref; returns 1 if removed, 0 if absent (takes the lock). */
int store_ref_remove(struct store *s, const char *ref, struct sk_err *err);
/* Remove exactly this record (an untagged one is matched by its config digest). */
int store_record_remove(struct store *s, const struct store_image *img, struct sk_err *err);
/* Find an image by name (parsed as a reference), full image id / digest, or a
 * unique id prefix (at least 4 hex). ENOENT when absent; ambiguous prefix is an error. */
int store_image_lookup(struct store *s, const char *name, struct store_image *out,
		       struct sk_err *err);

/* Everything the image record needs to be run or listed: its manifest and
 * config, parsed. Caller releases with store_image_info_release(). */
struct image_config;
struct manifest;
int store_image_config(struct store *s, const struct store_image *img, struct image_config *cfg,
		       struct sk_err *err);
/* Total uncompressed size of the image's layers (bytes). */
int64_t store_image_size(struct store *s, const struct image_config *cfg);

/* Calls fn(container id, image config digest, ctx) for each container whose
 * directory records an image; stops at the first non-zero return of fn and
 * returns it (0 when all were visited). */
typedef int (*store_container_fn)(const char *id, const char *config_digest, void *ctx);
int store_for_each_container_image(struct store *s, store_container_fn fn, void *ctx);

/* Make the work directory rel (root-relative) and return an fd holding its
 * flock, the sign of a living writer for store_remove_stale_dirs(). Returns
 * STORE_WORK_DIR_RETRY when the name is taken or the directory was swept
 * before it was locked (try another name), -1 with err on other errors. */
#define STORE_WORK_DIR_RETRY (-2)
int store_make_work_dir(struct store *s, const char *rel, struct sk_err *err);

/* Remove the directories dir/prefix* whose writer died: each writer holds an
 * flock on its directory while it works, so a free lock means a dead writer. */
void store_remove_stale_dirs(struct store *s, const char *dir, const char *prefix);

/* Remove tmp dirs whose writer died (partial files stay: they are the resume
 * points). Called by pull and gc. */
void store_cleanup_stale(struct store *s);

/* Remove layers, partial files and stale tmp dirs no image record uses.
 * Safe to interrupt: every removal leaves a valid store. freed (may be NULL)
 * gets the bytes released. */
int store_gc(struct store *s, uint64_t *freed, struct sk_err *err);

#endif

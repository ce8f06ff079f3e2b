/*
 * New images from directory trees: `commit` (a container's upper directory
 * on top of its image) and `import` (a tarball as the only layer).
 *
 * The new layer is written as a tar (layer_write.h) and extracted into the
 * store by the same code as a pull (unpack.h), so the stored layer is what
 * the tar says and its diff_id is the tar's digest. Then the config (the
 * base config with the container's settings, the changes, a history entry
 * and the new diff_id), a manifest naming the layers as uncompressed tars
 * (nothing compressed exists until a push), and last the image record: a
 * killed commit leaves no record, only an unreferenced layer for the GC.
 * An empty change adds no layer: the history entry says empty_layer, as
 * docker's does.
 */
#ifndef SKIFF_COMMIT_H
#define SKIFF_COMMIT_H

#include <stdbool.h>

#include "image/store.h"
#include "util/err.h"

/* What the container was: its settings become the new image's defaults. */
struct commit_container {
	const char *id;
	const char *hostname;
	const char *image_name; /* as it was run ("busybox") */
	char *const *args;	/* its process: entrypoint + cmd (NULL-terminated) */
	char *const *env;	/* NULL-terminated */
	const char *cwd;
	const char *user;
	bool tty;
	int upper_fd; /* its overlay upper directory */
	bool running;
};

struct commit_opts {
	const char *author;
	const char *message;
	char *const *changes; /* Dockerfile instructions (config_edit.h), NULL-terminated */
	size_t n_changes;
	const char *ref; /* canonical reference to record, or NULL for an untagged image */
};

/* Commit: the container's changes on top of base_config_digest. out gets
 * the new image id (config digest). */
int image_commit(struct store *s, const char *base_config_digest, const struct commit_container *c,
		 const struct commit_opts *o, char out[DIGEST_STR_MAX], struct sk_err *err);

/* Import: the tar read from fd (plain, gzip or zstd) as an image of one
 * layer; config from the host's platform, the changes, and message. */
int image_import(struct store *s, int fd, const char *source, const struct commit_opts *o,
		 char out[DIGEST_STR_MAX], struct sk_err *err);

#endif

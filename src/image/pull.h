/*
 * The pull pipeline: ref -> (mirror) -> manifest or index (platform choice) ->
 * config -> for each missing layer, concurrently: network bytes -> sha256 of the
 * blob -> decompress -> sha256 of the tar -> extraction into layers/tmp-* ->
 * verify both digests -> rename into place -> record the ref.
 */
#ifndef SKIFF_PULL_H
#define SKIFF_PULL_H

#include <stdbool.h>

#include "image/manifest.h"
#include "image/ref.h"
#include "image/store.h"
#include "util/config.h"
#include "util/err.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_TTY, PROGRESS_PLAIN, PROGRESS_QUIET };

struct pull_opts {
	struct platform platform; /* which platform to pick from an index */
	int max_concurrent;       /* layers at once, default from config (3) */
	enum progress_mode progress;
};

/* Pull ref into the store; on success out describes the stored image. Progress
 * goes to stderr. */
int pull_image(struct store *s, const struct sk_config *cfg, const struct image_ref *ref,
	       const struct pull_opts *opts, struct store_image *out, struct sk_err *err);

#endif

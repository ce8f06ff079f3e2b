/*
 * skiff save: images of the store as a `docker save` archive (the layout
 * docker 20.10 writes and loads: <v1id>/{VERSION,json,layer.tar},
 * <config-hex>.json, manifest.json, repositories) or as an OCI image layout
 * (oci-layout, index.json, blobs/sha256/...).
 *
 * Each layer comes from the store, in this order of preference:
 *   - its blob as pulled or loaded (kept in blobs/sha256): decompressed for
 *     docker's layer.tar, as it is for an OCI layout; the bytes are those
 *     the config's diff_id was computed over;
 *   - its directory written again as a tar (layer_write.h). Layers skiff
 *     made (commit, import) come out as they went in; a layer made by
 *     another tar writer whose blob the store no longer has (a store from
 *     before blobs were kept) gives other bytes: the saved image then gets
 *     the new diff_ids, hence a new config and id, with a warning.
 * Nothing is written before every image and layer has been planned, so a
 * missing image gives an error and no output.
 */
#ifndef SKIFF_ARCHIVE_WRITE_H
#define SKIFF_ARCHIVE_WRITE_H

#include <stddef.h>

#include "image/store.h"
#include "util/err.h"

enum save_format { SAVE_DOCKER, SAVE_OCI };

/* Write the images named (names, ids or id prefixes) to out_fd. A missing
 * image is an error with err->errnum ENOENT. */
int archive_save(struct store *s, char *const *names, size_t n, enum save_format format, int out_fd,
		 struct sk_err *err);

#endif

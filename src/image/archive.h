/*
 * Image archives: `docker save` tarballs (legacy <hex>/layer.tar and docker 25+
 * blobs/sha256 layouts) and OCI image layout tarballs, the offline way into the
 * store (`skiff load`).
 *
 * The archive is hostile input. Only a fixed set of entry names is read
 * (manifest.json, index.json, oci-layout, repositories, <hex>.json,
 * <hex>/layer.tar, <hex>.tar (skopeo, podman), <hex>/json, <hex>/VERSION, blobs/sha256/<hex>);
 * everything else is ignored. Entries are spooled into <root>/tmp/load-* under flat names (symlinks
 * and hard links between accepted names are kept as a name mapping, never followed on disk), then
 * every blob is verified against its digest, every layer against the config's diff_id, before any
 * image record is written.
 */
#ifndef SKIFF_ARCHIVE_H
#define SKIFF_ARCHIVE_H

#include <stddef.h>

#include "image/ref.h"
#include "image/store.h"
#include "util/err.h"
#include "util/sha256.h"

#define ARCHIVE_MAX_IMAGES 256 /* images (or index entries) in one archive */
#define ARCHIVE_MAX_TAGS 256   /* RepoTags of one image */

struct archive_loaded {
	char ref[REF_STR_MAX];	 /* canonical, "" when the image was loaded untagged */
	char shown[REF_STR_MAX]; /* as docker prints it ("busybox:latest"), "" when untagged */
	char config_digest[DIGEST_STR_MAX]; /* the image ID */
	char manifest_digest[DIGEST_STR_MAX];
};

struct archive_report {
	struct archive_loaded *images; /* one per tag, or one per untagged image */
	size_t n_images;
	size_t layers_unpacked; /* layers extracted into the store */
	size_t layers_present;	/* layers the store already had */
};

/* Load every image of the archive read from fd (a file or a pipe; the archive may
 * be gzip-compressed as a whole). name says what the input is in messages
 * ("FILE" or "stdin"). On failure no image record is written (layers already
 * committed stay, unreferenced, for the next GC). rep is filled on success and
 * released with archive_report_release(). */
int archive_load(struct store *s, int fd, const char *name, struct archive_report *rep,
		 struct sk_err *err);
void archive_report_release(struct archive_report *rep);

#endif

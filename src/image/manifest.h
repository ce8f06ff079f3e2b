/*
 * Manifests, indexes and platform choice.
 * Media types: Docker schema 2 manifest / manifest list, OCI manifest / index.
 * Docker schema 1 is refused with a clear error.
 */
#ifndef SKIFF_MANIFEST_H
#define SKIFF_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/sha256.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MANIFEST_ACCEPT                                                                            \
	MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_OCI_INDEX

#define MANIFEST_MAX_LAYERS 1024
#define INDEX_MAX_ENTRIES 1024

struct platform {
	char os[32];
	char arch[32];
	char variant[16];
};

enum compression { COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_ZSTD };

struct descriptor {
	char media_type[128];
	char digest[DIGEST_STR_MAX];
	int64_t size;
	struct platform platform;     /* index entries only, normalised */
	bool has_platform;	      /* index entries: the entry carried a "platform" */
	bool attestation;	      /* index entries: a build attestation, never run */
	enum compression compression; /* layers only */
};

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct manifest {
	enum manifest_kind kind;
	char media_type[128];
	struct descriptor config;  /* MANIFEST_IMAGE */
	struct descriptor *layers; /* MANIFEST_IMAGE */
	size_t n_layers;
	struct descriptor *manifests; /* MANIFEST_INDEX */
	size_t n_manifests;
};

/* Parse a manifest or index. content_type (may be NULL or generic) is checked against
 * the body's own mediaType; when both are missing the shape decides. Layer media
 * types decide compression; unknown layer types are an error naming them. */
int manifest_parse(const char *data, size_t len, const char *content_type, struct manifest *out,
		   struct sk_err *err);
void manifest_release(struct manifest *m);

/* The host's platform: linux + uname machine normalised (x86_64->amd64,
 * aarch64->arm64 variant v8, armv7l->arm v7, i686->386 ...). */
void platform_host(struct platform *p);
/* "os/arch[/variant]", normalised the same way. Anything else (e.g. "arm64" alone)
 * is an error. */
int platform_parse(const char *s, struct platform *p, struct sk_err *err);
/* Normalise in place as containerd does: lowercase, x86_64->amd64 (variant v1->""),
 * aarch64->arm64 ("8"->"v8"), armhf->arm/v7, armel->arm/v6, arm without variant ->
 * arm/v7, i?86->386. */
void platform_normalize(struct platform *p);
/* "os/arch" or "os/arch/variant"; truncated to len. */
void platform_format(const struct platform *p, char *out, size_t len);

/* Pick the index entry for want, as containerd does: os and arch must match;
 * variant matches exactly when want has one (arm64 "v8" and "" are equivalent);
 * attestation entries (platform unknown/unknown or
 * vnd.docker.reference.type annotations) are skipped. On no match, err lists the
 * platforms present: "no matching manifest for linux/s390x in the manifest list
 * entries (available: linux/amd64, linux/arm64/v8)".
 * Order of preference among entries of the right os/arch (ties: first in the index):
 *   1. the same variant;
 *   2. want has a variant: an older variant the CPU also runs (amd64 v3 runs v2 and
 *      v1, arm v7 runs v6 and v5), the newest first; then an entry with no variant;
 *   3. want has none: an entry with a variant, the oldest first (amd64/v2 is taken
 *      only when the index has no plain amd64);
 *   4. an entry with no platform at all (containerd treats it as matching any).
 * Only image manifests are chosen (no nested index, no artifacts). */
int manifest_select_platform(const struct manifest *index, const struct platform *want,
			     size_t *chosen, struct sk_err *err);

#endif

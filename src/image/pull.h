/*
 * The pull pipeline: ref -> (mirror) -> manifest or index (platform choice) ->
 * config -> for each missing layer, concurrently: network bytes -> sha256 of the
 * blob -> decompress -> sha256 of the tar -> extraction into layers/tmp-* ->
 * verify both digests -> rename into place -> record the ref.
 */
#ifndef SKIFF_PULL_H
#define SKIFF_PULL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "image/manifest.h"
#include "image/ref.h"
#include "image/store.h"
#include "util/config.h"
#include "util/err.h"
#include "util/progress.h" /* enum progress_mode */

struct pull_opts {
	struct platform platform; /* which platform to pick from an index */
	int max_concurrent;       /* layers at once, default from config (3) */
	enum progress_mode progress;
};

/* What a pull did, for the docker-like summary lines. */
struct pull_report {
	char digest[DIGEST_STR_MAX]; /* what the reference resolved to (index or manifest) */
	bool up_to_date;             /* the ref already named this manifest, nothing fetched */
	unsigned layers_fetched;
	unsigned layers_present; /* already in the store (any image) */
	uint64_t bytes_fetched;  /* compressed bytes received from the network */
};

/* Pull ref into the store; on success out describes the stored image. Progress
 * goes to stderr. The ref is recorded as "name:tag", or "name@digest" for a pull
 * by digest; out->manifest_digest is the platform's image manifest. */
int pull_image(struct store *s, const struct sk_config *cfg, const struct image_ref *ref,
	       const struct pull_opts *opts, struct store_image *out, struct sk_err *err);
/* The same, also filling rep (may be NULL). */
int pull_image_report(struct store *s, const struct sk_config *cfg, const struct image_ref *ref,
		      const struct pull_opts *opts, struct store_image *out,
		      struct pull_report *rep, struct sk_err *err);

/* docker's --platform (containerd's rules): "os/arch[/variant]", or one word
 * that is an operating system (the host's architecture) or an architecture
 * ("arm64", "aarch64": linux). Aliases are normalised; an unknown word is
 * docker's error. */
int pull_parse_platform(const char *s, struct platform *p, struct sk_err *err);

/* docker's closing lines: "Digest: sha256:...", "Status: Downloaded newer image for
 * alpine:latest" (or "Image is up to date for ..."), then the canonical ref. With
 * quiet, only the canonical ref. */
void pull_print_summary(FILE *out, const struct image_ref *ref, const struct pull_report *rep,
			bool quiet);

#endif

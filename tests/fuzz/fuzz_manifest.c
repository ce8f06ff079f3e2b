/*
 * Fuzz manifest_parse and manifest_select_platform: a manifest or index body as a
 * registry would send it, parsed under a few Content-Types, then (for an index)
 * a platform chosen for several wants. Seeds: tests/fuzz/corpus/fuzz_manifest/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
    NULL,
    "application/json",
    MT_DOCKER_MANIFEST,
    MT_DOCKER_LIST,
    MT_OCI_MANIFEST,
    MT_OCI_INDEX "; charset=utf-8",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
};

static const char *const wants[] = {"linux/amd64",    "linux/arm64", "linux/arm/v6",
				    "linux/amd64/v3", "linux/s390x", "unknown/unknown"};

static void select_all(const struct manifest *m)
{
	struct platform want;
	struct sk_err err;
	size_t chosen;

	platform_host(&want);
	if (manifest_select_platform(m, &want, &chosen, &err) == 0 && chosen >= m->n_manifests)
		__builtin_trap();
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		if (platform_parse(wants[i], &want, &err) < 0)
			__builtin_trap();
		if (manifest_select_platform(m, &want, &chosen, &err) == 0 &&
		    chosen >= m->n_manifests)
			__builtin_trap();
	}
}

/* What the parser promises its callers, checked on every accepted input. */
static void check_invariants(const struct manifest *m)
{
	if (m->kind == MANIFEST_IMAGE) {
		if (!digest_is_valid(m->config.digest) || m->n_layers > MANIFEST_MAX_LAYERS)
			__builtin_trap();
		for (size_t i = 0; i < m->n_layers; i++)
			if (!digest_is_valid(m->layers[i].digest) || m->layers[i].size < 0)
				__builtin_trap();
		return;
	}
	if (m->n_manifests > INDEX_MAX_ENTRIES)
		__builtin_trap();
	for (size_t i = 0; i < m->n_manifests; i++)
		if (!digest_is_valid(m->manifests[i].digest))
			__builtin_trap();
	select_all(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	struct sk_err err;

	for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
		if (manifest_parse((const char *)data, size, content_types[i], &m, &err) == 0) {
			check_invariants(&m);
			manifest_release(&m);
		} else if (err.msg[0] == '\0' || m.layers || m.manifests) {
			__builtin_trap(); /* a failure must say why and leave nothing behind */
		}
	}
	return 0;
}

/* The image configuration blob (docker/OCI image config JSON): what `run` needs. */
#ifndef SKIFF_IMAGE_CONFIG_H
#define SKIFF_IMAGE_CONFIG_H

#include <stddef.h>

#include "image/manifest.h"
#include "util/err.h"
#include "util/sha256.h"

struct image_config {
	struct platform platform;
	char created[64];  /* RFC 3339 as in the file, "" if absent */
	char **env;        /* NULL-terminated; "K=V" */
	char **entrypoint; /* NULL-terminated or NULL when absent */
	char **cmd;        /* NULL-terminated or NULL when absent */
	char *working_dir; /* NULL or "" when absent */
	char *user;        /* NULL or "" when absent */
	char **diff_ids;   /* rootfs.diff_ids, NULL-terminated, each a valid digest */
	size_t n_diff_ids;
	char **exposed_ports; /* NULL-terminated or NULL */
	char *stop_signal;    /* NULL when absent */
};

/* Parse; diff_ids must all be valid sha256 digests (they become file names). */
int image_config_parse(const char *data, size_t len, struct image_config *out, struct sk_err *err);
void image_config_release(struct image_config *c);

#endif

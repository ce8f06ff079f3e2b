/* The image configuration blob (docker/OCI image config JSON): what `run` needs. */
#ifndef SKIFF_IMAGE_CONFIG_H
#define SKIFF_IMAGE_CONFIG_H

#include <stddef.h>

#include "image/manifest.h"
#include "util/err.h"
#include "util/sha256.h"

/* Caps on what a config may hold (the whole blob is capped by CONFIG_MAX_BYTES). */
#define IMAGE_CONFIG_MAX_BYTES (8u << 20) /* the whole config blob */
#define IMAGE_CONFIG_MAX_ENV 4096     /* Env entries */
#define IMAGE_CONFIG_MAX_ARGS 4096    /* Entrypoint / Cmd elements */
#define IMAGE_CONFIG_MAX_PORTS 4096   /* ExposedPorts keys */
#define IMAGE_CONFIG_MAX_VOLUMES 1024 /* Volumes keys: an anonymous volume each at run */
#define IMAGE_CONFIG_MAX_STRING 65536 /* one Env entry or argument, in bytes */
#define IMAGE_CONFIG_MAX_SHORT 4096   /* WorkingDir, User, StopSignal, a port */

/* Every pointer is owned by the struct (each string allocated on its own) and freed
 * by image_config_release(). */
struct image_config {
	struct platform platform; /* normalised; fields "" when absent */
	char created[64];	  /* RFC 3339 as in the file, "" if absent */
	char **env;		  /* NULL-terminated, never NULL; each "K=V" with K non-empty */
	char **entrypoint;	  /* NULL-terminated or NULL when absent */
	char **cmd;		  /* NULL-terminated or NULL when absent */
	char *working_dir;	  /* NULL or "" when absent */
	char *user;		  /* NULL or "" when absent */
	char **diff_ids;	  /* rootfs.diff_ids, NULL-terminated, never NULL, valid digests */
	size_t n_diff_ids;
	char **exposed_ports; /* NULL-terminated or NULL */
	char **volumes;	      /* VOLUME entries: NULL-terminated or NULL */
	char *stop_signal;    /* NULL when absent */
	char **labels;	      /* "K=V", NULL-terminated or NULL; non-string values left out */
};

/* Parse; diff_ids must all be valid sha256 digests (they become file names) and
 * rootfs.type must be "layers". Null or absent optional fields are fine. A string
 * Entrypoint/Cmd is taken as a one-element list, as docker does. On error out is
 * left empty (safe to release). */
int image_config_parse(const char *data, size_t len, struct image_config *out, struct sk_err *err);
void image_config_release(struct image_config *c);

#endif

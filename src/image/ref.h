/*
 * Image references with docker's grammar (distribution/reference):
 *   alpine                -> docker.io/library/alpine:latest
 *   user/app:tag          -> docker.io/user/app:tag
 *   host:port/ns/app@sha256:<hex>   (a digest wins over a tag for fetching)
 *   localhost/x           -> localhost/x:latest
 * The first component is a registry host when it contains '.' or ':' or is "localhost".
 */
#ifndef SKIFF_REF_H
#define SKIFF_REF_H

#include "util/err.h"
#include "util/sha256.h"

#define REF_DOMAIN_MAX 256
#define REF_PATH_MAX 256
#define REF_TAG_MAX 129 /* tags are at most 128 chars */
#define REF_STR_MAX (REF_DOMAIN_MAX + REF_PATH_MAX + REF_TAG_MAX + DIGEST_STR_MAX + 4)

struct image_ref {
	char domain[REF_DOMAIN_MAX]; /* "docker.io", "127.0.0.1:5000", "localhost" */
	char path[REF_PATH_MAX];     /* "library/alpine", "ns/app" */
	char tag[REF_TAG_MAX];       /* "latest" when neither tag nor digest was given; may be "" with a digest */
	char digest[DIGEST_STR_MAX]; /* "sha256:<64 hex>" or "" */
};

/* Parse s; on failure err says what is wrong ("invalid reference format: ..."). */
int ref_parse(const char *s, struct image_ref *out, struct sk_err *err);

/* Canonical name without tag/digest: "docker.io/library/alpine". */
void ref_name(const struct image_ref *r, char *out, size_t len);
/* Canonical full string: "docker.io/library/alpine:latest" or "...@sha256:..." (both when both). */
void ref_canonical(const struct image_ref *r, char *out, size_t len);
/* Familiar short name as docker shows it: "alpine", "user/app", "127.0.0.1:5000/x". */
void ref_familiar_name(const struct image_ref *r, char *out, size_t len);
/* What to ask the registry for: the digest if present, else the tag. */
const char *ref_reference(const struct image_ref *r);

#endif

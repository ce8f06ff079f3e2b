/*
 * Registry client (OCI distribution / Docker registry HTTP API v2) on libcurl.
 *
 * A `struct registry` talks to one registry host, through its endpoints in order:
 * configured mirrors first (docker.io only), then the origin ("registry-1.docker.io"
 * for docker.io). When a mirror fails (connection error, 5xx, 404 of a manifest)
 * the next endpoint is tried. It handles the /v2/ ping, Bearer and Basic auth with
 * a token cache per (endpoint, scope) honouring expires_in, TLS with extra CAs from
 * <certs_dir>/<host:port>/ca.crt, plain HTTP for insecure registries, redirects to
 * blob storage (Authorization never sent to another host), retries with backoff on
 * transfers that broke, 429 and 5xx (Retry-After honoured; never a refused
 * connection or a failed name lookup), Range resume, and HTTP_PROXY/HTTPS_PROXY/
 * NO_PROXY as docker reads them (registry_http.h). All calls are thread-safe:
 * each uses its own curl handle.
 *
 * Insecure registries (config_registry_is_insecure) are tried as docker does:
 * https without certificate verification first, then plain http.
 * Errors keep a testable errno: ENOENT for "manifest unknown"/"blob unknown",
 * EACCES for "unauthorized"/"denied", EFBIG for a reply over its bound.
 * --debug traces "GET <url> -> <status>" per request (never a header value;
 * query strings of redirect targets are dropped, they may carry signatures).
 */
#ifndef SKIFF_REGISTRY_H
#define SKIFF_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/auth.h"
#include "image/image_config.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/err.h"
#include "util/sha256.h"

#define MANIFEST_MAX_BYTES (4u << 20) /* manifests and indexes */
#define CONFIG_MAX_BYTES IMAGE_CONFIG_MAX_BYTES /* image configs */

struct registry;

/* host is the ref's domain ("docker.io", "127.0.0.1:5000"). */
struct registry *registry_new(const char *host, const struct sk_config *cfg, struct sk_err *err);
void registry_free(struct registry *reg);

/* Remember in the store at store_fd (borrowed: open while reg is used)
 * whether this insecure registry answers only plain HTTP (plain-http/<host:port>),
 * and when it does, ask http first: docker's https-then-http order otherwise
 * costs a failed TLS handshake in every process. A registry that answers
 * https again is tried there next and forgotten. */
void registry_remember_schemes(struct registry *reg, int store_fd);

/* Check credentials against the registry (for `skiff login`): ping /v2/, and when
 * challenged get a token (Bearer) or retry with Basic. Wrong credentials -> -1 with
 * "unauthorized: ..." in err. creds NULL: the stored ones (credstore.h). */
int registry_check_login(struct registry *reg, const struct auth_creds *creds, struct sk_err *err);

struct registry_manifest {
	struct buf body;	     /* at most MANIFEST_MAX_BYTES */
	char media_type[256];	     /* Content-Type, parameters stripped */
	char digest[DIGEST_STR_MAX]; /* sha256 of body (computed, verified) */
};

/* GET /v2/<repo>/manifests/<reference> with Accept for Docker v2 manifest & list,
 * OCI manifest & index. When reference is a digest the body must hash to it; a
 * Docker-Content-Digest header must match the body too. 404 -> err says
 * "manifest unknown" naming repo and reference, with errnum ENOENT. */
int registry_get_manifest(struct registry *reg, const char *repo, const char *reference,
			  struct registry_manifest *out, struct sk_err *err);
void registry_manifest_release(struct registry_manifest *m);

/* GET a small blob (configs) into out (at most max bytes), verified against digest.
 * out must be initialised (BUF_INIT); its content is replaced and its max set to max. */
int registry_get_blob(struct registry *reg, const char *repo, const char *digest, size_t max,
		      struct buf *out, struct sk_err *err);

/* Stream a blob, starting at byte offset `from` (Range request; a server that
 * ignores Range and sends 200 is handled by skipping `from` bytes). Each chunk
 * is passed to sink in order; sink returns 0 to go on, negative to abort (its
 * err is kept). A broken transfer is resumed from the last byte delivered, with
 * the same retry policy. The caller verifies the digest. expected_size is the
 * descriptor's size (-1 if unknown): more bytes than that is an error. */
typedef int (*registry_sink_fn)(const void *data, size_t len, void *ctx, struct sk_err *err);
int registry_stream_blob(struct registry *reg, const char *repo, const char *digest, int64_t from,
			 int64_t expected_size, registry_sink_fn sink, void *ctx,
			 struct sk_err *err);

#endif

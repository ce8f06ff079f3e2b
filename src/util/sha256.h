/* Streaming SHA-256 over OpenSSL's EVP (SHA-NI accelerated), and digest strings. */
#ifndef SKIFF_SHA256_H
#define SKIFF_SHA256_H

#include <stdbool.h>
#include <stddef.h>

/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_MAX 72

struct sha256 {
	void *ctx; /* EVP_MD_CTX */
};

int sha256_init(struct sha256 *s); /* 0 or -ENOMEM */
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_MAX bytes) and frees the context. */
void sha256_final(struct sha256 *s, char out[DIGEST_STR_MAX]);
void sha256_release(struct sha256 *s); /* frees without a result; safe twice */
/* One-shot. */
void sha256_digest(const void *data, size_t len, char out[DIGEST_STR_MAX]);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. Anything else
 * (other algorithms included) is refused: digests end up in file names. */
bool digest_is_valid(const char *digest);
/* The hex part of a valid digest ("sha256:abc" -> "abc"). */
const char *digest_hex(const char *digest);

#endif

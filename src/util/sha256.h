/* Streaming SHA-256 (SHA-NI accelerated where the CPU has it), and digest strings. */
#ifndef SKIFF_SHA256_H
#define SKIFF_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_MAX 72

/* The whole state lives here: no allocation, so init cannot fail today; it
 * keeps its int result for callers that check it. */
struct sha256 {
	uint32_t h[8];
	uint64_t bytes;		 /* total length so far */
	unsigned char block[64]; /* a partial block */
	unsigned fill;		 /* bytes in block */
	bool shani;		 /* use the SHA-NI instructions */
};

int sha256_init(struct sha256 *s); /* 0 (or -ENOMEM, kept for the contract) */
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_MAX bytes) and wipes the state. */
void sha256_final(struct sha256 *s, char out[DIGEST_STR_MAX]);
void sha256_release(struct sha256 *s); /* wipes without a result; safe twice */
/* One-shot. */
void sha256_digest(const void *data, size_t len, char out[DIGEST_STR_MAX]);
/* The raw 32-byte digest (tests, and callers that want bytes). */
void sha256_final_raw(struct sha256 *s, unsigned char md[32]);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. Anything else
 * (other algorithms included) is refused: digests end up in file names. */
bool digest_is_valid(const char *digest);
/* The hex part of a valid digest ("sha256:abc" -> "abc"). */
const char *digest_hex(const char *digest);

#endif

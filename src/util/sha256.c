/*
 * SHA-256 through OpenSSL's SHA256_* functions (SHA-NI accelerated).
 *
 * Not EVP: the first EVP call initialises OpenSSL 3's provider machinery and
 * reads openssl.cnf, about a millisecond that `skiff run` would pay just to
 * verify a small config blob. The low-level functions are deprecated in 3.0
 * but run the same assembly.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "util/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

int sha256_init(struct sha256 *s)
{
	SHA256_CTX *ctx = malloc(sizeof(*ctx));

	s->ctx = NULL;
	if (!ctx)
		return -ENOMEM;
	SHA256_Init(ctx);
	s->ctx = ctx;
	return 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	if (len)
		SHA256_Update(s->ctx, data, len);
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sha256_final(struct sha256 *s, char out[DIGEST_STR_MAX])
{
	unsigned char md[32];

	SHA256_Final(md, s->ctx);
	memcpy(out, "sha256:", 7);
	hex_encode(md, 32, out + 7);
	sha256_release(s);
}

void sha256_release(struct sha256 *s)
{
	free(s->ctx);
	s->ctx = NULL;
}

void sha256_digest(const void *data, size_t len, char out[DIGEST_STR_MAX])
{
	unsigned char md[32];

	SHA256(data, len, md);
	memcpy(out, "sha256:", 7);
	hex_encode(md, 32, out + 7);
}

bool digest_is_valid(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0)
		return false;
	for (int i = 0; i < 64; i++) {
		char c = digest[7 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return digest[71] == '\0';
}

const char *digest_hex(const char *digest)
{
	return digest + 7;
}

/*
 * Base64 encoding and decoding (util/base64.h). Small and strict: it used to
 * come from OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, which was one of the
 * reasons to link libcrypto into every skiff process.
 */
#include "util/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i = 0;

	for (; n - i >= 3; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = alphabet[(v >> 6) & 63];
		*out++ = alphabet[v & 63];
	}
	if (n - i) {
		unsigned v = (unsigned)p[i] << 16 | (n - i == 2 ? (unsigned)p[i + 1] << 8 : 0);

		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = n - i == 2 ? alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

/* The 6-bit value of c, or -1. */
static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ssize_t b64_decode(const char *in, size_t n, unsigned char *out)
{
	size_t pad = 0, len = 0;

	if (n % 4)
		return -1;
	if (n && in[n - 1] == '=')
		pad = n >= 2 && in[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n; i += 4) {
		unsigned v = 0;
		size_t keep = i + 4 == n ? 3 - pad : 3;

		for (size_t j = 0; j < 4; j++) {
			int x = j < keep + 1 ? value_of(in[i + j]) : 0;

			if (x < 0)
				return -1;
			v = v << 6 | (unsigned)x;
		}
		for (size_t j = 0; j < keep; j++)
			out[len++] = (unsigned char)(v >> (16 - 8 * j));
	}
	return (ssize_t)len;
}

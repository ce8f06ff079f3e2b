/* Standard base64 (RFC 4648 section 4, padded), as docker's config.json "auth"
 * and HTTP Basic authentication use it. */
#ifndef SKIFF_BASE64_H
#define SKIFF_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/* Characters b64_encode writes for n bytes, without the NUL. */
static inline size_t b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Encodes n bytes into out (b64_encoded_len(n) + 1 bytes), NUL-terminated. */
void b64_encode(const void *in, size_t n, char *out);

/* Decodes n characters of padded base64 into out (n / 4 * 3 bytes at most);
 * returns the number of bytes, or -1 when in is not padded base64 (length not
 * a multiple of 4, a character outside the alphabet, '=' but at the end). */
ssize_t b64_decode(const char *in, size_t n, unsigned char *out);

#endif

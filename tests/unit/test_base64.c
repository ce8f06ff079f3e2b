/* Base64 (util/base64.c): RFC 4648 test vectors both ways, round trips of
 * every length and byte, and refusal of what is not padded base64. */
#include <stdlib.h>

#include "unit.h"
#include "util/base64.h"

static const char *vectors[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {"alice:wonderland", "YWxpY2U6d29uZGVybGFuZA=="},
};

TEST(rfc4648_vectors)
{
	char enc[64];
	unsigned char dec[64];

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t n = strlen(vectors[i][0]);
		ssize_t got;

		CHECK(b64_encoded_len(n) == strlen(vectors[i][1]));
		b64_encode(vectors[i][0], n, enc);
		CHECK_STR(enc, vectors[i][1]);
		got = b64_decode(vectors[i][1], strlen(vectors[i][1]), dec);
		CHECK(got == (ssize_t)n);
		CHECK(got >= 0 && memcmp(dec, vectors[i][0], n) == 0);
	}
}

TEST(round_trip_all_bytes)
{
	unsigned char in[256], dec[256];
	char enc[400];

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= sizeof(in); n++) {
		b64_encode(in, n, enc);
		CHECK(strlen(enc) == b64_encoded_len(n));
		CHECK(b64_decode(enc, strlen(enc), dec) == (ssize_t)n);
		CHECK(memcmp(dec, in, n) == 0);
	}
	b64_encode("\xfb\xff", 2, enc);
	CHECK_STR(enc, "+/8=");
}

TEST(refuses_invalid)
{
	unsigned char out[64];
	static const char *bad[] = {"Zg=",  "Zg",     "Z===",  "====", "Zm9v!A==", "Zg==Zm9v",
				    "Zm=v", "Zm9v\n", " Zm9v", "Zm9-", "Zm9_"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(b64_decode(bad[i], strlen(bad[i]), out) == -1);
}

int main(void)
{
	RUN(rfc4648_vectors);
	RUN(round_trip_all_bytes);
	RUN(refuses_invalid);
	return UNIT_DONE();
}

/* SHA-256 (util/sha256.c): known digests, both block functions (SHA-NI and
 * portable) agreeing on every length and split, and digest strings. */
#include <stdlib.h>

#include "unit.h"
#include "util/sha256.h"

static const struct {
	size_t len;
	const char *hex;
} vectors[] = {
    {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {1, "ca358758f6d27e6cf45272937977a748fd88391db679ceda7dc7bf1f005ee879"},
    {55, "16ed9c4697ca11d5f6fb25ea7900252dd4cb97215d7f6d0b2bb3e2a86ac0ec72"},
    {56, "939ada93b2fe1e9c596d767bb408567c83e253667f0b25e5be8e16f35f2cbac9"},
    {57, "ab84281f3b181e6cfc7cf870c7f3e7912be6fd1ac49c7dd6b21f6c25bb9a5eaa"},
    {63, "6073f83b09ae82016cdbe24c18996c48f0eaa08ca675d0f6b90b807fc29e0149"},
    {64, "b337ba9b0c69c391364e985fdcb23a889887e59800832c92fbfa22b8a3c40304"},
    {65, "9d6a3fb113b586b4ab97bc11c993a27bd9b7bbcb756e0646083dc47a679600e6"},
    {119, "9773fbac8194c3d789af101b49b6a26073076895ef6e0f658432849dd477a43f"},
    {120, "070a538f085dd94821d4dc197c5c8b791051891d4fa2a1bf25d3c275236676f7"},
    {127, "5072b7a9a4cda7f6d80f1eff09b8b9653201dba22319daf32c6c05339d57f483"},
    {128, "485a94e53eba9717a5d8b7b4489cad92a752f1c5722e7dfd29dd164b7c438d11"},
    {1000, "533b698850849b7908b20a22658f639c0b2a476f1791f85f50188287c31a9aba"},
    {100003, "bbfad4f95f90d384d555f3df407b8abd654b51131434e1bdca5cda29038f40d1"},
};

#define PATTERN_MAX 100003

static unsigned char *pattern(void)
{
	unsigned char *p = malloc(PATTERN_MAX);

	for (size_t i = 0; p && i < PATTERN_MAX; i++)
		p[i] = (unsigned char)((i * 131 + 7) & 0xff);
	return p;
}

/* Hash p[0..len) in pieces of `step` bytes, with or without SHA-NI. */
static void hash_split(const unsigned char *p, size_t len, size_t step, bool shani,
		       char out[DIGEST_STR_MAX])
{
	struct sha256 s;

	CHECK(sha256_init(&s) == 0);
	s.shani = shani && s.shani;
	for (size_t off = 0; off < len; off += step)
		sha256_update(&s, p + off, len - off < step ? len - off : step);
	sha256_final(&s, out);
}

TEST(known_digests)
{
	unsigned char *p = pattern();
	char got[DIGEST_STR_MAX], want[DIGEST_STR_MAX];

	CHECK(p != NULL);
	for (size_t i = 0; p && i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		snprintf(want, sizeof(want), "sha256:%s", vectors[i].hex);
		sha256_digest(p, vectors[i].len, got);
		CHECK_STR(got, want);
		hash_split(p, vectors[i].len, 7, false, got);
		CHECK_STR(got, want);
		hash_split(p, vectors[i].len, 64, true, got);
		CHECK_STR(got, want);
	}
	free(p);
}

TEST(abc_and_million_a)
{
	char got[DIGEST_STR_MAX];
	struct sha256 s;
	char a[1000];

	sha256_digest("abc", 3, got);
	CHECK_STR(got, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sha256_update(&s, a, sizeof(a));
	sha256_final(&s, got);
	CHECK_STR(got, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Both block functions, every length up to 300 and odd splits. */
TEST(shani_matches_portable)
{
	unsigned char *p = pattern();
	char x[DIGEST_STR_MAX], y[DIGEST_STR_MAX];
	static const size_t steps[] = {1, 3, 63, 64, 65, 200, 4096};

	CHECK(p != NULL);
	for (size_t len = 0; p && len <= 300; len++)
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			hash_split(p, len, steps[k], true, x);
			hash_split(p, len, 1, false, y);
			CHECK_STR(x, y);
		}
	free(p);
}

TEST(release_twice_and_raw)
{
	struct sha256 s;
	unsigned char md[32];

	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_release(&s);
	sha256_release(&s);
	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_final_raw(&s, md);
	CHECK(md[0] == 0xba && md[31] == 0xad);
}

TEST(digest_strings)
{
	char d[DIGEST_STR_MAX];

	sha256_digest("", 0, d);
	CHECK(digest_is_valid(d));
	CHECK_STR(digest_hex(d),
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(!digest_is_valid("sha512:e3b0"));
	CHECK(!digest_is_valid(NULL));
	d[10] = 'G';
	CHECK(!digest_is_valid(d));
}

int main(void)
{
	RUN(known_digests);
	RUN(abc_and_million_a);
	RUN(shani_matches_portable);
	RUN(release_twice_and_raw);
	RUN(digest_strings);
	return UNIT_DONE();
}

/* Unit tests for image references: docker's grammar, normalisation, errors. */
#include <string.h>

#include "image/ref.h"
#include "util/cleanup.h"
#include "unit.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct valid_case {
	const char *in;
	const char *domain, *path, *tag, *digest;
	const char *familiar;
};

static const struct valid_case valid[] = {
	{ "alpine", "docker.io", "library/alpine", "latest", "", "alpine" },
	{ "alpine:3.19", "docker.io", "library/alpine", "3.19", "", "alpine" },
	{ "docker.io/alpine", "docker.io", "library/alpine", "latest", "", "alpine" },
	{ "docker.io/library/alpine", "docker.io", "library/alpine", "latest", "", "alpine" },
	{ "index.docker.io/alpine", "docker.io", "library/alpine", "latest", "", "alpine" },
	{ "index.docker.io/user/app:v1", "docker.io", "user/app", "v1", "", "user/app" },
	{ "user/app:tag", "docker.io", "user/app", "tag", "", "user/app" },
	{ "user/app/sub", "docker.io", "user/app/sub", "latest", "", "user/app/sub" },
	{ "library/a/b", "docker.io", "library/a/b", "latest", "", "library/a/b" },
	{ "localhost/x", "localhost", "x", "latest", "", "localhost/x" },
	{ "localhost:5000/x", "localhost:5000", "x", "latest", "", "localhost:5000/x" },
	{ "127.0.0.1:5000/ns/app", "127.0.0.1:5000", "ns/app", "latest", "",
	  "127.0.0.1:5000/ns/app" },
	{ "127.0.0.1:5000/ns/app@sha256:" HEX64, "127.0.0.1:5000", "ns/app", "", "sha256:" HEX64,
	  "127.0.0.1:5000/ns/app" },
	{ "alpine@sha256:" HEX64, "docker.io", "library/alpine", "", "sha256:" HEX64, "alpine" },
	{ "alpine:3@sha256:" HEX64, "docker.io", "library/alpine", "3", "sha256:" HEX64, "alpine" },
	{ "[::1]:5000/x", "[::1]:5000", "x", "latest", "", "[::1]:5000/x" },
	{ "[::1]/x:t", "[::1]", "x", "t", "", "[::1]/x" },
	{ "[2001:db8::1]:443/a/b", "[2001:db8::1]:443", "a/b", "latest", "",
	  "[2001:db8::1]:443/a/b" },
	{ "example.com/app", "example.com", "app", "latest", "", "example.com/app" },
	{ "Example.COM/app", "Example.COM", "app", "latest", "", "Example.COM/app" },
	{ "Foo/bar", "Foo", "bar", "latest", "", "Foo/bar" },
	{ "my-reg.example.com:8443/a_b/c__d/e-f---g/h.i", "my-reg.example.com:8443",
	  "a_b/c__d/e-f---g/h.i", "latest", "", "my-reg.example.com:8443/a_b/c__d/e-f---g/h.i" },
	{ "a:_tag", "docker.io", "library/a", "_tag", "", "a" },
	{ "a:TAG.with-dash_", "docker.io", "library/a", "TAG.with-dash_", "", "a" },
	{ "example.com", "docker.io", "library/example.com", "latest", "", "example.com" },
	{ "localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost" },
	{ "sha256:" HEX64, "docker.io", "library/sha256", HEX64, "", "sha256" },
	{ "0", "docker.io", "library/0", "latest", "", "0" },
	{ "a.b:1", "docker.io", "library/a.b", "1", "", "a.b" },
	{ "x.io:1/y", "x.io:1", "y", "latest", "", "x.io:1/y" },
	{ "docker.io/example.com/x", "docker.io", "example.com/x", "latest", "",
	  "docker.io/example.com/x" },
	{ "library/" HEX64, "docker.io", "library/" HEX64, "latest", "", "library/" HEX64 },
	{ "docker.io/localhost/x", "docker.io", "localhost/x", "latest", "",
	  "docker.io/localhost/x" },
};

static const char *const invalid[] = {
	"",
	"Alpine",
	"docker.io/library/Alpine",
	"localhost:5000/Foo:tag",
	"alpine:",
	"alpine@",
	":tag",
	"@sha256:" HEX64,
	"/alpine",
	"alpine/",
	"a//b",
	"-a",
	"a-",
	"a_",
	"a___b",
	"a..b",
	"a._b",
	"a:-tag",
	"a:.tag",
	"a:t!g",
	"a:t/g",
	"foo/bar:1/baz",
	"alpine@sha256:abc",
	"alpine@sha256:" HEX64 "00",
	"alpine@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	"alpine@sha512:" HEX64 HEX64,
	"alpine@md5",
	"alpine@:" HEX64,
	"alpine@sha256:" HEX64 "@sha256:" HEX64,
	"foo:tag/bar",
	"example.com:/x",
	"-example.com/x",
	"example-.com/x",
	"exa_mple.com/x",
	"[::1/x",
	"[]/x",
	"[zz::1]/x",
	"[::1]x/y",
	"a b",
	"a\tb",
	"alpine\n",
	HEX64,
	"localhost/",
	"UPPER.io/Lower",
	"é",
};

TEST(valid_references)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		struct image_ref r;
		struct sk_err err = { 0 };
		char fam[REF_STR_MAX];
		const struct valid_case *c = &valid[i];

		if (ref_parse(c->in, &r, &err) < 0) {
			fprintf(stderr, "valid[%zu] '%s' refused: %s\n", i, c->in, err.msg);
			CHECK(0);
			continue;
		}
		CHECK_STR(r.domain, c->domain);
		CHECK_STR(r.path, c->path);
		CHECK_STR(r.tag, c->tag);
		CHECK_STR(r.digest, c->digest);
		ref_familiar_name(&r, fam, sizeof(fam));
		CHECK_STR(fam, c->familiar);
	}
}

TEST(invalid_references)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		struct image_ref r;
		struct sk_err err = { 0 };

		if (ref_parse(invalid[i], &r, &err) == 0) {
			fprintf(stderr, "invalid[%zu] '%s' accepted\n", i, invalid[i]);
			CHECK(0);
			continue;
		}
		CHECK(strncmp(err.msg, "invalid reference format: ", 26) == 0);
		CHECK(strchr(err.msg, '\n') == NULL);
	}
}

TEST(error_messages_say_what_is_wrong)
{
	struct image_ref r;
	struct sk_err err = { 0 };

	CHECK(ref_parse("docker.io/library/Alpine", &r, &err) < 0);
	CHECK(strstr(err.msg, "repository name must be lowercase") != NULL);
	CHECK(ref_parse("alpine@sha512:" HEX64 HEX64, &r, &err) < 0);
	CHECK(strstr(err.msg, "unsupported digest algorithm 'sha512'") != NULL);
	CHECK(ref_parse("alpine:t!g", &r, &err) < 0);
	CHECK(strstr(err.msg, "invalid tag 't!g'") != NULL);
	CHECK(ref_parse("foo:tag/bar", &r, &err) < 0);
	CHECK(strstr(err.msg, "invalid registry host 'foo:tag'") != NULL);
	CHECK(ref_parse(HEX64, &r, &err) < 0);
	CHECK(strstr(err.msg, "64-byte hexadecimal") != NULL);
}

TEST(name_length_limit)
{
	char name[400];
	struct image_ref r;
	struct sk_err err = { 0 };

	/* "docker.io/library/" (18) + 237 = 255: the longest allowed. */
	memset(name, 'a', 237);
	name[237] = '\0';
	CHECK(ref_parse(name, &r, &err) == 0);
	memset(name, 'a', 238);
	name[238] = '\0';
	CHECK(ref_parse(name, &r, &err) < 0);
	CHECK(strstr(err.msg, "255 characters") != NULL);

	/* "example.com/" (12) + 243 = 255 */
	memcpy(name, "example.com/", 12);
	memset(name + 12, 'b', 243);
	name[255] = '\0';
	CHECK(ref_parse(name, &r, &err) == 0);
	name[255] = 'b';
	name[256] = '\0';
	CHECK(ref_parse(name, &r, &err) < 0);
}

TEST(tag_length_limit)
{
	char s[200] = "a:";
	struct image_ref r;
	struct sk_err err = { 0 };

	memset(s + 2, 't', 128);
	s[130] = '\0';
	CHECK(ref_parse(s, &r, &err) == 0);
	CHECK(strlen(r.tag) == 128);
	s[130] = 't';
	s[131] = '\0';
	CHECK(ref_parse(s, &r, &err) < 0);
}

TEST(canonical_and_reference)
{
	struct image_ref r;
	struct sk_err err = { 0 };
	char out[REF_STR_MAX];

	CHECK(ref_parse("alpine", &r, &err) == 0);
	ref_canonical(&r, out, sizeof(out));
	CHECK_STR(out, "docker.io/library/alpine:latest");
	ref_name(&r, out, sizeof(out));
	CHECK_STR(out, "docker.io/library/alpine");
	CHECK_STR(ref_reference(&r), "latest");

	CHECK(ref_parse("localhost:5000/a/b:v2@sha256:" HEX64, &r, &err) == 0);
	ref_canonical(&r, out, sizeof(out));
	CHECK_STR(out, "localhost:5000/a/b:v2@sha256:" HEX64);
	CHECK_STR(ref_reference(&r), "sha256:" HEX64);

	CHECK(ref_parse("x@sha256:" HEX64, &r, &err) == 0);
	ref_canonical(&r, out, sizeof(out));
	CHECK_STR(out, "docker.io/library/x@sha256:" HEX64);
}

TEST(canonical_round_trips)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		struct image_ref a, b;
		struct sk_err err = { 0 };
		char s1[REF_STR_MAX], s2[REF_STR_MAX];

		if (ref_parse(valid[i].in, &a, &err) < 0)
			continue;
		ref_canonical(&a, s1, sizeof(s1));
		CHECK(ref_parse(s1, &b, &err) == 0);
		ref_canonical(&b, s2, sizeof(s2));
		CHECK_STR(s2, s1);
	}
}

int main(void)
{
	RUN(valid_references);
	RUN(invalid_references);
	RUN(error_messages_say_what_is_wrong);
	RUN(name_length_limit);
	RUN(tag_length_limit);
	RUN(canonical_and_reference);
	RUN(canonical_round_trips);
	return UNIT_DONE();
}

/*
 * Platforms: normalisation of --platform strings and uname names, formatting, and
 * the choice of an index entry (containerd's rules, attestations skipped, variant
 * preferences, the "no matching manifest" message).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "unit.h"
#include "image/manifest.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/sha256.h"

static const struct {
	const char *in, *os, *arch, *variant;
} normalised[] = {
    {"linux/amd64", "linux", "amd64", ""},	{"linux/x86_64", "linux", "amd64", ""},
    {"linux/x86-64", "linux", "amd64", ""},	{"Linux/AMD64", "linux", "amd64", ""},
    {"linux/amd64/v1", "linux", "amd64", ""},	{"linux/amd64/v3", "linux", "amd64", "v3"},
    {"linux/aarch64", "linux", "arm64", ""},	{"linux/arm64", "linux", "arm64", ""},
    {"linux/arm64/v8", "linux", "arm64", "v8"}, {"linux/arm64/8", "linux", "arm64", "v8"},
    {"linux/arm", "linux", "arm", "v7"},	{"linux/arm/7", "linux", "arm", "v7"},
    {"linux/arm/v6", "linux", "arm", "v6"},	{"linux/arm/5", "linux", "arm", "v5"},
    {"linux/armhf", "linux", "arm", "v7"},	{"linux/armel", "linux", "arm", "v6"},
    {"linux/armv7l", "linux", "arm", "v7"},	{"linux/armv6l", "linux", "arm", "v6"},
    {"linux/i386", "linux", "386", ""},		{"linux/i686", "linux", "386", ""},
    {"linux/386", "linux", "386", ""},		{"linux/ppc64le", "linux", "ppc64le", ""},
    {"linux/s390x", "linux", "s390x", ""},	{"linux/riscv64", "linux", "riscv64", ""},
    {"windows/amd64", "windows", "amd64", ""},	{"macos/arm64", "darwin", "arm64", ""},
};

static const char *const bad_platforms[] = {
    "arm64",
    "",
    "linux/",
    "/amd64",
    "linux/amd64/",
    "linux/amd64/v8/x",
    "linux//v7",
    "linux/am d64",
    "linux/amd64\n",
    "linux/arm/v7;rm",
    "linux0123456789012345678901234567890/amd64",
};

TEST(parse_normalises)
{
	for (size_t i = 0; i < ARRAY_SIZE(normalised); i++) {
		struct platform p;
		struct sk_err err = {0};

		if (platform_parse(normalised[i].in, &p, &err) < 0) {
			fprintf(stderr, "'%s' refused: %s\n", normalised[i].in, err.msg);
			CHECK(0);
			continue;
		}
		CHECK_STR(p.os, normalised[i].os);
		CHECK_STR(p.arch, normalised[i].arch);
		CHECK_STR(p.variant, normalised[i].variant);
	}
}

TEST(parse_refuses_malformed)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_platforms); i++) {
		struct platform p;
		struct sk_err err = {0};

		if (platform_parse(bad_platforms[i], &p, &err) == 0) {
			fprintf(stderr, "'%s' accepted\n", bad_platforms[i]);
			CHECK(0);
		}
		CHECK(strstr(err.msg, "expected os/arch[/variant]") != NULL);
	}
}

TEST(parse_error_names_input)
{
	struct platform p;
	struct sk_err err = {0};

	CHECK(platform_parse("arm64", &p, &err) < 0);
	CHECK(strncmp(err.msg, "invalid platform 'arm64': expected os/arch[/variant]", 51) == 0);
	CHECK(platform_parse(NULL, &p, &err) < 0);
}

TEST(format)
{
	struct platform p;
	struct sk_err err = {0};
	char out[64], small[8];

	CHECK(platform_parse("linux/arm64/v8", &p, &err) == 0);
	platform_format(&p, out, sizeof(out));
	CHECK_STR(out, "linux/arm64/v8");
	CHECK(platform_parse("linux/x86_64", &p, &err) == 0);
	platform_format(&p, out, sizeof(out));
	CHECK_STR(out, "linux/amd64");
	platform_format(&p, small, sizeof(small));
	CHECK_STR(small, "linux/a");
}

TEST(host)
{
	struct platform p;
	struct utsname u;

	platform_host(&p);
	CHECK_STR(p.os, "linux");
	CHECK(uname(&u) == 0);
	if (strcmp(u.machine, "x86_64") == 0) {
		CHECK_STR(p.arch, "amd64");
		CHECK_STR(p.variant, "");
	} else if (strcmp(u.machine, "aarch64") == 0) {
		CHECK_STR(p.arch, "arm64");
		CHECK_STR(p.variant, "v8");
	} else {
		CHECK(p.arch[0] != '\0');
	}
}

/*
 * An index from a compact spec, one entry per string:
 *   "linux/amd64"        an image manifest for that platform
 *   "att:linux/amd64"    the same with docker's attestation annotation
 *   "idx:linux/amd64"    a nested index for that platform
 *   "-"                  an image manifest without platform
 * Each entry gets its own digest, so tests can tell them apart by index.
 */
static void index_entry(struct buf *b, size_t i, const char *spec)
{
	const char *mt = MT_OCI_MANIFEST, *annotations = "";
	char digest[DIGEST_STR_MAX], seed[32];
	snprintf(seed, sizeof(seed), "entry %zu", i);
	sha256_digest(seed, strlen(seed), digest);
	if (strncmp(spec, "att:", 4) == 0) {
		annotations = ",\"annotations\":{\"vnd.docker.reference.type\":"
			      "\"attestation-manifest\"}";
		spec += 4;
	} else if (strncmp(spec, "idx:", 4) == 0) {
		mt = MT_OCI_INDEX;
		spec += 4;
	}
	buf_appendf(b, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":100%s", i ? "," : "", mt,
		    digest, annotations);
	if (strcmp(spec, "-") != 0) {
		/* split by hand: platform_parse would normalise, the index must not be */
		const char *a = strchr(spec, '/'), *v = strchr(a + 1, '/');
		buf_appendf(b, ",\"platform\":{\"os\":\"%.*s\",\"architecture\":\"%.*s\"",
			    (int)(a - spec), spec, v ? (int)(v - a - 1) : (int)strlen(a + 1),
			    a + 1);
		if (v)
			buf_appendf(b, ",\"variant\":\"%s\"", v + 1);
		buf_appendf(b, "}");
	}
	buf_appendf(b, "}");
}

static int make_index(struct manifest *m, const char *const *specs, size_t n)
{
	cleanup_buf struct buf b = BUF_INIT(1 << 22);
	struct sk_err err = {0};

	buf_appendf(&b, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[", MT_OCI_INDEX);
	for (size_t i = 0; i < n; i++)
		index_entry(&b, i, specs[i]);
	buf_appendf(&b, "]}");
	if (manifest_parse(b.data, b.len, NULL, m, &err) < 0) {
		fprintf(stderr, "index refused: %s\n%s\n", err.msg, b.data);
		return -1;
	}
	return 0;
}

/* The index of the entry chosen for want, -1 on no match (err then filled). */
static long choose(const char *const *specs, size_t n, const char *want, struct sk_err *err)
{
	struct manifest m;
	struct platform p;
	size_t chosen = 0;
	long r;

	if (make_index(&m, specs, n) < 0 || platform_parse(want, &p, err) < 0)
		return -2;
	r = manifest_select_platform(&m, &p, &chosen, err) < 0 ? -1 : (long)chosen;
	manifest_release(&m);
	return r;
}

#define CHOOSE(want, ...)                                                                          \
	({                                                                                         \
		static const char *const specs_[] = {__VA_ARGS__};                                 \
		choose(specs_, ARRAY_SIZE(specs_), want, &err);                                    \
	})

TEST(docker_hub_index_with_attestations)
{
	struct sk_err err = {0};

	CHECK(CHOOSE("linux/amd64", "unknown/unknown", "linux/amd64", "unknown/unknown",
		     "linux/arm64/v8") == 1);
	CHECK(CHOOSE("linux/arm64", "linux/amd64", "unknown/unknown", "linux/arm64/v8",
		     "unknown/unknown") == 2);
	CHECK(CHOOSE("linux/arm64/v8", "linux/amd64", "unknown/unknown", "linux/arm64/v8") == 2);
	/* an attestation that names a real platform is still not an image */
	CHECK(CHOOSE("linux/amd64", "att:linux/amd64", "linux/amd64") == 1);
	CHECK(CHOOSE("linux/amd64", "att:linux/amd64", "unknown/unknown") == -1);
	CHECK_STR(err.msg, "no matching manifest for linux/amd64 in the manifest list entries "
			   "(available: none)");
}

TEST(no_match_lists_available)
{
	struct sk_err err = {0};

	CHECK(CHOOSE("linux/s390x", "linux/amd64", "unknown/unknown", "linux/arm64/v8",
		     "unknown/unknown", "linux/amd64") == -1);
	CHECK_STR(err.msg, "no matching manifest for linux/s390x in the manifest list entries "
			   "(available: linux/amd64, linux/arm64/v8)");
	CHECK(CHOOSE("linux/amd64", "windows/amd64") == -1);
	CHECK_STR(err.msg, "no matching manifest for linux/amd64 in the manifest list entries "
			   "(available: windows/amd64)");
}

TEST(no_match_list_is_bounded)
{
	static char names[1000][32];
	const char *specs[1000];
	struct sk_err err = {0};

	for (size_t i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof(names[i]), "linux/arch%zu", i);
		specs[i] = names[i];
	}
	CHECK(choose(specs, 1000, "linux/s390x", &err) == -1);
	CHECK(strstr(err.msg, "(available: linux/arch0, linux/arch1, ") != NULL);
	CHECK(strstr(err.msg, ", ...)") != NULL);
}

TEST(arm64_variant_v8_equals_none)
{
	struct sk_err err = {0};

	CHECK(CHOOSE("linux/arm64/v8", "linux/amd64", "linux/arm64") == 1);
	CHECK(CHOOSE("linux/arm64", "linux/amd64", "linux/arm64/v8") == 1);
	CHECK(CHOOSE("linux/aarch64", "linux/arm64/v8") == 0);
}

TEST(arm_variants)
{
	struct sk_err err = {0};

	/* plain "arm" means v7, as in containerd */
	CHECK(CHOOSE("linux/arm", "linux/arm/v6", "linux/arm/v7") == 1);
	CHECK(CHOOSE("linux/arm/v6", "linux/arm/v6", "linux/arm/v7") == 0);
	/* a v7 CPU runs v6 and v5 code: the newest of them */
	CHECK(CHOOSE("linux/arm/v7", "linux/arm/v5", "linux/arm/v6") == 1);
	/* but not v8 code */
	CHECK(CHOOSE("linux/arm/v7", "linux/arm/v8") == -1);
	CHECK(strstr(err.msg, "(available: linux/arm/v8)") != NULL);
	/* an index entry "arm" without variant is v7 too */
	CHECK(CHOOSE("linux/arm/v7", "linux/amd64", "linux/arm") == 1);
}

TEST(amd64_variants)
{
	struct sk_err err = {0};

	/* no variant wanted: the plain entry, wherever it is */
	CHECK(CHOOSE("linux/amd64", "linux/amd64/v3", "linux/amd64", "linux/amd64/v2") == 1);
	/* no plain entry: the oldest variant, the most likely to run */
	CHECK(CHOOSE("linux/amd64", "linux/amd64/v3", "linux/amd64/v2") == 1);
	/* exact variant first */
	CHECK(CHOOSE("linux/amd64/v3", "linux/amd64", "linux/amd64/v3") == 1);
	/* else the newest one the CPU runs, plain counting as v1 */
	CHECK(CHOOSE("linux/amd64/v3", "linux/amd64", "linux/amd64/v2") == 1);
	CHECK(CHOOSE("linux/amd64/v3", "linux/amd64", "linux/amd64/v4") == 0);
	CHECK(CHOOSE("linux/amd64/v2", "linux/amd64/v3") == -1);
	/* "v1" is the baseline, the same as none */
	CHECK(CHOOSE("linux/amd64", "linux/amd64/v2", "linux/amd64/v1") == 1);
}

TEST(other_arches_variants)
{
	struct sk_err err = {0};

	/* a variant wanted, only a plain entry: take it */
	CHECK(CHOOSE("linux/riscv64/rva22", "linux/riscv64") == 0);
	/* a different variant of an unordered arch never matches */
	CHECK(CHOOSE("linux/riscv64/rva22", "linux/riscv64/rva23") == -1);
}

TEST(first_of_equals_and_platformless)
{
	struct sk_err err = {0};

	CHECK(CHOOSE("linux/amd64", "linux/arm64", "linux/amd64", "linux/amd64") == 1);
	/* an entry without platform matches anything, but only as a last resort */
	CHECK(CHOOSE("linux/amd64", "-") == 0);
	CHECK(CHOOSE("linux/amd64", "-", "linux/amd64") == 1);
	/* nested indexes are not chosen */
	CHECK(CHOOSE("linux/amd64", "idx:linux/amd64", "linux/amd64") == 1);
	CHECK(CHOOSE("linux/amd64", "idx:linux/amd64") == -1);
}

TEST(want_is_normalised)
{
	static const char *const specs[] = {"linux/arm64/v8", "linux/amd64"};
	struct manifest m;
	struct platform raw = {.os = "Linux", .arch = "x86_64"};
	struct sk_err err = {0};
	size_t chosen = 99;

	CHECK(make_index(&m, specs, 2) == 0);
	CHECK(manifest_select_platform(&m, &raw, &chosen, &err) == 0);
	CHECK(chosen == 1);
	manifest_release(&m);
}

TEST(select_on_image_manifest_fails)
{
	const char *body = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG
			   "\",\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
			   "0123456789abcdef\",\"size\":1},\"layers\":[]}";
	struct manifest m;
	struct platform p;
	struct sk_err err = {0};
	size_t chosen;

	CHECK(manifest_parse(body, strlen(body), NULL, &m, &err) == 0);
	platform_host(&p);
	CHECK(manifest_select_platform(&m, &p, &chosen, &err) < 0);
	CHECK(strstr(err.msg, "not a manifest list") != NULL);
	manifest_release(&m);
}

int main(void)
{
	RUN(parse_normalises);
	RUN(parse_refuses_malformed);
	RUN(parse_error_names_input);
	RUN(format);
	RUN(host);
	RUN(docker_hub_index_with_attestations);
	RUN(no_match_lists_available);
	RUN(no_match_list_is_bounded);
	RUN(arm64_variant_v8_equals_none);
	RUN(arm_variants);
	RUN(amd64_variants);
	RUN(other_arches_variants);
	RUN(first_of_equals_and_platformless);
	RUN(want_is_normalised);
	RUN(select_on_image_manifest_fails);
	return UNIT_DONE();
}

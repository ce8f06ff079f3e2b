/*
 * manifest_parse: tables of manifests a registry may send (Docker schema 2, OCI,
 * with and without mediaType, under various Content-Types) and of bodies that must
 * be refused, each with the words the error has to contain.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "image/manifest.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D_A "sha256:" HEX64
#define D_B "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define DESC(mt, digest, size)                                                                     \
	"{\"mediaType\":\"" mt "\",\"digest\":\"" digest "\",\"size\":" size "}"
#define CFG_DOCKER DESC(MT_DOCKER_CONFIG, D_A, "1472")
#define CFG_OCI DESC(MT_OCI_CONFIG, D_A, "812")
#define LAYER(mt) DESC(mt, D_B, "3408729")
#define MTF(mt) "\"mediaType\":\"" mt "\","
#define IMAGE(mtfield, cfg, layers)                                                                \
	"{\"schemaVersion\":2," mtfield "\"config\":" cfg ",\"layers\":[" layers "]}"
#define ENTRY(mt, plat) "{\"mediaType\":\"" mt "\",\"digest\":\"" D_A "\",\"size\":528" plat "}"
#define PLAT(os, arch) ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"}"
#define INDEX(mtfield, entries) "{\"schemaVersion\":2," mtfield "\"manifests\":[" entries "]}"

struct valid_case {
	const char *name;
	const char *content_type;
	const char *body;
	enum manifest_kind kind;
	const char *media_type;
	size_t count; /* layers or index entries */
	enum compression first_layer;
};

static const struct valid_case valid[] = {
    {"docker v2", MT_DOCKER_MANIFEST,
     IMAGE(MTF(MT_DOCKER_MANIFEST), CFG_DOCKER, LAYER(MT_DOCKER_LAYER_GZIP)), MANIFEST_IMAGE,
     MT_DOCKER_MANIFEST, 1, COMPRESSION_GZIP},
    {"docker v2 without content type", NULL,
     IMAGE(MTF(MT_DOCKER_MANIFEST), CFG_DOCKER, LAYER(MT_DOCKER_LAYER_GZIP)), MANIFEST_IMAGE,
     MT_DOCKER_MANIFEST, 1, COMPRESSION_GZIP},
    {"docker v2 under application/json", "application/json",
     IMAGE(MTF(MT_DOCKER_MANIFEST), CFG_DOCKER, LAYER(MT_DOCKER_LAYER_GZIP)), MANIFEST_IMAGE,
     MT_DOCKER_MANIFEST, 1, COMPRESSION_GZIP},
    {"oci manifest, no mediaType anywhere", NULL, IMAGE("", CFG_OCI, LAYER(MT_OCI_LAYER_GZIP)),
     MANIFEST_IMAGE, MT_OCI_MANIFEST, 1, COMPRESSION_GZIP},
    {"oci manifest, type from content type with parameters", " " MT_OCI_MANIFEST "; charset=utf-8",
     IMAGE("", CFG_OCI, LAYER(MT_OCI_LAYER_TAR)), MANIFEST_IMAGE, MT_OCI_MANIFEST, 1,
     COMPRESSION_NONE},
    {"oci manifest, content type in capitals", "Application/VND.OCI.Image.Manifest.v1+JSON",
     IMAGE(MTF(MT_OCI_MANIFEST), CFG_OCI, LAYER(MT_OCI_LAYER_ZSTD)), MANIFEST_IMAGE,
     MT_OCI_MANIFEST, 1, COMPRESSION_ZSTD},
    {"oci zstd layers", MT_OCI_MANIFEST,
     IMAGE(MTF(MT_OCI_MANIFEST), CFG_OCI,
	   LAYER(MT_OCI_LAYER_ZSTD) "," LAYER(MT_OCI_LAYER_GZIP) "," LAYER(MT_OCI_LAYER_TAR)),
     MANIFEST_IMAGE, MT_OCI_MANIFEST, 3, COMPRESSION_ZSTD},
    {"oci non-distributable gzip", NULL,
     IMAGE(MTF(MT_OCI_MANIFEST), CFG_OCI,
	   LAYER("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")),
     MANIFEST_IMAGE, MT_OCI_MANIFEST, 1, COMPRESSION_GZIP},
    {"oci non-distributable zstd", NULL,
     IMAGE(MTF(MT_OCI_MANIFEST), CFG_OCI,
	   LAYER("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")),
     MANIFEST_IMAGE, MT_OCI_MANIFEST, 1, COMPRESSION_ZSTD},
    {"docker foreign layer", NULL,
     IMAGE(MTF(MT_DOCKER_MANIFEST), CFG_DOCKER,
	   LAYER("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")),
     MANIFEST_IMAGE, MT_DOCKER_MANIFEST, 1, COMPRESSION_GZIP},
    {"oci manifest with a docker config", NULL,
     IMAGE(MTF(MT_OCI_MANIFEST), CFG_DOCKER, LAYER(MT_OCI_LAYER_GZIP)), MANIFEST_IMAGE,
     MT_OCI_MANIFEST, 1, COMPRESSION_GZIP},
    {"no layers at all", NULL, IMAGE(MTF(MT_OCI_MANIFEST), CFG_OCI, ""), MANIFEST_IMAGE,
     MT_OCI_MANIFEST, 0, COMPRESSION_NONE},
    {"docker manifest list", MT_DOCKER_LIST,
     INDEX(MTF(MT_DOCKER_LIST), ENTRY(MT_DOCKER_MANIFEST, PLAT("linux", "amd64")) "," ENTRY(
				    MT_DOCKER_MANIFEST, PLAT("linux", "arm64"))),
     MANIFEST_INDEX, MT_DOCKER_LIST, 2, COMPRESSION_NONE},
    {"oci index, no mediaType, generic content type", "application/octet-stream",
     INDEX("", ENTRY(MT_OCI_MANIFEST, PLAT("linux", "amd64"))), MANIFEST_INDEX, MT_OCI_INDEX, 1,
     COMPRESSION_NONE},
    {"oci index, type from content type", MT_OCI_INDEX,
     INDEX("", ENTRY(MT_OCI_MANIFEST, PLAT("linux", "amd64"))), MANIFEST_INDEX, MT_OCI_INDEX, 1,
     COMPRESSION_NONE},
    {"empty index", NULL, INDEX(MTF(MT_OCI_INDEX), ""), MANIFEST_INDEX, MT_OCI_INDEX, 0,
     COMPRESSION_NONE},
    {"index entry of an unknown artifact type is kept", NULL,
     INDEX(MTF(MT_OCI_INDEX), ENTRY("application/vnd.example.sbom+json", "")), MANIFEST_INDEX,
     MT_OCI_INDEX, 1, COMPRESSION_NONE},
};

struct invalid_case {
	const char *name;
	const char *content_type;
	const char *body;
	const char *expect; /* a substring of the error */
};

static const struct invalid_case invalid[] = {
    {"schema 1 by version", NULL,
     "{\"schemaVersion\":1,\"name\":\"library/x\",\"tag\":\"latest\",\"fsLayers\":[]}",
     "Docker schema 1"},
    {"schema 1 by keys", NULL, "{\"name\":\"x\",\"fsLayers\":[],\"signatures\":[]}",
     "Docker schema 1"},
    {"schema 1 by content type", "application/vnd.docker.distribution.manifest.v1+prettyjws",
     "{\"schemaVersion\":1}", "Docker schema 1"},
    {"schema 1 by body media type", NULL,
     "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}", "Docker schema 1"},
    {"schemaVersion 3", NULL, "{\"schemaVersion\":3,\"config\":" CFG_OCI ",\"layers\":[]}",
     "schemaVersion 3"},
    {"schemaVersion string", NULL, "{\"schemaVersion\":\"2\",\"config\":" CFG_OCI ",\"layers\":[]}",
     "schemaVersion"},
    {"content type contradicts body", MT_OCI_MANIFEST,
     IMAGE(MTF(MT_DOCKER_MANIFEST), CFG_DOCKER, LAYER(MT_DOCKER_LAYER_GZIP)), "does not match"},
    {"index content type, manifest body", MT_DOCKER_LIST,
     IMAGE(MTF(MT_DOCKER_MANIFEST), CFG_DOCKER, LAYER(MT_DOCKER_LAYER_GZIP)), "does not match"},
    {"unknown body media type", NULL,
     IMAGE(MTF("application/vnd.oci.artifact.manifest.v1+json"), CFG_OCI, ""),
     "unsupported manifest media type 'application/vnd.oci.artifact.manifest.v1+json'"},
    {"mediaType not a string", NULL, "{\"mediaType\":5,\"layers\":[]}", "mediaType"},
    {"no way to tell the type", NULL, "{\"schemaVersion\":2}", "neither"},
    {"both shapes", NULL, "{\"manifests\":[],\"layers\":[],\"config\":" CFG_OCI "}", "both"},
    {"image type with manifests", MT_DOCKER_MANIFEST,
     "{\"schemaVersion\":2,\"config\":" CFG_DOCKER ",\"layers\":[],\"manifests\":[]}",
     "has 'manifests'"},
    {"index type with layers", NULL,
     "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[],\"layers\":[]}", "has 'layers'"},
    {"uppercase hex digest", NULL,
     IMAGE("", CFG_OCI,
	   DESC(MT_OCI_LAYER_GZIP,
		"sha256:"
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"1")),
     "layers[0] has an invalid digest"},
    {"sha512 digest", NULL, IMAGE("", CFG_OCI, DESC(MT_OCI_LAYER_GZIP, "sha512:" HEX64 HEX64, "1")),
     "invalid digest"},
    {"path in digest", NULL,
     IMAGE("", CFG_OCI, DESC(MT_OCI_LAYER_GZIP, "sha256:../../../etc/passwd", "1")),
     "invalid digest 'sha256:../../../etc/passwd'"},
    {"digest too long", NULL, IMAGE("", CFG_OCI, DESC(MT_OCI_LAYER_GZIP, D_A "0", "1")),
     "invalid digest"},
    {"config digest invalid", NULL, IMAGE("", DESC(MT_OCI_CONFIG, "sha256:x", "1"), ""),
     "config has an invalid digest"},
    {"negative size", NULL, IMAGE("", CFG_OCI, DESC(MT_OCI_LAYER_GZIP, D_B, "-1")), "size"},
    {"size as string", NULL, IMAGE("", CFG_OCI, DESC(MT_OCI_LAYER_GZIP, D_B, "\"12\"")), "size"},
    {"size as real", NULL, IMAGE("", CFG_OCI, DESC(MT_OCI_LAYER_GZIP, D_B, "1.5")), "size"},
    {"missing size", NULL,
     IMAGE("", CFG_OCI, "{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" D_B "\"}"),
     "size"},
    {"layer without mediaType", NULL, IMAGE("", CFG_OCI, "{\"digest\":\"" D_B "\",\"size\":1}"),
     "layers[0] has no mediaType"},
    {"layer not an object", NULL, IMAGE("", CFG_OCI, "\"" D_B "\""), "not an object"},
    {"missing config", NULL, "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"layers\":[]}", "config"},
    {"layers not an array", NULL, "{\"config\":" CFG_OCI ",\"layers\":{}}", "'layers'"},
    {"missing layers", MT_DOCKER_MANIFEST, "{\"config\":" CFG_DOCKER "}", "'layers'"},
    {"unknown layer compression", NULL,
     IMAGE("", CFG_OCI, LAYER("application/vnd.oci.image.layer.v1.tar+bzip2")),
     "unsupported layer media type 'application/vnd.oci.image.layer.v1.tar+bzip2'"},
    {"helm chart", NULL,
     IMAGE(MTF(MT_OCI_MANIFEST), DESC("application/vnd.cncf.helm.config.v1+json", D_A, "5"),
	   LAYER("application/vnd.cncf.helm.chart.content.v1.tar+gzip")),
     "not a container image: config media type 'application/vnd.cncf.helm.config.v1+json'"},
    {"oci artifact with empty config", NULL,
     "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"artifactType\":"
     "\"application/vnd.example.sbom\",\"config\":" DESC("application/vnd.oci.empty.v1+json", D_A,
							 "2") ",\"layers\":[]}",
     "not a container image: artifact type 'application/vnd.example.sbom'"},
    {"duplicate keys", NULL,
     "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"mediaType\":\"" MT_OCI_INDEX "\",\"layers\":[]}",
     "duplicate"},
    {"not json", NULL, "<html>rate limited</html>", "invalid manifest JSON"},
    {"trailing garbage", NULL, IMAGE("", CFG_OCI, "") "x", "invalid manifest JSON"},
    {"array at top", NULL, "[]", "not a JSON object"},
    {"empty body", NULL, "", "empty"},
    {"index entry without platform os", NULL,
     INDEX("", "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D_A
	       "\",\"size\":1,\"platform\":{\"architecture\":\"amd64\"}}"),
     "manifests[0] has an invalid platform"},
    {"index entry variant a number", NULL,
     INDEX("", "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D_A
	       "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
	       "\"variant\":7}}"),
     "variant"},
    {"index entry arch too long", NULL,
     INDEX("", ENTRY(MT_OCI_MANIFEST, PLAT("linux", "a234567890123456789012345678901234567890"))),
     "too long"},
    {"index entry invalid digest", NULL,
     INDEX("", "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"sha256:abc\",\"size\":1}"),
     "manifests[0] has an invalid digest"},
    {"index annotations not an object", NULL,
     INDEX("", "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D_A
	       "\",\"size\":1,\"annotations\":[]}"),
     "annotations"},
    {"manifests not an array", NULL, "{\"manifests\":{}}", "'manifests'"},
};

TEST(valid_manifests)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		const struct valid_case *c = &valid[i];
		struct manifest m;
		struct sk_err err = {0};
		int r = manifest_parse(c->body, strlen(c->body), c->content_type, &m, &err);

		if (r != 0) {
			fprintf(stderr, "valid case '%s' refused: %s\n", c->name, err.msg);
			CHECK(r == 0);
			continue;
		}
		CHECK(m.kind == c->kind);
		CHECK_STR(m.media_type, c->media_type);
		if (c->kind == MANIFEST_IMAGE) {
			CHECK(m.n_layers == c->count);
			CHECK_STR(m.config.digest, D_A);
			if (m.n_layers) {
				CHECK(m.layers[0].compression == c->first_layer);
				CHECK_STR(m.layers[0].digest, D_B);
				CHECK(m.layers[0].size == 3408729);
			}
		} else {
			CHECK(m.n_manifests == c->count);
		}
		manifest_release(&m);
		CHECK(m.layers == NULL && m.manifests == NULL);
	}
}

TEST(invalid_manifests)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		const struct invalid_case *c = &invalid[i];
		struct manifest m;
		struct sk_err err = {0};
		int r = manifest_parse(c->body, strlen(c->body), c->content_type, &m, &err);

		if (r == 0 || !strstr(err.msg, c->expect)) {
			fprintf(stderr, "invalid case '%s': r=%d, error '%s', expected '%s'\n",
				c->name, r, err.msg, c->expect);
			CHECK(r < 0 && strstr(err.msg, c->expect));
		}
		CHECK(m.layers == NULL && m.manifests == NULL);
		if (r == 0)
			manifest_release(&m);
	}
}

TEST(schema1_message_is_clear)
{
	const char *body = "{\"schemaVersion\":1,\"fsLayers\":[]}";
	struct manifest m;
	struct sk_err err = {0};

	CHECK(manifest_parse(body, strlen(body), NULL, &m, &err) < 0);
	CHECK_STR(err.msg, "unsupported manifest format: Docker schema 1 (deprecated; the image "
			   "must be re-pushed with a newer docker)");
}

/* An OCI image manifest with n layers, built at run time. */
static char *image_with_layers(size_t n)
{
	struct buf b = BUF_INIT(1 << 24);

	buf_appendf(&b, "{\"schemaVersion\":2,\"config\":%s,\"layers\":[", CFG_OCI);
	for (size_t i = 0; i < n; i++)
		buf_appendf(&b, "%s%s", i ? "," : "", LAYER(MT_OCI_LAYER_GZIP));
	buf_appendf(&b, "]}");
	return buf_detach(&b, NULL);
}

static char *index_with_entries(size_t n)
{
	struct buf b = BUF_INIT(1 << 24);

	buf_appendf(&b, "{\"schemaVersion\":2,\"manifests\":[");
	for (size_t i = 0; i < n; i++)
		buf_appendf(&b, "%s%s", i ? "," : "",
			    ENTRY(MT_OCI_MANIFEST, PLAT("linux", "amd64")));
	buf_appendf(&b, "]}");
	return buf_detach(&b, NULL);
}

TEST(layer_cap)
{
	struct manifest m;
	struct sk_err err = {0};
	char *at = image_with_layers(MANIFEST_MAX_LAYERS);
	char *over = image_with_layers(MANIFEST_MAX_LAYERS + 1);

	CHECK(manifest_parse(at, strlen(at), NULL, &m, &err) == 0);
	CHECK(m.n_layers == MANIFEST_MAX_LAYERS);
	manifest_release(&m);
	CHECK(manifest_parse(over, strlen(over), NULL, &m, &err) < 0);
	CHECK(strstr(err.msg, "1025 layers, more than the 1024 allowed") != NULL);
	free(at);
	free(over);
}

TEST(index_cap)
{
	struct manifest m;
	struct sk_err err = {0};
	char *at = index_with_entries(INDEX_MAX_ENTRIES);
	char *over = index_with_entries(INDEX_MAX_ENTRIES + 1);

	CHECK(manifest_parse(at, strlen(at), NULL, &m, &err) == 0);
	CHECK(m.n_manifests == INDEX_MAX_ENTRIES);
	manifest_release(&m);
	CHECK(manifest_parse(over, strlen(over), NULL, &m, &err) < 0);
	CHECK(strstr(err.msg, "more than the 1024 allowed") != NULL);
	free(at);
	free(over);
}

TEST(index_entries_carry_platform_and_attestation)
{
	const char *body = INDEX(
	    MTF(MT_OCI_INDEX),
	    ENTRY(
		MT_OCI_MANIFEST,
		",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
		"\"variant\":\"v7\"}") "," ENTRY(MT_OCI_MANIFEST,
						 PLAT(
						     "unknown",
						     "unknown")) "," ENTRY(MT_OCI_MANIFEST,
									   PLAT(
									       "linux",
									       "amd64") ",\"annotat"
											"ions\":{"
											"\"vnd."
											"docker."
											"reference."
											"type\":"
											"\"attestat"
											"ion-"
											"manifest\""
											"}") "," ENTRY(MT_OCI_MANIFEST,
												       ""));
	struct manifest m;
	struct sk_err err = {0};

	CHECK(manifest_parse(body, strlen(body), NULL, &m, &err) == 0);
	CHECK(m.n_manifests == 4);
	if (m.n_manifests != 4)
		return;
	CHECK_STR(m.manifests[0].platform.arch, "arm");
	CHECK_STR(m.manifests[0].platform.variant, "v7");
	CHECK(m.manifests[0].has_platform && !m.manifests[0].attestation);
	CHECK(m.manifests[1].attestation);
	CHECK(m.manifests[2].attestation);
	CHECK(!m.manifests[3].has_platform && !m.manifests[3].attestation);
	manifest_release(&m);
}

TEST(release_is_idempotent)
{
	struct manifest m;

	memset(&m, 0, sizeof(m));
	manifest_release(&m);
	manifest_release(&m);
	manifest_release(NULL);
	CHECK(m.layers == NULL);
}

int main(void)
{
	RUN(valid_manifests);
	RUN(invalid_manifests);
	RUN(schema1_message_is_clear);
	RUN(layer_cap);
	RUN(index_cap);
	RUN(index_entries_carry_platform_and_attestation);
	RUN(release_is_idempotent);
	return UNIT_DONE();
}

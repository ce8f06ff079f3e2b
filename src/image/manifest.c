/*
 * Manifests and indexes (Docker schema 2, OCI) and the choice of one platform in an
 * index, following containerd's rules. Everything here is registry input: digests
 * are checked because they become file names, counts are capped, and duplicate JSON
 * keys are refused so that two parsers can never read one body two ways.
 */
#include "image/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <jansson.h>

#include "util/buf.h"
#include "util/cleanup.h"

#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define ANNOTATION_REFERENCE_TYPE "vnd.docker.reference.type"
#define AVAILABLE_LIST_MAX 700 /* leaves room in ERR_MSG_MAX for the rest */

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool is_image_type(const char *mt)
{
	return streq(mt, MT_DOCKER_MANIFEST) || streq(mt, MT_OCI_MANIFEST);
}

static bool is_index_type(const char *mt)
{
	return streq(mt, MT_DOCKER_LIST) || streq(mt, MT_OCI_INDEX);
}

static bool is_schema1_type(const char *mt)
{
	return streq(mt, MT_DOCKER_SCHEMA1) || streq(mt, MT_DOCKER_SCHEMA1_SIGNED);
}

static bool is_config_type(const char *mt)
{
	return streq(mt, MT_DOCKER_CONFIG) || streq(mt, MT_OCI_CONFIG);
}

/* The canonical constant for a manifest media type, NULL when it is not one. */
static const char *manifest_type_lookup(const char *mt)
{
	static const char *const known[] = {MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST,
					    MT_OCI_INDEX};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (streq(mt, known[i]))
			return known[i];
	return NULL;
}

static const struct layer_type {
	const char *media_type;
	enum compression compression;
} layer_types[] = {
    {MT_DOCKER_LAYER_GZIP, COMPRESSION_GZIP},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", COMPRESSION_GZIP},
    {"application/vnd.docker.image.rootfs.diff.tar", COMPRESSION_NONE},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar", COMPRESSION_NONE},
    {"application/vnd.docker.image.rootfs.diff.tar.zstd", COMPRESSION_ZSTD},
    {MT_OCI_LAYER_TAR, COMPRESSION_NONE},
    {MT_OCI_LAYER_GZIP, COMPRESSION_GZIP},
    {MT_OCI_LAYER_ZSTD, COMPRESSION_ZSTD},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar", COMPRESSION_NONE},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", COMPRESSION_GZIP},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", COMPRESSION_ZSTD},
};

static const struct layer_type *layer_type_lookup(const char *mt)
{
	for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++)
		if (streq(mt, layer_types[i].media_type))
			return &layer_types[i];
	return NULL;
}

/* Content-Type without parameters or surrounding blanks, lowercased; "" if absent. */
static void content_type_base(const char *ct, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (!ct)
		return;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	while (ct[n] && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t')
		n++;
	if (n >= len)
		return; /* too long to be a type we know: as good as generic */
	for (size_t i = 0; i < n; i++)
		out[i] = (ct[i] >= 'A' && ct[i] <= 'Z') ? ct[i] - 'A' + 'a' : ct[i];
	out[n] = '\0';
}

static int schema1_error(struct sk_err *err)
{
	return err_set(err, 0,
		       "unsupported manifest format: Docker schema 1 (deprecated; the image "
		       "must be re-pushed with a newer docker)");
}

/* A JSON string member, NULL when absent or null; -1 with err when another type. */
static int get_opt_string(json_t *obj, const char *key, const char **out, struct sk_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, 0, "invalid manifest: '%s' is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int check_schema_version(json_t *root, const char *ct, struct sk_err *err)
{
	json_t *v = json_object_get(root, "schemaVersion");
	json_t *mt = json_object_get(root, "mediaType");

	if (is_schema1_type(ct) || (json_is_string(mt) && is_schema1_type(json_string_value(mt))))
		return schema1_error(err);
	if (!v || json_is_null(v)) {
		/* schema 1 bodies are recognisable by their own keys */
		if (json_object_get(root, "fsLayers") || json_object_get(root, "signatures"))
			return schema1_error(err);
		return 0;
	}
	if (!json_is_integer(v))
		return err_set(err, 0, "invalid manifest: 'schemaVersion' is not an integer");
	if (json_integer_value(v) == 1)
		return schema1_error(err);
	if (json_integer_value(v) != 2)
		return err_set(err, 0, "unsupported manifest schemaVersion %lld",
			       (long long)json_integer_value(v));
	return 0;
}

/* OCI allows an absent mediaType: the keys tell an index from a manifest. */
static int media_type_from_shape(json_t *root, const char **mt, struct sk_err *err)
{
	bool has_manifests = json_object_get(root, "manifests") != NULL;
	bool has_image = json_object_get(root, "layers") || json_object_get(root, "config");

	if (has_manifests && has_image)
		return err_set(err, 0, "invalid manifest: both 'manifests' and 'layers'/'config'");
	if (!has_manifests && !has_image)
		return err_set(err, 0,
			       "invalid manifest: no mediaType and neither 'manifests' "
			       "nor 'layers'");
	*mt = has_manifests ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	return 0;
}

static int decide_media_type(json_t *root, const char *ct, const char **mt, struct sk_err *err)
{
	const char *ct_type = manifest_type_lookup(ct);
	const char *body_mt, *body_type;

	if (get_opt_string(root, "mediaType", &body_mt, err) < 0)
		return -1;
	if (!body_mt) {
		/* a generic Content-Type (application/json, octet-stream) says nothing */
		if (ct_type) {
			*mt = ct_type;
			return 0;
		}
		return media_type_from_shape(root, mt, err);
	}
	body_type = manifest_type_lookup(body_mt);
	if (!body_type)
		return err_set(err, 0, "unsupported manifest media type '%.200s'", body_mt);
	if (ct_type && ct_type != body_type)
		return err_set(err, 0,
			       "manifest media type '%s' does not match the Content-Type '%s' "
			       "sent by the registry",
			       body_type, ct_type);
	*mt = body_type;
	return 0;
}

/* As containerd: a body must not carry the other kind's keys (type confusion). */
static int check_shape(json_t *root, const char *mt, struct sk_err *err)
{
	if (is_index_type(mt) &&
	    (json_object_get(root, "layers") || json_object_get(root, "config")))
		return err_set(err, 0, "invalid manifest: index '%s' has 'layers' or 'config'", mt);
	if (is_image_type(mt) && json_object_get(root, "manifests"))
		return err_set(err, 0, "invalid manifest: image manifest '%s' has 'manifests'", mt);
	return 0;
}

static int copy_string(char *dst, size_t len, const char *src, const char *what, struct sk_err *err)
{
	size_t n = strlen(src);

	if (n >= len)
		return err_set(err, 0, "invalid manifest: %s '%.64s...' is too long", what, src);
	memcpy(dst, src, n + 1);
	return 0;
}

/* what names the descriptor in errors: "config", "layers[3]", "manifests[0]". */
static int parse_descriptor(json_t *obj, const char *what, struct descriptor *d, struct sk_err *err)
{
	json_t *mt = json_object_get(obj, "mediaType");
	json_t *digest = json_object_get(obj, "digest");
	json_t *size = json_object_get(obj, "size");

	if (!json_is_object(obj))
		return err_set(err, 0, "invalid manifest: %s is not an object", what);
	if (!json_is_string(mt))
		return err_set(err, 0, "invalid manifest: %s has no mediaType", what);
	if (copy_string(d->media_type, sizeof(d->media_type), json_string_value(mt), "media type",
			err) < 0)
		return err_wrap(err, "%s", what);
	if (!json_is_string(digest))
		return err_set(err, 0, "invalid manifest: %s has no digest", what);
	if (!digest_is_valid(json_string_value(digest)))
		return err_set(err, 0, "invalid manifest: %s has an invalid digest '%.100s'", what,
			       json_string_value(digest));
	memcpy(d->digest, json_string_value(digest), DIGEST_STR_MAX - 1);
	d->digest[DIGEST_STR_MAX - 1] = '\0';
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(err, 0, "invalid manifest: %s has no valid size", what);
	d->size = json_integer_value(size);
	return 0;
}

static int check_config(json_t *root, const struct descriptor *config, struct sk_err *err)
{
	json_t *artifact = json_object_get(root, "artifactType");

	if (is_config_type(config->media_type))
		return 0;
	if (json_is_string(artifact))
		return err_set(err, 0,
			       "not a container image: artifact type '%.200s' (config media "
			       "type '%s')",
			       json_string_value(artifact), config->media_type);
	return err_set(err, 0, "not a container image: config media type '%s'", config->media_type);
}

/* The array under key, at most max entries long. */
static int get_array(json_t *root, const char *key, size_t max, json_t **out, struct sk_err *err)
{
	json_t *v = json_object_get(root, key);

	if (!json_is_array(v))
		return err_set(err, 0, "invalid manifest: '%s' is missing or not an array", key);
	if (json_array_size(v) > max)
		return err_set(err, 0, "invalid manifest: %zu %s, more than the %zu allowed",
			       json_array_size(v), key, max);
	*out = v;
	return 0;
}

static int parse_layer(json_t *obj, size_t i, struct descriptor *d, struct sk_err *err)
{
	char what[32];
	const struct layer_type *type;

	snprintf(what, sizeof(what), "layers[%zu]", i);
	if (parse_descriptor(obj, what, d, err) < 0)
		return -1;
	type = layer_type_lookup(d->media_type);
	if (!type)
		return err_set(err, 0, "unsupported layer media type '%s' (%s, %s)", d->media_type,
			       what, d->digest);
	d->compression = type->compression;
	return 0;
}

static int parse_image(json_t *root, struct manifest *out, struct sk_err *err)
{
	json_t *layers;

	if (!json_object_get(root, "config"))
		return err_set(err, 0, "invalid manifest: no config");
	if (parse_descriptor(json_object_get(root, "config"), "config", &out->config, err) < 0)
		return -1;
	if (check_config(root, &out->config, err) < 0)
		return -1;
	if (get_array(root, "layers", MANIFEST_MAX_LAYERS, &layers, err) < 0)
		return -1;
	if (json_array_size(layers) == 0)
		return 0;
	out->layers = calloc(json_array_size(layers), sizeof(*out->layers));
	if (!out->layers)
		return err_set(err, ENOMEM, "cannot parse manifest");
	for (size_t i = 0; i < json_array_size(layers); i++) {
		if (parse_layer(json_array_get(layers, i), i, &out->layers[i], err) < 0)
			return -1;
		out->n_layers++;
	}
	return 0;
}

static int parse_platform(json_t *obj, const char *what, struct platform *p, struct sk_err *err)
{
	json_t *os = json_object_get(obj, "os");
	json_t *arch = json_object_get(obj, "architecture");
	json_t *variant = json_object_get(obj, "variant");

	if (!json_is_object(obj) || !json_is_string(os) || !json_is_string(arch))
		return err_set(err, 0, "invalid manifest: %s has an invalid platform", what);
	if (variant && !json_is_null(variant) && !json_is_string(variant))
		return err_set(err, 0, "invalid manifest: %s has an invalid platform variant",
			       what);
	if (copy_string(p->os, sizeof(p->os), json_string_value(os), "platform os", err) < 0 ||
	    copy_string(p->arch, sizeof(p->arch), json_string_value(arch), "architecture", err) < 0)
		return err_wrap(err, "%s", what);
	if (json_is_string(variant) && copy_string(p->variant, sizeof(p->variant),
						   json_string_value(variant), "variant", err) < 0)
		return err_wrap(err, "%s", what);
	platform_normalize(p);
	return 0;
}

static int parse_entry(json_t *obj, size_t i, struct descriptor *d, struct sk_err *err)
{
	char what[32];
	json_t *platform, *annotations;

	snprintf(what, sizeof(what), "manifests[%zu]", i);
	if (parse_descriptor(obj, what, d, err) < 0)
		return -1;
	platform = json_object_get(obj, "platform");
	if (platform && !json_is_null(platform)) {
		if (parse_platform(platform, what, &d->platform, err) < 0)
			return -1;
		d->has_platform = true;
	}
	annotations = json_object_get(obj, "annotations");
	if (annotations && !json_is_null(annotations) && !json_is_object(annotations))
		return err_set(err, 0, "invalid manifest: %s annotations are not an object", what);
	d->attestation = json_object_get(annotations, ANNOTATION_REFERENCE_TYPE) != NULL ||
			 (d->has_platform && streq(d->platform.os, "unknown") &&
			  streq(d->platform.arch, "unknown"));
	return 0;
}

static int parse_index(json_t *root, struct manifest *out, struct sk_err *err)
{
	json_t *entries;

	if (get_array(root, "manifests", INDEX_MAX_ENTRIES, &entries, err) < 0)
		return -1;
	if (json_array_size(entries) == 0)
		return 0;
	out->manifests = calloc(json_array_size(entries), sizeof(*out->manifests));
	if (!out->manifests)
		return err_set(err, ENOMEM, "cannot parse manifest list");
	for (size_t i = 0; i < json_array_size(entries); i++) {
		if (parse_entry(json_array_get(entries, i), i, &out->manifests[i], err) < 0)
			return -1;
		out->n_manifests++;
	}
	return 0;
}

static int parse_root(json_t *root, const char *content_type, struct manifest *out,
		      struct sk_err *err)
{
	char ct[128];
	const char *mt = NULL;

	content_type_base(content_type, ct, sizeof(ct));
	if (check_schema_version(root, ct, err) < 0)
		return -1;
	if (decide_media_type(root, ct, &mt, err) < 0)
		return -1;
	if (check_shape(root, mt, err) < 0)
		return -1;
	snprintf(out->media_type, sizeof(out->media_type), "%s", mt);
	if (is_index_type(mt)) {
		out->kind = MANIFEST_INDEX;
		return parse_index(root, out, err);
	}
	out->kind = MANIFEST_IMAGE;
	return parse_image(root, out, err);
}

int manifest_parse(const char *data, size_t len, const char *content_type, struct manifest *out,
		   struct sk_err *err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;

	memset(out, 0, sizeof(*out));
	if (!data || len == 0)
		return err_set(err, 0, "invalid manifest: empty body");
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(err, 0, "invalid manifest JSON: %s (line %d, column %d)", jerr.text,
			       jerr.line, jerr.column);
	if (!json_is_object(root))
		return err_set(err, 0, "invalid manifest: not a JSON object");
	if (parse_root(root, content_type, out, err) < 0) {
		manifest_release(out);
		return -1;
	}
	return 0;
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m->manifests);
	memset(m, 0, sizeof(*m));
}

/* ---- platforms ---- */

#define SET_FIELD(field, value) snprintf((field), sizeof(field), "%s", (value))

static void lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = *s - 'A' + 'a';
}

/* "armv7l" (uname), "armv6", ... -> arm / vN */
static bool normalize_uname_arm(struct platform *p)
{
	const char *a = p->arch;

	if (strncmp(a, "armv", 4) != 0 || a[4] < '5' || a[4] > '8')
		return false;
	p->variant[0] = 'v';
	p->variant[1] = a[4];
	p->variant[2] = '\0';
	SET_FIELD(p->arch, "arm");
	return true;
}

static void normalize_arm(struct platform *p)
{
	char level = p->variant[0];

	if (!level || streq(p->variant, "7"))
		SET_FIELD(p->variant, "v7");
	else if (streq(p->variant, "5") || streq(p->variant, "6") || streq(p->variant, "8"))
		snprintf(p->variant, sizeof(p->variant), "v%c", level);
}

static void normalize_arch(struct platform *p)
{
	const char *a = p->arch;

	if (streq(a, "i386") || streq(a, "i486") || streq(a, "i586") || streq(a, "i686")) {
		SET_FIELD(p->arch, "386");
		p->variant[0] = '\0';
	} else if (streq(a, "x86_64") || streq(a, "x86-64") || streq(a, "amd64")) {
		SET_FIELD(p->arch, "amd64");
		if (streq(p->variant, "v1"))
			p->variant[0] = '\0';
	} else if (streq(a, "aarch64") || streq(a, "arm64")) {
		SET_FIELD(p->arch, "arm64");
		if (streq(p->variant, "8"))
			SET_FIELD(p->variant, "v8");
	} else if (streq(a, "armhf")) {
		SET_FIELD(p->arch, "arm");
		SET_FIELD(p->variant, "v7");
	} else if (streq(a, "armel")) {
		SET_FIELD(p->arch, "arm");
		SET_FIELD(p->variant, "v6");
	} else if (streq(a, "arm")) {
		normalize_arm(p);
	} else if (streq(a, "ppc64el")) {
		SET_FIELD(p->arch, "ppc64le");
	} else {
		normalize_uname_arm(p);
	}
}

void platform_normalize(struct platform *p)
{
	lowercase(p->os);
	lowercase(p->arch);
	lowercase(p->variant);
	if (streq(p->os, "macos"))
		SET_FIELD(p->os, "darwin");
	normalize_arch(p);
}

void platform_host(struct platform *p)
{
	struct utsname u;

	memset(p, 0, sizeof(*p));
	SET_FIELD(p->os, "linux");
	SET_FIELD(p->arch, uname(&u) == 0 ? u.machine : "unknown");
	platform_normalize(p);
	/* as docker reports it, and what Docker Hub's indexes carry */
	if (streq(p->arch, "arm64") && !p->variant[0])
		SET_FIELD(p->variant, "v8");
}

/* One "/"-separated part of a platform string: non-empty, [A-Za-z0-9._-], fits. */
static bool copy_platform_part(const char *src, size_t n, char *dst, size_t len)
{
	if (n == 0 || n >= len)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

int platform_parse(const char *s, struct platform *p, struct sk_err *err)
{
	const char *a, *b;
	bool ok;

	memset(p, 0, sizeof(*p));
	a = s ? strchr(s, '/') : NULL;
	b = a ? strchr(a + 1, '/') : NULL;
	ok = a && copy_platform_part(s, a - s, p->os, sizeof(p->os));
	if (ok && b)
		ok = copy_platform_part(a + 1, b - (a + 1), p->arch, sizeof(p->arch)) &&
		     copy_platform_part(b + 1, strlen(b + 1), p->variant, sizeof(p->variant));
	else if (ok)
		ok = copy_platform_part(a + 1, strlen(a + 1), p->arch, sizeof(p->arch));
	if (!ok) {
		memset(p, 0, sizeof(*p));
		return err_set(err, EINVAL,
			       "invalid platform '%.100s': expected os/arch[/variant], e.g. "
			       "linux/arm64 or linux/arm/v7",
			       s ? s : "");
	}
	platform_normalize(p);
	return 0;
}

void platform_format(const struct platform *p, char *out, size_t len)
{
	if (len == 0)
		return;
	if (p->variant[0])
		snprintf(out, len, "%s/%s/%s", p->os, p->arch, p->variant);
	else
		snprintf(out, len, "%s/%s", p->os, p->arch);
}

/* ---- choosing an index entry ---- */

static bool is_arm64_v8(const char *variant)
{
	return !variant[0] || streq(variant, "v8");
}

static bool variant_equal(const struct platform *want, const struct platform *have)
{
	if (streq(want->variant, have->variant))
		return true;
	return streq(want->arch, "arm64") && is_arm64_v8(want->variant) &&
	       is_arm64_v8(have->variant);
}

/* The instruction-set level of a variant, where a CPU of one level runs every lower
 * one; -1 when this architecture's variants are not ordered that way. */
static int variant_level(const char *arch, const char *variant)
{
	bool vdigit = variant[0] == 'v' && variant[1] >= '0' && variant[1] <= '9' && !variant[2];
	int n = vdigit ? variant[1] - '0' : -1;

	if (streq(arch, "amd64"))
		return !variant[0] ? 1 : (n >= 1 && n <= 4 ? n : -1);
	if (streq(arch, "arm"))
		return n >= 5 && n <= 8 ? n : -1;
	if (streq(arch, "arm64"))
		return is_arm64_v8(variant) ? 8 : (n == 9 ? 9 : -1);
	return -1;
}

enum {
	SCORE_NONE = -1,
	SCORE_NO_PLATFORM = 1,
	SCORE_WANT_PLAIN_GOT_VARIANT = 200, /* minus the level: the oldest first */
	SCORE_WANT_VARIANT_GOT_PLAIN = 400,
	SCORE_OLDER_VARIANT = 500, /* plus the level: the newest first */
	SCORE_EXACT = 1000,
};

/* How well entry e fits want (normalised); higher is better, SCORE_NONE never. */
static int match_score(const struct descriptor *e, const struct platform *want)
{
	const struct platform *have = &e->platform;
	int lw, lh;

	if (e->attestation || !is_image_type(e->media_type))
		return SCORE_NONE;
	if (!e->has_platform)
		return SCORE_NO_PLATFORM;
	if (!streq(have->os, want->os) || !streq(have->arch, want->arch))
		return SCORE_NONE;
	if (variant_equal(want, have))
		return SCORE_EXACT;
	lw = variant_level(want->arch, want->variant);
	lh = variant_level(have->arch, have->variant);
	if (want->variant[0] && lw >= 0 && lh >= 0)
		return lh <= lw ? SCORE_OLDER_VARIANT + lh : SCORE_NONE;
	if (want->variant[0])
		return have->variant[0] ? SCORE_NONE : SCORE_WANT_VARIANT_GOT_PLAIN;
	return SCORE_WANT_PLAIN_GOT_VARIANT - (lh > 0 ? lh : 0);
}

static bool listed_before(const struct manifest *index, size_t i)
{
	const struct platform *p = &index->manifests[i].platform;

	for (size_t j = 0; j < i; j++) {
		const struct descriptor *e = &index->manifests[j];
		if (!e->attestation && e->has_platform && streq(e->platform.os, p->os) &&
		    streq(e->platform.arch, p->arch) && streq(e->platform.variant, p->variant))
			return true;
	}
	return false;
}

static int no_match_error(const struct manifest *index, const struct platform *want,
			  struct sk_err *err)
{
	cleanup_buf struct buf list = BUF_INIT(AVAILABLE_LIST_MAX);
	char name[96];
	bool truncated = false;

	for (size_t i = 0; i < index->n_manifests && !truncated; i++) {
		const struct descriptor *e = &index->manifests[i];
		if (e->attestation || !e->has_platform || !is_image_type(e->media_type) ||
		    listed_before(index, i))
			continue;
		platform_format(&e->platform, name, sizeof(name));
		truncated = buf_appendf(&list, "%s%s", list.len ? ", " : "", name) < 0;
	}
	platform_format(want, name, sizeof(name));
	return err_set(err, 0,
		       "no matching manifest for %s in the manifest list entries (available: "
		       "%s%s)",
		       name, list.len ? list.data : "none", truncated ? ", ..." : "");
}

int manifest_select_platform(const struct manifest *index, const struct platform *want,
			     size_t *chosen, struct sk_err *err)
{
	struct platform norm = *want;
	int best_score = SCORE_NONE;
	size_t best = 0;

	if (index->kind != MANIFEST_INDEX)
		return err_set(err, EINVAL, "not a manifest list: cannot choose a platform");
	platform_normalize(&norm);
	for (size_t i = 0; i < index->n_manifests; i++) {
		int score = match_score(&index->manifests[i], &norm);
		if (score > best_score) {
			best_score = score;
			best = i;
		}
	}
	if (best_score == SCORE_NONE)
		return no_match_error(index, &norm, err);
	*chosen = best;
	return 0;
}

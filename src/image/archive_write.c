/*
 * skiff save (archive_write.h): plan every image and layer (where each
 * layer's bytes come from, their size and digest), then stream the archive:
 * layers first, then configs and the index files, as one tar.
 */
#include "image/archive_write.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/decompress.h"
#include "image/image_config.h"
#include "image/layer_write.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "image/registry.h"
#include "image/tar_write.h"
#include "util/cleanup.h"
#include "util/human.h"
#include "util/log.h"

#define CHUNK (1024 * 1024)
#define SAVE_MAX_IMAGES 256
#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

struct save_layer {
	char diff_id[DIGEST_STR_MAX];	  /* the config's */
	char out_diff_id[DIGEST_STR_MAX]; /* of the tar written (= diff_id unless rewritten) */
	bool from_blob;
	char blob_digest[DIGEST_STR_MAX];
	char blob_media_type[128];
	enum compression comp;
	int64_t blob_size;
	uint64_t tar_size;
	char v1id[65]; /* docker-save directory name */
};

struct save_image {
	struct store_image rec;
	char **shown; /* "busybox:latest": RepoTags */
	char **canonical;
	size_t n_tags;
	json_t *config;
	struct buf config_raw;
	char config_digest[DIGEST_STR_MAX];
	struct save_layer *layers;
	size_t n_layers;
	int64_t created;
};

struct save {
	struct store *s;
	enum save_format format;
	struct save_image *images;
	size_t n_images;
	struct tar_writer w;
	char (*written)[96]; /* entry names already in the archive */
	size_t n_written;
};

/* ---- planning ---- */

static void save_image_release(struct save_image *img)
{
	for (size_t i = 0; i < img->n_tags; i++) {
		free(img->shown[i]);
		free(img->canonical[i]);
	}
	free(img->shown);
	free(img->canonical);
	json_decref(img->config);
	buf_release(&img->config_raw);
	free(img->layers);
}

static int discard_sink(void *ctx, const void *data, size_t len, struct sk_err *err)
{
	return 0;
}

static int open_layer_dir(struct store *s, const char *diff_id, struct sk_err *err)
{
	char path[4400];
	int fd;

	store_layer_path(s, diff_id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "layer %s is not in the store", diff_id);
	return fd;
}

/* A layer written again from its directory: a first pass for its digest. */
static int plan_tree_layer(struct store *s, struct save_layer *l, struct sk_err *err)
{
	struct layer_write_opts o = {.overlay = true};
	struct layer_write_stats st = {0};
	cleanup_close int dfd = open_layer_dir(s, l->diff_id, err);
	struct tar_writer w;
	struct tar_result res;
	int ret;

	if (dfd < 0)
		return -1;
	ret = tar_writer_init(&w, COMPRESSION_NONE, 0, discard_sink, NULL, err);
	if (ret == 0)
		ret = layer_write_tree(&w, dfd, "", &o, &st, err);
	if (ret == 0)
		ret = tar_writer_finish(&w, &res, err);
	tar_writer_release(&w);
	if (ret < 0)
		return err_wrap(err, "layer %s", l->diff_id);
	snprintf(l->out_diff_id, sizeof(l->out_diff_id), "%s", res.diff_id);
	l->tar_size = res.tar_bytes;
	return 0;
}

/* The kept blob of layer i, when the manifest names one the store has. */
static bool plan_blob_layer(struct store *s, const struct manifest *man, size_t i,
			    struct save_layer *l)
{
	const struct descriptor *d;
	cleanup_close int fd = -1;
	struct stat st;
	int64_t tar;

	if (!man || i >= man->n_layers)
		return false;
	d = &man->layers[i];
	fd = store_layer_blob_open(s, d->digest);
	if (fd < 0 || fstat(fd, &st) < 0 || (d->size >= 0 && st.st_size != d->size))
		return false;
	tar = store_layer_tar_size(s, l->diff_id);
	if (tar < 0 && d->compression != COMPRESSION_NONE)
		return false;
	l->from_blob = true;
	snprintf(l->blob_digest, sizeof(l->blob_digest), "%s", d->digest);
	snprintf(l->blob_media_type, sizeof(l->blob_media_type), "%s", d->media_type);
	l->comp = d->compression;
	l->blob_size = st.st_size;
	l->tar_size = tar >= 0 ? (uint64_t)tar : (uint64_t)st.st_size;
	snprintf(l->out_diff_id, sizeof(l->out_diff_id), "%s", l->diff_id);
	return true;
}

/* The record's manifest, when it is an image manifest that fits the config. */
static int load_manifest(struct store *s, const struct save_image *img, size_t n_layers,
			 struct manifest *man)
{
	cleanup_buf struct buf raw = BUF_INIT(MANIFEST_MAX_BYTES);
	struct sk_err ignored;

	if (store_blob_get(s, img->rec.manifest_digest, MANIFEST_MAX_BYTES, &raw, &ignored) < 0 ||
	    manifest_parse(raw.data, raw.len, NULL, man, &ignored) < 0)
		return -1;
	if (man->kind != MANIFEST_IMAGE || man->n_layers != n_layers) {
		manifest_release(man);
		return -1;
	}
	return 0;
}

static void v1_ids(struct save_image *img)
{
	char parent[65] = "", digest[DIGEST_STR_MAX];

	for (size_t i = 0; i < img->n_layers; i++) {
		char *seed = NULL;
		bool top = i + 1 == img->n_layers;
		if (asprintf(&seed, "skiff-v1 %s %s %s", parent, img->layers[i].out_diff_id,
			     top ? img->config_digest : "") < 0)
			seed = NULL;
		sha256_digest(seed ? seed : "", seed ? strlen(seed) : 0, digest);
		free(seed);
		snprintf(img->layers[i].v1id, sizeof(img->layers[i].v1id), "%s",
			 digest_hex(digest));
		snprintf(parent, sizeof(parent), "%s", img->layers[i].v1id);
	}
}

/* New diff_ids: the saved image is another image, say so. */
static int rewrite_config(struct save_image *img, const char *name, struct sk_err *err)
{
	json_t *ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	cleanup_free char *text = NULL;

	for (size_t i = 0; i < img->n_layers; i++)
		json_array_set_new(ids, i, json_string(img->layers[i].out_diff_id));
	text = json_dumps(img->config, JSON_COMPACT);
	buf_reset(&img->config_raw);
	if (!text || buf_append(&img->config_raw, text, strlen(text)) < 0)
		return err_set(err, ENOMEM, "cannot rewrite the config of '%s'", name);
	sha256_digest(img->config_raw.data, img->config_raw.len, img->config_digest);
	log_warn("image '%s': a layer made by another tool has no kept blob in this store; its "
		 "saved copy has new layer digests and id %s",
		 name, img->config_digest);
	return 0;
}

static int plan_layers(struct store *s, struct save_image *img, const char *name,
		       struct sk_err *err)
{
	json_t *ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	struct manifest man = {0};
	bool have_man, changed = false;
	int ret = 0;

	img->n_layers = json_array_size(ids);
	img->layers = calloc(img->n_layers ? img->n_layers : 1, sizeof(*img->layers));
	if (!img->layers)
		return err_set(err, ENOMEM, "cannot plan '%s'", name);
	have_man = load_manifest(s, img, img->n_layers, &man) == 0;
	for (size_t i = 0; ret == 0 && i < img->n_layers; i++) {
		struct save_layer *l = &img->layers[i];
		const char *id = json_string_value(json_array_get(ids, i));
		if (!id || !digest_is_valid(id)) {
			ret = err_set(err, 0, "image '%s': invalid diff_id %zu", name, i);
			break;
		}
		snprintf(l->diff_id, sizeof(l->diff_id), "%s", id);
		if (!plan_blob_layer(s, have_man ? &man : NULL, i, l))
			ret = plan_tree_layer(s, l, err);
		changed |= ret == 0 && strcmp(l->out_diff_id, l->diff_id);
	}
	if (have_man)
		manifest_release(&man);
	if (ret == 0 && changed)
		ret = rewrite_config(img, name, err);
	if (ret == 0)
		v1_ids(img);
	return ret;
}

static int add_tag(struct save_image *img, const char *canonical, struct sk_err *err)
{
	struct image_ref ref;
	char familiar[REF_STR_MAX], *shown = NULL;
	char **a, **b;

	for (size_t i = 0; i < img->n_tags; i++)
		if (!strcmp(img->canonical[i], canonical))
			return 0;
	if (ref_parse(canonical, &ref, err) < 0)
		return -1;
	ref_familiar_name(&ref, familiar, sizeof(familiar));
	a = realloc(img->shown, (img->n_tags + 1) * sizeof(*a));
	if (a)
		img->shown = a;
	b = realloc(img->canonical, (img->n_tags + 1) * sizeof(*b));
	if (b)
		img->canonical = b;
	if (!a || !b || asprintf(&shown, "%s:%s", familiar, ref.tag) < 0)
		return err_set(err, ENOMEM, "cannot record a tag");
	img->shown[img->n_tags] = shown;
	img->canonical[img->n_tags] = strdup(canonical);
	if (!img->canonical[img->n_tags]) {
		free(shown);
		return err_set(err, ENOMEM, "cannot record a tag");
	}
	img->n_tags++;
	return 0;
}

/* A name that is a tag of the record names it in the archive (RepoTags);
 * an id does not, as in docker. */
static bool named_by_tag(const char *name, const struct store_image *rec)
{
	struct image_ref ref;
	struct sk_err ignored;
	char canonical[REF_STR_MAX];

	if (!rec->ref[0] || ref_parse(name, &ref, &ignored) < 0 || ref.digest[0])
		return false;
	ref_canonical(&ref, canonical, sizeof(canonical));
	return !strcmp(canonical, rec->ref);
}

static int plan_image(struct save *sv, const char *name, struct sk_err *err)
{
	cleanup_buf struct buf raw = BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	struct store_image rec;
	struct save_image *img = NULL, *grown;
	json_error_t jerr;

	if (store_image_lookup(sv->s, name, &rec, err) < 0)
		return -1;
	for (size_t i = 0; i < sv->n_images && !img; i++)
		if (!strcmp(sv->images[i].rec.config_digest, rec.config_digest))
			img = &sv->images[i];
	if (img)
		return named_by_tag(name, &rec) ? add_tag(img, rec.ref, err) : 0;
	if (sv->n_images == SAVE_MAX_IMAGES)
		return err_set(err, E2BIG, "more than %d images", SAVE_MAX_IMAGES);
	grown = realloc(sv->images, (sv->n_images + 1) * sizeof(*grown));
	if (!grown)
		return err_set(err, ENOMEM, "cannot plan '%s'", name);
	sv->images = grown;
	img = &sv->images[sv->n_images++];
	memset(img, 0, sizeof(*img));
	img->rec = rec;
	img->config_raw = (struct buf)BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	if (store_blob_get(sv->s, rec.config_digest, IMAGE_CONFIG_MAX_BYTES, &raw, err) < 0 ||
	    buf_append(&img->config_raw, raw.data, raw.len) < 0)
		return err_wrap(err, "image '%s'", name);
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", rec.config_digest);
	img->config = json_loadb(raw.data, raw.len, 0, &jerr);
	if (!json_is_object(img->config))
		return err_set(err, 0, "image '%s': invalid config", name);
	time_t created = 0;
	const char *c = json_string_value(json_object_get(img->config, "created"));
	if (c && human_parse_rfc3339(c, &created) == 0)
		img->created = created;
	if (named_by_tag(name, &rec) && add_tag(img, rec.ref, err) < 0)
		return -1;
	return plan_layers(sv->s, img, name, err);
}

/* ---- writing entries ---- */

static bool already_written(struct save *sv, const char *name)
{
	for (size_t i = 0; i < sv->n_written; i++)
		if (!strcmp(sv->written[i], name))
			return true;
	return false;
}

static void mark_written(struct save *sv, const char *name)
{
	void *g = realloc(sv->written, (sv->n_written + 1) * sizeof(*sv->written));

	if (!g)
		return; /* written twice at worst: loaders take the last */
	sv->written = g;
	snprintf(sv->written[sv->n_written++], sizeof(sv->written[0]), "%s", name);
}

static int put_dir(struct save *sv, const char *name, int64_t mtime, struct sk_err *err)
{
	struct tar_entry e = {.name = name, .type = TAR_DIR, .mode = 0755, .mtime = mtime};

	return tar_write_header(&sv->w, &e, err) < 0 ? -1 : tar_end_entry(&sv->w, err);
}

static int put_file(struct save *sv, const char *name, const void *data, size_t len, int64_t mtime,
		    struct sk_err *err)
{
	struct tar_entry e = {
	    .name = name, .type = TAR_REG, .mode = 0644, .mtime = mtime, .size = len};

	if (tar_write_header(&sv->w, &e, err) < 0 || tar_write_data(&sv->w, data, len, err) < 0)
		return -1;
	return tar_end_entry(&sv->w, err);
}

static int put_json(struct save *sv, const char *name, json_t *j, int64_t mtime, struct sk_err *err)
{
	cleanup_free char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!text)
		return err_set(err, ENOMEM, "cannot write '%s'", name);
	return put_file(sv, name, text, strlen(text), mtime, err);
}

/* The blob's bytes, or (uncompress) the tar inside them, into the current
 * entry; what they hash to must be want. */
static int stream_blob(struct save *sv, const struct save_layer *l, bool uncompress,
		       struct sk_err *err)
{
	cleanup_close int fd = store_layer_blob_open(sv->s, l->blob_digest);
	cleanup_free uint8_t *chunk = malloc(CHUNK);
	const char *want = uncompress ? l->out_diff_id : l->blob_digest;
	uint64_t expect = uncompress ? l->tar_size : (uint64_t)l->blob_size, total = 0;
	char got[DIGEST_STR_MAX];
	struct decomp d = {0};
	struct sha256 h;
	ssize_t n;
	int ret = 0;

	if (fd < 0 || !chunk)
		return err_set(err, fd < 0 ? errno : ENOMEM, "cannot open blob %s", l->blob_digest);
	sha256_init(&h);
	if (uncompress && decomp_init(&d, fd, l->comp, 0, err) < 0)
		ret = -1;
	while (ret == 0) {
		n = uncompress ? decomp_read(&d, chunk, CHUNK, err) : read(fd, chunk, CHUNK);
		if (n < 0 && !uncompress && errno == EINTR)
			continue;
		if (n < 0) {
			ret = uncompress ? -1 : err_set(err, errno, "cannot read blob");
			break;
		}
		if (n == 0)
			break;
		if ((total += (uint64_t)n) > expect) {
			ret = err_set(err, 0, "blob %s is larger than recorded", l->blob_digest);
			break;
		}
		sha256_update(&h, chunk, (size_t)n);
		ret = tar_write_data(&sv->w, chunk, (size_t)n, err);
	}
	if (uncompress)
		decomp_release(&d);
	if (ret < 0) {
		sha256_release(&h);
		return err_wrap(err, "layer %s", l->diff_id);
	}
	sha256_final(&h, got);
	if (total != expect || strcmp(got, want))
		return err_set(err, 0, "layer %s: the store's copy is damaged (content is %s)",
			       l->diff_id, got);
	return 0;
}

static int to_outer(void *ctx, const void *data, size_t len, struct sk_err *err)
{
	return tar_write_data(ctx, data, len, err);
}

/* The layer's directory as a tar, into the current entry. */
static int stream_tree(struct save *sv, const struct save_layer *l, struct sk_err *err)
{
	struct layer_write_opts o = {.overlay = true};
	struct layer_write_stats st = {0};
	cleanup_close int dfd = open_layer_dir(sv->s, l->diff_id, err);
	struct tar_writer inner;
	struct tar_result res;
	int ret;

	if (dfd < 0)
		return -1;
	ret = tar_writer_init(&inner, COMPRESSION_NONE, 0, to_outer, &sv->w, err);
	if (ret == 0)
		ret = layer_write_tree(&inner, dfd, "", &o, &st, err);
	if (ret == 0)
		ret = tar_writer_finish(&inner, &res, err);
	tar_writer_release(&inner);
	if (ret < 0)
		return err_wrap(err, "layer %s", l->diff_id);
	if (strcmp(res.diff_id, l->out_diff_id) || res.tar_bytes != l->tar_size)
		return err_set(err, 0, "layer %s changed while it was saved", l->diff_id);
	return 0;
}

/* An entry holding the layer: its tar (docker), or its blob (OCI). */
static int put_layer(struct save *sv, const char *name, const struct save_layer *l, bool as_tar,
		     int64_t mtime, struct sk_err *err)
{
	bool raw_blob = l->from_blob && !as_tar;
	struct tar_entry e = {.name = name,
			      .type = TAR_REG,
			      .mode = 0644,
			      .mtime = mtime,
			      .size = raw_blob ? (uint64_t)l->blob_size : l->tar_size};
	int ret;

	if (tar_write_header(&sv->w, &e, err) < 0)
		return -1;
	if (l->from_blob)
		ret = stream_blob(sv, l, as_tar, err);
	else
		ret = stream_tree(sv, l, err);
	return ret < 0 ? -1 : tar_end_entry(&sv->w, err);
}

/* ---- docker save ---- */

static json_t *v1_json(const struct save_image *img, size_t i)
{
	const struct save_layer *l = &img->layers[i];
	json_t *j = json_pack("{s:s}", "id", l->v1id);
	const char *created = json_string_value(json_object_get(img->config, "created"));

	if (!j)
		return NULL;
	if (i > 0)
		json_object_set_new(j, "parent", json_string(img->layers[i - 1].v1id));
	json_object_set_new(j, "created", json_string(created ? created : "1970-01-01T00:00:00Z"));
	json_object_set_new(j, "container_config", json_pack("{s:n}", "Cmd"));
	if (i + 1 == img->n_layers) {
		static const char *const keys[] = {"architecture",  "os",     "variant",
						   "config",	    "author", "container",
						   "docker_version"};
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			json_t *v = json_object_get(img->config, keys[k]);
			if (v)
				json_object_set(j, keys[k], v);
		}
	}
	return j;
}

static int docker_layer(struct save *sv, const struct save_image *img, size_t i, struct sk_err *err)
{
	const struct save_layer *l = &img->layers[i];
	char name[96];
	json_t *j;
	int ret;

	snprintf(name, sizeof(name), "%s/layer.tar", l->v1id);
	if (already_written(sv, name))
		return 0;
	snprintf(name, sizeof(name), "%s", l->v1id);
	if (put_dir(sv, name, img->created, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/VERSION", l->v1id);
	if (put_file(sv, name, "1.0", 3, img->created, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/json", l->v1id);
	j = v1_json(img, i);
	ret = put_json(sv, name, j, img->created, err);
	json_decref(j);
	snprintf(name, sizeof(name), "%s/layer.tar", l->v1id);
	if (ret == 0)
		ret = put_layer(sv, name, l, true, img->created, err);
	if (ret == 0)
		mark_written(sv, name);
	return ret;
}

static json_t *docker_manifest_entry(const struct save_image *img)
{
	char config[80];
	json_t *layers = json_array(), *tags = img->n_tags ? json_array() : json_null();

	snprintf(config, sizeof(config), "%s.json", digest_hex(img->config_digest));
	for (size_t i = 0; layers && i < img->n_layers; i++) {
		char name[96];
		snprintf(name, sizeof(name), "%s/layer.tar", img->layers[i].v1id);
		json_array_append_new(layers, json_string(name));
	}
	for (size_t i = 0; tags && i < img->n_tags; i++)
		json_array_append_new(tags, json_string(img->shown[i]));
	return json_pack("{s:s, s:o, s:o}", "Config", config, "RepoTags", tags, "Layers", layers);
}

/* repositories: {"busybox": {"latest": "<top v1 id>"}} */
static int add_repositories(json_t *repos, const struct save_image *img)
{
	for (size_t i = 0; img->n_layers && i < img->n_tags; i++) {
		const char *colon = strrchr(img->shown[i], ':');
		char repo[REF_STR_MAX];
		json_t *r;
		snprintf(repo, sizeof(repo), "%.*s", (int)(colon - img->shown[i]), img->shown[i]);
		r = json_object_get(repos, repo);
		if (!r) {
			r = json_object();
			json_object_set_new(repos, repo, r);
		}
		json_object_set_new(r, colon + 1, json_string(img->layers[img->n_layers - 1].v1id));
	}
	return 0;
}

static int write_docker(struct save *sv, struct sk_err *err)
{
	json_t *manifest = json_array(), *repos = json_object();
	int ret = manifest && repos ? 0 : err_set(err, ENOMEM, "save");

	for (size_t i = 0; ret == 0 && i < sv->n_images; i++) {
		struct save_image *img = &sv->images[i];
		char name[96];
		for (size_t k = 0; ret == 0 && k < img->n_layers; k++)
			ret = docker_layer(sv, img, k, err);
		snprintf(name, sizeof(name), "%s.json", digest_hex(img->config_digest));
		if (ret == 0 && !already_written(sv, name)) {
			ret = put_file(sv, name, img->config_raw.data, img->config_raw.len,
				       img->created, err);
			mark_written(sv, name);
		}
		json_array_append_new(manifest, docker_manifest_entry(img));
		add_repositories(repos, img);
	}
	if (ret == 0)
		ret = put_json(sv, "manifest.json", manifest, 0, err);
	if (ret == 0 && json_object_size(repos))
		ret = put_json(sv, "repositories", repos, 0, err);
	json_decref(manifest);
	json_decref(repos);
	return ret;
}

/* ---- OCI layout ---- */

static const char *oci_layer_type(const struct save_layer *l)
{
	if (!l->from_blob || l->comp == COMPRESSION_NONE)
		return MT_OCI_LAYER_TAR;
	return l->comp == COMPRESSION_ZSTD ? MT_OCI_LAYER_ZSTD : MT_OCI_LAYER_GZIP;
}

static json_t *descriptor(const char *media_type, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
			 (json_int_t)size);
}

static int put_blob_bytes(struct save *sv, const char *digest, const void *data, size_t len,
			  struct sk_err *err)
{
	char name[96];

	snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(digest));
	if (already_written(sv, name))
		return 0;
	mark_written(sv, name);
	return put_file(sv, name, data, len, 0, err);
}

/* The image's layers and config as blobs; its manifest's digest and size. */
static int oci_image(struct save *sv, const struct save_image *img, char digest[DIGEST_STR_MAX],
		     int64_t *size, struct sk_err *err)
{
	json_t *layers = json_array(), *man;
	cleanup_free char *text = NULL;
	int ret = layers ? 0 : err_set(err, ENOMEM, "save");

	for (size_t i = 0; ret == 0 && i < img->n_layers; i++) {
		const struct save_layer *l = &img->layers[i];
		const char *d = l->from_blob ? l->blob_digest : l->out_diff_id;
		int64_t sz = l->from_blob ? l->blob_size : (int64_t)l->tar_size;
		char name[96];
		snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(d));
		if (!already_written(sv, name)) {
			ret = put_layer(sv, name, l, false, 0, err);
			mark_written(sv, name);
		}
		json_array_append_new(layers, descriptor(oci_layer_type(l), d, sz));
	}
	if (ret == 0)
		ret = put_blob_bytes(sv, img->config_digest, img->config_raw.data,
				     img->config_raw.len, err);
	man = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
			"config",
			descriptor(MT_OCI_CONFIG, img->config_digest, (int64_t)img->config_raw.len),
			"layers", layers);
	text = man ? json_dumps(man, JSON_COMPACT) : NULL;
	json_decref(man);
	if (ret == 0 && !text)
		ret = err_set(err, ENOMEM, "save");
	if (ret < 0)
		return -1;
	sha256_digest(text, strlen(text), digest);
	*size = (int64_t)strlen(text);
	return put_blob_bytes(sv, digest, text, strlen(text), err);
}

static int oci_index_entries(json_t *list, const struct save_image *img, const char *digest,
			     int64_t size)
{
	for (size_t i = 0; i < (img->n_tags ? img->n_tags : 1); i++) {
		json_t *e = descriptor(MT_OCI_MANIFEST, digest, size);
		if (img->n_tags) {
			const char *tag = strrchr(img->shown[i], ':') + 1;
			json_object_set_new(e, "annotations",
					    json_pack("{s:s, s:s}", ANNOTATION_CONTAINERD_NAME,
						      img->canonical[i], ANNOTATION_REF_NAME, tag));
		}
		if (json_array_append_new(list, e) < 0)
			return -1;
	}
	return 0;
}

static int write_oci(struct save *sv, struct sk_err *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	json_t *list = json_array(), *index;
	int ret = list ? 0 : err_set(err, ENOMEM, "save");

	if (ret == 0)
		ret = put_file(sv, "oci-layout", layout, strlen(layout), 0, err);
	if (ret == 0)
		ret = put_dir(sv, "blobs", 0, err);
	if (ret == 0)
		ret = put_dir(sv, "blobs/sha256", 0, err);
	for (size_t i = 0; ret == 0 && i < sv->n_images; i++) {
		char digest[DIGEST_STR_MAX];
		int64_t size;
		ret = oci_image(sv, &sv->images[i], digest, &size, err);
		if (ret == 0 && oci_index_entries(list, &sv->images[i], digest, size) < 0)
			ret = err_set(err, ENOMEM, "save");
	}
	index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
			  "manifests", list);
	if (ret == 0)
		ret = put_json(sv, "index.json", index, 0, err);
	json_decref(index);
	return ret;
}

/* ---- the whole ---- */

int archive_save(struct store *s, char *const *names, size_t n, enum save_format format, int out_fd,
		 struct sk_err *err)
{
	struct save sv = {.s = s, .format = format};
	struct tar_result res;
	int hold, ret = 0;

	/* Layers and blobs must not go while they are read. */
	hold = store_hold(s, err);
	if (hold < 0)
		return -1;
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = plan_image(&sv, names[i], err);
	if (ret == 0)
		ret = tar_writer_init(&sv.w, COMPRESSION_NONE, 0, tar_sink_fd, &out_fd, err);
	if (ret == 0)
		ret = format == SAVE_OCI ? write_oci(&sv, err) : write_docker(&sv, err);
	if (ret == 0)
		ret = tar_writer_finish(&sv.w, &res, err);
	tar_writer_release(&sv.w);
	for (size_t i = 0; i < sv.n_images; i++)
		save_image_release(&sv.images[i]);
	free(sv.images);
	free(sv.written);
	store_release(hold);
	return ret;
}

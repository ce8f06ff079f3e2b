/*
 * skiff load: docker-save and OCI-layout archives into the store.
 *
 * Three steps, so that a bad archive never leaves an image record behind:
 *   1. spool: read the tar once (entries come in any order) into a private
 *      directory <root>/tmp/load-*, keeping only the entry names we know, under
 *      flat file names; symlinks/hard links become a name mapping;
 *   2. plan: for each image, verify its config against its digest, extract
 *      each missing layer and check it against the config's diff_id;
 *   3. record: store configs and manifests, then the image records.
 */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/image_config.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "image/unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define ENTRY_NAME_MAX 96 /* the longest accepted name is blobs/sha256/<64 hex> */
#define HEX_LEN 64
#define MAX_ALIASES 4096
#define MAX_ENTRIES (1u << 20)
#define ALIAS_HOPS 8
#define BLOB_PREFIX "blobs/sha256/"
#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_ZSTD "application/vnd.docker.image.rootfs.diff.tar.zstd"
#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

/* ---- entry names ---- */

enum entry_kind {
	ENTRY_IGNORED, /* not a name we know: never read */
	ENTRY_UNUSED,  /* a docker-save file we do not need (repositories, <hex>/json, ...) */
	ENTRY_INDEX,   /* manifest.json, index.json, oci-layout */
	ENTRY_CONFIG,  /* <hex>.json */
	ENTRY_BLOB,    /* <hex>/layer.tar, blobs/sha256/<hex> */
};

static bool hex64_then(const char *s, const char *rest)
{
	return strspn(s, "0123456789abcdef") >= HEX_LEN && !strcmp(s + HEX_LEN, rest);
}

static enum entry_kind entry_classify(const char *name)
{
	if (!strcmp(name, "manifest.json") || !strcmp(name, "index.json") ||
	    !strcmp(name, "oci-layout"))
		return ENTRY_INDEX;
	if (!strcmp(name, "repositories") || hex64_then(name, "/json") ||
	    hex64_then(name, "/VERSION"))
		return ENTRY_UNUSED;
	if (hex64_then(name, ".json"))
		return ENTRY_CONFIG;
	/* <hex>.tar: how skopeo and podman save layers */
	if (hex64_then(name, "/layer.tar") || hex64_then(name, ".tar"))
		return ENTRY_BLOB;
	if (!strncmp(name, BLOB_PREFIX, strlen(BLOB_PREFIX)) &&
	    hex64_then(name + strlen(BLOB_PREFIX), ""))
		return ENTRY_BLOB;
	return ENTRY_IGNORED;
}

static bool entry_is_data(const char *name)
{
	return entry_classify(name) >= ENTRY_INDEX;
}

/* Bytes a spooled entry may have: JSON is capped, layers are not. */
static int64_t entry_cap(enum entry_kind kind)
{
	if (kind == ENTRY_INDEX)
		return MANIFEST_MAX_BYTES;
	if (kind == ENTRY_CONFIG)
		return CONFIG_MAX_BYTES;
	return INT64_MAX;
}

/* "./x" is how `tar -C dir -c .` names x; any other shape is taken literally. */
static int entry_name(const char *raw, char *out, size_t len)
{
	while (!strncmp(raw, "./", 2))
		raw += 2;
	if (strlen(raw) >= len)
		return -1;
	snprintf(out, len, "%s", raw);
	return 0;
}

/* Lexical normalisation of a link target: "a/../b/./c" -> "b/c"; ".." above
 * the archive root is refused. */
static int normalize_path(const char *path, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	while (*path) {
		size_t plen = strcspn(path, "/");
		if (plen == 2 && !strncmp(path, "..", 2)) {
			char *slash = strrchr(out, '/');
			if (n == 0)
				return -1;
			n = slash ? (size_t)(slash - out) : 0;
			out[n] = '\0';
		} else if (plen > 0 && !(plen == 1 && path[0] == '.')) {
			if (n + plen + 2 > len)
				return -1;
			n += (size_t)snprintf(out + n, len - n, "%s%.*s", n ? "/" : "", (int)plen,
					      path);
		}
		path += plen;
		path += strspn(path, "/");
	}
	return n ? 0 : -1;
}

/* Spooled files are flat: "abc/layer.tar" -> "abc_layer.tar" (names are already
 * one of the accepted shapes, so this is one-to-one). */
static void flat_name(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '_';
}

/* ---- the spool directory ---- */

struct alias {
	char name[ENTRY_NAME_MAX];
	char target[ENTRY_NAME_MAX];
};

struct spool {
	int dirfd; /* flock'ed while we use it: an unlocked load-* dir is stale */
	char path[64];
	struct alias *aliases;
	size_t n_aliases;
};

static uint64_t spool_random(void)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return r;
}

static int spool_create(struct store *s, struct spool *sp, struct sk_err *err)
{
	for (int tries = 0; tries < 32; tries++) {
		snprintf(sp->path, sizeof(sp->path), "tmp/load-%016" PRIx64, spool_random());
		int fd = store_make_work_dir(s, sp->path, err);

		if (fd == -1)
			return -1;
		if (fd >= 0) {
			sp->dirfd = fd;
			return 0;
		}
	}
	return err_set(err, EEXIST, "cannot create a spool directory in '%s/tmp'", s->root);
}

static void spool_destroy(struct store *s, struct spool *sp)
{
	struct sk_err ignored;

	if (sp->dirfd >= 0) {
		fs_remove_tree(s->root_fd, sp->path, &ignored);
		close(sp->dirfd);
		sp->dirfd = -1;
	}
	free(sp->aliases);
	sp->aliases = NULL;
	sp->n_aliases = 0;
}

static struct alias *alias_find(struct spool *sp, const char *name)
{
	for (size_t i = 0; i < sp->n_aliases; i++)
		if (!strcmp(sp->aliases[i].name, name))
			return &sp->aliases[i];
	return NULL;
}

static void alias_remove(struct spool *sp, const char *name)
{
	struct alias *a = alias_find(sp, name);

	if (a)
		*a = sp->aliases[--sp->n_aliases];
}

static int alias_set(struct spool *sp, const char *name, const char *target, struct sk_err *err)
{
	struct alias *a = alias_find(sp, name);

	if (!a) {
		if (sp->n_aliases == MAX_ALIASES)
			return err_set(err, 0, "more than %d links in the archive", MAX_ALIASES);
		if (!sp->aliases) {
			sp->aliases = calloc(MAX_ALIASES, sizeof(*sp->aliases));
			if (!sp->aliases)
				return err_set(err, ENOMEM, "cannot record link '%s'", name);
		}
		a = &sp->aliases[sp->n_aliases++];
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->target, sizeof(a->target), "%s", target);
	return 0;
}

/* The file a name stands for, following the archive's links by name only. */
static int spool_resolve(struct spool *sp, const char *name, char *out, size_t len,
			 struct sk_err *err)
{
	const char *cur = name;

	for (int hop = 0; hop < ALIAS_HOPS; hop++) {
		struct alias *a = alias_find(sp, cur);
		if (!a) {
			flat_name(cur, out, len);
			return 0;
		}
		cur = a->target;
	}
	return err_set(err, ELOOP, "'%s' in the archive", name);
}

/* A symlink (target relative to the link's directory) or a hard link (target
 * relative to the archive root) between two accepted names. */
static int spool_link(struct spool *sp, const char *name, const char *target, bool symlink,
		      struct sk_err *err)
{
	char joined[2 * ENTRY_NAME_MAX + 2], resolved[ENTRY_NAME_MAX], flat[ENTRY_NAME_MAX];
	const char *slash = strrchr(name, '/');

	if (!target || target[0] == '/' || strlen(target) >= ENTRY_NAME_MAX)
		return 0;
	if (symlink && slash)
		snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - name), name, target);
	else
		snprintf(joined, sizeof(joined), "%s", target);
	if (normalize_path(joined, resolved, sizeof(resolved)) < 0 || !entry_is_data(resolved)) {
		log_debug("load: ignoring link '%s' -> '%s'", name, target);
		return 0;
	}
	flat_name(name, flat, sizeof(flat));
	unlinkat(sp->dirfd, flat, 0);
	return alias_set(sp, name, resolved, err);
}

static int spool_copy_data(struct archive *a, int fd, const char *name, int64_t cap,
			   struct sk_err *err)
{
	const void *data;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &data, &size, &off)) == ARCHIVE_OK) {
		if (off < 0 || (int64_t)size > cap - off)
			return err_set(err, EFBIG, "entry '%s' is larger than %" PRId64 " bytes",
				       name, cap);
		if (fs_pwrite_all(fd, data, size, (off_t)off) < 0)
			return err_set(err, errno, "cannot spool entry '%s'", name);
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, 0, "reading entry '%s': %s", name, archive_error_string(a));
	return 0;
}

static int spool_file(struct spool *sp, struct archive *a, struct archive_entry *e,
		      const char *name, struct sk_err *err)
{
	int64_t cap = entry_cap(entry_classify(name));
	char flat[ENTRY_NAME_MAX];
	cleanup_close int fd = -1;

	if (archive_entry_size_is_set(e) && archive_entry_size(e) > cap)
		return err_set(err, EFBIG, "entry '%s' is larger than %" PRId64 " bytes", name,
			       cap);
	alias_remove(sp, name);
	flat_name(name, flat, sizeof(flat));
	fd = openat(sp->dirfd, flat, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, errno, "cannot spool entry '%s'", name);
	return spool_copy_data(a, fd, name, cap, err);
}

static int spool_entry(struct spool *sp, struct archive *a, struct archive_entry *e,
		       struct sk_err *err)
{
	const char *raw = archive_entry_pathname(e);
	char name[ENTRY_NAME_MAX] = "";

	if (!raw || entry_name(raw, name, sizeof(name)) < 0 || !entry_is_data(name)) {
		if (raw && entry_classify(name) == ENTRY_IGNORED)
			log_debug("load: ignoring entry '%s'", raw);
		return 0;
	}
	if (archive_entry_hardlink(e))
		return spool_link(sp, name, archive_entry_hardlink(e), false, err);
	if (archive_entry_filetype(e) == AE_IFLNK)
		return spool_link(sp, name, archive_entry_symlink(e), true, err);
	if (archive_entry_filetype(e) == AE_IFREG)
		return spool_file(sp, a, e, name, err);
	return 0;
}

/* Returns the number of entries read, or -1. A first header that cannot be
 * read gives 0 entries: not an archive at all. */
static int64_t spool_entries(struct spool *sp, struct archive *a, struct sk_err *err)
{
	struct archive_entry *e;
	int64_t count = 0;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (++count > MAX_ENTRIES)
			return err_set(err, E2BIG, "more than %u entries", MAX_ENTRIES);
		if (spool_entry(sp, a, e, err) < 0)
			return -1;
	}
	if (r != ARCHIVE_EOF && count > 0)
		return err_set(err, 0, "reading the archive: %s", archive_error_string(a));
	return count;
}

static int not_an_archive(const char *name, struct sk_err *err)
{
	return err_set(err, 0, "'%s' is not a docker-save or OCI archive", name);
}

static int spool_archive(struct spool *sp, int fd, const char *name, struct sk_err *err)
{
	struct archive *a = archive_read_new();
	int64_t n = 0;

	if (!a)
		return err_set(err, ENOMEM, "cannot read '%s'", name);
	archive_read_support_format_tar(a);
	/* The archive as a whole may be gzip'ed (as docker load accepts); the
	 * layers inside are handled by unpack, never by libarchive filters. */
	archive_read_support_filter_gzip(a);
	if (archive_read_open_fd(a, fd, 1 << 16) == ARCHIVE_OK)
		n = spool_entries(sp, a, err);
	archive_read_free(a);
	if (n < 0)
		return err_wrap(err, "'%s'", name);
	return n == 0 ? not_an_archive(name, err) : 0;
}

static int spool_open(struct spool *sp, const char *name, struct sk_err *err)
{
	char flat[ENTRY_NAME_MAX];
	int fd;

	if (spool_resolve(sp, name, flat, sizeof(flat), err) < 0)
		return -1;
	fd = openat(sp->dirfd, flat, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return err_set(err, 0, "'%s' is missing from the archive", name);
	if (fd < 0)
		return err_set(err, errno, "cannot open spooled '%s'", name);
	return fd;
}

static bool spool_has(struct spool *sp, const char *name)
{
	struct sk_err ignored;
	cleanup_close int fd = spool_open(sp, name, &ignored);

	return fd >= 0;
}

static int spool_read(struct spool *sp, const char *name, size_t max, struct buf *out,
		      struct sk_err *err)
{
	char flat[ENTRY_NAME_MAX];

	if (!spool_has(sp, name))
		return err_set(err, 0, "'%s' is missing from the archive", name);
	if (spool_resolve(sp, name, flat, sizeof(flat), err) < 0)
		return -1;
	return fs_read_file(sp->dirfd, flat, max, out, err) < 0 ? err_wrap(err, "%s", name) : 0;
}

/* ---- images ---- */

/* One image, verified and ready to be recorded. */
struct load_image {
	struct buf config;
	struct buf manifest;
	char config_digest[DIGEST_STR_MAX];
	char manifest_digest[DIGEST_STR_MAX];
	struct archive_loaded *tags;
	size_t n_tags;
};

struct load_ctx {
	struct store *s;
	struct spool sp;
	struct load_image *images;
	size_t n_images;
	struct archive_report *rep;
};

static void load_image_release(struct load_image *img)
{
	buf_release(&img->config);
	buf_release(&img->manifest);
	free(img->tags);
	img->tags = NULL;
	img->n_tags = 0;
}

static void load_ctx_release(struct load_ctx *lc)
{
	for (size_t i = 0; i < lc->n_images; i++)
		load_image_release(&lc->images[i]);
	free(lc->images);
	lc->images = NULL;
	lc->n_images = 0;
}

static int add_tag(struct load_image *img, const char *name, struct sk_err *err)
{
	struct archive_loaded *t, *grown;
	struct image_ref ref;
	char familiar[REF_STR_MAX];

	if (ref_parse(name, &ref, err) < 0)
		return -1;
	if (ref.digest[0])
		return err_set(err, 0, "'%s' is not a name:tag reference", name);
	if (img->n_tags == ARCHIVE_MAX_TAGS)
		return err_set(err, 0, "more than %d tags", ARCHIVE_MAX_TAGS);
	grown = realloc(img->tags, (img->n_tags + 1) * sizeof(*grown));
	if (!grown)
		return err_set(err, ENOMEM, "cannot record tag '%s'", name);
	img->tags = grown;
	t = &img->tags[img->n_tags++];
	memset(t, 0, sizeof(*t));
	ref_canonical(&ref, t->ref, sizeof(t->ref));
	ref_familiar_name(&ref, familiar, sizeof(familiar));
	snprintf(t->shown, sizeof(t->shown), "%s:%s", familiar, ref.tag);
	return 0;
}

static int images_append(struct load_ctx *lc, struct load_image *img, struct sk_err *err)
{
	struct load_image *grown;

	grown = realloc(lc->images, (lc->n_images + 1) * sizeof(*grown));
	if (!grown)
		return err_set(err, ENOMEM, "cannot record image");
	lc->images = grown;
	lc->images[lc->n_images++] = *img;
	memset(img, 0, sizeof(*img));
	return 0;
}

static struct load_image *image_by_manifest(struct load_ctx *lc, const char *digest)
{
	for (size_t i = 0; i < lc->n_images; i++)
		if (!strcmp(lc->images[i].manifest_digest, digest))
			return &lc->images[i];
	return NULL;
}

/* The blob name of a digest in an OCI layout. */
static void blob_name(const char *digest, char *out, size_t len)
{
	snprintf(out, len, BLOB_PREFIX "%s", digest_hex(digest));
}

/* Read a config or manifest, check it hashes to want. */
static int read_verified(struct spool *sp, const char *name, const char *want, size_t max,
			 struct buf *out, struct sk_err *err)
{
	char got[DIGEST_STR_MAX];

	if (spool_read(sp, name, max, out, err) < 0)
		return -1;
	sha256_digest(out->data, out->len, got);
	if (strcmp(got, want))
		return err_set(err, 0, "'%s': digest mismatch: expected %s, content is %s", name,
			       want, got);
	return 0;
}

static int load_config(struct load_ctx *lc, const char *file, const char *digest,
		       struct load_image *img, struct image_config *cfg, struct sk_err *err)
{
	img->config = (struct buf)BUF_INIT(CONFIG_MAX_BYTES);
	if (read_verified(&lc->sp, file, digest, CONFIG_MAX_BYTES, &img->config, err) < 0)
		return -1;
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", digest);
	if (image_config_parse(img->config.data, img->config.len, cfg, err) < 0)
		return err_wrap(err, "config %s", digest);
	return 0;
}

/* ---- layers ---- */

/* Where a layer comes from and what the archive says about it. */
struct layer_src {
	const char *file;	     /* archive name of the blob */
	char digest[DIGEST_STR_MAX]; /* the blob's digest when the archive names it, else "" */
	enum compression comp;
	bool comp_known; /* OCI: from the media type; docker-save: sniffed */
};

static enum compression sniff_compression(int fd)
{
	unsigned char m[4] = {0};

	if (pread(fd, m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return COMPRESSION_NONE;
	if (m[0] == 0x1f && m[1] == 0x8b)
		return COMPRESSION_GZIP;
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return COMPRESSION_ZSTD;
	return COMPRESSION_NONE;
}

static int hash_fd(int fd, char out[DIGEST_STR_MAX], struct sk_err *err)
{
	cleanup_free char *chunk = malloc(1 << 20);
	struct sha256 h;
	int64_t off = 0;
	ssize_t n;

	if (!chunk || sha256_init(&h) < 0)
		return err_set(err, ENOMEM, "cannot hash layer");
	while ((n = pread(fd, chunk, 1 << 20, off)) > 0) {
		sha256_update(&h, chunk, (size_t)n);
		off += n;
	}
	if (n < 0) {
		sha256_release(&h);
		return err_set(err, errno, "cannot read layer");
	}
	sha256_final(&h, out);
	return 0;
}

static int unpack_into_store(struct store *s, int fd, enum compression comp, const char *diff_id,
			     struct sk_err *err)
{
	struct layer_tmp tmp = {.dirfd = -1, .lockfd = -1};
	struct unpack_result res = {0};

	if (store_layer_tmp_new(s, &tmp, err) < 0)
		goto fail;
	if (unpack_layer(fd, comp, tmp.dirfd, &res, err) < 0)
		goto fail;
	if (strcmp(res.diff_id, diff_id)) {
		err_set(err, 0, "diff_id mismatch: config says %s, layer content is %s", diff_id,
			res.diff_id);
		goto fail;
	}
	if (store_layer_tmp_commit(s, &tmp, diff_id, res.content_bytes, res.tar_bytes, err) < 0)
		goto fail;
	log_debug("load: layer %s: %" PRIu64 " bytes, %" PRIu64 " entries", diff_id, res.tar_bytes,
		  res.entries);
	return 0;
fail:
	if (tmp.lockfd >= 0 || tmp.name[0])
		store_layer_tmp_discard(s, &tmp);
	return -1;
}

/* The blob digest that goes into the manifest; a compressed blob the archive
 * names is checked, since the manifest will vouch for it. */
static int layer_blob_digest(int fd, struct layer_src *src, const char *diff_id, bool unpacking,
			     struct sk_err *err)
{
	char got[DIGEST_STR_MAX];

	if (src->comp == COMPRESSION_NONE) {
		/* An uncompressed blob is its own diff_id (unpack checks the content). */
		if (src->digest[0] && strcmp(src->digest, diff_id))
			return err_set(err, 0, "digest mismatch: archive names %s, config says %s",
				       src->digest, diff_id);
		snprintf(src->digest, sizeof(src->digest), "%s", diff_id);
		return 0;
	}
	if (src->digest[0] && !unpacking)
		return 0;
	if (hash_fd(fd, got, err) < 0)
		return -1;
	if (src->digest[0] && strcmp(src->digest, got))
		return err_set(err, 0, "digest mismatch: expected %s, content is %s", src->digest,
			       got);
	snprintf(src->digest, sizeof(src->digest), "%s", got);
	return 0;
}

/* The verified blob stays in the store, as pulled ones do (for save, push). */
static void keep_blob(struct load_ctx *lc, const struct layer_src *src)
{
	char flat[ENTRY_NAME_MAX];
	struct sk_err ignored;

	if (spool_resolve(&lc->sp, src->file, flat, sizeof(flat), &ignored) == 0)
		store_keep_layer_blob_file(lc->s, src->digest, lc->sp.dirfd, flat);
}

/* Make sure the layer is in the store; fill desc for the manifest. */
static int ensure_layer(struct load_ctx *lc, struct layer_src *src, const char *diff_id,
			struct descriptor *desc, struct sk_err *err)
{
	cleanup_close int fd = spool_open(&lc->sp, src->file, err);
	bool present = store_layer_exists(lc->s, diff_id);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return fd < 0 ? -1 : err_set(err, errno, "cannot stat '%s'", src->file);
	if (!src->comp_known)
		src->comp = sniff_compression(fd);
	if (layer_blob_digest(fd, src, diff_id, !present, err) < 0)
		return -1;
	if (present) {
		lc->rep->layers_present++;
	} else {
		if (unpack_into_store(lc->s, fd, src->comp, diff_id, err) < 0)
			return -1;
		lc->rep->layers_unpacked++;
		keep_blob(lc, src);
	}
	snprintf(desc->digest, sizeof(desc->digest), "%s", src->digest);
	desc->size = st.st_size;
	desc->compression = src->comp;
	return 0;
}

/* ---- docker save ---- */

static const char *docker_layer_type(enum compression c)
{
	if (c == COMPRESSION_GZIP)
		return MT_DOCKER_LAYER_GZIP;
	if (c == COMPRESSION_ZSTD)
		return MT_DOCKER_LAYER_ZSTD;
	return MT_DOCKER_LAYER_TAR;
}

static json_t *descriptor_json(const char *media_type, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:I, s:s}", "mediaType", media_type, "size", (json_int_t)size,
			 "digest", digest);
}

/* docker-save archives carry no registry manifest: write the Docker v2 one a
 * registry would serve for these blobs. */
static int docker_manifest(struct load_image *img, const struct descriptor *layers, size_t n,
			   struct sk_err *err)
{
	json_t *root, *arr = json_array();
	cleanup_free char *text = NULL;

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, descriptor_json(docker_layer_type(layers[i].compression),
							   layers[i].digest, layers[i].size));
	root = json_pack(
	    "{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_DOCKER_MANIFEST, "config",
	    descriptor_json(MT_DOCKER_CONFIG, img->config_digest, (int64_t)img->config.len),
	    "layers", arr);
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	img->manifest = (struct buf)BUF_INIT(MANIFEST_MAX_BYTES);
	if (!text || buf_append(&img->manifest, text, strlen(text)) < 0)
		return err_set(err, ENOMEM, "cannot build the manifest");
	sha256_digest(img->manifest.data, img->manifest.len, img->manifest_digest);
	return 0;
}

/* The digest a docker-save name implies: "<hex>.json" and "blobs/sha256/<hex>"
 * are named by their content; "<hex>/layer.tar" is not, and "<hex>.tar" (skopeo)
 * is not promised to be. */
static void name_digest(const char *name, char *out, size_t len)
{
	out[0] = '\0';
	if (!strncmp(name, BLOB_PREFIX, strlen(BLOB_PREFIX)))
		snprintf(out, len, "sha256:%s", name + strlen(BLOB_PREFIX));
	else if (hex64_then(name, ".json"))
		snprintf(out, len, "sha256:%.64s", name);
}

static int docker_layers(struct load_ctx *lc, json_t *layers, struct load_image *img,
			 const struct image_config *cfg, struct sk_err *err)
{
	size_t n = json_array_size(layers);
	cleanup_free struct descriptor *descs = calloc(n ? n : 1, sizeof(*descs));

	if (!descs)
		return err_set(err, ENOMEM, "cannot plan layers");
	if (n != cfg->n_diff_ids)
		return err_set(err, 0, "%zu layers in manifest.json but %zu diff_ids in the config",
			       n, cfg->n_diff_ids);
	for (size_t i = 0; i < n; i++) {
		const char *file = json_string_value(json_array_get(layers, i));
		struct layer_src src = {.file = file};
		if (!file || entry_classify(file) != ENTRY_BLOB)
			return err_set(err, 0, "layer %zu: invalid file name '%s'", i + 1,
				       file ? file : "(not a string)");
		name_digest(file, src.digest, sizeof(src.digest));
		if (ensure_layer(lc, &src, cfg->diff_ids[i], &descs[i], err) < 0)
			return err_wrap(err, "layer %zu ('%s')", i + 1, file);
	}
	return docker_manifest(img, descs, n, err);
}

static int docker_tags(json_t *tags, struct load_image *img, struct sk_err *err)
{
	size_t i;
	json_t *t;

	if (tags && !json_is_null(tags) && !json_is_array(tags))
		return err_set(err, 0, "RepoTags is not a list");
	json_array_foreach(tags, i, t)
	{
		if (!json_is_string(t))
			return err_set(err, 0, "RepoTags holds a non-string");
		if (add_tag(img, json_string_value(t), err) < 0)
			return err_wrap(err, "RepoTags");
	}
	return 0;
}

static int docker_image(struct load_ctx *lc, json_t *item, struct load_image *img,
			struct sk_err *err)
{
	const char *cfg_name = json_string_value(json_object_get(item, "Config"));
	json_t *layers = json_object_get(item, "Layers");
	struct image_config cfg = {0};
	char digest[DIGEST_STR_MAX] = "";
	int ret;

	if (cfg_name)
		name_digest(cfg_name, digest, sizeof(digest));
	/* A config must be named by its digest: that is how it is verified. */
	if (!cfg_name || entry_classify(cfg_name) < ENTRY_CONFIG || !digest[0])
		return err_set(err, 0, "invalid Config '%s'", cfg_name ? cfg_name : "(missing)");
	if (!json_is_array(layers) || json_array_size(layers) > MANIFEST_MAX_LAYERS)
		return err_set(err, 0, "Layers is not a list of at most %d names",
			       MANIFEST_MAX_LAYERS);
	if (docker_tags(json_object_get(item, "RepoTags"), img, err) < 0)
		return -1;
	ret = load_config(lc, cfg_name, digest, img, &cfg, err);
	if (ret == 0)
		ret = docker_layers(lc, layers, img, &cfg, err);
	image_config_release(&cfg);
	return ret;
}

static json_t *load_json(struct spool *sp, const char *name, struct sk_err *err)
{
	cleanup_buf struct buf raw = BUF_INIT(MANIFEST_MAX_BYTES);
	json_error_t jerr;
	json_t *root;

	if (spool_read(sp, name, MANIFEST_MAX_BYTES, &raw, err) < 0)
		return NULL;
	root = json_loadb(raw.data, raw.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		err_set(err, 0, "%s: invalid JSON: %s", name, jerr.text);
	return root;
}

static int load_docker_save(struct load_ctx *lc, struct sk_err *err)
{
	json_t *root = load_json(&lc->sp, "manifest.json", err);
	size_t n = json_array_size(root);
	int ret = 0;

	if (!root)
		return -1;
	if (!json_is_array(root) || n == 0 || n > ARCHIVE_MAX_IMAGES)
		ret = err_set(err, 0, "manifest.json: want a list of 1 to %d images",
			      ARCHIVE_MAX_IMAGES);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct load_image img = {0};
		ret = docker_image(lc, json_array_get(root, i), &img, err);
		if (ret == 0)
			ret = images_append(lc, &img, err);
		if (ret < 0) {
			if (img.n_tags)
				err_wrap(err, "image '%s'", img.tags[0].shown);
			else
				err_wrap(err, "image %zu of manifest.json", i + 1);
		}
		load_image_release(&img);
	}
	json_decref(root);
	return ret;
}

/* ---- OCI layout ---- */

/* The image manifest an index.json entry stands for: itself, or the host's
 * platform when it is an index. raw/digest get the image manifest. */
static int oci_resolve_manifest(struct load_ctx *lc, const char *media_type, const char *digest,
				struct manifest *man, struct buf *raw, char *mdigest,
				struct sk_err *err)
{
	char name[ENTRY_NAME_MAX], cur[DIGEST_STR_MAX], cur_mt[128];
	struct platform host;
	size_t chosen;

	snprintf(cur, sizeof(cur), "%s", digest);
	snprintf(cur_mt, sizeof(cur_mt), "%s", media_type ? media_type : "");
	/* depth 0: the index.json entry; depth 1: the platform chosen from it */
	for (int depth = 0; depth < 2; depth++) {
		if (!digest_is_valid(cur))
			return err_set(err, 0, "invalid digest '%s'", cur);
		blob_name(cur, name, sizeof(name));
		buf_reset(raw);
		if (read_verified(&lc->sp, name, cur, MANIFEST_MAX_BYTES, raw, err) < 0)
			return -1;
		manifest_release(man);
		if (manifest_parse(raw->data, raw->len, cur_mt[0] ? cur_mt : NULL, man, err) < 0)
			return err_wrap(err, "manifest %s", cur);
		snprintf(mdigest, DIGEST_STR_MAX, "%s", cur);
		if (man->kind == MANIFEST_IMAGE)
			return 0;
		platform_host(&host);
		if (manifest_select_platform(man, &host, &chosen, err) < 0)
			return err_wrap(err, "index %s", cur);
		snprintf(cur, sizeof(cur), "%s", man->manifests[chosen].digest);
		snprintf(cur_mt, sizeof(cur_mt), "%s", man->manifests[chosen].media_type);
	}
	return err_set(err, 0, "index %s: an index inside an index inside an index", digest);
}

/* A full reference for the image, if the index entry gives one: containerd's
 * name annotation, else ref.name when it is more than a bare tag. */
static const char *oci_ref_name(json_t *entry)
{
	json_t *ann = json_object_get(entry, "annotations");
	const char *full = json_string_value(json_object_get(ann, ANNOTATION_CONTAINERD_NAME));
	const char *name = json_string_value(json_object_get(ann, ANNOTATION_REF_NAME));
	struct image_ref ref;
	struct sk_err ignored;

	if (full && ref_parse(full, &ref, &ignored) == 0)
		return full;
	if (name && strpbrk(name, ":/@") && ref_parse(name, &ref, &ignored) == 0)
		return name;
	return NULL;
}

static int oci_layers(struct load_ctx *lc, const struct manifest *man,
		      const struct image_config *cfg, struct sk_err *err)
{
	char file[ENTRY_NAME_MAX];

	if (man->n_layers != cfg->n_diff_ids)
		return err_set(err, 0, "%zu layers in the manifest but %zu diff_ids in the config",
			       man->n_layers, cfg->n_diff_ids);
	for (size_t i = 0; i < man->n_layers; i++) {
		const struct descriptor *d = &man->layers[i];
		struct layer_src src = {.file = file, .comp = d->compression, .comp_known = true};
		struct descriptor out = {0};
		blob_name(d->digest, file, sizeof(file));
		snprintf(src.digest, sizeof(src.digest), "%s", d->digest);
		if (ensure_layer(lc, &src, cfg->diff_ids[i], &out, err) < 0)
			return err_wrap(err, "layer %zu (%s)", i + 1, d->digest);
	}
	return 0;
}

static int oci_image(struct load_ctx *lc, json_t *entry, struct load_image *img, struct sk_err *err)
{
	const char *mt = json_string_value(json_object_get(entry, "mediaType"));
	const char *digest = json_string_value(json_object_get(entry, "digest"));
	const char *name = oci_ref_name(entry);
	struct manifest man = {0};
	struct image_config cfg = {0};
	struct load_image *same;
	char cfg_file[ENTRY_NAME_MAX];
	int ret;

	if (!digest)
		return err_set(err, 0, "index.json: an entry has no digest");
	img->manifest = (struct buf)BUF_INIT(MANIFEST_MAX_BYTES);
	ret = oci_resolve_manifest(lc, mt, digest, &man, &img->manifest, img->manifest_digest, err);
	same = ret == 0 ? image_by_manifest(lc, img->manifest_digest) : NULL;
	if (same) /* another name for an image already loaded */
		ret = name ? add_tag(same, name, err) : 0;
	else if (ret == 0 && name)
		ret = add_tag(img, name, err);
	if (ret == 0 && !same) {
		blob_name(man.config.digest, cfg_file, sizeof(cfg_file));
		ret = load_config(lc, cfg_file, man.config.digest, img, &cfg, err);
		if (ret == 0)
			ret = oci_layers(lc, &man, &cfg, err);
		if (ret == 0)
			ret = images_append(lc, img, err);
	}
	image_config_release(&cfg);
	manifest_release(&man);
	return ret;
}

static int load_oci(struct load_ctx *lc, struct sk_err *err)
{
	json_t *root = load_json(&lc->sp, "index.json", err);
	json_t *list = json_object_get(root, "manifests");
	size_t n = json_array_size(list);
	int ret = 0;

	if (!root)
		return -1;
	if (!json_is_array(list) || n == 0 || n > ARCHIVE_MAX_IMAGES)
		ret = err_set(err, 0, "index.json: want 1 to %d manifests", ARCHIVE_MAX_IMAGES);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct load_image img = {0};
		ret = oci_image(lc, json_array_get(list, i), &img, err);
		if (ret < 0)
			err_wrap(err, "index.json entry %zu", i + 1);
		load_image_release(&img);
	}
	json_decref(root);
	return ret;
}

/* ---- recording ---- */

static bool config_recorded(struct store *s, const char *config_digest)
{
	cleanup_free struct store_image *list = NULL;
	struct sk_err ignored;
	size_t n = 0;

	if (store_refs_list(s, &list, &n, &ignored) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].config_digest, config_digest))
			return true;
	return false;
}

static int report_add(struct archive_report *rep, const struct archive_loaded *l,
		      struct sk_err *err)
{
	struct archive_loaded *grown = realloc(rep->images, (rep->n_images + 1) * sizeof(*grown));

	if (!grown)
		return err_set(err, ENOMEM, "cannot report loaded images");
	rep->images = grown;
	rep->images[rep->n_images++] = *l;
	return 0;
}

static int record_image(struct load_ctx *lc, struct load_image *img, struct sk_err *err)
{
	struct store_image rec = {0};
	struct archive_loaded untagged = {0};

	snprintf(rec.manifest_digest, sizeof(rec.manifest_digest), "%s", img->manifest_digest);
	snprintf(rec.config_digest, sizeof(rec.config_digest), "%s", img->config_digest);
	for (size_t i = 0; i < img->n_tags; i++) {
		snprintf(rec.ref, sizeof(rec.ref), "%s", img->tags[i].ref);
		snprintf(img->tags[i].config_digest, DIGEST_STR_MAX, "%s", img->config_digest);
		snprintf(img->tags[i].manifest_digest, DIGEST_STR_MAX, "%s", img->manifest_digest);
		if (store_ref_set(lc->s, &rec, err) < 0 ||
		    report_add(lc->rep, &img->tags[i], err) < 0)
			return -1;
	}
	if (img->n_tags)
		return 0;
	/* An image the store already knows (tagged or not) needs no untagged record. */
	if (!config_recorded(lc->s, img->config_digest) && store_ref_set(lc->s, &rec, err) < 0)
		return -1;
	snprintf(untagged.config_digest, sizeof(untagged.config_digest), "%s", img->config_digest);
	snprintf(untagged.manifest_digest, sizeof(untagged.manifest_digest), "%s",
		 img->manifest_digest);
	return report_add(lc->rep, &untagged, err);
}

static int record_images(struct load_ctx *lc, struct sk_err *err)
{
	/* Blobs first: a record must never point at a missing config or manifest. */
	for (size_t i = 0; i < lc->n_images; i++) {
		struct load_image *img = &lc->images[i];
		if (store_blob_put(lc->s, img->config_digest, img->config.data, img->config.len,
				   err) < 0 ||
		    store_blob_put(lc->s, img->manifest_digest, img->manifest.data,
				   img->manifest.len, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < lc->n_images; i++)
		if (record_image(lc, &lc->images[i], err) < 0)
			return -1;
	return 0;
}

static int load_images(struct load_ctx *lc, const char *name, struct sk_err *err)
{
	int ret;

	if (spool_has(&lc->sp, "manifest.json"))
		ret = load_docker_save(lc, err);
	else if (spool_has(&lc->sp, "index.json"))
		ret = load_oci(lc, err);
	else
		return not_an_archive(name, err);
	return ret < 0 ? err_wrap(err, "'%s'", name) : 0;
}

int archive_load(struct store *s, int fd, const char *name, struct archive_report *rep,
		 struct sk_err *err)
{
	struct load_ctx lc = {.s = s, .rep = rep, .sp = {.dirfd = -1}};
	int hold, ret;

	memset(rep, 0, sizeof(*rep));
	hold = store_hold(s, err);
	if (hold < 0)
		return -1;
	/* Spool dirs of loads that died: nobody holds their lock. */
	store_remove_stale_dirs(s, "tmp", "load-");
	ret = spool_create(s, &lc.sp, err);
	if (ret == 0)
		ret = spool_archive(&lc.sp, fd, name, err);
	if (ret == 0)
		ret = load_images(&lc, name, err);
	if (ret == 0)
		ret = record_images(&lc, err);
	spool_destroy(s, &lc.sp);
	load_ctx_release(&lc);
	store_release(hold);
	if (ret < 0)
		archive_report_release(rep);
	return ret;
}

void archive_report_release(struct archive_report *rep)
{
	free(rep->images);
	rep->images = NULL;
	rep->n_images = 0;
}

/*
 * commit and import (commit.h): a tree or a tar into a new layer of the
 * store, then the config, the manifest and the record.
 */
#include "image/commit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/config_edit.h"
#include "image/image_config.h"
#include "image/layer_write.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "image/unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_ZSTD "application/vnd.docker.image.rootfs.diff.tar.zstd"
#define EMPTY_TAR_ENTRIES 0

/* The new layer: its diff_id and size, or empty. */
struct new_layer {
	char diff_id[DIGEST_STR_MAX];
	uint64_t size;
	bool empty;
	/* import: the input as given, kept as the layer's blob */
	char blob_digest[DIGEST_STR_MAX];
	int64_t blob_size;
	enum compression comp;
};

/* ---- the layer ---- */

struct tree_writer {
	int dirfd;
	int out_fd;
	bool running;
	struct layer_write_stats st;
	struct tar_result res;
	struct sk_err err;
	int ret;
};

static void *tree_writer_main(void *arg)
{
	struct tree_writer *tw = arg;
	struct layer_write_opts o = {.overlay = true, .tolerate_changes = tw->running};
	sigset_t pipe_sig;

	/* A reader that gave up must not kill the process: EPIPE instead. */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	tw->ret = layer_write_fd(tw->dirfd, &o, COMPRESSION_NONE, 0, tw->out_fd, &tw->res, &tw->st,
				 &tw->err);
	close(tw->out_fd);
	return NULL;
}

/* Extract the tar read from fd into a new layer of the store. */
static int layer_from_fd(struct store *s, int fd, enum compression comp, struct new_layer *nl,
			 struct sk_err *err)
{
	struct layer_tmp tmp = {.dirfd = -1, .lockfd = -1};
	struct unpack_result res = {0};

	if (store_layer_tmp_new(s, &tmp, err) < 0 ||
	    unpack_layer(fd, comp, tmp.dirfd, &res, err) < 0)
		goto fail;
	snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", res.diff_id);
	nl->size = res.tar_bytes;
	nl->empty = res.entries == EMPTY_TAR_ENTRIES;
	if (nl->empty) {
		store_layer_tmp_discard(s, &tmp);
		return 0;
	}
	if (store_layer_tmp_commit(s, &tmp, res.diff_id, res.content_bytes, res.tar_bytes, err) < 0)
		goto fail;
	return 0;
fail:
	if (tmp.lockfd >= 0 || tmp.name[0])
		store_layer_tmp_discard(s, &tmp);
	return -1;
}

/* The upper directory as a tar through a pipe into the extractor. */
static int layer_from_upper(struct store *s, const struct commit_container *c, struct new_layer *nl,
			    struct sk_err *err)
{
	struct tree_writer tw = {.dirfd = c->upper_fd, .running = c->running};
	int p[2], ret;
	pthread_t th;

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(err, errno, "cannot make a pipe");
	tw.out_fd = p[1];
	if ((errno = pthread_create(&th, NULL, tree_writer_main, &tw)) != 0) {
		close(p[0]);
		close(p[1]);
		return err_set(err, errno, "cannot start the layer writer");
	}
	ret = layer_from_fd(s, p[0], COMPRESSION_NONE, nl, err);
	close(p[0]); /* a writer still writing gets EPIPE */
	pthread_join(th, NULL);
	if (tw.ret < 0) {
		*err = tw.err;
		return err_wrap(err, "container's changes");
	}
	layer_write_warn_skipped(&tw.st);
	return ret;
}

/* ---- the config ---- */

static void now_rfc3339(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char frac[16];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
	for (n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	if (n == 1)
		frac[0] = '\0';
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static json_t *strv_json(char *const *v, size_t from)
{
	json_t *a = json_array();

	for (size_t i = from; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static size_t strv_count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static bool env_has(json_t *env, const char *entry)
{
	size_t i;
	json_t *e;

	json_array_foreach(env, i, e) if (json_string_value(e) &&
					  !strcmp(json_string_value(e), entry)) return true;
	return false;
}

/* The container's environment without what the runtime added (HOSTNAME,
 * TERM with -t) unless the image had it. */
static json_t *container_env(json_t *image_env, const struct commit_container *c)
{
	json_t *a = json_array();
	char hostname[300];

	snprintf(hostname, sizeof(hostname), "HOSTNAME=%s", c->hostname ? c->hostname : "");
	for (size_t i = 0; a && c->env && c->env[i]; i++) {
		const char *e = c->env[i];
		if ((!strcmp(e, hostname) || (c->tty && !strcmp(e, "TERM=xterm"))) &&
		    !env_has(image_env, e))
			continue;
		json_array_append_new(a, json_string(e));
	}
	return a;
}

/* Cmd and Entrypoint from the container's process: the image's entrypoint
 * stays when the process starts with it; otherwise the first word is. */
static void container_command(json_t *cfg, const struct commit_container *c)
{
	json_t *ep = json_object_get(cfg, "Entrypoint");
	size_t n_ep = json_array_size(ep), n = strv_count(c->args), i;
	bool same = n_ep <= n;
	json_t *e;

	json_array_foreach(ep, i, e) if (same && (!json_string_value(e) ||
						  strcmp(json_string_value(e), c->args[i]))) same =
	    false;
	if (!n)
		return;
	if (n_ep == 0 || same) {
		json_object_set_new(cfg, "Cmd", n > n_ep ? strv_json(c->args, n_ep) : json_null());
		return;
	}
	json_object_set_new(cfg, "Entrypoint", json_pack("[s]", c->args[0]));
	json_object_set_new(cfg, "Cmd", n > 1 ? strv_json(c->args, 1) : json_null());
}

static int apply_container(json_t *cfg, const struct commit_container *c)
{
	const char *image_cwd = json_string_value(json_object_get(cfg, "WorkingDir"));

	json_object_set_new(cfg, "Env", container_env(json_object_get(cfg, "Env"), c));
	container_command(cfg, c);
	/* "/" is where a process starts when the image names no directory */
	if (c->cwd && c->cwd[0] && !(!strcmp(c->cwd, "/") && (!image_cwd || !image_cwd[0])))
		json_object_set_new(cfg, "WorkingDir", json_string(c->cwd));
	if (c->user && c->user[0])
		json_object_set_new(cfg, "User", json_string(c->user));
	if (c->hostname)
		json_object_set_new(cfg, "Hostname", json_string(c->hostname));
	return 0;
}

static int apply_changes(json_t *cfg, const struct commit_opts *o, struct sk_err *err)
{
	struct config_edit ed = {.config = cfg};

	for (size_t i = 0; i < o->n_changes; i++)
		if (config_edit_apply(&ed, o->changes[i], err) < 0)
			return -1;
	return 0;
}

static char *joined(char *const *v)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + 1;
	out = calloc(1, len);
	for (size_t i = 0; out && v && v[i]; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, v[i]);
	}
	return out;
}

static int add_history(json_t *root, const char *created, const char *created_by,
		       const struct commit_opts *o, bool empty)
{
	json_t *history = json_object_get(root, "history");
	json_t *h = json_pack("{s:s}", "created", created);

	if (!h)
		return -1;
	if (o->author && o->author[0])
		json_object_set_new(h, "author", json_string(o->author));
	if (created_by)
		json_object_set_new(h, "created_by", json_string(created_by));
	if (o->message && o->message[0])
		json_object_set_new(h, "comment", json_string(o->message));
	if (empty)
		json_object_set_new(h, "empty_layer", json_true());
	if (!json_is_array(history)) {
		history = json_array();
		json_object_set_new(root, "history", history);
	}
	return json_array_append_new(history, h);
}

static int add_diff_id(json_t *root, const struct new_layer *nl)
{
	json_t *rootfs = json_object_get(root, "rootfs");
	json_t *ids = json_object_get(rootfs, "diff_ids");

	if (nl->empty)
		return 0;
	if (!json_is_object(rootfs)) {
		rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
		json_object_set_new(root, "rootfs", rootfs);
		ids = json_object_get(rootfs, "diff_ids");
	}
	return json_array_append_new(ids, json_string(nl->diff_id));
}

/* The serialised config: keys sorted, so equal configs are equal bytes. */
static int config_dump(json_t *root, struct buf *out, struct sk_err *err)
{
	cleanup_free char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);

	*out = (struct buf)BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	if (!text || buf_append(out, text, strlen(text)) < 0)
		return err_set(err, E2BIG, "the new image config is too large");
	return 0;
}

/* ---- the manifest ---- */

static json_t *descriptor(const char *media_type, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:I, s:s}", "mediaType", media_type, "size", (json_int_t)size,
			 "digest", digest);
}

/* The base image's manifest, when the store has it and it fits its config:
 * its layer descriptors (blob digests a registry knows) are kept. */
static int base_manifest(struct store *s, const char *config_digest, size_t n_layers,
			 struct manifest *man)
{
	cleanup_free struct store_image *list = NULL;
	struct sk_err ignored;
	size_t n = 0;

	if (!config_digest || store_refs_list(s, &list, &n, &ignored) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		cleanup_buf struct buf raw = BUF_INIT(MANIFEST_MAX_BYTES);
		if (strcmp(list[i].config_digest, config_digest) ||
		    store_blob_get(s, list[i].manifest_digest, MANIFEST_MAX_BYTES, &raw, &ignored) <
			0)
			continue;
		if (manifest_parse(raw.data, raw.len, NULL, man, &ignored) == 0 &&
		    man->kind == MANIFEST_IMAGE && man->n_layers == n_layers)
			return 0;
		manifest_release(man);
	}
	return -1;
}

static const char *blob_media_type(enum compression c)
{
	if (c == COMPRESSION_GZIP)
		return MT_DOCKER_LAYER_GZIP;
	if (c == COMPRESSION_ZSTD)
		return MT_DOCKER_LAYER_ZSTD;
	return MT_DOCKER_LAYER_TAR;
}

static int build_manifest(struct store *s, const char *base_config, json_t *root,
			  const struct new_layer *nl, const struct buf *config,
			  char config_digest[DIGEST_STR_MAX], struct buf *out, struct sk_err *err)
{
	json_t *ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	size_t n = json_array_size(ids);
	struct manifest base = {0};
	size_t n_base = nl && !nl->empty && n ? n - 1 : n;
	bool have_base = base_manifest(s, base_config, n_base, &base) == 0;
	bool oci = have_base && !strcmp(base.media_type, MT_OCI_MANIFEST);
	json_t *layers = json_array(), *man;
	cleanup_free char *text = NULL;

	sha256_digest(config->data, config->len, config_digest);
	for (size_t i = 0; layers && i < n; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		if (have_base && i < base.n_layers) {
			const struct descriptor *d = &base.layers[i];
			json_array_append_new(layers,
					      descriptor(d->media_type, d->digest, d->size));
			continue;
		}
		if (nl && nl->blob_digest[0] && i + 1 == n) {
			json_array_append_new(layers, descriptor(blob_media_type(nl->comp),
								 nl->blob_digest, nl->blob_size));
			continue;
		}
		json_array_append_new(layers,
				      descriptor(oci ? MT_OCI_LAYER_TAR : MT_DOCKER_LAYER_TAR, id,
						 store_layer_tar_size(s, id)));
	}
	man = json_pack(
	    "{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
	    oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST, "config",
	    descriptor(oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG, config_digest, (int64_t)config->len),
	    "layers", layers);
	manifest_release(&base);
	text = man ? json_dumps(man, JSON_COMPACT) : NULL;
	json_decref(man);
	*out = (struct buf)BUF_INIT(MANIFEST_MAX_BYTES);
	if (!text || buf_append(out, text, strlen(text)) < 0)
		return err_set(err, ENOMEM, "cannot build the manifest");
	return 0;
}

/* ---- recording ---- */

/* Config and manifest blobs, then the record. */
static int record(struct store *s, const char *base_config, json_t *root,
		  const struct new_layer *nl, const char *ref, char out[DIGEST_STR_MAX],
		  struct sk_err *err)
{
	cleanup_buf struct buf config = BUF_INIT(0), manifest = BUF_INIT(0);
	struct store_image rec = {0};
	int ret;

	if (config_dump(root, &config, err) < 0 ||
	    build_manifest(s, base_config, root, nl, &config, rec.config_digest, &manifest, err) <
		0)
		return -1;
	sha256_digest(manifest.data, manifest.len, rec.manifest_digest);
	snprintf(rec.ref, sizeof(rec.ref), "%s", ref ? ref : "");
	ret = store_blob_put(s, rec.config_digest, config.data, config.len, err);
	if (ret == 0)
		ret = store_blob_put(s, rec.manifest_digest, manifest.data, manifest.len, err);
	/* An untagged image the store already has needs no second record. */
	if (ret == 0 && !ref) {
		struct store_image found;
		struct sk_err ignored;
		if (store_image_lookup(s, rec.config_digest, &found, &ignored) == 0)
			goto done;
	}
	if (ret == 0)
		ret = store_ref_set(s, &rec, err);
done:
	if (ret == 0)
		snprintf(out, DIGEST_STR_MAX, "%s", rec.config_digest);
	return ret;
}

static json_t *load_base(struct store *s, const char *config_digest, struct sk_err *err)
{
	cleanup_buf struct buf raw = BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	json_error_t jerr;
	json_t *root;

	if (store_blob_get(s, config_digest, IMAGE_CONFIG_MAX_BYTES, &raw, err) < 0)
		return NULL;
	root = json_loadb(raw.data, raw.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(err, 0, "image config %s is not a JSON object", config_digest);
		return NULL;
	}
	return root;
}

/* The "config" object of root, made when missing or null. */
static json_t *process_config(json_t *root)
{
	json_t *cfg = json_object_get(root, "config");

	if (!json_is_object(cfg)) {
		cfg = json_object();
		json_object_set_new(root, "config", cfg);
	}
	return cfg;
}

static int commit_config(json_t *root, const struct commit_container *c,
			 const struct commit_opts *o, const struct new_layer *nl,
			 struct sk_err *err)
{
	json_t *cfg = process_config(root);
	cleanup_free char *created_by = joined(c->args);
	char created[64];

	apply_container(cfg, c);
	json_object_set_new(root, "container_config", json_deep_copy(cfg));
	if (apply_changes(cfg, o, err) < 0)
		return -1;
	now_rfc3339(created, sizeof(created));
	json_object_set_new(root, "created", json_string(created));
	json_object_set_new(root, "container", json_string(c->id));
	json_object_del(root, "docker_version");
	if (o->author && o->author[0])
		json_object_set_new(root, "author", json_string(o->author));
	else
		json_object_del(root, "author");
	if (add_history(root, created, created_by, o, nl->empty) < 0 || add_diff_id(root, nl) < 0)
		return err_set(err, ENOMEM, "cannot build the image config");
	return 0;
}

int image_commit(struct store *s, const char *base_config_digest, const struct commit_container *c,
		 const struct commit_opts *o, char out[DIGEST_STR_MAX], struct sk_err *err)
{
	struct new_layer nl = {0};
	json_t *root;
	int hold, ret;

	root = load_base(s, base_config_digest, err);
	if (!root)
		return err_wrap(err, "the container's image");
	/* Check the changes before the (long) layer is written. */
	json_t *trial = json_deep_copy(process_config(root));
	ret = apply_changes(trial, o, err);
	json_decref(trial);
	hold = ret == 0 ? store_hold(s, err) : -1;
	if (hold < 0) {
		json_decref(root);
		return -1;
	}
	ret = layer_from_upper(s, c, &nl, err);
	if (ret == 0)
		ret = commit_config(root, c, o, &nl, err);
	if (ret == 0)
		ret = record(s, base_config_digest, root, &nl, o->ref, out, err);
	store_release(hold);
	json_decref(root);
	return ret;
}

/* ---- import ---- */

static json_t *import_config(const struct commit_opts *o, const char *source,
			     const struct new_layer *nl, struct sk_err *err)
{
	struct platform host;
	char created[64];
	json_t *root, *cfg;

	platform_host(&host);
	now_rfc3339(created, sizeof(created));
	root = json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[]}}", "architecture", host.arch, "os",
			 host.os, "created", created, "config", "rootfs", "type", "layers",
			 "diff_ids");
	if (!root)
		return NULL;
	if (host.variant[0])
		json_object_set_new(root, "variant", json_string(host.variant));
	cfg = json_object_get(root, "config");
	if (apply_changes(cfg, o, err) < 0) {
		json_decref(root);
		return NULL;
	}
	if (json_object_size(cfg) == 0)
		json_object_set_new(root, "config", json_object());
	/* docker's import: no created_by; the comment is the message, else
	 * "Imported from <source>" (the docker CLI sends files as "-") */
	char by[4200];
	struct commit_opts ho = *o;
	snprintf(by, sizeof(by), "Imported from %s", source);
	if (!ho.message || !ho.message[0])
		ho.message = by;
	json_object_set_new(root, "comment", json_string(ho.message));
	if (add_history(root, created, NULL, &ho, nl->empty) < 0 || add_diff_id(root, nl) < 0) {
		json_decref(root);
		err_set(err, ENOMEM, "cannot build the image config");
		return NULL;
	}
	return root;
}

/* The input as given, into a spool file (hashed on the way): it becomes
 * the layer's blob once extracted and verified. Returns the file's fd. */
static int spool_input(int fd, int dirfd, struct new_layer *nl, struct sk_err *err)
{
	cleanup_free uint8_t *chunk = malloc(1 << 20);
	int out = openat(dirfd, "blob", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	unsigned char magic[4] = {0};
	struct sha256 h;
	ssize_t n;

	if (out < 0 || !chunk) {
		if (out >= 0)
			close(out);
		return err_set(err, out < 0 ? errno : ENOMEM, "cannot spool the input");
	}
	sha256_init(&h);
	while ((n = read(fd, chunk, 1 << 20)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		int w = n < 0 ? -errno : fs_write_all(out, chunk, (size_t)n);
		if (w < 0) {
			sha256_release(&h);
			close(out);
			return err_set(err, -w, "cannot spool the input");
		}
		if (nl->blob_size < 4)
			memcpy(magic + nl->blob_size, chunk,
			       (size_t)n < 4 - (size_t)nl->blob_size ? (size_t)n
								     : 4 - (size_t)nl->blob_size);
		sha256_update(&h, chunk, (size_t)n);
		nl->blob_size += n;
	}
	sha256_final(&h, nl->blob_digest);
	nl->comp = magic[0] == 0x1f && magic[1] == 0x8b ? COMPRESSION_GZIP
		   : magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd
		       ? COMPRESSION_ZSTD
		       : COMPRESSION_NONE;
	if (lseek(out, 0, SEEK_SET) < 0) {
		close(out);
		return err_set(err, errno, "cannot spool the input");
	}
	return out;
}

static int spool_dir(struct store *s, char *name, size_t len, struct sk_err *err)
{
	for (int tries = 0; tries < 32; tries++) {
		snprintf(name, len, "tmp/import-%d-%08lx", (int)getpid(), (unsigned long)random());
		int fd = store_make_work_dir(s, name, err);
		if (fd != STORE_WORK_DIR_RETRY)
			return fd;
	}
	return err_set(err, EEXIST, "cannot make a spool directory in '%s/tmp'", s->root);
}

static int import_layer(struct store *s, int fd, struct new_layer *nl, struct sk_err *err)
{
	char dir[96];
	struct sk_err ignored;
	cleanup_close int dfd = -1, spool = -1;
	int ret;

	store_remove_stale_dirs(s, "tmp", "import-");
	dfd = spool_dir(s, dir, sizeof(dir), err);
	if (dfd < 0)
		return -1;
	spool = spool_input(fd, dfd, nl, err);
	ret = spool < 0 ? -1 : layer_from_fd(s, spool, COMPRESSION_NONE, nl, err);
	if (ret == 0 && !nl->empty)
		store_keep_layer_blob_file(s, nl->blob_digest, dfd, "blob");
	if (nl->empty)
		nl->blob_digest[0] = '\0';
	fs_remove_tree(s->root_fd, dir, &ignored);
	return ret;
}

int image_import(struct store *s, int fd, const char *source, const struct commit_opts *o,
		 char out[DIGEST_STR_MAX], struct sk_err *err)
{
	struct new_layer nl = {0};
	json_t *root = NULL;
	int hold, ret;

	/* the changes first: a bad one should not cost a whole extraction */
	root = import_config(o, source, &nl, err);
	if (!root)
		return -1;
	json_decref(root);
	hold = store_hold(s, err);
	if (hold < 0)
		return -1;
	ret = import_layer(s, fd, &nl, err);
	if (ret == 0 && !(root = import_config(o, source, &nl, err)))
		ret = -1;
	if (ret == 0)
		ret = record(s, NULL, root, &nl, o->ref, out, err);
	json_decref(root);
	store_release(hold);
	return ret;
}

/*
 * The content-addressed image store: blobs, layers, image records (refs) and
 * the locks that let several skiff processes share it. Layout in store.h.
 *
 * Crash safety: every visible change is a rename (blobs, layers, refs), so a
 * killed skiff leaves either the old or the new state. Leftovers (tmp dirs,
 * temp files) are recognised by a free flock and removed later.
 */
#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_config.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define REFS_MAX_BYTES (16u << 20)
#define REFS_MAX_RECORDS 100000
#define MANIFEST_BLOB_MAX (4u << 20)

static const char *const store_dirs[] = {
	"blobs", "blobs/sha256", "partial", "locks", "layers", "containers", "tmp",
};

/* Nobody but the store's owner may look in: refs name the images, the
 * containers' config.json hold their environment (-e secrets). Earlier
 * versions made the root 0711; an existing root is tightened. */
static int store_make_private(const struct store *s, struct sk_err *err)
{
	struct stat st;

	if (fstat(s->root_fd, &st) < 0)
		return err_set(err, errno, "cannot stat '%s'", s->root);
	if (st.st_uid != geteuid() || !(st.st_mode & 077))
		return 0;
	if (fchmod(s->root_fd, st.st_mode & 0700) < 0)
		return err_set(err, errno, "cannot make '%s' private", s->root);
	return 0;
}

int store_open(struct store *s, const char *root, struct sk_err *err)
{
	s->root_fd = -1;
	if (snprintf(s->root, sizeof(s->root), "%s", root) >= (int)sizeof(s->root))
		return err_set(err, ENAMETOOLONG, "store root '%s'", root);
	s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		if (errno != ENOENT)
			return err_set(err, errno, "cannot open '%s'", root);
		if (fs_mkdir_p(AT_FDCWD, root, 0700, err) < 0)
			return -1;
		s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->root_fd < 0)
			return err_set(err, errno, "cannot open '%s'", root);
	}
	if (store_make_private(s, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++) {
		if (mkdirat(s->root_fd, store_dirs[i], 0700) < 0 && errno != EEXIST)
			return err_set(err, errno, "cannot create '%s/%s'", root, store_dirs[i]);
	}
	/* Paths handed to mounts (layers, containers) must not depend on the cwd. */
	if (root[0] != '/') {
		char abs[PATH_MAX];
		if (!realpath(root, abs) || snprintf(s->root, sizeof(s->root), "%s", abs) >= (int)sizeof(s->root))
			return err_set(err, errno ? errno : ENAMETOOLONG, "cannot resolve '%s'", root);
	}
	return 0;
}

void store_close(struct store *s)
{
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->root_fd = -1;
}

static int lock_file(int dirfd, const char *name, int how, struct sk_err *err)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_set(err, errno, "cannot open lock '%s'", name);
	while (flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return -EWOULDBLOCK;
		return err_set(err, e, "cannot lock '%s'", name);
	}
	return fd;
}

int store_lock(struct store *s, struct sk_err *err)
{
	return lock_file(s->root_fd, "lock", LOCK_EX, err);
}

void store_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd); /* closing drops the flock */
}

/* ---- blobs ---- */

static void blob_name(const char *digest, char *out, size_t len)
{
	snprintf(out, len, "blobs/sha256/%s", digest_hex(digest));
}

int store_blob_put(struct store *s, const char *digest, const void *data, size_t len,
		   struct sk_err *err)
{
	char actual[DIGEST_STR_MAX], name[128];

	if (!digest_is_valid(digest))
		return err_set(err, 0, "invalid digest '%s'", digest);
	sha256_digest(data, len, actual);
	if (strcmp(actual, digest) != 0)
		return err_set(err, 0, "digest mismatch: expected %s, got %s", digest, actual);
	if (store_blob_exists(s, digest))
		return 0;
	blob_name(digest, name, sizeof(name));
	return fs_write_atomic(s->root_fd, name, data, len, 0600, err);
}

int store_blob_get(struct store *s, const char *digest, size_t max, struct buf *out,
		   struct sk_err *err)
{
	char actual[DIGEST_STR_MAX], name[128];

	if (!digest_is_valid(digest))
		return err_set(err, 0, "invalid digest '%s'", digest);
	blob_name(digest, name, sizeof(name));
	if (fs_read_file(s->root_fd, name, max, out, err) < 0)
		return err_wrap(err, "blob %s", digest);
	/* Blobs are small (manifests, configs): re-verifying costs microseconds and
	 * catches a store damaged behind our back. */
	sha256_digest(out->data, out->len, actual);
	if (strcmp(actual, digest) != 0)
		return err_set(err, 0, "blob %s is corrupt in the store (content is %s)", digest,
			       actual);
	return 0;
}

bool store_blob_exists(struct store *s, const char *digest)
{
	char name[128];

	if (!digest_is_valid(digest))
		return false;
	blob_name(digest, name, sizeof(name));
	return faccessat(s->root_fd, name, F_OK, 0) == 0;
}

/* ---- layers ---- */

bool store_layer_exists(struct store *s, const char *diff_id)
{
	char name[128];

	if (!digest_is_valid(diff_id))
		return false;
	snprintf(name, sizeof(name), "layers/%s/diff", digest_hex(diff_id));
	return faccessat(s->root_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void store_layer_path(struct store *s, const char *diff_id, char *out, size_t len)
{
	snprintf(out, len, "%s/layers/%s/diff", s->root, digest_hex(diff_id));
}

static int64_t layer_number(struct store *s, const char *diff_id, const char *file)
{
	char name[160];
	cleanup_buf struct buf b = BUF_INIT(64);
	struct sk_err ignored;

	if (!digest_is_valid(diff_id))
		return -1;
	snprintf(name, sizeof(name), "layers/%s/%s", digest_hex(diff_id), file);
	if (fs_read_file(s->root_fd, name, 64, &b, &ignored) < 0)
		return -1;
	return strtoll(b.data, NULL, 10);
}

int64_t store_layer_size(struct store *s, const char *diff_id)
{
	return layer_number(s, diff_id, "size");
}

int64_t store_layer_tar_size(struct store *s, const char *diff_id)
{
	int64_t n = layer_number(s, diff_id, "tar-size");

	/* a layer stored before tar-size existed recorded its tar's size as "size" */
	return n >= 0 ? n : layer_number(s, diff_id, "size");
}

int store_make_work_dir(struct store *s, const char *rel, struct sk_err *err)
{
	struct stat st;
	int fd;

	if (mkdirat(s->root_fd, rel, 0700) < 0)
		return errno == EEXIST ? STORE_WORK_DIR_RETRY
				       : err_set(err, errno, "cannot create '%s'", rel);
	/* Until it is locked, another process's sweep (store_remove_stale_dirs)
	 * takes it for a dead writer's: it may vanish before the open, or be
	 * removed (nlink 0) before the lock. Either way: another name. */
	fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? STORE_WORK_DIR_RETRY
				       : err_set(err, errno, "cannot open '%s'", rel);
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return err_set(err, errno, "cannot lock '%s'", rel);
	}
	if (fstat(fd, &st) == 0 && st.st_nlink > 0)
		return fd;
	close(fd);
	return STORE_WORK_DIR_RETRY;
}

int store_layer_tmp_new(struct store *s, struct layer_tmp *t, struct sk_err *err)
{
	char diff[128];

	t->dirfd = -1;
	t->lockfd = -1;
	for (int tries = 0; tries < 100 && t->lockfd < 0; tries++) {
		snprintf(t->name, sizeof(t->name), "layers/tmp-%d-%08lx", (int)getpid(),
			 (unsigned long)random());
		t->lockfd = store_make_work_dir(s, t->name, err);
		if (t->lockfd == -1)
			return -1;
	}
	if (t->lockfd < 0) {
		t->lockfd = -1;
		return err_set(err, EEXIST, "cannot create a layer directory in '%s/layers'", s->root);
	}
	snprintf(diff, sizeof(diff), "%s/diff", t->name);
	if (mkdirat(s->root_fd, diff, 0755) < 0)
		return err_set(err, errno, "cannot create '%s'", diff);
	t->dirfd = openat(s->root_fd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0)
		return err_set(err, errno, "cannot open '%s'", diff);
	return 0;
}

static void layer_tmp_close(struct layer_tmp *t)
{
	if (t->dirfd >= 0)
		close(t->dirfd);
	if (t->lockfd >= 0)
		close(t->lockfd);
	t->dirfd = t->lockfd = -1;
}

int store_layer_tmp_commit(struct store *s, struct layer_tmp *t, const char *diff_id,
			   uint64_t content_size, uint64_t tar_size, struct sk_err *err)
{
	char final[128], size_name[160], size_str[32];
	int lockfd, ret = 0;

	if (!digest_is_valid(diff_id))
		return err_set(err, 0, "invalid diff_id '%s'", diff_id);
	snprintf(size_name, sizeof(size_name), "%s/size", t->name);
	snprintf(size_str, sizeof(size_str), "%" PRIu64 "\n", content_size);
	if (fs_write_atomic(s->root_fd, size_name, size_str, strlen(size_str), 0600, err) < 0)
		return -1;
	snprintf(size_name, sizeof(size_name), "%s/tar-size", t->name);
	snprintf(size_str, sizeof(size_str), "%" PRIu64 "\n", tar_size);
	if (fs_write_atomic(s->root_fd, size_name, size_str, strlen(size_str), 0600, err) < 0)
		return -1;
	/* No syncfs of the extracted files here: the rename is atomic against a
	 * killed process (the page cache survives it), which is what the store
	 * promises; surviving power loss would cost a full fsync of every layer
	 * (see docs/STORE.md). */
	snprintf(final, sizeof(final), "layers/%s", digest_hex(diff_id));
	lockfd = store_lock(s, err);
	if (lockfd < 0)
		return -1;
	if (renameat(s->root_fd, t->name, s->root_fd, final) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			/* Another process committed the same layer first: ours is redundant. */
			log_debug("layer %s already committed by another process", diff_id);
			store_unlock(lockfd);
			store_layer_tmp_discard(s, t);
			return 0;
		}
		ret = err_set(err, errno, "cannot rename '%s' to '%s'", t->name, final);
	}
	store_unlock(lockfd);
	layer_tmp_close(t);
	return ret;
}

void store_layer_tmp_discard(struct store *s, struct layer_tmp *t)
{
	struct sk_err ignored;

	if (t->name[0])
		fs_remove_tree(s->root_fd, t->name, &ignored);
	layer_tmp_close(t);
	t->name[0] = '\0';
}

/* ---- fetch locks and partial files ---- */

int store_fetch_lock(struct store *s, const char *digest, struct sk_err *err)
{
	char name[128];

	if (!digest_is_valid(digest))
		return err_set(err, 0, "invalid digest '%s'", digest);
	snprintf(name, sizeof(name), "locks/%s", digest_hex(digest));
	return lock_file(s->root_fd, name, LOCK_EX, err);
}

void store_fetch_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int store_partial_open(struct store *s, const char *digest, int64_t *have, struct sk_err *err)
{
	char name[128];
	struct stat st;
	int fd;

	if (!digest_is_valid(digest))
		return err_set(err, 0, "invalid digest '%s'", digest);
	snprintf(name, sizeof(name), "partial/%s", digest_hex(digest));
	fd = openat(s->root_fd, name, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", name);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return err_set(err, e, "cannot stat '%s'", name);
	}
	*have = st.st_size;
	return fd;
}

void store_partial_remove(struct store *s, const char *digest)
{
	char name[128];

	if (!digest_is_valid(digest))
		return;
	snprintf(name, sizeof(name), "partial/%s", digest_hex(digest));
	unlinkat(s->root_fd, name, 0);
}

void store_keep_layer_blob(struct store *s, const char *digest)
{
	char from[128], to[128];

	if (!digest_is_valid(digest))
		return;
	snprintf(from, sizeof(from), "partial/%s", digest_hex(digest));
	blob_name(digest, to, sizeof(to));
	if (renameat(s->root_fd, from, s->root_fd, to) < 0)
		unlinkat(s->root_fd, from, 0);
}

void store_keep_layer_blob_file(struct store *s, const char *digest, int dirfd,
				const char *src_name)
{
	char to[128];

	if (!digest_is_valid(digest) || store_blob_exists(s, digest))
		return;
	blob_name(digest, to, sizeof(to));
	if (linkat(dirfd, src_name, s->root_fd, to, 0) < 0)
		log_debug("cannot keep layer blob %s: %s", digest, strerror(errno));
}

int store_layer_blob_open(struct store *s, const char *digest)
{
	char name[128];

	if (!digest_is_valid(digest))
		return -1;
	blob_name(digest, name, sizeof(name));
	return openat(s->root_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* ---- image records ---- */

static int refs_parse_line(char *line, struct store_image *img)
{
	char *ref = line, *man, *cfg;

	man = strchr(ref, ' ');
	if (!man)
		return -1;
	*man++ = '\0';
	cfg = strchr(man, ' ');
	if (!cfg)
		return -1;
	*cfg++ = '\0';
	if (!digest_is_valid(man) || !digest_is_valid(cfg))
		return -1;
	snprintf(img->ref, sizeof(img->ref), "%s", strcmp(ref, "-") ? ref : "");
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", man);
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", cfg);
	return 0;
}

int store_refs_list(struct store *s, struct store_image **out, size_t *n, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(REFS_MAX_BYTES);
	struct store_image *list = NULL;
	size_t count = 0, alloc = 0;
	char *line, *next;

	*out = NULL;
	*n = 0;
	if (fs_read_file(s->root_fd, "refs", REFS_MAX_BYTES, &b, err) < 0) {
		if (err->errnum == ENOENT) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	for (line = b.data; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (count == alloc) {
			struct store_image *p;
			if (alloc >= REFS_MAX_RECORDS) {
				free(list);
				return err_set(err, E2BIG, "too many image records in '%s/refs'", s->root);
			}
			alloc = alloc ? alloc * 2 : 16;
			p = realloc(list, alloc * sizeof(*list));
			if (!p) {
				free(list);
				return err_set(err, ENOMEM, "reading image records");
			}
			list = p;
		}
		if (refs_parse_line(line, &list[count]) < 0) {
			log_warn("ignoring a malformed line in '%s/refs'", s->root);
			continue;
		}
		count++;
	}
	*out = list;
	*n = count;
	return 0;
}

static int refs_write(struct store *s, const struct store_image *list, size_t n, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(REFS_MAX_BYTES);

	for (size_t i = 0; i < n; i++) {
		if (buf_appendf(&b, "%s %s %s\n", list[i].ref[0] ? list[i].ref : "-",
				list[i].manifest_digest, list[i].config_digest) < 0)
			return err_set(err, E2BIG, "too many image records");
	}
	return fs_write_atomic(s->root_fd, "refs", b.data ? b.data : "", b.len, 0600, err);
}

static bool config_referenced(const struct store_image *list, size_t n, const char *config)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].config_digest, config))
			return true;
	return false;
}

/* Under the lock: the updated list is computed from the current file. */
static int refs_update(struct store *s, const struct store_image *img, bool remove,
		       struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	size_t n = 0, found = SIZE_MAX;
	struct store_image *grown, old; /* function scope: `img` may point at it */
	int lockfd, ret;

	lockfd = store_lock(s, err);
	if (lockfd < 0)
		return -1;
	ret = store_refs_list(s, &list, &n, err);
	for (size_t i = 0; ret == 0 && i < n && found == SIZE_MAX; i++) {
		bool same = img->ref[0] ? !strcmp(list[i].ref, img->ref)
					: (!list[i].ref[0] &&
					   !strcmp(list[i].config_digest, img->config_digest));
		if (same)
			found = i;
	}
	if (ret < 0)
		goto out;
	if (remove) {
		ret = found == SIZE_MAX ? 0 : 1;
		if (found != SIZE_MAX) {
			memmove(&list[found], &list[found + 1], (n - found - 1) * sizeof(*list));
			n--;
		}
	} else if (found != SIZE_MAX) {
		old = list[found];
		list[found] = *img;
		/* A tag moved away from an image: keep that image, untagged, as docker does. */
		if (img->ref[0] && strcmp(old.config_digest, img->config_digest) &&
		    !config_referenced(list, n, old.config_digest)) {
			old.ref[0] = '\0';
			img = &old;
			goto append;
		}
	} else {
	append:
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown) {
			ret = err_set(err, ENOMEM, "updating image records");
			goto out;
		}
		list = grown;
		list[n++] = *img;
		/* An untagged record for an image that just got a tag is redundant. */
		for (size_t i = 0; img->ref[0] && i + 1 < n; i++) {
			if (!list[i].ref[0] && !strcmp(list[i].config_digest, img->config_digest)) {
				memmove(&list[i], &list[i + 1], (n - i - 1) * sizeof(*list));
				n--;
				break;
			}
		}
	}
	if (refs_write(s, list, n, err) < 0)
		ret = -1;
out:
	store_unlock(lockfd);
	return ret;
}

int store_ref_set(struct store *s, const struct store_image *img, struct sk_err *err)
{
	if (!digest_is_valid(img->manifest_digest) || !digest_is_valid(img->config_digest))
		return err_set(err, 0, "invalid image record for '%s'", img->ref);
	if (strchr(img->ref, ' ') || strchr(img->ref, '\n'))
		return err_set(err, 0, "invalid reference '%s'", img->ref);
	return refs_update(s, img, false, err) < 0 ? -1 : 0;
}

int store_ref_remove(struct store *s, const char *ref, struct sk_err *err)
{
	struct store_image img = { 0 };

	snprintf(img.ref, sizeof(img.ref), "%s", ref);
	return refs_update(s, &img, true, err);
}

int store_record_remove(struct store *s, const struct store_image *img, struct sk_err *err)
{
	return refs_update(s, img, true, err);
}

static bool is_hex_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 64)
		return false;
	return strspn(s, "0123456789abcdef") == n;
}

static int lookup_by_id(const struct store_image *list, size_t n, const char *name,
			struct store_image *out, struct sk_err *err)
{
	const char *hex = !strncmp(name, "sha256:", 7) ? name + 7 : name;
	size_t len = strlen(hex), hits = 0;

	if (!is_hex_prefix(hex))
		return 0;
	for (size_t i = 0; i < n; i++) {
		bool id_hit = !strncmp(digest_hex(list[i].config_digest), hex, len);
		bool digest_hit = len == 64 && !strcmp(digest_hex(list[i].manifest_digest), hex);
		if (!id_hit && !digest_hit)
			continue;
		if (hits && strcmp(out->config_digest, list[i].config_digest))
			return err_set(err, 0, "image id prefix '%s' is ambiguous", name);
		if (!hits)
			*out = list[i];
		hits++;
	}
	return hits ? 1 : 0;
}

static int lookup_by_ref(const struct store_image *list, size_t n, const char *name,
			 struct store_image *out)
{
	struct image_ref ref;
	struct sk_err ignored;
	char canonical[REF_STR_MAX], repo[REF_STR_MAX];

	if (ref_parse(name, &ref, &ignored) < 0)
		return 0;
	ref_canonical(&ref, canonical, sizeof(canonical));
	ref_name(&ref, repo, sizeof(repo));
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(list[i].ref, canonical)) {
			*out = list[i];
			return 1;
		}
	}
	/* name@digest also finds the image pulled by tag under the same name. */
	for (size_t i = 0; ref.digest[0] && i < n; i++) {
		size_t rl = strlen(repo);
		if (!strcmp(list[i].manifest_digest, ref.digest) && !strncmp(list[i].ref, repo, rl) &&
		    (list[i].ref[rl] == ':' || list[i].ref[rl] == '@')) {
			*out = list[i];
			return 1;
		}
	}
	return 0;
}

int store_image_lookup(struct store *s, const char *name, struct store_image *out,
		       struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	size_t n = 0;
	int r;

	if (store_refs_list(s, &list, &n, err) < 0)
		return -1;
	r = lookup_by_ref(list, n, name, out);
	if (r == 0)
		r = lookup_by_id(list, n, name, out, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(err, ENOENT, "no such image: %s", name);
	return 0;
}

int store_image_config(struct store *s, const struct store_image *img, struct image_config *cfg,
		       struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(IMAGE_CONFIG_MAX_BYTES);

	if (store_blob_get(s, img->config_digest, IMAGE_CONFIG_MAX_BYTES, &b, err) < 0)
		return -1;
	if (image_config_parse(b.data, b.len, cfg, err) < 0)
		return err_wrap(err, "image config %s", img->config_digest);
	return 0;
}

int64_t store_image_size(struct store *s, const struct image_config *cfg)
{
	int64_t total = 0;

	for (size_t i = 0; i < cfg->n_diff_ids; i++) {
		int64_t sz = store_layer_size(s, cfg->diff_ids[i]);
		if (sz > 0)
			total += sz;
	}
	return total;
}

/* ---- holding off GC, stale leftovers, GC ---- */

int store_hold(struct store *s, struct sk_err *err)
{
	return lock_file(s->root_fd, "gc.lock", LOCK_SH, err);
}

void store_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A work dir whose lock we can take has no living writer: its fd, locked,
 * or -1. The lock is held until the dir is gone, so that a writer that
 * made it a moment ago and is waiting for the lock finds it unlinked (and
 * takes another name, store_make_work_dir) rather than emptied under it. */
static int lock_if_stale(int parent_fd, const char *name)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void store_remove_stale_dirs(struct store *s, const char *dir, const char *prefix)
{
	cleanup_close int dfd = openat(s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t plen = strlen(prefix);
	struct sk_err ignored;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return;
	d = fdopendir(dup(dfd));
	if (!d)
		return;
	while ((de = readdir(d))) {
		int lock;

		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    (lock = lock_if_stale(dfd, de->d_name)) < 0)
			continue;
		log_debug("removing stale '%s/%s'", dir, de->d_name);
		fs_remove_tree(dfd, de->d_name, &ignored);
		close(lock);
	}
	closedir(d);
}

void store_cleanup_stale(struct store *s)
{
	store_remove_stale_dirs(s, "layers", "tmp-");
}

/* The set of digests still in use, as a sorted array for bsearch. */
struct digest_set {
	char (*items)[DIGEST_STR_MAX];
	size_t n, alloc;
};

static int digest_set_add(struct digest_set *set, const char *digest)
{
	if (set->n == set->alloc) {
		size_t alloc = set->alloc ? set->alloc * 2 : 64;
		void *p = realloc(set->items, alloc * sizeof(*set->items));
		if (!p)
			return -1;
		set->items = p;
		set->alloc = alloc;
	}
	snprintf(set->items[set->n++], DIGEST_STR_MAX, "%s", digest);
	return 0;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool digest_set_has(const struct digest_set *set, const char *digest)
{
	return set->n && bsearch(digest, set->items, set->n, DIGEST_STR_MAX, cmp_digest);
}

static int mark_image(struct store *s, const char *config_digest, struct digest_set *used)
{
	struct store_image img = { 0 };
	struct image_config cfg = { 0 };
	struct sk_err ignored;

	snprintf(img.config_digest, sizeof(img.config_digest), "%s", config_digest);
	if (digest_set_add(used, config_digest) < 0)
		return -1;
	if (store_image_config(s, &img, &cfg, &ignored) < 0)
		return 0; /* unreadable config: nothing more to keep */
	for (size_t i = 0; i < cfg.n_diff_ids; i++)
		if (digest_set_add(used, cfg.diff_ids[i]) < 0)
			return -1;
	image_config_release(&cfg);
	return 0;
}

int store_for_each_container_image(struct store *s, store_container_fn fn, void *ctx)
{
	cleanup_close int cfd = openat(s->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (cfd < 0 || !(d = fdopendir(dup(cfd))))
		return 0;
	while (ret == 0 && (de = readdir(d))) {
		char name[512];
		cleanup_buf struct buf b = BUF_INIT(128);
		struct sk_err ignored;

		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/image", de->d_name);
		if (fs_read_file(cfd, name, 128, &b, &ignored) < 0)
			continue;
		b.data[strcspn(b.data, "\n")] = '\0';
		if (digest_is_valid(b.data))
			ret = fn(de->d_name, b.data, ctx);
	}
	closedir(d);
	return ret;
}

struct mark_ctx {
	struct store *s;
	struct digest_set *used;
};

static int mark_container_image(const char *id, const char *config_digest, void *ctx)
{
	struct mark_ctx *m = ctx;

	return mark_image(m->s, config_digest, m->used);
}

/* The layer blobs a recorded manifest names (kept by pull and load). */
static int mark_layer_blobs(struct store *s, const char *manifest_digest, struct digest_set *used)
{
	cleanup_buf struct buf raw = BUF_INIT(MANIFEST_BLOB_MAX);
	struct manifest man = { 0 };
	struct sk_err ignored;
	int ret = 0;

	if (store_blob_get(s, manifest_digest, MANIFEST_BLOB_MAX, &raw, &ignored) < 0 ||
	    manifest_parse(raw.data, raw.len, NULL, &man, &ignored) < 0)
		return 0;
	for (size_t i = 0; ret == 0 && i < man.n_layers; i++)
		ret = digest_set_add(used, man.layers[i].digest);
	manifest_release(&man);
	return ret;
}

static int collect_used(struct store *s, struct digest_set *used, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	size_t n = 0;

	if (store_refs_list(s, &list, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (digest_set_add(used, list[i].manifest_digest) < 0 ||
		    mark_layer_blobs(s, list[i].manifest_digest, used) < 0 ||
		    mark_image(s, list[i].config_digest, used) < 0)
			return err_set(err, ENOMEM, "collecting used digests");
	}
	if (store_for_each_container_image(s, mark_container_image,
					   &(struct mark_ctx){ .s = s, .used = used }) < 0)
		return err_set(err, ENOMEM, "collecting used digests");
	if (used->n)
		qsort(used->items, used->n, DIGEST_STR_MAX, cmp_digest);
	return 0;
}

/* Remove the entries of dir whose digest (prefix + name) is unused. Layers are
 * first renamed to tmp-gc-*, so an interrupted removal is just a stale tmp dir. */
static int gc_dir(struct store *s, const char *dir, const struct digest_set *used,
		  uint64_t *freed, struct sk_err *err)
{
	cleanup_close int dfd = openat(s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool layers = !strcmp(dir, "layers");
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return 0;
	d = fdopendir(dup(dfd));
	if (!d)
		return err_set(err, errno, "cannot read '%s'", dir);
	while ((de = readdir(d))) {
		char digest[DIGEST_STR_MAX + 8], doomed[96];
		struct stat st;

		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
		if (!digest_is_valid(digest) || digest_set_has(used, digest))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!layers) {
			if (unlinkat(dfd, de->d_name, 0) == 0)
				*freed += (uint64_t)st.st_blocks * 512;
			continue;
		}
		snprintf(doomed, sizeof(doomed), "tmp-gc-%d-%08lx", (int)getpid(), (unsigned long)random());
		*freed += (uint64_t)fs_disk_usage(dfd, de->d_name);
		if (renameat(dfd, de->d_name, dfd, doomed) == 0 && fs_remove_tree(dfd, doomed, err) < 0) {
			closedir(d);
			return -1;
		}
		log_debug("removed layer %s", digest);
	}
	closedir(d);
	return 0;
}

/* Partial downloads nobody is fetching and whose image is gone. */
static void gc_partials(struct store *s, const struct digest_set *used, uint64_t *freed)
{
	cleanup_close int dfd = openat(s->root_fd, "partial", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dup(dfd))))
		return;
	while ((de = readdir(d))) {
		char digest[DIGEST_STR_MAX + 8], lock[96];
		struct stat st;
		int lfd;

		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
		if (!digest_is_valid(digest) || digest_set_has(used, digest))
			continue;
		snprintf(lock, sizeof(lock), "locks/%s", de->d_name);
		lfd = lock_file(s->root_fd, lock, LOCK_EX | LOCK_NB, NULL);
		if (lfd < 0)
			continue; /* being fetched right now */
		if (fstatat(dfd, de->d_name, &st, 0) == 0 && unlinkat(dfd, de->d_name, 0) == 0)
			*freed += (uint64_t)st.st_blocks * 512;
		unlinkat(s->root_fd, lock, 0);
		close(lfd);
	}
	closedir(d);
}

int store_gc(struct store *s, uint64_t *freed, struct sk_err *err)
{
	struct digest_set used = { 0 };
	uint64_t total = 0;
	int gc_fd, lockfd, ret = -1;

	gc_fd = lock_file(s->root_fd, "gc.lock", LOCK_EX, err);
	if (gc_fd < 0)
		return -1;
	lockfd = store_lock(s, err);
	if (lockfd < 0)
		goto out_gc;
	if (collect_used(s, &used, err) < 0)
		goto out;
	if (gc_dir(s, "layers", &used, &total, err) < 0 ||
	    gc_dir(s, "blobs/sha256", &used, &total, err) < 0)
		goto out;
	gc_partials(s, &used, &total);
	store_cleanup_stale(s);
	ret = 0;
out:
	store_unlock(lockfd);
out_gc:
	close(gc_fd);
	free(used.items);
	if (freed)
		*freed = total;
	return ret;
}

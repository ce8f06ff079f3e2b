/*
 * Layer extraction: the hostile-input boundary (see unpack.h, docs/EXTRACTION.md).
 *
 * One pass: read(src_fd) -> decompress -> sha256 (diff_id) -> libarchive's tar
 * reader (format only, no filters: we decompress ourselves) -> entries written
 * by our own writer, never archive_write_disk.
 *
 * Every entry is written as "parent directory fd + one plain name": the parent
 * is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) on the layer
 * root, the name is a single cleaned component (never "", "." or ".."), and
 * the *at() call on it never follows a symlink in that last component. So no
 * name, "..", absolute path or symlink in the layer can reach outside it.
 */
#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/decompress.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define UNPACK_NAME_MAX 4096
#define UNPACK_MAX_ENTRIES 10000000ULL
/* Deferred directory times: ~40 bytes + path per directory. 64 MiB is far
 * beyond any real layer and still bounds what a hostile one can make us hold. */
#define UNPACK_DIR_TIMES_MAX (64u << 20)
#define UNPACK_CHUNK (1024 * 1024)

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
/* Rootless stores: overlay mounted with "userxattr" reads this one. */
#define OVERLAY_OPAQUE_USER_XATTR "user.overlay.opaque"

/* The decompressed byte stream, hashed as libarchive pulls it. */
struct layer_reader {
	struct decomp dec;
	struct sha256 hash;
	uint8_t *buf;
	uint64_t total;
	bool failed;
	struct sk_err err;
};

/* The last parent directory opened: tar order groups entries by directory. */
struct parent_cache {
	char path[UNPACK_NAME_MAX + 1];
	int fd;
	bool valid;
	bool setgid; /* new children inherit its group (and dirs its setgid bit) */
};

struct extract {
	int root;
	struct archive *ar;
	struct layer_reader *reader;
	struct parent_cache parent;
	struct buf dir_times;
	mode_t umask;
	bool umask_known;
	uid_t euid;
	gid_t egid;
	bool warned_xattr;
	bool warned_owner;
	bool warned_device;
	uint64_t content_bytes; /* unpack_result.content_bytes */
};

/* One tar entry in the form the writer needs. */
struct entry {
	struct archive_entry *ae;
	const char *raw;		/* the name as the tar has it */
	char path[UNPACK_NAME_MAX + 1]; /* cleaned, relative; "" is the root */
	char dir[UNPACK_NAME_MAX + 1];	/* path minus its last component */
	const char *base;		/* last component, points into path */
	char shown[256];		/* raw, printable and short, for messages */
	mode_t type;
	mode_t perm;
	uid_t uid;
	gid_t gid;
	struct timespec times[2]; /* atime, mtime */
};

struct dir_time {
	struct timespec times[2];
	uint16_t len; /* followed by len bytes of path, no NUL */
};

/* ---- names ---- */

/* Clean a tar name lexically: drop "", "." and leading "/", apply ".." without
 * ever going above the root (it stays confined, as docker does). *climbed
 * tells whether some ".." tried. out has room for strlen(in) + 1 bytes. */
static void path_clean(const char *in, char *out, bool *climbed)
{
	size_t len = 0;

	*climbed = false;
	while (*in) {
		const char *end = strchrnul(in, '/');
		size_t n = (size_t)(end - in);

		if (n == 2 && in[0] == '.' && in[1] == '.') {
			if (len == 0)
				*climbed = true;
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else if (n > 0 && !(n == 1 && in[0] == '.')) {
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, in, n);
			len += n;
		}
		in = *end ? end + 1 : end;
	}
	out[len] = '\0';
}

/* Split path into its directory (into dir) and last component (returned). */
static const char *path_split(const char *path, char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	memcpy(dir, path, n);
	dir[n] = '\0';
	return slash ? slash + 1 : path;
}

/* Names from a hostile tar end up in messages: no control bytes, bounded. */
static void printable_name(const char *raw, char *out, size_t cap)
{
	size_t i;

	for (i = 0; raw[i] && i + 4 < cap; i++)
		out[i] = (unsigned char)raw[i] < 0x20 || raw[i] == 0x7f ? '?' : raw[i];
	if (raw[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- the input stream ---- */

static la_ssize_t reader_read(struct archive *a, void *client, const void **out)
{
	struct layer_reader *r = client;
	ssize_t n = decomp_read(&r->dec, r->buf, UNPACK_CHUNK, &r->err);

	if (n < 0) {
		r->failed = true;
		archive_set_error(a, EIO, "%s", r->err.msg);
		return -1;
	}
	sha256_update(&r->hash, r->buf, (size_t)n);
	r->total += (uint64_t)n;
	*out = r->buf;
	return n;
}

/* Read what follows the tar's end-of-archive so the diff_id covers it all. */
static int reader_drain(struct layer_reader *r, struct sk_err *err)
{
	for (;;) {
		ssize_t n = decomp_read(&r->dec, r->buf, UNPACK_CHUNK, err);

		if (n <= 0)
			return (int)n;
		sha256_update(&r->hash, r->buf, (size_t)n);
		r->total += (uint64_t)n;
	}
}

/* A libarchive failure: our own reader's error if that was the cause. */
static int archive_failure(struct extract *x, struct sk_err *err)
{
	const char *msg = archive_error_string(x->ar);

	if (x->reader->failed) {
		*err = x->reader->err;
		return -1;
	}
	return err_set(err, 0, "invalid tar stream: %s", msg ? msg : "unknown error");
}

/* ---- metadata ---- */

/* The process umask without changing it (umask() would race other threads). */
static bool read_umask(mode_t *out)
{
	cleanup_buf struct buf b = BUF_INIT(1 << 16);
	struct sk_err ignored;
	const char *p;

	if (fs_read_file(AT_FDCWD, "/proc/self/status", 1 << 16, &b, &ignored) < 0)
		return false;
	p = strstr(b.data, "\nUmask:");
	if (!p)
		return false;
	*out = (mode_t)strtoul(p + 7, NULL, 8) & 0777;
	return true;
}

/* Did creating the inode already give it the owner the entry wants? */
static bool owner_is_default(const struct extract *x, const struct entry *e)
{
	return e->uid == x->euid && e->gid == x->egid && !x->parent.setgid;
}

/* Did creating it with perm & 0777 already give it the mode the entry wants? */
static bool mode_is_default(const struct extract *x, const struct entry *e)
{
	return x->umask_known && !x->parent.setgid && (e->perm & ~(mode_t)0777) == 0 &&
	       (e->perm & x->umask) == 0;
}

/* EINVAL from chown: the id has no mapping in our user namespace (rootless
 * without /etc/subuid ranges; real root maps every id). The file stays owned
 * by root of the namespace, as podman's ignore_chown_errors; one warning. */
static int owner_failed(struct extract *x, uid_t uid, gid_t gid, struct sk_err *err)
{
	if (errno != EINVAL)
		return err_set(err, errno, "cannot set owner %u:%u", (unsigned)uid, (unsigned)gid);
	if (!x->warned_owner)
		log_warn("owner %u:%u has no mapping in this user namespace (rootless without "
			 "/etc/subuid ranges): such files are stored as owned by root",
			 (unsigned)uid, (unsigned)gid);
	x->warned_owner = true;
	return 0;
}

/* Owner first, mode after: chown clears setuid/setgid. */
static int set_owner_mode(struct extract *x, int fd, const struct entry *e, bool created,
			  struct sk_err *err)
{
	if ((!created || !owner_is_default(x, e)) && fchown(fd, e->uid, e->gid) < 0 &&
	    owner_failed(x, e->uid, e->gid, err) < 0)
		return -1;
	if ((!created || !mode_is_default(x, e)) && fchmod(fd, e->perm) < 0)
		return err_set(err, errno, "cannot set mode %04o", (unsigned)e->perm);
	return 0;
}

/* Same for inodes we cannot open (symlinks, devices, fifos): by name on the
 * parent fd. The name was created by us a moment ago and nothing else writes
 * into the layer, so fchmodat (which follows symlinks) sees that inode. */
static int set_owner_mode_at(struct extract *x, int pfd, const struct entry *e, bool chmod_ok,
			     struct sk_err *err)
{
	if (!owner_is_default(x, e) &&
	    fchownat(pfd, e->base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
	    owner_failed(x, e->uid, e->gid, err) < 0)
		return -1;
	if (chmod_ok && !mode_is_default(x, e) && fchmodat(pfd, e->base, e->perm, 0) < 0)
		return err_set(err, errno, "cannot set mode %04o", (unsigned)e->perm);
	return 0;
}

enum xattr_policy { XATTR_APPLY, XATTR_SKIP, XATTR_REFUSE };

/* trusted.overlay.* (and user.overlay.*) would let a layer forge overlayfs
 * state (opaque, redirect, metacopy): only our whiteout translation may set it. Other namespaces
 * (security.selinux, system.*) describe the build host, not the image. */
static enum xattr_policy xattr_policy(const char *name)
{
	/* user.overlay.* is the same state for an overlay mounted with
	 * "userxattr" (rootless). */
	if (starts_with(name, "trusted.overlay.") || starts_with(name, "user.overlay."))
		return XATTR_REFUSE;
	if (!strcmp(name, "security.capability") || starts_with(name, "user.") ||
	    starts_with(name, "trusted."))
		return XATTR_APPLY;
	return XATTR_SKIP;
}

static int check_xattrs(struct entry *e, struct sk_err *err)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e->ae);
	while (archive_entry_xattr_next(e->ae, &name, &value, &size) == ARCHIVE_OK)
		if (xattr_policy(name) == XATTR_REFUSE)
			return err_set(err, 0, "extended attribute '%s' is not allowed in a layer",
				       name);
	return 0;
}

/* After chown (which drops security.capability) and after the data. */
static int apply_xattrs(struct extract *x, int fd, struct entry *e, struct sk_err *err)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e->ae);
	while (archive_entry_xattr_next(e->ae, &name, &value, &size) == ARCHIVE_OK) {
		if (xattr_policy(name) != XATTR_APPLY || fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		/* EPERM: trusted.* in a rootless store (root of a user namespace
		 * may not set it). */
		if (errno != EOPNOTSUPP && !(errno == EPERM && starts_with(name, "trusted.")))
			return err_set(err, errno, "cannot set extended attribute '%s'", name);
		if (!x->warned_xattr)
			log_warn("the layer store cannot hold extended attribute '%s' (%s); "
				 "dropping such attributes",
				 name, errno == EPERM ? "rootless" : "not supported");
		x->warned_xattr = true;
	}
	return 0;
}

/* Directory times are set at the very end: creating children changes them. */
static int dir_times_record(struct extract *x, const struct entry *e, struct sk_err *err)
{
	struct dir_time rec = {.times = {e->times[0], e->times[1]}};
	size_t len = strlen(e->path);
	int r;

	rec.len = (uint16_t)len;
	r = buf_append(&x->dir_times, &rec, sizeof(rec));
	if (r == 0)
		r = buf_append(&x->dir_times, e->path, len);
	if (r < 0)
		return err_set(err, -r, "too many directories in the layer");
	return 0;
}

static int dir_times_apply(struct extract *x, struct sk_err *err)
{
	size_t off = 0;

	while (off + sizeof(struct dir_time) <= x->dir_times.len) {
		struct dir_time rec;
		char path[UNPACK_NAME_MAX + 1];
		int fd;

		memcpy(&rec, x->dir_times.data + off, sizeof(rec));
		off += sizeof(rec);
		memcpy(path, x->dir_times.data + off, rec.len);
		path[rec.len] = '\0';
		off += rec.len;
		fd = fs_open_in_root(x->root, rec.len ? path : ".",
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
		/* A later entry replaced the directory: its times are gone too. */
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
			continue;
		if (fd < 0)
			return err_set(err, -fd, "cannot open directory '%s'", path);
		if (futimens(fd, rec.times) < 0) {
			int e = errno;
			close(fd);
			return err_set(err, e, "cannot set times of directory '%s'", path);
		}
		close(fd);
	}
	return 0;
}

/* ---- parent directories ---- */

/* The next directory below fd on the way to prefix (whose last component is
 * comp), created (0755, as docker does) if missing. A plain directory is
 * opened directly; a symlink is resolved in the root, never outside. */
static int walk_step(struct extract *x, int fd, const char *prefix, const char *comp)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int next = openat(fd, comp, flags);

	if (next < 0 && errno == ENOENT) {
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
			return -errno;
		next = openat(fd, comp, flags);
	}
	if (next >= 0)
		return next;
	if (errno != ELOOP && errno != ENOTDIR)
		return -errno;
	/* ELOOP: a symlink. A dangling one stays an error (as Go's MkdirAll). */
	return fs_open_in_root(x->root, prefix, O_RDONLY | O_DIRECTORY, 0);
}

/* Open dir, creating what is missing one component at a time (linear in the
 * depth, which matters for hostile 2000-level names). */
static int mkdir_parents(struct extract *x, const char *dir, struct sk_err *err)
{
	char prefix[UNPACK_NAME_MAX + 1];
	size_t len = strlen(dir), start = 0;
	cleanup_close int fd = fs_open_in_root(x->root, ".", O_RDONLY | O_DIRECTORY, 0);

	if (fd < 0)
		return err_set(err, -fd, "cannot open the layer root");
	memcpy(prefix, dir, len + 1);
	for (size_t i = 0; i <= len; i++) {
		int next;

		if (prefix[i] != '/' && prefix[i] != '\0')
			continue;
		prefix[i] = '\0';
		next = walk_step(x, fd, prefix, prefix + start);
		if (next < 0)
			return err_set(err, -next, "cannot open directory '%s'", prefix);
		close(fd);
		fd = next;
		if (i < len)
			prefix[i] = '/';
		start = i + 1;
	}
	return steal_fd(&fd);
}

/* The fd of dir (borrowed: owned by the cache), created if missing. */
static int parent_open(struct extract *x, const char *dir, struct sk_err *err)
{
	struct parent_cache *c = &x->parent;
	struct stat st;
	int fd;

	if (c->valid && !strcmp(c->path, dir))
		return c->fd;
	fd = fs_open_in_root(x->root, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT)
		fd = mkdir_parents(x, dir, err);
	else if (fd < 0)
		return err_set(err, -fd, "cannot open directory '%s'", dir);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return err_set(err, e, "cannot inspect directory '%s'", dir);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	c->valid = true;
	c->setgid = (st.st_mode & S_ISGID) != 0;
	memcpy(c->path, dir, strlen(dir) + 1);
	return fd;
}

/* A later entry replaces an earlier one at the same name, except that a
 * directory over a directory only updates it. Returns 1 when an existing
 * directory is kept, 0 when the name is free. */
static int make_room(struct extract *x, int pfd, const char *name, bool keep_dir,
		     struct sk_err *err)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0
				       : err_set(err, errno, "cannot inspect the existing file");
	if (S_ISDIR(st.st_mode) && keep_dir)
		return 1;
	/* Paths through what we remove may now resolve elsewhere. The fd stays
	 * open (the caller is using it) until the next parent_open(). */
	x->parent.valid = false;
	if (S_ISDIR(st.st_mode))
		return fs_remove_tree(pfd, name, err);
	if (unlinkat(pfd, name, 0) < 0)
		return err_set(err, errno, "cannot replace the existing file");
	return 0;
}

/* ---- entry writers ---- */

static int write_data(struct extract *x, int fd, const struct entry *e, struct sk_err *err)
{
	int64_t end = 0;

	for (;;) {
		const void *block;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(x->ar, &block, &size, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return archive_failure(x, err);
		for (size_t done = 0; done < size;) {
			ssize_t n =
			    pwrite(fd, (const char *)block + done, size - done, off + (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return err_set(err, errno, "cannot write data");
			done += (size_t)n;
		}
		end = off + (int64_t)size;
	}
	/* A sparse file may end in a hole. */
	if (end < archive_entry_size(e->ae) && ftruncate(fd, archive_entry_size(e->ae)) < 0)
		return err_set(err, errno, "cannot write data");
	return 0;
}

static int extract_regular(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	cleanup_close int fd = openat(pfd, e->base, flags, e->perm & 0777);

	if (fd < 0 && errno == EEXIST) {
		if (make_room(x, pfd, e->base, false, err) < 0)
			return -1;
		fd = openat(pfd, e->base, flags, e->perm & 0777);
	}
	if (fd < 0)
		return err_set(err, errno, "cannot create file");
	if (write_data(x, fd, e, err) < 0 || set_owner_mode(x, fd, e, true, err) < 0 ||
	    apply_xattrs(x, fd, e, err) < 0)
		return -1;
	if (futimens(fd, e->times) < 0)
		return err_set(err, errno, "cannot set times");
	return 0;
}

/* Owner, mode and xattrs of a directory, new or kept; times come at the end. */
static int finish_dir(struct extract *x, int dfd, struct entry *e, bool created, struct sk_err *err)
{
	if (set_owner_mode(x, dfd, e, created, err) < 0 || apply_xattrs(x, dfd, e, err) < 0)
		return -1;
	return dir_times_record(x, e, err);
}

static int extract_dir(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	cleanup_close int dfd = -1;
	bool created = true;

	if (mkdirat(pfd, e->base, e->perm & 0777) < 0) {
		int kept;

		if (errno != EEXIST)
			return err_set(err, errno, "cannot create directory");
		kept = make_room(x, pfd, e->base, true, err);
		if (kept < 0)
			return -1;
		created = kept == 0;
		if (created && mkdirat(pfd, e->base, e->perm & 0777) < 0)
			return err_set(err, errno, "cannot create directory");
	}
	/* Most directories are root-owned 0755 without xattrs: no fd needed. */
	if (created && owner_is_default(x, e) && mode_is_default(x, e) &&
	    archive_entry_xattr_count(e->ae) == 0)
		return dir_times_record(x, e, err);
	dfd = openat(pfd, e->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return err_set(err, errno, "cannot open directory");
	return finish_dir(x, dfd, e, created, err);
}

/* "./" or "/" in the tar: the layer root itself. */
static int extract_root(struct extract *x, struct entry *e, struct sk_err *err)
{
	cleanup_close int dfd = -1;

	if (e->type != AE_IFDIR || archive_entry_hardlink(e->ae))
		return err_set(err, 0, "cannot replace the layer root with a non-directory");
	dfd = fs_open_in_root(x->root, ".", O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return err_set(err, -dfd, "cannot open the layer root");
	return finish_dir(x, dfd, e, false, err);
}

static int extract_symlink(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	const char *target = archive_entry_symlink(e->ae);

	if (!target || !target[0] || strlen(target) >= UNPACK_NAME_MAX)
		return err_set(err, 0, "invalid symbolic link target");
	if (symlinkat(target, pfd, e->base) < 0) {
		if (errno != EEXIST)
			return err_set(err, errno, "cannot create symlink");
		if (make_room(x, pfd, e->base, false, err) < 0)
			return -1;
		if (symlinkat(target, pfd, e->base) < 0)
			return err_set(err, errno, "cannot create symlink");
	}
	/* Symlinks have no mode and cannot carry user.* xattrs: skip both. */
	if (set_owner_mode_at(x, pfd, e, false, err) < 0)
		return -1;
	if (utimensat(pfd, e->base, e->times, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, errno, "cannot set times");
	return 0;
}

static int make_node(struct extract *x, int pfd, const char *name, mode_t mode, dev_t dev,
		     struct sk_err *err)
{
	if (mknodat(pfd, name, mode, dev) == 0)
		return 0;
	if (errno != EEXIST)
		return err_set(err, errno, "cannot create device node");
	if (make_room(x, pfd, name, false, err) < 0)
		return -1;
	if (mknodat(pfd, name, mode, dev) < 0)
		return err_set(err, errno, "cannot create device node");
	return 0;
}

/* Devices and fifos. Their xattrs are dropped: setting one needs an open fd,
 * and opening a device or fifo has side effects. */
static int extract_node(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	dev_t dev = 0;

	if (e->type != AE_IFIFO)
		dev = makedev(archive_entry_rdevmajor(e->ae), archive_entry_rdevminor(e->ae));
	if (make_node(x, pfd, e->base, e->type | (e->perm & 0777), dev, err) < 0) {
		/* Root of a user namespace (rootless) may not make devices: skip
		 * them with one warning, as rootless podman does (Debian's images
		 * carry /dev/console); a container gets its /dev anyway. */
		if (err->errnum != EPERM || e->type == AE_IFIFO)
			return -1;
		if (!x->warned_device)
			log_warn("device nodes cannot be created here (rootless): '%s' and any "
				 "others of the image are left out",
				 e->base);
		x->warned_device = true;
		err_clear(err);
		return 0;
	}
	if (set_owner_mode_at(x, pfd, e, true, err) < 0)
		return -1;
	if (utimensat(pfd, e->base, e->times, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, errno, "cannot set times");
	return 0;
}

/* A hard link must name something this layer already holds: its target is
 * cleaned like an entry name, but a ".." above the root is refused (it would
 * otherwise quietly link something else), and resolved in the root. */
static int extract_hardlink(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	const char *raw = archive_entry_hardlink(e->ae);
	char target[UNPACK_NAME_MAX + 1], tdir[UNPACK_NAME_MAX + 1], shown[256];
	const char *tbase;
	cleanup_close int tfd = -1;
	struct stat st;
	bool climbed;

	printable_name(raw, shown, sizeof(shown));
	if (strlen(raw) > UNPACK_NAME_MAX)
		return err_set(err, ENAMETOOLONG, "hard link target '%s'", shown);
	path_clean(raw, target, &climbed);
	if (climbed)
		return err_set(err, 0, "hard link '%s' -> '%s' escapes the layer", e->shown, shown);
	if (!target[0])
		return err_set(err, 0, "hard link '%s' -> '%s' points to a directory", e->shown,
			       shown);
	tbase = path_split(target, tdir);
	tfd = fs_open_in_root(x->root, tdir[0] ? tdir : ".", O_PATH | O_DIRECTORY, 0);
	if (tfd < 0 || fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, tfd < 0 ? -tfd : errno,
			       "hard link target '%s' is not in the layer", shown);
	if (S_ISDIR(st.st_mode))
		return err_set(err, 0, "hard link '%s' -> '%s' points to a directory", e->shown,
			       shown);
	if (linkat(tfd, tbase, pfd, e->base, 0) == 0)
		return 0;
	if (errno != EEXIST)
		return err_set(err, errno, "cannot create hard link to '%s'", shown);
	if (make_room(x, pfd, e->base, false, err) < 0)
		return -1;
	if (linkat(tfd, tbase, pfd, e->base, 0) < 0)
		return err_set(err, errno, "cannot create hard link to '%s'", shown);
	return 0;
}

/* ---- whiteouts ---- */

enum whiteout { WH_NONE, WH_FILE, WH_DIR_OPAQUE };

static int whiteout_kind(const char *base, enum whiteout *kind, struct sk_err *err)
{
	const char *name = base + strlen(WH_PREFIX);

	*kind = WH_NONE;
	if (!starts_with(base, WH_PREFIX))
		return 0;
	if (!strcmp(base, WH_OPAQUE)) {
		*kind = WH_DIR_OPAQUE;
		return 0;
	}
	if (starts_with(base, WH_META_PREFIX))
		return err_set(err, 0, "unsupported whiteout meta entry '%s'", base);
	if (!name[0] || !strcmp(name, ".") || !strcmp(name, ".."))
		return err_set(err, 0, "invalid whiteout '%s'", base);
	*kind = WH_FILE;
	return 0;
}

/* A whiteout inside a directory path ("a/.wh.b/c") has no overlay meaning. */
static int check_dir_components(const struct entry *e, struct sk_err *err)
{
	const char *p = e->dir;

	while (*p) {
		if (starts_with(p, WH_PREFIX))
			return err_set(err, 0, "whiteout used as a directory");
		p = strchrnul(p, '/');
		if (*p)
			p++;
	}
	return 0;
}

/* overlayfs's format: a 0:0 character device hides the lower file. */
static int extract_whiteout(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	return make_node(x, pfd, e->base + strlen(WH_PREFIX), S_IFCHR, makedev(0, 0), err);
}

static int extract_opaque(int pfd, struct sk_err *err)
{
	/* EPERM: root of a user namespace (rootless) may not set trusted.* */
	if (fsetxattr(pfd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0 &&
	    (errno != EPERM || fsetxattr(pfd, OVERLAY_OPAQUE_USER_XATTR, "y", 1, 0) < 0))
		return err_set(err, errno, "cannot mark the directory opaque");
	return 0;
}

/* ---- entries ---- */

static int entry_decode(struct archive_entry *ae, struct entry *e, struct sk_err *err)
{
	la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
	bool climbed;

	e->ae = ae;
	e->raw = archive_entry_pathname(ae);
	if (!e->raw)
		e->raw = archive_entry_pathname_utf8(ae);
	if (!e->raw)
		return err_set(err, 0, "tar entry without a usable name");
	printable_name(e->raw, e->shown, sizeof(e->shown));
	if (strlen(e->raw) > UNPACK_NAME_MAX)
		return err_set(err, ENAMETOOLONG, "entry '%s'", e->shown);
	path_clean(e->raw, e->path, &climbed);
	e->base = path_split(e->path, e->dir);
	e->type = archive_entry_filetype(ae);
	e->perm = archive_entry_perm(ae) & 07777;
	/* (uid_t)-1 means "unchanged" to chown: refuse it with the other nonsense. */
	if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
		return err_set(err, 0, "entry '%s': invalid owner", e->shown);
	e->uid = (uid_t)uid;
	e->gid = (gid_t)gid;
	e->times[1] = (struct timespec){archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
	e->times[0] = e->times[1];
	/* As docker: an access time before the modification time is not kept. */
	if (archive_entry_atime_is_set(ae) && archive_entry_atime(ae) > e->times[1].tv_sec)
		e->times[0] =
		    (struct timespec){archive_entry_atime(ae), archive_entry_atime_nsec(ae)};
	return 0;
}

static int extract_typed(struct extract *x, int pfd, struct entry *e, struct sk_err *err)
{
	if (archive_entry_hardlink(e->ae))
		return extract_hardlink(x, pfd, e, err);
	switch (e->type) {
	case AE_IFREG:
		if (archive_entry_size(e->ae) > 0)
			x->content_bytes += (uint64_t)archive_entry_size(e->ae);
		return extract_regular(x, pfd, e, err);
	case AE_IFDIR:
		return extract_dir(x, pfd, e, err);
	case AE_IFLNK:
		if (archive_entry_symlink(e->ae))
			x->content_bytes += strlen(archive_entry_symlink(e->ae));
		return extract_symlink(x, pfd, e, err);
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		return extract_node(x, pfd, e, err);
	default:
		return err_set(err, 0, "unsupported entry type %o", (unsigned)e->type);
	}
}

static int extract_decoded(struct extract *x, struct entry *e, struct sk_err *err)
{
	enum whiteout wh;
	int pfd;

	if (check_xattrs(e, err) < 0 || check_dir_components(e, err) < 0 ||
	    whiteout_kind(e->base, &wh, err) < 0)
		return -1;
	if (!e->path[0])
		return extract_root(x, e, err);
	pfd = parent_open(x, e->dir, err);
	if (pfd < 0)
		return -1;
	if (wh == WH_DIR_OPAQUE)
		return extract_opaque(pfd, err);
	if (wh == WH_FILE)
		return extract_whiteout(x, pfd, e, err);
	return extract_typed(x, pfd, e, err);
}

static int extract_entry(struct extract *x, struct archive_entry *ae, struct sk_err *err)
{
	struct entry e;

	if (entry_decode(ae, &e, err) < 0)
		return -1;
	if (extract_decoded(x, &e, err) < 0)
		return err_wrap(err, "entry '%s'", e.shown);
	return 0;
}

static int extract_all(struct extract *x, uint64_t *count, struct sk_err *err)
{
	for (;;) {
		struct archive_entry *ae;
		int r = archive_read_next_header(x->ar, &ae);

		if (r == ARCHIVE_EOF)
			return 0;
		/* RETRY is a damaged header: Go's tar (docker) stops there too. */
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return archive_failure(x, err);
		if (++*count > UNPACK_MAX_ENTRIES)
			return err_set(err, 0, "more than %llu entries in the layer",
				       UNPACK_MAX_ENTRIES);
		if (extract_entry(x, ae, err) < 0)
			return -1;
	}
}

/* ---- the pipeline ---- */

static int reader_init(struct layer_reader *r, int src_fd, enum compression comp,
		       struct sk_err *err)
{
	memset(r, 0, sizeof(*r));
	if (decomp_init(&r->dec, src_fd, comp, 0, err) < 0)
		return -1;
	r->buf = malloc(UNPACK_CHUNK);
	if (!r->buf || sha256_init(&r->hash) < 0)
		return err_set(err, ENOMEM, "cannot set up layer extraction");
	return 0;
}

static void reader_release(struct layer_reader *r)
{
	decomp_release(&r->dec);
	sha256_release(&r->hash);
	free(r->buf);
	r->buf = NULL;
}

static int open_archive(struct extract *x, struct sk_err *err)
{
	x->ar = archive_read_new();
	if (!x->ar)
		return err_set(err, ENOMEM, "cannot set up the tar reader");
	/* Formats only: tar covers ustar, pax and GNU; "empty" is a 0-byte layer. */
	if (archive_read_support_format_tar(x->ar) != ARCHIVE_OK ||
	    archive_read_support_format_empty(x->ar) != ARCHIVE_OK ||
	    archive_read_open(x->ar, x->reader, NULL, reader_read, NULL) != ARCHIVE_OK)
		return archive_failure(x, err);
	return 0;
}

static int extract_layer(struct extract *x, struct unpack_result *res, struct sk_err *err)
{
	uint64_t count = 0;

	if (open_archive(x, err) < 0 || extract_all(x, &count, err) < 0 ||
	    reader_drain(x->reader, err) < 0 || dir_times_apply(x, err) < 0)
		return -1;
	res->entries = count;
	res->tar_bytes = x->reader->total;
	res->content_bytes = x->content_bytes;
	sha256_final(&x->reader->hash, res->diff_id);
	log_debug("unpacked layer %s: %llu entries, %llu bytes, %s", res->diff_id,
		  (unsigned long long)count, (unsigned long long)res->tar_bytes,
		  decomp_name(&x->reader->dec));
	return 0;
}

int unpack_layer(int src_fd, enum compression comp, int dest_dirfd, struct unpack_result *res,
		 struct sk_err *err)
{
	struct layer_reader reader;
	struct extract x = {
	    .root = dest_dirfd,
	    .reader = &reader,
	    .parent = {.fd = -1},
	    .dir_times = BUF_INIT(UNPACK_DIR_TIMES_MAX),
	    .euid = geteuid(),
	    .egid = getegid(),
	};
	int ret;

	memset(res, 0, sizeof(*res));
	x.umask_known = read_umask(&x.umask);
	ret = reader_init(&reader, src_fd, comp, err);
	if (ret == 0)
		ret = extract_layer(&x, res, err);
	if (x.ar)
		archive_read_free(x.ar);
	if (x.parent.fd >= 0)
		close(x.parent.fd);
	buf_release(&x.dir_times);
	reader_release(&reader);
	return ret;
}

/*
 * A volume's first use copies what the image has at the mount point into
 * it, as docker does: files, directories, symlinks, device nodes and fifos,
 * with their owners, modes, times, extended attributes and hard links, and
 * the mount point's own owner and mode on the volume's root. Only an empty
 * volume is filled.
 *
 * It runs in the container's first process, in its mount namespace, after
 * the root file system is mounted and before anything is mounted on it. The
 * image is hostile, and another container may use the volume already: the
 * source is resolved inside the container's root (openat2 RESOLVE_IN_ROOT),
 * every other step works on directory fds with O_NOFOLLOW, nothing but a
 * regular file is ever opened for reading, and every write, chown and chmod
 * is made on an fd or a name in a directory of the volume.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runtime/volume_copy.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define COPY_MAX_DEPTH 256
#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX_BYTES 65536

struct linked {
	dev_t dev;
	ino_t ino;
	char *path; /* of the first copy, relative to the volume */
};

struct copy_job {
	int volume; /* the volume's _data */
	const char *dest; /* the mount point, for messages */
	char path[PATH_MAX]; /* the entry being copied, relative to the volume */
	size_t len;
	unsigned depth;
	struct linked *links;
	size_t n_links;
	char *xattr_list, *xattr_value; /* scratch, XATTR_*_MAX_BYTES each */
};

static int copy_entries(struct copy_job *j, int src, int dst, struct sk_err *err);

static int copy_failed(struct copy_job *j, int errnum, const char *what, struct sk_err *err)
{
	return err_set(err, errnum, "cannot copy '%s/%s' into the volume: %s", j->dest, j->path,
		       what);
}

static void copy_xattrs(struct copy_job *j, int src, int dst)
{
	ssize_t n = flistxattr(src, j->xattr_list, XATTR_LIST_MAX_BYTES);

	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(j->xattr_list + off) + 1) {
		const char *key = j->xattr_list + off;
		ssize_t len;

		/* overlayfs's own bookkeeping, not the file's */
		if (!strncmp(key, "trusted.overlay.", 16) || !strncmp(key, "user.overlay.", 13))
			continue;
		len = fgetxattr(src, key, j->xattr_value, XATTR_VALUE_MAX_BYTES);
		/* unsupported or not permitted here (rootless): as docker, go on */
		if (len >= 0)
			fsetxattr(dst, key, j->xattr_value, (size_t)len, 0);
	}
}

/* Owner, then mode (a chown clears set-id bits), then extended attributes
 * (a chown clears file capabilities), then times. */
static void copy_attrs(struct copy_job *j, int src, int dst, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };

	/* EINVAL rootless: an id the namespace does not map stays root's */
	if (fchown(dst, st->st_uid, st->st_gid) < 0 && errno != EINVAL && errno != EPERM)
		return;
	fchmod(dst, st->st_mode & 07777);
	copy_xattrs(j, src, dst);
	futimens(dst, times);
}

/* The owner and times of an entry that cannot be opened (symlink, node). */
static void copy_attrs_at(int dstdir, const char *name, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };

	fchownat(dstdir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
	utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW);
}

static int copy_bytes(int in, int out)
{
	char buf[65536];

	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);

		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		break; /* across file systems on this kernel: plain copy */
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (fs_write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
}

static int copy_file(struct copy_job *j, int srcdir, int dstdir, const char *name,
		     const struct stat *st, struct sk_err *err)
{
	/* O_NONBLOCK: should the entry have changed into a fifo, no hang */
	cleanup_close int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
							O_CLOEXEC);
	cleanup_close int out = -1;
	struct stat now;

	if (in < 0 || fstat(in, &now) < 0)
		return copy_failed(j, errno, "cannot open it", err);
	/* only ever the regular file that was looked at: never a device */
	if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
		return copy_failed(j, 0, "it changed while being copied", err);
	out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return copy_failed(j, errno, "cannot create it", err);
	if (copy_bytes(in, out) < 0)
		return copy_failed(j, errno, "cannot write it", err);
	copy_attrs(j, in, out, st);
	return 0;
}

static int copy_symlink(struct copy_job *j, int srcdir, int dstdir, const char *name,
			const struct stat *st, struct sk_err *err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(srcdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return copy_failed(j, errno, "cannot read the link", err);
	target[n] = '\0';
	/* the link is copied as it is: nothing here follows it */
	if (symlinkat(target, dstdir, name) < 0)
		return copy_failed(j, errno, "cannot create the link", err);
	copy_attrs_at(dstdir, name, st);
	return 0;
}

/* Device nodes and fifos: made, never opened. The child's umask is 0, so
 * the mode given is the mode. */
static int copy_node(struct copy_job *j, int dstdir, const char *name, const struct stat *st,
		     struct sk_err *err)
{
	if (mknodat(dstdir, name, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0) {
		/* rootless: no device nodes (the pull skipped them too) */
		if (errno == EPERM && !S_ISFIFO(st->st_mode))
			return 0;
		return copy_failed(j, errno, "cannot create the node", err);
	}
	copy_attrs_at(dstdir, name, st);
	return 0;
}

static int copy_dir(struct copy_job *j, int srcdir, int dstdir, const char *name,
		    const struct stat *st, struct sk_err *err)
{
	cleanup_close int src = -1;
	cleanup_close int dst = -1;

	if (j->depth >= COPY_MAX_DEPTH)
		return copy_failed(j, 0, "directories nested too deep", err);
	src = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return copy_failed(j, errno, "cannot open the directory", err);
	/* private until its entries are in; its own mode comes last */
	if (mkdirat(dstdir, name, 0700) < 0)
		return copy_failed(j, errno, "cannot create the directory", err);
	dst = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return copy_failed(j, errno, "cannot open the directory made", err);
	j->depth++;
	if (copy_entries(j, src, dst, err) < 0)
		return -1;
	j->depth--;
	copy_attrs(j, src, dst, st); /* last: its entries changed its times */
	return 0;
}

static const char *first_link(const struct copy_job *j, const struct stat *st)
{
	for (size_t i = 0; i < j->n_links; i++)
		if (j->links[i].dev == st->st_dev && j->links[i].ino == st->st_ino)
			return j->links[i].path;
	return NULL;
}

static void remember_link(struct copy_job *j, const struct stat *st)
{
	struct linked *grown = realloc(j->links, (j->n_links + 1) * sizeof(*grown));

	if (!grown)
		return; /* the next name becomes a copy: same content */
	j->links = grown;
	grown[j->n_links] = (struct linked){ st->st_dev, st->st_ino, strdup(j->path) };
	if (grown[j->n_links].path)
		j->n_links++;
}

/* Another name of a file copied already: link it again, through the first
 * copy's directory resolved inside the volume without any symlink. */
static bool link_again(struct copy_job *j, const char *first, int dstdir, const char *name)
{
	const char *slash = strrchr(first, '/');
	cleanup_free char *parent = slash ? strndup(first, (size_t)(slash - first)) : NULL;
	cleanup_close int pfd = -1;

	if (slash) {
		if (!parent)
			return false;
		pfd = fs_open_in_root_nofollow(j->volume, parent, O_PATH | O_DIRECTORY, 0);
		if (pfd < 0)
			return false;
	}
	return linkat(slash ? pfd : j->volume, slash ? slash + 1 : first, dstdir, name, 0) == 0;
}

static int copy_entry(struct copy_job *j, int srcdir, int dstdir, const char *name,
		      struct sk_err *err)
{
	struct stat st;
	const char *first;
	int r;

	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_failed(j, errno, "cannot look at it", err);
	if (S_ISDIR(st.st_mode))
		return copy_dir(j, srcdir, dstdir, name, &st, err);
	if (st.st_nlink > 1 && (first = first_link(j, &st)) && link_again(j, first, dstdir, name))
		return 0;
	if (S_ISREG(st.st_mode))
		r = copy_file(j, srcdir, dstdir, name, &st, err);
	else if (S_ISLNK(st.st_mode))
		r = copy_symlink(j, srcdir, dstdir, name, &st, err);
	else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
		r = copy_node(j, dstdir, name, &st, err);
	else
		return 0; /* sockets: docker skips them too */
	if (r == 0 && st.st_nlink > 1)
		remember_link(j, &st);
	return r;
}

static int copy_entries(struct copy_job *j, int src, int dst, struct sk_err *err)
{
	int dfd = dup(src);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int ret = 0;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return copy_failed(j, errno, "cannot read the directory", err);
	}
	while (ret == 0 && (de = readdir(d))) {
		size_t saved = j->len;
		int n;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n = snprintf(j->path + j->len, sizeof(j->path) - j->len, "%s%s", j->len ? "/" : "",
			     de->d_name);
		if (n < 0 || (size_t)n >= sizeof(j->path) - j->len) {
			ret = copy_failed(j, ENAMETOOLONG, "path too long", err);
			break;
		}
		j->len += (size_t)n;
		ret = copy_entry(j, src, dst, de->d_name, err);
		j->len = saved;
		j->path[saved] = '\0';
	}
	closedir(d);
	return ret;
}

static bool dir_is_empty(int fd)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	bool empty = true;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

static int copy_tree(int src, int volume, const char *dest, struct sk_err *err)
{
	struct copy_job j = { .volume = volume, .dest = dest };
	struct stat st;
	int ret = -1;

	j.xattr_list = malloc(XATTR_LIST_MAX_BYTES);
	j.xattr_value = malloc(XATTR_VALUE_MAX_BYTES);
	if (!j.xattr_list || !j.xattr_value)
		err_set(err, ENOMEM, "cannot copy '%s' into the volume", dest);
	else if (fstat(src, &st) < 0)
		err_set(err, errno, "cannot copy '%s' into the volume", dest);
	else if (copy_entries(&j, src, volume, err) == 0)
		ret = 0;
	if (ret == 0)
		copy_attrs(&j, src, volume, &st); /* the mount point's owner and mode */
	for (size_t i = 0; i < j.n_links; i++)
		free(j.links[i].path);
	free(j.links);
	free(j.xattr_list);
	free(j.xattr_value);
	return ret;
}

/* The volume's directory (data_path without "/_data"), flocked while this
 * container fills it: two containers starting with one new volume copy once. */
static int lock_volume(const char *data_path, struct sk_err *err)
{
	const char *slash = strrchr(data_path, '/');
	cleanup_free char *dir = slash ? strndup(data_path, (size_t)(slash - data_path)) : NULL;
	int fd;

	if (!dir)
		return err_set(err, EINVAL, "invalid volume path '%s'", data_path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "cannot open the volume '%s'", dir);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return err_set(err, errno, "cannot lock the volume '%s'", dir);
		}
	return fd;
}

int volume_copy_up(int rootfd, const char *dest, const char *data_path, struct sk_err *err)
{
	cleanup_close int src = fs_open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY, 0);
	cleanup_close int lock = -1;
	cleanup_close int volume = -1;

	if (src == -ENOENT)
		return 0; /* nothing there in the image */
	if (src == -ENOTDIR)
		return err_set(err, 0, "cannot mount volume over existing file, file exists %s",
			       dest);
	if (src < 0)
		return err_set(err, -src, "cannot open '%s' in the container", dest);
	lock = lock_volume(data_path, err);
	if (lock < 0)
		return -1;
	volume = open(data_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (volume < 0)
		return err_set(err, errno, "cannot open the volume '%s'", data_path);
	if (!dir_is_empty(volume))
		return 0; /* in use already: docker copies into empty volumes only */
	return copy_tree(src, volume, dest, err);
}

/*
 * The fallback when the kernel has no overlayfs: the layers are copied into
 * the container's rootfs directory, bottom layer first, applying overlayfs's
 * own whiteout format (0:0 character devices delete, trusted.overlay.opaque=y
 * empties a directory) as the upper layers come. Slow and disk-hungry, which
 * is why rootfs_mount() says so once on stderr. The copy keeps what the layer
 * has: modes, owners, times, extended attributes (file capabilities among
 * them) and hard links within a layer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* One layer's copy: the path being copied (relative to the root) and the
 * files with several links met so far, to link their next names to. */
struct copy_ctx {
	int rootfd;
	char path[PATH_MAX];
	size_t len;
	struct linked {
		dev_t dev;
		ino_t ino;
		char *path;
	} *links;
	size_t n_links;
};

static int copy_tree(struct copy_ctx *cx, int src, int dst, struct sk_err *err);

static const char *linked_path(const struct copy_ctx *cx, const struct stat *st)
{
	for (size_t i = 0; i < cx->n_links; i++)
		if (cx->links[i].dev == st->st_dev && cx->links[i].ino == st->st_ino)
			return cx->links[i].path;
	return NULL;
}

static void remember_link(struct copy_ctx *cx, const struct stat *st)
{
	struct linked *v = realloc(cx->links, (cx->n_links + 1) * sizeof(*v));

	if (!v)
		return; /* a copy instead of a link: still correct content */
	cx->links = v;
	v[cx->n_links].dev = st->st_dev;
	v[cx->n_links].ino = st->st_ino;
	v[cx->n_links].path = strdup(cx->path);
	if (v[cx->n_links].path)
		cx->n_links++;
}

/* Extended attributes but overlay's own markers (the copy applied them). */
static void copy_xattrs(int srcdir, int dstdir, const char *name)
{
	char list[4096], val[4096], src[64], dst[64];
	cleanup_close int s = openat(srcdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int d = openat(dstdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (s < 0 || d < 0)
		return;
	/* O_PATH fds: the *xattr calls go through /proc/self/fd */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", s);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", d);
	n = listxattr(src, list, sizeof(list));
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		const char *k = list + off;
		ssize_t vl;

		if (!strncmp(k, "trusted.overlay.", 16) || !strncmp(k, "user.overlay.", 13))
			continue;
		vl = getxattr(src, k, val, sizeof(val));
		if (vl >= 0)
			setxattr(dst, k, val, (size_t)vl, 0);
	}
}

static void copy_times(int dstdir, const char *name, const struct stat *st)
{
	struct timespec t[2] = { st->st_atim, st->st_mtim };

	utimensat(dstdir, name, t, AT_SYMLINK_NOFOLLOW);
}

static bool is_opaque(int dirfd)
{
	char v[4];
	ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof(v));

	/* rootless stores mark them in the user namespace (docs/SECURITY.md) */
	if (n < 0)
		n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));

	return n == 1 && v[0] == 'y';
}

static int copy_data(int srcdir, int dstdir, const char *name, const struct stat *st,
		     struct sk_err *err)
{
	cleanup_close int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int out = -1;

	if (in < 0)
		return err_set(err, errno, "cannot open '%s'", name);
	out = openat(dstdir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 07777);
	if (out < 0)
		return err_set(err, errno, "cannot create '%s'", name);
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n < 0)
			return err_set(err, errno, "cannot copy '%s'", name);
		if (n == 0)
			return 0;
	}
}

static int copy_dir(struct copy_ctx *cx, int srcdir, int dstdir, const char *name,
		    const struct stat *st, struct sk_err *err)
{
	cleanup_close int s = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int d = -1;
	struct stat dst;

	if (s < 0)
		return err_set(err, errno, "cannot open '%s'", name);
	if (fstatat(dstdir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (!S_ISDIR(dst.st_mode) || is_opaque(s)) && fs_remove_tree(dstdir, name, err) < 0)
		return -1;
	if (mkdirat(dstdir, name, st->st_mode & 07777) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create '%s'", name);
	d = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return err_set(err, errno, "cannot open '%s'", name);
	if (copy_tree(cx, s, d, err) < 0)
		return -1;
	fchown(d, st->st_uid, st->st_gid);
	fchmod(d, st->st_mode & 07777);
	copy_xattrs(srcdir, dstdir, name);
	copy_times(dstdir, name, st); /* last: its entries changed its mtime */
	return 0;
}

static int copy_entry(struct copy_ctx *cx, int srcdir, int dstdir, const char *name,
		      struct sk_err *err)
{
	struct stat st;
	char target[4096];
	const char *first;
	ssize_t n;

	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, errno, "cannot stat '%s'", name);
	if (S_ISDIR(st.st_mode))
		return copy_dir(cx, srcdir, dstdir, name, &st, err);
	/* Anything else replaces what the lower layers had. */
	if (fs_remove_tree(dstdir, name, err) < 0)
		return -1;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return 0; /* whiteout: deleted, nothing to create */
	/* Another name of a file of this layer already copied: a link again. */
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && (first = linked_path(cx, &st)) &&
	    linkat(cx->rootfd, first, dstdir, name, 0) == 0)
		return 0;
	if (S_ISREG(st.st_mode)) {
		if (copy_data(srcdir, dstdir, name, &st, err) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		n = readlinkat(srcdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return err_set(err, errno, "cannot read link '%s'", name);
		target[n] = '\0';
		if (symlinkat(target, dstdir, name) < 0)
			return err_set(err, errno, "cannot create link '%s'", name);
	} else if (mknodat(dstdir, name, st.st_mode, st.st_rdev) < 0) {
		return err_set(err, errno, "cannot create '%s'", name);
	}
	fchownat(dstdir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
	if (!S_ISLNK(st.st_mode)) {
		fchmodat(dstdir, name, st.st_mode & 07777, 0);
		copy_xattrs(srcdir, dstdir, name); /* after chown, which drops capabilities */
	}
	copy_times(dstdir, name, &st);
	if (st.st_nlink > 1)
		remember_link(cx, &st);
	return 0;
}

static int copy_tree(struct copy_ctx *cx, int src, int dst, struct sk_err *err)
{
	int dupfd = dup(src);
	DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	struct dirent *de;
	int ret = 0;

	if (!d) {
		if (dupfd >= 0)
			close(dupfd);
		return err_set(err, errno, "cannot read a layer directory");
	}
	while ((de = readdir(d)) && ret == 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		{
			size_t saved = cx->len;
			int n = snprintf(cx->path + cx->len, sizeof(cx->path) - cx->len, "%s%s",
					 cx->len ? "/" : "", de->d_name);

			if (n < 0 || (size_t)n >= sizeof(cx->path) - cx->len) {
				ret = err_set(err, ENAMETOOLONG, "path too long in a layer");
				break;
			}
			cx->len += (size_t)n;
			ret = copy_entry(cx, src, dst, de->d_name, err);
			cx->len = saved;
			cx->path[saved] = '\0';
		}
	}
	closedir(d);
	return ret;
}

int rootfs_copy_layers(const struct rt_root *root, struct sk_err *err)
{
	cleanup_close int dst = open(root->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dst < 0)
		return err_set(err, errno, "cannot open '%s'", root->path);
	/* layers are top first; copy from the bottom up. */
	for (size_t i = root->layers.n; i-- > 0;) {
		cleanup_close int src =
			open(root->layers.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct copy_ctx cx = { .rootfd = dst };
		int ret;

		if (src < 0)
			return err_set(err, errno, "cannot open layer '%s'", root->layers.v[i]);
		ret = copy_tree(&cx, src, dst, err);
		for (size_t k = 0; k < cx.n_links; k++)
			free(cx.links[k].path);
		free(cx.links);
		if (ret < 0)
			return err_wrap(err, "layer '%s'", root->layers.v[i]);
	}
	return 0;
}

/*
 * The fallback when the kernel has no overlayfs: the layers are copied into
 * the container's rootfs directory, bottom layer first, applying overlayfs's
 * own whiteout format (0:0 character devices delete, trusted.overlay.opaque=y
 * empties a directory) as the upper layers come. Slow and disk-hungry, which
 * is why rootfs_mount() says so once on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

static int copy_tree(int src, int dst, struct sk_err *err);

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

static int copy_dir(int srcdir, int dstdir, const char *name, const struct stat *st,
		    struct sk_err *err)
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
	return copy_tree(s, d, err);
}

static int copy_entry(int srcdir, int dstdir, const char *name, struct sk_err *err)
{
	struct stat st;
	char target[4096];
	ssize_t n;

	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, errno, "cannot stat '%s'", name);
	if (S_ISDIR(st.st_mode))
		return copy_dir(srcdir, dstdir, name, &st, err);
	/* Anything else replaces what the lower layers had. */
	if (fs_remove_tree(dstdir, name, err) < 0)
		return -1;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return 0; /* whiteout: deleted, nothing to create */
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
	if (!S_ISLNK(st.st_mode))
		fchmodat(dstdir, name, st.st_mode & 07777, 0);
	return 0;
}

static int copy_tree(int src, int dst, struct sk_err *err)
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
		ret = copy_entry(src, dst, de->d_name, err);
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
		if (src < 0)
			return err_set(err, errno, "cannot open layer '%s'", root->layers.v[i]);
		if (copy_tree(src, dst, err) < 0)
			return err_wrap(err, "layer '%s'", root->layers.v[i]);
	}
	return 0;
}

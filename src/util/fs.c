/* File-system helpers. */
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

int fs_mkdir_p(int dirfd, const char *path, mode_t mode, struct sk_err *err)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return err_set(err, ENAMETOOLONG, "cannot create directory '%s'", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdirat(dirfd, tmp, mode) < 0 && errno != EEXIST)
			return err_set(err, errno, "cannot create directory '%s'", tmp);
		*p = '/';
	}
	if (mkdirat(dirfd, tmp, mode) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create directory '%s'", tmp);
	return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	return fs_pwrite_all(fd, data, len, -1);
}

/* off < 0 means write() at the file position. */
int fs_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int fs_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		    struct sk_err *err)
{
	char tmp[4200], dir[4096];
	cleanup_close int fd = -1;
	cleanup_close int dfd = -1;
	const char *slash = strrchr(name, '/');
	int dirlen = slash ? (int)(slash - name) : 0;
	const char *base = slash ? slash + 1 : name;

	/* The temp file lives next to the target, so rename() is atomic. */
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", dirlen, name);
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%d-%lx", dir, base, (int)getpid(),
		 (unsigned long)random());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return err_set(err, errno, "cannot create '%s'", tmp);
	int wr = fs_write_all(fd, data, len);

	if (wr < 0 || fsync(fd) < 0) {
		int e = wr < 0 ? -wr : errno;
		unlinkat(dirfd, tmp, 0);
		return err_set(err, e, "cannot write '%s'", name);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return err_set(err, e, "cannot rename into '%s'", name);
	}
	dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int fs_read_file(int dirfd, const char *name, size_t max, struct buf *out, struct sk_err *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char chunk[16384];

	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", name);
	out->max = max;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(err, errno, "cannot read '%s'", name);
		}
		if (n == 0)
			break;
		int r = buf_append(out, chunk, (size_t)n);
		if (r < 0)
			return err_set(err, -r, "cannot read '%s' (limit %zu bytes)", name, max);
	}
	if (!out->data)
		buf_append(out, "", 0);
	return 0;
}

static int openat2_resolve(int rootfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)flags | O_CLOEXEC,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = resolve,
	};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	return openat2_resolve(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int fs_open_in_root_nofollow(int rootfd, const char *path, int flags, mode_t mode)
{
	return openat2_resolve(rootfd, path, flags, mode,
			       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
}

static int remove_dir_contents(int dfd, struct sk_err *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dfd);
		return err_set(err, errno, "cannot read directory");
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			ret = err_set(err, errno, "cannot remove '%s'", de->d_name);
			break;
		}
		if (fs_remove_tree(dirfd(d), de->d_name, err) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	return ret;
}

int fs_remove_tree(int dirfd, const char *name, struct sk_err *err)
{
	int dfd;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return err_set(err, errno, "cannot remove '%s'", name);
	dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "cannot open '%s'", name);
	/* A directory may be read-only (e.g. from a layer): make it writable first. */
	fchmod(dfd, 0700);
	if (remove_dir_contents(dfd, err) < 0)
		return err_wrap(err, "cannot remove '%s'", name);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_set(err, errno, "cannot remove '%s'", name);
	return 0;
}

static long long usage_of_dir(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	long long total = 0;

	if (!d) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		total += (long long)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				total += usage_of_dir(sub);
		}
	}
	closedir(d);
	return total;
}

long long fs_disk_usage(int dirfd, const char *name)
{
	int dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return dfd < 0 ? 0 : usage_of_dir(dfd);
}

/* Hard-linked files seen while summing (fs_content_size): counted once; past
 * this many (a tree made to eat memory) the others count every time. */
#define FS_CONTENT_MAX_LINKS (1u << 20)
struct linked_files {
	struct linked_file {
		dev_t dev;
		ino_t ino;
		off_t size;
	} *v;
	size_t n, cap;
};

static void content_of_dir(int dfd, int depth, long long *total, struct linked_files *links)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = depth < FS_CONTENT_MAX_DEPTH
					  ? openat(dirfd(d), de->d_name,
						   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					  : -1;
			if (sub >= 0)
				content_of_dir(sub, depth + 1, total, links);
		} else if (st.st_nlink > 1 && links->n < FS_CONTENT_MAX_LINKS) {
			if (links->n == links->cap) {
				size_t cap = links->cap ? links->cap * 2 : 64;
				struct linked_file *v = realloc(links->v, cap * sizeof(*v));

				if (!v)
					continue;
				links->v = v;
				links->cap = cap;
			}
			links->v[links->n++] =
				(struct linked_file){ st.st_dev, st.st_ino, st.st_size };
		} else {
			*total += st.st_size;
		}
	}
	closedir(d);
}

static int linked_file_cmp(const void *a, const void *b)
{
	const struct linked_file *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

long long fs_content_size(int dirfd, const char *name)
{
	int dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct linked_files links = { 0 };
	long long total = 0;

	if (dfd < 0)
		return 0;
	content_of_dir(dfd, 0, &total, &links);
	if (links.n)
		qsort(links.v, links.n, sizeof(*links.v), linked_file_cmp);
	for (size_t i = 0; i < links.n; i++)
		if (i == 0 || linked_file_cmp(&links.v[i - 1], &links.v[i]) != 0)
			total += links.v[i].size;
	free(links.v);
	return total;
}

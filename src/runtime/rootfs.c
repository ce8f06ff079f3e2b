/*
 * The container's root file system, set up inside the container's own mount
 * namespace (so a killed skiff never leaves a mount on the host):
 *   - overlayfs from the image's layers with the new mount API, one
 *     "lowerdir+" per layer (kernel >= 6.8), so no option string limits the
 *     layer count; the classic mount(2) option string on older kernels; a copy
 *     of the layers when overlayfs is missing altogether;
 *   - confined creation of mount targets (openat2 RESOLVE_IN_ROOT): the image
 *     decides what its directories are, symlinks included, and must not be
 *     able to redirect a mount onto the host;
 *   - pivot_root(".", ".") and detaching the old root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

static int overlay_config(int fsfd, const char *key, const char *val, struct sk_err *err)
{
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, val, 0) < 0)
		return err_set(err, errno, "overlay option %s=%s", key, val);
	return 0;
}

/* Length of the longest directory prefix ("/a/b/") shared by all the
 * overlay's paths. The child changes into it and passes the rest: option
 * strings stay short (the classic API's page limit) and the container's
 * mountinfo does not spell out where the store lives on the host. */
static size_t common_dir_len(const struct rt_root *root)
{
	const char *first = root->upper;
	size_t len = strlen(first);

	for (size_t i = 0; i <= root->layers.n; i++) {
		const char *p = i < root->layers.n ? root->layers.v[i] : root->work;
		size_t n = 0;

		while (n < len && p[n] == first[n])
			n++;
		len = n;
	}
	while (len > 0 && first[len - 1] != '/')
		len--;
	return len;
}

static int enter_common_dir(const struct rt_root *root, size_t len, struct sk_err *err)
{
	char dir[4096];

	if (len == 0)
		return 0;
	if (len >= sizeof(dir))
		return err_set(err, ENAMETOOLONG, "store path too long");
	snprintf(dir, sizeof(dir), "%.*s", (int)len, root->upper);
	if (chdir(dir) < 0)
		return err_set(err, errno, "cannot enter '%s'", dir);
	return 0;
}

/* New mount API. Returns 0, or -1 with err; err->errnum tells the caller
 * whether to fall back (ENODEV: no overlayfs, EINVAL on lowerdir+: old kernel).
 * "volatile": the upper directory is thrown away after a crash anyway, and
 * without it unmounting syncs the whole upper file system at every exit. */
static int overlay_mount_new_api(const struct rt_root *root, size_t skip, int init_layer,
				 struct sk_err *err)
{
	cleanup_close int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	cleanup_close int mfd = -1;
	char init_path[64];

	if (fsfd < 0)
		return err_set(err, errno, "cannot open overlayfs");
	/* The first "lowerdir+" is the top layer. */
	snprintf(init_path, sizeof(init_path), "/proc/self/fd/%d", init_layer);
	if (init_layer >= 0 && overlay_config(fsfd, "lowerdir+", init_path, err) < 0)
		return -1;
	for (size_t i = 0; i < root->layers.n; i++)
		if (overlay_config(fsfd, "lowerdir+", root->layers.v[i] + skip, err) < 0)
			return -1;
	if (overlay_config(fsfd, "upperdir", root->upper + skip, err) < 0 ||
	    overlay_config(fsfd, "workdir", root->work + skip, err) < 0)
		return -1;
	if (fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		return err_set(err, errno, "overlay option volatile");
	/* Rootless: overlay keeps its state in user.overlay.* (trusted.* needs
	 * the initial namespace), as the layers' opaque markers do. */
	if (root->userxattr && fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return err_set(err, errno, "overlay option userxattr");
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return err_set(err, errno, "cannot create the overlay of %zu layers",
			       root->layers.n);
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return err_set(err, errno, "cannot mount the overlay");
	if (move_mount(mfd, "", AT_FDCWD, root->path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return err_set(err, errno, "cannot attach the overlay at '%s'", root->path);
	return 0;
}

/* overlayfs escapes ':' ',' and '\' in option values with a backslash. */
static int append_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if ((*s == ':' || *s == ',' || *s == '\\') && buf_append(b, "\\", 1) < 0)
			return -1;
		if (buf_append(b, s, 1) < 0)
			return -1;
	}
	return 0;
}

/* Kernels before 6.8: one option string, at most a page long. */
static int overlay_mount_classic(const struct rt_root *root, size_t skip, struct sk_err *err)
{
	cleanup_buf struct buf opts = BUF_INIT(4095);
	int r = buf_append(&opts, "lowerdir=", 9);

	for (size_t i = 0; i < root->layers.n && r == 0; i++) {
		if (i > 0)
			r = buf_append(&opts, ":", 1);
		if (r == 0)
			r = append_escaped(&opts, root->layers.v[i] + skip);
	}
	if (r == 0)
		r = buf_append(&opts, ",upperdir=", 10);
	if (r == 0)
		r = append_escaped(&opts, root->upper + skip);
	if (r == 0)
		r = buf_append(&opts, ",workdir=", 9);
	if (r == 0)
		r = append_escaped(&opts, root->work + skip);
	if (r == 0)
		r = buf_append(&opts, ",volatile", 9);
	if (r == 0 && root->userxattr)
		r = buf_append(&opts, ",userxattr", 10);
	if (r < 0)
		return err_set(err, E2BIG, "the overlay options of %zu layers exceed a page on this "
					   "kernel (lowerdir+ needs Linux 6.8)",
			       root->layers.n);
	if (mount("overlay", root->path, "overlay", 0, opts.data) < 0)
		return err_set(err, errno, "cannot mount the overlay of %zu layers",
			       root->layers.n);
	return 0;
}

static int bind_onto_itself(const char *path, struct sk_err *err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_set(err, errno, "cannot bind '%s' onto itself", path);
	return 0;
}

static int overlay_mount(const struct rt_root *root, int init_layer, struct sk_err *err)
{
	size_t skip = common_dir_len(root);

	if (enter_common_dir(root, skip, err) < 0)
		return -1;
	/* Kernels that take neither lowerdir+ nor a detached mount as a layer
	 * go on without the init layer: its files are then made in the upper
	 * directory, as mount targets. */
	if (init_layer >= 0) {
		if (overlay_mount_new_api(root, skip, init_layer, err) == 0)
			return 0;
		log_debug("overlay without the init layer: %s", err->msg);
		err_clear(err);
	}
	if (overlay_mount_new_api(root, skip, -1, err) == 0)
		return 0;
	if (err->errnum != EINVAL)
		return -1;
	log_debug("lowerdir+ refused (%s); using the classic overlay options", err->msg);
	return overlay_mount_classic(root, skip, err);
}

int rootfs_mount(const struct rt_root *root, int init_layer, struct sk_err *err)
{
	if (root->layers.n == 0)
		return bind_onto_itself(root->path, err);
	if (root->copy)
		goto copy;
	if (overlay_mount(root, init_layer, err) == 0)
		return 0;
	/* EPERM in a user namespace: overlay there needs Linux 5.11 */
	if (err->errnum != ENODEV && !(err->errnum == EPERM && root->userxattr))
		return err_wrap(err, "cannot mount the root file system");
	log_warn("overlayfs is not available%s: copying the image's layers instead (slow)",
		 err->errnum == EPERM ? " in this user namespace" : "");
copy:
	err_clear(err);
	if (rootfs_copy_layers(root, err) < 0)
		return err_wrap(err, "cannot copy the root file system");
	return bind_onto_itself(root->path, err);
}

/* The fd of the directory that holds path's last component, creating parents. */
static int open_parent(int rootfd, const char *path, const char **base, struct sk_err *err)
{
	char parent[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	*base = slash ? slash + 1 : path;
	if (!slash || slash == path)
		return fs_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
	if ((size_t)(slash - path) >= sizeof(parent))
		return err_set(err, ENAMETOOLONG, "cannot create '%s'", path);
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	if (rootfs_mkdir(rootfd, parent, err) < 0)
		return -1;
	fd = fs_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return err_set(err, -fd, "cannot open '%s' in the container", parent);
	return fd;
}

static int mkdir_one(int rootfd, const char *path, struct sk_err *err)
{
	cleanup_close int pfd = -1;
	const char *base;

	pfd = open_parent(rootfd, path, &base, err);
	if (pfd < 0)
		return -1;
	if (*base && mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create directory '%s' in the container", path);
	return 0;
}

int rootfs_mkdir(int rootfd, const char *path, struct sk_err *err)
{
	int fd = fs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd != -ENOENT)
		return err_set(err, -fd, "cannot open directory '%s' in the container", path);
	return mkdir_one(rootfd, path, err);
}

static int create_file(int rootfd, const char *path, struct sk_err *err)
{
	cleanup_close int pfd = -1;
	const char *base;
	int fd;

	pfd = open_parent(rootfd, path, &base, err);
	if (pfd < 0)
		return -1;
	/* pfd is O_PATH: re-open it as a directory to create in it. */
	fd = openat(pfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create '%s' in the container", path);
	if (fd >= 0)
		close(fd);
	return 0;
}

int rootfs_open_target(int rootfd, const char *path, bool is_dir, struct sk_err *err)
{
	int fd = fs_open_in_root(rootfd, path, O_PATH | (is_dir ? O_DIRECTORY : 0), 0);

	if (fd >= 0)
		return fd;
	if (fd != -ENOENT)
		return err_set(err, -fd, "cannot open mount point '%s' in the container", path);
	if ((is_dir ? rootfs_mkdir(rootfd, path, err) : create_file(rootfd, path, err)) < 0)
		return -1;
	fd = fs_open_in_root(rootfd, path, O_PATH | (is_dir ? O_DIRECTORY : 0), 0);
	if (fd < 0)
		return err_set(err, -fd, "cannot open mount point '%s' in the container", path);
	return fd;
}

int rootfs_pivot(const char *path, struct sk_err *err)
{
	if (chdir(path) < 0)
		return err_set(err, errno, "cannot enter '%s'", path);
	/* The old root ends up stacked under the new one; detach it at once. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return err_set(err, errno, "pivot_root into '%s'", path);
	if (umount2(".", MNT_DETACH) < 0)
		return err_set(err, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return err_set(err, errno, "cannot enter the new root");
	return 0;
}

int rootfs_make_readonly(struct sk_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		return err_set(err, errno, "cannot make the root file system read-only");
	return 0;
}

int rootfs_enter_cwd(const char *cwd, struct sk_err *err)
{
	cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int fd = -1;
	char where[PATH_MAX];
	long n;

	if (rootfd < 0)
		return err_set(err, errno, "cannot open the container's root");
	/* Confined: "..", absolute symlinks and /proc/self/fd/N cannot leave it. */
	fd = fs_open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return err_set(err, -fd, "cannot open '%s'", cwd);
	if (fchdir(fd) < 0)
		return err_set(err, errno, "cannot enter '%s'", cwd);
	/* The kernel's own word that the directory is under our root: a path
	 * that does not start with "/" is "(unreachable)" (CVE-2024-21626). */
	n = syscall(SYS_getcwd, where, sizeof(where));
	if (n < 0 || where[0] != '/')
		return err_set(err, n < 0 ? errno : 0, "'%s' is outside the container", cwd);
	return 0;
}

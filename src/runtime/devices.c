/*
 * The container's /dev (a fresh tmpfs): docker's default device nodes and the
 * usual links. Nodes are made with mknod, as runc does as root: it costs one
 * system call per node and gives the container its own inodes. Where mknod is
 * refused (a user namespace, a nodev tmpfs) the host's node is bind-mounted
 * instead, as crun does for rootless containers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const struct {
	const char *name;
	unsigned major, minor;
} default_devices[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 },    { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
	const char *name, *target;
} default_links[] = {
	{ "fd", "/proc/self/fd" },	   { "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	{ "ptmx", "pts/ptmx" },
};

static int bind_host_device(int devfd, const char *name, struct sk_err *err)
{
	char host[64];
	cleanup_close int fd = openat(devfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
	cleanup_close int target = -1;

	if (fd < 0)
		return err_set(err, errno, "cannot create '/dev/%s'", name);
	target = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0)
		return err_set(err, errno, "cannot open '/dev/%s'", name);
	snprintf(host, sizeof(host), "/dev/%s", name);
	return mounts_bind_fd(host, target, false, 0, err);
}

static int make_device(int devfd, const char *name, unsigned major, unsigned minor,
		       struct sk_err *err)
{
	/* The mode is exact: the child runs with umask 0 during setup. */
	if (mknodat(devfd, name, S_IFCHR | 0666, makedev(major, minor)) == 0)
		return 0;
	if (errno != EPERM && errno != EACCES)
		return err_set(err, errno, "cannot create '/dev/%s'", name);
	return bind_host_device(devfd, name, err);
}

/* What --privileged does not copy (runc's list): file systems of their own
 * and the pty multiplexer, which the container has from its own devpts. */
static bool skip_host_entry(const char *rel)
{
	static const char *const skipped[] = { "pts", "shm", "mqueue", "hugepages", "ptmx",
					       "console", ".lxc", ".udev" };

	for (size_t i = 0; i < ARRAY_SIZE(skipped); i++)
		if (!strcmp(rel, skipped[i]))
			return true;
	return false;
}

/* Recreate the host's device nodes below hostdir (a /dev directory) in
 * ctrdir, directories included; symlinks and other files are left out. */
static int copy_host_devices(int hostdir, int ctrdir, int depth, struct sk_err *err)
{
	DIR *d = fdopendir(hostdir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(hostdir);
		return err_set(err, errno, "cannot read the host's /dev");
	}
	while (rc == 0 && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if ((depth == 0 && skip_host_entry(de->d_name)) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			if (mknodat(ctrdir, de->d_name, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0 &&
			    errno != EEXIST)
				rc = err_set(err, errno, "cannot create '/dev/%s'", de->d_name);
			else
				fchownat(ctrdir, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		} else if (S_ISDIR(st.st_mode) && depth < 4) {
			int h = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int c;

			if (h < 0)
				continue;
			if (mkdirat(ctrdir, de->d_name, st.st_mode & 07777) < 0 && errno != EEXIST) {
				close(h);
				rc = err_set(err, errno, "cannot create '/dev/%s'", de->d_name);
				break;
			}
			c = openat(ctrdir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c < 0) {
				close(h);
				continue;
			}
			rc = copy_host_devices(h, c, depth + 1, err);
			close(c);
		}
	}
	closedir(d);
	return rc;
}

int devices_create(int rootfd, bool host_devices, struct sk_err *err)
{
	int fd = fs_open_in_root_nofollow(rootfd, "/dev", O_RDONLY | O_DIRECTORY, 0);
	cleanup_close int devfd = fd;

	if (fd < 0)
		return err_set(err, -fd, "cannot open the container's /dev");
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (make_device(devfd, default_devices[i].name, default_devices[i].major,
				default_devices[i].minor, err) < 0)
			return -1;
	for (size_t i = 0; i < ARRAY_SIZE(default_links); i++)
		if (symlinkat(default_links[i].target, devfd, default_links[i].name) < 0 &&
		    errno != EEXIST)
			return err_set(err, errno, "cannot create '/dev/%s'", default_links[i].name);
	if (host_devices) {
		int host = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (host < 0)
			return err_set(err, errno, "cannot open the host's /dev");
		return copy_host_devices(host, devfd, 0, err);
	}
	return 0;
}

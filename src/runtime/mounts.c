/*
 * The container's mounts (spec.mounts, masked and read-only paths), done with
 * the new mount API: each file system is created detached (fsopen/fsmount) or
 * cloned (open_tree) and attached with move_mount onto an fd that was opened
 * confined to the container's root. Mounting on an fd, never on a path string,
 * is what keeps a hostile image's symlinks from steering a mount to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "runtime/volume_copy.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* A mount's options split into mount attributes and file-system data. */
struct mount_opts {
	unsigned attrs;
	bool bind, recursive;
	bool mkdir; /* skiff's: a missing bind source directory is made (docker -v) */
	bool populate; /* skiff's: a new volume is filled from the image (volume_copy.h) */
	char subpath[PATH_MAX]; /* skiff's: bind this path inside the source, resolved in it */
	char data[1024]; /* comma-separated, for fsconfig */
};

static const struct {
	const char *name;
	unsigned set, clear;
} attr_opts[] = {
	{ "ro", MOUNT_ATTR_RDONLY, 0 },
	{ "rw", 0, MOUNT_ATTR_RDONLY },
	{ "nosuid", MOUNT_ATTR_NOSUID, 0 },
	{ "suid", 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, 0 },
	{ "dev", 0, MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0 },
	{ "exec", 0, MOUNT_ATTR_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, 0 },
	{ "relatime", MOUNT_ATTR_RELATIME, 0 },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, 0 },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
};

/* Accepted, meaningless here: propagation (the container's tree is private)
 * and "newinstance" (devpts always is since Linux 4.7). */
static const char *const ignored_opts[] = {
	"private", "rprivate", "slave",	    "rslave", "shared",
	"rshared", "defaults", "newinstance", "z",      "Z",
};

static bool opt_eq(const char *o, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(o, name, len);
}

static bool parse_flag_opt(const char *o, size_t len, struct mount_opts *mo)
{
	for (size_t i = 0; i < ARRAY_SIZE(attr_opts); i++) {
		if (!opt_eq(o, len, attr_opts[i].name))
			continue;
		mo->attrs = (mo->attrs & ~attr_opts[i].clear) | attr_opts[i].set;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ignored_opts); i++)
		if (opt_eq(o, len, ignored_opts[i]))
			return true;
	if (opt_eq(o, len, "mkdir")) {
		mo->mkdir = true;
		return true;
	}
	if (opt_eq(o, len, "populate")) {
		mo->populate = true;
		return true;
	}
	if (len > 8 && !memcmp(o, "subpath=", 8) && len - 8 < sizeof(mo->subpath)) {
		snprintf(mo->subpath, sizeof(mo->subpath), "%.*s", (int)(len - 8), o + 8);
		return true;
	}
	if (opt_eq(o, len, "bind") || opt_eq(o, len, "rbind")) {
		mo->bind = true;
		mo->recursive = len == 5;
		return true;
	}
	return false;
}

static int parse_mount_opts(const struct rt_mount *m, struct mount_opts *mo, struct sk_err *err)
{
	const char *o = m->options ? m->options : "";
	size_t len, used = 0;

	memset(mo, 0, sizeof(*mo));
	mo->bind = !strcmp(m->type, "bind");
	mo->recursive = mo->bind;
	for (; (o = spec_opt_next(o, &len)); o += len) {
		if (parse_flag_opt(o, len, mo))
			continue;
		if (used + len + 2 > sizeof(mo->data))
			return err_set(err, E2BIG, "mount options of '%s' are too long",
				       m->destination);
		used += (size_t)snprintf(mo->data + used, sizeof(mo->data) - used, "%s%.*s",
					 used ? "," : "", (int)len, o);
	}
	return 0;
}

/* fsconfig each "key[=value]" of a comma-separated data string. */
static int fs_configure(int fsfd, const char *type, const char *data, struct sk_err *err)
{
	const char *o = data;
	size_t len;

	for (; (o = spec_opt_next(o, &len)); o += len) {
		char key[256];
		const char *eq = memchr(o, '=', len);
		size_t klen = eq ? (size_t)(eq - o) : len;
		char val[768];
		int r;

		if (klen >= sizeof(key) || len - klen >= sizeof(val))
			return err_set(err, E2BIG, "%s option '%.*s' is too long", type, (int)len, o);
		snprintf(key, sizeof(key), "%.*s", (int)klen, o);
		if (eq) {
			snprintf(val, sizeof(val), "%.*s", (int)(len - klen - 1), eq + 1);
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, key, val, 0);
		} else {
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
		}
		/* Rootless without subordinate ids: the tty group (5) has no
		 * mapping; the ptys keep the creator's group instead (as crun). */
		if (r < 0 && errno == EINVAL && !strcmp(type, "devpts") && !strcmp(key, "gid"))
			continue;
		if (r < 0)
			return err_set(err, errno, "%s option '%.*s'", type, (int)len, o);
	}
	return 0;
}

/* A new file system of type, attached on target_fd. */
static int mount_new_fs(const char *type, const char *source, const char *data, unsigned attrs,
			int target_fd, struct sk_err *err)
{
	cleanup_close int fsfd = fsopen(type, FSOPEN_CLOEXEC);
	cleanup_close int mfd = -1;

	if (fsfd < 0)
		return err_set(err, errno, "cannot open file system '%s'", type);
	if (source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return err_set(err, errno, "%s source '%s'", type, source);
	if (fs_configure(fsfd, type, data, err) < 0)
		return -1;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return err_set(err, errno, "cannot create the %s file system", type);
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return err_set(err, errno, "cannot mount the %s file system", type);
	if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_set(err, errno, "cannot attach the %s file system", type);
	return 0;
}

static int attach_tree(int treefd, bool recursive, unsigned attrs, int target_fd,
		       struct sk_err *err)
{
	struct mount_attr attr = { .attr_set = attrs };

	if (attrs && mount_setattr(treefd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
				   &attr, sizeof(attr)) < 0)
		return err_set(err, errno, "cannot set the bind mount's attributes");
	if (move_mount(treefd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return err_set(err, errno, "cannot attach the bind mount");
	return 0;
}

static int open_tree_clone(int dirfd, const char *path, bool recursive)
{
	return open_tree(dirfd, path,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
				 (*path ? 0 : AT_EMPTY_PATH));
}

int mounts_bind_fd(const char *src, int target_fd, bool recursive, unsigned attrs,
		   struct sk_err *err)
{
	cleanup_close int treefd = open_tree_clone(AT_FDCWD, src, recursive);

	if (treefd < 0)
		return err_set(err, errno, "cannot bind '%s'", src);
	return attach_tree(treefd, recursive, attrs, target_fd, err);
}

/* A volume's subpath (--mount volume-subpath): resolved inside the volume,
 * whose content containers write, so that none of their symlinks leads out. */
static int mount_subpath(int rootfd, const struct rt_mount *m, const struct mount_opts *mo,
			 struct sk_err *err)
{
	cleanup_close int volume = open(m->source, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int sub = -1;
	cleanup_close int treefd = -1;
	cleanup_close int target = -1;
	struct stat st;

	if (volume < 0)
		return err_set(err, errno, "cannot open the volume '%s'", m->source);
	sub = fs_open_in_root(volume, mo->subpath, O_PATH, 0);
	if (sub < 0)
		return err_set(err, -sub, "cannot mount the volume's subpath '%s'", mo->subpath);
	treefd = open_tree_clone(sub, "", mo->recursive);
	if (treefd < 0 || fstat(treefd, &st) < 0)
		return err_set(err, errno, "cannot mount the volume's subpath '%s'", mo->subpath);
	target = rootfs_open_target(rootfd, m->destination, S_ISDIR(st.st_mode), err);
	if (target < 0)
		return -1;
	if (attach_tree(treefd, mo->recursive, mo->attrs, target, err) < 0)
		return err_wrap(err, "the volume's subpath '%s' on '%s'", mo->subpath,
				m->destination);
	return 0;
}

/* A bind mount from the host (-v, /etc/hosts ...): the source decides whether
 * the target is a directory or a file. */
static int mount_bind(int rootfd, const struct rt_mount *m, const struct mount_opts *mo,
		      struct sk_err *err)
{
	cleanup_close int treefd = -1;
	cleanup_close int target = -1;
	struct stat st;

	if (!m->source || !*m->source)
		return err_set(err, 0, "bind mount '%s' has no source", m->destination);
	if (mo->subpath[0])
		return mount_subpath(rootfd, m, mo, err);
	treefd = open_tree_clone(AT_FDCWD, m->source, mo->recursive);
	if (treefd < 0 && errno == ENOENT && mo->mkdir && fs_mkdir_p(AT_FDCWD, m->source, 0755, err) == 0)
		treefd = open_tree_clone(AT_FDCWD, m->source, mo->recursive);
	if (treefd < 0 && errno == ENOENT) {
		err_set(err, 0, "bind source path does not exist: %s", m->source);
		err->exit_code = EXIT_SKIFF;
		return -1;
	}
	if (treefd < 0 || fstat(treefd, &st) < 0)
		return err_set(err, errno, "cannot bind '%s'", m->source);
	target = rootfs_open_target(rootfd, m->destination, S_ISDIR(st.st_mode), err);
	if (target < 0)
		return -1;
	if (attach_tree(treefd, mo->recursive, mo->attrs, target, err) < 0)
		return err_wrap(err, "'%s' on '%s'", m->source, m->destination);
	return 0;
}

/* sysfs refuses to mount when the network namespace is the host's and we are
 * not its owner; bind the host's /sys read-only instead, as runc does. */
static int mount_sys_fallback(int target, const struct mount_opts *mo, struct sk_err *err)
{
	return mounts_bind_fd("/sys", target, true, mo->attrs | MOUNT_ATTR_RDONLY, err);
}

/* A small tmpfs of the container's own, not attached anywhere. */
static int files_fs_open(struct sk_err *err)
{
	cleanup_close int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	int mfd;

	if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_SET_STRING, "size", "4m", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return err_set(err, errno, "cannot create the container's init layer");
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mfd < 0)
		return err_set(err, errno, "cannot mount the container's init layer");
	return mfd;
}

/* mkdir -p of path's parents inside dirfd (a tmpfs of the container's own). */
static int make_parents(int dirfd, const char *path, struct sk_err *err)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return err_set(err, ENAMETOOLONG, "'%s'", path);
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
			return err_set(err, errno, "cannot create '%s' in the init layer", buf);
		*p = '/';
	}
	return 0;
}

static int write_file_into(int fsfd, const char *path, const char *data, size_t len,
			   struct sk_err *err)
{
	cleanup_close int out = -1;

	if (make_parents(fsfd, path, err) < 0)
		return -1;
	out = openat(fsfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0)
		return err_set(err, errno, "cannot create '%s' in the init layer", path);
	if (fs_write_all(out, data, len) < 0)
		return err_set(err, errno, "cannot write '%s' in the init layer", path);
	return 0;
}

static const char *relative(const char *path)
{
	while (*path == '/')
		path++;
	return path;
}

int mounts_init_layer(const struct rt_spec *spec, struct sk_err *err)
{
	cleanup_close int fs = files_fs_open(err);

	if (fs < 0)
		return -1;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct rt_mount *m = &spec->mounts[i];

		if (m->content && write_file_into(fs, relative(m->destination), m->content,
						  m->content_len, err) < 0)
			return -1;
	}
	return steal_fd(&fs);
}

/* A file of the container's own (its /etc/hostname, hosts, resolv.conf) from
 * the init layer: no file of the store is bound, so nothing in the
 * container's mountinfo names the store (docker's do) and nothing of the host
 * is shared. The init layer below gives it a target without a copy-up. */
static int mount_content(int rootfd, const struct rt_mount *m, const struct mount_opts *mo,
			 int init_layer, struct sk_err *err)
{
	cleanup_close int tree = -1;
	cleanup_close int target = -1;

	tree = open_tree(init_layer, relative(m->destination), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return err_set(err, errno, "cannot bind '%s'", m->destination);
	target = rootfs_open_target(rootfd, m->destination, false, err);
	if (target < 0)
		return -1;
	if (attach_tree(tree, false, mo->attrs, target, err) < 0)
		return err_wrap(err, "'%s'", m->destination);
	return 0;
}

static int mount_one(int rootfd, const struct rt_mount *m, int init_layer, struct sk_err *err)
{
	cleanup_close int target = -1;
	struct mount_opts mo;

	if (parse_mount_opts(m, &mo, err) < 0)
		return -1;
	if (m->content)
		return mount_content(rootfd, m, &mo, init_layer, err);
	if (mo.bind)
		return mount_bind(rootfd, m, &mo, err);
	target = rootfs_open_target(rootfd, m->destination, true, err);
	if (target < 0)
		return -1;
	if (mount_new_fs(m->type, m->source, mo.data, mo.attrs, target, err) == 0)
		return 0;
	if (!strcmp(m->type, "sysfs") && (err->errnum == EPERM || err->errnum == EBUSY))
		return mount_sys_fallback(target, &mo, err);
	return err_wrap(err, "cannot mount '%s'", m->destination);
}

/* Before anything is mounted on the root: new volumes take the image's
 * content at their mount points, as docker copies it at create. */
static int populate_volumes(int rootfd, const struct rt_spec *spec, struct sk_err *err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct rt_mount *m = &spec->mounts[i];
		struct mount_opts mo;

		if (!m->options || !strstr(m->options, "populate"))
			continue;
		if (parse_mount_opts(m, &mo, err) < 0)
			return -1;
		if (mo.populate && volume_copy_up(rootfd, m->destination, m->source, err) < 0)
			return -1;
	}
	return 0;
}

int mounts_apply(int rootfd, const struct rt_spec *spec, int init_layer, struct sk_err *err)
{
	if (populate_volumes(rootfd, spec, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct rt_mount *m = &spec->mounts[i];

		if (mount_one(rootfd, m, init_layer, err) < 0)
			return -1;
		if (!strcmp(m->destination, "/dev") && !strcmp(m->type, "tmpfs") &&
		    devices_create(rootfd, spec->privileged, err) < 0)
			return -1;
	}
	return 0;
}

static int mask_one(int rootfd, const char *path, struct sk_err *err)
{
	cleanup_close int fd = fs_open_in_root_nofollow(rootfd, path, O_PATH, 0);
	cleanup_close int treefd = -1;
	cleanup_close int tree = -1;
	struct stat st;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return err_set(err, fd < 0 ? -fd : errno, "cannot mask '%s'", path);
	if (S_ISDIR(st.st_mode))
		return mount_new_fs("tmpfs", "tmpfs", "size=0", MOUNT_ATTR_RDONLY, fd, err) < 0
			       ? err_wrap(err, "cannot mask '%s'", path)
			       : 0;
	/* The container's own /dev/null: the host's would be an inode its root
	 * could chmod (crun and runc bind the container's too). Rootless, that
	 * node is the host's, bound: owned by a user the namespace cannot map. */
	treefd = fs_open_in_root_nofollow(rootfd, "/dev/null", O_PATH, 0);
	if (treefd < 0)
		return err_set(err, -treefd, "cannot mask '%s': no /dev/null in the container", path);
	tree = open_tree_clone(treefd, "", false);
	if (tree < 0 || attach_tree(tree, false, 0, fd, err) < 0)
		return err_wrap(err, "cannot mask '%s'", path);
	return 0;
}

int mounts_mask_paths(int rootfd, const struct strv *paths, struct sk_err *err)
{
	for (size_t i = 0; i < paths->n; i++)
		if (mask_one(rootfd, paths->v[i], err) < 0)
			return -1;
	return 0;
}

static int readonly_one(int rootfd, const char *path, struct sk_err *err)
{
	cleanup_close int fd = fs_open_in_root_nofollow(rootfd, path, O_PATH, 0);
	cleanup_close int treefd = -1;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return err_set(err, -fd, "cannot open '%s'", path);
	treefd = open_tree_clone(fd, "", true);
	if (treefd < 0)
		return err_set(err, errno, "cannot make '%s' read-only", path);
	if (attach_tree(treefd, true, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					      MOUNT_ATTR_NOEXEC,
			fd, err) < 0)
		return err_wrap(err, "cannot make '%s' read-only", path);
	return 0;
}

int mounts_readonly_paths(int rootfd, const struct strv *paths, struct sk_err *err)
{
	for (size_t i = 0; i < paths->n; i++)
		if (readonly_one(rootfd, paths->v[i], err) < 0)
			return -1;
	return 0;
}

/*
 * A container's file system from the host (copy.h): opening it (the running
 * process's root, or a detached overlay mount), and the tar of it that
 * export writes. The copies of `cp` are in cp.c.
 */
#include "runtime/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/image_config.h"
#include "image/layer_write.h"
#include "runtime/userns.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

/* ---- the image's layers ---- */

/* The paths of the image's layers, top first, each once (overlay refuses a
 * directory twice; the topmost place of a repeated layer gives the same tree). */
static int image_layer_paths(struct store *s, const char *config_digest, struct strv *out,
			     struct sk_err *err)
{
	struct store_image img = {0};
	struct image_config cfg = {0};
	char path[4400];
	int ret = 0;

	snprintf(img.config_digest, sizeof(img.config_digest), "%s", config_digest);
	if (store_image_config(s, &img, &cfg, err) < 0)
		return err_wrap(err, "the container's image");
	for (size_t i = cfg.n_diff_ids; ret == 0 && i-- > 0;) {
		bool seen = false;
		for (size_t j = cfg.n_diff_ids - 1; j > i && !seen; j--)
			seen = !strcmp(cfg.diff_ids[j], cfg.diff_ids[i]);
		if (seen)
			continue;
		if (!store_layer_exists(s, cfg.diff_ids[i]))
			ret = err_set(err, ENOENT, "layer %s of the container's image is missing",
				      cfg.diff_ids[i]);
		store_layer_path(s, cfg.diff_ids[i], path, sizeof(path));
		if (ret == 0)
			ret = strv_push(out, path, err);
	}
	image_config_release(&cfg);
	return ret;
}

static int container_image_id(int dirfd, char out[DIGEST_STR_MAX], char **name, struct sk_err *err)
{
	struct ctr_config c;
	int ret = 0;

	if (ctr_config_read(dirfd, &c, err) < 0)
		return -1;
	if (!c.image_id || !digest_is_valid(c.image_id))
		ret = err_set(err, 0, "the container records no valid image");
	else
		snprintf(out, DIGEST_STR_MAX, "%s", c.image_id);
	if (ret == 0 && name)
		*name = c.image ? strdup(c.image) : NULL;
	ctr_config_release(&c);
	return ret;
}

/* ---- a stopped container: a detached overlay ---- */

static int fsconfig_string(int fsfd, const char *key, const char *value, struct sk_err *err)
{
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0)
		return err_set(err, errno, "overlay option %s", key);
	return 0;
}

/* lowerdir= for kernels without lowerdir+ (before 6.8): ':' separates. */
static int lowerdir_classic(int fsfd, const char *const *lowers, size_t n, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(1 << 20);

	for (size_t i = 0; i < n; i++) {
		if (i && buf_append(&b, ":", 1) < 0)
			return err_set(err, E2BIG, "too many layers");
		for (const char *p = lowers[i]; *p; p++)
			if (((*p == ':' || *p == '\\' || *p == ',') &&
			     buf_append(&b, "\\", 1) < 0) ||
			    buf_append(&b, p, 1) < 0)
				return err_set(err, E2BIG, "too many layers");
	}
	return fsconfig_string(fsfd, "lowerdir", b.data, err);
}

static int overlay_create(const char *const *lowers, size_t n, const char *upper, const char *work,
			  bool userxattr, struct sk_err *err)
{
	cleanup_close int fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	bool plus = true;

	if (fsfd < 0)
		return err_set(err, errno, "cannot open overlayfs");
	for (size_t i = 0; i < n && plus; i++) {
		if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) ==
		    0)
			continue;
		if (errno != EINVAL || i > 0)
			return err_set(err, errno, "overlay layer '%s'", lowers[i]);
		plus = false;
	}
	if (!plus && lowerdir_classic(fsfd, lowers, n, err) < 0)
		return -1;
	if (upper && (fsconfig_string(fsfd, "upperdir", upper, err) < 0 ||
		      fsconfig_string(fsfd, "workdir", work, err) < 0))
		return -1;
	if (userxattr && syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return err_set(err, errno, "overlay option userxattr");
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return err_set(err, errno, "cannot create the container's overlay");
	return steal_fd(&fsfd);
}

/* The mount is never attached: its fd is the root, and it goes with the fd. */
static int overlay_detached(const char *const *lowers, size_t n, const char *upper,
			    const char *work, struct sk_err *err)
{
	bool rootless = userns_is_rootless();
	cleanup_close int fsfd = overlay_create(lowers, n, upper, work, rootless, err);
	unsigned attrs = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | (upper ? 0 : MOUNT_ATTR_RDONLY);
	int mfd;

	/* Rootless: mounting needs a mount namespace of our user namespace. */
	if (fsfd < 0 && err->errnum == EPERM && rootless && unshare(CLONE_NEWNS) == 0) {
		err_clear(err);
		fsfd = overlay_create(lowers, n, upper, work, rootless, err);
	}
	if (fsfd < 0)
		return -1;
	mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return err_set(err, errno, "cannot mount the container's overlay");
	return mfd;
}

static int mount_stopped(struct store *s, struct ctr_fs *fs, bool writable, struct sk_err *err)
{
	char image_id[DIGEST_STR_MAX], dir[4400], upper[4500], work[4500];
	struct strv lowers = {0};
	int ret;

	if (container_image_id(fs->dirfd, image_id, NULL, err) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%s/%s", s->root, CTR_DIR, fs->id);
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	/* read-only: the upper directory is just the top layer */
	if (!writable && (ret = strv_push(&lowers, upper, err)) < 0)
		return -1;
	ret = image_layer_paths(s, image_id, &lowers, err);
	/* a "volatile" mount of an earlier run left work/work behind: overlay
	 * refuses to mount on it */
	if (ret == 0 && writable)
		ret = fs_remove_tree(fs->dirfd, "work/work", err);
	if (ret == 0) {
		fs->root_fd = overlay_detached((const char *const *)lowers.v, lowers.n,
					       writable ? upper : NULL, work, err);
		ret = fs->root_fd < 0 ? -1 : 0;
	}
	strv_release(&lowers);
	return ret;
}

/* ---- a running container: its process's root ---- */

/* 1 when the container turned out not to run (any more). */
static int open_running(const struct ctr_state *st, struct ctr_fs *fs, struct sk_err *err)
{
	char proc[64];

	fs->pidfd = ctr_pidfd(st);
	if (fs->pidfd < 0)
		return 1;
	snprintf(proc, sizeof(proc), "/proc/%d/root", (int)st->pid);
	fs->root_fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0)
		return err_set(err, errno, "cannot open the root of container %.12s", fs->id);
	/* Alive after the open: the pid named this process when it was opened
	 * (a dead process never comes back; its pid could have been reused). */
	if (syscall(SYS_pidfd_send_signal, fs->pidfd, 0, NULL, 0) < 0) {
		close_and_reset(&fs->root_fd);
		close_and_reset(&fs->pidfd);
		return 1;
	}
	fs->running = true;
	return 0;
}

static int open_vfs_root(struct ctr_fs *fs, struct sk_err *err)
{
	fs->root_fd = openat(fs->dirfd, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fs->root_fd < 0)
		return err_set(err, errno, "container %.12s has no root file system yet", fs->id);
	return 0;
}

static bool is_running(const struct ctr_state *st)
{
	return st->status == CTR_RUNNING || st->status == CTR_RESTARTING;
}

int ctr_fs_open(struct store *s, const char *ref, enum ctr_fs_mode mode, bool vfs,
		struct ctr_fs *fs, struct sk_err *err)
{
	bool writable = mode == CTR_FS_WRITE;
	struct ctr_state st;
	struct ctr_config cfg;
	int r;

	*fs = (struct ctr_fs)CTR_FS_INIT;
	if (ctr_resolve(s, ref, fs->id, err) < 0 || (fs->dirfd = ctr_open_dir(s, fs->id, err)) < 0)
		return -1;
	if (ctr_config_read(fs->dirfd, &cfg, err) < 0)
		return -1;
	snprintf(fs->name, sizeof(fs->name), "%s", cfg.name);
	ctr_config_release(&cfg);
	if (ctr_state_load(fs->dirfd, &st, err) < 0)
		return -1;
	if (is_running(&st) && mode == CTR_FS_LAYERS && !vfs) {
		fs->running = true; /* its upper directory may change while we read */
		return mount_stopped(s, fs, false, err);
	}
	if (is_running(&st)) {
		r = open_running(&st, fs, err);
		/* Rootless: a container of another user namespace keeps us out of
		 * its process (ptrace rules). Reading takes its layers and upper
		 * directory instead (not its volumes); writing cannot. */
		if (r < 0 && (err->errnum == EACCES || err->errnum == EPERM) && !vfs &&
		    userns_is_rootless()) {
			if (mode != CTR_FS_READ)
				return err_set(err, EPERM,
					       "container %.12s runs in another user namespace: "
					       "stop it to copy into it (rootless)",
					       fs->id);
			err_clear(err);
			fs->running = true;
			return mount_stopped(s, fs, false, err);
		}
		if (r <= 0)
			return r;
	}
	if (writable) {
		/* Not started while we write into its upper directory. */
		fs->lockfd = ctr_lock(fs->dirfd, err);
		if (fs->lockfd < 0 || ctr_state_read(fs->dirfd, &st, err) < 0)
			return -1;
		if (is_running(&st) && ctr_pidfd(&st) >= 0)
			return err_set(err, EBUSY, "container %.12s started meanwhile: try again",
				       fs->id);
	}
	return vfs ? open_vfs_root(fs, err) : mount_stopped(s, fs, writable, err);
}

void ctr_fs_close(struct ctr_fs *fs)
{
	close_and_reset(&fs->root_fd);
	close_and_reset(&fs->pidfd);
	close_and_reset(&fs->lockfd);
	close_and_reset(&fs->dirfd);
}

/* ---- diff and commit's view ---- */

int ctr_layers_open(struct store *s, const char *ref, bool vfs, struct ctr_layers *l,
		    struct sk_err *err)
{
	cleanup_close int dirfd = -1;
	struct strv paths = {0};
	struct ctr_state st;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	l->upper_fd = -1;
	if (ctr_resolve(s, ref, l->id, err) < 0 || (dirfd = ctr_open_dir(s, l->id, err)) < 0)
		return -1;
	if (vfs)
		return err_set(err, ENOTSUP,
			       "container %.12s: the vfs storage driver keeps no record of changes",
			       l->id);
	if (container_image_id(dirfd, l->image_id, &l->image_name, err) < 0 ||
	    ctr_state_load(dirfd, &st, err) < 0 ||
	    image_layer_paths(s, l->image_id, &paths, err) < 0) {
		strv_release(&paths);
		return -1;
	}
	l->running = is_running(&st);
	l->upper_fd = openat(dirfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l->upper_fd < 0)
		ret = err_set(err, errno, "container %.12s has no upper directory", l->id);
	l->layer_fds = calloc(paths.n ? paths.n : 1, sizeof(int));
	if (ret == 0 && !l->layer_fds)
		ret = err_set(err, ENOMEM, "cannot open the layers");
	for (size_t i = 0; ret == 0 && i < paths.n; i++) {
		int fd = open(paths.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			ret = err_set(err, errno, "cannot open layer '%s'", paths.v[i]);
		else
			l->layer_fds[l->n_layers++] = fd;
	}
	strv_release(&paths);
	return ret;
}

void ctr_layers_close(struct ctr_layers *l)
{
	for (size_t i = 0; i < l->n_layers; i++)
		close(l->layer_fds[i]);
	free(l->layer_fds);
	free(l->image_name);
	close_and_reset(&l->upper_fd);
	memset(l, 0, sizeof(*l));
	l->upper_fd = -1;
}

/* ---- export ---- */

int ctr_export(struct ctr_fs *fs, int out_fd, struct sk_err *err)
{
	struct layer_write_opts o = {.tolerate_changes = fs->running, .skip_kernel_fs = true};
	struct layer_write_stats st = {0};
	struct tar_result res;
	cleanup_close int dfd = fs_open_in_root(fs->root_fd, "/", O_RDONLY | O_DIRECTORY, 0);

	if (dfd < 0)
		return err_set(err, -dfd, "cannot open the container's root");
	if (layer_write_fd(dfd, &o, COMPRESSION_NONE, 0, out_fd, &res, &st, err) < 0)
		return -1;
	layer_write_warn_skipped(&st);
	return 0;
}

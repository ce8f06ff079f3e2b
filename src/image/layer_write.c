/*
 * Directory trees to tar streams (layer_write.h). A depth-first walk, each
 * directory's names sorted, every object reached as "parent fd + one name"
 * with no symlink followed; the tar itself is tar_write.c's.
 */
#include "image/layer_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/log.h"

#define PATH_CAP 65536		   /* names in a tar: pax lifts ustar's limits */
#define CHUNK (1024 * 1024)	   /* file data read at a time */
#define XATTR_LIST_MAX_BYTES 65536 /* the kernel's own limit for a name list */
#define XATTR_VALUE_MAX_BYTES 65536
#define XATTRS_MAX 128
#define SYMLINK_MAX 4096
#define DIR_MAX_NAMES 10000000
#define RETRIES 8 /* an object that keeps changing type under us is an error */
/* write_once's "err is set" result, apart from the -errno of a vanished object */
#define FAILED INT_MIN

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* First name of each multiply-linked inode: later names become hard links. */
struct link_slot {
	dev_t dev;
	ino_t ino;
	char *name; /* NULL: free slot */
};

struct walk {
	struct tar_writer *w;
	const struct layer_write_opts *o;
	struct layer_write_stats *st;
	char *path; /* the current entry's name */
	size_t len;
	unsigned depth;
	struct link_slot *links;
	size_t links_cap, links_used;
	uint8_t *chunk;
};

/* ---- names ---- */

/* Append "/base" (or "base" at the top) to the current name; returns the old length. */
static int path_push(struct walk *wk, const char *base, size_t *saved, struct sk_err *err)
{
	size_t blen = strlen(base), sep = wk->len ? 1 : 0;

	if (wk->len + sep + blen + 1 > PATH_CAP)
		return err_set(err, ENAMETOOLONG, "'%.200s...': name too long for a layer",
			       wk->path);
	*saved = wk->len;
	if (sep)
		wk->path[wk->len++] = '/';
	memcpy(wk->path + wk->len, base, blen + 1);
	wk->len += blen;
	return 0;
}

static void path_pop(struct walk *wk, size_t saved)
{
	wk->len = saved;
	wk->path[saved] = '\0';
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The names in directory dfd (not . and ..), sorted. */
static int list_dir(int dfd, char ***out, size_t *n_out, struct sk_err *err)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set(err, errno, "cannot read directory");
	}
	rewinddir(d); /* the dup shares its offset with dfd */
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **grown;
			cap = cap ? cap * 2 : 32;
			grown = cap > DIR_MAX_NAMES ? NULL : realloc(names, cap * sizeof(*names));
			if (!grown)
				goto nomem;
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		int e = errno;
		closedir(d);
		names_free(names, n);
		return err_set(err, e, "cannot read directory");
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*n_out = n;
	return 0;
nomem:
	closedir(d);
	names_free(names, n);
	return err_set(err, ENOMEM, "cannot read directory");
}

/* ---- hard links ---- */

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h =
	    ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4fULL);

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct link_slot *link_find(struct walk *wk, dev_t dev, ino_t ino)
{
	if (!wk->links_cap)
		return NULL;
	for (size_t i = link_hash(dev, ino, wk->links_cap);; i = (i + 1) & (wk->links_cap - 1)) {
		struct link_slot *s = &wk->links[i];
		if (!s->name || (s->dev == dev && s->ino == ino))
			return s;
	}
}

static int link_grow(struct walk *wk)
{
	size_t cap = wk->links_cap ? wk->links_cap * 2 : 256;
	struct link_slot *old = wk->links, *slots = calloc(cap, sizeof(*slots));
	size_t old_cap = wk->links_cap;

	if (!slots)
		return -1;
	wk->links = slots;
	wk->links_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].name)
			*link_find(wk, old[i].dev, old[i].ino) = old[i];
	free(old);
	return 0;
}

/* The first name of st's inode, or NULL after recording the current name as it. */
static const char *link_first_name(struct walk *wk, const struct stat *st, struct sk_err *err,
				   int *failed)
{
	struct link_slot *s;

	*failed = 0;
	if ((wk->links_used + 1) * 2 > wk->links_cap && link_grow(wk) < 0) {
		*failed = err_set(err, ENOMEM, "cannot track hard links");
		return NULL;
	}
	s = link_find(wk, st->st_dev, st->st_ino);
	if (s->name)
		return s->name;
	s->name = strdup(wk->path);
	if (!s->name) {
		*failed = err_set(err, ENOMEM, "cannot track hard links");
		return NULL;
	}
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	wk->links_used++;
	return NULL;
}

/* ---- extended attributes ---- */

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool xattr_is_overlay(const char *name)
{
	return starts_with(name, "trusted.overlay.") || starts_with(name, "user.overlay.");
}

/* What a layer carries, as unpack applies it: the rest (security.selinux,
 * system.*) describes the host, not the image. */
static bool xattr_kept(const char *name)
{
	if (xattr_is_overlay(name))
		return false;
	return !strcmp(name, "security.capability") || starts_with(name, "user.") ||
	       starts_with(name, "trusted.");
}

struct xattrs {
	char *list; /* the kernel's NUL-separated names */
	struct tar_xattr v[XATTRS_MAX];
	size_t n;
	bool opaque, redirect, metacopy;
};

static void xattrs_release(struct xattrs *x)
{
	for (size_t i = 0; i < x->n; i++)
		free((void *)x->v[i].value);
	free(x->list);
	memset(x, 0, sizeof(*x));
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const struct tar_xattr *)a)->name, ((const struct tar_xattr *)b)->name);
}

/* overlay's own attributes: only "opaque" means something in a layer. */
static void xattr_note_overlay(int fd, const char *name, struct xattrs *x)
{
	char v[2];
	const char *key = name + (starts_with(name, "user.") ? 13 : 16);

	if (!strcmp(key, "opaque"))
		x->opaque = fgetxattr(fd, name, v, sizeof(v)) == 1 && v[0] == 'y';
	else if (!strcmp(key, "redirect"))
		x->redirect = true;
	else if (!strcmp(key, "metacopy"))
		x->metacopy = true;
}

static int xattr_read_one(int fd, const char *name, struct xattrs *x, struct sk_err *err)
{
	ssize_t n = fgetxattr(fd, name, NULL, 0);
	void *value;

	if (n < 0)
		return errno == ENODATA ? 0
					: err_set(err, errno, "cannot read attribute '%s'", name);
	if (n > XATTR_VALUE_MAX_BYTES || x->n == XATTRS_MAX)
		return err_set(err, E2BIG, "attribute '%s' is too large", name);
	value = malloc(n ? (size_t)n : 1);
	if (!value)
		return err_set(err, ENOMEM, "cannot read attribute '%s'", name);
	n = fgetxattr(fd, name, value, (size_t)n);
	if (n < 0) {
		free(value);
		return errno == ENODATA ? 0
					: err_set(err, errno, "cannot read attribute '%s'", name);
	}
	x->v[x->n++] = (struct tar_xattr){.name = name, .value = value, .len = (size_t)n};
	return 0;
}

static int xattrs_read(int fd, bool overlay, struct xattrs *x, struct sk_err *err)
{
	ssize_t len = flistxattr(fd, NULL, 0);

	memset(x, 0, sizeof(*x));
	if (len <= 0)
		return len < 0 && errno != ENOTSUP ? err_set(err, errno, "cannot list attributes")
						   : 0;
	if (len > XATTR_LIST_MAX_BYTES || !(x->list = malloc((size_t)len + 1)))
		return err_set(err, ENOMEM, "cannot list attributes");
	len = flistxattr(fd, x->list, (size_t)len);
	if (len < 0)
		return errno == ERANGE ? err_set(err, EAGAIN, "attributes changed while read")
				       : err_set(err, errno, "cannot list attributes");
	x->list[len] = '\0';
	for (char *name = x->list; name < x->list + len; name += strlen(name) + 1) {
		if (overlay && xattr_is_overlay(name))
			xattr_note_overlay(fd, name, x);
		else if (xattr_kept(name) && xattr_read_one(fd, name, x, err) < 0)
			return -1;
	}
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(x->v[0]), cmp_xattr);
	return 0;
}

/* ---- entries ---- */

static void entry_from_stat(struct tar_entry *e, const char *name, enum tar_type type,
			    const struct stat *st)
{
	*e = (struct tar_entry){
	    .name = name,
	    .type = type,
	    .mode = st->st_mode & 07777,
	    .uid = st->st_uid,
	    .gid = st->st_gid,
	    .mtime = st->st_mtim.tv_sec,
	};
}

static int emit(struct walk *wk, const struct tar_entry *e, struct sk_err *err)
{
	wk->st->entries++;
	if (tar_write_header(wk->w, e, err) < 0)
		return -1;
	return e->type == TAR_REG && e->size ? 0 : tar_end_entry(wk->w, err);
}

static int copy_data(struct walk *wk, int fd, uint64_t size, struct sk_err *err)
{
	uint64_t done = 0;

	if (wk->w->measure) /* the size is all a measuring writer needs */
		return tar_write_data(wk->w, NULL, size, err) < 0 ? -1 : tar_end_entry(wk->w, err);
	while (done < size) {
		size_t want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		ssize_t n = read(fd, wk->chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, errno, "cannot read");
		if (n == 0) {
			if (!wk->o->tolerate_changes)
				return err_set(err, 0, "file shrank while being read");
			wk->st->changed++;
			memset(wk->chunk, 0, want);
			n = (ssize_t)want;
		}
		if (tar_write_data(wk->w, wk->chunk, (size_t)n, err) < 0)
			return -1;
		done += (uint64_t)n;
	}
	return tar_end_entry(wk->w, err);
}

/* A hard link to an inode already written: 1 when written as one. */
static int maybe_hardlink(struct walk *wk, const struct stat *st, struct sk_err *err)
{
	struct tar_entry e;
	const char *first;
	int failed;

	if (st->st_nlink < 2)
		return 0;
	first = link_first_name(wk, st, err, &failed);
	if (failed)
		return -1;
	if (!first)
		return 0;
	entry_from_stat(&e, wk->path, TAR_HARDLINK, st);
	e.linkname = first;
	return emit(wk, &e, err) < 0 ? -1 : 1;
}

/* A regular file: opened as O_PATH, read only once it is known to be one. */
static int write_regular(struct walk *wk, int pfd, const char *base, struct sk_err *err)
{
	cleanup_close int pathfd =
	    base[0] ? openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC) : dup(pfd);
	cleanup_close int fd = -1;
	struct xattrs xa = {0};
	struct tar_entry e;
	struct stat st;
	char proc[64];
	int r;

	if (pathfd < 0 || fstat(pathfd, &st) < 0)
		return -errno; /* vanished or changed: the caller looks again */
	if (!S_ISREG(st.st_mode))
		return -EAGAIN;
	r = maybe_hardlink(wk, &st, err);
	if (r != 0)
		return r < 0 ? FAILED : 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "cannot open"), FAILED;
	if (xattrs_read(fd, wk->o->overlay, &xa, err) < 0)
		return xattrs_release(&xa), FAILED;
	if (xa.metacopy) {
		xattrs_release(&xa);
		return err_set(err, 0, "overlay metacopy files are not supported"), FAILED;
	}
	entry_from_stat(&e, wk->path, TAR_REG, &st);
	e.size = (uint64_t)st.st_size;
	e.xattrs = xa.v;
	e.n_xattrs = xa.n;
	wk->st->entries++;
	r = tar_write_header(wk->w, &e, err);
	xattrs_release(&xa);
	if (r < 0 || copy_data(wk, fd, e.size, err) < 0)
		return FAILED;
	return 0;
}

static int write_symlink(struct walk *wk, int pfd, const char *base, const struct stat *st,
			 struct sk_err *err)
{
	char target[SYMLINK_MAX + 1];
	struct tar_entry e;
	ssize_t n = readlinkat(pfd, base, target, sizeof(target));
	int r;

	if (n < 0)
		return errno == EINVAL ? -EAGAIN : -errno;
	if (n > SYMLINK_MAX)
		return err_set(err, ENAMETOOLONG, "symlink target too long"), FAILED;
	target[n] = '\0';
	r = maybe_hardlink(wk, st, err);
	if (r != 0)
		return r < 0 ? FAILED : 0;
	entry_from_stat(&e, wk->path, TAR_SYMLINK, st);
	e.linkname = target;
	return emit(wk, &e, err) < 0 ? FAILED : 0;
}

/* overlay's whiteout (a 0:0 character device) as docker's ".wh.NAME". Its
 * metadata is fixed: overlay and unpack give whiteouts whatever owner and
 * time they were made with, and equal layers must give equal tars. */
static int write_whiteout(struct walk *wk, const char *base, struct sk_err *err)
{
	const char *slash = strrchr(wk->path, '/');
	size_t dir = slash ? (size_t)(slash - wk->path) + 1 : 0;
	struct tar_entry e = {.type = TAR_REG, .mode = 0600};
	cleanup_free char *name = NULL;

	if (asprintf(&name, "%.*s" WH_PREFIX "%s", (int)dir, wk->path, base) < 0)
		return err_set(err, ENOMEM, "cannot name a whiteout"), FAILED;
	e.name = name;
	return emit(wk, &e, err) < 0 ? FAILED : 0;
}

static int write_node(struct walk *wk, const char *base, const struct stat *st, struct sk_err *err)
{
	struct tar_entry e;
	int r;

	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0) && wk->o->overlay)
		return write_whiteout(wk, base, err);
	if (S_ISSOCK(st->st_mode)) {
		if (!wk->st->skipped++)
			snprintf(wk->st->first_skipped, sizeof(wk->st->first_skipped), "%s",
				 wk->path);
		return 0;
	}
	r = maybe_hardlink(wk, st, err);
	if (r != 0)
		return r < 0 ? FAILED : 0;
	entry_from_stat(&e, wk->path,
			S_ISFIFO(st->st_mode)  ? TAR_FIFO
			: S_ISBLK(st->st_mode) ? TAR_BLK
					       : TAR_CHR,
			st);
	e.devmajor = major(st->st_rdev);
	e.devminor = minor(st->st_rdev);
	return emit(wk, &e, err) < 0 ? FAILED : 0;
}

static int write_dir_contents(struct walk *wk, int dfd, struct sk_err *err);

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

/* What the kernel makes up rather than stores: never walked into. */
static bool on_kernel_fs(int dfd)
{
	static const long kinds[] = {PROC_SUPER_MAGIC,	  SYSFS_MAGIC,	      CGROUP_SUPER_MAGIC,
				     CGROUP2_SUPER_MAGIC, DEVPTS_SUPER_MAGIC, MQUEUE_MAGIC,
				     DEBUGFS_MAGIC,	  TRACEFS_MAGIC,      SECURITYFS_MAGIC,
				     BPF_FS_MAGIC};
	struct statfs sf;

	if (fstatfs(dfd, &sf) < 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (sf.f_type == kinds[i])
			return true;
	return false;
}

static int write_dir(struct walk *wk, int pfd, const char *base, struct sk_err *err)
{
	cleanup_close int dfd =
	    openat(pfd, base[0] ? base : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct xattrs xa = {0};
	struct tar_entry e;
	struct stat st;
	bool opaque;
	int r;

	if (dfd < 0)
		return errno == ENOTDIR || errno == ELOOP ? -EAGAIN : -errno;
	if (fstat(dfd, &st) < 0)
		return -errno;
	if (xattrs_read(dfd, wk->o->overlay, &xa, err) < 0)
		return xattrs_release(&xa), FAILED;
	if (xa.redirect) {
		xattrs_release(&xa);
		return err_set(err, 0, "overlay directory redirects are not supported"), FAILED;
	}
	entry_from_stat(&e, wk->path, TAR_DIR, &st);
	e.xattrs = xa.v;
	e.n_xattrs = xa.n;
	r = emit(wk, &e, err);
	opaque = xa.opaque;
	xattrs_release(&xa);
	if (r == 0 && opaque) {
		size_t saved;
		struct tar_entry o = {
		    .type = TAR_REG, .mode = st.st_mode & 0777, .uid = st.st_uid, .gid = st.st_gid};
		if (path_push(wk, WH_OPAQUE, &saved, err) < 0)
			return FAILED;
		o.name = wk->path;
		r = emit(wk, &o, err);
		path_pop(wk, saved);
	}
	if (r < 0)
		return FAILED;
	if (wk->o->skip_kernel_fs && on_kernel_fs(dfd))
		return 0;
	return write_dir_contents(wk, dfd, err) < 0 ? FAILED : 0;
}

/* One object; -EAGAIN when it changed type between the looks (a running
 * container), any other negative errno when it vanished, FAILED with err set. */
static int write_once(struct walk *wk, int pfd, const char *base, struct sk_err *err)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW | (base[0] ? 0 : AT_EMPTY_PATH)) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return write_dir(wk, pfd, base, err);
	if (S_ISREG(st.st_mode))
		return write_regular(wk, pfd, base, err);
	if (S_ISLNK(st.st_mode))
		return write_symlink(wk, pfd, base, &st, err);
	return write_node(wk, base, &st, err);
}

static int write_entry(struct walk *wk, int pfd, const char *base, struct sk_err *err)
{
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		int r = write_once(wk, pfd, base, err);
		if (r == 0)
			return 0;
		if (r == FAILED)
			return err_wrap(err, "'%s'", wk->path);
		if (r == -ENOENT)
			return 0; /* removed while we walked: it is not part of the tree */
		if (r != -EAGAIN)
			return err_set(err, -r, "'%s'", wk->path);
	}
	return err_set(err, EAGAIN, "'%s' keeps changing while being read", wk->path);
}

static int write_dir_contents(struct walk *wk, int dfd, struct sk_err *err)
{
	char **names = NULL;
	size_t n = 0;
	int ret = 0;

	if (wk->depth >= LAYER_WRITE_MAX_DEPTH)
		return err_set(err, ELOOP, "'%.200s': more than %d levels of directories", wk->path,
			       LAYER_WRITE_MAX_DEPTH);
	if (list_dir(dfd, &names, &n, err) < 0)
		return err_wrap(err, "'%s'", wk->len ? wk->path : ".");
	wk->depth++;
	for (size_t i = 0; i < n && ret == 0; i++) {
		size_t saved;
		ret = path_push(wk, names[i], &saved, err);
		if (ret == 0) {
			ret = write_entry(wk, dfd, names[i], err);
			path_pop(wk, saved);
		}
	}
	wk->depth--;
	names_free(names, n);
	return ret;
}

/* ---- set-up ---- */

static int walk_init(struct walk *wk, struct tar_writer *w, const char *prefix,
		     const struct layer_write_opts *o, struct layer_write_stats *st,
		     struct sk_err *err)
{
	*wk = (struct walk){.w = w, .o = o, .st = st};
	wk->path = malloc(PATH_CAP);
	wk->chunk = w->measure ? NULL : malloc(CHUNK);
	if (!wk->path || (!w->measure && !wk->chunk))
		return err_set(err, ENOMEM, "cannot start a tar walk");
	wk->len = strlen(prefix);
	if (wk->len + 1 > PATH_CAP)
		return err_set(err, ENAMETOOLONG, "name too long");
	memcpy(wk->path, prefix, wk->len + 1);
	return 0;
}

static void walk_release(struct walk *wk)
{
	for (size_t i = 0; i < wk->links_cap; i++)
		free(wk->links[i].name);
	free(wk->links);
	free(wk->path);
	free(wk->chunk);
}

int layer_write_tree(struct tar_writer *w, int dirfd, const char *prefix,
		     const struct layer_write_opts *o, struct layer_write_stats *st,
		     struct sk_err *err)
{
	struct walk wk;
	int ret = walk_init(&wk, w, prefix, o, st, err);

	if (ret == 0)
		ret = write_dir_contents(&wk, dirfd, err);
	walk_release(&wk);
	return ret;
}

int layer_write_object(struct tar_writer *w, int parent_fd, const char *base, const char *name,
		       const struct layer_write_opts *o, struct layer_write_stats *st,
		       struct sk_err *err)
{
	struct walk wk;
	int ret = walk_init(&wk, w, name, o, st, err);

	if (ret == 0)
		ret = write_entry(&wk, parent_fd, base, err);
	walk_release(&wk);
	return ret;
}

int layer_write_fd(int dirfd, const struct layer_write_opts *o, enum compression comp, int level,
		   int out_fd, struct tar_result *res, struct layer_write_stats *st,
		   struct sk_err *err)
{
	struct tar_writer w;
	int ret = tar_writer_init(&w, comp, level, tar_sink_fd, &out_fd, err);

	if (ret == 0)
		ret = layer_write_tree(&w, dirfd, "", o, st, err);
	if (ret == 0)
		ret = tar_writer_finish(&w, res, err);
	tar_writer_release(&w);
	return ret;
}

void layer_write_warn_skipped(const struct layer_write_stats *st)
{
	if (st->skipped)
		log_warn("%" PRIu64 " socket%s left out (a tar cannot hold one): '%s'%s",
			 st->skipped, st->skipped > 1 ? "s" : "", st->first_skipped,
			 st->skipped > 1 ? " and others" : "");
	if (st->changed)
		log_warn("%" PRIu64 " file%s changed while being read", st->changed,
			 st->changed > 1 ? "s" : "");
}

/*
 * A container's changes from its upper directory (changes.h): a sorted walk
 * of the upper directory, each name looked up in the image's layers
 * (confined, no symlink followed) to tell an addition from a change.
 */
#include "runtime/changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

#define PATH_CAP 16384
#define MAX_DEPTH 512

struct walk {
	const struct ctr_layers *l;
	change_fn fn;
	void *ctx;
	char path[PATH_CAP]; /* "/a/b" */
	size_t len;
	unsigned depth;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of directory dfd; *n of them. */
static char **names_of(int dfd, size_t *n)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char **v = NULL;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			char **g = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));
			if (!g)
				break;
			v = g;
		}
		if (!(v[*n] = strdup(de->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

/* The object at the current path in the first layer that has it. */
static bool in_image(const struct walk *wk, struct stat *st)
{
	for (size_t i = 0; i < wk->l->n_layers; i++) {
		cleanup_close int fd =
		    fs_open_in_root_nofollow(wk->l->layer_fds[i], wk->path, O_PATH, 0);
		if (fd >= 0 && fstat(fd, st) == 0)
			return true;
	}
	return false;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int pfd, const char *name)
{
	cleanup_close int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char v[2];

	if (fd < 0)
		return false;
	return (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y') ||
	       (fgetxattr(fd, "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
}

static bool same_dir(const struct stat *a, const struct stat *b)
{
	return a->st_mode == b->st_mode && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int walk_dir(struct walk *wk, int dfd, bool hidden, bool *dir_reported, struct sk_err *err);

/* Record an addition or deletion: its directory counts as changed. */
static int report_with_parent(struct walk *wk, char kind, size_t parent_len, bool *dir_reported,
			      struct sk_err *err)
{
	if (!*dir_reported && parent_len > 0) {
		char saved = wk->path[parent_len];
		wk->path[parent_len] = '\0';
		int r = wk->fn(wk->ctx, 'C', wk->path, err);
		wk->path[parent_len] = saved;
		if (r < 0)
			return -1;
	}
	*dir_reported = true;
	return wk->fn(wk->ctx, kind, wk->path, err);
}

/* One name of the upper directory. hidden: below an opaque directory, where
 * nothing of the image shows through. */
static int walk_entry(struct walk *wk, int pfd, const char *name, bool hidden, size_t parent_len,
		      bool *parent_reported, struct sk_err *err)
{
	struct stat st, below;
	bool existed, reported = false, opaque;
	char kind;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "'%s'", wk->path);
	if (is_whiteout(&st))
		return report_with_parent(wk, 'D', parent_len, parent_reported, err);
	existed = !hidden && in_image(wk, &below);
	opaque = S_ISDIR(st.st_mode) && is_opaque(pfd, name);
	if (opaque && existed)
		kind = 'D';
	else if (!existed)
		kind = 'A';
	else if (S_ISDIR(st.st_mode) && S_ISDIR(below.st_mode) && same_dir(&st, &below))
		kind = 0;
	else
		kind = 'C';
	if (kind == 'C' && wk->fn(wk->ctx, 'C', wk->path, err) < 0)
		return -1;
	if ((kind == 'A' || kind == 'D') &&
	    report_with_parent(wk, kind, parent_len, parent_reported, err) < 0)
		return -1;
	reported = kind != 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	cleanup_close int dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "'%s'", wk->path);
	return walk_dir(wk, dfd, hidden || opaque, &reported, err);
}

static int walk_dir(struct walk *wk, int dfd, bool hidden, bool *dir_reported, struct sk_err *err)
{
	size_t n = 0, parent_len = wk->len;
	char **names = names_of(dfd, &n);
	int ret = 0;

	if (wk->depth++ >= MAX_DEPTH)
		ret = err_set(err, ELOOP, "'%s': too deep", wk->path);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		size_t blen = strlen(names[i]);
		if (parent_len + 1 + blen + 1 > PATH_CAP) {
			ret = err_set(err, ENAMETOOLONG, "'%s/%s'", wk->path, names[i]);
			break;
		}
		wk->path[parent_len] = '/';
		memcpy(wk->path + parent_len + 1, names[i], blen + 1);
		wk->len = parent_len + 1 + blen;
		ret = walk_entry(wk, dfd, names[i], hidden, parent_len, dir_reported, err);
		wk->len = parent_len;
		wk->path[parent_len] = '\0';
	}
	wk->depth--;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int ctr_changes(const struct ctr_layers *l, change_fn fn, void *ctx, struct sk_err *err)
{
	struct walk *wk = calloc(1, sizeof(*wk));
	bool root_reported = true; /* "/" itself is never reported */
	int ret;

	if (!wk)
		return err_set(err, ENOMEM, "diff");
	wk->l = l;
	wk->fn = fn;
	wk->ctx = ctx;
	ret = walk_dir(wk, l->upper_fd, false, &root_reported, err);
	free(wk);
	return ret;
}

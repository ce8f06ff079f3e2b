/*
 * skiff cp (copy.h): every direction is "a tar producer into a tar
 * extractor". The producer is layer_write (it never follows a symlink below
 * the object it starts from); the extractor below creates each entry as
 * "parent fd + one name" under a root fd:
 *   - the parent is resolved with openat2(RESOLVE_IN_ROOT): a symlink on
 *     the way (one the container planted, or one an earlier entry made) is
 *     followed as if the root were "/", never out of it;
 *   - the last component is created with O_EXCL / mkdirat / symlinkat and
 *     never followed; a name already there is replaced (a directory only by
 *     a directory, as docker refuses otherwise);
 * the root being the container's "/" for copies into a container, and the
 * destination directory for copies to the host. docker's rules decide what
 * the destination is (see cp_dest_plan).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/layer_write.h"
#include "runtime/copy.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define NAME_CAP 8192
#define DIR_TIMES_MAX 100000

/* ---- paths ---- */

/* Lexically clean a tar name or a path inside a container: "", "." and
 * leading "/" dropped, ".." applied without ever going above the top. */
static void clean_rel(const char *in, char *out, size_t cap)
{
	size_t len = 0;

	while (*in) {
		const char *end = strchrnul(in, '/');
		size_t n = (size_t)(end - in);
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else if (n > 0 && !(n == 1 && in[0] == '.') && len + n + 2 < cap) {
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, in, n);
			len += n;
		}
		in = *end ? end + 1 : end;
	}
	out[len] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* The last component of a cleaned path ("" for the top). */
static const char *base_of(const char *clean)
{
	const char *slash = strrchr(clean, '/');

	return slash ? slash + 1 : clean;
}

static void dir_of(const char *clean, char *out, size_t cap)
{
	const char *slash = strrchr(clean, '/');

	snprintf(out, cap, "%.*s", slash ? (int)(slash - clean) : 0, clean);
}

static void join(const char *a, const char *b, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", a, a[0] && b[0] ? "/" : "", b);
}

/* mkdir -p of a cleaned path inside root, each step confined. */
static int mkdirs_in_root(int root, const char *clean, struct sk_err *err)
{
	char sofar[NAME_CAP];
	size_t i = 0;

	for (;;) {
		const char *end = strchrnul(clean + i, '/');
		size_t n = (size_t)(end - clean);
		char parent[NAME_CAP];
		int fd;

		snprintf(sofar, sizeof(sofar), "%.*s", (int)n, clean);
		fd = fs_open_in_root(root, sofar[0] ? sofar : "/", O_PATH | O_DIRECTORY, 0);
		if (fd >= 0) {
			close(fd);
		} else if (fd == -ENOENT) {
			dir_of(sofar, parent, sizeof(parent));
			cleanup_close int pfd = fs_open_in_root(root, parent[0] ? parent : "/",
								O_PATH | O_DIRECTORY, 0);
			if (pfd < 0 || (mkdirat(pfd, base_of(sofar), 0755) < 0 && errno != EEXIST))
				return err_set(err, pfd < 0 ? -pfd : errno, "cannot create '%s'",
					       sofar);
		} else {
			return err_set(err, -fd, "cannot open '%s'", sofar);
		}
		if (!*end)
			return 0;
		i = n + 1;
	}
}

/* ---- the extractor ---- */

struct extract_to {
	int root;	    /* nothing is made outside it */
	const char *prefix; /* where entries go, inside root ("" = root itself) */
	bool chown;	    /* the entries' owners (else the files are ours) */
	bool host;	    /* messages: the host or the container */
};

struct dir_time {
	char *path;
	struct timespec times[2];
};

struct extract {
	const struct extract_to *t;
	struct archive *a;
	struct dir_time *dirs;
	size_t n_dirs;
	bool warned_device;
};

static int parent_fd(struct extract *x, const char *full, struct sk_err *err)
{
	char dir[NAME_CAP];
	int fd;

	dir_of(full, dir, sizeof(dir));
	fd = fs_open_in_root(x->t->root, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 0);
	if (fd == -ENOENT && mkdirs_in_root(x->t->root, dir, err) == 0)
		fd = fs_open_in_root(x->t->root, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 0);
	if (fd < 0 && !err->msg[0])
		err_set(err, -fd, "cannot open the directory of '%s'", full);
	return fd;
}

/* Room for a new entry of type type at pfd/base: 1 when a directory is
 * already there and the entry is one too (it is kept). */
static int make_room(int pfd, const char *base, mode_t type, const char *shown, struct sk_err *err)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "'%s'", shown);
	if (S_ISDIR(st.st_mode) && type == S_IFDIR)
		return 1;
	if (S_ISDIR(st.st_mode))
		return err_set(err, 0, "cannot overwrite directory '%s' with non-directory", shown);
	if (type == S_IFDIR)
		return err_set(err, 0, "cannot overwrite non-directory '%s' with directory", shown);
	if (unlinkat(pfd, base, 0) < 0)
		return err_set(err, errno, "cannot replace '%s'", shown);
	return 0;
}

static bool xattr_wanted(const char *name)
{
	if (!strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13))
		return false;
	return !strcmp(name, "security.capability") || !strncmp(name, "user.", 5) ||
	       !strncmp(name, "trusted.", 8);
}

/* Owner, mode, attributes of an open file or directory. */
static void finish_fd(struct extract *x, int fd, struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;

	if (x->t->chown && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		log_debug("cp: cannot chown '%s': %s", archive_entry_pathname(e), strerror(errno));
	fchmod(fd, archive_entry_perm(e) & 07777);
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		if (xattr_wanted(name))
			fsetxattr(fd, name, value, size, 0); /* best effort, as docker */
}

static void entry_times(struct archive_entry *e, struct timespec t[2])
{
	t[0].tv_sec =
	    archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
	t[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : 0;
	t[1].tv_sec = archive_entry_mtime(e);
	t[1].tv_nsec = archive_entry_mtime_nsec(e);
}

static int write_regular(struct extract *x, int pfd, const char *base, struct archive_entry *e,
			 const char *shown, struct sk_err *err)
{
	cleanup_close int fd =
	    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct timespec t[2];
	const void *block;
	size_t size;
	la_int64_t off;
	int r;

	if (fd < 0)
		return err_set(err, errno, "cannot create '%s'", shown);
	while ((r = archive_read_data_block(x->a, &block, &size, &off)) == ARCHIVE_OK) {
		if (fs_pwrite_all(fd, block, size, (off_t)off) < 0)
			return err_set(err, errno, "cannot write '%s'", shown);
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, 0, "reading '%s' from the tar stream: %s", shown,
			       archive_error_string(x->a));
	if (ftruncate(fd, archive_entry_size(e)) < 0)
		return err_set(err, errno, "cannot write '%s'", shown);
	finish_fd(x, fd, e);
	entry_times(e, t);
	futimens(fd, t);
	return 0;
}

static int write_dir(struct extract *x, int pfd, const char *base, const char *full,
		     struct archive_entry *e, const char *shown, bool exists, struct sk_err *err)
{
	cleanup_close int fd = -1;
	struct dir_time *g;

	if (!exists && mkdirat(pfd, base, 0700) < 0)
		return err_set(err, errno, "cannot create directory '%s'", shown);
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "cannot open directory '%s'", shown);
	finish_fd(x, fd, e);
	/* its time once everything inside is made */
	if (x->n_dirs == DIR_TIMES_MAX)
		return 0;
	g = realloc(x->dirs, (x->n_dirs + 1) * sizeof(*g));
	if (!g || !(g[x->n_dirs].path = strdup(full))) {
		if (g)
			x->dirs = g;
		return 0;
	}
	x->dirs = g;
	entry_times(e, x->dirs[x->n_dirs].times);
	x->n_dirs++;
	return 0;
}

static int write_link(struct extract *x, int pfd, const char *base, struct archive_entry *e,
		      const char *shown, struct sk_err *err)
{
	char clean[NAME_CAP], full[NAME_CAP], tdir[NAME_CAP];
	cleanup_close int tpfd = -1;

	clean_rel(archive_entry_hardlink(e), clean, sizeof(clean));
	join(x->t->prefix, clean, full, sizeof(full));
	dir_of(full, tdir, sizeof(tdir));
	tpfd = fs_open_in_root(x->t->root, tdir[0] ? tdir : "/", O_PATH | O_DIRECTORY, 0);
	if (tpfd < 0 || !clean[0] || linkat(tpfd, base_of(full), pfd, base, 0) < 0)
		return err_set(err, tpfd < 0 ? -tpfd : errno, "cannot link '%s' to '%s'", shown,
			       archive_entry_hardlink(e));
	return 0;
}

static int write_special(struct extract *x, int pfd, const char *base, struct archive_entry *e,
			 const char *shown, struct sk_err *err)
{
	mode_t type = archive_entry_filetype(e);
	struct timespec t[2];

	if (type == AE_IFLNK) {
		if (symlinkat(archive_entry_symlink(e), pfd, base) < 0)
			return err_set(err, errno, "cannot create symlink '%s'", shown);
	} else if (type == AE_IFIFO) {
		if (mkfifoat(pfd, base, archive_entry_perm(e) & 0777) < 0)
			return err_set(err, errno, "cannot create fifo '%s'", shown);
	} else if (mknodat(pfd, base, type | (archive_entry_perm(e) & 0777),
			   makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0) {
		if (errno != EPERM)
			return err_set(err, errno, "cannot create device '%s'", shown);
		if (!x->warned_device)
			log_warn(
			    "device nodes cannot be created here: '%s' and any others are left "
			    "out",
			    shown);
		x->warned_device = true;
		return 0;
	}
	if (x->t->chown && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
				    (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		log_debug("cp: cannot chown '%s': %s", shown, strerror(errno));
	entry_times(e, t);
	utimensat(pfd, base, t, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int extract_one(struct extract *x, struct archive_entry *e, struct sk_err *err)
{
	char clean[NAME_CAP], full[NAME_CAP];
	const char *raw = archive_entry_pathname(e);
	mode_t type = archive_entry_hardlink(e) ? S_IFREG : archive_entry_filetype(e);
	cleanup_close int pfd = -1;
	const char *base;
	int room;

	if (!raw)
		return err_set(err, 0, "a tar entry has no name");
	clean_rel(raw, clean, sizeof(clean));
	if (!clean[0])
		return 0; /* "./": the destination itself keeps what it has */
	join(x->t->prefix, clean, full, sizeof(full));
	base = base_of(full);
	pfd = parent_fd(x, full, err);
	if (pfd < 0)
		return -1;
	room = make_room(pfd, base, type, clean, err);
	if (room < 0)
		return -1;
	if (archive_entry_hardlink(e))
		return write_link(x, pfd, base, e, clean, err);
	if (type == AE_IFREG)
		return write_regular(x, pfd, base, e, clean, err);
	if (type == AE_IFDIR)
		return write_dir(x, pfd, base, full, e, clean, room == 1, err);
	if (type == AE_IFLNK || type == AE_IFIFO || type == AE_IFCHR || type == AE_IFBLK)
		return write_special(x, pfd, base, e, clean, err);
	return 0; /* sockets and the like: nothing to make */
}

static void apply_dir_times(struct extract *x)
{
	for (size_t i = x->n_dirs; i-- > 0;) {
		int fd = fs_open_in_root_nofollow(x->t->root, x->dirs[i].path,
						  O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0) {
			futimens(fd, x->dirs[i].times);
			close(fd);
		}
		free(x->dirs[i].path);
	}
	free(x->dirs);
	x->dirs = NULL;
	x->n_dirs = 0;
}

static int extract_stream(int in_fd, const struct extract_to *t, struct sk_err *err)
{
	struct extract x = {.t = t, .a = archive_read_new()};
	struct archive_entry *e;
	int r, ret = 0;

	if (!x.a)
		return err_set(err, ENOMEM, "cannot read the tar stream");
	archive_read_support_format_tar(x.a);
	archive_read_support_filter_gzip(x.a);
	if (archive_read_open_fd(x.a, in_fd, 1 << 16) != ARCHIVE_OK) {
		ret = err_set(err, 0, "cannot read the tar stream: %s", archive_error_string(x.a));
		goto out;
	}
	while (ret == 0 &&
	       ((r = archive_read_next_header(x.a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN))
		ret = extract_one(&x, e, err);
	if (ret == 0 && r != ARCHIVE_EOF)
		ret = err_set(err, 0, "reading the tar stream: %s", archive_error_string(x.a));
out:
	apply_dir_times(&x);
	archive_read_free(x.a);
	return ret;
}

/* ---- the producer ---- */

struct producer {
	int obj_fd;	  /* O_PATH fd of the object */
	const char *name; /* its entry name; NULL: its contents, unnamed */
	int out_fd;
	bool skip_kernel_fs;
	struct layer_write_stats st;
	struct sk_err err;
	int ret;
};

static int produce(struct producer *p)
{
	struct layer_write_opts o = {.tolerate_changes = true, .skip_kernel_fs = p->skip_kernel_fs};
	struct tar_writer w;
	struct tar_result res;
	int ret = tar_writer_init(&w, COMPRESSION_NONE, 0, tar_sink_fd, &p->out_fd, &p->err);

	if (ret == 0 && p->name) {
		ret = layer_write_object(&w, p->obj_fd, "", p->name, &o, &p->st, &p->err);
	} else if (ret == 0) {
		cleanup_close int dfd = openat(p->obj_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ret = dfd < 0 ? err_set(&p->err, errno, "cannot read the directory")
			      : layer_write_tree(&w, dfd, "", &o, &p->st, &p->err);
	}
	if (ret == 0)
		ret = tar_writer_finish(&w, &res, &p->err);
	tar_writer_release(&w);
	return ret;
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	sigset_t pipe_sig;

	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	p->ret = produce(p);
	close(p->out_fd);
	return NULL;
}

/* The object as a tar through a pipe into the extractor. */
static int copy_object(struct producer *p, const struct extract_to *t, struct sk_err *err)
{
	int fds[2], ret;
	pthread_t th;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(err, errno, "cannot make a pipe");
	p->out_fd = fds[1];
	if ((errno = pthread_create(&th, NULL, producer_main, p)) != 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(err, errno, "cannot start the copy");
	}
	ret = extract_stream(fds[0], t, err);
	close(fds[0]);
	pthread_join(th, NULL);
	if (p->ret < 0) {
		*err = p->err;
		return -1;
	}
	layer_write_warn_skipped(&p->st);
	return ret;
}

/* ---- kernel file systems ---- */

static bool on_kernel_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return true;
	return sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC ||
	       sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == 0x63677270 /* cgroup2 */ ||
	       sf.f_type == DEVPTS_SUPER_MAGIC || sf.f_type == DEBUGFS_MAGIC ||
	       sf.f_type == SECURITYFS_MAGIC || sf.f_type == BPF_FS_MAGIC ||
	       sf.f_type == TRACEFS_MAGIC;
}

/* ---- sources ---- */

struct source {
	int fd; /* O_PATH */
	struct stat st;
	char name[NAME_CAP]; /* its base name ("" for "/") */
	bool contents;	     /* SRC ended in "/.": what is inside, not the directory */
};

static void source_release(struct source *s)
{
	close_and_reset(&s->fd);
}

/* SRC inside root: its parent is resolved (symlinks followed, confined);
 * the last component is followed only with -L. */
static int source_in_root(int root, const char *path, bool follow, struct source *src,
			  struct sk_err *err)
{
	char clean[NAME_CAP], dir[NAME_CAP];
	cleanup_close int pfd = -1;

	src->fd = -1;
	src->contents = ends_with(path, "/.") || !strcmp(path, ".");
	clean_rel(path, clean, sizeof(clean));
	snprintf(src->name, sizeof(src->name), "%s", base_of(clean));
	if (!clean[0] || follow) {
		src->fd = fs_open_in_root(root, clean[0] ? clean : "/", O_PATH, 0);
	} else {
		dir_of(clean, dir, sizeof(dir));
		pfd = fs_open_in_root(root, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 0);
		src->fd = pfd < 0 ? pfd : openat(pfd, src->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (pfd >= 0 && src->fd < 0)
			src->fd = -errno;
	}
	if (src->fd < 0) {
		int e = -src->fd;
		src->fd = -1;
		if (e == ENOENT)
			return err_set(err, ENOENT, "could not find the file %s", path);
		return err_set(err, e, "cannot open '%s'", path);
	}
	if (fstat(src->fd, &src->st) < 0)
		return err_set(err, errno, "cannot stat '%s'", path);
	if ((ends_with(path, "/") || src->contents) && !S_ISDIR(src->st.st_mode))
		return err_set(err, ENOTDIR, "'%s' is not a directory", path);
	/* what the kernel makes up for the container (/proc, /sys) is not its files */
	if (on_kernel_fs(src->fd))
		return err_set(err, EPERM, "'%s' is on a kernel file system of the container",
			       path);
	return 0;
}

/* A host SRC: the host's own rules (cwd, symlinks on the way followed). */
static int source_on_host(const char *path, bool follow, struct source *src, struct sk_err *err)
{
	char clean[NAME_CAP];
	cleanup_free char *copy = strdup(path);

	src->fd = -1;
	src->contents = ends_with(path, "/.") || !strcmp(path, ".");
	if (!copy)
		return err_set(err, ENOMEM, "cp");
	src->fd = open(path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (src->fd < 0)
		return err_set(err, errno, "cannot open '%s'", path);
	if (fstat(src->fd, &src->st) < 0)
		return err_set(err, errno, "cannot stat '%s'", path);
	if ((ends_with(path, "/") || src->contents) && !S_ISDIR(src->st.st_mode))
		return err_set(err, ENOTDIR, "'%s' is not a directory", path);
	clean_rel(path, clean, sizeof(clean));
	snprintf(src->name, sizeof(src->name), "%s", base_of(clean));
	if (!src->name[0] || !strcmp(src->name, ".."))
		src->contents = true; /* "/" or "..": a name docker would not invent */
	return 0;
}

/* ---- destinations (docker's rules) ---- */

struct dest_plan {
	char dir[NAME_CAP];  /* the directory entries go into */
	char name[NAME_CAP]; /* the entry name for the source; "" = its contents */
};

/* dest_exists/dest_is_dir: what DEST is; dest_clean: it as a path (cleaned
 * for a container, as given for the host). */
static int dest_plan(const struct source *src, const char *dest, const char *dest_clean,
		     bool dest_exists, bool dest_is_dir, struct dest_plan *p, struct sk_err *err)
{
	bool dir_syntax = ends_with(dest, "/") || ends_with(dest, "/.");

	if (dest_exists && dest_is_dir) {
		snprintf(p->dir, sizeof(p->dir), "%s", dest_clean);
		snprintf(p->name, sizeof(p->name), "%s",
			 src->contents || !src->name[0] ? "" : src->name);
		return 0;
	}
	if (dest_exists) {
		if (S_ISDIR(src->st.st_mode))
			return err_set(err, 0, "cannot copy a directory to the file '%s'", dest);
		if (dir_syntax)
			return err_set(err, ENOTDIR, "'%s' is not a directory", dest);
	} else if (dir_syntax && !S_ISDIR(src->st.st_mode)) {
		return err_set(err, ENOENT, "no such directory: '%s'", dest);
	}
	dir_of(dest_clean, p->dir, sizeof(p->dir));
	if (dest_clean[0] == '/' && !p->dir[0])
		snprintf(p->dir, sizeof(p->dir), "/");
	snprintf(p->name, sizeof(p->name), "%s", base_of(dest_clean));
	return 0;
}

/* ---- the four directions ---- */

int cp_out_tar(struct ctr_fs *fs, const char *src_path, const struct cp_opts *o, int out_fd,
	       struct sk_err *err)
{
	struct source src = {.fd = -1};
	struct producer p = {.out_fd = out_fd, .skip_kernel_fs = true};
	int ret = source_in_root(fs->root_fd, src_path, o->follow_link, &src, err);

	if (ret == 0) {
		p.obj_fd = src.fd;
		p.name = src.contents ? "." : src.name[0] ? src.name : ".";
		ret = produce(&p);
		if (ret < 0)
			*err = p.err;
		else
			layer_write_warn_skipped(&p.st);
	}
	source_release(&src);
	return ret;
}

static bool host_is_dir(const char *path, bool *exists)
{
	struct stat st;

	*exists = stat(path, &st) == 0;
	return *exists && S_ISDIR(st.st_mode);
}

int cp_out_host(struct ctr_fs *fs, const char *src_path, const char *dest, const struct cp_opts *o,
		struct sk_err *err)
{
	struct source src = {.fd = -1};
	struct dest_plan plan;
	struct producer p = {.skip_kernel_fs = true};
	struct extract_to t = {.host = true, .prefix = ""};
	cleanup_close int dirfd = -1;
	char trimmed[NAME_CAP];
	bool exists, is_dir = host_is_dir(dest, &exists);
	int ret = source_in_root(fs->root_fd, src_path, o->follow_link, &src, err);

	/* "dir/" and "dir/." name dir */
	snprintf(trimmed, sizeof(trimmed), "%s", dest);
	for (size_t n = strlen(trimmed); n > 1;) {
		if (trimmed[n - 1] == '/')
			trimmed[--n] = '\0';
		else if (n > 2 && trimmed[n - 1] == '.' && trimmed[n - 2] == '/')
			trimmed[n -= 2] = '\0';
		else
			break;
	}
	if (ret == 0)
		ret = dest_plan(&src, dest, trimmed, exists, is_dir, &plan, err);
	if (ret == 0) {
		/* the host's own path: followed as the host has it */
		dirfd = open(plan.dir[0] ? plan.dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			ret = err_set(err, errno, "no such directory: '%s'", plan.dir);
	}
	if (ret == 0) {
		t.root = dirfd;
		p.obj_fd = src.fd;
		p.name = plan.name[0] ? plan.name : NULL;
		ret = copy_object(&p, &t, err);
	}
	source_release(&src);
	return ret;
}

/* What DEST is inside the container (symlinks followed, confined). */
static void container_dest(int root, const char *clean, bool *exists, bool *is_dir)
{
	struct stat st;
	int fd = fs_open_in_root(root, clean[0] ? clean : "/", O_PATH, 0);

	*exists = fd >= 0 && fstat(fd, &st) == 0;
	*is_dir = *exists && S_ISDIR(st.st_mode);
	if (fd >= 0)
		close(fd);
}

static int container_dest_dir(int root, const char *dir, const char *shown, struct sk_err *err)
{
	int fd = fs_open_in_root(root, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 0);

	if (fd < 0)
		return err_set(err, -fd, "no such directory: '%s' in the container", shown);
	if (on_kernel_fs(fd)) {
		close(fd);
		return err_set(err, EPERM, "'%s' is on a kernel file system of the container",
			       shown);
	}
	return fd;
}

int cp_in_host(struct ctr_fs *fs, const char *src_path, const char *dest, const struct cp_opts *o,
	       struct sk_err *err)
{
	struct source src = {.fd = -1};
	struct dest_plan plan;
	struct producer p = {0};
	struct extract_to t = {.root = fs->root_fd, .chown = true};
	char clean[NAME_CAP], clean_abs[NAME_CAP];
	cleanup_close int dirfd = -1;
	bool exists, is_dir;
	int ret = source_on_host(src_path, o->follow_link, &src, err);

	clean_rel(dest, clean, sizeof(clean));
	snprintf(clean_abs, sizeof(clean_abs), "/%s", clean);
	container_dest(fs->root_fd, clean, &exists, &is_dir);
	if (ret == 0)
		ret = dest_plan(&src, dest, clean_abs, exists, is_dir, &plan, err);
	if (ret == 0)
		ret = (dirfd = container_dest_dir(fs->root_fd, plan.dir, dest, err)) < 0 ? -1 : 0;
	if (ret == 0) {
		t.prefix = plan.dir;
		p.obj_fd = src.fd;
		p.name = plan.name[0] ? plan.name : NULL;
		ret = copy_object(&p, &t, err);
	}
	source_release(&src);
	return ret;
}

int cp_in_tar(struct ctr_fs *fs, int in_fd, const char *dest, const struct cp_opts *o,
	      struct sk_err *err)
{
	struct extract_to t = {.root = fs->root_fd, .chown = true};
	char clean[NAME_CAP], clean_abs[NAME_CAP];
	cleanup_close int dirfd = -1;
	bool exists, is_dir;

	clean_rel(dest, clean, sizeof(clean));
	snprintf(clean_abs, sizeof(clean_abs), "/%s", clean);
	container_dest(fs->root_fd, clean, &exists, &is_dir);
	if (!is_dir)
		return err_set(err, ENOTDIR, "destination '%s' must be a directory", dest);
	dirfd = container_dest_dir(fs->root_fd, clean_abs, dest, err);
	if (dirfd < 0)
		return -1;
	t.prefix = clean_abs;
	return extract_stream(in_fd, &t, err);
}

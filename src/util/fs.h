/* File-system helpers: atomic writes, bounded reads, confined opens, removal. */
#ifndef SKIFF_FS_H
#define SKIFF_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"

/* write() until len bytes are written, retrying on EINTR. 0 or -errno. */
int fs_write_all(int fd, const void *data, size_t len);
/* The same with pwrite() from offset off. 0 or -errno. */
int fs_pwrite_all(int fd, const void *data, size_t len, off_t off);

/* mkdir -p relative to dirfd (AT_FDCWD allowed); existing directories are fine. */
int fs_mkdir_p(int dirfd, const char *path, mode_t mode, struct sk_err *err);

/* Write data to dirfd/name atomically: temp file in the same directory, fsync,
 * rename over name, fsync the directory. Readers see the old or the new file. */
int fs_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		    struct sk_err *err);

/* Read a whole file (at most max bytes; larger is an error) into out. */
int fs_read_file(int dirfd, const char *name, size_t max, struct buf *out, struct sk_err *err);

/* openat2(dirfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): path is resolved as if
 * dirfd were "/", so "..", absolute names and symlinks cannot leave it.
 * Returns an fd or -errno (no err: callers decide what a failure means). */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* Like fs_open_in_root but additionally RESOLVE_NO_SYMLINKS for the final and
 * intermediate components; used where a symlink is never legitimate. */
int fs_open_in_root_nofollow(int rootfd, const char *path, int flags, mode_t mode);

/* rm -rf of dirfd/name without following symlinks; missing is fine. */
int fs_remove_tree(int dirfd, const char *name, struct sk_err *err);

/* Size in bytes of everything under dirfd/name (st_blocks based, like du). */
long long fs_disk_usage(int dirfd, const char *name);

/* Bytes of content under dirfd/name as docker counts a layer's or a
 * container's size: st_size of everything but directories, a hard-linked
 * file once. Symlinks are never followed; directories deeper than
 * FS_CONTENT_MAX_DEPTH are not counted (the tree may be a container's). */
#define FS_CONTENT_MAX_DEPTH 256
long long fs_content_size(int dirfd, const char *name);

#endif

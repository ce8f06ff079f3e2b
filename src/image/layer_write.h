/*
 * Directory trees to tar streams: a container's overlay upper directory (or
 * a layer of the store) becomes a layer in docker's format, a merged root
 * becomes an export, a path inside a container becomes a `cp` stream.
 *
 * Entries come in a fixed order (each directory's names sorted bytewise,
 * a directory before its contents), with numeric owners, whole-second
 * mtimes as the tree has them, the extended attributes a layer may carry
 * (security.capability, user.*, trusted.*; never overlay's own), hard links
 * kept (the second name links to the first), device nodes and fifos. Equal
 * trees give equal tars, so equal layers have equal diff_ids.
 *
 * In overlay mode (an upper directory, a layer of the store) overlay's
 * formats become docker's: a 0:0 character device is a whiteout ".wh.NAME",
 * an opaque directory (trusted.overlay.opaque or user.overlay.opaque "y")
 * gets a ".wh..wh..opq" entry. A tree with a renamed-directory redirect or
 * a metacopy file (overlay features skiff never turns on) is refused.
 *
 * The tree may belong to a running, hostile container: every object is
 * reached as "parent fd + one name" without following symlinks, regular
 * files are opened as O_PATH first and read only once fstat says they are
 * regular files (a device node swapped in is never opened), fifos are never
 * opened. Sockets cannot be in a tar: they are skipped and counted.
 */
#ifndef SKIFF_LAYER_WRITE_H
#define SKIFF_LAYER_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "image/tar_write.h"
#include "util/err.h"

#define LAYER_WRITE_MAX_DEPTH 512

struct layer_write_opts {
	bool overlay; /* overlay's whiteouts and opaque directories -> docker's */
	/* A file that shrinks or grows while it is read (a running container)
	 * is an error unless this is set: then it is cut or padded with zeros
	 * to the size its header announced, with a warning. */
	bool tolerate_changes;
	/* A directory on a kernel file system (proc, sysfs, cgroup, devpts,
	 * mqueue...: a running container's mounts) is written empty. */
	bool skip_kernel_fs;
};

struct layer_write_stats {
	uint64_t entries;
	uint64_t skipped;	 /* sockets */
	char first_skipped[256]; /* the name of the first one, for the warning */
	uint64_t changed;	 /* files that changed while read (tolerate_changes) */
};

/* Everything below dirfd (not the directory itself), named prefix + "/" +
 * relative path (prefix "" for a layer). */
int layer_write_tree(struct tar_writer *w, int dirfd, const char *prefix,
		     const struct layer_write_opts *o, struct layer_write_stats *st,
		     struct sk_err *err);

/* The object base in parent_fd (never followed: a symlink is written as a
 * symlink) and, for a directory, its contents, under the name name. base ""
 * means parent_fd is the object itself (an O_PATH fd will do). */
int layer_write_object(struct tar_writer *w, int parent_fd, const char *base, const char *name,
		       const struct layer_write_opts *o, struct layer_write_stats *st,
		       struct sk_err *err);

/* A whole tree as one layer into out_fd: both digests in res. */
int layer_write_fd(int dirfd, const struct layer_write_opts *o, enum compression comp, int level,
		   int out_fd, struct tar_result *res, struct layer_write_stats *st,
		   struct sk_err *err);

/* One "skiff: warning" line when sockets were skipped. */
void layer_write_warn_skipped(const struct layer_write_stats *st);

#endif

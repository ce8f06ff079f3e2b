/*
 * A container's file system as seen from the host, for cp, export, diff and
 * commit, and the copies in and out of it.
 *
 * The root is a directory fd; every path inside it is resolved with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), and everything below
 * that is reached as "parent fd + one name" without following symlinks, so
 * a symlink planted by the container (to "/", to /etc/shadow, swapped in
 * while a copy runs) never leads to a file of the host.
 *   - a running container: its first process's root (/proc/PID/root, the
 *     process pinned by a pidfd and checked alive after the open), so cp
 *     sees and changes what the container sees, volumes included;
 *   - a stopped one: a detached overlay mount of its layers and upper
 *     directory (never attached anywhere, gone with the fd); read-only
 *     unless writing, then with the container's upper and work directories,
 *     while the container's lock keeps it from starting.
 */
#ifndef SKIFF_RUNTIME_COPY_H
#define SKIFF_RUNTIME_COPY_H

#include <stdbool.h>
#include <sys/types.h>

#include "image/store.h"
#include "image/tar_write.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "util/err.h"

struct ctr_fs {
	char id[CTR_ID_LEN + 1];
	char name[CTR_NAME_MAX];
	int root_fd;  /* the container's "/" (O_PATH) */
	bool running; /* through the running process's root */
	int pidfd;    /* running: the process whose root this is */
	int lockfd;   /* stopped and writable: the container's lock */
	int dirfd;    /* containers/<id> */
};
#define CTR_FS_INIT                                                                                \
	{                                                                                          \
		.root_fd = -1, .pidfd = -1, .lockfd = -1, .dirfd = -1                              \
	}

enum ctr_fs_mode {
	CTR_FS_READ,   /* what the container sees (volumes too) when it runs */
	CTR_FS_WRITE,  /* the same, writable */
	CTR_FS_LAYERS, /* its image and its changes only, even when it runs (export) */
};

/* Open the file system of container ref (name, id or prefix). vfs: the store
 * copies layers instead of mounting an overlay (its rootfs/ is the tree). */
int ctr_fs_open(struct store *s, const char *ref, enum ctr_fs_mode mode, bool vfs,
		struct ctr_fs *fs, struct sk_err *err);
void ctr_fs_close(struct ctr_fs *fs);

/* What diff and commit read: the container's upper directory and its
 * image's layers (top first, each once), and the image's config digest. */
struct ctr_layers {
	char id[CTR_ID_LEN + 1];
	char image_id[DIGEST_STR_MAX]; /* config digest */
	char *image_name;	       /* as the container was created with it */
	int upper_fd;
	int *layer_fds; /* top first */
	size_t n_layers;
	bool running;
};
int ctr_layers_open(struct store *s, const char *ref, bool vfs, struct ctr_layers *l,
		    struct sk_err *err);
void ctr_layers_close(struct ctr_layers *l);

/* ---- cp ---- */

/* docker cp's -a (keep the source's owners) and -L (follow a symlink SRC). */
struct cp_opts {
	bool archive;
	bool follow_link;
};

/* CONTAINER:SRC -> stdout as a tar (docker's `cp CONTAINER:SRC -`). */
int cp_out_tar(struct ctr_fs *fs, const char *src, const struct cp_opts *o, int out_fd,
	       struct sk_err *err);
/* CONTAINER:SRC -> DEST on the host, with docker's rules for DEST. */
int cp_out_host(struct ctr_fs *fs, const char *src, const char *dest, const struct cp_opts *o,
		struct sk_err *err);
/* SRC on the host -> CONTAINER:DEST. */
int cp_in_host(struct ctr_fs *fs, const char *src, const char *dest, const struct cp_opts *o,
	       struct sk_err *err);
/* A tar stream (stdin) -> the directory CONTAINER:DEST. */
int cp_in_tar(struct ctr_fs *fs, int in_fd, const char *dest, const struct cp_opts *o,
	      struct sk_err *err);

/* The file system as one tar (export; fs opened with CTR_FS_LAYERS). */
int ctr_export(struct ctr_fs *fs, int out_fd, struct sk_err *err);

#endif

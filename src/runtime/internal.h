/*
 * Internal interfaces between the runtime's files. Everything here except
 * ns_clone() and the parent side of console.c/sync runs in the container's
 * first process, after clone3 and before execve.
 */
#ifndef SKIFF_RUNTIME_INTERNAL_H
#define SKIFF_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "runtime/relay.h"
#include "runtime/spec.h"
#include "runtime/stub_proto.h"
#include "util/err.h"

/* What the child needs besides the spec. */
struct child_ctx {
	const struct rt_spec *spec;
	int sync_fd;        /* child's end of the parent/child socketpair (CLOEXEC) */
	int stub_fd;        /* skiff-init's sealed memfd (stub.h) */
	bool init;          /* skiff-init stays as pid 1 (--init) */
	int netns_fd;       /* a network namespace to join first, or -1 */
	/* The parent makes the container's cgroup while the child sets up its
	 * mounts, moves the child into it and sends one byte. The child waits
	 * for it before anything of the container runs, and only then creates
	 * its cgroup namespace (when cgroup_ns), so that the namespace is rooted
	 * at the container's own cgroup. */
	bool cgroup_ns;
	/* The container's stdio: pipe ends from relay_make_pipes. stdin -1: the
	 * container's own /dev/null; all -1 with a terminal. */
	int stdio[3];
	struct winsize ws; /* -t: skiff's terminal size, measured before the clone */
	sigset_t orig_mask; /* signal mask to restore before execve */
};

/* entry.c: what the parent holds while a process enters a container (run's
 * clone, exec's fork): skiff-init's memfd, the sync socket's two ends, the
 * stdio pipes' ends for both sides, then the child's pidfd and pty master. */
struct entry {
	struct relay_io io;
	int child_stdio[3];
	int stub_fd, sock, child_sock, pidfd, master;
};
#define ENTRY_INIT                                                                                 \
	{ .io = RELAY_IO_INIT, .child_stdio = { -1, -1, -1 }, .stub_fd = -1, .sock = -1,           \
	  .child_sock = -1, .pidfd = -1, .master = -1 }
/* The memfd and the socket; with pipes, the stdio pipes (stdin too with
 * io.input; set io.log and io.input first). */
int entry_prepare(struct entry *e, bool pipes, struct sk_err *err);
/* In the parent after the fork: only the child holds its ends now. */
void entry_drop_child_side(struct entry *e);
void entry_release(struct entry *e);

/* container.c: read the child's messages on the sync socket until it execs
 * (end of file): 0, or -1 with err (and exit code) from the child's report.
 * *master gets the pty master when the child sends one. who names the child
 * in "lost contact with WHO". Used by run and exec. */
int sync_read_child(int sock, int *master, const char *who, struct sk_err *err);

/* child.c: set the container up and execve its process; never returns. */
__attribute__((noreturn)) void child_main(struct child_ctx *c);
/* Send err to the parent and _exit with its exit code. */
__attribute__((noreturn)) void child_fail(int sync_fd, const struct sk_err *err);
/* First steps of every process that enters a container (run's child, exec's):
 * not dumpable (no ptrace, no /proc/PID/fd for the container), signal
 * dispositions back to the defaults, and only these descriptors left open:
 * stdio[0..2] on 0..2 (-1: a placeholder until the container's own /dev/null
 * or terminal replaces it), sync on STUB_SYNC_FD (not close-on-exec: skiff-init
 * reports there), then keep[] on the next numbers, close-on-exec. */
int child_isolate(const int stdio[3], int sync_fd, int *keep, int n_keep, struct sk_err *err);
/* dup2 the container's /dev/null (or anything opened in rootfd) onto fd. */
int child_open_null(int rootfd, int fd, int flags, struct sk_err *err);

/* ns.c */
/* clone3 into new namespaces with fork semantics; *pidfd gets a pidfd. Returns
 * the pid in the parent, 0 in the child, -1 with err. */
pid_t ns_clone(unsigned long namespaces, int *pidfd, struct sk_err *err);
/* Wait for the (already killed or exiting) child behind pidfd. */
void ns_reap(int pidfd);
int ns_loopback_up(struct sk_err *err);

/* rootfs.c */
/* Mount the container's root (overlay from the layers, or the prepared
 * directory bound onto itself) at root->path. init_layer (or -1): the
 * directory of mounts_init_layer(), put on top of the image's layers. */
int rootfs_mount(const struct rt_root *root, int init_layer, struct sk_err *err);
/* Open path inside rootfd (confined), creating it (and its parents) when
 * missing: a directory when is_dir, else an empty file. Returns an O_PATH fd. */
int rootfs_open_target(int rootfd, const char *path, bool is_dir, struct sk_err *err);
/* mkdir -p inside rootfd, confined. */
int rootfs_mkdir(int rootfd, const char *path, struct sk_err *err);
/* pivot_root(".", ".") into path and detach the old root. */
int rootfs_pivot(const char *path, struct sk_err *err);
int rootfs_make_readonly(struct sk_err *err);
/* chdir to cwd, resolved inside the current root (no "..", symlink or magic
 * link out of it) and checked to be under it afterwards. */
int rootfs_enter_cwd(const char *cwd, struct sk_err *err);
/* rootfs_copy.c: without overlayfs, copy the layers (bottom first, applying
 * whiteouts and opaque directories) into root->path. */
int rootfs_copy_layers(const struct rt_root *root, struct sk_err *err);

/* mounts.c */
/* The container's init layer, as docker's: a small tmpfs (not attached
 * anywhere) holding the spec's files (rt_mount.content) at their paths. As
 * the overlay's top lower layer it gives those bind mounts their targets
 * without creating anything on the store's disk; it is also where the binds
 * come from. Returns its fd. */
int mounts_init_layer(const struct rt_spec *spec, struct sk_err *err);
/* The container's cgroup view (cgroup.h), between the two steps below. */
struct cgroup_view {
	struct cgroup_view_plan plan;
	int mnt;	/* v1: the tmpfs on /sys/fs/cgroup; v2: that directory; -1: none */
	bool host_cgroupns; /* --cgroupns host: mounted from a helper's namespace */
	unsigned attrs; /* of the hierarchies' mounts: read-only unless --privileged */
};
#define CGROUP_VIEW_INIT { .mnt = -1 }
/* The spec's mounts, in order, inside rootfd; /dev gets its device nodes.
 * init_layer: from mounts_init_layer(). A "cgroup" mount (/sys/fs/cgroup)
 * is only prepared into view: its hierarchies are mounted by
 * mounts_cgroup_view_finish once the process is in its cgroups and (unless
 * --cgroupns host) its own cgroup namespace. */
int mounts_apply(int rootfd, const struct rt_spec *spec, int init_layer, struct cgroup_view *view,
		 struct sk_err *err);
int mounts_cgroup_view_finish(struct cgroup_view *view, struct sk_err *err);
void mounts_cgroup_view_release(struct cgroup_view *view);
/* Masks are bind mounts of the container's own /dev/null (files) or empty
 * read-only tmpfs (directories): nothing a root process could chmod on the host. */
int mounts_mask_paths(int rootfd, const struct strv *paths, struct sk_err *err);
int mounts_readonly_paths(int rootfd, const struct strv *paths, struct sk_err *err);
/* Bind the host's (pre-pivot) path src onto the target fd. */
int mounts_bind_fd(const char *src, int target_fd, bool recursive, unsigned attrs,
		   struct sk_err *err);

/* devices.c: null, zero, full, random, urandom, tty and the /dev links; with
 * host_devices (--privileged) also every device node of the host's /dev. */
int devices_create(int rootfd, bool host_devices, struct sk_err *err);

/* console.c */
/* Child: open a pty in the container's devpts (under rootfd), give it the
 * window size ws (measured by the parent; NULL or 0x0: none), make it the
 * controlling tty on stdio, bind it on /dev/console when bind (run, not
 * exec), send the master to the parent. */
int console_setup_child(int rootfd, int sync_fd, const struct winsize *ws, bool bind,
			struct sk_err *err);
/* Send/receive one fd over the sync socket. */
int console_send_fd(int sock, int fd, struct sk_err *err);


#endif

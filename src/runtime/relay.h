/*
 * The container's stdio, relayed (relay.c). A container never gets one of
 * skiff's own descriptors: they may be host files, the host's /dev/null or
 * the admin's terminal, which a root process could fchmod, rewrite or push
 * keystrokes into. It gets pipes (or its own pty with -t) and skiff copies
 * the bytes: splice where the kernel can, read/write where it cannot.
 * Shared by run (foreground and the detached monitor) and exec.
 */
#ifndef SKIFF_RUNTIME_RELAY_H
#define SKIFF_RUNTIME_RELAY_H

#include <stdbool.h>

#include "util/err.h"

struct logfile;
struct attach_srv;

/* skiff's ends of the container's stdio. */
struct relay_io {
	int stdin_wr;             /* the container's stdin pipe, -1 without -i */
	int stdout_rd, stderr_rd; /* its output pipes, -1 with -t */
	int master;               /* -t: the pty master (not owned), else -1 */
	bool input;               /* -i: the container's stdin is kept open */
	struct logfile *log;      /* output is recorded here too (NULL: no log) */
	/* Under a monitor: output goes to the attached clients (attach.h) and
	 * input comes from them. NULL: skiff's own stdio (foreground run, exec). */
	struct attach_srv *attach;
};

#define RELAY_IO_INIT { .stdin_wr = -1, .stdout_rd = -1, .stderr_rd = -1, .master = -1 }

/* Pipes for a container without a terminal: child_fds[0..2] get the ends
 * that become its stdin (-1 without input: it gets its own /dev/null),
 * stdout and stderr; io gets skiff's ends. Close-on-exec all. Set
 * io->attach first: the pipes of a monitored container stay small. */
int relay_make_pipes(bool input, struct relay_io *io, int child_fds[3], struct sk_err *err);

/* Close io's pipe ends (the pty master is the caller's). */
void relay_close(struct relay_io *io);

/* Copy until the process behind pidfd exits, handling the signals read
 * from sigfd (forwarded to it when sig_proxy; SIGWINCH resizes the pty), then
 * copy what the container left in the pipes. *status gets its exit code
 * (128+N after signal N). Closes io's pipe ends. Output goes to skiff's
 * stdout/stderr (or the attached clients) and into io->log. */
int relay_run(struct relay_io *io, int pidfd, int sigfd, bool sig_proxy, int *status,
	      struct sk_err *err);

#endif

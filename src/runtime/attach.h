/*
 * Attaching to a container that runs under its monitor (docker attach, start
 * -a/-i, run -it without -d). The monitor listens on containers/<id>/attach.sock
 * (SOCK_SEQPACKET, in the container's 0700 directory); every message is one
 * packet: a type byte, then its payload. The container's stdio stay the
 * monitor's pipes or pty: a client gets copies of the output and sends bytes
 * for the input, so nothing of the client (its terminal, a file, a socket)
 * ever reaches the container.
 *
 * The server is the monitor's; the client is the CLI's.
 */
#ifndef SKIFF_RUNTIME_ATTACH_H
#define SKIFF_RUNTIME_ATTACH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define ATTACH_SOCKET "attach.sock"

enum attach_msg {
	ATTACH_STDIN = 'i',	/* client: bytes for the container's stdin */
	ATTACH_STDIN_EOF = 'e', /* client: its stdin ended */
	ATTACH_RESIZE = 'w',	/* client: its terminal's size (two uint16: rows, cols) */
	ATTACH_SIGNAL = 's',	/* client: a signal for the container's process (int32) */
	ATTACH_STDOUT = 'o',	/* monitor: output (everything, with a terminal) */
	ATTACH_STDERR = 'r',	/* monitor: the container's stderr */
	ATTACH_EXIT = 'x',	/* monitor: it exited (int32 status); the monitor then hangs up */
};

/* Payload bytes of one message at most. */
#define ATTACH_DATA_MAX 8192
/* Clients at once; more wait in the listen queue. */
#define ATTACH_MAX_CLIENTS 16
/* Poll entries the server may add to the relay's. */
#define ATTACH_POLL_MAX (ATTACH_MAX_CLIENTS + 2)

/* --- the monitor's side ------------------------------------------------------ */

struct attach_srv;

/* Listen on attach.sock in dirfd (the container's directory; duplicated).
 * first_client, or -1: a client connected from the start (the monitor's end
 * of a socketpair made by `run -it` or `start -a`), owned from now on.
 * stdin_once: a client's end of input closes the container's stdin (docker's
 * StdinOnce: run -i and start -i, not run -di). A socket that cannot be
 * made is a warning: the container runs, unreachable by `attach`. */
int attach_srv_open(int dirfd, int first_client, bool stdin_once, struct attach_srv **out,
		    struct sk_err *err);
/* The container exited with status: every client gets ATTACH_EXIT and is let
 * go (docker's attach ends with the run, restart policy or not). */
void attach_srv_end_run(struct attach_srv *srv, int status);
/* Stop listening and remove the socket. NULL is fine. */
void attach_srv_close(struct attach_srv *srv);

/* During a run, for the relay (relay.c). stdin_fd: the container's stdin
 * pipe (taken over: closed at end_io or by a client's end of input), or its
 * pty master with stdin_is_pty (not owned), or -1; master: the pty for
 * resizes, or -1; pidfd: for signals. */
struct attach_io {
	int stdin_fd;
	bool stdin_is_pty;
	int master;
	int pidfd;
};
void attach_srv_begin_io(struct attach_srv *srv, const struct attach_io *io);
void attach_srv_end_io(struct attach_srv *srv);
/* Fill p (ATTACH_POLL_MAX entries at most) with what the server waits for;
 * returns how many. */
int attach_srv_poll_fill(struct attach_srv *srv, struct pollfd *p);
/* Act on the entries attach_srv_poll_fill filled (n of them). */
void attach_srv_poll_handle(struct attach_srv *srv, const struct pollfd *p, int n);
/* A client has not taken the last output yet: the relay stops reading the
 * container's output until it has (docker's attach holds the writer back too). */
bool attach_srv_busy(const struct attach_srv *srv);
/* Output for every client; one that cannot take it now keeps it. */
void attach_srv_output(struct attach_srv *srv, bool is_stderr, const char *data, size_t len);
/* Wait up to timeout_ms for every client to take its output; the ones that
 * do not are let go (a stopped `skiff attach` must not keep the exit from
 * being recorded). */
void attach_srv_flush(struct attach_srv *srv, int timeout_ms);

/* --- the client's side ------------------------------------------------------- */

#define ATTACH_KEYS_MAX 16

/* docker's detach keys: "ctrl-p,ctrl-q", a comma-separated list of single
 * characters and ctrl-@, ctrl-a..ctrl-z, ctrl-[, ctrl-\, ctrl-], ctrl-^, ctrl-_.
 * keys gets the bytes; *n their count. An empty spec is no keys. */
int attach_parse_keys(const char *spec, char keys[ATTACH_KEYS_MAX], size_t *n,
		      struct sk_err *err);

/* Connect to the monitor of the container whose directory is dirfd. */
int attach_connect(int dirfd, struct sk_err *err);

struct attach_client_opts {
	bool tty;	 /* the container has a terminal: raw mode, sizes */
	bool send_stdin; /* skiff's stdin goes to the container */
	bool sig_proxy;	 /* skiff's signals go to the container (not with tty) */
	/* With tty: first a size one row and column larger, then the real one,
	 * as docker's attach does, so that the program redraws (a shell shows
	 * its prompt again) even when the size is what it was. */
	bool redraw;
	const char *keys; /* detach keys (with tty and stdin), n_keys of them */
	size_t n_keys;
};

enum attach_end {
	ATTACH_ENDED_EXIT,     /* the container exited: *status */
	ATTACH_ENDED_DETACHED, /* the user typed the detach keys */
	ATTACH_ENDED_CLOSED,   /* the monitor hung up without an exit status */
};

/* Relay between skiff's stdio and the monitor over sock (closed on return)
 * until one of enum attach_end happens. -1 with err on a local failure. */
int attach_client_run(int sock, const struct attach_client_opts *o, enum attach_end *end,
		      int *status, struct sk_err *err);

#endif

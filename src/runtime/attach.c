/*
 * Attach (attach.h): the monitor's server, which copies the container's
 * output to every attached client and their input into the container, and
 * the CLI's client, which relays skiff's own stdio, terminal size, signals
 * and detach keys over the socket.
 *
 * Neither side ever blocks on the other: the server sends with MSG_DONTWAIT
 * and keeps one message per client that could not take it (the relay then
 * stops reading the container's output: back-pressure, as docker's attach);
 * input waits in one buffer until the container's stdin takes it, and
 * clients are not read meanwhile. The client keeps one message for the
 * server likewise, and goes on reading output while it waits.
 */
#include "runtime/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "runtime/console.h"
#include "util/cleanup.h"
#include "util/log.h"

#define ATTACH_MSG_MAX (ATTACH_DATA_MAX + 1)
#define ATTACH_BACKLOG 8

/* The socket's address through the directory's descriptor: a store's path
 * may be longer than sun_path's 108 bytes. */
static void socket_address(int dirfd, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s", dirfd, ATTACH_SOCKET);
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* --- server ------------------------------------------------------------------ */

struct attach_client {
	int fd;
	bool hung_up;	 /* the client is gone; its last messages may still be read */
	size_t pending;	 /* length of the message in out that waits for room */
	char *out;	 /* ATTACH_MSG_MAX bytes, allocated when first needed */
};

/* What a poll entry of attach_srv_poll_fill stands for. */
enum { POLL_LISTEN = -1, POLL_STDIN = -2 };

struct attach_srv {
	int dirfd, listen_fd;
	bool stdin_once;
	struct attach_client clients[ATTACH_MAX_CLIENTS];
	int n_clients;
	struct attach_io io;   /* during a run; fds -1 otherwise */
	size_t in_off, in_len; /* input in `in` that waits for the container's stdin */
	int poll_map[ATTACH_POLL_MAX];
	char in[ATTACH_DATA_MAX];
	char msg[ATTACH_MSG_MAX];
};

static void add_client(struct attach_srv *srv, int fd)
{
	if (srv->n_clients == ATTACH_MAX_CLIENTS) {
		close(fd);
		return;
	}
	set_nonblock(fd);
	srv->clients[srv->n_clients++] = (struct attach_client){ .fd = fd };
}

/* Marked here, removed by compact(): poll_map's indexes stay valid. */
static void drop_client(struct attach_client *c)
{
	close_and_reset(&c->fd);
	free(c->out);
	c->out = NULL;
	c->pending = 0;
}

static void compact(struct attach_srv *srv)
{
	int k = 0;

	for (int i = 0; i < srv->n_clients; i++)
		if (srv->clients[i].fd >= 0)
			srv->clients[k++] = srv->clients[i];
	srv->n_clients = k;
}

int attach_srv_open(int dirfd, int first_client, bool stdin_once, struct attach_srv **out,
		    struct sk_err *err)
{
	cleanup_free struct attach_srv *srv = calloc(1, sizeof(*srv));
	struct sockaddr_un addr;

	if (!srv) {
		if (first_client >= 0)
			close(first_client);
		return err_set(err, ENOMEM, "cannot listen for attaches");
	}
	srv->stdin_once = stdin_once;
	srv->io = (struct attach_io){ .stdin_fd = -1, .master = -1, .pidfd = -1 };
	if (first_client >= 0)
		add_client(srv, first_client);
	srv->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (srv->dirfd < 0) {
		err_set(err, errno, "cannot listen for attaches");
		for (int i = 0; i < srv->n_clients; i++)
			drop_client(&srv->clients[i]);
		return -1;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	socket_address(srv->dirfd, &addr);
	/* A monitor killed earlier left its socket behind. */
	unlinkat(srv->dirfd, ATTACH_SOCKET, 0);
	if (srv->listen_fd < 0 ||
	    bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    fchmodat(srv->dirfd, ATTACH_SOCKET, 0600, 0) < 0 ||
	    listen(srv->listen_fd, ATTACH_BACKLOG) < 0) {
		/* A store on a file system without sockets: the container runs,
		 * only `attach` cannot reach it. */
		log_warn("cannot listen on '%s' (skiff attach will not reach this container): %s",
			 ATTACH_SOCKET, strerror(errno));
		close_and_reset(&srv->listen_fd);
	}
	*out = steal_pointer(&srv);
	return 0;
}

/* Send one whole message, or keep it for later when the client is full. */
static void client_send(struct attach_client *c, const char *msg, size_t len)
{
	ssize_t n;

	if (c->fd < 0)
		return;
	if (c->pending) { /* two messages cannot wait: the relay prevents it */
		drop_client(c);
		return;
	}
	n = send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)len)
		return;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if (!c->out && !(c->out = malloc(ATTACH_MSG_MAX))) {
			drop_client(c);
			return;
		}
		memcpy(c->out, msg, len);
		c->pending = len;
		return;
	}
	drop_client(c);
}

static void client_send_pending(struct attach_client *c)
{
	ssize_t n = send(c->fd, c->out, c->pending, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n == (ssize_t)c->pending)
		c->pending = 0;
	else if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		drop_client(c);
}

void attach_srv_output(struct attach_srv *srv, bool is_stderr, const char *data, size_t len)
{
	while (len) {
		size_t n = len < ATTACH_DATA_MAX ? len : ATTACH_DATA_MAX;

		srv->msg[0] = is_stderr ? ATTACH_STDERR : ATTACH_STDOUT;
		memcpy(srv->msg + 1, data, n);
		for (int i = 0; i < srv->n_clients; i++)
			client_send(&srv->clients[i], srv->msg, n + 1);
		data += n;
		len -= n;
	}
	compact(srv);
}

bool attach_srv_busy(const struct attach_srv *srv)
{
	for (int i = 0; i < srv->n_clients; i++)
		if (srv->clients[i].pending)
			return true;
	return false;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void attach_srv_flush(struct attach_srv *srv, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (attach_srv_busy(srv)) {
		struct pollfd p[ATTACH_MAX_CLIENTS];
		int64_t left = deadline - now_ms();

		for (int i = 0; i < srv->n_clients; i++)
			p[i] = (struct pollfd){ .fd = srv->clients[i].pending ? srv->clients[i].fd : -1,
						.events = POLLOUT };
		if (left <= 0 || poll(p, (nfds_t)srv->n_clients, (int)left) == 0) {
			for (int i = 0; i < srv->n_clients; i++)
				if (srv->clients[i].pending)
					drop_client(&srv->clients[i]);
		} else {
			for (int i = 0; i < srv->n_clients; i++)
				if (p[i].revents)
					client_send_pending(&srv->clients[i]);
		}
		compact(srv);
	}
}

void attach_srv_end_run(struct attach_srv *srv, int status)
{
	char msg[1 + sizeof(int32_t)] = { ATTACH_EXIT };
	int32_t s = status;

	if (!srv)
		return;
	memcpy(msg + 1, &s, sizeof(s));
	attach_srv_flush(srv, 1000);
	for (int i = 0; i < srv->n_clients; i++) {
		client_send(&srv->clients[i], msg, sizeof(msg));
		drop_client(&srv->clients[i]);
	}
	srv->n_clients = 0;
}

void attach_srv_close(struct attach_srv *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < srv->n_clients; i++)
		drop_client(&srv->clients[i]);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlinkat(srv->dirfd, ATTACH_SOCKET, 0);
	}
	close(srv->dirfd);
	free(srv);
}

/* --- server: input ----------------------------------------------------------- */

void attach_srv_begin_io(struct attach_srv *srv, const struct attach_io *io)
{
	srv->io = *io;
	srv->in_off = srv->in_len = 0;
}

static void close_stdin(struct attach_srv *srv)
{
	if (!srv->io.stdin_is_pty)
		close_and_reset(&srv->io.stdin_fd);
	srv->io.stdin_fd = -1;
	srv->in_off = srv->in_len = 0;
}

void attach_srv_end_io(struct attach_srv *srv)
{
	close_stdin(srv);
	srv->io = (struct attach_io){ .stdin_fd = -1, .master = -1, .pidfd = -1 };
}

static void write_input(struct attach_srv *srv)
{
	ssize_t n;

	if (srv->io.stdin_fd < 0) {
		srv->in_off = srv->in_len = 0;
		return;
	}
	n = write(srv->io.stdin_fd, srv->in + srv->in_off, srv->in_len - srv->in_off);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The container closed its stdin: what comes is dropped. */
		log_debug("attach: the container's stdin: %s", strerror(errno));
		close_stdin(srv);
		return;
	}
	srv->in_off += (size_t)n;
	if (srv->in_off == srv->in_len)
		srv->in_off = srv->in_len = 0;
}

static void queue_input(struct attach_srv *srv, const char *data, size_t len)
{
	if (srv->io.stdin_fd < 0 || len == 0)
		return;
	memcpy(srv->in, data, len);
	srv->in_off = 0;
	srv->in_len = len;
	write_input(srv);
}

static void handle_message(struct attach_srv *srv, const char *msg, size_t len)
{
	uint16_t size[2];
	int32_t sig;

	switch (msg[0]) {
	case ATTACH_STDIN: queue_input(srv, msg + 1, len - 1); break;
	case ATTACH_STDIN_EOF:
		/* docker's StdinOnce; a terminal reads its end-of-file character */
		if (!srv->stdin_once)
			break;
		if (srv->io.stdin_is_pty)
			queue_input(srv, "\x04", 1);
		else
			close_stdin(srv);
		break;
	case ATTACH_RESIZE:
		if (len != 1 + sizeof(size) || srv->io.master < 0)
			break;
		memcpy(size, msg + 1, sizeof(size));
		if (size[0] && size[1])
			ioctl(srv->io.master, TIOCSWINSZ,
			      &(struct winsize){ .ws_row = size[0], .ws_col = size[1] });
		break;
	case ATTACH_SIGNAL:
		if (len != 1 + sizeof(sig) || srv->io.pidfd < 0)
			break;
		memcpy(&sig, msg + 1, sizeof(sig));
		if (sig > 0 && sig < 65)
			syscall(SYS_pidfd_send_signal, srv->io.pidfd, (int)sig, NULL, 0);
		break;
	default: log_debug("attach: unknown message %d", msg[0]);
	}
}

static bool input_waits(const struct attach_srv *srv)
{
	return srv->in_len > srv->in_off;
}

/* Read the client's messages while the container's stdin takes them. */
static void read_client(struct attach_srv *srv, struct attach_client *c)
{
	while (c->fd >= 0 && !input_waits(srv)) {
		ssize_t n = recv(c->fd, srv->msg, sizeof(srv->msg), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->hung_up)
				drop_client(c);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			drop_client(c);
			return;
		}
		handle_message(srv, srv->msg, (size_t)n);
	}
}

static void accept_clients(struct attach_srv *srv)
{
	while (srv->n_clients < ATTACH_MAX_CLIENTS) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		add_client(srv, fd);
	}
}

int attach_srv_poll_fill(struct attach_srv *srv, struct pollfd *p)
{
	bool want_input = !input_waits(srv);
	int n = 0;

	if (srv->listen_fd >= 0 && srv->n_clients < ATTACH_MAX_CLIENTS) {
		srv->poll_map[n] = POLL_LISTEN;
		p[n++] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
	}
	for (int i = 0; i < srv->n_clients; i++) {
		const struct attach_client *c = &srv->clients[i];
		short events = (short)((want_input ? POLLIN : 0) | (c->pending ? POLLOUT : 0));

		/* A client that hung up stays readable for good: only when its
		 * messages can be taken. */
		if (c->hung_up && !events)
			continue;
		srv->poll_map[n] = i;
		p[n++] = (struct pollfd){ .fd = c->fd, .events = events };
	}
	if (!want_input && srv->io.stdin_fd >= 0) {
		srv->poll_map[n] = POLL_STDIN;
		p[n++] = (struct pollfd){ .fd = srv->io.stdin_fd, .events = POLLOUT };
	}
	return n;
}

void attach_srv_poll_handle(struct attach_srv *srv, const struct pollfd *p, int n)
{
	for (int k = 0; k < n; k++) {
		struct attach_client *c;

		if (!p[k].revents)
			continue;
		if (srv->poll_map[k] == POLL_LISTEN) {
			accept_clients(srv);
			continue;
		}
		if (srv->poll_map[k] == POLL_STDIN) {
			if (p[k].revents & (POLLERR | POLLHUP))
				close_stdin(srv);
			else
				write_input(srv);
			continue;
		}
		c = &srv->clients[srv->poll_map[k]];
		if (c->fd < 0)
			continue;
		if (p[k].revents & (POLLHUP | POLLERR))
			c->hung_up = true;
		if (c->pending && (p[k].revents & (POLLOUT | POLLERR)))
			client_send_pending(c);
		if (c->fd >= 0 && (p[k].revents & (POLLIN | POLLHUP | POLLERR)))
			read_client(srv, c);
	}
	compact(srv);
}

/* --- detach keys ------------------------------------------------------------- */

/* docker's names of the control characters, in code order from 0. */
static const char *const ctrl_names[] = {
	"ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d", "ctrl-e", "ctrl-f", "ctrl-g",
	"ctrl-h", "ctrl-i", "ctrl-j", "ctrl-k", "ctrl-l", "ctrl-m", "ctrl-n", "ctrl-o",
	"ctrl-p", "ctrl-q", "ctrl-r", "ctrl-s", "ctrl-t", "ctrl-u", "ctrl-v", "ctrl-w",
	"ctrl-x", "ctrl-y", "ctrl-z", "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_",
};

static int parse_key(const char *key, size_t len, char *out)
{
	if (len == 1) {
		*out = key[0];
		return 0;
	}
	for (size_t code = 0; code < sizeof(ctrl_names) / sizeof(ctrl_names[0]); code++)
		if (strlen(ctrl_names[code]) == len && !strncasecmp(key, ctrl_names[code], len)) {
			*out = (char)code;
			return 0;
		}
	return -1;
}

int attach_parse_keys(const char *spec, char keys[ATTACH_KEYS_MAX], size_t *n,
		      struct sk_err *err)
{
	const char *p = spec;

	*n = 0;
	if (!*spec)
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (*n == ATTACH_KEYS_MAX || parse_key(p, len, &keys[*n]) < 0)
			return err_set(err, 0, "Invalid detach keys (%s) provided", spec);
		(*n)++;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* --- client ------------------------------------------------------------------ */

int attach_connect(int dirfd, struct sk_err *err)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return err_set(err, errno, "cannot create a socket");
	socket_address(dirfd, &addr);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		return err_set(err, e, "cannot reach the container's monitor");
	}
	return fd;
}

#define CLIENT_MAX_SIGNALS 16

struct client {
	const struct attach_client_opts *o;
	int sock;
	bool stdin_done, out_broken, eof_to_send, resize_to_send, got_exit;
	bool nudge_to_send; /* opts.redraw: the larger size first */
	int status;
	int sigs[CLIENT_MAX_SIGNALS]; /* to forward, oldest first */
	int n_sigs;
	size_t key_pos; /* detach keys matched so far (held back) */
	size_t pending; /* a message in out that waits for room */
	char out[ATTACH_MSG_MAX];
	char in[ATTACH_MSG_MAX];
};

/* 1: sent (or dropped: the monitor is gone, the read side will tell), 0: no room. */
static int client_try_send(struct client *c, const void *msg, size_t len)
{
	ssize_t n = send(c->sock, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return 1;
}

/* Send what waits: the data message first, then the controls. */
static void client_flush(struct client *c)
{
	if (c->pending) {
		if (!client_try_send(c, c->out, c->pending))
			return;
		c->pending = 0;
	}
	while (c->resize_to_send) {
		struct winsize ws;
		char msg[1 + 2 * sizeof(uint16_t)] = { ATTACH_RESIZE };
		uint16_t size[2];
		int more = c->nudge_to_send ? 1 : 0;

		if (console_window(&ws) == 0) {
			size[0] = (uint16_t)(ws.ws_row + more);
			size[1] = (uint16_t)(ws.ws_col + more);
			memcpy(msg + 1, size, sizeof(size));
			if (!client_try_send(c, msg, sizeof(msg)))
				return;
		}
		if (c->nudge_to_send)
			c->nudge_to_send = false;
		else
			c->resize_to_send = false;
	}
	while (c->n_sigs) {
		char msg[1 + sizeof(int32_t)] = { ATTACH_SIGNAL };
		int32_t sig = c->sigs[0];

		memcpy(msg + 1, &sig, sizeof(sig));
		if (!client_try_send(c, msg, sizeof(msg)))
			return;
		memmove(c->sigs, c->sigs + 1, (size_t)--c->n_sigs * sizeof(c->sigs[0]));
	}
	if (c->eof_to_send) {
		char msg = ATTACH_STDIN_EOF;

		if (!client_try_send(c, &msg, 1))
			return;
		c->eof_to_send = false;
	}
}

static bool client_has_queued(const struct client *c)
{
	return c->pending || c->resize_to_send || c->n_sigs || c->eof_to_send;
}

/* Input bytes in `in` (after the type byte) minus the detach keys: returns
 * true when the keys were typed; *len gets what is to be sent before them.
 * A partial match is held back until the next byte decides. */
static bool scan_detach_keys(struct client *c, const char *data, size_t n, size_t *len)
{
	const char *keys = c->o->keys;
	size_t k = c->o->n_keys, out = 1;

	for (size_t i = 0; i < n; i++) {
		if (data[i] == keys[c->key_pos]) {
			if (++c->key_pos == k)
				break;
			continue;
		}
		memcpy(c->out + out, keys, c->key_pos);
		out += c->key_pos;
		c->key_pos = 0;
		if (data[i] == keys[0]) {
			if (++c->key_pos == k)
				break;
			continue;
		}
		c->out[out++] = data[i];
	}
	*len = out;
	return c->key_pos == k;
}

/* One read of skiff's stdin into a message. true: the user detached. */
static bool read_stdin(struct client *c)
{
	char buf[ATTACH_DATA_MAX - ATTACH_KEYS_MAX];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	size_t len;
	bool detached = false;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		c->stdin_done = true;
		c->eof_to_send = true;
		return false;
	}
	c->out[0] = ATTACH_STDIN;
	if (c->o->n_keys) {
		detached = scan_detach_keys(c, buf, (size_t)n, &len);
	} else {
		memcpy(c->out + 1, buf, (size_t)n);
		len = (size_t)n + 1;
	}
	if (len > 1)
		c->pending = len;
	return detached;
}

static void write_output(struct client *c, int fd, const char *data, size_t len)
{
	while (len && !c->out_broken) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, -1);
			continue;
		}
		if (n <= 0) {
			/* A reader that quit: the container runs on, unseen. */
			c->out_broken = true;
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

/* Messages from the monitor. false when it hung up. */
static bool read_socket(struct client *c)
{
	for (;;) {
		ssize_t n = recv(c->sock, c->in, sizeof(c->in), MSG_DONTWAIT);
		int32_t status;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		switch (c->in[0]) {
		case ATTACH_STDOUT: write_output(c, STDOUT_FILENO, c->in + 1, (size_t)n - 1); break;
		case ATTACH_STDERR: write_output(c, STDERR_FILENO, c->in + 1, (size_t)n - 1); break;
		case ATTACH_EXIT:
			if (n != 1 + sizeof(status))
				break;
			memcpy(&status, c->in + 1, sizeof(status));
			c->status = status;
			c->got_exit = true;
			break;
		default: break;
		}
	}
}

/* The signals the client handles itself: SIGWINCH, the ones it forwards
 * (docker's sig-proxy, not with a terminal), and with a terminal the ones
 * that end it (to give the terminal back before dying of them). */
static void client_signals(const struct attach_client_opts *o, sigset_t *set)
{
	static const int ends[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

	sigemptyset(set);
	sigaddset(set, SIGWINCH);
	if (o->tty) {
		for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
			sigaddset(set, ends[i]);
	} else if (o->sig_proxy) {
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaddset(set, proxied[i]);
	}
}

struct client_term {
	bool raw;
	struct termios saved;
	sigset_t old_mask;
};

static void client_restore(struct client_term *t)
{
	if (t->raw)
		console_restore(STDIN_FILENO, &t->saved);
	t->raw = false;
	sigprocmask(SIG_SETMASK, &t->old_mask, NULL);
}

/* Signals read from sigfd. With a terminal, one that ends skiff does so
 * here, as docker's CLI does (the container runs on), the terminal restored. */
static void handle_client_signals(struct client *c, int sigfd, struct client_term *t)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;

		if (sig == SIGWINCH) {
			c->resize_to_send = c->o->tty;
		} else if (c->o->tty) {
			client_restore(t);
			signal(sig, SIG_DFL);
			raise(sig);
			_exit(128 + sig);
		} else if (c->n_sigs < CLIENT_MAX_SIGNALS) {
			c->sigs[c->n_sigs++] = sig;
		}
	}
}

static enum attach_end client_loop(struct client *c, int sigfd, struct client_term *t)
{
	for (;;) {
		struct pollfd p[3];
		bool read_input;

		client_flush(c);
		read_input = c->o->send_stdin && !c->stdin_done && !c->pending;
		p[0] = (struct pollfd){ .fd = c->sock,
					.events = (short)(POLLIN | (client_has_queued(c) ? POLLOUT : 0)) };
		p[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = read_input ? STDIN_FILENO : -1, .events = POLLIN };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return ATTACH_ENDED_CLOSED;
		}
		if (p[1].revents)
			handle_client_signals(c, sigfd, t);
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !read_socket(c))
			return c->got_exit ? ATTACH_ENDED_EXIT : ATTACH_ENDED_CLOSED;
		if (p[2].revents & POLLNVAL) {
			c->stdin_done = c->eof_to_send = true;
		} else if (p[2].revents && read_stdin(c)) {
			/* What was typed before the keys still goes. */
			if (c->pending)
				client_try_send(c, c->out, c->pending);
			return ATTACH_ENDED_DETACHED;
		}
	}
}

int attach_client_run(int sock, const struct attach_client_opts *o, enum attach_end *end,
		      int *status, struct sk_err *err)
{
	cleanup_free struct client *c = calloc(1, sizeof(*c));
	struct client_term t = { 0 };
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_pipe;
	cleanup_close int sigfd = -1;
	sigset_t set;

	if (!c) {
		close(sock);
		return err_set(err, ENOMEM, "cannot attach");
	}
	c->o = o;
	c->sock = sock;
	c->resize_to_send = o->tty;
	c->nudge_to_send = o->tty && o->redraw;
	client_signals(o, &set);
	sigprocmask(SIG_BLOCK, &set, &t.old_mask);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		err_set(err, errno, "cannot watch signals");
		sigprocmask(SIG_SETMASK, &t.old_mask, NULL);
		close(sock);
		return -1;
	}
	sigaction(SIGPIPE, &ignore, &old_pipe);
	if (o->tty && o->send_stdin)
		t.raw = console_raw_mode(STDIN_FILENO, &t.saved) == 0;
	*end = client_loop(c, sigfd, &t);
	*status = c->status;
	client_restore(&t);
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(sock);
	return 0;
}

/*
 * The container's stdio relay (relay.h). One poll loop moves every stream
 * and watches the process (pidfd) and skiff's signals (signalfd).
 *
 * Each stream copies src to dst (or into the log). skiff's own ends of the
 * container's pipes are non-blocking; skiff's stdin/stdout/stderr keep their
 * flags (they are shared with the user's shell). A stream whose dst is full
 * waits for POLLOUT on dst instead of POLLIN on src, so a container that
 * writes a lot while skiff still feeds its stdin cannot deadlock the two.
 *
 * splice moves the bytes when one side is a pipe and the kernel supports the
 * other (files, pipes, sockets, /dev/null); where it refuses (EINVAL: some
 * ttys, O_APPEND files) that stream falls back to read/write for good. Output
 * that is also logged is read and written: the log needs the bytes.
 *
 * Under a monitor there is no stdio of skiff's: output goes to the log and
 * to the attached clients, input comes from them (attach.c adds its
 * descriptors to the same poll).
 */
#include "runtime/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/attach.h"
#include "runtime/console.h"
#include "runtime/logfile.h"
#include "util/cleanup.h"
#include "util/log.h"

#define RELAY_BUF 65536
#define RELAY_SPLICE_MAX (1 << 20)
#define RELAY_MAX_STREAMS 3
/* The container's stdout and stdin pipes when skiff relays to its own
 * stdio: Linux's largest unprivileged size (fs.pipe-max-size), so a container
 * streaming data wakes skiff up 16 times less often than with the 64 KiB
 * default (1 GiB through dd: 288 -> 216 ms, BENCH.md). Pages are only taken
 * while data waits. Detached containers keep the default: they live long,
 * and a rootless user's pipe pages are limited (fs.pipe-user-pages-soft). */
#define RELAY_PIPE_SIZE (1 << 20)

enum pump { PUMP_MORE, PUMP_AGAIN, PUMP_BLOCKED, PUMP_DONE };

struct stream {
	int src, dst;
	bool own_src, own_dst; /* skiff's ends of the container's pipes */
	bool input;            /* skiff's stdin into the container */
	bool eot_at_eof;       /* input into a pty: EOF is the EOF character */
	bool use_splice;
	bool wait_dst; /* dst was full: wait until it is writable */
	bool src_never_waits; /* a pipe or a regular file */
	bool done;
	const char *name; /* output: "stdout" or "stderr" (for the log, the clients) */
	size_t off, len;  /* read/write fallback: bytes in buf */
	char buf[RELAY_BUF];
};

struct relay {
	struct stream streams[RELAY_MAX_STREAMS];
	int n;
	struct logfile *log;
	struct attach_srv *attach;
	int pidfd, sigfd, master;
	bool sig_proxy;
};

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int make_pipe(int p[2], struct sk_err *err)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(err, errno, "cannot create the container's stdio pipes");
	return 0;
}

int relay_make_pipes(bool input, struct relay_io *io, int child_fds[3], struct sk_err *err)
{
	int in[2], out[2], errp[2];

	child_fds[0] = child_fds[1] = child_fds[2] = -1;
	if (make_pipe(out, err) < 0)
		return -1;
	if (make_pipe(errp, err) < 0)
		goto fail_out;
	if (input && make_pipe(in, err) < 0)
		goto fail_err;
	if (!io->attach)
		fcntl(out[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	io->stdout_rd = out[0];
	io->stderr_rd = errp[0];
	child_fds[1] = out[1];
	child_fds[2] = errp[1];
	set_nonblock(out[0]);
	set_nonblock(errp[0]);
	if (input) {
		io->stdin_wr = in[1];
		child_fds[0] = in[0];
		set_nonblock(in[1]);
		if (!io->attach)
			fcntl(in[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	}
	return 0;
fail_err:
	close(errp[0]);
	close(errp[1]);
fail_out:
	close(out[0]);
	close(out[1]);
	return -1;
}

void relay_close(struct relay_io *io)
{
	close_and_reset(&io->stdin_wr);
	close_and_reset(&io->stdout_rd);
	close_and_reset(&io->stderr_rd);
}

/* --- one stream ------------------------------------------------------------ */

static void stream_finish(struct stream *s)
{
	if (s->done)
		return;
	s->done = true;
	if (s->own_src)
		close_and_reset(&s->src);
	if (s->own_dst)
		close_and_reset(&s->dst);
}

/* End of input: the container reads EOF (a pty gets its EOF character). */
static enum pump stream_eof(struct stream *s)
{
	if (s->eot_at_eof)
		(void)!write(s->dst, "\x04", 1);
	stream_finish(s);
	return PUMP_DONE;
}

/* dst is gone (skiff's stdout closed by a reader that quit, the container
 * closed its stdin): stop, and let the container see it as a broken pipe. */
static enum pump stream_broken(struct stream *s)
{
	log_debug("relay: %s closed: %s", s->input ? "the container's stdin" : "the output",
		  strerror(errno));
	stream_finish(s);
	return PUMP_DONE;
}

static enum pump flush_buf(struct stream *s)
{
	ssize_t n = write(s->dst, s->buf + s->off, s->len - s->off);

	if (n < 0 && errno == EINTR)
		return PUMP_MORE;
	if (n < 0 && errno == EAGAIN)
		return PUMP_BLOCKED;
	if (n <= 0)
		return stream_broken(s);
	s->off += (size_t)n;
	if (s->off == s->len)
		s->off = s->len = 0;
	return PUMP_MORE;
}

static bool readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

/* 1: moved bytes or finished; 0: fall back to read/write; else a pump. */
static int try_splice(struct stream *s, enum pump *result)
{
	ssize_t n = splice(s->src, NULL, s->dst, NULL, RELAY_SPLICE_MAX,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n > 0 || (n < 0 && errno == EINTR)) {
		*result = PUMP_MORE;
		return 1;
	}
	if (n == 0) {
		*result = s->input ? stream_eof(s) : (stream_finish(s), PUMP_DONE);
		return 1;
	}
	if (errno == EAGAIN) {
		/* Either side may say EAGAIN: a pipe source that is empty, or a
		 * pipe destination that is full. */
		*result = readable_now(s->src) ? PUMP_BLOCKED : PUMP_AGAIN;
		return 1;
	}
	if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
		log_debug("relay: splice refused (%s), copying", strerror(errno));
		s->use_splice = false;
		return 0;
	}
	if (errno == EIO && !s->input) {
		*result = (stream_finish(s), PUMP_DONE); /* pty: the slave is gone */
		return 1;
	}
	*result = stream_broken(s);
	return 1;
}

static void record(struct stream *s, struct logfile *log, size_t n)
{
	struct sk_err err = { 0 };

	if (log && logfile_write(log, s->name, s->buf, n, &err) < 0)
		log_debug("log: %s", err.msg);
}

/* Small reads: a monitor lives as long as its container, and only touches
 * the first pages of its buffers (BENCH.md, monitor RSS); one read is one
 * message to the clients. */
#define RELAY_MONITOR_READ ATTACH_DATA_MAX

/* Under a monitor: into the log and to whoever is attached. A client that
 * is full holds the reading back (attach_srv_busy). */
static enum pump pump_to_clients(struct stream *s, struct relay *r)
{
	ssize_t n;

	if (attach_srv_busy(r->attach))
		return PUMP_BLOCKED;
	n = read(s->src, s->buf, RELAY_MONITOR_READ);
	if (n < 0 && errno == EINTR)
		return PUMP_MORE;
	if (n < 0 && errno == EAGAIN)
		return PUMP_AGAIN;
	if (n <= 0) {
		stream_finish(s);
		return PUMP_DONE;
	}
	record(s, r->log, (size_t)n);
	attach_srv_output(r->attach, !strcmp(s->name, "stderr"), s->buf, (size_t)n);
	return PUMP_MORE;
}

static enum pump pump(struct stream *s, struct relay *rl)
{
	enum pump r;
	ssize_t n;

	if (s->done)
		return PUMP_DONE;
	if (rl->attach && !s->input)
		return pump_to_clients(s, rl);
	if (s->len > s->off)
		return flush_buf(s);
	if (s->use_splice && try_splice(s, &r))
		return r;
	n = read(s->src, s->buf, sizeof(s->buf));
	if (n < 0 && errno == EINTR)
		return PUMP_MORE;
	if (n < 0 && errno == EAGAIN)
		return PUMP_AGAIN;
	if (n == 0 || (n < 0 && errno == EIO)) {
		if (s->input)
			return stream_eof(s);
		stream_finish(s);
		return PUMP_DONE;
	}
	if (n < 0)
		return s->input ? stream_broken(s) : (stream_finish(s), PUMP_DONE);
	if (!s->input)
		record(s, rl->log, (size_t)n);
	s->off = 0;
	s->len = (size_t)n;
	return flush_buf(s);
}

/* Move what is there now; remember whether dst is what we wait for. skiff's
 * own stdin may block when read again (a terminal, a socket): one transfer
 * per poll then; a pipe spliced with SPLICE_F_NONBLOCK or a file never waits,
 * and looping on them is what keeps up with a fast writer (3x on 1 GiB). */
static void pump_ready(struct stream *s, struct relay *rl)
{
	int rounds = s->input && !(s->use_splice && s->src_never_waits) ? 1 : 64;

	for (int i = 0; i < rounds; i++) {
		enum pump r = pump(s, rl);

		/* under a monitor, the clients are what output waits for */
		s->wait_dst = r == PUMP_BLOCKED && !(rl->attach && !s->input);
		if (r != PUMP_MORE)
			return;
	}
}

/* --- the loop -------------------------------------------------------------- */

/* name: an output stream's ("stdout", "stderr"); NULL for input. */
static void add_stream(struct relay *r, int src, int dst, bool own_src, bool own_dst,
		       const char *name)
{
	struct stream *s = &r->streams[r->n++];
	struct stat st;

	memset(s, 0, offsetof(struct stream, buf));
	s->src = src;
	s->dst = dst;
	s->own_src = own_src;
	s->own_dst = own_dst;
	s->input = !name;
	s->name = name;
	s->use_splice = !name || (!r->log && !r->attach);
	s->src_never_waits = fstat(src, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode));
}

/* Under a monitor the container's stdin (pipe or pty) is the attach
 * server's to write; skiff's own stdin is /dev/null there. */
static void plan_streams(struct relay *r, struct relay_io *io)
{
	bool own_stdio = !io->attach;

	if (io->master >= 0) {
		add_stream(r, io->master, own_stdio ? STDOUT_FILENO : -1, false, false, "stdout");
		if (io->input && own_stdio) {
			add_stream(r, STDIN_FILENO, io->master, false, false, NULL);
			r->streams[r->n - 1].eot_at_eof = true;
		}
	}
	if (io->stdout_rd >= 0)
		add_stream(r, io->stdout_rd, own_stdio ? STDOUT_FILENO : -1, true, false, "stdout");
	if (io->stderr_rd >= 0)
		add_stream(r, io->stderr_rd, own_stdio ? STDERR_FILENO : -1, true, false, "stderr");
	if (io->attach) {
		attach_srv_begin_io(io->attach,
				    &(struct attach_io){ .stdin_fd = io->master >= 0 && io->input
									 ? io->master
									 : io->stdin_wr,
							 .stdin_is_pty = io->master >= 0,
							 .master = io->master,
							 .pidfd = r->pidfd });
	} else if (io->stdin_wr >= 0 && r->n < RELAY_MAX_STREAMS) {
		add_stream(r, STDIN_FILENO, io->stdin_wr, false, true, NULL);
	}
	/* The streams (or the attach server) own these now. */
	io->stdout_rd = io->stderr_rd = io->stdin_wr = -1;
}

static void handle_signals(const struct relay *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			if (r->master >= 0 && !r->attach)
				console_resize(r->master);
		} else if (r->sig_proxy) {
			syscall(SYS_pidfd_send_signal, r->pidfd, (int)si.ssi_signo, NULL, 0);
		}
	}
}

static int exit_status_of(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return si->si_status;
	return 128 + si->si_status;
}

/* Until the process exits. */
static int relay_loop(struct relay *r, int *status)
{
	for (;;) {
		struct pollfd p[2 + RELAY_MAX_STREAMS + ATTACH_POLL_MAX];
		int idx[RELAY_MAX_STREAMS];
		int np = 2, attach_at = 0, n_attach = 0;
		bool clients_busy = r->attach && attach_srv_busy(r->attach);

		p[0] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
		for (int i = 0; i < r->n; i++) {
			struct stream *s = &r->streams[i];

			idx[i] = -1;
			if (s->done || (clients_busy && !s->input))
				continue;
			idx[i] = np;
			p[np++] = s->wait_dst ? (struct pollfd){ .fd = s->dst, .events = POLLOUT }
					      : (struct pollfd){ .fd = s->src, .events = POLLIN };
		}
		if (r->attach) {
			attach_at = np;
			n_attach = attach_srv_poll_fill(r->attach, p + np);
			np += n_attach;
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			handle_signals(r);
		if (n_attach)
			attach_srv_poll_handle(r->attach, p + attach_at, n_attach);
		for (int i = 0; i < r->n; i++)
			if (idx[i] >= 0 && p[idx[i]].revents)
				pump_ready(&r->streams[i], r);
		if (p[0].revents) {
			siginfo_t si = { 0 };

			if (waitid((idtype_t)P_PIDFD, (id_t)r->pidfd, &si, WEXITED) < 0)
				return -1;
			*status = exit_status_of(&si);
			return 0;
		}
	}
}

/* How long an attached client may take the last output before it is let go:
 * the exit is recorded only after the drain. */
#define DRAIN_CLIENT_MS 2000

/* After the exit: what the container left in its pipes. Every process of a
 * container's PID namespace is gone once its pid 1 is, so its pipes end;
 * after an exec, a child left behind may still hold them: stop at "empty". A
 * terminal is only read for what it has now, for the same reason. */
static void drain(struct relay *r)
{
	for (int i = 0; i < r->n; i++) {
		struct stream *s = &r->streams[i];

		if (s->input) {
			stream_finish(s);
			continue;
		}
		for (;;) {
			enum pump res = pump(s, r);

			if (res == PUMP_DONE || res == PUMP_AGAIN)
				break;
			if (res == PUMP_BLOCKED && r->attach) {
				attach_srv_flush(r->attach, DRAIN_CLIENT_MS);
			} else if (res == PUMP_BLOCKED) {
				struct pollfd p = { .fd = s->dst, .events = POLLOUT };

				if (poll(&p, 1, -1) < 0 && errno != EINTR)
					break;
			}
		}
		stream_finish(s);
	}
	if (r->log)
		logfile_flush(r->log, &(struct sk_err){ 0 });
	if (r->attach) {
		attach_srv_flush(r->attach, DRAIN_CLIENT_MS);
		attach_srv_end_io(r->attach);
	}
}

int relay_run(struct relay_io *io, int pidfd, int sigfd, bool sig_proxy, int *status,
	      struct sk_err *err)
{
	struct relay *r = calloc(1, sizeof(*r)); /* 200 kB of buffers */
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_pipe;
	struct termios saved;
	bool raw = false;
	int ret;

	if (!r) {
		relay_close(io);
		return err_set(err, ENOMEM, "cannot relay the container's stdio");
	}
	r->log = io->log;
	r->attach = io->attach;
	r->pidfd = pidfd;
	r->sigfd = sigfd;
	r->master = io->master;
	r->sig_proxy = sig_proxy;
	plan_streams(r, io);
	/* A reader of skiff's stdout that quits is EPIPE here, not death. */
	sigaction(SIGPIPE, &ignore, &old_pipe);
	if (io->master >= 0)
		set_nonblock(io->master); /* skiff's own file description */
	if (io->master >= 0 && !io->attach) {
		console_resize(io->master);
		raw = io->input && console_raw_mode(STDIN_FILENO, &saved) == 0;
	}
	ret = relay_loop(r, status);
	if (ret < 0)
		err_set(err, errno, "cannot wait for the container's process");
	drain(r);
	if (raw)
		console_restore(STDIN_FILENO, &saved);
	sigaction(SIGPIPE, &old_pipe, NULL);
	for (int i = 0; i < r->n; i++)
		stream_finish(&r->streams[i]);
	free(r);
	return ret;
}

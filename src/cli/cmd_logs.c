/*
 * skiff logs: docker logs for containers logging in json-file format (every
 * container but those run with --log-driver none: a foreground one's output
 * is recorded too, as docker's). Each record's text goes to stdout or stderr
 * as it was written, rotated files oldest first; -f follows ctr.log across
 * rotations until the container has exited, woken by inotify when the log
 * grows or the state changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/logfile.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const char logs_usage[] =
	"Usage:  skiff logs [OPTIONS] CONTAINER\n\n"
	"Fetch the logs of a container\n\n"
	"Options:\n"
	"  -f, --follow         follow log output until the container exits\n"
	"      --since string   show logs since a timestamp (2013-01-02T13:23:37Z, 1136214245)\n"
	"                       or relative time (42m)\n"
	"  -n, --tail string    number of lines to show from the end of the logs (default \"all\")\n"
	"  -t, --timestamps     show timestamps\n"
	"      --until string   show logs before a timestamp or relative time\n"
	"      --details        accepted for docker compatibility\n";

/* -f without inotify: how often it looks for new lines and the exit; with
 * inotify, how often it checks that the container's monitor is alive (one
 * killed with -9 writes nothing when it dies). */
#define FOLLOW_POLL_MS 100
#define FOLLOW_ALIVE_MS 1000

struct logs_opts {
	bool follow, timestamps;
	long long tail; /* -1 = all */
	int64_t since, until; /* ns; 0 = unset */
};

/* Output grouped by stream: stdout and stderr stay in the order written. */
struct out {
	int fd;
	size_t len;
	char buf[64 * 1024];
};

static int out_flush(struct out *o, struct sk_err *err)
{
	int r = o->len ? fs_write_all(o->fd, o->buf, o->len) : 0;

	o->len = 0;
	if (r < 0)
		return err_set(err, -r, "cannot write logs");
	return 0;
}

static int out_put(struct out *o, int fd, const char *s, size_t n, struct sk_err *err)
{
	if (fd != o->fd && out_flush(o, err) < 0)
		return -1;
	o->fd = fd;
	if (o->len + n > sizeof(o->buf) && out_flush(o, err) < 0)
		return -1;
	if (n > sizeof(o->buf)) {
		int r = fs_write_all(fd, s, n);

		return r < 0 ? err_set(err, -r, "cannot write logs") : 0;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/* Go duration ("1h30m", "42m", "10s", "1.5h", "500ms") -> ns. */
static int parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		      { "m", 60e9 }, { "h", 3600e9 } };
	double total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		size_t best = 0, i, ulen = 0;

		if (end == s || v < 0)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (strncmp(end, units[i].unit, l) == 0 && l > ulen)
				best = i, ulen = l;
		}
		if (!ulen)
			return -1;
		total += v * units[best].ns;
		s = end + ulen;
	}
	*ns = (int64_t)total;
	return 0;
}

/* docker's --since/--until: RFC 3339 time, Unix time, or a duration ago. */
static int parse_when(const char *opt, const char *s, int64_t *ns, struct sk_err *err)
{
	struct timespec now;
	int64_t d;
	char *end;
	double unix_s;

	if (logfile_parse_time(s, strlen(s), ns, err) == 0)
		return 0;
	unix_s = strtod(s, &end);
	if (end != s && !*end && unix_s >= 0) {
		*ns = (int64_t)(unix_s * 1e9);
		return 0;
	}
	if (parse_duration(s, &d) == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		*ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - d;
		return 0;
	}
	return cli_usage_error(err, "logs", "invalid value \"%s\" for \"--%s\"", s, opt);
}

static int parse_tail(const char *s, long long *tail, struct sk_err *err)
{
	char *end;

	if (strcmp(s, "all") == 0) {
		*tail = -1;
		return 0;
	}
	*tail = strtoll(s, &end, 10);
	if (end == s || *end)
		return cli_usage_error(err, "logs", "invalid value \"%s\" for \"--tail\"", s);
	if (*tail < 0)
		*tail = -1; /* docker: a negative tail is all */
	return 0;
}

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_DETAILS };

static int parse_opts(int argc, char **argv, struct logs_opts *o, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "tail", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "details", no_argument, NULL, OPT_DETAILS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+ftn:h", opts)) != -1) {
		switch (c) {
		case 'f':
			o->follow = true;
			break;
		case 't':
			o->timestamps = true;
			break;
		case 'n':
			if (parse_tail(optarg, &o->tail, err) < 0)
				return -1;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (parse_when(c == OPT_SINCE ? "since" : "until", optarg,
				       c == OPT_SINCE ? &o->since : &o->until, err) < 0)
				return -1;
			break;
		case OPT_DETAILS:
			break;
		case 'h':
			return 1;
		default:
			return cli_usage_error(err, "logs", "unknown flag '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(err, "logs", "\"skiff logs\" requires exactly 1 argument");
	return 0;
}

/* One json-file line to its stream (lines that do not parse are skipped). */
static int print_line(const struct logs_opts *o, struct out *out, const char *line, size_t len,
		      char *text, struct sk_err *err)
{
	struct log_record rec;
	struct sk_err ignored;
	char ts[32];
	int fd;

	if (logfile_parse_line(line, len, &rec, text, LOGFILE_READ_LINE_MAX, &ignored) < 0)
		return 0;
	if ((o->since && rec.time_ns < o->since) || (o->until && rec.time_ns > o->until))
		return 0;
	fd = rec.stream == LOG_STDERR ? STDERR_FILENO : STDOUT_FILENO;
	if (o->timestamps) {
		logfile_format_time(rec.time_ns, ts);
		if (out_put(out, fd, ts, strlen(ts), err) < 0 || out_put(out, fd, " ", 1, err) < 0)
			return -1;
	}
	return out_put(out, fd, rec.text, rec.len, err);
}

/* Lines the logs hold now (for --tail). */
static long long count_lines(int dirfd, unsigned max_file, struct sk_err *err)
{
	struct log_cursor *c;
	const char *line;
	size_t len;
	long long n = 0;
	int r;

	if (log_cursor_open(dirfd, max_file, &c, err) < 0)
		return -1;
	while ((r = log_cursor_next(c, &line, &len, err)) == 1)
		n++;
	log_cursor_close(c);
	return r < 0 ? -1 : n;
}

/* Exited (or never started, or removed): -f stops once it has read the rest. */
static bool container_done(int dirfd)
{
	struct ctr_state st;
	struct sk_err ignored;

	if (ctr_state_load(dirfd, &st, &ignored) < 0)
		return true;
	return st.status == CTR_EXITED || st.status == CTR_CREATED;
}

struct reader {
	const struct logs_opts *o;
	struct log_cursor *cursor;
	struct out out;
	long long skip;
	char text[LOGFILE_READ_LINE_MAX];
};

/* Print what there is now: 0 at the end of the data, -1 on error. */
static int print_available(struct reader *r, struct sk_err *err)
{
	const char *line;
	size_t len;
	int got;

	while ((got = log_cursor_next(r->cursor, &line, &len, err)) == 1) {
		if (r->skip > 0) {
			r->skip--;
			continue;
		}
		if (print_line(r->o, &r->out, line, len, r->text, err) < 0)
			return -1;
	}
	if (got < 0)
		return -1;
	return out_flush(&r->out, err);
}

/* Watch the container's directory: the log written, rotated (a rename, a
 * new file), state.json replaced (a rename), the directory removed. -1 when
 * inotify is not available (follow then polls). */
static int watch_dir(int dirfd)
{
	char path[64];
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	if (inotify_add_watch(fd, path,
			      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF) <
	    0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void wait_for_change(int inotify_fd)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (inotify_fd < 0) {
		poll(NULL, 0, FOLLOW_POLL_MS);
		return;
	}
	if (poll(&(struct pollfd){ .fd = inotify_fd, .events = POLLIN }, 1, FOLLOW_ALIVE_MS) > 0)
		while (read(inotify_fd, events, sizeof(events)) > 0)
			;
}

static int follow(struct reader *r, int dirfd, struct sk_err *err)
{
	cleanup_close int inotify_fd = watch_dir(dirfd);

	for (;;) {
		/* Checked before the last read, so lines written before the
		 * exit was recorded are all printed. */
		bool done = container_done(dirfd);

		if (print_available(r, err) < 0)
			return -1;
		if (done)
			return 0;
		wait_for_change(inotify_fd);
	}
}

static int show_logs(const struct logs_opts *o, int dirfd, unsigned max_file, struct sk_err *err)
{
	cleanup_free struct reader *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return err_set(err, ENOMEM, "cannot read logs");
	r->o = o;
	if (o->tail >= 0) {
		long long total = count_lines(dirfd, max_file, err);

		if (total < 0)
			return -1;
		r->skip = total > o->tail ? total - o->tail : 0;
	}
	if (log_cursor_open(dirfd, max_file, &r->cursor, err) < 0)
		return -1;
	ret = o->follow ? follow(r, dirfd, err) : print_available(r, err);
	log_cursor_close(r->cursor);
	return ret;
}

static int exec_logs(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct logs_opts o = { .tail = -1 };
	struct ctr_config cfg = { 0 };
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1;
	int r = parse_opts(argc, argv, &o, err);

	if (r != 0)
		return r < 0 ? -1 : (fputs(logs_usage, stdout), 0);
	if (ctr_resolve(&ctx->store, argv[optind], id, err) < 0) {
		err->exit_code = 1;
		return -1;
	}
	dirfd = ctr_open_dir(&ctx->store, id, err);
	if (dirfd < 0 || ctr_config_read(dirfd, &cfg, err) < 0)
		return -1;
	r = show_logs(&o, dirfd, cfg.log_max_file, err);
	ctr_config_release(&cfg);
	return r < 0 ? -1 : 0;
}

const struct command cmd_logs = {
	.name = "logs",
	.summary = "Fetch the logs of a container",
	.usage = logs_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_logs,
};

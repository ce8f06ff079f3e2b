/*
 * The store's event log (events.h): one short JSON line per event, appended
 * with one write; read back and followed by `skiff events`.
 */
#include "runtime/events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/log.h"

/* --- writing ------------------------------------------------------------ */

struct line {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->full || l->len + n >= l->cap) {
		l->full = true;
		return;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void put_json(struct line *l, const char *s)
{
	put(l, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(l, esc, 6);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	put(l, "\"", 1);
}

static void sort_attrs(const struct event_attr **v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1]->key, v[j]->key) > 0; j--) {
			const struct event_attr *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

#define EVENTS_MAX_ATTRS 32

int events_format_line(const struct event *ev, char *out, size_t cap)
{
	const struct event_attr *sorted[EVENTS_MAX_ATTRS];
	struct line l = {.p = out, .cap = cap};
	size_t n = ev->n_attrs < EVENTS_MAX_ATTRS ? ev->n_attrs : EVENTS_MAX_ATTRS, k = 0;
	int64_t t = ev->time_ns ? ev->time_ns : ctr_now_ns();
	char num[128];

	for (size_t i = 0; i < n; i++)
		if (ev->attrs[i].key && ev->attrs[i].value)
			sorted[k++] = &ev->attrs[i];
	sort_attrs(sorted, k);
	put_str(&l, "{\"Type\":");
	put_json(&l, ev->type);
	put_str(&l, ",\"Action\":");
	put_json(&l, ev->action);
	put_str(&l, ",\"Actor\":{\"ID\":");
	put_json(&l, ev->actor_id ? ev->actor_id : "");
	put_str(&l, ",\"Attributes\":{");
	for (size_t i = 0; i < k; i++) {
		if (i)
			put(&l, ",", 1);
		put_json(&l, sorted[i]->key);
		put(&l, ":", 1);
		put_json(&l, sorted[i]->value);
	}
	snprintf(num, sizeof(num), "}},\"scope\":\"local\",\"time\":%lld,\"timeNano\":%lld}",
		 (long long)(t / 1000000000), (long long)t);
	put_str(&l, num);
	if (l.full)
		return -1;
	out[l.len] = '\0';
	return (int)l.len;
}

/* The file is past its size: one writer (under the lock, the file still
 * the one it wrote to) moves it aside; the next write starts a new one. */
static void rotate(int store_fd, int fd)
{
	cleanup_close int lock =
	    openat(store_fd, EVENTS_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct stat mine, now;

	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return;
	if (fstat(fd, &mine) == 0 &&
	    fstatat(store_fd, EVENTS_FILE, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    mine.st_dev == now.st_dev && mine.st_ino == now.st_ino &&
	    now.st_size > EVENTS_ROTATE_BYTES)
		renameat(store_fd, EVENTS_FILE, store_fd, EVENTS_OLD_FILE);
}

void events_write(int store_fd, const struct event *ev)
{
	char line[EVENTS_LINE_MAX];
	int n = events_format_line(ev, line, sizeof(line) - 1);
	cleanup_close int fd = -1;
	off_t end;

	if (n < 0 || store_fd < 0)
		return;
	line[n++] = '\n';
	fd = openat(store_fd, EVENTS_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		log_debug("event %s %s not recorded: %s", ev->type, ev->action, strerror(errno));
		return;
	}
	end = lseek(fd, 0, SEEK_CUR);
	if (end > EVENTS_ROTATE_BYTES)
		rotate(store_fd, fd);
}

void events_container(int store_fd, const char *action, const char *id, const char *name,
		      const char *image, const struct event_attr *extra, size_t n_extra)
{
	struct event_attr attrs[EVENTS_MAX_ATTRS];
	size_t n = 0;

	attrs[n++] = (struct event_attr){"image", image ? image : ""};
	attrs[n++] = (struct event_attr){"name", name ? name : ""};
	for (size_t i = 0; i < n_extra && n < EVENTS_MAX_ATTRS; i++)
		attrs[n++] = extra[i];
	events_write(store_fd, &(struct event){.type = "container",
					       .action = action,
					       .actor_id = id,
					       .attrs = attrs,
					       .n_attrs = n});
}

void events_container_at(int store_fd, int dirfd, const char *id, const char *action,
			 const struct event_attr *extra, size_t n_extra)
{
	struct sk_err ignored = {0};
	struct ctr_config c;

	if (ctr_config_read(dirfd, &c, &ignored) < 0)
		memset(&c, 0, sizeof(c));
	events_container(store_fd, action, id, c.name, c.image, extra, n_extra);
	ctr_config_release(&c);
}

void events_image(int store_fd, const char *action, const char *id, const char *name)
{
	struct event_attr attr = {"name", name};

	events_write(store_fd, &(struct event){.type = "image",
					       .action = action,
					       .actor_id = id,
					       .attrs = &attr,
					       .n_attrs = name ? 1 : 0});
}

/* --- reading ------------------------------------------------------------ */

int events_reader_open(int store_fd, bool history, struct events_reader *r, struct sk_err *err)
{
	char dir[64];
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->store_fd = store_fd;
	r->old_first = history;
	/* The watch first: nothing written after the open can be missed. */
	r->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	snprintf(dir, sizeof(dir), "/proc/self/fd/%d", store_fd);
	if (r->inotify_fd >= 0 &&
	    inotify_add_watch(r->inotify_fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		close(r->inotify_fd);
		r->inotify_fd = -1;
	}
	r->fd = openat(store_fd, EVENTS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0 && errno != ENOENT)
		return err_set(err, errno, "cannot open the event log");
	if (r->fd >= 0) {
		if (fstat(r->fd, &st) < 0)
			return err_set(err, errno, "cannot read the event log");
		r->dev = st.st_dev;
		r->ino = st.st_ino;
		if (!history)
			lseek(r->fd, 0, SEEK_END);
	}
	return 0;
}

/* Hand each complete line of data to fn; an unfinished one stays pending. */
static int split_lines(struct events_reader *r, const char *data, size_t len, events_line_fn fn,
		       void *ctx)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t part = nl ? (size_t)(nl - data) : len;
		int ret;

		if (!r->skipping && r->pending_len + part < sizeof(r->pending)) {
			memcpy(r->pending + r->pending_len, data, part);
			r->pending_len += part;
		} else {
			r->skipping = true; /* longer than any line skiff writes */
		}
		if (!nl)
			return 0;
		data += part + 1;
		len -= part + 1;
		if (!r->skipping && r->pending_len) {
			r->pending[r->pending_len] = '\0';
			ret = fn(r->pending, r->pending_len, ctx);
			if (ret < 0)
				return ret;
		}
		r->pending_len = 0;
		r->skipping = false;
	}
	return 0;
}

static int drain(struct events_reader *r, int fd, events_line_fn fn, void *ctx, struct sk_err *err)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		int ret;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, errno, "cannot read the event log");
		if (n == 0)
			return 0;
		ret = split_lines(r, buf, (size_t)n, fn, ctx);
		if (ret < 0)
			return ret;
	}
}

/* events.1, for a reader of the whole history: complete lines only. */
static int read_old(struct events_reader *r, events_line_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_close int fd =
	    openat(r->store_fd, EVENTS_OLD_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int ret;

	if (fd < 0)
		return 0;
	ret = drain(r, fd, fn, ctx, err);
	r->pending_len = 0;
	r->skipping = false;
	return ret;
}

/* Is the file at EVENTS_FILE another one than the one being read (rotated,
 * or made since)? Opens it into *fd when so. */
static bool switched(struct events_reader *r, int *fd)
{
	struct stat st;

	*fd = openat(r->store_fd, EVENTS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return false;
	if (fstat(*fd, &st) == 0 && (r->fd < 0 || st.st_dev != r->dev || st.st_ino != r->ino)) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
		return true;
	}
	close(*fd);
	*fd = -1;
	return false;
}

int events_reader_read(struct events_reader *r, events_line_fn fn, void *ctx, struct sk_err *err)
{
	int next, ret;

	if (r->old_first) {
		r->old_first = false;
		ret = read_old(r, fn, ctx, err);
		if (ret < 0)
			return ret;
	}
	if (r->fd >= 0) {
		ret = drain(r, r->fd, fn, ctx, err);
		if (ret < 0)
			return ret;
	}
	if (!switched(r, &next))
		return 0;
	/* The old file's last lines were read above; a half line left at its
	 * end belongs to no one now. */
	if (r->fd >= 0)
		close(r->fd);
	r->fd = next;
	r->pending_len = 0;
	r->skipping = false;
	return drain(r, r->fd, fn, ctx, err);
}

void events_reader_wait(struct events_reader *r, int timeout_ms)
{
	struct pollfd p = {.fd = r->inotify_fd, .events = POLLIN};
	char buf[4096];

	/* Without inotify: look again every 100 ms. */
	if (r->inotify_fd < 0) {
		int ms = timeout_ms < 0 || timeout_ms > 100 ? 100 : timeout_ms;

		nanosleep(&(struct timespec){.tv_nsec = (long)ms * 1000000}, NULL);
		return;
	}
	if (poll(&p, 1, timeout_ms) > 0)
		while (read(r->inotify_fd, buf, sizeof(buf)) > 0)
			;
}

void events_reader_close(struct events_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->inotify_fd >= 0)
		close(r->inotify_fd);
	r->fd = r->inotify_fd = -1;
}

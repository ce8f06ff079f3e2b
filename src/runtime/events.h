/*
 * The store's event log, for `skiff events`: docker's lifecycle events
 * (container create, start, die, kill, stop, pause, unpause, rename, update,
 * destroy; image pull, tag, untag, delete, load) as one JSON line each,
 * appended to <root>/events by whichever skiff process made the change.
 * There is no daemon to keep them in memory, so the file is the stream:
 * `events` reads what is there and follows what comes.
 *
 * A line is docker's event message (Type, Action, Actor{ID, Attributes},
 * scope, time, timeNano) without its deprecated copies (status, id, from),
 * which `events` adds when it prints, as docker 28 does.
 *
 * Writing costs one open, one O_APPEND write and one close: the kernel
 * appends a write to a regular file as one piece (the inode lock), so
 * concurrent writers never interleave and no lock is taken. A reader sees a
 * line only once its newline is there. When the file passes
 * EVENTS_ROTATE_BYTES a writer renames it to events.1 (under events.lock, so
 * one rotation at a time); readers of the history read events.1 first.
 * Events are best effort: a store that cannot take them loses the event,
 * never the operation.
 */
#ifndef SKIFF_RUNTIME_EVENTS_H
#define SKIFF_RUNTIME_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"

#define EVENTS_FILE "events"
#define EVENTS_OLD_FILE "events.1"
#define EVENTS_LOCK_FILE "events.lock"
#define EVENTS_ROTATE_BYTES (4 << 20)
#define EVENTS_LINE_MAX 4096

struct event_attr {
	const char *key;
	const char *value;
};

struct event {
	const char *type;		/* "container", "image", "network", "volume" */
	const char *action;		/* "create", "die", ... */
	const char *actor_id;		/* container id, image id, "" */
	const struct event_attr *attrs; /* any order: written sorted by key */
	size_t n_attrs;
	int64_t time_ns; /* 0: now */
};

/* Append ev to the log of the store whose root is store_fd. */
void events_write(int store_fd, const struct event *ev);

/* A container event: Attributes image and name, and extra (exitCode,
 * signal, oldName...). */
void events_container(int store_fd, const char *action, const char *id, const char *name,
		      const char *image, const struct event_attr *extra, size_t n_extra);
/* The same with name and image read from the container's config.json
 * (dirfd: its directory), for the commands that have not read it. */
void events_container_at(int store_fd, int dirfd, const char *id, const char *action,
			 const struct event_attr *extra, size_t n_extra);
/* An image event: Actor.ID id (an image id, or a reference for pull),
 * Attributes name. */
void events_image(int store_fd, const char *action, const char *id, const char *name);

/* Format a line (no newline) into out; -1 when it does not fit (values are
 * JSON-escaped). Exposed for the unit tests. */
int events_format_line(const struct event *ev, char *out, size_t cap);

/*
 * Reading: the lines already there (history), then the ones that come.
 *
 *   struct events_reader r;
 *   events_reader_open(store_fd, history, &r, err);
 *   events_reader_read(&r, fn, ctx, err);  // with history: events.1, events
 *   while (...) { events_reader_wait(&r, ms); events_reader_read(&r, fn, ctx, err); }
 *   events_reader_close(&r);
 */
struct events_reader {
	int store_fd; /* not owned */
	int fd;	      /* the events file being followed, -1 before it exists */
	dev_t dev;
	ino_t ino;
	int inotify_fd;		       /* a watch on the store's directory, -1 when unavailable */
	bool old_first;		       /* the first read starts with events.1 */
	bool skipping;		       /* in a line too long to keep: drop it */
	char pending[EVENTS_LINE_MAX]; /* an incomplete last line */
	size_t pending_len;
};
/* fn gets each complete line (NUL-terminated, no newline); a negative
 * return stops the reading and is returned. */
typedef int (*events_line_fn)(const char *line, size_t len, void *ctx);
/* history: the first read returns every line there is (events.1, then
 * events); otherwise only lines appended after the open. */
int events_reader_open(int store_fd, bool history, struct events_reader *r, struct sk_err *err);
/* The complete lines appended since the last read, following a rotation. */
int events_reader_read(struct events_reader *r, events_line_fn fn, void *ctx, struct sk_err *err);
/* Sleep until the store's directory changes or timeout_ms pass (< 0: no
 * limit); a signal ends it early too. */
void events_reader_wait(struct events_reader *r, int timeout_ms);
void events_reader_close(struct events_reader *r);

#endif

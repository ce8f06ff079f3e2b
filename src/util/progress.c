/*
 * Pull progress: docker-like live lines on a terminal, one completion line per
 * layer elsewhere. See progress.h.
 */
#include "util/progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/human.h"

#define SHORT_DIGEST_LEN 12
#define LINE_MAX_BYTES 160
#define REDRAW_INTERVAL_S 0.1

struct progress_item {
	char short_digest[SHORT_DIGEST_LEN + 1];
	enum progress_state state;
	int64_t total;
	int64_t done;
	int64_t start_done; /* bytes already there when the download started (resume) */
	double start_s;     /* monotonic time the download started */
	double end_s;       /* monotonic time it completed */
};

struct progress {
	enum progress_mode mode; /* TTY, PLAIN or QUIET once created */
	FILE *out;
	pthread_mutex_t lock;
	struct progress_item *items;
	size_t n_items, max_items;
	size_t lines_on_screen; /* TTY: how many lines the last frame drew */
	double last_draw_s;
	struct buf frame; /* reused for every frame: one write per redraw */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void short_digest(const char *digest, char out[SHORT_DIGEST_LEN + 1])
{
	const char *colon = strchr(digest, ':');
	const char *hex = colon ? colon + 1 : digest;

	snprintf(out, SHORT_DIGEST_LEN + 1, "%s", hex);
}

static const char *state_word(enum progress_state st)
{
	switch (st) {
	case PROGRESS_WAITING:
		return "Waiting";
	case PROGRESS_DOWNLOADING:
		return "Downloading";
	case PROGRESS_EXTRACTING:
		return "Extracting";
	case PROGRESS_DONE:
		return "Pull complete";
	case PROGRESS_EXISTS:
		return "Already exists";
	case PROGRESS_FAILED:
		return "Failed";
	}
	return "?";
}

void progress_format_line(char *out, size_t len, const char *digest, enum progress_state st,
			  int64_t done, int64_t total, int64_t bytes_since_start, double elapsed_s)
{
	char sd[SHORT_DIGEST_LEN + 1], d[16], t[16], r[16];

	short_digest(digest, sd);
	if (st != PROGRESS_DOWNLOADING) {
		snprintf(out, len, "%s: %s", sd, state_word(st));
		return;
	}
	human_size((double)done, d, sizeof(d));
	if (total >= 0)
		human_size((double)total, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "?");
	if (elapsed_s > 0.05 && bytes_since_start > 0) {
		human_size(bytes_since_start / elapsed_s, r, sizeof(r));
		snprintf(out, len, "%s: %s  %s/%s  %s/s", sd, state_word(st), d, t, r);
	} else {
		snprintf(out, len, "%s: %s  %s/%s", sd, state_word(st), d, t);
	}
}

void progress_format_plain(char *out, size_t len, const char *digest, enum progress_state st,
			   int64_t total, double elapsed_s)
{
	char sd[SHORT_DIGEST_LEN + 1], t[16];

	short_digest(digest, sd);
	switch (st) {
	case PROGRESS_DONE:
		human_size((double)(total >= 0 ? total : 0), t, sizeof(t));
		snprintf(out, len, "%s: pull complete (%s in %.1fs)", sd, t, elapsed_s);
		break;
	case PROGRESS_EXISTS:
		snprintf(out, len, "%s: already exists", sd);
		break;
	default:
		snprintf(out, len, "%s: %s", sd, state_word(st));
		break;
	}
}

struct progress *progress_new(enum progress_mode mode, FILE *out, size_t max_items,
			      struct sk_err *err)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (!p || !(p->items = calloc(max_items ? max_items : 1, sizeof(*p->items)))) {
		free(p);
		err_set(err, ENOMEM, "cannot allocate progress display");
		return NULL;
	}
	if (mode == PROGRESS_AUTO)
		mode = isatty(fileno(out)) ? PROGRESS_TTY : PROGRESS_PLAIN;
	p->mode = mode;
	p->out = out;
	p->max_items = max_items;
	p->frame = (struct buf)BUF_INIT((max_items + 1) * (LINE_MAX_BYTES + 16));
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void item_line(const struct progress_item *it, double now, char *out, size_t len)
{
	double until = it->state == PROGRESS_DOWNLOADING ? now : it->end_s;

	progress_format_line(out, len, it->short_digest, it->state, it->done, it->total,
			     it->done - it->start_done, until - it->start_s);
}

/* Caller holds the lock. Moves the cursor back over the previous frame and
 * rewrites every line, clearing what was there. One write per frame. */
static void draw_frame(struct progress *p, double now)
{
	char line[LINE_MAX_BYTES];

	buf_reset(&p->frame);
	if (p->lines_on_screen)
		buf_appendf(&p->frame, "\033[%zuA", p->lines_on_screen);
	for (size_t i = 0; i < p->n_items; i++) {
		item_line(&p->items[i], now, line, sizeof(line));
		buf_appendf(&p->frame, "\r\033[2K%s\n", line);
	}
	if (p->frame.len)
		fwrite(p->frame.data, 1, p->frame.len, p->out);
	fflush(p->out);
	p->lines_on_screen = p->n_items;
	p->last_draw_s = now;
}

static void print_plain(struct progress *p, const struct progress_item *it)
{
	char line[LINE_MAX_BYTES];

	progress_format_plain(line, sizeof(line), it->short_digest, it->state, it->total,
			      it->end_s - it->start_s);
	fprintf(p->out, "%s\n", line);
	fflush(p->out);
}

void progress_header(struct progress *p, const char *text)
{
	if (!p || p->mode != PROGRESS_TTY)
		return;
	pthread_mutex_lock(&p->lock);
	/* The header goes above the layer lines, which are redrawn below it. */
	fprintf(p->out, "%s\n", text);
	fflush(p->out);
	pthread_mutex_unlock(&p->lock);
}

int progress_add(struct progress *p, const char *digest, int64_t total, enum progress_state st)
{
	struct progress_item *it;
	int id;

	if (!p)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (p->n_items >= p->max_items) {
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	id = (int)p->n_items++;
	it = &p->items[id];
	short_digest(digest, it->short_digest);
	it->state = st;
	it->total = total;
	/* A terminal gets its first frame at the first state change (or at the
	 * end), not one per layer added. */
	if (p->mode == PROGRESS_PLAIN && st == PROGRESS_EXISTS)
		print_plain(p, it);
	pthread_mutex_unlock(&p->lock);
	return id;
}

static struct progress_item *item_get(struct progress *p, int id)
{
	if (!p || id < 0 || (size_t)id >= p->n_items)
		return NULL;
	return &p->items[id];
}

void progress_bytes(struct progress *p, int id, int64_t done)
{
	struct progress_item *it = item_get(p, id);
	double now;

	if (!it || p->mode == PROGRESS_QUIET)
		return;
	pthread_mutex_lock(&p->lock);
	it->done = done;
	if (p->mode == PROGRESS_TTY && it->state == PROGRESS_DOWNLOADING) {
		now = now_s();
		if (now - p->last_draw_s >= REDRAW_INTERVAL_S)
			draw_frame(p, now);
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_set(struct progress *p, int id, enum progress_state st)
{
	struct progress_item *it = item_get(p, id);
	double now;

	if (!it)
		return;
	pthread_mutex_lock(&p->lock);
	now = now_s();
	if (st == PROGRESS_DOWNLOADING) {
		it->start_s = now;
		it->start_done = it->done;
	}
	if (st == PROGRESS_EXTRACTING || st == PROGRESS_DONE || st == PROGRESS_FAILED) {
		if (it->state == PROGRESS_DOWNLOADING)
			it->end_s = now;
		if (!it->start_s)
			it->start_s = it->end_s = now;
	}
	if (st == PROGRESS_DONE)
		it->end_s = now; /* the plain line counts extraction time too */
	it->state = st;
	if (p->mode == PROGRESS_TTY)
		draw_frame(p, now);
	else if (p->mode == PROGRESS_PLAIN && (st == PROGRESS_DONE || st == PROGRESS_EXISTS))
		print_plain(p, it);
	pthread_mutex_unlock(&p->lock);
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	if (p->mode == PROGRESS_TTY && p->n_items)
		draw_frame(p, now_s());
	pthread_mutex_destroy(&p->lock);
	buf_release(&p->frame);
	free(p->items);
	free(p);
}

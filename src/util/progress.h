/*
 * Pull progress on stderr, one entry per layer.
 *
 * On a terminal: one live line per layer as docker draws them
 * ("0123456789ab: Downloading  12.3MB/45.6MB  34.5MB/s"), redrawn in place with
 * ANSI cursor movement at most ~10 times a second. Off a terminal: one short
 * line per layer when it completes, nothing in between. Quiet: nothing.
 *
 * Thread-safe: the workers of a pull call progress_bytes()/progress_set()
 * concurrently; a mutex serialises the drawing. A NULL struct progress is
 * accepted everywhere and does nothing.
 */
#ifndef SKIFF_PROGRESS_H
#define SKIFF_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_TTY, PROGRESS_PLAIN, PROGRESS_QUIET };

enum progress_state {
	PROGRESS_WAITING,     /* queued behind other downloads */
	PROGRESS_DOWNLOADING, /* bytes flowing (extraction runs alongside) */
	PROGRESS_EXTRACTING,  /* all bytes received, extractor finishing */
	PROGRESS_DONE,        /* verified and in the store */
	PROGRESS_EXISTS,      /* already in the store, not fetched */
	PROGRESS_FAILED,
};

struct progress;

/* mode PROGRESS_AUTO becomes TTY when out's fd is a terminal, else PLAIN.
 * max_items bounds progress_add(). Returns NULL with err set on ENOMEM. */
struct progress *progress_new(enum progress_mode mode, FILE *out, size_t max_items,
			      struct sk_err *err);
/* Final redraw, then frees. */
void progress_free(struct progress *p);

/* A header line shown on a terminal only ("latest: Pulling from library/alpine"). */
void progress_header(struct progress *p, const char *text);

/* Register a layer (call before workers start). digest is "sha256:<hex>" (the
 * first 12 hex digits are shown); total is the compressed size or -1.
 * Returns the id for the calls below, or -1 when full. */
int progress_add(struct progress *p, const char *digest, int64_t total, enum progress_state st);
/* Bytes received so far (absolute). Redraws at most ~10 times a second. */
void progress_bytes(struct progress *p, int id, int64_t done);
/* A state change always redraws (TTY) or prints the completion line (plain). */
void progress_set(struct progress *p, int id, enum progress_state st);

/* Pure formatting, exposed for tests. */
/* One line of the live view (no newline). elapsed_s is the time since the
 * download started; the rate is computed from bytes_since_start over it. */
void progress_format_line(char *out, size_t len, const char *digest, enum progress_state st,
			  int64_t done, int64_t total, int64_t bytes_since_start, double elapsed_s);
/* The plain completion line: "0123456789ab: pull complete (45.6MB in 1.2s)". */
void progress_format_plain(char *out, size_t len, const char *digest, enum progress_state st,
			   int64_t total, double elapsed_s);

#endif

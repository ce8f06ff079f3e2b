/*
 * A growable byte buffer with a hard maximum (as curl's dynbuf): data from the
 * network never grows a buffer without bound. Always NUL-terminated.
 *   struct buf b = BUF_INIT(1 << 20);   ... buf_release(&b);
 */
#ifndef SKIFF_BUF_H
#define SKIFF_BUF_H

#include <stddef.h>

struct buf {
	char *data;  /* owned; NULL until the first append */
	size_t len;
	size_t alloc;
	size_t max; /* appends past this fail with E2BIG */
};

#define BUF_INIT(maxbytes) { .data = NULL, .len = 0, .alloc = 0, .max = (maxbytes) }

/* Returns 0, or -E2BIG past max, or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_release(struct buf *b); /* frees memory, back to BUF_INIT state (max kept) */
/* Hands the data over to the caller (NUL-terminated, never NULL), buffer is reset. */
char *buf_detach(struct buf *b, size_t *len);

static inline void cleanup_bufp(struct buf *b)
{
	buf_release(b);
}
#define cleanup_buf __attribute__((cleanup(cleanup_bufp)))

#endif

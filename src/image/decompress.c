/*
 * Streaming layer decompression: gzip with ISA-L's igzip (zlib as fallback),
 * zstd with ZSTD_decompressStream, or a plain copy. See decompress.h.
 *
 * gzip: igzip parses the header and verifies the CRC-32/ISIZE trailer itself
 * (crc_flag = ISAL_GZIP). At the end of a member it stops with block_state ==
 * ISAL_BLOCK_FINISH and gives back any input it had buffered beyond the
 * trailer (next_in/avail_in point just after it), so the next member starts
 * there after isal_inflate_reset(). Anything after a member that is not
 * another gzip member is corrupt data, as Go's gzip reader (docker) says.
 */
#include "image/decompress.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static const uint8_t gzip_magic[] = {0x1f, 0x8b};
static const uint8_t zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
static const uint8_t bzip2_magic[] = {'B', 'Z', 'h'};
static const uint8_t xz_magic[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

int decomp_init(struct decomp *d, int fd, enum compression comp, unsigned flags, struct sk_err *err)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->comp = comp;
	d->flags = flags;
	d->in = malloc(DECOMP_IN_SIZE);
	if (!d->in)
		return err_set(err, ENOMEM, "cannot allocate decompression buffer");
	return 0;
}

void decomp_release(struct decomp *d)
{
	free(d->in);
	d->in = NULL;
	free(d->isal);
	d->isal = NULL;
	if (d->zlib) {
		inflateEnd(d->zlib);
		free(d->zlib);
		d->zlib = NULL;
	}
	ZSTD_freeDStream(d->zstd);
	d->zstd = NULL;
}

const char *decomp_name(const struct decomp *d)
{
	switch (d->comp) {
	case COMPRESSION_GZIP:
		return d->zlib ? "gzip (zlib)" : "gzip (igzip)";
	case COMPRESSION_ZSTD:
		return "zstd";
	default:
		return "none";
	}
}

/* Read more compressed bytes after the unconsumed ones. Returns 0 (maybe at
 * EOF: check in_eof) or -1. */
static int refill(struct decomp *d, struct sk_err *err)
{
	if (d->in_pos > 0 && d->in_pos < d->in_len)
		memmove(d->in, d->in + d->in_pos, d->in_len - d->in_pos);
	d->in_len -= d->in_pos;
	d->in_pos = 0;
	while (!d->in_eof && d->in_len < DECOMP_IN_SIZE) {
		ssize_t n = read(d->fd, d->in + d->in_len, DECOMP_IN_SIZE - d->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, errno, "cannot read layer data");
		if (n == 0)
			d->in_eof = true;
		d->in_len += (size_t)n;
		break;
	}
	return 0;
}

static size_t in_avail(const struct decomp *d)
{
	return d->in_len - d->in_pos;
}

static bool starts_with(const struct decomp *d, const uint8_t *magic, size_t len)
{
	return in_avail(d) >= len && memcmp(d->in + d->in_pos, magic, len) == 0;
}

static int setup_gzip(struct decomp *d, struct sk_err *err)
{
	z_stream *z;

	if (!(d->flags & DECOMP_FORCE_ZLIB)) {
		d->isal = malloc(sizeof(*d->isal));
		if (d->isal) {
			isal_inflate_init(d->isal);
			d->isal->crc_flag = ISAL_GZIP;
			return 0;
		}
	}
	z = calloc(1, sizeof(*z));
	if (!z)
		return err_set(err, ENOMEM, "cannot set up gzip decompression");
	/* 16 + MAX_WBITS: gzip wrapper only, header and trailer checked. */
	if (inflateInit2(z, 16 + MAX_WBITS) != Z_OK) {
		free(z);
		return err_set(err, ENOMEM, "cannot set up gzip decompression");
	}
	d->zlib = z;
	return 0;
}

/* Decide the format from the first bytes, as docker's DecompressStream does. */
static int sniff(struct decomp *d, struct sk_err *err)
{
	while (!d->in_eof && in_avail(d) < sizeof(xz_magic))
		if (refill(d, err) < 0)
			return -1;
	d->sniffed = true;
	if (starts_with(d, gzip_magic, sizeof(gzip_magic)))
		d->comp = COMPRESSION_GZIP;
	else if (starts_with(d, zstd_magic, sizeof(zstd_magic)))
		d->comp = COMPRESSION_ZSTD;
	else if (starts_with(d, bzip2_magic, sizeof(bzip2_magic)) ||
		 starts_with(d, xz_magic, sizeof(xz_magic)))
		return err_set(err, 0, "unsupported layer compression (bzip2 or xz)");
	else
		d->comp = COMPRESSION_NONE;
	if (d->comp == COMPRESSION_GZIP)
		return setup_gzip(d, err);
	if (d->comp == COMPRESSION_ZSTD) {
		d->zstd = ZSTD_createDStream();
		if (!d->zstd)
			return err_set(err, ENOMEM, "cannot set up zstd decompression");
	}
	return 0;
}

static ssize_t read_plain(struct decomp *d, void *out, size_t cap, struct sk_err *err)
{
	size_t n;

	if (in_avail(d) == 0 && refill(d, err) < 0)
		return -1;
	n = in_avail(d) < cap ? in_avail(d) : cap;
	memcpy(out, d->in + d->in_pos, n);
	d->in_pos += n;
	d->in_total += n;
	return (ssize_t)n;
}

static const char *isal_strerror(int ret)
{
	switch (ret) {
	case ISAL_INVALID_BLOCK:
		return "invalid deflate block";
	case ISAL_INVALID_SYMBOL:
		return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK:
		return "invalid lookback distance";
	case ISAL_INVALID_WRAPPER:
		return "invalid gzip header";
	case ISAL_UNSUPPORTED_METHOD:
		return "unsupported gzip method";
	case ISAL_INCORRECT_CHECKSUM:
		return "gzip checksum mismatch";
	default:
		return "unexpected igzip state";
	}
}

/* One isal_inflate() call on what is buffered. Returns bytes produced or -1. */
static ssize_t isal_step(struct decomp *d, void *out, size_t cap, struct sk_err *err)
{
	struct inflate_state *st = d->isal;
	size_t avail = in_avail(d);
	int ret;

	if (d->member_done) {
		isal_inflate_reset(st);
		st->crc_flag = ISAL_GZIP;
		d->member_done = false;
	}
	st->next_in = d->in + d->in_pos;
	st->avail_in = (uint32_t)avail;
	st->next_out = out;
	st->avail_out = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	ret = isal_inflate(st);
	d->in_pos += avail - st->avail_in;
	d->in_total += avail - st->avail_in;
	if (ret < 0 || ret == ISAL_NEED_DICT)
		return err_set(err, 0, "layer data corrupt: gzip: %s", isal_strerror(ret));
	if (st->block_state == ISAL_BLOCK_FINISH)
		d->member_done = true;
	return (ssize_t)(st->next_out - (uint8_t *)out);
}

static ssize_t zlib_step(struct decomp *d, void *out, size_t cap, struct sk_err *err)
{
	z_stream *z = d->zlib;
	size_t avail = in_avail(d);
	int ret;

	if (d->member_done) {
		inflateReset(z);
		d->member_done = false;
	}
	z->next_in = d->in + d->in_pos;
	z->avail_in = (uInt)avail;
	z->next_out = out;
	z->avail_out = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
	ret = inflate(z, Z_NO_FLUSH);
	d->in_pos += avail - z->avail_in;
	d->in_total += avail - z->avail_in;
	if (ret == Z_STREAM_END)
		d->member_done = true;
	else if (ret != Z_OK && ret != Z_BUF_ERROR)
		return err_set(err, 0, "layer data corrupt: gzip: %s",
			       z->msg ? z->msg : "invalid data");
	return (ssize_t)((uint8_t *)z->next_out - (uint8_t *)out);
}

/* After a step that produced nothing: get more input, or fail if none can
 * come (truncated stream) or the decoder took nothing from a full buffer. */
static int need_more_input(struct decomp *d, size_t pos_before, const char *what,
			   struct sk_err *err)
{
	if (d->in_pos != pos_before)
		return 0;
	if (d->in_eof)
		return err_set(err, 0, "layer data corrupt: %s: unexpected end of data", what);
	if (d->in_pos == 0 && d->in_len == DECOMP_IN_SIZE)
		return err_set(err, 0, "layer data corrupt: %s: decoder stalled", what);
	return refill(d, err);
}

static ssize_t read_gzip(struct decomp *d, void *out, size_t cap, struct sk_err *err)
{
	for (;;) {
		size_t before;
		ssize_t n;

		if (in_avail(d) == 0 && !d->in_eof && refill(d, err) < 0)
			return -1;
		/* The end of the input is clean only between members. */
		if (in_avail(d) == 0 && d->in_eof && d->member_done)
			return 0;
		/* A member ended and bytes follow: they must be another member. */
		if (d->member_done && in_avail(d) > 0 && d->in[d->in_pos] != gzip_magic[0])
			return err_set(err, 0, "layer data corrupt: gzip: trailing garbage");
		before = d->in_pos;
		/* Called even with no input left: the decoder may hold output. */
		n = d->isal ? isal_step(d, out, cap, err) : zlib_step(d, out, cap, err);
		if (n != 0)
			return n;
		if (!d->member_done && need_more_input(d, before, "gzip", err) < 0)
			return -1;
	}
}

static ssize_t read_zstd(struct decomp *d, void *out, size_t cap, struct sk_err *err)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer ob = {.dst = out, .size = cap, .pos = 0};
		size_t ret;

		if (in_avail(d) == 0 && !d->in_eof && refill(d, err) < 0)
			return -1;
		if (in_avail(d) == 0 && d->in_eof && !d->frame_open)
			return 0;
		in = (ZSTD_inBuffer){.src = d->in + d->in_pos, .size = in_avail(d), .pos = 0};
		ret = ZSTD_decompressStream(d->zstd, &ob, &in);
		d->in_pos += in.pos;
		d->in_total += in.pos;
		if (ZSTD_isError(ret))
			return err_set(err, 0, "layer data corrupt: zstd: %s",
				       ZSTD_getErrorName(ret));
		/* 0 means a frame is complete and fully flushed. */
		d->frame_open = ret != 0;
		if (ob.pos > 0)
			return (ssize_t)ob.pos;
		if (d->frame_open && need_more_input(d, d->in_pos - in.pos, "zstd", err) < 0)
			return -1;
	}
}

ssize_t decomp_read(struct decomp *d, void *out, size_t cap, struct sk_err *err)
{
	if (!d->sniffed && sniff(d, err) < 0)
		return -1;
	switch (d->comp) {
	case COMPRESSION_GZIP:
		return read_gzip(d, out, cap, err);
	case COMPRESSION_ZSTD:
		return read_zstd(d, out, cap, err);
	default:
		return read_plain(d, out, cap, err);
	}
}

/*
 * Streaming decompression of a layer blob read from an fd: gzip (ISA-L igzip,
 * zlib when igzip cannot be set up), zstd, or none. Private to unpack.c.
 *
 * The format is detected from the magic bytes, as docker and containerd do:
 * the media type is only a claim, and a "tar+gzip" layer that is really a plain
 * tar must still pull. Multi-member gzip and multi-frame zstd are one stream.
 */
#ifndef SKIFF_DECOMPRESS_H
#define SKIFF_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/manifest.h"
#include "util/err.h"

/* Compressed bytes read from the fd at a time. */
#define DECOMP_IN_SIZE (256 * 1024)

enum decomp_flags {
	DECOMP_FORCE_ZLIB = 1, /* tests: exercise the zlib fallback for gzip */
};

struct decomp {
	int fd;
	enum compression comp; /* what the magic bytes said */
	unsigned flags;
	uint8_t *in;
	size_t in_len, in_pos;
	bool in_eof;
	bool sniffed;
	bool member_done; /* gzip: a member ended; EOF or another member follows */
	bool frame_open;  /* zstd: inside a frame (EOF here means truncation) */
	struct inflate_state *isal;
	void *zlib;	   /* z_stream */
	void *zstd;	   /* ZSTD_DStream */
	uint64_t in_total; /* compressed bytes consumed */
};

/* Set up d to read from fd (not owned). comp is the media type's claim; the
 * magic bytes decide. Release with decomp_release() whatever the result. */
int decomp_init(struct decomp *d, int fd, enum compression comp, unsigned flags,
		struct sk_err *err);

/* Fill out with up to cap decompressed bytes. Returns the count (> 0), 0 at
 * the clean end of the input, or -1 with err set ("layer data corrupt: ..."
 * for bad or truncated compressed data, "cannot read layer data" for I/O). */
ssize_t decomp_read(struct decomp *d, void *out, size_t cap, struct sk_err *err);

void decomp_release(struct decomp *d);

/* "gzip (igzip)", "gzip (zlib)", "zstd", "none": for debug traces and tests. */
const char *decomp_name(const struct decomp *d);

#endif

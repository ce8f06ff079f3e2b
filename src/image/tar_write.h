/*
 * Writing tar streams: ustar headers, with a pax extended header when a
 * value does not fit (long names and link targets, big ids, sizes and times,
 * extended attributes). Numeric owners only, times in whole seconds, no
 * record padding: the same entries always give the same bytes.
 *
 * The stream goes through one pipeline: sha256 of the tar (the diff_id), an
 * optional compressor (gzip through ISA-L's igzip, or zstd), sha256 of what
 * comes out (the blob digest), then the sink. Both digests come from the one
 * pass. A "measuring" writer only counts the tar's bytes: callers that must
 * announce a size before the data (a layer inside a save archive) run the
 * same walk twice.
 */
#ifndef SKIFF_TAR_WRITE_H
#define SKIFF_TAR_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/manifest.h"
#include "util/err.h"
#include "util/sha256.h"

enum tar_type {
	TAR_REG = '0',
	TAR_HARDLINK = '1',
	TAR_SYMLINK = '2',
	TAR_CHR = '3',
	TAR_BLK = '4',
	TAR_DIR = '5',
	TAR_FIFO = '6',
};

struct tar_xattr {
	const char *name;
	const void *value;
	size_t len;
};

/* One entry. name is the full path in the archive, without a leading "/"; a
 * directory's name gets its trailing "/" from the writer. */
struct tar_entry {
	const char *name;
	enum tar_type type;
	mode_t mode; /* permission bits, set-id and sticky (07777) */
	uint64_t uid, gid;
	int64_t mtime;	      /* seconds */
	uint64_t size;	      /* regular files only */
	const char *linkname; /* symlink target, or hard link's first name */
	unsigned devmajor, devminor;
	const struct tar_xattr *xattrs; /* written in this order (callers sort) */
	size_t n_xattrs;
};

/* Where the (possibly compressed) bytes go. Returns 0 or -1 with err. */
typedef int (*tar_sink_fn)(void *ctx, const void *data, size_t len, struct sk_err *err);

struct tar_writer {
	tar_sink_fn sink;
	void *sink_ctx;
	bool measure; /* count only: no hashing, no sink */
	enum compression comp;
	struct sha256 tar_hash;
	struct sha256 blob_hash;
	uint64_t tar_bytes, blob_bytes;
	uint64_t entry_left; /* data bytes the current entry still expects */
	unsigned entry_pad;  /* zero bytes after them, to the 512 boundary */
	uint8_t *stage;	     /* tar bytes waiting for the pipeline */
	size_t stage_len;
	uint8_t *zout; /* compressor output */
	void *zstate;  /* struct isal_zstream + level buffer, or ZSTD_CCtx */
	void *zlevel_buf;
	bool finished;
};

struct tar_result {
	char diff_id[DIGEST_STR_MAX];	  /* sha256 of the tar */
	char blob_digest[DIGEST_STR_MAX]; /* sha256 of the output (= diff_id uncompressed) */
	uint64_t tar_bytes, blob_bytes;
};

/* level: 0 for the default (igzip level 1, zstd 3). Release with
 * tar_writer_release() whatever happens. */
int tar_writer_init(struct tar_writer *w, enum compression comp, int level, tar_sink_fn sink,
		    void *sink_ctx, struct sk_err *err);
/* A writer that only counts: tar_result.tar_bytes is what the real one writes. */
void tar_writer_init_measure(struct tar_writer *w);

/* The header of e; a regular file's e->size bytes must follow through
 * tar_write_data (the writer pads them). */
int tar_write_header(struct tar_writer *w, const struct tar_entry *e, struct sk_err *err);
/* Data of the current entry; more than announced is an error. In a
 * measuring writer data may be NULL. */
int tar_write_data(struct tar_writer *w, const void *data, size_t len, struct sk_err *err);
/* The current entry's data is complete (a short entry is an error). */
int tar_end_entry(struct tar_writer *w, struct sk_err *err);
/* The end-of-archive blocks, the compressor's tail; the digests. */
int tar_writer_finish(struct tar_writer *w, struct tar_result *res, struct sk_err *err);
void tar_writer_release(struct tar_writer *w);

/* A sink writing to an fd (the int behind ctx). */
int tar_sink_fd(void *ctx, const void *data, size_t len, struct sk_err *err);

/* Compression names as users give them: "gzip", "zstd", "none"/"uncompressed". */
int tar_compression_parse(const char *s, enum compression *out, struct sk_err *err);

#endif

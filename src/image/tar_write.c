/*
 * Tar streams out: headers (tar_write.h says which format and why), then the
 * pipeline tar bytes -> sha256 -> compressor -> sha256 -> sink. Tar bytes are
 * staged in one buffer so that the compressor and the hashes see large
 * blocks, not 512-byte headers.
 */
#include "image/tar_write.h"

#include <errno.h>
#include <inttypes.h>
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/buf.h"
#include "util/fs.h"

#define BLOCK 512
#define STAGE_SIZE (256 * 1024)
#define ZOUT_SIZE (256 * 1024)
#define PAX_MAX (1u << 20) /* one entry's extended header */
#define USTAR_NAME 100
#define USTAR_PREFIX 155
#define OCTAL7_MAX 07777777ULL
#define OCTAL11_MAX 077777777777ULL
#define IGZIP_DEFAULT_LEVEL 1
#define ZSTD_DEFAULT_LEVEL 3

/* ---- the pipeline ---- */

static int emit_blob(struct tar_writer *w, const void *data, size_t len, struct sk_err *err)
{
	if (len == 0)
		return 0;
	sha256_update(&w->blob_hash, data, len);
	w->blob_bytes += len;
	return w->sink(w->sink_ctx, data, len, err);
}

static int gzip_feed(struct tar_writer *w, const uint8_t *data, size_t len, bool end,
		     struct sk_err *err)
{
	struct isal_zstream *z = w->zstate;

	z->next_in = (uint8_t *)data;
	z->avail_in = (uint32_t)len;
	z->end_of_stream = end;
	for (;;) {
		z->next_out = w->zout;
		z->avail_out = ZOUT_SIZE;
		if (isal_deflate(z) != COMP_OK)
			return err_set(err, 0, "gzip compression failed");
		if (emit_blob(w, w->zout, ZOUT_SIZE - z->avail_out, err) < 0)
			return -1;
		if (end ? z->internal_state.state == ZSTATE_END
			: z->avail_in == 0 && z->avail_out > 0)
			return 0;
	}
}

static int zstd_feed(struct tar_writer *w, const uint8_t *data, size_t len, bool end,
		     struct sk_err *err)
{
	ZSTD_inBuffer in = {data, len, 0};

	for (;;) {
		ZSTD_outBuffer out = {w->zout, ZOUT_SIZE, 0};
		size_t left =
		    ZSTD_compressStream2(w->zstate, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return err_set(err, 0, "zstd compression failed: %s",
				       ZSTD_getErrorName(left));
		if (emit_blob(w, w->zout, out.pos, err) < 0)
			return -1;
		if (end ? left == 0 : in.pos == in.size && out.pos < out.size)
			return 0;
	}
}

/* Tar bytes into the pipeline (past the stage). */
static int process(struct tar_writer *w, const uint8_t *data, size_t len, bool end,
		   struct sk_err *err)
{
	sha256_update(&w->tar_hash, data, len);
	if (w->comp == COMPRESSION_GZIP)
		return gzip_feed(w, data, len, end, err);
	if (w->comp == COMPRESSION_ZSTD)
		return zstd_feed(w, data, len, end, err);
	/* uncompressed: the blob is the tar, one hash is enough */
	w->blob_bytes += len;
	return len ? w->sink(w->sink_ctx, data, len, err) : 0;
}

static int stage_flush(struct tar_writer *w, struct sk_err *err)
{
	size_t n = w->stage_len;

	w->stage_len = 0;
	return n ? process(w, w->stage, n, false, err) : 0;
}

static int put(struct tar_writer *w, const void *data, size_t len, struct sk_err *err)
{
	const uint8_t *p = data;

	w->tar_bytes += len;
	if (w->measure)
		return 0;
	if (w->stage_len == 0 && len >= STAGE_SIZE)
		return process(w, p, len, false, err);
	while (len > 0) {
		size_t n = STAGE_SIZE - w->stage_len;
		if (n > len)
			n = len;
		memcpy(w->stage + w->stage_len, p, n);
		w->stage_len += n;
		p += n;
		len -= n;
		if (w->stage_len == STAGE_SIZE && stage_flush(w, err) < 0)
			return -1;
	}
	return 0;
}

static int put_zeros(struct tar_writer *w, size_t len, struct sk_err *err)
{
	static const uint8_t zeros[BLOCK];

	while (len > 0) {
		size_t n = len < BLOCK ? len : BLOCK;
		if (put(w, zeros, n, err) < 0)
			return -1;
		len -= n;
	}
	return 0;
}

/* ---- set-up ---- */

static int gzip_init(struct tar_writer *w, int level, struct sk_err *err)
{
	static const uint32_t level_sizes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
					       ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
	struct isal_zstream *z = calloc(1, sizeof(*z));

	if (level == 0)
		level = IGZIP_DEFAULT_LEVEL;
	if (level < 0 || level > 3) {
		free(z);
		return err_set(err, 0, "gzip level %d: igzip has levels 0 to 3", level);
	}
	w->zstate = z;
	w->zlevel_buf = level_sizes[level] ? malloc(level_sizes[level]) : NULL;
	if (!z || (level_sizes[level] && !w->zlevel_buf))
		return err_set(err, ENOMEM, "cannot start gzip compression");
	isal_deflate_init(z);
	z->level = (uint32_t)level;
	z->level_buf = w->zlevel_buf;
	z->level_buf_size = level_sizes[level];
	/* A generic gzip header: no name, no time, so equal tars give equal blobs. */
	z->gzip_flag = IGZIP_GZIP;
	return 0;
}

static int zstd_init(struct tar_writer *w, int level, struct sk_err *err)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	if (!c)
		return err_set(err, ENOMEM, "cannot start zstd compression");
	w->zstate = c;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel,
						level ? level : ZSTD_DEFAULT_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)))
		return err_set(err, 0, "zstd level %d is not valid", level);
	return 0;
}

int tar_writer_init(struct tar_writer *w, enum compression comp, int level, tar_sink_fn sink,
		    void *sink_ctx, struct sk_err *err)
{
	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->comp = comp;
	sha256_init(&w->tar_hash);
	sha256_init(&w->blob_hash);
	w->stage = malloc(STAGE_SIZE);
	if (!w->stage)
		return err_set(err, ENOMEM, "cannot start a tar stream");
	if (comp == COMPRESSION_NONE)
		return 0;
	w->zout = malloc(ZOUT_SIZE);
	if (!w->zout)
		return err_set(err, ENOMEM, "cannot start a tar stream");
	return comp == COMPRESSION_GZIP ? gzip_init(w, level, err) : zstd_init(w, level, err);
}

void tar_writer_init_measure(struct tar_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->measure = true;
}

void tar_writer_release(struct tar_writer *w)
{
	if (w->comp == COMPRESSION_ZSTD)
		ZSTD_freeCCtx(w->zstate);
	else
		free(w->zstate);
	free(w->zlevel_buf);
	free(w->zout);
	free(w->stage);
	sha256_release(&w->tar_hash);
	sha256_release(&w->blob_hash);
	memset(w, 0, sizeof(*w));
}

int tar_sink_fd(void *ctx, const void *data, size_t len, struct sk_err *err)
{
	int r = fs_write_all(*(int *)ctx, data, len);

	return r < 0 ? err_set(err, -r, "cannot write the tar stream") : 0;
}

int tar_compression_parse(const char *s, enum compression *out, struct sk_err *err)
{
	if (!strcmp(s, "gzip"))
		*out = COMPRESSION_GZIP;
	else if (!strcmp(s, "zstd"))
		*out = COMPRESSION_ZSTD;
	else if (!strcmp(s, "none") || !strcmp(s, "uncompressed"))
		*out = COMPRESSION_NONE;
	else
		return err_set(err, 0, "unknown compression '%s' (gzip, zstd or none)", s);
	return 0;
}

/* ---- headers ---- */

static void put_octal(uint8_t *field, size_t width, uint64_t v)
{
	/* width - 1 digits and a NUL, as ustar has it */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0;) {
		field[i] = (uint8_t)('0' + (v & 7));
		v >>= 3;
	}
}

/* Split name into ustar's prefix and name fields; false when it cannot be. */
static bool ustar_split(const char *name, size_t len, size_t *cut)
{
	if (len <= USTAR_NAME) {
		*cut = 0;
		return true;
	}
	/* the longest prefix that fits, at a '/' that leaves a name that fits */
	for (size_t i = len - 1 < USTAR_PREFIX ? len - 1 : USTAR_PREFIX; i > 0; i--) {
		if (name[i] != '/')
			continue;
		if (len - i - 1 > USTAR_NAME || len - i - 1 == 0)
			return false;
		*cut = i;
		return true;
	}
	return false;
}

static int pax_record(struct buf *b, const char *key, const void *value, size_t vlen)
{
	size_t body = 1 + strlen(key) + 1 + vlen + 1; /* " key=value\n" */
	size_t digits = 1, total;
	char num[24];

	for (;;) {
		total = body + digits;
		int d = snprintf(num, sizeof(num), "%zu", total);
		if ((size_t)d == digits)
			break;
		digits = (size_t)d;
	}
	if (buf_appendf(b, "%s %s=", num, key) < 0 || buf_append(b, value, vlen) < 0 ||
	    buf_append(b, "\n", 1) < 0)
		return -1;
	return 0;
}

static int pax_number(struct buf *b, const char *key, const char *fmt_val)
{
	return pax_record(b, key, fmt_val, strlen(fmt_val));
}

/* The pax records e needs (none when ustar holds everything). */
static int pax_records(const struct tar_entry *e, const char *name, size_t name_len, struct buf *b)
{
	size_t cut;
	char num[32];
	int r = 0;

	if (!ustar_split(name, name_len, &cut))
		r |= pax_record(b, "path", name, name_len);
	if (e->linkname && strlen(e->linkname) > USTAR_NAME)
		r |= pax_record(b, "linkpath", e->linkname, strlen(e->linkname));
	if (e->size > OCTAL11_MAX) {
		snprintf(num, sizeof(num), "%" PRIu64, e->size);
		r |= pax_number(b, "size", num);
	}
	if (e->uid > OCTAL7_MAX) {
		snprintf(num, sizeof(num), "%" PRIu64, e->uid);
		r |= pax_number(b, "uid", num);
	}
	if (e->gid > OCTAL7_MAX) {
		snprintf(num, sizeof(num), "%" PRIu64, e->gid);
		r |= pax_number(b, "gid", num);
	}
	if (e->mtime < 0 || (uint64_t)e->mtime > OCTAL11_MAX) {
		snprintf(num, sizeof(num), "%" PRId64, e->mtime);
		r |= pax_number(b, "mtime", num);
	}
	for (size_t i = 0; i < e->n_xattrs; i++) {
		char key[300];
		if (snprintf(key, sizeof(key), "SCHILY.xattr.%s", e->xattrs[i].name) >=
		    (int)sizeof(key))
			return -1;
		r |= pax_record(b, key, e->xattrs[i].value, e->xattrs[i].len);
	}
	return r ? -1 : 0;
}

static void header_checksum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < BLOCK; i++)
		sum += h[i];
	/* six digits, NUL, space */
	put_octal(h + 148, 7, sum);
	h[155] = ' ';
}

static void clamp_octal(uint8_t *field, size_t width, uint64_t v, uint64_t max)
{
	/* too big: the pax record has it, the field says 0 */
	put_octal(field, width, v > max ? 0 : v);
}

static void ustar_header(uint8_t h[BLOCK], const struct tar_entry *e, const char *name,
			 size_t name_len, char type, uint64_t size)
{
	size_t cut = 0;

	memset(h, 0, BLOCK);
	if (ustar_split(name, name_len, &cut) && cut) {
		memcpy(h + 345, name, cut);
		memcpy(h, name + cut + 1, name_len - cut - 1);
	} else {
		memcpy(h, name, name_len < USTAR_NAME ? name_len : USTAR_NAME);
	}
	put_octal(h + 100, 8, e->mode & 07777);
	clamp_octal(h + 108, 8, e->uid, OCTAL7_MAX);
	clamp_octal(h + 116, 8, e->gid, OCTAL7_MAX);
	clamp_octal(h + 124, 12, size, OCTAL11_MAX);
	clamp_octal(h + 136, 12, e->mtime < 0 ? UINT64_MAX : (uint64_t)e->mtime, OCTAL11_MAX);
	h[156] = (uint8_t)type;
	if (e->linkname) {
		size_t l = strlen(e->linkname);
		memcpy(h + 157, e->linkname, l < USTAR_NAME ? l : USTAR_NAME);
	}
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (type == TAR_CHR || type == TAR_BLK) {
		clamp_octal(h + 329, 8, e->devmajor, OCTAL7_MAX);
		clamp_octal(h + 337, 8, e->devminor, OCTAL7_MAX);
	}
	header_checksum(h);
}

static int write_pax(struct tar_writer *w, const struct buf *records, struct sk_err *err)
{
	static const char pax_name[] = "././@PaxHeader";
	const struct tar_entry pe = {.mode = 0644};
	uint8_t h[BLOCK];

	ustar_header(h, &pe, pax_name, strlen(pax_name), 'x', records->len);
	if (put(w, h, BLOCK, err) < 0 || put(w, records->data, records->len, err) < 0)
		return -1;
	return put_zeros(w, (BLOCK - records->len % BLOCK) % BLOCK, err);
}

int tar_write_header(struct tar_writer *w, const struct tar_entry *e, struct sk_err *err)
{
	struct buf records = BUF_INIT(PAX_MAX);
	char *name = NULL;
	uint64_t size = e->type == TAR_REG ? e->size : 0;
	size_t len;
	uint8_t h[BLOCK];
	int ret = -1;

	if (w->entry_left || w->entry_pad)
		return err_set(err, 0, "tar: '%s' follows an unfinished entry", e->name);
	if (asprintf(&name, "%s%s", e->name, e->type == TAR_DIR ? "/" : "") < 0)
		return err_set(err, ENOMEM, "tar: '%s'", e->name);
	len = strlen(name);
	if (pax_records(e, name, len, &records) < 0) {
		err_set(err, E2BIG, "tar: the extended header of '%s' is too large", e->name);
		goto out;
	}
	if (records.len && write_pax(w, &records, err) < 0)
		goto out;
	ustar_header(h, e, name, len, (char)e->type, size);
	if (put(w, h, BLOCK, err) < 0)
		goto out;
	w->entry_left = size;
	w->entry_pad = (unsigned)((BLOCK - size % BLOCK) % BLOCK);
	ret = 0;
out:
	free(name);
	buf_release(&records);
	return ret;
}

int tar_write_data(struct tar_writer *w, const void *data, size_t len, struct sk_err *err)
{
	if (len > w->entry_left)
		return err_set(err, 0, "tar: more data than the entry's size");
	w->entry_left -= len;
	if (w->measure) {
		w->tar_bytes += len;
		return 0;
	}
	return put(w, data, len, err);
}

int tar_end_entry(struct tar_writer *w, struct sk_err *err)
{
	unsigned pad = w->entry_pad;

	if (w->entry_left)
		return err_set(err, 0, "tar: %" PRIu64 " bytes missing from an entry",
			       w->entry_left);
	w->entry_pad = 0;
	return put_zeros(w, pad, err);
}

int tar_writer_finish(struct tar_writer *w, struct tar_result *res, struct sk_err *err)
{
	memset(res, 0, sizeof(*res));
	if (tar_end_entry(w, err) < 0 || put_zeros(w, 2 * BLOCK, err) < 0)
		return -1;
	res->tar_bytes = w->tar_bytes;
	if (w->measure)
		return 0;
	if (w->comp == COMPRESSION_NONE) {
		if (stage_flush(w, err) < 0)
			return -1;
	} else {
		size_t n = w->stage_len;
		w->stage_len = 0;
		if (process(w, w->stage, n, true, err) < 0)
			return -1;
	}
	sha256_final(&w->tar_hash, res->diff_id);
	if (w->comp == COMPRESSION_NONE)
		memcpy(res->blob_digest, res->diff_id, DIGEST_STR_MAX);
	else
		sha256_final(&w->blob_hash, res->blob_digest);
	res->blob_bytes = w->blob_bytes;
	w->finished = true;
	return 0;
}

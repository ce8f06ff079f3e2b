/*
 * The layer writer against the real kernel: trees are made here under a
 * mkdtemp() sandbox (whiteouts, opaque directories, hard links, devices,
 * fifos, sockets, xattrs, long names), written with layer_write_*, and the
 * tars read back with libarchive. Also: equal trees give equal bytes, the
 * compressed blobs inflate to the tar whose digest is the diff_id, a tree
 * written, unpacked and written again keeps its diff_id, and a hostile tree
 * (symlinks out, a file swapped for a symlink while it is read) never puts a
 * byte from outside the tree into the tar. Needs root (mknod, chown,
 * trusted.* xattrs).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "image/layer_write.h"
#include "image/unpack.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "unit.h"

#define OUT_CAP (64u << 20)

static char top[64];

static int buf_sink(void *ctx, const void *data, size_t len, struct sk_err *err)
{
	return buf_append(ctx, data, len) < 0 ? err_set(err, ENOMEM, "sink") : 0;
}

/* Write the tree at dir into out (compressed as asked); res gets the digests. */
static int write_tree(const char *dir, bool overlay, enum compression comp, struct buf *out,
		      struct tar_result *res, struct layer_write_stats *st)
{
	struct layer_write_opts o = {.overlay = overlay};
	struct tar_writer w;
	struct sk_err err = {0};
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	memset(st, 0, sizeof(*st));
	*out = (struct buf)BUF_INIT(OUT_CAP);
	ret = tar_writer_init(&w, comp, 0, buf_sink, out, &err);
	if (ret == 0)
		ret = layer_write_tree(&w, fd, "", &o, st, &err);
	if (ret == 0)
		ret = tar_writer_finish(&w, res, &err);
	tar_writer_release(&w);
	if (ret < 0)
		fprintf(stderr, "write_tree(%s): %s\n", dir, err.msg);
	return ret;
}

/* ---- reading tars back ---- */

struct seen {
	char name[512];
	int type; /* AE_IF* */
	mode_t perm;
	int64_t uid, gid, mtime, size;
	char link[512];
	char hardlink[512];
	char data[64];
	char xattr_cap[32]; /* security.capability, hex of its first bytes */
	char xattr_user[64];
	unsigned rmajor, rminor;
};

static int read_tar(const void *data, size_t len, struct seen *out, int max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int n = 0;

	archive_read_support_format_tar(a);
	CHECK(archive_read_open_memory(a, data, len) == ARCHIVE_OK);
	while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct seen *s = &out[n++];
		const char *xname;
		const void *xval;
		size_t xlen;

		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", archive_entry_pathname(e));
		s->type = (int)archive_entry_filetype(e);
		s->perm = archive_entry_perm(e);
		s->uid = archive_entry_uid(e);
		s->gid = archive_entry_gid(e);
		s->mtime = archive_entry_mtime(e);
		s->size = archive_entry_size(e);
		s->rmajor = archive_entry_rdevmajor(e);
		s->rminor = archive_entry_rdevminor(e);
		if (archive_entry_symlink(e))
			snprintf(s->link, sizeof(s->link), "%s", archive_entry_symlink(e));
		if (archive_entry_hardlink(e))
			snprintf(s->hardlink, sizeof(s->hardlink), "%s", archive_entry_hardlink(e));
		if (s->size > 0)
			archive_read_data(a, s->data, sizeof(s->data) - 1);
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &xname, &xval, &xlen) == ARCHIVE_OK) {
			if (!strcmp(xname, "security.capability"))
				snprintf(s->xattr_cap, sizeof(s->xattr_cap), "%zu", xlen);
			else if (!strncmp(xname, "user.", 5))
				snprintf(s->xattr_user, sizeof(s->xattr_user), "%s=%.*s", xname,
					 (int)xlen, (const char *)xval);
		}
	}
	archive_read_free(a);
	return n;
}

static struct seen *find(struct seen *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static int index_of(struct seen *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return i;
	return -1;
}

/* ---- making trees ---- */

static void mkpath(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void put_file(const char *dir, const char *name, const char *data, mode_t mode)
{
	char p[1024];
	int fd;

	mkpath(p, sizeof(p), dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	CHECK(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
	fchmod(fd, mode);
	close(fd);
}

static void set_time(const char *dir, const char *name, time_t t)
{
	char p[1024];
	struct timespec ts[2] = {{t, 123}, {t, 456789}};

	mkpath(p, sizeof(p), dir, name);
	CHECK(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) == 0);
}

static void new_dir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", top, name);
	CHECK(mkdir(out, 0755) == 0);
}

static void sub(char *out, size_t cap, const char *dir, const char *name, mode_t mode)
{
	mkpath(out, cap, dir, name);
	CHECK(mkdir(out, mode) == 0);
	chmod(out, mode);
}

/* A tree as an overlay upper directory has it after some changes. */
static void make_upper(const char *d)
{
	char p[1024], q[1024];

	sub(p, sizeof(p), d, "etc", 0755);
	put_file(p, "hostname", "box\n", 0644);
	put_file(p, "shadow", "secret\n", 0640);
	mkpath(q, sizeof(q), p, "shadow");
	CHECK(chown(q, 0, 42) == 0);
	mkpath(q, sizeof(q), p, "gone");
	CHECK(mknod(q, S_IFCHR, makedev(0, 0)) == 0); /* a whiteout */
	sub(p, sizeof(p), d, "opaque", 0700);
	CHECK(setxattr(p, "trusted.overlay.opaque", "y", 1, 0) == 0);
	CHECK(setxattr(p, "trusted.overlay.origin", "xx", 2, 0) == 0);
	put_file(p, "inside", "in\n", 0600);
	sub(p, sizeof(p), d, "bin", 0755);
	put_file(p, "ping", "ELF\n", 04755);
	mkpath(q, sizeof(q), p, "ping");
	/* a v2 file capability: cap_net_raw permitted */
	static const unsigned char cap[20] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x20};
	CHECK(setxattr(q, "security.capability", cap, sizeof(cap), 0) == 0);
	CHECK(setxattr(q, "user.note", "hello", 5, 0) == 0);
	CHECK(chmod(q, 04755) == 0);
	mkpath(p, sizeof(p), d, "bin/ping2");
	CHECK(link(q, p) == 0);
	mkpath(p, sizeof(p), d, "bin/sh");
	CHECK(symlink("busybox", p) == 0);
	mkpath(p, sizeof(p), d, "fifo");
	CHECK(mkfifo(p, 0644) == 0);
	mkpath(p, sizeof(p), d, "null");
	CHECK(mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0);
	put_file(d, "big-owner", "x", 0644);
	mkpath(p, sizeof(p), d, "big-owner");
	CHECK(chown(p, 3000000, 3000001) == 0);
	set_time(d, "etc/hostname", 1600000000);
}

TEST(entries_and_order)
{
	char d[256];
	struct buf out;
	struct tar_result res;
	struct layer_write_stats st;
	struct seen v[64];
	int n;

	new_dir(d, sizeof(d), "upper");
	make_upper(d);
	CHECK(write_tree(d, true, COMPRESSION_NONE, &out, &res, &st) == 0);
	n = read_tar(out.data, out.len, v, 64);
	/* sorted, a directory before its contents, whiteouts and the opaque marker docker's */
	const char *want[] = {
	    "big-owner",	   "bin/",	   "bin/ping",	 "bin/ping2", "bin/sh", "etc/",
	    "etc/.wh.gone",	   "etc/hostname", "etc/shadow", "fifo",      "null",	"opaque/",
	    "opaque/.wh..wh..opq", "opaque/inside"};
	CHECK(n == (int)ARRAY_SIZE(want));
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(want); i++)
		CHECK_STR(v[i].name, want[i]);
	CHECK(st.entries == ARRAY_SIZE(want));
	struct seen *s = find(v, n, "etc/shadow");
	CHECK(s && s->gid == 42 && s->perm == 0640 && !strcmp(s->data, "secret\n"));
	s = find(v, n, "etc/hostname");
	CHECK(s && s->mtime == 1600000000);
	s = find(v, n, "etc/.wh.gone");
	CHECK(s && s->type == AE_IFREG && s->size == 0);
	s = find(v, n, "bin/ping");
	CHECK(s && s->perm == 04755 && !strcmp(s->xattr_cap, "20") &&
	      !strcmp(s->xattr_user, "user.note=hello"));
	s = find(v, n, "bin/ping2");
	CHECK(s && !strcmp(s->hardlink, "bin/ping"));
	s = find(v, n, "bin/sh");
	CHECK(s && s->type == AE_IFLNK && !strcmp(s->link, "busybox"));
	s = find(v, n, "fifo");
	CHECK(s && s->type == AE_IFIFO);
	s = find(v, n, "null");
	CHECK(s && s->type == AE_IFCHR && s->rmajor == 1 && s->rminor == 3);
	s = find(v, n, "big-owner");
	CHECK(s && s->uid == 3000000 && s->gid == 3000001);
	s = find(v, n, "opaque/");
	CHECK(s && s->perm == 0700 && !s->xattr_user[0]); /* overlay's xattrs stay out */
	/* uncompressed: the blob is the tar */
	char digest[DIGEST_STR_MAX];
	sha256_digest(out.data, out.len, digest);
	CHECK_STR(res.diff_id, digest);
	CHECK_STR(res.blob_digest, digest);
	CHECK(res.tar_bytes == out.len);
	buf_release(&out);
}

TEST(plain_mode_keeps_char_devices)
{
	char d[256], p[512];
	struct buf out;
	struct tar_result res;
	struct layer_write_stats st;
	struct seen v[8];

	new_dir(d, sizeof(d), "plain");
	mkpath(p, sizeof(p), d, "wh");
	CHECK(mknod(p, S_IFCHR, makedev(0, 0)) == 0);
	CHECK(write_tree(d, false, COMPRESSION_NONE, &out, &res, &st) == 0);
	CHECK(read_tar(out.data, out.len, v, 8) == 1);
	CHECK_STR(v[0].name, "wh");
	CHECK(v[0].type == AE_IFCHR);
	buf_release(&out);
}

TEST(long_names_and_targets)
{
	char d[256], p[2048], name[300], target[400];
	struct buf out;
	struct tar_result res;
	struct layer_write_stats st;
	struct seen v[8];

	new_dir(d, sizeof(d), "long");
	memset(name, 'n', 200);
	name[200] = '\0';
	put_file(d, name, "long\n", 0644);
	memset(target, 't', 300);
	target[300] = '\0';
	mkpath(p, sizeof(p), d, "link");
	CHECK(symlink(target, p) == 0);
	/* 120 + 1 + 90: fits ustar's prefix + name split */
	char a[121], b[91];
	memset(a, 'a', 120);
	a[120] = '\0';
	memset(b, 'b', 90);
	b[90] = '\0';
	sub(p, sizeof(p), d, a, 0755);
	put_file(p, b, "split\n", 0644);
	CHECK(write_tree(d, true, COMPRESSION_NONE, &out, &res, &st) == 0);
	int n = read_tar(out.data, out.len, v, 8);
	CHECK(n == 4);
	char want[300];
	snprintf(want, sizeof(want), "%s/%s", a, b);
	CHECK(find(v, n, want) != NULL);
	CHECK(find(v, n, name) != NULL);
	struct seen *s = find(v, n, "link");
	CHECK(s && !strcmp(s->link, target));
	buf_release(&out);
}

static void inflate_gzip(const struct buf *in, struct buf *out)
{
	z_stream z = {0};
	unsigned char chunk[65536];
	int r;

	*out = (struct buf)BUF_INIT(OUT_CAP);
	CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK);
	z.next_in = (unsigned char *)in->data;
	z.avail_in = (uInt)in->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		r = inflate(&z, Z_NO_FLUSH);
		buf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (r == Z_OK);
	CHECK(r == Z_STREAM_END);
	inflateEnd(&z);
}

static void inflate_zstd(const struct buf *in, struct buf *out)
{
	unsigned long long size = ZSTD_getFrameContentSize(in->data, in->len);
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer ib = {in->data, in->len, 0};
	unsigned char chunk[65536];

	(void)size;
	*out = (struct buf)BUF_INIT(OUT_CAP);
	while (ib.pos < ib.size) {
		ZSTD_outBuffer ob = {chunk, sizeof(chunk), 0};
		size_t r = ZSTD_decompressStream(z, &ob, &ib);
		CHECK(!ZSTD_isError(r));
		if (ZSTD_isError(r))
			break;
		buf_append(out, chunk, ob.pos);
	}
	ZSTD_freeDStream(z);
}

TEST(compressed_digests_and_determinism)
{
	char d[256];
	struct buf plain, gz, gz2, zs, back;
	struct tar_result rp, rg, rg2, rz;
	struct layer_write_stats st;
	char digest[DIGEST_STR_MAX];

	new_dir(d, sizeof(d), "comp");
	make_upper(d);
	/* something compressible and larger than the stage */
	char *big = malloc(3 << 20);
	for (size_t i = 0; i < (3u << 20) - 1; i++)
		big[i] = (char)('a' + (i * 7 % 13));
	big[(3 << 20) - 1] = '\0';
	put_file(d, "big", big, 0644);
	free(big);
	CHECK(write_tree(d, true, COMPRESSION_NONE, &plain, &rp, &st) == 0);
	CHECK(write_tree(d, true, COMPRESSION_GZIP, &gz, &rg, &st) == 0);
	CHECK(write_tree(d, true, COMPRESSION_GZIP, &gz2, &rg2, &st) == 0);
	CHECK(write_tree(d, true, COMPRESSION_ZSTD, &zs, &rz, &st) == 0);
	/* the same tar whatever the compression; the same blob every time */
	CHECK_STR(rg.diff_id, rp.diff_id);
	CHECK_STR(rz.diff_id, rp.diff_id);
	CHECK_STR(rg2.blob_digest, rg.blob_digest);
	CHECK(gz.len == gz2.len && !memcmp(gz.data, gz2.data, gz.len));
	CHECK(gz.len < plain.len / 4);
	sha256_digest(gz.data, gz.len, digest);
	CHECK_STR(rg.blob_digest, digest);
	CHECK(rg.blob_bytes == gz.len);
	sha256_digest(zs.data, zs.len, digest);
	CHECK_STR(rz.blob_digest, digest);
	inflate_gzip(&gz, &back);
	CHECK(back.len == plain.len && !memcmp(back.data, plain.data, plain.len));
	buf_release(&back);
	inflate_zstd(&zs, &back);
	CHECK(back.len == plain.len && !memcmp(back.data, plain.data, plain.len));
	buf_release(&back);
	buf_release(&plain);
	buf_release(&gz);
	buf_release(&gz2);
	buf_release(&zs);
}

TEST(measure_counts_the_same_bytes)
{
	char d[256];
	struct buf out;
	struct tar_result res, mres;
	struct layer_write_stats st;
	struct layer_write_opts o = {.overlay = true};
	struct tar_writer w;
	struct sk_err err = {0};

	new_dir(d, sizeof(d), "measure");
	make_upper(d);
	CHECK(write_tree(d, true, COMPRESSION_NONE, &out, &res, &st) == 0);
	int fd = open(d, O_RDONLY | O_DIRECTORY);
	tar_writer_init_measure(&w);
	CHECK(layer_write_tree(&w, fd, "", &o, &st, &err) == 0);
	CHECK(tar_writer_finish(&w, &mres, &err) == 0);
	tar_writer_release(&w);
	close(fd);
	CHECK(mres.tar_bytes == res.tar_bytes);
	buf_release(&out);
}

/* written -> unpacked into a store-like dir -> written again: same diff_id */
TEST(round_trip_through_unpack)
{
	char d[256], x[256];
	struct buf out, again;
	struct tar_result r1, r2;
	struct layer_write_stats st;
	struct unpack_result ur;
	struct sk_err err = {0};
	char path[300];

	new_dir(d, sizeof(d), "rt-src");
	make_upper(d);
	CHECK(write_tree(d, true, COMPRESSION_GZIP, &out, &r1, &st) == 0);
	snprintf(path, sizeof(path), "%s/rt.tar.gz", top);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fs_write_all(fd, out.data, out.len) == 0);
	lseek(fd, 0, SEEK_SET);
	new_dir(x, sizeof(x), "rt-dst");
	int dfd = open(x, O_RDONLY | O_DIRECTORY);
	CHECK(unpack_layer(fd, COMPRESSION_GZIP, dfd, &ur, &err) == 0);
	CHECK_STR(ur.diff_id, r1.diff_id);
	close(fd);
	close(dfd);
	CHECK(write_tree(x, true, COMPRESSION_GZIP, &again, &r2, &st) == 0);
	CHECK_STR(r2.diff_id, r1.diff_id);
	CHECK_STR(r2.blob_digest, r1.blob_digest);
	buf_release(&out);
	buf_release(&again);
}

static bool contains(const struct buf *b, const char *needle)
{
	return b->len && memmem(b->data, b->len, needle, strlen(needle)) != NULL;
}

TEST(hostile_tree_stays_inside)
{
	char d[256], p[512], outside[512];
	struct buf out;
	struct tar_result res;
	struct layer_write_stats st;
	struct seen v[16];

	snprintf(outside, sizeof(outside), "%s/host-secret", top);
	put_file(top, "host-secret", "HOST-SECRET-BYTES\n", 0600);
	new_dir(d, sizeof(d), "hostile");
	mkpath(p, sizeof(p), d, "to-secret");
	CHECK(symlink(outside, p) == 0);
	mkpath(p, sizeof(p), d, "to-root");
	CHECK(symlink("/", p) == 0);
	mkpath(p, sizeof(p), d, "dotdot");
	CHECK(symlink("../../../../../../etc/shadow", p) == 0);
	mkpath(p, sizeof(p), d, "pipe");
	CHECK(mkfifo(p, 0600) == 0); /* would block a reader forever */
	/* a socket cannot be in a tar: skipped, counted, named */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", d);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(s);
	/* a block device of the host, made in the tree: never opened */
	mkpath(p, sizeof(p), d, "disk");
	CHECK(mknod(p, S_IFBLK | 0600, makedev(7, 0)) == 0);
	CHECK(write_tree(d, true, COMPRESSION_NONE, &out, &res, &st) == 0);
	CHECK(!contains(&out, "HOST-SECRET-BYTES"));
	int n = read_tar(out.data, out.len, v, 16);
	CHECK(n == 5);
	CHECK(find(v, n, "sock") == NULL);
	CHECK(st.skipped == 1 && !strcmp(st.first_skipped, "sock"));
	struct seen *e = find(v, n, "to-secret");
	CHECK(e && e->type == AE_IFLNK && !strcmp(e->link, outside));
	e = find(v, n, "disk");
	CHECK(e && e->type == AE_IFBLK && e->size == 0);
	CHECK(index_of(v, n, "pipe") >= 0);
	buf_release(&out);
}

/* A child exchanges a regular file and a symlink to a host file (one
 * renameat2 RENAME_EXCHANGE, as fast as it can) while the tree is written
 * again and again: the host file's bytes never get in (a file is read only
 * through the inode that fstat said was a regular file). */
TEST(swap_race_never_reads_outside)
{
	char d[256], a[512], b[512], outside[512];
	pid_t child;

	snprintf(outside, sizeof(outside), "%s/race-secret", top);
	put_file(top, "race-secret", "RACE-SECRET-BYTES-0123456789abc\n", 0600);
	new_dir(d, sizeof(d), "race");
	/* as long as the secret: a wrong read would copy all of it */
	put_file(d, "f", "harmless-harmless-harmless-1234\n", 0644);
	mkpath(a, sizeof(a), d, "f");
	mkpath(b, sizeof(b), d, "l");
	CHECK(symlink(outside, b) == 0);
	child = fork();
	if (child == 0) {
		for (;;)
			renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
	}
	bool leaked = false;
	int ok = 0;
	for (int i = 0; i < 3000 && !leaked; i++) {
		struct buf out;
		struct tar_result res;
		struct layer_write_stats st;
		if (write_tree(d, false, COMPRESSION_NONE, &out, &res, &st) == 0)
			ok++;
		leaked = contains(&out, "RACE-SECRET-BYTES");
		buf_release(&out);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(!leaked);
	CHECK(ok > 0);
}

TEST(object_with_a_name)
{
	char d[256], p[512];
	struct buf out = BUF_INIT(OUT_CAP);
	struct tar_result res;
	struct layer_write_stats st = {0};
	struct layer_write_opts o = {0};
	struct tar_writer w;
	struct sk_err err = {0};
	struct seen v[8];

	new_dir(d, sizeof(d), "obj");
	sub(p, sizeof(p), d, "data", 0750);
	put_file(p, "a", "A\n", 0644);
	int fd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK(tar_writer_init(&w, COMPRESSION_NONE, 0, buf_sink, &out, &err) == 0);
	CHECK(layer_write_object(&w, fd, "data", "renamed", &o, &st, &err) == 0);
	CHECK(tar_writer_finish(&w, &res, &err) == 0);
	tar_writer_release(&w);
	close(fd);
	int n = read_tar(out.data, out.len, v, 8);
	CHECK(n == 2);
	CHECK_STR(v[0].name, "renamed/");
	CHECK(v[0].perm == 0750);
	CHECK_STR(v[1].name, "renamed/a");
	buf_release(&out);
}

int main(void)
{
	struct sk_err err;

	if (geteuid() != 0) {
		printf("%s: skipped (needs root)\n", __FILE__);
		return 0;
	}
	snprintf(top, sizeof(top), "/tmp/skiff-lw-XXXXXX");
	if (!mkdtemp(top))
		return 1;
	RUN(entries_and_order);
	RUN(plain_mode_keeps_char_devices);
	RUN(long_names_and_targets);
	RUN(compressed_digests_and_determinism);
	RUN(measure_counts_the_same_bytes);
	RUN(round_trip_through_unpack);
	RUN(hostile_tree_stays_inside);
	RUN(swap_race_never_reads_outside);
	RUN(object_with_a_name);
	fs_remove_tree(AT_FDCWD, top, &err);
	return UNIT_DONE();
}

/*
 * Layer extraction: the hostile-input boundary.
 *
 * Reads a layer blob from an fd (a pipe fed by the downloader, or a file),
 * decompresses it (ISA-L igzip for gzip, zlib fallback; zstd; none), hashes the
 * uncompressed tar (the diff_id), reads tar entries with libarchive and writes
 * them below dest_dirfd. Every path is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) relative to dest_dirfd: "..", absolute names and
 * symlinks cannot leave it. Names with ".." or a leading "/" are confined to the
 * root (as docker does); a hard link whose target is outside the layer, or a
 * symlink/hardlink chain used to escape, is refused; whiteouts ".wh.NAME" become
 * 0:0 character devices and ".wh..wh..opq" sets trusted.overlay.opaque=y on its
 * directory; invalid whiteouts (".wh." alone, ".wh..", ".wh...") are refused.
 * Files keep mode (setuid/setgid/sticky), uid/gid, mtime and xattrs (including
 * security.capability). Refusals name the entry: "entry '../x': ...".
 */
#ifndef SKIFF_UNPACK_H
#define SKIFF_UNPACK_H

#include <stdint.h>

#include "image/manifest.h"
#include "util/err.h"
#include "util/sha256.h"

struct unpack_result {
	char diff_id[DIGEST_STR_MAX]; /* sha256 of the uncompressed tar stream */
	uint64_t tar_bytes;           /* uncompressed size */
	/* the files' bytes, as docker counts a layer's size: regular files
	 * (a hard link once) and symlinks' targets */
	uint64_t content_bytes;
	uint64_t entries;
};

/* Extract everything from src_fd until EOF into dest_dirfd (an empty directory).
 * The whole input is consumed and hashed even past the tar's end-of-archive
 * marker, so the diff_id is over all bytes. On error the destination is left
 * partially written; the caller discards it.
 * comp is the media type's claim; as docker and containerd do, the magic bytes
 * decide (gzip, zstd, else a plain tar; bzip2/xz are refused). Limits: names
 * and link targets 4096 bytes, 10 million entries, 64 MiB of deferred
 * directory times. Safe to run in several threads at once (no shared state).
 * See docs/EXTRACTION.md for why nothing can be written outside dest_dirfd. */
int unpack_layer(int src_fd, enum compression comp, int dest_dirfd, struct unpack_result *res,
		 struct sk_err *err);

#endif

/*
 * Fuzz target for layer extraction: the input is a layer blob (a tar, or a
 * gzip/zstd stream of one: unpack_layer detects the format from the magic
 * bytes). Each run extracts into a fresh directory next to an empty sentinel
 * directory; anything appearing outside the layer root aborts, as does any
 * crash or sanitizer report. The sandbox is removed after every run.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/unpack.h"
#include "util/fs.h"

static int count_entries(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* One sandbox directory per fuzzing process, reused by every run. */
static char top[] = "/tmp/skiff-fuzz-unpack-XXXXXX";
static int topfd = -1;

static void remove_top(void)
{
	rmdir(top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unpack_result res;
	struct sk_err err = {0};
	int in, root;

	if (topfd < 0) {
		if (!mkdtemp(top))
			abort();
		topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		atexit(remove_top);
	}
	if (mkdirat(topfd, "root", 0755) < 0 || mkdirat(topfd, "sentinel", 0755) < 0)
		abort();
	root = openat(topfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	in = memfd_create("layer", MFD_CLOEXEC);
	if (root < 0 || in < 0 || write(in, data, size) != (ssize_t)size)
		abort();
	lseek(in, 0, SEEK_SET);
	unpack_layer(in, COMPRESSION_NONE, root, &res, &err);
	close(in);
	close(root);
	/* Only root/ and the still empty sentinel/ may exist next to each other. */
	if (count_entries(topfd, ".") != 2 || count_entries(topfd, "sentinel") != 0)
		abort();
	if (fs_remove_tree(topfd, "root", &err) < 0 || fs_remove_tree(topfd, "sentinel", &err) < 0)
		abort();
	return 0;
}

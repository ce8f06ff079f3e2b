/*
 * Fuzz target for `skiff load`: the input is an image archive (docker save
 * or OCI layout tar, optionally gzip-compressed as a whole). archive_load
 * must refuse what is wrong with an error and never crash; whatever it
 * accepts must leave a store whose records all resolve. One store per
 * fuzzing process, emptied after every run.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/store.h"
#include "util/fs.h"

static char top[] = "/tmp/skiff-fuzz-archive-XXXXXX";

static void remove_top(void)
{
	struct sk_err err = { 0 };

	fs_remove_tree(AT_FDCWD, top, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct store st = { .root_fd = -1 };
	struct archive_report rep = { 0 };
	struct sk_err err = { 0 };
	char root[sizeof(top) + 16];
	int fd;

	if (!ready) {
		if (!mkdtemp(top))
			abort();
		atexit(remove_top);
		ready = true;
	}
	snprintf(root, sizeof(root), "%s/store", top);
	if (store_open(&st, root, &err) < 0)
		abort();
	fd = memfd_create("archive", MFD_CLOEXEC);
	if (fd < 0 || (size && fs_write_all(fd, data, size) < 0) || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	if (archive_load(&st, fd, "fuzz", &rep, &err) == 0) {
		/* every loaded image must be found again, whole */
		for (size_t i = 0; i < rep.n_images; i++) {
			struct store_image img;

			if (store_image_lookup(&st, rep.images[i].config_digest, &img, &err) < 0)
				abort();
		}
		archive_report_release(&rep);
	} else if (err.msg[0] == '\0') {
		abort(); /* a failure must say why */
	}
	close(fd);
	store_close(&st);
	fs_remove_tree(AT_FDCWD, root, &err);
	return 0;
}

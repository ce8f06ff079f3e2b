/*
 * skiff import [-c CHANGE]... [-m MSG] FILE|- [REPOSITORY[:TAG]]: a tarball
 * (plain, gzip or zstd; a file or stdin) as an image of one layer, as docker
 * import. The tar is hostile input: it is extracted by the same code as a
 * pulled layer (image/unpack.h). Prints the new image's id.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/commit.h"
#include "image/ref.h"
#include "util/cleanup.h"

static const char import_usage[] =
    "Usage: skiff import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\n"
    "Import the contents from a tarball to create a filesystem image\n\n"
    "Options:\n"
    "  -c, --change list      apply a Dockerfile instruction to the created image\n"
    "  -m, --message string   set commit message for imported image\n"
    "      --platform string  accepted when it is the host's platform\n";

#define MAX_CHANGES 256

static int exec_import(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"change", required_argument, NULL, 'c'},
	    {"message", required_argument, NULL, 'm'},
	    {"platform", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	char *changes[MAX_CHANGES + 1] = {0};
	struct commit_opts o = {.changes = changes};
	char canonical[REF_STR_MAX], id[DIGEST_STR_MAX];
	struct image_ref ref;
	cleanup_close int fd = -1;
	const char *src;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:c:m:h", opts)) != -1) {
		switch (c) {
		case 'c':
			if (o.n_changes == MAX_CHANGES)
				return cli_usage_error(err, "import", "more than %d changes",
						       MAX_CHANGES);
			changes[o.n_changes++] = optarg;
			break;
		case 'm':
			o.message = optarg;
			break;
		case 'P':
			break;
		case 'h':
			return fputs(import_usage, stdout), 0;
		case ':':
			return cli_usage_error(err, "import", "flag needs an argument: '%s'",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "import", "unknown flag: '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error(
		    err, "import", "\"skiff import\" requires at least 1 and at most 2 arguments");
	src = argv[optind];
	if (argc - optind == 2) {
		if (ref_parse(argv[optind + 1], &ref, err) < 0)
			return err_wrap(err, "import: invalid reference '%s'", argv[optind + 1]);
		if (ref.digest[0])
			return err_set(err, 0, "import: a tag cannot name a digest");
		ref_canonical(&ref, canonical, sizeof(canonical));
		o.ref = canonical;
	}
	if (strstr(src, "://"))
		return err_set(err, 0,
			       "import: importing from a URL is not supported; download "
			       "it and import the file");
	if (strcmp(src, "-")) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set(err, errno, "import: cannot open '%s'", src);
	} else if (isatty(STDIN_FILENO)) {
		return err_set(err, 0,
			       "import: stdin is a terminal (give a file or a redirection)");
	}
	if (image_import(&ctx->store, fd >= 0 ? fd : STDIN_FILENO, "-", &o, id, err) < 0)
		return err_wrap(err, "import '%s'", src);
	printf("%s\n", id);
	return 0;
}

const struct command cmd_import = {
    .name = "import",
    .summary = "Import the contents from a tarball to create a filesystem image",
    .usage = import_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_import,
};

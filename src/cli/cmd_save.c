/*
 * skiff save [-o FILE] [--format docker|oci] IMAGE...: images as one tar
 * archive, docker's `save` layout by default (what `docker load` and
 * `skiff load` take), an OCI image layout with --format oci. With -o the
 * archive is written next to FILE and renamed over it when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/archive_write.h"
#include "util/cleanup.h"

static const char save_usage[] =
    "Usage: skiff save [OPTIONS] IMAGE [IMAGE...]\n\n"
    "Save one or more images to a tar archive (streamed to STDOUT by default)\n\n"
    "Options:\n"
    "      --format string   docker (docker save's layout, the default) or oci\n"
    "  -o, --output string   write to a file, instead of STDOUT\n";

/* Anything but a regular file (/dev/null, a fifo) is written in place: a
 * rename would replace the device node itself. */
static int save_in_place(struct store *s, char *const *names, size_t n, enum save_format f,
			 const char *output, struct sk_err *err)
{
	cleanup_close int fd = open(output, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", output);
	return archive_save(s, names, n, f, fd, err);
}

static int save_to_file(struct store *s, char *const *names, size_t n, enum save_format f,
			const char *output, struct sk_err *err)
{
	cleanup_free char *tmp = NULL;
	cleanup_close int fd = -1;
	struct stat st;

	if (stat(output, &st) == 0 && !S_ISREG(st.st_mode))
		return save_in_place(s, names, n, f, output, err);
	if (asprintf(&tmp, "%s.skiff-save-%d", output, (int)getpid()) < 0)
		return err_set(err, ENOMEM, "save");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(err, errno, "cannot create '%s'", tmp);
	if (archive_save(s, names, n, f, fd, err) < 0 || fsync(fd) < 0 || rename(tmp, output) < 0) {
		if (!err->msg[0])
			err_set(err, errno, "cannot write '%s'", output);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int exec_save(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	enum save_format format = SAVE_DOCKER;
	const char *output = NULL;
	int c, r;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:o:h", opts)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'F':
			if (!strcmp(optarg, "oci"))
				format = SAVE_OCI;
			else if (!strcmp(optarg, "docker"))
				format = SAVE_DOCKER;
			else
				return cli_usage_error(
				    err, "save", "unknown format '%s' (docker or oci)", optarg);
			break;
		case 'h':
			return fputs(save_usage, stdout), 0;
		case ':':
			return cli_usage_error(err, "save", "flag needs an argument: '%s'",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "save", "unknown flag: '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(err, "save", "\"skiff save\" requires at least 1 argument");
	if (!output && isatty(STDOUT_FILENO))
		return cli_usage_error(err, "save",
				       "cowardly refusing to save to a terminal. Use the -o flag "
				       "or redirect");
	if (output)
		r = save_to_file(&ctx->store, argv + optind, (size_t)(argc - optind), format,
				 output, err);
	else
		r = archive_save(&ctx->store, argv + optind, (size_t)(argc - optind), format,
				 STDOUT_FILENO, err);
	if (r < 0 && err->errnum == ENOENT)
		err->exit_code = 1;
	return r < 0 ? err_wrap(err, "save") : 0;
}

const struct command cmd_save = {
    .name = "save",
    .summary = "Save one or more images to a tar archive",
    .usage = save_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_save,
};

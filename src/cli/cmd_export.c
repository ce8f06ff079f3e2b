/*
 * skiff export [-o FILE] CONTAINER: the container's file system (its image
 * and its changes, not its volumes nor /proc) as one tar, as docker export.
 * Read through a detached read-only overlay of its layers and its upper
 * directory, never following a symlink of the container (runtime/copy.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/copy.h"
#include "util/cleanup.h"

static const char export_usage[] = "Usage: skiff export [OPTIONS] CONTAINER\n\n"
				   "Export a container's filesystem as a tar archive\n\n"
				   "Options:\n"
				   "  -o, --output string   write to a file, instead of STDOUT\n";

static int exec_export(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct ctr_fs fs = CTR_FS_INIT;
	const char *output = NULL;
	cleanup_close int fd = -1;
	int c, r;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:o:h", opts)) != -1) {
		if (c == 'o')
			output = optarg;
		else if (c == 'h')
			return fputs(export_usage, stdout), 0;
		else if (c == ':')
			return cli_usage_error(err, "export", "flag needs an argument: '%s'",
					       argv[optind - 1]);
		else
			return cli_usage_error(err, "export", "unknown flag: '%s'",
					       argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "export",
				       "\"skiff export\" requires exactly 1 argument");
	if (!output && isatty(STDOUT_FILENO))
		return cli_usage_error(err, "export",
				       "cowardly refusing to save to a terminal. Use the -o flag "
				       "or redirect");
	if (ctr_fs_open(&ctx->store, argv[optind], CTR_FS_LAYERS, ctx->cfg.storage_vfs, &fs, err) <
	    0) {
		ctr_fs_close(&fs);
		err->exit_code = 1;
		return -1;
	}
	if (output) {
		fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			ctr_fs_close(&fs);
			return err_set(err, errno, "export: cannot create '%s'", output);
		}
	}
	r = ctr_export(&fs, output ? fd : STDOUT_FILENO, err);
	ctr_fs_close(&fs);
	if (r < 0) {
		if (output)
			unlink(output);
		return err_wrap(err, "export '%s'", argv[optind]);
	}
	return 0;
}

const struct command cmd_export = {
    .name = "export",
    .summary = "Export a container's filesystem as a tar archive",
    .usage = export_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_export,
};

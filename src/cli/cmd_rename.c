/*
 * skiff rename CONTAINER NEW_NAME: docker rename. The new name is claimed
 * before the old one is given up, so a conflict changes nothing.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/container.h"

static int exec_rename(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h') {
			cli_print_usage(&cmd_rename);
			return 0;
		}
		return cli_usage_error(err, "rename", "unknown flag: %s", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "rename",
				       "\"skiff rename\" requires exactly 2 arguments.\n\n"
				       "Usage:  skiff rename CONTAINER NEW_NAME");
	if (container_rename(&ctx->store, argv[optind], argv[optind + 1], err) < 0) {
		err->exit_code = 1;
		return -1;
	}
	return 0;
}

const struct command cmd_rename = {
    .name = "rename",
    .summary = "Rename a container",
    .usage = "Usage:  skiff rename CONTAINER NEW_NAME\n\nRename a container\n",
    .flags = CMD_NEED_STORE,
    .exec = exec_rename,
};

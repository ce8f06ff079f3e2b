/*
 * skiff diff CONTAINER: what the container changed in its image, as docker
 * diff prints it ("A /new", "C /changed", "D /deleted"), from the overlay
 * upper directory (runtime/changes.h says what each letter means).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/changes.h"

static const char diff_usage[] = "Usage: skiff diff CONTAINER\n\n"
				 "Inspect changes to files or directories on a container's "
				 "filesystem\n";

static int print_change(void *ctx, char kind, const char *path, struct sk_err *err)
{
	printf("%c %s\n", kind, path);
	return 0;
}

static int exec_diff(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct ctr_layers l;
	int c, r;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h')
			return fputs(diff_usage, stdout), 0;
		return cli_usage_error(err, "diff", "unknown flag: '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "diff", "\"skiff diff\" requires exactly 1 argument");
	if (ctr_layers_open(&ctx->store, argv[optind], ctx->cfg.storage_vfs, &l, err) < 0) {
		ctr_layers_close(&l);
		err->exit_code = 1;
		return -1;
	}
	r = ctr_changes(&l, print_change, NULL, err);
	ctr_layers_close(&l);
	return r < 0 ? err_wrap(err, "diff '%s'", argv[optind]) : 0;
}

const struct command cmd_diff = {
    .name = "diff",
    .summary = "Inspect changes to files or directories on a container's filesystem",
    .usage = diff_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_diff,
};

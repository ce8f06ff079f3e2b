/* STUB: 'skiff images' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_images(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "images: not implemented yet");
}

const struct command cmd_images = {
	.name = "images",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff images\n",
	.flags = 0,
	.exec = exec_images,
};

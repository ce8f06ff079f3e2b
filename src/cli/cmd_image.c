/* skiff image: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_image(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "image: not implemented yet");
}

const struct command cmd_image = {
	.name = "image",
	.summary = "Manage images (prune)",
	.usage = "Usage:  skiff image\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_image,
};

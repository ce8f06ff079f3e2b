/* skiff rm: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_rm(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "rm: not implemented yet");
}

const struct command cmd_rm = {
	.name = "rm",
	.summary = "Remove one or more containers",
	.usage = "Usage:  skiff rm\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_rm,
};

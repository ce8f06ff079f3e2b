/* skiff restart: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_restart(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "restart: not implemented yet");
}

const struct command cmd_restart = {
	.name = "restart",
	.summary = "Restart one or more containers",
	.usage = "Usage:  skiff restart\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_restart,
};

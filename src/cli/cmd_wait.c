/* skiff wait: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_wait(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "wait: not implemented yet");
}

const struct command cmd_wait = {
	.name = "wait",
	.summary = "Block until containers stop, then print their exit codes",
	.usage = "Usage:  skiff wait\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_wait,
};

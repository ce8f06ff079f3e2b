/* skiff stop: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_stop(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "stop: not implemented yet");
}

const struct command cmd_stop = {
	.name = "stop",
	.summary = "Stop one or more running containers",
	.usage = "Usage:  skiff stop\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_stop,
};

/* skiff start: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_start(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "start: not implemented yet");
}

const struct command cmd_start = {
	.name = "start",
	.summary = "Start one or more stopped containers",
	.usage = "Usage:  skiff start\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_start,
};

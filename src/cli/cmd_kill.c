/* skiff kill: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_kill(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "kill: not implemented yet");
}

const struct command cmd_kill = {
	.name = "kill",
	.summary = "Kill one or more running containers",
	.usage = "Usage:  skiff kill\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_kill,
};

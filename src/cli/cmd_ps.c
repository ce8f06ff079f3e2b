/* skiff ps: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_ps(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "ps: not implemented yet");
}

const struct command cmd_ps = {
	.name = "ps",
	.summary = "List containers",
	.usage = "Usage:  skiff ps\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_ps,
};

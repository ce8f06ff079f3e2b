/* skiff system: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_system(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "system: not implemented yet");
}

const struct command cmd_system = {
	.name = "system",
	.summary = "Manage skiff (df)",
	.usage = "Usage:  skiff system\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_system,
};

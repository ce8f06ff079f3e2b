/* skiff exec: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_exec(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "exec: not implemented yet");
}

const struct command cmd_exec = {
	.name = "exec",
	.summary = "Execute a command in a running container",
	.usage = "Usage:  skiff exec\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_exec,
};

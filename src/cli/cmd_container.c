/* skiff container: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_container(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "container: not implemented yet");
}

const struct command cmd_container = {
	.name = "container",
	.summary = "Manage containers (prune)",
	.usage = "Usage:  skiff container\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_container,
};

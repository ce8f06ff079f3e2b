/* skiff logs: placeholder, replaced by issue 5's implementation. */
#include "cli/cli.h"

static int exec_logs(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, 0, "logs: not implemented yet");
}

const struct command cmd_logs = {
	.name = "logs",
	.summary = "Fetch the logs of a container",
	.usage = "Usage:  skiff logs\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_logs,
};

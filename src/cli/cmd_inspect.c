/* STUB: 'skiff inspect' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_inspect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "inspect: not implemented yet");
}

const struct command cmd_inspect = {
	.name = "inspect",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff inspect\n",
	.flags = 0,
	.exec = exec_inspect,
};

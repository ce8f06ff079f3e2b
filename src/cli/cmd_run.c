/* STUB: 'skiff run' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_run(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "run: not implemented yet");
}

const struct command cmd_run = {
	.name = "run",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff run\n",
	.flags = 0,
	.exec = exec_run,
};

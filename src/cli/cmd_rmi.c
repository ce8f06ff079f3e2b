/* STUB: 'skiff rmi' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_rmi(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "rmi: not implemented yet");
}

const struct command cmd_rmi = {
	.name = "rmi",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff rmi\n",
	.flags = 0,
	.exec = exec_rmi,
};

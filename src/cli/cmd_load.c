/* STUB: 'skiff load' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_load(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "load: not implemented yet");
}

const struct command cmd_load = {
	.name = "load",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff load\n",
	.flags = 0,
	.exec = exec_load,
};

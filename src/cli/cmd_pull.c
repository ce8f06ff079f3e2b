/* STUB: 'skiff pull' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_pull(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "pull: not implemented yet");
}

const struct command cmd_pull = {
	.name = "pull",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff pull\n",
	.flags = 0,
	.exec = exec_pull,
};

/* STUB: 'skiff logout' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_logout(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "logout: not implemented yet");
}

const struct command cmd_logout = {
	.name = "logout",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff logout\n",
	.flags = 0,
	.exec = exec_logout,
};

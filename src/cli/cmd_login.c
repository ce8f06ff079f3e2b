/* STUB: 'skiff login' — to be replaced by the real implementation. */
#include <errno.h>

#include "cli/cli.h"

static int exec_login(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return err_set(err, ENOSYS, "login: not implemented yet");
}

const struct command cmd_login = {
	.name = "login",
	.summary = "(not implemented yet)",
	.usage = "Usage: skiff login\n",
	.flags = 0,
	.exec = exec_login,
};

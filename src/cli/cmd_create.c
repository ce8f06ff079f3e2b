/*
 * skiff create [OPTIONS] IMAGE [COMMAND [ARG...]]: docker create. The same
 * options as run (parsed by run's code), the same image lookup and pull, the
 * same records; the container is left "created", owned by no process, until
 * `skiff start` starts it as it starts a stopped one. Prints the id.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* run's parser words its usage errors for run: say create. */
static void reword_for_create(struct sk_err *err)
{
	static const char from[] = "skiff run", to[] = "skiff create";
	char out[ERR_MSG_MAX];
	size_t n = 0;

	for (const char *p = err->msg; *p && n + sizeof(to) < sizeof(out);) {
		if (!strncmp(p, from, sizeof(from) - 1)) {
			memcpy(out + n, to, sizeof(to) - 1);
			n += sizeof(to) - 1;
			p += sizeof(from) - 1;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	snprintf(err->msg, sizeof(err->msg), "%s", out);
}

static int exec_create(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	int ret = run_create(ctx, argc, argv, err);

	if (ret < 0)
		reword_for_create(err);
	return ret;
}

const struct command cmd_create = {
    .name = "create",
    .summary = "Create a new container",
    .usage = "Usage:  skiff create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
	     "Create a new container: the image is found (or pulled), the container\n"
	     "recorded and its id printed; `skiff start` starts it.\n\n"
	     "Options: those of `skiff run` (see 'skiff run --help'), but -d.\n",
    .flags = CMD_NEED_STORE,
    .exec = exec_create,
};

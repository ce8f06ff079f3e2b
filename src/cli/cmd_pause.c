/*
 * skiff pause / unpause CONTAINER...: docker's. Every process of the
 * container is frozen through its cgroup (runtime/freeze.h) and the state
 * says paused; unpause thaws it. Each name is printed as given once done;
 * failures are reported one by one and make the exit status 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/freeze.h"

static int pause_one(struct cli_ctx *ctx, const char *id, void *arg)
{
	bool pause = *(bool *)arg;
	struct sk_err err = {0};
	int ret = pause ? container_pause(&ctx->store, id, &err)
			: container_unpause(&ctx->store, id, &err);

	if (ret < 0)
		fprintf(stderr, "skiff: %s\n", err.msg);
	return ret;
}

static int run_pause(struct cli_ctx *ctx, int argc, char **argv, bool pause,
		     const struct command *cmd, struct sk_err *err)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h') {
			cli_print_usage(cmd);
			return 0;
		}
		return cli_usage_error(err, cmd->name, "unknown flag: %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, cmd->name,
				       "\"skiff %s\" requires at least 1 argument.\n\n"
				       "Usage:  skiff %s CONTAINER [CONTAINER...]",
				       cmd->name, cmd->name);
	return cli_for_each_container(ctx, argv + optind, argc - optind, pause_one, &pause, err);
}

static int exec_pause(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return run_pause(ctx, argc, argv, true, &cmd_pause, err);
}

static int exec_unpause(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return run_pause(ctx, argc, argv, false, &cmd_unpause, err);
}

const struct command cmd_pause = {
    .name = "pause",
    .summary = "Pause all processes within one or more containers",
    .usage = "Usage:  skiff pause CONTAINER [CONTAINER...]\n\n"
	     "Pause all processes within one or more containers (their cgroup is frozen)\n",
    .flags = CMD_NEED_STORE,
    .exec = exec_pause,
};

const struct command cmd_unpause = {
    .name = "unpause",
    .summary = "Unpause all processes within one or more containers",
    .usage = "Usage:  skiff unpause CONTAINER [CONTAINER...]\n\n"
	     "Unpause all processes within one or more containers\n",
    .flags = CMD_NEED_STORE,
    .exec = exec_unpause,
};

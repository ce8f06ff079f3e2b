/*
 * skiff start CONTAINER...: run stopped containers again, detached (their
 * output goes to the log, as docker start without -a), with the options they
 * were created with. Each name is printed as given once it runs.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/state.h"

static int start_one(struct cli_ctx *ctx, const char *id, void *arg)
{
	struct sk_err err = { 0 };

	if (run_start_container(ctx, id, &err) == 0)
		return 0;
	fprintf(stderr, "skiff: %s\n", err.msg);
	return -1;
}

int cli_for_each_container(struct cli_ctx *ctx, char **names, int n,
			   int (*fn)(struct cli_ctx *, const char *id, void *), void *arg,
			   struct sk_err *err)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		char id[CTR_ID_LEN + 1];
		struct sk_err e = { 0 };

		if (ctr_resolve(&ctx->store, names[i], id, &e) < 0) {
			fprintf(stderr, "skiff: %s\n", e.msg);
			failed = 1;
			continue;
		}
		if (fn(ctx, id, arg) < 0) {
			failed = 1;
			continue;
		}
		printf("%s\n", names[i]);
		fflush(stdout);
	}
	return failed;
}

static int exec_start(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	opterr = 0;
	optind = 1;
	while ((c = cli_getopt(argc, argv, "+:h", opts)) != -1) {
		if (c == 'h') {
			cli_print_usage(&cmd_start);
			return 0;
		}
		return cli_usage_error(err, "start", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "start",
				       "\"skiff start\" requires at least 1 argument.\n\n"
				       "Usage:  skiff start CONTAINER [CONTAINER...]");
	return cli_for_each_container(ctx, argv + optind, argc - optind, start_one, NULL, err);
}

const struct command cmd_start = {
	.name = "start",
	.summary = "Start one or more stopped containers",
	.usage = "Usage:  skiff start CONTAINER [CONTAINER...]\n\n"
		 "Start one or more stopped containers, detached, with the options they were\n"
		 "created with (their output goes to `skiff logs`).\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_start,
};

/*
 * skiff restart [-t SECS] [-s SIGNAL] CONTAINER...: stop (signal, grace
 * period, SIGKILL) then start again, detached.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "runtime/ctl.h"
#include "runtime/state.h"

struct restart_args {
	int timeout_s, sig;
};

static int restart_one(struct cli_ctx *ctx, const char *id, void *arg)
{
	const struct restart_args *ra = arg;
	struct sk_err err = { 0 };

	if (ctl_stop(&ctx->store, id, ra->timeout_s, ra->sig, &err) == 0 &&
	    run_start_container(ctx, id, &err) == 0)
		return 0;
	fprintf(stderr, "skiff: %s\n", err.msg);
	return -1;
}

static int exec_restart(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = { { "time", required_argument, NULL, 't' },
					      { "signal", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct restart_args ra = { .timeout_s = CTL_STOP_TIMEOUT_S };
	char *end;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = cli_getopt(argc, argv, "+:t:s:h", opts)) != -1) {
		switch (c) {
		case 'h': cli_print_usage(&cmd_restart); return 0;
		case 't':
			ra.timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg)
				return cli_usage_error(err, "restart",
						       "invalid argument \"%s\" for \"-t, --time\" flag",
						       optarg);
			break;
		case 's':
			if (ctl_signal_parse(optarg, &ra.sig, err) < 0)
				return cli_usage_error(err, "restart", "%s", err->msg);
			break;
		case ':':
			return cli_usage_error(err, "restart", "flag needs an argument: %s",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "restart", "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(err, "restart",
				       "\"skiff restart\" requires at least 1 argument.\n\n"
				       "Usage:  skiff restart [OPTIONS] CONTAINER [CONTAINER...]");
	return cli_for_each_container(ctx, argv + optind, argc - optind, restart_one, &ra, err);
}

const struct command cmd_restart = {
	.name = "restart",
	.summary = "Restart one or more containers",
	.usage = "Usage:  skiff restart [OPTIONS] CONTAINER [CONTAINER...]\n\n"
		 "Restart one or more containers (stop, then start detached)\n\n"
		 "Options:\n"
		 "  -s, --signal string   signal to send to the container\n"
		 "  -t, --time int        seconds to wait before killing the container (default 10)\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_restart,
};

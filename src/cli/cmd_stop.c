/*
 * skiff stop: docker stop. Each container gets its stop signal (SIGTERM unless
 * its image or -s says otherwise), -t seconds to exit, then SIGKILL; the name
 * is printed once the monitor has recorded the exit. An exited container is
 * left as it is (success, as docker).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "runtime/ctl.h"

static const char stop_usage[] =
	"Usage:  skiff stop [OPTIONS] CONTAINER [CONTAINER...]\n\n"
	"Stop one or more running containers\n\n"
	"Options:\n"
	"  -s, --signal string   signal to send to the container (default: its stop signal)\n"
	"  -t, --time int        seconds to wait before killing the container (default 10,\n"
	"                        -1 waits forever)\n";

static int parse_timeout(const char *s, int *out, struct sk_err *err)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < -1 || v > 1000000)
		return cli_usage_error(err, "stop", "invalid argument \"%s\" for \"-t, --time\"", s);
	*out = (int)v;
	return 0;
}

static int stop_one(struct store *s, const char *ref, int timeout, int sig, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];

	if (ctr_resolve(s, ref, id, err) < 0 || ctl_stop(s, id, timeout, sig, err) < 0)
		return -1;
	printf("%s\n", ref);
	fflush(stdout);
	return 0;
}

static int exec_stop(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, timeout = CTL_STOP_TIMEOUT_S, sig = 0, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+t:s:h", opts)) != -1) {
		switch (c) {
		case 't':
			if (parse_timeout(optarg, &timeout, err) < 0)
				return -1;
			break;
		case 's':
			if (ctl_signal_parse(optarg, &sig, err) < 0)
				return -1;
			break;
		case 'h':
			return fputs(stop_usage, stdout), 0;
		default:
			return cli_usage_error(err, "stop", "unknown flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(err, "stop", "\"skiff stop\" requires at least 1 argument");
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };

		if (stop_one(&ctx->store, argv[i], timeout, sig, &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed = 1;
		}
	}
	return failed;
}

const struct command cmd_stop = {
	.name = "stop",
	.summary = "Stop one or more running containers",
	.usage = stop_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_stop,
};

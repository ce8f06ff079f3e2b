/*
 * skiff kill: docker kill. Sends a signal (SIGKILL unless -s) to each
 * container's first process; SIGKILL marks it stopped by the user so its
 * restart policy does not bring it back. A container that is not running is
 * an error, as docker's; so is a bad signal, before any container is touched.
 * Failures exit 1 with docker's words after "skiff: ".
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/ctl.h"

static const char kill_usage[] = "Usage:  skiff kill [OPTIONS] CONTAINER [CONTAINER...]\n\n"
				 "Kill one or more running containers\n\n"
				 "Options:\n"
				 "  -s, --signal string   signal to send to the container (default \"KILL\")\n";

static int kill_one(struct store *s, const char *ref, int sig, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];

	if (ctr_resolve(s, ref, id, err) < 0 || ctl_signal(s, id, sig, sig == SIGKILL, err) < 0)
		return err_wrap(err, "Cannot kill container: %s", ref);
	printf("%s\n", ref);
	fflush(stdout);
	return 0;
}

static int exec_kill(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "signal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, sig = SIGKILL, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+s:h", opts)) != -1) {
		switch (c) {
		case 's':
			if (ctl_signal_parse(optarg, &sig, err) < 0)
				return err_set(err, 0, "Invalid signal: %s", optarg);
			break;
		case 'h':
			return fputs(kill_usage, stdout), 0;
		default:
			return cli_usage_error(err, "kill", "unknown flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_args_error(err, "kill", "\"skiff kill\" requires at least 1 argument");
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };

		if (kill_one(&ctx->store, argv[i], sig, &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed = 1;
		}
	}
	return failed;
}

const struct command cmd_kill = {
	.name = "kill",
	.summary = "Kill one or more running containers",
	.usage = kill_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_kill,
};

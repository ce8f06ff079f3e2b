/*
 * skiff wait: docker wait. Blocks until each container has exited and prints
 * its exit code, one per line, in the order given.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/ctl.h"

static const char wait_usage[] = "Usage:  skiff wait CONTAINER [CONTAINER...]\n\n"
				 "Block until one or more containers stop, then print their exit codes\n";

static int wait_one(struct store *s, const char *ref, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];
	struct ctr_state st;

	if (ctr_resolve(s, ref, id, err) < 0 || ctl_wait_exited(s, id, -1, &st, err) < 0)
		return -1;
	printf("%d\n", st.status == CTR_EXITED ? st.exit_code : 0);
	fflush(stdout);
	return 0;
}

static int exec_wait(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h')
			return fputs(wait_usage, stdout), 0;
		return cli_usage_error(err, "wait", "unknown flag '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "wait", "\"skiff wait\" requires at least 1 argument");
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };

		if (wait_one(&ctx->store, argv[i], &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed = 1;
		}
	}
	return failed;
}

const struct command cmd_wait = {
	.name = "wait",
	.summary = "Block until one or more containers stop, then print their exit codes",
	.usage = wait_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_wait,
};

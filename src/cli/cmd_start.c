/*
 * skiff start [-a] [-i] [--detach-keys KEYS] CONTAINER...: run stopped
 * containers again with the options they were created with. Without -a/-i
 * they run detached (their output goes to the log) and each name is printed
 * as given once it runs; with -a (-i: and stdin) skiff attaches to the one
 * container before it starts, relays its stdio and exits with its status,
 * as docker start -a does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/attach.h"
#include "runtime/state.h"
#include "util/cleanup.h"

static const char start_usage[] =
	"Usage:  skiff start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
	"Start one or more stopped containers, with the options they were created with\n"
	"(detached: their output goes to `skiff logs`, unless attached)\n\n"
	"Options:\n"
	"  -a, --attach               Attach STDOUT/STDERR and forward signals\n"
	"      --detach-keys string   Override the key sequence for detaching a container\n"
	"  -i, --interactive          Attach container's STDIN\n";

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

struct start_args {
	bool attach, interactive;
	const char *detach_keys;
};

/* Start the container with skiff attached from the start (no output is
 * missed), or attach to it when it runs already (as docker's). */
static int start_attached(struct cli_ctx *ctx, const char *ref, const struct start_args *sa,
			  struct sk_err *err)
{
	char id[CTR_ID_LEN + 1], keys[ATTACH_KEYS_MAX];
	struct ctr_config cfg;
	cleanup_close int dirfd = -1;
	struct cli_attach a = { .sig_proxy = true, .detach_keys = sa->detach_keys };
	size_t n_keys;
	int sp[2], r;

	if (ctr_resolve(&ctx->store, ref, id, err) < 0 ||
	    (dirfd = ctr_open_dir(&ctx->store, id, err)) < 0 ||
	    ctr_config_read(dirfd, &cfg, err) < 0)
		return -1;
	a.send_stdin = sa->interactive && cfg.interactive;
	r = cli_check_tty(cfg.tty, a.send_stdin, err);
	if (r == 0)
		r = cli_detach_keys(ctx, sa->detach_keys, keys, &n_keys, err);
	if (r == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		r = err_set(err, errno, "cannot attach to the container");
	if (r == 0) {
		r = run_start_attached(ctx, id, sp[1], err);
		if (r == 0)
			r = cli_attach_session(ctx, dirfd, &cfg, sp[0], &a, err);
		else if (r == 1) {
			close(sp[0]);
			r = cli_attach_running(ctx, dirfd, ref, &cfg, &a, err);
		} else {
			close(sp[0]);
		}
	}
	ctr_config_release(&cfg);
	return r;
}

static int parse_start(int argc, char **argv, struct start_args *sa, struct sk_err *err)
{
	enum { OPT_DETACH_KEYS = 256 };
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = cli_getopt(argc, argv, "+:aih", opts)) != -1) {
		switch (c) {
		case 'a': sa->attach = true; break;
		case 'i': sa->interactive = true; break;
		case OPT_DETACH_KEYS: sa->detach_keys = optarg; break;
		case 'h': return 1;
		case ':':
			return cli_usage_error(err, "start", "flag needs an argument: %s",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "start", "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(err, "start",
				       "\"skiff start\" requires at least 1 argument.\n\n"
				       "Usage:  skiff start [OPTIONS] CONTAINER [CONTAINER...]");
	return 0;
}

static int exec_start(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct start_args sa = { 0 };
	int r = parse_start(argc, argv, &sa, err);

	if (r != 0)
		return r < 0 ? -1 : (fputs(start_usage, stdout), 0);
	if (!sa.attach && !sa.interactive)
		return cli_for_each_container(ctx, argv + optind, argc - optind, start_one, NULL,
					      err);
	if (argc - optind > 1) {
		err_set(err, 0, "you cannot start and attach multiple containers at once");
		err->exit_code = 1;
		return -1;
	}
	r = start_attached(ctx, argv[optind], &sa, err);
	if (r < 0)
		err->exit_code = 1; /* docker start's failures exit 1 */
	return r;
}

const struct command cmd_start = {
	.name = "start",
	.summary = "Start one or more stopped containers",
	.usage = start_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_start,
};

/*
 * skiff pull [OPTIONS] NAME[:TAG|@DIGEST]: fetch an image into the store, with
 * docker's flags and closing lines.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "image/pull.h"
#include "image/ref.h"

#define MAX_CONCURRENT_LIMIT 64

static const char pull_usage[] =
	"Usage: skiff pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
	"\n"
	"Download an image from a registry into the store.\n"
	"\n"
	"Options:\n"
	"      --platform os/arch[/variant]   pick this platform from a multi-platform image\n"
	"                                     (default: the host's); an architecture alone\n"
	"                                     (arm64) means linux/ARCH\n"
	"      --max-concurrent-downloads N   layers fetched at once (default 3, or\n"
	"                                     \"max-concurrent-downloads\" in config.json)\n"
	"  -q, --quiet                        print only the image's full name\n"
	"  -h, --help                         print this help\n";

enum { OPT_PLATFORM = 256, OPT_MAX_CONCURRENT };

static int parse_concurrency(const char *s, int *out, struct sk_err *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > MAX_CONCURRENT_LIMIT)
		return cli_usage_error(err, "pull",
				       "invalid --max-concurrent-downloads '%s': want 1 to %d", s,
				       MAX_CONCURRENT_LIMIT);
	*out = (int)v;
	return 0;
}

/* Returns 1 when help was printed, 0 to go on, -1 on a usage error. */
static int parse_pull_options(int argc, char **argv, struct pull_opts *opts, bool *quiet,
			      struct sk_err *err)
{
	static const struct option longopts[] = {
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "max-concurrent-downloads", required_argument, NULL, OPT_MAX_CONCURRENT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:qh", longopts)) != -1) {
		switch (c) {
		case OPT_PLATFORM:
			/* docker: a bad platform is the pull's failure (1), not a usage error */
			if (pull_parse_platform(optarg, &opts->platform, err) < 0)
				return -1;
			break;
		case OPT_MAX_CONCURRENT:
			if (parse_concurrency(optarg, &opts->max_concurrent, err) < 0)
				return -1;
			break;
		case 'q':
			*quiet = true;
			break;
		case 'h':
			fputs(pull_usage, stdout);
			return 1;
		case ':':
			return cli_usage_error(err, "pull", "flag needs an argument: '%s'",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "pull", "unknown flag: '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

static int exec_pull(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct pull_opts opts = {
		.max_concurrent = ctx->cfg.max_concurrent_downloads > 0
					  ? ctx->cfg.max_concurrent_downloads
					  : 3,
		.progress = PROGRESS_AUTO,
	};
	struct pull_report rep;
	struct image_ref ref;
	bool quiet = false;
	const char *name;
	int r;

	platform_host(&opts.platform);
	r = parse_pull_options(argc, argv, &opts, &quiet, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	if (optind != argc - 1)
		return cli_args_error(err, "pull", "\"skiff pull\" requires exactly 1 argument");
	name = argv[optind];
	if (quiet)
		opts.progress = PROGRESS_QUIET;
	if (ref_parse(name, &ref, err) < 0)
		return err_wrap(err, "pull '%s'", name);
	if (pull_image_report(&ctx->store, &ctx->cfg, &ref, &opts, NULL, &rep, err) < 0)
		return err_wrap(err, "pull '%s'", name);
	pull_print_summary(stdout, &ref, &rep, quiet);
	return 0;
}

const struct command cmd_pull = {
	.name = "pull",
	.summary = "Download an image from a registry",
	.usage = pull_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_pull,
};

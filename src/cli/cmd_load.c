/*
 * skiff load [-i FILE] [-q]: images from a `docker save` tarball or an OCI image
 * layout tarball (plain or gzip'ed), from a file or stdin, as docker load does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/events.h"
#include "image/archive.h"
#include "util/cleanup.h"

static const char load_usage[] =
    "Usage: skiff load [OPTIONS]\n"
    "\n"
    "Load images from a tar archive (docker save or OCI layout, optionally gzip'ed)\n"
    "read from a file or from stdin.\n"
    "\n"
    "Options:\n"
    "  -i, --input FILE   read from FILE instead of stdin\n"
    "  -q, --quiet        suppress the load output\n"
    "  -h, --help         print this help\n";

/* Returns 1 when help was printed, 0 to go on, -1 on a usage error. */
static int parse_load_options(int argc, char **argv, const char **input, bool *quiet,
			      struct sk_err *err)
{
	static const struct option longopts[] = {
	    {"input", required_argument, NULL, 'i'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:i:qh", longopts)) != -1) {
		switch (c) {
		case 'i':
			*input = optarg;
			break;
		case 'q':
			*quiet = true;
			break;
		case 'h':
			fputs(load_usage, stdout);
			return 1;
		case ':':
			return cli_usage_error(err, "load", "flag needs an argument: '%s'",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "load", "unknown flag: '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_args_error(err, "load", "\"skiff load\" accepts no arguments");
	return 0;
}

static void print_loaded(int store_fd, const struct archive_report *rep)
{
	for (size_t i = 0; i < rep->n_images; i++) {
		const struct archive_loaded *l = &rep->images[i];

		events_image(store_fd, "load", l->config_digest, l->config_digest);
		if (l->shown[0])
			printf("Loaded image: %s\n", l->shown);
		else
			printf("Loaded image ID: %s\n", l->config_digest);
	}
}

static int exec_load(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct archive_report rep;
	const char *input = NULL;
	bool quiet = false;
	cleanup_close int fd = -1;
	int r;

	r = parse_load_options(argc, argv, &input, &quiet, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	if (input) {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set(err, errno, "load: cannot open '%s'", input);
	} else if (isatty(STDIN_FILENO)) {
		return err_set(err, 0,
			       "load: requested load from stdin, but stdin is a terminal "
			       "(use -i FILE or a redirection)");
	}
	if (archive_load(&ctx->store, input ? fd : STDIN_FILENO, input ? input : "stdin", &rep,
			 err) < 0)
		return err_wrap(err, "load");
	/* As docker: -q drops progress, never the names of what was loaded. */
	print_loaded(ctx->store.root_fd, &rep);
	archive_report_release(&rep);
	return 0;
}

const struct command cmd_load = {
    .name = "load",
    .summary = "Load images from a docker-save or OCI tar archive",
    .usage = load_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_load,
};

/*
 * skiff cp [-a] [-L] CONTAINER:SRC DEST|-   and   skiff cp SRC|- CONTAINER:DEST
 * Copies between a container (running or not) and the host, or a tar stream
 * on stdin/stdout, with docker's rules for what DEST becomes. Paths inside
 * the container never lead out of it (runtime/copy.h); the host's paths are
 * the host's, as docker has them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/copy.h"

static const char cp_usage[] =
    "Usage:  skiff cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
    "        skiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
    "Copy files/folders between a container and the local filesystem\n\n"
    "Use '-' as the source to read a tar archive from stdin and extract it to a\n"
    "directory destination in a container. Use '-' as the destination to stream a\n"
    "tar archive of a container source to stdout.\n\n"
    "Options:\n"
    "  -a, --archive       archive mode (copy all uid/gid information)\n"
    "  -L, --follow-link   always follow symbol link in SRC_PATH\n"
    "  -q, --quiet         accepted for docker compatibility\n";

/* docker's splitCpArg: "NAME:PATH", unless the whole is an absolute path or
 * what comes before the colon starts with "." (a local "./a:b"). */
static bool split_arg(char *arg, char **ctr, char **path)
{
	char *colon = strchr(arg, ':');

	*ctr = NULL;
	*path = arg;
	if (arg[0] == '/' || !colon || arg[0] == '.' || colon == arg)
		return false;
	*colon = '\0';
	*ctr = arg;
	*path = colon + 1;
	return true;
}

static int fail(struct sk_err *err)
{
	if (!err->exit_code)
		err->exit_code = 1;
	return -1;
}

static int copy_out(struct cli_ctx *ctx, const char *ctr, const char *src, const char *dest,
		    const struct cp_opts *o, struct sk_err *err)
{
	struct ctr_fs fs;
	int r;

	if (!strcmp(dest, "-") && isatty(STDOUT_FILENO))
		return err_set(err, 0, "cp: cannot write a tar archive to a terminal");
	if (ctr_fs_open(&ctx->store, ctr, CTR_FS_READ, ctx->cfg.storage_vfs, &fs, err) < 0) {
		ctr_fs_close(&fs);
		return fail(err);
	}
	if (!strcmp(dest, "-"))
		r = cp_out_tar(&fs, src, o, STDOUT_FILENO, err);
	else
		r = cp_out_host(&fs, src, dest, o, err);
	ctr_fs_close(&fs);
	if (r < 0 && err->errnum == ENOENT)
		err_wrap(err, "container %s", ctr);
	return r < 0 ? fail(err) : 0;
}

static int copy_in(struct cli_ctx *ctx, const char *src, const char *ctr, const char *dest,
		   const struct cp_opts *o, struct sk_err *err)
{
	struct ctr_fs fs;
	int r;

	if (!strcmp(src, "-") && isatty(STDIN_FILENO))
		return err_set(err, 0, "cp: stdin is a terminal, not a tar archive");
	if (ctr_fs_open(&ctx->store, ctr, CTR_FS_WRITE, ctx->cfg.storage_vfs, &fs, err) < 0) {
		ctr_fs_close(&fs);
		return fail(err);
	}
	if (!strcmp(src, "-"))
		r = cp_in_tar(&fs, STDIN_FILENO, dest, o, err);
	else
		r = cp_in_host(&fs, src, dest, o, err);
	ctr_fs_close(&fs);
	return r < 0 ? fail(err) : 0;
}

static int exec_cp(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"archive", no_argument, NULL, 'a'},
	    {"follow-link", no_argument, NULL, 'L'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct cp_opts o = {0};
	char *src_ctr, *src, *dst_ctr, *dst;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+aLqh", opts)) != -1) {
		switch (c) {
		case 'a':
			o.archive = true;
			break;
		case 'L':
			o.follow_link = true;
			break;
		case 'q':
			break;
		case 'h':
			return fputs(cp_usage, stdout), 0;
		default:
			return cli_usage_error(err, "cp", "unknown flag: '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "cp", "\"skiff cp\" requires exactly 2 arguments");
	split_arg(argv[optind], &src_ctr, &src);
	split_arg(argv[optind + 1], &dst_ctr, &dst);
	if (src_ctr && dst_ctr)
		return cli_usage_error(err, "cp", "copying between containers is not supported");
	if (!src_ctr && !dst_ctr)
		return cli_usage_error(err, "cp", "must specify at least one container source");
	if (!*src || !*dst)
		return cli_usage_error(err, "cp", "a path cannot be empty");
	if (src_ctr)
		return copy_out(ctx, src_ctr, src, dst, &o, err);
	return copy_in(ctx, src, dst_ctr, dst, &o, err);
}

const struct command cmd_cp = {
    .name = "cp",
    .summary = "Copy files/folders between a container and the local filesystem",
    .usage = cp_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_cp,
};

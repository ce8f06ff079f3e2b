/*
 * skiff commit [-a AUTHOR] [-m MSG] [-c CHANGE]... [-p] CONTAINER [REPO[:TAG]]:
 * a new image from a container's changes (its overlay upper directory as a
 * layer on its image), as docker commit; prints the new image's id. The
 * container's command, environment, working directory and user become the
 * image's defaults, then the --change instructions apply (image/commit.h).
 * -p is accepted: a running container is read as it runs, and a file that
 * changes meanwhile is taken as it was read, with a warning.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/commit.h"
#include "image/ref.h"
#include "runtime/copy.h"
#include "util/cleanup.h"

static const char commit_usage[] =
    "Usage: skiff commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
    "Create a new image from a container's changes\n\n"
    "Options:\n"
    "  -a, --author string    author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
    "  -c, --change list      apply a Dockerfile instruction to the created image\n"
    "                         (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,\n"
    "                         VOLUME, WORKDIR)\n"
    "  -m, --message string   commit message\n"
    "  -p, --pause            accepted for docker compatibility (default true)\n";

#define MAX_CHANGES 256

struct commit_args {
	struct commit_opts o;
	char *changes[MAX_CHANGES + 1];
	const char *container;
	char ref[REF_STR_MAX];
};

static int parse_commit_args(int argc, char **argv, struct commit_args *a, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"author", required_argument, NULL, 'a'},  {"change", required_argument, NULL, 'c'},
	    {"message", required_argument, NULL, 'm'}, {"pause", optional_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},	       {0},
	};
	struct image_ref ref;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:a:c:m:p::h", opts)) != -1) {
		switch (c) {
		case 'a':
			a->o.author = optarg;
			break;
		case 'm':
			a->o.message = optarg;
			break;
		case 'p':
			break;
		case 'c':
			if (a->o.n_changes == MAX_CHANGES)
				return cli_usage_error(err, "commit", "more than %d changes",
						       MAX_CHANGES);
			a->changes[a->o.n_changes++] = optarg;
			break;
		case 'h':
			return 1;
		case ':':
			return cli_usage_error(err, "commit", "flag needs an argument: '%s'",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "commit", "unknown flag: '%s'",
					       argv[optind - 1]);
		}
	}
	a->o.changes = a->changes;
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error(
		    err, "commit", "\"skiff commit\" requires at least 1 and at most 2 arguments");
	a->container = argv[optind];
	if (argc - optind == 2) {
		if (ref_parse(argv[optind + 1], &ref, err) < 0)
			return err_wrap(err, "invalid reference '%s'", argv[optind + 1]);
		if (ref.digest[0])
			return err_set(err, 0, "refusing to create a tag with a digest reference");
		ref_canonical(&ref, a->ref, sizeof(a->ref));
		a->o.ref = a->ref;
	}
	return 0;
}

static int commit_container(struct cli_ctx *ctx, struct commit_args *a, struct ctr_layers *l,
			    struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(&ctx->store, l->id, err);
	struct ctr_config cfg;
	char id[DIGEST_STR_MAX];
	int ret;

	if (dirfd < 0 || ctr_config_read(dirfd, &cfg, err) < 0)
		return -1;
	struct commit_container cc = {
	    .id = l->id,
	    .hostname = cfg.hostname,
	    .image_name = cfg.image,
	    .args = cfg.args.v,
	    .env = cfg.env.v,
	    .cwd = cfg.cwd,
	    .user = cfg.user,
	    .tty = cfg.tty,
	    .upper_fd = l->upper_fd,
	    .running = l->running,
	};
	ret = image_commit(&ctx->store, l->image_id, &cc, &a->o, id, err);
	ctr_config_release(&cfg);
	if (ret == 0)
		printf("%s\n", id);
	return ret;
}

static int exec_commit(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	cleanup_free struct commit_args *a = calloc(1, sizeof(*a));
	struct ctr_layers l;
	int r;

	if (!a)
		return err_set(err, ENOMEM, "commit");
	r = parse_commit_args(argc, argv, a, err);
	if (r)
		return r < 0 ? -1 : (fputs(commit_usage, stdout), 0);
	if (ctr_layers_open(&ctx->store, a->container, ctx->cfg.storage_vfs, &l, err) < 0) {
		ctr_layers_close(&l);
		err->exit_code = 1;
		return -1;
	}
	r = commit_container(ctx, a, &l, err);
	ctr_layers_close(&l);
	return r < 0 ? err_wrap(err, "commit '%s'", a->container) : 0;
}

const struct command cmd_commit = {
    .name = "commit",
    .summary = "Create a new image from a container's changes",
    .usage = commit_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_commit,
};

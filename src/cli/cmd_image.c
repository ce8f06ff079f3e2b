/*
 * skiff image: docker's management command. `image prune` removes dangling
 * (untagged) images, or with -a every image no container uses, then frees
 * their layers (store_gc). Every step is one atomic change of the store
 * (a record removal, a layer rename), so a prune killed at any point leaves a
 * valid store and the next prune finishes the job. The other subcommands are
 * the top-level commands under their `docker image` names.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "runtime/events.h"
#include "image/ref.h"
#include "util/cleanup.h"
#include "util/human.h"

static const char image_usage[] = "Usage:  skiff image COMMAND\n\n"
				  "Manage images\n\n"
				  "Commands:\n"
				  "  inspect     display detailed information on one or more images\n"
				  "  load        load an image from a tar archive or STDIN\n"
				  "  ls          list images\n"
				  "  prune       remove unused images\n"
				  "  pull        download an image from a registry\n"
				  "  rm          remove one or more images\n";

static const char prune_usage[] =
	"Usage:  skiff image prune [OPTIONS]\n\n"
	"Remove unused images\n\n"
	"Options:\n"
	"  -a, --all     remove all unused images, not just dangling ones\n"
	"  -f, --force   do not prompt for confirmation\n";

/* Config digests of the images containers use (in any state). */
struct digest_list {
	char (*items)[DIGEST_STR_MAX];
	size_t n;
};

static int add_used(const char *id, const char *config_digest, void *ctx)
{
	struct digest_list *l = ctx;
	void *grown = realloc(l->items, (l->n + 1) * sizeof(*l->items));

	if (!grown)
		return -1;
	l->items = grown;
	snprintf(l->items[l->n++], DIGEST_STR_MAX, "%s", config_digest);
	return 0;
}

static bool in_list(const struct digest_list *l, const char *digest)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i], digest))
			return true;
	return false;
}

static bool has_record(const struct store_image *list, size_t n, size_t skip_to,
		       const char *config_digest)
{
	for (size_t i = skip_to; i < n; i++)
		if (!strcmp(list[i].config_digest, config_digest))
			return true;
	return false;
}

/* Remove the records to prune; prints docker's "Deleted Images:" block. */
/* --filter until=: an image made before that time (one without a date is). */
static bool image_before(struct store *s, const struct store_image *img, int64_t until)
{
	struct image_config cfg = { 0 };
	struct sk_err ignored = { 0 };
	time_t created = 0;

	if (!until)
		return true;
	if (store_image_config(s, img, &cfg, &ignored) == 0 &&
	    human_parse_rfc3339(cfg.created, &created) < 0)
		created = 0;
	image_config_release(&cfg);
	return (int64_t)created * 1000000000 < until;
}

static int prune_records(struct store *s, bool all, int64_t until, size_t *deleted,
			 struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	struct digest_list used = { 0 };
	size_t n = 0;
	int ret = 0;

	if (store_refs_list(s, &list, &n, err) < 0)
		return -1;
	if (store_for_each_container_image(s, add_used, &used) < 0) {
		free(used.items);
		return err_set(err, ENOMEM, "cannot list the images containers use");
	}
	for (size_t i = 0; i < n; i++) {
		if ((!all && list[i].ref[0]) || in_list(&used, list[i].config_digest) ||
		    !image_before(s, &list[i], until))
			continue;
		/* 1: removed, 0: gone meanwhile; both go on (a stop at the
		 * first removal left all the others behind). */
		ret = store_record_remove(s, &list[i], err);
		if (ret < 0)
			break;
		ret = 0;
		if ((*deleted)++ == 0)
			printf("Deleted Images:\n");
		cli_print_untagged("untagged", list[i].ref);
		if (list[i].ref[0])
			events_image(s->root_fd, "untag", list[i].config_digest,
				     list[i].config_digest);
		/* The image is gone with its last record. */
		if (!has_record(list, n, i + 1, list[i].config_digest)) {
			printf("deleted: %s\n", list[i].config_digest);
			events_image(s->root_fd, "delete", list[i].config_digest,
				     list[i].config_digest);
		}
		fflush(stdout);
	}
	free(used.items);
	return ret;
}

int cli_prune_images(struct store *s, bool all, int64_t until_ns, uint64_t *freed,
		     size_t *deleted, struct sk_err *err)
{
	char bytes[32];

	*freed = 0;
	*deleted = 0;
	if (prune_records(s, all, until_ns, deleted, err) < 0)
		return err_wrap(err, "image prune");
	/* Also finishes what an interrupted prune or rmi left behind. */
	if (store_gc(s, freed, err) < 0)
		return err_wrap(err, "freeing unused layers");
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)*freed);
	events_write(s->root_fd, &(struct event){ .type = "image",
						   .action = "prune",
						   .actor_id = "",
						   .attrs = &(struct event_attr){ "reclaimed", bytes },
						   .n_attrs = 1 });
	return 0;
}

static int image_prune(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	     { "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool all = false, force = false;
	uint64_t freed = 0;
	size_t deleted = 0;
	char size[32];
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+afh", opts)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'f')
			force = true;
		else if (c == 'h')
			return fputs(prune_usage, stdout), 0;
		else if (c == 'F')
			return cli_usage_error(err, "image prune", "--filter is not supported");
		else
			return cli_usage_error(err, "image prune", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "image prune", "\"skiff image prune\" accepts no arguments");
	if (!force && !cli_confirm(all ? "WARNING! This will remove all images without at least one "
				       "container associated to them."
				     : "WARNING! This will remove all dangling images."))
		return 0;
	if (cli_prune_images(&ctx->store, all, 0, &freed, &deleted, err) < 0)
		return -1;
	human_size((double)freed, size, sizeof(size));
	printf("%sTotal reclaimed space: %s\n", deleted ? "\n" : "", size);
	return 0;
}

static int exec_image(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct cli_alias aliases[] = {
		{ "ls", &cmd_images, NULL }, { "list", &cmd_images, NULL },
		{ "rm", &cmd_rmi, NULL },    { "remove", &cmd_rmi, NULL },
		{ "pull", &cmd_pull, NULL }, { "load", &cmd_load, NULL },
		{ "inspect", &cmd_inspect, "--type=image" },
	};
	static const struct cli_group group = { "image", image_usage, aliases, ARRAY_SIZE(aliases),
						image_prune };

	return cli_run_group(&group, ctx, argc, argv, err);
}

const struct command cmd_image = {
	.name = "image",
	.summary = "Manage images (prune, ls, inspect, rm, ...)",
	.usage = image_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_image,
};

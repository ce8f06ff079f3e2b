/*
 * skiff system df: disk usage by images and containers, as `docker system
 * df`. Image sizes are the uncompressed sizes of their layers (as `skiff
 * images`), a layer shared by several images counted once; containers are
 * the sizes of their writable layers (upper/). Reclaimable: what removing the
 * images no container uses, the containers not running, and the volumes no
 * container uses would free.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "runtime/state.h"
#include "runtime/volume.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/gotemplate.h"
#include "util/human.h"
#include "util/tabwriter.h"

static const char system_usage[] = "Usage:  skiff system COMMAND\n\n"
				   "Manage skiff\n\n"
				   "Commands:\n"
				   "  df          show disk usage\n"
				   "  restore     start the containers whose restart policy says they\n"
				   "              should run (after a reboot: skiff-restart.service)\n";

static const char df_usage[] = "Usage:  skiff system df [OPTIONS]\n\n"
			       "Show skiff disk usage\n\n"
			       "Options:\n"
			       "      --format string   'table' (default), 'json' or a Go template\n";

struct usage_line {
	const char *type;
	size_t total, active;
	int64_t size, reclaimable;
};

/* A set of strings (digests), small enough for linear search. */
struct strset {
	char (*items)[DIGEST_STR_MAX];
	size_t n;
};

static bool strset_has(const struct strset *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->items[i], v))
			return true;
	return false;
}

/* Adds v unless present; 1 when added, 0 when present, -1 on ENOMEM. */
static int strset_add(struct strset *s, const char *v)
{
	void *grown;

	if (strset_has(s, v))
		return 0;
	grown = realloc(s->items, (s->n + 1) * sizeof(*s->items));
	if (!grown)
		return -1;
	s->items = grown;
	snprintf(s->items[s->n++], DIGEST_STR_MAX, "%s", v);
	return 1;
}

static int add_used_image(const char *id, const char *config_digest, void *ctx)
{
	return strset_add(ctx, config_digest) < 0 ? -1 : 0;
}

/* Adds the image's layers to seen (and their sizes to u->size, each layer
 * once) and, when a container uses the image, to seen_used. */
static int count_image_layers(struct store *s, const char *config_digest, bool active,
			      struct strset *seen, struct strset *seen_used, struct usage_line *u)
{
	struct store_image img = { 0 };
	struct image_config cfg = { 0 };
	struct sk_err ignored;

	snprintf(img.config_digest, sizeof(img.config_digest), "%s", config_digest);
	if (store_image_config(s, &img, &cfg, &ignored) < 0)
		return 0; /* unreadable: nothing to count */
	for (size_t i = 0; i < cfg.n_diff_ids; i++) {
		int64_t size = store_layer_size(s, cfg.diff_ids[i]);
		int r = strset_add(seen, cfg.diff_ids[i]);
		if (r < 0 || (active && strset_add(seen_used, cfg.diff_ids[i]) < 0)) {
			image_config_release(&cfg);
			return -1;
		}
		if (r > 0 && size > 0)
			u->size += size;
	}
	image_config_release(&cfg);
	return 0;
}

static int64_t layers_size(struct store *s, const struct strset *layers)
{
	int64_t total = 0;

	for (size_t i = 0; i < layers->n; i++) {
		int64_t size = store_layer_size(s, layers->items[i]);
		if (size > 0)
			total += size;
	}
	return total;
}

static int images_usage(struct store *s, struct usage_line *u, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	struct strset images = { 0 }, used = { 0 }, layers = { 0 }, used_layers = { 0 };
	size_t n = 0;
	int ret = -1;

	*u = (struct usage_line){ .type = "Images" };
	if (store_refs_list(s, &list, &n, err) < 0)
		return -1;
	if (store_for_each_container_image(s, add_used_image, &used) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool active = strset_has(&used, list[i].config_digest);
		int r = strset_add(&images, list[i].config_digest);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		u->total++;
		u->active += active;
		if (count_image_layers(s, list[i].config_digest, active, &layers, &used_layers, u) < 0)
			goto out;
	}
	u->reclaimable = u->size - layers_size(s, &used_layers);
	ret = 0;
out:
	free(images.items);
	free(used.items);
	free(layers.items);
	free(used_layers.items);
	if (ret < 0)
		err_set(err, 0, "cannot compute image disk usage: out of memory");
	return ret;
}

static int add_container(struct store *s, const char *id, int dirfd, void *ctx)
{
	struct usage_line *u = ctx;
	struct ctr_state st;
	struct sk_err ignored = { 0 };
	long long size = fs_disk_usage(dirfd, "upper");
	bool running;

	if (ctr_state_load(dirfd, &st, &ignored) < 0)
		return 0;
	running = st.status == CTR_RUNNING || st.status == CTR_RESTARTING;
	u->total++;
	u->active += running;
	u->size += size > 0 ? size : 0;
	if (!running)
		u->reclaimable += size > 0 ? size : 0;
	return 0;
}

/* Local volumes without driver options; active: used by a container. */
static int volumes_usage(struct store *s, struct usage_line *u, struct sk_err *err)
{
	struct volume_usage v;

	if (volume_usage(s, &v, err) < 0)
		return -1;
	u->total = v.total;
	u->active = v.active;
	u->size = v.size;
	u->reclaimable = v.reclaimable;
	return 0;
}

/* "1.2MB (70%)" as docker; no percentage when there is nothing at all. */
static void reclaimable_text(const struct usage_line *u, char *out, size_t len)
{
	char size[32];

	human_size((double)u->reclaimable, size, sizeof(size));
	if (u->size > 0)
		snprintf(out, len, "%s (%lld%%)", size,
			 (long long)((double)u->reclaimable * 100 / (double)u->size));
	else
		snprintf(out, len, "%s", size);
}

static json_t *line_json(const struct usage_line *u)
{
	char total[32], active[32], size[32], reclaimable[64];

	snprintf(total, sizeof(total), "%zu", u->total);
	snprintf(active, sizeof(active), "%zu", u->active);
	human_size((double)u->size, size, sizeof(size));
	reclaimable_text(u, reclaimable, sizeof(reclaimable));
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Active", active, "Reclaimable", reclaimable,
			 "Size", size, "TotalCount", total, "Type", u->type);
}

/* docker's list formatting (gotemplate_format_list): the default table,
 * json, a template, or `table TEMPLATE` with docker's column titles. */
static int print_usage_lines(const struct usage_line *lines, size_t n, const char *format,
			     struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(1 << 20);
	json_t *rows = json_array(), *header;
	int r;

	for (size_t i = 0; rows && i < n; i++)
		json_array_append_new(rows, line_json(&lines[i]));
	header = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL",
			   "Active", "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
	if (!rows || !header)
		r = err_set(err, ENOMEM, "cannot format disk usage");
	else
		r = gotemplate_format_list(format ? format : "",
					   "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}"
					   "\t{{.Reclaimable}}",
					   header, rows, &out, err);
	json_decref(rows);
	json_decref(header);
	if (r == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	return r;
}

static int system_df(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct usage_line lines[4] = {
		{ 0 }, { .type = "Containers" }, { .type = "Local Volumes" }, { .type = "Build Cache" },
	};
	const char *format = NULL;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+vh", opts)) != -1) {
		if (c == 'F')
			format = strcmp(optarg, "table") ? optarg : NULL;
		else if (c == 'h')
			return fputs(df_usage, stdout), 0;
		else if (c == 'v')
			return cli_usage_error(err, "system df", "--verbose is not supported");
		else
			return cli_usage_error(err, "system df", "unknown flag: %s", argv[optind - 1]);
	}
	if (images_usage(&ctx->store, &lines[0], err) < 0 ||
	    ctr_for_each(&ctx->store, add_container, &lines[1], err) < 0 ||
	    volumes_usage(&ctx->store, &lines[2], err) < 0)
		return -1;
	return print_usage_lines(lines, 4, format, err) < 0 ? -1 : 0;
}

static int exec_system(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(system_usage, sub ? stdout : stderr);
		return sub ? 0 : cli_usage_error(err, "system", "a subcommand is required");
	}
	if (!strcmp(sub, "df"))
		return system_df(ctx, argc - 1, argv + 1, err);
	if (!strcmp(sub, "restore"))
		return cmd_system_restore.exec(ctx, argc - 1, argv + 1, err);
	return cli_usage_error(err, "system", "unknown command \"%s\" for \"skiff system\"", sub);
}

const struct command cmd_system = {
	.name = "system",
	.summary = "Manage skiff (df, restore)",
	.usage = system_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_system,
};

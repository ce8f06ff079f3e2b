/*
 * skiff images: list the images in the store, as `docker images` does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "image/ref.h"
#include "util/cleanup.h"
#include "util/human.h"

static const char images_usage[] =
	"Usage: skiff images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
	"List images\n\n"
	"Options:\n"
	"      --digests         show digests\n"
	"      --format string   'table' (default) or 'json' (one JSON object per line)\n"
	"      --no-trunc        do not truncate image ids\n"
	"  -q, --quiet           only show image ids\n";

struct images_opts {
	bool quiet, no_trunc, digests, json;
	const char *filter; /* REPOSITORY[:TAG] */
};

/* One row, ready to print. */
struct image_row {
	char repo[REF_STR_MAX];
	char tag[REF_TAG_MAX];
	char digest[DIGEST_STR_MAX];
	char id[DIGEST_STR_MAX];
	char created[64];
	time_t created_at;
	int64_t size;
};

static void split_ref(const char *canonical, struct image_row *row)
{
	struct image_ref ref;
	struct sk_err ignored;

	snprintf(row->repo, sizeof(row->repo), "<none>");
	snprintf(row->tag, sizeof(row->tag), "<none>");
	if (!canonical[0] || ref_parse(canonical, &ref, &ignored) < 0)
		return;
	ref_familiar_name(&ref, row->repo, sizeof(row->repo));
	if (ref.tag[0])
		snprintf(row->tag, sizeof(row->tag), "%s", ref.tag);
}

static bool row_matches(const struct image_row *row, const char *filter)
{
	struct image_ref want;
	struct sk_err ignored;
	char name[REF_STR_MAX];
	bool has_tag;

	if (!filter)
		return true;
	if (ref_parse(filter, &want, &ignored) < 0)
		return false;
	ref_familiar_name(&want, name, sizeof(name));
	has_tag = strchr(filter + (strrchr(filter, '/') ? strrchr(filter, '/') - filter : 0), ':');
	return !strcmp(row->repo, name) && (!has_tag || !strcmp(row->tag, want.tag));
}

static int fill_row(struct store *s, const struct store_image *img, struct image_row *row)
{
	struct image_config cfg = { 0 };
	struct sk_err ignored;

	split_ref(img->ref, row);
	snprintf(row->digest, sizeof(row->digest), "%s", img->manifest_digest);
	snprintf(row->id, sizeof(row->id), "%s", img->config_digest);
	row->created[0] = '\0';
	row->created_at = 0;
	row->size = 0;
	if (store_image_config(s, img, &cfg, &ignored) < 0)
		return -1;
	snprintf(row->created, sizeof(row->created), "%s", cfg.created);
	if (human_parse_rfc3339(cfg.created, &row->created_at) < 0)
		row->created_at = 0;
	row->size = store_image_size(s, &cfg);
	image_config_release(&cfg);
	return 0;
}

static void print_json_row(const struct image_row *row)
{
	char size[32];
	json_t *o;
	char *text;

	human_size(row->size, size, sizeof(size));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "Repository", row->repo, "Tag",
		      row->tag, "ID", row->id, "Digest", row->digest, "CreatedAt", row->created,
		      "Size", size, "VirtualSize", (json_int_t)row->size);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}

static void print_table_row(const struct image_row *row, const struct images_opts *o)
{
	char size[32], ago[64], created[80];
	const char *id = o->no_trunc ? row->id : digest_hex(row->id);

	human_size(row->size, size, sizeof(size));
	if (row->created_at) {
		human_duration((int64_t)(time(NULL) - row->created_at), ago, sizeof(ago));
		snprintf(created, sizeof(created), "%s ago", ago);
	} else {
		snprintf(created, sizeof(created), "N/A");
	}
	if (o->digests)
		printf("%-40s %-10s %-71s %-*.*s %-16s %s\n", row->repo, row->tag, row->digest,
		       o->no_trunc ? 71 : 12, o->no_trunc ? 71 : 12, id, created, size);
	else
		printf("%-40s %-10s %-*.*s %-16s %s\n", row->repo, row->tag, o->no_trunc ? 71 : 12,
		       o->no_trunc ? 71 : 12, id, created, size);
}

static int parse_images_opts(int argc, char **argv, struct images_opts *o, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },	 { "no-trunc", no_argument, NULL, 'T' },
		{ "digests", no_argument, NULL, 'd' },	 { "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	 { "all", no_argument, NULL, 'a' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+qah", opts)) != -1) {
		switch (c) {
		case 'q': o->quiet = true; break;
		case 'T': o->no_trunc = true; break;
		case 'd': o->digests = true; break;
		case 'a': break; /* no intermediate images in skiff: -a lists the same */
		case 'f':
			if (!strcmp(optarg, "json") || !strcmp(optarg, "{{json .}}"))
				o->json = true;
			else if (strcmp(optarg, "table"))
				return cli_usage_error(err, "images", "unsupported format '%s'", optarg);
			break;
		case 'h': return 1;
		default: return cli_usage_error(err, "images", "unknown flag '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(err, "images", "\"skiff images\" takes at most 1 argument");
	o->filter = optind < argc ? argv[optind] : NULL;
	return 0;
}

static int exec_images(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct images_opts o = { 0 };
	cleanup_free struct store_image *list = NULL;
	size_t n = 0;
	int r = parse_images_opts(argc, argv, &o, err);

	if (r)
		return r < 0 ? -1 : (fputs(images_usage, stdout), 0);
	if (store_refs_list(&ctx->store, &list, &n, err) < 0)
		return -1;
	if (!o.quiet && !o.json) {
		if (o.digests)
			printf("%-40s %-10s %-71s %-*s %-16s %s\n", "REPOSITORY", "TAG", "DIGEST",
			       o.no_trunc ? 71 : 12, "IMAGE ID", "CREATED", "SIZE");
		else
			printf("%-40s %-10s %-*s %-16s %s\n", "REPOSITORY", "TAG", o.no_trunc ? 71 : 12,
			       "IMAGE ID", "CREATED", "SIZE");
	}
	for (size_t i = 0; i < n; i++) {
		struct image_row row;
		bool dup = false;

		if (fill_row(&ctx->store, &list[i], &row) < 0 && !o.quiet)
			snprintf(row.created, sizeof(row.created), "N/A");
		if (!row_matches(&row, o.filter))
			continue;
		if (o.quiet) {
			/* -q lists each image once, as docker does. */
			for (size_t j = 0; j < i; j++)
				dup |= !strcmp(list[j].config_digest, list[i].config_digest);
			if (!dup)
				printf("%.*s\n", o.no_trunc ? 71 : 12, o.no_trunc ? row.id : digest_hex(row.id));
		} else if (o.json) {
			print_json_row(&row);
		} else {
			print_table_row(&row, &o);
		}
	}
	return 0;
}

const struct command cmd_images = {
	.name = "images",
	.summary = "List images",
	.usage = images_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_images,
};

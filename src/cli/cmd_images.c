/*
 * skiff images: list the images in the store, as `docker images` does.
 */
#include <errno.h>
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
#include "util/duration.h"
#include "util/gotemplate.h"
#include "util/human.h"

static const char images_usage[] =
	"Usage: skiff images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
	"List images\n\n"
	"Options:\n"
	"      --digests         show digests\n"
	"      --format string   'table' (default), 'json' (one JSON object per line), a Go\n"
	"                        template such as '{{.Repository}}:{{.Tag}}', or 'table'\n"
	"                        and a template for aligned columns\n"
	"      --no-trunc        do not truncate image ids\n"
	"  -q, --quiet           only show image ids\n";

struct images_opts {
	bool quiet, no_trunc, digests;
	const char *format; /* NULL: the default table */
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
	/* docker shows <none> for an image no registry gave (a load) */
	snprintf(row->digest, sizeof(row->digest), "%s", img->local ? "" : img->manifest_digest);
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

/* go-units' HumanSizeWithPrecision: docker's VirtualSize has 4 digits, Size 3. */
static void size_4_digits(double v, char *out, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, "%.4g%s", v, units[u]);
}

/* One image with docker's `images --format` keys, all strings. */
static json_t *row_json(const struct image_row *row, bool no_trunc)
{
	char size[32], virtual_size[32], since[80], created_at[64], id[DIGEST_STR_MAX];

	human_size((double)row->size, size, sizeof(size));
	size_4_digits((double)row->size, virtual_size, sizeof(virtual_size));
	snprintf(since, sizeof(since), "N/A");
	created_at[0] = '\0';
	if (row->created_at) {
		human_duration((int64_t)(time(NULL) - row->created_at), since, sizeof(since));
		strncat(since, " ago", sizeof(since) - strlen(since) - 1);
		duration_go_time((int64_t)row->created_at * 1000000000, created_at, sizeof(created_at));
	}
	/* docker prints 12 hex digits unless --no-trunc, in JSON too. */
	snprintf(id, sizeof(id), "%.*s", no_trunc ? (int)sizeof(id) : 12,
		 no_trunc ? row->id : digest_hex(row->id));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
			 "N/A", "CreatedAt", created_at, "CreatedSince", since, "Digest",
			 row->digest[0] ? row->digest : "<none>", "ID", id, "Repository", row->repo,
			 "SharedSize", "N/A", "Size", size, "Tag", row->tag, "UniqueSize", "N/A",
			 "VirtualSize", virtual_size);
}

static int print_rows(json_t *rows, const struct images_opts *o, struct sk_err *err)
{
	static const char dflt[] = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
	static const char with_digests[] =
		"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
	cleanup_buf struct buf out = BUF_INIT(64u << 20);
	json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				   "Containers", "CONTAINERS", "CreatedAt", "CREATED AT",
				   "CreatedSince", "CREATED", "Digest", "DIGEST", "ID", "IMAGE ID",
				   "Repository", "REPOSITORY", "SharedSize", "SHARED SIZE", "Size",
				   "SIZE", "Tag", "TAG", "UniqueSize", "UNIQUE SIZE", "VirtualSize",
				   "VIRTUAL SIZE");
	int r;

	if (!header)
		return err_set(err, ENOMEM, "images");
	r = gotemplate_format_list(o->format, o->digests ? with_digests : dflt, header, rows, &out,
				   err);
	json_decref(header);
	if (r == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	return r;
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
		case 'f': o->format = optarg; break;
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
	json_t *rows;
	size_t n = 0;
	int r = parse_images_opts(argc, argv, &o, err);

	if (r)
		return r < 0 ? -1 : (fputs(images_usage, stdout), 0);
	if (store_refs_list(&ctx->store, &list, &n, err) < 0)
		return -1;
	rows = json_array();
	if (!rows)
		return err_set(err, ENOMEM, "images");
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
		} else if (json_array_append_new(rows, row_json(&row, o.no_trunc)) < 0) {
			json_decref(rows);
			return err_set(err, ENOMEM, "images");
		}
	}
	r = o.quiet ? 0 : print_rows(rows, &o, err);
	json_decref(rows);
	return r;
}

const struct command cmd_images = {
	.name = "images",
	.summary = "List images",
	.usage = images_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_images,
};

/*
 * skiff history [--no-trunc] [-q] [-H=false] [--format F] IMAGE: the image
 * config's history, newest first, with docker's columns (IMAGE, CREATED,
 * CREATED BY, SIZE, COMMENT). The top row is the image's id; the rows below
 * are "<missing>", as docker shows them for a pulled image (skiff keeps no
 * parent chain of local images). A row that made a layer shows the layer's
 * size, an empty_layer row 0B.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "util/cleanup.h"
#include "util/gotemplate.h"
#include "util/human.h"
#include "util/tabwriter.h"

static const char history_usage[] =
    "Usage: skiff history [OPTIONS] IMAGE\n\n"
    "Show the history of an image\n\n"
    "Options:\n"
    "      --format string   pretty-print with a Go template\n"
    "  -H, --human           sizes and dates in human readable format (default true)\n"
    "      --no-trunc        do not truncate output\n"
    "  -q, --quiet           only show image IDs\n";

#define CREATED_BY_WIDTH 45

struct history_opts {
	bool human, no_trunc, quiet;
	const char *format;
};

static int parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "t"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "f"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_history_opts(int argc, char **argv, struct history_opts *o, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"human", optional_argument, NULL, 'H'}, {"no-trunc", no_argument, NULL, 'T'},
	    {"quiet", no_argument, NULL, 'q'},	     {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	     {0},
	};
	int c;

	o->human = true;
	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+H::qh", opts)) != -1) {
		switch (c) {
		case 'H':
			if (optarg &&
			    parse_bool(optarg[0] == '=' ? optarg + 1 : optarg, &o->human) < 0)
				return cli_usage_error(err, "history",
						       "invalid value for --human: '%s'", optarg);
			if (!optarg)
				o->human = true;
			break;
		case 'T':
			o->no_trunc = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'h':
			return 1;
		default:
			return cli_usage_error(err, "history", "unknown flag: '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "history",
				       "\"skiff history\" requires exactly 1 argument");
	return 0;
}

/* Go's time.RFC3339 in local time ("2024-01-01T00:00:00Z", or "+01:00"). */
static void rfc3339_local(time_t t, char *out, size_t len)
{
	struct tm tm;
	char zone[8];
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 (off < 0 ? -off : off) / 3600, (off < 0 ? -off : off) % 3600 / 60);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

/* One history entry as the keys of docker's history formatter. */
static json_t *history_row(json_t *h, const char *id, int64_t size, const struct history_opts *o)
{
	const char *created = json_string_value(json_object_get(h, "created"));
	const char *by = json_string_value(json_object_get(h, "created_by"));
	const char *comment = json_string_value(json_object_get(h, "comment"));
	char since[96] = "N/A", at[64] = "", size_s[32], shown_by[4096];
	time_t t = 0;

	if (created && human_parse_rfc3339(created, &t) == 0) {
		rfc3339_local(t, at, sizeof(at));
		if (o->human) {
			human_duration((int64_t)(time(NULL) - t), since, sizeof(since));
			strncat(since, " ago", sizeof(since) - strlen(since) - 1);
		} else {
			snprintf(since, sizeof(since), "%s", at);
		}
	}
	if (o->human)
		human_size((double)size, size_s, sizeof(size_s));
	else
		snprintf(size_s, sizeof(size_s), "%" PRId64, size);
	snprintf(shown_by, sizeof(shown_by), "%s", by ? by : "");
	for (char *p = shown_by; *p; p++)
		if (*p == '\t')
			*p = ' ';
	if (!o->no_trunc) {
		char cut[4096];
		tab_ellipsis(shown_by, CREATED_BY_WIDTH, cut, sizeof(cut));
		snprintf(shown_by, sizeof(shown_by), "%s", cut);
	}
	/* keys in Go's order (sorted), for {{json .}} */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", comment ? comment : "",
			 "CreatedAt", at, "CreatedBy", shown_by, "CreatedSince", since, "ID", id,
			 "Size", size_s);
}

/* Rows newest first; layer sizes by walking diff_ids along the entries
 * that made a layer. */
static int history_rows(struct store *s, json_t *config, const struct store_image *img,
			const struct history_opts *o, json_t *rows, struct sk_err *err)
{
	json_t *history = json_object_get(config, "history");
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t n = json_array_size(history), layer = 0;
	cleanup_free int64_t *sizes = calloc(n ? n : 1, sizeof(*sizes));
	char id[DIGEST_STR_MAX];

	if (!sizes)
		return err_set(err, ENOMEM, "history");
	for (size_t i = 0; i < n; i++) {
		if (json_is_true(json_object_get(json_array_get(history, i), "empty_layer")))
			continue;
		const char *diff_id = json_string_value(json_array_get(diff_ids, layer++));
		int64_t sz = diff_id ? store_layer_size(s, diff_id) : -1;
		sizes[i] = sz > 0 ? sz : 0;
	}
	for (size_t i = n; i-- > 0;) {
		if (i + 1 < n)
			snprintf(id, sizeof(id), "<missing>");
		else
			snprintf(id, sizeof(id), "%.*s", o->no_trunc ? (int)sizeof(id) : 12,
				 o->no_trunc ? img->config_digest : digest_hex(img->config_digest));
		if (json_array_append_new(
			rows, history_row(json_array_get(history, i), id, sizes[i], o)) < 0)
			return err_set(err, ENOMEM, "history");
	}
	return 0;
}

static int print_history(json_t *rows, const struct history_opts *o, struct sk_err *err)
{
	static const char dflt[] =
	    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
	cleanup_buf struct buf out = BUF_INIT(64u << 20);
	json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince",
				   o->human ? "CREATED" : "CREATED AT", "CreatedAt", "CREATED AT",
				   "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
	size_t i;
	json_t *row;
	int r = 0;

	if (!header)
		return err_set(err, ENOMEM, "history");
	if (o->quiet && !o->format) {
		json_array_foreach(rows, i, row)
		    printf("%s\n", json_string_value(json_object_get(row, "ID")));
	} else {
		r = gotemplate_format_list(o->format ? o->format : "", dflt, header, rows, &out,
					   err);
		if (r == 0)
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
	}
	json_decref(header);
	return r;
}

static int exec_history(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct history_opts o = {0};
	cleanup_buf struct buf raw = BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	struct store_image img;
	json_t *config, *rows;
	json_error_t jerr;
	int r = parse_history_opts(argc, argv, &o, err);

	if (r)
		return r < 0 ? -1 : (fputs(history_usage, stdout), 0);
	if (store_image_lookup(&ctx->store, argv[optind], &img, err) < 0) {
		err->exit_code = 1;
		return -1;
	}
	if (store_blob_get(&ctx->store, img.config_digest, IMAGE_CONFIG_MAX_BYTES, &raw, err) < 0)
		return err_wrap(err, "history '%s'", argv[optind]);
	config = json_loadb(raw.data, raw.len, 0, &jerr);
	rows = json_array();
	if (!config || !rows) {
		json_decref(config);
		json_decref(rows);
		return err_set(err, 0, "history '%s': invalid image config", argv[optind]);
	}
	r = history_rows(&ctx->store, config, &img, &o, rows, err);
	if (r == 0)
		r = print_history(rows, &o, err);
	json_decref(rows);
	json_decref(config);
	return r;
}

const struct command cmd_history = {
    .name = "history",
    .summary = "Show the history of an image",
    .usage = history_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_history,
};

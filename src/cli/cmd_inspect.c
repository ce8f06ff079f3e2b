/*
 * skiff inspect: low-level information about images as JSON (docker's shape:
 * Id, RepoTags, RepoDigests, Created, Architecture, Os, Config, RootFS, Size),
 * with a small `--format '{{.Field.Sub}}'` / `{{json .Field}}` subset.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "image/ref.h"
#include "util/cleanup.h"

static const char inspect_usage[] =
	"Usage: skiff inspect [OPTIONS] IMAGE [IMAGE...]\n\n"
	"Return low-level information on images\n\n"
	"Options:\n"
	"  -f, --format string   print '{{.Path.To.Field}}' or '{{json .Field}}' per image\n"
	"      --type string     only 'image' is supported\n";

static void add_names(const struct store_image *list, size_t n, const char *config, json_t *tags,
		      json_t *digests)
{
	for (size_t i = 0; i < n; i++) {
		struct image_ref ref;
		struct sk_err ignored;
		char name[REF_STR_MAX], line[REF_STR_MAX + DIGEST_STR_MAX + 2];

		if (strcmp(list[i].config_digest, config) || !list[i].ref[0] ||
		    ref_parse(list[i].ref, &ref, &ignored) < 0)
			continue;
		ref_familiar_name(&ref, name, sizeof(name));
		if (ref.tag[0]) {
			snprintf(line, sizeof(line), "%s:%s", name, ref.tag);
			json_array_append_new(tags, json_string(line));
		}
		snprintf(line, sizeof(line), "%s@%s", name, list[i].manifest_digest);
		json_array_append_new(digests, json_string(line));
	}
}

static json_t *image_json(struct store *s, const struct store_image *img,
			  const struct store_image *list, size_t n, struct sk_err *err)
{
	cleanup_buf struct buf raw = BUF_INIT(8u << 20);
	struct image_config cfg = { 0 };
	json_t *config, *out, *tags = json_array(), *digests = json_array(), *layers = json_array();
	json_error_t jerr;

	/* One read of the blob serves both the parsed fields and the raw "Config". */
	if (store_blob_get(s, img->config_digest, 8u << 20, &raw, err) < 0) {
		json_decref(tags), json_decref(digests), json_decref(layers);
		return NULL;
	}
	if (image_config_parse(raw.data, raw.len, &cfg, err) < 0) {
		err_wrap(err, "image config %s", img->config_digest);
		json_decref(tags), json_decref(digests), json_decref(layers);
		return NULL;
	}
	config = json_loadb(raw.data, raw.len, 0, &jerr);
	add_names(list, n, img->config_digest, tags, digests);
	for (size_t i = 0; i < cfg.n_diff_ids; i++)
		json_array_append_new(layers, json_string(cfg.diff_ids[i]));
	out = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:O?, s:{s:s, s:o}, s:I, s:s}", "Id",
			img->config_digest, "RepoTags", tags, "RepoDigests", digests, "Created",
			cfg.created, "Architecture", cfg.platform.arch, "Variant", cfg.platform.variant,
			"Os", cfg.platform.os, "Config", config ? json_object_get(config, "config") : NULL,
			"RootFS", "Type", "layers", "Layers", layers, "Size",
			(json_int_t)store_image_size(s, &cfg), "ManifestDigest", img->manifest_digest);
	json_decref(config);
	image_config_release(&cfg);
	if (!out)
		err_set(err, 0, "cannot build inspect output for '%s'", img->config_digest);
	return out;
}

/* Print v the way Go's text/template prints it: strings raw, arrays "[a b]". */
static void print_go_value(const json_t *v)
{
	size_t i;
	const json_t *item;
	char *text;

	if (json_is_string(v)) {
		fputs(json_string_value(v), stdout);
	} else if (json_is_array(v)) {
		putchar('[');
		json_array_foreach(v, i, item) {
			if (i)
				putchar(' ');
			print_go_value(item);
		}
		putchar(']');
	} else if (!v || json_is_null(v)) {
		fputs("<no value>", stdout);
	} else {
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fputs(text ? text : "", stdout);
		free(text);
	}
}

static int print_format(const json_t *root, const char *format, struct sk_err *err)
{
	char path[512];
	bool as_json = false;
	const char *p = format, *end;
	const json_t *v = root;

	while (*p == ' ' || *p == '{')
		p++;
	if (!strncmp(p, "json ", 5)) {
		as_json = true;
		p += 5;
	}
	end = strstr(p, "}}");
	if (strncmp(format, "{{", 2) || !end || *p != '.' || (size_t)(end - p) >= sizeof(path))
		return err_set(err, 0, "unsupported format '%s' (use '{{.Field}}' or '{{json .Field}}')",
			       format);
	snprintf(path, sizeof(path), "%.*s", (int)(end - p), p);
	for (char *tok = path + 1, *dot; tok && *tok && v; tok = dot ? dot + 1 : NULL) {
		dot = strchr(tok, '.');
		if (dot)
			*dot = '\0';
		char *sp = tok + strcspn(tok, " ");
		*sp = '\0';
		v = json_object_get(v, tok);
	}
	if (as_json) {
		char *text = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		fputs(text ? text : "null", stdout);
		free(text);
	} else {
		print_go_value(v);
	}
	putchar('\n');
	return 0;
}

static int exec_inspect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_free struct store_image *list = NULL;
	const char *format = NULL;
	json_t *all;
	size_t n = 0;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return fputs(inspect_usage, stdout), 0;
		else if (c == 't' && strcmp(optarg, "image"))
			return cli_usage_error(err, "inspect", "unsupported type '%s'", optarg);
		else if (c != 't')
			return cli_usage_error(err, "inspect", "unknown flag '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "inspect", "\"skiff inspect\" requires at least 1 argument");
	if (store_refs_list(&ctx->store, &list, &n, err) < 0)
		return -1;
	all = json_array();
	for (int i = optind; i < argc; i++) {
		struct store_image img;
		json_t *one;

		if (store_image_lookup(&ctx->store, argv[i], &img, err) < 0 ||
		    !(one = image_json(&ctx->store, &img, list, n, err))) {
			json_decref(all);
			return -1;
		}
		if (format && print_format(one, format, err) < 0) {
			json_decref(one);
			json_decref(all);
			return -1;
		}
		json_array_append_new(all, one);
	}
	if (!format) {
		char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(all);
	return 0;
}

const struct command cmd_inspect = {
	.name = "inspect",
	.summary = "Return low-level information on images",
	.usage = inspect_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_inspect,
};

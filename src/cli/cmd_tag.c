/*
 * skiff tag SOURCE TARGET: another name for an image of the store, as
 * docker tag. SOURCE is a name, an id or an id prefix; TARGET a name with an
 * optional tag (never a digest). A TARGET that named another image moves to
 * this one; the other image stays, untagged when it had no other name.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "image/ref.h"

static const char tag_usage[] = "Usage: skiff tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
				"Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n";

/* A daemon-side failure in docker: exit 1, not 125. */
static int plain_failure(struct sk_err *err)
{
	err->exit_code = 1;
	return -1;
}

static int parse_target(const char *target, struct image_ref *ref, struct sk_err *err)
{
	if (ref_parse(target, ref, err) < 0) {
		err_wrap(err, "error parsing reference: \"%s\" is not a valid repository/tag",
			 target);
		return plain_failure(err);
	}
	if (ref->digest[0]) {
		err_set(err, 0,
			"error parsing reference: \"%s\" is not a valid repository/tag: a tag "
			"cannot name a digest",
			target);
		return plain_failure(err);
	}
	return 0;
}

static int exec_tag(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct store_image img, rec;
	struct image_ref ref;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h')
			return fputs(tag_usage, stdout), 0;
		return cli_usage_error(err, "tag", "unknown flag: '%s'", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "tag", "\"skiff tag\" requires exactly 2 arguments");
	if (parse_target(argv[optind + 1], &ref, err) < 0)
		return -1;
	if (store_image_lookup(&ctx->store, argv[optind], &img, err) < 0)
		return plain_failure(err);
	rec = img;
	ref_canonical(&ref, rec.ref, sizeof(rec.ref));
	if (store_ref_set(&ctx->store, &rec, err) < 0)
		return err_wrap(err, "tag '%s'", argv[optind + 1]);
	return 0;
}

const struct command cmd_tag = {
    .name = "tag",
    .summary = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    .usage = tag_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_tag,
};

/*
 * skiff rmi: untag and remove images, then free the layers no image uses.
 * As docker: a name removes that tag; an image id removes the image when only
 * one name refers to it (or with -f, all of them); an image a container uses
 * is kept unless -f.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "image/ref.h"
#include "runtime/container.h"
#include "util/cleanup.h"

static const char rmi_usage[] = "Usage: skiff rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
				"Remove one or more images\n\n"
				"Options:\n"
				"  -f, --force      remove the image even if a container uses it or\n"
				"                   several names refer to it\n"
				"      --no-prune   accepted for docker compatibility\n";

struct user_search {
	const char *config_digest;
	char *out;
	size_t len;
};

static int note_user(const char *id, const char *config_digest, void *ctx)
{
	struct user_search *u = ctx;

	if (strcmp(config_digest, u->config_digest))
		return 0;
	snprintf(u->out, u->len, "%.12s", id);
	return 1;
}

/* The id of a container using this image (12 hex), or "" if none. */
static void container_using(struct store *s, const char *config_digest, char *out, size_t len)
{
	struct user_search u = { config_digest, out, len };

	out[0] = '\0';
	store_for_each_container_image(s, note_user, &u);
}

static size_t count_refs(const struct store_image *list, size_t n, const char *config)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += !strcmp(list[i].config_digest, config);
	return c;
}

static bool named_by_ref(const char *name, const struct store_image *img)
{
	struct image_ref ref;
	struct sk_err ignored;
	char canonical[REF_STR_MAX];

	if (ref_parse(name, &ref, &ignored) < 0)
		return false;
	ref_canonical(&ref, canonical, sizeof(canonical));
	return !strcmp(canonical, img->ref);
}

static void print_untagged(const char *canonical)
{
	struct image_ref ref;
	struct sk_err ignored;
	char name[REF_STR_MAX];

	if (!canonical[0] || ref_parse(canonical, &ref, &ignored) < 0)
		return;
	ref_familiar_name(&ref, name, sizeof(name));
	if (ref.digest[0] && !ref.tag[0])
		printf("Untagged: %s@%s\n", name, ref.digest);
	else
		printf("Untagged: %s:%s\n", name, ref.tag);
}

static int remove_image(struct store *s, const char *name, bool force, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	struct store_image img;
	char user[16];
	size_t n = 0;
	bool by_ref;

	if (store_image_lookup(s, name, &img, err) < 0 || store_refs_list(s, &list, &n, err) < 0)
		return -1;
	by_ref = named_by_ref(name, &img);
	container_using(s, img.config_digest, user, sizeof(user));
	if (user[0] && !force)
		return err_set(err, 0,
			       "conflict: unable to remove image '%s' (must force) - container %s "
			       "is using it",
			       name, user);
	if (!by_ref && count_refs(list, n, img.config_digest) > 1 && !force)
		return err_set(err, 0,
			       "conflict: unable to delete %.12s (must be forced) - image is "
			       "referenced in multiple repositories",
			       digest_hex(img.config_digest));
	for (size_t i = 0; i < n; i++) {
		bool hit = by_ref ? !strcmp(list[i].ref, img.ref)
				  : !strcmp(list[i].config_digest, img.config_digest);
		if (!hit)
			continue;
		if (store_record_remove(s, &list[i], err) < 0)
			return -1;
		print_untagged(list[i].ref);
	}
	if (!by_ref || count_refs(list, n, img.config_digest) == 1)
		printf("Deleted: %s\n", img.config_digest);
	return 0;
}

static int exec_rmi(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "no-prune", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false;
	int c, failed = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return fputs(rmi_usage, stdout), 0;
		else if (c != 'P')
			return cli_usage_error(err, "rmi", "unknown flag '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "rmi", "\"skiff rmi\" requires at least 1 argument");
	/* Containers whose skiff died no longer pin their image. */
	container_gc(&ctx->store);
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };
		if (remove_image(&ctx->store, argv[i], force, &one) < 0) {
			/* Like docker: report each failure and go on with the others. */
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed++;
		}
	}
	if (store_gc(&ctx->store, NULL, err) < 0)
		return err_wrap(err, "freeing unused layers");
	return failed ? 1 : 0;
}

const struct command cmd_rmi = {
	.name = "rmi",
	.summary = "Remove one or more images",
	.usage = rmi_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_rmi,
};

/*
 * skiff rmi: untag and remove images, then free the layers no image uses.
 * As docker: a name removes that tag; an image id removes the image when only
 * one name refers to it (or with -f, all of them). An image a container (in
 * any state) uses is refused unless -f; with -f its last name goes, but an
 * image a running container uses stays as an untagged (dangling) image, and
 * by id it cannot be forced at all. A removed image's layers stay on disk as
 * long as a container records the image (store_gc keeps them).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/events.h"
#include "image/ref.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "util/cleanup.h"

static const char rmi_usage[] = "Usage: skiff rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
				"Remove one or more images\n\n"
				"Options:\n"
				"  -f, --force      remove the image even if a container uses it or\n"
				"                   several names refer to it\n"
				"      --no-prune   accepted for docker compatibility\n";

/* Who uses an image: the first container (any state) and the first running one. */
struct image_users {
	struct store *s;
	const char *config_digest;
	char any[CTR_SHORT_ID_LEN + 1];
	char running[CTR_SHORT_ID_LEN + 1];
};

static bool container_is_running(struct store *s, const char *id)
{
	struct ctr_state st;
	struct sk_err ignored = { 0 };
	int fd = ctr_open_dir(s, id, &ignored);
	bool running;

	if (fd < 0)
		return false;
	running = ctr_state_load(fd, &st, &ignored) == 0 &&
		  (st.status == CTR_RUNNING || st.status == CTR_RESTARTING);
	close(fd);
	return running;
}

static int note_user(const char *id, const char *config_digest, void *ctx)
{
	struct image_users *u = ctx;

	if (strcmp(config_digest, u->config_digest))
		return 0;
	if (!u->any[0])
		snprintf(u->any, sizeof(u->any), "%.12s", id);
	if (!u->running[0] && container_is_running(u->s, id))
		snprintf(u->running, sizeof(u->running), "%.12s", id);
	return 0;
}

static void find_users(struct store *s, const char *config_digest, struct image_users *u)
{
	*u = (struct image_users){ .s = s, .config_digest = config_digest };
	store_for_each_container_image(s, note_user, u);
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

static int conflict(struct sk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* docker's conflicts are plain failures of the command (exit 1), not skiff's. */
static int conflict(struct sk_err *err, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(err, 0, "conflict: %s", msg);
	err->exit_code = 1;
	return -1;
}

/* By name: untag. When that was the image's last name, the image goes too,
 * unless a running container uses it: docker then keeps it, dangling. */
static int remove_by_ref(struct store *s, const char *name, const struct store_image *img,
			 size_t refs, bool force, struct sk_err *err)
{
	struct image_users u;
	struct store_image dangling = *img;

	find_users(s, img->config_digest, &u);
	if (refs == 1 && u.any[0] && !force)
		return conflict(err,
				"unable to remove repository reference \"%s\" (must force) - "
				"container %s is using its referenced image %.12s",
				name, u.any, digest_hex(img->config_digest));
	if (store_record_remove(s, img, err) < 0)
		return -1;
	cli_print_untagged("Untagged", img->ref);
	events_image(s->root_fd, "untag", img->config_digest, img->config_digest);
	if (refs > 1)
		return 0;
	if (u.running[0]) {
		dangling.ref[0] = '\0';
		return store_ref_set(s, &dangling, err);
	}
	printf("Deleted: %s\n", img->config_digest);
	events_image(s->root_fd, "delete", img->config_digest, img->config_digest);
	return 0;
}

/* By id: every name of the image goes, then the image. */
static int remove_by_id(struct store *s, const struct store_image *img,
			const struct store_image *list, size_t n, bool force, struct sk_err *err)
{
	const char *short_id = digest_hex(img->config_digest);
	struct image_users u;

	find_users(s, img->config_digest, &u);
	if (count_refs(list, n, img->config_digest) > 1 && !force)
		return conflict(err,
				"unable to delete %.12s (must be forced) - image is referenced in "
				"multiple repositories",
				short_id);
	if (u.running[0])
		return conflict(err,
				"unable to delete %.12s (cannot be forced) - image is being used by "
				"running container %s",
				short_id, u.running);
	if (u.any[0] && !force)
		return conflict(err,
				"unable to delete %.12s (must be forced) - image is being used by "
				"stopped container %s",
				short_id, u.any);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].config_digest, img->config_digest))
			continue;
		if (store_record_remove(s, &list[i], err) < 0)
			return -1;
		cli_print_untagged("Untagged", list[i].ref);
		if (list[i].ref[0])
			events_image(s->root_fd, "untag", img->config_digest, img->config_digest);
	}
	printf("Deleted: %s\n", img->config_digest);
	events_image(s->root_fd, "delete", img->config_digest, img->config_digest);
	return 0;
}

/* docker names a missing image as a reference it would store
 * ("busybox:latest"), and anything else as typed (an id). */
static int no_such_image(const char *name, struct sk_err *err)
{
	struct image_ref ref;
	struct sk_err ignored;
	char familiar[REF_STR_MAX];

	if (ref_parse(name, &ref, &ignored) < 0 || ref.digest[0])
		return err_set(err, 0, "No such image: %s", name);
	ref_familiar_name(&ref, familiar, sizeof(familiar));
	return err_set(err, 0, "No such image: %s:%s", familiar, ref.tag);
}

/* Returns 0, -1 with err, or 1 when there is no such image (err says so). */
static int remove_image(struct store *s, const char *name, bool force, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	struct store_image img;
	size_t n = 0;

	if (store_image_lookup(s, name, &img, err) < 0) {
		if (err->errnum != ENOENT)
			return -1;
		no_such_image(name, err);
		return 1;
	}
	if (store_refs_list(s, &list, &n, err) < 0)
		return -1;
	if (named_by_ref(name, &img))
		return remove_by_ref(s, name, &img, count_refs(list, n, img.config_digest), force,
				     err);
	return remove_by_id(s, &img, list, n, force, err);
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
	while ((c = cli_getopt(argc, argv, "+fh", opts)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return fputs(rmi_usage, stdout), 0;
		else if (c != 'P')
			return cli_usage_error(err, "rmi", "unknown flag '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_args_error(err, "rmi", "\"skiff rmi\" requires at least 1 argument");
	/* Dead --rm containers and abandoned set-ups no longer pin their image. */
	container_gc(&ctx->store);
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };
		int r = remove_image(&ctx->store, argv[i], force, &one);

		/* Like docker: report each failure and go on with the others; with
		 * -f an image that is not there is said, but not a failure. */
		if (r != 0)
			fprintf(stderr, "skiff: %s\n", one.msg);
		if (r < 0 || (r > 0 && !force))
			failed++;
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

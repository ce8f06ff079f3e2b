/*
 * skiff system df: disk usage by images and containers, as `docker system
 * df`. Image sizes are the uncompressed sizes of their layers (as `skiff
 * images`), a layer shared by several images counted once; containers are
 * the sizes of their writable layers (upper/). Reclaimable: what removing the
 * images no container uses, the containers not running, and the volumes no
 * container uses would free.
 * -v lists every image (with the size it shares with other images and its
 * own) and every container, as docker's verbose tables.
 *
 * skiff system prune: docker's; the container, network and image prunes of
 * their own commands, in docker's order, with one total.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "image/ref.h"
#include "runtime/state.h"
#include "runtime/volume.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/fs.h"
#include "util/gotemplate.h"
#include "util/human.h"
#include "util/tabwriter.h"

static const char system_usage[] = "Usage:  skiff system COMMAND\n\n"
				   "Manage skiff\n\n"
				   "Commands:\n"
				   "  df          show disk usage\n"
				   "  events      get real time events from the store\n"
				   "  info        display system-wide information\n"
				   "  prune       remove unused data\n"
				   "  restore     start the containers whose restart policy says they\n"
				   "              should run (after a reboot: skiff-restart.service)\n";

static const char df_usage[] = "Usage:  skiff system df [OPTIONS]\n\n"
			       "Show skiff disk usage\n\n"
			       "Options:\n"
			       "      --format string   'table' (default), 'json' or a Go template\n"
			       "  -v, --verbose         show detailed information on space usage\n";

static const char prune_usage[] =
	"Usage:  skiff system prune [OPTIONS]\n\n"
	"Remove unused data\n\n"
	"Options:\n"
	"  -a, --all             remove all unused images not just dangling ones\n"
	"      --filter filter   provide filter values (until=TIMESTAMP)\n"
	"  -f, --force           do not prompt for confirmation\n"
	"      --volumes         prune anonymous volumes\n";

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

/* --- df -v ------------------------------------------------------------------ */

/* One distinct image: its layers and how many containers use it. */
struct df_image {
	char digest[DIGEST_STR_MAX];
	char created[64];
	int64_t created_ns;
	struct strset layers;
	int64_t size, shared;
	int containers;
};

struct df_images {
	struct df_image *v;
	size_t n;
	struct strset all_layers; /* every layer once */
	int *layer_users;	  /* per all_layers item: images using it */
};

static struct df_image *df_image_of(struct df_images *d, const char *digest)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].digest, digest))
			return &d->v[i];
	return NULL;
}

static int df_add_image(struct store *s, struct df_images *d, const char *digest)
{
	struct store_image img = { 0 };
	struct image_config cfg = { 0 };
	struct sk_err ignored = { 0 };
	struct df_image *im;
	time_t created;
	void *grown;

	if (df_image_of(d, digest))
		return 0;
	grown = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	if (!grown)
		return -1;
	d->v = grown;
	im = memset(&d->v[d->n++], 0, sizeof(*im));
	snprintf(im->digest, sizeof(im->digest), "%s", digest);
	snprintf(img.config_digest, sizeof(img.config_digest), "%s", digest);
	if (store_image_config(s, &img, &cfg, &ignored) < 0)
		return 0;
	snprintf(im->created, sizeof(im->created), "%s", cfg.created);
	if (human_parse_rfc3339(cfg.created, &created) == 0)
		im->created_ns = (int64_t)created * 1000000000;
	for (size_t i = 0; i < cfg.n_diff_ids; i++)
		if (strset_add(&im->layers, cfg.diff_ids[i]) < 0 ||
		    strset_add(&d->all_layers, cfg.diff_ids[i]) < 0) {
			image_config_release(&cfg);
			return -1;
		}
	image_config_release(&cfg);
	return 0;
}

static int count_user(const char *id, const char *config_digest, void *ctx)
{
	struct df_image *im = df_image_of(ctx, config_digest);

	if (im)
		im->containers++;
	return 0;
}

/* Sizes: a layer two images use is "shared" for both. */
static int df_sizes(struct store *s, struct df_images *d)
{
	d->layer_users = calloc(d->all_layers.n + 1, sizeof(int));
	if (!d->layer_users)
		return -1;
	for (size_t i = 0; i < d->n; i++)
		for (size_t l = 0; l < d->v[i].layers.n; l++)
			for (size_t k = 0; k < d->all_layers.n; k++)
				if (!strcmp(d->all_layers.items[k], d->v[i].layers.items[l]))
					d->layer_users[k]++;
	for (size_t i = 0; i < d->n; i++)
		for (size_t l = 0; l < d->v[i].layers.n; l++) {
			int64_t size = store_layer_size(s, d->v[i].layers.items[l]);

			size = size > 0 ? size : 0;
			d->v[i].size += size;
			for (size_t k = 0; k < d->all_layers.n; k++)
				if (!strcmp(d->all_layers.items[k], d->v[i].layers.items[l]) &&
				    d->layer_users[k] > 1)
					d->v[i].shared += size;
		}
	return 0;
}

static void df_images_release(struct df_images *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].layers.items);
	free(d->v);
	free(d->all_layers.items);
	free(d->layer_users);
}

struct df_ref_row {
	const struct store_image *img;
	const struct df_image *im;
};

static int newer_image_first(const void *a, const void *b)
{
	const struct df_ref_row *x = a, *y = b;

	return x->im->created_ns < y->im->created_ns ? 1 : x->im->created_ns > y->im->created_ns ? -1 : 0;
}

static int df_print_images(struct store *s, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	cleanup_free struct df_ref_row *rows = NULL;
	struct df_images d = { 0 };
	struct tabwriter t;
	size_t n = 0, nrows = 0;
	int64_t now = ctr_now_ns();
	int ret = 0;

	if (store_refs_list(s, &list, &n, err) < 0)
		return -1;
	rows = calloc(n + 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n && ret == 0; i++)
		ret = df_add_image(s, &d, list[i].config_digest);
	if (!rows || ret < 0 || store_for_each_container_image(s, count_user, &d) < 0 ||
	    df_sizes(s, &d) < 0) {
		df_images_release(&d);
		return err_set(err, ENOMEM, "cannot compute image disk usage");
	}
	for (size_t i = 0; i < n; i++)
		rows[nrows++] = (struct df_ref_row){ &list[i], df_image_of(&d, list[i].config_digest) };
	qsort(rows, nrows, sizeof(*rows), newer_image_first);
	tabwriter_init(&t, 8);
	tabwriter_add(&t, (const char *const[]){ "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE",
						 "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS" },
		      err);
	for (size_t i = 0; i < nrows; i++) {
		const struct df_image *im = rows[i].im;
		char repo[REF_STR_MAX] = "<none>", tag[REF_TAG_MAX] = "<none>", id[16];
		char created[64] = "N/A", size[32], shared[32], unique[32], users[16];
		struct image_ref ref;
		struct sk_err ignored;

		if (rows[i].img->ref[0] && ref_parse(rows[i].img->ref, &ref, &ignored) == 0) {
			ref_familiar_name(&ref, repo, sizeof(repo));
			if (ref.tag[0])
				snprintf(tag, sizeof(tag), "%s", ref.tag);
		}
		snprintf(id, sizeof(id), "%.12s", digest_hex(im->digest));
		if (im->created_ns)
			duration_ago(im->created_ns, now, created, sizeof(created));
		human_size((double)im->size, size, sizeof(size));
		human_size4((double)im->shared, shared, sizeof(shared));
		human_size4((double)(im->size - im->shared), unique, sizeof(unique));
		snprintf(users, sizeof(users), "%d", im->containers);
		tabwriter_add(&t, (const char *const[]){ repo, tag, id, created, size, shared, unique,
							 users },
			      err);
	}
	printf("Images space usage:\n\n");
	tabwriter_print(&t, stdout);
	tabwriter_release(&t);
	df_images_release(&d);
	return 0;
}

struct df_container {
	char id[CTR_ID_LEN + 1];
	int64_t created;
	char image[REF_STR_MAX], command[64], size[32], status[128], name[CTR_NAME_MAX];
};

struct df_containers {
	struct df_container *v;
	size_t n;
};

/* docker's COMMAND column: the command line, cut to 20 characters, quoted. */
static void command_cell(const struct strv *args, char *out, size_t len)
{
	char line[1024] = "", cut[128];
	size_t n = 0;

	for (size_t i = 0; i < args->n && n < sizeof(line); i++) {
		bool quote = i > 0 && strchr(args->v[i], ' ');

		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s%s%s", i ? " " : "",
				      quote ? "'" : "", args->v[i], quote ? "'" : "");
	}
	tab_ellipsis(line, 20, cut, sizeof(cut));
	tab_go_quote(cut, out, len);
}

static int df_add_container(struct store *s, const char *id, int dirfd, void *arg)
{
	struct df_containers *d = arg;
	struct sk_err ignored = { 0 };
	struct ctr_config cfg;
	struct ctr_state st;
	struct df_container *c;
	void *grown;

	if (ctr_config_read(dirfd, &cfg, &ignored) < 0)
		return 0;
	if (ctr_state_load(dirfd, &st, &ignored) < 0)
		memset(&st, 0, sizeof(st));
	grown = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	if (!grown) {
		ctr_config_release(&cfg);
		return -1;
	}
	d->v = grown;
	c = &d->v[d->n++];
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->created = cfg.created;
	snprintf(c->image, sizeof(c->image), "%s", cfg.image ? cfg.image : "");
	command_cell(&cfg.args, c->command, sizeof(c->command));
	human_size((double)fs_disk_usage(dirfd, "upper"), c->size, sizeof(c->size));
	duration_status(&st, ctr_now_ns(), c->status, sizeof(c->status));
	snprintf(c->name, sizeof(c->name), "%s", cfg.name);
	ctr_config_release(&cfg);
	return 0;
}

static int newer_container_first(const void *a, const void *b)
{
	const struct df_container *x = a, *y = b;

	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

/* The store's volumes and the containers that use each (docker's LINKS). */
struct df_volumes {
	struct volume_info *v;
	size_t n;
	struct strv *users;
};

static void df_volumes_release(struct df_volumes *d)
{
	for (size_t i = 0; d->users && i < d->n; i++)
		strv_release(&d->users[i]);
	free(d->users);
	volume_list_free(d->v, d->n);
}

static int df_volumes_load(struct store *s, struct df_volumes *d, struct sk_err *err)
{
	memset(d, 0, sizeof(*d));
	if (volume_list(s, &d->v, &d->n, err) < 0)
		return -1;
	d->users = calloc(d->n + 1, sizeof(*d->users));
	if (!d->users)
		return err_set(err, ENOMEM, "cannot list the volumes");
	for (size_t i = 0; i < d->n; i++)
		if (volume_users(s, d->v[i].name, &d->users[i], err) < 0)
			return -1;
	return 0;
}

/* How many volumes the container uses. */
static size_t df_volume_count(const struct df_volumes *d, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		for (size_t j = 0; j < d->users[i].n; j++)
			n += !strcmp(d->users[i].v[j], id);
	return n;
}

static void df_print_volumes(const struct df_volumes *d, struct sk_err *err)
{
	struct tabwriter t;

	tabwriter_init(&t, 3);
	tabwriter_add(&t, (const char *const[]){ "VOLUME NAME", "LINKS", "SIZE" }, err);
	for (size_t i = 0; i < d->n; i++) {
		char links[16], size[32];

		snprintf(links, sizeof(links), "%zu", d->users[i].n);
		human_size4((double)fs_disk_usage(AT_FDCWD, d->v[i].mountpoint), size, sizeof(size));
		tabwriter_add(&t, (const char *const[]){ d->v[i].name, links, size }, err);
	}
	printf("\nLocal Volumes space usage:\n\n");
	tabwriter_print(&t, stdout);
	tabwriter_release(&t);
}

static int df_print_containers(struct store *s, const struct df_volumes *vols,
			       struct sk_err *err)
{
	struct df_containers d = { 0 };
	struct tabwriter t;
	int64_t now = ctr_now_ns();

	if (ctr_for_each(s, df_add_container, &d, err) < 0) {
		free(d.v);
		return err_set(err, ENOMEM, "cannot compute container disk usage");
	}
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), newer_container_first);
	tabwriter_init(&t, 8);
	tabwriter_add(&t, (const char *const[]){ "CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES",
						 "SIZE", "CREATED", "STATUS", "NAMES" },
		      err);
	for (size_t i = 0; i < d.n; i++) {
		char id[16], created[64], volumes[16];

		snprintf(id, sizeof(id), "%.12s", d.v[i].id);
		snprintf(volumes, sizeof(volumes), "%zu", df_volume_count(vols, d.v[i].id));
		duration_ago(d.v[i].created, now, created, sizeof(created));
		tabwriter_add(&t, (const char *const[]){ id, d.v[i].image, d.v[i].command, volumes,
							 d.v[i].size, created, d.v[i].status,
							 d.v[i].name },
			      err);
	}
	printf("\nContainers space usage:\n\n");
	tabwriter_print(&t, stdout);
	tabwriter_release(&t);
	free(d.v);
	return 0;
}

/* docker's verbose tables; skiff has no builder yet: its section is
 * docker's empty one. */
static int df_verbose(struct store *s, struct sk_err *err)
{
	struct df_volumes vols;
	int ret = df_volumes_load(s, &vols, err);

	if (ret == 0)
		ret = df_print_images(s, err);
	if (ret == 0)
		ret = df_print_containers(s, &vols, err);
	if (ret == 0) {
		df_print_volumes(&vols, err);
		printf("\nBuild cache usage: 0B\n\n"
		       "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n");
	}
	df_volumes_release(&vols);
	return ret;
}

/* --- prune ------------------------------------------------------------------- */

struct prune_opts {
	bool all, force, volumes;
	int64_t until; /* ns; 0: none */
	char filters[8][128];
	size_t n_filters;
};

/* until=T keeps what was made at or after T; label filters need labels,
 * which skiff's containers do not have yet: refused rather than ignored. */
static int prune_filter(struct prune_opts *o, const char *f, struct sk_err *err)
{
	const char *eq = strchr(f, '=');
	size_t klen = eq ? (size_t)(eq - f) : strlen(f);

	if (!eq)
		return cli_usage_error(err, "system prune", "bad format of filter (expected "
							    "name=value)");
	if (klen == 5 && !strncmp(f, "until", 5)) {
		if (duration_parse_timestamp(eq + 1, ctr_now_ns(), &o->until) < 0) {
			err_set(err, 0, "failed to parse value as time or duration: \"%s\"", eq + 1);
			err->exit_code = 1;
			return -1;
		}
	} else if ((klen == 5 && !strncmp(f, "label", 5)) ||
		   (klen == 6 && !strncmp(f, "label!", 6))) {
		return err_set(err, 0, "system prune: label filters are not supported yet");
	} else {
		err_set(err, 0, "Invalid filter '%.*s'", (int)klen, f);
		err->exit_code = 1;
		return -1;
	}
	if (o->n_filters < ARRAY_SIZE(o->filters))
		snprintf(o->filters[o->n_filters++], sizeof(o->filters[0]), "%s", f);
	return 0;
}

/* docker's warning: what will go, then the filters. */
static bool prune_confirmed(const struct prune_opts *o)
{
	char warning[2048];
	size_t n = 0;

	n += (size_t)snprintf(warning + n, sizeof(warning) - n,
			      "WARNING! This will remove:\n"
			      "  - all stopped containers\n"
			      "  - all networks not used by at least one container\n");
	if (o->volumes)
		n += (size_t)snprintf(warning + n, sizeof(warning) - n,
				      "  - all anonymous volumes not used by at least one "
				      "container\n");
	n += (size_t)snprintf(warning + n, sizeof(warning) - n, "%s",
			      o->all ? "  - all images without at least one container "
				       "associated to them\n  - all build cache\n"
				     : "  - all dangling images\n  - unused build cache\n");
	if (o->n_filters) {
		n += (size_t)snprintf(warning + n, sizeof(warning) - n,
				      "\n  Items to be pruned will be filtered with:\n");
		for (size_t i = 0; i < o->n_filters && n < sizeof(warning); i++)
			n += (size_t)snprintf(warning + n, sizeof(warning) - n, "  - %s\n",
					      o->filters[i]);
	}
	return cli_confirm(warning);
}

struct pruned_volumes {
	size_t n;
	uint64_t bytes;
};

static void pruned_volume(const char *name, long long size, void *arg)
{
	struct pruned_volumes *p = arg;

	if (p->n++ == 0)
		printf("Deleted Volumes:\n");
	printf("%s\n", name);
	p->bytes += size > 0 ? (uint64_t)size : 0;
}

static int system_prune(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	enum { OPT_VOLUMES = 256, OPT_FILTER };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	       { "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, OPT_VOLUMES }, { "filter", required_argument, NULL, OPT_FILTER },
		{ "help", no_argument, NULL, 'h' },	       { 0 },
	};
	struct prune_opts o = { 0 };
	struct pruned_volumes vols = { 0 };
	uint64_t containers_freed = 0, images_freed = 0;
	size_t deleted = 0;
	char total[32];
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:afh", opts)) != -1) {
		if (c == 'a')
			o.all = true;
		else if (c == 'f')
			o.force = true;
		else if (c == OPT_VOLUMES)
			o.volumes = true;
		else if (c == OPT_FILTER) {
			if (prune_filter(&o, optarg, err) < 0)
				return -1;
		} else if (c == 'h')
			return fputs(prune_usage, stdout), 0;
		else if (c == ':')
			return cli_usage_error(err, "system prune", "flag needs an argument: %s",
					       argv[optind - 1]);
		else
			return cli_usage_error(err, "system prune", "unknown flag: %s",
					       argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "system prune", "\"skiff system prune\" accepts no "
							    "arguments");
	if (!o.force && !prune_confirmed(&o))
		return 0;
	/* docker's order; each section is followed by an empty line */
	if (cli_prune_containers(&ctx->store, o.until, &containers_freed, &deleted, err) < 0)
		return -1;
	if (deleted)
		putchar('\n');
	if (cli_prune_networks(&ctx->store, o.until, &deleted, err) < 0)
		return -1;
	if (deleted)
		putchar('\n');
	/* docker: the anonymous volumes no container uses */
	if (o.volumes &&
	    volume_prune(&ctx->store, &(struct volume_prune_filter){ 0 }, pruned_volume, &vols, err) < 0)
		return -1;
	if (vols.n)
		putchar('\n');
	if (cli_prune_images(&ctx->store, o.all, o.until, &images_freed, &deleted, err) < 0)
		return -1;
	if (deleted)
		putchar('\n');
	human_size4((double)(containers_freed + images_freed + vols.bytes), total, sizeof(total));
	printf("Total reclaimed space: %s\n", total);
	return 0;
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
	bool verbose = false;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+vh", opts)) != -1) {
		if (c == 'F')
			format = strcmp(optarg, "table") ? optarg : NULL;
		else if (c == 'h')
			return fputs(df_usage, stdout), 0;
		else if (c == 'v')
			verbose = true;
		else
			return cli_usage_error(err, "system df", "unknown flag: %s", argv[optind - 1]);
	}
	if (verbose && format)
		return cli_usage_error(err, "system df", "--format is not supported with --verbose");
	if (verbose)
		return df_verbose(&ctx->store, err) < 0 ? -1 : 0;
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
	if (!strcmp(sub, "prune"))
		return system_prune(ctx, argc - 1, argv + 1, err);
	if (!strcmp(sub, "events") || !strcmp(sub, "info")) {
		const struct command *cmd = !strcmp(sub, "events") ? &cmd_events : &cmd_info;

		optind = 0;
		return cmd->exec(ctx, argc - 1, argv + 1, err);
	}
	if (!strcmp(sub, "restore"))
		return cmd_system_restore.exec(ctx, argc - 1, argv + 1, err);
	return cli_usage_error(err, "system", "unknown command \"%s\" for \"skiff system\"", sub);
}

const struct command cmd_system = {
	.name = "system",
	.summary = "Manage skiff (df, prune, events, info, restore)",
	.usage = system_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_system,
};

/*
 * skiff ps: list containers as `docker ps` does. Each container's record is
 * read with ctr_state_load(), so one whose monitor died shows as exited (255)
 * instead of running. Rows are sorted newest first; every output form (table,
 * -q, json lines, Go templates) comes from one JSON object per container with
 * docker's keys.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/ref.h"
#include "image/store.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/gotemplate.h"
#include "util/tabwriter.h"

static const char ps_usage[] =
	"Usage:  skiff ps [OPTIONS]\n\n"
	"List containers\n\n"
	"Options:\n"
	"  -a, --all             show all containers (default shows just running)\n"
	"  -f, --filter filter   filter output: status=, name= (a regular expression),\n"
	"                        id= (prefix), label=KEY[=VALUE], ancestor=IMAGE,\n"
	"                        exited=CODE, before=CONTAINER, since=CONTAINER\n"
	"      --format string   'table' (default), 'json' (one object per line), a Go\n"
	"                        template such as '{{.ID}} {{.Names}}', or 'table' and a\n"
	"                        template for aligned columns: 'table {{.ID}}\\t{{.Names}}'\n"
	"  -n, --last int        show n last created containers (includes all states)\n"
	"  -l, --latest          show the latest created container (includes all states)\n"
	"      --no-trunc        do not truncate output\n"
	"  -q, --quiet           only display container IDs\n";

#define PS_COMMAND_WIDTH 20
#define PS_MAX_FILTERS 16

enum ps_filter_key { F_ID, F_NAME, F_LABEL, F_EXITED, F_STATUS, F_ANCESTOR, F_BEFORE, F_SINCE };

static const char *const filter_keys[] = {
	[F_ID] = "id",	       [F_NAME] = "name",	  [F_LABEL] = "label",
	[F_EXITED] = "exited", [F_STATUS] = "status",	  [F_ANCESTOR] = "ancestor",
	[F_BEFORE] = "before", [F_SINCE] = "since",
};

/* One -f key=value, checked when parsed; names and images are looked up once
 * the store is open. */
struct ps_filter {
	enum ps_filter_key key;
	const char *value;
	bool regex_ok; /* name: re compiled (docker: a bad expression matches nothing) */
	regex_t re;
	int exit_code;			     /* exited */
	int64_t created;		     /* before, since: that container's creation */
	char image_id[DIGEST_STR_MAX];	     /* ancestor: "" when no such image */
};

struct ps_opts {
	bool all, quiet, no_trunc;
	const char *format; /* NULL: the default table */
	long last;	    /* -1: not given */
	struct ps_filter filters[PS_MAX_FILTERS];
	size_t n_filters;
};

/* One container as ps sees it. */
struct ps_row {
	struct ctr_config cfg;
	struct ctr_state st;
	json_t *obj; /* docker's keys, for --format */
	json_t *labels; /* the container's recorded labels (run -l and the image's) */
};

/* Image labels by image id: containers of one image read its config once. */
struct label_cache {
	char image_id[DIGEST_STR_MAX];
	json_t *labels; /* object, never NULL */
};

/* What an image name means now, looked up once per name (the refs file is
 * read once, not once per container). */
struct name_cache {
	char *name;
	char config_digest[DIGEST_STR_MAX]; /* "" when no image has that name */
};

struct ps_list {
	struct ps_row *rows;
	size_t n;
	struct label_cache *labels;
	size_t n_labels;
	struct name_cache *names;
	size_t n_names;
};

/* docker's Command: path and arguments, those with spaces in single quotes. */
static void command_text(const struct strv *args, struct buf *out)
{
	for (size_t i = 0; i < args->n; i++) {
		const char *a = args->v[i];
		bool quote = i > 0 && strchr(a, ' ');
		buf_appendf(out, "%s%s%s%s", i ? " " : "", quote ? "'" : "", a, quote ? "'" : "");
	}
}

/* The image id that name means now ("" when none), from the cache. */
static const char *image_of_name(struct store *s, struct ps_list *l, const char *name)
{
	struct store_image img;
	struct sk_err ignored;
	struct name_cache *grown, *c;

	for (size_t i = 0; i < l->n_names; i++)
		if (!strcmp(l->names[i].name, name))
			return l->names[i].config_digest;
	grown = realloc(l->names, (l->n_names + 1) * sizeof(*grown));
	if (!grown)
		return "";
	l->names = grown;
	c = &l->names[l->n_names];
	if (!(c->name = strdup(name)))
		return "";
	l->n_names++;
	c->config_digest[0] = '\0';
	if (store_image_lookup(s, name, &img, &ignored) == 0)
		snprintf(c->config_digest, sizeof(c->config_digest), "%s", img.config_digest);
	return c->config_digest;
}

/* As docker: the image as the user named it while that name still means the
 * same image, else the image id. */
static void image_text(struct store *s, struct ps_list *l, const struct ctr_config *c, bool trunc,
		       char *out, size_t len)
{
	const char *id = c->image_id ? c->image_id : "";

	if (c->image && !strcmp(image_of_name(s, l, c->image), id)) {
		snprintf(out, len, "%s", c->image);
		return;
	}
	if (trunc)
		snprintf(out, len, "%.12s", digest_hex(id));
	else
		snprintf(out, len, "%s", id);
}

/* docker's PORTS of a running container ("" otherwise). */
static void ports_text(struct store *s, const struct ps_row *r, char *out, size_t len)
{
	struct sk_err err = { 0 };
	cleanup_close int dirfd = -1;
	cleanup_free struct ctr_net *n = NULL;

	out[0] = '\0';
	if (r->st.status != CTR_RUNNING || !(n = calloc(1, sizeof(*n))))
		return;
	dirfd = ctr_open_dir(s, r->cfg.id, &err);
	if (dirfd >= 0 && ctr_net_read(dirfd, n, &err) > 0)
		ports_format(n->ports, n->n_ports, out, len);
}

/* run -l K=V merged with the image's, as recorded (state.h: ctr_docker). */
static json_t *recorded_labels(struct ps_row *r)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < r->cfg.docker.labels.n; i++) {
		const char *kv = r->cfg.docker.labels.v[i], *eq = strchr(kv, '=');

		json_object_setn_new(o, kv, eq ? (size_t)(eq - kv) : strlen(kv),
				     json_string(eq ? eq + 1 : ""));
	}
	r->labels = o;
	return o;
}

/* The container's labels: as recorded, or for a record older than that, its
 * image's (docker's containers inherit those). */
static json_t *row_labels(struct store *s, struct ps_list *l, struct ps_row *r, bool exact)
{
	const char *id = r->cfg.image_id ? r->cfg.image_id : "";
	struct label_cache *grown, *c;
	cleanup_buf struct buf blob = BUF_INIT(16u << 20);
	struct sk_err ignored = { 0 };
	json_t *cfg, *labels;

	if (r->cfg.has_docker)
		return recorded_labels(r);
	/* A row read from state.json's summary has no labels: the record has
	 * them, read only when labels are asked for (a filter or a template
	 * that may show them): ps -a reads one file per container otherwise. */
	if (exact && !r->labels) {
		struct ctr_config full = { 0 };
		cleanup_close int dirfd = ctr_open_dir(s, r->cfg.id, &ignored);

		if (dirfd >= 0 && ctr_config_read(dirfd, &full, &ignored) == 0 && full.has_docker) {
			json_t *o = json_object();

			for (size_t i = 0; o && i < full.docker.labels.n; i++) {
				const char *kv = full.docker.labels.v[i], *eq = strchr(kv, '=');

				json_object_setn_new(o, kv, eq ? (size_t)(eq - kv) : strlen(kv),
						     json_string(eq ? eq + 1 : ""));
			}
			ctr_config_release(&full);
			r->labels = o;
			return o;
		}
		ctr_config_release(&full);
		err_clear(&ignored);
	}
	for (size_t i = 0; i < l->n_labels; i++)
		if (!strcmp(l->labels[i].image_id, id))
			return l->labels[i].labels;
	grown = realloc(l->labels, (l->n_labels + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	l->labels = grown;
	c = &l->labels[l->n_labels];
	snprintf(c->image_id, sizeof(c->image_id), "%s", id);
	cfg = id[0] && store_blob_get(s, id, blob.max, &blob, &ignored) == 0
		      ? json_loadb(blob.data ? blob.data : "", blob.len, 0, NULL)
		      : NULL;
	labels = json_object_get(json_object_get(cfg, "config"), "Labels");
	c->labels = json_is_object(labels) ? json_incref(labels) : json_object();
	if (cfg)
		json_decref(cfg);
	if (!c->labels)
		return NULL;
	l->n_labels++;
	return c->labels;
}

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* docker's Labels column: k=v,k=v (in key order; docker's is random). */
static void labels_text(json_t *labels, struct buf *out)
{
	const char **keys = calloc(json_object_size(labels) + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!keys)
		return;
	json_object_foreach (labels, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_strings);
	for (size_t i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(labels, keys[i]));
		buf_appendf(out, "%s%s=%s", i ? "," : "", keys[i], val ? val : "");
	}
	free(keys);
}

static json_t *row_json(struct store *s, struct ps_list *l, const struct ps_row *r,
			json_t *labels, bool trunc, int64_t now)
{
	cleanup_buf struct buf label_text = BUF_INIT(1 << 20);
	char ports[4096];
	cleanup_buf struct buf cmd = BUF_INIT(1 << 20);
	char image[REF_STR_MAX], status[128], created[64], ago[64], id[CTR_ID_LEN + 1];
	char cut[PS_COMMAND_WIDTH * 4 + 8], quoted[(1 << 12)];

	command_text(&r->cfg.args, &cmd);
	if (trunc)
		tab_ellipsis(cmd.data ? cmd.data : "", PS_COMMAND_WIDTH, cut, sizeof(cut));
	tab_go_quote(trunc ? cut : (cmd.data ? cmd.data : ""), quoted, sizeof(quoted));
	image_text(s, l, &r->cfg, trunc, image, sizeof(image));
	duration_status(&r->st, now, status, sizeof(status));
	duration_go_time(r->cfg.created, created, sizeof(created));
	duration_ago(r->cfg.created, now, ago, sizeof(ago));
	snprintf(id, sizeof(id), "%.*s", trunc ? CTR_SHORT_ID_LEN : CTR_ID_LEN, r->cfg.id);
	ports_text(s, r, ports, sizeof(ports));
	labels_text(labels, &label_text);
	/* docker's `ps --format json` keys, all strings. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "Command", quoted, "CreatedAt", created, "ID", id, "Image", image, "Labels",
			 label_text.data ? label_text.data : "", "LocalVolumes", "0", "Mounts", "", "Names", r->cfg.name, "Networks", "",
			 "Ports", ports, "RunningFor", ago, "Size", "0B", "State",
			 ctr_state_status_name(&r->st), "Status", status);
}

/* --- filters (docker's -f key=value) ---------------------------------------- */

/* docker's label filter: KEY, or KEY=VALUE. */
static bool label_matches(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	json_t *v = json_object_getn(labels, want, eq ? (size_t)(eq - want) : strlen(want));

	return v && (!eq || (json_is_string(v) && !strcmp(json_string_value(v), eq + 1)));
}

static bool name_matches(const struct ps_filter *f, const char *name)
{
	char slashed[CTR_NAME_MAX + 2];

	/* docker matches "/name" and "name": both ^name$ and /name work. */
	snprintf(slashed, sizeof(slashed), "/%s", name);
	return f->regex_ok && (regexec(&f->re, name, 0, NULL, 0) == 0 ||
			       regexec(&f->re, slashed, 0, NULL, 0) == 0);
}

static bool filter_matches(const struct ps_row *r, json_t *labels, const struct ps_filter *f)
{
	switch (f->key) {
	case F_ID: return f->value[0] && !strncmp(r->cfg.id, f->value, strlen(f->value));
	case F_NAME: return name_matches(f, r->cfg.name);
	case F_LABEL: return label_matches(labels, f->value);
	case F_STATUS: return !strcmp(f->value, ctr_state_status_name(&r->st));
	case F_EXITED: return r->st.status == CTR_EXITED && r->st.exit_code == f->exit_code;
	case F_ANCESTOR:
		return f->image_id[0] && r->cfg.image_id && !strcmp(r->cfg.image_id, f->image_id);
	case F_BEFORE: return r->cfg.created < f->created;
	case F_SINCE: return r->cfg.created > f->created;
	}
	return false;
}

static bool has_filter(const struct ps_opts *o, enum ps_filter_key key)
{
	for (size_t i = 0; i < o->n_filters; i++)
		if (o->filters[i].key == key)
			return true;
	return false;
}

/* Without -a only running containers, unless a status filter or -n/-l says
 * otherwise. */
static bool shows_running_only(const struct ps_opts *o)
{
	return !o->all && o->last < 0 && !has_filter(o, F_STATUS);
}

/* docker: values of one key are ORed (label's are ANDed), keys are ANDed. */
static bool row_selected(const struct ps_row *r, json_t *labels, const struct ps_opts *o)
{
	if (shows_running_only(o) && r->st.status != CTR_RUNNING && r->st.status != CTR_RESTARTING)
		return false;
	for (size_t i = 0; i < o->n_filters; i++) {
		enum ps_filter_key key = o->filters[i].key;
		bool any = false, all = true;
		for (size_t j = 0; j < o->n_filters; j++) {
			if (o->filters[j].key != key)
				continue;
			bool m = filter_matches(r, labels, &o->filters[j]);
			any |= m;
			all &= m;
		}
		if (key == F_LABEL ? !all : !any)
			return false;
	}
	return true;
}

/* A filter docker's daemon refuses: exit 1, not a usage error. */
static int exit_one(struct sk_err *err)
{
	err->exit_code = 1;
	return -1;
}

static int parse_filter(const char *arg, struct ps_filter *f, struct sk_err *err)
{
	static const char *const statuses[] = { "created", "restarting", "running", "removing",
						"paused",  "exited",	 "dead" };
	char key[16];
	size_t klen = strcspn(arg, "="), i;
	char *end;

	if (!arg[klen])
		return cli_usage_error(err, "ps", "invalid argument \"%s\" for \"-f, --filter\" flag: "
						  "bad format of filter (expected name=value)", arg);
	/* docker lowercases the key: ID=... works. */
	for (i = 0; i < klen && i + 1 < sizeof(key); i++)
		key[i] = (char)tolower((unsigned char)arg[i]);
	key[i] = '\0';
	*f = (struct ps_filter){ .value = arg + klen + 1 };
	for (i = 0; i < ARRAY_SIZE(filter_keys); i++)
		if (klen < sizeof(key) && !strcmp(key, filter_keys[i]))
			break;
	if (i == ARRAY_SIZE(filter_keys))
		return err_set(err, 0, "Invalid filter '%.*s'", (int)klen, arg), exit_one(err);
	f->key = (enum ps_filter_key)i;
	if (f->key == F_NAME)
		f->regex_ok = regcomp(&f->re, f->value, REG_EXTENDED | REG_NOSUB) == 0;
	if (f->key == F_EXITED) {
		long code = strtol(f->value, &end, 10);
		if (!f->value[0] || *end || code < INT32_MIN || code > INT32_MAX)
			return err_set(err, 0, "invalid filter 'exited=%s': not a number", f->value),
			       exit_one(err);
		f->exit_code = (int)code;
	}
	if (f->key == F_STATUS) {
		for (i = 0; i < ARRAY_SIZE(statuses); i++)
			if (!strcmp(f->value, statuses[i]))
				return 0;
		return err_set(err, 0, "Invalid filter 'status=%s'", f->value), exit_one(err);
	}
	return 0;
}

/* before=, since= and ancestor= name things in the store. */
static int resolve_filters(struct store *s, struct ps_opts *o, struct sk_err *err)
{
	for (size_t i = 0; i < o->n_filters; i++) {
		struct ps_filter *f = &o->filters[i];
		char id[CTR_ID_LEN + 1];
		struct ctr_config cfg = { 0 };
		struct store_image img;
		struct sk_err ignored = { 0 };
		cleanup_close int dirfd = -1;

		if (f->key == F_ANCESTOR) {
			/* docker: an image that does not exist matches nothing. */
			if (store_image_lookup(s, f->value, &img, &ignored) == 0)
				snprintf(f->image_id, sizeof(f->image_id), "%s", img.config_digest);
			continue;
		}
		if (f->key != F_BEFORE && f->key != F_SINCE)
			continue;
		if (ctr_resolve(s, f->value, id, err) < 0 || (dirfd = ctr_open_dir(s, id, err)) < 0 ||
		    ctr_config_read(dirfd, &cfg, err) < 0) {
			return exit_one(err);
		}
		f->created = cfg.created;
		ctr_config_release(&cfg);
	}
	return 0;
}

static void ps_opts_release(struct ps_opts *o)
{
	for (size_t i = 0; i < o->n_filters; i++)
		if (o->filters[i].key == F_NAME && o->filters[i].regex_ok)
			regfree(&o->filters[i].re);
}

/* --- collecting -------------------------------------------------------------- */

/* Its monitor died: recorded now (ctr_state_load), with a word when its
 * restart policy would have started it again (docs/LIFECYCLE.md). */
static int settle(struct store *s, const char *id, struct ctr_state *st)
{
	struct sk_err err = { 0 };
	cleanup_close int dirfd = ctr_open_dir(s, id, &err);
	struct ctr_config cfg;

	if (dirfd < 0 || ctr_state_load(dirfd, st, &err) < 0)
		return -1;
	if (st->monitor_died_now && ctr_config_read(dirfd, &cfg, &err) == 0) {
		container_note_dead_monitor(&cfg);
		ctr_config_release(&cfg);
	}
	return 0;
}

/* Each container's two records, read from the containers directory (no
 * open of its own); only a state whose monitor is gone needs the directory,
 * to record the death under its lock. */
static int collect_one(struct store *s, const char *id, int containers_fd, void *ctx)
{
	struct ps_list *l = ctx;
	struct ps_row *grown, *r;
	struct sk_err ignored = { 0 };

	if ((l->n & (l->n + 1)) == 0 || l->n == 0) { /* grow at 0, 1, 3, 7, 15... */
		grown = realloc(l->rows, (2 * l->n + 2) * sizeof(*grown));
		if (!grown)
			return -1;
		l->rows = grown;
	}
	r = &l->rows[l->n];
	memset(r, 0, sizeof(*r));
	/* A container being created, or removed meanwhile: not listed. */
	if (ctr_listing_read_at(containers_fd, id, &r->cfg, &r->st, &ignored) < 0)
		return 0;
	if (ctr_state_monitor_gone(&r->st) && settle(s, id, &r->st) < 0) {
		ctr_config_release(&r->cfg);
		return 0;
	}
	l->n++;
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct ps_row *x = a, *y = b;

	if (x->cfg.created != y->cfg.created)
		return x->cfg.created < y->cfg.created ? 1 : -1;
	return strcmp(x->cfg.id, y->cfg.id);
}

static void ps_list_release(struct ps_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		ctr_config_release(&l->rows[i].cfg);
		if (l->rows[i].obj)
			json_decref(l->rows[i].obj);
		if (l->rows[i].labels)
			json_decref(l->rows[i].labels);
	}
	free(l->rows);
	for (size_t i = 0; i < l->n_labels; i++)
		json_decref(l->labels[i].labels);
	free(l->labels);
	for (size_t i = 0; i < l->n_names; i++)
		free(l->names[i].name);
	free(l->names);
}

static void json_decref_p(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define cleanup_json_t __attribute__((cleanup(json_decref_p)))

/* --- printing ---------------------------------------------------------------- */

#define PS_DEFAULT_TABLE \
	"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

static int print_rows(const struct ps_list *l, const struct ps_opts *o, struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(64u << 20);
	cleanup_json_t json_t *rows = json_array();
	cleanup_json_t json_t *header = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Command",
		"COMMAND", "CreatedAt", "CREATED AT", "ID", "CONTAINER ID", "Image", "IMAGE", "Labels",
		"LABELS", "LocalVolumes", "LOCAL VOLUMES", "Mounts", "MOUNTS", "Names", "NAMES",
		"Networks", "NETWORKS", "Ports", "PORTS", "RunningFor", "CREATED", "Size", "SIZE",
		"State", "STATE", "Status", "STATUS");

	if (!rows || !header)
		return err_set(err, ENOMEM, "ps");
	for (size_t i = 0; i < l->n; i++) {
		json_t *obj = l->rows[i].obj;
		if (!obj)
			continue;
		if (o->quiet)
			buf_appendf(&out, "%s\n", json_string_value(json_object_get(obj, "ID")));
		else if (json_array_append(rows, obj) < 0)
			return err_set(err, ENOMEM, "ps");
	}
	if (!o->quiet &&
	    gotemplate_format_list(o->format, PS_DEFAULT_TABLE, header, rows, &out, err) < 0)
		return -1;
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	return 0;
}

/* Give the rows ps shows their JSON (rows without one are not shown). */
static int select_rows(struct store *s, struct ps_list *l, const struct ps_opts *o,
		       struct sk_err *err)
{
	size_t shown = 0;
	int64_t now = ctr_now_ns();
	bool exact = o->format && (strstr(o->format, "Label") || strstr(o->format, "json"));

	for (size_t i = 0; i < o->n_filters; i++)
		exact |= o->filters[i].key == F_LABEL;
	if (l->n)
		qsort(l->rows, l->n, sizeof(*l->rows), newest_first);
	for (size_t i = 0; i < l->n; i++) {
		struct ps_row *r = &l->rows[i];

		json_t *labels = row_labels(s, l, r, exact);

		if (!labels)
			return err_set(err, ENOMEM, "ps");
		if (!row_selected(r, labels, o) || (o->last >= 0 && shown >= (size_t)o->last))
			continue;
		r->obj = row_json(s, l, r, labels, !o->no_trunc, now);
		if (!r->obj)
			return err_set(err, 0, "cannot format container %s", r->cfg.id);
		shown++;
	}
	return 0;
}

static int parse_ps_opts(int argc, char **argv, struct ps_opts *o, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	 { "quiet", no_argument, NULL, 'q' },
		{ "no-trunc", no_argument, NULL, 'T' },	 { "format", required_argument, NULL, 'F' },
		{ "filter", required_argument, NULL, 'f' }, { "last", required_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' },	 { "size", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },	 { 0 },
	};
	char *end;
	int c;

	o->last = -1;
	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+aqf:n:lsh", opts)) != -1) {
		switch (c) {
		case 'a': o->all = true; break;
		case 'q': o->quiet = true; break;
		case 'T': o->no_trunc = true; break;
		case 's': break; /* sizes are not computed; accepted for scripts */
		case 'l': o->last = 1; break;
		case 'n':
			o->last = strtol(optarg, &end, 10);
			if (*end || end == optarg)
				return cli_usage_error(err, "ps", "invalid argument \"%s\" for \"-n, --last\"",
						       optarg);
			if (o->last < 0)
				o->last = -1; /* docker: -1 means all */
			break;
		case 'F': o->format = optarg; break;
		case 'f':
			if (o->n_filters == PS_MAX_FILTERS)
				return cli_usage_error(err, "ps", "too many filters");
			if (parse_filter(optarg, &o->filters[o->n_filters], err) < 0)
				return -1;
			o->n_filters++;
			break;
		case 'h': return 1;
		default:
			return cli_usage_error(err, "ps", "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(err, "ps", "\"skiff ps\" accepts no arguments");
	return 0;
}

static int exec_ps(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct ps_opts o = { 0 };
	struct ps_list l = { 0 };
	int r = parse_ps_opts(argc, argv, &o, err);

	if (r) {
		ps_opts_release(&o);
		return r < 0 ? -1 : (fputs(ps_usage, stdout), 0);
	}
	r = resolve_filters(&ctx->store, &o, err);
	/* Only running ones shown: those of the live index are enough (state.h),
	 * however many stopped containers there are. */
	if (r == 0)
		r = (shows_running_only(&o) ? ctr_for_each_live_id : ctr_for_each_id)(
			&ctx->store, collect_one, &l, err);
	if (r < 0 && !err->msg[0])
		err_set(err, ENOMEM, "cannot list containers");
	if (r == 0)
		r = select_rows(&ctx->store, &l, &o, err);
	if (r == 0)
		r = print_rows(&l, &o, err);
	ps_list_release(&l);
	ps_opts_release(&o);
	return r < 0 ? -1 : 0;
}

const struct command cmd_ps = {
	.name = "ps",
	.summary = "List containers",
	.usage = ps_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_ps,
};

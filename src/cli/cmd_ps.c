/*
 * skiff ps: list containers as `docker ps` does. Each container's record is
 * read with ctr_state_load(), so one whose monitor died shows as exited (255)
 * instead of running. Rows are sorted newest first; every output form (table,
 * -q, json lines, Go templates) comes from one JSON object per container with
 * docker's keys.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/ref.h"
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
	"  -f, --filter filter   filter output: status=, name=, id=, exited=, ancestor=\n"
	"      --format string   'table' (default), 'json' (one object per line) or a Go\n"
	"                        template such as '{{.ID}} {{.Names}}'\n"
	"  -n, --last int        show n last created containers (includes all states)\n"
	"  -l, --latest          show the latest created container (includes all states)\n"
	"      --no-trunc        do not truncate output\n"
	"  -q, --quiet           only display container IDs\n";

#define PS_COMMAND_WIDTH 20
#define PS_MAX_FILTERS 16

struct ps_opts {
	bool all, quiet, no_trunc, json;
	const char *tmpl; /* a Go template, or NULL for the table */
	long last;	  /* -1: not given */
	const char *filters[PS_MAX_FILTERS];
	size_t n_filters;
};

/* One container as ps sees it. */
struct ps_row {
	struct ctr_config cfg;
	struct ctr_state st;
	json_t *obj; /* docker's keys, for --format */
};

struct ps_list {
	struct ps_row *rows;
	size_t n;
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

/* As docker: the image as the user named it while that name still means the
 * same image, else the image id. */
static void image_text(struct store *s, const struct ctr_config *c, bool trunc, char *out,
		       size_t len)
{
	struct store_image img;
	struct sk_err ignored;
	const char *id = c->image_id ? c->image_id : "";

	if (c->image && store_image_lookup(s, c->image, &img, &ignored) == 0 &&
	    !strcmp(img.config_digest, id)) {
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

static json_t *row_json(struct store *s, const struct ps_row *r, bool trunc, int64_t now)
{
	char ports[4096];
	cleanup_buf struct buf cmd = BUF_INIT(1 << 20);
	char image[REF_STR_MAX], status[128], created[64], ago[64], id[CTR_ID_LEN + 1];
	char cut[PS_COMMAND_WIDTH * 4 + 8], quoted[(1 << 12)];

	command_text(&r->cfg.args, &cmd);
	if (trunc)
		tab_ellipsis(cmd.data ? cmd.data : "", PS_COMMAND_WIDTH, cut, sizeof(cut));
	tab_go_quote(trunc ? cut : (cmd.data ? cmd.data : ""), quoted, sizeof(quoted));
	image_text(s, &r->cfg, trunc, image, sizeof(image));
	duration_status(&r->st, now, status, sizeof(status));
	duration_go_time(r->cfg.created, created, sizeof(created));
	duration_ago(r->cfg.created, now, ago, sizeof(ago));
	snprintf(id, sizeof(id), "%.*s", trunc ? CTR_SHORT_ID_LEN : CTR_ID_LEN, r->cfg.id);
	ports_text(s, r, ports, sizeof(ports));
	/* docker's `ps --format json` keys, all strings. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "Command", quoted, "CreatedAt", created, "ID", id, "Image", image, "Labels",
			 "", "LocalVolumes", "0", "Mounts", "", "Names", r->cfg.name, "Networks", "",
			 "Ports", ports, "RunningFor", ago, "Size", "0B", "State",
			 ctr_status_name(r->st.status), "Status", status);
}

/* --- filters (docker's -f key=value) ---------------------------------------- */

static bool filter_matches(const struct ps_row *r, const char *f)
{
	const char *eq = strchr(f, '=');
	const char *v = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - f) : strlen(f);

	if (klen == 6 && !strncmp(f, "status", 6))
		return !strcmp(v, ctr_status_name(r->st.status));
	if (klen == 4 && !strncmp(f, "name", 4))
		return strstr(r->cfg.name, v) != NULL;
	if (klen == 2 && !strncmp(f, "id", 2))
		return !strncmp(r->cfg.id, v, strlen(v));
	if (klen == 6 && !strncmp(f, "exited", 6))
		return r->st.status == CTR_EXITED && r->st.exit_code == atoi(v);
	if (klen == 8 && !strncmp(f, "ancestor", 8))
		return (r->cfg.image && !strcmp(r->cfg.image, v)) ||
		       (r->cfg.image_id && strstr(r->cfg.image_id, v));
	return false;
}

/* docker: filters with the same key are ORed, different keys ANDed. */
static bool row_selected(const struct ps_row *r, const struct ps_opts *o)
{
	for (size_t i = 0; i < o->n_filters; i++) {
		size_t klen = strcspn(o->filters[i], "=");
		bool any = false;
		for (size_t j = 0; j < o->n_filters; j++)
			if (strcspn(o->filters[j], "=") == klen &&
			    !strncmp(o->filters[i], o->filters[j], klen))
				any |= filter_matches(r, o->filters[j]);
		if (!any)
			return false;
	}
	if (o->all || o->last >= 0 || o->n_filters)
		return true;
	return r->st.status == CTR_RUNNING || r->st.status == CTR_RESTARTING;
}

static int validate_filter(const char *f, struct sk_err *err)
{
	static const char *const keys[] = { "status", "name", "id", "exited", "ancestor" };
	size_t klen = strcspn(f, "=");

	if (!f[klen])
		return cli_usage_error(err, "ps", "bad format of filter (expected name=value)");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == klen && !strncmp(keys[i], f, klen))
			return 0;
	return cli_usage_error(err, "ps", "invalid filter '%.*s'", (int)klen, f);
}

/* --- collecting -------------------------------------------------------------- */

static int collect_one(struct store *s, const char *id, int dirfd, void *ctx)
{
	struct ps_list *l = ctx;
	struct ps_row *grown, *r;
	struct sk_err ignored = { 0 };

	grown = realloc(l->rows, (l->n + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	l->rows = grown;
	r = &l->rows[l->n];
	memset(r, 0, sizeof(*r));
	/* A container being created, or removed meanwhile: not listed. */
	if (ctr_config_read(dirfd, &r->cfg, &ignored) < 0)
		return 0;
	if (ctr_state_load(dirfd, &r->st, &ignored) < 0) {
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
	}
	free(l->rows);
}

/* --- printing ---------------------------------------------------------------- */

static const char *field(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static int print_table(const struct ps_list *l, struct sk_err *err)
{
	static const char *const header[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
					      "STATUS",	      "PORTS", "NAMES" };
	struct tabwriter t;
	int r;

	tabwriter_init(&t, ARRAY_SIZE(header));
	r = tabwriter_add(&t, header, err);
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		const json_t *o = l->rows[i].obj;
		if (!o)
			continue;
		const char *cells[] = { field(o, "ID"),		field(o, "Image"),
					field(o, "Command"),	field(o, "RunningFor"),
					field(o, "Status"),	field(o, "Ports"),
					field(o, "Names") };
		r = tabwriter_add(&t, cells, err);
	}
	if (r == 0)
		tabwriter_print(&t, stdout);
	tabwriter_release(&t);
	return r;
}

static int print_rows(const struct ps_list *l, const struct ps_opts *o, struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(64u << 20);

	if (!o->quiet && !o->json && !o->tmpl)
		return print_table(l, err);
	for (size_t i = 0; i < l->n; i++) {
		json_t *obj = l->rows[i].obj;
		if (!obj)
			continue;
		if (o->quiet) {
			buf_appendf(&out, "%s\n", field(obj, "ID"));
		} else if (o->json) {
			cleanup_free char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
			buf_appendf(&out, "%s\n", text ? text : "{}");
		} else {
			if (gotemplate_render(o->tmpl, obj, &out, err) < 0)
				return -1;
			buf_append(&out, "\n", 1);
		}
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	return 0;
}

/* Give the rows ps shows their JSON (rows without one are not shown). */
static int select_rows(struct store *s, struct ps_list *l, const struct ps_opts *o,
		       struct sk_err *err)
{
	size_t shown = 0;
	int64_t now = ctr_now_ns();

	if (l->n)
		qsort(l->rows, l->n, sizeof(*l->rows), newest_first);
	for (size_t i = 0; i < l->n; i++) {
		struct ps_row *r = &l->rows[i];

		if (!row_selected(r, o) || (o->last >= 0 && shown >= (size_t)o->last))
			continue;
		r->obj = row_json(s, r, !o->no_trunc, now);
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
		case 'F':
			if (!strcmp(optarg, "json") || !strcmp(optarg, "{{json .}}"))
				o->json = true;
			else if (strcmp(optarg, "table") && strcmp(optarg, ""))
				o->tmpl = optarg;
			break;
		case 'f':
			if (o->n_filters == PS_MAX_FILTERS)
				return cli_usage_error(err, "ps", "too many filters");
			if (validate_filter(optarg, err) < 0)
				return -1;
			o->filters[o->n_filters++] = optarg;
			break;
		case 'h': return 1;
		default:
			return cli_usage_error(err, "ps", "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(err, "ps", "\"skiff ps\" accepts no arguments");
	if (o->tmpl && !strncmp(o->tmpl, "table", 5))
		return cli_usage_error(err, "ps", "table templates are not supported; use "
						  "'table', 'json' or a template without 'table'");
	return 0;
}

static int exec_ps(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct ps_opts o = { 0 };
	struct ps_list l = { 0 };
	int r = parse_ps_opts(argc, argv, &o, err);

	if (r)
		return r < 0 ? -1 : (fputs(ps_usage, stdout), 0);
	r = ctr_for_each(&ctx->store, collect_one, &l, err);
	if (r < 0 && !err->msg[0])
		err_set(err, ENOMEM, "cannot list containers");
	if (r == 0)
		r = select_rows(&ctx->store, &l, &o, err);
	if (r == 0)
		r = print_rows(&l, &o, err);
	ps_list_release(&l);
	return r < 0 ? -1 : 0;
}

const struct command cmd_ps = {
	.name = "ps",
	.summary = "List containers",
	.usage = ps_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_ps,
};

/*
 * skiff stats [-a] [--no-stream] [--no-trunc] [--format F] [CONTAINER...]:
 * docker stats. Each container's CPU %, memory, network and block I/O and
 * task count (runtime/stats.h); the table is drawn again every second over
 * the previous one, as docker's, until interrupted. Without names it shows
 * the running containers (every container with -a), looked up again each
 * second so that new ones appear. --no-stream prints one table, from two
 * reads half a second apart (docker waits for its daemon's two samples,
 * about 1.5 s).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "runtime/state.h"
#include "runtime/stats.h"
#include "util/cleanup.h"
#include "util/gotemplate.h"
#include "util/human.h"

static const char stats_usage[] =
    "Usage:  skiff stats [OPTIONS] [CONTAINER...]\n\n"
    "Display a live stream of container(s) resource usage statistics\n\n"
    "Options:\n"
    "  -a, --all             show all containers (default shows just running)\n"
    "      --format string   'table', 'json', or a Go template ('table {{.Name}}\\t{{.CPUPerc}}')\n"
    "      --no-stream       disable streaming stats and only pull the first result\n"
    "      --no-trunc        do not truncate output\n";

#define STREAM_INTERVAL_NS 1000000000LL
#define NO_STREAM_WINDOW_NS 500000000LL

struct target {
	char id[CTR_ID_LEN + 1];
	char name[CTR_NAME_MAX];
	char given[CTR_NAME_MAX]; /* .Container: the name or id as given */
	int64_t created;
	bool running;
	pid_t pid;
	bool have_prev;
	struct ctr_stats prev, cur;
};

struct stats_opts {
	bool all, no_stream, no_trunc;
	const char *format;
	char **names;
	int n_names;
};

struct target_list {
	struct target *v;
	size_t n, cap;
};

static struct target *find_target(struct target_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}

/* The container's name, creation time, and whether (and as which pid) it runs. */
static int describe(struct store *s, const char *id, struct target *t, struct sk_err *err)
{
	cleanup_close int dirfd = ctr_open_dir(s, id, err);
	struct ctr_config cfg;
	struct ctr_state st;

	if (dirfd < 0 || ctr_config_read(dirfd, &cfg, err) < 0)
		return -1;
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->name, sizeof(t->name), "%s", cfg.name);
	t->created = cfg.created;
	ctr_config_release(&cfg);
	t->running = ctr_state_load(dirfd, &st, err) == 0 && st.status == CTR_RUNNING &&
		     ctr_process_alive(st.pid, st.pid_start);
	t->pid = t->running ? st.pid : 0;
	err_clear(err);
	return 0;
}

static int add_target(struct target_list *l, const struct target *t)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct target *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *t;
	return 0;
}

struct list_ctx {
	const struct stats_opts *o;
	struct target_list *list;
};

static int list_one(struct store *s, const char *id, int dirfd, void *arg)
{
	struct list_ctx *lc = arg;
	struct sk_err ignored = {0};
	struct target t = {0};

	if (describe(s, id, &t, &ignored) < 0 || (!lc->o->all && !t.running))
		return 0;
	snprintf(t.given, sizeof(t.given), "%.12s", id);
	return add_target(lc->list, &t);
}

static int newest_first(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

/* The containers of this round: the named ones, or (re)listed. Samples of
 * containers already shown are carried over for their CPU %. */
static int collect(struct cli_ctx *ctx, const struct stats_opts *o, struct target_list *old,
		   struct target_list *out, struct sk_err *err)
{
	struct list_ctx lc = {o, out};

	out->n = 0;
	if (o->n_names == 0) {
		if (ctr_for_each(&ctx->store, list_one, &lc, err) < 0)
			return -1;
		qsort(out->v, out->n, sizeof(*out->v), newest_first);
	}
	for (int i = 0; i < o->n_names; i++) {
		struct target t = {0};
		char id[CTR_ID_LEN + 1];

		if (ctr_resolve(&ctx->store, o->names[i], id, err) < 0 ||
		    describe(&ctx->store, id, &t, err) < 0) {
			err->exit_code = 1;
			return -1;
		}
		snprintf(t.given, sizeof(t.given), "%s", o->names[i]);
		if (add_target(out, &t) < 0)
			return err_set(err, ENOMEM, "stats");
	}
	for (size_t i = 0; i < out->n; i++) {
		struct target *before = old ? find_target(old, out->v[i].id) : NULL;

		if (before && before->running && out->v[i].running) {
			out->v[i].prev = before->cur;
			out->v[i].have_prev = true;
		}
	}
	return 0;
}

static void sample(struct target_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct target *t = &l->v[i];
		struct sk_err ignored = {0};

		if (t->running && stats_read(t->id, t->pid, &t->cur, &ignored) < 0)
			t->running = false;
	}
}

static json_t *row_json(const struct target *t, bool no_trunc)
{
	char cpu[32] = "0.00%", mem[64] = "0B / 0B", memp[32] = "0.00%", net[64] = "0B / 0B";
	char blk[64] = "0B / 0B", pids[32] = "0", id[CTR_ID_LEN + 1], a[32], b[32];

	snprintf(id, sizeof(id), no_trunc ? "%s" : "%.12s", t->id);
	if (t->running) {
		const struct ctr_stats *s = &t->cur;

		snprintf(cpu, sizeof(cpu), "%.2f%%",
			 t->have_prev ? stats_cpu_percent(&t->prev, s) : 0);
		human_size_binary((double)s->mem_usage, a, sizeof(a));
		human_size_binary((double)s->mem_limit, b, sizeof(b));
		snprintf(mem, sizeof(mem), "%s / %s", a, b);
		snprintf(memp, sizeof(memp), "%.2f%%", stats_mem_percent(s));
		human_size((double)s->net_rx, a, sizeof(a));
		human_size((double)s->net_tx, b, sizeof(b));
		snprintf(net, sizeof(net), "%s / %s", a, b);
		human_size((double)s->blk_read, a, sizeof(a));
		human_size((double)s->blk_write, b, sizeof(b));
		snprintf(blk, sizeof(blk), "%s / %s", a, b);
		snprintf(pids, sizeof(pids), "%llu", (unsigned long long)s->pids);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", blk, "CPUPerc",
			 cpu, "Container", t->given, "ID", id, "MemPerc", memp, "MemUsage", mem,
			 "Name", t->name[0] ? t->name : "--", "NetIO", net, "PIDs", pids);
}

static int render(const struct stats_opts *o, const struct target_list *l, struct buf *out,
		  struct sk_err *err)
{
	json_t *rows = json_array(), *header;
	int r;

	for (size_t i = 0; rows && i < l->n; i++)
		json_array_append_new(rows, row_json(&l->v[i], o->no_trunc));
	header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container",
			   "CONTAINER", "ID", "CONTAINER ID", "Name", "NAME", "CPUPerc", "CPU %",
			   "MemUsage", "MEM USAGE / LIMIT", "MemPerc", "MEM %", "NetIO", "NET I/O",
			   "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
	if (!rows || !header)
		r = err_set(err, ENOMEM, "stats");
	else
		r = gotemplate_format_list(o->format ? o->format : "",
					   "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}"
					   "\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
					   header, rows, out, err);
	json_decref(rows);
	json_decref(header);
	return r;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One frame over the previous one: home, each line cleared to its end, the
 * rest of the screen cleared (fewer containers than before). */
static void draw(const struct buf *frame, bool first)
{
	const char *p = frame->data ? frame->data : "", *end = p + frame->len;

	fputs(first ? "\033[2J\033[H" : "\033[H", stdout);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		printf("%.*s\033[K\n", (int)n, p);
		p += n + (nl != NULL);
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

static int stream(struct cli_ctx *ctx, const struct stats_opts *o, struct sk_err *err)
{
	struct target_list lists[2] = {0}, *cur = &lists[0], *prev = NULL;
	int ret = 0;

	/* the first round only takes the samples the next one's CPU % needs */
	for (unsigned round = 0;; round++) {
		cleanup_buf struct buf frame = BUF_INIT(4 << 20);

		if (collect(ctx, o, prev, cur, err) < 0) {
			ret = -1;
			break;
		}
		sample(cur);
		if (round > 0) {
			if (render(o, cur, &frame, err) < 0) {
				ret = -1;
				break;
			}
			draw(&frame, round == 1);
		}
		prev = cur;
		cur = &lists[(round + 1) % 2];
		sleep_ns(STREAM_INTERVAL_NS);
	}
	free(lists[0].v);
	free(lists[1].v);
	return ret;
}

static int once(struct cli_ctx *ctx, const struct stats_opts *o, struct sk_err *err)
{
	struct target_list first = {0}, second = {0};
	cleanup_buf struct buf out = BUF_INIT(4 << 20);
	int ret = collect(ctx, o, NULL, &first, err);

	if (ret == 0) {
		sample(&first);
		sleep_ns(NO_STREAM_WINDOW_NS);
		ret = collect(ctx, o, &first, &second, err);
	}
	if (ret == 0) {
		sample(&second);
		ret = render(o, &second, &out, err);
	}
	if (ret == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	free(first.v);
	free(second.v);
	return ret;
}

static int exec_stats(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	enum { OPT_NO_STREAM = 256, OPT_NO_TRUNC, OPT_FORMAT };
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"no-stream", no_argument, NULL, OPT_NO_STREAM},
	    {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct stats_opts o = {0};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:ah", opts)) != -1) {
		switch (c) {
		case 'a':
			o.all = true;
			break;
		case OPT_NO_STREAM:
			o.no_stream = true;
			break;
		case OPT_NO_TRUNC:
			o.no_trunc = true;
			break;
		case OPT_FORMAT:
			o.format = optarg;
			break;
		case 'h':
			return fputs(stats_usage, stdout), 0;
		case ':':
			return cli_usage_error(err, "stats", "flag needs an argument: %s",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "stats", "unknown flag: %s", argv[optind - 1]);
		}
	}
	o.names = argv + optind;
	o.n_names = argc - optind;
	if (o.no_stream)
		return once(ctx, &o, err) < 0 ? -1 : 0;
	return stream(ctx, &o, err) < 0 ? -1 : 0;
}

const struct command cmd_stats = {
    .name = "stats",
    .summary = "Display a live stream of container(s) resource usage statistics",
    .usage = stats_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_stats,
};

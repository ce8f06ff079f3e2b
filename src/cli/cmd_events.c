/*
 * skiff events [--since T] [--until T] [--filter K=V]... [--format F]:
 * docker events over the store's event log (runtime/events.h). Without
 * --since or --until it prints what happens from now on; with them it
 * prints the recorded events of that span first, and stops at --until.
 * Filters follow docker's (keys AND, values of one key OR): type, event,
 * container (id or name, prefixes too), image (id or name, with or without
 * tag), label, network, volume, scope.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "image/ref.h"
#include "runtime/events.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/gotemplate.h"

static const char events_usage[] =
    "Usage:  skiff events [OPTIONS]\n\n"
    "Get real time events from this store (every skiff process records its\n"
    "containers' and images' events in it)\n\n"
    "Options:\n"
    "  -f, --filter filter   filter output based on conditions provided (type=,\n"
    "                        event=, container=, image=, label=, network=, volume=)\n"
    "      --format string   'json', or a Go template ('{{.Action}} {{.Actor.ID}}')\n"
    "      --since string    show all events created since timestamp\n"
    "      --until string    stream events until this timestamp\n";

#define MAX_FILTERS 64

struct filter {
	char key[32];
	const char *value;
};

struct events_opts {
	int64_t since, until; /* ns; 0: unset */
	bool has_since, has_until;
	struct filter filters[MAX_FILTERS];
	size_t n_filters;
	const char *format; /* NULL: docker's line */
	bool json_whole;    /* "json" or "{{json .}}": docker's message as JSON */
	struct gotemplate *tmpl;
};

static const char *const filter_keys[] = {"config", "container", "daemon", "event",  "image",
					  "label",  "network",	 "node",   "plugin", "scope",
					  "secret", "service",	 "type",   "volume"};

static int add_filter(struct events_opts *o, const char *arg, struct sk_err *err)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : 0;
	bool known = false;

	if (!eq || klen == 0 || klen >= sizeof(o->filters[0].key))
		return cli_usage_error(err, "events", "bad format of filter (expected name=value)");
	for (size_t i = 0; i < ARRAY_SIZE(filter_keys); i++)
		known |= strlen(filter_keys[i]) == klen && !strncmp(filter_keys[i], arg, klen);
	if (!known) {
		err_set(err, 0, "invalid filter '%.*s'", (int)klen, arg);
		err->exit_code = 1;
		return -1;
	}
	if (o->n_filters == MAX_FILTERS)
		return cli_usage_error(err, "events", "too many filters");
	memcpy(o->filters[o->n_filters].key, arg, klen);
	o->filters[o->n_filters].key[klen] = '\0';
	o->filters[o->n_filters++].value = eq + 1;
	return 0;
}

static bool has_key(const struct events_opts *o, const char *key)
{
	for (size_t i = 0; i < o->n_filters; i++)
		if (!strcmp(o->filters[i].key, key))
			return true;
	return false;
}

/* Any value of key equal to one of the candidates (or, fuzzy, a prefix of
 * one); true when key is not filtered on. */
static bool match_key(const struct events_opts *o, const char *key, const char *const *cands,
		      size_t n, bool fuzzy)
{
	if (!has_key(o, key))
		return true;
	for (size_t i = 0; i < o->n_filters; i++) {
		if (strcmp(o->filters[i].key, key) != 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			size_t vlen = strlen(o->filters[i].value);

			if (!cands[j])
				continue;
			if (!strcmp(cands[j], o->filters[i].value) ||
			    (fuzzy && !strncmp(cands[j], o->filters[i].value, vlen)))
				return true;
		}
	}
	return false;
}

/* docker's stripTag: "busybox:latest" -> "busybox"; anything else as is. */
static void strip_tag(const char *image, char *out, size_t len)
{
	struct image_ref ref;
	struct sk_err ignored;

	if (image && ref_parse(image, &ref, &ignored) == 0)
		ref_familiar_name(&ref, out, len);
	else
		snprintf(out, len, "%s", image ? image : "");
}

/* label=K or label=K=V: every one must hold. */
static bool match_labels(const struct events_opts *o, json_t *attrs)
{
	for (size_t i = 0; i < o->n_filters; i++) {
		const char *v = o->filters[i].value, *eq = strchr(v, '=');
		char key[256];
		const char *have;

		if (strcmp(o->filters[i].key, "label") != 0)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(eq ? (size_t)(eq - v) : strlen(v)), v);
		have = json_string_value(json_object_get(attrs, key));
		if (!have || (eq && strcmp(have, eq + 1) != 0))
			return false;
	}
	return true;
}

struct message {
	const char *type, *action, *id, *name, *image;
	json_t *attrs;
	int64_t time_ns;
};

static bool match_image(const struct events_opts *o, const struct message *m)
{
	const char *name = !strcmp(m->type, "image") ? m->name : m->image;
	char id_stripped[REF_STR_MAX], name_stripped[REF_STR_MAX];
	const char *cands[4];

	strip_tag(m->id, id_stripped, sizeof(id_stripped));
	strip_tag(name, name_stripped, sizeof(name_stripped));
	cands[0] = m->id;
	cands[1] = name;
	cands[2] = id_stripped;
	cands[3] = name_stripped;
	return match_key(o, "image", cands, 4, false);
}

/* docker's Filter.Include */
static bool include(const struct events_opts *o, const struct message *m)
{
	const char *id_name[] = {m->id, m->name};
	static const char *const by_name[] = {"container", "network", "plugin", "service",
					      "node",	   "secret",  "config"};
	const char *scope = "local";

	if (m->time_ns < o->since || (o->has_until && m->time_ns > o->until))
		return false;
	if (!match_key(o, "event", &m->action, 1, false) ||
	    !match_key(o, "type", &m->type, 1, false) || !match_key(o, "scope", &scope, 1, false) ||
	    !match_key(o, "daemon", id_name, 2, false) ||
	    !match_key(o, "volume", &m->id, 1, false) || !match_image(o, m) ||
	    !match_labels(o, m->attrs))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(by_name); i++)
		if (!match_key(o, by_name[i], id_name, 2, true))
			return false;
	return true;
}

/* "2006-01-02T15:04:05.000000000Z07:00" in local time, as docker prints. */
static void fixed_time(int64_t ns, char *out, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	char date[32], zone[8];

	localtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (tm.tm_gmtoff == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
			 labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) % 3600 / 60);
	snprintf(out, len, "%s.%09lld%s", date, (long long)(ns % 1000000000), zone);
}

static void print_line(const struct message *m)
{
	const char *key;
	json_t *v;
	char when[64];
	bool first = true;

	fixed_time(m->time_ns, when, sizeof(when));
	printf("%s %s %s %s", when, m->type, m->action, m->id);
	/* jansson keeps the keys as written: sorted */
	json_object_foreach(m->attrs, key, v)
	{
		printf("%s%s=%s", first ? " (" : ", ", key, json_string_value(v) ?: "");
		first = false;
	}
	printf("%s\n", first ? "" : ")");
}

/* docker's message as JSON: with the deprecated status/id/from copies. */
static json_t *docker_json(const struct message *m, json_t *line)
{
	json_t *out = json_object();

	if (!strcmp(m->type, "container") || !strcmp(m->type, "image")) {
		json_object_set_new(out, "status", json_string(m->action));
		json_object_set_new(out, "id", json_string(m->id));
		if (!strcmp(m->type, "container") && m->image)
			json_object_set_new(out, "from", json_string(m->image));
	}
	json_object_set(out, "Type", json_object_get(line, "Type"));
	json_object_set(out, "Action", json_object_get(line, "Action"));
	json_object_set(out, "Actor", json_object_get(line, "Actor"));
	json_object_set(out, "scope", json_object_get(line, "scope"));
	json_object_set(out, "time", json_object_get(line, "time"));
	json_object_set(out, "timeNano", json_object_get(line, "timeNano"));
	return out;
}

/* For templates: Go's field names (Status, ID, From, Scope, Time, TimeNano). */
static json_t *template_value(const struct message *m, json_t *line)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:O, s:O}", "Status", m->action, "ID",
			 m->id, "From", m->image ? m->image : "", "Type", m->type, "Action",
			 m->action, "Actor", json_object_get(line, "Actor"), "Scope", "local",
			 "Time", json_object_get(line, "time"), "TimeNano",
			 json_object_get(line, "timeNano"));
}

static int print_formatted(const struct events_opts *o, const struct message *m, json_t *line,
			   struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(1 << 20);
	json_t *v;
	int r;

	if (o->json_whole) {
		cleanup_free char *text = NULL;

		v = docker_json(m, line);
		text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(v);
		if (text)
			printf("%s\n", text);
		return 0;
	}
	v = template_value(m, line);
	r = v ? gotemplate_exec(o->tmpl, v, false, &out, err) : err_set(err, ENOMEM, "events");
	json_decref(v);
	if (r < 0)
		return -1;
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	putchar('\n');
	return 0;
}

struct print_ctx {
	const struct events_opts *o;
	struct sk_err *err;
	bool past_until; /* an event after --until was seen: stop */
};

static int on_line(const char *text, size_t len, void *arg)
{
	struct print_ctx *p = arg;
	json_t *line = json_loadb(text, len, 0, NULL), *actor, *attrs;
	struct message m;
	int ret = 0;

	if (!line)
		return 0; /* not a line skiff wrote: skipped */
	actor = json_object_get(line, "Actor");
	attrs = json_object_get(actor, "Attributes");
	m = (struct message){
	    .type = json_string_value(json_object_get(line, "Type")),
	    .action = json_string_value(json_object_get(line, "Action")),
	    .id = json_string_value(json_object_get(actor, "ID")),
	    .name = json_string_value(json_object_get(attrs, "name")),
	    .image = json_string_value(json_object_get(attrs, "image")),
	    .attrs = json_is_object(attrs) ? attrs : NULL,
	    .time_ns = json_integer_value(json_object_get(line, "timeNano")),
	};
	if (!m.type || !m.action || !m.id || !m.attrs) {
		json_decref(line);
		return 0;
	}
	if (p->o->has_until && m.time_ns > p->o->until)
		p->past_until = true;
	if (include(p->o, &m)) {
		if (p->o->format)
			ret = print_formatted(p->o, &m, line, p->err);
		else
			print_line(&m);
		fflush(stdout);
	}
	json_decref(line);
	return ret;
}

static int parse_time(const char *flag, const char *v, int64_t *out, struct sk_err *err)
{
	if (duration_parse_timestamp(v, ctr_now_ns(), out) == 0)
		return 0;
	err_set(err, 0, "failed to parse value as time or duration: \"%s\"", v);
	err->exit_code = 1;
	return -1;
}

static int set_format(struct events_opts *o, const char *f, struct sk_err *err)
{
	char tmpl[4096];
	size_t n = 0;

	/* docker's escapes in a format: \t and \n */
	for (const char *p = f; *p && n + 1 < sizeof(tmpl); p++) {
		if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			tmpl[n++] = p[1] == 't' ? '\t' : '\n';
			p++;
		} else {
			tmpl[n++] = *p;
		}
	}
	tmpl[n] = '\0';
	o->format = f;
	if (!strcmp(tmpl, "json") || !strcmp(tmpl, "{{json .}}")) {
		o->json_whole = true;
		return 0;
	}
	return gotemplate_parse(tmpl, &o->tmpl, err);
}

static int parse_events_args(int argc, char **argv, struct events_opts *o, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"filter", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
	    {"since", required_argument, NULL, 'S'},  {"until", required_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:f:h", opts)) != -1) {
		int r = 0;

		switch (c) {
		case 'f':
			r = add_filter(o, optarg, err);
			break;
		case 'F':
			r = set_format(o, optarg, err);
			break;
		case 'S':
			o->has_since = true;
			r = parse_time("since", optarg, &o->since, err);
			break;
		case 'U':
			o->has_until = true;
			r = parse_time("until", optarg, &o->until, err);
			break;
		case 'h':
			return 1;
		case ':':
			return cli_usage_error(err, "events", "flag needs an argument: %s",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "events", "unknown flag: %s", argv[optind - 1]);
		}
		if (r < 0)
			return -1;
	}
	if (optind < argc)
		return cli_usage_error(err, "events", "\"skiff events\" accepts no arguments.");
	if (o->has_since && o->has_until && o->until < o->since) {
		err_set(err, 0, "since time (%lld) cannot be after until time (%lld)",
			(long long)(o->since / 1000000000), (long long)(o->until / 1000000000));
		err->exit_code = 1;
		return -1;
	}
	return 0;
}

static int follow(struct events_opts *o, struct events_reader *r, struct print_ctx *p,
		  struct sk_err *err)
{
	for (;;) {
		int64_t now = ctr_now_ns();
		int timeout = -1;

		if (o->has_until) {
			int64_t left_ms = (o->until - now) / 1000000 + 1;

			if (left_ms <= 0 || p->past_until)
				return 0;
			timeout = left_ms > 1000 ? 1000 : (int)left_ms;
		}
		events_reader_wait(r, timeout);
		if (events_reader_read(r, on_line, p, err) < 0)
			return -1;
	}
}

static int exec_events(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct events_opts o = {0};
	struct events_reader r;
	struct print_ctx p = {.o = &o, .err = err};
	int ret = parse_events_args(argc, argv, &o, err);

	if (ret == 1)
		fputs(events_usage, stdout);
	if (ret != 0) {
		gotemplate_free(o.tmpl);
		return ret == 1 ? 0 : -1;
	}
	/* docker: with either bound the recorded events come first */
	ret = events_reader_open(ctx->store.root_fd, o.has_since || o.has_until, &r, err);
	if (ret == 0)
		ret = events_reader_read(&r, on_line, &p, err);
	if (ret == 0 && !(o.has_until && o.until <= ctr_now_ns()))
		ret = follow(&o, &r, &p, err);
	events_reader_close(&r);
	gotemplate_free(o.tmpl);
	return ret < 0 ? -1 : 0;
}

const struct command cmd_events = {
    .name = "events",
    .summary = "Get real time events from the store",
    .usage = events_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_events,
};

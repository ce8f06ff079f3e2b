/*
 * skiff inspect: low-level information on containers and images as JSON, in
 * docker's layout. A name is looked up as a container first, then as an
 * image (docker's order), unless --type says which. `-f` takes a Go template
 * (util/gotemplate.h) evaluated over each object's JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "net/ipam.h"
#include "image/image_config.h"
#include "image/ref.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/gotemplate.h"

static const char inspect_usage[] =
	"Usage: skiff inspect [OPTIONS] NAME|ID [NAME|ID...]\n\n"
	"Return low-level information on containers and images\n\n"
	"Options:\n"
	"  -f, --format string   format the output using a Go template, e.g.\n"
	"                        '{{.State.Status}}' or '{{json .Config}}'\n"
	"      --type string     only look for this type: container or image\n";

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
		if (list[i].local)
			continue; /* a digest no registry knows is no RepoDigest */
		snprintf(line, sizeof(line), "%s@%s", name, list[i].manifest_digest);
		json_array_append_new(digests, json_string(line));
	}
}

static json_t *image_json(struct store *s, const struct store_image *img,
			  const struct store_image *list, size_t n, struct sk_err *err)
{
	cleanup_buf struct buf raw = BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	struct image_config cfg = { 0 };
	json_t *config, *out, *tags = json_array(), *digests = json_array(), *layers = json_array();
	json_error_t jerr;

	/* One read of the blob serves both the parsed fields and the raw "Config". */
	if (store_blob_get(s, img->config_digest, IMAGE_CONFIG_MAX_BYTES, &raw, err) < 0) {
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

/* --- containers ------------------------------------------------------------ */

static json_t *strv_json(const struct strv *v, size_t from)
{
	json_t *a = json_array();

	for (size_t i = from; a && i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static const char *restart_name(enum ctr_restart r)
{
	static const char *const names[] = { "no", "on-failure", "always", "unless-stopped" };

	return (unsigned)r < ARRAY_SIZE(names) ? names[r] : "no";
}

/* `run --network X` as given (the spec keeps only host or not). */
static const char *network_mode(const struct ctr_config *c)
{
	/* run's default, in docker's word for the bridge */
	const char *mode = container_bridge_by_default() ? "default" : "none";

	for (size_t i = 0; i < c->run_argv.n; i++) {
		const char *a = c->run_argv.v[i];
		if ((!strcmp(a, "--network") || !strcmp(a, "--net")) && i + 1 < c->run_argv.n)
			mode = c->run_argv.v[i + 1];
		else if (!strncmp(a, "--network=", 10) || !strncmp(a, "--net=", 6))
			mode = strchr(a, '=') + 1;
	}
	return mode;
}

static json_t *state_json(const struct ctr_state *st)
{
	char started[64], finished[64];
	bool running = st->status == CTR_RUNNING || st->status == CTR_RESTARTING;

	duration_rfc3339nano(st->started_at, started, sizeof(started));
	duration_rfc3339nano(st->finished_at, finished, sizeof(finished));
	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status",
			 ctr_status_name(st->status), "Running", running, "Paused", 0, "Restarting",
			 st->status == CTR_RESTARTING, "OOMKilled", st->oom_killed, "Dead", 0, "Pid",
			 st->status == CTR_RUNNING ? (int)st->pid : 0, "ExitCode", st->exit_code,
			 "Error", st->error, "StartedAt", started, "FinishedAt", finished);
}

static json_t *log_config_json(const struct ctr_config *c)
{
	json_t *conf = json_object();
	char v[32];

	if (c->log_max_size > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)c->log_max_size);
		json_object_set_new(conf, "max-size", json_string(v));
	}
	if (c->log_max_file > 1) {
		snprintf(v, sizeof(v), "%u", c->log_max_file);
		json_object_set_new(conf, "max-file", json_string(v));
	}
	return json_pack("{s:s, s:o}", "Type", c->detached ? "json-file" : "none", "Config", conf);
}

static json_t *host_config_json(const struct ctr_config *c)
{
	json_t *secopt = json_array();

	if (c->seccomp && strcmp(c->seccomp, "default"))
		json_array_append_new(secopt, json_pack("s++", "seccomp=", c->seccomp, ""));
	if (c->no_new_privileges && !c->privileged)
		json_array_append_new(secopt, json_string("no-new-privileges"));
	return json_pack("{s:o, s:s, s:{s:s, s:i}, s:b, s:b, s:o}", "LogConfig",
			 log_config_json(c), "NetworkMode", network_mode(c), "RestartPolicy",
			 "Name", restart_name(c->restart), "MaximumRetryCount", (int)c->restart_max,
			 "AutoRemove", c->auto_remove, "Privileged", c->privileged, "SecurityOpt",
			 secopt);
}

static json_t *config_json(const struct ctr_config *c)
{
	bool attach = !c->detached;

	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:n, s:s, "
			 "s:n, s:{}}",
			 "Hostname", c->hostname ? c->hostname : "", "Domainname", "", "User",
			 c->user ? c->user : "", "AttachStdin", attach && c->interactive,
			 "AttachStdout", attach, "AttachStderr", attach, "Tty", c->tty, "OpenStdin",
			 c->interactive, "StdinOnce", attach && c->interactive, "Env",
			 strv_json(&c->env, 0), "Cmd", strv_json(&c->args, 0), "Image",
			 c->image ? c->image : "", "Volumes", "WorkingDir", c->cwd ? c->cwd : "",
			 "Entrypoint", "Labels");
}

static json_t *endpoint_json(const char *ip, const char *gw, int prefix, const char *mac,
			     const char *network_id)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "IPAddress", ip, "Gateway", gw, "IPPrefixLen",
			 prefix, "MacAddress", mac, "NetworkID", network_id);
}

/* docker's NetworkSettings: the bridge's address and ports while it runs. */
static json_t *network_settings_json(const struct ctr_net *n, bool bridge)
{
	json_t *ports = json_object();
	char ip[16] = "", gw[16] = "";

	for (size_t i = 0; n && ports && i < n->n_ports; i++) {
		char key[32], hip[16], hport[8];
		json_t *list;

		snprintf(key, sizeof(key), "%u/%s", (unsigned)n->ports[i].container_port,
			 ports_proto_name(n->ports[i].proto));
		ipam_format_ip(n->ports[i].host_ip, hip);
		snprintf(hport, sizeof(hport), "%u", (unsigned)n->ports[i].host_port);
		list = json_object_get(ports, key);
		if (!list) {
			list = json_array();
			json_object_set_new(ports, key, list);
		}
		json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", hip, "HostPort", hport));
	}
	char mac[18] = "";

	if (n) {
		ipam_format_ip(n->ip, ip);
		ipam_format_ip(n->gateway, gw);
		snprintf(mac, sizeof(mac), "02:42:%02x:%02x:%02x:%02x", n->ip >> 24,
			 (n->ip >> 16) & 255, (n->ip >> 8) & 255, n->ip & 255);
	}
	/* docker: a user network's address is under its name only; the top
	 * level fields are the default bridge's */
	bool user = n && n->network[0] && strcmp(n->network, "bridge") != 0;

	json_t *networks = json_object();

	if (!n || n->ip || !n->n_extra)
		json_object_set_new(networks, user ? n->network : (bridge ? "bridge" : "none"),
				    endpoint_json(ip, gw, n && n->ip ? n->prefix : 0, mac,
						  n ? n->network_id : ""));
	for (size_t i = 0; n && i < n->n_extra; i++) {
		const struct ctr_endpoint *e = &n->extra[i];
		char eip[16], egw[16], emac[18];

		ipam_format_ip(e->ip, eip);
		ipam_format_ip(e->gateway, egw);
		snprintf(emac, sizeof(emac), "02:42:%02x:%02x:%02x:%02x", e->ip >> 24,
			 (e->ip >> 16) & 255, (e->ip >> 8) & 255, e->ip & 255);
		json_object_set_new(networks, e->network,
				    endpoint_json(eip, egw, e->prefix, emac, e->network_id));
	}
	return json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "IPAddress", user ? "" : ip, "Gateway",
			 user ? "" : gw, "IPPrefixLen", n && !user ? n->prefix : 0, "MacAddress",
			 user ? "" : mac, "Ports", ports ? ports : json_object(), "Networks",
			 networks ? networks : json_object());
}

static json_t *container_json(struct store *s, const struct ctr_config *c,
			      const struct ctr_state *st, const struct ctr_net *net)
{
	char created[64], dir[sizeof(s->root) + CTR_ID_LEN + 32], name[CTR_NAME_MAX + 1];
	char resolv[sizeof(dir) + 16], hostname[sizeof(dir) + 16], hosts[sizeof(dir) + 16],
		log[sizeof(dir) + 16];

	duration_rfc3339nano(c->created, created, sizeof(created));
	snprintf(dir, sizeof(dir), "%s/" CTR_DIR "/%s", s->root, c->id);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
	snprintf(hostname, sizeof(hostname), "%s/hostname", dir);
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(log, sizeof(log), "%s/" CTR_LOG_FILE, dir);
	snprintf(name, sizeof(name), "/%s", c->name);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, "
			 "s:s, s:o, s:[], s:o, s:o}",
			 "Id", c->id, "Created", created, "Path", c->args.n ? c->args.v[0] : "",
			 "Args", strv_json(&c->args, 1), "State", state_json(st), "Image",
			 c->image_id ? c->image_id : "", "ResolvConfPath", resolv, "HostnamePath",
			 hostname, "HostsPath", hosts, "LogPath", c->detached ? log : "", "Name",
			 c->name[0] ? name : "", "RestartCount", (int)st->restart_count, "Driver",
			 "overlay", "Platform", "linux", "HostConfig", host_config_json(c), "Mounts",
			 "Config", config_json(c), "NetworkSettings",
			 network_settings_json(net, net != NULL));
}

/* The container named ref as JSON; NULL with err (errnum ENOENT when absent). */
static json_t *find_container(struct store *s, const char *ref, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1;
	struct ctr_config c;
	struct ctr_state st;
	json_t *out;

	if (ctr_resolve(s, ref, id, err) < 0 || (dirfd = ctr_open_dir(s, id, err)) < 0)
		return NULL;
	if (ctr_config_read(dirfd, &c, err) < 0)
		return NULL;
	if (ctr_state_load(dirfd, &st, err) < 0) {
		ctr_config_release(&c);
		return NULL;
	}
	{
		cleanup_free struct ctr_net *net = calloc(1, sizeof(*net));
		struct sk_err ignored = { 0 };
		bool have = net && st.status == CTR_RUNNING &&
			    ctr_net_read(dirfd, net, &ignored) > 0;

		out = container_json(s, &c, &st, have ? net : NULL);
	}
	ctr_config_release(&c);
	if (!out)
		err_set(err, ENOMEM, "cannot build inspect output for '%s'", ref);
	return out;
}

static json_t *find_image(struct store *s, const char *ref, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	struct store_image img;
	size_t n = 0;

	if (store_image_lookup(s, ref, &img, err) < 0)
		return NULL;
	if (store_refs_list(s, &list, &n, err) < 0)
		return NULL;
	return image_json(s, &img, list, n, err);
}

/* --- the command ------------------------------------------------------------- */

enum inspect_type { TYPE_ANY, TYPE_CONTAINER, TYPE_IMAGE };

/* docker's order without --type: container, then image. */
static json_t *find_object(struct store *s, const char *ref, enum inspect_type type,
			   struct sk_err *err)
{
	json_t *obj = NULL;

	if (type != TYPE_IMAGE) {
		obj = find_container(s, ref, err);
		if (obj || err->errnum != ENOENT)
			return obj;
	}
	err_clear(err);
	if (type != TYPE_CONTAINER) {
		obj = find_image(s, ref, err);
		if (obj || err->errnum != ENOENT)
			return obj;
	}
	err_clear(err);
	err_set(err, 0, "No such %s: %s",
		type == TYPE_CONTAINER ? "container" : type == TYPE_IMAGE ? "image" : "object", ref);
	err->errnum = ENOENT;
	return NULL;
}

static int print_formatted(json_t *obj, const char *format, struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(64u << 20);

	if (gotemplate_render(format, obj, &out, err) < 0 || buf_append(&out, "\n", 1) < 0)
		return -1;
	fwrite(out.data, 1, out.len, stdout);
	return 0;
}

static int parse_type(const char *v, enum inspect_type *type, struct sk_err *err)
{
	if (!strcmp(v, "container"))
		*type = TYPE_CONTAINER;
	else if (!strcmp(v, "image"))
		*type = TYPE_IMAGE;
	else if (v[0])
		return cli_usage_error(err, "inspect", "\"%s\" is not a valid value for --type", v);
	return 0;
}

static int exec_inspect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
		{ "size", no_argument, NULL, 's' },	    { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum inspect_type type = TYPE_ANY;
	const char *format = NULL;
	json_t *all;
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+f:sh", opts)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return fputs(inspect_usage, stdout), 0;
		else if (c == 't' && parse_type(optarg, &type, err) < 0)
			return -1;
		else if (c != 't' && c != 's')
			return cli_usage_error(err, "inspect", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "inspect", "\"skiff inspect\" requires at least 1 argument");
	all = json_array();
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };
		json_t *obj = find_object(&ctx->store, argv[i], type, &one);

		if (obj && format && print_formatted(obj, format, &one) < 0) {
			json_decref(obj);
			obj = NULL;
		}
		if (!obj) {
			/* As docker: report it, go on with the others, exit 1. */
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed++;
			continue;
		}
		json_array_append_new(all, obj);
	}
	if (!format) {
		char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(all);
	return failed ? 1 : 0;
}

const struct command cmd_inspect = {
	.name = "inspect",
	.summary = "Return low-level information on containers and images",
	.usage = inspect_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_inspect,
};

/*
 * skiff inspect: low-level information on containers, images and networks
 * as JSON, in docker's layout: every key docker's engine always emits, in its
 * order, with its empty values (null, "", 0, [], {}, the zero time), so that
 * scripts written for `docker inspect` find what they read. A name is looked
 * up as a container, an image, then a network (docker's order), unless --type
 * says which. `-f` takes a Go template (util/gotemplate.h) evaluated over each
 * object's JSON. Where a value differs from docker's on purpose, the comment
 * says why (docs/DOCKER-DIFFERENCES.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "net/ipam.h"
#include "net/network.h"
#include "net/ports.h"
#include "image/image_config.h"
#include "image/ref.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/volume.h"
#include "runtime/volume_plan.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/fs.h"
#include "util/gotemplate.h"

static const char inspect_usage[] =
	"Usage: skiff inspect [OPTIONS] NAME|ID [NAME|ID...]\n\n"
	"Return low-level information on containers, images and networks\n\n"
	"Options:\n"
	"  -f, --format string   format the output using a Go template, e.g.\n"
	"                        '{{.State.Status}}' or '{{json .Config}}'\n"
	"  -s, --size            display total file sizes if the type is container\n"
	"      --type string     only look for this type: container, image, network\n"
	"                        or volume\n";

/* /dev/shm's size: runtime/spec.c's default mounts (65536k) */
#define SHM_SIZE_DEFAULT (64LL << 20)

/* --- small builders ------------------------------------------------------- */

/* Set key to v, or to null when v could not be made. */
static void put(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

static json_t *str(const char *s)
{
	return json_string(s ? s : "");
}

static json_t *strv_array(const struct strv *v, size_t from)
{
	json_t *a = json_array();

	for (size_t i = from; a && i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

/* docker's nil slice: null when empty. */
static json_t *strv_or_null(const struct strv *v)
{
	return v->n ? strv_array(v, 0) : json_null();
}

static json_t *time_json(int64_t ns)
{
	char text[64];

	duration_rfc3339nano(ns, text, sizeof(text));
	return json_string(text);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The object's keys in byte order, as Go writes a map. */
static json_t *sorted_object(json_t *o)
{
	size_t n = 0, size = json_object_size(o);
	cleanup_free const char **keys = calloc(size + 1, sizeof(*keys));
	json_t *sorted = json_object(), *value;
	const char *key;

	if (!keys || !sorted) {
		json_decref(sorted);
		return o;
	}
	json_object_foreach(o, key, value)
		keys[n++] = key;
	qsort(keys, n, sizeof(*keys), compare_strings);
	for (size_t i = 0; i < n; i++)
		json_object_set(sorted, keys[i], json_object_get(o, keys[i]));
	json_decref(o);
	return sorted;
}

/* "K=V" entries as an object: a later K wins, as in docker's map. */
static json_t *keyed_object(const struct strv *v)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < v->n; i++) {
		const char *kv = v->v[i];
		size_t klen = strcspn(kv, "=");
		cleanup_free char *key = strndup(kv, klen);

		if (key)
			json_object_set_new(o, key, json_string(kv[klen] ? kv + klen + 1 : ""));
	}
	return o ? sorted_object(o) : NULL;
}

/* Keys of docker's Go map[string]struct{} ("80/tcp": {}). */
static json_t *set_object(const struct strv *v)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < v->n; i++)
		json_object_set_new(o, v->v[i], json_object());
	return o ? sorted_object(o) : NULL;
}

/* --- images ----------------------------------------------------------------- */

/* docker's container.Config (an image's Config and ContainerConfig): the
 * keys it always writes, in its order, and those it writes only when set. */
enum config_key_kind { KEY_STRING, KEY_BOOL, KEY_LIST, KEY_OPTIONAL };
static const struct {
	const char *name;
	enum config_key_kind kind;
} config_keys[] = {
	{ "Hostname", KEY_STRING },
	{ "Domainname", KEY_STRING },
	{ "User", KEY_STRING },
	{ "AttachStdin", KEY_BOOL },
	{ "AttachStdout", KEY_BOOL },
	{ "AttachStderr", KEY_BOOL },
	{ "ExposedPorts", KEY_OPTIONAL },
	{ "Tty", KEY_BOOL },
	{ "OpenStdin", KEY_BOOL },
	{ "StdinOnce", KEY_BOOL },
	{ "Env", KEY_LIST },
	{ "Cmd", KEY_LIST },
	{ "Healthcheck", KEY_OPTIONAL },
	{ "ArgsEscaped", KEY_OPTIONAL },
	{ "Image", KEY_STRING },
	{ "Volumes", KEY_LIST },
	{ "WorkingDir", KEY_STRING },
	{ "Entrypoint", KEY_LIST },
	{ "NetworkDisabled", KEY_OPTIONAL },
	{ "MacAddress", KEY_OPTIONAL },
	{ "OnBuild", KEY_LIST },
	{ "Labels", KEY_LIST },
	{ "StopSignal", KEY_OPTIONAL },
	{ "StopTimeout", KEY_OPTIONAL },
	{ "Shell", KEY_OPTIONAL },
};

/* An image config's "config" or "container_config" in docker's shape. A
 * value of the wrong type is left at docker's empty value; a string Cmd or
 * Entrypoint is a one-element list, as docker's strslice reads it. */
static json_t *image_config_section(json_t *raw)
{
	json_t *out = json_object();

	for (size_t i = 0; out && i < ARRAY_SIZE(config_keys); i++) {
		const char *name = config_keys[i].name;
		json_t *v = json_object_get(raw, name);

		bool args = !strcmp(name, "Cmd") || !strcmp(name, "Entrypoint");

		switch (config_keys[i].kind) {
		case KEY_STRING: put(out, name, json_is_string(v) ? json_copy(v) : str("")); break;
		case KEY_BOOL: put(out, name, json_boolean(json_is_true(v))); break;
		case KEY_LIST:
			if (json_is_string(v) && args)
				put(out, name, json_pack("[O]", v));
			else
				put(out, name, v && !json_is_string(v) ? json_deep_copy(v) : NULL);
			break;
		case KEY_OPTIONAL:
			if (v && !json_is_null(v) && !json_is_false(v) &&
			    !(json_is_string(v) && !json_string_length(v)))
				put(out, name, json_deep_copy(v));
			break;
		}
	}
	return out;
}

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

static const char *storage_driver(const struct cli_ctx *ctx)
{
	return ctx->cfg.storage_vfs ? "vfs" : "overlay2";
}

/* The image's layer directories, top first, each once (run's set_layers),
 * joined by ':' as overlay's lowerdir; from the (skip)th from the top. */
static char *layer_dirs(struct store *s, const struct image_config *cfg, size_t skip)
{
	struct buf b = BUF_INIT(1u << 20);
	size_t seen = 0;

	for (size_t i = cfg->n_diff_ids; i-- > 0;) {
		char path[4400];
		bool repeated = false;

		for (size_t j = cfg->n_diff_ids - 1; j > i && !repeated; j--)
			repeated = !strcmp(cfg->diff_ids[j], cfg->diff_ids[i]);
		if (repeated || seen++ < skip)
			continue;
		store_layer_path(s, cfg->diff_ids[i], path, sizeof(path));
		if (buf_appendf(&b, "%s%s", b.len ? ":" : "", path) < 0)
			break;
	}
	if (buf_append(&b, "", 1) < 0) {
		buf_release(&b);
		return NULL;
	}
	return b.data;
}

/* docker's overlay2 view of an image: its top layer is the upper directory
 * (merged and work beside it exist only while mounted, in docker too). */
static json_t *image_graph_driver(struct cli_ctx *ctx, const struct image_config *cfg)
{
	char top[4400] = "", merged[4400], work[4400];
	cleanup_free char *lower = layer_dirs(&ctx->store, cfg, 1);
	json_t *data = json_object();
	size_t cut;

	if (cfg->n_diff_ids)
		store_layer_path(&ctx->store, cfg->diff_ids[cfg->n_diff_ids - 1], top, sizeof(top));
	cut = strlen(top) >= 5 ? strlen(top) - 5 : 0; /* ".../diff" */
	snprintf(merged, sizeof(merged), "%.*s/merged", (int)cut, top);
	snprintf(work, sizeof(work), "%.*s/work", (int)cut, top);
	if (lower && *lower)
		put(data, "LowerDir", str(lower));
	put(data, "MergedDir", str(merged));
	put(data, "UpperDir", str(top));
	put(data, "WorkDir", str(work));
	return json_pack("{s:o, s:s}", "Data", data, "Name", storage_driver(ctx));
}

static json_t *raw_string(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);

	return json_is_string(v) ? json_copy(v) : json_string("");
}

static json_t *image_json(struct cli_ctx *ctx, const struct store_image *img,
			  const struct store_image *list, size_t n, struct sk_err *err)
{
	cleanup_buf struct buf raw = BUF_INIT(IMAGE_CONFIG_MAX_BYTES);
	struct image_config cfg = { 0 };
	json_t *root, *out, *tags = json_array(), *digests = json_array(), *layers = json_array();
	json_error_t jerr;
	json_int_t size;

	/* One read of the blob serves both the parsed fields and the raw ones. */
	if (store_blob_get(&ctx->store, img->config_digest, IMAGE_CONFIG_MAX_BYTES, &raw,
			   err) < 0 ||
	    image_config_parse(raw.data, raw.len, &cfg, err) < 0) {
		err_wrap(err, "image config %s", img->config_digest);
		json_decref(tags), json_decref(digests), json_decref(layers);
		return NULL;
	}
	root = json_loadb(raw.data, raw.len, 0, &jerr);
	add_names(list, n, img->config_digest, tags, digests);
	for (size_t i = 0; i < cfg.n_diff_ids; i++)
		json_array_append_new(layers, json_string(cfg.diff_ids[i]));
	size = (json_int_t)store_image_size(&ctx->store, &cfg);
	out = json_object();
	put(out, "Id", str(img->config_digest));
	put(out, "RepoTags", tags);
	put(out, "RepoDigests", digests);
	put(out, "Parent", str(""));
	put(out, "Comment", raw_string(root, "comment"));
	put(out, "Created", cfg.created[0] ? str(cfg.created) : time_json(0));
	put(out, "Container", raw_string(root, "container"));
	put(out, "ContainerConfig",
	    image_config_section(json_object_get(root, "container_config")));
	put(out, "DockerVersion", raw_string(root, "docker_version"));
	put(out, "Author", raw_string(root, "author"));
	put(out, "Config", image_config_section(json_object_get(root, "config")));
	put(out, "Architecture", str(cfg.platform.arch));
	if (cfg.platform.variant[0])
		put(out, "Variant", str(cfg.platform.variant));
	put(out, "Os", str(cfg.platform.os));
	if (json_string_length(json_object_get(root, "os.version")))
		put(out, "OsVersion", raw_string(root, "os.version"));
	put(out, "Size", json_integer(size));
	put(out, "VirtualSize", json_integer(size));
	put(out, "GraphDriver", image_graph_driver(ctx, &cfg));
	put(out, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
	/* skiff keeps no tag times: docker's value for a pulled or loaded image */
	put(out, "Metadata", json_pack("{s:o}", "LastTagTime", time_json(0)));
	json_decref(root);
	image_config_release(&cfg);
	return out;
}

/* --- containers: State, Config ----------------------------------------------- */

static json_t *state_json(const struct ctr_state *st)
{
	bool running = st->status == CTR_RUNNING || st->status == CTR_RESTARTING;

	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o}", "Status",
			 ctr_status_name(st->status), "Running", running, "Paused", 0, "Restarting",
			 st->status == CTR_RESTARTING, "OOMKilled", st->oom_killed, "Dead", 0,
			 "Pid", st->status == CTR_RUNNING ? (int)st->pid : 0, "ExitCode",
			 st->exit_code, "Error", st->error, "StartedAt", time_json(st->started_at),
			 "FinishedAt", time_json(st->finished_at));
}

/* A record from before the docker view was kept: its process env less
 * what only the process gets (docker's Config.Env has no HOSTNAME). */
static json_t *legacy_env(const struct ctr_config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->env.n; i++)
		if (strncmp(c->env.v[i], "HOSTNAME=", 9) != 0)
			json_array_append_new(a, json_string(c->env.v[i]));
	return a;
}

static json_t *config_json(const struct ctr_config *c)
{
	const struct ctr_docker *d = &c->docker;
	bool attach = !c->detached;
	json_t *o = json_object();

	put(o, "Hostname", str(c->hostname));
	put(o, "Domainname", str(d->domainname));
	put(o, "User", str(c->user));
	put(o, "AttachStdin", json_boolean(attach && c->interactive));
	put(o, "AttachStdout", json_boolean(attach));
	put(o, "AttachStderr", json_boolean(attach));
	if (d->exposed_ports.n)
		put(o, "ExposedPorts", set_object(&d->exposed_ports));
	put(o, "Tty", json_boolean(c->tty));
	put(o, "OpenStdin", json_boolean(c->interactive));
	put(o, "StdinOnce", json_boolean(attach && c->interactive));
	if (c->has_docker) {
		put(o, "Env", strv_array(&d->env, 0));
		put(o, "Cmd", d->has_cmd ? strv_array(&d->cmd, 0) : NULL);
	} else {
		put(o, "Env", legacy_env(c));
		put(o, "Cmd", strv_array(&c->args, 0));
	}
	put(o, "Image", str(c->image));
	put(o, "Volumes", NULL);
	put(o, "WorkingDir", str(c->has_docker || d->workdir ? d->workdir : c->cwd));
	put(o, "Entrypoint", d->has_entrypoint ? strv_array(&d->entrypoint, 0) : NULL);
	put(o, "OnBuild", NULL);
	put(o, "Labels", keyed_object(&d->labels));
	if (d->stop_signal)
		put(o, "StopSignal", str(d->stop_signal));
	return o;
}

/* --- containers: HostConfig ----------------------------------------------------- */

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

/* The logging driver: a foreground container keeps no log (yet). */
static const char *log_driver(const struct ctr_config *c)
{
	if (c->docker.log_driver)
		return c->docker.log_driver;
	return c->detached ? "json-file" : "none";
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
	return json_pack("{s:s, s:o}", "Type", log_driver(c), "Config", conf);
}

/* -p's as docker keeps them: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}. */
static json_t *port_bindings_json(const struct strv *publish)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < publish->n; i++) {
		cleanup_free struct port_map *maps = NULL;
		size_t n = 0;
		struct sk_err ignored = { 0 };

		if (ports_parse(publish->v[i], &maps, &n, &ignored) < 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			char key[32], ip[16] = "", port[8] = "";
			json_t *list;

			snprintf(key, sizeof(key), "%u/%s", (unsigned)maps[j].container_port,
				 ports_proto_name(maps[j].proto));
			if (maps[j].host_ip)
				ipam_format_ip(maps[j].host_ip, ip);
			if (maps[j].host_port)
				snprintf(port, sizeof(port), "%u", (unsigned)maps[j].host_port);
			if (!(list = json_object_get(o, key))) {
				list = json_array();
				json_object_set_new(o, key, list);
			}
			json_array_append_new(
				list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", port));
		}
	}
	return o ? sorted_object(o) : NULL;
}

/* docker's capability names: "CAP_NET_ADMIN", and "ALL" as it is. */
static json_t *caps_json(const struct strv *caps)
{
	json_t *a;

	if (!caps->n)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && i < caps->n; i++) {
		const char *c = caps->v[i];
		bool keep = !strcasecmp(c, "ALL") || !strncasecmp(c, "CAP_", 4);
		char name[64];
		size_t n = (size_t)snprintf(name, sizeof(name), "%s%s", keep ? "" : "CAP_", c);

		for (size_t j = 0; j < n && j < sizeof(name); j++)
			name[j] = (char)(name[j] >= 'a' && name[j] <= 'z' ? name[j] - 32 : name[j]);
		json_array_append_new(a, json_string(name));
	}
	return a;
}

/* --tmpfs DST[:OPTS] as {"DST": "OPTS"}. */
static json_t *tmpfs_json(const struct strv *tmpfs)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < tmpfs->n; i++) {
		const char *colon = strchr(tmpfs->v[i], ':');
		cleanup_free char *dst = colon ? strndup(tmpfs->v[i], (size_t)(colon - tmpfs->v[i]))
					       : strdup(tmpfs->v[i]);

		if (dst)
			json_object_set_new(o, dst, json_string(colon ? colon + 1 : ""));
	}
	return o ? sorted_object(o) : NULL;
}

static json_t *ulimits_json(const struct rlimits *rl)
{
	json_t *a;

	if (!rl->n)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && i < rl->n; i++) {
		rlim_t soft = rl->v[i].lim.rlim_cur, hard = rl->v[i].lim.rlim_max;
		json_int_t h = hard == RLIM_INFINITY ? -1 : (json_int_t)hard;
		json_int_t s = soft == RLIM_INFINITY ? -1 : (json_int_t)soft;

		const char *name = rlimit_name(rl->v[i].resource);

		json_array_append_new(
			a, json_pack("{s:s, s:I, s:I}", "Name", name, "Hard", h, "Soft", s));
	}
	return a;
}

/* docker's default masked and read-only paths (none when privileged): the
 * ones run gives the container (spec_set_docker_defaults). */
static void put_masked_paths(json_t *o, bool privileged)
{
	struct rt_spec spec = { 0 };
	struct sk_err ignored = { 0 };

	if (spec_set_docker_defaults(&spec, false, privileged, &ignored) == 0) {
		put(o, "MaskedPaths", strv_or_null(&spec.masked_paths));
		put(o, "ReadonlyPaths", strv_or_null(&spec.readonly_paths));
	} else {
		put(o, "MaskedPaths", NULL);
		put(o, "ReadonlyPaths", NULL);
	}
	spec_release(&spec);
}

/* docker's Resources part of HostConfig. */
static void put_resources(json_t *o, const struct ctr_docker *d)
{
	const struct cgroup_limits *l = &d->limits;
	int64_t swap = l->memory_swap;

	/* docker: --memory alone gets twice as much memory + swap */
	if (l->memory > 0 && swap == 0)
		swap = 2 * l->memory;
	put(o, "CpuShares", json_integer((json_int_t)l->cpu_shares));
	put(o, "Memory", json_integer(l->memory));
	put(o, "NanoCpus", json_integer(l->nano_cpus));
	put(o, "CgroupParent", str(""));
	put(o, "BlkioWeight", json_integer(0));
	put(o, "BlkioWeightDevice", json_array());
	put(o, "BlkioDeviceReadBps", json_array());
	put(o, "BlkioDeviceWriteBps", json_array());
	put(o, "BlkioDeviceReadIOps", json_array());
	put(o, "BlkioDeviceWriteIOps", json_array());
	/* --cpus is NanoCpus only, as docker shows it */
	put(o, "CpuPeriod", json_integer(l->nano_cpus ? 0 : l->cpu_period));
	put(o, "CpuQuota", json_integer(l->nano_cpus ? 0 : l->cpu_quota));
	put(o, "CpuRealtimePeriod", json_integer(0));
	put(o, "CpuRealtimeRuntime", json_integer(0));
	put(o, "CpusetCpus", str(l->cpuset_cpus));
	put(o, "CpusetMems", str(""));
	put(o, "Devices", json_array());
	put(o, "DeviceCgroupRules", NULL);
	put(o, "DeviceRequests", NULL);
	put(o, "KernelMemory", json_integer(0));
	put(o, "KernelMemoryTCP", json_integer(0));
	put(o, "MemoryReservation", json_integer(0));
	put(o, "MemorySwap", json_integer(swap));
	put(o, "MemorySwappiness", NULL);
	put(o, "OomKillDisable", json_false());
	/* docker: 0 and -1 (unlimited) are no limit, null */
	put(o, "PidsLimit", l->pids_limit > 0 ? json_integer(l->pids_limit) : NULL);
	put(o, "Ulimits", ulimits_json(&d->ulimits));
	put(o, "CpuCount", json_integer(0));
	put(o, "CpuPercent", json_integer(0));
	put(o, "IOMaximumIOps", json_integer(0));
	put(o, "IOMaximumBandwidth", json_integer(0));
}

static json_t *host_config_json(const struct ctr_config *c)
{
	const struct ctr_docker *d = &c->docker;
	json_t *o = json_object();

	put(o, "Binds", strv_or_null(&d->binds));
	put(o, "ContainerIDFile", str(""));
	put(o, "LogConfig", log_config_json(c));
	put(o, "NetworkMode", str(network_mode(c)));
	put(o, "PortBindings", port_bindings_json(&d->publish));
	put(o, "RestartPolicy", json_pack("{s:s, s:i}", "Name", restart_name(c->restart),
					  "MaximumRetryCount", (int)c->restart_max));
	put(o, "AutoRemove", json_boolean(c->auto_remove));
	put(o, "VolumeDriver", str(""));
	put(o, "VolumesFrom", NULL);
	put(o, "CapAdd", caps_json(&d->cap_add));
	put(o, "CapDrop", caps_json(&d->cap_drop));
	/* skiff gives every container its own cgroup namespace (docker: "host"
	 * on cgroup v1) */
	put(o, "CgroupnsMode", str("private"));
	put(o, "Dns", strv_array(&d->dns, 0));
	put(o, "DnsOptions", strv_array(&d->dns_options, 0));
	put(o, "DnsSearch", strv_array(&d->dns_search, 0));
	put(o, "ExtraHosts", strv_or_null(&d->extra_hosts));
	put(o, "GroupAdd", NULL);
	put(o, "IpcMode", str("private"));
	put(o, "Cgroup", str(""));
	put(o, "Links", NULL);
	put(o, "OomScoreAdj", json_integer(0));
	put(o, "PidMode", str(""));
	put(o, "Privileged", json_boolean(c->privileged));
	put(o, "PublishAllPorts", json_boolean(d->publish_all));
	put(o, "ReadonlyRootfs", json_boolean(d->read_only));
	put(o, "SecurityOpt", strv_or_null(&d->security_opt));
	if (d->tmpfs.n)
		put(o, "Tmpfs", tmpfs_json(&d->tmpfs));
	put(o, "UTSMode", str(""));
	put(o, "UsernsMode", str(""));
	put(o, "ShmSize", json_integer(SHM_SIZE_DEFAULT));
	/* skiff starts containers itself: no OCI runtime to name */
	put(o, "Runtime", str("skiff"));
	put(o, "ConsoleSize", json_pack("[i, i]", 0, 0));
	put(o, "Isolation", str(""));
	put_resources(o, d);
	put_masked_paths(o, c->privileged);
	if (d->init)
		put(o, "Init", json_true());
	return o;
}

/* --- containers: Mounts, GraphDriver, sizes ------------------------------------- */

/* A propagation option of a bind's mode ("ro,rslave"), or docker's default. */
static const char *bind_propagation(const char *mode)
{
	static const char *const kinds[] = { "rprivate", "private", "rshared",
					     "shared",	 "rslave",  "slave" };
	size_t len;

	for (const char *o = mode; (o = spec_opt_next(o, &len)); o += len)
		for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
			if (strlen(kinds[i]) == len && !strncmp(o, kinds[i], len))
				return kinds[i];
	return "rprivate";
}

static bool bind_read_only(const char *mode)
{
	size_t len;

	for (const char *o = mode; (o = spec_opt_next(o, &len)); o += len)
		if (len == 2 && !strncmp(o, "ro", 2))
			return true;
	return false;
}

/* -v SRC:DST[:MODE] as docker's Mounts entries. */
static json_t *mounts_json(const struct strv *binds)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < binds->n; i++) {
		const char *b = binds->v[i], *dst = strchr(b, ':'), *mode;
		cleanup_free char *src = NULL, *dest = NULL;

		if (!dst)
			continue;
		mode = strchr(dst + 1, ':');
		src = strndup(b, (size_t)(dst - b));
		dest = mode ? strndup(dst + 1, (size_t)(mode - dst - 1)) : strdup(dst + 1);
		mode = mode ? mode + 1 : "";
		json_array_append_new(a, json_pack("{s:s, s:s?, s:s?, s:s, s:b, s:s}", "Type",
						   "bind", "Source", src, "Destination", dest,
						   "Mode", mode, "RW", !bind_read_only(mode),
						   "Propagation", bind_propagation(mode)));
	}
	return a;
}

static json_t *container_graph_driver(struct cli_ctx *ctx, const char *dir,
				      const struct image_config *img)
{
	char upper[4400], work[4400];
	cleanup_free char *lower = img ? layer_dirs(&ctx->store, img, 0) : NULL;

	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	/* the overlay is mounted on the container's directory, in its own
	 * mount namespace only; with vfs the copy is rootfs/ */
	if (ctx->cfg.storage_vfs)
		return json_pack("{s:{s:s}, s:s}", "Data", "Dir", dir, "Name", "vfs");
	return json_pack("{s:{s:s, s:s, s:s, s:s}, s:s}", "Data", "LowerDir", lower ? lower : "",
			 "MergedDir", dir, "UpperDir", upper, "WorkDir", work, "Name", "overlay2");
}

/* SizeRw (what the container wrote) and SizeRootFs (that and its image), as
 * docker counts them: the bytes of the files (fs_content_size). */
static void put_sizes(json_t *o, struct cli_ctx *ctx, const char *id,
		      const struct image_config *img)
{
	struct sk_err ignored = { 0 };
	cleanup_close int dirfd = ctr_open_dir(&ctx->store, id, &ignored);
	long long image = img ? (long long)store_image_size(&ctx->store, img) : 0, rw = 0;

	if (dirfd >= 0 && !ctx->cfg.storage_vfs) {
		rw = fs_content_size(dirfd, "upper");
	} else if (dirfd >= 0) {
		/* vfs: the copy holds the image's files too */
		rw = fs_content_size(dirfd, "rootfs") - image;
		rw = rw > 0 ? rw : 0;
	}
	put(o, "SizeRw", json_integer(rw));
	put(o, "SizeRootFs", json_integer(rw + image));
}

/* --- containers: NetworkSettings ------------------------------------------------ */

static void mac_of(uint32_t ip, char mac[18])
{
	snprintf(mac, 18, "02:42:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
}

/* docker's EndpointSettings. */
static json_t *endpoint_json(uint32_t ip, uint32_t gateway, int prefix, const char *network_id)
{
	char ip_text[16] = "", gw_text[16] = "", mac[18] = "";
	json_t *o = json_object();

	if (ip) {
		ipam_format_ip(ip, ip_text);
		ipam_format_ip(gateway, gw_text);
		mac_of(ip, mac);
	}
	put(o, "IPAMConfig", NULL);
	put(o, "Links", NULL);
	put(o, "Aliases", NULL);
	put(o, "NetworkID", str(network_id));
	put(o, "EndpointID", str(""));
	put(o, "Gateway", str(gw_text));
	put(o, "IPAddress", str(ip_text));
	put(o, "IPPrefixLen", json_integer(ip ? prefix : 0));
	put(o, "IPv6Gateway", str(""));
	put(o, "GlobalIPv6Address", str(""));
	put(o, "GlobalIPv6PrefixLen", json_integer(0));
	put(o, "MacAddress", str(mac));
	put(o, "DriverOpts", NULL);
	return o;
}

/* The running container's published ports, and its image's exposed ones
 * that are not (null), as docker lists them. */
static json_t *ports_json(const struct ctr_net *n, const struct strv *exposed)
{
	json_t *ports = json_object();

	for (size_t i = 0; n && ports && i < n->n_ports; i++) {
		char key[32], hip[16], hport[8];
		json_t *list;

		snprintf(key, sizeof(key), "%u/%s", (unsigned)n->ports[i].container_port,
			 ports_proto_name(n->ports[i].proto));
		ipam_format_ip(n->ports[i].host_ip, hip);
		snprintf(hport, sizeof(hport), "%u", (unsigned)n->ports[i].host_port);
		if (!(list = json_object_get(ports, key))) {
			list = json_array();
			json_object_set_new(ports, key, list);
		}
		json_array_append_new(list,
				      json_pack("{s:s, s:s}", "HostIp", hip, "HostPort", hport));
	}
	for (size_t i = 0; n && n->ip && ports && i < exposed->n; i++)
		if (!json_object_get(ports, exposed->v[i]))
			json_object_set_new(ports, exposed->v[i], json_null());
	return ports ? sorted_object(ports) : NULL;
}

/* The network a container is on, by its mode, as docker names it when it
 * does not run; NULL for container:NAME (docker lists none). */
static const char *network_of_mode(const char *mode)
{
	if (!strcmp(mode, "default") || !strcmp(mode, "bridge"))
		return NETWORK_DEFAULT_NAME;
	return strncmp(mode, "container:", 10) ? mode : NULL;
}

static json_t *networks_json(struct cli_ctx *ctx, const struct ctr_net *n, const char *mode)
{
	json_t *networks = json_object();
	const char *name = network_of_mode(mode);

	if (n && (n->ip || !n->n_extra))
		json_object_set_new(networks, n->network[0] ? n->network : NETWORK_DEFAULT_NAME,
				    endpoint_json(n->ip, n->gateway, n->prefix, n->network_id));
	for (size_t i = 0; n && i < n->n_extra; i++) {
		const struct ctr_endpoint *e = &n->extra[i];

		json_object_set_new(networks, e->network,
				    endpoint_json(e->ip, e->gateway, e->prefix, e->network_id));
	}
	if (!n && name) {
		struct net_def def = { 0 };
		struct sk_err ignored = { 0 };
		bool special = !strcmp(name, "host") || !strcmp(name, "none") ||
			       !strcmp(name, "slirp4netns");

		if (!special && network_find(ctx->store.root_fd, name, &def, &ignored) < 0)
			def.id[0] = '\0';
		json_object_set_new(networks, name, endpoint_json(0, 0, 0, def.id));
	}
	return networks;
}

/* docker's NetworkSettings: the default bridge's address at the top level
 * while it runs (a user network's only under its name), the ports, and each
 * network (by the mode it was started with when it does not run). */
static json_t *network_settings_json(struct cli_ctx *ctx, const struct ctr_config *c,
				     const struct ctr_state *st, const struct ctr_net *n)
{
	bool top = n && n->ip && (!n->network[0] || !strcmp(n->network, NETWORK_DEFAULT_NAME));
	char ip[16] = "", gw[16] = "", mac[18] = "", sandbox[64] = "";
	json_t *o = json_object();

	if (top) {
		ipam_format_ip(n->ip, ip);
		ipam_format_ip(n->gateway, gw);
		mac_of(n->ip, mac);
	}
	/* the container's network namespace, for nsenter --net= */
	if (st->status == CTR_RUNNING && st->pid > 0)
		snprintf(sandbox, sizeof(sandbox), "/proc/%d/ns/net", (int)st->pid);
	put(o, "Bridge", str(""));
	put(o, "SandboxID", str(""));
	put(o, "HairpinMode", json_false());
	put(o, "LinkLocalIPv6Address", str(""));
	put(o, "LinkLocalIPv6PrefixLen", json_integer(0));
	put(o, "Ports", ports_json(n, &c->docker.exposed_ports));
	put(o, "SandboxKey", str(sandbox));
	put(o, "SecondaryIPAddresses", NULL);
	put(o, "SecondaryIPv6Addresses", NULL);
	put(o, "EndpointID", str(""));
	put(o, "Gateway", str(gw));
	put(o, "GlobalIPv6Address", str(""));
	put(o, "GlobalIPv6PrefixLen", json_integer(0));
	put(o, "IPAddress", str(ip));
	put(o, "IPPrefixLen", json_integer(top ? n->prefix : 0));
	put(o, "IPv6Gateway", str(""));
	put(o, "MacAddress", str(mac));
	put(o, "Networks", networks_json(ctx, n, network_mode(c)));
	return o;
}

/* --- containers ------------------------------------------------------------------ */

struct container_view {
	struct ctr_config c;
	struct ctr_state st;
	struct ctr_net *net;	     /* NULL unless it runs with a network record */
	struct image_config image;   /* its image's config, when readable */
	bool have_image;
	json_t *volumes;	     /* its mounts' record (volume_plan_inspect), or NULL */
};

/* object with key inserted before the key `before` (docker's field order). */
static json_t *insert_before(json_t *object, const char *before, const char *key, json_t *value)
{
	json_t *out = json_object(), *v;
	const char *k;

	json_object_foreach (object, k, v) {
		if (!strcmp(k, before))
			json_object_set(out, key, value);
		json_object_set(out, k, v);
	}
	if (!json_object_get(out, key))
		json_object_set(out, key, value);
	json_decref(object);
	return out;
}

/* What the mounts' record says: Mounts, Config.Volumes, HostConfig.Mounts
 * and HostConfig.VolumesFrom. */
static void put_volumes(json_t *o, json_t *rec)
{
	json_t *host = json_object_get(o, "HostConfig"), *mounts = json_object_get(rec, "HostMounts");

	put(o, "Mounts", json_incref(json_object_get(rec, "Mounts")));
	put(json_object_get(o, "Config"), "Volumes", json_incref(json_object_get(rec, "Volumes")));
	put(host, "VolumesFrom", json_incref(json_object_get(rec, "VolumesFrom")));
	if (json_is_array(mounts))
		put(o, "HostConfig", insert_before(json_incref(host), "MaskedPaths", "Mounts", mounts));
}

static json_t *container_json(struct cli_ctx *ctx, const struct container_view *v, bool sizes)
{
	const struct ctr_config *c = &v->c;
	char dir[sizeof(ctx->store.root) + CTR_ID_LEN + 32], name[CTR_NAME_MAX + 1];
	char path[sizeof(dir) + 80];
	const struct image_config *img = v->have_image ? &v->image : NULL;
	json_t *o = json_object();

	snprintf(dir, sizeof(dir), "%s/" CTR_DIR "/%s", ctx->store.root, c->id);
	snprintf(name, sizeof(name), "/%s", c->name);
	put(o, "Id", str(c->id));
	put(o, "Created", time_json(c->created));
	put(o, "Path", str(c->args.n ? c->args.v[0] : ""));
	put(o, "Args", strv_array(&c->args, 1));
	put(o, "State", state_json(&v->st));
	put(o, "Image", str(c->image_id));
	put(o, "ResolvConfPath", json_sprintf("%s/resolv.conf", dir));
	put(o, "HostnamePath", json_sprintf("%s/hostname", dir));
	put(o, "HostsPath", json_sprintf("%s/hosts", dir));
	snprintf(path, sizeof(path), "%s/" CTR_LOG_FILE, dir);
	put(o, "LogPath", str(c->detached && strcmp(log_driver(c), "none") ? path : ""));
	put(o, "Name", str(c->name[0] ? name : ""));
	put(o, "RestartCount", json_integer(v->st.restart_count));
	put(o, "Driver", str(storage_driver(ctx)));
	put(o, "Platform", str("linux"));
	put(o, "MountLabel", str(""));
	put(o, "ProcessLabel", str(""));
	put(o, "AppArmorProfile", str(""));
	put(o, "ExecIDs", NULL);
	put(o, "HostConfig", host_config_json(c));
	put(o, "GraphDriver", container_graph_driver(ctx, dir, img));
	if (sizes)
		put_sizes(o, ctx, c->id, img);
	put(o, "Mounts", mounts_json(&c->docker.binds));
	put(o, "Config", config_json(c));
	put(o, "NetworkSettings", network_settings_json(ctx, c, &v->st, v->net));
	if (v->volumes)
		put_volumes(o, v->volumes);
	return o;
}

static void push_all(struct strv *v, char *const *from)
{
	struct sk_err ignored = { 0 };

	for (char *const *p = from; p && *p; p++)
		strv_push(v, *p, &ignored);
}

/* A record from before the docker view was kept: what its image says
 * (docker's view of a container run without -l, -p, -w or --stop-signal,
 * which that skiff did not have or kept elsewhere). */
static void legacy_docker_view(struct ctr_config *c, const struct image_config *img)
{
	struct ctr_docker *d = &c->docker;

	push_all(&d->labels, img->labels);
	push_all(&d->exposed_ports, img->exposed_ports);
	d->stop_signal = img->stop_signal ? strdup(img->stop_signal) : NULL;
	d->workdir = img->working_dir && *img->working_dir ? strdup(img->working_dir) : NULL;
}

/* Its image's config (kept while a container records the image, even
 * after `rmi -f`), for the layers and the image's size. */
static bool read_image_config(struct cli_ctx *ctx, const char *image_id,
			      struct image_config *cfg)
{
	struct store_image img = { 0 };
	struct sk_err ignored = { 0 };

	if (!image_id)
		return false;
	snprintf(img.config_digest, sizeof(img.config_digest), "%s", image_id);
	return store_image_config(&ctx->store, &img, cfg, &ignored) == 0;
}

/* The container named ref as JSON; NULL with err (errnum ENOENT when absent). */
static json_t *find_container(struct cli_ctx *ctx, const char *ref, bool sizes, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1;
	struct container_view v = { 0 };
	struct sk_err ignored = { 0 };
	json_t *out;

	if (ctr_resolve(&ctx->store, ref, id, err) < 0 ||
	    (dirfd = ctr_open_dir(&ctx->store, id, err)) < 0)
		return NULL;
	if (ctr_config_read(dirfd, &v.c, err) < 0)
		return NULL;
	if (ctr_state_load(dirfd, &v.st, err) < 0) {
		ctr_config_release(&v.c);
		return NULL;
	}
	v.net = calloc(1, sizeof(*v.net));
	if (v.net && (v.st.status != CTR_RUNNING || ctr_net_read(dirfd, v.net, &ignored) <= 0)) {
		free(v.net);
		v.net = NULL;
	}
	v.have_image = read_image_config(ctx, v.c.image_id, &v.image);
	v.volumes = volume_plan_inspect(dirfd);
	if (!v.c.has_docker && v.have_image)
		legacy_docker_view(&v.c, &v.image);
	out = container_json(ctx, &v, sizes);
	if (v.have_image)
		image_config_release(&v.image);
	free(v.net);
	json_decref(v.volumes);
	ctr_config_release(&v.c);
	if (!out)
		err_set(err, ENOMEM, "cannot build inspect output for '%s'", ref);
	return out;
}

static json_t *find_image(struct cli_ctx *ctx, const char *ref, struct sk_err *err)
{
	cleanup_free struct store_image *list = NULL;
	struct store_image img;
	size_t n = 0;

	if (store_image_lookup(&ctx->store, ref, &img, err) < 0)
		return NULL;
	if (store_refs_list(&ctx->store, &list, &n, err) < 0)
		return NULL;
	return image_json(ctx, &img, list, n, err);
}

/* --- the command ------------------------------------------------------------- */

enum inspect_type { TYPE_ANY, TYPE_CONTAINER, TYPE_IMAGE, TYPE_NETWORK, TYPE_VOLUME };

static const char *const type_names[] = {
	[TYPE_ANY] = "object",	 [TYPE_CONTAINER] = "container", [TYPE_IMAGE] = "image",
	[TYPE_NETWORK] = "network", [TYPE_VOLUME] = "volume",
};

static json_t *volume_inspect_json(struct cli_ctx *ctx, const char *ref, struct sk_err *err)
{
	struct volume_info info;
	json_t *o;

	if (volume_get(&ctx->store, ref, &info, err) < 0)
		return NULL;
	o = volume_info_json(&info);
	volume_info_release(&info);
	return o;
}

/* One lookup; NULL with errnum ENOENT when there is no such object. */
static json_t *find_as(struct cli_ctx *ctx, const char *ref, enum inspect_type type, bool sizes,
		       struct sk_err *err)
{
	switch (type) {
	case TYPE_CONTAINER: return find_container(ctx, ref, sizes, err);
	case TYPE_IMAGE: return find_image(ctx, ref, err);
	case TYPE_NETWORK: return network_inspect_json(ctx, ref, err);
	default: return volume_inspect_json(ctx, ref, err);
	}
}

/* docker's order without --type: container, image, network, volume. *found
 * gets the type of what was found. */
static json_t *find_object(struct cli_ctx *ctx, const char *ref, enum inspect_type type,
			   bool sizes, enum inspect_type *found, struct sk_err *err)
{
	for (enum inspect_type t = TYPE_CONTAINER; t <= TYPE_VOLUME; t++) {
		json_t *obj;

		if (type != TYPE_ANY && type != t)
			continue;
		err_clear(err);
		obj = find_as(ctx, ref, t, sizes, err);
		*found = t;
		if (obj || err->errnum != ENOENT)
			return obj;
	}
	err_clear(err);
	err_set(err, 0, "No such %s: %s", type_names[type], ref);
	err->errnum = ENOENT;
	return NULL;
}

/* docker's -f runs on its Go structs before their JSON: a field written only
 * when set (omitempty) is there for a template all the same, empty. The
 * template sees those too, so that {{.Config.StopSignal}} prints "" rather
 * than failing on a missing key; the JSON printed without -f keeps docker's
 * keys. (A Go nil prints "<no value>" here, "<nil>" or "[]" in docker.) */
enum zero_kind { ZERO_NULL, ZERO_STRING, ZERO_FALSE };
static const struct {
	enum inspect_type type;
	const char *section; /* NULL: the top level */
	const char *key;
	enum zero_kind zero;
} omitted_fields[] = {
	{ TYPE_CONTAINER, NULL, "SizeRw", ZERO_NULL },
	{ TYPE_CONTAINER, NULL, "SizeRootFs", ZERO_NULL },
	{ TYPE_CONTAINER, "HostConfig", "StorageOpt", ZERO_NULL },
	{ TYPE_CONTAINER, "HostConfig", "Tmpfs", ZERO_NULL },
	{ TYPE_CONTAINER, "HostConfig", "Sysctls", ZERO_NULL },
	{ TYPE_CONTAINER, "HostConfig", "Mounts", ZERO_NULL },
	{ TYPE_CONTAINER, "HostConfig", "Init", ZERO_NULL },
	{ TYPE_IMAGE, NULL, "Variant", ZERO_STRING },
	{ TYPE_IMAGE, NULL, "OsVersion", ZERO_STRING },
};
/* the same in each container.Config: a container's Config, an image's
 * Config and ContainerConfig */
static const struct {
	const char *key;
	enum zero_kind zero;
} omitted_config_fields[] = {
	{ "ExposedPorts", ZERO_NULL },	   { "Healthcheck", ZERO_NULL },
	{ "ArgsEscaped", ZERO_FALSE },	   { "NetworkDisabled", ZERO_FALSE },
	{ "MacAddress", ZERO_STRING },	   { "StopSignal", ZERO_STRING },
	{ "StopTimeout", ZERO_NULL },	   { "Shell", ZERO_NULL },
};

static void add_zero(json_t *o, const char *key, enum zero_kind zero)
{
	json_t *v = zero == ZERO_STRING	 ? json_string("")
		    : zero == ZERO_FALSE ? json_false()
					 : NULL;

	if (json_is_object(o) && !json_object_get(o, key))
		put(o, key, v);
	else
		json_decref(v);
}

static void add_omitted_fields(json_t *obj, enum inspect_type type)
{
	static const char *const configs[] = { "Config", "ContainerConfig" };

	for (size_t i = 0; i < ARRAY_SIZE(omitted_fields); i++)
		if (omitted_fields[i].type == type)
			add_zero(omitted_fields[i].section
					 ? json_object_get(obj, omitted_fields[i].section)
					 : obj,
				 omitted_fields[i].key, omitted_fields[i].zero);
	if (type != TYPE_CONTAINER && type != TYPE_IMAGE)
		return;
	for (size_t c = 0; c < ARRAY_SIZE(configs); c++)
		for (size_t i = 0; i < ARRAY_SIZE(omitted_config_fields); i++)
			add_zero(json_object_get(obj, configs[c]), omitted_config_fields[i].key,
				 omitted_config_fields[i].zero);
}

static int print_formatted(json_t *obj, enum inspect_type type, const char *format,
			   struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(64u << 20);

	add_omitted_fields(obj, type);
	if (gotemplate_render(format, obj, &out, err) < 0 || buf_append(&out, "\n", 1) < 0)
		return -1;
	fwrite(out.data, 1, out.len, stdout);
	return 0;
}

static int parse_type(const char *v, enum inspect_type *type, struct sk_err *err)
{
	for (size_t t = TYPE_CONTAINER; t < ARRAY_SIZE(type_names); t++)
		if (!strcmp(v, type_names[t])) {
			*type = (enum inspect_type)t;
			return 0;
		}
	if (v[0])
		return cli_usage_error(err, "inspect", "\"%s\" is not a valid value for --type", v);
	*type = TYPE_ANY;
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
	bool sizes = false;
	json_t *all;
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+f:sh", opts)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 's')
			sizes = true;
		else if (c == 'h')
			return fputs(inspect_usage, stdout), 0;
		else if (c == 't' && parse_type(optarg, &type, err) < 0)
			return -1;
		else if (c != 't')
			return cli_usage_error(err, "inspect", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error(err, "inspect", "\"skiff inspect\" requires at least 1 argument");
	all = json_array();
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };
		enum inspect_type found = TYPE_ANY;
		json_t *obj = find_object(ctx, argv[i], type, sizes, &found, &one);

		if (obj && format && print_formatted(obj, found, format, &one) < 0) {
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
	.summary = "Return low-level information on containers, images and networks",
	.usage = inspect_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_inspect,
};

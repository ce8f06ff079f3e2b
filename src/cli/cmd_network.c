/*
 * skiff network: docker's management command for networks (net/network.h).
 * create, ls, inspect, rm and prune; a container joins one at `run
 * --network NAME`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/bridge.h"
#include "net/network.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/gotemplate.h"

static const char network_usage[] =
	"Usage:  skiff network COMMAND\n\n"
	"Manage networks\n\n"
	"Commands:\n"
	"  connect     connect a running container to a network\n"
	"  create      create a network\n"
	"  disconnect  disconnect a running container from a network\n"
	"  inspect     display detailed information on one or more networks\n"
	"  ls          list networks\n"
	"  prune       remove all unused networks\n"
	"  rm          remove one or more networks\n";

static const char create_usage[] =
	"Usage:  skiff network create [OPTIONS] NETWORK\n\n"
	"Create a network (a Linux bridge with NAT, its own subnet and a resolver\n"
	"for its containers' names)\n\n"
	"Options:\n"
	"  -d, --driver string     driver to manage the network (only \"bridge\")\n"
	"      --gateway string    IPv4 gateway for the subnet\n"
	"      --internal          restrict external access to the network\n"
	"      --ip-range string   allocate container addresses from a sub-range\n"
	"      --label list        set metadata on a network (KEY=VALUE)\n"
	"      --subnet string     subnet in CIDR format (default: the next free one\n"
	"                          of \"default-address-pools\", docker's by default)\n";

/* "YYYY-MM-DDTHH:MM:SSZ" */
static void format_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int labels_add(json_t *labels, const char *kv, struct sk_err *err)
{
	const char *eq = strchr(kv, '=');
	char key[256];

	if (eq == kv)
		return cli_usage_error(err, "network create", "invalid label '%s'", kv);
	snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - kv) : (int)strlen(kv), kv);
	json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
	return 0;
}

static int network_create_cmd(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' },   { "gateway", required_argument, NULL, 'g' },
		{ "internal", no_argument, NULL, 'i' },	      { "ip-range", required_argument, NULL, 'r' },
		{ "label", required_argument, NULL, 'l' },    { "subnet", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },	      { 0 },
	};
	struct network_create_opts o = { .pools = ctx->cfg.address_pools,
					 .n_pools = ctx->cfg.n_address_pools };
	json_t *labels = json_object();
	cleanup_free char *labels_text = NULL;
	struct net_def def;
	int c, ret = -1;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+d:h", opts)) != -1) {
		switch (c) {
		case 'd':
			if (strcmp(optarg, "bridge") != 0) {
				cli_usage_error(err, "network create", "plugin \"%s\" not found "
								       "(skiff has the bridge driver only)",
						optarg);
				goto out;
			}
			break;
		case 'g': o.gateway = optarg; break;
		case 'i': o.internal = true; break;
		case 'r': o.ip_range = optarg; break;
		case 's':
			if (o.subnet) {
				cli_usage_error(err, "network create", "one --subnet per network");
				goto out;
			}
			o.subnet = optarg;
			break;
		case 'l':
			if (labels_add(labels, optarg, err) < 0)
				goto out;
			break;
		case 'h': fputs(create_usage, stdout); ret = 0; goto out;
		case ':':
			cli_usage_error(err, "network create", "flag needs an argument: %s",
					argv[optind - 1]);
			goto out;
		default:
			cli_usage_error(err, "network create", "unknown flag: %s", argv[optind - 1]);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		cli_usage_error(err, "network create",
				"\"skiff network create\" requires exactly 1 argument");
		goto out;
	}
	o.name = argv[optind];
	labels_text = json_dumps(labels, JSON_COMPACT);
	o.labels_json = labels_text;
	if (network_create(ctx->store.root_fd, &o, &def, err) < 0)
		goto out;
	printf("%s\n", def.id);
	ret = 0;
out:
	json_decref(labels);
	return ret;
}

static json_t *ls_row(const struct net_def *d, const char *driver, bool no_trunc)
{
	char created[32], id[NETWORK_ID_LEN + 1];

	format_time(d->created, created);
	snprintf(id, sizeof(id), "%.*s", no_trunc ? NETWORK_ID_LEN : 12, d->id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Name", d->name,
			 "Driver", driver,
			 "Scope", "local", "IPv6", "false", "Internal", d->internal ? "true" : "false",
			 "Labels", "", "CreatedAt", d->created ? created : "");
}

static int network_ls(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },	     { "no-trunc", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_free struct net_def *v = NULL;
	struct net_def all[3];
	cleanup_buf struct buf out = BUF_INIT(1 << 24);
	const char *format = "";
	bool quiet = false, no_trunc = false;
	json_t *rows, *header;
	size_t n = 0;
	int c, ret;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+qh", opts)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == 'n')
			no_trunc = true;
		else if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return fputs("Usage:  skiff network ls [-q] [--no-trunc] [--format TEMPLATE]\n",
				     stdout),
			       0;
		else
			return cli_usage_error(err, "network ls", "unknown flag: %s", argv[optind - 1]);
	}
	if (network_list(ctx->store.root_fd, &v, &n, err) < 0)
		return -1;
	/* docker lists bridge, host and none too; host and none have no record */
	network_default(&all[0]);
	memset(&all[1], 0, sizeof(all[1]) * 2);
	snprintf(all[1].name, sizeof(all[1].name), "host");
	snprintf(all[2].name, sizeof(all[2].name), "none");
	rows = json_array();
	for (size_t i = 0; i < 3 + n; i++) {
		const struct net_def *d = i < 3 ? &all[i] : &v[i - 3];
		/* host and none have no id here: -q has nothing to print for them */
		if (quiet && !d->id[0])
			continue;
		json_array_append_new(rows, ls_row(d, i == 1 ? "host" : i == 2 ? "null" : "bridge",
						   no_trunc));
	}
	if (quiet)
		format = "{{.ID}}";
	header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "NETWORK ID", "Name",
			   "NAME", "Driver", "DRIVER", "Scope", "SCOPE", "IPv6", "IPV6", "Internal",
			   "INTERNAL", "Labels", "LABELS", "CreatedAt", "CREATED AT");
	ret = gotemplate_format_list(format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
				     header, rows, &out, err);
	json_decref(header);
	json_decref(rows);
	if (ret == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	return ret;
}

struct members {
	struct cli_ctx *ctx;
	json_t *containers;
	uint32_t prefix;
	size_t live;
};

/* One lease: a container of this store that may run. */
static int add_member(const struct ipam_lease_entry *e, void *arg)
{
	struct members *m = arg;
	const char *at = strchr(e->holder, '@');
	struct sk_err err = { 0 };
	struct ctr_config cfg = { 0 };
	char id[CTR_ID_LEN + 1], ip[16], addr[24], mac[18];
	cleanup_close int dirfd = -1;

	if (!at || at - e->holder != CTR_ID_LEN || strcmp(at + 1, m->ctx->store.root) != 0 ||
	    !container_lease_alive(e->holder, NULL))
		return 0;
	m->live++;
	snprintf(id, sizeof(id), "%.*s", CTR_ID_LEN, e->holder);
	dirfd = ctr_open_dir(&m->ctx->store, id, &err);
	if (dirfd >= 0)
		ctr_config_read(dirfd, &cfg, &err);
	ipam_format_ip(e->ip, ip);
	snprintf(addr, sizeof(addr), "%s/%u", ip, m->prefix);
	snprintf(mac, sizeof(mac), "02:42:%02x:%02x:%02x:%02x", e->ip >> 24, (e->ip >> 16) & 255,
		 (e->ip >> 8) & 255, e->ip & 255);
	json_object_set_new(m->containers, id,
			    json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", cfg.name, "EndpointID", "",
				      "MacAddress", mac, "IPv4Address", addr, "IPv6Address", ""));
	ctr_config_release(&cfg);
	return 0;
}

static json_t *network_json(struct cli_ctx *ctx, const struct net_def *d)
{
	struct members m = { ctx, json_object(), (uint32_t)d->net.prefix, 0 };
	struct sk_err err = { 0 };
	char created[32], subnet[24], ip[16], gw[16], range[24], leases[IFNAMSIZ + 16];
	json_t *config = json_object(), *labels = json_loads(d->labels_json, 0, NULL);
	cleanup_close int run = open(BRIDGE_RUN_DIR "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	format_time(d->created, created);
	if (d->net.prefix) {
		ipam_format_ip(d->net.subnet, ip);
		snprintf(subnet, sizeof(subnet), "%s/%d", ip, d->net.prefix);
		ipam_format_ip(d->net.gateway, gw);
		json_object_set_new(config, "Subnet", json_string(subnet));
		json_object_set_new(config, "Gateway", json_string(gw));
	}
	if (d->range_first) {
		int p = 32;

		while (p > 0 && ((d->range_last - d->range_first) >> (32 - p)) != 0)
			p--;
		ipam_format_ip(d->range_first, ip);
		snprintf(range, sizeof(range), "%s/%d", ip, p);
		json_object_set_new(config, "IPRange", json_string(range));
	}
	network_leases_name(d, leases, sizeof(leases));
	if (run >= 0)
		ipam_for_each_lease(run, leases, add_member, &m, &err);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[o]}, s:b, s:b, s:b, "
			 "s:{s:s}, s:b, s:o, s:{s:s}, s:o}",
			 "Name", d->name, "Id", d->id, "Created", created, "Scope", "local",
			 "Driver", "bridge", "EnableIPv6", 0, "IPAM", "Driver", "default", "Options",
			 "Config", config, "Internal", d->internal, "Attachable", 0, "Ingress", 0,
			 "ConfigFrom", "Network", "", "ConfigOnly", 0, "Containers", m.containers,
			 "Options", "com.docker.network.bridge.name", d->bridge, "Labels",
			 labels ? labels : json_object());
}

static int find_with_subnet(struct cli_ctx *ctx, const char *name, struct net_def *d,
			    struct sk_err *err)
{
	if (network_find(ctx->store.root_fd, name, d, err) < 0)
		return -1;
	if (d->is_default) {
		/* the bridge's own address, when skiff0 is there */
		struct ipam_net net;

		if (bridge_default_net(&net) == 0)
			d->net = net;
	}
	return 0;
}

json_t *network_inspect_json(struct cli_ctx *ctx, const char *name, struct sk_err *err)
{
	struct net_def d;

	if (find_with_subnet(ctx, name, &d, err) < 0)
		return NULL;
	return network_json(ctx, &d);
}

static int network_inspect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	json_t *all = json_array();
	cleanup_free char *text = NULL;
	int status = 0;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs("Usage:  skiff network inspect NETWORK [NETWORK...]\n", stdout), 0;
	if (argc < 2) {
		json_decref(all);
		return cli_usage_error(err, "network inspect",
				       "\"skiff network inspect\" requires at least 1 argument");
	}
	for (int i = 1; i < argc; i++) {
		struct net_def d;

		if (argv[i][0] == '-') {
			json_decref(all);
			return cli_usage_error(err, "network inspect", "unknown flag: %s", argv[i]);
		}
		if (find_with_subnet(ctx, argv[i], &d, err) < 0) {
			fprintf(stderr, "skiff: %s\n", err->msg);
			err_clear(err);
			status = 1;
			continue;
		}
		json_array_append_new(all, network_json(ctx, &d));
	}
	text = json_dumps(all, JSON_INDENT(4));
	json_decref(all);
	if (text)
		printf("%s\n", text);
	return status;
}

static int network_rm(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	int status = 0;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs("Usage:  skiff network rm NETWORK [NETWORK...]\n", stdout), 0;
	if (argc < 2)
		return cli_usage_error(err, "network rm",
				       "\"skiff network rm\" requires at least 1 argument");
	for (int i = 1; i < argc; i++) {
		struct net_def d;

		if (argv[i][0] == '-' && strcmp(argv[i], "-f") && strcmp(argv[i], "--force"))
			return cli_usage_error(err, "network rm", "unknown flag: %s", argv[i]);
		if (argv[i][0] == '-')
			continue;
		if (network_find(ctx->store.root_fd, argv[i], &d, err) < 0 ||
		    network_remove(ctx->store.root_fd, &d, container_lease_alive, NULL, err) < 0) {
			fprintf(stderr, "skiff: %s\n", err->msg);
			err_clear(err);
			status = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return status;
}

static int network_prune(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	cleanup_free struct net_def *v = NULL;
	bool force = false, any = false;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
			force = true;
		else
			return cli_usage_error(err, "network prune", "unknown flag: %s", argv[i]);
	}
	if (!force && !cli_confirm("WARNING! This will remove all custom networks not used by at "
				   "least one container."))
		return 0;
	if (network_list(ctx->store.root_fd, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (network_remove(ctx->store.root_fd, &v[i], container_lease_alive, NULL, err) < 0) {
			err_clear(err); /* in use: kept */
			continue;
		}
		if (!any)
			printf("Deleted Networks:\n");
		any = true;
		printf("%s\n", v[i].name);
	}
	return 0;
}

static int network_connect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "alias", required_argument, NULL, 'a' },
		{ "ip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bridge_opts o = { ctx->cfg.bip, ctx->cfg.address_pools, ctx->cfg.n_address_pools,
				 ctx->cfg.mtu };
	struct strv aliases = { 0 };
	const char *ip = NULL;
	int c, ret = -1;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'a') {
			if (!network_name_ok(optarg)) {
				cli_usage_error(err, "network connect", "invalid network alias \"%s\"",
						optarg);
				goto out;
			}
			if (strv_push(&aliases, optarg, err) < 0)
				goto out;
		} else if (c == 'i') {
			ip = optarg;
		} else if (c == 'h') {
			fputs("Usage:  skiff network connect [--alias A] [--ip IP] NETWORK "
			      "CONTAINER\n",
			      stdout);
			ret = 0;
			goto out;
		} else {
			cli_usage_error(err, "network connect", "unknown flag: %s", argv[optind - 1]);
			goto out;
		}
	}
	if (optind + 2 != argc) {
		cli_usage_error(err, "network connect",
				"\"skiff network connect\" requires exactly 2 arguments");
		goto out;
	}
	ret = container_net_connect(&ctx->store, argv[optind + 1], argv[optind], &aliases, ip, &o,
				    err);
out:
	strv_release(&aliases);
	return ret;
}

static int network_disconnect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	int first = 1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs("Usage:  skiff network disconnect [-f] NETWORK CONTAINER\n", stdout), 0;
	if (argc > 1 && (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--force")))
		first = 2;
	if (argc - first != 2)
		return cli_usage_error(err, "network disconnect",
				       "\"skiff network disconnect\" requires exactly 2 arguments");
	return container_net_disconnect(&ctx->store, argv[first + 1], argv[first], err);
}

static int exec_network(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli_ctx *, int, char **, struct sk_err *);
	} subs[] = {
		{ "create", network_create_cmd }, { "ls", network_ls },	     { "list", network_ls },
		{ "inspect", network_inspect },	  { "rm", network_rm },	     { "remove", network_rm },
		{ "prune", network_prune },	  { "connect", network_connect },
		{ "disconnect", network_disconnect },
	};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(network_usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(ctx, argc - 1, argv + 1, err);
	return cli_usage_error(err, "network", "unknown command \"%s\" for \"skiff network\"",
			       argv[1]);
}

const struct command cmd_network = {
	.name = "network",
	.summary = "Manage networks (create, ls, inspect, rm, prune)",
	.usage = network_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_network,
};

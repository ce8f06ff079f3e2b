/*
 * Network records (network.h).
 */
#include "net/network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/bridge.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/sha256.h"

#define NETWORK_FILE_MAX (64 << 10)

/* docker's words without strerror's after them; errnum still says why. */
#define quiet_err(err, code, ...) (err_set((err), 0, __VA_ARGS__), (err)->errnum = (code), -1)
#define NETWORKS_MAX 4096

bool network_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NETWORK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

void network_default(struct net_def *out)
{
	char digest[DIGEST_STR_MAX];

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), NETWORK_DEFAULT_NAME);
	snprintf(out->bridge, sizeof(out->bridge), NETWORK_DEFAULT_BRIDGE);
	/* docker's is random per daemon; a hash of the name is as stable as
	 * the bridge itself */
	sha256_digest("skiff network " NETWORK_DEFAULT_NAME,
		      strlen("skiff network " NETWORK_DEFAULT_NAME), digest);
	snprintf(out->id, sizeof(out->id), "%s", digest_hex(digest));
	out->is_default = true;
	snprintf(out->labels_json, sizeof(out->labels_json), "{}");
}

void network_leases_name(const struct net_def *def, char *out, size_t len)
{
	snprintf(out, len, "%s.leases", def->bridge);
}

/* --- records --------------------------------------------------------------- */

static int ip_of(json_t *doc, const char *key, uint32_t *ip)
{
	const char *s = json_string_value(json_object_get(doc, key));

	*ip = 0;
	return !s || !*s ? 0 : ipam_parse_ip(s, ip);
}

static int parse_record(const char *text, size_t len, struct net_def *out)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	const char *name = json_string_value(json_object_get(doc, "Name"));
	const char *id = json_string_value(json_object_get(doc, "Id"));
	const char *subnet = json_string_value(json_object_get(doc, "Subnet"));
	json_t *labels = json_object_get(doc, "Labels");
	struct sk_err err = { 0 };
	char *ltext = NULL;
	uint32_t ip;
	int prefix, ret = -1;

	memset(out, 0, sizeof(*out));
	if (!name || !id || !subnet || !network_name_ok(name) || strlen(id) != NETWORK_ID_LEN ||
	    ipam_parse_cidr(subnet, &ip, &prefix, &err) < 0)
		goto out;
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->bridge, sizeof(out->bridge), "sk-%.12s", id);
	out->net.subnet = ip & (0xffffffffu << (32 - prefix));
	out->net.prefix = prefix;
	if (ip_of(doc, "Gateway", &out->net.gateway) < 0 || ip_of(doc, "RangeFirst", &out->range_first) < 0 ||
	    ip_of(doc, "RangeLast", &out->range_last) < 0)
		goto out;
	if (!out->net.gateway)
		out->net.gateway = out->net.subnet + 1;
	out->internal = json_is_true(json_object_get(doc, "Internal"));
	out->created = (time_t)json_integer_value(json_object_get(doc, "Created"));
	ltext = json_is_object(labels) ? json_dumps(labels, JSON_COMPACT) : NULL;
	snprintf(out->labels_json, sizeof(out->labels_json), "%s",
		 ltext && strlen(ltext) < sizeof(out->labels_json) ? ltext : "{}");
	ret = 0;
out:
	free(ltext);
	json_decref(doc);
	return ret;
}

static int read_record(int dirfd, const char *file, struct net_def *out, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(NETWORK_FILE_MAX);

	if (fs_read_file(dirfd, file, NETWORK_FILE_MAX, &b, err) < 0)
		return -1;
	if (parse_record(b.data ? b.data : "", b.len, out) < 0)
		return err_set(err, 0, "invalid network record '%s/%s'", NETWORK_DIR, file);
	return 0;
}

static int write_record(int dirfd, const struct net_def *d, const char *ip_range,
			struct sk_err *err)
{
	char subnet[24], ip[16], gw[16], first[16], last[16];
	json_t *labels = json_loads(d->labels_json, 0, NULL);
	json_t *doc;
	cleanup_free char *text = NULL;
	char file[NETWORK_ID_LEN + 8];

	ipam_format_ip(d->net.subnet, ip);
	snprintf(subnet, sizeof(subnet), "%s/%d", ip, d->net.prefix);
	ipam_format_ip(d->net.gateway, gw);
	ipam_format_ip(d->range_first, first);
	ipam_format_ip(d->range_last, last);
	doc = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "Name", d->name,
			"Id", d->id, "Created", (json_int_t)d->created, "Driver", "bridge", "Subnet",
			subnet, "Gateway", gw, "IPRange", ip_range ? ip_range : "", "RangeFirst",
			d->range_first ? first : "", "RangeLast", d->range_last ? last : "",
			"Internal", d->internal, "Labels", labels ? labels : json_object());
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return err_set(err, ENOMEM, "cannot record network '%s'", d->name);
	snprintf(file, sizeof(file), "%s.json", d->id);
	return fs_write_atomic(dirfd, file, text, strlen(text), 0600, err);
}

static int open_dir(int store_fd, bool create, struct sk_err *err)
{
	int fd;

	if (create && mkdirat(store_fd, NETWORK_DIR, 0700) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create '%s'", NETWORK_DIR);
	fd = openat(store_fd, NETWORK_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && (create || errno != ENOENT))
		return err_set(err, errno, "cannot open '%s'", NETWORK_DIR);
	return fd;
}

static int by_created(const void *a, const void *b)
{
	const struct net_def *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

int network_list(int store_fd, struct net_def **out, size_t *n, struct sk_err *err)
{
	cleanup_close int dirfd = open_dir(store_fd, false, err);
	struct net_def *v = NULL;
	size_t cap = 0;
	DIR *d;
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (dirfd < 0)
		return err->errnum || errno != ENOENT ? (err->errnum ? -1 : 0) : 0;
	d = fdopendir(dup(dirfd));
	if (!d)
		return err_set(err, errno, "cannot list '%s'", NETWORK_DIR);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		struct sk_err ignored = { 0 };

		if (len != NETWORK_ID_LEN + 5 || strcmp(e->d_name + NETWORK_ID_LEN, ".json") != 0)
			continue; /* "." "..", temporary files of a writer */
		if (*n == cap) {
			struct net_def *nv;

			cap = cap ? cap * 2 : 8;
			nv = cap > NETWORKS_MAX ? NULL : realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return err_set(err, ENOMEM, "cannot list the networks");
			}
			v = nv;
		}
		/* a broken record hides one network, not all */
		if (read_record(dirfd, e->d_name, &v[*n], &ignored) == 0)
			(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), by_created);
	*out = v;
	return 0;
}

int network_find(int store_fd, const char *name, struct net_def *out, struct sk_err *err)
{
	cleanup_free struct net_def *v = NULL;
	size_t n = 0, prefix_matches = 0, len = strlen(name);
	const struct net_def *match = NULL;

	if (!strcmp(name, NETWORK_DEFAULT_NAME) || !strcmp(name, "default")) {
		network_default(out);
		return 0;
	}
	if (network_list(store_fd, &v, &n, err) < 0)
		return -1;
	/* docker: a full name first, then a full id, then an id prefix */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name) || !strcmp(v[i].id, name)) {
			*out = v[i];
			return 0;
		}
	for (size_t i = 0; i < n && len > 0; i++)
		if (!strncmp(v[i].id, name, len)) {
			match = &v[i];
			prefix_matches++;
		}
	if (prefix_matches == 1) {
		*out = *match;
		return 0;
	}
	if (prefix_matches > 1)
		return quiet_err(err, EINVAL, "network %s is ambiguous (%zu matches found based on ID "
					    "prefix)", name, prefix_matches);
	return quiet_err(err, ENOENT, "network %s not found", name);
}

/* --- create ---------------------------------------------------------------- */

#define MAX_ROUTES 1024

struct taken {
	struct ipam_route v[MAX_ROUTES + NETWORKS_MAX + 1];
	size_t n;
};

static int collect_route(const struct nl_prefix *p, void *ctx, struct sk_err *err)
{
	struct taken *t = ctx;

	if (t->n >= MAX_ROUTES || p->addr.family != AF_INET || p->table != RT_TABLE_MAIN)
		return 0;
	t->v[t->n].dst = ntohl(p->addr.v4.s_addr);
	t->v[t->n].prefix = (int)p->prefixlen;
	t->n++;
	return 0;
}

/* What a new network must not overlap: the host's routes (the bridges of
 * networks in use among them), every network of the store, and the default
 * bridge's docker subnet while skiff0 does not exist (it takes 172.17 first). */
static int taken_subnets(const struct net_def *nets, size_t n, struct taken *t, struct sk_err *err)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct nl_link br;

	if (nl_open(&s, err) < 0 || nl_for_each_route(s, AF_INET, collect_route, t, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		t->v[t->n].dst = nets[i].net.subnet;
		t->v[t->n].prefix = nets[i].net.prefix;
		t->n++;
	}
	if (nl_link_get(s, NETWORK_DEFAULT_BRIDGE, &br, err) < 0) {
		err_clear(err);
		t->v[t->n].dst = ipam_default_pools[0].base;
		t->v[t->n].prefix = ipam_default_pools[0].size;
		t->n++;
	}
	return 0;
}

static int parse_range(const char *range, struct net_def *d, struct sk_err *err)
{
	uint32_t ip;
	int prefix;

	if (ipam_parse_cidr(range, &ip, &prefix, err) < 0)
		return err_wrap(err, "invalid --ip-range");
	if (prefix < d->net.prefix || !ipam_overlaps(ip, prefix, d->net.subnet, d->net.prefix))
		return err_set(err, 0, "invalid --ip-range %s: it is not within the subnet", range);
	d->range_first = ip & (0xffffffffu << (32 - prefix));
	d->range_last = d->range_first | (0xffffffffu >> prefix);
	return 0;
}

static int define(const struct network_create_opts *o, const struct net_def *nets, size_t n,
		  struct net_def *d, struct sk_err *err)
{
	struct taken *t = calloc(1, sizeof(*t));
	char digest[DIGEST_STR_MAX];
	unsigned char rnd[32];
	int ret = -1;

	if (!t)
		return err_set(err, ENOMEM, "cannot create network %s", o->name);
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", o->name);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		err_set(err, errno, "cannot make a network id");
		goto out;
	}
	sha256_digest(rnd, sizeof(rnd), digest);
	snprintf(d->id, sizeof(d->id), "%s", digest_hex(digest));
	snprintf(d->bridge, sizeof(d->bridge), "sk-%.12s", d->id);
	d->internal = o->internal;
	d->created = time(NULL);
	snprintf(d->labels_json, sizeof(d->labels_json), "%s", o->labels_json ? o->labels_json : "{}");
	if (taken_subnets(nets, n, t, err) < 0)
		goto out;
	if (o->subnet) {
		uint32_t ip;
		int prefix;

		if (ipam_parse_cidr(o->subnet, &ip, &prefix, err) < 0)
			goto out;
		d->net.subnet = ip & (0xffffffffu << (32 - prefix));
		d->net.prefix = prefix;
		d->net.gateway = d->net.subnet + 1;
		for (size_t i = 0; i < t->n; i++)
			if (t->v[i].prefix > 0 &&
			    ipam_overlaps(d->net.subnet, prefix, t->v[i].dst, t->v[i].prefix)) {
				err_set(err, 0, "invalid pool request: Pool overlaps with other one on "
						"this address space (%s overlaps a route of the host or "
						"another network)", o->subnet);
				goto out;
			}
	} else if (o->gateway || o->ip_range) {
		err_set(err, 0, "--gateway and --ip-range need --subnet");
		goto out;
	} else if (ipam_pick_from_pools(t->v, t->n, o->pools, o->n_pools, &d->net, err) < 0) {
		goto out;
	}
	if (o->gateway) {
		uint32_t gw;

		if (ipam_parse_ip(o->gateway, &gw) < 0 ||
		    !ipam_overlaps(gw, 32, d->net.subnet, d->net.prefix) || gw == d->net.subnet ||
		    gw == (d->net.subnet | (0xffffffffu >> d->net.prefix))) {
			err_set(err, 0, "invalid gateway %s: not a host address of subnet %s",
				o->gateway, o->subnet);
			goto out;
		}
		d->net.gateway = gw;
	}
	if (o->ip_range && parse_range(o->ip_range, d, err) < 0)
		goto out;
	ret = 0;
out:
	free(t);
	return ret;
}

int network_create(int store_fd, const struct network_create_opts *o, struct net_def *out,
		   struct sk_err *err)
{
	cleanup_close int dirfd = -1;
	cleanup_free struct net_def *nets = NULL;
	size_t n = 0;

	if (!network_name_ok(o->name))
		return err_set(err, 0, "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
				       "are allowed", o->name);
	if (!strcmp(o->name, NETWORK_DEFAULT_NAME) || !strcmp(o->name, "host") ||
	    !strcmp(o->name, "none") || !strcmp(o->name, "default"))
		return err_set(err, 0, "%s is a pre-defined network and cannot be created", o->name);
	if (geteuid() != 0)
		return quiet_err(err, EPERM, "bridge networks need root (rootless containers use "
					   "--network none or host)");
	dirfd = open_dir(store_fd, true, err);
	if (dirfd < 0)
		return -1;
	/* one create or rm at a time: names and subnets are checked against
	 * every record, then this one is written */
	while (flock(dirfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_set(err, errno, "cannot lock '%s'", NETWORK_DIR);
	if (network_list(store_fd, &nets, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(nets[i].name, o->name))
			return quiet_err(err, EEXIST, "network with name %s already exists", o->name);
	if (define(o, nets, n, out, err) < 0)
		return -1;
	if (bridge_ensure(out, 0, err) < 0) {
		bridge_destroy(out);
		return -1;
	}
	if (write_record(dirfd, out, o->ip_range, err) < 0) {
		bridge_destroy(out);
		return -1;
	}
	return 0;
}

struct in_use {
	network_alive_fn alive;
	void *ctx;
	char holder[128];
};

static int live_lease(const struct ipam_lease_entry *e, void *arg)
{
	struct in_use *u = arg;

	if (!u->alive(e->holder, u->ctx))
		return 0;
	snprintf(u->holder, sizeof(u->holder), "%.12s", e->holder);
	return 1;
}

int network_remove(int store_fd, const struct net_def *def, network_alive_fn alive, void *ctx,
		   struct sk_err *err)
{
	cleanup_close int dirfd = -1;
	cleanup_close int run = -1;
	struct in_use u = { alive, ctx, "" };
	char leases[IFNAMSIZ + 16], file[NETWORK_ID_LEN + 8];
	int busy;

	if (def->is_default)
		return quiet_err(err, EPERM, "%s is a pre-defined network and cannot be removed",
			       def->name);
	dirfd = open_dir(store_fd, true, err);
	if (dirfd < 0)
		return -1;
	while (flock(dirfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_set(err, errno, "cannot lock '%s'", NETWORK_DIR);
	network_leases_name(def, leases, sizeof(leases));
	run = open(BRIDGE_RUN_DIR "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	busy = run < 0 ? 0 : ipam_for_each_lease(run, leases, live_lease, &u, err);
	if (busy < 0)
		return -1;
	if (busy > 0)
		return quiet_err(err, EBUSY, "error while removing network: network %s id %s has "
					   "active endpoints (container %s)",
			       def->name, def->id, u.holder);
	snprintf(file, sizeof(file), "%s.json", def->id);
	if (unlinkat(dirfd, file, 0) < 0 && errno != ENOENT)
		return err_set(err, errno, "cannot remove network %s", def->name);
	bridge_destroy(def);
	if (run >= 0)
		unlinkat(run, leases, 0);
	bridge_remove_orphans();
	return 0;
}

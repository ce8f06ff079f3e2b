/*
 * Bridge networks (bridge.h).
 *
 * The default network has no record: when skiff0 exists with an IPv4
 * address, that address and prefix are the network (so a subnet chosen once
 * stays while the bridge lives); otherwise a subnet that clashes with no
 * route of the host is picked (ipam.c) and the bridge made with it. A user
 * network's subnet is its record's (network.c).
 */
#include "net/bridge.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/conntrack.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "net/portguard.h"
#include "net/resolver.h"
#include "util/cleanup.h"
#include "util/log.h"

#define MAX_ROUTES 1024

struct routes {
	struct ipam_route v[MAX_ROUTES];
	size_t n;
	int bridge_index;
	uint32_t bridge_ip; /* the bridge's own address, when it has one */
	int bridge_prefix;
};

static int collect_route(const struct nl_prefix *p, void *ctx, struct sk_err *err)
{
	struct routes *r = ctx;

	/* The bridge's own subnet is not a clash: it is the network. */
	if (p->ifindex == r->bridge_index || r->n == MAX_ROUTES || p->addr.family != AF_INET ||
	    p->table != RT_TABLE_MAIN)
		return 0;
	r->v[r->n].dst = ntohl(p->addr.v4.s_addr);
	r->v[r->n].prefix = p->prefixlen;
	r->n++;
	return 0;
}

static int find_bridge_addr(const struct nl_prefix *p, void *ctx, struct sk_err *err)
{
	struct routes *r = ctx;

	if (p->ifindex == r->bridge_index && p->addr.family == AF_INET && !r->bridge_ip) {
		r->bridge_ip = ntohl(p->addr.v4.s_addr);
		r->bridge_prefix = p->prefixlen;
	}
	return 0;
}

static void to_nl_ip(uint32_t ip, struct nl_ip *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->v4.s_addr = htonl(ip);
}

/* A port published on every address answers on the host's 127.0.0.1 too,
 * as docker's proxy makes it: DNAT from loopback to the bridge needs
 * route_localnet there, which lets martian 127.0.0.0/8 packets through
 * (CVE-2020-8558): nft's guard drops those first, as kube-proxy does. */
static int allow_loopback_dnat(struct nft *nft, const char *bridge, struct sk_err *err)
{
	cleanup_close int fd = -1;
	char path[96], v = '0';

	if (nft_guard_localnet_at(nft, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || read(fd, &v, 1) != 1)
		return err_set(err, errno, "cannot read route_localnet of %s", bridge);
	if (v != '1' && pwrite(fd, "1\n", 2, 0) != 2)
		return err_set(err, errno, "cannot set route_localnet of %s", bridge);
	return 0;
}

static int enable_forwarding(struct sk_err *err)
{
	cleanup_close int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
	char v = '0';

	if (fd < 0 || read(fd, &v, 1) != 1)
		return err_set(err, errno, "cannot read net.ipv4.ip_forward");
	if (v == '1')
		return 0;
	/* docker switches it on too: containers' traffic is routed. */
	if (pwrite(fd, "1\n", 2, 0) != 2)
		return err_set(err, errno, "cannot switch on net.ipv4.ip_forward");
	return 0;
}

static unsigned uplink_mtu(struct nl_sock *s, struct sk_err *err)
{
	struct nl_link uplink;
	int have = nl_default_route(s, AF_INET, &uplink, err);

	if (have < 0)
		return 0;
	return have && uplink.mtu ? uplink.mtu : 1500;
}

/* The default network: the bridge's address, or a free subnet for a new
 * bridge. */
static int default_network(struct nl_sock *s, const struct bridge_opts *o, struct ipam_net *net,
			   struct sk_err *err)
{
	struct routes r = { .bridge_index = -1 }; /* 8 kB */
	struct nl_link br;

	if (nl_link_get(s, NETWORK_DEFAULT_BRIDGE, &br, err) == 0) {
		r.bridge_index = br.index;
		if (nl_for_each_addr(s, AF_INET, find_bridge_addr, &r, err) < 0)
			return -1;
	}
	err_clear(err);
	if (r.bridge_ip) {
		net->subnet = r.bridge_ip & (0xffffffffu << (32 - r.bridge_prefix));
		net->prefix = r.bridge_prefix;
		net->gateway = r.bridge_ip;
		return 0;
	}
	if (nl_for_each_route(s, AF_INET, collect_route, &r, err) < 0)
		return -1;
	return ipam_pick_subnet(r.v, r.n, o ? o->bip : NULL, o ? o->pools : NULL,
				o ? o->n_pools : 0, net, err);
}

static int bridge_up(struct nl_sock *s, const struct net_def *def, unsigned mtu,
		     struct sk_err *err)
{
	struct nl_ip gw;

	struct nl_link br;

	to_nl_ip(def->net.gateway, &gw);
	if (nl_bridge_create(s, def->bridge, mtu, err) < 0 ||
	    nl_addr_add(s, def->bridge, &gw, (unsigned)def->net.prefix, err) < 0 ||
	    nl_link_set_up(s, def->bridge, err) < 0)
		return -1;
	/* a bridge made before daemon.json's "mtu" changed keeps its MTU: the
	 * host would still send to containers in segments of the old size */
	if (nl_link_get(s, def->bridge, &br, err) < 0)
		return -1;
	if (br.mtu != mtu && nl_link_set_mtu(s, def->bridge, mtu, err) < 0)
		return -1;
	return 0;
}

/* The bridge is the host's, whatever store a container comes from, so its
 * leases are too: under /run, which goes with a reboot as containers do. */
static int open_net_dir(bool create, struct sk_err *err)
{
	int fd;

	if (create && ((mkdir(BRIDGE_RUN_DIR, 0700) < 0 && errno != EEXIST) ||
		       (mkdir(BRIDGE_RUN_DIR "/net", 0700) < 0 && errno != EEXIST)))
		return err_set(err, errno, "cannot create '%s/net'", BRIDGE_RUN_DIR);
	fd = open(BRIDGE_RUN_DIR "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "cannot open '%s/net'", BRIDGE_RUN_DIR);
	return fd;
}

/* The bridge, forwarding and the rules, through nft (kept open by the
 * caller: see nft.h "Cost"). */
static int network_up(struct nl_sock *s, const struct net_def *def, unsigned mtu, struct nft *nft,
		      struct sk_err *err)
{
	struct nft_net n = { def->bridge, def->net.subnet, def->net.prefix, def->net.gateway,
			     def->internal };

	if (bridge_up(s, def, mtu, err) < 0 || enable_forwarding(err) < 0 ||
	    nft_setup_net_at(nft, &n, err) < 0)
		return -1;
	/* an internal network publishes nothing, so it needs no 127.0.0.1 */
	if (!def->internal && allow_loopback_dnat(nft, def->bridge, err) < 0)
		return -1;
	return 0;
}

int bridge_ensure(const struct net_def *def, unsigned mtu, struct sk_err *err)
{
	cleanup_nl struct nl_sock *s = NULL;
	cleanup_nft struct nft *nft = NULL;

	if (nl_open(&s, err) < 0 || nft_open(&nft, err) < 0)
		return err_wrap(err, "network %s", def->name);
	if (!mtu)
		mtu = uplink_mtu(s, err);
	if (!mtu || network_up(s, def, mtu, nft, err) < 0)
		return err_wrap(err, "network %s", def->name);
	return 0;
}

void bridge_destroy(const struct net_def *def)
{
	struct sk_err err = { 0 };
	cleanup_nl struct nl_sock *s = NULL;

	resolver_stop(def);
	if (nft_teardown(def->bridge, &err) < 0)
		log_debug("bridge: %s", err.msg);
	err_clear(&err);
	if (nl_open(&s, &err) < 0 || nl_link_delete(s, def->bridge, &err) < 0)
		log_debug("bridge: %s", err.msg);
}

int bridge_prepare(const struct net_def *def, const char *holder, const struct ipam_request *req,
		   const struct bridge_opts *o, bridge_alive_fn alive, void *ctx,
		   struct bridge_lease *out, struct sk_err *err)
{
	cleanup_nl struct nl_sock *s = NULL;
	cleanup_close int dir = -1;
	char leases[IFNAMSIZ + 16];

	out->def = *def;
	if (geteuid() != 0)
		return err_set(err, 0, "the bridge network needs root (rootless containers use "
				       "--network none or host)");
	if (nl_open(&s, err) < 0)
		return err_wrap(err, "network %s", def->name);
	out->mtu = o && o->mtu ? o->mtu : uplink_mtu(s, err);
	if (!out->mtu || (def->is_default && default_network(s, o, &out->def.net, err) < 0))
		return err_wrap(err, "network %s", def->name);
	if (nft_open(&out->nft, err) < 0 || network_up(s, &out->def, out->mtu, out->nft, err) < 0)
		return err_wrap(err, "network %s", def->name);
	dir = open_net_dir(true, err);
	network_leases_name(def, leases, sizeof(leases));
	if (dir < 0 ||
	    ipam_lease(dir, leases, &out->def.net, holder, req, alive, ctx, &out->ip, err) < 0)
		return err_wrap(err, "network %s", def->name);
	/* docker's default bridge has no name resolution; user networks do */
	if (!def->is_default && resolver_ensure(&out->def, dir, err) < 0)
		return err_wrap(err, "network %s", def->name);
	return 0;
}

/* Closing a socket through which a change went waits for a grace period:
 * such a one goes to a grandchild (nft.h "Cost"). */
static void bridge_close_nft(struct nft *nft)
{
	if (nft_changed(nft))
		nft_close_later(nft);
	else
		nft_close(nft);
}

/* The published ports (none: no ruleset change, see portguard.h). */
static int publish(struct bridge_lease *l, const char *id, struct port_map *ports, size_t n,
		   struct sk_err *err)
{
	struct nft *nft = l->nft;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (ports_choose_host_port(&ports[i], err) < 0)
			return -1;
	l->nft = NULL;
	if (n == 0) {
		bridge_close_nft(nft);
		return 0;
	}
	/* A monitor's restart has no socket from a prepare any more. */
	if (!nft && nft_open(&nft, err) < 0)
		return -1;
	ret = nft_publish_at(nft, id, l->ip, ports, n, err);
	nft_close_later(nft); /* not the 10-15 ms a close after a change waits */
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct sk_err ignored = { 0 };

		if (ports[i].proto == PORT_UDP &&
		    conntrack_forget_port(IPPROTO_UDP, ports[i].host_port, &ignored) < 0)
			log_debug("bridge: %s", ignored.msg);
	}
	return ret;
}

/* "vsk" + 12 hex digits of the id for eth0, + 8 and 4 of the network's id
 * for the others: unique while the container lives. */
static void veth_name(const char *id, const struct net_def *def, const char *ifname,
		      char out[IFNAMSIZ])
{
	if (!strcmp(ifname, "eth0"))
		snprintf(out, IFNAMSIZ, "vsk%.12s", id);
	else
		snprintf(out, IFNAMSIZ, "vsk%.8s%.4s", id, def->id);
}

int bridge_attach(struct bridge_lease *l, const char *id, pid_t pid, const char *ifname,
		  struct port_map *ports, size_t n_ports, struct sk_err *err)
{
	cleanup_nl struct nl_sock *host = NULL;
	cleanup_nl struct nl_sock *ctr = NULL;
	cleanup_close int netns = -1;
	char path[64], veth[IFNAMSIZ];
	struct nl_ip ip, gw;
	unsigned char mac[6];
	int made;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	netns = open(path, O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return err_set(err, errno, "cannot open the container's network namespace");
	veth_name(id, &l->def, ifname, veth);
	to_nl_ip(l->ip, &ip);
	to_nl_ip(l->def.net.gateway, &gw);
	/* docker's MAC, 02:42 and the address: a container that gets an address
	 * back gets its MAC too, so neighbours' ARP caches (the host's first)
	 * stay right; a new MAC for an old address was unreachable until the
	 * host's entry for it went stale, tens of seconds. */
	mac[0] = 0x02;
	mac[1] = 0x42;
	mac[2] = (unsigned char)(l->ip >> 24);
	mac[3] = (unsigned char)(l->ip >> 16);
	mac[4] = (unsigned char)(l->ip >> 8);
	mac[5] = (unsigned char)l->ip;
	if (nl_open(&host, err) < 0)
		return err_wrap(err, "cannot connect the container to network %s", l->def.name);
	/* The same container's previous veth: the kernel removes it with the
	 * old network namespace, asynchronously, so a quick restart may meet it. */
	made = nl_veth_create(host, veth, ifname, netns, l->mtu, err);
	if (made < 0 && err->errnum == EEXIST) {
		err_clear(err);
		made = nl_link_delete(host, veth, err);
		if (made == 0)
			made = nl_veth_create(host, veth, ifname, netns, l->mtu, err);
	}
	/* An entry the host kept for this address from an earlier container
	 * (another MAC before skiff used docker's) would make it unreachable. */
	if (made == 0)
		made = nl_neigh_forget(host, l->def.bridge, &ip, err);
	/* the port's guard before the port is up: `network connect` gives a
	 * running container a new one */
	if (made < 0 || nl_link_set_master(host, veth, l->def.bridge, err) < 0 ||
	    nl_bridge_port_hairpin(host, veth, true, err) < 0 ||
	    portguard_attach(host, veth, mac, l->ip, err) < 0)
		return err_wrap(err, "cannot connect the container to network %s", l->def.name);
	if (publish(l, id, ports, n_ports, err) < 0)
		return -1;
	if (nl_link_set_up(host, veth, err) < 0 || nl_open_netns(netns, &ctr, err) < 0 ||
	    nl_link_set_mac(ctr, ifname, mac, err) < 0 ||
	    nl_addr_add(ctr, ifname, &ip, (unsigned)l->def.net.prefix, err) < 0 ||
	    nl_link_set_up(ctr, ifname, err) < 0 ||
	    (!strcmp(ifname, "eth0") && nl_route_add_default(ctr, &gw, ifname, err) < 0))
		return err_wrap(err, "cannot connect the container to network %s", l->def.name);
	return 0;
}

void bridge_lease_release(struct bridge_lease *l)
{
	bridge_close_nft(l->nft);
	l->nft = NULL;
}

int bridge_detach(const struct net_def *def, const char *id, const char *ifname,
		  struct sk_err *err)
{
	cleanup_nl struct nl_sock *host = NULL;
	struct nft *nft = NULL;
	char veth[IFNAMSIZ];
	int ret;

	veth_name(id, def, ifname, veth);
	/* the veth first: no window without its guard while it is up */
	if (nl_open(&host, err) < 0 || nl_link_delete(host, veth, err) < 0)
		return err_wrap(err, "cannot disconnect the container from network %s", def->name);
	/* its guard went with it; eth0's published ports lead nowhere now */
	if (strcmp(ifname, "eth0") != 0)
		return 0;
	if (nft_open(&nft, err) < 0)
		return -1;
	ret = nft_unpublish_at(nft, id, err);
	bridge_close_nft(nft);
	return ret;
}

void bridge_release_lease(const struct net_def *def, const char *holder)
{
	struct sk_err err = { 0 };
	cleanup_close int dir = open_net_dir(false, &err);
	char leases[IFNAMSIZ + 16];

	network_leases_name(def, leases, sizeof(leases));
	if (dir >= 0 && ipam_release(dir, leases, holder, &err) < 0)
		log_debug("bridge: %s", err.msg);
}

struct held {
	const char *holder;
	uint32_t ips[16];
	size_t n;
};

static int held_by(const struct ipam_lease_entry *e, void *ctx)
{
	struct held *h = ctx;

	if (!strcmp(e->holder, h->holder) && h->n < sizeof(h->ips) / sizeof(h->ips[0]))
		h->ips[h->n++] = e->ip;
	return 0;
}

/* holder's lease in every network's lease file: a container may have been
 * on several, and a dead owner's record may not say which. With forget, the
 * conntrack entries of its addresses go too (its published ports' flows). */
static void release_leases(int dir, const char *holder, bool forget)
{
	struct sk_err err = { 0 };
	cleanup_closedir DIR *d = fdopendir(dup(dir));
	struct held h = { holder, { 0 }, 0 };
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n <= 7 || strcmp(e->d_name + n - 7, ".leases") != 0)
			continue;
		if (forget)
			ipam_for_each_lease(dir, e->d_name, held_by, &h, &err);
		err_clear(&err);
		if (ipam_release(dir, e->d_name, holder, &err) < 0)
			log_debug("bridge: %s", err.msg);
		err_clear(&err);
	}
	for (size_t i = 0; i < h.n; i++)
		if (conntrack_forget(h.ips[i], &err) < 0)
			log_debug("bridge: %s", err.msg);
}

void bridge_release(const char *id, const char *holder, bool published)
{
	struct sk_err err = { 0 };
	cleanup_close int dir = open_net_dir(false, &err);
	struct nft *nft = NULL;

	if (dir < 0)
		return; /* no network was used on this host since boot */
	if (nft_open(&nft, &err) < 0 || nft_unpublish_at(nft, id, &err) < 0)
		log_debug("bridge: %s", err.msg);
	bridge_close_nft(nft); /* nothing changed unless it published ports */
	release_leases(dir, holder, published);
}

struct gc_ctx {
	bridge_alive_fn alive;
	void *ctx;
};

static int unpublish_if_gone(const char *id, void *arg, struct sk_err *err)
{
	struct gc_ctx *g = arg;

	if (!g->alive(id, g->ctx) && nft_unpublish_container(id, err) < 0)
		log_debug("bridge: %s", err->msg);
	err_clear(err);
	return 0;
}

void bridge_gc(bridge_alive_fn alive, void *ctx)
{
	struct gc_ctx g = { alive, ctx };
	struct sk_err err = { 0 };
	struct stat st;

	/* Nothing to do on a host where the bridge was not used since boot. */
	if (stat(BRIDGE_RUN_DIR "/net", &st) < 0)
		return;
	if (nft_list_containers(unpublish_if_gone, &g, &err) < 0)
		log_debug("bridge: %s", err.msg);
	bridge_remove_orphans();
}

void bridge_remove_orphans(void)
{
	struct sk_err err = { 0 };
	struct nft *nft = NULL;
	struct stat st;

	if (stat(BRIDGE_RUN_DIR "/net", &st) < 0)
		return;
	if (nft_open(&nft, &err) < 0 || nft_remove_orphans_at(nft, &err) < 0)
		log_debug("bridge: %s", err.msg);
	nft_close_later(nft);
}

int bridge_default_net(struct ipam_net *out)
{
	struct sk_err err = { 0 };
	cleanup_nl struct nl_sock *s = NULL;
	struct routes *r = calloc(1, sizeof(*r));
	struct nl_link br;
	int ret = -1;

	if (!r)
		return -1;
	r->bridge_index = -1;
	if (nl_open(&s, &err) == 0 && nl_link_get(s, NETWORK_DEFAULT_BRIDGE, &br, &err) == 0) {
		r->bridge_index = br.index;
		if (nl_for_each_addr(s, AF_INET, find_bridge_addr, r, &err) == 0 && r->bridge_ip) {
			out->subnet = r->bridge_ip & (0xffffffffu << (32 - r->bridge_prefix));
			out->prefix = r->bridge_prefix;
			out->gateway = r->bridge_ip;
			ret = 0;
		}
	}
	free(r);
	return ret;
}

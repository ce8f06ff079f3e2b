/*
 * The default bridge network (bridge.h).
 *
 * The bridge's address is the network's record: when skiff0 exists with an
 * IPv4 address, that address and prefix are the network (so a subnet chosen
 * once stays while the bridge lives); otherwise a subnet that clashes with
 * no route of the host is picked (ipam.c) and the bridge made with it.
 */
#include "net/bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/nft.h"
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
static int allow_loopback_dnat(struct nft *nft, struct sk_err *err)
{
	cleanup_close int fd = -1;
	char v = '0';

	if (nft_guard_localnet_at(nft, err) < 0)
		return -1;
	fd = open("/proc/sys/net/ipv4/conf/" BRIDGE_NAME "/route_localnet", O_RDWR | O_CLOEXEC);
	if (fd < 0 || read(fd, &v, 1) != 1)
		return err_set(err, errno, "cannot read route_localnet of " BRIDGE_NAME);
	if (v != '1' && pwrite(fd, "1\n", 2, 0) != 2)
		return err_set(err, errno, "cannot set route_localnet of " BRIDGE_NAME);
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

/* The network: the bridge's address, or a free subnet for a new bridge. */
static int network_of(struct nl_sock *s, const char *bip, struct ipam_net *net, unsigned *mtu,
		      struct sk_err *err)
{
	struct routes r = { .bridge_index = -1 }; /* 8 kB */
	struct nl_link uplink, br;
	int have_uplink;

	have_uplink = nl_default_route(s, AF_INET, &uplink, err);
	if (have_uplink < 0)
		return -1;
	*mtu = have_uplink && uplink.mtu ? uplink.mtu : 1500;
	if (nl_link_get(s, BRIDGE_NAME, &br, err) == 0) {
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
	return ipam_pick_subnet(r.v, r.n, bip, net, err);
}

static int bridge_up(struct nl_sock *s, const struct ipam_net *net, unsigned mtu,
		     struct sk_err *err)
{
	struct nl_ip gw;

	to_nl_ip(net->gateway, &gw);
	if (nl_bridge_create(s, BRIDGE_NAME, mtu, err) < 0 ||
	    nl_addr_add(s, BRIDGE_NAME, &gw, (unsigned)net->prefix, err) < 0 ||
	    nl_link_set_up(s, BRIDGE_NAME, err) < 0)
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

int bridge_prepare(const char *holder, const char *bip, unsigned mtu, bridge_alive_fn alive,
		   void *ctx, struct bridge_lease *out, struct sk_err *err)
{
	cleanup_nl struct nl_sock *s = NULL;
	cleanup_close int dir = -1;

	if (geteuid() != 0)
		return err_set(err, 0, "the bridge network needs root (rootless containers use "
				       "--network none or host)");
	if (nl_open(&s, err) < 0 || network_of(s, bip, &out->net, &out->mtu, err) < 0)
		return err_wrap(err, "bridge network");
	if (mtu)
		out->mtu = mtu;
	if (bridge_up(s, &out->net, out->mtu, err) < 0)
		return err_wrap(err, "bridge network");
	if (enable_forwarding(err) < 0 || nft_open(&out->nft, err) < 0 ||
	    nft_setup_at(out->nft, BRIDGE_NAME, out->net.subnet, out->net.prefix, err) < 0 ||
	    allow_loopback_dnat(out->nft, err) < 0)
		return err_wrap(err, "bridge network");
	dir = open_net_dir(true, err);
	if (dir < 0 ||
	    ipam_lease(dir, BRIDGE_LEASES, &out->net, holder, alive, ctx, &out->ip, err) < 0)
		return err_wrap(err, "bridge network");
	return 0;
}

/* A free port for a `-p CONTAINERPORT` (docker: from the ephemeral range). */
static int ephemeral_port(const struct port_map *m, uint16_t *port, struct sk_err *err)
{
	cleanup_close int fd = socket(AF_INET, (m->proto == PORT_UDP ? SOCK_DGRAM : SOCK_STREAM) |
							SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(m->host_ip) };
	socklen_t len = sizeof(a);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return err_set(err, errno, "cannot find a free host port");
	*port = ntohs(a.sin_port);
	return 0;
}

/* A host port a program of the host listens on would never see its
 * traffic again: refuse it, as docker's proxy does by failing to bind. */
static int check_port_free(const struct port_map *m, struct sk_err *err)
{
	cleanup_close int fd = socket(AF_INET, (m->proto == PORT_UDP ? SOCK_DGRAM : SOCK_STREAM) |
							SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(m->host_ip),
				 .sin_port = htons(m->host_port) };
	char ip[16];

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return 0;
	ipam_format_ip(m->host_ip, ip);
	return err_set(err, errno, "bind for %s:%u/%s failed: port is already allocated", ip,
		       (unsigned)m->host_port, ports_proto_name(m->proto));
}

static int publish(struct bridge_lease *l, const char *id, struct port_map *ports, size_t n,
		   struct sk_err *err)
{
	struct nft *nft = l->nft;
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (ports[i].host_port == 0 && ephemeral_port(&ports[i], &ports[i].host_port, err) < 0)
			return -1;
		if (check_port_free(&ports[i], err) < 0)
			return -1;
	}
	l->nft = NULL;
	if (n == 0) {
		nft_close(nft); /* nothing changed */
		return 0;
	}
	/* A monitor's restart has no socket from a prepare any more. */
	if (!nft && nft_open(&nft, err) < 0)
		return -1;
	ret = nft_publish_at(nft, id, l->ip, ports, n, err);
	nft_close_later(nft); /* not the 10-15 ms a close after a change waits */
	return ret;
}

int bridge_attach(struct bridge_lease *l, const char *id, pid_t pid, struct port_map *ports,
		  size_t n_ports, struct sk_err *err)
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
	/* "vsk" + 12 hex digits of the id: unique while the container lives. */
	snprintf(veth, sizeof(veth), "vsk%.12s", id);
	to_nl_ip(l->ip, &ip);
	to_nl_ip(l->net.gateway, &gw);
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
		return err_wrap(err, "cannot connect the container to the bridge network");
	/* The same container's previous veth: the kernel removes it with the
	 * old network namespace, asynchronously, so a quick restart may meet it. */
	made = nl_veth_create(host, veth, "eth0", netns, l->mtu, err);
	if (made < 0 && err->errnum == EEXIST) {
		err_clear(err);
		made = nl_link_delete(host, veth, err);
		if (made == 0)
			made = nl_veth_create(host, veth, "eth0", netns, l->mtu, err);
	}
	/* An entry the host kept for this address from an earlier container
	 * (another MAC before skiff used docker's) would make it unreachable. */
	if (made == 0)
		made = nl_neigh_forget(host, BRIDGE_NAME, &ip, err);
	if (made < 0 || nl_link_set_master(host, veth, BRIDGE_NAME, err) < 0 ||
	    nl_bridge_port_hairpin(host, veth, true, err) < 0 ||
	    nl_link_set_up(host, veth, err) < 0 || nl_open_netns(netns, &ctr, err) < 0 ||
	    nl_link_set_mac(ctr, "eth0", mac, err) < 0 ||
	    nl_addr_add(ctr, "eth0", &ip, (unsigned)l->net.prefix, err) < 0 ||
	    nl_link_set_up(ctr, "eth0", err) < 0 || nl_route_add_default(ctr, &gw, "eth0", err) < 0)
		return err_wrap(err, "cannot connect the container to the bridge network");
	if (publish(l, id, ports, n_ports, err) < 0)
		return -1;
	return 0;
}

void bridge_lease_release(struct bridge_lease *l)
{
	nft_close(l->nft);
	l->nft = NULL;
}

void bridge_release(const char *id, const char *holder, bool published)
{
	struct sk_err err = { 0 };
	cleanup_close int dir = open_net_dir(false, &err);
	struct nft *nft = NULL;

	if (dir < 0)
		return; /* the bridge was never used on this host since boot */
	if (nft_open(&nft, &err) < 0 || nft_unpublish_at(nft, id, &err) < 0)
		log_debug("bridge: %s", err.msg);
	if (published)
		nft_close_later(nft);
	else
		nft_close(nft); /* nothing changed: no wait */
	if (ipam_release(dir, BRIDGE_LEASES, holder, &err) < 0)
		log_debug("bridge: %s", err.msg);
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
}

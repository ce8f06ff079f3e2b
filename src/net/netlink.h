/*
 * rtnetlink through libmnl: the links, addresses and routes of the default
 * bridge network (issue 15), with no `ip` process on the run path.
 *
 * A socket acts in the network namespace it was opened in, whatever the
 * calling thread does later:
 *
 *   struct nl_sock *host = NULL, *ctr = NULL;
 *   nl_open(&host, err);                                  // skiff's namespace
 *   nl_default_route(host, AF_INET, &uplink, err);        // MTU for the veths
 *   nl_bridge_create(host, "skiff0", uplink.mtu, err);
 *   nl_addr_add(host, "skiff0", &gw, 16, err);  nl_link_set_up(host, "skiff0", err);
 *   nl_veth_create(host, "veth1a2b", "eth0", ctr_netns_fd, uplink.mtu, err);
 *   nl_link_set_master(host, "veth1a2b", "skiff0", err);  nl_link_set_up(host, "veth1a2b", err);
 *   nl_open_netns(ctr_netns_fd, &ctr, err);               // or nl_open() inside it
 *   nl_addr_add(ctr, "eth0", &ip, 16, err);
 *   nl_link_set_up(ctr, "lo", err);  nl_link_set_up(ctr, "eth0", err);
 *   nl_route_add_default(ctr, &gw, "eth0", err);          // after the address and up
 *   nl_close(ctr); nl_close(host);
 *
 * Every request asks for an acknowledgement and waits for it; a refusal
 * becomes err with the kernel's errno, its extended-ack text when it gave
 * one, and the operation and interface: "cannot bring 'eth9' up: No such
 * device". Replies are only taken from the kernel (sender port 0), for this
 * socket and this request's sequence number; every attribute read is
 * validated. After any failure that is not the kernel's refusal (a send or
 * receive error, a malformed reply) the socket refuses further use: close it
 * and open another.
 *
 * A socket is not thread-safe; use one per thread.
 */
#ifndef SKIFF_NET_NETLINK_H
#define SKIFF_NET_NETLINK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

struct nl_sock;

/* An IP address; family AF_INET or AF_INET6. Functions say which families
 * they take (AF_INET everywhere for now). */
struct nl_ip {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* What the kernel says of one link. */
struct nl_link {
	int index;
	char name[IFNAMSIZ];
	char kind[16];	/* IFLA_INFO_KIND: "bridge", "veth", ...; "" for hardware */
	unsigned flags; /* IFF_* */
	unsigned mtu;
	int master; /* index of the bridge it is a port of, 0 if none */
};

/* An entry of a route or address dump. */
struct nl_prefix {
	struct nl_ip addr;  /* route: the destination (0.0.0.0 for a default route);
			     * address: the interface's own address */
	unsigned prefixlen; /* route: the destination's; address: the subnet's */
	int ifindex;	    /* output interface, 0 when a route has none (blackhole) or
			     * several (multipath: the first next hop's is given) */
	uint32_t table;	    /* routes: RT_TABLE_MAIN, RT_TABLE_LOCAL, ...; addresses: 0 */
	unsigned char type; /* routes: RTN_UNICAST, RTN_LOCAL, ...; addresses: 0 */
};

/* Called for each entry of a dump: 0 goes on; a positive value stops the walk
 * and is returned by the dump; a negative one stops it with err filled by fn.
 * fn must not use the socket (the dump is still being read). */
typedef int (*nl_prefix_fn)(const struct nl_prefix *p, void *ctx, struct sk_err *err);

/* Open an rtnetlink socket in the calling thread's network namespace. */
int nl_open(struct nl_sock **out, struct sk_err *err);
/* Open one in the network namespace netns_fd (e.g. /proc/PID/ns/net): the
 * calling thread enters it for the socket() call only and returns to its own
 * (setns; needs CAP_SYS_ADMIN over both). */
int nl_open_netns(int netns_fd, struct nl_sock **out, struct sk_err *err);
/* NULL is fine. */
void nl_close(struct nl_sock *s);

static inline void nl_closep(struct nl_sock **s)
{
	nl_close(*s);
}
#define cleanup_nl __attribute__((cleanup(nl_closep)))

/* --- links ------------------------------------------------------------ */

/* Names are the kernel's: 1 to 15 bytes, no '/', ':' or white space, not "."
 * or "..". Functions that take one check it before asking the kernel. */

int nl_link_get(struct nl_sock *s, const char *name, struct nl_link *out, struct sk_err *err);
int nl_link_get_by_index(struct nl_sock *s, int index, struct nl_link *out, struct sk_err *err);
/* The index (> 0) of link name, or -1 with err (errnum ENODEV when there is
 * none: "cannot find network interface 'eth9': No such device"). */
int nl_link_index(struct nl_sock *s, const char *name, struct sk_err *err);
/* The MTU of link name in *mtu. */
int nl_link_mtu(struct nl_sock *s, const char *name, unsigned *mtu, struct sk_err *err);

/* Create bridge name, down, with that MTU (0: the kernel's default). A bridge
 * of that name that exists already is fine and kept as it is (MTU included);
 * any other link of that name is an error (errnum EEXIST). The kernel keeps a
 * bridge's MTU at the smallest of its ports' once it has any (the MTU given
 * here holds only while it has none): give its veths the same MTU. */
int nl_bridge_create(struct nl_sock *s, const char *name, unsigned mtu, struct sk_err *err);
/* Create a veth pair, both ends down, both with that MTU (0: the kernel's
 * default): host_name in this socket's namespace and peer_name created
 * directly in the network namespace peer_netns_fd (-1: this one too). Either
 * name taken is an error (EEXIST). */
int nl_veth_create(struct nl_sock *s, const char *host_name, const char *peer_name,
		   int peer_netns_fd, unsigned mtu, struct sk_err *err);
/* Make name a port of bridge master (NULL: of no bridge). */
int nl_link_set_master(struct nl_sock *s, const char *name, const char *master, struct sk_err *err);
int nl_link_set_up(struct nl_sock *s, const char *name, struct sk_err *err);
int nl_link_set_mtu(struct nl_sock *s, const char *name, unsigned mtu, struct sk_err *err);
/* A clsact qdisc on link name and, on its ingress, the BPF classifier
 * prog_fd in direct-action mode (its return value is the verdict:
 * TC_ACT_OK, TC_ACT_SHOT). Both go with the link. */
int nl_tc_ingress_bpf(struct nl_sock *s, const char *name, int prog_fd, const char *prog_name,
		      struct sk_err *err);
/* Drop the neighbour (ARP) entry of ip on ifname; none is fine. */
int nl_neigh_forget(struct nl_sock *s, const char *ifname, const struct nl_ip *ip,
		    struct sk_err *err);
/* The link's Ethernet address (set it while the link is down). */
int nl_link_set_mac(struct nl_sock *s, const char *name, const unsigned char mac[6],
		    struct sk_err *err);
/* Hairpin mode of a bridge port: frames may leave by the port they came in
 * by (a container reaching its own network's published port through the
 * host's address, with br_netfilter on). */
int nl_bridge_port_hairpin(struct nl_sock *s, const char *name, bool on, struct sk_err *err);
/* Rename link name to new_name (a link that is up can be renamed too). */
int nl_link_rename(struct nl_sock *s, const char *name, const char *new_name, struct sk_err *err);
/* Delete link name (for a veth, both ends). A link that is not there is fine. */
int nl_link_delete(struct nl_sock *s, const char *name, struct sk_err *err);

/* --- addresses and routes --------------------------------------------- */

/* Give link ifname the address addr/prefixlen (AF_INET only for now; with the
 * subnet's broadcast address below /31, as `ip addr add ... brd +`). That
 * address there already is fine. */
int nl_addr_add(struct nl_sock *s, const char *ifname, const struct nl_ip *addr, unsigned prefixlen,
		struct sk_err *err);
/* Add the default route of the main table via gateway gw out of ifname
 * (AF_INET only for now). ifname must be up and gw on one of its subnets. A
 * default route there already is an error (EEXIST), not kept silently: it
 * may lead somewhere else. */
int nl_route_add_default(struct nl_sock *s, const struct nl_ip *gw, const char *ifname,
			 struct sk_err *err);

/* The link that the default route of the main table leaves by (family
 * AF_INET or AF_INET6; of several, the one with the lowest metric): 1 and
 * *uplink filled, or 0 when there is no default route, or -1 with err. */
int nl_default_route(struct nl_sock *s, int family, struct nl_link *uplink, struct sk_err *err);
/* Every route of every table (family AF_INET or AF_INET6), for choosing a
 * subnet that clashes with nothing; see nl_prefix_fn for the return value. */
int nl_for_each_route(struct nl_sock *s, int family, nl_prefix_fn fn, void *ctx, struct sk_err *err);
/* Every address of every link (family AF_INET or AF_INET6). */
int nl_for_each_addr(struct nl_sock *s, int family, nl_prefix_fn fn, void *ctx, struct sk_err *err);

#endif

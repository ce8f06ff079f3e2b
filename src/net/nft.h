/*
 * nftables for skiff's networks (issue 15): outbound NAT, published ports and
 * the forward filter, through libnftnl messages sent in nfnetlink batches
 * over libmnl. No `nft` process; every change is one batch, which the kernel
 * applies whole or not at all.
 *
 * One table, `inet skiff`, is skiff's. Nothing here reads, flushes or
 * reorders another table. inet rather than ip: the forward filter then holds
 * for IPv6 too (new traffic into a bridge is dropped whatever the family),
 * and IPv6 NAT can join later without a second table; the kernel has had
 * inet NAT since 5.2, and the IPv4-only rules carry `meta nfproto ipv4` as
 * nft itself adds. The table's chains (nft's names for the priorities):
 *
 *   prerouting   nat    prerouting  dstnat   published ports, packets from outside
 *   output       nat    output      dstnat   published ports, the host's own connections
 *   postrouting  nat    postrouting srcnat   per network: masquerade
 *   forward      filter forward     filter   per network: what may enter its bridge
 *   input        filter input       filter   per network: what may reach the host
 *   guard        filter prerouting  raw      nft_guard_localnet() only
 *
 * Every rule carries a comment that says whose it is, so that any later skiff
 * process finds it (and deletes it by handle) after its maker died:
 *
 *   "net=BRIDGE SUBNET/PREFIX"                  a network's rules (nft_setup)
 *   "ctr=ID PROTO HOSTIP:HOSTPORT"              a published port (nft_publish)
 *   "guard"                                     the 127.0.0.0/8 guard
 *
 * Per network (`nft list table inet skiff` shows these):
 *
 *   postrouting: ip saddr SUBNET oifname != BRIDGE masquerade          outbound NAT
 *                oifname BRIDGE ip saddr SUBNET ct status dnat masquerade
 *                    (a container reaching a published port of its own
 *                    network: without it the answer would come straight from
 *                    the other container and not be un-NATed)
 *                oifname BRIDGE ip saddr 127.0.0.0/8 masquerade
 *                    (the host's connections to 127.0.0.1:PORT; see below)
 *   forward:     oifname BRIDGE ct state established,related accept
 *                oifname BRIDGE ct status dnat accept     published ports
 *                oifname BRIDGE iifname BRIDGE accept      within the network
 *                oifname BRIDGE drop                       nothing else enters
 *
 *   input:       ip daddr GATEWAY iifname "sk*" iifname != BRIDGE drop
 *                    (a network's gateway address answers its own bridge
 *                    only: its resolver, and host services bound to it, are
 *                    out of other networks' reach)
 *
 * An --internal network has no postrouting rules, and instead:
 *
 *   forward:     iifname BRIDGE oifname != BRIDGE drop          (first)
 *   input:       iifname BRIDGE ip daddr GATEWAY tcp dport 53 accept
 *                iifname BRIDGE ip daddr GATEWAY udp dport 53 accept
 *                iifname BRIDGE ct state established,related accept
 *                iifname BRIDGE drop
 *
 * (With br_netfilter, traffic between two ports of a bridge passes this chain
 * too, as iifname and oifname BRIDGE: hence the third rule.)
 *
 * Every forward rule names the bridge it protects, so the order of networks
 * in the chain does not matter and one network never opens another. Traffic
 * leaving a bridge meets no rule here (the chain's policy accepts it); a drop
 * in another table (a firewall's forward policy) still drops it. `ct status
 * dnat` accepts any DNAT'ed connection, skiff's or another table's: a
 * destination rewritten on this host is the host's decision.
 *
 * Per published port, for host_ip 0 (every address):
 *
 *   prerouting:  fib daddr type local ip daddr != 127.0.0.0/8 tcp dport HP dnat ip to CIP:CP
 *   output:      fib daddr type local tcp dport HP dnat ip to CIP:CP
 *
 * and with a host address, `ip daddr HOSTIP` in place of the fib match. A port
 * published on 127.0.0.0/8 gets the output rule only. Prerouting never
 * rewrites a destination in 127.0.0.0/8: packets to it that arrive from
 * outside are martians, and a DNAT there would let them in before the kernel's
 * martian check (CVE-2020-8558, moby#45610).
 *
 * 127.0.0.1 on the host (the caller's decision, not made here): the output
 * rules DNAT the host's own connections to 127.0.0.1:PORT too, and the
 * postrouting rule masquerades them, but the kernel refuses to route a packet
 * whose source is 127.0.0.1 out of a non-loopback device unless
 * net.ipv4.conf.BRIDGE.route_localnet=1. That sysctl also lets a container
 * reach the host's 127.0.0.1-only services through its gateway (the kernel
 * then accepts packets to 127.0.0.0/8 arriving on the bridge), so whoever
 * sets it must first call nft_guard_localnet(), which drops every packet to
 * 127.0.0.0/8 that arrives on an interface other than lo, before NAT, as
 * kube-proxy added for the same CVE. Without route_localnet, the host's
 * connections to 127.0.0.1:PORT of a published port are dropped (they time
 * out) instead of refused.
 *
 * Concurrency: each function reads the table's rules and the ruleset's
 * generation, then sends its batch tagged with that generation
 * (NFNL_BATCH_GENID); if anything changed in between the kernel refuses the
 * batch and the function reads again and retries, so concurrent skiff
 * processes need no lock for this.
 *
 * Cost: a call reads three answers from the kernel and sends at most one
 * batch, 0.1-0.3 ms here. Closing a netfilter netlink socket is what costs:
 * on every release the kernel flushes its deferred frees of the last change
 * to any ruleset of the namespace, which wait for an RCU grace period
 * (nft_rcv_nl_event(); 10-15 ms measured on this 6.18 kernel), while a
 * socket closed 20 ms after the last change closes at once. So each function
 * comes twice: nft_X() opens and closes a socket of its own, which is fine
 * where nothing changed (a network already set up) or off the hot path;
 * nft_X_at() works through a handle from nft_open() that the caller closes
 * when it suits it (after the container started, or at exit), or hands to a
 * process that lives on. Sockets are connected to the kernel, so no other
 * process can feed them a forged listing.
 *
 * Not done here: IPv4 forwarding (net.ipv4.ip_forward), route_localnet, the
 * check that no host socket holds a port (a DNAT'ed port has no socket on the
 * host, so the conflicts between skiff's containers are checked here), the
 * removal of the conntrack entries of an unpublished port (a UDP flow that
 * keeps sending keeps its DNAT), and the bridge port's hairpin mode: where
 * br_netfilter is on (bridge-nf-call-iptables, this kernel's default), a
 * container reaching a published port of its own network is bridged back
 * out of the port it came in by, which needs hairpin mode on that port.
 *
 * Addresses are host-order uint32_t, as in ipam.h and ports.h. A call works
 * in the calling thread's network namespace (a handle: in the one it was
 * opened in) and needs CAP_NET_ADMIN there. A handle is not thread-safe.
 *
 *   cleanup_nft struct nft *nft = NULL;
 *   nft_open(&nft, err);
 *   nft_setup_at(nft, "skiff0", net.subnet, net.prefix, err);
 *   nft_publish_at(nft, id, ip, maps, n, err);
 *   ... start the container, then close (or let cleanup_nft do it) ...
 *   nft_unpublish_container(id, err);          // when it stops
 */
#ifndef SKIFF_NET_NFT_H
#define SKIFF_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/ports.h"
#include "util/err.h"

#define NFT_TABLE "skiff"
/* Every skiff bridge's name starts with it (network.h), no veth's does. */
#define NFT_BRIDGE_PREFIX "sk"
/* Every container's veth (its host end) does (bridge.c). */
#define NFT_PORT_PREFIX "vsk"

/* A network for nft_setup_net_at. */
struct nft_net {
	const char *bridge;
	uint32_t subnet;
	int prefix;
	uint32_t gateway; /* the bridge's address */
	bool internal;	  /* --internal: no NAT out, no way to the host but DNS */
};

/* Create the table and chains when missing, and the network's rules for
 * bridge (subnet/prefix, prefix 1..32, no host bits). Idempotent: when the
 * network's rules are all there with this subnet nothing is sent; rules of an
 * earlier subnet of this bridge are replaced in the same batch. */
int nft_setup(const char *bridge, uint32_t subnet, int prefix, struct sk_err *err);

/* Remove the network's rules, and the whole table when no rule is left in it
 * but the guard's. A network with no rules is fine. */
int nft_teardown(const char *bridge, struct sk_err *err);

/* Publish n ports of container_id (1 to 128 of [A-Za-z0-9_.-]) at
 * container_ip, all in one batch. host_port 0 (ephemeral) must have been
 * chosen by the caller. A host port that a rule of the table already
 * publishes for the same protocol and an overlapping host address (0 overlaps
 * every address), or that appears twice in maps, is an error with errnum
 * EADDRINUSE, in docker's words and naming the container that holds it:
 * "bind for 0.0.0.0:8080/tcp failed: port is already allocated to container
 * 'ID'"; nothing is added then. Invalid input: errnum 0. */
int nft_publish(const char *container_id, uint32_t container_ip, const struct port_map *maps,
		size_t n, struct sk_err *err);

/* Remove every rule of container_id. None is fine. */
int nft_unpublish_container(const char *container_id, struct sk_err *err);

/* Called once per container that has rules, after the table was read (fn may
 * unpublish the container). 0 goes on; a negative value stops the walk with
 * err filled by fn, and nft_list_containers returns -1. */
typedef int (*nft_container_fn)(const char *container_id, void *ctx, struct sk_err *err);
int nft_list_containers(nft_container_fn fn, void *ctx, struct sk_err *err);

/* Install (once) the rule that drops packets to 127.0.0.0/8 arriving on any
 * interface but lo, before conntrack and NAT. Call it before setting
 * route_localnet on a bridge. nft_teardown of the last network removes it
 * with the table. */
int nft_guard_localnet(struct sk_err *err);

/* --- the same through a handle ----------------------------------------- */

struct nft;

/* A netfilter netlink socket in the calling thread's network namespace. */
int nft_open(struct nft **out, struct sk_err *err);
/* Did a change go through this handle (so that closing it would wait)? */
bool nft_changed(const struct nft *nft);
/* NULL is fine. May wait for a grace period (see "Cost" above). */
void nft_close(struct nft *nft);

/* nft_close without the wait: the last reference to the socket goes to a
 * short-lived grandchild that closes it 50 ms later (two forks, ~0.3 ms,
 * against 10-15 ms). For the run path after a change. */
void nft_close_later(struct nft *nft);

static inline void nft_closep(struct nft **nft)
{
	nft_close(*nft);
}
#define cleanup_nft __attribute__((cleanup(nft_closep)))

int nft_setup_at(struct nft *nft, const char *bridge, uint32_t subnet, int prefix,
		 struct sk_err *err);
/* The same for any network (nft_setup_at: gateway the first host, not
 * internal). */
int nft_setup_net_at(struct nft *nft, const struct nft_net *n, struct sk_err *err);
int nft_teardown_at(struct nft *nft, const char *bridge, struct sk_err *err);
int nft_publish_at(struct nft *nft, const char *container_id, uint32_t container_ip,
		   const struct port_map *maps, size_t n, struct sk_err *err);
int nft_unpublish_at(struct nft *nft, const char *container_id, struct sk_err *err);
/* Remove every container rule whose eth0 veth is gone, whatever store made it:
 * a rule exists only after its veth does, and a veth goes only with its
 * container's namespace (or a disconnect, which removes its rules first).
 * For rules whose store was deleted with its containers (nobody's GC would
 * ever match their store's tag). */
int nft_remove_orphans_at(struct nft *nft, struct sk_err *err);
/* fn may use nft too. */
int nft_list_containers_at(struct nft *nft, nft_container_fn fn, void *ctx, struct sk_err *err);
int nft_guard_localnet_at(struct nft *nft, struct sk_err *err);

#endif

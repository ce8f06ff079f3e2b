/*
 * Bridge networks without a daemon (bridge.c): docker's default `bridge`
 * (skiff0) and user-defined ones (network.h). The Linux bridge with the
 * network's gateway address, skiff's nftables rules
 * (NAT out, published ports in), an address leased per container, and a veth
 * pair per container whose inner end is the container's eth0.
 *
 * Two steps around the clone: bridge_prepare() before it (the bridge, the
 * rules, the lease: the address goes into the container's /etc/hosts), and
 * bridge_attach() after it, while the child mounts its root (the veth in the
 * child's network namespace, its address and route, the published ports).
 * bridge_release() undoes what is the container's (rules, lease); the veth
 * dies with the namespace. bridge_gc() does the same for containers that are
 * gone without it (a kill -9 of skiff or of a monitor).
 */
#ifndef SKIFF_NET_BRIDGE_H
#define SKIFF_NET_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/ipam.h"
#include "net/network.h"
#include "net/ports.h"
#include "util/err.h"

#define BRIDGE_RUN_DIR "/run/skiff"

struct nft;

/* A container's place on the bridge. */
struct bridge_lease {
	struct net_def def; /* def.net filled for the default network too */
	uint32_t ip;
	unsigned mtu;
	/* The netfilter socket of bridge_prepare, kept for bridge_attach: a
	 * second socket's close right after a change would wait for an RCU
	 * grace period (nft.h, "Cost"). Owned; NULL once handed on. */
	struct nft *nft;
};

/* Close what bridge_prepare left open (nothing to undo in the rules). */
void bridge_lease_release(struct bridge_lease *l);

/* Is the holder of a lease ("ID@STORE") or of rules (ID) still there? */
typedef bool (*bridge_alive_fn)(const char *holder, void *ctx);

/* daemon.json's network keys. */
struct bridge_opts {
	const char *bip;	       /* "bip", or NULL */
	const struct ipam_pool *pools; /* "default-address-pools" (NULL, 0: docker's) */
	size_t n_pools;
	unsigned mtu; /* "mtu", or 0: the uplink's */
};

/* The network's bridge, its rules and forwarding on, an address for holder
 * ("ID@STORE": one bridge serves every store of the host) as req asks (may
 * be NULL), and for a user network its resolver (resolver.h). */
int bridge_prepare(const struct net_def *def, const char *holder, const struct ipam_request *req,
		   const struct bridge_opts *o, bridge_alive_fn alive, void *ctx,
		   struct bridge_lease *out, struct sk_err *err);

/* The container's veth (ifname, "eth0" for the first network, inside the
 * namespace of pid) with its address and, for eth0, the default route; and
 * its published ports (host ports 0 get a free one, written back into
 * ports). */
int bridge_attach(struct bridge_lease *l, const char *id, pid_t pid, const char *ifname,
		  struct port_map *ports, size_t n_ports, struct sk_err *err);

/* Remove the container's veth of a network it was connected to while it ran
 * (network disconnect); its lease goes with bridge_release_lease. */
int bridge_detach(const struct net_def *def, const char *id, const char *ifname,
		  struct sk_err *err);
/* Give back holder's lease on one network only. */
void bridge_release_lease(const struct net_def *def, const char *holder);

/* The network's bridge (with its address, up) and rules, for network create
 * and after a reboot. mtu 0: the uplink's. */
int bridge_ensure(const struct net_def *def, unsigned mtu, struct sk_err *err);
/* The default network's subnet, from skiff0's address; -1 when skiff0 is not
 * there (nothing is made). */
int bridge_default_net(struct ipam_net *out);
/* Remove the network's bridge, rules and resolver (network rm); best effort. */
void bridge_destroy(const struct net_def *def);

/* The container's rules (by id) and leases (by holder, on every network);
 * best effort.
 * published: it had ports, so the rules changed (see nft_close_later). */
void bridge_release(const char *id, const char *holder, bool published);

/* Rules of containers that alive(id) says are gone, then the orphans. */
void bridge_gc(bridge_alive_fn alive, void *ctx);
/* Rules of any store's containers whose veth is gone (nft_remove_orphans_at):
 * when a dead owner is found, a network is removed, or the GC runs. */
void bridge_remove_orphans(void);

#endif

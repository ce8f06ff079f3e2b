/*
 * docker's default `bridge` network, without a daemon (bridge.c): the Linux
 * bridge skiff0 with the network's gateway address, skiff's nftables rules
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
#include "net/ports.h"
#include "util/err.h"

#define BRIDGE_NAME "skiff0"
#define BRIDGE_RUN_DIR "/run/skiff"
#define BRIDGE_LEASES BRIDGE_NAME ".leases"

struct nft;

/* A container's place on the bridge. */
struct bridge_lease {
	struct ipam_net net;
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

/* The bridge, its rules and forwarding on, and an address for holder
 * ("ID@STORE": one bridge serves every store of the host). bip, mtu:
 * daemon.json's "bip" (or NULL) and "mtu" (or 0: the uplink's). */
int bridge_prepare(const char *holder, const char *bip, unsigned mtu, bridge_alive_fn alive,
		   void *ctx, struct bridge_lease *out, struct sk_err *err);

/* The container's veth (eth0 inside the namespace of pid) with its address
 * and default route, and its published ports (host ports 0 get a free one,
 * written back into ports). */
int bridge_attach(struct bridge_lease *l, const char *id, pid_t pid, struct port_map *ports,
		  size_t n_ports, struct sk_err *err);

/* The container's rules (by id) and lease (by holder); best effort.
 * published: it had ports, so the rules changed (see nft_close_later). */
void bridge_release(const char *id, const char *holder, bool published);

/* Rules of containers that alive(id) says are gone. */
void bridge_gc(bridge_alive_fn alive, void *ctx);

#endif

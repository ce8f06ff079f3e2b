/*
 * Addresses for containers on a skiff network (ipam.c): the network's subnet,
 * chosen so that it clashes with none of the host's routes, and leases of
 * single addresses, kept in the store under a lock so that parallel runs get
 * distinct addresses, surviving crashes, and reclaimed from containers that
 * are gone. IPv4 for now; addresses are host-order uint32_t.
 */
#ifndef SKIFF_NET_IPAM_H
#define SKIFF_NET_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct ipam_net {
	uint32_t subnet; /* network address */
	int prefix;      /* 8..30 */
	uint32_t gateway; /* the bridge's address: the subnet's first host */
};

struct ipam_route {
	uint32_t dst;
	int prefix;
};

/* "a.b.c.d" <-> host order. */
int ipam_parse_ip(const char *s, uint32_t *ip);
void ipam_format_ip(uint32_t ip, char out[16]);
/* "a.b.c.d/N" (docker's bip: the gateway's address and the prefix). */
int ipam_parse_cidr(const char *s, uint32_t *ip, int *prefix, struct sk_err *err);

/* Do the two ranges share an address? */
bool ipam_overlaps(uint32_t a, int a_prefix, uint32_t b, int b_prefix);

/* An address pool of daemon.json's "default-address-pools": subnets of
 * size bits carved out of base/base_prefix, in order. */
struct ipam_pool {
	uint32_t base;
	int base_prefix;
	int size;
};

/* docker's built-in pools, used when daemon.json names none: 172.17-31.0.0/16
 * then 192.168.0.0/16 in /24s (docker carves /20s there; /24s leave more
 * networks on hosts whose LAN is a 192.168 /24). */
extern const struct ipam_pool ipam_default_pools[];
extern const size_t ipam_n_default_pools;

/* The first subnet of the pools (NULL, 0: ipam_default_pools) that overlaps
 * none of routes. */
int ipam_pick_from_pools(const struct ipam_route *routes, size_t n, const struct ipam_pool *pools,
			 size_t n_pools, struct ipam_net *out, struct sk_err *err);
/* "a.b.c.d/N" with 8 <= N <= 30 and N >= base's prefix; for pools. */
int ipam_parse_pool(const char *base, int size, struct ipam_pool *out, struct sk_err *err);

/* The network to use: bip when given ("172.20.0.1/16": gateway and prefix;
 * refused if it overlaps a route), else docker's 172.17.0.0/16, or the next
 * free /16 of 172.17-31 and then /24s of 192.168.0-255 that no route of the
 * host overlaps (a default route overlaps nothing). */
int ipam_pick_subnet(const struct ipam_route *routes, size_t n, const char *bip,
		     const struct ipam_pool *pools, size_t n_pools, struct ipam_net *out,
		     struct sk_err *err);

/* Is the lease holder still there? (a container that exists and may run) */
typedef bool (*ipam_alive_fn)(const char *id, void *ctx);

/* What a lease asks for beyond an address. */
struct ipam_request {
	uint32_t ip;	      /* this address (--ip), or 0: any free one */
	uint32_t first, last; /* the range to pick from (--ip-range); 0, 0: the subnet */
	/* What the network's resolver answers for the address: names and
	 * aliases, comma-separated ([A-Za-z0-9_.-] each), then optionally
	 * ";" and the container's own upstream servers, comma-separated.
	 * NULL or "": none. */
	const char *names;
};

/* Lease an address of net for id (any text without a newline) in dirfd's
 * lease file name (created when missing), under an flock of it: req->ip, or
 * the lowest address of the range that no live lease holds (leases of
 * holders that alive() says are gone are dropped). A second lease for the
 * same id returns its address. req may be NULL. An address held by another
 * live lease: errnum EADDRINUSE. */
int ipam_lease(int dirfd, const char *name, const struct ipam_net *net, const char *id,
	       const struct ipam_request *req, ipam_alive_fn alive, void *ctx, uint32_t *ip,
	       struct sk_err *err);

/* One lease as a reader sees it (the network's resolver). */
struct ipam_lease_entry {
	uint32_t ip;
	const char *names; /* the request's names ("" when none) */
	const char *holder;
};
/* Call fn for each lease of the file, under a shared lock (none: no call).
 * fn returns 0 to go on, anything else stops the walk and is returned. */
typedef int (*ipam_lease_fn)(const struct ipam_lease_entry *e, void *ctx);
int ipam_for_each_lease(int dirfd, const char *name, ipam_lease_fn fn, void *ctx,
			struct sk_err *err);
/* Drop id's lease (none: fine). */
int ipam_release(int dirfd, const char *name, const char *id, struct sk_err *err);

#endif

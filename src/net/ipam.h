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

/* The network to use: bip when given ("172.20.0.1/16": gateway and prefix;
 * refused if it overlaps a route), else docker's 172.17.0.0/16, or the next
 * free /16 of 172.17-31 and then /24s of 192.168.0-255 that no route of the
 * host overlaps (a default route overlaps nothing). */
int ipam_pick_subnet(const struct ipam_route *routes, size_t n, const char *bip,
		     struct ipam_net *out, struct sk_err *err);

/* Is the lease holder still there? (a container that exists and may run) */
typedef bool (*ipam_alive_fn)(const char *id, void *ctx);

/* Lease an address of net for id (any text without a newline) in dirfd's
 * lease file name (created when
 * missing), under an flock of it: the lowest address that no live lease
 * holds (leases of holders that alive() says are gone are dropped). A
 * second lease for the same id returns its address. */
int ipam_lease(int dirfd, const char *name, const struct ipam_net *net, const char *id,
	       ipam_alive_fn alive, void *ctx, uint32_t *ip, struct sk_err *err);
/* Drop id's lease (none: fine). */
int ipam_release(int dirfd, const char *name, const char *id, struct sk_err *err);

#endif

/*
 * skiff's networks (network.c): the default `bridge` (skiff0, docker's
 * default bridge) and user-defined bridge networks, as docker's `network
 * create` makes them.
 *
 * A user network is a record in the store, networks/ID.json, written once
 * by `network create` and removed by `network rm`; its bridge is
 * "sk-" + 12 hex digits of the id, made at create and again on first use
 * after a reboot. Everything that changes while containers come and go
 * (leases, names for the resolver) lives under /run/skiff/net with the
 * bridge's name (bridge.h), since bridges and /run both go with a reboot.
 *
 * Records are read without a lock (they are written once, atomically);
 * create and rm hold an flock of networks/ so that two creates cannot take
 * the same name or subnet.
 */
#ifndef SKIFF_NET_NETWORK_H
#define SKIFF_NET_NETWORK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "net/ipam.h"
#include "util/err.h"

#define NETWORK_ID_LEN 64
#define NETWORK_NAME_MAX 128
#define NETWORK_DIR "networks"
#define NETWORK_DEFAULT_NAME "bridge"
#define NETWORK_DEFAULT_BRIDGE "skiff0"
/* Every skiff bridge's name starts so ("skiff0", "sk-..."); veths do not. */
#define NETWORK_BRIDGE_PREFIX "sk"

struct net_def {
	char name[NETWORK_NAME_MAX + 1];
	char id[NETWORK_ID_LEN + 1];
	char bridge[IFNAMSIZ];
	bool is_default; /* docker's default bridge: no resolver, bip decides */
	/* For a user network, from its record; for the default one, filled by
	 * bridge_prepare from the bridge (or a free subnet). */
	struct ipam_net net;
	uint32_t range_first, range_last; /* --ip-range; 0, 0: the whole subnet */
	bool internal;			  /* no way out: no NAT, no host, no gateway */
	time_t created;
	char labels_json[1024]; /* the record's Labels, JSON ("{}") */
};

/* Is name one docker accepts for a network ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at
 * most NETWORK_NAME_MAX)? */
bool network_name_ok(const char *name);

/* The network named name, or whose id starts with it (at least 1 hex digit,
 * one match): "bridge" (and "default") is the default network. 0 with *out
 * filled; -1 with errnum ENOENT: docker's "network NAME not found". */
int network_find(int store_fd, const char *name, struct net_def *out, struct sk_err *err);

/* The default network's definition, before bridge_prepare fills net. */
void network_default(struct net_def *out);

struct network_create_opts {
	const char *name;
	const char *subnet;   /* "a.b.c.d/N" or NULL: picked from the pools */
	const char *gateway;  /* or NULL: the subnet's first host */
	const char *ip_range; /* or NULL */
	bool internal;
	const char *labels_json; /* or NULL */
	const struct ipam_pool *pools; /* daemon.json's default-address-pools */
	size_t n_pools;
};

/* Create the record and the network's bridge and rules (root only). A name
 * taken, a subnet that overlaps a route of the host or another network, a
 * gateway or range outside the subnet: one line, nothing made. */
int network_create(int store_fd, const struct network_create_opts *o, struct net_def *out,
		   struct sk_err *err);

/* Is a container (holder "ID@STORE" of a lease) still on a network? */
typedef bool (*network_alive_fn)(const char *holder, void *ctx);

/* Remove a user network: its bridge, rules and record. Refused (errnum
 * EBUSY, docker's words) while a live container holds a lease on it. */
int network_remove(int store_fd, const struct net_def *def, network_alive_fn alive, void *ctx,
		   struct sk_err *err);

/* Every user network of the store, oldest first (then by name). */
int network_list(int store_fd, struct net_def **out, size_t *n, struct sk_err *err);

/* The bridge's lease file name: "<bridge>.leases". */
void network_leases_name(const struct net_def *def, char *out, size_t len);

#endif

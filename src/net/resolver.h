/*
 * A user network's resolver (resolver.c): containers on the network reach
 * each other by name, without a daemon.
 *
 * One small process per network ("skiff-dns NAME"), listening on the
 * network's gateway address, port 53, UDP and TCP, in the host's network
 * namespace, like podman's aardvark-dns rather than docker's 127.0.0.11
 * (which needs a process, or the daemon, inside every container's
 * namespace). It answers A and PTR queries for the names its network's
 * lease file holds (each container's name, aliases and short id, written
 * with its lease: ipam.h), NODATA for their AAAA, and forwards every other
 * query to the container's own --dns servers or else the host's (the host's
 * 127.0.0.53 included: the resolver lives in the host's namespace), except
 * on an --internal network, which answers REFUSED for names not its own.
 *
 * Why a process and not hosts files kept in step: `nslookup` and every
 * resolver library that asks DNS directly (musl's getaddrinfo does; Go's
 * does) see the names; a name is there the moment its lease is, with no
 * write into a running container; and a network's names never reach
 * another network (the resolver answers only its own subnet, and nft keeps
 * other bridges from its address: nft.h "input").
 *
 * Lifetime: started by the first bridge_prepare on the network that finds
 * none running (an flock of "<bridge>.dns" in /run/skiff/net says one is),
 * with its sockets bound before the container starts; it exits once the
 * network has had no lease for a while, and `network rm` stops it. It gives
 * up every capability once its sockets are bound.
 */
#ifndef SKIFF_NET_RESOLVER_H
#define SKIFF_NET_RESOLVER_H

#include "net/network.h"
#include "util/err.h"

/* Start the network's resolver unless one runs. run_dir: /run/skiff/net.
 * Port 53 of the gateway taken by another program is a warning (names will
 * not resolve), not an error. */
int resolver_ensure(const struct net_def *def, int run_dir, struct sk_err *err);

/* Stop it (network rm); none running is fine. */
void resolver_stop(const struct net_def *def);

#endif

/*
 * Forget a container's connections (conntrack.c). A UDP client that keeps
 * sending to a published port keeps its conntrack entry alive, and with it
 * the DNAT to the address of a container that is gone: a new container on
 * that port would never see the flow (docker deletes these entries too).
 * Called when a container that published ports leaves.
 */
#ifndef SKIFF_NET_CONNTRACK_H
#define SKIFF_NET_CONNTRACK_H

#include <stdint.h>

#include "util/err.h"

/* Delete every IPv4 conntrack entry whose reply comes from ip (host
 * order), in the caller's network namespace (needs CAP_NET_ADMIN). */
int conntrack_forget(uint32_t ip, struct sk_err *err);

/* Delete every IPv4 entry whose original destination port is port for
 * proto (IPPROTO_UDP, ...): called when a UDP port is published, since an
 * entry made while nobody published it (the flow went on between two
 * containers) would keep the flow from the new DNAT forever. */
int conntrack_forget_port(int proto, uint16_t port, struct sk_err *err);

#endif

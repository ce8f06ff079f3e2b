/*
 * A container's bridge port guard (portguard.c): a BPF classifier on the
 * ingress of the host's end of its veth, which is where every frame the
 * container sends arrives before the bridge learns or forwards it. It lets
 * through only
 *
 *   - frames whose Ethernet source is the container's MAC,
 *   - ARP whose sender hardware and protocol addresses are its own,
 *   - IPv4 whose source is its own address,
 *
 * and drops everything else (forged sources, ARP poisoning of the host or of
 * a neighbour, floods of made-up MACs, IPv6, VLAN tags). It holds whatever
 * capabilities the container has (the filter is on the host's side) and goes
 * with the veth, so there is nothing to clean up after a crash.
 *
 * Why not nftables (the bridge family, as the first version did): every
 * container then changed the ruleset twice, and on these hosts the cgroup v1
 * move of the next container waits for the RCU grace period that a ruleset
 * change starts: ~10 ms on every run (BENCH.md). A tc filter on the veth
 * touches nothing global.
 */
#ifndef SKIFF_NET_PORTGUARD_H
#define SKIFF_NET_PORTGUARD_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PORTGUARD_MAX_INSNS 64

/* The program for mac and ip (host order): its length, 0 if cap is short. */
size_t portguard_program(const unsigned char mac[6], uint32_t ip, struct bpf_insn *out,
			 size_t cap);

struct nl_sock;
/* Load it and attach it to the ingress of veth (host side). */
int portguard_attach(struct nl_sock *s, const char *veth, const unsigned char mac[6], uint32_t ip,
		     struct sk_err *err);

#endif

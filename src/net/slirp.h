/*
 * Rootless networking through slirp4netns (slirp.c), as rootless docker and
 * podman do: a user-mode TCP/IP stack in a process of the host's network
 * namespace, with a tap device (tap0) in the container's. The container gets
 * 10.0.2.100/24, gateway 10.0.2.2, resolver 10.0.2.3 (which forwards to the
 * host's), MTU 65520; `-p` ports are slirp4netns's host forwards, added
 * through its API socket. The host's 127.0.0.1 is out of reach
 * (--disable-host-loopback, as podman's default), and slirp4netns runs in
 * its own sandbox (--enable-sandbox: its own mount namespace, no
 * capabilities) with its seccomp filter.
 *
 * Needs slirp4netns (Debian package slirp4netns) on PATH and /dev/net/tun
 * usable by the user (Debian's default is 0666). pasta (Debian passt) is the
 * other engine rootless podman knows; skiff does not drive it yet.
 *
 * The process lives as long as the caller holds exit_fd: slirp4netns ends
 * when the pipe's other end closes (slirp_stop, or the caller's death).
 */
#ifndef SKIFF_NET_SLIRP_H
#define SKIFF_NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/ports.h"
#include "util/err.h"

#define SLIRP_IP 0x0a000264u	    /* 10.0.2.100 */
#define SLIRP_GATEWAY 0x0a000202u   /* 10.0.2.2 */
#define SLIRP_DNS 0x0a000203u	    /* 10.0.2.3 */
#define SLIRP_PREFIX 24

struct slirp {
	pid_t pid;    /* 0: none */
	int exit_fd;  /* -1: none */
	int netns_fd; /* the namespace it serves, for the container to join */
};
#define SLIRP_INIT { 0, -1, -1 }

/* Can rootless networking work here? 0, or -1 with err saying what is
 * missing (the package, or /dev/net/tun's mode). */
int slirp_check(struct sk_err *err);

/* A new network namespace (lo up, ping for every group) with slirp4netns
 * on it, tap0 configured, ports forwarded (host ports 0 get a free one,
 * written back); out->netns_fd is the namespace. Needs CAP_SYS_ADMIN over
 * the caller's user namespace (a rootless skiff is root in its own). */
int slirp_start(struct port_map *ports, size_t n_ports, struct slirp *out, struct sk_err *err);

/* End it (closes exit_fd and netns_fd, reaps it); nothing running is fine. */
void slirp_stop(struct slirp *s);

#endif

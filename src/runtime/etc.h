/*
 * The container's /etc/hosts and /etc/resolv.conf as docker writes them
 * (etc.c), built from the host's files and the run's options. Pure: the
 * caller reads the host's files and puts the results in the init layer.
 */
#ifndef SKIFF_RUNTIME_ETC_H
#define SKIFF_RUNTIME_ETC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "runtime/spec.h"

struct etc_opts {
	const char *hostname;
	bool host_network;     /* the host's files, as they are */
	bool bridge;           /* ip is the container's address */
	uint32_t ip;           /* host order */
	uint32_t gateway;      /* the bridge's address: "host-gateway" */
	/* A user network's resolver (its gateway; 0: none): the only name
	 * server, as docker's 127.0.0.11; --dns servers are its upstreams. */
	uint32_t resolver;
	const struct strv *dns;         /* --dns: replace the name servers */
	const struct strv *dns_search;  /* --dns-search ("." : none) */
	const struct strv *dns_options; /* --dns-option */
	const struct strv *add_hosts;   /* --add-host NAME:IP|host-gateway */
};

/* --add-host's value: "NAME:IP" or "NAME:host-gateway" (docker's format and
 * error). Checked when the flag is read. */
int etc_check_add_host(const char *v, struct sk_err *err);

int etc_build_hosts(const struct etc_opts *o, const char *host_hosts, struct buf *out,
		    struct sk_err *err);
int etc_build_resolv_conf(const struct etc_opts *o, const char *host_resolv, struct buf *out,
			  struct sk_err *err);

#endif

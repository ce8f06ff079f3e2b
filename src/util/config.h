/*
 * skiff's settings: /etc/skiff/config.json, then the per-user
 * $XDG_CONFIG_HOME/skiff/config.json (~/.config/skiff/config.json), then the
 * environment, then command-line flags; later wins. Keys follow docker's
 * daemon.json: "registry-mirrors", "insecure-registries",
 * "max-concurrent-downloads", "data-root" (the store; "root" is an older
 * name for it).
 */
#ifndef SKIFF_CONFIG_H
#define SKIFF_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "net/ipam.h"
#include "util/err.h"

#define CONFIG_MAX_LIST 16
#define CONFIG_MAX_POOLS 16

struct sk_config {
	char root[4096];                          /* store root */
	char *registry_mirrors[CONFIG_MAX_LIST];  /* URLs, e.g. "https://mirror.example" */
	size_t n_registry_mirrors;
	char *insecure_registries[CONFIG_MAX_LIST]; /* "host:port" or CIDR */
	size_t n_insecure_registries;
	int max_concurrent_downloads;             /* default 3 */
	/* "default-pids-limit": every container's pids.max unless --pids-limit
	 * says otherwise (podman's 2048); 0 or -1: none. */
	int64_t default_pids_limit;
	char *bip; /* "bip": the default bridge's address and prefix, or NULL */
	unsigned mtu; /* "mtu": the bridge network's MTU; 0: the uplink's */
	/* "default-address-pools" (n 0: docker's built-in ones) */
	struct ipam_pool address_pools[CONFIG_MAX_POOLS];
	size_t n_address_pools;
	char certs_dir[4096];                     /* default /etc/docker/certs.d */
	char docker_config_dir[4096];             /* $DOCKER_CONFIG or ~/.docker */
	bool rootless;                            /* euid != 0 */
	bool storage_vfs; /* "storage-driver": "vfs": copy layers, no overlay */
	bool no_new_privileges; /* "no-new-privileges": the run default (docker's: false) */
	bool cgroupns_host; /* "default-cgroupns-mode": "host" (skiff's default: private) */
	char detach_keys[128]; /* "detachKeys" (attach, run -it); "": not set */
};

/* Defaults, then files, then environment (SKIFF_ROOT, SKIFF_REGISTRY_MIRROR,
 * SKIFF_CERTS_DIR, DOCKER_CONFIG). A malformed config file is an error naming it. */
int config_load(struct sk_config *cfg, struct sk_err *err);
void config_release(struct sk_config *cfg);

/* Add an entry (command-line flags); duplicates are fine. */
int config_add_mirror(struct sk_config *cfg, const char *url, struct sk_err *err);
int config_add_insecure(struct sk_config *cfg, const char *host, struct sk_err *err);

/* Is host[:port] an insecure (plain HTTP allowed) registry? True for
 * localhost, 127.0.0.0/8 and ::1 as in docker, and for configured entries
 * (exact host:port, bare host, or an IPv4 CIDR). */
bool config_registry_is_insecure(const struct sk_config *cfg, const char *hostport);

#endif

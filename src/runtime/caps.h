/*
 * Capabilities as docker grants them: the default set, --cap-add/--cap-drop,
 * --privileged, and a non-root --user without effective capabilities.
 *
 * Plan in the parent, apply in the child:
 *   parent: caps_read_bounding() once, caps_build() -> struct rt_capabilities
 *           (spec->process.capabilities), seccomp needs the same mask;
 *   child:  caps_drop_bounding() while still root (needs CAP_SETPCAP), then
 *           set the user (setgroups/setgid/setuid), then caps_set(), then
 *           caps_set_no_new_privs() and the seccomp filter, then execve.
 * The child-side functions only make system calls: no allocation, safe after
 * fork.
 */
#ifndef SKIFF_RUNTIME_CAPS_H
#define SKIFF_RUNTIME_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/spec.h"
#include "util/err.h"

#define CAPS_BIT(cap) (UINT64_C(1) << (cap))

/* CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
 * NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE */
uint64_t caps_docker_default(void);

/* The capabilities this process can hand on: CapBnd of /proc/self/status
 * (never assume every capability: a host may withhold some). */
int caps_read_bounding(uint64_t *out, struct sk_err *err);

/* "net_admin", "CAP_NET_ADMIN", "Net_Admin" -> CAP_NET_ADMIN. "ALL" is not a
 * capability here (caps_build handles it). */
int caps_parse_name(const char *name, int *cap, struct sk_err *err);
/* "CAP_NET_ADMIN" for a number, or NULL. */
const char *caps_name(int cap);

struct caps_request {
	const char *const *add; /* --cap-add values */
	size_t n_add;
	const char *const *drop; /* --cap-drop values */
	size_t n_drop;
	bool privileged;    /* every capability of `available` */
	bool root_user;	    /* the process runs as uid 0 in the container */
	uint64_t available; /* caps_read_bounding() */
};

/* Docker's rules: privileged or --cap-add ALL -> everything available, minus
 * the drops; --cap-drop ALL -> only the adds; else the defaults plus adds minus
 * drops. A requested capability missing from `available` is left out with a
 * warning. Root gets bounding = permitted = effective = the set; a non-root
 * user gets the bounding set only (no effective, permitted or ambient
 * capabilities, as docker). Inheritable is always empty: docker's fix for
 * CVE-2022-24769. */
int caps_build(const struct caps_request *req, struct rt_capabilities *out, struct sk_err *err);

/* Child, before changing uid: drop every capability outside bounding from the
 * bounding set. */
int caps_drop_bounding(uint64_t bounding, struct sk_err *err);
/* Child, after changing uid: capset(2) effective/permitted/inheritable, then
 * raise the ambient ones. */
int caps_set(const struct rt_capabilities *caps, struct sk_err *err);
/* prctl(PR_SET_NO_NEW_PRIVS): setuid binaries and file capabilities no longer
 * grant anything on execve. */
int caps_set_no_new_privs(struct sk_err *err);

#endif

/*
 * --ulimit name=soft[:hard] (docker's names and syntax) and applying the
 * limits in the container's first process.
 *
 * Plan in the parent, apply in the child: rlimit_parse() for each flag, then
 * rlimit_clamp() once (it warns when a hard limit is above what this process
 * may set), then rlimit_apply() in the child after fork: it only calls
 * setrlimit(2), so it is async-signal-safe and allocates nothing.
 */
#ifndef SKIFF_RUNTIME_RLIMIT_H
#define SKIFF_RUNTIME_RLIMIT_H

#include <stddef.h>
#include <sys/resource.h>

#include "util/err.h"

#define RLIMIT_MAX_ENTRIES 16

struct rlimit_entry {
	int resource; /* RLIMIT_* */
	struct rlimit lim;
};

/* Zero-initialise: struct rlimits rl = { 0 }; no release needed. */
struct rlimits {
	struct rlimit_entry v[RLIMIT_MAX_ENTRIES];
	size_t n;
};

/* Parse "nofile=1024:2048", "core=-1", "nproc=unlimited"; a later flag for the
 * same name replaces the earlier one, as docker does. Without ":hard" the hard
 * limit equals the soft one. soft > hard is an error. */
int rlimit_parse(const char *arg, struct rlimits *rl, struct sk_err *err);

/* RLIMIT_* for a docker name ("nofile"), or -1. */
int rlimit_resource_by_name(const char *name);
const char *rlimit_name(int resource);

/* Without CAP_SYS_RESOURCE a hard limit cannot be raised: lower each requested
 * hard limit above the current one to the current one (and the soft limit
 * with it), with one warning per limit. Call in the parent. */
void rlimit_clamp(struct rlimits *rl);

/* Child: setrlimit() each entry. */
int rlimit_apply(const struct rlimits *rl, struct sk_err *err);

#endif

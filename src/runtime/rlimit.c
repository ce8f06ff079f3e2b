/*
 * --ulimit: docker's names, "soft[:hard]" values with -1/"unlimited", the
 * parent-side clamp to what the host allows, and the child-side setrlimit.
 */
#include "runtime/rlimit.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"core", RLIMIT_CORE},	   {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},	   {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},	   {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},	   {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},	   {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},	   {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int rlimit_resource_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (strcmp(rlimit_names[i].name, name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return "?";
}

/* One value: a non-negative integer, -1 or "unlimited". */
static int parse_value(const char *s, size_t len, rlim_t *out)
{
	char tmp[32];
	char *end;
	long long v;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (strcmp(tmp, "unlimited") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno || *end || v < -1)
		return -1;
	*out = v == -1 ? RLIM_INFINITY : (rlim_t)v;
	return 0;
}

static struct rlimit_entry *slot_for(struct rlimits *rl, int resource)
{
	for (size_t i = 0; i < rl->n; i++)
		if (rl->v[i].resource == resource)
			return &rl->v[i];
	if (rl->n >= RLIMIT_MAX_ENTRIES)
		return NULL;
	rl->v[rl->n].resource = resource;
	return &rl->v[rl->n++];
}

int rlimit_parse(const char *arg, struct rlimits *rl, struct sk_err *err)
{
	const char *eq = strchr(arg, '='), *val, *colon;
	char name[32];
	struct rlimit lim;
	struct rlimit_entry *e;
	int resource;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return err_set(err, 0, "invalid ulimit '%s': expected name=soft[:hard]", arg);
	memcpy(name, arg, eq - arg);
	name[eq - arg] = '\0';
	resource = rlimit_resource_by_name(name);
	if (resource < 0)
		return err_set(err, 0, "invalid ulimit '%s': unknown limit '%s'", arg, name);
	val = eq + 1;
	colon = strchr(val, ':');
	if (parse_value(val, colon ? (size_t)(colon - val) : strlen(val), &lim.rlim_cur) < 0 ||
	    (colon && parse_value(colon + 1, strlen(colon + 1), &lim.rlim_max) < 0))
		return err_set(err, 0, "invalid ulimit '%s': bad value", arg);
	if (!colon)
		lim.rlim_max = lim.rlim_cur;
	if (lim.rlim_cur > lim.rlim_max)
		return err_set(err, 0, "invalid ulimit '%s': soft limit is above the hard limit",
			       arg);
	e = slot_for(rl, resource);
	if (!e)
		return err_set(err, 0, "invalid ulimit '%s': too many limits", arg);
	e->lim = lim;
	return 0;
}

/* Whether this process has CAP_SYS_RESOURCE in its effective set. */
static bool can_raise_hard_limits(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32));
}

static void fmt_limit(rlim_t v, char *out, size_t n)
{
	if (v == RLIM_INFINITY)
		snprintf(out, n, "unlimited");
	else
		snprintf(out, n, "%" PRIu64, (uint64_t)v);
}

void rlimit_clamp(struct rlimits *rl)
{
	bool privileged = can_raise_hard_limits();

	for (size_t i = 0; i < rl->n && !privileged; i++) {
		struct rlimit_entry *e = &rl->v[i];
		struct rlimit cur;
		char want[32], have[32];

		if (getrlimit(e->resource, &cur) < 0 || e->lim.rlim_max <= cur.rlim_max)
			continue;
		fmt_limit(e->lim.rlim_max, want, sizeof(want));
		fmt_limit(cur.rlim_max, have, sizeof(have));
		log_warn("ulimit '%s': hard limit %s is above this host's %s, using %s",
			 rlimit_name(e->resource), want, have, have);
		e->lim.rlim_max = cur.rlim_max;
		if (e->lim.rlim_cur > cur.rlim_max)
			e->lim.rlim_cur = cur.rlim_max;
	}
}

int rlimit_apply(const struct rlimits *rl, struct sk_err *err)
{
	for (size_t i = 0; i < rl->n; i++)
		if (setrlimit(rl->v[i].resource, &rl->v[i].lim) < 0)
			return err_set(err, errno, "cannot set ulimit '%s'",
				       rlimit_name(rl->v[i].resource));
	return 0;
}

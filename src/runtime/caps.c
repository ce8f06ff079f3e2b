/*
 * Capability sets: names, docker's add/drop rules, and applying them with
 * prctl(2) and capset(2) directly (no libcap: the child must not allocate, and
 * two system calls do not need a library).
 */
#include "runtime/caps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

/* Indexed by capability number; names as in capabilities(7). */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

#define CAPS_KNOWN ((int)ARRAY_SIZE(cap_names))

/* docker's default set. CAP_NET_RAW stays (podman drops it): busybox's
 * ping, alpine's, opens a raw socket and has no fallback, and what raw
 * sockets could forge the bridge port's guard drops (nft.h). ping without
 * it works too where the ping uses ICMP echo sockets (iputils): the
 * container's net.ipv4.ping_group_range allows every group (ns.c). */
uint64_t caps_docker_default(void)
{
	return CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_DAC_OVERRIDE) | CAPS_BIT(CAP_FSETID) |
	       CAPS_BIT(CAP_FOWNER) | CAPS_BIT(CAP_MKNOD) | CAPS_BIT(CAP_NET_RAW) |
	       CAPS_BIT(CAP_SETGID) | CAPS_BIT(CAP_SETUID) | CAPS_BIT(CAP_SETFCAP) |
	       CAPS_BIT(CAP_SETPCAP) | CAPS_BIT(CAP_NET_BIND_SERVICE) | CAPS_BIT(CAP_SYS_CHROOT) |
	       CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_AUDIT_WRITE);
}

const char *caps_name(int cap)
{
	return cap >= 0 && cap < CAPS_KNOWN ? cap_names[cap] : NULL;
}

int caps_parse_name(const char *name, int *cap, struct sk_err *err)
{
	const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;

	for (int i = 0; i < CAPS_KNOWN; i++) {
		if (strcasecmp(bare, cap_names[i] + 4) == 0) {
			*cap = i;
			return 0;
		}
	}
	return err_set(err, 0, "unknown capability '%s'", name);
}

int caps_read_bounding(uint64_t *out, struct sk_err *err)
{
	cleanup_buf struct buf status = BUF_INIT(64 * 1024);
	const char *line;

	if (fs_read_file(AT_FDCWD, "/proc/self/status", status.max, &status, err) < 0)
		return err_wrap(err, "cannot read the capability bounding set");
	line = strstr(status.data, "\nCapBnd:");
	if (!line || sscanf(line + 8, "%" SCNx64, out) != 1)
		return err_set(err, 0, "no 'CapBnd' line in '/proc/self/status'");
	return 0;
}

static bool is_all(const char *name)
{
	return strcasecmp(name, "ALL") == 0 || strcasecmp(name, "CAP_ALL") == 0;
}

static bool list_has_all(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_all(v[i]))
			return true;
	return false;
}

/* The mask of a list of names, ALL excluded. */
static int names_to_mask(const char *const *v, size_t n, uint64_t *mask, struct sk_err *err)
{
	*mask = 0;
	for (size_t i = 0; i < n; i++) {
		int cap;

		if (is_all(v[i]))
			continue;
		if (caps_parse_name(v[i], &cap, err) < 0)
			return -1;
		*mask |= CAPS_BIT(cap);
	}
	return 0;
}

static void warn_unavailable(uint64_t wanted, uint64_t available)
{
	uint64_t missing = wanted & ~available;

	for (int i = 0; i < 64; i++)
		if (missing & CAPS_BIT(i))
			log_warn("capability '%s' is not available to skiff on this host, left out",
				 caps_name(i) ? caps_name(i) : "?");
}

int caps_build(const struct caps_request *req, struct rt_capabilities *out, struct sk_err *err)
{
	uint64_t add, drop, set;

	if (names_to_mask(req->add, req->n_add, &add, err) < 0 ||
	    names_to_mask(req->drop, req->n_drop, &drop, err) < 0)
		return err_wrap(err, "capabilities");
	if (req->privileged || list_has_all(req->add, req->n_add))
		set = req->available & ~drop;
	else if (list_has_all(req->drop, req->n_drop))
		set = add;
	else
		set = (caps_docker_default() | add) & ~drop;
	/* Only what was asked for by name deserves a warning; ALL means "what there is". */
	warn_unavailable(set & add, req->available);
	set &= req->available;

	*out = (struct rt_capabilities){.set = true, .bounding = set};
	if (req->root_user)
		out->effective = out->permitted = set;
	return 0;
}

int caps_drop_bounding(uint64_t bounding, struct sk_err *err)
{
	for (int cap = 0; cap < 64; cap++) {
		if (bounding & CAPS_BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL) /* past the kernel's last capability */
				break;
			return err_set(err, errno,
				       "cannot drop capability %d from the bounding set", cap);
		}
	}
	return 0;
}

int caps_set(const struct rt_capabilities *caps, struct sk_err *err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(caps->effective >> (32 * i));
		data[i].permitted = (uint32_t)(caps->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(caps->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return err_set(err, errno, "cannot set the container's capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_set(err, errno, "cannot clear the ambient capabilities");
	for (int cap = 0; cap < 64; cap++)
		if ((caps->ambient & CAPS_BIT(cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return err_set(err, errno, "cannot raise ambient capability %d", cap);
	return 0;
}

int caps_set_no_new_privs(struct sk_err *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(err, errno, "cannot set no_new_privs");
	return 0;
}

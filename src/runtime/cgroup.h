/*
 * Control groups for containers: one cgroup per container on cgroup v2, v1 and
 * hybrid hosts (v1 controllers plus cgroup2 at <root>/unified for process
 * tracking), docker's resource flags, OOM detection and kill-everything.
 *
 * Use from the parent:
 *   struct cgroup_limits lim = { 0 };   // then cgroup_parse_*()
 *   cgroup_detect(CGROUP_ROOT, &mode, err);
 *   cgroup_create(mode, CGROUP_ROOT, "skiff/<id>", &lim, &cg, err);
 *   ... clone the child, cgroup_enter(&cg, pid, err) before it execs ...
 *   ... wait; cgroup_oom_killed(&cg) -> OOMKilled, status 137 ...
 *   cgroup_kill_all(&cg, err); cgroup_destroy(&cg, err);
 * `root` is a parameter so that tests can use a fake tree of plain files: a
 * directory that already exists is reused, and its control files are written
 * (never created).
 */
#ifndef SKIFF_RUNTIME_CGROUP_H
#define SKIFF_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

enum cgroup_mode {
	CGROUP_V1 = 1,
	CGROUP_HYBRID, /* v1 controllers, cgroup2 (no controllers) at <root>/unified */
	CGROUP_V2,
};

/* Mode from the file-system magic of <root> and of <root>/unified (0 when
 * absent), as crun decides it. Returns -1 for a root that is no cgroup mount. */
int cgroup_mode_from_magic(long root_magic, long unified_magic);
int cgroup_detect(const char *root, enum cgroup_mode *mode, struct sk_err *err);
const char *cgroup_mode_name(enum cgroup_mode mode);

/* Docker's resource flags; 0 / "" means "not set". */
struct cgroup_limits {
	int64_t memory;	     /* bytes */
	int64_t memory_swap; /* bytes, memory + swap; -1 unlimited; unset: 2 x memory (docker) */
	int64_t cpu_quota;   /* microseconds per period */
	int64_t cpu_period;  /* microseconds */
	int64_t nano_cpus;   /* --cpus as given, in 1e-9 CPUs (docker's NanoCpus) */
	uint64_t cpu_shares; /* v1 shares (2..262144); v2 gets the crun weight */
	char cpuset_cpus[256];
	int64_t pids_limit; /* -1 unlimited */
	/* pids_limit is skiff's default ("default-pids-limit"), not asked for:
	 * a host that cannot apply it runs the container without, silently. */
	bool pids_default;
	/* --privileged: every device; otherwise docker's default device list
	 * (cgroup_devices.c). Not a "limit" for cgroup_limits_any(). */
	bool devices_allow_all;
};

/* --memory, --memory-swap style sizes: "512m", "1.5g", "1024", units b k m g t
 * (binary). memory_swap also takes "-1". */
int cgroup_parse_bytes(const char *s, int64_t *out, struct sk_err *err);
int cgroup_parse_memory(const char *s, struct cgroup_limits *lim, struct sk_err *err);
int cgroup_parse_memory_swap(const char *s, struct cgroup_limits *lim, struct sk_err *err);
/* --cpus 1.5 -> quota 150000 / period 100000 (exact decimal, no floats). */
int cgroup_parse_cpus(const char *s, struct cgroup_limits *lim, struct sk_err *err);
int cgroup_parse_cpu_shares(const char *s, struct cgroup_limits *lim, struct sk_err *err);
/* "0-1,3": validated, copied. */
int cgroup_parse_cpuset_cpus(const char *s, struct cgroup_limits *lim, struct sk_err *err);
/* --pids-limit N; 0 or -1 mean unlimited (docker). */
int cgroup_parse_pids_limit(const char *s, struct cgroup_limits *lim, struct sk_err *err);
/* Cross-flag rules (docker's): memory-swap needs memory and must be >= it. */
int cgroup_limits_check(const struct cgroup_limits *lim, struct sk_err *err);
bool cgroup_limits_any(const struct cgroup_limits *lim);

/* shares -> cpu.weight, as crun: 1 + ((shares - 2) * 9999) / 262142 */
uint64_t cgroup_shares_to_weight(uint64_t shares);

#define CGROUP_MAX_DIRS 8
#define CGROUP_PATH_MAX 512

struct cgroup_dir {
	char controller[16];	    /* "memory", ...; "" for the v2/unified directory */
	char path[CGROUP_PATH_MAX]; /* absolute */
	int fd;			    /* O_DIRECTORY */
};

struct cgroup {
	enum cgroup_mode mode;
	struct cgroup_dir dirs[CGROUP_MAX_DIRS];
	int n;
	int unified; /* index of the v2/unified dir, -1 on v1 */
	int memory;  /* index of the dir with the memory files (v1 memory or v2), -1 */
	int freezer; /* v1 freezer, -1 */
};

/* Create the container's cgroup under root (name is relative, e.g.
 * "skiff/<id>") and write the limits. A limit the host cannot apply (missing
 * controller or file, e.g. swap accounting off) gives one warning; a value the
 * kernel refuses is an error. On error nothing is left behind. */
int cgroup_create(enum cgroup_mode mode, const char *root, const char *name,
		  const struct cgroup_limits *lim, struct cgroup *cg, struct sk_err *err);

/* Move pid into the cgroup (every hierarchy). */
int cgroup_enter(const struct cgroup *cg, pid_t pid, struct sk_err *err);

/* The v2/unified directory fd, for clone3's CLONE_INTO_CGROUP (v2 only: on
 * hybrid hosts the v1 hierarchies still need cgroup_enter), or -1. */
int cgroup_clone_fd(const struct cgroup *cg);

/* Whether the kernel's OOM killer killed a process of this cgroup: v2
 * memory.events "oom_kill"; v1 memory.oom_control "oom_kill" (4.13+). */
bool cgroup_oom_killed(const struct cgroup *cg);

/* Kill every process in the cgroup and wait until none is left (bounded):
 * cgroup.kill where the kernel has it, else freeze (v1 freezer) and SIGKILL
 * each pid of cgroup.procs, again until it is empty. */
int cgroup_kill_all(const struct cgroup *cg, struct sk_err *err);

/* rmdir every directory (retrying briefly while busy) and close the fds. */
int cgroup_destroy(struct cgroup *cg, struct sk_err *err);
/* What a container whose skiff was killed left behind: in every hierarchy
 * under root (v1 controllers, unified, or the v2 root itself), kill what is
 * still in <hierarchy>/<name> and remove it. Missing is fine. */
int cgroup_remove_leftovers(const char *root, const char *name, struct sk_err *err);

/* cgroup_devices.c: docker's default device access for the cgroup directory
 * dirfd: v1 devices.deny/devices.allow, or (v2) an attached BPF program.
 * allow_all: nothing restricted. */
int cgroup_devices_v1(int dirfd, bool allow_all, struct sk_err *err);
int cgroup_devices_bpf(int dirfd, bool allow_all, struct sk_err *err);
/* The v2 program's instructions (for tests); returns the count, 0 if cap is too small. */
struct bpf_insn;
size_t cgroup_devices_program(struct bpf_insn *out, size_t cap);

/* Close the fds without removing anything. */
void cgroup_release(struct cgroup *cg);

#endif

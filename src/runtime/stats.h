/*
 * docker stats' figures for a running container, read from its cgroup (v1,
 * v2 or hybrid) and its network namespace: CPU time (v1 cpuacct.usage, v2
 * cpu.stat), memory without the inactive file cache (as docker's CLI
 * computes it) against its limit (the host's memory when unlimited), the
 * bytes of its network interfaces but lo, block I/O (blkio/io.stat where the
 * container's cgroup has them, else the sum of /proc/PID/io over its
 * processes, which includes their reaped children) and its task count.
 */
#ifndef SKIFF_RUNTIME_STATS_H
#define SKIFF_RUNTIME_STATS_H

#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct ctr_stats {
	uint64_t cpu_ns;    /* the container's CPU time */
	uint64_t system_ns; /* the host's, /proc/stat (user..softirq), as docker */
	unsigned online_cpus;
	uint64_t mem_usage, mem_limit;
	uint64_t net_rx, net_tx;
	uint64_t blk_read, blk_write;
	uint64_t pids;
};

/* id: a full container id; pid: its first process on the host (its
 * network namespace). */
int stats_read(const char *id, pid_t pid, struct ctr_stats *out, struct sk_err *err);
/* The same from an open cgroup (unit tests: a fake tree); pid 0: no network. */
struct cgroup;
void stats_read_cgroup(const struct cgroup *cg, pid_t pid, struct ctr_stats *out);

/* docker's CPU %: container CPU over host CPU between two reads, times the
 * CPU count; 0 when either did not move. */
double stats_cpu_percent(const struct ctr_stats *prev, const struct ctr_stats *cur);
/* usage / limit * 100; 0 without a limit. */
double stats_mem_percent(const struct ctr_stats *s);

#endif

/*
 * Reading a container's resource use (stats.h). Every file is small and read
 * with one read(); nothing is written.
 */
#include "runtime/stats.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/freeze.h"
#include "util/cleanup.h"

/* dirfd/name into buf (NUL-terminated); -1 when it cannot be read. */
static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return 0;
}

static bool read_u64(int dirfd, const char *name, uint64_t *out)
{
	char buf[64];

	if (read_small(dirfd, name, buf, sizeof(buf)) < 0 || !isdigit((unsigned char)buf[0]))
		return false;
	*out = strtoull(buf, NULL, 10);
	return true;
}

/* "key value" lines (memory.stat, cpu.stat): value of key, or 0. */
static uint64_t keyed(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

static int dir_fd(const struct cgroup *cg, const char *controller)
{
	int i = cgroup_find(cg, controller);

	return i >= 0 ? cg->dirs[i].fd : -1;
}

/* /proc/stat's first line: user nice system idle iowait irq softirq, in ns. */
static uint64_t system_cpu_ns(void)
{
	char buf[1024];
	unsigned long long f[7] = {0}, sum = 0;
	long hz = sysconf(_SC_CLK_TCK);

	if (read_small(AT_FDCWD, "/proc/stat", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4],
		   &f[5], &f[6]) != 7)
		return 0;
	for (int i = 0; i < 7; i++)
		sum += f[i];
	return hz > 0 ? sum * 1000000000ULL / (unsigned long long)hz : 0;
}

static void read_cpu(const struct cgroup *cg, struct ctr_stats *s)
{
	char text[4096];
	int fd = dir_fd(cg, "cpuacct");

	if (fd < 0)
		fd = dir_fd(cg, "cpu"); /* "cpu,cpuacct": one hierarchy, found once */
	if (fd >= 0 && read_u64(fd, "cpuacct.usage", &s->cpu_ns))
		return;
	if (cg->unified >= 0 &&
	    read_small(cg->dirs[cg->unified].fd, "cpu.stat", text, sizeof(text)) == 0)
		s->cpu_ns = keyed(text, "usage_usec") * 1000;
}

static uint64_t host_memory(void)
{
	char buf[256];
	unsigned long long kb = 0;

	if (read_small(AT_FDCWD, "/proc/meminfo", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "MemTotal: %llu kB", &kb) != 1)
		return 0;
	return kb * 1024;
}

static void read_memory(const struct cgroup *cg, struct ctr_stats *s)
{
	char text[8192];
	uint64_t usage = 0, limit = 0, inactive;
	const struct cgroup_dir *d = cg->memory >= 0 ? &cg->dirs[cg->memory] : NULL;
	bool v2 = cg->mode == CGROUP_V2;
	uint64_t host = host_memory();

	if (!d)
		return;
	read_u64(d->fd, v2 ? "memory.current" : "memory.usage_in_bytes", &usage);
	/* "max" on v2, a huge number on v1: the host's memory, as docker */
	if (!read_u64(d->fd, v2 ? "memory.max" : "memory.limit_in_bytes", &limit) ||
	    (host && limit > host))
		limit = host;
	if (read_small(d->fd, "memory.stat", text, sizeof(text)) == 0) {
		inactive = keyed(text, v2 ? "inactive_file" : "total_inactive_file");
		if (inactive < usage)
			usage -= inactive;
	}
	s->mem_usage = usage;
	s->mem_limit = limit;
}

/* Sum of the Read and Write lines of a v1 blkio file; false when absent or
 * empty (the throttle file is the one with numbers on most kernels). */
static bool read_blkio_v1(int fd, struct ctr_stats *s)
{
	static const char *const files[] = {"blkio.io_service_bytes_recursive",
					    "blkio.throttle.io_service_bytes_recursive"};
	char text[16384];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		bool any = false;
		char *save = NULL;

		if (read_small(fd, files[i], text, sizeof(text)) < 0)
			continue;
		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			unsigned maj, min;
			char op[16];
			unsigned long long v;

			if (sscanf(line, "%u:%u %15s %llu", &maj, &min, op, &v) != 4)
				continue;
			any = true;
			if (!strcmp(op, "Read"))
				s->blk_read += v;
			else if (!strcmp(op, "Write"))
				s->blk_write += v;
		}
		if (any)
			return true;
	}
	return false;
}

/* v2 io.stat: "8:0 rbytes=N wbytes=N rios=..." per device. */
static bool read_io_v2(int fd, struct ctr_stats *s)
{
	char text[16384];
	bool any = false;

	if (read_small(fd, "io.stat", text, sizeof(text)) < 0)
		return false;
	for (char *p = text; (p = strstr(p, "bytes=")); p += 6) {
		if (p > text && p[-1] == 'r')
			s->blk_read += strtoull(p + 6, NULL, 10);
		else if (p > text && p[-1] == 'w')
			s->blk_write += strtoull(p + 6, NULL, 10);
		any = true;
	}
	return any;
}

/* /proc/PID/io of every process of the cgroup (a process's counts include
 * the children it reaped). */
static void read_proc_io(const struct cgroup *cg, struct ctr_stats *s)
{
	const struct cgroup_dir *d = cgroup_procs_dir(cg);
	char procs[65536], path[64], text[1024];

	if (!d || read_small(d->fd, "cgroup.procs", procs, sizeof(procs)) < 0)
		return;
	for (char *p = procs; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		p = end + (*end == '\n');
		snprintf(path, sizeof(path), "/proc/%ld/io", pid);
		if (pid <= 0 || read_small(AT_FDCWD, path, text, sizeof(text)) < 0)
			continue;
		for (char *q = text; q && *q; q = strchr(q, '\n'), q = q ? q + 1 : NULL) {
			if (!strncmp(q, "read_bytes: ", 12))
				s->blk_read += strtoull(q + 12, NULL, 10);
			else if (!strncmp(q, "write_bytes: ", 13))
				s->blk_write += strtoull(q + 13, NULL, 10);
		}
	}
}

static void read_blkio(const struct cgroup *cg, struct ctr_stats *s)
{
	int fd = dir_fd(cg, "blkio");

	if (fd >= 0 && read_blkio_v1(fd, s))
		return;
	if (cg->mode == CGROUP_V2 && cg->unified >= 0 && read_io_v2(cg->dirs[cg->unified].fd, s))
		return;
	read_proc_io(cg, s);
}

static void read_pids(const struct cgroup *cg, struct ctr_stats *s)
{
	int fd = dir_fd(cg, cg->mode == CGROUP_V2 ? "" : "pids");
	const struct cgroup_dir *d;
	char procs[65536];

	if (fd >= 0 && read_u64(fd, "pids.current", &s->pids))
		return;
	d = cgroup_procs_dir(cg);
	if (!d || read_small(d->fd, "cgroup.procs", procs, sizeof(procs)) < 0)
		return;
	for (const char *p = procs; (p = strchr(p, '\n')); p++)
		s->pids++;
}

/* The interfaces of pid's network namespace but lo; nothing when it is the
 * host's (--network host: docker shows no network figures either). */
static void read_net(pid_t pid, struct ctr_stats *s)
{
	char path[64], text[16384];
	struct stat mine, host;
	char *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &mine) < 0 || (stat("/proc/1/ns/net", &host) == 0 &&
				      mine.st_ino == host.st_ino && mine.st_dev == host.st_dev))
		return;
	snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	if (read_small(AT_FDCWD, path, text, sizeof(text)) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long v[16];

		if (!colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (!strcmp(name, "lo"))
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
			s->net_rx += v[0];
			s->net_tx += v[8];
		}
	}
}

void stats_read_cgroup(const struct cgroup *cg, pid_t pid, struct ctr_stats *out)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(out, 0, sizeof(*out));
	out->system_ns = system_cpu_ns();
	out->online_cpus = cpus > 0 ? (unsigned)cpus : 1;
	read_cpu(cg, out);
	read_memory(cg, out);
	read_blkio(cg, out);
	read_pids(cg, out);
	if (pid > 0)
		read_net(pid, out);
}

int stats_read(const char *id, pid_t pid, struct ctr_stats *out, struct sk_err *err)
{
	struct cgroup cg;

	memset(out, 0, sizeof(*out));
	if (container_cgroup_open(id, &cg, err) < 0)
		return -1;
	stats_read_cgroup(&cg, pid, out);
	cgroup_release(&cg);
	return 0;
}

double stats_cpu_percent(const struct ctr_stats *prev, const struct ctr_stats *cur)
{
	double cpu = (double)cur->cpu_ns - (double)prev->cpu_ns;
	double sys = (double)cur->system_ns - (double)prev->system_ns;

	if (cpu <= 0 || sys <= 0)
		return 0;
	return cpu / sys * cur->online_cpus * 100.0;
}

double stats_mem_percent(const struct ctr_stats *s)
{
	return s->mem_limit ? (double)s->mem_usage / (double)s->mem_limit * 100.0 : 0;
}

/* A container's cgroup opened as it is (runtime/cgroup.c cgroup_open_mode),
 * read for docker stats (runtime/stats.c), frozen for pause and changed by
 * update, on fake v1 and v2 trees of plain files: the v2 paths have no real
 * host here (this machine is hybrid). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/stats.h"
#include "unit.h"
#include "util/fs.h"

static uint64_t host_memory(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;

	if (f) {
		if (fscanf(f, "MemTotal: %llu kB", &kb) != 1)
			kb = 0;
		fclose(f);
	}
	return kb * 1024;
}

TEST(v2_stats_freeze_and_update)
{
	char dir[] = "/tmp/skiff-stats-v2-XXXXXX";
	struct cgroup_limits lim = {.memory = 64 << 20, .pids_limit = 7};
	struct ctr_stats s;
	struct cgroup cg;
	struct sk_err err = {0};

	CHECK(mkdtemp(dir) != NULL);
	unit_put_file(dir, "skiff/c1/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
	unit_put_file(dir, "skiff/c1/memory.current", "10485760\n");
	unit_put_file(dir, "skiff/c1/memory.max", "max\n");
	unit_put_file(dir, "skiff/c1/memory.swap.max", "");
	unit_put_file(dir, "skiff/c1/memory.stat", "anon 8388608\nfile 2097152\ninactive_file 1048576\n");
	unit_put_file(dir, "skiff/c1/pids.current", "3\n");
	unit_put_file(dir, "skiff/c1/pids.max", "");
	unit_put_file(dir, "skiff/c1/io.stat",
	    "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n"
	    "8:16 rbytes=1 wbytes=2 rios=1 wios=1\n");
	unit_put_file(dir, "skiff/c1/cgroup.procs", "");
	unit_put_file(dir, "skiff/c1/cgroup.freeze", "0\n");
	unit_put_file(dir, "skiff/c1/cgroup.events", "populated 1\nfrozen 1\n");
	CHECK(cgroup_open_mode(CGROUP_V2, dir, "skiff/c1", &cg, &err) == 0);
	CHECK(cg.n == 1 && cg.unified == 0 && cg.memory == 0 && cg.freezer == -1);
	stats_read_cgroup(&cg, 0, &s);
	CHECK(s.cpu_ns == 2500000);
	CHECK(s.mem_usage == 9 << 20);
	CHECK(s.mem_limit == host_memory());
	CHECK(s.pids == 3);
	CHECK(s.blk_read == 4097 && s.blk_write == 8194);
	CHECK(cgroup_freeze(&cg, true, &err) == 0);
	CHECK_STR(unit_read_file(dir, "skiff/c1/cgroup.freeze"), "1");
	CHECK(cgroup_update(&cg, &lim, &err) == 0);
	CHECK_STR(unit_read_file(dir, "skiff/c1/memory.max"), "67108864");
	CHECK_STR(unit_read_file(dir, "skiff/c1/memory.swap.max"), "67108864"); /* docker: 2 x memory */
	CHECK_STR(unit_read_file(dir, "skiff/c1/pids.max"), "7");
	cgroup_release(&cg);
	CHECK(cgroup_open_mode(CGROUP_V2, dir, "skiff/none", &cg, &err) == -1);
	fs_remove_tree(AT_FDCWD, dir, &err);
}

TEST(v1_stats_freeze_and_update)
{
	char dir[] = "/tmp/skiff-stats-v1-XXXXXX";
	struct cgroup_limits lim = {.memory = 256 << 20, .cpuset_cpus = "0"};
	struct ctr_stats s;
	struct cgroup cg;
	struct sk_err err = {0};

	CHECK(mkdtemp(dir) != NULL);
	unit_put_file(dir, "memory/c/memory.usage_in_bytes", "20971520\n");
	unit_put_file(dir, "memory/c/memory.limit_in_bytes", "67108864\n");
	unit_put_file(dir, "memory/c/memory.memsw.limit_in_bytes", "134217728\n");
	unit_put_file(dir, "memory/c/memory.stat", "cache 1\ntotal_inactive_file 4194304\n");
	unit_put_file(dir, "cpuacct/c/cpuacct.usage", "123456789\n");
	unit_put_file(dir, "pids/c/pids.current", "2\n");
	unit_put_file(dir, "freezer/c/freezer.state", "FROZEN\n");
	unit_put_file(dir, "freezer/c/cgroup.procs", "");
	unit_put_file(dir, "blkio/c/blkio.io_service_bytes_recursive", "Total 0\n");
	unit_put_file(dir, "blkio/c/blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 100\n8:0 Write 200\n8:0 Sync 5\n8:0 Total 300\nTotal 300\n");
	CHECK(cgroup_open_mode(CGROUP_V1, dir, "c", &cg, &err) == 0);
	CHECK(cg.n == 5 && cg.unified == -1 && cg.memory >= 0 && cg.freezer >= 0);
	CHECK(cgroup_find(&cg, "cpuacct") >= 0 && cgroup_find(&cg, "cpuset") == -1);
	stats_read_cgroup(&cg, 0, &s);
	CHECK(s.cpu_ns == 123456789);
	CHECK(s.mem_usage == 16 << 20 && s.mem_limit == 64 << 20);
	CHECK(s.pids == 2);
	CHECK(s.blk_read == 100 && s.blk_write == 200);
	CHECK(cgroup_freeze(&cg, true, &err) == 0);
	CHECK_STR(unit_read_file(dir, "freezer/c/freezer.state"), "FROZEN");
	/* a rise: memory then swap total, 2 x memory by docker's rule; no
	 * cpuset cgroup to write to: a warning, not an error */
	CHECK(cgroup_update(&cg, &lim, &err) == 0);
	CHECK_STR(unit_read_file(dir, "memory/c/memory.limit_in_bytes"), "268435456");
	CHECK_STR(unit_read_file(dir, "memory/c/memory.memsw.limit_in_bytes"), "536870912");
	cgroup_release(&cg);
	fs_remove_tree(AT_FDCWD, dir, &err);
}

TEST(cpu_and_memory_percent_as_docker)
{
	struct ctr_stats prev = {.cpu_ns = 1000, .system_ns = 1000000};
	struct ctr_stats cur = {.cpu_ns = 1000 + 500000000ULL,
				.system_ns = 1000000 + 2000000000ULL,
				.online_cpus = 2,
				.mem_usage = 16 << 20,
				.mem_limit = 64 << 20};

	CHECK(stats_cpu_percent(&prev, &cur) > 49.99 && stats_cpu_percent(&prev, &cur) < 50.01);
	CHECK(stats_cpu_percent(&cur, &cur) == 0);
	CHECK(stats_mem_percent(&cur) == 25.0);
	cur.mem_limit = 0;
	CHECK(stats_mem_percent(&cur) == 0);
}

int main(void)
{
	RUN(v2_stats_freeze_and_update);
	RUN(v1_stats_freeze_and_update);
	RUN(cpu_and_memory_percent_as_docker);
	return UNIT_DONE();
}

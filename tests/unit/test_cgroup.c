/*
 * cgroup.c: flag parsing, detection, and what gets written to fake v1 and v2
 * trees; as root, a real cgroup on this host with a child in it: limits read
 * back, an OOM kill detected, a fork bomb contained and killed, nothing left.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "runtime/cgroup.h"
#include "runtime/internal.h"
#include "util/fs.h"
#include <sys/sysmacros.h>
#include <linux/bpf.h>
#include "unit.h"

TEST(mode_from_magic)
{
	CHECK(cgroup_mode_from_magic(CGROUP2_SUPER_MAGIC, 0) == CGROUP_V2);
	CHECK(cgroup_mode_from_magic(TMPFS_MAGIC, CGROUP2_SUPER_MAGIC) == CGROUP_HYBRID);
	CHECK(cgroup_mode_from_magic(TMPFS_MAGIC, 0) == CGROUP_V1);
	CHECK(cgroup_mode_from_magic(TMPFS_MAGIC, TMPFS_MAGIC) == CGROUP_V1);
	CHECK(cgroup_mode_from_magic(0xEF53, 0) == -1);
}

TEST(detect_this_host)
{
	enum cgroup_mode mode;
	struct sk_err err;

	/* These machines are hybrid; elsewhere just require an answer. */
	CHECK(cgroup_detect(CGROUP_ROOT, &mode, &err) == 0);
	CHECK(cgroup_detect("/tmp", &mode, &err) < 0 || mode == CGROUP_V1);
}

static int64_t bytes(const char *s)
{
	struct sk_err err;
	int64_t v;

	return cgroup_parse_bytes(s, &v, &err) < 0 ? -1 : v;
}

TEST(parse_bytes)
{
	CHECK(bytes("100") == 100);
	CHECK(bytes("100b") == 100);
	CHECK(bytes("10k") == 10240);
	CHECK(bytes("1kb") == 1024);
	CHECK(bytes("512m") == 512LL << 20);
	CHECK(bytes("512M") == 512LL << 20);
	CHECK(bytes("2MiB") == 2LL << 20);
	CHECK(bytes("1g") == 1LL << 30);
	CHECK(bytes("1.5g") == 3LL << 29);
	CHECK(bytes("1 g") == 1LL << 30);
	CHECK(bytes("2t") == 2LL << 40);
	CHECK(bytes("") == -1);
	CHECK(bytes("m") == -1);
	CHECK(bytes("12x") == -1);
	CHECK(bytes("-5") == -1);
	CHECK(bytes("1gg") == -1);
	CHECK(bytes("99999999999999999999") == -1);
	CHECK(bytes("9999999999p") == -1);
}

TEST(parse_memory_flags)
{
	struct cgroup_limits lim = {0};
	struct sk_err err;

	CHECK(cgroup_parse_memory("4m", &lim, &err) < 0);
	CHECK(strstr(err.msg, "6MB") != NULL);
	CHECK(cgroup_parse_memory("512m", &lim, &err) == 0 && lim.memory == 512LL << 20);
	CHECK(cgroup_parse_memory_swap("-1", &lim, &err) == 0 && lim.memory_swap == -1);
	CHECK(cgroup_limits_check(&lim, &err) == 0);
	CHECK(cgroup_parse_memory_swap("256m", &lim, &err) == 0);
	CHECK(cgroup_limits_check(&lim, &err) < 0);
	lim.memory = 0;
	CHECK(cgroup_limits_check(&lim, &err) < 0);
	CHECK_STR(err.msg, "--memory-swap needs --memory as well");
}

TEST(parse_cpus)
{
	struct cgroup_limits lim = {0};
	struct sk_err err;

	CHECK(cgroup_parse_cpus("1.5", &lim, &err) == 0 || sysconf(_SC_NPROCESSORS_ONLN) < 2);
	CHECK(lim.cpu_quota == 150000 && lim.cpu_period == 100000);
	CHECK(cgroup_parse_cpus("0.5", &lim, &err) == 0 && lim.cpu_quota == 50000);
	CHECK(cgroup_parse_cpus("0.01", &lim, &err) == 0 && lim.cpu_quota == 1000);
	CHECK(cgroup_parse_cpus("0.001", &lim, &err) < 0);
	CHECK(cgroup_parse_cpus("abc", &lim, &err) < 0);
	CHECK(cgroup_parse_cpus("1.", &lim, &err) == 0 && lim.cpu_quota == 100000);
	CHECK(cgroup_parse_cpus("-1", &lim, &err) < 0);
	CHECK(cgroup_parse_cpus("100000", &lim, &err) < 0);
}

TEST(shares_and_weight)
{
	struct cgroup_limits lim = {0};
	struct sk_err err;

	CHECK(cgroup_shares_to_weight(2) == 1);
	CHECK(cgroup_shares_to_weight(1024) == 39);
	CHECK(cgroup_shares_to_weight(262144) == 10000);
	CHECK(cgroup_parse_cpu_shares("512", &lim, &err) == 0 && lim.cpu_shares == 512);
	CHECK(cgroup_parse_cpu_shares("1", &lim, &err) < 0);
	CHECK(cgroup_parse_cpu_shares("x", &lim, &err) < 0);
}

TEST(parse_cpuset_and_pids)
{
	struct cgroup_limits lim = {0};
	struct sk_err err;

	CHECK(cgroup_parse_cpuset_cpus("0-1,3", &lim, &err) == 0);
	CHECK_STR(lim.cpuset_cpus, "0-1,3");
	CHECK(cgroup_parse_cpuset_cpus("0", &lim, &err) == 0);
	CHECK(cgroup_parse_cpuset_cpus("1-0", &lim, &err) < 0);
	CHECK(cgroup_parse_cpuset_cpus("0,", &lim, &err) < 0);
	CHECK(cgroup_parse_cpuset_cpus(",1", &lim, &err) < 0);
	CHECK(cgroup_parse_cpuset_cpus("a", &lim, &err) < 0);
	CHECK(cgroup_parse_cpuset_cpus("", &lim, &err) < 0);
	CHECK(cgroup_parse_cpuset_cpus("0-", &lim, &err) < 0);
	CHECK(cgroup_parse_pids_limit("100", &lim, &err) == 0 && lim.pids_limit == 100);
	CHECK(cgroup_parse_pids_limit("-1", &lim, &err) == 0 && lim.pids_limit == -1);
	CHECK(cgroup_parse_pids_limit("0", &lim, &err) == 0 && lim.pids_limit == -1);
	CHECK(cgroup_parse_pids_limit("-2", &lim, &err) < 0);
	CHECK(cgroup_parse_pids_limit("1e3", &lim, &err) < 0);
}

/* ---- fake trees --------------------------------------------------------- */

static void remove_tmp(const char *dir)
{
	struct sk_err err;

	fs_remove_tree(AT_FDCWD, dir, &err);
}

TEST(fake_v1_tree)
{
	char dir[] = "/tmp/skiff-cg-v1-XXXXXX";
	static const char *const files[] = {
	    "memory/skiff/t1/memory.limit_in_bytes", /* memsw absent: swap accounting off */
	    "memory/skiff/t1/memory.oom_control",
	    "memory/skiff/t1/cgroup.procs",
	    "cpu/skiff/t1/cpu.cfs_quota_us",
	    "cpu/skiff/t1/cpu.cfs_period_us",
	    "cpu/skiff/t1/cpu.shares",
	    "cpu/skiff/t1/cgroup.procs",
	    "cpuacct/skiff/t1/cgroup.procs",
	    "pids/skiff/t1/pids.max",
	    "pids/skiff/t1/cgroup.procs",
	    "cpuset/cpuset.cpus",
	    "cpuset/cpuset.mems",
	    "cpuset/skiff/t1/cgroup.procs",
	    "cpuset/skiff/cpuset.cpus",
	    "cpuset/skiff/cpuset.mems",
	    "cpuset/skiff/t1/cpuset.cpus",
	    "cpuset/skiff/t1/cpuset.mems",
	    "freezer/skiff/t1/cgroup.procs",
	};
	struct cgroup_limits lim = {.memory = 64 << 20,
				    .cpu_quota = 50000,
				    .cpu_period = 100000,
				    .cpu_shares = 512,
				    .cpuset_cpus = "0",
				    .pids_limit = 42};
	struct cgroup cg;
	struct sk_err err;

	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unit_put_file(dir, files[i], "");
	unit_put_file(dir, "cpuset/cpuset.cpus", "0-1\n");
	unit_put_file(dir, "cpuset/cpuset.mems", "0\n");
	CHECK(cgroup_create(CGROUP_V1, dir, "skiff/t1", &lim, &cg, &err) == 0);
	CHECK(cg.n == 6 && cg.unified == -1 && cg.memory >= 0 && cg.freezer >= 0);
	CHECK_STR(unit_read_file(dir, "memory/skiff/t1/memory.limit_in_bytes"), "67108864");
	CHECK_STR(unit_read_file(dir, "cpu/skiff/t1/cpu.cfs_quota_us"), "50000");
	CHECK_STR(unit_read_file(dir, "cpu/skiff/t1/cpu.cfs_period_us"), "100000");
	CHECK_STR(unit_read_file(dir, "cpu/skiff/t1/cpu.shares"), "512");
	CHECK_STR(unit_read_file(dir, "pids/skiff/t1/pids.max"), "42");
	/* parents' cpus/mems copied down to each new level, then the limit */
	CHECK_STR(unit_read_file(dir, "cpuset/skiff/cpuset.mems"), "0\n");
	CHECK_STR(unit_read_file(dir, "cpuset/skiff/t1/cpuset.mems"), "0\n");
	CHECK_STR(unit_read_file(dir, "cpuset/skiff/t1/cpuset.cpus"), "0");
	CHECK(cgroup_enter(&cg, 4321, &err) == 0);
	CHECK_STR(unit_read_file(dir, "freezer/skiff/t1/cgroup.procs"), "4321");
	CHECK_STR(unit_read_file(dir, "cpuacct/skiff/t1/cgroup.procs"), "4321");
	CHECK(!cgroup_oom_killed(&cg));
	unit_put_file(dir, "memory/skiff/t1/memory.oom_control",
	      "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	CHECK(cgroup_oom_killed(&cg));
	CHECK(cgroup_clone_fd(&cg) == -1);
	cgroup_release(&cg);
	remove_tmp(dir);
}

/* Every hierarchy is joined, as docker's: the container's view of
 * /sys/fs/cgroup then shows only its own cgroups. Co-mounted controllers
 * share a directory (their symlinks are not joined twice), named
 * hierarchies too, and cpuset without --cpuset-cpus inherits its parent's. */
TEST(fake_v1_every_hierarchy_joined)
{
	char dir[] = "/tmp/skiff-cg-v1b-XXXXXX";
	char link[64];
	struct cgroup_limits lim = {.pids_limit = -1, .cpu_shares = 512};
	struct cgroup cg;
	struct sk_err err;

	CHECK(mkdtemp(dir) != NULL);
	unit_put_file(dir, "pids/x/y/pids.max", "");
	unit_put_file(dir, "cpu,cpuacct/x/y/cpu.shares", "");
	unit_put_file(dir, "systemd/x/y/cgroup.procs", "");
	unit_put_file(dir, "blkio/x/y/cgroup.procs", "");
	unit_put_file(dir, "net_cls,net_prio/x/y/cgroup.procs", "");
	unit_put_file(dir, "cpuset/cpuset.cpus", "0-1\n");
	unit_put_file(dir, "cpuset/cpuset.mems", "0\n");
	unit_put_file(dir, "cpuset/cgroup.clone_children", "0");
	unit_put_file(dir, "cpuset/x/cpuset.cpus", "");
	unit_put_file(dir, "cpuset/x/cpuset.mems", "");
	unit_put_file(dir, "cpuset/x/cgroup.clone_children", "0");
	unit_put_file(dir, "cpuset/x/y/cpuset.cpus", "");
	unit_put_file(dir, "cpuset/x/y/cpuset.mems", "");
	unit_put_file(dir, "unified/x/y/cgroup.procs", "");
	unit_put_file(dir, "pids/x/y/cgroup.procs", "");
	unit_put_file(dir, "cpu,cpuacct/x/y/cgroup.procs", "");
	unit_put_file(dir, "cpuset/x/y/cgroup.procs", "");
	snprintf(link, sizeof(link), "%s/cpu", dir);
	CHECK(symlink("cpu,cpuacct", link) == 0);
	snprintf(link, sizeof(link), "%s/cpuacct", dir);
	CHECK(symlink("cpu,cpuacct", link) == 0);
	CHECK(cgroup_create(CGROUP_HYBRID, dir, "x/y", &lim, &cg, &err) == 0);
	CHECK(cg.n == 7 && cg.unified >= 0 && cg.memory == -1 && cg.freezer == -1);
	CHECK_STR(cg.dirs[cg.unified].controller, "");
	CHECK_STR(unit_read_file(dir, "pids/x/y/pids.max"), "max");
	CHECK_STR(unit_read_file(dir, "cpu,cpuacct/x/y/cpu.shares"), "512");
	CHECK_STR(unit_read_file(dir, "cpuset/x/y/cpuset.cpus"), "0-1\n");
	CHECK_STR(unit_read_file(dir, "cpuset/x/y/cpuset.mems"), "0\n");
	/* skiff's level clones for its next children; the host's root stays */
	CHECK_STR(unit_read_file(dir, "cpuset/x/cgroup.clone_children"), "1");
	CHECK_STR(unit_read_file(dir, "cpuset/cgroup.clone_children"), "0");
	CHECK(cgroup_enter(&cg, 99, &err) == 0);
	CHECK_STR(unit_read_file(dir, "systemd/x/y/cgroup.procs"), "99");
	CHECK_STR(unit_read_file(dir, "blkio/x/y/cgroup.procs"), "99");
	CHECK_STR(unit_read_file(dir, "net_cls,net_prio/x/y/cgroup.procs"), "99");
	CHECK(cgroup_has_controller("cpu,cpuacct", "cpu"));
	CHECK(cgroup_has_controller("cpu,cpuacct", "cpuacct"));
	CHECK(!cgroup_has_controller("cpuacct", "cpu"));
	CHECK(!cgroup_has_controller("net_cls,net_prio", "net"));
	cgroup_release(&cg);
	remove_tmp(dir);
}

TEST(fake_v2_tree)
{
	char dir[] = "/tmp/skiff-cg-v2-XXXXXX";
	struct cgroup_limits lim = {.memory = 64 << 20,
				    .memory_swap = 96 << 20,
				    .cpu_quota = 150000,
				    .cpu_period = 100000,
				    .cpu_shares = 1024,
				    .pids_limit = 100,
				    /* a plain directory cannot take a BPF program:
				     * real_device_bpf_program tests that part */
				    .devices_allow_all = true};
	struct cgroup cg;
	struct sk_err err;

	CHECK(mkdtemp(dir) != NULL);
	unit_put_file(dir, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	unit_put_file(dir, "cgroup.subtree_control", "");
	unit_put_file(dir, "skiff/cgroup.subtree_control", "");
	unit_put_file(dir, "skiff/t2/memory.max", "");
	unit_put_file(dir, "skiff/t2/memory.swap.max", "");
	unit_put_file(dir, "skiff/t2/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
	unit_put_file(dir, "skiff/t2/cpu.max", "");
	unit_put_file(dir, "skiff/t2/cpu.weight", "");
	unit_put_file(dir, "skiff/t2/pids.max", "");
	unit_put_file(dir, "skiff/t2/cgroup.procs", "");
	CHECK(cgroup_create(CGROUP_V2, dir, "skiff/t2", &lim, &cg, &err) == 0);
	CHECK_STR(unit_read_file(dir, "cgroup.subtree_control"), "+cpu +memory +pids");
	CHECK_STR(unit_read_file(dir, "skiff/cgroup.subtree_control"), "+cpu +memory +pids");
	CHECK_STR(unit_read_file(dir, "skiff/t2/memory.max"), "67108864");
	CHECK_STR(unit_read_file(dir, "skiff/t2/memory.swap.max"), "33554432");
	CHECK_STR(unit_read_file(dir, "skiff/t2/cpu.max"), "150000 100000");
	CHECK_STR(unit_read_file(dir, "skiff/t2/cpu.weight"), "39");
	CHECK_STR(unit_read_file(dir, "skiff/t2/pids.max"), "100");
	CHECK(!cgroup_oom_killed(&cg));
	CHECK(cgroup_clone_fd(&cg) >= 0);
	CHECK(cgroup_enter(&cg, 77, &err) == 0);
	CHECK_STR(unit_read_file(dir, "skiff/t2/cgroup.procs"), "77");
	cgroup_release(&cg);

	/* memory without --memory-swap: as much swap as memory, as docker */
	lim = (struct cgroup_limits){.memory = 64 << 20, .devices_allow_all = true};
	CHECK(cgroup_create(CGROUP_V2, dir, "skiff/t2", &lim, &cg, &err) == 0);
	CHECK_STR(unit_read_file(dir, "skiff/t2/memory.swap.max"), "67108864");
	cgroup_release(&cg);
	lim.memory_swap = -1;
	CHECK(cgroup_create(CGROUP_V2, dir, "skiff/t2", &lim, &cg, &err) == 0);
	CHECK_STR(unit_read_file(dir, "skiff/t2/memory.swap.max"), "max");
	cgroup_release(&cg);
	remove_tmp(dir);
}

/* The container's view (mounted by the child): docker's v1 hierarchies on
 * v1 and hybrid hosts, one cgroup2 on v2 hosts, from /proc/self/cgroup. */
TEST(view_plan_hybrid_host)
{
	struct cgroup_view_plan p;

	cgroup_view_plan("12:net_cls,net_prio:/\n9:name=systemd:/user.slice\n"
			 "4:memory:/x\n2:cpu,cpuacct:/\n0::/user.slice/session-1.scope\n",
			 CGROUP_HYBRID, &p);
	CHECK(!p.v2 && p.n == 4);
	CHECK_STR(p.hier[0].dir, "net_cls,net_prio");
	CHECK_STR(p.hier[0].options, "net_cls,net_prio");
	CHECK_STR(p.hier[1].dir, "systemd");
	CHECK_STR(p.hier[1].options, "name=systemd");
	CHECK_STR(p.hier[2].dir, "memory");
	CHECK_STR(p.hier[3].dir, "cpu,cpuacct");
}

TEST(view_plan_v2_only_host)
{
	struct cgroup_view_plan p;

	cgroup_view_plan("0::/user.slice/user-1000.slice/session-2.scope\n", 0, &p);
	CHECK(p.v2 && p.n == 0);
	/* a leftover v1 hierarchy on a v2 host (name=systemd for old
	 * containers): the view is still the host's cgroup2 */
	cgroup_view_plan("1:name=systemd:/\n0::/user.slice\n", CGROUP_V2, &p);
	CHECK(p.v2 && p.n == 0);
	/* no cgroups at all (or an unreadable file): no view */
	cgroup_view_plan("", 0, &p);
	CHECK(!p.v2 && p.n == 0);
}

TEST(view_plan_odd_lines_left_out)
{
	struct cgroup_view_plan p;

	cgroup_view_plan("3:name=../../etc:/\n4::/\n5:name=:/\n6:pids\n7:"
			 "a-controller-list-longer-than-the-space-for-it:/\n8:pids:/",
			 CGROUP_V1, &p);
	CHECK(!p.v2 && p.n == 1);
	CHECK_STR(p.hier[0].dir, "pids");
}

TEST(bad_names_refused)
{
	struct cgroup_limits lim = {0};
	struct cgroup cg;
	struct sk_err err;

	CHECK(cgroup_create(CGROUP_V2, "/tmp", "../x", &lim, &cg, &err) < 0);
	CHECK(cgroup_create(CGROUP_V2, "/tmp", "/abs", &lim, &cg, &err) < 0);
	CHECK(cgroup_create(CGROUP_V2, "/tmp", "", &lim, &cg, &err) < 0);
}

/* ---- the real thing (root only) ----------------------------------------- */

static bool real_cgroups(enum cgroup_mode *mode)
{
	struct sk_err err;

	if (geteuid() != 0 || cgroup_detect(CGROUP_ROOT, mode, &err) < 0) {
		printf("test_cgroup: real cgroup tests skipped (not root or no cgroups)\n");
		return false;
	}
	return true;
}

static const char *mem_file(enum cgroup_mode mode)
{
	return mode == CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes";
}

static const char *mem_dir(enum cgroup_mode mode)
{
	return mode == CGROUP_V2 ? "" : "memory/";
}

static void cleanup_parent(enum cgroup_mode mode)
{
	static const char *const h[] = {"",	 "memory/",  "cpu/",	"cpuacct/",
					"pids/", "freezer/", "cpuset/", "unified/"};
	char path[256];

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		snprintf(path, sizeof(path), CGROUP_ROOT "/%sskiff-test", h[i]);
		rmdir(path);
	}
}

static pid_t spawn(void (*fn)(void), int gate[2])
{
	pid_t pid;
	char c;

	if (pipe(gate) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(gate[1]);
		/* Wait until the parent has moved us into the cgroup. */
		if (read(gate[0], &c, 1) < 0)
			_exit(2);
		fn();
		_exit(0);
	}
	close(gate[0]);
	return pid;
}

static void go(int gate[2])
{
	if (write(gate[1], "x", 1) < 0)
		perror("write");
	close(gate[1]);
}

static void sleeper(void)
{
	for (;;)
		pause();
}

TEST(real_limits_kill_destroy)
{
	enum cgroup_mode mode;
	struct cgroup_limits lim = {0};
	struct cgroup cg;
	struct sk_err err;
	char name[64], path[512], self[4096];
	int gate[2], status;
	pid_t pid;

	if (!real_cgroups(&mode))
		return;
	snprintf(name, sizeof(name), "skiff-test/limits-%d", (int)getpid());
	CHECK(cgroup_parse_memory("64m", &lim, &err) == 0);
	CHECK(cgroup_parse_pids_limit("50", &lim, &err) == 0);
	CHECK(cgroup_parse_cpus("0.5", &lim, &err) == 0);
	CHECK(cgroup_parse_cpu_shares("512", &lim, &err) == 0);
	if (cgroup_create(mode, CGROUP_ROOT, name, &lim, &cg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), CGROUP_ROOT "/%s%s", mem_dir(mode), name);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s%s", mem_dir(mode), name);
	{
		char rel[600];

		snprintf(rel, sizeof(rel), "%s/%s", path, mem_file(mode));
		CHECK_STR(unit_read_file(CGROUP_ROOT, rel), "67108864\n");
		snprintf(rel, sizeof(rel), "%s%s/pids.max", mode == CGROUP_V2 ? "" : "pids/", name);
		CHECK_STR(unit_read_file(CGROUP_ROOT, rel), "50\n");
		if (mode != CGROUP_V2) {
			snprintf(rel, sizeof(rel), "cpu/%s/cpu.cfs_quota_us", name);
			CHECK_STR(unit_read_file(CGROUP_ROOT, rel), "50000\n");
		}
	}
	pid = spawn(sleeper, gate);
	CHECK(cgroup_enter(&cg, pid, &err) == 0);
	go(gate);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	snprintf(self, sizeof(self), "%s", unit_read_file("/", path));
	CHECK(strstr(self, name) != NULL);
	CHECK(cgroup_kill_all(&cg, &err) == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	      WTERMSIG(status) == SIGKILL);
	CHECK(!cgroup_oom_killed(&cg));
	CHECK(cgroup_destroy(&cg, &err) == 0);
	snprintf(path, sizeof(path), CGROUP_ROOT "/%s%s", mem_dir(mode), name);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	cleanup_parent(mode);
}

static void hog(void)
{
	/* Touch 256 MiB, page by page: the 32 MiB limit must stop it. */
	for (size_t i = 0; i < 256; i++) {
		char *p = malloc(1 << 20);

		if (!p)
			_exit(3);
		memset(p, 1, 1 << 20);
	}
	_exit(0);
}

TEST(real_oom_kill_detected)
{
	enum cgroup_mode mode;
	struct cgroup_limits lim = {.memory = 32 << 20, .memory_swap = 32 << 20};
	struct cgroup cg;
	struct sk_err err;
	char name[64];
	int gate[2], status;
	pid_t pid;

	if (!real_cgroups(&mode))
		return;
	snprintf(name, sizeof(name), "skiff-test/oom-%d", (int)getpid());
	if (cgroup_create(mode, CGROUP_ROOT, name, &lim, &cg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CHECK(0);
		return;
	}
	pid = spawn(hog, gate);
	CHECK(cgroup_enter(&cg, pid, &err) == 0);
	go(gate);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(cgroup_oom_killed(&cg));
	CHECK(cgroup_kill_all(&cg, &err) == 0);
	CHECK(cgroup_destroy(&cg, &err) == 0);
	cleanup_parent(mode);
}

static void fork_bomb(void)
{
	for (;;)
		fork();
}

TEST(real_fork_bomb_contained_and_killed)
{
	enum cgroup_mode mode;
	struct cgroup_limits lim = {.pids_limit = 30};
	struct cgroup cg;
	struct sk_err err;
	char name[64], rel[256];
	int gate[2];
	pid_t pid, other;

	if (!real_cgroups(&mode))
		return;
	snprintf(name, sizeof(name), "skiff-test/bomb-%d", (int)getpid());
	if (cgroup_create(mode, CGROUP_ROOT, name, &lim, &cg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CHECK(0);
		return;
	}
	pid = spawn(fork_bomb, gate);
	CHECK(cgroup_enter(&cg, pid, &err) == 0);
	go(gate);
	usleep(200 * 1000);
	snprintf(rel, sizeof(rel), "%s%s/pids.current", mode == CGROUP_V2 ? "" : "pids/", name);
	CHECK(atoi(unit_read_file(CGROUP_ROOT, rel)) <= 30);
	/* the host still starts processes */
	other = fork();
	if (other == 0)
		_exit(0);
	CHECK(other > 0 && waitpid(other, NULL, 0) == other);
	CHECK(cgroup_kill_all(&cg, &err) == 0);
	waitpid(pid, NULL, 0);
	CHECK(cgroup_destroy(&cg, &err) == 0);
	cleanup_parent(mode);
}

/* Exit status: 0 when /dev/null opens and a fresh /dev/mem node (c 1:1)
 * does not (EPERM); 1 + which check failed otherwise. */
static void device_probe(void)
{
	char node[64];
	int fd;

	snprintf(node, sizeof(node), "/tmp/skiff-test-mem-%d", (int)getpid());
	unlink(node);
	if (mknod(node, S_IFCHR | 0600, makedev(1, 1)) < 0)
		_exit(2); /* mknod itself stays allowed ("c *:* m") */
	fd = open(node, O_RDONLY);
	unlink(node);
	if (fd >= 0 || errno != EPERM)
		_exit(3);
	fd = open("/dev/null", O_RDWR);
	_exit(fd >= 0 ? 0 : 4);
}

static int probe_in(const struct cgroup *cg, const char *procs_path)
{
	struct sk_err err;
	int gate[2], status = -1;
	pid_t pid = spawn(device_probe, gate);
	char v[32];

	if (cg) {
		CHECK(cgroup_enter(cg, pid, &err) == 0);
	} else {
		int fd = open(procs_path, O_WRONLY);

		snprintf(v, sizeof(v), "%d", (int)pid);
		CHECK(fd >= 0 && write(fd, v, strlen(v)) > 0);
		close(fd);
	}
	go(gate);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(real_device_access_restricted)
{
	enum cgroup_mode mode;
	struct cgroup_limits lim = {0}, all = {.devices_allow_all = true};
	struct cgroup cg;
	struct sk_err err;
	char name[64];
	int rc;

	if (!real_cgroups(&mode))
		return;
	snprintf(name, sizeof(name), "skiff-test/dev-%d", (int)getpid());
	CHECK(cgroup_create(mode, CGROUP_ROOT, name, &lim, &cg, &err) == 0);
	CHECK((rc = probe_in(&cg, NULL)) == 0);
	if (rc)
		fprintf(stderr, "device probe: %d\n", rc);
	CHECK(cgroup_destroy(&cg, &err) == 0);
	/* --privileged: the node opens (or fails for another reason than EPERM) */
	CHECK(cgroup_create(mode, CGROUP_ROOT, name, &all, &cg, &err) == 0);
	CHECK(probe_in(&cg, NULL) == 3);
	CHECK(cgroup_destroy(&cg, &err) == 0);
	cleanup_parent(mode);
}

/* The v2 program, tried on the unified hierarchy of a hybrid host too. */
TEST(real_device_bpf_program)
{
	enum cgroup_mode mode;
	struct sk_err err;
	char dir[128], procs[160];
	const char *base;
	int fd;

	if (!real_cgroups(&mode) || mode == CGROUP_V1)
		return;
	base = mode == CGROUP_V2 ? CGROUP_ROOT : CGROUP_ROOT "/unified";
	snprintf(dir, sizeof(dir), "%s/skiff-test", base);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/skiff-test/bpf-%d", base, (int)getpid());
	CHECK(mkdir(dir, 0755) == 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (cgroup_devices_bpf(fd, false, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CHECK(0);
	}
	close(fd);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	CHECK(probe_in(NULL, procs) == 0);
	CHECK(rmdir(dir) == 0);
	cleanup_parent(mode);
}

/* The child's half of the view (mounts.c), on the real kernel in a mount and
 * cgroup namespace of a process of our own: cgroup2 alone as on a v2 host
 * (this hybrid host has it at unified/), and v1 hierarchies into a tmpfs
 * made as the child makes it; read-only, rooted at the namespace's cgroup. */
static void view_mounts_in_child(const char *v2dir, const char *v1dir)
{
	struct cgroup_view v = CGROUP_VIEW_INIT;
	struct sk_err err = { 0 };
	struct statfs st;
	char path[128];

	CHECK(unshare(CLONE_NEWNS | CLONE_NEWCGROUP) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	v.plan.v2 = true;
	v.mnt = open(v2dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	v.attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	CHECK(mounts_cgroup_view_finish(&v, &err) == 0);
	CHECK(v.mnt == -1);
	CHECK(statfs(v2dir, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC);
	snprintf(path, sizeof(path), "%s/cgroup.procs", v2dir);
	CHECK(open(path, O_WRONLY) < 0 && errno == EROFS);

	CHECK(mount("tmpfs", v1dir, "tmpfs", 0, "mode=755") == 0);
	snprintf(path, sizeof(path), "%s/memory", v1dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/systemd", v1dir);
	CHECK(mkdir(path, 0755) == 0);
	v = (struct cgroup_view)CGROUP_VIEW_INIT;
	cgroup_view_plan("9:name=systemd:/\n4:memory:/x\n0::/\n", CGROUP_HYBRID, &v.plan);
	v.mnt = open(v1dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	v.attrs = MOUNT_ATTR_RDONLY;
	CHECK(mounts_cgroup_view_finish(&v, &err) == 0);
	snprintf(path, sizeof(path), "%s/memory/memory.limit_in_bytes", v1dir);
	CHECK(access(path, R_OK) == 0);
	snprintf(path, sizeof(path), "%s/systemd/cgroup.procs", v1dir);
	CHECK(access(path, R_OK) == 0 && open(path, O_WRONLY) < 0 && errno == EROFS);
	/* the tmpfs went read-only once filled */
	snprintf(path, sizeof(path), "%s/more", v1dir);
	CHECK(mkdir(path, 0755) < 0 && errno == EROFS);
	_exit(unit_cur_failed);
}

TEST(real_view_mounts)
{
	char v2dir[] = "/tmp/skiff-view2-XXXXXX", v1dir[] = "/tmp/skiff-view1-XXXXXX";
	enum cgroup_mode mode;
	int status = -1;
	pid_t pid;

	if (!real_cgroups(&mode) || !mkdtemp(v2dir) || !mkdtemp(v1dir))
		return;
	pid = fork();
	if (pid == 0)
		view_mounts_in_child(v2dir, v1dir);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rmdir(v2dir);
	rmdir(v1dir);
}

TEST(device_program_shape)
{
	struct bpf_insn prog[256];
	size_t n = cgroup_devices_program(prog, 256);

	CHECK(n > 20 && n < 256);
	CHECK(prog[n - 1].code == (BPF_JMP | BPF_EXIT)); /* ends with "return 0" */
	CHECK(prog[n - 2].imm == 0);
	CHECK(cgroup_devices_program(prog, 8) == 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(mode_from_magic);
	RUN(detect_this_host);
	RUN(parse_bytes);
	RUN(parse_memory_flags);
	RUN(parse_cpus);
	RUN(shares_and_weight);
	RUN(parse_cpuset_and_pids);
	RUN(fake_v1_tree);
	RUN(fake_v1_every_hierarchy_joined);
	RUN(fake_v2_tree);
	RUN(view_plan_hybrid_host);
	RUN(view_plan_v2_only_host);
	RUN(view_plan_odd_lines_left_out);
	RUN(bad_names_refused);
	RUN(real_limits_kill_destroy);
	RUN(real_oom_kill_detected);
	RUN(real_fork_bomb_contained_and_killed);
	RUN(real_device_access_restricted);
	RUN(real_device_bpf_program);
	RUN(real_view_mounts);
	RUN(device_program_shape);
	return UNIT_DONE();
}

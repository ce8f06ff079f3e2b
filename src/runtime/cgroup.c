/*
 * cgroups v1, v2 and hybrid: detection (as crun), docker's resource flags,
 * creating a container's cgroup with its limits, joining it, OOM detection,
 * killing everything in it and removing it.
 *
 * Each hierarchy's directory is opened once and every control file is
 * reached with openat() from it: a run with limits costs one mkdir and a few
 * small writes per hierarchy, nothing is read that is not needed.
 */
#include "runtime/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/log.h"

/* ---- detection ---------------------------------------------------------- */

int cgroup_mode_from_magic(long root_magic, long unified_magic)
{
	if (root_magic == CGROUP2_SUPER_MAGIC)
		return CGROUP_V2;
	if (root_magic != TMPFS_MAGIC)
		return -1;
	return unified_magic == CGROUP2_SUPER_MAGIC ? CGROUP_HYBRID : CGROUP_V1;
}

int cgroup_detect(const char *root, enum cgroup_mode *mode, struct sk_err *err)
{
	char unified[CGROUP_PATH_MAX];
	struct statfs st, ust = {0};
	int m;

	if (statfs(root, &st) < 0)
		return err_set(err, errno, "cannot find cgroups at '%s'", root);
	snprintf(unified, sizeof(unified), "%s/unified", root);
	if (st.f_type == TMPFS_MAGIC && statfs(unified, &ust) < 0)
		ust.f_type = 0;
	m = cgroup_mode_from_magic((long)st.f_type, (long)ust.f_type);
	if (m < 0)
		return err_set(err, 0, "'%s' is neither cgroup2 nor a tmpfs of cgroup v1 mounts",
			       root);
	*mode = (enum cgroup_mode)m;
	return 0;
}

const char *cgroup_mode_name(enum cgroup_mode mode)
{
	switch (mode) {
	case CGROUP_V1:
		return "v1";
	case CGROUP_HYBRID:
		return "hybrid";
	case CGROUP_V2:
		return "v2";
	}
	return "?";
}

/* ---- flag parsing ------------------------------------------------------- */

/* "1.5" -> 1500000000 with scale 1e9: an exact decimal, no float rounding. */
static int parse_decimal(const char *s, int64_t scale, int64_t *out)
{
	int64_t whole = 0, frac = 0, div = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (INT64_MAX / scale - 9) / 10)
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (div >= scale)
				continue; /* digits below the scale's precision */
			frac = frac * 10 + (*p - '0');
			div *= 10;
		}
	}
	if (*p)
		return -1;
	*out = whole * scale + frac * (scale / div);
	return 0;
}

int cgroup_parse_bytes(const char *s, int64_t *out, struct sk_err *err)
{
	static const char units[] = "bkmgtp";
	char num[64];
	size_t len = strlen(s), n;
	const char *u;
	int64_t mult = 1, v;

	/* docker's units.RAMInBytes: <number>[ ][unit][i][b] */
	n = strspn(s, "0123456789.");
	if (n == 0 || n >= sizeof(num))
		return err_set(err, 0, "invalid size '%s'", s);
	memcpy(num, s, n);
	num[n] = '\0';
	u = s + n;
	if (*u == ' ')
		u++;
	if (*u && (u[0] | 0x20) != 'b' && strchr(units, u[0] | 0x20)) {
		for (const char *k = units + 1; *k != (u[0] | 0x20); k++)
			mult *= 1024;
		mult *= 1024;
		u++;
		if ((*u | 0x20) == 'i')
			u++;
	}
	if ((*u | 0x20) == 'b')
		u++;
	if (*u || len == 0)
		return err_set(err, 0, "invalid size '%s'", s);
	/* Whole bytes: the fraction is scaled by the unit and truncated. */
	if (parse_decimal(num, 1000000, &v) < 0 || v / 1000000 > INT64_MAX / mult)
		return err_set(err, 0, "invalid size '%s'", s);
	*out = (v / 1000000) * mult + (v % 1000000) * mult / 1000000;
	return 0;
}

int cgroup_parse_memory(const char *s, struct cgroup_limits *lim, struct sk_err *err)
{
	if (cgroup_parse_bytes(s, &lim->memory, err) < 0)
		return err_wrap(err, "--memory");
	if (lim->memory < 6 * 1024 * 1024)
		return err_set(err, 0, "--memory '%s': the minimum is 6MB", s);
	return 0;
}

int cgroup_parse_memory_swap(const char *s, struct cgroup_limits *lim, struct sk_err *err)
{
	if (strcmp(s, "-1") == 0) {
		lim->memory_swap = -1;
		return 0;
	}
	if (cgroup_parse_bytes(s, &lim->memory_swap, err) < 0)
		return err_wrap(err, "--memory-swap");
	return 0;
}

#define CPU_PERIOD_DEFAULT 100000

int cgroup_parse_cpus(const char *s, struct cgroup_limits *lim, struct sk_err *err)
{
	int64_t nano;
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	if (parse_decimal(s, 1000000000, &nano) < 0)
		return err_set(err, 0, "--cpus '%s': expected a number like 1.5", s);
	lim->cpu_period = CPU_PERIOD_DEFAULT;
	lim->cpu_quota = nano * CPU_PERIOD_DEFAULT / 1000000000;
	lim->nano_cpus = nano;
	/* The kernel's minimum quota is 1ms: docker's range starts at 0.01. */
	if (lim->cpu_quota < 1000)
		return err_set(err, 0, "--cpus '%s': the minimum is 0.01", s);
	if (online > 0 && nano > (int64_t)online * 1000000000)
		return err_set(err, 0, "--cpus '%s': only %ld cpus are available", s, online);
	return 0;
}

static int parse_int64(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

int cgroup_parse_cpu_shares(const char *s, struct cgroup_limits *lim, struct sk_err *err)
{
	int64_t v;

	if (parse_int64(s, &v) < 0 || v < 0)
		return err_set(err, 0, "--cpu-shares '%s': expected a positive number", s);
	/* The kernel clamps to 2..262144; say so up front rather than silently. */
	if (v > 0 && (v < 2 || v > 262144))
		return err_set(err, 0, "--cpu-shares '%s': must be 2 to 262144", s);
	lim->cpu_shares = (uint64_t)v;
	return 0;
}

int cgroup_parse_cpuset_cpus(const char *s, struct cgroup_limits *lim, struct sk_err *err)
{
	const char *p = s;

	if (strlen(s) >= sizeof(lim->cpuset_cpus))
		return err_set(err, 0, "--cpuset-cpus: list too long");
	/* number[-number] joined by commas */
	while (*p) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			goto bad;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			b = strtoul(end + 1, &end, 10);
		}
		if (b < a || (*end && *end != ','))
			goto bad;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			goto bad;
	}
	if (!*s)
		goto bad;
	snprintf(lim->cpuset_cpus, sizeof(lim->cpuset_cpus), "%s", s);
	return 0;
bad:
	return err_set(err, 0, "--cpuset-cpus '%s': expected a list like 0-2,4", s);
}

int cgroup_parse_pids_limit(const char *s, struct cgroup_limits *lim, struct sk_err *err)
{
	int64_t v;

	if (parse_int64(s, &v) < 0 || v < -1)
		return err_set(err, 0, "--pids-limit '%s': expected a number, or -1 for unlimited",
			       s);
	lim->pids_limit = v <= 0 ? -1 : v;
	return 0;
}

int cgroup_limits_check(const struct cgroup_limits *lim, struct sk_err *err)
{
	if (lim->memory_swap && !lim->memory)
		return err_set(err, 0, "--memory-swap needs --memory as well");
	if (lim->memory_swap > 0 && lim->memory_swap < lim->memory)
		return err_set(err, 0, "--memory-swap must be at least --memory");
	return 0;
}

bool cgroup_limits_any(const struct cgroup_limits *lim)
{
	return lim->memory || lim->memory_swap || lim->cpu_quota || lim->cpu_period ||
	       lim->cpu_shares || lim->cpuset_cpus[0] || (lim->pids_limit && !lim->pids_default);
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* ---- control files ------------------------------------------------------ */

/* Write value to dirfd/file; -errno on failure (ENOENT: the host lacks it). */
static int write_at(int dirfd, const char *file, const char *value)
{
	cleanup_close int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

/* Read dirfd/file into out (NUL-terminated, truncated to size). */
static int read_at(int dirfd, const char *file, char *out, size_t size)
{
	cleanup_close int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, size - 1);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	return (int)n;
}

/* One limit: missing file -> warning (the host cannot apply it), refused
 * value -> error. */
static int set_limit(const struct cgroup_dir *d, const char *file, const char *value,
		     const char *why_missing, struct sk_err *err)
{
	int rc = write_at(d->fd, file, value);

	if (rc == -ENOENT) {
		log_warn("cgroup: '%s' is missing in '%s' (%s), limit not applied", file, d->path,
			 why_missing);
		return 0;
	}
	if (rc < 0)
		return err_set(err, -rc, "cannot write '%s' to '%s/%s'", value, d->path, file);
	return 0;
}

static void fmt_i64(char *buf, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(buf, n, "max");
	else
		snprintf(buf, n, "%" PRId64, v);
}

/* Docker: without --memory-swap the container may use as much swap as memory. */
static int64_t swap_total(const struct cgroup_limits *lim)
{
	if (lim->memory_swap)
		return lim->memory_swap;
	return lim->memory > INT64_MAX / 2 ? -1 : lim->memory * 2;
}

static int limit_pids(const struct cgroup_dir *d, const struct cgroup_limits *lim,
		      struct sk_err *err)
{
	char v[32];

	if (!lim->pids_limit)
		return 0;
	fmt_i64(v, sizeof(v), lim->pids_limit);
	if (lim->pids_default) {
		if (write_at(d->fd, "pids.max", v) < 0)
			log_debug("cgroup: default pids limit not applied in '%s'", d->path);
		return 0;
	}
	return set_limit(d, "pids.max", v, "no pids controller", err);
}

static int limits_v2(const struct cgroup_dir *d, const struct cgroup_limits *lim,
		     struct sk_err *err)
{
	char v[64];

	if (lim->memory) {
		int64_t total = swap_total(lim);

		fmt_i64(v, sizeof(v), lim->memory);
		if (set_limit(d, "memory.max", v, "no memory controller", err) < 0)
			return -1;
		fmt_i64(v, sizeof(v), total < 0 ? -1 : total - lim->memory);
		if (set_limit(d, "memory.swap.max", v, "swap accounting is off", err) < 0)
			return -1;
	}
	if (lim->cpu_quota || lim->cpu_period) {
		char q[32];

		fmt_i64(q, sizeof(q), lim->cpu_quota ? lim->cpu_quota : -1);
		snprintf(v, sizeof(v), "%s %" PRId64, q,
			 lim->cpu_period ? lim->cpu_period : CPU_PERIOD_DEFAULT);
		if (set_limit(d, "cpu.max", v, "no cpu controller", err) < 0)
			return -1;
	}
	if (lim->cpu_shares) {
		snprintf(v, sizeof(v), "%" PRIu64, cgroup_shares_to_weight(lim->cpu_shares));
		if (set_limit(d, "cpu.weight", v, "no cpu controller", err) < 0)
			return -1;
	}
	if (lim->cpuset_cpus[0] &&
	    set_limit(d, "cpuset.cpus", lim->cpuset_cpus, "no cpuset controller", err) < 0)
		return -1;
	return limit_pids(d, lim, err);
}

static int limits_v1_memory(const struct cgroup_dir *d, const struct cgroup_limits *lim,
			    struct sk_err *err)
{
	char v[32];

	if (!lim->memory)
		return 0;
	/* memsw must stay >= the memory limit at every step: memory first. */
	fmt_i64(v, sizeof(v), lim->memory);
	if (set_limit(d, "memory.limit_in_bytes", v, "no memory controller", err) < 0)
		return -1;
	snprintf(v, sizeof(v), "%" PRId64, swap_total(lim));
	return set_limit(d, "memory.memsw.limit_in_bytes", v, "swap accounting is off", err);
}

static int limits_v1_cpu(const struct cgroup_dir *d, const struct cgroup_limits *lim,
			 struct sk_err *err)
{
	char v[32];

	if (lim->cpu_period) {
		snprintf(v, sizeof(v), "%" PRId64, lim->cpu_period);
		if (set_limit(d, "cpu.cfs_period_us", v, "no CFS bandwidth control", err) < 0)
			return -1;
	}
	if (lim->cpu_quota) {
		snprintf(v, sizeof(v), "%" PRId64, lim->cpu_quota);
		if (set_limit(d, "cpu.cfs_quota_us", v, "no CFS bandwidth control", err) < 0)
			return -1;
	}
	if (lim->cpu_shares) {
		snprintf(v, sizeof(v), "%" PRIu64, lim->cpu_shares);
		if (set_limit(d, "cpu.shares", v, "no cpu controller", err) < 0)
			return -1;
	}
	return 0;
}

static int limits_v1(const struct cgroup_dir *d, const struct cgroup_limits *lim,
		     struct sk_err *err)
{
		if (strcmp(d->controller, "memory") == 0)
		return limits_v1_memory(d, lim, err);
	if (strcmp(d->controller, "cpu") == 0)
		return limits_v1_cpu(d, lim, err);
	if (strcmp(d->controller, "cpuset") == 0 && lim->cpuset_cpus[0])
		return set_limit(d, "cpuset.cpus", lim->cpuset_cpus, "no cpuset controller", err);
	if (strcmp(d->controller, "devices") == 0)
		return cgroup_devices_v1(d->fd, lim->devices_allow_all, err);
	if (strcmp(d->controller, "pids") == 0)
		return limit_pids(d, lim, err);
	return 0;
}

/* ---- creating ----------------------------------------------------------- */

/* A new v1 cpuset cgroup starts with no cpus and no mems, and no task can
 * join it: inherit the parent's. */
static int cpuset_inherit(int parentfd, int dirfd, const char *path, struct sk_err *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char cur[4096], parent[4096];
		int rc;

		if (read_at(dirfd, files[i], cur, sizeof(cur)) < 0 || (cur[0] && cur[0] != '\n'))
			continue;
		if (read_at(parentfd, files[i], parent, sizeof(parent)) <= 0)
			continue;
		rc = write_at(dirfd, files[i], parent);
		if (rc < 0)
			return err_set(err, -rc, "cannot initialise '%s/%s'", path, files[i]);
	}
	return 0;
}

static void enable_subtree(int dirfd, const char *subtree, const char *path)
{
	int rc = write_at(dirfd, "cgroup.subtree_control", subtree);

	/* EBUSY: an ancestor holds processes (no internal processes on v2). The
	 * limits that need the controllers then warn one by one. */
	if (rc < 0)
		log_warn("cgroup: cannot enable '%s' above '%s': %s", subtree, path, strerror(-rc));
}

/* mkdir -p name under hierfd, one component at a time (existing is fine);
 * returns an O_DIRECTORY fd of the leaf. subtree (v2) is enabled in every
 * ancestor's cgroup.subtree_control on the way down. */
static int mkdir_chain(int hierfd, const char *name, bool is_cpuset, const char *subtree,
		       const char *path, struct sk_err *err)
{
	cleanup_close int cur = fcntl(hierfd, F_DUPFD_CLOEXEC, 0);
	const char *p = name;

	if (cur < 0)
		return err_set(err, errno, "cannot use '%s'", path);
	while (*p) {
		char comp[256];
		size_t len = strcspn(p, "/");
		int next;

		if (len == 0 || len >= sizeof(comp))
			return err_set(err, EINVAL, "bad cgroup name '%s'", name);
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (subtree && subtree[0])
			enable_subtree(cur, subtree, path);
		if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
			return err_set(err, errno, "cannot create cgroup '%s'", path);
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			return err_set(err, errno, "cannot open cgroup '%s'", path);
		if (is_cpuset && cpuset_inherit(cur, next, path, err) < 0) {
			close(next);
			return -1;
		}
		close(cur);
		cur = next;
		p += len;
		p += *p == '/';
	}
	return steal_fd(&cur);
}

/* Add root/<hier>/name to cg and return its index; -2 when that hierarchy is
 * missing or already there (cpu and cpuacct are often one hierarchy behind
 * two symlinks); -1 on error. */
static int add_dir(struct cgroup *cg, const char *root, const char *hier, const char *controller,
		   const char *name, const char *subtree, ino_t seen[][2], struct sk_err *err)
{
	char hpath[CGROUP_PATH_MAX];
	cleanup_close int hfd = -1;
	struct cgroup_dir *d = &cg->dirs[cg->n];
	struct stat st;
	int i;

	snprintf(hpath, sizeof(hpath), "%s%s%s", root, *hier ? "/" : "", hier);
	hfd = open(hpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (hfd < 0 || fstat(hfd, &st) < 0)
		return -2; /* no such hierarchy: the caller warns if a limit needed it */
	for (i = 0; i < cg->n; i++)
		if (seen[i][0] == (ino_t)st.st_dev && seen[i][1] == st.st_ino)
			return -2;
	if (cg->n >= CGROUP_MAX_DIRS)
		return err_set(err, 0, "too many cgroup hierarchies");
	if ((size_t)snprintf(d->path, sizeof(d->path), "%s/%s", hpath, name) >= sizeof(d->path))
		return err_set(err, ENAMETOOLONG, "cgroup path '%s/%s'", hpath, name);
	snprintf(d->controller, sizeof(d->controller), "%s", controller);
	d->fd = mkdir_chain(hfd, name, strcmp(controller, "cpuset") == 0, subtree, d->path, err);
	if (d->fd < 0)
		return -1;
	seen[cg->n][0] = (ino_t)st.st_dev;
	seen[cg->n][1] = st.st_ino;
	return cg->n++;
}

/* v2: the controllers the limits need that the host offers, as
 * "+cpu +memory +pids", for each ancestor's cgroup.subtree_control. */
static void v2_wanted_controllers(int rootfd, const struct cgroup_limits *lim, char *want,
				  size_t size)
{
	static const char *const ctrls[] = {"cpu", "memory", "pids", "cpuset"};
	char avail[512] = " ";
	size_t len = 0;

	want[0] = '\0';
	if (read_at(rootfd, "cgroup.controllers", avail + 1, sizeof(avail) - 2) < 0)
		return;
	for (char *c = avail; *c; c++)
		if (*c == '\n')
			*c = ' ';
	snprintf(avail + strlen(avail), sizeof(avail) - strlen(avail), " ");
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
		char word[16];

		/* cpuset costs a cpus/mems setup per level: only when asked for. */
		if (strcmp(ctrls[i], "cpuset") == 0 && !lim->cpuset_cpus[0])
			continue;
		snprintf(word, sizeof(word), " %s ", ctrls[i]);
		if (strstr(avail, word))
			len += snprintf(want + len, size - len, "%s+%s", len ? " " : "", ctrls[i]);
	}
}

static const struct {
	const char *name;
	bool needed_only_for_limit; /* joined only when a limit needs it */
} v1_controllers[] = {
    {"memory", false}, {"cpu", false},	   {"cpuacct", false},
    {"pids", false},   {"freezer", false}, {"cpuset", true},
    {"devices", false},
};

static void warn_missing_v1(const struct cgroup *cg, const struct cgroup_limits *lim)
{
	static const struct {
		const char *ctrl;
		const char *flag;
	} needs[] = {{"memory", "--memory"},
		     {"cpu", "--cpus/--cpu-shares"},
		     {"pids", "--pids-limit"},
		     {"cpuset", "--cpuset-cpus"},
		     {"devices", "device access (docker's default list)"}};
	bool wanted[] = {lim->memory != 0, lim->cpu_quota || lim->cpu_shares, lim->pids_limit && !lim->pids_default,
			 lim->cpuset_cpus[0] != '\0', !lim->devices_allow_all};

	for (size_t i = 0; i < ARRAY_SIZE(needs); i++) {
		bool have = false;

		for (int j = 0; j < cg->n; j++)
			have |= strcmp(cg->dirs[j].controller, needs[i].ctrl) == 0;
		if (wanted[i] && !have)
			log_warn("cgroup: no '%s' controller on this host, %s not applied",
				 needs[i].ctrl, needs[i].flag);
	}
}

static int create_v1(struct cgroup *cg, const char *root, const char *name,
		     const struct cgroup_limits *lim, ino_t seen[][2], struct sk_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++) {
		const char *c = v1_controllers[i].name;
		int idx;

		if (v1_controllers[i].needed_only_for_limit && !lim->cpuset_cpus[0])
			continue;
		idx = add_dir(cg, root, c, c, name, NULL, seen, err);
		if (idx < 0 && idx != -2)
			return -1;
		if (idx >= 0 && strcmp(c, "memory") == 0)
			cg->memory = idx;
		if (idx >= 0 && strcmp(c, "freezer") == 0)
			cg->freezer = idx;
	}
	if (cg->mode == CGROUP_HYBRID) {
		cg->unified = add_dir(cg, root, "unified", "", name, NULL, seen, err);
		if (cg->unified == -1)
			return -1;
	}
	if (cg->n == 0)
		return err_set(err, 0, "no cgroup v1 hierarchy under '%s'", root);
	warn_missing_v1(cg, lim);
	for (int i = 0; i < cg->n; i++)
		if (cg->dirs[i].controller[0] && limits_v1(&cg->dirs[i], lim, err) < 0)
			return -1;
	return 0;
}

static int create_v2(struct cgroup *cg, const char *root, const char *name,
		     const struct cgroup_limits *lim, ino_t seen[][2], struct sk_err *err)
{
	cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char want[64];

	if (rootfd < 0)
		return err_set(err, errno, "cannot open cgroup root '%s'", root);
	v2_wanted_controllers(rootfd, lim, want, sizeof(want));
	cg->unified = add_dir(cg, root, "", "", name, want, seen, err);
	if (cg->unified < 0)
		return cg->unified == -2 ? err_set(err, 0, "no cgroup2 at '%s'", root) : -1;
	cg->memory = cg->unified;
	if (limits_v2(&cg->dirs[cg->unified], lim, err) < 0)
		return -1;
	/* v2 has no devices files: a BPF program decides (hybrid hosts use the
	 * v1 devices controller instead). */
	return cgroup_devices_bpf(cg->dirs[cg->unified].fd, lim->devices_allow_all, err);
}

int cgroup_create(enum cgroup_mode mode, const char *root, const char *name,
		  const struct cgroup_limits *lim, struct cgroup *cg, struct sk_err *err)
{
	ino_t seen[CGROUP_MAX_DIRS][2];
	int rc;

	*cg = (struct cgroup){.mode = mode, .unified = -1, .memory = -1, .freezer = -1};
	if (!name[0] || name[0] == '/' || strstr(name, ".."))
		return err_set(err, EINVAL, "bad cgroup name '%s'", name);
	rc = mode == CGROUP_V2 ? create_v2(cg, root, name, lim, seen, err)
			       : create_v1(cg, root, name, lim, seen, err);
	if (rc < 0) {
		struct sk_err ignored;

		cgroup_destroy(cg, &ignored);
		return err_wrap(err, "cgroup '%s'", name);
	}
	return 0;
}

/* ---- using -------------------------------------------------------------- */

int cgroup_enter(const struct cgroup *cg, pid_t pid, struct sk_err *err)
{
	char v[24];

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int i = 0; i < cg->n; i++) {
		int rc = write_at(cg->dirs[i].fd, "cgroup.procs", v);

		if (rc < 0)
			return err_set(err, -rc, "cannot move process %d into cgroup '%s'",
				       (int)pid, cg->dirs[i].path);
	}
	return 0;
}

int cgroup_clone_fd(const struct cgroup *cg)
{
	return cg->mode == CGROUP_V2 && cg->unified >= 0 ? cg->dirs[cg->unified].fd : -1;
}

/* Value of "key N" in a flat-keyed file such as memory.events. */
static int64_t keyed_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

bool cgroup_oom_killed(const struct cgroup *cg)
{
	char text[1024];
	const struct cgroup_dir *d;

	if (cg->memory < 0)
		return false;
	d = &cg->dirs[cg->memory];
	if (cg->mode == CGROUP_V2)
		return read_at(d->fd, "memory.events", text, sizeof(text)) > 0 &&
		       keyed_value(text, "oom_kill") > 0;
	/* v1: "oom_kill" in memory.oom_control exists since 4.13; older kernels
	 * only have under_oom, which is 0 again once the victim is gone. */
	return read_at(d->fd, "memory.oom_control", text, sizeof(text)) > 0 &&
	       keyed_value(text, "oom_kill") > 0;
}

/* The directory whose cgroup.procs lists every process of the container. */
static const struct cgroup_dir *procs_dir(const struct cgroup *cg)
{
	if (cg->unified >= 0)
		return &cg->dirs[cg->unified];
	if (cg->freezer >= 0)
		return &cg->dirs[cg->freezer];
	return cg->n ? &cg->dirs[0] : NULL;
}

/* SIGKILL every pid listed; returns how many were listed, -errno. */
static int kill_listed(const struct cgroup_dir *d)
{
	char text[65536];
	int n = read_at(d->fd, "cgroup.procs", text, sizeof(text)), count = 0;

	if (n < 0)
		return n;
	for (char *p = text; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0) {
			kill((pid_t)pid, SIGKILL);
			count++;
		}
		p = end + (*end == '\n');
	}
	return count;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* v1 freezer: stop forks while we kill (a fork bomb outruns a kill loop). */
static void freeze(const struct cgroup *cg, bool on)
{
	const struct cgroup_dir *d;
	char state[32];

	if (cg->freezer < 0)
		return;
	d = &cg->dirs[cg->freezer];
	if (write_at(d->fd, "freezer.state", on ? "FROZEN" : "THAWED") < 0 || !on)
		return;
	for (int i = 0; i < 200; i++) {
		if (read_at(d->fd, "freezer.state", state, sizeof(state)) < 0 ||
		    strncmp(state, "FREEZING", 8) != 0)
			return;
		sleep_ms(1);
	}
}

#define CGROUP_KILL_TIMEOUT_MS 5000

int cgroup_kill_all(const struct cgroup *cg, struct sk_err *err)
{
	const struct cgroup_dir *d = procs_dir(cg);
	int64_t deadline = now_ms() + CGROUP_KILL_TIMEOUT_MS;
	bool kernel_kill;
	int left;

	char probe[64];

	/* The usual case: the container's last process has already been reaped. */
	if (!d || read_at(d->fd, "cgroup.procs", probe, sizeof(probe)) == 0)
		return 0;
	/* cgroup.kill (5.14+) kills the whole tree at once, forks included. */
	kernel_kill = cg->unified >= 0 && write_at(d->fd, "cgroup.kill", "1") == 0;
	for (;;) {
		if (kernel_kill) {
			char text[64];

			left = read_at(d->fd, "cgroup.procs", text, sizeof(text));
		} else {
			freeze(cg, true);
			left = kill_listed(d);
			freeze(cg, false);
		}
		if (left <= 0)
			break;
		if (now_ms() > deadline)
			return err_set(err, 0, "processes remain in cgroup '%s'", d->path);
		nanosleep(&(struct timespec){.tv_nsec = 200 * 1000}, NULL);
	}
	if (left < 0)
		return err_set(err, -left, "cannot list the processes of cgroup '%s'", d->path);
	return 0;
}

void cgroup_release(struct cgroup *cg)
{
	for (int i = 0; i < cg->n; i++)
		if (cg->dirs[i].fd >= 0)
			close(cg->dirs[i].fd);
	cg->n = 0;
}

#define CGROUP_RMDIR_TIMEOUT_MS 1000

int cgroup_destroy(struct cgroup *cg, struct sk_err *err)
{
	int rc = 0;

	for (int i = cg->n - 1; i >= 0; i--) {
		const char *path = cg->dirs[i].path;
		int64_t deadline = now_ms() + CGROUP_RMDIR_TIMEOUT_MS;

		int e;

		/* Exited processes leave their cgroup a moment after wait() returns. */
		while ((e = rmdir(path) < 0 ? errno : 0) == EBUSY && now_ms() < deadline)
			sleep_ms(1);
		if (e && e != ENOENT && rc == 0)
			rc = err_set(err, e, "cannot remove cgroup '%s'", path);
	}
	cgroup_release(cg);
	return rc;
}

/* rmdir, killing what is still inside while the kernel says busy. */
static int remove_leftover(const char *path, struct sk_err *err)
{
	int64_t deadline = now_ms() + CGROUP_RMDIR_TIMEOUT_MS;
	cleanup_close int fd = -1;

	for (;;) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || now_ms() > deadline)
			return err_set(err, errno, "cannot remove cgroup '%s'", path);
		if (fd < 0)
			fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			struct cgroup_dir d = { .fd = fd };

			snprintf(d.path, sizeof(d.path), "%s", path);
			kill_listed(&d);
		}
		sleep_ms(1);
	}
}

int cgroup_remove_leftovers(const char *root, const char *name, struct sk_err *err)
{
	char path[CGROUP_PATH_MAX];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (!name[0] || name[0] == '/' || strstr(name, ".."))
		return err_set(err, EINVAL, "bad cgroup name '%s'", name);
	/* v2: the container's cgroup sits right under the root. */
	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (remove_leftover(path, err) < 0 && errno != ENOTDIR)
		rc = -1;
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? rc : err_set(err, errno, "cannot read '%s'", root);
	while ((de = readdir(d))) {
		/* "cpu" -> "cpu,cpuacct" links name one hierarchy twice. */
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", root, de->d_name, name);
		if (remove_leftover(path, err) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

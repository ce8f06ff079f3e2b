/*
 * Entering the rootless user namespace (userns.h).
 *
 * With subordinate ranges the maps must be written by newuidmap/newgidmap
 * from outside the namespace, on our pid: a helper process forked *before*
 * unshare(CLONE_NEWUSER) stays outside, waits for the unshare, runs both
 * tools and exits. The process itself goes on inside, so there is no extra
 * process in the way of signals, the terminal or exit codes.
 */
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define SUBID_FILE_MAX (1u << 20)

int userns_find_range(const char *data, size_t len, const char *name, unsigned long id,
		      struct id_range *out)
{
	char idtext[24];
	const char *p = data, *end = data + len;

	snprintf(idtext, sizeof(idtext), "%lu", id);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *c1 = memchr(p, ':', (size_t)(line_end - p));
		size_t owner_len = c1 ? (size_t)(c1 - p) : 0;
		char rest[64];
		unsigned long start, count;
		char extra;

		if (c1 && ((name && strlen(name) == owner_len && !strncmp(p, name, owner_len)) ||
			   (strlen(idtext) == owner_len && !strncmp(p, idtext, owner_len)))) {
			size_t rl = (size_t)(line_end - c1 - 1);

			if (rl < sizeof(rest)) {
				memcpy(rest, c1 + 1, rl);
				rest[rl] = '\0';
				if (sscanf(rest, "%lu:%lu%c", &start, &count, &extra) == 2 && count > 0) {
					out->start = start;
					out->count = count;
					return 1;
				}
			}
		}
		p = line_end + 1;
	}
	return 0;
}

static int read_range(const char *file, const char *name, unsigned long id, struct id_range *out)
{
	cleanup_buf struct buf b = BUF_INIT(SUBID_FILE_MAX);
	struct sk_err ignored = { 0 };

	if (fs_read_file(AT_FDCWD, file, SUBID_FILE_MAX, &b, &ignored) < 0)
		return 0;
	return userns_find_range(b.data ? b.data : "", b.len, name, id, out);
}

static int write_proc(const char *file, const char *text, struct sk_err *err)
{
	cleanup_close int fd = open(file, O_WRONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", file);
	rc = fs_write_all(fd, text, strlen(text));
	if (rc < 0)
		return err_set(err, -rc, "cannot write '%s'", file);
	return 0;
}

/* 0 -> uid, and without ranges nothing else. */
static int map_single(uid_t uid, gid_t gid, struct sk_err *err)
{
	char map[64];

	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_proc("/proc/self/uid_map", map, err) < 0 ||
	    write_proc("/proc/self/setgroups", "deny", err) < 0)
		return err_wrap(err, "rootless");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (write_proc("/proc/self/gid_map", map, err) < 0)
		return err_wrap(err, "rootless");
	return 0;
}

static int run_tool(const char *tool, pid_t target, unsigned long id, const struct id_range *r)
{
	char pid[16], self[24], start[24], count[24];
	pid_t child;
	int status;

	snprintf(pid, sizeof(pid), "%d", (int)target);
	snprintf(self, sizeof(self), "%lu", id);
	snprintf(start, sizeof(start), "%lu", r->start);
	snprintf(count, sizeof(count), "%lu", r->count);
	child = fork();
	if (child == 0) {
		execlp(tool, tool, pid, "0", self, "1", "1", start, count, (char *)NULL);
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The helper outside the namespace: wait for the unshare, map, report. */
static __attribute__((noreturn)) void map_helper(int wait_fd, int report_fd, pid_t target,
						 uid_t uid, gid_t gid, const struct id_range *ur,
						 const struct id_range *gr)
{
	char c = 0, ok;

	if (read(wait_fd, &c, 1) != 1)
		_exit(1);
	ok = run_tool("newuidmap", target, uid, ur) == 0 && run_tool("newgidmap", target, gid, gr) == 0;
	(void)!write(report_fd, &ok, 1);
	_exit(ok ? 0 : 1);
}

static int map_ranges(uid_t uid, gid_t gid, const struct id_range *ur, const struct id_range *gr,
		      struct sk_err *err)
{
	int go[2], report[2];
	pid_t me = getpid(), helper;
	char ok = 0;
	int status;

	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
		return err_set(err, errno, "rootless: cannot create pipes");
	helper = fork();
	if (helper < 0)
		return err_set(err, errno, "rootless: cannot fork");
	if (helper == 0)
		map_helper(go[0], report[1], me, uid, gid, ur, gr);
	close(go[0]);
	close(report[1]);
	if (unshare(CLONE_NEWUSER) < 0) {
		int e = errno;

		close(go[1]);
		close(report[0]);
		waitpid(helper, &status, 0);
		return err_set(err, e, "rootless: cannot create a user namespace");
	}
	(void)!write(go[1], "g", 1);
	close(go[1]);
	if (read(report[0], &ok, 1) != 1)
		ok = 0;
	close(report[0]);
	waitpid(helper, &status, 0);
	if (!ok)
		return err_set(err, 0, "rootless: newuidmap/newgidmap failed to map the ranges of "
				       "/etc/subuid and /etc/subgid (is the uidmap package installed?)");
	return 0;
}

int userns_enter_rootless(struct sk_err *err)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct passwd *pw = getpwuid(uid);
	const char *name = pw ? pw->pw_name : NULL;
	struct id_range ur, gr;
	bool ranges = read_range("/etc/subuid", name, uid, &ur) &&
		      read_range("/etc/subgid", name, gid, &gr);

	if (ranges)
		return map_ranges(uid, gid, &ur, &gr, err);
	if (unshare(CLONE_NEWUSER) < 0)
		return err_set(err, errno, "rootless: cannot create a user namespace");
	return map_single(uid, gid, err);
}

/* The first line of /proc/self/uid_map and how many lines it has. */
static int read_uid_map(unsigned long first[3])
{
	char data[4096];
	cleanup_close int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, data, sizeof(data) - 1) : -1;
	int lines = 0;

	if (n <= 0)
		return 0;
	data[n] = '\0';
	if (sscanf(data, "%lu %lu %lu", &first[0], &first[1], &first[2]) != 3)
		return 0;
	for (const char *p = data; *p; p++)
		lines += *p == '\n';
	return lines;
}

bool userns_is_rootless(void)
{
	unsigned long m[3];

	/* "0 0 4294967295" is the initial namespace's identity map. */
	return read_uid_map(m) > 0 && !(m[0] == 0 && m[1] == 0 && m[2] == 4294967295UL);
}

bool userns_single_id(void)
{
	unsigned long m[3];

	return read_uid_map(m) == 1 && m[2] == 1;
}

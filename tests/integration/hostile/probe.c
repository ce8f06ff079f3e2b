/*
 * probe: the hostile container's tools for test_hostile.py, built static
 * (gcc -static) at test time and put into the image as /bin/probe. Every
 * action is an attempt that changes nothing of the host even when it
 * succeeds: descriptors opened for writing are closed at once without a
 * write, a process that could be traced is let go again at once, and the
 * keystrokes pushed into a terminal are a harmless marker word.
 *
 *   probe tiocsti MARKER      push MARKER + "\n" into the terminal on fds 0, 1, 2
 *                             (TIOCSTI); prints "fd N ok" or "fd N errno E"
 *   probe pid MAJ:MIN:INO P   what the container can do to process P (e.g. 1 for
 *                             --init): is /proc/P/exe the host file MAJ:MIN:INO,
 *                             can it be opened for writing, which descriptors it
 *                             holds and whether they point outside, and ptrace
 *   probe race MAJ:MIN:INO OUT STOPFILE
 *                             watch for every new pid in the container's pid
 *                             namespace and try the same on it, as fast as
 *                             possible, until STOPFILE exists; then write the
 *                             counts to OUT (through a rename)
 *   probe fdstat FD           "MAJ:MIN:INO RDEV_MAJ:RDEV_MIN" of descriptor FD
 *
 * "Outside" for a descriptor (or cwd, root) of another process: its target,
 * reopened through /proc/P/fd/N, is not the object that the path its link
 * shows names inside the container (a path that does not exist here, or
 * another inode). Pipes, sockets and anonymous inodes are not paths.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static unsigned long host_maj, host_min, host_ino;

static void parse_host(const char *s)
{
	if (sscanf(s, "%lu:%lu:%lu", &host_maj, &host_min, &host_ino) != 3) {
		fprintf(stderr, "probe: bad MAJ:MIN:INO '%s'\n", s);
		exit(2);
	}
}

static int is_host_file(const struct stat *st)
{
	return major(st->st_dev) == host_maj && minor(st->st_dev) == host_min &&
	       st->st_ino == host_ino;
}

/* --- tiocsti ---------------------------------------------------------------- */

static int cmd_tiocsti(const char *marker)
{
	for (int fd = 0; fd < 3; fd++) {
		int e = 0;
		char line[256];

		snprintf(line, sizeof(line), "%s\n", marker);
		for (const char *c = line; *c && !e; c++)
			if (ioctl(fd, TIOCSTI, c) < 0)
				e = errno;
		if (e)
			printf("fd %d errno %d\n", fd, e);
		else
			printf("fd %d ok\n", fd);
	}
	return 0;
}

/* --- looking at another process --------------------------------------------- */

struct findings {
	long pids;	  /* new processes caught alive */
	long exe_seen;	  /* /proc/P/exe could be opened at all */
	long exe_host;	  /* ... and it was the host's binary */
	long exe_write;	  /* /proc/P/exe opened for writing */
	long fd_outside;  /* a descriptor, cwd or root outside the container */
	long ptrace;	  /* PTRACE_SEIZE of a process not yet running the container's code */
	char example[4][512]; /* the first finding of each kind */
};

enum { EX_EXE_HOST, EX_EXE_WRITE, EX_OUTSIDE, EX_PTRACE, EX_N };

static void note(struct findings *f, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct findings *f, int kind, const char *fmt, ...)
{
	va_list ap;

	if (f->example[kind][0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->example[kind], sizeof(f->example[0]), fmt, ap);
	va_end(ap);
}

/* Is the object behind magic link `link` (O_PATH) anything else than what
 * its shown path names inside the container? A link that changes while we
 * look (a shell's `>file` swaps fd 1 and back) proves nothing: it is
 * looked at again on the next round. */
static int link_outside(const char *link, const char *shown, int is_root)
{
	struct stat theirs, here;
	char again[4096];
	ssize_t n;
	int fd = open(link, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return 0; /* gone, or not allowed: nothing reached */
	if (fstat(fd, &theirs) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	n = readlink(link, again, sizeof(again) - 1);
	if (n < 0)
		return 0;
	again[n] = '\0';
	if (strcmp(again, shown) != 0)
		return 0;
	if (is_root)
		return stat("/", &here) < 0 || here.st_dev != theirs.st_dev ||
		       here.st_ino != theirs.st_ino;
	if (shown[0] != '/')
		return 0; /* pipe:[..], socket:[..], anon_inode:... */
	if (stat(shown, &here) < 0)
		return 1;
	return here.st_dev != theirs.st_dev || here.st_ino != theirs.st_ino;
}

static void check_links(pid_t pid, struct findings *f, int report)
{
	char dir[64], path[384], shown[4096];
	DIR *d;
	struct dirent *e;
	static const char *const special[] = {"cwd", "root"};

	for (int i = 0; i < 2; i++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, special[i]);
		n = readlink(path, shown, sizeof(shown) - 1);
		if (n < 0)
			continue;
		shown[n] = '\0';
		if (link_outside(path, shown, i == 1)) {
			f->fd_outside++;
			note(f, EX_OUTSIDE, "pid %d %s -> %s is outside", (int)pid, special[i], shown);
		}
	}
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, shown, sizeof(shown) - 1);
		if (n < 0)
			continue;
		shown[n] = '\0';
		if (report)
			printf("fd %s %s\n", e->d_name, shown);
		if (link_outside(path, shown, 0)) {
			f->fd_outside++;
			note(f, EX_OUTSIDE, "pid %d fd %s -> %s is outside", (int)pid, e->d_name, shown);
			if (report)
				printf("fd %s outside\n", e->d_name);
		}
	}
	closedir(d);
}

/* Seize, stop and let go: the traced process goes on as if nothing happened.
 * Returns an errno when the seize failed, 0 when it worked. A process that
 * has already exec'd the container's command may be traced by the
 * container's root (as with docker): *leak is set only when the stopped
 * process was still running something that is not a file of the container
 * (skiff's code). */
static int try_ptrace(pid_t pid, int *leak)
{
	char exe[64], shown[4096];
	ssize_t n;
	int status;

	*leak = 0;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0)
		return errno;
	ptrace(PTRACE_INTERRUPT, pid, 0, 0);
	if (waitpid(pid, &status, __WALL) != pid || WIFEXITED(status) || WIFSIGNALED(status))
		return 0;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	n = readlink(exe, shown, sizeof(shown) - 1);
	if (n >= 0) {
		shown[n] = '\0';
		*leak = link_outside(exe, shown, 0);
	}
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}

/* One look at pid: returns 0 when /proc/pid is gone. */
static int look_at(pid_t pid, struct findings *f, int report)
{
	char path[64];
	struct stat st;
	int fd, e, leak;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (report)
			printf("exe errno %d\n", errno);
		if (errno == ENOENT || errno == ESRCH)
			return 0;
	} else {
		f->exe_seen++;
		if (fstat(fd, &st) == 0) {
			if (report)
				printf("exe %u:%u:%lu\n", major(st.st_dev), minor(st.st_dev),
				       (unsigned long)st.st_ino);
			if (is_host_file(&st)) {
				f->exe_host++;
				note(f, EX_EXE_HOST, "pid %d exe is the host binary", (int)pid);
			}
		}
		close(fd);
	}
	/* Never O_TRUNC, never a write: the open alone is the finding. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		f->exe_write++;
		note(f, EX_EXE_WRITE, "pid %d exe opened for writing", (int)pid);
		if (report)
			printf("exe_write ok\n");
	} else if (report) {
		printf("exe_write errno %d\n", errno);
	}
	check_links(pid, f, report);
	e = try_ptrace(pid, &leak);
	if (!e && (leak || report)) {
		f->ptrace++;
		note(f, EX_PTRACE, "pid %d could be ptraced before its execve", (int)pid);
	}
	if (report)
		printf("ptrace %s %d\n", e ? "errno" : "ok", e);
	return 1;
}

static int cmd_pid(const char *host, const char *pid)
{
	struct findings f = {0};

	parse_host(host);
	look_at((pid_t)atoi(pid), &f, 1);
	return 0;
}

/* --- the race ------------------------------------------------------------- */

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void write_report(const struct findings *f, const char *out)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	fp = fopen(tmp, "w");
	if (!fp)
		return;
	fprintf(fp, "pids %ld\nexe_seen %ld\nexe_host %ld\nexe_write %ld\nfd_outside %ld\n"
		    "ptrace %ld\n",
		f->pids, f->exe_seen, f->exe_host, f->exe_write, f->fd_outside, f->ptrace);
	for (int i = 0; i < EX_N; i++)
		if (f->example[i][0])
			fprintf(fp, "example %s\n", f->example[i]);
	fclose(fp);
	rename(tmp, out);
}

/* The last pid handed out in our pid namespace, or -1. */
static pid_t last_pid(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	if (n <= 0)
		return -1;
	b[n] = '\0';
	return (pid_t)atoi(b);
}

/*
 * Pids in a pid namespace are handed out in order and the kernel says which
 * was last (/proc/sys/kernel/ns_last_pid): each new one is looked at at
 * once, and again and again while it lives, until it is gone or a newer one
 * shows up. An exec'd process lives only from fork to the end of `true`:
 * every look counts. Without ns_last_pid, /proc/<last+1..last+8> are tried.
 */
static int cmd_race(const char *host, const char *out, const char *stop)
{
	struct findings f = {0};
	pid_t last = getpid(), watching = 0;
	unsigned long spins = 0;
	int nsfd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);

	parse_host(host);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (nsfd >= 0 && last_pid(nsfd) > 0)
		last = last_pid(nsfd);
	else if (nsfd >= 0) {
		close(nsfd);
		nsfd = -1;
	}
	printf("racing\n");
	for (;;) {
		pid_t newest = -1;

		if ((++spins & 0x3ff) == 0 && exists(stop))
			break;
		if (nsfd >= 0) {
			newest = last_pid(nsfd);
		} else {
			for (pid_t p = last + 8; p > last; p--) {
				char path[64];

				snprintf(path, sizeof(path), "/proc/%d", (int)p);
				if (access(path, F_OK) == 0) {
					newest = p;
					break;
				}
			}
		}
		if (newest > last) {
			last = newest;
			watching = look_at(newest, &f, 0) ? newest : 0;
			f.pids += watching != 0;
		} else if (watching && !look_at(watching, &f, 0)) {
			watching = 0;
		}
	}
	write_report(&f, out);
	printf("done\n");
	for (;;) /* pid 1 of the container: its end would stop the container */
		pause();
	return 0;
}

/* --- fdstat --------------------------------------------------------------- */

static int cmd_fdstat(const char *fdnum)
{
	struct stat st;

	if (fstat(atoi(fdnum), &st) < 0) {
		printf("errno %d\n", errno);
		return 1;
	}
	printf("%u:%u:%lu %u:%u\n", major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino,
	       major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "tiocsti"))
		return cmd_tiocsti(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "pid"))
		return cmd_pid(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "race"))
		return cmd_race(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "fdstat"))
		return cmd_fdstat(argv[2]);
	fprintf(stderr, "usage: probe tiocsti MARKER | pid MAJ:MIN:INO PID | "
			"race MAJ:MIN:INO OUT STOPFILE | fdstat FD\n");
	return 2;
}

/*
 * skiff top CONTAINER [ps OPTIONS]: docker top. The container's processes
 * are the ones its cgroup lists, with the pids the host sees. Without
 * options (or with -ef) skiff reads their /proc itself and prints docker's
 * default columns, UID PID PPID C STIME TTY TIME CMD, as procps' `ps -ef`
 * computes them; with other options it runs the host's ps with them, as
 * docker's daemon does, and keeps the lines whose PID column is one of the
 * container's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/cgroup.h"
#include "runtime/events.h"
#include "runtime/freeze.h"
#include "runtime/state.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define TOP_MAX_PIDS 65536
#define TOP_CMD_MAX 4096

struct pid_set {
	long *v;
	size_t n;
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static bool pid_set_has(const struct pid_set *s, long pid)
{
	return bsearch(&pid, s->v, s->n, sizeof(long), cmp_long) != NULL;
}

/* The running container's processes, sorted. */
static int container_pids(struct store *s, const char *ref, char id[CTR_ID_LEN + 1],
			  struct pid_set *out, struct sk_err *err)
{
	cleanup_buf struct buf text = BUF_INIT(1 << 20);
	cleanup_close int dirfd = -1;
	const struct cgroup_dir *d;
	struct ctr_state st;
	struct cgroup cg;
	int ret;

	if (ctr_resolve(s, ref, id, err) < 0 || (dirfd = ctr_open_dir(s, id, err)) < 0 ||
	    ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	if (st.status != CTR_RUNNING || !ctr_process_alive(st.pid, st.pid_start))
		return err_set(err, 0, "Container %s is not running", id);
	if (container_cgroup_open(id, &cg, err) < 0)
		return -1;
	d = cgroup_procs_dir(&cg);
	ret = d ? fs_read_file(d->fd, "cgroup.procs", 1 << 20, &text, err) : -1;
	cgroup_release(&cg);
	if (ret < 0)
		return err_wrap(err, "cannot list the processes of container %s", id);
	out->v = calloc(TOP_MAX_PIDS, sizeof(long));
	if (!out->v)
		return err_set(err, ENOMEM, "top");
	for (char *p = text.data; p && p < text.data + text.len && out->n < TOP_MAX_PIDS;) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0)
			out->v[out->n++] = pid;
		p = end + 1;
	}
	qsort(out->v, out->n, sizeof(long), cmp_long);
	events_container_at(s->root_fd, dirfd, id, "top", NULL, 0);
	return 0;
}

/* --- ps -ef, from /proc ---------------------------------------------------- */

struct proc_row {
	char uid[32], pid[16], ppid[16], c[8], stime[16], tty[16], time[32];
	char cmd[TOP_CMD_MAX];
};

static int read_text(const char *path, char *buf, size_t size)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, size - 1)) < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* procps' name for a terminal device number; "?" for none or unknown. */
static void tty_name(unsigned long nr, char *out, size_t len)
{
	unsigned major = (nr >> 8) & 0xfff, minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);

	if (nr == 0)
		snprintf(out, len, "?");
	else if (major >= 136 && major <= 143)
		snprintf(out, len, "pts/%u", minor + (major - 136) * 256);
	else if (major == 4 && minor < 64)
		snprintf(out, len, "tty%u", minor);
	else if (major == 4)
		snprintf(out, len, "ttyS%u", minor - 64);
	else
		snprintf(out, len, "?");
}

/* ps's user column: the name when it has at most 8 characters, else the uid. */
static void user_name(unsigned long uid, char *out, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	if (pw && strlen(pw->pw_name) <= 8)
		snprintf(out, len, "%s", pw->pw_name);
	else
		snprintf(out, len, "%lu", uid);
}

static void cpu_time(unsigned long long secs, char *out, size_t len)
{
	unsigned long long days = secs / 86400;

	if (days)
		snprintf(out, len, "%llu-%02llu:%02llu:%02llu", days, secs / 3600 % 24,
			 secs / 60 % 60, secs % 60);
	else
		snprintf(out, len, "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);
}

/* "%H:%M" today, "%b%d" this year, else "%Y", as procps' STIME. */
static void start_time(time_t started, char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm n, t;

	localtime_r(&now, &n);
	localtime_r(&started, &t);
	strftime(out, len,
		 t.tm_year != n.tm_year	  ? "%Y"
		 : t.tm_yday != n.tm_yday ? "%b%d"
					  : "%H:%M",
		 &t);
}

/* The arguments joined by spaces, control characters as '?'; "[comm]" for a
 * process without any (a kernel thread, a zombie). */
static void command_line(long pid, const char *comm, char *out, size_t len)
{
	char path[64], buf[TOP_CMD_MAX];
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	n = read_text(path, buf, sizeof(buf));
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	if (n <= 0) {
		snprintf(out, len, "[%s]", comm);
		return;
	}
	for (int i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
		else if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n] = '\0';
	snprintf(out, len, "%s", buf);
}

struct host_clock {
	double uptime;
	time_t boot;
	long hz;
};

static int read_proc_row(long pid, const struct host_clock *hc, struct proc_row *r)
{
	char path[64], stat[2048], status[4096], comm[64];
	unsigned long long utime, stime, start;
	unsigned long tty, euid = 0;
	long ppid;
	char *p, *open_paren, *uid_line;
	double elapsed;
	unsigned pcpu = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (read_text(path, stat, sizeof(stat)) <= 0)
		return -1;
	open_paren = strchr(stat, '(');
	p = strrchr(stat, ')'); /* the command name may hold anything */
	if (!open_paren || !p || p[1] != ' ')
		return -1;
	snprintf(comm, sizeof(comm), "%.*s", (int)(p - open_paren - 1), open_paren + 1);
	/* after ")": state ppid pgrp session tty_nr ... utime(14) stime(15) ... starttime(22) */
	if (sscanf(p + 2,
		   "%*c %ld %*d %*d %lu %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &ppid, &tty, &utime, &stime, &start) != 5)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if (read_text(path, status, sizeof(status)) > 0 && (uid_line = strstr(status, "\nUid:")))
		sscanf(uid_line + 5, "%*u %lu", &euid);
	elapsed = hc->uptime - (double)start / (double)hc->hz;
	if (elapsed >= 1)
		pcpu = (unsigned)((double)(utime + stime) * 100.0 / (double)hc->hz / elapsed);
	user_name(euid, r->uid, sizeof(r->uid));
	snprintf(r->pid, sizeof(r->pid), "%ld", pid);
	snprintf(r->ppid, sizeof(r->ppid), "%ld", ppid);
	snprintf(r->c, sizeof(r->c), "%u", pcpu > 99 ? 99 : pcpu);
	start_time(hc->boot + (time_t)(start / (unsigned long long)hc->hz), r->stime,
		   sizeof(r->stime));
	tty_name(tty, r->tty, sizeof(r->tty));
	cpu_time((utime + stime) / (unsigned long long)hc->hz, r->time, sizeof(r->time));
	command_line(pid, comm, r->cmd, sizeof(r->cmd));
	return 0;
}

static void host_clock(struct host_clock *hc)
{
	char buf[8192], *btime;

	hc->hz = sysconf(_SC_CLK_TCK);
	if (hc->hz <= 0)
		hc->hz = 100;
	hc->uptime = 0;
	if (read_text("/proc/uptime", buf, sizeof(buf)) > 0)
		hc->uptime = strtod(buf, NULL);
	hc->boot = 0;
	if (read_text("/proc/stat", buf, sizeof(buf)) > 0 && (btime = strstr(buf, "\nbtime ")))
		hc->boot = (time_t)strtoll(btime + 7, NULL, 10);
}

/* docker's top table: tabwriter minwidth 20, padding 3; the last column as is. */
struct table {
	char ***rows; /* rows[i][j] */
	size_t nrows, ncols;
};

static void print_table(const struct table *t)
{
	size_t width[64] = {0};

	for (size_t j = 0; j + 1 < t->ncols && j < 64; j++) {
		width[j] = 20;
		for (size_t i = 0; i < t->nrows; i++)
			if (strlen(t->rows[i][j]) + 3 > width[j])
				width[j] = strlen(t->rows[i][j]) + 3;
	}
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t j = 0; j < t->ncols; j++)
			if (j + 1 < t->ncols)
				printf("%-*s", (int)width[j < 64 ? j : 63], t->rows[i][j]);
			else
				printf("%s\n", t->rows[i][j]);
	}
}

static int top_own(const struct pid_set *pids)
{
	static const char *const titles[] = {"UID",   "PID", "PPID", "C",
					     "STIME", "TTY", "TIME", "CMD"};
	struct host_clock hc;
	struct proc_row *rows = calloc(pids->n ? pids->n : 1, sizeof(*rows));
	char ***cells = calloc(pids->n + 1, sizeof(char **));
	struct table t = {cells, 0, ARRAY_SIZE(titles)};
	int ret = 0;

	if (!rows || !cells) {
		ret = -1;
		goto out;
	}
	host_clock(&hc);
	cells[t.nrows++] = (char **)titles;
	for (size_t i = 0; i < pids->n; i++) {
		struct proc_row *r = &rows[i];

		if (read_proc_row(pids->v[i], &hc, r) < 0)
			continue; /* exited meanwhile */
		cells[t.nrows] = calloc(ARRAY_SIZE(titles), sizeof(char *));
		if (!cells[t.nrows]) {
			ret = -1;
			break;
		}
		char **c = cells[t.nrows++];

		c[0] = r->uid, c[1] = r->pid, c[2] = r->ppid, c[3] = r->c, c[4] = r->stime;
		c[5] = r->tty, c[6] = r->time, c[7] = r->cmd;
	}
	if (ret == 0)
		print_table(&t);
out:
	for (size_t i = 1; cells && i < t.nrows; i++)
		free(cells[i]);
	free(cells);
	free(rows);
	return ret;
}

/* --- any other ps options: the host's ps, filtered ------------------------- */

/* The output of `ps ARGS` (docker splits the joined options on spaces). */
static int run_ps(char **args, int n, struct buf *out, struct sk_err *err)
{
	char **argv = calloc((size_t)n + 2, sizeof(char *));
	int p[2], status;
	pid_t pid;

	if (!argv)
		return err_set(err, ENOMEM, "top");
	argv[0] = "ps";
	memcpy(argv + 1, args, (size_t)n * sizeof(char *));
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(argv);
		return err_set(err, errno, "cannot run ps");
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp("ps", argv);
		_exit(127);
	}
	free(argv);
	close(p[1]);
	for (char chunk[65536];;) {
		ssize_t r = read(p[0], chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf_append(out, chunk, (size_t)r) < 0)
			break;
	}
	close(p[0]);
	if (pid < 0)
		return err_set(err, errno, "cannot run ps");
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, 0, "Error running ps: exit status %d",
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return buf_append(out, "", 1) < 0 ? err_set(err, ENOMEM, "top") : 0;
}

/* Split a line on blanks into at most max fields (pointers into line). */
static size_t fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
		f[n++] = w;
	return n;
}

/* A row of ps's output as the table's cells: the fields up to the last
 * title's, which holds the rest of the line (spaces kept single). */
static char **ps_row(char **f, size_t nf, size_t ntitles)
{
	char **row = calloc(ntitles, sizeof(char *));
	size_t last = ntitles - 1, len = 0;

	if (!row)
		return NULL;
	for (size_t i = 0; i < last; i++)
		row[i] = i < nf ? f[i] : "";
	for (size_t i = last; i < nf; i++)
		len += strlen(f[i]) + 1;
	row[last] = calloc(len + 1, 1);
	if (!row[last]) {
		free(row);
		return NULL;
	}
	for (size_t i = last; i < nf; i++)
		snprintf(row[last] + strlen(row[last]), len + 1 - strlen(row[last]), "%s%s",
			 i > last ? " " : "", f[i]);
	return row;
}

/* docker's parsePSOutput: the titles' PID column decides; a thread line
 * ("-" as PID, ps -m) goes with the process above it. */
static int top_ps(const struct pid_set *pids, char **args, int n, struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(16 << 20);
	char *titles[64], *save = NULL;
	size_t ntitles, pid_col = 64, nlines = 1;
	bool keep_threads = false;
	struct table t = {0};
	char *line;
	int ret = 0;

	if (run_ps(args, n, &out, err) < 0)
		return -1;
	for (size_t i = 0; i < out.len; i++)
		nlines += out.data[i] == '\n';
	line = strtok_r(out.data, "\n", &save);
	ntitles = line ? fields(line, titles, 64) : 0;
	for (size_t i = 0; i < ntitles && pid_col == 64; i++)
		if (!strcmp(titles[i], "PID"))
			pid_col = i;
	if (pid_col == 64)
		return err_set(err, 0, "Couldn't find PID field in ps output");
	t.ncols = ntitles;
	t.rows = calloc(nlines + 1, sizeof(char **));
	if (!t.rows)
		return err_set(err, ENOMEM, "top");
	t.rows[t.nrows++] = titles;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *f[256];
		size_t nf = fields(line, f, 256);
		bool keep;

		if (nf <= pid_col)
			continue;
		keep =
		    !strcmp(f[pid_col], "-") ? keep_threads : pid_set_has(pids, atol(f[pid_col]));
		if (strcmp(f[pid_col], "-") != 0)
			keep_threads = keep;
		if (keep && !(t.rows[t.nrows++] = ps_row(f, nf, ntitles))) {
			t.nrows--;
			ret = err_set(err, ENOMEM, "top");
			break;
		}
	}
	if (ret == 0)
		print_table(&t);
	for (size_t i = 1; i < t.nrows; i++) {
		free(t.rows[i][ntitles - 1]);
		free(t.rows[i]);
	}
	free(t.rows);
	return ret;
}

static int exec_top(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct pid_set pids = {0};
	char id[CTR_ID_LEN + 1];
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs(cmd_top.usage, stdout), 0;
	if (argc < 2)
		return cli_usage_error(err, "top",
				       "\"skiff top\" requires at least 1 argument.\n\n"
				       "Usage:  skiff top CONTAINER [ps OPTIONS]");
	ret = container_pids(&ctx->store, argv[1], id, &pids, err);
	if (ret == 0) {
		bool own = argc == 2 || (argc == 3 && !strcmp(argv[2], "-ef"));

		ret = own ? top_own(&pids) : top_ps(&pids, argv + 2, argc - 2, err);
		if (own && ret < 0)
			err_set(err, ENOMEM, "top");
	}
	free(pids.v);
	if (ret < 0)
		err->exit_code = 1;
	return ret;
}

const struct command cmd_top = {
    .name = "top",
    .summary = "Display the running processes of a container",
    .usage = "Usage:  skiff top CONTAINER [ps OPTIONS]\n\n"
	     "Display the running processes of a container, with the pids the host sees\n"
	     "(other ps options run the host's ps with them, as docker does)\n",
    .flags = CMD_NEED_STORE,
    .exec = exec_top,
};

/*
 * skiff update [OPTIONS] CONTAINER...: docker update. The new limits are
 * written into a running container's cgroup at once, and recorded in its
 * run options (config.json), so that inspect and every later start see
 * them; --restart changes the policy its monitor applies at the next exit.
 * The recorded options are changed by run's own parser (run_amend_options):
 * an updated flag replaces its earlier value, and run's checks apply.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/cgroup.h"
#include "runtime/events.h"
#include "runtime/freeze.h"
#include "runtime/state.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/log.h"

static const char update_usage[] =
    "Usage:  skiff update [OPTIONS] CONTAINER [CONTAINER...]\n\n"
    "Update configuration of one or more containers (at once when they run, and\n"
    "for every later start)\n\n"
    "Options:\n"
    "      --cpu-period int       limit CPU CFS (Completely Fair Scheduler) period\n"
    "      --cpu-quota int        limit CPU CFS (Completely Fair Scheduler) quota\n"
    "  -c, --cpu-shares int       CPU shares (relative weight)\n"
    "      --cpus decimal         number of CPUs\n"
    "      --cpuset-cpus string   CPUs in which to allow execution (0-3, 0,1)\n"
    "  -m, --memory bytes         memory limit\n"
    "      --memory-swap bytes    swap limit equal to memory plus swap: -1 to enable\n"
    "                             unlimited swap\n"
    "      --pids-limit int       tune container pids limit (-1 for unlimited)\n"
    "      --restart string       restart policy to apply when a container exits\n";

struct update {
	struct strv changes; /* "--memory=64m", ... as run spells them */
	bool memory_swap;
	bool restart; /* --restart with a policy other than "no" */
	int64_t memory; /* -m's value, 0 when not updated */
};

enum {
	OPT_MEMORY_SWAP = 256,
	OPT_CPUS,
	OPT_CPU_QUOTA,
	OPT_CPU_PERIOD,
	OPT_CPUSET_CPUS,
	OPT_PIDS_LIMIT,
	OPT_RESTART,
};

static const struct option update_options[] = {
    {"memory", required_argument, NULL, 'm'},
    {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"cpu-shares", required_argument, NULL, 'c'},
    {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
    {"cpu-period", required_argument, NULL, OPT_CPU_PERIOD},
    {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
    {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
    {"restart", required_argument, NULL, OPT_RESTART},
    {"help", no_argument, NULL, 'h'},
    {0},
};

/* A flag's value checked as run checks it, then kept as "--NAME=VALUE". */
static int add_change(struct update *u, int c, const char *arg, struct sk_err *err)
{
	typedef int (*parser)(const char *, struct cgroup_limits *, struct sk_err *);
	static const struct {
		int code;
		const char *name, *flag;
		parser parse;
	} flags[] = {
	    {'m', "memory", "-m, --memory", cgroup_parse_memory},
	    {OPT_MEMORY_SWAP, "memory-swap", "--memory-swap", cgroup_parse_memory_swap},
	    {OPT_CPUS, "cpus", "--cpus", cgroup_parse_cpus},
	    {'c', "cpu-shares", "-c, --cpu-shares", cgroup_parse_cpu_shares},
	    {OPT_CPU_QUOTA, "cpu-quota", "--cpu-quota", cgroup_parse_cpu_quota},
	    {OPT_CPU_PERIOD, "cpu-period", "--cpu-period", cgroup_parse_cpu_period},
	    {OPT_CPUSET_CPUS, "cpuset-cpus", "--cpuset-cpus", cgroup_parse_cpuset_cpus},
	    {OPT_PIDS_LIMIT, "pids-limit", "--pids-limit", cgroup_parse_pids_limit},
	    {OPT_RESTART, "restart", "--restart", NULL},
	};
	char word[512];

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		struct cgroup_limits lim = {0};
		enum ctr_restart policy = RESTART_NO;
		unsigned max;

		if (flags[i].code != c)
			continue;
		if (flags[i].parse ? flags[i].parse(arg, &lim, err) < 0
				   : ctr_restart_parse(arg, &policy, &max, err) < 0)
			return cli_usage_error(err, "update",
					       "invalid argument \"%s\" for \"%s\" flag: %s", arg,
					       flags[i].flag, err->msg);
		snprintf(word, sizeof(word), "--%s=%s", flags[i].name, arg);
		if (c == 'm')
			u->memory = lim.memory;
		u->memory_swap |= c == OPT_MEMORY_SWAP;
		if (c == OPT_RESTART)
			u->restart = policy != RESTART_NO;
		return strv_push(&u->changes, word, err);
	}
	return cli_usage_error(err, "update", "unknown flag: %s", arg);
}

/* docker's own words for the conflicts it checks before run's rules would. */
static int docker_conflicts(const struct update *u, const struct ctr_config *cc,
			    const struct run_recorded *now, struct sk_err *err)
{
	if (u->restart && cc->auto_remove)
		return err_set(err, 0,
			       "Restart policy cannot be updated because AutoRemove is "
			       "enabled for the container");
	if (u->memory && !u->memory_swap && now->limits.memory_swap > 0 &&
	    u->memory > now->limits.memory_swap)
		return err_set(err, 0,
			       "Memory limit should be smaller than already set memoryswap "
			       "limit, update the memoryswap at the same time");
	return 0;
}

/* run's parser ends its messages with run's usage hint: not update's. */
static void drop_usage_hint(struct sk_err *err)
{
	char *hint = strstr(err->msg, "\nSee 'skiff run --help'.");

	if (hint)
		*hint = '\0';
}

/* Into the running container's cgroup (nothing to do for a stopped one). */
static int apply_live(const char *id, int dirfd, const struct cgroup_limits *lim,
		      struct sk_err *err)
{
	struct ctr_state st;
	struct cgroup cg;
	int ret;

	if (ctr_state_read(dirfd, &st, err) < 0)
		return -1;
	if (st.status != CTR_RUNNING || !ctr_process_alive(st.pid, st.pid_start))
		return 0;
	if (container_cgroup_open(id, &cg, err) < 0)
		return -1;
	ret = cgroup_update(&cg, lim, err);
	cgroup_release(&cg);
	return ret;
}

static int update_locked(struct store *s, const char *id, int dirfd, const struct update *u,
			 struct sk_err *err)
{
	struct strv none = {0}, unchanged = {0}, amended = {0};
	struct run_recorded now = {0}, after = {0};
	struct ctr_config cc;
	int ret;

	if (ctr_config_read(dirfd, &cc, err) < 0)
		return -1;
	ret = run_amend_options(&cc.run_argv, &none, &unchanged, &now, err);
	if (ret == 0)
		ret = docker_conflicts(u, &cc, &now, err);
	if (ret == 0)
		ret = run_amend_options(&cc.run_argv, &u->changes, &amended, &after, err);
	if (ret < 0)
		drop_usage_hint(err);
	if (ret == 0)
		ret = apply_live(id, dirfd, &after.limits, err);
	if (ret == 0) {
		strv_release(&cc.run_argv);
		cc.run_argv = amended;
		amended = (struct strv){0};
		cc.restart = after.restart;
		cc.restart_max = after.restart_max;
		/* inspect's HostConfig: the limits as now asked */
		if (cc.has_docker)
			cc.docker.limits = after.limits;
		ret = ctr_config_write(dirfd, &cc, err);
	}
	strv_release(&unchanged);
	strv_release(&amended);
	ctr_config_release(&cc);
	return ret;
}

static int update_one(struct store *s, const char *ref, const struct update *u, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1, lock = -1;
	struct ctr_state st;

	if (ctr_resolve(s, ref, id, err) < 0 || (dirfd = ctr_open_dir(s, id, err)) < 0 ||
	    ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	lock = ctr_lock(dirfd, err);
	if (lock < 0)
		return -1;
	if (update_locked(s, id, dirfd, u, err) < 0)
		return err_wrap(err, "Cannot update container %s", id);
	close(lock);
	lock = -1;
	events_container_at(s->root_fd, dirfd, id, "update", NULL, 0);
	return 0;
}

static int exec_update(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct update u = {0};
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:m:c:h", update_options)) != -1) {
		int r;

		if (c == 'h') {
			strv_release(&u.changes);
			return fputs(update_usage, stdout), 0;
		}
		if (c == ':' || c == '?')
			r = cli_usage_error(err, "update",
					    c == ':' ? "flag needs an argument: %s"
						     : "unknown flag: %s",
					    argv[optind - 1]);
		else
			r = add_change(&u, c, optarg, err);
		if (r < 0) {
			strv_release(&u.changes);
			return -1;
		}
	}
	if (optind >= argc) {
		strv_release(&u.changes);
		return cli_usage_error(err, "update",
				       "\"skiff update\" requires at least 1 argument.\n\n"
				       "Usage:  skiff update [OPTIONS] CONTAINER [CONTAINER...]");
	}
	if (u.changes.n == 0) {
		err_set(err, 0, "you must provide one or more flags when using this command");
		err->exit_code = 1;
		return -1;
	}
	for (int i = optind; i < argc; i++) {
		struct sk_err one = {0};

		if (update_one(&ctx->store, argv[i], &u, &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed = 1;
			continue;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
	}
	strv_release(&u.changes);
	return failed;
}

const struct command cmd_update = {
    .name = "update",
    .summary = "Update configuration of one or more containers",
    .usage = update_usage,
    .flags = CMD_NEED_STORE,
    .exec = exec_update,
};

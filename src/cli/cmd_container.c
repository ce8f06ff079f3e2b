/*
 * skiff container: docker's management command. `container prune` removes
 * every stopped container; the other subcommands are the top-level commands
 * under their `docker container` names (ls = ps, inspect = inspect --type
 * container, ...).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/events.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/human.h"

static const char container_usage[] =
	"Usage:  skiff container COMMAND\n\n"
	"Manage containers\n\n"
	"Commands:\n"
	"  attach      attach to a running container's input and output\n"
	"  create      create a new container\n"
	"  exec        run a command in a running container\n"
	"  inspect     display detailed information on one or more containers\n"
	"  kill        kill one or more running containers\n"
	"  logs        fetch the logs of a container\n"
	"  ls, ps      list containers\n"
	"  pause       pause all processes within one or more containers\n"
	"  prune       remove all stopped containers\n"
	"  rename      rename a container\n"
	"  restart     restart one or more containers\n"
	"  rm          remove one or more containers\n"
	"  run         create and run a new container from an image\n"
	"  start       start one or more stopped containers\n"
	"  stats       display a live stream of container(s) resource usage statistics\n"
	"  stop        stop one or more running containers\n"
	"  top         display the running processes of a container\n"
	"  unpause     unpause all processes within one or more containers\n"
	"  update      update configuration of one or more containers\n"
	"  wait        block until one or more containers stop, then print their exit codes\n";

static const char prune_usage[] = "Usage:  skiff container prune [OPTIONS]\n\n"
				  "Remove all stopped containers\n\n"
				  "Options:\n"
				  "  -f, --force   do not prompt for confirmation\n";

struct prune_ctx {
	uint64_t reclaimed;
	size_t deleted;
	int64_t until; /* ns; 0: any age */
};

/* --filter until=: made before that time. */
static bool created_before(int dirfd, int64_t until)
{
	struct sk_err ignored = { 0 };
	struct ctr_config c;
	bool before;

	if (!until)
		return true;
	if (ctr_config_read(dirfd, &c, &ignored) < 0)
		return false;
	before = c.created < until;
	ctr_config_release(&c);
	return before;
}

/* Stopped: exited, or created by a process that is gone (a live creator is
 * still setting it up). Checked again under the lock right before removal, so
 * a concurrent start wins. */
static bool is_stopped(const struct ctr_state *st)
{
	return st->status == CTR_EXITED ||
	       (st->status == CTR_CREATED && !ctr_process_alive(st->monitor_pid, st->monitor_start));
}

static int prune_one(struct store *s, const char *id, int dirfd, void *arg)
{
	struct prune_ctx *p = arg;
	struct sk_err err = { 0 };
	struct ctr_state st;
	cleanup_close int lock = -1;
	long long size;

	/* ctr_state_load may take the lock itself: not under ours. */
	if (ctr_state_load(dirfd, &st, &err) < 0 || !is_stopped(&st) ||
	    !created_before(dirfd, p->until))
		return 0;
	lock = ctr_lock(dirfd, &err);
	if (lock < 0 || ctr_state_read(dirfd, &st, &err) < 0 || !is_stopped(&st))
		return 0;
	size = fs_disk_usage(dirfd, "upper");
	if (ctr_remove_files(s, id, &err) < 0) {
		fprintf(stderr, "skiff: cannot remove container %s: %s\n", id, err.msg);
		return 0;
	}
	if (p->deleted++ == 0)
		printf("Deleted Containers:\n");
	printf("%s\n", id);
	p->reclaimed += size > 0 ? (uint64_t)size : 0;
	return 0;
}

int cli_prune_containers(struct store *s, int64_t until_ns, uint64_t *reclaimed,
			 size_t *deleted, struct sk_err *err)
{
	struct prune_ctx p = { .until = until_ns };
	char bytes[32];
	int ret = ctr_for_each(s, prune_one, &p, err);

	*reclaimed = p.reclaimed;
	*deleted = p.deleted;
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)p.reclaimed);
	events_write(s->root_fd, &(struct event){ .type = "container",
						   .action = "prune",
						   .actor_id = "",
						   .attrs = &(struct event_attr){ "reclaimed", bytes },
						   .n_attrs = 1 });
	return ret;
}

static int container_prune(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct prune_ctx p = { 0 };
	bool force = false;
	char size[32];
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+fh", opts)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return fputs(prune_usage, stdout), 0;
		else if (c == 'F')
			return cli_usage_error(err, "container prune", "--filter is not supported");
		else
			return cli_usage_error(err, "container prune", "unknown flag: %s",
					       argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "container prune", "\"skiff container prune\" accepts no "
							       "arguments");
	if (!force && !cli_confirm("WARNING! This will remove all stopped containers."))
		return 0;
	if (cli_prune_containers(&ctx->store, 0, &p.reclaimed, &p.deleted, err) < 0)
		return -1;
	human_size((double)p.reclaimed, size, sizeof(size));
	printf("%sTotal reclaimed space: %s\n", p.deleted ? "\n" : "", size);
	return 0;
}

static int exec_container(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct cli_alias aliases[] = {
		{ "ls", &cmd_ps, NULL },	   { "ps", &cmd_ps, NULL },
		{ "list", &cmd_ps, NULL },	   { "rm", &cmd_rm, NULL },
		{ "remove", &cmd_rm, NULL },	   { "run", &cmd_run, NULL },
		{ "start", &cmd_start, NULL },	   { "stop", &cmd_stop, NULL },
		{ "kill", &cmd_kill, NULL },	   { "wait", &cmd_wait, NULL },
		{ "logs", &cmd_logs, NULL },	   { "exec", &cmd_exec, NULL },
		{ "restart", &cmd_restart, NULL }, { "inspect", &cmd_inspect, "--type=container" },
		{ "create", &cmd_create, NULL },   { "top", &cmd_top, NULL },
		{ "stats", &cmd_stats, NULL },	   { "rename", &cmd_rename, NULL },
		{ "pause", &cmd_pause, NULL },	   { "unpause", &cmd_unpause, NULL },
		{ "update", &cmd_update, NULL },
		{ "attach", &cmd_attach, NULL },
	};
	static const struct cli_group group = { "container", container_usage, aliases,
						ARRAY_SIZE(aliases), container_prune };

	return cli_run_group(&group, ctx, argc, argv, err);
}

const struct command cmd_container = {
	.name = "container",
	.summary = "Manage containers (prune, ls, inspect, rm, ...)",
	.usage = container_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_container,
};

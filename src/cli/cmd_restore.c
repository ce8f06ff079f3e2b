/*
 * skiff system restore: start every container that should be running, as
 * dockerd does when it starts. A detached container's monitor carries out
 * its restart policy while it lives; when the monitor is gone (a reboot, an
 * OOM kill, kill -9) nothing does, until this command: the boot unit
 * contrib/systemd/skiff-restart.service runs it, and a user can at any time.
 * Why a command of its own and not the next skiff command: docs/LIFECYCLE.md.
 *
 * First the store's sweep (dead owners recorded, --rm leftovers removed),
 * then every container is read once (this is the one command that reads
 * them all on purpose) and those ctr_restore_wanted() picks are started,
 * each as `skiff start` would. A start that fails is tried once more after
 * the others: a `--network container:NAME` container needs NAME running.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "util/cleanup.h"

static const char restore_usage[] =
	"Usage:  skiff system restore\n\n"
	"Start every container whose restart policy says it should be running, as\n"
	"dockerd does when it starts (run at boot by skiff-restart.service):\n"
	"  always           every container that ran before, even one stopped by a user\n"
	"  unless-stopped   unless a user stopped it (stop, kill, rm -f)\n"
	"  on-failure[:N]   after a non-zero exit (a stop's too, as docker), at most N\n"
	"                   restarts\n"
	"Containers that were never started, and those with --restart no, stay as\n"
	"they are. Prints the name of each container it starts.\n";

struct pick {
	char id[CTR_ID_LEN + 1];
	char name[CTR_NAME_MAX];
};

struct picks {
	struct pick *v;
	size_t n;
	bool failed; /* ENOMEM */
};

/* Settled first: a container whose monitor died is recorded as exited
 * (255) by ctr_state_load, and is then a candidate like any other. */
static int consider(struct store *s, const char *id, int containers_fd, void *ctx)
{
	struct picks *p = ctx;
	struct sk_err err = { 0 };
	cleanup_close int dirfd = ctr_open_dir(s, id, &err);
	struct ctr_config cfg;
	struct ctr_state st;
	struct pick *grown;
	bool wanted;

	if (dirfd < 0 || ctr_state_load(dirfd, &st, &err) < 0 ||
	    ctr_config_read(dirfd, &cfg, &err) < 0)
		return 0; /* being made, or removed meanwhile */
	wanted = !cfg.auto_remove && ctr_restore_wanted(&cfg, &st);
	if (wanted && (grown = realloc(p->v, (p->n + 1) * sizeof(*grown)))) {
		p->v = grown;
		snprintf(p->v[p->n].id, sizeof(p->v[p->n].id), "%s", id);
		snprintf(p->v[p->n].name, sizeof(p->v[p->n].name), "%s",
			 cfg.name[0] ? cfg.name : id);
		p->n++;
	} else if (wanted) {
		p->failed = true;
	}
	ctr_config_release(&cfg);
	return p->failed ? -1 : 0;
}

/* Start each one not done yet; done[i] set for those that run now. With
 * last, failures are reported. */
static size_t start_picks(struct cli_ctx *ctx, const struct picks *p, bool *done, bool last)
{
	size_t failed = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct sk_err err = { 0 };

		if (done[i])
			continue;
		if (run_start_container(ctx, p->v[i].id, &err) == 0) {
			done[i] = true;
			printf("%s\n", p->v[i].name);
			fflush(stdout);
			continue;
		}
		failed++;
		if (last)
			fprintf(stderr, "skiff: cannot start container %s: %s\n", p->v[i].name,
				err.msg);
	}
	return failed;
}

static int exec_restore(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct picks p = { 0 };
	cleanup_free bool *done = NULL;
	size_t failed = 0;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h')
			return fputs(restore_usage, stdout), 0;
		return cli_usage_error(err, "system restore", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "system restore",
				       "\"skiff system restore\" accepts no arguments");
	container_sweep(&ctx->store, false);
	if (ctr_for_each_id(&ctx->store, consider, &p, err) < 0) {
		free(p.v);
		return p.failed ? err_set(err, ENOMEM, "cannot list containers") : -1;
	}
	done = calloc(p.n + 1, sizeof(*done));
	if (!done) {
		free(p.v);
		return err_set(err, ENOMEM, "cannot list containers");
	}
	if (start_picks(ctx, &p, done, false) > 0)
		failed = start_picks(ctx, &p, done, true);
	free(p.v);
	return failed ? 1 : 0;
}

const struct command cmd_system_restore = {
	.name = "system restore",
	.summary = "Start the containers whose restart policy says they should run",
	.usage = restore_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_restore,
};

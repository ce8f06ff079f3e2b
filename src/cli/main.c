/*
 * skiff: the entry point. Global options, the command table, and the one
 * place where errors are printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"

#include <jansson.h>

#include "util/buf.h"
#include "util/gotemplate.h"
#include "image/ref.h"
#include "util/cleanup.h"
#include "runtime/userns.h"
#include "util/log.h"

static const struct command *const commands[] = {
	&cmd_run,   &cmd_exec,	 &cmd_ps,      &cmd_start, &cmd_stop,  &cmd_restart,
	&cmd_kill,  &cmd_wait,	 &cmd_logs,    &cmd_rm,	   &cmd_pull,  &cmd_images,
	&cmd_rmi,   &cmd_inspect, &cmd_load,   &cmd_login, &cmd_logout, &cmd_container,
	&cmd_image, &cmd_system, &cmd_port, &cmd_network, &cmd_volume,
	&cmd_tag, &cmd_history, &cmd_diff, &cmd_export, &cmd_commit, &cmd_save,
	&cmd_import, &cmd_cp, &cmd_attach,
	&cmd_create, &cmd_version, &cmd_info, &cmd_top, &cmd_stats, &cmd_rename, &cmd_pause,
	&cmd_unpause, &cmd_update, &cmd_events,
};

int cli_getopt(int argc, char **argv, const char *shorts, const struct option *longs)
{
	int before = optind > 0 ? optind : 1, idx = -1;
	int c = getopt_long(argc, argv, shorts, longs, &idx);
	const char *name;
	size_t len;

	if (c == -1 || idx < 0 || before >= argc || strncmp(argv[before], "--", 2) != 0)
		return c;
	name = argv[before] + 2;
	len = strcspn(name, "=");
	if (strlen(longs[idx].name) == len && !strncmp(name, longs[idx].name, len))
		return c;
	optind = before + 1;
	return '?';
}

static void print_main_usage(FILE *out)
{
	fprintf(out, "Usage: skiff [OPTIONS] COMMAND [ARG...]\n\n"
		     "A small, fast container engine: pull OCI/Docker images, run them isolated.\n\n"
		     "Options:\n"
		     "  --root DIR                 image and container store (default $SKIFF_ROOT, else\n"
		     "                             \"data-root\" in config.json, else /var/lib/skiff;\n"
		     "                             rootless: ~/.local/share/skiff)\n"
		     "  --registry-mirror URL      mirror for docker.io (repeatable)\n"
		     "  --insecure-registry HOST   allow plain HTTP to HOST[:PORT] (repeatable)\n"
		     "  -D, --debug                trace registry requests and setup steps on stderr\n"
		     "  -v, --version              print the version and exit\n"
		     "  -h, --help                 print this help\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nRun 'skiff COMMAND --help' for more information on a command.\n");
}

static int usage_error(struct sk_err *err, int status, const char *cmd, const char *fmt,
		       va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	err_set(err, 0, "%s\nSee 'skiff %s --help'.", msg, cmd);
	err->exit_code = status;
	return -1;
}

int cli_print_document(json_t *v, const char *format, void (*print_default)(json_t *),
		       struct sk_err *err)
{
	if (format && strcmp(format, "json") != 0) {
		cleanup_buf struct buf out = BUF_INIT(1 << 20);

		if (gotemplate_render(format, v, &out, err) < 0)
			return -1;
		printf("%.*s\n", (int)out.len, out.data ? out.data : "");
	} else if (format) {
		cleanup_free char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

		printf("%s\n", text ? text : "{}");
	} else {
		print_default(v);
	}
	return 0;
}

int cli_usage_error(struct sk_err *err, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	usage_error(err, EXIT_SKIFF, cmd, fmt, ap);
	va_end(ap);
	return -1;
}

int cli_args_error(struct sk_err *err, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	usage_error(err, 1, cmd, fmt, ap);
	va_end(ap);
	return -1;
}

int cli_not_a_tty(struct sk_err *err)
{
	err_set(err, 0, "the input device is not a TTY");
	err->exit_code = 1;
	return -1;
}

bool cli_confirm(const char *warning)
{
	char line[64];

	fprintf(stdout, "%s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

void cli_print_untagged(const char *label, const char *canonical)
{
	struct image_ref ref;
	struct sk_err ignored;
	char name[REF_STR_MAX];

	if (!canonical[0] || ref_parse(canonical, &ref, &ignored) < 0)
		return;
	ref_familiar_name(&ref, name, sizeof(name));
	if (ref.tag[0])
		printf("%s: %s:%s\n", label, name, ref.tag);
	else
		printf("%s: %s@%s\n", label, name, ref.digest);
}

static int run_alias(const struct cli_alias *a, struct cli_ctx *ctx, int argc, char **argv,
		     struct sk_err *err)
{
	cleanup_free char **args = calloc((size_t)argc + 2, sizeof(*args));
	int n = 0;

	if (!args)
		return err_set(err, ENOMEM, "cannot run '%s'", a->cmd->name);
	args[n++] = (char *)a->cmd->name;
	if (a->extra_arg)
		args[n++] = (char *)a->extra_arg;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	optind = 0;
	return a->cmd->exec(ctx, n, args, err);
}

int cli_run_group(const struct cli_group *g, struct cli_ctx *ctx, int argc, char **argv,
		  struct sk_err *err)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(g->usage, sub ? stdout : stderr);
		return sub ? 0 : cli_usage_error(err, g->name, "a subcommand is required");
	}
	if (!strcmp(sub, "prune"))
		return g->prune(ctx, argc - 1, argv + 1, err);
	for (size_t i = 0; i < g->n_aliases; i++)
		if (!strcmp(sub, g->aliases[i].name))
			return run_alias(&g->aliases[i], ctx, argc - 1, argv + 1, err);
	return cli_usage_error(err, g->name, "unknown command \"%s\" for \"skiff %s\"", sub,
			       g->name);
}

void cli_print_usage(const struct command *cmd)
{
	fputs(cmd->usage, stdout);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

enum { OPT_ROOT = 256, OPT_MIRROR, OPT_INSECURE };

/* A bad global flag value is a flag error: 125, as docker's. */
static int flag_value_error(struct sk_err *err)
{
	err->exit_code = EXIT_SKIFF;
	return -1;
}

/* Parses global options; returns the index of the command word, or -1 (err set),
 * or 0 when the process should exit 0 (help/version printed). */
static int parse_global_options(int argc, char **argv, struct cli_ctx *ctx, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "registry-mirror", required_argument, NULL, OPT_MIRROR },
		{ "insecure-registry", required_argument, NULL, OPT_INSECURE },
		{ "debug", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+Dvh", opts)) != -1) {
		switch (c) {
		case OPT_ROOT:
			snprintf(ctx->cfg.root, sizeof(ctx->cfg.root), "%s", optarg);
			break;
		case OPT_MIRROR:
			if (config_add_mirror(&ctx->cfg, optarg, err) < 0)
				return flag_value_error(err);
			break;
		case OPT_INSECURE:
			if (config_add_insecure(&ctx->cfg, optarg, err) < 0)
				return flag_value_error(err);
			break;
		case 'D':
			log_set_debug(true);
			break;
		case 'v':
			printf("skiff version %s\n", SKIFF_VERSION);
			return 0;
		case 'h':
			print_main_usage(stdout);
			return 0;
		default:
			err_set(err, 0, "unknown flag '%s'\nSee 'skiff --help'.", argv[optind - 1]);
			err->exit_code = EXIT_SKIFF;
			return -1;
		}
	}
	if (optind >= argc) {
		print_main_usage(stderr);
		err_set(err, 0, "no command given");
		err->exit_code = EXIT_SKIFF;
		return -1;
	}
	return optind;
}

/* docker's status for a failure of the engine itself: 125 only where the
 * status would otherwise be the container's (run), 126 where it would be an
 * exec'd process's (docker exec), 1 for every other command. Usage errors
 * set 125 themselves (cli_usage_error), as docker's flag errors. */
static int failure_status(const struct command *cmd, int argc, char **argv)
{
	const char *sub = cmd == &cmd_container && argc > 1 ? argv[1] : NULL;

	if (cmd == &cmd_run || (sub && !strcmp(sub, "run")))
		return EXIT_SKIFF;
	if (cmd == &cmd_exec || (sub && !strcmp(sub, "exec")))
		return EXIT_CANNOT_INVOKE;
	return 1;
}

static int run_command(const struct command *cmd, struct cli_ctx *ctx, int argc, char **argv,
		       struct sk_err *err)
{
	int ret;

	if (cmd->flags & CMD_NEED_STORE) {
		/* Rootless: the store's files carry the image's owners, which only
		 * root of a user namespace can give them (userns.h). */
		if (geteuid() != 0 && !(cmd->flags & CMD_JOINS_USERNS) && !userns_is_rootless() &&
		    userns_enter_rootless(err) < 0)
			return -1;
		if (store_open(&ctx->store, ctx->cfg.root, err) < 0)
			return err_wrap(err, "cannot open store '%s'", ctx->cfg.root);
	}
	/* getopt state is shared: each command parses its own argv from scratch. */
	optind = 0;
	ret = cmd->exec(ctx, argc, argv, err);
	if (cmd->flags & CMD_NEED_STORE)
		store_close(&ctx->store);
	return ret;
}

/* A closed stdin, stdout or stderr would be taken by the next open(): a pipe
 * of the container's relay must not become skiff's own "stdout" (git does
 * the same). Each open fills the lowest free descriptor, the one missing. */
static void keep_stdio_open(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			open("/dev/null", O_RDWR);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .argv0 = argv[0], .store = { .root_fd = -1 } };
	struct sk_err err = { 0 };
	const struct command *cmd;
	int status = 1; /* before a command is chosen: docker's for an unknown one */
	const char *dbg = getenv("SKIFF_DEBUG");
	int idx, ret;

	keep_stdio_open();
	if (dbg && *dbg && strcmp(dbg, "0") != 0)
		log_set_debug(true);
	/* A bad config file fails the command with the command's own status
	 * (run: 125), so it is reported once the command is known. */
	struct sk_err cfg_err = { 0 };
	bool cfg_bad = config_load(&ctx.cfg, &cfg_err) < 0;

	idx = parse_global_options(argc, argv, &ctx, &err);
	if (idx == 0)
		return 0;
	if (idx < 0)
		goto fail;
	cmd = find_command(argv[idx]);
	if (!cmd) {
		err_set(&err, 0, "'%s' is not a skiff command.\nSee 'skiff --help'.", argv[idx]);
		goto fail;
	}
	status = failure_status(cmd, argc - idx, argv + idx);
	if (cfg_bad) {
		err = cfg_err;
		goto fail;
	}
	ret = run_command(cmd, &ctx, argc - idx, argv + idx, &err);
	config_release(&ctx.cfg);
	if (ret >= 0)
		return ret;
fail:
	fflush(stdout);
	fprintf(stderr, "skiff: %s\n", err.msg[0] ? err.msg : "unknown error");
	return err.exit_code ? err.exit_code : status;
}

/*
 * skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]: docker's flags -> struct
 * exec_opts -> exec_run() (src/runtime/exec.c does the joining).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/exec.h"
#include "runtime/spec.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

enum { OPT_ENV_FILE = 256, OPT_PRIVILEGED, OPT_DETACH_KEYS, OPT_HELP };

static const struct option exec_options[] = {
    {"detach", no_argument, NULL, 'd'},
    {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, OPT_ENV_FILE},
    {"interactive", no_argument, NULL, 'i'},
    {"privileged", no_argument, NULL, OPT_PRIVILEGED},
    {"tty", no_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'},
    {"workdir", required_argument, NULL, 'w'},
    {"help", no_argument, NULL, OPT_HELP},
    {0},
};

struct exec_args {
	struct exec_opts o;
	struct strv env;       /* -e, in order */
	struct strv env_files; /* --env-file, in order */
	const char *container;
};

static void exec_args_release(struct exec_args *a)
{
	strv_release(&a->o.env);
	strv_release(&a->env);
	strv_release(&a->env_files);
}

/* One option; returns 1 for --help, 0 to go on, -1 on error. */
static int apply_option(int c, const char *arg, const char *word, struct exec_args *a,
			struct sk_err *err)
{
	switch (c) {
	case 'd':
		a->o.detach = true;
		return 0;
	case 'e':
		return strv_push(&a->env, arg, err);
	case OPT_ENV_FILE:
		return strv_push(&a->env_files, arg, err);
	case 'i':
		a->o.interactive = true;
		return 0;
	case 't':
		a->o.tty = true;
		return 0;
	case 'u':
		a->o.user = arg;
		return 0;
	case 'w':
		a->o.cwd = arg;
		return 0;
	case OPT_PRIVILEGED:
		a->o.privileged = true;
		return 0;
	case OPT_DETACH_KEYS:
		return 0; /* no attach protocol to detach from */
	case OPT_HELP:
		return 1;
	case ':':
		return cli_usage_error(err, "exec", "flag needs an argument: %s", word);
	default:
		return cli_usage_error(err, "exec", "unknown flag: %s", word);
	}
}

/* docker's order: the --env-file lines first, then -e. */
static int collect_env(struct exec_args *a, struct sk_err *err)
{
	for (size_t f = 0; f < a->env_files.n; f++)
		if (env_file_load(a->env_files.v[f], &a->o.env, err) < 0)
			return -1;
	for (size_t i = 0; i < a->env.n; i++)
		if (strv_push(&a->o.env, a->env.v[i], err) < 0)
			return -1;
	return 0;
}

/* Returns 1 when --help was asked, 0 when a is ready, -1 on error. */
static int parse_exec_args(int argc, char **argv, struct exec_args *a, struct sk_err *err)
{
	int c, r;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:de:itu:w:", exec_options)) != -1) {
		r = apply_option(c, optarg, argv[optind - 1], a, err);
		if (r != 0)
			return r;
	}
	if (argc - optind < 2)
		return cli_usage_error(err, "exec",
				       "\"skiff exec\" requires at least 2 arguments.\n\n"
				       "Usage:  skiff exec [OPTIONS] CONTAINER COMMAND "
				       "[ARG...]");
	if (a->o.cwd && a->o.cwd[0] != '/')
		return cli_usage_error(err, "exec",
				       "the working directory '%s' is invalid, it needs to be an "
				       "absolute path",
				       a->o.cwd);
	a->container = argv[optind];
	a->o.args = argv + optind + 1;
	return collect_env(a, err);
}

static int exec_exec(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct exec_args a = {0};
	int status = 0, r;

	r = parse_exec_args(argc, argv, &a, err);
	if (r == 0 && a.o.tty && a.o.interactive && !a.o.detach && !isatty(STDIN_FILENO))
		r = cli_not_a_tty(err);
	if (r == 1)
		cli_print_usage(&cmd_exec);
	if (r == 0)
		r = exec_run(&ctx->store, a.container, &a.o, &status, err);
	exec_args_release(&a);
	if (r < 0)
		return -1;
	return r == 1 ? 0 : status;
}

const struct command cmd_exec = {
    .name = "exec",
    .summary = "Execute a command in a running container",
    .usage = "Usage:  skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
	     "Execute a command in a running container\n\n"
	     "Options:\n"
	     "  -d, --detach               Detached mode: run command in the background\n"
	     "  -e, --env list             Set environment variables\n"
	     "      --env-file list        Read in a file of environment variables\n"
	     "  -i, --interactive          Keep STDIN open even if not attached\n"
	     "      --privileged           Give extended privileges to the command\n"
	     "  -t, --tty                  Allocate a pseudo-TTY\n"
	     "  -u, --user string          Username or UID (format: \"<name|uid>[:<group|gid>]\")\n"
	     "  -w, --workdir string       Working directory inside the container\n",
    .flags = CMD_NEED_STORE | CMD_JOINS_USERNS,
    .exec = exec_exec,
};

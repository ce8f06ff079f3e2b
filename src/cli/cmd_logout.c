/*
 * skiff logout: remove a registry's credentials from its credential helper
 * and docker's config.json, every spelling of its key included, and say so
 * as docker 28 does (always, and a helper's failure is only a warning).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "image/auth.h"
#include "image/credstore.h"
#include "util/log.h"

static const char logout_usage[] =
	"Usage: skiff logout [SERVER]\n\n"
	"Log out from a registry.\n"
	"If no server is specified, the default is docker.io.\n";

/* Returns 1 to go on, 0 when --help was printed, -1 on a usage error. */
static int parse_logout_args(int argc, char **argv, const char **server, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h') {
			cli_print_usage(&cmd_logout);
			return 0;
		}
		return cli_usage_error(err, "logout", "unknown flag '%s'", argv[optind - 1]);
	}
	if (argc - optind > 1)
		return cli_args_error(err, "logout", "\"skiff logout\" requires at most 1 argument");
	*server = optind < argc ? argv[optind] : "docker.io";
	return 1;
}

static int exec_logout(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	const char *server = NULL;
	char host[AUTH_HOST_MAX], shown[AUTH_HOST_MAX];
	struct sk_err warning = { 0 };
	int r = parse_logout_args(argc, argv, &server, err);

	if (r <= 0)
		return r;
	if (auth_server_host(server, host, sizeof(host), err) < 0)
		return -1;
	/* docker names Docker Hub by its config key, other registries by host;
	 * docker 28 says this whether or not there was a login to remove. */
	auth_config_key(host, shown, sizeof(shown));
	printf("Removing login credentials for %s\n", shown);
	fflush(stdout);
	if (credstore_erase(ctx->cfg.docker_config_dir, host, &warning, err) < 0)
		return err_wrap(err, "logout from '%s'", host);
	if (warning.msg[0])
		log_warn("could not erase credentials: %s: %s", shown, warning.msg);
	return 0;
}

const struct command cmd_logout = {
	.name = "logout",
	.summary = "Log out from a registry",
	.usage = logout_usage,
	.flags = 0,
	.exec = exec_logout,
};

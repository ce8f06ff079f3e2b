/*
 * skiff login: check credentials against a registry, then store them where
 * docker would (its credential helper, or config.json), so docker and skiff
 * share logins. Nothing is written unless the registry accepted them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/auth.h"
#include "image/credstore.h"
#include "image/registry.h"
#include "util/cleanup.h"

#define SECRET_MAX 4096

static const char login_usage[] =
	"Usage: skiff login [OPTIONS] [SERVER]\n\n"
	"Log in to a registry.\n"
	"If no server is specified, the default is docker.io.\n\n"
	"Options:\n"
	"  -p, --password string   password\n"
	"      --password-stdin    take the password from stdin\n"
	"  -u, --username string   username\n";

struct login_opts {
	const char *user;
	const char *pass;
	bool pass_stdin;
	const char *server;
};

/* Holds a secret and wipes it when it goes out of scope. */
struct secret {
	char data[SECRET_MAX + 2];
};

static void secret_wipe(struct secret *s)
{
	explicit_bzero(s->data, sizeof(s->data));
}
#define cleanup_secret __attribute__((cleanup(secret_wipe)))

static void registry_freep(struct registry **r)
{
	if (*r)
		registry_free(*r);
}

enum { OPT_PASSWORD_STDIN = 256 };

/* Returns 1 to go on, 0 when --help was printed, -1 on a usage error. */
static int parse_login_args(int argc, char **argv, struct login_opts *o, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+u:p:h", opts)) != -1) {
		switch (c) {
		case 'u':
			o->user = optarg;
			break;
		case 'p':
			o->pass = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			o->pass_stdin = true;
			break;
		case 'h':
			cli_print_usage(&cmd_login);
			return 0;
		default:
			return cli_usage_error(err, "login", "unknown or incomplete flag '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_args_error(err, "login", "\"skiff login\" requires at most 1 argument");
	o->server = optind < argc ? argv[optind] : "docker.io";
	/* docker's words, and its status: 1, as for any failed login */
	if (o->pass && o->pass_stdin)
		return err_set(err, 0,
			       "conflicting options: cannot specify both --password and "
			       "--password-stdin");
	if (o->pass_stdin && !o->user)
		return err_set(err, 0, "the --password-stdin option requires --username to be set");
	return 1;
}

/* Strips one trailing "\n" or "\r\n", as docker does for --password-stdin. */
static void chomp(char *s)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n && s[n - 1] == '\r')
		s[--n] = '\0';
}

static int read_stdin_secret(struct secret *out, struct sk_err *err)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, out->data + len, SECRET_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, errno, "cannot read the password from stdin");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SECRET_MAX)
			return err_set(err, 0, "password on stdin is longer than %d bytes",
				       SECRET_MAX);
	}
	out->data[len] = '\0';
	chomp(out->data);
	if (!out->data[0])
		return err_set(err, 0, "no password given on stdin");
	return 0;
}

/* One line from the terminal; echo off for passwords. Echo goes off (and
 * what was typed ahead is dropped) before the prompt shows: a password typed
 * as soon as the prompt appears must not be flushed with the typeahead. */
static int prompt_line(const char *prompt, bool hide, struct secret *out, struct sk_err *err)
{
	struct termios old, quiet;
	bool restored = !hide;
	char *got;

	if (hide && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restored = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0;
	}
	fputs(prompt, stderr);
	fflush(stderr);
	got = fgets(out->data, SECRET_MAX + 1, stdin);
	if (!restored)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (!got)
		return err_set(err, 0, "no input on the terminal");
	chomp(out->data);
	return 0;
}

/* Fills user/pass from the flags, stdin or the terminal. */
static int gather_credentials(const struct login_opts *o, struct secret *user,
			      struct secret *pass, struct sk_err *err)
{
	bool tty = isatty(STDIN_FILENO);

	if (o->pass)
		fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
		      stderr);
	if (o->user)
		snprintf(user->data, sizeof(user->data), "%s", o->user);
	else if (!tty)
		return err_set(err, 0, "Cannot perform an interactive login from a non TTY device");
	else if (prompt_line("Username: ", false, user, err) < 0)
		return -1;
	if (!user->data[0])
		return err_set(err, 0, "username is required");

	if (o->pass_stdin)
		return read_stdin_secret(pass, err);
	if (o->pass) {
		snprintf(pass->data, sizeof(pass->data), "%s", o->pass);
	} else if (!tty) {
		return err_set(err, 0, "Cannot perform an interactive login from a non TTY device");
	} else if (prompt_line("Password: ", true, pass, err) < 0) {
		return -1;
	}
	if (!pass->data[0])
		return err_set(err, 0, "password is required");
	return 0;
}

/* docker's word when the password lands in the file in base64. */
static void warn_unencrypted(const char *config_dir)
{
	fprintf(stderr,
		"WARNING! Your credentials are stored unencrypted in '%s/config.json'.\n"
		"Configure a credential helper to remove this warning. See\n"
		"https://docs.docker.com/go/credential-store/\n\n",
		config_dir);
}

static int check_and_store(struct cli_ctx *ctx, const char *host, char *user, char *pass,
			   struct sk_err *err)
{
	__attribute__((cleanup(registry_freep))) struct registry *reg = NULL;
	struct auth_creds creds = { .user = user, .pass = pass };
	bool via_helper;

	reg = registry_new(host, &ctx->cfg, err);
	if (!reg)
		return err_wrap(err, "login to '%s' failed", host);
	if (registry_check_login(reg, &creds, err) < 0)
		return err_wrap(err, "login to '%s' failed", host);
	if (credstore_store(ctx->cfg.docker_config_dir, host, user, pass, &via_helper, err) < 0)
		return err_wrap(err, "Error saving credentials");
	if (!via_helper)
		warn_unencrypted(ctx->cfg.docker_config_dir);
	return 0;
}

/* docker's lines when the stored credentials (a helper's, or the file's)
 * still work, on stderr; the user name made printable. */
static void say_existing(const struct auth_creds *c)
{
	fputs("Authenticating with existing credentials...", stderr);
	if (c->user) {
		fputs(" [Username: ", stderr);
		for (const char *p = c->user; *p; p++)
			fputc((unsigned char)*p >= 0x20 && *p != 0x7f ? *p : '?', stderr);
		fputc(']', stderr);
	}
	fputs("\n\n Info -> To login with a different account, run 'docker logout' followed by "
	      "'docker login'\n\n",
	      stderr);
}

/* As docker: with no flags, stored credentials that still work are enough. */
static bool stored_credentials_work(struct cli_ctx *ctx, const char *host)
{
	__attribute__((cleanup(registry_freep))) struct registry *reg = NULL;
	struct auth_creds creds = { 0 };
	struct sk_err ignored = { 0 };
	bool ok;

	if (credstore_get(ctx->cfg.docker_config_dir, host, &creds, &ignored) != 1)
		return false;
	reg = registry_new(host, &ctx->cfg, &ignored);
	ok = reg && registry_check_login(reg, &creds, &ignored) == 0;
	if (ok)
		say_existing(&creds);
	auth_creds_release(&creds);
	return ok;
}

static int exec_login(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct login_opts o = { 0 };
	cleanup_secret struct secret user = { { 0 } };
	cleanup_secret struct secret pass = { { 0 } };
	char host[AUTH_HOST_MAX];
	int r = parse_login_args(argc, argv, &o, err);

	if (r <= 0)
		return r;
	if (auth_server_host(o.server, host, sizeof(host), err) < 0)
		return -1;
	if (!o.user && !o.pass && !o.pass_stdin && stored_credentials_work(ctx, host)) {
		printf("Login Succeeded\n");
		return 0;
	}
	if (gather_credentials(&o, &user, &pass, err) < 0)
		return -1;
	if (check_and_store(ctx, host, user.data, pass.data, err) < 0)
		return -1;
	printf("Login Succeeded\n");
	return 0;
}

const struct command cmd_login = {
	.name = "login",
	.summary = "Log in to a registry",
	.usage = login_usage,
	.flags = 0,
	.exec = exec_login,
};

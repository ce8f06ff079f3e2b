/*
 * skiff attach [--no-stdin] [--sig-proxy=BOOL] [--detach-keys KEYS] CONTAINER:
 * docker attach. Connects to the container's monitor (runtime/attach.h) and
 * relays skiff's stdio until the container exits (its status is attach's) or
 * the detach keys are typed. Also the attached half of `run -it` and
 * `start -a/-i` (cli_attach_session).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/attach.h"
#include "runtime/state.h"
#include "util/cleanup.h"

#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

static const char attach_usage[] =
	"Usage:  skiff attach [OPTIONS] CONTAINER\n\n"
	"Attach local standard input, output, and error streams to a running container\n\n"
	"Options:\n"
	"      --detach-keys string   Override the key sequence for detaching a container\n"
	"                             (default \"ctrl-p,ctrl-q\"; \"detachKeys\" in skiff's\n"
	"                             config.json or ~/.docker/config.json)\n"
	"      --no-stdin             Do not attach STDIN\n"
	"      --sig-proxy            Proxy all received signals to the process (default\n"
	"                             true; not with a terminal)\n";

/* "detachKeys" of docker's own config.json ($DOCKER_CONFIG or ~/.docker);
 * "" when it has none. A file docker cannot read is docker's business. */
static void docker_config_keys(const struct cli_ctx *ctx, char *out, size_t len)
{
	char path[4200];
	json_t *root, *v;

	*out = '\0';
	snprintf(path, sizeof(path), "%s/config.json", ctx->cfg.docker_config_dir);
	root = json_load_file(path, 0, NULL);
	v = json_object_get(root, "detachKeys");
	if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
	json_decref(root);
}

int cli_detach_keys(const struct cli_ctx *ctx, const char *flag, char *keys, size_t *n,
		    struct sk_err *err)
{
	char from_docker[128];
	const char *spec = flag;

	if (!spec && ctx->cfg.detach_keys[0])
		spec = ctx->cfg.detach_keys;
	if (!spec) {
		docker_config_keys(ctx, from_docker, sizeof(from_docker));
		spec = from_docker[0] ? from_docker : DEFAULT_DETACH_KEYS;
	}
	if (attach_parse_keys(spec, keys, n, err) < 0) {
		err->exit_code = 1;
		return -1;
	}
	return 0;
}

int cli_check_tty(bool tty, bool attach_stdin, struct sk_err *err)
{
	if (!tty || !attach_stdin || isatty(STDIN_FILENO))
		return 0;
	err_set(err, 0, "the input device is not a TTY");
	err->exit_code = 1;
	return -1;
}

/* The monitor hung up without a status (a container removed meanwhile, a
 * monitor killed): what state.json says. */
static int status_from_state(int dirfd, struct sk_err *err)
{
	struct ctr_state st;

	if (ctr_state_load(dirfd, &st, err) < 0 || st.status != CTR_EXITED)
		return err_set(err, 0, "lost contact with the container's monitor");
	return st.exit_code;
}

int cli_attach_session(struct cli_ctx *ctx, int dirfd, const struct ctr_config *cfg, int sock,
		       const struct cli_attach *a, struct sk_err *err)
{
	char keys[ATTACH_KEYS_MAX];
	struct attach_client_opts o = {
		.tty = cfg->tty,
		.send_stdin = a->send_stdin,
		.sig_proxy = a->sig_proxy,
		.redraw = a->redraw,
		.keys = keys,
	};
	enum attach_end end;
	int status = 0;

	if (cli_detach_keys(ctx, a->detach_keys, keys, &o.n_keys, err) < 0) {
		close(sock);
		return -1;
	}
	/* docker: the keys only work on a terminal */
	if (!cfg->tty || !a->send_stdin)
		o.n_keys = 0;
	if (attach_client_run(sock, &o, &end, &status, err) < 0)
		return -1;
	switch (end) {
	case ATTACH_ENDED_EXIT: return status;
	case ATTACH_ENDED_DETACHED:
		if (!a->say_detached)
			return 0;
		fputs("read escape sequence\n", stderr);
		return 1;
	case ATTACH_ENDED_CLOSED:
	default: return status_from_state(dirfd, err);
	}
}

struct attach_args {
	bool no_stdin, sig_proxy;
	const char *detach_keys;
};

enum { OPT_NO_STDIN = 256, OPT_SIG_PROXY, OPT_DETACH_KEYS };

static int parse_attach(int argc, char **argv, struct attach_args *a, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "no-stdin", no_argument, NULL, OPT_NO_STDIN },
		{ "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
		{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	a->sig_proxy = true;
	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:h", opts)) != -1) {
		switch (c) {
		case OPT_NO_STDIN: a->no_stdin = true; break;
		case OPT_SIG_PROXY:
			if (!optarg || !strcmp(optarg, "true") || !strcmp(optarg, "1"))
				a->sig_proxy = true;
			else if (!strcmp(optarg, "false") || !strcmp(optarg, "0"))
				a->sig_proxy = false;
			else
				return cli_usage_error(err, "attach",
						       "invalid argument \"%s\" for \"--sig-proxy\" flag",
						       optarg);
			break;
		case OPT_DETACH_KEYS: a->detach_keys = optarg; break;
		case 'h': return 1;
		case ':':
			return cli_usage_error(err, "attach", "flag needs an argument: %s",
					       argv[optind - 1]);
		default:
			return cli_usage_error(err, "attach", "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc) {
		cli_usage_error(err, "attach", "\"skiff attach\" requires exactly 1 argument.\n\n"
					       "Usage:  skiff attach [OPTIONS] CONTAINER");
		err->exit_code = 1;
		return -1;
	}
	return 0;
}

/* docker's refusals of a container that does not run. */
static int check_running(int dirfd, struct ctr_state *st, struct sk_err *err)
{
	if (ctr_state_load(dirfd, st, err) < 0)
		return -1;
	if (st->status == CTR_RESTARTING)
		return err_set(err, 0, "You cannot attach to a restarting container, wait until it "
				       "is running");
	if (st->status != CTR_RUNNING)
		return err_set(err, 0, "You cannot attach to a stopped container, start it first");
	return 0;
}

/* A running container under a monitor: the socket to it. */
static int connect_running(int dirfd, const char *ref, struct sk_err *err)
{
	struct ctr_state st;
	int sock;

	if (check_running(dirfd, &st, err) < 0)
		return -1;
	sock = attach_connect(dirfd, err);
	if (sock < 0 && (err->errnum == ENOENT || err->errnum == ECONNREFUSED))
		return err_set(err, 0, "container %s runs in the foreground of the `skiff run` that "
				       "started it (pid %d): only containers under a monitor (run -d, "
				       "run -it, start) can be attached",
			       ref, (int)st.monitor_pid);
	return sock;
}

int cli_attach_running(struct cli_ctx *ctx, int dirfd, const char *ref,
		       const struct ctr_config *cfg, const struct cli_attach *a, struct sk_err *err)
{
	int sock = connect_running(dirfd, ref, err);

	if (sock < 0)
		return -1;
	return cli_attach_session(ctx, dirfd, cfg, sock, a, err);
}

static int exec_attach(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	struct attach_args a = { 0 };
	struct ctr_config cfg;
	struct ctr_state st;
	char id[CTR_ID_LEN + 1], keys[ATTACH_KEYS_MAX];
	cleanup_close int dirfd = -1;
	size_t n_keys;
	int r = parse_attach(argc, argv, &a, err);
	const char *ref = argv[optind];

	if (r != 0)
		return r < 0 ? -1 : (fputs(attach_usage, stdout), 0);
	if (ctr_resolve(&ctx->store, ref, id, err) < 0 ||
	    (dirfd = ctr_open_dir(&ctx->store, id, err)) < 0 ||
	    ctr_config_read(dirfd, &cfg, err) < 0) {
		err->exit_code = 1;
		return -1;
	}
	/* in docker's order: the state, the terminal, the keys */
	r = check_running(dirfd, &st, err);
	if (r == 0)
		r = cli_check_tty(cfg.tty, !a.no_stdin, err);
	if (r == 0)
		r = cli_detach_keys(ctx, a.detach_keys, keys, &n_keys, err);
	if (r == 0)
		r = cli_attach_running(ctx, dirfd, ref, &cfg,
				       &(struct cli_attach){ .send_stdin = !a.no_stdin &&
									   cfg.interactive,
							     .sig_proxy = a.sig_proxy,
							     .detach_keys = a.detach_keys,
							     .say_detached = true,
							     .redraw = true },
				       err);
	ctr_config_release(&cfg);
	if (r < 0)
		err->exit_code = 1;
	return r;
}

const struct command cmd_attach = {
	.name = "attach",
	.summary = "Attach local standard input, output, and error streams to a running container",
	.usage = attach_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_attach,
};

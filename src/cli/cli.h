/*
 * The command-line layer: argv -> library calls. One file per subcommand, each
 * exporting a `const struct command cmd_NAME`. Only main() prints errors.
 */
#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "image/store.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"
#include "util/config.h"
#include "util/err.h"

/* What main() sets up before calling a command (from the command's flags). */
struct cli_ctx {
	struct sk_config cfg; /* always loaded */
	struct store store;   /* open when the command has CMD_NEED_STORE */
	const char *argv0;
};

enum {
	CMD_NEED_STORE = 1 << 0, /* open (create) the store before running */
	/* Rootless: do not make a user namespace of its own; the command joins
	 * a container's (exec). */
	CMD_JOINS_USERNS = 1 << 1,
};

struct command {
	const char *name;
	const char *summary; /* one line for `skiff --help` */
	const char *usage;   /* full text for `skiff NAME --help` */
	unsigned flags;
	/* argv[0] is the command name. Returns the process exit status (0 ok);
	 * on skiff's own failure returns -1 with err filled (main prints, exits 125
	 * or err->exit_code). */
	int (*exec)(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err);
};

/* For the commands: "skiff: <cmd>: <msg>" style usage error, exit 125 with hint. */
/* A command's whole document (version, info): --format json prints it
 * compact, another --format is a Go template over it, none calls
 * print_default for the command's own text. */
struct json_t;
int cli_print_document(struct json_t *v, const char *format, void (*print_default)(struct json_t *),
		       struct sk_err *err);
int cli_usage_error(struct sk_err *err, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a wrong number of arguments, which docker exits 1 for. */
int cli_args_error(struct sk_err *err, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* docker's refusal of -i -t (not detached) when stdin is not a terminal:
 * "the input device is not a TTY", exit 1. Returns -1. */
int cli_not_a_tty(struct sk_err *err);

/* True if argv contains -h/--help before "--" or the first non-option (commands
 * handle it by printing usage to stdout and returning 0). */
void cli_print_usage(const struct command *cmd);

/* cmd_run.c: start an existing, not running container again (detached, with
 * the options it was created with), as `skiff start` and `restart` do. */
int run_start_container(struct cli_ctx *ctx, const char *id, struct sk_err *err);
/* The same with a client attached from the start: attach_fd (taken) is the
 * monitor's end of a socketpair (runtime/attach.h). 1 when the container
 * was running already (attach_fd is closed: connect to it instead). */
int run_start_attached(struct cli_ctx *ctx, const char *id, int attach_fd, struct sk_err *err);

/* cmd_attach.c: skiff's stdio relayed to a container's monitor. */
struct ctr_config;
struct cli_attach {
	bool send_stdin;	 /* skiff's stdin goes to the container */
	bool sig_proxy;		 /* docker's --sig-proxy (not with a terminal) */
	const char *detach_keys; /* --detach-keys, or NULL: config.json's, or ctrl-p,ctrl-q */
	bool say_detached;	 /* attach: "read escape sequence" and status 1, as docker */
	bool redraw;		 /* attach: nudge the terminal's size (attach.h) */
};
/* Relay over sock (owned) until the container exits or the user detaches:
 * the command's exit status (the container's; 0 after a detach), or -1. */
int cli_attach_session(struct cli_ctx *ctx, int dirfd, const struct ctr_config *cfg, int sock,
		       const struct cli_attach *a, struct sk_err *err);
/* The same for a running container, connecting to it (docker's refusals of
 * stopped and restarting ones). */
int cli_attach_running(struct cli_ctx *ctx, int dirfd, const char *ref,
		       const struct ctr_config *cfg, const struct cli_attach *a, struct sk_err *err);
/* The detach keys: flag, else "detachKeys" of skiff's config, else of
 * docker's config.json, else ctrl-p,ctrl-q. keys holds ATTACH_KEYS_MAX. */
int cli_detach_keys(const struct cli_ctx *ctx, const char *flag, char *keys, size_t *n,
		    struct sk_err *err);
/* docker's "the input device is not a TTY" (status 1) for a terminal whose
 * input would be skiff's stdin when that is not one. */
int cli_check_tty(bool tty, bool attach_stdin, struct sk_err *err);

/* cmd_run.c: skiff create's work: run's options and image resolution, the
 * container recorded and left waiting for `skiff start`; prints its id. */
int run_create(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err);

/* cmd_run.c, for skiff update: the container's recorded run options
 * (recorded) with changes (run's flags, "--memory=64m" or "-m", "64m")
 * in place of the earlier values of the same flags, into out (copies); res
 * gets what a start will apply (run's checks included). */
struct run_recorded {
	struct cgroup_limits limits;
	enum ctr_restart restart;
	unsigned restart_max;
	bool auto_remove;
};
int run_amend_options(const struct strv *recorded, const struct strv *changes, struct strv *out,
		      struct run_recorded *res, struct sk_err *err);

/* The prunes `system prune` shares with container/image/network prune:
 * each prints docker's "Deleted ...:" block (nothing when nothing went) and
 * says how much went. until_ns (0: none) keeps what was made at or after it. */
int cli_prune_containers(struct store *s, int64_t until_ns, uint64_t *reclaimed,
			 size_t *deleted, struct sk_err *err);
/* all: every image no container uses, else only dangling ones; then the
 * layers nothing uses (*freed bytes). */
int cli_prune_images(struct store *s, bool all, int64_t until_ns, uint64_t *freed,
		     size_t *deleted, struct sk_err *err);
int cli_prune_networks(struct store *s, int64_t until_ns, size_t *deleted, struct sk_err *err);

/* cmd_network.c: `network inspect NAME`'s object, for inspect --type network;
 * NULL with err (errnum ENOENT: "network NAME not found"). */
struct json_t;
struct json_t *network_inspect_json(struct cli_ctx *ctx, const char *name, struct sk_err *err);

/* docker's prune prompt on stdout: warning, then "Are you sure you want to
 * continue? [y/N]"; anything but y/yes (any case) is no. */
bool cli_confirm(const char *warning);
/* "<label>: busybox:latest" (or name@digest) for a canonical reference;
 * nothing for "" (docker says "untagged:" in prune, "Untagged:" in rmi). */
void cli_print_untagged(const char *label, const char *canonical);

/* `skiff container SUB ...` / `skiff image SUB ...`: SUB is the group's own
 * prune, or an alias of a top-level command run with the same arguments
 * (extra_arg, when set, goes first: "--type=image" for inspect). */
struct cli_alias {
	const char *name;
	const struct command *cmd;
	const char *extra_arg;
};
struct cli_group {
	const char *name;
	const char *usage;
	const struct cli_alias *aliases;
	size_t n_aliases;
	int (*prune)(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err);
};
int cli_run_group(const struct cli_group *g, struct cli_ctx *ctx, int argc, char **argv,
		  struct sk_err *err);

/* cmd_start.c: resolve each name (name, id or id prefix), call fn, print the
 * name as given when fn succeeds; errors are printed as they come. Returns
 * the exit status: 1 if any failed, as docker. */
int cli_for_each_container(struct cli_ctx *ctx, char **names, int n,
			   int (*fn)(struct cli_ctx *, const char *id, void *), void *arg,
			   struct sk_err *err);

/* getopt_long, but a long option must be spelled out: getopt takes any
 * unambiguous prefix, and `run --priv` would start a privileged container
 * (`--pid host` would be --pids-limit). A prefix gives '?', with optind set
 * so that argv[optind - 1] is the flag as typed. */
struct option;
int cli_getopt(int argc, char **argv, const char *shorts, const struct option *longs);

extern const struct command cmd_pull, cmd_images, cmd_rmi, cmd_inspect, cmd_load, cmd_login,
	cmd_logout, cmd_run, cmd_ps, cmd_rm, cmd_stop, cmd_kill, cmd_wait, cmd_logs, cmd_exec,
	cmd_start, cmd_restart, cmd_container, cmd_image, cmd_system, cmd_port, cmd_network,
	cmd_create, cmd_version, cmd_info, cmd_top, cmd_stats, cmd_rename, cmd_pause, cmd_unpause,
	cmd_update, cmd_events, cmd_volume, cmd_attach;
/* Making and sharing images (issue 12). */
extern const struct command cmd_tag, cmd_history, cmd_diff, cmd_export, cmd_commit, cmd_save,
	cmd_import, cmd_cp;
/* cmd_restore.c: `skiff system restore` (cmd_system.c dispatches to it) */
extern const struct command cmd_system_restore;

#endif

/*
 * skiff run [OPTIONS] IMAGE [COMMAND [ARG...]]: docker's flags -> the image
 * (from the store; pulled when missing) -> a runtime spec -> a container.
 * Hot path: no network and no JSON beyond the image config when the image is
 * present.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/image_config.h"
#include "image/pull.h"
#include "image/ref.h"
#include "image/store.h"
#include "runtime/attach.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/ctl.h"
#include "net/network.h"
#include "net/ports.h"
#include "net/slirp.h"
#include "runtime/names.h"
#include "runtime/etc.h"
#include "runtime/logfile.h"
#include "runtime/monitor.h"
#include "runtime/rlimit.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/userns.h"
#include "runtime/volume.h"
#include "runtime/volume_plan.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"


enum pull_policy { PULL_MISSING, PULL_ALWAYS, PULL_NEVER };

struct run_args {
	bool rm, interactive, tty, read_only, init, sig_proxy, host_network, bridge, publish_all;
	bool name_owned; /* name was generated here (set_bridge) */
	bool create_only; /* skiff create: recorded, not started (no network yet) */
	bool slirp;	 /* --network slirp4netns */
	bool network_given;
	struct port_map *ports; /* -p */
	size_t n_ports;
	struct strv dns, dns_search, dns_options, add_hosts;
	const char *user_network;  /* --network NAME of a user network */
	const char *container_net; /* --network container:NAME */
	struct strv aliases;	   /* --network-alias */
	const char *ip;		   /* --ip */
	const char *domainname;
	const char *name, *workdir, *user, *entrypoint, *hostname;
	const char *detach_keys; /* --detach-keys (run -it) */
	enum pull_policy pull;
	/* issue 4: limits and privileges */
	struct cgroup_limits limits;
	struct rlimits rlimits;
	struct strv cap_add, cap_drop;
	bool privileged, no_new_privileges;
	bool nnp_given; /* no-new-privileges given; else daemon.json's (docker: off) */
	const char *cgroupns; /* --cgroupns host|private; NULL: daemon.json's, else private */
	int64_t shm_size;     /* --shm-size; 0: docker's 64m */
	struct platform platform; /* --platform, when platform_given */
	bool platform_given;
	const char *seccomp; /* NULL: default profile */
	bool seccomp_set;
	/* issue 5: detached containers */
	bool detach;
	struct monitor_opts monitor;
	struct strv env;       /* -e, in order */
	struct strv env_files; /* --env-file, in order */
	struct strv volumes;   /* -v */
	struct strv tmpfs;     /* --tmpfs */
	struct strv mounts;    /* --mount */
	struct strv volumes_from; /* --volumes-from */
	struct volume_plan plan;  /* the mounts of -v, --mount, --volumes-from, the image's VOLUME */
	bool existing;	       /* start of a container made before: its recorded mounts */
	bool started_before;   /* ... that ran already: its new volumes were filled then */
	/* kept for inspect (state.h: struct ctr_docker) */
	struct strv labels;	  /* -l, in order */
	struct strv publish;	  /* -p as given */
	struct strv security_opt; /* --security-opt as given */
	struct strv user_env;	  /* --env-file and -e, resolved (build_env) */
	const char *stop_signal;  /* --stop-signal */
	const char *log_driver;	  /* --log-driver */
	const char *image;
	char **cmd; /* user's COMMAND [ARG...] */
	size_t n_cmd;
	char **argv; /* everything after "run", as given (for start/restart) */
	size_t argc;
};

static void run_args_release(struct run_args *a)
{
	if (a->name_owned)
		free((char *)a->name);
	strv_release(&a->env);
	strv_release(&a->env_files);
	strv_release(&a->volumes);
	strv_release(&a->tmpfs);
	strv_release(&a->mounts);
	strv_release(&a->volumes_from);
	volume_plan_release(&a->plan);
	strv_release(&a->labels);
	strv_release(&a->publish);
	strv_release(&a->security_opt);
	strv_release(&a->user_env);
	strv_release(&a->cap_add);
	strv_release(&a->cap_drop);
	free(a->ports);
	strv_release(&a->dns);
	strv_release(&a->dns_search);
	strv_release(&a->dns_options);
	strv_release(&a->add_hosts);
	strv_release(&a->aliases);
}

enum {
	OPT_RM = 256,
	OPT_NAME,
	OPT_ENV_FILE,
	OPT_ENTRYPOINT,
	OPT_READ_ONLY,
	OPT_TMPFS,
	OPT_NETWORK,
	OPT_SIG_PROXY,
	OPT_INIT,
	OPT_PULL,
	OPT_MEMORY_SWAP,
	OPT_CPUS,
	OPT_CPU_QUOTA,
	OPT_CPU_PERIOD,
	OPT_CPUSET_CPUS,
	OPT_PIDS_LIMIT,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_PRIVILEGED,
	OPT_SECURITY_OPT,
	OPT_ULIMIT,
	OPT_DNS,
	OPT_DNS_SEARCH,
	OPT_DNS_OPTION,
	OPT_ADD_HOST,
	OPT_DOMAINNAME,
	OPT_NETWORK_ALIAS,
	OPT_IP,
	OPT_RESTART,
	OPT_LOG_DRIVER,
	OPT_LOG_OPT,
	OPT_STOP_SIGNAL,
	OPT_MOUNT,
	OPT_VOLUMES_FROM,
	OPT_CGROUPNS,
	OPT_SHM_SIZE,
	OPT_PLATFORM,
	OPT_HELP,
	OPT_DETACH_KEYS,
};

static const struct option run_options[] = {
	{ "rm", no_argument, NULL, OPT_RM },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "env", required_argument, NULL, 'e' },
	{ "env-file", required_argument, NULL, OPT_ENV_FILE },
	{ "workdir", required_argument, NULL, 'w' },
	{ "user", required_argument, NULL, 'u' },
	{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
	{ "hostname", required_argument, NULL, 'h' },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "volume", required_argument, NULL, 'v' },
	{ "tmpfs", required_argument, NULL, OPT_TMPFS },
	{ "mount", required_argument, NULL, OPT_MOUNT },
	{ "volumes-from", required_argument, NULL, OPT_VOLUMES_FROM },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "publish", required_argument, NULL, 'p' },
	{ "publish-all", no_argument, NULL, 'P' },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
	{ "dns-option", required_argument, NULL, OPT_DNS_OPTION },
	{ "dns-opt", required_argument, NULL, OPT_DNS_OPTION },
	{ "add-host", required_argument, NULL, OPT_ADD_HOST },
	{ "domainname", required_argument, NULL, OPT_DOMAINNAME },
	{ "net", required_argument, NULL, OPT_NETWORK },
	{ "network-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
	{ "net-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "interactive", no_argument, NULL, 'i' },
	{ "tty", no_argument, NULL, 't' },
	{ "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
	{ "init", no_argument, NULL, OPT_INIT },
	{ "pull", required_argument, NULL, OPT_PULL },
	{ "memory", required_argument, NULL, 'm' },
	{ "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
	{ "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
	{ "cpu-shares", required_argument, NULL, 'c' },
	{ "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
	{ "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
	{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
	{ "privileged", no_argument, NULL, OPT_PRIVILEGED },
	{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
	{ "ulimit", required_argument, NULL, OPT_ULIMIT },
	{ "detach", no_argument, NULL, 'd' },
	{ "restart", required_argument, NULL, OPT_RESTART },
	{ "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
	{ "log-opt", required_argument, NULL, OPT_LOG_OPT },
	{ "label", required_argument, NULL, 'l' },
	{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
	{ "cgroupns", required_argument, NULL, OPT_CGROUPNS },
	{ "shm-size", required_argument, NULL, OPT_SHM_SIZE },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
	{ 0 },
};

/* A flag's boolean value: absent (a bare flag) means true. */
static int parse_yes_no(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_bool(const char *flag, const char *v, bool *out, struct sk_err *err)
{
	if (parse_yes_no(v, out) == 0)
		return 0;
	return cli_usage_error(err, "run", "invalid argument \"%s\" for \"%s\" flag", v, flag);
}

/* bridge, host, none, container:NAME or a user network's name (looked up
 * when the container is made). */
static int parse_network(const char *v, struct run_args *a, struct sk_err *err)
{
	a->network_given = true;
	a->host_network = !strcmp(v, "host");
	a->bridge = !strcmp(v, "bridge") || !strcmp(v, "default");
	a->slirp = !strcmp(v, "slirp4netns");
	a->user_network = NULL;
	a->container_net = NULL;
	if (!strcmp(v, "pasta"))
		return err_set(err, 0, "network pasta is not supported: skiff drives slirp4netns "
				       "(--network slirp4netns)");
	if (a->slirp || !strncmp(v, "slirp4netns:", 12)) {
		if (strcmp(v, "slirp4netns") != 0)
			return err_set(err, 0, "slirp4netns options are not supported: %s", v);
	} else if (!strncmp(v, "container:", 10)) {
		if (!v[10])
			return cli_usage_error(err, "run", "invalid network mode: %s", v);
		a->container_net = v + 10;
	} else if (!a->host_network && !a->bridge && strcmp(v, "none") != 0) {
		if (!network_name_ok(v))
			return err_set(err, 0, "network %s not found", v);
		a->user_network = v;
		a->bridge = true;
	}
	return 0;
}

static int parse_publish(const char *v, struct run_args *a, struct sk_err *err)
{
	char why[ERR_MSG_MAX];

	if (ports_parse(v, &a->ports, &a->n_ports, err) == 0)
		return strv_push(&a->publish, v, err);
	snprintf(why, sizeof(why), "%s", err->msg);
	return cli_usage_error(err, "run", "invalid argument \"%s\" for \"-p, --publish\" flag: %s",
			       v, why);
}

static int parse_pull(const char *v, struct run_args *a, struct sk_err *err)
{
	if (!strcmp(v, "missing"))
		a->pull = PULL_MISSING;
	else if (!strcmp(v, "always"))
		a->pull = PULL_ALWAYS;
	else if (!strcmp(v, "never"))
		a->pull = PULL_NEVER;
	else
		return cli_usage_error(err, "run",
				       "invalid pull option: '%s': must be one of \"always\", "
				       "\"missing\" or \"never\"",
				       v);
	return 0;
}

typedef int (*limit_parser)(const char *, struct cgroup_limits *, struct sk_err *);

/* A bad value is a usage error, in docker's words. */
static int parse_limit(limit_parser fn, const char *flag, const char *v, struct run_args *a,
		       struct sk_err *err)
{
	if (fn(v, &a->limits, err) == 0)
		return 0;
	return cli_usage_error(err, "run", "invalid argument \"%s\" for \"%s\" flag: %s", v, flag,
			       err->msg);
}

static int parse_ulimit(const char *v, struct run_args *a, struct sk_err *err)
{
	if (rlimit_parse(v, &a->rlimits, err) == 0)
		return 0;
	return cli_usage_error(err, "run", "invalid argument \"%s\" for \"--ulimit\" flag: %s", v,
			       err->msg);
}

/* --security-opt: seccomp=unconfined|FILE, no-new-privileges[=bool]; docker's
 * old "key:value" spelling too. apparmor and label have no meaning here and
 * are accepted with a warning, as on a docker host without them. */
static int parse_security_opt(const char *v, struct run_args *a, struct sk_err *err)
{
	size_t klen = strcspn(v, "=:");
	const char *val = v[klen] ? v + klen + 1 : NULL;

	if (klen == 7 && !strncmp(v, "seccomp", 7) && val && *val) {
		a->seccomp = strcmp(val, "unconfined") ? val : "unconfined";
		a->seccomp_set = true;
		return 0;
	}
	if (klen == 17 && !strncmp(v, "no-new-privileges", 17) &&
	    parse_yes_no(val, &a->no_new_privileges) == 0) {
		a->nnp_given = true;
		return 0;
	}
	if ((klen == 8 && !strncmp(v, "apparmor", 8)) || (klen == 5 && !strncmp(v, "label", 5))) {
		log_warn("--security-opt %s: not supported by skiff, ignored", v);
		return 0;
	}
	return cli_usage_error(err, "run", "invalid --security-opt: \"%s\"", v);
}

/* docker: not a usage error, in its own words */
static int parse_platform(const char *v, struct run_args *a, struct sk_err *err)
{
	char why[ERR_MSG_MAX];

	if (platform_parse(v, &a->platform, err) == 0) {
		a->platform_given = true;
		return 0;
	}
	snprintf(why, sizeof(why), "%s", err->msg);
	err_clear(err);
	return err_set(err, 0, "error parsing specified platform: \"%s\": %s", v, why);
}

static int apply_limit_option(int c, const char *arg, struct run_args *a, struct sk_err *err)
{
	switch (c) {
	case 'm': return parse_limit(cgroup_parse_memory, "-m, --memory", arg, a, err);
	case OPT_MEMORY_SWAP:
		return parse_limit(cgroup_parse_memory_swap, "--memory-swap", arg, a, err);
	case OPT_CPUS: return parse_limit(cgroup_parse_cpus, "--cpus", arg, a, err);
	case OPT_CPU_QUOTA: return parse_limit(cgroup_parse_cpu_quota, "--cpu-quota", arg, a, err);
	case OPT_CPU_PERIOD:
		return parse_limit(cgroup_parse_cpu_period, "--cpu-period", arg, a, err);
	case 'c': return parse_limit(cgroup_parse_cpu_shares, "-c, --cpu-shares", arg, a, err);
	case OPT_CPUSET_CPUS:
		return parse_limit(cgroup_parse_cpuset_cpus, "--cpuset-cpus", arg, a, err);
	case OPT_PIDS_LIMIT:
		return parse_limit(cgroup_parse_pids_limit, "--pids-limit", arg, a, err);
	case OPT_CAP_ADD: return strv_push(&a->cap_add, arg, err);
	case OPT_CAP_DROP: return strv_push(&a->cap_drop, arg, err);
	case OPT_PRIVILEGED: a->privileged = true; return 0;
	case OPT_SECURITY_OPT:
		if (parse_security_opt(arg, a, err) < 0)
			return -1;
		return strv_push(&a->security_opt, arg, err);
	case OPT_ULIMIT: return parse_ulimit(arg, a, err);
	case OPT_CGROUPNS:
		if (strcmp(arg, "host") != 0 && strcmp(arg, "private") != 0)
			return cli_usage_error(err, "run", "--cgroupns: invalid CGROUP mode");
		a->cgroupns = arg;
		return 0;
	case OPT_SHM_SIZE:
		if (arg[0] == '-' || cgroup_parse_bytes(arg, &a->shm_size, err) < 0)
			return cli_usage_error(err, "run",
					       "invalid argument \"%s\" for \"--shm-size\" flag: "
					       "invalid size: '%s'",
					       arg, arg);
		return 0;
	case OPT_PLATFORM: return parse_platform(arg, a, err);
	default: return 1;
	}
}

static int parse_restart(const char *v, struct run_args *a, struct sk_err *err)
{
	if (ctr_restart_parse(v, &a->monitor.restart, &a->monitor.restart_max, err) == 0)
		return 0;
	return cli_usage_error(err, "run", "%s", err->msg);
}

static int parse_log_driver(const char *v, struct run_args *a, struct sk_err *err)
{
	a->log_driver = v;
	if (!strcmp(v, "json-file") || !strcmp(v, "local"))
		a->monitor.log = true;
	else if (!strcmp(v, "none"))
		a->monitor.log = false;
	else
		return cli_usage_error(err, "run", "log driver \"%s\" is not supported (json-file, none)",
				       v);
	return 0;
}

/* --log-opt max-size=10m / max-file=3, as docker's json-file driver. */
static int parse_log_opt(const char *v, struct run_args *a, struct sk_err *err)
{
	const char *eq = strchr(v, '=');
	char *end;

	if (eq && !strncmp(v, "max-size=", 9)) {
		if (cgroup_parse_bytes(eq + 1, &a->monitor.log_max_size, err) == 0 &&
		    a->monitor.log_max_size > 0)
			return 0;
	} else if (eq && !strncmp(v, "max-file=", 9)) {
		unsigned long n = strtoul(eq + 1, &end, 10);

		if (*end == '\0' && end != eq + 1 && n >= 1 && n <= 1000) {
			a->monitor.log_max_file = (unsigned)n;
			return 0;
		}
	} else if (eq && (!strncmp(v, "compress=", 9) || !strncmp(v, "mode=", 5) ||
			  !strncmp(v, "max-buffer-size=", 16) || !strncmp(v, "labels=", 7) ||
			  !strncmp(v, "env=", 4) || !strncmp(v, "tag=", 4))) {
		return 0; /* docker's other log options: no effect on json lines here */
	}
	return cli_usage_error(err, "run", "invalid --log-opt \"%s\" (max-size=SIZE, max-file=N)",
			       v);
}

static int parse_stop_signal(const char *v, struct run_args *a, struct sk_err *err)
{
	int sig;

	if (ctl_signal_parse(v, &sig, err) < 0)
		return cli_usage_error(err, "run", "invalid argument \"%s\" for \"--stop-signal\" "
						   "flag: %s", v, err->msg);
	a->stop_signal = v;
	return 0;
}

/* --mount: the client's checks now, in docker's words (the value quoted as
 * Go's %q quotes it); the daemon's when the container is made. */
static int parse_mount(const char *v, struct run_args *a, struct sk_err *err)
{
	struct buf quoted = BUF_INIT(8192);
	int r;

	if (volume_plan_check_mount(v, err) == 0)
		return strv_push(&a->mounts, v, err);
	for (const char *c = v; *c; c++)
		buf_appendf(&quoted, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
	r = cli_usage_error(err, "run", "invalid argument \"%s\" for \"--mount\" flag: %s",
			    quoted.data ? quoted.data : "", err->msg);
	buf_release(&quoted);
	return r;
}

/* -l K=V or a bare K; docker refuses an empty name. */
static int parse_label(const char *v, struct run_args *a, struct sk_err *err)
{
	size_t klen = strcspn(v, "=");

	while (klen > 0 && (v[klen - 1] == ' ' || v[klen - 1] == '\t'))
		klen--;
	if (strspn(v, " \t") >= klen)
		return cli_usage_error(err, "run", "invalid argument \"%s\" for \"-l, --label\" "
						   "flag: invalid label '%s': empty name",
				       v, v);
	return strv_push(&a->labels, v, err);
}

/* Checked before the container is made (docker finds out when it attaches). */
static int parse_detach_keys(const char *v, struct run_args *a, struct sk_err *err)
{
	char keys[ATTACH_KEYS_MAX];
	size_t n;

	a->detach_keys = v;
	return attach_parse_keys(v, keys, &n, err);
}

/* One option; returns 1 for --help, 0 to go on, -1 on error. */
static int apply_option(int c, const char *arg, const char *word, struct run_args *a,
			struct sk_err *err)
{
	switch (c) {
	case OPT_RM: a->rm = true; return 0;
	case OPT_NAME: a->name = arg; return 0;
	case 'e': return strv_push(&a->env, arg, err);
	case OPT_ENV_FILE: return strv_push(&a->env_files, arg, err);
	case 'w': a->workdir = arg; return 0;
	case 'u': a->user = arg; return 0;
	case OPT_ENTRYPOINT: a->entrypoint = arg; return 0;
	case 'h': a->hostname = arg; return 0;
	case OPT_READ_ONLY: a->read_only = true; return 0;
	case 'v':
		if (volume_plan_check_bind(arg, err) < 0)
			return cli_usage_error(err, "run", "%s", err->msg);
		return strv_push(&a->volumes, arg, err);
	case OPT_MOUNT: return parse_mount(arg, a, err);
	case OPT_VOLUMES_FROM: return strv_push(&a->volumes_from, arg, err);
	case OPT_TMPFS: return strv_push(&a->tmpfs, arg, err);
	case OPT_NETWORK: return parse_network(arg, a, err);
	case 'p': return parse_publish(arg, a, err);
	case 'P': a->publish_all = true; return 0;
	case OPT_DNS: return strv_push(&a->dns, arg, err);
	case OPT_DNS_SEARCH: return strv_push(&a->dns_search, arg, err);
	case OPT_DNS_OPTION: return strv_push(&a->dns_options, arg, err);
	case OPT_ADD_HOST:
		if (etc_check_add_host(arg, err) < 0)
			return cli_usage_error(err, "run", "%s", err->msg);
		return strv_push(&a->add_hosts, arg, err);
	case OPT_DOMAINNAME: a->domainname = arg; return 0;
	case OPT_NETWORK_ALIAS:
		if (!network_name_ok(arg))
			return cli_usage_error(err, "run", "invalid network alias \"%s\"", arg);
		return strv_push(&a->aliases, arg, err);
	case OPT_IP: a->ip = arg; return 0;
	case 'i': a->interactive = true; return 0;
	case 't': a->tty = true; return 0;
	case OPT_SIG_PROXY: return parse_bool("--sig-proxy", arg, &a->sig_proxy, err);
	case OPT_INIT: a->init = true; return 0;
	case OPT_PULL: return parse_pull(arg, a, err);
	case 'd': a->detach = true; return 0;
	case OPT_RESTART: return parse_restart(arg, a, err);
	case OPT_LOG_DRIVER: return parse_log_driver(arg, a, err);
	case OPT_LOG_OPT: return parse_log_opt(arg, a, err);
	case 'l': return parse_label(arg, a, err);
	case OPT_STOP_SIGNAL: return parse_stop_signal(arg, a, err);
	case OPT_HELP: return 1;
	case OPT_DETACH_KEYS: return parse_detach_keys(arg, a, err);
	case ':': return cli_usage_error(err, "run", "flag needs an argument: %s", word);
	}
	int r = apply_limit_option(c, arg, a, err);
	return r == 1 ? cli_usage_error(err, "run", "unknown flag: %s", word) : r;
}

/* Returns 1 when --help was asked, 0 when a is ready, -1 on error. */
static int parse_run_args(int argc, char **argv, struct run_args *a, struct sk_err *err)
{
	int c, r;

	a->sig_proxy = true;
	a->monitor.log = true;
	a->monitor.log_max_file = 1;
	a->bridge = container_bridge_by_default();
	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:e:w:u:h:v:p:Pitm:c:dl:", run_options)) != -1) {
		r = apply_option(c, optarg, argv[optind - 1], a, err);
		if (r != 0)
			return r;
	}
	if (optind >= argc)
		return cli_args_error(err, "run", "\"skiff run\" requires at least 1 argument.\n\n"
						   "Usage:  skiff run [OPTIONS] IMAGE [COMMAND] "
						   "[ARG...]");
	a->argv = argv + 1;
	a->argc = (size_t)(argc - 1);
	a->image = argv[optind];
	a->cmd = argv + optind + 1;
	a->n_cmd = (size_t)(argc - optind - 1);
	if (a->rm && a->monitor.restart != RESTART_NO)
		return cli_usage_error(err, "run", "Conflicting options: --restart and --rm");
	a->monitor.auto_remove = a->rm;
	a->monitor.stdin_once = a->interactive && !a->detach;
	if (cgroup_limits_check(&a->limits, err) < 0)
		return cli_usage_error(err, "run", "%s", err->msg);
	if (a->workdir && a->workdir[0] != '/')
		return cli_usage_error(err, "run",
				       "the working directory '%s' is invalid, it needs to be an "
				       "absolute path",
				       a->workdir);
	return 0;
}

static int pull_into_store(struct cli_ctx *ctx, const struct run_args *a,
			   struct store_image *img, struct sk_err *err)
{
	struct image_ref ref;
	struct pull_opts po = { .max_concurrent = ctx->cfg.max_concurrent_downloads,
				.progress = PROGRESS_AUTO };

	if (ref_parse(a->image, &ref, err) < 0)
		return -1;
	if (a->platform_given)
		po.platform = a->platform;
	else
		platform_host(&po.platform);
	return pull_image(&ctx->store, &ctx->cfg, &ref, &po, img, err);
}

/* As containerd matches: os and arch, and the variant when one is asked
 * for (arm64's "v8" is its default); an image that names none matches. */
static bool platform_matches(const struct platform *want, const struct platform *have)
{
	bool arm64 = !strcmp(want->arch, "arm64");

	if (!have->os[0] || !have->arch[0])
		return true;
	if (strcmp(want->os, have->os) != 0 || strcmp(want->arch, have->arch) != 0)
		return false;
	if (!want->variant[0] || (arm64 && !strcmp(want->variant, "v8") && !have->variant[0]))
		return true;
	return !strcmp(want->variant, have->variant);
}

static int platform_mismatch(const struct run_args *a, const struct image_config *cfg,
			     struct sk_err *err)
{
	char want[96], have[96];

	platform_format(&a->platform, want, sizeof(want));
	platform_format(&cfg->platform, have, sizeof(have));
	return err_set(err, 0, "image with reference %s was found but does not match the specified "
			       "platform: wanted %s, actual: %s",
		       a->image, want, have);
}

/* The image and its config. --platform as docker: a local image of another
 * platform counts as missing (the one asked for is pulled, and the tag moves
 * to it), and nothing but that platform runs. */
static int find_image(struct cli_ctx *ctx, const struct run_args *a, struct store_image *img,
		      struct image_config *cfg, struct sk_err *err)
{
	bool pulled = a->pull == PULL_ALWAYS;
	int r = pulled ? pull_into_store(ctx, a, img, err)
		       : store_image_lookup(&ctx->store, a->image, img, err);

	if (r < 0 && !pulled && err->errnum == ENOENT) {
		if (a->pull == PULL_NEVER)
			return err_set(err, 0, "No such image: %s", a->image);
		fprintf(stderr, "Unable to find image '%s' locally\n", a->image);
		err_clear(err);
		pulled = true;
		r = pull_into_store(ctx, a, img, err);
	}
	if (r < 0 || store_image_config(&ctx->store, img, cfg, err) < 0)
		return -1;
	if (!a->platform_given || platform_matches(&a->platform, &cfg->platform))
		return 0;
	if (!pulled && a->pull != PULL_NEVER) {
		fprintf(stderr, "Unable to find image '%s' locally\n", a->image);
		image_config_release(cfg);
		memset(cfg, 0, sizeof(*cfg));
		if (pull_into_store(ctx, a, img, err) < 0 ||
		    store_image_config(&ctx->store, img, cfg, err) < 0)
			return -1;
		if (platform_matches(&a->platform, &cfg->platform))
			return 0;
	}
	return platform_mismatch(a, cfg, err);
}

/* The user's variables, --env-file then -e, each "K" taken from skiff's own
 * environment (dropped when unset there); read once (a file may be a pipe). */
static int load_user_env(struct run_args *a, struct sk_err *err)
{
	strv_release(&a->user_env);
	for (size_t f = 0; f < a->env_files.n; f++) {
		struct strv lines = { 0 };
		int r = env_file_load(a->env_files.v[f], &lines, err);

		for (size_t i = 0; r == 0 && i < lines.n; i++)
			r = env_set(&a->user_env, lines.v[i], getenv, err);
		strv_release(&lines);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < a->env.n; i++)
		if (env_set(&a->user_env, a->env.v[i], getenv, err) < 0)
			return -1;
	return 0;
}

/* Docker's order: defaults, then the image's env, then --env-file, then -e. */
static int build_env(struct run_args *a, const struct image_config *cfg,
		     const char *hostname, struct strv *env, struct sk_err *err)
{
	char line[320];

	if (env_set(env, "PATH=" SPEC_DEFAULT_PATH, NULL, err) < 0)
		return -1;
	snprintf(line, sizeof(line), "HOSTNAME=%s", hostname);
	if (env_set(env, line, NULL, err) < 0 || (a->tty && env_set(env, "TERM=xterm", NULL, err) < 0))
		return -1;
	for (size_t i = 0; cfg->env && cfg->env[i]; i++)
		if (env_set(env, cfg->env[i], NULL, err) < 0)
			return -1;
	if (load_user_env(a, err) < 0)
		return -1;
	for (size_t i = 0; i < a->user_env.n; i++)
		if (env_set(env, a->user_env.v[i], NULL, err) < 0)
			return -1;
	return 0;
}

static int set_process(struct rt_spec *spec, struct run_args *a,
		       const struct image_config *cfg, struct sk_err *err)
{
	const char *user = a->user ? a->user : cfg->user;
	const char *cwd = a->workdir ? a->workdir : cfg->working_dir;

	if (spec_build_args(cfg->entrypoint, cfg->cmd, a->entrypoint, a->cmd, a->n_cmd,
			    &spec->process.args, err) < 0)
		return -1;
	if (build_env(a, cfg, spec->hostname, &spec->process.env, err) < 0)
		return -1;
	if (asprintf(&spec->process.cwd, "%s%s", cwd && cwd[0] == '/' ? "" : "/",
		     cwd ? cwd : "") < 0 ||
	    (user && !(spec->process.user.spec = strdup(user))))
		return err_set(err, ENOMEM, "cannot build the container's process");
	spec->process.terminal = a->tty;
	return 0;
}

static int set_layers(struct store *s, const struct image_config *cfg, struct rt_spec *spec,
		      struct sk_err *err)
{
	char path[4400];

	/* overlayfs wants the top layer first, and each directory once (a
	 * repeated lowerdir is ELOOP). An image may list a layer twice: its
	 * topmost place alone gives the same tree, since whatever lies between
	 * the two places is covered by that topmost copy again. */
	for (size_t i = cfg->n_diff_ids; i-- > 0;) {
		bool seen = false;

		for (size_t j = cfg->n_diff_ids - 1; j > i && !seen; j--)
			seen = !strcmp(cfg->diff_ids[j], cfg->diff_ids[i]);
		if (seen)
			continue;
		store_layer_path(s, cfg->diff_ids[i], path, sizeof(path));
		if (strv_push(&spec->root.layers, path, err) < 0)
			return -1;
	}
	if (spec->root.layers.n == 0)
		return err_set(err, 0, "the image has no layers");
	return 0;
}

/* -v, --mount, --volumes-from, --tmpfs and the image's VOLUME entries. A
 * new container makes its volumes and records its mounts; a container
 * started again mounts what it recorded (docker keeps them at create). */
static int set_mounts(struct cli_ctx *ctx, struct run_args *a, const struct container *c,
		      const struct image_config *cfg, struct rt_spec *spec, struct sk_err *err)
{
	if (a->shm_size > 0 && spec_set_shm_size(spec, a->shm_size, err) < 0)
		return -1;
	struct volume_request r = { &a->volumes, &a->mounts, &a->volumes_from, &a->tmpfs,
				    cfg->volumes };
	int missing = 1;

	if (a->existing && (missing = volume_plan_load(c->dirfd, &a->plan, err)) < 0)
		return -1;
	if (missing && (volume_plan_build(&ctx->store, &r, &a->plan, err) < 0 ||
			volume_plan_resolve(&ctx->store, c->id, &a->plan, err) < 0 ||
			volume_plan_save(c->dirfd, &a->plan, err) < 0))
		return -1;
	return volume_plan_apply(&ctx->store, &a->plan, &a->tmpfs, !a->started_before, spec, err);
}

/* A removed container's anonymous volumes go with it (--rm, as docker). */
static void remove_anonymous_volumes(struct cli_ctx *ctx, const struct run_args *a)
{
	struct strv names = { 0 };
	struct sk_err ignored = { 0 };

	if (volume_plan_anonymous(&a->plan, &names, &ignored) == 0)
		volume_remove_unused(&ctx->store, &names);
	strv_release(&names);
}

/* Capabilities, no_new_privs, seccomp and ulimits (docs/SECURITY.md). */
static int set_security(struct cli_ctx *ctx, struct run_args *a, struct rt_spec *spec,
			struct sk_err *err)
{
	struct caps_request req = { .add = (const char *const *)a->cap_add.v,
				    .n_add = a->cap_add.n,
				    .drop = (const char *const *)a->cap_drop.v,
				    .n_drop = a->cap_drop.n,
				    .privileged = a->privileged,
				    .root_user = true }; /* a non-root user is trimmed in the child */
	char cache[4200];
	const char *seccomp = a->seccomp;

	if (caps_read_bounding(&req.available, err) < 0 ||
	    caps_build(&req, &spec->process.capabilities, err) < 0)
		return -1;
	spec->process.no_new_privileges =
		a->nnp_given ? a->no_new_privileges : ctx->cfg.no_new_privileges;
	/* docker: --privileged runs without a filter unless a profile is named. */
	if (a->privileged && (!a->seccomp_set || !strcmp(a->seccomp, "unconfined")))
		seccomp = "unconfined";
	snprintf(cache, sizeof(cache), "%s/cache/seccomp", ctx->store.root);
	if (seccomp_prepare(seccomp, spec->process.capabilities.bounding, cache, &spec->seccomp,
			    err) < 0)
		return -1;
	rlimit_clamp(&a->rlimits);
	spec->process.rlimits = a->rlimits;
	spec->resources = a->limits;
	if (!spec->resources.pids_limit && ctx->cfg.default_pids_limit > 0) {
		spec->resources.pids_limit = ctx->cfg.default_pids_limit;
		spec->resources.pids_default = true;
	}
	spec->resources.devices_allow_all = a->privileged;
	return 0;
}

/* The bridge network's lease now (its address goes into /etc/hosts); the
 * veth is made while the child sets up (container_run). */
/* -P: every port the image exposes, on an ephemeral host port, as docker. */
static int publish_exposed(const struct image_config *cfg, struct rt_spec *spec,
			   struct sk_err *err)
{
	for (char **p = cfg->exposed_ports; p && *p; p++)
		if (ports_parse(*p, &spec->net.ports, &spec->net.n_ports, err) < 0)
			return err_wrap(err, "the image's exposed port '%s'", *p);
	for (size_t i = 0; i < spec->net.n_ports; i++)
		spec->net.ports[i].host_port = 0;
	return 0;
}

static int add_ports(const struct run_args *a, const struct image_config *cfg,
		     struct rt_spec *spec, struct sk_err *err);

/* What the network's resolver answers for this container: its name, its
 * aliases and its short id; then its own --dns servers, which the resolver
 * forwards to (ipam.h). */
static int resolver_names(const struct run_args *a, const struct container *c,
			  const char *name, struct rt_spec *spec, struct sk_err *err)
{
	struct buf b = BUF_INIT(2048);
	int ret = buf_appendf(&b, "%s", name);

	for (size_t i = 0; ret == 0 && i < a->aliases.n; i++)
		ret = buf_appendf(&b, ",%s", a->aliases.v[i]);
	if (ret == 0)
		ret = buf_appendf(&b, ",%.12s", c->id);
	for (size_t i = 0; ret == 0 && i < a->dns.n; i++)
		ret = buf_appendf(&b, "%c%s", i ? ',' : ';', a->dns.v[i]);
	if (ret == 0)
		ret = buf_append(&b, "", 0);
	if (ret < 0) {
		buf_release(&b);
		return err_set(err, E2BIG, "too many network aliases");
	}
	spec->net.names = b.data;
	return 0;
}

static int set_bridge(struct cli_ctx *ctx, struct run_args *a, const struct container *c,
		      const struct image_config *cfg, struct rt_spec *spec, struct sk_err *err)
{
	struct bridge_opts o = { ctx->cfg.bip, ctx->cfg.address_pools, ctx->cfg.n_address_pools,
				 ctx->cfg.mtu };

	spec->net.bridge = true;
	if (a->user_network) {
		if (network_find(ctx->store.root_fd, a->user_network, &spec->net.def, err) < 0)
			return -1;
	} else {
		network_default(&spec->net.def);
	}
	if (spec->net.def.is_default && (a->ip || a->aliases.n))
		return cli_usage_error(err, "run", "%s is supported on user defined networks only",
				       a->ip ? "user specified IP address" : "network-scoped alias");
	if (spec->net.def.internal && (a->n_ports || a->publish_all))
		return cli_usage_error(err, "run", "network %s is internal: it publishes no ports",
				       spec->net.def.name);
	if (a->ip && ipam_parse_ip(a->ip, &spec->net.req.ip) < 0)
		return cli_usage_error(err, "run", "invalid argument \"%s\" for \"--ip\" flag",
				       a->ip);
	spec->net.req.first = spec->net.def.range_first;
	spec->net.req.last = spec->net.def.range_last;
	if (!spec->net.def.is_default) {
		char generated[128];
		uint32_t bits = 0;

		/* the name resolves from the start, so an unnamed container
		 * gets its generated name now rather than at registration */
		if (!a->name) {
			if (getrandom(&bits, sizeof(bits), 0) != sizeof(bits))
				bits = (uint32_t)getpid() ^ (uint32_t)time(NULL);
			names_generate(bits, 0, generated, sizeof(generated));
			a->name = strdup(generated);
			if (!a->name)
				return err_set(err, ENOMEM, "cannot name the container");
			a->name_owned = true;
		}
		if (resolver_names(a, c, a->name, spec, err) < 0)
			return -1;
	}
	if (add_ports(a, cfg, spec, err) < 0)
		return -1;
	return container_net_prepare(c, spec, &o, err);
}

/* -P's and -p's ports. */
static int add_ports(const struct run_args *a, const struct image_config *cfg,
		     struct rt_spec *spec, struct sk_err *err)
{
	if (a->publish_all && publish_exposed(cfg, spec, err) < 0)
		return -1;
	if (a->n_ports) {
		struct port_map *v = realloc(spec->net.ports, (spec->net.n_ports + a->n_ports) *
								      sizeof(*v));

		if (!v)
			return err_set(err, ENOMEM, "cannot publish the ports");
		memcpy(v + spec->net.n_ports, a->ports, a->n_ports * sizeof(*a->ports));
		spec->net.ports = v;
		spec->net.n_ports += a->n_ports;
	}
	return 0;
}

/* Rootless networking: slirp4netns, started with the container. */
static int set_slirp(const struct run_args *a, const struct image_config *cfg,
		     struct rt_spec *spec, struct sk_err *err)
{
	spec->net.slirp = true;
	return add_ports(a, cfg, spec, err);
}

/* --network container:NAME: the other container's network namespace. */
static int join_container_network(struct cli_ctx *ctx, const struct run_args *a,
				  struct rt_spec *spec, struct sk_err *err)
{
	char path[64];
	pid_t pid;

	if (container_running_pid(&ctx->store, a->container_net, &pid, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	spec->net.netns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (spec->net.netns_fd < 0)
		return err_set(err, errno, "cannot join the network of container %s",
			       a->container_net);
	spec->net.join_netns = true;
	spec->namespaces &= ~(unsigned long)CLONE_NEWNET;
	return 0;
}

static int build_spec(struct cli_ctx *ctx, struct run_args *a, const struct container *c,
		      const struct image_config *cfg, struct rt_spec *spec, struct sk_err *err)
{
	char host[256] = "";

	/* docker: on the host's network the container has the host's name */
	if (!a->hostname && a->host_network && gethostname(host, sizeof(host) - 1) == 0 && *host)
		spec->hostname = strdup(host);
	else
		spec->hostname =
			a->hostname ? strdup(a->hostname) : strndup(c->id, CONTAINER_SHORT_ID_LEN);
	if (!spec->hostname || (a->domainname && !(spec->domainname = strdup(a->domainname))))
		return err_set(err, ENOMEM, "cannot set the hostname");
	spec->root.readonly = a->read_only;
	spec->root.userxattr = userns_is_rootless();
	spec->root.copy = ctx->cfg.storage_vfs;
	/* rootless: slirp4netns when it can work here, as rootless podman;
	 * asked for (or -p) where it cannot, the reason */
	if (!a->network_given && !a->bridge && userns_is_rootless()) {
		struct sk_err why = { 0 };

		a->slirp = slirp_check(&why) == 0;
		if (!a->slirp && (a->n_ports || a->publish_all)) {
			*err = why;
			return -1;
		}
	}
	if (a->slirp && slirp_check(err) < 0)
		return -1;
	if ((a->n_ports || a->publish_all) && !a->bridge && !a->slirp)
		return cli_usage_error(err, "run", "published ports need the bridge network "
						   "(--network bridge)");
	if ((a->ip || a->aliases.n) && !a->bridge)
		return cli_usage_error(err, "run", "%s is supported on user defined networks only",
				       a->ip ? "user specified IP address" : "network-scoped alias");
	/* skiff create records the container; its network (a lease, a veth)
	 * and its /etc files are made when it starts. */
	bool net = !a->create_only;

	if (spec_set_docker_defaults(spec, a->host_network, a->privileged, err) < 0)
		return -1;
	/* skiff's default is private on every host; docker's is host on v1 */
	if (a->cgroupns ? !strcmp(a->cgroupns, "host") : ctx->cfg.cgroupns_host)
		spec->namespaces &= ~(unsigned long)CLONE_NEWCGROUP;
	if ((net && a->container_net && join_container_network(ctx, a, spec, err) < 0) ||
	    set_process(spec, a, cfg, err) < 0 || set_layers(&ctx->store, cfg, spec, err) < 0 ||
	    container_set_root(c, spec, err) < 0 ||
	    (net && a->bridge && set_bridge(ctx, a, c, cfg, spec, err) < 0) ||
	    (net && a->slirp && set_slirp(a, cfg, spec, err) < 0) ||
	    (net && container_add_etc_files(c, spec,
				    &(struct etc_opts){ .host_network = a->host_network,
							.dns = &a->dns,
							.dns_search = &a->dns_search,
							.dns_options = &a->dns_options,
							.add_hosts = &a->add_hosts },
				    err) < 0) ||
	    set_mounts(ctx, a, c, cfg, spec, err) < 0 || set_security(ctx, a, spec, err) < 0)
		return -1;
	return 0;
}

/* --stop-signal, or the image's StopSignal ("SIGQUIT", "3"), for stop;
 * SIGTERM otherwise. */
static int stop_signal(const struct run_args *a, const struct image_config *cfg)
{
	struct sk_err ignored = { 0 };
	const char *name = a->stop_signal ? a->stop_signal : cfg->stop_signal;
	int sig = SIGTERM;

	if (name && ctl_signal_parse(name, &sig, &ignored) < 0)
		sig = SIGTERM;
	return sig;
}

/* --- what inspect shows (state.h: struct ctr_docker) ---------------------- */

static int copy_strv(struct strv *dst, char *const *v, size_t n, struct sk_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (strv_push(dst, v[i], err) < 0)
			return -1;
	return 0;
}

/* Does v hold an entry with kv's key ("K=..." or a bare "K")? */
static bool has_key(const struct strv *v, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < v->n; i++)
		if (strcspn(v->v[i], "=") == klen && !strncmp(v->v[i], kv, klen))
			return true;
	return false;
}

/* docker's merge of a user list with the image's: the user's entries in
 * order, then the image's whose keys the user did not set (Env, Labels). */
static int merge_keyed(struct strv *out, const struct strv *user, char *const *image,
		       struct sk_err *err)
{
	if (copy_strv(out, user->v, user->n, err) < 0)
		return -1;
	for (char *const *e = image; e && *e; e++)
		if (!has_key(user, *e) && strv_push(out, *e, err) < 0)
			return -1;
	return 0;
}

/* Config.Entrypoint and Config.Cmd, kept apart as docker keeps them. */
static int docker_args(const struct run_args *a, const struct image_config *icfg,
		       struct ctr_docker *d, struct sk_err *err)
{
	if (a->entrypoint) {
		d->has_entrypoint = true;
		if (strv_push(&d->entrypoint, a->entrypoint, err) < 0)
			return -1;
	} else if (icfg->entrypoint) {
		d->has_entrypoint = true;
		size_t n = strv_len(icfg->entrypoint);

		if (copy_strv(&d->entrypoint, icfg->entrypoint, n, err) < 0)
			return -1;
	}
	/* --entrypoint drops the image's Cmd (spec_build_args) */
	if (a->n_cmd) {
		d->has_cmd = true;
		return copy_strv(&d->cmd, a->cmd, a->n_cmd, err);
	}
	if (!a->entrypoint && icfg->cmd) {
		d->has_cmd = true;
		return copy_strv(&d->cmd, icfg->cmd, strv_len(icfg->cmd), err);
	}
	return 0;
}

/* Config.ExposedPorts: the image's, then -p's container ports. */
static int docker_exposed_ports(const struct run_args *a, const struct image_config *icfg,
				struct ctr_docker *d, struct sk_err *err)
{
	for (char **p = icfg->exposed_ports; p && *p; p++)
		if (!has_key(&d->exposed_ports, *p) && strv_push(&d->exposed_ports, *p, err) < 0)
			return -1;
	for (size_t i = 0; i < a->n_ports; i++) {
		char port[32];

		snprintf(port, sizeof(port), "%u/%s", (unsigned)a->ports[i].container_port,
			 ports_proto_name(a->ports[i].proto));
		if (has_key(&d->exposed_ports, port))
			continue;
		if (strv_push(&d->exposed_ports, port, err) < 0)
			return -1;
	}
	return 0;
}

/* An absolute path without "//", "." and ".." (Go's filepath.Clean, as
 * docker cleans WorkingDir); a relative one is taken from "/". */
static char *clean_path(const char *path)
{
	char *out = malloc(strlen(path) + 2);
	size_t n = 0;

	if (!out)
		return NULL;
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");

		if (len == 2 && !strncmp(p, "..", 2)) {
			while (n > 0 && out[--n] != '/')
				;
		} else if (len && !(len == 1 && *p == '.')) {
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len + (p[len] == '/');
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

/* HostConfig.Binds: -v's binds and named volumes as docker's client sends
 * them (relative sources made absolute, each once); anonymous volumes are
 * in Config.Volumes instead. */
static int docker_binds(const struct run_args *a, struct ctr_docker *d, struct sk_err *err)
{
	for (size_t i = 0; i < a->volumes.n; i++) {
		cleanup_free char *entry = volume_plan_bind_entry(a->volumes.v[i]);
		bool seen = false;

		for (size_t j = 0; entry && j < d->binds.n && !seen; j++)
			seen = !strcmp(d->binds.v[j], entry);
		if (entry && !seen && strv_push(&d->binds, entry, err) < 0)
			return -1;
	}
	return 0;
}

static int docker_host_config(const struct run_args *a, struct ctr_docker *d, struct sk_err *err)
{
	const struct {
		struct strv *dst;
		const struct strv *src;
	} lists[] = {
		{ &d->tmpfs, &a->tmpfs },
		{ &d->publish, &a->publish },	       { &d->cap_add, &a->cap_add },
		{ &d->cap_drop, &a->cap_drop },	       { &d->security_opt, &a->security_opt },
		{ &d->dns, &a->dns },		       { &d->dns_search, &a->dns_search },
		{ &d->dns_options, &a->dns_options }, { &d->extra_hosts, &a->add_hosts },
	};

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (copy_strv(lists[i].dst, lists[i].src->v, lists[i].src->n, err) < 0)
			return -1;
	if (docker_binds(a, d, err) < 0)
		return -1;
	d->limits = a->limits;
	d->ulimits = a->rlimits;
	d->read_only = a->read_only;
	d->init = a->init;
	d->publish_all = a->publish_all;
	if (a->log_driver && !(d->log_driver = strdup(a->log_driver)))
		return err_set(err, ENOMEM, "cannot record the container");
	return 0;
}

/* -l K=V, or a bare K: docker's K="". */
static int push_label(struct strv *out, const char *label, struct sk_err *err)
{
	cleanup_free char *kv = NULL;

	if (strchr(label, '='))
		return strv_push(out, label, err);
	if (asprintf(&kv, "%s=", label) < 0) {
		kv = NULL;
		return err_set(err, ENOMEM, "cannot record the container");
	}
	return strv_push(out, kv, err);
}

/* Everything docker's inspect shows that the runtime does not keep. */
static int docker_view(const struct run_args *a, const struct image_config *icfg,
		       struct ctr_docker *d, struct sk_err *err)
{
	const char *workdir = a->workdir ? a->workdir : icfg->working_dir;
	const char *stop_signal = a->stop_signal ? a->stop_signal : icfg->stop_signal;
	struct strv labels = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < a->labels.n; i++)
		r = push_label(&labels, a->labels.v[i], err);
	if (r == 0)
		r = merge_keyed(&d->labels, &labels, icfg->labels, err);
	strv_release(&labels);
	if (r < 0 || docker_args(a, icfg, d, err) < 0 ||
	    merge_keyed(&d->env, &a->user_env, icfg->env, err) < 0 ||
	    docker_exposed_ports(a, icfg, d, err) < 0 || docker_host_config(a, d, err) < 0)
		return -1;
	if ((workdir && *workdir && !(d->workdir = clean_path(workdir))) ||
	    (stop_signal && !(d->stop_signal = strdup(stop_signal))) ||
	    (a->domainname && !(d->domainname = strdup(a->domainname))))
		return err_set(err, ENOMEM, "cannot record the container");
	return 0;
}

/* config.json: what ps, inspect, exec and start need to know later. */
static int save_config(const struct run_args *a, const struct store_image *img,
		       const struct image_config *icfg, const struct container *c,
		       const struct rt_spec *spec, int64_t created, struct sk_err *err)
{
	struct ctr_config cfg = {
		.image = (char *)a->image,
		.image_id = (char *)img->config_digest,
		.created = created,
		.hostname = spec->hostname,
		.args = spec->process.args,
		.env = spec->process.env,
		.cwd = spec->process.cwd,
		.user = spec->process.user.spec,
		.tty = a->tty,
		.interactive = a->interactive,
		.run_argv = { .v = a->argv, .n = a->argc },
		.auto_remove = a->rm,
		.detached = a->detach,
		.restart = a->monitor.restart,
		.restart_max = a->monitor.restart_max,
		.log_max_size = a->monitor.log_max_size,
		.log_max_file = a->monitor.log_max_file,
		.privileged = a->privileged,
		.no_new_privileges = spec->process.no_new_privileges,
		.cap_bounding = spec->process.capabilities.bounding,
		.cap_effective = spec->process.capabilities.effective,
		.seccomp = spec->seccomp.len ? (char *)a->seccomp : "unconfined",
		.stop_signal = stop_signal(a, icfg),
		.has_docker = true,
	};
	int ret;

	char here[PATH_MAX];

	/* where run_argv's relative paths are (start_existing) */
	cfg.create_dir = getcwd(here, sizeof(here));
	memcpy(cfg.id, c->id, sizeof(cfg.id));
	snprintf(cfg.name, sizeof(cfg.name), "%s", c->name);
	ret = docker_view(a, icfg, &cfg.docker, err);
	cfg.docker.shm_size = a->shm_size;
	cfg.docker.cgroupns_host = !(spec->namespaces & CLONE_NEWCGROUP);
	if (ret == 0)
		ret = ctr_config_write(c->dirfd, &cfg, err);
	ctr_docker_release(&cfg.docker);
	return ret;
}

/* What a foreground run records while the child sets up (run_opts.prepare):
 * the container's state, image, name and config.json. */
struct records {
	struct cli_ctx *ctx;
	const struct run_args *a;
	const struct store_image *img;
	const struct image_config *cfg;
	struct container *c;
	const struct rt_spec *spec;
	int *hold;
};

static int write_records(void *arg, struct sk_err *err)
{
	struct records *r = arg;
	struct ctr_summary sum = { .image = r->a->image,
				   .image_id = r->img->config_digest,
				   .created = ctr_now_ns(),
				   .args = &r->spec->process.args };
	int ret = container_register(&r->ctx->store, r->c, r->a->name, &sum, err);

	/* The container's "image" file keeps the image now. */
	store_release(*r->hold);
	*r->hold = -1;
	if (ret == 0)
		ret = save_config(r->a, r->img, r->cfg, r->c, r->spec, sum.created, err);
	if (ret == 0)
		log_debug("run: container %s recorded", r->c->id);
	return ret;
}

/* run -it without -d: under a monitor, as docker's, so that the detach keys
 * leave the container running where `attach` reaches it again. skiff is its
 * first attached client (connected before the start: no output is missed)
 * and relays its terminal until the container exits or the user detaches. */
static int run_attached(struct cli_ctx *ctx, struct run_args *a, struct container *c,
			const struct rt_spec *spec, const struct run_opts *opts, struct sk_err *err)
{
	struct ctr_config cc = { .tty = a->tty, .interactive = a->interactive };
	int sp[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return err_set(err, errno, "cannot attach to the container");
	a->monitor.attach_client = true;
	a->monitor.attach_fd = sp[1];
	ret = monitor_start(&ctx->store, c, spec, opts, &a->monitor, err);
	close(sp[1]);
	container_hand_over(c);
	if (ret < 0) {
		close(sp[0]);
		return -1;
	}
	return cli_attach_session(ctx, c->dirfd, &cc, sp[0],
				  &(struct cli_attach){ .send_stdin = true,
							.sig_proxy = a->sig_proxy,
							.detach_keys = a->detach_keys },
				  err);
}

/* Under a monitor (run -d, run -it): it owns the container from here on,
 * start failures too. */
static int run_monitored(struct cli_ctx *ctx, struct run_args *a, struct container *c,
			 struct rt_spec *spec, const struct run_opts *opts, struct records *rec,
			 struct sk_err *err)
{
	int ret;

	if (write_records(rec, err) < 0) {
		container_finish(&ctx->store, c, true, -1);
		remove_anonymous_volumes(ctx, a);
		return -1;
	}
	/* The monitor closes every inherited descriptor: it opens its own
	 * netfilter socket. */
	bridge_lease_release(&spec->net.lease);
	if (!a->detach) {
		ret = run_attached(ctx, a, c, spec, opts, err);
	} else {
		ret = monitor_start(&ctx->store, c, spec, opts, &a->monitor, err);
		if (ret == 0)
			printf("%s\n", c->id);
		container_hand_over(c);
	}
	close(c->dirfd);
	c->dirfd = -1;
	return ret;
}

/* In the foreground: skiff is the container's parent, its output goes to
 * skiff's stdio and into the container's log (docker's json-file records a
 * foreground container too; the file is made with the first line). */
static int run_foreground(struct cli_ctx *ctx, struct run_args *a, struct container *c,
			  const struct rt_spec *spec, struct run_opts *opts, int *status,
			  struct sk_err *err)
{
	struct logfile *log = NULL;
	int ret = 0;

	if (a->monitor.log)
		ret = logfile_open(c->dirfd, a->monitor.log_max_size, a->monitor.log_max_file, &log,
				   err);
	opts->log = log;
	if (ret == 0)
		ret = container_run(c, spec, opts, status, err);
	logfile_close(log);
	return ret;
}

static int run_in_container(struct cli_ctx *ctx, struct run_args *a,
			    const struct store_image *img, const struct image_config *cfg, int *hold,
			    struct sk_err *err)
{
	struct container c = { .dirfd = -1 };
	struct rt_spec spec = { 0 };
	struct run_opts opts = { .init = a->init, .interactive = a->interactive,
				 .sig_proxy = a->sig_proxy };
	struct records rec = { ctx, a, img, cfg, &c, &spec, hold };
	int status = -1, ret;

	log_debug("run: image %s (%s)", a->image, img->config_digest);
	ret = container_create(&ctx->store, &c, err);
	snprintf(c.image, sizeof(c.image), "%s", a->image);
	if (ret == 0)
		log_debug("run: container %s created", c.id);
	if (ret == 0)
		ret = build_spec(ctx, a, &c, cfg, &spec, err);
	if (ret == 0)
		log_debug("run: spec built (%zu layers, %zu mounts, seccomp %s)",
			  spec.root.layers.n, spec.n_mounts, spec.seccomp.len ? "on" : "off");
	if (ret == 0 && (a->detach || (a->interactive && a->tty))) {
		ret = run_monitored(ctx, a, &c, &spec, &opts, &rec, err);
		spec_release(&spec);
		return ret;
	}
	/* Records are written while the child mounts its root: a few ext4
	 * inodes fewer on the way to the container's start (BENCH.md). */
	opts.prepare = write_records;
	opts.prepare_arg = &rec;
	if (ret == 0)
		ret = run_foreground(ctx, a, &c, &spec, &opts, &status, err);
	container_finish(&ctx->store, &c, a->rm || ret < 0, status);
	if (a->rm || ret < 0)
		remove_anonymous_volumes(ctx, a);
	spec_release(&spec);
	return ret < 0 ? -1 : status;
}

/* skiff create: everything run does before the start, then the container
 * waits for `skiff start` with no process of its own. */
static int create_container(struct cli_ctx *ctx, struct run_args *a,
			    const struct store_image *img, const struct image_config *cfg,
			    int *hold, struct sk_err *err)
{
	struct container c = { .dirfd = -1 };
	struct rt_spec spec = { 0 };
	struct records rec = { ctx, a, img, cfg, &c, &spec, hold };
	int ret = container_create(&ctx->store, &c, err);

	snprintf(c.image, sizeof(c.image), "%s", a->image);
	if (ret == 0)
		ret = build_spec(ctx, a, &c, cfg, &spec, err);
	if (ret == 0)
		ret = write_records(&rec, err);
	if (ret == 0)
		ret = container_release_created(&ctx->store, &c, err);
	spec_release(&spec);
	if (ret < 0) {
		container_finish(&ctx->store, &c, true, -1);
		return -1;
	}
	printf("%s\n", c.id);
	close(c.dirfd);
	return 0;
}

/* docker create has no -d: its words for the flag as typed. */
static int create_refuses_detach(int argc, char **argv, struct sk_err *err)
{
	for (int i = 1; i < argc && argv[i][0] == '-'; i++)
		if (!strcmp(argv[i], "--detach"))
			return cli_usage_error(err, "create", "unknown flag: --detach");
	return cli_usage_error(err, "create", "unknown shorthand flag: 'd' in -d");
}

static int run_or_create(struct cli_ctx *ctx, int argc, char **argv, bool create,
			 struct sk_err *err)
{
	struct run_args a = { .create_only = create };
	struct store_image img;
	struct image_config cfg = { 0 };
	int hold = -1, ret;

	ret = parse_run_args(argc, argv, &a, err);
	if (ret == 0 && a.tty && a.interactive && !a.detach && !isatty(STDIN_FILENO))
		ret = cli_not_a_tty(err);
	if (ret == 1)
		cli_print_usage(create ? &cmd_create : &cmd_run);
	if (ret == 0 && create && a.detach)
		ret = create_refuses_detach(argc, argv, err);
	if (ret != 0) {
		run_args_release(&a);
		return ret == 1 ? 0 : -1;
	}
	/* Held until the container has recorded its image: a concurrent rmi,
	 * prune or gc must not free the layers in between. */
	hold = store_hold(&ctx->store, err);
	ret = hold < 0 ? -1 : find_image(ctx, &a, &img, &cfg, err);
	if (ret == 0)
		ret = create ? create_container(ctx, &a, &img, &cfg, &hold, err)
			     : run_in_container(ctx, &a, &img, &cfg, &hold, err);
	store_release(hold);
	image_config_release(&cfg);
	run_args_release(&a);
	return ret;
}

static int exec_run(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return run_or_create(ctx, argc, argv, false, err);
}

int run_create(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	return run_or_create(ctx, argc, argv, true, err);
}

const struct command cmd_run = {
	.name = "run",
	.summary = "Create and run a new container from an image",
	.usage = "Usage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
		 "Create and run a new container from an image\n\n"
		 "Options:\n"
		 "      --cap-add list         add Linux capabilities (or ALL)\n"
		 "      --cap-drop list        drop Linux capabilities (or ALL)\n"
		 "      --cgroupns string      cgroup namespace: private (default on every\n"
		 "                             host, unlike docker's host on cgroup v1) or host\n"
		 "  -c, --cpu-shares int       CPU shares (relative weight)\n"
		 "      --cpu-period int       limit CPU CFS (Completely Fair Scheduler) period\n"
		 "      --cpu-quota int        limit CPU CFS (Completely Fair Scheduler) quota\n"
		 "      --cpus decimal         number of CPUs\n"
		 "      --cpuset-cpus string   CPUs in which to allow execution (0-3, 0,1)\n"
		 "  -d, --detach               run in the background and print the container ID\n"
		 "      --detach-keys string   override the key sequence for detaching a container\n"
		 "                             (-it; default \"ctrl-p,ctrl-q\")\n"
		 "      --entrypoint string    overwrite the default ENTRYPOINT of the image\n"
		 "  -e, --env list             set environment variables (K=V, or K from the caller)\n"
		 "      --env-file list        read in a file of environment variables\n"
		 "  -h, --hostname string      container host name (default: the short id)\n"
		 "      --init                 run skiff-init as PID 1 (signals, zombies)\n"
		 "  -i, --interactive          keep STDIN open\n"
		 "  -l, --label list           set meta data on a container (KEY=VALUE)\n"
		 "      --log-driver string    json-file (default) or none\n"
		 "      --log-opt list         log driver options: max-size=SIZE, max-file=N\n"
		 "  -m, --memory bytes         memory limit\n"
		 "      --memory-swap bytes    memory plus swap limit; -1: unlimited swap\n"
		 "      --mount mount          attach a filesystem mount: type=bind|volume|tmpfs,\n"
		 "                             source=,target=,readonly,volume-nocopy,\n"
		 "                             volume-label=,volume-opt=,volume-subpath=,\n"
		 "                             tmpfs-size=,tmpfs-mode=,bind-propagation=\n"
		 "      --name string          assign a name to the container\n"
		 "      --network string       bridge (default as root), none (default rootless),\n"
		 "                             host, container:NAME, slirp4netns (default rootless\n"
		 "                             where it works), or a network's name\n"
		 "      --network-alias list   add a network-scoped alias for the container\n"
		 "      --ip string            IPv4 address on a user network (e.g., 172.30.100.104)\n"
		 "      --add-host list        add a custom host-to-IP mapping (host:ip, or\n"
		 "                             host:host-gateway for the bridge's address)\n"
		 "      --dns list             set custom DNS servers\n"
		 "      --dns-option list      set DNS options\n"
		 "      --dns-search list      set custom DNS search domains (\".\": none)\n"
		 "      --domainname string    container NIS domain name\n"
		 "  -P, --publish-all          publish every exposed port to an ephemeral port\n"
		 "  -p, --publish list         publish a container's port(s) to the host:\n"
		 "                             [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]\n"
		 "      --pids-limit int       tune the container's pids limit (-1: unlimited;\n"
		 "                             default 2048, \"default-pids-limit\" in config.json)\n"
		 "      --platform string      run this platform of the image\n"
		 "                             (os/arch[/variant]); another one in the store\n"
		 "                             is pulled again\n"
		 "      --privileged           give extended privileges to this container\n"
		 "      --pull string          pull image before running: missing, always, never\n"
		 "                             (default \"missing\")\n"
		 "      --read-only            mount the container's root file system read-only\n"
		 "      --restart string       restart policy: no, on-failure[:N], always,\n"
		 "                             unless-stopped (default \"no\")\n"
		 "      --rm                   remove the container when it exits\n"
		 "      --security-opt list    seccomp=unconfined|PROFILE.json,\n"
		 "                             no-new-privileges[=true|false] (default false,\n"
		 "                             or config.json's \"no-new-privileges\")\n"
		 "      --shm-size bytes       size of /dev/shm (default 64m)\n"
		 "      --sig-proxy            proxy received signals to the process (default true)\n"
		 "      --stop-signal string   signal to stop the container (default: the image's,\n"
		 "                             or SIGTERM)\n"
		 "      --tmpfs list           mount a tmpfs: PATH[:OPTIONS]\n"
		 "  -t, --tty                  allocate a pseudo-TTY\n"
		 "      --ulimit list          ulimit options: NAME=SOFT[:HARD]\n"
		 "  -u, --user string          username or UID (format: <name|uid>[:<group|gid>])\n"
		 "  -v, --volume list          bind mount a volume: /HOST:/DST[:MODE] (a host\n"
		 "                             path, absolute or ./relative, made when missing),\n"
		 "                             NAME:/DST[:MODE] (a named volume, made when\n"
		 "                             missing), or /DST (an anonymous volume); MODE:\n"
		 "                             ro, rw, nocopy, z, propagation (ignored)\n"
		 "      --volumes-from list    mount the volumes of the given container(s)\n"
		 "                             (CONTAINER[:ro|:rw])\n"
		 "  -w, --workdir string       working directory inside the container\n",
	.flags = CMD_NEED_STORE,
	.exec = exec_run,
};

/* skiff start / restart: run an existing container again, detached, with the
 * options it was created with (config.json's run_argv parsed again). */
static int start_existing(struct cli_ctx *ctx, struct container *c, const struct ctr_config *cc,
			  int attach_fd, struct sk_err *err)
{
	struct run_args a = { 0 };
	struct store_image img;
	struct image_config cfg = { 0 };
	struct rt_spec spec = { 0 };
	struct run_opts opts = { 0 };
	struct ctr_state st = { 0 };
	struct sk_err ignored = { 0 };
	cleanup_free char **argv = calloc(cc->run_argv.n + 2, sizeof(char *));
	cleanup_close int here = -1;
	int ret;

	if (!argv)
		return err_set(err, ENOMEM, "cannot start the container");
	/* Its relative paths (-v ./dir; --env-file of a record without the
	 * docker view) are those of the directory it was created in, until the
	 * spec is built; the monitor must not keep that directory. Gone: they
	 * resolve from here, as before. */
	if (cc->create_dir && (here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    chdir(cc->create_dir) < 0)
		close_and_reset(&here);
	argv[0] = "run";
	memcpy(argv + 1, cc->run_argv.v, cc->run_argv.n * sizeof(char *));
	optind = 0;
	ret = parse_run_args((int)cc->run_argv.n + 1, argv, &a, err);
	/* the name it has (its network's resolver answers for it), not a new one */
	if (!a.name && cc->name[0])
		a.name = cc->name;
	/* docker starts a container with the environment it was created with:
	 * --env-file files are not read again, nor `-e K` taken from the
	 * environment of whoever starts it now (a record from before the
	 * docker view was kept has no such list: its options are read again). */
	if (ret == 0 && cc->has_docker) {
		strv_release(&a.env);
		strv_release(&a.env_files);
		for (size_t i = 0; ret == 0 && i < cc->docker.env.n; i++)
			ret = strv_push(&a.env, cc->docker.env.v[i], err);
	}
	/* `rmi -f` may have removed its record: its config and layers stay
	 * while a container records the image (store_gc), as docker keeps them. */
	if (ret == 0 && store_image_lookup(&ctx->store, cc->image_id, &img, err) < 0) {
		err_clear(err);
		memset(&img, 0, sizeof(img));
		snprintf(img.config_digest, sizeof(img.config_digest), "%s", cc->image_id);
	}
	if (ret == 0 && store_image_config(&ctx->store, &img, &cfg, err) < 0)
		ret = err_wrap(err, "the container's image");
	a.existing = true;
	a.started_before = ctr_state_read(c->dirfd, &st, &ignored) < 0 || st.started_at != 0;
	if (ret == 0)
		ret = build_spec(ctx, &a, c, &cfg, &spec, err);
	if (here >= 0 && fchdir(here) < 0 && ret == 0)
		ret = err_set(err, errno, "cannot return to the current directory");
	if (ret == 0)
		ret = container_reset_work(c, err);
	opts.init = a.init;
	opts.interactive = a.interactive;
	opts.sig_proxy = true;
	a.monitor.attach_client = attach_fd >= 0;
	a.monitor.attach_fd = attach_fd;
	bridge_lease_release(&spec.net.lease); /* the monitor opens its own */
	if (ret == 0)
		ret = monitor_start(&ctx->store, c, &spec, &opts, &a.monitor, err);
	spec_release(&spec);
	image_config_release(&cfg);
	run_args_release(&a);
	return ret;
}

int run_start_attached(struct cli_ctx *ctx, const char *id, int attach_fd, struct sk_err *err)
{
	struct container c = { .dirfd = -1 };
	struct ctr_config cc;
	int ret;

	if (container_open(&ctx->store, id, &c, err) < 0) {
		if (attach_fd >= 0)
			close(attach_fd);
		return -1;
	}
	ret = ctr_config_read(c.dirfd, &cc, err);
	if (ret == 0) {
		ret = container_claim_start(&ctx->store, &c, err);
		if (ret == 0 && start_existing(ctx, &c, &cc, attach_fd, err) < 0) {
			container_record_failure(&ctx->store, &c,
						 err->exit_code ? err->exit_code : EXIT_SKIFF,
						 err->msg);
			ret = -1;
		}
		ctr_config_release(&cc);
	}
	/* the monitor has its own copy */
	if (attach_fd >= 0)
		close(attach_fd);
	container_hand_over(&c);
	close(c.dirfd);
	return ret;
}

/* The recorded words, without the options whose code is in changed: each
 * span of words that held only such options is left out (a word that
 * combines short options is kept: the change, placed later, wins). *image
 * gets the index of the first operand. */
static int keep_unchanged(const struct strv *recorded, const bool *changed, struct strv *out,
			  size_t *image, struct sk_err *err)
{
	cleanup_free char **argv = calloc(recorded->n + 2, sizeof(char *));
	bool drop_span = true;
	int span_start = 1, c;

	if (!argv)
		return err_set(err, ENOMEM, "cannot read the container's options");
	argv[0] = "run";
	memcpy(argv + 1, recorded->v, recorded->n * sizeof(char *));
	optind = 0;
	opterr = 0;
	while ((c = cli_getopt((int)recorded->n + 1, argv, "+:e:w:u:h:v:p:Pitm:c:d", run_options)) !=
	       -1) {
		drop_span &= c > 0 && c < OPT_HELP + 1 && changed[c];
		if (optind <= span_start)
			continue; /* more options in the same word */
		for (int i = span_start; !drop_span && i < optind; i++)
			if (strv_push(out, argv[i], err) < 0)
				return -1;
		span_start = optind;
		drop_span = true;
	}
	*image = (size_t)optind;
	return 0;
}

int run_amend_options(const struct strv *recorded, const struct strv *changes, struct strv *out,
		      struct run_recorded *res, struct sk_err *err)
{
	cleanup_free char **cargv = calloc(changes->n + 2, sizeof(char *));
	cleanup_free char **argv = NULL;
	bool changed[OPT_HELP + 1] = { false };
	struct run_args a = { 0 };
	size_t image = 0;
	int c, ret;

	if (!cargv)
		return err_set(err, ENOMEM, "cannot change the container's options");
	cargv[0] = "update";
	memcpy(cargv + 1, changes->v, changes->n * sizeof(char *));
	optind = 0;
	opterr = 0;
	while ((c = cli_getopt((int)changes->n + 1, cargv, "+:e:w:u:h:v:p:Pitm:c:d", run_options)) !=
	       -1)
		if (c > 0 && c <= OPT_HELP)
			changed[c] = true;
	if (keep_unchanged(recorded, changed, out, &image, err) < 0)
		return -1;
	for (size_t i = 0; i < changes->n; i++)
		if (strv_push(out, changes->v[i], err) < 0)
			return -1;
	for (size_t i = image - 1; i < recorded->n; i++)
		if (strv_push(out, recorded->v[i], err) < 0)
			return -1;
	/* what a start will make of them: limits, policy, and every check */
	argv = calloc(out->n + 2, sizeof(char *));
	if (!argv)
		return err_set(err, ENOMEM, "cannot change the container's options");
	argv[0] = "run";
	memcpy(argv + 1, out->v, out->n * sizeof(char *));
	optind = 0;
	ret = parse_run_args((int)out->n + 1, argv, &a, err);
	if (ret == 0) {
		res->limits = a.limits;
		res->restart = a.monitor.restart;
		res->restart_max = a.monitor.restart_max;
		res->auto_remove = a.rm;
	}
	run_args_release(&a);
	return ret == 0 ? 0 : -1;
}

int run_start_container(struct cli_ctx *ctx, const char *id, struct sk_err *err)
{
	/* running already: nothing to do, as docker */
	return run_start_attached(ctx, id, -1, err) < 0 ? -1 : 0;
}

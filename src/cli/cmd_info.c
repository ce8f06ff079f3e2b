/*
 * skiff info [--format F]: docker info's sections that mean something for a
 * daemonless engine: container counts, images, the storage driver, cgroups,
 * security options, the host (kernel, OS, CPUs, memory) and the store
 * (docker's "Docker Root Dir"). `--format '{{json .}}'` gives the same
 * values under docker's key names (Containers, ContainersRunning, Driver,
 * CgroupVersion, NCPU, MemTotal, DockerRootDir, SecurityOptions, ...).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"
#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/gotemplate.h"
#include "util/human.h"

struct counts {
	int total, running, paused, stopped;
};

static int count_container(struct store *s, const char *id, int dirfd, void *arg)
{
	struct counts *c = arg;
	struct sk_err ignored = {0};
	struct ctr_state st;

	if (ctr_state_load(dirfd, &st, &ignored) < 0)
		return 0;
	c->total++;
	/* docker counts by State.StateString(): restarting is "stopped" */
	if (st.status == CTR_RUNNING && st.paused)
		c->paused++;
	else if (st.status == CTR_RUNNING)
		c->running++;
	else
		c->stopped++;
	return 0;
}

static int count_images(struct store *s)
{
	cleanup_free struct store_image *list = NULL;
	struct sk_err ignored = {0};
	size_t n = 0;
	int distinct = 0;

	if (store_refs_list(s, &list, &n, &ignored) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(list[i].config_digest, list[j].config_digest);
		distinct += !seen;
	}
	return distinct;
}

/* docker's names for the file system under the store (graphdriver). */
static const char *backing_fs(const char *path)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} fs[] = {{0xEF53, "extfs"},	 {0x58465342, "xfs"},  {0x9123683E, "btrfs"},
		  {0x01021994, "tmpfs"}, {0x2FC12FC1, "zfs"},  {0x794C7630, "overlayfs"},
		  {0x6969, "nfs"},	 {0xF2F52010, "f2fs"}, {0x65735546, "fuse"}};
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "<unknown>";
	for (size_t i = 0; i < ARRAY_SIZE(fs); i++)
		if ((unsigned long)st.f_type == fs[i].magic)
			return fs[i].name;
	return "<unknown>";
}

/* A value of /etc/os-release ("PRETTY_NAME"), unquoted; "" when absent. */
static void os_release(const char *key, char *out, size_t len)
{
	cleanup_fclose FILE *f = fopen("/etc/os-release", "re");
	char line[512];
	size_t klen = strlen(key);

	snprintf(out, len, "%s", "");
	while (f && fgets(line, sizeof(line), f)) {
		char *v = line + klen + 1;

		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		v[strcspn(v, "\n")] = '\0';
		if (*v == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		snprintf(out, len, "%s", v);
		return;
	}
}

static long long mem_total(void)
{
	cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
	long long kb = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
			break;
	return kb * 1024;
}

static int cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static bool ip_forwarding(void)
{
	cleanup_fclose FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "re");

	return f && fgetc(f) == '1';
}

static json_t *security_options(void)
{
	json_t *v = json_array();

	json_array_append_new(v, json_string("name=seccomp,profile=builtin"));
	if (userns_is_rootless() || geteuid() != 0)
		json_array_append_new(v, json_string("name=rootless"));
	json_array_append_new(v, json_string("name=cgroupns"));
	return v;
}

static json_t *registry_config(const struct sk_config *cfg)
{
	json_t *cidrs = json_array(), *mirrors = json_array(), *index = json_object();

	json_array_append_new(cidrs, json_string("127.0.0.0/8"));
	for (size_t i = 0; i < cfg->n_registry_mirrors; i++)
		json_array_append_new(mirrors, json_string(cfg->registry_mirrors[i]));
	for (size_t i = 0; i < cfg->n_insecure_registries; i++)
		json_object_set_new(index, cfg->insecure_registries[i],
				    json_pack("{s:[], s:s, s:b, s:b}", "Mirrors", "Name",
					      cfg->insecure_registries[i], "Official", 0, "Secure",
					      0));
	json_object_set_new(index, "docker.io",
			    json_pack("{s:O, s:s, s:b, s:b}", "Mirrors", mirrors, "Name",
				      "docker.io", "Official", 1, "Secure", 1));
	return json_pack("{s:o, s:o, s:o}", "IndexConfigs", index, "InsecureRegistryCIDRs", cidrs,
			 "Mirrors", mirrors);
}

static json_t *driver_status(struct cli_ctx *ctx)
{
	return json_pack("[[s,s], [s,s], [s,s]]", "Backing Filesystem", backing_fs(ctx->store.root),
			 "Supports d_type", "true", "userxattr",
			 userns_is_rootless() ? "true" : "false");
}

static const char *cgroup_version(void)
{
	enum cgroup_mode mode;
	struct sk_err ignored = {0};

	if (cgroup_detect(CGROUP_ROOT, &mode, &ignored) < 0)
		return "";
	return mode == CGROUP_V2 ? "2" : "1";
}

static const char *env_either(const char *upper, const char *lower)
{
	const char *v = getenv(upper);

	return v ? v : getenv(lower) ? getenv(lower) : "";
}

static json_t *info_json(struct cli_ctx *ctx)
{
	struct counts c = {0};
	struct sk_err ignored = {0};
	struct utsname u;
	char os[256], os_version[64], host[256] = "", now[64];
	const char *cgv = cgroup_version();
	json_t *v, *more;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	gethostname(host, sizeof(host) - 1);
	os_release("PRETTY_NAME", os, sizeof(os));
	os_release("VERSION_ID", os_version, sizeof(os_version));
	ctr_for_each(&ctx->store, count_container, &c, &ignored);
	duration_rfc3339nano(ctr_now_ns(), now, sizeof(now));
	v = json_pack(
	    "{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, "
	    "s:b, s:b, s:b, s:s, s:s, s:s, s:s}",
	    "ID", "", "Containers", c.total, "ContainersRunning", c.running, "ContainersPaused",
	    c.paused, "ContainersStopped", c.stopped, "Images", count_images(&ctx->store), "Driver",
	    ctx->cfg.storage_vfs ? "vfs" : "overlay", "DriverStatus", driver_status(ctx),
	    "MemoryLimit", *cgv != '\0', "SwapLimit", *cgv != '\0', "CpuCfsPeriod", *cgv != '\0',
	    "CpuCfsQuota", *cgv != '\0', "CPUShares", *cgv != '\0', "CPUSet", *cgv != '\0',
	    "PidsLimit", *cgv != '\0', "IPv4Forwarding", ip_forwarding(), "Debug", 0, "SystemTime",
	    now, "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs", "CgroupVersion", cgv);
	more = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:I, s:s, s:s, s:s, s:s, s:s, "
	    "s:[], s:b, s:s, s:b, s:s, s:s, s:o, s:n, s:{s:b, s:s, s:s, s:s, s:s}}",
	    "KernelVersion", u.release, "OperatingSystem", os, "OSVersion", os_version, "OSType",
	    "linux", "Architecture", u.machine, "IndexServerAddress", "https://index.docker.io/v1/",
	    "RegistryConfig", registry_config(&ctx->cfg), "NCPU", cpu_count(), "MemTotal",
	    (json_int_t)mem_total(), "DockerRootDir", ctx->store.root, "HttpProxy",
	    env_either("HTTP_PROXY", "http_proxy"), "HttpsProxy",
	    env_either("HTTPS_PROXY", "https_proxy"), "NoProxy", env_either("NO_PROXY", "no_proxy"),
	    "Name", host, "Labels", "ExperimentalBuild", 0, "ServerVersion", SKIFF_VERSION,
	    "LiveRestoreEnabled", 0, "Isolation", "", "InitBinary", "skiff-init", "SecurityOptions",
	    security_options(), "Warnings", "ClientInfo", "Debug", 0, "Version", SKIFF_VERSION,
	    "Context", "default", "Os", "linux", "Arch", u.machine);
	if (!v || !more || json_object_update(v, more) < 0) {
		json_decref(v);
		v = NULL;
	}
	json_decref(more);
	return v;
}

static void print_list(const char *title, json_t *list, const char *extra)
{
	size_t i;
	json_t *x;

	if (json_array_size(list) == 0 && !extra)
		return;
	printf(" %s:\n", title);
	json_array_foreach(list, i, x) printf("  %s\n", json_string_value(x));
	if (extra)
		printf("  %s\n", extra);
}

static void print_security(json_t *v)
{
	size_t i;
	json_t *x;

	printf(" Security Options:\n");
	json_array_foreach(json_object_get(v, "SecurityOptions"), i, x)
	{
		const char *s = json_string_value(x);

		if (!strcmp(s, "name=seccomp,profile=builtin"))
			printf("  seccomp\n   Profile: builtin\n");
		else if (!strncmp(s, "name=", 5))
			printf("  %s\n", s + 5);
	}
}

static const char *str(json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key)) ?: "";
}

static long long num(json_t *v, const char *key)
{
	return (long long)json_integer_value(json_object_get(v, key));
}

static void print_info(json_t *v)
{
	json_t *reg = json_object_get(v, "RegistryConfig"),
	       *ds = json_object_get(v, "DriverStatus");
	char mem[32];
	size_t i;
	json_t *pair;

	printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\n",
	       SKIFF_VERSION);
	printf("Server:\n Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n",
	       num(v, "Containers"), num(v, "ContainersRunning"), num(v, "ContainersPaused"),
	       num(v, "ContainersStopped"));
	printf(" Images: %lld\n Server Version: %s\n Storage Driver: %s\n", num(v, "Images"),
	       str(v, "ServerVersion"), str(v, "Driver"));
	json_array_foreach(ds, i, pair)
	    printf("  %s: %s\n", json_string_value(json_array_get(pair, 0)),
		   json_string_value(json_array_get(pair, 1)));
	printf(" Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n",
	       str(v, "LoggingDriver"), str(v, "CgroupDriver"), str(v, "CgroupVersion"));
	printf(" Init Binary: %s\n", str(v, "InitBinary"));
	print_security(v);
	human_size_binary((double)num(v, "MemTotal"), mem, sizeof(mem));
	printf(" Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n"
	       " CPUs: %lld\n Total Memory: %s\n Name: %s\n Docker Root Dir: %s\n"
	       " Debug Mode: false\n",
	       str(v, "KernelVersion"), str(v, "OperatingSystem"), str(v, "OSType"),
	       str(v, "Architecture"), num(v, "NCPU"), mem, str(v, "Name"),
	       str(v, "DockerRootDir"));
	if (*str(v, "HttpProxy"))
		printf(" HTTP Proxy: %s\n", str(v, "HttpProxy"));
	if (*str(v, "HttpsProxy"))
		printf(" HTTPS Proxy: %s\n", str(v, "HttpsProxy"));
	if (*str(v, "NoProxy"))
		printf(" No Proxy: %s\n", str(v, "NoProxy"));
	printf(" Experimental: false\n");
	{
		json_t *insecure = json_array();
		const char *key;
		json_t *cfg;

		json_object_foreach(json_object_get(reg, "IndexConfigs"), key,
				    cfg) if (json_is_false(json_object_get(cfg, "Secure")))
		    json_array_append_new(insecure, json_string(key));
		print_list("Insecure Registries", insecure, "127.0.0.0/8");
		json_decref(insecure);
	}
	print_list("Registry Mirrors", json_object_get(reg, "Mirrors"), NULL);
	printf(" Live Restore Enabled: false\n\n");
}

static int exec_info(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *format = NULL;
	json_t *v;
	int c, ret = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:f:h", opts)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return fputs(cmd_info.usage, stdout), 0;
		else
			return cli_usage_error(err, "info", "unknown flag: %s", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "info", "\"skiff info\" accepts no arguments.");
	v = info_json(ctx);
	if (!v)
		return err_set(err, ENOMEM, "info");
	ret = cli_print_document(v, format, print_info, err);
	json_decref(v);
	return ret < 0 ? -1 : 0;
}

const struct command cmd_info = {
    .name = "info",
    .summary = "Display system-wide information",
    .usage = "Usage:  skiff info [OPTIONS]\n\n"
	     "Display system-wide information: containers and images of the store, the\n"
	     "storage driver, cgroups, security options and the host\n\n"
	     "Options:\n"
	     "  -f, --format string   'json', or a Go template ('{{.ContainersRunning}}')\n",
    .flags = CMD_NEED_STORE,
    .exec = exec_info,
};

/*
 * skiff version [--format F]: docker version's Client/Server layout. skiff
 * has no daemon: the "server" is this same binary acting on the store, so
 * both sections describe it; the server's components are the engine and
 * skiff-init (the only program of skiff's that runs in containers). The
 * JSON has docker's keys (Client.Version, Server.Version, Server.Components
 * ...), so `--format '{{.Server.Version}}'` works as with docker.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/gotemplate.h"

#if defined(__clang__)
#define SKIFF_COMPILER __VERSION__
#elif defined(__GNUC__)
#define SKIFF_COMPILER "gcc " __VERSION__
#else
#define SKIFF_COMPILER "unknown"
#endif

/* Go's names for the architecture (GOARCH), as docker prints OS/Arch. */
static const char *go_arch(const char *machine)
{
	static const struct {
		const char *uname, *go;
	} map[] = {{"x86_64", "amd64"}, {"aarch64", "arm64"},  {"i686", "386"},
		   {"i386", "386"},	{"armv7l", "arm"},     {"ppc64le", "ppc64le"},
		   {"s390x", "s390x"},	{"riscv64", "riscv64"}};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(machine, map[i].uname))
			return map[i].go;
	return machine;
}

static json_t *version_json(void)
{
	struct utsname u;
	const char *arch;
	json_t *client, *engine, *init, *server;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	arch = go_arch(u.machine);
	client = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Version", SKIFF_VERSION,
			   "ApiVersion", "", "GitCommit", "", "Compiler", SKIFF_COMPILER, "Os",
			   "linux", "Arch", arch, "BuildTime", "", "Context", "default");
	engine =
	    json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "Name", "Engine", "Version",
		      SKIFF_VERSION, "Details", "ApiVersion", "", "MinAPIVersion", "", "Os",
		      "linux", "Arch", arch, "KernelVersion", u.release, "Experimental", "false");
	init = json_pack("{s:s, s:s, s:{}}", "Name", "skiff-init", "Version", SKIFF_VERSION,
			 "Details");
	server = json_pack("{s:{s:s}, s:[o, o], s:s, s:s, s:s, s:s, s:s, s:s}", "Platform", "Name",
			   "skiff (no daemon)", "Components", engine, init, "Version",
			   SKIFF_VERSION, "ApiVersion", "", "MinAPIVersion", "", "Os", "linux",
			   "Arch", arch, "KernelVersion", u.release);
	return json_pack("{s:o, s:o}", "Client", client, "Server", server);
}

static const char *str_at(json_t *v, const char *a, const char *b)
{
	json_t *x = json_object_get(json_object_get(v, a), b);

	return json_string_value(x) ? json_string_value(x) : "";
}

/* docker's layout: labels padded to 20 columns (its tabwriter). */
static void row(const char *label, const char *value)
{
	printf("%-20s%s\n", label, value);
}

static void print_version(json_t *v)
{
	json_t *server = json_object_get(v, "Server"), *engine;
	char osarch[64];

	printf("Client:\n");
	row(" Version:", str_at(v, "Client", "Version"));
	row(" Compiler:", str_at(v, "Client", "Compiler"));
	snprintf(osarch, sizeof(osarch), "linux/%s", str_at(v, "Client", "Arch"));
	row(" OS/Arch:", osarch);
	row(" Context:", "default");
	printf("\nServer: %s\n", str_at(server, "Platform", "Name"));
	engine = json_array_get(json_object_get(server, "Components"), 0);
	printf(" Engine:\n");
	row("  Version:", json_string_value(json_object_get(engine, "Version")));
	row("  OS/Arch:", osarch);
	row("  Kernel:", str_at(engine, "Details", "KernelVersion"));
	row("  Experimental:", "false");
	printf(" skiff-init:\n");
	row("  Version:", SKIFF_VERSION);
}

static int exec_version(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
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
			return fputs(cmd_version.usage, stdout), 0;
		else
			return cli_usage_error(err, "version", "unknown flag: %s",
					       argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "version", "\"skiff version\" accepts no arguments.");
	v = version_json();
	if (!v)
		return err_set(err, ENOMEM, "version");
	ret = cli_print_document(v, format, print_version, err);
	json_decref(v);
	return ret < 0 ? -1 : 0;
}

const struct command cmd_version = {
    .name = "version",
    .summary = "Show the skiff version information",
    .usage = "Usage:  skiff version [OPTIONS]\n\n"
	     "Show the skiff version information (docker's Client/Server layout: the\n"
	     "server is this binary, skiff has no daemon)\n\n"
	     "Options:\n"
	     "  -f, --format string   'json', or a Go template ('{{.Server.Version}}')\n",
    .exec = exec_version,
};

/*
 * skiff volume: docker's management command for volumes (runtime/volume.h):
 * create, ls, inspect, rm and prune. Containers make and use volumes with
 * run's -v NAME:/path, --mount and the image's VOLUME entries.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli/cli.h"
#include "runtime/volume.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/gotemplate.h"
#include "util/human.h"

static const char volume_group_usage[] = "Usage:  skiff volume COMMAND\n\n"
				   "Manage volumes\n\n"
				   "Commands:\n"
				   "  create      create a volume\n"
				   "  inspect     display detailed information on one or more volumes\n"
				   "  ls          list volumes\n"
				   "  prune       remove unused local volumes\n"
				   "  rm          remove one or more volumes\n";

static const char create_usage[] =
	"Usage:  skiff volume create [OPTIONS] [VOLUME]\n\n"
	"Create a volume (a new anonymous one without VOLUME)\n\n"
	"Options:\n"
	"  -d, --driver string   specify volume driver name (only \"local\") (default \"local\")\n"
	"      --label list      set metadata for a volume (KEY=VALUE)\n"
	"  -o, --opt map         set driver specific options: type, device, o, as mount(8)\n"
	"                        takes them (type=tmpfs,device=tmpfs,o=size=64m; or\n"
	"                        type=none,device=/host/path,o=bind)\n";

static const char ls_usage[] =
	"Usage:  skiff volume ls [OPTIONS]\n\n"
	"List volumes\n\n"
	"Options:\n"
	"  -f, --filter filter   provide filter values: dangling=true|false, name=REGEXP,\n"
	"                        driver=local, label=KEY[=VALUE]\n"
	"      --format string   'table' (default), 'table TEMPLATE', 'json', or a Go template\n"
	"  -q, --quiet           only display volume names\n";

static const char inspect_usage[] = "Usage:  skiff volume inspect [OPTIONS] VOLUME [VOLUME...]\n\n"
				    "Display detailed information on one or more volumes\n\n"
				    "Options:\n"
				    "  -f, --format string   format the output using a Go template\n";

static const char rm_usage[] = "Usage:  skiff volume rm [OPTIONS] VOLUME [VOLUME...]\n\n"
			       "Remove one or more volumes. You cannot remove a volume that is in\n"
			       "use by a container.\n\n"
			       "Options:\n"
			       "  -f, --force   do not fail on a volume that does not exist\n";

static const char prune_usage[] =
	"Usage:  skiff volume prune [OPTIONS]\n\n"
	"Remove unused local volumes (only anonymous ones unless --all)\n\n"
	"Options:\n"
	"  -a, --all             remove all unused volumes, not just anonymous ones\n"
	"      --filter filter   provide filter values (label=KEY[=VALUE], label!=...)\n"
	"  -f, --force           do not prompt for confirmation\n";

/* An error docker's daemon reports: exit 1, not a usage error. */
static int daemon_error(struct sk_err *err)
{
	err->exit_code = 1;
	return -1;
}

/* A wrong number of arguments or an unknown subcommand: docker exits 1. */
static int arg_error(struct sk_err *err, const char *cmd, const char *msg)
{
	cli_usage_error(err, cmd, "%s", msg);
	err->exit_code = 1;
	return -1;
}

static int flag_error(struct sk_err *err, const char *cmd, char **argv, int c)
{
	if (c == ':')
		return cli_usage_error(err, cmd, "flag needs an argument: %s", argv[optind - 1]);
	return cli_usage_error(err, cmd, "unknown flag: %s", argv[optind - 1]);
}

/* --- create ------------------------------------------------------------------- */

static int check_label(const char *label, struct sk_err *err)
{
	if (label[0] == '=' || !label[0])
		return cli_usage_error(err, "volume create",
				       "invalid argument \"%s\" for \"--label\" flag: invalid label "
				       "'%s': empty name",
				       label, label);
	return 0;
}

static int volume_create_cmd(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' }, { "label", required_argument, NULL, 'l' },
		{ "opt", required_argument, NULL, 'o' },    { "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },	    { 0 },
	};
	struct strv labels = { 0 }, options = { 0 };
	struct volume_create_opts o = { .driver = "local" };
	char name[VOLUME_NAME_MAX + 1];
	int c, ret = -1;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:d:o:h", opts)) != -1) {
		if (c == 'd')
			o.driver = optarg;
		else if (c == 'n')
			o.name = optarg;
		else if (c == 'l') {
			if (check_label(optarg, err) < 0 || strv_push(&labels, optarg, err) < 0)
				goto out;
		} else if (c == 'o') {
			if (strv_push(&options, optarg, err) < 0)
				goto out;
		} else if (c == 'h') {
			fputs(create_usage, stdout);
			ret = 0;
			goto out;
		} else {
			flag_error(err, "volume create", argv, c);
			goto out;
		}
	}
	if (argc - optind > 1) {
		arg_error(err, "volume create", "\"skiff volume create\" requires at most 1 argument");
		goto out;
	}
	if (optind < argc && o.name) {
		err_set(err, 0, "conflicting options: cannot specify a volume-name through both "
				"--name and as a positional arg");
		goto out;
	}
	if (optind < argc)
		o.name = argv[optind];
	o.labels = labels.v;
	o.n_labels = labels.n;
	o.opts = options.v;
	o.n_opts = options.n;
	if (volume_create(&ctx->store, &o, name, err) < 0) {
		daemon_error(err);
		goto out;
	}
	printf("%s\n", name);
	ret = 0;
out:
	strv_release(&labels);
	strv_release(&options);
	return ret;
}

/* --- ls ----------------------------------------------------------------------- */

struct ls_filters {
	struct strv names, drivers, labels;
	int dangling; /* -1: any, 0: in use, 1: dangling */
	bool dangling_true, dangling_false;
};

static void ls_filters_release(struct ls_filters *f)
{
	strv_release(&f->names);
	strv_release(&f->drivers);
	strv_release(&f->labels);
}

static int add_filter(const char *arg, struct ls_filters *f, struct sk_err *err)
{
	size_t klen = strcspn(arg, "=");
	cleanup_free char *key = strndup(arg, klen);
	const char *value = arg + klen + 1;

	if (!key)
		return err_set(err, ENOMEM, "cannot parse the filter");
	if (!arg[klen])
		return cli_usage_error(err, "volume ls", "invalid argument \"%s\" for \"-f, "
							 "--filter\" flag: bad format of filter "
							 "(expected name=value)",
				       arg);
	for (char *k = key; *k; k++)
		*k = (char)tolower((unsigned char)*k);
	if (!strcmp(key, "name"))
		return strv_push(&f->names, value, err);
	if (!strcmp(key, "driver"))
		return strv_push(&f->drivers, value, err);
	if (!strcmp(key, "label"))
		return strv_push(&f->labels, value, err);
	if (!strcmp(key, "dangling")) {
		if (!strcmp(value, "1") || !strcmp(value, "true"))
			f->dangling_true = true;
		else if (!strcmp(value, "0") || !strcmp(value, "false"))
			f->dangling_false = true;
		else
			return err_set(err, 0, "invalid filter 'dangling=[%s]'", value),
			       daemon_error(err);
		if (f->dangling_true && f->dangling_false)
			return err_set(err, 0, "invalid filter 'dangling'"), daemon_error(err);
		f->dangling = f->dangling_true;
		return 0;
	}
	return err_set(err, 0, "invalid filter '%s'", key), daemon_error(err);
}

/* docker's name filter: a regular expression anywhere in the name, or the
 * exact name (an expression that does not compile matches nothing). */
static bool name_matches(const struct strv *names, const char *name)
{
	if (!names->n)
		return true;
	for (size_t i = 0; i < names->n; i++) {
		regex_t re;
		bool m;

		if (!strcmp(names->v[i], name))
			return true;
		if (regcomp(&re, names->v[i], REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		m = regexec(&re, name, 0, NULL, 0) == 0;
		regfree(&re);
		if (m)
			return true;
	}
	return false;
}

static bool ls_matches(struct cli_ctx *ctx, const struct volume_info *v,
		       const struct ls_filters *f)
{
	struct sk_err ignored = { 0 };
	bool driver = !f->drivers.n;

	if (!name_matches(&f->names, v->name))
		return false;
	for (size_t i = 0; i < f->drivers.n; i++)
		driver |= !strcmp(f->drivers.v[i], v->driver);
	if (!driver)
		return false;
	for (size_t i = 0; i < f->labels.n; i++)
		if (!volume_label_match(v->labels, f->labels.v[i]))
			return false;
	if (f->dangling >= 0)
		return (volume_users(&ctx->store, v->name, NULL, &ignored) == 0) == f->dangling;
	return true;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a=b,c=" sorted, as docker's formatter joins them. */
static char *labels_text(json_t *labels)
{
	struct strv kv = { 0 };
	struct sk_err ignored = { 0 };
	struct buf b = BUF_INIT(1 << 20);
	const char *key;
	json_t *val;

	json_object_foreach (labels, key, val) {
		cleanup_free char *item = NULL;

		if (asprintf(&item, "%s=%s", key, json_string_value(val) ? json_string_value(val)
									  : "") >= 0)
			strv_push(&kv, item, &ignored);
		else
			item = NULL;
	}
	if (kv.n)
		qsort(kv.v, kv.n, sizeof(*kv.v), compare_strings);
	for (size_t i = 0; i < kv.n; i++)
		buf_appendf(&b, "%s%s", i ? "," : "", kv.v[i]);
	strv_release(&kv);
	return buf_detach(&b, NULL);
}

static json_t *ls_row(const struct volume_info *v)
{
	cleanup_free char *labels = labels_text(v->labels);

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name", v->name,
			 "Driver", v->driver, "Scope", "local", "Mountpoint", v->mountpoint,
			 "Labels", labels ? labels : "", "Links", "N/A", "Size", "N/A", "Group",
			 "N/A", "Availability", "N/A", "Status", "N/A");
}

static int print_ls(struct cli_ctx *ctx, const struct volume_info *v, size_t n,
		    const struct ls_filters *f, const char *format, struct sk_err *err)
{
	cleanup_buf struct buf out = BUF_INIT(1 << 26);
	json_t *rows = json_array(), *header;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (ls_matches(ctx, &v[i], f))
			json_array_append_new(rows, ls_row(&v[i]));
	header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name",
			   "VOLUME NAME", "Driver", "DRIVER", "Scope", "SCOPE", "Mountpoint",
			   "MOUNTPOINT", "Labels", "LABELS", "Links", "LINKS", "Size", "SIZE",
			   "Group", "GROUP", "Availability", "AVAILABILITY", "Status", "STATUS");
	ret = gotemplate_format_list(format, "table {{.Driver}}\t{{.Name}}", header, rows, &out,
				     err);
	json_decref(header);
	json_decref(rows);
	if (ret == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	return ret;
}

static int volume_ls(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },	    { "format", required_argument, NULL, 'F' },
		{ "filter", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ls_filters f = { .dangling = -1 };
	struct volume_info *v = NULL;
	const char *format = "";
	bool quiet = false;
	size_t n = 0;
	int c, ret = -1;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:qf:h", opts)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == 'F')
			format = optarg;
		else if (c == 'f') {
			if (add_filter(optarg, &f, err) < 0)
				goto out;
		} else if (c == 'h') {
			fputs(ls_usage, stdout);
			ret = 0;
			goto out;
		} else {
			flag_error(err, "volume ls", argv, c);
			goto out;
		}
	}
	if (optind < argc) {
		arg_error(err, "volume ls", "\"skiff volume ls\" accepts no arguments");
		goto out;
	}
	/* docker: -q wins over a table format, not over a template */
	if (quiet && (!*format || !strcmp(format, "table")))
		format = "{{.Name}}";
	if (volume_list(&ctx->store, &v, &n, err) == 0)
		ret = print_ls(ctx, v, n, &f, format, err);
	volume_list_free(v, n);
out:
	ls_filters_release(&f);
	return ret;
}

/* --- inspect ------------------------------------------------------------------ */

static int volume_inspect(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = NULL;
	json_t *all;
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:f:h", opts)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return fputs(inspect_usage, stdout), 0;
		else
			return flag_error(err, "volume inspect", argv, c);
	}
	if (optind >= argc)
		return arg_error(err, "volume inspect",
				 "\"skiff volume inspect\" requires at least 1 argument");
	all = json_array();
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };
		struct volume_info info;
		cleanup_buf struct buf out = BUF_INIT(16u << 20);
		json_t *obj;

		if (volume_get(&ctx->store, argv[i], &info, &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed++;
			continue;
		}
		obj = volume_info_json(&info);
		volume_info_release(&info);
		if (!format) {
			json_array_append_new(all, obj);
			continue;
		}
		if (gotemplate_render(format, obj, &out, &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed++;
		} else {
			printf("%s\n", out.data ? out.data : "");
		}
		json_decref(obj);
	}
	if (!format) {
		char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(all);
	return failed ? 1 : 0;
}

/* --- rm ------------------------------------------------------------------------ */

static int volume_rm(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false;
	int c, failed = 0;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:fh", opts)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return fputs(rm_usage, stdout), 0;
		else
			return flag_error(err, "volume rm", argv, c);
	}
	if (optind >= argc)
		return arg_error(err, "volume rm", "\"skiff volume rm\" requires at least 1 argument");
	for (int i = optind; i < argc; i++) {
		struct sk_err one = { 0 };

		if (volume_remove(&ctx->store, argv[i], force, &one) < 0) {
			fprintf(stderr, "skiff: %s\n", one.msg);
			failed++;
			continue;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

/* --- prune -------------------------------------------------------------------- */

struct pruned {
	bool any;
	long long total;
};

static void print_pruned(const char *name, long long size, void *arg)
{
	struct pruned *p = arg;

	if (!p->any)
		printf("Deleted Volumes:\n");
	p->any = true;
	p->total += size;
	printf("%s\n", name);
	fflush(stdout);
}

static int prune_filter(const char *arg, struct strv *labels, struct strv *labels_not,
			int *all, struct sk_err *err)
{
	size_t klen = strcspn(arg, "=");
	bool negated = klen > 0 && arg[klen - 1] == '!';
	const char *value = arg + klen + 1;

	if (!arg[klen])
		return cli_usage_error(err, "volume prune", "invalid argument \"%s\" for \"--filter\" "
							    "flag: bad format of filter (expected "
							    "name=value)",
				       arg);
	if (klen == 5 + (size_t)negated && !strncasecmp(arg, "label", 5))
		return strv_push(negated ? labels_not : labels, value, err);
	if (klen == 3 && !strncasecmp(arg, "all", 3)) {
		if (*all >= 0)
			return err_set(err, 0, "invalid filter 'all=[%s]': only one value is expected",
				       value), daemon_error(err);
		if (!strcmp(value, "1") || !strcasecmp(value, "true") || !strcmp(value, "t"))
			*all = 1;
		else if (!strcmp(value, "0") || !strcasecmp(value, "false") || !strcmp(value, "f"))
			*all = 0;
		else
			return err_set(err, 0, "invalid filter 'all': strconv.ParseBool: parsing "
					       "\"%s\": invalid syntax", value), daemon_error(err);
		return 0;
	}
	return err_set(err, 0, "invalid filter '%.*s'", (int)klen, arg), daemon_error(err);
}

static int volume_prune_cmd(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	    { "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct strv labels = { 0 }, labels_not = { 0 };
	struct pruned done = { 0 };
	char size[32];
	bool all = false, force = false;
	int c, all_filter = -1, ret = -1;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+:afh", opts)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'f')
			force = true;
		else if (c == 'F') {
			if (prune_filter(optarg, &labels, &labels_not, &all_filter, err) < 0)
				goto out;
		} else if (c == 'h') {
			fputs(prune_usage, stdout);
			ret = 0;
			goto out;
		} else {
			flag_error(err, "volume prune", argv, c);
			goto out;
		}
	}
	if (optind < argc) {
		arg_error(err, "volume prune", "\"skiff volume prune\" accepts no arguments");
		goto out;
	}
	if (all && all_filter >= 0) {
		err_set(err, 0, "conflicting options: cannot specify both --all and --filter all=1");
		goto out;
	}
	all |= all_filter == 1;
	if (!force && !cli_confirm(all ? "WARNING! This will remove all local volumes not used by "
					 "at least one container."
				       : "WARNING! This will remove anonymous local volumes not "
					 "used by at least one container.")) {
		ret = 0;
		goto out;
	}
	{
		struct volume_prune_filter f = { all, labels.v, labels.n, labels_not.v,
						 labels_not.n };

		if (volume_prune(&ctx->store, &f, print_pruned, &done, err) < 0)
			goto out;
	}
	if (done.any)
		printf("\n");
	human_size((double)done.total, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	ret = 0;
out:
	strv_release(&labels);
	strv_release(&labels_not);
	return ret;
}

static int exec_volume(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli_ctx *, int, char **, struct sk_err *);
	} subs[] = {
		{ "create", volume_create_cmd }, { "ls", volume_ls },	      { "list", volume_ls },
		{ "inspect", volume_inspect },	 { "rm", volume_rm },	      { "remove", volume_rm },
		{ "prune", volume_prune_cmd },
	};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(volume_group_usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(ctx, argc - 1, argv + 1, err);
	cli_usage_error(err, "volume", "unknown command \"%s\" for \"skiff volume\"", argv[1]);
	err->exit_code = 1;
	return -1;
}

const struct command cmd_volume = {
	.name = "volume",
	.summary = "Manage volumes (create, ls, inspect, rm, prune)",
	.usage = volume_group_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_volume,
};

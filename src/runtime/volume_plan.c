/*
 * From run's options to a container's mounts, with docker's rules: the
 * client's parsing of -v and --mount (docker/cli opts), the daemon's checks
 * and merge (volume/mounts/linux_parser.go, registerMountPoints), the
 * image's VOLUME entries as anonymous volumes, and the order in which the
 * mounts are made (parents first). volume_plan.h has the steps.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/state.h"
#include "runtime/volume.h"
#include "runtime/volume_plan.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define PLAN_MAX_BYTES (4u << 20)
#define PLAN_MAX_MOUNTS 4096

/* --- paths and modes ---------------------------------------------------------- */

/* Go's path.Clean: no "//", ".", or ".." that can be resolved; "" is ".". */
static char *path_clean(const char *path)
{
	size_t w = 0, dotdot;
	bool rooted = path[0] == '/';
	char *out = malloc(strlen(path) + 4);

	if (!out)
		return NULL;
	if (rooted)
		out[w++] = '/';
	dotdot = w;
	for (const char *p = path; *p;) {
		size_t seg = strcspn(p, "/");

		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else if (seg && !(seg == 1 && p[0] == '.')) {
			if (w != (rooted ? 1u : 0u))
				out[w++] = '/';
			memcpy(out + w, p, seg);
			w += seg;
		}
		p += seg;
		while (*p == '/')
			p++;
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

/* The client's filepath.Abs for a source that starts with '.'. */
static char *absolute_from_cwd(const char *rel)
{
	char cwd[PATH_MAX];
	cleanup_free char *joined = NULL;

	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&joined, "%s/%s", cwd, rel) < 0)
		return NULL;
	return path_clean(joined);
}

static bool word_is(const char *w, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(w, name, len);
}

static const char *const propagations[] = { "private", "rprivate", "slave",
					    "rslave",  "shared",   "rshared" };

enum mode_class { MODE_RW, MODE_LABEL, MODE_PROPAGATION, MODE_COPY, MODE_CONSISTENCY, MODE_BAD };

static enum mode_class mode_word(const char *w, size_t len)
{
	if (word_is(w, len, "rw") || word_is(w, len, "ro"))
		return MODE_RW;
	if (word_is(w, len, "z") || word_is(w, len, "Z"))
		return MODE_LABEL;
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (word_is(w, len, propagations[i]))
			return MODE_PROPAGATION;
	if (word_is(w, len, "nocopy"))
		return MODE_COPY;
	if (word_is(w, len, "consistent") || word_is(w, len, "cached") ||
	    word_is(w, len, "delegated"))
		return MODE_CONSISTENCY;
	return MODE_BAD;
}

/* docker's ValidMountMode: known words, comma-separated, one of each kind. */
static bool mode_valid(const char *mode)
{
	unsigned seen[MODE_BAD] = { 0 };

	if (!*mode)
		return true;
	for (const char *w = mode;;) {
		size_t len = strcspn(w, ",");
		enum mode_class c = mode_word(w, len);

		if (c == MODE_BAD || seen[c]++)
			return false;
		if (!w[len])
			return true;
		w += len + 1;
	}
}

static bool mode_has(const char *mode, const char *name)
{
	for (const char *w = mode; *w;) {
		size_t len = strcspn(w, ",");

		if (word_is(w, len, name))
			return true;
		w += len + (w[len] == ',');
	}
	return false;
}

static const char *mode_propagation(const char *mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (mode_has(mode, propagations[i]))
			return propagations[i];
	return NULL;
}

static bool is_propagation(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (!strcmp(s, propagations[i]))
			return true;
	return false;
}

/* The daemon's checks of a target; msg gets the reason or stays "". */
static void check_target(const char *target, char *msg, size_t len)
{
	cleanup_free char *clean = path_clean(target);

	msg[0] = '\0';
	if (clean && !strcmp(clean, "/"))
		snprintf(msg, len, "invalid specification: destination can't be '/'");
	else if (target[0] != '/')
		snprintf(msg, len, "invalid mount path: '%s' mount path must be absolute", target);
}

/* --- sizes -------------------------------------------------------------------- */

int volume_plan_parse_size(const char *s, long long *out)
{
	static const char units[] = "kmgtp";
	const char *p = s;
	double v, mult = 1;
	char *end;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -1;
		for (p++; isdigit((unsigned char)*p);)
			p++;
	}
	v = strtod(s, &end);
	if (end != p)
		return -1;
	if (*p == ' ')
		p++;
	if (*p && strchr(units, tolower((unsigned char)*p))) {
		for (const char *u = units; *u != tolower((unsigned char)*p); u++)
			mult *= 1024;
		mult *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || v * mult > 9.2e18)
		return -1;
	*out = (long long)(v * mult);
	return 0;
}

/* docker's tmpfs data: "size=64m" (the largest unit that divides it),
 * "mode=1770". */
static char *tmpfs_data(long long size, unsigned mode, bool readonly)
{
	struct buf b = BUF_INIT(256);
	const char *suffix = "";

	if (readonly)
		buf_appendf(&b, "ro");
	if (mode)
		buf_appendf(&b, "%smode=%o", b.len ? "," : "", mode);
	if (size) {
		for (int shift = 30; shift >= 10; shift -= 10) {
			if (size % (1LL << shift) == 0) {
				suffix = shift == 30 ? "g" : shift == 20 ? "m" : "k";
				size >>= shift;
				break;
			}
		}
		buf_appendf(&b, "%ssize=%lld%s", b.len ? "," : "", size, suffix);
	}
	return buf_detach(&b, NULL);
}

/* --- -v ----------------------------------------------------------------------- */

/* Split at ':' into at most 4 parts (the 4th keeps the rest, as SplitN). */
static int split_spec(char *buf, char *parts[4])
{
	int n = 1;

	parts[0] = buf;
	for (char *c = buf; *c && n < 4; c++) {
		if (*c != ':')
			continue;
		*c = '\0';
		parts[n++] = c + 1;
	}
	return n;
}

int volume_plan_check_bind(const char *arg, struct sk_err *err)
{
	size_t len = strlen(arg);

	if (len == 0)
		return err_set(err, 0, "invalid empty volume spec");
	/* the client takes one or two characters as a path in the container */
	if (len <= 2)
		return 0;
	if (arg[0] == ':' || arg[len - 1] == ':' || strstr(arg, "::"))
		return err_set(err, 0, "invalid spec: %s: empty section between colons", arg);
	return 0;
}

char *volume_plan_bind_entry(const char *arg)
{
	const char *colon = strchr(arg, ':');
	cleanup_free char *host = NULL, *abs = NULL;
	char *out = NULL;

	if (strlen(arg) <= 2 || !colon)
		return NULL;
	host = strndup(arg, (size_t)(colon - arg));
	if (!host)
		return NULL;
	if (host[0] != '.')
		return strdup(arg);
	abs = absolute_from_cwd(host);
	if (!abs || asprintf(&out, "%s%s", abs, colon) < 0)
		return NULL;
	return out;
}

static int invalid_spec(const char *arg, const char *type, const char *why, struct sk_err *err)
{
	if (!type)
		return err_set(err, 0, "invalid volume specification: '%s'", arg);
	return err_set(err, 0, "invalid volume specification: '%s': invalid mount config for "
			       "type \"%s\": %s",
		       arg, type, why);
}

static int out_of_memory(struct sk_err *err)
{
	return err_set(err, ENOMEM, "cannot plan the container's mounts");
}

/* An anonymous volume at path (-v PATH, the image's VOLUME PATH). */
static int anonymous_mount(const char *path, struct volume_mount *m, struct sk_err *err)
{
	memset(m, 0, sizeof(*m));
	m->kind = VOLUME_MOUNT_VOLUME;
	m->destination = path_clean(path);
	m->rw = m->anonymous = m->copy = true;
	if (!m->destination)
		return out_of_memory(err);
	if (!strcmp(m->destination, "/"))
		return err_set(err, 0, "invalid volume specification: '%s': invalid specification: "
				       "destination can't be '/'",
			       path);
	return 0;
}

/* -v SRC:DST[:MODE] (SRC a path: a bind; a name: a volume); -v DST is an
 * anonymous volume. The daemon's ParseMountRaw, with its words. */
static int parse_bind(const char *arg, struct volume_mount *m, struct sk_err *err)
{
	cleanup_free char *buf = strdup(arg);
	cleanup_free char *source = NULL;
	char *parts[4], why[512];
	const char *mode = "", *prop;
	bool bind;
	int n;

	memset(m, 0, sizeof(*m));
	if (!buf)
		return out_of_memory(err);
	if (volume_plan_check_bind(arg, err) < 0)
		return -1;
	if (strlen(arg) <= 2)
		return anonymous_mount(arg, m, err);
	n = split_spec(buf, parts);
	if (n == 1)
		return anonymous_mount(arg, m, err);
	if (n == 4 || (n == 2 && mode_valid(parts[1])))
		return invalid_spec(arg, NULL, NULL, err);
	if (n == 3)
		mode = parts[2];
	if (!mode_valid(mode))
		return err_set(err, 0, "invalid mode: %s", mode);
	source = parts[0][0] == '.' ? absolute_from_cwd(parts[0]) : strdup(parts[0]);
	if (!source)
		return out_of_memory(err);
	bind = source[0] == '/';
	prop = mode_propagation(mode);
	if (bind && mode_has(mode, "nocopy"))
		return invalid_spec(arg, "bind", "field VolumeOptions must not be specified", err);
	if (!bind && prop)
		return invalid_spec(arg, "volume", "field BindOptions must not be specified", err);
	check_target(parts[1], why, sizeof(why));
	if (why[0])
		return invalid_spec(arg, bind ? "bind" : "volume", why, err);
	m->kind = bind ? VOLUME_MOUNT_BIND : VOLUME_MOUNT_VOLUME;
	m->destination = path_clean(parts[1]);
	m->rw = !mode_has(mode, "ro");
	m->mode = strdup(!bind && !*mode ? "z" : mode);
	if (bind) {
		m->source = path_clean(source);
		m->propagation = strdup(prop ? prop : "rprivate");
		m->make_source = m->recursive = true;
	} else {
		m->name = steal_pointer(&source);
		m->copy = !mode_has(mode, "nocopy");
	}
	if (!m->destination || !m->mode || (bind && (!m->source || !m->propagation)))
		return out_of_memory(err);
	return 0;
}

/* --- --mount ------------------------------------------------------------------ */

/* docker's mount.Mount as the client fills it from --mount. */
struct mount_flag {
	char *type, *source, *target;
	bool readonly;
	bool bind_opts, volume_opts, tmpfs_opts, image_opts;
	char *propagation;
	bool nonrecursive, ro_nonrecursive, ro_force_recursive;
	bool nocopy;
	char *subpath, *driver;
	struct strv labels, opts; /* "K=V" */
	long long size;
	unsigned mode;
};

static void mount_flag_release(struct mount_flag *f)
{
	free(f->type);
	free(f->source);
	free(f->target);
	free(f->propagation);
	free(f->subpath);
	free(f->driver);
	strv_release(&f->labels);
	strv_release(&f->opts);
}

static int csv_error(const char *s, const char *at, const char *what, struct sk_err *err)
{
	return err_set(err, 0, "parse error on line 1, column %d: %s", (int)(at - s) + 1, what);
}

/* A field that starts with '"' (at *pp): up to its closing quote ("" is a
 * quote), which must end the field. */
static int csv_quoted(const char *s, const char **pp, struct buf *f, struct sk_err *err)
{
	const char *p = *pp + 1;

	for (; *p != '"' || p[1] == '"'; p++) {
		if (!*p)
			return csv_error(s, p, "extraneous or missing \" in quoted-field", err);
		if (*p == '"')
			p++; /* "" */
		if (buf_append(f, p, 1) < 0)
			return out_of_memory(err);
	}
	p++;
	if (*p && *p != ',' && *p != '\n' && *p != '\r')
		return csv_error(s, p - 1, "extraneous or missing \" in quoted-field", err);
	*pp = p;
	return 0;
}

static int csv_plain(const char *s, const char **pp, struct buf *f, struct sk_err *err)
{
	size_t len = strcspn(*pp, ",\n\r");
	const char *quote = memchr(*pp, '"', len);

	if (quote)
		return csv_error(s, quote, "bare \" in non-quoted-field", err);
	if (buf_append(f, *pp, len) < 0)
		return out_of_memory(err);
	*pp += len;
	return 0;
}

/* One record of Go's encoding/csv: fields split at ',', a field that starts
 * with '"' is quoted. */
static int csv_fields(const char *s, struct strv *out, struct sk_err *err)
{
	cleanup_buf struct buf f = BUF_INIT(1 << 16);
	const char *p = s;

	if (!*s || *s == '\n' || !strcmp(s, "\r\n"))
		return err_set(err, 0, "EOF");
	for (;;) {
		buf_reset(&f);
		if (buf_append(&f, "", 0) < 0)
			return out_of_memory(err);
		if ((*p == '"' ? csv_quoted(s, &p, &f, err) : csv_plain(s, &p, &f, err)) < 0 ||
		    strv_push(out, f.data, err) < 0)
			return -1;
		if (*p != ',')
			return 0;
		p++;
	}
}

/* Go's strconv.ParseBool */
static int parse_go_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i]))
			return *out = true, 0;
		if (!strcmp(v, no[i]))
			return *out = false, 0;
	}
	return -1;
}

static int set_string(char **dst, const char *v, struct sk_err *err)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : out_of_memory(err);
}

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int bad_value(const char *key, const char *val, struct sk_err *err)
{
	return err_set(err, 0, "invalid value for %s: %s", key, val);
}

/* A key without a value: docker's booleans. */
static int mount_flag_word(const char *field, const char *key, struct mount_flag *f,
			   struct sk_err *err)
{
	if (!strcmp(key, "readonly") || !strcmp(key, "ro"))
		f->readonly = true;
	else if (!strcmp(key, "volume-nocopy"))
		f->volume_opts = f->nocopy = true;
	else if (!strcmp(key, "bind-nonrecursive"))
		f->bind_opts = f->nonrecursive = true;
	else
		return err_set(err, 0, "invalid field '%s' must be a key=value pair", field);
	return 0;
}

static int mount_flag_bind_recursive(const char *val, struct mount_flag *f, struct sk_err *err)
{
	if (!strcmp(val, "disabled"))
		f->nonrecursive = true;
	else if (!strcmp(val, "writable"))
		f->ro_nonrecursive = true;
	else if (!strcmp(val, "readonly"))
		f->ro_force_recursive = true;
	else if (strcmp(val, "enabled"))
		return err_set(err, 0, "invalid value for bind-recursive: %s (must be \"enabled\", "
				       "\"disabled\", \"writable\", or \"readonly\")",
			       val);
	f->bind_opts = true;
	return 0;
}

/* "K=V" for volume-label / volume-opt: an empty K is ignored, as docker. */
static int push_kv(struct strv *list, const char *val, struct sk_err *err)
{
	return val[0] == '=' || !val[0] ? 0 : strv_push(list, val, err);
}

static int mount_flag_volume_field(const char *key, const char *val, struct mount_flag *f,
				   struct sk_err *err)
{
	bool b;

	f->volume_opts = true;
	if (!strcmp(key, "volume-subpath"))
		return set_string(&f->subpath, val, err);
	if (!strcmp(key, "volume-nocopy")) {
		if (parse_go_bool(val, &b) < 0)
			return err_set(err, 0, "invalid value for volume-nocopy: %s", val);
		f->nocopy = b;
		return 0;
	}
	if (!strcmp(key, "volume-label"))
		return push_kv(&f->labels, val, err);
	if (!strcmp(key, "volume-driver"))
		return set_string(&f->driver, val, err);
	return push_kv(&f->opts, val, err); /* volume-opt */
}

static int mount_flag_tmpfs_field(const char *key, const char *val, struct mount_flag *f,
				  struct sk_err *err)
{
	char *end;
	unsigned long mode;

	f->tmpfs_opts = true;
	if (!strcmp(key, "tmpfs-size"))
		return volume_plan_parse_size(val, &f->size) < 0 ? bad_value(key, val, err) : 0;
	errno = 0;
	mode = strtoul(val, &end, 8);
	if (!*val || *end || errno || mode > 0xffffffffUL || !isdigit((unsigned char)val[0]))
		return bad_value(key, val, err);
	f->mode = (unsigned)mode;
	return 0;
}

static int mount_flag_field(const char *field, struct mount_flag *f, struct sk_err *err)
{
	const char *eq = strchr(field, '=');
	cleanup_free char *key = strndup(field, eq ? (size_t)(eq - field) : strlen(field));
	const char *val = eq ? eq + 1 : NULL;
	bool b;

	if (!key)
		return out_of_memory(err);
	lower(key); /* docker: keys are case-insensitive */
	if (!val)
		return mount_flag_word(field, key, f, err);
	if (!strcmp(key, "type")) {
		if (set_string(&f->type, val, err) < 0)
			return -1;
		lower(f->type);
		return 0;
	}
	if (!strcmp(key, "source") || !strcmp(key, "src")) {
		char *abs = val[0] == '.' ? absolute_from_cwd(val) : NULL;

		free(f->source);
		f->source = abs ? abs : strdup(val);
		return f->source ? 0 : out_of_memory(err);
	}
	if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination"))
		return set_string(&f->target, val, err);
	if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
		if (parse_go_bool(val, &b) < 0)
			return bad_value(key, val, err);
		f->readonly = b;
		return 0;
	}
	if (!strcmp(key, "consistency"))
		return 0;
	if (!strcmp(key, "bind-propagation")) {
		f->bind_opts = true;
		if (set_string(&f->propagation, val, err) < 0)
			return -1;
		lower(f->propagation);
		return 0;
	}
	if (!strcmp(key, "bind-nonrecursive")) {
		if (parse_go_bool(val, &b) < 0)
			return bad_value(key, val, err);
		f->bind_opts = true;
		f->nonrecursive = b;
		return 0;
	}
	if (!strcmp(key, "bind-recursive"))
		return mount_flag_bind_recursive(val, f, err);
	if (!strcmp(key, "volume-subpath") || !strcmp(key, "volume-nocopy") ||
	    !strcmp(key, "volume-label") || !strcmp(key, "volume-driver") ||
	    !strcmp(key, "volume-opt"))
		return mount_flag_volume_field(key, val, f, err);
	if (!strcmp(key, "image-subpath")) {
		f->image_opts = true;
		return 0;
	}
	if (!strcmp(key, "tmpfs-size") || !strcmp(key, "tmpfs-mode"))
		return mount_flag_tmpfs_field(key, val, f, err);
	return err_set(err, 0, "unexpected key '%s' in '%s'", key, field);
}

/* The client's checks once every field is read. */
static int mount_flag_finish(struct mount_flag *f, struct sk_err *err)
{
	static const struct {
		const char *prefix, *type;
		size_t offset;
	} mixes[] = {
		{ "volume", "volume", offsetof(struct mount_flag, volume_opts) },
		{ "image", "image", offsetof(struct mount_flag, image_opts) },
		{ "bind", "bind", offsetof(struct mount_flag, bind_opts) },
		{ "tmpfs", "tmpfs", offsetof(struct mount_flag, tmpfs_opts) },
	};

	if (!f->type || !*f->type)
		return err_set(err, 0, "type is required");
	if (!f->target || !*f->target)
		return err_set(err, 0, "target is required");
	for (size_t i = 0; i < ARRAY_SIZE(mixes); i++)
		if (*(bool *)((char *)f + mixes[i].offset) && strcmp(f->type, mixes[i].type))
			return err_set(err, 0, "cannot mix '%s-*' options with mount type '%s'",
				       mixes[i].prefix, f->type);
	if (f->ro_nonrecursive && !f->readonly)
		return err_set(err, 0, "option 'bind-recursive=writable' requires 'readonly' to be "
				       "specified in conjunction");
	if (f->ro_force_recursive && !f->readonly)
		return err_set(err, 0, "option 'bind-recursive=readonly' requires 'readonly' to be "
				       "specified in conjunction");
	if (f->ro_force_recursive && (!f->propagation || strcmp(f->propagation, "rprivate")))
		return err_set(err, 0, "option 'bind-recursive=readonly' requires "
				       "'bind-propagation=rprivate' to be specified in conjunction");
	return 0;
}

static int parse_mount_flag(const char *arg, struct mount_flag *f, struct sk_err *err)
{
	struct strv fields = { 0 };
	int ret = 0;

	memset(f, 0, sizeof(*f));
	if (csv_fields(arg, &fields, err) < 0)
		ret = -1;
	if (ret == 0 && !(f->type = strdup("volume")))
		ret = out_of_memory(err);
	for (size_t i = 0; ret == 0 && i < fields.n; i++)
		ret = mount_flag_field(fields.v[i], f, err);
	strv_release(&fields);
	if (ret == 0)
		ret = mount_flag_finish(f, err);
	return ret;
}

int volume_plan_check_mount(const char *arg, struct sk_err *err)
{
	struct mount_flag f;
	int ret = parse_mount_flag(arg, &f, err);

	mount_flag_release(&f);
	return ret;
}

static json_t *kv_json(const struct strv *list)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < list->n; i++) {
		const char *eq = strchr(list->v[i], '=');
		cleanup_free char *k = strndup(list->v[i], eq ? (size_t)(eq - list->v[i])
							      : strlen(list->v[i]));

		if (k)
			json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
	}
	return o;
}

static void put_if(json_t *o, const char *key, json_t *v, bool cond)
{
	if (cond)
		json_object_set_new(o, key, v);
	else
		json_decref(v);
}

/* HostConfig.Mounts' entry: docker's mount.Mount as JSON (empty fields left
 * out; the client of docker 28 always sends VolumeOptions.DriverConfig). */
static json_t *mount_flag_json(const struct mount_flag *f)
{
	json_t *o = json_object(), *opt;

	json_object_set_new(o, "Type", json_string(f->type));
	put_if(o, "Source", json_string(f->source ? f->source : ""), f->source && *f->source);
	json_object_set_new(o, "Target", json_string(f->target));
	put_if(o, "ReadOnly", json_true(), f->readonly);
	if (f->bind_opts) {
		opt = json_object();
		put_if(opt, "Propagation", json_string(f->propagation ? f->propagation : ""),
		       f->propagation && *f->propagation);
		put_if(opt, "NonRecursive", json_true(), f->nonrecursive);
		put_if(opt, "ReadOnlyNonRecursive", json_true(), f->ro_nonrecursive);
		put_if(opt, "ReadOnlyForceRecursive", json_true(), f->ro_force_recursive);
		json_object_set_new(o, "BindOptions", opt);
	}
	if (f->volume_opts) {
		json_t *driver = json_object();

		opt = json_object();
		put_if(opt, "NoCopy", json_true(), f->nocopy);
		put_if(opt, "Labels", kv_json(&f->labels), f->labels.n > 0);
		put_if(opt, "Subpath", json_string(f->subpath ? f->subpath : ""),
		       f->subpath && *f->subpath);
		put_if(driver, "Name", json_string(f->driver ? f->driver : ""),
		       f->driver && *f->driver);
		put_if(driver, "Options", kv_json(&f->opts), f->opts.n > 0);
		json_object_set_new(opt, "DriverConfig", driver);
		json_object_set_new(o, "VolumeOptions", opt);
	}
	if (f->tmpfs_opts) {
		opt = json_object();
		put_if(opt, "SizeBytes", json_integer(f->size), f->size != 0);
		put_if(opt, "Mode", json_integer(f->mode), f->mode != 0);
		json_object_set_new(o, "TmpfsOptions", opt);
	}
	return o;
}

static int mount_config_error(const struct mount_flag *f, const char *why, struct sk_err *err)
{
	return err_set(err, 0, "invalid mount config for type \"%s\": %s", f->type, why);
}

/* The daemon's checks (validateMountConfig), then the mount. */
static int mount_from_flag(const struct mount_flag *f, struct volume_mount *m, struct sk_err *err)
{
	char why[512];
	struct stat st;
	bool anonymous = !f->source || !*f->source;

	memset(m, 0, sizeof(*m));
	check_target(f->target, why, sizeof(why));
	if (why[0])
		return mount_config_error(f, why, err);
	if (!strcmp(f->type, "bind")) {
		if (anonymous)
			return mount_config_error(f, "field Source must not be empty", err);
		if (f->propagation && *f->propagation && !is_propagation(f->propagation)) {
			snprintf(why, sizeof(why), "invalid propagation mode: %s", f->propagation);
			return mount_config_error(f, why, err);
		}
		if (f->source[0] != '/') {
			snprintf(why, sizeof(why), "invalid mount path: '%s' mount path must be "
						   "absolute", f->source);
			return mount_config_error(f, why, err);
		}
		if (stat(f->source, &st) < 0) {
			snprintf(why, sizeof(why), "bind source path does not exist: %s", f->source);
			return mount_config_error(f, why, err);
		}
		m->kind = VOLUME_MOUNT_BIND;
		m->source = path_clean(f->source);
		m->propagation = strdup(f->propagation && *f->propagation ? f->propagation
									  : "rprivate");
		m->recursive = !f->nonrecursive;
	} else if (!strcmp(f->type, "volume")) {
		if (f->subpath && *f->subpath && anonymous)
			return mount_config_error(f, "must not set Subpath when using anonymous "
						     "volumes", err);
		if (f->subpath && *f->subpath) {
			cleanup_free char *clean = path_clean(f->subpath);

			if (!clean || f->subpath[0] == '/' || !strcmp(clean, "..") ||
			    !strncmp(clean, "../", 3))
				return mount_config_error(f, "subpath must be a relative path within "
							     "the volume", err);
			/* the spec's option list cannot carry one */
			if (strchr(f->subpath, ','))
				return mount_config_error(f, "skiff cannot mount a subpath with a ','",
							  err);
		}
		if (f->readonly && anonymous)
			return mount_config_error(f, "must not set ReadOnly mode when using "
						     "anonymous volumes", err);
		m->kind = VOLUME_MOUNT_VOLUME;
		m->name = anonymous ? NULL : strdup(f->source);
		m->anonymous = anonymous;
		m->copy = !f->nocopy;
		m->mode = strdup("z");
		if (f->subpath && *f->subpath && !(m->subpath = path_clean(f->subpath)))
			return out_of_memory(err);
		if (f->driver && !(m->driver = strdup(f->driver)))
			return out_of_memory(err);
		for (size_t i = 0; i < f->labels.n; i++)
			if (strv_push(&m->labels, f->labels.v[i], err) < 0)
				return -1;
		for (size_t i = 0; i < f->opts.n; i++)
			if (strv_push(&m->opts, f->opts.v[i], err) < 0)
				return -1;
	} else if (!strcmp(f->type, "tmpfs")) {
		if (!anonymous)
			return mount_config_error(f, "field Source must not be specified", err);
		m->kind = VOLUME_MOUNT_TMPFS;
		m->tmpfs = tmpfs_data(f->size, f->mode, false);
		if (!m->tmpfs)
			return out_of_memory(err);
	} else if (!strcmp(f->type, "image")) {
		return mount_config_error(f, "skiff does not mount images", err);
	} else {
		return mount_config_error(f, "mount type unknown", err);
	}
	m->destination = path_clean(f->target);
	m->rw = !f->readonly;
	if (!m->mode && !(m->mode = strdup("")))
		return out_of_memory(err);
	if (!m->destination || (m->kind == VOLUME_MOUNT_BIND && (!m->source || !m->propagation)) ||
	    (m->kind == VOLUME_MOUNT_VOLUME && !anonymous && !m->name))
		return out_of_memory(err);
	return 0;
}

/* --- the plan ----------------------------------------------------------------- */

static void mount_release(struct volume_mount *m)
{
	free(m->name);
	free(m->source);
	free(m->destination);
	free(m->mode);
	free(m->propagation);
	free(m->subpath);
	free(m->tmpfs);
	free(m->driver);
	strv_release(&m->labels);
	strv_release(&m->opts);
	memset(m, 0, sizeof(*m));
}

void volume_plan_release(struct volume_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		mount_release(&p->m[i]);
	free(p->m);
	strv_release(&p->config_volumes);
	strv_release(&p->volumes_from);
	json_decref(p->host_mounts);
	memset(p, 0, sizeof(*p));
}

static struct volume_mount *find_mount(struct volume_plan *p, const char *dest)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->m[i].destination, dest))
			return &p->m[i];
	return NULL;
}

/* Put m in the plan (taking what it owns); a mount at the same destination
 * is replaced, as docker's map of mount points replaces it. */
static int plan_set(struct volume_plan *p, struct volume_mount *m, struct sk_err *err)
{
	struct volume_mount *old = find_mount(p, m->destination), *grown;

	if (old) {
		mount_release(old);
		*old = *m;
		memset(m, 0, sizeof(*m));
		return 0;
	}
	if (p->n >= PLAN_MAX_MOUNTS)
		return err_set(err, 0, "too many mounts (more than %d)", PLAN_MAX_MOUNTS);
	grown = realloc(p->m, (p->n + 1) * sizeof(*grown));
	if (!grown)
		return out_of_memory(err);
	p->m = grown;
	p->m[p->n++] = *m;
	memset(m, 0, sizeof(*m));
	return 0;
}

static bool strv_has(const struct strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return true;
	return false;
}

/* --tmpfs DST[:OPTS]: its destination, cleaned. */
static char *tmpfs_destination(const char *arg)
{
	cleanup_free char *dst = strndup(arg, strcspn(arg, ":"));

	return dst ? path_clean(dst) : NULL;
}

static bool tmpfs_covers(const struct strv *tmpfs, const char *dest)
{
	for (size_t i = 0; tmpfs && i < tmpfs->n; i++) {
		cleanup_free char *d = tmpfs_destination(tmpfs->v[i]);

		if (d && !strcmp(d, dest))
			return true;
	}
	return false;
}

static int duplicate(const char *dest, struct sk_err *err)
{
	return err_set(err, 0, "Duplicate mount point: %s", dest);
}

/* A volume name the local driver takes, checked before anything is made. */
static int check_volume(const struct volume_mount *m, struct sk_err *err)
{
	if (m->kind != VOLUME_MOUNT_VOLUME || !m->name)
		return 0;
	if (m->driver && *m->driver && strcmp(m->driver, "local"))
		return err_set(err, 0, "create %s: error looking up volume plugin %s: plugin \"%s\" "
				       "not found",
			       m->name, m->driver, m->driver);
	if (volume_check_name(m->name, err) < 0)
		return err_wrap(err, "create %s", m->name);
	return 0;
}

static int load_record(int dirfd, json_t **out, struct sk_err *err);
static int mounts_from_json(json_t *arr, struct volume_plan *p, struct sk_err *err);

/* --volumes-from C[:ro|rw]: C's mounts, read-only when asked. */
static int add_volumes_from(struct store *s, const char *arg, struct volume_plan *p,
			    struct sk_err *err)
{
	cleanup_free char *ref = strndup(arg, strcspn(arg, ":"));
	const char *colon = strchr(arg, ':');
	const char *mode = colon ? colon + 1 : "";
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1;
	struct volume_plan theirs = { 0 };
	json_t *rec = NULL;
	int ret;

	if (!*arg)
		return err_set(err, 0, "volumes-from specification cannot be an empty string");
	if (!ref)
		return out_of_memory(err);
	if (!mode_valid(mode) || mode_propagation(mode) || mode_has(mode, "nocopy"))
		return err_set(err, 0, "invalid mode: %s", mode);
	if (ctr_resolve(s, ref, id, err) < 0 || (dirfd = ctr_open_dir(s, id, err)) < 0)
		return -1;
	ret = load_record(dirfd, &rec, err);
	if (ret != 0)
		return ret < 0 ? -1 : 0; /* a container from before volumes: none */
	ret = mounts_from_json(json_object_get(rec, "Mounts"), &theirs, err);
	json_decref(rec);
	for (size_t i = 0; ret == 0 && i < theirs.n; i++) {
		theirs.m[i].rw = theirs.m[i].rw && !mode_has(mode, "ro");
		theirs.m[i].copy = false;
		ret = plan_set(p, &theirs.m[i], err);
	}
	volume_plan_release(&theirs);
	return ret;
}

static int add_binds(const struct volume_request *r, struct volume_plan *p, struct strv *claimed,
		     struct strv *anonymous, struct sk_err *err)
{
	for (size_t i = 0; r->binds && i < r->binds->n; i++) {
		const char *arg = r->binds->v[i];
		struct volume_mount m;
		bool seen = false;

		/* the client keeps -v in a set: the same one twice is one */
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(r->binds->v[j], arg);
		if (seen)
			continue;
		if (parse_bind(arg, &m, err) < 0) {
			mount_release(&m);
			return -1;
		}
		if (m.anonymous) {
			mount_release(&m);
			if (!strv_has(anonymous, arg) && strv_push(anonymous, arg, err) < 0)
				return -1;
			continue;
		}
		if (strv_has(claimed, m.destination) || tmpfs_covers(r->tmpfs, m.destination)) {
			duplicate(m.destination, err);
			mount_release(&m);
			return -1;
		}
		if (check_volume(&m, err) < 0 || strv_push(claimed, m.destination, err) < 0 ||
		    plan_set(p, &m, err) < 0) {
			mount_release(&m);
			return -1;
		}
	}
	return 0;
}

static int add_mounts(const struct volume_request *r, struct volume_plan *p, struct strv *claimed,
		      struct sk_err *err)
{
	for (size_t i = 0; r->mounts && i < r->mounts->n; i++) {
		struct mount_flag f;
		struct volume_mount m = { 0 };
		int ret = parse_mount_flag(r->mounts->v[i], &f, err);

		if (ret == 0)
			ret = mount_from_flag(&f, &m, err);
		if (ret == 0 && strv_has(claimed, m.destination))
			ret = duplicate(f.target, err);
		if (ret == 0)
			ret = check_volume(&m, err);
		if (ret == 0) {
			if (!p->host_mounts)
				p->host_mounts = json_array();
			json_array_append_new(p->host_mounts, mount_flag_json(&f));
			ret = strv_push(claimed, m.destination, err);
		}
		if (ret == 0)
			ret = plan_set(p, &m, err);
		mount_flag_release(&f);
		mount_release(&m);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* Config.Volumes (the image's VOLUME entries, then -v's anonymous ones): an
 * anonymous volume each, unless something is mounted there already. */
static int add_config_volumes(const struct volume_request *r, struct volume_plan *p,
			      const struct strv *anonymous, struct sk_err *err)
{
	for (char *const *v = r->image_volumes; v && *v; v++)
		if (!strv_has(&p->config_volumes, *v) && strv_push(&p->config_volumes, *v, err) < 0)
			return -1;
	for (size_t i = 0; i < anonymous->n; i++)
		if (!strv_has(&p->config_volumes, anonymous->v[i]) &&
		    strv_push(&p->config_volumes, anonymous->v[i], err) < 0)
			return -1;
	for (size_t i = 0; i < p->config_volumes.n; i++) {
		struct volume_mount m;

		if (anonymous_mount(p->config_volumes.v[i], &m, err) < 0) {
			mount_release(&m);
			return -1;
		}
		if (find_mount(p, m.destination) || tmpfs_covers(r->tmpfs, m.destination)) {
			mount_release(&m);
			continue;
		}
		if (plan_set(p, &m, err) < 0) {
			mount_release(&m);
			return -1;
		}
	}
	return 0;
}

int volume_plan_build(struct store *s, const struct volume_request *r, struct volume_plan *p,
		      struct sk_err *err)
{
	struct strv claimed = { 0 }, anonymous = { 0 };
	int ret = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; ret == 0 && r->volumes_from && i < r->volumes_from->n; i++) {
		ret = add_volumes_from(s, r->volumes_from->v[i], p, err);
		if (ret == 0)
			ret = strv_push(&p->volumes_from, r->volumes_from->v[i], err);
	}
	if (ret == 0)
		ret = add_binds(r, p, &claimed, &anonymous, err);
	if (ret == 0)
		ret = add_mounts(r, p, &claimed, err);
	if (ret == 0)
		ret = add_config_volumes(r, p, &anonymous, err);
	strv_release(&claimed);
	strv_release(&anonymous);
	if (ret < 0)
		volume_plan_release(p);
	return ret;
}

/* --- making the volumes ------------------------------------------------------- */

static int resolve_one(struct store *s, int voldir, const char *ctr_id, struct volume_mount *m,
		       struct sk_err *err)
{
	struct volume_create_opts o = { .name = m->name,
					.labels = m->labels.v,
					.n_labels = m->labels.n,
					.opts = m->opts.v,
					.n_opts = m->opts.n };
	char name[VOLUME_NAME_MAX + 1];
	bool created;

	if (volume_create_locked(s, voldir, &o, name, &created, err) < 0 ||
	    volume_add_user(voldir, name, ctr_id, err) < 0)
		return -1;
	free(m->name);
	free(m->source);
	m->name = strdup(name);
	m->source = NULL;
	if (!m->name ||
	    asprintf(&m->source, "%s/" VOLUME_DIR "/%s/" VOLUME_DATA, s->root, name) < 0) {
		m->source = NULL;
		return out_of_memory(err);
	}
	return 0;
}

int volume_plan_resolve(struct store *s, const char *ctr_id, struct volume_plan *p,
			struct sk_err *err)
{
	cleanup_close int voldir = -1;
	cleanup_close int lock = -1;
	bool any = false;

	for (size_t i = 0; i < p->n; i++)
		any |= p->m[i].kind == VOLUME_MOUNT_VOLUME;
	if (!any)
		return 0;
	voldir = volume_dir_open(s, err);
	if (voldir < 0 || (lock = volume_lock(voldir, err)) < 0)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].kind == VOLUME_MOUNT_VOLUME &&
		    resolve_one(s, voldir, ctr_id, &p->m[i], err) < 0)
			return -1;
	return 0;
}

/* --- the record --------------------------------------------------------------- */

static const char *const kind_names[] = {
	[VOLUME_MOUNT_BIND] = "bind",
	[VOLUME_MOUNT_VOLUME] = "volume",
	[VOLUME_MOUNT_TMPFS] = "tmpfs",
};

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* docker's MountPoint, and under "Skiff" what start needs besides. */
static json_t *mount_json(const struct volume_mount *m)
{
	json_t *o = json_object();
	json_t *own = json_pack("{s:b, s:b, s:b, s:b, s:s, s:s}", "Anonymous", m->anonymous,
				"Copy", m->copy, "MakeSource", m->make_source, "Recursive",
				m->recursive, "Subpath", or_empty(m->subpath), "Tmpfs",
				or_empty(m->tmpfs));

	json_object_set_new(o, "Type", json_string(kind_names[m->kind]));
	if (m->kind == VOLUME_MOUNT_VOLUME)
		json_object_set_new(o, "Name", json_string(or_empty(m->name)));
	json_object_set_new(o, "Source", json_string(or_empty(m->source)));
	json_object_set_new(o, "Destination", json_string(m->destination));
	if (m->kind == VOLUME_MOUNT_VOLUME)
		json_object_set_new(o, "Driver", json_string("local"));
	json_object_set_new(o, "Mode", json_string(or_empty(m->mode)));
	json_object_set_new(o, "RW", json_boolean(m->rw));
	json_object_set_new(o, "Propagation", json_string(or_empty(m->propagation)));
	json_object_set_new(o, "Skiff", own);
	return o;
}

/* A plain write, as the container's other files: private to it until it is
 * registered, worthless after a crash (container_gc removes the directory). */
static int write_record(int dirfd, const char *text, struct sk_err *err)
{
	cleanup_close int fd = openat(dirfd, VOLUME_PLAN_FILE,
				      O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || fs_write_all(fd, text, strlen(text)) < 0)
		return err_set(err, errno, "cannot record the container's mounts");
	return 0;
}

int volume_plan_save(int ctr_dirfd, const struct volume_plan *p, struct sk_err *err)
{
	json_t *rec, *mounts, *vols, *from;
	cleanup_free char *text = NULL;

	/* nothing to keep: no file (run's hot path; start rebuilds an empty plan) */
	if (!p->n && !p->config_volumes.n && !p->volumes_from.n && !p->host_mounts)
		return 0;
	rec = json_object();
	mounts = json_array();
	vols = json_array();
	from = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(mounts, mount_json(&p->m[i]));
	for (size_t i = 0; i < p->config_volumes.n; i++)
		json_array_append_new(vols, json_string(p->config_volumes.v[i]));
	for (size_t i = 0; i < p->volumes_from.n; i++)
		json_array_append_new(from, json_string(p->volumes_from.v[i]));
	json_object_set_new(rec, "Mounts", mounts);
	json_object_set_new(rec, "Volumes", vols);
	json_object_set_new(rec, "VolumesFrom", from);
	if (p->host_mounts)
		json_object_set(rec, "HostMounts", p->host_mounts);
	text = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (!text)
		return out_of_memory(err);
	return write_record(ctr_dirfd, text, err);
}

/* 0 with *out, 1 when there is no record. */
static int load_record(int dirfd, json_t **out, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(PLAN_MAX_BYTES);
	json_error_t jerr;

	*out = NULL;
	if (fs_read_file(dirfd, VOLUME_PLAN_FILE, PLAN_MAX_BYTES, &b, err) < 0) {
		if (err->errnum == ENOENT) {
			err_clear(err);
			return 1;
		}
		return -1;
	}
	*out = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_set(err, 0, "the container's %s is damaged", VOLUME_PLAN_FILE);
	}
	return 0;
}

static char *json_dup(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v ? strdup(v) : NULL;
}

static int mount_from_json(json_t *o, struct volume_mount *m, struct sk_err *err)
{
	const char *type = json_string_value(json_object_get(o, "Type"));
	json_t *own = json_object_get(o, "Skiff");

	memset(m, 0, sizeof(*m));
	for (size_t k = 0; type && k < ARRAY_SIZE(kind_names); k++)
		if (!strcmp(type, kind_names[k]))
			m->kind = (enum volume_mount_kind)k, type = NULL;
	m->destination = json_dup(o, "Destination");
	if (type || !m->destination)
		return err_set(err, 0, "the container's %s is damaged", VOLUME_PLAN_FILE);
	m->name = json_dup(o, "Name");
	m->source = json_dup(o, "Source");
	m->mode = json_dup(o, "Mode");
	m->propagation = json_dup(o, "Propagation");
	m->rw = json_is_true(json_object_get(o, "RW"));
	m->anonymous = json_is_true(json_object_get(own, "Anonymous"));
	m->copy = json_is_true(json_object_get(own, "Copy"));
	m->make_source = json_is_true(json_object_get(own, "MakeSource"));
	m->recursive = json_is_true(json_object_get(own, "Recursive"));
	m->subpath = json_dup(own, "Subpath");
	m->tmpfs = json_dup(own, "Tmpfs");
	if (m->kind == VOLUME_MOUNT_VOLUME && !m->name)
		return err_set(err, 0, "the container's %s is damaged", VOLUME_PLAN_FILE);
	return 0;
}

static int mounts_from_json(json_t *arr, struct volume_plan *p, struct sk_err *err)
{
	size_t i;
	json_t *o;

	json_array_foreach (arr, i, o) {
		struct volume_mount m;

		if (mount_from_json(o, &m, err) < 0 || plan_set(p, &m, err) < 0) {
			mount_release(&m);
			return -1;
		}
	}
	return 0;
}

static int strings_from_json(json_t *arr, struct strv *out, struct sk_err *err)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (json_is_string(v) && strv_push(out, json_string_value(v), err) < 0)
			return -1;
	return 0;
}

int volume_plan_load(int ctr_dirfd, struct volume_plan *p, struct sk_err *err)
{
	json_t *rec;
	int ret = load_record(ctr_dirfd, &rec, err);

	memset(p, 0, sizeof(*p));
	if (ret != 0)
		return ret;
	if (mounts_from_json(json_object_get(rec, "Mounts"), p, err) < 0 ||
	    strings_from_json(json_object_get(rec, "Volumes"), &p->config_volumes, err) < 0 ||
	    strings_from_json(json_object_get(rec, "VolumesFrom"), &p->volumes_from, err) < 0)
		ret = -1;
	if (ret == 0 && json_is_array(json_object_get(rec, "HostMounts")))
		p->host_mounts = json_incref(json_object_get(rec, "HostMounts"));
	json_decref(rec);
	if (ret < 0)
		volume_plan_release(p);
	return ret;
}

int volume_plan_anonymous(const struct volume_plan *p, struct strv *names, struct sk_err *err)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].kind == VOLUME_MOUNT_VOLUME && p->m[i].anonymous && p->m[i].name &&
		    strv_push(names, p->m[i].name, err) < 0)
			return -1;
	return 0;
}

int volume_plan_anonymous_of(int ctr_dirfd, struct strv *names)
{
	struct volume_plan p;
	struct sk_err err = { 0 };
	int ret = volume_plan_load(ctr_dirfd, &p, &err);

	if (ret != 0)
		return ret < 0 ? -1 : 0;
	ret = volume_plan_anonymous(&p, names, &err);
	volume_plan_release(&p);
	return ret;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of o with its keys in order (for printing with JSON_PRESERVE_ORDER). */
static json_t *sorted_object(json_t *o)
{
	size_t n = json_object_size(o), k = 0;
	cleanup_free const char **keys = calloc(n + 1, sizeof(*keys));
	json_t *out = json_object(), *v;
	const char *key;

	if (!keys || !out) {
		json_decref(out);
		return o;
	}
	json_object_foreach (o, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (k = 0; k < n; k++)
		json_object_set(out, keys[k], json_object_get(o, keys[k]));
	json_decref(o);
	return out;
}

json_t *volume_plan_inspect(int ctr_dirfd)
{
	struct sk_err err = { 0 };
	json_t *rec, *mounts = json_array(), *vols = NULL, *from, *o;
	size_t i;

	if (load_record(ctr_dirfd, &rec, &err) != 0) {
		json_decref(mounts);
		return NULL;
	}
	json_array_foreach (json_object_get(rec, "Mounts"), i, o) {
		json_t *copy = json_deep_copy(o);

		json_object_del(copy, "Skiff");
		json_array_append_new(mounts, copy);
	}
	/* a Go map: its keys print sorted */
	json_array_foreach (json_object_get(rec, "Volumes"), i, o) {
		if (!vols)
			vols = json_object();
		json_object_set_new(vols, json_string_value(o) ? json_string_value(o) : "",
				    json_object());
	}
	if (vols)
		vols = sorted_object(vols);
	from = json_object_get(rec, "VolumesFrom");
	o = json_pack("{s:o, s:o, s:O, s:O}", "Mounts", mounts, "Volumes",
		      vols ? vols : json_null(), "HostMounts",
		      json_is_array(json_object_get(rec, "HostMounts"))
			      ? json_object_get(rec, "HostMounts")
			      : json_null(),
		      "VolumesFrom", json_array_size(from) ? from : json_null());
	json_decref(rec);
	return o;
}

/* --- the spec ----------------------------------------------------------------- */

/* docker's order: fewer path separators first, so that a mount never hides
 * one made before it; equal ones keep their order. */
struct ordered {
	unsigned depth;
	size_t index; /* < n: a plan mount; else a --tmpfs */
};

static unsigned separators(const char *dest)
{
	unsigned n = 0;

	for (; *dest; dest++)
		n += *dest == '/';
	return n;
}

static int ordered_cmp(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* A destination docker takes relative to the root (-v anon): absolute. */
static char *spec_destination(const char *dest)
{
	char *out;

	if (dest[0] == '/')
		return strdup(dest);
	return asprintf(&out, "/%s", dest) < 0 ? NULL : out;
}

static int apply_bind(const struct volume_mount *m, const char *dst, struct rt_spec *spec,
		      struct sk_err *err)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "%s%s%s", m->recursive ? "rbind" : "bind",
		 m->rw ? "" : ",ro", m->make_source ? ",mkdir" : "");
	return spec_add_mount(spec, dst, "bind", m->source, opts, err);
}

static int apply_tmpfs(const struct volume_mount *m, const char *dst, struct rt_spec *spec,
		       struct sk_err *err)
{
	cleanup_free char *opts = NULL;

	if (asprintf(&opts, "rw,nosuid,nodev,noexec%s%s%s", m->rw ? "" : ",ro",
		     m->tmpfs ? "," : "", or_empty(m->tmpfs)) < 0) {
		opts = NULL;
		return out_of_memory(err);
	}
	return spec_add_mount(spec, dst, "tmpfs", "tmpfs", opts, err);
}

/* A volume with driver options (local driver: type, device, o), mounted in
 * the container as docker mounts it on the host: "o=bind" binds the device. */
static int apply_volume_options(const struct volume_mount *m, json_t *opts, const char *dst,
				struct rt_spec *spec, struct sk_err *err)
{
	const char *type = json_string_value(json_object_get(opts, "type"));
	const char *device = json_string_value(json_object_get(opts, "device"));
	const char *o = json_string_value(json_object_get(opts, "o"));
	cleanup_free char *all = NULL;
	bool bind = false;
	size_t len;

	for (const char *w = o ? o : ""; (w = spec_opt_next(w, &len)); w += len)
		bind |= word_is(w, len, "bind") || word_is(w, len, "rbind");
	if (!device || !type)
		return err_set(err, 0, "volume %s: missing device in volume options", m->name);
	if (asprintf(&all, "%s%s%s", or_empty(o), o && *o ? "," : "", m->rw ? "rw" : "ro") < 0) {
		all = NULL;
		return out_of_memory(err);
	}
	return spec_add_mount(spec, dst, bind ? "bind" : type, device, all, err);
}

static int apply_volume(struct store *s, int voldir, const struct volume_mount *m,
			const char *dst, bool first_start, struct rt_spec *spec, struct sk_err *err)
{
	json_t *rec = volume_read_opts(voldir, m->name);
	json_t *opts = json_object_get(rec, "Options");
	cleanup_free char *source = NULL, *o = NULL;
	int ret;

	if (!rec) {
		err_set(err, 0, "get %s: no such volume", m->name);
		return -1;
	}
	if (json_object_size(opts)) {
		ret = apply_volume_options(m, opts, dst, spec, err);
		json_decref(rec);
		return ret;
	}
	json_decref(rec);
	if (asprintf(&source, "%s/" VOLUME_DIR "/%s/" VOLUME_DATA, s->root, m->name) < 0 ||
	    asprintf(&o, "rbind%s%s%s%s", m->rw ? "" : ",ro",
		     first_start && m->copy && !m->subpath ? ",populate" : "",
		     m->subpath ? ",subpath=" : "", or_empty(m->subpath)) < 0) {
		source = o = NULL;
		return out_of_memory(err);
	}
	return spec_add_mount(spec, dst, "bind", source, o, err);
}

static int apply_one(struct store *s, int voldir, const struct volume_mount *m, bool first_start,
		     struct rt_spec *spec, struct sk_err *err)
{
	cleanup_free char *dst = spec_destination(m->destination);

	if (!dst)
		return out_of_memory(err);
	switch (m->kind) {
	case VOLUME_MOUNT_BIND: return apply_bind(m, dst, spec, err);
	case VOLUME_MOUNT_TMPFS: return apply_tmpfs(m, dst, spec, err);
	case VOLUME_MOUNT_VOLUME: return apply_volume(s, voldir, m, dst, first_start, spec, err);
	}
	return 0;
}

int volume_plan_apply(struct store *s, const struct volume_plan *p, const struct strv *tmpfs,
		      bool first_start, struct rt_spec *spec, struct sk_err *err)
{
	size_t n_tmpfs = tmpfs ? tmpfs->n : 0, total = p->n + n_tmpfs;
	cleanup_free struct ordered *order = calloc(total + 1, sizeof(*order));
	cleanup_close int voldir = -1;

	if (!order)
		return out_of_memory(err);
	for (size_t i = 0; i < total; i++) {
		cleanup_free char *d = i < p->n ? NULL : tmpfs_destination(tmpfs->v[i - p->n]);

		order[i].index = i;
		order[i].depth = separators(i < p->n ? p->m[i].destination : d ? d : "");
	}
	qsort(order, total, sizeof(*order), ordered_cmp);
	for (size_t k = 0; k < total; k++) {
		size_t i = order[k].index;

		if (i >= p->n) {
			if (spec_parse_tmpfs(tmpfs->v[i - p->n], spec, err) < 0)
				return -1;
			continue;
		}
		if (p->m[i].kind == VOLUME_MOUNT_VOLUME && voldir < 0 &&
		    (voldir = volume_dir_open(s, err)) < 0)
			return -1;
		if (apply_one(s, voldir, &p->m[i], first_start, spec, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * Dockerfile instructions applied to an image config (config_edit.h). The
 * words of an instruction go through a small shell-like lexer: quotes,
 * backslash escapes and $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} from Env.
 */
#include "image/config_edit.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/cleanup.h"

#define WORD_MAX (64u << 10)
#define WORDS_MAX 1024

/* ---- words ---- */

struct words {
	char *v[WORDS_MAX];
	size_t n;
};

static void words_release(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	w->n = 0;
}

/* The value of NAME in the config's Env, or NULL. */
static const char *env_get(json_t *config, const char *name, size_t len)
{
	json_t *env = json_object_get(config, "Env"), *e;
	size_t i;

	json_array_foreach(env, i, e)
	{
		const char *s = json_string_value(e);
		if (s && !strncmp(s, name, len) && s[len] == '=')
			return s + len + 1;
	}
	return NULL;
}

/* $NAME or ${NAME[:-word|:+word]} at *p (just after the '$'). */
static int expand_var(json_t *config, const char **p, struct buf *out)
{
	const char *s = *p;
	const char *name = s, *val;
	size_t len;

	if (*s == '{') {
		const char *end = strchr(s, '}');
		const char *op;
		if (!end)
			return -1;
		name = s + 1;
		op = memchr(name, ':', (size_t)(end - name));
		len = (size_t)((op ? op : end) - name);
		val = env_get(config, name, len);
		*p = end + 1;
		if (op && op[1] == '-')
			return buf_append(out, val && *val ? val : op + 2,
					  val && *val ? strlen(val) : (size_t)(end - op - 2));
		if (op && op[1] == '+')
			return val && *val ? buf_append(out, op + 2, (size_t)(end - op - 2)) : 0;
		if (op)
			return -1;
		return val ? buf_append(out, val, strlen(val)) : 0;
	}
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	len = (size_t)(s - name);
	*p = s;
	if (len == 0)
		return buf_append(out, "$", 1);
	val = env_get(config, name, len);
	return val ? buf_append(out, val, strlen(val)) : 0;
}

/* Split (or, with whole, take as one word) s into words: quotes removed,
 * escapes and variables (when expand) applied. */
static int split_words(json_t *config, const char *s, bool expand, bool whole, struct words *w)
{
	struct buf cur = BUF_INIT(WORD_MAX);
	bool in_word = false;
	char quote = 0;
	int r = 0;

	for (const char *p = s; r == 0;) {
		char c = *p;
		if (!c || (!quote && !whole && isspace((unsigned char)c))) {
			if (in_word) {
				if (w->n == WORDS_MAX) {
					r = -1;
					break;
				}
				w->v[w->n++] = buf_detach(&cur, NULL);
				in_word = false;
			}
			if (!c)
				break;
			p++;
			continue;
		}
		in_word = true;
		p++;
		if (quote == c) {
			quote = 0;
		} else if (!quote && (c == '\'' || c == '"')) {
			quote = c;
		} else if (c == '\\' && quote != '\'' && *p) {
			r = buf_append(&cur, p++, 1);
		} else if (c == '$' && expand && quote != '\'') {
			r = expand_var(config, &p, &cur);
		} else {
			r = buf_append(&cur, &c, 1);
		}
	}
	buf_release(&cur);
	if (r == 0 && quote)
		r = -1;
	if (r < 0)
		words_release(w);
	return r;
}

/* ---- fields ---- */

static int env_set(json_t *config, const char *name, const char *value)
{
	json_t *env = json_object_get(config, "Env"), *e;
	size_t len = strlen(name), i;
	cleanup_free char *entry = NULL;

	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return -1;
	if (!json_is_array(env)) {
		env = json_array();
		if (!env || json_object_set_new(config, "Env", env) < 0)
			return -1;
	}
	json_array_foreach(env, i, e)
	{
		const char *s = json_string_value(e);
		if (s && !strncmp(s, name, len) && s[len] == '=')
			return json_array_set_new(env, i, json_string(entry));
	}
	return json_array_append_new(env, json_string(entry));
}

static int object_add(json_t *config, const char *key, const char *name, json_t *value)
{
	json_t *obj = json_object_get(config, key);

	if (!json_is_object(obj)) {
		obj = json_object();
		if (!obj || json_object_set_new(config, key, obj) < 0) {
			json_decref(value);
			return -1;
		}
	}
	return json_object_set_new(obj, name, value);
}

/* ---- instructions ---- */

struct change {
	struct config_edit *ed;
	const char *line; /* for messages */
	const char *args; /* after the keyword */
};

static int bad(struct sk_err *err, const struct change *c, const char *why)
{
	return err_set(err, 0, "invalid change '%s': %s", c->line, why);
}

/* ["a","b"] (exec form) or NULL (shell form). */
static json_t *exec_form(const char *args)
{
	json_t *v = args[0] == '[' ? json_loads(args, JSON_DECODE_ANY, NULL) : NULL;
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		json_decref(v);
		return NULL;
	}
	json_array_foreach(v, i, e) if (!json_is_string(e))
	{
		json_decref(v);
		return NULL;
	}
	return v;
}

static int do_command(const struct change *c, const char *key, struct sk_err *err)
{
	json_t *v = exec_form(c->args);

	if (!v && !c->args[0])
		return bad(err, c, "needs a command");
	if (!v)
		v = json_pack("[s,s,s]", "/bin/sh", "-c", c->args);
	if (!v || json_object_set_new(c->ed->config, key, v) < 0)
		return err_set(err, ENOMEM, "invalid change '%s'", c->line);
	if (!strcmp(key, "Cmd"))
		c->ed->cmd_set = true;
	else if (!c->ed->cmd_set)
		json_object_set_new(c->ed->config, "Cmd", json_null());
	return 0;
}

/* ENV/LABEL: k=v pairs, or the old "k v" form. */
static int do_pairs(const struct change *c, bool env, struct sk_err *err)
{
	json_t *cfg = c->ed->config;
	struct words w = {.n = 0};
	int r = 0;

	if (split_words(cfg, c->args, true, false, &w) < 0 || w.n == 0)
		return bad(err, c, "needs NAME=VALUE");
	if (!strchr(w.v[0], '=')) {
		const char *rest = c->args + strspn(c->args, " \t");
		struct words val = {.n = 0};
		rest += strcspn(rest, " \t");
		rest += strspn(rest, " \t");
		if (w.n < 2 || split_words(cfg, rest, true, true, &val) < 0 || val.n != 1) {
			words_release(&w);
			words_release(&val);
			return bad(err, c, "needs NAME=VALUE or NAME VALUE");
		}
		r = env ? env_set(cfg, w.v[0], val.v[0])
			: object_add(cfg, "Labels", w.v[0], json_string(val.v[0]));
		words_release(&val);
	} else {
		for (size_t i = 0; r == 0 && i < w.n; i++) {
			char *eq = strchr(w.v[i], '=');
			if (!eq || eq == w.v[i]) {
				r = -2;
				break;
			}
			*eq = '\0';
			r = env ? env_set(cfg, w.v[i], eq + 1)
				: object_add(cfg, "Labels", w.v[i], json_string(eq + 1));
		}
	}
	words_release(&w);
	if (r == -2)
		return bad(err, c, "each word must be NAME=VALUE");
	return r < 0 ? err_set(err, ENOMEM, "invalid change '%s'", c->line) : 0;
}

static bool port_ok(const char *s, size_t len)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

/* "80", "53/udp", "8000-8002/tcp" -> each port as "N/proto". */
static int expose_one(json_t *cfg, const char *word)
{
	const char *slash = strchr(word, '/'), *dash;
	const char *proto = slash ? slash + 1 : "tcp";
	size_t len = slash ? (size_t)(slash - word) : strlen(word);
	unsigned long lo, hi;
	char key[32];

	if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))
		return -1;
	dash = memchr(word, '-', len);
	if (dash ? !port_ok(word, (size_t)(dash - word)) ||
		       !port_ok(dash + 1, len - (size_t)(dash - word) - 1)
		 : !port_ok(word, len))
		return -1;
	lo = strtoul(word, NULL, 10);
	hi = dash ? strtoul(dash + 1, NULL, 10) : lo;
	if (hi < lo)
		return -1;
	for (unsigned long p = lo; p <= hi; p++) {
		char lower[8];
		snprintf(lower, sizeof(lower), "%.7s", proto);
		for (char *q = lower; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		snprintf(key, sizeof(key), "%lu/%s", p, lower);
		if (object_add(cfg, "ExposedPorts", key, json_object()) < 0)
			return -2;
	}
	return 0;
}

static int do_expose(const struct change *c, struct sk_err *err)
{
	struct words w = {.n = 0};
	int r = 0;

	if (split_words(c->ed->config, c->args, true, false, &w) < 0 || w.n == 0)
		return bad(err, c, "needs a port");
	for (size_t i = 0; r == 0 && i < w.n; i++)
		r = expose_one(c->ed->config, w.v[i]);
	words_release(&w);
	return r < 0 ? bad(err, c, "invalid port (want PORT[-PORT][/tcp|udp|sctp])") : 0;
}

/* One word, variables expanded. */
static int single(const struct change *c, char **out, struct sk_err *err)
{
	struct words w = {.n = 0};

	if (split_words(c->ed->config, c->args, true, true, &w) < 0 || w.n != 1 || !w.v[0][0]) {
		words_release(&w);
		return bad(err, c, "needs one argument");
	}
	*out = w.v[0];
	return 0;
}

/* Lexical clean-up of an absolute path: no "", "." or ".." components. */
static void path_clean(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *end = strchrnul(in + (*in == '/'), '/');
		size_t n = (size_t)(end - in);
		if (*in == '/') {
			in++;
			n--;
		}
		if (n == 0 || (n == 1 && in[0] == '.')) {
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in += n;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

static int do_workdir(const struct change *c, struct sk_err *err)
{
	cleanup_free char *dir = NULL, *full = NULL;
	const char *cur = json_string_value(json_object_get(c->ed->config, "WorkingDir"));

	if (single(c, &dir, err) < 0)
		return -1;
	if (asprintf(&full, "%s/%s", dir[0] == '/' || !cur ? "" : cur, dir) < 0)
		return err_set(err, ENOMEM, "invalid change '%s'", c->line);
	path_clean(full);
	return json_object_set_new(c->ed->config, "WorkingDir", json_string(full)) < 0
		   ? err_set(err, ENOMEM, "invalid change '%s'", c->line)
		   : 0;
}

static int do_string(const struct change *c, const char *key, struct sk_err *err)
{
	cleanup_free char *v = NULL;

	if (single(c, &v, err) < 0)
		return -1;
	return json_object_set_new(c->ed->config, key, json_string(v)) < 0
		   ? err_set(err, ENOMEM, "invalid change '%s'", c->line)
		   : 0;
}

static int do_volume(const struct change *c, struct sk_err *err)
{
	json_t *v = exec_form(c->args), *e;
	struct words w = {.n = 0};
	size_t i;
	int r = 0;

	if (!v && split_words(c->ed->config, c->args, true, false, &w) < 0)
		return bad(err, c, "needs a path");
	if (!v && !(v = json_array()))
		return err_set(err, ENOMEM, "invalid change");
	for (i = 0; i < w.n; i++)
		json_array_append_new(v, json_string(w.v[i]));
	words_release(&w);
	if (json_array_size(v) == 0)
		r = bad(err, c, "needs a path");
	json_array_foreach(v, i, e) if (r == 0)
	{
		const char *path = json_string_value(e);
		if (!path[0])
			r = bad(err, c, "a volume path cannot be empty");
		else if (object_add(c->ed->config, "Volumes", path, json_object()) < 0)
			r = err_set(err, ENOMEM, "invalid change");
	}
	json_decref(v);
	return r;
}

int config_edit_apply(struct config_edit *ed, const char *line, struct sk_err *err)
{
	const char *p = line + strspn(line, " \t");
	size_t klen = strcspn(p, " \t");
	struct change c = {.ed = ed, .line = line};
	char key[16];

	if (klen == 0 || klen >= sizeof(key))
		return err_set(err, 0, "invalid change '%s': no instruction", line);
	for (size_t i = 0; i < klen; i++)
		key[i] = (char)toupper((unsigned char)p[i]);
	key[klen] = '\0';
	c.args = p + klen + strspn(p + klen, " \t");
	if (!strcmp(key, "CMD"))
		return do_command(&c, "Cmd", err);
	if (!strcmp(key, "ENTRYPOINT"))
		return do_command(&c, "Entrypoint", err);
	if (!strcmp(key, "ENV"))
		return do_pairs(&c, true, err);
	if (!strcmp(key, "LABEL"))
		return do_pairs(&c, false, err);
	if (!strcmp(key, "EXPOSE"))
		return do_expose(&c, err);
	if (!strcmp(key, "WORKDIR"))
		return do_workdir(&c, err);
	if (!strcmp(key, "USER"))
		return do_string(&c, "User", err);
	if (!strcmp(key, "STOPSIGNAL"))
		return do_string(&c, "StopSignal", err);
	if (!strcmp(key, "VOLUME"))
		return do_volume(&c, err);
	return err_set(err, 0,
		       "invalid change '%s': %s is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
		       "STOPSIGNAL, USER, VOLUME, WORKDIR",
		       line, key);
}

/*
 * The image configuration blob (docker / OCI image config JSON): the platform, the
 * process defaults `run` starts from (Env, Entrypoint, Cmd, WorkingDir, User,
 * ExposedPorts, StopSignal) and the layer diff_ids. It comes from a registry or a
 * tarball: counts and lengths are capped, duplicate keys refused, and every diff_id
 * is checked because it names a directory of the store.
 */
#include "image/image_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "util/cleanup.h"

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* A copy of string v (at most max bytes); what names it in errors. */
static int dup_string(json_t *v, size_t max, const char *what, char **out, struct sk_err *err)
{
	if (!json_is_string(v))
		return err_set(err, 0, "invalid image config: %s is not a string", what);
	if (json_string_length(v) > max)
		return err_set(err, 0, "invalid image config: %s is longer than %zu bytes", what,
			       max);
	*out = strdup(json_string_value(v));
	if (!*out)
		return err_set(err, ENOMEM, "cannot parse image config");
	return 0;
}

/* obj[key] as a new string; NULL when absent or null. */
static int get_opt_string(json_t *obj, const char *key, size_t max, char **out, struct sk_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	return dup_string(v, max, key, out, err);
}

/* obj[key] copied into a fixed field; "" when absent or null. */
static int get_fixed_string(json_t *obj, const char *key, char *dst, size_t len, struct sk_err *err)
{
	json_t *v = json_object_get(obj, key);

	dst[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, 0, "invalid image config: '%s' is not a string", key);
	if (json_string_length(v) >= len)
		return err_set(err, 0, "invalid image config: '%s' is too long", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* A NULL-terminated copy of an array of strings, or of a single string (docker's
 * strslice accepts both). */
static int parse_strv(json_t *v, size_t max_n, const char *what, char ***out, struct sk_err *err)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	char **strv;

	if (!json_is_array(v) && !json_is_string(v))
		return err_set(err, 0, "invalid image config: '%s' is not a list of strings", what);
	if (n > max_n)
		return err_set(err, 0, "invalid image config: '%s' has %zu entries, more than %zu",
			       what, n, max_n);
	strv = calloc(n + 1, sizeof(*strv));
	if (!strv)
		return err_set(err, ENOMEM, "cannot parse image config");
	*out = strv;
	if (!json_is_array(v))
		return dup_string(v, IMAGE_CONFIG_MAX_STRING, what, &strv[0], err);
	for (size_t i = 0; i < n; i++)
		if (dup_string(json_array_get(v, i), IMAGE_CONFIG_MAX_STRING, what, &strv[i], err) <
		    0)
			return -1;
	return 0;
}

/* obj[key] as a list; NULL when absent or null. */
static int get_opt_strv(json_t *obj, const char *key, size_t max_n, char ***out, struct sk_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	return parse_strv(v, max_n, key, out, err);
}

static int parse_env(json_t *cfg, struct image_config *out, struct sk_err *err)
{
	if (get_opt_strv(cfg, "Env", IMAGE_CONFIG_MAX_ENV, &out->env, err) < 0)
		return -1;
	if (!out->env) {
		out->env = calloc(1, sizeof(*out->env));
		if (!out->env)
			return err_set(err, ENOMEM, "cannot parse image config");
	}
	for (char **e = out->env; *e; e++) {
		/* the run path splits on '=': a nameless entry would set nothing */
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e)
			return err_set(err, 0,
				       "invalid image config: Env entry '%.100s' is not "
				       "NAME=VALUE",
				       *e);
	}
	return 0;
}

/* ExposedPorts is an object whose keys ("80/tcp") are the ports. */
static int parse_ports(json_t *cfg, struct image_config *out, struct sk_err *err)
{
	json_t *ports = json_object_get(cfg, "ExposedPorts");
	const char *key;
	json_t *value;
	size_t i = 0;

	if (!ports || json_is_null(ports))
		return 0;
	if (!json_is_object(ports))
		return err_set(err, 0, "invalid image config: 'ExposedPorts' is not an object");
	if (json_object_size(ports) > IMAGE_CONFIG_MAX_PORTS)
		return err_set(err, 0, "invalid image config: more than %d ExposedPorts",
			       IMAGE_CONFIG_MAX_PORTS);
	out->exposed_ports = calloc(json_object_size(ports) + 1, sizeof(char *));
	if (!out->exposed_ports)
		return err_set(err, ENOMEM, "cannot parse image config");
	json_object_foreach(ports, key, value)
	{
		if (strlen(key) > IMAGE_CONFIG_MAX_SHORT)
			return err_set(err, 0,
				       "invalid image config: an ExposedPorts key is too "
				       "long");
		out->exposed_ports[i] = strdup(key);
		if (!out->exposed_ports[i++])
			return err_set(err, ENOMEM, "cannot parse image config");
	}
	return 0;
}

/* Volumes is an object whose keys ("/data") are the image's VOLUME entries. */
static int parse_volumes(json_t *cfg, struct image_config *out, struct sk_err *err)
{
	json_t *volumes = json_object_get(cfg, "Volumes");
	const char *key;
	json_t *value;
	size_t i = 0;

	if (!volumes || json_is_null(volumes))
		return 0;
	if (!json_is_object(volumes))
		return err_set(err, 0, "invalid image config: 'Volumes' is not an object");
	if (json_object_size(volumes) > IMAGE_CONFIG_MAX_VOLUMES)
		return err_set(err, 0, "invalid image config: more than %d Volumes",
			       IMAGE_CONFIG_MAX_VOLUMES);
	out->volumes = calloc(json_object_size(volumes) + 1, sizeof(char *));
	if (!out->volumes)
		return err_set(err, ENOMEM, "cannot parse image config");
	json_object_foreach(volumes, key, value)
	{
		if (strlen(key) > IMAGE_CONFIG_MAX_SHORT)
			return err_set(err, 0, "invalid image config: a Volumes key is too long");
		out->volumes[i] = strdup(key);
		if (!out->volumes[i++])
			return err_set(err, ENOMEM, "cannot parse image config");
	}
	return 0;
}

/* Labels: an object of strings, as "K=V" (for the container's Config.Labels,
 * which docker merges from the image's). A value that is not a string is
 * left out rather than refused: no run should fail over a label. */
static int parse_labels(json_t *cfg, struct image_config *out, struct sk_err *err)
{
	json_t *labels = json_object_get(cfg, "Labels"), *value;
	const char *key;
	size_t i = 0;

	if (!json_is_object(labels))
		return 0;
	/* no cap of their own: the blob's (IMAGE_CONFIG_MAX_BYTES) bounds them */
	out->labels = calloc(json_object_size(labels) + 1, sizeof(char *));
	if (!out->labels)
		return err_set(err, ENOMEM, "cannot parse image config");
	json_object_foreach(labels, key, value)
	{
		if (!json_is_string(value))
			continue;
		if (asprintf(&out->labels[i], "%s=%s", key, json_string_value(value)) < 0) {
			out->labels[i] = NULL;
			return err_set(err, ENOMEM, "cannot parse image config");
		}
		i++;
	}
	return 0;
}

/* config: the process defaults; absent or null in minimal images. */
static int parse_process(json_t *cfg, struct image_config *out, struct sk_err *err)
{
	if (cfg && !json_is_null(cfg) && !json_is_object(cfg))
		return err_set(err, 0, "invalid image config: 'config' is not an object");
	if (parse_env(cfg, out, err) < 0)
		return -1;
	if (get_opt_strv(cfg, "Entrypoint", IMAGE_CONFIG_MAX_ARGS, &out->entrypoint, err) < 0 ||
	    get_opt_strv(cfg, "Cmd", IMAGE_CONFIG_MAX_ARGS, &out->cmd, err) < 0)
		return -1;
	if (get_opt_string(cfg, "WorkingDir", IMAGE_CONFIG_MAX_SHORT, &out->working_dir, err) < 0 ||
	    get_opt_string(cfg, "User", IMAGE_CONFIG_MAX_SHORT, &out->user, err) < 0 ||
	    get_opt_string(cfg, "StopSignal", IMAGE_CONFIG_MAX_SHORT, &out->stop_signal, err) < 0)
		return -1;
	if (parse_labels(cfg, out, err) < 0 || parse_volumes(cfg, out, err) < 0)
		return -1;
	return parse_ports(cfg, out, err);
}

static int parse_diff_ids(json_t *ids, struct image_config *out, struct sk_err *err)
{
	size_t n = json_array_size(ids);

	if (!json_is_array(ids))
		return err_set(err, 0,
			       "invalid image config: 'rootfs.diff_ids' is missing or "
			       "not an array");
	if (n > MANIFEST_MAX_LAYERS)
		return err_set(err, 0,
			       "invalid image config: %zu diff_ids, more than the %d "
			       "allowed",
			       n, MANIFEST_MAX_LAYERS);
	out->diff_ids = calloc(n + 1, sizeof(char *));
	if (!out->diff_ids)
		return err_set(err, ENOMEM, "cannot parse image config");
	for (size_t i = 0; i < n; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		if (!id || !digest_is_valid(id))
			return err_set(err, 0,
				       "invalid image config: diff_ids[%zu] '%.100s' is "
				       "not a valid sha256 digest",
				       i, id ? id : "(not a string)");
		out->diff_ids[i] = strdup(id);
		if (!out->diff_ids[i])
			return err_set(err, ENOMEM, "cannot parse image config");
		out->n_diff_ids++;
	}
	return 0;
}

static int parse_rootfs(json_t *rootfs, struct image_config *out, struct sk_err *err)
{
	json_t *type = json_object_get(rootfs, "type");

	if (!json_is_object(rootfs))
		return err_set(err, 0,
			       "invalid image config: 'rootfs' is missing or not an "
			       "object");
	if (!json_is_string(type) || strcmp(json_string_value(type), "layers") != 0)
		return err_set(err, 0,
			       "invalid image config: rootfs type '%.64s' is not "
			       "\"layers\"",
			       json_is_string(type) ? json_string_value(type) : "");
	return parse_diff_ids(json_object_get(rootfs, "diff_ids"), out, err);
}

static int parse_platform_fields(json_t *root, struct platform *p, struct sk_err *err)
{
	if (get_fixed_string(root, "os", p->os, sizeof(p->os), err) < 0 ||
	    get_fixed_string(root, "architecture", p->arch, sizeof(p->arch), err) < 0 ||
	    get_fixed_string(root, "variant", p->variant, sizeof(p->variant), err) < 0)
		return -1;
	platform_normalize(p);
	return 0;
}

static int parse_root(json_t *root, struct image_config *out, struct sk_err *err)
{
	if (parse_platform_fields(root, &out->platform, err) < 0)
		return -1;
	if (get_fixed_string(root, "created", out->created, sizeof(out->created), err) < 0)
		return -1;
	if (parse_process(json_object_get(root, "config"), out, err) < 0)
		return -1;
	return parse_rootfs(json_object_get(root, "rootfs"), out, err);
}

int image_config_parse(const char *data, size_t len, struct image_config *out, struct sk_err *err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;

	memset(out, 0, sizeof(*out));
	if (!data || len == 0)
		return err_set(err, 0, "invalid image config: empty");
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(err, 0, "invalid image config JSON: %s (line %d, column %d)",
			       jerr.text, jerr.line, jerr.column);
	if (!json_is_object(root))
		return err_set(err, 0, "invalid image config: not a JSON object");
	if (parse_root(root, out, err) < 0) {
		image_config_release(out);
		return -1;
	}
	return 0;
}

void image_config_release(struct image_config *c)
{
	if (!c)
		return;
	strv_free(c->env);
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->diff_ids);
	strv_free(c->exposed_ports);
	strv_free(c->volumes);
	strv_free(c->labels);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	memset(c, 0, sizeof(*c));
}

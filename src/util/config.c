/*
 * skiff's settings, in layers where the later wins: built-in defaults, the
 * system file (/etc/skiff/config.json, or $SKIFF_CONFIG for tests), the
 * per-user file ($XDG_CONFIG_HOME/skiff/config.json or ~/.config/skiff/...),
 * then the environment. A key present in a later file replaces the earlier
 * value (lists included); command-line flags then append to the lists.
 * Also answers "may this registry be spoken to over plain HTTP?".
 */
#include "util/config.h"

#define CONFIG_DEFAULT_PIDS_LIMIT 2048

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define SYSTEM_CONFIG "/etc/skiff/config.json"
#define CONFIG_FILE_MAX (1u << 20)
#define MAX_DOWNLOADS_LIMIT 64
#define ENTRY_MAX 1024

static inline void cleanup_json_decrefp(json_t **j)
{
	json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(cleanup_json_decrefp)))

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return home;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* $VAR/suffix when VAR is set and absolute (as the XDG spec asks), else ~/fallback/suffix. */
static void xdg_path(char *out, size_t len, const char *var, const char *fallback,
		     const char *suffix)
{
	const char *v = getenv(var);

	if (v && v[0] == '/')
		snprintf(out, len, "%s/%s", v, suffix);
	else
		snprintf(out, len, "%s/%s/%s", home_dir(), fallback, suffix);
}

static void set_defaults(struct sk_config *cfg)
{
	const char *dc = getenv("DOCKER_CONFIG");

	memset(cfg, 0, sizeof(*cfg));
	cfg->rootless = geteuid() != 0;
	if (cfg->rootless)
		xdg_path(cfg->root, sizeof(cfg->root), "XDG_DATA_HOME", ".local/share", "skiff");
	else
		snprintf(cfg->root, sizeof(cfg->root), "/var/lib/skiff");
	snprintf(cfg->certs_dir, sizeof(cfg->certs_dir), "/etc/docker/certs.d");
	if (dc && *dc)
		snprintf(cfg->docker_config_dir, sizeof(cfg->docker_config_dir), "%s", dc);
	else
		snprintf(cfg->docker_config_dir, sizeof(cfg->docker_config_dir), "%s/.docker",
			 home_dir());
	cfg->max_concurrent_downloads = 3;
	cfg->default_pids_limit = CONFIG_DEFAULT_PIDS_LIMIT;
}

static void free_list(char **list, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	*n = 0;
}

void config_release(struct sk_config *cfg)
{
	free(cfg->bip);
	cfg->bip = NULL;
	free_list(cfg->registry_mirrors, &cfg->n_registry_mirrors);
	free_list(cfg->insecure_registries, &cfg->n_insecure_registries);
}

static int list_add(char **list, size_t *n, const char *what, const char *value,
		    struct sk_err *err)
{
	if (*n >= CONFIG_MAX_LIST)
		return err_set(err, 0, "too many %s (at most %d)", what, CONFIG_MAX_LIST);
	if (strlen(value) == 0 || strlen(value) > ENTRY_MAX)
		return err_set(err, 0, "invalid %s entry '%.64s'", what, value);
	list[*n] = strdup(value);
	if (!list[*n])
		return err_set(err, ENOMEM, "cannot add %s '%s'", what, value);
	(*n)++;
	return 0;
}

int config_add_mirror(struct sk_config *cfg, const char *url, struct sk_err *err)
{
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return err_set(err, 0, "invalid registry mirror '%s': must start with https:// or "
				       "http://", url);
	return list_add(cfg->registry_mirrors, &cfg->n_registry_mirrors, "registry mirrors", url,
			err);
}

int config_add_insecure(struct sk_config *cfg, const char *host, struct sk_err *err)
{
	/* docker wants host[:port] or a CIDR; tolerate a scheme and a trailing slash. */
	char clean[ENTRY_MAX + 1];
	const char *p = host;
	size_t n;

	if (!strncmp(p, "https://", 8))
		p += 8;
	else if (!strncmp(p, "http://", 7))
		p += 7;
	n = strlen(p);
	if (n > ENTRY_MAX)
		return err_set(err, 0, "invalid insecure registry '%.64s': too long", host);
	if (n > 0 && p[n - 1] == '/')
		n--;
	snprintf(clean, sizeof(clean), "%.*s", (int)n, p);
	return list_add(cfg->insecure_registries, &cfg->n_insecure_registries,
			"insecure registries", clean, err);
}

/* ---- files ------------------------------------------------------------------ */

typedef int (*add_fn)(struct sk_config *cfg, const char *value, struct sk_err *err);

static int load_string_list(struct sk_config *cfg, json_t *root, const char *key, const char *path,
			    char **list, size_t *n, add_fn add, struct sk_err *err)
{
	json_t *arr = json_object_get(root, key);
	json_t *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return err_set(err, 0, "malformed '%s': \"%s\" must be an array of strings", path,
			       key);
	free_list(list, n); /* a later file replaces the list */
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return err_set(err, 0, "malformed '%s': \"%s\" must be an array of strings",
				       path, key);
		if (add(cfg, json_string_value(v), err) < 0)
			return err_wrap(err, "in '%s'", path);
	}
	return 0;
}

/* The store: docker's "data-root", or "root", skiff's older name for it. */
static int load_root(struct sk_config *cfg, json_t *root, const char *path, struct sk_err *err)
{
	json_t *data_root = json_object_get(root, "data-root");
	json_t *v = data_root ? data_root : json_object_get(root, "root");
	const char *key = data_root ? "data-root" : "root";
	const char *s;

	if (!v)
		return 0;
	s = json_string_value(v);
	if (!s || s[0] != '/' || strlen(s) >= sizeof(cfg->root))
		return err_set(err, 0, "malformed '%s': \"%s\" must be an absolute path", path, key);
	if (data_root && json_object_get(root, "root") &&
	    !json_equal(data_root, json_object_get(root, "root")))
		return err_set(err, 0, "malformed '%s': \"data-root\" and \"root\" name different "
				       "stores", path);
	snprintf(cfg->root, sizeof(cfg->root), "%s", s);
	return 0;
}

static int load_max_downloads(struct sk_config *cfg, json_t *root, const char *path,
			      struct sk_err *err)
{
	json_t *v = json_object_get(root, "max-concurrent-downloads");
	json_int_t n;

	if (!v)
		return 0;
	n = json_integer_value(v);
	if (!json_is_integer(v) || n < 1 || n > MAX_DOWNLOADS_LIMIT)
		return err_set(err, 0,
			       "malformed '%s': \"max-concurrent-downloads\" must be an integer "
			       "from 1 to %d",
			       path, MAX_DOWNLOADS_LIMIT);
	cfg->max_concurrent_downloads = (int)n;
	return 0;
}

/* A fork bomb must not take the host's pids: podman's default, 2048. */
static int load_default_pids_limit(struct sk_config *cfg, json_t *root, const char *path,
				   struct sk_err *err)
{
	json_t *v = json_object_get(root, "default-pids-limit");

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < -1)
		return err_set(err, 0,
			       "malformed '%s': \"default-pids-limit\" must be an integer "
			       "(0 or -1: no limit)",
			       path);
	cfg->default_pids_limit = json_integer_value(v) > 0 ? json_integer_value(v) : 0;
	return 0;
}

/* docker's "bip": the default bridge's address and prefix ("172.20.0.1/16"),
 * checked when the bridge is made (net/ipam.c). */
static int load_bip(struct sk_config *cfg, json_t *root, const char *path, struct sk_err *err)
{
	json_t *v = json_object_get(root, "bip");

	if (!v)
		return 0;
	if (!json_is_string(v))
		return err_set(err, 0, "malformed '%s': \"bip\" must be a string", path);
	free(cfg->bip);
	cfg->bip = strdup(json_string_value(v));
	if (!cfg->bip)
		return err_set(err, ENOMEM, "cannot read '%s'", path);
	return 0;
}

/* docker's "mtu": the MTU of the bridge network's veths and bridge. */
static int load_mtu(struct sk_config *cfg, json_t *root, const char *path, struct sk_err *err)
{
	json_t *v = json_object_get(root, "mtu");

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 68 || json_integer_value(v) > 65535)
		return err_set(err, 0, "malformed '%s': \"mtu\" must be an integer from 68 to 65535",
			       path);
	cfg->mtu = (unsigned)json_integer_value(v);
	return 0;
}

/* docker's "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}],
 * where user networks' subnets (and the default bridge's, without "bip")
 * are carved from, in order. */
static int load_address_pools(struct sk_config *cfg, json_t *root, const char *path,
			      struct sk_err *err)
{
	json_t *v = json_object_get(root, "default-address-pools"), *p;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > CONFIG_MAX_POOLS)
		return err_set(err, 0, "malformed '%s': \"default-address-pools\" must be a list of "
				       "at most %d {\"base\": CIDR, \"size\": N}", path,
			       CONFIG_MAX_POOLS);
	cfg->n_address_pools = 0;
	json_array_foreach(v, i, p) {
		const char *base = json_string_value(json_object_get(p, "base"));
		json_t *size = json_object_get(p, "size");

		if (!base || !json_is_integer(size) ||
		    ipam_parse_pool(base, (int)json_integer_value(size),
				    &cfg->address_pools[cfg->n_address_pools], err) < 0)
			return err_set(err, 0, "malformed '%s': invalid entry %zu of "
					       "\"default-address-pools\"%s%s", path, i,
				       err->msg[0] ? ": " : "", err->msg);
		cfg->n_address_pools++;
	}
	return 0;
}

/* docker's "storage-driver": overlay2 (the default) or vfs (a copy of the
 * layers per container: slow, but works where overlayfs does not). */
static int set_storage_driver(struct sk_config *cfg, const char *s, const char *where,
			      struct sk_err *err)
{
	if (!strcmp(s, "overlay2") || !strcmp(s, "overlay"))
		cfg->storage_vfs = false;
	else if (!strcmp(s, "vfs"))
		cfg->storage_vfs = true;
	else
		return err_set(err, 0, "%s: storage driver \"%s\" is not supported (overlay2, vfs)",
			       where, s);
	return 0;
}

static int load_storage_driver(struct sk_config *cfg, json_t *root, const char *path,
			       struct sk_err *err)
{
	json_t *v = json_object_get(root, "storage-driver");

	if (!v)
		return 0;
	if (!json_is_string(v))
		return err_set(err, 0, "malformed '%s': \"storage-driver\" must be a string", path);
	return set_storage_driver(cfg, json_string_value(v), path, err);
}

/* docker's "no-new-privileges": every container as with --security-opt
 * no-new-privileges (setuid binaries then raise nothing); off by default. */
static int load_no_new_privileges(struct sk_config *cfg, json_t *root, const char *path,
				  struct sk_err *err)
{
	json_t *v = json_object_get(root, "no-new-privileges");

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return err_set(err, 0,
			       "malformed '%s': \"no-new-privileges\" must be true or false", path);
	cfg->no_new_privileges = json_is_true(v);
	return 0;
}

/* docker's "default-cgroupns-mode": "private" or "host" (--cgroupns). */
static int load_cgroupns_mode(struct sk_config *cfg, json_t *root, const char *path,
			      struct sk_err *err)
{
	const char *v = json_string_value(json_object_get(root, "default-cgroupns-mode"));

	if (!json_object_get(root, "default-cgroupns-mode"))
		return 0;
	if (!v || (strcmp(v, "host") != 0 && strcmp(v, "private") != 0))
		return err_set(err, 0, "malformed '%s': \"default-cgroupns-mode\" must be "
				       "\"private\" or \"host\"",
			       path);
	cfg->cgroupns_host = !strcmp(v, "host");
	return 0;
}

/* "detachKeys", as in docker's ~/.docker/config.json: the keys that detach
 * from an attached terminal ("ctrl-p,ctrl-q"); checked when used. */
static int load_detach_keys(struct sk_config *cfg, json_t *root, const char *path,
			    struct sk_err *err)
{
	json_t *v = json_object_get(root, "detachKeys");

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= sizeof(cfg->detach_keys))
		return err_set(err, 0, "malformed '%s': \"detachKeys\" must be a short string",
			       path);
	snprintf(cfg->detach_keys, sizeof(cfg->detach_keys), "%s", json_string_value(v));
	return 0;
}

static int apply_json(struct sk_config *cfg, json_t *root, const char *path, struct sk_err *err)
{
	if (!json_is_object(root))
		return err_set(err, 0, "malformed '%s': not a JSON object", path);
	if (load_root(cfg, root, path, err) < 0 || load_max_downloads(cfg, root, path, err) < 0 ||
	    load_default_pids_limit(cfg, root, path, err) < 0 || load_bip(cfg, root, path, err) < 0 ||
	    load_mtu(cfg, root, path, err) < 0 || load_address_pools(cfg, root, path, err) < 0 ||
	    load_storage_driver(cfg, root, path, err) < 0 ||
	    load_no_new_privileges(cfg, root, path, err) < 0 ||
	    load_cgroupns_mode(cfg, root, path, err) < 0)
		return -1;
	if (load_detach_keys(cfg, root, path, err) < 0)
		return -1;
	if (load_string_list(cfg, root, "registry-mirrors", path, cfg->registry_mirrors,
			     &cfg->n_registry_mirrors, config_add_mirror, err) < 0)
		return -1;
	return load_string_list(cfg, root, "insecure-registries", path, cfg->insecure_registries,
				&cfg->n_insecure_registries, config_add_insecure, err);
}

/* A missing file is fine; an unreadable or malformed one is an error naming it. */
static int load_file(struct sk_config *cfg, const char *path, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(CONFIG_FILE_MAX);
	cleanup_json json_t *root = NULL;
	json_error_t jerr;

	if (fs_read_file(AT_FDCWD, path, CONFIG_FILE_MAX, &b, err) < 0) {
		if (err->errnum == ENOENT || err->errnum == ENOTDIR) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	root = json_loadb(b.data, b.len, 0, &jerr);
	if (!root)
		return err_set(err, 0, "malformed '%s' line %d: %s", path, jerr.line, jerr.text);
	return apply_json(cfg, root, path, err);
}

/* ---- environment ------------------------------------------------------------- */

static int load_env_mirrors(struct sk_config *cfg, const char *list, struct sk_err *err)
{
	char item[ENTRY_MAX + 1];
	const char *p = list;

	free_list(cfg->registry_mirrors, &cfg->n_registry_mirrors);
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *s = p;
		size_t len = n;

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len > ENTRY_MAX)
			return err_set(err, 0, "SKIFF_REGISTRY_MIRROR: entry too long");
		if (len) {
			snprintf(item, sizeof(item), "%.*s", (int)len, s);
			if (config_add_mirror(cfg, item, err) < 0)
				return err_wrap(err, "SKIFF_REGISTRY_MIRROR");
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int load_env(struct sk_config *cfg, struct sk_err *err)
{
	const char *v;

	v = getenv("SKIFF_ROOT");
	if (v && *v) {
		if (strlen(v) >= sizeof(cfg->root))
			return err_set(err, ENAMETOOLONG, "SKIFF_ROOT");
		snprintf(cfg->root, sizeof(cfg->root), "%s", v);
	}
	v = getenv("SKIFF_CERTS_DIR");
	if (v && *v)
		snprintf(cfg->certs_dir, sizeof(cfg->certs_dir), "%s", v);
	v = getenv("SKIFF_STORAGE_DRIVER");
	if (v && *v && set_storage_driver(cfg, v, "SKIFF_STORAGE_DRIVER", err) < 0)
		return -1;
	v = getenv("SKIFF_REGISTRY_MIRROR");
	if (v && *v)
		return load_env_mirrors(cfg, v, err);
	return 0;
}

int config_load(struct sk_config *cfg, struct sk_err *err)
{
	const char *sys = getenv("SKIFF_CONFIG");
	char user[4200];

	set_defaults(cfg);
	if (load_file(cfg, sys && *sys ? sys : SYSTEM_CONFIG, err) < 0)
		goto fail;
	xdg_path(user, sizeof(user), "XDG_CONFIG_HOME", ".config", "skiff/config.json");
	if (load_file(cfg, user, err) < 0)
		goto fail;
	if (load_env(cfg, err) < 0)
		goto fail;
	return 0;
fail:
	config_release(cfg);
	return -1;
}

/* ---- insecure registries ----------------------------------------------------- */

/* Splits "host:port", "[v6]:port", "[v6]", "host" or a bare "v6" into parts. */
static void split_hostport(const char *hp, char *host, size_t hlen, const char **port)
{
	const char *colon;

	*port = NULL;
	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');
		size_t n = close ? (size_t)(close - hp - 1) : strlen(hp + 1);
		snprintf(host, hlen, "%.*s", (int)n, hp + 1);
		if (close && close[1] == ':')
			*port = close + 2;
		return;
	}
	colon = strchr(hp, ':');
	if (colon && !strchr(colon + 1, ':')) {
		snprintf(host, hlen, "%.*s", (int)(colon - hp), hp);
		*port = colon + 1;
		return;
	}
	snprintf(host, hlen, "%s", hp);
}

static bool is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static bool prefix_matches(const unsigned char *a, const unsigned char *net, long bits)
{
	long full = bits / 8, rest = bits % 8;

	if (memcmp(a, net, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

/* host inside "a.b.c.d/n" (or an IPv6 CIDR)? */
static bool cidr_contains(const char *cidr, const char *host)
{
	char net[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	unsigned char n_addr[16], h_addr[16];
	char *end;
	long bits;
	int af;

	if (!slash || (size_t)(slash - cidr) >= sizeof(net))
		return false;
	snprintf(net, sizeof(net), "%.*s", (int)(slash - cidr), cidr);
	af = strchr(net, ':') ? AF_INET6 : AF_INET;
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || bits < 0 || bits > (af == AF_INET ? 32 : 128))
		return false;
	if (inet_pton(af, net, n_addr) != 1 || inet_pton(af, host, h_addr) != 1)
		return false;
	return prefix_matches(h_addr, n_addr, bits);
}

static bool entry_matches(const char *entry, const char *hostport, const char *host)
{
	char ehost[ENTRY_MAX + 1];
	const char *eport;

	if (strchr(entry, '/'))
		return cidr_contains(entry, host);
	if (!strcasecmp(entry, hostport))
		return true;
	split_hostport(entry, ehost, sizeof(ehost), &eport);
	return !eport && !strcasecmp(ehost, host); /* a bare host allows any port */
}

bool config_registry_is_insecure(const struct sk_config *cfg, const char *hostport)
{
	char host[ENTRY_MAX + 1];
	const char *port;

	if (!hostport || strlen(hostport) > ENTRY_MAX)
		return false;
	split_hostport(hostport, host, sizeof(host), &port);
	if (is_loopback(host))
		return true;
	for (size_t i = 0; i < cfg->n_insecure_registries; i++)
		if (entry_matches(cfg->insecure_registries[i], hostport, host))
			return true;
	return false;
}

/*
 * Registry authentication, the parts that need no network: WWW-Authenticate
 * challenges (RFC 7235), token-server replies, and credentials in docker's
 * config.json. All input here is untrusted (a registry's headers, a token
 * server's body, a file a user may have edited by hand): every field is
 * bounded and a malformed input is an error, never a crash or a truncation.
 */
#include "image/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"
#define CONFIG_FILE_MAX (4u << 20)
#define TOKEN_REPLY_MAX (1u << 20)
#define TOKEN_MAX (64u << 10)
#define TOKEN_MIN_LIFETIME 60
#define CRED_MAX 4096
#define HELPER_REPLY_MAX (64u << 10)
#define HELPER_SECRET_MAX (16u << 10)
#define IDENTITY_TOKEN_USER "<token>"

static inline void cleanup_json_decrefp(json_t **j)
{
	json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(cleanup_json_decrefp)))

/* ---- WWW-Authenticate ------------------------------------------------------ */

struct lexer {
	const char *p;
};

/* tchar from RFC 7230 */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(struct lexer *l)
{
	while (*l->p == ' ' || *l->p == '\t')
		l->p++;
}

static void skip_ows_and_commas(struct lexer *l)
{
	while (*l->p == ' ' || *l->p == '\t' || *l->p == ',')
		l->p++;
}

static size_t read_token(struct lexer *l, const char **start)
{
	*start = l->p;
	while (is_tchar(*l->p))
		l->p++;
	return (size_t)(l->p - *start);
}

/* Appends one byte to out (cap bytes, NUL kept); -1 when it would not fit. */
static int put_char(char *out, size_t cap, size_t *len, char c)
{
	if (*len + 1 >= cap)
		return -1;
	out[(*len)++] = c;
	out[*len] = '\0';
	return 0;
}

/* quoted-string = DQUOTE *( qdtext / "\" any ) DQUOTE. Returns 0, -1 malformed,
 * -2 too long for out (the rest is still consumed, so the caller can name it). */
static int read_quoted(struct lexer *l, char *out, size_t cap)
{
	size_t len = 0;
	int ret = 0;

	out[0] = '\0';
	l->p++; /* opening quote */
	for (;;) {
		char c = *l->p;
		if (c == '\0')
			return -1;
		l->p++;
		if (c == '"')
			return ret;
		if (c == '\\') {
			c = *l->p;
			if (c == '\0')
				return -1;
			l->p++;
		}
		if ((unsigned char)c < 0x20 && c != '\t')
			return -1;
		if (ret == 0 && put_char(out, cap, &len, c) < 0)
			ret = -2;
	}
}

static int read_value(struct lexer *l, char *out, size_t cap)
{
	const char *start;
	size_t n;

	if (*l->p == '"')
		return read_quoted(l, out, cap);
	n = read_token(l, &start);
	if (n == 0)
		return -1;
	if (n >= cap)
		return -2;
	memcpy(out, start, n);
	out[n] = '\0';
	return 0;
}

static enum auth_scheme scheme_from(const char *s, size_t n)
{
	if (n == 5 && !strncasecmp(s, "basic", 5))
		return AUTH_BASIC;
	if (n == 6 && !strncasecmp(s, "bearer", 6))
		return AUTH_BEARER;
	return AUTH_NONE;
}

/* Where a parameter's value goes, or NULL when skiff does not use it. */
static char *param_slot(struct auth_challenge *c, const char *name, size_t n, size_t *cap)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} slots[] = {
		{ "realm", offsetof(struct auth_challenge, realm), sizeof(c->realm) },
		{ "service", offsetof(struct auth_challenge, service), sizeof(c->service) },
		{ "scope", offsetof(struct auth_challenge, scope), sizeof(c->scope) },
		{ "error", offsetof(struct auth_challenge, error), sizeof(c->error) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(slots); i++) {
		if (strlen(slots[i].name) == n && !strncasecmp(slots[i].name, name, n)) {
			*cap = slots[i].cap;
			return (char *)c + slots[i].off;
		}
	}
	return NULL;
}

/* token68 ("Negotiate abc==") carries no parameters we use: skip it. */
static bool skip_token68(struct lexer *l)
{
	const char *q = l->p;

	while (*q == '=')
		q++;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '\0' && *q != ',')
		return false;
	l->p = q;
	return true;
}

/* Parses the auth-params following a scheme into c (NULL: parse and discard).
 * Stops at the end or before the next challenge's scheme. */
static int parse_params(struct lexer *l, struct auth_challenge *c, struct sk_err *err)
{
	char scratch[2048];

	for (;;) {
		const char *save = l->p, *name;
		size_t n, cap = sizeof(scratch);
		char *slot;
		int r;

		skip_ows_and_commas(l);
		if (*l->p == '\0')
			return 0;
		n = read_token(l, &name);
		if (n == 0)
			return err_set(err, 0, "malformed WWW-Authenticate header near '%.20s'",
				       l->p);
		skip_ows(l);
		if (*l->p != '=') {
			l->p = save; /* a new challenge starts here */
			return 0;
		}
		l->p++;
		if (skip_token68(l))
			continue;
		skip_ows(l);
		slot = c ? param_slot(c, name, n, &cap) : NULL;
		r = read_value(l, slot ? slot : scratch, slot ? cap : sizeof(scratch));
		if (r == -2 && slot)
			return err_set(err, 0, "WWW-Authenticate parameter '%.*s' is too long",
				       (int)n, name);
		if (r == -1)
			return err_set(err, 0, "malformed WWW-Authenticate parameter '%.*s'",
				       (int)n, name);
		skip_ows(l);
		if (*l->p != ',' && *l->p != '\0')
			return err_set(err, 0, "malformed WWW-Authenticate header near '%.20s'",
				       l->p);
	}
}

/* Among several challenges, Bearer is preferred (it is what registries mean
 * when they offer both), then Basic. */
int auth_parse_challenge(const char *header, struct auth_challenge *out, struct sk_err *err)
{
	struct lexer l = { header };
	struct auth_challenge cand;

	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *name;
		size_t n;
		enum auth_scheme s;

		skip_ows_and_commas(&l);
		if (*l.p == '\0')
			break;
		n = read_token(&l, &name);
		if (n == 0)
			return err_set(err, 0, "malformed WWW-Authenticate header near '%.20s'",
				       l.p);
		s = scheme_from(name, n);
		bool wanted = s != AUTH_NONE && (out->scheme == AUTH_NONE ||
						 (out->scheme == AUTH_BASIC && s == AUTH_BEARER));
		memset(&cand, 0, sizeof(cand));
		cand.scheme = s;
		if (parse_params(&l, wanted ? &cand : NULL, err) < 0)
			return -1;
		if (wanted)
			*out = cand;
	}
	if (out->scheme == AUTH_NONE)
		return err_set(err, 0,
			       "unsupported authentication scheme in WWW-Authenticate '%.60s'",
			       header);
	if (out->scheme == AUTH_BEARER && !out->realm[0])
		return err_set(err, 0, "bearer challenge without realm in WWW-Authenticate");
	return 0;
}

/* ---- config.json keys ------------------------------------------------------ */

static bool is_docker_hub(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

void auth_config_key(const char *registry_host, char *out, size_t len)
{
	snprintf(out, len, "%s", is_docker_hub(registry_host) ? DOCKER_HUB_KEY : registry_host);
}

/* "https://host:port/v1/" -> "host:port", as docker's ConvertToHostname; Docker
 * Hub's names all become "docker.io" so that any of them matches. */
static void key_to_host(const char *key, char *out, size_t len)
{
	const char *p = key;
	size_t n;

	if (!strncmp(p, "https://", 8))
		p += 8;
	else if (!strncmp(p, "http://", 7))
		p += 7;
	n = strcspn(p, "/");
	snprintf(out, len, "%.*s", (int)n, p);
	if (is_docker_hub(out))
		snprintf(out, len, "docker.io");
}

static bool key_matches(const char *key, const char *host)
{
	char a[512], b[512];

	key_to_host(key, a, sizeof(a));
	key_to_host(host, b, sizeof(b));
	return !strcmp(a, b);
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(".-:[]_", c));
}

int auth_server_host(const char *server, char *out, size_t len, struct sk_err *err)
{
	key_to_host(server, out, len);
	if (!out[0] || strlen(out) + 1 >= len)
		return err_set(err, 0, "invalid registry server '%.200s'", server);
	for (const char *c = out; *c; c++)
		if (!host_char_ok(*c))
			return err_set(err, 0, "invalid registry server '%.200s'", server);
	return 0;
}

/* ---- config.json file ------------------------------------------------------ */

static void config_path(const char *config_dir, char *out, size_t len)
{
	snprintf(out, len, "%s/config.json", config_dir);
}

/* Loads config.json into *root (a new empty object when the file is missing). */
static int config_file_load(const char *path, json_t **root, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(CONFIG_FILE_MAX);
	json_error_t jerr;

	*root = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*root = json_object();
		return *root ? 0 : err_set(err, ENOMEM, "cannot read '%s'", path);
	}
	if (fs_read_file(AT_FDCWD, path, CONFIG_FILE_MAX, &b, err) < 0)
		return -1;
	*root = json_loadb(b.data, b.len, 0, &jerr);
	if (!*root)
		return err_set(err, 0, "malformed '%s' line %d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return err_set(err, 0, "malformed '%s': not a JSON object", path);
	}
	return 0;
}

static int get_auths(json_t *root, const char *path, bool create, json_t **auths,
		     struct sk_err *err)
{
	*auths = json_object_get(root, "auths");
	if (*auths && !json_is_object(*auths))
		return err_set(err, 0, "malformed '%s': \"auths\" is not an object", path);
	if (!*auths && create) {
		*auths = json_object();
		if (!*auths || json_object_set_new(root, "auths", *auths) < 0)
			return err_set(err, ENOMEM, "cannot update '%s'", path);
	}
	return 0;
}

/* Decodes standard padded base64 into a NUL-terminated malloc'd string. */
static char *base64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in);
	unsigned char *out;
	ssize_t r;

	if (n == 0 || n % 4 || n > CRED_MAX * 2)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	r = b64_decode(in, n, out);
	if (r < 0) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)r;
	out[*outlen] = '\0';
	return (char *)out;
}

static char *base64_encode(const char *in, size_t n)
{
	char *out = malloc(b64_encoded_len(n) + 1);

	if (out)
		b64_encode(in, n, out);
	return out;
}

static int split_auth_field(const char *path, const char *key, const char *b64, char **user,
			    char **pass, struct sk_err *err)
{
	size_t len = 0;
	cleanup_free char *plain = base64_decode(b64, &len);
	char *colon;

	if (!plain || memchr(plain, '\0', len))
		return err_set(err, 0, "malformed '%s': \"auth\" of '%s' is not valid base64", path,
			       key);
	colon = strchr(plain, ':');
	if (!colon)
		return err_set(err, 0, "malformed '%s': \"auth\" of '%s' is not user:password",
			       path, key);
	*user = strndup(plain, (size_t)(colon - plain));
	*pass = strdup(colon + 1);
	explicit_bzero(plain, len);
	if (!*user || !*pass)
		return err_set(err, ENOMEM, "cannot read credentials");
	return 1;
}

void auth_creds_release(struct auth_creds *c)
{
	char **fields[] = { &c->user, &c->pass, &c->identity_token };

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (*fields[i]) {
			explicit_bzero(*fields[i], strlen(*fields[i]));
			free(*fields[i]);
		}
		*fields[i] = NULL;
	}
}

/* One "auths" entry -> credentials: base64 "auth", or "username"/"password",
 * and docker's "identitytoken". Returns 1 found, 0 when the entry holds none
 * (docker leaves "{}" there when a credential helper keeps them). */
static int entry_credentials(const char *path, const char *key, json_t *entry,
			     struct auth_creds *out, struct sk_err *err)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *u = json_string_value(json_object_get(entry, "username"));
	const char *p = json_string_value(json_object_get(entry, "password"));
	const char *token = json_string_value(json_object_get(entry, "identitytoken"));
	int r = 0;

	if (!json_is_object(entry))
		return err_set(err, 0, "malformed '%s': entry '%s' is not an object", path, key);
	if (auth && *auth)
		r = split_auth_field(path, key, auth, &out->user, &out->pass, err);
	else if (u && *u && p)
		r = (out->user = strdup(u)) && (out->pass = strdup(p))
			    ? 1
			    : err_set(err, ENOMEM, "cannot read credentials");
	if (r >= 0 && token && *token) {
		out->identity_token = strdup(token);
		r = out->identity_token ? 1 : err_set(err, ENOMEM, "cannot read credentials");
	}
	if (r < 0)
		auth_creds_release(out);
	return r;
}

/* The entry for host: the exact key first, then any spelling of the same host. */
static json_t *find_entry(json_t *auths, const char *host, const char **key_out)
{
	char key[512];
	const char *k;
	json_t *v;

	auth_config_key(host, key, sizeof(key));
	v = json_object_get(auths, key);
	if (v) {
		*key_out = json_object_iter_key(json_object_iter_at(auths, key));
		return v;
	}
	json_object_foreach(auths, k, v) {
		if (key_matches(k, host)) {
			*key_out = k;
			return v;
		}
	}
	return NULL;
}

/* The inline credentials of host in a loaded config.json. */
static int inline_credentials(json_t *root, const char *path, const char *registry_host,
			      struct auth_creds *out, struct sk_err *err)
{
	json_t *auths, *entry;
	const char *key = NULL;

	if (get_auths(root, path, false, &auths, err) < 0)
		return -1;
	entry = auths ? find_entry(auths, registry_host, &key) : NULL;
	return entry ? entry_credentials(path, key, entry, out, err) : 0;
}

int auth_lookup_credentials(const char *config_dir, const char *registry_host, char **user,
			    char **pass, struct sk_err *err)
{
	cleanup_json json_t *root = NULL;
	struct auth_creds c = { 0 };
	char path[4200];
	int r;

	*user = *pass = NULL;
	config_path(config_dir, path, sizeof(path));
	if (config_file_load(path, &root, err) < 0)
		return -1;
	r = inline_credentials(root, path, registry_host, &c, err);
	if (r == 1 && !c.user)
		r = 0; /* an identity token alone */
	if (r == 1) {
		*user = c.user;
		*pass = c.pass;
		c.user = c.pass = NULL;
	}
	auth_creds_release(&c);
	return r;
}

static bool helper_name_ok(const char *name)
{
	if (strlen(name) >= AUTH_HELPER_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '/' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* credHelpers[key] when present (docker: even "" then means no helper),
 * else credsStore. Returns 1 with a name, 0 none, -1 malformed. */
static int configured_helper(json_t *root, const char *path, const char *key, char *out,
			     size_t len, struct sk_err *err)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	json_t *v = NULL;
	const char *name;

	if (helpers && !json_is_object(helpers))
		return err_set(err, 0, "malformed '%s': \"credHelpers\" is not an object", path);
	if (helpers)
		v = json_object_get(helpers, key);
	if (!v)
		v = json_object_get(root, "credsStore");
	if (!v)
		return 0;
	name = json_string_value(v);
	if (!name)
		return err_set(err, 0, "malformed '%s': the credential helper of '%s' is not a string",
			       path, key);
	if (!helper_name_ok(name))
		return err_set(err, 0, "malformed '%s': invalid credential helper name '%.64s'", path,
			       name);
	if (!*name)
		return 0;
	snprintf(out, len, "%s", name);
	return strlen(name) < len ? 1 : err_set(err, 0, "credential helper name is too long");
}

int auth_config_lookup(const char *config_dir, const char *registry_host, char *helper,
		       size_t helper_len, struct auth_creds *out, struct sk_err *err)
{
	cleanup_json json_t *root = NULL;
	char path[4200], key[512];
	int r;

	memset(out, 0, sizeof(*out));
	config_path(config_dir, path, sizeof(path));
	if (config_file_load(path, &root, err) < 0)
		return -1;
	auth_config_key(registry_host, key, sizeof(key));
	r = configured_helper(root, path, key, helper, helper_len, err);
	if (r != 0)
		return r < 0 ? -1 : 2;
	return inline_credentials(root, path, registry_host, out, err);
}

/* ---- credential helpers' JSON ---------------------------------------------- */

/* Go's encoding/json matches field names without regard to case. */
static json_t *get_field(json_t *obj, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		if (!strcasecmp(k, name))
			return v;
	return NULL;
}

/* A string field: absent or null is "", anything else must be a string of
 * at most max bytes with no control characters. */
static int helper_field(json_t *obj, const char *name, size_t max, const char **out,
			struct sk_err *err)
{
	json_t *v = get_field(obj, name);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, 0, "malformed credential helper reply: \"%s\" is not a string",
			       name);
	if (json_string_length(v) > max)
		return err_set(err, E2BIG, "credential helper reply: \"%s\" is too long", name);
	for (const char *p = json_string_value(v); *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, 0,
				       "malformed credential helper reply: control character in "
				       "\"%s\"",
				       name);
	*out = json_string_value(v);
	return 0;
}

int auth_parse_helper_reply(const char *json, size_t len, struct auth_creds *out,
			    struct sk_err *err)
{
	cleanup_json json_t *root = NULL;
	json_error_t jerr;
	const char *user, *secret;

	memset(out, 0, sizeof(*out));
	if (len > HELPER_REPLY_MAX)
		return err_set(err, E2BIG, "credential helper reply too large (%zu bytes)", len);
	/* A helper may print a newline or more after its one JSON object. */
	root = json_loadb(json, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root || !json_is_object(root))
		return err_set(err, 0, "malformed credential helper reply: %s",
			       root ? "not a JSON object" : jerr.text);
	if (helper_field(root, "Username", CRED_MAX, &user, err) < 0 ||
	    helper_field(root, "Secret", HELPER_SECRET_MAX, &secret, err) < 0)
		return -1;
	if (!*secret)
		return 0;
	if (!strcmp(user, IDENTITY_TOKEN_USER))
		out->identity_token = strdup(secret);
	else if (*user && (out->user = strdup(user)))
		out->pass = strdup(secret);
	else if (!*user)
		return 0; /* a secret for nobody: docker would send an empty user */
	if (!out->identity_token && !out->pass) {
		auth_creds_release(out);
		return err_set(err, ENOMEM, "cannot read credentials");
	}
	return 1;
}

char *auth_helper_store_input(const char *server_url, const char *user, const char *secret)
{
	cleanup_json json_t *o = json_pack("{s:s, s:s, s:s}", "ServerURL", server_url, "Username",
					   user, "Secret", secret);

	return o ? json_dumps(o, JSON_COMPACT) : NULL;
}

/* Writes root back atomically, 0600, into a 0700 directory. A config.json that
 * is a symlink (dotfile managers) is updated where it points. */
static int config_file_save(const char *config_dir, const char *path, json_t *root,
			    struct sk_err *err)
{
	cleanup_free char *text = NULL;
	cleanup_free char *target = NULL;
	struct stat st;

	if (fs_mkdir_p(AT_FDCWD, config_dir, 0700, err) < 0)
		return -1;
	text = json_dumps(root, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
	if (!text)
		return err_set(err, ENOMEM, "cannot write '%s'", path);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		target = realpath(path, NULL);
	if (fs_write_atomic(AT_FDCWD, target ? target : path, text, strlen(text), 0600, err) < 0)
		return -1;
	return 0;
}

static int new_entry_value(json_t *entry, const char *user, const char *pass, const char *path,
			   struct sk_err *err)
{
	cleanup_buf struct buf plain = BUF_INIT(2 * CRED_MAX + 2);
	cleanup_free char *b64 = NULL;
	int r;

	/* Secrets of an earlier login go; anything else in the entry stays. */
	json_object_del(entry, "auth");
	json_object_del(entry, "username");
	json_object_del(entry, "password");
	json_object_del(entry, "identitytoken");
	if (!user)
		return 0; /* a helper keeps them: docker's empty entry */
	if (strlen(user) > CRED_MAX || strlen(pass) > CRED_MAX)
		return err_set(err, E2BIG, "cannot store credentials in '%s'", path);
	if (strchr(user, ':'))
		return err_set(err, EINVAL, "username '%s' contains ':'", user);
	r = buf_appendf(&plain, "%s:%s", user, pass);
	if (r < 0)
		return err_set(err, -r, "cannot store credentials in '%s'", path);
	b64 = base64_encode(plain.data, plain.len);
	explicit_bzero(plain.data, plain.len);
	if (!b64)
		return err_set(err, ENOMEM, "cannot store credentials in '%s'", path);
	if (json_object_set_new(entry, "auth", json_string(b64)) < 0)
		return err_set(err, ENOMEM, "cannot store credentials in '%s'", path);
	return 0;
}

/* Removes every spelling of host's key from auths; returns how many. */
static int remove_entries(json_t *auths, const char *host)
{
	const char *k;
	json_t *v;
	void *tmp;
	int removed = 0;

	json_object_foreach_safe(auths, tmp, k, v) {
		if (key_matches(k, host)) {
			json_object_del(auths, k);
			removed++;
		}
	}
	return removed;
}

int auth_store_credentials(const char *config_dir, const char *registry_host, const char *user,
			   const char *pass, struct sk_err *err)
{
	cleanup_json json_t *root = NULL;
	char path[4200], key[512];
	json_t *auths, *entry, *old;
	const char *old_key = NULL;

	config_path(config_dir, path, sizeof(path));
	if (config_file_load(path, &root, err) < 0)
		return -1;
	if (get_auths(root, path, true, &auths, err) < 0)
		return -1;
	auth_config_key(registry_host, key, sizeof(key));
	old = find_entry(auths, registry_host, &old_key);
	entry = json_is_object(old) ? json_deep_copy(old) : json_object();
	if (!entry)
		return err_set(err, ENOMEM, "cannot store credentials in '%s'", path);
	remove_entries(auths, registry_host);
	if (json_object_set_new(auths, key, entry) < 0)
		return err_set(err, ENOMEM, "cannot store credentials in '%s'", path);
	if (new_entry_value(entry, user, pass, path, err) < 0)
		return -1;
	return config_file_save(config_dir, path, root, err);
}

int auth_erase_credentials(const char *config_dir, const char *registry_host, struct sk_err *err)
{
	cleanup_json json_t *root = NULL;
	char path[4200];
	json_t *auths;

	config_path(config_dir, path, sizeof(path));
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (config_file_load(path, &root, err) < 0)
		return -1;
	if (get_auths(root, path, false, &auths, err) < 0)
		return -1;
	if (!auths || remove_entries(auths, registry_host) == 0)
		return 0;
	if (config_file_save(config_dir, path, root, err) < 0)
		return -1;
	return 1;
}

/* ---- token server replies -------------------------------------------------- */

/* The token ends up in an Authorization header: printable ASCII only. */
static bool token_is_header_safe(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e)
			return false;
	return true;
}

int auth_parse_token_response(const char *json, size_t len, char **token, long *expires_in,
			      struct sk_err *err)
{
	cleanup_json json_t *root = NULL;
	json_error_t jerr;
	const char *t;
	json_t *exp;

	*token = NULL;
	*expires_in = TOKEN_MIN_LIFETIME;
	if (len > TOKEN_REPLY_MAX)
		return err_set(err, E2BIG, "token server reply too large (%zu bytes)", len);
	root = json_loadb(json, len, 0, &jerr);
	if (!root || !json_is_object(root))
		return err_set(err, 0, "malformed token server reply: %s",
			       root ? "not a JSON object" : jerr.text);
	t = json_string_value(json_object_get(root, "token"));
	if (!t || !*t)
		t = json_string_value(json_object_get(root, "access_token"));
	if (!t || !*t)
		return err_set(err, 0, "token server reply has no token");
	if (strlen(t) > TOKEN_MAX || !token_is_header_safe(t))
		return err_set(err, 0, "token server reply has an invalid token");
	exp = json_object_get(root, "expires_in");
	/* As docker: a missing or too short lifetime means the 60 s minimum. */
	if (json_is_integer(exp) && json_integer_value(exp) > TOKEN_MIN_LIFETIME)
		*expires_in = json_integer_value(exp) > LONG_MAX ? LONG_MAX
								  : (long)json_integer_value(exp);
	*token = strdup(t);
	if (!*token)
		return err_set(err, ENOMEM, "cannot store token");
	return 0;
}

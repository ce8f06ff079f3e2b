/*
 * Registry authentication: parsing WWW-Authenticate challenges, and credentials
 * in docker's config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json,
 * "auths": { "<server>": { "auth": base64("user:pass") } }).
 * Docker Hub's credentials live under the key "https://index.docker.io/v1/".
 */
#ifndef SKIFF_AUTH_H
#define SKIFF_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum auth_scheme { AUTH_NONE = 0, AUTH_BASIC, AUTH_BEARER };

struct auth_challenge {
	enum auth_scheme scheme;
	char realm[1024];
	char service[256];
	char scope[1024];
	char error[128]; /* e.g. "insufficient_scope", "invalid_token" */
};

/* Parse one WWW-Authenticate header value (RFC 7235: scheme, then auth-params,
 * quoted strings with backslash escapes, case-insensitive scheme and keys).
 * Unknown schemes give -1 with a message. */
int auth_parse_challenge(const char *header, struct auth_challenge *out, struct sk_err *err);

#define AUTH_HOST_MAX 512

/* The registry host a user means by a login/logout SERVER argument, as docker:
 * "https://index.docker.io/v1/", "index.docker.io" -> "docker.io";
 * "https://reg:5000/v2/" -> "reg:5000". Fails on an empty or odd host. */
int auth_server_host(const char *server, char *out, size_t len, struct sk_err *err);

/* Key used in config.json for a registry host: "https://index.docker.io/v1/" for
 * docker.io (and index.docker.io, registry-1.docker.io), the host[:port] otherwise. */
void auth_config_key(const char *registry_host, char *out, size_t len);

/* Credentials for one registry. docker's "<token>" username (from a helper,
 * or "identitytoken" in config.json) makes the secret an identity token: an
 * OAuth2 refresh token for the token server, never sent as Basic. */
struct auth_creds {
	char *user;	      /* NULL: none */
	char *pass;	      /* set with user */
	char *identity_token; /* NULL: none */
};
/* Wipes and frees the secrets; the struct is all NULL afterwards. */
void auth_creds_release(struct auth_creds *c);

#define AUTH_HELPER_NAME_MAX 128

/* What config.json says about registry_host (its config key, as docker):
 * 2 when a credential helper keeps them (credHelpers[key], else credsStore;
 * helper gets the NAME of docker-credential-NAME), 1 with inline credentials
 * in out, 0 when there are none, -1 on a malformed file (a helper name with
 * '/' in it included). */
int auth_config_lookup(const char *config_dir, const char *registry_host, char *helper,
		       size_t helper_len, struct auth_creds *out, struct sk_err *err);

/* A credential helper's `get` reply ({"ServerURL":..,"Username":..,"Secret":..},
 * bounded): 1 with out filled (a "<token>" user gives identity_token), 0 when
 * it holds no secret; -1 when malformed. */
int auth_parse_helper_reply(const char *json, size_t len, struct auth_creds *out,
			    struct sk_err *err);

/* The JSON a helper's `store` reads on stdin: {"ServerURL","Username","Secret"}.
 * malloc'd; NULL when out of memory. */
char *auth_helper_store_input(const char *server_url, const char *user, const char *secret);

/* Look up credentials for a registry host in docker's config.json (config_dir is
 * the directory holding config.json). Entries may be keyed "host", "https://host",
 * "http://host" or with a "/v1/"/"/v2/" suffix. Returns 1 and fills user/pass
 * (malloc'd, caller frees) when found, 0 when none, -1 on a malformed file. */
int auth_lookup_credentials(const char *config_dir, const char *registry_host, char **user,
			    char **pass, struct sk_err *err);

/* Write or remove credentials, keeping every other key of the file; the file is
 * rewritten atomically with mode 0600 and the directory created 0700. A NULL
 * user writes docker's empty entry ({}) for credentials a helper keeps. */
int auth_store_credentials(const char *config_dir, const char *registry_host, const char *user,
			   const char *pass, struct sk_err *err);
/* Returns 1 if removed, 0 if there was nothing to remove. */
int auth_erase_credentials(const char *config_dir, const char *registry_host, struct sk_err *err);

/* Extract the token from a token-server JSON reply: "token" or "access_token",
 * and "expires_in" (seconds, default 60). token is malloc'd. */
int auth_parse_token_response(const char *json, size_t len, char **token, long *expires_in,
			      struct sk_err *err);

#endif

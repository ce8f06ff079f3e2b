/*
 * Where a registry's credentials live, as docker decides: a credential helper
 * (docker-credential-NAME on PATH, named by config.json's credHelpers for the
 * registry's key, else credsStore) or config.json's "auths". The helper
 * protocol is docker-credential-helpers': `get` and `erase` read the server
 * on stdin, `store` reads {"ServerURL","Username","Secret"}; a failure is the
 * helper's stdout, "credentials not found in native keychain" means none.
 * The helper's stderr is the user's, as with docker.
 */
#ifndef SKIFF_CREDSTORE_H
#define SKIFF_CREDSTORE_H

#include <stdbool.h>

#include "image/auth.h"
#include "util/err.h"

/* Credentials for registry_host (a host[:port] or "docker.io"): 1 found, 0
 * none, -1 on a malformed config.json. A helper that fails or is missing is
 * one warning line and no credentials: docker then goes on anonymously too. */
int credstore_get(const char *config_dir, const char *registry_host, struct auth_creds *out,
		  struct sk_err *err);

/* Keep user/pass for registry_host: through its helper (config.json then
 * gets docker's empty entry for the key), or inline in config.json. Sets
 * *via_helper. A helper's failure is docker's "error storing credentials -
 * err: ..., out: `...`". */
int credstore_store(const char *config_dir, const char *registry_host, const char *user,
		    const char *pass, bool *via_helper, struct sk_err *err);

/* Forget registry_host's credentials: the helper's erase for each spelling
 * docker tries (key, http://key, https://key), and every spelling in
 * config.json. Returns 0; when every helper erase failed, 0 with warning
 * filled (docker's "error erasing credentials - ..."), so that logout can
 * say so and still succeed. -1 only for a malformed or unwritable file. */
int credstore_erase(const char *config_dir, const char *registry_host, struct sk_err *warning,
		    struct sk_err *err);

#endif

/*
 * Fuzz the auth parsers with what a registry, a token server or a hand-edited
 * file could hold. The first byte picks the parser:
 *   0 WWW-Authenticate header, 1 token-server reply, 2 docker config.json
 *   (lookup, then store and erase, which must keep the file loadable).
 * Seeds: tests/fuzz/corpus/fuzz_auth/.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_challenge(const uint8_t *data, size_t size)
{
	struct auth_challenge c;
	struct sk_err err;
	char *s = malloc(size + 1);

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (auth_parse_challenge(s, &c, &err) == 0) {
		if (c.scheme != AUTH_BASIC && c.scheme != AUTH_BEARER)
			__builtin_trap();
		if (c.scheme == AUTH_BEARER && !c.realm[0])
			__builtin_trap();
		if (strnlen(c.realm, sizeof(c.realm)) == sizeof(c.realm) ||
		    strnlen(c.service, sizeof(c.service)) == sizeof(c.service) ||
		    strnlen(c.scope, sizeof(c.scope)) == sizeof(c.scope) ||
		    strnlen(c.error, sizeof(c.error)) == sizeof(c.error))
			__builtin_trap();
	}
	free(s);
}

static void fuzz_token(const uint8_t *data, size_t size)
{
	struct sk_err err;
	char *token = NULL;
	long exp = 0;

	/* data is not NUL-terminated: the parser must stay within size. */
	if (auth_parse_token_response((const char *)data, size, &token, &exp, &err) == 0) {
		if (!token || !token[0] || exp < 60)
			__builtin_trap();
	} else if (token) {
		__builtin_trap();
	}
	free(token);
}

/* One private directory for the whole run. */
static const char *work_dir(void)
{
	static char dir[64];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-auth-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

static void fuzz_config(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = { "docker.io", "h", "127.0.0.1:5000", "[::1]:5000" };
	const char *dir = work_dir();
	char path[128];
	struct sk_err err;
	char *u = NULL, *p = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		int r = auth_lookup_credentials(dir, hosts[i], &u, &p, &err);
		if ((r == 1) != (u && p))
			__builtin_trap();
		free(u);
		free(p);
		u = p = NULL;
		if (r < 0)
			return; /* malformed: store must refuse too, and not clobber it */
	}
	if (auth_store_credentials(dir, "h", "user", "pa:ss", &err) < 0)
		return;
	if (auth_lookup_credentials(dir, "h", &u, &p, &err) != 1 || strcmp(u, "user") != 0 ||
	    strcmp(p, "pa:ss") != 0)
		__builtin_trap();
	free(u);
	free(p);
	if (auth_erase_credentials(dir, "h", &err) != 1)
		__builtin_trap();
	if (auth_lookup_credentials(dir, "h", &u, &p, &err) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_challenge(data + 1, size - 1);
		break;
	case 1:
		fuzz_token(data + 1, size - 1);
		break;
	default:
		fuzz_config(data + 1, size - 1);
		break;
	}
	return 0;
}

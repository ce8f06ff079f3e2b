/*
 * Fuzz the parser of a credential helper's `get` reply (docker-credential-NAME
 * prints it; skiff reads it bounded and strictly). A success must hand back
 * either a user with a password or an identity token, never both or a half;
 * a failure or "none" must leave nothing allocated.
 * Seeds: tests/fuzz/corpus/fuzz_credhelper/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_creds c;
	struct sk_err err;
	int r;

	/* data is not NUL-terminated: the parser must stay within size. */
	r = auth_parse_helper_reply((const char *)data, size, &c, &err);
	if (r == 1) {
		if (!!c.user != !!c.pass || !!c.user == !!c.identity_token)
			__builtin_trap();
		if (c.user && (!c.user[0] || !c.pass[0] || !strcmp(c.user, "<token>")))
			__builtin_trap();
		if (c.identity_token && !c.identity_token[0])
			__builtin_trap();
	} else if (c.user || c.pass || c.identity_token) {
		__builtin_trap();
	}
	auth_creds_release(&c);
	return 0;
}

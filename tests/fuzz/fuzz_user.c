/*
 * Fuzz user_resolve: the image's /etc/passwd and /etc/group are hostile
 * input. Input: "SPEC\0PASSWD\0GROUP". Whatever the files say, resolving
 * must not crash, must keep the groups within USER_MAX_GROUPS and HOME
 * terminated, and a numeric "uid:gid" spec must resolve to exactly those
 * numbers. Seeds: tests/fuzz/corpus/fuzz_user/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 3);
	const char *spec, *passwd, *group;
	struct user_resolved u;
	struct sk_err err = { 0 };
	size_t n;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = copy[size + 2] = '\0';
	spec = copy;
	n = strlen(spec);
	passwd = copy + n + 1 <= copy + size ? copy + n + 1 : NULL;
	group = passwd ? passwd + strlen(passwd) + 1 : NULL;
	if (group && group > copy + size)
		group = NULL;
	if (user_resolve(spec, passwd, group, &u, &err) == 0) {
		if (u.n_groups > USER_MAX_GROUPS || !memchr(u.home, '\0', sizeof(u.home)))
			__builtin_trap();
	} else if (!err.msg[0] || strchr(err.msg, '\n')) {
		__builtin_trap(); /* one line saying what */
	}
	if (!strcmp(spec, "1234:5678") &&
	    (user_resolve(spec, passwd, group, &u, &err) < 0 || u.uid != 1234 || u.gid != 5678))
		__builtin_trap();
	free(copy);
	return 0;
}

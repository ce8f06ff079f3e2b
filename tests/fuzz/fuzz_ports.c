/*
 * Fuzz ports_parse (-p values; the Engine API will pass them from clients):
 * any input gives mappings with ports in range or one error line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct port_map *m = NULL;
	struct sk_err err = { 0 };
	size_t n = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ports_parse(s, &m, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (m[i].container_port == 0 || (m[i].proto != PORT_TCP && m[i].proto != PORT_UDP))
				__builtin_trap();
	} else if (!err.msg[0] || strchr(err.msg, '\n')) {
		__builtin_trap();
	}
	free(m);
	free(s);
	return 0;
}

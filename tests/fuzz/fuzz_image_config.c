/*
 * Fuzz image_config_parse with image config blobs (docker / OCI config JSON), and
 * check what the parser promises on success. Seeds: tests/fuzz/corpus/fuzz_image_config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/image_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct image_config *c)
{
	size_t n = 0;

	if (!c->env || !c->diff_ids)
		__builtin_trap();
	for (char **e = c->env; *e; e++)
		if (!strchr(*e, '=') || **e == '=')
			__builtin_trap();
	for (char **d = c->diff_ids; *d; d++, n++)
		if (!digest_is_valid(*d))
			__builtin_trap();
	if (n != c->n_diff_ids || n > MANIFEST_MAX_LAYERS)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_config c;
	struct sk_err err;

	if (image_config_parse((const char *)data, size, &c, &err) == 0) {
		check_invariants(&c);
		image_config_release(&c);
	} else if (err.msg[0] == '\0' || c.env || c.diff_ids) {
		__builtin_trap();
	}
	return 0;
}

/*
 * Fuzz ref_parse: any accepted reference must print canonically and parse back
 * to the same thing; any refused one must give a one-line "invalid reference
 * format: ..." error. Seeds: tests/fuzz/corpus/fuzz_ref/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct image_ref *r)
{
	struct image_ref again;
	struct sk_err err;
	char s1[REF_STR_MAX], s2[REF_STR_MAX], fam[REF_STR_MAX];

	if (!r->domain[0] || !r->path[0] || (!r->tag[0] && !r->digest[0]))
		__builtin_trap();
	ref_canonical(r, s1, sizeof(s1));
	if (ref_parse(s1, &again, &err) < 0)
		__builtin_trap();
	ref_canonical(&again, s2, sizeof(s2));
	if (strcmp(s1, s2) != 0 || memcmp(r, &again, sizeof(again)) != 0)
		__builtin_trap();
	/* The familiar name names the same repository. */
	ref_familiar_name(r, fam, sizeof(fam));
	if (ref_parse(fam, &again, &err) < 0)
		__builtin_trap();
	if (strcmp(again.domain, r->domain) != 0 || strcmp(again.path, r->path) != 0)
		__builtin_trap();
	if (strcmp(ref_reference(r), r->digest[0] ? r->digest : r->tag) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_ref r;
	struct sk_err err;
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ref_parse(s, &r, &err) == 0) {
		check_round_trip(&r);
	} else if (strncmp(err.msg, "invalid reference format: ", 26) != 0 ||
		   strchr(err.msg, '\n')) {
		__builtin_trap();
	}
	free(s);
	return 0;
}

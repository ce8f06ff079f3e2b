/*
 * Fuzz the flat-object JSON reader (util/jsonscan.c) against jansson: what
 * the scanner takes, jansson must take as an object too, with the same
 * members in the same order (jansson keeps the last of a repeated key: so
 * does a caller that overwrites), the same strings once decoded, the same
 * integers. The scanner may refuse more than jansson (its caller falls back).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const struct jscan_value *v, json_t *j)
{
	char *out = malloc(v->len + 1);

	if (!out)
		return;
	if (!json_is_string(j))
		__builtin_trap();
	/* jansson keeps a \u0000: the scanner refuses to decode it */
	if (jscan_string(v, out, v->len + 1) >= 0 &&
	    (strlen(out) != json_string_length(j) || strcmp(out, json_string_value(j))))
		__builtin_trap();
	free(out);
}

struct strings_ctx {
	json_t *array;
	size_t i;
};

static int check_item(const struct jscan_value *v, void *arg)
{
	struct strings_ctx *c = arg;

	check_string(v, json_array_get(c->array, c->i++));
	return 0;
}

static int check_member(const struct jscan_member *m, void *arg)
{
	json_t *obj = arg, *j = json_object_getn(obj, m->key, m->key_len);
	struct strings_ctx sc = { .array = j };
	int64_t i;

	if (!j)
		__builtin_trap();
	switch (m->v.type) {
	case JSCAN_STRING: check_string(&m->v, j); break;
	case JSCAN_NUMBER:
		if (jscan_int(&m->v, &i) < 0 || !json_is_integer(j) || json_integer_value(j) != i)
			__builtin_trap();
		break;
	case JSCAN_TRUE: if (!json_is_true(j)) __builtin_trap(); break;
	case JSCAN_FALSE: if (!json_is_false(j)) __builtin_trap(); break;
	case JSCAN_NULL: if (!json_is_null(j)) __builtin_trap(); break;
	case JSCAN_STRINGS:
		if (!json_is_array(j) || jscan_strings(&m->v, check_item, &sc) < 0 ||
		    sc.i != json_array_size(j))
			__builtin_trap();
		break;
	}
	return 0;
}

static int last_only(const struct jscan_member *m, void *arg)
{
	(void)m;
	(*(size_t *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t members = 0;
	json_t *j;

	if (jscan_object(text, size, last_only, &members) < 0)
		return 0;
	j = json_loadb(text, size, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(j))
		__builtin_trap();
	/* Repeated keys: jansson has the last value, which the check below
	 * compares against every occurrence; only inputs without repeats are
	 * compared value by value. */
	if (json_object_size(j) == members && jscan_object(text, size, check_member, j) < 0)
		__builtin_trap();
	json_decref(j);
	return 0;
}

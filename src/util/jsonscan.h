/*
 * A reader for the flat JSON objects skiff writes itself (a container's
 * state.json): one pass over the text, no allocation. It takes members whose
 * values are strings, integers, true, false, null and arrays of strings, in
 * ASCII (escapes included), and refuses everything else (nested objects,
 * other arrays, fractions, bytes above 0x7f): what it takes, jansson takes
 * as the same object (tests/fuzz/fuzz_jsonscan.c). Its caller hands what it
 * refuses to jansson
 * (json_dumps with JSON_ENSURE_ASCII gives a text this reader takes).
 *
 * Why not jansson alone: `ps` reads one state.json per container, and
 * jansson's allocation per value made that parse most of ps's time with
 * 1000 containers (docs/BENCH.md, "Many containers").
 */
#ifndef SKIFF_UTIL_JSONSCAN_H
#define SKIFF_UTIL_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum jscan_type { JSCAN_STRING, JSCAN_NUMBER, JSCAN_TRUE, JSCAN_FALSE, JSCAN_NULL, JSCAN_STRINGS };

struct jscan_value {
	enum jscan_type type;
	/* STRING: between the quotes, escapes as written; NUMBER: its digits;
	 * STRINGS: the array from '[' to ']' inclusive. */
	const char *text;
	size_t len;
};

struct jscan_member {
	const char *key; /* not NUL-terminated; never has escapes */
	size_t key_len;
	struct jscan_value v;
};

/* Calls fn for each member of the object text[0..len), in order. Returns 0,
 * or -1 when the text is not such an object or fn returned -1 (the members
 * before the fault have been seen). */
typedef int (*jscan_member_fn)(const struct jscan_member *m, void *ctx);
int jscan_object(const char *text, size_t len, jscan_member_fn fn, void *ctx);

/* Is m's key the NUL-terminated key? */
int jscan_key_is(const struct jscan_member *m, const char *key);

/* A STRING unescaped into out (NUL-terminated, \u0000 refused): its length,
 * or -1 when it is not a string or does not fit in cap. */
ssize_t jscan_string(const struct jscan_value *v, char *out, size_t cap);
/* A NUMBER's value (an integer in int64_t's range). */
int jscan_int(const struct jscan_value *v, int64_t *out);
/* Each string of a STRINGS value, in order, as a STRING value. */
int jscan_strings(const struct jscan_value *v,
		  int (*fn)(const struct jscan_value *s, void *ctx), void *ctx);

#endif

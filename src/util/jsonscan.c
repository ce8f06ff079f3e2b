/*
 * The flat-object JSON reader (jsonscan.h): RFC 8259's grammar for what it
 * takes, checked as it goes; escapes are checked while scanning and decoded
 * only for the strings a caller asks for.
 */
#include "util/jsonscan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static bool is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static int hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* \uXXXX at p (after the backslash and 'u'), a surrogate pair taking the
 * next one too: the code point, and p moved past it; -1 when invalid. */
static long unicode_escape(const char **p, const char *end)
{
	unsigned hi, lo;

	if (hex4(*p, end, &hi) < 0)
		return -1;
	*p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return -1;
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	if (end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' || hex4(*p + 2, end, &lo) < 0 ||
	    lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*p += 6;
	return 0x10000 + ((long)(hi - 0xd800) << 10) + (lo - 0xdc00);
}

/* A string whose opening quote is at p: the end (after the closing quote),
 * or NULL. Only printable ASCII and valid escapes. */
static const char *scan_string(const char *p, const char *end, struct jscan_value *v,
			       bool *escaped)
{
	static const char simple_escapes[] = "\"\\/bfnrt";

	*escaped = false;
	if (p >= end || *p != '"')
		return NULL;
	v->type = JSCAN_STRING;
	v->text = ++p;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7f)
			return NULL;
		if (c == '\\') {
			*escaped = true;
			if (++p >= end)
				return NULL;
			if (*p == 'u') {
				p++;
				if (unicode_escape(&p, end) < 0)
					return NULL;
				continue;
			} else if (!memchr(simple_escapes, *p, sizeof(simple_escapes) - 1)) {
				return NULL;
			}
		}
		p++;
	}
	if (p >= end)
		return NULL;
	v->len = (size_t)(p - v->text);
	return p + 1;
}

static const char *scan_digits(const char *p, const char *end)
{
	while (is_digit(p, end))
		p++;
	return p;
}

/* Integers only, in int64_t's range: skiff writes no others, and what this
 * reader takes jansson takes too (it refuses integers out of its range). */
static const char *scan_number(const char *p, const char *end, struct jscan_value *v)
{
	const char *start = p;
	int64_t ignored;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (is_digit(p, end))
		p = scan_digits(p, end);
	else
		return NULL;
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return NULL;
	v->type = JSCAN_NUMBER;
	v->text = start;
	v->len = (size_t)(p - start);
	return jscan_int(v, &ignored) == 0 ? p : NULL;
}

static const char *scan_literal(const char *p, const char *end, struct jscan_value *v)
{
	static const struct {
		const char *word;
		enum jscan_type type;
	} literals[] = { { "true", JSCAN_TRUE }, { "false", JSCAN_FALSE }, { "null", JSCAN_NULL } };

	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		size_t n = strlen(literals[i].word);

		if ((size_t)(end - p) >= n && !memcmp(p, literals[i].word, n)) {
			v->type = literals[i].type;
			v->text = p;
			v->len = n;
			return p + n;
		}
	}
	return NULL;
}

/* An array of strings whose '[' is at p. With fn, each string is handed on. */
static const char *scan_strings(const char *p, const char *end,
				int (*fn)(const struct jscan_value *s, void *ctx), void *ctx)
{
	struct jscan_value item;
	bool escaped;

	p = skip_ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		p = scan_string(p, end, &item, &escaped);
		if (!p || (fn && fn(&item, ctx) < 0))
			return NULL;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		return p < end && *p == ']' ? p + 1 : NULL;
	}
}

static const char *scan_value(const char *p, const char *end, struct jscan_value *v)
{
	const char *after;
	bool escaped;

	if (p >= end)
		return NULL;
	switch (*p) {
	case '"': return scan_string(p, end, v, &escaped);
	case '[':
		after = scan_strings(p, end, NULL, NULL);
		if (after) {
			v->type = JSCAN_STRINGS;
			v->text = p;
			v->len = (size_t)(after - p);
		}
		return after;
	case 't':
	case 'f':
	case 'n': return scan_literal(p, end, v);
	default: return scan_number(p, end, v);
	}
}

int jscan_object(const char *text, size_t len, jscan_member_fn fn, void *ctx)
{
	const char *p = text, *end = text + len;

	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		struct jscan_member m;
		struct jscan_value key;
		bool escaped;

		p = scan_string(p, end, &key, &escaped);
		if (!p || escaped)
			return -1;
		m.key = key.text;
		m.key_len = key.len;
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return -1;
		p = scan_value(skip_ws(p + 1, end), end, &m.v);
		if (!p || fn(&m, ctx) < 0)
			return -1;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? 0 : -1;
		return -1;
	}
}

int jscan_key_is(const struct jscan_member *m, const char *key)
{
	return m->key_len == strlen(key) && !memcmp(m->key, key, m->key_len);
}

static size_t utf8_encode(unsigned u, char out[4])
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xc0 | u >> 6);
		out[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char)(0xe0 | u >> 12);
		out[1] = (char)(0x80 | (u >> 6 & 0x3f));
		out[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | u >> 18);
	out[1] = (char)(0x80 | (u >> 12 & 0x3f));
	out[2] = (char)(0x80 | (u >> 6 & 0x3f));
	out[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

ssize_t jscan_string(const struct jscan_value *v, char *out, size_t cap)
{
	const char *p = v->text, *end = v->text + v->len;
	size_t n = 0;

	if (v->type != JSCAN_STRING || cap == 0)
		return -1;
	while (p < end) {
		char buf[4];
		size_t k = 1;
		long u;

		buf[0] = *p++;
		if (buf[0] == '\\') {
			if (p >= end)
				return -1;
			switch (*p++) {
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case '"': buf[0] = '"'; break;
			case '\\': buf[0] = '\\'; break;
			case '/': buf[0] = '/'; break;
			case 'u':
				u = unicode_escape(&p, end);
				if (u <= 0) /* \u0000 would cut a C string short */
					return -1;
				k = utf8_encode((unsigned)u, buf);
				break;
			default: return -1;
			}
		}
		if (n + k >= cap)
			return -1;
		memcpy(out + n, buf, k);
		n += k;
	}
	out[n] = '\0';
	return (ssize_t)n;
}

int jscan_int(const struct jscan_value *v, int64_t *out)
{
	char buf[24], *end;
	long long x;

	if (v->type != JSCAN_NUMBER || v->len == 0 || v->len >= sizeof(buf))
		return -1;
	memcpy(buf, v->text, v->len);
	buf[v->len] = '\0';
	if (strpbrk(buf, ".eE"))
		return -1;
	errno = 0;
	x = strtoll(buf, &end, 10);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

int jscan_strings(const struct jscan_value *v,
		  int (*fn)(const struct jscan_value *s, void *ctx), void *ctx)
{
	if (v->type != JSCAN_STRINGS)
		return -1;
	return scan_strings(v->text, v->text + v->len, fn, ctx) ? 0 : -1;
}

/*
 * Image references, parsed exactly as docker does (distribution/reference,
 * ParseNormalizedNamed): split off a registry domain, normalise Docker Hub
 * names, then check each part against the grammar:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path            (at most 255 characters)
 *   domain     := host [":" port]
 *   host       := domain-name | "[" ipv6 "]"
 *   path       := component ("/" component)*
 *   component  := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := "sha256:" 64 lowercase hex  (other algorithms are refused)
 */
#include "image/ref.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX "library/"
#define NAME_TOTAL_MAX 255
#define INPUT_MAX 1024 /* longer than any valid reference */

/* A bounded view into the input string. */
struct span {
	const char *p;
	size_t len;
};

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_hex(char c)
{
	return isascii((unsigned char)c) && isxdigit((unsigned char)c);
}

static bool span_eq(struct span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static bool span_has_upper(struct span s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] >= 'A' && s.p[i] <= 'Z')
			return true;
	return false;
}

/* Length of the run of lowercase alphanumerics at s[i..]. */
static size_t lower_alnum_run(const char *s, size_t i, size_t len)
{
	size_t start = i;

	while (i < len && is_lower_alnum(s[i]))
		i++;
	return i - start;
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t len)
{
	size_t i = 0, run;

	for (;;) {
		run = lower_alnum_run(s, i, len);
		if (run == 0)
			return false;
		i += run;
		if (i == len)
			return true;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < len && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return false;
		}
	}
}

static bool path_valid(struct span path)
{
	size_t start = 0;

	for (size_t i = 0; i <= path.len; i++) {
		if (i < path.len && path.p[i] != '/')
			continue;
		if (!path_component_valid(path.p + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* ([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]) */
static bool domain_component_valid(const char *s, size_t len)
{
	if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool domain_name_valid(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!domain_component_valid(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static bool port_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* host [":" port], host being a domain name or a bracketed IPv6 address. */
static bool domain_valid(struct span d)
{
	size_t host_len;

	if (d.len > 0 && d.p[0] == '[') {
		const char *close = memchr(d.p, ']', d.len);
		if (!close || close == d.p + 1)
			return false;
		for (const char *c = d.p + 1; c < close; c++)
			if (!is_hex(*c) && *c != ':')
				return false;
		host_len = (size_t)(close - d.p) + 1;
	} else {
		const char *colon = memchr(d.p, ':', d.len);
		host_len = colon ? (size_t)(colon - d.p) : d.len;
		if (!domain_name_valid(d.p, host_len))
			return false;
	}
	if (host_len == d.len)
		return true;
	if (d.p[host_len] != ':')
		return false;
	return port_valid(d.p + host_len + 1, d.len - host_len - 1);
}

/* [\w][\w.-]{0,127} */
static bool tag_valid(struct span t)
{
	if (t.len == 0 || t.len > REF_TAG_MAX - 1 || !is_word(t.p[0]))
		return false;
	for (size_t i = 1; i < t.len; i++)
		if (!is_word(t.p[i]) && t.p[i] != '.' && t.p[i] != '-')
			return false;
	return true;
}

/* The generic digest algorithm grammar: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* */
static bool digest_algorithm_valid(const char *s, size_t len)
{
	size_t i = 0;

	for (;;) {
		if (i >= len || !isascii((unsigned char)s[i]) || !isalpha((unsigned char)s[i]))
			return false;
		while (i < len && is_alnum(s[i]))
			i++;
		if (i == len)
			return true;
		if (!strchr("-_+.", s[i]))
			return false;
		i++;
	}
}

static int digest_check(const char *input, struct span d, struct sk_err *err)
{
	const char *colon = memchr(d.p, ':', d.len);
	size_t alg_len, hex_len;

	if (!colon)
		return err_set(err, 0, "invalid reference format: digest has no algorithm in '%s'",
			       input);
	alg_len = (size_t)(colon - d.p);
	hex_len = d.len - alg_len - 1;
	if (!digest_algorithm_valid(d.p, alg_len))
		return err_set(err, 0, "invalid reference format: invalid digest format in '%s'",
			       input);
	if (alg_len != 6 || memcmp(d.p, "sha256", 6) != 0)
		return err_set(err, 0,
			       "invalid reference format: unsupported digest algorithm '%.*s' in "
			       "'%s' (only sha256)",
			       (int)alg_len, d.p, input);
	if (hex_len != 64)
		return err_set(err, 0,
			       "invalid reference format: sha256 digest must have 64 hex digits in "
			       "'%s'",
			       input);
	for (size_t i = 0; i < hex_len; i++)
		if (!((colon[1 + i] >= '0' && colon[1 + i] <= '9') ||
		      (colon[1 + i] >= 'a' && colon[1 + i] <= 'f')))
			return err_set(err, 0,
				       "invalid reference format: sha256 digest must be lowercase "
				       "hex in '%s'",
				       input);
	return 0;
}

/* docker refuses a bare image id, which would otherwise parse as a repository. */
static bool is_64_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void copy_span(char *dst, size_t cap, struct span s)
{
	snprintf(dst, cap, "%.*s", (int)s.len, s.p);
}

/* The domain is the first component when it looks like a host (a '.', a ':',
 * "localhost") or is not lowercase (uppercase namespaces do not exist). */
static bool looks_like_domain(struct span first)
{
	return span_eq(first, "localhost") || memchr(first.p, '.', first.len) ||
	       memchr(first.p, ':', first.len) || span_has_upper(first);
}

/* Splits name[:tag] into domain and the rest (path[:tag]), as splitDockerDomain. */
static void split_domain(struct span name, struct span *domain, struct span *rest)
{
	const char *slash = memchr(name.p, '/', name.len);
	struct span first;

	*domain = (struct span){ DEFAULT_DOMAIN, strlen(DEFAULT_DOMAIN) };
	*rest = name;
	if (!slash)
		return;
	first = (struct span){ name.p, (size_t)(slash - name.p) };
	if (!looks_like_domain(first))
		return;
	*domain = first;
	*rest = (struct span){ slash + 1, name.len - first.len - 1 };
	if (span_eq(first, LEGACY_DEFAULT_DOMAIN))
		*domain = (struct span){ DEFAULT_DOMAIN, strlen(DEFAULT_DOMAIN) };
}

static int check_name(const char *input, struct span domain, struct span path,
		      bool add_library, struct sk_err *err)
{
	size_t total = domain.len + 1 + path.len + (add_library ? strlen(OFFICIAL_REPO_PREFIX) : 0);

	if (!domain_valid(domain))
		return err_set(err, 0,
			       "invalid reference format: invalid registry host '%.*s' in '%s'",
			       (int)domain.len, domain.p, input);
	if (path.len == 0)
		return err_set(err, 0, "invalid reference format: repository name is empty in '%s'",
			       input);
	if (span_has_upper(path))
		return err_set(err, 0,
			       "invalid reference format: repository name must be lowercase "
			       "in '%s'",
			       input);
	if (!path_valid(path))
		return err_set(err, 0,
			       "invalid reference format: invalid repository name '%.*s' in '%s'",
			       (int)path.len, path.p, input);
	if (total > NAME_TOTAL_MAX)
		return err_set(err, 0,
			       "invalid reference format: repository name must not be more than "
			       "%d characters in '%s'",
			       NAME_TOTAL_MAX, input);
	return 0;
}

static int check_input(const char *s, struct sk_err *err)
{
	size_t len = strnlen(s, INPUT_MAX + 1);

	if (len == 0)
		return err_set(err, 0, "invalid reference format: empty reference");
	if (len > INPUT_MAX)
		return err_set(err, 0, "invalid reference format: reference longer than %d bytes",
			       INPUT_MAX);
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || !isascii((unsigned char)s[i]))
			return err_set(err, 0,
				       "invalid reference format: unexpected character 0x%02x at "
				       "offset %zu",
				       (unsigned char)s[i], i);
	if (is_64_hex(s))
		return err_set(err, 0,
			       "invalid reference format: repository name '%s' cannot be a "
			       "64-byte hexadecimal string",
			       s);
	return 0;
}

int ref_parse(const char *s, struct image_ref *out, struct sk_err *err)
{
	struct span all, name, digest = { "", 0 }, domain, rest, path, tag = { "", 0 };
	const char *at, *colon;
	bool add_library;

	memset(out, 0, sizeof(*out));
	if (check_input(s, err) < 0)
		return -1;
	all = (struct span){ s, strlen(s) };
	name = all;
	at = strchr(s, '@');
	if (at) {
		name.len = (size_t)(at - s);
		digest = (struct span){ at + 1, all.len - name.len - 1 };
		if (digest_check(s, digest, err) < 0)
			return -1;
	}
	split_domain(name, &domain, &rest);
	path = rest;
	colon = memchr(rest.p, ':', rest.len);
	if (colon) {
		path.len = (size_t)(colon - rest.p);
		tag = (struct span){ colon + 1, rest.len - path.len - 1 };
		if (!tag_valid(tag))
			return err_set(err, 0,
				       "invalid reference format: invalid tag '%.*s' in '%s'",
				       (int)tag.len, tag.p, s);
	}
	/* Docker Hub's official images live under library/. */
	add_library = span_eq(domain, DEFAULT_DOMAIN) && !memchr(path.p, '/', path.len);
	if (check_name(s, domain, path, add_library, err) < 0)
		return -1;

	copy_span(out->domain, sizeof(out->domain), domain);
	snprintf(out->path, sizeof(out->path), "%s%.*s", add_library ? OFFICIAL_REPO_PREFIX : "",
		 (int)path.len, path.p);
	copy_span(out->digest, sizeof(out->digest), digest);
	if (tag.len)
		copy_span(out->tag, sizeof(out->tag), tag);
	else if (!digest.len)
		snprintf(out->tag, sizeof(out->tag), "latest");
	return 0;
}

void ref_name(const struct image_ref *r, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", r->domain, r->path);
}

void ref_canonical(const struct image_ref *r, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s%s%s%s", r->domain, r->path, r->tag[0] ? ":" : "", r->tag,
		 r->digest[0] ? "@" : "", r->digest);
}

void ref_familiar_name(const struct image_ref *r, char *out, size_t len)
{
	const char *path = r->path;
	size_t plen = strlen(OFFICIAL_REPO_PREFIX);

	if (strcmp(r->domain, DEFAULT_DOMAIN) != 0) {
		snprintf(out, len, "%s/%s", r->domain, r->path);
		return;
	}
	/* "library/<64 hex>" keeps its prefix: a bare 64-hex string is an image id. */
	if (!strncmp(path, OFFICIAL_REPO_PREFIX, plen) && !strchr(path + plen, '/') &&
	    !is_64_hex(path + plen))
		path += plen;
	/* docker.io/example.com/x must not come back as the registry example.com. */
	const char *slash = strchr(path, '/');
	if (slash && looks_like_domain((struct span){ path, (size_t)(slash - path) }))
		snprintf(out, len, "%s/%s", DEFAULT_DOMAIN, path);
	else
		snprintf(out, len, "%s", path);
}

const char *ref_reference(const struct image_ref *r)
{
	return r->digest[0] ? r->digest : r->tag;
}

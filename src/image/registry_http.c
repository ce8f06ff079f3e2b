/*
 * Pure HTTP helpers of the registry client (see registry_http.h). No I/O here:
 * URL handling goes through libcurl's URL API, which parses exactly as the
 * transfers themselves will.
 */
#include "image/registry_http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

long registry_retry_after_ms(const char *value, time_t now)
{
	char *end;
	long long secs;
	time_t when;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!*value)
		return -1;
	if (isdigit((unsigned char)*value)) {
		errno = 0;
		secs = strtoll(value, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end || errno == ERANGE)
			return errno == ERANGE ? REGISTRY_RETRY_AFTER_MAX_MS : -1;
	} else {
		when = curl_getdate(value, NULL);
		if (when == -1)
			return -1;
		secs = when > now ? (long long)(when - now) : 0;
	}
	if (secs > REGISTRY_RETRY_AFTER_MAX_MS / 1000)
		return REGISTRY_RETRY_AFTER_MAX_MS;
	return (long)secs * 1000;
}

long registry_backoff_ms(int attempt)
{
	long ms = REGISTRY_BACKOFF_BASE_MS;

	for (int i = 1; i < attempt && ms < REGISTRY_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < REGISTRY_BACKOFF_MAX_MS ? ms : REGISTRY_BACKOFF_MAX_MS;
}

bool registry_status_is_retryable(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

/* A non-negative decimal that fills [s, *end) exactly; -1 otherwise. */
static int64_t parse_nonneg(const char *s, const char **end)
{
	int64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*end = p;
	return v;
}

int registry_parse_content_range(const char *value, int64_t *start, int64_t *end, int64_t *total)
{
	const char *p;

	if (!value)
		return -1;
	while (*value == ' ')
		value++;
	if (strncasecmp(value, "bytes", 5) != 0 || value[5] != ' ')
		return -1;
	p = value + 6;
	while (*p == ' ')
		p++;
	if ((*start = parse_nonneg(p, &p)) < 0 || *p++ != '-')
		return -1;
	if ((*end = parse_nonneg(p, &p)) < 0 || *end < *start || *p++ != '/')
		return -1;
	if (*p == '*') {
		*total = -1;
		p++;
	} else if ((*total = parse_nonneg(p, &p)) < 0 || *total <= *end) {
		return -1;
	}
	while (*p == ' ' || *p == '\r' || *p == '\n')
		p++;
	return *p ? -1 : 0;
}

/* scheme, host and port of an absolute URL, port defaulted from the scheme. */
static int url_origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	int ret = -1;

	*scheme = *host = *port = NULL;
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		ret = 0;
	curl_url_cleanup(u);
	return ret;
}

bool registry_same_origin(const char *a, const char *b)
{
	char *sa, *ha, *pa, *sb, *hb, *pb;
	bool same = false;
	int ra = url_origin(a, &sa, &ha, &pa);
	int rb = url_origin(b, &sb, &hb, &pb);

	if (ra == 0 && rb == 0)
		same = !strcasecmp(sa, sb) && !strcasecmp(ha, hb) && !strcmp(pa, pb);
	curl_free(sa);
	curl_free(ha);
	curl_free(pa);
	curl_free(sb);
	curl_free(hb);
	curl_free(pb);
	return same;
}

static bool scheme_is_http(const char *scheme)
{
	return scheme && (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https"));
}

int registry_resolve_location(const char *base, const char *location, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *full = NULL;
	int ret = -1;

	if (!u)
		return -1;
	/* Setting a relative URL on a handle holding base resolves it (RFC 3986). */
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && scheme_is_http(scheme) &&
	    curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < len) {
		memcpy(out, full, strlen(full) + 1);
		ret = 0;
	}
	curl_free(scheme);
	curl_free(full);
	curl_url_cleanup(u);
	return ret;
}

void registry_redact_url(const char *url, bool keep_query, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *clean = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    (keep_query || curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK) &&
	    curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK)
		snprintf(out, len, "%s", clean);
	else
		snprintf(out, len, "(unparsable url)");
	curl_free(clean);
	curl_url_cleanup(u);
}

int registry_url_hostport(const char *url, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	int ret = -1, n;

	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			n = snprintf(out, len, "%s:%s", host, port);
		else
			n = snprintf(out, len, "%s", host);
		ret = n > 0 && (size_t)n < len ? 0 : -1;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ret;
}

void registry_media_type(const char *content_type, char *out, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	if (content_type) {
		while (*content_type == ' ' || *content_type == '\t')
			content_type++;
		for (; content_type[n] && content_type[n] != ';' && n + 1 < len; n++)
			out[n] = (char)tolower((unsigned char)content_type[n]);
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
}

/* Copy s into out, replacing anything unprintable so a hostile registry cannot
 * write control sequences to the user's terminal. */
static void copy_printable(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	for (; s[n] && n + 1 < outlen; n++)
		out[n] = isprint((unsigned char)s[n]) ? s[n] : '?';
	out[n] = '\0';
}

static const char *first_message(json_t *root)
{
	json_t *errors = json_object_get(root, "errors");
	json_t *first = json_is_array(errors) ? json_array_get(errors, 0) : NULL;
	const char *keys[] = {"details", "error_description", "message", "error"};
	const char *msg;

	if (json_is_object(first)) {
		msg = json_string_value(json_object_get(first, "message"));
		if (msg && *msg)
			return msg;
		msg = json_string_value(json_object_get(first, "code"));
		if (msg && *msg)
			return msg;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		msg = json_string_value(json_object_get(root, keys[i]));
		if (msg && *msg)
			return msg;
	}
	return NULL;
}

int registry_error_message(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root;
	const char *msg;
	int ret = -1;

	if (!outlen)
		return -1;
	out[0] = '\0';
	if (!body || !len)
		return -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	msg = first_message(root);
	if (msg) {
		copy_printable(msg, out, outlen);
		ret = 0;
	}
	json_decref(root);
	return ret;
}

/* ---- proxies ---------------------------------------------------------------- */

static const char *env_any(const char *upper, const char *lower)
{
	const char *v = getenv(upper);

	if (v && *v)
		return v;
	v = getenv(lower);
	return v && *v ? v : NULL;
}

void registry_proxy_env_get(struct registry_proxy_env *e)
{
	const char *cgi = getenv("REQUEST_METHOD");

	e->http = env_any("HTTP_PROXY", "http_proxy");
	e->https = env_any("HTTPS_PROXY", "https_proxy");
	e->no_proxy = env_any("NO_PROXY", "no_proxy");
	e->cgi = cgi && *cgi;
}

struct ip_addr {
	int af; /* 0: not an address */
	unsigned char a[16];
};

static void ip_parse(const char *s, struct ip_addr *ip)
{
	ip->af = inet_pton(AF_INET, s, ip->a) == 1	 ? AF_INET
		 : inet_pton(AF_INET6, s, ip->a) == 1 ? AF_INET6
						       : 0;
}

static bool ip_is_loopback(const struct ip_addr *ip)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (ip->af == AF_INET)
		return ip->a[0] == 127;
	return ip->af == AF_INET6 && !memcmp(ip->a, v6_loopback, 16);
}

static bool ip_equal(const struct ip_addr *x, const struct ip_addr *y)
{
	return x->af && x->af == y->af && !memcmp(x->a, y->a, x->af == AF_INET ? 4 : 16);
}

/* "10.0.0.0/8" or "fd00::/8" containing ip; false when not a CIDR. */
static bool cidr_contains(const char *entry, const struct ip_addr *ip, bool *is_cidr)
{
	const char *slash = strchr(entry, '/');
	char net_s[INET6_ADDRSTRLEN + 1];
	struct ip_addr net;
	char *end;
	long bits, full;

	*is_cidr = false;
	if (!slash || (size_t)(slash - entry) >= sizeof(net_s) || !isdigit((unsigned char)slash[1]))
		return false;
	snprintf(net_s, sizeof(net_s), "%.*s", (int)(slash - entry), entry);
	ip_parse(net_s, &net);
	bits = strtol(slash + 1, &end, 10);
	if (!net.af || *end || bits < 0 || bits > (net.af == AF_INET ? 32 : 128))
		return false;
	*is_cidr = true;
	if (ip->af != net.af)
		return false;
	full = bits / 8;
	if (memcmp(ip->a, net.a, (size_t)full))
		return false;
	return bits % 8 == 0 ||
	       !((ip->a[full] ^ net.a[full]) & (unsigned char)(0xff << (8 - bits % 8)));
}

/* An entry's host and port, as Go's net.SplitHostPort when the entry has a
 * port ("h:80", "[::1]:80"); otherwise the whole entry is the host. */
static void entry_host_port(char *entry, char **host, const char **port)
{
	char *colon = strrchr(entry, ':');

	*host = entry;
	*port = "";
	if (entry[0] == '[') {
		char *close = strchr(entry, ']');
		if (close && (close[1] == '\0' || close[1] == ':')) {
			*port = close[1] ? close + 2 : "";
			*close = '\0';
			*host = entry + 1;
		}
	} else if (colon && colon == strchr(entry, ':')) {
		*colon = '\0';
		*port = colon + 1;
	}
}

static bool domain_matches(const char *pattern, const char *host)
{
	size_t hl = strlen(host), pl;
	bool match_host = true;

	if (!strncmp(pattern, "*.", 2))
		pattern++;
	if (pattern[0] == '.')
		match_host = false;
	else if (!strcmp(host, pattern))
		return true;
	pl = strlen(pattern);
	/* "d" matches "x.d" (a dot before it), ".d" too */
	if (!match_host)
		return hl >= pl && !strcmp(host + hl - pl, pattern);
	return hl > pl && host[hl - pl - 1] == '.' && !strcmp(host + hl - pl, pattern);
}

/* One NO_PROXY entry (trimmed, lowercase) against host (lowercase, no
 * brackets) and port. */
static bool no_proxy_entry_matches(char *entry, const char *host, const struct ip_addr *ip,
				   const char *port)
{
	struct ip_addr eip;
	const char *eport;
	char *ehost;
	bool is_cidr, in_cidr;

	if (!strcmp(entry, "*"))
		return true;
	in_cidr = cidr_contains(entry, ip, &is_cidr);
	if (is_cidr)
		return in_cidr;
	entry_host_port(entry, &ehost, &eport);
	if (!*ehost)
		return false; /* Go: no host part, a malformed entry */
	ip_parse(ehost, &eip);
	if (eip.af)
		return ip_equal(&eip, ip) && (!*eport || !strcmp(eport, port));
	if (ip->af)
		return false; /* a domain never matches an address */
	return domain_matches(ehost, host) && (!*eport || !strcmp(eport, port));
}

static bool no_proxy_matches(const char *list, const char *host, const struct ip_addr *ip,
			     const char *port)
{
	char entry[512];

	while (list && *list) {
		size_t n = strcspn(list, ",");
		const char *s = list;

		list += n + (list[n] == ',');
		while (n && isspace((unsigned char)*s))
			s++, n--;
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (!n || n >= sizeof(entry))
			continue;
		for (size_t i = 0; i < n; i++)
			entry[i] = (char)tolower((unsigned char)s[i]);
		entry[n] = '\0';
		if (no_proxy_entry_matches(entry, host, ip, port))
			return true;
	}
	return false;
}

/* host (lowercase, brackets off) and port (the scheme's default when absent). */
static int url_host_port(const char *url, char *scheme, char *host, size_t hlen, char *port)
{
	char *sch = NULL, *h = NULL, *p = NULL;
	CURLU *u = curl_url();
	int ret = -1;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    strlen(sch) < 8 && strlen(p) < 8) {
		const char *hs = h[0] == '[' ? h + 1 : h;
		size_t n = strcspn(hs, "]");

		if (n < hlen) {
			for (size_t i = 0; i < n; i++)
				host[i] = (char)tolower((unsigned char)hs[i]);
			host[n] = '\0';
			for (size_t i = 0; sch[i]; i++)
				scheme[i] = (char)tolower((unsigned char)sch[i]);
			scheme[strlen(sch)] = '\0';
			snprintf(port, 8, "%s", p);
			ret = 0;
		}
	}
	curl_free(sch);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return ret;
}

int registry_proxy_for_url(const struct registry_proxy_env *e, const char *url, char *out,
			   size_t len)
{
	char scheme[8], host[256], port[8];
	const char *proxy;
	struct ip_addr ip;
	int n;

	if (url_host_port(url, scheme, host, sizeof(host), port) < 0)
		return -1;
	if (!strcmp(scheme, "https"))
		proxy = e->https;
	else
		proxy = e->cgi ? NULL : e->http;
	if (!proxy)
		return 0;
	ip_parse(host, &ip);
	if (!strcmp(host, "localhost") || ip_is_loopback(&ip) ||
	    no_proxy_matches(e->no_proxy, host, &ip, port))
		return 0;
	/* Go parses a scheme-less proxy ("proxy:3128") as http://proxy:3128. */
	n = snprintf(out, len, "%s%s", strstr(proxy, "://") ? "" : "http://", proxy);
	return n > 0 && (size_t)n < len ? 1 : -1;
}

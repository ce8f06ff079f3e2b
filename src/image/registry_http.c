/*
 * Pure HTTP helpers of the registry client (see registry_http.h). No I/O here:
 * URL handling goes through libcurl's URL API, which parses exactly as the
 * transfers themselves will.
 */
#include "image/registry_http.h"

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

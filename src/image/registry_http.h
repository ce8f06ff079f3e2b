/*
 * Pure HTTP helpers of the registry client, kept apart so that unit tests can
 * check them without a network: Retry-After and Content-Range parsing, the
 * same-origin rule for redirects, Location resolution, URL redaction for the
 * debug trace, media types, backoff and the registry's JSON error bodies.
 */
#ifndef SKIFF_REGISTRY_HTTP_H
#define SKIFF_REGISTRY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define REGISTRY_RETRY_AFTER_MAX_MS 30000L
#define REGISTRY_BACKOFF_BASE_MS 200L
#define REGISTRY_BACKOFF_MAX_MS 5000L

/* Milliseconds to wait from a Retry-After value: delta-seconds or an HTTP date
 * (relative to now), capped at REGISTRY_RETRY_AFTER_MAX_MS. -1 when absent or
 * unparsable; 0 for a date in the past. */
long registry_retry_after_ms(const char *value, time_t now);

/* Backoff before retry number `attempt` (1 = first retry): 200 ms doubling, capped. */
long registry_backoff_ms(int attempt);

/* Statuses worth retrying: 408, 429, 500, 502, 503, 504. */
bool registry_status_is_retryable(long status);

/* "bytes START-END/TOTAL" (TOTAL may be "*", giving -1). Returns 0 or -1. */
int registry_parse_content_range(const char *value, int64_t *start, int64_t *end, int64_t *total);

/* True when both absolute URLs have the same scheme, host (case-insensitive)
 * and port (default ports filled in): the only case where Authorization may
 * follow a redirect. Unparsable URLs are never the same origin. */
bool registry_same_origin(const char *a, const char *b);

/* Resolve a Location header against the URL that sent it into out. Only http
 * and https results are accepted. Returns 0, or -1 (bad, other scheme, too long). */
int registry_resolve_location(const char *base, const char *location, char *out, size_t len);

/* The URL for the debug trace: no user/password and, unless keep_query, no
 * query (presigned blob-storage URLs carry signatures there). */
void registry_redact_url(const char *url, bool keep_query, char *out, size_t len);

/* "host[:port]" of an absolute URL (port only when explicit). Returns 0 or -1. */
int registry_url_hostport(const char *url, char *out, size_t len);

/* Media type from a Content-Type value: parameters and spaces stripped, lowercase. */
void registry_media_type(const char *content_type, char *out, size_t len);

/* The message in a registry or token-server error body
 * ({"errors":[{"code":..,"message":..}]}, {"details":..}, {"error":..}), made
 * printable and bounded. Returns 0 when found, -1 otherwise (out is then ""). */
int registry_error_message(const char *body, size_t len, char *out, size_t outlen);

/* The proxy settings as docker's Go reads them from the environment:
 * HTTP_PROXY/http_proxy, HTTPS_PROXY/https_proxy, NO_PROXY/no_proxy (upper
 * case first; an empty value is unset), and REQUEST_METHOD (a CGI program
 * must not trust HTTP_PROXY, golang.org/x/net issue 16405). */
struct registry_proxy_env {
	const char *http;
	const char *https;
	const char *no_proxy;
	bool cgi;
};
void registry_proxy_env_get(struct registry_proxy_env *e);

/* The proxy for an http(s) URL, with Go's httpproxy rules: HTTPS_PROXY for
 * https, HTTP_PROXY for http; never for localhost or a loopback address;
 * never when NO_PROXY matches ("*"; an IP or CIDR; a domain and its
 * subdomains, ".d" or "*.d" for subdomains only; each with an optional
 * ":port"); a proxy without a scheme is http://. Returns 1 with the proxy URL
 * in out, 0 for a direct connection, -1 for an unparsable URL or a proxy
 * that does not fit out. */
int registry_proxy_for_url(const struct registry_proxy_env *e, const char *url, char *out,
			   size_t len);

#endif

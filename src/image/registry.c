/*
 * Registry client on libcurl (see registry.h for the contract).
 *
 * A request goes through four layers, innermost first:
 *   perform_once       one HTTP exchange; headers and body captured (bounded)
 *   fetch_redirecting  follows up to 10 redirects by hand, so that the
 *                      Authorization header only ever goes to the origin it
 *                      was meant for (same scheme, host and port)
 *   fetch_retrying     retries connection errors, timeouts, 408/429/5xx with
 *                      backoff or Retry-After; a stream resumes with Range from
 *                      the next byte the sink has not seen
 *   endpoint_request   ping (cached), Authorization (Bearer token cache, Basic),
 *                      one fresh-token retry on 401
 * and registry_* walk the endpoints: docker.io mirrors first, then the origin.
 *
 * Insecure registries follow docker: https without certificate verification
 * first, then plain http; the https attempt costs one failed handshake per
 * process against a plain-http registry, and a registry that does serve TLS
 * (e.g. on 127.0.0.1) keeps working.
 *
 * Threads: pull threads share one struct registry. Endpoint state, credentials
 * and tokens sit behind auth_lock (held across a ping or a token fetch, so that
 * parallel layer downloads wait for one token instead of fetching three); TLS
 * material behind tls_lock; each call uses its own curl easy handle; a CURLSH
 * shares connections, DNS and TLS sessions between them.
 */
#include "image/registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "image/auth.h"
#include "image/credstore.h"
#include "image/manifest.h"
#include "image/registry_http.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define DOCKER_HUB_HOST "docker.io"
#define DOCKER_HUB_ORIGIN "https://registry-1.docker.io"
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define USER_AGENT "skiff/" SKIFF_VERSION

#define MAX_ENDPOINTS (CONFIG_MAX_LIST + 2)
#define MAX_TLS_HOSTS 16
#define MAX_TOKENS 64
#define MAX_REDIRECTS 10
#define MAX_ATTEMPTS 5
#define RECV_BUFFER_SIZE (512L * 1024)
#define CONNECT_TIMEOUT_S 30L
#define LOW_SPEED_BYTES 1024L /* below this many bytes/s ... */
#define LOW_SPEED_TIME_S 30L  /* ... for this long, a transfer is abandoned */
#define ERROR_BODY_MAX (16u << 10)
#define TOKEN_REPLY_MAX (256u << 10)
#define PING_BODY_MAX (64u << 10)
#define CA_FILE_MAX (4u << 20)
#define TOKEN_MARGIN_S 10
#define URL_MAX 8192
#define AUTH_HEADER_MAX (64u << 10)

#define SCHEMA1_ACCEPT                                                                             \
	"application/vnd.docker.distribution.manifest.v1+prettyjws, "                              \
	"application/vnd.docker.distribution.manifest.v1+json"

enum endpoint_state { EP_UNKNOWN, EP_ALIVE, EP_DEAD };

struct endpoint {
	char base[512];	    /* scheme://host[:port][/path], no trailing slash */
	char hostport[256]; /* certs.d directory name and credentials key */
	bool is_mirror;
	bool skip_verify; /* insecure registry over https, as docker does */
	bool insecure;	  /* either half of an insecure registry (https, then http) */
	/* The rest is guarded by reg->auth_lock. */
	enum endpoint_state state;
	struct sk_err dead_err;
	struct auth_challenge challenge; /* from the /v2/ ping; AUTH_NONE when open */
	bool creds_loaded;
	struct auth_creds creds; /* credentials.h: helper, config.json or login's */
};

struct tls_host {
	char hostport[256];
	struct curl_blob ca; /* system bundle + certs.d/HOST CAs; data NULL if none */
	char client_cert[4352];
	char client_key[4352];
};

struct token {
	size_t ep;
	char scope[1024];
	char *value;
	struct timespec expires; /* CLOCK_MONOTONIC */
};

struct registry {
	char host[256];
	char certs_dir[4096];
	char docker_config_dir[4096];
	struct endpoint eps[MAX_ENDPOINTS];
	size_t n_eps;

	pthread_mutex_t auth_lock;
	struct token tokens[MAX_TOKENS];
	size_t n_tokens;

	pthread_mutex_t tls_lock;
	struct tls_host tls[MAX_TLS_HOSTS];
	size_t n_tls;

	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	struct registry_proxy_env proxy_env; /* read once, as docker's daemon does */

	/* The store where an insecure registry's plain-HTTP answer is kept
	 * (plain-http/<host:port>), borrowed; -1: remember nothing. */
	int memory_fd;
	bool plain_remembered; /* guarded by auth_lock */
};

/* Like err_set, but the errno is only recorded for callers to test (ENOENT,
 * EACCES...), not appended as strerror text: the message already says it. */
__attribute__((format(printf, 3, 4))) static int fail(struct sk_err *err, int errnum,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->errnum = errnum;
	return -1;
}

/* ---------- reply capture ---------- */

/* What one exchange returned: status, the headers we use, and the body of a
 * non-2xx reply (bounded: registries put their JSON error there). */
struct reply {
	CURLcode cc;
	char curl_msg[CURL_ERROR_SIZE];
	long os_errno; /* the system's word for a failed connect */
	long status;
	char www_auth[2048];
	char content_type[256];
	char docker_digest[128];
	char content_range[128];
	char location[URL_MAX];
	bool location_too_long;
	char retry_after[64];
	int64_t content_length; /* -1 when absent */
	struct buf err_body;
};

/* Where a successful body goes: a bounded buffer, or a sink fed in order. */
struct xfer {
	struct reply reply;
	/* buffered mode (sink == NULL) */
	struct buf *body;
	bool body_too_big;
	/* stream mode */
	registry_sink_fn sink;
	void *sink_ctx;
	struct sk_err sink_err;
	bool sink_failed;
	int64_t next;  /* absolute offset of the next byte the sink has not seen */
	int64_t limit; /* expected size, -1 when unknown */
	bool too_many;
	/* per exchange */
	int64_t range_from; /* Range asked for (0: none) */
	bool body_started;
	bool deliver;
	bool range_bad;
	int64_t pos; /* absolute offset of the next byte of this reply */
	/* Set when an error must not make the caller try another endpoint. */
	bool fatal;
};

static void copy_header_value(char *dst, size_t dstlen, const char *v, size_t vlen, bool *too_long)
{
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= dstlen) {
		if (too_long)
			*too_long = true;
		vlen = dstlen - 1;
	}
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* Matches "Name:" case-insensitively; returns the value start or NULL. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	*vlen = len;
	return line;
}

static void reply_reset(struct reply *r)
{
	struct buf keep = r->err_body;

	memset(r, 0, sizeof(*r));
	r->err_body = keep;
	buf_reset(&r->err_body);
	r->content_length = -1;
}

/* A status line starts a new header block (after 100-continue, or when curl
 * reports a proxy CONNECT reply first): forget what came before. */
static void reply_new_status(struct reply *r, const char *line, size_t len)
{
	char tmp[64];
	char *sp;

	copy_header_value(tmp, sizeof(tmp), line, len, NULL);
	reply_reset(r);
	sp = strchr(tmp, ' ');
	r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
}

static void reply_header(struct reply *r, const char *line, size_t len)
{
	const char *v;
	size_t vl;

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		reply_new_status(r, line, len);
	} else if ((v = header_value(line, len, "www-authenticate", &vl))) {
		/* Prefer a Bearer challenge when several are offered. */
		if (!r->www_auth[0] || (strncasecmp(r->www_auth, "bearer", 6) != 0 && vl >= 6 &&
					!strncasecmp(v, "bearer", 6)))
			copy_header_value(r->www_auth, sizeof(r->www_auth), v, vl, NULL);
	} else if ((v = header_value(line, len, "content-type", &vl))) {
		copy_header_value(r->content_type, sizeof(r->content_type), v, vl, NULL);
	} else if ((v = header_value(line, len, "docker-content-digest", &vl))) {
		copy_header_value(r->docker_digest, sizeof(r->docker_digest), v, vl, NULL);
	} else if ((v = header_value(line, len, "content-range", &vl))) {
		copy_header_value(r->content_range, sizeof(r->content_range), v, vl, NULL);
	} else if ((v = header_value(line, len, "location", &vl))) {
		copy_header_value(r->location, sizeof(r->location), v, vl, &r->location_too_long);
	} else if ((v = header_value(line, len, "retry-after", &vl))) {
		copy_header_value(r->retry_after, sizeof(r->retry_after), v, vl, NULL);
	} else if ((v = header_value(line, len, "content-length", &vl))) {
		char tmp[32];
		char *end;

		copy_header_value(tmp, sizeof(tmp), v, vl, NULL);
		r->content_length = strtoll(tmp, &end, 10);
		if (end == tmp || *end || r->content_length < 0)
			r->content_length = -1;
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;

	reply_header(&x->reply, data, size * nmemb);
	return size * nmemb;
}

/* At the first body byte the status is known: decide where the body goes. */
static bool body_begin(struct xfer *x)
{
	int64_t start, end, total;
	long st = x->reply.status;

	x->body_started = true;
	x->deliver = st == 200 || (st == 206 && x->sink);
	x->pos = 0;
	if (st == 206 && x->sink) {
		int bad =
		    registry_parse_content_range(x->reply.content_range, &start, &end, &total);

		if (bad || start != x->range_from) {
			x->range_bad = true;
			return false;
		}
		x->pos = start;
	}
	return true;
}

/* Stream mode: drop what the sink already has (a 200 to a Range request
 * restarts at 0), then hand the rest over, never past the expected size. */
static bool body_to_sink(struct xfer *x, const char *data, size_t len)
{
	int64_t skip = x->next - x->pos;

	x->pos += (int64_t)len;
	if (skip >= (int64_t)len)
		return true;
	if (skip > 0) {
		data += skip;
		len -= (size_t)skip;
	}
	if (x->limit >= 0 && x->next + (int64_t)len > x->limit) {
		x->too_many = true;
		return false;
	}
	if (x->sink(data, len, x->sink_ctx, &x->sink_err) < 0) {
		x->sink_failed = true;
		return false;
	}
	x->next += (int64_t)len;
	return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * nmemb;

	if (!x->body_started && !body_begin(x))
		return 0;
	if (!x->deliver) {
		/* Error bodies: keep the start, silently drop the rest. */
		size_t room = x->reply.err_body.max - x->reply.err_body.len;
		buf_append(&x->reply.err_body, data, len < room ? len : room);
		return len;
	}
	if (x->sink)
		return body_to_sink(x, data, len) ? len : 0;
	if (buf_append(x->body, data, len) < 0) {
		x->body_too_big = true;
		return 0;
	}
	return len;
}

/* ---------- TLS material per host ---------- */

static int append_file(struct buf *b, const char *path, struct sk_err *err)
{
	cleanup_buf struct buf content = BUF_INIT(CA_FILE_MAX);

	if (fs_read_file(AT_FDCWD, path, CA_FILE_MAX, &content, err) < 0)
		return -1;
	if (buf_append(b, content.data, content.len) < 0 || buf_append(b, "\n", 1) < 0)
		return err_set(err, ENOMEM, "cannot add certificate '%s'", path);
	return 0;
}

static bool name_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && !strcmp(name + n - s, suffix);
}

/* docker's certs.d layout: *.crt are extra CAs, NAME.cert + NAME.key a client pair. */
static int tls_scan_dir(const char *dir, struct tls_host *t, struct buf *cas, struct sk_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;
	char path[4352];

	if (!d)
		return 0;
	while (ret == 0 && (de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (name_has_suffix(de->d_name, ".crt")) {
			if (!cas->len && append_file(cas, SYSTEM_CA_BUNDLE, err) < 0)
				log_debug("no system CA bundle: %s", err->msg);
			ret = append_file(cas, path, err);
		} else if (name_has_suffix(de->d_name, ".cert")) {
			size_t n = strlen(path) - strlen(".cert");
			snprintf(t->client_cert, sizeof(t->client_cert), "%s", path);
			snprintf(t->client_key, sizeof(t->client_key), "%.*s.key", (int)n, path);
		}
	}
	closedir(d);
	return ret;
}

static int tls_load(struct registry *reg, struct tls_host *t, struct sk_err *err)
{
	char dir[4352];
	struct buf cas = BUF_INIT(4 * CA_FILE_MAX);

	snprintf(dir, sizeof(dir), "%s/%s", reg->certs_dir, t->hostport);
	if (tls_scan_dir(dir, t, &cas, err) < 0) {
		buf_release(&cas);
		return err_wrap(err, "cannot load certificates of '%s'", t->hostport);
	}
	if (cas.len) {
		log_debug("using extra CA certificates from '%s'", dir);
		t->ca.len = cas.len;
		t->ca.data = buf_detach(&cas, NULL);
		t->ca.flags = CURL_BLOB_NOCOPY;
	}
	return 0;
}

/* The TLS settings for a host, loaded once. NULL with err on a broken certs.d. */
static const struct tls_host *tls_for_host(struct registry *reg, const char *hostport,
					   struct sk_err *err)
{
	struct tls_host *t = NULL;

	pthread_mutex_lock(&reg->tls_lock);
	for (size_t i = 0; i < reg->n_tls; i++)
		if (!strcmp(reg->tls[i].hostport, hostport))
			t = &reg->tls[i];
	if (!t && reg->n_tls < MAX_TLS_HOSTS) {
		t = &reg->tls[reg->n_tls];
		memset(t, 0, sizeof(*t));
		snprintf(t->hostport, sizeof(t->hostport), "%s", hostport);
		if (tls_load(reg, t, err) < 0)
			t = NULL;
		else
			reg->n_tls++;
	}
	pthread_mutex_unlock(&reg->tls_lock);
	return t;
}

static int apply_tls(struct registry *reg, CURL *h, const char *url, bool skip_verify,
		     struct sk_err *err)
{
	char hostport[256];
	const struct tls_host *t;

	if (strncasecmp(url, "https:", 6) != 0)
		return 0;
	if (skip_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (registry_url_hostport(url, hostport, sizeof(hostport)) < 0)
		return err_set(err, 0, "invalid url '%s'", url);
	t = tls_for_host(reg, hostport, err);
	if (!t)
		return -1;
	if (t->ca.data)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &t->ca);
	if (t->client_cert[0]) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, t->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, t->client_key);
	}
	return 0;
}

/* ---------- one exchange ---------- */

/* The proxy is always set explicitly, by docker's rules (registry_http.h):
 * left alone, libcurl would read only a lower-case http_proxy, apply its own
 * NO_PROXY matching, and proxy loopback registries, which docker never does. */
static void apply_proxy(struct registry *reg, CURL *h, const char *url)
{
	char proxy[2048], shown[2048];
	int r = registry_proxy_for_url(&reg->proxy_env, url, proxy, sizeof(proxy));

	curl_easy_setopt(h, CURLOPT_PROXY, r == 1 ? proxy : "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "");
	if (r == 1 && log_debug_enabled()) {
		registry_redact_url(proxy, false, shown, sizeof(shown));
		log_debug("through proxy %s", shown);
	}
}

static void set_common_options(struct registry *reg, CURL *h, struct xfer *x)
{
	curl_easy_setopt(h, CURLOPT_SHARE, reg->share);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* One TCP connection per layer beats multiplexing for bulk transfer. */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, RECV_BUFFER_SIZE);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->reply.curl_msg);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
}

static void xfer_begin_exchange(struct xfer *x)
{
	reply_reset(&x->reply);
	x->body_started = false;
	x->deliver = false;
	x->range_bad = false;
	x->range_from = x->sink ? x->next : 0;
	if (!x->sink && x->body)
		buf_reset(x->body);
}

static void trace(const char *method, const char *url, bool keep_query, const struct reply *r)
{
	char shown[1024];

	if (!log_debug_enabled())
		return;
	registry_redact_url(url, keep_query, shown, sizeof(shown));
	if (r->cc == CURLE_OK || r->status)
		log_debug("%s %s -> %ld", method, shown, r->status);
	else
		log_debug("%s %s -> error: %s", method, shown,
			  r->curl_msg[0] ? r->curl_msg : curl_easy_strerror(r->cc));
}

/* One GET of url, or a POST of a form when post is set. Returns -1 only for
 * local failures (err set); HTTP and transfer outcomes are in x->reply. */
static int perform_once(struct registry *reg, CURL *h, const char *url, struct curl_slist *hdrs,
			const char *post, bool skip_verify, bool trace_query, struct xfer *x,
			struct sk_err *err)
{
	curl_easy_reset(h);
	xfer_begin_exchange(x);
	set_common_options(reg, h, x);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	apply_proxy(reg, h, url);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	if (apply_tls(reg, h, url, skip_verify, err) < 0)
		return -1;
	x->reply.cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->reply.status);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &x->reply.os_errno);
	trace(post ? "POST" : "GET", url, trace_query, &x->reply);
	return 0;
}

/* ---------- redirects ---------- */

struct target {
	const char *url;    /* absolute, where the request starts */
	const char *auth;   /* "Authorization: ..." or NULL; only sent to url's origin */
	const char *accept; /* Accept value or NULL */
	const char *post;   /* a form to POST (OAuth2 token requests); NULL: GET */
	bool skip_verify;   /* only for url's origin */
	bool trace_query;   /* log the query string (token requests) */
	int max_attempts;   /* 0: MAX_ATTEMPTS */
};

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static struct curl_slist *build_headers(const struct target *t, const struct xfer *x,
					bool same_origin)
{
	struct curl_slist *l = NULL, *n;
	char line[128];

	if (t->accept) {
		char accept[1024];
		snprintf(accept, sizeof(accept), "Accept: %s", t->accept);
		l = curl_slist_append(l, accept);
	}
	if (x->sink && x->next > 0) {
		snprintf(line, sizeof(line), "Range: bytes=%" PRId64 "-", x->next);
		n = curl_slist_append(l, line);
		l = n ? n : l;
	}
	if (t->auth && same_origin) {
		n = curl_slist_append(l, t->auth);
		l = n ? n : l;
	}
	return l;
}

static int fetch_redirecting(struct registry *reg, CURL *h, const struct target *t, struct xfer *x,
			     struct sk_err *err)
{
	cleanup_free char *url = strdup(t->url);
	char next[URL_MAX];

	if (!url)
		return err_set(err, ENOMEM, "out of memory");
	for (int hops = 0;; hops++) {
		bool same = registry_same_origin(url, t->url);
		struct curl_slist *hdrs = build_headers(t, x, same);
		int r = perform_once(reg, h, url, hdrs, t->post, same && t->skip_verify,
				     same && t->trace_query, x, err);

		curl_slist_free_all(hdrs);
		if (r < 0)
			return -1;
		/* A form is never replayed elsewhere: its refresh token stays home. */
		if (x->reply.cc != CURLE_OK || !is_redirect(x->reply.status) || t->post)
			return 0;
		if (hops >= MAX_REDIRECTS)
			return err_set(err, 0, "too many redirects fetching '%s'", t->url);
		if (!x->reply.location[0] || x->reply.location_too_long ||
		    registry_resolve_location(url, x->reply.location, next, sizeof(next)) < 0)
			return err_set(err, 0, "invalid redirect from '%s'", t->url);
		free(url);
		url = strdup(next);
		if (!url)
			return err_set(err, ENOMEM, "out of memory");
	}
}

/* ---------- retries ---------- */

/* Only what a second attempt can fix: a connection that broke or stalled
 * once it was answering. A refused connection or a name that does not
 * resolve fails the same way again (docker does not retry them either), and
 * a timeout before any answer already cost its CONNECT_TIMEOUT_S. */
static bool curl_error_is_transient(CURLcode cc, bool answered)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return answered;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_READ_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

static bool is_success(long status)
{
	return status >= 200 && status < 300;
}

/* Did this exchange break in a way that a later attempt can fix? */
static bool exchange_is_transient(const struct xfer *x)
{
	const struct reply *r = &x->reply;

	if (x->sink_failed || x->too_many || x->range_bad || x->body_too_big)
		return false;
	if (r->cc != CURLE_OK)
		return curl_error_is_transient(r->cc, r->status != 0 || x->body_started);
	if (registry_status_is_retryable(r->status))
		return true;
	/* A stream that ended cleanly but short of the expected size. */
	return x->sink && is_success(r->status) && x->limit >= 0 && x->next < x->limit;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long retry_delay_ms(const struct reply *r, int attempt)
{
	long ms = registry_retry_after_ms(r->retry_after, time(NULL));

	return ms >= 0 ? ms : registry_backoff_ms(attempt);
}

/* "status 503" or the curl error, for messages. */
static void describe_failure(const struct xfer *x, char *out, size_t len)
{
	const struct reply *r = &x->reply;

	int n;

	if (r->cc == CURLE_COULDNT_CONNECT && r->os_errno > 0)
		n = snprintf(out, len, "%s", strerror((int)r->os_errno));
	else if (r->cc != CURLE_OK)
		n = snprintf(out, len, "%s",
			     r->curl_msg[0] ? r->curl_msg : curl_easy_strerror(r->cc));
	else if (is_success(r->status) && x->sink)
		n = snprintf(out, len, "truncated");
	else
		n = snprintf(out, len, "status %ld", r->status);
	if (x->sink && x->limit >= 0 && n > 0 && (size_t)n < len)
		snprintf(out + n, len - n, ", received %" PRId64 " of %" PRId64 " bytes", x->next,
			 x->limit);
	else if (x->sink && n > 0 && (size_t)n < len)
		snprintf(out + n, len - n, ", received %" PRId64 " bytes", x->next);
}

/* The local failures of the stream checks, as errors that stop everything. */
static int stream_check(struct xfer *x, const char *what, struct sk_err *err)
{
	if (x->sink_failed) {
		x->fatal = true;
		*err = x->sink_err;
		return -1;
	}
	if (x->too_many) {
		x->fatal = true;
		return fail(err, EFBIG,
			    "%s: registry sent more than the expected %" PRId64 " bytes", what,
			    x->limit);
	}
	if (x->range_bad)
		return err_set(err, 0,
			       "%s: registry answered a request for bytes %" PRId64
			       "- with range '%s'",
			       what, x->range_from, x->reply.content_range);
	if (x->body_too_big) {
		x->fatal = true;
		return fail(err, EFBIG, "%s: reply is larger than %zu bytes", what, x->body->max);
	}
	return 0;
}

/* Runs the request until it gives a final reply (any status) or the retries
 * run out. Progress on a stream resets the attempt count: only consecutive
 * failures without a new byte count. */
static int fetch_retrying(struct registry *reg, CURL *h, const struct target *t, const char *what,
			  struct xfer *x, struct sk_err *err)
{
	char why[CURL_ERROR_SIZE + 64];
	int max_attempts = t->max_attempts ? t->max_attempts : MAX_ATTEMPTS;

	for (int failures = 0;;) {
		int64_t before = x->next;

		if (fetch_redirecting(reg, h, t, x, err) < 0)
			return -1;
		if (stream_check(x, what, err) < 0)
			return -1;
		if (!exchange_is_transient(x))
			break;
		if (x->next > before)
			failures = 0;
		describe_failure(x, why, sizeof(why));
		if (++failures >= max_attempts)
			return err_set(err, 0, "%s: %s (after %d attempts)", what, why, failures);
		long ms = retry_delay_ms(&x->reply, failures);
		log_debug("%s: %s; retry %d in %ld ms", what, why, failures, ms);
		sleep_ms(ms);
	}
	if (x->reply.cc != CURLE_OK) {
		describe_failure(x, why, sizeof(why));
		return err_set(err, 0, "%s: %s", what, why);
	}
	return 0;
}

/* ---------- credentials and tokens (callers hold auth_lock) ---------- */

/* The endpoint's credentials, looked up once (a helper runs at most once
 * per endpoint and process, and only when the registry asks for them). */
static int endpoint_credentials(struct registry *reg, struct endpoint *ep,
				const struct auth_creds **creds, struct sk_err *err)
{
	/* The origin answers to the ref's host name in config.json; a mirror to its own. */
	const char *key = ep->is_mirror ? ep->hostport : reg->host;

	if (!ep->creds_loaded) {
		if (credstore_get(reg->docker_config_dir, key, &ep->creds, err) < 0)
			return err_wrap(err, "cannot read credentials for '%s'", key);
		ep->creds_loaded = true;
	}
	*creds = &ep->creds;
	return 0;
}

static int basic_header(const char *user, const char *pass, struct buf *out, struct sk_err *err)
{
	cleanup_buf struct buf plain = BUF_INIT(AUTH_HEADER_MAX / 2);
	cleanup_free char *b64 = NULL;

	if (buf_appendf(&plain, "%s:%s", user, pass) < 0)
		return err_set(err, E2BIG, "credentials are too long");
	b64 = malloc(b64_encoded_len(plain.len) + 1);
	if (!b64)
		return err_set(err, ENOMEM, "out of memory");
	b64_encode(plain.data, plain.len, b64);
	explicit_bzero(plain.data, plain.len);
	buf_reset(out);
	if (buf_appendf(out, "Authorization: Basic %s", b64) < 0)
		return err_set(err, E2BIG, "credentials are too long");
	return 0;
}

static void monotonic_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static struct token *token_find(struct registry *reg, size_t ep, const char *scope)
{
	for (size_t i = 0; i < reg->n_tokens; i++)
		if (reg->tokens[i].ep == ep && !strcmp(reg->tokens[i].scope, scope))
			return &reg->tokens[i];
	return NULL;
}

static void token_store(struct registry *reg, size_t ep, const char *scope, char *value,
			long expires_in)
{
	struct token *t = token_find(reg, ep, scope);
	long margin;

	/* A token server's word, bounded: never cached past a day, never negative. */
	expires_in = expires_in < 0 ? 0 : expires_in > 86400 ? 86400 : expires_in;
	margin = expires_in > 2 * TOKEN_MARGIN_S ? TOKEN_MARGIN_S : expires_in / 2;

	if (!t) {
		/* Full: drop the oldest slot; a pull uses a handful of scopes. */
		if (reg->n_tokens == MAX_TOKENS) {
			free(reg->tokens[0].value);
			memmove(&reg->tokens[0], &reg->tokens[1],
				sizeof(reg->tokens[0]) * (MAX_TOKENS - 1));
			reg->n_tokens--;
		}
		t = &reg->tokens[reg->n_tokens++];
		memset(t, 0, sizeof(*t));
		t->ep = ep;
		snprintf(t->scope, sizeof(t->scope), "%s", scope);
	}
	free(t->value);
	t->value = value;
	monotonic_now(&t->expires);
	t->expires.tv_sec += expires_in - margin;
}

static bool token_is_fresh(const struct token *t)
{
	struct timespec now;

	monotonic_now(&now);
	return t->value && now.tv_sec < t->expires.tv_sec;
}

static int append_query_param(struct buf *url, const char *key, const char *value,
			      struct sk_err *err)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	int r;

	if (!esc)
		return err_set(err, ENOMEM, "out of memory");
	r = buf_appendf(url, "%c%s=%s", strchr(url->data, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	if (r < 0)
		return err_set(err, E2BIG, "token url is too long");
	return 0;
}

static int token_url(const struct auth_challenge *ch, const char *scope, const char *user,
		     struct buf *url, struct sk_err *err)
{
	if (strncasecmp(ch->realm, "https://", 8) != 0 && strncasecmp(ch->realm, "http://", 7) != 0)
		return err_set(err, 0, "unsupported token realm '%s'", ch->realm);
	if (buf_appendf(url, "%s", ch->realm) < 0)
		return err_set(err, E2BIG, "token realm is too long");
	if (ch->service[0] && append_query_param(url, "service", ch->service, err) < 0)
		return -1;
	if (scope && scope[0] && append_query_param(url, "scope", scope, err) < 0)
		return -1;
	/* docker sends the account name along with credentials. */
	if (user && append_query_param(url, "account", user, err) < 0)
		return -1;
	return 0;
}

static int token_refused(const struct xfer *x, const char *host, bool had_credentials,
			 struct sk_err *err)
{
	char msg[256];

	if (registry_error_message(x->reply.err_body.data, x->reply.err_body.len, msg,
				   sizeof(msg)) < 0)
		snprintf(msg, sizeof(msg), "%s",
			 had_credentials ? "incorrect username or password"
					 : "authentication required");
	if (x->reply.status == 401 || x->reply.status == 403)
		return fail(err, EACCES, "unauthorized: %s for '%s'", msg, host);
	return err_set(err, 0, "cannot get a token for '%s': token server said status %ld (%s)",
		       host, x->reply.status, msg);
}

/* docker's OAuth2 form for an identity token (distribution's
 * fetchTokenWithOAuth): a refresh_token grant for the service and scope. */
static int oauth_form(const struct auth_challenge *ch, const char *scope, const char *refresh,
		      struct buf *form, struct sk_err *err)
{
	const char *keys[] = { "grant_type", "refresh_token", "service", "scope", "client_id" };
	const char *values[] = { "refresh_token", refresh, ch->service, scope, "docker" };

	if (strncasecmp(ch->realm, "https://", 8) != 0 && strncasecmp(ch->realm, "http://", 7) != 0)
		return err_set(err, 0, "unsupported token realm '%s'", ch->realm);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char *esc = curl_easy_escape(NULL, values[i], 0);
		int r;

		if (!esc)
			return err_set(err, ENOMEM, "out of memory");
		r = buf_appendf(form, "%s%s=%s", i ? "&" : "", keys[i], esc);
		explicit_bzero(esc, strlen(esc));
		curl_free(esc);
		if (r < 0)
			return err_set(err, E2BIG, "identity token is too long");
	}
	return 0;
}

/* The token: GET realm?service=..&scope=.. (with Basic credentials when there
 * are some), or, with an identity token, docker's OAuth2 POST to the realm. */
static int fetch_token(struct registry *reg, CURL *h, size_t epi, const struct auth_challenge *ch,
		       const char *scope, char **token, long *expires_in, struct sk_err *err)
{
	struct endpoint *ep = &reg->eps[epi];
	cleanup_buf struct buf url = BUF_INIT(URL_MAX);
	cleanup_buf struct buf auth = BUF_INIT(AUTH_HEADER_MAX);
	cleanup_buf struct buf form = BUF_INIT(AUTH_HEADER_MAX);
	cleanup_buf struct buf body = BUF_INIT(TOKEN_REPLY_MAX);
	struct xfer x = {.body = &body, .limit = -1};
	const struct auth_creds *c = NULL;
	const char *user;
	int ret = -1;

	x.reply.err_body = (struct buf)BUF_INIT(ERROR_BODY_MAX);
	if (endpoint_credentials(reg, ep, &c, err) < 0)
		goto out;
	user = c->identity_token ? NULL : c->user;
	if (c->identity_token ? oauth_form(ch, scope, c->identity_token, &form, err) < 0 ||
				    buf_appendf(&url, "%s", ch->realm) < 0
			      : token_url(ch, scope, user, &url, err) < 0 ||
				    (user && basic_header(user, c->pass, &auth, err) < 0))
		goto out;
	struct target t = {.url = url.data,
			   .auth = user ? auth.data : NULL,
			   .post = c->identity_token ? form.data : NULL,
			   .trace_query = true};
	if (fetch_retrying(reg, h, &t, "token request", &x, err) < 0)
		goto out;
	if (x.reply.status != 200) {
		token_refused(&x, ep->hostport, user || c->identity_token, err);
		goto out;
	}
	ret = auth_parse_token_response(body.data, body.len, token, expires_in, err);
	if (ret < 0)
		err_wrap(err, "token server of '%s'", ep->hostport);
out:
	if (auth.data)
		explicit_bzero(auth.data, auth.len);
	if (form.data)
		explicit_bzero(form.data, form.len);
	buf_release(&x.reply.err_body);
	return ret;
}

/* Fills out with the Authorization header for scope on endpoint epi under
 * challenge ch ("" when the registry wants none, or we have nothing to send). */
static int authorization(struct registry *reg, CURL *h, size_t epi, const struct auth_challenge *ch,
			 const char *scope, bool fresh, struct buf *out, struct sk_err *err)
{
	struct endpoint *ep = &reg->eps[epi];
	const struct auth_creds *c = NULL;
	struct token *tok;
	char *value = NULL;
	long expires_in = 60;

	buf_reset(out);
	if (ch->scheme == AUTH_BASIC) {
		/* an identity token is for token servers only, as docker */
		if (endpoint_credentials(reg, ep, &c, err) < 0)
			return -1;
		return c->user ? basic_header(c->user, c->pass, out, err) : 0;
	}
	if (ch->scheme != AUTH_BEARER)
		return 0;
	tok = token_find(reg, epi, scope);
	if (fresh || !tok || !token_is_fresh(tok)) {
		if (fetch_token(reg, h, epi, ch, scope, &value, &expires_in, err) < 0)
			return -1;
		token_store(reg, epi, scope, value, expires_in);
		tok = token_find(reg, epi, scope);
	}
	if (buf_appendf(out, "Authorization: Bearer %s", tok->value) < 0)
		return err_set(err, E2BIG, "token for '%s' is too long", ep->hostport);
	return 0;
}

/* ---------- ping ---------- */

/* GET /v2/: is the endpoint there, and which challenge does it set? An
 * endpoint with a fallback behind it gets fewer attempts: a dead mirror should
 * not cost seconds on every pull. */
static int ping(struct registry *reg, CURL *h, struct endpoint *ep, bool has_fallback,
		struct sk_err *err)
{
	char url[600], what[700];
	cleanup_buf struct buf body = BUF_INIT(PING_BODY_MAX);
	struct xfer x = {.body = &body, .limit = -1};
	struct sk_err perr = {0};
	struct target t = {
	    .url = url, .skip_verify = ep->skip_verify, .max_attempts = has_fallback ? 2 : 0};
	int ret = 0;

	x.reply.err_body = (struct buf)BUF_INIT(ERROR_BODY_MAX);
	snprintf(url, sizeof(url), "%s/v2/", ep->base);
	snprintf(what, sizeof(what), "registry '%s'", url);
	memset(&ep->challenge, 0, sizeof(ep->challenge));
	if (fetch_retrying(reg, h, &t, what, &x, err) < 0) {
		ret = -1;
	} else if (x.reply.status == 401) {
		if (auth_parse_challenge(x.reply.www_auth, &ep->challenge, &perr) < 0)
			log_debug("ignoring the challenge of '%s': %s", url, perr.msg);
	} else if (!is_success(x.reply.status)) {
		ret = err_set(err, 0, "%s: unexpected status %ld, not a registry?", what,
			      x.reply.status);
	}
	buf_release(&x.reply.err_body);
	return ret;
}

/* ---------- remembering plain HTTP ---------- */

#define PLAIN_HTTP_DIR "plain-http"

static bool scheme_memory_usable(const struct registry *reg)
{
	/* the host names the file: never ".", ".." or a dot file */
	return reg->memory_fd >= 0 && reg->host[0] != '.';
}

/* An insecure registry answered on plain http (or, again, on https): keep
 * that for the next process, which then asks http first and pays no failed
 * TLS handshake. Best effort: the store stays valid either way, and a wrong
 * memory costs one failed attempt before the other scheme. Caller holds
 * auth_lock. */
static void remember_scheme(struct registry *reg, const struct endpoint *ep)
{
	char name[sizeof(PLAIN_HTTP_DIR) + 256];
	bool plain = strncasecmp(ep->base, "http://", 7) == 0;
	int fd;

	if (!ep->insecure || !scheme_memory_usable(reg) || plain == reg->plain_remembered)
		return;
	snprintf(name, sizeof(name), PLAIN_HTTP_DIR "/%s", reg->host);
	reg->plain_remembered = plain;
	if (!plain) {
		unlinkat(reg->memory_fd, name, 0);
		log_debug("'%s' answers https again: forgot its plain http", reg->host);
		return;
	}
	if (mkdirat(reg->memory_fd, PLAIN_HTTP_DIR, 0700) < 0 && errno != EEXIST)
		return;
	fd = openat(reg->memory_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	log_debug("'%s' answers plain http: remembered in the store", reg->host);
}

void registry_remember_schemes(struct registry *reg, int store_fd)
{
	char name[sizeof(PLAIN_HTTP_DIR) + 256];
	struct endpoint https;

	reg->memory_fd = store_fd;
	if (!scheme_memory_usable(reg) || reg->n_eps != 2 || !reg->eps[0].insecure)
		return;
	snprintf(name, sizeof(name), PLAIN_HTTP_DIR "/%s", reg->host);
	if (faccessat(store_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	/* http first, https (docker's first choice) as the fallback */
	https = reg->eps[0];
	reg->eps[0] = reg->eps[1];
	reg->eps[1] = https;
	reg->plain_remembered = true;
}

/* Pings endpoint epi once per struct registry; later calls reuse the verdict.
 * Returns 0, -1 (err set), or ENDPOINT_KNOWN_DEAD when an earlier call found
 * it dead (err set too; callers need not say so again). */
#define ENDPOINT_KNOWN_DEAD (-2)
static int endpoint_ready(struct registry *reg, CURL *h, size_t epi,
			  struct auth_challenge *challenge, struct sk_err *err)
{
	struct endpoint *ep = &reg->eps[epi];
	int ret = 0;

	pthread_mutex_lock(&reg->auth_lock);
	if (ep->state == EP_DEAD)
		ret = ENDPOINT_KNOWN_DEAD;
	if (ep->state == EP_UNKNOWN) {
		if (ping(reg, h, ep, epi + 1 < reg->n_eps, &ep->dead_err) < 0) {
			ep->state = EP_DEAD;
		} else {
			ep->state = EP_ALIVE;
			remember_scheme(reg, ep);
		}
	}
	if (ep->state == EP_DEAD) {
		*err = ep->dead_err;
		ret = ret ? ret : -1;
	} else {
		*challenge = ep->challenge;
	}
	pthread_mutex_unlock(&reg->auth_lock);
	return ret;
}

/* ---------- one request on one endpoint ---------- */

struct request {
	char path[1024]; /* "/v2/<repo>/manifests/<ref>" */
	const char *accept;
	char scope[1024]; /* "repository:<repo>:pull" */
	char what[700];	  /* "manifest 'host/repo:tag'" for messages */
	char name[600];	  /* "host/repo:tag" or "host/repo@digest" */
	/* Judges a 2xx body (digests); a failure counts against the endpoint, so a
	 * mirror with bad content gives way to the next one. May be NULL. */
	int (*check)(const struct request *req, struct xfer *x, void *ctx, struct sk_err *err);
	void *check_ctx;
};

static int unauthorized(const struct xfer *x, const struct request *req, struct sk_err *err)
{
	char msg[256];

	if (registry_error_message(x->reply.err_body.data, x->reply.err_body.len, msg,
				   sizeof(msg)) < 0)
		snprintf(msg, sizeof(msg), "authentication required");
	return fail(err, EACCES, "unauthorized: %s for '%s'", msg, req->name);
}

/* The challenge in a resource's 401, falling back on the ping's; a Bearer
 * challenge's scope replaces ours (the registry knows what it wants). */
static void challenge_from_401(const struct xfer *x, struct auth_challenge *ch, char *scope,
			       size_t scope_len)
{
	struct auth_challenge fresh = {0};
	struct sk_err ignored = {0};

	if (!x->reply.www_auth[0] || auth_parse_challenge(x->reply.www_auth, &fresh, &ignored) < 0)
		return;
	*ch = fresh;
	if (fresh.scheme == AUTH_BEARER && fresh.scope[0])
		snprintf(scope, scope_len, "%s", fresh.scope);
}

static int authorized_fetch(struct registry *reg, CURL *h, size_t epi, const char *url,
			    const struct request *req, struct auth_challenge *ch, char *scope,
			    bool fresh, struct xfer *x, struct sk_err *err)
{
	cleanup_buf struct buf auth = BUF_INIT(AUTH_HEADER_MAX);
	struct target t = {
	    .url = url, .accept = req->accept, .skip_verify = reg->eps[epi].skip_verify};
	int r;

	pthread_mutex_lock(&reg->auth_lock);
	r = authorization(reg, h, epi, ch, scope, fresh, &auth, err);
	pthread_mutex_unlock(&reg->auth_lock);
	if (r < 0)
		return -1;
	t.auth = auth.len ? auth.data : NULL;
	r = fetch_retrying(reg, h, &t, req->what, x, err);
	if (auth.data)
		explicit_bzero(auth.data, auth.len);
	return r;
}

/* GET base+path on endpoint epi with auth. 0 when the final reply is in x
 * (any status but 401); -1 with err otherwise. */
static int endpoint_request(struct registry *reg, CURL *h, size_t epi, const struct request *req,
			    struct xfer *x, struct sk_err *err)
{
	struct auth_challenge ch;
	char scope[sizeof(req->scope)];
	char url[2048];
	bool fresh = false;
	int r = endpoint_ready(reg, h, epi, &ch, err);

	if (r < 0)
		return r;
	snprintf(scope, sizeof(scope), "%s", req->scope);
	snprintf(url, sizeof(url), "%s%s", reg->eps[epi].base, req->path);
	for (int round = 0; round < 2; round++) {
		if (authorized_fetch(reg, h, epi, url, req, &ch, scope, fresh, x, err) < 0)
			return -1;
		if (x->reply.status != 401)
			return 0;
		challenge_from_401(x, &ch, scope, sizeof(scope));
		fresh = true;
	}
	return unauthorized(x, req, err);
}

/* The error for a final non-2xx reply. */
static int status_error(const struct xfer *x, const struct request *req, bool is_manifest,
			struct sk_err *err)
{
	char msg[256] = "";
	long st = x->reply.status;

	registry_error_message(x->reply.err_body.data, x->reply.err_body.len, msg, sizeof(msg));
	if (st == 404) {
		return fail(err, ENOENT, "%s unknown: '%s' not found",
			    is_manifest ? "manifest" : "blob", req->name);
	}
	if (st == 403)
		return fail(err, EACCES, "denied: %s for '%s'", msg[0] ? msg : "access forbidden",
			    req->name);
	return err_set(err, 0, "%s: registry said status %ld%s%s", req->what, st,
		       msg[0] ? ": " : "", msg);
}

/* Walks the endpoints in order; a failing mirror (or the https half of an
 * insecure registry) gives way to the next one, the last one's error stands. */
static int request_any_endpoint(struct registry *reg, const struct request *req, bool is_manifest,
				struct xfer *x, struct sk_err *err)
{
	CURL *h = curl_easy_init();
	int ret = -1;

	if (!h)
		return err_set(err, ENOMEM, "cannot create a curl handle");
	for (size_t i = 0; i < reg->n_eps; i++) {
		struct sk_err e = {0};
		int r = endpoint_request(reg, h, i, req, x, &e);

		if (r == 0 && is_success(x->reply.status)) {
			if (!req->check || req->check(req, x, req->check_ctx, &e) == 0) {
				ret = 0;
				break;
			}
		} else if (r == 0) {
			status_error(x, req, is_manifest, &e);
		}
		if (x->fatal || i + 1 == reg->n_eps) {
			*err = e;
			break;
		}
		if (r != ENDPOINT_KNOWN_DEAD)
			log_debug("endpoint '%s' failed, trying the next one: %s", reg->eps[i].base,
				  e.msg);
	}
	curl_easy_cleanup(h);
	return ret;
}

/* ---------- construction ---------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
	struct registry *reg = userp;

	pthread_mutex_lock(&reg->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
	struct registry *reg = userp;

	pthread_mutex_unlock(&reg->share_locks[data]);
}

static int share_init(struct registry *reg, struct sk_err *err)
{
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&reg->share_locks[i], NULL);
	reg->share = curl_share_init();
	if (!reg->share)
		return err_set(err, ENOMEM, "cannot create a curl share handle");
	curl_share_setopt(reg->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(reg->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(reg->share, CURLSHOPT_USERDATA, reg);
	curl_share_setopt(reg->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(reg->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(reg->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return 0;
}

static int add_endpoint(struct registry *reg, const char *base, bool is_mirror, bool skip_verify,
			struct sk_err *err)
{
	struct endpoint *ep = &reg->eps[reg->n_eps];
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (n >= sizeof(ep->base))
		return err_set(err, 0, "registry url '%s' is too long", base);
	if (strncasecmp(base, "https://", 8) != 0 && strncasecmp(base, "http://", 7) != 0)
		return err_set(err, 0, "invalid registry url '%s': want http:// or https://", base);
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->base, base, n);
	ep->base[n] = '\0';
	if (registry_url_hostport(ep->base, ep->hostport, sizeof(ep->hostport)) < 0)
		return err_set(err, 0, "invalid registry url '%s'", base);
	ep->is_mirror = is_mirror;
	ep->skip_verify = skip_verify;
	reg->n_eps++;
	return 0;
}

static int add_endpoints(struct registry *reg, const struct sk_config *cfg, struct sk_err *err)
{
	char url[512];

	if (!strcmp(reg->host, DOCKER_HUB_HOST)) {
		for (size_t i = 0; i < cfg->n_registry_mirrors && i < CONFIG_MAX_LIST; i++)
			if (add_endpoint(reg, cfg->registry_mirrors[i], true, false, err) < 0)
				return err_wrap(err, "registry mirror");
		return add_endpoint(reg, DOCKER_HUB_ORIGIN, false, false, err);
	}
	snprintf(url, sizeof(url), "https://%s", reg->host);
	if (!config_registry_is_insecure(cfg, reg->host))
		return add_endpoint(reg, url, false, false, err);
	if (add_endpoint(reg, url, false, true, err) < 0)
		return -1;
	snprintf(url, sizeof(url), "http://%s", reg->host);
	if (add_endpoint(reg, url, false, false, err) < 0)
		return -1;
	reg->eps[0].insecure = reg->eps[1].insecure = true;
	return 0;
}

static bool host_is_sane(const char *host)
{
	if (!*host || strlen(host) >= 256)
		return false;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]_", *p))
			return false;
	return true;
}

struct registry *registry_new(const char *host, const struct sk_config *cfg, struct sk_err *err)
{
	struct registry *reg;

	if (!host_is_sane(host)) {
		err_set(err, 0, "invalid registry host '%s'", host);
		return NULL;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg) {
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&reg->auth_lock, NULL);
	pthread_mutex_init(&reg->tls_lock, NULL);
	reg->memory_fd = -1;
	snprintf(reg->host, sizeof(reg->host), "%s", host);
	snprintf(reg->certs_dir, sizeof(reg->certs_dir), "%s", cfg->certs_dir);
	snprintf(reg->docker_config_dir, sizeof(reg->docker_config_dir), "%s",
		 cfg->docker_config_dir);
	registry_proxy_env_get(&reg->proxy_env);
	if (share_init(reg, err) < 0 || add_endpoints(reg, cfg, err) < 0) {
		registry_free(reg);
		return NULL;
	}
	return reg;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	if (reg->share)
		curl_share_cleanup(reg->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&reg->share_locks[i]);
	for (size_t i = 0; i < reg->n_eps; i++)
		auth_creds_release(&reg->eps[i].creds);
	for (size_t i = 0; i < reg->n_tokens; i++)
		free_secret(reg->tokens[i].value);
	for (size_t i = 0; i < reg->n_tls; i++)
		free((void *)reg->tls[i].ca.data);
	pthread_mutex_destroy(&reg->auth_lock);
	pthread_mutex_destroy(&reg->tls_lock);
	free(reg);
}

/* ---------- public calls ---------- */

static void request_init(struct request *req, const struct registry *reg, const char *repo,
			 const char *kind, const char *reference, const char *accept)
{
	bool is_digest = !strncmp(reference, "sha256:", 7);

	memset(req, 0, sizeof(*req));
	snprintf(req->path, sizeof(req->path), "/v2/%s/%s/%s", repo, kind, reference);
	snprintf(req->scope, sizeof(req->scope), "repository:%s:pull", repo);
	snprintf(req->name, sizeof(req->name), "%s/%s%s%s", reg->host, repo, is_digest ? "@" : ":",
		 reference);
	snprintf(req->what, sizeof(req->what), "%s '%s'",
		 !strcmp(kind, "manifests") ? "manifest" : "blob", req->name);
	req->accept = accept;
}

static bool repo_is_sane(const char *repo)
{
	if (!*repo || strlen(repo) >= 256 || repo[0] == '/' || strstr(repo, ".."))
		return false;
	for (const char *p = repo; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("._-/", *p))
			return false;
	return true;
}

static bool tag_is_sane(const char *tag)
{
	if (!*tag || strlen(tag) > 128)
		return false;
	for (const char *p = tag; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

static int check_names(const char *repo, const char *reference, struct sk_err *err)
{
	if (!repo_is_sane(repo))
		return err_set(err, EINVAL, "invalid repository name '%s'", repo);
	if (!strncmp(reference, "sha256:", 7) ? !digest_is_valid(reference)
					      : !tag_is_sane(reference))
		return err_set(err, EINVAL, "invalid reference '%s' for '%s'", reference, repo);
	return 0;
}

static bool media_type_is_schema1(const char *mt)
{
	return !strncmp(mt, "application/vnd.docker.distribution.manifest.v1", 47);
}

static int verify_manifest(const struct request *req, struct xfer *x, void *ctx, struct sk_err *err)
{
	struct registry_manifest *out = ctx;
	const char *reference = strrchr(req->path, '/') + 1;
	const char *header_digest = x->reply.docker_digest;

	registry_media_type(x->reply.content_type, out->media_type, sizeof(out->media_type));
	sha256_digest(out->body.data, out->body.len, out->digest);
	if (!strncmp(reference, "sha256:", 7) && strcmp(reference, out->digest) != 0)
		return err_set(err, 0, "manifest digest mismatch for '%s': content is %s",
			       req->name, out->digest);
	/* Signed schema 1 bodies never hash to their digest; manifest_parse refuses them. */
	if (digest_is_valid(header_digest) && !media_type_is_schema1(out->media_type) &&
	    strcmp(header_digest, out->digest) != 0)
		return err_set(err, 0,
			       "manifest digest mismatch for '%s': registry said %s, content is %s",
			       req->name, header_digest, out->digest);
	return 0;
}

int registry_get_manifest(struct registry *reg, const char *repo, const char *reference,
			  struct registry_manifest *out, struct sk_err *err)
{
	struct request req;
	struct xfer x = {.limit = -1};
	int ret;

	memset(out, 0, sizeof(*out));
	out->body = (struct buf)BUF_INIT(MANIFEST_MAX_BYTES);
	if (check_names(repo, reference, err) < 0)
		return -1;
	request_init(&req, reg, repo, "manifests", reference, MANIFEST_ACCEPT ", " SCHEMA1_ACCEPT);
	req.check = verify_manifest;
	req.check_ctx = out;
	x.body = &out->body;
	x.reply.err_body = (struct buf)BUF_INIT(ERROR_BODY_MAX);
	ret = request_any_endpoint(reg, &req, true, &x, err);
	buf_release(&x.reply.err_body);
	if (ret < 0)
		registry_manifest_release(out);
	return ret;
}

void registry_manifest_release(struct registry_manifest *m)
{
	if (m)
		buf_release(&m->body);
}

static int verify_blob(const struct request *req, struct xfer *x, void *ctx, struct sk_err *err)
{
	const char *digest = strrchr(req->path, '/') + 1;
	char got[DIGEST_STR_MAX];

	sha256_digest(x->body->data ? x->body->data : "", x->body->len, got);
	if (strcmp(got, digest) != 0)
		return err_set(err, 0, "blob digest mismatch for '%s': content is %s", req->name,
			       got);
	return 0;
}

int registry_get_blob(struct registry *reg, const char *repo, const char *digest, size_t max,
		      struct buf *out, struct sk_err *err)
{
	struct request req;
	struct xfer x = {.limit = -1};
	int ret;

	if (check_names(repo, digest, err) < 0)
		return -1;
	buf_reset(out);
	out->max = max;
	request_init(&req, reg, repo, "blobs", digest, NULL);
	req.check = verify_blob;
	x.body = out;
	x.reply.err_body = (struct buf)BUF_INIT(ERROR_BODY_MAX);
	ret = request_any_endpoint(reg, &req, false, &x, err);
	buf_release(&x.reply.err_body);
	if (ret < 0)
		buf_release(out);
	return ret;
}

int registry_stream_blob(struct registry *reg, const char *repo, const char *digest, int64_t from,
			 int64_t expected_size, registry_sink_fn sink, void *ctx,
			 struct sk_err *err)
{
	struct request req;
	struct xfer x = {.sink = sink, .sink_ctx = ctx, .next = from, .limit = expected_size};
	int ret;

	if (check_names(repo, digest, err) < 0)
		return -1;
	if (from < 0 || (expected_size >= 0 && from > expected_size))
		return err_set(err, EINVAL, "cannot resume blob '%s' at byte %" PRId64, digest,
			       from);
	if (expected_size >= 0 && from == expected_size)
		return 0;
	request_init(&req, reg, repo, "blobs", digest, NULL);
	x.reply.err_body = (struct buf)BUF_INIT(ERROR_BODY_MAX);
	ret = request_any_endpoint(reg, &req, false, &x, err);
	buf_release(&x.reply.err_body);
	return ret;
}

/* ---------- login ---------- */

static int login_on_endpoint(struct registry *reg, CURL *h, size_t epi, struct sk_err *err)
{
	struct auth_challenge ch;
	cleanup_buf struct buf auth = BUF_INIT(AUTH_HEADER_MAX);
	cleanup_buf struct buf body = BUF_INIT(PING_BODY_MAX);
	struct xfer x = {.body = &body, .limit = -1};
	char url[600];
	int r;

	if (endpoint_ready(reg, h, epi, &ch, err) < 0)
		return -1;
	if (ch.scheme == AUTH_NONE)
		return 0;
	pthread_mutex_lock(&reg->auth_lock);
	r = authorization(reg, h, epi, &ch, "", true, &auth, err);
	pthread_mutex_unlock(&reg->auth_lock);
	if (r < 0 || ch.scheme == AUTH_BEARER)
		return r;
	if (!auth.len)
		return fail(err, EACCES, "unauthorized: no credentials for '%s'", reg->host);
	/* Basic: the registry itself judges the credentials. */
	snprintf(url, sizeof(url), "%s/v2/", reg->eps[epi].base);
	struct target t = {.url = url, .auth = auth.data, .skip_verify = reg->eps[epi].skip_verify};
	x.reply.err_body = (struct buf)BUF_INIT(ERROR_BODY_MAX);
	r = fetch_retrying(reg, h, &t, url, &x, err);
	if (r == 0 && !is_success(x.reply.status))
		r = token_refused(&x, reg->host, true, err);
	buf_release(&x.reply.err_body);
	explicit_bzero(auth.data, auth.len);
	return r;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	*failed |= s && !d;
	return d;
}

static int set_login_credentials(struct registry *reg, const struct auth_creds *creds,
				 struct sk_err *err)
{
	for (size_t i = 0; i < reg->n_eps; i++) {
		struct endpoint *ep = &reg->eps[i];
		bool failed = false;

		if (ep->is_mirror)
			continue;
		auth_creds_release(&ep->creds);
		ep->creds.user = dup_or_null(creds->user, &failed);
		ep->creds.pass = dup_or_null(creds->user && !creds->pass ? "" : creds->pass, &failed);
		ep->creds.identity_token = dup_or_null(creds->identity_token, &failed);
		ep->creds_loaded = true;
		if (failed)
			return err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int registry_check_login(struct registry *reg, const struct auth_creds *creds, struct sk_err *err)
{
	CURL *h;
	int ret = -1;

	if (creds) {
		pthread_mutex_lock(&reg->auth_lock);
		ret = set_login_credentials(reg, creds, err);
		pthread_mutex_unlock(&reg->auth_lock);
		if (ret < 0)
			return -1;
	}
	h = curl_easy_init();
	if (!h)
		return err_set(err, ENOMEM, "cannot create a curl handle");
	/* Log in to the registry itself, never to a mirror. */
	for (size_t i = 0; i < reg->n_eps; i++) {
		struct sk_err e = {0};

		if (reg->eps[i].is_mirror)
			continue;
		ret = login_on_endpoint(reg, h, i, &e);
		if (ret == 0 || i + 1 == reg->n_eps || e.errnum == EACCES) {
			if (ret < 0)
				*err = e;
			break;
		}
		log_debug("endpoint '%s' failed, trying the next one: %s", reg->eps[i].base, e.msg);
	}
	curl_easy_cleanup(h);
	return ret;
}

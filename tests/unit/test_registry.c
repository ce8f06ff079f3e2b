/*
 * Unit tests of the registry client's pure HTTP helpers: Retry-After,
 * Content-Range, backoff, the same-origin rule that decides whether
 * Authorization may follow a redirect, Location resolution, URL redaction for
 * --debug, media types and registry error bodies.
 */
#include <stdio.h>
#include <string.h>

#include "image/registry_http.h"
#include "util/cleanup.h"
#include "unit.h"

TEST(retry_after_seconds)
{
	CHECK(registry_retry_after_ms("0", 1000) == 0);
	CHECK(registry_retry_after_ms("2", 1000) == 2000);
	CHECK(registry_retry_after_ms(" 7 ", 1000) == 7000);
	CHECK(registry_retry_after_ms("3600", 1000) == REGISTRY_RETRY_AFTER_MAX_MS);
	CHECK(registry_retry_after_ms("99999999999999999999999", 1000) ==
	      REGISTRY_RETRY_AFTER_MAX_MS);
}

TEST(retry_after_invalid)
{
	CHECK(registry_retry_after_ms(NULL, 1000) == -1);
	CHECK(registry_retry_after_ms("", 1000) == -1);
	CHECK(registry_retry_after_ms("-5", 1000) == -1);
	CHECK(registry_retry_after_ms("5s", 1000) == -1);
	CHECK(registry_retry_after_ms("soon", 1000) == -1);
}

TEST(retry_after_http_date)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT == 784111777 */
	CHECK(registry_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 4) == 4000);
	CHECK(registry_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 100) == 0);
	CHECK(registry_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 600) ==
	      REGISTRY_RETRY_AFTER_MAX_MS);
}

TEST(backoff)
{
	CHECK(registry_backoff_ms(1) == 200);
	CHECK(registry_backoff_ms(2) == 400);
	CHECK(registry_backoff_ms(3) == 800);
	CHECK(registry_backoff_ms(4) == 1600);
	CHECK(registry_backoff_ms(50) == REGISTRY_BACKOFF_MAX_MS);
}

TEST(retryable_status)
{
	CHECK(registry_status_is_retryable(429));
	CHECK(registry_status_is_retryable(500));
	CHECK(registry_status_is_retryable(502));
	CHECK(registry_status_is_retryable(503));
	CHECK(registry_status_is_retryable(504));
	CHECK(!registry_status_is_retryable(404));
	CHECK(!registry_status_is_retryable(401));
	CHECK(!registry_status_is_retryable(501));
	CHECK(!registry_status_is_retryable(200));
}

TEST(content_range)
{
	int64_t s, e, t;

	CHECK(registry_parse_content_range("bytes 100-199/200", &s, &e, &t) == 0);
	CHECK(s == 100 && e == 199 && t == 200);
	CHECK(registry_parse_content_range("bytes 0-0/*", &s, &e, &t) == 0);
	CHECK(s == 0 && e == 0 && t == -1);
	CHECK(registry_parse_content_range("Bytes 5-9/10\r\n", &s, &e, &t) == 0);
	CHECK(s == 5 && e == 9 && t == 10);
	CHECK(registry_parse_content_range("bytes 9-5/10", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("bytes 5-9/9", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("bytes */10", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("bytes -5-9/10", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("items 0-1/2", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("bytes 0-1/2x", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("bytes 99999999999999999999-1/2", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range("", &s, &e, &t) < 0);
	CHECK(registry_parse_content_range(NULL, &s, &e, &t) < 0);
}

TEST(same_origin)
{
	CHECK(registry_same_origin("https://r.example/v2/x", "https://R.EXAMPLE/v2/y?a=b"));
	CHECK(registry_same_origin("https://r.example:443/a", "https://r.example/b"));
	CHECK(registry_same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b"));
	CHECK(!registry_same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5001/a"));
	CHECK(!registry_same_origin("https://r.example/a", "http://r.example/a"));
	CHECK(!registry_same_origin("https://r.example/a", "https://cdn.example/a"));
	CHECK(!registry_same_origin("https://r.example/a", "https://sub.r.example/a"));
	CHECK(!registry_same_origin("https://r.example/a", "https://r.example.evil/a"));
	CHECK(!registry_same_origin("not a url", "not a url"));
}

TEST(resolve_location)
{
	char out[512];

	CHECK(registry_resolve_location("https://r.example/v2/x/blobs/sha256:1",
					"https://cdn.example/b?sig=1", out, sizeof(out)) == 0);
	CHECK_STR(out, "https://cdn.example/b?sig=1");
	CHECK(registry_resolve_location("http://127.0.0.1:5000/v2/x/blobs/y", "/store/abc", out,
					sizeof(out)) == 0);
	CHECK_STR(out, "http://127.0.0.1:5000/store/abc");
	CHECK(registry_resolve_location("http://h/v2/x/blobs/y", "z", out, sizeof(out)) == 0);
	CHECK_STR(out, "http://h/v2/x/blobs/z");
	CHECK(registry_resolve_location("https://h/a", "//other/p", out, sizeof(out)) == 0);
	CHECK_STR(out, "https://other/p");
	CHECK(registry_resolve_location("https://h/a", "file:///etc/passwd", out, sizeof(out)) < 0);
	CHECK(registry_resolve_location("https://h/a", "ftp://h/x", out, sizeof(out)) < 0);
	CHECK(registry_resolve_location("https://h/a", "https://cdn.example/long", out, 10) < 0);
}

TEST(redact_url)
{
	char out[512];

	registry_redact_url("https://user:secret@h.example/v2/?sig=abc", false, out, sizeof(out));
	CHECK_STR(out, "https://h.example/v2/");
	registry_redact_url("https://auth.example/token?service=s&scope=x", true, out, sizeof(out));
	CHECK_STR(out, "https://auth.example/token?service=s&scope=x");
	registry_redact_url("https://u:p@auth.example/token?service=s", true, out, sizeof(out));
	CHECK(strstr(out, "u:p") == NULL);
	CHECK(strstr(out, "service=s") != NULL);
}

TEST(url_hostport)
{
	char out[256];

	CHECK(registry_url_hostport("http://127.0.0.1:5001", out, sizeof(out)) == 0);
	CHECK_STR(out, "127.0.0.1:5001");
	CHECK(registry_url_hostport("https://mirror.example/", out, sizeof(out)) == 0);
	CHECK_STR(out, "mirror.example");
	CHECK(registry_url_hostport("https://mirror.example", out, 4) < 0);
}

TEST(media_type)
{
	char out[256];

	registry_media_type("application/vnd.oci.image.index.v1+json; charset=utf-8", out,
			    sizeof(out));
	CHECK_STR(out, "application/vnd.oci.image.index.v1+json");
	registry_media_type("  Application/JSON ", out, sizeof(out));
	CHECK_STR(out, "application/json");
	registry_media_type(NULL, out, sizeof(out));
	CHECK_STR(out, "");
	registry_media_type("abcdef", out, 4);
	CHECK_STR(out, "abc");
}

TEST(error_message)
{
	char out[64];
	const char *reg = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
			  "required\",\"detail\":null}]}";
	const char *hub = "{\"details\":\"incorrect username or password\"}";
	const char *ctl = "{\"errors\":[{\"code\":\"X\",\"message\":\"bad\\u001b[31mred\"}]}";

	CHECK(registry_error_message(reg, strlen(reg), out, sizeof(out)) == 0);
	CHECK_STR(out, "authentication required");
	CHECK(registry_error_message(hub, strlen(hub), out, sizeof(out)) == 0);
	CHECK_STR(out, "incorrect username or password");
	CHECK(registry_error_message(ctl, strlen(ctl), out, sizeof(out)) == 0);
	CHECK_STR(out, "bad?[31mred");
	CHECK(registry_error_message("<html>", 6, out, sizeof(out)) < 0);
	CHECK_STR(out, "");
	CHECK(registry_error_message("{}", 2, out, sizeof(out)) < 0);
	CHECK(registry_error_message(NULL, 0, out, sizeof(out)) < 0);
	CHECK(registry_error_message(reg, strlen(reg), out, 5) == 0);
	CHECK_STR(out, "auth");
}

/* The proxy chosen for url, or "" for a direct connection. */
static const char *proxy_for(const struct registry_proxy_env *e, const char *url)
{
	static char out[256];

	if (registry_proxy_for_url(e, url, out, sizeof(out)) != 1)
		out[0] = '\0';
	return out;
}

TEST(proxy_choice_by_scheme_and_loopback)
{
	struct registry_proxy_env e = { .http = "http://hp:3128", .https = "sp:8080" };

	CHECK_STR(proxy_for(&e, "https://reg.example/v2/"), "http://sp:8080");
	CHECK_STR(proxy_for(&e, "http://reg.example:5000/v2/"), "http://hp:3128");
	/* docker never proxies loopback */
	CHECK_STR(proxy_for(&e, "https://127.0.0.1:5000/v2/"), "");
	CHECK_STR(proxy_for(&e, "http://127.9.9.9/v2/"), "");
	CHECK_STR(proxy_for(&e, "http://localhost:5000/v2/"), "");
	CHECK_STR(proxy_for(&e, "http://LOCALHOST/v2/"), "");
	CHECK_STR(proxy_for(&e, "https://[::1]:5000/v2/"), "");
	e.https = NULL;
	CHECK_STR(proxy_for(&e, "https://reg.example/v2/"), "");
	e.cgi = true; /* httpoxy: a CGI program ignores HTTP_PROXY */
	CHECK_STR(proxy_for(&e, "http://reg.example/v2/"), "");
	e.cgi = false;
	e.http = "socks5://s:1080";
	CHECK_STR(proxy_for(&e, "http://reg.example/v2/"), "socks5://s:1080");
}

TEST(proxy_no_proxy_rules_are_go_s)
{
	struct registry_proxy_env e = { .http = "http://p:1", .https = "http://p:1" };
	static const struct {
		const char *no_proxy, *url;
		bool direct;
	} cases[] = {
		{ "*", "https://any.where/", true },
		{ "example.com", "https://example.com/", true },
		{ "example.com", "https://reg.example.com/", true },
		{ "example.com", "https://badexample.com/", false },
		{ ".example.com", "https://example.com/", false },
		{ ".example.com", "https://reg.example.com/", true },
		{ "*.example.com", "https://example.com/", false },
		{ "*.example.com", "https://a.b.example.com/", true },
		{ " Example.COM ", "https://REG.example.com/", true },
		{ "example.com:5000", "https://reg.example.com:5000/", true },
		{ "example.com:5000", "https://reg.example.com/", false },
		{ "example.com:443", "https://reg.example.com/", true }, /* default port */
		{ "10.0.0.0/8", "https://10.1.2.3:5000/", true },
		{ "10.0.0.0/8", "https://11.1.2.3/", false },
		{ "10.0.0.0/8", "https://ten.example/", false },
		{ "fd00::/8", "https://[fd12::1]/", true },
		{ "192.168.1.5", "http://192.168.1.5:5000/", true },
		{ "192.168.1.5:80", "http://192.168.1.5:5000/", false },
		{ "192.168.1.5:5000", "http://192.168.1.5:5000/", true },
		{ "[2001:db8::1]:443", "https://[2001:db8::1]/", true },
		{ "2001:db8::1", "https://[2001:db8::1]:99/", true },
		{ "1.2.3.4", "https://4.3.2.1/", false },
		{ "3.4", "https://1.2.3.4/", false }, /* a domain never matches an address */
		{ ",, ,:80,other.org", "https://x.other.org/", true },
		{ "", "https://x.org/", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		e.no_proxy = cases[i].no_proxy;
		bool direct = !proxy_for(&e, cases[i].url)[0];
		if (direct != cases[i].direct) {
			fprintf(stderr, "  NO_PROXY=%s %s: want %s\n", cases[i].no_proxy, cases[i].url,
				cases[i].direct ? "direct" : "proxy");
			CHECK(0);
		}
	}
}

int main(void)
{
	RUN(retry_after_seconds);
	RUN(retry_after_invalid);
	RUN(retry_after_http_date);
	RUN(backoff);
	RUN(retryable_status);
	RUN(content_range);
	RUN(same_origin);
	RUN(resolve_location);
	RUN(redact_url);
	RUN(url_hostport);
	RUN(media_type);
	RUN(error_message);
	RUN(proxy_choice_by_scheme_and_loopback);
	RUN(proxy_no_proxy_rules_are_go_s);
	return UNIT_DONE();
}

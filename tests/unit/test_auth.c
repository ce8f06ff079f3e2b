/* Unit tests for registry auth: WWW-Authenticate, token replies, config.json. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "image/auth.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "unit.h"

static int parse(const char *h, struct auth_challenge *c)
{
	struct sk_err err = { 0 };
	int r = auth_parse_challenge(h, c, &err);

	if (r < 0)
		fprintf(stderr, "  (%s -> %s)\n", h, err.msg);
	return r;
}

TEST(challenge_docker_hub)
{
	struct auth_challenge c;

	CHECK(parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		    "scope=\"repository:library/alpine:pull\"",
		    &c) == 0);
	CHECK(c.scheme == AUTH_BEARER);
	CHECK_STR(c.realm, "https://auth.docker.io/token");
	CHECK_STR(c.service, "registry.docker.io");
	CHECK_STR(c.scope, "repository:library/alpine:pull");
	CHECK_STR(c.error, "");
}

TEST(challenge_basic)
{
	struct auth_challenge c;

	CHECK(parse("Basic realm=\"basic-realm\"", &c) == 0);
	CHECK(c.scheme == AUTH_BASIC);
	CHECK_STR(c.realm, "basic-realm");
	CHECK(parse("Basic", &c) == 0);
	CHECK(c.scheme == AUTH_BASIC);
	CHECK(parse("  basic   realm=x  ", &c) == 0);
	CHECK(c.scheme == AUTH_BASIC);
	CHECK_STR(c.realm, "x");
}

TEST(challenge_case_whitespace_tokens)
{
	struct auth_challenge c;

	CHECK(parse("BEARER Realm = \"r\" , SERVICE=svc,\tScope=\"a b\"", &c) == 0);
	CHECK(c.scheme == AUTH_BEARER);
	CHECK_STR(c.realm, "r");
	CHECK_STR(c.service, "svc");
	CHECK_STR(c.scope, "a b");
}

TEST(challenge_quotes_escapes_commas)
{
	struct auth_challenge c;

	CHECK(parse("Bearer realm=\"https://h/t?a=1,b=2\",scope=\"repository:a/b:pull,push\","
		    "error=\"insufficient_scope\"",
		    &c) == 0);
	CHECK_STR(c.realm, "https://h/t?a=1,b=2");
	CHECK_STR(c.scope, "repository:a/b:pull,push");
	CHECK_STR(c.error, "insufficient_scope");
	CHECK(parse("Bearer realm=\"a\\\"b\\\\c\\d\"", &c) == 0);
	CHECK_STR(c.realm, "a\"b\\cd");
	CHECK(parse("Bearer realm=\"\",service=s,realm=\"second\"", &c) == 0);
	CHECK_STR(c.realm, "second");
}

TEST(challenge_unknown_params_and_multiple_challenges)
{
	struct auth_challenge c;

	CHECK(parse("Bearer foo=bar, realm=\"r\", baz=\"q,x\"", &c) == 0);
	CHECK_STR(c.realm, "r");
	/* Bearer wins over Basic, in either order; unknown schemes are skipped. */
	CHECK(parse("Basic realm=\"b\", Bearer realm=\"t\",service=\"s\"", &c) == 0);
	CHECK(c.scheme == AUTH_BEARER);
	CHECK_STR(c.realm, "t");
	CHECK_STR(c.service, "s");
	CHECK(parse("Bearer realm=\"t\", Basic realm=\"b\"", &c) == 0);
	CHECK(c.scheme == AUTH_BEARER);
	CHECK_STR(c.realm, "t");
	CHECK(parse("Negotiate abc==, Basic realm=\"b\"", &c) == 0);
	CHECK(c.scheme == AUTH_BASIC);
	CHECK_STR(c.realm, "b");
}

TEST(challenge_errors)
{
	static const char *const bad[] = {
		"",
		"   ",
		"Digest realm=\"x\"",
		"Negotiate",
		"Bearer realm=\"unterminated",
		"Bearer realm=\"bad\\",
		"Bearer realm=\"x\" junk",
		"Bearer service=\"s\"", /* no realm */
		"Bearer realm=\"x\" service=\"s\"",
		"Bearer realm=\"a\x01b\"",
		"=",
		"Bearer ,=x",
	};
	struct auth_challenge c;
	struct sk_err err = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (auth_parse_challenge(bad[i], &c, &err) == 0) {
			fprintf(stderr, "  accepted bad[%zu] '%s'\n", i, bad[i]);
			CHECK(0);
		}
	}
	CHECK(auth_parse_challenge("Digest realm=x", &c, &err) < 0);
	CHECK(strstr(err.msg, "unsupported authentication scheme") != NULL);
}

TEST(challenge_too_long_is_an_error_not_truncated)
{
	char h[3000] = "Bearer realm=\"";
	struct auth_challenge c;
	struct sk_err err = { 0 };
	size_t n = strlen(h);

	memset(h + n, 'a', 1100);
	memcpy(h + n + 1100, "\"", 2);
	CHECK(auth_parse_challenge(h, &c, &err) < 0);
	CHECK(strstr(err.msg, "'realm' is too long") != NULL);
	/* An over-long parameter skiff ignores is fine. */
	snprintf(h, sizeof(h), "Bearer realm=r,other=\"%0*d\"", 2500, 0);
	CHECK(auth_parse_challenge(h, &c, &err) == 0);
}

TEST(token_response)
{
	struct sk_err err = { 0 };
	char *tok = NULL;
	long exp = 0;
	const char *j;

	j = "{\"token\":\"abc\",\"expires_in\":300}";
	CHECK(auth_parse_token_response(j, strlen(j), &tok, &exp, &err) == 0);
	CHECK_STR(tok, "abc");
	CHECK(exp == 300);
	free(tok);

	j = "{\"access_token\":\"xyz\"}";
	CHECK(auth_parse_token_response(j, strlen(j), &tok, &exp, &err) == 0);
	CHECK_STR(tok, "xyz");
	CHECK(exp == 60);
	free(tok);

	j = "{\"token\":\"\",\"access_token\":\"second\",\"expires_in\":10}";
	CHECK(auth_parse_token_response(j, strlen(j), &tok, &exp, &err) == 0);
	CHECK_STR(tok, "second");
	CHECK(exp == 60); /* below docker's minimum lifetime */
	free(tok);

	static const char *const bad[] = {
		"", "{", "[]", "{}", "{\"token\":1}", "{\"token\":\"a\\nb\"}",
		"{\"token\":\"a b\"}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		tok = NULL;
		CHECK(auth_parse_token_response(bad[i], strlen(bad[i]), &tok, &exp, &err) < 0);
		CHECK(tok == NULL);
	}
	/* Not NUL-terminated input is parsed within len only. */
	CHECK(auth_parse_token_response("{\"token\":\"abc\"}garbage", 15, &tok, &exp, &err) == 0);
	CHECK_STR(tok, "abc");
	free(tok);
}

TEST(config_key)
{
	char k[256];

	auth_config_key("docker.io", k, sizeof(k));
	CHECK_STR(k, "https://index.docker.io/v1/");
	auth_config_key("index.docker.io", k, sizeof(k));
	CHECK_STR(k, "https://index.docker.io/v1/");
	auth_config_key("registry-1.docker.io", k, sizeof(k));
	CHECK_STR(k, "https://index.docker.io/v1/");
	auth_config_key("127.0.0.1:5000", k, sizeof(k));
	CHECK_STR(k, "127.0.0.1:5000");
}

static void make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/skiff-test-auth-XXXXXX");
	if (!mkdtemp(dir))
		abort();
}

static void write_config(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static int lookup(const char *dir, const char *host, char **u, char **p)
{
	struct sk_err err = { 0 };
	int r = auth_lookup_credentials(dir, host, u, p, &err);

	if (r < 0)
		fprintf(stderr, "  (lookup: %s)\n", err.msg);
	return r;
}

TEST(lookup_variants)
{
	char dir[64];
	char *u = NULL, *p = NULL;

	make_tmpdir(dir, sizeof(dir));
	/* dXNlcjpwYTpzcw== is "user:pa:ss" (a ':' in the password is fine) */
	write_config(dir,
		     "{\"auths\":{"
		     "\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYTpzcw==\"},"
		     "\"http://reg.example:5000/v2/\":{\"username\":\"bob\",\"password\":\"pw\"},"
		     "\"helper.example\":{}},"
		     "\"credsStore\":\"desktop\"}");
	CHECK(lookup(dir, "docker.io", &u, &p) == 1);
	CHECK_STR(u, "user");
	CHECK_STR(p, "pa:ss");
	free(u);
	free(p);
	CHECK(lookup(dir, "registry-1.docker.io", &u, &p) == 1);
	free(u);
	free(p);
	CHECK(lookup(dir, "reg.example:5000", &u, &p) == 1);
	CHECK_STR(u, "bob");
	CHECK_STR(p, "pw");
	free(u);
	free(p);
	CHECK(lookup(dir, "reg.example", &u, &p) == 0);
	CHECK(lookup(dir, "helper.example", &u, &p) == 0);
	CHECK(lookup(dir, "other", &u, &p) == 0);
	CHECK(u == NULL && p == NULL);
	CHECK(lookup("/nonexistent-skiff-dir", "docker.io", &u, &p) == 0);
	fs_remove_tree(AT_FDCWD, dir, NULL);
}

TEST(lookup_malformed)
{
	static const char *const bad[] = {
		"{\"auths\":",
		"[]",
		"{\"auths\":[]}",
		"{\"auths\":{\"h\":{\"auth\":\"!!!!\"}}}",
		"{\"auths\":{\"h\":{\"auth\":\"bm9jb2xvbg==\"}}}", /* "nocolon" */
		"{\"auths\":{\"h\":\"str\"}}",
	};
	char dir[64];
	char *u = NULL, *p = NULL;
	struct sk_err err = { 0 };

	make_tmpdir(dir, sizeof(dir));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		write_config(dir, bad[i]);
		if (auth_lookup_credentials(dir, "h", &u, &p, &err) >= 0) {
			fprintf(stderr, "  accepted bad[%zu]\n", i);
			CHECK(0);
		}
		CHECK(strstr(err.msg, "config.json") != NULL);
		CHECK(u == NULL && p == NULL);
	}
	write_config(dir, "{\n\"auths\": {,}\n}");
	CHECK(auth_lookup_credentials(dir, "h", &u, &p, &err) < 0);
	CHECK(strstr(err.msg, "line 2") != NULL);
	fs_remove_tree(AT_FDCWD, dir, NULL);
}

TEST(store_keeps_other_keys_and_is_private)
{
	char dir[64], sub[128], path[160];
	struct sk_err err = { 0 };
	struct stat st;
	char *u = NULL, *p = NULL;
	json_t *root;
	json_error_t jerr;

	make_tmpdir(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/new/.docker", dir);
	CHECK(auth_store_credentials(sub, "docker.io", "user", "secret", &err) == 0);
	snprintf(path, sizeof(path), "%s/config.json", sub);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
	root = json_load_file(path, 0, &jerr);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(root, "auths"),
								    "https://index.docker.io/v1/"),
						    "auth")),
		  "dXNlcjpzZWNyZXQ=");
	json_decref(root);

	write_config(dir, "{\"auths\":{\"http://h:1\":{\"username\":\"a\",\"password\":\"b\","
			  "\"email\":\"e\"},\"x\":{\"auth\":\"eDp5\"}},\"psFormat\":\"t\"}");
	snprintf(path, sizeof(path), "%s/config.json", dir);
	chmod(path, 0644);
	CHECK(auth_store_credentials(dir, "h:1", "u2", "p2", &err) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	root = json_load_file(path, 0, &jerr);
	CHECK_STR(json_string_value(json_object_get(root, "psFormat")), "t");
	json_t *auths = json_object_get(root, "auths");
	CHECK(json_object_get(auths, "http://h:1") == NULL);
	CHECK(json_object_get(auths, "x") != NULL);
	json_t *e = json_object_get(auths, "h:1");
	CHECK_STR(json_string_value(json_object_get(e, "email")), "e");
	CHECK(json_object_get(e, "password") == NULL);
	json_decref(root);
	CHECK(lookup(dir, "h:1", &u, &p) == 1);
	CHECK_STR(u, "u2");
	CHECK_STR(p, "p2");
	free(u);
	free(p);

	CHECK(auth_store_credentials(dir, "h:1", "bad:user", "p", &err) < 0);
	fs_remove_tree(AT_FDCWD, dir, NULL);
}

TEST(erase)
{
	char dir[64];
	struct sk_err err = { 0 };
	char *u = NULL, *p = NULL;

	make_tmpdir(dir, sizeof(dir));
	CHECK(auth_erase_credentials(dir, "docker.io", &err) == 0);
	write_config(dir, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"eDp5\"},"
			  "\"docker.io\":{\"auth\":\"eDp5\"},\"other\":{\"auth\":\"eDp5\"}}}");
	CHECK(auth_erase_credentials(dir, "docker.io", &err) == 1);
	CHECK(lookup(dir, "docker.io", &u, &p) == 0);
	CHECK(lookup(dir, "other", &u, &p) == 1);
	free(u);
	free(p);
	CHECK(auth_erase_credentials(dir, "docker.io", &err) == 0);
	fs_remove_tree(AT_FDCWD, dir, NULL);
}

static int helper_reply(const char *json, struct auth_creds *c)
{
	struct sk_err err = { 0 };
	int r = auth_parse_helper_reply(json, strlen(json), c, &err);

	if (r < 0)
		fprintf(stderr, "  (%s -> %s)\n", json, err.msg);
	return r;
}

TEST(helper_reply)
{
	struct auth_creds c;
	static const char *const bad[] = {
		"", "[]", "{", "\"x\"", "{\"Username\":\"a\",\"Secret\":42}",
		"{\"Username\":[],\"Secret\":\"s\"}", "{\"Username\":\"a\\nb\",\"Secret\":\"s\"}",
		"{\"Username\":\"a\",\"Secret\":\"s\\u0000t\"}",
	};
	struct sk_err err = { 0 };
	char *big;

	CHECK(helper_reply("{\"ServerURL\":\"h\",\"Username\":\"alice\",\"Secret\":\"pw\"}\n",
			   &c) == 1);
	CHECK_STR(c.user, "alice");
	CHECK_STR(c.pass, "pw");
	CHECK(c.identity_token == NULL);
	auth_creds_release(&c);
	CHECK(c.user == NULL && c.pass == NULL);
	/* Go's decoder: keys in any case, trailing output ignored */
	CHECK(helper_reply("{\"username\":\"bob\",\"SECRET\":\"x\"}\ntrailing", &c) == 1);
	CHECK_STR(c.user, "bob");
	auth_creds_release(&c);
	CHECK(helper_reply("{\"Username\":\"<token>\",\"Secret\":\"refresh\"}", &c) == 1);
	CHECK(c.user == NULL && c.pass == NULL);
	CHECK_STR(c.identity_token, "refresh");
	auth_creds_release(&c);
	CHECK(helper_reply("{\"Username\":\"alice\",\"Secret\":\"\"}", &c) == 0);
	CHECK(helper_reply("{\"Secret\":\"orphan\"}", &c) == 0);
	CHECK(helper_reply("{\"Username\":null,\"Secret\":null}", &c) == 0);
	CHECK(c.user == NULL && c.pass == NULL && c.identity_token == NULL);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK(auth_parse_helper_reply(bad[i], strlen(bad[i]), &c, &err) < 0);
		CHECK(c.user == NULL && c.pass == NULL && c.identity_token == NULL);
	}
	/* bounded: a secret over 16 KiB and a reply over 64 KiB are refused */
	big = malloc(70000);
	memset(big, 'a', 70000);
	memcpy(big, "{\"Username\":\"u\",\"Secret\":\"", 26);
	memcpy(big + 20000, "\"}", 3);
	CHECK(auth_parse_helper_reply(big, strlen(big), &c, &err) < 0);
	CHECK(strstr(err.msg, "too long") != NULL);
	memset(big + 20000, 'a', 3);
	memcpy(big + 69990, "\"}", 3);
	CHECK(auth_parse_helper_reply(big, strlen(big), &c, &err) < 0);
	CHECK(strstr(err.msg, "too large") != NULL);
	free(big);
	/* what `store` reads */
	char *in = auth_helper_store_input("h:1", "u", "p\"w");
	CHECK_STR(in, "{\"ServerURL\":\"h:1\",\"Username\":\"u\",\"Secret\":\"p\\\"w\"}");
	free(in);
}

TEST(config_lookup_helpers)
{
	char dir[64], helper[AUTH_HELPER_NAME_MAX];
	struct auth_creds c = { 0 };
	struct sk_err err = { 0 };

	make_tmpdir(dir, sizeof(dir));
	write_config(dir, "{\"credsStore\":\"desktop\",\"credHelpers\":{\"gcr.io\":\"gcloud\","
			  "\"plain:5000\":\"\"},\"auths\":{\"plain:5000\":{\"auth\":\"dTpw\"},"
			  "\"tok:1\":{\"identitytoken\":\"rt\"}}}");
	CHECK(auth_config_lookup(dir, "gcr.io", helper, sizeof(helper), &c, &err) == 2);
	CHECK_STR(helper, "gcloud");
	CHECK(auth_config_lookup(dir, "docker.io", helper, sizeof(helper), &c, &err) == 2);
	CHECK_STR(helper, "desktop");
	/* credHelpers "" means the file, not credsStore (docker's rule) */
	CHECK(auth_config_lookup(dir, "plain:5000", helper, sizeof(helper), &c, &err) == 1);
	CHECK_STR(c.user, "u");
	CHECK_STR(c.pass, "p");
	auth_creds_release(&c);
	write_config(dir, "{\"auths\":{\"tok:1\":{\"identitytoken\":\"rt\"}}}");
	CHECK(auth_config_lookup(dir, "tok:1", helper, sizeof(helper), &c, &err) == 1);
	CHECK(c.user == NULL);
	CHECK_STR(c.identity_token, "rt");
	auth_creds_release(&c);
	CHECK(auth_config_lookup(dir, "none:1", helper, sizeof(helper), &c, &err) == 0);
	write_config(dir, "{\"credsStore\":\"../evil\"}");
	CHECK(auth_config_lookup(dir, "h", helper, sizeof(helper), &c, &err) < 0);
	CHECK(strstr(err.msg, "invalid credential helper name") != NULL);
	write_config(dir, "{\"credHelpers\":[]}");
	CHECK(auth_config_lookup(dir, "h", helper, sizeof(helper), &c, &err) < 0);
	write_config(dir, "{\"credsStore\":7}");
	CHECK(auth_config_lookup(dir, "h", helper, sizeof(helper), &c, &err) < 0);
	/* a helper login leaves docker's empty entry, secrets gone, email kept */
	write_config(dir, "{\"auths\":{\"h:1\":{\"auth\":\"dTpw\",\"email\":\"e\","
			  "\"identitytoken\":\"x\"}}}");
	CHECK(auth_store_credentials(dir, "h:1", NULL, NULL, &err) == 0);
	CHECK(auth_config_lookup(dir, "h:1", helper, sizeof(helper), &c, &err) == 0);
	fs_remove_tree(AT_FDCWD, dir, NULL);
}

int main(void)
{
	RUN(challenge_docker_hub);
	RUN(challenge_basic);
	RUN(challenge_case_whitespace_tokens);
	RUN(challenge_quotes_escapes_commas);
	RUN(challenge_unknown_params_and_multiple_challenges);
	RUN(challenge_errors);
	RUN(challenge_too_long_is_an_error_not_truncated);
	RUN(token_response);
	RUN(config_key);
	RUN(lookup_variants);
	RUN(lookup_malformed);
	RUN(store_keeps_other_keys_and_is_private);
	RUN(erase);
	RUN(helper_reply);
	RUN(config_lookup_helpers);
	return UNIT_DONE();
}

/*
 * image_config_parse: a real-looking nginx config read field by field, the
 * shapes docker accepts (string Cmd, null config, empty lists), and configs that
 * must be refused, each with the words the error has to contain.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "image/image_config.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D_A "sha256:" HEX64
#define D_B "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_A "\"]}"

static const char nginx[] =
    "{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"User\":\"\",\"ExposedPorts\":"
    "{\"80/tcp\":{},\"443/tcp\":{}},\"Tty\":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/"
    "bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"NGINX_VERSION=1.25.3\",\"EMPTY=\"],\"Cmd\":[\"nginx\","
    "\"-g\",\"daemon off;\"],\"Image\":\"" D_B "\",\"Volumes\":null,\"WorkingDir\":\"\","
    "\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"OnBuild\":null,\"Labels\":{\"maintainer\":"
    "\"NGINX Docker Maintainers\"},\"StopSignal\":\"SIGQUIT\"},\"created\":\"2023-12-19T14:"
    "38:41.365519624Z\",\"docker_version\":\"20.10.23\",\"history\":[{\"created_by\":\"/bin/sh"
    "\"}],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_A "\",\"" D_B
    "\"]}}";

static int parse(const char *json, struct image_config *c, struct sk_err *err)
{
	return image_config_parse(json, strlen(json), c, err);
}

TEST(nginx_config)
{
	struct image_config c;
	struct sk_err err = {0};

	CHECK(parse(nginx, &c, &err) == 0);
	CHECK_STR(c.platform.os, "linux");
	CHECK_STR(c.platform.arch, "amd64");
	CHECK_STR(c.platform.variant, "");
	CHECK_STR(c.created, "2023-12-19T14:38:41.365519624Z");
	CHECK_STR(c.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	CHECK_STR(c.env[2], "EMPTY=");
	CHECK(c.env[3] == NULL);
	CHECK(c.entrypoint && c.entrypoint[1] == NULL);
	CHECK_STR(c.entrypoint[0], "/docker-entrypoint.sh");
	CHECK(c.cmd && c.cmd[3] == NULL);
	CHECK_STR(c.cmd[2], "daemon off;");
	CHECK_STR(c.working_dir, "");
	CHECK_STR(c.user, "");
	CHECK_STR(c.stop_signal, "SIGQUIT");
	CHECK(c.exposed_ports && c.exposed_ports[2] == NULL);
	CHECK(c.labels && c.labels[1] == NULL);
	CHECK_STR(c.labels[0], "maintainer=NGINX Docker Maintainers");
	CHECK(c.n_diff_ids == 2);
	CHECK_STR(c.diff_ids[0], D_A);
	CHECK_STR(c.diff_ids[1], D_B);
	CHECK(c.diff_ids[2] == NULL);
	image_config_release(&c);
	CHECK(c.env == NULL && c.diff_ids == NULL);
}

TEST(minimal_and_null_fields)
{
	const char *json = "{\"architecture\":\"arm\",\"os\":\"linux\",\"config\":null," ROOTFS "}";
	const char *bare = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	struct image_config c;
	struct sk_err err = {0};

	CHECK(parse(json, &c, &err) == 0);
	CHECK(c.env && c.env[0] == NULL);
	CHECK(c.entrypoint == NULL && c.cmd == NULL && c.working_dir == NULL);
	CHECK(c.user == NULL && c.stop_signal == NULL && c.exposed_ports == NULL);
	CHECK(c.labels == NULL);
	CHECK_STR(c.platform.variant, "v7"); /* arm without variant is v7 */
	CHECK(c.n_diff_ids == 1);
	image_config_release(&c);

	CHECK(parse(bare, &c, &err) == 0);
	CHECK(c.n_diff_ids == 0 && c.diff_ids && c.diff_ids[0] == NULL);
	CHECK_STR(c.created, "");
	CHECK_STR(c.platform.os, "");
	image_config_release(&c);
}

TEST(docker_shapes)
{
	const char *json = "{\"config\":{\"Entrypoint\":\"/bin/sh -c\",\"Cmd\":[],\"Env\":null,"
			   "\"User\":\"1000:1000\",\"WorkingDir\":\"/srv\",\"ExposedPorts\":null},"
			   "\"architecture\":\"aarch64\",\"variant\":\"8\"," ROOTFS "}";
	struct image_config c;
	struct sk_err err = {0};

	CHECK(parse(json, &c, &err) == 0);
	CHECK(c.entrypoint && c.entrypoint[1] == NULL);
	CHECK_STR(c.entrypoint[0], "/bin/sh -c");
	CHECK(c.cmd && c.cmd[0] == NULL); /* [] is not absent: it clears a Cmd */
	CHECK(c.env && c.env[0] == NULL);
	CHECK_STR(c.user, "1000:1000");
	CHECK_STR(c.working_dir, "/srv");
	CHECK_STR(c.platform.arch, "arm64");
	CHECK_STR(c.platform.variant, "v8");
	image_config_release(&c);
}

/* Labels as "K=V"; a value that is not a string is left out, not refused. */
TEST(labels)
{
	const char *json = "{\"config\":{\"Labels\":{\"a\":\"1\",\"n\":7,\"e\":\"\"}}," ROOTFS "}";
	struct image_config c;
	struct sk_err err = {0};

	CHECK(parse(json, &c, &err) == 0);
	CHECK(c.labels && c.labels[0] && c.labels[1] && c.labels[2] == NULL);
	CHECK(!strcmp(c.labels[0], "a=1") || !strcmp(c.labels[1], "a=1"));
	CHECK(!strcmp(c.labels[0], "e=") || !strcmp(c.labels[1], "e="));
	image_config_release(&c);
}

struct invalid_case {
	const char *name;
	const char *json;
	const char *expect;
};

static const struct invalid_case invalid[] = {
    {"no rootfs", "{\"os\":\"linux\"}", "'rootfs' is missing"},
    {"rootfs type", "{\"rootfs\":{\"type\":\"snapshot\",\"diff_ids\":[]}}",
     "rootfs type 'snapshot'"},
    {"rootfs type missing", "{\"rootfs\":{\"diff_ids\":[]}}", "rootfs type"},
    {"diff_ids missing", "{\"rootfs\":{\"type\":\"layers\"}}", "diff_ids"},
    {"diff_ids an object", "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":{}}}", "diff_ids"},
    {"diff_id path", "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_A "\",\"../x\"]}}",
     "diff_ids[1] '../x' is not a valid sha256 digest"},
    {"diff_id sha512", "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha512:" HEX64 "\"]}}",
     "diff_ids[0]"},
    {"diff_id number", "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[7]}}", "(not a string)"},
    {"config a string", "{\"config\":\"x\"," ROOTFS "}", "'config' is not an object"},
    {"env an object", "{\"config\":{\"Env\":{}}," ROOTFS "}", "'Env' is not a list"},
    {"env element a number", "{\"config\":{\"Env\":[\"A=1\",2]}," ROOTFS "}",
     "Env is not a string"},
    {"env without =", "{\"config\":{\"Env\":[\"JUSTNAME\"]}," ROOTFS "}",
     "Env entry 'JUSTNAME' is not NAME=VALUE"},
    {"env without name", "{\"config\":{\"Env\":[\"=x\"]}," ROOTFS "}", "NAME=VALUE"},
    {"cmd an object", "{\"config\":{\"Cmd\":{}}," ROOTFS "}", "'Cmd'"},
    {"entrypoint with null", "{\"config\":{\"Entrypoint\":[\"a\",null]}," ROOTFS "}", "Entrypoint"},
    {"workdir a number", "{\"config\":{\"WorkingDir\":1}," ROOTFS "}", "WorkingDir"},
    {"user a list", "{\"config\":{\"User\":[]}," ROOTFS "}", "User"},
    {"ports a list", "{\"config\":{\"ExposedPorts\":[\"80/tcp\"]}," ROOTFS "}", "ExposedPorts"},
    {"created too long",
     "{\"created\":\"2023-12-19T14:38:41.3655196240000000000000000000000000000000000000Z\"," ROOTFS
     "}",
     "'created' is too long"},
    {"architecture too long",
     "{\"architecture\":\"a234567890123456789012345678901234\"," ROOTFS "}",
     "'architecture' is too long"},
    {"os a number", "{\"os\":1," ROOTFS "}", "'os' is not a string"},
    {"duplicate keys", "{\"config\":{\"Cmd\":[\"a\"],\"Cmd\":[\"b\"]}," ROOTFS "}", "duplicate"},
    {"not json", "nope", "invalid image config JSON"},
    {"array", "[]", "not a JSON object"},
    {"empty", "", "empty"},
};

TEST(invalid_configs)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		struct image_config c;
		struct sk_err err = {0};
		int r = parse(invalid[i].json, &c, &err);

		if (r == 0 || !strstr(err.msg, invalid[i].expect)) {
			fprintf(stderr, "invalid case '%s': r=%d, error '%s', expected '%s'\n",
				invalid[i].name, r, err.msg, invalid[i].expect);
			CHECK(0);
		}
		CHECK(c.env == NULL && c.diff_ids == NULL && c.cmd == NULL);
		if (r == 0)
			image_config_release(&c);
	}
}

/* A config with n Env entries or n diff_ids, and one with a long WorkingDir. */
static char *config_with(size_t n_env, size_t n_ids, size_t workdir_len)
{
	struct buf b = BUF_INIT(1 << 24);

	buf_appendf(&b, "{\"config\":{\"WorkingDir\":\"/%*s\",\"Env\":[", (int)workdir_len, "");
	for (size_t i = 0; i < n_env; i++)
		buf_appendf(&b, "%s\"V%zu=1\"", i ? "," : "", i);
	buf_appendf(&b, "]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	for (size_t i = 0; i < n_ids; i++)
		buf_appendf(&b, "%s\"%s\"", i ? "," : "", D_A);
	buf_appendf(&b, "]}}");
	return buf_detach(&b, NULL);
}

static int parse_generated(size_t n_env, size_t n_ids, size_t workdir_len, struct sk_err *err)
{
	cleanup_free char *json = config_with(n_env, n_ids, workdir_len);
	struct image_config c;
	int r = parse(json, &c, err);

	if (r == 0) {
		if (c.n_diff_ids != n_ids)
			r = 99;
		image_config_release(&c);
	}
	return r;
}

TEST(caps)
{
	struct sk_err err = {0};

	CHECK(parse_generated(IMAGE_CONFIG_MAX_ENV, MANIFEST_MAX_LAYERS, 10, &err) == 0);
	CHECK(parse_generated(IMAGE_CONFIG_MAX_ENV + 1, 1, 10, &err) < 0);
	CHECK(strstr(err.msg, "'Env' has 4097 entries, more than 4096") != NULL);
	CHECK(parse_generated(1, MANIFEST_MAX_LAYERS + 1, 10, &err) < 0);
	CHECK(strstr(err.msg, "1025 diff_ids, more than the 1024 allowed") != NULL);
	CHECK(parse_generated(1, 1, IMAGE_CONFIG_MAX_SHORT - 1, &err) == 0);
	CHECK(parse_generated(1, 1, IMAGE_CONFIG_MAX_SHORT, &err) < 0);
	CHECK(strstr(err.msg, "WorkingDir is longer than 4096 bytes") != NULL);
}

TEST(release_twice)
{
	struct image_config c;
	struct sk_err err = {0};

	CHECK(parse(nginx, &c, &err) == 0);
	image_config_release(&c);
	image_config_release(&c);
	image_config_release(NULL);
	CHECK(c.cmd == NULL);
}

int main(void)
{
	RUN(nginx_config);
	RUN(minimal_and_null_fields);
	RUN(docker_shapes);
	RUN(labels);
	RUN(invalid_configs);
	RUN(caps);
	RUN(release_twice);
	return UNIT_DONE();
}

/* Unit tests for skiff's settings: defaults, file layering, environment, insecure hosts. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/config.h"
#include "util/fs.h"
#include "unit.h"

static char tmp[64];
static char sys_path[128], user_dir[128], user_path[160];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* A clean environment: files in a temp dir, nothing inherited from the caller. */
static void reset_env(void)
{
	unlink(sys_path);
	unlink(user_path);
	setenv("SKIFF_CONFIG", sys_path, 1);
	setenv("XDG_CONFIG_HOME", tmp, 1);
	setenv("HOME", "/home/someone", 1);
	unsetenv("XDG_DATA_HOME");
	unsetenv("DOCKER_CONFIG");
	unsetenv("SKIFF_ROOT");
	unsetenv("SKIFF_CERTS_DIR");
	unsetenv("SKIFF_REGISTRY_MIRROR");
	unsetenv("SKIFF_STORAGE_DRIVER");
}

TEST(defaults)
{
	struct sk_config cfg;
	struct sk_err err = { 0 };

	reset_env();
	CHECK(config_load(&cfg, &err) == 0);
	if (geteuid() == 0)
		CHECK_STR(cfg.root, "/var/lib/skiff");
	else
		CHECK_STR(cfg.root, "/home/someone/.local/share/skiff");
	CHECK(cfg.rootless == (geteuid() != 0));
	CHECK_STR(cfg.certs_dir, "/etc/docker/certs.d");
	CHECK_STR(cfg.docker_config_dir, "/home/someone/.docker");
	CHECK(cfg.max_concurrent_downloads == 3);
	CHECK(cfg.n_registry_mirrors == 0);
	CHECK(cfg.n_insecure_registries == 0);
	config_release(&cfg);

	setenv("DOCKER_CONFIG", "/dc", 1);
	setenv("SKIFF_CERTS_DIR", "/certs", 1);
	CHECK(config_load(&cfg, &err) == 0);
	CHECK_STR(cfg.docker_config_dir, "/dc");
	CHECK_STR(cfg.certs_dir, "/certs");
	config_release(&cfg);
}

TEST(files_layer_and_env_wins)
{
	struct sk_config cfg;
	struct sk_err err = { 0 };

	reset_env();
	write_file(sys_path,
		   "{\"root\":\"/sys-root\",\"registry-mirrors\":[\"https://m1\"],"
		   "\"insecure-registries\":[\"reg:5000\"],\"max-concurrent-downloads\":5,"
		   "\"unknown-key\":true}");
	CHECK(config_load(&cfg, &err) == 0);
	CHECK_STR(cfg.root, "/sys-root");
	CHECK(cfg.n_registry_mirrors == 1);
	CHECK_STR(cfg.registry_mirrors[0], "https://m1");
	CHECK(cfg.max_concurrent_downloads == 5);
	config_release(&cfg);

	write_file(user_path, "{\"root\":\"/user-root\",\"registry-mirrors\":[\"http://m2\","
			      "\"https://m3\"]}");
	CHECK(config_load(&cfg, &err) == 0);
	CHECK_STR(cfg.root, "/user-root");
	CHECK(cfg.n_registry_mirrors == 2);
	CHECK_STR(cfg.registry_mirrors[0], "http://m2");
	CHECK_STR(cfg.registry_mirrors[1], "https://m3");
	CHECK(cfg.n_insecure_registries == 1); /* not replaced: absent from the user file */
	CHECK(cfg.max_concurrent_downloads == 5);
	config_release(&cfg);

	setenv("SKIFF_ROOT", "/env-root", 1);
	setenv("SKIFF_REGISTRY_MIRROR", " https://e1 ,,http://e2", 1);
	CHECK(config_load(&cfg, &err) == 0);
	CHECK_STR(cfg.root, "/env-root");
	CHECK(cfg.n_registry_mirrors == 2);
	CHECK_STR(cfg.registry_mirrors[0], "https://e1");
	CHECK_STR(cfg.registry_mirrors[1], "http://e2");
	CHECK(config_add_mirror(&cfg, "https://flag", &err) == 0);
	CHECK(cfg.n_registry_mirrors == 3);
	CHECK(config_add_mirror(&cfg, "ftp://x", &err) < 0);
	config_release(&cfg);
	CHECK(cfg.n_registry_mirrors == 0);
}

TEST(malformed_files_are_errors_naming_file_and_line)
{
	static const char *const bad[] = {
		"[]",
		"{\"registry-mirrors\":\"https://x\"}",
		"{\"registry-mirrors\":[1]}",
		"{\"registry-mirrors\":[\"not-a-url\"]}",
		"{\"insecure-registries\":{}}",
		"{\"max-concurrent-downloads\":0}",
		"{\"max-concurrent-downloads\":\"3\"}",
		"{\"root\":\"relative\"}",
	};
	struct sk_config cfg;
	struct sk_err err = { 0 };

	reset_env();
	write_file(sys_path, "{\n  \"root\": \"/x\",\n  oops\n}");
	CHECK(config_load(&cfg, &err) < 0);
	CHECK(strstr(err.msg, sys_path) != NULL);
	CHECK(strstr(err.msg, "line 3") != NULL);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		write_file(user_path, bad[i]);
		unlink(sys_path);
		if (config_load(&cfg, &err) == 0) {
			fprintf(stderr, "  accepted bad[%zu] %s\n", i, bad[i]);
			config_release(&cfg);
			CHECK(0);
			continue;
		}
		CHECK(strstr(err.msg, user_path) != NULL);
	}
}

TEST(list_limit)
{
	struct sk_config cfg;
	struct sk_err err = { 0 };

	reset_env();
	CHECK(config_load(&cfg, &err) == 0);
	for (int i = 0; i < CONFIG_MAX_LIST; i++)
		CHECK(config_add_insecure(&cfg, "h", &err) == 0);
	CHECK(config_add_insecure(&cfg, "h", &err) < 0);
	config_release(&cfg);
}

TEST(insecure_registries)
{
	struct sk_config cfg;
	struct sk_err err = { 0 };

	reset_env();
	CHECK(config_load(&cfg, &err) == 0);
	CHECK(config_registry_is_insecure(&cfg, "localhost"));
	CHECK(config_registry_is_insecure(&cfg, "localhost:5000"));
	CHECK(config_registry_is_insecure(&cfg, "127.0.0.1:5000"));
	CHECK(config_registry_is_insecure(&cfg, "127.1.2.3"));
	CHECK(config_registry_is_insecure(&cfg, "[::1]:5000"));
	CHECK(config_registry_is_insecure(&cfg, "[::1]"));
	CHECK(!config_registry_is_insecure(&cfg, "128.0.0.1:5000"));
	CHECK(!config_registry_is_insecure(&cfg, "docker.io"));
	CHECK(!config_registry_is_insecure(&cfg, "localhost.example.com"));
	CHECK(!config_registry_is_insecure(&cfg, "[::2]:5000"));

	CHECK(config_add_insecure(&cfg, "reg.example:5000", &err) == 0);
	CHECK(config_add_insecure(&cfg, "bare.example", &err) == 0);
	CHECK(config_add_insecure(&cfg, "10.1.0.0/16", &err) == 0);
	CHECK(config_add_insecure(&cfg, "http://slash.example:80/", &err) == 0);
	CHECK(config_add_insecure(&cfg, "fd00::/8", &err) == 0);
	CHECK(config_registry_is_insecure(&cfg, "reg.example:5000"));
	CHECK(config_registry_is_insecure(&cfg, "REG.example:5000"));
	CHECK(!config_registry_is_insecure(&cfg, "reg.example:5001"));
	CHECK(!config_registry_is_insecure(&cfg, "reg.example"));
	CHECK(config_registry_is_insecure(&cfg, "bare.example"));
	CHECK(config_registry_is_insecure(&cfg, "bare.example:443"));
	CHECK(config_registry_is_insecure(&cfg, "10.1.255.3:5000"));
	CHECK(!config_registry_is_insecure(&cfg, "10.2.0.1:5000"));
	CHECK(config_registry_is_insecure(&cfg, "slash.example:80"));
	CHECK(config_registry_is_insecure(&cfg, "[fd12::1]:5000"));
	CHECK(!config_registry_is_insecure(&cfg, "[fe80::1]:5000"));
	CHECK(!config_registry_is_insecure(&cfg, ""));
	config_release(&cfg);
}

TEST(storage_driver)
{
	struct sk_config cfg;
	struct sk_err err = { 0 };

	reset_env();
	CHECK(config_load(&cfg, &err) == 0 && !cfg.storage_vfs);
	config_release(&cfg);
	write_file(sys_path, "{\"storage-driver\":\"vfs\"}");
	CHECK(config_load(&cfg, &err) == 0 && cfg.storage_vfs);
	config_release(&cfg);
	setenv("SKIFF_STORAGE_DRIVER", "overlay2", 1);
	CHECK(config_load(&cfg, &err) == 0 && !cfg.storage_vfs);
	config_release(&cfg);
	setenv("SKIFF_STORAGE_DRIVER", "btrfs", 1);
	CHECK(config_load(&cfg, &err) < 0 && strstr(err.msg, "btrfs") != NULL);
	unsetenv("SKIFF_STORAGE_DRIVER");
	write_file(sys_path, "{\"storage-driver\":7}");
	CHECK(config_load(&cfg, &err) < 0 && strstr(err.msg, "storage-driver") != NULL);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/skiff-test-config-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(sys_path, sizeof(sys_path), "%s/system.json", tmp);
	snprintf(user_dir, sizeof(user_dir), "%s/skiff", tmp);
	snprintf(user_path, sizeof(user_path), "%s/config.json", user_dir);
	if (fs_mkdir_p(AT_FDCWD, user_dir, 0700, NULL) < 0)
		return 1;

	RUN(defaults);
	RUN(files_layer_and_env_wins);
	RUN(malformed_files_are_errors_naming_file_and_line);
	RUN(list_limit);
	RUN(insecure_registries);
	RUN(storage_driver);
	fs_remove_tree(AT_FDCWD, tmp, NULL);
	return UNIT_DONE();
}

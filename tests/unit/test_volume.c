/* Volumes: docker's parsing of -v and --mount (the client's and the daemon's
 * words), the merge of a container's mounts, and the volume store (create,
 * list, references, remove, prune, leftovers of a killed create or rm) on
 * the real file system. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/store.h"
#include "runtime/volume.h"
#include "runtime/volume_plan.h"
#include "util/fs.h"
#include "unit.h"

TEST(names)
{
	struct sk_err err = { 0 };

	CHECK(volume_check_name("ab", &err) == 0);
	CHECK(volume_check_name("a-b_c.1", &err) == 0);
	CHECK(volume_check_name("a", &err) < 0);
	CHECK(strstr(err.msg, "too short") != NULL);
	CHECK(volume_check_name("a/b", &err) < 0);
	CHECK(strstr(err.msg, "\"a/b\" includes invalid characters for a local volume name") != NULL);
	CHECK(volume_check_name("-ab", &err) < 0);
	CHECK(volume_check_name(".lock", &err) < 0);
	CHECK(volume_check_name("..", &err) < 0);
	CHECK(volume_check_name("a\xc3\xa9", &err) < 0);
}

TEST(natural_order)
{
	CHECK(volume_name_less("v2", "v10"));
	CHECK(!volume_name_less("v10", "v2"));
	CHECK(volume_name_less("1a", "ab")); /* digits first */
	CHECK(volume_name_less("a01", "a001"));
	CHECK(volume_name_less("ab", "abc"));
	CHECK(!volume_name_less("abc", "abc"));
}

TEST(sizes)
{
	long long v;

	CHECK(volume_plan_parse_size("64m", &v) == 0 && v == 64LL << 20);
	CHECK(volume_plan_parse_size("1.5g", &v) == 0 && v == 3LL << 29);
	CHECK(volume_plan_parse_size("100", &v) == 0 && v == 100);
	CHECK(volume_plan_parse_size("10 MB", &v) == 0 && v == 10LL << 20);
	CHECK(volume_plan_parse_size("2KiB", &v) == 0 && v == 2048);
	CHECK(volume_plan_parse_size("zz", &v) < 0);
	CHECK(volume_plan_parse_size("1x", &v) < 0);
	CHECK(volume_plan_parse_size("-1", &v) < 0);
	CHECK(volume_plan_parse_size("", &v) < 0);
}

static void check_err(int r, const struct sk_err *err, const char *want)
{
	CHECK(r < 0);
	if (r < 0 && strcmp(err->msg, want) != 0) {
		fprintf(stderr, "  got  '%s'\n  want '%s'\n", err->msg, want);
		CHECK(!"message");
	}
}

/* What docker's client says (docker 28.2.2 against these arguments). */
TEST(client_checks)
{
	static const struct {
		const char *arg, *error;
	} mounts[] = {
		{ "", "EOF" },
		{ "type=bind,src=/tmp", "target is required" },
		{ "type=,dst=/x", "type is required" },
		{ "type=bind,src=/tmp,dst=/x,ro=maybe", "invalid value for ro: maybe" },
		{ "type=volume,dst=/x,bind-propagation=rshared",
		  "cannot mix 'bind-*' options with mount type 'volume'" },
		{ "type=volume,dst=/x,tmpfs-size=1m",
		  "cannot mix 'tmpfs-*' options with mount type 'volume'" },
		{ "type=bind,src=/t,dst=/x,volume-nocopy",
		  "cannot mix 'volume-*' options with mount type 'bind'" },
		{ "type=tmpfs,dst=/x,tmpfs-size=zz", "invalid value for tmpfs-size: zz" },
		{ "type=tmpfs,dst=/x,tmpfs-mode=9", "invalid value for tmpfs-mode: 9" },
		{ "dst=/x,foo=bar", "unexpected key 'foo' in 'foo=bar'" },
		{ "dst=/x,foo", "invalid field 'foo' must be a key=value pair" },
		{ "type=volume, dst=/x", "unexpected key ' dst' in ' dst=/x'" },
		{ "type=bind,src=/t,dst=/x,bind-recursive=writable",
		  "option 'bind-recursive=writable' requires 'readonly' to be specified in "
		  "conjunction" },
		{ "type=bind,src=/t,dst=/x,bind-recursive=maybe",
		  "invalid value for bind-recursive: maybe (must be \"enabled\", \"disabled\", "
		  "\"writable\", or \"readonly\")" },
		{ "type=volume,dst=/x,volume-nocopy=2", "invalid value for volume-nocopy: 2" },
		{ "type=bind,sr\"c=/t,dst=/x", "parse error on line 1, column 13: bare \" in "
					       "non-quoted-field" },
	};
	struct sk_err err = { 0 };

	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
		check_err(volume_plan_check_mount(mounts[i].arg, &err), &err, mounts[i].error);
	CHECK(volume_plan_check_mount("TYPE=volume,DST=/x", &err) == 0);
	CHECK(volume_plan_check_mount("type=bind,\"src=/a,b\",dst=/x,readonly", &err) == 0);
	CHECK(volume_plan_check_mount("type=tmpfs,dst=/x,tmpfs-size=1m,tmpfs-mode=1770", &err) == 0);
	check_err(volume_plan_check_bind(":/x", &err), &err,
		  "invalid spec: :/x: empty section between colons");
	check_err(volume_plan_check_bind("nv:/x:", &err), &err,
		  "invalid spec: nv:/x:: empty section between colons");
	check_err(volume_plan_check_bind("", &err), &err, "invalid empty volume spec");
	CHECK(volume_plan_check_bind("nv:/x", &err) == 0);
}

static int build_binds(const char *arg, struct volume_plan *p, struct sk_err *err)
{
	char *v[] = { (char *)arg, NULL };
	struct strv binds = { v, 1 };
	struct volume_request r = { .binds = &binds };

	return volume_plan_build(NULL, &r, p, err);
}

static int build_mount(const char *arg, struct volume_plan *p, struct sk_err *err)
{
	char *v[] = { (char *)arg, NULL };
	struct strv mounts = { v, 1 };
	struct volume_request r = { .mounts = &mounts };

	return volume_plan_build(NULL, &r, p, err);
}

/* What docker's daemon says (linux_parser.go, registerMountPoints). */
TEST(daemon_checks)
{
	static const struct {
		const char *arg, *error;
	} binds[] = {
		{ "/x:ro", "invalid volume specification: '/x:ro'" },
		{ "nv:/x:rw,ro", "invalid mode: rw,ro" },
		{ "nv:/x:bogus", "invalid mode: bogus" },
		{ "nv:/x:ro,", "invalid mode: ro," },
		{ "nv:x", "invalid volume specification: 'nv:x': invalid mount config for type "
			  "\"volume\": invalid mount path: 'x' mount path must be absolute" },
		{ "nv:/", "invalid volume specification: 'nv:/': invalid mount config for type "
			  "\"volume\": invalid specification: destination can't be '/'" },
		{ "/a:/x/..", "invalid volume specification: '/a:/x/..': invalid mount config for "
			      "type \"bind\": invalid specification: destination can't be '/'" },
		{ "a/b:/x", "create a/b: \"a/b\" includes invalid characters for a local volume "
			    "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to "
			    "pass a host directory, use absolute path" },
		{ "/tmp/q:/x:nocopy", "invalid volume specification: '/tmp/q:/x:nocopy': invalid "
				      "mount config for type \"bind\": field VolumeOptions must "
				      "not be specified" },
		{ "nv:/x:rshared", "invalid volume specification: 'nv:/x:rshared': invalid mount "
				   "config for type \"volume\": field BindOptions must not be "
				   "specified" },
		{ "/tmp/a:/x:y:z", "invalid volume specification: '/tmp/a:/x:y:z'" },
		{ "a:/x", "create a: volume name is too short, names should be at least two "
			  "alphanumeric characters" },
	};
	static const struct {
		const char *arg, *error;
	} mounts[] = {
		{ "type=bind,target=/x", "invalid mount config for type \"bind\": field Source "
					 "must not be empty" },
		{ "type=bind,src=/nonexistent-skiff,dst=/x", "invalid mount config for type "
							     "\"bind\": bind source path does "
							     "not exist: /nonexistent-skiff" },
		{ "type=bind,src=rel,dst=/x", "invalid mount config for type \"bind\": invalid "
					      "mount path: 'rel' mount path must be absolute" },
		{ "type=tmpfs,src=a,dst=/x", "invalid mount config for type \"tmpfs\": field "
					     "Source must not be specified" },
		{ "type=foo,dst=/x", "invalid mount config for type \"foo\": mount type unknown" },
		{ "type=volume,dst=/x,readonly", "invalid mount config for type \"volume\": must "
						 "not set ReadOnly mode when using anonymous "
						 "volumes" },
		{ "type=volume,dst=x", "invalid mount config for type \"volume\": invalid mount "
				       "path: 'x' mount path must be absolute" },
		{ "type=bind,src=/tmp,dst=/x,bind-propagation=bogus",
		  "invalid mount config for type \"bind\": invalid propagation mode: bogus" },
		{ "type=volume,dst=/x,volume-subpath=s", "invalid mount config for type \"volume\": "
							 "must not set Subpath when using "
							 "anonymous volumes" },
		{ "type=volume,src=vv,dst=/x,volume-subpath=../s",
		  "invalid mount config for type \"volume\": subpath must be a relative path "
		  "within the volume" },
		{ "type=volume,src=vv,dst=/x,volume-driver=other",
		  "create vv: error looking up volume plugin other: plugin \"other\" not found" },
	};
	struct volume_plan p;
	struct sk_err err = { 0 };

	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++)
		check_err(build_binds(binds[i].arg, &p, &err), &err, binds[i].error);
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
		check_err(build_mount(mounts[i].arg, &p, &err), &err, mounts[i].error);
}

TEST(merge)
{
	char *binds_v[] = { "nv:/data", "/srv/h:/h:ro", "/anon", "/anon", "./rel:/r", NULL };
	char *mounts_v[] = { "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770", NULL };
	char *tmpfs_v[] = { "/run:size=1m", NULL };
	char *image[] = { "/data", "/var/lib/x/", "/run", NULL };
	struct strv binds = { binds_v, 5 }, mounts = { mounts_v, 1 }, tmpfs = { tmpfs_v, 1 };
	struct volume_request r = { &binds, &mounts, NULL, &tmpfs, image };
	struct volume_plan p;
	struct sk_err err = { 0 };
	struct strv names = { 0 };

	CHECK(volume_plan_build(NULL, &r, &p, &err) == 0);
	/* nv, the bind, ./rel, the tmpfs, /var/lib/x and /anon: the image's
	 * /data is nv's, its /run the --tmpfs's */
	CHECK(p.n == 6);
	if (p.n != 6)
		return;
	CHECK(p.m[0].kind == VOLUME_MOUNT_VOLUME && !strcmp(p.m[0].name, "nv"));
	CHECK_STR(p.m[0].mode, "z");
	CHECK(p.m[0].copy && !p.m[0].anonymous && p.m[0].rw);
	CHECK(p.m[1].kind == VOLUME_MOUNT_BIND && !p.m[1].rw);
	CHECK_STR(p.m[1].propagation, "rprivate");
	CHECK(p.m[2].kind == VOLUME_MOUNT_BIND && p.m[2].source[0] == '/' &&
	      strstr(p.m[2].source, "/./") == NULL);
	CHECK(p.m[3].kind == VOLUME_MOUNT_TMPFS);
	CHECK_STR(p.m[3].tmpfs, "mode=1770,size=1m");
	CHECK_STR(p.m[4].destination, "/var/lib/x");
	CHECK(p.m[4].anonymous && !p.m[4].name);
	CHECK_STR(p.m[5].destination, "/anon");
	/* Config.Volumes: the image's, then -v's anonymous one (once) */
	CHECK(p.config_volumes.n == 4);
	CHECK(volume_plan_anonymous(&p, &names, &err) == 0 && names.n == 0); /* not made yet */
	volume_plan_release(&p);

	{
		char *dup_v[] = { "/a:/x", "nv:/x/", NULL };
		struct strv dup = { dup_v, 2 };
		struct volume_request d = { .binds = &dup };

		check_err(volume_plan_build(NULL, &d, &p, &err), &err, "Duplicate mount point: /x");
	}
	{
		char *dup_v[] = { "/a:/run", NULL };
		struct strv dup = { dup_v, 1 };
		struct volume_request d = { .binds = &dup, .tmpfs = &tmpfs };

		check_err(volume_plan_build(NULL, &d, &p, &err), &err, "Duplicate mount point: /run");
	}
	{
		char *b_v[] = { "/a:/x", NULL };
		char *m_v[] = { "type=tmpfs,target=/x/", NULL };
		struct strv b = { b_v, 1 }, m = { m_v, 1 };
		struct volume_request d = { .binds = &b, .mounts = &m };

		check_err(volume_plan_build(NULL, &d, &p, &err), &err, "Duplicate mount point: /x/");
	}
}

static char root[256];

static void fresh_store(struct store *s)
{
	struct sk_err err = { 0 };

	snprintf(root, sizeof(root), "/tmp/skiff-unit-volume-XXXXXX");
	if (!mkdtemp(root) || store_open(s, root, &err) < 0)
		abort();
}

static void drop_store(struct store *s)
{
	struct sk_err err = { 0 };

	store_close(s);
	fs_remove_tree(AT_FDCWD, root, &err);
}

static size_t count(struct store *s)
{
	struct volume_info *v;
	size_t n = 0;
	struct sk_err err = { 0 };

	if (volume_list(s, &v, &n, &err) < 0)
		return (size_t)-1;
	volume_list_free(v, n);
	return n;
}

static int file_exists(const char *rel)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return stat(path, &st) == 0;
}

TEST(store)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct store s;
	struct sk_err err = { 0 };
	char name[VOLUME_NAME_MAX + 1], anon[VOLUME_NAME_MAX + 1], path[600];
	char *labels[] = { "a=b", "c" }, *bad_opts[] = { "type=tmpfs" }, *opts[] = {
		"type=tmpfs", "device=tmpfs", "o=size=1m"
	};
	struct volume_create_opts named = { .name = "v10", .labels = labels, .n_labels = 2 };
	struct volume_create_opts anonymous = { 0 };
	struct volume_info info;
	struct strv users = { 0 };
	int voldir, lock;

	fresh_store(&s);
	CHECK(volume_create(&s, &named, name, &err) == 0);
	CHECK_STR(name, "v10");
	CHECK(volume_create(&s, &named, name, &err) == 0); /* idempotent */
	named.name = "v2";
	named.n_labels = 0;
	CHECK(volume_create(&s, &named, name, &err) == 0);
	CHECK(volume_create(&s, &anonymous, anon, &err) == 0 && strlen(anon) == 64);
	named.name = "bad";
	named.opts = bad_opts;
	named.n_opts = 1;
	check_err(volume_create(&s, &named, name, &err), &err,
		  "create bad: missing required option: \"device\"");
	named.name = "tv";
	named.opts = opts;
	named.n_opts = 3;
	CHECK(volume_create(&s, &named, name, &err) == 0);
	named.driver = "nfs-plugin";
	check_err(volume_create(&s, &named, name, &err), &err,
		  "create tv: error looking up volume plugin nfs-plugin: plugin \"nfs-plugin\" "
		  "not found");
	CHECK(count(&s) == 4);
	{
		struct volume_info *v;
		size_t n;

		CHECK(volume_list(&s, &v, &n, &err) == 0 && n == 4);
		/* natural order: digits first, then v2 before v10 */
		CHECK(n == 4 && !strcmp(v[0].name, anon) && !strcmp(v[1].name, "tv") &&
		      !strcmp(v[2].name, "v2") && !strcmp(v[3].name, "v10"));
		CHECK(n == 4 && volume_label_match(v[0].labels, VOLUME_ANONYMOUS_LABEL));
		CHECK(n == 4 && volume_label_match(v[3].labels, "a=b") &&
		      volume_label_match(v[3].labels, "c") &&
		      !volume_label_match(v[3].labels, "a=c"));
		CHECK(n == 4 && v[1].options && !v[2].options);
		volume_list_free(v, n);
	}
	CHECK(volume_get(&s, "v10", &info, &err) == 0);
	snprintf(path, sizeof(path), "%s/volumes/v10/_data", root);
	CHECK_STR(info.mountpoint, path);
	volume_info_release(&info);
	CHECK(volume_get(&s, "nope", &info, &err) < 0 && err.errnum == ENOENT);
	CHECK_STR(err.msg, "get nope: no such volume");
	CHECK(volume_get(&s, "../volumes/v10", &info, &err) < 0);

	/* a user: a reference and its container's directory */
	voldir = volume_dir_open(&s, &err);
	lock = volume_lock(voldir, &err);
	CHECK(volume_add_user(voldir, "v10", id, &err) == 0);
	close(lock);
	CHECK(volume_users(&s, "v10", &users, &err) == 0); /* no such container */
	snprintf(path, sizeof(path), "containers/%s", id);
	CHECK(fs_mkdir_p(s.root_fd, path, 0700, &err) == 0);
	CHECK(volume_users(&s, "v10", &users, &err) == 1 && !strcmp(users.v[0], id));
	strv_release(&users);
	check_err(volume_remove(&s, "v10", true, &err), &err,
		  "remove v10: volume is in use - [0123456789abcdef0123456789abcdef0123456789abcdef"
		  "0123456789abcdef]");
	{
		struct strv names = { 0 };

		strv_push(&names, "v10", &err);
		volume_remove_unused(&s, &names); /* in use: kept */
		CHECK(count(&s) == 4);
		strv_release(&names);
	}
	/* its container gone: the reference is stale, the volume free */
	CHECK(fs_remove_tree(s.root_fd, path, &err) == 0);
	CHECK(volume_remove(&s, "v10", false, &err) == 0);
	CHECK(!file_exists("volumes/v10"));
	check_err(volume_remove(&s, "v10", false, &err), &err, "get v10: no such volume");
	CHECK(volume_remove(&s, "v10", true, &err) == 0);

	/* leftovers of a killed create and rm: never listed, swept by the next writer */
	CHECK(mkdirat(voldir, ".tmp-dead", 0700) == 0 && mkdirat(voldir, ".tmp-dead/_data", 0700) == 0);
	CHECK(mkdirat(voldir, ".rm-dead", 0700) == 0 && mkdirat(voldir, ".rm-dead/_data", 0700) == 0);
	CHECK(count(&s) == 3);
	named = (struct volume_create_opts){ .name = "v3" };
	CHECK(volume_create(&s, &named, name, &err) == 0);
	CHECK(!file_exists("volumes/.tmp-dead") && !file_exists("volumes/.rm-dead"));
	close(voldir);
	drop_store(&s);
}

static void note(const char *name, long long size, void *arg)
{
	strv_push(arg, name, &(struct sk_err){ 0 });
}

TEST(prune)
{
	struct store s;
	struct sk_err err = { 0 };
	char name[VOLUME_NAME_MAX + 1], anon[VOLUME_NAME_MAX + 1];
	char *keep[] = { "keep=1" }, *opts[] = { "type=tmpfs", "device=tmpfs" };
	struct volume_create_opts o = { 0 };
	struct strv removed = { 0 };
	struct volume_prune_filter f = { 0 };

	fresh_store(&s);
	CHECK(volume_create(&s, &o, anon, &err) == 0);
	o = (struct volume_create_opts){ .name = "named" };
	CHECK(volume_create(&s, &o, name, &err) == 0);
	o = (struct volume_create_opts){ .name = "kept", .labels = keep, .n_labels = 1 };
	CHECK(volume_create(&s, &o, name, &err) == 0);
	o = (struct volume_create_opts){ .name = "mounted", .opts = opts, .n_opts = 2 };
	CHECK(volume_create(&s, &o, name, &err) == 0);
	/* docker 23+: anonymous ones only */
	CHECK(volume_prune(&s, &f, note, &removed, &err) == 0);
	CHECK(removed.n == 1 && !strcmp(removed.v[0], anon));
	strv_release(&removed);
	/* --all, but not label keep=1; never one with mount options */
	f.all = true;
	f.labels_not = keep;
	f.n_labels_not = 1;
	CHECK(volume_prune(&s, &f, note, &removed, &err) == 0);
	CHECK(removed.n == 1 && !strcmp(removed.v[0], "named"));
	strv_release(&removed);
	CHECK(count(&s) == 2);
	drop_store(&s);
}

int main(void)
{
	RUN(names);
	RUN(natural_order);
	RUN(sizes);
	RUN(client_checks);
	RUN(daemon_checks);
	RUN(merge);
	RUN(store);
	RUN(prune);
	return UNIT_DONE();
}

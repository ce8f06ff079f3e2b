/* Unit tests of the runtime's pure logic: args/env merging, env files,
 * volumes, tmpfs, -u parsing and passwd/group resolution. */
#include <stdlib.h>

#include "runtime/spec.h"
#include "runtime/user.h"
#include "unit.h"

static char *fake_env(const char *k)
{
	return !strcmp(k, "FROM_HOST") ? "hostval" : NULL;
}

TEST(args_entrypoint_plus_cmd)
{
	char *ep[] = { "/ep", "x", NULL }, *cmd[] = { "c1", NULL }, *user[] = { "u1", "u2" };
	struct strv a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct sk_err err = { 0 };

	CHECK(spec_build_args(ep, cmd, NULL, NULL, 0, &a, &err) == 0);
	CHECK(a.n == 3 && !strcmp(a.v[2], "c1"));
	CHECK(spec_build_args(ep, cmd, NULL, user, 2, &b, &err) == 0);
	CHECK(b.n == 4 && !strcmp(b.v[2], "u1"));
	/* --entrypoint clears the image's Cmd */
	CHECK(spec_build_args(ep, cmd, "/new", NULL, 0, &c, &err) == 0);
	CHECK(c.n == 1 && !strcmp(c.v[0], "/new"));
	CHECK(spec_build_args(NULL, NULL, "", NULL, 0, &d, &err) < 0);
	CHECK_STR(err.msg, "no command specified");
	strv_release(&a);
	strv_release(&b);
	strv_release(&c);
	strv_release(&d);
}

TEST(env_replace_or_append)
{
	struct strv env = { 0 };
	struct sk_err err = { 0 };

	CHECK(env_set(&env, "PATH=/a", NULL, &err) == 0);
	CHECK(env_set(&env, "X=1", NULL, &err) == 0);
	CHECK(env_set(&env, "PATH=/b", NULL, &err) == 0);
	CHECK(env_set(&env, "FROM_HOST", fake_env, &err) == 0);
	CHECK(env_set(&env, "UNSET", fake_env, &err) == 0);
	CHECK(env.n == 3);
	CHECK_STR(env.v[0], "PATH=/b");
	CHECK_STR(env.v[2], "FROM_HOST=hostval");
	CHECK_STR(env_get(env.v, "X"), "1");
	CHECK(env_get(env.v, "UNSET") == NULL);
	CHECK(env_set(&env, "=x", NULL, &err) < 0);
	strv_release(&env);
}

TEST(env_file)
{
	const char body[] = "# c\n\n  A=1\r\nB\nC=x=y";
	struct strv out = { 0 };
	struct sk_err err = { 0 };

	CHECK(env_file_parse(body, sizeof(body) - 1, "f", &out, &err) == 0);
	CHECK(out.n == 3);
	CHECK_STR(out.v[0], "A=1");
	CHECK_STR(out.v[1], "B");
	CHECK_STR(out.v[2], "C=x=y");
	CHECK(env_file_parse("=bad\n", 5, "f", &out, &err) < 0);
	CHECK_STR(err.msg, "poorly formatted environment: no variable name on line '=bad'");
	/* docker refuses what a shell would take (issue 11, item 7) */
	CHECK(env_file_parse("export X=1\n", 11, "f", &out, &err) < 0);
	CHECK_STR(err.msg, "poorly formatted environment: variable 'export X' contains whitespaces");
	CHECK(env_file_parse("A\tB=1", 6, "f", &out, &err) < 0);
	CHECK(env_file_parse("X \n", 3, "f", &out, &err) < 0);
	/* the value is passed through untouched */
	strv_release(&out);
	CHECK(env_file_parse("V= a b \n", 8, "f", &out, &err) == 0 && out.n == 1);
	CHECK_STR(out.v[0], "V= a b ");
	strv_release(&out);
}

TEST(volumes_and_tmpfs)
{
	struct rt_spec s = { 0 };
	struct sk_err err = { 0 };

	CHECK(spec_parse_tmpfs("/t:size=1m", &s, &err) == 0);
	CHECK_STR(s.mounts[0].options, "rw,nosuid,nodev,noexec,size=1m");
	CHECK(spec_parse_tmpfs("/u", &s, &err) == 0);
	CHECK_STR(s.mounts[1].options, "rw,nosuid,nodev,noexec");
	CHECK(spec_parse_tmpfs("rel", &s, &err) < 0);
	spec_release(&s);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "# comment\n"
			     "broken line\n"
			     "app:x:1000:1000:app:/home/app:/bin/sh\n";
static const char group[] = "root:x:0:\nwheel:x:10:app,other\nstaff:x:50:app\napp:x:1000:\n";

TEST(user_resolution)
{
	struct user_resolved u;
	struct sk_err err = { 0 };

	CHECK(user_resolve("app", passwd, group, &u, &err) == 0);
	/* groups listing the user, then the primary group (docker's set) */
	CHECK(u.uid == 1000 && u.gid == 1000 && u.n_groups == 3);
	CHECK(u.groups[0] == 10 && u.groups[1] == 50 && u.groups[2] == 1000);
	CHECK_STR(u.home, "/home/app");
	CHECK(user_resolve("1000:staff", passwd, group, &u, &err) == 0);
	CHECK(u.uid == 1000 && u.gid == 50 && u.n_groups == 1 && u.groups[0] == 50);
	CHECK(user_resolve("4242", passwd, group, &u, &err) == 0);
	CHECK(u.uid == 4242 && u.gid == 0 && u.n_groups == 1 && u.groups[0] == 0);
	CHECK_STR(u.home, "/");
	CHECK(user_resolve("7:8", NULL, NULL, &u, &err) == 0);
	CHECK(u.uid == 7 && u.gid == 8);
	CHECK(user_resolve("", passwd, group, &u, &err) == 0);
	CHECK(u.uid == 0);
	CHECK(user_resolve("ghost", passwd, group, &u, &err) < 0);
	CHECK_STR(err.msg, "unable to find user ghost: no matching entries in passwd file");
	CHECK(user_resolve("app:ghost", passwd, group, &u, &err) < 0);
	CHECK(user_resolve("app:", passwd, group, &u, &err) < 0);
	CHECK(user_resolve(":1", passwd, group, &u, &err) < 0);
}

int main(void)
{
	RUN(args_entrypoint_plus_cmd);
	RUN(env_replace_or_append);
	RUN(env_file);
	RUN(volumes_and_tmpfs);
	RUN(user_resolution);
	return UNIT_DONE();
}

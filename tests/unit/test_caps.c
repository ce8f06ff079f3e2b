/*
 * caps.c: capability names, docker's add/drop rules, and, in a forked child,
 * the sets as the kernel reports them in /proc/self/status.
 */
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "unit.h"

TEST(names)
{
	struct sk_err err;
	int cap = -1;

	CHECK(caps_parse_name("NET_ADMIN", &cap, &err) == 0 && cap == CAP_NET_ADMIN);
	CHECK(caps_parse_name("cap_net_admin", &cap, &err) == 0 && cap == CAP_NET_ADMIN);
	CHECK(caps_parse_name("Sys_Admin", &cap, &err) == 0 && cap == CAP_SYS_ADMIN);
	CHECK(caps_parse_name("CAP_CHECKPOINT_RESTORE", &cap, &err) == 0 && cap == 40);
	CHECK(caps_parse_name("NET_ADMINX", &cap, &err) < 0);
	CHECK_STR(err.msg, "unknown capability 'NET_ADMINX'");
	CHECK(caps_parse_name("CAP_", &cap, &err) < 0);
	CHECK_STR(caps_name(CAP_SYS_RESOURCE), "CAP_SYS_RESOURCE");
	CHECK(caps_name(64) == NULL);
}

/* Everything but CAP_SYS_RESOURCE, like the hosts this was written on. */
#define HOST (((UINT64_C(1) << 41) - 1) & ~CAPS_BIT(CAP_SYS_RESOURCE))

static uint64_t build(const char *const *add, size_t na, const char *const *drop, size_t nd,
		      bool privileged, bool root, struct rt_capabilities *out)
{
	struct caps_request req = {.add = add,
				   .n_add = na,
				   .drop = drop,
				   .n_drop = nd,
				   .privileged = privileged,
				   .root_user = root,
				   .available = HOST};
	struct sk_err err;

	if (caps_build(&req, out, &err) < 0)
		return UINT64_MAX;
	return out->bounding;
}

TEST(docker_rules)
{
	struct rt_capabilities c;
	const char *add[] = {"net_admin", "CAP_SYS_RESOURCE"};
	const char *drop[] = {"MKNOD", "cap_net_raw"};
	const char *all[] = {"ALL"};
	const char *bad[] = {"bogus"};

	CHECK(build(NULL, 0, NULL, 0, false, true, &c) == caps_docker_default());
	CHECK(c.set && c.effective == c.bounding && c.permitted == c.bounding);
	CHECK(c.inheritable == 0 && c.ambient == 0);
	CHECK(__builtin_popcountll(caps_docker_default()) == 14);
	/* SYS_RESOURCE is not available here: left out with a warning */
	CHECK(build(add, 2, drop, 2, false, true, &c) ==
	      ((caps_docker_default() | CAPS_BIT(CAP_NET_ADMIN)) &
	       ~(CAPS_BIT(CAP_MKNOD) | CAPS_BIT(CAP_NET_RAW))));
	CHECK(build(all, 1, drop, 2, false, true, &c) ==
	      (HOST & ~(CAPS_BIT(CAP_MKNOD) | CAPS_BIT(CAP_NET_RAW))));
	CHECK(build(add, 1, all, 1, false, true, &c) == CAPS_BIT(CAP_NET_ADMIN));
	CHECK(build(NULL, 0, NULL, 0, true, true, &c) == HOST);
	CHECK(build(bad, 1, NULL, 0, false, true, &c) == UINT64_MAX);
	CHECK(build(NULL, 0, bad, 1, false, true, &c) == UINT64_MAX);
	/* non-root: bounding only */
	CHECK(build(NULL, 0, NULL, 0, false, false, &c) == caps_docker_default());
	CHECK(c.effective == 0 && c.permitted == 0 && c.inheritable == 0 && c.ambient == 0);
}

TEST(read_bounding)
{
	struct sk_err err;
	uint64_t bnd = 0;

	CHECK(caps_read_bounding(&bnd, &err) == 0);
	CHECK(bnd != 0 || geteuid() != 0);
}

/* "CapEff:\t0000..." of this process. */
static uint64_t status_caps(const char *key)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtoull(line + strlen(key) + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/* In a child: apply, then report back whether the kernel agrees. */
static int apply_in_child(const struct rt_capabilities *c, uid_t uid)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct sk_err err;

		if (caps_drop_bounding(c->bounding, &err) < 0)
			_exit(10);
		if (uid && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(11);
		if (caps_set(c, &err) < 0)
			_exit(12);
		if (caps_set_no_new_privs(&err) < 0)
			_exit(13);
		if (status_caps("CapBnd:") != c->bounding)
			_exit(20);
		if (status_caps("CapEff:") != c->effective ||
		    status_caps("CapPrm:") != c->permitted)
			_exit(21);
		if (status_caps("CapInh:") != 0 || status_caps("CapAmb:") != 0)
			_exit(22);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(real_apply)
{
	struct rt_capabilities c;
	struct sk_err err;
	uint64_t bnd;
	struct caps_request req = {.root_user = true};

	if (geteuid() != 0) {
		printf("test_caps: real capability test skipped (not root)\n");
		return;
	}
	CHECK(caps_read_bounding(&bnd, &err) == 0);
	req.available = bnd;
	CHECK(caps_build(&req, &c, &err) == 0);
	CHECK(apply_in_child(&c, 0) == 0);
	req.root_user = false;
	CHECK(caps_build(&req, &c, &err) == 0);
	CHECK(apply_in_child(&c, 65534) == 0);
	req.root_user = true;
	req.privileged = true;
	CHECK(caps_build(&req, &c, &err) == 0 && c.bounding == bnd);
	CHECK(apply_in_child(&c, 0) == 0);
}

int main(void)
{
	RUN(names);
	RUN(docker_rules);
	RUN(read_bounding);
	RUN(real_apply);
	return UNIT_DONE();
}

/* rlimit.c: --ulimit parsing, the clamp to this host's hard limits, setrlimit in a child. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/rlimit.h"
#include "unit.h"

TEST(parse)
{
	struct rlimits rl = {0};
	struct sk_err err;

	CHECK(rlimit_parse("nofile=1024:2048", &rl, &err) == 0);
	CHECK(rl.n == 1 && rl.v[0].resource == RLIMIT_NOFILE);
	CHECK(rl.v[0].lim.rlim_cur == 1024 && rl.v[0].lim.rlim_max == 2048);
	CHECK(rlimit_parse("nofile=512", &rl, &err) == 0);
	CHECK(rl.n == 1 && rl.v[0].lim.rlim_cur == 512 && rl.v[0].lim.rlim_max == 512);
	CHECK(rlimit_parse("core=-1", &rl, &err) == 0);
	CHECK(rl.n == 2 && rl.v[1].lim.rlim_cur == RLIM_INFINITY);
	CHECK(rlimit_parse("nproc=10:unlimited", &rl, &err) == 0);
	CHECK(rl.v[2].lim.rlim_cur == 10 && rl.v[2].lim.rlim_max == RLIM_INFINITY);
	CHECK(rlimit_parse("stack=8192:-1", &rl, &err) == 0);
	CHECK(rlimit_parse("nofile=2048:1024", &rl, &err) < 0);
	CHECK(strstr(err.msg, "soft limit is above") != NULL);
	CHECK(rlimit_parse("bogus=1", &rl, &err) < 0);
	CHECK_STR(err.msg, "invalid ulimit 'bogus=1': unknown limit 'bogus'");
	CHECK(rlimit_parse("nofile", &rl, &err) < 0);
	CHECK(rlimit_parse("nofile=", &rl, &err) < 0);
	CHECK(rlimit_parse("nofile=1:", &rl, &err) < 0);
	CHECK(rlimit_parse("nofile=x", &rl, &err) < 0);
	CHECK(rlimit_parse("nofile=-2", &rl, &err) < 0);
	CHECK(rlimit_resource_by_name("msgqueue") == RLIMIT_MSGQUEUE);
	CHECK_STR(rlimit_name(RLIMIT_RTTIME), "rttime");
}

TEST(clamp_and_apply)
{
	struct rlimits rl = {0};
	struct rlimit host, got;
	struct sk_err err;
	char arg[64];
	pid_t pid;
	int status;

	CHECK(getrlimit(RLIMIT_NOFILE, &host) == 0);
	if (host.rlim_max == RLIM_INFINITY)
		return;
	snprintf(arg, sizeof(arg), "nofile=%llu:%llu", (unsigned long long)host.rlim_max * 2,
		 (unsigned long long)host.rlim_max * 4);
	CHECK(rlimit_parse(arg, &rl, &err) == 0);
	CHECK(rlimit_parse("core=0:0", &rl, &err) == 0);
	rlimit_clamp(&rl); /* warns unless we may raise hard limits */
	if (rl.v[0].lim.rlim_max != host.rlim_max * 4) {
		CHECK(rl.v[0].lim.rlim_max == host.rlim_max);
		CHECK(rl.v[0].lim.rlim_cur == host.rlim_max);
	}
	pid = fork();
	if (pid == 0) {
		if (rlimit_apply(&rl, &err) < 0)
			_exit(1);
		if (getrlimit(RLIMIT_NOFILE, &got) < 0 || got.rlim_max != rl.v[0].lim.rlim_max)
			_exit(2);
		if (getrlimit(RLIMIT_CORE, &got) < 0 || got.rlim_max != 0)
			_exit(3);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	RUN(parse);
	RUN(clamp_and_apply);
	return UNIT_DONE();
}

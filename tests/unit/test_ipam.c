/*
 * ipam: subnets that clash with none of the host's routes, docker's bip, and
 * leases under a lock: distinct, stable per holder, reclaimed from holders
 * that are gone, and distinct under 20 parallel processes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/ipam.h"
#include "unit.h"

static uint32_t ip(const char *s)
{
	uint32_t v = 0;

	ipam_parse_ip(s, &v);
	return v;
}

TEST(docker_s_default_subnet_unless_taken)
{
	struct ipam_net n;
	struct sk_err err = { 0 };
	struct ipam_route host[] = { { ip("192.0.2.0"), 24 }, { 0, 0 } /* default route */ };
	struct ipam_route taken[] = { { ip("172.17.5.0"), 24 }, { ip("172.18.0.0"), 16 } };
	char s[16];

	CHECK(ipam_pick_subnet(host, 2, NULL, NULL, 0, &n, &err) == 0);
	ipam_format_ip(n.subnet, s);
	CHECK_STR(s, "172.17.0.0");
	CHECK(n.prefix == 16);
	ipam_format_ip(n.gateway, s);
	CHECK_STR(s, "172.17.0.1");
	CHECK(ipam_pick_subnet(taken, 2, NULL, NULL, 0, &n, &err) == 0);
	ipam_format_ip(n.subnet, s);
	CHECK_STR(s, "172.19.0.0");
}

TEST(bip_is_the_gateway_and_must_not_clash)
{
	struct ipam_net n;
	struct sk_err err = { 0 };
	struct ipam_route host[] = { { ip("10.1.0.0"), 16 } };
	char s[16];

	CHECK(ipam_pick_subnet(host, 1, "172.30.0.254/24", NULL, 0, &n, &err) == 0);
	ipam_format_ip(n.gateway, s);
	CHECK_STR(s, "172.30.0.254");
	ipam_format_ip(n.subnet, s);
	CHECK_STR(s, "172.30.0.0");
	CHECK(ipam_pick_subnet(host, 1, "10.1.2.1/24", NULL, 0, &n, &err) < 0);
	CHECK(strstr(err.msg, "overlaps") != NULL);
	CHECK(ipam_pick_subnet(host, 1, "10.1.2.1", NULL, 0, &n, &err) < 0);
	CHECK(ipam_pick_subnet(host, 1, "300.1.2.1/24", NULL, 0, &n, &err) < 0);
}

static bool only_alive(const char *id, void *ctx)
{
	return strcmp(id, (const char *)ctx) != 0; /* ctx names the dead one */
}

static int tmpdir(char *path)
{
	CHECK(mkdtemp(path) != NULL);
	return open(path, O_RDONLY | O_DIRECTORY);
}

TEST(leases_are_distinct_stable_and_reclaimed)
{
	char path[] = "/tmp/skiff-ipam-XXXXXX";
	int dir = tmpdir(path);
	struct ipam_net n = { ip("10.9.0.0"), 29, ip("10.9.0.1") }; /* hosts .1-.6 */
	struct sk_err err = { 0 };
	uint32_t a, b, again, c;
	char s[16];

	CHECK(ipam_lease(dir, "leases", &n, "aaa", NULL, NULL, NULL, &a, &err) == 0);
	CHECK(ipam_lease(dir, "leases", &n, "bbb", NULL, NULL, NULL, &b, &err) == 0);
	ipam_format_ip(a, s);
	CHECK_STR(s, "10.9.0.2"); /* .1 is the gateway */
	CHECK(a != b);
	CHECK(ipam_lease(dir, "leases", &n, "aaa", NULL, NULL, NULL, &again, &err) == 0 && again == a);
	/* fill the rest: .4 .5 .6, then full */
	for (const char *const *id = (const char *const[]){ "c1", "c2", "c3", NULL }; *id; id++)
		CHECK(ipam_lease(dir, "leases", &n, *id, NULL, NULL, NULL, &c, &err) == 0);
	CHECK(ipam_lease(dir, "leases", &n, "ddd", NULL, NULL, NULL, &c, &err) < 0);
	CHECK(strstr(err.msg, "no free address") != NULL);
	/* a holder that is gone gives its address back */
	CHECK(ipam_lease(dir, "leases", &n, "ddd", NULL, only_alive, "aaa", &c, &err) == 0 && c == a);
	CHECK(ipam_release(dir, "leases", "bbb", &err) == 0);
	CHECK(ipam_release(dir, "leases", "bbb", &err) == 0);
	CHECK(ipam_lease(dir, "leases", &n, "eee", NULL, NULL, NULL, &c, &err) == 0 && c == b);
	unlinkat(dir, "leases", 0);
	close(dir);
	rmdir(path);
}

TEST(parallel_leases_are_distinct)
{
	char path[] = "/tmp/skiff-ipam-XXXXXX";
	int dir = tmpdir(path), p[2];
	struct ipam_net n = { ip("10.8.0.0"), 24, ip("10.8.0.1") };
	uint32_t got[20];

	CHECK(pipe(p) == 0);
	for (int i = 0; i < 20; i++)
		if (fork() == 0) {
			struct sk_err err = { 0 };
			char id[16];
			uint32_t a = 0;

			snprintf(id, sizeof(id), "p%d", i);
			if (ipam_lease(dir, "leases", &n, id, NULL, NULL, NULL, &a, &err) < 0)
				a = 0;
			(void)!write(p[1], &a, sizeof(a));
			_exit(0);
		}
	close(p[1]);
	for (int i = 0; i < 20; i++)
		CHECK(read(p[0], &got[i], sizeof(got[i])) == sizeof(got[i]) && got[i] != 0);
	while (wait(NULL) > 0)
		;
	for (int i = 0; i < 20; i++)
		for (int j = i + 1; j < 20; j++)
			CHECK(got[i] != got[j]);
	close(p[0]);
	unlinkat(dir, "leases", 0);
	close(dir);
	rmdir(path);
}

int main(void)
{
	RUN(docker_s_default_subnet_unless_taken);
	RUN(bip_is_the_gateway_and_must_not_clash);
	RUN(leases_are_distinct_stable_and_reclaimed);
	RUN(parallel_leases_are_distinct);
	return UNIT_DONE();
}

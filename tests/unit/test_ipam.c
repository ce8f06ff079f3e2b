/*
 * ipam: subnets that clash with none of the host's routes, docker's bip, and
 * leases under a lock: distinct, stable per holder, reclaimed from holders
 * that are gone, and distinct under 20 parallel processes.
 */
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

TEST(pools_are_carved_in_order)
{
	struct ipam_pool pools[2];
	struct ipam_route taken[] = { { ip("10.10.0.0"), 24 }, { ip("10.10.1.0"), 25 } };
	struct ipam_net n;
	struct sk_err err = { 0 };

	CHECK(ipam_parse_pool("10.10.0.0/16", 24, &pools[0], &err) == 0);
	CHECK(ipam_parse_pool("10.20.0.0/23", 24, &pools[1], &err) == 0);
	CHECK(ipam_pick_from_pools(taken, 2, pools, 2, &n, &err) == 0);
	CHECK(n.subnet == ip("10.10.2.0") && n.prefix == 24 && n.gateway == ip("10.10.2.1"));
	/* a size smaller than the base's prefix, or a bad base: refused */
	CHECK(ipam_parse_pool("10.10.0.0/16", 12, &pools[0], &err) < 0);
	CHECK(ipam_parse_pool("10.10.0.0", 24, &pools[0], &err) < 0);
	/* every subnet of a small pool taken: one clear error */
	struct ipam_route all[] = { { ip("10.20.0.0"), 23 } };

	CHECK(ipam_pick_from_pools(all, 1, &pools[1], 1, &n, &err) < 0);
	CHECK(strstr(err.msg, "no free subnet") != NULL);
}

struct seen_lease {
	char names[256];
	uint32_t ip;
};

static int remember(const struct ipam_lease_entry *e, void *ctx)
{
	struct seen_lease *s = ctx;

	if (!strcmp(e->holder, "ccc@/store with space")) {
		snprintf(s->names, sizeof(s->names), "%s", e->names);
		s->ip = e->ip;
	}
	return 0;
}

TEST(requests_ranges_and_names)
{
	char dir_tmpl[] = "/tmp/ipam-req-XXXXXX";
	struct ipam_net n = { ip("10.1.0.0"), 24, ip("10.1.0.1") };
	struct ipam_request fixed = { .ip = ip("10.1.0.50") };
	struct ipam_request range = { .first = ip("10.1.0.128"), .last = ip("10.1.0.255") };
	struct ipam_request named = { .names = "web,alias,0123456789ab;1.1.1.1" };
	struct ipam_request bad = { .names = "has space" };
	struct seen_lease seen = { "", 0 };
	struct sk_err err = { 0 };
	uint32_t a;
	int dir;

	CHECK(mkdtemp(dir_tmpl) != NULL);
	dir = open(dir_tmpl, O_RDONLY | O_DIRECTORY);
	CHECK(ipam_lease(dir, "l", &n, "aaa", &fixed, NULL, NULL, &a, &err) == 0 && a == fixed.ip);
	/* the same address for another holder: taken */
	CHECK(ipam_lease(dir, "l", &n, "bbb", &fixed, NULL, NULL, &a, &err) < 0);
	CHECK(err.errnum == EADDRINUSE && strstr(err.msg, "10.1.0.50 is already in use"));
	/* outside the subnet, the gateway, the broadcast address: refused */
	fixed.ip = ip("10.2.0.5");
	CHECK(ipam_lease(dir, "l", &n, "bbb", &fixed, NULL, NULL, &a, &err) < 0);
	fixed.ip = ip("10.1.0.1");
	CHECK(ipam_lease(dir, "l", &n, "bbb", &fixed, NULL, NULL, &a, &err) < 0);
	fixed.ip = ip("10.1.0.255");
	CHECK(ipam_lease(dir, "l", &n, "bbb", &fixed, NULL, NULL, &a, &err) < 0);
	/* a range: the lowest free address in it */
	CHECK(ipam_lease(dir, "l", &n, "bbb", &range, NULL, NULL, &a, &err) == 0);
	CHECK(a == ip("10.1.0.128"));
	/* names survive the file, with a holder that has a space */
	CHECK(ipam_lease(dir, "l", &n, "ccc@/store with space", &named, NULL, NULL, &a, &err) == 0);
	CHECK(ipam_for_each_lease(dir, "l", remember, &seen, &err) == 0);
	CHECK(seen.ip == a && !strcmp(seen.names, named.names));
	/* names with a space or a newline would break the line: refused */
	CHECK(ipam_lease(dir, "l", &n, "ddd", &bad, NULL, NULL, &a, &err) < 0);
	/* a line of the format before names ("IP HOLDER") still reads */
	{
		int fd = openat(dir, "old", O_WRONLY | O_CREAT, 0600);
		struct seen_lease old = { "", 0 };

		CHECK(write(fd, "10.1.0.7 ccc@/store with space\n", 31) == 31);
		close(fd);
		CHECK(ipam_for_each_lease(dir, "old", remember, &old, &err) == 0);
		CHECK(old.ip == ip("10.1.0.7") && old.names[0] == '\0');
	}
	close(dir);
}

int main(void)
{
	RUN(docker_s_default_subnet_unless_taken);
	RUN(bip_is_the_gateway_and_must_not_clash);
	RUN(leases_are_distinct_stable_and_reclaimed);
	RUN(parallel_leases_are_distinct);
	RUN(pools_are_carved_in_order);
	RUN(requests_ranges_and_names);
	return UNIT_DONE();
}

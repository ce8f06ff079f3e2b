/*
 * netlink.c against the real kernel (root): every test runs in a forked
 * child in a network namespace of its own, so the host's links, addresses
 * and routes are never touched. Bridges, veth pairs into a second namespace
 * (a second child's, by /proc/PID/ns/net), addresses, default routes and
 * dumps, then a TCP connection from the inner namespace to the bridge's
 * address; the errors a user would read; replies forged by another process
 * ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/netlink.h"
#include "util/cleanup.h"
#include "unit.h"

/* No test may hang the suite: a child still running after this is killed. */
#define CHILD_TIMEOUT_SECS 20

static struct nl_ip ip4(const char *s)
{
	struct nl_ip ip = { .family = AF_INET };

	if (inet_pton(AF_INET, s, &ip.v4) != 1)
		abort();
	return ip;
}

static bool one_line(const char *msg)
{
	return *msg && !strchr(msg, '\n');
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Run body in a forked child inside a new network namespace; the child's
 * CHECK failures print there and fail the test here. */
static void in_new_netns(void (*body)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(CHILD_TIMEOUT_SECS);
		if (unshare(CLONE_NEWNET) < 0) {
			perror("unshare(CLONE_NEWNET)");
			_exit(2);
		}
		body();
		_exit(unit_cur_failed ? 1 : 0);
	}
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static ino_t netns_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* --- errors ----------------------------------------------------------- */

static void body_errors_name_the_interface(void)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct nl_ip a = ip4("10.1.0.1"), v6 = { .family = AF_INET6 };
	struct sk_err err = { 0 };
	unsigned mtu;

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(nl_link_index(s, "nosuch0", &err) == -1);
	CHECK(err.errnum == ENODEV);
	CHECK_STR(err.msg, "cannot find network interface 'nosuch0': No such device");
	CHECK(nl_link_mtu(s, "nosuch0", &mtu, &err) == -1 && err.errnum == ENODEV);
	CHECK(nl_link_set_up(s, "nosuch0", &err) == -1);
	CHECK_STR(err.msg, "cannot bring 'nosuch0' up: No such device");
	CHECK(nl_addr_add(s, "nosuch0", &a, 24, &err) == -1);
	CHECK_STR(err.msg,
		  "cannot add address 10.1.0.1/24: cannot find network interface 'nosuch0': No "
		  "such device");
	CHECK(one_line(err.msg));
	CHECK(nl_route_add_default(s, &a, "nosuch0", &err) == -1 && err.errnum == ENODEV);
	CHECK(nl_link_rename(s, "nosuch0", "eth0", &err) == -1);
	CHECK_STR(err.msg, "cannot rename 'nosuch0' to 'eth0': cannot find network interface "
			   "'nosuch0': No such device");
	CHECK(nl_link_set_master(s, "lo", "nosuchbr", &err) == -1 && err.errnum == ENODEV);
	CHECK(strstr(err.msg, "'nosuchbr'") != NULL && one_line(err.msg));

	/* Names the kernel would refuse are refused before asking it. */
	CHECK(nl_bridge_create(s, "averyveryverylongname", 0, &err) == -1);
	CHECK(err.errnum == EINVAL);
	CHECK_STR(err.msg,
		  "invalid network interface name 'averyveryverylongname': longer than 15 bytes");
	CHECK(nl_link_set_up(s, "a/b", &err) == -1 && err.errnum == EINVAL);
	CHECK(nl_link_delete(s, "", &err) == -1 && err.errnum == EINVAL);
	CHECK(nl_veth_create(s, "ok0", "..", -1, 0, &err) == -1 && err.errnum == EINVAL);

	/* IPv4 only, for now; prefixes in range. */
	CHECK(nl_addr_add(s, "lo", &v6, 64, &err) == -1 && err.errnum == EAFNOSUPPORT);
	CHECK_STR(err.msg, "cannot add an address to 'lo': only IPv4 is supported");
	CHECK(nl_addr_add(s, "lo", &a, 33, &err) == -1 && err.errnum == EINVAL);
	CHECK(nl_for_each_route(s, AF_PACKET, NULL, NULL, &err) == -1);

	/* The kernel's reason (extended ack) is kept: a gateway that no
	 * subnet of the link holds. */
	CHECK(nl_link_set_up(s, "lo", &err) == 0);
	CHECK(nl_route_add_default(s, &a, "lo", &err) == -1);
	CHECK(err.errnum == ENETUNREACH);
	CHECK(starts_with(err.msg, "cannot add the default route via 10.1.0.1 dev 'lo': "));
	CHECK(ends_with(err.msg, ": Network is unreachable") && one_line(err.msg));
	/* 6.18 says why: "Nexthop has invalid gateway". */
	CHECK(strlen(err.msg) > strlen("cannot add the default route via 10.1.0.1 dev 'lo': "
				       "Network is unreachable"));

	/* Refusals leave the socket usable. */
	CHECK(nl_link_index(s, "lo", &err) == 1);
}

TEST(errors_name_the_interface)
{
	in_new_netns(body_errors_name_the_interface);
}

/* --- bridges and veths ------------------------------------------------- */

static void body_bridge_idempotent_and_clash(void)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct sk_err err = { 0 };
	struct nl_link br, l;
	unsigned mtu = 0;

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(nl_bridge_create(s, "skt-br0", 1400, &err) == 0);
	CHECK(nl_link_get(s, "skt-br0", &br, &err) == 0);
	CHECK_STR(br.kind, "bridge");
	CHECK_STR(br.name, "skt-br0");
	CHECK(br.mtu == 1400 && !(br.flags & IFF_UP) && br.master == 0);
	/* Again: fine, the same bridge, as it was. */
	CHECK(nl_bridge_create(s, "skt-br0", 1500, &err) == 0);
	CHECK(nl_link_index(s, "skt-br0", &err) == br.index);
	CHECK(nl_link_mtu(s, "skt-br0", &mtu, &err) == 0 && mtu == 1400);
	CHECK(nl_link_set_up(s, "skt-br0", &err) == 0);
	CHECK(nl_link_get(s, "skt-br0", &l, &err) == 0 && (l.flags & IFF_UP));

	/* Another kind of link of that name is not a bridge to reuse. */
	CHECK(nl_veth_create(s, "clash0", "clash1", -1, 0, &err) == 0);
	CHECK(nl_bridge_create(s, "clash0", 0, &err) == -1);
	CHECK(err.errnum == EEXIST);
	CHECK_STR(err.msg, "cannot create bridge 'clash0': 'clash0' exists and is a veth, not a "
			   "bridge");
	CHECK(nl_veth_create(s, "clash0", "clash2", -1, 0, &err) == -1);
	CHECK(err.errnum == EEXIST);
	CHECK_STR(err.msg, "cannot create veth pair 'clash0' and 'clash2': File exists");
	CHECK(nl_link_get(s, "clash1", &l, &err) == 0 && strcmp(l.kind, "veth") == 0);

	/* A port of the bridge; deleting one end deletes both; twice is fine. */
	CHECK(nl_link_set_master(s, "clash0", "skt-br0", &err) == 0);
	CHECK(nl_link_get(s, "clash0", &l, &err) == 0 && l.master == br.index);
	CHECK(nl_link_set_master(s, "clash0", NULL, &err) == 0);
	CHECK(nl_link_get(s, "clash0", &l, &err) == 0 && l.master == 0);
	CHECK(nl_link_delete(s, "clash0", &err) == 0);
	CHECK(nl_link_delete(s, "clash0", &err) == 0);
	CHECK(nl_link_index(s, "clash1", &err) == -1 && err.errnum == ENODEV);
	CHECK(nl_link_delete(s, "skt-br0", &err) == 0);
	CHECK(nl_link_delete(s, "skt-br0", &err) == 0);
	CHECK(nl_link_index(s, "skt-br0", &err) == -1 && err.errnum == ENODEV);
}

TEST(bridge_idempotent_and_clash)
{
	in_new_netns(body_bridge_idempotent_and_clash);
}

static void body_rename_up_link(void)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct sk_err err = { 0 };
	struct nl_link l;
	int index;

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(nl_veth_create(s, "ren0", "ren1", -1, 1280, &err) == 0);
	index = nl_link_index(s, "ren1", &err);
	CHECK(nl_link_set_up(s, "ren1", &err) == 0);
	CHECK(nl_link_rename(s, "ren1", "eth0", &err) == 0);
	CHECK(nl_link_get(s, "eth0", &l, &err) == 0);
	CHECK(l.index == index && l.mtu == 1280 && (l.flags & IFF_UP));
	CHECK(nl_link_index(s, "ren1", &err) == -1);
	/* A name that is taken. */
	CHECK(nl_link_rename(s, "eth0", "ren0", &err) == -1 && err.errnum == EEXIST);
	CHECK_STR(err.msg, "cannot rename 'eth0' to 'ren0': File exists");
}

TEST(rename_up_link)
{
	in_new_netns(body_rename_up_link);
}

/* --- addresses, routes, dumps ----------------------------------------- */

struct seen {
	struct nl_prefix want;
	bool match_table;
	int count;
	int total;
	int stop_at; /* return 7 on this entry (1-based); 0: never */
};

static int count_matches(const struct nl_prefix *p, void *ctx, struct sk_err *err)
{
	struct seen *s = ctx;

	s->total++;
	if (p->addr.family == s->want.addr.family &&
	    memcmp(&p->addr.v6, &s->want.addr.v6,
		   p->addr.family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr)) ==
		    0 &&
	    p->prefixlen == s->want.prefixlen && p->ifindex == s->want.ifindex &&
	    (!s->match_table || (p->table == s->want.table && p->type == s->want.type)))
		s->count++;
	return s->total == s->stop_at ? 7 : 0;
}

static int count_routes(struct nl_sock *s, const char *dst, unsigned plen, int ifindex,
			uint32_t table, unsigned char type)
{
	struct seen seen = { .want = { .addr = ip4(dst), .prefixlen = plen, .ifindex = ifindex,
				       .table = table, .type = type },
			     .match_table = true };
	struct sk_err err = { 0 };

	if (nl_for_each_route(s, AF_INET, count_matches, &seen, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return seen.count;
}

static int count_addrs(struct nl_sock *s, const struct nl_ip *ip, unsigned plen, int ifindex,
		       int *total)
{
	struct seen seen = { .want = { .addr = *ip, .prefixlen = plen, .ifindex = ifindex } };
	struct sk_err err = { 0 };

	if (nl_for_each_addr(s, ip->family, count_matches, &seen, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	if (total)
		*total = seen.total;
	return seen.count;
}

static void body_addresses_routes_and_dumps(void)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct nl_ip a = ip4("10.99.0.1"), gw = ip4("10.99.0.254"), lo = ip4("127.0.0.1");
	struct seen stop = { .want = { .addr = ip4("0.0.0.0") }, .stop_at = 1 };
	struct sk_err err = { 0 };
	struct nl_link up;
	int br;

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(nl_default_route(s, AF_INET, &up, &err) == 0);
	CHECK(nl_bridge_create(s, "skt-br1", 1400, &err) == 0);
	br = nl_link_index(s, "skt-br1", &err);
	CHECK(nl_addr_add(s, "skt-br1", &a, 24, &err) == 0);
	CHECK(nl_addr_add(s, "skt-br1", &a, 24, &err) == 0); /* there already: fine */
	CHECK(nl_link_set_up(s, "skt-br1", &err) == 0);
	CHECK(nl_link_set_up(s, "lo", &err) == 0);

	CHECK(count_addrs(s, &a, 24, br, NULL) == 1);
	CHECK(count_addrs(s, &lo, 8, 1, NULL) == 1);
	CHECK(count_routes(s, "10.99.0.0", 24, br, RT_TABLE_MAIN, RTN_UNICAST) == 1);
	CHECK(count_routes(s, "10.99.0.1", 32, br, RT_TABLE_LOCAL, RTN_LOCAL) == 1);
	CHECK(count_routes(s, "127.0.0.0", 8, 1, RT_TABLE_LOCAL, RTN_LOCAL) == 1);

	CHECK(nl_route_add_default(s, &gw, "skt-br1", &err) == 0);
	CHECK(count_routes(s, "0.0.0.0", 0, br, RT_TABLE_MAIN, RTN_UNICAST) == 1);
	CHECK(nl_default_route(s, AF_INET, &up, &err) == 1);
	CHECK(up.index == br && up.mtu == 1400);
	CHECK_STR(up.name, "skt-br1");
	/* A second default route is refused, not taken for the first. */
	CHECK(nl_route_add_default(s, &gw, "skt-br1", &err) == -1 && err.errnum == EEXIST);
	CHECK_STR(err.msg,
		  "cannot add the default route via 10.99.0.254 dev 'skt-br1': File exists");

	/* A walk stopped early returns fn's value and leaves the rest of the
	 * dump read: the socket goes on working. */
	CHECK(nl_for_each_route(s, AF_INET, count_matches, &stop, &err) == 7 && stop.total == 1);
	CHECK(nl_link_index(s, "skt-br1", &err) == br);
	CHECK(count_routes(s, "10.99.0.0", 24, br, RT_TABLE_MAIN, RTN_UNICAST) == 1);

	/* IPv6 dumps, where the kernel has IPv6: lo's ::1. */
	if (access("/proc/sys/net/ipv6", F_OK) == 0) {
		struct nl_ip v6 = { .family = AF_INET6 };

		inet_pton(AF_INET6, "::1", &v6.v6);
		CHECK(count_addrs(s, &v6, 128, 1, NULL) == 1);
	}
}

TEST(addresses_routes_and_dumps)
{
	in_new_netns(body_addresses_routes_and_dumps);
}

/* Dumps longer than one datagram: 600 addresses (and their 600 local
 * routes) on a bridge. */
static void body_long_dumps(void)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct sk_err err = { 0 };
	int br, total = 0, ok = 0;
	struct seen seen = { .want = { .addr = ip4("0.0.0.0") } };

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(nl_bridge_create(s, "skt-br2", 0, &err) == 0);
	br = nl_link_index(s, "skt-br2", &err);
	for (int i = 0; i < 600; i++) {
		char buf[32];
		struct nl_ip a;

		snprintf(buf, sizeof(buf), "10.%d.%d.1", 100 + i / 200, i % 200);
		a = ip4(buf);
		ok += nl_addr_add(s, "skt-br2", &a, 32, &err) == 0;
	}
	CHECK(ok == 600);
	{
		struct nl_ip last = ip4("10.102.199.1");

		CHECK(count_addrs(s, &last, 32, br, &total) == 1);
		CHECK(total == 600);
	}
	CHECK(nl_for_each_route(s, AF_INET, count_matches, &seen, &err) == 0);
	CHECK(seen.total >= 600);
	CHECK(count_routes(s, "10.100.0.1", 32, br, RT_TABLE_LOCAL, RTN_LOCAL) == 1);
}

TEST(long_dumps)
{
	in_new_netns(body_long_dumps);
}

/* --- a container's network --------------------------------------------- */

/* The inner namespace (a second child): waits for the outer one to set it
 * up, checks what it sees with its own socket, then connects to the bridge's
 * address over TCP. */
static void inner_side(int ready_fd, int go_fd)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5555) };
	struct sk_err err = { 0 };
	struct nl_link l, up;
	struct pollfd pfd;
	char c = 0, reply[3] = { 0 };
	int fd, soerr = -1;
	socklen_t len = sizeof(soerr);

	if (unshare(CLONE_NEWNET) < 0 || write(ready_fd, "r", 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(3);
	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		_exit(1);
	CHECK(nl_link_get(s, "eth0", &l, &err) == 0);
	CHECK(l.mtu == 1400 && (l.flags & IFF_UP) && strcmp(l.kind, "veth") == 0);
	CHECK(nl_link_index(s, "skt-p0", &err) == -1 && err.errnum == ENODEV);
	CHECK(nl_default_route(s, AF_INET, &up, &err) == 1);
	CHECK(up.index == l.index && up.mtu == 1400);
	CHECK_STR(up.name, "eth0");
	CHECK(count_routes(s, "10.99.0.0", 24, l.index, RT_TABLE_MAIN, RTN_UNICAST) == 1);

	inet_pton(AF_INET, "10.99.0.1", &to.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 || errno == EINPROGRESS);
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0);
	CHECK(write(fd, "ok", 2) == 2);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 5000) == 1 && read(fd, reply, 2) == 2);
	CHECK_STR(reply, "hi");
	close(fd);
	_exit(unit_cur_failed ? 1 : 0);
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		perror("listen");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The outer side sets up the inner namespace through a socket opened there. */
static void configure_inside(int nsfd)
{
	cleanup_nl struct nl_sock *c = NULL;
	struct nl_ip ip = ip4("10.99.0.2"), gw = ip4("10.99.0.1");
	struct sk_err err = { 0 };
	ino_t before = netns_inode("/proc/thread-self/ns/net");

	CHECK(nl_open_netns(nsfd, &c, &err) == 0);
	/* The thread is back in its own namespace. */
	CHECK(before != 0 && netns_inode("/proc/thread-self/ns/net") == before);
	if (!c)
		return;
	CHECK(nl_link_rename(c, "skt-p0", "eth0", &err) == 0);
	CHECK(nl_addr_add(c, "eth0", &ip, 24, &err) == 0);
	CHECK(nl_link_set_up(c, "lo", &err) == 0);
	CHECK(nl_link_set_up(c, "eth0", &err) == 0);
	CHECK(nl_route_add_default(c, &gw, "eth0", &err) == 0);
	if (unit_cur_failed)
		fprintf(stderr, "inside: %s\n", err.msg);
}

static void accept_one(int lfd)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	char buf[3] = { 0 }, addr[INET_ADDRSTRLEN] = "";
	int fd;

	CHECK(poll(&pfd, 1, 5000) == 1);
	fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
	CHECK_STR(addr, "10.99.0.2");
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 5000) == 1 && read(fd, buf, 2) == 2);
	CHECK_STR(buf, "ok");
	CHECK(write(fd, "hi", 2) == 2);
	close(fd);
}

static void body_veth_into_namespace(void)
{
	cleanup_nl struct nl_sock *s = NULL, *c = NULL;
	struct nl_ip a = ip4("10.99.0.1");
	struct sk_err err = { 0 };
	int ready[2], go[2], status = -1, lfd, nsfd;
	struct nl_link br, host;
	char path[64], r;
	pid_t pid;

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(nl_bridge_create(s, "skt-br0", 1400, &err) == 0);
	CHECK(nl_addr_add(s, "skt-br0", &a, 24, &err) == 0);
	CHECK(nl_link_set_up(s, "skt-br0", &err) == 0);
	CHECK(nl_link_get(s, "skt-br0", &br, &err) == 0);
	lfd = listen_on("10.99.0.1", 5555);
	CHECK(lfd >= 0);

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0)
		inner_side(ready[1], go[0]);
	CHECK(pid > 0 && read(ready[0], &r, 1) == 1);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(nsfd >= 0);

	CHECK(nl_veth_create(s, "skt-v0", "skt-p0", nsfd, 1400, &err) == 0);
	/* The peer was made over there, not here. */
	CHECK(nl_link_index(s, "skt-p0", &err) == -1 && err.errnum == ENODEV);
	CHECK(nl_link_set_master(s, "skt-v0", "skt-br0", &err) == 0);
	CHECK(nl_link_set_up(s, "skt-v0", &err) == 0);
	CHECK(nl_link_get(s, "skt-v0", &host, &err) == 0);
	CHECK(host.master == br.index && host.mtu == 1400 && (host.flags & IFF_UP));
	CHECK_STR(host.kind, "veth");
	configure_inside(nsfd);

	CHECK(write(go[1], "g", 1) == 1);
	if (lfd >= 0)
		accept_one(lfd);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The bridge kept its MTU with its port of the same MTU. */
	CHECK(nl_link_get(s, "skt-br0", &br, &err) == 0 && br.mtu == 1400);

	/* Deleting the host's end takes the container's with it (the inner
	 * namespace lives on while nsfd holds it). */
	CHECK(nl_link_delete(s, "skt-v0", &err) == 0);
	CHECK(nl_open_netns(nsfd, &c, &err) == 0);
	if (c)
		CHECK(nl_link_index(c, "eth0", &err) == -1 && err.errnum == ENODEV);
	close(nsfd);
	close(lfd);
}

TEST(veth_into_namespace)
{
	in_new_netns(body_veth_into_namespace);
}

/* --- the kernel only ---------------------------------------------------- */

/* Is there a netlink route socket with port id port in this namespace? */
static bool netlink_port_exists(unsigned port)
{
	cleanup_fclose FILE *f = fopen("/proc/net/netlink", "r");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		unsigned proto, pid;

		if (sscanf(line, "%*s %u %u", &proto, &pid) == 2 && proto == NETLINK_ROUTE &&
		    pid == port)
			return true;
	}
	return false;
}

/* Another process with CAP_NET_ADMIN can send datagrams to our port: forged
 * refusals for every sequence number the next requests will use are ignored. */
static void body_forged_replies_ignored(void)
{
	cleanup_nl struct nl_sock *s = NULL;
	struct sk_err err = { 0 };
	unsigned port = (unsigned)getpid(); /* the kernel's first choice */
	int fd;

	CHECK(nl_open(&s, &err) == 0);
	if (!s)
		return;
	CHECK(netlink_port_exists(port));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK(fd >= 0);
	for (uint32_t seq = 1; seq <= 16; seq++) {
		struct {
			struct nlmsghdr h;
			struct nlmsgerr e;
		} m = { .h = { .nlmsg_len = sizeof(m), .nlmsg_type = NLMSG_ERROR,
			       .nlmsg_seq = seq, .nlmsg_pid = port },
			.e = { .error = -EPERM } };
		struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = port };

		CHECK(sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)) ==
		      (ssize_t)sizeof(m));
	}
	close(fd);
	CHECK(nl_link_set_up(s, "lo", &err) == 0);
	CHECK(nl_link_index(s, "lo", &err) == 1);
	CHECK(nl_bridge_create(s, "skt-br3", 0, &err) == 0);
	if (unit_cur_failed)
		fprintf(stderr, "%s\n", err.msg);
}

TEST(forged_replies_ignored)
{
	in_new_netns(body_forged_replies_ignored);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("%s: skipped (needs root)\n", __FILE__);
		return 0;
	}
	RUN(errors_name_the_interface);
	RUN(bridge_idempotent_and_clash);
	RUN(rename_up_link);
	RUN(addresses_routes_and_dumps);
	RUN(long_dumps);
	RUN(veth_into_namespace);
	RUN(forged_replies_ignored);
	return UNIT_DONE();
}

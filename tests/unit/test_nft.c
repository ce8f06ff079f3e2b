/*
 * nft.c against the real kernel. Each test runs in a child of its own, in a
 * network namespace of its own (fork + unshare(CLONE_NEWNET)), so the host's
 * ruleset is never touched; the child reports through its exit status.
 *
 * What the table holds is read back two ways: through netlink with libnftnl
 * (chains, handles, comments, the last expression of a rule) and as nft
 * lists it, which is what an administrator sees and shows that the bytecode
 * means what nft.h says. End to end, a bridge with a veth into a
 * "container" namespace and a veth to a "neighbour" namespace (made with
 * `ip`, in tests only): published ports answer from the host, from the
 * neighbour, from the container itself and from 127.0.0.1; unpublished ones
 * and unpublished paths do not, and each of those is first shown open
 * without skiff's rules, so the checks can fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/nft.h"
#include "unit.h"
#include "util/cleanup.h"

/* ---------------------------------------------------------------------
 * A private network namespace per test
 */

static void in_private_netns(void (*body)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			perror("unshare(CLONE_NEWNET)");
			_exit(2);
		}
		body();
		fflush(stdout);
		_exit(unit_cur_failed ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

#define NETNS_TEST(name)                                                                           \
	static void body_##name(void);                                                             \
	TEST(name)                                                                                 \
	{                                                                                          \
		in_private_netns(body_##name);                                                     \
	}                                                                                          \
	static void body_##name(void)

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	if (status != 0)
		fprintf(stderr, "command failed (%d): %s\n", status, cmd);
	return status;
}

/* The output of a shell command (at most 64 KiB), malloc'ed. */
static char *sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 65536);
	size_t n = 0, r;

	if (!p || !out)
		abort();
	while (n < 65535 && (r = fread(out + n, 1, 65535 - n, p)) > 0)
		n += r;
	pclose(p);
	return out;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return ntohl(a.s_addr);
}

/* ---------------------------------------------------------------------
 * Reading the table back through netlink
 */

struct seen_rule {
	char chain[32];
	uint64_t handle;
	char comment[256];
	char last_expr[16]; /* "nat", "masq", "immediate" */
	int verdict;	    /* of a last "immediate", else -1 */
};

struct seen {
	struct seen_rule r[64];
	int n;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		snprintf(data, 256, "%.*s", (int)nftnl_udata_len(attr),
			 (const char *)nftnl_udata_get(attr));
	return 0;
}

static int last_expr_cb(struct nftnl_expr *e, void *data)
{
	struct seen_rule *r = data;

	snprintf(r->last_expr, sizeof(r->last_expr), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	r->verdict = -1;
	if (strcmp(r->last_expr, "immediate") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT))
		r->verdict = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	return 0;
}

static int seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct seen_rule *sr = &s->r[s->n];
	const void *ud;
	uint32_t len = 0;

	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0 || s->n == 64)
		abort();
	memset(sr, 0, sizeof(*sr));
	snprintf(sr->chain, sizeof(sr->chain), "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	sr->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud)
		nftnl_udata_parse(ud, len, comment_cb, sr->comment);
	nftnl_expr_foreach(r, last_expr_cb, sr);
	nftnl_rule_free(r);
	s->n++;
	return MNL_CB_OK;
}

static int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char buf[65536];
	int ret = -1;
	ssize_t n;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		abort();
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0)
		do {
			n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
			ret = n < 0 ? -1
				    : mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq,
						 mnl_socket_get_portid(nl), cb, data);
		} while (ret > 0);
	mnl_socket_close(nl);
	return ret;
}

/* Every rule of table inet skiff (none when there is no table). */
static void read_table(struct seen *s)
{
	char buf[4096];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
						     NLM_F_DUMP, 1);

	s->n = 0;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	talk(nlh, seen_cb, s);
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();

	nftnl_gen_nlmsg_parse(nlh, g);
	*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

/* The ruleset's generation: it moves with every batch the kernel applies. */
static uint32_t genid(void)
{
	char buf[256];
	uint32_t id = 0;

	talk(nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, 1), gen_cb, &id);
	return id;
}

static int count(const struct seen *s, const char *chain, const char *comment)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		if ((!chain || strcmp(s->r[i].chain, chain) == 0) &&
		    (!comment || strcmp(s->r[i].comment, comment) == 0))
			n++;
	return n;
}

static bool table_listed(void)
{
	cleanup_free char *t = sh_out("nft list tables");

	return strstr(t, "table inet skiff") != NULL;
}

/* nft's listing of one chain of the table, rules only, without handles. */
static char *chain_rules(const char *chain)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "nft list chain inet skiff %s | sed -n 's/^\\t\\t//p' | grep -v '^type '", chain);
	return sh_out(cmd);
}

#define CHECK_CHAIN(chain, expected)                                                               \
	do {                                                                                       \
		cleanup_free char *got_ = chain_rules(chain);                                      \
		CHECK_STR(got_, expected);                                                         \
	} while (0)

/* ---------------------------------------------------------------------
 * The table's layout
 */

#define NET0 "net=br0 10.88.0.0/24"

NETNS_TEST(setup_makes_the_network_rules_once)
{
	struct sk_err err = { 0 };
	struct seen a, b;
	uint32_t gen;

	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK_CHAIN("postrouting",
		    "ip saddr 10.88.0.0/24 oifname != \"br0\" masquerade comment \"" NET0 "\"\n"
		    "oifname \"br0\" ip saddr 10.88.0.0/24 ct status dnat masquerade comment \"" NET0
		    "\"\n"
		    "oifname \"br0\" ip saddr 127.0.0.0/8 masquerade comment \"" NET0 "\"\n");
	CHECK_CHAIN("forward",
		    "oifname \"br0\" ct state established,related accept comment \"" NET0 "\"\n"
		    "oifname \"br0\" ct status dnat accept comment \"" NET0 "\"\n"
		    "oifname \"br0\" iifname \"br0\" accept comment \"" NET0 "\"\n"
		    "oifname \"br0\" drop comment \"" NET0 "\"\n");
	{
		cleanup_free char *chains = sh_out("nft list table inet skiff | grep 'type '");

		CHECK_STR(chains, "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
				  "\t\ttype nat hook output priority -100; policy accept;\n"
				  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
				  "\t\ttype filter hook forward priority filter; policy accept;\n"
				  "\t\ttype filter hook input priority filter; policy accept;\n");
	}
	read_table(&a);
	CHECK(a.n == 8 && count(&a, NULL, NET0) == 8);
	CHECK(count(&a, "postrouting", NET0) == 3 && count(&a, "forward", NET0) == 4);
	CHECK(count(&a, "input", NET0) == 1);
	CHECK(a.n == 8 && strcmp(a.r[6].last_expr, "immediate") == 0 && a.r[6].verdict == NF_DROP);
	CHECK(a.n == 8 && strcmp(a.r[0].last_expr, "masq") == 0);

	/* again: nothing is sent, the rules keep their handles */
	gen = genid();
	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK(genid() == gen);
	read_table(&b);
	CHECK(b.n == 8);
	for (int i = 0; i < a.n && i < b.n; i++)
		CHECK(a.r[i].handle == b.r[i].handle);

	/* a rule deleted by hand is put back */
	CHECK(sh("nft delete rule inet skiff forward handle %llu",
		 (unsigned long long)a.r[6].handle) == 0);
	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	read_table(&b);
	CHECK(b.n == 8 && count(&b, "forward", NET0) == 4);

	/* a new subnet replaces the old rules in one batch */
	gen = genid();
	CHECK(nft_setup("br0", ip("10.99.0.0"), 16, &err) == 0);
	CHECK(genid() == gen + 1);
	read_table(&b);
	CHECK(b.n == 8 && count(&b, NULL, "net=br0 10.99.0.0/16") == 8);

	/* a second network adds its own */
	CHECK(nft_setup("br1", ip("10.77.1.0"), 24, &err) == 0);
	read_table(&b);
	CHECK(b.n == 16 && count(&b, NULL, "net=br1 10.77.1.0/24") == 8);

	/* bad input: refused before anything is sent */
	gen = genid();
	CHECK(nft_setup("br 0", ip("10.1.0.0"), 16, &err) < 0);
	CHECK_STR(err.msg, "invalid bridge name 'br 0'");
	CHECK(nft_setup("br0123456789abcdef", ip("10.1.0.0"), 16, &err) < 0);
	CHECK(nft_setup("br2", ip("10.1.0.1"), 16, &err) < 0);
	CHECK_STR(err.msg, "invalid subnet '10.1.0.1/16' for bridge 'br2'");
	CHECK(nft_setup("br2", ip("10.1.0.0"), 0, &err) < 0);
	CHECK(nft_setup("br2", ip("10.1.0.0"), 33, &err) < 0);
	CHECK(genid() == gen);
}

/* Appends "id;" to the 256-byte string ctx. */
static int collect_id(const char *id, void *ctx, struct sk_err *err)
{
	size_t len = strlen(ctx);

	snprintf((char *)ctx + len, 256 - len, "%s;", id);
	return 0;
}

NETNS_TEST(published_ports_are_tagged_and_found_by_id)
{
	struct sk_err err = { 0 };
	struct port_map c1[] = {
		{ 0, 8080, 80, PORT_TCP },
		{ ip("127.0.0.1"), 8081, 80, PORT_TCP },
		{ ip("10.1.2.3"), 5353, 53, PORT_UDP },
	};
	struct port_map c2[] = { { ip("10.1.2.3"), 9090, 90, PORT_TCP } };
	struct seen s, t;
	char ids[256] = "";

	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK(nft_publish("c1", ip("10.88.0.2"), c1, 3, &err) == 0);
	CHECK(nft_publish("c2", ip("10.88.0.3"), c2, 1, &err) == 0);
	CHECK_CHAIN("prerouting",
		    "fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 8080 dnat ip to "
		    "10.88.0.2:80 comment \"ctr=c1 tcp 0.0.0.0:8080\"\n"
		    "ip daddr 10.1.2.3 udp dport 5353 dnat ip to 10.88.0.2:53 comment "
		    "\"ctr=c1 udp 10.1.2.3:5353\"\n"
		    "ip daddr 10.1.2.3 tcp dport 9090 dnat ip to 10.88.0.3:90 comment "
		    "\"ctr=c2 tcp 10.1.2.3:9090\"\n");
	CHECK_CHAIN("output",
		    "meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.88.0.2:80 "
		    "comment \"ctr=c1 tcp 0.0.0.0:8080\"\n"
		    "ip daddr 127.0.0.1 tcp dport 8081 dnat ip to 10.88.0.2:80 comment "
		    "\"ctr=c1 tcp 127.0.0.1:8081\"\n"
		    "ip daddr 10.1.2.3 udp dport 5353 dnat ip to 10.88.0.2:53 comment "
		    "\"ctr=c1 udp 10.1.2.3:5353\"\n"
		    "ip daddr 10.1.2.3 tcp dport 9090 dnat ip to 10.88.0.3:90 comment "
		    "\"ctr=c2 tcp 10.1.2.3:9090\"\n");
	read_table(&s);
	CHECK(s.n == 8 + 7);
	CHECK(count(&s, "prerouting", NULL) == 3 && count(&s, "output", NULL) == 4);
	for (int i = 0; i < s.n; i++)
		if (strncmp(s.r[i].comment, "ctr=", 4) == 0)
			CHECK(strcmp(s.r[i].last_expr, "nat") == 0);

	/* ports held by another container, or asked for twice: refused whole */
	{
		struct port_map any8080[] = { { 0, 9999, 1, PORT_TCP }, { 0, 8080, 80, PORT_TCP } };
		struct port_map on_ip[] = { { ip("10.9.9.9"), 8080, 80, PORT_TCP } };
		struct port_map c2s[] = { { 0, 9090, 1, PORT_TCP } };
		struct port_map twice[] = { { ip("10.1.1.1"), 7000, 1, PORT_TCP },
					    { 0, 7000, 2, PORT_TCP } };
		struct port_map fine[] = { { 0, 8080, 80, PORT_UDP },
					   { ip("127.0.0.1"), 9090, 90, PORT_TCP },
					   { ip("10.1.2.4"), 5353, 53, PORT_UDP } };
		struct port_map unset[] = { { 0, 0, 80, PORT_TCP } };

		CHECK(nft_publish("c3", ip("10.88.0.4"), any8080, 2, &err) < 0);
		CHECK(err.errnum == EADDRINUSE);
		CHECK_STR(err.msg, "cannot publish the ports of container 'c3': bind for "
				   "0.0.0.0:8080/tcp failed: port is already allocated to "
				   "container 'c1'");
		CHECK(nft_publish("c3", ip("10.88.0.4"), on_ip, 1, &err) < 0);
		CHECK(err.errnum == EADDRINUSE && strstr(err.msg, "container 'c1'"));
		CHECK(nft_publish("c3", ip("10.88.0.4"), c2s, 1, &err) < 0);
		CHECK(err.errnum == EADDRINUSE && strstr(err.msg, "container 'c2'"));
		CHECK(nft_publish("c3", ip("10.88.0.4"), twice, 2, &err) < 0);
		CHECK(err.errnum == EADDRINUSE && strstr(err.msg, "given twice"));
		CHECK(nft_publish("c3", ip("10.88.0.4"), unset, 1, &err) < 0);
		CHECK(nft_publish("c 3", ip("10.88.0.4"), fine, 3, &err) < 0);
		CHECK_STR(err.msg, "invalid container id 'c 3'");
		read_table(&t);
		CHECK(t.n == s.n);
		/* another protocol, another address of the same port: fine */
		CHECK(nft_publish("c3", ip("10.88.0.4"), fine, 3, &err) == 0);
	}

	/* every id with rules, each once */
	CHECK(nft_list_containers(collect_id, ids, &err) == 0);
	CHECK_STR(ids, "c1;c2;c3;");
	CHECK(nft_unpublish_container("c1", &err) == 0);
	ids[0] = 0;
	CHECK(nft_list_containers(collect_id, ids, &err) == 0);
	CHECK_STR(ids, "c2;c3;");
	/* the others' rules are the same rules as before */
	read_table(&t);
	for (int i = 0; i < t.n; i++) {
		CHECK(strncmp(t.r[i].comment, "ctr=c1 ", 7) != 0);
		if (strncmp(t.r[i].comment, "ctr=c2 ", 7) == 0 ||
		    strncmp(t.r[i].comment, "net=", 4) == 0) {
			bool found = false;

			for (int j = 0; j < s.n; j++)
				found |= s.r[j].handle == t.r[i].handle;
			CHECK(found);
		}
	}
	/* c1's port is free again; unpublishing twice is fine */
	CHECK(nft_publish("c4", ip("10.88.0.5"), c1, 1, &err) == 0);
	CHECK(nft_unpublish_container("c1", &err) == 0);
	CHECK(nft_unpublish_container("nobody", &err) == 0);
}

struct gc {
	struct nft *nft;
	int removed;
};

/* The walk of a garbage collector, through the handle that listed. */
static int remove_each(const char *id, void *ctx, struct sk_err *err)
{
	struct gc *gc = ctx;

	gc->removed++;
	return nft_unpublish_at(gc->nft, id, err);
}

/* What a dead container left is found and removed by a later process. */
NETNS_TEST(rules_outlive_the_process_that_made_them)
{
	struct sk_err err = { 0 };
	struct port_map m[] = { { 0, 8080, 80, PORT_TCP } };
	int status;
	pid_t pid;
	struct seen s;
	struct gc gc = { NULL, 0 };

	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		struct sk_err e = { 0 };

		if (nft_publish("deadbeef", ip("10.88.0.2"), m, 1, &e) < 0)
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	read_table(&s);
	CHECK(count(&s, NULL, "ctr=deadbeef tcp 0.0.0.0:8080") == 2);
	CHECK(nft_open(&gc.nft, &err) == 0);
	CHECK(nft_list_containers_at(gc.nft, remove_each, &gc, &err) == 0);
	nft_close(gc.nft);
	CHECK(gc.removed == 1);
	read_table(&s);
	CHECK(s.n == 8 && count(&s, NULL, NET0) == 8);
}

/* Processes that publish at once: each sees the others' rules (the batch
 * of one that read an older ruleset is refused by the kernel and planned
 * again), so of those that want the same port exactly one gets it. */
NETNS_TEST(concurrent_publishers_never_share_a_port)
{
	enum { N = 16 };
	struct sk_err err = { 0 };
	int gate[2], status, won = 0, failed = 0;
	pid_t pids[N];
	struct seen s;

	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK(pipe(gate) == 0);
	fflush(stderr);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			/* all want 8080; each also wants a port of its own */
			struct port_map m[] = { { 0, (uint16_t)(9000 + i), 80, PORT_TCP },
						{ 0, 8080, 80, PORT_TCP } };
			struct port_map own[] = { m[0] };
			struct sk_err e = { 0 };
			char id[16], c;

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0)
				_exit(3);
			snprintf(id, sizeof(id), "c%d", i);
			if (nft_publish(id, ip("10.88.0.2") + (uint32_t)i, m, 2, &e) == 0)
				_exit(0);
			if (e.errnum != EADDRINUSE) {
				fprintf(stderr, "%s\n", e.msg);
				_exit(2);
			}
			_exit(nft_publish(id, ip("10.88.0.2") + (uint32_t)i, own, 1, &e) == 0 ? 1 : 2);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int i = 0; i < N; i++) {
		CHECK(waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status));
		won += WEXITSTATUS(status) == 0;
		failed += WEXITSTATUS(status) > 1;
	}
	CHECK(won == 1 && failed == 0);
	read_table(&s);
	CHECK(s.n == 8 + 2 * (N + 1));
}

NETNS_TEST(teardown_removes_the_network_and_then_the_table)
{
	struct sk_err err = { 0 };
	struct port_map m[] = { { 0, 8080, 80, PORT_TCP } };
	struct seen s;
	uint32_t gen;

	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK(nft_setup("br1", ip("10.77.0.0"), 16, &err) == 0);
	CHECK(nft_publish("c1", ip("10.77.0.2"), m, 1, &err) == 0);
	CHECK(nft_guard_localnet(&err) == 0);
	CHECK(nft_teardown("br0", &err) == 0);
	read_table(&s);
	CHECK(s.n == 8 + 2 + 1 && count(&s, NULL, NET0) == 0);
	CHECK(nft_teardown("br1", &err) == 0);
	read_table(&s);
	CHECK(s.n == 3); /* c1's and the guard: the table stays */
	CHECK(table_listed());
	CHECK(nft_unpublish_container("c1", &err) == 0);
	/* no network left, only the guard: the table goes */
	CHECK(nft_teardown("br1", &err) == 0);
	CHECK(!table_listed());
	gen = genid();
	CHECK(nft_teardown("br1", &err) == 0);
	CHECK(genid() == gen);

	/* a rule skiff did not make keeps the table (and is not touched) */
	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK(sh("nft add rule inet skiff forward counter comment '\"admin\"'") == 0);
	CHECK(nft_teardown("br0", &err) == 0);
	read_table(&s);
	CHECK(s.n == 1 && strcmp(s.r[0].comment, "admin") == 0);
}

/* Other tables, an ip table named skiff included, are left exactly as they were. */
NETNS_TEST(other_tables_are_untouched)
{
	static const char ruleset[] =
		"table ip other {\n"
		"\tchain fw {\n"
		"\t\ttype filter hook forward priority filter; policy drop;\n"
		"\t\tip saddr 192.0.2.1 counter packets 0 bytes 0 drop\n"
		"\t\toifname \"br0\" accept\n"
		"\t}\n"
		"\n"
		"\tchain post {\n"
		"\t\ttype nat hook postrouting priority srcnat + 5; policy accept;\n"
		"\t\tip saddr 10.0.0.0/8 masquerade\n"
		"\t}\n"
		"}\n"
		"table ip skiff {\n"
		"\tchain prerouting {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\ttcp dport 8080 dnat to 192.0.2.9:80 comment \"ctr=c1 tcp 0.0.0.0:1\"\n"
		"\t}\n"
		"}\n"
		"table inet filter {\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tct state established,related accept\n"
		"\t}\n"
		"}\n";
	struct sk_err err = { 0 };
	struct port_map m[] = { { 0, 8080, 80, PORT_TCP } };
	FILE *nft = popen("nft -f -", "w");
	cleanup_free char *before = NULL, *during = NULL, *after = NULL;

	CHECK(nft && fputs(ruleset, nft) >= 0 && pclose(nft) == 0);
	before = sh_out("nft list ruleset");
	CHECK_STR(before, ruleset);

	CHECK(nft_setup("br0", ip("10.88.0.0"), 24, &err) == 0);
	CHECK(nft_publish("c1", ip("10.88.0.2"), m, 1, &err) == 0);
	CHECK(nft_guard_localnet(&err) == 0);
	during = sh_out("nft list ruleset | sed '/^table inet skiff/,/^}/d'");
	CHECK_STR(during, ruleset);
	CHECK(nft_unpublish_container("c1", &err) == 0);
	CHECK(nft_teardown("br0", &err) == 0);
	after = sh_out("nft list ruleset");
	CHECK_STR(after, ruleset);
}

NETNS_TEST(guard_drops_127_from_outside_once)
{
	struct sk_err err = { 0 };
	struct seen s;
	uint32_t gen;

	CHECK(nft_guard_localnet(&err) == 0);
	CHECK_CHAIN("guard", "iifname != \"lo\" ip daddr 127.0.0.0/8 drop comment \"guard\"\n");
	gen = genid();
	CHECK(nft_guard_localnet(&err) == 0);
	CHECK(genid() == gen);
	read_table(&s);
	CHECK(s.n == 1 && strcmp(s.r[0].chain, "guard") == 0 && s.r[0].verdict == NF_DROP);
	{
		cleanup_free char *chain = sh_out("nft list chain inet skiff guard | grep type");

		CHECK_STR(chain, "\t\ttype filter hook prerouting priority raw; policy accept;\n");
	}
}

/* ---------------------------------------------------------------------
 * End to end: a host (this namespace) with a bridge br0 10.88.0.1/24, a
 * container namespace at 10.88.0.2 on it, and a neighbour 192.168.77.2 on
 * the host's "uplink" up0 192.168.77.1/24 that routes the container subnet
 * and 127.0.0.0/8 through the host.
 */

struct topo {
	int host, ctr, ctr2, nbr; /* namespace descriptors */
};

static int new_netns(int home)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		abort();
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(home, CLONE_NEWNET) < 0)
		abort();
	return fd;
}

static void enter(int ns)
{
	if (setns(ns, CLONE_NEWNET) < 0)
		abort();
}

static int sh_in(const struct topo *t, int ns, const char *cmd)
{
	int ret;

	enter(ns);
	ret = sh("%s", cmd);
	enter(t->host);
	return ret;
}

static int make_topology(struct topo *t)
{
	char cmd[512];
	pid_t me = getpid();

	t->host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	t->ctr = new_netns(t->host);
	t->ctr2 = new_netns(t->host);
	t->nbr = new_netns(t->host);
	snprintf(cmd, sizeof(cmd),
		 "set -e; ip link set lo up; echo 1 > /proc/sys/net/ipv4/ip_forward;"
		 "ip link add br0 type bridge; ip addr add 10.88.0.1/24 dev br0; ip link set br0 up;"
		 "ip link add vh type veth peer name vc; ip link set vh master br0 up;"
		 "ip link set vc netns /proc/%d/fd/%d;"
		 "ip link add vh2 type veth peer name vc2; ip link set vh2 master br0 up;"
		 "ip link set vc2 netns /proc/%d/fd/%d;"
		 "ip link add up0 type veth peer name n3; ip addr add 192.168.77.1/24 dev up0;"
		 "ip link set up0 up; ip link set n3 netns /proc/%d/fd/%d",
		 me, t->ctr, me, t->ctr2, me, t->nbr);
	if (sh("%s", cmd) != 0)
		return -1;
	/* lo stays down in both, so that 127.0.0.0/8 can be routed to the host
	 * (as a hostile container or neighbour would); route_localnet lets
	 * them take the host's answers from 127.0.0.1 */
	if (sh_in(t, t->ctr,
		  "set -e; ip addr add 10.88.0.2/24 dev vc; ip link set vc up;"
		  "ip route add default via 10.88.0.1; ip route add 127.0.0.0/8 via 10.88.0.1;"
		  "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet;"
		  "echo 1 > /proc/sys/net/ipv4/conf/vc/route_localnet") != 0)
		return -1;
	if (sh_in(t, t->ctr2,
		  "set -e; ip addr add 10.88.0.3/24 dev vc2; ip link set vc2 up;"
		  "ip route add default via 10.88.0.1") != 0)
		return -1;
	return sh_in(t, t->nbr,
		     "set -e; ip addr add 192.168.77.2/24 dev n3; ip link set n3 up;"
		     "ip route add 10.88.0.0/24 via 192.168.77.1;"
		     "ip route add 127.0.0.0/8 via 192.168.77.1;"
		     "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet;"
		     "echo 1 > /proc/sys/net/ipv4/conf/n3/route_localnet");
}

static int sock_in(const struct topo *t, int ns, int type)
{
	int fd;

	enter(ns);
	fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	enter(t->host);
	if (fd < 0)
		abort();
	return fd;
}

static struct sockaddr_in sa(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(ip(addr));
	return a;
}

static int listen_in(const struct topo *t, int ns, const char *addr, int port, int type)
{
	int fd = sock_in(t, ns, type), one = 1;
	struct sockaddr_in a = sa(addr, port);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (type == SOCK_STREAM && listen(fd, 8) < 0))
		abort();
	return fd;
}

enum outcome { REACHED, REFUSED, NO_ANSWER, OTHER };

/* Connect from namespace ns to addr:port and, when that works, take the
 * connection from listener lfd; peer gets the source address lfd saw. A
 * dropped SYN gets no answer within 400 ms (the path is a few veths). */
static enum outcome tcp_try(const struct topo *t, int ns, const char *addr, int port, int lfd,
			    char peer[16])
{
	int fd = sock_in(t, ns, SOCK_STREAM), cfd, soerr = 0;
	struct sockaddr_in a = sa(addr, port), from;
	socklen_t len = sizeof(soerr), flen = sizeof(from);
	struct pollfd p = { fd, POLLOUT, 0 }, l = { lfd, POLLIN, 0 };
	enum outcome o = OTHER;

	peer[0] = 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		goto out;
	if (poll(&p, 1, 400) == 0) {
		o = NO_ANSWER;
		goto out;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr == ECONNREFUSED)
		o = REFUSED;
	if (soerr != 0 || poll(&l, 1, 2000) != 1)
		goto out;
	cfd = accept(lfd, (struct sockaddr *)&from, &flen);
	if (cfd >= 0) {
		inet_ntop(AF_INET, &from.sin_addr, peer, 16);
		close(cfd);
		o = REACHED;
	}
out:
	close(fd);
	return o;
}

#define CHECK_TCP(ns, addr, port, lfd, want, want_peer)                                            \
	do {                                                                                       \
		char peer_[16];                                                                    \
		enum outcome o_ = tcp_try(&t, ns, addr, port, lfd, peer_);                         \
		if (o_ != (want) || strcmp(peer_, want_peer) != 0) {                               \
			fprintf(stderr, "%s:%d: %s:%d: outcome %d from '%s', expected %d from '%s'\n", \
				__FILE__, __LINE__, addr, port, o_, peer_, want, want_peer);       \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)

static bool udp_reaches(const struct topo *t, int ns, const char *addr, int port, int lfd)
{
	int fd = sock_in(t, ns, SOCK_DGRAM);
	struct sockaddr_in a = sa(addr, port);
	struct pollfd p = { lfd, POLLIN, 0 };
	char buf[16] = { 0 };
	bool ok;

	sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a));
	ok = poll(&p, 1, 1000) == 1 && recv(lfd, buf, sizeof(buf) - 1, 0) == 4 &&
	     strcmp(buf, "ping") == 0;
	close(fd);
	return ok;
}

/* bridge_nf: with br_netfilter's bridge-nf-call-iptables, which this kernel
 * has on by default. Then a packet that DNAT sends back into the bridge it
 * came from is bridged, not routed, and leaves by the port it came in by:
 * the container's bridge port needs hairpin mode (as docker sets it without
 * its userland proxy). Without br_netfilter it is routed, and needs none. */
static void end_to_end(bool bridge_nf)
{
	struct sk_err err = { 0 };
	struct topo t;
	struct port_map m[] = {
		{ 0, 8080, 80, PORT_TCP },
		{ 0, 5353, 53, PORT_UDP },
		{ ip("127.0.0.1"), 8081, 80, PORT_TCP },
	};
	int web, other, dns, nbr_srv, host_only;
	cleanup_nft struct nft *nft = NULL;

	if (make_topology(&t) < 0) {
		CHECK(!"topology");
		return;
	}
	if (access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) != 0) {
		if (bridge_nf)
			printf("test_nft: no br_netfilter here, its variant skipped\n");
		if (bridge_nf)
			return;
	} else {
		CHECK(sh("echo %d > /proc/sys/net/bridge/bridge-nf-call-iptables", bridge_nf) == 0);
	}
	if (bridge_nf)
		CHECK(sh("ip link set vh type bridge_slave hairpin on") == 0);
	web = listen_in(&t, t.ctr, "10.88.0.2", 80, SOCK_STREAM);
	other = listen_in(&t, t.ctr, "10.88.0.2", 81, SOCK_STREAM); /* never published */
	dns = listen_in(&t, t.ctr, "10.88.0.2", 53, SOCK_DGRAM);
	nbr_srv = listen_in(&t, t.nbr, "192.168.77.2", 7000, SOCK_STREAM);
	host_only = listen_in(&t, t.host, "127.0.0.1", 9999, SOCK_STREAM);

	/* without skiff's rules: the neighbour reaches an unpublished port, and
	 * the container goes out with its own address */
	CHECK_TCP(t.ctr2, "10.88.0.2", 81, other, REACHED, "10.88.0.3");
	CHECK_TCP(t.nbr, "10.88.0.2", 81, other, REACHED, "192.168.77.2");
	CHECK_TCP(t.ctr, "192.168.77.2", 7000, nbr_srv, REACHED, "10.88.0.2");

	/* through one handle, opened here in the host's namespace: it keeps
	 * acting there while this thread visits the others */
	CHECK(nft_open(&nft, &err) == 0);
	CHECK(nft_setup_at(nft, "br0", ip("10.88.0.0"), 24, &err) == 0);
	/* unpublished means unreachable, even a published container port by
	 * the container's own address */
	CHECK_TCP(t.nbr, "10.88.0.2", 81, other, NO_ANSWER, "");
	CHECK_TCP(t.nbr, "10.88.0.2", 80, web, NO_ANSWER, "");
	/* containers of the network reach each other, as before */
	CHECK_TCP(t.ctr2, "10.88.0.2", 81, other, REACHED, "10.88.0.3");
	/* outbound NAT */
	CHECK_TCP(t.ctr, "192.168.77.2", 7000, nbr_srv, REACHED, "192.168.77.1");
	CHECK_TCP(t.nbr, "192.168.77.1", 8080, web, REFUSED, "");

	enter(t.ctr);
	CHECK(nft_publish_at(nft, "c1", ip("10.88.0.2"), m, 3, &err) == 0);
	CHECK(!table_listed());
	enter(t.host);
	/* from the neighbour, with its own address kept */
	CHECK_TCP(t.nbr, "192.168.77.1", 8080, web, REACHED, "192.168.77.2");
	CHECK(udp_reaches(&t, t.nbr, "192.168.77.1", 5353, dns));
	/* from the host, by its address and by the bridge's */
	CHECK_TCP(t.host, "192.168.77.1", 8080, web, REACHED, "192.168.77.1");
	CHECK_TCP(t.host, "10.88.0.1", 8080, web, REACHED, "10.88.0.1");
	/* from the container itself and from its neighbour on the bridge,
	 * through the host's address (hairpin) */
	CHECK_TCP(t.ctr, "192.168.77.1", 8080, web, REACHED, "10.88.0.1");
	CHECK_TCP(t.ctr2, "192.168.77.1", 8080, web, REACHED, "10.88.0.1");
	/* still closed: the direct path, and the port published on 127.0.0.1 */
	CHECK_TCP(t.nbr, "10.88.0.2", 80, web, NO_ANSWER, "");
	CHECK_TCP(t.nbr, "192.168.77.1", 8081, web, REFUSED, "");
	/* a neighbour routing 127.0.0.1 to the host (CVE-2020-8558) gets
	 * nothing through prerouting, before and after route_localnet */
	CHECK_TCP(t.nbr, "127.0.0.1", 8080, web, NO_ANSWER, "");
	CHECK_TCP(t.nbr, "127.0.0.1", 8081, web, NO_ANSWER, "");

	/* 127.0.0.1 on the host, as a caller that chose route_localnet does it */
	CHECK_TCP(t.host, "127.0.0.1", 8080, web, NO_ANSWER, "");
	CHECK(sh("echo 1 > /proc/sys/net/ipv4/conf/br0/route_localnet") == 0);
	/* which, without the guard, opens the host's 127.0.0.1 to the container */
	CHECK_TCP(t.ctr, "127.0.0.1", 9999, host_only, REACHED, "10.88.0.2");
	CHECK(nft_guard_localnet_at(nft, &err) == 0);
	CHECK_TCP(t.ctr, "127.0.0.1", 9999, host_only, NO_ANSWER, "");
	CHECK_TCP(t.host, "127.0.0.1", 8080, web, REACHED, "10.88.0.1");
	CHECK_TCP(t.host, "127.0.0.1", 8081, web, REACHED, "10.88.0.1");
	CHECK(sh("echo 1 > /proc/sys/net/ipv4/conf/up0/route_localnet") == 0);
	CHECK_TCP(t.nbr, "127.0.0.1", 8081, web, NO_ANSWER, "");
	CHECK_TCP(t.nbr, "127.0.0.1", 9999, host_only, NO_ANSWER, "");

	/* unpublished: refused by the host itself, the container stays closed */
	CHECK(nft_unpublish_at(nft, "c1", &err) == 0);
	CHECK_TCP(t.nbr, "192.168.77.1", 8080, web, REFUSED, "");
	CHECK_TCP(t.host, "192.168.77.1", 8080, web, REFUSED, "");
	CHECK_TCP(t.host, "127.0.0.1", 8081, web, REFUSED, "");
	CHECK_TCP(t.nbr, "10.88.0.2", 80, web, NO_ANSWER, "");

	/* torn down: the bridge is as open as before skiff came */
	CHECK(nft_teardown_at(nft, "br0", &err) == 0);
	CHECK(!table_listed());
	enter(t.ctr);
	CHECK(!table_listed()); /* nothing ever went to the container's */
	enter(t.host);
	CHECK_TCP(t.nbr, "10.88.0.2", 81, other, REACHED, "192.168.77.2");
	if (err.msg[0])
		fprintf(stderr, "last error: %s\n", err.msg);
}

NETNS_TEST(end_to_end_routed)
{
	end_to_end(false);
}

NETNS_TEST(end_to_end_with_br_netfilter)
{
	end_to_end(true);
}

int main(void)
{
	if (geteuid() != 0 || system("nft list tables >/dev/null 2>&1") != 0 ||
	    system("ip -V >/dev/null 2>&1") != 0) {
		printf("test_nft: skipped (needs root, nft and ip for the checks)\n");
		return 0;
	}
	RUN(setup_makes_the_network_rules_once);
	RUN(published_ports_are_tagged_and_found_by_id);
	RUN(rules_outlive_the_process_that_made_them);
	RUN(concurrent_publishers_never_share_a_port);
	RUN(teardown_removes_the_network_and_then_the_table);
	RUN(other_tables_are_untouched);
	RUN(guard_drops_127_from_outside_once);
	RUN(end_to_end_routed);
	RUN(end_to_end_with_br_netfilter);
	return UNIT_DONE();
}

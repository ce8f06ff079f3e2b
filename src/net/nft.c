/*
 * skiff's nftables table (nft.h): each public function reads the table's
 * rules, plans one batch from what it found, and sends the batch tagged with
 * the generation it read, retrying when another process changed the ruleset
 * in between.
 */
#include "net/nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <time.h>
#include <sys/wait.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "util/cleanup.h"

#define NFT_ID_MAX 128
#define NFT_TAG_MAX NFT_USERDATA_MAXLEN
#define NFT_CHAIN_NAME_MAX 64
/* Each round of a race has a winner: with this many racing processes (20
 * parallel runs) every one gets through well before this. */
#define NFT_ATTEMPTS 64
/* Every port of both protocols published is 2^18 rules: more is not skiff's. */
#define NFT_RULES_MAX (1u << 18)
/* Large enough for one netlink dump skb (the kernel caps them at 32 KiB). */
#define NFT_RECV_BUF 65536
/* One request that reads (no rule in it). */
#define NFT_REQ_BUF 1024
/* Messages of a batch go in pages of this size; none of ours nears 8 KiB. */
#define NFT_BATCH_PAGE (128 * 1024)
#define NFT_BATCH_OVERRUN 8192

#define LOOPBACK_NET 0x7f000000u /* 127.0.0.0/8, host order */

struct chain_spec {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
	uint8_t family; /* 0: NFPROTO_INET */
};

/* nft's priority names: dstnat -100, srcnat 100, filter 0, raw -300 */
static const struct chain_spec chain_prerouting = { "prerouting", "nat", NF_INET_PRE_ROUTING,
						    -100, 0 };
static const struct chain_spec chain_output = { "output", "nat", NF_INET_LOCAL_OUT, -100, 0 };
static const struct chain_spec chain_postrouting = { "postrouting", "nat", NF_INET_POST_ROUTING,
						     100, 0 };
static const struct chain_spec chain_forward = { "forward", "filter", NF_INET_FORWARD, 0, 0 };
static const struct chain_spec chain_guard = { "guard", "filter", NF_INET_PRE_ROUTING, -300, 0 };
static const struct chain_spec chain_input = { "input", "filter", NF_INET_LOCAL_IN, 0, 0 };

static uint8_t family_of(const struct chain_spec *spec)
{
	return spec->family ? spec->family : NFPROTO_INET;
}

/* ------------------------------------------------------------------------
 * The socket, and requests that read
 */

struct nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	bool changed; /* a batch went through this socket */
};

bool nft_changed(const struct nft *nft)
{
	return nft && nft->changed;
}

int nft_open(struct nft **out, struct sk_err *err)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nft *n = calloc(1, sizeof(*n));

	*out = NULL;
	if (!n)
		return err_set(err, ENOMEM, "cannot open a netfilter netlink socket");
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!n->nl) {
		free(n);
		return err_set(err, errno, "cannot open a netfilter netlink socket");
	}
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		nft_close(n);
		return err_set(err, errno, "cannot bind a netfilter netlink socket");
	}
	/* connected to the kernel, the socket takes no message from another
	 * process: a forged listing could make skiff delete the wrong rules */
	if (connect(mnl_socket_get_fd(n->nl), (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		nft_close(n);
		return err_set(err, errno, "cannot connect a netfilter netlink socket");
	}
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = 1;
	*out = n;
	return 0;
}

void nft_close(struct nft *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n);
}

void nft_close_later(struct nft *n)
{
	int fd;
	pid_t pid;

	if (!n)
		return;
	fd = mnl_socket_get_fd(n->nl);
	pid = fork();
	if (pid == 0) {
		/* A grandchild, so nobody has to reap it: it keeps only the
		 * socket, and closes it once the change is free (20 ms). */
		if (fork() == 0) {
			setsid();
			if (fd > 0)
				close_range(0, (unsigned)fd - 1, 0);
			close_range((unsigned)fd + 1, ~0U, 0);
			nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000L }, NULL);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	nft_close(n);
}

/* Whatever an earlier failed request left unread (the rest of a dump). */
static void conn_drain(struct nft *c)
{
	char buf[NFT_REQ_BUF];

	while (recv(mnl_socket_get_fd(c->nl), buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
}

/* Send nlh and feed every reply to cb until the kernel's ack or the end of a
 * dump. -1 with errno set on failure (the kernel's refusal included). */
static int conn_talk(struct nft *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	cleanup_free char *buf = malloc(NFT_RECV_BUF);
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (!buf)
		return -1;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(c->nl, buf, NFT_RECV_BUF);
		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, seq, c->portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -1 : 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();
	uint32_t *genid = data;

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) < 0) {
		nftnl_gen_free(gen);
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	*genid = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

static int read_genid(struct nft *c, uint32_t *genid, struct sk_err *err)
{
	char buf[NFT_REQ_BUF];
	struct nlmsghdr *nlh =
	    nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, c->seq++);

	if (conn_talk(c, nlh, gen_cb, genid) < 0)
		return err_set(err, errno, "cannot read the nftables generation");
	return 0;
}

static int table_exists(struct nft *c, uint8_t family, bool *exists, struct sk_err *err)
{
	char buf[NFT_REQ_BUF];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return err_set(err, ENOMEM, "cannot read table 'inet " NFT_TABLE "'");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, c->seq++);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	*exists = conn_talk(c, nlh, NULL, NULL) == 0;
	if (!*exists && errno != ENOENT)
		return err_set(err, errno, "cannot read table 'inet " NFT_TABLE "'");
	return 0;
}

/* ------------------------------------------------------------------------
 * What the table holds: each rule's chain, handle and comment
 */

struct rule_ref {
	uint8_t family; /* NFPROTO_INET or NFPROTO_BRIDGE */
	char chain[NFT_CHAIN_NAME_MAX];
	uint64_t handle;
	char tag[NFT_TAG_MAX];
};

struct snap {
	uint32_t genid;
	bool table;
	bool interrupted; /* the ruleset changed during the dump */
	struct rule_ref *rules;
	size_t n, cap;
};

static void snap_release(struct snap *s)
{
	free(s->rules);
	memset(s, 0, sizeof(*s));
}
#define cleanup_snap __attribute__((cleanup(snap_release)))

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	char *tag = data;
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) != NFTNL_UDATA_RULE_COMMENT)
		return 0;
	/* nft stores the comment with its NUL; a rule from elsewhere may not */
	snprintf(tag, NFT_TAG_MAX, "%.*s", (int)len, (const char *)nftnl_udata_get(attr));
	return 0;
}

static struct rule_ref *snap_push(struct snap *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct rule_ref *r;

		if (cap > NFT_RULES_MAX)
			return NULL;
		r = realloc(s->rules, cap * sizeof(*r));
		if (!r)
			return NULL;
		s->rules = r;
		s->cap = cap;
	}
	memset(&s->rules[s->n], 0, sizeof(s->rules[0]));
	return &s->rules[s->n++];
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snap *s = data;
	struct nftnl_rule *r;
	struct rule_ref *ref;
	const char *table, *chain;
	const void *udata;
	uint32_t len = 0;
	int ret = MNL_CB_OK;

	r = nftnl_rule_alloc();
	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		errno = EPROTO;
		ret = MNL_CB_ERROR;
		goto out;
	}
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	if (!table || strcmp(table, NFT_TABLE) != 0 || !chain ||
	    strlen(chain) >= NFT_CHAIN_NAME_MAX)
		goto out; /* not ours, or not a chain skiff made */
	ref = snap_push(s);
	if (!ref) {
		errno = ENOMEM;
		ret = MNL_CB_ERROR;
		goto out;
	}
	snprintf(ref->chain, sizeof(ref->chain), "%s", chain);
	ref->family = (uint8_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	ref->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	udata = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (udata)
		nftnl_udata_parse(udata, len, comment_cb, ref->tag);
out:
	nftnl_rule_free(r);
	return ret;
}

static int read_rules(struct nft *c, struct snap *s, uint8_t family, struct sk_err *err)
{
	char buf[NFT_REQ_BUF];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return err_set(err, ENOMEM, "cannot list the rules of table 'inet " NFT_TABLE "'");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, c->seq++);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (conn_talk(c, nlh, rule_cb, s) == 0 || errno == ENOENT)
		return 0;
	/* libmnl stops at a part of the dump that says the ruleset changed
	 * meanwhile; the rest is drained before the next request */
	if (errno == EINTR) {
		s->interrupted = true;
		return 0;
	}
	return err_set(err, errno, "cannot list the rules of table 'inet " NFT_TABLE "'");
}

/* The generation first: a change after it makes the batch fail, not wrong. */
static int snap_read_once(struct nft *c, struct snap *s, struct sk_err *err)
{
	snap_release(s);
	conn_drain(c);
	if (read_genid(c, &s->genid, err) < 0 || table_exists(c, NFPROTO_INET, &s->table, err) < 0)
		return -1;
	if (!s->table)
		return 0;
	return read_rules(c, s, NFPROTO_INET, err);
}

/* A listing that no change cut through. */
static int snap_read(struct nft *c, struct snap *s, struct sk_err *err)
{
	for (int attempt = 0; attempt < NFT_ATTEMPTS; attempt++) {
		if (snap_read_once(c, s, err) < 0)
			return -1;
		if (!s->interrupted)
			return 0;
	}
	return err_set(err, EBUSY, "cannot list the rules of table 'inet " NFT_TABLE
			       "': the ruleset keeps changing");
}

/* ------------------------------------------------------------------------
 * Comments: whose a rule is
 */

enum tag_kind { TAG_OTHER, TAG_NET, TAG_CTR, TAG_GUARD };

#define TAG_NET_PREFIX "net="
#define TAG_CTR_PREFIX "ctr="
#define TAG_GUARD_TEXT "guard"

/* The kind of tag, and its owner (bridge or container id) in owner. */
static enum tag_kind tag_parse(const char *tag, char owner[NFT_ID_MAX + 1])
{
	enum tag_kind kind;
	const char *p, *end;

	if (strcmp(tag, TAG_GUARD_TEXT) == 0)
		return TAG_GUARD;
	if (strncmp(tag, TAG_NET_PREFIX, strlen(TAG_NET_PREFIX)) == 0)
		kind = TAG_NET;
	else if (strncmp(tag, TAG_CTR_PREFIX, strlen(TAG_CTR_PREFIX)) == 0)
		kind = TAG_CTR;
	else
		return TAG_OTHER;
	p = tag + strlen(TAG_NET_PREFIX); /* as long as TAG_CTR_PREFIX */
	end = strchr(p, ' ');
	if (!end || end == p || end - p > NFT_ID_MAX)
		return TAG_OTHER;
	snprintf(owner, NFT_ID_MAX + 1, "%.*s", (int)(end - p), p);
	return kind;
}

static bool tag_owned_by(const char *tag, enum tag_kind kind, const char *owner)
{
	char o[NFT_ID_MAX + 1];

	return tag_parse(tag, o) == kind && strcmp(o, owner) == 0;
}

static void format_ip(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* "net=BRIDGE SUBNET/PREFIX", then " gw=GATEWAY" when the gateway is not the
 * subnet's first host and " internal": a change of any makes new rules. */
static void tag_net(char tag[NFT_TAG_MAX], const struct nft_net *n)
{
	char ip[16], gw[16];

	format_ip(n->subnet, ip);
	format_ip(n->gateway, gw);
	snprintf(tag, NFT_TAG_MAX, TAG_NET_PREFIX "%s %s/%d%s%s%s", n->bridge, ip, n->prefix,
		 n->gateway != n->subnet + 1 ? " gw=" : "", n->gateway != n->subnet + 1 ? gw : "",
		 n->internal ? " internal" : "");
}

static void tag_ctr(char tag[NFT_TAG_MAX], const char *id, const struct port_map *m)
{
	char ip[16];

	format_ip(m->host_ip, ip);
	snprintf(tag, NFT_TAG_MAX, TAG_CTR_PREFIX "%s %s %s:%u", id, ports_proto_name(m->proto), ip,
		 m->host_port);
}

/* The published port of a "ctr=" tag; false when it is not one. */
static bool tag_port(const char *tag, struct port_map *m)
{
	const char *sp = strchr(tag, ' ');
	char proto[8];
	unsigned a, b, c, d, port;
	int end = 0;

	if (!sp ||
	    sscanf(sp + 1, "%7s %u.%u.%u.%u:%u%n", proto, &a, &b, &c, &d, &port, &end) != 6 ||
	    sp[1 + end] != '\0' || a > 255 || b > 255 || c > 255 || d > 255 || port > 65535)
		return false;
	if (strcmp(proto, ports_proto_name(PORT_TCP)) == 0)
		m->proto = PORT_TCP;
	else if (strcmp(proto, ports_proto_name(PORT_UDP)) == 0)
		m->proto = PORT_UDP;
	else
		return false;
	m->host_ip = a << 24 | b << 16 | c << 8 | d;
	m->host_port = (uint16_t)port;
	return true;
}

/* ------------------------------------------------------------------------
 * Rules, expression by expression (what `nft --debug=netlink` shows)
 */

struct rb {
	struct nftnl_rule *r;
	bool oom;
};

static struct nftnl_expr *rb_expr(struct rb *b, const char *name)
{
	struct nftnl_expr *e = b->oom ? NULL : nftnl_expr_alloc(name);

	if (!e) {
		b->oom = true;
		return NULL;
	}
	nftnl_rule_add_expr(b->r, e);
	return e;
}

static void rb_meta(struct rb *b, uint32_t key)
{
	struct nftnl_expr *e = rb_expr(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void rb_cmp(struct rb *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void rb_payload(struct rb *b, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

/* reg1 = reg1 & mask (len bytes). */
static void rb_and(struct rb *b, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = rb_expr(b, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

/* The IPv4 payload matches below read the network header as IPv4's: in an
 * inet table only IPv4 packets may reach them. */
static void match_ipv4(struct rb *b)
{
	uint8_t proto = NFPROTO_IPV4;

	rb_meta(b, NFT_META_NFPROTO);
	rb_cmp(b, NFT_CMP_EQ, &proto, sizeof(proto));
}

static void match_l4proto(struct rb *b, enum port_proto p)
{
	uint8_t proto = p == PORT_UDP ? IPPROTO_UDP : IPPROTO_TCP;

	rb_meta(b, NFT_META_L4PROTO);
	rb_cmp(b, NFT_CMP_EQ, &proto, sizeof(proto));
}

/* iifname/oifname "PREFIX*": the first bytes only, as nft's wildcard. */
static void match_ifname_prefix(struct rb *b, uint32_t key, uint32_t op, const char *prefix)
{
	size_t len = strlen(prefix);

	rb_meta(b, key);
	rb_cmp(b, op, prefix, (uint32_t)(len < IFNAMSIZ - 1 ? len : IFNAMSIZ - 1));
}

/* iifname/oifname: the whole IFNAMSIZ bytes, so "br0" is not "br01". */
static void match_ifname(struct rb *b, uint32_t key, uint32_t op, const char *name)
{
	char buf[IFNAMSIZ] = { 0 };

	memcpy(buf, name, strnlen(name, IFNAMSIZ - 1));
	rb_meta(b, key);
	rb_cmp(b, op, buf, sizeof(buf));
}

enum ip_field { IP_SADDR = 12, IP_DADDR = 16 };

static void match_ip(struct rb *b, enum ip_field field, uint32_t op, uint32_t addr, int prefix)
{
	uint32_t mask = prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
	uint32_t net = htonl(addr & mask), nmask = htonl(mask);

	rb_payload(b, NFT_PAYLOAD_NETWORK_HEADER, field, 4);
	if (prefix < 32)
		rb_and(b, &nmask, 4);
	rb_cmp(b, op, &net, 4);
}

static void match_dport(struct rb *b, uint16_t port);

static void match_l4_dport(struct rb *b, enum port_proto p, uint16_t port)
{
	match_l4proto(b, p);
	match_dport(b, port);
}

static void match_dport(struct rb *b, uint16_t port)
{
	uint16_t p = htons(port);

	rb_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	rb_cmp(b, NFT_CMP_EQ, &p, 2);
}

/* fib daddr type local: a destination that is one of this host's addresses. */
static void match_local_daddr(struct rb *b)
{
	struct nftnl_expr *e = rb_expr(b, "fib");
	uint32_t local = RTN_LOCAL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	rb_cmp(b, NFT_CMP_EQ, &local, sizeof(local));
}

/* ct state / ct status: any of the bits of mask. */
static void match_ct(struct rb *b, uint32_t key, uint32_t mask)
{
	struct nftnl_expr *e = rb_expr(b, "ct");
	uint32_t zero = 0;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	rb_and(b, &mask, sizeof(mask));
	rb_cmp(b, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static void rb_verdict(struct rb *b, int verdict)
{
	struct nftnl_expr *e = rb_expr(b, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
}

static void rb_immediate(struct rb *b, uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(b, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
	nftnl_expr_set_data(e, NFTNL_EXPR_IMM_DATA, data, len);
}

static void rb_dnat(struct rb *b, uint32_t ip, uint16_t port)
{
	uint32_t nip = htonl(ip);
	uint16_t nport = htons(port);
	struct nftnl_expr *e;

	rb_immediate(b, NFT_REG_1, &nip, sizeof(nip));
	rb_immediate(b, NFT_REG_2, &nport, sizeof(nport));
	e = rb_expr(b, "nat");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
}

static void rb_masquerade(struct rb *b)
{
	rb_expr(b, "masq");
}

/* ------------------------------------------------------------------------
 * Batches: BEGIN (with the generation read), messages, END, sent at once
 */

struct batch {
	struct nftnl_batch *b;
	uint32_t seq;
	size_t msgs; /* between BEGIN and END */
	bool oom;
};

static void batch_release(struct batch *b)
{
	if (b->b)
		nftnl_batch_free(b->b);
	b->b = NULL;
}
#define cleanup_batch __attribute__((cleanup(batch_release)))

static void batch_next(struct batch *b)
{
	if (nftnl_batch_update(b->b) < 0)
		b->oom = true;
}

static void batch_mark(struct batch *b, uint16_t type, uint32_t genid)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nftnl_batch_buffer(b->b));
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = b->seq++;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	/* the kernel refuses the whole batch (ERESTART) if the ruleset is no
	 * longer at the generation the plan was made from */
	if (type == NFNL_MSG_BATCH_BEGIN)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	batch_next(b);
}

static int batch_init(struct batch *b, uint32_t seq, uint32_t genid)
{
	memset(b, 0, sizeof(*b));
	b->b = nftnl_batch_alloc(NFT_BATCH_PAGE, NFT_BATCH_OVERRUN);
	if (!b->b)
		return -1;
	b->seq = seq;
	batch_mark(b, NFNL_MSG_BATCH_BEGIN, genid);
	return 0;
}

static struct nlmsghdr *batch_msg_family(struct batch *b, uint16_t type, uint8_t family,
					 uint16_t flags)
{
	b->msgs++;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->b), type, family, flags, b->seq++);
}

static void batch_add_table_family(struct batch *b, uint8_t family)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t) {
		b->oom = true;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE);
	nftnl_table_nlmsg_build_payload(batch_msg_family(b, NFT_MSG_NEWTABLE, family, NLM_F_CREATE),
					t);
	nftnl_table_free(t);
	batch_next(b);
}

static void batch_add_table(struct batch *b)
{
	batch_add_table_family(b, NFPROTO_INET);
}

static void batch_del_table_family(struct batch *b, uint8_t family)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t) {
		b->oom = true;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE);
	nftnl_table_nlmsg_build_payload(batch_msg_family(b, NFT_MSG_DELTABLE, family, 0), t);
	nftnl_table_free(t);
	batch_next(b);
}

/* Without NLM_F_EXCL a chain that exists (with this hook) is kept as it is. */
static void batch_add_chain(struct batch *b, const struct chain_spec *spec)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c) {
		b->oom = true;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, spec->name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, spec->type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, spec->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, spec->prio);
	nftnl_chain_nlmsg_build_payload(
	    batch_msg_family(b, NFT_MSG_NEWCHAIN, family_of(spec), NLM_F_CREATE), c);
	nftnl_chain_free(c);
	batch_next(b);
}

/* The table and the chains every network and port needs. */
static void batch_add_skeleton(struct batch *b)
{
	batch_add_table(b);
	batch_add_chain(b, &chain_prerouting);
	batch_add_chain(b, &chain_output);
	batch_add_chain(b, &chain_postrouting);
	batch_add_chain(b, &chain_forward);
	batch_add_chain(b, &chain_input);
}

static void batch_del_rule(struct batch *b, const struct rule_ref *ref)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r) {
		b->oom = true;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ref->chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, ref->handle);
	nftnl_rule_nlmsg_build_payload(
	    batch_msg_family(b, NFT_MSG_DELRULE, ref->family ? ref->family : NFPROTO_INET, 0), r);
	nftnl_rule_free(r);
	batch_next(b);
}

/* Start a rule for chain spec; finish it with batch_add_rule. */
static int rule_start(struct rb *rb, const struct chain_spec *spec)
{
	rb->oom = false;
	rb->r = nftnl_rule_alloc();
	if (!rb->r)
		return -1;
	nftnl_rule_set_u32(rb->r, NFTNL_RULE_FAMILY, family_of(spec));
	nftnl_rule_set_str(rb->r, NFTNL_RULE_TABLE, NFT_TABLE);
	nftnl_rule_set_str(rb->r, NFTNL_RULE_CHAIN, spec->name);
	return 0;
}

/* Append rb's rule, with tag as its comment, and free it. */
static void batch_add_rule(struct batch *b, struct rb *rb, const char *tag)
{
	struct nftnl_udata_buf *ud = NULL;

	if (!rb->r || rb->oom)
		goto fail;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, tag))
		goto fail;
	if (nftnl_rule_set_data(rb->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				nftnl_udata_buf_len(ud)) < 0)
		goto fail;
	nftnl_rule_nlmsg_build_payload(batch_msg_family(b, NFT_MSG_NEWRULE,
							(uint8_t)nftnl_rule_get_u32(rb->r,
										    NFTNL_RULE_FAMILY),
							NLM_F_APPEND | NLM_F_CREATE),
				       rb->r);
	batch_next(b);
	goto out;
fail:
	b->oom = true;
out:
	if (ud)
		nftnl_udata_buf_free(ud);
	if (rb->r)
		nftnl_rule_free(rb->r);
	rb->r = NULL;
}

static int batch_sendmsg(struct nft *c, struct batch *b)
{
	int niov = nftnl_batch_iovec_len(b->b);
	cleanup_free struct iovec *iov = calloc((size_t)niov, sizeof(*iov));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = {
		.msg_name = &kernel,
		.msg_namelen = sizeof(kernel),
		.msg_iov = iov,
		.msg_iovlen = (size_t)niov,
	};
	size_t total = 0;
	int fd = mnl_socket_get_fd(c->nl);

	if (!iov)
		return -1;
	nftnl_batch_iovec(b->b, iov, (uint32_t)niov);
	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	/* one datagram must hold the whole batch; the default send buffer
	 * holds some hundreds of rules, a large port range needs more */
	if (total > 128 * 1024) {
		int size = total > INT32_MAX / 2 ? INT32_MAX / 2 : (int)total;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	}
	return sendmsg(fd, &msg, 0) < 0 ? -1 : 0;
}

/* The kernel handles a batch within sendmsg(), so its answers are queued by
 * the time sendmsg() returns: errors only, as no message asks for an ack.
 * 0 when the batch was applied, else -1 with the first error in errno. */
static int batch_send(struct nft *c, struct batch *b)
{
	cleanup_free char *buf = malloc(NFT_RECV_BUF);
	int fd = mnl_socket_get_fd(c->nl), first = 0;
	ssize_t n;

	if (!buf)
		return -1;
	batch_mark(b, NFNL_MSG_BATCH_END, 0);
	if (b->oom) {
		errno = ENOMEM;
		return -1;
	}
	if (batch_sendmsg(c, b) < 0)
		return -1;
	while ((n = recv(fd, buf, NFT_RECV_BUF, MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR || e->error == 0 || first)
				continue;
			first = -e->error;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	if (first) {
		errno = first;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Read, plan, send; again when the ruleset moved under the plan
 */

/* Fill b from what s says the table holds; leave it empty for "nothing to
 * do". */
typedef int (*plan_fn)(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err);

static int nft_transact(struct nft *c, plan_fn plan, void *ctx, struct sk_err *err)
{
	cleanup_snap struct snap s = { 0 };
	int ret;

	for (int attempt = 1;; attempt++) {
		cleanup_batch struct batch b = { 0 };

		if (snap_read(c, &s, err) < 0)
			return -1;
		if (batch_init(&b, c->seq, s.genid) < 0)
			return err_set(err, ENOMEM, "cannot build an nftables batch");
		if (plan(&s, &b, ctx, err) < 0)
			return -1;
		if (b.msgs == 0)
			return 0;
		ret = batch_send(c, &b);
		c->seq = b.seq;
		if (ret == 0) {
			c->changed = true;
			return 0;
		}
		if (errno == ERESTART && attempt < NFT_ATTEMPTS)
			continue;
		return err_set(err, errno, "cannot change table 'inet " NFT_TABLE "'");
	}
}

/* ------------------------------------------------------------------------
 * Checks of what callers pass
 */

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

static int check_bridge(const char *bridge, struct sk_err *err)
{
	if (!bridge || !name_ok(bridge, IFNAMSIZ - 1))
		return err_set(err, 0, "invalid bridge name '%s'", bridge ? bridge : "");
	return 0;
}

static int check_container(const char *id, struct sk_err *err)
{
	if (!id || !name_ok(id, NFT_ID_MAX))
		return err_set(err, 0, "invalid container id '%s'", id ? id : "");
	return 0;
}

/* ------------------------------------------------------------------------
 * Networks
 */

struct net_plan {
	struct nft_net n;
	char tag[NFT_TAG_MAX];
};

/* How many rules add_net_rules adds (see nft.h for the list). */
static size_t net_rules(const struct net_plan *p)
{
	return p->n.internal ? 10 : 8;
}

static void add_net_postrouting(struct batch *b, const struct net_plan *p)
{
	struct rb rb;

	if (p->n.internal)
		return; /* no way out, no published ports, no 127.0.0.1 */
	/* outbound NAT */
	if (rule_start(&rb, &chain_postrouting) == 0) {
		match_ipv4(&rb);
		match_ip(&rb, IP_SADDR, NFT_CMP_EQ, p->n.subnet, p->n.prefix);
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_NEQ, p->n.bridge);
		rb_masquerade(&rb);
	}
	batch_add_rule(b, &rb, p->tag);
	/* a container reaching a published port of its own network */
	if (rule_start(&rb, &chain_postrouting) == 0) {
		match_ipv4(&rb);
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ip(&rb, IP_SADDR, NFT_CMP_EQ, p->n.subnet, p->n.prefix);
		match_ct(&rb, NFT_CT_STATUS, IPS_DST_NAT);
		rb_masquerade(&rb);
	}
	batch_add_rule(b, &rb, p->tag);
	/* the host's connections to 127.0.0.1:PORT (with route_localnet) */
	if (rule_start(&rb, &chain_postrouting) == 0) {
		match_ipv4(&rb);
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ip(&rb, IP_SADDR, NFT_CMP_EQ, LOOPBACK_NET, 8);
		rb_masquerade(&rb);
	}
	batch_add_rule(b, &rb, p->tag);
}

static void add_net_forward(struct batch *b, const struct net_plan *p)
{
	struct rb rb;

	/* internal: nothing leaves the bridge but for its own ports */
	if (p->n.internal && rule_start(&rb, &chain_forward) == 0) {
		match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_NEQ, p->n.bridge);
		rb_verdict(&rb, NF_DROP);
	}
	if (p->n.internal)
		batch_add_rule(b, &rb, p->tag);

	if (rule_start(&rb, &chain_forward) == 0) {
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ct(&rb, NFT_CT_STATE,
			 NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
		rb_verdict(&rb, NF_ACCEPT);
	}
	batch_add_rule(b, &rb, p->tag);
	if (rule_start(&rb, &chain_forward) == 0) {
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ct(&rb, NFT_CT_STATUS, IPS_DST_NAT);
		rb_verdict(&rb, NF_ACCEPT);
	}
	batch_add_rule(b, &rb, p->tag);
	if (rule_start(&rb, &chain_forward) == 0) {
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, p->n.bridge);
		rb_verdict(&rb, NF_ACCEPT);
	}
	batch_add_rule(b, &rb, p->tag);
	if (rule_start(&rb, &chain_forward) == 0) {
		match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_EQ, p->n.bridge);
		rb_verdict(&rb, NF_DROP);
	}
	batch_add_rule(b, &rb, p->tag);
}

/* What containers may send to the host itself. Every network: its gateway
 * address answers only its own bridge (another network's containers would
 * otherwise reach its resolver, or a host service bound to that address).
 * Internal: the resolver on the gateway, answers to the host's connections,
 * nothing else. */
static void add_net_input(struct batch *b, const struct net_plan *p)
{
	struct rb rb;

	if (rule_start(&rb, &chain_input) == 0) {
		match_ipv4(&rb);
		match_ip(&rb, IP_DADDR, NFT_CMP_EQ, p->n.gateway, 32);
		match_ifname_prefix(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, NFT_BRIDGE_PREFIX);
		match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_NEQ, p->n.bridge);
		rb_verdict(&rb, NF_DROP);
	}
	batch_add_rule(b, &rb, p->tag);
	if (!p->n.internal)
		return;
	for (int proto = PORT_TCP; proto <= PORT_UDP; proto++) {
		if (rule_start(&rb, &chain_input) == 0) {
			match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, p->n.bridge);
			match_ipv4(&rb);
			match_ip(&rb, IP_DADDR, NFT_CMP_EQ, p->n.gateway, 32);
			match_l4_dport(&rb, (enum port_proto)proto, 53);
			rb_verdict(&rb, NF_ACCEPT);
		}
		batch_add_rule(b, &rb, p->tag);
	}
	if (rule_start(&rb, &chain_input) == 0) {
		match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, p->n.bridge);
		match_ct(&rb, NFT_CT_STATE,
			 NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
		rb_verdict(&rb, NF_ACCEPT);
	}
	batch_add_rule(b, &rb, p->tag);
	if (rule_start(&rb, &chain_input) == 0) {
		match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, p->n.bridge);
		rb_verdict(&rb, NF_DROP);
	}
	batch_add_rule(b, &rb, p->tag);
}

static int plan_setup(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err)
{
	const struct net_plan *p = ctx;
	size_t same = 0, stale = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->rules[i].tag, p->tag) == 0)
			same++;
		else if (tag_owned_by(s->rules[i].tag, TAG_NET, p->n.bridge))
			stale++;
	}
	if (same == net_rules(p) && stale == 0)
		return 0;
	batch_add_skeleton(b);
	for (size_t i = 0; i < s->n; i++)
		if (tag_owned_by(s->rules[i].tag, TAG_NET, p->n.bridge))
			batch_del_rule(b, &s->rules[i]);
	add_net_postrouting(b, p);
	add_net_forward(b, p);
	add_net_input(b, p);
	return 0;
}

int nft_setup_net_at(struct nft *nft, const struct nft_net *n, struct sk_err *err)
{
	struct net_plan p = { .n = *n };
	uint32_t host_mask = n->prefix >= 32 ? 0 : 0xffffffffu >> n->prefix;
	char ip[16];

	if (check_bridge(n->bridge, err) < 0)
		return -1;
	format_ip(n->subnet, ip);
	if (n->prefix < 1 || n->prefix > 32 || (n->subnet & host_mask))
		return err_set(err, 0, "invalid subnet '%s/%d' for bridge '%s'", ip, n->prefix,
			       n->bridge);
	if ((n->gateway & ~host_mask) != n->subnet)
		return err_set(err, 0, "invalid gateway for subnet '%s/%d' of bridge '%s'", ip,
			       n->prefix, n->bridge);
	tag_net(p.tag, n);
	if (nft_transact(nft, plan_setup, &p, err) < 0)
		return err_wrap(err, "cannot set up the nftables rules of bridge '%s'", n->bridge);
	return 0;
}

int nft_setup_at(struct nft *nft, const char *bridge, uint32_t subnet, int prefix,
		 struct sk_err *err)
{
	struct nft_net n = { bridge, subnet, prefix, subnet + 1, false };

	return nft_setup_net_at(nft, &n, err);
}

static int plan_teardown(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err)
{
	const char *bridge = ctx;
	char owner[NFT_ID_MAX + 1];
	size_t kept = 0;

	for (size_t i = 0; i < s->n; i++) {
		enum tag_kind kind = tag_parse(s->rules[i].tag, owner);

		if (kind != TAG_GUARD && !(kind == TAG_NET && strcmp(owner, bridge) == 0))
			kept++;
	}
	/* deleting the table deletes its chains and rules with it */
	if (s->table && kept == 0) {
		batch_del_table_family(b, NFPROTO_INET);
		return 0;
	}
	for (size_t i = 0; i < s->n; i++)
		if (tag_owned_by(s->rules[i].tag, TAG_NET, bridge))
			batch_del_rule(b, &s->rules[i]);
	return 0;
}

int nft_teardown_at(struct nft *nft, const char *bridge, struct sk_err *err)
{
	if (check_bridge(bridge, err) < 0)
		return -1;
	if (nft_transact(nft, plan_teardown, (void *)bridge, err) < 0)
		return err_wrap(err, "cannot remove the nftables rules of bridge '%s'", bridge);
	return 0;
}

/* ------------------------------------------------------------------------
 * Published ports
 */

struct publish_plan {
	const char *id;
	uint32_t ip;
	const struct port_map *maps;
	size_t n;
};

static bool ports_clash(const struct port_map *a, const struct port_map *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (a->host_ip == 0 || b->host_ip == 0 || a->host_ip == b->host_ip);
}

static bool is_loopback(uint32_t ip)
{
	return (ip & 0xff000000u) == LOOPBACK_NET;
}

/* What a packet to m's host address and port must look like. */
static void match_published(struct rb *rb, const struct port_map *m, bool from_outside)
{
	match_ipv4(rb);
	if (m->host_ip == 0) {
		match_local_daddr(rb);
		if (from_outside)
			match_ip(rb, IP_DADDR, NFT_CMP_NEQ, LOOPBACK_NET, 8);
	} else {
		match_ip(rb, IP_DADDR, NFT_CMP_EQ, m->host_ip, 32);
	}
	match_l4proto(rb, m->proto);
	match_dport(rb, m->host_port);
}

static void add_port(struct batch *b, const struct publish_plan *p, const struct port_map *m)
{
	char tag[NFT_TAG_MAX];
	struct rb rb;

	tag_ctr(tag, p->id, m);
	/* from outside: never for 127.0.0.0/8 (CVE-2020-8558, see nft.h) */
	if (!is_loopback(m->host_ip)) {
		if (rule_start(&rb, &chain_prerouting) == 0) {
			match_published(&rb, m, true);
			rb_dnat(&rb, p->ip, m->container_port);
		}
		batch_add_rule(b, &rb, tag);
	}
	if (rule_start(&rb, &chain_output) == 0) {
		match_published(&rb, m, false);
		rb_dnat(&rb, p->ip, m->container_port);
	}
	batch_add_rule(b, &rb, tag);
}

/* docker's words, which scripts match on; errnum says it to callers without
 * strerror's words in the message */
static int port_taken(const struct port_map *m, const char *holder, struct sk_err *err)
{
	char ip[16];

	format_ip(m->host_ip, ip);
	if (holder)
		err_set(err, 0,
			"bind for %s:%u/%s failed: port is already allocated to container '%s'", ip,
			m->host_port, ports_proto_name(m->proto), holder);
	else
		err_set(err, 0, "bind for %s:%u/%s failed: port is given twice", ip, m->host_port,
			ports_proto_name(m->proto));
	err->errnum = EADDRINUSE;
	return -1;
}

/* Delete the rules of s that match. */
typedef bool (*rule_match_fn)(const struct rule_ref *r, const void *ctx);

static void delete_rules(const struct snap *s, struct batch *b, rule_match_fn match,
			 const void *ctx)
{
	for (size_t i = 0; i < s->n; i++)
		if (match(&s->rules[i], ctx))
			batch_del_rule(b, &s->rules[i]);
}

static int plan_publish(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err)
{
	const struct publish_plan *p = ctx;
	char owner[NFT_ID_MAX + 1];
	struct port_map held;

	for (size_t i = 0; i < p->n; i++) {
		for (size_t j = 0; j < i; j++)
			if (ports_clash(&p->maps[i], &p->maps[j]))
				return port_taken(&p->maps[i], NULL, err);
		for (size_t j = 0; j < s->n; j++)
			if (tag_parse(s->rules[j].tag, owner) == TAG_CTR &&
			    tag_port(s->rules[j].tag, &held) && ports_clash(&p->maps[i], &held))
				return port_taken(&p->maps[i], owner, err);
	}
	batch_add_skeleton(b);
	for (size_t i = 0; i < p->n; i++)
		add_port(b, p, &p->maps[i]);
	return 0;
}

static int nft_publish_plan(struct nft *nft, const struct publish_plan *pp, struct sk_err *err);

int nft_publish_at(struct nft *nft, const char *container_id, uint32_t container_ip,
		   const struct port_map *maps, size_t n, struct sk_err *err)
{
	struct publish_plan p = { container_id, container_ip, maps, n };

	return nft_publish_plan(nft, &p, err);
}

static int nft_publish_plan(struct nft *nft, const struct publish_plan *pp, struct sk_err *err)
{
	const char *container_id = pp->id;
	const struct port_map *maps = pp->maps;
	size_t n = pp->n;

	if (check_container(container_id, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (maps[i].proto != PORT_TCP && maps[i].proto != PORT_UDP)
			return err_set(err, 0, "invalid protocol %d for container port %u",
				       (int)maps[i].proto, maps[i].container_port);
		if (maps[i].host_port == 0 || maps[i].container_port == 0)
			return err_set(err, 0, "no host port chosen for container port %u",
				       maps[i].container_port);
	}
	if (n == 0)
		return 0;
	if (nft_transact(nft, plan_publish, (void *)pp, err) < 0)
		return err_wrap(err, "cannot publish the ports of container '%s'", container_id);
	return 0;
}

static bool owned_by_container(const struct rule_ref *r, const void *id)
{
	return tag_owned_by(r->tag, TAG_CTR, id);
}

static int plan_unpublish(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err)
{
	delete_rules(s, b, owned_by_container, ctx);
	return 0;
}

int nft_unpublish_at(struct nft *nft, const char *container_id, struct sk_err *err)
{
	if (check_container(container_id, err) < 0)
		return -1;
	if (nft_transact(nft, plan_unpublish, (void *)container_id, err) < 0)
		return err_wrap(err, "cannot remove the published ports of container '%s'",
				container_id);
	return 0;
}

/* The host end of the veth a container's published port leads to: its
 * eth0's ("vsk" + 12 of the id). */
static bool rule_veth(const char *tag, char veth[IFNAMSIZ])
{
	char owner[NFT_ID_MAX + 1];

	if (tag_parse(tag, owner) != TAG_CTR)
		return false;
	snprintf(veth, IFNAMSIZ, NFT_PORT_PREFIX "%.12s", owner);
	return true;
}

static bool orphaned(const struct rule_ref *r, const void *ctx)
{
	char veth[IFNAMSIZ];

	return rule_veth(r->tag, veth) && if_nametoindex(veth) == 0;
}

static int plan_orphans(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err)
{
	delete_rules(s, b, orphaned, ctx);
	return 0;
}

int nft_remove_orphans_at(struct nft *nft, struct sk_err *err)
{
	if (nft_transact(nft, plan_orphans, NULL, err) < 0)
		return err_wrap(err, "cannot remove the rules of containers that are gone");
	return 0;
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

int nft_list_containers_at(struct nft *nft, nft_container_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_snap struct snap s = { 0 };
	cleanup_free char(*ids)[NFT_ID_MAX + 1] = NULL;
	size_t n = 0;

	if (snap_read(nft, &s, err) < 0)
		return err_wrap(err, "cannot list the containers with published ports");
	ids = calloc(s.n ? s.n : 1, sizeof(*ids));
	if (!ids)
		return err_set(err, ENOMEM, "cannot list the containers with published ports");
	for (size_t i = 0; i < s.n; i++)
		if (tag_parse(s.rules[i].tag, ids[n]) == TAG_CTR)
			n++;
	qsort(ids, n, sizeof(*ids), cmp_ids);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
			continue;
		if (fn(ids[i], ctx, err) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The 127.0.0.0/8 guard
 */

static int plan_guard(const struct snap *s, struct batch *b, void *ctx, struct sk_err *err)
{
	struct rb rb;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->rules[i].tag, TAG_GUARD_TEXT) == 0)
			return 0;
	batch_add_table(b);
	batch_add_chain(b, &chain_guard);
	if (rule_start(&rb, &chain_guard) == 0) {
		match_ipv4(&rb);
		match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_NEQ, "lo");
		match_ip(&rb, IP_DADDR, NFT_CMP_EQ, LOOPBACK_NET, 8);
		rb_verdict(&rb, NF_DROP);
	}
	batch_add_rule(b, &rb, TAG_GUARD_TEXT);
	return 0;
}

int nft_guard_localnet_at(struct nft *nft, struct sk_err *err)
{
	if (nft_transact(nft, plan_guard, NULL, err) < 0)
		return err_wrap(err, "cannot add the 127.0.0.0/8 guard");
	return 0;
}

/* ------------------------------------------------------------------------
 * One handle per call
 */

int nft_setup(const char *bridge, uint32_t subnet, int prefix, struct sk_err *err)
{
	cleanup_nft struct nft *nft = NULL;

	return nft_open(&nft, err) < 0 ? -1 : nft_setup_at(nft, bridge, subnet, prefix, err);
}

int nft_teardown(const char *bridge, struct sk_err *err)
{
	cleanup_nft struct nft *nft = NULL;

	return nft_open(&nft, err) < 0 ? -1 : nft_teardown_at(nft, bridge, err);
}

int nft_publish(const char *container_id, uint32_t container_ip, const struct port_map *maps,
		size_t n, struct sk_err *err)
{
	cleanup_nft struct nft *nft = NULL;

	return nft_open(&nft, err) < 0
		   ? -1
		   : nft_publish_at(nft, container_id, container_ip, maps, n, err);
}

int nft_unpublish_container(const char *container_id, struct sk_err *err)
{
	cleanup_nft struct nft *nft = NULL;

	return nft_open(&nft, err) < 0 ? -1 : nft_unpublish_at(nft, container_id, err);
}

int nft_list_containers(nft_container_fn fn, void *ctx, struct sk_err *err)
{
	cleanup_nft struct nft *nft = NULL;

	return nft_open(&nft, err) < 0 ? -1 : nft_list_containers_at(nft, fn, ctx, err);
}

int nft_guard_localnet(struct sk_err *err)
{
	cleanup_nft struct nft *nft = NULL;

	return nft_open(&nft, err) < 0 ? -1 : nft_guard_localnet_at(nft, err);
}

/*
 * Conntrack entries of a container that is gone (conntrack.h), through
 * ctnetlink over libmnl: a dump of the IPv4 table, then one delete per entry
 * whose reply comes from the address (the container's side of every flow to
 * or through it, DNAT'ed ones included).
 */
#include "net/conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

#define CT_RECV_BUF 65536
#define CT_MAX_DELETE 65536

struct found {
	uint32_t ip; /* network order; 0: match by port */
	uint8_t proto;
	uint16_t port; /* network order */
	/* the reply tuples to delete, copied whole (nested attributes) */
	char (*tuples)[128];
	uint16_t *lens;
	size_t n, cap;
};

static const struct nlattr *nested(const struct nlattr *parent, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, parent)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/* The original direction's protocol and destination port. */
static bool orig_port_is(const struct nlattr *orig, uint8_t proto, uint16_t port)
{
	const struct nlattr *p = orig ? nested(orig, CTA_TUPLE_PROTO) : NULL;
	const struct nlattr *num = p ? nested(p, CTA_PROTO_NUM) : NULL;
	const struct nlattr *dport = p ? nested(p, CTA_PROTO_DST_PORT) : NULL;

	return num && dport && mnl_attr_get_payload_len(num) == 1 &&
	       mnl_attr_get_payload_len(dport) == 2 && mnl_attr_get_u8(num) == proto &&
	       mnl_attr_get_u16(dport) == port;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct found *f = data;
	const struct nlattr *a, *reply = NULL, *orig = NULL, *ip, *src;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == CTA_TUPLE_REPLY)
			reply = a;
		else if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG)
			orig = a;
	}
	if (!reply)
		return MNL_CB_OK;
	if (f->ip && (!(ip = nested(reply, CTA_TUPLE_IP)) || !(src = nested(ip, CTA_IP_V4_SRC)) ||
		      mnl_attr_get_payload_len(src) != 4 || mnl_attr_get_u32(src) != f->ip))
		return MNL_CB_OK;
	if (!f->ip && !orig_port_is(orig, f->proto, f->port))
		return MNL_CB_OK;
	if (mnl_attr_get_len(reply) > sizeof(f->tuples[0]) || f->n >= CT_MAX_DELETE)
		return MNL_CB_OK;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		void *t = realloc(f->tuples, cap * sizeof(f->tuples[0]));
		void *l;

		if (!t)
			return MNL_CB_ERROR;
		f->tuples = t;
		l = realloc(f->lens, cap * sizeof(f->lens[0]));
		if (!l)
			return MNL_CB_ERROR;
		f->lens = l;
		f->cap = cap;
	}
	memcpy(f->tuples[f->n], reply, mnl_attr_get_len(reply));
	f->lens[f->n] = mnl_attr_get_len(reply);
	f->n++;
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_msg(char *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* The dump walks every bucket of the table, empty or not: ~10 ms for the
 * 262144 buckets of a 24 GiB host. The table's entry count is one read, and
 * an empty table has nothing to forget. */
static bool table_is_empty(void)
{
	char buf[32] = { 0 };
	cleanup_close int fd = open("/proc/sys/net/netfilter/nf_conntrack_count",
				    O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return false; /* unknown: look */
	return strtoul(buf, NULL, 10) == 0;
}

static int forget(struct found f, struct sk_err *err)
{
	if (table_is_empty())
		return 0;
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	cleanup_free char *buf = malloc(CT_RECV_BUF);
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nlmsghdr *nlh;
	int ret = -1, n;

	if (!nl || !buf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err_set(err, errno, "cannot open a conntrack socket");
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err_set(err, errno, "cannot list the conntrack table");
		goto out;
	}
	while ((n = (int)mnl_socket_recvfrom(nl, buf, CT_RECV_BUF)) > 0) {
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, entry_cb, &f);

		if (r == MNL_CB_STOP)
			break;
		if (r < 0) {
			err_set(err, errno, "cannot list the conntrack table");
			goto out;
		}
	}
	/* each delete is acked; an entry gone meanwhile (ENOENT) is fine */
	for (size_t i = 0; i < f.n; i++) {
		nlh = ct_msg(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, ++seq);
		memcpy(mnl_nlmsg_get_payload_tail(nlh), f.tuples[i], f.lens[i]);
		nlh->nlmsg_len += MNL_ALIGN(f.lens[i]);
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
			break;
		n = (int)mnl_socket_recvfrom(nl, buf, CT_RECV_BUF);
		if (n > 0)
			mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
	}
	ret = 0;
out:
	free(f.tuples);
	free(f.lens);
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

int conntrack_forget(uint32_t ip, struct sk_err *err)
{
	return forget((struct found){ .ip = htonl(ip) }, err);
}

int conntrack_forget_port(int proto, uint16_t port, struct sk_err *err)
{
	return forget((struct found){ .proto = (uint8_t)proto, .port = htons(port) }, err);
}

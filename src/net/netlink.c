/*
 * rtnetlink through libmnl (netlink.h): requests are built in the socket's
 * one buffer, sent with NLM_F_ACK and a fresh sequence number, and the replies
 * read into the same buffer until the kernel's acknowledgement, error or end
 * of dump for that sequence number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/random.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netlink.h"
#include "util/cleanup.h"

/*
 * Not MNL_SOCKET_BUFFER_SIZE (the page size, 4 KiB here, and a sysconf() call,
 * so a VLA): 32 KiB is the largest datagram the kernel builds for a dump (it
 * sizes them to the reader's buffer, up to that), as iproute2 reads them. A
 * link's RTM_NEWLINK is 1.5-1.9 KiB on 6.18 but grows with a NIC's virtual
 * functions; a reply that does not fit is an error, never half read. Requests
 * are a few hundred bytes at most: names are checked to be shorter than
 * IFNAMSIZ before they are put, and everything else has a fixed size.
 */
#define NL_BUF_SIZE 32768

struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	/* Out of step with the kernel after a transport error: replies of an
	 * abandoned request (or a dump still running) may be queued. */
	bool broken;
	char buf[NL_BUF_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* Handles one reply message (not an error, ack or end of dump): 0 goes on,
 * > 0 stops calling it, < 0 stops with err. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data, struct sk_err *err);

static void nl_setopt(struct mnl_socket *mnl, int opt)
{
	int one = 1;

	/* Each option only improves errors or replies; a kernel without it
	 * works as before. */
	(void)mnl_socket_setsockopt(mnl, opt, &one, sizeof(one));
}

int nl_open(struct nl_sock **out, struct sk_err *err)
{
	cleanup_free struct nl_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return err_set(err, ENOMEM, "cannot open a netlink socket");
	s->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s->mnl)
		return err_set(err, errno, "cannot open a netlink socket");
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(s->mnl);
		return err_set(err, e, "cannot bind a netlink socket");
	}
	/* The kernel's reason in refusals; acks without a copy of the request;
	 * malformed requests refused rather than half-understood. */
	nl_setopt(s->mnl, NETLINK_EXT_ACK);
	nl_setopt(s->mnl, NETLINK_CAP_ACK);
	nl_setopt(s->mnl, NETLINK_GET_STRICT_CHK);
	s->portid = mnl_socket_get_portid(s->mnl);
	*out = steal_pointer(&s);
	return 0;
}

int nl_open_netns(int netns_fd, struct nl_sock **out, struct sk_err *err)
{
	cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (self < 0)
		return err_set(err, errno, "cannot open this thread's network namespace");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return err_set(err, errno, "cannot enter the network namespace");
	r = nl_open(out, err);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Not a state to go on in: the thread would act in the wrong
		 * namespace from here on. */
		if (r == 0) {
			nl_close(*out);
			*out = NULL;
		}
		return err_set(err, errno, "cannot return to this thread's network namespace");
	}
	return r;
}

void nl_close(struct nl_sock *s)
{
	if (!s)
		return;
	mnl_socket_close(s->mnl);
	free(s);
}

/* --- requests and replies --------------------------------------------- */

static struct nlmsghdr *nl_req(struct nl_sock *s, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(s->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++s->seq;
	return nlh;
}

/* err_set() without ": strerror(errnum)" after the message. */
__attribute__((format(printf, 3, 4))) static int nl_fail(struct sk_err *err, int errnum,
							 const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(err, 0, "%s", msg);
	err->errnum = errnum;
	return -1;
}

static int nl_broken(struct nl_sock *s, struct sk_err *err, int errnum, const char *what)
{
	s->broken = true;
	return err_set(err, errnum, "%s", what);
}

/* The text of an extended ack (NLMSGERR_ATTR_MSG), "" when there is none. */
static int nl_extack_attr(const struct nlattr *a, void *data)
{
	const char **msg = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*msg = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

/* The text of the extended ack that starts off bytes into nlh's payload, ""
 * when there is none. */
static const char *nl_extack(const struct nlmsghdr *nlh, size_t off)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	const char *msg = "";

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= len)
		return "";
	mnl_attr_parse_payload((const char *)mnl_nlmsg_get_payload(nlh) + off, len - off,
			       nl_extack_attr, &msg);
	return msg;
}

/* The kernel's refusal as err: "<why>: <strerror>", or "<strerror>" alone;
 * callers wrap it with the operation. */
static int nl_refused(struct sk_err *err, int errnum, const char *why)
{
	if (*why)
		return err_set(err, errnum, "%s", why);
	return nl_fail(err, errnum, "%s", strerror(errnum));
}

/* NLMSG_ERROR: 0 for an ack, else -1 with the kernel's errno and reason. */
static int nl_error(struct nl_sock *s, const struct nlmsghdr *nlh, struct sk_err *err)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) || e->error > 0 || e->error < -4095)
		return nl_broken(s, err, EBADMSG, "malformed netlink error message");
	if (e->error == 0)
		return 0;
	/* Without NLM_F_CAPPED the kernel copied our whole request in (a
	 * length that does not add up leaves the reason out). */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off = e->msg.nlmsg_len < sizeof(struct nlmsghdr)
			      ? SIZE_MAX
			      : off + NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof(struct nlmsghdr);
	return nl_refused(err, -e->error, nl_extack(nlh, off));
}

/* NLMSG_DONE carries the dump's status (an int, 0 or -errno), then maybe an
 * extended ack. */
static int nl_done(struct nl_sock *s, const struct nlmsghdr *nlh, struct sk_err *err)
{
	int status;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(status))
		return 0;
	memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(status));
	if (status == 0)
		return 0;
	if (status > 0 || status < -4095)
		return nl_broken(s, err, EBADMSG, "malformed end of netlink dump");
	return nl_refused(err, -status, nl_extack(nlh, sizeof(status)));
}

/* One datagram from the kernel into s->buf: its length, or -1. Datagrams from
 * anyone else (another process may know our port id) are dropped. */
static ssize_t nl_recv(struct nl_sock *s, struct sk_err *err)
{
	for (;;) {
		struct sockaddr_nl addr = { 0 };
		struct iovec iov = { .iov_base = s->buf, .iov_len = sizeof(s->buf) };
		struct msghdr msg = {
			.msg_name = &addr,
			.msg_namelen = sizeof(addr),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(s->mnl), &msg, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nl_broken(s, err, errno, "cannot read the kernel's netlink reply");
		if (msg.msg_flags & MSG_TRUNC)
			return nl_broken(s, err, EMSGSIZE, "netlink reply too large");
		if (msg.msg_namelen != sizeof(addr) || addr.nl_family != AF_NETLINK ||
		    addr.nl_pid != 0)
			continue;
		return n;
	}
}

/* The end of a request: fn's (or the dump's) status, else the kernel's. */
static int nl_end(int status, int kernel)
{
	if (status < 0 || kernel < 0)
		return -1;
	return status;
}

/*
 * Send the request in s->buf and read until its end: the ack or error (any
 * request), or the end of the dump. fn (may be NULL) sees every other message
 * answering it. Returns 0, fn's positive stop value, or -1 with err (the
 * kernel's errno when it refused; callers wrap the operation around it).
 */
static int nl_talk(struct nl_sock *s, nl_reply_fn fn, void *data, struct sk_err *err)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)s->buf;
	uint32_t seq = req->nlmsg_seq;
	int status = 0;

	if (s->broken)
		return err_set(err, EPIPE, "netlink socket out of step after an earlier error");
	if (mnl_socket_sendto(s->mnl, req, req->nlmsg_len) != (ssize_t)req->nlmsg_len)
		return nl_broken(s, err, errno, "cannot send a netlink request");
	for (;;) {
		ssize_t n = nl_recv(s, err);
		int left;

		if (n < 0)
			return -1;
		left = (int)n;
		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)s->buf;
		     mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			/* Replies to a request given up on earlier. */
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != s->portid)
				continue;
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				continue;
			case NLMSG_OVERRUN:
				return nl_broken(s, err, EOVERFLOW, "netlink overrun");
			case NLMSG_ERROR:
				/* After fn's error, err keeps fn's message. */
				return nl_end(status, status < 0 ? 0 : nl_error(s, nlh, err));
			}
			/* The tables changed under the dump (the kernel may say
			 * so as late as on its end): what was seen may be
			 * inconsistent. */
			if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && status == 0)
				status = err_set(err, EAGAIN, "changed while being read");
			if (nlh->nlmsg_type == NLMSG_DONE)
				return nl_end(status, status < 0 ? 0 : nl_done(s, nlh, err));
			if (status == 0 && fn)
				status = fn(nlh, data, err);
		}
		if (left != 0)
			return nl_broken(s, err, EBADMSG, "malformed netlink reply");
	}
}

/* --- attributes -------------------------------------------------------- */

/* Room for the attribute types of any message or nest read here. */
#define NL_ATTRS_MAX 128
_Static_assert(IFLA_MAX < NL_ATTRS_MAX && RTA_MAX < NL_ATTRS_MAX && IFA_MAX < NL_ATTRS_MAX &&
		   IFLA_INFO_MAX < NL_ATTRS_MAX,
	       "struct nl_attrs too small");

struct nl_attrs {
	const struct nlattr *tb[NL_ATTRS_MAX];
	uint16_t max;
};

/* Collect attributes by type; each is validated where it is read. Types this
 * code does not know (newer kernels) are skipped. */
static int nl_attr_collect(const struct nlattr *a, void *data)
{
	struct nl_attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static int nl_attrs_parse(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t max,
			  struct nl_attrs *t)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
		return -1;
	return mnl_attr_parse(nlh, (unsigned)hdrlen, nl_attr_collect, t) < 0 ? -1 : 0;
}

static int nl_attrs_parse_nested(const struct nlattr *nest, uint16_t max, struct nl_attrs *t)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -1;
	return mnl_attr_parse_nested(nest, nl_attr_collect, t) < 0 ? -1 : 0;
}

/* 1 and *out when a is there and a valid u32, 0 when absent, -1 when bad. */
static int nl_attr_u32(const struct nlattr *a, uint32_t *out)
{
	if (!a)
		return 0;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -1;
	*out = mnl_attr_get_u32(a);
	return 1;
}

/* Copy a NUL-terminated string attribute that must fit in out (size n). */
static int nl_attr_str(const struct nlattr *a, char *out, size_t n)
{
	if (!a)
		return 0;
	if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 || strnlen(mnl_attr_get_str(a), n) >= n)
		return -1;
	memcpy(out, mnl_attr_get_str(a), strlen(mnl_attr_get_str(a)) + 1);
	return 1;
}

static size_t nl_ip_len(int family)
{
	return family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
}

/* An address attribute of family's exact size. */
static int nl_attr_ip(const struct nlattr *a, int family, struct nl_ip *out)
{
	if (!a)
		return 0;
	if (mnl_attr_validate2(a, MNL_TYPE_BINARY, nl_ip_len(family)) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(&out->v6, mnl_attr_get_payload(a), nl_ip_len(family));
	return 1;
}

/* --- names -------------------------------------------------------------- */

/* The kernel's dev_valid_name(), so that a bad name gets a clear message. */
static int nl_check_name(const char *name, struct sk_err *err)
{
	const char *why = NULL;

	if (!name || !*name)
		why = "empty";
	else if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		why = "longer than 15 bytes";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		why = "reserved";
	else if (strpbrk(name, "/: \t\n\v\f\r"))
		why = "'/', ':' and white space are not allowed";
	if (!why)
		return 0;
	return nl_fail(err, EINVAL, "invalid network interface name '%.64s': %s", name ? name : "",
		       why);
}

static const char *nl_ip_str(const struct nl_ip *ip, char *buf, size_t n)
{
	if (!inet_ntop(ip->family, &ip->v6, buf, (socklen_t)n))
		snprintf(buf, n, "(address of family %d)", ip->family);
	return buf;
}

/* --- links ------------------------------------------------------------- */

static int nl_link_parse(const struct nlmsghdr *nlh, void *data, struct sk_err *err)
{
	struct nl_link *l = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs t, info;
	uint32_t v;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (nl_attrs_parse(nlh, sizeof(*ifm), IFLA_MAX, &t) < 0)
		return err_set(err, EBADMSG, "malformed link message");
	memset(l, 0, sizeof(*l));
	l->index = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	if (nl_attr_str(t.tb[IFLA_IFNAME], l->name, sizeof(l->name)) != 1 ||
	    nl_attr_u32(t.tb[IFLA_MTU], &l->mtu) < 0)
		return err_set(err, EBADMSG, "malformed link message");
	r = nl_attr_u32(t.tb[IFLA_MASTER], &v);
	if (r < 0)
		return err_set(err, EBADMSG, "malformed link message");
	l->master = r ? (int)v : 0;
	if (t.tb[IFLA_LINKINFO]) {
		if (nl_attrs_parse_nested(t.tb[IFLA_LINKINFO], IFLA_INFO_MAX, &info) < 0 ||
		    nl_attr_str(info.tb[IFLA_INFO_KIND], l->kind, sizeof(l->kind)) < 0)
			return err_set(err, EBADMSG, "malformed link message");
	}
	return 1;
}

/* RTM_GETLINK by index (name NULL) or by name. */
static int nl_link_query(struct nl_sock *s, int index, const char *name, struct nl_link *out,
			 struct sk_err *err)
{
	struct nlmsghdr *nlh = nl_req(s, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int r;

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Counters are not needed and only make the reply larger. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	out->index = 0;
	r = nl_talk(s, nl_link_parse, out, err);
	if (r < 0)
		return -1;
	if (out->index <= 0)
		return err_set(err, EBADMSG, "no link in the kernel's reply");
	return 0;
}

int nl_link_get(struct nl_sock *s, const char *name, struct nl_link *out, struct sk_err *err)
{
	if (nl_check_name(name, err) < 0)
		return -1;
	if (nl_link_query(s, 0, name, out, err) < 0)
		return err_wrap(err, "cannot find network interface '%s'", name);
	return 0;
}

int nl_link_get_by_index(struct nl_sock *s, int index, struct nl_link *out, struct sk_err *err)
{
	if (index <= 0)
		return err_set(err, EINVAL, "invalid network interface index %d", index);
	if (nl_link_query(s, index, NULL, out, err) < 0)
		return err_wrap(err, "cannot find network interface %d", index);
	return 0;
}

int nl_link_index(struct nl_sock *s, const char *name, struct sk_err *err)
{
	struct nl_link l;

	if (nl_link_get(s, name, &l, err) < 0)
		return -1;
	return l.index;
}

int nl_link_mtu(struct nl_sock *s, const char *name, unsigned *mtu, struct sk_err *err)
{
	struct nl_link l;

	if (nl_link_get(s, name, &l, err) < 0)
		return -1;
	*mtu = l.mtu;
	return 0;
}

/* An RTM_NEWLINK that creates a link of kind, named name. The caller may add
 * IFLA_INFO_DATA before closing the IFLA_LINKINFO nest (*linkinfo). */
static struct nlmsghdr *nl_newlink(struct nl_sock *s, const char *name, unsigned mtu,
				   const char *kind, struct nlattr **linkinfo)
{
	struct nlmsghdr *nlh = nl_req(s, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	*linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	return nlh;
}

int nl_bridge_create(struct nl_sock *s, const char *name, unsigned mtu, struct sk_err *err)
{
	unsigned char mac[6];
	struct nlattr *linkinfo;
	struct nlmsghdr *nlh;
	struct nl_link l;

	if (nl_check_name(name, err) < 0)
		return -1;
	nlh = nl_newlink(s, name, mtu, "bridge", &linkinfo);
	mnl_attr_nest_end(nlh, linkinfo);
	/* A bridge without an address of its own takes the lowest of its
	 * ports', so it changes as containers come and go, and a container
	 * that cached the gateway's old one is cut off: a fixed, random,
	 * locally administered unicast address (as docker's libnetwork). */
	if (getrandom(mac, sizeof(mac), 0) == (ssize_t)sizeof(mac)) {
		mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02);
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	}
	if (nl_talk(s, NULL, NULL, err) == 0)
		return 0;
	if (err->errnum != EEXIST)
		return err_wrap(err, "cannot create bridge '%s'", name);
	if (nl_link_get(s, name, &l, err) < 0)
		return err_wrap(err, "cannot create bridge '%s'", name);
	if (strcmp(l.kind, "bridge") == 0)
		return 0;
	if (*l.kind)
		return nl_fail(err, EEXIST,
			       "cannot create bridge '%s': '%s' exists and is a %s, not a bridge",
			       name, name, l.kind);
	return nl_fail(err, EEXIST, "cannot create bridge '%s': '%s' exists and is not a bridge",
		       name, name);
}

int nl_veth_create(struct nl_sock *s, const char *host_name, const char *peer_name,
		   int peer_netns_fd, unsigned mtu, struct sk_err *err)
{
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *pifm;
	struct nlmsghdr *nlh;

	if (nl_check_name(host_name, err) < 0 || nl_check_name(peer_name, err) < 0)
		return -1;
	nlh = nl_newlink(s, host_name, mtu, "veth", &linkinfo);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of its own. */
	pifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(pifm, 0, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot create veth pair '%s' and '%s'", host_name, peer_name);
	return 0;
}

/* An RTM_SETLINK for the link named name. */
static struct nlmsghdr *nl_setlink(struct nl_sock *s, const char *name, struct ifinfomsg **ifm)
{
	struct nlmsghdr *nlh = nl_req(s, RTM_SETLINK, 0);

	*ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifm));
	(*ifm)->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

int nl_link_set_master(struct nl_sock *s, const char *name, const char *master, struct sk_err *err)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	int index = 0;

	if (nl_check_name(name, err) < 0)
		return -1;
	if (master) {
		index = nl_link_index(s, master, err);
		if (index < 0)
			return err_wrap(err, "cannot attach '%s' to bridge '%s'", name, master);
	}
	nlh = nl_setlink(s, name, &ifm);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)index);
	if (nl_talk(s, NULL, NULL, err) < 0) {
		if (master)
			return err_wrap(err, "cannot attach '%s' to bridge '%s'", name, master);
		return err_wrap(err, "cannot detach '%s' from its bridge", name);
	}
	return 0;
}

int nl_bridge_port_hairpin(struct nl_sock *s, const char *name, bool on, struct sk_err *err)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int index;

	if (nl_check_name(name, err) < 0)
		return -1;
	index = nl_link_index(s, name, err);
	if (index < 0)
		return err_wrap(err, "cannot set hairpin mode on '%s'", name);
	/* The bridge's own family, addressed by index (rtnl_bridge_setlink). */
	nlh = nl_req(s, RTM_SETLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_BRIDGE;
	ifm->ifi_index = index;
	nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, on ? BRIDGE_MODE_HAIRPIN : BRIDGE_MODE_VEB);
	mnl_attr_nest_end(nlh, nest);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot set hairpin mode on '%s'", name);
	return 0;
}

int nl_neigh_forget(struct nl_sock *s, const char *ifname, const struct nl_ip *ip,
		    struct sk_err *err)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int index;

	if (nl_check_name(ifname, err) < 0)
		return -1;
	if (ip->family != AF_INET)
		return nl_fail(err, EAFNOSUPPORT, "only IPv4 neighbours are supported");
	index = nl_link_index(s, ifname, err);
	if (index < 0)
		return -1;
	nlh = nl_req(s, RTM_DELNEIGH, 0);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = index;
	mnl_attr_put(nlh, NDA_DST, sizeof(ip->v4), &ip->v4);
	if (nl_talk(s, NULL, NULL, err) == 0)
		return 0;
	if (err->errnum == ENOENT) { /* nothing cached: fine */
		err_clear(err);
		return 0;
	}
	return err_wrap(err, "cannot forget the neighbour entry on '%s'", ifname);
}

int nl_link_set_mac(struct nl_sock *s, const char *name, const unsigned char mac[6],
		    struct sk_err *err)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;

	if (nl_check_name(name, err) < 0)
		return -1;
	nlh = nl_setlink(s, name, &ifm);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot set the MAC address of '%s'", name);
	return 0;
}

int nl_link_set_mtu(struct nl_sock *s, const char *name, unsigned mtu, struct sk_err *err)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;

	if (nl_check_name(name, err) < 0)
		return -1;
	nlh = nl_setlink(s, name, &ifm);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot set the MTU of '%s' to %u", name, mtu);
	return 0;
}

int nl_tc_ingress_bpf(struct nl_sock *s, const char *name, int prog_fd, const char *prog_name,
		      struct sk_err *err)
{
	struct tcmsg *tcm;
	struct nlmsghdr *nlh;
	struct nlattr *opts;
	int index;

	if (nl_check_name(name, err) < 0)
		return -1;
	index = nl_link_index(s, name, err);
	if (index < 0)
		return err_wrap(err, "cannot guard '%s'", name);
	/* clsact: the ingress hook for classifiers (no queueing) */
	nlh = nl_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = index;
	tcm->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	tcm->tcm_parent = TC_H_CLSACT;
	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot add a clsact qdisc to '%s'", name);
	/* the program, for every protocol, its return value the verdict */
	nlh = nl_req(s, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = index;
	tcm->tcm_handle = 1;
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	tcm->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, (uint32_t)prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, prog_name);
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opts);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot attach a filter to '%s'", name);
	return 0;
}

int nl_link_set_up(struct nl_sock *s, const char *name, struct sk_err *err)
{
	struct ifinfomsg *ifm;

	if (nl_check_name(name, err) < 0)
		return -1;
	nl_setlink(s, name, &ifm);
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot bring '%s' up", name);
	return 0;
}

int nl_link_rename(struct nl_sock *s, const char *name, const char *new_name, struct sk_err *err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int index;

	if (nl_check_name(new_name, err) < 0)
		return -1;
	/* IFLA_IFNAME carries the new name, so the link goes by its index. */
	index = nl_link_index(s, name, err);
	if (index < 0)
		return err_wrap(err, "cannot rename '%s' to '%s'", name, new_name);
	nlh = nl_req(s, RTM_SETLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, new_name);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot rename '%s' to '%s'", name, new_name);
	return 0;
}

int nl_link_delete(struct nl_sock *s, const char *name, struct sk_err *err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (nl_check_name(name, err) < 0)
		return -1;
	nlh = nl_req(s, RTM_DELLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nl_talk(s, NULL, NULL, err) == 0)
		return 0;
	if (err->errnum == ENODEV) {
		err_clear(err);
		return 0;
	}
	return err_wrap(err, "cannot delete network interface '%s'", name);
}

/* --- addresses and routes ---------------------------------------------- */

static int nl_check_ip(const struct nl_ip *ip, unsigned prefixlen, struct sk_err *err)
{
	if (ip->family != AF_INET)
		return nl_fail(err, EAFNOSUPPORT, "only IPv4 is supported");
	if (prefixlen > 32)
		return nl_fail(err, EINVAL, "invalid IPv4 prefix length %u", prefixlen);
	return 0;
}

int nl_addr_add(struct nl_sock *s, const char *ifname, const struct nl_ip *addr, unsigned prefixlen,
		struct sk_err *err)
{
	char a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int index;

	if (nl_check_ip(addr, prefixlen, err) < 0)
		return err_wrap(err, "cannot add an address to '%s'", ifname);
	nl_ip_str(addr, a, sizeof(a));
	index = nl_link_index(s, ifname, err);
	if (index < 0)
		return err_wrap(err, "cannot add address %s/%u", a, prefixlen);
	nlh = nl_req(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr->v4), &addr->v4);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr->v4), &addr->v4);
	if (prefixlen < 31) {
		/* /31 and /32 have no broadcast address (RFC 3021). */
		uint32_t host = prefixlen ? 0xffffffffu >> prefixlen : 0xffffffffu;
		struct in_addr brd = { .s_addr = addr->v4.s_addr | htonl(host) };

		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
	}
	if (nl_talk(s, NULL, NULL, err) == 0)
		return 0;
	if (err->errnum == EEXIST) {
		err_clear(err);
		return 0;
	}
	return err_wrap(err, "cannot add address %s/%u to '%s'", a, prefixlen, ifname);
}

int nl_route_add_default(struct nl_sock *s, const struct nl_ip *gw, const char *ifname,
			 struct sk_err *err)
{
	char g[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int index;

	if (nl_check_ip(gw, 0, err) < 0)
		return err_wrap(err, "cannot add a default route through '%s'", ifname);
	nl_ip_str(gw, g, sizeof(g));
	index = nl_link_index(s, ifname, err);
	if (index < 0)
		return err_wrap(err, "cannot add the default route via %s", g);
	nlh = nl_req(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT; /* as `ip route add` */
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw->v4), &gw->v4);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	if (nl_talk(s, NULL, NULL, err) < 0)
		return err_wrap(err, "cannot add the default route via %s dev '%s'", g, ifname);
	return 0;
}

static int nl_check_family(int family, struct sk_err *err)
{
	if (family != AF_INET && family != AF_INET6)
		return nl_fail(err, EAFNOSUPPORT, "unsupported address family %d", family);
	return 0;
}

/* The first next hop's interface of an RTA_MULTIPATH (0 when there is none). */
static int nl_multipath_oif(const struct nlattr *a, int *oif)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);

	*oif = 0;
	if (len == 0)
		return 0;
	if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len)
		return -1;
	*oif = nh->rtnh_ifindex;
	return 0;
}

static int nl_route_parse(const struct nlmsghdr *nlh, struct nl_prefix *p, uint32_t *metric)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs t;
	uint32_t v;
	int r;

	if (nl_attrs_parse(nlh, sizeof(*rtm), RTA_MAX, &t) < 0 ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    rtm->rtm_dst_len > nl_ip_len(rtm->rtm_family) * 8)
		return -1;
	memset(p, 0, sizeof(*p));
	p->addr.family = rtm->rtm_family;
	if (nl_attr_ip(t.tb[RTA_DST], rtm->rtm_family, &p->addr) < 0)
		return -1;
	p->prefixlen = rtm->rtm_dst_len;
	p->type = rtm->rtm_type;
	p->table = rtm->rtm_table;
	/* RTA_TABLE holds table ids above 255. */
	if (nl_attr_u32(t.tb[RTA_TABLE], &p->table) < 0)
		return -1;
	r = nl_attr_u32(t.tb[RTA_OIF], &v);
	if (r < 0)
		return -1;
	if (r)
		p->ifindex = (int)v;
	else if (t.tb[RTA_MULTIPATH] && nl_multipath_oif(t.tb[RTA_MULTIPATH], &p->ifindex) < 0)
		return -1;
	*metric = 0;
	return nl_attr_u32(t.tb[RTA_PRIORITY], metric) < 0 ? -1 : 0;
}

struct nl_walk {
	nl_prefix_fn fn;
	void *ctx;
	int family;
};

static int nl_route_entry(const struct nlmsghdr *nlh, void *data, struct sk_err *err)
{
	struct nl_walk *w = data;
	struct nl_prefix p;
	uint32_t metric;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (nl_route_parse(nlh, &p, &metric) < 0)
		return err_set(err, EBADMSG, "malformed route message");
	if (p.addr.family != w->family)
		return 0;
	return w->fn(&p, w->ctx, err);
}

/* A dump request of type for family; table 0 means every table. */
static void nl_dump_req(struct nl_sock *s, uint16_t type, int family, uint8_t table)
{
	struct nlmsghdr *nlh = nl_req(s, type, NLM_F_DUMP);

	if (type == RTM_GETROUTE) {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = (unsigned char)family;
		/* Honoured under NETLINK_GET_STRICT_CHK (the rest is filtered
		 * here as well). */
		rtm->rtm_table = table;
	} else {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = (unsigned char)family;
	}
}

/* A dump of type for family, each entry through entry into fn. */
static int nl_walk_dump(struct nl_sock *s, uint16_t type, int family,
			nl_reply_fn entry, nl_prefix_fn fn,
			void *ctx, const char *what, struct sk_err *err)
{
	struct nl_walk w = { .fn = fn, .ctx = ctx, .family = family };
	int r;

	if (nl_check_family(family, err) < 0)
		return -1;
	nl_dump_req(s, type, family, 0);
	r = nl_talk(s, entry, &w, err);
	if (r < 0)
		return err_wrap(err, "cannot list the %s", what);
	return r;
}

int nl_for_each_route(struct nl_sock *s, int family, nl_prefix_fn fn, void *ctx, struct sk_err *err)
{
	return nl_walk_dump(s, RTM_GETROUTE, family, nl_route_entry, fn, ctx, "routes", err);
}

static int nl_addr_entry(const struct nlmsghdr *nlh, void *data, struct sk_err *err)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nl_walk *w = data;
	struct nl_prefix p = { 0 };
	struct nl_attrs t;
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (nl_attrs_parse(nlh, sizeof(*ifa), IFA_MAX, &t) < 0)
		return err_set(err, EBADMSG, "malformed address message");
	if (ifa->ifa_family != w->family)
		return 0;
	if (ifa->ifa_prefixlen > nl_ip_len(ifa->ifa_family) * 8)
		return err_set(err, EBADMSG, "malformed address message");
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on
	 * point-to-point links (and the same otherwise). */
	r = nl_attr_ip(t.tb[IFA_LOCAL], ifa->ifa_family, &p.addr);
	if (r == 0)
		r = nl_attr_ip(t.tb[IFA_ADDRESS], ifa->ifa_family, &p.addr);
	if (r < 0)
		return err_set(err, EBADMSG, "malformed address message");
	if (r == 0)
		return 0;
	p.prefixlen = ifa->ifa_prefixlen;
	p.ifindex = (int)ifa->ifa_index;
	return w->fn(&p, w->ctx, err);
}

int nl_for_each_addr(struct nl_sock *s, int family, nl_prefix_fn fn, void *ctx, struct sk_err *err)
{
	return nl_walk_dump(s, RTM_GETADDR, family, nl_addr_entry, fn, ctx, "addresses", err);
}

struct nl_best_default {
	int ifindex;
	uint32_t metric;
};

static int nl_default_entry(const struct nlmsghdr *nlh, void *data, struct sk_err *err)
{
	struct nl_best_default *best = data;
	struct nl_prefix p;
	uint32_t metric;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (nl_route_parse(nlh, &p, &metric) < 0)
		return err_set(err, EBADMSG, "malformed route message");
	if (p.table != RT_TABLE_MAIN || p.prefixlen != 0 || p.type != RTN_UNICAST || p.ifindex <= 0)
		return 0;
	if (best->ifindex == 0 || metric < best->metric) {
		best->ifindex = p.ifindex;
		best->metric = metric;
	}
	return 0;
}

int nl_default_route(struct nl_sock *s, int family, struct nl_link *uplink, struct sk_err *err)
{
	struct nl_best_default best = { 0 };

	if (nl_check_family(family, err) < 0)
		return -1;
	/* The tables change under a dump only rarely: one more try is enough. */
	for (int attempt = 0;; attempt++) {
		nl_dump_req(s, RTM_GETROUTE, family, RT_TABLE_MAIN);
		if (nl_talk(s, nl_default_entry, &best, err) == 0)
			break;
		/* A namespace with no route at all has no main table yet, and
		 * a dump of a table that does not exist is refused. */
		if (err->errnum == ENOENT && best.ifindex == 0) {
			err_clear(err);
			return 0;
		}
		if (err->errnum != EAGAIN || attempt == 1)
			return err_wrap(err, "cannot find the default route");
		best.ifindex = 0;
	}
	if (best.ifindex == 0)
		return 0;
	if (nl_link_get_by_index(s, best.ifindex, uplink, err) < 0)
		return err_wrap(err, "cannot find the default route's interface");
	return 1;
}

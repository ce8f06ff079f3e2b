/*
 * A user network's resolver (resolver.h).
 */
#include "net/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/bridge.h"
#include "net/dns.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proctitle.h"

#define DNS_PORT 53
#define MAX_UPSTREAMS 3
#define MAX_SEARCH 6
#define MAX_PENDING 128
#define MAX_TCP 32
#define FORWARD_TIMEOUT_MS 5000
#define TCP_TIMEOUT_MS 5000
#define IDLE_CHECK_MS 10000
#define NAME_TTL 600 /* docker's */

/* --- the process ------------------------------------------------------------ */

struct pending {
	int fd;		/* connected UDP socket to the upstream, -1: free */
	uint16_t id;	/* the id sent upstream */
	uint16_t client_id;
	struct sockaddr_in client;
	int tcp;	/* the client's TCP connection, or -1: UDP */
	int64_t deadline;
};

struct tcp_conn {
	int fd; /* -1: free */
	uint8_t buf[2 + DNS_MSG_MAX];
	size_t have;
	int64_t deadline;
	bool waiting; /* a forward is out for it */
};

struct resolver {
	struct net_def def;
	int run_dir, udp, tcp;
	char leases[IFNAMSIZ + 16];
	struct sockaddr_in upstream[MAX_UPSTREAMS];
	size_t n_upstream;
	char search[MAX_SEARCH][DNS_NAME_MAX + 1];
	size_t n_search;
	struct pending pending[MAX_PENDING];
	struct tcp_conn tcp_conns[MAX_TCP];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The host's resolv.conf: the upstream servers (the host's own 127.0.0.53
 * too: the resolver is in the host's namespace) and search domains. */
static void read_host_resolv_conf(struct resolver *r)
{
	struct sk_err err = { 0 };
	cleanup_buf struct buf b = BUF_INIT(1 << 16);

	if (fs_read_file(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &b, &err) < 0 ||
	    buf_append(&b, "", 0) < 0)
		return;
	for (char *line = b.data, *next; line && *line; line = next) {
		char word[16], v[DNS_NAME_MAX + 1];
		int off = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%15s%n", word, &off) != 1)
			continue;
		if (!strcmp(word, "nameserver") && r->n_upstream < MAX_UPSTREAMS &&
		    sscanf(line + off, "%255s", v) == 1) {
			struct sockaddr_in *a = &r->upstream[r->n_upstream];

			a->sin_family = AF_INET;
			a->sin_port = htons(DNS_PORT);
			if (inet_pton(AF_INET, v, &a->sin_addr) == 1)
				r->n_upstream++;
		} else if (!strcmp(word, "search") || !strcmp(word, "domain")) {
			char *save = NULL;

			r->n_search = 0;
			for (char *d = strtok_r(line + off, " \t", &save); d && r->n_search < MAX_SEARCH;
			     d = strtok_r(NULL, " \t", &save))
				if (strlen(d) <= DNS_NAME_MAX)
					snprintf(r->search[r->n_search++], DNS_NAME_MAX + 1, "%s", d);
		}
	}
}

struct lookup {
	const char *name; /* the query's name, lower case */
	uint32_t by_ip;	  /* PTR / the client: the lease of this address */
	uint32_t addrs[16];
	size_t n;
	char ptr[DNS_NAME_MAX + 1];
	char dns[256]; /* the client's own upstream servers */
};

/* Does name equal label, or label + "." + one of the search domains? */
static bool name_matches(const struct resolver *r, const char *name, const char *label, size_t n)
{
	if (strlen(name) == n && strncasecmp(name, label, n) == 0)
		return true;
	if (strncasecmp(name, label, n) != 0 || name[n] != '.')
		return false;
	for (size_t i = 0; i < r->n_search; i++)
		if (!strcasecmp(name + n + 1, r->search[i]))
			return true;
	return false;
}

static const struct resolver *lookup_resolver;

static int lookup_lease(const struct ipam_lease_entry *e, void *ctx)
{
	struct lookup *l = ctx;
	const char *names = e->names, *semi = strchr(names, ';');
	const char *end = semi ? semi : names + strlen(names);

	if (l->by_ip && e->ip == l->by_ip) {
		const char *comma = memchr(names, ',', (size_t)(end - names));
		size_t n = comma ? (size_t)(comma - names) : (size_t)(end - names);

		snprintf(l->ptr, sizeof(l->ptr), "%.*s", (int)n, names);
		if (semi)
			snprintf(l->dns, sizeof(l->dns), "%s", semi + 1);
	}
	if (!l->name)
		return 0;
	for (const char *p = names; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (n && name_matches(lookup_resolver, l->name, p, n) &&
		    l->n < sizeof(l->addrs) / sizeof(l->addrs[0])) {
			l->addrs[l->n++] = e->ip;
			break;
		}
		p += n + 1;
	}
	return 0;
}

static void do_lookup(const struct resolver *r, struct lookup *l)
{
	struct sk_err err = { 0 };

	lookup_resolver = r;
	if (ipam_for_each_lease(r->run_dir, r->leases, lookup_lease, l, &err) < 0)
		log_debug("resolver: %s", err.msg);
}

static void send_udp(int fd, const struct sockaddr_in *to, const uint8_t *msg, size_t len)
{
	sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to, sizeof(*to));
}

static void send_tcp(int fd, const uint8_t *msg, size_t len)
{
	uint8_t out[2 + DNS_MSG_MAX];

	if (len > DNS_MSG_MAX)
		return;
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, msg, len);
	(void)!send(fd, out, len + 2, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void reply(struct resolver *r, const struct sockaddr_in *client, int tcp,
		  const uint8_t *msg, size_t len)
{
	if (tcp >= 0)
		send_tcp(tcp, msg, len);
	else
		send_udp(r->udp, client, msg, len);
}

static void tcp_close(struct tcp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
	c->waiting = false;
}

static struct tcp_conn *tcp_of(struct resolver *r, int fd)
{
	for (int i = 0; i < MAX_TCP; i++)
		if (r->tcp_conns[i].fd == fd)
			return &r->tcp_conns[i];
	return NULL;
}

/* Forward msg upstream from a socket of its own (a fresh source port and id
 * for every query: an off-path forger has both to guess). */
static void forward(struct resolver *r, const struct dns_query *q, const uint8_t *msg, size_t len,
		    const struct sockaddr_in *client, int tcp, const char *own_dns)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT) };
	uint8_t copy[DNS_MSG_MAX];
	struct pending *p = NULL;
	bool have = false;

	if (own_dns && *own_dns) {
		char first[64];

		snprintf(first, sizeof(first), "%.*s", (int)strcspn(own_dns, ","), own_dns);
		have = inet_pton(AF_INET, first, &to.sin_addr) == 1;
	}
	if (!have && r->n_upstream) {
		to = r->upstream[0];
		have = true;
	}
	for (int i = 0; i < MAX_PENDING && !p; i++)
		if (r->pending[i].fd < 0)
			p = &r->pending[i];
	if (!have || !p || len > sizeof(copy)) {
		uint8_t out[DNS_UDP_MAX];
		size_t n = dns_build_reply(msg, q, DNS_RCODE_SERVFAIL, NULL, 0, NULL, 0, out,
					   sizeof(out));

		if (n)
			reply(r, client, tcp, out, n);
		return;
	}
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p->fd < 0)
		return;
	if (connect(p->fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getrandom(&p->id, sizeof(p->id), 0) != sizeof(p->id)) {
		close(p->fd);
		p->fd = -1;
		return;
	}
	memcpy(copy, msg, len);
	copy[0] = (uint8_t)(p->id >> 8);
	copy[1] = (uint8_t)p->id;
	p->client_id = q->id;
	p->client = *client;
	p->tcp = tcp;
	p->deadline = now_ms() + FORWARD_TIMEOUT_MS;
	if (send(p->fd, copy, len, MSG_NOSIGNAL) < 0) {
		close(p->fd);
		p->fd = -1;
	}
}

static void answer(struct resolver *r, const uint8_t *msg, size_t len,
		   const struct sockaddr_in *client, int tcp)
{
	uint32_t src = ntohl(client->sin_addr.s_addr), ip;
	uint32_t mask = 0xffffffffu << (32 - r->def.net.prefix);
	struct lookup l = { 0 };
	struct dns_query q;
	uint8_t out[DNS_MSG_MAX];
	size_t n = 0;

	/* only the network's own containers get an answer */
	if ((src & mask) != r->def.net.subnet || dns_parse_query(msg, len, &q) < 0)
		return;
	l.by_ip = src;
	if (q.qclass == DNS_CLASS_IN && q.qtype == DNS_TYPE_PTR && dns_ptr_to_ip(q.name, &ip) &&
	    (ip & mask) == r->def.net.subnet) {
		struct lookup ptr = { .by_ip = ip };

		do_lookup(r, &ptr);
		if (*ptr.ptr && dns_name_ok(ptr.ptr))
			n = dns_build_reply(msg, &q, DNS_RCODE_OK, NULL, 0, ptr.ptr, NAME_TTL, out,
					    sizeof(out));
		else
			n = dns_build_reply(msg, &q, DNS_RCODE_NXDOMAIN, NULL, 0, NULL, 0, out,
					    sizeof(out));
		if (n)
			reply(r, client, tcp, out, n);
		return;
	}
	l.name = q.name;
	do_lookup(r, &l);
	if (l.n && q.qclass == DNS_CLASS_IN) {
		/* A: the addresses; any other type of a name skiff owns: NODATA,
		 * so that nobody asks the world about it */
		bool a = q.qtype == DNS_TYPE_A;

		n = dns_build_reply(msg, &q, DNS_RCODE_OK, l.addrs, a ? l.n : 0, NULL, NAME_TTL, out,
				    tcp >= 0 ? sizeof(out) : DNS_UDP_MAX);
		if (n)
			reply(r, client, tcp, out, n);
		return;
	}
	if (r->def.internal) {
		n = dns_build_reply(msg, &q, DNS_RCODE_REFUSED, NULL, 0, NULL, 0, out, sizeof(out));
		if (n)
			reply(r, client, tcp, out, n);
		return;
	}
	forward(r, &q, msg, len, client, tcp, l.dns);
}

static void upstream_reply(struct resolver *r, struct pending *p)
{
	uint8_t msg[DNS_MSG_MAX];
	ssize_t n = recv(p->fd, msg, sizeof(msg), MSG_DONTWAIT);

	if (n < DNS_HEADER_LEN || ((msg[0] << 8) | msg[1]) != p->id)
		return; /* not the answer: keep waiting for it */
	msg[0] = (uint8_t)(p->client_id >> 8);
	msg[1] = (uint8_t)p->client_id;
	reply(r, &p->client, p->tcp, msg, (size_t)n);
	if (p->tcp >= 0) {
		struct tcp_conn *c = tcp_of(r, p->tcp);

		if (c)
			tcp_close(c);
	}
	close(p->fd);
	p->fd = -1;
}

static void tcp_read(struct resolver *r, struct tcp_conn *c)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	ssize_t n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_DONTWAIT);
	size_t want;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			tcp_close(c);
		return;
	}
	c->have += (size_t)n;
	if (c->have < 2)
		return;
	want = (size_t)c->buf[0] << 8 | c->buf[1];
	if (want > DNS_MSG_MAX) {
		tcp_close(c);
		return;
	}
	if (c->have < 2 + want || c->waiting)
		return;
	if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) < 0) {
		tcp_close(c);
		return;
	}
	c->waiting = true;
	answer(r, c->buf + 2, want, &peer, c->fd);
	/* answered at once (not forwarded): done with this connection */
	for (int i = 0; i < MAX_PENDING; i++)
		if (r->pending[i].fd >= 0 && r->pending[i].tcp == c->fd)
			return;
	tcp_close(c);
}

/* No lease left: exit, holding the lease file's lock until gone, so that a
 * container that leases meanwhile finds the resolver's lock free and starts
 * another (resolver_ensure runs after the lease). */
static bool idle_exit(struct resolver *r, int lock_fd)
{
	int fd = openat(r->run_dir, r->leases, O_RDONLY | O_CLOEXEC);
	char c;

	if (fd < 0)
		_exit(0);
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return false;
	}
	if (pread(fd, &c, 1, 0) == 1) {
		close(fd);
		return false;
	}
	close(r->udp);
	close(r->tcp);
	close(lock_fd);
	_exit(0);
}

/* Give up every capability: the sockets are bound, the lease files are
 * root's (readable by uid 0 without one). */
static void drop_privileges(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	for (int cap = 0; cap <= 63; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	syscall(SYS_capset, &h, d);
}

static void serve(struct resolver *r, int lock_fd)
{
	struct pollfd pfd[2 + MAX_TCP + MAX_PENDING];
	int64_t next_idle = now_ms() + IDLE_CHECK_MS;

	for (int i = 0; i < MAX_PENDING; i++)
		r->pending[i].fd = -1;
	for (int i = 0; i < MAX_TCP; i++)
		r->tcp_conns[i].fd = -1;
	for (;;) {
		nfds_t n = 0;
		int64_t now = now_ms();

		pfd[n++] = (struct pollfd){ .fd = r->udp, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = r->tcp, .events = POLLIN };
		for (int i = 0; i < MAX_TCP; i++)
			if (r->tcp_conns[i].fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = r->tcp_conns[i].fd, .events = POLLIN };
		for (int i = 0; i < MAX_PENDING; i++)
			if (r->pending[i].fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = r->pending[i].fd, .events = POLLIN };
		if (poll(pfd, n, 1000) < 0 && errno != EINTR)
			_exit(1);
		now = now_ms();
		for (nfds_t i = 0; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pfd[i].fd == r->udp) {
				uint8_t msg[DNS_MSG_MAX];
				struct sockaddr_in from;
				socklen_t flen = sizeof(from);
				ssize_t got = recvfrom(r->udp, msg, sizeof(msg), MSG_DONTWAIT,
						       (struct sockaddr *)&from, &flen);

				if (got > 0 && flen == sizeof(from))
					answer(r, msg, (size_t)got, &from, -1);
			} else if (pfd[i].fd == r->tcp) {
				int fd = accept4(r->tcp, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				struct tcp_conn *c = fd >= 0 ? tcp_of(r, -1) : NULL;

				if (fd >= 0 && !c)
					close(fd); /* full: the client retries */
				if (c) {
					c->fd = fd;
					c->have = 0;
					c->waiting = false;
					c->deadline = now + TCP_TIMEOUT_MS;
				}
			} else {
				struct tcp_conn *c = tcp_of(r, pfd[i].fd);

				if (c) {
					tcp_read(r, c);
					continue;
				}
				for (int k = 0; k < MAX_PENDING; k++)
					if (r->pending[k].fd == pfd[i].fd)
						upstream_reply(r, &r->pending[k]);
			}
		}
		for (int i = 0; i < MAX_PENDING; i++)
			if (r->pending[i].fd >= 0 && now > r->pending[i].deadline) {
				close(r->pending[i].fd);
				r->pending[i].fd = -1;
			}
		for (int i = 0; i < MAX_TCP; i++)
			if (r->tcp_conns[i].fd >= 0 && now > r->tcp_conns[i].deadline)
				tcp_close(&r->tcp_conns[i]);
		if (now >= next_idle) {
			idle_exit(r, lock_fd);
			next_idle = now + IDLE_CHECK_MS;
		}
	}
}

/* --- starting and stopping ---------------------------------------------------- */

static void dns_lock_name(const struct net_def *def, char *out, size_t len)
{
	snprintf(out, len, "%s.dns", def->bridge);
}

static int bind_socket(int type, uint32_t gateway, struct sk_err *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(DNS_PORT),
				 .sin_addr.s_addr = htonl(gateway) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;

	if (fd < 0)
		return err_set(err, errno, "cannot open a socket");
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		err_set(err, errno, "cannot listen on port %d of the gateway", DNS_PORT);
		close(fd);
		return -1;
	}
	return fd;
}

int resolver_ensure(const struct net_def *def, int run_dir, struct sk_err *err)
{
	char lock_name[IFNAMSIZ + 8], pid_text[24], title[NETWORK_NAME_MAX + 16];
	cleanup_close int lock = -1;
	cleanup_close int udp = -1;
	cleanup_close int tcp = -1;
	pid_t pid;
	int status;

	dns_lock_name(def, lock_name, sizeof(lock_name));
	lock = openat(run_dir, lock_name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0)
		return err_set(err, errno, "cannot open '%s'", lock_name);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0 : err_set(err, errno, "cannot lock '%s'", lock_name);
	udp = bind_socket(SOCK_DGRAM, def->net.gateway, err);
	tcp = udp < 0 ? -1 : bind_socket(SOCK_STREAM, def->net.gateway, err);
	if (udp < 0 || tcp < 0) {
		log_warn("network %s: container names will not resolve: %s", def->name, err->msg);
		err_clear(err);
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return err_set(err, errno, "cannot start the resolver");
	if (pid == 0) {
		/* a grandchild: nobody has to reap it, and it leaves the caller's
		 * session (a terminal's hangup is not its end) */
		sigset_t none;
		int devnull;
		static struct resolver r;

		if (fork() != 0)
			_exit(0);
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (int fd = 0; fd < 3 && devnull >= 0; fd++)
			dup3(devnull, fd, 0);
		r.def = *def;
		r.run_dir = fcntl(run_dir, F_DUPFD_CLOEXEC, 3);
		r.udp = udp;
		r.tcp = tcp;
		network_leases_name(def, r.leases, sizeof(r.leases));
		snprintf(pid_text, sizeof(pid_text), "%d\n", (int)getpid());
		(void)!pwrite(lock, pid_text, strlen(pid_text), 0);
		(void)!ftruncate(lock, (off_t)strlen(pid_text));
		/* keep the sockets, the lock, the run dir; nothing else of the
		 * caller (a container's descriptors among them) */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != udp && fd != tcp && fd != lock && fd != r.run_dir)
				close(fd);
		close_range(1024, ~0U, 0);
		snprintf(title, sizeof(title), "skiff-dns %s", def->name);
		proctitle_set(title);
		read_host_resolv_conf(&r);
		drop_privileges();
		serve(&r, lock);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

void resolver_stop(const struct net_def *def)
{
	char lock_name[IFNAMSIZ + 8], text[24] = "";
	cleanup_close int dir = open(BRIDGE_RUN_DIR "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int lock = -1;
	long pid;

	if (dir < 0)
		return;
	dns_lock_name(def, lock_name, sizeof(lock_name));
	lock = openat(dir, lock_name, O_RDWR | O_CLOEXEC);
	if (lock < 0)
		return;
	/* a lock we get is one nobody holds: no resolver */
	if (flock(lock, LOCK_EX | LOCK_NB) == 0) {
		unlinkat(dir, lock_name, 0);
		return;
	}
	if (pread(lock, text, sizeof(text) - 1, 0) > 0 && (pid = strtol(text, NULL, 10)) > 1) {
		kill((pid_t)pid, SIGTERM);
		for (int i = 0; i < 100 && flock(lock, LOCK_EX | LOCK_NB) < 0; i++)
			usleep(10000);
	}
	unlinkat(dir, lock_name, 0);
}

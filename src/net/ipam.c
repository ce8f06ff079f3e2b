/*
 * Subnets and leases (ipam.h). The lease file is a small text file, one
 * "a.b.c.d ID" line per lease, rewritten in place under an flock of the file
 * itself: it is read whole, changed in memory and written back with one
 * pwrite + ftruncate. Readers take the lock too, so nobody sees it half
 * written; a crash between the two leaves at worst stale lines, which the
 * alive() check drops.
 */
#include "net/ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define LEASE_FILE_MAX (1 << 20)
#define LEASE_ID_MAX 4200 /* a container id, '@' and its store's path */

int ipam_parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

void ipam_format_ip(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int ipam_parse_cidr(const char *s, uint32_t *ip, int *prefix, struct sk_err *err)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	char *end;
	long p;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return err_set(err, 0, "invalid CIDR address '%s' (expected a.b.c.d/N)", s);
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - s), s);
	p = strtol(slash + 1, &end, 10);
	if (ipam_parse_ip(addr, ip) < 0 || *end || end == slash + 1 || p < 8 || p > 30)
		return err_set(err, 0, "invalid CIDR address '%s' (expected a.b.c.d/N, N 8-30)", s);
	*prefix = (int)p;
	return 0;
}

static uint32_t mask_of(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

bool ipam_overlaps(uint32_t a, int a_prefix, uint32_t b, int b_prefix)
{
	uint32_t m = mask_of(a_prefix < b_prefix ? a_prefix : b_prefix);

	return (a & m) == (b & m);
}

static bool clashes(const struct ipam_route *routes, size_t n, uint32_t net, int prefix)
{
	for (size_t i = 0; i < n; i++)
		if (routes[i].prefix > 0 && ipam_overlaps(net, prefix, routes[i].dst, routes[i].prefix))
			return true;
	return false;
}

static void set_net(struct ipam_net *out, uint32_t net, int prefix)
{
	out->subnet = net & mask_of(prefix);
	out->prefix = prefix;
	out->gateway = out->subnet + 1;
}

const struct ipam_pool ipam_default_pools[] = {
	{ 172u << 24 | 17u << 16, 16, 16 }, { 172u << 24 | 18u << 16, 15, 16 },
	{ 172u << 24 | 20u << 16, 14, 16 }, { 172u << 24 | 24u << 16, 13, 16 },
	{ 192u << 24 | 168u << 16, 16, 24 },
};
const size_t ipam_n_default_pools = sizeof(ipam_default_pools) / sizeof(ipam_default_pools[0]);

int ipam_parse_pool(const char *base, int size, struct ipam_pool *out, struct sk_err *err)
{
	uint32_t ip;
	int prefix;

	if (ipam_parse_cidr(base, &ip, &prefix, err) < 0)
		return -1;
	if (size < prefix || size < 8 || size > 30)
		return err_set(err, 0, "invalid address pool '%s' with size %d (the size must be "
				       "between the base's prefix and 30)", base, size);
	out->base = ip & mask_of(prefix);
	out->base_prefix = prefix;
	out->size = size;
	return 0;
}

int ipam_pick_from_pools(const struct ipam_route *routes, size_t n, const struct ipam_pool *pools,
			 size_t n_pools, struct ipam_net *out, struct sk_err *err)
{
	if (!pools || !n_pools) {
		pools = ipam_default_pools;
		n_pools = ipam_n_default_pools;
	}
	for (size_t i = 0; i < n_pools; i++) {
		uint64_t step = 1ull << (32 - pools[i].size);
		uint64_t end = (uint64_t)pools[i].base + (1ull << (32 - pools[i].base_prefix));

		for (uint64_t net = pools[i].base; net < end; net += step)
			if (!clashes(routes, n, (uint32_t)net, pools[i].size)) {
				set_net(out, (uint32_t)net, pools[i].size);
				return 0;
			}
	}
	return err_set(err, 0, "no free subnet: every subnet of the address pools overlaps a "
			       "route of the host or another network");
}

int ipam_pick_subnet(const struct ipam_route *routes, size_t n, const char *bip,
		     const struct ipam_pool *pools, size_t n_pools, struct ipam_net *out,
		     struct sk_err *err)
{
	if (bip && *bip) {
		uint32_t ip;
		int prefix;

		if (ipam_parse_cidr(bip, &ip, &prefix, err) < 0)
			return -1;
		if (clashes(routes, n, ip, prefix))
			return err_set(err, 0, "bip %s overlaps a route of the host", bip);
		set_net(out, ip, prefix);
		out->gateway = ip; /* docker: bip names the bridge's own address */
		return 0;
	}
	return ipam_pick_from_pools(routes, n, pools, n_pools, out, err);
}

/* --- leases ---------------------------------------------------------------- */

#define LEASE_NAMES_MAX 2048

struct lease {
	uint32_t ip;
	char names[LEASE_NAMES_MAX];
	char id[LEASE_ID_MAX];
};

struct leases {
	struct lease *v; /* each ~4 kB: few leases per network in practice */
	size_t n, cap;
};

static int leases_add(struct leases *l, uint32_t ip, const char *names, const char *id,
		      struct sk_err *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct lease *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return err_set(err, ENOMEM, "cannot record a lease");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].ip = ip;
	snprintf(l->v[l->n].names, sizeof(l->v[l->n].names), "%s", names ? names : "");
	snprintf(l->v[l->n].id, sizeof(l->v[l->n].id), "%s", id);
	l->n++;
	return 0;
}

/* Lines that do not parse are dropped: the file is ours, and a torn one
 * only loses leases that alive() would keep anyway on the next lease.
 * "a.b.c.d HOLDER" or "a.b.c.d =NAMES HOLDER": the holder is the rest of the
 * line (a store's path may hold spaces), names hold none. */
static int leases_parse(const char *text, struct leases *l, struct sk_err *err)
{
	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *sp = memchr(line, ' ', (size_t)(eol - line));
		const char *names = NULL, *holder = sp ? sp + 1 : NULL;
		char ipbuf[32], id[LEASE_ID_MAX], nm[LEASE_NAMES_MAX] = "";
		uint32_t ip;

		if (holder && *holder == '=') {
			names = holder + 1;
			holder = memchr(names, ' ', (size_t)(eol - names));
			if (holder && holder - names < (long)sizeof(nm))
				snprintf(nm, sizeof(nm), "%.*s", (int)(holder - names), names);
			else
				holder = NULL;
			if (holder)
				holder++;
		}
		if (holder && sp - line < (long)sizeof(ipbuf) && eol - holder > 0 &&
		    eol - holder < (long)sizeof(id)) {
			snprintf(ipbuf, sizeof(ipbuf), "%.*s", (int)(sp - line), line);
			snprintf(id, sizeof(id), "%.*s", (int)(eol - holder), holder);
			if (ipam_parse_ip(ipbuf, &ip) == 0 && leases_add(l, ip, nm, id, err) < 0)
				return -1;
		}
		line = *eol ? eol + 1 : eol;
	}
	return 0;
}

static int leases_write(int fd, const struct leases *l, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(LEASE_FILE_MAX);

	for (size_t i = 0; i < l->n; i++) {
		char ip[16], line[LEASE_NAMES_MAX + LEASE_ID_MAX + 24];
		int n;

		ipam_format_ip(l->v[i].ip, ip);
		n = snprintf(line, sizeof(line), "%s %s%s%s%s\n", ip, *l->v[i].names ? "=" : "",
			     l->v[i].names, *l->v[i].names ? " " : "", l->v[i].id);
		if (buf_append(&b, line, (size_t)n) < 0)
			return err_set(err, E2BIG, "too many leases");
	}
	if (pwrite(fd, b.data ? b.data : "", b.len, 0) != (ssize_t)b.len ||
	    ftruncate(fd, (off_t)b.len) < 0)
		return err_set(err, errno, "cannot write the leases");
	return 0;
}

/* The lease file, open and locked, and its leases. */
static int leases_open(int dirfd, const char *name, int lock, struct leases *l,
		       struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(LEASE_FILE_MAX);
	int fd = lock == LOCK_EX ? openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600)
				 : openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char chunk[4096];
	ssize_t n;

	if (fd < 0)
		return err_set(err, errno, "cannot open the leases '%s'", name);
	while (flock(fd, lock) < 0)
		if (errno != EINTR) {
			close(fd);
			return err_set(err, errno, "cannot lock the leases '%s'", name);
		}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(&b, chunk, (size_t)n) < 0) {
			close(fd);
			return err_set(err, n < 0 ? errno : E2BIG, "cannot read the leases '%s'", name);
		}
	}
	if (buf_append(&b, "", 0) < 0 || leases_parse(b.data, l, err) < 0) {
		close(fd);
		return err_set(err, ENOMEM, "cannot read the leases '%s'", name);
	}
	return fd;
}

static bool taken(const struct leases *l, uint32_t ip)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ip == ip)
			return true;
	return false;
}

/* Drop leases outside net and those whose holder is gone. */
static void leases_prune(struct leases *l, const struct ipam_net *net, ipam_alive_fn alive,
			 void *ctx)
{
	size_t kept = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (!ipam_overlaps(l->v[i].ip, 32, net->subnet, net->prefix))
			continue;
		if (alive && !alive(l->v[i].id, ctx))
			continue;
		l->v[kept++] = l->v[i];
	}
	l->n = kept;
}

static bool names_ok(const char *names)
{
	for (const char *p = names; p && *p; p++)
		if (*p == ' ' || *p == '\n' || *p == '=' || (unsigned char)*p < 0x21 ||
		    (unsigned char)*p > 0x7e)
			return false;
	return !names || strlen(names) < LEASE_NAMES_MAX;
}

int ipam_lease(int dirfd, const char *name, const struct ipam_net *net, const char *id,
	       const struct ipam_request *req, ipam_alive_fn alive, void *ctx, uint32_t *ip,
	       struct sk_err *err)
{
	struct leases l = { 0 };
	cleanup_close int fd = leases_open(dirfd, name, LOCK_EX, &l, err);
	uint32_t first = net->subnet + 1, last = (net->subnet | ~mask_of(net->prefix)) - 1;
	const char *names = req && req->names ? req->names : "";
	char want[16];
	int ret = -1;

	if (fd < 0)
		goto out;
	if (!*id || strlen(id) >= LEASE_ID_MAX || strchr(id, '\n') || !names_ok(names)) {
		err_set(err, EINVAL, "invalid lease holder '%s'", id);
		goto out;
	}
	if (req && req->first && req->last) {
		first = req->first > first ? req->first : first;
		last = req->last < last ? req->last : last;
	}
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].id, id)) {
			*ip = l.v[i].ip;
			ret = 0;
			goto out;
		}
	leases_prune(&l, net, alive, ctx);
	if (req && req->ip) {
		ipam_format_ip(req->ip, want);
		if (!ipam_overlaps(req->ip, 32, net->subnet, net->prefix) || req->ip == net->gateway ||
		    req->ip == net->subnet || req->ip == (net->subnet | ~mask_of(net->prefix))) {
			err_set(err, 0, "invalid address %s: it is not a host address of the "
					"network's subnet, or it is the gateway's", want);
			goto out;
		}
		if (taken(&l, req->ip)) {
			err_set(err, EADDRINUSE, "address %s is already in use", want);
			goto out;
		}
		first = last = req->ip;
	}
	for (uint32_t a = first; a <= last && a >= first; a++) {
		if (a == net->gateway || taken(&l, a))
			continue;
		if (leases_add(&l, a, names, id, err) < 0 || leases_write(fd, &l, err) < 0)
			goto out;
		*ip = a;
		ret = 0;
		goto out;
	}
	err_set(err, 0, "no free address in the network's subnet (%d leases)", (int)l.n);
out:
	free(l.v);
	return ret;
}

int ipam_for_each_lease(int dirfd, const char *name, ipam_lease_fn fn, void *ctx,
			struct sk_err *err)
{
	struct leases l = { 0 };
	cleanup_close int fd = leases_open(dirfd, name, LOCK_SH, &l, err);
	int ret = 0;

	if (fd < 0) {
		free(l.v);
		if (err->errnum != ENOENT)
			return -1;
		err_clear(err);
		return 0;
	}
	for (size_t i = 0; i < l.n && ret == 0; i++) {
		struct ipam_lease_entry e = { l.v[i].ip, l.v[i].names, l.v[i].id };

		ret = fn(&e, ctx);
	}
	free(l.v);
	return ret;
}

int ipam_release(int dirfd, const char *name, const char *id, struct sk_err *err)
{
	struct leases l = { 0 };
	cleanup_close int fd = leases_open(dirfd, name, LOCK_EX, &l, err);
	size_t kept = 0;
	int ret = 0;

	if (fd < 0) {
		free(l.v);
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].id, id) != 0)
			l.v[kept++] = l.v[i];
	if (kept != l.n) {
		l.n = kept;
		ret = leases_write(fd, &l, err);
	}
	free(l.v);
	return ret;
}

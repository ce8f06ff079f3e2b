/*
 * -p values (ports.h). Errors are docker's wording where scripts may match
 * on it ("invalid containerPort", "invalid hostPort", "invalid proto").
 */
#include "net/ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"
#include "util/cleanup.h"
#include <sys/socket.h>

#define PORTS_MAX_RANGE 65536

/* "N" or "N-M" (1..65535; 0 only where allowed); *lo == *hi for one port. */
static int parse_range(const char *s, size_t len, int *lo, int *hi)
{
	char buf[16], *end;
	const char *dash;
	long a, b;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	dash = strchr(buf, '-');
	a = strtol(buf, &end, 10);
	if (end == buf || (dash ? end != dash : *end))
		return -1;
	b = a;
	if (dash) {
		b = strtol(dash + 1, &end, 10);
		if (end == dash + 1 || *end)
			return -1;
	}
	if (a < 1 || b > 65535 || b < a)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

const char *ports_proto_name(enum port_proto p)
{
	return p == PORT_UDP ? "udp" : "tcp";
}

static int push(struct port_map **maps, size_t *n, const struct port_map *m, struct sk_err *err)
{
	struct port_map *v = realloc(*maps, (*n + 1) * sizeof(*v));

	if (!v)
		return err_set(err, ENOMEM, "cannot record a published port");
	v[*n] = *m;
	*maps = v;
	(*n)++;
	return 0;
}

/* Split at the last two ':' (an IPv6 address in brackets is not taken yet). */
static int split(const char *spec, const char **ip, size_t *ip_len, const char **host,
		 size_t *host_len, const char **ctr, size_t *ctr_len)
{
	const char *c2 = strrchr(spec, ':'), *c1 = NULL;

	*ip = *host = NULL;
	*ip_len = *host_len = 0;
	if (!c2) {
		*ctr = spec;
		*ctr_len = strlen(spec);
		return 0;
	}
	for (const char *p = spec; p < c2; p++)
		if (*p == ':')
			c1 = p;
	*ctr = c2 + 1;
	*ctr_len = strlen(c2 + 1);
	if (c1) {
		*ip = spec;
		*ip_len = (size_t)(c1 - spec);
		*host = c1 + 1;
		*host_len = (size_t)(c2 - c1 - 1);
	} else {
		*host = spec;
		*host_len = (size_t)(c2 - spec);
	}
	return 0;
}

int ports_parse(const char *spec, struct port_map **maps, size_t *n, struct sk_err *err)
{
	const char *ip, *host, *ctr, *slash;
	size_t ip_len, host_len, ctr_len;
	struct port_map m = { 0 };
	int clo, chi, hlo = 0, hhi = 0;

	for (const char *p = spec; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, 0, "invalid port specification: it contains control "
					       "characters");
	split(spec, &ip, &ip_len, &host, &host_len, &ctr, &ctr_len);
	slash = memchr(ctr, '/', ctr_len);
	if (slash) {
		const char *proto = slash + 1;

		if (!strcmp(proto, "tcp"))
			m.proto = PORT_TCP;
		else if (!strcmp(proto, "udp"))
			m.proto = PORT_UDP;
		else
			return err_set(err, 0, "invalid proto: %s", proto);
		ctr_len = (size_t)(slash - ctr);
	}
	if (parse_range(ctr, ctr_len, &clo, &chi) < 0)
		return err_set(err, 0, "invalid containerPort: %.*s", (int)ctr_len, ctr);
	if (host_len > 0 && parse_range(host, host_len, &hlo, &hhi) < 0)
		return err_set(err, 0, "invalid hostPort: %.*s", (int)host_len, host);
	if (ip_len > 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%.*s", (int)(ip_len < sizeof(buf) ? ip_len : 0), ip);
		if (ip_len >= sizeof(buf) || ipam_parse_ip(buf, &m.host_ip) < 0)
			return err_set(err, 0, "invalid IP address: %.*s", (int)ip_len, ip);
	}
	/* docker: a host range must match the container range in size, or be a
	 * range for a single container port (one of them is picked). */
	if (host_len > 0 && hhi - hlo != chi - clo && clo != chi)
		return err_set(err, 0, "invalid ranges specified for container and host Ports: %s",
			       spec);
	for (int p = clo; p <= chi; p++) {
		m.container_port = (uint16_t)p;
		m.host_port = host_len == 0 ? 0 : (uint16_t)(hlo + (p - clo));
		if (push(maps, n, &m, err) < 0)
			return -1;
	}
	return 0;
}

void ports_format(const struct port_map *m, size_t n, char *out, size_t len)
{
	size_t used = 0;

	if (len)
		out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		char ip[16];

		ipam_format_ip(m[i].host_ip, ip);
		used += (size_t)snprintf(out + used, len - used, "%s%s:%u->%u/%s", i ? ", " : "", ip,
					 (unsigned)m[i].host_port, (unsigned)m[i].container_port,
					 ports_proto_name(m[i].proto));
	}
}

/* A free port for a `-p CONTAINERPORT` (docker: from the ephemeral range). */
static int ephemeral_port(const struct port_map *m, uint16_t *port, struct sk_err *err)
{
	cleanup_close int fd = socket(AF_INET, (m->proto == PORT_UDP ? SOCK_DGRAM : SOCK_STREAM) |
							SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(m->host_ip) };
	socklen_t len = sizeof(a);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return err_set(err, errno, "cannot find a free host port");
	*port = ntohs(a.sin_port);
	return 0;
}

/* A host port a program of the host listens on would never see its
 * traffic again: refuse it, as docker's proxy does by failing to bind. */
static int check_port_free(const struct port_map *m, struct sk_err *err)
{
	cleanup_close int fd = socket(AF_INET, (m->proto == PORT_UDP ? SOCK_DGRAM : SOCK_STREAM) |
							SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(m->host_ip),
				 .sin_port = htons(m->host_port) };
	char ip[16];

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return 0;
	ipam_format_ip(m->host_ip, ip);
	return err_set(err, errno, "bind for %s:%u/%s failed: port is already allocated", ip,
		       (unsigned)m->host_port, ports_proto_name(m->proto));
}

int ports_choose_host_port(struct port_map *m, struct sk_err *err)
{
	if (m->host_port == 0 && ephemeral_port(m, &m->host_port, err) < 0)
		return -1;
	return check_port_free(m, err);
}

/*
 * /etc/hosts and /etc/resolv.conf (etc.h), with docker's rules:
 *   hosts: localhost and the IPv6 names, then each --add-host, then the
 *   container's own address and hostname (bridge).
 *   resolv.conf: the host's, without 127.0.0.0/8 and ::1 servers (not
 *   reachable from the container's namespace); --dns replaces the servers,
 *   --dns-search the search line ("." removes it), --dns-option the options
 *   line; no server left: Google's, as docker. The host's network gets the
 *   host's file; --network none an empty one unless a --dns flag asks.
 */
#include "runtime/etc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/ipam.h"

#define ETC_DEFAULT_DNS "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"

static const char hosts_base[] = "127.0.0.1\tlocalhost\n"
				 "::1\tlocalhost ip6-localhost ip6-loopback\n"
				 "fe00::0\tip6-localnet\n"
				 "ff00::0\tip6-mcastprefix\n"
				 "ff02::1\tip6-allnodes\n"
				 "ff02::2\tip6-allrouters\n";

static bool is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static bool is_host_name(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
			return false;
	return true;
}

int etc_check_add_host(const char *v, struct sk_err *err)
{
	const char *colon = strchr(v, ':');

	/* docker splits at the first ':' (an IPv6 address keeps its colons) */
	if (!colon || !is_host_name(v, (size_t)(colon - v)) ||
	    (strcmp(colon + 1, "host-gateway") != 0 && !is_ip(colon + 1)))
		return err_set(err, 0, "invalid argument \"%s\" for \"--add-host\" flag: bad format "
				       "for add-host: \"%s\"",
			       v, v);
	return 0;
}

int etc_build_hosts(const struct etc_opts *o, const char *host_hosts, struct buf *out,
		    struct sk_err *err)
{
	char ip[16];

	if (o->host_network) {
		if (buf_append(out, host_hosts ? host_hosts : "", host_hosts ? strlen(host_hosts) : 0) < 0)
			return err_set(err, E2BIG, "the host's /etc/hosts is too large");
	} else if (buf_append(out, hosts_base, sizeof(hosts_base) - 1) < 0) {
		return err_set(err, ENOMEM, "cannot build /etc/hosts");
	}
	for (size_t i = 0; o->add_hosts && i < o->add_hosts->n; i++) {
		const char *v = o->add_hosts->v[i], *colon = strchr(v, ':');
		const char *addr = colon ? colon + 1 : "";

		if (!colon)
			continue;
		if (!strcmp(addr, "host-gateway")) {
			if (!o->gateway)
				return err_set(err, 0, "--add-host %s: host-gateway needs the bridge "
						       "network",
					       v);
			ipam_format_ip(o->gateway, ip);
			addr = ip;
		}
		if (buf_appendf(out, "%s\t%.*s\n", addr, (int)(colon - v), v) < 0)
			return err_set(err, E2BIG, "/etc/hosts is too large");
	}
	if (o->bridge) {
		ipam_format_ip(o->ip, ip);
		if (buf_appendf(out, "%s\t%s\n", ip, o->hostname ? o->hostname : "") < 0)
			return err_set(err, ENOMEM, "cannot build /etc/hosts");
	}
	return 0;
}

/* Is line "KEYWORD<space>..."? The rest (after the blanks) goes to *rest. */
static bool keyword(const char *line, size_t len, const char *kw, const char **rest)
{
	size_t k = strlen(kw);

	if (len <= k || strncmp(line, kw, k) != 0 || (line[k] != ' ' && line[k] != '\t'))
		return false;
	for (*rest = line + k; **rest == ' ' || **rest == '\t'; (*rest)++)
		;
	return true;
}

static bool is_loopback_server(const char *addr)
{
	return !strncmp(addr, "127.", 4) || !strncmp(addr, "::1", 3);
}

static bool has(const struct strv *s)
{
	return s && s->n > 0;
}

static int append_list(struct buf *out, const char *kw, const struct strv *items)
{
	if (buf_append(out, kw, strlen(kw)) < 0)
		return -1;
	for (size_t i = 0; i < items->n; i++)
		if (buf_appendf(out, " %s", items->v[i]) < 0)
			return -1;
	return buf_append(out, "\n", 1);
}

int etc_build_resolv_conf(const struct etc_opts *o, const char *host_resolv, struct buf *out,
			  struct sk_err *err)
{
	bool asked = has(o->dns) || has(o->dns_search) || has(o->dns_options);
	bool servers = false;

	if (!o->host_network && !o->bridge && !asked)
		return 0; /* docker: no network, no name servers */
	for (const char *line = host_resolv ? host_resolv : ""; *line;) {
		const char *eol = strchrnul(line, '\n'), *rest;
		size_t len = (size_t)(eol - line);
		bool drop = false;

		if (keyword(line, len, "nameserver", &rest))
			drop = has(o->dns) || o->resolver ||
			       (!o->host_network && is_loopback_server(rest));
		else if (keyword(line, len, "search", &rest) || keyword(line, len, "domain", &rest))
			drop = has(o->dns_search);
		else if (keyword(line, len, "options", &rest))
			drop = has(o->dns_options);
		if (!drop) {
			servers |= keyword(line, len, "nameserver", &rest);
			if (buf_append(out, line, len) < 0 || buf_append(out, "\n", 1) < 0)
				return err_set(err, E2BIG, "the host's /etc/resolv.conf is too large");
		}
		line = *eol ? eol + 1 : eol;
	}
	if (o->resolver) {
		char ip[16];

		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", o->resolver >> 24, (o->resolver >> 16) & 255,
			 (o->resolver >> 8) & 255, o->resolver & 255);
		if (buf_appendf(out, "nameserver %s\n", ip) < 0)
			return err_set(err, ENOMEM, "cannot build /etc/resolv.conf");
		servers = true;
	}
	for (size_t i = 0; has(o->dns) && i < o->dns->n; i++) {
		if (!is_ip(o->dns->v[i]))
			return err_set(err, 0, "%s is not an ip address", o->dns->v[i]);
		if (o->resolver)
			continue; /* the resolver's upstreams */
		if (buf_appendf(out, "nameserver %s\n", o->dns->v[i]) < 0)
			return err_set(err, ENOMEM, "cannot build /etc/resolv.conf");
		servers = true;
	}
	if (has(o->dns_search) && strcmp(o->dns_search->v[0], ".") != 0 &&
	    append_list(out, "search", o->dns_search) < 0)
		return err_set(err, ENOMEM, "cannot build /etc/resolv.conf");
	if (has(o->dns_options) && append_list(out, "options", o->dns_options) < 0)
		return err_set(err, ENOMEM, "cannot build /etc/resolv.conf");
	if (!servers && !o->host_network &&
	    buf_append(out, ETC_DEFAULT_DNS, sizeof(ETC_DEFAULT_DNS) - 1) < 0)
		return err_set(err, ENOMEM, "cannot build /etc/resolv.conf");
	return 0;
}

/* /etc/hosts and /etc/resolv.conf with docker's rules (runtime/etc.c). */
#include <stdlib.h>

#include "net/ipam.h"
#include "runtime/etc.h"
#include "unit.h"

static const char host_resolv[] = "# the host's\n"
				  "nameserver 127.0.0.53\n"
				  "nameserver 10.0.0.2\n"
				  "search lan\n"
				  "options edns0\n";

static char *resolv(const struct etc_opts *o, const char *host)
{
	struct buf b = BUF_INIT(1 << 20);
	struct sk_err err = { 0 };

	if (etc_build_resolv_conf(o, host, &b, &err) < 0)
		return NULL;
	buf_append(&b, "", 0);
	return b.data ? b.data : strdup("");
}

TEST(bridge_drops_loopback_servers_and_keeps_the_rest)
{
	struct etc_opts o = { .bridge = true };
	char *r = resolv(&o, host_resolv);

	CHECK_STR(r, "# the host's\nnameserver 10.0.0.2\nsearch lan\noptions edns0\n");
	free(r);
	r = resolv(&o, "nameserver 127.0.0.53\n");
	CHECK_STR(r, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	free(r);
}

TEST(flags_replace_their_lines)
{
	struct strv dns = { 0 }, search = { 0 }, opts = { 0 };
	struct sk_err err = { 0 };
	struct etc_opts o = { .bridge = true, .dns = &dns, .dns_search = &search, .dns_options = &opts };
	char *r;

	strv_push(&dns, "1.1.1.1", &err);
	strv_push(&search, "a.example", &err);
	strv_push(&search, "b.example", &err);
	strv_push(&opts, "ndots:2", &err);
	r = resolv(&o, host_resolv);
	CHECK_STR(r, "# the host's\nnameserver 1.1.1.1\nsearch a.example b.example\n"
		     "options ndots:2\n");
	free(r);
	strv_release(&search);
	strv_push(&search, ".", &err);
	r = resolv(&o, host_resolv);
	CHECK(r && !strstr(r, "search"));
	free(r);
	strv_release(&dns);
	strv_push(&dns, "not-an-ip", &err);
	CHECK(resolv(&o, host_resolv) == NULL);
	strv_release(&dns);
	strv_release(&search);
	strv_release(&opts);
}

TEST(none_is_empty_and_host_is_the_hosts)
{
	struct etc_opts none = { 0 }, host = { .host_network = true };
	char *r = resolv(&none, host_resolv);

	CHECK_STR(r, "");
	free(r);
	r = resolv(&host, host_resolv);
	CHECK_STR(r, host_resolv);
	free(r);
}

TEST(hosts_order_and_host_gateway)
{
	struct strv add = { 0 };
	struct sk_err err = { 0 };
	struct buf b = BUF_INIT(1 << 16);
	uint32_t ip, gw;
	struct etc_opts o = { .bridge = true, .hostname = "box", .add_hosts = &add };

	ipam_parse_ip("172.17.0.5", &ip);
	ipam_parse_ip("172.17.0.1", &gw);
	o.ip = ip;
	o.gateway = gw;
	strv_push(&add, "db:10.1.2.3", &err);
	strv_push(&add, "gw:host-gateway", &err);
	strv_push(&add, "six:fd00::1", &err);
	CHECK(etc_build_hosts(&o, NULL, &b, &err) == 0);
	buf_append(&b, "", 0);
	CHECK(strstr(b.data, "ff02::2\tip6-allrouters\n10.1.2.3\tdb\n172.17.0.1\tgw\n"
			     "fd00::1\tsix\n172.17.0.5\tbox\n") != NULL);
	buf_release(&b);
	o.gateway = 0;
	CHECK(etc_build_hosts(&o, NULL, &b, &err) < 0);
	CHECK(strstr(err.msg, "host-gateway needs the bridge") != NULL);
	buf_release(&b);
	strv_release(&add);
}

TEST(add_host_format)
{
	struct sk_err err = { 0 };

	CHECK(etc_check_add_host("db:10.0.0.1", &err) == 0);
	CHECK(etc_check_add_host("db:host-gateway", &err) == 0);
	CHECK(etc_check_add_host("v6:fd00::1", &err) == 0);
	CHECK(etc_check_add_host("db", &err) < 0);
	CHECK_STR(err.msg, "invalid argument \"db\" for \"--add-host\" flag: bad format for "
			   "add-host: \"db\"");
	CHECK(etc_check_add_host("db:nope", &err) < 0);
	CHECK(etc_check_add_host("a b:10.0.0.1", &err) < 0);
}

int main(void)
{
	RUN(bridge_drops_loopback_servers_and_keeps_the_rest);
	RUN(flags_replace_their_lines);
	RUN(none_is_empty_and_host_is_the_hosts);
	RUN(hosts_order_and_host_gateway);
	RUN(add_host_format);
	return UNIT_DONE();
}

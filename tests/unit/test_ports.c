/* -p values parsed as docker parses them, and its errors for bad ones. */
#include <stdlib.h>

#include "net/ipam.h"
#include "net/ports.h"
#include "unit.h"

static size_t parse(const char *s, struct port_map **m, struct sk_err *err)
{
	size_t n = 0;

	*m = NULL;
	if (ports_parse(s, m, &n, err) < 0)
		return (size_t)-1;
	return n;
}

TEST(forms)
{
	struct port_map *m;
	struct sk_err err = { 0 };
	char ip[16];

	CHECK(parse("80", &m, &err) == 1 && m[0].host_port == 0 && m[0].container_port == 80 &&
	      m[0].proto == PORT_TCP && m[0].host_ip == 0);
	free(m);
	CHECK(parse("8080:80", &m, &err) == 1 && m[0].host_port == 8080 && m[0].container_port == 80);
	free(m);
	CHECK(parse("127.0.0.1:8080:80/udp", &m, &err) == 1 && m[0].proto == PORT_UDP);
	ipam_format_ip(m[0].host_ip, ip);
	CHECK_STR(ip, "127.0.0.1");
	free(m);
	CHECK(parse("127.0.0.1::80", &m, &err) == 1 && m[0].host_port == 0 && m[0].host_ip != 0);
	free(m);
	CHECK(parse("8000-8002:80-82", &m, &err) == 3 && m[2].host_port == 8002 &&
	      m[2].container_port == 82);
	free(m);
	CHECK(parse("90-91", &m, &err) == 2 && m[1].container_port == 91 && m[1].host_port == 0);
	free(m);
}

TEST(errors_name_the_part)
{
	struct port_map *m = NULL;
	struct sk_err err = { 0 };

	CHECK(parse("8080:0", &m, &err) == (size_t)-1);
	CHECK_STR(err.msg, "invalid containerPort: 0");
	CHECK(parse("x:80", &m, &err) == (size_t)-1);
	CHECK_STR(err.msg, "invalid hostPort: x");
	CHECK(parse("80/sctp", &m, &err) == (size_t)-1);
	CHECK_STR(err.msg, "invalid proto: sctp");
	CHECK(parse("1.2.3:80:80", &m, &err) == (size_t)-1);
	CHECK_STR(err.msg, "invalid IP address: 1.2.3");
	CHECK(parse("8000-8001:80-82", &m, &err) == (size_t)-1);
	CHECK(parse("70000", &m, &err) == (size_t)-1);
	CHECK(parse("", &m, &err) == (size_t)-1);
	free(m);
}

int main(void)
{
	RUN(forms);
	RUN(errors_name_the_part);
	return UNIT_DONE();
}

/*
 * dns: the resolver's parser takes a stub resolver's query and nothing
 * else, and its replies carry the question and the records asked for.
 */
#include <string.h>

#include "net/dns.h"
#include "unit.h"

/* id 0x1234, RD, one question NAME type qtype class IN */
static size_t query(uint8_t *out, const char *labels, size_t labels_len, uint16_t qtype)
{
	static const uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };

	memcpy(out, hdr, 12);
	memcpy(out + 12, labels, labels_len);
	out[12 + labels_len] = (uint8_t)(qtype >> 8);
	out[13 + labels_len] = (uint8_t)qtype;
	out[14 + labels_len] = 0;
	out[15 + labels_len] = 1;
	return 16 + labels_len;
}

TEST(queries_parse_and_answers_carry_the_question)
{
	uint8_t q[512], out[512];
	uint32_t addrs[2] = { 0x0a000002, 0x0a000003 }, ip;
	struct dns_query dq;
	size_t n = query(q, "\3Web\7Example", 13, DNS_TYPE_A), r;

	CHECK(dns_parse_query(q, n, &dq) == 0);
	CHECK(!strcmp(dq.name, "web.example") && dq.qtype == DNS_TYPE_A && dq.id == 0x1234);
	r = dns_build_reply(q, &dq, DNS_RCODE_OK, addrs, 2, NULL, 600, out, sizeof(out));
	CHECK(r == n + 2 * 16);
	CHECK(out[0] == 0x12 && out[1] == 0x34 && (out[2] & 0x80) && (out[2] & 0x01)); /* QR RD */
	CHECK(out[7] == 2 && !memcmp(out + 12, q + 12, n - 12));
	CHECK(!memcmp(out + n + 12, "\x0a\x00\x00\x02", 4));
	/* NXDOMAIN: no record, rcode 3 */
	r = dns_build_reply(q, &dq, DNS_RCODE_NXDOMAIN, NULL, 0, NULL, 0, out, sizeof(out));
	CHECK(r == n && (out[3] & 0xf) == 3 && out[7] == 0);
	/* PTR */
	CHECK(dns_ptr_to_ip("3.0.0.10.in-addr.arpa", &ip) && ip == 0x0a000003);
	CHECK(!dns_ptr_to_ip("3.0.0.10.in-addr.arpa.evil", &ip));
	CHECK(!dns_ptr_to_ip("300.0.0.10.in-addr.arpa", &ip));
	r = dns_build_reply(q, &dq, DNS_RCODE_OK, NULL, 0, "web", 600, out, sizeof(out));
	CHECK(r == n + 12 + 5 && !memcmp(out + n + 12, "\3web\0", 5));
	/* a reply that does not fit: 0 */
	CHECK(dns_build_reply(q, &dq, DNS_RCODE_OK, addrs, 2, NULL, 600, out, n + 20) == 0);
}

TEST(what_a_stub_does_not_send_is_refused)
{
	uint8_t q[600];
	struct dns_query dq;
	size_t n = query(q, "\3web\0", 5, DNS_TYPE_A);

	q[2] |= 0x80; /* a response */
	CHECK(dns_parse_query(q, n, &dq) < 0);
	n = query(q, "\3web\0", 5, DNS_TYPE_A);
	q[5] = 2; /* two questions */
	CHECK(dns_parse_query(q, n, &dq) < 0);
	n = query(q, "\xc0\x0c", 2, DNS_TYPE_A); /* a compression pointer */
	CHECK(dns_parse_query(q, n, &dq) < 0);
	n = query(q, "\3w.b\0", 5, DNS_TYPE_A); /* a dot inside a label */
	CHECK(dns_parse_query(q, n, &dq) < 0);
	n = query(q, "\3web\0", 5, DNS_TYPE_A);
	CHECK(dns_parse_query(q, n - 1, &dq) < 0); /* truncated */
	CHECK(dns_parse_query(q, 11, &dq) < 0);
	n = query(q, "\x09web\0", 5, DNS_TYPE_A); /* label past the end */
	CHECK(dns_parse_query(q, n, &dq) < 0);
	CHECK(dns_name_ok("my-web_1.example") && !dns_name_ok("a..b") && !dns_name_ok("a b"));
}

int main(void)
{
	RUN(queries_parse_and_answers_carry_the_question);
	RUN(what_a_stub_does_not_send_is_refused);
	return UNIT_DONE();
}

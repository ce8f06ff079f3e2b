/*
 * DNS messages for a network's resolver (dns.c): the query a container sends
 * (untrusted: parsed within bounds, fuzzed by tests/fuzz/fuzz_dns.c) and the
 * answers skiff gives for its own names. RFC 1035 wire format; only what a
 * stub resolver sends is taken: one question, class IN, no compression in
 * the question.
 */
#ifndef SKIFF_NET_DNS_H
#define SKIFF_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_UDP_MAX 512  /* without EDNS0 */
#define DNS_MSG_MAX 4096 /* what skiff reads or answers at most */
#define DNS_NAME_MAX 255

#define DNS_TYPE_A 1
#define DNS_TYPE_PTR 12
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

#define DNS_RCODE_OK 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED 5

struct dns_query {
	uint16_t id;
	uint16_t flags; /* as sent (RD is echoed) */
	char name[DNS_NAME_MAX + 1]; /* lower case, dotted, without the final dot */
	uint16_t qtype, qclass;
	size_t question_end; /* offset just past the question */
};

/* Parse a query of len bytes. 0, or -1 when it is not one skiff answers
 * (a response, several questions, a malformed or compressed name, ...). */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q);

/* A reply to q in out (cap bytes, at least DNS_UDP_MAX): the question
 * echoed, and n_addrs A records (host order, TTL ttl) or, when ptr is not
 * NULL, one PTR record naming ptr. rcode for errors and NODATA (rcode 0,
 * no record). The length, or 0 when it does not fit. */
size_t dns_build_reply(const uint8_t *query, const struct dns_query *q, int rcode,
		       const uint32_t *addrs, size_t n_addrs, const char *ptr, uint32_t ttl,
		       uint8_t *out, size_t cap);

/* "4.3.2.1.in-addr.arpa" -> 1.2.3.4 (host order): true when name is one. */
bool dns_ptr_to_ip(const char *name, uint32_t *ip);

/* Is name a valid name to answer for ([A-Za-z0-9_-] labels of 1-63)? */
bool dns_name_ok(const char *name);

#endif

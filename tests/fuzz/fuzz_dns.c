/*
 * Fuzz the resolver's query parser and reply builder (net/dns.c): a
 * container sends these bytes to skiff-dns, which runs as root on the host.
 * Any input is refused or parsed into a bounded, valid name, and a reply
 * built from it stays within its buffer and starts with the question.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t addrs[3] = { 0x0a000002, 0x0a000003, 0x0a000004 };
	uint8_t out[DNS_UDP_MAX];
	struct dns_query q;
	size_t n;
	uint32_t ip;

	if (dns_parse_query(data, size, &q) < 0)
		return 0;
	if (strlen(q.name) > DNS_NAME_MAX || q.question_end > size)
		__builtin_trap();
	for (const char *p = q.name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			__builtin_trap(); /* names are lower-cased */
	dns_ptr_to_ip(q.name, &ip);
	dns_name_ok(q.name);
	n = dns_build_reply(data, &q, DNS_RCODE_OK, addrs, 3, NULL, 600, out, sizeof(out));
	if (n > sizeof(out) || (n && memcmp(out + 12, data + 12, q.question_end - 12) != 0))
		__builtin_trap();
	n = dns_build_reply(data, &q, DNS_RCODE_OK, NULL, 0, "web.example", 600, out, sizeof(out));
	if (n > sizeof(out))
		__builtin_trap();
	return 0;
}

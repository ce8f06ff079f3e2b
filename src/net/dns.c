/*
 * DNS messages (dns.h). Every read is checked against the message's length
 * before it is made; names are copied label by label into a bounded buffer.
 */
#include "net/dns.h"

#include <stdio.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	size_t off = DNS_HEADER_LEN, out = 0;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN || len > DNS_MSG_MAX)
		return -1;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	/* a query (QR 0), opcode QUERY, exactly one question */
	if ((q->flags & 0x8000) || ((q->flags >> 11) & 0xf) != 0 || get16(msg + 4) != 1)
		return -1;
	for (;;) {
		uint8_t l;

		if (off >= len)
			return -1;
		l = msg[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len) /* 0xc0: compression, refused here */
			return -1;
		if (out + l + 1 > DNS_NAME_MAX)
			return -1;
		if (out)
			q->name[out++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char c = (char)msg[off + i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			/* '.' inside a label or a NUL would change what the
			 * name means once it is text */
			if (c == '.' || c == '\0')
				return -1;
			q->name[out++] = c;
		}
		off += l;
	}
	q->name[out] = '\0';
	if (off + 4 > len)
		return -1;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->question_end = off + 4;
	return 0;
}

/* name as labels; 0 when it does not fit or a label is empty or too long. */
static size_t put_name(const char *name, uint8_t *out, size_t cap)
{
	size_t off = 0;
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || off + 1 + l + 1 > cap)
			return 0;
		out[off++] = (uint8_t)l;
		memcpy(out + off, p, l);
		off += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (off + 1 > cap)
		return 0;
	out[off++] = 0;
	return off;
}

size_t dns_build_reply(const uint8_t *query, const struct dns_query *q, int rcode,
		       const uint32_t *addrs, size_t n_addrs, const char *ptr, uint32_t ttl,
		       uint8_t *out, size_t cap)
{
	size_t off, answers = ptr ? 1 : n_addrs;

	if (q->question_end > cap || q->question_end < DNS_HEADER_LEN + 5)
		return 0;
	memcpy(out, query, q->question_end);
	/* QR, the query's opcode and RD, RA (the resolver recurses for it) */
	put16(out + 2, (uint16_t)(0x8000 | (q->flags & 0x7900) | 0x0080 | (rcode & 0xf)));
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	off = q->question_end;
	for (size_t i = 0; i < answers; i++) {
		size_t need = 2 + 10;
		uint8_t *rr = out + off;

		if (off + need > cap)
			return 0;
		put16(rr, 0xc000 | DNS_HEADER_LEN); /* the question's name */
		put16(rr + 2, ptr ? DNS_TYPE_PTR : DNS_TYPE_A);
		put16(rr + 4, DNS_CLASS_IN);
		put32(rr + 6, ttl);
		if (ptr) {
			size_t n = put_name(ptr, rr + 12, cap - off - 12);

			if (!n)
				return 0;
			put16(rr + 10, (uint16_t)n);
			off += 12 + n;
		} else {
			if (off + need + 4 > cap)
				return 0;
			put16(rr + 10, 4);
			put32(rr + 12, addrs[i]);
			off += 16;
		}
		put16(out + 6, (uint16_t)(i + 1));
	}
	return off;
}

bool dns_ptr_to_ip(const char *name, uint32_t *ip)
{
	unsigned a, b, c, d;
	int end = 0;

	if (sscanf(name, "%3u.%3u.%3u.%3u.in-addr.arpa%n", &d, &c, &b, &a, &end) != 4 ||
	    name[end] != '\0' || a > 255 || b > 255 || c > 255 || d > 255)
		return false;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return true;
}

bool dns_name_ok(const char *name)
{
	size_t label = 0, n = strlen(name);

	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/*
 * portguard: the port guard's BPF program, loaded into this kernel and run
 * on hand-made frames (BPF_PROG_TEST_RUN): a container's genuine IPv4 and
 * ARP pass, every forged source, other ethertypes and short frames do not.
 */
#include <errno.h>
#include <linux/pkt_cls.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/portguard.h"
#include "unit.h"

static const unsigned char MAC[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x05 };
static const unsigned char OTHER[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x06 };
#define IP 0xac110005u    /* 172.17.0.5 */
#define OTHER_IP 0xac110006u

static int load(void)
{
	struct bpf_insn prog[PORTGUARD_MAX_INSNS];
	size_t n = portguard_program(MAC, IP, prog, PORTGUARD_MAX_INSNS);
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	return n ? (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)) : -1;
}

/* The verdict for a frame, or -1. */
static int verdict(int fd, const unsigned char *frame, size_t len)
{
	unsigned char in[128] = { 0 }, out[256];
	union bpf_attr attr;

	memcpy(in, frame, len);
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)fd;
	attr.test.data_in = (uint64_t)(uintptr_t)in;
	/* the kernel wants a whole Ethernet header: shorter frames are padded
	 * with zeros, which the program must still refuse by their length */
	attr.test.data_size_in = (uint32_t)(len < 14 ? 14 : len);
	attr.test.data_out = (uint64_t)(uintptr_t)out;
	attr.test.data_size_out = sizeof(out);
	attr.test.repeat = 1;
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr)) < 0)
		return -1;
	return (int)attr.test.retval;
}

static size_t eth(unsigned char *f, const unsigned char *src, uint16_t type)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = (unsigned char)(type >> 8);
	f[13] = (unsigned char)type;
	return 14;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static size_t ipv4(unsigned char *f, const unsigned char *mac, uint32_t src)
{
	size_t n = eth(f, mac, 0x0800);

	memset(f + n, 0, 20);
	f[n] = 0x45;
	put32(f + n + 12, src);
	put32(f + n + 16, 0xac110001u);
	return n + 20;
}

static size_t arp(unsigned char *f, const unsigned char *mac, const unsigned char *sha,
		  uint32_t spa)
{
	size_t n = eth(f, mac, 0x0806);

	memset(f + n, 0, 28);
	f[n + 1] = 1;			       /* Ethernet */
	f[n + 2] = 0x08, f[n + 4] = 6, f[n + 5] = 4; /* IPv4 */
	f[n + 7] = 2;			       /* a reply */
	memcpy(f + n + 8, sha, 6);
	put32(f + n + 14, spa);
	put32(f + n + 24, 0xac110001u);
	return n + 28;
}

TEST(genuine_traffic_passes_and_forgeries_do_not)
{
	int fd = load();
	unsigned char f[128];
	size_t n;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	n = ipv4(f, MAC, IP);
	CHECK(verdict(fd, f, n) == TC_ACT_OK);
	n = arp(f, MAC, MAC, IP);
	CHECK(verdict(fd, f, n) == TC_ACT_OK);
	/* forged: IPv4 source, frame source, ARP sender MAC or address */
	n = ipv4(f, MAC, OTHER_IP);
	CHECK(verdict(fd, f, n) == TC_ACT_SHOT);
	n = ipv4(f, OTHER, IP);
	CHECK(verdict(fd, f, n) == TC_ACT_SHOT);
	n = arp(f, MAC, OTHER, IP);
	CHECK(verdict(fd, f, n) == TC_ACT_SHOT);
	n = arp(f, MAC, MAC, 0xac110001u); /* claiming the gateway */
	CHECK(verdict(fd, f, n) == TC_ACT_SHOT);
	n = arp(f, OTHER, MAC, IP);
	CHECK(verdict(fd, f, n) == TC_ACT_SHOT);
	/* nothing else: IPv6, a VLAN tag, an unknown ethertype */
	n = eth(f, MAC, 0x86dd);
	memset(f + n, 0, 40);
	CHECK(verdict(fd, f, n + 40) == TC_ACT_SHOT);
	n = eth(f, MAC, 0x8100);
	memset(f + n, 0, 40);
	CHECK(verdict(fd, f, n + 40) == TC_ACT_SHOT);
	n = eth(f, MAC, 0x88b5);
	CHECK(verdict(fd, f, n + 20) == TC_ACT_SHOT);
	/* too short for what it claims to be: dropped, not let through (a
	 * short IPv4 frame cannot be tried: the kernel's test run refuses it) */
	n = arp(f, MAC, MAC, IP);
	CHECK(verdict(fd, f, 40) == TC_ACT_SHOT);
	close(fd);
}

TEST(a_short_buffer_gets_no_program)
{
	struct bpf_insn p[4];

	CHECK(portguard_program(MAC, IP, p, 4) == 0);
}

int main(void)
{
	RUN(genuine_traffic_passes_and_forgeries_do_not);
	RUN(a_short_buffer_gets_no_program);
	return UNIT_DONE();
}

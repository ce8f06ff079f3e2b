/*
 * The bridge port guard (portguard.h). Classic packet loads (BPF_LD_ABS)
 * read the frame: they take offsets from the Ethernet header at a tc
 * ingress classifier, return the value in host order, and end the program
 * (verdict 0, "go on") on a frame too short for them, so the length is
 * checked first and a short frame is dropped instead.
 */
#include "net/portguard.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/netlink.h"
#include "util/cleanup.h"

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* The frame's layout (an Ethernet header, then ARP or IPv4). */
#define ETH_SRC 6
#define ETH_TYPE 12
#define ARP_SHA 22 /* 14 + 8 */
#define ARP_SPA 28 /* 14 + 14 */
#define ARP_END 42
#define IP_SRC 26 /* 14 + 12 */
#define IP_END 34

/* Registers: r6 the skb (LD_ABS wants it there), r7 its length, r8 the
 * MAC's first four bytes, r9 the address; loads clobber r1-r5 only. */
#define R_LEN BPF_REG_7
#define R_MAC BPF_REG_8
#define R_IP BPF_REG_9

size_t portguard_program(const unsigned char mac[6], uint32_t ip, struct bpf_insn *out,
			 size_t cap)
{
	uint32_t mac03 = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 |
			 mac[3];
	int32_t mac45 = mac[4] << 8 | mac[5];
	struct bpf_insn p[PORTGUARD_MAX_INSNS];
	size_t n = 0, drop_at;
	/* jumps to "drop" are patched once its place is known */
	size_t to_drop[16], n_drop = 0;

#define EMIT(i) (p[n++] = (i))
#define JNE_REG_DROP(r) (to_drop[n_drop++] = n, EMIT(INSN(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_0, r, 0, 0)))
#define JNE_IMM_DROP(imm) (to_drop[n_drop++] = n, EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, imm)))
#define JLT_LEN_DROP(len) (to_drop[n_drop++] = n, EMIT(INSN(BPF_JMP | BPF_JLT | BPF_K, R_LEN, 0, 0, len)))
#define LD(size, off) EMIT(INSN(BPF_LD | BPF_ABS | (size), 0, 0, 0, off))
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0));
	/* __sk_buff.len, at offset 0 */
	EMIT(INSN(BPF_LDX | BPF_W | BPF_MEM, R_LEN, BPF_REG_6, 0, 0));
	/* 32-bit moves zero-extend: the compares below are of u32 values */
	EMIT(INSN(BPF_ALU | BPF_MOV | BPF_K, R_MAC, 0, 0, (int32_t)mac03));
	EMIT(INSN(BPF_ALU | BPF_MOV | BPF_K, R_IP, 0, 0, (int32_t)ip));
	JLT_LEN_DROP(ETH_TYPE + 2);
	/* the Ethernet source */
	LD(BPF_W, ETH_SRC);
	JNE_REG_DROP(R_MAC);
	LD(BPF_H, ETH_SRC + 4);
	JNE_IMM_DROP(mac45);
	LD(BPF_H, ETH_TYPE);
	/* IPv4: ethertype 0x0800, else skip the 5 instructions to ARP's */
	EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 5, 0x0800));
	JLT_LEN_DROP(IP_END);
	LD(BPF_W, IP_SRC);
	JNE_REG_DROP(R_IP);
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_OK));
	EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	/* ARP: ethertype 0x0806, else drop */
	JNE_IMM_DROP(0x0806);
	JLT_LEN_DROP(ARP_END);
	LD(BPF_W, ARP_SHA);
	JNE_REG_DROP(R_MAC);
	LD(BPF_H, ARP_SHA + 4);
	JNE_IMM_DROP(mac45);
	LD(BPF_W, ARP_SPA);
	JNE_REG_DROP(R_IP);
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_OK));
	EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	drop_at = n;
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_SHOT));
	EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
#undef EMIT
#undef JNE_REG_DROP
#undef JNE_IMM_DROP
#undef JLT_LEN_DROP
#undef LD
	for (size_t i = 0; i < n_drop; i++)
		p[to_drop[i]].off = (int16_t)(drop_at - to_drop[i] - 1);
	if (n > cap)
		return 0;
	memcpy(out, p, n * sizeof(*p));
	return n;
}

int portguard_attach(struct nl_sock *s, const char *veth, const unsigned char mac[6], uint32_t ip,
		     struct sk_err *err)
{
	struct bpf_insn prog[PORTGUARD_MAX_INSNS];
	size_t n = portguard_program(mac, ip, prog, PORTGUARD_MAX_INSNS);
	static const char license[] = "GPL";
	static char log[16384];
	union bpf_attr attr;
	cleanup_close int fd = -1;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)license;
	snprintf(attr.prog_name, sizeof(attr.prog_name), "skiff_guard");
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	log[0] = '\0';
	if (fd < 0 && errno == EINVAL) {
		/* again with the verifier's reason (the kernel wants no log
		 * buffer at level 0) */
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = sizeof(log);
		attr.log_level = 1;
		fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
		errno = fd < 0 ? errno : EINVAL;
		if (fd >= 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return err_set(err, errno, "cannot load the port guard of '%s'%s%.200s", veth,
			       log[0] ? ": " : "", log);
	return nl_tc_ingress_bpf(s, veth, fd, "skiff_guard", err);
}

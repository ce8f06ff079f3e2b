/*
 * Device access of a container, as docker's default: it may create any
 * device node (CAP_MKNOD is one of docker's capabilities) but open only
 * null, zero, full, random, urandom, tty, console, ptmx, its ptys and tun.
 * Without this, root in a container could mknod the host's disk in its /dev
 * (a tmpfs that allows device nodes) and read it. --privileged lifts it.
 *
 * cgroup v1: the devices controller's devices.deny / devices.allow files.
 * cgroup v2 has no such files: the kernel asks a BPF program of type
 * CGROUP_DEVICE attached to the cgroup, written here instruction by
 * instruction (what crun and runc generate too).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define ANY -1

struct device_rule {
	char type; /* 'c', 'b' */
	int major, minor; /* ANY for "*" */
	const char *access; /* "rwm" subset */
};

/* docker's default (moby's oci/defaults.go). */
static const struct device_rule docker_allowed[] = {
	{ 'c', ANY, ANY, "m" },	  { 'b', ANY, ANY, "m" },   { 'c', 1, 3, "rwm" },
	{ 'c', 1, 5, "rwm" },	  { 'c', 1, 7, "rwm" },	    { 'c', 1, 8, "rwm" },
	{ 'c', 1, 9, "rwm" },	  { 'c', 5, 0, "rwm" },	    { 'c', 5, 1, "rwm" },
	{ 'c', 5, 2, "rwm" },	  { 'c', 136, ANY, "rwm" }, { 'c', 10, 200, "rwm" },
};

static void rule_text(const struct device_rule *r, char *out, size_t cap)
{
	char major[16] = "*", minor[16] = "*";

	if (r->major != ANY)
		snprintf(major, sizeof(major), "%d", r->major);
	if (r->minor != ANY)
		snprintf(minor, sizeof(minor), "%d", r->minor);
	snprintf(out, cap, "%c %s:%s %s", r->type, major, minor, r->access);
}

static int write_rule(int dirfd, const char *file, const char *text, struct sk_err *err)
{
	cleanup_close int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return err_set(err, errno, "cannot open '%s'", file);
	rc = fs_write_all(fd, text, strlen(text));
	if (rc < 0)
		return err_set(err, -rc, "cannot write '%s' to '%s'", text, file);
	return 0;
}

int cgroup_devices_v1(int dirfd, bool allow_all, struct sk_err *err)
{
	char text[64];

	if (allow_all)
		return 0; /* a new cgroup inherits its parent's "a *:* rwm" */
	if (write_rule(dirfd, "devices.deny", "a", err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(docker_allowed); i++) {
		rule_text(&docker_allowed[i], text, sizeof(text));
		if (write_rule(dirfd, "devices.allow", text, err) < 0)
			return -1;
	}
	return 0;
}

/* --- cgroup v2: the BPF program ------------------------------------------ */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MAX_INSNS 256

static unsigned access_mask(const char *access)
{
	unsigned m = 0;

	for (const char *p = access; *p; p++)
		m |= *p == 'r' ? BPF_DEVCG_ACC_READ : *p == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
	return m;
}

/* One rule: a block of compares that jump to its end ("next rule") on a
 * mismatch, then "return 1". r2 = access, r3 = type, r4 = major, r5 = minor. */
static size_t emit_rule(const struct device_rule *r, struct bpf_insn *out)
{
	size_t n = 0, len;
	unsigned acc = access_mask(r->access);
	int type = r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;

	/* Length first (each jump goes to the end of the block). */
	len = 1 + (r->major != ANY) + (r->minor != ANY) + 3 + 2;
	out[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, (short)(len - n - 1), type), n++;
	if (r->major != ANY)
		out[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, (short)(len - n - 1), r->major), n++;
	if (r->minor != ANY)
		out[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, (short)(len - n - 1), r->minor), n++;
	/* the access asked for must be a subset of the rule's */
	out[n] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0), n++;
	out[n] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, (int)~acc), n++;
	out[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, (short)(len - n - 1), 0), n++;
	out[n] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1), n++;
	out[n] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), n++;
	return n;
}

size_t cgroup_devices_program(struct bpf_insn *out, size_t cap)
{
	size_t n = 0;

	if (cap < 8 + ARRAY_SIZE(docker_allowed) * 8)
		return 0;
	/* struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major, minor; } */
	out[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
	out[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	out[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
	out[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
	out[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
	out[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t i = 0; i < ARRAY_SIZE(docker_allowed); i++)
		n += emit_rule(&docker_allowed[i], out + n);
	out[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	out[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static int load_program(const struct bpf_insn *prog, size_t n, char *log, size_t log_size)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	if (log) {
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_size;
		attr.log_level = 1;
	}
	return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int cgroup_devices_bpf(int dirfd, bool allow_all, struct sk_err *err)
{
	struct bpf_insn prog[MAX_INSNS];
	union bpf_attr attr;
	cleanup_close int progfd = -1;
	size_t n;

	if (allow_all)
		return 0;
	n = cgroup_devices_program(prog, ARRAY_SIZE(prog));
	/* No verifier log on the way that works: a full log costs time, and a
	 * log buffer too small for it fails the load (ENOSPC). */
	progfd = load_program(prog, n, NULL, 0);
	if (progfd < 0) {
		int e = errno;
		char log[16384] = "";
		int again = load_program(prog, n, log, sizeof(log));

		if (again >= 0)
			close(again);
		return err_set(err, e, "cannot load the device access program%s%.200s",
			       log[0] ? ": " : "", log);
	}
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dirfd;
	attr.attach_bpf_fd = (uint32_t)progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
		return err_set(err, errno, "cannot attach the device access program");
	return 0; /* the attachment keeps the program alive */
}

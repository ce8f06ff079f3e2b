/*
 * seccomp.c: docker JSON profile parsing and its errors, and in forked
 * children the default profile as the kernel enforces it (keyctl, kexec_load,
 * unshare(CLONE_NEWUSER), mount denied; getpid, fork allowed), the same with
 * CAP_SYS_ADMIN granted, and a profile file applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "util/fs.h"
#include "unit.h"

static int parse(const char *json, struct seccomp_profile *p, struct sk_err *err)
{
	return seccomp_profile_parse(json, strlen(json), "prof.json", p, err);
}

static void expect_error(const char *json, const char *msg)
{
	struct seccomp_profile p;
	struct sk_err err;

	if (parse(json, &p, &err) == 0) {
		fprintf(stderr, "accepted: %s\n", json);
		unit_cur_failed = 1;
		seccomp_profile_release(&p);
		return;
	}
	CHECK_STR(err.msg, msg);
}

TEST(profile_errors)
{
	expect_error(
	    "{", "seccomp profile 'prof.json': line 1: string or '}' expected near end of file");
	expect_error("[]", "seccomp profile 'prof.json': expected a JSON object");
	expect_error("{}", "seccomp profile 'prof.json': defaultAction: missing");
	expect_error(
	    "{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
	    "seccomp profile 'prof.json': defaultAction: unsupported action 'SCMP_ACT_NOPE'");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
		     "seccomp profile 'prof.json': architectures: unknown architecture "
		     "'SCMP_ARCH_VAX'");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}",
		     "seccomp profile 'prof.json': syscalls: expected an array");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":"
		     "\"SCMP_ACT_ALLOW\"}]}",
		     "seccomp profile 'prof.json': syscalls[0].names: expected an array of "
		     "syscall names");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		     "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"write\",3],\"action\":"
		     "\"SCMP_ACT_ALLOW\"}]}",
		     "seccomp profile 'prof.json': syscalls[1].names[1]: expected a syscall name");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		     "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":7,\"value\":1,\"op\":"
		     "\"SCMP_CMP_EQ\"}]}]}",
		     "seccomp profile 'prof.json': syscalls[0].args[0]: 'index' must be 0 to 5");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		     "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":"
		     "\"SCMP_CMP_XX\"}]}]}",
		     "seccomp profile 'prof.json': syscalls[0].args[0]: unknown 'op'");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		     "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":-1}]}",
		     "seccomp profile 'prof.json': syscalls[0].action: expected an errno number");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		     "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":\"CAP_SYS_ADMIN\"}}]}",
		     "seccomp profile 'prof.json': syscalls[0].includes: 'caps' must be an array");
}

TEST(profile_parse_ok)
{
	static const char json[] =
	    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
	    "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":"
	    "[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},{\"architecture\":\"SCMP_ARCH_AARCH64\","
	    "\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],"
	    "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\","
	    "\"args\":[],\"comment\":\"\",\"includes\":{},\"excludes\":{}},"
	    "{\"names\":[\"bpf\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
	    "[\"CAP_BPF\"]}},"
	    "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":"
	    "\"4.8\"}},"
	    "{\"names\":[\"s390_only\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":"
	    "[\"s390x\"],\"caps\":[\"CAP_FUTURE\"]}},"
	    "{\"name\":\"clone\",\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":"
	    "2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}],\"excludes\":{\"caps\":"
	    "[\"CAP_SYS_ADMIN\"]}}]}";
	struct seccomp_profile p;
	struct seccomp_prog prog;
	struct sk_err err;

	CHECK(parse(json, &p, &err) == 0);
	CHECK(p.n_arches == 3 && p.n_rules == 5);
	CHECK(p.rules[1].caps_include == CAPS_BIT(CAP_BPF));
	CHECK(p.rules[2].min_kernel == (4 << 16 | 8));
	CHECK(p.rules[3].never);
	CHECK(p.rules[4].caps_exclude == CAPS_BIT(CAP_SYS_ADMIN) && p.rules[4].n_args == 1);
	CHECK_STR(p.rules[4].names[0], "clone");
	CHECK(seccomp_compile(&p, 0, &prog, &err) == 0 && prog.len > 0);
	seccomp_prog_release(&prog);
	seccomp_profile_release(&p);
}

TEST(unconfined_and_missing_file)
{
	struct seccomp_prog prog;
	struct sk_err err;

	CHECK(seccomp_prepare("unconfined", 0, NULL, &prog, &err) == 0 && prog.len == 0);
	CHECK(seccomp_prog_load(&prog, &err) == 0);
	CHECK(seccomp_prepare("/nonexistent/prof.json", 0, NULL, &prog, &err) < 0);
	CHECK(strstr(err.msg, "/nonexistent/prof.json") != NULL);
}

/* The errno of a raw syscall, 0 when it succeeded. */
#define SYSCALL_ERRNO(...) (syscall(__VA_ARGS__) < 0 ? errno : 0)

static int default_profile_child(bool sys_admin)
{
	int bad = 0;
	pid_t pid;

	if (SYSCALL_ERRNO(SYS_keyctl, 0, 0, 0, 0, 0) != EPERM)
		bad |= 1;
	if (SYSCALL_ERRNO(SYS_kexec_load, 0, 0, NULL, 0) != EPERM)
		bad |= 2;
	if (sys_admin ? SYSCALL_ERRNO(SYS_unshare, CLONE_NEWUSER) == EPERM
		      : SYSCALL_ERRNO(SYS_unshare, CLONE_NEWUSER) != EPERM)
		bad |= 4;
	if (!sys_admin && SYSCALL_ERRNO(SYS_clone3, NULL, 0) != ENOSYS)
		bad |= 8;
	if (!sys_admin && SYSCALL_ERRNO(SYS_mount, "none", "/", "tmpfs", 0, NULL) != EPERM)
		bad |= 16;
	if (syscall(SYS_getpid) != getpid() || SYSCALL_ERRNO(SYS_personality, 0xffffffff) != 0)
		bad |= 32;
	if (SYSCALL_ERRNO(SYS_personality, READ_IMPLIES_EXEC) != EPERM)
		bad |= 64;
	if (socket(40 /* AF_VSOCK */, SOCK_STREAM, 0) >= 0 || errno != EPERM)
		bad |= 128;
	pid = fork(); /* clone without namespace flags */
	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		bad |= 256;
	if (SYSCALL_ERRNO(SYS_init_module, NULL, 0, "") != EPERM ||
	    SYSCALL_ERRNO(SYS_bpf, 0, NULL, 0) != (sys_admin ? EFAULT : EPERM))
		bad |= 512;
	return bad;
}

static int run_filtered(const struct seccomp_prog *prog, int (*body)(bool), bool arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct sk_err err;

		if (caps_set_no_new_privs(&err) < 0 || seccomp_prog_load(prog, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(255);
		}
		_exit(body(arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(default_profile_enforced)
{
	struct seccomp_prog prog;
	struct sk_err err;
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(seccomp_prepare(NULL, caps_docker_default(), NULL, &prog, &err) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("test_seccomp: default profile compiled in %ld us, %u instructions\n",
	       (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000),
	       prog.len);
	rc = run_filtered(&prog, default_profile_child, false);
	if (rc)
		fprintf(stderr, "default profile: failed checks mask %d\n", rc);
	CHECK(rc == 0);
	seccomp_prog_release(&prog);

	CHECK(seccomp_prepare(NULL, caps_docker_default() | CAPS_BIT(CAP_SYS_ADMIN), NULL, &prog,
			      &err) == 0);
	rc = run_filtered(&prog, default_profile_child, true);
	if (rc)
		fprintf(stderr, "default profile + SYS_ADMIN: failed checks mask %d\n", rc);
	CHECK(rc == 0);
	seccomp_prog_release(&prog);
}

static int mkdir_child(bool unused)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/skiff-seccomp-%d", (int)getpid());
	/* the profile refuses mkdir with EACCES, everything else is allowed */
	return mkdir(dir, 0700) < 0 && errno == EACCES && getpid() > 0 ? 0 : 2;
}

TEST(profile_file_applied)
{
	static const char json[] =
	    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
	    "\"mkdirat\",\"no_such_syscall\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";
	char path[] = "/tmp/skiff-prof-XXXXXX";
	struct seccomp_prog prog;
	struct sk_err err;
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, json, sizeof(json) - 1) == (ssize_t)sizeof(json) - 1);
	close(fd);
	CHECK(seccomp_prepare(path, 0, NULL, &prog, &err) == 0);
	CHECK(run_filtered(&prog, mkdir_child, false) == 0);
	seccomp_prog_release(&prog);
	unlink(path);
}

TEST(cache_gives_the_same_program)
{
	char dir[] = "/tmp/skiff-seccache-XXXXXX";
	char sub[64];
	struct seccomp_prog a, b, c;
	struct sk_err err;
	struct timespec t0, t1;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/seccomp", dir);
	CHECK(seccomp_prepare(NULL, caps_docker_default(), sub, &a, &err) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(seccomp_prepare(NULL, caps_docker_default(), sub, &b, &err) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("test_seccomp: cached default profile in %ld us\n",
	       (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	CHECK(a.len == b.len && memcmp(a.filter, b.filter, a.len * sizeof(a.filter[0])) == 0);
	/* other capabilities, other program */
	CHECK(seccomp_prepare(NULL, CAPS_BIT(CAP_SYS_ADMIN), sub, &c, &err) == 0);
	CHECK(c.len != a.len || memcmp(a.filter, c.filter, a.len * sizeof(a.filter[0])) != 0);
	CHECK(run_filtered(&b, default_profile_child, false) == 0);
	seccomp_prog_release(&a);
	seccomp_prog_release(&b);
	seccomp_prog_release(&c);
	{
		struct sk_err e2;

		fs_remove_tree(AT_FDCWD, dir, &e2);
	}
}

int main(void)
{
	RUN(profile_errors);
	RUN(profile_parse_ok);
	RUN(unconfined_and_missing_file);
	RUN(default_profile_enforced);
	RUN(profile_file_applied);
	RUN(cache_gives_the_same_program);
	return UNIT_DONE();
}

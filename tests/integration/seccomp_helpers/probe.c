/*
 * probe: calls the system calls that docker's default seccomp profile denies
 * and prints "name errno" for each (0 = the call succeeded). The arguments are
 * chosen so that nothing happens even when the call is allowed: the kernel
 * answers with a distinctive errno (EINVAL, ENOSYS, ENODEV, EFAULT...) instead
 * of EPERM, so the tests can tell "seccomp said no" from "the kernel said no".
 * Built static by the integration tests (cc -static) and put into the image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long ret)
{
	printf("%s %d\n", name, ret < 0 ? errno : 0);
}

int main(int argc, char **argv)
{
	/* invalid flags: EINVAL (or ENOSYS without CONFIG_KEXEC) when allowed */
	report("kexec_load", syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdeadbeefUL));
	/* reads the id of the session keyring, creating nothing */
	report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */,
				 -3 /* KEY_SPEC_SESSION_KEYRING */, 0));
	/* a key type that does not exist: ENODEV when allowed */
	report("add_key", syscall(SYS_add_key, "skiff-no-such-type", "d", "x", 1, -2));
	report("request_key", syscall(SYS_request_key, "skiff-no-such-type", "d", NULL, 0));
	/* an unknown command: EINVAL when allowed */
	report("bpf", syscall(SYS_bpf, 9999, NULL, 0));
	/* a NULL attribute: EFAULT when allowed */
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	/* a new user namespace: needs no capability, only seccomp stands in the way */
	report("unshare_user", unshare(CLONE_NEWUSER));
	return 0;
}

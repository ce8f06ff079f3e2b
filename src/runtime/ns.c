/*
 * Namespaces: clone3 straight into the new namespaces (no unshare + fork, no
 * re-exec of /proc/self/exe), with a pidfd so the parent can wait and signal
 * without pid-reuse races; and the loopback interface of a new network
 * namespace, which docker brings up even with --network none.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"

pid_t ns_clone(unsigned long namespaces, int *pidfd, struct sk_err *err)
{
	struct clone_args args = {
		.flags = namespaces | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0)
		return err_set(err, errno, "cannot create the container's namespaces");
	return (pid_t)pid;
}

void ns_reap(int pidfd)
{
	siginfo_t si;

	waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
}

int ns_loopback_up(struct sk_err *err)
{
	cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };

	if (sock < 0)
		return err_set(err, errno, "cannot open a socket to set up 'lo'");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return err_set(err, errno, "cannot read the flags of 'lo'");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return err_set(err, errno, "cannot bring 'lo' up");
	/* ping without CAP_NET_RAW (which skiff does not grant by default):
	 * ICMP echo sockets for every group of the namespace, as docker sets
	 * it. Best effort: a kernel without the sysctl keeps ping root-only. */
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, "0 2147483647\n", 13);
		close(fd);
	}
	return 0;
}

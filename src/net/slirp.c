/*
 * slirp4netns for rootless containers (slirp.h).
 */
#include "net/slirp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/ipam.h"
#include "util/cleanup.h"

#define SLIRP_BIN "slirp4netns"
#define READY_TIMEOUT_MS 10000
#define API_REPLY_MAX 4096

static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *colon = strchrnul(p, ':');

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(colon - p), p, name);
		if (access(buf, X_OK) == 0)
			return true;
		p = *colon ? colon + 1 : colon;
	}
	return false;
}

int slirp_check(struct sk_err *err)
{
	int fd;

	if (!on_path(SLIRP_BIN))
		return err_set(err, 0, "rootless networking needs slirp4netns (Debian package "
				       "slirp4netns); or use --network none");
	/* a user namespace's root cannot open a device node of the host's
	 * root that is not open to everybody */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		struct stat st;

		if (errno == EACCES && stat("/dev/net/tun", &st) == 0)
			return err_set(err, 0, "rootless networking needs /dev/net/tun open to every "
					       "user (mode 0666, Debian's default; it is %04o here)",
				       st.st_mode & 07777);
		return err_set(err, errno, "rootless networking needs /dev/net/tun");
	}
	close(fd);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What slirp4netns said on stderr, on one line, for an error. */
static void read_reason(int fd, char *out, size_t len)
{
	ssize_t n = read(fd, out, len - 1);

	out[n > 0 ? n : 0] = '\0';
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = *(p + 1) ? ' ' : '\0';
}

/* One API request: {"execute": "add_hostfwd", ...}; the reply must have
 * "return". */
static int add_forward(const char *api, const struct port_map *m, struct sk_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char req[256], reply[API_REPLY_MAX], hip[16];
	ssize_t n, got = 0;
	int len;

	ipam_format_ip(m->host_ip, hip);
	len = snprintf(req, sizeof(req),
		       "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"%s\", "
		       "\"host_addr\": \"%s\", \"host_port\": %u, \"guest_port\": %u}}",
		       ports_proto_name(m->proto), hip, m->host_port, m->container_port);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", api);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, req, (size_t)len) != len || shutdown(fd, SHUT_WR) < 0)
		return err_set(err, errno, "cannot talk to slirp4netns");
	while (got < (ssize_t)sizeof(reply) - 1 &&
	       (n = read(fd, reply + got, sizeof(reply) - 1 - (size_t)got)) > 0)
		got += n;
	reply[got > 0 ? got : 0] = '\0';
	if (!strstr(reply, "\"return\""))
		return err_set(err, 0, "bind for %s:%u/%s failed: %s", hip, m->host_port,
			       ports_proto_name(m->proto), got > 0 ? reply : "no answer from slirp4netns");
	return 0;
}

/* A network namespace of its own, for the container and slirp4netns: made
 * by a short-lived child (unshare would move the caller), which sets it up
 * and hands it over on a socket. */
static int new_netns(struct sk_err *err)
{
	int sv[2], fd = -1, status;
	pid_t pid;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(err, errno, "cannot make a network namespace");
	pid = fork();
	if (pid == 0) {
		int ns, lo = -1;
		struct ifreq ifr = { 0 };

		close(sv[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		lo = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (ns < 0 || lo < 0 || ioctl(lo, SIOCGIFFLAGS, &ifr) < 0)
			_exit(1);
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(lo, SIOCSIFFLAGS, &ifr) < 0)
			_exit(1);
		int pg = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);

		if (pg >= 0)
			(void)!write(pg, "0 2147483647\n", 13);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &ns, sizeof(int));
		_exit(sendmsg(sv[1], &msg, 0) == 1 ? 0 : 1);
	}
	close(sv[1]);
	if (pid > 0 && recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC) == 1) {
		cm = CMSG_FIRSTHDR(&msg);
		if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	}
	close(sv[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (fd < 0)
		return err_set(err, pid < 0 ? errno : 0, "cannot make a network namespace");
	return fd;
}

static void exec_slirp(int netns, const char *api, int exit_r, int ready_w, int err_w)
{
	char pidtext[32], exitfd[24], readyfd[24], apiarg[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* its descriptors: 0, 1 /dev/null, 2 the error pipe, 3 exit, 4 ready,
	 * 5 the namespace (a path it can open: /proc/self/fd/5) */
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(err_w, 2) < 0 ||
	    dup2(exit_r, 3) < 0 || dup2(ready_w, 4) < 0 || dup2(netns, 5) < 0)
		_exit(127);
	close_range(6, ~0U, 0);
	snprintf(pidtext, sizeof(pidtext), "/proc/self/fd/5");
	snprintf(exitfd, sizeof(exitfd), "--exit-fd=3");
	snprintf(readyfd, sizeof(readyfd), "--ready-fd=4");
	snprintf(apiarg, sizeof(apiarg), "--api-socket=%s", api);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* docker's kind of MAC (02:42 and the address), the one inspect shows */
	execlp(SLIRP_BIN, SLIRP_BIN, "--configure", "--mtu=65520", "--disable-host-loopback",
	       "--macaddress=02:42:0a:00:02:64",
	       "--enable-sandbox", "--enable-seccomp", "--netns-type=path", exitfd, readyfd, apiarg,
	       pidtext, "tap0", (char *)NULL);
	_exit(127);
}

int slirp_start(struct port_map *ports, size_t n_ports, struct slirp *out, struct sk_err *err)
{
	char dir[] = "/tmp/skiff-slirp-XXXXXX", api[sizeof(dir) + 16], reason[512], c;
	int exit_p[2] = { -1, -1 }, ready_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	struct pollfd pfd;
	int ret = -1;

	for (size_t i = 0; i < n_ports; i++)
		if (ports_choose_host_port(&ports[i], err) < 0)
			return -1;
	out->netns_fd = new_netns(err);
	if (out->netns_fd < 0)
		return -1;
	if (!mkdtemp(dir)) {
		slirp_stop(out);
		return err_set(err, errno, "cannot make a directory for slirp4netns");
	}
	snprintf(api, sizeof(api), "%s/api.sock", dir);
	if (pipe2(exit_p, O_CLOEXEC) < 0 || pipe2(ready_p, O_CLOEXEC) < 0 ||
	    pipe2(err_p, O_CLOEXEC | O_NONBLOCK) < 0) {
		err_set(err, errno, "cannot start slirp4netns");
		goto out;
	}
	out->pid = fork();
	if (out->pid < 0) {
		out->pid = 0;
		err_set(err, errno, "cannot start slirp4netns");
		goto out;
	}
	if (out->pid == 0)
		exec_slirp(out->netns_fd, api, exit_p[0], ready_p[1], err_p[1]);
	close(ready_p[1]);
	ready_p[1] = -1;
	close(err_p[1]);
	err_p[1] = -1;
	out->exit_fd = exit_p[1];
	exit_p[1] = -1;
	/* ready: it wrote to the ready pipe; failed: the pipe ends */
	pfd = (struct pollfd){ .fd = ready_p[0], .events = POLLIN };
	for (;;) {
		int64_t left = deadline - now_ms();
		int r = poll(&pfd, 1, left > 0 ? (int)left : 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0 && read(ready_p[0], &c, 1) == 1)
			break;
		read_reason(err_p[0], reason, sizeof(reason));
		err_set(err, 0, "slirp4netns did not start%s%s", reason[0] ? ": " : "", reason);
		slirp_stop(out);
		goto out;
	}
	for (size_t i = 0; i < n_ports; i++)
		if (add_forward(api, &ports[i], err) < 0) {
			slirp_stop(out);
			goto out;
		}
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (exit_p[i] >= 0)
			close(exit_p[i]);
		if (ready_p[i] >= 0)
			close(ready_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	/* the socket stays open in slirp4netns; nobody needs its name again */
	unlink(api);
	rmdir(dir);
	return ret;
}

void slirp_stop(struct slirp *s)
{
	if (s->exit_fd >= 0)
		close(s->exit_fd);
	s->exit_fd = -1;
	if (s->netns_fd >= 0)
		close(s->netns_fd);
	s->netns_fd = -1;
	if (s->pid > 0) {
		int status;

		/* it ends once the exit pipe is closed; a stuck one is killed */
		for (int i = 0; i < 200; i++) {
			pid_t r = waitpid(s->pid, &status, WNOHANG);

			if (r == s->pid || (r < 0 && errno == ECHILD))
				goto reaped;
			usleep(5000);
		}
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
reaped:
	s->pid = 0;
}

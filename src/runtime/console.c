/*
 * -t: the container's terminal. As crun does, the pty is opened by the child
 * inside the container's own devpts instance (so `tty` says /dev/pts/0 and the
 * host's devpts is never visible), made the controlling terminal of the
 * container's process, bound on /dev/console, and its master is passed to the
 * parent over the sync socket (SCM_RIGHTS). The parent puts its own terminal
 * in raw mode and copies bytes both ways; window size follows SIGWINCH.
 */
#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

int console_send_fd(int sock, int fd, struct sk_err *err)
{
	struct sync_msg msg = { .kind = SYNC_PTY_MASTER };
	struct iovec iov = { .iov_base = &msg, .iov_len = sizeof(msg) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctrl = { 0 };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return err_set(err, errno, "cannot pass the terminal to skiff");
	return 0;
}

int console_recv_fd(const struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh); c;
	     c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		return fd;
	}
	return -1;
}

static int bind_console(int rootfd, int master, struct sk_err *err)
{
	char pts[64];
	unsigned n;
	cleanup_close int target = -1;
	cleanup_close int src = -1;
	cleanup_close int tree = -1;

	if (ioctl(master, TIOCGPTN, &n) < 0)
		return err_set(err, errno, "cannot name the container's terminal");
	snprintf(pts, sizeof(pts), "/dev/pts/%u", n);
	src = fs_open_in_root_nofollow(rootfd, pts, O_PATH, 0);
	if (src < 0)
		return err_set(err, -src, "cannot open '%s'", pts);
	target = rootfs_open_target(rootfd, "/dev/console", false, err);
	if (target < 0)
		return -1;
	tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0 || move_mount(tree, "", target, "",
				   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_set(err, errno, "cannot bind '%s' on /dev/console", pts);
	return 0;
}

int console_window(struct winsize *ws)
{
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, ws) == 0)
		return 0;
	memset(ws, 0, sizeof(*ws));
	return -1;
}

static int make_controlling(int slave, struct sk_err *err)
{
	if (setsid() < 0)
		return err_set(err, errno, "cannot start a session");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return err_set(err, errno, "cannot set the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return err_set(err, errno, "cannot attach the terminal to stdio");
	return 0;
}

int console_setup_child(int rootfd, int sync_fd, const struct winsize *ws, bool bind,
			struct sk_err *err)
{
	int unlock = 0;
	cleanup_close int master =
		fs_open_in_root_nofollow(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0);
	cleanup_close int slave = -1;

	if (master < 0)
		return err_set(err, -master, "cannot open the container's /dev/pts/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return err_set(err, errno, "cannot unlock the terminal");
	/* TIOCGPTPEER opens the slave without a path lookup. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return err_set(err, errno, "cannot open the terminal");
	if (bind && bind_console(rootfd, master, err) < 0)
		return -1;
	/* skiff's own terminal is not the child's to read (its stdio are
	 * placeholders by now): the parent measured it before the fork. */
	if (ws && ws->ws_row && ws->ws_col)
		ioctl(slave, TIOCSWINSZ, ws);
	if (make_controlling(slave, err) < 0)
		return -1;
	return console_send_fd(sync_fd, master, err);
}

int console_raw_mode(int fd, struct termios *saved)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, saved) < 0)
		return -1;
	raw = *saved;
	cfmakeraw(&raw);
	/* Keep output post-processing off but let the terminal stay usable. */
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -1;
	return 0;
}

void console_restore(int fd, const struct termios *saved)
{
	tcsetattr(fd, TCSANOW, saved);
}

void console_resize(int master)
{
	struct winsize ws;

	if (console_window(&ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

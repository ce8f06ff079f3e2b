/*
 * --init: a minimal pid 1 built into skiff (what tini does for docker), so no
 * extra binary has to exist in the image. The container's first process forks
 * the real command and stays behind to forward every signal it gets to it,
 * reap zombies re-parented to pid 1, and exit with the command's status
 * (128+N when it was killed by signal N).
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/internal.h"

static __attribute__((noreturn)) void exit_like(int status)
{
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

/* Reap everything that has exited; exit when the command itself has. */
static void reap(pid_t child)
{
	int status;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0)
		if (p == child)
			exit_like(status);
}

static __attribute__((noreturn)) void init_loop(pid_t child)
{
	sigset_t all;

	sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig == SIGCHLD)
			reap(child);
		else
			kill(child, sig);
	}
}

/* In the command: its own process group, in the terminal's foreground, so a
 * ^C on the terminal reaches it once (not also through the init). */
static void take_foreground(void)
{
	setpgid(0, 0);
	if (isatty(STDIN_FILENO))
		tcsetpgrp(STDIN_FILENO, getpid());
}

int init_fork(int sync_fd, struct sk_err *err)
{
	sigset_t all;
	pid_t child;

	/* Blocked signals are queued even for pid 1, which would otherwise drop
	 * every signal it has no handler for. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	child = fork();
	if (child < 0)
		return err_set(err, errno, "init: cannot fork");
	if (child == 0) {
		take_foreground();
		return 0;
	}
	/* The command reports its own exec failure; skiff sees EOF once it execs. */
	close(sync_fd);
	init_loop(child);
}

/*
 * proctitle_set: after it, /proc/PID/cmdline (readable by every user) holds
 * the title and nothing of the original arguments, and comm is the title's
 * first word. Checked on a re-exec of this test with a "secret" argument.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "util/proctitle.h"

static size_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

TEST(cmdline_and_comm_are_replaced)
{
	int p[2];
	char path[64], buf[4096], fd[16], c;
	pid_t pid;
	size_t n;

	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		snprintf(fd, sizeof(fd), "%d", p[1]);
		execl("/proc/self/exe", "test_proctitle", "--child", fd, "SECRET=hunter2", "more-args",
		      (char *)NULL);
		_exit(99);
	}
	close(p[1]);
	CHECK(read(p[0], &c, 1) == 1); /* the child set its title */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_file(path, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_STR(buf, "skiff-monitor 0123456789ab");
	CHECK(!memmem(buf, n, "hunter2", 7));
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	read_file(path, buf, sizeof(buf));
	CHECK_STR(buf, "skiff-monitor\n");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--child")) {
		int ready = atoi(argv[2]);

		proctitle_set("skiff-monitor 0123456789ab");
		(void)!write(ready, "x", 1);
		pause();
		return 0;
	}
	RUN(cmdline_and_comm_are_replaced);
	return UNIT_DONE();
}

/*
 * skiff-init (src/stub/skiff_init.c) run for real from its sealed memfd, as
 * run and exec start it: the command's exit code and errors reach the sync
 * socket exactly as skiff prints them, init mode passes exit codes and
 * signals through, the copy cannot be changed, and skiff-init started by
 * anything else (a "#!/proc/self/exe" script) refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/stub.h"
#include "unit.h"

extern char **environ;

struct outcome {
	int status;        /* exit code, 128+N after signal N */
	int msg_code;      /* from a SYNC_ERROR message, 0 when none */
	char msg[SYNC_MSG_TEXT_MAX];
};

static void run_stub(const char *mode, char *const *args, struct outcome *o)
{
	struct sk_err err = { 0 };
	int memfd = stub_memfd(&err), sv[2], st;
	struct sync_msg m;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (memfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		o->status = -1;
		return;
	}
	pid = fork();
	if (pid == 0) {
		memfd = fcntl(memfd, F_DUPFD_CLOEXEC, 10); /* not on the sync fd's number */
		dup2(sv[1], STUB_SYNC_FD); /* not close-on-exec, as the runtime leaves it */
		stub_exec(memfd, mode, args, environ, &err);
		_exit(99);
	}
	close(sv[1]);
	if (recv(sv[0], &m, sizeof(m), 0) == (ssize_t)sizeof(m) && m.kind == SYNC_ERROR) {
		o->msg_code = m.exit_code;
		memcpy(o->msg, m.msg, sizeof(o->msg));
	}
	waitpid(pid, &st, 0);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(sv[0]);
	close(memfd);
}

TEST(exec_mode_runs_the_command_and_closes_the_sync_socket)
{
	struct outcome o;

	/* fd 3 must be gone in the command: its start is EOF for skiff. */
	run_stub(STUB_MODE_EXEC, (char *[]){ "sh", "-c", "[ -e /proc/self/fd/3 ] && exit 9; exit 3", NULL },
		 &o);
	CHECK(o.status == 3);
	CHECK(o.msg_code == 0);
}

TEST(not_found_is_127_with_docker_s_message)
{
	struct outcome o;

	run_stub(STUB_MODE_EXEC, (char *[]){ "no-such-command-here", NULL }, &o);
	CHECK(o.status == 127);
	CHECK(o.msg_code == 127);
	CHECK_STR(o.msg, "exec: \"no-such-command-here\": executable file not found in $PATH");
	run_stub(STUB_MODE_EXEC, (char *[]){ "/no/such/file", NULL }, &o);
	CHECK(o.status == 127);
	CHECK_STR(o.msg, "exec: \"/no/such/file\": stat /no/such/file: no such file or directory");
}

/* A file of the test's own with mode and content. */
static void make_file(char *path, mode_t mode, const char *content)
{
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

TEST(not_executable_is_126)
{
	char plain[] = "/tmp/skiff-stub-test-XXXXXX", garbage[] = "/tmp/skiff-stub-test-XXXXXX";
	char want[256];
	struct outcome o;

	make_file(plain, 0644, "data\n");
	make_file(garbage, 0755, "\x7f" "ELF garbage");
	run_stub(STUB_MODE_EXEC, (char *[]){ plain, NULL }, &o);
	CHECK(o.status == 126);
	snprintf(want, sizeof(want), "exec: \"%s\": permission denied", plain);
	CHECK_STR(o.msg, want);
	run_stub(STUB_MODE_EXEC, (char *[]){ garbage, NULL }, &o);
	CHECK(o.status == 126);
	snprintf(want, sizeof(want), "exec: \"%s\": exec format error", garbage);
	CHECK_STR(o.msg, want);
	unlink(plain);
	unlink(garbage);
}

TEST(init_mode_passes_exit_codes_and_signals)
{
	struct outcome o;

	run_stub(STUB_MODE_INIT, (char *[]){ "sh", "-c", "exit 7", NULL }, &o);
	CHECK(o.status == 7);
	run_stub(STUB_MODE_INIT, (char *[]){ "sh", "-c", "kill -TERM $$", NULL }, &o);
	CHECK(o.status == 128 + SIGTERM);
	/* The command's exec failure is reported by the command's process. */
	run_stub(STUB_MODE_INIT, (char *[]){ "no-such-command-here", NULL }, &o);
	CHECK(o.status == 127 && o.msg_code == 127);
}

TEST(detach_mode_returns_at_once)
{
	struct outcome o;

	run_stub(STUB_MODE_DETACH, (char *[]){ "sh", "-c", "exit 5", NULL }, &o);
	CHECK(o.status == 0);
}

TEST(the_memfd_cannot_be_changed)
{
	struct sk_err err = { 0 };
	int fd = stub_memfd(&err);
	int seals = fcntl(fd, F_GET_SEALS);

	CHECK(fd >= 0);
	CHECK(seals & F_SEAL_WRITE);
	CHECK(seals & F_SEAL_SEAL);
	CHECK(write(fd, "x", 1) < 0 && errno == EPERM);
	CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);
	CHECK(fcntl(fd, F_ADD_SEALS, 0) < 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST(refuses_to_run_as_anything_else)
{
	struct sk_err err = { 0 };
	int fd = stub_memfd(&err), st;
	pid_t pid = fork();

	if (pid == 0) {
		/* What a "#!/proc/self/exe" script gives it: argv[0] a path. */
		char *argv[] = { "/proc/self/exe", "/script", NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 126);
	close(fd);
}

int main(void)
{
	RUN(exec_mode_runs_the_command_and_closes_the_sync_socket);
	RUN(not_found_is_127_with_docker_s_message);
	RUN(not_executable_is_126);
	RUN(init_mode_passes_exit_codes_and_signals);
	RUN(detach_mode_returns_at_once);
	RUN(the_memfd_cannot_be_changed);
	RUN(refuses_to_run_as_anything_else);
	return UNIT_DONE();
}

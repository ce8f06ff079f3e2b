/*
 * skiff-init: the last step into a container, and --init's pid 1.
 *
 * Whatever runs skiff's own code inside a container hands the container the
 * host's skiff binary: /proc/PID/exe can be opened (CVE-2019-5736), a script
 * starting "#!/proc/self/exe" makes the kernel run it in the container, and
 * the process can be ptraced while it still holds host objects. So skiff
 * never execs a container's command itself: it execs this program, from a
 * sealed memfd copy (runtime/stub.c), and this program execs the command.
 * The container can at most open the copy, which it cannot change.
 *
 * Freestanding (no libc): a few kilobytes, static, nothing to load from the
 * container's file system, nothing held open but what it was given. The
 * protocol with skiff is in runtime/stub_proto.h.
 */
#include <stddef.h>
#include <stdint.h>

#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/stat.h>
#include <asm/stat.h>
#include <linux/wait.h>
#include <asm/ioctls.h>
#include <asm-generic/errno.h>

#include "runtime/stub_proto.h"

#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127
#define MSG_NOSIGNAL 0x4000
#define PATH_MAX_LEN 4096
#define NSIG_WORDS 1 /* the kernel's sigset_t for rt_sig* on 64-bit */

/* --- system calls ---------------------------------------------------------- */

#if defined(__x86_64__)
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call stub_main\n"
	"	hlt\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	bl stub_main\n"
	"	brk #0\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "skiff-init: add the system call convention of this architecture"
#endif

#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static __attribute__((noreturn)) void die(int code)
{
	for (;;)
		sys1(__NR_exit_group, code);
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static const char *str_chr(const char *s, char c)
{
	for (; *s; s++)
		if (*s == c)
			return s;
	return NULL;
}

/* --- reporting ------------------------------------------------------------- */

/* Appends to a bounded, always terminated buffer. */
struct text {
	char *buf;
	size_t len, cap;
};

static void text_add(struct text *t, const char *s)
{
	while (*s && t->len + 1 < t->cap)
		t->buf[t->len++] = *s++;
	t->buf[t->len] = '\0';
}

static void text_add_num(struct text *t, unsigned n)
{
	char digits[12];
	int i = sizeof(digits) - 1;

	digits[i] = '\0';
	do
		digits[--i] = (char)('0' + n % 10);
	while ((n /= 10) && i > 0);
	text_add(t, digits + i);
}

/* Go's wording (docker prints it), for the errors execve can give. */
static const char *errno_text(int e)
{
	switch (e) {
	case EACCES: return "permission denied";
	case ENOEXEC: return "exec format error";
	case EPERM: return "operation not permitted";
	case E2BIG: return "argument list too long";
	case ENOMEM: return "cannot allocate memory";
	case ETXTBSY: return "text file busy";
	case ELOOP: return "too many levels of symbolic links";
	case EISDIR: return "is a directory";
	case ELIBBAD: return "accessing a corrupted shared library";
	case ENAMETOOLONG: return "file name too long";
	default: return NULL;
	}
}

/* One message to skiff on the sync socket, or on stderr when there is none
 * (skiff-init started by hand); then exit with code. */
static __attribute__((noreturn)) void fail(int code, struct text *t)
{
	struct sync_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.kind = SYNC_ERROR;
	msg.exit_code = code;
	memcpy(msg.msg, t->buf, t->len + 1);
	if (sys6(__NR_sendto, STUB_SYNC_FD, (long)&msg, sizeof(msg), MSG_NOSIGNAL, 0, 0) < 0) {
		sys3(__NR_write, 2, STUB_NAME ": ", sizeof(STUB_NAME ": ") - 1);
		sys3(__NR_write, 2, t->buf, t->len);
		sys3(__NR_write, 2, "\n", 1);
	}
	die(code);
}

static __attribute__((noreturn)) void exec_failed(const char *cmd, const char *path, int e)
{
	char buf[SYNC_MSG_TEXT_MAX];
	struct text t = { buf, 0, sizeof(buf) };
	const char *why = errno_text(e);

	text_add(&t, "exec: \"");
	text_add(&t, cmd);
	if (e == ENOENT || e == ENOTDIR) {
		text_add(&t, "\": stat ");
		text_add(&t, path);
		text_add(&t, ": no such file or directory");
		fail(EXIT_NOT_FOUND, &t);
	}
	text_add(&t, "\": ");
	if (why) {
		text_add(&t, why);
	} else {
		text_add(&t, "errno ");
		text_add_num(&t, (unsigned)e);
	}
	fail(EXIT_CANNOT_INVOKE, &t);
}

/* --- the command ----------------------------------------------------------- */

static const char *env_get(char **envp, const char *name)
{
	size_t n = str_len(name);

	for (; *envp; envp++) {
		const char *e = *envp;
		size_t i = 0;

		while (i < n && e[i] == name[i])
			i++;
		if (i == n && e[n] == '=')
			return e + n + 1;
	}
	return NULL;
}

/* Go's exec.LookPath, as docker: the first regular file with an execute bit. */
static int is_executable_file(const char *path)
{
	struct stat st;

	if (sys4(__NR_newfstatat, AT_FDCWD, path, &st, 0) < 0)
		return 0;
	return (st.st_mode & S_IFMT) == S_IFREG && (st.st_mode & 0111);
}

/* Never returns: the command runs, or the failure is reported. The sync
 * socket closes with a successful execve. */
static __attribute__((noreturn)) void exec_command(char **argv, char **envp)
{
	const char *path = env_get(envp, "PATH");
	const char *p;
	char full[PATH_MAX_LEN];
	long r;

	sys3(__NR_fcntl, STUB_SYNC_FD, F_SETFD, FD_CLOEXEC);
	if (str_chr(argv[0], '/')) {
		r = sys3(__NR_execve, argv[0], argv, envp);
		exec_failed(argv[0], argv[0], (int)-r);
	}
	for (p = path ? path : SKIFF_DEFAULT_PATH; p && *p;) {
		const char *colon = str_chr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : str_len(p);
		struct text t = { full, 0, sizeof(full) };

		if (len > 0 && len + str_len(argv[0]) + 2 < sizeof(full)) {
			for (size_t i = 0; i < len; i++)
				full[t.len++] = p[i];
			text_add(&t, "/");
			text_add(&t, argv[0]);
			if (is_executable_file(full)) {
				r = sys3(__NR_execve, full, argv, envp);
				exec_failed(argv[0], full, (int)-r);
			}
		}
		p = colon ? colon + 1 : NULL;
	}
	{
		char buf[SYNC_MSG_TEXT_MAX];
		struct text t = { buf, 0, sizeof(buf) };

		text_add(&t, "exec: \"");
		text_add(&t, argv[0]);
		text_add(&t, "\": executable file not found in $PATH");
		fail(EXIT_NOT_FOUND, &t);
	}
}

/* --- init ------------------------------------------------------------------ */

static long fork_child(void)
{
	return sys6(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0);
}

static __attribute__((noreturn)) void exit_like(int status)
{
	if ((status & 0x7f) != 0)
		die(128 + (status & 0x7f)); /* killed by a signal */
	die((status >> 8) & 0xff);
}

/* Reap everything that has exited; exit when the command itself has. */
static void reap(long child)
{
	int status;
	long p;

	while ((p = sys4(__NR_wait4, -1, &status, WNOHANG, 0)) > 0)
		if (p == child)
			exit_like(status);
}

static __attribute__((noreturn)) void init_loop(long child)
{
	unsigned long all = ~0UL;
	struct {
		int signo, errno_, code, pad[29];
	} info;

	for (;;) {
		long sig = sys4(__NR_rt_sigtimedwait, &all, &info, 0, sizeof(all));

		if (sig < 0)
			continue;
		if (sig == SIGCHLD)
			reap(child);
		else
			sys2(__NR_kill, child, sig);
	}
}

/* The command in its own process group, in the terminal's foreground, so a
 * ^C typed on the terminal reaches it once (not also through the init). */
static void take_foreground(void)
{
	int pid = (int)sys0(__NR_getpid);
	char termios[64];

	sys2(__NR_setpgid, 0, 0);
	if (sys3(__NR_ioctl, 0, TCGETS, termios) == 0)
		sys3(__NR_ioctl, 0, TIOCSPGRP, &pid);
}

/* exec -d: this process runs outside the container's PID namespace (exec.c),
 * and an orphan goes to the reaper of its parent's namespace: the command,
 * our child, would go to the host's init, and the container's pid 1 could not
 * finish exiting until the host's init reaped it. So the command is a
 * grandchild: its parent, in the container, exits at once and we reap it,
 * and the command is the container's pid 1's to reap. */
static void detach_from_parent(void)
{
	long grandchild;

	sys0(__NR_setsid);
	grandchild = fork_child();
	if (grandchild < 0) {
		char buf[64];
		struct text t = { buf, 0, sizeof(buf) };

		text_add(&t, "cannot fork");
		fail(EXIT_CANNOT_INVOKE, &t);
	}
	if (grandchild > 0)
		die(0);
}

/* Blocked signals are queued even for pid 1, which would otherwise drop
 * every signal it has no handler for; the command gets the mask back. */
static __attribute__((noreturn)) void spawn(char **argv, char **envp, int detach)
{
	unsigned long all = ~0UL, orig = 0;
	long child;

	sys4(__NR_rt_sigprocmask, SIG_BLOCK, &all, &orig, sizeof(all));
	/* Not ptraceable, /proc/1/{fd,environ...} closed to the container. */
	sys2(__NR_prctl, PR_SET_DUMPABLE, 0);
	child = fork_child();
	if (child < 0) {
		char buf[64];
		struct text t = { buf, 0, sizeof(buf) };

		text_add(&t, "init: cannot fork");
		fail(EXIT_CANNOT_INVOKE, &t);
	}
	if (child == 0) {
		if (detach)
			detach_from_parent();
		else
			take_foreground();
		sys4(__NR_rt_sigprocmask, SIG_SETMASK, &orig, 0, sizeof(orig));
		exec_command(argv, envp);
	}
	/* The command reports its own exec failure; skiff sees EOF once it execs. */
	sys1(__NR_close, STUB_SYNC_FD);
	if (detach) {
		int status;

		sys4(__NR_wait4, child, &status, 0, 0);
		die(0);
	}
	init_loop(child);
}

__attribute__((noreturn, used)) void stub_main(long *sp);

void stub_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;

	/* Started by anything but skiff (a "#!/proc/self/exe" script run in
	 * the container, say): refuse rather than guess. */
	if (argc < 3 || !str_eq(argv[0], STUB_NAME)) {
		static const char usage[] = "usage: " STUB_NAME " -x|--|-d COMMAND [ARG...]\n";

		sys3(__NR_write, 2, usage, sizeof(usage) - 1);
		die(EXIT_CANNOT_INVOKE);
	}
	if (str_eq(argv[1], STUB_MODE_EXEC))
		exec_command(argv + 2, envp);
	if (str_eq(argv[1], STUB_MODE_INIT))
		spawn(argv + 2, envp, 0);
	if (str_eq(argv[1], STUB_MODE_DETACH))
		spawn(argv + 2, envp, 1);
	sys3(__NR_write, 2, STUB_NAME ": unknown mode\n", sizeof(STUB_NAME ": unknown mode\n") - 1);
	die(EXIT_CANNOT_INVOKE);
}

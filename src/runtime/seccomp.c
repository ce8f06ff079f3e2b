/*
 * seccomp: docker's default profile as a built-in table, docker's JSON
 * profile format, and the compilation of either into a BPF program for the
 * container's capabilities (with libseccomp, in the parent). The child only
 * loads the finished program.
 *
 * The default profile is docker's allow-list (moby/profiles/seccomp/
 * default.json): every syscall not listed fails with EPERM, some are allowed
 * only with a capability, clone3 fails with ENOSYS so that libc falls back to
 * clone, where the namespace flags can be checked. See docs/SECURITY.md.
 */
#include "runtime/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ALLOW SCMP_ACT_ALLOW
#define CAP(c) CAPS_BIT(CAP_##c)

/* Clone flags that create namespaces: docker refuses them to clone(2) without
 * CAP_SYS_ADMIN (unshare(2) and setns(2) need CAP_SYS_ADMIN outright). */
#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP)

static const struct seccomp_rule default_rules[] = {
    {.action = ALLOW,
     .names = NAMES(
	 "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
	 "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
	 "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
	 "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
	 "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	 "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	 "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
	 "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
	 "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
	 "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	 "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	 "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
	 "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
	 "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
	 "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
	 "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
	 "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
	 "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
	 "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
	 "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
	 "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
	 "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
	 "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
	 "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
	 "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
	 "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	 "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
	 "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
	 "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
	 "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
	 "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
	 "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
	 "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
	 "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
	 "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
	 "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	 "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
	 "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
	 "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
	 "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
	 "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
	 "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
	 "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
	 "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
	 "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
	 "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
	 "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
	 "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
	 "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
	 "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill",
	 "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
	 "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
	 "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
	 "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
	 "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
	 "writev")},
    /* AF_VSOCK (40) reaches the hypervisor. */
    {.action = ALLOW,
     .names = NAMES("socket"),
     .n_args = 1,
     .args = {{.index = 0, .value = 40, .op = SCMP_CMP_NE}}},
    /* personality(2) only with the harmless personas docker allows. */
    {.action = ALLOW,
     .names = NAMES("personality"),
     .n_args = 1,
     .args = {{.index = 0, .value = 0x0, .op = SCMP_CMP_EQ}}},
    {.action = ALLOW,
     .names = NAMES("personality"),
     .n_args = 1,
     .args = {{.index = 0, .value = 0x8, .op = SCMP_CMP_EQ}}},
    {.action = ALLOW,
     .names = NAMES("personality"),
     .n_args = 1,
     .args = {{.index = 0, .value = 0x20000, .op = SCMP_CMP_EQ}}},
    {.action = ALLOW,
     .names = NAMES("personality"),
     .n_args = 1,
     .args = {{.index = 0, .value = 0x20008, .op = SCMP_CMP_EQ}}},
    {.action = ALLOW,
     .names = NAMES("personality"),
     .n_args = 1,
     .args = {{.index = 0, .value = 0xffffffff, .op = SCMP_CMP_EQ}}},
    {.action = ALLOW, .names = NAMES("arch_prctl", "modify_ldt")},
    /* ptrace is safe since 4.8 (seccomp is re-checked after the tracer's changes). */
    {.action = ALLOW,
     .names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"),
     .min_kernel = 4 << 16 | 8},
    /* clone without namespace flags; clone3 hides its flags in memory, so ENOSYS
     * sends libc back to clone. */
    {.action = ALLOW,
     .names = NAMES("clone"),
     .n_args = 1,
     .args = {{.index = 0, .value = NS_FLAGS, .value_two = 0, .op = SCMP_CMP_MASKED_EQ}},
     .caps_exclude = CAP(SYS_ADMIN)},
    {.action = SCMP_ACT_ERRNO(ENOSYS), .names = NAMES("clone3"), .caps_exclude = CAP(SYS_ADMIN)},
    {.action = ALLOW,
     .names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
		    "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
		    "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
		    "setns", "syslog", "umount", "umount2", "unshare", "pivot_root", "swapon",
		    "swapoff", "vm86", "vm86old"),
     .caps_include = CAP(SYS_ADMIN)},
    {.action = ALLOW, .names = NAMES("open_by_handle_at"), .caps_include = CAP(DAC_READ_SEARCH)},
    {.action = ALLOW, .names = NAMES("reboot"), .caps_include = CAP(SYS_BOOT)},
    {.action = ALLOW, .names = NAMES("chroot"), .caps_include = CAP(SYS_CHROOT)},
    {.action = ALLOW,
     .names = NAMES("delete_module", "init_module", "finit_module"),
     .caps_include = CAP(SYS_MODULE)},
    {.action = ALLOW, .names = NAMES("acct"), .caps_include = CAP(SYS_PACCT)},
    {.action = ALLOW,
     .names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
		    "process_vm_writev", "ptrace"),
     .caps_include = CAP(SYS_PTRACE)},
    {.action = ALLOW, .names = NAMES("iopl", "ioperm"), .caps_include = CAP(SYS_RAWIO)},
    {.action = ALLOW,
     .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
     .caps_include = CAP(SYS_TIME)},
    {.action = ALLOW, .names = NAMES("vhangup"), .caps_include = CAP(SYS_TTY_CONFIG)},
    {.action = ALLOW,
     .names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
     .caps_include = CAP(SYS_NICE)},
    {.action = ALLOW, .names = NAMES("syslog"), .caps_include = CAP(SYSLOG)},
    {.action = ALLOW, .names = NAMES("bpf"), .caps_include = CAP(BPF)},
    {.action = ALLOW, .names = NAMES("perf_event_open"), .caps_include = CAP(PERFMON)},
};

void seccomp_profile_default(struct seccomp_profile *p)
{
	*p = (struct seccomp_profile){
	    .default_action = SCMP_ACT_ERRNO(EPERM),
	    /* Casting away const: owned == false, so release never writes or frees them. */
	    .rules = (struct seccomp_rule *)default_rules,
	    .n_rules = ARRAY_SIZE(default_rules),
	};
}

/* ---- compiling ---------------------------------------------------------- */

static unsigned running_kernel(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) == 0)
		sscanf(u.release, "%u.%u", &major, &minor);
	return major << 16 | minor;
}

static bool rule_applies(const struct seccomp_rule *r, uint64_t caps, unsigned kernel)
{
	if (r->never || (r->caps_include & caps) != r->caps_include || (r->caps_exclude & caps))
		return false;
	return r->min_kernel == 0 || kernel >= r->min_kernel;
}

static bool args_share_an_index(const struct seccomp_rule *r)
{
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t j = i + 1; j < r->n_args; j++)
			if (r->args[i].index == r->args[j].index)
				return true;
	return false;
}

static struct scmp_arg_cmp to_cmp(const struct seccomp_rule_arg *a)
{
	return (struct scmp_arg_cmp){.arg = a->index,
				     .op = (enum scmp_compare)a->op,
				     .datum_a = a->value,
				     .datum_b = a->value_two};
}

/* As runc: conditions on distinct arguments form one rule (AND); several
 * conditions on the same argument become one rule each (OR), which is what
 * docker's profiles mean by them. */
static int add_syscall(scmp_filter_ctx ctx, const struct seccomp_rule *r, int nr)
{
	struct scmp_arg_cmp cmps[SECCOMP_MAX_RULE_ARGS];
	int rc = 0;

	if (r->n_args == 0)
		return seccomp_rule_add(ctx, r->action, nr, 0);
	if (!args_share_an_index(r)) {
		for (size_t i = 0; i < r->n_args; i++)
			cmps[i] = to_cmp(&r->args[i]);
		return seccomp_rule_add_array(ctx, r->action, nr, r->n_args, cmps);
	}
	for (size_t i = 0; i < r->n_args && rc == 0; i++) {
		cmps[0] = to_cmp(&r->args[i]);
		rc = seccomp_rule_add_array(ctx, r->action, nr, 1, cmps);
	}
	return rc;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r, struct sk_err *err)
{
	for (const char *const *name = r->names; *name; name++) {
		int nr = seccomp_syscall_resolve_name(*name);
		int rc;

		/* A name unknown to this libseccomp: docker and runc skip it too. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = add_syscall(ctx, r, nr);
		if (rc < 0)
			return err_set(err, -rc, "cannot add a seccomp rule for '%s'", *name);
	}
	return 0;
}

static int add_arches(scmp_filter_ctx ctx, const struct seccomp_profile *p, struct sk_err *err)
{
	static const uint32_t x86_64_compat[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
	const uint32_t *arches = p->arches;
	size_t n = p->n_arches;

	if (n == 0 && seccomp_arch_native() == SCMP_ARCH_X86_64) {
		arches = x86_64_compat;
		n = ARRAY_SIZE(x86_64_compat);
	}
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_arch_add(ctx, arches[i]);

		if (rc < 0 && rc != -EEXIST)
			return err_set(err, -rc,
				       "cannot add architecture %#x to the seccomp filter",
				       arches[i]);
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct seccomp_prog *out, struct sk_err *err)
{
	cleanup_close int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
	struct stat st;
	int rc;

	if (fd < 0)
		return err_set(err, errno, "cannot create a memfd for the seccomp filter");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return err_set(err, -rc, "cannot export the seccomp filter");
	if (fstat(fd, &st) < 0)
		return err_set(err, errno, "cannot stat the seccomp filter");
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return err_set(err, 0, "seccomp filter of %lld bytes is not loadable",
			       (long long)st.st_size);
	out->filter = malloc(st.st_size);
	if (!out->filter)
		return err_set(err, ENOMEM, "cannot hold the seccomp filter");
	if (pread(fd, out->filter, st.st_size, 0) != st.st_size) {
		seccomp_prog_release(out);
		return err_set(err, errno, "cannot read the seccomp filter back");
	}
	out->len = st.st_size / sizeof(struct sock_filter);
	return 0;
}

static void release_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

int seccomp_compile(const struct seccomp_profile *p, uint64_t caps, struct seccomp_prog *out,
		    struct sk_err *err)
{
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(p->default_action);
	unsigned kernel = running_kernel();

	*out = (struct seccomp_prog){0};
	if (!ctx)
		return err_set(err, 0, "cannot start a seccomp filter (bad default action?)");
	/* Binary search over syscall numbers: a 300-entry allow-list costs ~9
	 * comparisons per syscall instead of up to 300. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (add_arches(ctx, p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct seccomp_rule *r = &p->rules[i];

		/* libseccomp refuses rules that repeat the default; they add nothing. */
		if (!rule_applies(r, caps, kernel) || r->action == p->default_action)
			continue;
		if (add_rule(ctx, r, err) < 0)
			return -1;
	}
	return export_bpf(ctx, out, err);
}

void seccomp_prog_release(struct seccomp_prog *prog)
{
	free(prog->filter);
	*prog = (struct seccomp_prog){0};
}

int seccomp_prog_load(const struct seccomp_prog *prog, struct sk_err *err)
{
	struct sock_fprog fprog = {.len = prog->len, .filter = prog->filter};

	if (prog->len == 0)
		return 0;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
		return err_set(err, errno, "cannot load the seccomp filter");
	return 0;
}

/* ---- cache ------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Everything the BPF depends on: the profile as parsed, the capabilities,
 * the kernel (minKernel) and the libseccomp that compiles it. */
static uint64_t cache_key(const struct seccomp_profile *p, uint64_t caps)
{
	const struct scmp_version *v = seccomp_version();
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned kernel = running_kernel();

	h = fnv(h, &p->default_action, sizeof(p->default_action));
	h = fnv(h, p->arches, p->n_arches * sizeof(p->arches[0]));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct seccomp_rule *r = &p->rules[i];

		for (const char *const *n = r->names; *n; n++)
			h = fnv(h, *n, strlen(*n) + 1);
		h = fnv(h, &r->action, sizeof(r->action));
		h = fnv(h, r->args, r->n_args * sizeof(r->args[0]));
		h = fnv(h, &r->caps_include, sizeof(r->caps_include));
		h = fnv(h, &r->caps_exclude, sizeof(r->caps_exclude));
		h = fnv(h, &r->never, sizeof(r->never));
		h = fnv(h, &r->min_kernel, sizeof(r->min_kernel));
	}
	h = fnv(h, &caps, sizeof(caps));
	h = fnv(h, &kernel, sizeof(kernel));
	return fnv(h, v, sizeof(*v));
}

static int cache_load(const char *dir, const char *file, struct seccomp_prog *out)
{
	struct buf data = BUF_INIT(BPF_MAXINSNS * sizeof(struct sock_filter));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sk_err ignored;
	size_t len;

	if (dfd < 0 || fs_read_file(dfd, file, data.max, &data, &ignored) < 0 || data.len == 0 ||
	    data.len % sizeof(struct sock_filter)) {
		buf_release(&data);
		return -1;
	}
	out->len = (unsigned short)(data.len / sizeof(struct sock_filter));
	out->filter = (struct sock_filter *)buf_detach(&data, &len);
	return 0;
}

/* Best effort: a cache that cannot be written only costs time. */
static void cache_store(const char *dir, const char *file, const struct seccomp_prog *prog)
{
	struct sk_err ignored;
	cleanup_close int dfd = -1;

	if (fs_mkdir_p(AT_FDCWD, dir, 0700, &ignored) < 0)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fs_write_atomic(dfd, file, prog->filter, prog->len * sizeof(struct sock_filter),
				0600, &ignored);
}

/* Compiling docker's profile for x86_64 + x86 + x32 takes ~10 ms with
 * libseccomp; loading the cached program takes microseconds. */
static int compile_cached(const struct seccomp_profile *p, uint64_t caps, const char *cache_dir,
			  struct seccomp_prog *out, struct sk_err *err)
{
	char file[40];

	if (!cache_dir)
		return seccomp_compile(p, caps, out, err);
	snprintf(file, sizeof(file), "%016llx.bpf", (unsigned long long)cache_key(p, caps));
	if (cache_load(cache_dir, file, out) == 0)
		return 0;
	if (seccomp_compile(p, caps, out, err) < 0)
		return -1;
	cache_store(cache_dir, file, out);
	return 0;
}

int seccomp_prepare(const char *opt, uint64_t caps, const char *cache_dir, struct seccomp_prog *out,
		    struct sk_err *err)
{
	struct seccomp_profile p;
	int rc;

	*out = (struct seccomp_prog){0};
	if (opt && strcmp(opt, "unconfined") == 0)
		return 0;
	if (!opt)
		seccomp_profile_default(&p);
	else if (seccomp_profile_load_file(opt, &p, err) < 0)
		return -1;
	rc = compile_cached(&p, caps, cache_dir, out, err);
	if (rc < 0 && opt)
		err_wrap(err, "seccomp profile '%s'", opt);
	seccomp_profile_release(&p);
	return rc;
}

/* ---- docker's JSON profile ---------------------------------------------- */

#define PROFILE_MAX_RULES 4096
#define PROFILE_MAX_NAMES 4096

void seccomp_profile_release(struct seccomp_profile *p)
{
	if (p->owned) {
		for (size_t i = 0; i < p->n_rules; i++) {
			char **names = (char **)p->rules[i].names;

			for (size_t j = 0; names && names[j]; j++)
				free(names[j]);
			free(names);
		}
		free(p->rules);
	}
	*p = (struct seccomp_profile){0};
}

/* Where a parse error happened: "'FILE': syscalls[3].args[1].op: ..." */
struct where {
	const char *file;
	char path[128];
};

__attribute__((format(printf, 3, 4))) static int bad(struct sk_err *err, const struct where *w,
						     const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(err, 0, "seccomp profile '%s': %s: %s", w->file, w->path, what);
}

static void where_at(struct where *w, const char *base, const char *field, long index)
{
	if (index >= 0)
		snprintf(w->path, sizeof(w->path), "%s%s[%ld]", base, field, index);
	else
		snprintf(w->path, sizeof(w->path), "%s%s", base, field);
}

static int parse_errno(json_t *v, const struct where *w, int *out, struct sk_err *err)
{
	if (!v) {
		*out = EPERM;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffff)
		return bad(err, w, "expected an errno number");
	*out = (int)json_integer_value(v);
	return 0;
}

/* "SCMP_ACT_ERRNO" + errnoRet -> the libseccomp action. */
static int parse_action(json_t *action, json_t *errno_ret, const struct where *w, uint32_t *out,
			struct sk_err *err)
{
	const char *s = json_string_value(action);
	int e = EPERM;

	if (!s)
		return bad(err, w, "expected an action string");
	if (parse_errno(errno_ret, w, &e, err) < 0)
		return -1;
	if (strcmp(s, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(s, "SCMP_ACT_ERRNO") == 0)
		*out = SCMP_ACT_ERRNO(e);
	else if (strcmp(s, "SCMP_ACT_KILL") == 0 || strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(s, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(s, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(s, "SCMP_ACT_TRACE") == 0)
		*out = SCMP_ACT_TRACE(e);
	else if (strcmp(s, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else
		return bad(err, w, "unsupported action '%s'", s);
	return 0;
}

static int parse_op(const char *s, int *op)
{
	static const struct {
		const char *name;
		int op;
	} ops[] = {
	    {"SCMP_CMP_NE", SCMP_CMP_NE},
	    {"SCMP_CMP_LT", SCMP_CMP_LT},
	    {"SCMP_CMP_LE", SCMP_CMP_LE},
	    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
	    {"SCMP_CMP_GE", SCMP_CMP_GE},
	    {"SCMP_CMP_GT", SCMP_CMP_GT},
	    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};

	for (size_t i = 0; s && i < ARRAY_SIZE(ops); i++) {
		if (strcmp(s, ops[i].name) == 0) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -1;
}

static int parse_u64(json_t *v, uint64_t *out)
{
	if (!v) {
		*out = 0;
		return 0;
	}
	/* JSON numbers above INT64_MAX do not fit jansson's integer; docker's
	 * profiles never need them. */
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_arg(json_t *a, const struct where *w, struct seccomp_rule_arg *out,
		     struct sk_err *err)
{
	json_t *index = json_object_get(a, "index");

	if (!json_is_object(a))
		return bad(err, w, "expected an object");
	if (!json_is_integer(index) || json_integer_value(index) < 0 ||
	    json_integer_value(index) > 5)
		return bad(err, w, "'index' must be 0 to 5");
	out->index = (unsigned)json_integer_value(index);
	if (parse_u64(json_object_get(a, "value"), &out->value) < 0 ||
	    parse_u64(json_object_get(a, "valueTwo"), &out->value_two) < 0)
		return bad(err, w, "'value' and 'valueTwo' must be non-negative integers");
	if (parse_op(json_string_value(json_object_get(a, "op")), &out->op) < 0)
		return bad(err, w, "unknown 'op'");
	return 0;
}

static int parse_args(json_t *args, const char *base, struct seccomp_rule *r, struct where *w,
		      struct sk_err *err)
{
	size_t i;
	json_t *a;

	if (!args || json_is_null(args))
		return 0;
	where_at(w, base, ".args", -1);
	if (!json_is_array(args))
		return bad(err, w, "expected an array");
	if (json_array_size(args) > SECCOMP_MAX_RULE_ARGS)
		return bad(err, w, "at most %d conditions", SECCOMP_MAX_RULE_ARGS);
	json_array_foreach(args, i, a)
	{
		where_at(w, base, ".args", (long)i);
		if (parse_arg(a, w, &r->args[i], err) < 0)
			return -1;
	}
	r->n_args = json_array_size(args);
	return 0;
}

/* Names of syscalls: "names": [...] or the old single "name". */
static int parse_names(json_t *rule, const char *base, struct seccomp_rule *r, struct where *w,
		       struct sk_err *err)
{
	json_t *names = json_object_get(rule, "names"), *one = json_object_get(rule, "name");
	size_t n, i;
	char **v;

	where_at(w, base, ".names", -1);
	if (!names && json_is_string(one))
		n = 1;
	else if (json_is_array(names))
		n = json_array_size(names);
	else
		return bad(err, w, "expected an array of syscall names");
	if (n > PROFILE_MAX_NAMES)
		return bad(err, w, "more than %d names", PROFILE_MAX_NAMES);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return err_set(err, ENOMEM, "seccomp profile '%s'", w->file);
	r->names = (const char *const *)v;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(names ? json_array_get(names, i) : one);

		where_at(w, base, ".names", (long)i);
		if (!s || !*s)
			return bad(err, w, "expected a syscall name");
		v[i] = strdup(s);
		if (!v[i])
			return err_set(err, ENOMEM, "seccomp profile '%s'", w->file);
	}
	return 0;
}

/* Docker compares includes/excludes arches with Go's GOARCH names. */
static const char *native_goarch(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return "amd64";
	case SCMP_ARCH_AARCH64:
		return "arm64";
	case SCMP_ARCH_X86:
		return "386";
	default:
		return "";
	}
}

/* caps: a mask; unknown names set *unknown (they can never be granted). */
static int parse_caps(json_t *list, const struct where *w, uint64_t *mask, bool *unknown,
		      struct sk_err *err)
{
	size_t i;
	json_t *c;

	*mask = 0;
	*unknown = false;
	if (!list)
		return 0;
	if (!json_is_array(list))
		return bad(err, w, "'caps' must be an array");
	json_array_foreach(list, i, c)
	{
		int cap;

		if (!json_is_string(c))
			return bad(err, w, "'caps' must hold strings");
		if (caps_parse_name(json_string_value(c), &cap, NULL) < 0)
			*unknown = true;
		else
			*mask |= CAPS_BIT(cap);
	}
	return 0;
}

static int parse_arches_match(json_t *list, const struct where *w, bool *native, struct sk_err *err)
{
	size_t i;
	json_t *a;

	*native = false;
	if (!json_is_array(list))
		return bad(err, w, "'arches' must be an array");
	json_array_foreach(list, i, a)
	{
		const char *s = json_string_value(a);

		if (!s)
			return bad(err, w, "'arches' must hold strings");
		if (strcmp(s, native_goarch()) == 0)
			*native = true;
	}
	return 0;
}

static int parse_filter(json_t *f, const char *base, bool include, struct seccomp_rule *r,
			struct where *w, struct sk_err *err)
{
	json_t *arches;
	uint64_t mask;
	bool unknown, native;

	if (!f || json_is_null(f))
		return 0;
	where_at(w, base, include ? ".includes" : ".excludes", -1);
	if (!json_is_object(f))
		return bad(err, w, "expected an object");
	if (parse_caps(json_object_get(f, "caps"), w, &mask, &unknown, err) < 0)
		return -1;
	if (include) {
		r->caps_include = mask;
		r->never |= unknown;
	} else {
		r->caps_exclude = mask;
	}
	arches = json_object_get(f, "arches");
	if (arches && !json_is_null(arches)) {
		if (parse_arches_match(arches, w, &native, err) < 0)
			return -1;
		if (include ? !native && json_array_size(arches) : native)
			r->never = true;
	}
	if (json_is_string(json_object_get(f, "minKernel"))) {
		unsigned major = 0, minor = 0;

		if (sscanf(json_string_value(json_object_get(f, "minKernel")), "%u.%u", &major,
			   &minor) != 2)
			return bad(err, w, "'minKernel' must be like \"4.8\"");
		if (include)
			r->min_kernel = major << 16 | minor;
	}
	return 0;
}

static int parse_rule(json_t *rule, size_t index, struct seccomp_rule *r, const char *file,
		      struct sk_err *err)
{
	struct where w = {.file = file};
	char base[32];

	snprintf(base, sizeof(base), "syscalls[%zu]", index);
	where_at(&w, base, "", -1);
	if (!json_is_object(rule))
		return bad(err, &w, "expected an object");
	if (parse_names(rule, base, r, &w, err) < 0)
		return -1;
	where_at(&w, base, ".action", -1);
	if (parse_action(json_object_get(rule, "action"), json_object_get(rule, "errnoRet"), &w,
			 &r->action, err) < 0)
		return -1;
	if (parse_args(json_object_get(rule, "args"), base, r, &w, err) < 0 ||
	    parse_filter(json_object_get(rule, "includes"), base, true, r, &w, err) < 0 ||
	    parse_filter(json_object_get(rule, "excludes"), base, false, r, &w, err) < 0)
		return -1;
	return 0;
}

static int arch_by_name(const char *s, uint32_t *out)
{
	char lower[32];
	size_t i;

	if (!s || strncmp(s, "SCMP_ARCH_", 10) != 0)
		return -1;
	s += 10;
	for (i = 0; s[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	lower[i] = '\0';
	*out = seccomp_arch_resolve_name(lower);
	return *out ? 0 : -1;
}

static int push_arch(struct seccomp_profile *p, const char *name, struct where *w,
		     struct sk_err *err)
{
	uint32_t a;

	if (arch_by_name(name, &a) < 0)
		return bad(err, w, "unknown architecture '%s'", name ? name : "(not a string)");
	if (p->n_arches >= SECCOMP_MAX_ARCHES)
		return bad(err, w, "too many architectures");
	p->arches[p->n_arches++] = a;
	return 0;
}

/* "architectures": [...] (all of them), or "archMap": [{architecture,
 * subArchitectures}] (only the native entry, as docker does). */
static int parse_arches(json_t *root, struct seccomp_profile *p, const char *file,
			struct sk_err *err)
{
	struct where w = {.file = file};
	json_t *list = json_object_get(root, "architectures"),
	       *map = json_object_get(root, "archMap");
	json_t *e, *sub;
	size_t i, j;

	where_at(&w, "architectures", "", -1);
	if (list && !json_is_null(list)) {
		if (!json_is_array(list))
			return bad(err, &w, "expected an array");
		json_array_foreach(list, i, e) if (push_arch(p, json_string_value(e), &w, err) <
						   0) return -1;
		return 0;
	}
	if (!map || json_is_null(map))
		return 0;
	where_at(&w, "archMap", "", -1);
	if (!json_is_array(map))
		return bad(err, &w, "expected an array");
	json_array_foreach(map, i, e)
	{
		uint32_t a;

		where_at(&w, "archMap", "", (long)i);
		if (arch_by_name(json_string_value(json_object_get(e, "architecture")), &a) < 0)
			return bad(err, &w, "bad 'architecture'");
		if (a != seccomp_arch_native())
			continue;
		p->arches[p->n_arches++] = a;
		sub = json_object_get(e, "subArchitectures");
		if (sub && !json_is_array(sub))
			return bad(err, &w, "'subArchitectures' must be an array");
		json_array_foreach(sub, j, e) if (push_arch(p, json_string_value(e), &w, err) <
						  0) return -1;
		break;
	}
	return 0;
}

static int parse_default(json_t *root, struct seccomp_profile *p, const char *file,
			 struct sk_err *err)
{
	struct where w = {.file = file};
	json_t *action = json_object_get(root, "defaultAction");

	where_at(&w, "defaultAction", "", -1);
	if (!action)
		return bad(err, &w, "missing");
	return parse_action(action, json_object_get(root, "defaultErrnoRet"), &w,
			    &p->default_action, err);
}

static int parse_rules(json_t *root, struct seccomp_profile *p, const char *file,
		       struct sk_err *err)
{
	struct where w = {.file = file};
	json_t *list = json_object_get(root, "syscalls"), *rule;
	size_t i;

	where_at(&w, "syscalls", "", -1);
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return bad(err, &w, "expected an array");
	if (json_array_size(list) > PROFILE_MAX_RULES)
		return bad(err, &w, "more than %d rules", PROFILE_MAX_RULES);
	p->rules = calloc(json_array_size(list) + 1, sizeof(*p->rules));
	if (!p->rules)
		return err_set(err, ENOMEM, "seccomp profile '%s'", file);
	json_array_foreach(list, i, rule)
	{
		/* Counted before parsing so that release frees a half-parsed rule. */
		p->n_rules = i + 1;
		if (parse_rule(rule, i, &p->rules[i], file, err) < 0)
			return -1;
	}
	return 0;
}

static void json_decref_p(json_t **j)
{
	json_decref(*j);
}

int seccomp_profile_parse(const char *data, size_t len, const char *name, struct seccomp_profile *p,
			  struct sk_err *err)
{
	__attribute__((cleanup(json_decref_p))) json_t *root = NULL;
	json_error_t jerr;

	*p = (struct seccomp_profile){.owned = true};
	if (len > SECCOMP_PROFILE_MAX_BYTES)
		return err_set(err, 0, "seccomp profile '%s': larger than %d bytes", name,
			       SECCOMP_PROFILE_MAX_BYTES);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(err, 0, "seccomp profile '%s': line %d: %s", name, jerr.line,
			       jerr.text);
	if (!json_is_object(root))
		return err_set(err, 0, "seccomp profile '%s': expected a JSON object", name);
	if (parse_default(root, p, name, err) < 0 || parse_arches(root, p, name, err) < 0 ||
	    parse_rules(root, p, name, err) < 0) {
		seccomp_profile_release(p);
		return -1;
	}
	return 0;
}

int seccomp_profile_load_file(const char *path, struct seccomp_profile *p, struct sk_err *err)
{
	cleanup_buf struct buf data = BUF_INIT(SECCOMP_PROFILE_MAX_BYTES);

	if (fs_read_file(AT_FDCWD, path, data.max, &data, err) < 0)
		return err_wrap(err, "seccomp profile");
	return seccomp_profile_parse(data.data ? data.data : "", data.len, path, p, err);
}

/*
 * skiff-init, embedded in skiff (src/stub/blob.S) and handed to containers
 * as a sealed memfd (stub.h).
 */
#include "runtime/stub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

extern const unsigned char skiff_init_blob[], skiff_init_blob_end[];

/* Kernels >= 6.3 want MFD_EXEC said out loud (and may forbid executable
 * memfds by default: vm.memfd_noexec); older ones refuse the flag. */
static int memfd_executable(void)
{
	int fd = memfd_create(STUB_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(STUB_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

int stub_memfd(struct sk_err *err)
{
	const int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	size_t len = (size_t)(skiff_init_blob_end - skiff_init_blob);
	cleanup_close int fd = memfd_executable();

	if (fd < 0)
		return err_set(err, errno, "cannot create the memfd of " STUB_NAME);
	if (fs_write_all(fd, skiff_init_blob, len) < 0)
		return err_set(err, errno, "cannot write " STUB_NAME);
	/* Nobody may change it, not even its mode (F_SEAL_EXEC: Linux >= 6.3). */
	if (fcntl(fd, F_ADD_SEALS, seals | F_SEAL_EXEC) < 0 && fcntl(fd, F_ADD_SEALS, seals) < 0)
		return err_set(err, errno, "cannot seal " STUB_NAME);
	return steal_fd(&fd);
}

int stub_exec(int memfd, const char *mode, char *const *args, char *const *env,
	      struct sk_err *err)
{
	size_t n = 0;
	cleanup_free char **argv = NULL;
	char path[64];

	while (args[n])
		n++;
	argv = calloc(n + 3, sizeof(*argv));
	if (!argv)
		return err_set(err, ENOMEM, "cannot start " STUB_NAME);
	argv[0] = STUB_NAME;
	argv[1] = (char *)mode;
	for (size_t i = 0; i < n; i++)
		argv[i + 2] = args[i];
	syscall(SYS_execveat, memfd, "", argv, env, AT_EMPTY_PATH);
	/* A seccomp profile may allow execve only: the same file by its name
	 * in the container's /proc. */
	if (errno == ENOSYS || errno == EPERM) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		execve(path, argv, env);
	}
	err_set(err, errno, "cannot start " STUB_NAME);
	err->exit_code = EXIT_CANNOT_INVOKE;
	return -1;
}

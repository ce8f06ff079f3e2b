/*
 * The protocol between skiff and skiff-init (src/stub/skiff_init.c), the only
 * program of skiff's that runs inside a container. Shared by both sides, so
 * it holds plain types and macros only: skiff-init is built freestanding.
 *
 * skiff hands skiff-init over as a sealed memfd (runtime/stub.h) and starts it
 * with execveat(AT_EMPTY_PATH) as the last step of entering a container:
 *
 *   argv = { "skiff-init", MODE, COMMAND, ARG... }     envp = the container's
 *
 * MODE is STUB_MODE_EXEC (become COMMAND), STUB_MODE_INIT (fork COMMAND, stay
 * as its parent: reap, forward signals, exit as it does) or STUB_MODE_DETACH
 * (COMMAND as a grandchild in a session of its own, so that the container's
 * pid 1 becomes its parent; exit at once). COMMAND is looked up
 * in the PATH of envp as docker does. Descriptor STUB_SYNC_FD is skiff's sync
 * socket: a failed execve is reported there as one struct sync_msg, and it is
 * close-on-exec for COMMAND, so a successful start is end-of-file for skiff.
 */
#ifndef SKIFF_RUNTIME_STUB_PROTO_H
#define SKIFF_RUNTIME_STUB_PROTO_H

#define STUB_NAME "skiff-init"
#define STUB_MODE_EXEC "-x"
#define STUB_MODE_INIT "--"
#define STUB_MODE_DETACH "-d"
#define STUB_SYNC_FD 3

#define SKIFF_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define SYNC_MSG_TEXT_MAX 1024

/* Parent <-> child messages (SOCK_SEQPACKET: one message per send). */
enum sync_kind { SYNC_ERROR = 1, SYNC_PTY_MASTER = 2 };
struct sync_msg {
	int kind;
	int exit_code; /* SYNC_ERROR: 125, 126 or 127 */
	char msg[SYNC_MSG_TEXT_MAX];
};

#endif

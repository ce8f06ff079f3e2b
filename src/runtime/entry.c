/*
 * The parent's side of entering a container, shared by run and exec
 * (internal.h, struct entry).
 */
#include <errno.h>
#include <sys/socket.h>

#include "runtime/internal.h"
#include "runtime/stub.h"
#include "util/cleanup.h"

int entry_prepare(struct entry *e, bool pipes, struct sk_err *err)
{
	int sv[2];

	e->stub_fd = stub_memfd(err);
	if (e->stub_fd < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(err, errno, "cannot create the sync socket");
	e->sock = sv[0];
	e->child_sock = sv[1];
	if (pipes && relay_make_pipes(e->io.input, &e->io, e->child_stdio, err) < 0)
		return -1;
	return 0;
}

void entry_drop_child_side(struct entry *e)
{
	close_and_reset(&e->child_sock);
	for (int i = 0; i < 3; i++)
		close_and_reset(&e->child_stdio[i]);
}

void entry_release(struct entry *e)
{
	relay_close(&e->io);
	entry_drop_child_side(e);
	close_and_reset(&e->stub_fd);
	close_and_reset(&e->sock);
	close_and_reset(&e->pidfd);
	close_and_reset(&e->master);
}
